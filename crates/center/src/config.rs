//! The center's settings: the `[center]` table of `gongwen.toml`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The `[tls]` section, shared with the other services.
pub use gongwen_net::ServerTls as TlsConfig;

/// How a center runs. Paths are relative to the working directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CenterConfig {
    /// This center's id, as other centers and the records name it.
    #[serde(default = "default_id")]
    pub id: String,
    /// Address to listen on (HTTPS only).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// `sqlite://path` (default, one file) or `postgres://user@host/db`.
    #[serde(default = "default_db")]
    pub database_url: String,
    /// Where sealed bodies live: `fs` (content-addressed files under `data_dir/blobs`) or `db`
    /// (in the database, for several center processes on one PostgreSQL).
    #[serde(default = "default_blobs")]
    pub blob_store: String,
    /// Folder for blobs and upload spooling.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    pub tls: TlsConfig,
    /// Root certificates that package, receipt and client certificates must chain to.
    pub trust_anchors: Vec<PathBuf>,
    /// CRL files or folders.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
    /// `refuse` (default) or `warn` when a CA's CRL is missing or stale.
    #[serde(default = "default_stale")]
    pub stale_crl: String,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub retention: Retention,
    #[serde(default)]
    pub federation: Federation,
    /// Take participants, keys, addresses, shared groups and peer centers from the
    /// directory's signed snapshot instead of from `gongwen center admin`.
    #[serde(default)]
    pub directory: Option<DirectorySource>,
    /// Who may read `/metrics` without an operator's client certificate: addresses or
    /// CIDR blocks (`10.1.2.0/24`). Default: this machine only (127.0.0.1, ::1).
    #[serde(default = "default_metrics_allow")]
    pub metrics_allow: Vec<String>,
}

fn default_metrics_allow() -> Vec<String> {
    vec!["127.0.0.1".into(), "::1".into()]
}

/// Where the directory is and how its snapshots are recognised.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySource {
    /// The directory's API, e.g. `https://directory.example:8440`. The center calls it with
    /// its TLS client certificate (`federation.client_cert`).
    pub url: String,
    /// The directory's snapshot-signing certificate (PEM). A snapshot signed by any other key
    /// is refused.
    pub signer: PathBuf,
    /// How often (seconds) to ask for a newer snapshot.
    #[serde(default = "default_refresh")]
    pub refresh_s: u64,
}

fn default_refresh() -> u64 {
    60
}

/// Other centers this one relays to and accepts relays from, and how hard it tries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Federation {
    #[serde(default)]
    pub peers: Vec<PeerConfig>,
    /// This center's TLS client certificate (with chain) and key, for calling peers.
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    #[serde(default)]
    pub client_key: Option<PathBuf>,
    /// First retry after this many milliseconds; doubled each time up to `retry_max_ms`.
    #[serde(default = "default_retry_first")]
    pub retry_first_ms: u64,
    #[serde(default = "default_retry_max")]
    pub retry_max_ms: u64,
    /// After this many seconds of failures a relay gives up and the copy fails
    /// (`relay_gave_up`); a webhook is dropped (and recorded).
    #[serde(default = "default_give_up")]
    pub give_up_after_s: u64,
}

/// A peer center.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Its id, as participants' `center` names it.
    pub id: String,
    /// Its API, e.g. `https://center-b.example:8443`.
    pub url: String,
    /// Its TLS client certificate (PEM), by which it is recognised when it relays to us.
    pub cert: PathBuf,
}

impl Default for Federation {
    fn default() -> Self {
        Federation {
            peers: Vec::new(),
            client_cert: None,
            client_key: None,
            retry_first_ms: default_retry_first(),
            retry_max_ms: default_retry_max(),
            give_up_after_s: default_give_up(),
        }
    }
}

fn default_retry_first() -> u64 {
    1000
}
fn default_retry_max() -> u64 {
    600_000
}
fn default_give_up() -> u64 {
    3 * 86_400
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest sealed package accepted, in bytes.
    #[serde(default = "default_max_body")]
    pub max_package_bytes: u64,
    /// Attachment file extensions that may be exchanged (lower case, without the dot).
    #[serde(default = "default_extensions")]
    pub attachment_types: Vec<String>,
    /// Most recipients one package may have.
    #[serde(default = "default_max_recipients")]
    pub max_recipients: usize,
    /// Connections open at once; more are closed as soon as they are accepted.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Connections open at once from one address.
    #[serde(default = "default_max_connections_per_ip")]
    pub max_connections_per_ip: usize,
    /// Seconds a request body (a package upload included) may take to arrive after its
    /// headers; a slower one is cut (408 `E_HTTP_TIMEOUT`).
    #[serde(default = "default_body_timeout")]
    pub body_timeout_s: u64,
}

impl Limits {
    /// The listener's bounds.
    pub fn listener(&self) -> gongwen_net::Limits {
        gongwen_net::Limits {
            max_connections: self.max_connections.max(1),
            max_connections_per_ip: self.max_connections_per_ip.max(1),
            body_timeout: std::time::Duration::from_secs(self.body_timeout_s.max(1)),
        }
    }
}

fn default_max_connections() -> usize {
    gongwen_net::body::DEFAULT_MAX_CONNECTIONS
}
fn default_max_connections_per_ip() -> usize {
    gongwen_net::body::DEFAULT_MAX_CONNECTIONS_PER_IP
}
fn default_body_timeout() -> u64 {
    gongwen_net::body::DEFAULT_BODY_TIMEOUT_S
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Days every record (event, error) is kept; at least 365.
    #[serde(default = "default_record_days")]
    pub record_days: u32,
    /// Days a sealed body is kept after its last copy became final.
    #[serde(default = "default_body_days")]
    pub body_days_after_final: u32,
}

fn default_id() -> String {
    "center".into()
}
fn default_listen() -> String {
    "127.0.0.1:8443".into()
}
fn default_db() -> String {
    "sqlite://gongwen-data/center.db".into()
}
fn default_blobs() -> String {
    "fs".into()
}
fn default_data_dir() -> PathBuf {
    "gongwen-data/center".into()
}
fn default_stale() -> String {
    "refuse".into()
}
fn default_max_body() -> u64 {
    200 * 1024 * 1024
}
fn default_extensions() -> Vec<String> {
    ["pdf", "odt", "ods", "odp", "odg", "tif", "tiff"]
        .map(String::from)
        .to_vec()
}
fn default_max_recipients() -> usize {
    5000
}
fn default_record_days() -> u32 {
    365
}
fn default_body_days() -> u32 {
    90
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_package_bytes: default_max_body(),
            attachment_types: default_extensions(),
            max_recipients: default_max_recipients(),
            max_connections: default_max_connections(),
            max_connections_per_ip: default_max_connections_per_ip(),
            body_timeout_s: default_body_timeout(),
        }
    }
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            record_days: default_record_days(),
            body_days_after_final: default_body_days(),
        }
    }
}
