//! `gongwen`: the one binary. It runs each service of the exchange network (`gongwen
//! directory`, `center`, `agent`, and the clerk's local `signer`) from `gongwen.toml`, works on
//! 公文 files (`doc`) and sealed packages (`seal`, `open`, `receipt`, `verify-receipt`,
//! `inspect`), checks certificates (`cert`), runs the built-in test CA (`pki`), starts the demo
//! network (`demo`), checks and converts the government office calendar (`calendar`) and
//! measures (`bench doc|trust|center|directory`). Only argument parsing,
//! configuration and start-up live here; the work is in the library crates
//! (docs/ARCHITECTURE.md).

/// mimalloc instead of glibc's malloc: a busy center allocates and frees request buffers
/// all the time, and glibc's spent about 9 % of its CPU doing so (`gongwen bench center`).
/// Its `override` feature (workspace Cargo.toml) gives SQLite and aws-lc the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod agent_cmd;
mod bench;
mod bench_center;
mod bench_directory;
mod bench_office;
mod bench_stats;
mod calendar_cmd;
mod center_cmd;
mod cert_cmd;
mod clock;
mod demo;
mod directory_cmd;
mod doc_cmd;
mod error;
mod office_cmd;
mod package_cmd;
mod pki_cmd;
mod signer_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "gongwen",
    version,
    about = "Gongwen 公文電子交換系統",
    long_about = "Gongwen 公文電子交換系統：執行通訊錄、交換中心與機關代理程式，產生、檢查、顯示與列印公文（DI／SW），封裝與開啟交換封包，簽署與驗證回執。"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 公文檔案：由草稿產生 DI＋SW、檢查、顯示、列印成 PDF／HTML
    #[command(subcommand)]
    Doc(DocCommand),
    /// 示範網路：測試憑證中心、通訊錄、臺北市與臺南市交換中心、機關代理程式與五個範例參與者，已交換幾件公文；按 Ctrl-C 停止，再執行沿用資料
    Demo {
        /// 示範網路的資料夾
        #[arg(long, default_value = "gongwen-data/demo-network")]
        dir: PathBuf,
        /// 第一次建立時使用的連接埠起點（通訊錄、交換中心、代理程式依序使用其後的連接埠）
        #[arg(long, default_value_t = 18440)]
        port: u16,
        /// 自我測試：在暫存資料夾建立全新的示範網路、完整交換一次（發文、跨交換中心送達、簽收、退文），清除後以結束碼回報
        #[arg(long)]
        self_test: bool,
    },
    /// 封裝交換封包：以簽章憑證簽署 DI＋SW＋附件，加密給每個收件者的加密憑證，附上簽署的路由表頭
    Seal(package_cmd::SealArgs),
    /// 開啟交換封包：解密、驗證簽章、憑證鏈與廢止狀態、發文者身分、表頭與內容，全部通過才寫出檔案
    Open(package_cmd::OpenArgs),
    /// 簽署回執：送達、收文確認（可附收文字號）或退文（附原因代碼與說明），寄回發文機關作為收文證明
    Receipt(package_cmd::ReceiptArgs),
    /// 驗證回執：簽章、憑證鏈與廢止狀態、簽署憑證是否登記為回執上的機關所有
    VerifyReceipt {
        /// 回執檔
        receipt: PathBuf,
        #[command(flatten)]
        trust: package_cmd::TrustArgs,
    },
    /// 檢視封包表頭（交換中心的角度：不需金鑰，檢查表頭簽章與加密內容相符）
    Inspect {
        pkg: PathBuf,
        /// 以 JSON 輸出表頭
        #[arg(long)]
        json: bool,
    },
    /// 憑證檢查：現在是否有效（憑證鏈、效期、廢止狀態、用途），並在到期前提出警告
    #[command(subcommand)]
    Cert(CertCommand),
    /// 內建測試憑證中心：建立根與中繼憑證、簽發機關／團體／公司／自然人／TLS 憑證、撤銷、產生 CRL
    #[command(subcommand)]
    Pki(PkiCommand),
    /// 交換中心：啟動（serve）與管理（admin：參與者、憑證、來源 IP、群組、紀錄）
    #[command(subcommand)]
    Center(center_cmd::CenterCommand),
    /// 管理層（通訊錄）：登記、地址簿、連線申請與審核、暫停與中止、簽章快照、異動紀錄
    #[command(subcommand)]
    Directory(directory_cmd::DirectoryCommand),
    /// 機關代理程式（機關層）：以資料夾、公文系統 API 與網頁版收發公文
    #[command(subcommand)]
    Agent(agent_cmd::AgentCommand),
    /// 公文管理系統（線上簽核）：驗證匯出的案件檔
    #[command(subcommand)]
    Office(office_cmd::OfficeCommand),
    /// 本機簽章程式：網頁版以機關憑證卡登入時，在使用者電腦上簽署登入隨機碼
    #[command(subcommand)]
    Signer(signer_cmd::SignerCommand),
    /// 效能量測程式（輸出數據，不做判定）
    #[command(subcommand)]
    Bench(BenchCommand),
    /// 政府行政機關辦公日曆：檢查並轉換官方開放資料（import）、顯示內建年度（show）
    #[command(subcommand)]
    Calendar(calendar_cmd::CalendarCommand),
}

