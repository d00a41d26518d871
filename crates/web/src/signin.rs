//! Signing in with a card, shared by the agent's web client (the organisation's card) and the
//! office (each person's own card). The page shows a one-time challenge; the local signing
//! program (`gongwen signer`, on the PC where the card reader is) signs it with the card's
//! signing key, and the signature (CMS, PEM) comes back in the form. No passwords; the PIN
//! never leaves the PC. Every attempt is recorded.
//!
//! The challenge names the site and the time it was issued, and carries an HMAC with a key
//! only this process knows: showing the page writes nothing, and a post is checked against
//! the site, the time (5 minutes) and the HMAC before the nonce is written down as used.
//! Sign-in posts from other sites are refused (`Origin`, `Sec-Fetch-Site`). Failures lock an
//! account (the card the post claims) after 5 in 15 minutes, and an address after 50, so one
//! client behind the same proxy as everyone cannot lock everyone out.
//!
//! Each service keeps its sessions, used challenges and attempts in tables of its own
//! ([`Tables`]); what a card may do once it is valid (which agency, which person) is the
//! service's to say ([`SignIn::attempt`]'s `identify`).

use std::sync::OnceLock;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Redirect;
use gongwen_proto::Code;
use gongwen_store::{Db, StoreError, random_hex, sha256_hex};
use gongwen_trust::path::{Purpose, TrustStore};
use serde::Deserialize;

use crate::Refusal;

/// First line of every challenge: the signer signs nothing else for a sign-in.
pub const CHALLENGE_HEAD: &str = "Gongwen 網頁版登入";

const CHALLENGE_MS: i64 = 5 * 60_000;
/// A challenge issued this far in the future (clock skew between processes) still counts.
const SKEW_MS: i64 = 60_000;
/// Failed sign-ins of one card within 15 minutes before it must wait.
const MAX_ACCOUNT_FAILURES: i64 = 5;
/// Failed sign-ins from one address within 15 minutes before it must wait: higher, since
/// many people may share an address (a reverse proxy, an office's NAT).
const MAX_IP_FAILURES: i64 = 50;
const LOCKOUT_MS: i64 = 15 * 60_000;
/// A session ends after this long idle…
pub const IDLE_MS: i64 = 30 * 60_000;
/// …or this long after sign-in.
pub const MAX_MS: i64 = 10 * 3_600_000;
/// The idle clock is written back at most this often: each write is a durable commit, and a
/// page view should not wait for the disk.
const TOUCH_MS: i64 = 60_000;

/// Where a service keeps its sign-ins. The names are the service's constants, never input.
#[derive(Debug)]
pub struct Tables {
    /// `(id_sha256, <owner>, user_name, csrf, created_at, last_seen)`.
    pub sessions: &'static str,
    /// `(nonce, created_at, used_at)`.
    pub challenges: &'static str,
    /// `(id, at, <owner>, ok, subject, ip, user_agent, detail, account)`.
    pub logins: &'static str,
    /// The column naming whose session it is: the agency, the person.
    pub owner: &'static str,
}

/// What a service's sign-in is: its tables, its cookie, its code of refusal, and where the
/// site's addresses are configured (named in the message when a page is opened elsewhere).
#[derive(Debug)]
pub struct Setup {
    pub tables: Tables,
    pub cookie: &'static str,
    pub code: Code,
    pub origins_setting: &'static str,
}

/// A signed-in session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The agency (web client) or the person (office) it belongs to.
    pub owner: String,
    /// Who signed in, as shown: the card's subject name, or the person's name.
    pub user: String,
    pub csrf: String,
    /// SHA-256 of the cookie (hex), the session's key in the store.
    pub key: String,
}

/// A sign-in post: the challenge's nonce and the signature over it.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub nonce: String,
    #[serde(default)]
    pub signed: String,
}

/// A sign-in post's signature, verified: the text and the card that signed it.
pub struct Claim {
    pub v: gongwen_trust::cms::Verified,
    /// SHA-256 of the card's public key, hex: the account failures are counted against.
    pub account: String,
}

/// Why a sign-in did not happen.
#[derive(Debug)]
pub enum Failed {
    /// Too many failures of this card or address: wait.
    Locked,
    /// The post came from another site: not even recorded as an attempt.
    CrossSite(Refusal),
    /// Recorded as a failed attempt.
    Refused(Refusal),
}

