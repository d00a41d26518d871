//! The statistics rollup (`office_closed`): one row per closed case — when it closed, its unit
//! and 速別 row, on time or late, its working days, and how long each stage took — so that the
//! month dashboards ([`crate::timeliness`], [`crate::stages`]) sum rows instead of walking
//! every step of every case.
//!
//! A row is written when a case's 決行, 發文, 重辦 or 歸檔 is committed ([`refresh`]), and the
//! office's daily round catches up what is missing or stale ([`catch_up`]): cases closed before
//! the rollup existed, rows of cases reopened since, and verdicts that waited for a calendar.
//! A row depends only on the case, its steps and the calendar, so rewriting it is harmless.

use gongwen_calendar::WorkCalendar;
use gongwen_store::{Db, Value};

use crate::OfficeError;
use crate::cases::{Case, Origin, State};
use crate::indicators::Month;
use crate::stages::{self, Stage};
use crate::steps::Action;
use crate::timeliness::{self, Speed};
use crate::{deadlines, timing};

/// Cases rolled up per query.
pub const BATCH: usize = 500;

/// The states of a closed case.
const CLOSED_STATES: &str = "('to_file', 'filed')";

/// What a closed case's row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub case_id: String,
    pub closed_at: i64,
    pub unit: Option<String>,
    pub speed: Speed,
    /// `on_time`, `late` or `no_due`.
    pub verdict: &'static str,
    pub half_days: i64,
    /// Calendar days in halves (a same-day case 1), as the indicators count them.
    pub day_halves: i64,
    /// Signed off online (no exclusion).
    pub online: bool,
    pub consulted: bool,
    /// Working days and milliseconds of each stage gone through.
    pub stages: Vec<(Stage, i64, i64)>,
}

/// The row of a closed `case` with its `steps` (in order), or None when it is not closed.
pub fn row_of(
    cal: &WorkCalendar,
    case: &Case,
    steps: &[(Action, i64)],
    consulted: bool,
) -> Option<Row> {
    if !matches!(case.state, State::ToFile | State::Filed) {
        return None;
    }
    let closed_at = steps
        .iter()
        .rev()
        .find(|(a, _)| matches!(a, Action::Decide | Action::Dispatch))?
        .1;
    let (started, closed) = (
        deadlines::day_of(case.created_at)?,
        deadlines::day_of(closed_at)?,
    );
    let verdict = match timing::due_of(cal, case) {
        Some(due) if closed <= due => "on_time",
        Some(_) => "late",
        None => "no_due",
    };
    Some(Row {
        case_id: case.id.clone(),
        closed_at,
        unit: case.unit.clone(),
        speed: Speed::of(&case.urgency, case.deadline_kind.as_deref()),
        verdict,
        half_days: timeliness::half_days(cal, started, closed),
        day_halves: match (closed - started).whole_days() {
            d if d <= 0 => 1,
            d => 2 * d,
        },
        online: case.exclusions.is_empty(),
        consulted,
        stages: stages::spans(steps)
            .into_iter()
            .map(|(s, a, b)| (s, stages::working_days(cal, a, b), b - a))
            .collect(),
    })
}

/// Rewrites the rows of `ids` from their cases and steps: written for the closed ones, removed
/// for the others. Returns how many rows were written.
pub async fn refresh(db: &Db, cal: &WorkCalendar, ids: &[String]) -> Result<usize, OfficeError> {
    let mut written = 0;
    for chunk in ids.chunks(BATCH) {
        written += refresh_chunk(db, cal, chunk).await?;
    }
    Ok(written)
}

