//! Password-based encryption (PBES2: PBKDF2 and AES-CBC), as OpenSSL 3 writes it: the key
//! bags of PKCS#12 files and encrypted PKCS#8 key files. Below both `p12` and `keys`.

use std::num::NonZeroU32;

use aws_lc_rs::cipher::{
    AES_128, AES_256, DecryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey,
    UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use der::asn1::{Any, ObjectIdentifier as Oid, OctetString};
use der::{Decode, Sequence};
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::TrustError;
use crate::cms::unsupported;

const PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");
const PBKDF2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.12");
const HMAC_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.2.9");
const HMAC_SHA1: Oid = Oid::new_unwrap("1.2.840.113549.2.7");
const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");

/// PBKDF2 iterations we write (OpenSSL's default is 2048; passwords are often short).
pub(crate) const ITERATIONS: u32 = 100_000;
/// More than this in a file is refused: a hostile file must not keep us busy for minutes.
const MAX_ITERATIONS: u32 = 2_000_000;

pub(crate) fn bad(detail: impl Into<String>) -> TrustError {
    TrustError::Key {
        detail: format!("PKCS#12 檔：{}", detail.into()),
    }
}

pub(crate) fn der_err(e: der::Error) -> TrustError {
    bad(e.to_string())
}

#[derive(Clone, Debug, Sequence)]
pub(crate) struct EncryptedPrivateKeyInfo {
    pub(crate) algorithm: AlgorithmIdentifierOwned,
    pub(crate) data: OctetString,
}

#[derive(Clone, Debug, Sequence)]
struct Pbes2Params {
    kdf: AlgorithmIdentifierOwned,
    scheme: AlgorithmIdentifierOwned,
}

#[derive(Clone, Debug, Sequence)]
pub(crate) struct Pbkdf2Params {
    pub(crate) salt: OctetString,
    pub(crate) iterations: u32,
    pub(crate) key_length: Option<u32>,
    pub(crate) prf: Option<AlgorithmIdentifierOwned>,
}

pub(crate) fn random<const N: usize>() -> Result<[u8; N], TrustError> {
    let mut b = [0u8; N];
    aws_lc_rs::rand::fill(&mut b).map_err(TrustError::crypto)?;
    Ok(b)
}

pub(crate) fn iterations(n: u32) -> Result<NonZeroU32, TrustError> {
    if n > MAX_ITERATIONS {
        return Err(bad(format!("迭代次數 {n} 超過上限 {MAX_ITERATIONS}")));
    }
    NonZeroU32::new(n).ok_or_else(|| bad("迭代次數為 0"))
}

pub(crate) fn encrypt(
    password: &str,
    plain: &[u8],
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), TrustError> {
    let salt: [u8; 16] = random()?;
    let rounds = iterations(ITERATIONS)?;
    let mut key = [0u8; 32];
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        &salt,
        password.as_bytes(),
        &mut key,
    );
    let enc = PaddedBlockEncryptingKey::cbc_pkcs7(
        UnboundCipherKey::new(&AES_256, &key).map_err(TrustError::crypto)?,
    )
    .map_err(TrustError::crypto)?;
    let mut body = plain.to_vec();
    let ctx = enc.encrypt(&mut body).map_err(TrustError::crypto)?;
    let iv: &[u8] = (&ctx).try_into().map_err(TrustError::crypto)?;
    let params = Pbes2Params {
        kdf: AlgorithmIdentifierOwned {
            oid: PBKDF2,
            parameters: Some(
                Any::encode_from(&Pbkdf2Params {
                    salt: OctetString::new(salt.to_vec()).map_err(der_err)?,
                    iterations: ITERATIONS,
                    key_length: None,
                    prf: Some(AlgorithmIdentifierOwned {
                        oid: HMAC_SHA256,
                        parameters: Some(Any::from(der::asn1::Null)),
                    }),
                })
                .map_err(der_err)?,
            ),
        },
        scheme: AlgorithmIdentifierOwned {
            oid: AES256_CBC,
            parameters: Some(
                Any::encode_from(&OctetString::new(iv).map_err(der_err)?).map_err(der_err)?,
            ),
        },
    };
    Ok((
        AlgorithmIdentifierOwned {
            oid: PBES2,
            parameters: Some(Any::encode_from(&params).map_err(der_err)?),
        },
        body,
    ))
}

/// An algorithm's parameters as `T`; `missing` says what is wrong without them.
fn parameters<'a, T: der::Choice<'a> + der::DecodeValue<'a>>(
    alg: &'a AlgorithmIdentifierOwned,
    missing: &str,
) -> Result<T, TrustError> {
    let any = alg.parameters.as_ref().ok_or_else(|| bad(missing))?;
    any.decode_as().map_err(der_err)
}

pub(crate) fn decrypt(
    password: &str,
    alg: &AlgorithmIdentifierOwned,
    data: &[u8],
) -> Result<Vec<u8>, TrustError> {
    if alg.oid != PBES2 {
        return Err(unsupported(format!(
            "舊式 PKCS#12 加密（{}，例如 3DES 或 RC2）；請先以「openssl pkcs12 -legacy -in 舊檔 -nodes | openssl pkcs12 -export -out 新檔」轉成新格式",
            alg.oid
        )));
    }
    let params: Pbes2Params = parameters(alg, "PBES2 缺少參數")?;
    if params.kdf.oid != PBKDF2 {
        return Err(unsupported(format!("金鑰衍生函數 {}", params.kdf.oid)));
    }
    let kdf: Pbkdf2Params = parameters(&params.kdf, "PBKDF2 缺少參數")?;
    let prf = match kdf.prf.as_ref().map(|p| p.oid) {
        None | Some(HMAC_SHA1) => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA1,
        Some(HMAC_SHA256) => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        Some(other) => {
            return Err(unsupported(format!("PBKDF2 雜湊 {other}")));
        }
    };
    let (cipher, key_len) = match params.scheme.oid {
        AES256_CBC => (&AES_256, 32),
        AES128_CBC => (&AES_128, 16),
        other => {
            return Err(unsupported(format!("PKCS#12 加密演算法 {other}")));
        }
    };
    let iv: OctetString = parameters(&params.scheme, "缺少初始向量")?;
    let iv: [u8; 16] = iv
        .as_bytes()
        .try_into()
        .map_err(|_| bad("初始向量長度錯誤"))?;
    let mut key = vec![0u8; key_len];
    aws_lc_rs::pbkdf2::derive(
        prf,
        iterations(kdf.iterations)?,
        kdf.salt.as_bytes(),
        password.as_bytes(),
        &mut key,
    );
    let dec = PaddedBlockDecryptingKey::cbc_pkcs7(
        UnboundCipherKey::new(cipher, &key).map_err(TrustError::crypto)?,
    )
    .map_err(TrustError::crypto)?;
    let mut body = data.to_vec();
    let plain = dec
        .decrypt(&mut body, DecryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| bad("密碼錯誤，或檔案損壞"))?;
    Ok(plain.to_vec())
}

/// An encrypted PKCS#8 key (`ENCRYPTED PRIVATE KEY`, PBES2 as OpenSSL writes it), decrypted.
pub fn decrypt_pkcs8(der: &[u8], password: &str) -> Result<Vec<u8>, TrustError> {
    let epki = EncryptedPrivateKeyInfo::from_der(der).map_err(der_err)?;
    decrypt(password, &epki.algorithm, epki.data.as_bytes())
}
