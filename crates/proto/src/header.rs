//! 封包表頭: the cleartext header a sender signs and the centers route on.

use serde::{Deserialize, Serialize};

/// One electronic recipient as the header lists it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeaderRecipient {
    /// 機關代碼.
    pub code: String,
    /// 單位代碼, when the copy is for a unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// 正本, 副本 … (收發處理本別).
    pub copy: String,
}

/// What role a file plays in the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileRole {
    Di,
    Sw,
    Attachment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileEntry {
    pub name: String,
    pub role: FileRole,
    pub size: u64,
    pub sha256: String,
}

labelled! {
    /// Why a document is sent again (電子公文不得增、減發送: a correction is a new send that
    /// names the original).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
    pub enum ResendKind ("重發類別") {
        BodyCorrected => "本文修正",
        AttachmentCorrected => "附件修正",
        BodyAndAttachmentCorrected => "本文附件修正",
        Misdirected => "錯發",
        Resent => "重送",
    }
}

/// A correction: which package it corrects and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resend {
    pub kind: ResendKind,
    /// The id of the package it corrects.
    pub original: String,
}

/// 封包表頭: what a center needs to route and check limits, signed by the sender, in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PackageHeader {
    pub version: u32,
    /// 32 hex digits: the sealing time (Unix seconds, 10 digits), then 22 random.
    pub id: String,
    /// The sender's 機關代碼.
    pub sender: String,
    /// Unix seconds.
    pub created: i64,
    pub recipients: Vec<HeaderRecipient>,
    /// 發文字號 as printed.
    pub doc_number: String,
    /// 主旨.
    pub subject: String,
    /// 速別.
    pub urgency: String,
    /// 密等 as the document states it; classified documents are not exchanged electronically,
    /// so a center refuses any header that carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrecy: Option<String>,
    /// 涉及重大權益：the sender asks for immediate confirmation.
    #[serde(default, skip_serializing_if = "is_false")]
    pub confirm_now: bool,
    /// Set on a correction of an earlier package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend: Option<Resend>,
    /// 行文群組 the sender addressed; the center records their expansion at submission.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    pub files: Vec<FileEntry>,
    /// SHA-256 of the sealed body (the encrypted content), hex. Absent in the signed copy
    /// inside the body, which cannot contain its own digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_sha256: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// What the sender adds to the header beyond what the documents say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderOptions {
    pub confirm_now: bool,
    pub resend: Option<Resend>,
    pub groups: Vec<String>,
}

impl PackageHeader {
    pub fn apply(&mut self, o: &HeaderOptions) {
        self.confirm_now = o.confirm_now;
        self.resend = o.resend.clone();
        self.groups = o.groups.clone();
    }
}

/// Bounds on what a header may carry. A header travels between strangers: the center stores
/// it, lists it, and quotes parts of it in signed receipts that must stay small (a receipt is
/// at most 64 KiB), and package ids become file and URL names. Values are generous for real
/// documents (a 發文字號 is some 20 characters, a 主旨 rarely 300).
pub mod limits {
    /// Package ids: exactly this many lowercase hex digits (the sealing second, then random).
    pub const ID_HEX: usize = 32;
    /// 機關代碼 and 單位代碼, in characters.
    pub const CODE_CHARS: usize = 20;
    /// 收發處理本別 (正本, 副本 …), 速別 and 密等, in characters.
    pub const LABEL_CHARS: usize = 20;
    /// 發文字號, in characters.
    pub const DOC_NUMBER_CHARS: usize = 100;
    /// 主旨, in characters.
    pub const SUBJECT_CHARS: usize = 2_000;
    /// Electronic recipients in one package.
    pub const RECIPIENTS: usize = 10_000;
    /// 行文群組 named, and the characters of each name.
    pub const GROUPS: usize = 100;
    pub const GROUP_CHARS: usize = 100;
    /// Files in one package, and the bytes of each name (as `safe_file_name` allows).
    pub const FILES: usize = 1_000;
    pub const FILE_NAME_BYTES: usize = 200;
}

/// Is `s` a package id as sealing makes them: 32 lowercase hex digits?
pub fn is_package_id(s: &str) -> bool {
    s.len() == limits::ID_HEX && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A field's text: within `max` characters and without control characters.
fn bounded(field: &str, s: &str, max: usize) -> Result<(), String> {
    let n = s.chars().count();
    if n > max {
        return Err(format!("表頭「{field}」有 {n} 字，上限 {max} 字"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("表頭「{field}」含控制字元"));
    }
    Ok(())
}

fn code(field: &str, s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > limits::CODE_CHARS || !s.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(format!(
            "表頭「{field}」的代碼「{}」應為 1 到 {} 個英文字母或數字",
            s.chars().take(limits::CODE_CHARS + 1).collect::<String>(),
            limits::CODE_CHARS
        ));
    }
    Ok(())
}

impl PackageHeader {
    /// Checks every field against [`limits`] and its form; the error names the field in
    /// zh-TW. Sealing and every center call it, so no package with an unusable id or an
    /// oversized field is made or accepted.
    pub fn check(&self) -> Result<(), String> {
        if !is_package_id(&self.id) {
            return Err(format!(
                "表頭的封包識別碼「{}」應為 {} 個小寫十六進位數字",
                self.id.chars().take(40).collect::<String>(),
                limits::ID_HEX
            ));
        }
        code("發文機關", &self.sender)?;
        let at_most = |n: usize, what: &str, max: usize| {
            if n > max {
                Err(format!("表頭列了 {n} 個{what}，上限 {max} 個"))
            } else {
                Ok(())
            }
        };
        at_most(self.recipients.len(), "收文者", limits::RECIPIENTS)?;
        for r in &self.recipients {
            code("收文者", &r.code)?;
            if let Some(u) = &r.unit {
                bounded("單位代碼", u, limits::CODE_CHARS)?;
            }
            bounded("本別", &r.copy, limits::LABEL_CHARS)?;
        }
        bounded("發文字號", &self.doc_number, limits::DOC_NUMBER_CHARS)?;
        bounded("主旨", &self.subject, limits::SUBJECT_CHARS)?;
        bounded("速別", &self.urgency, limits::LABEL_CHARS)?;
        if let Some(s) = &self.secrecy {
            bounded("密等", s, limits::LABEL_CHARS)?;
        }
        if let Some(r) = &self.resend
            && !is_package_id(&r.original)
        {
            return Err("表頭的更正原封包識別碼格式不對".into());
        }
        at_most(self.groups.len(), "行文群組", limits::GROUPS)?;
        for g in &self.groups {
            bounded("行文群組", g, limits::GROUP_CHARS)?;
        }
        if self.files.is_empty() || self.files.len() > limits::FILES {
            return Err(format!(
                "表頭列了 {} 個檔案，應為 1 到 {} 個",
                self.files.len(),
                limits::FILES
            ));
        }
        for f in &self.files {
            if f.name.is_empty() || f.name.len() > limits::FILE_NAME_BYTES {
                return Err(format!(
                    "表頭的檔名長度應為 1 到 {} 位元組",
                    limits::FILE_NAME_BYTES
                ));
            }
            if !is_sha256_hex(&f.sha256) {
                return Err(format!("表頭檔案「{}」的摘要不是 SHA-256", f.name));
            }
        }
        if let Some(b) = &self.body_sha256
            && !is_sha256_hex(b)
        {
            return Err("表頭的加密內容摘要不是 SHA-256".into());
        }
        Ok(())
    }
}
