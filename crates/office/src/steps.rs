//! Every action on a case is a step the actor signs with their own card. The office writes
//! the step as a short zh-TW text (what the signer shows), the person signs it (CMS
//! SignedData, verifiable with `openssl cms -verify`), and [`commit`] checks everything again
//! before anything in the case changes:
//!
//! - the signed text is exactly the text the office writes for this request now (so a
//!   signature over another version, another case or an older state is refused);
//! - the signer's certificate is the one registered for the actor, trusted, not expired and
//!   not revoked at the time of signing;
//! - the actor may take this action now (role, holder, deputy within dates, deciding level).
//!
//! Each text names the SHA-256 of the previous step's signature, so a removed, reordered or
//! altered step breaks the chain ([`crate::export::verify`]).

use gongwen_proto::Code;
use gongwen_proto::office::one_line;
use gongwen_store::{Db, sha256_hex};
use gongwen_trust::cms;
use gongwen_trust::path::{Purpose, TrustStore, hex, spki_sha256};

use crate::cases::{self, Case, Origin, State, Version};
use crate::org::{self, Role};
use crate::timing::{self, DeadlineKind, ExtensionRules, Limit, NewDue, RequestKind};
use crate::{OfficeError, bad, check_text, delegation, intake};
use gongwen_calendar::WorkCalendar;

/// The first line of every signed step: the signer signs nothing else of the office's.
pub use gongwen_proto::office::STEP_HEAD;

/// How long a prepared text may wait for its signature.
pub const SIGN_WITHIN_MS: i64 = 10 * 60_000;

/// Who wrote a 會辦意見: the unit's head (the unit has answered) or its officer (the head's
/// opinion still awaited).
const OPINION_OF_HEAD: &str = "會辦身分：單位主管（本單位會辦完成）";
const OPINION_OF_OFFICER: &str = "會辦身分：承辦人（待單位主管核可）";

/// Most units asked for 會辦 at once.
pub const MAX_CONSULTED: usize = 20;

/// Longest comment, reason or opinion in a step.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// Largest document version the office keeps (a scanned incoming document with attachments).
pub const MAX_VERSION_BYTES: usize = 50 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// 登記 (總收文): the clerk registers an incoming or paper document.
    Register,
    /// 分文: the registration desk gives the case to a unit (or 改分 to another).
    AssignUnit,
    /// 分辦: the unit's desk gives it to an officer.
    AssignOfficer,
    /// 退回登記桌: the officer hands a mis-assigned case back, with a reason.
    ReturnToDesk,
    /// 退文: the clerk returns the document to its sender, with a reason.
    Refuse,
    /// 創簽 / 創稿: an officer starts a case of their own.
    Create,
    /// 擬辦: the officer writes a 簽 or 稿, or a new version of one.
    Draft,
    /// 改列紙本: an exclusion applies; the case is signed off on paper.
    Flag,
    /// 送會: the officer asks other units (in parallel or in sequence).
    Consult,
    /// 會辦意見.
    Opinion,
    /// 陳核: the officer submits upward.
    Submit,
    /// 核轉: a reviewer approves and passes on.
    Approve,
    /// 修改: a reviewer amends the text (a new version).
    Amend,
    /// 退回: a reviewer returns it, to the officer or an earlier reviewer, with a reason.
    Return,
    /// 決行: 發 / 不發 / 緩發 per draft.
    Decide,
    /// 發文: the clerk gives the 發文字號 and sends.
    Dispatch,
    /// 歸檔.
    File,
    /// 重辦: a copy came back (退文); the officer takes the case up again.
    Reopen,
    /// 改速別: the receiving unit's head changes an incoming 速別 that does not fit, with a
    /// reason; the deadline is counted again from the day the case started.
    ChangeUrgency,
    /// 展期: the officer asks for more working days, with a reason, within the agency's limits;
    /// a head grants it ([`Action::GrantTime`]) at the level its length needs.
    Extend,
    /// 改列專案管制: the officer asks for the case's own date, with a reason.
    ProjectControl,
    /// 核准: a head grants the open 展期 or 改列專案管制; the deadline moves.
    GrantTime,
    /// 不予核准: a head refuses it, with a reason; the deadline stays.
    DenyTime,
}

gongwen_proto::words!(Action, parse words {
    Register => "register", "登記";
    AssignUnit => "assign_unit", "分文";
    AssignOfficer => "assign_officer", "分辦";
    ReturnToDesk => "return_to_desk", "退回登記桌";
    Refuse => "refuse", "退文";
    Create => "create", "創簽／創稿";
    Draft => "draft", "擬辦";
    Flag => "flag", "改列紙本";
    Consult => "consult", "送會";
    Opinion => "opinion", "會辦意見";
    Submit => "submit", "陳核";
    Approve => "approve", "核轉";
    Amend => "amend", "修改";
    Return => "return", "退回";
    Decide => "decide", "決行";
    Dispatch => "dispatch", "發文";
    File => "file", "歸檔";
    Reopen => "reopen", "重辦";
    ChangeUrgency => "change_urgency", "改速別";
    Extend => "extend", "申請展期";
    ProjectControl => "project_control", "申請改列專案管制";
    GrantTime => "grant_time", "核准展期或專案管制";
    DenyTime => "deny_time", "不予核准展期或專案管制";
});

/// The decider's word on one draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Issue,
    Withhold,
    Defer,
}

gongwen_proto::words!(Decision, parse words {
    Issue => "issue", "發";
    Withhold => "withhold", "不發";
    Defer => "defer", "緩發";
});

/// A new case's particulars (Register, Create).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    pub origin: Origin,
    pub subject: String,
    pub matter: String,
    pub urgency: String,
    /// 電子收文: the received document (`intake`) whose files become the case's versions.
    pub intake: Option<String>,
}

/// A new version of one of the case's documents (Register, Create, Draft, Amend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    pub doc: String,
    pub kind: String,
    pub content: Vec<u8>,
}

/// What a person asks to do. The office turns it into the text they sign ([`prepare`]) and,
/// with their signature, into a step ([`commit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub case: String,
    pub action: Action,
    pub actor: String,
    /// Acting as deputy for this person (「代」).
    pub principal: Option<String>,
    /// The unit (分文, 送會: several, comma-separated) or person (分辦, 陳核, 核轉, 退回).
    pub target: Option<String>,
    pub new_case: Option<NewCase>,
    pub version: Option<NewVersion>,
    pub decisions: Vec<(String, Decision)>,
    /// Exclusion numbers (Flag); 會辦 in sequence (Consult) is `in_sequence`.
    pub exclusions: Vec<u8>,
    pub in_sequence: bool,
    /// Comment, reason, 檔號, or the dispatch channel, as the action needs.
    pub comment: String,
    /// 保存年限 (File).
    pub retention: Option<String>,
    /// A 限期 or 專案管制 date for a new case (Register, Create), the date of 改列專案管制
    /// (ProjectControl), or the 會辦 deadline the officer states (Consult, 限期); None: by
    /// 速別 (a 會辦 then counts as 速件).
    pub limit: Option<Limit>,
    /// Working days asked (展期).
    pub days: u32,
    /// When the text was prepared (Unix ms); it is part of what is signed.
    pub at: i64,
}

impl Request {
    pub fn new(case: &str, action: Action, actor: &str, at: i64) -> Request {
        Request {
            case: case.to_string(),
            action,
            actor: actor.to_string(),
            principal: None,
            target: None,
            new_case: None,
            version: None,
            decisions: Vec::new(),
            exclusions: Vec::new(),
            in_sequence: false,
            comment: String::new(),
            retention: None,
            limit: None,
            days: 0,
            at,
        }
    }
}

