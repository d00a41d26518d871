//! A copy as stored: its columns and how a row becomes a [`CopyView`]. Below the exchange, the
//! outbox and the pages, which all read copies.

use gongwen_net::Refusal;
use gongwen_proto::api::CopyView;
use gongwen_proto::{Code, CopyStatus, FailReason, ReturnReason};
use gongwen_store::Row;

use crate::Result;

pub(crate) fn copy_of(r: &Row, base: usize) -> Result<CopyView> {
    let status = r.text(base + 3)?;
    let unit = r.text(base + 1)?;
    Ok(CopyView {
        recipient: r.text(base)?,
        unit: (!unit.is_empty()).then_some(unit),
        copy: r.text(base + 2)?,
        status: CopyStatus::parse(&status)
            .ok_or_else(|| Refusal::new(Code::Internal, format!("狀態「{status}」不認得")))?,
        status_at: r.i64(base + 4)?,
        delivered_at: r.opt_i64(base + 5)?,
        fail_reason: r.opt_text(base + 6)?.and_then(|s| FailReason::parse(&s)),
        return_reason: r
            .opt_text(base + 7)?
            .and_then(|s| ReturnReason::parse(&s).ok()),
        return_text: r.opt_text(base + 8)?,
        receipt_number: r.opt_text(base + 9)?,
    })
}

pub(crate) const COPY_COLS: &str = "recipient, unit, copy_kind, status, status_at, delivered_at, fail_reason, return_reason, return_text, receipt_number";

/// The condition of the index of open copies (migration 0010), which a query must repeat word
/// for word (copies aliased `c`) for SQLite and PostgreSQL to use that index.
pub(crate) const OPEN_COPY: &str = "c.status IN ('available', 'delivered')";

/// The same columns from a query where `copies` is `c`.
pub(crate) const COPY_COLS_C: &str = "c.recipient, c.unit, c.copy_kind, c.status, c.status_at, c.delivered_at, c.fail_reason, c.return_reason, c.return_text, c.receipt_number";

/// Statuses only the recipient can cause: across centers they count only with the
/// recipient's signed receipt.
pub(crate) fn needs_receipt(s: CopyStatus) -> bool {
    matches!(
        s,
        CopyStatus::Delivered | CopyStatus::Confirmed | CopyStatus::Returned
    )
}