impl Failed {
    /// The sign-in page again after this failure: its status and what it says. A post from
    /// another site gets no form: its refusal, for the error page.
    pub fn again(self) -> Result<(StatusCode, String), Refusal> {
        match self {
            Failed::CrossSite(e) => Err(e),
            Failed::Locked => Ok((
                StatusCode::TOO_MANY_REQUESTS,
                "登入失敗次數過多，請 15 分鐘後再試。".into(),
            )),
            Failed::Refused(e) => Ok((StatusCode::FORBIDDEN, format!("無法登入：{}", e.detail))),
        }
    }
}

/// What the sign-in page says to someone sent there by [`to_login`] after a session ended.
pub const EXPIRED: &str = "登入已逾時（閒置 30 分鐘或超過 10 小時），請重新登入。";

/// The way to the sign-in page for a request without a valid session; `had_cookie` (a
/// session that ended) has the page say why ([`EXPIRED`]).
pub fn to_login(had_cookie: bool) -> Redirect {
    Redirect::to(if had_cookie {
        "/login?expired=1"
    } else {
        "/login"
    })
}

/// A sign-in that happened: the session, and the cookie header that carries it.
pub struct Opened {
    pub session: Session,
    pub set_cookie: String,
}

/// The page's challenge: what is signed, and the nonce the form sends back.
pub struct Challenge {
    pub text: String,
    pub nonce: String,
}

impl Challenge {
    /// The challenge on one line, for the command typed by hand.
    pub fn line(&self) -> String {
        self.text.replace('\n', "\\n")
    }
}

/// What signs challenges: a key made at start-up, the site's addresses, and the service's
/// tables.
pub struct SignIn {
    key: Vec<u8>,
    origins: OnceLock<Vec<String>>,
    pub setup: Setup,
}

impl SignIn {
    pub fn new(setup: Setup) -> Self {
        SignIn {
            key: random_hex(32).into_bytes(),
            origins: OnceLock::new(),
            setup,
        }
    }

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

    fn listed(&self) -> String {
        self.origins().join("、")
    }

    fn mac(&self, origin: &str, rand: &str, ms: i64) -> String {
        gongwen_net::hmac_sha256_hex(&self.key, format!("{origin}\n{rand}\n{ms}").as_bytes())
    }

    /// A fresh challenge for the site the page was asked of (its Host header); refused when
    /// that is not one of the site's addresses (a challenge names the site it is for).
    pub fn challenge(&self, headers: &HeaderMap, now: i64) -> Result<Challenge, Refusal> {
        let host = (headers.get(header::HOST))
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin = self.origins().iter().find(|o| {
            o.split_once("://")
                .is_some_and(|(_, h)| h.eq_ignore_ascii_case(host))
        });
        let Some(origin) = origin else {
            return Err(Refusal::new(
                Code::HttpCrossSite,
                if self.origins().is_empty() {
                    format!(
                        "網頁版的網址尚未設定（{}），無法登入",
                        self.setup.origins_setting
                    )
                } else {
                    format!("請由本網站的網址開啟登入頁：{}", self.listed())
                },
            ));
        };
        let rand = random_hex(16);
        let nonce = format!("{rand}.{now}.{}", self.mac(origin, &rand, now));
        let text = format!(
            "{CHALLENGE_HEAD}\n網站：{origin}\n隨機碼：{nonce}\n時間：{}\n",
            challenge_time(now)
        );
        Ok(Challenge { text, nonce })
    }

    /// The session of a request, if it is still valid; its idle clock restarts. `had_cookie`
    /// tells a session that ended from none at all.
    pub async fn session(&self, db: &Db, headers: &HeaderMap, now: i64) -> (Option<Session>, bool) {
        let Some(cookie) = crate::cookie(headers, self.setup.cookie) else {
            return (None, false);
        };
        let key = sha256_hex(cookie.as_bytes());
        (
            find(db, &self.setup.tables, &key, now).await.ok().flatten(),
            true,
        )
    }

    /// Ends a session.
    pub async fn close(&self, db: &Db, s: &Session) -> Result<(), StoreError> {
        let sql = format!(
            "DELETE FROM {} WHERE id_sha256 = $1",
            self.setup.tables.sessions
        );
        db.execute(&sql, &[s.key.as_str().into()]).await.map(|_| ())
    }

    /// Ends every session of `owner`: the card they signed in with was cleared or replaced, so
    /// whoever holds it no longer reads anything.
    pub async fn close_all(&self, db: &Db, owner: &str) -> Result<u64, StoreError> {
        let t = &self.setup.tables;
        let sql = format!("DELETE FROM {} WHERE {} = $1", t.sessions, t.owner);
        db.execute(&sql, &[owner.into()]).await
    }

