//! Time control of a case (時效管制, SIGNOFF.md): the deadline a new case gets (by 速別, a 限期
//! the document sets, or 專案管制 with its own date), 改速別 by the receiving unit's head, 展期
//! within the agency's limits. Every change is a signed step ([`crate::steps`]); this module
//! only computes, on the office calendar ([`crate::deadlines`]).

use gongwen_calendar::roc_date;
/// The calendar types deadlines count on, for those who build an [`crate::steps::Office`].
pub use gongwen_calendar::{Override, WorkCalendar};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::cases::Case;
use crate::deadlines;

/// How a case's deadline was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineKind {
    /// By 速別: 最速件 1, 速件 3, 普通件 6 working days.
    Urgency,
    /// 限期公文: the date the document sets.
    Fixed,
    /// 專案管制: the case's own date.
    Project,
}

gongwen_proto::words!(DeadlineKind, parse words {
    Urgency => "urgency", "依速別";
    Fixed => "fixed", "限期";
    Project => "project", "專案管制";
});

/// A date a new case is given at 登記 or 創簽 instead of its 速別's limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// [`DeadlineKind::Fixed`] or [`DeadlineKind::Project`].
    pub kind: DeadlineKind,
    /// `YYYY-MM-DD`.
    pub day: String,
}

/// The agency's rules for 展期 (`[office.extensions]`): beyond them, 專案管制.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtensionRules {
    /// Requests per case.
    pub max_requests: u32,
    /// Working days of one request.
    pub max_days_each: u32,
    /// Working days of all requests of a case.
    pub max_days_total: u32,
}

impl Default for ExtensionRules {
    fn default() -> Self {
        ExtensionRules {
            max_requests: 3,
            max_days_each: 10,
            max_days_total: 30,
        }
    }
}

/// A deadline a step sets: the day, how, and the words the signed line gives after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDue {
    pub day: Date,
    pub kind: DeadlineKind,
    pub note: String,
}

impl NewDue {
    /// The signed line: 「限辦日期：中華民國115年1月12日（速件 3 個工作天）」.
    pub fn line(&self) -> String {
        format!("限辦日期：{}（{}）", roc_date(self.day), self.note)
    }

    pub fn iso(&self) -> String {
        iso(self.day)
    }
}

/// Farthest a 限期 or 專案管制 date may lie after receipt.
pub const MAX_LIMIT_DAYS: i64 = 3 * 366;

/// The 限辦日期 of a registration or 創簽 form (`limit_day`, and `limit_kind`: `fixed` 限期 or
/// `project` 專案管制): None when no date is typed; the message for the field when it is wrong.
pub fn limit_of_form(kind: &str, day: &str) -> Result<Option<Limit>, String> {
    let day = day.trim();
    if day.is_empty() {
        return Ok(None);
    }
    let kind = match kind.trim() {
        "" | "fixed" => DeadlineKind::Fixed,
        "project" => DeadlineKind::Project,
        _ => return Err("請選擇限期公文或專案管制".to_string()),
    };
    if parse_day(day).is_none() {
        return Err(format!("限辦日期「{day}」不是日期（格式 YYYY-MM-DD）"));
    }
    Ok(Some(Limit {
        kind,
        day: day.to_string(),
    }))
}

