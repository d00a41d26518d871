//! The directory's pages (zh-TW, server-rendered, no script needed except to upload a signed
//! file): the address book, how to apply and where an application stands, and the reviewers'
//! queue and decisions. Reviewers sign in with their API token; the session is a random
//! cookie (HttpOnly, SameSite=Strict, 8 hours) and every form carries its CSRF token.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use gongwen_proto::Code;
use gongwen_store::{random_hex, sha256_hex};
use serde::Deserialize;

use crate::accounts::{self, Account};
use crate::addressbook;
use crate::app::Shared;
use crate::applications::{self, AppState};
use crate::audit;
use crate::error::DirectoryError;
use crate::improvements;

const SESSION_COOKIE: &str = "gongwen_dir_session";
const SESSION_MS: i64 = 8 * 3_600_000;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/", get(home))
        .route("/static/{name}", get(static_file))
        .route("/address-book", get(address_book))
        .route("/apply", get(apply))
        .route("/apply/form", get(apply_form).post(make_form))
        .route("/applications/{id}", get(application))
        .route("/review/login", get(login_page).post(login))
        .route("/review/logout", post(logout))
        .route("/review", get(queue))
        .route("/review/{id}", get(review_page).post(review))
}

pub use gongwen_net::html::esc;

/// The pages' one style sheet and one script: nothing inline, so the Content-Security-Policy
/// forbids inline script and style.
const STYLE: &str = include_str!("../static/directory.css");
const SCRIPT: &str = include_str!("../static/directory.js");

async fn static_file(Path(name): Path<String>) -> Response {
    let (kind, body) = match name.as_str() {
        "directory.css" => ("text/css; charset=utf-8", STYLE),
        "directory.js" => ("text/javascript; charset=utf-8", SCRIPT),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"zh-Hant-TW\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{t}－公文電子交換通訊錄</title>\
         <link rel=\"stylesheet\" href=\"/static/directory.css\"><script src=\"/static/directory.js\" defer></script></head><body><header><strong>公文電子交換通訊錄</strong>　\
         <a href=\"/address-book\">地址簿</a><a href=\"/apply\">申請連線</a><a href=\"/review\">審核</a></header>\
         <main><h1>{t}</h1>{body}</main></body></html>",
        t = esc(title)
    ))
}

fn error_page(status: StatusCode, e: &DirectoryError) -> Response {
    (
        status,
        page(
            "無法完成",
            &format!(
                "<p class=\"msg\" role=\"alert\">{}：{}</p><p><a href=\"/\" data-back>返回上一頁</a></p>",
                esc(e.code.message()),
                esc(&e.public_detail())
            ),
        ),
    )
        .into_response()
}

fn roc(ms: i64) -> String {
    gongwen_trust::path::roc_datetime(ms / 1000)
}

async fn home() -> Html<String> {
    page(
        "首頁",
        "<ul><li><a href=\"/address-book\">查詢地址簿</a>：機關代碼或名稱（臺／台、全形／半形都可以）</li>\
         <li><a href=\"/apply\">申請連線</a>：新申請、異動、註銷，與查詢申請進度</li>\
         <li><a href=\"/review\">審核</a>：審核機關（初審）與交換中心管理機關（複審）</li></ul>",
    )
}

#[derive(Deserialize)]
struct BookQuery {
    #[serde(default)]
    q: String,
}