    /// The header that removes the session's cookie.
    pub fn clear_cookie(&self) -> String {
        crate::clear_cookie(self.setup.cookie)
    }

    /// A sign-in post, whole: from this site, not locked out, a valid signature over this
    /// site's fresh, unused challenge by a trusted card that `identify` accepts (it answers
    /// the session's owner and the name shown). Every attempt but a cross-site one is recorded.
    #[allow(clippy::too_many_arguments)]
    pub async fn attempt<F>(
        &self,
        db: &Db,
        trust: &TrustStore,
        headers: &HeaderMap,
        ip: &str,
        secure: bool,
        form: &LoginForm,
        now: i64,
        identify: F,
    ) -> Result<Opened, Failed>
    where
        F: AsyncFnOnce(&Claim) -> Result<(String, String), Refusal>,
    {
        same_site(self.origins(), headers).map_err(Failed::CrossSite)?;
        let claim = claim(self.setup.code, &form.signed);
        let account = claim.as_ref().ok().map(|c| c.account.clone());
        let user_agent = (headers.get(header::USER_AGENT))
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect::<String>());
        let t = &self.setup.tables;
        let since = now - LOCKOUT_MS;
        let locked = failures(db, t, "ip", ip, since).await >= MAX_IP_FAILURES
            || match &account {
                Some(a) => failures(db, t, "account", a, since).await >= MAX_ACCOUNT_FAILURES,
                None => false,
            };
        if locked {
            return Err(Failed::Locked);
        }
        // A failure counts against the card only when the card signed a challenge of this
        // site's: anyone may post a signature of someone else's over anything else (a step
        // from a case's export, a signed document), which must not lock them out.
        let mut counted = account.as_deref();
        let checked = match &claim {
            Ok(c) => match self.issued(form, c) {
                Ok(issued) => match self.check(db, trust, c, &issued, now).await {
                    Ok(()) => identify(c).await,
                    Err(e) => Err(e),
                },
                Err(e) => {
                    counted = None;
                    Err(e)
                }
            },
            Err(e) => Err(e.clone()),
        };
        let mut attempt = Attempt {
            ip,
            account: counted,
            owner: None,
            subject: None,
            user_agent: user_agent.as_deref(),
            detail: None,
        };
        let (owner, user) = match checked {
            Ok(x) => x,
            Err(e) => {
                attempt.detail = Some(&e.detail);
                record(db, t, &attempt, now).await;
                return Err(Failed::Refused(e));
            }
        };
        let id = random_hex(24);
        let session = Session {
            owner,
            user,
            csrf: random_hex(16),
            key: sha256_hex(id.as_bytes()),
        };
        if let Err(e) = open(db, t, &session, now).await {
            return Err(Failed::Refused(Refusal::from(e)));
        }
        attempt.owner = Some(&session.owner);
        attempt.subject = Some(&session.user);
        record(db, t, &attempt, now).await;
        let secure = if secure { "; Secure" } else { "" };
        let set_cookie = format!(
            "{}={id}; Path=/; HttpOnly; SameSite=Strict{secure}",
            self.setup.cookie
        );
        Ok(Opened {
            session,
            set_cookie,
        })
    }

    /// The challenge a post's signature is over, if this site issued it for itself (its nonce
    /// is the form's, its HMAC holds): whoever's card it is signed it for a sign-in here.
    fn issued(&self, f: &LoginForm, c: &Claim) -> Result<Issued, Refusal> {
        let bad = |m: String| Refusal::new(self.setup.code, m);
        let text = String::from_utf8(c.v.content.clone())
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
        if !self.origins().contains(&site) {
            return Err(bad(format!(
                "簽署的登入隨機碼是給網站「{site}」的，不是本網站（{}）",
                self.listed()
            )));
        }
        let mut parts = nonce.splitn(3, '.');
        let (rand, issued, mac) = (
            parts.next().unwrap_or(""),
            parts.next().and_then(|t| t.parse::<i64>().ok()),
            parts.next().unwrap_or(""),
        );
        let issued = issued
            .filter(|&i| {
                gongwen_net::same_secret(self.mac(&site, rand, i).as_bytes(), mac.as_bytes())
            })
            .ok_or_else(|| bad("登入隨機碼不是本網站發出的".into()))?;
        Ok(Issued {
            nonce,
            time,
            at: issued,
        })
    }

    /// Checks a challenge this site issued ([`SignIn::issued`]): signed recently, by a trusted
    /// card, not used before (the first post with it writes it down).
    async fn check(
        &self,
        db: &Db,
        trust: &TrustStore,
        c: &Claim,
        i: &Issued,
        now: i64,
    ) -> Result<(), Refusal> {
        let bad = |m: String| Refusal::new(self.setup.code, m);
        let (nonce, time, issued) = (&i.nonce, &i.time, i.at);
        if *time != challenge_time(issued) {
            return Err(bad(format!("簽署的時間「{time}」與登入隨機碼不符")));
        }
        if now - issued > CHALLENGE_MS || issued - now > SKEW_MS {
            return Err(bad(format!(
                "登入隨機碼於 {time} 發出，已逾 5 分鐘，請重新整理頁面再登入"
            )));
        }
        trust
            .evaluate(
                &c.v.signer,
                &c.v.certs,
                now.div_euclid(1000),
                Purpose::Signing,
            )
            .map_err(|e| bad(format!("憑證未通過驗證：{e}")))?;
        let sql = format!(
            "INSERT INTO {} (nonce, created_at, used_at) VALUES ($1, $2, $3) ON CONFLICT (nonce) DO NOTHING",
            self.setup.tables.challenges
        );
        let fresh = db
            .execute(&sql, &[nonce.as_str().into(), issued.into(), now.into()])
            .await?;
        if fresh != 1 {
            return Err(bad(
                "登入隨機碼已使用過或已逾 5 分鐘，請重新整理頁面再登入".into()
            ));
        }
        Ok(())
    }
}

