//! The agent's webhook: the agent tells the office that something happened (a document
//! received, a copy's status moved), signed with the secret both hold (`t=…,sha256=…` over
//! `t.body`). The office does not trust what the body says: a valid call only wakes the sync
//! round, which asks the agent itself. Without a configured secret the route answers 404.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use gongwen_net::Refusal;
use gongwen_proto::Code;

use super::Web;

/// A signature older or newer than this is refused (a replay).
const WINDOW_S: i64 = 300;

pub fn routes() -> Router<Web> {
    Router::new().route("/agent/webhook", post(hook))
}

async fn hook(State(w): State<Web>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &w.app.webhook_secret else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let signature = (headers.get(gongwen_proto::api::WEBHOOK_SIGNATURE))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let now = w.app.clock.now_s();
    if !gongwen_net::webhook_signed(secret, signature, &body, now, WINDOW_S) {
        let why = "代理程式通知的簽章不符或已逾時";
        return Refusal::new(Code::OfficeAuth, why).into_response();
    }
    w.app.wake.notify_one();
    StatusCode::NO_CONTENT.into_response()
}
