//! Wire types shared by the servers and their clients: the package header the centers route
//! on, the life of a copy, the HTTP API's requests and answers, and its error codes.
//!
//! Nothing here does I/O; every parse returns a typed error.

pub mod agent;
pub mod api;
pub mod csv;
pub mod directory;
pub mod error;
pub mod header;
pub mod office;
pub mod openapi;
pub mod status;

pub use error::{ApiError, Code};
pub use header::{
    FileEntry, FileRole, HeaderOptions, HeaderRecipient, PackageHeader, Resend, ResendKind,
};
pub use status::{CopyStatus, FailReason, ReturnReason};
