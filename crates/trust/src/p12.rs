//! PKCS#12 (.p12 / .pfx), the form in which software certificates reach their users: written
//! as OpenSSL 3 writes it by default (PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC for the key,
//! HMAC-SHA256 integrity), and read in that form. Older files protected with 3DES or RC2 get a
//! clear message saying how to convert them.

use std::num::NonZeroU32;

use der::asn1::{Any, BmpString, ObjectIdentifier as Oid, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence};
use x509_cert::Certificate;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::TrustError;
use crate::cms::unsupported;
use crate::pbes2::{self, EncryptedPrivateKeyInfo, ITERATIONS, bad, der_err, iterations, random};

const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
const ID_ENCRYPTED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.6");
const KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.1");
const SHROUDED_KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.3");
const X509_CERT: Oid = Oid::new_unwrap("1.2.840.113549.1.9.22.1");
const FRIENDLY_NAME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.20");
const LOCAL_KEY_ID: Oid = Oid::new_unwrap("1.2.840.113549.1.9.21");
const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");

#[derive(Clone, Debug, Sequence)]
struct Pfx {
    version: u8,
    auth_safe: ::cms::content_info::ContentInfo,
    mac_data: Option<MacData>,
}

#[derive(Clone, Debug, Sequence)]
struct MacData {
    mac: DigestInfo,
    mac_salt: OctetString,
    #[asn1(default = "one")]
    iterations: u32,
}

fn one() -> u32 {
    1
}

#[derive(Clone, Debug, Sequence)]
struct DigestInfo {
    algorithm: AlgorithmIdentifierOwned,
    digest: OctetString,
}

#[derive(Clone, Debug, Sequence)]
struct SafeBag {
    bag_id: Oid,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    bag_value: Any,
    bag_attributes: Option<SetOfVec<x509_cert::attr::Attribute>>,
}

#[derive(Clone, Debug, Sequence)]
struct CertBag {
    cert_id: Oid,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    cert_value: OctetString,
}

#[derive(Clone, Debug, Sequence)]
struct EncryptedData {
    version: u8,
    content: EncryptedContentInfo,
}

#[derive(Clone, Debug, Sequence)]
struct EncryptedContentInfo {
    content_type: Oid,
    algorithm: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    content: Option<OctetString>,
}

/// RFC 7292 appendix B.2 key derivation with SHA-256, for the integrity key (ID 3).
fn pkcs12_kdf(password: &str, salt: &[u8], rounds: NonZeroU32, id: u8, n: usize) -> Vec<u8> {
    use aws_lc_rs::digest::{Context, SHA256};
    const V: usize = 64;
    const U: usize = 32;
    let mut pw: Vec<u8> = password
        .encode_utf16()
        .flat_map(|c| c.to_be_bytes())
        .collect();
    pw.extend_from_slice(&[0, 0]);
    let fill = |src: &[u8]| -> Vec<u8> {
        if src.is_empty() {
            return Vec::new();
        }
        let len = V * src.len().div_ceil(V);
        src.iter().copied().cycle().take(len).collect()
    };
    let mut i_buf = [fill(salt), fill(&pw)].concat();
    let d = [id; V];
    let mut out = Vec::with_capacity(n + U);
    while out.len() < n {
        let mut ctx = Context::new(&SHA256);
        ctx.update(&d);
        ctx.update(&i_buf);
        let mut a = ctx.finish().as_ref().to_vec();
        for _ in 1..rounds.get() {
            a = aws_lc_rs::digest::digest(&SHA256, &a).as_ref().to_vec();
        }
        out.extend_from_slice(&a);
        let b: Vec<u8> = a.iter().copied().cycle().take(V).collect();
        for block in i_buf.chunks_mut(V) {
            let mut carry = 1u16;
            for k in (0..V).rev() {
                let sum = block[k] as u16 + b[k] as u16 + carry;
                block[k] = sum as u8;
                carry = sum >> 8;
            }
        }
    }
    out.truncate(n);
    out
}

