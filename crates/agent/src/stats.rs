//! 統計 of one organisation at this node: documents sent and received per month and per day,
//! how quickly 簽收 follows delivery (average, median, 90th percentile, and the share done by
//! the duty deadline — 10:00 of the next working day, `gongwen_calendar::receiver_due`),
//! returns (退文) sent, and copies printed to mail on paper. Every query is the one agency's
//! (`agency = $1`): another organisation's numbers never enter its report. The web client's
//! page, its CSV and JSON, and the document-system API's `GET /api/v1/stats` show the same
//! [`Report`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use gongwen_calendar::WorkCalendar;
use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_store::Db;
use serde::Serialize;

/// The month and the longest period a report covers: shared with every statistics page.
pub use gongwen_calendar::{MAX_MONTHS, Month};

const MS_PER_DAY: i64 = 86_400_000;
const MS_PER_HOUR: f64 = 3_600_000.0;
const TAIPEI_MS: i64 = 8 * 3_600_000;
/// The Julian day of 1970-01-01.
const UNIX_EPOCH_JULIAN: i64 = 2_440_588;

fn bad(detail: impl Into<String>) -> Refusal {
    Refusal::new(Code::BadRequest, detail)
}

fn taipei_date(ms: i64) -> time::Date {
    let days = (ms + TAIPEI_MS).div_euclid(MS_PER_DAY);
    i32::try_from(days + UNIX_EPOCH_JULIAN)
        .ok()
        .and_then(|j| time::Date::from_julian_day(j).ok())
        .unwrap_or(time::Date::MIN)
}

/// The months from `from` to `to` inclusive; refused (`E_BAD_REQUEST`) when reversed or longer
/// than [`MAX_MONTHS`].
pub fn months(from: Month, to: Month) -> Result<Vec<Month>, Refusal> {
    gongwen_calendar::months(from, to).map_err(bad)
}

/// The period of a request: `from` and `to` as `YYYY-MM` (either may be empty: the last 12
/// months up to this one). Refused with `E_BAD_REQUEST` and a zh-TW sentence.
pub fn period(from: &str, to: &str, now_ms: i64) -> Result<(Month, Month), Refusal> {
    gongwen_calendar::period(from, to, now_ms).map_err(bad)
}

/// The government office calendar bundled with Gongwen.
pub fn calendar() -> &'static WorkCalendar {
    static CAL: OnceLock<WorkCalendar> = OnceLock::new();
    CAL.get_or_init(|| WorkCalendar::with_bundled().unwrap_or_default())
}

/// The receiver's duty deadline for what arrived at `at` (Unix ms): 10:00 of the next working
/// day, Taipei (`None` if the calendar cannot say).
pub fn due(cal: &WorkCalendar, at: i64) -> Option<i64> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000).ok()?;
    let d = gongwen_calendar::receiver_due(cal, t).ok()?;
    i64::try_from(d.unix_timestamp_nanos() / 1_000_000).ok()
}

/// What happened in one month or day (or, as `totals`, in the whole period).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Line {
    /// `YYYY-MM`, `YYYY-MM-DD`, or 「合計」.
    pub period: String,
    /// Documents sent (submitted to the center).
    pub sent: i64,
    /// Documents received (delivered to the inbox, whatever became of them).
    pub received: i64,
    /// Of those received, signed for (簽收).
    pub confirmed: i64,
    /// Of those received, returned (退文, by a person or on arrival).
    pub returned: i64,
    /// Sent documents printed to mail on paper to a recipient that did not confirm.
    pub paper_printed: i64,
}

/// How quickly 簽收 followed delivery, over the documents received in the period and signed
/// for; hours rounded to 0.1, `null` when there are none.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConfirmTimes {
    pub count: i64,
    pub average_hours: Option<f64>,
    pub p50_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    /// Signed for by 10:00 of the working day after delivery (作業要點第 13 點).
    pub within_due: i64,
    /// `within_due ÷ count × 100`, rounded to 0.1.
    pub within_due_percent: Option<f64>,
}

/// One organisation's statistics for a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// The organisation's 機關代碼.
    pub agency: String,
    /// `YYYY-MM`.
    pub from: String,
    pub to: String,
    /// When it was computed (Unix ms).
    pub as_of: i64,
    /// Whether the bundled office calendar covers every year of the period (otherwise the
    /// duty deadlines of the uncovered years follow the weekday rule).
    pub calendar_covered: bool,
    pub months: Vec<Line>,
    /// Each day of the last month of the period.
    pub days: Vec<Line>,
    pub totals: Line,
    pub confirm: ConfirmTimes,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The value at the nearest rank of `p` percent of sorted `v`.
fn percentile(v: &[i64], p: usize) -> Option<i64> {
    let n = v.len();
    (n > 0).then(|| v[((n * p).div_ceil(100)).max(1) - 1])
}

