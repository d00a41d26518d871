//! 統計 of the exchange center (issue 19, 「Statistics for every layer」): documents accepted,
//! relayed and delivered per day and month; copies confirmed within the recipient's duty
//! deadline (10:00 of the next working day) or late, and those still open; returns by reason;
//! failures by cause; open and overdue copies per participant; the busiest hours.
//!
//! # How it stays fast
//!
//! Everything but the open copies is counted from the records (`events`, read by their time
//! index) into per-day counters (`center_stats_daily`, migration 0019), one Taipei day at a time:
//! a day is recomputed whole and written in one transaction, so a rollup can run again, or on
//! two centers on one PostgreSQL, without counting anything twice. A day counted more than
//! [`GRACE_MS`] after its end is closed and never counted again (the records of a closed day do
//! not change; its counters outlive the records' retention). The dashboard then sums at most
//! 24 months of counters and reads the open copies from their partial index (migration 0010).
//!
//! # What is counted
//!
//! Each figure counts records of this center, one per copy and event: 收件 (`accepted`, copies
//! accepted from a participant or relayed in by a peer center), 轉送 (`relayed`, copies handed
//! to the recipient's center), 送達 (`delivered`), 收文確認 (`confirmed`, on time when at or
//! before [`receiver_due`] of the day the copy became available), 退文 (`returned`, by the reason
//! the recipient gave), 失敗 (`failed`, by [`FailReason`]), work for other systems given up
//! (`*_dropped`) and requests refused to known callers (`error`, by error code). 公文件數
//! counts packages. The center carries sealed packages only: whether an agency also printed a
//! document for paper recipients is not known here, so there is no electronic-versus-paper
//! share (the agents and the office count that).

use std::collections::BTreeMap;

use gongwen_calendar::{WorkCalendar, receiver_due};
use gongwen_net::Refusal;
use gongwen_proto::{Code, FailReason, ReturnReason};
use gongwen_store::{Db, Value, args};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::Result;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// Taipei is UTC+8 all year.
const TAIPEI_MS: i64 = 8 * HOUR_MS;
/// The Julian day of 1970-01-01.
const EPOCH_JULIAN: i64 = 2_440_588;
/// A day counted this long after its end is closed: no transaction that took its time before
/// midnight is still open by then.
pub const GRACE_MS: i64 = 10 * 60_000;
/// The longest period a dashboard covers.
pub const MAX_MONTHS: i64 = 24;
/// The participants listed with open copies (most overdue first).
pub const MAX_PARTICIPANTS: usize = 100;

/// The Taipei day of the moment `ms`.
pub fn day_of(ms: i64) -> Date {
    from_day_number((ms + TAIPEI_MS).div_euclid(DAY_MS))
}

fn from_day_number(n: i64) -> Date {
    let julian = (n + EPOCH_JULIAN).clamp(0, i64::from(i32::MAX)) as i32;
    Date::from_julian_day(julian).unwrap_or(Date::MIN)
}

/// The moment (Unix ms) day `d` begins in Taipei.
pub fn start_ms(d: Date) -> i64 {
    (i64::from(d.to_julian_day()) - EPOCH_JULIAN) * DAY_MS - TAIPEI_MS
}

/// `YYYY-MM-DD`.
pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// `YYYY-MM`.
fn iso_month(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month() as u8)
}

/// A day written `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Option<Date> {
    let s = s.trim();
    let mut it = s.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    Date::from_calendar_date(
        y.parse().ok()?,
        time::Month::try_from(m.parse::<u8>().ok()?).ok()?,
        d.parse().ok()?,
    )
    .ok()
}

/// The first day of a month written `YYYY-MM`.
pub fn parse_month(s: &str) -> Option<Date> {
    let s = s.trim();
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    Date::from_calendar_date(
        y.parse().ok()?,
        time::Month::try_from(m.parse::<u8>().ok()?).ok()?,
        1,
    )
    .ok()
}