async fn address_book(State(app): State<Shared>, Query(q): Query<BookQuery>) -> Response {
    let query = q.q.trim();
    let mut body = format!(
        "<form method=\"get\"><label>機關代碼或名稱 <input name=\"q\" value=\"{}\" autofocus></label> \
         <button>查詢</button> <a href=\"/api/v1/address-book?format=csv\">下載整本地址簿（CSV）</a></form>",
        esc(query)
    );
    if !query.is_empty() {
        match addressbook::search(&app.db, Some(query), 200).await {
            Ok(list) if list.is_empty() => body.push_str("<p>沒有符合的機關。</p>"),
            Ok(list) => {
                body.push_str("<table><tr><th>機關代碼</th><th>名稱</th><th>狀態</th><th>交換中心</th><th>更新時間</th></tr>");
                for e in &list {
                    let state = e.state.label();
                    body.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{state}</td><td>{}</td><td>{}</td></tr>",
                        esc(&e.orgid),
                        esc(&e.orgname),
                        esc(&e.center),
                        esc(&e.updatetime)
                    ));
                }
                body.push_str(&format!(
                    "</table><p>共 {} 筆（最多列出 200 筆）</p>",
                    list.len()
                ));
            }
            Err(e) => return error_page(StatusCode::SERVICE_UNAVAILABLE, &e),
        }
    }
    page("地址簿", &body).into_response()
}

async fn apply() -> Html<String> {
    page(
        "申請連線",
        "<ol><li><a href=\"/apply/form\">線上填寫申請書</a>（新申請、異動或註銷），勾選同意使用規範，下載申請書檔（JSON）。</li>\
         <li>以貴機關的憑證 IC 卡（簽章用）簽署申請書：<code>gongwen directory application sign 申請書.json --cert 卡片憑證.pem --key pkcs11:… -o 申請書.p7</code>。\
         簽章即證明貴機關持有該憑證。</li>\
         <li>在下方選擇簽署好的檔案送出，記下申請案編號；之後可在本網站查詢進度。補正時在申請案頁面重新上傳。</li></ol>\
         <form id=\"up\" data-url=\"/api/v1/applications\" data-method=\"POST\" data-then=\"open\"><label>簽署好的申請書（.p7） <input type=\"file\" id=\"file\" required></label> <button>送出申請</button></form>\
         <p id=\"result\" role=\"status\"></p>\
         <h2>查詢申請進度</h2><form method=\"get\" action=\"/applications/\" id=\"find\">\
         <label>申請案編號 <input name=\"id\" required></label> <button>查詢</button></form>",
    )
}

/// What the applicant typed, kept as typed so a mistake loses nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApplyForm {
    kind: String,
    code: String,
    name: String,
    participant_kind: String,
    ubn: String,
    authority: String,
    center: String,
    receive: Option<String>,
    send: Option<String>,
    card_number: String,
    card_activated_on: String,
    certificates: String,
    ips: String,
    contact_name: String,
    contact_phone: String,
    contact_email: String,
    agree: Option<String>,
    reason: String,
}

fn select(name: &str, options: &[(&str, &str)], chosen: &str) -> String {
    let mut s = format!("<select name=\"{name}\" id=\"{name}\">");
    for (v, label) in options {
        s.push_str(&format!(
            "<option value=\"{}\"{}>{}</option>",
            esc(v),
            if *v == chosen { " selected" } else { "" },
            esc(label)
        ));
    }
    s.push_str("</select>");
    s
}

