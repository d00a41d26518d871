//! The signed snapshot: everything the centers need, built from the registry, signed with the
//! directory's key (CMS SignedData, checkable with `openssl cms -verify`), numbered, and kept.
//!
//! A new snapshot is signed when the log has moved since the last one, or when half of the
//! last one's validity has passed — so the centers' copy never runs out while the directory is
//! up, and lasts `valid_hours` when it is not.

use std::collections::BTreeMap;

use gongwen_proto::directory::{
    CenterKind, KeyUsage, ParticipantKind, ParticipantState, SNAPSHOT_FORMAT, SnapshotCenter,
    SnapshotCert, SnapshotGroup, SnapshotIp, SnapshotParticipant,
};
use gongwen_store::Db;
use gongwen_trust::cms::{self, Signer};
use gongwen_trust::keys::PrivateKey;
use x509_cert::Certificate;

use crate::config::SnapshotConfig;
use crate::error::{Result, internal};

/// The directory's signing key and certificate chain.
pub struct SnapshotKey {
    pub key: PrivateKey,
    pub cert: Certificate,
    pub chain: Vec<Certificate>,
}

impl SnapshotKey {
    /// `cert_pem`: the signer first, then its chain; `key`: a PEM file or a `pkcs11:` URI.
    pub fn load(cert_pem: &[u8], key: &str) -> Result<SnapshotKey> {
        let bad = |e: String| internal(format!("通訊錄簽章金鑰：{e}"));
        let mut certs = cms::load_certs(cert_pem).map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("憑證檔沒有憑證".into()));
        }
        let cert = certs.remove(0);
        let key = PrivateKey::load(key).map_err(|e| bad(e.to_string()))?;
        if !key.matches(&cert) {
            return Err(bad("私鑰與憑證不相符".into()));
        }
        Ok(SnapshotKey {
            key,
            cert,
            chain: certs,
        })
    }
}

/// One stored snapshot.
#[derive(Debug, Clone)]
pub struct Stored {
    pub version: i64,
    pub issued_at: i64,
    pub valid_until: i64,
    pub log_seq: i64,
    /// Shared, not copied, by every fetch that hands it out.
    pub body: axum::body::Bytes,
}

/// The newest snapshot, if any was built.
pub async fn latest(db: &Db) -> Result<Option<Stored>> {
    db.fetch_optional(
        "SELECT version, issued_at, valid_until, log_seq, body FROM dir_snapshots ORDER BY version DESC LIMIT 1",
        &[],
    )
    .await?
    .map(|r| {
        Ok(Stored {
            version: r.i64(0)?,
            issued_at: r.i64(1)?,
            valid_until: r.i64(2)?,
            log_seq: r.i64(3)?,
            body: r.bytes(4)?.into(),
        })
    })
    .transpose()
}

/// Everything in a snapshot but the participants, serialised first.
#[derive(serde::Serialize)]
struct Head<'a> {
    format: &'a str,
    version: i64,
    issued_at: i64,
    valid_until: i64,
    log_seq: i64,
    log_hash: &'a str,
    centers: &'a [SnapshotCenter],
    groups: &'a [SnapshotGroup],
}

/// Participants are read and written this many at a time.
const PAGE: i64 = 2000;

