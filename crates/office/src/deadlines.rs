//! Time limits (時效, SIGNOFF.md): 最速件 1, 速件 3, 普通件 6 working days, counted on the
//! government office calendar from the day after receipt (or creation). What the worklists
//! sort by; the whole of time control (限期公文, 展期, 稽催) builds on it.
//!
//! A limit that reaches a year the calendar has no table for has no due day: counting plain
//! weekdays there could name a wrong one (the year's holidays and make-up days are unknown).

use gongwen_calendar::{CalendarError, TAIPEI_OFFSET, WorkCalendar};
use time::Date;

/// Working days a case of `urgency` (速別) has; an unknown 速別 counts as 普通件.
pub fn limit_days(urgency: &str) -> u32 {
    match urgency.trim() {
        "最速件" => 1,
        "速件" => 3,
        _ => 6,
    }
}

/// The Taipei day of a moment (Unix ms).
pub fn day_of(ms: i64) -> Option<Date> {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .map(|t| t.to_offset(TAIPEI_OFFSET).date())
}

/// The last day a case received (or created) at `started_ms` may take: the `limit_days`-th
/// working day after the day it started. `None` when the moment is out of range or the count
/// reaches a year the calendar does not cover (see [`due_checked`] for why).
pub fn due(cal: &WorkCalendar, started_ms: i64, urgency: &str) -> Option<Date> {
    due_checked(cal, started_ms, urgency).ok()
}

/// As [`due`], with the reason when there is no due day: [`CalendarError::Uncovered`] names
/// the year whose calendar is missing, which the operator should import.
pub fn due_checked(
    cal: &WorkCalendar,
    started_ms: i64,
    urgency: &str,
) -> Result<Date, CalendarError> {
    let day = day_of(started_ms).ok_or(CalendarError::OutOfRange { date: Date::MIN })?;
    add_working_days(cal, day, limit_days(urgency))
}

/// `n` working days after `day`: the one way time control counts, so that no count runs on
/// plain weekdays into a year the calendar does not cover ([`CalendarError::Uncovered`]).
pub fn add_working_days(cal: &WorkCalendar, day: Date, n: u32) -> Result<Date, CalendarError> {
    let mut d = day;
    for _ in 0..n {
        d = cal.next_working_day_checked(d)?;
    }
    Ok(d)
}

/// The calendar the office counts on: the bundled years, then each file of `[office]
/// calendars` (the official table of a year, or `gongwen calendar import --out`), in order.
pub fn load_calendar(files: &[std::path::PathBuf]) -> Result<WorkCalendar, String> {
    use std::io::Read;
    let mut cal = WorkCalendar::with_bundled().map_err(|e| format!("內建的辦公日曆有誤：{e}"))?;
    for path in files {
        let named = |e: &dyn std::fmt::Display| format!("辦公日曆檔 {}：{e}", path.display());
        let file = std::fs::File::open(path).map_err(|e| named(&e))?;
        let mut bytes = Vec::new();
        // One byte over the limit, so that the calendar crate names the limit.
        let limit = gongwen_calendar::MAX_IMPORT_BYTES as u64 + 1;
        file.take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| named(&e))?;
        cal.add_file(&bytes).map_err(|e| named(&e))?;
    }
    Ok(cal)
}

/// The last day a case counts as due soon on `today`: up to the second working day counted
/// from today (as [`standing`] decides), and the days off right after it; the end of this
/// year when next year has no calendar yet.
pub fn soon_until(cal: &WorkCalendar, today: Date) -> Date {
    let n = if cal.is_working_day(today) { 1 } else { 2 };
    add_working_days(cal, today, n)
        .and_then(|d| cal.next_working_day_checked(d))
        .ok()
        .and_then(|d| d.previous_day())
        .or_else(|| Date::from_calendar_date(today.year(), time::Month::December, 31).ok())
        .unwrap_or(today)
}

/// Of `today`'s year and the next, those the calendar does not cover: what the office warns
/// about when it starts, before deadlines begin to go missing.
pub fn uncovered_years(cal: &WorkCalendar, today: Date) -> Vec<i32> {
    [today.year(), today.year() + 1]
        .into_iter()
        .filter(|y| !cal.covers(*y))
        .collect()
}

/// How a due day stands on `today`: overdue, due within a working day, or not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    Overdue,
    DueSoon,
    InTime,
}

