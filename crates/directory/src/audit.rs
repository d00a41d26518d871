//! The directory's log: every change is an entry carrying the hash of the one before, so an
//! entry changed or removed afterwards breaks the chain where it happened.
//!
//! The chain alone cannot notice its newest entries being cut off (or the whole chain being
//! rewritten); for that, [`verify`] takes an *anchor*, a (sequence number, hash) kept elsewhere
//! — the signed snapshot carries the log's head, and an auditor can write one down.

use gongwen_store::{Db, Row, StoreError, Tx, Value, sha256_hex};

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const ENTRY_COLS: &str = "seq, at, actor, action, subject, detail, prev, hash";

/// What happened, by whom, to what. `detail` is JSON text (kept as written: it is hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// Unix milliseconds, from the service's clock.
    pub at: i64,
    /// Who: a participant code, a reviewer's account, `system` for automatic changes.
    pub actor: String,
    /// What, as a stable word: `participant.activated`, `participant.suspended`, ….
    pub action: String,
    /// To what: usually a 機關代碼.
    pub subject: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub entry: NewEntry,
    pub prev: String,
    pub hash: String,
}

/// The hash of one entry: SHA-256 over a domain tag and each field with its length in front,
/// so no two different entries share an encoding.
pub fn entry_hash(seq: i64, prev: &str, e: &NewEntry) -> String {
    let mut buf = Vec::with_capacity(128 + e.detail.len());
    buf.extend_from_slice(b"gongwen-directory-log/1\0");
    let seq = seq.to_string();
    let at = e.at.to_string();
    for f in [
        seq.as_str(),
        prev,
        at.as_str(),
        e.actor.as_str(),
        e.action.as_str(),
        e.subject.as_str(),
        e.detail.as_str(),
    ] {
        buf.extend_from_slice(&(f.len() as u64).to_be_bytes());
        buf.extend_from_slice(f.as_bytes());
    }
    sha256_hex(&buf)
}

/// Appends an entry inside the caller's transaction, so the change and its entry commit
/// together. Entries are numbered 1, 2, 3 … without gaps.
pub async fn append(tx: &mut Tx, e: NewEntry) -> Result<Entry, StoreError> {
    let mut head = lock_head(tx).await?;
    append_after(tx, &mut head, e).await
}

/// [`append`] from its parts: what the registry, the applications and the improvement notices
/// record (`detail` is JSON, as text or a `serde_json::Value`).
pub async fn record(
    tx: &mut Tx,
    at: i64,
    actor: &str,
    action: &str,
    subject: &str,
    detail: impl std::fmt::Display,
) -> Result<(), StoreError> {
    let e = NewEntry {
        at,
        actor: actor.into(),
        action: action.into(),
        subject: subject.into(),
        detail: detail.to_string(),
    };
    append(tx, e).await.map(|_| ())
}

/// Takes the log for this transaction and returns its head (number and hash of the last
/// entry; 0 and [`GENESIS`] when empty), for [`append_after`] in a batch.
pub async fn lock_head(tx: &mut Tx) -> Result<(i64, String), StoreError> {
    if let Tx::Postgres(_) = tx {
        // One appender at a time across processes (SQLite's writer is one already).
        tx.execute("SELECT pg_advisory_xact_lock(7346160)", &[])
            .await?;
    }
    let last = tx
        .fetch_optional(
            "SELECT seq, hash FROM directory_log ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await?;
    Ok(match last {
        Some(r) => (r.i64(0)?, r.text(1)?),
        None => (0, GENESIS.to_string()),
    })
}

/// Appends after `head` (from [`lock_head`] in the same transaction) and moves it on.
pub async fn append_after(
    tx: &mut Tx,
    head: &mut (i64, String),
    e: NewEntry,
) -> Result<Entry, StoreError> {
    let seq = head.0 + 1;
    let prev = head.1.clone();
    let hash = entry_hash(seq, &prev, &e);
    tx.execute(
        "INSERT INTO directory_log (seq, at, actor, action, subject, detail, prev, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            seq.into(),
            e.at.into(),
            e.actor.as_str().into(),
            e.action.as_str().into(),
            e.subject.as_str().into(),
            e.detail.as_str().into(),
            prev.as_str().into(),
            hash.as_str().into(),
        ],
    )
    .await?;
    *head = (seq, hash.clone());
    Ok(Entry {
        seq,
        entry: e,
        prev,
        hash,
    })
}

