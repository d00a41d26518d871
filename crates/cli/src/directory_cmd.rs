//! `gongwen directory`: run the directory (管理層) and administer it — centers, participants,
//! certificates, addresses, shared groups, address-book import and export, snapshots, and the
//! check of its log.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use gongwen_center::Clock;
use gongwen_directory::accounts::{self, Role};
use gongwen_directory::applications::{self, AppState};
use gongwen_directory::registry::{self, Center, ParticipantInput};
use gongwen_directory::{addressbook, audit, improvements, snapshot};
use gongwen_proto::directory::{CenterKind, KeyUsage, ParticipantKind, ParticipantState};
use gongwen_store::Db;

use crate::center_cmd::{ConfigArg, load_file, wait_for_signal};
use crate::doc_cmd::read;
use crate::error::CliError;
use crate::runtime;

#[derive(Subcommand)]
pub enum DirectoryCommand {
    /// 啟動通訊錄服務（HTTPS）：提供交換中心簽章快照與地址簿，直到收到 Ctrl-C 或 SIGTERM
    Serve(ConfigArg),
    /// 登記或修改交換中心（代號、名稱、種類、網址、TLS 用戶端憑證、營運機關）
    Center {
        #[command(flatten)]
        config: ConfigArg,
        id: String,
        #[arg(long)]
        name: String,
        /// 共用、自管、自建（shared、self_managed、self_built）
        #[arg(long)]
        kind: String,
        /// 交換中心 API 網址（https://…）
        #[arg(long)]
        url: String,
        /// 交換中心的 TLS 用戶端憑證（PEM）：取快照、與其他交換中心互轉時以此辨識
        #[arg(long)]
        tls_cert: Option<PathBuf>,
        /// 營運機關
        #[arg(long)]
        operator: String,
    },
    /// 參與者：新增、異動、憑證、來源 IP、狀態、查看
    Participant {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        command: ParticipantCommand,
    },
    /// 設定共用行文群組的成員（取代原有成員；不給成員即刪除）
    Group {
        #[command(flatten)]
        config: ConfigArg,
        name: String,
        members: Vec<String>,
    },
    /// 匯入地址簿 CSV（至少 ORGID、ORGNAME 欄；全部成功才寫入）
    Import {
        #[command(flatten)]
        config: ConfigArg,
        file: PathBuf,
        /// 沒有 CENTER 欄的列歸屬的交換中心
        #[arg(long)]
        center: Option<String>,
    },
    /// 地址簿：查詢（名稱關鍵字或代碼，臺／台、全形半形視為相同）或輸出 CSV／JSON
    AddressBook {
        #[command(flatten)]
        config: ConfigArg,
        /// 關鍵字或機關代碼
        #[arg(long)]
        query: Option<String>,
        /// 依完整名稱找唯一的機關代碼（同名多筆時列出全部，不猜）
        #[arg(long, conflicts_with = "query")]
        resolve: Option<String>,
        /// csv 或 json（預設為表格）
        #[arg(long)]
        format: Option<String>,
    },
    /// 帳號：初審（審核機關）、複審（交換中心管理機關）、稽核、管理者；印出一次性的 API 權杖
    Account {
        #[command(flatten)]
        config: ConfigArg,
        name: String,
        #[arg(long)]
        display_name: String,
        /// first_reviewer、second_reviewer、auditor、admin
        #[arg(long)]
        role: String,
        /// 初審：審核機關的機關代碼；複審：交換中心代號
        #[arg(long)]
        scope: Option<String>,
    },
    /// 連線申請：送件（已簽章的申請書）、查看、審核
    Application {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        command: ApplicationCommand,
    },
    /// 暫停、限期改善單、追蹤評估、延長期限、中止、憑證到期後恢復連線
    Improvement {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        command: ImprovementCommand,
    },
    /// 給某機關的通知（申請進度、開通、補正、限期改善、中止、憑證到期提醒），新的在前
    Notices {
        #[command(flatten)]
        config: ConfigArg,
        code: String,
    },
    /// 立即產生並簽署新的通訊錄快照（服務執行中也會自動產生）
    Snapshot {
        #[command(flatten)]
        config: ConfigArg,
        /// 另存一份簽章快照（DER，可用 openssl cms -verify 檢查）
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 通訊錄異動紀錄（每筆帶有前一筆的雜湊，可驗證未遭竄改）
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand)]
pub enum ApplicationCommand {
    /// 以機關憑證簽署申請書（JSON）：產生 CMS 簽章檔（申請者在自己的電腦上執行）
    Sign(SignArgs),
    /// 送出已簽章的申請書；加上 --id 為補正
    Submit {
        file: PathBuf,
        #[arg(long)]
        id: Option<String>,
    },
    /// 列出帳號可看到的申請案
    List {
        /// 以哪個帳號查看
        #[arg(long = "as")]
        account: String,
        /// submitted、first_approved、correction、activated、rejected
        #[arg(long)]
        state: Option<String>,
    },
    /// 查看申請案：內容、進度、異動紀錄，以及該機關過去的申請與限期改善
    Show { id: String },
    /// 審核：approve（同意）、correct（補正）、reject（不同意）
    Review {
        id: String,
        #[arg(long = "as")]
        account: String,
        decision: String,
        /// 補正或不同意的理由
        #[arg(long)]
        message: Option<String>,
    },
}

