//! The delegation table (分層負責明細表): for each kind of matter, the level that decides
//! (1: head of agency, 2: head of a 一級單位, 3: head of a 二級單位). The matter decides the
//! level, not the drafter. Every change is kept with the day it takes effect, so a case decided
//! last year still shows the rule it was decided under.

use gongwen_store::{Db, Row, StoreError};

use crate::{OfficeError, bad, check_day, check_text};

/// The level that decides a matter the table does not name: the head of agency, the safe end.
pub const DEFAULT_LEVEL: i64 = 1;

/// The kinds of agency of seed 003 貳.二.(二), each with the default top of its chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgencyKind {
    /// 市府一層
    CityHall,
    /// 一級機關
    FirstLevel,
    /// 二級機關（含區公所）
    SecondLevel,
    /// 學校
    School,
}

impl AgencyKind {
    /// Who is at the top of the chain (level 1) in this kind of agency.
    pub fn top_title(self) -> &'static str {
        match self {
            AgencyKind::CityHall => "秘書長",
            AgencyKind::FirstLevel => "局（處）長或主任委員",
            AgencyKind::SecondLevel => "機關首長或區長",
            AgencyKind::School => "校（園、所）長",
        }
    }
}

/// One row of the table as it stands from `effective_from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub matter: String,
    pub level: i64,
    pub effective_from: String,
    pub changed_by: String,
    pub changed_at: i64,
}

/// Sets the level for `matter` from `effective_from` (`YYYY-MM-DD`); earlier rows stay.
pub async fn set(db: &Db, rule: &Rule) -> Result<(), OfficeError> {
    check_text("業務項目", &rule.matter, 60)?;
    check_day("生效日", &rule.effective_from)?;
    if !(1..=3).contains(&rule.level) {
        return Err(bad(format!(
            "決行層級須為 1（首長）、2（一級單位主管）或 3（二級單位主管），不是 {}",
            rule.level
        )));
    }
    db.execute(
        "INSERT INTO office_delegation (matter, level, effective_from, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5)",
        &[
            rule.matter.as_str().into(),
            rule.level.into(),
            rule.effective_from.as_str().into(),
            rule.changed_by.as_str().into(),
            rule.changed_at.into(),
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Duplicate { .. } => bad(format!(
            "「{}」在 {} 已有生效的層級",
            rule.matter, rule.effective_from
        )),
        e => e.into(),
    })?;
    Ok(())
}

/// The rule in force for `matter` on `day`; `None` when the table does not name the matter
/// (then [`DEFAULT_LEVEL`] decides).
pub async fn rule_on(db: &Db, matter: &str, day: &str) -> Result<Option<Rule>, OfficeError> {
    let r = db
        .fetch_optional(
            "SELECT matter, level, effective_from, changed_by, changed_at FROM office_delegation WHERE matter = $1 AND effective_from <= $2 ORDER BY effective_from DESC LIMIT 1",
            &[matter.into(), day.into()],
        )
        .await?;
    Ok(r.as_ref().map(rule_from).transpose()?)
}

fn rule_from(r: &Row) -> Result<Rule, StoreError> {
    Ok(Rule {
        matter: r.text("matter")?,
        level: r.i64("level")?,
        effective_from: r.text("effective_from")?,
        changed_by: r.text("changed_by")?,
        changed_at: r.i64("changed_at")?,
    })
}

/// The level that decides `matter` on `day`.
pub async fn level_on(db: &Db, matter: &str, day: &str) -> Result<i64, OfficeError> {
    Ok(rule_on(db, matter, day)
        .await?
        .map_or(DEFAULT_LEVEL, |r| r.level))
}

/// The whole table with its history, by matter and then newest first.
pub async fn history(db: &Db) -> Result<Vec<Rule>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT matter, level, effective_from, changed_by, changed_at FROM office_delegation ORDER BY matter, effective_from DESC",
            &[],
        )
        .await?;
    Ok(rows.iter().map(rule_from).collect::<Result<_, _>>()?)
}

/// The zh-TW name of a level.
pub fn level_label(level: i64) -> &'static str {
    match level {
        1 => "第一層（首長）",
        2 => "第二層（一級單位主管）",
        _ => "第三層（二級單位主管）",
    }
}
