//! Durable work for other systems: packages relayed to peer centers, statuses sent back to
//! the center of origin, and webhooks. Rows are written here in the same transaction as the
//! change that causes them; [`crate::delivery`] works through them.

use gongwen_proto::CopyStatus;
use gongwen_proto::api::{CopyView, Notification, StatusUpdate};
use gongwen_store::{Tx, args};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::app::Shared;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RelayPayload {
    pub(crate) recipients: Vec<String>,
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
    let load = async {
        tx.fetch_all(
            "SELECT code FROM participants WHERE webhook_url IS NOT NULL AND center IS NULL",
            &[],
        )
        .await?
        .iter()
        .map(|r| Ok(r.text(0)?))
        .collect()
    };
    let hooked = app.hooked.get_or_load((), now, load).await?;
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

/// After a copy of a package submitted here moved: the sender's webhook.
pub(crate) async fn notify_sender(
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
                crate::copies::COPY_COLS_C
            ),
            &args![pkg, recipient],
        )
        .await?;
    if let Some(r) = row {
        let copy = crate::copies::copy_of(&r, 3)?;
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

pub use gongwen_net::sign_webhook;