/// A signed challenge this site issued: its nonce, its time line, and when it was issued.
struct Issued {
    nonce: String,
    time: String,
    /// Unix ms.
    at: i64,
}

/// The time line of a challenge, to the second, as people read it.
fn challenge_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    format!("{}:{:02}", crate::roc(ms), secs.rem_euclid(60))
}

/// The subject's common name, or the whole subject.
pub fn subject_name(cert: &x509_cert::Certificate) -> String {
    let s = cert.tbs_certificate.subject.to_string();
    s.split(',')
        .find_map(|p| p.trim().strip_prefix("CN="))
        .map(str::to_string)
        .unwrap_or(s)
}

/// The signature of a post, verified as CMS (not yet checked against the challenge).
fn claim(code: Code, signed: &str) -> Result<Claim, Refusal> {
    let bad = |m: String| Refusal::new(code, m);
    let signed = signed.trim();
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

/// Whether a post comes from this site's own page: `Sec-Fetch-Site` (same-origin, or none for
/// what the person did themselves) and `Origin` when the browser sends them.
fn same_site(origins: &[String], headers: &HeaderMap) -> Result<(), Refusal> {
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
        if !origins.iter().any(|o| o == origin) {
            return Err(refuse(format!(
                "登入表單來自其他網站（{origin}），不是本網站（{}）",
                origins.join("、")
            )));
        }
    }
    Ok(())
}

/// The session stored under `key`, if it is still valid at `now`; its idle clock restarts.
async fn find(db: &Db, t: &Tables, key: &str, now: i64) -> Result<Option<Session>, StoreError> {
    let sql = format!(
        "SELECT {}, user_name, csrf, last_seen FROM {} WHERE id_sha256 = $1 AND last_seen > $2 AND created_at > $3",
        t.owner, t.sessions
    );
    let row = [key.into(), (now - IDLE_MS).into(), (now - MAX_MS).into()];
    let Some(r) = db.fetch_optional(&sql, &row).await? else {
        return Ok(None);
    };
    if now - r.i64(3)? >= TOUCH_MS {
        // Not written: the idle clock runs a minute longer, the page is still shown.
        let sql = format!(
            "UPDATE {} SET last_seen = $2 WHERE id_sha256 = $1",
            t.sessions
        );
        let _ = db.execute(&sql, &[key.into(), now.into()]).await;
    }
    Ok(Some(Session {
        owner: r.text(0)?,
        user: r.text(1)?,
        csrf: r.text(2)?,
        key: key.to_string(),
    }))
}

/// Stores a new session.
async fn open(db: &Db, t: &Tables, s: &Session, now: i64) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO {} (id_sha256, {}, user_name, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $5)",
        t.sessions, t.owner
    );
    let row = [
        s.key.as_str().into(),
        s.owner.as_str().into(),
        s.user.as_str().into(),
        s.csrf.as_str().into(),
        now.into(),
    ];
    db.execute(&sql, &row).await.map(|_| ())
}

/// One sign-in attempt, for the record.
struct Attempt<'a> {
    ip: &'a str,
    /// SHA-256 of the card's public key, hex.
    account: Option<&'a str>,
    owner: Option<&'a str>,
    subject: Option<&'a str>,
    user_agent: Option<&'a str>,
    /// Why it failed; `None` for a success.
    detail: Option<&'a str>,
}