#[derive(clap::Args)]
pub struct SignArgs {
    /// 申請書 JSON（欄位見 docs/zh-TW/通訊錄.md）
    form: PathBuf,
    /// 簽章憑證（PEM，可含憑證鏈）
    #[arg(long)]
    cert: PathBuf,
    /// 私鑰：PEM 檔，或 pkcs11: URI（IC 卡、HSM）
    #[arg(long)]
    key: PathBuf,
    #[arg(long, short)]
    out: PathBuf,
}

#[derive(Subcommand)]
pub enum ImprovementCommand {
    /// 暫停參與者；原因為代號（malware、attack、ip_rights、credentials、fraud、advertising、audit_refused、rules、security_incident）或文字
    Suspend { code: String, reason: String },
    /// 發出限期改善單（同時暫停），期限 YYYY-MM-DD
    Issue {
        code: String,
        reason: String,
        #[arg(long)]
        deadline: String,
    },
    /// 記錄參與者回復的改善情形
    Answer { id: String, text: String },
    /// 追蹤評估（每期最多三次）：--improved 表示已改善並恢復服務
    FollowUp {
        id: String,
        #[arg(long)]
        improved: bool,
        #[arg(long)]
        note: String,
    },
    /// 核准延長期限（YYYY-MM-DD）
    Extend {
        id: String,
        #[arg(long)]
        deadline: String,
        #[arg(long)]
        approved_by: String,
    },
    /// 通知中止：於指定日期（YYYY-MM-DD）中止，前一日下午六時起停止服務
    Terminate {
        id: String,
        #[arg(long)]
        on: String,
    },
    /// 查看參與者的限期改善單與追蹤評估
    Show { code: String },
    /// 憑證到期而暫停者，登記新憑證後恢復連線
    Reconnect { code: String },
}

#[derive(Subcommand)]
pub enum ParticipantCommand {
    /// 新增參與者（直接開通；一般應經連線申請與兩級審核）
    Add(ParticipantArgs),
    /// 異動參與者的登記資料（代碼與狀態不變）
    Change(ParticipantArgs),
    /// 登記憑證（PEM 或 DER；用途由金鑰用途判斷，或以 --use 指定）
    Cert {
        code: String,
        files: Vec<PathBuf>,
        /// tls、signing、encryption
        #[arg(long = "use")]
        usage: Option<String>,
    },
    /// 登記或刪除允許的來源 IP（原則一個固定 IP；其餘須記錄核准人）
    Ip {
        code: String,
        ip: String,
        #[arg(long)]
        approved_by: Option<String>,
        #[arg(long)]
        remove: bool,
    },
    /// 暫停（suspend）、中止（terminate）、註銷（cancel）或恢復（resume）
    State {
        code: String,
        action: String,
        /// 原因（恢復以外必填，會告知參與者）
        #[arg(long)]
        reason: Option<String>,
    },
    /// 顯示參與者的登記資料、憑證、來源 IP 與異動紀錄
    Show { code: String },
}

