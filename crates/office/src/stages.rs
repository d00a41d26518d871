//! The whole path timed (SIGNOFF.md 稽催: "every step of every document is logged and timed"):
//! for the cases closed in a period, how long each stage took — 登記→分文, 分文→分辦,
//! 分辦→陳核 (the officer's own work), 送會→會畢, 陳核→決行 (the review), 決行→發文 and
//! 發文→歸檔 — in working days on the office calendar (the days after the stage began up to the
//! day it ended; a stage ended on the day it began is 0) and in hours.
//!
//! The same closed cases as [`crate::timeliness`] (the last 決行 or 發文 in the period); each
//! case's spans are computed once, when it closes, into the rollup ([`crate::closed`]), and a
//! period is a sum over it. A stage a case did not go through (no 會辦, a 創簽 that was never
//! registered) is not counted for it.

use gongwen_calendar::WorkCalendar;
use gongwen_store::Db;
use serde::Serialize;

use crate::OfficeError;
use crate::deadlines;
use crate::indicators::{self, Month, csv_file};
use crate::steps::Action;

/// A stage of the path: from the first of `from` to the first of `to` after it (the review
/// ends at the last 決行).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 登記 → 分文.
    Assign,
    /// 分文 → 分辦.
    Distribute,
    /// 分辦 (or 創簽) → first 陳核: the officer's work.
    Draft,
    /// 送會 → the last 會辦意見 that answered it.
    Consult,
    /// first 陳核 → last 決行.
    Review,
    /// last 決行 → 發文.
    Dispatch,
    /// 發文 (or 決行 with nothing to send) → 歸檔.
    File,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Assign,
        Stage::Distribute,
        Stage::Draft,
        Stage::Consult,
        Stage::Review,
        Stage::Dispatch,
        Stage::File,
    ];

    /// Its columns' prefix in the rollup (`office_closed`).
    pub fn column(self) -> &'static str {
        match self {
            Stage::Assign => "assign",
            Stage::Distribute => "distribute",
            Stage::Draft => "draft",
            Stage::Consult => "consult",
            Stage::Review => "review",
            Stage::Dispatch => "dispatch",
            Stage::File => "file",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::Assign => "登記→分文",
            Stage::Distribute => "分文→分辦",
            Stage::Draft => "分辦（創簽）→陳核",
            Stage::Consult => "送會→會畢",
            Stage::Review => "陳核→決行",
            Stage::Dispatch => "決行→發文",
            Stage::File => "發文→歸檔",
        }
    }
}

/// One stage's figures over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageLine {
    pub stage: Stage,
    pub stage_name: &'static str,
    /// Cases that went through it.
    pub cases: i64,
    /// Average working days (two decimals); None when no case.
    pub average_days: Option<f64>,
    /// The longest, in working days.
    pub max_days: Option<i64>,
    /// Average hours (one decimal), for stages shorter than a day.
    pub average_hours: Option<f64>,
}

/// The stage report of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    /// Cases closed in the period.
    pub closed: i64,
    pub stages: Vec<StageLine>,
}

/// The span of each stage of one case, from its steps in order: (stage, from ms, to ms).
pub fn spans(steps: &[(Action, i64)]) -> Vec<(Stage, i64, i64)> {
    let first = |a: Action, after: i64| steps.iter().find(|(x, at)| *x == a && *at >= after);
    let last = |a: Action| steps.iter().rev().find(|(x, _)| *x == a);
    let mut out = Vec::new();
    let mut push = |stage, from: Option<&(Action, i64)>, to: Option<&(Action, i64)>| {
        if let (Some((_, a)), Some((_, b))) = (from, to)
            && b >= a
        {
            out.push((stage, *a, *b));
        }
    };
    let register = first(Action::Register, i64::MIN);
    let assign = first(Action::AssignUnit, i64::MIN);
    push(Stage::Assign, register, assign);
    let distribute = first(Action::AssignOfficer, i64::MIN);
    push(Stage::Distribute, assign, distribute);
    let start = distribute.or_else(|| first(Action::Create, i64::MIN));
    let submit = start.and_then(|s| first(Action::Submit, s.1));
    push(Stage::Draft, start, submit);
    if let Some(consult) = first(Action::Consult, i64::MIN) {
        // Answered by the last opinion before the case moved on (陳核 or a new 送會).
        let next = steps
            .iter()
            .find(|(x, at)| *at > consult.1 && matches!(x, Action::Submit | Action::Consult));
        let until = next.map_or(i64::MAX, |n| n.1);
        let answered = steps
            .iter()
            .rev()
            .find(|(x, at)| *x == Action::Opinion && *at >= consult.1 && *at <= until);
        push(Stage::Consult, Some(consult), answered);
    }
    let decide = last(Action::Decide);
    push(Stage::Review, submit, decide);
    let dispatch = decide.and_then(|d| first(Action::Dispatch, d.1));
    push(Stage::Dispatch, decide, dispatch);
    let file = first(Action::File, i64::MIN);
    push(Stage::File, dispatch.or(decide), file);
    out
}

/// Working days after the day of `from` up to the day of `to` (0 within one day).
pub fn working_days(cal: &WorkCalendar, from: i64, to: i64) -> i64 {
    match (deadlines::day_of(from), deadlines::day_of(to)) {
        (Some(a), Some(b)) if b > a => a
            .next_day()
            .map_or(0, |n| i64::from(cal.count_working_days(n, b))),
        _ => 0,
    }
}

