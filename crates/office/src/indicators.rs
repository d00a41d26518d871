//! The sign-off indicators of the plan (seed 003 伍, SIGNOFF.md): per month (Taipei), per unit
//! and for the agency, what the 研考／管考 body asks each agency to report.
//!
//! - 線上簽核率 = 線上簽核件數 ÷ (收文總數 − 密件公文數 + 自創簽稿數) × 100 %;
//! - 平均處理天數 and 公文效率提升 = (before − after) ÷ before, against a "before" period;
//! - 節能: postage saved (線上會辦、電子交換、電子布告欄) in pieces × the agency's postage, and
//!   set against the days saved.
//!
//! What counts (docs/zh-TW/公文管理系統.md 〈指標〉 says the same for people):
//!
//! - a case counts in the month it was registered or created (收文、創簽／創稿), except cases
//!   returned at registration (退文), which were never taken in;
//! - 收文 are 電子收文 and 紙本收文; 密件 are cases flagged with exclusion 1 (of any origin, so
//!   the denominator is exactly the cases eligible for online sign-off);
//! - a case is closed (結案) at its last 決行 or 發文 step, when it went to 待歸檔; it counts as
//!   closed in that month if it is now 待歸檔 or 已歸檔 (a case reopened and not yet decided
//!   again is not closed); it is signed off online if it has no exclusion;
//! - processing days are calendar days in Taipei from the day of receipt (or creation) to the
//!   day of closing, a case closed the same day counting half a day;
//! - a unit is the unit the case is assigned to now (not yet assigned: the agency only).
//!
//! Each figure comes from a few grouped queries bounded to at most [`MAX_MONTHS`] months on
//! indexed time columns (migration 0016), never a scan of the whole history.

use gongwen_store::{Db, Value};
use serde::Serialize;

use crate::OfficeError;
use crate::config::IndicatorSettings;
use crate::org;

/// The month and the longest range one report covers: shared with every statistics page.
pub use gongwen_calendar::{MAX_MONTHS, Month};

/// The months from `from` to `to` inclusive; refused when reversed or longer than
/// [`MAX_MONTHS`].
pub fn months(from: Month, to: Month) -> Result<Vec<Month>, OfficeError> {
    gongwen_calendar::months(from, to).map_err(crate::bad)
}

/// What was counted, before any ratio.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// 收文總數: 電子收文 + 紙本收文.
    pub received: i64,
    /// 密件公文數: cases flagged with exclusion 1.
    pub classified: i64,
    /// 自創簽稿數: 創簽 + 創稿.
    pub self_created: i64,
    /// 線上簽核件數: closed without any exclusion.
    pub online: i64,
    /// All cases closed (online or on paper): what the average days are of.
    pub closed: i64,
    /// Their processing time in half days (a same-day case is 1, a case of n days 2n).
    pub half_days: i64,
    /// Online sign-offs that went through 會辦: a paper route between offices saved.
    pub consult_pieces: i64,
    /// 「發」 drafts sent through the exchange instead of by post.
    pub exchange_pieces: i64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.received += o.received;
        self.classified += o.classified;
        self.self_created += o.self_created;
        self.online += o.online;
        self.closed += o.closed;
        self.half_days += o.half_days;
        self.consult_pieces += o.consult_pieces;
        self.exchange_pieces += o.exchange_pieces;
    }

    /// 收文總數 − 密件公文數 + 自創簽稿數.
    pub fn denominator(&self) -> i64 {
        self.received - self.classified + self.self_created
    }

    /// 平均處理天數, unrounded.
    fn average_days(&self) -> Option<f64> {
        (self.closed > 0).then(|| self.half_days as f64 / 2.0 / self.closed as f64)
    }
}

