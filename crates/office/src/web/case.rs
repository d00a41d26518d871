//! The case page: its facts, its documents as they print, every version, the trail of signed
//! steps, 會辦 and what went out; the forms of the actions this person may take now
//! ([`crate::allowed`], read by [`super::actions`]); the drafting form (擬辦, 修改, 創簽／創稿,
//! [`super::drafting`]); and the case as one file (`export.json`) and its 簽核紀錄 (PDF).
//!
//! Routes:
//!
//! - `GET /cases/{id}` (`?note=` a status line after a step, shown with its `seal` only),
//!   `POST /cases/{id}/act` (every
//!   action's form: `action` and its fields), `POST /cases/{id}/retry` (`what`: `send`,
//!   `number`, `sign_for`: what a step asked of the agent, again);
//! - `GET /cases/{id}/draft` (`?doc=memo-1` to revise or amend, `?kind=memo|draft` for a new
//!   簽 or 稿);
//! - `GET /cases/{id}/docs/{doc}/{version}` (as printed, for a frame; a scan is downloaded),
//!   `…/file` (the version as kept), `…/changes` (against the version before);
//! - `GET /cases/{id}/export.json`, `GET /cases/{id}/record.pdf`;
//! - `GET /cases/new`, `POST /cases/new`: 創簽／創稿.
//!
//! Anyone signed in to the office may read a case (it is the agency's own system); every
//! step is checked again when it is prepared and when it is signed.

use std::collections::HashMap;
use std::sync::OnceLock;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gongwen_doc::RocDate;
use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_store::Db;
use gongwen_web::{Choice, Csrf, FormErrors, Page, Site, filters};
use serde::Deserialize;

use super::actions::{self, Context, Fields, RETENTIONS};
use super::drafting::{self, KINDS, PROPOSALS, URGENCIES, Writer};
use super::sign::{self, Then};
use super::{Me, SITE, Web, WebError, Who};
use crate::allowed::{self, Facts, Offer};
use crate::cases::{self, Case, EXCLUSIONS, Origin, State};
use crate::documents::{self, Shape};
use crate::org::{self, Role, Unit};
use crate::steps::{self, Action, NewCase, NewVersion, Request, STEP_HEAD, Step};
use crate::{OfficeError, delegation, dispatch, export};

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/cases/new", get(new_form).post(create))
        .route("/cases/{id}", get(show))
        .route("/cases/{id}/act", post(act))
        .route("/cases/{id}/draft", get(draft_form))
        .route("/cases/{id}/retry", post(retry))
        .route("/cases/{id}/export.json", get(export_json))
        .route("/cases/{id}/record.pdf", get(record_pdf))
        .route("/cases/{id}/docs/{doc}/{version}", get(document))
        .route("/cases/{id}/docs/{doc}/{version}/file", get(download))
        .route("/cases/{id}/docs/{doc}/{version}/changes", get(changes))
}

/// Routes that take uploads (read only once the session is known). The drafting form has
/// none yet: a 稿's attachments would have to travel with it to the agent, which
/// `dispatch::send` does not do.
pub fn upload_routes() -> Router<Web> {
    Router::new()
}

/// The policy of a framed document (the rendered DI, or text): its own inline style, nothing
/// else, framed by this site's pages only.
pub const DOCUMENT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

/// Longest status line a redirect may carry.
const MAX_NOTE_CHARS: usize = 500;

fn refused(e: OfficeError) -> WebError {
    Refusal::from(e).into()
}

/// What the case's page offers the person signed in, today.
async fn facts(me: &Me, id: &str) -> Result<Facts, WebError> {
    let exclusions = &me.app.config.exclusions;
    allowed::facts(&me.app.db, id, &me.person.id, &me.today(), exclusions)
        .await
        .map_err(refused)
}

/// 「職稱 姓名」 of people, each read once per page.
#[derive(Default)]
struct Names(HashMap<String, String>);

impl Names {
    async fn of(&mut self, db: &Db, id: &str) -> String {
        if let Some(n) = self.0.get(id) {
            return n.clone();
        }
        let n = org::person(db, id)
            .await
            .map(|p| p.display())
            .unwrap_or_else(|_| id.to_string());
        self.0.insert(id.to_string(), n.clone());
        n
    }
}

/// A unit by its name (and id), as lists show it.
fn unit_label(units: &[Unit], id: &str) -> String {
    units
        .iter()
        .find(|u| u.id == id)
        .map_or_else(|| id.to_string(), |u| format!("{}（{}）", u.name, u.id))
}

/// The lines of a signed step that say what it did (主辦單位, 陳送, 決定 …) and its comment:
/// everything but the lines every step has and the digests of the documents.
fn step_lines(signed: &str) -> (Vec<String>, String) {
    const COMMON: [&str; 10] = [
        "機關：",
        "案件：",
        "序號：",
        "動作：",
        "簽核人：",
        "代：",
        "時間：",
        "前一步：",
        "文件：",
        "意見：",
    ];
    let details = signed
        .lines()
        .filter(|l| *l != STEP_HEAD && !l.is_empty())
        .filter(|l| !COMMON.iter().any(|p| l.starts_with(p)))
        .map(gongwen_proto::office::from_one_line)
        .collect();
    let comment = signed
        .lines()
        .find_map(|l| l.strip_prefix("意見："))
        .map(gongwen_proto::office::from_one_line)
        .unwrap_or_default();
    (details, comment)
}

/// What a step's comment is, by its action.
fn comment_label(action: Action) -> &'static str {
    match action {
        Action::Dispatch => "發文方式",
        Action::File => "檔號",
        Action::Opinion => "會辦意見",
        Action::AssignUnit => "改分原因",
        Action::ReturnToDesk
        | Action::Return
        | Action::Reopen
        | Action::Refuse
        | Action::ChangeUrgency
        | Action::Extend
        | Action::ProjectControl
        | Action::DenyTime => "原因",
        Action::GrantTime => "意見",
        Action::Decide => "批示",
        _ => "意見",
    }
}

/// The order documents are shown in: what came in, then the 簽, then the 稿.
fn kind_rank(kind: &str) -> u8 {
    match kind {
        "incoming" => 0,
        "scan" => 1,
        "memo" => 2,
        "draft" => 3,
        _ => 4,
    }
}

/// The comment of the last step of `action` (the 發文 step's channel).
fn last_comment(steps: &[Step], action: Action) -> Option<String> {
    steps
        .iter()
        .rfind(|s| s.action == action)
        .map(|s| step_lines(&s.signed).1)
}

// ---------------------------------------------------------------------------------------
// The case page.

/// One line of the case's facts.
pub struct FactRow {
    pub label: &'static str,
    pub value: String,
}

/// A current document, as it prints.
pub struct DocView {
    pub title: String,
    /// The frame's address, when it is shown in the page.
    pub frame: Option<String>,
    pub file: String,
    /// What it is and how large.
    pub about: String,
}

pub struct VersionRow {
    pub doc: String,
    pub version: i64,
    pub kind: &'static str,
    pub author: String,
    pub at: i64,
    pub view: String,
    pub file: String,
    pub changes: Option<String>,
}

