//! Durable work for other systems: packages relayed to peer centers, statuses sent back to
//! the center of origin, and webhooks. Rows are written in the same transaction as the change
//! that causes them, claimed with a lease (and `SKIP LOCKED` on PostgreSQL, so several center
//! processes share the work), and retried with exponential back-off until they succeed or the
//! retry period ends.

use std::collections::HashMap;
use std::time::Duration;

use gongwen_client::{CenterClient, ClientError};
use gongwen_proto::api::{CopyView, Notification, StatusUpdate};
use gongwen_proto::{CopyStatus, FailReason};
use gongwen_store::{Tx, args};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::app::Shared;
use crate::records::{Event, event_in};

/// How long a claimed row is ours before another worker may take it.
const LEASE_MS: i64 = 60_000;
const BATCH: i64 = 32;

#[derive(Debug, Serialize, Deserialize)]
struct RelayPayload {
    recipients: Vec<String>,
}

/// Queues a relay of a package to a peer center for its recipients there.
pub async fn queue_relay(
    tx: &mut Tx,
    peer: &str,
    package_id: &str,
    recipients: &[String],
    now: i64,
) -> Result<()> {
    let payload = serde_json::to_string(&RelayPayload {
        recipients: recipients.to_vec(),
    })
    .unwrap_or_default();
    insert(tx, "relay", peer, Some(package_id), &payload, now).await
}

async fn insert(
    tx: &mut Tx,
    kind: &str,
    target: &str,
    package_id: Option<&str>,
    payload: &str,
    now: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO outbox (kind, target, package_id, payload, created_at, next_at) VALUES ($1, $2, $3, $4, $5, $5)",
        &args![kind, target, package_id, payload, now],
    )
    .await?;
    Ok(())
}

/// A copy that moved, and the package it belongs to.
pub struct CopyMove<'a> {
    pub package_id: &'a str,
    pub doc_number: &'a str,
    pub sender: &'a str,
    /// The center the package was relayed from (it hears the new status); `None` when it was
    /// submitted here.
    pub origin: Option<&'a str>,
    /// The copy as it is now.
    pub copy: &'a CopyView,
    /// The signed receipt that moved it, if any.
    pub receipt: Option<&'a [u8]>,
}

/// What the rest of the center calls after a copy moved: webhooks to the sender (and to the
/// recipient when a copy becomes available), and the status back to the origin center when
/// the package was relayed here.
pub async fn copy_moved(
    tx: &mut Tx,
    app: &crate::App,
    moved: CopyMove<'_>,
    now: i64,
) -> Result<()> {
    let CopyMove {
        package_id,
        doc_number,
        sender,
        origin,
        copy,
        receipt,
    } = moved;
    let n = Notification {
        center: app.config.id.clone(),
        package_id: package_id.to_string(),
        doc_number: doc_number.to_string(),
        sender: sender.to_string(),
        recipient: copy.recipient.clone(),
        status: copy.status,
        at: copy.status_at,
    };
    let body = serde_json::to_string(&n).unwrap_or_default();
    // The sender hears of every move; the recipient of a new copy for it.
    let recipient = if copy.status == CopyStatus::Available {
        copy.recipient.as_str()
    } else {
        sender
    };
    let hooked = match app.hooked.get(&(), now) {
        Some(h) => h,
        None => {
            let seen_gen = crate::participants::generation();
            let mut h = Vec::new();
            for r in tx
                .fetch_all(
                    "SELECT code FROM participants WHERE webhook_url IS NOT NULL AND center IS NULL",
                    &[],
                )
                .await?
            {
                h.push(r.text(0)?);
            }
            app.hooked.put((), h.clone(), seen_gen, now);
            h
        }
    };
    let targets: &[&str] = if recipient == sender {
        &[sender]
    } else {
        &[sender, recipient]
    };
    for code in targets {
        if hooked.iter().any(|h| h == code) {
            insert(tx, "webhook", code, Some(package_id), &body, now).await?;
        }
    }
    if let Some(origin) = origin {
        let update = StatusUpdate {
            package_id: package_id.to_string(),
            copy: copy.clone(),
            receipt_hex: receipt.map(crate::participants::hex),
        };
        insert(
            tx,
            "status",
            origin,
            Some(package_id),
            &serde_json::to_string(&update).unwrap_or_default(),
            now,
        )
        .await?;
    }
    Ok(())
}

struct Item {
    id: i64,
    kind: String,
    target: String,
    package_id: Option<String>,
    payload: String,
    attempts: i64,
    created_at: i64,
}

/// Why one attempt failed.
enum Failure {
    /// Try again later (network down, peer busy).
    Retry(String),
    /// The other side refused for good.
    Refused(String),
}

