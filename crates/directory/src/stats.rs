//! 統計 of the management layer: participants by kind, state and center; applications received
//! and decided per month with their review times (送件 → 初審 → 複審／決定, in working days of
//! the government office calendar); suspensions and terminations per month; certificates that
//! expire within 30, 60 and 90 days. The page, the CSV and the JSON show the same [`Report`];
//! `/metrics` shows the current counts as Prometheus gauges.
//!
//! Everything is read from the registry and the directory's log within the period asked for
//! (at most [`MAX_MONTHS`] months), through the indexes of migration 0018.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::OnceLock;

use gongwen_calendar::WorkCalendar;
use gongwen_proto::directory::{ParticipantKind, ParticipantState};
use gongwen_store::Db;
use serde::Serialize;

use crate::error::{Result, bad, internal};

/// The month and the longest period a report covers: shared with every statistics page.
pub use gongwen_calendar::{MAX_MONTHS, Month};

const MS_PER_DAY: i64 = 86_400_000;
const TAIPEI_MS: i64 = 8 * 3_600_000;
/// The Julian day of 1970-01-01.
const UNIX_EPOCH_JULIAN: i64 = 2_440_588;

/// The months from `from` to `to` inclusive; refused (`E_BAD_REQUEST`) when reversed or longer
/// than [`MAX_MONTHS`].
pub fn months(from: Month, to: Month) -> Result<Vec<Month>> {
    gongwen_calendar::months(from, to).map_err(bad)
}

/// The period of a request: `from` and `to` as `YYYY-MM` (either may be empty: the last 12
/// months up to this one). Refused with `E_BAD_REQUEST` and a zh-TW sentence.
pub fn period(from: &str, to: &str, now_ms: i64) -> Result<(Month, Month)> {
    gongwen_calendar::period(from, to, now_ms).map_err(bad)
}

fn taipei_date(ms: i64) -> time::Date {
    let days = (ms + TAIPEI_MS).div_euclid(MS_PER_DAY);
    i32::try_from(days + UNIX_EPOCH_JULIAN)
        .ok()
        .and_then(|j| time::Date::from_julian_day(j).ok())
        .unwrap_or(time::Date::MIN)
}

/// The government office calendar bundled with Gongwen.
pub fn calendar() -> &'static WorkCalendar {
    static CAL: OnceLock<WorkCalendar> = OnceLock::new();
    CAL.get_or_init(|| WorkCalendar::with_bundled().unwrap_or_default())
}

/// Working days from `start` to `end` (Unix ms): those after the day of `start` up to and
/// including the day of `end`, in Taipei; 0 when both fall on one day.
pub fn working_days(cal: &WorkCalendar, start: i64, end: i64) -> u32 {
    let (a, b) = (taipei_date(start), taipei_date(end));
    match a.next_day() {
        Some(next) if next <= b => cal.count_working_days(next, b),
        _ => 0,
    }
}

