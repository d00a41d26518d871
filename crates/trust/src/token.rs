//! Keys on PKCS#11 tokens: the way IC cards (憑證 IC 卡) are used through a card reader, and
//! the way SoftHSM2 stands in for them in tests. The key never leaves the token; we ask it to
//! sign and to unwrap content-encryption keys.
//!
//! A key is named by a PKCS#11 URI (RFC 7512), for example
//! `pkcs11:token=gongwen;object=379130000C-enc?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/gongwen/pin`.
//! The PIN comes from `pin-source=file:…`, `pin-value=…` (tests only: it shows in process
//! lists) or the `GONGWEN_PKCS11_PIN` environment variable.

use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;

use crate::TrustError;
use crate::alg::{Hash, KeyTransport};
use crate::cms::unsupported;
use crate::keys::key_err;

fn token_err(what: &str, e: cryptoki::error::Error) -> TrustError {
    TrustError::Key {
        detail: format!("憑證 IC 卡（PKCS#11）{what}失敗：{e}"),
    }
}

/// The parts of a PKCS#11 URI we use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenUri {
    pub module: String,
    pub token: Option<String>,
    pub object: Option<String>,
    /// CKA_ID, as bytes (`id=%01%02`).
    pub id: Option<Vec<u8>>,
    pin_value: Option<String>,
    pin_source: Option<String>,
}