fn classify(e: ClientError) -> Failure {
    match &e {
        ClientError::Api { status, .. }
            if (400..500).contains(status) && *status != 408 && *status != 429 =>
        {
            Failure::Refused(e.to_string())
        }
        _ => Failure::Retry(e.to_string()),
    }
}

/// Clients for the peers and for webhooks. Peers from the configuration are set at start;
/// the directory's snapshot may add and change them.
pub struct Links {
    pub peers: std::sync::RwLock<HashMap<String, CenterClient>>,
    pub http: reqwest::Client,
    /// TLS with this center's client certificate, for clients made later.
    pub peer_tls: Option<rustls::ClientConfig>,
}

impl Links {
    pub fn peer(&self, id: &str) -> Option<CenterClient> {
        self.peers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }
}

/// Claims and works through due rows; returns how many were handled.
pub async fn run_once(app: &Shared) -> Result<usize> {
    let now = app.clock.now_ms();
    let mut tx = app.db.begin().await?;
    let rows = tx
        .fetch_all(
            &format!(
                "SELECT id, kind, target, package_id, payload, attempts, created_at FROM outbox \
                 WHERE next_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY next_at, id LIMIT $2{}",
                app.db.skip_locked()
            ),
            &args![now, BATCH],
        )
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(Item {
            id: r.i64(0)?,
            kind: r.text(1)?,
            target: r.text(2)?,
            package_id: r.opt_text(3)?,
            payload: r.text(4)?,
            attempts: r.i64(5)?,
            created_at: r.i64(6)?,
        });
    }
    // Claim row by row: a row another worker claimed meanwhile is left to it.
    let mut mine = Vec::with_capacity(items.len());
    for it in items {
        let n = tx
            .execute(
                "UPDATE outbox SET claimed_until = $2 WHERE id = $1 AND (claimed_until IS NULL OR claimed_until < $3)",
                &args![it.id, now + LEASE_MS, now],
            )
            .await?;
        if n == 1 {
            mine.push(it);
        }
    }
    tx.commit().await?;
    let items = mine;
    let n = items.len();
    for it in items {
        let outcome = match it.kind.as_str() {
            "relay" => relay(app, &it).await,
            "status" => status(app, &it).await,
            "webhook" => webhook(app, &it).await,
            other => Err(Failure::Refused(format!("不認得的工作「{other}」"))),
        };
        finish(app, &it, outcome).await?;
    }
    Ok(n)
}

async fn finish(app: &Shared, it: &Item, outcome: std::result::Result<(), Failure>) -> Result<()> {
    let now = app.clock.now_ms();
    let fed = &app.config.federation;
    let (give_up, why) = match outcome {
        Ok(()) => {
            app.db
                .execute("DELETE FROM outbox WHERE id = $1", &args![it.id])
                .await?;
            app.metrics.inc("gongwen_outbox_done_total", &it.kind);
            return Ok(());
        }
        Err(Failure::Refused(m)) => (true, m),
        Err(Failure::Retry(m)) => (now - it.created_at >= fed.give_up_after_s as i64 * 1000, m),
    };
    if !give_up {
        let shift = it.attempts.clamp(0, 30) as u32;
        let wait = fed
            .retry_first_ms
            .saturating_mul(1u64 << shift)
            .min(fed.retry_max_ms) as i64;
        app.db
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at = $2, claimed_until = NULL, last_error = $3 WHERE id = $1",
                &args![it.id, now + wait, why.as_str()],
            )
            .await?;
        app.metrics.inc("gongwen_outbox_retries_total", &it.kind);
        return Ok(());
    }
    gongwen_net::log::warn(
        "放棄對外傳送",
        serde_json::json!({ "kind": it.kind, "target": it.target, "package": it.package_id, "detail": why }),
    );
    let mut tx = app.db.begin().await?;
    if it.kind == "relay"
        && let Some(pkg) = &it.package_id
    {
        let p: RelayPayload =
            serde_json::from_str(&it.payload).unwrap_or(RelayPayload { recipients: vec![] });
        let reason = if why.contains("E_") && !why.contains("E_CLIENT_TRANSPORT") {
            FailReason::RefusedByCenter
        } else {
            FailReason::RelayGaveUp
        };
        for r in &p.recipients {
            fail_copy(app, &mut tx, pkg, r, reason, &why, now).await?;
        }
    } else {
        event_in(
            &mut tx,
            Event {
                package_id: it.package_id.as_deref(),
                detail: Some(&format!("{}：{why}", it.target)),
                ..Event::new(now, "center", &format!("{}_dropped", it.kind))
            },
        )
        .await?;
    }
    tx.execute("DELETE FROM outbox WHERE id = $1", &args![it.id])
        .await?;
    tx.commit().await?;
    app.metrics.inc("gongwen_outbox_given_up_total", &it.kind);
    Ok(())
}

