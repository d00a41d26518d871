//! The registry: centers and participants with their certificates and allowed addresses.
//! Every change commits together with its entry in the directory log.

use der::Decode;
use gongwen_proto::directory::{
    CenterKind, KeyUsage, ParticipantKind, ParticipantState, check_code, check_ip_rule, fold,
};
use gongwen_store::{Db, Row, Tx, Value};
use gongwen_trust::path::{Purpose, hex, not_after, primary_purpose, spki_sha256};
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

use crate::audit;
use crate::error::{DirectoryError, Result, bad, duplicate, internal, not_found};

/// No participant has `code`.
pub(crate) fn no_participant(code: &str) -> DirectoryError {
    not_found(format!("沒有代碼為 {code} 的參與者"))
}

/// A center as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Center {
    pub id: String,
    pub name: String,
    pub kind: CenterKind,
    pub url: String,
    /// SHA-256 (hex) of its TLS client key.
    #[serde(default)]
    pub tls_key: Option<String>,
    pub operator: String,
}

/// A participant's registered facts (what an application fills in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantInput {
    pub code: String,
    pub name: String,
    pub kind: ParticipantKind,
    /// 統一編號.
    #[serde(default)]
    pub ubn: Option<String>,
    /// 審核機關's code.
    #[serde(default)]
    pub authority: Option<String>,
    pub center: String,
    #[serde(default = "yes")]
    pub receive: bool,
    #[serde(default = "yes")]
    pub send: bool,
    #[serde(default)]
    pub operator: bool,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub contact_phone: Option<String>,
    #[serde(default)]
    pub contact_email: Option<String>,
}

fn yes() -> bool {
    true
}

/// A participant as the directory holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participant {
    #[serde(flatten)]
    pub input: ParticipantInput,
    pub state: ParticipantState,
    pub reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A registered certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertEntry {
    pub spki_sha256: String,
    pub usage: KeyUsage,
    pub not_after: i64,
    #[serde(skip)]
    pub der: Vec<u8>,
}

/// An allowed source address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpEntry {
    pub ip: String,
    pub approved_by: Option<String>,
}

/// Checks a 統一編號: 8 digits with the Ministry of Finance checksum (either rule, for the
/// numbers issued after 2023 whose check divides by 5).
pub fn check_ubn(ubn: &str) -> Result<()> {
    let d: Vec<u32> = ubn.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 8 || ubn.len() != 8 {
        return Err(bad(format!("統一編號「{ubn}」應為 8 位數字")));
    }
    const W: [u32; 8] = [1, 2, 1, 2, 1, 2, 4, 1];
    let mut sum = 0;
    for i in 0..8 {
        let p = d[i] * W[i];
        sum += p / 10 + p % 10;
    }
    let ok = sum % 5 == 0 || (d[6] == 7 && (sum + 1) % 5 == 0);
    if !ok {
        return Err(bad(format!("統一編號「{ubn}」的檢查碼不符")));
    }
    Ok(())
}

/// A center's id as centers and participants name it: 1 to 40 ASCII letters, digits, `-`, `_`.
pub fn check_center_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > 40
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad(format!(
            "交換中心代號「{id}」應為 1 到 40 個英數字、「-」或「_」"
        )));
    }
    Ok(())
}

fn check_text(what: &str, value: &str, max: usize) -> Result<()> {
    let n = value.trim().chars().count();
    if n == 0 || n > max || value.chars().any(char::is_control) {
        return Err(bad(format!(
            "{what}「{value}」應為 1 到 {max} 個字，且不含控制字元"
        )));
    }
    Ok(())
}

