//! The organisation's own things: its profile with the card certificates' expiry, its
//! distribution groups (行文群組), and the exchange records (search, CSV for Excel).

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use gongwen_net::Refusal;
use gongwen_net::html::esc;
use gongwen_proto::Code;
use gongwen_proto::api::record_kind_label;
use serde::Deserialize;

use super::{Web, error_page, login, page, roc};
use crate::send::refusal_of;

/// Days before a card certificate expires when the profile starts warning.
const WARN_DAYS: [i64; 3] = [60, 30, 7];

fn not_after(c: &x509_cert::Certificate) -> i64 {
    c.tbs_certificate
        .validity
        .not_after
        .to_unix_duration()
        .as_secs() as i64
}

pub async fn profile(State(w): State<Web>, headers: HeaderMap) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = w.node.clock.now_s();
    let mut warn = String::new();
    let mut rows = String::new();
    for (label, c) in [("簽章憑證", a.sign_cert()), ("加密憑證", a.enc_cert())] {
        let end = not_after(c);
        let days = (end - now).div_euclid(86_400);
        if days < 0 {
            warn.push_str(&format!(
                "<p class=\"msg\" role=\"alert\">{label}已於{}到期：無法收發公文，請向憑證管理中心辦理換發，並以新憑證申請異動。</p>",
                esc(&roc(end * 1000))
            ));
        } else if let Some(t) = WARN_DAYS.iter().rev().find(|t| days <= **t) {
            warn.push_str(&format!(
                "<p class=\"msg\" role=\"alert\">{label}將於 {days} 天後（{}）到期（{t} 天內）：請儘早辦理憑證 IC 卡屆期換發，並以新憑證申請異動。</p>",
                esc(&roc(end * 1000))
            ));
        }
        rows.push_str(&format!(
            "<tr><th scope=\"row\">{label}</th><td>{}</td><td>{}（尚有 {days} 天）</td></tr>",
            esc(&c.tbs_certificate.subject.to_string()),
            esc(&roc(end * 1000))
        ));
    }
    let apply = match &w.node.config.web.directory_url {
        Some(u) => format!(
            "<p><a href=\"{}/apply\">申請異動（名稱、聯絡人、憑證、IP）或註銷</a>：以本機關憑證卡簽署申請書，經審核後生效。</p>",
            esc(u.trim_end_matches('/'))
        ),
        None => {
            "<p>要變更登記資料（名稱、聯絡人、憑證、IP）或註銷，請向通訊錄服務提出異動申請。</p>"
                .into()
        }
    };
    let body = format!(
        "{warn}<table><tbody>\
         <tr><th scope=\"row\">機關代碼</th><td colspan=\"2\">{code}</td></tr>\
         <tr><th scope=\"row\">名稱</th><td colspan=\"2\">{name}</td></tr>\
         <tr><th scope=\"row\">發文代字</th><td colspan=\"2\">{word}</td></tr>\
         <tr><th scope=\"row\">交換中心</th><td colspan=\"2\">{center}</td></tr>\
         <tr><th scope=\"row\">登入者</th><td colspan=\"2\">{user}</td></tr>\
         {rows}</tbody></table>{apply}",
        code = esc(a.code.as_str()),
        name = esc(a.name.as_deref().unwrap_or("")),
        word = esc(a.word.as_deref().unwrap_or("（未設定）")),
        center = esc(a.center.base()),
        user = esc(&s.user),
    );
    page("本機關資料", Some((a, &s)), &body).into_response()
}