fn mac(password: &str, salt: &[u8], rounds: NonZeroU32, data: &[u8]) -> Vec<u8> {
    let key = pkcs12_kdf(password, salt, rounds, 3, 32);
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
    aws_lc_rs::hmac::sign(&k, data).as_ref().to_vec()
}

fn attrs(name: &str, key_id: &[u8]) -> Result<SetOfVec<x509_cert::attr::Attribute>, TrustError> {
    let mut set = SetOfVec::new();
    set.insert(crate::cms::attribute(
        FRIENDLY_NAME,
        Any::encode_from(&BmpString::from_utf8(name).map_err(der_err)?).map_err(der_err)?,
    )?)
    .map_err(der_err)?;
    set.insert(crate::cms::attribute(
        LOCAL_KEY_ID,
        Any::encode_from(&OctetString::new(key_id).map_err(der_err)?).map_err(der_err)?,
    )?)
    .map_err(der_err)?;
    Ok(set)
}

fn data_info(bytes: Vec<u8>) -> Result<::cms::content_info::ContentInfo, TrustError> {
    Ok(::cms::content_info::ContentInfo {
        content_type: ID_DATA,
        content: Any::encode_from(&OctetString::new(bytes).map_err(der_err)?).map_err(der_err)?,
    })
}

/// A password-protected PKCS#12 holding `key_pkcs8` (unencrypted PKCS#8 DER), its certificate
/// and the chain, the certificate named `name` (what a card reader or browser shows).
pub fn export(
    key_pkcs8: &[u8],
    cert: &Certificate,
    chain: &[Certificate],
    name: &str,
    password: &str,
) -> Result<Vec<u8>, TrustError> {
    if password.chars().count() < 8 {
        return Err(TrustError::Request {
            detail: "PKCS#12 密碼至少 8 個字元".into(),
        });
    }
    let key_id = crate::path::spki_sha256(cert)?;
    let (alg, data) = pbes2::encrypt(password, key_pkcs8)?;
    let mut bags = vec![SafeBag {
        bag_id: SHROUDED_KEY_BAG,
        bag_value: Any::encode_from(&EncryptedPrivateKeyInfo {
            algorithm: alg,
            data: OctetString::new(data).map_err(der_err)?,
        })
        .map_err(der_err)?,
        bag_attributes: Some(attrs(name, &key_id)?),
    }];
    for (i, c) in std::iter::once(cert).chain(chain).enumerate() {
        bags.push(SafeBag {
            bag_id: CERT_BAG,
            bag_value: Any::encode_from(&CertBag {
                cert_id: X509_CERT,
                cert_value: OctetString::new(c.to_der().map_err(der_err)?).map_err(der_err)?,
            })
            .map_err(der_err)?,
            bag_attributes: (i == 0).then(|| attrs(name, &key_id)).transpose()?,
        });
    }
    let safe_contents = bags.to_der().map_err(der_err)?;
    let auth_safe = vec![data_info(safe_contents)?].to_der().map_err(der_err)?;
    let salt: [u8; 16] = random()?;
    let rounds = iterations(ITERATIONS)?;
    let digest = mac(password, &salt, rounds, &auth_safe);
    Pfx {
        version: 3,
        auth_safe: data_info(auth_safe)?,
        mac_data: Some(MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifierOwned {
                    oid: SHA256,
                    parameters: Some(Any::from(der::asn1::Null)),
                },
                digest: OctetString::new(digest).map_err(der_err)?,
            },
            mac_salt: OctetString::new(salt.to_vec()).map_err(der_err)?,
            iterations: ITERATIONS,
        }),
    }
    .to_der()
    .map_err(der_err)
}

/// What a PKCS#12 holds.
pub struct Imported {
    /// Unencrypted PKCS#8 DER.
    pub key_pkcs8: Vec<u8>,
    /// The certificate whose key this is.
    pub cert: Certificate,
    /// The other certificates (the chain).
    pub chain: Vec<Certificate>,
}

fn octets(any: &Any) -> Result<Vec<u8>, TrustError> {
    Ok(any
        .decode_as::<OctetString>()
        .map_err(der_err)?
        .into_bytes())
}

