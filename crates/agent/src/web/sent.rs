//! 發文 and the daily duty lists: each recipient's status as the center reports it (送達,
//! 確認, 退文 with the reason, failed), and the lists the rules ask for — copies not confirmed
//! by 14:00 of the next working day (send them on paper) and documents received the working
//! day before that are not yet handled by 10:00.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use gongwen_net::html::esc;
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
            b.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.recipient),
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

fn duty_table(items: &[DutyItem], who: &str) -> String {
    if items.is_empty() {
        return "<p class=\"msg ok\">沒有待辦的項目。</p>".into();
    }
    let mut t = format!(
        "<table><thead><tr><th scope=\"col\">文號</th><th scope=\"col\">主旨</th><th scope=\"col\">{who}</th><th scope=\"col\">狀態</th><th scope=\"col\">應處理期限</th></tr></thead><tbody>"
    );
    for i in items {
        t.push_str(&format!(
            "<tr{cls}><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
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
        "<p>查詢時間：{at}　<button type=\"button\" class=\"noprint\" onclick=\"window.print()\">列印清單</button></p>\
         <h2>發文：受文者未確認或被退文（次一工作日下午 2 時前查詢，並改以紙本寄發）</h2>{send}\
         <h2>收文：前一工作日收到、尚未簽收或退文（上午 10 時前處理）</h2>{recv}\
         <p>依臺北市政府公文電子交換作業要點第十二、十三點；時限依政府行政機關辦公日曆計算。</p>",
        at = esc(&roc(d.as_of)),
        send = duty_table(&d.sending, "受文者"),
        recv = duty_table(&d.receiving, "發文機關"),
    );
    page("待辦清單", Some((a, &s)), &b).into_response()
}
