//! Cases: where they stand, who holds them, their documents in every version, and the
//! worklists each role works from. Changes happen only through signed steps (`steps`).

use gongwen_proto::Code;
use gongwen_store::{Db, Row, StoreError};

use crate::OfficeError;

/// How a case began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// 電子收文: received through the agent.
    Exchange,
    /// 紙本收文: registered by hand with its scan.
    Paper,
    /// 創簽
    Memo,
    /// 創稿
    Draft,
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Registered (總收文); waiting for the registration desk to assign it to a unit.
    Registered,
    /// Assigned to a unit; waiting for the unit's desk to give it to an officer.
    AtUnit,
    /// With the case officer.
    WithOfficer,
    /// With other units for 會辦.
    Consulting,
    /// Up the chain (陳核), with `holder`.
    InReview,
    /// Decided with at least one 「發」 draft; waiting for the clerk.
    ToDispatch,
    /// Done; waiting for the archivist.
    ToFile,
    Filed,
    /// Returned to the sender (退文) at registration.
    Refused,
}

gongwen_proto::words!(Origin, parse words {
    Exchange => "exchange", "電子收文";
    Paper => "paper", "紙本收文";
    Memo => "memo", "創簽";
    Draft => "draft", "創稿";
});

gongwen_proto::words!(State, parse words {
    Registered => "registered", "待分文";
    AtUnit => "at_unit", "待分辦";
    WithOfficer => "with_officer", "承辦中";
    Consulting => "consulting", "會辦中";
    InReview => "in_review", "陳核中";
    ToDispatch => "to_dispatch", "待發文";
    ToFile => "to_file", "待歸檔";
    Filed => "filed", "已歸檔";
    Refused => "refused", "已退文";
});

/// The exclusions of SIGNOFF.md (seed 003 貳.二.(一)): a case with any of them is signed off
/// on paper. Numbered as the plan numbers them.
pub const EXCLUSIONS: [&str; 8] = [
    "密件以上",
    "來文本文及附件超過 15 頁",
    "保存年限超過 10 年",
    "附件須核對正本（證書、採購憑證等）",
    "附件無法掃描（書籍、超過 A3 之圖件、錄音帶、樣品等）",
    "附件含照片",
    "採購招標簽呈",
    "須與尚未實施線上簽核之機關會辦",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: String,
    pub origin: Origin,
    pub subject: String,
    /// The kind of matter, as the delegation table names it.
    pub matter: String,
    /// 速別 as the document says it (普通件, 速件, 最速件).
    pub urgency: String,
    pub state: State,
    pub unit: Option<String>,
    pub officer: Option<String>,
    pub holder: Option<String>,
    /// Exclusion numbers (1–8); any makes the case a paper case.
    pub exclusions: Vec<u8>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub dispatch_number: Option<String>,
    pub file_code: Option<String>,
    pub retention: Option<String>,
    /// 收文字號 given at 簽收, for an 電子收文.
    pub receipt_number: Option<String>,
    /// 限辦日期 (Taipei, `YYYY-MM-DD`) as its steps set it; None for a case from before time
    /// control was stored (computed from 速別, see `timing::due_of`).
    pub due_day: Option<String>,
    /// `urgency`, `fixed` or `project` (`timing::DeadlineKind`).
    pub deadline_kind: Option<String>,
    /// 展期 granted: how many, and working days in all.
    pub extensions: i64,
    pub extension_days: i64,
    /// The 展期 or 改列專案管制 asked and not yet granted or refused.
    pub asked: Option<TimeRequest>,
}

/// An officer's open request for more time (`timing::RequestKind`), signed at step `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeRequest {
    pub kind: crate::timing::RequestKind,
    /// Working days (展期).
    pub days: i64,
    /// The date asked (改列專案管制), `YYYY-MM-DD`.
    pub day: Option<String>,
    /// The level that grants it, or one above.
    pub level: i64,
    pub by: String,
    pub seq: i64,
}

impl TimeRequest {
    /// What is asked, as people read it: 「展期 5 個工作天」, 「改列專案管制至中華民國…」.
    pub fn describe(&self) -> String {
        match self.kind {
            crate::timing::RequestKind::Extend => format!("展期 {} 個工作天", self.days),
            crate::timing::RequestKind::Project => format!(
                "改列專案管制至{}",
                (self.day.as_deref())
                    .and_then(crate::timing::parse_day)
                    .map_or_else(|| "（日期有誤）".to_string(), gongwen_calendar::roc_date)
            ),
        }
    }
}

impl Case {
    /// Signed off on paper (an exclusion applies): online review steps are refused.
    pub fn is_paper(&self) -> bool {
        !self.exclusions.is_empty()
    }

