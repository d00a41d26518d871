//! 時效統計 (issue 19, SIGNOFF.md 時效): per month (Taipei), unit and 速別, how many cases were
//! closed, how many on time (closing day ≤ 限辦日期) and late, and their average working days.
//!
//! What counts (docs/zh-TW/公文管理系統.md 〈時效管制〉 says the same for people):
//!
//! - a case is closed as in [`crate::indicators`]: its last 決行 or 發文 step, now 待歸檔 or
//!   已歸檔, counted in the month of that step;
//! - its 速別 row is 最速件, 速件 or 普通件 (an unknown 速別 is 普通件), or 限期 and 專案管制
//!   when its deadline was set so;
//! - its deadline is the stored 限辦日期, or for a case from before time control was stored
//!   the one its 速別 gives ([`timing::due_of`], as the worklists show); a case whose deadline
//!   falls in a year without a calendar has none and is counted apart (無限辦日期);
//! - working days are counted on the office calendar from the day after receipt (or creation)
//!   to the closing day; a case closed on its day of receipt, or with no working day between,
//!   counts half a day;
//! - a unit is the unit the case is assigned to now (not yet assigned: the agency only).
//!
//! One query over the closing steps of the period, bounded to at most
//! [`indicators::MAX_MONTHS`] months on the indexed step time.

use std::collections::BTreeMap;

use gongwen_calendar::WorkCalendar;
use gongwen_store::Db;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::OfficeError;

use crate::indicators::{self, Month, csv_file};
use crate::org;
use crate::timing;

/// The row a closed case counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speed {
    /// 最速件: 1 working day.
    Fastest,
    /// 速件: 3 working days.
    Fast,
    /// 普通件: 6 working days.
    Ordinary,
    /// 限期公文: the date the document sets.
    Fixed,
    /// 專案管制: the case's own date.
    Project,
}

impl Speed {
    /// In the order the tables list them.
    pub const ALL: [Speed; 5] = [
        Speed::Fastest,
        Speed::Fast,
        Speed::Ordinary,
        Speed::Fixed,
        Speed::Project,
    ];

    /// Its name in the rollup (`office_closed.speed`) and the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Speed::Fastest => "fastest",
            Speed::Fast => "fast",
            Speed::Ordinary => "ordinary",
            Speed::Fixed => "fixed",
            Speed::Project => "project",
        }
    }

    pub fn parse(s: &str) -> Option<Speed> {
        Speed::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Speed::Fastest => "最速件",
            Speed::Fast => "速件",
            Speed::Ordinary => "普通件",
            Speed::Fixed => "限期",
            Speed::Project => "專案管制",
        }
    }

    /// By the deadline's kind first (限期, 專案管制), else by 速別.
    pub fn of(urgency: &str, deadline_kind: Option<&str>) -> Speed {
        match deadline_kind.and_then(timing::DeadlineKind::parse) {
            Some(timing::DeadlineKind::Fixed) => Speed::Fixed,
            Some(timing::DeadlineKind::Project) => Speed::Project,
            _ => match urgency.trim() {
                "最速件" => Speed::Fastest,
                "速件" => Speed::Fast,
                _ => Speed::Ordinary,
            },
        }
    }
}

/// What was counted, before any ratio.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// 結案件數.
    pub closed: i64,
    /// Closed on or before the deadline.
    pub on_time: i64,
    /// Closed after it.
    pub late: i64,
    /// Closed with no deadline known (its year has no calendar): neither on time nor late.
    pub no_due: i64,
    /// Working days in halves: a same-day case 1, a case of n working days 2n.
    pub half_days: i64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.closed += o.closed;
        self.on_time += o.on_time;
        self.late += o.late;
        self.no_due += o.no_due;
        self.half_days += o.half_days;
    }
}

/// The figures of a line, rounded as shown: the page, the CSV and the JSON print these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    #[serde(flatten)]
    pub counts: Counts,
    /// 如期率: on time ÷ (on time + late) in %, to 0.1; None when none has a deadline.
    pub on_time_rate: Option<f64>,
    /// 平均處理天數 in working days, to 0.01; None when nothing closed.
    pub average_days: Option<f64>,
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

