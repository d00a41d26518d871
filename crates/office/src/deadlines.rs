//! Time limits (時效, SIGNOFF.md): 最速件 1, 速件 3, 普通件 6 working days, counted on the
//! government office calendar from the day after receipt (or creation). What the worklists
//! sort by; the whole of time control (限期公文, 展期, 稽催) builds on it.

use gongwen_calendar::{TAIPEI_OFFSET, WorkCalendar};
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
/// working day after the day it started.
pub fn due(cal: &WorkCalendar, started_ms: i64, urgency: &str) -> Option<Date> {
    let mut day = day_of(started_ms)?;
    for _ in 0..limit_days(urgency) {
        day = cal.next_working_day(day).ok()?;
    }
    Some(day)
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

    #[test]
    fn limits_count_working_days_after_the_day_of_receipt() {
        let cal = WorkCalendar::new();
        // Friday 2026-01-02 10:00 in Taipei.
        let friday = 1_767_319_200_000;
        let d = |m, d| Date::from_calendar_date(2026, m, d).unwrap();
        assert_eq!(day_of(friday), Some(d(Month::January, 2)));
        assert_eq!(due(&cal, friday, "最速件"), Some(d(Month::January, 5)));
        assert_eq!(due(&cal, friday, "速件"), Some(d(Month::January, 7)));
        assert_eq!(due(&cal, friday, "普通件"), Some(d(Month::January, 12)));
        assert_eq!(limit_days("特急"), 6);
        let due = d(Month::January, 7);
        assert_eq!(standing(&cal, due, d(Month::January, 8)), Standing::Overdue);
        assert_eq!(standing(&cal, due, d(Month::January, 6)), Standing::DueSoon);
        assert_eq!(standing(&cal, due, d(Month::January, 2)), Standing::InTime);
    }
}
