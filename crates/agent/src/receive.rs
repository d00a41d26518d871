//! Receiving: what waits at the center is fetched, opened into a hidden folder, scanned, and
//! renamed into the inbox all at once; only then is 送達 signed. A package that cannot be
//! opened is returned automatically; one that carries malware is quarantined, returned and
//! reported. 簽收 and 退文 by a person (API or web client) are signed here too.

use std::path::PathBuf;

use gongwen_net::Refusal;
use gongwen_proto::agent::{ReceivedItem, ReceivedState};
use gongwen_proto::{Code, ReturnReason};
use gongwen_store::{Db, Row, StoreError};
use gongwen_trust::package::stream;
use gongwen_trust::receipt::{self, ReceiptEvent, ReceiptRequest};

use crate::error::{AgentError, refused};
use crate::send::refusal_of;
use crate::{Agency, Shared, folder, notify, scan};

/// Items that failed, tried again with back-off, so that one bad package (or one bad byte on
/// the way) never holds up the documents behind it. Kept in memory: a restart tries each
/// again at once, which is what an operator who fixed the cause wants.
#[derive(Default)]
pub(crate) struct Retries(std::sync::Mutex<std::collections::HashMap<String, Retry>>);

#[derive(Debug, Clone, Copy)]
struct Retry {
    failures: u32,
    next_ms: i64,
}

/// After this many failures in a row an item is reported (log at error level and the
/// document system's webhook); it is still tried, at most once an hour.
const REPORT_AFTER: u32 = 5;
const MAX_WAIT_MS: i64 = 3_600_000;

impl Retries {
    fn due(&self, id: &str, now_ms: i64) -> bool {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id).is_none_or(|r| now_ms >= r.next_ms)
    }

    /// Counts a failure and sets the next try: the poll interval, doubled per failure, up to
    /// an hour. Answers the failures so far.
    fn failed(&self, id: &str, now_ms: i64, poll_ms: i64) -> u32 {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let r = map.entry(id.to_string()).or_insert(Retry {
            failures: 0,
            next_ms: now_ms,
        });
        r.failures += 1;
        let wait = poll_ms
            .max(1_000)
            .saturating_mul(1i64 << r.failures.min(12))
            .min(MAX_WAIT_MS);
        r.next_ms = now_ms + wait;
        r.failures
    }

    fn succeeded(&self, id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}

/// Fetches, opens and acknowledges everything waiting at the center for this agency; also
/// finishes what a restart interrupted (送達 signed, the rest not yet recorded). Each item
/// stands alone: one that fails is logged, tried again later with back-off and reported when
/// it keeps failing, and the round goes on with the next. Only a center that cannot be
/// reached ends the round.
pub(crate) async fn receive(node: &Shared, a: &Agency) -> Result<(), AgentError> {
    for status in ["available", "delivered"] {
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("status", status), ("limit", "200")];
            if let Some(c) = &after {
                query.push(("after", c.as_str()));
            }
            let page = a
                .center
                .inbox(&query)
                .await
                .map_err(AgentError::Unreachable)?;
            for item in &page.items {
                receive_item(node, a, item).await;
            }
            match page.next {
                Some(n) if !page.items.is_empty() && after.as_ref() != Some(&n) => after = Some(n),
                _ => break,
            }
        }
    }
    Ok(())
}

