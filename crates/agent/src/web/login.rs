//! Signing in with the organisation's card. The page shows a one-time challenge; the local
//! signing program (`gongwen signer`, on the clerk's PC where the card reader is) signs it
//! with the card's signing key, and the signature (CMS, PEM) comes back in the form. The
//! certificate must chain to the trust anchors and be the signing certificate of an agency
//! this node serves. No passwords; the PIN never leaves the PC. Every attempt is recorded.
//!
//! The challenge names this site and the time it was issued, and carries an HMAC with a key
//! only this process knows: showing the page writes nothing, and a post is checked against
//! the site, the time (5 minutes) and the HMAC before the nonce is written down as used.
//! Sign-in posts from other sites are refused (`Origin`, `Sec-Fetch-Site`). Failures lock an
//! account (the card the post claims) after 5 in 15 minutes, and an address after 50, so one
//! client behind the same proxy as everyone cannot lock everyone out.

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gongwen_net::{Peer, Refusal};
use gongwen_proto::Code;
use gongwen_store::{random_hex, sha256_hex};
use gongwen_trust::path::Purpose;
use gongwen_web::{Csrf, NoFields, Signed, Site};
use serde::Deserialize;

use super::{Refused, SITE, Web, Who};
use crate::sessions::{self, Attempt, By, Session};
use crate::{Agency, Shared};

const COOKIE: &str = "gongwen_web_session";
const CHALLENGE_MS: i64 = 5 * 60_000;
/// Failed sign-ins of one card within 15 minutes before it must wait.
const MAX_ACCOUNT_FAILURES: i64 = 5;
/// Failed sign-ins from one address within 15 minutes before it must wait: higher, since
/// many people may share an address (a reverse proxy, an office's NAT).
const MAX_IP_FAILURES: i64 = 50;
const LOCKOUT_MS: i64 = 15 * 60_000;
/// A challenge issued this far in the future (clock skew between processes) still counts.
const SKEW_MS: i64 = 60_000;

/// What signs challenges: a key made at start-up, and the site's addresses.
pub struct SignIn {
    key: Vec<u8>,
    origins: std::sync::OnceLock<Vec<String>>,
}

impl Default for SignIn {
    fn default() -> Self {
        SignIn {
            key: random_hex(32).into_bytes(),
            origins: std::sync::OnceLock::new(),
        }
    }
}

impl SignIn {
    /// The addresses the site is reached at (origins, no trailing slash); set once, when the
    /// listener knows its address.
    pub fn set_origins(&self, origins: Vec<String>) {
        let _ = self.origins.set(
            origins
                .into_iter()
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect(),
        );
    }

    pub fn origins(&self) -> &[String] {
        self.origins.get().map(Vec::as_slice).unwrap_or(&[])
    }

    /// The site's origin whose host (and port) is `host`, the request's Host header.
    fn origin_for_host(&self, host: &str) -> Option<&str> {
        self.origins()
            .iter()
            .find(|o| {
                o.split_once("://")
                    .is_some_and(|(_, h)| h.eq_ignore_ascii_case(host))
            })
            .map(String::as_str)
    }

    fn mac(&self, origin: &str, rand: &str, ms: i64) -> String {
        gongwen_net::hmac_sha256_hex(&self.key, format!("{origin}\n{rand}\n{ms}").as_bytes())
    }

    /// A fresh challenge for `origin`: its text and its nonce (`rand.ms.mac`).
    fn challenge(&self, origin: &str, now: i64) -> (String, String) {
        let rand = random_hex(16);
        let nonce = format!("{rand}.{now}.{}", self.mac(origin, &rand, now));
        let text = format!(
            "{CHALLENGE_HEAD}\n網站：{origin}\n隨機碼：{nonce}\n時間：{}\n",
            challenge_time(now)
        );
        (text, nonce)
    }
}

/// The time line of a challenge, to the second, as people read it.
fn challenge_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    format!("{}:{:02}", gongwen_web::roc(ms), secs.rem_euclid(60))
}

/// First line of every challenge: the signer signs nothing else.
pub const CHALLENGE_HEAD: &str = "Gongwen 網頁版登入";

