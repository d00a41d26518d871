//! Fixtures of the document-management system: people's cards (MOICA look-alikes of a test CA)
//! that sign steps as `gongwen signer` would, and a year of a city hall's cases loaded in bulk
//! for `gongwen bench office`.

use gongwen_office::org::{self, Person, Role};
use gongwen_store::{Db, Value, sha256_hex};
use gongwen_trust::cms::{self, Signer, load_certs};
use gongwen_trust::keys::PrivateKey;
use gongwen_trust::path::{StaleCrl, TrustStore, hex, spki_sha256};
use gongwen_trust::pki::{Branch, InitOptions, IssueRequest, KeyType, Subject, TestCa, Usage};
use x509_cert::Certificate;

use crate::{err, now_s};

/// A test CA in `dir` for people's cards (and the trust the office has in them): the root,
/// its CRLs in `dir/crl`.
pub fn people_ca(dir: &std::path::Path) -> Result<(TestCa, TrustStore), String> {
    let ca = TestCa::init(
        dir,
        &InitOptions {
            key: KeyType::P256,
            years: 5,
        },
        now_s() - 60,
    )
    .map_err(err)?;
    let trust = trust_of(&ca)?;
    Ok((ca, trust))
}

/// What the office trusts: `ca`'s root and its CRLs as they are now.
pub fn trust_of(ca: &TestCa) -> Result<TrustStore, String> {
    TrustStore::from_files(&[ca.root_file()], &[ca.dir().join("crl")], StaleCrl::Refuse)
        .map_err(err)
}

/// A person's card: the signing key and certificate, with the intermediate.
pub struct Card {
    pub key: PrivateKey,
    pub cert: Certificate,
    pub chain: Vec<Certificate>,
    /// As `openssl x509 -serial` prints it, for revoking.
    pub serial: String,
}

impl Card {
    /// A new card for `name` from `ca` (P-256, a year), as `gongwen pki issue --person` makes.
    pub fn issue(ca: &mut TestCa, name: &str) -> Result<Card, String> {
        let issued = ca
            .issue(
                &IssueRequest {
                    subject: Subject::Person {
                        name: name.to_string(),
                    },
                    key: KeyType::P256,
                    days: 365,
                },
                now_s() - 60,
            )
            .map_err(err)?;
        let sign = issued
            .iter()
            .find(|c| c.record.usage == Usage::Signing)
            .ok_or("沒有簽章憑證")?;
        let read = |p: &std::path::Path| std::fs::read(p).map_err(err);
        let cert = load_certs(&read(&sign.cert_file)?)
            .map_err(err)?
            .into_iter()
            .next()
            .ok_or("沒有憑證")?;
        Ok(Card {
            key: PrivateKey::from_pem(&String::from_utf8_lossy(&read(&sign.key_file)?))
                .map_err(err)?,
            cert,
            chain: load_certs(&read(&ca.ca_file(Branch::Moica))?).map_err(err)?,
            serial: sign.record.serial.clone(),
        })
    }

    /// SHA-256 of the public key, hex: what the office registers for the person.
    pub fn key_sha256(&self) -> Result<String, String> {
        spki_sha256(&self.cert).map(|k| hex(&k)).map_err(err)
    }

    /// Signs a step's text (CMS SignedData, DER).
    pub fn sign(&self, text: &str) -> Result<Vec<u8>, String> {
        cms::sign(
            text.as_bytes(),
            &Signer {
                key: &self.key,
                cert: &self.cert,
                chain: &self.chain,
            },
            now_s(),
        )
        .map_err(err)
    }
}

/// A city hall's organisation for the bench: the agency, 10 departments of 5 sections, a
/// chief per section and department, 10 officers per section, a clerk and an archivist.
pub struct Org {
    pub officers: Vec<String>,
    /// The section chief of each officer, by the officer's place in `officers`.
    pub chiefs: Vec<String>,
}

pub const DEPARTMENTS: usize = 10;
pub const SECTIONS: usize = 5;
pub const OFFICERS: usize = 10;