    fn from_row(r: &Row) -> Result<Case, StoreError> {
        let corrupt = |what: &str, v: String| StoreError::Corrupt {
            detail: format!("案件的{what}「{v}」"),
        };
        let origin = r.text("origin")?;
        let state = r.text("state")?;
        Ok(Case {
            id: r.text("id")?,
            origin: Origin::parse(&origin).ok_or_else(|| corrupt("來源", origin.clone()))?,
            subject: r.text("subject")?,
            matter: r.text("matter")?,
            urgency: r.text("urgency")?,
            state: State::parse(&state).ok_or_else(|| corrupt("狀態", state.clone()))?,
            unit: r.opt_text("unit")?,
            officer: r.opt_text("officer")?,
            holder: r.opt_text("holder")?,
            exclusions: parse_exclusions(&r.text("exclusions")?),
            created_at: r.i64("created_at")?,
            closed_at: r.opt_i64("closed_at")?,
            dispatch_number: r.opt_text("dispatch_number")?,
            file_code: r.opt_text("file_code")?,
            retention: r.opt_text("retention")?,
            receipt_number: r.opt_text("receipt_number")?,
            due_day: r.opt_text("due_day")?,
            deadline_kind: r.opt_text("deadline_kind")?,
            extensions: r.i64("extensions")?,
            extension_days: r.i64("extension_days")?,
            asked: match r.opt_text("asked_kind")? {
                None => None,
                Some(k) => Some(TimeRequest {
                    kind: crate::timing::RequestKind::parse(&k)
                        .ok_or_else(|| corrupt("申請", k.clone()))?,
                    days: r.opt_i64("asked_days")?.unwrap_or(0),
                    day: r.opt_text("asked_day")?,
                    level: r.opt_i64("asked_level")?.unwrap_or(1),
                    by: r.opt_text("asked_by")?.unwrap_or_default(),
                    seq: r.opt_i64("asked_seq")?.unwrap_or(0),
                }),
            },
        })
    }
}

/// "2,8" → [2, 8]; anything else in the column is dropped (it is written only by this crate).
pub(crate) fn parse_exclusions(s: &str) -> Vec<u8> {
    s.split(',')
        .filter_map(|n| n.trim().parse::<u8>().ok())
        .filter(|n| (1..=8).contains(n))
        .collect()
}

pub(crate) fn exclusions_text(ex: &[u8]) -> String {
    ex.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

const CASE_COLUMNS: &str = "id, origin, subject, matter, urgency, state, unit, officer, holder, exclusions, created_at, closed_at, dispatch_number, file_code, retention, receipt_number, due_day, deadline_kind, extensions, extension_days, asked_kind, asked_days, asked_day, asked_level, asked_by, asked_seq";

pub async fn case(db: &Db, id: &str) -> Result<Case, OfficeError> {
    let r = db
        .fetch_optional(
            &format!("SELECT {CASE_COLUMNS} FROM office_cases WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or_else(|| OfficeError::new(Code::NotFound, format!("沒有案件「{id}」")))?;
    Ok(Case::from_row(&r)?)
}

/// The next serial of a yearly series (收文號 …) as `ROC year` + 7 digits, e.g. 1150000001.
pub async fn next_number(db: &Db, series: &str, now_ms: i64) -> Result<String, OfficeError> {
    let year = taipei_year(now_ms);
    let mut tx = db.begin().await?;
    tx.execute(
        "INSERT INTO office_counters (name, year, next) VALUES ($1, $2, 1) ON CONFLICT DO NOTHING",
        &[series.into(), year.into()],
    )
    .await?;
    let n = tx
        .fetch_optional(
            "UPDATE office_counters SET next = next + 1 WHERE name = $1 AND year = $2 RETURNING next - 1",
            &[series.into(), year.into()],
        )
        .await?
        .map(|r| r.i64(0))
        .transpose()?
        .unwrap_or(1);
    tx.commit().await?;
    Ok(serial(year, n))
}

/// One version of one of a case's documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The document within the case: `incoming`, `memo-1`, `draft-1` …
    pub doc: String,
    pub version: i64,
    /// `incoming`, `scan`, `memo` (簽) or `draft` (稿).
    pub kind: String,
    pub sha256: String,
    pub author: String,
    pub created_at: i64,
}

/// The latest version of each of the case's documents, by document.
pub async fn current_versions(db: &Db, case_id: &str) -> Result<Vec<Version>, OfficeError> {
    let all = versions(db, case_id).await?;
    let mut out: Vec<Version> = Vec::new();
    for v in all {
        match out.last_mut() {
            Some(last) if last.doc == v.doc => *last = v,
            _ => out.push(v),
        }
    }
    Ok(out)
}

/// Every version, by document and version.
pub async fn versions(db: &Db, case_id: &str) -> Result<Vec<Version>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT doc, version, kind, sha256, author, created_at FROM office_versions WHERE case_id = $1 ORDER BY doc, version",
            &[case_id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Version {
                doc: r.text("doc")?,
                version: r.i64("version")?,
                kind: r.text("kind")?,
                sha256: r.text("sha256")?,
                author: r.text("author")?,
                created_at: r.i64("created_at")?,
            })
        })
        .collect()
}

/// The bytes of one version.
pub async fn version_content(
    db: &Db,
    case_id: &str,
    doc: &str,
    version: i64,
) -> Result<Vec<u8>, OfficeError> {
    db.fetch_optional(
        "SELECT content FROM office_versions WHERE case_id = $1 AND doc = $2 AND version = $3",
        &[case_id.into(), doc.into(), version.into()],
    )
    .await?
    .map(|r| r.bytes(0))
    .transpose()?
    .ok_or_else(|| {
        OfficeError::new(
            Code::NotFound,
            format!("案件「{case_id}」沒有「{doc}」第 {version} 版"),
        )
    })
}

/// A unit asked for 會辦, and whether it has answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consult {
    pub position: i64,
    pub unit: String,
    pub in_sequence: bool,
    pub opinion_seq: Option<i64>,
    /// 會辦期限 (`YYYY-MM-DD`): stated, or 速件 from when the unit was asked; None while a unit
    /// in sequence waits for its turn.
    pub due_day: Option<String>,
}

