//! Requests and answers of the center's HTTP API (`/api/v1/...`). Times are Unix
//! milliseconds on the center's clock; people see them as ROC dates in Asia/Taipei.

use serde::{Deserialize, Serialize};

use crate::header::Resend;
use crate::status::{CopyStatus, FailReason, ReturnReason};

/// The header that carries the client's idempotency key on a submission.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

/// One copy as its sender or the records see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CopyView {
    pub recipient: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// 正本, 副本 …
    pub copy: String,
    pub status: CopyStatus,
    /// When the copy reached its status.
    pub status_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<FailReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_reason: Option<ReturnReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_text: Option<String>,
    /// 收文字號 the recipient gave on confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_number: Option<String>,
}

/// Counts of copies per status: the sender's aggregate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Aggregate {
    pub total: u32,
    pub pending: u32,
    pub delivered: u32,
    pub confirmed: u32,
    pub returned: u32,
    pub failed: u32,
}

impl Aggregate {
    pub fn of<'a>(copies: impl IntoIterator<Item = &'a CopyView>) -> Aggregate {
        let mut a = Aggregate::default();
        for c in copies {
            a.total += 1;
            match c.status {
                CopyStatus::Accepted | CopyStatus::Relayed | CopyStatus::Available => {
                    a.pending += 1
                }
                CopyStatus::Delivered => a.delivered += 1,
                CopyStatus::Confirmed => a.confirmed += 1,
                CopyStatus::Returned => a.returned += 1,
                CopyStatus::Failed => a.failed += 1,
            }
        }
        a
    }
}

/// How a group was expanded when a package named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupExpansion {
    pub group: String,
    /// `共用` for the center's shared groups, else the owner's 機關代碼.
    pub owner: String,
    pub members: Vec<String>,
}

/// A package as its sender sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SentPackage {
    pub id: String,
    pub doc_number: String,
    pub subject: String,
    pub urgency: String,
    pub submitted_at: i64,
    pub body_size: u64,
    pub confirm_now: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend: Option<Resend>,
    pub copies: Vec<CopyView>,
    pub aggregate: Aggregate,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupExpansion>,
    /// Set on the answer to a submission that repeated an earlier idempotency key.
    #[serde(default)]
    pub replayed: bool,
}

/// Paged list of sent packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SentPage {
    pub items: Vec<SentPackage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A copy waiting for (or held by) its recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InboxItem {
    pub id: String,
    pub sender: String,
    pub doc_number: String,
    pub subject: String,
    pub urgency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub copy: String,
    pub status: CopyStatus,
    /// When it became available here.
    pub available_at: i64,
    pub body_size: u64,
    pub body_sha256: String,
    /// The sender asked for immediate confirmation (涉及重大權益).
    pub confirm_now: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend: Option<Resend>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    /// Pass as `after` for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// One record: an event in the life of a copy, or an error answered to someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Record {
    pub id: i64,
    pub at: i64,
    /// Who caused it (機關代碼, a center, or `center` for the center itself).
    pub actor: String,
    /// `accepted`, `available`, …, or `error`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Record {
    /// What a person calls this record's kind ([`record_kind_label`]).
    pub fn kind_label(&self) -> String {
        record_kind_label(&self.kind)
    }
}

/// The zh-TW name of a record kind, defined once for every page and list: a copy's status
/// (待收文, 已送達 …), a participant's new state, 資安事件, 錯誤回應, 封包內容清除. A kind this
/// version does not know (from a newer center) is shown as it is rather than hidden.
pub fn record_kind_label(kind: &str) -> String {
    if let Some(s) = crate::CopyStatus::parse(kind) {
        return s.label().to_string();
    }
    if let Some(state) = kind
        .strip_prefix("participant_")
        .and_then(crate::directory::ParticipantState::parse)
    {
        return format!("參與者狀態改為{}", state.label());
    }
    match kind {
        "security_event" => "資安事件".into(),
        "error" => "錯誤回應".into(),
        "body_purged" => "封包內容依保存期限清除".into(),
        "paper_printed" => "紙本列印".into(),
        other => other.into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordPage {
    pub items: Vec<Record>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A participant's certificates as the center publishes them, so a sender can encrypt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParticipantCerts {
    pub code: String,
    pub name: String,
    /// PEM, one or more encryption certificates.
    pub encryption: String,
    /// SHA-256 (hex) of the public keys registered to sign for this participant: what a
    /// recipient checks a package's signer against.
    #[serde(default)]
    pub signing_keys: Vec<String>,
}

/// A distribution group (行文群組) as a participant sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Group {
    pub name: String,
    /// `共用` for the center's shared groups, else the owner's 機關代碼.
    pub owner: String,
    pub members: Vec<String>,
}

/// A participant as a sender looks one up (`GET /api/v1/participants?q=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Listing {
    pub code: String,
    pub name: String,
    /// The center it lives at, when it is not this one.
    pub center: Option<String>,
}

