//! 系統管理, for administrators only: units (a tree), people and their signing certificates,
//! roles, deputies (職務代理), the delegation table (分層負責明細表) with its history, the
//! agency's exclusions and numbering (read-only here), and CSV import of units and people.
//!
//! Every change is a form post with the session's CSRF token, checked field by field (the form
//! comes back with what was typed and what is wrong); a refusal of the domain keeps its stable
//! code. The delegation table records who changed it and when; every other change is written
//! to the log with the administrator's id.

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_web::{Choice, Csrf, FormErrors, Page, Site, filters};
use serde::Deserialize;

use super::intake::{read_upload, upload_csrf};
use super::{Me, SITE, Web, WebError, Who};
use crate::delegation::{self, AgencyKind, Rule};
use crate::org::{self, Deputy, ImportReport, Person, Role, Unit};
use crate::{OfficeError, cases};

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/units", get(units).post(add_unit))
        .route("/admin/units/{id}/online", post(set_online))
        .route("/admin/people", get(people).post(add_person))
        .route("/admin/people/{id}", get(person))
        .route("/admin/people/{id}/card/clear", post(clear_card))
        .route("/admin/people/{id}/roles", post(grant))
        .route("/admin/people/{id}/email", post(set_email))
        .route("/admin/people/{id}/roles/revoke", post(revoke))
        .route("/admin/deputies", get(deputies).post(add_deputy))
        .route("/admin/deputies/remove", post(remove_deputy))
        .route("/admin/delegation", get(delegation_page).post(set_rule))
}

/// Routes that take uploads (a certificate file, a CSV), read only once the session is known.
pub fn upload_routes() -> Router<Web> {
    Router::new()
        .route("/admin/people/{id}/card", post(set_card))
        .route("/admin/import", get(import_page).post(import))
}

/// What an administrator's change did, as the next page says it: fixed texts by code (nothing
/// from the address is shown as it is).
fn done_note(code: &str) -> &'static str {
    match code {
        "unit" => "已新增單位。",
        "online" => "已變更單位的線上簽核設定。",
        "person" => "已新增人員。",
        "card" => "已登記簽章憑證。",
        "card_cleared" => "已清除簽章憑證；這位同仁須再登記憑證才能登入與簽核。",
        "granted" => "已授予角色。",
        "revoked" => "已撤銷角色。",
        "email" => "已設定稽催提醒的電子郵件地址。",
        "deputy" => "已新增職務代理。",
        "deputy_removed" => "已刪除職務代理。",
        "rule" => "已設定分層負責明細表。",
        _ => "",
    }
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// Logs an administrator's change: who, what, on what.
fn audit(me: &Me, what: &str, detail: serde_json::Value) {
    gongwen_net::log::info(
        "系統管理變更",
        serde_json::json!({ "admin": me.person.id, "change": what, "detail": detail }),
    );
}

/// A domain refusal as the form shows it: its words and its stable code; a store failure is
/// the error page.
fn form_error(e: OfficeError) -> Result<String, WebError> {
    match e {
        OfficeError::Refused(r) => Ok(format!("{}（{}）", r.detail, r.code.as_str())),
        e => Err(Refusal::from(e).into()),
    }
}

/// The field a domain refusal is about, from the name it starts with.
fn field_of(detail: &str, fields: &[(&str, &'static str)]) -> Option<&'static str> {
    fields
        .iter()
        .find(|(word, _)| detail.starts_with(word) || detail.contains(&format!("{word}「")))
        .map(|(_, f)| *f)
}

/// Ids of units and people, as the domain takes them: 1–40 of A–Z, a–z, 0–9, -, _ and .
fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn check_id(errors: &mut FormErrors, field: &'static str, label: &str, id: &str) {
    if id.trim().is_empty() {
        errors.push(Some(field), format!("請填寫{label}"));
    } else if !id_ok(id.trim()) {
        errors.push(
            Some(field),
            format!("{label}須為 1 到 40 個英數字、-、_ 或 ."),
        );
    }
}

fn check_name(errors: &mut FormErrors, field: &'static str, label: &str, v: &str, max: usize) {
    if v.trim().is_empty() {
        errors.push(Some(field), format!("請填寫{label}"));
    } else if v.chars().count() > max || v.chars().any(char::is_control) {
        errors.push(Some(field), format!("{label}須為一行、最多 {max} 個字"));
    }
}

/// A day as typed in a date field, checked.
fn check_date(errors: &mut FormErrors, field: &'static str, label: &str, day: &str) {
    if day.trim().is_empty() {
        errors.push(Some(field), format!("請填寫{label}"));
    } else if cases::day_start_ms(day.trim()).is_none() {
        errors.push(Some(field), format!("{label}須為日期（YYYY-MM-DD）"));
    }
}

/// An ISO day (`YYYY-MM-DD`) as people read it: 中華民國115年1月5日.
pub fn roc_day(day: &str) -> String {
    let parts: Vec<Option<i64>> = day.split('-').map(|p| p.parse().ok()).collect();
    let date = match parts[..] {
        [Some(y), Some(m), Some(d)] => u8::try_from(m)
            .ok()
            .and_then(|m| time::Month::try_from(m).ok())
            .and_then(|m| {
                time::Date::from_calendar_date(i32::try_from(y).ok()?, m, u8::try_from(d).ok()?)
                    .ok()
            }),
        _ => None,
    };
    date.map(gongwen_calendar::roc_date)
        .unwrap_or_else(|| day.to_string())
}

/// The zh-TW name of a kind of agency.
pub fn kind_label(kind: AgencyKind) -> &'static str {
    match kind {
        AgencyKind::CityHall => "市府一層",
        AgencyKind::FirstLevel => "一級機關",
        AgencyKind::SecondLevel => "二級機關（含區公所）",
        AgencyKind::School => "學校",
    }
}

fn depth_label(depth: i64) -> &'static str {
    match depth {
        0 => "機關",
        1 => "一級單位",
        _ => "二級單位",
    }
}

async fn all_units(me: &Me) -> Result<Vec<Unit>, WebError> {
    Ok(org::units(&me.app.db).await.map_err(Refusal::from)?)
}

async fn all_people(me: &Me) -> Result<Vec<Person>, WebError> {
    Ok(org::people(&me.app.db).await.map_err(Refusal::from)?)
}

fn unit_name(units: &[Unit], id: &str) -> String {
    units
        .iter()
        .find(|u| u.id == id)
        .map_or_else(|| id.to_string(), |u| u.name.clone())
}

fn person_name(people: &[Person], id: &str) -> String {
    people.iter().find(|p| p.id == id).map_or_else(
        || id.to_string(),
        |p| format!("{}（{}）", p.display(), p.id),
    )
}

fn unit_choices(units: &[Unit], chosen: &str, none: Option<&str>) -> Vec<Choice> {
    let first = none.map(|label| (String::new(), label.to_string()));
    Choice::list(
        first.into_iter().chain(tree(units).into_iter().map(|u| {
            (
                u.id.clone(),
                format!("{}{}（{}）", indent(u.depth), u.name, u.id),
            )
        })),
        chosen,
    )
}

fn person_choices(people: &[Person], chosen: &str) -> Vec<Choice> {
    Choice::list(
        std::iter::once((String::new(), "請選擇".to_string())).chain(
            people
                .iter()
                .map(|p| (p.id.clone(), format!("{}（{}）", p.display(), p.id))),
        ),
        chosen,
    )
}

/// Spaces before a unit's name by its depth, in lists.
fn indent(depth: i64) -> &'static str {
    match depth {
        0 => "",
        1 => "　",
        _ => "　　",
    }
}