#[derive(clap::Args)]
pub struct ParticipantArgs {
    /// 機關代碼
    code: String,
    #[arg(long)]
    name: String,
    /// agency、school、public_enterprise、organisation、company（或中文：機關、學校…）
    #[arg(long, default_value = "agency")]
    kind: String,
    /// 所屬交換中心代號
    #[arg(long)]
    center: String,
    /// 統一編號
    #[arg(long)]
    ubn: Option<String>,
    /// 審核機關的機關代碼
    #[arg(long)]
    authority: Option<String>,
    /// 只發文（不收文）
    #[arg(long, conflicts_with = "no_send")]
    no_receive: bool,
    /// 只收文（不發文）
    #[arg(long)]
    no_send: bool,
    /// 交換中心管理者（可查詢該中心全部紀錄）
    #[arg(long)]
    operator: bool,
    #[arg(long)]
    contact_name: Option<String>,
    #[arg(long)]
    contact_phone: Option<String>,
    #[arg(long)]
    contact_email: Option<String>,
}

impl ParticipantArgs {
    fn input(self) -> Result<ParticipantInput, CliError> {
        let kind = ParticipantKind::parse(&self.kind).ok_or_else(|| {
            CliError::Arg(format!(
                "種類「{}」應為 agency、school、public_enterprise、organisation 或 company",
                self.kind
            ))
        })?;
        Ok(ParticipantInput {
            code: self.code,
            name: self.name,
            kind,
            ubn: self.ubn,
            authority: self.authority,
            center: self.center,
            receive: !self.no_receive,
            send: !self.no_send,
            operator: self.operator,
            contact_name: self.contact_name,
            contact_phone: self.contact_phone,
            contact_email: self.contact_email,
        })
    }
}

/// Who the log names for a command typed at this machine.
fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// A time the directory keeps (Unix ms) as people read it.
fn roc_ms(ms: i64) -> String {
    gongwen_trust::path::roc_datetime(ms / 1000)
}

fn load(config: &ConfigArg) -> Result<gongwen_directory::DirectoryConfig, CliError> {
    load_file(&config.config)?
        .directory
        .ok_or_else(|| CliError::Arg(format!("{} 沒有 [directory] 設定", config.config.display())))
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// 逐筆重算雜湊：找出遭修改、刪除的紀錄；加上錨點時也找出被截掉的最新紀錄
    Verify {
        /// 資料庫位址（sqlite://… 或 postgres://…）
        #[arg(long)]
        database_url: String,
        /// 先前記下的錨點「序號:雜湊」（上次檢查時印出的最新一筆，或通訊錄快照所載）
        #[arg(long)]
        anchor: Option<String>,
    },
}

fn parse_anchor(s: &str) -> Result<(i64, String), CliError> {
    let bad = || {
        CliError::Arg(format!(
            "錨點「{s}」應為「序號:雜湊」，例如 1234:9f86d081…（64 個十六進位字元）"
        ))
    };
    let (seq, hash) = s.split_once(':').ok_or_else(bad)?;
    let seq: i64 = seq.trim().parse().map_err(|_| bad())?;
    let hash = hash.trim().to_ascii_lowercase();
    if seq < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    Ok((seq, hash))
}

pub fn run(cmd: DirectoryCommand) -> Result<ExitCode, CliError> {
    if let DirectoryCommand::Application {
        command: ApplicationCommand::Sign(a),
        ..
    } = cmd
    {
        return sign_application(a);
    }
    let (config, cmd) = match cmd {
        DirectoryCommand::Serve(c) => {
            let cfg = load(&c)?;
            return runtime()?.block_on(async {
                let running = gongwen_directory::start(cfg, Clock::default()).await?;
                println!("通訊錄服務已啟動：https://{}", running.addr());
                wait_for_signal().await;
                println!("正在停止通訊錄服務……");
                running.shutdown().await;
                Ok(ExitCode::SUCCESS)
            });
        }
        DirectoryCommand::Audit(a) => return audit_cmd(a),
        DirectoryCommand::Center { ref config, .. }
        | DirectoryCommand::Participant { ref config, .. }
        | DirectoryCommand::Group { ref config, .. }
        | DirectoryCommand::Import { ref config, .. }
        | DirectoryCommand::AddressBook { ref config, .. }
        | DirectoryCommand::Account { ref config, .. }
        | DirectoryCommand::Notices { ref config, .. }
        | DirectoryCommand::Application { ref config, .. }
        | DirectoryCommand::Improvement { ref config, .. }
        | DirectoryCommand::Snapshot { ref config, .. } => (load(config)?, cmd),
    };
    // The operator at the console reads what went wrong here, once, from main's error line.
    gongwen_net::details_to_caller();
    runtime()?.block_on(async {
        let app = gongwen_directory::open(config, Clock::default()).await?;
        let r = admin(&app, cmd).await;
        app.db.close().await;
        r
    })
}

