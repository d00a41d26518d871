//! `gongwen-trust`: who may send what to whom.
//!
//! - [`cms`]: SignedData and EnvelopedData as OpenSSL writes and reads them (the core of the
//!   sealed package), with [`keys`] for private keys from PKCS#8 files.
//! - [`package`]: the sealed package (交換封包) and [`receipt`]: signed receipts (送達,
//!   收文確認, 退文); [`path`]: trust evaluation with CRLs.
//! - [`pki`]: the built-in test CA (`gongwen pki`), a look-alike of Taiwan's PKI (a root and
//!   GCA/XCA/MOEACA/MOICA-like intermediates) that issues organisations their two key pairs
//!   (signing and encryption, as on the real IC cards), persons, and TLS certificates for centers
//!   and agents, and revokes them through CRLs. Real certificates are imported, not generated.
//!
//! Private-key operations go through aws-lc-rs, never the `rsa` crate (RUSTSEC-2023-0071).

mod alg;
pub mod cms;
pub mod crl_fetch;
mod error;
pub mod keys;
pub mod p12;
pub mod package;
pub mod path;
mod pbes2;
pub mod pki;
pub mod receipt;
#[cfg(test)]
mod testutil;
pub mod token;

pub use error::TrustError;
