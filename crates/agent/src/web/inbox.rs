//! 收文: the list (documents waiting first, then by urgency, newest first), one document as
//! the printed page with its attachments, 簽收 and 退文, and printing with the 電子公文交換戳記.

use std::sync::OnceLock;

use axum::Form;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use gongwen_net::Refusal;
use gongwen_net::html::esc;
use gongwen_proto::{Code, ReturnReason};
use serde::Deserialize;

use super::login::{self, Session};
use super::{Web, error_page, page, roc};
use crate::Agency;
use crate::receive::{self, Decision};

#[derive(Deserialize)]
pub struct ListQuery {
    /// `all` shows handled documents too.
    state: Option<String>,
}

fn urgency_badge(u: &str) -> String {
    match u {
        "最速件" | "速件" => format!("<span class=\"badge urgent\">{}</span>", esc(u)),
        "" => String::new(),
        other => format!("<span class=\"badge\">{}</span>", esc(other)),
    }
}

/// 臺北市政府教育局（379130000C）, or the code alone when the document gave no name.
fn sender_label(name: &str, code: &str) -> String {
    if name.is_empty() {
        code.to_string()
    } else {
        format!("{name}（{code}）")
    }
}

fn state_label(s: &str) -> &'static str {
    gongwen_proto::agent::ReceivedState::parse(s)
        .map(|s| s.label())
        .unwrap_or("")
}

pub async fn list(
    State(w): State<Web>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let all = q.state.as_deref() == Some("all");
    let rows = w
        .node
        .db
        .fetch_all(
            "SELECT package_id, sender, doc_number, subject, urgency, copy, confirm_now, state, received_at, sender_name \
             FROM agent_received WHERE agency = $1 AND ($2 = 1 OR state = 'delivered') \
             ORDER BY CASE WHEN state = 'delivered' THEN 0 ELSE 1 END, \
             CASE urgency WHEN '最速件' THEN 0 WHEN '速件' THEN 1 ELSE 2 END, received_at DESC LIMIT 500",
            &[a.code.as_str().into(), i64::from(all).into()],
        )
        .await;
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return error_page(Some((a, &s)), &e.into()),
    };
    let mut body = String::from(if all {
        "<p><a href=\"/inbox\">只看待簽收</a></p>"
    } else {
        "<p>待簽收的公文，最速件、速件在前。<a href=\"/inbox?state=all\">看全部（含已簽收、已退文）</a></p>"
    });
    if rows.is_empty() {
        body.push_str("<p class=\"msg ok\">目前沒有待簽收的公文。</p>");
    } else {
        body.push_str("<table><caption class=\"noprint\">收文清單</caption><thead><tr><th scope=\"col\">速別</th><th scope=\"col\">主旨</th><th scope=\"col\">發文機關／文號</th><th scope=\"col\">正副本</th><th scope=\"col\">收到時間</th><th scope=\"col\">狀態</th></tr></thead><tbody>");
        for r in &rows {
            let (id, state) = (r.text(0).unwrap_or_default(), r.text(7).unwrap_or_default());
            let confirm_now = r.i64(6).unwrap_or(0) != 0;
            body.push_str(&format!(
                "<tr{cls}><td>{u}</td><td><a href=\"/inbox/{idu}\">{subj}</a>{now}</td><td>{sender}<br>{num}</td><td>{copy}</td><td>{at}</td><td>{st}</td></tr>",
                cls = if state == "delivered" { " class=\"new\"" } else { "" },
                u = urgency_badge(&r.text(4).unwrap_or_default()),
                idu = gongwen_client::encode_segment(&id),
                subj = esc(&r.text(3).unwrap_or_default()),
                now = if confirm_now { "<br><span class=\"badge urgent\">發文者要求即時確認</span>" } else { "" },
                sender = esc(&sender_label(&r.text(9).unwrap_or_default(), &r.text(1).unwrap_or_default())),
                num = esc(&r.text(2).unwrap_or_default()),
                copy = esc(&r.text(5).unwrap_or_default()),
                at = esc(&roc(r.i64(8).unwrap_or(0))),
                st = state_label(&state),
            ));
        }
        body.push_str("</tbody></table>");
    }
    page("收文", Some((a, &s)), &body).into_response()
}

/// One received row as the pages need it.
struct Received {
    id: String,
    sender: String,
    doc_number: String,
    subject: String,
    state: String,
    received_at: i64,
    files: Vec<String>,
    receipt_number: Option<String>,
    reason: Option<String>,
    reason_text: Option<String>,
    handled_by: Option<String>,
    handled_at: Option<i64>,
    copy: String,
    urgency: String,
}

