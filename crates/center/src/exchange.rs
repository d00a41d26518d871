//! The life of a copy: submission, the recipient's inbox and download, receipts, and the
//! sender's view. States and moves are `gongwen_proto::status`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use axum::body::Body;
use futures_util::StreamExt;
use gongwen_proto::api::{Aggregate, CopyView, GroupExpansion, InboxItem, InboxPage, SentPackage};
use gongwen_proto::{
    Code, CopyStatus, FailReason, PackageHeader, Resend, ResendKind, ReturnReason,
};
use gongwen_store::{Blobs, Tx, Value, args};
use gongwen_trust::path::check_binding;
use gongwen_trust::receipt::ReceiptEvent;

use crate::Result;
use crate::app::{Caller, Shared};
use crate::copies::{COPY_COLS, COPY_COLS_C, OPEN_COPY, copy_of, needs_receipt};
use crate::outbox;
use crate::participants::{self, Standing};
use crate::recent::BodyRef;
use crate::records::{self, Event, event_in};
use gongwen_net::Refusal;

fn bad(code: Code, detail: impl Into<String>) -> Refusal {
    Refusal::new(code, detail)
}

/// Checks the client's idempotency key: 1 to 128 visible ASCII characters.
pub fn check_idempotency_key(k: &str) -> Result<()> {
    if k.is_empty()
        || k.len() > gongwen_proto::api::MAX_IDEMPOTENCY_KEY
        || !k.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(bad(
            Code::SubmitNoKey,
            "Idempotency-Key 應為 1 到 128 個可見的 ASCII 字元",
        ));
    }
    Ok(())
}

/// A spooled upload, removed when dropped unless it was stored.
struct Spooled {
    path: PathBuf,
}

/// An upload's bytes: held in memory up to [`SPOOL_BUFFER`] (no file to create, open and
/// remove), in the spool folder beyond.
enum Upload {
    Memory(Vec<u8>),
    Spooled(Spooled),
}

impl Upload {
    /// Stores the bytes durably under `sha`; the caller records them with its package row.
    async fn store(self, app: &Shared, sha: &str) -> Result<gongwen_store::Stored> {
        Ok(match self {
            Upload::Memory(data) => app.blobs.put_bytes(data, sha).await?,
            Upload::Spooled(s) => app.blobs.put_file(&s.path, sha).await?,
        })
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Writes the request body to the spool folder, hashing it, within the size limit.
/// Bytes gathered in memory before they are written to the spool file: one write (one
/// thread hand-off) per megabyte instead of one per network chunk.
const SPOOL_BUFFER: usize = 1024 * 1024;

fn spool_err(e: std::io::Error) -> Refusal {
    bad(Code::Unavailable, format!("暫存區無法寫入：{e}"))
}

/// Appends `buf` to the spool file at `path`, creating it (blocking).
fn append(path: &std::path::Path, buf: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(buf)
}

/// Appends `buf` to the spool file (creating it), off the async threads.
async fn spool_write(path: &std::path::Path, mut buf: Vec<u8>) -> Result<Vec<u8>> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        append(&path, &buf)?;
        buf.clear();
        Ok(buf)
    })
    .await
    .map_err(|e| bad(Code::Internal, e.to_string()))?
    .map_err(spool_err)
}

/// A package as received: in the spool folder, its SHA-256 and size, and its header checked
/// against the ciphertext.
struct Received {
    upload: Upload,
    sha: String,
    size: u64,
    inspected: gongwen_trust::package::Inspected,
}

/// How much of a refused body is still read so its sender gets the answer.
const DRAIN_MAX: u64 = 16 * 1024 * 1024;

/// Reads and drops up to [`DRAIN_MAX`] more bytes of a body (10 s at most).
async fn drain(mut stream: axum::body::BodyDataStream) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut seen = 0u64;
        while let Some(Ok(c)) = stream.next().await {
            seen += c.len() as u64;
            if seen > DRAIN_MAX {
                break;
            }
        }
    })
    .await;
}

