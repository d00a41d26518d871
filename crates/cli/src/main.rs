//! `gongwen`: the one binary. Today it handles 公文 documents (`gongwen doc …`), shows the
//! document layer at work (`gongwen demo`) and measures it (`gongwen bench doc`).

mod bench;
mod clock;
mod demo;
mod doc_cmd;
mod error;
mod package_cmd;
mod pki_cmd;
mod show;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "gongwen",
    version,
    about = "Gongwen 公文電子交換系統",
    long_about = "Gongwen 公文電子交換系統：產生、檢查、顯示與列印公文（DI／SW）。"
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
    /// 示範：由範例草稿產生一件函（DI＋SW＋附件），檢查後輸出 PDF 與 HTML
    Demo {
        /// 輸出目錄
        #[arg(long, default_value = "gongwen-data/demo")]
        out: PathBuf,
    },
    /// 封裝交換封包：以簽章憑證簽署 DI＋SW＋附件，加密給每個收件者的加密憑證，附上簽署的路由表頭
    Seal {
        /// DI 檔；SW 與附件預設取 DI 實體宣告的檔案（同一目錄）
        #[arg(long)]
        di: PathBuf,
        /// SW 檔（預設為 DI 宣告的交換表單）
        #[arg(long)]
        sw: Option<PathBuf>,
        /// 附件檔（可重複；預設為 DI 宣告的附件）
        #[arg(long = "attach")]
        attachments: Vec<PathBuf>,
        /// 簽章私鑰（PKCS#8 PEM）
        #[arg(long)]
        sign_key: PathBuf,
        /// 簽章憑證（PEM；可接著放中繼憑證）
        #[arg(long)]
        sign_cert: PathBuf,
        /// 一併附上的憑證鏈（PEM，例如 pki issue 產生的 -chain.pem）
        #[arg(long)]
        chain: Option<PathBuf>,
        /// 收件者的加密憑證（可重複）
        #[arg(long, required = true)]
        to: Vec<PathBuf>,
        /// 輸出的封包檔
        #[arg(short, long)]
        out: PathBuf,
    },
    /// 開啟交換封包：解密、驗證簽章、憑證鏈與廢止狀態、發文者身分、表頭與內容，全部通過才寫出檔案
    Open {
        /// 封包檔
        pkg: PathBuf,
        /// 本機關加密私鑰（PKCS#8 PEM）
        #[arg(long)]
        key: PathBuf,
        /// 本機關加密憑證
        #[arg(long)]
        cert: PathBuf,
        /// 本機關的機關代碼（必須在交換表單中）
        #[arg(long)]
        code: String,
        /// 信任的根憑證（PEM，可重複）
        #[arg(long, required = true)]
        trust: Vec<PathBuf>,
        /// 廢止清冊（CRL，PEM 或 DER，可重複；目錄代表其中所有 .crl 檔）
        #[arg(long = "crl")]
        crls: Vec<PathBuf>,
        /// 沒有或過期的 CRL：refuse（拒收，預設）或 warn（警告後接受）
        #[arg(long, default_value = "refuse")]
        stale_crl: String,
        /// 發文者的金鑰登記：機關代碼=公鑰SHA-256（可重複；交換目錄上線前由此提供）
        #[arg(long)]
        bind: Vec<String>,
        /// 輸出目錄（已存在的檔案不覆寫）
        #[arg(short, long)]
        out: PathBuf,
    },
    /// 檢視封包表頭（交換中心的角度：不需金鑰，檢查表頭簽章與加密內容相符）
    Inspect {
        pkg: PathBuf,
        /// 以 JSON 輸出表頭
        #[arg(long)]
        json: bool,
    },
    /// 內建測試憑證中心：建立根與中繼憑證、簽發機關／團體／公司／自然人／TLS 憑證、撤銷、產生 CRL
    #[command(subcommand)]
    Pki(PkiCommand),
    /// 效能量測程式（輸出數據，不做判定）
    #[command(subcommand)]
    Bench(BenchCommand),
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
    /// 結束碼：0 全部正確；1 有不符規定之處（每個問題一行）；2 無法讀取或超出安全上限
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// 以文字顯示公文內容（不論檔案編碼，輸出一律 UTF-8）
    Show { file: PathBuf },
    /// 列印成 PDF（A4，公文格式，內嵌全字庫字型）；可加上電子公文交換戳記
    Render {
        file: PathBuf,
        /// 輸出檔（PDF；加 --html 時為 HTML）
        #[arg(short, long)]
        out: PathBuf,
        /// 輸出 HTML 而非 PDF
        #[arg(long)]
        html: bool,
        /// 交換戳記：收文機關名稱
        #[arg(long, requires_all = ["stamp_time", "receipt_no"])]
        stamp_agency: Option<String>,
        /// 交換戳記：收文日期時間，例如「115/01/05 10:30」或「2026-01-05T10:30」
        #[arg(long, requires = "stamp_agency")]
        stamp_time: Option<String>,
        /// 交換戳記：收文字號
        #[arg(long, requires = "stamp_agency")]
        receipt_no: Option<String>,
        /// 字型檔（預設使用已安裝的全字庫正楷體 fonts-cns11643-kai）
        #[arg(long)]
        font: Option<PathBuf>,
    },
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
        /// agency（機關，GCA）、organisation（團體／學校，XCA）、company（公司，MOEACA）、
        /// person（自然人，MOICA）、server（TLS 伺服器）、client（TLS 用戶端）
        #[arg(long)]
        kind: String,
        /// 名稱（機關全銜、姓名或節點名稱）
        #[arg(long)]
        name: String,
        /// 機關代碼（agency、organisation、company、client 必填）
        #[arg(long)]
        code: Option<String>,
        /// TLS 伺服器的主機名稱或 IP 位址（可重複）
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// 金鑰類型：rsa2048、rsa3072 或 p256
        #[arg(long, default_value = "rsa2048")]
        key: String,
        /// 效期（天）
        #[arg(long, default_value_t = 730)]
        days: u32,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Doc(DocCommand::New { draft, out, base }) => doc_cmd::new(&draft, &out, base),
        Command::Doc(DocCommand::Check { files }) => doc_cmd::check(&files),
        Command::Doc(DocCommand::Show { file }) => doc_cmd::show(&file),
        Command::Doc(DocCommand::Render {
            file,
            out,
            html,
            stamp_agency,
            stamp_time,
            receipt_no,
            font,
        }) => doc_cmd::render(
            &file,
            &out,
            html,
            doc_cmd::StampArgs {
                agency: stamp_agency,
                time: stamp_time,
                receipt_no,
            },
            font.as_deref(),
        ),
        Command::Demo { out } => demo::run(&out),
        Command::Seal {
            di,
            sw,
            attachments,
            sign_key,
            sign_cert,
            chain,
            to,
            out,
        } => package_cmd::seal(package_cmd::SealArgs {
            di,
            sw,
            attachments,
            sign_key,
            sign_cert,
            chain,
            to,
            out,
        }),
        Command::Open {
            pkg,
            key,
            cert,
            code,
            trust,
            crls,
            stale_crl,
            bind,
            out,
        } => package_cmd::open(package_cmd::OpenArgs {
            pkg,
            key,
            cert,
            code,
            trust,
            crls,
            stale_crl,
            bind,
            out,
        }),
        Command::Inspect { pkg, json } => package_cmd::inspect(&pkg, json),
        Command::Pki(PkiCommand::Init { dir, key, years }) => pki_cmd::init(&dir, &key, years),
        Command::Pki(PkiCommand::Issue {
            dir,
            kind,
            name,
            code,
            hosts,
            key,
            days,
        }) => pki_cmd::issue(
            &dir,
            pki_cmd::IssueArgs {
                kind,
                name,
                code,
                hosts,
                key,
                days,
            },
        ),
        Command::Pki(PkiCommand::Revoke {
            dir,
            serial,
            reason,
        }) => pki_cmd::revoke(&dir, &serial, reason.as_deref()),
        Command::Pki(PkiCommand::Crl { dir }) => pki_cmd::crl(&dir),
        Command::Pki(PkiCommand::List { dir }) => pki_cmd::list(&dir),
        Command::Bench(BenchCommand::Doc { docs, renders }) => bench::doc(docs, renders),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("錯誤 [{}]：{}", e.code(), e);
            ExitCode::from(e.exit_code())
        }
    }
}
