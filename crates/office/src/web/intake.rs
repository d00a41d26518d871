//! 總收文 for the clerk (收發): 待登記, the documents the agent received and the office took in
//! ([`crate::intake::fetch`]), each registered as a case in a signed step (then 簽收 at the
//! exchange) or returned to its sender (退文); and 紙本收文, a paper letter registered with its
//! scan.
//!
//! Registration is a step like any other: the page prepares it ([`super::sign::prepare`]), the
//! clerk's card signs it, and `/sign` commits it. The case's files are always the received
//! ones, named in the signed text by their SHA-256.

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gongwen_net::Refusal;
use gongwen_proto::{Code, ReturnReason};
use gongwen_web::{Choice, Csrf, FormErrors, NoFields, Page, Site, filters};
use serde::Deserialize;

use super::drafting::URGENCIES;
use super::sign::Then;
use super::{Me, SITE, Web, WebError, Who};
use crate::cases::{self, EXCLUSIONS, Origin};
use crate::intake::{self, Incoming};
use crate::org::Role;
use crate::steps::{Action, MAX_VERSION_BYTES, NewCase, NewVersion, Request};

/// Most documents the 待登記 list shows at once (the oldest first; the rest after these).
const WAITING_SHOWN: i64 = 500;

/// Longest 退文 explanation, as the agent takes it.
const MAX_RETURN_TEXT: usize = 500;

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/intake", get(list))
        .route("/intake/sync", post(sync))
        .route("/intake/{id}", get(show))
        .route("/intake/{id}/files/{name}", get(download))
        .route("/intake/{id}/register", post(register))
        .route("/intake/{id}/refuse", post(refuse))
}

/// Routes that take uploads (read only once the session is known).
pub fn upload_routes() -> Router<Web> {
    Router::new().route("/intake/paper", get(paper_form).post(paper))
}

// --- Page counts (crate::pages) ------------------------------------------------------------

/// Files whose pages count towards exclusion 2: the DI and PDF/TIFF attachments (by name, or
/// by content whatever their name); not the SW or other attachments.
fn counts_pages(name: &str, bytes: &[u8]) -> bool {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    (name.contains('.') && ["di", "pdf", "tif", "tiff"].contains(&ext.as_str())) || is_scan(bytes)
}

// --- 待登記 ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "office/intake.html")]
struct ListPage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    csrf: String,
    note: String,
    items: Vec<Line>,
    shown: i64,
}

/// A document waiting, with its id as one path segment.
pub struct Line {
    pub inc: Incoming,
    pub url: String,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    /// After 「立即收文」: how many were taken in.
    taken: Option<usize>,
    /// After a 退文.
    refused: Option<String>,
}

/// The note after an action on this list: fixed texts only (nothing from the address is
/// shown as it is).
fn list_note(q: &ListQuery) -> String {
    match (q.taken, &q.refused) {
        (Some(0), _) => {
            "已向機關代理程式查詢，沒有新的收文（代理程式連不上時也請稍後再試）。".into()
        }
        (Some(n), _) => format!("已取回 {n} 件新的收文。"),
        (None, Some(_)) => "已退文，並由機關代理程式送回發文機關。".into(),
        (None, None) => String::new(),
    }
}

async fn list(me: Me, Query(q): Query<ListQuery>) -> Result<Page<ListPage>, WebError> {
    me.must(Role::Clerk)?;
    let items = intake::waiting(&me.app.db, WAITING_SHOWN)
        .await
        .map_err(Refusal::from)?;
    Ok(Page(ListPage {
        site: SITE,
        title: "待登記（總收文）",
        csrf: me.session.csrf.clone(),
        who: Some(me.who()),
        note: list_note(&q),
        items: items
            .into_iter()
            .map(|inc| Line {
                url: gongwen_client::encode_segment(&inc.id),
                inc,
            })
            .collect(),
        shown: WAITING_SHOWN,
    }))
}

/// 「立即收文」: one round of taking in what the agent received, now.
async fn sync(Csrf(me, _): Csrf<Me, NoFields>) -> Result<Redirect, WebError> {
    me.must(Role::Clerk)?;
    let (taken, _) = crate::serve::sync_once(&me.app).await;
    Ok(Redirect::to(&format!("/intake?taken={taken}")))
}

// --- One received document ----------------------------------------------------------------

/// One received file as the page lists it.
pub struct FileLine {
    pub name: String,
    /// The name as one path segment.
    pub url: String,
    pub size: String,
    pub kind: &'static str,
    /// 「3 頁」, 「無法計算」, or empty for files whose pages do not count.
    pub pages: String,
}

/// The page counts of the received files: each file's line, the total counted, and whether
/// every file that counts could be counted.
fn file_lines(files: &[(String, Vec<u8>)]) -> (Vec<FileLine>, u32, bool) {
    let mut total = 0u32;
    let mut all_counted = true;
    let lines = files
        .iter()
        .map(|(name, bytes)| {
            let pages = if counts_pages(name, bytes) {
                match crate::pages::count(name, bytes) {
                    Some(n) => {
                        total = total.saturating_add(n);
                        format!("{n} 頁")
                    }
                    None => {
                        all_counted = false;
                        "無法計算".to_string()
                    }
                }
            } else {
                String::new()
            };
            FileLine {
                url: gongwen_client::encode_segment(name),
                size: size_label(bytes.len()),
                kind: file_kind(name),
                pages,
                name: name.clone(),
            }
        })
        .collect();
    (lines, total, all_counted)
}

fn file_kind(name: &str) -> &'static str {
    match name
        .rsplit('.')
        .next()
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("di") => "公文本文（DI）",
        Some("sw") => "交換表單（SW）",
        _ => "附件",
    }
}