pub async fn consults(db: &Db, case_id: &str) -> Result<Vec<Consult>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT position, unit, in_sequence, opinion_seq, due_day FROM office_consults WHERE case_id = $1 ORDER BY position",
            &[case_id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Consult {
                position: r.i64("position")?,
                unit: r.text("unit")?,
                in_sequence: r.bool("in_sequence")?,
                opinion_seq: r.opt_i64("opinion_seq")?,
                due_day: r.opt_text("due_day")?,
            })
        })
        .collect()
}

/// The units whose 會辦意見 is awaited now: all open ones in parallel, the first open one in
/// sequence.
pub fn awaited(consults: &[Consult]) -> Vec<&Consult> {
    let open: Vec<&Consult> = consults
        .iter()
        .filter(|c| c.opinion_seq.is_none())
        .collect();
    match open.first() {
        Some(first) if first.in_sequence => vec![first],
        _ => open,
    }
}

/// A line of a worklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkItem {
    pub id: String,
    pub subject: String,
    pub urgency: String,
    pub state: State,
    pub created_at: i64,
    /// 限辦日期 as stored (`YYYY-MM-DD`); None: computed from 速別.
    pub due_day: Option<String>,
}

impl WorkItem {
    fn from_row(r: &Row) -> Result<WorkItem, StoreError> {
        let s = r.text("state")?;
        Ok(WorkItem {
            id: r.text("id")?,
            subject: r.text("subject")?,
            urgency: r.text("urgency")?,
            state: State::parse(&s).ok_or_else(|| StoreError::Corrupt {
                detail: format!("案件狀態「{s}」"),
            })?,
            created_at: r.i64("created_at")?,
            due_day: r.opt_text("due_day")?,
        })
    }
}

