//! Trust evaluation: from a certificate up to a configured trust anchor, each link's signature,
//! validity at the given time, CA constraints, revocation by CRL, and the key usage the purpose
//! needs. Who a certificate belongs to is not decided here: the directory binds keys to codes.

use aws_lc_rs::signature;
use der::oid as const_oid;
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::TrustError;

/// A chain longer than this is refused (ours has three links).
const MAX_DEPTH: usize = 8;

/// What a certificate is being used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Signing packages, receipts and approvals: digitalSignature or nonRepudiation.
    Signing,
    /// Receiving encrypted packages: keyEncipherment (RSA).
    Encryption,
    /// A center's or agent's HTTPS server: digitalSignature or keyEncipherment, and the
    /// serverAuth extended key usage when the certificate lists any.
    TlsServer,
    /// A node's client certificate for mutual TLS: digitalSignature, and clientAuth when the
    /// certificate lists extended key usages.
    TlsClient,
}

impl Purpose {
    pub fn label(self) -> &'static str {
        match self {
            Purpose::Signing => "簽章",
            Purpose::Encryption => "加密",
            Purpose::TlsServer => "TLS 伺服器",
            Purpose::TlsClient => "TLS 用戶端",
        }
    }
}

/// What to do when a CA's CRL is missing or past its nextUpdate: `stale_crl` in a service's
/// configuration (`refuse` or `warn`), `--stale-crl` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StaleCrl {
    /// Refuse the certificate (the default).
    #[default]
    Refuse,
    /// Accept it, with a warning.
    Warn,
}

impl StaleCrl {
    /// The values a configuration may give, as a person reads them.
    pub const ALLOWED: &str = "refuse（拒收，預設）或 warn（警告後接受）";

    /// The value as written in a configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            StaleCrl::Refuse => "refuse",
            StaleCrl::Warn => "warn",
        }
    }
}

impl std::str::FromStr for StaleCrl {
    /// What is wrong, in zh-TW, to be put after the field's name.
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "refuse" => Ok(StaleCrl::Refuse),
            "warn" => Ok(StaleCrl::Warn),
            other => Err(format!("「{other}」不認得，應為 {}", Self::ALLOWED)),
        }
    }
}

impl serde::Serialize for StaleCrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for StaleCrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e| serde::de::Error::custom(format!("stale_crl{e}")))
    }
}

/// Trust anchors (root certificates) and the CRLs known for their hierarchy.
pub struct TrustStore {
    pub anchors: Vec<Certificate>,
    pub crls: Vec<CertificateList>,
    pub stale_crl: StaleCrl,
}

/// A certificate found good, with anything the caller should tell a person.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Leaf first, anchor last. Shared: evaluations are cached and handed out per request.
    pub chain: std::sync::Arc<[Certificate]>,
    /// zh-TW warnings (e.g. a stale CRL under [`StaleCrl::Warn`]).
    pub warnings: Vec<String>,
}

fn untrusted(detail: impl Into<String>) -> TrustError {
    TrustError::Untrusted {
        detail: detail.into(),
    }
}

/// The subject's distinguished name (RFC 4514 text), for messages.
pub fn display_name(cert: &Certificate) -> String {
    cert.tbs_certificate.subject.to_string()
}

pub fn roc_datetime(secs: i64) -> String {
    gongwen_doc::RocDate::from_unix_taipei(secs)
        .map(|d| d.to_string())
        .unwrap_or_else(|_| secs.to_string())
}

fn verify_signed(
    tbs: &[u8],
    alg: &AlgorithmIdentifierOwned,
    sig: &[u8],
    issuer: &Certificate,
) -> bool {
    use crate::cms::{
        ECDSA_SHA256, ECDSA_SHA384, SHA256_WITH_RSA, SHA384_WITH_RSA, SHA512_WITH_RSA,
    };
    let v: &'static dyn signature::VerificationAlgorithm = match alg.oid {
        SHA256_WITH_RSA => &signature::RSA_PKCS1_2048_8192_SHA256,
        SHA384_WITH_RSA => &signature::RSA_PKCS1_2048_8192_SHA384,
        SHA512_WITH_RSA => &signature::RSA_PKCS1_2048_8192_SHA512,
        ECDSA_SHA256 => &signature::ECDSA_P256_SHA256_ASN1,
        ECDSA_SHA384 => &signature::ECDSA_P384_SHA384_ASN1,
        _ => return false,
    };
    crate::cms::signature_ok(v, crate::cms::public_key(issuer), tbs, sig)
}

fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    cert.tbs_certificate.issuer == issuer.tbs_certificate.subject
        && cert.tbs_certificate.to_der().is_ok_and(|tbs| {
            verify_signed(
                &tbs,
                &cert.signature_algorithm,
                cert.signature.raw_bytes(),
                issuer,
            )
        })
}

fn extension<T: for<'a> Decode<'a> + der::oid::AssociatedOid>(cert: &Certificate) -> Option<T> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == T::OID)
        .and_then(|e| T::from_der(e.extn_value.as_bytes()).ok())
}

fn check_time(cert: &Certificate, at: i64) -> Result<(), TrustError> {
    let v = &cert.tbs_certificate.validity;
    let from = v.not_before.to_unix_duration().as_secs() as i64;
    let to = v.not_after.to_unix_duration().as_secs() as i64;
    if at < from || at > to {
        return Err(TrustError::Expired {
            detail: format!(
                "「{}」的效期為 {} 至 {}，不含 {}",
                display_name(cert),
                roc_datetime(from),
                roc_datetime(to),
                roc_datetime(at)
            ),
        });
    }
    Ok(())
}

impl TrustStore {
    /// Reads root certificates and CRLs (files, or folders of `.crl`/`.pem`) as a service's
    /// configuration names them. Errors name the file.
    pub fn from_files(
        anchors: &[std::path::PathBuf],
        crls: &[std::path::PathBuf],
        stale_crl: StaleCrl,
    ) -> Result<TrustStore, TrustError> {
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|e| TrustError::Io {
                path: p.display().to_string(),
                detail: e.to_string(),
            })
        };
        let named = |p: &std::path::Path, e: TrustError| match e {
            TrustError::Malformed { detail } => TrustError::Malformed {
                detail: format!("{}：{detail}", p.display()),
            },
            other => other,
        };
        let mut store = TrustStore {
            anchors: Vec::new(),
            crls: Vec::new(),
            stale_crl,
        };
        for p in anchors {
            store
                .anchors
                .extend(crate::cms::load_certs(&read(p)?).map_err(|e| named(p, e))?);
        }
        for p in crl_files(crls) {
            store
                .crls
                .extend(load_crls(&read(&p)?).map_err(|e| named(&p, e))?);
        }
        Ok(store)
    }

    /// Is `cert`, issued by `issuer`, revoked at `at`? Uses a CRL that `issuer` signed.
    fn revocation(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        at: i64,
        warnings: &mut Vec<String>,
    ) -> Result<(), TrustError> {
        let crl = self.crls.iter().find(|c| {
            c.tbs_cert_list.issuer == issuer.tbs_certificate.subject
                && c.tbs_cert_list.to_der().is_ok_and(|tbs| {
                    verify_signed(
                        &tbs,
                        &c.signature_algorithm,
                        c.signature.raw_bytes(),
                        issuer,
                    )
                })
        });
        let stale = |detail: String, warnings: &mut Vec<String>| match self.stale_crl {
            StaleCrl::Refuse => Err(TrustError::CrlStale { detail }),
            StaleCrl::Warn => {
                warnings.push(detail);
                Ok(())
            }
        };
        let Some(crl) = crl else {
            return stale(
                format!(
                    "沒有「{}」的有效廢止清冊（CRL），無法確認是否已撤銷",
                    display_name(issuer)
                ),
                warnings,
            );
        };
        let tbs = &crl.tbs_cert_list;
        if let Some(next) = &tbs.next_update {
            let next = next.to_unix_duration().as_secs() as i64;
            if at > next {
                stale(
                    format!(
                        "「{}」的廢止清冊已於 {} 過期，請更新",
                        display_name(issuer),
                        roc_datetime(next)
                    ),
                    warnings,
                )?;
            }
        }
        let serial = &cert.tbs_certificate.serial_number;
        if let Some(r) = tbs
            .revoked_certificates
            .iter()
            .flatten()
            .find(|r| &r.serial_number == serial)
        {
            let when = r.revocation_date.to_unix_duration().as_secs() as i64;
            if when <= at {
                return Err(TrustError::Revoked {
                    detail: format!(
                        "「{}」（序號 {}）已於 {} 撤銷",
                        display_name(cert),
                        serial,
                        roc_datetime(when)
                    ),
                });
            }
        }
        Ok(())
    }

    /// Builds and checks the path from `cert` to an anchor at time `at`, with `intermediates`
    /// (e.g. the certificates a signed message carries) as candidate issuers.
    pub fn evaluate(
        &self,
        cert: &Certificate,
        intermediates: &[Certificate],
        at: i64,
        purpose: Purpose,
    ) -> Result<Evaluation, TrustError> {
        if self.anchors.is_empty() {
            return Err(untrusted("沒有設定任何信任的根憑證"));
        }
        let mut warnings = Vec::new();
        let ku: Option<KeyUsage> = extension(cert);
        let ok = match (purpose, ku) {
            (_, None) => true,
            (Purpose::Signing, Some(k)) => k.digital_signature() || k.non_repudiation(),
            (Purpose::Encryption, Some(k)) => k.key_encipherment(),
            (Purpose::TlsServer, Some(k)) => k.digital_signature() || k.key_encipherment(),
            (Purpose::TlsClient, Some(k)) => k.digital_signature(),
        };
        // Extended key usage is checked where it decides something: TLS. (Signing and
        // encryption certificates of the national CAs carry varying EKUs.)
        use const_oid::db::rfc5280::{
            ANY_EXTENDED_KEY_USAGE, ID_KP_CLIENT_AUTH, ID_KP_SERVER_AUTH,
        };
        let eku: Option<ExtendedKeyUsage> = extension(cert);
        let wanted = match purpose {
            Purpose::TlsServer => Some(ID_KP_SERVER_AUTH),
            Purpose::TlsClient => Some(ID_KP_CLIENT_AUTH),
            Purpose::Signing | Purpose::Encryption => None,
        };
        let eku_ok = match (wanted, &eku) {
            (Some(w), Some(e)) => e.0.iter().any(|o| *o == w || *o == ANY_EXTENDED_KEY_USAGE),
            _ => true,
        };
        if !ok || !eku_ok {
            return Err(TrustError::WrongUsage {
                detail: format!(
                    "「{}」的金鑰用途不允許{}",
                    display_name(cert),
                    purpose.label()
                ),
            });
        }
        // First the path to an anchor, then time and revocation along it: "untrusted" is
        // the more fundamental answer and comes first.
        let mut chain = vec![cert.clone()];
        let mut current = cert.clone();
        while !self.anchors.contains(&current) {
            if chain.len() > MAX_DEPTH {
                return Err(untrusted("憑證鏈過長"));
            }
            let issuer = self
                .anchors
                .iter()
                .chain(intermediates)
                .find(|c| **c != current && issued_by(&current, c))
                .cloned()
                .ok_or_else(|| {
                    untrusted(format!(
                        "找不到「{}」的簽發者，無法連到信任的根憑證",
                        display_name(&current)
                    ))
                })?;
            let bc: Option<BasicConstraints> = extension(&issuer);
            if !bc.is_some_and(|b| b.ca) {
                return Err(untrusted(format!(
                    "「{}」不是憑證中心，不能簽發憑證",
                    display_name(&issuer)
                )));
            }
            chain.push(issuer.clone());
            current = issuer;
        }
        for c in &chain {
            check_time(c, at)?;
        }
        for pair in chain.windows(2) {
            self.revocation(&pair[0], &pair[1], at, &mut warnings)?;
        }
        Ok(Evaluation {
            chain: chain.into(),
            warnings,
        })
    }
}

