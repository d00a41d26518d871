//! `gongwen office`: the agency's document-management system. `serve` runs its pages for the
//! agency in `[office]`; `import` takes units and people from CSV (how the first administrator
//! gets in); `key` prints what the people CSV names a card by; `verify` checks a case exported
//! as one file — every signature, the chain of steps, the versions — with no server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use gongwen_office::export;
use gongwen_trust::path::{StaleCrl, TrustStore};

use crate::center_cmd::{ConfigArg, load_file, wait_for_signal};
use crate::doc_cmd::{load_fonts, read, read_bounded, render_err, write_atomic};
use crate::error::CliError;
use crate::runtime;

#[derive(Subcommand)]
pub enum OfficeCommand {
    /// 啟動公文管理系統（線上簽核）的網頁，並定時向機關代理程式收文、追蹤發文，直到收到 Ctrl-C 或 SIGTERM
    Serve(ConfigArg),
    /// 由 CSV 匯入單位與人員（第一位系統管理人員也由此建立）；有誤的列逐列列出，其餘照常匯入
    Import {
        #[command(flatten)]
        config: ConfigArg,
        /// 單位 CSV（欄位：單位代號,上級單位代號,單位名稱,線上簽核）
        #[arg(long)]
        units: Option<PathBuf>,
        /// 人員 CSV（欄位：人員代號,姓名,職稱,單位代號,憑證公鑰SHA-256,角色）
        #[arg(long)]
        people: Option<PathBuf>,
    },
    /// 印出簽章憑證的公鑰 SHA-256（人員 CSV 以此登記每人的憑證卡）
    Key {
        /// 簽章憑證（PEM）
        cert: PathBuf,
    },
    /// 驗證匯出的案件檔：每一步的簽章（本人憑證、簽署時未廢止未過期）、步驟鏈（未被刪除、調換或修改）與各版本內容；印出簽核紀錄，有問題時結束碼為 1
    Verify {
        /// 案件匯出檔（JSON）
        file: PathBuf,
        /// 信任的根憑證（PEM，可重複）
        #[arg(long = "trust", required = true)]
        anchors: Vec<PathBuf>,
        /// 廢止清冊（CRL，PEM 或 DER，可重複；目錄代表其中所有 .crl 檔）
        #[arg(long = "crl")]
        crls: Vec<PathBuf>,
        /// 沒有或過期的 CRL：refuse（列為問題，預設）或 warn（警告後接受）
        #[arg(long, default_value = "refuse")]
        stale_crl: String,
        /// 另把簽核紀錄印成 PDF（A4）寫到這個檔案
        #[arg(long)]
        pdf: Option<PathBuf>,
    },
    /// 跨機關時效統計（供時效考核機關）：合併各機關由統計頁匯出的 timeliness JSON（同一期間、每機關一份），
    /// 依機關與速別列出結案、如期、逾期件數與平均處理天數，最後是全部機關的合計
    Timeliness {
        /// 各機關的時效統計 JSON（/stats/timeliness.json）
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// 另寫出 CSV（UTF-8 含 BOM）
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Largest timeliness export read (24 months of every unit of a large agency).
const MAX_TIMELINESS_BYTES: usize = 16 * 1024 * 1024;

/// `gongwen office timeliness`: the agencies' exports side by side.
fn timeliness(files: &[PathBuf], out: Option<&std::path::Path>) -> Result<ExitCode, CliError> {
    use gongwen_office::timeliness::{self, Report};
    let mut reports: Vec<Report> = Vec::new();
    for f in files.iter().take(timeliness::MAX_MERGED + 1) {
        let bytes = read_bounded(f, MAX_TIMELINESS_BYTES)?;
        let r = serde_json::from_slice(&bytes).map_err(|e| {
            CliError::Arg(format!(
                "{}：不是公文管理系統匯出的時效統計 JSON：{e}",
                f.display()
            ))
        })?;
        reports.push(r);
    }
    let lines = timeliness::merge(&reports).map_err(CliError::Arg)?;
    let first = &reports[0];
    println!(
        "跨機關時效統計：{}～{}，{} 個機關",
        first.from,
        first.to,
        reports.len()
    );
    let show = |v: Option<f64>| v.map_or_else(|| "—".to_string(), |x| x.to_string());
    for l in &lines {
        let c = &l.figures.counts;
        println!(
            "  {}｜{}：結案 {}，如期 {}，逾期 {}，無限辦日期 {}，如期率 {}%，平均 {} 個工作天",
            l.agency,
            l.speed_name,
            c.closed,
            c.on_time,
            c.late,
            c.no_due,
            show(l.figures.on_time_rate),
            show(l.figures.average_days)
        );
    }
    if let Some(out) = out {
        write_atomic(out, timeliness::merged_csv(&lines).as_bytes())?;
        println!("已寫出 {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn load(c: &ConfigArg) -> Result<gongwen_office::config::OfficeConfig, CliError> {
    load_file(&c.config)?
        .office
        .ok_or_else(|| CliError::Arg(format!("{} 沒有 [office] 設定", c.config.display())))
}

pub fn run(c: OfficeCommand) -> Result<ExitCode, CliError> {
    match c {
        OfficeCommand::Timeliness { files, out } => timeliness(&files, out.as_deref()),
        OfficeCommand::Serve(c) => {
            let cfg = load(&c)?;
            runtime()?.block_on(async {
                let running =
                    gongwen_office::serve::start(cfg, gongwen_net::Clock::default()).await?;
                println!(
                    "公文管理系統已啟動：{}（http{}://{}/login）",
                    running.app.agency,
                    if running.app.config.tls.is_some() {
                        "s"
                    } else {
                        ""
                    },
                    running.addr()
                );
                wait_for_signal().await;
                println!("正在停止公文管理系統……");
                running.shutdown().await;
                Ok(ExitCode::SUCCESS)
            })
        }
        OfficeCommand::Import {
            config,
            units,
            people,
        } => {
            let cfg = load(&config)?;
            runtime()?.block_on(async {
                let db = gongwen_store::Db::connect(&cfg.database_url).await?;
                let mut refused = 0;
                for (what, file, units) in [("單位", units, true), ("人員", people, false)] {
                    let Some(file) = file else { continue };
                    let text = String::from_utf8(read(&file)?)
                        .map_err(|_| CliError::Arg(format!("{} 不是 UTF-8", file.display())))?;
                    let report = if units {
                        gongwen_office::org::import_units(&db, &text).await
                    } else {
                        gongwen_office::org::import_people(&db, &text).await
                    }
                    .map_err(gongwen_net::Refusal::from)?;
                    println!("匯入{what} {} 筆", report.added);
                    for (line, why) in &report.refused {
                        println!("  第 {line} 列未匯入：{why}");
                    }
                    refused += report.refused.len();
                }
                db.close().await;
                Ok(if refused == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            })
        }
        OfficeCommand::Key { cert } => {
            let certs = gongwen_trust::cms::load_certs(&read(&cert)?)?;
            let first = certs
                .first()
                .ok_or_else(|| CliError::Arg(format!("{} 沒有憑證", cert.display())))?;
            let key = gongwen_trust::path::spki_sha256(first)?;
            println!("{}", gongwen_trust::path::hex(&key));
            Ok(ExitCode::SUCCESS)
        }
        OfficeCommand::Verify {
            file,
            anchors,
            crls,
            stale_crl,
            pdf,
        } => {
            let stale: StaleCrl = stale_crl
                .parse()
                .map_err(|e| CliError::Arg(format!("--stale-crl{e}")))?;
            let trust = TrustStore::from_files(&anchors, &crls, stale)?;
            let bytes = read_bounded(&file, export::MAX_EXPORT_BYTES)?;
            let report = export::verify_file(&bytes, &trust)
                .map_err(|e| CliError::Arg(format!("{}：{e}", file.display())))?;
            print!("{}", export::record_text(&report));
            if let Some(out) = pdf {
                let fonts = load_fonts(None)?;
                let bytes = gongwen_render::render_record_pdf(&export::record(&report), &fonts)
                    .map_err(render_err)?;
                write_atomic(&out, &bytes)?;
                println!("簽核紀錄已印成 {}", out.display());
            }
            Ok(if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