fn form_page(
    f: &ApplyForm,
    centers: &[crate::registry::Center],
    rules: &str,
    error: Option<&str>,
) -> Html<String> {
    use gongwen_proto::directory::ParticipantKind;
    let text = |name: &str, label: &str, value: &str, required: bool| {
        format!(
            "<p><label for=\"{name}\">{label}{}</label><br><input id=\"{name}\" name=\"{name}\" value=\"{}\"{}></p>",
            if required { "＊" } else { "" },
            esc(value),
            if required { " required" } else { "" }
        )
    };
    let kinds: Vec<(&str, &str)> = ParticipantKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.label()))
        .collect();
    let center_opts: Vec<(&str, String)> = centers
        .iter()
        .map(|c| {
            (
                c.id.as_str(),
                format!("{}（{}，{}）", c.name, c.id, c.kind.label()),
            )
        })
        .collect();
    let center_opts: Vec<(&str, &str)> =
        center_opts.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let new_form = f.kind.is_empty();
    let checked = |v: &Option<String>| {
        if v.is_some() || new_form {
            " checked"
        } else {
            ""
        }
    };
    let body = format!(
        "{err}<p>標示＊者必填。填好後按「下載申請書」，再以機關憑證 IC 卡簽署（見<a href=\"/apply\">申請連線</a>）。</p>\
         <form method=\"post\">\
         <p><label for=\"kind\">申請種類＊</label><br>{kind}</p>{code}{name}\
         <p><label for=\"participant_kind\">機關種類＊</label><br>{pk}</p>{ubn}{authority}\
         <p><label for=\"center\">交換中心＊</label><br>{center}</p>\
         <p><label><input type=\"checkbox\" name=\"receive\" value=\"1\"{recv}> 收文功能</label>\
         <label><input type=\"checkbox\" name=\"send\" value=\"1\"{send}> 發文功能</label></p>\
         {card}{card_on}\
         <p><label for=\"certificates\">憑證（PEM：簽章、加密、TLS 用戶端；可貼上多張）</label><br>\
         <textarea id=\"certificates\" name=\"certificates\" rows=\"6\">{certs}</textarea></p>\
         <p><label for=\"ips\">固定 IP 位址（每行一個；第二個起須經核准）</label><br>\
         <textarea id=\"ips\" name=\"ips\" rows=\"2\">{ips}</textarea></p>\
         {cn}{cp}{ce}\
         <p><label for=\"reason\">原因（異動、註銷時必填）</label><br><input id=\"reason\" name=\"reason\" value=\"{reason}\"></p>\
         <p><label><input type=\"checkbox\" name=\"agree\" value=\"1\"{agree}> 本機關同意遵守「{rules}」＊</label></p>\
         <button>下載申請書</button></form>",
        err = error
            .map(|e| format!("<p class=\"msg\" role=\"alert\">{}</p>", esc(e)))
            .unwrap_or_default(),
        kind = select(
            "kind",
            &[("new", "新申請"), ("change", "異動"), ("cancel", "註銷")],
            &f.kind
        ),
        code = text("code", "機關代碼", &f.code, true),
        name = text("name", "機關名稱（全銜）", &f.name, true),
        pk = select("participant_kind", &kinds, &f.participant_kind),
        ubn = text("ubn", "統一編號", &f.ubn, false),
        authority = text("authority", "審核機關的機關代碼", &f.authority, true),
        center = select("center", &center_opts, &f.center),
        recv = checked(&f.receive),
        send = checked(&f.send),
        card = text("card_number", "憑證卡號", &f.card_number, false),
        card_on = text(
            "card_activated_on",
            "憑證啟用日期（YYYY-MM-DD）",
            &f.card_activated_on,
            false
        ),
        certs = esc(&f.certificates),
        ips = esc(&f.ips),
        cn = text("contact_name", "聯絡人", &f.contact_name, true),
        cp = text("contact_phone", "聯絡電話", &f.contact_phone, true),
        ce = text("contact_email", "電子郵件", &f.contact_email, true),
        reason = esc(&f.reason),
        agree = if f.agree.is_some() { " checked" } else { "" },
        rules = esc(rules),
    );
    page("填寫申請書", &body)
}

async fn apply_form(State(app): State<Shared>) -> Response {
    match crate::registry::centers(&app.db).await {
        Ok(c) => {
            form_page(&ApplyForm::default(), &c, &app.config.usage_rules, None).into_response()
        }
        Err(e) => error_page(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}

/// Checks what was typed and hands back the form file to sign; on a mistake, the same page
/// with the message and everything typed.
async fn make_form(State(app): State<Shared>, Form(f): Form<ApplyForm>) -> Response {
    let centers = match crate::registry::centers(&app.db).await {
        Ok(c) => c,
        Err(e) => return error_page(StatusCode::SERVICE_UNAVAILABLE, &e),
    };
    let built = build_form(&f, &app.config.usage_rules, app.clock.now_ms());
    match built {
        Ok(form) => {
            let json = serde_json::to_string_pretty(&form).unwrap_or_default();
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/json; charset=utf-8".to_string(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"application-{}.json\"", form.code),
                    ),
                ],
                json,
            )
                .into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            form_page(&f, &centers, &app.config.usage_rules, Some(&e)),
        )
            .into_response(),
    }
}