/// Which cases of a state a worklist shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    All,
    /// Held by this person.
    Holder(&'a str),
    /// Assigned to this unit.
    Unit(&'a str),
    /// Awaiting this unit's 會辦意見.
    Consulted(&'a str),
    /// This officer's, with a copy returned (退文).
    Returned(&'a str),
}

/// The cases in `state` within `scope`, oldest first; at most `limit`.
pub async fn worklist(
    db: &Db,
    state: State,
    scope: Scope<'_>,
    limit: i64,
) -> Result<Vec<WorkItem>, OfficeError> {
    const COLUMNS: &str = "c.id, c.subject, c.urgency, c.state, c.created_at, c.due_day";
    let (filter, arg) = match scope {
        Scope::All => ("", None),
        Scope::Holder(h) => (" AND c.holder = $3", Some(h)),
        Scope::Unit(u) => (" AND c.unit = $3", Some(u)),
        Scope::Consulted(u) => (
            " AND EXISTS (SELECT 1 FROM office_consults k WHERE k.case_id = c.id AND k.unit = $3 AND k.opinion_seq IS NULL)",
            Some(u),
        ),
        Scope::Returned(o) => (
            " AND c.officer = $3 AND EXISTS (SELECT 1 FROM office_dispatches d WHERE d.case_id = c.id AND d.returned IS NOT NULL)",
            Some(o),
        ),
    };
    // A unit asked for 會辦 sees its own 會辦期限, not the case's.
    let columns = match scope {
        Scope::Consulted(_) => {
            "c.id, c.subject, c.urgency, c.state, c.created_at, (SELECT MIN(k.due_day) FROM office_consults k WHERE k.case_id = c.id AND k.unit = $3 AND k.opinion_seq IS NULL) AS due_day"
        }
        _ => COLUMNS,
    };
    let sql = format!(
        "SELECT {columns} FROM office_cases c WHERE c.state = $1{filter} ORDER BY c.created_at, c.id LIMIT $2"
    );
    let mut args = vec![state.as_str().into(), limit.into()];
    args.extend(arg.map(Into::into));
    let rows = db.fetch_all(&sql, &args).await?;
    let items = rows.iter().map(WorkItem::from_row);
    Ok(items.collect::<Result<_, _>>()?)
}

/// One worklist of a person's page: its zh-TW name and its cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worklist {
    pub name: String,
    pub items: Vec<WorkItem>,
}

/// The worklists of `person` on `day` by their roles (seed 003's training table), and those of
/// the people they deputise for that day, marked 「代」.
pub async fn worklists_for(
    db: &Db,
    person: &str,
    day: &str,
    limit: i64,
) -> Result<Vec<Worklist>, OfficeError> {
    use crate::org::{self, Role};
    let mut out = Vec::new();
    let mut whom: Vec<(String, &str)> = vec![(person.to_string(), "")];
    for p in org::principals_on(db, person, day).await? {
        whom.push((p, "（代）"));
    }
    for (who, mark) in &whom {
        let name = |n: &str| format!("{n}{mark}");
        for (role, unit) in org::roles(db, who).await? {
            let root = org::unit(db, &unit).await?.depth == 0;
            let lists: Vec<(&str, State, Scope)> = match role {
                Role::Clerk => vec![("待發文", State::ToDispatch, Scope::All)],
                Role::Desk if root => vec![("待分文", State::Registered, Scope::All)],
                Role::Desk => vec![("待分辦", State::AtUnit, Scope::Unit(&unit))],
                Role::Officer => vec![
                    ("我的案件", State::WithOfficer, Scope::Holder(who)),
                    ("待會辦", State::Consulting, Scope::Consulted(&unit)),
                    ("被退文", State::ToFile, Scope::Returned(who)),
                ],
                Role::Supervisor => vec![
                    ("待核決", State::InReview, Scope::Holder(who)),
                    ("待會辦", State::Consulting, Scope::Consulted(&unit)),
                ],
                Role::Head => vec![("待核決", State::InReview, Scope::Holder(who))],
                Role::Archivist => vec![("待歸檔", State::ToFile, Scope::All)],
                Role::FollowUp | Role::Admin => vec![],
            };
            for (n, state, scope) in lists {
                let n = name(n);
                if !out.iter().any(|w: &Worklist| w.name == n) {
                    let items = worklist(db, state, scope, limit).await?;
                    out.push(Worklist { name: n, items });
                }
            }
            // A head grants the 展期 and 專案管制 asked at the level they head.
            let level = match role {
                Role::Head => 1,
                Role::Supervisor => org::unit(db, &unit).await?.depth + 1,
                _ => continue,
            };
            let n = name("待核准展期");
            let under = org::subtree(db, &unit).await?;
            let items = asked_of(db, &under, level, limit).await?;
            match out.iter_mut().find(|w| w.name == n) {
                Some(w) => w.items.extend(items),
                None => out.push(Worklist { name: n, items }),
            }
        }
    }
    Ok(out)
}

/// Most units a worklist names (an agency has far fewer under one head).
const MAX_SCOPE_UNITS: usize = 1000;

/// Running cases of `units` with a 展期 or 改列專案管制 asked to be granted at `level`.
pub async fn asked_of(
    db: &Db,
    units: &[String],
    level: i64,
    limit: i64,
) -> Result<Vec<WorkItem>, OfficeError> {
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let mut args: Vec<gongwen_store::Value> = vec![level.into(), limit.into()];
    let mut marks = Vec::new();
    for u in units.iter().take(MAX_SCOPE_UNITS) {
        args.push(u.as_str().into());
        marks.push(format!("${}", args.len()));
    }
    // The head of the agency grants for every unit: no list of them.
    let filter = if level == 1 {
        String::new()
    } else {
        format!(" AND c.unit IN ({})", marks.join(", "))
    };
    if level == 1 {
        args.truncate(2);
    }
    let sql = format!(
        "SELECT c.id, c.subject, c.urgency, c.state, c.created_at, c.due_day FROM office_cases c \
         WHERE c.asked_level = $1{filter} AND {} ORDER BY c.created_at, c.id LIMIT $2",
        running_sql()
    );
    let rows = db.fetch_all(&sql, &args).await?;
    let items = rows.iter().map(WorkItem::from_row);
    Ok(items.collect::<Result<_, _>>()?)
}

/// The year (Gregorian) it is in Taipei: the year a number series counts in.
fn taipei_year(now_ms: i64) -> i64 {
    crate::taipei_day(now_ms)
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(1911)
}

/// The `n`-th number of a series in `year`: ROC year + 7 digits.
fn serial(year: i64, n: i64) -> String {
    format!("{}{n:07}", year - 1911)
}

/// The number the next case of this year will get from `series`, without taking it: what the
/// administrator's page shows.
pub async fn peek_number(db: &Db, series: &str, now_ms: i64) -> Result<String, OfficeError> {
    let year = taipei_year(now_ms);
    let next = db
        .fetch_optional(
            "SELECT next FROM office_counters WHERE name = $1 AND year = $2",
            &[series.into(), year.into()],
        )
        .await?
        .map(|r| r.i64(0))
        .transpose()?
        .unwrap_or(1);
    Ok(serial(year, next))
}

/// The files an 電子收文 came with, by name, the DI first: what the clerk reads before
/// registering (each as received, never changed).
pub async fn intake_files(db: &Db, intake_id: &str) -> Result<Vec<(String, Vec<u8>)>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT name, content FROM office_intake_files WHERE intake = $1 ORDER BY name",
            &[intake_id.into()],
        )
        .await?;
    let mut files = Vec::new();
    for r in rows {
        files.push((r.text("name")?, r.bytes("content")?));
    }
    files.sort_by_key(|(name, _)| !name.to_ascii_lowercase().ends_with(".di"));
    Ok(files)
}

/// One received file's bytes.
pub async fn intake_file(db: &Db, intake_id: &str, name: &str) -> Result<Vec<u8>, OfficeError> {
    db.fetch_optional(
        "SELECT content FROM office_intake_files WHERE intake = $1 AND name = $2",
        &[intake_id.into(), name.into()],
    )
    .await?
    .map(|r| r.bytes(0))
    .transpose()?
    .ok_or_else(|| {
        OfficeError::new(
            Code::NotFound,
            format!("收文「{intake_id}」沒有檔案「{name}」"),
        )
    })
}

/// Cases on one page of a search.
pub const SEARCH_PAGE: i64 = 50;
/// The farthest page a search goes (then the words must narrow it).
pub const SEARCH_MAX_PAGE: i64 = 200;
/// Most words of a subject search, and the longest word or number searched for.
pub const SEARCH_MAX_WORDS: usize = 5;
pub const SEARCH_MAX_CHARS: usize = 50;

/// Whose cases a person may find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visible {
    /// Every case (檔案, 稽催, 系統管理).
    All,
    /// The cases these people hold or are officer of, and those assigned to these units.
    Own {
        people: Vec<String>,
        units: Vec<String>,
    },
}

/// A search: every part optional; words all appear in the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Part of the case number, 收文字號, 發文字號, or the incoming document's 發文字號.
    pub number: String,
    /// Words of the subject, separated by spaces.
    pub words: String,
    pub state: Option<State>,
    /// Created at or after (Unix ms).
    pub from_ms: Option<i64>,
    /// Created before (Unix ms).
    pub before_ms: Option<i64>,
    pub visible: Visible,
    /// From 1.
    pub page: i64,
}

