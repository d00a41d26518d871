//! `gongwen office`: an agency's own document-management system with online sign-off
//! (公文管理系統・線上簽核), per `docs/zh-TW/公文管理系統.md` and the rules of SIGNOFF.md.
//!
//! - [`org`]: units in a tree, people, their roles and deputies (職務代理人);
//! - [`delegation`]: the delegation table (分層負責明細表), kept with effective dates;
//! - [`cases`]: cases, their documents in every version, worklists;
//! - [`allowed`]: which steps a person may take on a case now (what the case page offers);
//! - [`documents`]: what each version is (簽 or 稿, DI, scan …) and how it is downloaded;
//! - [`changes`]: what a version changed against the one before, as tracked changes;
//! - [`steps`]: every action on a case as a text the actor signs with their own card, chained to
//!   the step before, checked before anything in the case changes;
//! - [`intake`]: what the agent received, kept whole until registered, and 簽收 after;
//! - [`dispatch`]: 「發」 drafts sent through the agent, numbered from the agency's one series,
//!   and their copies followed until one comes back;
//! - [`export`]: one case as one file, and its verification without a server;
//! - [`serve`] and [`web`]: `gongwen office serve`, the pages people work in, each step signed
//!   with their own card through the local signer;
//! - [`timing`]: each case's deadline (速別, 限期, 專案管制), 改速別 and 展期;
//! - [`indicators`]: 線上簽核率, 公文效率提升 and 節能 per month and unit (seed 003 伍);
//! - [`pages`]: page counts of received files, for the 15-page exclusion from online sign-off.
//!
//! It reaches the exchange only through an agent's document-system API, as any document system
//! does; this crate never imports a service crate.

pub mod allowed;
pub mod cases;
pub mod changes;
pub mod closed;
pub mod config;
pub mod deadlines;
pub mod delegation;
pub mod dispatch;
pub mod documents;
pub mod export;
pub mod indicators;
pub mod intake;
pub mod org;
pub mod pages;
pub mod reminders;
pub mod serve;
pub mod stages;
pub mod steps;
pub mod timeliness;
pub mod timing;
pub mod web;

use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_store::StoreError;

/// What goes wrong in the office: the store, or a refusal with its code from the one list.
#[derive(Debug)]
pub enum OfficeError {
    Store(StoreError),
    Refused(Refusal),
}

impl OfficeError {
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        OfficeError::Refused(Refusal::new(code, detail))
    }

    /// A call to the agency's agent node that failed: what it was for, and why.
    pub(crate) fn agent(
        what: &str,
    ) -> impl FnOnce(gongwen_client::ClientError) -> OfficeError + '_ {
        move |e| {
            // What the agent refused for its content (a draft it cannot send) keeps its code:
            // the officer must change the document, not wait. Anything else is unavailability.
            let code = e
                .code()
                .and_then(Code::parse)
                .filter(|c| matches!(c, Code::AgentDocument | Code::Recipient | Code::Malware))
                .unwrap_or(Code::Unavailable);
            OfficeError::new(code, format!("機關代理程式{what}失敗：{e}"))
        }
    }

    pub fn code(&self) -> Code {
        match self {
            OfficeError::Store(e) => gongwen_net::store_code(e),
            OfficeError::Refused(r) => r.code,
        }
    }
}

impl From<StoreError> for OfficeError {
    fn from(e: StoreError) -> Self {
        OfficeError::Store(e)
    }
}

impl std::fmt::Display for OfficeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OfficeError::Store(e) => write!(f, "{e}"),
            OfficeError::Refused(r) => write!(f, "{}", r.api()),
        }
    }
}

impl std::error::Error for OfficeError {}

impl From<OfficeError> for Refusal {
    fn from(e: OfficeError) -> Self {
        match e {
            OfficeError::Store(e) => Refusal::from(e),
            OfficeError::Refused(r) => r,
        }
    }
}

/// A `E_BAD_REQUEST` naming the field.
pub(crate) fn bad(detail: impl Into<String>) -> OfficeError {
    OfficeError::new(Code::BadRequest, detail)
}

/// The calendar day in Taipei of a time in Unix milliseconds, as `YYYY-MM-DD`: deputies and
/// the delegation table are kept by day.
pub fn taipei_day(ms: i64) -> String {
    deadlines::day_of(ms).map(timing::iso).unwrap_or_default()
}

/// A time as people read it in a 簽核紀錄: the ROC date and the Taipei time to the second.
pub fn roc_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.to_offset(gongwen_calendar::TAIPEI_OFFSET))
        .map(|t| {
            format!(
                "{} {:02}:{:02}:{:02}",
                gongwen_calendar::roc_date(t.date()),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_else(|_| ms.to_string())
}

/// Checks an ISO day (`YYYY-MM-DD`) as typed by an administrator.
pub(crate) fn check_day(field: &str, day: &str) -> Result<(), OfficeError> {
    match timing::parse_day(day) {
        Some(_) if day == day.trim() => Ok(()),
        _ => Err(bad(format!("{field}「{day}」不是日期（格式 YYYY-MM-DD）"))),
    }
}

/// Checks a short name typed by a person: present, single-line, at most `max` characters.
pub(crate) fn check_text(field: &str, text: &str, max: usize) -> Result<(), OfficeError> {
    if text.trim().is_empty() {
        return Err(bad(format!("缺少{field}")));
    }
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(bad(format!("{field}須為一行、最多 {max} 個字")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taipei_day_turns_at_taipei_midnight() {
        // 2026-01-04T16:00:00Z is 2026-01-05 00:00 in Taipei.
        assert_eq!(taipei_day(1_767_542_400_000 - 1), "2026-01-04");
        assert_eq!(taipei_day(1_767_542_400_000), "2026-01-05");
    }

    #[test]
    fn times_read_in_taipei() {
        assert_eq!(
            roc_time(1_767_542_400_000 + 3_661_000),
            "中華民國115年1月5日 01:01:01"
        );
    }

    #[test]
    fn days_and_texts_are_checked() {
        assert!(check_day("起日", "2026-02-30").is_err());
        assert!(check_day("起日", "2026-02-28").is_ok());
        assert!(check_text("姓名", " ", 10).is_err());
        assert!(check_text("姓名", "王\n小明", 10).is_err());
        assert!(check_text("姓名", "王小明", 2).is_err());
        assert!(check_text("姓名", "王小明", 10).is_ok());
    }
}
