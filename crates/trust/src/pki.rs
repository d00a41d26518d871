//! The built-in test CA (`gongwen pki`): a look-alike of Taiwan's PKI for development, tests and
//! private deployments.
//!
//! ```text
//! DIR/ca.toml                 what was issued and revoked (the CA's register)
//! DIR/root.crt, root.key      測試根憑證中心
//! DIR/{gca,xca,moeaca,moica}.crt/.key   the four intermediates
//! DIR/issued/<名稱>-sign.crt/.key, -enc.crt/.key, -chain.pem
//! DIR/crl/<ca>.crl            one CRL per CA, re-issued on every revocation
//! ```
//!
//! Keys are PKCS#8 PEM files readable by their owner only. A test CA's keys live on disk by
//! design; real certificates and their keys are imported, never made here.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::TrustError;
use crate::package::sha256_hex;

/// The intermediate CAs, after the real hierarchy: who certifies whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Branch {
    /// 政府憑證管理中心: government agencies.
    Gca,
    /// 組織及團體憑證管理中心: organisations, schools and groups.
    Xca,
    /// 工商憑證管理中心: companies.
    Moeaca,
    /// 內政部憑證管理中心: natural persons (citizen digital certificates).
    Moica,
}

impl Branch {
    pub const ALL: [Branch; 4] = [Branch::Gca, Branch::Xca, Branch::Moeaca, Branch::Moica];

    pub fn stem(self) -> &'static str {
        match self {
            Branch::Gca => "gca",
            Branch::Xca => "xca",
            Branch::Moeaca => "moeaca",
            Branch::Moica => "moica",
        }
    }

    pub fn parse(s: &str) -> Result<Branch, TrustError> {
        Branch::ALL
            .into_iter()
            .find(|b| b.stem().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| TrustError::Request {
                detail: format!("憑證中心「{s}」不存在，應為 gca、xca、moeaca 或 moica"),
            })
    }

    fn common_name(self) -> &'static str {
        match self {
            Branch::Gca => "政府憑證管理中心（測試）",
            Branch::Xca => "組織及團體憑證管理中心（測試）",
            Branch::Moeaca => "工商憑證管理中心（測試）",
            Branch::Moica => "內政部憑證管理中心（測試）",
        }
    }
}

const ROOT_NAME: &str = "Gongwen 測試根憑證中心";
const ROOT_STEM: &str = "root";
/// The attribute type serialNumber (2.5.4.5): where the 機關代碼 is written, for people to read.
/// Who a certificate belongs to is decided by the directory's key binding, never by this.
const SERIAL_NUMBER_ATTR: [u64; 4] = [2, 5, 4, 5];

/// Key algorithm of a new key pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyType {
    #[serde(rename = "rsa2048")]
    Rsa2048,
    #[serde(rename = "rsa3072")]
    Rsa3072,
    #[serde(rename = "p256")]
    P256,
}

impl KeyType {
    pub fn parse(s: &str) -> Result<KeyType, TrustError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rsa2048" | "rsa-2048" => Ok(KeyType::Rsa2048),
            "rsa3072" | "rsa-3072" => Ok(KeyType::Rsa3072),
            "p256" | "p-256" | "ec" => Ok(KeyType::P256),
            _ => Err(TrustError::Request {
                detail: format!("金鑰類型「{s}」不支援，應為 rsa2048、rsa3072 或 p256"),
            }),
        }
    }

    fn generate(self) -> Result<KeyPair, TrustError> {
        match self {
            KeyType::Rsa2048 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            }
            KeyType::Rsa3072 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_3072)
            }
            KeyType::P256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        }
        .map_err(TrustError::crypto)
    }
}

/// Whom a certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// An agency (GCA), an organisation, school or group (XCA) or a company (MOEACA). Gets two
    /// certificates, one for signing and one for encryption, like the real IC cards.
    Organisation {
        branch: Branch,
        /// 機關代碼 (or the organisation's code).
        code: String,
        name: String,
    },
    /// A natural person (MOICA): signing and encryption certificates, as on the citizen card.
    Person { name: String },
    /// A center's or agent's HTTPS server: DNS names and IP addresses.
    TlsServer { name: String, hosts: Vec<String> },
    /// A node's client certificate for mutual TLS.
    TlsClient { code: String, name: String },
}

