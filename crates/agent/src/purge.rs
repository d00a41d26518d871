//! Keeping the agent's own store bounded: after `retention_days` (at least a year, the
//! records rule) the copies it kept of finished sends and receipts, their packages, the
//! webhooks delivered and the sign-in records are removed. The inbox folders of folder mode
//! belong to the document system and are never touched; expired sessions and challenges go
//! after a day.

use gongwen_store::StoreError;

use crate::{Agency, Node};

const DAY_MS: i64 = 86_400_000;

fn remove_dir(p: &std::path::Path) {
    if p.exists()
        && let Err(e) = std::fs::remove_dir_all(p)
    {
        gongwen_net::log::warn(
            "無法刪除逾保存期限的資料夾",
            serde_json::json!({ "path": p.display().to_string(), "detail": e.to_string() }),
        );
    }
}

/// One pass for every agency; returns how many sends and receipts were removed.
pub async fn run(node: &Node) -> Result<(usize, usize), StoreError> {
    let now = node.clock.now_ms();
    let cutoff = now - i64::from(node.config.retention_days.max(365)) * DAY_MS;
    let (mut sent, mut received) = (0, 0);
    for a in &node.agencies {
        let code = a.code.as_str();
        let rows = node
            .db
            .fetch_all(
                "SELECT name, package_id, source FROM agent_sent WHERE agency = $1 AND state <> 'sealed' AND updated_at < $2",
                &[code.into(), cutoff.into()],
            )
            .await?;
        for r in &rows {
            let (name, id, source) = (r.text(0)?, r.text(1)?, r.text(2)?);
            if source != "folder" {
                remove_dir(&crate::send::staged_dir(node, a, &name));
            }
            let _ = std::fs::remove_file(crate::send::package_path(node, a, &name));
            node.db
                .execute(
                    "DELETE FROM agent_copies WHERE agency = $1 AND package_id = $2",
                    &[code.into(), id.as_str().into()],
                )
                .await?;
            node.db
                .execute(
                    "DELETE FROM agent_sent WHERE agency = $1 AND name = $2",
                    &[code.into(), name.as_str().into()],
                )
                .await?;
            sent += 1;
        }
        received += purge_received(node, a, cutoff).await?;
        node.db
            .execute(
                "DELETE FROM agent_webhooks WHERE agency = $1 AND done_at IS NOT NULL AND done_at < $2",
                &[code.into(), cutoff.into()],
            )
            .await?;
    }
    for (sql, before) in [
        ("DELETE FROM agent_logins WHERE at < $1", cutoff),
        (
            "DELETE FROM agent_challenges WHERE created_at < $1",
            now - DAY_MS,
        ),
        (
            "DELETE FROM agent_sessions WHERE last_seen < $1",
            now - DAY_MS,
        ),
    ] {
        node.db.execute(sql, &[before.into()]).await?;
    }
    Ok((sent, received))
}

async fn purge_received(node: &Node, a: &Agency, cutoff: i64) -> Result<usize, StoreError> {
    let code = a.code.as_str();
    // Waiting documents stay until someone handles them.
    let rows = node
        .db
        .fetch_all(
            "SELECT package_id, state FROM agent_received WHERE agency = $1 AND state <> 'delivered' AND received_at < $2",
            &[code.into(), cutoff.into()],
        )
        .await?;
    for r in &rows {
        let (id, state) = (r.text(0)?, r.text(1)?);
        if a.folders.is_none() {
            remove_dir(&crate::receive::inbox_dir(node, a).join(&id));
        }
        if state == "quarantined" {
            remove_dir(&crate::receive::quarantined(node, a, &id));
        }
        let _ = std::fs::remove_file(crate::receive::incoming_path(node, a, &id));
        node.db
            .execute(
                "DELETE FROM agent_received WHERE agency = $1 AND package_id = $2",
                &[code.into(), id.as_str().into()],
            )
            .await?;
    }
    Ok(rows.len())
}