/// The figures of one month (or the period) for the agency or one unit, rounded as shown:
/// the page, the CSV and the JSON print these same numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    #[serde(flatten)]
    pub counts: Counts,
    /// 線上簽核率 in %, to 0.1; None when the denominator is 0.
    pub online_rate: Option<f64>,
    /// 平均處理天數 to 0.01; None when nothing closed.
    pub average_days: Option<f64>,
    /// 公文效率提升 in %, to 0.1, against the before period; None without one.
    pub efficiency: Option<f64>,
    /// Pieces by the electronic bulletin board: the office has none, always 0.
    pub bulletin_pieces: i64,
    /// (consult + exchange + bulletin pieces) × postage, in NT$.
    pub postage_saved_twd: i64,
    /// 節能績效指標: postage saved ÷ (days before − days after), NT$ per day to 0.1; None
    /// without a before period or when the days did not fall.
    pub energy_ratio: Option<f64>,
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

impl Figures {
    fn of(c: Counts, postage_twd: i64, before_days: Option<f64>) -> Figures {
        let d = c.denominator();
        let rate = (d > 0).then(|| round(c.online as f64 * 100.0 / d as f64, 1));
        let after = c.average_days();
        let efficiency = match (before_days, after) {
            (Some(b), Some(a)) if b > 0.0 => Some(round((b - a) * 100.0 / b, 1)),
            _ => None,
        };
        let saved = (c.consult_pieces + c.exchange_pieces) * postage_twd;
        let energy_ratio = match (before_days, after) {
            (Some(b), Some(a)) if b - a > 0.0 => Some(round(saved as f64 / (b - a), 1)),
            _ => None,
        };
        Figures {
            counts: c,
            online_rate: rate,
            average_days: after.map(|a| round(a, 2)),
            efficiency,
            bulletin_pieces: 0,
            postage_saved_twd: saved,
            energy_ratio,
        }
    }
}

/// One line of the report: a month (None: the whole period) of the agency or a unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// `YYYY-MM`, or None for the period.
    pub month: Option<String>,
    /// The unit's id; None: the agency.
    pub unit: Option<String>,
    pub unit_name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// The before period and its average.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Before {
    pub from: String,
    pub to: String,
    pub closed: i64,
    /// None when nothing closed then.
    pub average_days: Option<f64>,
}

/// The report: the agency by month, each unit by month, and the period's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub postage_twd: i64,
    /// The plan's target for the 線上簽核率 (減紙), in %.
    pub target_percent: i64,
    pub before: Option<Before>,
    /// The agency's months in order, then its period total (month None), then for each unit
    /// (in the units' order) its months and its total; units with nothing counted are left out.
    pub lines: Vec<Line>,
}

impl Report {
    /// The agency's lines of each month, in order.
    pub fn agency_months(&self) -> impl Iterator<Item = &Line> {
        self.lines
            .iter()
            .filter(|l| l.unit.is_none() && l.month.is_some())
    }

    /// The agency's total for the period.
    pub fn agency_total(&self) -> Option<&Line> {
        self.lines
            .iter()
            .find(|l| l.unit.is_none() && l.month.is_none())
    }

    /// Each unit's total for the period.
    pub fn unit_totals(&self) -> impl Iterator<Item = &Line> {
        self.lines
            .iter()
            .filter(|l| l.unit.is_some() && l.month.is_none())
    }
}