fn month_index(d: Date) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month() as u8) - 1
}

/// The period of a dashboard: days `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    /// The current month up to `today`.
    pub fn this_month(today: Date) -> Period {
        Period {
            from: today.replace_day(1).unwrap_or(today),
            to: today,
        }
    }

    /// Checked: `to` not before `from`, at most [`MAX_MONTHS`] months touched.
    pub fn new(from: Date, to: Date) -> Result<Period> {
        if to < from {
            return Err(Refusal::new(Code::BadRequest, "迄日早於起日"));
        }
        if month_index(to) - month_index(from) >= MAX_MONTHS {
            return Err(Refusal::new(
                Code::BadRequest,
                format!("統計期間最多 {MAX_MONTHS} 個月"),
            ));
        }
        Ok(Period { from, to })
    }

    pub fn days(&self) -> impl Iterator<Item = Date> + '_ {
        std::iter::successors(Some(self.from), |d| d.next_day()).take_while(|d| *d <= self.to)
    }
}

// ---------------------------------------------------------------------------
// The rollup
// ---------------------------------------------------------------------------

/// What one rollup did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rollup {
    /// Days counted (and written).
    pub days: u32,
    /// Days closed by this run.
    pub closed: u32,
    /// Days still to count (the run stopped at its limit): run again.
    pub pending: bool,
}

/// Counts every day not yet closed, oldest first, up to today (at most `max_days` of them).
/// Safe to run at any time and on several centers at once.
pub async fn rollup(db: &Db, cal: &WorkCalendar, now: i64, max_days: u32) -> Result<Rollup> {
    let today = day_of(now);
    let open = db
        .fetch_optional(
            "SELECT MIN(day) FROM center_stats_days WHERE closed = 0",
            &[],
        )
        .await?
        .and_then(|r| r.opt_text(0).ok().flatten())
        .and_then(|s| parse_day(&s));
    let last = db
        .fetch_optional("SELECT MAX(day) FROM center_stats_days", &[])
        .await?
        .and_then(|r| r.opt_text(0).ok().flatten())
        .and_then(|s| parse_day(&s));
    let after_last = last.and_then(|d| d.next_day());
    let start = match (open, after_last) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => db
            .fetch_optional("SELECT MIN(at) FROM events", &[])
            .await?
            .and_then(|r| r.opt_i64(0).ok().flatten())
            .map(day_of)
            .unwrap_or(today),
    };
    let mut done = Rollup::default();
    let mut day = start;
    while day <= today {
        if done.days >= max_days {
            done.pending = true;
            break;
        }
        let next = day.next_day().unwrap_or(day);
        let closing = now >= start_ms(next) + GRACE_MS;
        let counts = count_day(db, cal, day).await?;
        if write_day(db, day, &counts, closing, now).await? && closing {
            done.closed += 1;
        }
        done.days += 1;
        if next == day {
            break;
        }
        day = next;
    }
    Ok(done)
}

/// One day's counters by (metric, item).
pub type DayCounts = BTreeMap<(String, String), i64>;

/// The record kinds a day's counters come from.
const COUNTED: &str = "'accepted', 'available', 'relayed', 'delivered', 'confirmed', 'returned', 'failed', 'status_dropped', 'webhook_dropped', 'relay_dropped', 'error', 'paper_printed'";

