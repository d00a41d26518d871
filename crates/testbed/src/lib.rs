//! A center with test participants on one machine: a test CA, certificates for each agency
//! (signing, encryption, TLS client), the center's own TLS certificate, and letters sealed
//! between them. What the integration tests, the benches and `gongwen demo` stand on. A fixture,
//! never a dependency of a service.

pub mod office;

use std::path::{Path, PathBuf};

use gongwen_client::CenterClient;
use gongwen_proto::HeaderOptions;
use gongwen_proto::ReturnReason;
use gongwen_trust::cms::{Signer, load_certs};
use gongwen_trust::keys::PrivateKey;
use gongwen_trust::package::{self, SealInput};
use gongwen_trust::pki::{Branch, InitOptions, IssueRequest, IssuedCert, KeyType, Subject, TestCa};
use gongwen_trust::receipt::{self, ReceiptEvent, ReceiptRequest};
use x509_cert::Certificate;

use gongwen_center::config::{CenterConfig, Limits, Retention, TlsConfig};
use gongwen_center::participants::{self, ParticipantInput};
use gongwen_center::{BlobStore, Clock, Running, Shared};

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// One agency's certificates and keys.
pub struct Agency {
    pub code: String,
    pub sign_key: PrivateKey,
    pub sign_cert: Certificate,
    pub enc_key: PrivateKey,
    pub enc_cert: Certificate,
    pub chain: Vec<Certificate>,
    /// Files: the TLS client certificate (with its intermediate) and key.
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// Files of the signing and encryption certificates, and of the signing key.
    pub sign_file: PathBuf,
    pub sign_key_file: PathBuf,
    pub enc_key_file: PathBuf,
    pub enc_file: PathBuf,
    /// The TLS client certificate alone.
    pub tls_leaf: PathBuf,
}

impl Agency {
    fn signer(&self) -> Signer<'_> {
        Signer {
            key: &self.sign_key,
            cert: &self.sign_cert,
            chain: &self.chain,
        }
    }
}

/// The test CA and its agencies, before any center runs.
pub struct Pki {
    pub dir: PathBuf,
    pub ca: TestCa,
    pub agencies: Vec<Agency>,
    /// The center's TLS certificate chain and key.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// TLS client certificates for two centers to call each other: (chain, key, leaf).
    pub center_clients: Vec<(PathBuf, PathBuf, PathBuf)>,
    /// A signing certificate (with its intermediate) and key for a test directory's snapshots.
    pub directory_signer: (PathBuf, PathBuf),
}

fn issue(
    ca: &mut TestCa,
    subject: Subject,
    key: KeyType,
    now: i64,
) -> Result<Vec<IssuedCert>, String> {
    ca.issue(
        &IssueRequest {
            subject,
            key,
            days: 365,
        },
        now,
    )
    .map_err(err)
}

/// Issues a P-256 certificate and writes it with its intermediate to `out`.
fn issue_chained(
    ca: &mut TestCa,
    subject: Subject,
    now: i64,
    out: PathBuf,
) -> Result<(PathBuf, IssuedCert), String> {
    let c = issue(ca, subject, KeyType::P256, now)?.remove(0);
    let mut pem = std::fs::read(&c.cert_file).map_err(err)?;
    pem.extend(std::fs::read(ca.ca_file(Branch::Gca)).map_err(err)?);
    std::fs::write(&out, pem).map_err(err)?;
    Ok((out, c))
}

fn key_of(p: &Path) -> Result<PrivateKey, String> {
    PrivateKey::from_pem(&std::fs::read_to_string(p).map_err(err)?).map_err(err)
}

fn cert_of(p: &Path) -> Result<Certificate, String> {
    load_certs(&std::fs::read(p).map_err(err)?)
        .map_err(err)?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{} 沒有憑證", p.display()))
}

/// A letter's DI, SW and attachments, as sealing takes them.
type Documents = ((String, Vec<u8>), Option<(String, Vec<u8>)>, Files);

impl Pki {
    /// A CA in `dir` with the given agencies (RSA-2048 keys: encryption needs RSA).
    pub fn create(dir: &Path, codes: &[&str]) -> Result<Pki, String> {
        let named: Vec<(String, String, Branch)> = codes
            .iter()
            .map(|c| (c.to_string(), format!("測試機關{c}"), Branch::Gca))
            .collect();
        Self::create_named(dir, &named)
    }

