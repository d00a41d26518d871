//! The agency node's document-system API (docs/api/agent.openapi.json): what the agent answers
//! and its client reads, with each state's zh-TW label defined once.

use serde::{Deserialize, Serialize};

use crate::api::SentPackage;

/// Where a received document stands at the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReceivedState {
    /// 送達 signed, waiting for the clerk (待簽收).
    Delivered,
    /// 收文確認 signed.
    Confirmed,
    /// 退文 signed, by a clerk or automatically (cannot be opened).
    Returned,
    /// Malware found: kept apart and returned.
    Quarantined,
}

words!(ReceivedState, parse words {
    Delivered => "delivered", "待簽收";
    Confirmed => "confirmed", "已簽收";
    Returned => "returned", "已退文";
    Quarantined => "quarantined", "含惡意程式，已隔離並退文";
});

/// A document received for one of the agent's agencies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceivedItem {
    pub package_id: String,
    /// The sender's 機關代碼 and its name in the address book.
    pub sender: String,
    pub sender_name: String,
    pub doc_number: String,
    pub subject: String,
    pub urgency: String,
    /// 正本, 副本 …
    pub copy: String,
    /// The sender asked for immediate confirmation.
    pub confirm_now: bool,
    pub state: ReceivedState,
    /// [`ReceivedState::label`], for people.
    pub state_label: String,
    /// Unix milliseconds.
    pub received_at: i64,
    pub files: Vec<String>,
    #[serde(default)]
    pub handled_at: Option<i64>,
    #[serde(default)]
    pub handled_by: Option<String>,
    #[serde(default)]
    pub return_reason: Option<String>,
    #[serde(default)]
    pub return_text: Option<String>,
    /// 收文字號, once confirmed.
    #[serde(default)]
    pub receipt_number: Option<String>,
    /// Why it was returned on arrival.
    #[serde(default)]
    pub detail: Option<String>,
}

/// A page of the inbox, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InboxPage {
    pub items: Vec<ReceivedItem>,
    /// Pass as `before` for the next page.
    #[serde(default)]
    pub next_before: Option<i64>,
}

/// Where a send stands at the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SendState {
    /// Sealed and recorded; the center could not be reached yet (sent again every round).
    Sealed,
    /// The center has it.
    Submitted,
    /// The center refused it.
    Refused,
}

words!(SendState, parse words {
    Sealed => "sealed", "已封裝，等待交換中心收件";
    Submitted => "submitted", "交換中心已收件";
    Refused => "refused", "交換中心拒收";
});

/// The answer to a send, and to asking about one later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SendResult {
    /// The send's name at the agent (from the Idempotency-Key, or made up).
    pub name: String,
    pub package_id: String,
    pub state: SendState,
    pub state_label: String,
    /// The center's view, once it has the package.
    #[serde(default)]
    pub package: Option<SentPackage>,
    #[serde(default)]
    pub detail: Option<String>,
    /// The 流水號 the agent gave a draft without a 發文字號.
    #[serde(default)]
    pub serial: Option<u32>,
    /// Uploaded files the DI does not declare (not sent).
    #[serde(default)]
    pub ignored_files: Vec<String>,
}

/// A 發文字號 taken from the agency's one series for a document the document system sends
/// on paper (what goes through the exchange is numbered when it is sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NumberTaken {
    /// As printed, e.g. `北市教字第1150000002號`.
    pub doc_number: String,
    /// ROC year.
    pub year: u16,
    /// 流水號 within the year.
    pub serial: u32,
}

/// Who a token or client certificate belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WhoAmI {
    pub agency: String,
    #[serde(default)]
    pub name: Option<String>,
    pub client: String,
    pub kind: String,
    /// The agency's center.
    pub center: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_and_have_words() {
        for s in ReceivedState::ALL {
            assert_eq!(ReceivedState::parse(s.as_str()), Some(s));
            assert!(!s.label().is_ascii());
        }
        for s in SendState::ALL {
            assert_eq!(SendState::parse(s.as_str()), Some(s));
            assert!(!s.label().is_ascii());
        }
        assert_eq!(
            serde_json::to_string(&ReceivedState::Quarantined).unwrap(),
            "\"quarantined\""
        );
    }
}
