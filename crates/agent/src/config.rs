//! The agent's settings: the `[agent]` table of `gongwen.toml`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The `[tls]` section, shared with the other services.
pub use gongwen_net::ServerTls as ApiTls;

/// How an agent runs. Paths are relative to the working directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// `sqlite://path` (default) or `postgres://user@host/db`.
    #[serde(default = "default_db")]
    pub database_url: String,
    /// Sealed and received packages are kept here.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Root certificates that senders' signing certificates (and the center's TLS) chain to.
    pub trust_anchors: Vec<PathBuf>,
    /// CRL files or folders.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
    /// Seconds between two looks at the outboxes and the center's inboxes.
    #[serde(default = "default_poll")]
    pub poll_s: u64,
    /// Seconds a set dropped in an outbox must stay unchanged before it is taken, so a set
    /// still being copied is never sent half-written.
    #[serde(default = "default_settle")]
    pub settle_s: u64,
    /// ClamAV's daemon: a unix socket path or `host:port`. Documents and attachments are
    /// scanned before sealing and after opening; without it nothing is scanned (a warning at
    /// start-up says so).
    pub clamd: Option<String>,
    /// The document-system API (and, later, the web client). Without it the node works from
    /// folders only.
    pub api: Option<ApiConfig>,
    /// Days the agent keeps what it sent and received (its copies, packages and sign-in
    /// records); at least 365, the records rule.
    #[serde(default = "default_retention")]
    pub retention_days: u32,
    /// The web client, served on the API's listener.
    #[serde(default)]
    pub web: WebConfig,
    /// Permissions (octal) of received documents in folder-mode inboxes, for the agency's
    /// document system to read them: `0640` by default (owner reads and writes, the folder's
    /// group reads); the sets' folders get the same plus `x` (`0750`). Everything else the
    /// node keeps (its database, packages, staged copies, the web client's inboxes) is the
    /// node's alone: files `0600`, folders `0700`.
    #[serde(default = "default_inbox_mode")]
    pub inbox_mode: String,
    /// The agencies this node serves.
    pub agencies: Vec<AgencyConfig>,
}

/// Where the document-system API listens and how callers prove who they are. A field left
/// out takes its value from [`ApiConfig::default`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// `127.0.0.1:8450` by default. Plain HTTP is allowed on a loopback address only; any
    /// other address needs `tls`.
    pub listen: String,
    /// HTTPS; with `client_roots`, callers may also identify by client certificate.
    pub tls: Option<ApiTls>,
    /// Largest upload (DI, SW and attachments together), in MiB. Only the upload routes
    /// (`POST /api/v1/documents`, the web client's compose page) read this much, and only
    /// once the caller is known; every other route reads at most 64 KiB.
    pub max_upload_mb: u64,
    /// Connections open at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Connections open at once from one address (a reverse proxy counts as one address).
    pub max_connections_per_ip: usize,
    /// Seconds a request body may take to arrive after its headers; a slower one is cut
    /// (408 `E_HTTP_TIMEOUT`).
    pub body_timeout_s: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: "127.0.0.1:8450".into(),
            tls: None,
            max_upload_mb: 200,
            max_connections: gongwen_net::body::DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: gongwen_net::body::DEFAULT_MAX_CONNECTIONS_PER_IP,
            body_timeout_s: gongwen_net::body::DEFAULT_BODY_TIMEOUT_S,
        }
    }
}

impl ApiConfig {
    /// The largest upload, in bytes.
    pub fn upload_limit(&self) -> usize {
        usize::try_from(self.max_upload_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }

    /// The listener's bounds.
    pub fn limits(&self) -> gongwen_net::Limits {
        gongwen_net::body::limits(
            self.max_connections,
            self.max_connections_per_ip,
            self.body_timeout_s,
        )
    }
}

/// The web client (WebjAgent). A field left out takes its value from [`WebConfig::default`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Where the sign-in page finds the local signing program (`gongwen signer serve`) on
    /// the clerk's PC.
    pub signer_url: String,
    /// Printed on a sent document mailed on paper to a recipient that did not confirm.
    pub paper_mark: String,
    /// The directory's pages, for the link to apply for changes (異動).
    pub directory_url: Option<String>,
    /// The addresses (origins: `https://host[:port]`) people open the web client at. Sign-in
    /// challenges name one of them, and sign-in posts from any other site are refused.
    /// Empty: the listener's own address (and `localhost` when it is a loopback address).
    /// Behind a reverse proxy, list the address people type.
    pub origins: Vec<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            signer_url: "http://127.0.0.1:61161".into(),
            paper_mark: "已電子交換未確認".into(),
            directory_url: None,
            origins: Vec::new(),
        }
    }
}

/// Where the agency's document system hears of new documents and status changes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// HMAC-SHA256 key of the `Gongwen-Signature` header; keep it out of version control.
    pub secret: String,
}

/// One agency: its keys, its center, its folders.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyConfig {
    /// 機關代碼.
    pub code: String,
    /// Its center's API, e.g. `https://center.gov.taipei:8443`.
    pub center: String,
    /// TLS client certificate (with chain) and key registered for it at the center.
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// Signing certificate (with chain) and key: a PEM file or a `pkcs11:` URI.
    pub sign_cert: PathBuf,
    pub sign_key: String,
    /// Encryption certificate and key (PEM file or `pkcs11:` URI).
    pub enc_cert: PathBuf,
    pub enc_key: String,
    /// Folder mode: `outbox/`, `sent/`, `error/` and `inbox/` under this folder.
    pub folder: Option<PathBuf>,
    /// 機關全銜, written as 發文機關 when a draft has none.
    pub name: Option<String>,
    /// 發文代字 (e.g. 北市教): drafts without a 發文字號 get the next serial of this
    /// agency's series for the year.
    pub word: Option<String>,
    /// 地址 and 聯絡方式 the web client's form starts with.
    pub address: Option<String>,
    #[serde(default)]
    pub contact: Vec<String>,
    pub webhook: Option<WebhookConfig>,
}

fn default_inbox_mode() -> String {
    "0640".into()
}

impl AgentConfig {
    /// The folder-mode inbox's modes: (files, folders), or why `inbox_mode` cannot be used.
    pub fn inbox_modes(&self) -> Result<(u32, u32), String> {
        let m = u32::from_str_radix(self.inbox_mode.trim().trim_start_matches("0o"), 8)
            .ok()
            .filter(|m| *m <= 0o777 && *m & 0o600 == 0o600 && *m & 0o022 == 0)
            .ok_or_else(|| {
                format!(
                    "inbox_mode「{}」不能用：須為八進位權限，本身可讀寫（0600 以上），群組與其他人不可寫，例如 0640 或 0600",
                    self.inbox_mode
                )
            })?;
        // A folder can be entered by whoever may read in it.
        let x = (m & 0o444) >> 2;
        Ok((m, m | x))
    }
}

fn default_db() -> String {
    "sqlite://gongwen-data/agent.db".into()
}
fn default_data_dir() -> PathBuf {
    "gongwen-data/agent".into()
}
fn default_retention() -> u32 {
    365
}
fn default_poll() -> u64 {
    5
}
fn default_settle() -> u64 {
    2
}