pub struct StepRow {
    pub seq: i64,
    pub action: &'static str,
    pub actor: String,
    /// 「代」 whom.
    pub principal: Option<String>,
    pub at: i64,
    pub details: Vec<String>,
    pub comment_label: &'static str,
    pub comment: String,
}

pub struct ConsultRow {
    pub unit: String,
    pub mode: &'static str,
    pub state: String,
}

pub struct SentRow {
    pub doc: String,
    pub number: String,
    pub package: String,
    pub returned: Option<String>,
}

/// A check box of a form.
pub struct Check {
    pub name: String,
    pub label: String,
    pub checked: bool,
}

/// A 稿's radio group in the 決行 form.
pub struct DecisionRow {
    pub name: String,
    pub title: String,
    pub chosen: String,
}

pub struct DocLink {
    pub href: String,
    pub label: String,
}

/// One action's form on the case page.
pub struct ActionForm {
    /// The step's name (`assign_unit` …), posted as `action`.
    pub action: &'static str,
    pub label: &'static str,
    pub principal_field: &'static str,
    /// 「代理」: empty when the person deputises for no one today.
    pub principals: Vec<Choice>,
    pub targets: Vec<Choice>,
    pub checks: Vec<Check>,
    pub decisions: Vec<DecisionRow>,
    pub links: Vec<DocLink>,
    pub retentions: Vec<Choice>,
    /// What the person should know (改分, the deciding level …).
    pub note: String,
    /// 分文 of a case already at a unit (改分): the reason is required.
    pub reassign: bool,
    pub errors: FormErrors,
    /// What was typed, when the form comes back with errors.
    pub kept: Fields,
}

impl ActionForm {
    fn new(action: Action) -> Self {
        ActionForm {
            action: action.as_str(),
            label: action.label(),
            principal_field: actions::principal_field(action),
            principals: Vec::new(),
            targets: Vec::new(),
            checks: Vec::new(),
            decisions: Vec::new(),
            links: Vec::new(),
            retentions: Vec::new(),
            note: String::new(),
            reassign: false,
            errors: FormErrors::new(),
            kept: Fields::default(),
        }
    }

    /// The id of the form's heading.
    pub fn heading(&self) -> String {
        format!("act-{}", self.action)
    }
}

/// A button that asks the agent again for what a step asked of it.
pub struct Retry {
    pub what: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "office/case.html")]
pub struct CasePage {
    site: &'static Site,
    title: String,
    who: Option<Who>,
    csrf: String,
    id: String,
    note: String,
    /// A form sent back for an action no longer offered.
    alert: String,
    facts: Vec<FactRow>,
    exclusions: Vec<String>,
    docs: Vec<DocView>,
    versions: Vec<VersionRow>,
    trail: Vec<StepRow>,
    consults: Vec<ConsultRow>,
    sent: Vec<SentRow>,
    forms: Vec<ActionForm>,
    retries: Vec<Retry>,
}

/// A form that came back: its action, what is wrong and what was typed.
struct Failed {
    action: Action,
    errors: FormErrors,
    fields: Fields,
}

#[derive(Deserialize)]
struct NoteQuery {
    #[serde(default)]
    note: String,
    /// The note's seal ([`note_seal`]): a note without the session's is not shown.
    #[serde(default)]
    seal: String,
}

async fn show(
    me: Me,
    Path(id): Path<String>,
    Query(q): Query<NoteQuery>,
) -> Result<Page<CasePage>, WebError> {
    let sealed = !q.note.is_empty()
        && gongwen_net::same_secret(
            note_seal(&me.session.csrf, &id, &q.note).as_bytes(),
            q.seal.as_bytes(),
        );
    let note: String = match sealed {
        true => q.note.chars().take(MAX_NOTE_CHARS).collect(),
        false => String::new(),
    };
    Ok(Page(case_page(&me, &id, note, None).await?))
}

async fn case_page(
    me: &Me,
    id: &str,
    note: String,
    failed: Option<Failed>,
) -> Result<CasePage, WebError> {
    super::search::may_view(me, id).await?;
    let db = &me.app.db;
    let f = facts(me, id).await?;
    let all_steps = steps::steps(db, id).await.map_err(refused)?;
    let versions = cases::versions(db, id).await.map_err(refused)?;
    let heads = documents::heads(db, id).await.map_err(refused)?;
    let sent = dispatch::sent(db, id).await.map_err(refused)?;
    let mut names = Names::default();
    let c = &f.case;
    let base = format!("/cases/{}", c.id);

    let shape_of = |doc: &str, version: i64, kind: &str| {
        heads
            .iter()
            .find(|h| h.doc == doc && h.version == version)
            .map_or((Shape::Binary, 0), |h| {
                (documents::shape(kind, &h.head), h.size)
            })
    };
    let mut current = f.current.clone();
    current.sort_by(|a, b| (kind_rank(&a.kind), &a.doc).cmp(&(kind_rank(&b.kind), &b.doc)));
    let docs = current
        .iter()
        .map(|v| {
            let (shape, size) = shape_of(&v.doc, v.version, &v.kind);
            let href = format!("{base}/docs/{}/{}", v.doc, v.version);
            DocView {
                title: format!(
                    "{} 第{}版（{}）",
                    v.doc,
                    v.version,
                    documents::kind_label(&v.kind)
                ),
                frame: (shape.shown() && size <= documents::MAX_SHOWN_BYTES).then(|| href.clone()),
                file: format!("{href}/file"),
                about: format!("{}，{} 位元組", shape.label(), size),
            }
        })
        .collect();
    let mut version_rows = Vec::new();
    for v in &versions {
        let href = format!("{base}/docs/{}/{}", v.doc, v.version);
        version_rows.push(VersionRow {
            doc: v.doc.clone(),
            version: v.version,
            kind: documents::kind_label(&v.kind),
            author: names.of(db, &v.author).await,
            at: v.created_at,
            changes: (v.version > 1).then(|| format!("{href}/changes")),
            file: format!("{href}/file"),
            view: href,
        });
    }
    let mut trail = Vec::new();
    for s in &all_steps {
        let (lines, comment) = step_lines(&s.signed);
        // The versions the step wrote (they carry its time), then what it signed.
        let mut details: Vec<String> = versions
            .iter()
            .filter(|v| v.created_at == s.at && v.author == s.actor)
            .map(|v| {
                format!(
                    "新版本：{} 第{}版（{}）",
                    v.doc,
                    v.version,
                    documents::kind_label(&v.kind)
                )
            })
            .collect();
        details.extend(
            lines
                .into_iter()
                .map(|l| match l.strip_prefix("會辦單位：") {
                    Some(u) if f.units.iter().any(|x| x.id == u) => {
                        format!("會辦單位：{}", unit_label(&f.units, u))
                    }
                    _ => l,
                }),
        );
        let principal = match &s.principal {
            Some(p) => Some(names.of(db, p).await),
            None => None,
        };
        trail.push(StepRow {
            seq: s.seq,
            action: s.action.label(),
            actor: names.of(db, &s.actor).await,
            principal,
            at: s.at,
            details,
            comment_label: comment_label(s.action),
            comment,
        });
    }
    let awaited: Vec<i64> = cases::awaited(&f.consults)
        .iter()
        .map(|k| k.position)
        .collect();
    let consults = f
        .consults
        .iter()
        .map(|k| ConsultRow {
            unit: unit_label(&f.units, &k.unit),
            mode: if k.in_sequence { "依序" } else { "平行" },
            state: match k.opinion_seq {
                Some(seq) => format!("已回覆（第 {seq} 步）"),
                None if awaited.contains(&k.position) => "待會辦".to_string(),
                None => "等候前一單位".to_string(),
            },
        })
        .collect();
    let sent_rows = sent
        .iter()
        .map(|s| SentRow {
            doc: s.doc.clone(),
            number: s.doc_number.clone(),
            package: s.package_id.clone(),
            returned: s.returned.clone(),
        })
        .collect();
    let facts = fact_rows(me, &f, &mut names).await;
    let exclusions = c
        .exclusions
        .iter()
        .map(|n| {
            let text = EXCLUSIONS
                .get(usize::from(*n).wrapping_sub(1))
                .unwrap_or(&"");
            format!("第{n}款 {text}")
        })
        .collect();
    // A form that came back for an action no longer offered (the case moved on) says so.
    let lost = failed.as_ref().map(|x| {
        let all: Vec<String> = x.errors.items().iter().map(|e| e.message.clone()).collect();
        (x.action, all.join("；"))
    });
    let forms = forms(me, &f, failed).await.map_err(refused)?;
    let alert = match lost {
        Some((a, why)) if !forms.iter().any(|x| x.action == a.as_str()) => {
            format!("「{}」目前不是您可以辦理的動作（{why}）", a.label())
        }
        _ => String::new(),
    };
    let retries = retries(me, c, &all_steps);
    Ok(CasePage {
        site: SITE,
        title: format!("案件 {}", c.id),
        who: Some(me.who()),
        csrf: me.session.csrf.clone(),
        id: c.id.clone(),
        note,
        alert,
        facts,
        exclusions,
        docs,
        versions: version_rows,
        trail,
        consults,
        sent: sent_rows,
        forms,
        retries,
    })
}