pub async fn groups(State(w): State<Web>, headers: HeaderMap) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let list = match a.center.groups().await {
        Ok(l) => l,
        Err(e) => return error_page(Some((a, &s)), &refusal_of(&e)),
    };
    let csrf = esc(&s.csrf);
    let mut b = String::from(
        "<p>行文群組是經常行文對象的分組；撰寫公文時勾選群組即加入正本。共用群組由交換中心維護，本機關的群組在這裡管理。</p>\
         <table><thead><tr><th scope=\"col\">群組</th><th scope=\"col\">維護者</th><th scope=\"col\">成員</th><th scope=\"col\">處理</th></tr></thead><tbody>",
    );
    for g in &list {
        let own = g.owner == a.code.as_str();
        b.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&g.name),
            if own { "本機關" } else { "共用" },
            esc(&g.members.join("、")),
            if own {
                format!(
                    "<form method=\"post\" action=\"/groups/delete\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                     <input type=\"hidden\" name=\"name\" value=\"{}\"><button>刪除</button></form>",
                    esc(&g.name)
                )
            } else {
                String::new()
            }
        ));
    }
    b.push_str(&format!(
        "</tbody></table><h2>新增或修改本機關的群組</h2><form method=\"post\" action=\"/groups\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <p><label>群組名稱 <input name=\"name\" required maxlength=\"50\"></label></p>\
         <p><label for=\"members\">成員（每行一個機關代碼；同名群組的成員會被取代）</label><br><textarea id=\"members\" name=\"members\" rows=\"5\" required></textarea></p>\
         <button>儲存</button></form>"
    ));
    page("行文群組", Some((a, &s)), &b).into_response()
}

#[derive(Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    members: String,
}

pub async fn put_group(
    State(w): State<Web>,
    headers: HeaderMap,
    Form(f): Form<GroupForm>,
) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = async {
        login::csrf_ok(&s, &f.csrf)?;
        let members: Vec<String> = f
            .members
            .split(|c: char| c.is_whitespace() || c == ',' || c == '、')
            .filter(|m| !m.is_empty())
            .map(|m| m.to_uppercase())
            .collect();
        a.center
            .put_group(f.name.trim(), members)
            .await
            .map_err(|e| refusal_of(&e))
    }
    .await;
    match r {
        Ok(_) => Redirect::to("/groups").into_response(),
        Err(e) => error_page(Some((a, &s)), &e),
    }
}

pub async fn delete_group(
    State(w): State<Web>,
    headers: HeaderMap,
    Form(f): Form<GroupForm>,
) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = async {
        login::csrf_ok(&s, &f.csrf)?;
        a.center
            .delete_group(f.name.trim())
            .await
            .map_err(|e| refusal_of(&e))
    }
    .await;
    match r {
        Ok(()) => Redirect::to("/groups").into_response(),
        Err(e) => error_page(Some((a, &s)), &e),
    }
}

#[derive(Deserialize, Default)]
pub struct RecordForm {
    /// yyyy-mm-dd (the browser's date input), Asia/Taipei.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    doc_number: String,
    #[serde(default)]
    kind: String,
}

