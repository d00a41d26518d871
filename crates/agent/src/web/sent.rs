//! 發文 and the daily duty lists: each recipient's status as the center reports it (送達,
//! 確認, 退文 with the reason, failed), and the lists the rules ask for — copies not confirmed
//! by 14:00 of the next working day (send them on paper) and documents received the working
//! day before that are not yet handled by 10:00.

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use gongwen_net::Refusal;
use gongwen_net::html::esc;
use gongwen_proto::Code;
use gongwen_proto::CopyStatus;
use gongwen_proto::api::DutyItem;

use super::{Web, error_page, login, page, roc};
use crate::send::refusal_of;

pub async fn list(State(w): State<Web>, headers: HeaderMap) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let sent = match a.center.sent_list(&[("limit", "100")]).await {
        Ok(p) => p,
        Err(e) => return error_page(Some((a, &s)), &refusal_of(&e)),
    };
    // Recipients by name, looked up once each in the center's address book.
    let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for p in &sent.items {
        for c in &p.copies {
            if names.len() < 100 && !names.contains_key(&c.recipient) {
                let name = a
                    .center
                    .search_participants(&c.recipient, 5)
                    .await
                    .ok()
                    .and_then(|l| l.into_iter().find(|x| x.code == c.recipient))
                    .map(|x| x.name)
                    .unwrap_or_default();
                names.insert(c.recipient.clone(), name);
            }
        }
    }
    let mut b = String::from("<p>本機關送出的公文與每個受文者的狀態（由交換中心提供）。</p>");
    if sent.items.is_empty() {
        b.push_str("<p class=\"msg ok\">尚未送出公文。</p>");
    }
    for p in &sent.items {
        let g = &p.aggregate;
        b.push_str(&format!(
            "<section><h2>{num}　{subj}</h2><p>送出：{at}　共 {t} 份：已確認 {c}、已退文 {r}、失敗 {f}、處理中 {pe}{now}</p>\
             <table><thead><tr><th scope=\"col\">受文者</th><th scope=\"col\">正副本</th><th scope=\"col\">狀態</th><th scope=\"col\">時間</th><th scope=\"col\">說明</th></tr></thead><tbody>",
            num = esc(&p.doc_number),
            subj = esc(&p.subject),
            at = esc(&roc(p.submitted_at)),
            t = g.total,
            c = g.confirmed,
            r = g.returned,
            f = g.failed,
            pe = g.pending + g.delivered,
            now = if p.confirm_now { "　<span class=\"badge urgent\">要求即時確認</span>" } else { "" },
        ));
        let idu = gongwen_client::encode_segment(&p.id);
        b.push_str(&format!(
            "<p class=\"noprint\"><a href=\"/sent/{idu}/paper.pdf\">列印紙本寄送用（蓋「{mark}」）</a>　\
             <a href=\"/sent/{idu}/filing.pdf\">列印歸檔用（蓋「已電子交換」）</a>　\
             <a href=\"/compose?resend_of={idu}\">更正或重發…</a></p>",
            mark = esc(&w.node.config.web.paper_mark)
        ));
        for c in &p.copies {
            let why = match c.status {
                CopyStatus::Returned => format!(
                    "{}{}",
                    c.return_reason.map(|r| r.label()).unwrap_or(""),
                    c.return_text
                        .as_deref()
                        .map(|t| format!("：{}", esc(t)))
                        .unwrap_or_default()
                ),
                CopyStatus::Failed => c
                    .fail_reason
                    .map(|r| r.label().to_string())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let who = match names.get(&c.recipient).filter(|n| !n.is_empty()) {
                Some(n) => format!("{n}（{}）", c.recipient),
                None => c.recipient.clone(),
            };
            b.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&who),
                esc(&c.copy),
                c.status.label(),
                esc(&roc(c.status_at)),
                why
            ));
        }
        b.push_str("</tbody></table></section>");
    }
    page("發文", Some((a, &s)), &b).into_response()
}