/// The office's own context for steps: its agency and whom it trusts for people's cards.
pub struct Office<'a> {
    pub db: &'a Db,
    /// 機關代碼 and name, in every signed text.
    pub agency: &'a str,
    pub trust: &'a TrustStore,
    /// The government office calendar deadlines count on.
    pub calendar: &'a WorkCalendar,
    /// The agency's 展期 limits.
    pub extensions: ExtensionRules,
}

/// One stored step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub seq: i64,
    pub action: Action,
    pub actor: String,
    pub principal: Option<String>,
    /// The signed text.
    pub signed: String,
    /// The CMS SignedData (DER).
    pub cms: Vec<u8>,
    pub cms_sha256: String,
    pub at: i64,
}

pub async fn steps(db: &Db, case_id: &str) -> Result<Vec<Step>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT seq, action, actor, principal, signed, cms, cms_sha256, at FROM office_steps WHERE case_id = $1 ORDER BY seq",
            &[case_id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Step {
                seq: r.i64("seq")?,
                action: action_of(r)?,
                actor: r.text("actor")?,
                principal: r.opt_text("principal")?,
                signed: String::from_utf8_lossy(&r.bytes("signed")?).into_owned(),
                cms: r.bytes("cms")?,
                cms_sha256: r.text("cms_sha256")?,
                at: r.i64("at")?,
            })
        })
        .collect()
}

/// A step without its texts: who did what, and its signature's digest. What the checks of a
/// new step read (the signatures themselves are read for the case page and the export).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trail {
    pub seq: i64,
    pub action: Action,
    pub actor: String,
    pub principal: Option<String>,
    pub cms_sha256: String,
}

fn action_of(r: &gongwen_store::Row) -> Result<Action, gongwen_store::StoreError> {
    let a = r.text("action")?;
    Action::parse(&a).ok_or_else(|| gongwen_store::StoreError::Corrupt {
        detail: format!("簽核動作「{a}」"),
    })
}

pub async fn trail(db: &Db, case_id: &str) -> Result<Vec<Trail>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT seq, action, actor, principal, cms_sha256 FROM office_steps WHERE case_id = $1 ORDER BY seq",
            &[case_id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Trail {
                seq: r.i64("seq")?,
                action: action_of(r)?,
                actor: r.text("actor")?,
                principal: r.opt_text("principal")?,
                cms_sha256: r.text("cms_sha256")?,
            })
        })
        .collect()
}

/// The text the actor is to sign for `req`, after every check of who may do what now.
pub async fn prepare(office: &Office<'_>, req: &Request) -> Result<String, OfficeError> {
    Ok(prepared(office, req).await?.text)
}

/// The text to sign and what the checks read to write it, which [`commit`] writes the step
/// from, so nothing is read twice.
struct Prepared {
    text: String,
    /// For whom the actor acts.
    acting: String,
    seq: i64,
    case: Option<Case>,
    current: Vec<Version>,
    /// The deadline this step sets (登記, 創簽, 改速別, 核准).
    due: Option<NewDue>,
    /// The level that is to grant what this step asks (展期, 改列專案管制).
    asked_level: Option<i64>,
}

async fn prepared(office: &Office<'_>, req: &Request) -> Result<Prepared, OfficeError> {
    let db = office.db;
    let day = crate::taipei_day(req.at);
    let actor = org::person(db, &req.actor).await?;
    // For whom the actor acts: themselves, or a principal they deputise for today.
    let acting = org::acting_for(db, &req.actor, req.principal.as_deref(), &day).await?;
    let existing = match req.action {
        Action::Register | Action::Create => None,
        _ => Some(cases::case(db, &req.case).await?),
    };
    let mut lines = vec![
        STEP_HEAD.to_string(),
        format!("機關：{}", one_line(office.agency)),
        format!("案件：{}", one_line(&req.case)),
    ];
    let prior = trail(db, &req.case).await?;
    lines.push(format!("序號：{}", prior.len() + 1));
    lines.push(format!(
        "動作：{}（{}）",
        req.action.label(),
        req.action.as_str()
    ));
    lines.push(format!("簽核人：{}（{}）", actor.display(), actor.id));
    if acting != req.actor {
        let p = org::person(db, &acting).await?;
        lines.push(format!("代：{}（{}）", p.display(), p.id));
    }
    let current = cases::current_versions(db, &req.case).await?;
    let extra = check(
        office,
        req,
        &acting,
        existing.as_ref(),
        &day,
        &prior,
        &current,
    )
    .await?;
    lines.extend(extra);
    let asked_level = match (req.action, existing.as_ref()) {
        (Action::Extend | Action::ProjectControl, Some(c)) => {
            let level = asked_level(office, req, c).await?;
            lines.push(format!(
                "核准層級：{}以上",
                crate::delegation::level_label(level)
            ));
            Some(level)
        }
        _ => None,
    };
    let due = new_due(office, req, existing.as_ref())?;
    lines.extend(due.as_ref().map(NewDue::line));
    if !req.comment.is_empty() {
        if req.comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(bad(format!("意見最多 {MAX_COMMENT_CHARS} 字")));
        }
        lines.push(format!("意見：{}", one_line(&req.comment)));
    }
    lines.push(format!("時間：{}（{}）", crate::roc_time(req.at), req.at));
    lines.push(format!(
        "前一步：{}",
        prior
            .last()
            .map_or("無".to_string(), |s| s.cms_sha256.clone())
    ));
    let text = lines.join("\n") + "\n";
    if text.len() > gongwen_proto::office::MAX_STEP_BYTES {
        return Err(bad("簽核內容過長：文件或決定太多"));
    }
    Ok(Prepared {
        text,
        acting,
        seq: prior.len() as i64 + 1,
        case: existing,
        current,
        due,
        asked_level,
    })
}

/// The level that grants a 展期 (by the case's total with it) or 改列專案管制, never above the
/// head of the case's own unit ([`timing::granting_level`]).
async fn asked_level(office: &Office<'_>, req: &Request, case: &Case) -> Result<i64, OfficeError> {
    let rules = &office.extensions;
    let needed = match req.action {
        Action::Extend => {
            let total = u32::try_from(case.extension_days).unwrap_or(u32::MAX);
            rules.level_for(total.saturating_add(req.days))
        }
        _ => rules.project_level,
    };
    let depth = match case.unit.as_deref() {
        Some(u) => org::unit(office.db, u).await?.depth,
        None => 0,
    };
    Ok(timing::granting_level(needed, depth))
}