fn build_form(
    f: &ApplyForm,
    rules: &str,
    now: i64,
) -> Result<gongwen_proto::directory::ApplicationForm, String> {
    use gongwen_proto::directory::{Agreement, ApplicationForm, ApplicationKind, ParticipantKind};
    if f.agree.is_none() {
        return Err(format!("須勾選同意遵守「{rules}」"));
    }
    let kind = match f.kind.as_str() {
        "new" => ApplicationKind::New,
        "change" => ApplicationKind::Change,
        "cancel" => ApplicationKind::Cancel,
        other => return Err(format!("申請種類「{other}」不認得")),
    };
    let participant_kind = ParticipantKind::parse(&f.participant_kind)
        .ok_or_else(|| format!("機關種類「{}」不認得", f.participant_kind))?;
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let mut certificates = Vec::new();
    if !f.certificates.trim().is_empty() {
        let certs =
            crate::registry::read_certs(f.certificates.as_bytes(), None).map_err(|e| e.detail)?;
        for c in certs {
            certificates.push(
                der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &c.der)
                    .map_err(|e| e.to_string())?,
            );
        }
    }
    let form = ApplicationForm {
        kind,
        code: f.code.trim().to_ascii_uppercase(),
        name: f.name.trim().to_string(),
        participant_kind,
        ubn: opt(&f.ubn),
        authority: f.authority.trim().to_ascii_uppercase(),
        center: f.center.trim().to_string(),
        receive: f.receive.is_some(),
        send: f.send.is_some(),
        card_number: opt(&f.card_number),
        card_activated_on: opt(&f.card_activated_on),
        certificates,
        ips: f
            .ips
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        contact_name: f.contact_name.trim().to_string(),
        contact_phone: f.contact_phone.trim().to_string(),
        contact_email: f.contact_email.trim().to_string(),
        agreement: Agreement {
            rules: rules.to_string(),
            agreed_at: now,
        },
        reason: opt(&f.reason),
    };
    applications::check_form(&form, now).map_err(|e| e.detail)?;
    Ok(form)
}

fn steps_table(entries: &[audit::Entry]) -> String {
    let mut s = String::from("<table><tr><th>時間</th><th>誰</th><th>做了什麼</th></tr>");
    for e in entries {
        let what = match e.entry.action.as_str() {
            "application.submitted" => "送出申請",
            "application.corrected" => "補正",
            "application.first_approved" => "初審同意",
            "application.correction_requested" => "要求補正",
            "application.rejected" => "不同意",
            "application.activated" => "複審同意，開通",
            other => other,
        };
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            roc(e.entry.at),
            esc(&e.entry.actor),
            esc(what)
        ));
    }
    s.push_str("</table>");
    s
}