async fn fail_copy(
    app: &Shared,
    tx: &mut Tx,
    pkg: &str,
    recipient: &str,
    reason: FailReason,
    why: &str,
    now: i64,
) -> Result<()> {
    let changed = tx
        .execute(
            "UPDATE copies SET status = 'failed', status_at = $3, fail_reason = $4 \
             WHERE package_id = $1 AND recipient = $2 AND status IN ('accepted', 'relayed')",
            &args![pkg, recipient, now, reason.as_str()],
        )
        .await?;
    if changed > 0 {
        let detail = format!("{}：{why}", reason.label());
        event_in(
            tx,
            Event {
                package_id: Some(pkg),
                recipient: Some(recipient),
                detail: Some(&detail),
                ..Event::new(now, "center", "failed")
            },
        )
        .await?;
        notify_sender(app, tx, pkg, recipient, now).await?;
    }
    Ok(())
}

/// After a copy of a package submitted here moved: the sender's webhook.
async fn notify_sender(
    app: &Shared,
    tx: &mut Tx,
    pkg: &str,
    recipient: &str,
    now: i64,
) -> Result<()> {
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT p.sender, p.doc_number, p.origin, {} FROM copies c JOIN packages p ON p.id = c.package_id \
                 WHERE c.package_id = $1 AND c.recipient = $2 ORDER BY c.unit",
                crate::exchange::COPY_COLS_C
            ),
            &args![pkg, recipient],
        )
        .await?;
    if let Some(r) = row {
        let copy = crate::exchange::copy_of(&r, 3)?;
        copy_moved(
            tx,
            app,
            CopyMove {
                package_id: pkg,
                doc_number: &r.text(1)?,
                sender: &r.text(0)?,
                origin: r.opt_text(2)?.as_deref(),
                copy: &copy,
                receipt: None,
            },
            now,
        )
        .await?;
    }
    Ok(())
}

async fn relay(app: &Shared, it: &Item) -> std::result::Result<(), Failure> {
    let client = app
        .links
        .peer(&it.target)
        .ok_or_else(|| Failure::Refused(format!("沒有設定交換中心「{}」", it.target)))?;
    let pkg = it.package_id.clone().unwrap_or_default();
    let p: RelayPayload =
        serde_json::from_str(&it.payload).map_err(|e| Failure::Refused(e.to_string()))?;
    let row = app
        .db
        .fetch_optional(
            "SELECT body_sha256, body_size FROM packages WHERE id = $1",
            &args![pkg.as_str()],
        )
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?
        .ok_or_else(|| Failure::Refused(format!("封包 {pkg} 不存在")))?;
    let sha = row.text(0).map_err(|e| Failure::Retry(e.to_string()))?;
    let size = row.i64(1).map_err(|e| Failure::Retry(e.to_string()))? as u64;
    let reader = app
        .blobs
        .open(&sha)
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?
        .filter(|r| r.size() == size)
        .ok_or_else(|| Failure::Retry(format!("封包 {pkg} 的內容不在存放區或長度不符")))?;
    // Checked against its digest like every body that leaves this center.
    let body = crate::exchange::read_verified(app, &pkg, &sha, &reader)
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?;
    let answer = client
        .relay_package(&p.recipients, body)
        .await
        .map_err(classify)?;
    // Relayed; then whatever the recipient's center says each copy is now.
    let now = app.clock.now_ms();
    let apply = async {
        let mut tx = app.db.begin().await?;
        for r in &p.recipients {
            let n = tx
                .execute(
                    "UPDATE copies SET status = 'relayed', status_at = $3 WHERE package_id = $1 AND recipient = $2 AND status = 'accepted'",
                    &args![pkg.as_str(), r.as_str(), now],
                )
                .await?;
            if n > 0 {
                event_in(
                    &mut tx,
                    Event {
                        package_id: Some(&pkg),
                        recipient: Some(r),
                        ..Event::new(now, &it.target, "relayed")
                    },
                )
                .await?;
                notify_sender(app, &mut tx, &pkg, r, now).await?;
            }
        }
        for c in &answer.copies {
            apply_status(app, &mut tx, &it.target, &pkg, c, None, now).await?;
        }
        tx.commit().await?;
        Ok::<(), gongwen_net::Refusal>(())
    };
    apply.await.map_err(|e| Failure::Retry(e.to_string()))
}

