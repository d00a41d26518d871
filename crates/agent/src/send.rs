//! Sending: a set (DI, SW, attachments) is scanned, sealed to its recipients' encryption
//! certificates, and recorded with its Idempotency-Key before the center is called, so a
//! restart submits it once and never twice. Sets come from an outbox folder, or from the API
//! and the web client, which stage them under `data_dir/staged/<agency>/<name>/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gongwen_client::ClientError;
use gongwen_net::Refusal;
use gongwen_proto::api::SentPackage;
use gongwen_proto::{Code, PackageHeader};
use gongwen_store::{StoreError, random_hex};
use gongwen_trust::cms;
use gongwen_trust::package::stream::{self, StreamSeal};

use crate::error::{AgentError, center_code, refused};
use crate::folder::{self, Folders, OutboxSet};
use crate::options::SendOptions;
use crate::{Agency, Node, Shared, notify, scan};

fn error_json(e: &ClientError) -> serde_json::Value {
    serde_json::json!({ "code": e.code().unwrap_or("E_TRANSPORT"), "message": e.to_string() })
}

/// Where a staged set of the API or the web client is kept.
pub(crate) fn staged_dir(node: &Node, a: &Agency, name: &str) -> PathBuf {
    let staged = node.config.data_dir.join("staged");
    staged.join(a.code.as_str()).join(name)
}

/// Where a set's sealed package waits until the center has it.
pub(crate) fn package_path(node: &Node, a: &Agency, name: &str) -> PathBuf {
    node.config
        .data_dir
        .join("outgoing")
        .join(format!("{}-{name}.pkg", a.code.as_str()))
}

/// Puts a set in `dest/<name>/` with `notes` (file name, bytes) written there first: once
/// the DI has left the outbox nothing finds the set again, so what goes with it is in place
/// before (a crash in between writes it again next round).
fn finish(dest: &Path, set: &OutboxSet, notes: &[(&str, &[u8])]) -> Result<(), AgentError> {
    let dir = dest.join(&set.name);
    std::fs::create_dir_all(&dir).map_err(AgentError::io(&dir))?;
    for (name, bytes) in notes {
        let path = dir.join(name);
        folder::write_atomically(&path, bytes).map_err(AgentError::io(path))?;
    }
    folder::move_set(set, dest).map_err(AgentError::io(dir))?;
    Ok(())
}

/// Puts a set in `error/` with the reason in words and as JSON.
fn reject(
    f: &Folders,
    set: &OutboxSet,
    reason: &str,
    detail: serde_json::Value,
) -> Result<(), AgentError> {
    finish(
        &f.error,
        set,
        &[
            ("原因.txt", format!("{reason}\n").as_bytes()),
            ("error.json", detail.to_string().as_bytes()),
        ],
    )
}

/// What the agent recorded of one set.
pub(crate) struct SentRow {
    pub key: String,
    pub package_id: String,
    pub state: String,
    pub detail: Option<String>,
}

pub(crate) async fn sent_row(
    node: &Node,
    a: &Agency,
    name: &str,
) -> Result<Option<SentRow>, StoreError> {
    node.db
        .fetch_optional(
            "SELECT idempotency_key, package_id, state, detail FROM agent_sent WHERE agency = $1 AND name = $2",
            &[a.code.as_str().into(), name.into()],
        )
        .await?
        .map(|r| {
            Ok(SentRow {
                key: r.text(0)?,
                package_id: r.text(1)?,
                state: r.text(2)?,
                detail: r.opt_text(3)?,
            })
        })
        .transpose()
}

async fn set_state(
    node: &Node,
    a: &Agency,
    name: &str,
    state: &str,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    node.db
        .execute(
            "UPDATE agent_sent SET state = $3, detail = $4, updated_at = $5 WHERE agency = $1 AND name = $2",
            &[a.code.as_str().into(), name.into(), state.into(), detail.into(), node.clock.now_ms().into()],
        )
        .await
        .map(|_| ())
}

/// What the center made of a sealed set.
pub(crate) enum Submitted {
    Sent(Box<SentPackage>),
    /// It could not be reached: the set stays sealed and is tried again.
    Queued(AgentError),
    Refused(ClientError),
}