impl Figures {
    fn of(c: Counts) -> Figures {
        let judged = c.on_time + c.late;
        Figures {
            counts: c,
            on_time_rate: (judged > 0).then(|| round(c.on_time as f64 * 100.0 / judged as f64, 1)),
            average_days: (c.closed > 0)
                .then(|| round(c.half_days as f64 / 2.0 / c.closed as f64, 2)),
        }
    }
}

/// One line: a month (None: the period) of the agency or a unit, for one 速別 (None: all).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// `YYYY-MM`, or None for the period.
    pub month: Option<String>,
    /// The unit's id; None: the agency.
    pub unit: Option<String>,
    pub unit_name: String,
    /// None: all 速別 together.
    pub speed: Option<Speed>,
    /// 「最速件」…「專案管制」, or 「合計」.
    pub speed_name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// The report of a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// 機關代碼 and name (the office's `[office.agency]`), so that exports of several
    /// agencies can be put side by side ([`merge`]).
    #[serde(default)]
    pub agency: String,
    pub from: String,
    pub to: String,
    /// For the agency, then each unit with anything closed (in the units' order): for each
    /// month and then the period (month None), the five 速別 and their total (speed None).
    pub lines: Vec<Line>,
}

impl Report {
    /// The agency's lines of the period: each 速別, then the total.
    pub fn agency_period(&self) -> impl Iterator<Item = &Line> {
        self.lines
            .iter()
            .filter(|l| l.unit.is_none() && l.month.is_none())
    }

    /// The agency's total (all 速別) of each month, in order.
    pub fn agency_months(&self) -> impl Iterator<Item = &Line> {
        self.lines
            .iter()
            .filter(|l| l.unit.is_none() && l.month.is_some() && l.speed.is_none())
    }

    /// Each unit's lines of the period: each 速別, then the total.
    pub fn unit_period(&self) -> impl Iterator<Item = &Line> {
        self.lines
            .iter()
            .filter(|l| l.unit.is_some() && l.month.is_none())
    }
}

/// One agency's line of a report across agencies (000 §4(三): the body that audits
/// timeliness compares the agencies it oversees).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgencyLine {
    /// The agency, or 「全部機關」 for the sum.
    pub agency: String,
    pub speed_name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// Most reports put side by side.
pub const MAX_MERGED: usize = 2000;

/// The period lines of each agency's report (its 速別 and total), then their sum: the
/// agencies' exports must be of one period, each agency once.
pub fn merge(reports: &[Report]) -> Result<Vec<AgencyLine>, String> {
    let Some(first) = reports.first() else {
        return Err("沒有任何機關的時效統計".into());
    };
    if reports.len() > MAX_MERGED {
        return Err(format!("最多合併 {MAX_MERGED} 個機關的時效統計"));
    }
    let mut seen = std::collections::HashSet::new();
    let mut sums: BTreeMap<(usize, String), Counts> = BTreeMap::new();
    let mut out = Vec::new();
    for r in reports {
        if (r.from.as_str(), r.to.as_str()) != (first.from.as_str(), first.to.as_str()) {
            return Err(format!(
                "「{}」的期間 {}～{} 與「{}」的 {}～{} 不同；請匯出同一期間",
                r.agency, r.from, r.to, first.agency, first.from, first.to
            ));
        }
        if r.agency.trim().is_empty() {
            return Err("有一份時效統計沒有機關名稱（請以新版公文管理系統重新匯出）".into());
        }
        if !seen.insert(r.agency.clone()) {
            return Err(format!("「{}」的時效統計重複", r.agency));
        }
        for (i, l) in r.agency_period().enumerate() {
            sums.entry((i, l.speed_name.clone()))
                .or_default()
                .add(&l.figures.counts);
            out.push(AgencyLine {
                agency: r.agency.clone(),
                speed_name: l.speed_name.clone(),
                figures: Figures::of(l.figures.counts),
            });
        }
    }
    out.extend(sums.into_iter().map(|((_, speed_name), c)| AgencyLine {
        agency: "全部機關".into(),
        speed_name,
        figures: Figures::of(c),
    }));
    Ok(out)
}

/// The header of [`merged_csv`].
pub const MERGED_CSV_HEADER: &str =
    "機關,速別,結案件數,如期結案件數,逾期結案件數,無限辦日期件數,如期率(%),平均處理天數(工作天)";