/// The session of this request, if it is still valid; its idle clock restarts.
async fn session(w: &Web, headers: &HeaderMap) -> Option<Session> {
    let key = sha256_hex(gongwen_web::cookie(headers, COOKIE)?.as_bytes());
    let found = sessions::find(&w.node.db, &key, w.node.clock.now_ms()).await;
    found.ok().flatten()
}

/// The signed-in organisation of a request. A handler that takes one is reached only with a
/// valid session; everyone else goes to the sign-in page (told why when the session ended).
pub struct SignedIn {
    pub node: Shared,
    /// The agency's place in `node.agencies`.
    at: usize,
    pub session: Session,
}

impl FromRequestParts<Web> for SignedIn {
    type Rejection = Redirect;

    async fn from_request_parts(parts: &mut Parts, w: &Web) -> Result<Self, Redirect> {
        let had_cookie = gongwen_web::cookie(&parts.headers, COOKIE).is_some();
        let Some(session) = session(w, &parts.headers).await else {
            return Err(Redirect::to(if had_cookie {
                "/login?expired=1"
            } else {
                "/login"
            }));
        };
        let at = (w.node.agencies.iter())
            .position(|a| a.code.as_str() == session.agency)
            .ok_or_else(|| Redirect::to("/login"))?;
        Ok(SignedIn {
            node: w.node.clone(),
            at,
            session,
        })
    }
}

impl SignedIn {
    pub fn agency(&self) -> &Agency {
        &self.node.agencies[self.at]
    }

    /// Who is signed in, as the layout shows it.
    pub(crate) fn who(&self) -> Option<Who> {
        Who::of(self.agency(), &self.session)
    }

    /// A refusal as this organisation's error page.
    pub(crate) fn refuse(&self, e: impl Into<Refusal>) -> Refused {
        Refused::new(self.who(), e.into())
    }
}