/// The units as a tree reads: each unit followed by the units under it, by id.
pub fn tree(units: &[Unit]) -> Vec<&Unit> {
    fn under<'a>(units: &'a [Unit], parent: Option<&str>, out: &mut Vec<&'a Unit>, left: usize) {
        if left == 0 {
            return;
        }
        let mut children: Vec<&Unit> = units
            .iter()
            .filter(|u| u.parent.as_deref() == parent)
            .collect();
        children.sort_by(|a, b| a.id.cmp(&b.id));
        for c in children {
            out.push(c);
            under(units, Some(&c.id), out, left - 1);
        }
    }
    let mut out = Vec::new();
    under(units, None, &mut out, 4);
    // Any unit a broken parent left out still shows, at the end.
    for u in units {
        if !out.iter().any(|o| o.id == u.id) {
            out.push(u);
        }
    }
    out
}

// --- 系統管理 home -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "office/admin.html")]
struct HomePage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    agency: String,
    kind: &'static str,
    top: &'static str,
    exclusions: Vec<(u8, &'static str)>,
    next_receipt: String,
    units: usize,
    people: usize,
    /// The missing office calendar (`followup::calendar_warning`).
    warning: String,
}

async fn home(me: Me) -> Result<Page<HomePage>, WebError> {
    me.must(Role::Admin)?;
    let app = &me.app;
    let kind = app.config.agency.kind().unwrap_or(AgencyKind::FirstLevel);
    let next_receipt = cases::peek_number(&app.db, "case", app.clock.now_ms())
        .await
        .map_err(Refusal::from)?;
    Ok(Page(HomePage {
        site: SITE,
        title: "系統管理",
        agency: app.agency.clone(),
        kind: kind_label(kind),
        top: kind.top_title(),
        exclusions: app
            .config
            .exclusions
            .iter()
            .filter(|n| (1..=8).contains(*n))
            .map(|n| (*n, cases::EXCLUSIONS[usize::from(*n) - 1]))
            .collect(),
        next_receipt,
        units: all_units(&me).await?.len(),
        people: all_people(&me).await?.len(),
        warning: super::followup::calendar_warning(app).await?,
        who: Some(me.who()),
    }))
}

// --- Units --------------------------------------------------------------------------------

#[derive(Deserialize, Default, Debug, Clone)]
pub struct UnitForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    name: String,
    online: Option<String>,
}

pub struct UnitLine {
    pub id: String,
    pub url: String,
    pub name: String,
    pub indent: &'static str,
    pub depth: &'static str,
    pub parent: String,
    pub online: bool,
}

#[derive(Template)]
#[template(path = "office/admin_units.html")]
struct UnitsPage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    csrf: String,
    note: &'static str,
    lines: Vec<UnitLine>,
    parents: Vec<Choice>,
    f: UnitForm,
    /// The form as first shown: online is ticked.
    fresh: bool,
    errors: FormErrors,
}

impl UnitsPage {
    async fn new(
        me: &Me,
        f: Option<UnitForm>,
        errors: FormErrors,
        note: &'static str,
    ) -> Result<UnitsPage, WebError> {
        let units = all_units(me).await?;
        let lines = tree(&units)
            .into_iter()
            .map(|u| UnitLine {
                id: u.id.clone(),
                url: gongwen_client::encode_segment(&u.id),
                name: u.name.clone(),
                indent: indent(u.depth),
                depth: depth_label(u.depth),
                parent: u
                    .parent
                    .as_deref()
                    .map(|p| unit_name(&units, p))
                    .unwrap_or_default(),
                online: u.online,
            })
            .collect();
        let fresh = f.is_none();
        let f = f.unwrap_or_default();
        let none = if units.is_empty() {
            Some("（無：這是機關本身）")
        } else {
            None
        };
        Ok(UnitsPage {
            site: SITE,
            title: "單位",
            who: Some(me.who()),
            csrf: me.session.csrf.clone(),
            note,
            lines,
            parents: unit_choices(
                &units
                    .iter()
                    .filter(|u| u.depth < 2)
                    .cloned()
                    .collect::<Vec<_>>(),
                &f.parent,
                none,
            ),
            f,
            fresh,
            errors,
        })
    }
}

async fn units(me: Me, Query(q): Query<DoneQuery>) -> Result<Page<UnitsPage>, WebError> {
    me.must(Role::Admin)?;
    Ok(Page(
        UnitsPage::new(&me, None, FormErrors::new(), done_note(&q.done)).await?,
    ))
}

async fn add_unit(Csrf(me, f): Csrf<Me, UnitForm>) -> Result<Response, WebError> {
    me.must(Role::Admin)?;
    let mut errors = FormErrors::new();
    check_id(&mut errors, "id", "單位代號", &f.id);
    check_name(&mut errors, "name", "單位名稱", &f.name, 60);
    if errors.is_empty() {
        let parent = Some(f.parent.trim()).filter(|p| !p.is_empty());
        let added = org::add_unit(
            &me.app.db,
            f.id.trim(),
            parent,
            f.name.trim(),
            f.online.is_some(),
        )
        .await;
        match added {
            Ok(u) => {
                audit(
                    &me,
                    "add_unit",
                    serde_json::json!({ "id": u.id, "parent": u.parent, "online": u.online }),
                );
                return Ok(Redirect::to("/admin/units?done=unit").into_response());
            }
            Err(e) => {
                let m = form_error(e)?;
                let field = field_of(
                    &m,
                    &[
                        ("單位代號", "id"),
                        ("單位名稱", "name"),
                        ("沒有單位", "parent"),
                        ("機關已設定", "parent"),
                    ],
                )
                .or_else(|| m.contains("二級單位").then_some("parent"));
                errors.push(field, m);
            }
        }
    }
    let page = UnitsPage::new(&me, Some(f), errors, "").await?;
    Err(WebError::page(StatusCode::BAD_REQUEST, &page))
}

#[derive(Deserialize)]
pub struct OnlineForm {
    #[serde(default)]
    online: String,
}

async fn set_online(
    Path(id): Path<String>,
    Csrf(me, f): Csrf<Me, OnlineForm>,
) -> Result<Redirect, WebError> {
    me.must(Role::Admin)?;
    let online = f.online == "1";
    org::set_online(&me.app.db, &id, online)
        .await
        .map_err(Refusal::from)?;
    audit(
        &me,
        "set_online",
        serde_json::json!({ "unit": id, "online": online }),
    );
    Ok(Redirect::to("/admin/units?done=online"))
}

// --- People -------------------------------------------------------------------------------

#[derive(Deserialize, Default, Debug, Clone)]
pub struct PersonForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    unit: String,
}

