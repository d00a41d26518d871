//! Documents the agency's agent node received (電子收文), taken in through the agent's
//! document-system API and kept whole — DI, SW and every attachment — until the clerk
//! registers them (待登記). Registering is a signed step over every file's digest; then the
//! office signs for the document at the exchange (簽收), and the agent's 收文字號 is the case's.

use gongwen_client::agent::AgentClient;
use gongwen_proto::Code;
use gongwen_proto::agent::ReceivedItem;
use gongwen_store::{Db, Row, StoreError};

use crate::steps::{MAX_VERSION_BYTES, NewVersion};
use crate::{OfficeError, bad};

/// Pages of the agent's inbox read in one round (100 documents a page); the rest come next
/// round.
const MAX_PAGES: usize = 50;

/// One received document waiting for registration, or registered as `case_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The agent's id of it (the package id).
    pub id: String,
    pub sender: String,
    pub sender_name: String,
    pub doc_number: String,
    pub subject: String,
    pub urgency: String,
    pub received_at: i64,
    pub case_id: Option<String>,
    /// 退文 instead of registration: the reason as sent back.
    pub returned: Option<String>,
}

impl Incoming {
    fn from_row(r: &Row) -> Result<Incoming, StoreError> {
        Ok(Incoming {
            id: r.text("id")?,
            sender: r.text("sender")?,
            sender_name: r.text("sender_name")?,
            doc_number: r.text("doc_number")?,
            subject: r.text("subject")?,
            urgency: r.text("urgency")?,
            received_at: r.i64("received_at")?,
            case_id: r.opt_text("case_id")?,
            returned: r.opt_text("returned")?,
        })
    }
}

/// Takes in what the agent holds for the agency and the office does not have yet: each
/// document with all its files. One document that cannot be fetched does not stop the others;
/// it is tried again next time. Returns how many were taken in.
pub async fn fetch(db: &Db, agent: &AgentClient, now: i64) -> Result<usize, OfficeError> {
    let mut items = Vec::new();
    let mut before = None;
    for _ in 0..MAX_PAGES {
        let page = agent
            .inbox_before("delivered", before)
            .await
            .map_err(OfficeError::agent("列出收文"))?;
        items.extend(page.items);
        before = page.next_before;
        if before.is_none() {
            break;
        }
    }
    let mut taken = 0;
    for item in items {
        if db
            .fetch_optional(
                "SELECT 1 FROM office_intake WHERE id = $1",
                &[item.package_id.as_str().into()],
            )
            .await?
            .is_some()
        {
            continue;
        }
        match take(db, agent, &item, now).await {
            Ok(()) => taken += 1,
            Err(e) => gongwen_net::log::warn(
                "收文暫時無法取回，下次再試",
                serde_json::json!({ "id": item.package_id, "detail": e.to_string() }),
            ),
        }
    }
    Ok(taken)
}