impl Subject {
    fn branch(&self) -> Branch {
        match self {
            Subject::Organisation { branch, .. } => *branch,
            Subject::Person { .. } => Branch::Moica,
            Subject::TlsServer { .. } | Subject::TlsClient { .. } => Branch::Gca,
        }
    }

    /// The file name stem: the code where there is one, else the name.
    fn stem(&self) -> String {
        let raw = match self {
            Subject::Organisation { code, .. } | Subject::TlsClient { code, .. } => code.as_str(),
            Subject::Person { name } | Subject::TlsServer { name, .. } => name.as_str(),
        };
        raw.replace(
            |c: char| !(c.is_alphanumeric() || c == '-' || c == '.'),
            "_",
        )
    }

    fn check(&self) -> Result<(), TrustError> {
        let bad = |detail: String| Err(TrustError::Request { detail });
        let (code, name) = match self {
            Subject::Organisation { code, name, .. } | Subject::TlsClient { code, name } => {
                (Some(code), name)
            }
            Subject::Person { name } => (None, name),
            Subject::TlsServer { name, hosts } => {
                if hosts.is_empty() {
                    return bad("TLS 伺服器憑證至少要有一個主機名稱或 IP 位址".into());
                }
                (None, name)
            }
        };
        if name.trim().is_empty() || name.chars().count() > 64 {
            return bad(format!("名稱「{name}」應為 1 到 64 個字"));
        }
        if let Some(code) = code {
            gongwen_proto::directory::check_code(code).or_else(bad)?;
        }
        if matches!(self, Subject::TlsServer { .. } | Subject::TlsClient { .. }) {
            return Ok(());
        }
        if matches!(
            self,
            Subject::Organisation {
                branch: Branch::Moica,
                ..
            }
        ) {
            return bad("機關、團體與公司的憑證不由內政部憑證管理中心（moica）簽發".into());
        }
        Ok(())
    }
}

/// What one certificate is for, as people call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Usage {
    #[serde(rename = "簽章")]
    Signing,
    #[serde(rename = "加密")]
    Encryption,
    #[serde(rename = "TLS伺服器")]
    TlsServer,
    #[serde(rename = "TLS用戶端")]
    TlsClient,
}

impl Usage {
    pub fn label(self) -> &'static str {
        match self {
            Usage::Signing => "簽章",
            Usage::Encryption => "加密",
            Usage::TlsServer => "TLS伺服器",
            Usage::TlsClient => "TLS用戶端",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Usage::Signing => "sign",
            Usage::Encryption => "enc",
            Usage::TlsServer => "server",
            Usage::TlsClient => "client",
        }
    }
}

/// A line of the CA's register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Hexadecimal, as `openssl x509 -serial` prints it.
    pub serial: String,
    pub issuer: Branch,
    pub name: String,
    #[serde(default)]
    pub code: Option<String>,
    pub usage: Usage,
    pub key: KeyType,
    /// Unix seconds.
    pub not_after: i64,
    /// The certificate file, relative to the CA directory.
    pub file: String,
    #[serde(default)]
    pub revoked_at: Option<i64>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    version: u32,
    next_serial: u64,
    crl_number: u64,
    #[serde(default, rename = "cert")]
    certs: Vec<Record>,
}

/// How `pki init` builds the CA.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub key: KeyType,
    /// Years the root is valid; intermediates get one year less.
    pub years: u32,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            key: KeyType::Rsa2048,
            years: 20,
        }
    }
}

/// One certificate request for `pki issue`.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub subject: Subject,
    pub key: KeyType,
    pub days: u32,
}

/// What `pki issue` wrote.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    pub record: Record,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// The intermediate and the root, for `openssl verify -untrusted` and for sending along.
    pub chain_file: PathBuf,
    /// SHA-256 of the certificate's SubjectPublicKeyInfo, hex: what the directory binds to a code.
    pub spki_sha256: String,
}

/// A test CA directory.
pub struct TestCa {
    dir: PathBuf,
    state: State,
}

fn now_dt(now: i64) -> Result<OffsetDateTime, TrustError> {
    OffsetDateTime::from_unix_timestamp(now).map_err(|_| TrustError::Request {
        detail: format!("時間 {now} 超出範圍"),
    })
}