pub struct PersonLine {
    pub p: Person,
    pub url: String,
    pub unit: String,
    pub roles: String,
}

#[derive(Template)]
#[template(path = "office/admin_people.html")]
struct PeoplePage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    csrf: String,
    note: &'static str,
    lines: Vec<PersonLine>,
    units: Vec<Choice>,
    f: PersonForm,
    errors: FormErrors,
}

/// A person's roles as a list reads them: 「主管（國中教育科）、承辦人」.
fn roles_text(held: &[(Role, String)], units: &[Unit]) -> String {
    held.iter()
        .map(|(r, u)| match r {
            Role::Desk | Role::Supervisor => format!("{}（{}）", r.label(), unit_name(units, u)),
            _ => r.label().to_string(),
        })
        .collect::<Vec<_>>()
        .join("、")
}

impl PeoplePage {
    async fn new(
        me: &Me,
        f: PersonForm,
        errors: FormErrors,
        note: &'static str,
    ) -> Result<PeoplePage, WebError> {
        let units = all_units(me).await?;
        let people = all_people(me).await?;
        let roles = org::all_roles(&me.app.db).await.map_err(Refusal::from)?;
        let lines = people
            .into_iter()
            .map(|p| {
                let held: Vec<(Role, String)> = roles
                    .iter()
                    .filter(|(who, _, _)| *who == p.id)
                    .map(|(_, r, u)| (*r, u.clone()))
                    .collect();
                PersonLine {
                    url: gongwen_client::encode_segment(&p.id),
                    unit: unit_name(&units, &p.unit),
                    roles: roles_text(&held, &units),
                    p,
                }
            })
            .collect();
        Ok(PeoplePage {
            site: SITE,
            title: "人員",
            who: Some(me.who()),
            csrf: me.session.csrf.clone(),
            note,
            lines,
            units: unit_choices(&units, &f.unit, Some("請選擇")),
            f,
            errors,
        })
    }
}

async fn people(me: Me, Query(q): Query<DoneQuery>) -> Result<Page<PeoplePage>, WebError> {
    me.must(Role::Admin)?;
    Ok(Page(
        PeoplePage::new(
            &me,
            PersonForm::default(),
            FormErrors::new(),
            done_note(&q.done),
        )
        .await?,
    ))
}

async fn add_person(Csrf(me, f): Csrf<Me, PersonForm>) -> Result<Response, WebError> {
    me.must(Role::Admin)?;
    let mut errors = FormErrors::new();
    check_id(&mut errors, "id", "人員代號", &f.id);
    check_name(&mut errors, "name", "姓名", &f.name, 40);
    check_name(&mut errors, "title", "職稱", &f.title, 40);
    if f.unit.trim().is_empty() {
        errors.push(Some("unit"), "請選擇所屬單位");
    }
    if errors.is_empty() {
        let p = Person {
            id: f.id.trim().to_string(),
            name: f.name.trim().to_string(),
            title: f.title.trim().to_string(),
            unit: f.unit.trim().to_string(),
            spki_sha256: None,
        };
        match org::add_person(&me.app.db, &p).await {
            Ok(p) => {
                audit(
                    &me,
                    "add_person",
                    serde_json::json!({ "id": p.id, "unit": p.unit }),
                );
                let to = format!(
                    "/admin/people/{}?done=person",
                    gongwen_client::encode_segment(&p.id)
                );
                return Ok(Redirect::to(&to).into_response());
            }
            Err(e) => {
                let m = form_error(e)?;
                let field = field_of(
                    &m,
                    &[
                        ("人員代號", "id"),
                        ("姓名", "name"),
                        ("職稱", "title"),
                        ("沒有單位", "unit"),
                    ],
                );
                errors.push(field, m);
            }
        }
    }
    let page = PeoplePage::new(&me, f, errors, "").await?;
    Err(WebError::page(StatusCode::BAD_REQUEST, &page))
}

/// A role held, as the person's page lists it (with the form that takes it back).
pub struct RoleLine {
    pub role: Role,
    pub unit: String,
    pub unit_name: String,
}

#[derive(Deserialize, Default, Debug, Clone)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
}

#[derive(Template)]
#[template(path = "office/admin_person.html")]
struct PersonPage {
    site: &'static Site,
    title: String,
    who: Option<Who>,
    csrf: String,
    note: &'static str,
    p: Person,
    url: String,
    unit: String,
    roles: Vec<RoleLine>,
    role_choices: Vec<Choice>,
    unit_choices: Vec<Choice>,
    /// The certificate text as pasted (kept when it was refused).
    cert: String,
    /// The e-mail address as stored (or as typed, when it was refused).
    email: String,
    errors: FormErrors,
}

impl PersonPage {
    async fn new(
        me: &Me,
        id: &str,
        g: Option<RoleForm>,
        cert: String,
        errors: FormErrors,
        note: &'static str,
    ) -> Result<PersonPage, WebError> {
        let db = &me.app.db;
        let p = org::person(db, id).await.map_err(Refusal::from)?;
        let email = org::email(db, id)
            .await
            .map_err(Refusal::from)?
            .unwrap_or_default();
        let units = all_units(me).await?;
        let roles = org::roles(db, id)
            .await
            .map_err(Refusal::from)?
            .into_iter()
            .map(|(role, unit)| RoleLine {
                unit_name: unit_name(&units, &unit),
                role,
                unit,
            })
            .collect();
        let g = g.unwrap_or_else(|| RoleForm {
            role: String::new(),
            unit: p.unit.clone(),
        });
        Ok(PersonPage {
            site: SITE,
            title: format!("人員：{}", p.display()),
            who: Some(me.who()),
            csrf: me.session.csrf.clone(),
            note,
            url: gongwen_client::encode_segment(&p.id),
            unit: unit_name(&units, &p.unit),
            roles,
            role_choices: Choice::list(
                std::iter::once(("", "請選擇"))
                    .chain(Role::ALL.iter().map(|r| (r.as_str(), r.label()))),
                &g.role,
            ),
            unit_choices: unit_choices(&units, &g.unit, None),
            cert,
            email,
            errors,
            p,
        })
    }
}