/// Reads the registry into a snapshot's JSON (unsigned), a page of participants at a time,
/// so memory holds the output and one page, not every row. The log head is read first, so a
/// change that lands while the tables are read makes the next check build again.
/// Returns the JSON and the log sequence number it reflects.
pub async fn assemble(db: &Db, version: i64, now: i64, valid_ms: i64) -> Result<(Vec<u8>, i64)> {
    let (log_seq, log_hash) = match db
        .fetch_optional(
            "SELECT seq, hash FROM directory_log ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await?
    {
        Some(r) => (r.i64(0)?, r.text(1)?),
        None => (0, crate::audit::GENESIS.to_string()),
    };
    let unknown = |what: &str, v: &str| internal(format!("{what}「{v}」"));
    let json_err = |e: serde_json::Error| internal(e.to_string());
    let mut centers = Vec::new();
    for r in db
        .fetch_all(
            "SELECT id, name, kind, url, tls_key, operator FROM dir_centers ORDER BY id",
            &[],
        )
        .await?
    {
        let kind = r.text(2)?;
        centers.push(SnapshotCenter {
            id: r.text(0)?,
            name: r.text(1)?,
            kind: CenterKind::parse(&kind).ok_or_else(|| unknown("交換中心種類", &kind))?,
            url: r.text(3)?,
            tls_key: r.opt_text(4)?,
            operator: r.text(5)?,
        });
    }
    let mut groups: Vec<SnapshotGroup> = Vec::new();
    for r in db
        .fetch_all(
            "SELECT name, member FROM dir_group_members ORDER BY name, member",
            &[],
        )
        .await?
    {
        let (name, member) = (r.text(0)?, r.text(1)?);
        match groups.last_mut() {
            Some(g) if g.name == name => g.members.push(member),
            _ => groups.push(SnapshotGroup {
                name,
                members: vec![member],
            }),
        }
    }
    let mut out = serde_json::to_vec(&Head {
        format: SNAPSHOT_FORMAT,
        version,
        issued_at: now,
        valid_until: now + valid_ms,
        log_seq,
        log_hash: &log_hash,
        centers: &centers,
        groups: &groups,
    })
    .map_err(json_err)?;
    out.pop(); // the closing brace: the participants follow
    out.extend_from_slice(b",\"participants\":[");
    let mut after = String::new();
    let mut first = true;
    loop {
        let rows = db
            .fetch_all(
                "SELECT code, name, kind, center, receive, send, state, state_reason, operator FROM dir_participants \
                 WHERE code > $1 AND listed = 1 ORDER BY code LIMIT $2",
                &[after.as_str().into(), PAGE.into()],
            )
            .await?;
        let (Some(lo), Some(hi)) = (rows.first(), rows.last()) else {
            break;
        };
        let (lo, hi) = (lo.text(0)?, hi.text(0)?);
        let mut certs: BTreeMap<String, Vec<SnapshotCert>> = BTreeMap::new();
        for r in db
            .fetch_all(
                "SELECT code, usage, spki_sha256, not_after FROM dir_certs WHERE code >= $1 AND code <= $2 \
                 ORDER BY code, usage, spki_sha256",
                &[lo.as_str().into(), hi.as_str().into()],
            )
            .await?
        {
            let usage = r.text(1)?;
            certs.entry(r.text(0)?).or_default().push(SnapshotCert {
                usage: KeyUsage::parse(&usage).ok_or_else(|| unknown("金鑰用途", &usage))?,
                spki_sha256: r.text(2)?,
                not_after: r.i64(3)?,
            });
        }
        let mut ips: BTreeMap<String, Vec<SnapshotIp>> = BTreeMap::new();
        for r in db
            .fetch_all(
                "SELECT code, ip, approved_by FROM dir_ips WHERE code >= $1 AND code <= $2 ORDER BY code, ip",
                &[lo.as_str().into(), hi.as_str().into()],
            )
            .await?
        {
            ips.entry(r.text(0)?).or_default().push(SnapshotIp {
                ip: r.text(1)?,
                approved_by: r.opt_text(2)?,
            });
        }
        for r in &rows {
            let code = r.text(0)?;
            let kind = r.text(2)?;
            let state = r.text(6)?;
            let p = SnapshotParticipant {
                name: r.text(1)?,
                kind: ParticipantKind::parse(&kind).ok_or_else(|| unknown("參與者種類", &kind))?,
                center: r.text(3)?,
                receive: r.bool(4)?,
                send: r.bool(5)?,
                state: ParticipantState::parse(&state)
                    .ok_or_else(|| unknown("參與者狀態", &state))?,
                reason: r.opt_text(7)?,
                operator: r.bool(8)?,
                certs: certs.remove(&code).unwrap_or_default(),
                ips: ips.remove(&code).unwrap_or_default(),
                code,
            };
            if !first {
                out.push(b',');
            }
            first = false;
            serde_json::to_writer(&mut out, &p).map_err(json_err)?;
        }
        after = hi;
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    out.extend_from_slice(b"]}");
    Ok((out, log_seq))
}

/// Builds, signs and stores the next snapshot; keeps the newest `keep`.
pub async fn build(db: &Db, key: &SnapshotKey, now: i64, cfg: &SnapshotConfig) -> Result<Stored> {
    let version = newest(db).await?.map_or(1, |s| s.0 + 1);
    let valid_ms = cfg.valid_hours.max(1) as i64 * 3_600_000;
    let (json, log_seq) = assemble(db, version, now, valid_ms).await?;
    let body = cms::sign(
        &json,
        &Signer {
            key: &key.key,
            cert: &key.cert,
            chain: &key.chain,
        },
        now.div_euclid(1000),
    )
    .map_err(|e| internal(format!("快照簽章失敗：{e}")))?;
    drop(json);
    let (issued_at, valid_until) = (now, now + valid_ms);
    let mut tx = db.begin().await?;
    tx.execute(
        "INSERT INTO dir_snapshots (version, issued_at, valid_until, log_seq, body) VALUES ($1, $2, $3, $4, $5)",
        &[
            version.into(),
            issued_at.into(),
            valid_until.into(),
            log_seq.into(),
            body.to_vec().into(),
        ],
    )
    .await?;
    tx.execute(
        "DELETE FROM dir_snapshots WHERE version <= $1",
        &[(version - cfg.keep.max(1) as i64).into()],
    )
    .await?;
    tx.commit().await?;
    Ok(Stored {
        version,
        issued_at,
        valid_until,
        log_seq,
        body: body.into(),
    })
}

/// The newest snapshot's version, issue time, end of validity and log position: what the
/// periodic check needs, without reading the body.
async fn newest(db: &Db) -> Result<Option<(i64, i64, i64, i64)>> {
    db.fetch_optional(
        "SELECT version, issued_at, valid_until, log_seq FROM dir_snapshots ORDER BY version DESC LIMIT 1",
        &[],
    )
    .await?
    .map(|r| Ok((r.i64(0)?, r.i64(1)?, r.i64(2)?, r.i64(3)?)))
    .transpose()
}

/// What [`refresh`] found.
pub enum Fresh {
    /// The newest snapshot (this version) still holds.
    Current(i64),
    /// A new one was signed.
    Built(Stored),
}

/// Builds a snapshot when the registry changed since the newest one or half its validity has
/// passed.
pub async fn refresh(db: &Db, key: &SnapshotKey, now: i64, cfg: &SnapshotConfig) -> Result<Fresh> {
    let head = db
        .fetch_optional("SELECT MAX(seq) FROM directory_log", &[])
        .await?
        .and_then(|r| r.opt_i64(0).ok().flatten())
        .unwrap_or(0);
    if let Some((version, issued_at, valid_until, log_seq)) = newest(db).await?
        && log_seq == head
        && now < issued_at + (valid_until - issued_at) / 2
    {
        return Ok(Fresh::Current(version));
    }
    Ok(Fresh::Built(build(db, key, now, cfg).await?))
}