/// The deadline `req` sets, as its signed line will name it; counted from the day the text is
/// prepared (the time it signs), so the stored day is the signed one.
fn new_due(
    office: &Office<'_>,
    req: &Request,
    case: Option<&Case>,
) -> Result<Option<NewDue>, OfficeError> {
    let cal = office.calendar;
    let uncounted = || bad("無法依辦公日曆計算限辦日期");
    match (req.action, case) {
        (Action::Register | Action::Create, _) => {
            let Some(n) = &req.new_case else {
                return Ok(None);
            };
            let started = crate::deadlines::day_of(req.at).ok_or_else(uncounted)?;
            timing::first_due(cal, started, &n.urgency, req.limit.as_ref())
                .map(Some)
                .map_err(bad)
        }
        (Action::ChangeUrgency, Some(c)) => {
            timing::after_urgency_change(cal, c, req.target.as_deref().unwrap_or_default())
                .map_err(bad)
        }
        (Action::GrantTime, Some(c)) => match &c.asked {
            Some(a) if a.kind == RequestKind::Extend => {
                let days = u32::try_from(a.days).unwrap_or(0);
                timing::after_extension(cal, c, days)
                    .map(Some)
                    .map_err(|why| refuse(Code::OfficeState, why))
            }
            Some(a) => {
                let day = a.day.as_deref().and_then(timing::parse_day);
                Ok(day.map(|day| NewDue {
                    day: Some(day),
                    kind: DeadlineKind::Project,
                    note: "專案管制".to_string(),
                }))
            }
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

/// The 會辦 deadline `req` (Consult) sets: stated, or 速件 from the day it is asked.
fn consult_due(office: &Office<'_>, req: &Request) -> Result<NewDue, OfficeError> {
    let asked = crate::deadlines::day_of(req.at).ok_or_else(|| bad("無法取得送會日期"))?;
    timing::consult_due(office.calendar, asked, req.limit.as_ref()).map_err(bad)
}

/// The lines of a 展期 request: the days within the agency's limits, and the deadline it
/// would give (refused when that cannot be counted).
fn extension_lines(
    office: &Office<'_>,
    case: &Case,
    days: u32,
) -> Result<Vec<String>, OfficeError> {
    if days == 0 {
        return Err(bad("展期須填寫工作天數（1 以上）"));
    }
    let rules = &office.extensions;
    if let Some(why) = timing::extension_refusal(rules, case, days) {
        let code = if days > rules.max_days_each {
            Code::BadRequest
        } else {
            Code::OfficeState
        };
        return Err(refuse(code, why));
    }
    let after = timing::after_extension(office.calendar, case, days)
        .map_err(|why| refuse(Code::OfficeState, why))?;
    Ok(vec![
        format!(
            "展期：{days} 個工作天（本機關上限：{} 次、每次 {} 個工作天、累計 {} 個工作天）",
            rules.max_requests, rules.max_days_each, rules.max_days_total
        ),
        format!(
            "核准後限辦日期：{}",
            after
                .day
                .map(gongwen_calendar::roc_date)
                .unwrap_or_default()
        ),
    ])
}

/// The line of a 改列專案管制 request: its date, after today and within three years of the
/// case's start.
fn project_line(
    office: &Office<'_>,
    case: &Case,
    req: &Request,
    today: &str,
) -> Result<String, OfficeError> {
    if timing::kind_of(case) == DeadlineKind::Project {
        return Err(refuse(Code::OfficeState, "本案已列專案管制"));
    }
    let day = req
        .limit
        .as_ref()
        .filter(|l| l.kind == DeadlineKind::Project)
        .and_then(|l| timing::parse_day(&l.day))
        .ok_or_else(|| bad("請填寫專案管制的日期（格式 YYYY-MM-DD）"))?;
    if timing::iso(day).as_str() <= today {
        return Err(bad("專案管制的日期須在今天之後"));
    }
    let started = crate::deadlines::day_of(case.created_at).unwrap_or(day);
    if (day - started).whole_days() > timing::MAX_LIMIT_DAYS {
        return Err(bad("專案管制日期不能超過收文後三年"));
    }
    let now = timing::due_of(office.calendar, case)
        .map_or_else(|| "未定".to_string(), gongwen_calendar::roc_date);
    Ok(format!(
        "改列專案管制：限辦日期{}（原限辦日期：{now}）",
        gongwen_calendar::roc_date(day)
    ))
}

fn refuse(code: Code, detail: impl Into<String>) -> OfficeError {
    OfficeError::new(code, detail)
}

fn state_is(case: &Case, allowed: &[State]) -> Result<(), OfficeError> {
    if allowed.contains(&case.state) {
        Ok(())
    } else {
        Err(refuse(
            Code::OfficeState,
            format!("案件「{}」目前{}", case.id, case.state.label()),
        ))
    }
}

fn holder_is(case: &Case, acting: &str) -> Result<(), OfficeError> {
    if case.holder.as_deref() == Some(acting) {
        Ok(())
    } else {
        Err(refuse(
            Code::OfficeNotAllowed,
            format!("案件「{}」不在您（或您代理的人）手上", case.id),
        ))
    }
}

fn online(case: &Case) -> Result<(), OfficeError> {
    if case.is_paper() {
        return Err(refuse(
            Code::OfficeState,
            format!("案件「{}」已改列紙本簽核，不能線上陳核", case.id),
        ));
    }
    Ok(())
}

/// Whether `acting` holds `role` for `unit` (or a unit above it), or — with no unit — anywhere
/// in the agency (收發, 檔案 and 承辦人 are agency-wide duties).
async fn role_for(
    db: &Db,
    acting: &str,
    role: Role,
    unit: Option<&str>,
) -> Result<(), OfficeError> {
    let held = match unit {
        Some(u) => org::holds(db, acting, role, u).await?,
        None => org::has_role(db, acting, role).await?,
    };
    if held {
        Ok(())
    } else {
        Err(refuse(
            Code::OfficeNotAllowed,
            format!("沒有「{}」的角色", role.label()),
        ))
    }
}

fn needs_reason(req: &Request) -> Result<(), OfficeError> {
    if req.comment.trim().is_empty() {
        return Err(bad(format!("{}須填寫原因", req.action.label())));
    }
    Ok(())
}

fn target(req: &Request) -> Result<&str, OfficeError> {
    req.target
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad(format!("{}須指定對象", req.action.label())))
}

/// The reviewer a case goes up to (陳核, 核轉): never the actor, nor whom they act for — one
/// person does not stand at two points of the chain.
fn not_oneself<'a>(req: &'a Request, acting: &str) -> Result<&'a str, OfficeError> {
    let to = target(req)?;
    if to == req.actor || to == acting {
        return Err(bad(format!(
            "{}須送給上一層的另一位主管，不能送給自己（或您代理的人）",
            req.action.label()
        )));
    }
    Ok(to)
}

/// The lines naming the versions the step is about: the new one, or every current one.
fn version_lines(current: &[Version], new: Option<(&NewVersion, i64)>) -> Vec<String> {
    version_lines_of(current, new.as_slice())
}

/// The lines naming the current versions, with `new` ones in place of their documents'.
fn version_lines_of(current: &[Version], new: &[(&NewVersion, i64)]) -> Vec<String> {
    let mut out: Vec<String> = current
        .iter()
        .filter(|v| !new.iter().any(|(n, _)| n.doc == v.doc))
        .map(|v| {
            format!(
                "文件：{} 第{}版 {} SHA-256 {}",
                v.doc, v.version, v.kind, v.sha256
            )
        })
        .collect();
    for (n, version) in new {
        out.push(format!(
            "文件：{} 第{}版 {} SHA-256 {}",
            n.doc,
            version,
            n.kind,
            sha256_hex(&n.content)
        ));
    }
    out.sort();
    out
}

/// A new case's documents: the received files of an 電子收文 (taken from the intake, never
/// from the request), or the one document the request brings.
pub(crate) async fn first_versions(
    db: &Db,
    req: &Request,
    n: &NewCase,
) -> Result<Vec<NewVersion>, OfficeError> {
    match (&n.intake, n.origin) {
        (Some(i), Origin::Exchange) => {
            if req.version.is_some() {
                return Err(bad("電子收文的文件取自收到的檔案，不另附"));
            }
            let inc = intake::incoming(db, i).await?;
            if inc.returned.is_some() {
                return Err(refuse(Code::OfficeState, format!("收文「{i}」已退文")));
            }
            if let Some(c) = inc.case_id {
                return Err(refuse(
                    Code::OfficeState,
                    format!("收文「{i}」已登記為案件「{c}」"),
                ));
            }
            intake::versions(db, i).await
        }
        (None, Origin::Exchange) => Err(bad("電子收文須指出收到的是哪一件")),
        (Some(_), _) => Err(bad("只有電子收文來自收到的檔案")),
        (None, _) => {
            let v = req.version.clone().ok_or_else(|| bad("缺少文件內容"))?;
            check_version(&v)?;
            Ok(vec![v])
        }
    }
}