async fn fact_rows(me: &Me, f: &Facts, names: &mut Names) -> Vec<FactRow> {
    let db = &me.app.db;
    let c = &f.case;
    let mut rows = vec![
        ("文號", c.id.clone()),
        ("主旨", c.subject.clone()),
        ("速別", c.urgency.clone()),
        ("狀態", c.state.label().to_string()),
        ("來源", c.origin.label().to_string()),
        (
            "業務項目",
            format!(
                "{}（今日決行層級：{}）",
                c.matter,
                delegation::level_label(f.needed_level)
            ),
        ),
        ("建立時間", filters_roc(c.created_at)),
    ];
    if let Some(due) = crate::timing::due_of(&me.app.calendar, c) {
        let kind = (c.deadline_kind.as_deref())
            .and_then(crate::timing::DeadlineKind::parse)
            .map_or("依速別", |k| k.label());
        let mut v = format!("{}（{kind}", gongwen_calendar::roc_date(due));
        if c.extensions > 0 {
            v += &format!(
                "；已展期 {} 次、{} 個工作天",
                c.extensions, c.extension_days
            );
        }
        v += "）";
        if cases::RUNNING.contains(&c.state)
            && let Some(today) = crate::deadlines::day_of(me.app.clock.now_ms())
            && due < today
        {
            let late = crate::timing::days_overdue(&me.app.calendar, due, today);
            v += &format!("　逾期 {late} 個工作天");
        }
        rows.push(("限辦日期", v));
    }
    if let Some(a) = &c.asked {
        let what = a.describe();
        rows.push((
            "待核准",
            format!(
                "{what}（{}申請，由{}以上核准）",
                names.of(db, &a.by).await,
                delegation::level_label(a.level)
            ),
        ));
    }
    if let Some(u) = &c.unit {
        rows.push(("主辦單位", unit_label(&f.units, u)));
    }
    if let Some(o) = &c.officer {
        rows.push(("承辦人", names.of(db, o).await));
    }
    if let Some(h) = &c.holder {
        rows.push(("目前在", names.of(db, h).await));
    }
    let optional = [
        ("收文字號", &c.receipt_number),
        ("發文字號", &c.dispatch_number),
        ("檔號", &c.file_code),
        ("保存年限", &c.retention),
    ];
    for (label, v) in optional {
        if let Some(v) = v {
            rows.push((label, v.clone()));
        }
    }
    if let Some(at) = c.closed_at {
        rows.push(("結案時間", filters_roc(at)));
    }
    rows.into_iter()
        .map(|(label, value)| FactRow { label, value })
        .collect()
}

fn filters_roc(ms: i64) -> String {
    gongwen_web::roc(ms)
}

/// The 「代理」 choices of an offer: the person themselves and whom they act for.
fn principal_choices(f: &Facts, offer: &Offer, kept: &str) -> Vec<Choice> {
    if f.identities.len() < 2 {
        return Vec::new();
    }
    offer
        .as_whom
        .iter()
        .filter_map(|w| {
            let who = allowed::identity(f, w)?;
            let (value, label) = match w {
                None => (String::new(), format!("本人（{}）", who.person.display())),
                Some(p) => (p.clone(), format!("代理 {}", who.person.display())),
            };
            Some(Choice {
                selected: value == kept,
                value,
                label,
            })
        })
        .collect()
}

/// The options of a select with 「請選擇」 first.
fn with_prompt(options: Vec<(String, String)>, kept: &str) -> Vec<Choice> {
    std::iter::once((String::new(), "（請選擇）".to_string()))
        .chain(options)
        .map(|(value, label)| Choice {
            selected: !value.is_empty() && value == kept,
            value,
            label,
        })
        .collect()
}