/// Writes the request body to the spool folder, hashing it, within the size limit, then reads
/// and checks its header. `refused` is the code for a package that is not one.
async fn receive(
    app: &Shared,
    body: Body,
    declared: Option<u64>,
    refused: Code,
) -> Result<Received> {
    let max = app.config.limits.max_package_bytes;
    if let Some(n) = declared
        && n > max
    {
        // A client still sending would see a broken connection instead of the answer: read
        // (and drop) a body not much over the limit first; a huge one is cut off.
        if n <= max.saturating_add(DRAIN_MAX) {
            drain(body.into_data_stream()).await;
        }
        return Err(bad(
            Code::SubmitTooLarge,
            format!("封包 {n} 位元組，上限為 {max} 位元組"),
        ));
    }
    let path = app
        .spool
        .join(format!("{}.upload", gongwen_store::random_hex(16)));
    let mut spooled = None;
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut total = 0u64;
    let mut buf =
        Vec::with_capacity(declared.unwrap_or(64 * 1024).min(SPOOL_BUFFER as u64) as usize);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            bad(
                Code::SubmitTruncated,
                format!("收到 {total} 位元組後中斷：{e}"),
            )
        })?;
        total += chunk.len() as u64;
        if total > max {
            drain(stream).await;
            return Err(bad(
                Code::SubmitTooLarge,
                format!("封包超過上限 {max} 位元組"),
            ));
        }
        ctx.update(&chunk);
        buf.extend_from_slice(&chunk);
        if buf.len() >= SPOOL_BUFFER {
            spooled.get_or_insert_with(|| Spooled { path: path.clone() });
            buf = spool_write(&path, buf).await?;
        }
    }
    if let Some(n) = declared
        && n != total
    {
        return Err(bad(
            Code::SubmitTruncated,
            format!("宣告 {n} 位元組，收到 {total} 位元組"),
        ));
    }
    if total == 0 {
        return Err(bad(Code::SubmitTruncated, "沒有收到封包內容"));
    }
    let inspect_err = |e: gongwen_trust::TrustError| {
        let text = e.to_string();
        if text.contains("截斷") || text.contains("意外結束") {
            bad(Code::SubmitTruncated, text)
        } else {
            bad(refused, format!("{}：{text}", e.code()))
        }
    };
    let (upload, inspected) = match spooled {
        // Small enough to have stayed in memory.
        None => {
            // A ContentInfo (a SEQUENCE) longer than what came: cut short, not garbage.
            if buf.first() == Some(&0x30)
                && let Some(n) = gongwen_trust::cms::ber::declared_len(&buf)
                && n > total
            {
                return Err(bad(
                    Code::SubmitTruncated,
                    format!("封包宣告 {n} 位元組，只收到 {total} 位元組"),
                ));
            }
            // Checked right here: for up to 1 MiB the check (a signature and a digest) costs
            // less than handing it to a blocking thread and back.
            let inspected = gongwen_trust::package::inspect(&buf);
            (Upload::Memory(buf), inspected.map_err(inspect_err)?)
        }
        // The rest of the bytes and the header check in one hand-off.
        Some(spooled) => {
            let p = path.clone();
            let inspected = tokio::task::spawn_blocking(move || {
                append(&p, &buf)?;
                Ok::<_, std::io::Error>(gongwen_trust::package::stream::inspect_file(&p))
            })
            .await
            .map_err(|e| bad(Code::Internal, e.to_string()))?
            .map_err(spool_err)?
            .map_err(inspect_err)?;
            (Upload::Spooled(spooled), inspected)
        }
    };
    Ok(Received {
        upload,
        sha: participants::hex(ctx.finish().as_ref()),
        size: total,
        inspected,
    })
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Checks what the header says against the rules of this center.
fn check_header(app: &Shared, caller: &Caller, h: &PackageHeader) -> Result<()> {
    if h.sender != caller.code {
        return Err(bad(
            Code::SubmitSender,
            format!("表頭發文機關為 {}，連線者為 {}", h.sender, caller.code),
        ));
    }
    if let Some(s) = h
        .secrecy
        .as_deref()
        .filter(|s| !s.trim().is_empty() && *s != "普通")
    {
        return Err(bad(Code::SubmitClassified, format!("密等：{s}")));
    }
    if h.recipients.is_empty() {
        return Err(Refusal::bare(Code::SubmitNoRecipient));
    }
    if h.recipients.len() > app.config.limits.max_recipients {
        return Err(bad(
            Code::SubmitHeader,
            format!(
                "收文者 {} 個，上限 {} 個",
                h.recipients.len(),
                app.config.limits.max_recipients
            ),
        ));
    }
    // The header's own form and bounds were checked when it was read (`inspect`).
    for f in &h.files {
        gongwen_doc::safe_file_name(&f.name).map_err(|m| bad(Code::SubmitHeader, m))?;
        if f.role == gongwen_proto::FileRole::Attachment {
            let ext = extension(&f.name);
            if !app.config.limits.attachment_types.contains(&ext) {
                return Err(bad(
                    Code::SubmitFileType,
                    format!(
                        "附件「{}」；允許的類型：{}",
                        f.name,
                        app.config.limits.attachment_types.join("、")
                    ),
                ));
            }
        }
    }
    for r in &h.recipients {
        participants::check_code(&r.code).map_err(|e| bad(Code::SubmitHeader, e.to_string()))?;
    }
    Ok(())
}

/// What the package row holds besides the time.
struct PackageRow<'a> {
    header: &'a PackageHeader,
    sender: &'a str,
    /// The sender's idempotency key (`relay:<peer>:<id>` for a relayed package).
    idem_key: &'a str,
    /// SHA-256 (hex) and size of the sealed body.
    sha: &'a str,
    size: u64,
    /// The center it was relayed from; `None` when submitted here.
    origin: Option<&'a str>,
}

/// The package row. A duplicate (same id, or same sender and key) is `StoreError::Duplicate`.
async fn insert_package(
    tx: &mut Tx,
    row: PackageRow<'_>,
    now: i64,
) -> std::result::Result<u64, gongwen_store::StoreError> {
    let PackageRow {
        header: h,
        sender,
        idem_key,
        sha,
        size,
        origin,
    } = row;
    let header_json = serde_json::to_string(h).unwrap_or_default();
    tx.execute(
        "INSERT INTO packages (id, sender, doc_number, subject, urgency, header_json, body_sha256, body_size, submitted_at, idem_key, confirm_now, resend_kind, resend_of, content_sha256, origin) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        &args![
            h.id.as_str(),
            sender,
            h.doc_number.as_str(),
            h.subject.as_str(),
            h.urgency.as_str(),
            header_json,
            sha,
            size as i64,
            now,
            idem_key,
            h.confirm_now,
            h.resend.as_ref().map(|r| r.kind.label()),
            h.resend.as_ref().map(|r| r.original.clone()),
            h.body_sha256.clone(),
            origin
        ],
    )
    .await
}

/// The header's signer: a trusted signing certificate, registered to `sender`.
async fn check_signer(
    app: &Shared,
    signer: &x509_cert::Certificate,
    certs: &[x509_cert::Certificate],
    sender: &str,
    code: Code,
    now: i64,
) -> Result<()> {
    app.evaluate_signing(signer, certs, now / 1000)
        .map_err(|e| bad(code, format!("{}：{e}", e.code())))?;
    let bound = app.signing_keys(sender).await?;
    check_binding(signer, sender, &|_| bound.clone(), "表頭簽署憑證")
        .map_err(|e| bad(code, e.to_string()))
}

