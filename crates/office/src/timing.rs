//! Time control of a case (時效管制, SIGNOFF.md): the deadline a new case gets (by 速別, a 限期
//! the document sets, or 專案管制 with its own date), 改速別 by the receiving unit's head, 展期
//! within the agency's limits. Every change is a signed step ([`crate::steps`]); this module
//! only computes, on the office calendar ([`crate::deadlines`]).

use gongwen_calendar::{CalendarError, roc_date, roc_year};
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

/// The agency's rules for 展期 (`[office.extensions]`): beyond them, 專案管制. Who grants a
/// request rises with the length: the working days of all the case's 展期 with this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtensionRules {
    /// Requests per case.
    pub max_requests: u32,
    /// Working days of one request.
    pub max_days_each: u32,
    /// Working days of all requests of a case.
    pub max_days_total: u32,
    /// Up to this many working days in all, the head of a 二級單位 (level 3) grants.
    pub level3_up_to_days: u32,
    /// Up to this many, the head of a 一級單位 (level 2); beyond, the head of the agency.
    pub level2_up_to_days: u32,
    /// The level that grants 改列專案管制 (1 首長, 2 一級單位主管, 3 二級單位主管).
    pub project_level: i64,
}

impl Default for ExtensionRules {
    fn default() -> Self {
        ExtensionRules {
            max_requests: 3,
            max_days_each: 10,
            max_days_total: 30,
            level3_up_to_days: 5,
            level2_up_to_days: 10,
            project_level: 2,
        }
    }
}

impl ExtensionRules {
    /// The level that grants a 展期 bringing the case's total to `total_days`.
    pub fn level_for(&self, total_days: u32) -> i64 {
        if total_days <= self.level3_up_to_days {
            3
        } else if total_days <= self.level2_up_to_days {
            2
        } else {
            1
        }
    }

    /// What is wrong with the rules, for the configuration check.
    pub fn problem(&self) -> Option<String> {
        if self.level3_up_to_days > self.level2_up_to_days {
            return Some("[office.extensions] level3_up_to_days 不能大於 level2_up_to_days".into());
        }
        if !(1..=3).contains(&self.project_level) {
            return Some("[office.extensions] project_level 須為 1、2 或 3".into());
        }
        None
    }
}

/// What an officer asks the head to grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// 展期: more working days.
    Extend,
    /// 改列專案管制: the case's own date.
    Project,
}

gongwen_proto::words!(RequestKind, parse words {
    Extend => "extend", "展期";
    Project => "project", "改列專案管制";
});

/// The level that grants a request: `needed`, but never above the head of the case's own unit
/// chain — a case of a 一級單位 (depth 1) has no 二級單位主管, so its own head (level 2) grants.
pub fn granting_level(needed: i64, unit_depth: i64) -> i64 {
    needed.min(unit_depth + 1).max(1)
}

/// A deadline a step sets: the day, how, and the words the signed line gives after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDue {
    /// None when the count reaches a year the office calendar does not cover: the case is
    /// stored without a day, and [`crate::cases::fill_due_days`] sets it once the year's
    /// table is loaded (never counted on plain weekdays).
    pub day: Option<Date>,
    pub kind: DeadlineKind,
    pub note: String,
}

impl NewDue {
    /// The signed line: 「限辦日期：中華民國115年1月12日（速件 3 個工作天）」.
    pub fn line(&self) -> String {
        match self.day {
            Some(day) => format!("限辦日期：{}（{}）", roc_date(day), self.note),
            None => format!("限辦日期：未定（{}）", self.note),
        }
    }

    pub fn iso(&self) -> Option<String> {
        self.day.map(iso)
    }
}

/// The words of a count that reached a year with no office calendar.
fn uncovered_note(year: i32) -> String {
    format!("{}辦公日曆尚未匯入，限辦日期俟匯入後計算", roc_year(year))
}