/// Submits a sealed set once and records the answer; the webhook hears of it.
pub(crate) async fn submit(
    node: &Node,
    a: &Agency,
    name: &str,
    key: &str,
) -> Result<Submitted, AgentError> {
    let path = package_path(node, a, name);
    let body = std::fs::read(&path).map_err(AgentError::io(&path))?;
    Ok(match a.center.submit(key, body).await {
        Ok(sent) => {
            set_state(node, a, name, "submitted", None).await?;
            notify::enqueue(
                node,
                a,
                "sent",
                serde_json::json!({ "name": name, "package": &sent }),
            )
            .await?;
            Submitted::Sent(Box::new(sent))
        }
        Err(e) if refused(&e) => {
            set_state(node, a, name, "refused", Some(&e.to_string())).await?;
            notify::enqueue(
                node,
                a,
                "refused",
                serde_json::json!({ "name": name, "error": error_json(&e) }),
            )
            .await?;
            Submitted::Refused(e)
        }
        Err(e) => Submitted::Queued(AgentError::Unreachable(e)),
    })
}

/// Sends every complete set in the agency's outbox. Each set stands alone: one that cannot be
/// moved or sent now is logged, tried again next round and never holds up the sets behind
/// it. Only a center that cannot be reached ends the round.
pub(crate) async fn send_folder(node: &Shared, a: &Agency) -> Result<(), AgentError> {
    let Some(f) = &a.folders else {
        return Ok(());
    };
    let scanned = folder::scan(&f.outbox, Duration::from_secs(node.config.settle_s));
    let alone = |set: &OutboxSet, r: Result<(), AgentError>| match r {
        Err(e @ AgentError::Unreachable(_)) => Err(e),
        Err(e) => {
            gongwen_net::log::warn(
                "送件未完成，稍後重試",
                serde_json::json!({ "agency": a.code.as_str(), "set": set.name, "detail": e.to_string() }),
            );
            Ok(())
        }
        Ok(()) => Ok(()),
    };
    // A set whose move was cut short (submitted or refused before a restart): finished.
    for set in scanned.incomplete {
        let begun = matches!(
            sent_row(node, a, &set.name).await,
            Ok(Some(row)) if row.state == "submitted" || row.state == "refused"
        );
        if begun {
            alone(&set, send_set(node, a, f, &set).await)?;
        }
    }
    for (set, why) in scanned.broken {
        let json = serde_json::json!({ "code": "E_DOC_MALFORMED", "message": why });
        alone(&set, reject(f, &set, &why, json))?;
    }
    for set in scanned.ready {
        alone(&set, send_set(node, a, f, &set).await)?;
    }
    Ok(())
}