/// Accepts a sealed package. Answers only once the package and its copies are durable.
pub async fn submit(
    app: &Shared,
    caller: &Caller,
    idem_key: &str,
    body: Body,
    declared: Option<u64>,
) -> Result<(bool, SentPackage)> {
    check_idempotency_key(idem_key)?;
    let Received {
        upload,
        sha,
        size,
        inspected,
    } = receive(app, body, declared, Code::SubmitHeader).await?;
    let h = inspected.header;
    check_header(app, caller, &h)?;
    let now = app.clock.now_ms();
    check_signer(
        app,
        &inspected.signer,
        &inspected.certs,
        &caller.code,
        Code::SubmitSigner,
        now,
    )
    .await?;
    if let Some(Resend { original, .. }) = &h.resend {
        let ok = app
            .db
            .fetch_optional(
                "SELECT 1 FROM packages WHERE id = $1 AND sender = $2",
                &args![original.as_str(), caller.code.as_str()],
            )
            .await?
            .is_some();
        if !ok {
            return Err(bad(Code::SubmitResend, format!("原封包 {original}")));
        }
    }
    let expansions = expand_groups(app, caller, &h).await?;
    let stored = upload.store(app, &sha).await?;
    let Some(view) = record_submission(
        app,
        caller,
        Submission {
            idem_key,
            header: &h,
            stored,
            sha: &sha,
            size,
            expansions: &expansions,
        },
        now,
    )
    .await?
    else {
        // The same key again (a retry, perhaps concurrent): the same answer, never a second
        // send. The unique keys of the package row decide; nothing was added.
        return match by_key(app, caller, idem_key).await? {
            Some(existing) if existing.id == h.id => Ok((
                false,
                SentPackage {
                    replayed: true,
                    ..existing
                },
            )),
            Some(existing) => Err(bad(
                Code::SubmitKeyReused,
                format!("此鍵已用於封包 {}", existing.id),
            )),
            None => Err(bad(Code::SubmitReplay, format!("封包 {}", h.id))),
        };
    };
    app.metrics.inc("gongwen_packages_total", "accepted");
    app.metrics
        .add("gongwen_package_bytes_total", "accepted", size);
    Ok((true, view))
}

async fn by_key(app: &Shared, caller: &Caller, key: &str) -> Result<Option<SentPackage>> {
    let id = app
        .db
        .fetch_optional(
            "SELECT id FROM packages WHERE sender = $1 AND idem_key = $2",
            &args![caller.code.as_str(), key],
        )
        .await?;
    match id {
        Some(r) => Ok(Some(sent_view(app, &r.text(0)?).await?)),
        None => Ok(None),
    }
}

/// Expands the groups the header names; every member must be among the recipients the
/// package was sealed for.
async fn expand_groups(
    app: &Shared,
    caller: &Caller,
    h: &PackageHeader,
) -> Result<Vec<GroupExpansion>> {
    if h.groups.is_empty() {
        return Ok(Vec::new());
    }
    let groups = participants::groups_for(&app.db, &caller.code).await?;
    let listed: BTreeSet<&str> = h.recipients.iter().map(|r| r.code.as_str()).collect();
    let mut out = Vec::new();
    for name in &h.groups {
        // The participant's own group of that name first, then the shared one.
        let g = groups
            .iter()
            .find(|g| g.name == *name && g.owner == caller.code)
            .or_else(|| groups.iter().find(|g| g.name == *name && g.owner == "共用"))
            .ok_or_else(|| bad(Code::SubmitGroup, format!("沒有群組「{name}」")))?;
        let missing: Vec<&str> = g
            .members
            .iter()
            .map(String::as_str)
            .filter(|m| !listed.contains(m))
            .collect();
        if !missing.is_empty() {
            return Err(bad(
                Code::SubmitGroup,
                format!(
                    "群組「{name}」的成員 {} 不在封包收文者中，請重新取得群組並封裝",
                    missing.join("、")
                ),
            ));
        }
        out.push(GroupExpansion {
            group: g.name.clone(),
            owner: g.owner.clone(),
            members: g.members.clone(),
        });
    }
    Ok(out)
}

/// A submission checked and its body stored, ready to be recorded.
struct Submission<'a> {
    idem_key: &'a str,
    header: &'a PackageHeader,
    stored: gongwen_store::Stored,
    /// SHA-256 (hex) and size of the sealed body.
    sha: &'a str,
    size: u64,
    /// The groups among the recipients, as they were expanded.
    expansions: &'a [GroupExpansion],
}

async fn record_submission(
    app: &Shared,
    caller: &Caller,
    submission: Submission<'_>,
    now: i64,
) -> Result<Option<SentPackage>> {
    let Submission {
        idem_key,
        header: h,
        stored,
        sha,
        size,
        expansions,
    } = submission;
    let mut tx = app.db.begin().await?;
    let inserted = insert_package(
        &mut tx,
        PackageRow {
            header: h,
            sender: &caller.code,
            idem_key,
            sha,
            size,
            origin: None,
        },
        now,
    )
    .await;
    if let Err(gongwen_store::StoreError::Duplicate { .. }) = inserted {
        return Ok(None);
    }
    inserted?;
    let reader = stored.reader(&app.blobs)?;
    stored.record(&mut tx).await?;
    let mut copies = Vec::new();
    for g in expansions {
        let owner = if g.owner == "共用" {
            ""
        } else {
            g.owner.as_str()
        };
        tx.execute(
            "INSERT INTO group_expansions (package_id, owner, name, members) VALUES ($1, $2, $3, $4)",
            &args![h.id.as_str(), owner, g.group.as_str(), g.members.join(",")],
        )
        .await?;
    }
    let mut seen = BTreeSet::new();
    let mut relays: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for r in &h.recipients {
        if !seen.insert((r.code.clone(), r.unit.clone())) {
            continue;
        }
        let (view, center) = create_copy(&mut tx, app, h, r, &caller.code, false, now).await?;
        if let (CopyStatus::Accepted, Some(peer)) = (view.status, center) {
            let list = relays.entry(peer).or_default();
            if !list.contains(&r.code) {
                list.push(r.code.clone());
            }
        }
        copies.push(view);
    }
    for (peer, recipients) in &relays {
        outbox::queue_relay(&mut tx, peer, &h.id, recipients, now).await?;
    }
    match tx.commit().await {
        Err(gongwen_store::StoreError::Duplicate { .. }) => Ok(None),
        r => {
            r?;
            if !relays.is_empty() {
                app.outbox_ready.notify_one();
            }
            if let Some(reader) = reader {
                let here = copies.iter().filter(|c| c.status == CopyStatus::Available);
                app.recent
                    .put(&h.id, sha, size, here.map(|c| c.recipient.clone()), reader);
            }
            copies.sort_by(|a, b| (&a.recipient, &a.unit).cmp(&(&b.recipient, &b.unit)));
            Ok(Some(SentPackage {
                id: h.id.clone(),
                doc_number: h.doc_number.clone(),
                subject: h.subject.clone(),
                urgency: h.urgency.clone(),
                submitted_at: now,
                body_size: size,
                confirm_now: h.confirm_now,
                resend: h.resend.clone(),
                aggregate: Aggregate::of(&copies),
                copies,
                groups: expansions.to_vec(),
                replayed: false,
            }))
        }
    }
}