/// A size as people read it.
pub fn size_label(bytes: usize) -> String {
    match bytes {
        b if b < 1024 => format!("{b} 位元組"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// What the clerk types to register.
#[derive(Deserialize, Default, Debug, Clone)]
pub struct RegisterForm {
    #[serde(default)]
    matter: String,
    #[serde(default)]
    urgency: String,
    /// 限辦日期 (`YYYY-MM-DD`, optional) and whether it is 限期 (`fixed`) or 專案管制 (`project`).
    #[serde(default)]
    limit_day: String,
    #[serde(default)]
    limit_kind: String,
    /// The exclusions ticked, as `ex1` … `ex8` (a form sends a ticked box by its name).
    #[serde(flatten)]
    ticked: std::collections::BTreeMap<String, String>,
}

impl RegisterForm {
    /// The exclusions ticked (1–8).
    fn exclusions(&self) -> Vec<u8> {
        (1..=8u8)
            .filter(|n| self.ticked.contains_key(&format!("ex{n}")))
            .collect()
    }
}

/// What the clerk gives to return it.
#[derive(Deserialize, Default, Debug, Clone)]
pub struct RefuseForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    text: String,
}

/// An exclusion of the agency's list, as the registration page shows it.
pub struct Exclusion {
    pub number: u8,
    pub text: &'static str,
    /// The page counts suggest it.
    pub suggested: bool,
    /// Ticked: as sent back, or suggested on the first view.
    pub checked: bool,
}

impl Exclusion {
    /// Its box's name (and id): `ex1` … `ex8`.
    pub fn field(&self) -> String {
        format!("ex{}", self.number)
    }

    pub fn label(&self) -> String {
        let hint = if self.suggested {
            "（依頁數建議）"
        } else {
            ""
        };
        format!("第 {} 款：{}{hint}", self.number, self.text)
    }
}

#[derive(Template)]
#[template(path = "office/intake_doc.html")]
struct DocPage {
    site: &'static Site,
    title: String,
    who: Option<Who>,
    csrf: String,
    inc: Incoming,
    /// Registered or returned already: what became of it.
    done: String,
    /// The id as one path segment.
    url: String,
    files: Vec<FileLine>,
    total_pages: String,
    suggest_paper: bool,
    exclusions: Vec<Exclusion>,
    matters: Vec<String>,
    urgencies: Vec<Choice>,
    reasons: Vec<Choice>,
    f: RegisterForm,
    r: RefuseForm,
    errors: FormErrors,
}

impl DocPage {
    async fn new(
        me: &Me,
        id: &str,
        f: Option<RegisterForm>,
        r: RefuseForm,
        errors: FormErrors,
    ) -> Result<DocPage, WebError> {
        let db = &me.app.db;
        let inc = intake::incoming(db, id).await.map_err(Refusal::from)?;
        let files = cases::intake_files(db, id).await.map_err(Refusal::from)?;
        let (files, total, all_counted) = file_lines(&files);
        let over = crate::pages::over_limit(total);
        let total_pages = match (all_counted, total) {
            (true, n) => format!("{n} 頁"),
            (false, 0) => "無法計算".to_string(),
            (false, n) => format!("至少 {n} 頁（有檔案無法計算）"),
        };
        let first_view = f.is_none();
        let f = f.unwrap_or_else(|| RegisterForm {
            matter: String::new(),
            urgency: inc.urgency.clone(),
            limit_day: String::new(),
            limit_kind: String::new(),
            ticked: Default::default(),
        });
        let ticked = f.exclusions();
        let exclusions = me
            .app
            .config
            .exclusions
            .iter()
            .filter(|n| (1..=8).contains(*n))
            .map(|n| Exclusion {
                number: *n,
                text: EXCLUSIONS[usize::from(*n) - 1],
                suggested: *n == 2 && over,
                checked: ticked.contains(n) || (first_view && *n == 2 && over),
            })
            .collect();
        let matters = matters(db).await?;
        Ok(DocPage {
            site: SITE,
            title: format!("收文：{}", one_line(&inc.subject, 80)),
            who: Some(me.who()),
            csrf: me.session.csrf.clone(),
            url: gongwen_client::encode_segment(&inc.id),
            files,
            total_pages,
            suggest_paper: over && me.app.config.exclusions.contains(&2),
            exclusions,
            matters,
            urgencies: urgency_choices(&f.urgency),
            reasons: reason_choices(&r.reason),
            done: match (&inc.case_id, &inc.returned) {
                (Some(c), _) => format!("這件收文已登記為案件 {c}。"),
                (None, Some(why)) => format!("這件收文已退文：{why}"),
                (None, None) => String::new(),
            },
            f,
            r,
            errors,
            inc,
        })
    }
}

/// The matters the delegation table names, for the 業務項目 list (any other may be typed).
async fn matters(db: &gongwen_store::Db) -> Result<Vec<String>, WebError> {
    let mut m: Vec<String> = crate::delegation::history(db)
        .await
        .map_err(Refusal::from)?
        .into_iter()
        .map(|r| r.matter)
        .collect();
    m.dedup();
    Ok(m)
}

/// 速別 choices with `chosen` selected (普通件 when it is none of them).
pub fn urgency_choices(chosen: &str) -> Vec<Choice> {
    let chosen = if URGENCIES.contains(&chosen) {
        chosen
    } else {
        URGENCIES[0]
    };
    Choice::list(URGENCIES.map(|u| (u, u)), chosen)
}

/// The agent's closed list of 退文原因, less 含惡意程式 (the agent's own finding).
fn reason_choices(chosen: &str) -> Vec<Choice> {
    let reasons = (ReturnReason::ALL.iter())
        .filter(|r| **r != ReturnReason::Malware)
        .map(|r| (r.label(), r.label()));
    Choice::list(std::iter::once(("", "請選擇")).chain(reasons), chosen)
}

/// A subject on one line: line breaks and other control characters become spaces, runs of
/// spaces one, at most `max` characters (then 「…」).
pub fn one_line(s: &str, max: usize) -> String {
    let spaced: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.chars().count() > max {
        let mut cut: String = joined.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        joined
    }
}

async fn show(me: Me, Path(id): Path<String>) -> Result<Page<DocPage>, WebError> {
    me.must(Role::Clerk)?;
    let page = DocPage::new(&me, &id, None, RefuseForm::default(), FormErrors::new()).await?;
    Ok(Page(page))
}

/// A received file as a download (never shown inline: it is what someone else sent).
async fn download(me: Me, Path((id, name)): Path<(String, String)>) -> Result<Response, WebError> {
    me.must(Role::Clerk)?;
    let bytes = cases::intake_file(&me.app.db, &id, &name)
        .await
        .map_err(Refusal::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type(&name).to_string()),
            (header::CONTENT_DISPOSITION, attachment(&name)),
        ],
        bytes,
    )
        .into_response())
}