    /// A CA in `dir` with participants given as (code, name, branch of the CA that issues
    /// their card: GCA for agencies, XCA for schools and groups, MOEACA for companies).
    pub fn create_named(
        dir: &Path,
        participants: &[(String, String, Branch)],
    ) -> Result<Pki, String> {
        let now = now_s() - 60;
        let mut ca = TestCa::init(
            &dir.join("ca"),
            &InitOptions {
                key: KeyType::P256,
                years: 5,
            },
            now,
        )
        .map_err(err)?;
        let (server_cert, server) = issue_chained(
            &mut ca,
            Subject::TlsServer {
                name: "交換中心".into(),
                hosts: vec!["127.0.0.1".into(), "localhost".into()],
            },
            now,
            dir.join("center-chain.pem"),
        )?;
        let mut agencies = Vec::new();
        for (code, name, branch) in participants {
            let org = issue(
                &mut ca,
                Subject::Organisation {
                    branch: *branch,
                    code: code.to_string(),
                    name: name.clone(),
                },
                KeyType::Rsa2048,
                now,
            )?;
            let (tls_cert, tls) = issue_chained(
                &mut ca,
                Subject::TlsClient {
                    code: code.to_string(),
                    name: name.clone(),
                },
                now,
                dir.join(format!("{code}-tls-chain.pem")),
            )?;
            let (sign, enc) = (&org[0], &org[1]);
            agencies.push(Agency {
                code: code.to_string(),
                sign_key: key_of(&sign.key_file)?,
                sign_cert: cert_of(&sign.cert_file)?,
                enc_key: key_of(&enc.key_file)?,
                enc_cert: cert_of(&enc.cert_file)?,
                chain: load_certs(&std::fs::read(ca.ca_file(*branch)).map_err(err)?)
                    .map_err(err)?,
                tls_cert,
                tls_key: tls.key_file.clone(),
                sign_file: sign.cert_file.clone(),
                sign_key_file: sign.key_file.clone(),
                enc_key_file: enc.key_file.clone(),
                enc_file: enc.cert_file.clone(),
                tls_leaf: tls.cert_file,
            });
        }
        let mut center_clients = Vec::new();
        for id in ["CENTER1", "CENTER2"] {
            let (chain, c) = issue_chained(
                &mut ca,
                Subject::TlsClient {
                    code: id.into(),
                    name: format!("交換中心{id}"),
                },
                now,
                dir.join(format!("{id}-tls-chain.pem")),
            )?;
            center_clients.push((chain, c.key_file, c.cert_file));
        }
        let (signer_chain, signer) = issue_chained(
            &mut ca,
            Subject::Organisation {
                branch: Branch::Gca,
                code: "A10000000D".into(),
                name: "通訊錄服務".into(),
            },
            now,
            dir.join("directory-signer-chain.pem"),
        )?;
        let directory_signer = (signer_chain, signer.key_file);
        ca.write_crls(now).map_err(err)?;
        Ok(Pki {
            center_clients,
            directory_signer,
            dir: dir.to_path_buf(),
            server_cert,
            server_key: server.key_file,
            ca,
            agencies,
        })
    }

    pub fn agency(&self, code: &str) -> &Agency {
        self.agencies
            .iter()
            .find(|a| a.code == code)
            .unwrap_or_else(|| panic!("測試機關 {code} 不存在"))
    }

    /// A center configuration on `database_url`, listening on a free port of 127.0.0.1.
    pub fn center_config(
        &self,
        name: &str,
        database_url: &str,
        blob_store: BlobStore,
    ) -> CenterConfig {
        CenterConfig {
            id: name.into(),
            listen: "127.0.0.1:0".into(),
            database_url: database_url.into(),
            blob_store,
            data_dir: self.dir.join(name),
            tls: TlsConfig {
                cert: self.server_cert.clone(),
                key: self.server_key.clone(),
                client_roots: Vec::new(),
            },
            trust_anchors: vec![self.ca.root_file()],
            crls: vec![self.ca.dir().join("crl")],
            stale_crl: Default::default(),
            limits: Limits::default(),
            retention: Retention::default(),
            federation: Default::default(),
            directory: None,
            metrics_allow: vec!["127.0.0.1".into(), "::1".into()],
        }
    }

    /// Registers every agency at a center: its three certificates and 127.0.0.1.
    pub async fn register_all(&self, app: &Shared) -> Result<(), String> {
        let codes: Vec<&str> = self.agencies.iter().map(|a| a.code.as_str()).collect();
        self.register(app, &codes).await
    }