/// A sent document printed with a mark: for mailing on paper to a recipient that did not
/// confirm (已電子交換未確認), or for filing (已電子交換).
async fn marked(w: Web, headers: HeaderMap, id: String, filing: bool) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = async {
        let row = w
            .node
            .db
            .fetch_optional(
                "SELECT name, source FROM agent_sent WHERE agency = $1 AND package_id = $2",
                &[a.code.as_str().into(), id.as_str().into()],
            )
            .await?
            .ok_or_else(|| {
                Refusal::new(Code::NotFound, format!("本代理程式沒有送出 {id} 的檔案"))
            })?;
        let (name, source) = (row.text(0)?, row.text(1)?);
        let dir = match (&a.folders, source.as_str()) {
            (Some(f), "folder") => f.sent.join(&name),
            _ => w
                .node
                .config
                .data_dir
                .join("staged")
                .join(a.code.as_str())
                .join(&name),
        };
        let di = std::fs::read_dir(&dir)
            .ok()
            .and_then(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .find(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("di")))
            })
            .ok_or_else(|| Refusal::new(Code::NotFound, format!("{} 沒有 DI", dir.display())))?;
        let bytes = std::fs::read(&di).map_err(|e| Refusal::new(Code::Internal, e.to_string()))?;
        let doc = gongwen_doc::read_di(&bytes)
            .map_err(|e| Refusal::new(Code::AgentDocument, e.to_string()))?;
        let mark = if filing {
            "已電子交換".to_string()
        } else {
            w.node.config.web.paper_mark.clone()
        };
        super::inbox::pdf(
            doc,
            gongwen_render::RenderOptions {
                stamp: None,
                mark: Some(mark),
            },
        )
        .await
    }
    .await;
    match r {
        Ok(pdf) => ([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response(),
        Err(e) => error_page(Some((a, &s)), &e),
    }
}

pub async fn paper(
    State(w): State<Web>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    marked(w, headers, id, false).await
}

pub async fn filing(
    State(w): State<Web>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    marked(w, headers, id, true).await
}

fn duty_table(items: &[DutyItem], who: &str, paper: bool) -> String {
    if items.is_empty() {
        return "<p class=\"msg ok\">沒有待辦的項目。</p>".into();
    }
    let mut t = format!(
        "<table><thead><tr><th scope=\"col\">文號</th><th scope=\"col\">主旨</th><th scope=\"col\">{who}</th><th scope=\"col\">狀態</th><th scope=\"col\">應處理期限</th>{}</tr></thead><tbody>",
        if paper {
            "<th scope=\"col\" class=\"noprint\">紙本</th>"
        } else {
            ""
        }
    );
    for i in items {
        t.push_str(&format!(
            "<tr{cls}><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}{}</td>{paper}</tr>",
            esc(&i.doc_number),
            esc(&i.subject),
            if i.confirm_now {
                " <span class=\"badge urgent\">要求即時確認</span>"
            } else {
                ""
            },
            esc(&i.counterpart),
            i.status.label(),
            esc(&roc(i.due_at)),
            if i.overdue {
                " <strong>（已逾期）</strong>"
            } else {
                ""
            },
            cls = if i.overdue { " class=\"new\"" } else { "" },
            paper = if paper {
                format!(
                    "<td class=\"noprint\"><a href=\"/sent/{}/paper.pdf\">列印紙本</a></td>",
                    gongwen_client::encode_segment(&i.id)
                )
            } else {
                String::new()
            },
        ));
    }
    t.push_str("</tbody></table>");
    t
}

pub async fn duties(State(w): State<Web>, headers: HeaderMap) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let d = match a.center.duties().await {
        Ok(d) => d,
        Err(e) => return error_page(Some((a, &s)), &refusal_of(&e)),
    };
    let b = format!(
        "<p>查詢時間：{at}　<button type=\"button\" class=\"noprint\" data-print>列印清單</button></p>\
         <h2>發文：受文者未確認或被退文（次一工作日下午 2 時前查詢，並改以紙本寄發）</h2>{send}\
         <h2>收文：前一工作日收到、尚未簽收或退文（上午 10 時前處理）</h2>{recv}\
         <p>依臺北市政府公文電子交換作業要點第十二、十三點；時限依政府行政機關辦公日曆計算。</p>",
        at = esc(&roc(d.as_of)),
        send = duty_table(&d.sending, "受文者", true),
        recv = duty_table(&d.receiving, "發文機關", false),
    );
    page("待辦清單", Some((a, &s)), &b).into_response()
}