/// Counts day `day` from its records (read outside any transaction: the writer is not held).
pub async fn count_day(db: &Db, cal: &WorkCalendar, day: Date) -> Result<DayCounts> {
    let (from, to) = (start_ms(day), start_ms(day) + DAY_MS);
    let ten = from + 10 * HOUR_MS;
    // One pass over the day's records by their time index; the copy behind a 收文確認, 退文 or
    // 失敗 is looked up by its key for when it became available and why it ended.
    let of_copy = |col: &str| {
        format!(
            "(SELECT MIN(c.{col}) FROM copies c WHERE c.package_id = e.package_id AND c.recipient = e.recipient)"
        )
    };
    let sql = format!(
        "SELECT x.kind, x.item, x.aday, x.hour, COUNT(*) AS n, SUM(x.after_ten) AS after_ten, \
         COUNT(DISTINCT x.package_id) AS docs FROM (\
           SELECT e.kind AS kind, e.package_id AS package_id, \
             CASE e.kind WHEN 'returned' THEN {ret} WHEN 'failed' THEN {fail} \
               WHEN 'error' THEN SUBSTR(e.detail, 1, 48) ELSE NULL END AS item, \
             CASE WHEN e.kind = 'confirmed' THEN (COALESCE({avail}, e.at) + {TAIPEI_MS}) / {DAY_MS} ELSE NULL END AS aday, \
             CASE WHEN e.kind = 'accepted' THEN ((e.at + {TAIPEI_MS}) / {HOUR_MS}) % 24 ELSE NULL END AS hour, \
             CASE WHEN e.at > $3 THEN 1 ELSE 0 END AS after_ten \
           FROM events e WHERE e.at >= $1 AND e.at < $2 AND e.kind IN ({COUNTED})\
         ) x GROUP BY x.kind, x.item, x.aday, x.hour",
        ret = of_copy("return_reason"),
        fail = of_copy("fail_reason"),
        avail = of_copy("available_at"),
    );
    let rows = db.fetch_all(&sql, &args![from, to, ten]).await?;
    let mut out = DayCounts::new();
    let mut add = |metric: &str, item: &str, n: i64| {
        if n != 0 {
            *out.entry((metric.to_string(), item.to_string()))
                .or_default() += n;
        }
    };
    for r in rows {
        let kind = r.text("kind")?;
        let item = r.opt_text("item")?.unwrap_or_default();
        let n = r.i64("n")?;
        match kind.as_str() {
            "accepted" => {
                add("accepted", "", n);
                add("documents", "", r.i64("docs")?);
                if let Some(h) = r.opt_i64("hour")? {
                    add("hour", &format!("{h:02}"), n);
                }
            }
            "available" | "relayed" | "delivered" => add(&kind, "", n),
            "confirmed" => {
                let after_ten = r.opt_i64("after_ten")?.unwrap_or(0);
                let late = match r.opt_i64("aday")?.map(from_day_number) {
                    Some(a) => match due_ms(cal, a) {
                        Some(due) if due < from => n,
                        Some(due) if due < to => after_ten,
                        _ => 0,
                    },
                    None => 0,
                };
                add("confirmed_on_time", "", n - late);
                add("confirmed_late", "", late);
            }
            "returned" => add("returned", &item, n),
            "failed" => add("failed", &item, n),
            "error" => add("refused", item.split(' ').next().unwrap_or_default(), n),
            "paper_printed" => add("paper", "", n),
            dropped => add("dropped", dropped, n),
        }
    }
    Ok(out)
}

/// 10:00 of the first working day after `available` (the recipient's duty), Unix ms.
fn due_ms(cal: &WorkCalendar, available: Date) -> Option<i64> {
    let noon =
        OffsetDateTime::from_unix_timestamp((start_ms(available) + 12 * HOUR_MS) / 1000).ok()?;
    receiver_due(cal, noon)
        .ok()
        .map(|t| t.unix_timestamp() * 1000)
}