/// The forms of the actions `me` may take now.
async fn forms(me: &Me, f: &Facts, failed: Option<Failed>) -> Result<Vec<ActionForm>, OfficeError> {
    let db = &me.app.db;
    let c = &f.case;
    let base = format!("/cases/{}", c.id);
    let mut out = Vec::new();
    for offer in allowed::offers(f) {
        let mut form = ActionForm::new(offer.action);
        if let Some(x) = failed.as_ref().filter(|x| x.action == offer.action) {
            form.errors = x.errors.clone();
            form.kept = x.fields.clone();
        }
        let kept = form.kept.clone();
        form.principals = principal_choices(f, &offer, kept.text(form.principal_field));
        // Whom the form acts as first (for the choices that depend on it).
        let acting = allowed::identity(f, &offer.as_whom[0]);
        let acting_ids: Vec<&str> = offer
            .as_whom
            .iter()
            .filter_map(|w| allowed::identity(f, w))
            .map(|i| i.person.id.as_str())
            .collect();
        match offer.action {
            Action::AssignUnit => {
                let own = c.unit.as_deref().unwrap_or_default();
                let units = f
                    .units
                    .iter()
                    .filter(|u| u.depth > 0 && u.id != own)
                    .map(|u| {
                        let indent = "　".repeat(usize::try_from(u.depth - 1).unwrap_or(0));
                        (u.id.clone(), format!("{indent}{}（{}）", u.name, u.id))
                    })
                    .collect();
                form.targets = with_prompt(units, kept.text("assign_unit_to"));
                if c.state == State::AtUnit {
                    form.reassign = true;
                    form.note = format!(
                        "改分：本案目前分在{}，須填寫原因。",
                        unit_label(&f.units, own)
                    );
                }
            }
            Action::AssignOfficer => {
                let unit = c.unit.as_deref().unwrap_or_default();
                let people = allowed::officers(db, &f.units, unit).await?;
                let options = people
                    .iter()
                    .map(|p| {
                        (
                            p.id.clone(),
                            format!("{}（{}）", p.display(), unit_label(&f.units, &p.unit)),
                        )
                    })
                    .collect();
                form.targets = with_prompt(options, kept.text("assign_officer_to"));
            }
            Action::Draft | Action::Amend => {
                let verb = if offer.action == Action::Draft {
                    "修改"
                } else {
                    "修改（留下新版本）"
                };
                if offer.action == Action::Draft {
                    form.links.push(DocLink {
                        href: format!("{base}/draft?kind=memo"),
                        label: "擬新簽".into(),
                    });
                    form.links.push(DocLink {
                        href: format!("{base}/draft?kind=draft"),
                        label: "擬新稿".into(),
                    });
                }
                for v in allowed::writings(&f.current) {
                    form.links.push(DocLink {
                        href: format!("{base}/draft?doc={}", v.doc),
                        label: format!(
                            "{verb}{} {}（第{}版）",
                            documents::kind_label(&v.kind),
                            v.doc,
                            v.version
                        ),
                    });
                }
            }
            Action::Flag => {
                form.checks = f
                    .open_exclusions()
                    .into_iter()
                    .map(|n| {
                        let name = format!("flag_{n}");
                        Check {
                            checked: kept.on(&name),
                            label: format!("第{n}款 {}", EXCLUSIONS[usize::from(n) - 1]),
                            name,
                        }
                    })
                    .collect();
                form.note = "改列紙本後，本案不能線上送會、陳核，改以紙本簽核。".into();
            }
            Action::Consult => {
                form.checks = f
                    .consultable()
                    .into_iter()
                    .map(|u| {
                        let name = actions::consult_field(&u.id);
                        Check {
                            checked: kept.on(&name),
                            label: format!(
                                "{}（{}）{}",
                                u.name,
                                u.id,
                                if u.online {
                                    ""
                                } else {
                                    "：尚未實施線上簽核，送會後本案改列紙本"
                                }
                            ),
                            name,
                        }
                    })
                    .collect();
            }
            Action::Opinion => {
                let units: Vec<String> = acting
                    .map(|a| f.opinion_units(a))
                    .unwrap_or_default()
                    .iter()
                    .map(|u| unit_label(&f.units, u))
                    .collect();
                form.note = format!("以{}的會辦意見簽章。", units.join("、"));
            }
            Action::Submit | Action::Approve => {
                // Up the officer's own chain (a 股 inside the 科 the case was given to).
                let unit = crate::steps::review_unit(db, c).await?;
                let unit = unit.as_str();
                let above = match offer.action {
                    Action::Approve => acting.and_then(|a| a.level),
                    _ => None,
                };
                let options: Vec<(String, String)> = allowed::reviewers(db, &f.units, unit)
                    .await?
                    .into_iter()
                    .filter(|(p, l)| {
                        !acting_ids.contains(&p.id.as_str()) && above.is_none_or(|a| *l < a)
                    })
                    .map(|(p, l)| {
                        (
                            p.id.clone(),
                            format!("{}（{}）", p.display(), delegation::level_label(l)),
                        )
                    })
                    .collect();
                if options.is_empty() {
                    // The top of the chain: nobody to pass it to.
                    continue;
                }
                let field = if offer.action == Action::Submit {
                    "submit_to"
                } else {
                    "approve_to"
                };
                form.targets = with_prompt(options, kept.text(field));
            }
            Action::Return => {
                let people = allowed::returnees(db, c, &f.trail).await?;
                let options: Vec<(String, String)> = people
                    .iter()
                    .filter(|p| !acting_ids.contains(&p.id.as_str()))
                    .map(|p| {
                        let role = if c.officer.as_deref() == Some(p.id.as_str()) {
                            "承辦人"
                        } else {
                            "先前核轉"
                        };
                        (p.id.clone(), format!("{}（{role}）", p.display()))
                    })
                    .collect();
                if options.is_empty() {
                    continue;
                }
                form.targets = with_prompt(options, kept.text("return_to"));
            }
            Action::Decide => {
                form.decisions = allowed::drafts(&f.current)
                    .into_iter()
                    .map(|v| {
                        let name = actions::decide_field(&v.doc);
                        DecisionRow {
                            title: format!("稿 {}（第{}版）", v.doc, v.version),
                            chosen: kept.text(&name).to_string(),
                            name,
                        }
                    })
                    .collect();
                form.note = format!(
                    "依分層負責明細表，「{}」由{}決行。{}",
                    c.matter,
                    delegation::level_label(f.needed_level),
                    if form.decisions.is_empty() {
                        "本案沒有稿，決行後逕送歸檔（存查或簽結）。"
                    } else {
                        ""
                    }
                );
            }
            Action::ChangeUrgency => {
                form.targets = with_prompt(
                    URGENCIES
                        .iter()
                        .filter(|u| **u != c.urgency)
                        .map(|u| (u.to_string(), u.to_string()))
                        .collect(),
                    kept.text("change_urgency_to"),
                );
                form.note = format!(
                    "來文速別為{}；不符實際時由收文單位主管改定，限辦日期自收文日重新計算（限期、專案管制者不變）。",
                    c.urgency
                );
            }
            Action::Extend => {
                let x = me.app.config.extensions;
                form.note = format!(
                    "本機關展期上限：{} 次、每次 {} 個工作天、累計 {} 個工作天（本案已展期 {} 次、{} 個工作天）；超過者請改列專案管制。\
                     展期經主管核准後生效：累計 {} 個工作天以內由二級單位主管、{} 個工作天以內由一級單位主管、更長由首長核准。",
                    x.max_requests,
                    x.max_days_each,
                    x.max_days_total,
                    c.extensions,
                    c.extension_days,
                    x.level3_up_to_days,
                    x.level2_up_to_days
                );
            }
            Action::ProjectControl => {
                form.note = format!(
                    "需要較長時間（30 天以上）的案件，經{}以上核准後改列專案管制，以核定的日期為限辦日期。",
                    delegation::level_label(me.app.config.extensions.project_level)
                );
            }
            Action::GrantTime | Action::DenyTime => {
                if let Some(a) = &c.asked {
                    let what = a.describe();
                    let by = org::person(db, &a.by)
                        .await
                        .map_or_else(|_| a.by.clone(), |p| p.display());
                    form.note = format!(
                        "{by}申請{what}（簽核紀錄第 {} 步），由{}以上核准。",
                        a.seq,
                        delegation::level_label(a.level)
                    );
                }
            }
            Action::File => {
                form.retentions = with_prompt(
                    RETENTIONS
                        .iter()
                        .map(|r| (r.to_string(), r.to_string()))
                        .collect(),
                    kept.text("file_retention"),
                );
            }
            _ => {}
        }
        out.push(form);
    }
    Ok(out)
}

