//! `gongwen seal | open | inspect`: sealed exchange packages (交換封包) from files on disk.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gongwen_doc::AgencyCode;
use gongwen_trust::TrustError;
use gongwen_trust::cms::{Certificate, Signer, load_certs};
use gongwen_trust::keys::PrivateKey;
use gongwen_trust::package::stream::{self, StreamSeal};
use gongwen_trust::package::{self, PackageHeader, Recipient};
use gongwen_trust::path::{StaleCrl, TrustStore, display_name, expiry_warnings, load_crls};

use crate::clock::unix_now;
use crate::doc_cmd::{doc_err, read_bounded, write_atomic};
use crate::error::CliError;

/// Packages are held in memory for now (streaming comes with the exchange service).
const MAX_PACKAGE: usize = 512 * 1024 * 1024;
const MAX_SMALL: usize = 8 * 1024 * 1024;

fn file_name(p: &Path) -> Result<String, CliError> {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| CliError::Arg(format!("{} 不是檔案路徑", p.display())))
}

fn named(p: &Path, max: usize) -> Result<(String, Vec<u8>), CliError> {
    Ok((file_name(p)?, read_bounded(p, max)?))
}

pub fn certs(p: &Path) -> Result<Vec<Certificate>, CliError> {
    load_certs(&read_bounded(p, MAX_SMALL)?).map_err(|e| match e {
        TrustError::Key { detail } => CliError::Trust(TrustError::Key {
            detail: format!("{}：{detail}", p.display()),
        }),
        other => other.into(),
    })
}

pub fn roc_time(secs: i64) -> String {
    let date = gongwen_doc::RocDate::from_unix_taipei(secs)
        .map(|d| d.to_string())
        .unwrap_or_default();
    let local = (secs + 8 * 3600).rem_euclid(86_400);
    format!("{date} {:02}:{:02}", local / 3600, local % 3600 / 60)
}