/// Builds [`Org`]; `officer-0` gets `card`'s key.
pub async fn city_hall(db: &Db, card: &Card) -> Result<Org, String> {
    let person = |id: String, name: &str, unit: &str| Person {
        id,
        name: name.to_string(),
        title: "科員".to_string(),
        unit: unit.to_string(),
        spki_sha256: None,
    };
    org::add_unit(db, "city", None, "臺北市政府", true)
        .await
        .map_err(err)?;
    for (id, role) in [("clerk", Role::Clerk), ("archivist", Role::Archivist)] {
        org::add_person(db, &person(id.to_string(), "職員", "city"))
            .await
            .map_err(err)?;
        org::grant(db, id, role, "city").await.map_err(err)?;
    }
    org::grant(db, "clerk", Role::Desk, "city")
        .await
        .map_err(err)?;
    let (mut officers, mut chiefs) = (Vec::new(), Vec::new());
    for d in 0..DEPARTMENTS {
        let dept = format!("d{d}");
        org::add_unit(db, &dept, Some("city"), &format!("第{d}局"), true)
            .await
            .map_err(err)?;
        for s in 0..SECTIONS {
            let section = format!("d{d}s{s}");
            org::add_unit(db, &section, Some(&dept), &format!("第{s}科"), true)
                .await
                .map_err(err)?;
            let chief = format!("chief-{section}");
            org::add_person(db, &person(chief.clone(), "科長", &section))
                .await
                .map_err(err)?;
            org::grant(db, &chief, Role::Supervisor, &section)
                .await
                .map_err(err)?;
            for _ in 0..OFFICERS {
                let id = format!("officer-{}", officers.len());
                let mut p = person(id.clone(), "承辦人", &section);
                if officers.is_empty() {
                    p.spki_sha256 = Some(card.key_sha256()?);
                }
                org::add_person(db, &p).await.map_err(err)?;
                org::grant(db, &id, Role::Officer, &section)
                    .await
                    .map_err(err)?;
                officers.push(id);
                chiefs.push(chief.clone());
            }
        }
    }
    Ok(Org { officers, chiefs })
}

/// Where the `i`th case of the year stands: 90 % filed, the rest spread over the worklists
/// as a working day finds them.
fn state_of(i: usize) -> &'static str {
    match i % 200 {
        0..180 => "filed",
        180..182 => "registered",
        182..184 => "at_unit",
        184..192 => "with_officer",
        192..196 => "in_review",
        196..198 => "to_dispatch",
        _ => "to_file",
    }
}

/// Rows per INSERT: far below both engines' limits on parameters.
const CHUNK: usize = 400;

