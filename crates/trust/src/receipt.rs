//! Signed receipts: 送達 (delivered), 收文確認 (confirmed) and 退文 (returned, with a coded
//! reason). A receipt is CMS SignedData over a small JSON record naming the package and its
//! sealed-body digest, signed by the recipient's signing key, so the sender can keep it as
//! proof and anyone can verify it later (`openssl cms -verify` included).

use serde::{Deserialize, Serialize};

use crate::TrustError;
use crate::cms::{self, Signer, unsupported};
use crate::package::PackageHeader;
use crate::path::{Evaluation, Purpose, TrustStore, check_binding};

/// What happened to the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ReceiptEvent {
    /// The package reached the recipient's system: the legal time of receipt.
    #[serde(rename = "送達")]
    Delivered,
    /// The recipient accepted the document (簽收).
    #[serde(rename = "收文確認")]
    Confirmed,
    /// The recipient sent it back with a reason.
    #[serde(rename = "退文")]
    Returned,
}

impl ReceiptEvent {
    pub fn label(self) -> &'static str {
        match self {
            ReceiptEvent::Delivered => "送達",
            ReceiptEvent::Confirmed => "收文確認",
            ReceiptEvent::Returned => "退文",
        }
    }

    pub fn parse(s: &str) -> Result<Self, TrustError> {
        match s.trim() {
            "送達" | "delivered" => Ok(ReceiptEvent::Delivered),
            "收文確認" | "簽收" | "confirmed" => Ok(ReceiptEvent::Confirmed),
            "退文" | "returned" => Ok(ReceiptEvent::Returned),
            other => Err(TrustError::Request {
                detail: format!("事件「{other}」不認得，應為 送達、收文確認 或 退文"),
            }),
        }
    }
}

pub use gongwen_proto::ReturnReason;

/// Reads a 退文 reason by its label.
pub fn parse_reason(s: &str) -> Result<ReturnReason, TrustError> {
    ReturnReason::parse(s).map_err(|detail| TrustError::Request { detail })
}

/// The signed record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    pub version: u32,
    pub event: ReceiptEvent,
    /// The package's id and sealed-body digest, from its header.
    pub package_id: String,
    pub package_sha256: String,
    pub doc_number: String,
    /// The sender's 機關代碼 (to whom the receipt goes back).
    pub sender: String,
    /// The 機關代碼 of whoever signs this receipt.
    pub recipient: String,
    /// Unix seconds.
    pub time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReturnReason>,
    /// The reason in words (required for 退文).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// 收文字號 given on confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_number: Option<String>,
}

/// The most characters a receipt's text (the reason in words) may have. A receipt is
/// quoted in the center's records and must stay well under its 64 KiB bound.
pub const TEXT_CHARS: usize = 500;

/// A text the system writes itself (an automatic return's reason) cut to fit a receipt:
/// at most [`TEXT_CHARS`] characters, the cut marked with 「…」.
pub fn fit_text(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= TEXT_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(TEXT_CHARS - 1).collect();
    out.push('…');
    out
}

/// What a receipt says about a package, before it is signed.
pub struct ReceiptRequest<'a> {
    pub header: &'a PackageHeader,
    pub event: ReceiptEvent,
    pub recipient: &'a str,
    pub reason: Option<ReturnReason>,
    pub text: Option<String>,
    pub receipt_number: Option<String>,
    pub now: i64,
}

fn request(detail: impl Into<String>) -> TrustError {
    TrustError::Request {
        detail: detail.into(),
    }
}

/// Builds and signs a receipt. 退文 needs a reason and words for it; the other events have none.
pub fn issue(req: &ReceiptRequest, signer: &Signer) -> Result<(Vec<u8>, Receipt), TrustError> {
    let text = req
        .text
        .as_ref()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    match (req.event, req.reason, &text) {
        (ReceiptEvent::Returned, None, _) | (ReceiptEvent::Returned, _, None) => {
            return Err(request("退文必須註明原因代碼與說明文字"));
        }
        (ReceiptEvent::Delivered | ReceiptEvent::Confirmed, Some(_), _) => {
            return Err(request("只有退文才有退文原因"));
        }
        _ => {}
    }
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > TEXT_CHARS)
    {
        return Err(request(format!("說明文字超過 {TEXT_CHARS} 字")));
    }
    if req.receipt_number.is_some() && req.event != ReceiptEvent::Confirmed {
        return Err(request("收文字號只在收文確認時填寫"));
    }
    let body_sha256 = req
        .header
        .body_sha256
        .clone()
        .ok_or_else(|| request("封包表頭沒有加密內容摘要"))?;
    let receipt = Receipt {
        version: 1,
        event: req.event,
        package_id: req.header.id.clone(),
        package_sha256: body_sha256,
        doc_number: req.header.doc_number.clone(),
        sender: req.header.sender.clone(),
        recipient: req.recipient.to_string(),
        time: req.now,
        reason: req.reason,
        text,
        receipt_number: req.receipt_number.clone(),
    };
    let json = serde_json::to_vec_pretty(&receipt).map_err(TrustError::crypto)?;
    Ok((cms::sign(&json, signer, req.now)?, receipt))
}

/// A receipt checked: the record, its signer's chain, and that the signer's key belongs to
/// the recipient the record names.
pub struct VerifiedReceipt {
    pub receipt: Receipt,
    pub signed_at: i64,
    pub trust: Evaluation,
}

pub fn verify(
    data: &[u8],
    trust: &TrustStore,
    bound_keys: &dyn Fn(&str) -> Vec<[u8; 32]>,
) -> Result<VerifiedReceipt, TrustError> {
    verify_with(
        data,
        &|c, chain, at| trust.evaluate(c, chain, at, Purpose::Signing),
        bound_keys,
    )
}

/// Evaluates a signer's chain at a time: `TrustStore::evaluate` for signing, or a cache of it.
pub type Evaluate<'a> = dyn Fn(&x509_cert::Certificate, &[x509_cert::Certificate], i64) -> Result<Evaluation, TrustError>
    + 'a;

/// [`verify`] with the caller's chain evaluation (a center caches evaluations of the
/// certificates it sees again and again).
pub fn verify_with(
    data: &[u8],
    evaluate: &Evaluate,
    bound_keys: &dyn Fn(&str) -> Vec<[u8; 32]>,
) -> Result<VerifiedReceipt, TrustError> {
    let v = cms::verify(data)?;
    let receipt: Receipt =
        serde_json::from_slice(&v.content).map_err(|e| TrustError::Malformed {
            detail: format!("回執內容無法解讀：{e}"),
        })?;
    if receipt.version != 1 {
        return Err(unsupported(format!("回執版本 {}", receipt.version)));
    }
    let signed_at = v.signing_time.unwrap_or(receipt.time);
    let evaluation = evaluate(&v.signer, &v.certs, signed_at)?;
    check_binding(&v.signer, &receipt.recipient, bound_keys, "回執簽署憑證")?;
    Ok(VerifiedReceipt {
        receipt,
        signed_at,
        trust: evaluation,
    })
}

#[cfg(test)]
mod tests;
