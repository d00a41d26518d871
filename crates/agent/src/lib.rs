//! The agency node (機關層): for each agency it serves, it seals what the agency sends and
//! submits it to the agency's center, and fetches, opens and acknowledges (送達) what arrives.
//! This first part works from folders (the way jAgent is used); the document-system API and
//! the web client come on top of the same pieces.
//!
//! Nothing is lost or repeated across restarts: a sealed package and its Idempotency-Key are
//! recorded before the center is called, and a received package is written to the inbox
//! (all at once) before 送達 is signed, and only once.

pub mod config;
pub mod folder;
pub mod scan;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use gongwen_client::{CenterClient, ClientError};
use gongwen_net::{Clock, StartError};
use gongwen_proto::{HeaderOptions, ReturnReason};
use gongwen_store::{Db, random_hex};
use gongwen_trust::cms::{self, Signer};
use gongwen_trust::keys::PrivateKey;
use gongwen_trust::package::stream::{self, StreamSeal};
use gongwen_trust::path::TrustStore;
use gongwen_trust::receipt::{self, ReceiptEvent, ReceiptRequest};
use x509_cert::Certificate;

pub use config::{AgencyConfig, AgentConfig};
use folder::{Folders, OutboxSet};

fn start_err(code: &'static str, detail: impl std::fmt::Display) -> StartError {
    StartError {
        service: "機關代理程式",
        code,
        detail: detail.to_string(),
    }
}

/// One agency as the node runs it.
pub struct Agency {
    pub code: gongwen_doc::AgencyCode,
    pub center: CenterClient,
    sign_key: PrivateKey,
    sign_cert: Certificate,
    chain: Vec<Certificate>,
    enc_key: PrivateKey,
    enc_cert: Certificate,
    pub folders: Option<Folders>,
}

pub struct Node {
    pub config: AgentConfig,
    pub scanner: Option<scan::Clamd>,
    pub db: Db,
    pub clock: Clock,
    pub trust: TrustStore,
    pub agencies: Vec<Agency>,
}

pub type Shared = Arc<Node>;

fn read(p: &std::path::Path) -> Result<Vec<u8>, StartError> {
    std::fs::read(p).map_err(|e| start_err("E_CONFIG", format!("{}：{e}", p.display())))
}

fn key(spec: &str) -> Result<PrivateKey, StartError> {
    PrivateKey::load(spec).map_err(|e| start_err(e.code(), format!("{spec}：{e}")))
}

fn certs(p: &std::path::Path) -> Result<Vec<Certificate>, StartError> {
    let c = cms::load_certs(&read(p)?)
        .map_err(|e| start_err(e.code(), format!("{}：{e}", p.display())))?;
    if c.is_empty() {
        return Err(start_err("E_CONFIG", format!("{} 沒有憑證", p.display())));
    }
    Ok(c)
}

/// Opens the store, the keys and the folders, without starting the loops.
pub async fn open(config: AgentConfig, clock: Clock) -> Result<Shared, StartError> {
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| start_err(e.code(), e))?;
    let trust = TrustStore::from_files(
        &config.trust_anchors,
        &config.crls,
        gongwen_trust::path::StaleCrl::Refuse,
    )
    .map_err(|e| start_err(e.code(), e))?;
    let mut roots = Vec::new();
    for p in &config.trust_anchors {
        roots.extend(read(p)?);
        roots.push(b'\n');
    }
    let mut agencies = Vec::new();
    for a in &config.agencies {
        let code = gongwen_doc::AgencyCode::parse(&a.code)
            .map_err(|e| start_err("E_CONFIG", format!("機關代碼「{}」：{e}", a.code)))?;
        let tls =
            gongwen_client::tls_config(&roots, Some((&read(&a.tls_cert)?, &read(&a.tls_key)?)))
                .map_err(|e| start_err("E_CONFIG", e))?;
        let center = CenterClient::new(&a.center, tls).map_err(|e| start_err("E_CONFIG", e))?;
        let mut sign = certs(&a.sign_cert)?;
        let sign_cert = sign.remove(0);
        let enc_cert = certs(&a.enc_cert)?.remove(0);
        let (sign_key, enc_key) = (key(&a.sign_key)?, key(&a.enc_key)?);
        if !sign_key.matches(&sign_cert) || !enc_key.matches(&enc_cert) {
            return Err(start_err(
                "E_CONFIG",
                format!("{} 的私鑰與憑證不相符", a.code),
            ));
        }
        let folders = a.folder.as_deref().map(Folders::under);
        if let Some(f) = &folders {
            f.create()
                .map_err(|e| start_err("E_CONFIG", format!("{}：{e}", a.code)))?;
        }
        agencies.push(Agency {
            code,
            center,
            sign_key,
            sign_cert,
            chain: sign,
            enc_key,
            enc_cert,
            folders,
        });
    }
    for sub in ["outgoing", "incoming"] {
        std::fs::create_dir_all(config.data_dir.join(sub))
            .map_err(|e| start_err("E_CONFIG", format!("{}：{e}", config.data_dir.display())))?;
    }
    let scanner = config.clamd.clone().map(scan::Clamd);
    if scanner.is_none() {
        gongwen_net::log::warn(
            "未設定防毒掃描（agent.clamd）：收發的公文與附件不會掃描",
            serde_json::json!({}),
        );
    }
    Ok(Arc::new(Node {
        scanner,
        config,
        db,
        clock,
        trust,
        agencies,
    }))
}

