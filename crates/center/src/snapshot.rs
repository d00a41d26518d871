//! Running from the directory: fetch its signed snapshot, check it, and make the center's
//! participant tables say what it says. The newest accepted snapshot is kept in the database,
//! so the center goes on exchanging while the directory is unreachable — until that snapshot
//! expires, when every participant request is refused with `E_DIRECTORY_STALE`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use gongwen_proto::Code;
use gongwen_proto::directory::{SNAPSHOT_FORMAT, Snapshot, SnapshotParticipant};
use gongwen_store::{Db, sha256_hex};
use gongwen_trust::path::{hex, not_after, spki_sha256};
use x509_cert::Certificate;
use x509_cert::der::Encode;

use crate::Result;
use crate::app::Shared;
use crate::participants::{self, SHARED};
use gongwen_net::Refusal;

/// How far the directory's clock may run ahead of ours.
const SKEW_MS: i64 = 5 * 60_000;

fn invalid(detail: impl Into<String>) -> Refusal {
    Refusal::new(Code::DirSnapshot, detail)
}

/// Checks a signed snapshot: signed by `signer`'s key, that certificate valid now, our
/// format, issued not in the future, not expired.
pub fn verify(body: &[u8], signer: &Certificate, now_ms: i64) -> Result<Snapshot> {
    let v = gongwen_trust::cms::verify(body).map_err(|e| invalid(format!("簽章：{e}")))?;
    let want = spki_sha256(signer).map_err(|e| invalid(e.to_string()))?;
    let got = spki_sha256(&v.signer).map_err(|e| invalid(e.to_string()))?;
    if want != got {
        return Err(invalid(format!(
            "簽署者「{}」不是設定的通訊錄簽章憑證",
            v.signer.tbs_certificate.subject
        )));
    }
    let validity = &signer.tbs_certificate.validity;
    let now_s = now_ms.div_euclid(1000);
    if (validity.not_before.to_unix_duration().as_secs() as i64) > now_s
        || not_after(signer) < now_s
    {
        return Err(invalid("通訊錄簽章憑證不在效期內"));
    }
    let snap: Snapshot =
        serde_json::from_slice(&v.content).map_err(|e| invalid(format!("內容無法解讀：{e}")))?;
    if snap.format != SNAPSHOT_FORMAT {
        return Err(invalid(format!("格式「{}」不認得", snap.format)));
    }
    if snap.issued_at > now_ms + SKEW_MS {
        return Err(invalid("簽發時間在未來（檢查兩邊的時鐘）"));
    }
    if snap.valid_until <= now_ms {
        return Err(invalid(format!(
            "第 {} 版已於 {} 過期",
            snap.version,
            gongwen_trust::path::roc_datetime(snap.valid_until / 1000)
        )));
    }
    Ok(snap)
}

/// The snapshot this center runs on: (version, valid_until).
pub async fn held(db: &Db) -> Result<Option<(i64, i64)>> {
    Ok(db
        .fetch_optional(
            "SELECT version, valid_until FROM center_snapshot WHERE id = 1",
            &[],
        )
        .await?
        .map(|r| Ok::<_, gongwen_store::StoreError>((r.i64(0)?, r.i64(1)?)))
        .transpose()?)
}

/// What applying a snapshot changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: i64,
    pub changed: usize,
    pub removed: usize,
}

fn digest(p: &SnapshotParticipant) -> String {
    sha256_hex(serde_json::to_string(p).unwrap_or_default().as_bytes())
}

