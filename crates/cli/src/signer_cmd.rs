//! `gongwen signer`: the local signing program for the web client's sign-in (the card's
//! signing key, from a key file or a PKCS#11 token).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use gongwen_agent::signer::Card;

use crate::doc_cmd::read;
use crate::error::CliError;
use crate::runtime;

#[derive(Subcommand)]
pub enum SignerCommand {
    /// 啟動本機簽章程式（127.0.0.1）：網頁版登入頁會請它以憑證卡簽署登入隨機碼，直到 Ctrl-C
    Serve(ServeArgs),
    /// 手動簽署一段登入隨機碼，輸出 PEM（貼回登入頁）
    Sign(SignArgs),
}

#[derive(Args)]
pub struct CardArgs {
    /// 簽章憑證（PEM，可含中繼憑證）
    #[arg(long)]
    pub cert: PathBuf,
    /// 簽章私鑰：PEM 檔，或 pkcs11:token=…;object=…?module-path=…&pin-value=…
    #[arg(long)]
    pub key: String,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    card: CardArgs,
    #[arg(long, default_value = "127.0.0.1:61161")]
    listen: String,
    /// 允許呼叫的網頁（例如 https://webjagent.tainan.gov.tw）；不給時只允許本機網頁
    #[arg(long)]
    origin: Vec<String>,
}

#[derive(Args)]
pub struct SignArgs {
    #[command(flatten)]
    card: CardArgs,
    /// 登入頁顯示的隨機碼文字（\n 表示換行）
    #[arg(long)]
    text: String,
}

/// Loads the card: the key must match the certificate.
pub fn card(a: &CardArgs) -> Result<Card, CliError> {
    let pem = read(&a.cert)?;
    let mut certs = gongwen_trust::cms::load_certs(&pem)
        .map_err(|e| CliError::Arg(format!("{}：{e}", a.cert.display())))?;
    if certs.is_empty() {
        return Err(CliError::Arg(format!("{} 沒有憑證", a.cert.display())));
    }
    let cert = certs.remove(0);
    let key = gongwen_trust::keys::PrivateKey::load(&a.key)
        .map_err(|e| CliError::Arg(format!("{}：{e}", a.key)))?;
    if !key.matches(&cert) {
        return Err(CliError::Arg("私鑰與簽章憑證不相符".into()));
    }
    Ok(Card {
        key,
        cert,
        chain: certs,
    })
}

pub fn run(cmd: SignerCommand) -> Result<ExitCode, CliError> {
    match cmd {
        SignerCommand::Serve(a) => {
            let c = card(&a.card)?;
            runtime()?.block_on(async {
                let server = gongwen_agent::signer::serve(&a.listen, c, a.origin).await?;
                println!(
                    "本機簽章程式已啟動：http://{}（按 Ctrl-C 停止）",
                    server.addr
                );
                crate::center_cmd::wait_for_signal().await;
                server.shutdown().await;
                Ok(ExitCode::SUCCESS)
            })
        }
        SignerCommand::Sign(a) => {
            let c = card(&a.card)?;
            let text = gongwen_proto::office::from_one_line(&a.text);
            let now = gongwen_center::Clock::default().now_s();
            let pem = c
                .sign_challenge(&text, now)
                .map_err(|e| CliError::Arg(e.to_string()))?;
            print!("{pem}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
