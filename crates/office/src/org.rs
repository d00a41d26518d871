//! The agency's organisation: units in a tree (agency → 一級單位 → 二級單位), people with their
//! titles and signing certificates, roles, and deputies (職務代理人) within date ranges.

use gongwen_proto::Code;
use gongwen_store::{Db, Row, StoreError};

use crate::{OfficeError, bad, check_day, check_text};

/// What a person may do (seed 003's training table). Desk and supervisor roles are held for a
/// unit; the others for the agency (its root unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// 收發: registers incoming documents, dispatches decided drafts.
    Clerk,
    /// 登記桌: assigns documents to a unit, or inside its unit to an officer.
    Desk,
    /// 承辦人.
    Officer,
    /// 主管 of a unit: reviews and decides at the unit's level.
    Supervisor,
    /// 首長: the top level.
    Head,
    /// 檔案: files closed cases.
    Archivist,
    /// 稽催: follows up deadlines.
    FollowUp,
    /// 系統管理.
    Admin,
}

gongwen_proto::words!(Role, parse words_or_labels {
    Clerk => "clerk", "收發";
    Desk => "desk", "登記桌";
    Officer => "officer", "承辦人";
    Supervisor => "supervisor", "主管";
    Head => "head", "首長";
    Archivist => "archivist", "檔案";
    FollowUp => "follow_up", "稽催";
    Admin => "admin", "系統管理";
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: String,
    pub parent: Option<String>,
    pub name: String,
    /// 0: the agency; 1: 一級單位; 2: 二級單位.
    pub depth: i64,
    /// On online sign-off; a 會辦 with a unit that is not turns the case to paper.
    pub online: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub title: String,
    pub unit: String,
    /// SHA-256 (hex) of the signing certificate's public key: what binds a signature to them.
    pub spki_sha256: Option<String>,
}

impl Person {
    fn from_row(r: &Row) -> Result<Person, StoreError> {
        Ok(Person {
            id: r.text("id")?,
            name: r.text("name")?,
            title: r.text("title")?,
            unit: r.text("unit")?,
            spki_sha256: r.opt_text("spki_sha256")?,
        })
    }

    /// 「職稱 姓名」, as the 簽核紀錄 prints it.
    pub fn display(&self) -> String {
        format!("{} {}", self.title, self.name)
    }
}

/// Ids of units and people: short, printable, no spaces (they travel in forms and URLs).
fn check_id(field: &str, id: &str) -> Result<(), OfficeError> {
    if id.is_empty()
        || id.len() > 40
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(bad(format!(
            "{field}「{id}」須為 1 到 40 個英數字、-、_ 或 ."
        )));
    }
    Ok(())
}

fn not_found(what: &str, id: &str) -> OfficeError {
    OfficeError::new(Code::NotFound, format!("沒有{what}「{id}」"))
}

/// Adds a unit under `parent` (none: the agency itself, of which there is one).
pub async fn add_unit(
    db: &Db,
    id: &str,
    parent: Option<&str>,
    name: &str,
    online: bool,
) -> Result<Unit, OfficeError> {
    check_id("單位代號", id)?;
    check_text("單位名稱", name, 60)?;
    let depth = match parent {
        None => {
            if db
                .fetch_optional("SELECT id FROM office_units WHERE parent IS NULL", &[])
                .await?
                .is_some()
            {
                return Err(bad("機關已設定；其他單位須有上級單位"));
            }
            0
        }
        Some(p) => {
            let up = unit(db, p).await?;
            if up.depth >= 2 {
                return Err(bad(format!("「{}」是二級單位，其下不能再設單位", up.name)));
            }
            up.depth + 1
        }
    };
    db.execute(
        "INSERT INTO office_units (id, parent, name, depth, online) VALUES ($1, $2, $3, $4, $5)",
        &[
            id.into(),
            parent.into(),
            name.into(),
            depth.into(),
            online.into(),
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Duplicate { .. } => bad(format!("單位代號「{id}」已存在")),
        e => e.into(),
    })?;
    unit(db, id).await
}

fn unit_from_row(r: &Row) -> Result<Unit, StoreError> {
    Ok(Unit {
        id: r.text("id")?,
        parent: r.opt_text("parent")?,
        name: r.text("name")?,
        depth: r.i64("depth")?,
        online: r.bool("online")?,
    })
}

pub async fn unit(db: &Db, id: &str) -> Result<Unit, OfficeError> {
    let r = db
        .fetch_optional(
            "SELECT id, parent, name, depth, online FROM office_units WHERE id = $1",
            &[id.into()],
        )
        .await?
        .ok_or_else(|| not_found("單位", id))?;
    Ok(unit_from_row(&r)?)
}

