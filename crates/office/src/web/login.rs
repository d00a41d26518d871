//! Signing in with the person's own card (MOICA or 公務人員電子識別證), on the shared sign-in of
//! `gongwen_web::signin`: the card must be trusted and registered to a person of this office.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use gongwen_net::{Peer, Refusal};
use gongwen_proto::Code;
use gongwen_web::signin::{Claim, LoginForm, Setup, SignIn, Tables, subject_name};
use gongwen_web::{Csrf, NoFields, Site};
use serde::Deserialize;

use super::{Me, SITE, Web, Who, refused};
use crate::org;

/// The office's sign-in: a person's session, in the office's tables.
pub fn sign_in() -> SignIn {
    SignIn::new(Setup {
        tables: Tables {
            sessions: "office_sessions",
            challenges: "office_challenges",
            logins: "office_logins",
            owner: "person",
        },
        cookie: "gongwen_office_session",
        code: Code::OfficeAuth,
        origins_setting: "[office.web] origins",
    })
}

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/login", get(show).post(submit))
        .route("/logout", post(logout))
}

#[derive(Deserialize)]
pub struct LoginQuery {
    expired: Option<String>,
}

/// The sign-in page: the challenge the local signer signs, and the way to sign it by hand.
#[derive(Template)]
#[template(path = "office/login.html")]
struct LoginPage<'a> {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    note: &'a str,
    nonce: String,
    challenge: String,
    challenge_line: String,
    signer: &'a str,
}

async fn page(w: &Web, headers: &HeaderMap, note: &str, status: StatusCode) -> Response {
    let challenge = match w.signin.challenge(headers, w.app.clock.now_ms()) {
        Ok(c) => c,
        Err(e) => return refused(e),
    };
    let page = LoginPage {
        site: SITE,
        title: "以本人憑證登入",
        who: None,
        note,
        challenge_line: challenge.line(),
        nonce: challenge.nonce,
        challenge: challenge.text,
        signer: &w.app.config.web.signer_url,
    };
    gongwen_web::render(status, &page)
}

async fn show(State(w): State<Web>, headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    let note = match q.expired {
        Some(_) => gongwen_web::signin::EXPIRED,
        None => "",
    };
    page(&w, &headers, note, StatusCode::OK).await
}

/// Whose card it is: the person it is registered to.
async fn identify(w: &Web, c: &Claim) -> Result<(String, String), Refusal> {
    match org::person_by_key(&w.app.db, &c.account).await? {
        Some(p) => Ok((p.id.clone(), p.display())),
        None => Err(Refusal::new(
            Code::OfficeAuth,
            format!(
                "憑證「{}」沒有登記給本機關的任何同仁，請洽系統管理人員",
                subject_name(&c.v.signer)
            ),
        )),
    }
}

async fn submit(
    State(w): State<Web>,
    headers: HeaderMap,
    peer: Option<axum::Extension<Peer>>,
    Form(f): Form<LoginForm>,
) -> Response {
    let now = w.app.clock.now_ms();
    let ip = peer.map(|p| p.ip.to_string()).unwrap_or_default();
    let trust = w.app.trust.store();
    let attempt = w.signin.attempt(
        &w.app.db,
        &trust,
        &headers,
        &ip,
        w.secure,
        &f,
        now,
        async |c: &Claim| identify(&w, c).await,
    );
    match attempt.await {
        Ok(opened) => {
            ([(header::SET_COOKIE, opened.set_cookie)], Redirect::to("/")).into_response()
        }
        Err(failed) => match failed.again() {
            Ok((status, note)) => page(&w, &headers, &note, status).await,
            Err(e) => refused(e),
        },
    }
}

async fn logout(State(w): State<Web>, form: Result<Csrf<Me, NoFields>, Response>) -> Response {
    if let Ok(Csrf(me, _)) = form {
        // Gone or not, the cookie is removed below.
        let _ = w.signin.close(&w.app.db, &me.session).await;
    }
    (
        [(header::SET_COOKIE, w.signin.clear_cookie())],
        Redirect::to("/login"),
    )
        .into_response()
}