/// One page of a search, the newest first, and whether another follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub items: Vec<WorkItem>,
    pub more: bool,
}

/// `text` as a LIKE pattern that finds it anywhere: `%`, `_` and `\` match only themselves
/// (with `ESCAPE '\'`).
pub fn like_anywhere(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The start of a Taipei day (`YYYY-MM-DD`) in Unix ms; `None` when it is not a date.
pub fn day_start_ms(day: &str) -> Option<i64> {
    crate::check_day("日期", day).ok()?;
    let mut parts = day.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?)
        .ok()?;
    let t = date
        .midnight()
        .assume_offset(gongwen_calendar::TAIPEI_OFFSET);
    Some(t.unix_timestamp() * 1000)
}

/// Finds cases by number, subject words, state and date, among those `q.visible` allows; a
/// page of [`SEARCH_PAGE`], the newest first.
pub async fn search(db: &Db, q: &SearchQuery) -> Result<Found, OfficeError> {
    use gongwen_store::Value;
    let too_long = |what: &str| crate::bad(format!("{what}最多 {SEARCH_MAX_CHARS} 個字"));
    let mut sql = String::from(
        "SELECT c.id, c.subject, c.urgency, c.state, c.created_at, c.due_day FROM office_cases c WHERE 1 = 1",
    );
    let mut args: Vec<Value> = Vec::new();
    let arg = |args: &mut Vec<Value>, v: Value| {
        args.push(v);
        format!("${}", args.len())
    };
    let number = q.number.trim();
    if !number.is_empty() {
        if number.chars().count() > SEARCH_MAX_CHARS {
            return Err(too_long("文號"));
        }
        let n = arg(&mut args, like_anywhere(number).into());
        sql.push_str(&format!(
            " AND (c.id LIKE {n} ESCAPE '\\' OR c.receipt_number LIKE {n} ESCAPE '\\' OR c.dispatch_number LIKE {n} ESCAPE '\\' \
             OR EXISTS (SELECT 1 FROM office_intake i WHERE i.case_id = c.id AND i.doc_number LIKE {n} ESCAPE '\\'))"
        ));
    }
    let words: Vec<&str> = q.words.split_whitespace().collect();
    if words.len() > SEARCH_MAX_WORDS {
        return Err(crate::bad(format!("主旨最多查 {SEARCH_MAX_WORDS} 個詞")));
    }
    for w in words {
        if w.chars().count() > SEARCH_MAX_CHARS {
            return Err(too_long("主旨的詞"));
        }
        let n = arg(&mut args, like_anywhere(w).into());
        sql.push_str(&format!(" AND c.subject LIKE {n} ESCAPE '\\'"));
    }
    if let Some(s) = q.state {
        let n = arg(&mut args, s.as_str().into());
        sql.push_str(&format!(" AND c.state = {n}"));
    }
    if let Some(from) = q.from_ms {
        let n = arg(&mut args, from.into());
        sql.push_str(&format!(" AND c.created_at >= {n}"));
    }
    if let Some(before) = q.before_ms {
        let n = arg(&mut args, before.into());
        sql.push_str(&format!(" AND c.created_at < {n}"));
    }
    if let Visible::Own { people, units } = &q.visible {
        let mut any = Vec::new();
        for p in people {
            let n = arg(&mut args, p.as_str().into());
            any.push(format!("c.holder = {n} OR c.officer = {n}"));
        }
        for u in units {
            let n = arg(&mut args, u.as_str().into());
            any.push(format!("c.unit = {n}"));
        }
        if any.is_empty() {
            return Ok(Found {
                items: Vec::new(),
                more: false,
            });
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    let page = q.page.clamp(1, SEARCH_MAX_PAGE);
    let limit = arg(&mut args, (SEARCH_PAGE + 1).into());
    let offset = arg(&mut args, ((page - 1) * SEARCH_PAGE).into());
    sql.push_str(&format!(
        " ORDER BY c.created_at DESC, c.id DESC LIMIT {limit} OFFSET {offset}"
    ));
    let rows = db.fetch_all(&sql, &args).await?;
    let mut items = rows
        .iter()
        .map(WorkItem::from_row)
        .collect::<Result<Vec<_>, StoreError>>()?;
    let more = items.len() as i64 > SEARCH_PAGE;
    items.truncate(SEARCH_PAGE as usize);
    Ok(Found { items, more })
}

/// The states in which a case's time runs: from receipt or creation to dispatch, 存查 or 簽結.
pub const RUNNING: [State; 6] = [
    State::Registered,
    State::AtUnit,
    State::WithOfficer,
    State::Consulting,
    State::InReview,
    State::ToDispatch,
];

fn running_sql() -> String {
    let states: Vec<String> = RUNNING
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("c.state IN ({})", states.join(", "))
}

/// Cases on one page of the 稽催 list.
pub const CHASE_PAGE: i64 = 100;
/// The farthest page of it.
pub const CHASE_MAX_PAGE: i64 = 100;
/// Most officers or units counted.
pub const CHASE_MAX_GROUPS: i64 = 500;

/// Whose cases a 稽催 list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChaseScope {
    /// The agency's (稽催、時效考核人員).
    All,
    /// These units' (their supervisors).
    Units(Vec<String>),
    /// One officer's own (their reminders).
    Officer(String),
}

/// A running case due by the list's last day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chased {
    pub id: String,
    pub subject: String,
    pub urgency: String,
    pub state: State,
    pub unit: Option<String>,
    pub officer: Option<String>,
    /// `YYYY-MM-DD`.
    pub due_day: String,
}