/// Creates one copy of a package for one recipient, with its first records and webhooks:
/// available here, waiting for a relay (`relayed_in` false and the recipient lives at another
/// center), or failed with the reason. Returns the copy and the recipient's center when it is
/// elsewhere.
async fn create_copy(
    tx: &mut Tx,
    app: &Shared,
    h: &PackageHeader,
    r: &gongwen_proto::HeaderRecipient,
    actor: &str,
    relayed_in: bool,
    now: i64,
) -> Result<(CopyView, Option<String>)> {
    let p = app.participant(&r.code).await?;
    let unit = r.unit.clone().unwrap_or_default();
    let (status, fail) = match &p {
        None => (CopyStatus::Failed, Some(FailReason::UnknownRecipient)),
        // A relay is for recipients registered here; we do not relay onwards.
        Some(p) if relayed_in && p.center.is_some() => {
            (CopyStatus::Failed, Some(FailReason::UnknownRecipient))
        }
        Some(p) if p.standing != Standing::Active => {
            (CopyStatus::Failed, Some(FailReason::RecipientSuspended))
        }
        // Registered at another center: waits for the relay.
        Some(p) if p.center.is_some() => (CopyStatus::Accepted, None),
        Some(_) => (CopyStatus::Available, None),
    };
    tx.execute(
        "INSERT INTO copies (package_id, recipient, unit, copy_kind, status, status_at, available_at, fail_reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &args![
            h.id.as_str(),
            r.code.as_str(),
            unit.as_str(),
            r.copy.as_str(),
            status.as_str(),
            now,
            (status == CopyStatus::Available).then_some(now),
            fail.map(|f| f.as_str())
        ],
    )
    .await?;
    let doc = Some(h.doc_number.as_str());
    let detail = match (fail, &p) {
        (Some(FailReason::RecipientSuspended), Some(p)) => Some(format!(
            "{}：{}",
            FailReason::RecipientSuspended.label(),
            p.reason.as_deref().unwrap_or("未註明原因")
        )),
        (Some(f), _) => Some(f.label().to_string()),
        _ => None,
    };
    let event = |actor, kind, detail| records::Event {
        at: now,
        actor,
        kind,
        package_id: Some(&h.id),
        recipient: Some(&r.code),
        doc_number: doc,
        detail,
        receipt: None,
    };
    let mut events = vec![event(actor, "accepted", None)];
    if status != CopyStatus::Accepted {
        events.push(event("center", status.as_str(), detail.as_deref()));
    }
    records::events_in(tx, &events).await?;
    let view = CopyView {
        recipient: r.code.clone(),
        unit: (!unit.is_empty()).then_some(unit),
        copy: r.copy.clone(),
        status,
        status_at: now,
        delivered_at: None,
        fail_reason: fail,
        return_reason: None,
        return_text: None,
        receipt_number: None,
    };
    // The sender was checked to be the header's when the package was submitted here.
    outbox::copy_moved(
        tx,
        app,
        outbox::CopyMove {
            package_id: &h.id,
            doc_number: &h.doc_number,
            sender: &h.sender,
            origin: None,
            copy: &view,
            receipt: None,
        },
        now,
    )
    .await?;
    Ok((view, p.and_then(|p| p.center)))
}

fn resend_of(kind: Option<String>, original: Option<String>) -> Option<Resend> {
    Some(Resend {
        kind: ResendKind::parse(&kind?).ok()?,
        original: original?,
    })
}