/// Creates (or truncates) a file; a `private` one (a key, a sealed package, a document just
/// opened) only its owner may read (0600).
pub(crate) fn create_file(path: &Path, private: bool) -> std::io::Result<fs::File> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    o.open(path)
}

/// Writes through a temporary file and renames it into place; `private` files (keys) are
/// readable by their owner only.
pub fn write_file(path: &Path, data: &[u8], private: bool) -> Result<(), TrustError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = create_file(&tmp, private).map_err(|e| TrustError::io(&tmp, e))?;
    f.write_all(data).map_err(|e| TrustError::io(&tmp, e))?;
    f.sync_all().map_err(|e| TrustError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| TrustError::io(path, e))
}

/// A key (readable by its owner only) and its certificate: `{stem}.key` and `{stem}.crt` in `dir`.
fn write_pair(
    dir: &Path,
    stem: &str,
    key: &KeyPair,
    cert: &rcgen::Certificate,
) -> Result<(), TrustError> {
    write_file(
        &dir.join(format!("{stem}.key")),
        key.serialize_pem().as_bytes(),
        true,
    )?;
    write_file(
        &dir.join(format!("{stem}.crt")),
        cert.pem().as_bytes(),
        false,
    )
}

fn read_text(path: &Path) -> Result<String, TrustError> {
    fs::read_to_string(path).map_err(|e| TrustError::io(path, e))
}

fn dn(name: &str, org: Option<&str>, code: Option<&str>) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    // `C=TW` is a PrintableString (two ASCII capitals always convert).
    if let Ok(c) = rcgen::string::PrintableString::try_from("TW") {
        d.push(DnType::CountryName, DnValue::PrintableString(c));
    }
    if let Some(o) = org {
        d.push(DnType::OrganizationName, o);
    }
    if let Some(c) = code.and_then(|c| rcgen::string::PrintableString::try_from(c).ok()) {
        d.push(
            DnType::CustomDnType(SERIAL_NUMBER_ATTR.to_vec()),
            DnValue::PrintableString(c),
        );
    }
    d.push(DnType::CommonName, name);
    d
}

/// The parameters of a CA certificate: rebuilt the same way whenever the CA signs, so the
/// issuer name in what it signs matches its certificate exactly.
fn ca_params(stem: &str) -> Result<CertificateParams, TrustError> {
    let mut p = CertificateParams::default();
    let (cn, path_len) = if stem == ROOT_STEM {
        (ROOT_NAME, 1)
    } else {
        (Branch::parse(stem)?.common_name(), 0)
    };
    p.distinguished_name = dn(cn, Some("Gongwen 測試用憑證"), None);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.use_authority_key_identifier_extension = stem != ROOT_STEM;
    Ok(p)
}

impl TestCa {
    fn state_path(dir: &Path) -> PathBuf {
        dir.join("ca.toml")
    }

    /// Makes a new CA in `dir` (created if missing; refused if it already holds one).
    pub fn init(dir: &Path, opts: &InitOptions, now: i64) -> Result<TestCa, TrustError> {
        if Self::state_path(dir).exists() {
            return Err(TrustError::CaExists {
                path: dir.display().to_string(),
            });
        }
        if opts.years < 2 || opts.years > 50 {
            return Err(TrustError::Request {
                detail: format!("根憑證效期 {} 年不合理，應為 2 到 50 年", opts.years),
            });
        }
        for d in [dir.to_path_buf(), dir.join("issued"), dir.join("crl")] {
            fs::create_dir_all(&d).map_err(|e| TrustError::io(&d, e))?;
        }
        let start = now_dt(now - 300)?;
        let year = 365 * 86_400;
        let mut root = ca_params(ROOT_STEM)?;
        root.not_before = start;
        root.not_after = now_dt(now + opts.years as i64 * year)?;
        root.serial_number = Some(SerialNumber::from_slice(&[1]));
        let root_key = opts.key.generate()?;
        let root_cert = root.self_signed(&root_key).map_err(TrustError::crypto)?;
        write_pair(dir, ROOT_STEM, &root_key, &root_cert)?;
        let root_issuer = Issuer::new(root, root_key);
        for (i, b) in Branch::ALL.into_iter().enumerate() {
            let mut p = ca_params(b.stem())?;
            p.not_before = start;
            p.not_after = now_dt(now + (opts.years as i64 - 1) * year)?;
            p.serial_number = Some(SerialNumber::from_slice(&[2 + i as u8]));
            let key = opts.key.generate()?;
            let cert = p
                .signed_by(&key, &root_issuer)
                .map_err(TrustError::crypto)?;
            write_pair(dir, b.stem(), &key, &cert)?;
        }
        let mut ca = TestCa {
            dir: dir.to_path_buf(),
            state: State {
                version: 1,
                next_serial: 0x1000,
                crl_number: 0,
                certs: Vec::new(),
            },
        };
        ca.write_crls(now)?;
        Ok(ca)
    }