/// `Content-Disposition` of a download named `name`: an ASCII fallback with nothing but safe
/// characters, and the name itself percent-encoded (RFC 6266, 8187).
pub fn attachment(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{plain}\"; filename*=UTF-8''{}",
        gongwen_client::encode_segment(name)
    )
}

fn content_type(name: &str) -> &'static str {
    match name
        .rsplit('.')
        .next()
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("pdf") => "application/pdf",
        Some("tif" | "tiff") => "image/tiff",
        Some("di" | "sw" | "xml") => "application/xml",
        Some("odt") => "application/vnd.oasis.opendocument.text",
        Some("ods") => "application/vnd.oasis.opendocument.spreadsheet",
        Some("odp") => "application/vnd.oasis.opendocument.presentation",
        _ => "application/octet-stream",
    }
}

/// The 業務項目 as typed: present, one line, at most 60 characters.
fn check_matter(matter: &str, errors: &mut FormErrors) {
    if matter.trim().is_empty() {
        errors.push(
            Some("matter"),
            "請填寫業務項目（分層負責明細表所列，或自行輸入）",
        );
    } else if matter.chars().count() > 60 || matter.chars().any(char::is_control) {
        errors.push(Some("matter"), "業務項目須為一行、最多 60 個字");
    }
}

fn check_urgency(urgency: &str, errors: &mut FormErrors) {
    if !URGENCIES.contains(&urgency) {
        errors.push(Some("urgency"), "速別須為普通件、速件或最速件");
    }
}

/// A refusal of a step that the form can show (what was typed is wrong), or `None` for one the
/// error page shows (state, role, the agent).
fn form_refusal(e: &WebError) -> Option<String> {
    e.refusal()
        .filter(|r| r.code == Code::BadRequest)
        .map(|r| r.detail.clone())
}

/// The 登記 step of a new case, under the next 收文號 of the series.
async fn registration(me: &Me, new_case: NewCase) -> Result<Request, WebError> {
    let now = me.app.clock.now_ms();
    let case = cases::next_number(&me.app.db, "case", now)
        .await
        .map_err(Refusal::from)?;
    let mut req = Request::new(&case, Action::Register, &me.person.id, now);
    req.new_case = Some(new_case);
    Ok(req)
}

/// The document's page again with the registration as typed and what is wrong with it.
async fn register_again(me: &Me, id: &str, f: RegisterForm, errors: FormErrors) -> WebError {
    match DocPage::new(me, id, Some(f), RefuseForm::default(), errors).await {
        Ok(page) => WebError::page(StatusCode::BAD_REQUEST, &page),
        Err(e) => e,
    }
}

/// 登記: prepares the registration for the clerk to sign; after it, 簽收 at the agent.
async fn register(
    Path(id): Path<String>,
    Csrf(me, f): Csrf<Me, RegisterForm>,
) -> Result<Response, WebError> {
    me.must(Role::Clerk)?;
    let mut errors = FormErrors::new();
    check_matter(&f.matter, &mut errors);
    check_urgency(&f.urgency, &mut errors);
    let limit = crate::timing::limit_of_form(&f.limit_kind, &f.limit_day).unwrap_or_else(|e| {
        errors.push(Some("limit_day"), e);
        None
    });
    let exclusions = f.exclusions();
    if exclusions
        .iter()
        .any(|n| !me.app.config.exclusions.contains(n))
    {
        errors.push(None, "勾選的排除情形不在本機關適用的清單中");
    }
    if !errors.is_empty() {
        return Err(register_again(&me, &id, f, errors).await);
    }
    let db = &me.app.db;
    let inc = intake::incoming(db, &id).await.map_err(Refusal::from)?;
    // Refused before a number is taken: a 收文號 given and not used is a gap in the series.
    if let Some(c) = &inc.case_id {
        let why = format!("收文「{id}」已登記為案件「{c}」");
        return Err(Refusal::new(Code::OfficeState, why).into());
    }
    if inc.returned.is_some() {
        return Err(Refusal::new(Code::OfficeState, format!("收文「{id}」已退文")).into());
    }
    let mut req = registration(
        &me,
        NewCase {
            origin: Origin::Exchange,
            subject: one_line(&inc.subject, 500),
            matter: f.matter.trim().to_string(),
            urgency: f.urgency.clone(),
            intake: Some(inc.id.clone()),
        },
    )
    .await?;
    req.exclusions = exclusions;
    req.limit = limit;
    match super::sign::prepare(&me, req, Then::SignFor).await {
        Ok(r) => Ok(r),
        Err(e) => match form_refusal(&e) {
            Some(detail) => {
                Err(register_again(&me, &id, f, FormErrors::new().with(None, detail)).await)
            }
            None => Err(e),
        },
    }
}

/// The 退文 form as typed, checked: the reason from the closed list, words for 其他.
fn check_refuse(r: &RefuseForm) -> FormErrors {
    let mut errors = FormErrors::new();
    match ReturnReason::parse(&r.reason) {
        Ok(ReturnReason::Malware) | Err(_) => {
            errors.push(Some("reason"), "請選擇退文原因");
        }
        Ok(ReturnReason::Other) if r.text.trim().is_empty() => {
            errors.push(Some("text"), "退文原因為「其他」時，請填寫說明");
        }
        Ok(_) => {}
    }
    if r.text.chars().count() > MAX_RETURN_TEXT {
        errors.push(Some("text"), format!("說明最多 {MAX_RETURN_TEXT} 字"));
    }
    errors
}