fn check_version(v: &NewVersion) -> Result<(), OfficeError> {
    let ok_doc = !v.doc.is_empty()
        && v.doc.len() <= 40
        && v.doc.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok_doc {
        return Err(bad(format!("文件代號「{}」須為英數字與 -", v.doc)));
    }
    if !["incoming", "scan", "memo", "draft"].contains(&v.kind.as_str()) {
        return Err(bad(format!(
            "文件種類「{}」不是 incoming、scan、memo 或 draft",
            v.kind
        )));
    }
    if v.content.is_empty() || v.content.len() > MAX_VERSION_BYTES {
        return Err(bad(format!(
            "文件內容須有 1 到 {} 位元組",
            MAX_VERSION_BYTES
        )));
    }
    Ok(())
}

/// Checks `req` against the case as it stands and returns the action's own lines.
async fn check(
    office: &Office<'_>,
    req: &Request,
    acting: &str,
    case: Option<&Case>,
    day: &str,
    prior: &[Trail],
    current: &[Version],
) -> Result<Vec<String>, OfficeError> {
    let db = office.db;
    let mut lines = Vec::new();
    let next_version = |doc: &str| {
        current
            .iter()
            .find(|v| v.doc == doc)
            .map_or(1, |v| v.version + 1)
    };
    let Some(case) = case else {
        // Register / Create: a new case with its first document.
        if !prior.is_empty() {
            return Err(refuse(
                Code::OfficeState,
                format!("案件「{}」已存在", req.case),
            ));
        }
        // A new case's number comes from `cases::next_number`: digits only, so it is safe in
        // a signed line, a file name and a URL.
        if req.case.is_empty()
            || req.case.len() > 20
            || !req.case.chars().all(|c| c.is_ascii_digit())
        {
            return Err(bad(format!(
                "案件號「{}」須為 1 到 20 位數字",
                one_line(&req.case)
            )));
        }
        let n = req
            .new_case
            .as_ref()
            .ok_or_else(|| bad("缺少案件的主旨、業務項目與速別"))?;
        check_text("主旨", &n.subject, 500)?;
        check_text("業務項目", &n.matter, 60)?;
        if !["普通件", "速件", "最速件"].contains(&n.urgency.as_str()) {
            return Err(bad(format!(
                "速別「{}」不是普通件、速件或最速件",
                n.urgency
            )));
        }
        let firsts = first_versions(db, req, n).await?;
        root_id(db).await?;
        match (req.action, n.origin) {
            (Action::Register, Origin::Exchange | Origin::Paper) => {
                role_for(db, acting, Role::Clerk, None).await?
            }
            (Action::Create, Origin::Memo | Origin::Draft) => {
                role_for(db, acting, Role::Officer, None).await?
            }
            _ => return Err(bad("登記用於收文，創稿用於創簽或創稿")),
        }
        lines.push(format!("來源：{}", n.origin.label()));
        lines.push(format!("主旨：{}", one_line(&n.subject)));
        lines.push(format!("業務項目：{}", one_line(&n.matter)));
        lines.push(format!("速別：{}", n.urgency));
        if let Some(i) = &n.intake {
            let inc = intake::incoming(db, i).await?;
            lines.push(format!(
                "來文：{}（{}）{}（{}）",
                one_line(&inc.sender_name),
                inc.sender,
                one_line(&inc.doc_number),
                inc.id
            ));
        }
        // Flagged at registration (密件, over 15 pages …): the case starts on paper.
        lines.extend(exclusion_lines(&req.exclusions)?);
        let firsts: Vec<(&NewVersion, i64)> = firsts.iter().map(|v| (v, 1)).collect();
        lines.extend(version_lines_of(&[], &firsts));
        return Ok(lines);
    };
    if req.new_case.is_some() {
        return Err(bad("只有登記與創稿帶案件資料"));
    }
    if req.limit.is_some() && !matches!(req.action, Action::Consult | Action::ProjectControl) {
        return Err(bad("只有登記、創稿、送會與改列專案管制帶日期"));
    }
    if let Some(v) = &req.version {
        check_version(v)?;
        if !matches!(req.action, Action::Draft | Action::Amend) {
            return Err(bad("只有擬辦與修改帶新版本"));
        }
    } else if matches!(req.action, Action::Draft | Action::Amend) {
        return Err(bad(format!("{}須附文件內容", req.action.label())));
    }
    let unit = case.unit.clone().unwrap_or_default();
    match req.action {
        Action::Register | Action::Create => unreachable_new(case)?,
        Action::AssignUnit => {
            state_is(case, &[State::Registered, State::AtUnit])?;
            if case.state == State::AtUnit {
                // 改分: only with a reason.
                needs_reason(req)?;
            }
            // The agency's registration desk (總收文) assigns and reassigns.
            role_for(db, acting, Role::Desk, Some(&root_id(db).await?)).await?;
            let t = org::unit(db, target(req)?).await?;
            lines.push(format!("主辦單位：{}（{}）", t.name, t.id));
        }
        Action::AssignOfficer => {
            state_is(case, &[State::AtUnit])?;
            role_for(db, acting, Role::Desk, Some(&unit)).await?;
            let p = org::person(db, target(req)?).await?;
            if !org::holds(db, &p.id, Role::Officer, &p.unit).await?
                || !org::unit_chain(db, &p.unit)
                    .await?
                    .iter()
                    .any(|u| u.id == unit)
            {
                return Err(bad(format!("{} 不是本單位的承辦人", p.display())));
            }
            lines.push(format!("承辦人：{}（{}）", p.display(), p.id));
        }
        Action::ReturnToDesk => {
            state_is(case, &[State::WithOfficer])?;
            holder_is(case, acting)?;
            needs_reason(req)?;
        }
        Action::Refuse => {
            state_is(case, &[State::Registered])?;
            if case.origin != Origin::Exchange {
                return Err(bad("只有電子收文能退文給發文機關"));
            }
            role_for(db, acting, Role::Clerk, None).await?;
            needs_reason(req)?;
        }
        Action::Draft => {
            state_is(case, &[State::WithOfficer])?;
            holder_is(case, acting)?;
            let v = req.version.as_ref().ok_or_else(|| bad("缺少文件內容"))?;
            if !["memo", "draft"].contains(&v.kind.as_str()) {
                return Err(bad("擬辦只寫簽（memo）或稿（draft）"));
            }
            lines.extend(version_lines(current, Some((v, next_version(&v.doc)))));
        }
        Action::Flag => {
            state_is(
                case,
                &[State::Registered, State::AtUnit, State::WithOfficer],
            )?;
            if req.exclusions.is_empty() {
                return Err(bad("改列紙本須指出第 1 到 8 款的排除情形"));
            }
            let clerk = org::has_role(db, acting, Role::Clerk).await?;
            if !(clerk || case.holder.as_deref() == Some(acting)) {
                return Err(refuse(Code::OfficeNotAllowed, "由收發或承辦人改列紙本"));
            }
            lines.extend(exclusion_lines(&req.exclusions)?);
        }
        Action::Consult => {
            state_is(case, &[State::WithOfficer])?;
            holder_is(case, acting)?;
            online(case)?;
            let mut names = Vec::new();
            let ids: Vec<&str> = target(req)?.split(',').map(str::trim).collect();
            if ids.len() > MAX_CONSULTED {
                return Err(bad(format!("一次最多送會 {MAX_CONSULTED} 個單位")));
            }
            let mut seen = std::collections::HashSet::new();
            for id in ids {
                if !seen.insert(id) {
                    return Err(bad(format!("會辦單位「{id}」重複")));
                }
                let u = org::unit(db, id).await?;
                if u.id == unit {
                    return Err(bad("不能會辦自己的單位"));
                }
                names.push(format!(
                    "{}（{}）{}",
                    u.name,
                    u.id,
                    if u.online {
                        ""
                    } else {
                        "［未實施線上簽核］"
                    }
                ));
            }
            lines.push(format!(
                "會辦單位（{}）：{}",
                if req.in_sequence { "依序" } else { "平行" },
                names.join("、")
            ));
            let due = consult_due(office, req)?;
            let mut line = due.line().replacen("限辦日期", "會辦期限", 1);
            if req.in_sequence && req.limit.is_none() {
                line += "；依序會辦者為第一個單位的期限，其後各單位自前一單位會畢之日起算";
            }
            lines.push(line);
        }
        Action::Opinion => {
            state_is(case, &[State::Consulting])?;
            let all = cases::consults(db, &case.id).await?;
            // The unit's officer writes an opinion; its head's opinion answers for the unit.
            let mut mine: Option<(String, bool)> = None;
            for c in cases::awaited(&all) {
                let head = org::holds(db, acting, Role::Supervisor, &c.unit).await?;
                let member = head || org::holds(db, acting, Role::Officer, &c.unit).await?;
                if member && mine.as_ref().is_none_or(|(_, h)| !h) {
                    mine = Some((c.unit.clone(), head));
                }
            }
            let (u, head) =
                mine.ok_or_else(|| refuse(Code::OfficeNotAllowed, "您的單位目前不在待會辦之列"))?;
            lines.push(format!("會辦單位：{u}"));
            lines.push(
                if head {
                    OPINION_OF_HEAD
                } else {
                    OPINION_OF_OFFICER
                }
                .to_string(),
            );
            lines.extend(version_lines(current, None));
        }
        Action::Submit => {
            state_is(case, &[State::WithOfficer])?;
            holder_is(case, acting)?;
            online(case)?;
            if !current
                .iter()
                .any(|v| v.kind == "memo" || v.kind == "draft")
            {
                return Err(bad("陳核前須先擬簽或擬稿"));
            }
            let chain = review_unit(db, case).await?;
            let to = not_oneself(req, acting)?;
            lines.push(reviewer_line(db, to, None, &chain).await?);
            lines.extend(version_lines(current, None));
        }
        Action::Approve => {
            state_is(case, &[State::InReview])?;
            holder_is(case, acting)?;
            let mine = org::level(db, acting).await?;
            let chain = review_unit(db, case).await?;
            let to = not_oneself(req, acting)?;
            lines.push(reviewer_line(db, to, mine, &chain).await?);
            lines.extend(version_lines(current, None));
        }
        Action::Amend => {
            state_is(case, &[State::InReview])?;
            holder_is(case, acting)?;
            let v = req.version.as_ref().ok_or_else(|| bad("缺少文件內容"))?;
            let Some(old) = current.iter().find(|c| c.doc == v.doc) else {
                return Err(bad(format!("案件沒有「{}」可修改", v.doc)));
            };
            if old.kind != v.kind {
                return Err(bad("修改不能改變文件種類"));
            }
            lines.extend(version_lines(current, Some((v, old.version + 1))));
        }
        Action::Return => {
            state_is(case, &[State::InReview])?;
            holder_is(case, acting)?;
            needs_reason(req)?;
            let to = target(req)?;
            // Back to the officer, or to anyone who held it on the way up.
            let earlier = case.officer.as_deref() == Some(to)
                || prior.iter().any(|s| {
                    matches!(s.action, Action::Approve | Action::Amend)
                        && s.principal.as_deref().unwrap_or(&s.actor) == to
                });
            if !earlier {
                return Err(bad("只能退回承辦人或先前核過的人"));
            }
            let p = org::person(db, to).await?;
            lines.push(format!("退回：{}（{}）", p.display(), p.id));
        }
        Action::Decide => {
            if prior.iter().any(|s| s.action == Action::Decide) {
                return Err(refuse(
                    Code::OfficeDecided,
                    format!("案件「{}」已經決行", case.id),
                ));
            }
            state_is(case, &[State::InReview])?;
            holder_is(case, acting)?;
            let rule = delegation::rule_on(db, &case.matter, day).await?;
            let needed = rule.as_ref().map_or(delegation::DEFAULT_LEVEL, |r| r.level);
            let mine = org::level(db, acting).await?;
            if mine.is_none_or(|m| m > needed) {
                return Err(refuse(
                    Code::OfficeLevel,
                    format!(
                        "「{}」依分層負責明細表由{}決行",
                        case.matter,
                        delegation::level_label(needed)
                    ),
                ));
            }
            lines.push(format!(
                "決行層級：{}（分層負責明細表：{}）",
                delegation::level_label(needed),
                rule.map_or("未列，由首長決行".to_string(), |r| format!(
                    "{} 起生效",
                    r.effective_from
                ))
            ));
            if needed > 1 {
                lines.push("授權決行".to_string());
            }
            if acting != req.actor {
                lines.push("代為決行".to_string());
            }
            let drafts: Vec<&Version> = current.iter().filter(|v| v.kind == "draft").collect();
            for d in &drafts {
                let n = req
                    .decisions
                    .iter()
                    .filter(|(doc, _)| *doc == d.doc)
                    .count();
                if n != 1 {
                    return Err(bad(format!(
                        "稿「{}」須有一個決定（發、不發或緩發）",
                        d.doc
                    )));
                }
            }
            if req
                .decisions
                .iter()
                .any(|(doc, _)| !drafts.iter().any(|d| d.doc == *doc))
            {
                return Err(bad("決定只能對案件中的稿"));
            }
            let mut decisions = req.decisions.clone();
            decisions.sort_by(|a, b| a.0.cmp(&b.0));
            for (doc, d) in decisions {
                lines.push(format!("決定：{doc} {}", d.label()));
            }
            lines.extend(version_lines(current, None));
        }
        Action::Dispatch => {
            state_is(case, &[State::ToDispatch])?;
            role_for(db, acting, Role::Clerk, None).await?;
            if !["交換", "紙本"].contains(&req.comment.as_str()) {
                return Err(bad("發文方式須為「交換」或「紙本」"));
            }
        }
        Action::Reopen => {
            state_is(case, &[State::ToFile])?;
            if case.officer.as_deref() != Some(acting) {
                return Err(refuse(Code::OfficeNotAllowed, "由本案承辦人重辦"));
            }
            if !crate::dispatch::was_returned(db, &case.id).await? {
                return Err(refuse(
                    Code::OfficeState,
                    format!("案件「{}」沒有被退文", case.id),
                ));
            }
            needs_reason(req)?;
        }
        Action::ChangeUrgency => {
            state_is(
                case,
                &[
                    State::AtUnit,
                    State::WithOfficer,
                    State::Consulting,
                    State::InReview,
                    State::ToDispatch,
                ],
            )?;
            if !matches!(case.origin, Origin::Exchange | Origin::Paper) {
                return Err(bad("改速別用於來文；自行創簽、創稿的速別由承辦人擬定"));
            }
            // The receiving unit's head: a supervisor of its unit or one above it.
            let head = org::holds(db, acting, Role::Supervisor, &unit).await?
                || org::holds(db, acting, Role::Head, &unit).await?;
            if !head {
                return Err(refuse(Code::OfficeNotAllowed, "改速別由收文單位的主管辦理"));
            }
            needs_reason(req)?;
            let to = target(req)?;
            if !["普通件", "速件", "最速件"].contains(&to) {
                return Err(bad(format!(
                    "速別「{}」不是普通件、速件或最速件",
                    one_line(to)
                )));
            }
            if to == case.urgency {
                return Err(bad(format!("本案已是{to}")));
            }
            lines.push(format!("速別：{} → {to}", case.urgency));
            let kind = case.deadline_kind.as_deref().and_then(DeadlineKind::parse);
            if let Some(k @ (DeadlineKind::Fixed | DeadlineKind::Project)) = kind {
                lines.push(format!("限辦日期不變（{}）", k.label()));
            }
        }
        Action::Extend | Action::ProjectControl => {
            state_is(case, &[State::WithOfficer, State::Consulting])?;
            if case.officer.as_deref() != Some(acting) {
                return Err(refuse(
                    Code::OfficeNotAllowed,
                    format!("由本案承辦人{}", req.action.label()),
                ));
            }
            if case.state == State::WithOfficer {
                holder_is(case, acting)?;
            }
            if let Some(a) = &case.asked {
                return Err(refuse(
                    Code::OfficeState,
                    format!(
                        "本案已有待核准的{}（第 {} 步），核准或不予核准後才能再申請",
                        a.kind.label(),
                        a.seq
                    ),
                ));
            }
            needs_reason(req)?;
            if req.action == Action::Extend {
                lines.extend(extension_lines(office, case, req.days)?);
            } else {
                lines.push(project_line(office, case, req, day)?);
            }
        }
        Action::GrantTime | Action::DenyTime => {
            state_is(
                case,
                &[
                    State::AtUnit,
                    State::WithOfficer,
                    State::Consulting,
                    State::InReview,
                    State::ToDispatch,
                ],
            )?;
            let Some(a) = &case.asked else {
                return Err(refuse(
                    Code::OfficeState,
                    "本案沒有待核准的展期或專案管制申請",
                ));
            };
            let units = org::units(db).await?;
            let roles = org::roles(db, acting).await?;
            let level = crate::allowed::level_over(&units, &roles, &unit);
            if level.is_none_or(|l| l > a.level) {
                return Err(refuse(
                    Code::OfficeNotAllowed,
                    format!(
                        "本申請由{}以上、主管本案單位者核准",
                        crate::delegation::level_label(a.level)
                    ),
                ));
            }
            let asked = a.describe();
            let by = org::person(db, &a.by).await?;
            lines.push(format!(
                "{}：{asked}（第 {} 步，{}申請）",
                if req.action == Action::GrantTime {
                    "核准"
                } else {
                    "不予核准"
                },
                a.seq,
                by.display()
            ));
            if req.action == Action::GrantTime {
                if a.kind == RequestKind::Extend {
                    // The limits hold at the grant too (the rules may have changed since).
                    let days = u32::try_from(a.days).unwrap_or(u32::MAX);
                    if let Some(why) = timing::extension_refusal(&office.extensions, case, days) {
                        return Err(refuse(Code::OfficeState, why));
                    }
                }
            } else {
                needs_reason(req)?;
            }
        }
        Action::File => {
            state_is(case, &[State::ToFile])?;
            role_for(db, acting, Role::Archivist, None).await?;
            check_file_code(&req.comment)?;
            let r = req.retention.as_deref().unwrap_or_default();
            if r != "永久"
                && !r
                    .strip_suffix('年')
                    .is_some_and(|n| n.parse::<u16>().is_ok_and(|n| (1..=100).contains(&n)))
            {
                return Err(bad(format!("保存年限「{r}」須為「永久」或「N年」")));
            }
            lines.push(format!("保存年限：{r}"));
        }
    }
    Ok(lines)
}

