//! Errors of the command line: a stable code, a zh-TW message, and the exit code.

use std::fmt;
use std::path::Path;

use gongwen_doc::DocError;

#[derive(Debug)]
pub enum CliError {
    /// A file could not be read or written.
    Io { path: String, detail: String },
    /// The draft file is not valid TOML or has unknown fields.
    Draft { path: String, detail: String },
    /// The configuration file (`gongwen.toml`) is not valid TOML, has unknown fields, or a
    /// value outside a field's allowed values.
    Config { path: String, detail: String },
    /// A document error (not readable, or invalid).
    Doc { path: String, error: DocError },
    /// An argument that does not fit (a stamp time that is not a time …).
    Arg(String),
    /// The renderer failed (missing font …).
    Render { code: &'static str, detail: String },
    /// The trust layer refused (test CA state, a bad certificate request …).
    Trust(gongwen_trust::TrustError),
    /// The exchange center or the directory refused or could not start; `detail` is what it
    /// said, without the code (main prints the code once, in front).
    Service { code: &'static str, detail: String },
    /// The database could not be opened or read.
    Store(gongwen_store::StoreError),
}

impl From<gongwen_store::StoreError> for CliError {
    fn from(e: gongwen_store::StoreError) -> Self {
        CliError::Store(e)
    }
}

impl From<gongwen_trust::TrustError> for CliError {
    fn from(e: gongwen_trust::TrustError) -> Self {
        CliError::Trust(e)
    }
}

/// The center's, the directory's and the agent's refusals.
impl From<gongwen_net::Refusal> for CliError {
    fn from(e: gongwen_net::Refusal) -> Self {
        CliError::Service {
            code: e.code.as_str(),
            detail: e.api().text(),
        }
    }
}

impl From<gongwen_center::StartError> for CliError {
    fn from(e: gongwen_center::StartError) -> Self {
        CliError::Service {
            code: e.code,
            detail: e.to_string(),
        }
    }
}

impl CliError {
    pub fn io(path: &Path, e: std::io::Error) -> Self {
        CliError::Io {
            path: path.display().to_string(),
            detail: gongwen_doc::io_message(&e),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            CliError::Io { .. } => "E_IO",
            CliError::Draft { .. } => "E_DRAFT",
            CliError::Config { .. } => "E_CONFIG",
            CliError::Doc { error, .. } => error.code(),
            CliError::Arg(_) => "E_ARG",
            CliError::Render { code, .. } => code,
            CliError::Trust(e) => e.code(),
            CliError::Service { code, .. } => code,
            CliError::Store(e) => e.code(),
        }
    }

    /// 2 when something could not be read at all, 1 when it was read and found wrong.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Doc { error, .. } if !error.is_fatal() => 1,
            CliError::Draft { .. } | CliError::Config { .. } | CliError::Arg(_) => 1,
            // Input that was read and refused (a bad import, a duplicate code).
            CliError::Service { code, .. }
                if code.starts_with("E_DIR_")
                    || *code == "E_BAD_REQUEST"
                    || *code == "E_NOT_FOUND" =>
            {
                1
            }
            // Unreadable input is 2; a request or package that was read and refused is 1.
            CliError::Trust(e) => match e {
                gongwen_trust::TrustError::Io { .. }
                | gongwen_trust::TrustError::CaState { .. }
                | gongwen_trust::TrustError::CaExists { .. }
                | gongwen_trust::TrustError::Key { .. }
                | gongwen_trust::TrustError::Crypto { .. }
                | gongwen_trust::TrustError::Malformed { .. } => 2,
                _ => 1,
            },
            _ => 2,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Io { path, detail } => write!(f, "{path}：{detail}"),
            CliError::Draft { path, detail } => write!(f, "草稿 {path} 有誤：{detail}"),
            CliError::Config { path, detail } => write!(f, "設定檔 {path} 有誤：{detail}"),
            CliError::Doc { path, error } => {
                write!(f, "{path}：{error}")?;
                if let DocError::Invalid(problems) = error {
                    for p in problems {
                        write!(f, "\n  {} {}：{}", p.code(), p.path, p.message)?;
                    }
                }
                Ok(())
            }
            CliError::Arg(detail) => f.write_str(detail),
            CliError::Render { detail, .. } => write!(f, "列印失敗：{detail}"),
            CliError::Trust(e) => e.fmt(f),
            CliError::Service { detail, .. } => f.write_str(detail),
            CliError::Store(e) => e.fmt(f),
        }
    }
}