/// A page of [`chase_list`], and whether another follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChasePage {
    pub items: Vec<Chased>,
    pub more: bool,
}

/// The scope's filter, its arguments numbered from `first`.
fn chase_filter(scope: &ChaseScope, args: &mut Vec<gongwen_store::Value>) -> Option<String> {
    match scope {
        ChaseScope::All => Some(String::new()),
        ChaseScope::Units(units) if units.is_empty() => None,
        ChaseScope::Units(units) => {
            let mut marks = Vec::new();
            for u in units {
                args.push(u.as_str().into());
                marks.push(format!("${}", args.len()));
            }
            Some(format!(" AND c.unit IN ({})", marks.join(", ")))
        }
        ChaseScope::Officer(person) => {
            args.push(person.as_str().into());
            Some(format!(" AND c.officer = ${}", args.len()))
        }
    }
}

/// Running cases due on or before `until` (`YYYY-MM-DD`: overdue ones and those due soon),
/// the earliest due first; a page of [`CHASE_PAGE`].
pub async fn chase_list(
    db: &Db,
    scope: &ChaseScope,
    until: &str,
    page: i64,
) -> Result<ChasePage, OfficeError> {
    let mut args: Vec<gongwen_store::Value> = vec![until.into()];
    let Some(filter) = chase_filter(scope, &mut args) else {
        return Ok(ChasePage {
            items: Vec::new(),
            more: false,
        });
    };
    let page = page.clamp(1, CHASE_MAX_PAGE);
    args.push((CHASE_PAGE + 1).into());
    let limit = args.len();
    args.push(((page - 1) * CHASE_PAGE).into());
    let offset = args.len();
    let sql = format!(
        "SELECT c.id, c.subject, c.urgency, c.state, c.unit, c.officer, c.due_day FROM office_cases c \
         WHERE c.due_day <= $1 AND {}{filter} ORDER BY c.due_day, c.id LIMIT ${limit} OFFSET ${offset}",
        running_sql()
    );
    let rows = db.fetch_all(&sql, &args).await?;
    let mut items = Vec::new();
    for r in &rows {
        let s = r.text("state")?;
        items.push(Chased {
            id: r.text("id")?,
            subject: r.text("subject")?,
            urgency: r.text("urgency")?,
            state: State::parse(&s).ok_or_else(|| StoreError::Corrupt {
                detail: format!("案件狀態「{s}」"),
            })?,
            unit: r.opt_text("unit")?,
            officer: r.opt_text("officer")?,
            due_day: r.text("due_day")?,
        });
    }
    let more = items.len() as i64 > CHASE_PAGE;
    items.truncate(CHASE_PAGE as usize);
    Ok(ChasePage { items, more })
}

/// How many running cases of one officer or unit are overdue and due soon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChaseCount {
    /// The officer's or unit's id; None: no officer (unit) yet.
    pub key: Option<String>,
    pub overdue: i64,
    pub due_soon: i64,
}

/// By whom [`chase_counts`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChaseBy {
    Officer,
    Unit,
    Agency,
}

/// Overdue (due before `today`) and due-soon (due from `today` to `until`) running cases, per
/// officer, per unit or for the agency; the most overdue first.
pub async fn chase_counts(
    db: &Db,
    scope: &ChaseScope,
    today: &str,
    until: &str,
    by: ChaseBy,
) -> Result<Vec<ChaseCount>, OfficeError> {
    let mut args: Vec<gongwen_store::Value> = vec![today.into(), until.into()];
    let Some(filter) = chase_filter(scope, &mut args) else {
        return Ok(Vec::new());
    };
    // The agency is one group: no GROUP BY (PostgreSQL refuses a constant there).
    let (key, group) = match by {
        ChaseBy::Officer => ("c.officer", " GROUP BY c.officer"),
        ChaseBy::Unit => ("c.unit", " GROUP BY c.unit"),
        ChaseBy::Agency => ("CAST(NULL AS TEXT)", ""),
    };
    args.push(CHASE_MAX_GROUPS.into());
    let limit = args.len();
    let sql = format!(
        "SELECT {key} AS k, SUM(CASE WHEN c.due_day < $1 THEN 1 ELSE 0 END) AS overdue, \
         SUM(CASE WHEN c.due_day >= $1 THEN 1 ELSE 0 END) AS soon FROM office_cases c \
         WHERE c.due_day <= $2 AND {}{filter}{group} ORDER BY overdue DESC, soon DESC LIMIT ${limit}",
        running_sql()
    );
    let rows = db.fetch_all(&sql, &args).await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(ChaseCount {
            key: r.opt_text("k")?,
            overdue: r.opt_i64("overdue")?.unwrap_or(0),
            due_soon: r.opt_i64("soon")?.unwrap_or(0),
        });
    }
    Ok(out)
}

/// Most cases [`fill_due_days`] fills in one call.
pub const FILL_BATCH: i64 = 500;