/// A node running its loops.
pub struct Running {
    pub node: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn shutdown(self) {
        self.task.abort();
        let _ = self.task.await;
        self.node.db.close().await;
    }
}

/// Opens everything and starts sending and receiving every `poll_s`.
pub async fn start(config: AgentConfig, clock: Clock) -> Result<Running, StartError> {
    let node = open(config, clock).await?;
    let n = node.clone();
    let every = Duration::from_secs(node.config.poll_s.max(1));
    let task = tokio::spawn(async move {
        loop {
            run_once(&n).await;
            tokio::time::sleep(every).await;
        }
    });
    gongwen_net::log::info(
        "機關代理程式已啟動",
        serde_json::json!({ "agencies": node.agencies.iter().map(|a| a.code.as_str()).collect::<Vec<_>>() }),
    );
    Ok(Running { node, task })
}

/// One round for every agency: send what is ready, receive what is waiting.
pub async fn run_once(node: &Shared) {
    for a in &node.agencies {
        if let Err(e) = send_folder(node, a).await {
            gongwen_net::log::warn(
                "送件未完成，稍後重試",
                serde_json::json!({ "agency": a.code.as_str(), "detail": e }),
            );
        }
        if let Err(e) = receive(node, a).await {
            gongwen_net::log::warn(
                "收件未完成，稍後重試",
                serde_json::json!({ "agency": a.code.as_str(), "detail": e }),
            );
        }
    }
}

/// Is this a refusal (the center read the request and said no), not a failure to reach it?
fn refused(e: &ClientError) -> bool {
    e.status().is_some_and(|s| (400..500).contains(&s))
}

fn error_json(e: &ClientError) -> serde_json::Value {
    serde_json::json!({ "code": e.code().unwrap_or("E_TRANSPORT"), "message": e.to_string() })
}