fn unreachable_new(case: &Case) -> Result<(), OfficeError> {
    Err(refuse(
        Code::OfficeState,
        format!("案件「{}」已存在", case.id),
    ))
}

/// The agency's own unit (the root of the tree).
async fn root_id(db: &Db) -> Result<String, OfficeError> {
    org::units(db)
        .await?
        .into_iter()
        .find(|u| u.depth == 0)
        .map(|u| u.id)
        .ok_or_else(|| bad("尚未設定機關與單位"))
}

/// 檔號: 分類號/案次號/卷次號/目次號, as the 檔案管理局 writes it.
fn check_file_code(code: &str) -> Result<(), OfficeError> {
    let parts: Vec<&str> = code.split('/').collect();
    let ok = parts.len() == 4
        && parts.iter().all(|p| {
            p.len() <= 20
                && p.starts_with(|c: char| c.is_ascii_alphanumeric())
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "檔號「{code}」須為 分類號/案次號/卷次號/目次號"
        )))
    }
}

/// The signed lines of exclusions (1–8), each with its text.
fn exclusion_lines(exclusions: &[u8]) -> Result<Vec<String>, OfficeError> {
    if exclusions.iter().any(|n| !(1..=8).contains(n)) {
        return Err(bad("排除情形須為第 1 到 8 款"));
    }
    Ok(exclusions
        .iter()
        .map(|n| format!("排除：第{n}款 {}", cases::EXCLUSIONS[usize::from(*n) - 1]))
        .collect())
}