/// Replaces day `day`'s counters in one transaction, unless another run closed it meanwhile.
/// Returns whether it wrote.
async fn write_day(
    db: &Db,
    day: Date,
    counts: &DayCounts,
    closing: bool,
    now: i64,
) -> Result<bool> {
    let d = iso(day);
    let mut tx = db.begin().await?;
    tx.execute(
        "INSERT INTO center_stats_days (day, closed, computed_at) VALUES ($1, 0, $2) ON CONFLICT (day) DO NOTHING",
        &args![d.as_str(), now],
    )
    .await?;
    // Two centers counting the same day take turns here.
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT closed FROM center_stats_days WHERE day = $1{}",
                db.for_update()
            ),
            &args![d.as_str()],
        )
        .await?;
    if row.map(|r| r.bool(0)).transpose()?.unwrap_or(false) {
        return Ok(false);
    }
    tx.execute(
        "DELETE FROM center_stats_daily WHERE day = $1",
        &args![d.as_str()],
    )
    .await?;
    let items: Vec<_> = counts.iter().collect();
    for chunk in items.chunks(100) {
        let mut sql = String::from("INSERT INTO center_stats_daily (day, metric, item, n) VALUES ");
        let mut a: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
        for (i, ((metric, item), n)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let k = i * 4;
            sql.push_str(&format!("(${}, ${}, ${}, ${})", k + 1, k + 2, k + 3, k + 4));
            a.extend([
                d.as_str().into(),
                metric.as_str().into(),
                item.as_str().into(),
                (**n).into(),
            ]);
        }
        tx.execute(&sql, &a).await?;
    }
    tx.execute(
        "UPDATE center_stats_days SET closed = $2, computed_at = $3 WHERE day = $1",
        &args![d.as_str(), closing, now],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

// ---------------------------------------------------------------------------
// The dashboard
// ---------------------------------------------------------------------------

/// The flow of copies over one day, one month or the whole period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// `YYYY-MM-DD`, `YYYY-MM`, or `合計`.
    pub period: String,
    /// 公文件數: packages accepted.
    pub documents: i64,
    /// 收件份數: copies accepted.
    pub accepted: i64,
    /// Copies made available to their recipient here (or reported so by its center).
    pub available: i64,
    /// 轉送份數: copies relayed to the recipient's center.
    pub relayed: i64,
    /// 送達份數.
    pub delivered: i64,
    /// 收文確認 within the recipient's duty deadline, and after it.
    pub confirmed_on_time: i64,
    pub confirmed_late: i64,
    /// 退文份數.
    pub returned: i64,
    /// 失敗份數.
    pub failed: i64,
    /// 紙本列印份數: prints for recipients not on the exchange, as the agents report them.
    pub paper: i64,
}

impl Flow {
    fn add(&mut self, metric: &str, n: i64) {
        let field = match metric {
            "documents" => &mut self.documents,
            "accepted" => &mut self.accepted,
            "available" => &mut self.available,
            "relayed" => &mut self.relayed,
            "delivered" => &mut self.delivered,
            "confirmed_on_time" => &mut self.confirmed_on_time,
            "confirmed_late" => &mut self.confirmed_late,
            "returned" => &mut self.returned,
            "failed" => &mut self.failed,
            "paper" => &mut self.paper,
            _ => return,
        };
        *field += n;
    }

    /// The figures in [`FLOW_COLUMNS`] order.
    pub fn cells(&self) -> [i64; 10] {
        [
            self.documents,
            self.accepted,
            self.relayed,
            self.available,
            self.delivered,
            self.confirmed_on_time,
            self.confirmed_late,
            self.returned,
            self.failed,
            self.paper,
        ]
    }

    /// Copies exchanged electronically of all sent (exchanged or printed on paper), in %, to
    /// 0.1; None when there were none.
    pub fn electronic_share(&self) -> Option<f64> {
        let all = self.accepted + self.paper;
        (all > 0).then(|| (self.accepted as f64 * 1000.0 / all as f64).round() / 10.0)
    }
}

/// The columns of a [`Flow`]: JSON name and zh-TW heading, in the order of [`Flow::cells`].
pub const FLOW_COLUMNS: [(&str, &str); 10] = [
    ("documents", "公文件數"),
    ("accepted", "收件份數"),
    ("relayed", "轉送份數"),
    ("available", "待收份數"),
    ("delivered", "送達份數"),
    ("confirmed_on_time", "如期確認"),
    ("confirmed_late", "逾期確認"),
    ("returned", "退文份數"),
    ("failed", "失敗份數"),
    ("paper", "紙本列印份數"),
];