/// Warnings for certificates in `chain` that expire within `days` of `now` (the yearly renewal
/// of an agency's IC card should not come as a surprise).
pub fn expiry_warnings(chain: &[Certificate], now: i64, days: u32) -> Vec<String> {
    chain
        .iter()
        .filter_map(|c| {
            let end = not_after(c);
            let left = end - now;
            (left >= 0 && left <= days as i64 * 86_400).then(|| {
                format!(
                    "「{}」將於 {} 到期（剩 {} 天），請儘早申請換發",
                    display_name(c),
                    roc_datetime(end),
                    left / 86_400
                )
            })
        })
        .collect()
}

/// How often, at most, [`LiveTrust`] looks at its CRL files again.
pub const CRL_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// What the CRL files look like: name, modification time and length of each.
type CrlFingerprint = Vec<(std::path::PathBuf, Option<std::time::SystemTime>, u64)>;

fn crl_fingerprint(paths: &[std::path::PathBuf]) -> CrlFingerprint {
    crl_files(paths)
        .into_iter()
        .map(|f| {
            let m = std::fs::metadata(&f).ok();
            let modified = m.as_ref().and_then(|m| m.modified().ok());
            (f, modified, m.map(|m| m.len()).unwrap_or(0))
        })
        .collect()
}

/// A trust store whose CRLs follow their files: a CRL written, replaced or removed counts
/// from the next check on (at most [`CRL_CHECK_EVERY`] later), without a restart. A file that
/// cannot be read or parsed (caught mid-write) keeps the CRLs read before and is tried again.
/// Whether a CRL is stale (past its nextUpdate) is decided at each evaluation.
pub struct LiveTrust {
    anchors: Vec<std::path::PathBuf>,
    crls: Vec<std::path::PathBuf>,
    stale_crl: StaleCrl,
    current: std::sync::RwLock<(std::sync::Arc<TrustStore>, u64)>,
    watch: std::sync::Mutex<(std::time::Instant, CrlFingerprint)>,
}