/// One waiting item, isolated from the others.
async fn receive_item(node: &Shared, a: &Agency, item: &gongwen_proto::api::InboxItem) {
    let log = |msg: &str, detail: &str, failures: u32| {
        serde_json::json!({
            "event": msg, "agency": a.code.as_str(), "package": item.id.chars().take(80).collect::<String>(),
            "sender": item.sender.chars().take(20).collect::<String>(), "failures": failures, "detail": detail,
        })
    };
    // The id names files and URLs here: only the form sealing gives it.
    if !gongwen_proto::header::is_package_id(&item.id) {
        let key: String = item.id.chars().take(100).collect();
        if a.receiving.failed(&key, node.clock.now_ms(), MAX_WAIT_MS) == 1 {
            gongwen_net::log::error(
                "交換中心列出的封包識別碼格式不對，不予處理",
                log("receive.bad_id", "", 1),
            );
        }
        return;
    }
    if !a.receiving.due(&item.id, node.clock.now_ms()) {
        return;
    }
    let result = match state_of(&node.db, a, &item.id).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => receive_one(node, a, item).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => a.receiving.succeeded(&item.id),
        Err(e) => {
            let e = e.to_string();
            let poll_ms =
                i64::try_from(node.config.poll_s.saturating_mul(1000)).unwrap_or(i64::MAX);
            let n = a.receiving.failed(&item.id, node.clock.now_ms(), poll_ms);
            gongwen_net::log::warn(
                "收文未完成，稍後重試（其他收文照常處理）",
                log("receive.item_failed", &e, n),
            );
            if n == REPORT_AFTER {
                gongwen_net::log::error(
                    "收文一再失敗，請檢查；仍會每小時重試",
                    log("receive.item_stuck", &e, n),
                );
                let _ = notify::enqueue(
                    node,
                    a,
                    "receive_failed",
                    serde_json::json!({
                        "package_id": item.id, "sender": item.sender, "doc_number": item.doc_number,
                        "failures": n, "detail": e,
                    }),
                )
                .await;
            }
        }
    }
}

/// The state of a received document, if the agency has it.
async fn state_of(db: &Db, a: &Agency, id: &str) -> Result<Option<String>, StoreError> {
    let sql = "SELECT state FROM agent_received WHERE agency = $1 AND package_id = $2";
    let row = db
        .fetch_optional(sql, &[a.code.as_str().into(), id.into()])
        .await?;
    row.map(|r| r.text(0)).transpose()
}

/// What became of a received package.
enum Outcome {
    /// In the inbox folder.
    Delivered(PathBuf),
    /// Quarantined: what was found.
    Malware(PathBuf, String),
    /// It cannot be opened or does not check out: why.
    Unreadable(String),
}