/// `YYYY-MM-DD`.
pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A `YYYY-MM-DD` day, or None.
pub fn parse_day(s: &str) -> Option<Date> {
    let mut parts = s.trim().split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// `n` working days after `day`.
pub fn add_working_days(cal: &WorkCalendar, day: Date, n: u32) -> Option<Date> {
    let mut d = day;
    for _ in 0..n {
        d = cal.next_working_day(d).ok()?;
    }
    Some(d)
}

/// The deadline of a new case received (or created) on `started` (Taipei day): a 專案管制 date,
/// a 限期 date (one already past is handled as 普通件, SIGNOFF.md), or its 速別's limit.
pub fn first_due(
    cal: &WorkCalendar,
    started: Date,
    urgency: &str,
    limit: Option<&Limit>,
) -> Result<NewDue, String> {
    let by_urgency = |urgency: &str, note: String| {
        add_working_days(cal, started, deadlines::limit_days(urgency))
            .map(|day| NewDue {
                day,
                kind: DeadlineKind::Urgency,
                note,
            })
            .ok_or_else(|| "無法依辦公日曆計算限辦日期".to_string())
    };
    let Some(l) = limit else {
        return by_urgency(urgency, urgency_note(urgency));
    };
    let day = parse_day(&l.day).ok_or_else(|| {
        format!(
            "{}日期「{}」不是日期（格式 YYYY-MM-DD）",
            l.kind.label(),
            l.day
        )
    })?;
    if (day - started).whole_days() > MAX_LIMIT_DAYS {
        return Err(format!("{}日期不能超過收文後三年", l.kind.label()));
    }
    match l.kind {
        DeadlineKind::Project if day <= started => {
            Err("專案管制的日期須在收文（創簽）日之後".to_string())
        }
        DeadlineKind::Project => Ok(NewDue {
            day,
            kind: DeadlineKind::Project,
            note: "專案管制".to_string(),
        }),
        DeadlineKind::Fixed if day < started => by_urgency(
            "普通件",
            format!("限期 {} 收文時已過，依普通件 6 個工作天", roc_date(day)),
        ),
        DeadlineKind::Fixed => Ok(NewDue {
            day,
            kind: DeadlineKind::Fixed,
            note: "限期公文".to_string(),
        }),
        DeadlineKind::Urgency => by_urgency(urgency, urgency_note(urgency)),
    }
}

fn urgency_note(urgency: &str) -> String {
    let u = if ["最速件", "速件"].contains(&urgency) {
        urgency
    } else {
        "普通件"
    };
    format!("{u} {} 個工作天", deadlines::limit_days(urgency))
}

/// A case's deadline now: as stored, or (a case from before time control was stored) from its
/// 速別 and creation time.
pub fn due_of(cal: &WorkCalendar, case: &Case) -> Option<Date> {
    case.due_day
        .as_deref()
        .and_then(parse_day)
        .or_else(|| deadlines::due(cal, case.created_at, &case.urgency))
}

/// The deadline after 改速別 to `urgency`: its limit from the day the case started, and any
/// 展期 already granted. A 限期 or 專案管制 date stays (None).
pub fn after_urgency_change(cal: &WorkCalendar, case: &Case, urgency: &str) -> Option<NewDue> {
    let kind = case
        .deadline_kind
        .as_deref()
        .and_then(DeadlineKind::parse)
        .unwrap_or(DeadlineKind::Urgency);
    if kind != DeadlineKind::Urgency {
        return None;
    }
    let started = deadlines::day_of(case.created_at)?;
    let base = add_working_days(cal, started, deadlines::limit_days(urgency))?;
    let extra = u32::try_from(case.extension_days).unwrap_or(0);
    let day = add_working_days(cal, base, extra)?;
    let mut note = urgency_note(urgency);
    if extra > 0 {
        note += &format!("，另展期 {extra} 個工作天");
    }
    Some(NewDue { day, kind, note })
}

/// Why a 展期 of `days` working days is refused under `rules`, or None.
pub fn extension_refusal(rules: &ExtensionRules, case: &Case, days: u32) -> Option<String> {
    let done = u32::try_from(case.extensions).unwrap_or(u32::MAX);
    let total = u32::try_from(case.extension_days).unwrap_or(u32::MAX);
    if done >= rules.max_requests {
        return Some(format!(
            "本案已展期 {done} 次，達本機關上限 {} 次；需要更長期間者請改列專案管制",
            rules.max_requests
        ));
    }
    if days > rules.max_days_each {
        return Some(format!(
            "每次展期最多 {} 個工作天；需要更長期間者請改列專案管制",
            rules.max_days_each
        ));
    }
    if total.saturating_add(days) > rules.max_days_total {
        return Some(format!(
            "展期累計不得超過 {} 個工作天（已展期 {total} 個工作天）；需要更長期間者請改列專案管制",
            rules.max_days_total
        ));
    }
    None
}

/// The deadline after a 展期 of `days` working days from the case's deadline now.
pub fn after_extension(cal: &WorkCalendar, case: &Case, days: u32) -> Option<NewDue> {
    let from = due_of(cal, case)?;
    let day = add_working_days(cal, from, days)?;
    let kind = case
        .deadline_kind
        .as_deref()
        .and_then(DeadlineKind::parse)
        .unwrap_or(DeadlineKind::Urgency);
    let n = case.extensions + 1;
    let total = case.extension_days + i64::from(days);
    Some(NewDue {
        day,
        kind,
        note: format!("展期 {days} 個工作天，第 {n} 次，累計 {total} 個工作天"),
    })
}

/// Working days a case is overdue on `today`: those after its due day up to today.
pub fn days_overdue(cal: &WorkCalendar, due: Date, today: Date) -> u32 {
    match due.next_day() {
        Some(after) if due < today => cal.count_working_days(after, today),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Month;

    fn d(m: Month, day: u8) -> Date {
        Date::from_calendar_date(2026, m, day).unwrap()
    }

    #[test]
    fn limits_run_over_weekends_and_holidays() {
        let cal = WorkCalendar::with_bundled().unwrap();
        // Friday 2026-02-13, before the Lunar New Year break (2/14–2/22).
        let fri = d(Month::February, 13);
        let due = |u: &str| first_due(&cal, fri, u, None).unwrap();
        assert_eq!(due("最速件").day, d(Month::February, 23));
        assert_eq!(due("速件").day, d(Month::February, 25));
        // 2/27 is a holiday (補假 和平紀念日).
        assert_eq!(due("普通件").day, d(Month::March, 3));
        assert_eq!(
            due("速件").line(),
            "限辦日期：中華民國115年2月25日（速件 3 個工作天）"
        );
    }

    #[test]
    fn a_fixed_date_already_past_is_handled_as_ordinary() {
        let cal = WorkCalendar::with_bundled().unwrap();
        let mon = d(Month::March, 2);
        let past = Limit {
            kind: DeadlineKind::Fixed,
            day: "2026-02-26".into(),
        };
        let n = first_due(&cal, mon, "最速件", Some(&past)).unwrap();
        assert_eq!(
            (n.kind, n.day),
            (DeadlineKind::Urgency, d(Month::March, 10))
        );
        assert!(n.note.contains("依普通件"), "{}", n.note);
        let later = Limit {
            kind: DeadlineKind::Fixed,
            day: "2026-03-20".into(),
        };
        let n = first_due(&cal, mon, "普通件", Some(&later)).unwrap();
        assert_eq!((n.kind, n.day), (DeadlineKind::Fixed, d(Month::March, 20)));
        let project = Limit {
            kind: DeadlineKind::Project,
            day: "2026-03-02".into(),
        };
        assert!(first_due(&cal, mon, "普通件", Some(&project)).is_err());
        let bad = Limit {
            kind: DeadlineKind::Fixed,
            day: "115-03-20".into(),
        };
        assert!(first_due(&cal, mon, "普通件", Some(&bad)).is_err());
    }

    #[test]
    fn overdue_days_count_working_days_after_the_due_day() {
        let cal = WorkCalendar::with_bundled().unwrap();
        let due = d(Month::February, 13);
        assert_eq!(days_overdue(&cal, due, due), 0);
        assert_eq!(days_overdue(&cal, due, d(Month::February, 23)), 1);
        assert_eq!(days_overdue(&cal, due, d(Month::February, 24)), 2);
        assert_eq!(days_overdue(&cal, due, d(Month::February, 1)), 0);
        assert_eq!(parse_day("2026-02-30"), None);
        assert_eq!(iso(d(Month::March, 2)), "2026-03-02");
    }
}
