//! Forms of signed-in pages. Each service's session extractor says who is signed in (and
//! answers everyone else, typically with the way to its sign-in page); [`Csrf`] takes a form
//! of theirs only when it carries the session's CSRF token. The session comes from the
//! headers before the body is read: the listeners authenticate before they read a body.

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use gongwen_proto::Code;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{Refusal, csrf_matches, csrf_refusal};

/// A service's signed-in session, as [`Csrf`] needs it.
pub trait Signed {
    /// The code of a form refused for its CSRF token.
    const CSRF_CODE: Code;
    /// The token every form of the session carries.
    fn csrf(&self) -> &str;
    /// A refusal as this user's page (the error page in the service's chrome).
    fn refuse(&self, r: Refusal) -> Response;
}

/// A form (`T`, urlencoded, its other fields) of the signed-in `S`, whose `csrf` field is the
/// session's: `Csrf(who, form)`. Any other post is refused with the session's error page.
pub struct Csrf<S, T>(pub S, pub T);

#[derive(Deserialize)]
struct WithToken<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: T,
}

/// A form with no field but its token (signing out, a button).
#[derive(Debug, Default, Deserialize)]
pub struct NoFields {}

impl<St, S, T> FromRequest<St> for Csrf<S, T>
where
    St: Send + Sync,
    S: FromRequestParts<St> + Signed + Send,
    T: DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &St) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let who = S::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let form = Form::<WithToken<T>>::from_request(Request::from_parts(parts, body), state);
        match form.await {
            Ok(Form(f)) if csrf_matches(who.csrf(), &f.csrf) => Ok(Csrf(who, f.form)),
            Ok(_) => Err(who.refuse(csrf_refusal(S::CSRF_CODE))),
            Err(e) => Err(who.refuse(Refusal::new(Code::BadRequest, e.body_text()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use axum::http::request::Parts;

    /// A session from the `x-who` header (its value is the token).
    struct Who(String);

    impl<St: Send + Sync> FromRequestParts<St> for Who {
        type Rejection = StatusCode;
        async fn from_request_parts(p: &mut Parts, _: &St) -> Result<Self, StatusCode> {
            let v = p.headers.get("x-who").ok_or(StatusCode::SEE_OTHER)?;
            Ok(Who(v.to_str().unwrap_or("").to_string()))
        }
    }

    impl Signed for Who {
        const CSRF_CODE: Code = Code::DirForbidden;
        fn csrf(&self) -> &str {
            &self.0
        }
        fn refuse(&self, r: Refusal) -> Response {
            (
                StatusCode::from_u16(r.code.http_status()).unwrap(),
                r.detail,
            )
                .into_response()
        }
    }

    #[derive(Deserialize)]
    struct Note {
        #[serde(default)]
        text: String,
    }

    /// What `Csrf<Who, T>` makes of a post of `body` by `who`.
    async fn post<T: DeserializeOwned + Send>(
        who: Option<&str>,
        body: &'static str,
    ) -> Result<T, StatusCode> {
        let mut b = Request::builder()
            .method("POST")
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(w) = who {
            b = b.header("x-who", w);
        }
        let req = b.body(axum::body::Body::from(body)).unwrap();
        match Csrf::<Who, T>::from_request(req, &()).await {
            Ok(Csrf(_, form)) => Ok(form),
            Err(r) => Err(r.status()),
        }
    }

    async fn take(who: Option<&str>, body: &'static str) -> Result<String, StatusCode> {
        post::<Note>(who, body).await.map(|n| n.text)
    }

    #[test]
    fn a_form_is_taken_only_with_the_sessions_token() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(checks());
    }

    async fn checks() {
        assert_eq!(
            take(Some("t1"), "csrf=t1&text=%E5%A5%BD").await,
            Ok("好".into())
        );
        assert_eq!(
            take(Some("t1"), "csrf=t2&text=x").await,
            Err(StatusCode::FORBIDDEN)
        );
        assert_eq!(take(Some("t1"), "text=x").await, Err(StatusCode::FORBIDDEN));
        assert_eq!(take(None, "csrf=t1").await, Err(StatusCode::SEE_OTHER));
        let empty = post::<NoFields>(Some("t"), "csrf=t").await;
        assert!(empty.is_ok(), "a form of its token alone");
    }
}
