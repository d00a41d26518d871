//! Telling the agency's document system what happened: webhooks signed like the center's
//! (`t=<unix>,sha256=<HMAC>` over `t.body` with the agency's secret), kept in the database
//! until the URL answers 2xx, in order, retried with back-off for up to three days.
//!
//! Events: `received` (a document in the inbox, or returned on arrival), `sent` (the center
//! has it), `refused` (the center would not take it), `status` (a copy moved: 送達, 確認,
//! 退文 with its reason, or failed).

use gongwen_proto::CopyStatus;
use gongwen_proto::api::SentPackage;
use gongwen_store::{StoreError, random_hex};
use serde_json::{Value, json};

use crate::{Agency, AgentError, Node};

/// Give up on a webhook (and record why) after this long.
const GIVE_UP_MS: i64 = 3 * 24 * 3600 * 1000;

/// Queues an event for the agency's webhook; nothing when it has none.
pub(crate) async fn enqueue(
    node: &Node,
    a: &Agency,
    event: &str,
    data: Value,
) -> Result<(), StoreError> {
    if a.webhook.is_none() {
        return Ok(());
    }
    let now = node.clock.now_ms();
    let id = random_hex(16);
    let body =
        json!({ "id": id, "event": event, "agency": a.code.as_str(), "at": now, "data": data });
    node.db
        .execute(
            "INSERT INTO agent_webhooks (id, agency, body, attempts, next_at, created_at) VALUES ($1, $2, $3, 0, $4, $4)",
            &[id.as_str().into(), a.code.as_str().into(), body.to_string().into(), now.into()],
        )
        .await
        .map(|_| ())
}

/// Posts what is due, oldest first; stops at the first failure so events stay in order.
pub(crate) async fn deliver(node: &Node, a: &Agency) -> Result<(), AgentError> {
    let Some(hook) = &a.webhook else {
        return Ok(());
    };
    let now = node.clock.now_ms();
    let rows = node
        .db
        .fetch_all(
            "SELECT id, body, attempts, created_at FROM agent_webhooks \
             WHERE agency = $1 AND done_at IS NULL AND next_at <= $2 ORDER BY created_at, id LIMIT 100",
            &[a.code.as_str().into(), now.into()],
        )
        .await?;
    for r in rows {
        let (id, body, attempts, created) = (r.text(0)?, r.text(1)?, r.i64(2)?, r.i64(3)?);
        let sig =
            gongwen_net::sign_webhook(hook.secret.as_bytes(), node.clock.now_s(), body.as_bytes());
        match gongwen_client::post_webhook(&node.http, &hook.url, body.into_bytes(), &sig).await {
            Ok(()) => {
                node.db
                    .execute(
                        "UPDATE agent_webhooks SET done_at = $2, attempts = $3, last_error = NULL WHERE id = $1",
                        &[id.as_str().into(), node.clock.now_ms().into(), (attempts + 1).into()],
                    )
                    .await?;
            }
            Err(e) => {
                let now = node.clock.now_ms();
                let gave_up = now - created > GIVE_UP_MS;
                // 5 s, 10 s, 20 s … at most an hour apart.
                let wait = (5_000i64 << attempts.min(10)).min(3_600_000);
                node.db
                    .execute(
                        "UPDATE agent_webhooks SET attempts = $2, next_at = $3, last_error = $4, done_at = $5 WHERE id = $1",
                        &[
                            id.as_str().into(),
                            (attempts + 1).into(),
                            (now + wait).into(),
                            e.to_string().into(),
                            gave_up.then_some(now).into(),
                        ],
                    )
                    .await?;
                if gave_up {
                    gongwen_net::log::warn(
                        "通知網址三天都無法送達，已放棄這則通知",
                        json!({ "agency": a.code.as_str(), "webhook": id, "detail": e.to_string() }),
                    );
                    continue;
                }
                return Err(AgentError::remote(format!("通知網址 {}", hook.url))(e));
            }
        }
    }
    Ok(())
}

/// Compares what the center says of the copies this agency sent with what was seen last, and
/// queues a `status` event for each copy that moved. Packages still open come in one list;
/// one that closed since the last look is asked for by itself.
pub(crate) async fn watch_copies(node: &Node, a: &Agency) -> Result<(), AgentError> {
    if a.webhook.is_none() {
        return Ok(());
    }
    let page = a
        .center
        .sent_list(&[("open", "true"), ("limit", "500")])
        .await
        .map_err(AgentError::Unreachable)?;
    let mut seen: std::collections::HashSet<String> =
        page.items.iter().map(|p| p.id.clone()).collect();
    for p in &page.items {
        record(node, a, p).await?;
    }
    // Open here, no longer open there: it closed.
    let open = node
        .db
        .fetch_all(
            "SELECT DISTINCT package_id FROM agent_copies WHERE agency = $1 AND status NOT IN ('confirmed', 'returned', 'failed')",
            &[a.code.as_str().into()],
        )
        .await?;
    for r in open {
        let id = r.text(0)?;
        if seen.insert(id.clone()) {
            let p = a.center.sent(&id).await.map_err(AgentError::Unreachable)?;
            record(node, a, &p).await?;
        }
    }
    Ok(())
}

async fn record(node: &Node, a: &Agency, p: &SentPackage) -> Result<(), StoreError> {
    for c in &p.copies {
        let was = node
            .db
            .fetch_optional(
                "SELECT status FROM agent_copies WHERE agency = $1 AND package_id = $2 AND recipient = $3",
                &[a.code.as_str().into(), p.id.as_str().into(), c.recipient.as_str().into()],
            )
            .await?
            .map(|r| r.text(0))
            .transpose()?;
        if was.as_deref() == Some(c.status.as_str()) {
            continue;
        }
        let now = node.clock.now_ms();
        node.db
            .execute(
                "INSERT INTO agent_copies (agency, package_id, recipient, status, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (agency, package_id, recipient) DO UPDATE SET status = $4, updated_at = $5",
                &[
                    a.code.as_str().into(),
                    p.id.as_str().into(),
                    c.recipient.as_str().into(),
                    c.status.as_str().into(),
                    now.into(),
                ],
            )
            .await?;
        // A copy first seen already accepted is not news; anything later is.
        if was.is_some() || c.status != CopyStatus::Accepted {
            enqueue(
                node,
                a,
                "status",
                json!({
                    "package_id": p.id, "doc_number": p.doc_number, "recipient": c.recipient,
                    "status": c.status.as_str(), "label": c.status.label(), "copy": c,
                }),
            )
            .await?;
        }
    }
    Ok(())
}