#[derive(Subcommand)]
enum DocCommand {
    /// 由草稿（TOML）產生 DIR/<檔名>.di、.sw，並把附件複製成實體宣告的檔名
    New {
        /// 草稿檔（欄位名稱即 DTD 元素名稱，見 examples/letter.toml）
        draft: PathBuf,
        /// 輸出目錄（不存在會自動建立）
        #[arg(long)]
        out: PathBuf,
        /// 檔名（預設為發文字號的年度＋流水號，例如 1150001234）
        #[arg(long)]
        base: Option<String>,
    },
    /// 檢查 DI 或 SW 檔（依根元素判別）；DI 旁的 SW 與附件依實體宣告一併檢查。
    /// 草稿留白的發文日期、發文字號、署名等只列「附註」，仍為正確；加 --exchange 則依封裝、發文的標準檢查。
    /// 結束碼：0 全部正確；1 有不符規定之處（每個問題一行）；2 無法讀取或超出安全上限
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// 也檢查是否已備妥電子交換（發文日期、發文字號已填、非機密文書）：與封裝、發文時的檢查相同
        #[arg(long)]
        exchange: bool,
    },
    /// 以文字顯示公文內容（不論檔案編碼，輸出一律 UTF-8）
    Show { file: PathBuf },
    /// 列印成 PDF（A4，公文格式，內嵌全字庫字型）；可加上電子公文交換戳記
    Render(doc_cmd::RenderArgs),
}

#[derive(Subcommand)]
enum CertCommand {
    /// 檢查憑證；有問題或即將到期時結束碼為 1
    Check(cert_cmd::CheckArgs),
}