/// Every unit, the agency first, then by depth and id.
pub async fn units(db: &Db) -> Result<Vec<Unit>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT id, parent, name, depth, online FROM office_units ORDER BY depth, id",
            &[],
        )
        .await?;
    Ok(rows.iter().map(unit_from_row).collect::<Result<_, _>>()?)
}

/// `unit` and the units above it, nearest first.
pub async fn unit_chain(db: &Db, id: &str) -> Result<Vec<Unit>, OfficeError> {
    let mut chain = vec![unit(db, id).await?];
    while let Some(p) = chain.last().and_then(|u| u.parent.clone()) {
        chain.push(unit(db, &p).await?);
    }
    Ok(chain)
}

/// Adds a person in `unit`, bound to their signing certificate's key (hex SHA-256 of the
/// SubjectPublicKeyInfo), which may be set later.
pub async fn add_person(db: &Db, p: &Person) -> Result<Person, OfficeError> {
    check_id("人員代號", &p.id)?;
    check_text("姓名", &p.name, 40)?;
    check_text("職稱", &p.title, 40)?;
    unit(db, &p.unit).await?;
    if let Some(h) = &p.spki_sha256
        && gongwen_trust::path::unhex32(h).is_none()
    {
        return Err(bad("憑證公鑰摘要須為 64 個十六進位數字"));
    }
    db.execute(
        "INSERT INTO office_people (id, name, title, unit, spki_sha256) VALUES ($1, $2, $3, $4, $5)",
        &[
            p.id.as_str().into(),
            p.name.as_str().into(),
            p.title.as_str().into(),
            p.unit.as_str().into(),
            p.spki_sha256.clone().into(),
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Duplicate { .. } => bad(format!("人員代號「{}」或其憑證已登記", p.id)),
        e => e.into(),
    })?;
    person(db, &p.id).await
}

const PERSON_COLUMNS: &str = "id, name, title, unit, spki_sha256";

pub async fn person(db: &Db, id: &str) -> Result<Person, OfficeError> {
    let r = db
        .fetch_optional(
            &format!("SELECT {PERSON_COLUMNS} FROM office_people WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or_else(|| not_found("人員", id))?;
    Ok(Person::from_row(&r)?)
}

/// The person whose signing certificate has this key: who signed in, or who signed a step.
pub async fn person_by_key(db: &Db, spki_sha256: &str) -> Result<Option<Person>, OfficeError> {
    let r = db
        .fetch_optional(
            &format!("SELECT {PERSON_COLUMNS} FROM office_people WHERE spki_sha256 = $1"),
            &[spki_sha256.into()],
        )
        .await?;
    Ok(r.as_ref().map(Person::from_row).transpose()?)
}

pub async fn people(db: &Db) -> Result<Vec<Person>, OfficeError> {
    let rows = db
        .fetch_all(
            &format!("SELECT {PERSON_COLUMNS} FROM office_people ORDER BY unit, id"),
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(Person::from_row)
        .collect::<Result<_, _>>()?)
}

/// Gives `person` a role for `unit`.
pub async fn grant(db: &Db, person_id: &str, role: Role, unit_id: &str) -> Result<(), OfficeError> {
    person(db, person_id).await?;
    unit(db, unit_id).await?;
    db.execute(
        "INSERT INTO office_roles (person, role, unit) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        &[person_id.into(), role.as_str().into(), unit_id.into()],
    )
    .await?;
    Ok(())
}

/// A person's roles, each with its unit.
pub async fn roles(db: &Db, person_id: &str) -> Result<Vec<(Role, String)>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT role, unit FROM office_roles WHERE person = $1 ORDER BY role, unit",
            &[person_id.into()],
        )
        .await?;
    let mut out = Vec::new();
    for r in rows {
        if let Some(role) = Role::parse(&r.text("role")?) {
            out.push((role, r.text("unit")?));
        }
    }
    Ok(out)
}

/// Whether `person` holds `role` for `unit_id` or for a unit above it (a desk of the agency
/// serves every unit).
pub async fn holds(
    db: &Db,
    person_id: &str,
    role: Role,
    unit_id: &str,
) -> Result<bool, OfficeError> {
    let chain = unit_chain(db, unit_id).await?;
    let held = roles(db, person_id).await?;
    Ok(held
        .iter()
        .any(|(r, u)| *r == role && chain.iter().any(|c| c.id == *u)))
}