async fn receive_one(
    node: &Shared,
    a: &Agency,
    item: &gongwen_proto::api::InboxItem,
) -> Result<(), AgentError> {
    let pkg_path = incoming_path(node, a, &item.id);
    let header = match pkg_path.is_file() {
        true => match stream::inspect_file(&pkg_path) {
            Ok(i) => i.header,
            Err(e) => {
                // Kept from an earlier round but it does not check out: fetch it again.
                let _ = std::fs::remove_file(&pkg_path);
                return Err(AgentError::trust(&item.id)(e));
            }
        },
        false => download(a, item, &pkg_path).await?,
    };
    if header.id != item.id {
        let _ = std::fs::remove_file(&pkg_path);
        return Err(AgentError::Download(format!(
            "交換中心的 {} 下載到的是另一個封包 {}",
            item.id, header.id
        )));
    }
    let inbox = inbox_dir(node, a);
    let dest = inbox.join(&item.id);
    let quarantined = quarantined(node, a, &item.id);
    let outcome = if dest.is_dir() {
        Outcome::Delivered(dest)
    } else if quarantined.is_dir() {
        let what = std::fs::read_to_string(quarantined.join("原因.txt")).unwrap_or_default();
        Outcome::Malware(quarantined, what.trim().to_string())
    } else {
        open_into(node, a, item, &pkg_path, &inbox, &dest, &quarantined).await?
    };
    let (receipt, row) = match &outcome {
        Outcome::Delivered(d) => (None, ("delivered", d.display().to_string())),
        Outcome::Malware(q, what) => (
            // The center prints the reason's label (含惡意程式) before this text.
            Some((ReturnReason::Malware, receipt::fit_text(what))),
            ("quarantined", q.display().to_string()),
        ),
        Outcome::Unreadable(why) => (
            Some((
                ReturnReason::Unreadable,
                receipt::fit_text(&format!("無法開啟或驗證：{why}")),
            )),
            ("returned", why.clone()),
        ),
    };
    acknowledge(node, a, item, &header, receipt).await?;
    let (mut files, mut sender_name) = (Vec::<String>::new(), String::new());
    if let Outcome::Delivered(d) = &outcome {
        let read = std::fs::read_dir(d).into_iter().flatten().flatten();
        files = read
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "receipt.json")
            .collect();
        files.sort();
        // The sender's name as its document gives it, for people's lists.
        sender_name = (files.iter())
            .find(|f| f.to_ascii_lowercase().ends_with(".di"))
            .and_then(|f| std::fs::read(d.join(f)).ok())
            .and_then(|b| gongwen_doc::read_di(&b).ok())
            .and_then(|di| di.document.issuers().first().map(|i| i.name.clone()))
            .unwrap_or_default();
    }
    let now = node.clock.now_ms();
    let inserted = node
        .db
        .execute(
            "INSERT INTO agent_received (agency, package_id, sender, doc_number, state, detail, received_at, subject, urgency, copy, confirm_now, files, sender_name) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (agency, package_id) DO NOTHING",
            &[
                a.code.as_str().into(),
                item.id.as_str().into(),
                item.sender.as_str().into(),
                item.doc_number.as_str().into(),
                row.0.into(),
                row.1.into(),
                now.into(),
                header.subject.as_str().into(),
                header.urgency.as_str().into(),
                item.copy.as_str().into(),
                i64::from(item.confirm_now).into(),
                serde_json::to_string(&files).unwrap_or_default().into(),
                sender_name.as_str().into(),
            ],
        )
        .await?;
    if inserted > 0 {
        notify::enqueue(
            node,
            a,
            "received",
            serde_json::json!({
                "package_id": item.id, "sender": item.sender, "doc_number": item.doc_number,
                "subject": header.subject, "urgency": header.urgency, "copy": item.copy,
                "state": row.0, "files": files,
            }),
        )
        .await?;
    }
    if let Outcome::Malware(_, what) = &outcome {
        gongwen_net::log::warn(
            "收到的公文含惡意程式，已隔離並退文",
            serde_json::json!({ "agency": a.code.as_str(), "package": item.id, "sender": item.sender, "detail": what }),
        );
        a.center
            .security_event(&gongwen_proto::api::SecurityEvent {
                kind: "malware".into(),
                package_id: Some(item.id.clone()),
                detail: format!(
                    "{} 發給 {} 的公文 {}：{what}",
                    item.sender,
                    a.code.as_str(),
                    item.doc_number
                ),
            })
            .await
            .map_err(AgentError::remote("資安事件通報"))?;
    }
    Ok(())
}

/// Downloads a package and keeps it only once its signed header checks out against the body
/// and the body's digest is the one the center listed: a download that does not verify is
/// never kept, so the next try fetches it again (the center's copy may have been repaired).
async fn download(
    a: &Agency,
    item: &gongwen_proto::api::InboxItem,
    pkg_path: &std::path::Path,
) -> Result<gongwen_proto::PackageHeader, AgentError> {
    let body = a
        .center
        .fetch(&item.id)
        .await
        .map_err(AgentError::remote(format!("下載 {}", item.id)))?;
    let inspected = gongwen_trust::package::inspect(&body).map_err(AgentError::trust(format!(
        "下載的 {} 無法驗證，未保留",
        item.id
    )))?;
    // The center lists the digest of the package as it accepted it (`body_sha256`).
    if !gongwen_store::blob::sha256_hex(&body).eq_ignore_ascii_case(&item.body_sha256) {
        return Err(AgentError::Download(format!(
            "下載的 {} 與交換中心列出的摘要不符，未保留",
            item.id
        )));
    }
    folder::write_atomically(pkg_path, &body).map_err(AgentError::io(pkg_path))?;
    Ok(inspected.header)
}