/// A package as its sender sees it.
pub async fn sent_view(app: &Shared, id: &str) -> Result<SentPackage> {
    let p = app
        .db
        .fetch_optional(
            "SELECT id, doc_number, subject, urgency, submitted_at, body_size, confirm_now, resend_kind, resend_of FROM packages WHERE id = $1",
            &args![id],
        )
        .await?
        .ok_or_else(|| bad(Code::NotFound, format!("封包 {id}")))?;
    let copies = copies_of(app, id).await?;
    let groups = app
        .db
        .fetch_all(
            "SELECT owner, name, members FROM group_expansions WHERE package_id = $1 ORDER BY owner, name",
            &args![id],
        )
        .await?
        .iter()
        .map(|r| {
            let owner = r.text(0)?;
            Ok(GroupExpansion {
                owner: if owner.is_empty() { "共用".into() } else { owner },
                group: r.text(1)?,
                members: r.text(2)?.split(',').map(String::from).collect(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(SentPackage {
        id: p.text(0)?,
        doc_number: p.text(1)?,
        subject: p.text(2)?,
        urgency: p.text(3)?,
        submitted_at: p.i64(4)?,
        body_size: p.i64(5)? as u64,
        confirm_now: p.bool(6)?,
        resend: resend_of(p.opt_text(7)?, p.opt_text(8)?),
        aggregate: Aggregate::of(&copies),
        copies,
        groups,
        replayed: false,
    })
}

/// The sender's view, refused to anyone but the sender (and the center's operators).
pub async fn sent_view_for(app: &Shared, caller: &Caller, id: &str) -> Result<SentPackage> {
    let sender = app
        .db
        .fetch_optional("SELECT sender FROM packages WHERE id = $1", &args![id])
        .await?
        .map(|r| r.text(0))
        .transpose()?;
    match sender {
        Some(s) if s == caller.code || caller.operator => sent_view(app, id).await,
        _ => Err(bad(Code::NotFound, format!("封包 {id}"))),
    }
}

/// Filters of the sent list.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentQuery {
    /// Only packages with copies not yet confirmed, returned or failed.
    #[serde(default)]
    pub open: bool,
    pub since: Option<i64>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

pub async fn sent_list(
    app: &Shared,
    caller: &Caller,
    q: &SentQuery,
) -> Result<gongwen_proto::api::SentPage> {
    let limit = q.limit.unwrap_or(50).clamp(1, 500) as i64;
    let (after_t, after_id) = cursor(q.after.as_deref())?;
    let mut sql = String::from(
        "SELECT p.id FROM packages p WHERE p.sender = $1 AND p.submitted_at >= $2 AND (p.submitted_at, p.id) > ($3, $4)",
    );
    if q.open {
        sql.push_str(" AND EXISTS (SELECT 1 FROM copies c WHERE c.package_id = p.id AND c.status NOT IN ('confirmed', 'returned', 'failed'))");
    }
    sql.push_str(" ORDER BY p.submitted_at, p.id LIMIT $5");
    let rows = app
        .db
        .fetch_all(
            &sql,
            &args![
                caller.code.as_str(),
                q.since.unwrap_or(0),
                after_t,
                after_id,
                limit
            ],
        )
        .await?;
    let mut items = Vec::new();
    for r in rows {
        items.push(sent_view(app, &r.text(0)?).await?);
    }
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|p| format!("{}:{}", p.submitted_at, p.id)))
        .flatten();
    Ok(gongwen_proto::api::SentPage { items, next })
}

fn cursor(s: Option<&str>) -> Result<(i64, String)> {
    match s {
        None => Ok((i64::MIN, String::new())),
        Some(s) => s
            .split_once(':')
            .and_then(|(t, id)| Some((t.parse().ok()?, id.to_string())))
            .ok_or_else(|| bad(Code::BadRequest, format!("分頁位置「{s}」無效"))),
    }
}

/// Filters of the inbox.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// `available` (default), `delivered`, `confirmed`, `returned`, or `all`.
    pub status: Option<String>,
    /// 速別: 最速件, 速件, 普通件.
    pub urgency: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

pub async fn inbox(app: &Shared, caller: &Caller, q: &InboxQuery) -> Result<InboxPage> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000) as i64;
    let (after_t, after_id) = cursor(q.after.as_deref())?;
    let mut a: Vec<Value> = args![caller.code.as_str(), after_t, after_id].to_vec();
    let mut sql = String::from(
        "SELECT c.package_id, p.sender, p.doc_number, p.subject, p.urgency, c.unit, c.copy_kind, c.status, c.available_at, p.body_size, p.body_sha256, p.confirm_now, p.resend_kind, p.resend_of \
         FROM copies c JOIN packages p ON p.id = c.package_id \
         WHERE c.recipient = $1 AND c.available_at IS NOT NULL AND (c.available_at, c.package_id) > ($2, $3)",
    );
    match q.status.as_deref().unwrap_or("available") {
        "all" => {}
        s => {
            let st = CopyStatus::parse(s)
                .ok_or_else(|| bad(Code::BadRequest, format!("狀態「{s}」不認得")))?;
            a.push(st.as_str().into());
            sql.push_str(&format!(" AND c.status = ${}", a.len()));
            if matches!(st, CopyStatus::Available | CopyStatus::Delivered) {
                // Word for word the condition of the index of open copies (migration 0010).
                sql.push_str(&format!(" AND {OPEN_COPY}"));
            }
        }
    }
    if let Some(u) = &q.urgency {
        a.push(u.into());
        sql.push_str(&format!(" AND p.urgency = ${}", a.len()));
    }
    if let Some(t) = q.since {
        a.push(t.into());
        sql.push_str(&format!(" AND c.available_at >= ${}", a.len()));
    }
    if let Some(t) = q.until {
        a.push(t.into());
        sql.push_str(&format!(" AND c.available_at < ${}", a.len()));
    }
    a.push(limit.into());
    sql.push_str(&format!(
        " ORDER BY c.available_at, c.package_id, c.unit LIMIT ${}",
        a.len()
    ));
    let rows = app.db.fetch_all(&sql, &a).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let unit = r.text(5)?;
        let status = r.text(7)?;
        items.push(InboxItem {
            id: r.text(0)?,
            sender: r.text(1)?,
            doc_number: r.text(2)?,
            subject: r.text(3)?,
            urgency: r.text(4)?,
            unit: (!unit.is_empty()).then_some(unit),
            copy: r.text(6)?,
            status: CopyStatus::parse(&status)
                .ok_or_else(|| bad(Code::Internal, format!("狀態「{status}」不認得")))?,
            available_at: r.i64(8)?,
            body_size: r.i64(9)? as u64,
            body_sha256: r.text(10)?,
            confirm_now: r.bool(11)?,
            resend: resend_of(r.opt_text(12)?, r.opt_text(13)?),
        });
    }
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|i| format!("{}:{}", i.available_at, i.id)))
        .flatten();
    Ok(InboxPage { items, next })
}

fn no_copy(caller: &Caller, id: &str) -> Refusal {
    bad(
        Code::NotFound,
        format!("收文者 {} 沒有封包 {id}", caller.code),
    )
}

pub async fn body_ref(app: &Shared, caller: &Caller, id: &str) -> Result<BodyRef> {
    if let Some(b) = app.recent.get(id, &caller.code) {
        return Ok(b);
    }
    let r = app
        .db
        .fetch_optional(
            &format!(
                "SELECT p.body_sha256, p.body_size, p.body_purged_at, {} \
                 FROM copies c JOIN packages p ON p.id = c.package_id {} p.body_sha256 \
                 WHERE c.package_id = $1 AND c.recipient = $2 AND c.available_at IS NOT NULL",
                Blobs::PACK_COLUMNS,
                Blobs::PACK_JOIN
            ),
            &args![id, caller.code.as_str()],
        )
        .await?
        .ok_or_else(|| no_copy(caller, id))?;
    if r.opt_i64(2)?.is_some() {
        return Err(bad(Code::BodyPurged, format!("封包 {id}")));
    }
    let sha = r.text(0)?;
    Ok(BodyRef {
        reader: app.blobs.open_placed(&sha, &r, 3).await?,
        sha,
        size: r.i64(1)? as u64,
    })
}

/// Bodies up to this size are read whole, checked and served from memory (one read, one
/// digest); larger ones are checked in a first pass and then streamed.
pub const VERIFY_IN_MEMORY: u64 = 1024 * 1024;

/// A stored body whose bytes no longer have the digest it was stored under: counted, logged
/// for the operators (event `body_corrupt`), and refused. Nothing stored is changed.
fn corrupt(app: &Shared, id: &str, sha: &str, found: &str) -> Refusal {
    app.metrics.inc("gongwen_body_corrupt_total", "read");
    gongwen_net::log::error(
        "存放的封包內容損毀：SHA-256 與存入時不符，已拒絕傳送",
        serde_json::json!({ "event": "body_corrupt", "package": id, "sha256": sha, "found": found }),
    );
    bad(
        Code::BodyCorrupt,
        format!("封包 {id} 存入時 SHA-256 為 {sha}，現為 {found}"),
    )
}