/// `unit_id` and every unit under it, nearest first.
pub async fn subtree(db: &Db, unit_id: &str) -> Result<Vec<String>, OfficeError> {
    let all = units(db).await?;
    let mut out = vec![unit_id.to_string()];
    let mut i = 0;
    // Bounded by the number of units, whatever the parents say.
    while i < out.len() && out.len() <= all.len() {
        let parent = out[i].clone();
        for child in all
            .iter()
            .filter(|c| c.parent.as_deref() == Some(parent.as_str()))
        {
            if !out.contains(&child.id) {
                out.push(child.id.clone());
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Where a person's reminders go (None: only their worklist).
pub async fn email(db: &Db, person_id: &str) -> Result<Option<String>, OfficeError> {
    person(db, person_id).await?;
    let rows = db
        .fetch_all(
            "SELECT email FROM office_people WHERE id = $1",
            &[person_id.into()],
        )
        .await?;
    Ok(match rows.first() {
        Some(r) => r.opt_text("email")?,
        None => None,
    })
}

/// Sets (or, empty, clears) a person's e-mail address: one address, checked loosely (one
/// `@`, no spaces or angle brackets); the SMTP server is the judge of the rest.
pub async fn set_email(db: &Db, person_id: &str, email: &str) -> Result<(), OfficeError> {
    person(db, person_id).await?;
    let email = email.trim();
    let ok = email.is_empty()
        || (email.len() <= 254
            && email.matches('@').count() == 1
            && !email.starts_with('@')
            && !email.ends_with('@')
            && !email
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c)));
    if !ok {
        return Err(bad(format!(
            "「{}」不是電子郵件地址",
            gongwen_proto::office::one_line(email)
        )));
    }
    db.execute(
        "UPDATE office_people SET email = $2 WHERE id = $1",
        &[
            person_id.into(),
            Some(email).filter(|e| !e.is_empty()).into(),
        ],
    )
    .await?;
    Ok(())
}

/// Everyone with an e-mail address: (person, address).
pub async fn emails(db: &Db) -> Result<Vec<(String, String)>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT id, email FROM office_people WHERE email IS NOT NULL ORDER BY id",
            &[],
        )
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push((r.text("id")?, r.text("email")?));
    }
    Ok(out)
}

/// Whether `person` holds `role` anywhere.
pub async fn has_role(db: &Db, person_id: &str, role: Role) -> Result<bool, OfficeError> {
    Ok(roles(db, person_id).await?.iter().any(|(r, _)| *r == role))
}

/// The level a person decides at (1: head of agency, 2: head of a 一級單位, 3: head of a 二級
/// 單位), the highest their roles give; `None` for someone who supervises nothing.
pub async fn level(db: &Db, person_id: &str) -> Result<Option<i64>, OfficeError> {
    let mut best: Option<i64> = None;
    for (role, u) in roles(db, person_id).await? {
        let l = match role {
            Role::Head => 1,
            Role::Supervisor => unit(db, &u).await?.depth + 1,
            _ => continue,
        };
        best = Some(best.map_or(l, |b| b.min(l)));
    }
    Ok(best)
}

/// A deputy arrangement: `deputy` acts for `principal` from `first_day` to `last_day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deputy {
    pub principal: String,
    pub deputy: String,
    pub first_day: String,
    pub last_day: String,
}

pub async fn add_deputy(db: &Db, d: &Deputy) -> Result<(), OfficeError> {
    check_day("代理起日", &d.first_day)?;
    check_day("代理迄日", &d.last_day)?;
    if d.last_day < d.first_day {
        return Err(bad("代理迄日早於起日"));
    }
    if d.principal == d.deputy {
        return Err(bad("不能代理自己"));
    }
    person(db, &d.principal).await?;
    person(db, &d.deputy).await?;
    db.execute(
        "INSERT INTO office_deputies (principal, deputy, first_day, last_day) VALUES ($1, $2, $3, $4)",
        &[
            d.principal.as_str().into(),
            d.deputy.as_str().into(),
            d.first_day.as_str().into(),
            d.last_day.as_str().into(),
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Duplicate { .. } => bad("同一起日的代理已設定"),
        e => e.into(),
    })?;
    Ok(())
}

/// Whether `deputy` may act for `principal` on `day` (`YYYY-MM-DD`, Taipei).
pub async fn is_deputy(
    db: &Db,
    principal: &str,
    deputy: &str,
    day: &str,
) -> Result<bool, OfficeError> {
    Ok(db
        .fetch_optional(
            "SELECT 1 FROM office_deputies WHERE principal = $1 AND deputy = $2 AND first_day <= $3 AND last_day >= $3",
            &[principal.into(), deputy.into(), day.into()],
        )
        .await?
        .is_some())
}