/// A copy status reported by the recipient's center, applied here if it moves the copy on.
///
/// 送達, 收文確認 and 退文 are applied only with the recipient's receipt, which the caller
/// has verified and built `c` from ([`crate::exchange::accept_status`]); without one (a relay
/// answer) they are left for the status that carries the receipt. Of any other status only
/// the status, its time and a failure's reason are the peer's to say.
pub async fn apply_status(
    app: &Shared,
    tx: &mut Tx,
    peer: &str,
    pkg: &str,
    c: &CopyView,
    receipt: Option<&[u8]>,
    now: i64,
) -> Result<bool> {
    let receipted = crate::exchange::needs_receipt(c.status);
    if receipted && receipt.is_none() {
        return Ok(false);
    }
    let current = tx
        .fetch_optional(
            &format!("SELECT status FROM copies WHERE package_id = $1 AND recipient = $2 AND unit = $3{}", app.db.for_update()),
            &args![pkg, c.recipient.as_str(), c.unit.clone().unwrap_or_default()],
        )
        .await?;
    let Some(current) = current else {
        return Ok(false);
    };
    let Some(cur) = CopyStatus::parse(&current.text(0)?) else {
        return Ok(false);
    };
    // Statuses may arrive out of order or twice: only moves forward count.
    if !cur.reaches(c.status) {
        return Ok(false);
    }
    let failed = c.status == CopyStatus::Failed;
    let fail_reason = c.fail_reason.filter(|_| failed);
    tx.execute(
        "UPDATE copies SET status = $4, status_at = $5, available_at = COALESCE(available_at, $6), delivered_at = COALESCE(delivered_at, $7), \
         fail_reason = $8, return_reason = $9, return_text = $10, receipt_number = $11 \
         WHERE package_id = $1 AND recipient = $2 AND unit = $3",
        &args![
            pkg,
            c.recipient.as_str(),
            c.unit.clone().unwrap_or_default(),
            c.status.as_str(),
            c.status_at,
            (c.status == CopyStatus::Available).then_some(c.status_at),
            c.delivered_at.filter(|_| receipted),
            fail_reason.map(|f| f.as_str()),
            c.return_reason.filter(|_| receipted).map(|r| r.label()),
            c.return_text.clone().filter(|_| receipted),
            c.receipt_number.clone().filter(|_| receipted)
        ],
    )
    .await?;
    let detail = match c.status {
        CopyStatus::Failed => fail_reason.map(|f| f.label().to_string()),
        CopyStatus::Returned => Some(format!(
            "{}：{}",
            c.return_reason.map(|x| x.label()).unwrap_or("其他"),
            c.return_text.as_deref().unwrap_or("")
        )),
        CopyStatus::Confirmed => c.receipt_number.as_ref().map(|n| format!("收文字號 {n}")),
        _ => None,
    };
    event_in(
        tx,
        Event {
            package_id: Some(pkg),
            recipient: Some(&c.recipient),
            detail: detail.as_deref(),
            receipt: receipt.filter(|_| receipted),
            ..Event::new(now, peer, c.status.as_str())
        },
    )
    .await?;
    notify_sender(app, tx, pkg, &c.recipient, now).await?;
    Ok(true)
}

async fn status(app: &Shared, it: &Item) -> std::result::Result<(), Failure> {
    let client = app
        .links
        .peer(&it.target)
        .ok_or_else(|| Failure::Refused(format!("沒有設定交換中心「{}」", it.target)))?;
    let update: StatusUpdate =
        serde_json::from_str(&it.payload).map_err(|e| Failure::Refused(e.to_string()))?;
    client.relay_status(&update).await.map_err(classify)
}

pub use gongwen_net::sign_webhook;

async fn webhook(app: &Shared, it: &Item) -> std::result::Result<(), Failure> {
    let row = app
        .db
        .fetch_optional(
            "SELECT webhook_url, webhook_secret FROM participants WHERE code = $1",
            &args![it.target.as_str()],
        )
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?;
    let (Some(url), secret) = (
        row.as_ref().and_then(|r| r.opt_text(0).ok().flatten()),
        row.as_ref()
            .and_then(|r| r.opt_text(1).ok().flatten())
            .unwrap_or_default(),
    ) else {
        // The participant no longer wants notifications.
        return Ok(());
    };
    let t = app.clock.now_s();
    let sig = sign_webhook(secret.as_bytes(), t, it.payload.as_bytes());
    gongwen_client::post_webhook(&app.links.http, &url, it.payload.clone().into_bytes(), &sig)
        .await
        .map_err(|e| Failure::Retry(e.to_string()))
}

/// The worker: runs until the task is aborted.
pub async fn worker(app: Shared) {
    loop {
        match run_once(&app).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => gongwen_net::log::error(
                "對外傳送工作失敗",
                serde_json::json!({ "detail": e.to_string() }),
            ),
        }
        tokio::select! {
            _ = app.outbox_ready.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
}