/// Counts by (month index, unit) of `months`, from the case tables.
async fn tally(
    db: &Db,
    months: &[Month],
) -> Result<Vec<(usize, Option<String>, Counts)>, OfficeError> {
    let Some(last) = months.last() else {
        return Ok(Vec::new());
    };
    // $1 … $(n+1): the first moment of each month and the one after the last.
    let mut bounds: Vec<Value> = months.iter().map(|m| m.start_ms().into()).collect();
    bounds.push(last.next().start_ms().into());
    let end = bounds.len();
    let bucket = |col: &str| {
        let whens: String = (0..months.len())
            .map(|i| format!(" WHEN {col} < ${} THEN {i}", i + 2))
            .collect();
        format!("CAST(CASE{whens} END AS BIGINT)")
    };
    let mut out: Vec<(usize, Option<String>, Counts)> = Vec::new();
    let mut put = |m: i64, unit: Option<String>, f: &dyn Fn(&mut Counts)| {
        let m = usize::try_from(m).unwrap_or(0);
        match out.iter_mut().find(|(i, u, _)| *i == m && *u == unit) {
            Some((_, _, c)) => f(c),
            None => {
                let mut c = Counts::default();
                f(&mut c);
                out.push((m, unit, c));
            }
        }
    };

    let created = format!(
        "SELECT {} AS m, c.unit AS unit, \
         CAST(SUM(CASE WHEN c.origin IN ('exchange', 'paper') THEN 1 ELSE 0 END) AS BIGINT) AS received, \
         CAST(SUM(CASE WHEN c.origin IN ('memo', 'draft') THEN 1 ELSE 0 END) AS BIGINT) AS self_created, \
         CAST(SUM(CASE WHEN (',' || c.exclusions || ',') LIKE '%,1,%' THEN 1 ELSE 0 END) AS BIGINT) AS classified \
         FROM office_cases c WHERE c.created_at >= $1 AND c.created_at < ${end} AND c.state <> 'refused' \
         GROUP BY 1, 2",
        bucket("c.created_at")
    );
    for r in db.fetch_all(&created, &bounds).await? {
        let (received, self_created, classified) = (
            r.i64("received")?,
            r.i64("self_created")?,
            r.i64("classified")?,
        );
        put(r.i64("m")?, r.opt_text("unit")?, &|c| {
            c.received += received;
            c.self_created += self_created;
            c.classified += classified;
        });
    }

    // The closed cases from the rollup (`crate::closed`): each one's closing month, unit, days.
    let closed = format!(
        "SELECT {} AS m, k.unit AS unit, COUNT(*) AS closed, \
         CAST(SUM(k.online) AS BIGINT) AS online, \
         CAST(SUM(k.day_halves) AS BIGINT) AS half_days, \
         CAST(SUM(k.online * k.consulted) AS BIGINT) AS consulted \
         FROM office_closed k WHERE k.closed_at >= $1 AND k.closed_at < ${end} \
         GROUP BY 1, 2",
        bucket("k.closed_at")
    );
    for r in db.fetch_all(&closed, &bounds).await? {
        let (n, online, half, consulted) = (
            r.i64("closed")?,
            r.i64("online")?,
            r.i64("half_days")?,
            r.i64("consulted")?,
        );
        put(r.i64("m")?, r.opt_text("unit")?, &|c| {
            c.closed += n;
            c.online += online;
            c.half_days += half;
            c.consult_pieces += consulted;
        });
    }

    let sent = format!(
        "SELECT {} AS m, c.unit AS unit, COUNT(*) AS n \
         FROM office_dispatches d JOIN office_cases c ON c.id = d.case_id \
         WHERE d.sent_at >= $1 AND d.sent_at < ${end} GROUP BY 1, 2",
        bucket("d.sent_at")
    );
    for r in db.fetch_all(&sent, &bounds).await? {
        let n = r.i64("n")?;
        put(r.i64("m")?, r.opt_text("unit")?, &|c| {
            c.exchange_pieces += n
        });
    }
    Ok(out)
}

/// The average processing days of the agency over `months` (the before period), and how many
/// cases closed then.
async fn average_over(db: &Db, months: &[Month]) -> Result<(i64, Option<f64>), OfficeError> {
    let mut all = Counts::default();
    for (_, _, c) in tally(db, months).await? {
        all.add(&c);
    }
    Ok((all.closed, all.average_days()))
}

