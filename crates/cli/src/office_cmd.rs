//! `gongwen office`: the agency's document-management system. `verify` checks a case exported
//! as one file — every signature, the chain of steps, the versions — with no server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use gongwen_office::export;
use gongwen_trust::path::{StaleCrl, TrustStore};

use crate::doc_cmd::{load_fonts, read_bounded, render_err, write_atomic};
use crate::error::CliError;

#[derive(Subcommand)]
pub enum OfficeCommand {
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
}

pub fn run(c: OfficeCommand) -> Result<ExitCode, CliError> {
    match c {
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