async fn person(
    me: Me,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Page<PersonPage>, WebError> {
    me.must(Role::Admin)?;
    Ok(Page(
        PersonPage::new(
            &me,
            &id,
            None,
            String::new(),
            FormErrors::new(),
            done_note(&q.done),
        )
        .await?,
    ))
}

fn person_url(id: &str, done: &str) -> String {
    format!(
        "/admin/people/{}?done={done}",
        gongwen_client::encode_segment(id)
    )
}

/// Ends the sessions of a person whose card was cleared or replaced: they were opened with the
/// old card, which may be in someone else's hands.
async fn ended(w: &Web, me: &Me, id: &str) -> Result<(), WebError> {
    let n = (w.signin.close_all(&me.app.db, id).await).map_err(Refusal::from)?;
    audit(
        me,
        "end_sessions",
        serde_json::json!({ "person": id, "sessions": n }),
    );
    Ok(())
}

/// Largest certificate file taken (a card's certificate with its chain is a few KiB).
const MAX_CERT_BYTES: usize = 64 * 1024;

/// 登記憑證: the signing certificate, pasted (`cert`) or uploaded (`cert_file`), binds the
/// person to its key.
async fn set_card(
    State(w): State<Web>,
    me: Me,
    Path(id): Path<String>,
    mp: Multipart,
) -> Result<Response, WebError> {
    me.must(Role::Admin)?;
    let u = read_upload(mp, "cert_file", MAX_CERT_BYTES).await?;
    upload_csrf(&me, &u)?;
    let pasted = u.text("cert").trim().to_string();
    let bytes: Vec<u8> = match &u.file {
        Some((_, b)) => b.clone(),
        None => pasted.clone().into_bytes(),
    };
    let mut errors = FormErrors::new();
    if u.too_large {
        errors.push(Some("cert"), "憑證檔過大（最多 64 KiB）");
    } else if bytes.is_empty() {
        errors.push(Some("cert"), "請貼上或選擇簽章憑證（PEM 或 DER）");
    } else {
        let bound = match org::card_key(&bytes) {
            Ok(k) => org::set_card(&me.app.db, &id, Some(&k.spki_sha256))
                .await
                .map(|_| k),
            Err(e) => Err(e),
        };
        match bound {
            Ok(k) => {
                ended(&w, &me, &id).await?;
                audit(
                    &me,
                    "set_card",
                    serde_json::json!({ "person": id, "spki_sha256": k.spki_sha256, "subject": k.subject }),
                );
                return Ok(Redirect::to(&person_url(&id, "card")).into_response());
            }
            Err(e) if e.code() == Code::NotFound => return Err(Refusal::from(e).into()),
            Err(e) => errors.push(Some("cert"), form_error(e)?),
        }
    }
    let page = PersonPage::new(&me, &id, None, pasted, errors, "").await?;
    Err(WebError::page(StatusCode::BAD_REQUEST, &page))
}

async fn clear_card(
    State(w): State<Web>,
    Path(id): Path<String>,
    Csrf(me, _): Csrf<Me, gongwen_web::NoFields>,
) -> Result<Redirect, WebError> {
    me.must(Role::Admin)?;
    org::set_card(&me.app.db, &id, None)
        .await
        .map_err(Refusal::from)?;
    ended(&w, &me, &id).await?;
    audit(&me, "clear_card", serde_json::json!({ "person": id }));
    Ok(Redirect::to(&person_url(&id, "card_cleared")))
}

#[derive(Deserialize, Default, Debug, Clone)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// 電子郵件: where the person's 稽催 reminders go (empty: only their worklist).
async fn set_email(
    Path(id): Path<String>,
    Csrf(me, g): Csrf<Me, EmailForm>,
) -> Result<Response, WebError> {
    me.must(Role::Admin)?;
    match org::set_email(&me.app.db, &id, &g.email).await {
        Ok(()) => {
            audit(&me, "set_email", serde_json::json!({ "person": id }));
            Ok(Redirect::to(&person_url(&id, "email")).into_response())
        }
        Err(e) => {
            let m = form_error(e)?;
            let mut page = PersonPage::new(
                &me,
                &id,
                None,
                String::new(),
                FormErrors::new().with(Some("email"), m),
                "",
            )
            .await?;
            page.email = g.email;
            Err(WebError::page(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

async fn grant(
    Path(id): Path<String>,
    Csrf(me, g): Csrf<Me, RoleForm>,
) -> Result<Response, WebError> {
    me.must(Role::Admin)?;
    let mut errors = FormErrors::new();
    let role = Role::parse(&g.role);
    if role.is_none() {
        errors.push(Some("role"), "請選擇角色");
    }
    if g.unit.trim().is_empty() {
        errors.push(Some("unit"), "請選擇單位");
    }
    if let (Some(role), true) = (role, errors.is_empty()) {
        match org::grant(&me.app.db, &id, role, g.unit.trim()).await {
            Ok(()) => {
                audit(
                    &me,
                    "grant",
                    serde_json::json!({ "person": id, "role": role.as_str(), "unit": g.unit }),
                );
                return Ok(Redirect::to(&person_url(&id, "granted")).into_response());
            }
            Err(e) => {
                let m = form_error(e)?;
                errors.push(field_of(&m, &[("沒有單位", "unit")]), m);
            }
        }
    }
    let page = PersonPage::new(&me, &id, Some(g), String::new(), errors, "").await?;
    Err(WebError::page(StatusCode::BAD_REQUEST, &page))
}

async fn revoke(
    Path(id): Path<String>,
    Csrf(me, g): Csrf<Me, RoleForm>,
) -> Result<Response, WebError> {
    me.must(Role::Admin)?;
    let Some(role) = Role::parse(&g.role) else {
        return Err(Refusal::new(Code::BadRequest, format!("角色「{}」不認得", g.role)).into());
    };
    match org::revoke(&me.app.db, &id, role, &g.unit).await {
        Ok(()) => {
            audit(
                &me,
                "revoke",
                serde_json::json!({ "person": id, "role": role.as_str(), "unit": g.unit }),
            );
            Ok(Redirect::to(&person_url(&id, "revoked")).into_response())
        }
        Err(e) => {
            let m = form_error(e)?;
            let page = PersonPage::new(
                &me,
                &id,
                None,
                String::new(),
                FormErrors::new().with(None, m),
                "",
            )
            .await?;
            Err(WebError::page(StatusCode::CONFLICT, &page))
        }
    }
}

// --- Deputies ----------------------------------------------------------------------------

#[derive(Deserialize, Default, Debug, Clone)]
pub struct DeputyForm {
    #[serde(default)]
    principal: String,
    #[serde(default)]
    deputy: String,
    #[serde(default)]
    first_day: String,
    #[serde(default)]
    last_day: String,
}

pub struct DeputyLine {
    pub d: Deputy,
    pub principal: String,
    pub deputy: String,
    pub first: String,
    pub last: String,
    /// In force today (else from a later day).
    pub current: bool,
}

#[derive(Template)]
#[template(path = "office/admin_deputies.html")]
struct DeputiesPage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    csrf: String,
    note: &'static str,
    today: String,
    lines: Vec<DeputyLine>,
    principals: Vec<Choice>,
    deputies: Vec<Choice>,
    f: DeputyForm,
    errors: FormErrors,
}

impl DeputiesPage {
    async fn new(
        me: &Me,
        f: Option<DeputyForm>,
        errors: FormErrors,
        note: &'static str,
    ) -> Result<DeputiesPage, WebError> {
        let today = me.today();
        let people = all_people(me).await?;
        let lines = org::deputies_from(&me.app.db, &today)
            .await
            .map_err(Refusal::from)?
            .into_iter()
            .map(|d| DeputyLine {
                principal: person_name(&people, &d.principal),
                deputy: person_name(&people, &d.deputy),
                first: roc_day(&d.first_day),
                last: roc_day(&d.last_day),
                current: d.first_day.as_str() <= today.as_str(),
                d,
            })
            .collect();
        let f = f.unwrap_or_else(|| DeputyForm {
            first_day: today.clone(),
            last_day: today.clone(),
            ..DeputyForm::default()
        });
        Ok(DeputiesPage {
            site: SITE,
            title: "職務代理",
            who: Some(me.who()),
            csrf: me.session.csrf.clone(),
            note,
            today: roc_day(&today),
            lines,
            principals: person_choices(&people, &f.principal),
            deputies: person_choices(&people, &f.deputy),
            f,
            errors,
        })
    }
}

async fn deputies(me: Me, Query(q): Query<DoneQuery>) -> Result<Page<DeputiesPage>, WebError> {
    me.must(Role::Admin)?;
    Ok(Page(
        DeputiesPage::new(&me, None, FormErrors::new(), done_note(&q.done)).await?,
    ))
}

/// The deputy form checked field by field (`today`: no arrangement may end before it).
fn check_deputy(f: &DeputyForm, today: &str) -> FormErrors {
    let mut errors = FormErrors::new();
    if f.principal.trim().is_empty() {
        errors.push(Some("principal"), "請選擇被代理人");
    }
    if f.deputy.trim().is_empty() {
        errors.push(Some("deputy"), "請選擇代理人");
    } else if f.deputy.trim() == f.principal.trim() {
        errors.push(Some("deputy"), "代理人不能是被代理人自己");
    }
    check_date(&mut errors, "first_day", "起日", &f.first_day);
    check_date(&mut errors, "last_day", "迄日", &f.last_day);
    let (first, last) = (f.first_day.trim(), f.last_day.trim());
    if errors.of("first_day").is_empty() && errors.of("last_day").is_empty() {
        if last < first {
            errors.push(Some("last_day"), "迄日早於起日");
        } else if last < today {
            errors.push(Some("last_day"), "迄日已過；過去的代理不能再設定");
        }
    }
    errors
}

async fn add_deputy(Csrf(me, f): Csrf<Me, DeputyForm>) -> Result<Response, WebError> {
    me.must(Role::Admin)?;
    let mut errors = check_deputy(&f, &me.today());
    if errors.is_empty() {
        let d = Deputy {
            principal: f.principal.trim().to_string(),
            deputy: f.deputy.trim().to_string(),
            first_day: f.first_day.trim().to_string(),
            last_day: f.last_day.trim().to_string(),
        };
        match org::add_deputy(&me.app.db, &d).await {
            Ok(()) => {
                audit(
                    &me,
                    "add_deputy",
                    serde_json::json!({ "principal": d.principal, "deputy": d.deputy, "first_day": d.first_day, "last_day": d.last_day }),
                );
                return Ok(Redirect::to("/admin/deputies?done=deputy").into_response());
            }
            Err(e) => {
                let m = form_error(e)?;
                errors.push(field_of(&m, &[("同一起日", "first_day")]), m);
            }
        }
    }
    let page = DeputiesPage::new(&me, Some(f), errors, "").await?;
    Err(WebError::page(StatusCode::BAD_REQUEST, &page))
}

#[derive(Deserialize)]
pub struct RemoveDeputyForm {
    #[serde(default)]
    principal: String,
    #[serde(default)]
    deputy: String,
    #[serde(default)]
    first_day: String,
}

async fn remove_deputy(Csrf(me, f): Csrf<Me, RemoveDeputyForm>) -> Result<Redirect, WebError> {
    me.must(Role::Admin)?;
    org::remove_deputy(&me.app.db, &f.principal, &f.deputy, &f.first_day)
        .await
        .map_err(Refusal::from)?;
    audit(
        &me,
        "remove_deputy",
        serde_json::json!({ "principal": f.principal, "deputy": f.deputy, "first_day": f.first_day }),
    );
    Ok(Redirect::to("/admin/deputies?done=deputy_removed"))
}

// --- The delegation table ------------------------------------------------------------------

pub struct RuleLine {
    pub matter: String,
    pub level: &'static str,
    pub from: String,
    pub changed_by: String,
    pub changed_at: i64,
}

/// The rules in force on `day` (one per matter) and those that take effect later, from the
/// history ([`delegation::history`]: by matter, newest first).
pub fn split_rules(history: &[Rule], day: &str) -> (Vec<Rule>, Vec<Rule>) {
    let mut current: Vec<Rule> = Vec::new();
    let mut later = Vec::new();
    for r in history {
        if r.effective_from.as_str() > day {
            later.push(r.clone());
        } else if !current.iter().any(|c| c.matter == r.matter) {
            current.push(r.clone());
        }
    }
    later.sort_by(|a, b| (&a.effective_from, &a.matter).cmp(&(&b.effective_from, &b.matter)));
    (current, later)
}

#[derive(Deserialize, Default, Debug, Clone)]
pub struct RuleForm {
    #[serde(default)]
    matter: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    effective_from: String,
}

#[derive(Template)]
#[template(path = "office/admin_delegation.html")]
struct DelegationPage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    csrf: String,
    note: &'static str,
    kind: &'static str,
    top: &'static str,
    today: String,
    current: Vec<RuleLine>,
    later: Vec<RuleLine>,
    history: Vec<RuleLine>,
    matters: Vec<String>,
    levels: Vec<Choice>,
    f: RuleForm,
    errors: FormErrors,
}

impl DelegationPage {
    async fn new(
        me: &Me,
        f: Option<RuleForm>,
        errors: FormErrors,
        note: &'static str,
    ) -> Result<DelegationPage, WebError> {
        let today = me.today();
        let history = delegation::history(&me.app.db)
            .await
            .map_err(Refusal::from)?;
        let people = all_people(me).await?;
        let line = |r: &Rule| RuleLine {
            matter: r.matter.clone(),
            level: delegation::level_label(r.level),
            from: roc_day(&r.effective_from),
            changed_by: person_name(&people, &r.changed_by),
            changed_at: r.changed_at,
        };
        let (current, later) = split_rules(&history, &today);
        let mut matters: Vec<String> = history.iter().map(|r| r.matter.clone()).collect();
        matters.dedup();
        let kind = me
            .app
            .config
            .agency
            .kind()
            .unwrap_or(AgencyKind::FirstLevel);
        let f = f.unwrap_or_else(|| RuleForm {
            effective_from: today.clone(),
            ..RuleForm::default()
        });
        Ok(DelegationPage {
            site: SITE,
            title: "分層負責明細表",
            who: Some(me.who()),
            csrf: me.session.csrf.clone(),
            note,
            kind: kind_label(kind),
            top: kind.top_title(),
            today: roc_day(&today),
            current: current.iter().map(line).collect(),
            later: later.iter().map(line).collect(),
            history: history.iter().map(line).collect(),
            matters,
            levels: Choice::list(
                std::iter::once(("", "請選擇".to_string())).chain(
                    [("1", 1), ("2", 2), ("3", 3)]
                        .map(|(v, l)| (v, delegation::level_label(l).to_string())),
                ),
                &f.level,
            ),
            f,
            errors,
        })
    }
}

async fn delegation_page(
    me: Me,
    Query(q): Query<DoneQuery>,
) -> Result<Page<DelegationPage>, WebError> {
    me.must(Role::Admin)?;
    Ok(Page(
        DelegationPage::new(&me, None, FormErrors::new(), done_note(&q.done)).await?,
    ))
}

/// The rule form checked: a rule takes effect today or later (a past day would change what
/// decided cases were decided under).
fn check_rule(f: &RuleForm, today: &str) -> (FormErrors, Option<i64>) {
    let mut errors = FormErrors::new();
    check_name(&mut errors, "matter", "業務項目", &f.matter, 60);
    let level = match f.level.trim() {
        "1" => Some(1),
        "2" => Some(2),
        "3" => Some(3),
        _ => {
            errors.push(Some("level"), "請選擇決行層級");
            None
        }
    };
    check_date(&mut errors, "effective_from", "生效日", &f.effective_from);
    if errors.of("effective_from").is_empty() && f.effective_from.trim() < today {
        errors.push(
            Some("effective_from"),
            "生效日不能早於今天：已決行的案件依當時的規定",
        );
    }
    (errors, level)
}

async fn set_rule(Csrf(me, f): Csrf<Me, RuleForm>) -> Result<Response, WebError> {
    me.must(Role::Admin)?;
    let (mut errors, level) = check_rule(&f, &me.today());
    if let (Some(level), true) = (level, errors.is_empty()) {
        let rule = Rule {
            matter: f.matter.trim().to_string(),
            level,
            effective_from: f.effective_from.trim().to_string(),
            changed_by: me.person.id.clone(),
            changed_at: me.app.clock.now_ms(),
        };
        match delegation::set(&me.app.db, &rule).await {
            Ok(()) => {
                audit(
                    &me,
                    "set_rule",
                    serde_json::json!({ "matter": rule.matter, "level": level, "effective_from": rule.effective_from }),
                );
                return Ok(Redirect::to("/admin/delegation?done=rule").into_response());
            }
            Err(e) => {
                let m = form_error(e)?;
                errors.push(Some("effective_from").filter(|_| m.contains("已有")), m);
            }
        }
    }
    let page = DelegationPage::new(&me, Some(f), errors, "").await?;
    Err(WebError::page(StatusCode::BAD_REQUEST, &page))
}

// --- CSV import --------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "office/admin_import.html")]
struct ImportPage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    csrf: String,
    kinds: Vec<Choice>,
    text: String,
    /// What the import did, after one: its summary and the lines refused.
    summary: String,
    refused: Vec<(usize, String)>,
    max_kib: usize,
    errors: FormErrors,
}

impl ImportPage {
    fn new(
        me: &Me,
        kind: &str,
        text: String,
        report: Option<ImportReport>,
        errors: FormErrors,
    ) -> ImportPage {
        ImportPage {
            site: SITE,
            title: "匯入單位與人員",
            who: Some(me.who()),
            csrf: me.session.csrf.clone(),
            kinds: Choice::list([("units", "單位"), ("people", "人員")], kind),
            text,
            summary: report
                .as_ref()
                .map(|r| format!("已匯入 {} 列；{} 列未匯入。", r.added, r.refused.len()))
                .unwrap_or_default(),
            refused: report.map(|r| r.refused).unwrap_or_default(),
            max_kib: org::MAX_IMPORT_BYTES / 1024,
            errors,
        }
    }
}

async fn import_page(me: Me) -> Result<Page<ImportPage>, WebError> {
    me.must(Role::Admin)?;
    Ok(Page(ImportPage::new(
        &me,
        "units",
        String::new(),
        None,
        FormErrors::new(),
    )))
}

/// Imports units or people from a CSV file (`csv`) or pasted text (`text`); the page shows
/// how many were added and each refused line with why.
async fn import(me: Me, mp: Multipart) -> Result<Response, WebError> {
    me.must(Role::Admin)?;
    let u = read_upload(mp, "csv", org::MAX_IMPORT_BYTES).await?;
    upload_csrf(&me, &u)?;
    let kind = u.text("kind").to_string();
    let pasted = u.text("text").to_string();
    let mut errors = FormErrors::new();
    if !["units", "people"].contains(&kind.as_str()) {
        errors.push(Some("kind"), "請選擇匯入單位或人員");
    }
    let text = match &u.file {
        _ if u.too_large => {
            errors.push(
                Some("csv"),
                format!("匯入檔超過 {} KiB", org::MAX_IMPORT_BYTES / 1024),
            );
            None
        }
        Some((_, bytes)) => match String::from_utf8(bytes.clone()) {
            Ok(t) => Some(t),
            Err(_) => {
                errors.push(Some("csv"), "匯入檔須為 UTF-8 編碼的 CSV");
                None
            }
        },
        None if pasted.trim().is_empty() => {
            errors.push(Some("csv"), "請選擇 CSV 檔或貼上內容");
            None
        }
        None => Some(pasted.clone()),
    };
    let report = match (text, errors.is_empty()) {
        (Some(text), true) => {
            let done = if kind == "units" {
                org::import_units(&me.app.db, &text).await
            } else {
                org::import_people(&me.app.db, &text).await
            };
            match done {
                Ok(r) => {
                    audit(
                        &me,
                        "import",
                        serde_json::json!({ "kind": kind, "added": r.added, "refused": r.refused.len() }),
                    );
                    Some(r)
                }
                Err(e) => {
                    errors.push(Some("csv"), form_error(e)?);
                    None
                }
            }
        }
        _ => None,
    };
    let page = ImportPage::new(&me, &kind, pasted, report, errors);
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(gongwen_web::render(status, &page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::testing::unit;

    #[test]
    fn units_list_as_a_tree() {
        let units = [
            unit("edu", None, 0),
            unit("a", Some("edu"), 1),
            unit("b", Some("edu"), 1),
            unit("a2", Some("a"), 2),
            unit("b1", Some("b"), 2),
        ];
        let ids: Vec<&str> = tree(&units).iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["edu", "a", "a2", "b", "b1"]);
    }

    fn rule(matter: &str, level: i64, from: &str) -> Rule {
        Rule {
            matter: matter.into(),
            level,
            effective_from: from.into(),
            changed_by: "admin".into(),
            changed_at: 0,
        }
    }

    #[test]
    fn the_rule_in_force_is_the_latest_begun() {
        // As delegation::history orders them: by matter, newest first.
        let history = [
            rule("採購", 2, "2027-01-01"),
            rule("採購", 3, "2026-01-01"),
            rule("採購", 1, "2020-01-01"),
            rule("人事", 1, "2030-01-01"),
        ];
        let (current, later) = split_rules(&history, "2026-06-01");
        assert_eq!(current.len(), 1);
        assert_eq!((current[0].matter.as_str(), current[0].level), ("採購", 3));
        assert_eq!(later.len(), 2);
        assert_eq!(later[0].effective_from, "2027-01-01");
    }

    #[test]
    fn rules_take_effect_from_today_on() {
        let f = |level: &str, from: &str| RuleForm {
            matter: "採購".into(),
            level: level.into(),
            effective_from: from.into(),
        };
        let (e, l) = check_rule(&f("2", "2026-06-01"), "2026-06-01");
        assert!(e.is_empty() && l == Some(2));
        let (e, _) = check_rule(&f("2", "2026-05-31"), "2026-06-01");
        assert!(!e.of("effective_from").is_empty());
        let (e, _) = check_rule(&f("4", "2026-13-01"), "2026-06-01");
        assert!(!e.of("level").is_empty() && !e.of("effective_from").is_empty());
    }

    #[test]
    fn deputies_are_checked_field_by_field() {
        let f = |p: &str, d: &str, a: &str, b: &str| DeputyForm {
            principal: p.into(),
            deputy: d.into(),
            first_day: a.into(),
            last_day: b.into(),
        };
        let today = "2026-06-01";
        assert!(check_deputy(&f("a", "b", "2026-06-01", "2026-06-03"), today).is_empty());
        assert!(
            !check_deputy(&f("a", "a", "2026-06-01", "2026-06-03"), today)
                .of("deputy")
                .is_empty()
        );
        assert!(
            !check_deputy(&f("a", "b", "2026-06-03", "2026-06-01"), today)
                .of("last_day")
                .is_empty()
        );
        assert!(
            !check_deputy(&f("a", "b", "2026-05-01", "2026-05-03"), today)
                .of("last_day")
                .is_empty()
        );
        let e = check_deputy(&f("", "", "x", ""), today);
        for field in ["principal", "deputy", "first_day", "last_day"] {
            assert!(!e.of(field).is_empty(), "{field}");
        }
    }

    #[test]
    fn days_read_as_roc_dates() {
        assert_eq!(roc_day("2026-01-05"), "中華民國115年1月5日");
        assert_eq!(roc_day("不是日期"), "不是日期");
    }

    #[test]
    fn refusals_name_their_field() {
        let fields = [("單位代號", "id"), ("沒有單位", "parent")];
        assert_eq!(field_of("單位代號「x」已存在", &fields), Some("id"));
        assert_eq!(field_of("沒有單位「y」", &fields), Some("parent"));
        assert_eq!(field_of("其他", &fields), None);
        assert!(id_ok("k12-a.b_c") && !id_ok("教育局") && !id_ok(""));
    }

    #[test]
    fn notes_are_fixed_texts() {
        assert_eq!(done_note("unit"), "已新增單位。");
        assert_eq!(done_note("<script>"), "");
    }

    #[test]
    fn roles_read_with_their_units() {
        let units = [unit("edu", None, 0), unit("k12", Some("edu"), 1)];
        let held = [
            (Role::Supervisor, "k12".to_string()),
            (Role::Officer, "k12".to_string()),
        ];
        assert_eq!(roles_text(&held, &units), "主管（k12單位）、承辦人");
    }

    use super::super::intake::testweb::{labelled, with_web};
    use axum::http::StatusCode as S;

    #[test]
    fn the_overview_shows_the_settings_read_only() {
        with_web("web-admin-home", "admin", |w| async move {
            let r = w.get("/admin").await;
            assert_eq!(r.status, S::OK, "{}", r.body);
            assert!(r.body.contains("一級機關") && r.body.contains("局（處）長或主任委員"));
            assert!(r.body.contains("[office] exclusions") && r.body.contains("第 8 款"));
            assert!(r.body.contains("<caption>本機關適用的排除情形</caption>"));
            assert!(
                r.body.contains("0000001</dd>"),
                "the next 收文號: {}",
                r.body
            );
        });
        with_web("web-admin-denied", "officer", |w| async move {
            for path in [
                "/admin",
                "/admin/units",
                "/admin/people/officer",
                "/admin/import",
            ] {
                assert_eq!(w.get(path).await.status, S::FORBIDDEN, "{path}");
            }
            let r = w.post("/admin/units", &[("id", "x"), ("name", "x")]).await;
            assert_eq!(r.status, S::FORBIDDEN);
        });
    }

    #[test]
    fn units_are_added_checked_and_turned_offline() {
        with_web("web-admin-units", "admin", |w| async move {
            let page = w.get("/admin/units").await;
            assert_eq!(page.status, S::OK, "{}", page.body);
            labelled(&page.body);
            assert!(
                page.body.contains("<th scope=\"row\">　國中教育科</th>"),
                "{}",
                page.body
            );
            let bad = w
                .post(
                    "/admin/units",
                    &[("id", "教育"), ("parent", "k12"), ("name", "")],
                )
                .await;
            assert_eq!(bad.status, S::BAD_REQUEST);
            assert!(bad.body.contains("id=\"id-error\"") && bad.body.contains("id=\"name-error\""));
            assert!(bad.body.contains("value=\"教育\""), "kept");
            let ok = w
                .post(
                    "/admin/units",
                    &[
                        ("id", "k12-a"),
                        ("parent", "k12"),
                        ("name", "第一股"),
                        ("online", "1"),
                    ],
                )
                .await;
            assert_eq!(
                (ok.status, ok.location.as_str()),
                (S::SEE_OTHER, "/admin/units?done=unit")
            );
            let deep = w
                .post(
                    "/admin/units",
                    &[("id", "k12-b"), ("parent", "k12-a"), ("name", "太深")],
                )
                .await;
            assert_eq!(deep.status, S::BAD_REQUEST);
            assert!(
                deep.body.contains("E_BAD_REQUEST") || deep.body.contains("parent-error"),
                "{}",
                deep.body
            );
            let dup = w
                .post(
                    "/admin/units",
                    &[("id", "k12"), ("parent", "edu"), ("name", "重複")],
                )
                .await;
            assert!(
                dup.body.contains("id=\"id-error\"") && dup.body.contains("（E_BAD_REQUEST）"),
                "{}",
                dup.body
            );
            let off = w.post("/admin/units/k12/online", &[("online", "0")]).await;
            assert_eq!(off.status, S::SEE_OTHER);
            assert!(!crate::org::unit(&w.db, "k12").await.unwrap().online);
            assert!(
                w.get("/admin/units?done=online")
                    .await
                    .body
                    .contains("已變更")
            );
        });
    }

    #[test]
    fn people_get_roles_and_a_card() {
        with_web("web-admin-people", "admin", |w| async move {
            let page = w.get("/admin/people").await;
            assert_eq!(page.status, S::OK);
            labelled(&page.body);
            let bad = w
                .post(
                    "/admin/people",
                    &[("id", ""), ("name", "王"), ("title", "科員"), ("unit", "")],
                )
                .await;
            assert!(bad.body.contains("id=\"id-error\"") && bad.body.contains("id=\"unit-error\""));
            let ok = w
                .post(
                    "/admin/people",
                    &[
                        ("id", "newbie"),
                        ("name", "林新人"),
                        ("title", "科員"),
                        ("unit", "k12"),
                    ],
                )
                .await;
            assert_eq!(
                (ok.status, ok.location.as_str()),
                (S::SEE_OTHER, "/admin/people/newbie?done=person")
            );
            let me = w.get("/admin/people/newbie?done=person").await;
            assert_eq!(me.status, S::OK, "{}", me.body);
            labelled(&me.body);
            assert!(me.body.contains("已新增人員") && me.body.contains("未登記"));

            let g = w
                .post(
                    "/admin/people/newbie/roles",
                    &[("role", "desk"), ("unit", "k12")],
                )
                .await;
            assert_eq!(g.status, S::SEE_OTHER);
            assert!(
                crate::org::holds(&w.db, "newbie", Role::Desk, "k12")
                    .await
                    .unwrap()
            );
            let none = w
                .post(
                    "/admin/people/newbie/roles",
                    &[("role", ""), ("unit", "k12")],
                )
                .await;
            assert!(none.body.contains("id=\"role-error\""));
            let r = w
                .post(
                    "/admin/people/newbie/roles/revoke",
                    &[("role", "desk"), ("unit", "k12")],
                )
                .await;
            assert_eq!(r.status, S::SEE_OTHER);
            let last = w
                .post(
                    "/admin/people/admin/roles/revoke",
                    &[("role", "admin"), ("unit", "edu")],
                )
                .await;
            assert_eq!(last.status, S::CONFLICT);
            assert!(last.body.contains("E_OFFICE_STATE"));

            let garbage = w
                .upload(
                    "/admin/people/newbie/card",
                    &[(
                        "cert",
                        None,
                        b"-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n",
                    )],
                )
                .await;
            assert_eq!(garbage.status, S::BAD_REQUEST);
            assert!(
                garbage.body.contains("id=\"cert-error\""),
                "{}",
                garbage.body
            );
            use gongwen_trust::pki::Usage;
            let (dir, issued, _) = crate::org::testing::test_card("card-web", "林新人");
            let signing = issued
                .iter()
                .find(|c| c.record.usage == Usage::Signing)
                .unwrap();
            let pem = std::fs::read(&signing.cert_file).unwrap();
            let card = w
                .upload(
                    "/admin/people/newbie/card",
                    &[("cert", None, b""), ("cert_file", Some("card.pem"), &pem)],
                )
                .await;
            assert_eq!(
                (card.status, card.location.as_str()),
                (S::SEE_OTHER, "/admin/people/newbie?done=card"),
                "{}",
                card.body
            );
            let p = crate::org::person(&w.db, "newbie").await.unwrap();
            assert_eq!(p.spki_sha256.as_deref(), Some(signing.spki_sha256.as_str()));
            let again = w
                .upload("/admin/people/clerk/card", &[("cert", None, &pem)])
                .await;
            assert!(again.body.contains("已登記給其他人員"), "{}", again.body);
            let cleared = w.post("/admin/people/newbie/card/clear", &[]).await;
            assert_eq!(cleared.status, S::SEE_OTHER);
            assert!(
                crate::org::person(&w.db, "newbie")
                    .await
                    .unwrap()
                    .spki_sha256
                    .is_none()
            );
            let _ = std::fs::remove_dir_all(&dir);
        });
    }

    #[test]
    fn deputies_and_the_delegation_table_are_kept() {
        with_web("web-admin-deputies", "admin", |w| async move {
            let today = crate::taipei_day(time::OffsetDateTime::now_utc().unix_timestamp() * 1000);
            let page = w.get("/admin/deputies").await;
            assert_eq!(page.status, S::OK);
            labelled(&page.body);
            let bad = w
                .post(
                    "/admin/deputies",
                    &[
                        ("principal", "officer"),
                        ("deputy", "officer"),
                        ("first_day", &today),
                        ("last_day", "2000-01-01"),
                    ],
                )
                .await;
            assert_eq!(bad.status, S::BAD_REQUEST);
            assert!(
                bad.body.contains("id=\"deputy-error\"")
                    && bad.body.contains("id=\"last_day-error\"")
            );
            let ok = w
                .post(
                    "/admin/deputies",
                    &[
                        ("principal", "officer"),
                        ("deputy", "other"),
                        ("first_day", &today),
                        ("last_day", &today),
                    ],
                )
                .await;
            assert_eq!(ok.status, S::SEE_OTHER, "{}", ok.body);
            let list = w.get("/admin/deputies").await;
            assert!(list.body.contains("代理中") && list.body.contains("other姓名"));
            let rm = w
                .post(
                    "/admin/deputies/remove",
                    &[
                        ("principal", "officer"),
                        ("deputy", "other"),
                        ("first_day", &today),
                    ],
                )
                .await;
            assert_eq!(rm.status, S::SEE_OTHER);
            assert!(
                crate::org::deputies_from(&w.db, &today)
                    .await
                    .unwrap()
                    .is_empty()
            );

            let page = w.get("/admin/delegation").await;
            assert_eq!(page.status, S::OK);
            labelled(&page.body);
            assert!(page.body.contains("局（處）長或主任委員"));
            let past = w
                .post(
                    "/admin/delegation",
                    &[
                        ("matter", "採購"),
                        ("level", "2"),
                        ("effective_from", "2000-01-01"),
                    ],
                )
                .await;
            assert!(past.body.contains("id=\"effective_from-error\""));
            let set = w
                .post(
                    "/admin/delegation",
                    &[
                        ("matter", "採購"),
                        ("level", "2"),
                        ("effective_from", &today),
                    ],
                )
                .await;
            assert_eq!(set.status, S::SEE_OTHER, "{}", set.body);
            let again = w
                .post(
                    "/admin/delegation",
                    &[
                        ("matter", "採購"),
                        ("level", "3"),
                        ("effective_from", &today),
                    ],
                )
                .await;
            assert!(
                again.body.contains("id=\"effective_from-error\"")
                    && again.body.contains("E_BAD_REQUEST")
            );
            let shown = w.get("/admin/delegation").await;
            assert!(
                shown.body.contains("第二層（一級單位主管）") && shown.body.contains("admin姓名")
            );
            let rule = crate::delegation::rule_on(&w.db, "採購", &today)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(rule.changed_by, "admin");
        });
    }

    #[test]
    fn an_import_reports_each_refused_line() {
        with_web("web-admin-import", "admin", |w| async move {
            let page = w.get("/admin/import").await;
            assert_eq!(page.status, S::OK);
            labelled(&page.body);
            let csv =
                "單位代號,上級單位代號,單位名稱,線上簽核\nsec,edu,秘書室,否\nbad,nope,不存在,是\n";
            let r = w
                .upload(
                    "/admin/import",
                    &[
                        ("kind", None, b"units"),
                        ("csv", Some("u.csv"), csv.as_bytes()),
                        ("text", None, b""),
                    ],
                )
                .await;
            assert_eq!(r.status, S::OK, "{}", r.body);
            assert!(r.body.contains("已匯入 1 列；1 列未匯入。"), "{}", r.body);
            assert!(r.body.contains("第 3 行") && r.body.contains("沒有單位「nope」"));
            let none = w
                .upload(
                    "/admin/import",
                    &[("kind", None, b"people"), ("text", None, b"")],
                )
                .await;
            assert_eq!(none.status, S::BAD_REQUEST);
            assert!(none.body.contains("id=\"csv-error\""));
            let header = w
                .upload(
                    "/admin/import",
                    &[
                        ("kind", None, b"people"),
                        ("text", None, "a,b\n".as_bytes()),
                    ],
                )
                .await;
            assert!(header.body.contains("第一列須為欄名"), "{}", header.body);
        });
    }
}
