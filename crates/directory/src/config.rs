//! The directory's settings: the `[directory]` table of `gongwen.toml`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How the directory runs. Paths are relative to the working directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// Address to listen on (HTTPS only).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// `sqlite://path` (default, one file) or `postgres://user@host/db`.
    #[serde(default = "default_db")]
    pub database_url: String,
    pub tls: DirectoryTls,
    /// The key that signs snapshots, and its certificate (centers pin this certificate).
    pub signing: SigningConfig,
    /// Root certificates that applicants' signing certificates must chain to (GCA, XCA,
    /// MOEACA roots in production).
    #[serde(default)]
    pub trust_anchors: Vec<PathBuf>,
    /// CRL files for those hierarchies.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
    #[serde(default)]
    pub snapshot: SnapshotConfig,
    /// Days after a participant's certificate expired within which it may renew and ask to
    /// reconnect; afterwards it leaves the address book and must apply again.
    #[serde(default = "default_grace")]
    pub cert_grace_days: u32,
    /// Days before expiry at which the participant is warned.
    #[serde(default = "default_warn")]
    pub cert_warn_days: Vec<u32>,
    /// The usage rules applicants agree to, as the form names them (with their version).
    #[serde(default = "default_rules")]
    pub usage_rules: String,
    /// Days the directory's log is kept (at least 365; default ten years).
    #[serde(default = "default_log_days")]
    pub log_retention_days: u32,
    /// Who may read `/metrics`: addresses or CIDR blocks (`10.1.2.0/24`), as the centers'.
    /// Default: this machine only (127.0.0.1, ::1).
    #[serde(default = "default_metrics_allow")]
    pub metrics_allow: Vec<String>,
}

fn default_metrics_allow() -> Vec<String> {
    vec!["127.0.0.1".into(), "::1".into()]
}

fn default_rules() -> String {
    "公文電子交換系統使用規範（115.01 版）".into()
}
fn default_log_days() -> u32 {
    3650
}

fn default_grace() -> u32 {
    90
}
fn default_warn() -> Vec<u32> {
    vec![60, 30, 7]
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryTls {
    /// Server certificate and chain (PEM).
    pub cert: PathBuf,
    /// Server private key (PEM, PKCS#8).
    pub key: PathBuf,
    /// Roots the centers' client certificates chain to.
    pub client_roots: Vec<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningConfig {
    /// Certificate (PEM; the signer first, then its chain up to, not including, the root).
    pub cert: PathBuf,
    /// Private key: a PEM file, or a `pkcs11:` URI for a token.
    pub key: String,
}

/// How fresh the centers' view of the directory is kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnapshotConfig {
    /// How long a snapshot stays valid: centers keep exchanging on it this long when they
    /// cannot reach the directory, and stop after.
    pub valid_hours: u32,
    /// How often (seconds) the directory looks for changes and signs a new snapshot.
    pub build_every_s: u64,
    /// How many old snapshots are kept (for audits; the newest is always kept).
    pub keep: u32,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        SnapshotConfig {
            valid_hours: 72,
            build_every_s: 10,
            keep: 20,
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:8440".into()
}
fn default_db() -> String {
    "sqlite://gongwen-data/directory.db".into()
}