impl Signed for SignedIn {
    const CSRF_CODE: Code = Code::AgentAuth;
    fn csrf(&self) -> &str {
        &self.session.csrf
    }
    fn refuse(&self, r: Refusal) -> Response {
        SignedIn::refuse(self, r).into_response()
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    expired: Option<String>,
}

pub async fn login_page(w: &Web, headers: &HeaderMap, note: Option<&str>) -> Response {
    let now = w.node.clock.now_ms();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let Some(origin) = w.signin.origin_for_host(host) else {
        let listed = w.signin.origins().join("、");
        let e = Refusal::new(
            Code::HttpCrossSite,
            if listed.is_empty() {
                "網頁版的網址尚未設定（[agent.web] origins），無法登入".to_string()
            } else {
                format!("請由本網站的網址開啟登入頁：{listed}")
            },
        );
        return Refused::from(e).into_response();
    };
    let (challenge, nonce) = w.signin.challenge(origin, now);
    let page = LoginPage {
        site: SITE,
        title: "以憑證登入",
        who: None,
        note: note.unwrap_or(""),
        nonce,
        challenge_line: challenge.replace('\n', "\\n"),
        challenge,
        signer: &w.node.config.web.signer_url,
    };
    gongwen_web::render(StatusCode::OK, &page)
}

/// The sign-in page: the challenge the local signer signs, and the way to sign it by hand.
#[derive(Template)]
#[template(path = "agent/login.html")]
struct LoginPage<'a> {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    /// Why the user is here again (the session ended, the sign-in failed), or "".
    note: &'a str,
    nonce: String,
    challenge: String,
    /// The challenge on one line, for the command typed by hand.
    challenge_line: String,
    signer: &'a str,
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

/// A sign-in post's signature, verified: the text and the card that signed it.
struct Claim {
    v: gongwen_trust::cms::Verified,
    /// SHA-256 of the card's public key, hex: the account failures are counted against.
    account: String,
}

fn claim(f: &LoginForm) -> Result<Claim, Refusal> {
    let bad = |m: String| Refusal::new(Code::AgentAuth, m);
    let signed = f.signed.trim();
    if signed.is_empty() {
        return Err(bad("沒有收到簽章結果".into()));
    }
    let (_, der) = der::pem::decode_vec(signed.as_bytes())
        .map_err(|e| bad(format!("簽章結果不是 PEM 格式：{e}")))?;
    let v = gongwen_trust::cms::verify(&der).map_err(|e| bad(format!("簽章無效：{e}")))?;
    let key = gongwen_trust::path::spki_sha256(&v.signer).map_err(|e| bad(e.to_string()))?;
    Ok(Claim {
        v,
        account: gongwen_trust::path::hex(&key),
    })
}

/// Checks a signed challenge: issued by this site for this site, recently, not used before,
/// and signed by the card of an agency this node serves (or of a person registered to one).
async fn check<'a>(
    w: &'a Web,
    f: &LoginForm,
    c: &Claim,
    now: i64,
) -> Result<(&'a Agency, String), Refusal> {
    let bad = |m: String| Refusal::new(Code::AgentAuth, m);
    let v = &c.v;
    let text = String::from_utf8(v.content.clone())
        .map_err(|_| bad("簽署的內容不是登入用的文字".into()))?;
    let line = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or("")
            .to_string()
    };
    let (site, nonce, time) = (line("網站："), line("隨機碼："), line("時間："));
    if !text.starts_with(CHALLENGE_HEAD) || nonce != f.nonce {
        return Err(bad("簽署的內容不是這次登入的隨機碼".into()));
    }
    if !w.signin.origins().contains(&site) {
        return Err(bad(format!(
            "簽署的登入隨機碼是給網站「{site}」的，不是本網站（{}）",
            w.signin.origins().join("、")
        )));
    }
    let mut parts = nonce.splitn(3, '.');
    let (rand, issued, mac) = (
        parts.next().unwrap_or(""),
        parts.next().and_then(|t| t.parse::<i64>().ok()),
        parts.next().unwrap_or(""),
    );
    let Some(issued) = issued else {
        return Err(bad("登入隨機碼不是本網站發出的".into()));
    };
    if !gongwen_net::same_secret(w.signin.mac(&site, rand, issued).as_bytes(), mac.as_bytes()) {
        return Err(bad("登入隨機碼不是本網站發出的".into()));
    }
    if time != challenge_time(issued) {
        return Err(bad(format!("簽署的時間「{time}」與登入隨機碼不符")));
    }
    if now - issued > CHALLENGE_MS || issued - now > SKEW_MS {
        return Err(bad(format!(
            "登入隨機碼於 {time} 發出，已逾 5 分鐘，請重新整理頁面再登入"
        )));
    }
    w.node
        .trust
        .store()
        .evaluate(&v.signer, &v.certs, now.div_euclid(1000), Purpose::Signing)
        .map_err(|e| bad(format!("憑證未通過驗證：{e}")))?;
    // Used once: the first post with it writes it down.
    if !sessions::use_challenge(&w.node.db, &nonce, issued, now).await? {
        return Err(bad(
            "登入隨機碼已使用過或已逾 5 分鐘，請重新整理頁面再登入".into()
        ));
    }
    // The agency's own card, or a person's card registered to it (附卡).
    if let Some(a) = w.node.agencies.iter().find(|a| {
        gongwen_trust::path::spki_sha256(a.sign_cert())
            .ok()
            .map(|k| gongwen_trust::path::hex(&k))
            .as_deref()
            == Some(c.account.as_str())
    }) {
        return Ok((a, subject_name(&v.signer)));
    }
    let person = crate::clients::card(&w.node.db, &c.account).await?;
    match person.and_then(|p| w.node.agency(&p.agency).map(|a| (a, p.name))) {
        Some((a, name)) => Ok((a, format!("{name}（{}）", subject_name(&v.signer)))),
        None => Err(bad(format!(
            "憑證「{}」不是本網站服務的機關（團體）的簽章憑證，也沒有登記為其使用者（gongwen agent user add）",
            subject_name(&v.signer)
        ))),
    }
}