/// The attempt in the record and the log.
async fn record(db: &Db, t: &Tables, a: &Attempt<'_>, now: i64) {
    let sql = format!(
        "INSERT INTO {} (id, at, {}, ok, subject, ip, user_agent, detail, account) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        t.logins, t.owner
    );
    let row = [
        random_hex(12).into(),
        now.into(),
        a.owner.into(),
        i64::from(a.detail.is_none()).into(),
        a.subject.into(),
        a.ip.into(),
        a.user_agent.into(),
        a.detail.into(),
        a.account.into(),
    ];
    let _ = db.execute(&sql, &row).await;
    gongwen_net::log::info(
        if a.detail.is_none() {
            "網頁版登入"
        } else {
            "網頁版登入失敗"
        },
        serde_json::json!({ t.owner: a.owner, "subject": a.subject, "ip": a.ip, "account": a.account, "detail": a.detail }),
    );
}

/// Failed sign-ins by one address or card (`column`: ip, account) since `since`.
async fn failures(db: &Db, t: &Tables, column: &str, value: &str, since: i64) -> i64 {
    let sql = format!(
        "SELECT COUNT(*) FROM {} WHERE {column} = $1 AND ok = 0 AND at > $2",
        t.logins
    );
    let r = db.fetch_optional(&sql, &[value.into(), since.into()]).await;
    r.ok().flatten().map_or(0, |r| r.i64(0).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The agent's tables and the office's: the same shapes, another owner.
    const AGENT: Tables = Tables {
        sessions: "agent_sessions",
        challenges: "agent_challenges",
        logins: "agent_logins",
        owner: "agency",
    };
    const OFFICE: Tables = Tables {
        sessions: "office_sessions",
        challenges: "office_challenges",
        logins: "office_logins",
        owner: "person",
    };

    #[test]
    fn failures_say_why_on_the_page_again() {
        let (status, note) = Failed::Locked.again().unwrap();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(note.contains("15 分鐘"));
        let refused = Refusal::new(Code::AgentAuth, "憑證已過期");
        let (status, note) = Failed::Refused(refused.clone()).again().unwrap();
        assert_eq!(
            (status, note.as_str()),
            (StatusCode::FORBIDDEN, "無法登入：憑證已過期")
        );
        assert!(Failed::CrossSite(refused).again().is_err());
    }

    #[test]
    fn sessions_end_idle_or_old_and_failures_are_counted() {
        let dir = std::env::temp_dir().join(format!("gongwen-signin-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let url = format!("sqlite://{}", dir.join("t.db").display());
            let db = Db::connect(&url).await.unwrap();
            for t in [&AGENT, &OFFICE] {
                sessions(&db, t).await;
                counted(&db, t).await;
            }
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    async fn sessions(db: &Db, t: &Tables) {
        let s = Session {
            owner: "379130000C".into(),
            user: "王小明".into(),
            csrf: "t".into(),
            key: "k".into(),
        };
        open(db, t, &s, 0).await.unwrap();
        // Each view within the idle time restarts the clock, until the session is too old.
        let mut at = 0;
        while at + IDLE_MS - 1 < MAX_MS {
            at += IDLE_MS - 1;
            assert!(find(db, t, "k", at).await.unwrap().is_some(), "at {at}");
        }
        assert!(
            find(db, t, "k", MAX_MS).await.unwrap().is_none(),
            "ten hours at most"
        );
        let keyed = |key: &str| Session {
            key: key.into(),
            ..s.clone()
        };
        open(db, t, &keyed("k2"), 0).await.unwrap();
        assert!(
            find(db, t, "k2", IDLE_MS).await.unwrap().is_none(),
            "idle too long"
        );
    }

    async fn counted(db: &Db, t: &Tables) {
        let failed = |ip, account| Attempt {
            ip,
            account: Some(account),
            owner: None,
            subject: None,
            user_agent: None,
            detail: Some("簽章無效"),
        };
        record(db, t, &failed("10.0.0.1", "a"), 10).await;
        record(db, t, &failed("10.0.0.1", "b"), 20).await;
        let ok = Attempt {
            detail: None,
            ..failed("10.0.0.1", "a")
        };
        record(db, t, &ok, 30).await;
        assert_eq!(failures(db, t, "ip", "10.0.0.1", 0).await, 2);
        assert_eq!(failures(db, t, "account", "a", 0).await, 1);
        assert_eq!(failures(db, t, "account", "a", 10).await, 0, "since");
    }
}