fn application_summary(a: &applications::Application) -> String {
    let f = &a.form;
    format!(
        "<table><tr><th>申請案</th><td>{id}（{kind}）</td></tr><tr><th>狀態</th><td><strong>{state}</strong></td></tr>\
         <tr><th>機關</th><td>{name}（{code}），{pk}</td></tr><tr><th>統一編號</th><td>{ubn}</td></tr>\
         <tr><th>審核機關</th><td>{auth}</td></tr><tr><th>交換中心</th><td>{center}</td></tr>\
         <tr><th>固定 IP</th><td>{ips}</td></tr><tr><th>聯絡人</th><td>{cn} {cp} {ce}</td></tr>\
         <tr><th>同意使用規範</th><td>{rules}（{agreed}）</td></tr>{msg}</table>",
        id = esc(&a.id),
        kind = f.kind.label(),
        state = a.state.label(),
        name = esc(&f.name),
        code = esc(&f.code),
        pk = f.participant_kind.label(),
        ubn = esc(f.ubn.as_deref().unwrap_or("無")),
        auth = esc(&f.authority),
        center = esc(&f.center),
        ips = esc(&f.ips.join("、")),
        cn = esc(&f.contact_name),
        cp = esc(&f.contact_phone),
        ce = esc(&f.contact_email),
        rules = esc(&f.agreement.rules),
        agreed = roc(f.agreement.agreed_at),
        msg = a
            .message
            .as_deref()
            .map(|m| format!("<tr><th>審核意見</th><td>{}</td></tr>", esc(m)))
            .unwrap_or_default(),
    )
}

async fn application(State(app): State<Shared>, Path(id): Path<String>) -> Response {
    let a = match applications::get(&app.db, &id).await {
        Ok(a) => a,
        Err(e) => return error_page(StatusCode::NOT_FOUND, &e),
    };
    let steps = audit::history(&app.db, &format!("application:{}", a.id))
        .await
        .unwrap_or_default();
    let mut body = application_summary(&a);
    if a.state == AppState::Correction {
        body.push_str(&format!(
            "<p class=\"msg\">請依審核意見修正申請書、重新簽署後上傳：</p>\
             <form id=\"up\" data-url=\"/api/v1/applications/{id}\" data-method=\"PUT\" data-then=\"reload\"><input type=\"file\" id=\"file\" required> <button>上傳補正</button></form><p id=\"result\" role=\"status\"></p>",
            id = esc(&a.id)
        ));
    }
    body.push_str("<h2>處理經過</h2>");
    body.push_str(&steps_table(&steps));
    page("申請案", &body).into_response()
}

// ---------------------------------------------------------------------------
// Reviewers

/// The signed-in reviewer and the session's CSRF token.
async fn session(app: &Shared, headers: &HeaderMap) -> Option<(Account, String)> {
    let id = gongwen_net::html::cookie(headers, SESSION_COOKIE)?;
    let r = app
        .db
        .fetch_optional(
            "SELECT account, csrf FROM dir_sessions WHERE id_sha256 = $1 AND expires_at > $2",
            &[sha256_hex(id.as_bytes()).into(), app.clock.now_ms().into()],
        )
        .await
        .ok()??;
    let account = accounts::get(&app.db, &r.text(0).ok()?).await.ok()?;
    Some((account, r.text(1).ok()?))
}

fn to_login() -> Response {
    Redirect::to("/review/login").into_response()
}

async fn login_page() -> Html<String> {
    login_form(None)
}

fn login_form(error: Option<&str>) -> Html<String> {
    page(
        "審核登入",
        &format!(
            "{}<form method=\"post\"><p><label>帳號 <input name=\"name\" required autofocus autocomplete=\"username\"></label></p>\
             <p><label>API 權杖 <input name=\"token\" type=\"password\" required autocomplete=\"current-password\"></label></p>\
             <button>登入</button></form><p>帳號與權杖由通訊錄管理者以 <code>gongwen directory account</code> 建立。</p>",
            error
                .map(|e| format!("<p class=\"msg\" role=\"alert\">{}</p>", esc(e)))
                .unwrap_or_default()
        ),
    )
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    token: String,
}

