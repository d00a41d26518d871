//! `gongwen directory`: the management layer. So far: checking the directory's log.

use std::process::ExitCode;

use clap::Subcommand;
use gongwen_directory::audit;
use gongwen_store::Db;

use crate::error::CliError;
use crate::runtime;

#[derive(Subcommand)]
pub enum DirectoryCommand {
    /// 通訊錄異動紀錄（每筆帶有前一筆的雜湊，可驗證未遭竄改）
    #[command(subcommand)]
    Audit(AuditCommand),
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
    let bad = || CliError::Arg {
        detail: format!("錨點「{s}」應為「序號:雜湊」，例如 1234:9f86d081…（64 個十六進位字元）"),
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
    match cmd {
        DirectoryCommand::Audit(AuditCommand::Verify {
            database_url,
            anchor,
        }) => {
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