/// The report for `from`–`to` (at most [`MAX_MONTHS`]), with the before period when given
/// (also at most [`MAX_MONTHS`]).
pub async fn report(
    db: &Db,
    settings: &IndicatorSettings,
    from: Month,
    to: Month,
    before: Option<(Month, Month)>,
) -> Result<Report, OfficeError> {
    let range = months(from, to)?;
    let before = match before {
        Some((a, b)) => {
            let (closed, average_days) = average_over(db, &months(a, b)?).await?;
            Some(Before {
                from: a.iso(),
                to: b.iso(),
                closed,
                average_days: average_days.map(|d| round(d, 2)),
            })
        }
        None => None,
    };
    // The rounded before average, so that what is shown recomputes to what is shown.
    let before_days = before.as_ref().and_then(|b| b.average_days);
    let postage = i64::from(settings.postage_twd);
    let counted = tally(db, &range).await?;
    let units = org::units(db).await?;

    let mut lines = Vec::new();
    let mut scope = |unit: Option<&org::Unit>, keep_empty: bool| {
        let id = unit.map(|u| u.id.clone());
        let mut total = Counts::default();
        let mut months_of = Vec::new();
        for (i, m) in range.iter().enumerate() {
            let mut c = Counts::default();
            for (_, _, x) in counted
                .iter()
                .filter(|(j, u, _)| *j == i && (id.is_none() || *u == id))
            {
                c.add(x);
            }
            total.add(&c);
            months_of.push(Line {
                month: Some(m.iso()),
                unit: id.clone(),
                unit_name: unit.map(|u| u.name.clone()).unwrap_or_default(),
                figures: Figures::of(c, postage, before_days),
            });
        }
        if keep_empty || total != Counts::default() {
            lines.extend(months_of);
            lines.push(Line {
                month: None,
                unit: id.clone(),
                unit_name: unit.map(|u| u.name.clone()).unwrap_or_default(),
                figures: Figures::of(total, postage, before_days),
            });
        }
    };
    scope(None, true);
    for u in &units {
        scope(Some(u), false);
    }
    let agency_name = units
        .iter()
        .find(|u| u.depth == 0)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| "全機關".into());
    for l in lines.iter_mut().filter(|l| l.unit.is_none()) {
        l.unit_name = agency_name.clone();
    }
    Ok(Report {
        from: from.iso(),
        to: to.iso(),
        postage_twd: postage,
        target_percent: i64::from(settings.target_paper_reduction),
        before,
        lines,
    })
}