async fn login(State(app): State<Shared>, Form(f): Form<LoginForm>) -> Response {
    let now = app.clock.now_ms();
    let who = match accounts::by_token(&app.db, f.token.trim()).await {
        Ok(a) if a.name == f.name.trim() => a,
        _ => {
            return (StatusCode::FORBIDDEN, login_form(Some("帳號或權杖不正確"))).into_response();
        }
    };
    let id = random_hex(24);
    let csrf = random_hex(16);
    let r = async {
        let mut tx = app.db.begin().await?;
        tx.execute("DELETE FROM dir_sessions WHERE expires_at < $1", &[now.into()])
            .await?;
        tx.execute(
            "INSERT INTO dir_sessions (id_sha256, account, csrf, expires_at) VALUES ($1, $2, $3, $4)",
            &[
                sha256_hex(id.as_bytes()).into(),
                who.name.as_str().into(),
                csrf.as_str().into(),
                (now + SESSION_MS).into(),
            ],
        )
        .await?;
        audit::record(&mut tx, now, &who.actor(), "account.login", &format!("account:{}", who.name), "{}".into())
        .await?;
        tx.commit().await?;
        Ok::<_, DirectoryError>(())
    }
    .await;
    if let Err(e) = r {
        return error_page(StatusCode::SERVICE_UNAVAILABLE, &e);
    }
    (
        [(
            header::SET_COOKIE,
            format!(
                "{SESSION_COOKIE}={id}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
                SESSION_MS / 1000
            ),
        )],
        Redirect::to("/review"),
    )
        .into_response()
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(app): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Some((_, csrf)) = session(&app, &headers).await
        && csrf == f.csrf
        && let Some(id) = gongwen_net::html::cookie(&headers, SESSION_COOKIE)
    {
        let _ = app
            .db
            .execute(
                "DELETE FROM dir_sessions WHERE id_sha256 = $1",
                &[sha256_hex(id.as_bytes()).into()],
            )
            .await;
    }
    (
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; Max-Age=0"),
        )],
        Redirect::to("/review/login"),
    )
        .into_response()
}

fn signed_in_bar(who: &Account, csrf: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/review/logout\"><p>{}（{}{}）\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"> <button>登出</button></p></form>",
        esc(&who.display_name),
        who.role.label(),
        who.scope
            .as_deref()
            .map(|s| format!("，{}", esc(s)))
            .unwrap_or_default(),
        esc(csrf)
    )
}

#[derive(Deserialize)]
struct QueueQuery {
    #[serde(default)]
    state: String,
}

async fn queue(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<QueueQuery>,
) -> Response {
    let Some((who, csrf)) = session(&app, &headers).await else {
        return to_login();
    };
    let state = AppState::parse(&q.state);
    let list = match applications::list(&app.db, &who, state).await {
        Ok(l) => l,
        Err(e) => return error_page(StatusCode::SERVICE_UNAVAILABLE, &e),
    };
    let mut body = signed_in_bar(&who, &csrf);
    body.push_str("<p>篩選：<a href=\"/review\">全部</a>");
    for s in AppState::ALL {
        body.push_str(&format!(
            " ｜ <a href=\"/review?state={}\">{}</a>",
            s.as_str(),
            s.label()
        ));
    }
    body.push_str("</p><table><tr><th>申請案</th><th>狀態</th><th>種類</th><th>機關</th><th>送件時間</th><th>已等候</th></tr>");
    let now = app.clock.now_ms();
    for a in &list {
        body.push_str(&format!(
            "<tr><td><a href=\"/review/{id}\">{id}</a></td><td>{}</td><td>{}</td><td>{}（{}）</td><td>{}</td><td>{} 天</td></tr>",
            a.state.label(),
            a.form.kind.label(),
            esc(&a.form.name),
            esc(&a.form.code),
            roc(a.created_at),
            (now - a.updated_at) / 86_400_000,
            id = esc(&a.id),
        ));
    }
    body.push_str(&format!("</table><p>共 {} 件</p>", list.len()));
    page("審核", &body).into_response()
}