fn store_err(id: &str, e: gongwen_store::StoreError) -> Refusal {
    bad(Code::Internal, format!("封包 {id} 的內容無法讀取：{e}"))
}

/// The whole stored body of package `id`, checked against `sha`.
pub async fn read_verified(
    app: &Shared,
    id: &str,
    sha: &str,
    reader: &gongwen_store::BlobReader,
) -> Result<Vec<u8>> {
    let size = reader.size();
    let data = reader
        .read_at(0, size as usize)
        .await
        .map_err(|e| store_err(id, e))?;
    if data.len() as u64 != size {
        return Err(bad(
            Code::Internal,
            format!("封包 {id} 的內容長度不符：應為 {size}，讀到 {}", data.len()),
        ));
    }
    let found =
        participants::hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &data).as_ref());
    if found != sha {
        return Err(corrupt(app, id, sha, &found));
    }
    Ok(data)
}

/// Checks the whole stored body of package `id` against `sha`, a piece at a time.
pub async fn verify_stored(
    app: &Shared,
    id: &str,
    sha: &str,
    reader: &gongwen_store::BlobReader,
) -> Result<()> {
    const PIECE: u64 = 1024 * 1024;
    let size = reader.size();
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut pos = 0;
    while pos < size {
        let n = PIECE.min(size - pos) as usize;
        let data = reader.read_at(pos, n).await.map_err(|e| store_err(id, e))?;
        if data.len() != n {
            return Err(bad(Code::Internal, format!("封包 {id} 的內容長度不符")));
        }
        ctx.update(&data);
        pos += n as u64;
    }
    let found = participants::hex(ctx.finish().as_ref());
    if found != sha {
        return Err(corrupt(app, id, sha, &found));
    }
    Ok(())
}

/// Whether `code` sent package `id` or is one of its recipients.
pub async fn is_party(app: &Shared, code: &str, id: &str) -> Result<bool> {
    Ok(app
        .db
        .fetch_optional(
            "SELECT 1 FROM packages p WHERE p.id = $1 AND (p.sender = $2 \
             OR EXISTS (SELECT 1 FROM copies c WHERE c.package_id = p.id AND c.recipient = $2))",
            &args![id, code],
        )
        .await?
        .is_some())
}

/// Applies a recipient's signed receipt (送達, 收文確認 or 退文) to its copies of a package.
pub async fn receipt(app: &Shared, caller: &Caller, id: &str, data: &[u8]) -> Result<CopyView> {
    let (r, target) = verified_receipt(app, &caller.code, data).await?;
    let now = app.clock.now_ms();
    let mut tx = app.db.begin().await?;
    // The caller's copies and the package they belong to, in one statement.
    let rows = tx
        .fetch_all(
            &format!(
                "SELECT {COPY_COLS_C}, p.sender, p.content_sha256, p.doc_number, p.origin \
                 FROM copies c JOIN packages p ON p.id = c.package_id \
                 WHERE c.package_id = $1 AND c.recipient = $2 ORDER BY c.unit{}",
                app.db.for_update()
            ),
            &args![id, caller.code.as_str()],
        )
        .await?;
    let pkg = rows.first().ok_or_else(|| no_copy(caller, id))?;
    let (sender, sha, doc_number, origin) = (
        pkg.text(10)?,
        pkg.text(11)?,
        pkg.text(12)?,
        pkg.opt_text(13)?,
    );
    if r.recipient != caller.code
        || r.package_id != id
        || r.package_sha256 != sha
        || r.sender != sender
    {
        return Err(bad(
            Code::ReceiptMismatch,
            format!(
                "回執記載封包 {}、發文 {}、收文 {}；此處為封包 {id}、發文 {sender}、收文 {}",
                r.package_id, r.sender, r.recipient, caller.code
            ),
        ));
    }
    let copies = rows
        .iter()
        .map(|r| copy_of(r, 0))
        .collect::<Result<Vec<_>>>()?;
    let first = &copies[0];
    let reached = |c: &CopyView| c.status == target || target.reaches(c.status);
    if copies.iter().all(reached) {
        // Sent again (a retry after a lost answer), or a 送達 that arrives after the copy was
        // already confirmed or returned: nothing changes.
        return Ok(first.clone());
    }
    for c in &copies {
        if c.status != target && !c.status.can_move_to(target) {
            return Err(bad(
                Code::CopyState,
                format!(
                    "目前為「{}」，不能改為「{}」",
                    c.status.label(),
                    target.label()
                ),
            ));
        }
    }
    moved(&mut tx, id, &caller.code, target, now, &r).await?;
    let detail = receipt_detail(target, r.reason, &r.text, &r.receipt_number);
    event_in(
        &mut tx,
        records::Event {
            package_id: Some(id),
            recipient: Some(&caller.code),
            doc_number: Some(&doc_number),
            detail: detail.as_deref(),
            receipt: Some(data),
            ..records::Event::new(now, &caller.code, target.as_str())
        },
    )
    .await?;
    // What `moved` wrote, without reading it back.
    let after: Vec<CopyView> = copies
        .iter()
        .map(|c| {
            if c.status == target {
                return c.clone();
            }
            CopyView {
                status: target,
                status_at: now,
                delivered_at: c
                    .delivered_at
                    .or((target == CopyStatus::Delivered).then_some(now)),
                return_reason: r.reason,
                return_text: r.text.clone(),
                receipt_number: r.receipt_number.clone(),
                ..c.clone()
            }
        })
        .collect();
    for (before, v) in copies.iter().zip(&after) {
        if before.status != v.status {
            outbox::copy_moved(
                &mut tx,
                app,
                outbox::CopyMove {
                    package_id: id,
                    doc_number: &doc_number,
                    sender: &sender,
                    origin: origin.as_deref(),
                    copy: v,
                    receipt: Some(data),
                },
                now,
            )
            .await?;
        }
    }
    let view = after
        .into_iter()
        .next()
        .ok_or_else(|| bad(Code::Internal, "copy vanished"))?;
    tx.commit().await?;
    if origin.is_some() {
        app.outbox_ready.notify_one();
    }
    app.metrics.inc("gongwen_copies_total", target.as_str());
    Ok(view)
}

