//! The center's shared state, and who is calling.

use std::path::PathBuf;
use std::sync::Arc;

use der::Decode;
use gongwen_net::{Clock, Metrics, Peer};
use gongwen_proto::Code;
use gongwen_store::{Blobs, Db};
use gongwen_trust::TrustError;
use gongwen_trust::path::{Evaluation, LiveTrust, Purpose, spki_sha256};
use x509_cert::Certificate;

use crate::Result;
use crate::config::CenterConfig;
use crate::participants::{self, Standing};
use gongwen_net::Refusal;

pub struct App {
    pub config: CenterConfig,
    pub db: Db,
    pub blobs: Blobs,
    /// Anchors and CRLs; the CRLs follow their files.
    pub trust: LiveTrust,
    pub clock: Clock,
    pub metrics: Metrics,
    /// Where uploads are written while they arrive.
    pub spool: PathBuf,
    /// Clients for peer centers and webhooks.
    pub links: Links,
    /// Woken when work is queued, so relays go out at once.
    pub outbox_ready: tokio::sync::Notify,
    /// Peer centers by the SHA-256 of their TLS client key (configured, then the snapshot's).
    pub peer_keys: std::sync::RwLock<Vec<(String, String)>>,
    /// The directory, when the center runs from its snapshots.
    pub directory: Option<gongwen_client::DirectoryClient>,
    /// When the directory snapshot this center runs on expires (Unix ms); `i64::MAX` when
    /// the center is not run from a directory.
    pub snapshot_valid_until: std::sync::atomic::AtomicI64,
    /// Who a TLS key belongs to, with standing and allowed addresses.
    pub callers: participants::Cache<String, Option<Who>>,
    /// Participants by code.
    pub participants: participants::Cache<String, Option<participants::Participant>>,
    /// Signing keys registered per participant.
    pub signing_keys: participants::Cache<String, Vec<[u8; 32]>>,
    /// Participants that want webhooks.
    pub hooked: participants::Cache<(), Vec<String>>,
    /// Bodies submitted lately, for their recipients' downloads.
    pub recent: crate::recent::RecentBodies,
    /// Chain evaluations of signing certificates seen recently, with the generation of the
    /// trust store (its CRLs) they were made with.
    pub evaluations: std::sync::Mutex<std::collections::HashMap<[u8; 32], CachedEvaluation>>,
}

/// How long a chain evaluation is reused (seconds). An evaluation made before the CRLs were
/// reloaded is not reused.
const EVALUATION_TTL_S: i64 = 60;

pub type Shared = Arc<App>;

/// A cached chain evaluation: when it was made (Unix s), the trust store's generation it was
/// made with, the certificate, and the result.
pub type CachedEvaluation = (i64, u64, Certificate, Evaluation);

/// The participant behind a request, checked: known certificate, active, allowed address.
#[derive(Debug, Clone)]
pub struct Caller {
    pub code: String,
    pub operator: bool,
}

/// A participant as the caller check needs it.
#[derive(Debug, Clone)]
pub struct Who {
    pub code: String,
    pub name: String,
    pub standing: Standing,
    pub reason: Option<String>,
    pub operator: bool,
    pub ips: Vec<String>,
}

/// A peer center calling (relays and statuses).
#[derive(Debug, Clone)]
pub struct PeerCenter(pub String);

impl App {
    /// Refuses everything once the directory snapshot this center runs on has expired.
    fn check_snapshot(&self, now: i64) -> Result<()> {
        let valid_until = self
            .snapshot_valid_until
            .load(std::sync::atomic::Ordering::Acquire);
        if now < valid_until {
            return Ok(());
        }
        Err(Refusal::new(
            Code::DirectoryStale,
            if valid_until == i64::MIN {
                "尚未取得通訊錄快照".to_string()
            } else {
                format!(
                    "手上的通訊錄快照已於 {} 過期",
                    gongwen_trust::path::roc_datetime(valid_until / 1000)
                )
            },
        ))
    }

