//! Who may use this center: participants, their certificates (by key digest and use), their
//! allowed source addresses, and distribution groups (行文群組). These are the center's own
//! tables; the directory service (`gongwen-directory`) is another process, whose signed
//! snapshot can fill them.
//!
//! Today an administrator fills these tables (`gongwen center admin …` or a participants
//! file); the directory's signed snapshot will fill the same tables, and nothing that reads
//! them changes.

use der::Decode;
use gongwen_proto::Code;
use gongwen_store::{Db, Value, args};
use gongwen_trust::path::{Purpose, not_after, primary_purpose, spki_sha256};
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

use crate::Result;
use gongwen_net::Refusal;

fn bad(detail: impl Into<String>) -> Refusal {
    Refusal::new(Code::BadRequest, detail)
}

fn not_found(detail: impl Into<String>) -> Refusal {
    Refusal::new(Code::NotFound, detail)
}

/// A participant's standing. Only `active` ones send or receive.
pub use gongwen_proto::directory::ParticipantState as Standing;

/// What a key is registered for.
pub use gongwen_proto::directory::KeyUsage as KeyUse;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participant {
    pub code: String,
    pub name: String,
    pub standing: Standing,
    pub reason: Option<String>,
    /// `None`: registered at this center.
    pub center: Option<String>,
    pub webhook_url: Option<String>,
    pub operator: bool,
}

/// An allowed source: one address, or a network (`10.1.2.0/24`) recorded as an exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpRule {
    pub ip: String,
    pub approved_by: Option<String>,
    pub note: Option<String>,
}

pub use gongwen_proto::directory::ip_matches;

/// Checks a rule as an administrator types it.
pub fn check_ip_rule(rule: &str) -> Result<()> {
    gongwen_proto::directory::check_ip_rule(rule).map_err(bad)
}

/// Bumped by every change made in this process, so cached lookups notice at once; changes
/// made by another process (`gongwen center admin`) are noticed within [`CACHE_TTL_MS`].
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How long a cached directory lookup is trusted.
pub const CACHE_TTL_MS: i64 = 2000;

pub fn generation() -> u64 {
    GENERATION.load(std::sync::atomic::Ordering::Acquire)
}

/// Drops every cached lookup in this process.
pub fn changed() {
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
}

/// A small cache of directory lookups, dropped on any change in this process and after
/// [`CACHE_TTL_MS`] in any case.
pub struct Cache<K, V> {
    map: std::sync::Mutex<std::collections::HashMap<K, (u64, i64, V)>>,
}

impl<K: std::hash::Hash + Eq, V: Clone> Default for Cache<K, V> {
    fn default() -> Self {
        Cache {
            map: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }
}

impl<K: std::hash::Hash + Eq, V: Clone> Cache<K, V> {
    pub fn get(&self, k: &K, now_ms: i64) -> Option<V> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let (g, at, v) = map.get(k)?;
        (*g == generation() && (now_ms - at).abs() < CACHE_TTL_MS).then(|| v.clone())
    }

    /// `seen_gen` is [`generation`] as read before the lookup, so a change during it is not hidden.
    pub fn put(&self, k: K, v: V, seen_gen: u64, now_ms: i64) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(k, (seen_gen, now_ms, v));
    }

    /// The value cached for `k`, or else what `load` finds (then cached). `load` is a future,
    /// so it runs only when the cache has nothing, after [`generation`] is read.
    pub async fn get_or_load(
        &self,
        k: K,
        now_ms: i64,
        load: impl std::future::Future<Output = Result<V>>,
    ) -> Result<V> {
        if let Some(v) = self.get(&k, now_ms) {
            return Ok(v);
        }
        let seen_gen = generation();
        let v = load.await?;
        self.put(k, v.clone(), seen_gen, now_ms);
        Ok(v)
    }
}

fn participant_of(r: &gongwen_store::Row) -> Result<Participant> {
    let standing = r.text(2)?;
    Ok(Participant {
        code: r.text(0)?,
        name: r.text(1)?,
        standing: Standing::parse(&standing).ok_or_else(|| {
            Refusal::new(Code::Internal, format!("參與者狀態「{standing}」不認得"))
        })?,
        reason: r.opt_text(3)?,
        center: r.opt_text(4)?,
        webhook_url: r.opt_text(5)?,
        operator: r.bool(6)?,
    })
}

const PARTICIPANT_COLS: &str = "code, name, state, state_reason, center, webhook_url, operator";

pub async fn get(db: &Db, code: &str) -> Result<Option<Participant>> {
    db.fetch_optional(
        &format!("SELECT {PARTICIPANT_COLS} FROM participants WHERE code = $1"),
        &args![code],
    )
    .await?
    .map(|r| participant_of(&r))
    .transpose()
}

