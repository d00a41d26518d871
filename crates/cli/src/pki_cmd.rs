//! `gongwen pki …`: the built-in test CA.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gongwen_trust::p12;
use gongwen_trust::path::roc_datetime as roc;
use gongwen_trust::pki::{Branch, InitOptions, IssueRequest, KeyType, Record, Subject, TestCa};

use crate::clock::unix_now;
use crate::doc_cmd::read;
use crate::error::CliError;

pub fn init(dir: &Path, key: &str, years: u32) -> Result<ExitCode, CliError> {
    let opts = InitOptions {
        key: KeyType::parse(key)?,
        years,
    };
    let ca = TestCa::init(dir, &opts, unix_now())?;
    println!("已建立測試憑證中心：{}", ca.dir().display());
    println!("  根憑證：{}", ca.root_file().display());
    for b in Branch::ALL {
        println!("  中繼憑證（{}）：{}", b.stem(), ca.ca_file(b).display());
    }
    println!("注意：這是測試用憑證中心，私鑰存放於該目錄（僅擁有者可讀），不可用於正式交換。");
    Ok(ExitCode::SUCCESS)
}

/// Who `pki issue --kind` names.
#[derive(clap::Args)]
pub struct IssueArgs {
    /// agency（機關，GCA）、organisation（團體／學校，XCA）、company（公司，MOEACA）、
    /// person（自然人，MOICA）、server（TLS 伺服器）、client（TLS 用戶端）
    #[arg(long)]
    pub kind: String,
    /// 名稱（機關全銜、姓名或節點名稱）
    #[arg(long)]
    pub name: String,
    /// 機關代碼（agency、organisation、company、client 必填）
    #[arg(long)]
    pub code: Option<String>,
    /// TLS 伺服器的主機名稱或 IP 位址（可重複）
    #[arg(long = "host")]
    pub hosts: Vec<String>,
    /// 金鑰類型：rsa2048、rsa3072 或 p256
    #[arg(long, default_value = "rsa2048")]
    pub key: String,
    /// 效期（天）
    #[arg(long, default_value_t = 730)]
    pub days: u32,
    /// 另外輸出有密碼保護的 PKCS#12（.p12）；密碼取自此檔的第一行（至少 8 個字元）
    #[arg(long)]
    pub p12_password_file: Option<PathBuf>,
}

/// `pki import`: a software certificate received as PKCS#12, unpacked for use.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// PKCS#12 檔（.p12 或 .pfx）
    pub file: PathBuf,
    /// 密碼檔（第一行為密碼）
    #[arg(long)]
    pub password_file: PathBuf,
    /// 輸出目錄
    #[arg(short, long)]
    pub out: PathBuf,
    /// 輸出檔名（預設取 PKCS#12 的檔名）
    #[arg(long)]
    pub name: Option<String>,
}

pub fn import(a: ImportArgs) -> Result<ExitCode, CliError> {
    use der::EncodePem;
    let password = password_from(&a.password_file)?;
    let data = crate::doc_cmd::read_bounded(&a.file, 16 * 1024 * 1024)?;
    let got = p12::import(&data, &password)?;
    let stem = match a.name {
        Some(n) => n,
        None => a
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "imported".into()),
    };
    std::fs::create_dir_all(&a.out).map_err(|e| CliError::io(&a.out, e))?;
    let pem = |c: &gongwen_trust::cms::Certificate| {
        c.to_pem(der::pem::LineEnding::LF)
            .map_err(|e| CliError::Arg(format!("憑證無法輸出：{e}")))
    };
    let files = [
        (
            a.out.join(format!("{stem}.crt")),
            pem(&got.cert)?.into_bytes(),
            false,
        ),
        (
            a.out.join(format!("{stem}.key")),
            der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &got.key_pkcs8)
                .map_err(|e| CliError::Arg(format!("私鑰無法輸出：{e}")))?
                .into_bytes(),
            true,
        ),
        (
            a.out.join(format!("{stem}-chain.pem")),
            got.chain
                .iter()
                .map(pem)
                .collect::<Result<Vec<_>, _>>()?
                .concat()
                .into_bytes(),
            false,
        ),
    ];
    for (p, _, _) in &files {
        if p.exists() {
            return Err(CliError::Arg(format!("{} 已存在，不會覆寫", p.display())));
        }
    }
    for (p, bytes, private) in &files {
        gongwen_trust::pki::write_file(p, bytes, *private)?;
        println!("已寫出 {}", p.display());
    }
    println!(
        "憑證：{}（公鑰 SHA-256 {}）",
        gongwen_trust::path::display_name(&got.cert),
        gongwen_trust::path::hex(&gongwen_trust::path::spki_sha256(&got.cert)?)
    );
    println!("私鑰檔僅擁有者可讀；請妥善保管 PKCS#12 原檔與密碼。");
    Ok(ExitCode::SUCCESS)
}

