//! Signing in with the organisation's card. The page shows a one-time challenge; the local
//! signing program (`gongwen signer`, on the clerk's PC where the card reader is) signs it
//! with the card's signing key, and the signature (CMS, PEM) comes back in the form. The
//! certificate must chain to the trust anchors and be the signing certificate of an agency
//! this node serves. No passwords; the PIN never leaves the PC. Every attempt is recorded.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gongwen_net::html::esc;
use gongwen_net::{Peer, Refusal};
use gongwen_proto::Code;
use gongwen_store::{random_hex, sha256_hex};
use gongwen_trust::path::Purpose;
use serde::Deserialize;

use super::{Web, page};
use crate::Agency;

const COOKIE: &str = "gongwen_web_session";
const IDLE_MS: i64 = 30 * 60_000;
const MAX_MS: i64 = 10 * 3_600_000;
const CHALLENGE_MS: i64 = 5 * 60_000;
/// The idle clock is written back at most this often: each write is a durable commit, and a
/// page view should not wait for the disk.
const TOUCH_MS: i64 = 60_000;
/// Failed sign-ins from one address within 15 minutes before it must wait.
const MAX_FAILURES: i64 = 5;

/// First line of every challenge: the signer signs nothing else.
pub const CHALLENGE_HEAD: &str = "Gongwen 網頁版登入";

/// The signed-in organisation and person.
#[derive(Debug, Clone)]
pub struct Session {
    pub agency: String,
    /// The card certificate's subject name.
    pub user: String,
    pub csrf: String,
}

/// The session of this request, if it is still valid; its idle clock restarts.
pub async fn session(w: &Web, headers: &HeaderMap) -> Option<Session> {
    let id = gongwen_net::html::cookie(headers, COOKIE)?;
    let now = w.node.clock.now_ms();
    let key = sha256_hex(id.as_bytes());
    let r = w
        .node
        .db
        .fetch_optional(
            "SELECT agency, user_name, csrf, last_seen FROM agent_sessions WHERE id_sha256 = $1 AND last_seen > $2 AND created_at > $3",
            &[key.as_str().into(), (now - IDLE_MS).into(), (now - MAX_MS).into()],
        )
        .await
        .ok()??;
    if now - r.i64(3).ok()? >= TOUCH_MS {
        let _ = w
            .node
            .db
            .execute(
                "UPDATE agent_sessions SET last_seen = $2 WHERE id_sha256 = $1",
                &[key.as_str().into(), now.into()],
            )
            .await;
    }
    Some(Session {
        agency: r.text(0).ok()?,
        user: r.text(1).ok()?,
        csrf: r.text(2).ok()?,
    })
}

