//! The agency node (機關層): for each agency it serves, it seals what the agency sends and
//! submits it to the agency's center, and fetches, opens and acknowledges (送達) what arrives.
//! Documents come and go through folders (the way jAgent is used) and through the
//! document-system API (`api`), which also tells the document system what happened
//! (`notify`).
//!
//! Nothing is lost or repeated across restarts: a sealed package and its Idempotency-Key are
//! recorded before the center is called, and a received package is written to the inbox
//! (all at once) before 送達 is signed, and only once.

pub mod api;
pub mod clients;
pub mod compose;
pub mod config;
pub mod error;
pub mod folder;
pub mod forms;
mod listener;
mod notify;
pub mod openapi;
pub mod options;
pub mod purge;
pub mod receive;
pub mod scan;
pub mod send;
pub mod signer;
pub mod stats;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use gongwen_client::CenterClient;
use gongwen_net::{Clock, Server, StartError};
use gongwen_store::Db;
use gongwen_trust::cms::{self, Signer};
use gongwen_trust::keys::PrivateKey;
use gongwen_trust::path::LiveTrust;
use x509_cert::Certificate;

pub use config::{AgencyConfig, AgentConfig, ApiConfig, ApiTls, WebConfig, WebhookConfig};
pub use error::AgentError;
use folder::Folders;

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
    pub name: Option<String>,
    pub word: Option<String>,
    pub address: Option<String>,
    pub contact: Vec<String>,
    pub webhook: Option<WebhookConfig>,
    /// Received items that failed, and when to try each again.
    receiving: receive::Retries,
}

impl Agency {
    /// The card's signing certificate: the one the web client's sign-in must be signed with.
    pub fn sign_cert(&self) -> &Certificate {
        &self.sign_cert
    }

    pub fn enc_cert(&self) -> &Certificate {
        &self.enc_cert
    }

    /// The center's address-book entry of `code`, if it is listed there.
    pub(crate) async fn listed(
        &self,
        code: &str,
    ) -> Result<Option<gongwen_proto::api::Listing>, gongwen_client::ClientError> {
        let found = self.center.search_participants(code, 5).await?;
        Ok(found.into_iter().find(|l| l.code == code))
    }

    pub(crate) fn signer(&self) -> Signer<'_> {
        Signer {
            key: &self.sign_key,
            cert: &self.sign_cert,
            chain: &self.chain,
        }
    }
}

pub struct Node {
    pub config: AgentConfig,
    pub scanner: Option<scan::Clamd>,
    pub db: Db,
    pub clock: Clock,
    /// Anchors and CRLs; the CRLs follow their files.
    pub trust: LiveTrust,
    pub agencies: Vec<Agency>,
    /// For webhooks.
    pub http: reqwest::Client,
    /// When the store was last purged (ms); once an hour is enough.
    last_purge: std::sync::atomic::AtomicI64,
    /// The folder-mode inbox's modes (files, folders), from `inbox_mode`, checked at start.
    inbox_modes: (u32, u32),
    /// Staged sets being sent by a request now.
    pub(crate) claims: send::Claims,
}

impl Node {
    pub fn agency(&self, code: &str) -> Option<&Agency> {
        self.agencies.iter().find(|a| a.code.as_str() == code)
    }
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
    let trust = LiveTrust::from_files(
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
    let inbox_modes = config.inbox_modes().map_err(|e| start_err("E_CONFIG", e))?;
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
            f.create(inbox_modes.1)
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
            name: a.name.clone(),
            word: a.word.clone(),
            address: a.address.clone(),
            contact: a.contact.clone(),
            webhook: a.webhook.clone(),
            receiving: Default::default(),
        });
    }
    let http = gongwen_client::plain_http(&roots).map_err(|e| start_err("E_CONFIG", e))?;
    // The node's own: packages, staged copies, the web client's inboxes.
    for sub in ["", "outgoing", "incoming", "staged", "inbox"] {
        folder::private_dir(&config.data_dir.join(sub))
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
        http,
        last_purge: std::sync::atomic::AtomicI64::new(0),
        inbox_modes,
        claims: Default::default(),
    }))
}

/// A node running its loops.
pub struct Running {
    pub node: Shared,
    task: tokio::task::JoinHandle<()>,
    /// The document-system API, when configured.
    pub api: Option<Server>,
}

impl Running {
    /// Where the API listens.
    pub fn api_addr(&self) -> Option<std::net::SocketAddr> {
        self.api.as_ref().map(|s| s.addr)
    }

    pub async fn shutdown(self) {
        if let Some(s) = self.api {
            s.shutdown().await;
        }
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
    let api = match &node.config.api {
        Some(c) => Some(listener::serve(node.clone(), c).await?),
        None => None,
    };
    gongwen_net::log::info(
        "機關代理程式已啟動",
        serde_json::json!({
            "agencies": node.agencies.iter().map(|a| a.code.as_str()).collect::<Vec<_>>(),
            "api": api.as_ref().map(|s| s.addr.to_string()),
        }),
    );
    Ok(Running { node, task, api })
}

/// One round for every agency: send what is ready, receive what is waiting, tell the
/// document system.
pub async fn run_once(node: &Shared) {
    for a in &node.agencies {
        let steps = [
            ("送件未完成，稍後重試", send::send_folder(node, a).await),
            ("送件未完成，稍後重試", send::resubmit(node, a).await),
            ("收件未完成，稍後重試", receive::receive(node, a).await),
            (
                "發文狀態查詢未完成，稍後重試",
                notify::watch_copies(node, a).await,
            ),
            ("通知未送達，稍後重試", notify::deliver(node, a).await),
        ];
        for (what, r) in steps {
            if let Err(e) = r {
                gongwen_net::log::warn(
                    what,
                    serde_json::json!({ "agency": a.code.as_str(), "detail": e.to_string() }),
                );
            }
        }
    }
    use std::sync::atomic::Ordering;
    let now = node.clock.now_ms();
    if now - node.last_purge.load(Ordering::Relaxed) >= 3_600_000 {
        node.last_purge.store(now, Ordering::Relaxed);
        match purge::run(node).await {
            Ok((0, 0)) => {}
            Ok((sent, received)) => gongwen_net::log::info(
                "已清除逾保存期限的收發資料",
                serde_json::json!({ "sent": sent, "received": received }),
            ),
            Err(e) => gongwen_net::log::warn(
                "清除逾保存期限的資料未完成",
                serde_json::json!({ "detail": e.to_string() }),
            ),
        }
    }
}

/// A unit test's own SQLite database (migrated, in a fresh temporary folder named `name`),
/// used inside a one-thread runtime and removed afterwards.
#[cfg(test)]
pub(crate) fn with_test_db<F, Fut>(name: &str, test: F)
where
    F: FnOnce(gongwen_store::Db) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = std::env::temp_dir().join(format!("gongwen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = gongwen_store::Db::connect(&format!("sqlite://{}", dir.join("t.db").display()))
            .await
            .unwrap();
        test(db).await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