/// The attempt in the record and the log.
async fn record(w: &Web, t: &Attempt<'_>, now: i64) {
    let _ = sessions::record(&w.node.db, t, now).await;
    gongwen_net::log::info(
        if t.detail.is_none() {
            "網頁版登入"
        } else {
            "網頁版登入失敗"
        },
        serde_json::json!({ "agency": t.agency, "subject": t.subject, "ip": t.ip, "account": t.account, "detail": t.detail }),
    );
}

/// Whether a post comes from this site's own page: `Sec-Fetch-Site` (same-origin, or none for
/// what the person did themselves) and `Origin` when the browser sends them.
fn same_site(w: &Web, headers: &HeaderMap) -> Result<(), Refusal> {
    let refuse = |m: String| Refusal::new(Code::HttpCrossSite, m);
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("");
        if site != "same-origin" && site != "none" {
            return Err(refuse(format!(
                "登入表單須由本網站的頁面送出（Sec-Fetch-Site：{site}）"
            )));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !w.signin.origins().iter().any(|o| o == origin) {
            return Err(refuse(format!(
                "登入表單來自其他網站（{origin}），不是本網站（{}）",
                w.signin.origins().join("、")
            )));
        }
    }
    Ok(())
}

/// Failed sign-ins within the lockout window.
async fn failures(w: &Web, by: By, value: &str, now: i64) -> i64 {
    let n = sessions::failures(&w.node.db, by, value, now - LOCKOUT_MS).await;
    n.unwrap_or(0)
}

pub async fn submit(
    State(w): State<Web>,
    headers: HeaderMap,
    peer: Option<axum::Extension<Peer>>,
    Form(f): Form<LoginForm>,
) -> Response {
    if let Err(e) = same_site(&w, &headers) {
        return Refused::from(e).into_response();
    }
    let now = w.node.clock.now_ms();
    let ip = peer.map(|p| p.ip.to_string()).unwrap_or_default();
    let claim = claim(&f);
    let account = claim.as_ref().ok().map(|c| c.account.clone());
    let user_agent = (headers.get(header::USER_AGENT))
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect::<String>());
    let locked = failures(&w, By::Ip, &ip, now).await >= MAX_IP_FAILURES
        || match &account {
            Some(a) => failures(&w, By::Account, a, now).await >= MAX_ACCOUNT_FAILURES,
            None => false,
        };
    if locked {
        let mut r = login_page(&w, &headers, Some("登入失敗次數過多，請 15 分鐘後再試。")).await;
        *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return r;
    }
    let checked = match &claim {
        Ok(c) => check(&w, &f, c, now).await,
        Err(e) => Err(e.clone()),
    };
    let (agency, user) = match checked {
        Ok(x) => x,
        Err(e) => {
            let attempt = Attempt {
                ip: &ip,
                account: account.as_deref(),
                agency: None,
                subject: None,
                user_agent: user_agent.as_deref(),
                detail: Some(&e.detail),
            };
            record(&w, &attempt, now).await;
            let mut r = login_page(&w, &headers, Some(&format!("無法登入：{}", e.detail))).await;
            *r.status_mut() = StatusCode::FORBIDDEN;
            return r;
        }
    };
    let id = random_hex(24);
    let session = Session {
        agency: agency.code.as_str().to_string(),
        user,
        csrf: random_hex(16),
        key: sha256_hex(id.as_bytes()),
    };
    if let Err(e) = sessions::open(&w.node.db, &session, now).await {
        return Refused::from(Refusal::from(e)).into_response();
    }
    let attempt = Attempt {
        ip: &ip,
        account: account.as_deref(),
        agency: Some(agency.code.as_str()),
        subject: Some(&session.user),
        user_agent: user_agent.as_deref(),
        detail: None,
    };
    record(&w, &attempt, now).await;
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

pub async fn logout(
    State(w): State<Web>,
    form: Result<Csrf<SignedIn, NoFields>, Response>,
) -> Response {
    if let Ok(Csrf(me, _)) = form {
        // Gone or not, the cookie is removed below.
        let _ = sessions::close(&w.node.db, &me.session).await;
    }
    (
        [(header::SET_COOKIE, gongwen_web::clear_cookie(COOKIE))],
        Redirect::to("/login"),
    )
        .into_response()
}