/// Who signs: the key (file or IC card), its certificate, and the chain sent along.
#[derive(clap::Args)]
pub struct SignerArgs {
    /// 簽章私鑰：PKCS#8 PEM 檔，或憑證 IC 卡上的金鑰（pkcs11: URI）
    #[arg(long)]
    pub sign_key: PathBuf,
    /// 簽章憑證（PEM；可接著放中繼憑證）
    #[arg(long)]
    pub sign_cert: PathBuf,
    /// 一併附上的憑證鏈（PEM，例如 pki issue 產生的 -chain.pem）
    #[arg(long)]
    pub chain: Option<PathBuf>,
    /// 私鑰檔有密碼保護時的密碼檔（第一行為密碼）
    #[arg(long)]
    pub key_password_file: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct SealArgs {
    /// DI 檔；SW 與附件預設取 DI 實體宣告的檔案（同一目錄）
    #[arg(long)]
    pub di: PathBuf,
    /// SW 檔（預設為 DI 宣告的交換表單）
    #[arg(long)]
    pub sw: Option<PathBuf>,
    /// 附件檔（可重複；預設為 DI 宣告的附件）
    #[arg(long = "attach")]
    pub attachments: Vec<PathBuf>,
    #[command(flatten)]
    pub signer: SignerArgs,
    /// 收件者的加密憑證（可重複）
    #[arg(long, required = true)]
    pub to: Vec<PathBuf>,
    /// 輸出的封包檔
    #[arg(short, long)]
    pub out: PathBuf,
    /// 涉及重大權益，要求收文者立即確認
    #[arg(long)]
    pub confirm_now: bool,
    /// 更正先前送出的封包：原封包識別碼（須同時指定 --resend-kind）
    #[arg(long, requires = "resend_kind")]
    pub resend_of: Option<String>,
    /// 重發類別：本文修正、附件修正、本文附件修正、錯發、重送
    #[arg(long, requires = "resend_of")]
    pub resend_kind: Option<String>,
    /// 行文群組名稱（可重複；交換中心送件時展開並記錄）
    #[arg(long = "group")]
    pub groups: Vec<String>,
}

fn header_options(a: &SealArgs) -> Result<gongwen_proto::HeaderOptions, CliError> {
    let resend = match (&a.resend_of, &a.resend_kind) {
        (Some(original), Some(kind)) => Some(gongwen_proto::Resend {
            kind: gongwen_proto::ResendKind::parse(kind).map_err(CliError::Arg)?,
            original: original.clone(),
        }),
        _ => None,
    };
    Ok(gongwen_proto::HeaderOptions {
        confirm_now: a.confirm_now,
        resend,
        groups: a.groups.clone(),
    })
}

pub fn seal(a: SealArgs) -> Result<ExitCode, CliError> {
    let di = named(&a.di, MAX_SMALL)?;
    let dir = a.di.parent().unwrap_or(Path::new("."));
    // The SW and attachments the DI declares, beside it, unless given.
    let declared = gongwen_doc::read_di(&di.1).map_err(|e| doc_err(&a.di, e))?;
    let sw = match (&a.sw, &declared.roster) {
        (Some(p), _) => Some(named(p, MAX_SMALL)?),
        (None, Some(r)) => Some(named(&dir.join(&r.file), MAX_SMALL)?),
        (None, None) => None,
    };
    // Attachments are streamed from disk: any size, a few buffers of memory.
    let attachment_paths: Vec<PathBuf> = if a.attachments.is_empty() {
        declared
            .attachment_files
            .iter()
            .map(|f| dir.join(&f.file))
            .collect()
    } else {
        a.attachments.clone()
    };
    let attachments = attachment_paths
        .iter()
        .map(|p| Ok((file_name(p)?, p.clone())))
        .collect::<Result<Vec<_>, CliError>>()?;
    let (key, cert, chain) = signer_files(&a.signer)?;
    let mut recipients = Vec::new();
    for p in &a.to {
        recipients.extend(certs(p)?.into_iter().take(1));
    }
    let header = stream::seal_to_file(
        &StreamSeal {
            di,
            sw,
            attachments,
            signer: Signer {
                key: &key,
                cert: &cert,
                chain: &chain,
            },
            recipients: &recipients,
            options: header_options(&a)?,
            now: unix_now(),
        },
        &a.out,
    )?;
    let size = std::fs::metadata(&a.out).map(|m| m.len()).unwrap_or(0);
    println!(
        "已封裝 {}（{} 位元組）：{} {}，{} 個電子受文者，加密給 {} 張憑證",
        a.out.display(),
        size,
        header.doc_number,
        header.subject,
        header.recipients.len(),
        recipients.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn print_header(h: &PackageHeader) {
    println!("封包編號：{}", h.id);
    println!("發文者：{}", h.sender);
    println!("發文字號：{}", h.doc_number);
    println!("主旨：{}", h.subject);
    println!("速別：{}", h.urgency);
    println!("封裝時間：{}", roc_time(h.created));
    for r in &h.recipients {
        println!(
            "受文者：{}{}（{}）",
            r.code,
            r.unit
                .as_deref()
                .map(|u| format!(" 單位 {u}"))
                .unwrap_or_default(),
            r.copy
        );
    }
    for f in &h.files {
        println!(
            "檔案：{}（{} 位元組，SHA-256 {}）",
            f.name, f.size, f.sha256
        );
    }
}

pub fn inspect(pkg: &Path, json: bool) -> Result<ExitCode, CliError> {
    let bytes = read_bounded(pkg, MAX_PACKAGE)?;
    let i = package::inspect(&bytes)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&i.header).unwrap_or_default()
        );
    } else {
        print_header(&i.header);
        println!(
            "表頭簽署者：{}（表頭與加密內容相符）",
            display_name(&i.signer)
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct OpenArgs {
    /// 封包檔
    pub pkg: PathBuf,
    /// 本機關加密私鑰：PKCS#8 PEM 檔，或憑證 IC 卡上的金鑰（pkcs11: URI）
    #[arg(long)]
    pub key: PathBuf,
    /// 本機關加密憑證
    #[arg(long)]
    pub cert: PathBuf,
    /// 私鑰檔有密碼保護時的密碼檔（第一行為密碼）
    #[arg(long)]
    pub key_password_file: Option<PathBuf>,
    /// 本機關的機關代碼（必須在交換表單中）
    #[arg(long)]
    pub code: String,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// 輸出目錄（已存在的檔案不覆寫）
    #[arg(short, long)]
    pub out: PathBuf,
}

/// What decides whom to believe: roots, CRLs, and the directory's key bindings.
#[derive(clap::Args)]
pub struct TrustArgs {
    /// 信任的根憑證（PEM，可重複）
    #[arg(long = "trust", required = true)]
    pub anchors: Vec<PathBuf>,
    /// 廢止清冊（CRL，PEM 或 DER，可重複；目錄代表其中所有 .crl 檔）
    #[arg(long = "crl")]
    pub crls: Vec<PathBuf>,
    /// 從網址下載廢止清冊（http://，可重複）；下載過的存於 --crl-cache，未過期前不重抓
    #[arg(long = "crl-url")]
    pub crl_urls: Vec<String>,
    /// 下載的廢止清冊快取目錄
    #[arg(long, default_value = "gongwen-data/crl-cache")]
    pub crl_cache: PathBuf,
    /// 沒有或過期的 CRL：refuse（拒收，預設）或 warn（警告後接受）
    #[arg(long, default_value = "refuse")]
    pub stale_crl: String,
    /// 金鑰登記：機關代碼=公鑰SHA-256（可重複；交換目錄上線前由此提供）
    #[arg(long)]
    pub bind: Vec<String>,
}

/// `CODE=SHA256HEX`: until the directory service exists, the key bindings come from the
/// command line.
fn bindings(list: &[String]) -> Result<Vec<(String, [u8; 32])>, CliError> {
    list.iter()
        .map(|b| {
            let bad = || CliError::Arg(format!(
                    "--bind「{b}」格式應為 機關代碼=公鑰SHA-256（64 個十六進位字元，gongwen pki issue 會印出）"
                ));
            let (code, hex) = b.split_once('=').ok_or_else(bad)?;
            let hex = hex.trim();
            if hex.len() != 64 {
                return Err(bad());
            }
            let mut out = [0u8; 32];
            for (i, o) in out.iter_mut().enumerate() {
                *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
            }
            Ok((code.trim().to_string(), out))
        })
        .collect()
}

impl TrustArgs {
    pub fn store(&self) -> Result<TrustStore, CliError> {
        let stale_crl: StaleCrl = self
            .stale_crl
            .parse()
            .map_err(|e| CliError::Arg(format!("--stale-crl{e}")))?;
        let mut anchors = Vec::new();
        for t in &self.anchors {
            anchors.extend(certs(t)?);
        }
        let mut crls = Vec::new();
        for c in &self.crls {
            // A directory stands for every *.crl in it (as `pki crl` writes them).
            let files = if c.is_dir() {
                let mut v: Vec<PathBuf> = std::fs::read_dir(c)
                    .map_err(|e| CliError::io(c, e))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "crl"))
                    .collect();
                v.sort();
                v
            } else {
                vec![c.clone()]
            };
            for f in files {
                crls.extend(load_crls(&read_bounded(&f, MAX_PACKAGE)?)?);
            }
        }
        for url in &self.crl_urls {
            let (crl, source) = gongwen_trust::crl_fetch::fetch(
                url,
                &self.crl_cache,
                unix_now(),
                std::time::Duration::from_secs(10),
            )?;
            if let gongwen_trust::crl_fetch::Source::StaleCache(why) = source {
                eprintln!("警告：{why}；改用快取中較舊的廢止清冊");
            }
            crls.push(crl);
        }
        Ok(TrustStore {
            anchors,
            crls,
            stale_crl,
        })
    }

    /// The bindings as a lookup from code to key digests.
    fn lookup(&self) -> Result<impl Fn(&str) -> Vec<[u8; 32]>, CliError> {
        let binds = bindings(&self.bind)?;
        Ok(move |c: &str| {
            binds
                .iter()
                .filter(|(code, _)| code == c)
                .map(|(_, k)| *k)
                .collect()
        })
    }
}

pub fn open(a: OpenArgs) -> Result<ExitCode, CliError> {
    let code = AgencyCode::parse(&a.code).map_err(|e| CliError::Arg(e.message))?;
    let store = a.trust.store()?;
    let bound = a.trust.lookup()?;
    let key = load_key(&a.key, a.key_password_file.as_deref())?;
    let cert = certs(&a.cert)?.remove(0);
    let me = Recipient {
        key: &key,
        cert: &cert,
        code: &code,
    };
    let opened = match stream::open_to_dir(&a.pkg, &me, &store, &bound, &a.out) {
        // Another implementation may send BER; small ones are opened in memory instead.
        Err(TrustError::Malformed { detail }) if detail.contains("DER") => {
            open_in_memory(&a.pkg, &me, &store, &bound, &a.out)?
        }
        other => other?,
    };
    print_header(&opened.header);
    println!(
        "驗證通過：由 {} 於 {} 簽署，憑證鏈 {} 層，簽署憑證已登記為 {} 所有",
        display_name(&opened.signer),
        roc_time(opened.signed_at),
        opened.trust.chain.len(),
        opened.header.sender
    );
    let mut warnings = opened.trust.warnings.clone();
    warnings.extend(expiry_warnings(std::slice::from_ref(&cert), unix_now(), 30));
    for w in &warnings {
        println!("警告：{w}");
    }
    println!("已寫出 {} 個檔案到 {}", opened.files.len(), a.out.display());
    Ok(ExitCode::SUCCESS)
}

/// BER packages (from other implementations) up to the in-memory limit.
fn open_in_memory(
    pkg: &Path,
    me: &Recipient,
    store: &TrustStore,
    bound: &dyn Fn(&str) -> Vec<[u8; 32]>,
    out: &Path,
) -> Result<stream::OpenedFiles, CliError> {
    let bytes = read_bounded(pkg, MAX_PACKAGE)?;
    let opened = package::open(&bytes, me, store, bound)?;
    for (name, _) in &opened.files {
        let p = out.join(name);
        if p.exists() {
            return Err(TrustError::Exists {
                path: p.display().to_string(),
            }
            .into());
        }
    }
    std::fs::create_dir_all(out).map_err(|e| CliError::io(out, e))?;
    let mut files = Vec::new();
    for (name, data) in &opened.files {
        let p = out.join(name);
        write_atomic(&p, data)?;
        files.push(p);
    }
    Ok(stream::OpenedFiles {
        header: opened.header,
        files,
        signer: opened.signer,
        signed_at: opened.signed_at,
        trust: opened.trust,
    })
}

#[derive(clap::Args)]
pub struct ReceiptArgs {
    /// 收到的封包檔（回執記載它的編號與摘要）
    pub pkg: PathBuf,
    /// 送達、收文確認（簽收）或退文
    #[arg(long)]
    pub event: String,
    /// 退文原因：誤送、附件不全、無法開啟或亂碼、非本機關權責、其他
    #[arg(long)]
    pub reason: Option<String>,
    /// 退文說明（退文必填）
    #[arg(long)]
    pub text: Option<String>,
    /// 收文字號（收文確認時）
    #[arg(long)]
    pub receipt_no: Option<String>,
    /// 本機關的機關代碼
    #[arg(long)]
    pub code: String,
    #[command(flatten)]
    pub signer: SignerArgs,
    /// 輸出的回執檔
    #[arg(short, long)]
    pub out: PathBuf,
}

/// A key file (PKCS#8 PEM, encrypted with the passphrase in `password_file` or not) or a
/// key on a token (`pkcs11:` URI, e.g. an IC card).
pub(crate) fn load_key(p: &Path, password_file: Option<&Path>) -> Result<PrivateKey, CliError> {
    let spec = p.to_string_lossy();
    if spec.starts_with("pkcs11:") {
        return Ok(PrivateKey::from_token(&spec)?);
    }
    let password = password_file
        .map(crate::pki_cmd::password_from)
        .transpose()?;
    Ok(PrivateKey::from_pem_with_password(
        &String::from_utf8_lossy(&read_bounded(p, MAX_SMALL)?),
        password.as_deref(),
    )?)
}

/// The signing key, its certificate and chain (certificates after the first in the
/// certificate file count as chain too).
fn signer_files(a: &SignerArgs) -> Result<(PrivateKey, Certificate, Vec<Certificate>), CliError> {
    let key = load_key(&a.sign_key, a.key_password_file.as_deref())?;
    let mut own = certs(&a.sign_cert)?;
    let cert = own.remove(0);
    let mut rest = own;
    if let Some(c) = &a.chain {
        rest.extend(certs(c)?);
    }
    Ok((key, cert, rest))
}

pub fn receipt(a: ReceiptArgs) -> Result<ExitCode, CliError> {
    use gongwen_trust::receipt::{self, ReceiptEvent, ReceiptRequest};
    let code = AgencyCode::parse(&a.code).map_err(|e| CliError::Arg(e.message))?;
    let event = ReceiptEvent::parse(&a.event)?;
    let reason = a.reason.as_deref().map(receipt::parse_reason).transpose()?;
    let inspected = package::inspect(&read_bounded(&a.pkg, MAX_PACKAGE)?)?;
    let (key, cert, chain) = signer_files(&a.signer)?;
    let (bytes, r) = receipt::issue(
        &ReceiptRequest {
            header: &inspected.header,
            event,
            recipient: code.as_str(),
            reason,
            text: a.text,
            receipt_number: a.receipt_no,
            now: unix_now(),
        },
        &Signer {
            key: &key,
            cert: &cert,
            chain: &chain,
        },
    )?;
    write_atomic(&a.out, &bytes)?;
    println!(
        "已簽署{}回執 {}：{}（封包 {}），{}",
        r.event.label(),
        a.out.display(),
        r.doc_number,
        r.package_id,
        roc_time(r.time)
    );
    Ok(ExitCode::SUCCESS)
}

pub fn verify_receipt(file: &Path, trust: &TrustArgs) -> Result<ExitCode, CliError> {
    let store = trust.store()?;
    let bound = trust.lookup()?;
    let v = gongwen_trust::receipt::verify(&read_bounded(file, MAX_SMALL)?, &store, &bound)?;
    let r = &v.receipt;
    println!("回執：{}", r.event.label());
    println!("發文字號：{}（發文者 {}）", r.doc_number, r.sender);
    println!(
        "封包：{}（加密內容 SHA-256 {}）",
        r.package_id, r.package_sha256
    );
    println!("簽署機關：{}，時間 {}", r.recipient, roc_time(v.signed_at));
    if let Some(reason) = r.reason {
        println!(
            "退文原因：{}：{}",
            reason.label(),
            r.text.as_deref().unwrap_or_default()
        );
    }
    if let Some(n) = &r.receipt_number {
        println!("收文字號：{n}");
    }
    println!(
        "驗證通過：簽章、憑證鏈與廢止狀態、簽署憑證已登記為 {} 所有",
        r.recipient
    );
    for w in &v.trust.warnings {
        println!("警告：{w}");
    }
    Ok(ExitCode::SUCCESS)
}