/// Opens a package into a hidden folder beside the inbox, scans what came out, and either
/// renames it into place (the inbox sees it all at once) or moves it to quarantine.
async fn open_into(
    node: &Shared,
    a: &Agency,
    item: &gongwen_proto::api::InboxItem,
    pkg_path: &std::path::Path,
    inbox: &std::path::Path,
    dest: &std::path::Path,
    quarantined: &std::path::Path,
) -> Result<Outcome, AgentError> {
    let sender_keys: Vec<[u8; 32]> = match a.center.participant_certs(&item.sender).await {
        Ok(c) => c
            .signing_keys
            .iter()
            .filter_map(|k| gongwen_trust::path::unhex32(k))
            .collect(),
        Err(e) if refused(&e) => Vec::new(),
        Err(e) => return Err(AgentError::Unreachable(e)),
    };
    let tmp = inbox.join(format!(".tmp-{}", item.id));
    let _ = std::fs::remove_dir_all(&tmp);
    let me = gongwen_trust::package::Recipient {
        key: &a.enc_key,
        cert: &a.enc_cert,
        code: &a.code,
    };
    let sender = item.sender.clone();
    let bound = move |code: &str| {
        if code == sender {
            sender_keys.clone()
        } else {
            Vec::new()
        }
    };
    let o = match stream::open_to_dir(pkg_path, &me, &node.trust.store(), &bound, &tmp) {
        Ok(o) => o,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Ok(Outcome::Unreadable(e.to_string()));
        }
    };
    if let Some(scanner) = &node.scanner {
        match scan::first_infected(scanner, &o.files).await {
            Ok(None) => {}
            Ok(Some((file, sig))) => {
                let what = format!("{file} 驗出 {sig}");
                let dir = node.config.data_dir.join("quarantine");
                std::fs::create_dir_all(&dir).map_err(AgentError::io(dir))?;
                let why = tmp.join("原因.txt");
                folder::write_atomically(&why, format!("{what}\n").as_bytes())
                    .map_err(AgentError::io(why))?;
                std::fs::rename(&tmp, quarantined).map_err(AgentError::io(quarantined))?;
                return Ok(Outcome::Malware(quarantined.to_path_buf(), what));
            }
            Err(e) => {
                // Nothing is released unscanned: next round.
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
        }
    }
    let record = serde_json::json!({
        "package_id": item.id, "sender": item.sender, "doc_number": o.header.doc_number,
        "subject": o.header.subject, "urgency": o.header.urgency,
        "received_at": node.clock.now_ms(), "signed_at": o.signed_at,
        "files": o.files.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).collect::<Vec<_>>(),
    });
    let receipt = tmp.join("receipt.json");
    folder::write_atomically(&receipt, record.to_string().as_bytes())
        .map_err(AgentError::io(receipt))?;
    if a.folders.is_some() {
        // For the document system to read (inbox_mode); private until complete.
        let (file_mode, dir_mode) = node.inbox_modes;
        folder::share(&tmp, file_mode, dir_mode).map_err(AgentError::io(&tmp))?;
    }
    std::fs::rename(&tmp, dest).map_err(AgentError::io(dest))?;
    Ok(Outcome::Delivered(dest.to_path_buf()))
}

/// Signs and sends 送達 and, for a package returned, then 退文 with its reason. The center
/// accepts a return only after delivery; a receipt it already has (before a restart) is
/// taken as sent.
async fn acknowledge(
    node: &Shared,
    a: &Agency,
    item: &gongwen_proto::api::InboxItem,
    header: &gongwen_proto::PackageHeader,
    returned: Option<(ReturnReason, String)>,
) -> Result<(), AgentError> {
    let mut receipts = vec![(ReceiptEvent::Delivered, None, None)];
    if let Some((reason, text)) = returned {
        receipts.push((ReceiptEvent::Returned, Some(reason), Some(text)));
    }
    for (event, reason, text) in receipts {
        let (der, _) = receipt::issue(
            &ReceiptRequest {
                header,
                event,
                recipient: a.code.as_str(),
                reason,
                text,
                receipt_number: None,
                now: node.clock.now_s(),
            },
            &a.signer(),
        )
        .map_err(AgentError::trust(format!("{}回執", event.label())))?;
        match a.center.receipt(&item.id, der).await {
            Ok(_) => {}
            Err(e) if e.code() == Some("E_COPY_STATE") => {}
            Err(e) => return Err(AgentError::remote(format!("{}回執", event.label()))(e)),
        }
    }
    Ok(())
}

