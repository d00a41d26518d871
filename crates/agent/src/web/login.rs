//! Signing in with the organisation's card (or a person's card registered to it, 附卡), on the
//! shared sign-in of `gongwen_web::signin`: the challenge, its checks, lockouts and sessions
//! are there; this module says which cards are this node's and renders the pages.

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gongwen_net::{Peer, Refusal};
use gongwen_proto::Code;
use gongwen_web::signin::{self, Claim, LoginForm, Setup, Tables};
use gongwen_web::{Csrf, NoFields, Signed, Site};
use serde::Deserialize;

use super::{Refused, SITE, Web, Who};
use crate::{Agency, Shared};

pub use gongwen_web::signin::{CHALLENGE_HEAD, Session, SignIn};

/// The web client's sign-in: the organisation's session, in the agent's tables.
pub fn sign_in() -> SignIn {
    SignIn::new(Setup {
        tables: Tables {
            sessions: "agent_sessions",
            challenges: "agent_challenges",
            logins: "agent_logins",
            owner: "agency",
        },
        cookie: "gongwen_web_session",
        code: Code::AgentAuth,
        origins_setting: "[agent.web] origins",
    })
}

/// The signed-in organisation of a request. A handler that takes one is reached only with a
/// valid session; everyone else goes to the sign-in page (told why when the session ended).
pub struct SignedIn {
    pub node: Shared,
    /// The agency's place in `node.agencies`.
    at: usize,
    pub session: Session,
}

impl FromRequestParts<Web> for SignedIn {
    type Rejection = Redirect;

    async fn from_request_parts(parts: &mut Parts, w: &Web) -> Result<Self, Redirect> {
        let now = w.node.clock.now_ms();
        let (session, had_cookie) = w.signin.session(&w.node.db, &parts.headers, now).await;
        let Some(session) = session else {
            return Err(signin::to_login(had_cookie));
        };
        let at = (w.node.agencies.iter())
            .position(|a| a.code.as_str() == session.owner)
            .ok_or_else(|| Redirect::to("/login"))?;
        Ok(SignedIn {
            node: w.node.clone(),
            at,
            session,
        })
    }
}

impl SignedIn {
    pub fn agency(&self) -> &Agency {
        &self.node.agencies[self.at]
    }

    /// Who is signed in, as the layout shows it.
    pub(crate) fn who(&self) -> Option<Who> {
        Who::of(self.agency(), &self.session)
    }

    /// A refusal as this organisation's error page.
    pub(crate) fn refuse(&self, e: impl Into<Refusal>) -> Refused {
        Refused::new(self.who(), e.into())
    }
}

impl Signed for SignedIn {
    const CSRF_CODE: Code = Code::AgentAuth;
    fn csrf(&self) -> &str {
        &self.session.csrf
    }
    fn refuse(&self, r: Refusal) -> Response {
        SignedIn::refuse(self, r).into_response()
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    expired: Option<String>,
}

pub async fn login_page(w: &Web, headers: &HeaderMap, note: Option<&str>) -> Response {
    let now = w.node.clock.now_ms();
    let challenge = match w.signin.challenge(headers, now) {
        Ok(c) => c,
        Err(e) => return Refused::from(e).into_response(),
    };
    let page = LoginPage {
        site: SITE,
        title: "以憑證登入",
        who: None,
        note: note.unwrap_or(""),
        challenge_line: challenge.line(),
        nonce: challenge.nonce,
        challenge: challenge.text,
        signer: &w.node.config.web.signer_url,
    };
    gongwen_web::render(StatusCode::OK, &page)
}

/// The sign-in page: the challenge the local signer signs, and the way to sign it by hand.
#[derive(Template)]
#[template(path = "agent/login.html")]
struct LoginPage<'a> {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    /// Why the user is here again (the session ended, the sign-in failed), or "".
    note: &'a str,
    nonce: String,
    challenge: String,
    /// The challenge on one line, for the command typed by hand.
    challenge_line: String,
    signer: &'a str,
}

pub async fn show(
    State(w): State<Web>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Response {
    let note = q.expired.map(|_| signin::EXPIRED);
    login_page(&w, &headers, note).await
}

/// Which agency a valid card signs in as: the agency's own card, or a person's card
/// registered to it (附卡).
async fn identify(w: &Web, c: &Claim) -> Result<(String, String), Refusal> {
    let subject = signin::subject_name(&c.v.signer);
    if let Some(a) = w.node.agencies.iter().find(|a| {
        gongwen_trust::path::spki_sha256(a.sign_cert())
            .ok()
            .map(|k| gongwen_trust::path::hex(&k))
            .as_deref()
            == Some(c.account.as_str())
    }) {
        return Ok((a.code.as_str().to_string(), subject));
    }
    let person = crate::clients::card(&w.node.db, &c.account).await?;
    match person.and_then(|p| w.node.agency(&p.agency).map(|a| (a, p.name))) {
        Some((a, name)) => Ok((a.code.as_str().to_string(), format!("{name}（{subject}）"))),
        None => Err(Refusal::new(
            Code::AgentAuth,
            format!(
                "憑證「{subject}」不是本網站服務的機關（團體）的簽章憑證，也沒有登記為其使用者（gongwen agent user add）"
            ),
        )),
    }
}

pub async fn submit(
    State(w): State<Web>,
    headers: HeaderMap,
    peer: Option<axum::Extension<Peer>>,
    Form(f): Form<LoginForm>,
) -> Response {
    let now = w.node.clock.now_ms();
    let ip = peer.map(|p| p.ip.to_string()).unwrap_or_default();
    let trust = w.node.trust.store();
    let attempt = w.signin.attempt(
        &w.node.db,
        &trust,
        &headers,
        &ip,
        w.secure,
        &f,
        now,
        async |c: &Claim| identify(&w, c).await,
    );
    match attempt.await {
        Ok(opened) => (
            [(header::SET_COOKIE, opened.set_cookie)],
            Redirect::to("/inbox"),
        )
            .into_response(),
        Err(failed) => match failed.again() {
            Ok((status, note)) => {
                let mut r = login_page(&w, &headers, Some(&note)).await;
                *r.status_mut() = status;
                r
            }
            Err(e) => Refused::from(e).into_response(),
        },
    }
}

pub async fn logout(
    State(w): State<Web>,
    form: Result<Csrf<SignedIn, NoFields>, Response>,
) -> Response {
    if let Ok(Csrf(me, _)) = form {
        // Gone or not, the cookie is removed below.
        let _ = w.signin.close(&w.node.db, &me.session).await;
    }
    (
        [(header::SET_COOKIE, w.signin.clear_cookie())],
        Redirect::to("/login"),
    )
        .into_response()
}
