//! The algorithm choices a key is used with, shared by the software keys and the card
//! (`keys` and `token`), below both.

/// How a content-encryption key was wrapped for a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTransport {
    /// RSAES-PKCS1-v1_5 (what older peers and `openssl cms -encrypt` send by default).
    Pkcs1,
    /// RSAES-OAEP with the same hash for OAEP and MGF1.
    Oaep(Hash),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}