/// [`merge`]'s lines as CSV (the shared writer).
pub fn merged_csv(lines: &[AgencyLine]) -> String {
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let rows = lines.iter().map(|l| {
        let c = &l.figures.counts;
        vec![
            gongwen_proto::csv::cell(&l.agency),
            l.speed_name.clone(),
            c.closed.to_string(),
            c.on_time.to_string(),
            c.late.to_string(),
            c.no_due.to_string(),
            opt(l.figures.on_time_rate),
            opt(l.figures.average_days),
        ]
    });
    csv_file(MERGED_CSV_HEADER, rows)
}

/// Half working days a case started on `started` and closed on `closed` took: from the day
/// after the start to the closing day; none of them a working day (closed the same day) is ½.
pub fn half_days(cal: &WorkCalendar, started: Date, closed: Date) -> i64 {
    let n = match started.next_day() {
        Some(after) if closed > started => cal.count_working_days(after, closed),
        _ => 0,
    };
    if n == 0 { 1 } else { 2 * i64::from(n) }
}

/// Closed cases counted by (month index, unit, 速別).
type Counted = (usize, Option<String>, Speed, Counts);

async fn closed_cases(db: &Db, months: &[Month]) -> Result<Vec<Counted>, OfficeError> {
    let (Some(first), Some(last)) = (months.first(), months.last()) else {
        return Ok(Vec::new());
    };
    // Summed in the database over the rollup (`crate::closed`): a few groups, not every case.
    let rows = db
        .fetch_all(
            "SELECT month, unit, speed, COUNT(*) AS closed, \
             SUM(CASE WHEN verdict = 'on_time' THEN 1 ELSE 0 END) AS on_time, \
             SUM(CASE WHEN verdict = 'late' THEN 1 ELSE 0 END) AS late, \
             SUM(CASE WHEN verdict = 'no_due' THEN 1 ELSE 0 END) AS no_due, \
             CAST(SUM(half_days) AS BIGINT) AS half_days \
             FROM office_closed WHERE closed_at >= $1 AND closed_at < $2 \
             GROUP BY month, unit, speed",
            &[first.start_ms().into(), last.next().start_ms().into()],
        )
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let month = r.text("month")?;
        let Some(i) = months.iter().position(|m| m.iso() == month) else {
            continue;
        };
        let Some(speed) = Speed::parse(&r.text("speed")?) else {
            continue;
        };
        out.push((
            i,
            r.opt_text("unit")?,
            speed,
            Counts {
                closed: r.opt_i64("closed")?.unwrap_or(0),
                on_time: r.opt_i64("on_time")?.unwrap_or(0),
                late: r.opt_i64("late")?.unwrap_or(0),
                no_due: r.opt_i64("no_due")?.unwrap_or(0),
                half_days: r.opt_i64("half_days")?.unwrap_or(0),
            },
        ));
    }
    out.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
    Ok(out)
}

/// The timeliness report for `from`–`to` (at most [`indicators::MAX_MONTHS`]) on `cal`.
pub async fn report(db: &Db, from: Month, to: Month) -> Result<Report, OfficeError> {
    let range = indicators::months(from, to)?;
    let counted = closed_cases(db, &range).await?;
    let units = org::units(db).await?;
    let agency_name = units
        .iter()
        .find(|u| u.depth == 0)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| "全機關".into());

    let mut lines = Vec::new();
    let mut scope = |id: Option<&str>, name: &str| {
        let mine: Vec<&Counted> = counted
            .iter()
            .filter(|(_, u, _, _)| id.is_none() || u.as_deref() == id)
            .collect();
        if id.is_some() && mine.is_empty() {
            return;
        }
        let months = range.iter().map(|m| Some((*m, m.iso())));
        for (i, month) in months.chain([None]).enumerate() {
            let mut total = Counts::default();
            for speed in Speed::ALL {
                let mut c = Counts::default();
                for (_, _, _, x) in mine
                    .iter()
                    .filter(|(j, _, s, _)| *s == speed && (month.is_none() || *j == i))
                {
                    c.add(x);
                }
                total.add(&c);
                lines.push(Line {
                    month: month.as_ref().map(|(_, s)| s.clone()),
                    unit: id.map(str::to_string),
                    unit_name: name.to_string(),
                    speed: Some(speed),
                    speed_name: speed.label().to_string(),
                    figures: Figures::of(c),
                });
            }
            lines.push(Line {
                month: month.as_ref().map(|(_, s)| s.clone()),
                unit: id.map(str::to_string),
                unit_name: name.to_string(),
                speed: None,
                speed_name: "合計".to_string(),
                figures: Figures::of(total),
            });
        }
    };
    scope(None, &agency_name);
    for u in &units {
        scope(Some(&u.id), &u.name);
    }
    Ok(Report {
        // The root unit's name; the pages put the agency's code and name (`[office.agency]`).
        agency: agency_name,
        from: from.iso(),
        to: to.iso(),
        lines,
    })
}