/// What the case page may ask of the agent again: a 發文 by exchange not yet sent, a paper
/// 發文 not yet numbered, an 電子收文 not yet signed for. For the clerk.
fn retries(me: &Me, c: &Case, all: &[Step]) -> Vec<Retry> {
    if !me.has(Role::Clerk) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if c.dispatch_number.is_none() {
        match last_comment(all, Action::Dispatch).as_deref() {
            Some("交換") => out.push(Retry {
                what: "send",
                label: "重新交付代理程式發文",
            }),
            Some("紙本") => out.push(Retry {
                what: "number",
                label: "重新取得紙本發文字號",
            }),
            _ => {}
        }
    }
    let registered = all.iter().any(|s| s.action == Action::Register);
    if c.origin == Origin::Exchange
        && registered
        && c.receipt_number.is_none()
        && c.state != State::Refused
    {
        out.push(Retry {
            what: "sign_for",
            label: "重新向代理程式簽收",
        });
    }
    out
}

#[derive(Deserialize)]
struct RetryForm {
    #[serde(default)]
    what: String,
}

async fn retry(
    Path(id): Path<String>,
    Csrf(me, f): Csrf<Me, RetryForm>,
) -> Result<Response, WebError> {
    me.must(Role::Clerk)?;
    let c = cases::case(&me.app.db, &id).await.map_err(refused)?;
    let then = match f.what.as_str() {
        "send" => Then::Send,
        "number" => Then::NumberPaper,
        "sign_for" => Then::SignFor,
        _ => return Err(Refusal::new(Code::BadRequest, "不明的重試項目").into()),
    };
    let note = sign::after(&me, &c.id, then, me.app.clock.now_ms())
        .await
        .unwrap_or_default();
    Ok(Redirect::to(&note_url(&me.session.csrf, &c.id, &note)).into_response())
}

/// The seal of a status line for `case`, with the session's secret (its CSRF token): a link
/// made elsewhere cannot carry words the case page would show as the office's.
fn note_seal(secret: &str, case: &str, note: &str) -> String {
    let text = format!("{case}\n{note}");
    gongwen_net::hmac_sha256_hex(secret.as_bytes(), text.as_bytes())
}

/// The case page with a status line (after the person's own step), sealed for the session
/// whose secret is `secret`.
pub fn note_url(secret: &str, case: &str, note: &str) -> String {
    if note.is_empty() {
        return format!("/cases/{case}");
    }
    let q: String = note
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!(
        "/cases/{case}?note={q}&seal={}",
        note_seal(secret, case, note)
    )
}

// ---------------------------------------------------------------------------------------
// Actions.