/// The people `deputy` acts for on `day`.
pub async fn principals_on(db: &Db, deputy: &str, day: &str) -> Result<Vec<String>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT DISTINCT principal FROM office_deputies WHERE deputy = $1 AND first_day <= $2 AND last_day >= $2 ORDER BY principal",
            &[deputy.into(), day.into()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.text("principal"))
        .collect::<Result<_, _>>()?)
}

/// For whom a person acts: themselves, or a principal whose deputy they are today. Refused
/// (`E_OFFICE_NOT_ALLOWED`) when no deputy arrangement covers `day`.
pub async fn acting_for(
    db: &Db,
    actor: &str,
    principal: Option<&str>,
    day: &str,
) -> Result<String, OfficeError> {
    match principal {
        None => Ok(actor.to_string()),
        Some(p) if p == actor => Ok(actor.to_string()),
        Some(p) => {
            if is_deputy(db, p, actor, day).await? {
                Ok(p.to_string())
            } else {
                let (a, p) = (person(db, actor).await?, person(db, p).await?);
                Err(OfficeError::new(
                    Code::OfficeNotAllowed,
                    format!("{} 在 {day} 不是 {} 的職務代理人", a.display(), p.display()),
                ))
            }
        }
    }
}

/// Largest CSV an administrator may import at once.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;
/// Most rows in one import (a city hall has some thousands of people).
pub const MAX_IMPORT_ROWS: usize = 20_000;

/// What an import did: rows added, and each refused row with its line and why. One bad row
/// never stops the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    pub refused: Vec<(usize, String)>,
}

const UNITS_HEADER: [&str; 4] = ["單位代號", "上級單位代號", "單位名稱", "線上簽核"];
const PEOPLE_HEADER: [&str; 6] = [
    "人員代號",
    "姓名",
    "職稱",
    "單位代號",
    "憑證公鑰SHA-256",
    "角色",
];

/// The rows of an import after its header, which must be `header`.
fn import_rows(
    text: &str,
    header: &[&str],
) -> Result<Vec<gongwen_proto::csv::Record>, OfficeError> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(bad(format!("匯入檔超過 {MAX_IMPORT_BYTES} 位元組")));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if gongwen_proto::csv::count_lines(text) > MAX_IMPORT_ROWS + 1 {
        return Err(bad(format!("匯入檔超過 {MAX_IMPORT_ROWS} 列")));
    }
    let mut rows = gongwen_proto::csv::parse(text, header.len() + 1)
        .map_err(|e| bad(format!("不是 CSV：{e}")))?
        .into_iter();
    let first = rows.next().ok_or_else(|| bad("匯入檔是空的"))?;
    if first
        .fields
        .iter()
        .map(|f| f.trim())
        .ne(header.iter().copied())
    {
        return Err(bad(format!("第一列須為欄名：{}", header.join(","))));
    }
    Ok(rows
        .filter(|r| r.fields.iter().any(|f| !f.trim().is_empty()))
        .collect())
}

/// Imports units from CSV (`單位代號,上級單位代號,單位名稱,線上簽核`), parents before their
/// children; 線上簽核 is 是 or 否.
pub async fn import_units(db: &Db, text: &str) -> Result<ImportReport, OfficeError> {
    let mut report = ImportReport::default();
    for r in import_rows(text, &UNITS_HEADER)? {
        let parent = Some(r.field(1).trim()).filter(|p| !p.is_empty());
        let online = match r.field(3).trim() {
            "是" | "" => Ok(true),
            "否" => Ok(false),
            other => Err(bad(format!("線上簽核「{other}」須為是或否"))),
        };
        let added = match online {
            Ok(online) => add_unit(db, r.field(0).trim(), parent, r.field(2).trim(), online)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        match added {
            Ok(()) => report.added += 1,
            Err(e) => report.refused.push((r.line, refusal_text(e))),
        }
    }
    Ok(report)
}

/// Imports people from CSV (`人員代號,姓名,職稱,單位代號,憑證公鑰SHA-256,角色`); 角色 lists
/// role names (承辦人、主管 …) separated by 、 or ;, held for the person's unit.
pub async fn import_people(db: &Db, text: &str) -> Result<ImportReport, OfficeError> {
    let mut report = ImportReport::default();
    for r in import_rows(text, &PEOPLE_HEADER)? {
        let mut roles = Vec::new();
        let mut wrong = None;
        for name in r
            .field(5)
            .split(['、', ';'])
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match Role::parse(name) {
                Some(role) => roles.push(role),
                None => wrong = Some(bad(format!("角色「{name}」不是{}", role_names()))),
            }
        }
        let p = Person {
            id: r.field(0).trim().to_string(),
            name: r.field(1).trim().to_string(),
            title: r.field(2).trim().to_string(),
            unit: r.field(3).trim().to_string(),
            spki_sha256: Some(r.field(4).trim().to_ascii_lowercase()).filter(|k| !k.is_empty()),
        };
        let added = match wrong {
            Some(e) => Err(e),
            None => add_person_with_roles(db, &p, &roles).await,
        };
        match added {
            Ok(()) => report.added += 1,
            Err(e) => report.refused.push((r.line, refusal_text(e))),
        }
    }
    Ok(report)
}