/// Midnight (Asia/Taipei) of a yyyy-mm-dd date, in Unix milliseconds.
fn taipei_midnight(date: &str) -> Result<Option<i64>, Refusal> {
    if date.trim().is_empty() {
        return Ok(None);
    }
    let bad = || Refusal::new(Code::BadRequest, format!("日期「{date}」應為 yyyy-mm-dd"));
    let mut p = date.trim().split('-').map(|x| x.parse::<i64>());
    let (Some(Ok(y)), Some(Ok(m)), Some(Ok(d)), None) = (p.next(), p.next(), p.next(), p.next())
    else {
        return Err(bad());
    };
    let month = time::Month::try_from(u8::try_from(m).map_err(|_| bad())?).map_err(|_| bad())?;
    let day = time::Date::from_calendar_date(
        i32::try_from(y).map_err(|_| bad())?,
        month,
        u8::try_from(d).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    let secs = day.midnight().assume_utc().unix_timestamp() - 8 * 3600;
    Ok(Some(secs * 1000))
}

/// The kinds one may filter by (labels from [`record_kind_label`], defined once).
const KINDS: [&str; 10] = [
    "",
    "accepted",
    "relayed",
    "available",
    "delivered",
    "confirmed",
    "returned",
    "failed",
    "security_event",
    "error",
];

fn query_of(q: &RecordForm) -> Result<Vec<(&'static str, String)>, Refusal> {
    let mut out = Vec::new();
    if let Some(f) = taipei_midnight(&q.from)? {
        out.push(("from", f.to_string()));
    }
    if let Some(t) = taipei_midnight(&q.to)? {
        // The whole of the last day.
        out.push(("to", (t + 86_400_000).to_string()));
    }
    if !q.doc_number.trim().is_empty() {
        out.push(("doc_number", q.doc_number.trim().to_string()));
    }
    if !q.kind.is_empty() {
        if !KINDS.contains(&q.kind.as_str()) {
            return Err(Refusal::new(
                Code::BadRequest,
                format!("紀錄種類「{}」不認得", q.kind),
            ));
        }
        out.push(("kind", q.kind.clone()));
    }
    out.push(("limit", "1000".into()));
    Ok(out)
}

pub async fn records(
    State(w): State<Web>,
    headers: HeaderMap,
    Query(q): Query<RecordForm>,
) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = async {
        let query = query_of(&q)?;
        let args: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        a.center.records(&args).await.map_err(|e| refusal_of(&e))
    }
    .await;
    let page_data = match r {
        Ok(p) => p,
        Err(e) => return error_page(Some((a, &s)), &e),
    };
    let kinds: String = KINDS
        .iter()
        .map(|k| {
            format!(
                "<option value=\"{k}\"{}>{}</option>",
                if *k == q.kind { " selected" } else { "" },
                if k.is_empty() {
                    "全部".to_string()
                } else {
                    record_kind_label(k)
                }
            )
        })
        .collect();
    let qs = format!(
        "from={}&to={}&doc_number={}&kind={}",
        gongwen_client::encode_segment(&q.from),
        gongwen_client::encode_segment(&q.to),
        gongwen_client::encode_segment(&q.doc_number),
        gongwen_client::encode_segment(&q.kind)
    );
    let mut b = format!(
        "<form method=\"get\" action=\"/records\"><p>\
         <label>起 <input type=\"date\" name=\"from\" value=\"{}\"></label> \
         <label>迄 <input type=\"date\" name=\"to\" value=\"{}\"></label> \
         <label>文號 <input name=\"doc_number\" value=\"{}\"></label> \
         <label>種類 <select name=\"kind\">{kinds}</select></label> <button>查詢</button></p></form>\
         <p><a href=\"/records.csv?{qs}\">匯出 CSV（Excel 可直接開啟）</a>　共 {} 筆（紀錄保存至少一年）</p>\
         <table><thead><tr><th scope=\"col\">時間</th><th scope=\"col\">種類</th><th scope=\"col\">文號</th><th scope=\"col\">收文者</th><th scope=\"col\">由</th><th scope=\"col\">說明</th></tr></thead><tbody>",
        esc(&q.from),
        esc(&q.to),
        esc(&q.doc_number),
        page_data.items.len()
    );
    for r in &page_data.items {
        let label = r.kind_label();
        b.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&roc(r.at)),
            esc(&label),
            esc(r.doc_number.as_deref().unwrap_or("")),
            esc(r.recipient.as_deref().unwrap_or("")),
            esc(&r.actor),
            esc(r.detail.as_deref().unwrap_or(""))
        ));
    }
    b.push_str("</tbody></table>");
    page("交換紀錄", Some((a, &s)), &b).into_response()
}

pub async fn records_csv(
    State(w): State<Web>,
    headers: HeaderMap,
    Query(q): Query<RecordForm>,
) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let r = async {
        let query = query_of(&q)?;
        let args: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        a.center
            .records_csv(&args)
            .await
            .map_err(|e| refusal_of(&e))
    }
    .await;
    match r {
        // With a BOM, so Excel on an office PC reads it as UTF-8.
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename*=UTF-8''{}",
                        gongwen_client::encode_segment("交換紀錄.csv")
                    ),
                ),
            ],
            format!("\u{FEFF}{csv}"),
        )
            .into_response(),
        Err(e) => error_page(Some((a, &s)), &e),
    }
}