impl LiveTrust {
    /// Reads the anchors and CRLs as [`TrustStore::from_files`] does.
    pub fn from_files(
        anchors: &[std::path::PathBuf],
        crls: &[std::path::PathBuf],
        stale_crl: StaleCrl,
    ) -> Result<LiveTrust, TrustError> {
        let seen = crl_fingerprint(crls);
        let store = TrustStore::from_files(anchors, crls, stale_crl)?;
        Ok(LiveTrust {
            anchors: anchors.to_vec(),
            crls: crls.to_vec(),
            stale_crl,
            current: std::sync::RwLock::new((std::sync::Arc::new(store), 0)),
            watch: std::sync::Mutex::new((std::time::Instant::now(), seen)),
        })
    }

    /// The store as the files are now, and its generation (which changes with every reload,
    /// so a cache of evaluations knows what it was computed with).
    pub fn current(&self) -> (std::sync::Arc<TrustStore>, u64) {
        if let Ok(mut w) = self.watch.try_lock()
            && w.0.elapsed() >= CRL_CHECK_EVERY
        {
            w.0 = std::time::Instant::now();
            let seen = crl_fingerprint(&self.crls);
            // On an error the store is kept as it was, and `seen` too, so the next check
            // tries again.
            if seen != w.1
                && let Ok(store) = TrustStore::from_files(&self.anchors, &self.crls, self.stale_crl)
            {
                let mut cur = self.current.write().unwrap_or_else(|e| e.into_inner());
                *cur = (std::sync::Arc::new(store), cur.1 + 1);
                w.1 = seen;
            }
        }
        let cur = self.current.read().unwrap_or_else(|e| e.into_inner());
        (cur.0.clone(), cur.1)
    }

    /// The store as the files are now.
    pub fn store(&self) -> std::sync::Arc<TrustStore> {
        self.current().0
    }

    pub fn stale_crl(&self) -> StaleCrl {
        self.stale_crl
    }
}

/// CRL files named directly or found in named folders.
pub fn crl_files(paths: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(p) {
                let mut files: Vec<std::path::PathBuf> = rd
                    .flatten()
                    .map(|e| e.path())
                    .filter(|f| f.extension().is_some_and(|e| e == "crl" || e == "pem"))
                    .collect();
                files.sort();
                out.extend(files);
            }
        } else {
            out.push(p.clone());
        }
    }
    out
}