/// What a person decided about a received document.
#[derive(Debug, Clone)]
pub enum Decision {
    /// 簽收.
    Confirm,
    /// 退文, with the reason from the closed list and the words typed.
    Return(ReturnReason, String),
}

/// Signs and sends a person's 簽收 or 退文 and records who did it. Only a document that was
/// delivered and not yet handled can be; returning after 簽收 is done on paper.
pub async fn decide(
    node: &Shared,
    a: &Agency,
    id: &str,
    by: &str,
    decision: Decision,
) -> Result<(), Refusal> {
    let state = (state_of(&node.db, a, id).await?)
        .ok_or_else(|| Refusal::new(Code::NotFound, format!("收文 {id} 不存在")))?;
    if state != "delivered" {
        let now = match state.as_str() {
            "confirmed" => "已簽收（簽收後如需退文，請以紙本辦理）",
            "returned" => "已退文",
            "quarantined" => "含惡意程式，已隔離並退文",
            _ => "不是待處理的收文",
        };
        return Err(Refusal::new(Code::CopyState, format!("收文 {id} {now}")));
    }
    let (event, reason, text) = match &decision {
        Decision::Confirm => (ReceiptEvent::Confirmed, None, None),
        Decision::Return(reason, text) => {
            let text = text.trim();
            if *reason == ReturnReason::Other && text.is_empty() {
                return Err(Refusal::new(
                    Code::BadRequest,
                    "退文原因為「其他」時，請填寫說明",
                ));
            }
            if text.chars().count() > receipt::TEXT_CHARS {
                return Err(Refusal::new(
                    Code::BadRequest,
                    format!("退文說明最多 {} 字", receipt::TEXT_CHARS),
                ));
            }
            (
                ReceiptEvent::Returned,
                Some(*reason),
                (!text.is_empty()).then(|| text.to_string()),
            )
        }
    };
    // 簽收 gives the document its 收文字號, from the agency's receiving series for the year.
    let receipt_number = match (&decision, &a.word) {
        (Decision::Confirm, Some(word)) => {
            let year = gongwen_doc::RocDate::from_unix_taipei(node.clock.now_s())
                .map(|d| d.year)
                .unwrap_or(115);
            let serial =
                crate::compose::next_number(&node.db, &format!("{}#收文", a.code.as_str()), year)
                    .await?;
            // 北市教字 → 北市教收字第1150000001號
            let base = word.trim_end_matches('字');
            Some(format!("{base}收字第{year}{serial:07}號"))
        }
        _ => None,
    };
    let pkg = incoming_path(node, a, id);
    let header = stream::inspect_file(&pkg)
        .map_err(|e| Refusal::new(Code::Internal, format!("{}：{e}", pkg.display())))?
        .header;
    let (der, _) = receipt::issue(
        &ReceiptRequest {
            header: &header,
            event,
            recipient: a.code.as_str(),
            reason,
            text: text.clone(),
            receipt_number: receipt_number.clone(),
            now: node.clock.now_s(),
        },
        &a.signer(),
    )
    .map_err(|e| Refusal::new(Code::Internal, e.to_string()))?;
    a.center
        .receipt(id, der)
        .await
        .map_err(|e| refusal_of(&e))?;
    let new_state = match decision {
        Decision::Confirm => "confirmed",
        Decision::Return(..) => "returned",
    };
    node.db
        .execute(
            "UPDATE agent_received SET state = $3, handled_at = $4, handled_by = $5, reason = $6, reason_text = $7, receipt_number = $8 \
             WHERE agency = $1 AND package_id = $2 AND state = 'delivered'",
            &[
                a.code.as_str().into(),
                id.into(),
                new_state.into(),
                node.clock.now_ms().into(),
                by.into(),
                reason.map(|r| r.label()).into(),
                text.into(),
                receipt_number.into(),
            ],
        )
        .await?;
    Ok(())
}