/// Confirmed within the duty deadline, late, or still open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Duty {
    /// 收文確認 in the period, by 10:00 of the next working day after availability or later.
    pub confirmed_on_time: i64,
    pub confirmed_late: i64,
    /// Copies that became available in the period and are still open now (not confirmed,
    /// returned or failed), and those of them past their deadline.
    pub open: i64,
    pub open_overdue: i64,
}

/// A count under a key: a reason, a cause, an error code, an hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub key: String,
    pub label: String,
    pub n: i64,
}

/// A participant's open copies now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Open {
    pub code: String,
    pub name: String,
    /// Available or delivered, not yet confirmed or returned.
    pub open: i64,
    /// Of them, past the recipient's deadline.
    pub overdue: i64,
    /// When the oldest became available (Unix ms).
    pub oldest: i64,
}

/// The dashboard of a period: the same numbers on the page, in the CSV and in the JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    /// When the open copies were read (Unix ms).
    pub as_of: i64,
    /// When the latest of the period's days was counted (Unix ms); None: none counted yet.
    pub counted_at: Option<i64>,
    pub days: Vec<Flow>,
    pub months: Vec<Flow>,
    pub total: Flow,
    pub duty: Duty,
    pub returns: Vec<Count>,
    pub failures: Vec<Count>,
    pub refusals: Vec<Count>,
    /// Copies accepted by hour of the day (Asia/Taipei), 00 to 23.
    pub hours: Vec<Count>,
    /// Open copies now, all participants.
    pub open_now: i64,
    pub overdue_now: i64,
    /// Open copies are overdue when they became available before this moment (Unix ms).
    pub overdue_before: i64,
    /// The participants with open copies now, most overdue first (at most
    /// [`MAX_PARTICIPANTS`]).
    pub participants: Vec<Open>,
}

/// Open copies became overdue when available before the returned moment: the start of the
/// day after the last day whose deadline (10:00 of the next working day) has passed.
pub fn overdue_before(cal: &WorkCalendar, now: i64) -> i64 {
    let today = day_of(now);
    let mut day = today;
    for _ in 0..60 {
        let Some(prev) = day.previous_day() else {
            break;
        };
        if due_ms(cal, prev).is_some_and(|due| now > due) {
            return start_ms(day);
        }
        day = prev;
    }
    start_ms(day)
}

/// The open copies now, per recipient, with those available in `[from, to)`.
struct Live {
    per: Vec<Open>,
    in_period: i64,
    in_period_overdue: i64,
    before: i64,
}

async fn live(db: &Db, cal: &WorkCalendar, now: i64, from: i64, to: i64) -> Result<Live> {
    let before = overdue_before(cal, now);
    // The partial index of open copies (its condition word for word), nothing else.
    let rows = db
        .fetch_all(
            &format!(
                "SELECT c.recipient, COUNT(*) AS open, \
                 SUM(CASE WHEN c.available_at < $1 THEN 1 ELSE 0 END) AS overdue, \
                 SUM(CASE WHEN c.available_at >= $2 AND c.available_at < $3 THEN 1 ELSE 0 END) AS in_period, \
                 SUM(CASE WHEN c.available_at >= $2 AND c.available_at < $3 AND c.available_at < $1 THEN 1 ELSE 0 END) AS in_period_overdue, \
                 MIN(c.available_at) AS oldest \
                 FROM copies c WHERE {} GROUP BY c.recipient",
                crate::copies::OPEN_COPY
            ),
            &args![before, from, to],
        )
        .await?;
    let mut out = Live {
        per: Vec::with_capacity(rows.len()),
        in_period: 0,
        in_period_overdue: 0,
        before,
    };
    for r in rows {
        out.in_period += r.opt_i64("in_period")?.unwrap_or(0);
        out.in_period_overdue += r.opt_i64("in_period_overdue")?.unwrap_or(0);
        out.per.push(Open {
            code: r.text("recipient")?,
            name: String::new(),
            open: r.i64("open")?,
            overdue: r.opt_i64("overdue")?.unwrap_or(0),
            oldest: r.opt_i64("oldest")?.unwrap_or(0),
        });
    }
    Ok(out)
}