/// 退文: the document goes back to its sender through the agent, and leaves 待登記.
async fn refuse(
    Path(id): Path<String>,
    Csrf(me, r): Csrf<Me, RefuseForm>,
) -> Result<Response, WebError> {
    me.must(Role::Clerk)?;
    let errors = check_refuse(&r);
    if !errors.is_empty() {
        let page = DocPage::new(&me, &id, None, r, errors).await?;
        return Err(WebError::page(StatusCode::BAD_REQUEST, &page));
    }
    let now = me.app.clock.now_ms();
    let done = intake::refuse(
        &me.app.db,
        &me.app.agent,
        &id,
        &r.reason,
        r.text.trim(),
        &me.person.id,
        now,
    )
    .await;
    match done {
        Ok(()) => {
            gongwen_net::log::info(
                "收文已退文",
                serde_json::json!({ "intake": id, "clerk": me.person.id, "reason": r.reason }),
            );
            Ok(Redirect::to("/intake?refused=1").into_response())
        }
        Err(e) if e.code() == Code::BadRequest => {
            let detail = Refusal::from(e).detail;
            let page =
                DocPage::new(&me, &id, None, r, FormErrors::new().with(None, detail)).await?;
            Err(WebError::page(StatusCode::BAD_REQUEST, &page))
        }
        Err(e) => Err(Refusal::from(e).into()),
    }
}

// --- Uploads ----------------------------------------------------------------------------

/// A multipart form read whole within bounds: its text fields and at most one file.
#[derive(Debug, Default)]
pub(super) struct Upload {
    texts: Vec<(String, String)>,
    /// (file name, bytes) of the file field, when a file was chosen.
    pub(super) file: Option<(String, Vec<u8>)>,
    /// The file was larger than allowed (and was not kept).
    pub(super) too_large: bool,
}