/// Stores the 速別 deadline of running cases that have none: those from before time control
/// was stored, and those whose count reached a year the office calendar did not cover when
/// they started (see [`crate::timing::NewDue::day`]); at most [`FILL_BATCH`] a call, oldest
/// first. Returns how many were filled; a case whose year is still uncovered stays empty.
pub async fn fill_due_days(
    db: &Db,
    cal: &gongwen_calendar::WorkCalendar,
) -> Result<usize, OfficeError> {
    let sql = format!(
        "SELECT c.id, c.urgency, c.created_at, c.extension_days FROM office_cases c \
         WHERE c.due_day IS NULL AND (c.deadline_kind IS NULL OR c.deadline_kind = 'urgency') \
         AND {} ORDER BY c.created_at, c.id LIMIT $1",
        running_sql()
    );
    let rows = db.fetch_all(&sql, &[FILL_BATCH.into()]).await?;
    let mut n = 0;
    for r in &rows {
        let Some(started) = crate::deadlines::day_of(r.i64("created_at")?) else {
            continue;
        };
        let extra = u32::try_from(r.i64("extension_days")?).unwrap_or(0);
        let Ok(due) = crate::timing::urgency_due(cal, started, &r.text("urgency")?, extra) else {
            continue;
        };
        n += db
            .execute(
                "UPDATE office_cases SET due_day = $2, deadline_kind = 'urgency' WHERE id = $1 AND due_day IS NULL",
                &[r.text("id")?.into(), crate::timing::iso(due).into()],
            )
            .await? as usize;
    }
    Ok(n)
}

