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
    /// Not CMS, or not well-formed BER/DER.
    Malformed { detail: String },
    /// An algorithm or structure we do not accept (named in the message).
    Unsupported { what: String },
    /// The package is not encrypted to this key's certificate.
    NotRecipient,
    /// Encrypting to nobody.
    NoRecipients,
    /// The key does not open the content (wrong key, or tampered ciphertext).
    Decrypt,
    /// A signature or a digest does not match: the content was changed, or signed by another key.
    BadSignature { detail: String },
    /// The signer's certificate is not in the message.
    SignerMissing,
    /// A key or certificate file that cannot be used.
    Key { detail: String },
    /// No path from the certificate to a trusted root.
    Untrusted { detail: String },
    /// A certificate outside its validity at the time that matters.
    Expired { detail: String },
    /// A certificate revoked at the time that matters.
    Revoked { detail: String },
    /// A CRL missing or past nextUpdate, under the "refuse" setting.
    CrlStale { detail: String },
    /// A certificate whose key usage does not allow the purpose.
    WrongUsage { detail: String },
    /// The cleartext header does not match the sealed body or the signed content.
    HeaderMismatch { detail: String },
    /// The signer's key is not bound to the sender's code in the directory.
    NotBound { detail: String },
    /// The documents inside do not fit the package (sender, recipients, files).
    Content { detail: String },
    /// An output file is already there; nothing is ever overwritten.
    Exists { path: String },
}

impl TrustError {
    pub fn code(&self) -> &'static str {
        match self {
            TrustError::Io { .. } => "E_TRUST_IO",
            TrustError::CaState { .. } => "E_PKI_STATE",
            TrustError::CaExists { .. } => "E_PKI_EXISTS",
            TrustError::Request { .. } => "E_PKI_REQUEST",
            TrustError::Crypto { .. } => "E_TRUST_CRYPTO",
            TrustError::Malformed { .. } => "E_CMS_MALFORMED",
            TrustError::Unsupported { .. } => "E_CMS_UNSUPPORTED",
            TrustError::NotRecipient => "E_CMS_NOT_RECIPIENT",
            TrustError::NoRecipients => "E_CMS_NO_RECIPIENTS",
            TrustError::Decrypt => "E_CMS_DECRYPT",
            TrustError::BadSignature { .. } => "E_CMS_SIGNATURE",
            TrustError::SignerMissing => "E_CMS_SIGNER_MISSING",
            TrustError::Key { .. } => "E_TRUST_KEY",
            TrustError::Untrusted { .. } => "E_TRUST_UNTRUSTED",
            TrustError::Expired { .. } => "E_TRUST_EXPIRED",
            TrustError::Revoked { .. } => "E_TRUST_REVOKED",
            TrustError::CrlStale { .. } => "E_TRUST_CRL_STALE",
            TrustError::WrongUsage { .. } => "E_TRUST_USAGE",
            TrustError::HeaderMismatch { .. } => "E_PKG_HEADER",
            TrustError::NotBound { .. } => "E_PKG_SENDER",
            TrustError::Content { .. } => "E_PKG_CONTENT",
            TrustError::Exists { .. } => "E_OUTPUT_EXISTS",
        }
    }

    pub(crate) fn io(path: &std::path::Path, e: std::io::Error) -> Self {
        TrustError::Io {
            path: path.display().to_string(),
            detail: gongwen_doc::io_message(&e),
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
            TrustError::Malformed { detail } => write!(f, "不是有效的 CMS 資料：{detail}"),
            TrustError::Unsupported { what } => write!(f, "不支援{what}"),
            TrustError::NotRecipient => {
                f.write_str("這個封包不是加密給此憑證的（本機關不是收件者，或用錯了加密憑證）")
            }
            TrustError::NoRecipients => f.write_str("至少要有一個收件者的加密憑證"),
            TrustError::Decrypt => f.write_str("無法解密：金鑰不符，或密文遭竄改"),
            TrustError::BadSignature { detail } => write!(f, "簽章驗證失敗：{detail}"),
            TrustError::SignerMissing => f.write_str("簽章資料中沒有簽署者的憑證，無法驗證"),
            TrustError::Key { detail } => write!(f, "金鑰或憑證檔有誤：{detail}"),
            TrustError::Untrusted { detail } => write!(f, "憑證不受信任：{detail}"),
            TrustError::Expired { detail } => write!(f, "憑證不在效期內：{detail}"),
            TrustError::Revoked { detail } => write!(f, "憑證已撤銷：{detail}"),
            TrustError::CrlStale { detail } => write!(f, "無法確認憑證狀態：{detail}"),
            TrustError::WrongUsage { detail } => write!(f, "憑證用途不符：{detail}"),
            TrustError::HeaderMismatch { detail } => write!(f, "封包表頭與內容不符：{detail}"),
            TrustError::NotBound { detail } => write!(f, "發文者身分不符：{detail}"),
            TrustError::Content { detail } => write!(f, "封包內的公文有誤：{detail}"),
            TrustError::Exists { path } => {
                write!(f, "{path} 已存在，不會覆寫；請指定空的輸出目錄")
            }
        }
    }
}

impl std::error::Error for TrustError {}
