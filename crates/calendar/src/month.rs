//! A calendar month in Taipei, and the periods of months every statistics page asks for (the
//! office's indicators, the agent's, the directory's): one type, one bound, one set of words.

use time::Date;

use crate::TAIPEI_OFFSET;

/// The longest period one statistics report covers, in months.
pub const MAX_MONTHS: usize = 24;

/// A calendar month (Asia/Taipei).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    /// 1–12.
    pub month: u8,
}

impl Month {
    /// `YYYY-MM` (ROC year 1 onwards).
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        ((1912..=9999).contains(&year) && (1..=12).contains(&month))
            .then_some(Month { year, month })
    }

    /// The month a moment (Unix ms) falls in, in Taipei.
    pub fn of_ms(ms: i64) -> Month {
        let d = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .map(|t| t.to_offset(TAIPEI_OFFSET).date())
            .unwrap_or(Date::MIN);
        Month {
            year: d.year(),
            month: u8::from(d.month()),
        }
    }

    /// The month before.
    pub fn prev(self) -> Month {
        self.back(2)
    }

    pub fn next(self) -> Month {
        self.back(0)
    }

    /// The month `count − 1` months before this one (so `back(12)` starts a 12-month period
    /// ending with this month; `back(0)` is the month after).
    pub fn back(self, count: u32) -> Month {
        let n = i64::from(self.year) * 12 + i64::from(self.month) - i64::from(count);
        Month {
            year: i32::try_from(n.div_euclid(12)).unwrap_or(self.year),
            month: u8::try_from(n.rem_euclid(12) + 1).unwrap_or(1),
        }
    }

    /// Its first day.
    pub fn first_day(self) -> Date {
        time::Month::try_from(self.month)
            .ok()
            .and_then(|m| Date::from_calendar_date(self.year, m, 1).ok())
            .unwrap_or(Date::MIN)
    }

    /// Its first moment in Taipei (Unix ms).
    pub fn start_ms(self) -> i64 {
        let t = self
            .first_day()
            .midnight()
            .assume_offset(TAIPEI_OFFSET)
            .unix_timestamp();
        t * 1000
    }

    /// `2026-03`: in exports and links.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// `115年3月`: as people read it in sentences.
    pub fn roc(self) -> String {
        format!("{}年{}月", self.year - 1911, self.month)
    }

    /// `115/03`: as tables head their rows.
    pub fn roc_short(self) -> String {
        format!("{}/{:02}", self.year - 1911, self.month)
    }
}

/// The months from `from` to `to` inclusive; the zh-TW reason when reversed or longer than
/// [`MAX_MONTHS`].
pub fn months(from: Month, to: Month) -> Result<Vec<Month>, String> {
    if to < from {
        return Err(format!(
            "統計期間的迄月（{}）早於起月（{}）",
            to.iso(),
            from.iso()
        ));
    }
    let mut out = vec![from];
    while let Some(last) = out.last().copied()
        && last < to
    {
        if out.len() >= MAX_MONTHS {
            return Err(format!("統計期間最多 {MAX_MONTHS} 個月"));
        }
        out.push(last.next());
    }
    Ok(out)
}

/// The period a statistics page is asked for: `from` and `to` as `YYYY-MM`, either may be
/// empty (the 12 months up to the month of `now_ms`); the zh-TW reason when wrong.
pub fn period(from: &str, to: &str, now_ms: i64) -> Result<(Month, Month), String> {
    let read = |label: &str, v: &str| match v.trim() {
        "" => Ok(None),
        s if s.len() > 16 => Err(format!("{label}須為年月（YYYY-MM）")),
        s => Month::parse(s)
            .map(Some)
            .ok_or_else(|| format!("{label}「{s}」須為年月（YYYY-MM）")),
    };
    let to = read("迄月", to)?.unwrap_or(Month::of_ms(now_ms));
    let from = read("起月", from)?.unwrap_or(to.back(12));
    months(from, to)?;
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_read_count_and_bound() {
        let m = |s| Month::parse(s).unwrap();
        assert_eq!(m("2026-03").roc(), "115年3月");
        assert_eq!(m("2026-03").roc_short(), "115/03");
        assert_eq!(m("2026-01").prev(), m("2025-12"));
        assert_eq!(m("2026-12").next(), m("2027-01"));
        assert_eq!(m("2026-12").back(12), m("2026-01"));
        assert_eq!(Month::parse("2026-13"), None);
        assert_eq!(Month::parse("115-03"), None);
        // 2026-03-01 00:00 in Taipei is 2026-02-28 16:00 UTC.
        assert_eq!(m("2026-03").start_ms(), 1_772_294_400_000);
        assert_eq!(Month::of_ms(1_772_294_400_000), m("2026-03"));
        assert_eq!(Month::of_ms(1_772_294_399_999), m("2026-02"));
        assert_eq!(months(m("2025-01"), m("2026-12")).unwrap().len(), 24);
        assert!(
            months(m("2025-01"), m("2027-01"))
                .unwrap_err()
                .contains("最多 24 個月")
        );
        assert!(
            months(m("2026-02"), m("2026-01"))
                .unwrap_err()
                .contains("早於起月")
        );
        let now = m("2026-03").start_ms();
        assert_eq!(period("", "", now).unwrap(), (m("2025-04"), m("2026-03")));
        assert!(
            period("2026-1", "", now)
                .unwrap_err()
                .contains("起月「2026-1」")
        );
    }
}