/// Where the chain breaks, in words an auditor reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub seq: i64,
    pub reason: String,
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub entries: u64,
    /// The first entry kept (1 unless older entries were purged under the retention setting).
    pub first: Option<i64>,
    /// The newest entry: its number and hash (what to write down as the next anchor).
    pub head: Option<(i64, String)>,
    /// The first break found, if any.
    pub broken: Option<Break>,
}

/// Walks the whole log in order, recomputing every hash, in pages (memory stays flat however
/// long the log). With `anchor`, the entry it names must be there with that hash.
pub async fn verify(db: &Db, anchor: Option<(i64, &str)>) -> Result<Report, StoreError> {
    let mut report = Report {
        entries: 0,
        first: None,
        head: None,
        broken: None,
    };
    let mut after = 0i64;
    let mut prev: Option<(i64, String)> = None;
    let mut anchor_seen = false;
    loop {
        let rows = db
            .fetch_all(
                &format!(
                    "SELECT {ENTRY_COLS} FROM directory_log WHERE seq > $1 ORDER BY seq LIMIT 1000"
                ),
                &[Value::from(after)],
            )
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let Entry {
                seq,
                entry: e,
                prev: stored_prev,
                hash: stored_hash,
            } = entry_of(r)?;
            after = seq;
            report.entries += 1;
            let broken = match &prev {
                None if seq == 1 && stored_prev != GENESIS => {
                    Some("第 1 筆的前一筆雜湊應為全零".to_string())
                }
                None => None,
                Some((p, _)) if seq != p + 1 => {
                    Some(format!("第 {p} 筆之後缺少紀錄（下一筆是第 {seq} 筆）"))
                }
                Some((p, h)) if *h != stored_prev => {
                    Some(format!("第 {seq} 筆記載的前一筆雜湊與第 {p} 筆不符"))
                }
                Some(_) => None,
            }
            .or_else(|| {
                (entry_hash(seq, &stored_prev, &e) != stored_hash)
                    .then(|| format!("第 {seq} 筆的內容與其雜湊不符（紀錄遭修改）"))
            });
            if report.first.is_none() {
                report.first = Some(seq);
            }
            if let Some((a, h)) = anchor
                && a == seq
            {
                anchor_seen = true;
                if h != stored_hash {
                    report.broken.get_or_insert(Break {
                        seq,
                        reason: format!("第 {seq} 筆的雜湊與留存的錨點不符"),
                    });
                }
            }
            // Only the first break is kept; the walk goes on to count and to find the head.
            if let Some(reason) = broken {
                report.broken.get_or_insert(Break { seq, reason });
            }
            prev = Some((seq, stored_hash));
        }
    }
    report.head = prev;
    if let Some((a, _)) = anchor
        && !anchor_seen
        && report.first.is_none_or(|f| a >= f)
    {
        report.broken.get_or_insert(Break {
            seq: a,
            reason: format!("留存的錨點第 {a} 筆已不在紀錄中（最新的紀錄被刪除）"),
        });
    }
    Ok(report)
}

/// Deletes entries older than `before` (Unix ms) under the retention setting. The newest entry
/// always stays, and what remains still verifies: the chain is checked from the first kept
/// entry on. Returns how many went.
pub async fn purge(db: &Db, before: i64) -> Result<u64, StoreError> {
    db.execute(
        "DELETE FROM directory_log WHERE at < $1 AND seq < (SELECT MAX(seq) FROM directory_log)",
        &[Value::from(before)],
    )
    .await
}

/// A subject's entries, oldest first (its history as a participant or center).
pub async fn history(db: &Db, subject: &str) -> Result<Vec<Entry>, StoreError> {
    db.fetch_all(
        &format!("SELECT {ENTRY_COLS} FROM directory_log WHERE subject = $1 ORDER BY seq"),
        &[Value::from(subject)],
    )
    .await?
    .iter()
    .map(entry_of)
    .collect()
}

/// An entry from a row of [`ENTRY_COLS`].
fn entry_of(r: &Row) -> Result<Entry, StoreError> {
    Ok(Entry {
        seq: r.i64(0)?,
        entry: NewEntry {
            at: r.i64(1)?,
            actor: r.text(2)?,
            action: r.text(3)?,
            subject: r.text(4)?,
            detail: r.text(5)?,
        },
        prev: r.text(6)?,
        hash: r.text(7)?,
    })
}
