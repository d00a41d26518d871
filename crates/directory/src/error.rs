//! A refusal or failure of the directory, answered as `{ code, message, detail }`.

use gongwen_proto::Code;

pub use gongwen_net::Refusal as DirectoryError;

pub type Result<T, E = DirectoryError> = std::result::Result<T, E>;

/// A request refused as malformed (`E_BAD_REQUEST`).
pub fn bad(detail: impl Into<String>) -> DirectoryError {
    DirectoryError::new(Code::BadRequest, detail)
}

/// Refused for the state something is in (`E_DIR_STATE`).
pub fn refused(detail: impl Into<String>) -> DirectoryError {
    DirectoryError::new(Code::DirState, detail)
}

pub fn not_found(detail: impl Into<String>) -> DirectoryError {
    DirectoryError::new(Code::NotFound, detail)
}

/// Already registered (`E_DIR_DUPLICATE`).
pub fn duplicate(detail: impl Into<String>) -> DirectoryError {
    DirectoryError::new(Code::DirDuplicate, detail)
}

pub fn internal(detail: impl Into<String>) -> DirectoryError {
    DirectoryError::new(Code::Internal, detail)
}