/// Where a received package is kept (the receipts are signed over its header).
pub(crate) fn incoming_path(node: &crate::Node, a: &Agency, id: &str) -> PathBuf {
    node.config
        .data_dir
        .join("incoming")
        .join(format!("{}-{id}.pkg", a.code.as_str()))
}

/// Where a received package that carries malware is kept, opened.
pub(crate) fn quarantined(node: &crate::Node, a: &Agency, id: &str) -> PathBuf {
    let dir = node.config.data_dir.join("quarantine");
    dir.join(format!("{}-{id}", a.code.as_str()))
}

/// Where an agency's received documents are: its inbox folder in folder mode, otherwise
/// under the data folder.
pub(crate) fn inbox_dir(node: &crate::Node, a: &Agency) -> PathBuf {
    a.folders
        .as_ref()
        .map(|f| f.inbox.clone())
        .unwrap_or_else(|| node.config.data_dir.join("inbox").join(a.code.as_str()))
}

/// The columns of [`ReceivedItem`], read by name.
const RECEIVED_COLS: &str = "package_id, sender, doc_number, subject, urgency, copy, confirm_now, state, received_at, files, handled_at, handled_by, reason, reason_text, detail, sender_name, receipt_number";

fn received_item(r: &Row) -> Result<ReceivedItem, Refusal> {
    let stored = r.text("state")?;
    let state = ReceivedState::parse(&stored)
        .ok_or_else(|| Refusal::new(Code::Internal, format!("收文狀態「{stored}」不認得")))?;
    Ok(ReceivedItem {
        package_id: r.text("package_id")?,
        sender: r.text("sender")?,
        doc_number: r.text("doc_number")?,
        subject: r.text("subject")?,
        urgency: r.text("urgency")?,
        copy: r.text("copy")?,
        confirm_now: r.bool("confirm_now")?,
        state,
        state_label: state.label().to_string(),
        received_at: r.i64("received_at")?,
        files: serde_json::from_str(&r.text("files")?).unwrap_or_default(),
        handled_at: r.opt_i64("handled_at")?,
        handled_by: r.opt_text("handled_by")?,
        return_reason: r.opt_text("reason")?,
        return_text: r.opt_text("reason_text")?,
        sender_name: r.text("sender_name")?,
        receipt_number: r.opt_text("receipt_number")?,
        // Why it was returned on arrival; the inbox folder path is the agent's own business.
        detail: if state == ReceivedState::Returned {
            r.opt_text("detail")?
        } else {
            None
        },
    })
}

/// Which of an agency's received documents a list shows, and in what order.
pub struct ReceivedFilter {
    /// One state, or every state (`None`).
    pub state: Option<ReceivedState>,
    /// Only what arrived before this time (ms), for the next page.
    pub before: Option<i64>,
    pub limit: i64,
    /// What waits to be handled first, the most urgent first (the clerk's list); otherwise
    /// newest first (the document system's pages).
    pub waiting_first: bool,
}

/// A list of the agency's received documents.
pub async fn received_list(
    db: &Db,
    agency: &str,
    f: &ReceivedFilter,
) -> Result<Vec<ReceivedItem>, Refusal> {
    let order = if f.waiting_first {
        "CASE WHEN state = 'delivered' THEN 0 ELSE 1 END, \
         CASE urgency WHEN '最速件' THEN 0 WHEN '速件' THEN 1 ELSE 2 END, received_at DESC, package_id"
    } else {
        "received_at DESC, package_id"
    };
    db.fetch_all(
        &format!(
            "SELECT {RECEIVED_COLS} FROM agent_received WHERE agency = $1 AND ($2 = '' OR state = $2) \
             AND received_at < $3 ORDER BY {order} LIMIT $4"
        ),
        &[
            agency.into(),
            f.state.map(|s| s.as_str()).unwrap_or("").into(),
            f.before.unwrap_or(i64::MAX).into(),
            f.limit.into(),
        ],
    )
    .await?
    .iter()
    .map(received_item)
    .collect()
}

