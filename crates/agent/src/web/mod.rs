//! The web client (WebjAgent): server-rendered zh-TW pages for organisations that send and
//! receive in the browser. Sign-in is with the organisation's card (a challenge signed by
//! `gongwen signer`, or pasted from it); the session cookie is HttpOnly and SameSite=Strict,
//! expires after 30 idle minutes or 10 hours, and every form carries the session's CSRF
//! token. Pages need no script except the one button that asks the local signer.

mod account;
mod compose;
mod inbox;
mod login;
mod sent;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gongwen_net::Refusal;
use gongwen_net::html::esc;

use crate::{Agency, Shared};

pub use login::{CHALLENGE_HEAD, Session};

#[derive(Clone)]
pub struct Web {
    pub node: Shared,
    /// Cookies get `Secure` when the listener is HTTPS.
    pub secure: bool,
}

pub fn router(node: Shared, secure: bool, limit: usize) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/compose", get(compose::show))
        .route("/compose/recipients", get(compose::recipients))
        .route("/compose/preview", post(compose::preview))
        .route("/compose/send", post(compose::send))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/inbox", get(inbox::list))
        .route("/inbox/{id}", get(inbox::show))
        .route("/inbox/{id}/document", get(inbox::document_html))
        .route("/inbox/{id}/print.pdf", get(inbox::print))
        .route("/inbox/{id}/files/{name}", get(inbox::file))
        .route("/inbox/{id}/confirm", post(inbox::confirm))
        .route("/inbox/{id}/return", post(inbox::return_doc))
        .route("/sent", get(sent::list))
        .route("/sent/{id}/paper.pdf", get(sent::paper))
        .route("/sent/{id}/filing.pdf", get(sent::filing))
        .route("/duties", get(sent::duties))
        .route("/records", get(account::records))
        .route("/records.csv", get(account::records_csv))
        .route("/groups", get(account::groups).post(account::put_group))
        .route("/groups/delete", post(account::delete_group))
        .route("/profile", get(account::profile))
        .layer(axum::extract::DefaultBodyLimit::max(
            limit.saturating_add(1024 * 1024),
        ))
        .with_state(Web { node, secure })
}

async fn home(axum::extract::State(w): axum::extract::State<Web>, headers: HeaderMap) -> Response {
    match login::session(&w, &headers).await {
        Some(_) => Redirect::to("/inbox").into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

const STYLE: &str = "body{font-family:'Noto Sans TC','Microsoft JhengHei',sans-serif;margin:0;color:#1a1a1a;line-height:1.6}\
header{background:#1f4e79;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}\
header a{color:#fff}header form{margin:0 0 0 auto}main{max-width:64rem;margin:1rem auto;padding:0 1rem}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#eef3f8}.msg{padding:.5rem 1rem;border-left:4px solid #b00;background:#fdf0f0}\
.ok{border-color:#2a7a2a;background:#eef8ee}.badge{display:inline-block;padding:0 .4rem;border:1px solid #555;border-radius:.3rem;font-size:.9em}\
.urgent{border-color:#b00;color:#b00;font-weight:bold}.new{font-weight:bold}\
input,textarea,select,button{font:inherit}textarea{width:100%}button{padding:.3rem 1rem}\
a:focus,button:focus,input:focus,textarea:focus,select:focus{outline:3px solid #f0a500}\
.doc{border:1px solid #ccc;padding:1rem;background:#fff;overflow-x:auto}\
@media print{header,form,.noprint{display:none}}";

/// A page of the web client; `who` is the signed-in organisation (and the session's CSRF
/// token, for the sign-out button).
pub(crate) fn page(title: &str, who: Option<(&Agency, &Session)>, body: &str) -> Html<String> {
    let nav = match who {
        Some((a, s)) => format!(
            "<nav aria-label=\"主選單\"><a href=\"/inbox\">收文</a>　<a href=\"/compose\">撰寫</a>　<a href=\"/sent\">發文</a>　<a href=\"/duties\">待辦清單</a>　<a href=\"/records\">交換紀錄</a>　<a href=\"/groups\">行文群組</a>　<a href=\"/profile\">本機關資料</a></nav>\
             <form method=\"post\" action=\"/logout\"><span>{}（{}）｜登入者：{}</span> \
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button>登出</button></form>",
            esc(a.name.as_deref().unwrap_or(a.code.as_str())),
            esc(a.code.as_str()),
            esc(&s.user),
            esc(&s.csrf)
        ),
        None => String::new(),
    };
    Html(format!(
        "<!doctype html><html lang=\"zh-Hant-TW\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{t}－公文電子交換</title>\
         <style>{STYLE}</style></head><body><header><strong>公文電子交換（網頁版）</strong>{nav}</header>\
         <main><h1>{t}</h1>{body}</main></body></html>",
        t = esc(title)
    ))
}

/// A refusal as a page, with the way back; what the user typed is kept by the browser's back.
pub(crate) fn error_page(who: Option<(&Agency, &Session)>, e: &Refusal) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        page(
            "無法完成",
            who,
            &format!(
                "<p class=\"msg\" role=\"alert\">{}：{}（{}）</p><p><a href=\"javascript:history.back()\">返回上一頁</a></p>",
                esc(e.code.message()),
                esc(&e.detail),
                e.code.as_str()
            ),
        ),
    )
        .into_response()
}

/// Date and time as people read them (中華民國115年1月5日 10:30), Asia/Taipei.
pub(crate) fn roc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let local = (secs + 8 * 3600).rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}",
        gongwen_trust::path::roc_datetime(secs),
        local / 3600,
        local % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_in_taipei() {
        // 2026-01-05 02:30 UTC is 10:30 in Taipei.
        assert_eq!(super::roc(1_767_580_200_000), "中華民國115年1月5日 10:30");
        assert_eq!(super::roc(0), "中華民國59年1月1日 08:00");
    }
}