/// Where a case's review chain starts: the officer's own unit (a 二級單位 inside the unit the
/// case was assigned to: 股長 → 科長 → 首長), or the case's unit before it has an officer.
pub async fn review_unit(db: &Db, case: &Case) -> Result<String, OfficeError> {
    match &case.officer {
        Some(o) => Ok(org::person(db, o).await?.unit),
        None => Ok(case.unit.clone().unwrap_or_default()),
    }
}

/// The reviewer a case goes up to: the head, or a supervisor of the officer's unit or a unit
/// above it — up the case's own chain — above whoever passes it on.
async fn reviewer_line(
    db: &Db,
    to: &str,
    above: Option<i64>,
    unit: &str,
) -> Result<String, OfficeError> {
    let p = org::person(db, to).await?;
    let level = org::level(db, &p.id).await?;
    let chain = org::unit_chain(db, unit).await?;
    let in_chain = org::roles(db, &p.id).await?.iter().any(|(r, u)| {
        *r == Role::Head || (*r == Role::Supervisor && chain.iter().any(|c| c.id == *u))
    });
    if !in_chain {
        return Err(bad(format!(
            "{} 不是本案所屬單位或其上級單位的主管",
            p.display()
        )));
    }
    match (level, above) {
        (None, _) => Err(bad(format!("{} 不是主管，不能陳核給他", p.display()))),
        (Some(l), Some(a)) if l >= a => Err(bad(format!("{} 不在您的上一層", p.display()))),
        _ => Ok(format!("陳送：{}（{}）", p.display(), p.id)),
    }
}

/// Checks the signature on the text for `req` and records the step: the case changes only
/// when every check passes. `now` is Unix ms.
pub async fn commit(
    office: &Office<'_>,
    req: &Request,
    signature: &[u8],
    now: i64,
) -> Result<Step, OfficeError> {
    let db = office.db;
    let p = prepared(office, req).await?;
    let text = p.text.as_str();
    let verified =
        cms::verify(signature).map_err(|e| refuse(Code::OfficeSignature, e.to_string()))?;
    if verified.content != text.as_bytes() {
        let signed = String::from_utf8_lossy(&verified.content).into_owned();
        let versions = |t: &str| -> Vec<String> {
            t.lines()
                .filter(|l| l.starts_with("文件："))
                .map(str::to_string)
                .collect()
        };
        if versions(&signed) != versions(text) {
            return Err(refuse(
                Code::OfficeVersion,
                "簽署的文件版本與案件目前的版本不同",
            ));
        }
        return Err(refuse(
            Code::OfficeSignature,
            "簽署的內容不是系統為這個動作準備的內容",
        ));
    }
    if (now - req.at).abs() > SIGN_WITHIN_MS {
        return Err(refuse(Code::OfficeSignature, "簽核內容已逾時，請重新簽署"));
    }
    let actor = org::person(db, &req.actor).await?;
    let key =
        hex(&spki_sha256(&verified.signer)
            .map_err(|e| refuse(Code::OfficeSignature, e.to_string()))?);
    if actor.spki_sha256.as_deref() != Some(key.as_str()) {
        return Err(refuse(
            Code::OfficeSignature,
            format!("簽章憑證不是 {} 登記的憑證", actor.display()),
        ));
    }
    office
        .trust
        .evaluate(
            &verified.signer,
            &verified.certs,
            now.div_euclid(1000),
            Purpose::Signing,
        )
        .map_err(|e| refuse(Code::OfficeCert, e.to_string()))?;
    let step = apply(office, req, &p, signature, now).await?;
    // The statistics rollup follows a case that closes, reopens or is filed; a failure here is
    // caught up by the daily round, never a reason to undo a signed step.
    if matches!(
        req.action,
        Action::Decide | Action::Dispatch | Action::Reopen | Action::File
    ) && let Err(e) =
        crate::closed::refresh(office.db, office.calendar, std::slice::from_ref(&req.case)).await
    {
        gongwen_net::log::warn(
            "統計彙整未更新",
            serde_json::json!({ "case": req.case, "code": e.code().as_str() }),
        );
    }
    Ok(step)
}

