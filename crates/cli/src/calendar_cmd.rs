//! `gongwen calendar import | show`: the government office calendar (政府行政機關辦公日曆表).
//! `import` checks one year of the official open-data CSV, all or nothing, prints what it
//! holds and writes it in our own CSV format for services to load; `show` prints a bundled
//! year the same way.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use gongwen_calendar::{OfficialYear, WorkCalendar, roc_day, roc_year};

use crate::doc_cmd::{read_bounded, write_atomic};
use crate::error::CliError;

#[derive(Subcommand)]
pub enum CalendarCommand {
    /// 檢查政府資料開放平臺的「政府行政機關辦公日曆表」CSV（UTF-8 或 Big5；欄位：西元日期,星期,是否放假,備註）：
    /// 全年每日恰好一次、星期與日期相符、平日放假與週末上班須有備註；全部通過才印出摘要並寫出 --out。
    /// 結束碼：0 通過；1 檔案有誤（逐項列出）；2 無法讀取
    Import {
        /// 官方辦公日曆表 CSV 檔（一年一檔）
        file: PathBuf,
        /// 寫出本系統格式的辦公日曆（date,kind,name；資料夾不存在會自動建立），供服務載入或交換中心匯入
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 印出內建的辦公日曆摘要（西元年或民國年皆可，例如 2026 或 115）
    Show {
        /// 年度
        year: i32,
    },
}

pub fn run(c: CalendarCommand) -> Result<ExitCode, CliError> {
    match c {
        CalendarCommand::Import { file, out } => import(&file, out.as_deref()),
        CalendarCommand::Show { year } => show(year),
    }
}

fn import(file: &Path, out: Option<&Path>) -> Result<ExitCode, CliError> {
    // One byte over the crate's limit, so that it is the crate that names the limit.
    let bytes = read_bounded(file, gongwen_calendar::MAX_IMPORT_BYTES + 1)?;
    let year = match WorkCalendar::check_official(&bytes) {
        Ok(year) => year,
        Err(problems) => {
            eprintln!(
                "{}：辦公日曆表有 {} 項問題，未匯入：",
                file.display(),
                problems.len()
            );
            for p in &problems {
                eprintln!("  {p}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    print!("{}", summary(&year));
    if let Some(out) = out {
        if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir, e))?;
        }
        write_atomic(out, year.to_calendar().to_csv().as_bytes())?;
        println!("已寫出 {}（本系統格式，供服務載入）", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn show(year: i32) -> Result<ExitCode, CliError> {
    // Three digits or fewer: an ROC year.
    let year = if (1..1000).contains(&year) {
        year + 1911
    } else {
        year
    };
    let bundled = WorkCalendar::with_bundled()
        .map_err(|e| CliError::Arg(format!("內建的辦公日曆有誤：{e}")))?;
    match bundled.year_table(year) {
        Some(table) => {
            print!("{}", summary(&table));
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let have: Vec<String> = bundled.years().map(roc_year).collect();
            Err(CliError::Arg(format!(
                "內建的辦公日曆沒有{}（內建：{}）；請以 gongwen calendar import 檢查並轉換官方辦公日曆表",
                roc_year(year),
                have.join("、")
            )))
        }
    }
}

/// The year in a few lines: totals, each named day off, each make-up working day.
fn summary(year: &OfficialYear) -> String {
    let make_up: Vec<_> = year.make_up_days().collect();
    let mut out = format!(
        "{}政府行政機關辦公日曆表：全年 {} 日，上班 {} 日，放假 {} 日，補行上班 {} 日\n",
        roc_year(year.year),
        year.days.len(),
        year.working_days(),
        year.days_off(),
        make_up.len()
    );
    out.push_str("放假日：\n");
    let mut any = false;
    for day in year.named_days_off() {
        out.push_str(&format!("  {} {}\n", roc_day(day.date), day.note));
        any = true;
    }
    if !any {
        out.push_str("  （無）\n");
    }
    out.push_str("補行上班日：\n");
    for day in &make_up {
        out.push_str(&format!("  {} {}\n", roc_day(day.date), day.note));
    }
    if make_up.is_empty() {
        out.push_str("  （無）\n");
    }
    out
}
