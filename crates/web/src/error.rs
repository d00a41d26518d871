//! The web error: a refusal rendered as the error page in the service's chrome, or a page
//! rendered again (the form with what the user typed and what is wrong with it).

use std::marker::PhantomData;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gongwen_net::Refusal;

use crate::{Service, Site, render};

/// What a page handler answers instead of its page. `?` turns any [`Refusal`] (and so every
/// domain error) into the error page; [`WebError::page`] answers another page, typically the
/// form again with the user's input and the errors.
pub struct WebError<S: Service> {
    /// Boxed: handlers return `Result<_, WebError>`, whose error should stay one pointer.
    answer: Box<Answer>,
    service: PhantomData<fn() -> S>,
}

enum Answer {
    Refused(Refusal),
    Page(Response),
}

impl<S: Service> WebError<S> {
    /// `t` rendered with `status` (a `4xx` for a form to correct) instead of the page asked for.
    pub fn page(status: StatusCode, t: &impl Template) -> Self {
        WebError {
            answer: Box::new(Answer::Page(render(status, t))),
            service: PhantomData,
        }
    }

    /// The refusal, if this is one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self.answer.as_ref() {
            Answer::Refused(r) => Some(r),
            Answer::Page(_) => None,
        }
    }
}

impl<S: Service> From<Refusal> for WebError<S> {
    fn from(r: Refusal) -> Self {
        WebError {
            answer: Box::new(Answer::Refused(r)),
            service: PhantomData,
        }
    }
}

impl<S: Service> std::fmt::Debug for WebError<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.answer.as_ref() {
            Answer::Refused(r) => write!(f, "WebError::Refused({r})"),
            Answer::Page(p) => write!(f, "WebError::Page({})", p.status()),
        }
    }
}

/// The error page: the code's zh-TW message, the detail the user may read, and the stable code
/// to quote to the help desk.
#[derive(Template)]
#[template(path = "web/error.html")]
pub struct ErrorPage<'a> {
    pub site: &'static Site,
    pub title: &'a str,
    pub message: &'a str,
    pub detail: &'a str,
    pub code: &'a str,
}

impl ErrorPage<'_> {
    /// The refusal as the error page of `site`, with the status of its code.
    pub fn answer(site: &'static Site, r: &Refusal) -> Response {
        let status =
            StatusCode::from_u16(r.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let detail = r.public_detail();
        render(
            status,
            &ErrorPage {
                site,
                title: "無法完成",
                message: r.code.message(),
                detail: &detail,
                code: r.code.as_str(),
            },
        )
    }
}

impl<S: Service> IntoResponse for WebError<S> {
    fn into_response(self) -> Response {
        match *self.answer {
            Answer::Refused(r) => ErrorPage::answer(S::SITE, &r),
            Answer::Page(p) => p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Link;
    use gongwen_proto::Code;

    struct Test;
    impl Service for Test {
        const SITE: &'static Site = &Site {
            name: "測試網站",
            nav: &[Link::new("/a", "甲")],
            styles: &[],
            scripts: &[],
        };
    }

    async fn body(r: Response) -> (StatusCode, String) {
        let status = r.status();
        let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8(b.to_vec()).unwrap())
    }

    #[test]
    fn a_refusal_is_the_error_page_in_the_sites_chrome() {
        let e: WebError<Test> = Refusal::new(Code::NotFound, "沒有 <script>").into();
        let r = e.into_response();
        let rt = tokio_rt();
        let (status, html) = rt.block_on(body(r));
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("<html lang=\"zh-Hant-TW\">"), "{html}");
        assert!(html.contains("role=\"alert\""), "{html}");
        assert!(html.contains("沒有 &lt;script&gt;"), "{html}");
        assert!(html.contains(Code::NotFound.as_str()), "{html}");
        assert!(
            html.contains("測試網站") && html.contains("href=\"/a\""),
            "{html}"
        );
    }

    fn tokio_rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }
}