async fn take(
    db: &Db,
    agent: &AgentClient,
    item: &ReceivedItem,
    now: i64,
) -> Result<(), OfficeError> {
    let mut files = Vec::new();
    let mut total = 0usize;
    for name in &item.files {
        // What is left of the document's limit bounds each download: nothing larger is read.
        let left = MAX_VERSION_BYTES - total;
        let bytes = agent
            .received_file(&item.package_id, name, left)
            .await
            .map_err(OfficeError::agent("下載收文檔案"))?;
        total += bytes.len();
        files.push((name.clone(), bytes));
    }
    let mut tx = db.begin().await?;
    tx.execute(
        "INSERT INTO office_intake (id, sender, sender_name, doc_number, subject, urgency, received_at, fetched_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            item.package_id.as_str().into(),
            item.sender.as_str().into(),
            item.sender_name.as_str().into(),
            item.doc_number.as_str().into(),
            item.subject.as_str().into(),
            item.urgency.as_str().into(),
            item.received_at.into(),
            now.into(),
        ],
    )
    .await?;
    for (name, bytes) in &files {
        tx.execute(
            "INSERT INTO office_intake_files (intake, name, content) VALUES ($1, $2, $3)",
            &[
                item.package_id.as_str().into(),
                name.as_str().into(),
                bytes.as_slice().into(),
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

const COLUMNS: &str =
    "id, sender, sender_name, doc_number, subject, urgency, received_at, case_id, returned";

/// 待登記: received documents not registered yet, the oldest first.
pub async fn waiting(db: &Db, limit: i64) -> Result<Vec<Incoming>, OfficeError> {
    let rows = db
        .fetch_all(
            &format!("SELECT {COLUMNS} FROM office_intake WHERE case_id IS NULL AND returned IS NULL ORDER BY received_at, id LIMIT $1"),
            &[limit.into()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(Incoming::from_row)
        .collect::<Result<_, _>>()?)
}

pub async fn incoming(db: &Db, id: &str) -> Result<Incoming, OfficeError> {
    let r = db
        .fetch_optional(
            &format!("SELECT {COLUMNS} FROM office_intake WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or_else(|| OfficeError::new(Code::NotFound, format!("沒有收文「{id}」")))?;
    Ok(Incoming::from_row(&r)?)
}

/// The received files as the versions of a new case: the DI is `incoming`, every other file
/// `incoming-2`, `incoming-3` … in the order the agent listed them.
pub async fn versions(db: &Db, id: &str) -> Result<Vec<NewVersion>, OfficeError> {
    let rows = db
        .fetch_all(
            "SELECT name, content FROM office_intake_files WHERE intake = $1 ORDER BY name",
            &[id.into()],
        )
        .await?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for r in rows {
        files.push((r.text("name")?, r.bytes("content")?));
    }
    // The DI first.
    files.sort_by_key(|(name, _)| !name.to_ascii_lowercase().ends_with(".di"));
    Ok(files
        .into_iter()
        .enumerate()
        .map(|(i, (_, content))| NewVersion {
            doc: if i == 0 {
                "incoming".to_string()
            } else {
                format!("incoming-{}", i + 1)
            },
            kind: "incoming".to_string(),
            content,
        })
        .collect())
}

/// 退文 instead of registration: the document goes back to its sender through the agent, with
/// a reason from the closed list (退文原因) and words for 其他, and leaves 待登記. The agent
/// signs the return receipt with the agency's key; `clerk` is who decided it.
pub async fn refuse(
    db: &Db,
    agent: &AgentClient,
    id: &str,
    reason: &str,
    text: &str,
    clerk: &str,
    now: i64,
) -> Result<(), OfficeError> {
    let inc = incoming(db, id).await?;
    if let Some(c) = inc.case_id {
        return Err(OfficeError::new(
            Code::OfficeState,
            format!("收文「{id}」已登記為案件「{c}」，不能再退文"),
        ));
    }
    if inc.returned.is_some() {
        return Err(OfficeError::new(
            Code::OfficeState,
            format!("收文「{id}」已退文"),
        ));
    }
    if !crate::org::has_role(db, clerk, crate::org::Role::Clerk).await? {
        return Err(OfficeError::new(Code::OfficeNotAllowed, "由收發人員退文"));
    }
    let item = agent
        .return_doc(id, reason, text)
        .await
        .map_err(|e| match e.code() {
            Some(c) if c == Code::BadRequest.as_str() => bad(e.to_string()),
            Some(c) if c == Code::CopyState.as_str() => {
                OfficeError::new(Code::OfficeState, e.to_string())
            }
            _ => OfficeError::agent("退文")(e),
        })?;
    let why = format!(
        "{}{}",
        item.return_reason.as_deref().unwrap_or(reason),
        item.return_text
            .as_deref()
            .map(|t| format!("：{t}"))
            .unwrap_or_default()
    );
    db.execute(
        "UPDATE office_intake SET returned = $2, returned_by = $3, returned_at = $4 WHERE id = $1",
        &[id.into(), why.into(), clerk.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// After registration: signs for the document at the exchange (簽收) and keeps the 收文字號
/// the agent gave. Safe to call again when the agent could not be reached the first time.
pub async fn sign_for(
    db: &Db,
    agent: &AgentClient,
    case_id: &str,
) -> Result<Option<String>, OfficeError> {
    let r = db
        .fetch_optional(
            "SELECT id FROM office_intake WHERE case_id = $1",
            &[case_id.into()],
        )
        .await?
        .ok_or_else(|| bad(format!("案件「{case_id}」不是電子收文")))?;
    let id = r.text("id")?;
    let item = match agent.confirm(&id).await {
        Ok(item) => item,
        // Confirmed before (a retry): the agent still has its number.
        Err(e) if e.code() == Some(Code::CopyState.as_str()) => agent
            .received(&id)
            .await
            .map_err(OfficeError::agent("查詢收文"))?,
        Err(e) => return Err(OfficeError::agent("簽收")(e)),
    };
    db.execute(
        "UPDATE office_cases SET receipt_number = $2 WHERE id = $1",
        &[case_id.into(), item.receipt_number.clone().into()],
    )
    .await?;
    Ok(item.receipt_number)
}