fn marks(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn refresh_chunk(db: &Db, cal: &WorkCalendar, ids: &[String]) -> Result<usize, OfficeError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let args: Vec<Value> = ids.iter().map(|i| i.as_str().into()).collect();
    let list = marks(1, ids.len());
    let cases = db
        .fetch_all(
            &format!(
                "SELECT id, origin, urgency, state, unit, exclusions, created_at, due_day, deadline_kind, extension_days \
                 FROM office_cases WHERE id IN ({list})"
            ),
            &args,
        )
        .await?;
    let steps = db
        .fetch_all(
            &format!(
                "SELECT case_id, action, at FROM office_steps WHERE case_id IN ({list}) ORDER BY case_id, seq"
            ),
            &args,
        )
        .await?;
    let consulted: std::collections::HashSet<String> = db
        .fetch_all(
            &format!("SELECT DISTINCT case_id FROM office_consults WHERE case_id IN ({list})"),
            &args,
        )
        .await?
        .iter()
        .map(|r| r.text("case_id"))
        .collect::<Result<_, _>>()?;
    let mut by_case: std::collections::HashMap<String, Vec<(Action, i64)>> =
        std::collections::HashMap::new();
    for r in &steps {
        if let Some(a) = Action::parse(&r.text("action")?) {
            by_case
                .entry(r.text("case_id")?)
                .or_default()
                .push((a, r.i64("at")?));
        }
    }
    let mut rows = Vec::new();
    for r in &cases {
        let case = Case {
            id: r.text("id")?,
            origin: Origin::parse(&r.text("origin")?).unwrap_or(Origin::Exchange),
            subject: String::new(),
            matter: String::new(),
            urgency: r.text("urgency")?,
            state: State::parse(&r.text("state")?).unwrap_or(State::WithOfficer),
            unit: r.opt_text("unit")?,
            officer: None,
            holder: None,
            exclusions: crate::cases::parse_exclusions(&r.text("exclusions")?),
            created_at: r.i64("created_at")?,
            closed_at: None,
            dispatch_number: None,
            file_code: None,
            retention: None,
            receipt_number: None,
            due_day: r.opt_text("due_day")?,
            deadline_kind: r.opt_text("deadline_kind")?,
            extensions: 0,
            extension_days: r.i64("extension_days")?,
            asked: None,
        };
        let steps = by_case.get(&case.id).map(Vec::as_slice).unwrap_or_default();
        if let Some(row) = row_of(cal, &case, steps, consulted.contains(&case.id)) {
            rows.push(row);
        }
    }
    let mut tx = db.begin().await?;
    // The others are not (or no longer) closed.
    tx.execute(
        &format!("DELETE FROM office_closed WHERE case_id IN ({list})"),
        &args,
    )
    .await?;
    let columns: Vec<String> = [
        "case_id",
        "closed_at",
        "month",
        "unit",
        "speed",
        "verdict",
        "half_days",
        "day_halves",
        "online",
        "consulted",
    ]
    .iter()
    .map(|c| c.to_string())
    .chain(
        Stage::ALL
            .iter()
            .flat_map(|s| [format!("{}_days", s.column()), format!("{}_ms", s.column())]),
    )
    .collect();
    let mut values: Vec<Value> = Vec::new();
    let mut groups = Vec::new();
    for row in &rows {
        let start = values.len() + 1;
        values.push(row.case_id.as_str().into());
        values.push(row.closed_at.into());
        values.push(Month::of_ms(row.closed_at).iso().into());
        values.push(row.unit.clone().into());
        values.push(row.speed.as_str().into());
        values.push(row.verdict.into());
        values.push(row.half_days.into());
        values.push(row.day_halves.into());
        values.push(i64::from(row.online).into());
        values.push(i64::from(row.consulted).into());
        for stage in Stage::ALL {
            let span = row.stages.iter().find(|(s, _, _)| *s == stage);
            values.push(span.map(|(_, d, _)| *d).into());
            values.push(span.map(|(_, _, ms)| *ms).into());
        }
        groups.push(format!("({})", marks(start, columns.len())));
    }
    if !rows.is_empty() {
        tx.execute(
            &format!(
                "INSERT INTO office_closed ({}) VALUES {}",
                columns.join(", "),
                groups.join(", ")
            ),
            &values,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// Brings the rollup up to date, one batch: closed cases with no row (by case number after
/// `after`, so that a whole pass reads each case once), and, when `daily`, rows of cases no
/// longer closed and rows whose verdict waited for a calendar. Returns where the next batch
/// starts, or None when the pass is done.
pub async fn catch_up(
    db: &Db,
    cal: &WorkCalendar,
    daily: bool,
    after: &str,
) -> Result<Option<String>, OfficeError> {
    let limit = i64::try_from(BATCH).unwrap_or(500);
    let mut ids: Vec<String> = Vec::new();
    // `k.case_id > $2` too, so that each batch reads the rollup from where it stands, not
    // from its start (a whole pass stays linear).
    let missing = db
        .fetch_all(
            &format!(
                "SELECT c.id FROM office_cases c WHERE c.id > $2 AND c.state IN {CLOSED_STATES} \
                 AND NOT EXISTS (SELECT 1 FROM office_closed k WHERE k.case_id = c.id AND k.case_id > $2) \
                 ORDER BY c.id LIMIT $1"
            ),
            &[limit.into(), after.into()],
        )
        .await?;
    for r in &missing {
        ids.push(r.text("id")?);
    }
    let next = (missing.len() >= BATCH)
        .then(|| ids.last().cloned())
        .flatten();
    if daily {
        for sql in [
            format!(
                "SELECT k.case_id AS id FROM office_closed k JOIN office_cases c ON c.id = k.case_id \
                 WHERE c.state NOT IN {CLOSED_STATES} LIMIT $1"
            ),
            "SELECT case_id AS id FROM office_closed WHERE verdict = 'no_due' LIMIT $1".to_string(),
        ] {
            for r in &db.fetch_all(&sql, &[limit.into()]).await? {
                ids.push(r.text("id")?);
            }
        }
    }
    refresh(db, cal, &ids).await?;
    Ok(next)
}

/// A whole pass of [`catch_up`] (the daily round's part first); what tests and the bench run.
pub async fn catch_up_all(db: &Db, cal: &WorkCalendar) -> Result<(), OfficeError> {
    let mut after = catch_up(db, cal, true, "").await?;
    while let Some(a) = after {
        after = catch_up(db, cal, false, &a).await?;
    }
    Ok(())
}
