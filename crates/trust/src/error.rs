//! Errors of the trust layer, with stable codes (listed in `docs/errors.md`) and zh-TW messages.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustError {
    /// A file of the CA directory could not be read or written.
    Io { path: String, detail: String },
    /// The directory is not a test CA made by `gongwen pki init` (or is damaged).
    CaState { path: String, detail: String },
    /// `pki init` on a directory that already holds a CA.
    CaExists { path: String },
    /// A request that does not fit (unknown serial, bad name, bad validity …).
    Request { detail: String },
    /// Key generation or certificate signing failed.
    Crypto { detail: String },
}

impl TrustError {
    pub fn code(&self) -> &'static str {
        match self {
            TrustError::Io { .. } => "E_TRUST_IO",
            TrustError::CaState { .. } => "E_PKI_STATE",
            TrustError::CaExists { .. } => "E_PKI_EXISTS",
            TrustError::Request { .. } => "E_PKI_REQUEST",
            TrustError::Crypto { .. } => "E_TRUST_CRYPTO",
        }
    }

    pub(crate) fn io(path: &std::path::Path, e: std::io::Error) -> Self {
        let detail = match e.kind() {
            std::io::ErrorKind::NotFound => "找不到檔案".to_string(),
            std::io::ErrorKind::PermissionDenied => "沒有權限".to_string(),
            _ => e.to_string(),
        };
        TrustError::Io {
            path: path.display().to_string(),
            detail,
        }
    }

    pub(crate) fn crypto(e: impl fmt::Display) -> Self {
        TrustError::Crypto {
            detail: e.to_string(),
        }
    }
}

impl fmt::Display for TrustError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustError::Io { path, detail } => write!(f, "{path}：{detail}"),
            TrustError::CaState { path, detail } => {
                write!(f, "{path} 不是可用的測試憑證中心目錄：{detail}")
            }
            TrustError::CaExists { path } => write!(
                f,
                "{path} 已有測試憑證中心，不會覆寫（要重建請先移走該目錄）"
            ),
            TrustError::Request { detail } => f.write_str(detail),
            TrustError::Crypto { detail } => write!(f, "金鑰或憑證運算失敗：{detail}"),
        }
    }
}

impl std::error::Error for TrustError {}