async fn received(w: &Web, a: &Agency, id: &str) -> Result<Received, Refusal> {
    let r = w
        .node
        .db
        .fetch_optional(
            "SELECT package_id, sender, doc_number, subject, state, received_at, files, receipt_number, reason, reason_text, handled_by, handled_at, sender_name, copy, urgency \
             FROM agent_received WHERE agency = $1 AND package_id = $2",
            &[a.code.as_str().into(), id.into()],
        )
        .await?
        .ok_or_else(|| Refusal::new(Code::NotFound, format!("收文 {id} 不存在")))?;
    Ok(Received {
        id: r.text(0)?,
        sender: sender_label(&r.text(12)?, &r.text(1)?),
        doc_number: r.text(2)?,
        subject: r.text(3)?,
        state: r.text(4)?,
        received_at: r.i64(5)?,
        files: serde_json::from_str(&r.text(6)?).unwrap_or_default(),
        receipt_number: r.opt_text(7)?,
        reason: r.opt_text(8)?,
        reason_text: r.opt_text(9)?,
        handled_by: r.opt_text(10)?,
        handled_at: r.opt_i64(11)?,
        copy: r.text(13)?,
        urgency: r.text(14)?,
    })
}

/// The signed-in agency and one of its received documents, or the page to show instead.
async fn signed_in_with<'a>(
    w: &'a Web,
    headers: &HeaderMap,
    id: &str,
) -> Result<(&'a Agency, Session, Received), Response> {
    let (a, s) = login::require(w, headers).await?;
    match received(w, a, id).await {
        Ok(r) => Ok((a, s, r)),
        Err(e) => Err(error_page(Some((a, &s)), &e)),
    }
}

/// The received document's DI, read from its inbox folder.
fn document(w: &Web, a: &Agency, r: &Received) -> Result<gongwen_doc::Di, Refusal> {
    let name = r
        .files
        .iter()
        .find(|f| f.to_ascii_lowercase().ends_with(".di"))
        .ok_or_else(|| Refusal::new(Code::NotFound, "這份收文沒有 DI"))?;
    let path = receive::inbox_dir(&w.node, a).join(&r.id).join(name);
    let bytes = std::fs::read(&path)
        .map_err(|e| Refusal::new(Code::Internal, format!("{}：{e}", path.display())))?;
    gongwen_doc::read_di(&bytes).map_err(|e| Refusal::new(Code::AgentDocument, e.to_string()))
}

fn stamp(a: &Agency, r: &Received) -> Option<gongwen_render::ExchangeStamp> {
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
    State(w): State<Web>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let (a, s, r) = match signed_in_with(&w, &headers, &id).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    page(&r.subject.clone(), Some((a, &s)), &detail_body(&r, &s)).into_response()
}

/// The document alone, as the printed page (shown in a frame of the document page).
pub async fn document_html(
    State(w): State<Web>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let (a, s, r) = match signed_in_with(&w, &headers, &id).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match document(&w, a, &r) {
        Ok(di) => (
            [(
                axum::http::header::CONTENT_SECURITY_POLICY,
                super::DOCUMENT_POLICY,
            )],
            Html(gongwen_render::render_html(
                &di,
                &gongwen_render::RenderOptions {
                    stamp: stamp(a, &r),
                    mark: None,
                },
            )),
        )
            .into_response(),
        Err(e) => error_page(Some((a, &s)), &e),
    }
}