/// What the record of a move by receipt says: a return's reason and words, a confirmation's
/// 收文字號.
fn receipt_detail(
    status: CopyStatus,
    reason: Option<ReturnReason>,
    text: &Option<String>,
    number: &Option<String>,
) -> Option<String> {
    match status {
        CopyStatus::Returned => Some(format!(
            "{}：{}",
            reason.map(|x| x.label()).unwrap_or("其他"),
            text.as_deref().unwrap_or("")
        )),
        CopyStatus::Confirmed => number.as_ref().map(|n| format!("收文字號 {n}")),
        _ => None,
    }
}

async fn moved(
    tx: &mut Tx,
    id: &str,
    recipient: &str,
    target: CopyStatus,
    now: i64,
    r: &gongwen_trust::receipt::Receipt,
) -> Result<()> {
    let delivered = (target == CopyStatus::Delivered).then_some(now);
    tx.execute(
        "UPDATE copies SET status = $3, status_at = $4, delivered_at = COALESCE(delivered_at, $5), \
         return_reason = $6, return_text = $7, receipt_number = $8 \
         WHERE package_id = $1 AND recipient = $2 AND status <> $3",
        &args![
            id,
            recipient,
            target.as_str(),
            now,
            delivered,
            r.reason.map(|x| x.label()),
            r.text.clone(),
            r.receipt_number.clone()
        ],
    )
    .await?;
    Ok(())
}

/// A package relayed by a peer center for recipients registered here. Idempotent: the same
/// package again answers with the copies as they are now.
pub async fn accept_relay(
    app: &Shared,
    peer: &str,
    recipients: &[String],
    body: Body,
    declared: Option<u64>,
) -> Result<gongwen_proto::api::RelayAnswer> {
    if recipients.is_empty() || recipients.len() > app.config.limits.max_recipients {
        return Err(bad(Code::RelayRefused, "轉送未列出收文者"));
    }
    let Received {
        upload,
        sha,
        size,
        inspected,
    } = receive(app, body, declared, Code::RelayRefused).await?;
    let h = inspected.header;
    for r in recipients {
        if !h.recipients.iter().any(|x| x.code == *r) {
            return Err(bad(Code::RelayRefused, format!("{r} 不是表頭列出的收文者")));
        }
    }
    let existing = relay_answer(app, &h.id, recipients).await?;
    if !existing.copies.is_empty() {
        return Ok(existing);
    }
    let now = app.clock.now_ms();
    // The sender is registered (at its own center) in our directory too, with its signing keys.
    check_signer(
        app,
        &inspected.signer,
        &inspected.certs,
        &h.sender,
        Code::RelayRefused,
        now,
    )
    .await?;
    let stored = upload.store(app, &sha).await?;
    let mut tx = app.db.begin().await?;
    let key = format!("relay:{peer}:{}", h.id);
    let inserted = insert_package(
        &mut tx,
        PackageRow {
            header: &h,
            sender: &h.sender,
            idem_key: &key,
            sha: &sha,
            size,
            origin: Some(peer),
        },
        now,
    )
    .await;
    if let Err(gongwen_store::StoreError::Duplicate { .. }) = inserted {
        drop(tx);
        return relay_answer(app, &h.id, recipients).await;
    }
    inserted?;
    stored.record(&mut tx).await?;
    let mut seen = BTreeSet::new();
    for r in h.recipients.iter().filter(|r| recipients.contains(&r.code)) {
        if !seen.insert((r.code.clone(), r.unit.clone())) {
            continue;
        }
        // The answer carries these statuses back; only webhooks here.
        create_copy(&mut tx, app, &h, r, peer, true, now).await?;
    }
    tx.commit().await?;
    app.metrics.inc("gongwen_packages_total", "relayed_in");
    relay_answer(app, &h.id, recipients).await
}

/// Every copy of package `id`, by recipient and unit.
async fn copies_of(app: &Shared, id: &str) -> Result<Vec<CopyView>> {
    app.db
        .fetch_all(
            &format!(
                "SELECT {COPY_COLS} FROM copies WHERE package_id = $1 ORDER BY recipient, unit"
            ),
            &args![id],
        )
        .await?
        .iter()
        .map(|r| copy_of(r, 0))
        .collect()
}

async fn relay_answer(
    app: &Shared,
    id: &str,
    recipients: &[String],
) -> Result<gongwen_proto::api::RelayAnswer> {
    let mut copies = copies_of(app, id).await?;
    copies.retain(|c| recipients.contains(&c.recipient));
    Ok(gongwen_proto::api::RelayAnswer {
        package_id: id.to_string(),
        copies,
    })
}