/// Makes the tables say what `snap` says, in one transaction, touching only participants
/// whose entry changed; participants the snapshot no longer has are cancelled.
pub async fn apply(
    db: &Db,
    snap: &Snapshot,
    body: &[u8],
    self_id: &str,
    now: i64,
) -> Result<Applied> {
    let mut tx = db.begin().await?;
    if let Some(r) = tx
        .fetch_optional("SELECT version FROM center_snapshot WHERE id = 1", &[])
        .await?
    {
        let have = r.i64(0)?;
        if snap.version <= have {
            return Err(invalid(format!(
                "第 {} 版不比手上的第 {have} 版新，不採用",
                snap.version
            )));
        }
    }
    let mut known: HashMap<String, (Option<String>, String)> = HashMap::new();
    for r in tx
        .fetch_all("SELECT code, snapshot_digest, state FROM participants", &[])
        .await?
    {
        known.insert(r.text(0)?, (r.opt_text(1)?, r.text(2)?));
    }
    let mut out = Applied {
        version: snap.version,
        ..Default::default()
    };
    let mut listed = HashSet::new();
    for p in &snap.participants {
        listed.insert(p.code.as_str());
        let d = digest(p);
        if known
            .get(&p.code)
            .is_some_and(|(old, _)| old.as_deref() == Some(d.as_str()))
        {
            continue;
        }
        participants::check_code(&p.code)?;
        let center = (p.center != self_id).then_some(p.center.as_str());
        tx.execute(
            "INSERT INTO participants (code, name, state, state_reason, center, operator, updated_at, snapshot_digest) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO UPDATE SET name = $2, state = $3, \
             state_reason = $4, center = $5, operator = $6, updated_at = $7, snapshot_digest = $8",
            &[
                p.code.as_str().into(),
                p.name.as_str().into(),
                p.state.as_str().into(),
                p.reason.clone().into(),
                center.into(),
                p.operator.into(),
                now.into(),
                d.into(),
            ],
        )
        .await?;
        for table in ["participant_keys", "participant_ips"] {
            let sql = format!("DELETE FROM {table} WHERE code = $1");
            tx.execute(&sql, &[p.code.as_str().into()]).await?;
        }
        for c in &p.certs {
            let spki = c.spki_sha256.to_ascii_lowercase();
            if spki.len() != 64 || !spki.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(format!(
                    "{} 的公鑰摘要「{}」格式不對",
                    p.code, c.spki_sha256
                )));
            }
            // The certificate itself is fetched from the directory when a sender asks for it.
            tx.execute(
                "INSERT INTO participant_keys (spki_sha256, code, usage, not_after, cert) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (spki_sha256) DO UPDATE SET code = $2, usage = $3, not_after = $4, cert = $5",
                &[
                    spki.as_str().into(),
                    p.code.as_str().into(),
                    c.usage.as_str().into(),
                    c.not_after.into(),
                    Vec::<u8>::new().into(),
                ],
            )
            .await?;
        }
        for ip in &p.ips {
            tx.execute(
                "INSERT INTO participant_ips (code, ip, approved_by) VALUES ($1, $2, $3) ON CONFLICT (code, ip) DO NOTHING",
                &[p.code.as_str().into(), ip.ip.as_str().into(), ip.approved_by.clone().into()],
            )
            .await?;
        }
        out.changed += 1;
    }
    for (code, (_, state)) in &known {
        if !listed.contains(code.as_str()) && state != "cancelled" {
            tx.execute(
                "UPDATE participants SET state = 'cancelled', state_reason = $2, updated_at = $3, snapshot_digest = NULL WHERE code = $1",
                &[code.as_str().into(), "已不在通訊錄中".into(), now.into()],
            )
            .await?;
            out.removed += 1;
        }
    }
    tx.execute("DELETE FROM groups WHERE owner = $1", &[SHARED.into()])
        .await?;
    for g in &snap.groups {
        tx.execute(
            "INSERT INTO groups (owner, name, updated_at) VALUES ($1, $2, $3)",
            &[SHARED.into(), g.name.as_str().into(), now.into()],
        )
        .await?;
        for m in &g.members {
            tx.execute(
                "INSERT INTO group_members (owner, name, member) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[SHARED.into(), g.name.as_str().into(), m.as_str().into()],
            )
            .await?;
        }
    }
    tx.execute(
        "INSERT INTO center_snapshot (id, version, issued_at, valid_until, fetched_at, body) VALUES (1, $1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET version = $1, issued_at = $2, valid_until = $3, fetched_at = $4, body = $5",
        &[
            snap.version.into(),
            snap.issued_at.into(),
            snap.valid_until.into(),
            now.into(),
            body.to_vec().into(),
        ],
    )
    .await?;
    tx.commit().await?;
    participants::changed();
    Ok(out)
}

