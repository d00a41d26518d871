//! 收文: the list (documents waiting first, then by urgency, newest first), one document as
//! the printed page with its attachments, 簽收 and 退文, and printing with the 電子公文交換戳記.

use std::sync::OnceLock;

use askama::Template;
use axum::extract::{Path as UrlPath, Query};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use gongwen_net::Refusal;
use gongwen_proto::agent::{ReceivedItem, ReceivedState};
use gongwen_proto::{Code, ReturnReason};
use serde::Deserialize;

use super::{Refused, SITE, SignedIn, Who};
use crate::Agency;
use crate::receive::{self, Decision};
use gongwen_web::{Choice, Csrf, NoFields, Page, Site, filters};

#[derive(Deserialize)]
pub struct ListQuery {
    /// `all` shows handled documents too.
    state: Option<String>,
}

/// 臺北市政府教育局（379130000C）, or the code alone when the document gave no name.
fn sender_label(name: &str, code: &str) -> String {
    if name.is_empty() {
        code.to_string()
    } else {
        format!("{name}（{code}）")
    }
}

pub async fn list(me: SignedIn, Query(q): Query<ListQuery>) -> Result<Page<Inbox>, Refused> {
    let a = me.agency();
    let all = q.state.as_deref() == Some("all");
    let filter = receive::ReceivedFilter {
        state: (!all).then_some(ReceivedState::Delivered),
        before: None,
        limit: 500,
        waiting_first: true,
    };
    let rows = receive::received_list(&me.node.db, a.code.as_str(), &filter)
        .await
        .map_err(|e| me.refuse(e))?
        .into_iter()
        .map(|d| ListRow {
            id: gongwen_client::encode_segment(&d.package_id),
            new: d.state == ReceivedState::Delivered,
            sender: sender_label(&d.sender_name, &d.sender),
            d,
        })
        .collect();
    Ok(Page(Inbox {
        site: SITE,
        title: "收文",
        who: me.who(),
        all,
        rows,
    }))
}

#[derive(Template)]
#[template(path = "agent/inbox.html")]
pub struct Inbox {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    /// Handled documents too, not only those waiting.
    all: bool,
    rows: Vec<ListRow>,
}

/// One line of the list.
struct ListRow {
    /// The package id, URL-encoded for the link.
    id: String,
    /// Waiting to be handled (shown in bold).
    new: bool,
    sender: String,
    d: ReceivedItem,
}

/// One of the signed-in agency's received documents.
async fn received(me: &SignedIn, id: &str) -> Result<ReceivedItem, Refused> {
    let r = receive::received(&me.node.db, me.agency().code.as_str(), id).await;
    r.map_err(|e| me.refuse(e))
}

type Printed = (gongwen_doc::Di, gongwen_render::RenderOptions);

/// The received document's DI, read from its inbox folder, and how it prints: with the
/// 電子公文交換戳記 of its arrival.
fn document(me: &SignedIn, r: &ReceivedItem) -> Result<Printed, Refused> {
    let read = || {
        let name = r
            .files
            .iter()
            .find(|f| f.to_ascii_lowercase().ends_with(".di"))
            .ok_or_else(|| Refusal::new(Code::NotFound, "這份收文沒有 DI"))?;
        let path = receive::inbox_dir(&me.node, me.agency())
            .join(&r.package_id)
            .join(name);
        let bytes = std::fs::read(&path)
            .map_err(|e| Refusal::new(Code::Internal, format!("{}：{e}", path.display())))?;
        gongwen_doc::read_di(&bytes).map_err(|e| Refusal::new(Code::AgentDocument, e.to_string()))
    };
    let stamp = stamp(me.agency(), r);
    let di = read().map_err(|e| me.refuse(e))?;
    Ok((di, gongwen_render::RenderOptions { stamp, mark: None }))
}

fn stamp(a: &Agency, r: &ReceivedItem) -> Option<gongwen_render::ExchangeStamp> {
    let secs = r.received_at.div_euclid(1000);
    let date = gongwen_doc::RocDate::from_unix_taipei(secs).ok()?;
    let local = (secs + 8 * 3600).rem_euclid(86_400);
    Some(gongwen_render::ExchangeStamp {
        agency: a
            .name
            .clone()
            .unwrap_or_else(|| a.code.as_str().to_string()),
        date,
        hour: (local / 3600) as u8,
        minute: (local % 3600 / 60) as u8,
        receipt_number: r.receipt_number.clone().unwrap_or_default(),
    })
}

pub async fn show(
    me: SignedIn,
    UrlPath(id): UrlPath<String>,
) -> Result<Page<ReceivedPage>, Refused> {
    let r = received(&me, &id).await?;
    Ok(Page(ReceivedPage::new(&me, r)))
}

