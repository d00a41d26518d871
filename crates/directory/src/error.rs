//! A refusal or failure of the directory, answered as `{ code, message, detail }`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gongwen_proto::{ApiError, Code};
use gongwen_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryError {
    pub code: Code,
    pub detail: String,
}

impl DirectoryError {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        DirectoryError {
            code,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        ApiError::new(self.code, Some(self.detail.clone())).fmt(f)
    }
}

impl std::error::Error for DirectoryError {}

impl From<StoreError> for DirectoryError {
    fn from(e: StoreError) -> Self {
        let code = match e {
            StoreError::Conflict { .. } | StoreError::Db { .. } => Code::Unavailable,
            _ => Code::Internal,
        };
        DirectoryError::new(code, e.to_string())
    }
}

impl IntoResponse for DirectoryError {
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

pub type Result<T, E = DirectoryError> = std::result::Result<T, E>;