/// A count on the calendar, or the reason there is none (the message for a person).
fn counted(r: Result<Date, CalendarError>) -> Result<Date, String> {
    r.map_err(|e| match e {
        CalendarError::Uncovered { year } => uncovered_note(year),
        _ => "無法依辦公日曆計算限辦日期".to_string(),
    })
}

/// A 速別 deadline: its limit after the day the case started, and `extra` working days of
/// 展期 on top.
pub fn urgency_due(
    cal: &WorkCalendar,
    started: Date,
    urgency: &str,
    extra: u32,
) -> Result<Date, CalendarError> {
    let base = deadlines::add_working_days(cal, started, deadlines::limit_days(urgency))?;
    deadlines::add_working_days(cal, base, extra)
}

/// A 速別 deadline as a step names it: with no day (and why) when its count reaches a year
/// the calendar does not cover.
fn by_urgency(
    cal: &WorkCalendar,
    started: Date,
    urgency: &str,
    extra: u32,
    note: String,
) -> Result<NewDue, String> {
    let (day, note) = match urgency_due(cal, started, urgency, extra) {
        Ok(day) => (Some(day), note),
        Err(CalendarError::Uncovered { year }) => {
            (None, format!("{note}；{}", uncovered_note(year)))
        }
        Err(_) => return Err("無法依辦公日曆計算限辦日期".to_string()),
    };
    Ok(NewDue {
        day,
        kind: DeadlineKind::Urgency,
        note,
    })
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

/// The deadline of a new case received (or created) on `started` (Taipei day): a 專案管制 date,
/// a 限期 date (one already past is handled as 普通件, SIGNOFF.md), or its 速別's limit.
pub fn first_due(
    cal: &WorkCalendar,
    started: Date,
    urgency: &str,
    limit: Option<&Limit>,
) -> Result<NewDue, String> {
    let by_urgency = |urgency: &str, note: String| by_urgency(cal, started, urgency, 0, note);
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
            day: Some(day),
            kind: DeadlineKind::Project,
            note: "專案管制".to_string(),
        }),
        DeadlineKind::Fixed if day < started => by_urgency(
            "普通件",
            format!("限期 {} 收文時已過，依普通件 6 個工作天", roc_date(day)),
        ),
        DeadlineKind::Fixed => Ok(NewDue {
            day: Some(day),
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
/// 展期 already granted. A 限期 or 專案管制 date stays (Ok(None)).
pub fn after_urgency_change(
    cal: &WorkCalendar,
    case: &Case,
    urgency: &str,
) -> Result<Option<NewDue>, String> {
    if kind_of(case) != DeadlineKind::Urgency {
        return Ok(None);
    }
    let started = deadlines::day_of(case.created_at)
        .ok_or_else(|| "無法依辦公日曆計算限辦日期".to_string())?;
    let extra = u32::try_from(case.extension_days).unwrap_or(0);
    let mut note = urgency_note(urgency);
    if extra > 0 {
        note += &format!("，另展期 {extra} 個工作天");
    }
    by_urgency(cal, started, urgency, extra, note).map(Some)
}

/// The deadline of a 會辦 asked on `asked` (Taipei day): the date the asking officer states
/// (a [`DeadlineKind::Fixed`] limit), or, when none is stated, 速件: 3 working days
/// (SIGNOFF.md). No day when the count reaches a year with no calendar.
pub fn consult_due(
    cal: &WorkCalendar,
    asked: Date,
    stated: Option<&Limit>,
) -> Result<NewDue, String> {
    match stated {
        Some(l) => {
            let day = parse_day(&l.day)
                .filter(|_| l.kind == DeadlineKind::Fixed)
                .ok_or_else(|| format!("會辦期限「{}」不是日期（格式 YYYY-MM-DD）", l.day))?;
            if day < asked {
                return Err("會辦期限已經過了".to_string());
            }
            if (day - asked).whole_days() > MAX_LIMIT_DAYS {
                return Err("會辦期限不能超過三年".to_string());
            }
            Ok(NewDue {
                day: Some(day),
                kind: DeadlineKind::Fixed,
                note: "送會所定".to_string(),
            })
        }
        None => by_urgency(
            cal,
            asked,
            "速件",
            0,
            "未定期限，依速件 3 個工作天".to_string(),
        ),
    }
}

/// How a case's deadline was set (one from before time control was stored: by 速別).
pub fn kind_of(case: &Case) -> DeadlineKind {
    case.deadline_kind
        .as_deref()
        .and_then(DeadlineKind::parse)
        .unwrap_or(DeadlineKind::Urgency)
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

/// The deadline after a 展期 of `days` working days from the case's deadline now; the
/// message when it cannot be counted (no deadline yet, or a year with no calendar).
pub fn after_extension(cal: &WorkCalendar, case: &Case, days: u32) -> Result<NewDue, String> {
    let from = match due_of(cal, case) {
        Some(day) => day,
        None => {
            let started = deadlines::day_of(case.created_at)
                .ok_or_else(|| "無法依辦公日曆計算限辦日期".to_string())?;
            counted(urgency_due(cal, started, &case.urgency, 0))
                .map_err(|why| format!("本案尚無限辦日期，無法展期：{why}"))?
        }
    };
    let day = counted(deadlines::add_working_days(cal, from, days))
        .map_err(|why| format!("無法展期：{why}"))?;
    let n = case.extensions + 1;
    let total = case.extension_days + i64::from(days);
    Ok(NewDue {
        day: Some(day),
        kind: kind_of(case),
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
        assert_eq!(due("最速件").day, Some(d(Month::February, 23)));
        assert_eq!(due("速件").day, Some(d(Month::February, 25)));
        // 2/27 is a holiday (補假 和平紀念日).
        assert_eq!(due("普通件").day, Some(d(Month::March, 3)));
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
            (DeadlineKind::Urgency, Some(d(Month::March, 10)))
        );
        assert!(n.note.contains("依普通件"), "{}", n.note);
        let later = Limit {
            kind: DeadlineKind::Fixed,
            day: "2026-03-20".into(),
        };
        let n = first_due(&cal, mon, "普通件", Some(&later)).unwrap();
        assert_eq!(
            (n.kind, n.day),
            (DeadlineKind::Fixed, Some(d(Month::March, 20)))
        );
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
    fn a_count_into_a_year_with_no_calendar_has_no_day_until_the_year_is_added() {
        let mut cal = WorkCalendar::with_bundled().unwrap();
        // Thursday 2026-12-24: six working days reach January 2027.
        let thu = d(Month::December, 24);
        let n = first_due(&cal, thu, "普通件", None).unwrap();
        assert_eq!((n.day, n.kind), (None, DeadlineKind::Urgency));
        assert_eq!(
            n.line(),
            "限辦日期：未定（普通件 6 個工作天；中華民國116年（西元2027年）辦公日曆尚未匯入，限辦日期俟匯入後計算）"
        );
        assert_eq!(n.iso(), None);
        // Within the covered year it still counts.
        let n = first_due(&cal, thu, "最速件", None).unwrap();
        assert_eq!(n.day, Some(d(Month::December, 28)));
        assert_eq!(
            urgency_due(&cal, thu, "普通件", 0),
            Err(CalendarError::Uncovered { year: 2027 })
        );
        // Once a table of 2027 is added (here all weekdays, as a test stands in for it).
        cal.add_file(b"date,kind,name\n2027,year,test\n").unwrap();
        let jan = |day| Date::from_calendar_date(2027, Month::January, day).unwrap();
        assert_eq!(urgency_due(&cal, thu, "普通件", 0), Ok(jan(4)));
        assert_eq!(urgency_due(&cal, thu, "普通件", 2), Ok(jan(6)));
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
