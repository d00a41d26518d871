//! `gongwen agent`: run the agency node for the agencies in `[agent]`.

use std::process::ExitCode;

use clap::Subcommand;
use gongwen_center::Clock;

use crate::center_cmd::{ConfigArg, load_file, wait_for_signal};
use crate::error::CliError;
use crate::runtime;

#[derive(Subcommand)]
pub enum AgentCommand {
    /// 啟動機關代理程式：依資料夾（outbox／sent／error／inbox）送件、收件並回送達，直到收到 Ctrl-C 或 SIGTERM
    Serve(ConfigArg),
}

pub fn run(cmd: AgentCommand) -> Result<ExitCode, CliError> {
    match cmd {
        AgentCommand::Serve(c) => {
            let cfg = load_file(&c.config)?.agent.ok_or_else(|| CliError::Arg {
                detail: format!("{} 沒有 [agent] 設定", c.config.display()),
            })?;
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
                wait_for_signal().await;
                println!("正在停止機關代理程式……");
                running.shutdown().await;
                Ok(ExitCode::SUCCESS)
            })
        }
    }
}
