//! `gongwen center`: run an exchange center, and administer it (participants, certificates,
//! addresses, groups, records) directly on its database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use gongwen_center::participants::{self, KeyUse, ParticipantInput, Standing};
use gongwen_center::{CenterConfig, Clock};
use serde::Deserialize;

use crate::doc_cmd::read;
use crate::error::CliError;
use crate::runtime;

/// `gongwen.toml`: one file, one table per service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub center: Option<CenterConfig>,
    pub directory: Option<gongwen_directory::DirectoryConfig>,
    pub agent: Option<gongwen_agent::AgentConfig>,
    pub office: Option<gongwen_office::config::OfficeConfig>,
}

/// Written by `gongwen bench center` for its server process.
#[derive(serde::Serialize)]
pub struct ConfigOut {
    pub center: CenterConfig,
}

/// The whole `gongwen.toml`.
pub fn load_file(path: &Path) -> Result<Config, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
    toml::from_str(&text).map_err(|e| CliError::Config {
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}

pub fn load_config(path: &Path) -> Result<CenterConfig, CliError> {
    load_file(path)?
        .center
        .ok_or_else(|| CliError::Arg(format!("{} 沒有 [center] 設定", path.display())))
}

#[derive(Args)]
pub struct ConfigArg {
    /// 設定檔（見 docs/zh-TW/交換中心.md）
    #[arg(long, short, default_value = "gongwen.toml")]
    pub config: PathBuf,
}

#[derive(Subcommand)]
pub enum CenterCommand {
    /// 啟動交換中心（HTTPS，雙向 TLS），直到收到 Ctrl-C 或 SIGTERM
    Serve(ConfigArg),
    /// 管理：參與者、憑證、來源 IP、行文群組、紀錄（直接作用於交換中心的資料庫）
    Admin {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// 新增或更名參與者（狀態不變；新參與者為「正常」）
    Add {
        code: String,
        #[arg(long)]
        name: String,
        /// 參與者登記於另一個交換中心時，該中心的代號
        #[arg(long)]
        center: Option<String>,
        /// 交換中心管理者（可查詢全部紀錄）
        #[arg(long)]
        operator: bool,
    },
    /// 登記憑證（PEM 或 DER；用途由金鑰用途判斷：TLS 用戶端、簽章或加密）
    Cert {
        code: String,
        files: Vec<PathBuf>,
        /// 指定用途：tls、signing、encryption
        #[arg(long = "use")]
        usage: Option<String>,
    },
    /// 登記允許的來源 IP（原則為一個固定 IP；第二個位址或網段須記錄核准人）
    Ip {
        code: String,
        ip: String,
        #[arg(long)]
        approved_by: Option<String>,
        #[arg(long)]
        note: Option<String>,
        /// 刪除這個位址
        #[arg(long)]
        remove: bool,
    },
    /// 設定狀態通知網址（webhook）：副本狀態改變時以 HMAC-SHA256 簽章的 JSON 通知
    Webhook {
        code: String,
        /// 通知網址（https:// 或 http://）
        #[arg(long, required_unless_present = "remove")]
        url: Option<String>,
        /// 簽章金鑰檔（至少 16 個字元；不要放在命令列上）
        #[arg(long, required_unless_present = "remove")]
        secret_file: Option<PathBuf>,
        /// 取消通知
        #[arg(long)]
        remove: bool,
    },
    /// 暫停（suspend）、中止（terminate）、註銷（cancel）或恢復（resume）參與者
    State {
        code: String,
        /// suspend、terminate、cancel、resume
        action: String,
        /// 原因（恢復以外必填，會告知參與者）
        #[arg(long)]
        reason: Option<String>,
    },
    /// 列出參與者、憑證與來源 IP
    List,
    /// 設定共用行文群組的成員（取代原有成員）
    Group {
        name: String,
        members: Vec<String>,
        /// 刪除這個群組
        #[arg(long)]
        delete: bool,
    },
    /// 匯入參與者檔（TOML：[[participant]] code、name、certificates、ips …；[[group]]）
    Import { file: PathBuf },
    /// 政府行政機關辦公日曆：匯入 CSV（人事行政總處開放資料格式或 date,kind,name）或列出
    Calendar {
        /// 要匯入的 CSV 檔（UTF-8 或 Big5）；不指定則列出目前的調整日
        #[arg(long)]
        import: Option<PathBuf>,
    },
    /// 查詢紀錄（事件與錯誤），可輸出 CSV
    Records {
        #[arg(long)]
        participant: Option<String>,
        #[arg(long)]
        doc_number: Option<String>,
        #[arg(long)]
        package: Option<String>,
        /// 事件：accepted、available、delivered、confirmed、returned、failed、error …
        #[arg(long)]
        kind: Option<String>,
        /// 起日（含），如 2026-01-05
        #[arg(long)]
        from: Option<String>,
        /// 迄日（含）
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        csv: bool,
    },
}

pub fn run(cmd: CenterCommand) -> Result<ExitCode, CliError> {
    let rt = runtime()?;
    match cmd {
        CenterCommand::Serve(c) => {
            let cfg = load_config(&c.config)?;
            rt.block_on(async {
                let running = gongwen_center::start(cfg, Clock::default()).await?;
                println!("交換中心已啟動：https://{}", running.addr());
                wait_for_signal().await;
                println!("正在停止交換中心……");
                running.shutdown().await;
                Ok(ExitCode::SUCCESS)
            })
        }
        CenterCommand::Admin { config, command } => {
            let cfg = load_config(&config.config)?;
            // The operator at the console reads what went wrong here, once, from main's
            // error line.
            gongwen_net::details_to_caller();
            rt.block_on(async {
                let app = gongwen_center::open(cfg, Clock::default()).await?;
                let r = admin(&app, command).await;
                app.db.close().await;
                r
            })
        }
    }
}

pub(crate) async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}

/// Parses 2026-01-05 as the start of that day in Asia/Taipei, Unix ms.
fn day_ms(s: &str) -> Result<i64, CliError> {
    let bad = || CliError::Arg(format!("日期「{s}」應為 YYYY-MM-DD"));
    let mut it = s.split('-');
    let (y, m, d) = (it.next(), it.next(), it.next());
    let (Some(y), Some(m), Some(d), None) = (y, m, d, it.next()) else {
        return Err(bad());
    };
    let month = time::Month::try_from(m.parse::<u8>().map_err(|_| bad())?).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(
        y.parse().map_err(|_| bad())?,
        month,
        d.parse().map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    let offset = time::UtcOffset::from_hms(8, 0, 0).map_err(|_| bad())?;
    Ok(date.midnight().assume_offset(offset).unix_timestamp() * 1000)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportFile {
    #[serde(default, rename = "participant")]
    participants: Vec<ImportParticipant>,
    #[serde(default, rename = "group")]
    groups: Vec<ImportGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportParticipant {
    code: String,
    name: String,
    #[serde(default)]
    center: Option<String>,
    #[serde(default)]
    operator: bool,
    #[serde(default)]
    certificates: Vec<PathBuf>,
    #[serde(default)]
    ips: Vec<ImportIp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, untagged)]
enum ImportIp {
    Plain(String),
    Exception {
        ip: String,
        approved_by: String,
        #[serde(default)]
        note: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportGroup {
    name: String,
    members: Vec<String>,
}

/// A participant as `add` and `import` register it (no status webhook).
fn input(code: &str, name: &str, center: Option<String>, operator: bool) -> ParticipantInput {
    ParticipantInput {
        code: code.into(),
        name: name.into(),
        center,
        webhook_url: None,
        operator,
    }
}

async fn admin(app: &gongwen_center::Shared, cmd: AdminCommand) -> Result<ExitCode, CliError> {
    let db = &app.db;
    let now = app.clock.now_ms();
    // A center run from the directory takes these from its snapshot; a change made here
    // would be undone by the next one.
    let from_directory = matches!(
        cmd,
        AdminCommand::Add { .. }
            | AdminCommand::Cert { .. }
            | AdminCommand::Ip { .. }
            | AdminCommand::State { .. }
            | AdminCommand::Group { .. }
            | AdminCommand::Import { .. }
    );
    if from_directory && let Some(d) = &app.config.directory {
        return Err(CliError::Arg(format!(
            "此交換中心依通訊錄（{}）的快照運作：參與者、憑證、IP、狀態與共用群組請在通訊錄登記（gongwen directory …）",
            d.url
        )));
    }
    match cmd {
        AdminCommand::Add {
            code,
            name,
            center,
            operator,
        } => {
            participants::upsert(db, &input(&code, &name, center, operator), now).await?;
            println!("已登記參與者 {code} {name}");
        }
        AdminCommand::Cert { code, files, usage } => {
            let usage = match usage.as_deref() {
                None => None,
                Some(u) => Some(KeyUse::parse(u).ok_or_else(|| {
                    CliError::Arg(format!(
                        "用途「{u}」不認得，應為 tls、signing 或 encryption"
                    ))
                })?),
            };
            for f in files {
                let data = read(&f)?;
                for (u, spki) in participants::add_certs(db, &code, &data, usage).await? {
                    println!("{code}：登記 {} 憑證（公鑰 SHA-256：{spki}）", u.as_str());
                }
            }
        }
        AdminCommand::Ip {
            code,
            ip,
            approved_by,
            note,
            remove,
        } => {
            if remove {
                participants::remove_ip(db, &code, &ip).await?;
                println!("{code}：已刪除來源 {ip}");
            } else {
                participants::add_ip(db, &code, &ip, approved_by.as_deref(), note.as_deref())
                    .await?;
                println!("{code}：允許來源 {ip}");
            }
        }
        AdminCommand::Webhook {
            code,
            url,
            secret_file,
            remove,
        } => {
            if remove {
                participants::set_webhook(db, &code, None, None).await?;
                println!("{code}：已取消狀態通知");
            } else {
                let secret = match &secret_file {
                    Some(f) => std::fs::read_to_string(f)
                        .map_err(|e| CliError::io(f, e))?
                        .trim()
                        .to_string(),
                    None => String::new(),
                };
                participants::set_webhook(db, &code, url.as_deref(), Some(&secret)).await?;
                println!("{code}：狀態通知送往 {}", url.unwrap_or_default());
            }
        }
        AdminCommand::State {
            code,
            action,
            reason,
        } => {
            let standing = match action.as_str() {
                "suspend" | "暫停" | "停用" => Standing::Suspended,
                "terminate" | "中止" | "終止" => Standing::Terminated,
                "cancel" | "註銷" => Standing::Cancelled,
                "resume" | "恢復" => Standing::Active,
                other => {
                    return Err(CliError::Arg(format!(
                        "動作「{other}」不認得，應為 suspend、terminate、cancel 或 resume"
                    )));
                }
            };
            participants::set_standing(db, &code, standing, reason.as_deref(), "admin", now)
                .await?;
            println!("{code}：狀態改為「{}」", standing.label());
        }
        AdminCommand::List => {
            for p in participants::list(db).await? {
                println!(
                    "{}\t{}\t{}{}{}",
                    p.code,
                    p.name,
                    p.standing.label(),
                    p.reason.map(|r| format!("（{r}）")).unwrap_or_default(),
                    p.center
                        .map(|c| format!("\t登記於 {c}"))
                        .unwrap_or_default()
                );
                for r in participants::ip_rules(db, &p.code).await? {
                    println!(
                        "\t來源 {}{}",
                        r.ip,
                        r.approved_by
                            .map(|a| format!(
                                "（例外，核准人：{a}{}）",
                                r.note.map(|n| format!("，{n}")).unwrap_or_default()
                            ))
                            .unwrap_or_default()
                    );
                }
                for u in [KeyUse::Tls, KeyUse::Signing, KeyUse::Encryption] {
                    let n = participants::keys(db, &p.code, u).await?.len();
                    if n > 0 {
                        println!("\t{} 憑證 {n} 張", u.as_str());
                    }
                }
            }
        }
        AdminCommand::Group {
            name,
            members,
            delete,
        } => {
            if delete {
                participants::delete_group(db, participants::SHARED, &name).await?;
                println!("已刪除共用群組「{name}」");
            } else {
                participants::set_group(db, participants::SHARED, &name, &members, now).await?;
                println!("共用群組「{name}」：{} 個成員", members.len());
            }
        }
        AdminCommand::Import { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| CliError::io(&file, e))?;
            let f: ImportFile = toml::from_str(&text).map_err(|e| CliError::Draft {
                path: file.display().to_string(),
                detail: e.to_string(),
            })?;
            let base = file.parent().unwrap_or(Path::new("."));
            for p in &f.participants {
                let i = input(&p.code, &p.name, p.center.clone(), p.operator);
                participants::upsert(db, &i, now).await?;
                for c in &p.certificates {
                    let path = base.join(c);
                    let data = read(&path)?;
                    participants::add_certs(db, &p.code, &data, None).await?;
                }
                for ip in &p.ips {
                    let (ip, by, note) = match ip {
                        ImportIp::Plain(ip) => (ip.as_str(), None, None),
                        ImportIp::Exception {
                            ip,
                            approved_by,
                            note,
                        } => (ip.as_str(), Some(approved_by.as_str()), note.as_deref()),
                    };
                    participants::add_ip(db, &p.code, ip, by, note).await?;
                }
            }
            for g in &f.groups {
                participants::set_group(db, participants::SHARED, &g.name, &g.members, now).await?;
            }
            println!(
                "已匯入 {} 個參與者、{} 個共用群組",
                f.participants.len(),
                f.groups.len()
            );
        }
        AdminCommand::Calendar { import } => {
            if let Some(f) = import {
                let data = read(&f)?;
                let n = gongwen_center::duty::import_calendar(db, &data).await?;
                println!("已匯入辦公日曆 {n} 列");
            }
            let cal = gongwen_center::duty::load_calendar(db).await?;
            for (date, o) in cal.iter() {
                println!(
                    "{}\t{}\t{}",
                    gongwen_calendar::roc_date(date),
                    o.kind.label_zh(),
                    o.name
                );
            }
        }
        AdminCommand::Records {
            participant,
            doc_number,
            package,
            kind,
            from,
            to,
            csv,
        } => {
            let mut q = gongwen_center::records::Query {
                participant,
                doc_number,
                package_id: package,
                kind,
                from: from.as_deref().map(day_ms).transpose()?,
                to: to
                    .as_deref()
                    .map(day_ms)
                    .transpose()?
                    .map(|t| t + 86_400_000),
                limit: Some(10_000),
                ..Default::default()
            };
            let mut all = Vec::new();
            loop {
                let page = gongwen_center::records::query(db, &q).await?;
                all.extend(page.items);
                match page.next {
                    Some(n) => q.after = n.parse().ok(),
                    None => break,
                }
            }
            if csv {
                print!("{}", gongwen_center::records::to_csv(&all));
            } else {
                for r in &all {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        gongwen_trust::path::roc_datetime(r.at / 1000),
                        r.actor,
                        r.kind,
                        r.package_id.as_deref().unwrap_or("-"),
                        r.recipient.as_deref().unwrap_or("-"),
                        r.doc_number.as_deref().unwrap_or("-"),
                        r.detail.as_deref().unwrap_or("")
                    );
                }
                println!("共 {} 筆", all.len());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