fn detail_body(r: &Received, s: &Session) -> String {
    let idu = gongwen_client::encode_segment(&r.id);
    let mut b = format!(
        "<p>{u} {copy}　{sender}　{num}　收到：{at}　狀態：<strong>{st}</strong>{rn}</p>",
        u = urgency_badge(&r.urgency),
        copy = esc(&r.copy),
        sender = esc(&r.sender),
        num = esc(&r.doc_number),
        at = esc(&roc(r.received_at)),
        st = state_label(&r.state),
        rn = r
            .receipt_number
            .as_deref()
            .map(|n| format!("　收文字號：{}", esc(n)))
            .unwrap_or_default(),
    );
    if let (Some(by), Some(at)) = (&r.handled_by, r.handled_at) {
        b.push_str(&format!("<p>處理：{}，{}", esc(by), esc(&roc(at))));
        if let Some(reason) = &r.reason {
            b.push_str(&format!(
                "；退文原因：{}{}",
                esc(reason),
                r.reason_text
                    .as_deref()
                    .map(|t| format!("（{}）", esc(t)))
                    .unwrap_or_default()
            ));
        }
        b.push_str("</p>");
    }
    b.push_str(&format!(
        "<p class=\"noprint\"><a href=\"/inbox/{idu}/print.pdf\">列印（PDF，含電子公文交換戳記、頁碼與騎縫章）</a></p>\
         <iframe src=\"/inbox/{idu}/document\" title=\"公文內容\" class=\"frame\"></iframe>\
         <h2>檔案</h2><ul>"
    ));
    for f in &r.files {
        let kind = match f
            .rsplit('.')
            .next()
            .map(|e| e.to_ascii_lowercase())
            .as_deref()
        {
            Some("di") => "（公文本文 DI，可匯入公文系統）",
            Some("sw") => "（交換表單 SW）",
            _ => "（附件）",
        };
        b.push_str(&format!(
            "<li><a href=\"/inbox/{idu}/files/{fu}\" download>{f}</a>{kind}</li>",
            fu = gongwen_client::encode_segment(f),
            f = esc(f)
        ));
    }
    b.push_str("</ul>");
    if r.state == "delivered" {
        let csrf = esc(&s.csrf);
        let reasons: String = ReturnReason::ALL
            .iter()
            .filter(|x| **x != ReturnReason::Malware)
            .map(|x| format!("<option>{}</option>", x.label()))
            .collect();
        b.push_str(&format!(
            "<h2>處理</h2><form method=\"post\" action=\"/inbox/{idu}/confirm\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button>簽收</button> 簽收後如需退文，須以紙本辦理。</form>\
             <form method=\"post\" action=\"/inbox/{idu}/return\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <p><label>退文原因 <select name=\"reason\" required><option value=\"\">請選擇</option>{reasons}</select></label></p>\
             <p><label>說明（選「其他」時必填，最多 500 字）<textarea name=\"text\" rows=\"3\" maxlength=\"500\"></textarea></label></p>\
             <button>退文</button></form>"
        ));
    }
    b
}

static FONTS: OnceLock<Result<gongwen_render::Fonts, gongwen_render::RenderError>> =
    OnceLock::new();

pub async fn print(
    State(w): State<Web>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let (a, s, r) = match signed_in_with(&w, &headers, &id).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let di = match document(&w, a, &r) {
        Ok(d) => d,
        Err(e) => return error_page(Some((a, &s)), &e),
    };
    let opts = gongwen_render::RenderOptions {
        stamp: stamp(a, &r),
        mark: None,
    };
    match pdf(di, opts).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "inline; filename*=UTF-8''{}.pdf",
                        gongwen_client::encode_segment(&r.doc_number)
                    ),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error_page(Some((a, &s)), &e),
    }
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
    State(w): State<Web>,
    headers: HeaderMap,
    UrlPath((id, name)): UrlPath<(String, String)>,
) -> Response {
    let (a, s, r) = match signed_in_with(&w, &headers, &id).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if !r.files.contains(&name) {
        return error_page(
            Some((a, &s)),
            &Refusal::new(Code::NotFound, format!("收文 {id} 沒有檔案「{name}」")),
        );
    }
    let path = receive::inbox_dir(&w.node, a).join(&r.id).join(&name);
    match crate::api::file_response(&path, &name).await {
        Ok(resp) => resp,
        Err(e) => error_page(Some((a, &s)), &e),
    }
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    text: String,
}

async fn decide(w: Web, headers: HeaderMap, id: String, f: DecideForm, confirm: bool) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = async {
        login::csrf_ok(&s, &f.csrf)?;
        let d = if confirm {
            Decision::Confirm
        } else {
            let reason =
                ReturnReason::parse(&f.reason).map_err(|m| Refusal::new(Code::BadRequest, m))?;
            Decision::Return(reason, f.text.clone())
        };
        receive::decide(&w.node, a, &id, &s.user, d).await
    }
    .await;
    match r {
        Ok(()) => {
            Redirect::to(&format!("/inbox/{}", gongwen_client::encode_segment(&id))).into_response()
        }
        Err(e) => error_page(Some((a, &s)), &e),
    }
}

pub async fn confirm(
    State(w): State<Web>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Form(f): Form<DecideForm>,
) -> Response {
    decide(w, headers, id, f, true).await
}

pub async fn return_doc(
    State(w): State<Web>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    Form(f): Form<DecideForm>,
) -> Response {
    decide(w, headers, id, f, false).await
}