fn confirm_times(mut delays: Vec<i64>, within_due: i64) -> ConfirmTimes {
    delays.sort_unstable();
    let n = delays.len();
    let hours = |ms: i64| round1(ms as f64 / MS_PER_HOUR);
    ConfirmTimes {
        count: n as i64,
        average_hours: (n > 0).then(|| {
            let sum: f64 = delays.iter().map(|d| *d as f64).sum();
            round1(sum / n as f64 / MS_PER_HOUR)
        }),
        p50_hours: percentile(&delays, 50).map(hours),
        p90_hours: percentile(&delays, 90).map(hours),
        within_due,
        within_due_percent: (n > 0).then(|| round1(within_due as f64 * 100.0 / n as f64)),
    }
}

/// Adds one to the line of `at`'s month and, if it falls in the last month, of its day.
struct Buckets {
    months: BTreeMap<Month, Line>,
    days: BTreeMap<time::Date, Line>,
}

impl Buckets {
    fn new(list: &[Month]) -> Buckets {
        let months = list
            .iter()
            .map(|m| {
                let line = Line {
                    period: m.iso(),
                    ..Line::default()
                };
                (*m, line)
            })
            .collect();
        let mut days = BTreeMap::new();
        if let Some(last) = list.last() {
            let mut d = last.first_day();
            while d.month() as u8 == last.month && d.year() == last.year {
                let line = Line {
                    period: d.to_string(),
                    ..Line::default()
                };
                days.insert(d, line);
                match d.next_day() {
                    Some(n) => d = n,
                    None => break,
                }
            }
        }
        Buckets { months, days }
    }

    /// Adds to the line of day `day` (days since 1970-01-01 in Taipei) and its month.
    fn add(&mut self, day: i64, f: impl Fn(&mut Line)) {
        let date = taipei_date(day * MS_PER_DAY - TAIPEI_MS + 1);
        let month = Month {
            year: date.year(),
            month: u8::from(date.month()),
        };
        if let Some(l) = self.months.get_mut(&month) {
            f(l);
        }
        if let Some(l) = self.days.get_mut(&date) {
            f(l);
        }
    }
}

/// The Taipei day (days since 1970-01-01) of a column of Unix ms, in SQL both engines run
/// (the times are after 1970, so integer division is the floor).
fn day_of(column: &str) -> String {
    format!("(({column} + {TAIPEI_MS}) / {MS_PER_DAY})")
}

/// The report of agency `agency` for `from`..=`to`, as of `now`. The counts are grouped by day
/// in the database; only the 簽收 times are read one by one (for their percentiles).
pub async fn report(
    db: &Db,
    agency: &str,
    from: Month,
    to: Month,
    now: i64,
) -> Result<Report, Refusal> {
    let list = months(from, to)?;
    let (start, end) = (from.start_ms(), to.next().start_ms());
    let range = || [agency.into(), start.into(), end.into()];
    let mut b = Buckets::new(&list);
    let day = day_of("created_at");
    let sent = db
        .fetch_all(
            &format!(
                "SELECT {day} AS d, COUNT(*) AS n FROM agent_sent WHERE agency = $1 AND state = 'submitted' \
                 AND created_at >= $2 AND created_at < $3 GROUP BY {day}"
            ),
            &range(),
        )
        .await?;
    for r in &sent {
        let n = r.i64(1)?;
        b.add(r.i64(0)?, |l| l.sent += n);
    }
    let day = day_of("received_at");
    let received = db
        .fetch_all(
            &format!(
                "SELECT {day} AS d, state, COUNT(*) AS n FROM agent_received WHERE agency = $1 \
                 AND received_at >= $2 AND received_at < $3 GROUP BY {day}, state"
            ),
            &range(),
        )
        .await?;
    for r in &received {
        let (state, n) = (r.text(1)?, r.i64(2)?);
        b.add(r.i64(0)?, |l| {
            l.received += n;
            match state.as_str() {
                "confirmed" => l.confirmed += n,
                "returned" | "quarantined" => l.returned += n,
                _ => {}
            }
        });
    }
    let confirmed = db
        .fetch_all(
            "SELECT received_at, handled_at FROM agent_received WHERE agency = $1 AND state = 'confirmed' \
             AND received_at >= $2 AND received_at < $3 AND handled_at IS NOT NULL",
            &range(),
        )
        .await?;
    let cal = calendar();
    // The deadline depends only on the day of delivery.
    let mut deadlines: std::collections::HashMap<i64, Option<i64>> = Default::default();
    let (mut delays, mut within) = (Vec::with_capacity(confirmed.len()), 0);
    for r in &confirmed {
        let (at, done) = (r.i64(0)?, r.i64(1)?);
        delays.push((done - at).max(0));
        let d = *deadlines
            .entry((at + TAIPEI_MS).div_euclid(MS_PER_DAY))
            .or_insert_with(|| due(cal, at));
        if d.is_some_and(|d| done <= d) {
            within += 1;
        }
    }
    let day = day_of("printed_at");
    let printed = db
        .fetch_all(
            &format!(
                "SELECT {day} AS d, COUNT(*) AS n FROM agent_paper_prints WHERE agency = $1 \
                 AND printed_at >= $2 AND printed_at < $3 GROUP BY {day}"
            ),
            &range(),
        )
        .await?;
    for r in &printed {
        let n = r.i64(1)?;
        b.add(r.i64(0)?, |l| l.paper_printed += n);
    }
    let months: Vec<Line> = b.months.into_values().collect();
    let mut totals = Line {
        period: "合計".into(),
        ..Line::default()
    };
    for m in &months {
        totals.sent += m.sent;
        totals.received += m.received;
        totals.confirmed += m.confirmed;
        totals.returned += m.returned;
        totals.paper_printed += m.paper_printed;
    }
    Ok(Report {
        agency: agency.to_string(),
        from: from.iso(),
        to: to.iso(),
        as_of: now,
        calendar_covered: (from.year..=to.year).all(|y| cal.covers(y)),
        months,
        days: b.days.into_values().collect(),
        totals,
        confirm: confirm_times(delays, within),
    })
}