/// A CSV export (UTF-8 with BOM, CRLF): the header, then each row's cells, already written
/// (text through `gongwen_proto::csv::cell`, which quotes and defuses formulas).
pub(crate) fn csv_file(header: &str, rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(header);
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The header of the CSV export.
pub const CSV_HEADER: &str = "月份,單位代號,單位名稱,收文總數,密件公文數,自創簽稿數,線上簽核件數,線上簽核率(%),結案件數,平均處理天數,公文效率提升(%),線上會辦件數,電子交換件數,電子布告欄件數,節省郵資(元),節能績效指標(元/日)";

/// The report as CSV (UTF-8 with BOM, CRLF), one line per [`Line`]; the period total's month is
/// 「合計」 and the agency's unit id is empty.
pub fn csv(r: &Report) -> String {
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let rows = r.lines.iter().map(|l| {
        let f = &l.figures;
        let c = &f.counts;
        vec![
            l.month.clone().unwrap_or_else(|| "合計".into()),
            gongwen_proto::csv::cell(l.unit.as_deref().unwrap_or_default()),
            gongwen_proto::csv::cell(&l.unit_name),
            c.received.to_string(),
            c.classified.to_string(),
            c.self_created.to_string(),
            c.online.to_string(),
            opt(f.online_rate),
            c.closed.to_string(),
            opt(f.average_days),
            opt(f.efficiency),
            c.consult_pieces.to_string(),
            c.exchange_pieces.to_string(),
            f.bulletin_pieces.to_string(),
            f.postage_saved_twd.to_string(),
            opt(f.energy_ratio),
        ]
    });
    csv_file(CSV_HEADER, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::testing::{agency, with_db};

    /// A moment in Taipei.
    fn at(y: i32, m: u8, d: i64, h: i64, min: i64) -> i64 {
        Month { year: y, month: m }.start_ms() + (d - 1) * 86_400_000 + h * 3_600_000 + min * 60_000
    }

    async fn case(
        db: &Db,
        id: &str,
        origin: &str,
        unit: Option<&str>,
        state: &str,
        exclusions: &str,
        created: i64,
    ) {
        db.execute(
            "INSERT INTO office_cases (id, origin, subject, matter, urgency, state, unit, exclusions, created_at) VALUES ($1, $2, '主旨', '一般業務', '普通件', $3, $4, $5, $6)",
            &[id.into(), origin.into(), state.into(), unit.into(), exclusions.into(), created.into()],
        )
        .await
        .unwrap();
    }

    async fn step(db: &Db, id: &str, seq: i64, action: &str, at: i64) {
        db.execute(
            "INSERT INTO office_steps (case_id, seq, action, actor, signed, cms, cms_sha256, at) VALUES ($1, $2, $3, 'officer', $4, $4, '00', $5)",
            &[id.into(), seq.into(), action.into(), b"x".as_slice().into(), at.into()],
        )
        .await
        .unwrap();
    }

    #[test]
    fn months_are_taipei_months_and_bounded() {
        let mar = Month::parse("2026-03").unwrap();
        // 2026-03-01 00:00 Taipei = 2026-02-28T16:00:00Z.
        assert_eq!(mar.start_ms(), 1_772_294_400_000);
        assert_eq!(Month::of_ms(mar.start_ms()), mar);
        assert_eq!(Month::of_ms(mar.start_ms() - 1).iso(), "2026-02");
        assert_eq!(mar.back(12).iso(), "2025-04");
        assert_eq!(Month::parse("2026-12").unwrap().next().iso(), "2027-01");
        assert_eq!(mar.roc_short(), "115/03");
        assert!(Month::parse("2026-13").is_none() && Month::parse("26-03").is_none());
        assert_eq!(months(mar, mar).unwrap().len(), 1);
        assert_eq!(months(mar.back(24), mar).unwrap().len(), 24);
        assert!(months(mar.back(25), mar).is_err());
        assert!(months(mar, mar.back(2)).is_err());
    }

    /// March 2026, worked out by hand:
    ///
    /// | case | origin | unit | created | closing step | state | excl. | days (half) |
    /// |---|---|---|---|---|---|---|---|
    /// | c1 | 電子 | k12 | 03-02 09:00 | 決行 03-02, 發文 03-03 | 待歸檔 | – | 1 (2), 會辦, 電子發文 |
    /// | c2 | 紙本 | k12 | 03-05 09:00 | 決行 03-05 | 已歸檔 | – | ½ (1) |
    /// | c3 | 電子 | hs | 03-10 | 決行 03-12 | 已歸檔 | 1 密件 | 2 (4) |
    /// | c4 | 創簽 | k12 | 03-20 | 決行 03-25 | 待歸檔 | – | 5 (10) |
    /// | c5 | 創稿 | hs | 03-30 | – | 承辦中 | – | |
    /// | c6 | 電子 | – | 03-31 23:00 | – | 待分文 | – | |
    /// | c7 | 電子 | k12 | 03-15 | – | 已退文 | – | not counted |
    /// | c8 | 電子 | k12 | 02-27 | 決行 03-02 | 待歸檔 | – | 3 (6) |
    /// | c9 | 電子 | k12 | 04-01 00:30 | – | 承辦中 | – | April |
    /// | c10 | 電子 | k12 | 03-03 | 決行 03-04, 重辦, 決行 04-02 | 待歸檔 | – | April |
    /// | c11 | 電子 | k12 | 02-02 | 決行 02-12 | 已歸檔 | – | 10 (20), February |
    ///
    /// Agency, March: received c1 c2 c3 c6 c10 = 5; classified c3 = 1; self-created c4 c5 = 2;
    /// denominator 5 − 1 + 2 = 6; online c1 c2 c4 c8 = 4 → 66.7 %; closed 5 with 23 half days
    /// → 2.3 days. Before = February: c11 alone, 10 days → efficiency (10 − 2.3) ÷ 10 = 77 %.
    /// Postage: c1's 會辦 and c1's electronic dispatch = 2 pieces × NT$28 = 56; ratio
    /// 56 ÷ 7.7 = 7.27 → 7.3.
    /// k12: received c1 c2 c10 = 3, self-created c4 = 1, online 4 of 4 → 100 %.
    /// hs: received 1, classified 1, self-created 1, online 0 of 1 → 0 %.
    #[test]
    fn a_seeded_month_gives_the_figures_worked_out_by_hand() {
        with_db("indicators", |db| async move {
            agency(&db).await;
            let db = &db;
            case(
                db,
                "c1",
                "exchange",
                Some("k12"),
                "to_file",
                "",
                at(2026, 3, 2, 9, 0),
            )
            .await;
            step(db, "c1", 1, "register", at(2026, 3, 2, 9, 0)).await;
            step(db, "c1", 2, "decide", at(2026, 3, 2, 15, 0)).await;
            step(db, "c1", 3, "dispatch", at(2026, 3, 3, 10, 0)).await;
            db.execute(
                "INSERT INTO office_consults (case_id, position, unit, in_sequence) VALUES ('c1', 100, 'hs', 0)",
                &[],
            )
            .await
            .unwrap();
            db.execute(
                "INSERT INTO office_dispatches (case_id, doc, name, package_id, doc_number, sent_at) VALUES ('c1', 'draft-1', 'n', 'p', '1150000001', $1)",
                &[at(2026, 3, 3, 10, 0).into()],
            )
            .await
            .unwrap();
            case(
                db,
                "c2",
                "paper",
                Some("k12"),
                "filed",
                "",
                at(2026, 3, 5, 9, 0),
            )
            .await;
            step(db, "c2", 1, "decide", at(2026, 3, 5, 17, 0)).await;
            step(db, "c2", 2, "file", at(2026, 3, 9, 9, 0)).await;
            case(
                db,
                "c3",
                "exchange",
                Some("hs"),
                "filed",
                "1",
                at(2026, 3, 10, 9, 0),
            )
            .await;
            step(db, "c3", 1, "decide", at(2026, 3, 12, 9, 0)).await;
            case(
                db,
                "c4",
                "memo",
                Some("k12"),
                "to_file",
                "",
                at(2026, 3, 20, 9, 0),
            )
            .await;
            step(db, "c4", 1, "decide", at(2026, 3, 25, 9, 0)).await;
            case(
                db,
                "c5",
                "draft",
                Some("hs"),
                "with_officer",
                "",
                at(2026, 3, 30, 9, 0),
            )
            .await;
            case(
                db,
                "c6",
                "exchange",
                None,
                "registered",
                "",
                at(2026, 3, 31, 23, 0),
            )
            .await;
            case(
                db,
                "c7",
                "exchange",
                Some("k12"),
                "refused",
                "",
                at(2026, 3, 15, 9, 0),
            )
            .await;
            case(
                db,
                "c8",
                "exchange",
                Some("k12"),
                "to_file",
                "",
                at(2026, 2, 27, 9, 0),
            )
            .await;
            step(db, "c8", 1, "decide", at(2026, 3, 2, 9, 0)).await;
            case(
                db,
                "c9",
                "exchange",
                Some("k12"),
                "with_officer",
                "",
                at(2026, 4, 1, 0, 30),
            )
            .await;
            case(
                db,
                "c10",
                "exchange",
                Some("k12"),
                "to_file",
                "",
                at(2026, 3, 3, 9, 0),
            )
            .await;
            step(db, "c10", 1, "decide", at(2026, 3, 4, 9, 0)).await;
            step(db, "c10", 2, "reopen", at(2026, 3, 5, 9, 0)).await;
            step(db, "c10", 3, "decide", at(2026, 4, 2, 9, 0)).await;
            case(
                db,
                "c11",
                "exchange",
                Some("k12"),
                "filed",
                "",
                at(2026, 2, 2, 9, 0),
            )
            .await;
            step(db, "c11", 1, "decide", at(2026, 2, 12, 9, 0)).await;

            let mar = Month::parse("2026-03").unwrap();
            let feb = Month::parse("2026-02").unwrap();
            let settings = IndicatorSettings::default();
            // Rolled up as the office's daily round (or each closing step) does.
            let cal = gongwen_calendar::WorkCalendar::with_bundled().unwrap();
            crate::closed::catch_up_all(db, &cal).await.unwrap();
            let r = report(db, &settings, mar, mar, Some((feb, feb)))
                .await
                .unwrap();
            let before = r.before.clone().unwrap();
            assert_eq!((before.closed, before.average_days), (1, Some(10.0)));

            let total = r.agency_total().unwrap();
            assert_eq!(total.unit_name, "臺北市政府教育局");
            let months: Vec<&Line> = r.agency_months().collect();
            assert_eq!(months.len(), 1);
            assert_eq!(months[0].figures, total.figures);
            let f = &total.figures;
            assert_eq!(
                f.counts,
                Counts {
                    received: 5,
                    classified: 1,
                    self_created: 2,
                    online: 4,
                    closed: 5,
                    half_days: 23,
                    consult_pieces: 1,
                    exchange_pieces: 1,
                }
            );
            assert_eq!(f.counts.denominator(), 6);
            assert_eq!(f.online_rate, Some(66.7));
            assert_eq!(f.average_days, Some(2.3));
            assert_eq!(f.efficiency, Some(77.0));
            assert_eq!(f.postage_saved_twd, 56);
            assert_eq!(f.energy_ratio, Some(7.3));

            let unit = |id: &str| {
                r.unit_totals()
                    .find(|l| l.unit.as_deref() == Some(id))
                    .cloned()
                    .unwrap()
            };
            let k12 = unit("k12").figures;
            assert_eq!(
                (
                    k12.counts.received,
                    k12.counts.self_created,
                    k12.counts.online
                ),
                (3, 1, 4)
            );
            assert_eq!(k12.online_rate, Some(100.0));
            let hs = unit("hs").figures;
            assert_eq!(
                (
                    hs.counts.received,
                    hs.counts.classified,
                    hs.counts.self_created
                ),
                (1, 1, 1)
            );
            assert_eq!(hs.online_rate, Some(0.0));
            assert!(r.unit_totals().all(|l| l.unit.as_deref() != Some("edu")));

            // February alone: c8 and c11 received, c11 online → 50 %.
            let r = report(db, &settings, feb, feb, None).await.unwrap();
            let f = &r.agency_total().unwrap().figures;
            assert_eq!((f.counts.received, f.counts.online), (2, 1));
            assert_eq!(f.online_rate, Some(50.0));
            assert_eq!(f.efficiency, None);

            // An empty month: no rate rather than a division by zero.
            let jan = Month::parse("2026-01").unwrap();
            let r = report(db, &settings, jan, jan, None).await.unwrap();
            assert_eq!(r.agency_total().unwrap().figures.online_rate, None);

            let text = csv(&report(db, &settings, mar, mar, None).await.unwrap());
            assert!(text.starts_with('\u{feff}'));
            assert!(
                text.contains("\r\n2026-03,,臺北市政府教育局,5,1,2,4,66.7,5,2.3,,1,1,0,56,\r\n")
            );
        });
    }
}