/// The stage report of `from`–`to` (at most [`indicators::MAX_MONTHS`]), summed over the
/// rollup ([`crate::closed`]).
pub async fn report(db: &Db, from: Month, to: Month) -> Result<Report, OfficeError> {
    let range = indicators::months(from, to)?;
    let mut sums = vec!["COUNT(*) AS closed".to_string()];
    for s in Stage::ALL {
        let c = s.column();
        sums.push(format!(
            "COUNT({c}_days) AS {c}_n, CAST(SUM({c}_days) AS BIGINT) AS {c}_sum, MAX({c}_days) AS {c}_max, CAST(SUM({c}_ms) AS BIGINT) AS {c}_ms"
        ));
    }
    let rows = db
        .fetch_all(
            &format!(
                "SELECT {} FROM office_closed WHERE closed_at >= $1 AND closed_at < $2",
                sums.join(", ")
            ),
            &[from.start_ms().into(), to.next().start_ms().into()],
        )
        .await?;
    let round = |v: f64, places: i32| {
        let k = 10f64.powi(places);
        (v * k).round() / k
    };
    let mut closed = 0;
    let mut stages = Vec::new();
    for stage in Stage::ALL {
        let c = stage.column();
        let (mut n, mut sum, mut max, mut ms) = (0, 0, None, 0);
        if let Some(r) = rows.first() {
            closed = r.opt_i64("closed")?.unwrap_or(0);
            n = r.opt_i64(format!("{c}_n").as_str())?.unwrap_or(0);
            sum = r.opt_i64(format!("{c}_sum").as_str())?.unwrap_or(0);
            max = r.opt_i64(format!("{c}_max").as_str())?;
            ms = r.opt_i64(format!("{c}_ms").as_str())?.unwrap_or(0);
        }
        stages.push(StageLine {
            stage,
            stage_name: stage.label(),
            cases: n,
            average_days: (n > 0).then(|| round(sum as f64 / n as f64, 2)),
            max_days: max.filter(|_| n > 0),
            average_hours: (n > 0).then(|| round(ms as f64 / n as f64 / 3_600_000.0, 1)),
        });
    }
    Ok(Report {
        from: range.first().map(|m| m.iso()).unwrap_or_default(),
        to: range.last().map(|m| m.iso()).unwrap_or_default(),
        closed,
        stages,
    })
}

pub const CSV_HEADER: &str = "期間起,期間迄,階段,件數,平均工作天,最長工作天,平均小時";

/// The report as CSV (the shared writer: BOM, CRLF, cells made safe).
pub fn csv(r: &Report) -> String {
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let rows = r.stages.iter().map(|l| {
        vec![
            r.from.clone(),
            r.to.clone(),
            l.stage_name.to_string(),
            l.cases.to_string(),
            opt(l.average_days),
            l.max_days.map(|m| m.to_string()).unwrap_or_default(),
            opt(l.average_hours),
        ]
    });
    csv_file(CSV_HEADER, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn each_stage_runs_from_its_first_step_to_the_next_stages() {
        let steps = [
            (Action::Register, 0),
            (Action::AssignUnit, H),
            (Action::AssignOfficer, 3 * H),
            (Action::Draft, 4 * H),
            (Action::Consult, 5 * H),
            (Action::Opinion, 6 * H),
            (Action::Opinion, 8 * H),
            (Action::Submit, 9 * H),
            (Action::Approve, 10 * H),
            (Action::Return, 11 * H),
            (Action::Submit, 12 * H),
            (Action::Decide, 13 * H),
            (Action::Dispatch, 15 * H),
            (Action::File, 20 * H),
        ];
        let got: Vec<(Stage, i64)> = spans(&steps)
            .into_iter()
            .map(|(s, a, b)| (s, (b - a) / H))
            .collect();
        assert_eq!(
            got,
            [
                (Stage::Assign, 1),
                (Stage::Distribute, 2),
                (Stage::Draft, 6),
                (Stage::Consult, 3),
                (Stage::Review, 4),
                (Stage::Dispatch, 2),
                (Stage::File, 5),
            ]
        );
        // A 創簽 kept on file (存查) with no 發文: no registration, the file counted from 決行.
        let memo = [
            (Action::Create, 0),
            (Action::Submit, 2 * H),
            (Action::Decide, 3 * H),
            (Action::File, 7 * H),
        ];
        let got: Vec<Stage> = spans(&memo).into_iter().map(|(s, _, _)| s).collect();
        assert_eq!(got, [Stage::Draft, Stage::Review, Stage::File]);
    }

    #[test]
    fn working_days_count_after_the_first_day() {
        let cal = WorkCalendar::with_bundled().unwrap();
        // Friday 2026-02-13 10:00 to Monday 2026-02-23 (the Lunar New Year break between).
        let fri = crate::cases::day_start_ms("2026-02-13").unwrap() + 10 * H;
        let mon = crate::cases::day_start_ms("2026-02-23").unwrap() + 10 * H;
        assert_eq!(working_days(&cal, fri, mon), 1);
        assert_eq!(working_days(&cal, fri, fri + H), 0);
    }
}
