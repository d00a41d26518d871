//! The HTTPS plumbing every Gongwen service shares: our own rustls accept loop that hands each
//! request its peer ([`Peer`]: client certificate and IP), JSON log lines, and metrics.

pub mod log;
pub mod metrics;
mod tls;

pub use metrics::Metrics;
pub use tls::{NetError, Peer, Server, TlsFiles, server_config};