async fn review_body(
    app: &Shared,
    who: &Account,
    csrf: &str,
    id: &str,
    notice: Option<(bool, &str)>,
    typed: &str,
) -> Result<String, DirectoryError> {
    let a = applications::get(&app.db, id).await?;
    let visible = match who.role {
        accounts::Role::FirstReviewer => who.scope.as_deref() == Some(a.form.authority.as_str()),
        accounts::Role::SecondReviewer => who.scope.as_deref() == Some(a.form.center.as_str()),
        _ => true,
    };
    if !visible {
        return Err(who.forbidden(&format!("查看申請案 {id}")));
    }
    let mut body = signed_in_bar(who, csrf);
    if let Some((ok, text)) = notice {
        body.push_str(&format!(
            "<p class=\"msg{}\" role=\"status\">{}</p>",
            if ok { " ok" } else { "" },
            esc(text)
        ));
    }
    body.push_str(&application_summary(&a));
    if matches!(a.state, AppState::Submitted | AppState::FirstApproved) {
        body.push_str(&format!(
            "<h2>審核</h2><form method=\"post\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <p><label>意見（補正或不同意時必填）<br><textarea name=\"message\" rows=\"3\">{}</textarea></label></p>\
             <p><button name=\"decision\" value=\"approve\">同意</button> <button name=\"decision\" value=\"correct\">要求補正</button> \
             <button name=\"decision\" value=\"reject\">不同意</button></p></form>",
            esc(csrf),
            esc(typed)
        ));
    }
    let steps = audit::history(&app.db, &format!("application:{}", a.id)).await?;
    body.push_str("<h2>處理經過</h2>");
    body.push_str(&steps_table(&steps));
    let past = applications::history_of(&app.db, &a.form.code).await?;
    let notices = improvements::of(&app.db, &a.form.code).await?;
    if past.len() > 1 || !notices.is_empty() {
        body.push_str("<h2>該機關過去的紀錄</h2><ul>");
        for (other, state, at) in past.iter().filter(|p| p.0 != a.id) {
            body.push_str(&format!(
                "<li>申請案 {}：{}（{}）</li>",
                esc(other),
                state.label(),
                roc(*at)
            ));
        }
        for n in &notices {
            body.push_str(&format!(
                "<li>限期改善單 {}：{}（{}，追蹤 {} 次）</li>",
                esc(&n.id),
                esc(&n.reason),
                n.state.label(),
                n.follow_ups.len()
            ));
        }
        body.push_str("</ul>");
    }
    Ok(body)
}

async fn review_page(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some((who, csrf)) = session(&app, &headers).await else {
        return to_login();
    };
    match review_body(&app, &who, &csrf, &id, None, "").await {
        Ok(b) => page("申請案審核", &b).into_response(),
        Err(e) => error_page(
            StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            &e,
        ),
    }
}

#[derive(Deserialize)]
struct ReviewForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    message: String,
}

async fn review(
    State(app): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ReviewForm>,
) -> Response {
    let Some((who, csrf)) = session(&app, &headers).await else {
        return to_login();
    };
    if f.csrf != csrf {
        let e = DirectoryError::new(
            Code::DirForbidden,
            "表單已失效（CSRF 檢查未通過），請重新整理後再送出",
        );
        return error_page(StatusCode::FORBIDDEN, &e);
    }
    let message = Some(f.message.trim().to_string()).filter(|m| !m.is_empty());
    let result = match applications::decision(&f.decision, message) {
        Ok(d) => {
            let label = d.label();
            applications::review(&app.db, &who, &id, d, app.clock.now_ms())
                .await
                .map(|a| format!("已{label}：申請案 {}「{}」", a.id, a.state.label()))
        }
        Err(e) => Err(e),
    };
    let (notice, typed, status) = match &result {
        Ok(t) => ((true, t.as_str()), "", StatusCode::OK),
        // What the reviewer typed stays in the box.
        Err(e) => (
            (false, e.detail.as_str()),
            f.message.as_str(),
            StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
        ),
    };
    match review_body(&app, &who, &csrf, &id, Some(notice), typed).await {
        Ok(b) => (status, page("申請案審核", &b)).into_response(),
        Err(e) => error_page(
            StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            &e,
        ),
    }
}
