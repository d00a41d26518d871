//! A refusal or failure of the directory, answered as `{ code, message, detail }`.

pub use gongwen_net::Refusal as DirectoryError;

pub type Result<T, E = DirectoryError> = std::result::Result<T, E>;