async fn send_set(
    node: &Shared,
    a: &Agency,
    f: &Folders,
    set: &OutboxSet,
) -> Result<(), AgentError> {
    let (key, state, package_id, detail) = match sent_row(node, a, &set.name).await? {
        Some(row) => (row.key, row.state, row.package_id, row.detail),
        None => match seal(node, a, set, "folder").await {
            Ok((key, header)) => (key, "sealed".to_string(), header.id, None),
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
        match submit(node, a, &set.name, &key).await? {
            Submitted::Sent(sent) => {
                let status = serde_json::to_vec_pretty(&sent).unwrap_or_default();
                finish(&f.sent, set, &[("status.json", &status)])?;
            }
            Submitted::Refused(e) => {
                reject(f, set, &format!("交換中心拒收：{e}"), error_json(&e))?;
            }
            Submitted::Queued(e) => return Err(e),
        }
    } else if state == "submitted" {
        // Sent before a restart, not yet moved: with the status the center gives now, so
        // sent/ always holds status.json (the document system reads the package id there).
        let sent = a
            .center
            .sent(&package_id)
            .await
            .map_err(AgentError::Unreachable)?;
        let status = serde_json::to_vec_pretty(&sent).unwrap_or_default();
        finish(&f.sent, set, &[("status.json", &status)])?;
    } else {
        // Refused before a restart, not yet moved: with the reason recorded then.
        let detail = detail.unwrap_or_else(|| "交換中心拒收".into());
        let code = detail
            .split(|c: char| c.is_whitespace() || c == '：')
            .find(|w| w.starts_with("E_"))
            .unwrap_or("E_TRANSPORT");
        reject(
            f,
            set,
            &format!("交換中心拒收：{detail}"),
            serde_json::json!({ "code": code, "message": detail }),
        )?;
    }
    Ok(())
}

/// Sets from the API or the web client that were sealed while the center could not be
/// reached: tried again every round.
pub(crate) async fn resubmit(node: &Shared, a: &Agency) -> Result<(), AgentError> {
    let rows = node
        .db
        .fetch_all(
            "SELECT name, idempotency_key FROM agent_sent WHERE agency = $1 AND state = 'sealed' AND source <> 'folder' ORDER BY created_at",
            &[a.code.as_str().into()],
        )
        .await?;
    for r in rows {
        let (name, key) = (r.text(0)?, r.text(1)?);
        if let Submitted::Queued(e) = submit(node, a, &name, &key).await? {
            return Err(e);
        }
    }
    Ok(())
}

/// One request per staged set at a time. Two requests with one Idempotency-Key would
/// otherwise fill and empty the same staging folder at once; the second now waits for the
/// first and answers what became of it.
#[derive(Default)]
pub struct Claims(std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

/// A set's name held by one request; let go when dropped.
pub struct Claim<'a> {
    claims: &'a Claims,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Claims {
    pub async fn claim(&self, agency: &str, name: &str) -> Claim<'_> {
        let key = format!("{agency}/{name}");
        let lock = {
            let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key.clone()).or_default().clone()
        };
        let guard = lock.lock_owned().await;
        Claim {
            claims: self,
            key,
            guard: Some(guard),
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.guard.take();
        let mut map = self.claims.0.lock().unwrap_or_else(|p| p.into_inner());
        // Nobody else holds or waits for it: forget the name.
        if map
            .get(&self.key)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            map.remove(&self.key);
        }
    }
}

/// Gives a draft's number back when its set was never sealed. Once a package carries the
/// number it is spent, whatever the center answered, so no two packages share one.
pub(crate) async fn give_back_unsealed(
    node: &Node,
    a: &Agency,
    name: &str,
    taken: Option<crate::compose::Taken>,
) {
    let Some(t) = taken else { return };
    if matches!(sent_row(node, a, name).await, Ok(None)) {
        let _ = crate::compose::give_back(&node.db, a.code.as_str(), t.year, t.serial).await;
    }
}

/// What the API and the web client get for a staged set.
pub struct SendResult {
    pub name: String,
    pub package_id: String,
    /// `submitted`, or `sealed` (waiting for the center; tried again every round).
    pub state: String,
    pub package: Option<SentPackage>,
    pub detail: Option<String>,
}

/// Seals and submits a staged set once: the same name again (a retried request) answers
/// what became of the first.
pub async fn send_staged(
    node: &Shared,
    a: &Agency,
    set: &OutboxSet,
    source: &str,
) -> Result<SendResult, Refusal> {
    let (key, package_id, state, detail) = match sent_row(node, a, &set.name).await? {
        Some(row) => (row.key, row.package_id, row.state, row.detail),
        None => match seal(node, a, set, source).await {
            Ok((key, header)) => (key, header.id, "sealed".to_string(), None),
            Err(Sealing::Refused(code, reason)) => {
                return Err(Refusal::new(
                    Code::parse(code).unwrap_or(Code::AgentDocument),
                    format!("{code}：{reason}"),
                ));
            }
            Err(Sealing::Retry(e)) => return Err(e.into()),
        },
    };
    let mut out = SendResult {
        name: set.name.clone(),
        package_id,
        state,
        package: None,
        detail,
    };
    if out.state == "sealed" {
        match submit(node, a, &set.name, &key).await? {
            Submitted::Sent(p) => {
                out.state = "submitted".into();
                out.package = Some(*p);
            }
            Submitted::Queued(e) => out.detail = Some(e.to_string()),
            Submitted::Refused(e) => return Err(refusal_of(&e)),
        }
    } else if out.state == "refused" {
        return Err(Refusal::new(
            Code::BadRequest,
            out.detail.unwrap_or_else(|| "交換中心拒收".into()),
        ));
    }
    Ok(out)
}