fn sorted_counts(m: BTreeMap<String, i64>, label: impl Fn(&str) -> String) -> Vec<Count> {
    let mut v: Vec<Count> = m
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(key, n)| Count {
            label: label(&key),
            key,
            n,
        })
        .collect();
    v.sort_by(|a, b| b.n.cmp(&a.n).then_with(|| a.key.cmp(&b.key)));
    v
}

/// The zh-TW name of a failure's cause.
pub fn cause_label(key: &str) -> String {
    match key {
        "" => "未註明原因".into(),
        "status_dropped" => "狀態回報其他交換中心，逾時放棄".into(),
        "webhook_dropped" => "通知參與者（webhook），逾時放棄".into(),
        "relay_dropped" => "轉送其他交換中心，逾時放棄".into(),
        k => FailReason::parse(k)
            .map(|f| f.label().to_string())
            .unwrap_or_else(|| k.to_string()),
    }
}

fn return_label(key: &str) -> String {
    match key {
        "" => "未註明原因".into(),
        k => ReturnReason::parse(k)
            .map(|r| r.label().to_string())
            .unwrap_or_else(|_| k.to_string()),
    }
}

fn refusal_label(key: &str) -> String {
    Code::parse(key)
        .map(|c| c.message().to_string())
        .unwrap_or_else(|| key.to_string())
}

/// The dashboard of `p`: the counters of its days, and the open copies now.
pub async fn report(db: &Db, cal: &WorkCalendar, now: i64, p: Period) -> Result<Report> {
    let rows = db
        .fetch_all(
            "SELECT day, metric, item, n FROM center_stats_daily WHERE day >= $1 AND day <= $2",
            &args![iso(p.from), iso(p.to)],
        )
        .await?;
    let counted_at = db
        .fetch_optional(
            "SELECT MAX(computed_at) FROM center_stats_days WHERE day >= $1 AND day <= $2",
            &args![iso(p.from), iso(p.to)],
        )
        .await?
        .and_then(|r| r.opt_i64(0).ok().flatten());
    let mut days: BTreeMap<String, Flow> = p
        .days()
        .map(|d| {
            let k = iso(d);
            (
                k.clone(),
                Flow {
                    period: k,
                    ..Flow::default()
                },
            )
        })
        .collect();
    let mut months: BTreeMap<String, Flow> = BTreeMap::new();
    for d in p.days() {
        let m = iso_month(d);
        months.entry(m.clone()).or_insert_with(|| Flow {
            period: m,
            ..Flow::default()
        });
    }
    let mut total = Flow {
        period: "合計".into(),
        ..Flow::default()
    };
    let (mut returns, mut failures, mut refusals) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut hours = [0i64; 24];
    for r in rows {
        let (day, metric, item, n) = (r.text(0)?, r.text(1)?, r.text(2)?, r.i64(3)?);
        if let Some(f) = days.get_mut(&day) {
            f.add(&metric, n);
        }
        if let Some(f) = months.get_mut(day.get(..7).unwrap_or_default()) {
            f.add(&metric, n);
        }
        total.add(&metric, n);
        match metric.as_str() {
            "returned" => *returns.entry(item).or_insert(0) += n,
            "failed" | "dropped" => *failures.entry(item).or_insert(0) += n,
            "refused" => *refusals.entry(item).or_insert(0) += n,
            "hour" => {
                if let Some(h) = item.parse::<usize>().ok().filter(|h| *h < 24) {
                    hours[h] += n;
                }
            }
            _ => {}
        }
    }
    let next = p.to.next_day().unwrap_or(p.to);
    let live = live(db, cal, now, start_ms(p.from), start_ms(next)).await?;
    let (open_now, overdue_now) = live
        .per
        .iter()
        .fold((0, 0), |(o, d), x| (o + x.open, d + x.overdue));
    let mut participants = live.per;
    participants.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then(b.open.cmp(&a.open))
            .then_with(|| a.code.cmp(&b.code))
    });
    participants.truncate(MAX_PARTICIPANTS);
    names(db, &mut participants).await?;
    Ok(Report {
        from: iso(p.from),
        to: iso(p.to),
        as_of: now,
        counted_at,
        duty: Duty {
            confirmed_on_time: total.confirmed_on_time,
            confirmed_late: total.confirmed_late,
            open: live.in_period,
            open_overdue: live.in_period_overdue,
        },
        days: days.into_values().collect(),
        months: months.into_values().collect(),
        total,
        returns: sorted_counts(returns, return_label),
        failures: sorted_counts(failures, cause_label),
        refusals: sorted_counts(refusals, refusal_label),
        hours: hours
            .iter()
            .enumerate()
            .map(|(h, n)| Count {
                key: format!("{h:02}"),
                label: format!("{h:02} 時"),
                n: *n,
            })
            .collect(),
        open_now,
        overdue_now,
        overdue_before: live.before,
        participants,
    })
}

