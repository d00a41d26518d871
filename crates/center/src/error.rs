//! A refusal or failure of the center, answered as `{ code, message, detail }`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gongwen_proto::{ApiError, Code};
use gongwen_store::StoreError;

#[derive(Debug, Clone)]
pub struct CenterError {
    pub code: Code,
    pub detail: Option<String>,
}

impl CenterError {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        CenterError {
            code,
            detail: Some(detail.into()),
        }
    }

    pub fn bare(code: Code) -> Self {
        CenterError { code, detail: None }
    }

    pub fn api(&self) -> ApiError {
        ApiError::new(self.code, self.detail.clone())
    }
}

impl std::fmt::Display for CenterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.api().fmt(f)
    }
}

impl std::error::Error for CenterError {}

impl From<StoreError> for CenterError {
    fn from(e: StoreError) -> Self {
        let code = match e {
            StoreError::Conflict { .. } | StoreError::Db { .. } => Code::Unavailable,
            _ => Code::Internal,
        };
        gongwen_net::log::error(
            "資料儲存錯誤",
            serde_json::json!({ "code": e.code(), "detail": e.to_string() }),
        );
        // The database's own words (SQL, paths) go to the log only.
        CenterError::new(code, gongwen_net::incident(code, &e.to_string()))
    }
}

impl IntoResponse for CenterError {
    fn into_response(mut self) -> Response {
        // An internal error's particulars go to the log; the caller (and the records a
        // participant may read) get an incident number.
        if self.code == Code::Internal {
            self.detail = Some(gongwen_net::incident(
                self.code,
                self.detail.as_deref().unwrap_or(""),
            ));
        }
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = (status, axum::Json(self.api())).into_response();
        r.extensions_mut().insert(self);
        r
    }
}

pub type Result<T, E = CenterError> = std::result::Result<T, E>;