async fn admin(
    app: &gongwen_directory::Shared,
    cmd: DirectoryCommand,
) -> Result<ExitCode, CliError> {
    let (db, now, who) = (&app.db, app.clock.now_ms(), actor());
    match cmd {
        DirectoryCommand::Center {
            id,
            name,
            kind,
            url,
            tls_cert,
            operator,
            ..
        } => {
            let kind = CenterKind::parse(&kind).ok_or_else(|| {
                CliError::Arg(format!(
                    "種類「{kind}」應為 共用、自管、自建（shared、self_managed、self_built）"
                ))
            })?;
            let tls_key = tls_cert
                .map(|p| read(&p).and_then(|d| registry::key_of(&d).map_err(CliError::from)))
                .transpose()?;
            registry::put_center(
                db,
                &Center {
                    id: id.clone(),
                    name,
                    kind,
                    url,
                    tls_key,
                    operator,
                },
                &who,
                now,
            )
            .await?;
            println!("已登記交換中心 {id}");
        }
        DirectoryCommand::Participant { command, .. } => {
            participant(db, command, &who, now).await?
        }
        DirectoryCommand::Group { name, members, .. } => {
            registry::set_group(db, &name, &members, &who, now).await?;
            println!("共用群組「{name}」有 {} 個成員", members.len());
        }
        DirectoryCommand::Import { file, center, .. } => {
            let data = read(&file)?;
            let text = String::from_utf8(data).map_err(|_| {
                CliError::Arg(format!(
                    "{} 不是 UTF-8 文字檔（請以 UTF-8 另存）",
                    file.display()
                ))
            })?;
            let started = std::time::Instant::now();
            let s = addressbook::import_csv(db, &text, center.as_deref(), &who, now).await?;
            println!(
                "已匯入 {} 筆（{:.1} 秒），檔案 SHA-256 {}",
                s.added,
                started.elapsed().as_secs_f64(),
                s.sha256
            );
        }
        DirectoryCommand::AddressBook {
            query,
            resolve,
            format,
            ..
        } => {
            if let Some(name) = resolve {
                let e = addressbook::resolve(db, &name).await?;
                println!("{}\t{}", e.orgid, e.orgname);
                return Ok(ExitCode::SUCCESS);
            }
            let entries = addressbook::search(db, query.as_deref(), 100_000).await?;
            match format.as_deref() {
                Some("csv") => print!("{}", addressbook::to_csv(&entries)),
                Some("json") => println!(
                    "{}",
                    serde_json::to_string_pretty(&entries).unwrap_or_default()
                ),
                Some(other) => {
                    return Err(CliError::Arg(format!(
                        "--format「{other}」應為 csv 或 json"
                    )));
                }
                None => {
                    for e in &entries {
                        let state = e.state.label();
                        println!("{}\t{}\t{}\t{}", e.orgid, e.orgname, state, e.center);
                    }
                    println!("共 {} 筆", entries.len());
                }
            }
        }
        DirectoryCommand::Snapshot { out, .. } => {
            let s = snapshot::build(db, &app.key, now, &app.config.snapshot).await?;
            println!(
                "已簽署第 {} 版通訊錄快照（{} 位元組），有效至 {}",
                s.version,
                s.body.len(),
                roc_ms(s.valid_until)
            );
            if let Some(p) = out {
                std::fs::write(&p, &s.body).map_err(|e| CliError::io(&p, e))?;
                println!("已另存 {}", p.display());
            }
        }
        DirectoryCommand::Account {
            name,
            display_name,
            role,
            scope,
            ..
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                CliError::Arg(format!(
                    "角色「{role}」應為 first_reviewer、second_reviewer、auditor 或 admin"
                ))
            })?;
            let token =
                accounts::put(db, &name, &display_name, role, scope.as_deref(), &who, now).await?;
            println!("已設定帳號 {name}（{}）", role.label());
            println!("API 權杖（只顯示這一次，請妥善保管）：{token}");
        }
        DirectoryCommand::Application { command, .. } => application(app, command, now).await?,
        DirectoryCommand::Improvement { command, .. } => {
            improvement(db, command, &who, now).await?
        }
        DirectoryCommand::Notices { code, .. } => {
            let list = applications::notices(db, &code).await?;
            for (at, subject, body) in &list {
                println!("{}　{subject}：{body}", roc_ms(*at));
            }
            println!("共 {} 則", list.len());
        }
        DirectoryCommand::Serve(_) | DirectoryCommand::Audit(_) => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn sign_application(a: SignArgs) -> Result<ExitCode, CliError> {
    let (form, cert, out) = (&a.form, &a.cert, &a.out);
    let text = read(form)?;
    let f: gongwen_proto::directory::ApplicationForm =
        serde_json::from_slice(&text).map_err(|e| CliError::Draft {
            path: form.display().to_string(),
            detail: e.to_string(),
        })?;
    let certs = gongwen_trust::cms::load_certs(&read(cert)?)?;
    let (signer, chain) = certs
        .split_first()
        .ok_or_else(|| CliError::Arg(format!("{} 沒有憑證", cert.display())))?;
    let key = crate::package_cmd::load_key(&a.key, None)?;
    let body = serde_json::to_vec(&f).map_err(|e| CliError::Arg(e.to_string()))?;
    let signed = gongwen_trust::cms::sign(
        &body,
        &gongwen_trust::cms::Signer {
            key: &key,
            cert: signer,
            chain,
        },
        crate::clock::unix_now(),
    )?;
    if out.exists() {
        return Err(CliError::Arg(format!("{} 已存在，不覆寫", out.display())));
    }
    std::fs::write(out, signed).map_err(|e| CliError::io(out, e))?;
    println!(
        "已簽署 {}（{} {}）→ {}",
        form.display(),
        f.kind.label(),
        f.code,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn application(
    app: &gongwen_directory::Shared,
    cmd: ApplicationCommand,
    now: i64,
) -> Result<(), CliError> {
    let db = &app.db;
    match cmd {
        ApplicationCommand::Sign(_) => {}
        ApplicationCommand::Submit { file, id } => {
            let data = read(&file)?;
            let a = match id {
                None => applications::submit(db, &app.trust.store(), &data, now).await?,
                Some(id) => applications::correct(db, &app.trust.store(), &id, &data, now).await?,
            };
            println!(
                "申請案 {}：{}（{}），{}",
                a.id,
                a.form.name,
                a.form.code,
                a.state.label()
            );
        }
        ApplicationCommand::List { account, state } => {
            let who = accounts::get(db, &account).await?;
            let state = state
                .map(|s| {
                    AppState::parse(&s).ok_or_else(|| CliError::Arg(format!("狀態「{s}」應為 submitted、first_approved、correction、activated 或 rejected")))
                })
                .transpose()?;
            let list = applications::list(db, &who, state).await?;
            for a in &list {
                println!(
                    "{}\t{}\t{}\t{}（{}）\t{}",
                    a.id,
                    a.state.label(),
                    a.form.kind.label(),
                    a.form.name,
                    a.form.code,
                    roc_ms(a.created_at)
                );
            }
            println!("共 {} 件", list.len());
        }
        ApplicationCommand::Show { id } => {
            let a = applications::get(db, &id).await?;
            let f = &a.form;
            println!("申請案 {}：{}（{}）", a.id, f.kind.label(), a.state.label());
            println!(
                "機關：{}（{}），{}，統一編號 {}",
                f.name,
                f.code,
                f.participant_kind.label(),
                f.ubn.as_deref().unwrap_or("無")
            );
            println!(
                "審核機關：{}　交換中心：{}　固定 IP：{}",
                f.authority,
                f.center,
                f.ips.join("、")
            );
            println!(
                "聯絡人：{} {} {}",
                f.contact_name, f.contact_phone, f.contact_email
            );
            println!(
                "同意：{}（{}）",
                f.agreement.rules,
                roc_ms(f.agreement.agreed_at)
            );
            if let Some(m) = &a.message {
                println!("審核意見：{m}");
            }
            for e in audit::history(db, &format!("application:{}", a.id)).await? {
                println!(
                    "{}　{}　{}",
                    roc_ms(e.entry.at),
                    e.entry.actor,
                    e.entry.action
                );
            }
            for (other, state, at) in applications::history_of(db, &f.code).await? {
                if other != a.id {
                    println!("過去申請：{other}（{}，{}）", state.label(), roc_ms(at));
                }
            }
            for n in improvements::of(db, &f.code).await? {
                println!(
                    "限期改善單 {}：{}（{}，追蹤 {} 次）",
                    n.id,
                    n.reason,
                    n.state.label(),
                    n.follow_ups.len()
                );
            }
        }
        ApplicationCommand::Review {
            id,
            account,
            decision,
            message,
        } => {
            let who = accounts::get(db, &account).await?;
            let d = applications::decision(&decision, message)?;
            let a = applications::review(db, &who, &id, d, now).await?;
            println!("申請案 {}：{}", a.id, a.state.label());
        }
    }
    Ok(())
}

async fn improvement(
    db: &Db,
    cmd: ImprovementCommand,
    who: &str,
    now: i64,
) -> Result<(), CliError> {
    let show = |n: &improvements::ImprovementNotice| {
        println!(
            "限期改善單 {}（{}）：{}，期限 {}，{}，追蹤 {}／{} 次{}",
            n.id,
            n.code,
            n.reason,
            roc_ms(n.deadline),
            n.state.label(),
            n.follow_ups.len(),
            n.follow_ups_allowed,
            n.stops_at
                .map(|s| format!("，{} 起停止服務", roc_ms(s)))
                .unwrap_or_default()
        )
    };
    match cmd {
        ImprovementCommand::Suspend { code, reason } => {
            improvements::suspend(db, &code, &reason, who, now).await?;
            println!("{code} 已暫停");
        }
        ImprovementCommand::Issue {
            code,
            reason,
            deadline,
        } => show(&improvements::issue(db, &code, &reason, &deadline, who, now).await?),
        ImprovementCommand::Answer { id, text } => {
            show(&improvements::answer(db, &id, &text, who, now).await?)
        }
        ImprovementCommand::FollowUp { id, improved, note } => {
            show(&improvements::follow_up(db, &id, improved, &note, who, now).await?)
        }
        ImprovementCommand::Extend {
            id,
            deadline,
            approved_by,
        } => show(&improvements::extend(db, &id, &deadline, &approved_by, who, now).await?),
        ImprovementCommand::Terminate { id, on } => {
            show(&improvements::terminate(db, &id, &on, who, now).await?)
        }
        ImprovementCommand::Show { code } => {
            for n in improvements::of(db, &code).await? {
                show(&n);
                for f in &n.follow_ups {
                    println!(
                        "  第 {} 次追蹤（{}，{}）：{}{}",
                        f.n,
                        roc_ms(f.at),
                        f.assessor,
                        if f.improved { "已改善" } else { "未改善" },
                        format_args!("，{}", f.note)
                    );
                }
            }
        }
        ImprovementCommand::Reconnect { code } => {
            improvements::reconnect(db, &code, who, now).await?;
            println!("{code} 已恢復連線");
        }
    }
    Ok(())
}

async fn participant(
    db: &Db,
    cmd: ParticipantCommand,
    who: &str,
    now: i64,
) -> Result<(), CliError> {
    match cmd {
        ParticipantCommand::Add(a) => {
            let p = a.input()?;
            registry::add(db, &p, who, now).await?;
            println!("已新增參與者 {}（{}）", p.code, p.name);
        }
        ParticipantCommand::Change(a) => {
            let p = a.input()?;
            registry::change(db, &p, who, now).await?;
            println!("已異動參與者 {}", p.code);
        }
        ParticipantCommand::Cert { code, files, usage } => {
            let usage = usage
                .map(|u| {
                    KeyUsage::parse(&u).ok_or_else(|| {
                        CliError::Arg(format!("用途「{u}」應為 tls、signing 或 encryption"))
                    })
                })
                .transpose()?;
            for f in files {
                for c in registry::add_certs(db, &code, &read(&f)?, usage, who, now).await? {
                    println!(
                        "已登記 {code} 的{}憑證（公鑰 SHA-256 {}，效期至 {}）",
                        c.usage.as_str(),
                        c.spki_sha256,
                        roc_ms(c.not_after)
                    );
                }
            }
        }
        ParticipantCommand::Ip {
            code,
            ip,
            approved_by,
            remove,
        } => {
            if remove {
                registry::remove_ip(db, &code, &ip, who, now).await?;
                println!("已刪除 {code} 的來源 IP {ip}");
            } else {
                registry::add_ip(db, &code, &ip, approved_by.as_deref(), who, now).await?;
                println!("已登記 {code} 的來源 IP {ip}");
            }
        }
        ParticipantCommand::State {
            code,
            action,
            reason,
        } => {
            let state = match action.as_str() {
                "suspend" | "暫停" => ParticipantState::Suspended,
                "terminate" | "中止" => ParticipantState::Terminated,
                "cancel" | "註銷" => ParticipantState::Cancelled,
                "resume" | "恢復" => ParticipantState::Active,
                other => {
                    return Err(CliError::Arg(format!(
                        "動作「{other}」應為 suspend、terminate、cancel 或 resume"
                    )));
                }
            };
            registry::set_state(db, &code, state, reason.as_deref(), who, now).await?;
            println!("{code} 已改為「{}」", state.label());
        }
        ParticipantCommand::Show { code } => {
            let p = registry::require(db, &code).await?;
            println!("{}（{}）", p.input.name, p.input.code);
            println!(
                "種類：{}　交換中心：{}",
                p.input.kind.label(),
                p.input.center
            );
            println!(
                "狀態：{}{}",
                p.state.label(),
                p.reason.map(|r| format!("（{r}）")).unwrap_or_default()
            );
            for c in registry::certs(db, &code).await? {
                println!(
                    "憑證：{} {}（效期至 {}）",
                    c.usage.as_str(),
                    c.spki_sha256,
                    roc_ms(c.not_after)
                );
            }
            for i in registry::ips(db, &code).await? {
                println!("來源 IP：{}", i.ip);
            }
            for e in audit::history(db, &code).await? {
                println!(
                    "{}　{}　{}　{}",
                    roc_ms(e.entry.at),
                    e.entry.actor,
                    e.entry.action,
                    e.entry.detail
                );
            }
        }
    }
    Ok(())
}

fn audit_cmd(cmd: AuditCommand) -> Result<ExitCode, CliError> {
    gongwen_net::details_to_caller();
    match cmd {
        AuditCommand::Verify {
            database_url,
            anchor,
        } => {
            let anchor = anchor.as_deref().map(parse_anchor).transpose()?;
            let report = runtime()?.block_on(async {
                let db = Db::connect(&database_url).await?;
                let r = audit::verify(&db, anchor.as_ref().map(|(n, h)| (*n, h.as_str()))).await;
                db.close().await;
                r
            })?;
            match (report.first, &report.head) {
                (Some(first), Some((seq, hash))) => {
                    println!("異動紀錄共 {} 筆（第 {first} 筆起）", report.entries);
                    println!("最新一筆：第 {seq} 筆，雜湊 {hash}");
                    println!("下次檢查可用錨點：--anchor {seq}:{hash}");
                }
                _ => println!("異動紀錄沒有任何一筆"),
            }
            match report.broken {
                None => {
                    println!("檢查結果：雜湊鏈完整，未發現竄改");
                    Ok(ExitCode::SUCCESS)
                }
                Some(b) => {
                    println!("檢查結果：發現問題（第 {} 筆）：{}", b.seq, b.reason);
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