async fn add_person_with_roles(db: &Db, p: &Person, roles: &[Role]) -> Result<(), OfficeError> {
    add_person(db, p).await?;
    for role in roles {
        grant(db, &p.id, *role, &p.unit).await?;
    }
    Ok(())
}

fn role_names() -> String {
    Role::ALL.map(Role::label).join("、")
}

fn refusal_text(e: OfficeError) -> String {
    match e {
        OfficeError::Refused(r) => r.detail,
        e => e.to_string(),
    }
}

/// Turns a unit's online sign-off on or off: a 會辦 with a unit that is off turns the case to
/// paper (exclusion 8).
pub async fn set_online(db: &Db, id: &str, online: bool) -> Result<Unit, OfficeError> {
    let n = db
        .execute(
            "UPDATE office_units SET online = $2 WHERE id = $1",
            &[id.into(), online.into()],
        )
        .await?;
    if n == 0 {
        return Err(not_found("單位", id));
    }
    unit(db, id).await
}

/// What a signing certificate binds a person to, read from the certificate an administrator
/// registers (a card's signing certificate, PEM or DER; of a chain, the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardKey {
    /// SHA-256 (hex) of its SubjectPublicKeyInfo: what every signature is matched against.
    pub spki_sha256: String,
    /// Its subject, for the administrator to check it is the right person's.
    pub subject: String,
    /// The end of its validity, Unix seconds.
    pub not_after: i64,
}

/// Reads a signing certificate. An encryption-only certificate (the card's other one) is
/// refused: signatures are never made with it.
pub fn card_key(cert: &[u8]) -> Result<CardKey, OfficeError> {
    use gongwen_trust::path::{Purpose, hex, not_after, primary_purpose, spki_sha256};
    if cert.len() > 64 * 1024 {
        return Err(bad("憑證檔過大（最多 64 KiB）"));
    }
    let certs = gongwen_trust::cms::load_certs(cert).map_err(|e| bad(e.to_string()))?;
    let first = certs.first().ok_or_else(|| bad("檔案中沒有憑證"))?;
    // Without a key usage a certificate may sign; with one, it must say so.
    let signs = match first
        .tbs_certificate
        .get::<x509_cert::ext::pkix::KeyUsage>()
    {
        Ok(Some((_, ku))) => ku.digital_signature() || ku.non_repudiation(),
        Ok(None) => true,
        Err(e) => return Err(bad(format!("憑證的金鑰用途無法解讀：{e}"))),
    };
    if !signs || primary_purpose(first) == Some(Purpose::Encryption) {
        return Err(bad(
            "這是加密用憑證；請登記卡片的簽章用憑證（金鑰用途含數位簽章）",
        ));
    }
    let key = spki_sha256(first).map_err(|e| bad(e.to_string()))?;
    Ok(CardKey {
        spki_sha256: hex(&key),
        subject: first.tbs_certificate.subject.to_string(),
        not_after: not_after(first),
    })
}

/// Binds `person` to a signing certificate's key (or, with `None`, unbinds them: a lost
/// card). Their earlier steps stay verifiable: each keeps the certificate it was signed with.
pub async fn set_card(
    db: &Db,
    person_id: &str,
    spki_sha256: Option<&str>,
) -> Result<Person, OfficeError> {
    if let Some(h) = spki_sha256
        && gongwen_trust::path::unhex32(h).is_none()
    {
        return Err(bad("憑證公鑰摘要須為 64 個十六進位數字"));
    }
    person(db, person_id).await?;
    db.execute(
        "UPDATE office_people SET spki_sha256 = $2 WHERE id = $1",
        &[
            person_id.into(),
            spki_sha256.map(str::to_ascii_lowercase).into(),
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Duplicate { .. } => bad("這張憑證已登記給其他人員"),
        e => e.into(),
    })?;
    person(db, person_id).await
}