fn pct_decode(s: &str) -> Result<Vec<u8>, TrustError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| key_err(format!("PKCS#11 URI 的百分比編碼錯誤：{s}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text(s: &str) -> Result<String, TrustError> {
    String::from_utf8(pct_decode(s)?).map_err(|_| key_err("PKCS#11 URI 不是 UTF-8"))
}

impl TokenUri {
    pub fn parse(uri: &str) -> Result<TokenUri, TrustError> {
        let rest = uri
            .strip_prefix("pkcs11:")
            .ok_or_else(|| key_err("PKCS#11 URI 應以「pkcs11:」開頭"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut u = TokenUri::default();
        for (part, sep) in [(path, ';'), (query, '&')] {
            for attr in part.split(sep).filter(|a| !a.is_empty()) {
                let (k, v) = attr
                    .split_once('=')
                    .ok_or_else(|| key_err(format!("PKCS#11 URI 的「{attr}」缺少等號")))?;
                match k {
                    "token" => u.token = Some(text(v)?),
                    "object" => u.object = Some(text(v)?),
                    "id" => u.id = Some(pct_decode(v)?),
                    "module-path" => u.module = text(v)?,
                    "pin-value" => u.pin_value = Some(text(v)?),
                    "pin-source" => u.pin_source = Some(text(v)?),
                    // type=private and the like: nothing to choose between for us.
                    _ => {}
                }
            }
        }
        if u.module.is_empty() {
            return Err(key_err(
                "PKCS#11 URI 需要 module-path（例如 /usr/lib/softhsm/libsofthsm2.so 或讀卡機廠商的模組）",
            ));
        }
        if u.object.is_none() && u.id.is_none() {
            return Err(key_err("PKCS#11 URI 需要 object=（金鑰標籤）或 id="));
        }
        Ok(u)
    }

    fn pin(&self) -> Result<String, TrustError> {
        if let Some(v) = &self.pin_value {
            return Ok(v.clone());
        }
        if let Some(src) = &self.pin_source {
            let path = src.strip_prefix("file:").unwrap_or(src);
            let pin = std::fs::read_to_string(path)
                .map_err(|e| key_err(format!("PIN 檔 {path}：{}", gongwen_doc::io_message(&e))))?;
            return Ok(pin.trim_end_matches(['\r', '\n']).to_string());
        }
        std::env::var("GONGWEN_PKCS11_PIN").map_err(|_| {
            key_err(
                "沒有提供 PIN：請在 URI 加上 pin-source=file:…，或設定環境變數 GONGWEN_PKCS11_PIN",
            )
        })
    }
}

/// A private key on a token, with a logged-in session.
pub struct TokenKey {
    session: Mutex<Session>,
    handle: ObjectHandle,
    rsa: bool,
    /// Kept alive as long as the session; finalised on drop.
    _context: Pkcs11,
}

impl TokenKey {
    pub fn open(uri: &str) -> Result<TokenKey, TrustError> {
        let u = TokenUri::parse(uri)?;
        let ctx = Pkcs11::new(&u.module)
            .map_err(|e| key_err(format!("無法載入 PKCS#11 模組 {}：{e}", u.module)))?;
        ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(|e| token_err("初始化", e))?;
        let slots = ctx
            .get_slots_with_token()
            .map_err(|e| token_err("列出讀卡機", e))?;
        let slot = slots
            .into_iter()
            .find(|s| {
                u.token
                    .as_deref()
                    .is_none_or(|want| ctx.get_token_info(*s).is_ok_and(|i| i.label() == want))
            })
            .ok_or_else(|| {
                key_err(format!(
                    "找不到標籤為「{}」的憑證 IC 卡或權杖（卡片是否已插入？）",
                    u.token.as_deref().unwrap_or("")
                ))
            })?;
        let session = ctx
            .open_ro_session(slot)
            .map_err(|e| token_err("開啟工作階段", e))?;
        let pin = AuthPin::new(u.pin()?.into());
        session
            .login(UserType::User, Some(&pin))
            .map_err(|e| token_err("登入（PIN 是否正確？）", e))?;
        let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
        if let Some(o) = &u.object {
            template.push(Attribute::Label(o.as_bytes().to_vec()));
        }
        if let Some(id) = &u.id {
            template.push(Attribute::Id(id.clone()));
        }
        let found = session
            .find_objects(&template)
            .map_err(|e| token_err("尋找金鑰", e))?;
        let [handle] = found[..] else {
            return Err(key_err(format!(
                "權杖上符合的私鑰有 {} 把，需要正好一把（請確認 object= 或 id=）",
                found.len()
            )));
        };
        let attrs = session
            .get_attributes(handle, &[AttributeType::KeyType])
            .map_err(|e| token_err("讀取金鑰類型", e))?;
        let rsa = match attrs.first() {
            Some(Attribute::KeyType(k)) if *k == KeyType::RSA => true,
            Some(Attribute::KeyType(k)) if *k == KeyType::EC => false,
            _ => return Err(key_err("權杖上的金鑰不是 RSA 或 EC")),
        };
        Ok(TokenKey {
            session: Mutex::new(session),
            handle,
            rsa,
            _context: ctx,
        })
    }

    pub fn is_rsa(&self) -> bool {
        self.rsa
    }

    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        // A panic while holding the lock leaves nothing half-done on the token side.
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// SHA-256 signature as CMS wants it: PKCS#1 v1.5 for RSA, DER ECDSA-Sig-Value for EC.
    pub fn sign_sha256(&self, msg: &[u8]) -> Result<Vec<u8>, TrustError> {
        let s = self.session();
        if self.rsa {
            return s
                .sign(&Mechanism::Sha256RsaPkcs, self.handle, msg)
                .map_err(|e| token_err("簽章", e));
        }
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, msg);
        let raw = s
            .sign(&Mechanism::Ecdsa, self.handle, digest.as_ref())
            .map_err(|e| token_err("簽章", e))?;
        ecdsa_der(&raw)
    }

    /// Unwraps a content-encryption key on the token (None: the token refused, e.g. bad padding).
    pub fn unwrap_key(
        &self,
        transport: KeyTransport,
        wrapped: &[u8],
    ) -> Result<Option<Vec<u8>>, TrustError> {
        if !self.rsa {
            return Err(unsupported("以 EC 金鑰解密（請使用 RSA 加密憑證）"));
        }
        let hash = match transport {
            KeyTransport::Pkcs1 => {
                return Ok(self
                    .session()
                    .decrypt(&Mechanism::RsaPkcs, self.handle, wrapped)
                    .ok());
            }
            KeyTransport::Oaep(hash) => hash,
        };
        let (h, mgf) = match hash {
            Hash::Sha1 => (MechanismType::SHA1, PkcsMgfType::MGF1_SHA1),
            Hash::Sha256 => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
            Hash::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
            Hash::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
        };
        let oaep = Mechanism::RsaPkcsOaep(PkcsOaepParams::new(h, mgf, PkcsOaepSource::empty()));
        let session = self.session();
        match session.decrypt(&oaep, self.handle, wrapped) {
            Ok(k) => Ok(Some(k)),
            // Many cards (and SoftHSM2) do OAEP with SHA-1 only; raw RSA on the card and the
            // OAEP decoding here keeps the key on the card all the same.
            Err(_) => Ok(session
                .decrypt(&Mechanism::RsaX509, self.handle, wrapped)
                .ok()
                .and_then(|em| oaep_decode(hash, &em, wrapped.len()))),
        }
    }
}

fn digest_alg(hash: Hash) -> &'static aws_lc_rs::digest::Algorithm {
    use aws_lc_rs::digest;
    match hash {
        Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        Hash::Sha256 => &digest::SHA256,
        Hash::Sha384 => &digest::SHA384,
        Hash::Sha512 => &digest::SHA512,
    }
}

fn mgf1(alg: &'static aws_lc_rs::digest::Algorithm, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut ctx = aws_lc_rs::digest::Context::new(alg);
        ctx.update(seed);
        ctx.update(&counter.to_be_bytes());
        out.extend_from_slice(ctx.finish().as_ref());
        counter += 1;
    }
    out.truncate(len);
    out
}

fn xor(data: &[u8], mask: Vec<u8>) -> Vec<u8> {
    data.iter().zip(mask).map(|(a, b)| a ^ b).collect()
}