/// A status from the peer where the recipient lives, for a package submitted here.
///
/// 送達, 收文確認 and 退文 are the recipient's acts, not the peer's: they are accepted only
/// with the recipient's receipt, verified here (chain, revocation, and the signing key the
/// directory registers for the recipient), and what is recorded — event, 收文字號, reason and
/// time — is taken from that receipt. The peer's own words must agree with it.
pub async fn accept_status(
    app: &Shared,
    peer: &str,
    u: &gongwen_proto::api::StatusUpdate,
) -> Result<()> {
    let p = participants::get(&app.db, &u.copy.recipient).await?;
    if p.as_ref().and_then(|p| p.center.as_deref()) != Some(peer) {
        return Err(bad(
            Code::RelayRefused,
            format!("{} 不是登記在交換中心 {peer} 的參與者", u.copy.recipient),
        ));
    }
    let receipt = match &u.receipt_hex {
        Some(h) => Some(unhex(h).ok_or_else(|| bad(Code::ReceiptInvalid, "回執不是十六進位"))?),
        None => None,
    };
    let copy = match (needs_receipt(u.copy.status), &receipt) {
        (true, None) => {
            return Err(bad(
                Code::RelayNoReceipt,
                format!(
                    "交換中心 {peer} 回報收文者 {} 對封包 {} 為「{}」",
                    u.copy.recipient,
                    u.package_id,
                    u.copy.status.label()
                ),
            ));
        }
        (true, Some(data)) => receipted_copy(app, u, data).await?,
        (false, Some(_)) => {
            return Err(bad(
                Code::ReceiptMismatch,
                format!("狀態「{}」不附回執", u.copy.status.label()),
            ));
        }
        (false, None) => u.copy.clone(),
    };
    let now = app.clock.now_ms();
    let mut tx = app.db.begin().await?;
    apply_status(
        app,
        &mut tx,
        peer,
        &u.package_id,
        &copy,
        receipt.as_deref(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A receipt verified as signed by `recipient` (its chain, revocation, and a signing key the
/// directory registers for it), with the status it moves the copy to.
async fn verified_receipt(
    app: &Shared,
    recipient: &str,
    data: &[u8],
) -> Result<(gongwen_trust::receipt::Receipt, CopyStatus)> {
    if data.len() > 64 * 1024 {
        return Err(bad(Code::ReceiptInvalid, "回執超過 64 KiB"));
    }
    let bound = app.signing_keys(recipient).await?;
    let r = gongwen_trust::receipt::verify_with(
        data,
        &|c, chain, at| app.evaluate_signing(c, chain, at),
        &|code| {
            if code == recipient {
                bound.clone()
            } else {
                Vec::new()
            }
        },
    )
    .map_err(|e| bad(Code::ReceiptInvalid, format!("{}：{e}", e.code())))?
    .receipt;
    let status = match r.event {
        ReceiptEvent::Delivered => CopyStatus::Delivered,
        ReceiptEvent::Confirmed => CopyStatus::Confirmed,
        ReceiptEvent::Returned => CopyStatus::Returned,
    };
    Ok((r, status))
}

/// The copy a receipt relayed by a peer makes: checked as the recipient's own, for this
/// package as submitted here, agreeing with what the peer says; its fields from the receipt.
async fn receipted_copy(
    app: &Shared,
    u: &gongwen_proto::api::StatusUpdate,
    data: &[u8],
) -> Result<CopyView> {
    let (r, status) = verified_receipt(app, &u.copy.recipient, data).await?;
    // The package as it was submitted here.
    let pkg = app
        .db
        .fetch_optional(
            "SELECT sender, content_sha256 FROM packages WHERE id = $1 AND origin IS NULL",
            &args![u.package_id.as_str()],
        )
        .await?
        .ok_or_else(|| bad(Code::NotFound, format!("封包 {}", u.package_id)))?;
    let (sender, sha) = (pkg.text(0)?, pkg.opt_text(1)?);
    if r.recipient != u.copy.recipient
        || r.package_id != u.package_id
        || Some(&r.package_sha256) != sha.as_ref()
        || r.sender != sender
    {
        return Err(bad(
            Code::ReceiptMismatch,
            format!(
                "回執記載封包 {}、發文 {}、收文 {}；此處為封包 {}、發文 {sender}、收文 {}",
                r.package_id, r.sender, r.recipient, u.package_id, u.copy.recipient
            ),
        ));
    }
    let differs = |what: &str, said: String, signed: String| {
        bad(
            Code::ReceiptMismatch,
            format!("交換中心回報{what}為「{said}」，收文者簽署的回執為「{signed}」"),
        )
    };
    if status != u.copy.status {
        return Err(differs(
            "狀態",
            u.copy.status.label().into(),
            status.label().into(),
        ));
    }
    if u.copy.receipt_number != r.receipt_number {
        return Err(differs(
            "收文字號",
            u.copy.receipt_number.clone().unwrap_or_default(),
            r.receipt_number.clone().unwrap_or_default(),
        ));
    }
    if u.copy.return_reason != r.reason || u.copy.return_text != r.text {
        let words = |reason: Option<ReturnReason>, text: &Option<String>| {
            format!(
                "{}：{}",
                reason.map(|x| x.label()).unwrap_or("無"),
                text.as_deref().unwrap_or("")
            )
        };
        return Err(differs(
            "退文原因",
            words(u.copy.return_reason, &u.copy.return_text),
            words(r.reason, &r.text),
        ));
    }
    // The time the recipient signed, not the peer's: the peer's clock (or word) decides
    // nothing about when the recipient received or confirmed.
    let at = r.time.saturating_mul(1000);
    Ok(CopyView {
        recipient: r.recipient,
        unit: u.copy.unit.clone(),
        copy: u.copy.copy.clone(),
        status,
        status_at: at,
        delivered_at: (status == CopyStatus::Delivered).then_some(at),
        fail_reason: None,
        return_reason: r.reason,
        return_text: r.text,
        receipt_number: r.receipt_number,
    })
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 2 * 64 * 1024 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Deletes the sealed bodies of packages whose copies all became final more than
/// `body_days_after_final` days ago. The package, its copies and its records stay.
pub async fn purge_bodies(app: &Shared, now: i64) -> Result<usize> {
    let cutoff = now - app.config.retention.body_days_after_final as i64 * 86_400_000;
    let rows = app
        .db
        .fetch_all(
            "SELECT p.id, p.body_sha256 FROM packages p WHERE p.body_purged_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM copies c WHERE c.package_id = p.id AND c.status NOT IN ('confirmed', 'returned', 'failed')) \
             AND (SELECT MAX(c.status_at) FROM copies c WHERE c.package_id = p.id) < $1 \
             ORDER BY p.submitted_at LIMIT 1000",
            &args![cutoff],
        )
        .await?;
    let mut n = 0;
    for r in rows {
        let (id, sha) = (r.text(0)?, r.text(1)?);
        let mut tx = app.db.begin().await?;
        tx.execute(
            "UPDATE packages SET body_purged_at = $2 WHERE id = $1 AND body_purged_at IS NULL",
            &args![id.as_str(), now],
        )
        .await?;
        event_in(
            &mut tx,
            records::Event {
                package_id: Some(&id),
                ..records::Event::new(now, "center", "body_purged")
            },
        )
        .await?;
        tx.commit().await?;
        app.recent.forget(&id);
        // The record of the purge is durable before the bytes go. No other package shares
        // them: the bytes carry the header and so the package id, which is the row's key.
        // (Asking instead scanned the packages table for every package purged.)
        app.blobs.delete(&sha).await?;
        n += 1;
    }
    Ok(n)
}

/// A copy status reported by the recipient's center, applied here if it moves the copy on.
///
/// 送達, 收文確認 and 退文 are applied only with the recipient's receipt, which the caller
/// has verified and built `c` from ([`accept_status`]); without one (a relay
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
    let receipted = needs_receipt(c.status);
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
        s => receipt_detail(s, c.return_reason, &c.return_text, &c.receipt_number),
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
    outbox::notify_sender(app, tx, pkg, &c.recipient, now).await?;
    Ok(true)
}