#[derive(Subcommand)]
enum PkiCommand {
    /// 建立測試憑證中心：根憑證與 GCA／XCA／MOEACA／MOICA 相仿的四個中繼憑證中心
    Init {
        /// 憑證中心目錄（不存在會自動建立；已有憑證中心時拒絕覆寫）
        dir: PathBuf,
        /// 金鑰類型：rsa2048、rsa3072 或 p256
        #[arg(long, default_value = "rsa2048")]
        key: String,
        /// 根憑證效期（年）
        #[arg(long, default_value_t = 20)]
        years: u32,
    },
    /// 簽發憑證：機關、團體、公司與自然人各得簽章與加密兩張（如同 IC 卡），TLS 節點一張
    Issue {
        dir: PathBuf,
        #[command(flatten)]
        args: pki_cmd::IssueArgs,
    },
    /// 撤銷憑證（序號同 openssl x509 -serial 所列），並重新產生 CRL
    Revoke {
        dir: PathBuf,
        serial: String,
        /// 撤銷原因：keyCompromise（金鑰洩漏）、superseded（已換發）、cessationOfOperation（停止使用）…
        #[arg(long)]
        reason: Option<String>,
    },
    /// 重新產生每個憑證中心的廢止清冊（CRL，效期 7 天）
    Crl { dir: PathBuf },
    /// 匯入 PKCS#12（.p12／.pfx）軟體憑證：輸出 PEM 憑證、私鑰（僅擁有者可讀）與憑證鏈
    Import(pki_cmd::ImportArgs),
    /// 列出已簽發的憑證與狀態
    List { dir: PathBuf },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// 量測 DI 讀取＋驗證、寫出的速度（每秒件數，典型 5 KB 函）與每頁列印時間
    Doc {
        /// 讀寫量測的件數
        #[arg(long, default_value_t = 20_000)]
        docs: usize,
        /// 列印量測的次數
        #[arg(long, default_value_t = 20)]
        renders: usize,
    },
    /// 量測交換封包封裝與開啟的速度（附件 100 KB 與 10 MB，1 與 50 個收件者）
    Trust {
        /// 100 KB 封包的量測次數（10 MB 封包為其十分之一）；0 表示只量測 --large-mb 的串流處理
        #[arg(long, default_value_t = 50)]
        rounds: usize,
        /// 另外以串流方式量測這麼大（MiB）的附件的封裝與開啟時間及最高記憶體；0 表示不量測
        #[arg(long, default_value_t = 0)]
        large_mb: usize,
        /// 發文機關簽章金鑰類型：rsa2048（如現行 IC 卡）或 p256
        #[arg(long, default_value = "rsa2048")]
        signer_key: String,
    },
    /// 量測交換中心：另啟一個 gongwen center serve，以真實封包與雙向 TLS 送件→下載→送達→收文確認
    Center(bench_center::CenterBench),
    /// 量測通訊錄：匯入 4 萬筆地址簿、產生並簽署快照、以雙向 TLS 取得、驗證、交換中心套用
    Directory(bench_directory::DirectoryBench),
    /// 量測公文管理系統：載入一年的案件（預設 100 萬件），量測工作清單、案件頁與一步簽核的延遲
    Office(bench_office::OfficeBench),
    /// 量測交換中心統計：載入一年的交換紀錄（預設 1000 萬份），逐日統計後量測月統計的延遲
    Stats(bench_stats::StatsBench),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Doc(DocCommand::New { draft, out, base }) => doc_cmd::new(&draft, &out, base),
        Command::Doc(DocCommand::Check { files, exchange }) => doc_cmd::check(&files, exchange),
        Command::Doc(DocCommand::Show { file }) => doc_cmd::show(&file),
        Command::Doc(DocCommand::Render(args)) => doc_cmd::render(args),
        Command::Demo {
            dir,
            port,
            self_test,
        } => demo::run(&dir, port, self_test),
        Command::Seal(args) => package_cmd::seal(args),
        Command::Open(args) => package_cmd::open(args),
        Command::Receipt(args) => package_cmd::receipt(args),
        Command::Cert(CertCommand::Check(args)) => cert_cmd::check(args),
        Command::VerifyReceipt { receipt, trust } => package_cmd::verify_receipt(&receipt, &trust),
        Command::Inspect { pkg, json } => package_cmd::inspect(&pkg, json),
        Command::Pki(PkiCommand::Init { dir, key, years }) => pki_cmd::init(&dir, &key, years),
        Command::Pki(PkiCommand::Issue { dir, args }) => pki_cmd::issue(&dir, args),
        Command::Pki(PkiCommand::Revoke {
            dir,
            serial,
            reason,
        }) => pki_cmd::revoke(&dir, &serial, reason.as_deref()),
        Command::Pki(PkiCommand::Crl { dir }) => pki_cmd::crl(&dir),
        Command::Pki(PkiCommand::List { dir }) => pki_cmd::list(&dir),
        Command::Pki(PkiCommand::Import(args)) => pki_cmd::import(args),
        Command::Bench(BenchCommand::Doc { docs, renders }) => bench::doc(docs, renders),
        Command::Bench(BenchCommand::Trust {
            rounds,
            large_mb,
            signer_key,
        }) => bench::trust(rounds, large_mb, &signer_key),
        Command::Bench(BenchCommand::Center(b)) => bench_center::run(b),
        Command::Bench(BenchCommand::Directory(b)) => bench_directory::run(b),
        Command::Bench(BenchCommand::Office(b)) => bench_office::run(b),
        Command::Bench(BenchCommand::Stats(b)) => bench_stats::run(b),
        Command::Center(c) => center_cmd::run(c),
        Command::Directory(c) => directory_cmd::run(c),
        Command::Agent(c) => agent_cmd::run(c),
        Command::Signer(c) => signer_cmd::run(c),
        Command::Office(c) => office_cmd::run(c),
        Command::Calendar(c) => calendar_cmd::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("錯誤 [{}]：{}", e.code(), e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// The runtime the async subcommands (center, directory) run on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, error::CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| error::CliError::Arg(format!("無法啟動執行環境：{e}")))
}