/// EME-OAEP decoding (RFC 8017 §7.1.2) of a raw RSA result, empty label. Every check is
/// folded into one flag so that timing says nothing about which one failed.
fn oaep_decode(hash: Hash, raw: &[u8], k: usize) -> Option<Vec<u8>> {
    let alg = digest_alg(hash);
    let h_len = alg.output_len();
    if k < 2 * h_len + 2 || raw.len() > k {
        return None;
    }
    let mut em = vec![0u8; k - raw.len()];
    em.extend_from_slice(raw);
    let (masked_seed, masked_db) = em[1..].split_at(h_len);
    let seed = xor(masked_seed, mgf1(alg, masked_db, h_len));
    let db = xor(masked_db, mgf1(alg, &seed, masked_db.len()));
    let l_hash = aws_lc_rs::digest::digest(alg, b"");
    let mut bad = em[0];
    for (a, b) in db[..h_len].iter().zip(l_hash.as_ref()) {
        bad |= a ^ b;
    }
    // Find the 0x01 after the zero padding without branching on secret bytes.
    let mut found: u8 = 0;
    let mut index = 0usize;
    for (i, &b) in db[h_len..].iter().enumerate() {
        let is_one = (b == 1) as u8;
        let is_zero = (b == 0) as u8;
        let first = is_one & !found & 1;
        index |= (first as usize).wrapping_neg() & i;
        found |= is_one;
        bad |= !found & !is_zero & 1;
    }
    bad |= !found & 1;
    (bad == 0).then(|| db[h_len + index + 1..].to_vec())
}

/// PKCS#11 returns ECDSA signatures as r‖s; CMS carries SEQUENCE { INTEGER r, INTEGER s }.
fn ecdsa_der(raw: &[u8]) -> Result<Vec<u8>, TrustError> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) || raw.len() > 132 {
        return Err(key_err("權杖傳回的 ECDSA 簽章長度不正確"));
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let int = |v: &[u8]| {
        let v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
        let mut out = vec![0x02];
        let pad = v.first().is_none_or(|b| b & 0x80 != 0);
        out.push((v.len() + pad as usize) as u8);
        if pad {
            out.push(0);
        }
        out.extend_from_slice(&v);
        out
    };
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30];
    if body.len() >= 0x80 {
        out.push(0x81);
    }
    out.push(body.len() as u8);
    out.extend_from_slice(&body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_module_token_key_and_pin() {
        let u = TokenUri::parse(
            "pkcs11:token=gongwen;object=379130000C-enc;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
        )
        .unwrap();
        assert_eq!(u.module, "/usr/lib/softhsm/libsofthsm2.so");
        assert_eq!(u.token.as_deref(), Some("gongwen"));
        assert_eq!(u.object.as_deref(), Some("379130000C-enc"));
        assert_eq!(u.pin().unwrap(), "1234");
        let u = TokenUri::parse("pkcs11:id=%01%ff?module-path=/x.so").unwrap();
        assert_eq!(u.id, Some(vec![1, 0xff]));
        for bad in [
            "pkcs12:token=a",
            "pkcs11:token=a",
            "pkcs11:token=a?module-path=/x.so",
            "pkcs11:id=%zz?module-path=/x",
        ] {
            assert_eq!(
                TokenUri::parse(bad).unwrap_err().code(),
                "E_TRUST_KEY",
                "{bad}"
            );
        }
    }

    #[test]
    fn oaep_decoding_of_raw_rsa() {
        // An encoding built by hand per RFC 8017; the SoftHSM2 test in the CLI suite runs the
        // same decoder on real OAEP ciphertexts from aws-lc.
        let alg = digest_alg(Hash::Sha256);
        let k = 256;
        let msg = b"content-encryption key, 32 bytes";
        let seed = [7u8; 32];
        let mut db = aws_lc_rs::digest::digest(alg, b"").as_ref().to_vec();
        db.resize(k - 32 - 1 - msg.len() - 1, 0);
        db.push(1);
        db.extend_from_slice(msg);
        let masked_db = xor(&db, mgf1(alg, &seed, db.len()));
        let masked_seed = xor(&seed, mgf1(alg, &masked_db, 32));
        let em = [&[0u8][..], &masked_seed, &masked_db].concat();
        assert_eq!(oaep_decode(Hash::Sha256, &em, k).unwrap(), msg);
        // The leading zero may be dropped by a token; any flipped byte is refused.
        assert_eq!(oaep_decode(Hash::Sha256, &em[1..], k).unwrap(), msg);
        for i in [0, 5, 40, 200, 255] {
            let mut t = em.clone();
            t[i] ^= 1;
            assert!(oaep_decode(Hash::Sha256, &t, k).is_none(), "flip at {i}");
        }
    }

    #[test]
    fn ecdsa_signatures_are_reencoded_as_der() {
        let raw = [[0x80u8; 32], [0x01u8; 32]].concat();
        let der = ecdsa_der(&raw).unwrap();
        assert_eq!(&der[..4], &[0x30, 0x45, 0x02, 0x21]);
        assert_eq!(der[4], 0);
        assert!(ecdsa_der(&[1, 2, 3]).is_err());
    }
}
