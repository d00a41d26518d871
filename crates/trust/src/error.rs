//! Errors of the trust layer, with stable codes (listed in `docs/errors.md`) and zh-TW messages.

use std::fmt;

/// The error enum, each variant with its code and its message (whose `{…}` name its fields).
macro_rules! errors {
    ($($(#[$doc:meta])* $v:ident $({ $($f:ident: $t:ty),* })? = $code:literal, $msg:literal;)*) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum TrustError {
            $($(#[$doc])* $v $({ $($f: $t),* })?,)*
        }

        impl TrustError {
            pub fn code(&self) -> &'static str {
                match self { $(TrustError::$v { .. } => $code,)* }
            }
        }

        impl fmt::Display for TrustError {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self { $(TrustError::$v $({ $($f),* })? => write!(f, $msg),)* }
            }
        }
    };
}

errors! {
    /// A file of the CA directory could not be read or written.
    Io { path: String, detail: String } = "E_TRUST_IO", "{path}：{detail}";
    /// The directory is not a test CA made by `gongwen pki init` (or is damaged).
    CaState { path: String, detail: String } = "E_PKI_STATE",
        "{path} 不是可用的測試憑證中心目錄：{detail}";
    /// `pki init` on a directory that already holds a CA.
    CaExists { path: String } = "E_PKI_EXISTS",
        "{path} 已有測試憑證中心，不會覆寫（要重建請先移走該目錄）";
    /// A request that does not fit (unknown serial, bad name, bad validity …).
    Request { detail: String } = "E_PKI_REQUEST", "{detail}";
    /// Key generation or certificate signing failed.
    Crypto { detail: String } = "E_TRUST_CRYPTO", "金鑰或憑證運算失敗：{detail}";
    /// Not CMS, or not well-formed BER/DER.
    Malformed { detail: String } = "E_CMS_MALFORMED", "不是有效的 CMS 資料：{detail}";
    /// An algorithm or structure we do not accept (named in the message).
    Unsupported { what: String } = "E_CMS_UNSUPPORTED", "不支援{what}";
    /// The package is not encrypted to this key's certificate.
    NotRecipient = "E_CMS_NOT_RECIPIENT",
        "這個封包不是加密給此憑證的（本機關不是收件者，或用錯了加密憑證）";
    /// Encrypting to nobody.
    NoRecipients = "E_CMS_NO_RECIPIENTS", "至少要有一個收件者的加密憑證";
    /// The key does not open the content (wrong key, or tampered ciphertext).
    Decrypt = "E_CMS_DECRYPT", "無法解密：金鑰不符，或密文遭竄改";
    /// A signature or a digest does not match: the content was changed, or signed by another key.
    BadSignature { detail: String } = "E_CMS_SIGNATURE", "簽章驗證失敗：{detail}";
    /// The signer's certificate is not in the message.
    SignerMissing = "E_CMS_SIGNER_MISSING", "簽章資料中沒有簽署者的憑證，無法驗證";
    /// A key or certificate file that cannot be used.
    Key { detail: String } = "E_TRUST_KEY", "金鑰或憑證檔有誤：{detail}";
    /// No path from the certificate to a trusted root.
    Untrusted { detail: String } = "E_TRUST_UNTRUSTED", "憑證不受信任：{detail}";
    /// A certificate outside its validity at the time that matters.
    Expired { detail: String } = "E_TRUST_EXPIRED", "憑證不在效期內：{detail}";
    /// A certificate revoked at the time that matters.
    Revoked { detail: String } = "E_TRUST_REVOKED", "憑證已撤銷：{detail}";
    /// A CRL missing or past nextUpdate, under the "refuse" setting.
    CrlStale { detail: String } = "E_TRUST_CRL_STALE", "無法確認憑證狀態：{detail}";
    /// A certificate whose key usage does not allow the purpose.
    WrongUsage { detail: String } = "E_TRUST_USAGE", "憑證用途不符：{detail}";
    /// The cleartext header does not match the sealed body or the signed content.
    HeaderMismatch { detail: String } = "E_PKG_HEADER", "封包表頭與內容不符：{detail}";
    /// The signer's key is not bound to the sender's code in the directory.
    NotBound { detail: String } = "E_PKG_SENDER", "發文者身分不符：{detail}";
    /// The documents inside do not fit the package (sender, recipients, files).
    Content { detail: String } = "E_PKG_CONTENT", "封包內的公文有誤：{detail}";
    /// An output file is already there; nothing is ever overwritten.
    Exists { path: String } = "E_OUTPUT_EXISTS", "{path} 已存在，不會覆寫；請指定空的輸出目錄";
}

impl TrustError {
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

impl std::error::Error for TrustError {}
