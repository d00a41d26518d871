//! `gongwen-trust`: who may send what to whom.
//!
//! This first part is [`pki`], the built-in test CA (`gongwen pki`): a look-alike of Taiwan's
//! PKI (a root and GCA/XCA/MOEACA/MOICA-like intermediates) that issues organisations their two
//! key pairs (signing and encryption, as on the real IC cards), persons, and TLS certificates
//! for centers and agents, and revokes them through CRLs. Real certificates are imported, not
//! generated here. Private-key operations go through aws-lc-rs (via rcgen), never the `rsa` crate.

mod error;
pub mod pki;

pub use error::TrustError;