/// Takes a role back. The last administrator keeps theirs: someone must be able to grant it.
pub async fn revoke(
    db: &Db,
    person_id: &str,
    role: Role,
    unit_id: &str,
) -> Result<(), OfficeError> {
    if role == Role::Admin {
        let others = db
            .fetch_optional(
                "SELECT 1 FROM office_roles WHERE role = $1 AND NOT (person = $2 AND unit = $3)",
                &[role.as_str().into(), person_id.into(), unit_id.into()],
            )
            .await?;
        if others.is_none() {
            return Err(OfficeError::new(
                Code::OfficeState,
                "不能撤銷最後一個系統管理角色",
            ));
        }
    }
    let n = db
        .execute(
            "DELETE FROM office_roles WHERE person = $1 AND role = $2 AND unit = $3",
            &[person_id.into(), role.as_str().into(), unit_id.into()],
        )
        .await?;
    if n == 0 {
        return Err(OfficeError::new(
            Code::NotFound,
            format!("「{person_id}」沒有{}（{unit_id}）的角色", role.label()),
        ));
    }
    Ok(())
}

/// Every role held, as (person, role, unit), by person: the administrator's list in one read.
pub async fn all_roles(db: &Db) -> Result<Vec<(String, Role, String)>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT person, role, unit FROM office_roles ORDER BY person, role, unit",
            &[],
        )
        .await?;
    let mut out = Vec::new();
    for r in rows {
        if let Some(role) = Role::parse(&r.text("role")?) {
            out.push((r.text("person")?, role, r.text("unit")?));
        }
    }
    Ok(out)
}

fn deputy_from(r: &Row) -> Result<Deputy, StoreError> {
    Ok(Deputy {
        principal: r.text("principal")?,
        deputy: r.text("deputy")?,
        first_day: r.text("first_day")?,
        last_day: r.text("last_day")?,
    })
}

/// The deputy arrangements in force on `day` or later (current and future), by first day.
pub async fn deputies_from(db: &Db, day: &str) -> Result<Vec<Deputy>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT principal, deputy, first_day, last_day FROM office_deputies WHERE last_day >= $1 ORDER BY first_day, principal, deputy",
            &[day.into()],
        )
        .await?;
    Ok(rows.iter().map(deputy_from).collect::<Result<_, _>>()?)
}

/// Removes a deputy arrangement (keyed by principal, deputy and first day).
pub async fn remove_deputy(
    db: &Db,
    principal: &str,
    deputy: &str,
    first_day: &str,
) -> Result<(), OfficeError> {
    let n = db
        .execute(
            "DELETE FROM office_deputies WHERE principal = $1 AND deputy = $2 AND first_day = $3",
            &[principal.into(), deputy.into(), first_day.into()],
        )
        .await?;
    if n == 0 {
        return Err(OfficeError::new(
            Code::NotFound,
            format!("沒有 {principal} 由 {deputy} 自 {first_day} 起的代理"),
        ));
    }
    Ok(())
}

/// A throw-away database for the office's tests (SQLite in a fresh folder, migrated), and the
/// rows they share.
#[cfg(test)]
pub(crate) mod testing {
    use std::future::Future;

    use gongwen_store::Db;