    /// Opens a CA made by [`TestCa::init`].
    pub fn open(dir: &Path) -> Result<TestCa, TrustError> {
        let bad = |detail: String| TrustError::CaState {
            path: dir.display().to_string(),
            detail,
        };
        let text = fs::read_to_string(Self::state_path(dir)).map_err(|e| {
            bad(match e.kind() {
                std::io::ErrorKind::NotFound => "沒有 ca.toml（請先執行 gongwen pki init）".into(),
                _ => e.to_string(),
            })
        })?;
        let state: State =
            toml::from_str(&text).map_err(|e| bad(format!("ca.toml 無法解讀：{}", e.message())))?;
        if state.version != 1 {
            return Err(bad(format!("ca.toml 版本 {} 不支援", state.version)));
        }
        Ok(TestCa {
            dir: dir.to_path_buf(),
            state,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn records(&self) -> &[Record] {
        &self.state.certs
    }

    pub fn root_file(&self) -> PathBuf {
        self.dir.join("root.crt")
    }

    pub fn ca_file(&self, b: Branch) -> PathBuf {
        self.dir.join(format!("{}.crt", b.stem()))
    }

    pub fn crl_file(&self, stem: &str) -> PathBuf {
        self.dir.join("crl").join(format!("{stem}.crl"))
    }

    fn save(&self) -> Result<(), TrustError> {
        let text = toml::to_string(&self.state).map_err(|e| TrustError::CaState {
            path: self.dir.display().to_string(),
            detail: e.to_string(),
        })?;
        let text = format!(
            "# Gongwen 測試憑證中心的簽發紀錄（由 gongwen pki 維護，請勿手動修改）\n{text}"
        );
        write_file(&Self::state_path(&self.dir), text.as_bytes(), false)
    }

    fn issuer(&self, stem: &str) -> Result<Issuer<'static, KeyPair>, TrustError> {
        let key_path = self.dir.join(format!("{stem}.key"));
        let key = KeyPair::from_pem(&read_text(&key_path)?).map_err(|e| TrustError::CaState {
            path: self.dir.display().to_string(),
            detail: format!("{} 無法讀取：{e}", key_path.display()),
        })?;
        Ok(Issuer::new(ca_params(stem)?, key))
    }

    fn serial(&mut self) -> (SerialNumber, String) {
        let n = self.state.next_serial;
        self.state.next_serial += 1;
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        let hex = bytes.iter().map(|b| format!("{b:02X}")).collect();
        (SerialNumber::from_slice(&bytes), hex)
    }

    /// Issues the certificates a subject needs: two (signing + encryption) for organisations
    /// and persons, one for TLS.
    pub fn issue(&mut self, req: &IssueRequest, now: i64) -> Result<Vec<IssuedCert>, TrustError> {
        req.subject.check()?;
        if req.days == 0 || req.days > 3650 {
            return Err(TrustError::Request {
                detail: format!("效期 {} 天不合理，應為 1 到 3650 天", req.days),
            });
        }
        let branch = req.subject.branch();
        let issuer = self.issuer(branch.stem())?;
        let usages: &[Usage] = match &req.subject {
            Subject::Organisation { .. } | Subject::Person { .. } => {
                &[Usage::Signing, Usage::Encryption]
            }
            Subject::TlsServer { .. } => &[Usage::TlsServer],
            Subject::TlsClient { .. } => &[Usage::TlsClient],
        };
        let stem = req.subject.stem();
        let chain = format!(
            "{}{}",
            read_text(&self.ca_file(branch))?,
            read_text(&self.root_file())?
        );
        let chain_file = self.dir.join("issued").join(format!("{stem}-chain.pem"));
        // Never overwrite a key: a second issue for the same subject is refused before
        // anything is generated.
        for usage in usages {
            let f = self
                .dir
                .join(format!("issued/{stem}-{}.crt", usage.suffix()));
            if f.exists() {
                return Err(TrustError::Request {
                    detail: format!(
                        "{} 已存在；同一對象要換發憑證，請先撤銷舊憑證並移走舊檔",
                        f.display()
                    ),
                });
            }
        }
        let mut out = Vec::new();
        for &usage in usages {
            let (serial, serial_hex) = self.serial();
            let mut p = CertificateParams::default();
            p.serial_number = Some(serial);
            p.not_before = now_dt(now - 300)?;
            let not_after = now + req.days as i64 * 86_400;
            p.not_after = now_dt(not_after)?;
            p.use_authority_key_identifier_extension = true;
            let (name, code) = match &req.subject {
                Subject::Organisation { code, name, .. } | Subject::TlsClient { code, name } => {
                    (name.clone(), Some(code.clone()))
                }
                Subject::Person { name } | Subject::TlsServer { name, .. } => (name.clone(), None),
            };
            // Organisations and TLS clients: the name is the organisation's too.
            let org = code.is_some().then_some(name.as_str());
            p.distinguished_name = dn(&name, org, code.as_deref());
            p.key_usages = match (usage, req.key) {
                (Usage::Signing, _) => vec![
                    KeyUsagePurpose::DigitalSignature,
                    KeyUsagePurpose::ContentCommitment,
                ],
                (Usage::Encryption, KeyType::P256) => vec![KeyUsagePurpose::KeyAgreement],
                (Usage::Encryption, _) => vec![
                    KeyUsagePurpose::KeyEncipherment,
                    KeyUsagePurpose::DataEncipherment,
                ],
                (Usage::TlsServer | Usage::TlsClient, KeyType::P256) => {
                    vec![KeyUsagePurpose::DigitalSignature]
                }
                (Usage::TlsServer | Usage::TlsClient, _) => vec![
                    KeyUsagePurpose::DigitalSignature,
                    KeyUsagePurpose::KeyEncipherment,
                ],
            };
            match usage {
                Usage::TlsServer => {
                    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
                    if let Subject::TlsServer { hosts, .. } = &req.subject {
                        for h in hosts {
                            p.subject_alt_names
                                .push(match h.parse::<std::net::IpAddr>() {
                                    Ok(ip) => SanType::IpAddress(ip),
                                    Err(_) => {
                                        SanType::DnsName(h.clone().try_into().map_err(|_| {
                                            TrustError::Request {
                                                detail: format!(
                                                    "主機名稱「{h}」不是有效的 DNS 名稱"
                                                ),
                                            }
                                        })?)
                                    }
                                });
                        }
                    }
                }
                Usage::TlsClient => {
                    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth]
                }
                Usage::Signing | Usage::Encryption => {
                    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection]
                }
            }
            let key = req.key.generate()?;
            let cert = p.signed_by(&key, &issuer).map_err(TrustError::crypto)?;
            let spki_sha256 = sha256_hex(&rcgen::PublicKeyData::subject_public_key_info(&key));
            let base = format!("{stem}-{}", usage.suffix());
            let rel = format!("issued/{base}.crt");
            let cert_file = self.dir.join(&rel);
            let key_file = self.dir.join(format!("issued/{base}.key"));
            write_pair(&self.dir.join("issued"), &base, &key, &cert)?;
            let record = Record {
                serial: serial_hex,
                issuer: branch,
                name,
                code,
                usage,
                key: req.key,
                not_after,
                file: rel,
                revoked_at: None,
                reason: None,
            };
            self.state.certs.push(record.clone());
            out.push(IssuedCert {
                record,
                cert_file,
                key_file,
                chain_file: chain_file.clone(),
                spki_sha256,
            });
        }
        write_file(&chain_file, chain.as_bytes(), false)?;
        self.save()?;
        Ok(out)
    }