/// Puts a set in `error/` with the reason in words and as JSON.
fn reject(
    f: &Folders,
    set: &OutboxSet,
    reason: &str,
    detail: serde_json::Value,
) -> Result<(), String> {
    let dir = folder::move_set(set, &f.error).map_err(|e| e.to_string())?;
    folder::write_atomically(&dir.join("原因.txt"), format!("{reason}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    folder::write_atomically(&dir.join("error.json"), detail.to_string().as_bytes())
        .map_err(|e| e.to_string())
}

async fn sent_row(
    node: &Node,
    a: &Agency,
    name: &str,
) -> Result<Option<(String, String, String)>, String> {
    node.db
        .fetch_optional(
            "SELECT idempotency_key, package_id, state FROM agent_sent WHERE agency = $1 AND name = $2",
            &[a.code.as_str().into(), name.into()],
        )
        .await
        .map_err(|e| e.to_string())?
        .map(|r| Ok((r.text(0)?, r.text(1)?, r.text(2)?)))
        .transpose()
        .map_err(|e: gongwen_store::StoreError| e.to_string())
}

async fn set_state(
    node: &Node,
    a: &Agency,
    name: &str,
    state: &str,
    detail: Option<&str>,
) -> Result<(), String> {
    node.db
        .execute(
            "UPDATE agent_sent SET state = $3, detail = $4, updated_at = $5 WHERE agency = $1 AND name = $2",
            &[a.code.as_str().into(), name.into(), state.into(), detail.into(), node.clock.now_ms().into()],
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Sends every complete set in the agency's outbox.
async fn send_folder(node: &Shared, a: &Agency) -> Result<(), String> {
    let Some(f) = &a.folders else {
        return Ok(());
    };
    let (ready, broken) = folder::scan(&f.outbox, Duration::from_secs(node.config.settle_s));
    for (set, why) in broken {
        reject(
            f,
            &set,
            &why,
            serde_json::json!({ "code": "E_DOC_MALFORMED", "message": why }),
        )?;
    }
    for set in ready {
        send_set(node, a, f, &set).await?;
    }
    Ok(())
}

async fn send_set(node: &Shared, a: &Agency, f: &Folders, set: &OutboxSet) -> Result<(), String> {
    let pkg_path =
        node.config
            .data_dir
            .join("outgoing")
            .join(format!("{}-{}.pkg", a.code.as_str(), set.name));
    let (key, state) = match sent_row(node, a, &set.name).await? {
        Some((key, _, state)) => (key, state),
        None => match seal(node, a, set, &pkg_path).await {
            Ok(key) => (key, "sealed".to_string()),
            Err(Sealing::Refused(code, reason)) => {
                return reject(
                    f,
                    set,
                    &reason,
                    serde_json::json!({ "code": code, "message": reason }),
                );
            }
            Err(Sealing::Retry(e)) => return Err(e),
        },
    };
    if state == "sealed" {
        let body = std::fs::read(&pkg_path).map_err(|e| format!("{}：{e}", pkg_path.display()))?;
        match a.center.submit(&key, body).await {
            Ok(sent) => {
                set_state(node, a, &set.name, "submitted", None).await?;
                let dir = folder::move_set(set, &f.sent).map_err(|e| e.to_string())?;
                let status = serde_json::to_vec_pretty(&sent).unwrap_or_default();
                folder::write_atomically(&dir.join("status.json"), &status)
                    .map_err(|e| e.to_string())?;
            }
            Err(e) if refused(&e) => {
                set_state(node, a, &set.name, "refused", Some(&e.to_string())).await?;
                reject(f, set, &format!("交換中心拒收：{e}"), error_json(&e))?;
            }
            Err(e) => return Err(format!("交換中心無法連線：{e}")),
        }
    } else {
        // Sent before a restart, not yet moved.
        folder::move_set(
            set,
            if state == "submitted" {
                &f.sent
            } else {
                &f.error
            },
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

enum Sealing {
    /// The set itself is wrong (or a recipient unknown): it goes to `error/`.
    Refused(&'static str, String),
    /// Something to try again (the center unreachable, a disk error).
    Retry(String),
}

/// Seals a set for its recipients (their encryption certificates from the center) into
/// `out`, and records it with a new Idempotency-Key. Returns the key.
async fn seal(
    node: &Shared,
    a: &Agency,
    set: &OutboxSet,
    out: &std::path::Path,
) -> Result<String, Sealing> {
    let read =
        |p: &PathBuf| std::fs::read(p).map_err(|e| Sealing::Retry(format!("{}：{e}", p.display())));
    let name_of = |p: &PathBuf| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let di = (name_of(&set.di), read(&set.di)?);
    let sw = match &set.sw {
        Some(p) => Some((name_of(p), read(p)?)),
        None => None,
    };
    if let Some(scanner) = &node.scanner {
        match scan::first_infected(scanner, &set.files()).await {
            Ok(None) => {}
            Ok(Some((file, sig))) => {
                return Err(Sealing::Refused(
                    "E_MALWARE",
                    format!("含惡意程式：{file} 驗出 {sig}，未送出"),
                ));
            }
            Err(e) => return Err(Sealing::Retry(e)),
        }
    }
    let codes = gongwen_trust::package::recipient_codes(&di.1, sw.as_ref().map(|s| s.1.as_slice()))
        .map_err(|e| Sealing::Refused("E_PKG_CONTENT", e.to_string()))?;
    let mut recipients = Vec::new();
    for code in &codes {
        match a.center.participant_certs(code).await {
            Ok(c) => recipients.extend(
                cms::load_certs(c.encryption.as_bytes())
                    .unwrap_or_default()
                    .into_iter()
                    .take(1),
            ),
            Err(e) if refused(&e) => {
                return Err(Sealing::Refused(
                    "E_RECIPIENT",
                    format!("收文者 {code}：{e}"),
                ));
            }
            Err(e) => return Err(Sealing::Retry(format!("交換中心無法連線：{e}"))),
        }
    }
    if recipients.is_empty() {
        return Err(Sealing::Refused(
            "E_RECIPIENT",
            "沒有任何收文者的加密憑證".into(),
        ));
    }
    let attachments: Vec<(String, PathBuf)> = set
        .attachments
        .iter()
        .map(|p| (name_of(p), p.clone()))
        .collect();
    let tmp = out.with_extension("tmp");
    let now = node.clock.now_s();
    let header = stream::seal_to_file(
        &StreamSeal {
            di,
            sw,
            attachments,
            signer: Signer {
                key: &a.sign_key,
                cert: &a.sign_cert,
                chain: &a.chain,
            },
            recipients: &recipients,
            options: HeaderOptions::default(),
            now,
        },
        &tmp,
    )
    .map_err(|e| match e {
        gongwen_trust::TrustError::Io { .. } => Sealing::Retry(e.to_string()),
        other => Sealing::Refused(other.code(), other.to_string()),
    })?;
    std::fs::rename(&tmp, out).map_err(|e| Sealing::Retry(e.to_string()))?;
    let key = random_hex(16);
    let now_ms = node.clock.now_ms();
    node.db
        .execute(
            "INSERT INTO agent_sent (agency, name, idempotency_key, package_id, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'sealed', $5, $5)",
            &[a.code.as_str().into(), set.name.as_str().into(), key.as_str().into(), header.id.as_str().into(), now_ms.into()],
        )
        .await
        .map_err(|e| Sealing::Retry(e.to_string()))?;
    Ok(key)
}

/// Fetches, opens and acknowledges everything waiting at the center for this agency; also
/// finishes what a restart interrupted (送達 signed, the rest not yet recorded).
async fn receive(node: &Shared, a: &Agency) -> Result<(), String> {
    for status in ["available", "delivered"] {
        let page = a
            .center
            .inbox(&[("status", status)])
            .await
            .map_err(|e| format!("交換中心無法連線：{e}"))?;
        for item in page.items {
            let known = node
                .db
                .fetch_optional(
                    "SELECT state FROM agent_received WHERE agency = $1 AND package_id = $2",
                    &[a.code.as_str().into(), item.id.as_str().into()],
                )
                .await
                .map_err(|e| e.to_string())?
                .is_some();
            if !known {
                receive_one(node, a, &item).await?;
            }
        }
    }
    Ok(())
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
) -> Result<(), String> {
    let pkg_path =
        node.config
            .data_dir
            .join("incoming")
            .join(format!("{}-{}.pkg", a.code.as_str(), item.id));
    if !pkg_path.is_file() {
        let body = a
            .center
            .fetch(&item.id)
            .await
            .map_err(|e| format!("下載 {}：{e}", item.id))?;
        folder::write_atomically(&pkg_path, &body).map_err(|e| e.to_string())?;
    }
    let header = stream::inspect_file(&pkg_path)
        .map_err(|e| e.to_string())?
        .header;
    let inbox = a
        .folders
        .as_ref()
        .map(|f| f.inbox.clone())
        .unwrap_or_else(|| node.config.data_dir.join("inbox").join(a.code.as_str()));
    let dest = inbox.join(&item.id);
    let quarantined =
        node.config
            .data_dir
            .join("quarantine")
            .join(format!("{}-{}", a.code.as_str(), item.id));
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
            Some((ReturnReason::Malware, what.clone())),
            ("quarantined", q.display().to_string()),
        ),
        Outcome::Unreadable(why) => (
            Some((ReturnReason::Unreadable, format!("無法開啟或驗證：{why}"))),
            ("returned", why.clone()),
        ),
    };
    acknowledge(node, a, item, &header, receipt).await?;
    node.db
        .execute(
            "INSERT INTO agent_received (agency, package_id, sender, doc_number, state, detail, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (agency, package_id) DO NOTHING",
            &[
                a.code.as_str().into(),
                item.id.as_str().into(),
                item.sender.as_str().into(),
                item.doc_number.as_str().into(),
                row.0.into(),
                row.1.into(),
                node.clock.now_ms().into(),
            ],
        )
        .await
        .map_err(|e| e.to_string())?;
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
            .map_err(|e| format!("資安事件通報：{e}"))?;
    }
    Ok(())
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
) -> Result<Outcome, String> {
    let sender_keys: Vec<[u8; 32]> = match a.center.participant_certs(&item.sender).await {
        Ok(c) => c
            .signing_keys
            .iter()
            .filter_map(|k| gongwen_trust::path::unhex32(k))
            .collect(),
        Err(e) if refused(&e) => Vec::new(),
        Err(e) => return Err(format!("交換中心無法連線：{e}")),
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
    let o = match stream::open_to_dir(pkg_path, &me, &node.trust, &bound, &tmp) {
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
                std::fs::create_dir_all(node.config.data_dir.join("quarantine"))
                    .map_err(|e| e.to_string())?;
                folder::write_atomically(&tmp.join("原因.txt"), format!("{what}\n").as_bytes())
                    .map_err(|e| e.to_string())?;
                std::fs::rename(&tmp, quarantined).map_err(|e| e.to_string())?;
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
    folder::write_atomically(&tmp.join("receipt.json"), record.to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, dest).map_err(|e| e.to_string())?;
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
) -> Result<(), String> {
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
            &Signer {
                key: &a.sign_key,
                cert: &a.sign_cert,
                chain: &a.chain,
            },
        )
        .map_err(|e| e.to_string())?;
        match a.center.receipt(&item.id, der).await {
            Ok(_) => {}
            Err(e) if e.code() == Some("E_COPY_STATE") => {}
            Err(e) => return Err(format!("{}回執：{e}", event.label())),
        }
    }
    Ok(())
}