/// Fills in the participants' names.
async fn names(db: &Db, list: &mut [Open]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let marks: Vec<String> = (1..=list.len()).map(|i| format!("${i}")).collect();
    let a: Vec<Value> = list.iter().map(|o| o.code.as_str().into()).collect();
    let rows = db
        .fetch_all(
            &format!(
                "SELECT code, name FROM participants WHERE code IN ({})",
                marks.join(", ")
            ),
            &a,
        )
        .await?;
    let mut by_code = BTreeMap::new();
    for r in rows {
        by_code.insert(r.text(0)?, r.text(1)?);
    }
    for o in list {
        o.name = by_code.get(&o.code).cloned().unwrap_or_default();
    }
    Ok(())
}

/// What `/metrics` shows of the statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gauges {
    pub open: i64,
    pub overdue: i64,
    /// Copies accepted today, as of the last rollup.
    pub accepted_today: i64,
}

pub async fn gauges(db: &Db, cal: &WorkCalendar, now: i64) -> Result<Gauges> {
    let today = start_ms(day_of(now));
    let live = live(db, cal, now, today, today + DAY_MS).await?;
    let accepted_today = db
        .fetch_optional(
            "SELECT n FROM center_stats_daily WHERE day = $1 AND metric = 'accepted' AND item = ''",
            &args![iso(day_of(now))],
        )
        .await?
        .map(|r| r.i64(0))
        .transpose()?
        .unwrap_or(0);
    Ok(Gauges {
        open: live.per.iter().map(|o| o.open).sum(),
        overdue: live.per.iter().map(|o| o.overdue).sum(),
        accepted_today,
    })
}

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

/// The header of the CSV export.
pub const CSV_HEADER: &str = "區段,期間,項目,名稱,數量";