    /// A client of the center at `addr`, as agency `code`.
    pub fn client(&self, addr: std::net::SocketAddr, code: &str) -> Result<CenterClient, String> {
        let a = self.agency(code);
        let cert = std::fs::read(&a.tls_cert).map_err(err)?;
        let key = std::fs::read(&a.tls_key).map_err(err)?;
        self.connect(addr, Some((&cert, &key)))
    }

    /// A client without a certificate.
    pub fn anonymous(&self, addr: std::net::SocketAddr) -> Result<CenterClient, String> {
        self.connect(addr, None)
    }

    fn connect(
        &self,
        addr: std::net::SocketAddr,
        identity: Option<(&[u8], &[u8])>,
    ) -> Result<CenterClient, String> {
        let roots = std::fs::read(self.ca.root_file()).map_err(err)?;
        let tls = gongwen_client::tls_config(&roots, identity).map_err(err)?;
        CenterClient::new(&format!("https://{addr}"), tls).map_err(err)
    }

    /// Seals a 函 from `from` to `to` (正本 each), with one PDF attachment of about
    /// `attachment` bytes (none when 0).
    pub fn seal(
        &self,
        from: &str,
        to: &[&str],
        attachment: usize,
        options: HeaderOptions,
    ) -> Result<Vec<u8>, String> {
        self.seal_as(from, from, to, attachment, options)
    }

    /// Like [`Pki::seal`], but the letter names `issuer` as 發文機關 while `signer` signs.
    pub fn seal_as(
        &self,
        signer: &str,
        issuer: &str,
        to: &[&str],
        attachment: usize,
        options: HeaderOptions,
    ) -> Result<Vec<u8>, String> {
        let (di, sw, attachments) = letter(issuer, to, attachment)?;
        self.seal_files(signer, di, Some(sw), attachments, to, options)
    }

    /// Seals the given DI, SW and attachments, signed by `signer`, encrypted for those of `to`
    /// that are test agencies.
    pub fn seal_files(
        &self,
        signer: &str,
        di: (String, Vec<u8>),
        sw: Option<(String, Vec<u8>)>,
        attachments: Files,
        to: &[&str],
        options: HeaderOptions,
    ) -> Result<Vec<u8>, String> {
        self.seal_edited(signer, (di, sw, attachments), to, options, |_| {})
    }

    /// A letter from `from` to `to` whose header (routing header and signed manifest) was
    /// edited after sealing built it: what a participant with a valid card and its own tools
    /// can send.
    pub fn seal_with_header(
        &self,
        from: &str,
        to: &[&str],
        edit: impl FnOnce(&mut gongwen_proto::PackageHeader),
    ) -> Result<Vec<u8>, String> {
        let (di, sw, attachments) = letter(from, to, 100)?;
        self.seal_edited(
            from,
            (di, Some(sw), attachments),
            to,
            HeaderOptions::default(),
            edit,
        )
    }

    fn seal_edited(
        &self,
        signer: &str,
        (di, sw, attachments): Documents,
        to: &[&str],
        options: HeaderOptions,
        edit: impl FnOnce(&mut gongwen_proto::PackageHeader),
    ) -> Result<Vec<u8>, String> {
        let recipients: Vec<Certificate> = to
            .iter()
            .filter(|c| self.agencies.iter().any(|a| a.code == **c))
            .map(|c| self.agency(c).enc_cert.clone())
            .collect();
        let (pkg, _) = package::seal_edited(
            &SealInput {
                di,
                sw,
                attachments,
                signer: self.agency(signer).signer(),
                recipients: &recipients,
                options,
                now: now_s(),
            },
            edit,
        )
        .map_err(err)?;
        Ok(pkg)
    }

    /// The signed receipt `who` gives for `pkg`.
    pub fn receipt(
        &self,
        who: &str,
        pkg: &[u8],
        event: ReceiptEvent,
        reason: Option<ReturnReason>,
        text: Option<&str>,
    ) -> Result<Vec<u8>, String> {
        let header = package::inspect(pkg).map_err(err)?.header;
        let (der, _) = receipt::issue(
            &ReceiptRequest {
                header: &header,
                event,
                recipient: who,
                reason,
                text: text.map(String::from),
                receipt_number: (event == ReceiptEvent::Confirmed)
                    .then(|| "測收字第1150000001號".to_string()),
                now: now_s(),
            },
            &self.agency(who).signer(),
        )
        .map_err(err)?;
        Ok(der)
    }
}

pub type Files = Vec<(String, Vec<u8>)>;

/// A letter's files: DI, SW and attachments, each (name, bytes).
pub type Letter = ((String, Vec<u8>), (String, Vec<u8>), Files);