/// One count of a breakdown.
#[derive(Debug, Clone, Serialize)]
pub struct Count {
    /// The code word (`agency`, `active`, a center's id).
    pub key: String,
    /// As people read it.
    pub label: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Participants {
    pub total: i64,
    pub by_kind: Vec<Count>,
    pub by_state: Vec<Count>,
    pub by_center: Vec<Count>,
}

/// What happened in one month (or, as `totals`, in the whole period).
#[derive(Debug, Clone, Default, Serialize)]
pub struct MonthRow {
    /// `YYYY-MM`, or 「合計」.
    pub month: String,
    /// Applications received (first submitted).
    pub received: i64,
    /// Applications decided: activated (開通) or rejected (不同意).
    pub decided: i64,
    pub activated: i64,
    pub rejected: i64,
    /// Participants suspended (暫停) and terminated (中止).
    pub suspended: i64,
    pub terminated: i64,
}

/// Durations in working days: how many, their average and 90th percentile (nearest rank),
/// rounded to 0.1; `null` when there are none.
#[derive(Debug, Clone, Serialize)]
pub struct Durations {
    pub count: i64,
    pub average: Option<f64>,
    pub p90: Option<f64>,
}

impl Durations {
    pub fn of(mut v: Vec<u32>) -> Durations {
        v.sort_unstable();
        let n = v.len();
        if n == 0 {
            return Durations {
                count: 0,
                average: None,
                p90: None,
            };
        }
        let sum: f64 = v.iter().map(|d| f64::from(*d)).sum();
        let rank = (n * 9).div_ceil(10).max(1);
        Durations {
            count: n as i64,
            average: Some(round1(sum / n as f64)),
            p90: Some(f64::from(v[rank - 1])),
        }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Review times of the applications decided in the period.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewTimes {
    /// 送件 → 初審同意.
    pub first: Durations,
    /// 初審同意 → 複審同意（開通）.
    pub second: Durations,
    /// 送件 → 決定（開通或不同意）.
    pub total: Durations,
}

impl ReviewTimes {
    /// Each stage with its name, as the page lists them.
    pub fn stages(&self) -> [(&'static str, &Durations); 3] {
        [
            ("送件至初審同意", &self.first),
            ("初審同意至複審開通", &self.second),
            ("送件至決定", &self.total),
        ]
    }
}

/// A certificate that expires soon.
#[derive(Debug, Clone, Serialize)]
pub struct Expiring {
    pub code: String,
    pub name: String,
    /// `tls`, `signing` or `encryption`.
    pub usage: String,
    /// Unix ms.
    pub not_after: i64,
    /// Whole days left (rounded down).
    pub days_left: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Certificates {
    pub within_30: i64,
    pub within_60: i64,
    pub within_90: i64,
    /// Those within 90 days, soonest first (at most [`MAX_EXPIRING`]).
    pub expiring: Vec<Expiring>,
}

/// The most expiring certificates listed.
pub const MAX_EXPIRING: i64 = 1000;

/// The directory's statistics for a period.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `YYYY-MM`.
    pub from: String,
    pub to: String,
    /// When it was computed (Unix ms).
    pub as_of: i64,
    /// Whether the bundled office calendar covers every year of the period (otherwise working
    /// days of the uncovered years follow the weekday rule, and the page says so).
    pub calendar_covered: bool,
    /// Now, not in the period.
    pub participants: Participants,
    pub months: Vec<MonthRow>,
    pub totals: MonthRow,
    pub review_days: ReviewTimes,
    /// Now, not in the period.
    pub certificates: Certificates,
}

fn kind_label(k: &str) -> String {
    ParticipantKind::parse(k).map_or_else(|| k.to_string(), |k| k.label().to_string())
}

fn state_label(s: &str) -> String {
    ParticipantState::parse(s).map_or_else(|| s.to_string(), |s| s.label().to_string())
}

async fn counts(db: &Db, column: &str, label: fn(&str) -> String) -> Result<Vec<Count>> {
    let sql = format!(
        "SELECT {column} AS k, COUNT(*) AS n FROM dir_participants GROUP BY {column} ORDER BY {column}"
    );
    let rows = db.fetch_all(&sql, &[]).await?;
    rows.iter()
        .map(|r| {
            let key = r.text("k")?;
            Ok(Count {
                label: label(&key),
                count: r.i64("n")?,
                key,
            })
        })
        .collect()
}

pub async fn participants(db: &Db) -> Result<Participants> {
    let by_kind = counts(db, "kind", kind_label).await?;
    let by_state = counts(db, "state", state_label).await?;
    let names: BTreeMap<String, String> = crate::registry::centers(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut by_center = counts(db, "center", |c| c.to_string()).await?;
    for c in &mut by_center {
        if let Some(n) = names.get(&c.key) {
            c.label = n.clone();
        }
    }
    Ok(Participants {
        total: by_state.iter().map(|c| c.count).sum(),
        by_kind,
        by_state,
        by_center,
    })
}

/// Certificates of participants still in the exchange (正常 or 暫停) that expire within 90
/// days of `now`.
pub async fn certificates(db: &Db, now: i64) -> Result<Certificates> {
    let rows = db
        .fetch_all(
            "SELECT c.code AS code, p.name AS name, c.usage AS usage, c.not_after AS not_after \
             FROM dir_certs c JOIN dir_participants p ON p.code = c.code \
             WHERE p.state IN ('active', 'suspended') AND c.not_after >= $1 AND c.not_after < $2 \
             ORDER BY c.not_after, c.code, c.usage",
            &[now.into(), (now + 90 * MS_PER_DAY).into()],
        )
        .await?;
    let mut out = Certificates {
        within_30: 0,
        within_60: 0,
        within_90: 0,
        expiring: Vec::new(),
    };
    for r in &rows {
        let not_after = r.i64("not_after")?;
        let left = not_after - now;
        out.within_90 += 1;
        if left < 60 * MS_PER_DAY {
            out.within_60 += 1;
        }
        if left < 30 * MS_PER_DAY {
            out.within_30 += 1;
        }
        if (out.expiring.len() as i64) < MAX_EXPIRING {
            out.expiring.push(Expiring {
                code: r.text("code")?,
                name: r.text("name")?,
                usage: r.text("usage")?,
                not_after,
                days_left: left.div_euclid(MS_PER_DAY),
            });
        }
    }
    Ok(out)
}

/// The report of `from`..=`to` as of `now`.
pub async fn report(db: &Db, from: Month, to: Month, now: i64) -> Result<Report> {
    let list = months(from, to)?;
    let (start, end) = (from.start_ms(), to.next().start_ms());
    let mut by_month: BTreeMap<Month, MonthRow> = list
        .iter()
        .map(|m| {
            (
                *m,
                MonthRow {
                    month: m.iso(),
                    ..MonthRow::default()
                },
            )
        })
        .collect();
    let received = db
        .fetch_all(
            "SELECT created_at FROM dir_applications WHERE created_at >= $1 AND created_at < $2",
            &[start.into(), end.into()],
        )
        .await?;
    for r in &received {
        if let Some(row) = by_month.get_mut(&Month::of_ms(r.i64(0)?)) {
            row.received += 1;
        }
    }
    let events = db
        .fetch_all(
            "SELECT action, at FROM directory_log WHERE action IN \
             ('application.activated', 'application.rejected', 'participant.suspended', 'participant.terminated') \
             AND at >= $1 AND at < $2",
            &[start.into(), end.into()],
        )
        .await?;
    for r in &events {
        let Some(row) = by_month.get_mut(&Month::of_ms(r.i64("at")?)) else {
            continue;
        };
        match r.text("action")?.as_str() {
            "application.activated" => {
                row.activated += 1;
                row.decided += 1;
            }
            "application.rejected" => {
                row.rejected += 1;
                row.decided += 1;
            }
            "participant.suspended" => row.suspended += 1,
            "participant.terminated" => row.terminated += 1,
            _ => {}
        }
    }
    let months: Vec<MonthRow> = by_month.into_values().collect();
    let mut totals = MonthRow {
        month: "合計".into(),
        ..MonthRow::default()
    };
    for m in &months {
        totals.received += m.received;
        totals.decided += m.decided;
        totals.activated += m.activated;
        totals.rejected += m.rejected;
        totals.suspended += m.suspended;
        totals.terminated += m.terminated;
    }
    let cal = calendar();
    let calendar_covered = (from.year..=to.year).all(|y| cal.covers(y));
    Ok(Report {
        from: from.iso(),
        to: to.iso(),
        as_of: now,
        calendar_covered,
        participants: participants(db).await?,
        months,
        totals,
        review_days: review_times(db, cal, start, end).await?,
        certificates: certificates(db, now).await?,
    })
}

/// The steps of each application decided in `start..end`, from the log.
async fn review_times(db: &Db, cal: &WorkCalendar, start: i64, end: i64) -> Result<ReviewTimes> {
    let rows = db
        .fetch_all(
            "SELECT subject, action, MIN(at) AS at FROM directory_log \
             WHERE subject IN (SELECT subject FROM directory_log WHERE action IN ('application.activated', 'application.rejected') AND at >= $1 AND at < $2) \
             AND action IN ('application.submitted', 'application.first_approved', 'application.activated', 'application.rejected') \
             GROUP BY subject, action",
            &[start.into(), end.into()],
        )
        .await?;
    #[derive(Default)]
    struct Steps {
        submitted: Option<i64>,
        first: Option<i64>,
        decided: Option<i64>,
        activated: bool,
    }
    let mut apps: BTreeMap<String, Steps> = BTreeMap::new();
    for r in &rows {
        let s = apps.entry(r.text("subject")?).or_default();
        let at = Some(r.i64("at")?);
        match r.text("action")?.as_str() {
            "application.submitted" => s.submitted = at,
            "application.first_approved" => s.first = at,
            "application.activated" => {
                s.decided = at;
                s.activated = true;
            }
            "application.rejected" => s.decided = at,
            other => return Err(internal(format!("未預期的紀錄「{other}」"))),
        }
    }
    let (mut first, mut second, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for s in apps.values() {
        let Some(decided) = s.decided else { continue };
        if let Some(sub) = s.submitted {
            total.push(working_days(cal, sub, decided));
            if let Some(f) = s.first {
                first.push(working_days(cal, sub, f));
            }
        }
        if let (Some(f), true) = (s.first, s.activated) {
            second.push(working_days(cal, f, decided));
        }
    }
    Ok(ReviewTimes {
        first: Durations::of(first),
        second: Durations::of(second),
        total: Durations::of(total),
    })
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The header of the CSV export.
pub const CSV_HEADER: &str = "區段,項目,數值";

/// The report as CSV (UTF-8 with BOM, CRLF): one line per figure, `區段,項目,數值`, in the
/// order of the JSON; an empty value where the JSON has `null`.
pub fn csv(r: &Report) -> String {
    let mut rows: Vec<[String; 3]> = Vec::new();
    let mut put = |section: &str, item: &str, value: String| {
        rows.push([section.to_string(), item.to_string(), value]);
    };
    put("期間", "from", r.from.clone());
    put("期間", "to", r.to.clone());
    put("參與者", "total", r.participants.total.to_string());
    for c in &r.participants.by_kind {
        put("參與者依種類", &c.key, c.count.to_string());
    }
    for c in &r.participants.by_state {
        put("參與者依狀態", &c.key, c.count.to_string());
    }
    for c in &r.participants.by_center {
        put("參與者依交換中心", &c.key, c.count.to_string());
    }
    for m in r.months.iter().chain(std::iter::once(&r.totals)) {
        put("收件", &m.month, m.received.to_string());
        put("決定", &m.month, m.decided.to_string());
        put("開通", &m.month, m.activated.to_string());
        put("不同意", &m.month, m.rejected.to_string());
        put("暫停", &m.month, m.suspended.to_string());
        put("中止", &m.month, m.terminated.to_string());
    }
    for (stage, d) in [
        ("初審", &r.review_days.first),
        ("複審", &r.review_days.second),
        ("全程", &r.review_days.total),
    ] {
        put(
            &format!("審核工作天數：{stage}"),
            "count",
            d.count.to_string(),
        );
        put(&format!("審核工作天數：{stage}"), "average", opt(d.average));
        put(&format!("審核工作天數：{stage}"), "p90", opt(d.p90));
    }
    let c = &r.certificates;
    put("憑證到期", "within_30", c.within_30.to_string());
    put("憑證到期", "within_60", c.within_60.to_string());
    put("憑證到期", "within_90", c.within_90.to_string());
    let mut out = String::from("\u{feff}");
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&gongwen_proto::csv::line(&row));
        out.push_str("\r\n");
    }
    out
}

/// The current counts as Prometheus gauges (text format 0.0.4).
pub async fn gauges(db: &Db, now: i64) -> Result<String> {
    let p = participants(db).await?;
    let c = certificates(db, now).await?;
    let pending = db
        .fetch_all(
            "SELECT state, COUNT(*) AS n FROM dir_applications WHERE state IN ('submitted', 'first_approved', 'correction') GROUP BY state ORDER BY state",
            &[],
        )
        .await?;
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, label: &str, values: &[(String, i64)]| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (k, v) in values {
            if label.is_empty() {
                let _ = writeln!(out, "{name} {v}");
            } else {
                let _ = writeln!(out, "{name}{{{label}=\"{}\"}} {v}", escape(k));
            }
        }
    };
    let pairs = |cs: &[Count]| -> Vec<(String, i64)> {
        cs.iter().map(|c| (c.key.clone(), c.count)).collect()
    };
    gauge(
        "gongwen_directory_participants_by_state",
        "Participants by state",
        "state",
        &pairs(&p.by_state),
    );
    gauge(
        "gongwen_directory_participants_by_kind",
        "Participants by kind",
        "kind",
        &pairs(&p.by_kind),
    );
    gauge(
        "gongwen_directory_participants_by_center",
        "Participants by center",
        "center",
        &pairs(&p.by_center),
    );
    let mut waiting = Vec::new();
    for r in &pending {
        waiting.push((r.text("state")?, r.i64("n")?));
    }
    gauge(
        "gongwen_directory_applications_open",
        "Applications waiting for review or correction",
        "state",
        &waiting,
    );
    gauge(
        "gongwen_directory_certificates_expiring",
        "Certificates of participants in the exchange expiring within the days",
        "within_days",
        &[
            ("30".into(), c.within_30),
            ("60".into(), c.within_60),
            ("90".into(), c.within_90),
        ],
    );
    Ok(out)
}

/// A label value in the text format.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_bounded_and_ordered() {
        let m = |s| Month::parse(s).unwrap();
        assert_eq!(months(m("2026-01"), m("2026-12")).unwrap().len(), 12);
        assert_eq!(months(m("2025-01"), m("2026-12")).unwrap().len(), 24);
        let long = months(m("2024-12"), m("2026-12")).unwrap_err();
        assert_eq!(long.code.as_str(), "E_BAD_REQUEST");
        assert!(long.detail.contains("24"), "{}", long.detail);
        assert!(months(m("2026-02"), m("2026-01")).is_err());
        assert_eq!(Month::parse("2026-13"), None);
        assert_eq!(Month::parse("26-01"), None);
        assert_eq!(m("2026-03").back(12), m("2025-04"));
        assert_eq!(m("2026-12").next(), m("2027-01"));
    }

    #[test]
    fn a_month_starts_at_midnight_in_taipei() {
        // 2026-03-01 00:00 +08:00 = 2026-02-28 16:00 UTC.
        assert_eq!(
            Month::parse("2026-03").unwrap().start_ms(),
            1_772_294_400_000
        );
        assert_eq!(Month::of_ms(1_772_294_400_000).iso(), "2026-03");
        assert_eq!(Month::of_ms(1_772_294_399_999).iso(), "2026-02");
        assert_eq!(Month::parse("2026-03").unwrap().roc(), "115年3月");
    }

    #[test]
    fn a_period_left_out_is_the_last_twelve_months() {
        let now = Month::parse("2026-03").unwrap().start_ms() + 1;
        let (f, t) = period("", "", now).unwrap();
        assert_eq!((f.iso(), t.iso()), ("2025-04".into(), "2026-03".into()));
        assert_eq!(
            period("2026-x", "", now).unwrap_err().code.as_str(),
            "E_BAD_REQUEST"
        );
        assert!(period("2020-01", "2026-01", now).is_err());
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        let cal = calendar();
        let at = |d: &str, h: i64| {
            let m = Month::parse(&d[..7]).unwrap().start_ms();
            m + (d[8..].parse::<i64>().unwrap() - 1) * MS_PER_DAY + h * 3_600_000
        };
        // Friday 2026-03-06 → Monday 03-09: one working day; the same day: none.
        assert_eq!(
            working_days(cal, at("2026-03-06", 9), at("2026-03-09", 9)),
            1
        );
        assert_eq!(
            working_days(cal, at("2026-03-06", 9), at("2026-03-06", 17)),
            0
        );
        // Thursday 2026-02-12 → Monday 02-23 spans the Lunar New Year holidays.
        let across = working_days(cal, at("2026-02-12", 9), at("2026-02-23", 9));
        assert!(across < 7, "{across}");
    }

    #[test]
    fn the_90th_percentile_is_the_nearest_rank() {
        let d = Durations::of(vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!((d.count, d.average, d.p90), (10, Some(5.5), Some(9.0)));
        let d = Durations::of(vec![3]);
        assert_eq!((d.average, d.p90), (Some(3.0), Some(3.0)));
        assert_eq!(Durations::of(vec![]).average, None);
    }
}