/// Replaces one of the caller's own groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupUpdate {
    pub members: Vec<String>,
}

/// `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// One line of a duty list (Taipei rules 十二–十三): a copy someone must still act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DutyItem {
    pub id: String,
    pub doc_number: String,
    pub subject: String,
    /// The recipient (on the sender's list) or the sender (on the recipient's).
    pub counterpart: String,
    pub status: CopyStatus,
    /// When it was sent (sender) or became available (recipient).
    pub since: i64,
    /// 14:00 of the next working day (sender), 10:00 of the next working day (recipient).
    pub due_at: i64,
    pub overdue: bool,
    /// The sender asked for immediate confirmation.
    pub confirm_now: bool,
}

/// A participant's duty lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Duties {
    pub as_of: i64,
    /// Copies I sent that are not confirmed: pending, returned or failed (follow up on paper).
    pub sending: Vec<DutyItem>,
    /// Copies sent to me that I have not confirmed or returned.
    pub receiving: Vec<DutyItem>,
}

/// Header naming the recipients a relayed package is for (comma-separated 機關代碼).
pub const RELAY_RECIPIENTS: &str = "x-gongwen-recipients";

/// What a receiving center answers to a relayed package: the copies it now holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RelayAnswer {
    pub package_id: String,
    pub copies: Vec<CopyView>,
}

/// A copy's new status, sent by the recipient's center back to the center of origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusUpdate {
    pub package_id: String,
    pub copy: CopyView,
    /// The recipient's signed receipt (DER, hex), when the move came with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_hex: Option<String>,
}

/// The body of a webhook: one copy reached a status. Signed with the participant's secret:
/// header `x-gongwen-signature: t=<unix seconds>,sha256=<hex HMAC-SHA256 of "t.body">`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notification {
    /// The center that sends it.
    pub center: String,
    pub package_id: String,
    pub doc_number: String,
    pub sender: String,
    pub recipient: String,
    pub status: CopyStatus,
    pub at: i64,
}

/// The header that carries a webhook's signature.
pub const WEBHOOK_SIGNATURE: &str = "x-gongwen-signature";

/// A sent document printed on paper for a recipient not on the exchange, as the sender's agent
/// reports it: what lets the center show the share sent electronically versus on paper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaperPrint {
    /// The package the printed document was sent in.
    pub package_id: String,
}

/// A security event a participant reports to its center (資安規範 §5(一)3): malware found in
/// a document it received, for example. The center records it with the caller and the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityEvent {
    /// `malware` (the one kind so far).
    pub kind: String,
    /// The package it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_id: Option<String>,
    /// What was found, in words (file, signature name).
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::record_kind_label;
    use crate::CopyStatus;
    use crate::directory::ParticipantState;

    /// Every kind a center writes has its words; none is shown as the stored code.
    #[test]
    fn every_record_kind_has_a_label_in_words() {
        let mut kinds: Vec<String> = CopyStatus::ALL
            .iter()
            .map(|s| s.as_str().to_string())
            .collect();
        kinds.extend(
            ParticipantState::ALL
                .iter()
                .map(|s| format!("participant_{}", s.as_str())),
        );
        kinds.extend(["security_event", "error", "body_purged", "paper_printed"].map(String::from));
        for k in kinds {
            let label = record_kind_label(&k);
            assert!(!label.is_ascii(), "{k} → {label}");
        }
        assert_eq!(record_kind_label("available"), "待收文");
        assert_eq!(
            record_kind_label("participant_suspended"),
            "參與者狀態改為暫停"
        );
        assert_eq!(
            record_kind_label("newer_kind"),
            "newer_kind",
            "unknown kinds are not hidden"
        );
    }
}