/// The document alone, as the printed page (shown in a frame of the document page).
pub async fn document_html(
    me: SignedIn,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, Refused> {
    let r = received(&me, &id).await?;
    let (di, opts) = document(&me, &r)?;
    let html = Html(gongwen_render::render_html(&di, &opts));
    Ok((
        [(header::CONTENT_SECURITY_POLICY, super::DOCUMENT_POLICY)],
        html,
    )
        .into_response())
}

/// One received document with its files and, while it waits, the forms to 簽收 or 退文.
#[derive(Template)]
#[template(path = "agent/received.html")]
pub struct ReceivedPage {
    site: &'static Site,
    /// The document's subject.
    title: String,
    who: Option<Who>,
    /// The package id, URL-encoded for the links.
    id: String,
    sender: String,
    files: Vec<FileLink>,
    /// Still to be handled: the forms are shown.
    waiting: bool,
    csrf: String,
    reasons: Vec<Choice>,
    r: ReceivedItem,
}

/// One file of a received document.
struct FileLink {
    name: String,
    /// The name, URL-encoded for the link.
    url: String,
    /// What it is: （公文本文 DI，可匯入公文系統）, （交換表單 SW）, （附件）.
    kind: &'static str,
}

impl ReceivedPage {
    fn new(me: &SignedIn, r: ReceivedItem) -> Self {
        let files = r
            .files
            .iter()
            .map(|f| FileLink {
                url: gongwen_client::encode_segment(f),
                kind: match f
                    .rsplit('.')
                    .next()
                    .map(|e| e.to_ascii_lowercase())
                    .as_deref()
                {
                    Some("di") => "（公文本文 DI，可匯入公文系統）",
                    Some("sw") => "（交換表單 SW）",
                    _ => "（附件）",
                },
                name: f.clone(),
            })
            .collect();
        let reasons = (ReturnReason::ALL.iter())
            .filter(|x| **x != ReturnReason::Malware)
            .map(|x| (x.label(), x.label()));
        let reasons = Choice::list(std::iter::once(("", "請選擇")).chain(reasons), "");
        ReceivedPage {
            site: SITE,
            title: r.subject.clone(),
            who: me.who(),
            id: gongwen_client::encode_segment(&r.package_id),
            sender: sender_label(&r.sender_name, &r.sender),
            files,
            waiting: r.state == ReceivedState::Delivered,
            csrf: me.session.csrf.clone(),
            reasons,
            r,
        }
    }
}

static FONTS: OnceLock<Result<gongwen_render::Fonts, gongwen_render::RenderError>> =
    OnceLock::new();

pub async fn print(me: SignedIn, UrlPath(id): UrlPath<String>) -> Result<Response, Refused> {
    let r = received(&me, &id).await?;
    let (di, opts) = document(&me, &r)?;
    let bytes = pdf(di, opts).await.map_err(|e| me.refuse(e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                crate::forms::disposition("inline", &format!("{}.pdf", r.doc_number)),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A document as the printed PDF (全字庫 fonts, loaded once).
pub(crate) async fn pdf(
    di: gongwen_doc::Di,
    opts: gongwen_render::RenderOptions,
) -> Result<Vec<u8>, Refusal> {
    let r = tokio::task::spawn_blocking(move || {
        let fonts = FONTS
            .get_or_init(gongwen_render::Fonts::system)
            .as_ref()
            .map_err(|e| e.clone())?;
        gongwen_render::render_pdf(&di, fonts, &opts)
    })
    .await
    .map_err(|e| Refusal::new(Code::Internal, e.to_string()))?;
    r.map_err(|e| {
        Refusal::new(
            Code::Unavailable,
            format!(
                "{}：無法產生 PDF（{e:?}）；請安裝 fonts-cns11643-kai",
                e.code()
            ),
        )
    })
}

pub async fn file(
    me: SignedIn,
    UrlPath((id, name)): UrlPath<(String, String)>,
) -> Result<Response, Refused> {
    let r = received(&me, &id).await?;
    if !r.files.contains(&name) {
        let e = Refusal::new(Code::NotFound, format!("收文 {id} 沒有檔案「{name}」"));
        return Err(me.refuse(e));
    }
    let path = receive::inbox_dir(&me.node, me.agency())
        .join(&r.package_id)
        .join(&name);
    crate::forms::file_response(&path, &name)
        .await
        .map_err(|e| me.refuse(e))
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    text: String,
}

async fn decide(
    me: SignedIn,
    id: String,
    d: Result<Decision, Refusal>,
) -> Result<Redirect, Refused> {
    let done = match d {
        Ok(d) => receive::decide(&me.node, me.agency(), &id, &me.session.user, d).await,
        Err(e) => Err(e),
    };
    done.map_err(|e| me.refuse(e))?;
    Ok(Redirect::to(&format!(
        "/inbox/{}",
        gongwen_client::encode_segment(&id)
    )))
}

pub async fn confirm(
    UrlPath(id): UrlPath<String>,
    Csrf(me, _): Csrf<SignedIn, NoFields>,
) -> Result<Redirect, Refused> {
    decide(me, id, Ok(Decision::Confirm)).await
}

pub async fn return_doc(
    UrlPath(id): UrlPath<String>,
    Csrf(me, f): Csrf<SignedIn, DecideForm>,
) -> Result<Redirect, Refused> {
    let reason = ReturnReason::parse(&f.reason).map_err(|m| Refusal::new(Code::BadRequest, m));
    decide(me, id, reason.map(|r| Decision::Return(r, f.text))).await
}