impl ParticipantInput {
    /// Every field checked, with a zh-TW message naming the field.
    pub fn check(&self) -> Result<()> {
        check_code(&self.code).map_err(bad)?;
        check_text("名稱", &self.name, 100)?;
        check_center_id(&self.center)?;
        if let Some(u) = &self.ubn {
            check_ubn(u)?;
        }
        if let Some(a) = &self.authority {
            check_code(a).map_err(|e| bad(format!("審核機關：{e}")))?;
        }
        if !self.receive && !self.send {
            return Err(bad("收文、發文功能至少要有一項"));
        }
        for (what, v, max) in [
            ("聯絡人", &self.contact_name, 50),
            ("聯絡電話", &self.contact_phone, 30),
            ("電子郵件", &self.contact_email, 100),
        ] {
            if let Some(v) = v {
                check_text(what, v, max)?;
            }
        }
        if let Some(e) = &self.contact_email
            && !e.contains('@')
        {
            return Err(bad(format!("電子郵件「{e}」格式不對")));
        }
        Ok(())
    }
}

fn json(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Centers

const CENTER_COLS: &str = "id, name, kind, url, tls_key, operator";

fn center_of(r: &Row) -> Result<Center> {
    let kind = r.text(2)?;
    Ok(Center {
        id: r.text(0)?,
        name: r.text(1)?,
        kind: CenterKind::parse(&kind)
            .ok_or_else(|| internal(format!("交換中心種類「{kind}」")))?,
        url: r.text(3)?,
        tls_key: r.opt_text(4)?,
        operator: r.text(5)?,
    })
}

pub async fn centers(db: &Db) -> Result<Vec<Center>> {
    db.fetch_all(
        &format!("SELECT {CENTER_COLS} FROM dir_centers ORDER BY id"),
        &[],
    )
    .await?
    .iter()
    .map(center_of)
    .collect()
}

/// The SHA-256 (hex) of the first certificate's public key in PEM or DER `data`.
pub fn key_of(data: &[u8]) -> Result<String> {
    let certs = load_certs(data)?;
    let first = certs.first().ok_or_else(|| bad("沒有憑證"))?;
    Ok(hex(&spki_sha256(first).map_err(|e| bad(e.to_string()))?))
}

fn load_certs(data: &[u8]) -> Result<Vec<Certificate>> {
    gongwen_trust::cms::load_certs(data)
        .or_else(|_| {
            Certificate::from_der(data)
                .map(|c| vec![c])
                .map_err(|e| e.to_string())
        })
        .map_err(|e| bad(format!("憑證無法讀取：{e}")))
}

/// Registers a center or changes its entry.
pub async fn put_center(db: &Db, c: &Center, actor: &str, now: i64) -> Result<()> {
    check_center_id(&c.id)?;
    check_text("交換中心名稱", &c.name, 100)?;
    check_text("營運機關", &c.operator, 100)?;
    if !c.url.starts_with("https://") || c.url.len() > 200 {
        return Err(bad(format!("交換中心網址「{}」應以 https:// 開頭", c.url)));
    }
    let mut tx = db.begin().await?;
    let existed = found(&mut tx, CENTER_BY_ID, &c.id).await?;
    tx.execute(
        "INSERT INTO dir_centers (id, name, kind, url, tls_key, operator, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET name = $2, kind = $3, url = $4, tls_key = $5, operator = $6, updated_at = $7",
        &[
            c.id.as_str().into(),
            c.name.as_str().into(),
            c.kind.as_str().into(),
            c.url.as_str().into(),
            c.tls_key.clone().into(),
            c.operator.as_str().into(),
            now.into(),
        ],
    )
    .await?;
    let action = if existed {
        "center.changed"
    } else {
        "center.registered"
    };
    audit::record(&mut tx, now, actor, action, &c.id, json(c)).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Participants

const COLS: &str = "code, name, kind, ubn, authority, center, receive, send, operator, contact_name, \
                    contact_phone, contact_email, state, state_reason, created_at, updated_at";

fn participant_of(r: &Row) -> Result<Participant> {
    let kind = r.text(2)?;
    let state = r.text(12)?;
    Ok(Participant {
        input: ParticipantInput {
            code: r.text(0)?,
            name: r.text(1)?,
            kind: ParticipantKind::parse(&kind)
                .ok_or_else(|| internal(format!("參與者種類「{kind}」")))?,
            ubn: r.opt_text(3)?,
            authority: r.opt_text(4)?,
            center: r.text(5)?,
            receive: r.bool(6)?,
            send: r.bool(7)?,
            operator: r.bool(8)?,
            contact_name: r.opt_text(9)?,
            contact_phone: r.opt_text(10)?,
            contact_email: r.opt_text(11)?,
        },
        state: ParticipantState::parse(&state)
            .ok_or_else(|| internal(format!("參與者狀態「{state}」")))?,
        reason: r.opt_text(13)?,
        created_at: r.i64(14)?,
        updated_at: r.i64(15)?,
    })
}

pub async fn get(db: &Db, code: &str) -> Result<Option<Participant>> {
    db.fetch_optional(
        &format!("SELECT {COLS} FROM dir_participants WHERE code = $1"),
        &[code.into()],
    )
    .await?
    .map(|r| participant_of(&r))
    .transpose()
}

pub async fn require(db: &Db, code: &str) -> Result<Participant> {
    get(db, code).await?.ok_or_else(|| no_participant(code))
}

/// Every participant, by code.
pub async fn all(db: &Db) -> Result<Vec<Participant>> {
    db.fetch_all(
        &format!("SELECT {COLS} FROM dir_participants ORDER BY code"),
        &[],
    )
    .await?
    .iter()
    .map(participant_of)
    .collect()
}

/// Whether `sql`, a SELECT of one key, finds a row.
async fn found(tx: &mut Tx, sql: &str, key: &str) -> Result<bool> {
    Ok(tx.fetch_optional(sql, &[key.into()]).await?.is_some())
}

/// Whether a participant row with `code` exists (in any state).
pub(crate) async fn registered(tx: &mut Tx, code: &str) -> Result<bool> {
    found(
        tx,
        "SELECT code FROM dir_participants WHERE code = $1",
        code,
    )
    .await
}

const CENTER_BY_ID: &str = "SELECT id FROM dir_centers WHERE id = $1";

pub(crate) async fn center_exists(tx: &mut Tx, id: &str) -> Result<()> {
    if !found(tx, CENTER_BY_ID, id).await? {
        return Err(bad(format!("交換中心「{id}」未登記")));
    }
    Ok(())
}

/// The facts as $1…$13.
fn fact_args(p: &ParticipantInput) -> Vec<Value> {
    vec![
        p.code.as_str().into(),
        p.name.trim().into(),
        fold(&p.name).into(),
        p.kind.as_str().into(),
        p.ubn.clone().into(),
        p.authority.clone().into(),
        p.center.as_str().into(),
        p.receive.into(),
        p.send.into(),
        p.operator.into(),
        p.contact_name.clone().into(),
        p.contact_phone.clone().into(),
        p.contact_email.clone().into(),
    ]
}

const INSERT: &str = "INSERT INTO dir_participants (code, name, name_folded, kind, ubn, authority, center, receive, send, operator, \
     contact_name, contact_phone, contact_email, state, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";

/// The row alone: the caller has checked the facts, the code and the center, and logs.
/// `updated_at` is the entry's last change as the address book shows it (an import keeps the
/// file's `UPDATETIME`); otherwise `now`.
pub(crate) async fn insert_row(
    tx: &mut Tx,
    p: &ParticipantInput,
    state: ParticipantState,
    now: i64,
    updated_at: i64,
) -> Result<()> {
    let mut args = fact_args(p);
    args.extend([state.as_str().into(), now.into(), updated_at.into()]);
    tx.execute(INSERT, &args).await?;
    Ok(())
}

/// Adds a participant inside the caller's transaction (activation of an application).
pub async fn insert_in(
    tx: &mut Tx,
    p: &ParticipantInput,
    state: ParticipantState,
    actor: &str,
    now: i64,
) -> Result<()> {
    p.check()?;
    if registered(tx, &p.code).await? {
        return Err(duplicate(format!("機關代碼 {} 已登記", p.code)));
    }
    center_exists(tx, &p.center).await?;
    insert_row(tx, p, state, now, now).await?;
    Ok(audit::record(
        tx,
        now,
        actor,
        "participant.added",
        &p.code,
        json(&(p, state)),
    )
    .await?)
}

/// Registers a new participant, active at once (an administrator's direct entry; applicants
/// go through review).
pub async fn add(db: &Db, p: &ParticipantInput, actor: &str, now: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    insert_in(&mut tx, p, ParticipantState::Active, actor, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Changes a participant's registered facts (異動); the code and the state stay.
pub async fn change(db: &Db, p: &ParticipantInput, actor: &str, now: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    change_in(&mut tx, p, actor, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn change_in(tx: &mut Tx, p: &ParticipantInput, actor: &str, now: i64) -> Result<()> {
    p.check()?;
    center_exists(tx, &p.center).await?;
    let mut args = fact_args(p);
    args.push(now.into());
    let n = tx
        .execute(
            "UPDATE dir_participants SET name = $2, name_folded = $3, kind = $4, ubn = $5, authority = $6, center = $7, \
             receive = $8, send = $9, operator = $10, contact_name = $11, contact_phone = $12, contact_email = $13, updated_at = $14 \
             WHERE code = $1",
            &args,
        )
        .await?;
    if n == 0 {
        return Err(no_participant(&p.code));
    }
    Ok(audit::record(tx, now, actor, "participant.changed", &p.code, json(p)).await?)
}

/// Moves a participant to `state`, with the reason it will be told (required unless active).
pub async fn set_state(
    db: &Db,
    code: &str,
    state: ParticipantState,
    reason: Option<&str>,
    actor: &str,
    now: i64,
) -> Result<()> {
    let mut tx = db.begin().await?;
    set_state_in(&mut tx, code, state, reason, actor, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_state_in(
    tx: &mut Tx,
    code: &str,
    state: ParticipantState,
    reason: Option<&str>,
    actor: &str,
    now: i64,
) -> Result<()> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if state != ParticipantState::Active && reason.is_none() {
        return Err(bad("暫停、中止或註銷須註明原因（會告知參與者）"));
    }
    if let Some(r) = reason {
        check_text("原因", r, 500)?;
    }
    let n = tx
        .execute(
            "UPDATE dir_participants SET state = $2, state_reason = $3, updated_at = $4, \
             suspended_for = CASE WHEN $2 = 'suspended' THEN 'manual' ELSE NULL END WHERE code = $1",
            &[code.into(), state.as_str().into(), reason.into(), now.into()],
        )
        .await?;
    if n == 0 {
        return Err(no_participant(code));
    }
    let action = format!("participant.{}", state.as_str());
    Ok(audit::record(
        tx,
        now,
        actor,
        &action,
        code,
        serde_json::json!({ "reason": reason }),
    )
    .await?)
}

// ---------------------------------------------------------------------------
// Certificates and addresses

/// Reads certificates (PEM or DER); each one's use is read from the certificate unless
/// `usage` says it.
pub fn read_certs(data: &[u8], usage: Option<KeyUsage>) -> Result<Vec<CertEntry>> {
    let mut out = Vec::new();
    for cert in load_certs(data)? {
        let u = match usage {
            Some(u) => u,
            None => match primary_purpose(&cert) {
                Some(Purpose::TlsClient) => KeyUsage::Tls,
                Some(Purpose::Signing) => KeyUsage::Signing,
                Some(Purpose::Encryption) => KeyUsage::Encryption,
                _ => {
                    return Err(bad(
                        "憑證的金鑰用途看不出是 TLS 用戶端、簽章或加密，請指定用途",
                    ));
                }
            },
        };
        let spki = hex(&spki_sha256(&cert).map_err(|e| bad(e.to_string()))?);
        let der = der::Encode::to_der(&cert).map_err(|e| bad(e.to_string()))?;
        out.push(CertEntry {
            spki_sha256: spki,
            usage: u,
            not_after: not_after(&cert) * 1000,
            der,
        });
    }
    Ok(out)
}

/// Registers certificates (PEM or DER) for a participant.
pub async fn add_certs(
    db: &Db,
    code: &str,
    data: &[u8],
    usage: Option<KeyUsage>,
    actor: &str,
    now: i64,
) -> Result<Vec<CertEntry>> {
    require(db, code).await?;
    let out = read_certs(data, usage)?;
    let mut tx = db.begin().await?;
    put_certs_in(&mut tx, code, &out, actor, now).await?;
    tx.commit().await?;
    Ok(out)
}

/// Registers read certificates in the caller's transaction; a key registered to someone
/// else is refused.
pub async fn put_certs_in(
    tx: &mut Tx,
    code: &str,
    certs: &[CertEntry],
    actor: &str,
    now: i64,
) -> Result<()> {
    for c in certs {
        key_free_for(tx, &c.spki_sha256, code, "此憑證").await?;
        tx.execute(
            "INSERT INTO dir_certs (spki_sha256, code, usage, not_after, cert) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (spki_sha256) DO UPDATE SET usage = $3, not_after = $4, cert = $5",
            &[
                c.spki_sha256.as_str().into(),
                code.into(),
                c.usage.as_str().into(),
                c.not_after.into(),
                c.der.clone().into(),
            ],
        )
        .await?;
        audit::record(tx, now, actor, "cert.registered", code, json(c)).await?;
    }
    Ok(())
}

/// Refuses a key (SHA-256 of its SPKI) registered to anyone but `code`; `what` names the
/// certificate in the message.
pub(crate) async fn key_free_for(tx: &mut Tx, spki: &str, code: &str, what: &str) -> Result<()> {
    if let Some(r) = tx
        .fetch_optional(
            "SELECT code FROM dir_certs WHERE spki_sha256 = $1",
            &[spki.into()],
        )
        .await?
    {
        let owner = r.text(0)?;
        if owner != code {
            return Err(duplicate(format!("{what}的公鑰已登記給 {owner}")));
        }
    }
    Ok(())
}

/// Deletes one of a participant's rows (`sql` takes the code and the key), with its log entry.
async fn remove_row(
    db: &Db,
    sql: &str,
    (code, key): (&str, &str),
    missing: String,
    action: &str,
    detail: serde_json::Value,
    (actor, now): (&str, i64),
) -> Result<()> {
    let mut tx = db.begin().await?;
    if tx.execute(sql, &[code.into(), key.into()]).await? == 0 {
        return Err(not_found(missing));
    }
    audit::record(&mut tx, now, actor, action, code, detail).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove_cert(db: &Db, code: &str, spki: &str, actor: &str, now: i64) -> Result<()> {
    remove_row(
        db,
        "DELETE FROM dir_certs WHERE code = $1 AND spki_sha256 = $2",
        (code, spki),
        format!("{code} 沒有登記公鑰 {spki}"),
        "cert.removed",
        serde_json::json!({ "spki_sha256": spki }),
        (actor, now),
    )
    .await
}

pub async fn certs(db: &Db, code: &str) -> Result<Vec<CertEntry>> {
    let rows = db
        .fetch_all(
            "SELECT spki_sha256, usage, not_after, cert FROM dir_certs WHERE code = $1 ORDER BY usage, not_after",
            &[code.into()],
        )
        .await?;
    rows.iter().map(cert_of).collect()
}

fn cert_of(r: &Row) -> Result<CertEntry> {
    let usage = r.text(1)?;
    Ok(CertEntry {
        spki_sha256: r.text(0)?,
        usage: KeyUsage::parse(&usage).ok_or_else(|| internal(format!("金鑰用途「{usage}」")))?,
        not_after: r.i64(2)?,
        der: r.bytes(3)?,
    })
}

/// Adds an allowed source address. One fixed address is the rule; a second address or a
/// network is an exception someone approved.
pub async fn add_ip(
    db: &Db,
    code: &str,
    rule: &str,
    approved_by: Option<&str>,
    actor: &str,
    now: i64,
) -> Result<()> {
    require(db, code).await?;
    check_ip_rule(rule).map_err(bad)?;
    let existing = ips(db, code).await?;
    let exception = rule.contains('/') || existing.iter().any(|r| r.ip != rule);
    let approved_by = approved_by.map(str::trim).filter(|a| !a.is_empty());
    if exception && approved_by.is_none() {
        return Err(bad(
            "每個參與者原則上只登記一個固定 IP；多個位址或網段屬例外，須記錄核准人",
        ));
    }
    let mut tx = db.begin().await?;
    put_ip_in(&mut tx, code, rule, approved_by, actor, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Records an allowed address in the caller's transaction (checked by the caller).
pub async fn put_ip_in(
    tx: &mut Tx,
    code: &str,
    rule: &str,
    approved_by: Option<&str>,
    actor: &str,
    now: i64,
) -> Result<()> {
    check_ip_rule(rule).map_err(bad)?;
    tx.execute(
        "INSERT INTO dir_ips (code, ip, approved_by) VALUES ($1, $2, $3) ON CONFLICT (code, ip) DO UPDATE SET approved_by = $3",
        &[code.into(), rule.into(), approved_by.into()],
    )
    .await?;
    Ok(audit::record(
        tx,
        now,
        actor,
        "ip.added",
        code,
        serde_json::json!({ "ip": rule, "approved_by": approved_by }),
    )
    .await?)
}

pub async fn remove_ip(db: &Db, code: &str, rule: &str, actor: &str, now: i64) -> Result<()> {
    remove_row(
        db,
        "DELETE FROM dir_ips WHERE code = $1 AND ip = $2",
        (code, rule),
        format!("{code} 沒有登記 {rule}"),
        "ip.removed",
        serde_json::json!({ "ip": rule }),
        (actor, now),
    )
    .await
}

/// Drops a participant's keys and addresses before an application replaces them.
pub(crate) async fn clear_keys_in(tx: &mut Tx, code: &str) -> Result<()> {
    tx.execute("DELETE FROM dir_certs WHERE code = $1", &[code.into()])
        .await?;
    tx.execute("DELETE FROM dir_ips WHERE code = $1", &[code.into()])
        .await?;
    Ok(())
}

pub async fn ips(db: &Db, code: &str) -> Result<Vec<IpEntry>> {
    db.fetch_all(
        "SELECT ip, approved_by FROM dir_ips WHERE code = $1 ORDER BY ip",
        &[code.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(IpEntry {
            ip: r.text(0)?,
            approved_by: r.opt_text(1)?,
        })
    })
    .collect()
}

// ---------------------------------------------------------------------------
// Shared groups

/// Replaces a shared group's members (an empty list deletes the group).
pub async fn set_group(
    db: &Db,
    name: &str,
    members: &[String],
    actor: &str,
    now: i64,
) -> Result<()> {
    check_text("群組名稱", name, 50)?;
    if members.len() > 5000 {
        return Err(bad("群組成員最多 5000 個機關代碼"));
    }
    let mut tx = db.begin().await?;
    tx.execute(
        "DELETE FROM dir_group_members WHERE name = $1",
        &[name.into()],
    )
    .await?;
    let mut seen = std::collections::BTreeSet::new();
    for m in members {
        check_code(m).map_err(bad)?;
        if !seen.insert(m.as_str()) {
            continue;
        }
        if !registered(&mut tx, m).await? {
            return Err(bad(format!("群組成員 {m} 不在通訊錄")));
        }
        tx.execute(
            "INSERT INTO dir_group_members (name, member) VALUES ($1, $2)",
            &[name.into(), m.as_str().into()],
        )
        .await?;
    }
    audit::record(&mut tx, now, actor, "group.set", name, json(&seen)).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ubn_checksum() {
        assert!(check_ubn("04595257").is_ok());
        assert!(check_ubn("10458575").is_ok());
        assert!(check_ubn("04595258").is_err());
        assert!(check_ubn("1234567").is_err());
        assert!(check_ubn("1234567a").is_err());
    }
}
