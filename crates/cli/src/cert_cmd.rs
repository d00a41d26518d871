//! `gongwen cert check`: is this certificate good now, and for how long? For IT staff who keep
//! an agency's certificates (and IC cards) renewed in time.

use std::path::PathBuf;
use std::process::ExitCode;

use gongwen_trust::path::{Purpose, display_name, expiry_warnings, hex, spki_sha256};

use crate::clock::unix_now;
use crate::error::CliError;
use crate::package_cmd::{TrustArgs, certs, roc_time};

#[derive(clap::Args)]
pub struct CheckArgs {
    /// 憑證檔（PEM 或 DER，可多個）
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// 用途：signing（簽章）、encryption（加密）、tls-server 或 tls-client
    #[arg(long, default_value = "signing")]
    pub purpose: String,
    /// 中繼憑證（PEM，可重複；例如 pki issue 產生的 -chain.pem）
    #[arg(long)]
    pub chain: Vec<PathBuf>,
    /// 幾天內到期就提出警告
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    #[command(flatten)]
    pub trust: TrustArgs,
}

/// Exit 0 when every certificate is good and not expiring soon, 1 otherwise.
pub fn check(a: CheckArgs) -> Result<ExitCode, CliError> {
    let purpose = match a.purpose.as_str() {
        "signing" | "簽章" => Purpose::Signing,
        "encryption" | "加密" => Purpose::Encryption,
        "tls-server" => Purpose::TlsServer,
        "tls-client" => Purpose::TlsClient,
        other => {
            return Err(CliError::Arg(format!(
                "--purpose「{other}」應為 signing（簽章）、encryption（加密）、tls-server 或 tls-client"
            )));
        }
    };
    let store = a.trust.store()?;
    let mut intermediates = Vec::new();
    for c in &a.chain {
        intermediates.extend(certs(c)?);
    }
    let now = unix_now();
    let mut worst = 0u8;
    for f in &a.files {
        for cert in certs(f)? {
            let v = &cert.tbs_certificate.validity;
            println!("{}：{}", f.display(), display_name(&cert));
            println!(
                "  效期：{} 至 {}",
                roc_time(v.not_before.to_unix_duration().as_secs() as i64),
                roc_time(v.not_after.to_unix_duration().as_secs() as i64)
            );
            println!("  公鑰 SHA-256：{}", hex(&spki_sha256(&cert)?));
            match store.evaluate(&cert, &intermediates, now, purpose) {
                Ok(e) => {
                    let mut warnings = e.warnings;
                    warnings.extend(expiry_warnings(&e.chain, now, a.days));
                    if warnings.is_empty() {
                        println!("  狀態：有效（憑證鏈 {} 層）", e.chain.len());
                    } else {
                        worst = worst.max(1);
                        for w in warnings {
                            println!("  警告：{w}");
                        }
                    }
                }
                Err(e) => {
                    worst = worst.max(1);
                    println!("  狀態：{e} [{}]", e.code());
                }
            }
        }
    }
    Ok(ExitCode::from(worst))
}