/// The report as CSV (UTF-8 with BOM, CRLF), one number a line: 區段 `day`, `month` and
/// `total` (期間 the day, month or 合計; 項目 a [`FLOW_COLUMNS`] name), `duty` (項目
/// confirmed_on_time, confirmed_late, open, open_overdue), `returned`, `failed`, `refused`,
/// `hour` (項目 the key, 名稱 its label), `now` (open, overdue) and `open` / `overdue` (項目
/// the participant's code, 名稱 its name).
pub fn csv(r: &Report) -> String {
    use gongwen_proto::csv::cell;
    let mut out = String::from("\u{feff}");
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    let mut line = |section: &str, period: &str, item: &str, name: &str, n: i64| {
        out.push_str(&format!(
            "{section},{},{},{},{n}\r\n",
            cell(period),
            cell(item),
            cell(name)
        ));
    };
    for (section, flows) in [
        ("day", &r.days[..]),
        ("month", &r.months[..]),
        ("total", std::slice::from_ref(&r.total)),
    ] {
        for f in flows {
            for ((key, label), n) in FLOW_COLUMNS.iter().zip(f.cells()) {
                line(section, &f.period, key, label, n);
            }
        }
    }
    let d = &r.duty;
    for (key, label, n) in [
        ("confirmed_on_time", "如期確認", d.confirmed_on_time),
        ("confirmed_late", "逾期確認", d.confirmed_late),
        ("open", "尚未確認", d.open),
        ("open_overdue", "尚未確認且已逾期", d.open_overdue),
    ] {
        line("duty", "", key, label, n);
    }
    for (section, list) in [
        ("returned", &r.returns),
        ("failed", &r.failures),
        ("refused", &r.refusals),
        ("hour", &r.hours),
    ] {
        for c in list {
            line(section, "", &c.key, &c.label, c.n);
        }
    }
    line("now", "", "open", "目前未確認份數", r.open_now);
    line("now", "", "overdue", "目前逾期未確認份數", r.overdue_now);
    for p in &r.participants {
        line("open", "", &p.code, &p.name, p.open);
        line("overdue", "", &p.code, &p.name, p.overdue);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
    }

    #[test]
    fn taipei_days() {
        // 2026-01-05 00:00 Taipei is 2026-01-04 16:00 UTC.
        let start = 1_767_542_400_000;
        assert_eq!(start_ms(date(2026, 1, 5)), start);
        assert_eq!(day_of(start), date(2026, 1, 5));
        assert_eq!(day_of(start - 1), date(2026, 1, 4));
        assert_eq!(iso(date(2026, 1, 5)), "2026-01-05");
        assert_eq!(parse_day("2026-01-05"), Some(date(2026, 1, 5)));
        assert_eq!(parse_day("2026-1-5"), None);
        assert_eq!(parse_day("2026-02-30"), None);
        assert_eq!(parse_month("2026-02"), Some(date(2026, 2, 1)));
        assert_eq!(parse_month("2026-13"), None);
    }

    #[test]
    fn periods_are_bounded() {
        assert!(Period::new(date(2024, 1, 1), date(2025, 12, 31)).is_ok());
        let long = Period::new(date(2024, 1, 1), date(2026, 1, 1)).unwrap_err();
        assert!(long.detail.contains("最多 24 個月"), "{}", long.detail);
        assert!(Period::new(date(2026, 2, 1), date(2026, 1, 31)).is_err());
        let p = Period::new(date(2026, 1, 30), date(2026, 2, 2)).unwrap();
        assert_eq!(p.days().count(), 4);
    }

    #[test]
    fn overdue_after_the_next_working_morning() {
        let cal = WorkCalendar::new();
        // Tuesday 2026-03-10 09:00 Taipei: Monday's copies are due at 10:00 today, not yet
        // overdue; the weekend's and Friday's (due Monday 10:00) are.
        let tue9 = start_ms(date(2026, 3, 10)) + 9 * HOUR_MS;
        assert_eq!(overdue_before(&cal, tue9), start_ms(date(2026, 3, 9)));
        // At 10:00:00.001 Monday's are overdue too.
        let tue10 = start_ms(date(2026, 3, 10)) + 10 * HOUR_MS + 1;
        assert_eq!(overdue_before(&cal, tue10), start_ms(date(2026, 3, 10)));
        // Monday 09:00: Friday's (due Monday 10:00) are not yet overdue; Thursday's are.
        let mon9 = start_ms(date(2026, 3, 9)) + 9 * HOUR_MS;
        assert_eq!(overdue_before(&cal, mon9), start_ms(date(2026, 3, 6)));
    }
}
