//! Private keys: from key files (PKCS#8), used through aws-lc-rs, or on PKCS#11 tokens (IC
//! cards, SoftHSM2), used through the token. Key bytes never leave this type: no Debug output,
//! no logging.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512,
    OaepPrivateDecryptingKey, Pkcs1PrivateDecryptingKey, PrivateDecryptingKey,
};
use aws_lc_rs::signature::{self, EcdsaKeyPair, RsaKeyPair};

use crate::TrustError;
use crate::cms::unsupported;

pub use crate::alg::{Hash, KeyTransport};

enum Kind {
    Rsa(RsaKeyPair),
    P256(EcdsaKeyPair),
    Token(crate::token::TokenKey),
}

/// A private key from a PKCS#8 file.
pub struct PrivateKey {
    kind: Kind,
    /// Kept to build decrypting keys (aws-lc-rs keys for decryption are separate types).
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.kind {
            Kind::Rsa(_) => "PrivateKey(RSA)",
            Kind::P256(_) => "PrivateKey(P-256)",
            Kind::Token(_) => "PrivateKey(PKCS#11)",
        })
    }
}

pub(crate) fn key_err(detail: impl Into<String>) -> TrustError {
    TrustError::Key {
        detail: detail.into(),
    }
}

impl PrivateKey {
    /// An unencrypted PKCS#8 key, DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey, TrustError> {
        if let Ok(k) = RsaKeyPair::from_pkcs8(der) {
            return Ok(PrivateKey {
                kind: Kind::Rsa(k),
                pkcs8: der.to_vec(),
            });
        }
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            return Ok(PrivateKey {
                kind: Kind::P256(k),
                pkcs8: der.to_vec(),
            });
        }
        Err(key_err(
            "不是可用的 PKCS#8 私鑰（支援 RSA 2048 位元以上與 P-256；加密的私鑰請先以 PKCS#12 匯入）",
        ))
    }

    /// A PEM file with a `PRIVATE KEY` block.
    pub fn from_pem(text: &str) -> Result<PrivateKey, TrustError> {
        Self::from_pem_with_password(text, None)
    }

    /// A PEM file with a `PRIVATE KEY` block, or an `ENCRYPTED PRIVATE KEY` block and its
    /// passphrase (PBES2, as `openssl pkcs8 -topk8` and `openssl genpkey -aes256` write it).
    pub fn from_pem_with_password(
        text: &str,
        password: Option<&str>,
    ) -> Result<PrivateKey, TrustError> {
        let (label, der) = der::pem::decode_vec(text.trim().as_bytes())
            .map_err(|_| key_err("不是 PEM 格式的私鑰檔"))?;
        if label == "ENCRYPTED PRIVATE KEY" {
            let password = password
                .ok_or_else(|| key_err("私鑰檔有密碼保護：請以 --key-password-file 提供密碼檔"))?;
            let der = crate::pbes2::decrypt_pkcs8(&der, password).map_err(|e| match e {
                TrustError::Key { .. } => key_err("私鑰密碼錯誤，或私鑰檔損壞"),
                other => other,
            })?;
            return Self::from_pkcs8_der(&der);
        }
        if label != "PRIVATE KEY" {
            return Err(key_err(format!(
                "PEM 區塊是「{label}」，需要「PRIVATE KEY」（PKCS#8）"
            )));
        }
        Self::from_pkcs8_der(&der)
    }

    /// A key as a configuration names it: a `pkcs11:` URI (an IC card, an HSM) or the path of
    /// an unencrypted PKCS#8 PEM file.
    pub fn load(spec: &str) -> Result<PrivateKey, TrustError> {
        if spec.starts_with("pkcs11:") {
            return Self::from_token(spec);
        }
        let text = std::fs::read_to_string(spec).map_err(|e| TrustError::Io {
            path: spec.to_string(),
            detail: e.to_string(),
        })?;
        Self::from_pem(&text)
    }

    /// A key on a PKCS#11 token, named by a `pkcs11:` URI (see [`crate::token`]).
    pub fn from_token(uri: &str) -> Result<PrivateKey, TrustError> {
        Ok(PrivateKey {
            kind: Kind::Token(crate::token::TokenKey::open(uri)?),
            pkcs8: Vec::new(),
        })
    }

    /// Is this the private half of the certificate's public key?
    pub fn matches(&self, cert: &x509_cert::Certificate) -> bool {
        use aws_lc_rs::signature::KeyPair;
        let public = crate::cms::public_key(cert);
        match &self.kind {
            Kind::Rsa(k) => k.public_key().as_ref() == public,
            Kind::P256(k) => k.public_key().as_ref() == public,
            Kind::Token(_) => false,
        }
    }

    pub fn is_rsa(&self) -> bool {
        match &self.kind {
            Kind::Rsa(_) => true,
            Kind::P256(_) => false,
            Kind::Token(t) => t.is_rsa(),
        }
    }

    /// Signs `msg` with SHA-256 (PKCS#1 v1.5 for RSA, ASN.1 ECDSA for P-256).
    pub fn sign_sha256(&self, msg: &[u8]) -> Result<Vec<u8>, TrustError> {
        let rng = SystemRandom::new();
        match &self.kind {
            Kind::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .map_err(TrustError::crypto)?;
                Ok(sig)
            }
            Kind::P256(k) => Ok(k
                .sign(&rng, msg)
                .map_err(TrustError::crypto)?
                .as_ref()
                .to_vec()),
            Kind::Token(t) => t.sign_sha256(msg),
        }
    }

    /// Unwraps a content-encryption key. With PKCS#1 v1.5 a failure yields a random key of
    /// `expected_len` instead of an error (implicit rejection), so a padding oracle learns
    /// nothing: the content decryption then fails as any wrong key does.
    pub fn unwrap_key(
        &self,
        transport: KeyTransport,
        wrapped: &[u8],
        expected_len: usize,
    ) -> Result<Vec<u8>, TrustError> {
        if !self.is_rsa() {
            return Err(unsupported("以 P-256 加密憑證解密（請使用 RSA 加密憑證）"));
        }
        let result = match &self.kind {
            Kind::Token(t) => t.unwrap_key(transport, wrapped)?.ok_or(()),
            _ => self.unwrap_in_memory(transport, wrapped),
        };
        match (result, transport) {
            (Ok(k), _) => Ok(k),
            (Err(_), KeyTransport::Pkcs1) => {
                let mut fake = vec![0u8; expected_len];
                aws_lc_rs::rand::fill(&mut fake).map_err(TrustError::crypto)?;
                Ok(fake)
            }
            (Err(_), KeyTransport::Oaep(_)) => Err(TrustError::Decrypt),
        }
    }

    fn unwrap_in_memory(&self, transport: KeyTransport, wrapped: &[u8]) -> Result<Vec<u8>, ()> {
        let key = PrivateDecryptingKey::from_pkcs8(&self.pkcs8).map_err(|_| ())?;
        let mut out = vec![0u8; wrapped.len().max(512)];
        let result = match transport {
            KeyTransport::Pkcs1 => {
                let k = Pkcs1PrivateDecryptingKey::new(key).map_err(|_| ())?;
                k.decrypt(wrapped, &mut out).map(|p| p.to_vec())
            }
            KeyTransport::Oaep(hash) => {
                let alg = match hash {
                    Hash::Sha1 => &OAEP_SHA1_MGF1SHA1,
                    Hash::Sha256 => &OAEP_SHA256_MGF1SHA256,
                    Hash::Sha384 => &OAEP_SHA384_MGF1SHA384,
                    Hash::Sha512 => &OAEP_SHA512_MGF1SHA512,
                };
                let k = OaepPrivateDecryptingKey::new(key).map_err(|_| ())?;
                k.decrypt(alg, wrapped, &mut out, None).map(|p| p.to_vec())
            }
        };
        result.map_err(|_| ())
    }
}
