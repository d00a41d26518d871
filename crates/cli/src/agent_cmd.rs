//! `gongwen agent`: run the agency node for the agencies in `[agent]`, and register the
//! document systems that may call its API.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use gongwen_center::Clock;
use gongwen_store::Db;

use crate::center_cmd::{ConfigArg, load_file, wait_for_signal};
use crate::doc_cmd::read;
use crate::error::CliError;
use crate::runtime;

#[derive(Subcommand)]
pub enum AgentCommand {
    /// 啟動機關代理程式：依資料夾（outbox／sent／error／inbox）與公文系統 API 送件、收件並回送達，直到收到 Ctrl-C 或 SIGTERM
    Serve(ConfigArg),
    /// 公文系統 API 的用戶端（API 權杖或用戶端憑證）
    #[command(subcommand)]
    Client(ClientCommand),
    /// 網頁版的使用者：登記個人的憑證卡（附卡），機關的簽章憑證卡不必登記
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// 登記使用者的憑證卡（簽章憑證 PEM）；同名者取代
    Add(UserAdd),
    /// 列出機關的網頁版使用者
    List(ClientAgency),
    /// 撤銷使用者
    Remove(UserRemove),
}

#[derive(Args)]
pub struct UserAdd {
    #[command(flatten)]
    who: ClientAgency,
    /// 使用者姓名，例如「王小明」
    #[arg(long)]
    name: String,
    /// 使用者憑證卡的簽章憑證（PEM）
    #[arg(long)]
    cert: PathBuf,
}

#[derive(Args)]
pub struct UserRemove {
    #[command(flatten)]
    who: ClientAgency,
    #[arg(long)]
    name: String,
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// 登記用戶端：不給 --cert 時產生 API 權杖（只顯示這一次）；同名者換發
    Add(ClientAdd),
    /// 列出機關的用戶端
    List(ClientAgency),
    /// 撤銷用戶端
    Remove(ClientAdd),
}

#[derive(Args)]
pub struct ClientAgency {
    #[command(flatten)]
    config: ConfigArg,
    /// 機關代碼（須在 [agent] 的 agencies 中）
    #[arg(long)]
    agency: String,
}

#[derive(Args)]
pub struct ClientAdd {
    #[command(flatten)]
    who: ClientAgency,
    /// 用戶端名稱，例如「公文系統」
    #[arg(long)]
    name: String,
    /// 以用戶端憑證（PEM）辨識，而不是 API 權杖
    #[arg(long)]
    cert: Option<PathBuf>,
}

/// The `[agent]` table of the configuration file.
fn load(c: &ConfigArg) -> Result<gongwen_agent::AgentConfig, CliError> {
    load_file(&c.config)?
        .agent
        .ok_or_else(|| CliError::Arg(format!("{} 沒有 [agent] 設定", c.config.display())))
}

/// The agent's database, after checking the agency is one it serves.
async fn agent_db(who: &ClientAgency) -> Result<Db, CliError> {
    let cfg = load(&who.config)?;
    if !cfg.agencies.iter().any(|a| a.code == who.agency) {
        return Err(CliError::Arg(format!(
            "機關 {} 不在 [agent] 的 agencies 中",
            who.agency
        )));
    }
    Ok(Db::connect(&cfg.database_url).await?)
}

pub fn run(cmd: AgentCommand) -> Result<ExitCode, CliError> {
    match cmd {
        AgentCommand::Serve(c) => {
            let cfg = load(&c)?;
            runtime()?.block_on(async {
                let running = gongwen_agent::start(cfg, Clock::default()).await?;
                println!(
                    "機關代理程式已啟動：{}",
                    running
                        .node
                        .agencies
                        .iter()
                        .map(|a| a.code.as_str())
                        .collect::<Vec<_>>()
                        .join("、")
                );
                if let Some(addr) = running.api_addr() {
                    println!("公文系統 API：{addr}（/api/v1/openapi.json）");
                }
                wait_for_signal().await;
                println!("正在停止機關代理程式……");
                running.shutdown().await;
                Ok(ExitCode::SUCCESS)
            })
        }
        AgentCommand::Client(c) => runtime()?.block_on(client(c)),
        AgentCommand::User(c) => runtime()?.block_on(user(c)),
    }
}

async fn client(c: ClientCommand) -> Result<ExitCode, CliError> {
    let now = Clock::default().now_ms();
    use gongwen_agent::clients;
    match c {
        ClientCommand::Add(a) => {
            let db = agent_db(&a.who).await?;
            match &a.cert {
                Some(p) => {
                    let pem = read(p)?;
                    let key =
                        clients::add_cert(&db, &a.who.agency, &a.name, "cert", &pem, now).await?;
                    println!("已登記「{}」的用戶端憑證（公開金鑰 SHA-256 {key}）", a.name);
                }
                None => {
                    let token = clients::add_token(&db, &a.who.agency, &a.name, now).await?;
                    println!(
                        "「{}」的 API 權杖（只顯示這一次，請存入公文系統的設定）：",
                        a.name
                    );
                    println!("{token}");
                }
            }
            db.close().await;
        }
        ClientCommand::List(w) => list(&w, false).await?,
        ClientCommand::Remove(a) => revoke(&a.who, &a.name, "用戶端").await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn user(c: UserCommand) -> Result<ExitCode, CliError> {
    let now = Clock::default().now_ms();
    use gongwen_agent::clients;
    match c {
        UserCommand::Add(a) => {
            let db = agent_db(&a.who).await?;
            let pem = read(&a.cert)?;
            let key = clients::add_cert(&db, &a.who.agency, &a.name, "card", &pem, now).await?;
            db.close().await;
            println!(
                "已登記網頁版使用者「{}」的憑證卡（公開金鑰 SHA-256 {key}）",
                a.name
            );
        }
        UserCommand::List(w) => list(&w, true).await?,
        UserCommand::Remove(a) => revoke(&a.who, &a.name, "使用者").await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Lists the agency's document-system clients, or with `cards` its web users (their cards),
/// each with when it was registered.
async fn list(w: &ClientAgency, cards: bool) -> Result<(), CliError> {
    let db = agent_db(w).await?;
    for c in gongwen_agent::clients::list(&db, &w.agency)
        .await?
        .into_iter()
        .filter(|c| (c.kind == "card") == cards)
    {
        let kind = match c.kind.as_str() {
            "card" => "",
            "cert" => "\t用戶端憑證",
            _ => "\tAPI 權杖",
        };
        let at = crate::package_cmd::roc_time(c.created_at / 1000);
        println!("{}{kind}\t{at}", c.name);
    }
    db.close().await;
    Ok(())
}

/// Revokes the client or user `name` (`what` says which, in the refusal).
async fn revoke(who: &ClientAgency, name: &str, what: &str) -> Result<(), CliError> {
    let db = agent_db(who).await?;
    let gone = gongwen_agent::clients::remove(&db, &who.agency, name).await?;
    db.close().await;
    if !gone {
        return Err(CliError::Arg(format!(
            "機關 {} 沒有{what}「{name}」",
            who.agency
        )));
    }
    println!("已撤銷「{name}」");
    Ok(())
}