/// Every action's form: the request to sign, or the form again with what it lacks.
async fn act(Path(id): Path<String>, Csrf(me, f): Csrf<Me, Fields>) -> Result<Response, WebError> {
    let Some(action) = Action::parse(f.text("action")) else {
        return Err(Refusal::new(Code::BadRequest, "不明的動作").into());
    };
    if matches!(action, Action::Draft | Action::Amend) {
        return drafted(&me, &id, action, f).await;
    }
    let db = &me.app.db;
    let case = cases::case(db, &id).await.map_err(refused)?;
    let current = cases::current_versions(db, &id).await.map_err(refused)?;
    let units = org::units(db).await.map_err(refused)?;
    let ctx = Context {
        case: &case,
        drafts: allowed::drafts(&current)
            .iter()
            .map(|v| v.doc.clone())
            .collect(),
        units: allowed::tree(units).into_iter().map(|u| u.id).collect(),
    };
    match actions::request(action, &f, &ctx, &me.person.id, me.app.clock.now_ms()) {
        Ok((req, then)) => sign::prepare(&me, req, then).await,
        Err(errors) => {
            let failed = Failed {
                action,
                errors,
                fields: f,
            };
            let page = case_page(&me, &id, String::new(), Some(failed)).await?;
            Err(WebError::page(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

// ---------------------------------------------------------------------------------------
// The drafting form.

#[derive(Template)]
#[template(path = "office/draft_form.html")]
pub struct DraftPage {
    site: &'static Site,
    title: String,
    who: Option<Who>,
    csrf: String,
    /// Where the form posts: the case's `act`, or `/cases/new`.
    post_to: String,
    /// `draft`, `amend`, or empty for a new case.
    action: &'static str,
    /// The document revised (empty: a new one).
    doc: String,
    /// The case, for the way back (empty for a new case).
    case: String,
    f: Fields,
    errors: FormErrors,
    kinds: Vec<Choice>,
    urgencies: Vec<Choice>,
    proposals: Vec<Choice>,
    /// 業務項目, for a new case.
    matters: Vec<Choice>,
    principal_field: &'static str,
    principals: Vec<Choice>,
    /// The 文別 may not change (a revision keeps 簽 a 簽 and 稿 a 稿).
    kind_note: String,
}

impl DraftPage {
    /// The 文別 choices: all, or those of the same kind of version as `keep` (`memo`/`draft`).
    fn kinds(keep: Option<&str>, chosen: &str) -> Vec<Choice> {
        let kinds = KINDS
            .iter()
            .filter(|k| keep.is_none_or(|v| drafting::version_kind(k) == v))
            .map(|k| (*k, *k));
        Choice::list(kinds, chosen)
    }

    fn choices(f: &Fields) -> (Vec<Choice>, Vec<Choice>) {
        let urgencies = Choice::list(URGENCIES.map(|u| (u, u)), f.text("urgency"));
        let proposals = Choice::list(
            std::iter::once(("", "（不填）")).chain(PROPOSALS.iter().copied()),
            f.text("proposal"),
        );
        (urgencies, proposals)
    }
}

/// The writer's particulars for `case` (its unit and number), acting as `acting`.
fn writer<'a>(me: &'a Me, unit_name: &'a str, case_number: &'a str, signer: &'a str) -> Writer<'a> {
    Writer {
        agency_code: &me.app.config.agency.code,
        agency_name: &me.app.config.agency.name,
        unit_name,
        case_number,
        signer,
    }
}

fn today(me: &Me) -> Result<RocDate, WebError> {
    RocDate::from_unix_taipei(me.app.clock.now_s())
        .map_err(|e| Refusal::new(Code::Internal, e.message).into())
}

#[derive(Deserialize)]
struct DraftQuery {
    #[serde(default)]
    doc: String,
    #[serde(default)]
    kind: String,
}

/// Which of 擬辦 and 修改 the person may take on the case now.
fn drafting_offer(f: &Facts) -> Option<Offer> {
    allowed::offers(f)
        .into_iter()
        .find(|o| matches!(o.action, Action::Draft | Action::Amend))
}

async fn draft_form(
    me: Me,
    Path(id): Path<String>,
    Query(q): Query<DraftQuery>,
) -> Result<Page<DraftPage>, WebError> {
    super::search::may_view(&me, &id).await?;
    let db = &me.app.db;
    let f = facts(&me, &id).await?;
    let offer = drafting_offer(&f)
        .ok_or_else(|| Refusal::new(Code::OfficeNotAllowed, "您目前不能擬辦或修改本案的文稿"))?;
    let signer = allowed::identity(&f, &offer.as_whom[0])
        .map(|i| i.person.display())
        .unwrap_or_default();
    let (fields, keep) = if q.doc.is_empty() {
        if offer.action == Action::Amend {
            return Err(Refusal::new(Code::BadRequest, "修改須指出哪一份文稿").into());
        }
        let kind = if q.kind == "draft" { "函" } else { "簽" };
        (drafting::blank(kind, &signer), None)
    } else {
        let v = allowed::writings(&f.current)
            .into_iter()
            .find(|v| v.doc == q.doc)
            .ok_or_else(|| Refusal::new(Code::NotFound, format!("本案沒有文稿「{}」", q.doc)))?;
        let content = cases::version_content(db, &id, &v.doc, v.version)
            .await
            .map_err(refused)?;
        (
            drafting::fields_of_content(&content, &v.kind),
            Some(v.kind.clone()),
        )
    };
    let page = draft_page(&me, &f, &offer, q.doc, fields, keep, FormErrors::new());
    Ok(Page(page))
}

fn draft_page(
    me: &Me,
    f: &Facts,
    offer: &Offer,
    doc: String,
    fields: Fields,
    keep: Option<String>,
    errors: FormErrors,
) -> DraftPage {
    let (urgencies, proposals) = DraftPage::choices(&fields);
    let principal_field = actions::principal_field(offer.action);
    let title = match (offer.action, doc.is_empty()) {
        (Action::Amend, _) => format!("修改 {doc}（案件 {}）", f.case.id),
        (_, true) => format!("擬辦（案件 {}）", f.case.id),
        (_, false) => format!("擬辦：修改 {doc}（案件 {}）", f.case.id),
    };
    DraftPage {
        site: SITE,
        title,
        who: Some(me.who()),
        csrf: me.session.csrf.clone(),
        post_to: format!("/cases/{}/act", f.case.id),
        action: offer.action.as_str(),
        case: f.case.id.clone(),
        kinds: DraftPage::kinds(keep.as_deref(), fields.text("kind")),
        kind_note: if keep.is_some() {
            "修改既有文稿時，簽仍為簽、稿仍為稿；要改變請另擬新文稿。".into()
        } else {
            String::new()
        },
        urgencies,
        proposals,
        matters: Vec::new(),
        principals: principal_choices(f, offer, fields.text(principal_field)),
        principal_field,
        doc,
        f: fields,
        errors,
    }
}

/// 擬辦 or 修改 posted: a new version of a 簽 or 稿, to sign.
async fn drafted(me: &Me, id: &str, action: Action, fields: Fields) -> Result<Response, WebError> {
    let f = facts(me, id).await?;
    // The offer as the page would make it; without one the form is still read, and the
    // step refused when prepared.
    let offer = drafting_offer(&f)
        .filter(|o| o.action == action)
        .unwrap_or(Offer {
            action,
            as_whom: vec![None],
        });
    let doc = fields.text("doc").to_string();
    let existing = allowed::writings(&f.current)
        .into_iter()
        .find(|v| v.doc == doc)
        .cloned();
    let principal = actions::principal(action, &fields);
    let acting = allowed::identity(&f, &principal).or(f.identities.first());
    let signer = acting.map(|a| a.person.display()).unwrap_or_default();
    let unit_name = f
        .case
        .unit
        .as_deref()
        .and_then(|u| f.units.iter().find(|x| x.id == u))
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let w = writer(me, &unit_name, &f.case.id, &signer);
    let mut read = drafting::draft_of(&fields, &w, today(me)?);
    if let Ok(d) = &read {
        let kind = drafting::version_kind(d.kind.as_deref().unwrap_or_default());
        let wrong = match (&existing, doc.is_empty()) {
            (Some(v), _) if v.kind != kind => {
                Some((Some("kind"), "簽仍為簽、稿仍為稿；要改變請另擬新文稿"))
            }
            (None, false) => Some((None, "本案沒有這份文稿")),
            (None, true) if action == Action::Amend => Some((None, "修改須指出哪一份文稿")),
            _ => None,
        };
        if let Some((field, message)) = wrong {
            read = Err(FormErrors::new().with(field, message));
        }
    }
    match read {
        Ok(d) => {
            let kind = drafting::version_kind(d.kind.as_deref().unwrap_or_default());
            let doc_id = existing
                .map(|v| v.doc)
                .unwrap_or_else(|| allowed::new_doc_id(&f.current, kind));
            let mut req = Request::new(id, action, &me.person.id, me.app.clock.now_ms());
            req.principal = principal;
            req.version = Some(NewVersion {
                doc: doc_id,
                kind: kind.to_string(),
                content: drafting::json_of(&d),
            });
            sign::prepare(me, req, Then::Nothing).await
        }
        Err(errors) => {
            let keep = f
                .current
                .iter()
                .find(|v| v.doc == doc)
                .map(|v| v.kind.clone());
            let page = draft_page(me, &f, &offer, doc, fields, keep, errors);
            Err(WebError::page(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

// ---------------------------------------------------------------------------------------
// 創簽／創稿.

/// Whom `me` may create a case as: themselves and the principals they act for today, if
/// they are officers.
async fn creators(me: &Me) -> Result<Vec<(Option<String>, org::Person)>, WebError> {
    let db = &me.app.db;
    let mut out = Vec::new();
    if me.has(Role::Officer) {
        out.push((None, me.person.clone()));
    }
    for p in org::principals_on(db, &me.person.id, &me.today())
        .await
        .map_err(refused)?
    {
        if org::has_role(db, &p, Role::Officer)
            .await
            .map_err(refused)?
        {
            out.push((Some(p.clone()), org::person(db, &p).await.map_err(refused)?));
        }
    }
    if out.is_empty() {
        return Err(Refusal::new(Code::OfficeNotAllowed, "創簽、創稿限承辦人").into());
    }
    Ok(out)
}

/// The matters of the delegation table (業務項目), with the level that decides each today.
async fn matters(me: &Me) -> Result<Vec<(String, String)>, WebError> {
    let rules = delegation::history(&me.app.db).await.map_err(refused)?;
    let today = me.today();
    let mut out: Vec<(String, String)> = Vec::new();
    for r in rules.iter().filter(|r| r.effective_from <= today) {
        if !out.iter().any(|(m, _)| *m == r.matter) {
            out.push((
                r.matter.clone(),
                format!("{}（{}）", r.matter, delegation::level_label(r.level)),
            ));
        }
    }
    if out.is_empty() {
        out.push((
            "一般業務".to_string(),
            "一般業務（明細表未列，由首長決行）".to_string(),
        ));
    }
    Ok(out)
}

fn new_page(
    me: &Me,
    who: &[(Option<String>, org::Person)],
    matters: Vec<(String, String)>,
    fields: Fields,
    errors: FormErrors,
) -> DraftPage {
    let (urgencies, proposals) = DraftPage::choices(&fields);
    let principal_field = actions::principal_field(Action::Create);
    let chosen = fields.text(principal_field);
    let principals = if who.len() < 2 && who.first().is_some_and(|(p, _)| p.is_none()) {
        Vec::new()
    } else {
        who.iter()
            .map(|(p, person)| {
                let value = p.clone().unwrap_or_default();
                Choice {
                    selected: value == chosen,
                    label: match p {
                        None => format!("本人（{}）", person.display()),
                        Some(_) => format!("代理 {}", person.display()),
                    },
                    value,
                }
            })
            .collect()
    };
    DraftPage {
        site: SITE,
        title: "創簽／創稿".to_string(),
        who: Some(me.who()),
        csrf: me.session.csrf.clone(),
        post_to: "/cases/new".to_string(),
        action: "",
        doc: String::new(),
        case: String::new(),
        kinds: DraftPage::kinds(None, fields.text("kind")),
        kind_note: String::new(),
        urgencies,
        proposals,
        matters: with_prompt(matters, fields.text("matter")),
        principal_field,
        principals,
        f: fields,
        errors,
    }
}

#[derive(Deserialize)]
struct NewQuery {
    #[serde(default)]
    kind: String,
}

async fn new_form(me: Me, Query(q): Query<NewQuery>) -> Result<Page<DraftPage>, WebError> {
    let who = creators(&me).await?;
    let kind = if q.kind == "draft" { "函" } else { "簽" };
    let signer = who[0].1.display();
    let fields = drafting::blank(kind, &signer);
    let m = matters(&me).await?;
    Ok(Page(new_page(&me, &who, m, fields, FormErrors::new())))
}

/// 創簽／創稿 posted: a new case number, its first 簽 or 稿, to sign.
async fn create(Csrf(me, fields): Csrf<Me, Fields>) -> Result<Response, WebError> {
    let db = &me.app.db;
    let who = creators(&me).await?;
    let m = matters(&me).await?;
    let principal = actions::principal(Action::Create, &fields);
    let acting = who
        .iter()
        .find(|(p, _)| *p == principal)
        .map(|(_, person)| person.clone());
    let mut errors = FormErrors::new();
    let matter = fields.text("matter");
    if !m.iter().any(|(v, _)| v == matter) {
        errors.push(Some("matter"), "請選擇業務項目");
    }
    let limit = crate::timing::limit_of_form(fields.text("limit_kind"), fields.text("limit_day"))
        .unwrap_or_else(|e| {
            errors.push(Some("limit_day"), e);
            None
        });
    let Some(acting) = acting else {
        return Err(Refusal::new(Code::OfficeNotAllowed, "您不是這位的職務代理人").into());
    };
    let unit_name = org::unit(db, &acting.unit)
        .await
        .map(|u| u.name)
        .unwrap_or_default();
    let signer = acting.display();
    let w = writer(&me, &unit_name, "", &signer);
    let read = drafting::draft_of(&fields, &w, today(&me)?);
    let d = match (read, errors.is_empty()) {
        (Ok(d), true) => d,
        (Ok(_), false) => {
            let page = new_page(&me, &who, m, fields, errors);
            return Err(WebError::page(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
        (Err(more), _) => {
            for e in more.items() {
                errors.push(e.field, e.message.clone());
            }
            let page = new_page(&me, &who, m, fields, errors);
            return Err(WebError::page(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    let now = me.app.clock.now_ms();
    let id = cases::next_number(db, "case", now).await.map_err(refused)?;
    let mut d = d;
    let kind = drafting::version_kind(d.kind.as_deref().unwrap_or_default());
    if kind == "memo" {
        // A 簽's 文號 is its case's number.
        d.numbers =
            gongwen_doc::draft::OneOrMany::One(gongwen_doc::draft::DraftNumber::Text(id.clone()));
    }
    let mut req = Request::new(&id, Action::Create, &me.person.id, now);
    req.limit = limit;
    req.principal = principal;
    req.new_case = Some(NewCase {
        origin: if kind == "memo" {
            Origin::Memo
        } else {
            Origin::Draft
        },
        subject: drafting::subject_of(&d),
        matter: matter.to_string(),
        urgency: d.urgency.clone().unwrap_or_default(),
        intake: None,
    });
    req.version = Some(NewVersion {
        doc: format!("{kind}-1"),
        kind: kind.to_string(),
        content: drafting::json_of(&d),
    });
    sign::prepare(&me, req, Then::Nothing).await
}

// ---------------------------------------------------------------------------------------
// Documents.

/// One version of a case's documents with its kind and time.
async fn version_of(
    me: &Me,
    id: &str,
    doc: &str,
    version: &str,
) -> Result<(cases::Version, Vec<u8>), WebError> {
    super::search::may_view(me, id).await?;
    let n: i64 = version
        .parse()
        .map_err(|_| Refusal::new(Code::BadRequest, format!("版次「{version}」不是數字")))?;
    let db = &me.app.db;
    let v = cases::versions(db, id)
        .await
        .map_err(refused)?
        .into_iter()
        .find(|v| v.doc == doc && v.version == n)
        .ok_or_else(|| {
            Refusal::new(
                Code::NotFound,
                format!("案件「{id}」沒有「{doc}」第 {n} 版"),
            )
        })?;
    let content = cases::version_content(db, id, doc, n)
        .await
        .map_err(refused)?;
    Ok((v, content))
}

/// Text shown in a document frame: a version that is not a document, or one that cannot be
/// printed (with why).
#[derive(Template)]
#[template(path = "office/case_text.html")]
struct TextFrame<'a> {
    title: &'a str,
    problem: &'a str,
    text: &'a str,
}

/// How a version prints: its HTML, or text with the reason it does not print.
fn printed(
    v: &cases::Version,
    content: &[u8],
    number: Option<&str>,
) -> Result<String, (String, String)> {
    let text = || String::from_utf8_lossy(content).into_owned();
    match documents::shape(&v.kind, content) {
        Shape::Draft => {
            let Some(d) = drafting::parse(content) else {
                return Err(("不是文稿格式，以文字顯示。".into(), text()));
            };
            let secs = v.created_at.div_euclid(1000);
            let day = RocDate::from_unix_taipei(secs).map_err(|e| (e.message, text()))?;
            match drafting::printable(&d, number).build(day) {
                Ok(built) => Ok(gongwen_render::render_html(
                    &built.di,
                    &gongwen_render::RenderOptions::default(),
                )),
                Err(problems) => {
                    let all: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
                    Err((format!("文稿尚不完整：{}", all.join("；")), text()))
                }
            }
        }
        Shape::Di => match gongwen_doc::read_di(content) {
            Ok(di) => Ok(gongwen_render::render_html(
                &di,
                &gongwen_render::RenderOptions::default(),
            )),
            Err(e) => Err((format!("無法解讀公文本文：{e}"), text())),
        },
        _ => Err((String::new(), text())),
    }
}

/// A version as it prints, for the frame of the case page; what does not print is
/// downloaded.
async fn document(
    me: Me,
    Path((id, doc, version)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    let (v, content) = version_of(&me, &id, &doc, &version).await?;
    let shape = documents::shape(&v.kind, &content);
    if !shape.shown() || content.len() as i64 > documents::MAX_SHOWN_BYTES {
        return Ok(file_response(&id, &v, shape, content));
    }
    let sent = dispatch::sent(&me.app.db, &id).await.map_err(refused)?;
    let number = sent
        .iter()
        .find(|s| s.doc == v.doc)
        .map(|s| s.doc_number.as_str());
    let html = match printed(&v, &content, number) {
        Ok(html) => html,
        Err((problem, text)) => {
            let title = format!("{} 第{}版", v.doc, v.version);
            let frame = TextFrame {
                title: &title,
                problem: &problem,
                text: &text,
            };
            frame
                .render()
                .map_err(|e| Refusal::new(Code::Internal, e.to_string()))?
        }
    };
    Ok((
        [(header::CONTENT_SECURITY_POLICY, DOCUMENT_POLICY)],
        Html(html),
    )
        .into_response())
}

fn file_response(id: &str, v: &cases::Version, shape: Shape, content: Vec<u8>) -> Response {
    let name = documents::file_name(id, &v.doc, v.version, shape);
    attachment(shape.mime(), &name, content)
}

/// A file to save, not to show: its type and a name that needs no quoting.
fn attachment(mime: &str, name: &str, content: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                documents::disposition("attachment", name),
            ),
        ],
        content,
    )
        .into_response()
}

/// A version as kept, downloaded.
async fn download(
    me: Me,
    Path((id, doc, version)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    let (v, content) = version_of(&me, &id, &doc, &version).await?;
    let shape = documents::shape(&v.kind, &content);
    Ok(file_response(&id, &v, shape, content))
}

// ---------------------------------------------------------------------------------------
// Tracked changes.

/// A run of a compared line: `same`, `ins` or `del`, and its text.
pub struct Run {
    pub class: &'static str,
    pub text: String,
}

/// A compared line (its field, what happened to it, its runs).
pub struct ChangeLine {
    pub label: String,
    /// `same`, `changed`, `ins` or `del`.
    pub class: &'static str,
    pub runs: Vec<Run>,
}

/// Two versions compared, as tracked changes ([`crate::changes`]).
pub struct ChangeView {
    pub summary: String,
    pub lines: Vec<ChangeLine>,
}

/// The changes from `old` to `new` (an empty `old`: the first version, all of it new). A
/// field's name is shown on its first line only.
fn changes_between(old: &[u8], new: &[u8]) -> ChangeView {
    let c = crate::changes::compare(old, new);
    let mut last = String::new();
    let lines = (c.lines.iter())
        .map(|l| {
            let label = if l.label == last {
                String::new()
            } else {
                l.label.clone()
            };
            last = l.label.clone();
            ChangeLine {
                label,
                class: l.status.class(),
                runs: (l.segments.iter())
                    .map(|r| Run {
                        class: r.class(),
                        text: r.text().to_string(),
                    })
                    .collect(),
            }
        })
        .collect();
    let mut summary = c.summary();
    if c.coarse {
        summary.push_str("（內容過長，只標出整段的差異）");
    }
    ChangeView { summary, lines }
}

#[derive(Template)]
#[template(path = "office/case_changes.html")]
pub struct ChangesPage {
    site: &'static Site,
    title: String,
    who: Option<Who>,
    case: String,
    old_label: String,
    new_label: String,
    view: ChangeView,
}

async fn changes(
    me: Me,
    Path((id, doc, version)): Path<(String, String, String)>,
) -> Result<Page<ChangesPage>, WebError> {
    let (v, new) = version_of(&me, &id, &doc, &version).await?;
    let old = if v.version > 1 {
        cases::version_content(&me.app.db, &id, &doc, v.version - 1)
            .await
            .map_err(refused)?
    } else {
        Vec::new()
    };
    Ok(Page(ChangesPage {
        site: SITE,
        title: format!("{} 第{}版的修改（案件 {id}）", v.doc, v.version),
        who: Some(me.who()),
        case: id.clone(),
        old_label: if v.version > 1 {
            format!("第{}版", v.version - 1)
        } else {
            "空白".to_string()
        },
        new_label: format!("第{}版", v.version),
        view: changes_between(&old, &new),
    }))
}

// ---------------------------------------------------------------------------------------
// The case as one file, and its 簽核紀錄.

async fn export_json(me: Me, Path(id): Path<String>) -> Result<Response, WebError> {
    super::search::may_view(&me, &id).await?;
    let file = export::export(&me.app.db, &me.app.agency, &id)
        .await
        .map_err(refused)?;
    let json = serde_json::to_vec_pretty(&file)
        .map_err(|e| Refusal::new(Code::Internal, e.to_string()))?;
    let name = format!("case-{}.json", file.case.id);
    Ok(attachment("application/json", &name, json))
}

static FONTS: OnceLock<Result<gongwen_render::Fonts, gongwen_render::RenderError>> =
    OnceLock::new();

/// The case's 簽核紀錄 as the verifier prints it: every step checked against the office's
/// trust, as `gongwen office verify --pdf` would.
async fn record_pdf(me: Me, Path(id): Path<String>) -> Result<Response, WebError> {
    super::search::may_view(&me, &id).await?;
    let file = export::export(&me.app.db, &me.app.agency, &id)
        .await
        .map_err(refused)?;
    let trust = me.app.trust.store();
    let report = export::verify(&file, &trust);
    let record = export::record(&report);
    let pdf = tokio::task::spawn_blocking(move || {
        let fonts = FONTS
            .get_or_init(gongwen_render::Fonts::system)
            .as_ref()
            .map_err(|e| e.clone())?;
        gongwen_render::render_record_pdf(&record, fonts)
    })
    .await
    .map_err(|e| Refusal::new(Code::Internal, e.to_string()))?
    .map_err(|e| {
        Refusal::new(
            Code::Unavailable,
            format!(
                "{}：無法產生 PDF（{e}）；請安裝 fonts-cns11643-kai",
                e.code()
            ),
        )
    })?;
    let name = format!("case-{}-record.pdf", file.case.id);
    Ok(attachment("application/pdf", &name, pdf))
}

#[cfg(test)]
mod tests;