    /// Revokes a certificate by serial (hex, as `openssl x509 -serial` prints it) and re-issues
    /// the CRLs.
    pub fn revoke(
        &mut self,
        serial: &str,
        reason: Option<&str>,
        now: i64,
    ) -> Result<Record, TrustError> {
        let want = serial.trim().trim_start_matches("0x").to_ascii_uppercase();
        let want = want.trim_start_matches('0');
        let reason = reason.map(parse_reason).transpose()?;
        let rec = self
            .state
            .certs
            .iter_mut()
            .find(|r| r.serial.trim_start_matches('0') == want)
            .ok_or_else(|| TrustError::Request {
                detail: format!("找不到序號 {serial} 的憑證（gongwen pki list 可列出全部）"),
            })?;
        if rec.revoked_at.is_some() {
            return Err(TrustError::Request {
                detail: format!("序號 {serial} 的憑證已經撤銷"),
            });
        }
        rec.revoked_at = Some(now);
        rec.reason = reason.map(|(name, _)| name.to_string());
        let rec = rec.clone();
        self.write_crls(now)?;
        Ok(rec)
    }

    /// Writes a fresh CRL for every CA (valid 7 days) and saves the register.
    pub fn write_crls(&mut self, now: i64) -> Result<Vec<PathBuf>, TrustError> {
        self.state.crl_number += 1;
        let mut files = Vec::new();
        let stems = std::iter::once(ROOT_STEM).chain(Branch::ALL.iter().map(|b| b.stem()));
        for stem in stems {
            let revoked = self
                .state
                .certs
                .iter()
                .filter(|r| r.issuer.stem() == stem)
                .filter_map(|r| {
                    let at = r.revoked_at?;
                    let bytes: Vec<u8> = (0..r.serial.len())
                        .step_by(2)
                        .filter_map(|i| u8::from_str_radix(r.serial.get(i..i + 2)?, 16).ok())
                        .collect();
                    Some((
                        bytes,
                        at,
                        r.reason.as_deref().and_then(|s| parse_reason(s).ok()),
                    ))
                })
                .map(|(bytes, at, reason)| {
                    Ok(RevokedCertParams {
                        serial_number: SerialNumber::from_slice(&bytes),
                        revocation_time: now_dt(at)?,
                        reason_code: reason.map(|(_, r)| r),
                        invalidity_date: None,
                    })
                })
                .collect::<Result<Vec<_>, TrustError>>()?;
            let params = CertificateRevocationListParams {
                this_update: now_dt(now - 60)?,
                next_update: now_dt(now + 7 * 86_400)?,
                crl_number: SerialNumber::from_slice(&self.state.crl_number.to_be_bytes()),
                issuing_distribution_point: None,
                revoked_certs: revoked,
                key_identifier_method: rcgen::KeyIdMethod::Sha256,
            };
            let crl = params
                .signed_by(&self.issuer(stem)?)
                .map_err(TrustError::crypto)?;
            let pem = crl.pem().map_err(TrustError::crypto)?;
            let path = self.crl_file(stem);
            write_file(&path, pem.as_bytes(), false)?;
            files.push(path);
        }
        self.save()?;
        Ok(files)
    }
}

