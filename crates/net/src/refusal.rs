//! A refusal or failure of a service, answered as `{ code, message, detail }`: what the
//! center, the directory and the agent return. The answer carries the refusal as sent
//! (internal details replaced by an incident number) for middleware that records it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gongwen_proto::{ApiError, Code};
use gongwen_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    /// The particulars; empty when the code says it all.
    pub detail: String,
}

impl Refusal {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Refusal {
            code,
            detail: detail.into(),
        }
    }

    /// The code alone, without particulars.
    pub fn bare(code: Code) -> Self {
        Refusal::new(code, "")
    }

    /// As answered: an empty detail is left out.
    pub fn api(&self) -> ApiError {
        ApiError::new(
            self.code,
            Some(self.detail.clone()).filter(|d| !d.is_empty()),
        )
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.api().fmt(f)
    }
}

impl std::error::Error for Refusal {}

/// A store failure's code: one that may pass if tried again, or an internal one.
pub fn store_code(e: &StoreError) -> Code {
    match e {
        StoreError::Conflict { .. } | StoreError::Db { .. } => Code::Unavailable,
        _ => Code::Internal,
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        let code = store_code(&e);
        // The database's own words (SQL, paths) go to the log only.
        Refusal::new(code, incident(code, &e.to_string()))
    }
}

const INCIDENT: &str = "事件編號 ";

static AT_CONSOLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// For a command the operator runs at the console (`gongwen directory address-book` …): the
/// caller is the operator, who may read every internal detail, and prints the error itself.
/// From now on [`incident`] hands the detail back instead of logging it — otherwise the one
/// error would show twice on the terminal, as a log line and as the command's message. A
/// server never calls this.
pub fn details_to_caller() {
    AT_CONSOLE.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Writes what went wrong inside the service to the log under a new incident number, and
/// returns what the caller may read: the number, to quote to the operator. Paths, SQL and
/// other internals never reach the caller — unless the caller is the operator at the console
/// ([`details_to_caller`]), who gets the detail itself and nothing is logged.
pub fn incident(code: Code, detail: &str) -> String {
    if detail.starts_with(INCIDENT) || AT_CONSOLE.load(std::sync::atomic::Ordering::Relaxed) {
        return detail.to_string();
    }
    let id = gongwen_store::random_hex(6);
    crate::log::error(
        "內部錯誤",
        serde_json::json!({ "incident": id, "code": code.as_str(), "detail": detail }),
    );
    format!("{INCIDENT}{id}（詳細內容已記入系統日誌，請將此編號告知系統管理者）")
}

impl Refusal {
    /// The detail as the caller may read it: for an internal error, only an incident number.
    pub fn public_detail(&self) -> String {
        if self.code == Code::Internal {
            incident(self.code, &self.detail)
        } else {
            self.detail.clone()
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let sent = Refusal::new(self.code, self.public_detail());
        let mut r = (status, axum::Json(sent.api())).into_response();
        r.extensions_mut().insert(sent);
        r
    }
}