/// Closes a case's open 展期 or 改列專案管制 request.
const CLEAR_ASKED: &str = "asked_kind = NULL, asked_days = NULL, asked_day = NULL, asked_level = NULL, asked_by = NULL, asked_seq = NULL";

/// Writes the step and its effect on the case in one transaction.
async fn apply(
    office: &Office<'_>,
    req: &Request,
    p: &Prepared,
    signature: &[u8],
    now: i64,
) -> Result<Step, OfficeError> {
    let db = office.db;
    let (text, acting, seq) = (p.text.as_str(), p.acting.clone(), p.seq);
    let (existing, current) = (p.case.as_ref(), &p.current);
    // Read before the transaction: on SQLite the one writer is ours until commit.
    let mut consulted = Vec::new();
    if req.action == Action::Consult {
        for u in req.target.as_deref().unwrap_or_default().split(',') {
            consulted.push(org::unit(db, u.trim()).await?);
        }
    }
    let officer_unit = match req.action {
        Action::Create => Some(org::person(db, &acting).await?.unit),
        _ => None,
    };
    let mut added: Vec<NewVersion> = req.version.clone().into_iter().collect();
    if let Some(n) = req.new_case.as_ref().filter(|n| n.intake.is_some()) {
        added = first_versions(db, req, n).await?;
    }
    let mut tx = db.begin().await?;
    if let Some(n) = &req.new_case {
        let officer = (req.action == Action::Create).then(|| acting.clone());
        let state = if officer.is_some() {
            State::WithOfficer
        } else {
            State::Registered
        };
        let unit = officer_unit.clone();
        let due = p.due.as_ref();
        tx.execute(
            "INSERT INTO office_cases (id, origin, subject, matter, urgency, state, unit, officer, holder, created_at, exclusions, due_day, deadline_kind) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12)",
            &[
                req.case.as_str().into(),
                n.origin.as_str().into(),
                n.subject.as_str().into(),
                n.matter.as_str().into(),
                n.urgency.as_str().into(),
                state.as_str().into(),
                unit.into(),
                officer.into(),
                now.into(),
                cases::exclusions_text(&{
                    let mut ex = req.exclusions.clone();
                    ex.sort_unstable();
                    ex.dedup();
                    ex
                })
                .into(),
                due.and_then(NewDue::iso).into(),
                due.map(|d| d.kind.as_str()).into(),
            ],
        )
        .await
        .map_err(|e| match e {
            gongwen_store::StoreError::Duplicate { .. } => {
                refuse(Code::OfficeState, format!("案件「{}」已存在", req.case))
            }
            e => e.into(),
        })?;
        if let Some(i) = &n.intake {
            let taken = tx
                .execute(
                    "UPDATE office_intake SET case_id = $2 WHERE id = $1 AND case_id IS NULL",
                    &[i.as_str().into(), req.case.as_str().into()],
                )
                .await?;
            if taken != 1 {
                // Another clerk registered it a moment ago; this case is not written.
                return Err(refuse(Code::OfficeState, format!("收文「{i}」已登記")));
            }
        }
    }
    for v in &added {
        let version = current
            .iter()
            .find(|c| c.doc == v.doc)
            .map_or(1, |c| c.version + 1);
        tx.execute(
            "INSERT INTO office_versions (case_id, doc, version, kind, sha256, content, author, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                req.case.as_str().into(),
                v.doc.as_str().into(),
                version.into(),
                v.kind.as_str().into(),
                sha256_hex(&v.content).into(),
                v.content.as_slice().into(),
                req.actor.as_str().into(),
                now.into(),
            ],
        )
        .await?;
    }
    let set = |sql: &str| format!("UPDATE office_cases SET {sql} WHERE id = $1");
    let id = req.case.as_str();
    let t = req.target.clone().unwrap_or_default();
    match (req.action, existing.as_ref()) {
        (Action::AssignUnit, _) => {
            tx.execute(
                &set("state = 'at_unit', unit = $2, officer = NULL, holder = NULL"),
                &[id.into(), t.into()],
            )
            .await?;
        }
        (Action::AssignOfficer, _) => {
            tx.execute(
                &set("state = 'with_officer', officer = $2, holder = $2"),
                &[id.into(), t.into()],
            )
            .await?;
        }
        (Action::ReturnToDesk, _) => {
            tx.execute(
                &set("state = 'registered', unit = NULL, officer = NULL, holder = NULL"),
                &[id.into()],
            )
            .await?;
        }
        (Action::Refuse, _) => {
            tx.execute(
                &set("state = 'refused', closed_at = $2"),
                &[id.into(), now.into()],
            )
            .await?;
        }
        (Action::Flag, Some(c)) => {
            let mut ex = c.exclusions.clone();
            ex.extend(&req.exclusions);
            ex.sort_unstable();
            ex.dedup();
            tx.execute(
                &set("exclusions = $2"),
                &[id.into(), cases::exclusions_text(&ex).into()],
            )
            .await?;
        }
        (Action::Consult, _) => {
            let due = consult_due(office, req)?;
            for (i, u) in consulted.iter().enumerate() {
                // In sequence with no stated date, a unit's time starts when its turn comes.
                let waits = req.in_sequence && req.limit.is_none() && i > 0;
                let day = if waits { None } else { due.iso() };
                tx.execute(
                    "INSERT INTO office_consults (case_id, position, unit, in_sequence, due_day) VALUES ($1, $2, $3, $4, $5)",
                    &[id.into(), (seq * 100 + i as i64).into(), u.id.as_str().into(), req.in_sequence.into(), day.into()],
                )
                .await?;
            }
            if consulted.iter().any(|u| !u.online) {
                // Exclusion 8: 會辦 with a unit not on online sign-off.
                let mut ex = existing.map(|c| c.exclusions.clone()).unwrap_or_default();
                ex.push(8);
                ex.sort_unstable();
                ex.dedup();
                tx.execute(
                    &set("exclusions = $2, state = 'consulting'"),
                    &[id.into(), cases::exclusions_text(&ex).into()],
                )
                .await?;
            } else {
                tx.execute(&set("state = 'consulting'"), &[id.into()])
                    .await?;
            }
        }
        (Action::Opinion, _) => {
            let all = cases::consults(db, id).await?;
            let unit = text
                .lines()
                .find_map(|l| l.strip_prefix("會辦單位："))
                .unwrap_or_default()
                .to_string();
            // An officer's opinion waits for the unit head's, which answers for the unit.
            let answered = text.lines().any(|l| l == OPINION_OF_HEAD);
            let open = cases::awaited(&all).into_iter().find(|c| c.unit == unit);
            if let (true, Some(c)) = (answered, open) {
                tx.execute(
                    "UPDATE office_consults SET opinion_seq = $3 WHERE case_id = $1 AND position = $2",
                    &[id.into(), c.position.into(), seq.into()],
                )
                .await?;
                // In sequence: the next unit's 速件 time starts now (a stated date it has).
                let next = (all.iter())
                    .filter(|n| n.in_sequence && n.opinion_seq.is_none() && n.position > c.position)
                    .min_by_key(|n| n.position);
                let today = crate::deadlines::day_of(req.at);
                if let (Some(n), Some(today)) = (next, today) {
                    let due = timing::consult_due(office.calendar, today, None)
                        .ok()
                        .and_then(|d| d.iso());
                    tx.execute(
                        "UPDATE office_consults SET due_day = $3 WHERE case_id = $1 AND position = $2 AND due_day IS NULL",
                        &[id.into(), n.position.into(), due.into()],
                    )
                    .await?;
                }
                if all.iter().filter(|c| c.opinion_seq.is_none()).count() <= 1 {
                    tx.execute(
                        &set("state = 'with_officer', holder = officer"),
                        &[id.into()],
                    )
                    .await?;
                }
            }
        }
        (Action::Submit | Action::Approve, _) => {
            tx.execute(
                &set("state = 'in_review', holder = $2"),
                &[id.into(), t.into()],
            )
            .await?;
        }
        (Action::Return, Some(c)) => {
            let to_officer = c.officer.as_deref() == Some(t.as_str());
            let state = if to_officer {
                "with_officer"
            } else {
                "in_review"
            };
            tx.execute(
                &set("state = $2, holder = $3"),
                &[id.into(), state.into(), t.into()],
            )
            .await?;
        }
        (Action::Decide, _) => {
            let any = req.decisions.iter().any(|(_, d)| *d == Decision::Issue);
            let state = if any {
                State::ToDispatch
            } else {
                State::ToFile
            };
            tx.execute(
                &set("state = $2, holder = NULL"),
                &[id.into(), state.as_str().into()],
            )
            .await?;
        }
        (Action::Dispatch, _) => {
            // The 發文字號 comes from the agent's series (dispatch::send, dispatch::number_paper).
            tx.execute(&set("state = 'to_file'"), &[id.into()]).await?;
        }
        (Action::Reopen, _) => {
            tx.execute(
                &set("state = 'with_officer', holder = officer"),
                &[id.into()],
            )
            .await?;
        }
        (Action::ChangeUrgency, _) => match p.due.as_ref() {
            // A 速別 deadline is counted anew; with no day (a year with no calendar) it is
            // cleared, and filled in once the year is loaded.
            Some(due) => {
                tx.execute(
                    &set("urgency = $2, due_day = $3, deadline_kind = $4"),
                    &[
                        id.into(),
                        t.into(),
                        due.iso().into(),
                        due.kind.as_str().into(),
                    ],
                )
                .await?;
            }
            None => {
                tx.execute(&set("urgency = $2"), &[id.into(), t.into()])
                    .await?;
            }
        },
        (Action::Extend | Action::ProjectControl, _) => {
            let (kind, days, day) = match req.action {
                Action::Extend => (RequestKind::Extend, Some(i64::from(req.days)), None),
                _ => (
                    RequestKind::Project,
                    None,
                    req.limit.as_ref().map(|l| l.day.clone()),
                ),
            };
            tx.execute(
                &set("asked_kind = $2, asked_days = $3, asked_day = $4, asked_level = $5, asked_by = $6, asked_seq = $7"),
                &[
                    id.into(),
                    kind.as_str().into(),
                    days.into(),
                    day.into(),
                    p.asked_level.into(),
                    acting.as_str().into(),
                    seq.into(),
                ],
            )
            .await?;
        }
        (Action::GrantTime, Some(c)) => {
            let due = p.due.as_ref();
            let days = c
                .asked
                .as_ref()
                .filter(|a| a.kind == RequestKind::Extend)
                .map(|a| a.days);
            let more = if days.is_some() { 1_i64 } else { 0 };
            tx.execute(
                &set(&format!("due_day = $2, deadline_kind = $3, extensions = extensions + $4, extension_days = extension_days + $5, {CLEAR_ASKED}")),
                &[
                    id.into(),
                    due.and_then(NewDue::iso).into(),
                    due.map(|d| d.kind.as_str()).into(),
                    more.into(),
                    days.unwrap_or(0).into(),
                ],
            )
            .await?;
        }
        (Action::DenyTime, _) => {
            tx.execute(&set(CLEAR_ASKED), &[id.into()]).await?;
        }
        (Action::File, _) => {
            tx.execute(
                &set("state = 'filed', file_code = $2, retention = $3, closed_at = $4"),
                &[
                    id.into(),
                    req.comment.as_str().into(),
                    req.retention.clone().into(),
                    now.into(),
                ],
            )
            .await?;
        }
        _ => {}
    }
    let digest = sha256_hex(signature);
    let principal = (acting != req.actor).then_some(acting);
    tx.execute(
        "INSERT INTO office_steps (case_id, seq, action, actor, principal, signed, cms, cms_sha256, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            id.into(),
            seq.into(),
            req.action.as_str().into(),
            req.actor.as_str().into(),
            principal.clone().into(),
            text.as_bytes().into(),
            signature.into(),
            digest.as_str().into(),
            now.into(),
        ],
    )
    .await
    .map_err(|e| match e {
        gongwen_store::StoreError::Duplicate { .. } => refuse(
            Code::OfficeState,
            "案件在您簽署時已由他人更新，請重新開啟後再簽",
        ),
        e => e.into(),
    })?;
    tx.commit().await?;
    Ok(Step {
        seq,
        action: req.action,
        actor: req.actor.clone(),
        principal,
        signed: text.to_string(),
        cms: signature.to_vec(),
        cms_sha256: digest,
        at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_values_stay_on_one_line() {
        assert_eq!(one_line("一\n二\r三\\"), "一\\n二\\r三\\\\");
        assert!(!one_line("a\nb").contains('\n'));
    }

    #[test]
    fn file_codes_have_four_parts() {
        assert!(check_file_code("A01/115/1/3").is_ok());
        for bad in [
            "A01/115/1",
            "A01/115/1/3/9",
            "A01//1/3",
            "A01/115/1/三",
            "../x/y/z",
        ] {
            assert!(check_file_code(bad).is_err(), "{bad}");
        }
    }

    fn version(doc: &str, n: i64) -> Version {
        Version {
            doc: doc.to_string(),
            version: n,
            kind: "draft".to_string(),
            sha256: format!("{doc}{n}"),
            author: "x".to_string(),
            created_at: 0,
        }
    }

    #[test]
    fn a_new_version_takes_the_place_of_its_document() {
        let current = [version("draft-1", 1), version("memo-1", 2)];
        let new = NewVersion {
            doc: "draft-1".to_string(),
            kind: "draft".to_string(),
            content: b"x".to_vec(),
        };
        let lines = version_lines(&current, Some((&new, 2)));
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().any(|l| l.starts_with("文件：draft-1 第2版")));
        assert!(lines.iter().any(|l| l.starts_with("文件：memo-1 第2版")));
        assert!(!lines.iter().any(|l| l.contains("draft-11")));
    }

    #[test]
    fn versions_are_checked_before_anything_is_signed() {
        let ok = NewVersion {
            doc: "draft-1".to_string(),
            kind: "draft".to_string(),
            content: b"x".to_vec(),
        };
        assert!(check_version(&ok).is_ok());
        for (doc, kind, content) in [
            ("draft 1", "draft", b"x".to_vec()),
            ("draft-1", "picture", b"x".to_vec()),
            ("draft-1", "draft", Vec::new()),
        ] {
            let v = NewVersion {
                doc: doc.to_string(),
                kind: kind.to_string(),
                content,
            };
            assert!(check_version(&v).is_err(), "{doc} {kind}");
        }
    }
}