/// One of the agency's received documents.
pub async fn received(db: &Db, agency: &str, id: &str) -> Result<ReceivedItem, Refusal> {
    let row = db
        .fetch_optional(
            &format!(
                "SELECT {RECEIVED_COLS} FROM agent_received WHERE agency = $1 AND package_id = $2"
            ),
            &[agency.into(), id.into()],
        )
        .await?
        .ok_or_else(|| Refusal::new(Code::NotFound, format!("收文 {id} 不存在")))?;
    received_item(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clerk's list puts what waits first, the most urgent first; the document system's
    /// pages are newest first; a state filters; an agency reads only its own.
    #[test]
    fn received_lists_order_filter_and_keep_agencies_apart() {
        crate::with_test_db("received", |db| async move {
            for (agency, id, state, urgency, at) in [
                ("A", "p1", "confirmed", "最速件", 5),
                ("A", "p2", "delivered", "普通件", 4),
                ("A", "p3", "delivered", "最速件", 1),
                ("A", "p4", "returned", "速件", 3),
                ("B", "p5", "delivered", "最速件", 9),
            ] {
                db.execute(
                    "INSERT INTO agent_received (agency, package_id, sender, doc_number, state, detail, received_at, urgency, sender_name) \
                     VALUES ($1, $2, 'S', 'n', $3, 'why', $4, $5, '')",
                    &[agency.into(), id.into(), state.into(), i64::from(at).into(), urgency.into()],
                )
                .await
                .unwrap();
            }
            let list = |state, waiting_first| {
                let db = db.clone();
                async move {
                    let f = ReceivedFilter {
                        state,
                        before: None,
                        limit: 10,
                        waiting_first,
                    };
                    received_list(&db, "A", &f)
                        .await
                        .unwrap()
                        .into_iter()
                        .map(|r| r.package_id)
                        .collect::<Vec<_>>()
                }
            };
            assert_eq!(list(None, true).await, ["p3", "p2", "p1", "p4"]);
            assert_eq!(list(None, false).await, ["p1", "p2", "p4", "p3"]);
            assert_eq!(
                list(Some(ReceivedState::Delivered), false).await,
                ["p2", "p3"]
            );
            let r = received(&db, "A", "p4").await.unwrap();
            assert_eq!(r.state, ReceivedState::Returned);
            assert_eq!(r.detail.as_deref(), Some("why"), "why it was returned");
            assert_eq!(received(&db, "A", "p2").await.unwrap().detail, None);
            let e = received(&db, "A", "p5").await.unwrap_err();
            assert_eq!(e.code, Code::NotFound, "B's document is not A's to read");
        });
    }

    /// A failing item waits the poll interval doubled per failure, never more than an hour,
    /// and is due again at once after it succeeds.
    #[test]
    fn retries_back_off_and_reset() {
        let r = Retries::default();
        assert!(r.due("a", 0), "a new item is due");
        assert_eq!(r.failed("a", 0, 10_000), 1);
        assert!(
            !r.due("a", 19_999) && r.due("a", 20_000),
            "twice the poll interval"
        );
        assert_eq!(r.failed("a", 20_000, 10_000), 2);
        assert!(!r.due("a", 59_999) && r.due("a", 60_000), "four times");
        assert!(r.due("b", 0), "another item is not held up");
        for _ in 0..20 {
            r.failed("a", 0, 10_000);
        }
        assert!(r.due("a", MAX_WAIT_MS), "never longer than the cap");
        r.succeeded("a");
        assert!(r.due("a", 0));
        // A poll interval under a second still waits a second at least.
        r.failed("c", 0, 10);
        assert!(!r.due("c", 1_999) && r.due("c", 2_000));
    }
}
