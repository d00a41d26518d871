//! 封包表頭: the cleartext header a sender signs and the centers route on.

use serde::{Deserialize, Serialize};

/// One electronic recipient as the header lists it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileRole {
    Di,
    Sw,
    Attachment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub role: FileRole,
    pub size: u64,
    pub sha256: String,
}

/// Why a document is sent again (電子公文不得增、減發送: a correction is a new send that
/// names the original).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResendKind {
    #[serde(rename = "本文修正")]
    BodyCorrected,
    #[serde(rename = "附件修正")]
    AttachmentCorrected,
    #[serde(rename = "本文附件修正")]
    BodyAndAttachmentCorrected,
    #[serde(rename = "錯發")]
    Misdirected,
    #[serde(rename = "重送")]
    Resent,
}

impl ResendKind {
    pub const ALL: [ResendKind; 5] = [
        ResendKind::BodyCorrected,
        ResendKind::AttachmentCorrected,
        ResendKind::BodyAndAttachmentCorrected,
        ResendKind::Misdirected,
        ResendKind::Resent,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ResendKind::BodyCorrected => "本文修正",
            ResendKind::AttachmentCorrected => "附件修正",
            ResendKind::BodyAndAttachmentCorrected => "本文附件修正",
            ResendKind::Misdirected => "錯發",
            ResendKind::Resent => "重送",
        }
    }

    /// Reads the label; the error names the accepted ones.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.label() == s.trim())
            .ok_or_else(|| {
                format!(
                    "重發類別「{s}」不認得，應為：{}",
                    Self::ALL.map(|k| k.label()).join("、")
                )
            })
    }
}

/// A correction: which package it corrects and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resend {
    pub kind: ResendKind,
    /// The id of the package it corrects.
    pub original: String,
}

/// 封包表頭: what a center needs to route and check limits, signed by the sender, in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