/// A center's answer passed on with its own code.
pub(crate) fn refusal_of(e: &ClientError) -> Refusal {
    Refusal::new(center_code(e), e.to_string())
}

pub(crate) enum Sealing {
    /// The set itself is wrong (or a recipient unknown): it goes to `error/`.
    Refused(&'static str, String),
    /// Something to try again (the center unreachable, a disk error).
    Retry(AgentError),
}

/// Seals a set for its recipients (their encryption certificates from the center) into
/// `out`, and records it with a new Idempotency-Key. Returns the key.
pub(crate) async fn seal(
    node: &Shared,
    a: &Agency,
    set: &OutboxSet,
    source: &str,
) -> Result<(String, PackageHeader), Sealing> {
    let out = &package_path(node, a, &set.name);
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| Sealing::Retry(AgentError::io(p)(e)));
    let di = (folder::dir_name(&set.di), read(&set.di)?);
    let sw = match &set.sw {
        Some(p) => Some((folder::dir_name(p), read(p)?)),
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
            Err(e) => return Err(Sealing::Retry(AgentError::Unreachable(e))),
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
        .map(|p| (folder::dir_name(p), p.clone()))
        .collect();
    let options = match &set.options {
        Some(p) => SendOptions::read(p).map_err(|e| Sealing::Refused("E_AGENT_DOCUMENT", e))?,
        None => SendOptions::default(),
    };
    let options = options
        .header_options(&node.db, a.code.as_str())
        .await
        .map_err(|e| match e {
            AgentError::Refused(r) => Sealing::Refused("E_AGENT_DOCUMENT", r.detail),
            other => Sealing::Retry(other),
        })?;
    let tmp = out.with_extension("tmp");
    let now = node.clock.now_s();
    let header = stream::seal_to_file(
        &StreamSeal {
            di,
            sw,
            attachments,
            signer: a.signer(),
            recipients: &recipients,
            options,
            now,
        },
        &tmp,
    )
    .map_err(|e| match e {
        gongwen_trust::TrustError::Io { .. } => Sealing::Retry(AgentError::trust("")(e)),
        other => Sealing::Refused(other.code(), other.to_string()),
    })?;
    std::fs::rename(&tmp, out).map_err(|e| Sealing::Retry(AgentError::io(out)(e)))?;
    let key = random_hex(16);
    let now_ms = node.clock.now_ms();
    node.db
        .execute(
            "INSERT INTO agent_sent (agency, name, idempotency_key, package_id, state, created_at, updated_at, source, doc_number, subject) \
             VALUES ($1, $2, $3, $4, 'sealed', $5, $5, $6, $7, $8)",
            &[
                a.code.as_str().into(),
                set.name.as_str().into(),
                key.as_str().into(),
                header.id.as_str().into(),
                now_ms.into(),
                source.into(),
                header.doc_number.as_str().into(),
                header.subject.as_str().into(),
            ],
        )
        .await
        .map_err(|e| Sealing::Retry(e.into()))?;
    Ok((key, header))
}

/// The DI of a document this agent sent for `a`, read from where its set was kept (the
/// folder's sent/ or the staging of the API and the web client): to print it again.
pub async fn sent_document(node: &Node, a: &Agency, id: &str) -> Result<gongwen_doc::Di, Refusal> {
    let row = node
        .db
        .fetch_optional(
            "SELECT name, source FROM agent_sent WHERE agency = $1 AND package_id = $2",
            &[a.code.as_str().into(), id.into()],
        )
        .await?
        .ok_or_else(|| Refusal::new(Code::NotFound, format!("本代理程式沒有送出 {id} 的檔案")))?;
    let (name, source) = (row.text("name")?, row.text("source")?);
    let dir = match (&a.folders, source.as_str()) {
        (Some(f), "folder") => f.sent.join(&name),
        _ => staged_dir(node, a, &name),
    };
    let di = folder::find_di(&dir)
        .ok_or_else(|| Refusal::new(Code::NotFound, format!("{} 沒有 DI", dir.display())))?;
    let bytes = std::fs::read(&di).map_err(|e| Refusal::new(Code::Internal, e.to_string()))?;
    gongwen_doc::read_di(&bytes).map_err(|e| Refusal::new(Code::AgentDocument, e.to_string()))
}
