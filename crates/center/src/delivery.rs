//! The outbox's worker: claims due rows with a lease (and `SKIP LOCKED` on PostgreSQL, so
//! several center processes share the work), relays packages, sends statuses back and calls
//! webhooks, and retries with exponential back-off until each succeeds or its retry period ends.

use std::time::Duration;

use gongwen_client::ClientError;
use gongwen_proto::FailReason;
use gongwen_proto::api::StatusUpdate;
use gongwen_store::{Tx, args};

use crate::Result;
use crate::app::Shared;
use crate::exchange;
use crate::outbox::{RelayPayload, notify_sender, sign_webhook};
use crate::records::{Event, event_in};

/// How long a claimed row is ours before another worker may take it.
const LEASE_MS: i64 = 60_000;

const BATCH: i64 = 32;

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

fn retry(e: impl std::fmt::Display) -> Failure {
    Failure::Retry(e.to_string())
}

/// The client of the peer center an item goes to.
fn peer(app: &Shared, it: &Item) -> std::result::Result<gongwen_client::CenterClient, Failure> {
    app.links
        .peer(&it.target)
        .ok_or_else(|| Failure::Refused(format!("沒有設定交換中心「{}」", it.target)))
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

async fn relay(app: &Shared, it: &Item) -> std::result::Result<(), Failure> {
    let client = peer(app, it)?;
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
        .map_err(retry)?
        .ok_or_else(|| Failure::Refused(format!("封包 {pkg} 不存在")))?;
    let sha = row.text(0).map_err(retry)?;
    let size = row.i64(1).map_err(retry)? as u64;
    let reader = app
        .blobs
        .open(&sha)
        .await
        .map_err(retry)?
        .filter(|r| r.size() == size)
        .ok_or_else(|| Failure::Retry(format!("封包 {pkg} 的內容不在存放區或長度不符")))?;
    // Checked against its digest like every body that leaves this center.
    let body = exchange::read_verified(app, &pkg, &sha, &reader)
        .await
        .map_err(retry)?;
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
            exchange::apply_status(app, &mut tx, &it.target, &pkg, c, None, now).await?;
        }
        tx.commit().await?;
        Ok::<(), gongwen_net::Refusal>(())
    };
    apply.await.map_err(retry)
}

async fn status(app: &Shared, it: &Item) -> std::result::Result<(), Failure> {
    let client = peer(app, it)?;
    let update: StatusUpdate =
        serde_json::from_str(&it.payload).map_err(|e| Failure::Refused(e.to_string()))?;
    client.relay_status(&update).await.map_err(classify)
}

async fn webhook(app: &Shared, it: &Item) -> std::result::Result<(), Failure> {
    let row = app
        .db
        .fetch_optional(
            "SELECT webhook_url, webhook_secret FROM participants WHERE code = $1",
            &args![it.target.as_str()],
        )
        .await
        .map_err(retry)?;
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
        .map_err(retry)
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