/// CRL reason codes by their RFC 5280 names (and the zh-TW words people use).
fn parse_reason(s: &str) -> Result<(&'static str, RevocationReason), TrustError> {
    const REASONS: &[(&str, &str, RevocationReason)] = &[
        ("unspecified", "未指定", RevocationReason::Unspecified),
        ("keyCompromise", "金鑰洩漏", RevocationReason::KeyCompromise),
        (
            "affiliationChanged",
            "機關異動",
            RevocationReason::AffiliationChanged,
        ),
        ("superseded", "已換發", RevocationReason::Superseded),
        (
            "cessationOfOperation",
            "停止使用",
            RevocationReason::CessationOfOperation,
        ),
        ("certificateHold", "暫停", RevocationReason::CertificateHold),
    ];
    REASONS
        .iter()
        .find(|(en, zh, _)| en.eq_ignore_ascii_case(s.trim()) || *zh == s.trim())
        .map(|(en, _, r)| (*en, *r))
        .ok_or_else(|| TrustError::Request {
            detail: format!(
                "撤銷原因「{s}」不認得，可用：{}",
                REASONS
                    .iter()
                    .map(|(en, zh, _)| format!("{en}（{zh}）"))
                    .collect::<Vec<_>>()
                    .join("、")
            ),
        })
}

#[cfg(test)]
mod tests;