pub fn letter(from: &str, to: &[&str], attachment: usize) -> Result<Letter, String> {
    use std::fmt::Write;
    let mut t = String::new();
    let serial = {
        let mut b = [0u8; 4];
        let _ = aws_lc_rs::rand::fill(&mut b);
        u32::from_le_bytes(b) % 9_000_000 + 1
    };
    let _ = write!(
        t,
        "\"文別\" = \"函\"\n\"發文字號\" = {{ \"字\" = \"測試字\", \"年度\" = 115, \"流水號\" = {serial} }}\n\"速別\" = \"普通件\"\n\"地址\" = \"100 臺北市中正區測試路1號\"\n\"聯絡方式\" = [\"承辦人：王小明\", \"電話：(02)2345-6789\"]\n\"主旨\" = \"交換中心測試公文，請查照。\"\n\"署名\" = [\"機關首長　王大明\"]\n[[\"發文機關\"]]\n\"全銜\" = \"測試機關{from}\"\n\"機關代碼\" = \"{from}\"\n"
    );
    if attachment > 0 {
        t.push_str("[\"附件\"]\n\"文字\" = \"附件1份\"\n\"檔案\" = [\"attachments/附件.pdf\"]\n");
    }
    for code in to {
        let _ = write!(
            t,
            "[[\"正本\"]]\n\"全銜\" = \"測試機關{code}\"\n\"機關代碼\" = \"{code}\"\n"
        );
    }
    let draft: gongwen_doc::draft::Draft = toml::from_str(&t).map_err(err)?;
    let built = draft
        .build(gongwen_doc::RocDate::new(115, 1, 5).map_err(err)?)
        .map_err(|p| format!("{p:?}"))?;
    let di = (
        format!("{}.di", built.base),
        gongwen_doc::write_di(&built.di).map_err(err)?.into_bytes(),
    );
    let sw = (
        format!("{}.sw", built.base),
        gongwen_doc::write_roster(&built.roster)
            .map_err(err)?
            .into_bytes(),
    );
    let mut body = b"%PDF-1.4\n".to_vec();
    let mut fill = vec![0u8; attachment.saturating_sub(body.len())];
    let _ = aws_lc_rs::rand::fill(&mut fill);
    body.extend(fill);
    let attachments = built
        .attachments
        .iter()
        .map(|a| (a.file.clone(), body.clone()))
        .collect();
    Ok((di, sw, attachments))
}

/// A center on `database_url` with every agency registered.
pub async fn start_center(
    pki: &Pki,
    name: &str,
    database_url: &str,
    blob_store: BlobStore,
) -> Result<Running, String> {
    let running = gongwen_center::start(
        pki.center_config(name, database_url, blob_store),
        Clock::default(),
    )
    .await
    .map_err(err)?;
    pki.register_all(&running.app).await?;
    Ok(running)
}

impl Pki {
    /// Registers `code` at a center as a participant of another center (`center`): its
    /// signing and encryption certificates, so packages and receipts can be checked here.
    pub async fn register_remote(
        &self,
        app: &Shared,
        code: &str,
        center: &str,
    ) -> Result<(), String> {
        let a = self.agency(code);
        let now = app.clock.now_ms();
        self.enrol(app, code, Some(center), &[&a.sign_file, &a.enc_file], now)
            .await
    }

    /// Registers only `codes` as local participants (certificates and 127.0.0.1).
    pub async fn register(&self, app: &Shared, codes: &[&str]) -> Result<(), String> {
        let now = app.clock.now_ms();
        for code in codes {
            let a = self.agency(code);
            let files = [&a.sign_file, &a.enc_file, &a.tls_leaf];
            self.enrol(app, code, None, &files, now).await?;
            participants::add_ip(&app.db, &a.code, "127.0.0.1", None, None)
                .await
                .map_err(err)?;
        }
        Ok(())
    }

    /// `code` as a participant with the certificates in `files`; `center` when it belongs to
    /// another center.
    async fn enrol(
        &self,
        app: &Shared,
        code: &str,
        center: Option<&str>,
        files: &[&PathBuf],
        now: i64,
    ) -> Result<(), String> {
        let input = ParticipantInput {
            code: code.into(),
            name: format!("測試機關{code}"),
            center: center.map(Into::into),
            ..Default::default()
        };
        participants::upsert(&app.db, &input, now)
            .await
            .map_err(err)?;
        for f in files {
            participants::add_certs(&app.db, code, &std::fs::read(f).map_err(err)?, None)
                .await
                .map_err(err)?;
        }
        Ok(())
    }
}