/// Participants whose code or name contains `q` (臺 and 台 alike), active ones only, at most
/// `limit`: what a sender picks recipients from.
pub async fn search(db: &Db, q: &str, limit: i64) -> Result<Vec<gongwen_proto::api::Listing>> {
    let q = gongwen_proto::directory::fold(q.trim());
    let like = |s: &str| {
        format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    };
    let rows = db
        .fetch_all(
            "SELECT code, name, center FROM participants WHERE state = 'active' \
             AND (code LIKE $1 ESCAPE '\\' OR name LIKE $2 ESCAPE '\\' OR name LIKE $3 ESCAPE '\\') ORDER BY code LIMIT $4",
            &args![
                like(&q.to_uppercase()),
                like(&q),
                like(&q.replace('台', "臺")),
                limit
            ],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(gongwen_proto::api::Listing {
                code: r.text(0)?,
                name: r.text(1)?,
                center: r.opt_text(2)?,
            })
        })
        .collect()
}

pub async fn list(db: &Db) -> Result<Vec<Participant>> {
    db.fetch_all(
        &format!("SELECT {PARTICIPANT_COLS} FROM participants ORDER BY code"),
        &[],
    )
    .await?
    .iter()
    .map(participant_of)
    .collect()
}

/// The key digests registered for a participant and use (what `check_binding` needs).
pub async fn keys(db: &Db, code: &str, usage: KeyUse) -> Result<Vec<[u8; 32]>> {
    let rows = db
        .fetch_all(
            "SELECT spki_sha256 FROM participant_keys WHERE code = $1 AND usage = $2",
            &args![code, usage.as_str()],
        )
        .await?;
    let mut out = Vec::new();
    for r in rows {
        if let Some(k) = gongwen_trust::path::unhex32(&r.text(0)?) {
            out.push(k);
        }
    }
    Ok(out)
}

/// The DER certificates registered for a participant and use.
pub async fn certs(db: &Db, code: &str, usage: KeyUse) -> Result<Vec<Vec<u8>>> {
    db.fetch_all(
        "SELECT cert FROM participant_keys WHERE code = $1 AND usage = $2 ORDER BY not_after DESC",
        &args![code, usage.as_str()],
    )
    .await?
    .iter()
    .map(|r| Ok(r.bytes(0)?))
    .collect()
}

pub async fn ip_rules(db: &Db, code: &str) -> Result<Vec<IpRule>> {
    db.fetch_all(
        "SELECT ip, approved_by, note FROM participant_ips WHERE code = $1 ORDER BY ip",
        &args![code],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(IpRule {
            ip: r.text(0)?,
            approved_by: r.opt_text(1)?,
            note: r.opt_text(2)?,
        })
    })
    .collect()
}

pub fn hex(b: &[u8]) -> String {
    gongwen_trust::path::hex(b)
}

/// What an administrator registers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantInput {
    pub code: String,
    pub name: String,
    /// Another center's id when the participant lives there.
    #[serde(default)]
    pub center: Option<String>,
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub operator: bool,
}

/// Adds or renames a participant (its standing is kept).
pub async fn upsert(db: &Db, p: &ParticipantInput, now_ms: i64) -> Result<()> {
    check_code(&p.code)?;
    if p.name.trim().is_empty() || p.name.chars().count() > 100 {
        return Err(bad(format!("參與者名稱「{}」應為 1 到 100 個字", p.name)));
    }
    let sql = "INSERT INTO participants (code, name, state, center, webhook_url, operator, updated_at) \
               VALUES ($1, $2, 'active', $3, $4, $5, $6) \
               ON CONFLICT (code) DO UPDATE SET name = $2, center = $3, webhook_url = $4, operator = $5, updated_at = $6";
    db.execute(
        sql,
        &args![
            p.code.as_str(),
            p.name.as_str(),
            p.center.clone(),
            p.webhook_url.clone(),
            p.operator,
            now_ms
        ],
    )
    .await?;
    changed();
    Ok(())
}

pub fn check_code(code: &str) -> Result<()> {
    gongwen_proto::directory::check_code(code).map_err(bad)
}

async fn require(db: &Db, code: &str) -> Result<Participant> {
    get(db, code)
        .await?
        .ok_or_else(|| not_found(format!("沒有代碼為 {code} 的參與者")))
}