/// The signed-in agency, or the way to the sign-in page (saying the session ended).
pub async fn require<'a>(
    w: &'a Web,
    headers: &HeaderMap,
) -> Result<(&'a Agency, Session), Response> {
    let had_cookie = gongwen_net::html::cookie(headers, COOKIE).is_some();
    match session(w, headers).await {
        Some(s) => match w.node.agency(&s.agency) {
            Some(a) => Ok((a, s)),
            None => Err(Redirect::to("/login").into_response()),
        },
        None if had_cookie => Err(Redirect::to("/login?expired=1").into_response()),
        None => Err(Redirect::to("/login").into_response()),
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    expired: Option<String>,
}

pub async fn login_page(w: &Web, headers: &HeaderMap, note: Option<&str>) -> Response {
    let now = w.node.clock.now_ms();
    let nonce = random_hex(16);
    let stored = w
        .node
        .db
        .execute(
            "INSERT INTO agent_challenges (nonce, created_at) VALUES ($1, $2)",
            &[nonce.as_str().into(), now.into()],
        )
        .await;
    if let Err(e) = stored {
        return super::error_page(None, &e.into());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let challenge = format!(
        "{CHALLENGE_HEAD}\n網址：{host}\n隨機碼：{nonce}\n時間：{}\n",
        super::roc(now)
    );
    let signer = &w.node.config.web.signer_url;
    let note = note
        .map(|n| format!("<p class=\"msg\" role=\"alert\">{}</p>", esc(n)))
        .unwrap_or_default();
    let body = format!(
        "{note}<p>請插入機關（團體）憑證 IC 卡，並確認本機的簽章程式 <code>gongwen signer</code> 已啟動，再按下「以憑證登入」。\
         卡片密碼只在您的電腦上使用，不會傳送到網站。</p>\
         <form id=\"login\" method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"nonce\" value=\"{nonce}\">\
         <textarea id=\"challenge\" hidden readonly>{c}</textarea>\
         <p><button type=\"button\" id=\"sign\">以憑證登入</button> <span id=\"status\" role=\"status\"></span></p>\
         <details><summary>無法自動簽章時：手動方式</summary>\
         <p>在本機執行下列指令（以卡片或金鑰檔簽署這段文字），把輸出的整段（含 BEGIN、END 兩行）貼到下面：</p>\
         <pre>gongwen signer sign --cert 簽章憑證.pem --key pkcs11:… --text '{ce}'</pre>\
         <p><label>簽章結果<br><textarea name=\"signed\" id=\"signed\" rows=\"6\"></textarea></label></p>\
         <button>送出</button></details></form>\
         <script>\
         document.getElementById('sign').onclick=async function(){{\
         var s=document.getElementById('status');s.textContent='簽章中……';\
         try{{var r=await fetch({signer_js}+'/sign',{{method:'POST',headers:{{'content-type':'text/plain;charset=utf-8'}},body:document.getElementById('challenge').value}});\
         var t=await r.text();if(!r.ok)throw new Error(t);\
         document.getElementById('signed').value=t;document.getElementById('login').submit();}}\
         catch(e){{s.textContent='無法使用本機簽章程式（'+e.message+'）。請確認已插卡並啟動 gongwen signer，或改用手動方式。';}}}};\
         </script>",
        c = esc(&challenge),
        ce = esc(&challenge.replace('\n', "\\n")),
        signer_js = serde_json::to_string(signer).unwrap_or_else(|_| "\"\"".into()),
    );
    page("以憑證登入", None, &body).into_response()
}

pub async fn show(
    State(w): State<Web>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Response {
    let note = q
        .expired
        .map(|_| "登入已逾時（閒置 30 分鐘或超過 10 小時），請重新登入。");
    login_page(&w, &headers, note).await
}

#[derive(Deserialize)]
pub struct LoginForm {
    nonce: String,
    #[serde(default)]
    signed: String,
}

/// The subject's common name, or the whole subject.
fn subject_name(cert: &x509_cert::Certificate) -> String {
    let s = cert.tbs_certificate.subject.to_string();
    s.split(',')
        .find_map(|p| p.trim().strip_prefix("CN="))
        .map(str::to_string)
        .unwrap_or(s)
}

/// Checks a signed challenge: which agency's card signed it.
async fn check<'a>(w: &'a Web, f: &LoginForm, now: i64) -> Result<(&'a Agency, String), Refusal> {
    let bad = |m: String| Refusal::new(Code::AgentAuth, m);
    let signed = f.signed.trim();
    if signed.is_empty() {
        return Err(bad("沒有收到簽章結果".into()));
    }
    let (_, der) = der::pem::decode_vec(signed.as_bytes())
        .map_err(|e| bad(format!("簽章結果不是 PEM 格式：{e}")))?;
    let v = gongwen_trust::cms::verify(&der).map_err(|e| bad(format!("簽章無效：{e}")))?;
    let text = String::from_utf8(v.content.clone())
        .map_err(|_| bad("簽署的內容不是登入用的文字".into()))?;
    let nonce = text
        .lines()
        .find_map(|l| l.strip_prefix("隨機碼："))
        .unwrap_or("");
    if !text.starts_with(CHALLENGE_HEAD) || nonce != f.nonce {
        return Err(bad("簽署的內容不是這次登入的隨機碼".into()));
    }
    let used = w
        .node
        .db
        .execute(
            "UPDATE agent_challenges SET used_at = $2 WHERE nonce = $1 AND used_at IS NULL AND created_at > $3",
            &[nonce.into(), now.into(), (now - CHALLENGE_MS).into()],
        )
        .await?;
    if used != 1 {
        return Err(bad(
            "登入隨機碼已使用過或已逾 5 分鐘，請重新整理頁面再登入".into()
        ));
    }
    w.node
        .trust
        .store()
        .evaluate(&v.signer, &v.certs, now.div_euclid(1000), Purpose::Signing)
        .map_err(|e| bad(format!("憑證未通過驗證：{e}")))?;
    let key = gongwen_trust::path::spki_sha256(&v.signer).map_err(|e| bad(e.to_string()))?;
    // The agency's own card, or a person's card registered to it (附卡).
    if let Some(a) = w
        .node
        .agencies
        .iter()
        .find(|a| gongwen_trust::path::spki_sha256(a.sign_cert()).ok() == Some(key))
    {
        return Ok((a, subject_name(&v.signer)));
    }
    let person = crate::clients::card(&w.node.db, &gongwen_trust::path::hex(&key)).await?;
    match person.and_then(|p| w.node.agency(&p.agency).map(|a| (a, p.name))) {
        Some((a, name)) => Ok((a, format!("{name}（{}）", subject_name(&v.signer)))),
        None => Err(bad(format!(
            "憑證「{}」不是本網站服務的機關（團體）的簽章憑證，也沒有登記為其使用者（gongwen agent user add）",
            subject_name(&v.signer)
        ))),
    }
}

async fn record(
    w: &Web,
    headers: &HeaderMap,
    ip: &str,
    agency: Option<&str>,
    subject: Option<&str>,
    detail: Option<&str>,
    now: i64,
) {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect::<String>());
    let _ = w
        .node
        .db
        .execute(
            "INSERT INTO agent_logins (id, at, agency, ok, subject, ip, user_agent, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                random_hex(12).into(),
                now.into(),
                agency.into(),
                i64::from(detail.is_none()).into(),
                subject.into(),
                ip.into(),
                ua.into(),
                detail.into(),
            ],
        )
        .await;
    gongwen_net::log::info(
        if detail.is_none() {
            "網頁版登入"
        } else {
            "網頁版登入失敗"
        },
        serde_json::json!({ "agency": agency, "subject": subject, "ip": ip, "detail": detail }),
    );
}