/// CRLs from PEM text (`X509 CRL` blocks) or DER.
pub fn load_crls(data: &[u8]) -> Result<Vec<CertificateList>, TrustError> {
    let bad = |e: String| TrustError::Key {
        detail: format!("廢止清冊（CRL）無法解讀：{e}"),
    };
    if !data.trim_ascii_start().starts_with(b"-----BEGIN") {
        return Ok(vec![
            CertificateList::from_der(data).map_err(|e| bad(e.to_string()))?,
        ]);
    }
    let text = std::str::from_utf8(data).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN") {
        let end_marker = rest[start..]
            .find("-----END")
            .and_then(|e| rest[start + e..].find("\n").map(|n| start + e + n + 1))
            .unwrap_or(rest.len());
        let (label, der) = der::pem::decode_vec(rest[start..end_marker].trim().as_bytes())
            .map_err(|e| bad(e.to_string()))?;
        if label == "X509 CRL" {
            out.push(CertificateList::from_der(&der).map_err(|e| bad(e.to_string()))?);
        }
        rest = &rest[end_marker..];
    }
    Ok(out)
}

/// SHA-256 of the certificate's SubjectPublicKeyInfo: what the directory binds to a code.
pub fn spki_sha256(cert: &Certificate) -> Result<[u8; 32], TrustError> {
    let der = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| TrustError::Malformed {
            detail: e.to_string(),
        })?;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    Ok(out)
}

/// Is `cert`'s key one the directory lists for `code`? (`who` names the signer in the
/// message: 簽署憑證, 回執簽署憑證 …)
pub fn check_binding(
    cert: &Certificate,
    code: &str,
    bound_keys: &dyn Fn(&str) -> Vec<[u8; 32]>,
    who: &str,
) -> Result<(), TrustError> {
    let key = spki_sha256(cert)?;
    if bound_keys(code).contains(&key) {
        return Ok(());
    }
    Err(TrustError::NotBound {
        detail: format!(
            "{who}（公鑰 SHA-256 {}）未登記為機關代碼 {code} 所有",
            hex(&key)
        ),
    })
}

/// The 32 bytes a 64-digit hex string spells (a key digest as the directory lists it).
pub fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Lower-case hex, as `pki issue` prints it.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a certificate is for, read from its key usage and extended key usage: how an
/// administrator's certificate file is filed without asking. `None` when it says nothing.
pub fn primary_purpose(cert: &Certificate) -> Option<Purpose> {
    let eku: Option<ExtendedKeyUsage> = extension(cert);
    if let Some(e) = &eku {
        if e.0.contains(&const_oid::db::rfc5280::ID_KP_CLIENT_AUTH) {
            return Some(Purpose::TlsClient);
        }
        if e.0.contains(&const_oid::db::rfc5280::ID_KP_SERVER_AUTH) {
            return Some(Purpose::TlsServer);
        }
    }
    let ku: KeyUsage = extension(cert)?;
    if ku.key_encipherment() && !ku.digital_signature() && !ku.non_repudiation() {
        Some(Purpose::Encryption)
    } else if ku.digital_signature() || ku.non_repudiation() {
        Some(Purpose::Signing)
    } else {
        None
    }
}

/// The end of a certificate's validity, Unix seconds.
pub fn not_after(cert: &Certificate) -> i64 {
    cert.tbs_certificate
        .validity
        .not_after
        .to_unix_duration()
        .as_secs() as i64
}

#[cfg(test)]
mod tests {
    use super::StaleCrl;

    #[derive(Debug, serde::Deserialize, serde::Serialize)]
    struct Config {
        stale_crl: StaleCrl,
    }

    #[test]
    fn stale_crl_reads_its_two_values_and_refuses_others() {
        for (text, want) in [("refuse", StaleCrl::Refuse), ("warn", StaleCrl::Warn)] {
            let c: Config = toml::from_str(&format!("stale_crl = \"{text}\"")).unwrap();
            assert_eq!(c.stale_crl, want);
            assert_eq!(
                toml::to_string(&c).unwrap().trim(),
                format!("stale_crl = \"{text}\"")
            );
        }
        let e = toml::from_str::<Config>("stale_crl = \"warnn\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("stale_crl「warnn」不認得"), "{e}");
        assert!(e.contains("refuse") && e.contains("warn（"), "{e}");
        assert_eq!(StaleCrl::default(), StaleCrl::Refuse);
    }
}