    /// Runs `f` on a new database (and a runtime of its own), removing both after.
    pub(crate) fn with_db<F, Fut>(name: &str, f: F)
    where
        F: FnOnce(Db) -> Fut,
        Fut: Future<Output = ()>,
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dir = std::env::temp_dir().join(format!(
            "gongwen-office-{name}-{}-{}",
            std::process::id(),
            gongwen_store::random_hex(4)
        ));
        rt.block_on(async {
            let db = Db::connect(&format!("sqlite://{}/office.db", dir.display()))
                .await
                .unwrap();
            f(db.clone()).await;
            db.close().await;
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A unit as read from the table, named after its id (`k12` is 「k12單位」).
    pub(crate) fn unit(id: &str, parent: Option<&str>, depth: i64) -> crate::org::Unit {
        crate::org::Unit {
            id: id.into(),
            parent: parent.map(String::from),
            name: format!("{id}單位"),
            depth,
            online: true,
        }
    }

    /// Case 1150000001 of unit `k12`, its officer `officer`, on paper, in `state`.
    pub(crate) fn case(state: crate::cases::State, holder: Option<&str>) -> crate::cases::Case {
        crate::cases::Case {
            id: "1150000001".into(),
            origin: crate::cases::Origin::Paper,
            subject: "主旨".into(),
            matter: "一般業務".into(),
            urgency: "普通件".into(),
            state,
            unit: Some("k12".into()),
            officer: Some("officer".into()),
            holder: holder.map(Into::into),
            exclusions: Vec::new(),
            created_at: 0,
            closed_at: None,
            dispatch_number: None,
            file_code: None,
            retention: None,
            receipt_number: None,
            due_day: None,
            deadline_kind: None,
            extensions: 0,
            extension_days: 0,
            asked: None,
        }
    }

    /// The certificates of a card for `name` from a throw-away test CA (a signing and an
    /// encryption one), the CA's folder to remove after, and the time they were issued at.
    pub(crate) fn test_card(
        tag: &str,
        name: &str,
    ) -> (std::path::PathBuf, Vec<gongwen_trust::pki::IssuedCert>, i64) {
        use gongwen_trust::pki::{InitOptions, IssueRequest, KeyType, Subject, TestCa};
        let dir = std::env::temp_dir().join(format!(
            "gongwen-office-{tag}-{}-{}",
            std::process::id(),
            gongwen_store::random_hex(4)
        ));
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut ca = TestCa::init(
            &dir,
            &InitOptions {
                key: KeyType::P256,
                years: 5,
            },
            now - 60,
        )
        .unwrap();
        let issued = ca
            .issue(
                &IssueRequest {
                    subject: Subject::Person { name: name.into() },
                    key: KeyType::P256,
                    days: 30,
                },
                now - 60,
            )
            .unwrap();
        (dir, issued, now)
    }

    /// An agency with a 一級單位 `k12` under it, an officer, a clerk and an admin.
    pub(crate) async fn agency(db: &Db) {
        use crate::org::{Person, Role, add_person, add_unit, grant};
        add_unit(db, "edu", None, "臺北市政府教育局", true)
            .await
            .unwrap();
        add_unit(db, "k12", Some("edu"), "國中教育科", true)
            .await
            .unwrap();
        add_unit(db, "hs", Some("edu"), "高中教育科", true)
            .await
            .unwrap();
        for (id, unit, role) in [
            ("officer", "k12", Role::Officer),
            ("clerk", "edu", Role::Clerk),
            ("admin", "edu", Role::Admin),
            ("other", "hs", Role::Officer),
        ] {
            add_person(
                db,
                &Person {
                    id: id.into(),
                    name: format!("{id}姓名"),
                    title: "科員".into(),
                    unit: unit.into(),
                    spki_sha256: None,
                },
            )
            .await
            .unwrap();
            grant(db, id, role, unit).await.unwrap();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_their_names_and_labels() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(Role::parse(r.label()), Some(r));
        }
        assert_eq!(Role::parse("boss"), None);
    }

    #[test]
    fn ids_are_short_and_plain() {
        assert!(check_id("代號", "edu-01").is_ok());
        assert!(check_id("代號", "").is_err());
        assert!(check_id("代號", "a/b").is_err());
        assert!(check_id("代號", "教育局").is_err());
        assert!(check_id("代號", &"a".repeat(41)).is_err());
    }

    use super::testing::{agency, with_db};

    #[test]
    fn units_turn_online_and_back() {
        with_db("online", |db| async move {
            agency(&db).await;
            assert!(!set_online(&db, "k12", false).await.unwrap().online);
            assert!(!unit(&db, "k12").await.unwrap().online);
            assert!(set_online(&db, "k12", true).await.unwrap().online);
            let e = set_online(&db, "nope", true).await.unwrap_err();
            assert_eq!(e.code(), Code::NotFound);
        });
    }

    #[test]
    fn a_card_is_read_bound_and_unbound() {
        use gongwen_trust::pki::Usage;
        let (dir, issued, now) = testing::test_card("card", "王小明");
        let signing = issued
            .iter()
            .find(|c| c.record.usage == Usage::Signing)
            .unwrap();
        let pem = std::fs::read(&signing.cert_file).unwrap();
        let key = card_key(&pem).unwrap();
        assert_eq!(key.spki_sha256, signing.spki_sha256);
        assert!(key.not_after > now);
        let enc = issued
            .iter()
            .find(|c| c.record.usage == Usage::Encryption)
            .unwrap();
        let e = card_key(&std::fs::read(&enc.cert_file).unwrap()).unwrap_err();
        assert!(e.to_string().contains("加密用憑證"), "{e}");
        assert_eq!(
            card_key(b"not a certificate").unwrap_err().code(),
            Code::BadRequest
        );
        assert!(card_key(&vec![b'a'; 65 * 1024]).is_err());
        let _ = std::fs::remove_dir_all(&dir);

        with_db("card", |db| async move {
            agency(&db).await;
            let p = set_card(&db, "officer", Some(&key.spki_sha256.to_uppercase()))
                .await
                .unwrap();
            assert_eq!(p.spki_sha256.as_deref(), Some(key.spki_sha256.as_str()));
            assert_eq!(
                person_by_key(&db, &key.spki_sha256)
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
                "officer"
            );
            let e = set_card(&db, "clerk", Some(&key.spki_sha256))
                .await
                .unwrap_err();
            assert!(e.to_string().contains("已登記給其他人員"), "{e}");
            assert_eq!(
                set_card(&db, "clerk", Some("12")).await.unwrap_err().code(),
                Code::BadRequest
            );
            assert_eq!(
                set_card(&db, "nobody", None).await.unwrap_err().code(),
                Code::NotFound
            );
            assert!(
                set_card(&db, "officer", None)
                    .await
                    .unwrap()
                    .spki_sha256
                    .is_none()
            );
        });
    }

    #[test]
    fn roles_are_granted_listed_and_revoked_but_not_the_last_admin() {
        with_db("roles", |db| async move {
            agency(&db).await;
            grant(&db, "officer", Role::Desk, "k12").await.unwrap();
            let all = all_roles(&db).await.unwrap();
            assert!(all.contains(&("officer".into(), Role::Desk, "k12".into())));
            assert_eq!(all.len(), 5);
            revoke(&db, "officer", Role::Desk, "k12").await.unwrap();
            assert!(!holds(&db, "officer", Role::Desk, "k12").await.unwrap());
            let e = revoke(&db, "officer", Role::Desk, "k12").await.unwrap_err();
            assert_eq!(e.code(), Code::NotFound);
            let e = revoke(&db, "admin", Role::Admin, "edu").await.unwrap_err();
            assert_eq!(e.code(), Code::OfficeState, "the last administrator");
            grant(&db, "clerk", Role::Admin, "edu").await.unwrap();
            revoke(&db, "admin", Role::Admin, "edu").await.unwrap();
            assert!(!has_role(&db, "admin", Role::Admin).await.unwrap());
        });
    }

    #[test]
    fn deputies_list_from_today_and_are_removed() {
        with_db("deputies", |db| async move {
            agency(&db).await;
            for (first, last) in [
                ("2026-01-01", "2026-01-31"),
                ("2026-03-01", "2026-03-05"),
                ("2026-03-10", "2026-04-01"),
            ] {
                add_deputy(
                    &db,
                    &Deputy {
                        principal: "officer".into(),
                        deputy: "other".into(),
                        first_day: first.into(),
                        last_day: last.into(),
                    },
                )
                .await
                .unwrap();
            }
            let now = deputies_from(&db, "2026-03-05").await.unwrap();
            assert_eq!(
                now.iter().map(|d| d.first_day.as_str()).collect::<Vec<_>>(),
                ["2026-03-01", "2026-03-10"],
                "the one ending today still counts"
            );
            remove_deputy(&db, "officer", "other", "2026-03-01")
                .await
                .unwrap();
            assert!(
                !is_deputy(&db, "officer", "other", "2026-03-02")
                    .await
                    .unwrap()
            );
            let e = remove_deputy(&db, "officer", "other", "2026-03-01")
                .await
                .unwrap_err();
            assert_eq!(e.code(), Code::NotFound);
        });
    }

    #[test]
    fn imports_report_each_refused_line() {
        with_db("import", |db| async move {
            let units = "\u{feff}單位代號,上級單位代號,單位名稱,線上簽核\nedu,,教育局,是\nk12,edu,國中教育科,否\nbad,nope,不存在,是\nx,edu,科,也許\n";
            let r = import_units(&db, units).await.unwrap();
            assert_eq!(r.added, 2);
            assert_eq!(
                r.refused.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
                [4, 5]
            );
            assert!(!unit(&db, "k12").await.unwrap().online);
            let people = "人員代號,姓名,職稱,單位代號,憑證公鑰SHA-256,角色\nchief,王科長,科長,k12,,主管、登記桌\nofficer,張承辦,科員,k12,xyz,承辦人\n";
            let r = import_people(&db, people).await.unwrap();
            assert_eq!(r.added, 1);
            assert_eq!(r.refused.len(), 1);
            assert_eq!(r.refused[0].0, 3);
            assert!(holds(&db, "chief", Role::Supervisor, "k12").await.unwrap());
            assert!(
                import_units(&db, "a,b\n").await.is_err(),
                "the header is checked"
            );
        });
    }
}