/// The header of the CSV export.
pub const CSV_HEADER: &str = "月份,單位代號,單位名稱,速別,結案件數,如期結案件數,逾期結案件數,無限辦日期件數,如期率(%),平均處理天數(工作天)";

/// The report as CSV (UTF-8 with BOM, CRLF), one line per [`Line`]; the period's month is
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
            l.speed_name.clone(),
            c.closed.to_string(),
            c.on_time.to_string(),
            c.late.to_string(),
            c.no_due.to_string(),
            opt(f.on_time_rate),
            opt(f.average_days),
        ]
    });
    csv_file(CSV_HEADER, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    fn agency_report(agency: &str, fast: (i64, i64, i64)) -> Report {
        let (closed, on_time, late) = fast;
        let counts = Counts {
            closed,
            on_time,
            late,
            no_due: 0,
            half_days: 2 * closed,
        };
        let line = |speed: Option<Speed>, name: &str| Line {
            month: None,
            unit: None,
            unit_name: agency.into(),
            speed,
            speed_name: name.into(),
            figures: Figures::of(counts),
        };
        Report {
            agency: agency.into(),
            from: "2026-03".into(),
            to: "2026-03".into(),
            lines: vec![line(Some(Speed::Fast), "速件"), line(None, "合計")],
        }
    }

    #[test]
    fn agencies_side_by_side_and_their_sum() {
        let a = agency_report("379130000C 臺北市政府教育局", (4, 3, 1));
        let b = agency_report("379100000G 臺北市政府", (6, 6, 0));
        let lines = merge(&[a.clone(), b.clone()]).unwrap();
        let total: Vec<&AgencyLine> = lines.iter().filter(|l| l.agency == "全部機關").collect();
        assert_eq!(total.len(), 2);
        assert_eq!(total[0].speed_name, "速件");
        assert_eq!(total[0].figures.counts.closed, 10);
        assert_eq!(total[0].figures.on_time_rate, Some(90.0));
        assert_eq!(total[0].figures.average_days, Some(1.0));
        let csv = merged_csv(&lines);
        assert!(
            csv.contains("\r\n379130000C 臺北市政府教育局,速件,4,3,1,0,75,1\r\n"),
            "{csv}"
        );
        assert!(csv.contains("\r\n全部機關,合計,10,9,1,0,90,1\r\n"), "{csv}");
        // Read back from the JSON the pages export.
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), a);
        // One period, each agency once, each named.
        let mut other = b.clone();
        other.to = "2026-04".into();
        assert!(merge(&[a.clone(), other]).unwrap_err().contains("期間"));
        assert!(merge(&[a.clone(), a.clone()]).unwrap_err().contains("重複"));
        let mut unnamed = b;
        unnamed.agency.clear();
        assert!(merge(&[a, unnamed]).unwrap_err().contains("機關名稱"));
        assert!(merge(&[]).is_err());
    }

    use crate::org::testing::{agency, with_db};

    const DAY_MS: i64 = 86_400_000;

    /// A moment in Taipei.
    fn at(m: u8, d: i64, h: i64) -> i64 {
        Month {
            year: 2026,
            month: m,
        }
        .start_ms()
            + (d - 1) * DAY_MS
            + h * 3_600_000
    }

    #[allow(clippy::too_many_arguments)]
    async fn closed(
        db: &Db,
        id: &str,
        unit: &str,
        urgency: &str,
        kind: Option<&str>,
        due: Option<&str>,
        created: i64,
        closed: i64,
        state: &str,
    ) {
        db.execute(
            "INSERT INTO office_cases (id, origin, subject, matter, urgency, state, unit, exclusions, created_at, due_day, deadline_kind) VALUES ($1, 'exchange', '主旨', '一般業務', $2, $3, $4, '', $5, $6, $7)",
            &[id.into(), urgency.into(), state.into(), unit.into(), created.into(), due.into(), kind.into()],
        )
        .await
        .unwrap();
        db.execute(
            "INSERT INTO office_steps (case_id, seq, action, actor, signed, cms, cms_sha256, at) VALUES ($1, 1, 'decide', 'officer', $2, $2, '00', $3)",
            &[id.into(), b"x".as_slice().into(), closed.into()],
        )
        .await
        .unwrap();
    }

    fn counts(l: &Line) -> (i64, i64, i64, i64, Option<f64>, Option<f64>) {
        let c = &l.figures.counts;
        (
            c.closed,
            c.on_time,
            c.late,
            c.half_days,
            l.figures.on_time_rate,
            l.figures.average_days,
        )
    }

    #[test]
    fn working_days_count_from_the_day_after_and_a_same_day_case_is_half() {
        let cal = WorkCalendar::with_bundled().unwrap();
        let d = |m: time::Month, day: u8| Date::from_calendar_date(2026, m, day).unwrap();
        let fri = d(time::Month::March, 6);
        assert_eq!(half_days(&cal, fri, fri), 1);
        // Saturday after a Friday: no working day between, half a day.
        assert_eq!(half_days(&cal, fri, d(time::Month::March, 7)), 1);
        // Friday → Tuesday across the weekend: Monday and Tuesday.
        assert_eq!(half_days(&cal, fri, d(time::Month::March, 10)), 4);
        // Across the Lunar New Year break (2/14–2/22): 2/13 → 2/23 is one working day.
        assert_eq!(
            half_days(
                &cal,
                d(time::Month::February, 13),
                d(time::Month::February, 23)
            ),
            2
        );
        assert_eq!(Speed::of("速件", Some("fixed")), Speed::Fixed);
        assert_eq!(Speed::of("最速件", Some("urgency")), Speed::Fastest);
        assert_eq!(Speed::of("普通", None), Speed::Ordinary);
    }

    /// March 2026 (no holidays; 1st a Sunday), worked out by hand:
    ///
    /// | case | unit | 速別 / kind | created | due | closed | working days | |
    /// |---|---|---|---|---|---|---|---|
    /// | t1 | k12 | 最速件 | Thu 03-05 | 03-06 | Thu 03-05 | ½ (1) | on time |
    /// | t2 | k12 | 最速件 | Fri 03-06 | none → Mon 03-09 | Tue 03-10 | 2 (4): 9, 10 | late |
    /// | t3 | hs | 速件 | Mon 03-02 | 03-05 | Thu 03-05 | 3 (6) | on time |
    /// | t4 | k12 | 普通件, 限期 | Mon 03-09 | 03-20 | Mon 03-23 | 10 (20) | late |
    /// | t5 | hs | 普通件, 專案管制 | Mon 03-02 | 04-30 | Tue 03-31 | 21 (42) | on time |
    /// | t6 | k12 | 普通件 | Mon 03-02 | 03-10 | Wed 04-01 | 22 (44) | late, April |
    /// | t7 | k12 | 普通件 | Mon 03-02 | 03-10 | 03-12, reopened | – | not closed |
    /// | t8 | k12 | 速件 | 02-02 | 02-05 | 02-27 | – | February |
    ///
    /// Agency, March: 5 closed, 3 on time, 2 late → 60 %; 73 half days → 7.3 days.
    /// 最速件 2 (1 on time, 1 late, 5 halves → 1.25); 速件 1 (3.0); 普通件 none; 限期 1 late
    /// (10.0); 專案管制 1 on time (21.0). k12: 3, 1 on time, 25 halves → 4.17; hs: 2, 12.0.
    #[test]
    fn a_seeded_period_gives_the_figures_worked_out_by_hand() {
        with_db("timeliness", |db| async move {
            agency(&db).await;
            let db = &db;
            let cal = WorkCalendar::with_bundled().unwrap();
            let (to_file, filed) = ("to_file", "filed");
            let u = Some("urgency");
            closed(
                db,
                "t1",
                "k12",
                "最速件",
                u,
                Some("2026-03-06"),
                at(3, 5, 9),
                at(3, 5, 15),
                to_file,
            )
            .await;
            closed(
                db,
                "t2",
                "k12",
                "最速件",
                None,
                None,
                at(3, 6, 9),
                at(3, 10, 9),
                filed,
            )
            .await;
            closed(
                db,
                "t3",
                "hs",
                "速件",
                u,
                Some("2026-03-05"),
                at(3, 2, 9),
                at(3, 5, 17),
                filed,
            )
            .await;
            closed(
                db,
                "t4",
                "k12",
                "普通件",
                Some("fixed"),
                Some("2026-03-20"),
                at(3, 9, 9),
                at(3, 23, 9),
                filed,
            )
            .await;
            closed(
                db,
                "t5",
                "hs",
                "普通件",
                Some("project"),
                Some("2026-04-30"),
                at(3, 2, 9),
                at(3, 31, 23),
                filed,
            )
            .await;
            closed(
                db,
                "t6",
                "k12",
                "普通件",
                u,
                Some("2026-03-10"),
                at(3, 2, 9),
                at(4, 1, 9),
                to_file,
            )
            .await;
            closed(
                db,
                "t7",
                "k12",
                "普通件",
                u,
                Some("2026-03-10"),
                at(3, 2, 9),
                at(3, 12, 9),
                "with_officer",
            )
            .await;
            closed(
                db,
                "t8",
                "k12",
                "速件",
                u,
                Some("2026-02-05"),
                at(2, 2, 9),
                at(2, 27, 9),
                filed,
            )
            .await;

            let mar = Month::parse("2026-03").unwrap();
            // Rolled up as the office's daily round (or each closing step) does.
            crate::closed::catch_up_all(db, &cal).await.unwrap();
            let r = report(db, mar, mar).await.unwrap();
            let period: Vec<&Line> = r.agency_period().collect();
            assert_eq!(period.len(), 6);
            assert_eq!(period[0].unit_name, "臺北市政府教育局");
            let rows: Vec<_> = period.iter().map(|l| counts(l)).collect();
            assert_eq!(
                rows,
                [
                    (2, 1, 1, 5, Some(50.0), Some(1.25)),
                    (1, 1, 0, 6, Some(100.0), Some(3.0)),
                    (0, 0, 0, 0, None, None),
                    (1, 0, 1, 20, Some(0.0), Some(10.0)),
                    (1, 1, 0, 42, Some(100.0), Some(21.0)),
                    (5, 3, 2, 73, Some(60.0), Some(7.3)),
                ]
            );
            assert_eq!(period[5].speed_name, "合計");
            let months: Vec<&Line> = r.agency_months().collect();
            assert_eq!(months.len(), 1);
            assert_eq!(months[0].figures, period[5].figures);

            let unit_total = |id: &str| {
                r.unit_period()
                    .find(|l| l.unit.as_deref() == Some(id) && l.speed.is_none())
                    .map(counts)
            };
            assert_eq!(
                unit_total("k12"),
                Some((3, 1, 2, 25, Some(33.3), Some(4.17)))
            );
            assert_eq!(
                unit_total("hs"),
                Some((2, 2, 0, 48, Some(100.0), Some(12.0)))
            );
            assert_eq!(unit_total("edu"), None);

            // March–April: t6 lands in April; the period adds it.
            let apr = Month::parse("2026-04").unwrap();
            let r = report(db, mar, apr).await.unwrap();
            let months: Vec<_> = r.agency_months().map(counts).collect();
            assert_eq!(months[1], (1, 0, 1, 44, Some(0.0), Some(22.0)));
            let total = r.agency_period().last().map(counts).unwrap();
            assert_eq!(total, (6, 3, 3, 117, Some(50.0), Some(9.75)));

            // February alone: t8.
            let feb = Month::parse("2026-02").unwrap();
            let r = report(db, feb, feb).await.unwrap();
            assert_eq!(r.agency_period().last().unwrap().figures.counts.late, 1);

            let text = csv(&report(db, mar, mar).await.unwrap());
            assert!(text.starts_with('\u{feff}'));
            assert!(
                text.contains("\r\n合計,,臺北市政府教育局,合計,5,3,2,0,60,7.3\r\n"),
                "{text}"
            );
            assert!(text.contains("\r\n合計,k12,國中教育科,最速件,2,1,1,0,50,1.25\r\n"));
            assert!(report(db, apr, mar).await.is_err());
        });
    }
}