pub fn standing(cal: &WorkCalendar, due: Date, today: Date) -> Standing {
    if due < today {
        Standing::Overdue
    } else if cal.count_working_days(today, due) <= 2 {
        Standing::DueSoon
    } else {
        Standing::InTime
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Month;

    fn d(y: i32, m: Month, day: u8) -> Date {
        Date::from_calendar_date(y, m, day).unwrap()
    }

    /// Unix ms of 10:00 in Taipei on `date`.
    fn ten_am(date: Date) -> i64 {
        let t = date
            .with_hms(10, 0, 0)
            .unwrap()
            .assume_offset(TAIPEI_OFFSET);
        t.unix_timestamp() * 1000
    }

    #[test]
    fn limits_count_working_days_after_the_day_of_receipt() {
        let cal = WorkCalendar::with_bundled().unwrap();
        // Friday 2026-01-02 10:00 in Taipei.
        let friday = 1_767_319_200_000;
        assert_eq!(friday, ten_am(d(2026, Month::January, 2)));
        assert_eq!(day_of(friday), Some(d(2026, Month::January, 2)));
        assert_eq!(
            due(&cal, friday, "最速件"),
            Some(d(2026, Month::January, 5))
        );
        assert_eq!(due(&cal, friday, "速件"), Some(d(2026, Month::January, 7)));
        assert_eq!(
            due(&cal, friday, "普通件"),
            Some(d(2026, Month::January, 12))
        );
        assert_eq!(limit_days("特急"), 6);
        let due = d(2026, Month::January, 7);
        let jan = |day| d(2026, Month::January, day);
        assert_eq!(standing(&cal, due, jan(8)), Standing::Overdue);
        assert_eq!(standing(&cal, due, jan(6)), Standing::DueSoon);
        assert_eq!(standing(&cal, due, jan(2)), Standing::InTime);
    }

    #[test]
    fn the_lunar_new_year_break_is_skipped() {
        let cal = WorkCalendar::with_bundled().unwrap();
        // Received Friday 2026-02-13, before the nine days off (2/14–2/22).
        let friday = ten_am(d(2026, Month::February, 13));
        assert_eq!(
            due(&cal, friday, "最速件"),
            Some(d(2026, Month::February, 23))
        );
        assert_eq!(
            due(&cal, friday, "速件"),
            Some(d(2026, Month::February, 25))
        );
    }

    #[test]
    fn no_due_day_in_a_year_without_a_calendar() {
        let cal = WorkCalendar::with_bundled().unwrap();
        // Thursday 2026-12-24: six working days would end in January 2027, which has no table.
        let late = ten_am(d(2026, Month::December, 24));
        assert_eq!(
            due(&cal, late, "最速件"),
            Some(d(2026, Month::December, 28))
        );
        assert_eq!(due(&cal, late, "普通件"), None);
        assert_eq!(
            due_checked(&cal, late, "普通件"),
            Err(CalendarError::Uncovered { year: 2027 })
        );
        // Nothing is covered in a calendar with no table at all.
        let plain = WorkCalendar::new();
        assert_eq!(due(&plain, ten_am(d(2026, Month::March, 2)), "速件"), None);
        assert_eq!(uncovered_years(&cal, d(2026, Month::June, 1)), vec![2027]);
        assert_eq!(
            uncovered_years(&plain, d(2026, Month::June, 1)),
            vec![2026, 2027]
        );
        assert_eq!(uncovered_years(&cal, d(2025, Month::June, 1)), vec![2025]);
    }

    #[test]
    fn due_soon_reaches_the_second_working_day_counted_from_today() {
        let cal = WorkCalendar::with_bundled().unwrap();
        let d = |m, day| Date::from_calendar_date(2026, m, day).unwrap();
        // Thursday: Thursday and Friday, and the weekend after.
        assert_eq!(
            soon_until(&cal, d(Month::January, 8)),
            d(Month::January, 11)
        );
        // Friday: up to Monday.
        assert_eq!(
            soon_until(&cal, d(Month::February, 13)),
            d(Month::February, 23)
        );
        // Saturday: up to Tuesday (Monday and Tuesday are the two working days).
        assert_eq!(
            soon_until(&cal, d(Month::January, 10)),
            d(Month::January, 13)
        );
    }
}
