//! A refusal or failure of a service, answered as `{ code, message, detail }`: what the
//! directory and the agent return (the center keeps its own, which also feeds its records).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gongwen_proto::{ApiError, Code};
use gongwen_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    pub detail: String,
}

impl Refusal {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Refusal {
            code,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        ApiError::new(self.code, Some(self.detail.clone())).fmt(f)
    }
}

impl std::error::Error for Refusal {}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        let code = match e {
            StoreError::Conflict { .. } | StoreError::Db { .. } => Code::Unavailable,
            _ => Code::Internal,
        };
        Refusal::new(code, e.to_string())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            axum::Json(ApiError::new(self.code, Some(self.detail))),
        )
            .into_response()
    }
}