/// Reads a PKCS#12 (BER accepted), checking its integrity MAC with the password first.
pub fn import(data: &[u8], password: &str) -> Result<Imported, TrustError> {
    let der = crate::cms::ber::to_der(data).map_err(|e| bad(e.to_string()))?;
    let pfx = Pfx::from_der(&der).map_err(der_err)?;
    if pfx.auth_safe.content_type != ID_DATA {
        return Err(unsupported("以公開金鑰保護的 PKCS#12"));
    }
    let auth_safe = octets(&pfx.auth_safe.content)?;
    if let Some(m) = &pfx.mac_data {
        if m.mac.algorithm.oid != SHA256 {
            return Err(unsupported(format!(
                "PKCS#12 完整性演算法 {}；請先以「openssl pkcs12 -legacy -in 舊檔 -nodes | openssl pkcs12 -export -out 新檔」轉成新格式",
                m.mac.algorithm.oid
            )));
        }
        let want = mac(
            password,
            m.mac_salt.as_bytes(),
            iterations(m.iterations)?,
            &auth_safe,
        );
        if want != m.mac.digest.as_bytes() {
            return Err(bad("密碼錯誤，或檔案損壞（完整性檢查不符）"));
        }
    }
    let infos: Vec<::cms::content_info::ContentInfo> =
        Vec::from_der(&auth_safe).map_err(der_err)?;
    let mut keys: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
    let mut certs: Vec<(Certificate, Option<Vec<u8>>)> = Vec::new();
    for info in infos {
        let contents = match info.content_type {
            ID_DATA => octets(&info.content)?,
            ID_ENCRYPTED_DATA => {
                let ed: EncryptedData = info.content.decode_as().map_err(der_err)?;
                let body = ed.content.content.ok_or_else(|| bad("加密內容是空的"))?;
                pbes2::decrypt(password, &ed.content.algorithm, body.as_bytes())?
            }
            other => {
                return Err(unsupported(format!("PKCS#12 內容型別 {other}")));
            }
        };
        let bags: Vec<SafeBag> = Vec::from_der(&contents).map_err(der_err)?;
        for bag in bags {
            let key_id = bag
                .bag_attributes
                .iter()
                .flat_map(|s| s.iter())
                .find(|a| a.oid == LOCAL_KEY_ID)
                .and_then(|a| a.values.iter().next())
                .and_then(|v| octets(v).ok());
            match bag.bag_id {
                SHROUDED_KEY_BAG => {
                    let epki: EncryptedPrivateKeyInfo =
                        bag.bag_value.decode_as().map_err(der_err)?;
                    keys.push((
                        pbes2::decrypt(password, &epki.algorithm, epki.data.as_bytes())?,
                        key_id,
                    ));
                }
                KEY_BAG => keys.push((bag.bag_value.to_der().map_err(der_err)?, key_id)),
                CERT_BAG => {
                    let cb: CertBag = bag.bag_value.decode_as().map_err(der_err)?;
                    if cb.cert_id == X509_CERT {
                        certs.push((
                            Certificate::from_der(cb.cert_value.as_bytes()).map_err(der_err)?,
                            key_id,
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    let [(key_pkcs8, key_id)] = &keys[..] else {
        return Err(bad(format!("應正好有一把私鑰，檔案中有 {} 把", keys.len())));
    };
    // The key's certificate: same localKeyId, else the one whose public key matches the key.
    let pk = crate::keys::PrivateKey::from_pkcs8_der(key_pkcs8)?;
    let pos = certs
        .iter()
        .position(|(_, id)| key_id.is_some() && id == key_id)
        .or_else(|| certs.iter().position(|(c, _)| pk.matches(c)))
        .ok_or_else(|| bad("找不到與私鑰相符的憑證"))?;
    let (cert, _) = certs.remove(pos);
    Ok(Imported {
        key_pkcs8: key_pkcs8.clone(),
        cert,
        chain: certs.into_iter().map(|(c, _)| c).collect(),
    })
}

#[cfg(test)]
mod tests;