impl Upload {
    pub(super) fn text(&self, name: &str) -> &str {
        self.texts
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Most text in an upload's other fields.
const MAX_UPLOAD_TEXT: usize = 256 * 1024;

/// Reads a multipart form: the field `file_field` as a file of at most `max_file` bytes (a
/// larger one is dropped and marked), the others as text. The route's body limit bounds the
/// whole; a session is known before this reads anything.
pub(super) async fn read_upload(
    mut mp: Multipart,
    file_field: &str,
    max_file: usize,
) -> Result<Upload, Refusal> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Refusal::new(Code::HttpTooLarge, "上傳的內容超過這一頁的上限")
        } else {
            Refusal::new(Code::BadRequest, format!("表單內容有誤：{e}"))
        }
    };
    let mut out = Upload::default();
    let mut text_total = 0usize;
    while let Some(mut field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == file_field {
            let file_name = field.file_name().unwrap_or("").trim().to_string();
            if file_name.is_empty() {
                // A file input left empty still sends a part.
                while field.chunk().await.map_err(bad)?.is_some() {}
                continue;
            }
            if out.file.is_some() {
                return Err(Refusal::new(Code::BadRequest, "只能上傳一個檔案"));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if out.too_large || bytes.len() + chunk.len() > max_file {
                    out.too_large = true;
                    bytes = Vec::new();
                    continue;
                }
                bytes.extend_from_slice(&chunk);
            }
            if !out.too_large {
                out.file = Some((file_name, bytes));
            }
        } else {
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                text_total += chunk.len();
                if text_total > MAX_UPLOAD_TEXT {
                    return Err(Refusal::new(
                        Code::HttpTooLarge,
                        "表單的文字欄位合計超過 256 KiB",
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(bytes).map_err(|_| {
                Refusal::new(Code::BadRequest, format!("欄位「{name}」不是 UTF-8 文字"))
            })?;
            out.texts.push((name, text));
        }
    }
    Ok(out)
}

/// Refused unless the upload carries the session's CSRF token.
pub(super) fn upload_csrf(me: &Me, u: &Upload) -> Result<(), Refusal> {
    if gongwen_web::csrf_matches(&me.session.csrf, u.text("csrf")) {
        Ok(())
    } else {
        Err(gongwen_web::csrf_refusal(Code::OfficeAuth))
    }
}

// --- 紙本收文 -----------------------------------------------------------------------------

/// What the clerk types for a paper letter (the scan comes with it).
#[derive(Debug, Default, Clone)]
pub struct PaperForm {
    sender: String,
    doc_number: String,
    subject: String,
    urgency: String,
    matter: String,
    limit_day: String,
    limit_kind: String,
}

impl PaperForm {
    fn of(u: &Upload) -> PaperForm {
        PaperForm {
            sender: u.text("sender").to_string(),
            doc_number: u.text("doc_number").to_string(),
            subject: u.text("subject").to_string(),
            urgency: u.text("urgency").to_string(),
            matter: u.text("matter").to_string(),
            limit_day: u.text("limit_day").to_string(),
            limit_kind: u.text("limit_kind").to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "office/intake_paper.html")]
struct PaperPage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    csrf: String,
    f: PaperForm,
    urgencies: Vec<Choice>,
    matters: Vec<String>,
    max_mib: usize,
    /// A form sent back: the scan must be chosen again.
    again: bool,
    errors: FormErrors,
}

impl PaperPage {
    async fn new(me: &Me, f: PaperForm, errors: FormErrors) -> Result<PaperPage, WebError> {
        Ok(PaperPage {
            site: SITE,
            title: "紙本收文登記",
            who: Some(me.who()),
            csrf: me.session.csrf.clone(),
            urgencies: urgency_choices(&f.urgency),
            matters: matters(&me.app.db).await?,
            max_mib: MAX_VERSION_BYTES / 1024 / 1024,
            again: !errors.is_empty(),
            f,
            errors,
        })
    }
}

async fn paper_form(me: Me) -> Result<Page<PaperPage>, WebError> {
    me.must(Role::Clerk)?;
    Ok(Page(
        PaperPage::new(&me, PaperForm::default(), FormErrors::new()).await?,
    ))
}

/// Whether `bytes` begin as a PDF or a TIFF (either byte order) does.
pub fn is_scan(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-") || bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*")
}

/// One line of text typed for a field, checked: present unless `optional`, at most `max`.
fn check_line(
    errors: &mut FormErrors,
    field: &'static str,
    label: &str,
    value: &str,
    max: usize,
    optional: bool,
) {
    if value.trim().is_empty() {
        if !optional {
            errors.push(Some(field), format!("請填寫{label}"));
        }
    } else if value.chars().count() > max || value.chars().any(char::is_control) {
        errors.push(Some(field), format!("{label}須為一行、最多 {max} 個字"));
    }
}

/// The paper form checked, and its scan: the errors of each field, tied to it.
fn check_paper(f: &PaperForm, u: &Upload) -> FormErrors {
    let mut errors = FormErrors::new();
    check_line(&mut errors, "sender", "來文機關", &f.sender, 100, false);
    check_line(
        &mut errors,
        "doc_number",
        "來文字號",
        &f.doc_number,
        100,
        true,
    );
    // The subject box may wrap lines; the case's subject is one line.
    check_line(
        &mut errors,
        "subject",
        "主旨",
        &one_line(&f.subject, usize::MAX),
        500,
        false,
    );
    check_urgency(&f.urgency, &mut errors);
    check_matter(&f.matter, &mut errors);
    if let Err(e) = crate::timing::limit_of_form(&f.limit_kind, &f.limit_day) {
        errors.push(Some("limit_day"), e);
    }
    match &u.file {
        _ if u.too_large => errors.push(
            Some("scan"),
            format!("掃描檔超過 {} MiB", MAX_VERSION_BYTES / 1024 / 1024),
        ),
        None => errors.push(Some("scan"), "請選擇掃描檔（PDF 或 TIFF）"),
        Some((_, bytes)) if bytes.is_empty() => errors.push(Some("scan"), "掃描檔是空的"),
        Some((_, bytes)) if !is_scan(bytes) => {
            errors.push(Some("scan"), "掃描檔須為 PDF 或 TIFF（檔案內容不是）")
        }
        Some(_) => {}
    }
    errors
}

/// 紙本收文: prepares the registration of a paper letter with its scan; the sender and their
/// number are in the signed text (as the step's words).
async fn paper(me: Me, mp: Multipart) -> Result<Response, WebError> {
    me.must(Role::Clerk)?;
    let u = read_upload(mp, "scan", MAX_VERSION_BYTES).await?;
    upload_csrf(&me, &u)?;
    let f = PaperForm::of(&u);
    let errors = check_paper(&f, &u);
    if !errors.is_empty() {
        let page = PaperPage::new(&me, f, errors).await?;
        return Err(WebError::page(StatusCode::BAD_REQUEST, &page));
    }
    let Some((_, scan)) = u.file else {
        return Err(Refusal::new(Code::BadRequest, "缺少掃描檔").into());
    };
    let mut req = registration(
        &me,
        NewCase {
            origin: Origin::Paper,
            subject: one_line(&f.subject, 500),
            matter: f.matter.trim().to_string(),
            urgency: f.urgency.clone(),
            intake: None,
        },
    )
    .await?;
    req.version = Some(NewVersion {
        doc: "scan".to_string(),
        kind: "scan".to_string(),
        content: scan,
    });
    req.comment = paper_comment(&f);
    req.limit = crate::timing::limit_of_form(&f.limit_kind, &f.limit_day).unwrap_or(None);
    match super::sign::prepare(&me, req, Then::Nothing).await {
        Ok(r) => Ok(r),
        Err(e) => match form_refusal(&e) {
            Some(detail) => {
                let page = PaperPage::new(&me, f, FormErrors::new().with(None, detail)).await?;
                Err(WebError::page(StatusCode::BAD_REQUEST, &page))
            }
            None => Err(e),
        },
    }
}

/// The words of a paper registration: who sent it and their number, signed with the step.
fn paper_comment(f: &PaperForm) -> String {
    let number = f.doc_number.trim();
    let number = if number.is_empty() {
        "（無）"
    } else {
        number
    };
    format!("紙本來文：{}，來文字號：{number}", f.sender.trim())
}

/// The pages driven in-process for the tests of this module, `admin` and `search`: an office
/// on a fresh database (the agency of [`crate::org::testing::agency`]), its router, and a
/// session of one person (no card needed: the session is written as sign-in would).
#[cfg(test)]
pub(crate) mod testweb {
    use std::future::Future;
    use std::sync::Arc;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use gongwen_store::Db;
    use tower::ServiceExt;

    use crate::config::{AgencySettings, AgentLink, OfficeConfig, OfficeWeb};
    use crate::serve::App;
    use crate::web::{Pending, router, sign_in};

    pub(crate) struct TestWeb {
        pub router: Router,
        pub db: Db,
        pub csrf: String,
        cookie: String,
    }

    /// An answer: its status, its `Location` (a redirect) and its body.
    pub(crate) struct Answer {
        pub status: StatusCode,
        pub location: String,
        pub body: String,
        pub disposition: String,
    }

    /// Runs `f` with an office whose signed-in person is `who` (of the test agency).
    pub(crate) fn with_web<F, Fut>(name: &str, who: &'static str, f: F)
    where
        F: FnOnce(TestWeb) -> Fut,
        Fut: Future<Output = ()>,
    {
        crate::org::testing::with_db(name, |db| async move {
            crate::org::testing::agency(&db).await;
            let dir = std::env::temp_dir().join(format!(
                "gongwen-office-web-{}-{}",
                std::process::id(),
                gongwen_store::random_hex(4)
            ));
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let ca = gongwen_trust::pki::TestCa::init(
                &dir.join("ca"),
                &gongwen_trust::pki::InitOptions {
                    key: gongwen_trust::pki::KeyType::P256,
                    years: 5,
                },
                now - 60,
            )
            .unwrap();
            let root = ca.root_file();
            let config = OfficeConfig {
                listen: "127.0.0.1:0".into(),
                database_url: String::new(),
                tls: None,
                agency: AgencySettings {
                    code: "379000000A".into(),
                    name: "臺北市政府教育局".into(),
                    kind: "first_level".into(),
                },
                agent: AgentLink {
                    url: "http://127.0.0.1:9".into(),
                    token_file: dir.join("token"),
                    roots: Vec::new(),
                    webhook_secret_file: None,
                },
                trust_anchors: vec![root.clone()],
                crls: Vec::new(),
                web: OfficeWeb::default(),
                sync_every_s: 30,
                exclusions: (1..=8).collect(),
                calendars: Vec::new(),
                extensions: Default::default(),
                indicators: Default::default(),
                mail: None,
                remind_at: "09:00".into(),
            };
            let app = Arc::new(App {
                agent: gongwen_client::agent::AgentClient::new(&config.agent.url, "t", &[])
                    .unwrap(),
                trust: gongwen_trust::path::LiveTrust::from_files(
                    &[root],
                    &[],
                    gongwen_trust::path::StaleCrl::Refuse,
                )
                .unwrap(),
                calendar: gongwen_calendar::WorkCalendar::with_bundled().unwrap(),
                mailer: None,
                agency: "379000000A 臺北市政府教育局".into(),
                config,
                db: db.clone(),
                clock: gongwen_net::Clock::default(),
                pending: std::sync::Mutex::new(Pending::default()),
                webhook_secret: None,
                wake: tokio::sync::Notify::new(),
            });
            let router = router(app.clone(), false, Arc::new(sign_in()));
            let cookie = gongwen_store::random_hex(24);
            let csrf = gongwen_store::random_hex(16);
            let now_ms = app.clock.now_ms();
            db.execute(
                "INSERT INTO office_sessions (id_sha256, person, user_name, csrf, created_at, last_seen) VALUES ($1, $2, $2, $3, $4, $4)",
                &[
                    gongwen_store::sha256_hex(cookie.as_bytes()).into(),
                    who.into(),
                    csrf.as_str().into(),
                    now_ms.into(),
                ],
            )
            .await
            .unwrap();
            f(TestWeb {
                router,
                db,
                csrf,
                cookie,
            })
            .await;
            let _ = std::fs::remove_dir_all(&dir);
        });
    }

    fn enc(s: &str) -> String {
        gongwen_client::encode_segment(s)
    }

    impl TestWeb {
        pub async fn send(&self, req: axum::http::request::Builder, body: Body) -> Answer {
            let req = req
                .header(
                    header::COOKIE,
                    format!("gongwen_office_session={}", self.cookie),
                )
                .body(body)
                .unwrap();
            let r = self.router.clone().oneshot(req).await.unwrap();
            let text = |h: header::HeaderName| {
                r.headers()
                    .get(h)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            let (location, disposition) =
                (text(header::LOCATION), text(header::CONTENT_DISPOSITION));
            let status = r.status();
            let bytes = axum::body::to_bytes(r.into_body(), 64 << 20).await.unwrap();
            Answer {
                status,
                location,
                disposition,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            }
        }

        pub async fn get(&self, path: &str) -> Answer {
            self.send(Request::builder().uri(path), Body::empty()).await
        }

        /// A form post with the session's CSRF token and `fields`.
        pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
            let mut body = format!("csrf={}", enc(&self.csrf));
            for (k, v) in fields {
                body.push_str(&format!("&{}={}", enc(k), enc(v)));
            }
            self.send(
                Request::builder()
                    .method("POST")
                    .uri(path)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
                Body::from(body),
            )
            .await
        }

        /// A multipart post with the session's CSRF token: (field, file name, content).
        pub async fn upload(&self, path: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Answer {
            let b = "gongwenboundary7d3a";
            let mut body = Vec::new();
            let mut part = |name: &str, file: Option<&str>, content: &[u8]| {
                body.extend_from_slice(format!("--{b}\r\n").as_bytes());
                match file {
                    Some(f) => body.extend_from_slice(
                        format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                    ),
                    None => body.extend_from_slice(
                        format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                    ),
                }
                body.extend_from_slice(content);
                body.extend_from_slice(b"\r\n");
            };
            part("csrf", None, self.csrf.as_bytes());
            for (name, file, content) in parts {
                part(name, *file, content);
            }
            body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
            self.send(
                Request::builder().method("POST").uri(path).header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={b}"),
                ),
                Body::from(body),
            )
            .await
        }
    }

    /// Every control of `html` has a label (`for` its id), and every described control names
    /// ids that exist.
    pub(crate) fn labelled(html: &str) {
        for tag in ["<input", "<select", "<textarea"] {
            for part in html.split(tag).skip(1) {
                let head = part.split('>').next().unwrap_or_default();
                if head.contains("type=\"hidden\"") || head.contains("hidden readonly") {
                    continue;
                }
                let id = head
                    .split("id=\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .unwrap_or_default();
                assert!(!id.is_empty(), "a control without id: {tag}{head}");
                assert!(html.contains(&format!("for=\"{id}\"")), "no label for {id}");
                if let Some(ids) = head
                    .split("aria-describedby=\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                {
                    for d in ids.split(' ') {
                        assert!(html.contains(&format!("id=\"{d}\"")), "{id} → {d}");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_are_known_by_their_first_bytes() {
        assert!(is_scan(b"%PDF-1.7\n"));
        assert!(is_scan(b"II*\0\x08\0\0\0"));
        assert!(is_scan(b"MM\0*\0\0\0\x08"));
        assert!(!is_scan(b"%PDF"));
        assert!(!is_scan(b"<html>"));
        assert!(!is_scan(b""));
    }

    #[test]
    fn downloads_name_the_file_safely() {
        let d = attachment("計畫\"書\r\n.pdf");
        assert!(!d.contains('\r') && !d.contains('\n'), "{d}");
        assert_eq!(d.matches('"').count(), 2, "{d}");
        assert!(d.starts_with("attachment; filename=\"___"), "{d}");
        assert!(d.contains("filename*=UTF-8''%E8%A8%88"), "{d}");
        assert_eq!(content_type("a.PDF"), "application/pdf");
        assert_eq!(content_type("a.di"), "application/xml");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }

    #[test]
    fn subjects_become_one_line() {
        assert_eq!(one_line("有關\n  本局\t業務", 500), "有關 本局 業務");
        assert_eq!(one_line("一二三四五", 3), "一二…");
        assert_eq!(one_line("  ", 10), "");
    }

    /// A PDF whose page tree says `pages`.
    fn pdf(pages: usize) -> Vec<u8> {
        format!("%PDF-1.4\n2 0 obj<</Type/Pages/Kids[]/Count {pages}>>endobj\n%%EOF\n").into_bytes()
    }

    #[test]
    fn pages_count_for_the_di_pdf_and_tiff() {
        let plain = |name: &str| counts_pages(name, b"x");
        assert!(plain("x.di") && plain("a.PDF") && plain("s.tif"));
        assert!(!plain("x.sw") && !plain("a.odt") && !plain("pdf"));
        assert!(
            counts_pages("scan.bin", b"%PDF-1.7"),
            "a PDF by its content"
        );
        let (lines, total, all) = file_lines(&[
            ("a.pdf".into(), pdf(9)),
            ("a.sw".into(), b"<y/>".to_vec()),
            ("b.pdf".into(), pdf(7)),
        ]);
        assert_eq!(lines[0].pages, "9 頁");
        assert_eq!(lines[1].pages, "", "the SW does not count");
        assert_eq!((total, all), (16, true));
        assert!(crate::pages::over_limit(total));
        let (lines, total, all) = file_lines(&[("c.pdf".into(), b"%PDF-1.4 nothing".to_vec())]);
        assert_eq!(
            (lines[0].pages.as_str(), total, all),
            ("無法計算", 0, false)
        );
    }

    #[test]
    fn return_reasons_are_the_agents_list() {
        let ok = |reason: &str, text: &str| {
            check_refuse(&RefuseForm {
                reason: reason.into(),
                text: text.into(),
            })
        };
        assert!(ok("誤送", "").is_empty());
        assert_eq!(
            ok("", "").of("reason"),
            "請選擇退文原因",
            "a reason must be chosen"
        );
        assert!(!ok("含惡意程式", "").is_empty(), "the agent's own finding");
        assert!(!ok("其他", " ").of("text").is_empty());
        assert!(ok("其他", "說明").is_empty());
        assert!(!ok("誤送", &"字".repeat(501)).of("text").is_empty());
        let choices = reason_choices("");
        assert!(choices.iter().all(|c| c.label != "含惡意程式"));
        assert!(choices.iter().any(|c| c.value == "非本機關權責"));
    }

    #[test]
    fn a_paper_letter_needs_its_fields_and_a_scan() {
        let f = PaperForm {
            sender: "臺南市政府".into(),
            doc_number: String::new(),
            subject: "函送資料".into(),
            urgency: "速件".into(),
            matter: "一般公文".into(),
            limit_day: String::new(),
            limit_kind: String::new(),
        };
        let with = |file: Option<&[u8]>, too_large: bool| Upload {
            texts: Vec::new(),
            file: file.map(|b| ("s.pdf".to_string(), b.to_vec())),
            too_large,
        };
        assert!(check_paper(&f, &with(Some(b"%PDF-1.4"), false)).is_empty());
        assert!(!check_paper(&f, &with(None, false)).of("scan").is_empty());
        assert!(
            !check_paper(&f, &with(Some(b"GIF89a"), false))
                .of("scan")
                .is_empty()
        );
        assert!(!check_paper(&f, &with(None, true)).of("scan").is_empty());
        let blank = PaperForm::default();
        let e = check_paper(&blank, &with(Some(b"%PDF-1.4"), false));
        for field in ["sender", "subject", "urgency", "matter"] {
            assert!(!e.of(field).is_empty(), "{field}");
        }
        assert!(e.of("doc_number").is_empty(), "optional");
        assert_eq!(paper_comment(&f), "紙本來文：臺南市政府，來文字號：（無）");
    }

    #[test]
    fn notes_are_fixed_texts() {
        let q = |taken, refused: Option<&str>| ListQuery {
            taken,
            refused: refused.map(String::from),
        };
        assert!(list_note(&q(Some(3), None)).contains("3 件"));
        assert!(list_note(&q(None, Some("<script>"))).starts_with("已退文"));
        assert_eq!(list_note(&q(None, None)), "");
    }

    use super::testweb::{labelled, with_web};

    fn w_now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp() * 1000
    }

    async fn received(db: &gongwen_store::Db, id: &str, subject: &str) {
        db.execute(
            "INSERT INTO office_intake (id, sender, sender_name, doc_number, subject, urgency, received_at, fetched_at) VALUES ($1, '376410000A', '臺南市政府', '府教字第1150000001號', $2, '速件', 1767580200000, 1)",
            &[id.into(), subject.into()],
        )
        .await
        .unwrap();
        for (name, content) in [
            ("letter.di", b"<?xml version=\"1.0\"?><x/>".as_slice()),
            ("letter.sw", b"<sw/>"),
            (
                "計畫書.pdf",
                b"%PDF-1.4\n2 0 obj<</Type/Pages/Kids[]/Count 20>>endobj\n%%EOF\n",
            ),
        ] {
            db.execute(
                "INSERT INTO office_intake_files (intake, name, content) VALUES ($1, $2, $3)",
                &[id.into(), name.into(), content.into()],
            )
            .await
            .unwrap();
        }
    }

    #[test]
    fn the_clerk_sees_what_waits_registers_it_and_is_asked_to_sign() {
        with_web("web-intake", "clerk", |w| async move {
            received(&w.db, "pkg-1", "函送<計畫>\n一份").await;
            let list = w.get("/intake").await;
            assert_eq!(list.status, StatusCode::OK, "{}", list.body);
            assert!(
                list.body.contains("href=\"/intake/pkg-1\""),
                "{}",
                list.body
            );
            assert!(list.body.contains("函送&lt;計畫&gt;"), "escaped");
            assert!(list.body.contains("臺南市政府") && list.body.contains("中華民國115年1月5日"));

            let doc = w.get("/intake/pkg-1").await;
            assert_eq!(doc.status, StatusCode::OK, "{}", doc.body);
            labelled(&doc.body);
            assert!(
                doc.body
                    .contains("/intake/pkg-1/files/%E8%A8%88%E7%95%AB%E6%9B%B8.pdf")
            );
            assert!(
                doc.body.contains("<option value=\"速件\" selected>"),
                "速別 prefilled"
            );
            assert!(doc.body.contains("非本機關權責") && !doc.body.contains("含惡意程式"));
            assert!(doc.body.contains("<td>20 頁</td>"), "{}", doc.body);
            assert!(doc.body.contains("已預先勾選第 2 款"));
            assert!(
                doc.body.contains("name=\"ex2\" value=\"1\" checked"),
                "suggested by the page count: {}",
                doc.body
            );
            assert!(
                doc.body
                    .contains("第 2 款：來文本文及附件超過 15 頁（依頁數建議）")
            );
            assert!(!doc.body.contains("name=\"ex1\" value=\"1\" checked"));

            let file = w
                .get("/intake/pkg-1/files/%E8%A8%88%E7%95%AB%E6%9B%B8.pdf")
                .await;
            assert_eq!(file.status, StatusCode::OK);
            assert!(file.body.starts_with("%PDF-"));
            assert!(
                file.disposition
                    .starts_with("attachment; filename=\"___.pdf\""),
                "{}",
                file.disposition
            );
            assert_eq!(
                w.get("/intake/pkg-1/files/nope").await.status,
                StatusCode::NOT_FOUND
            );

            let empty = w
                .post(
                    "/intake/pkg-1/register",
                    &[("matter", " "), ("urgency", "快")],
                )
                .await;
            assert_eq!(empty.status, StatusCode::BAD_REQUEST);
            assert!(
                empty
                    .body
                    .contains("aria-describedby=\"matter-hint matter-error\""),
                "{}",
                empty.body
            );
            assert!(empty.body.contains("id=\"urgency-error\""));

            let sign = w
                .post(
                    "/intake/pkg-1/register",
                    &[("matter", "一般公文"), ("urgency", "最速件"), ("ex2", "1")],
                )
                .await;
            assert_eq!(sign.status, StatusCode::OK, "{}", sign.body);
            assert!(
                sign.body.contains("排除：第2款 來文本文及附件超過 15 頁"),
                "flagged at registration: {}",
                sign.body
            );
            assert!(
                sign.body.contains("動作：登記（register）"),
                "{}",
                sign.body
            );
            assert!(sign.body.contains("速別：最速件") && sign.body.contains("（pkg-1）"));
            assert!(
                sign.body.contains("主旨：函送&lt;計畫&gt; 一份"),
                "one line"
            );
            let shown = sign
                .body
                .split("<pre class=\"signed-text\"")
                .nth(1)
                .unwrap();
            let shown = shown.split("</pre>").next().unwrap();
            assert_eq!(shown.matches("文件：incoming").count(), 3, "{shown}");

            w.db.execute(
                "UPDATE office_intake SET returned = '誤送' WHERE id = 'pkg-1'",
                &[],
            )
            .await
            .unwrap();
            let numbered = crate::cases::peek_number(&w.db, "case", w_now())
                .await
                .unwrap();
            let gone = w
                .post(
                    "/intake/pkg-1/register",
                    &[("matter", "一般公文"), ("urgency", "速件")],
                )
                .await;
            assert_eq!(gone.status, StatusCode::CONFLICT);
            assert!(gone.body.contains("E_OFFICE_STATE"));
            assert_eq!(
                crate::cases::peek_number(&w.db, "case", w_now())
                    .await
                    .unwrap(),
                numbered,
                "no number taken"
            );
            w.db.execute(
                "UPDATE office_intake SET returned = NULL WHERE id = 'pkg-1'",
                &[],
            )
            .await
            .unwrap();
            let no_reason = w
                .post("/intake/pkg-1/refuse", &[("reason", ""), ("text", "")])
                .await;
            assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
            assert!(no_reason.body.contains("id=\"reason-error\""));
            let other = w
                .post("/intake/pkg-1/refuse", &[("reason", "其他"), ("text", "")])
                .await;
            assert!(other.body.contains("id=\"text-error\""));
        });
    }

    #[test]
    fn intake_is_for_clerks_and_forms_need_their_token() {
        with_web("web-intake-roles", "officer", |w| async move {
            received(&w.db, "pkg-2", "主旨").await;
            let r = w.get("/intake").await;
            assert_eq!(r.status, StatusCode::FORBIDDEN);
            assert!(r.body.contains("E_OFFICE_NOT_ALLOWED"));
            assert_eq!(w.get("/intake/pkg-2").await.status, StatusCode::FORBIDDEN);
        });
        with_web("web-intake-csrf", "clerk", |w| async move {
            received(&w.db, "pkg-3", "主旨").await;
            let forged = w
                .send(
                    axum::http::Request::builder()
                        .method("POST")
                        .uri("/intake/pkg-3/register")
                        .header("content-type", "application/x-www-form-urlencoded"),
                    axum::body::Body::from("csrf=wrong&matter=a&urgency=%E9%80%9F%E4%BB%B6"),
                )
                .await;
            assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{}", forged.body);
            let synced = w.post("/intake/sync", &[]).await;
            assert_eq!(synced.status, StatusCode::SEE_OTHER);
            assert_eq!(synced.location, "/intake?taken=0");
        });
    }

    #[test]
    fn a_paper_letter_is_registered_with_its_scan() {
        with_web("web-paper", "clerk", |w| async move {
            let form = w.get("/intake/paper").await;
            assert_eq!(form.status, StatusCode::OK, "{}", form.body);
            labelled(&form.body);
            let fields = |scan: &'static [u8]| {
                vec![
                    ("sender", None, "臺南市民 王先生".as_bytes()),
                    ("doc_number", None, b"".as_slice()),
                    ("subject", None, "陳情\r\n校園安全".as_bytes()),
                    ("urgency", None, "普通件".as_bytes()),
                    ("matter", None, "人民陳情".as_bytes()),
                    ("scan", Some("scan.pdf"), scan),
                ]
            };
            let gif = w.upload("/intake/paper", &fields(b"GIF89a")).await;
            assert_eq!(gif.status, StatusCode::BAD_REQUEST);
            assert!(gif.body.contains("id=\"scan-error\""), "{}", gif.body);
            assert!(
                gif.body.contains("value=\"臺南市民 王先生\""),
                "the form is kept"
            );
            let sign = w.upload("/intake/paper", &fields(b"II*\0tiff")).await;
            assert_eq!(sign.status, StatusCode::OK, "{}", sign.body);
            assert!(sign.body.contains("來源：紙本收文"), "{}", sign.body);
            assert!(sign.body.contains("主旨：陳情 校園安全"), "one line");
            assert!(sign.body.contains("文件：scan 第1版 scan SHA-256"));
            assert!(
                sign.body
                    .contains("意見：紙本來文：臺南市民 王先生，來文字號：（無）")
            );
            let no_token = w
                .send(
                    axum::http::Request::builder()
                        .method("POST")
                        .uri("/intake/paper")
                        .header("content-type", "multipart/form-data; boundary=x"),
                    axum::body::Body::from("--x\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nbad\r\n--x--\r\n"),
                )
                .await;
            assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
        });
    }
}
