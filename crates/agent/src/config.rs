//! The agent's settings: the `[agent]` table of `gongwen.toml`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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
    #[serde(default)]
    pub clamd: Option<String>,
    /// The agencies this node serves.
    pub agencies: Vec<AgencyConfig>,
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
    #[serde(default)]
    pub folder: Option<PathBuf>,
}

fn default_db() -> String {
    "sqlite://gongwen-data/agent.db".into()
}
fn default_data_dir() -> PathBuf {
    "gongwen-data/agent".into()
}
fn default_poll() -> u64 {
    5
}
fn default_settle() -> u64 {
    2
}