    /// Identifies a peer center by its client certificate.
    pub fn peer(&self, peer: &Peer) -> Result<PeerCenter> {
        self.check_snapshot(self.clock.now_ms())?;
        let leaf = peer.leaf().ok_or_else(|| Refusal::bare(Code::AuthNoCert))?;
        let cert = Certificate::from_der(leaf)
            .map_err(|e| Refusal::new(Code::AuthNotPeer, e.to_string()))?;
        let spki = participants::hex(
            &spki_sha256(&cert).map_err(|e| Refusal::new(Code::AuthNotPeer, e.to_string()))?,
        );
        self.peer_keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(_, k)| *k == spki)
            .map(|(id, _)| PeerCenter(id.clone()))
            .ok_or_else(|| {
                Refusal::new(
                    Code::AuthNotPeer,
                    format!("憑證「{}」", cert.tbs_certificate.subject),
                )
            })
    }

    /// The signing chain of `cert` at `at`, from the cache when it was checked within a minute.
    pub fn evaluate_signing(
        &self,
        cert: &Certificate,
        chain: &[Certificate],
        at: i64,
    ) -> std::result::Result<Evaluation, TrustError> {
        // Looked up by serial number and signature value (cheap, unlike encoding the whole
        // certificate again), and used only for a certificate equal in every field.
        let mut key = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        key.update(cert.tbs_certificate.serial_number.as_bytes());
        key.update(cert.signature.raw_bytes());
        let mut k = [0u8; 32];
        k.copy_from_slice(key.finish().as_ref());
        let now = self.clock.now_s();
        let (trust, generation) = self.trust.current();
        if (now - at).abs() <= EVALUATION_TTL_S
            && let Some((t, g, seen, e)) = self
                .evaluations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&k)
            && (now - t).abs() <= EVALUATION_TTL_S
            && *g == generation
            && seen == cert
        {
            return Ok(e.clone());
        }
        let e = trust.evaluate(cert, chain, at, Purpose::Signing)?;
        if (now - at).abs() <= EVALUATION_TTL_S {
            let mut cache = self.evaluations.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(k, (now, generation, cert.clone(), e.clone()));
        }
        Ok(e)
    }

    /// One query: the participant behind a TLS key and its allowed addresses.
    async fn who(&self, spki: &str) -> Result<Option<Who>> {
        let rows = self
            .db
            .fetch_all(
                "SELECT p.code, p.name, p.state, p.state_reason, p.operator, i.ip FROM participant_keys k \
                 JOIN participants p ON p.code = k.code LEFT JOIN participant_ips i ON i.code = p.code \
                 WHERE k.spki_sha256 = $1 AND k.usage = 'tls' AND p.center IS NULL",
                &[spki.into()],
            )
            .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let mut ips = Vec::new();
        for r in &rows {
            ips.extend(r.opt_text(5)?);
        }
        Ok(Some(Who {
            code: first.text(0)?,
            name: first.text(1)?,
            standing: Standing::parse(&first.text(2)?).unwrap_or(Standing::Suspended),
            reason: first.opt_text(3)?,
            operator: first.bool(4)?,
            ips,
        }))
    }

    /// A participant by code.
    pub async fn participant(&self, code: &str) -> Result<Option<participants::Participant>> {
        let load = participants::get(&self.db, code);
        self.participants
            .get_or_load(code.to_string(), self.clock.now_ms(), load)
            .await
    }

    /// The signing keys registered for `code`.
    pub async fn signing_keys(&self, code: &str) -> Result<Vec<[u8; 32]>> {
        let load = participants::keys(&self.db, code, participants::KeyUse::Signing);
        self.signing_keys
            .get_or_load(code.to_string(), self.clock.now_ms(), load)
            .await
    }

    /// Identifies and checks the caller of an API request.
    pub async fn caller(&self, peer: &Peer) -> Result<Caller> {
        let leaf = peer.leaf().ok_or_else(|| Refusal::bare(Code::AuthNoCert))?;
        let spki = peer
            .key
            .as_deref()
            .ok_or_else(|| Refusal::new(Code::AuthUnknownCert, "憑證無法解析"))?
            .to_string();
        let now = self.clock.now_ms();
        self.check_snapshot(now)?;
        let who = self
            .callers
            .get_or_load(spki.clone(), now, self.who(&spki))
            .await?;
        let Who {
            code,
            name,
            standing,
            reason,
            operator,
            ips,
        } = who.ok_or_else(|| {
            let subject = Certificate::from_der(leaf)
                .map(|c| c.tbs_certificate.subject.to_string())
                .unwrap_or_default();
            Refusal::new(
                Code::AuthUnknownCert,
                format!("憑證「{subject}」（公鑰 SHA-256 {spki}）"),
            )
        })?;
        if standing != Standing::Active {
            return Err(Refusal::new(
                Code::AuthSuspended,
                format!(
                    "{name}（{code}）狀態為「{}」：{}",
                    standing.label(),
                    reason.as_deref().unwrap_or("未註明原因")
                ),
            ));
        }
        if !ips
            .iter()
            .any(|rule| participants::ip_matches(rule, peer.ip))
        {
            gongwen_net::log::warn(
                "來源 IP 不在允許清單，已拒絕",
                serde_json::json!({ "participant": code, "ip": peer.ip.to_string() }),
            );
            return Err(Refusal::new(
                Code::AuthIp,
                format!("{name}（{code}）自 {} 連線", peer.ip),
            ));
        }
        Ok(Caller { code, operator })
    }
}

/// Clients for the peers and for webhooks. Peers from the configuration are set at start;
/// the directory's snapshot may add and change them.
pub struct Links {
    pub peers: std::sync::RwLock<std::collections::HashMap<String, gongwen_client::CenterClient>>,
    pub http: reqwest::Client,
    /// TLS with this center's client certificate, for clients made later.
    pub peer_tls: Option<rustls::ClientConfig>,
}

impl Links {
    pub fn peer(&self, id: &str) -> Option<gongwen_client::CenterClient> {
        self.peers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }
}