/// Fetches `code`'s encryption certificates from the directory when the snapshot gave only
/// their digests, keeping those whose key matches a digest (the snapshot's signature vouches
/// for them; the transport need not).
pub async fn fill_certs(app: &Shared, code: &str) -> Result<()> {
    let Some(client) = &app.directory else {
        return Ok(());
    };
    let missing = app
        .db
        .fetch_all(
            "SELECT spki_sha256 FROM participant_keys WHERE code = $1 AND usage = 'encryption' AND length(cert) = 0",
            &[code.into()],
        )
        .await?;
    if missing.is_empty() {
        return Ok(());
    }
    let wanted: HashSet<String> = missing
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_, _>>()?;
    let got = client.participant_certs(code).await.map_err(|e| {
        Refusal::new(
            Code::Unavailable,
            format!("無法向通訊錄取得 {code} 的加密憑證：{e}"),
        )
    })?;
    let certs = gongwen_trust::cms::load_certs(got.encryption.as_bytes()).unwrap_or_default();
    for cert in certs {
        let Ok(k) = spki_sha256(&cert) else { continue };
        let spki = hex(&k);
        if !wanted.contains(&spki) {
            continue;
        }
        let der = cert.to_der().map_err(|e| invalid(e.to_string()))?;
        app.db
            .execute(
                "UPDATE participant_keys SET cert = $2 WHERE spki_sha256 = $1 AND code = $3",
                &[spki.as_str().into(), der.into(), code.into()],
            )
            .await?;
    }
    Ok(())
}

/// Peer centers from the snapshot: their keys (to know them when they relay to us) and
/// clients (to relay to them). Configured peers stay as configured.
fn adopt_peers(app: &Shared, snap: &Snapshot) {
    let configured: HashSet<&str> = app
        .config
        .federation
        .peers
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    let mut keys = app.peer_keys.write().unwrap_or_else(|e| e.into_inner());
    let mut clients = app.links.peers.write().unwrap_or_else(|e| e.into_inner());
    for c in &snap.centers {
        if c.id == app.config.id || configured.contains(c.id.as_str()) {
            continue;
        }
        keys.retain(|(id, _)| *id != c.id);
        if let Some(k) = &c.tls_key {
            keys.push((c.id.clone(), k.clone()));
        }
        if let Some(tls) = &app.links.peer_tls
            && let Ok(client) = gongwen_client::CenterClient::new(&c.url, tls.clone())
        {
            clients.insert(c.id.clone(), client);
        }
    }
}

/// Asks the directory once; applies a newer snapshot. Returns the version applied, if any.
pub async fn fetch_once(app: &Shared, signer: &Certificate) -> Result<Option<Applied>> {
    let Some(client) = &app.directory else {
        return Ok(None);
    };
    let have = held(&app.db).await?;
    let body = client
        .snapshot(have.map(|h| h.0))
        .await
        .map_err(|e| Refusal::new(Code::Unavailable, format!("通訊錄無法連線：{e}")))?;
    let Some(body) = body else {
        return Ok(None);
    };
    let now = app.clock.now_ms();
    let snap = verify(&body, signer, now)?;
    let applied = apply(&app.db, &snap, &body, &app.config.id, now).await?;
    adopt_peers(app, &snap);
    app.snapshot_valid_until
        .store(snap.valid_until, Ordering::Release);
    Ok(Some(applied))
}

/// Picks up the snapshot this center holds (after a restart, with the directory perhaps
/// down): its validity, and its peer centers.
pub async fn resume(app: &Shared, signer: &Certificate) -> Result<()> {
    let row = app
        .db
        .fetch_optional(
            "SELECT valid_until, body FROM center_snapshot WHERE id = 1",
            &[],
        )
        .await?;
    let Some(r) = row else {
        app.snapshot_valid_until.store(i64::MIN, Ordering::Release);
        return Ok(());
    };
    let valid_until = r.i64(0)?;
    app.snapshot_valid_until
        .store(valid_until, Ordering::Release);
    if let Ok(snap) = verify(&r.bytes(1)?, signer, app.clock.now_ms()) {
        adopt_peers(app, &snap);
    }
    Ok(())
}

/// [`fetch_once`], with what changed or failed in the log.
pub async fn fetch_logged(app: &Shared, signer: &Certificate) {
    match fetch_once(app, signer).await {
        Ok(Some(a)) => gongwen_net::log::info(
            "已採用新的通訊錄快照",
            serde_json::json!({ "version": a.version, "changed": a.changed, "removed": a.removed }),
        ),
        Ok(None) => {}
        Err(e) => gongwen_net::log::warn(
            "通訊錄快照未更新，沿用手上的快照",
            serde_json::json!({ "code": e.code.as_str(), "detail": e.detail }),
        ),
    }
}

/// Fetches every `every`.
pub async fn worker(app: Shared, signer: Certificate, every: std::time::Duration) {
    loop {
        tokio::time::sleep(every).await;
        fetch_logged(&app, &signer).await;
    }
}