/// Registers certificates (PEM or DER) for a participant; the use is read from each
/// certificate unless `usage` says it.
pub async fn add_certs(
    db: &Db,
    code: &str,
    data: &[u8],
    usage: Option<KeyUse>,
) -> Result<Vec<(KeyUse, String)>> {
    require(db, code).await?;
    let certs = gongwen_trust::cms::load_certs(data)
        .or_else(|_| {
            Certificate::from_der(data)
                .map(|c| vec![c])
                .map_err(|e| e.to_string())
        })
        .map_err(|e| bad(format!("憑證無法讀取：{e}")))?;
    let mut out = Vec::new();
    for cert in certs {
        let u = match usage {
            Some(u) => u,
            None => match primary_purpose(&cert) {
                Some(Purpose::TlsClient) => KeyUse::Tls,
                Some(Purpose::Signing) => KeyUse::Signing,
                Some(Purpose::Encryption) => KeyUse::Encryption,
                _ => {
                    return Err(bad(
                        "憑證的金鑰用途看不出是 TLS 用戶端、簽章或加密，請指定用途",
                    ));
                }
            },
        };
        let spki = hex(&spki_sha256(&cert).map_err(|e| bad(e.to_string()))?);
        let der = der::Encode::to_der(&cert).map_err(|e| bad(e.to_string()))?;
        let sql = "INSERT INTO participant_keys (spki_sha256, code, usage, not_after, cert) VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (spki_sha256) DO UPDATE SET code = $2, usage = $3, not_after = $4, cert = $5";
        db.execute(
            sql,
            &args![
                spki.as_str(),
                code,
                u.as_str(),
                not_after(&cert) * 1000,
                der
            ],
        )
        .await?;
        out.push((u, spki));
    }
    changed();
    Ok(out)
}

pub async fn add_ip(
    db: &Db,
    code: &str,
    rule: &str,
    approved_by: Option<&str>,
    note: Option<&str>,
) -> Result<()> {
    require(db, code).await?;
    check_ip_rule(rule)?;
    let existing = ip_rules(db, code).await?;
    // One fixed IP is the rule; a second address or a network is an exception someone approved.
    let exception = rule.contains('/') || existing.iter().any(|r| r.ip != rule);
    if exception && approved_by.is_none_or(|a| a.trim().is_empty()) {
        return Err(bad(
            "每個參與者原則上只登記一個固定 IP；多個位址或網段屬例外，須記錄核准人（--approved-by）",
        ));
    }
    db.execute(
        "INSERT INTO participant_ips (code, ip, approved_by, note) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (code, ip) DO UPDATE SET approved_by = $3, note = $4",
        &args![code, rule, approved_by, note],
    )
    .await?;
    changed();
    Ok(())
}

/// Runs a DELETE that must remove something; `missing` says what was not there.
async fn delete(db: &Db, sql: &str, args: &[Value], missing: String) -> Result<()> {
    if db.execute(sql, args).await? == 0 {
        return Err(not_found(missing));
    }
    Ok(())
}

pub async fn remove_ip(db: &Db, code: &str, rule: &str) -> Result<()> {
    let sql = "DELETE FROM participant_ips WHERE code = $1 AND ip = $2";
    delete(
        db,
        sql,
        &args![code, rule],
        format!("{code} 沒有登記 {rule}"),
    )
    .await?;
    changed();
    Ok(())
}

/// Changes a participant's standing, with the reason people will be told.
pub async fn set_standing(
    db: &Db,
    code: &str,
    standing: Standing,
    reason: Option<&str>,
    actor: &str,
    now_ms: i64,
) -> Result<()> {
    require(db, code).await?;
    if standing != Standing::Active && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(bad("停用、終止或註銷須註明原因（會告知參與者）"));
    }
    let mut tx = db.begin().await?;
    tx.execute(
        "UPDATE participants SET state = $2, state_reason = $3, updated_at = $4 WHERE code = $1",
        &args![code, standing.as_str(), reason, now_ms],
    )
    .await?;
    crate::records::event_in(
        &mut tx,
        crate::records::Event {
            recipient: Some(code),
            detail: reason,
            ..crate::records::Event::new(
                now_ms,
                actor,
                &format!("participant_{}", standing.as_str()),
            )
        },
    )
    .await?;
    tx.commit().await?;
    changed();
    Ok(())
}