/// Records that `by` printed sent document `id` to mail on paper.
pub async fn paper_printed(
    db: &Db,
    agency: &str,
    id: &str,
    by: &str,
    now: i64,
) -> Result<(), Refusal> {
    db.execute(
        "INSERT INTO agent_paper_prints (agency, package_id, printed_at, printed_by) VALUES ($1, $2, $3, $4)",
        &[agency.into(), id.into(), now.into(), by.into()],
    )
    .await?;
    Ok(())
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The header of the CSV export.
pub const CSV_HEADER: &str = "期間,發文數,收文數,簽收數,退文數,紙本列印數";

/// The report as CSV (UTF-8 with BOM, CRLF): the months, the total (「合計」), the days of the
/// last month, then the 簽收 times as `項目,數值` lines after an empty line.
pub fn csv(r: &Report) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    let line = |l: &Line| {
        gongwen_proto::csv::line(&[
            l.period.clone(),
            l.sent.to_string(),
            l.received.to_string(),
            l.confirmed.to_string(),
            l.returned.to_string(),
            l.paper_printed.to_string(),
        ])
    };
    for l in r
        .months
        .iter()
        .chain(std::iter::once(&r.totals))
        .chain(&r.days)
    {
        out.push_str(&line(l));
        out.push_str("\r\n");
    }
    let c = &r.confirm;
    out.push_str("\r\n項目,數值\r\n");
    for (k, v) in [
        ("count", c.count.to_string()),
        ("average_hours", opt(c.average_hours)),
        ("p50_hours", opt(c.p50_hours)),
        ("p90_hours", opt(c.p90_hours)),
        ("within_due", c.within_due.to_string()),
        ("within_due_percent", opt(c.within_due_percent)),
    ] {
        out.push_str(&gongwen_proto::csv::line(&[k.to_string(), v]));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: &str, hour: i64) -> i64 {
        let m = Month::parse(&day[..7]).unwrap().start_ms();
        m + (day[8..].parse::<i64>().unwrap() - 1) * MS_PER_DAY + hour * 3_600_000
    }

    #[test]
    fn months_are_bounded() {
        let m = |s| Month::parse(s).unwrap();
        assert_eq!(months(m("2025-01"), m("2026-12")).unwrap().len(), 24);
        let e = months(m("2024-12"), m("2026-12")).unwrap_err();
        assert_eq!(e.code, Code::BadRequest);
        assert!(period("2026-02", "2026-01", 0).is_err());
        assert!(period("x", "", 0).is_err());
        assert_eq!(
            Month::parse("2026-03").unwrap().start_ms(),
            1_772_294_400_000
        );
    }

    #[test]
    fn the_duty_deadline_is_ten_the_next_working_day() {
        let cal = calendar();
        // Friday 2026-03-06 17:00 → Monday 03-09 10:00.
        assert_eq!(due(cal, at("2026-03-06", 17)), Some(at("2026-03-09", 10)));
        assert_eq!(due(cal, at("2026-03-09", 9)), Some(at("2026-03-10", 10)));
    }

    #[test]
    fn confirm_times_take_the_nearest_rank() {
        let h = 3_600_000;
        let c = confirm_times(vec![4 * h, h, 2 * h, 3 * h], 3);
        assert_eq!(c.count, 4);
        assert_eq!(c.average_hours, Some(2.5));
        assert_eq!(c.p50_hours, Some(2.0));
        assert_eq!(c.p90_hours, Some(4.0));
        assert_eq!(c.within_due_percent, Some(75.0));
        let none = confirm_times(Vec::new(), 0);
        assert_eq!((none.average_hours, none.within_due_percent), (None, None));
    }

    #[test]
    fn the_last_month_is_cut_in_days() {
        let b = Buckets::new(&[Month::parse("2026-02").unwrap()]);
        assert_eq!(b.days.len(), 28);
        assert_eq!(b.days.values().next().unwrap().period, "2026-02-01");
    }
}