/// Running cases with no deadline yet (their year's calendar is missing): what the operator's
/// pages warn about.
pub async fn count_without_due_day(db: &Db) -> Result<i64, OfficeError> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM office_cases c WHERE c.due_day IS NULL AND {}",
        running_sql()
    );
    let rows = db.fetch_all(&sql, &[]).await?;
    Ok(match rows.first() {
        Some(r) => r.i64("n")?,
        None => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        for o in Origin::ALL {
            assert_eq!(Origin::parse(o.as_str()), Some(o));
        }
    }

    #[test]
    fn exclusions_read_back() {
        assert_eq!(parse_exclusions(&exclusions_text(&[2, 8])), vec![2, 8]);
        assert_eq!(parse_exclusions(""), Vec::<u8>::new());
        assert_eq!(parse_exclusions("0,9,x,3"), vec![3]);
    }

    fn consult(position: i64, in_sequence: bool, done: bool) -> Consult {
        Consult {
            position,
            unit: format!("u{position}"),
            in_sequence,
            opinion_seq: done.then_some(position + 10),
            due_day: None,
        }
    }

    #[test]
    fn parallel_consults_await_all_open_sequence_the_first() {
        let par = [
            consult(1, false, true),
            consult(2, false, false),
            consult(3, false, false),
        ];
        assert_eq!(awaited(&par).len(), 2);
        let seq = [
            consult(1, true, true),
            consult(2, true, false),
            consult(3, true, false),
        ];
        assert_eq!(
            awaited(&seq).iter().map(|c| c.position).collect::<Vec<_>>(),
            vec![2]
        );
        let done = [consult(1, true, true)];
        assert!(awaited(&done).is_empty());
    }

    use crate::org::testing::{agency, with_db};

    #[test]
    fn like_patterns_match_only_what_is_typed() {
        assert_eq!(like_anywhere("a%b_c\\"), "%a\\%b\\_c\\\\%");
        assert_eq!(like_anywhere("公文"), "%公文%");
    }

    #[test]
    fn days_start_at_taipei_midnight() {
        // 2026-01-05 00:00 in Taipei is 2026-01-04T16:00:00Z.
        assert_eq!(day_start_ms("2026-01-05"), Some(1_767_542_400_000));
        assert_eq!(day_start_ms("2026-02-30"), None);
        assert_eq!(day_start_ms("115-01-05"), None);
    }

    async fn add_case(
        db: &Db,
        id: &str,
        subject: &str,
        state: State,
        unit: Option<&str>,
        holder: Option<&str>,
        at: i64,
    ) {
        db.execute(
            "INSERT INTO office_cases (id, origin, subject, matter, urgency, state, unit, officer, holder, created_at) VALUES ($1, 'paper', $2, '一般', '普通件', $3, $4, $5, $5, $6)",
            &[
                id.into(),
                subject.into(),
                state.as_str().into(),
                unit.into(),
                holder.into(),
                at.into(),
            ],
        )
        .await
        .unwrap();
    }

    fn query(visible: Visible) -> SearchQuery {
        SearchQuery {
            number: String::new(),
            words: String::new(),
            state: None,
            from_ms: None,
            before_ms: None,
            visible,
            page: 1,
        }
    }

    #[test]
    fn search_finds_by_number_words_state_and_day_within_what_one_may_see() {
        with_db("search", |db| async move {
            agency(&db).await;
            let day = day_start_ms("2026-03-02").unwrap();
            add_case(
                &db,
                "1150000001",
                "校園安全 100% 檢查",
                State::WithOfficer,
                Some("k12"),
                Some("officer"),
                day,
            )
            .await;
            add_case(
                &db,
                "1150000002",
                "校園_午餐",
                State::Filed,
                Some("k12"),
                None,
                day + 1000,
            )
            .await;
            add_case(
                &db,
                "1150000003",
                "體育 校園 活動",
                State::InReview,
                Some("hs"),
                Some("other"),
                day + 86_400_000,
            )
            .await;
            add_case(
                &db,
                "1150000004",
                "待分文",
                State::Registered,
                None,
                None,
                day - 86_400_000,
            )
            .await;
            db.execute(
                "UPDATE office_cases SET dispatch_number = '北市教字第1150001234號' WHERE id = '1150000002'",
                &[],
            )
            .await
            .unwrap();
            let ids = |f: &Found| f.items.iter().map(|i| i.id.clone()).collect::<Vec<_>>();

            let all = search(&db, &query(Visible::All)).await.unwrap();
            assert_eq!(
                ids(&all),
                ["1150000003", "1150000002", "1150000001", "1150000004"],
                "newest first"
            );
            assert!(!all.more);

            let mut q = query(Visible::All);
            q.words = "校園 檢查".into();
            assert_eq!(ids(&search(&db, &q).await.unwrap()), ["1150000001"]);
            q.words = "100%".into();
            assert_eq!(ids(&search(&db, &q).await.unwrap()), ["1150000001"]);
            q.words = "%".into();
            assert_eq!(
                ids(&search(&db, &q).await.unwrap()),
                ["1150000001"],
                "% is itself"
            );
            q.words = "_".into();
            assert_eq!(
                ids(&search(&db, &q).await.unwrap()),
                ["1150000002"],
                "_ is itself"
            );

            let mut q = query(Visible::All);
            q.number = "1234".into();
            assert_eq!(
                ids(&search(&db, &q).await.unwrap()),
                ["1150000002"],
                "by 發文字號"
            );
            q.number = "0000003".into();
            assert_eq!(ids(&search(&db, &q).await.unwrap()), ["1150000003"]);

            let mut q = query(Visible::All);
            q.state = Some(State::Filed);
            assert_eq!(ids(&search(&db, &q).await.unwrap()), ["1150000002"]);

            let mut q = query(Visible::All);
            q.from_ms = Some(day);
            q.before_ms = Some(day + 86_400_000);
            assert_eq!(
                ids(&search(&db, &q).await.unwrap()),
                ["1150000002", "1150000001"]
            );

            let own = |people: &[&str], units: &[&str]| Visible::Own {
                people: people.iter().map(|p| p.to_string()).collect(),
                units: units.iter().map(|u| u.to_string()).collect(),
            };
            let f = search(&db, &query(own(&["other"], &[]))).await.unwrap();
            assert_eq!(ids(&f), ["1150000003"], "held by them");
            let f = search(&db, &query(own(&["officer"], &["k12"])))
                .await
                .unwrap();
            assert_eq!(ids(&f), ["1150000002", "1150000001"], "and their unit's");
            let f = search(&db, &query(own(&[], &[]))).await.unwrap();
            assert!(f.items.is_empty());

            let mut q = query(Visible::All);
            q.words = "a b c d e f".into();
            assert_eq!(search(&db, &q).await.unwrap_err().code(), Code::BadRequest);
        });
    }

    #[test]
    fn search_pages_are_bounded() {
        with_db("search-pages", |db| async move {
            agency(&db).await;
            for i in 0..(SEARCH_PAGE + 3) {
                add_case(
                    &db,
                    &format!("115{i:07}"),
                    "案",
                    State::Filed,
                    None,
                    None,
                    i,
                )
                .await;
            }
            let first = search(&db, &query(Visible::All)).await.unwrap();
            assert_eq!(first.items.len() as i64, SEARCH_PAGE);
            assert!(first.more);
            let mut q = query(Visible::All);
            q.page = 2;
            let second = search(&db, &q).await.unwrap();
            assert_eq!(second.items.len(), 3);
            assert!(!second.more);
            assert_eq!(second.items[2].id, "1150000000", "the oldest last");
            q.page = -5;
            assert_eq!(
                search(&db, &q).await.unwrap().items.len() as i64,
                SEARCH_PAGE
            );
        });
    }

    #[test]
    fn numbers_are_peeked_without_being_taken() {
        with_db("numbers", |db| async move {
            let now = day_start_ms("2026-05-01").unwrap();
            assert_eq!(peek_number(&db, "case", now).await.unwrap(), "1150000001");
            assert_eq!(next_number(&db, "case", now).await.unwrap(), "1150000001");
            assert_eq!(peek_number(&db, "case", now).await.unwrap(), "1150000002");
            assert_eq!(peek_number(&db, "case", now).await.unwrap(), "1150000002");
            let next_year = day_start_ms("2027-01-01").unwrap();
            assert_eq!(
                peek_number(&db, "case", next_year).await.unwrap(),
                "1160000001"
            );
        });
    }

    #[test]
    fn received_files_read_back_the_di_first() {
        with_db("intake-files", |db| async move {
            db.execute(
                "INSERT INTO office_intake (id, sender, sender_name, doc_number, subject, urgency, received_at, fetched_at) VALUES ('p1', 'A', '甲', '字號', '主旨', '普通件', 1, 1)",
                &[],
            )
            .await
            .unwrap();
            for (name, content) in [
                ("a.pdf", b"%PDF-1.4".as_slice()),
                ("x.di", b"<di/>"),
                ("x.sw", b"<sw/>"),
            ] {
                db.execute(
                    "INSERT INTO office_intake_files (intake, name, content) VALUES ('p1', $1, $2)",
                    &[name.into(), content.into()],
                )
                .await
                .unwrap();
            }
            let files = intake_files(&db, "p1").await.unwrap();
            assert_eq!(
                files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
                ["x.di", "a.pdf", "x.sw"]
            );
            assert_eq!(intake_file(&db, "p1", "a.pdf").await.unwrap(), b"%PDF-1.4");
            assert_eq!(
                intake_file(&db, "p1", "../etc").await.unwrap_err().code(),
                Code::NotFound
            );
        });
    }
}