fn subject(a: IssueArgs) -> Result<Subject, CliError> {
    let need_code = |kind: &str| {
        a.code.clone().ok_or_else(|| {
            CliError::Arg(format!("--kind {kind} 需要 --code（機關代碼或統一編號）"))
        })
    };
    let org = |branch: Branch, kind: &str| -> Result<Subject, CliError> {
        Ok(Subject::Organisation {
            branch,
            code: need_code(kind)?,
            name: a.name.clone(),
        })
    };
    match a.kind.as_str() {
        "agency" => org(Branch::Gca, "agency"),
        "organisation" | "organization" => org(Branch::Xca, "organisation"),
        "company" => org(Branch::Moeaca, "company"),
        "person" => Ok(Subject::Person { name: a.name }),
        "server" => Ok(Subject::TlsServer {
            name: a.name,
            hosts: a.hosts,
        }),
        "client" => Ok(Subject::TlsClient {
            code: need_code("client")?,
            name: a.name,
        }),
        other => Err(CliError::Arg(format!(
            "--kind「{other}」不認得，應為 agency（機關）、organisation（團體）、company（公司）、person（自然人）、server 或 client"
        ))),
    }
}

/// The first line of a password file (passwords never go on the command line).
pub(crate) fn password_from(file: &Path) -> Result<String, CliError> {
    let text = std::fs::read_to_string(file).map_err(|e| CliError::io(file, e))?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}

fn pkcs8_of(key_file: &Path) -> Result<Vec<u8>, CliError> {
    let pem = std::fs::read_to_string(key_file).map_err(|e| CliError::io(key_file, e))?;
    der::pem::decode_vec(pem.trim().as_bytes())
        .map(|(_, der)| der)
        .map_err(|e| CliError::Arg(format!("{} 不是 PEM 私鑰：{e}", key_file.display())))
}

pub fn issue(dir: &Path, args: IssueArgs) -> Result<ExitCode, CliError> {
    let key = KeyType::parse(&args.key)?;
    let days = args.days;
    let p12_password = args
        .p12_password_file
        .as_deref()
        .map(password_from)
        .transpose()?;
    let mut ca = TestCa::open(dir)?;
    let issued = ca.issue(
        &IssueRequest {
            subject: subject(args)?,
            key,
            days,
        },
        unix_now(),
    )?;
    for c in &issued {
        println!(
            "已簽發{}憑證（序號 {}，{} 簽發，效期至 {}）",
            c.record.usage.label(),
            c.record.serial,
            c.record.issuer.stem(),
            roc(c.record.not_after)
        );
        println!("  憑證：{}", c.cert_file.display());
        println!("  私鑰：{}", c.key_file.display());
        println!("  公鑰 SHA-256（目錄登記用）：{}", c.spki_sha256);
    }
    if let Some(c) = issued.first() {
        println!("  憑證鏈：{}", c.chain_file.display());
    }
    if let Some(password) = &p12_password {
        for c in &issued {
            let cert = gongwen_trust::cms::load_certs(&read(&c.cert_file)?)?.remove(0);
            let chain = gongwen_trust::cms::load_certs(&read(&c.chain_file)?)?;
            let name = format!("{} {}", c.record.name, c.record.usage.label());
            let p12 = p12::export(&pkcs8_of(&c.key_file)?, &cert, &chain, &name, password)?;
            let out = c.cert_file.with_extension("p12");
            gongwen_trust::pki::write_file(&out, &p12, true)?;
            println!("  PKCS#12：{}", out.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn revoke(dir: &Path, serial: &str, reason: Option<&str>) -> Result<ExitCode, CliError> {
    let mut ca = TestCa::open(dir)?;
    let r = ca.revoke(serial, reason, unix_now())?;
    println!(
        "已撤銷序號 {}（{} 的{}憑證），並重新產生廢止清冊（CRL）於 {}",
        r.serial,
        r.name,
        r.usage.label(),
        ca.dir().join("crl").display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn crl(dir: &Path) -> Result<ExitCode, CliError> {
    let mut ca = TestCa::open(dir)?;
    for f in ca.write_crls(unix_now())? {
        println!("已產生 {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn status(r: &Record, now: i64) -> String {
    match r.revoked_at {
        Some(t) => format!("已撤銷（{}）", roc(t)),
        None if r.not_after < now => "已過期".into(),
        None => "有效".into(),
    }
}

pub fn list(dir: &Path) -> Result<ExitCode, CliError> {
    let ca = TestCa::open(dir)?;
    let now = unix_now();
    println!("序號\t簽發\t用途\t代碼\t名稱\t效期至\t狀態");
    for r in ca.records() {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.serial,
            r.issuer.stem(),
            r.usage.label(),
            r.code.as_deref().unwrap_or("-"),
            r.name,
            roc(r.not_after),
            status(r, now)
        );
    }
    Ok(ExitCode::SUCCESS)
}
