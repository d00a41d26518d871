//! The records: every event in the life of a copy and every error answered, kept for the
//! retention period, queryable and exportable as CSV.

use gongwen_proto::api::{Record, RecordPage};
use gongwen_store::{Db, Tx, Value, args};

use crate::Result;

/// One record to append.
pub struct Event<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub kind: &'a str,
    pub package_id: Option<&'a str>,
    pub recipient: Option<&'a str>,
    pub doc_number: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub receipt: Option<&'a [u8]>,
}

impl<'a> Event<'a> {
    /// A record of `kind` caused by `actor` at `at`, about nothing in particular yet: set the
    /// package, recipient, document number, detail or receipt with struct update syntax.
    pub fn new(at: i64, actor: &'a str, kind: &'a str) -> Self {
        Event {
            at,
            actor,
            kind,
            package_id: None,
            recipient: None,
            doc_number: None,
            detail: None,
            receipt: None,
        }
    }
}

/// Appends records inside a transaction, in one statement.
pub async fn events_in(tx: &mut Tx, events: &[Event<'_>]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut sql = String::from(
        "INSERT INTO events (at, actor, kind, package_id, recipient, doc_number, detail, receipt) VALUES ",
    );
    let mut a: Vec<Value> = Vec::with_capacity(events.len() * 8);
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let marks: Vec<String> = (1..=8).map(|k| format!("${}", i * 8 + k)).collect();
        sql.push_str(&format!("({})", marks.join(", ")));
        a.extend([
            e.at.into(),
            e.actor.into(),
            e.kind.into(),
            e.package_id.into(),
            e.recipient.into(),
            e.doc_number.into(),
            e.detail.into(),
            Value::Bytes(e.receipt.map(<[u8]>::to_vec)),
        ]);
    }
    tx.execute(&sql, &a).await?;
    Ok(())
}

/// Appends one record inside a transaction.
pub async fn event_in(tx: &mut Tx, event: Event<'_>) -> Result<()> {
    events_in(tx, &[event]).await
}

/// Records an error answered to someone (outside any transaction: the request failed).
pub async fn error(db: &Db, at: i64, actor: &str, code: &str, detail: &str) -> Result<()> {
    db.execute(
        "INSERT INTO events (at, actor, kind, detail) VALUES ($1, $2, 'error', $3)",
        &args![at, actor, format!("{code} {detail}")],
    )
    .await?;
    Ok(())
}

/// What to look for. Every field narrows; `None` means any.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// A participant: records it caused, or about packages it sent or received.
    pub participant: Option<String>,
    /// From (inclusive) and to (exclusive), Unix milliseconds.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub doc_number: Option<String>,
    /// Event kind (`accepted`, `delivered`, `error` …).
    pub kind: Option<String>,
    pub package_id: Option<String>,
    /// Records after this id (paging).
    pub after: Option<i64>,
    pub limit: Option<u32>,
    /// `csv` for a CSV file instead of JSON.
    pub format: Option<String>,
}

pub async fn query(db: &Db, q: &Query) -> Result<RecordPage> {
    let limit = q.limit.unwrap_or(500).clamp(1, 10_000) as i64;
    let mut sql = String::from(
        "SELECT e.id, e.at, e.actor, e.kind, e.package_id, e.recipient, e.doc_number, e.detail FROM events e WHERE e.id > $1",
    );
    let mut a: Vec<Value> = vec![q.after.unwrap_or(0).into()];
    let add = |cond: &str, v: Value, a: &mut Vec<Value>, sql: &mut String| {
        a.push(v);
        sql.push_str(&cond.replace('?', &format!("${}", a.len())));
    };
    if let Some(p) = &q.participant {
        add(
            " AND (e.actor = ? OR e.recipient = ? OR e.package_id IN (SELECT id FROM packages WHERE sender = ?))",
            p.into(),
            &mut a,
            &mut sql,
        );
        // The same placeholder three times: SQLite and PostgreSQL both allow reuse.
    }
    if let Some(v) = q.from {
        add(" AND e.at >= ?", v.into(), &mut a, &mut sql);
    }
    if let Some(v) = q.to {
        add(" AND e.at < ?", v.into(), &mut a, &mut sql);
    }
    if let Some(v) = &q.doc_number {
        add(" AND e.doc_number = ?", v.into(), &mut a, &mut sql);
    }
    if let Some(v) = &q.kind {
        add(" AND e.kind = ?", v.into(), &mut a, &mut sql);
    }
    if let Some(v) = &q.package_id {
        add(" AND e.package_id = ?", v.into(), &mut a, &mut sql);
    }
    a.push(limit.into());
    sql.push_str(&format!(" ORDER BY e.id LIMIT ${}", a.len()));
    let rows = db.fetch_all(&sql, &a).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(Record {
            id: r.i64(0)?,
            at: r.i64(1)?,
            actor: r.text(2)?,
            kind: r.text(3)?,
            package_id: r.opt_text(4)?,
            recipient: r.opt_text(5)?,
            doc_number: r.opt_text(6)?,
            detail: r.opt_text(7)?,
        });
    }
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(RecordPage { items, next })
}

/// The records as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese).
pub fn to_csv(items: &[Record]) -> String {
    let mut out =
        String::from("\u{feff}編號,時間,民國日期時間,行為者,事件,封包,收文者,文號,說明\r\n");
    for r in items {
        let row = [
            r.id.to_string(),
            r.at.to_string(),
            gongwen_trust::path::roc_datetime(r.at / 1000),
            r.actor.clone(),
            r.kind.clone(),
            r.package_id.clone().unwrap_or_default(),
            r.recipient.clone().unwrap_or_default(),
            r.doc_number.clone().unwrap_or_default(),
            r.detail.clone().unwrap_or_default(),
        ];
        out.push_str(&gongwen_proto::csv::line(&row));
    }
    out
}

/// Deletes records older than the retention period (at least 365 days), except those of a
/// package with a copy still open (not confirmed, returned or failed): its history is kept
/// whole while any copy may still change. Returns how many went.
pub async fn purge(db: &Db, now_ms: i64, record_days: u32) -> Result<u64> {
    let days = record_days.max(365) as i64;
    let cutoff = now_ms - days * 86_400_000;
    Ok(db
        .execute(
            "DELETE FROM events WHERE at < $1 AND (package_id IS NULL OR NOT EXISTS \
             (SELECT 1 FROM copies c WHERE c.package_id = events.package_id \
             AND c.status NOT IN ('confirmed', 'returned', 'failed')))",
            &args![cutoff],
        )
        .await?)
}