/// Suspends every active participant whose TLS or signing certificates have all expired
/// (a participant with none registered is left alone). Returns the codes suspended.
pub async fn suspend_expired(db: &Db, now_ms: i64) -> Result<Vec<String>> {
    let rows = db
        .fetch_all(
            "SELECT p.code, k.usage, MAX(k.not_after) FROM participants p JOIN participant_keys k ON k.code = p.code \
             WHERE p.state = 'active' AND p.center IS NULL AND k.usage IN ('tls', 'signing') GROUP BY p.code, k.usage",
            &[],
        )
        .await?;
    let mut expired: Vec<(String, i64)> = Vec::new();
    for r in rows {
        let last = r.i64(2)?;
        if last < now_ms {
            expired.push((r.text(0)?, last));
        }
    }
    expired.sort();
    expired.dedup_by(|a, b| a.0 == b.0);
    let mut out = Vec::new();
    for (code, last) in expired {
        let reason = format!(
            "憑證已於 {} 到期，自動停用；更新憑證後由管理者恢復",
            gongwen_trust::path::roc_datetime(last / 1000)
        );
        set_standing(
            db,
            &code,
            Standing::Suspended,
            Some(&reason),
            "center",
            now_ms,
        )
        .await?;
        out.push(code);
    }
    Ok(out)
}

/// A group's name as people type it.
pub fn check_group_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.chars().count() > 50 || name.contains('/') {
        return Err(bad(format!(
            "群組名稱「{name}」應為 1 到 50 個字，且不含「/」"
        )));
    }
    Ok(())
}

/// The owner value of the center's shared groups.
pub const SHARED: &str = "";

/// Replaces a group's members (creating it).
pub async fn set_group(
    db: &Db,
    owner: &str,
    name: &str,
    members: &[String],
    now_ms: i64,
) -> Result<()> {
    check_group_name(name)?;
    if members.is_empty() || members.len() > 5000 {
        return Err(bad("群組成員應為 1 到 5000 個機關代碼"));
    }
    for m in members {
        check_code(m)?;
    }
    let mut tx = db.begin().await?;
    tx.execute(
        "DELETE FROM groups WHERE owner = $1 AND name = $2",
        &args![owner, name],
    )
    .await?;
    tx.execute(
        "INSERT INTO groups (owner, name, updated_at) VALUES ($1, $2, $3)",
        &args![owner, name, now_ms],
    )
    .await?;
    let mut seen = std::collections::BTreeSet::new();
    for m in members {
        if seen.insert(m.as_str()) {
            tx.execute(
                "INSERT INTO group_members (owner, name, member) VALUES ($1, $2, $3)",
                &args![owner, name, m.as_str()],
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub async fn delete_group(db: &Db, owner: &str, name: &str) -> Result<()> {
    let sql = "DELETE FROM groups WHERE owner = $1 AND name = $2";
    delete(db, sql, &args![owner, name], format!("沒有群組「{name}」")).await
}

/// Groups a participant may address: its own, then the shared ones.
pub async fn groups_for(db: &Db, code: &str) -> Result<Vec<gongwen_proto::api::Group>> {
    let rows = db
        .fetch_all(
            "SELECT g.owner, g.name, m.member FROM groups g JOIN group_members m ON m.owner = g.owner AND m.name = g.name \
             WHERE g.owner = $1 OR g.owner = '' ORDER BY g.owner DESC, g.name, m.member",
            &args![code],
        )
        .await?;
    let mut out: Vec<gongwen_proto::api::Group> = Vec::new();
    for r in rows {
        let owner = r.text(0)?;
        let name = r.text(1)?;
        let member = r.text(2)?;
        let owner = if owner.is_empty() {
            "共用".to_string()
        } else {
            owner
        };
        match out.last_mut() {
            Some(g) if g.owner == owner && g.name == name => g.members.push(member),
            _ => out.push(gongwen_proto::api::Group {
                name,
                owner,
                members: vec![member],
            }),
        }
    }
    Ok(out)
}

/// Deletes a participant's registration of one key.
pub async fn remove_key(db: &Db, spki_hex: &str) -> Result<()> {
    let sql = "DELETE FROM participant_keys WHERE spki_sha256 = $1";
    delete(
        db,
        sql,
        &args![spki_hex],
        format!("沒有登記金鑰 {spki_hex}"),
    )
    .await?;
    changed();
    Ok(())
}

/// Where a participant wants status notifications, and the key that signs them.
pub async fn set_webhook(
    db: &Db,
    code: &str,
    url: Option<&str>,
    secret: Option<&str>,
) -> Result<()> {
    require(db, code).await?;
    if let Some(u) = url
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        return Err(bad(format!("通知網址「{u}」應以 https:// 或 http:// 開頭")));
    }
    if url.is_some() && secret.is_none_or(|s| s.len() < 16) {
        return Err(bad("通知的簽章金鑰至少 16 個字元"));
    }
    db.execute(
        "UPDATE participants SET webhook_url = $2, webhook_secret = $3 WHERE code = $1",
        &args![code, url, secret],
    )
    .await?;
    changed();
    Ok(())
}