/// Inserts `rows` (each `width` values) into `table (columns)` in statements of [`CHUNK`].
async fn insert(
    db: &Db,
    table: &str,
    columns: &str,
    width: usize,
    rows: Vec<Value>,
) -> Result<(), String> {
    for chunk in rows.chunks(width * CHUNK) {
        let n = chunk.len() / width;
        let values: Vec<String> = (0..n)
            .map(|r| {
                let p: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        db.execute(
            &format!(
                "INSERT INTO {table} ({columns}) VALUES {}",
                values.join(", ")
            ),
            chunk,
        )
        .await
        .map_err(err)?;
    }
    Ok(())
}

/// Loads `n` cases of the year from `first` on: each with its memo and two signed steps (the
/// signature is one real CMS of `card`'s, repeated: the bench reads steps, it does not verify
/// them). Case ids are `115` + seven digits. `progress` hears how many are in.
pub async fn load_year(
    db: &Db,
    org: &Org,
    card: &Card,
    n: usize,
    mut progress: impl FnMut(usize),
) -> Result<(), String> {
    let text = "公文管理系統線上簽核\n（量測用的歷史步驟）\n";
    let cms = card.sign(text)?;
    let digest = sha256_hex(&cms);
    let memo = "簽：擬准予備查，檢陳原函，敬請核示。".repeat(8);
    let memo_sha = sha256_hex(memo.as_bytes());
    let year_ms: i64 = 365 * 86_400_000;
    let start = now_s() * 1000 - year_ms;
    const BATCH: usize = 2_000;
    for from in (0..n).step_by(BATCH) {
        let (mut cases, mut versions, mut steps) = (Vec::new(), Vec::new(), Vec::new());
        for i in from..(from + BATCH).min(n) {
            let id = format!("115{i:07}");
            // Each run of 200 cases is one officer's: every officer holds some of each state.
            let o = (i / 200) % org.officers.len();
            let officer = &org.officers[o];
            let state = state_of(i);
            let unit = (state != "registered").then(|| {
                format!(
                    "d{}s{}",
                    o / (OFFICERS * SECTIONS),
                    (o / OFFICERS) % SECTIONS
                )
            });
            let holder = match state {
                "with_officer" => Some(officer.clone()),
                "in_review" => Some(org.chiefs[o].clone()),
                _ => None,
            };
            let at = start + (i as i64) * year_ms / (n as i64).max(1);
            cases.extend::<[Value; 12]>([
                id.as_str().into(),
                "exchange".into(),
                format!("函轉有關第{i}號案件之辦理情形").into(),
                "一般業務".into(),
                "普通件".into(),
                state.into(),
                unit.into(),
                matches!(
                    state,
                    "with_officer" | "in_review" | "to_dispatch" | "to_file" | "filed"
                )
                .then(|| officer.clone())
                .into(),
                holder.into(),
                at.into(),
                (state == "filed").then_some(at + 3 * 86_400_000).into(),
                (state == "filed").then(|| "A01/115/1/1".to_string()).into(),
            ]);
            versions.extend::<[Value; 8]>([
                id.as_str().into(),
                "memo-1".into(),
                1i64.into(),
                "memo".into(),
                memo_sha.as_str().into(),
                memo.as_bytes().into(),
                officer.as_str().into(),
                at.into(),
            ]);
            // A closed case (待歸檔, 已歸檔) was decided three days after it came: what the
            // statistics count.
            let closed = matches!(state, "to_file" | "filed");
            let all = [
                (1i64, "register", at),
                (2, "draft", at),
                (3, "decide", at + 3 * 86_400_000),
            ];
            for (seq, action, when) in all.into_iter().take(if closed { 3 } else { 2 }) {
                steps.extend::<[Value; 8]>([
                    id.as_str().into(),
                    seq.into(),
                    action.into(),
                    officer.as_str().into(),
                    text.as_bytes().into(),
                    cms.as_slice().into(),
                    digest.as_str().into(),
                    when.into(),
                ]);
            }
        }
        insert(db, "office_cases", "id, origin, subject, matter, urgency, state, unit, officer, holder, created_at, closed_at, file_code", 12, cases).await?;
        insert(
            db,
            "office_versions",
            "case_id, doc, version, kind, sha256, content, author, created_at",
            8,
            versions,
        )
        .await?;
        insert(
            db,
            "office_steps",
            "case_id, seq, action, actor, signed, cms, cms_sha256, at",
            8,
            steps,
        )
        .await?;
        progress((from + BATCH).min(n));
    }
    Ok(())
}

/// After a bulk load, what a running database has done long since: statistics for the
/// planner (ANALYZE) and the load's pages written out (a checkpoint), so the figures that follow
/// are of the steady state, not of the load's aftermath.
pub async fn settle(db: &Db) -> Result<(), String> {
    for table in [
        "office_cases",
        "office_versions",
        "office_steps",
        "office_consults",
    ] {
        db.execute(&format!("ANALYZE {table}"), &[])
            .await
            .map_err(err)?;
    }
    let checkpoint = if db.is_postgres() {
        "CHECKPOINT"
    } else {
        "PRAGMA wal_checkpoint(TRUNCATE)"
    };
    db.fetch_all(checkpoint, &[]).await.map_err(err)?;
    Ok(())
}
