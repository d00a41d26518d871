//! The center's shared state, and who is calling.

use std::path::PathBuf;
use std::sync::Arc;

use der::Decode;
use gongwen_net::{Metrics, Peer};
use gongwen_proto::Code;
use gongwen_store::{Blobs, Db};
use gongwen_trust::path::{StaleCrl, TrustStore, spki_sha256};
use x509_cert::Certificate;

use crate::clock::Clock;
use crate::config::CenterConfig;
use crate::directory::{self, KeyUse, Standing};
use crate::error::{CenterError, Result};

pub struct App {
    pub config: CenterConfig,
    pub db: Db,
    pub blobs: Blobs,
    pub trust: TrustStore,
    pub clock: Clock,
    pub metrics: Metrics,
    /// Where uploads are written while they arrive.
    pub spool: PathBuf,
    /// Clients for peer centers and webhooks.
    pub links: crate::outbox::Links,
    /// Woken when work is queued, so relays go out at once.
    pub outbox_ready: tokio::sync::Notify,
    /// Peer centers by the SHA-256 of their TLS client key.
    pub peer_keys: Vec<(String, String)>,
}

pub type Shared = Arc<App>;

/// The participant behind a request, checked: known certificate, active, allowed address.
#[derive(Debug, Clone)]
pub struct Caller {
    pub code: String,
    pub operator: bool,
}

/// A peer center calling (relays and statuses).
#[derive(Debug, Clone)]
pub struct PeerCenter(pub String);

impl App {
    /// Identifies a peer center by its client certificate.
    pub fn peer(&self, peer: &Peer) -> Result<PeerCenter> {
        let leaf = peer
            .leaf()
            .ok_or_else(|| CenterError::bare(Code::AuthNoCert))?;
        let cert = Certificate::from_der(leaf)
            .map_err(|e| CenterError::new(Code::AuthNotPeer, e.to_string()))?;
        let spki = directory::hex(
            &spki_sha256(&cert).map_err(|e| CenterError::new(Code::AuthNotPeer, e.to_string()))?,
        );
        self.peer_keys
            .iter()
            .find(|(_, k)| *k == spki)
            .map(|(id, _)| PeerCenter(id.clone()))
            .ok_or_else(|| CenterError::new(Code::AuthNotPeer, format!("憑證「{}」", cert.tbs_certificate.subject)))
    }

    pub fn stale_crl(s: &str) -> StaleCrl {
        if s == "warn" {
            StaleCrl::Warn
        } else {
            StaleCrl::Refuse
        }
    }

    /// Identifies and checks the caller of an API request.
    pub async fn caller(&self, peer: &Peer) -> Result<Caller> {
        let leaf = peer
            .leaf()
            .ok_or_else(|| CenterError::bare(Code::AuthNoCert))?;
        let cert = Certificate::from_der(leaf)
            .map_err(|e| CenterError::new(Code::AuthUnknownCert, e.to_string()))?;
        let spki = directory::hex(
            &spki_sha256(&cert).map_err(|e| CenterError::new(Code::AuthUnknownCert, e.to_string()))?,
        );
        let code = directory::by_key(&self.db, &spki, KeyUse::Tls)
            .await?
            .ok_or_else(|| {
                CenterError::new(
                    Code::AuthUnknownCert,
                    format!("憑證「{}」（公鑰 SHA-256 {spki}）", cert.tbs_certificate.subject),
                )
            })?;
        let p = directory::get(&self.db, &code)
            .await?
            .ok_or_else(|| CenterError::new(Code::AuthUnknownCert, code.clone()))?;
        if p.standing != Standing::Active {
            return Err(CenterError::new(
                Code::AuthSuspended,
                format!(
                    "{}（{}）狀態為「{}」：{}",
                    p.name,
                    p.code,
                    p.standing.label(),
                    p.reason.as_deref().unwrap_or("未註明原因")
                ),
            ));
        }
        let rules = directory::ip_rules(&self.db, &code).await?;
        if !rules.iter().any(|r| directory::ip_matches(&r.ip, peer.ip)) {
            gongwen_net::log::warn(
                "來源 IP 不在允許清單，已拒絕",
                serde_json::json!({ "participant": code, "ip": peer.ip.to_string() }),
            );
            return Err(CenterError::new(
                Code::AuthIp,
                format!("{}（{}）自 {} 連線", p.name, code, peer.ip),
            ));
        }
        Ok(Caller {
            code,
            operator: p.operator,
        })
    }
}
