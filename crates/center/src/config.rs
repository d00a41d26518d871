//! The center's settings: the `[center]` table of `gongwen.toml`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use gongwen_trust::path::StaleCrl;

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
    #[serde(default)]
    pub blob_store: BlobStore,
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
    #[serde(default)]
    pub stale_crl: StaleCrl,
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

/// Where sealed bodies live: the `blob_store` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlobStore {
    /// Content-addressed pack files under `data_dir/blobs` (the default).
    #[default]
    Fs,
    /// In the database, for several center processes on one PostgreSQL.
    Db,
}

impl BlobStore {
    /// The values a configuration may give, as a person reads them.
    pub const ALLOWED: &str = "fs（本機檔案，預設）或 db（資料庫）";

    /// The value as written in a configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            BlobStore::Fs => "fs",
            BlobStore::Db => "db",
        }
    }
}

impl std::str::FromStr for BlobStore {
    /// What is wrong, in zh-TW, to be put after the field's name.
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fs" => Ok(BlobStore::Fs),
            "db" => Ok(BlobStore::Db),
            other => Err(format!("「{other}」不認得，應為 {}", Self::ALLOWED)),
        }
    }
}

impl Serialize for BlobStore {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BlobStore {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e| serde::de::Error::custom(format!("blob_store{e}")))
    }
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
#[serde(deny_unknown_fields, default)]
pub struct Federation {
    pub peers: Vec<PeerConfig>,
    /// This center's TLS client certificate (with chain) and key, for calling peers.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// First retry after this many milliseconds; doubled each time up to `retry_max_ms`.
    pub retry_first_ms: u64,
    pub retry_max_ms: u64,
    /// After this many seconds of failures a relay gives up and the copy fails
    /// (`relay_gave_up`); a webhook is dropped (and recorded).
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
            retry_first_ms: 1000,
            retry_max_ms: 600_000,
            give_up_after_s: 3 * 86_400,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest sealed package accepted, in bytes.
    pub max_package_bytes: u64,
    /// Attachment file extensions that may be exchanged (lower case, without the dot).
    pub attachment_types: Vec<String>,
    /// Most recipients one package may have.
    pub max_recipients: usize,
    /// Connections open at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Connections open at once from one address.
    pub max_connections_per_ip: usize,
    /// Seconds a request body (a package upload included) may take to arrive after its
    /// headers; a slower one is cut (408 `E_HTTP_TIMEOUT`).
    pub body_timeout_s: u64,
}

impl Limits {
    /// The listener's bounds.
    pub fn listener(&self) -> gongwen_net::Limits {
        gongwen_net::body::limits(
            self.max_connections,
            self.max_connections_per_ip,
            self.body_timeout_s,
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Days every record (event, error) is kept; at least 365.
    pub record_days: u32,
    /// Days a sealed body is kept after its last copy became final.
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
fn default_data_dir() -> PathBuf {
    "gongwen-data/center".into()
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_package_bytes: 200 * 1024 * 1024,
            attachment_types: ["pdf", "odt", "ods", "odp", "odg", "tif", "tiff"]
                .map(String::from)
                .to_vec(),
            max_recipients: 5000,
            max_connections: gongwen_net::body::DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: gongwen_net::body::DEFAULT_MAX_CONNECTIONS_PER_IP,
            body_timeout_s: gongwen_net::body::DEFAULT_BODY_TIMEOUT_S,
        }
    }
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            record_days: 365,
            body_days_after_final: 90,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BlobStore, CenterConfig, StaleCrl};

    const MINIMAL: &str =
        "trust_anchors = []\n[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\nclient_roots = []\n";

    fn parse(extra: &str) -> Result<CenterConfig, String> {
        toml::from_str(&format!("{extra}\n{MINIMAL}")).map_err(|e| e.to_string())
    }

    #[test]
    fn blob_store_reads_fs_and_db_and_refuses_others() {
        assert_eq!(parse("").unwrap().blob_store, BlobStore::Fs);
        assert_eq!(
            parse("blob_store = \"fs\"").unwrap().blob_store,
            BlobStore::Fs
        );
        assert_eq!(
            parse("blob_store = \"db\"").unwrap().blob_store,
            BlobStore::Db
        );
        let e = parse("blob_store = \"disk\"").unwrap_err();
        assert!(e.contains("blob_store「disk」不認得"), "{e}");
        assert!(e.contains("fs（") && e.contains("db（"), "{e}");
    }

    #[test]
    fn stale_crl_in_the_center_config_refuses_a_typo() {
        assert_eq!(parse("").unwrap().stale_crl, StaleCrl::Refuse);
        assert_eq!(
            parse("stale_crl = \"warn\"").unwrap().stale_crl,
            StaleCrl::Warn
        );
        let e = parse("stale_crl = \"warnn\"").unwrap_err();
        assert!(e.contains("stale_crl「warnn」不認得"), "{e}");
        assert!(e.contains("refuse（") && e.contains("warn（"), "{e}");
    }

    #[test]
    fn written_config_reads_back() {
        let mut c = parse("").unwrap();
        c.blob_store = BlobStore::Db;
        c.stale_crl = StaleCrl::Warn;
        let back: CenterConfig = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
        assert_eq!(back.blob_store, BlobStore::Db);
        assert_eq!(back.stale_crl, StaleCrl::Warn);
    }
}