pub async fn submit(
    State(w): State<Web>,
    headers: HeaderMap,
    peer: Option<axum::Extension<Peer>>,
    Form(f): Form<LoginForm>,
) -> Response {
    let now = w.node.clock.now_ms();
    let ip = peer.map(|p| p.ip.to_string()).unwrap_or_default();
    let failures = w
        .node
        .db
        .fetch_optional(
            "SELECT COUNT(*) FROM agent_logins WHERE ip = $1 AND ok = 0 AND at > $2",
            &[ip.as_str().into(), (now - 15 * 60_000).into()],
        )
        .await
        .ok()
        .flatten()
        .and_then(|r| r.i64(0).ok())
        .unwrap_or(0);
    if failures >= MAX_FAILURES {
        let mut r = login_page(&w, &headers, Some("登入失敗次數過多，請 15 分鐘後再試。")).await;
        *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return r;
    }
    let (agency, user) = match check(&w, &f, now).await {
        Ok(x) => x,
        Err(e) => {
            record(&w, &headers, &ip, None, None, Some(&e.detail), now).await;
            let mut r = login_page(&w, &headers, Some(&format!("無法登入：{}", e.detail))).await;
            *r.status_mut() = StatusCode::FORBIDDEN;
            return r;
        }
    };
    let id = random_hex(24);
    let csrf = random_hex(16);
    let stored = w
        .node
        .db
        .execute(
            "INSERT INTO agent_sessions (id_sha256, agency, user_name, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $5)",
            &[
                sha256_hex(id.as_bytes()).into(),
                agency.code.as_str().into(),
                user.as_str().into(),
                csrf.as_str().into(),
                now.into(),
            ],
        )
        .await;
    if let Err(e) = stored {
        return super::error_page(None, &e.into());
    }
    record(
        &w,
        &headers,
        &ip,
        Some(agency.code.as_str()),
        Some(&user),
        None,
        now,
    )
    .await;
    let secure = if w.secure { "; Secure" } else { "" };
    (
        [(
            header::SET_COOKIE,
            format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}"),
        )],
        Redirect::to("/inbox"),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

pub async fn logout(State(w): State<Web>, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    if let Some(s) = session(&w, &headers).await
        && s.csrf == f.csrf
        && let Some(id) = gongwen_net::html::cookie(&headers, COOKIE)
    {
        let _ = w
            .node
            .db
            .execute(
                "DELETE FROM agent_sessions WHERE id_sha256 = $1",
                &[sha256_hex(id.as_bytes()).into()],
            )
            .await;
    }
    (
        [(header::SET_COOKIE, format!("{COOKIE}=; Path=/; Max-Age=0"))],
        Redirect::to("/login"),
    )
        .into_response()
}

/// A form's CSRF token against the session's.
pub fn csrf_ok(s: &Session, token: &str) -> Result<(), Refusal> {
    if !token.is_empty() && token == s.csrf {
        Ok(())
    } else {
        Err(Refusal::new(
            Code::AgentAuth,
            "表單已失效（可能來自其他網站，或登入已更新），請重新整理頁面後再送出",
        ))
    }
}
