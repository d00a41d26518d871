//! `gongwen bench directory`: a national-sized address book (40,000 participants by default,
//! three keys each) through the real directory: import, snapshot build and signature, fetch
//! over mutual TLS, verification, and a center applying it in full and after one change.
//! Prints figures; judges nothing.

use std::process::ExitCode;
use std::time::Instant;

use gongwen_center::Clock;
use gongwen_directory::config::{DirectoryTls, SigningConfig, SnapshotConfig};
use gongwen_directory::registry::{self, Center};
use gongwen_directory::{DirectoryConfig, addressbook, snapshot};
use gongwen_proto::directory::{CenterKind, ParticipantState};
use gongwen_testbed::Pki;

use crate::bench_center::{arg, database_url, drop_postgres, fresh_postgres};
use crate::doc_cmd::read;
use crate::error::CliError;

#[derive(clap::Args)]
pub struct DirectoryBench {
    /// 資料庫：sqlite 或 postgres（GONGWEN_BENCH_DATABASE_URL，預設本機 postgres）
    #[arg(long, default_value = "sqlite")]
    pub db: String,
    /// 地址簿筆數
    #[arg(long, default_value_t = 40_000)]
    pub entries: usize,
    /// 只把產生的地址簿 CSV 寫到這個檔案（供 gongwen directory import 使用），不量測
    #[arg(long)]
    pub csv_out: Option<std::path::PathBuf>,
}

const CITIES: [&str; 8] = [
    "臺北市",
    "新北市",
    "桃園市",
    "臺中市",
    "臺南市",
    "高雄市",
    "基隆市",
    "新竹縣",
];
const PLACES: [&str; 6] = ["中正區", "大安區", "東區", "北區", "信義區", "中山區"];
const KINDS: [&str; 8] = [
    "政府",
    "區公所",
    "國民小學",
    "國民中學",
    "戶政事務所",
    "衛生所",
    "家長會",
    "體育會",
];

/// A generated address book in the shape the national open data publishes: ORGID, ORGNAME,
/// STATUSCODE (`T` in service; `D`, `F` no longer), UPDATETIME (`YYYY-MM-DD HH:MM:SS`); names
/// like the real ones (and therefore repeated across cities, as real names are).
fn generate(n: usize) -> String {
    let mut out = String::from("\u{feff}ORGID,ORGNAME,STATUSCODE,UPDATETIME\r\n");
    for i in 0..n {
        let name = format!(
            "{}{}{}{}",
            CITIES[i % CITIES.len()],
            PLACES[(i / 8) % PLACES.len()],
            KINDS[(i / 48) % KINDS.len()],
            i
        );
        let status = match i % 50 {
            0 => "D",
            1 => "F",
            _ => "T",
        };
        out.push_str(&format!(
            "B{i:09},{name},{status},2025-12-{:02} {:02}:{:02}:{:02}\r\n",
            1 + i % 28,
            (i / 7) % 24,
            (i / 3) % 60,
            i % 60
        ));
    }
    out
}

/// Resident memory now and at its highest (MB), from /proc (Linux).
fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    format!(
        "〔記憶體 {:.0} MB，最高 {:.0} MB〕",
        kb("VmRSS:"),
        kb("VmHWM:")
    )
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

pub fn run(b: DirectoryBench) -> Result<ExitCode, CliError> {
    if let Some(p) = &b.csv_out {
        std::fs::write(p, generate(b.entries)).map_err(|e| CliError::io(p, e))?;
        println!("已寫出 {} 筆地址簿：{}", b.entries, p.display());
        return Ok(ExitCode::SUCCESS);
    }
    let dir = std::env::temp_dir().join(format!("gongwen-bench-directory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| CliError::io(&dir, e))?;
    let r = crate::runtime()?.block_on(bench(&b, &dir));
    let _ = std::fs::remove_dir_all(&dir);
    r
}

async fn bench(b: &DirectoryBench, dir: &std::path::Path) -> Result<ExitCode, CliError> {
    let pki = Pki::create(&dir.join("pki"), &[]).map_err(CliError::Arg)?;
    let base = database_url(&b.db, dir)?;
    let (ddb, cdb) = if b.db == "postgres" {
        (
            fresh_postgres(&base, "directory").await?,
            fresh_postgres(&base, "dircenter").await?,
        )
    } else {
        (
            format!("sqlite://{}", dir.join("directory.db").display()),
            format!("sqlite://{}", dir.join("center.db").display()),
        )
    };
    let config = DirectoryConfig {
        listen: "127.0.0.1:0".into(),
        database_url: ddb,
        tls: DirectoryTls {
            cert: pki.server_cert.clone(),
            key: pki.server_key.clone(),
            client_roots: vec![pki.ca.root_file()],
        },
        signing: SigningConfig {
            cert: pki.directory_signer.0.clone(),
            key: pki.directory_signer.1.display().to_string(),
        },
        trust_anchors: vec![pki.ca.root_file()],
        crls: vec![pki.ca.dir().join("crl")],
        cert_grace_days: 90,
        cert_warn_days: vec![60, 30, 7],
        log_retention_days: 3650,
        metrics_allow: vec!["127.0.0.1".into(), "::1".into()],
        usage_rules: "公文電子交換系統使用規範（115.01 版）".into(),
        snapshot: SnapshotConfig {
            build_every_s: 3600,
            ..Default::default()
        },
    };
    let cfg_snapshot = config.snapshot.clone();
    let running = gongwen_directory::start(config, Clock::default()).await?;
    let app = running.app.clone();
    let now = app.clock.now_ms();
    let center_key = registry::key_of(&read(&pki.center_clients[0].2)?)?;
    registry::put_center(
        &app.db,
        &Center {
            id: "bench".into(),
            name: "量測用交換中心".into(),
            kind: CenterKind::Shared,
            url: "https://127.0.0.1:9".into(),
            tls_key: Some(center_key),
            operator: "量測".into(),
        },
        "bench",
        now,
    )
    .await?;

    let csv = generate(b.entries);
    println!(
        "地址簿：{} 筆，CSV {:.1} MB（{}）",
        b.entries,
        csv.len() as f64 / 1e6,
        app.db.engine()
    );
    let t = Instant::now();
    let s = addressbook::import_csv(&app.db, &csv, Some("bench"), "bench", now).await?;
    println!(
        "匯入（含每筆一則異動紀錄）：{:.2} 秒，{:.0} 筆／秒",
        secs(t),
        s.added as f64 / secs(t)
    );

    // Three keys per participant (TLS, signing, encryption), as digests: generating 120,000
    // real certificates would measure the key generator, not the directory.
    let t = Instant::now();
    let mut tx = app.db.begin().await?;
    for i in 0..b.entries {
        for (u, usage) in ["tls", "signing", "encryption"].iter().enumerate() {
            let spki = gongwen_store::sha256_hex(format!("{i}/{u}").as_bytes());
            tx.execute(
                "INSERT INTO dir_certs (spki_sha256, code, usage, not_after, cert) VALUES ($1, $2, $3, $4, $5)",
                &[
                    spki.as_str().into(),
                    format!("B{i:09}").into(),
                    (*usage).into(),
                    (now + 365 * 86_400_000).into(),
                    Vec::<u8>::new().into(),
                ],
            )
            .await?;
        }
    }
    tx.commit().await?;
    println!("  {}", rss());
    println!("登記金鑰 {} 把：{:.2} 秒", b.entries * 3, secs(t));

    let t = Instant::now();
    let snap = snapshot::build(&app.db, &app.key, app.clock.now_ms(), &cfg_snapshot).await?;
    let build_s = secs(t);
    println!(
        "快照產生＋簽章＋存檔：{build_s:.2} 秒，第 {} 版，{:.1} MB",
        snap.version,
        snap.body.len() as f64 / 1e6
    );
    println!("  {}", rss());
    app.refresh().await?;

    let roots = read(&pki.ca.root_file())?;
    let (cert, key) = (
        read(&pki.center_clients[0].0)?,
        read(&pki.center_clients[0].1)?,
    );
    let tls = gongwen_client::tls_config(&roots, Some((&cert, &key))).map_err(arg)?;
    let client = gongwen_client::DirectoryClient::new(&format!("https://{}", running.addr()), tls)
        .map_err(arg)?;
    let t = Instant::now();
    let body = client
        .snapshot(None)
        .await
        .map_err(arg)?
        .ok_or_else(|| arg("通訊錄沒有回傳快照"))?;
    println!("取得快照（雙向 TLS，本機）：{:.2} 秒", secs(t));
    println!("  {}", rss());
    let t = Instant::now();
    let unchanged = client.snapshot(Some(snap.version)).await.map_err(arg)?;
    println!(
        "再問一次（未變更，304）：{:.1} 毫秒{}",
        secs(t) * 1000.0,
        if unchanged.is_none() {
            ""
        } else {
            "（竟然回傳了快照）"
        }
    );

    let signer = gongwen_trust::cms::load_certs(&read(&pki.directory_signer.0)?)?.remove(0);
    let t = Instant::now();
    let parsed = gongwen_center::snapshot::verify(&body, &signer, app.clock.now_ms())?;
    println!(
        "驗證簽章＋解析：{:.2} 秒（{} 個參與者）",
        secs(t),
        parsed.participants.len()
    );

    println!("  {}", rss());
    let center = gongwen_store::Db::connect(&cdb).await?;
    let t = Instant::now();
    let a = gongwen_center::snapshot::apply(&center, &parsed, &body, "bench", app.clock.now_ms())
        .await?;
    println!(
        "交換中心首次套用：{:.2} 秒（{} 個參與者）",
        secs(t),
        a.changed
    );

    println!("  {}", rss());
    registry::set_state(
        &app.db,
        "B000000007",
        ParticipantState::Suspended,
        Some("量測：暫停一個參與者"),
        "bench",
        app.clock.now_ms(),
    )
    .await?;
    let t = Instant::now();
    let next = snapshot::build(&app.db, &app.key, app.clock.now_ms(), &cfg_snapshot).await?;
    let rebuild_s = secs(t);
    let next_parsed = gongwen_center::snapshot::verify(&next.body, &signer, app.clock.now_ms())?;
    let t = Instant::now();
    let a = gongwen_center::snapshot::apply(
        &center,
        &next_parsed,
        &next.body,
        "bench",
        app.clock.now_ms(),
    )
    .await?;
    println!(
        "一筆異動後：重建快照 {rebuild_s:.2} 秒；交換中心套用 {:.2} 秒（變更 {} 個參與者）",
        secs(t),
        a.changed
    );

    println!("  {}", rss());
    let t = Instant::now();
    let mut found = 0;
    for q in [
        "台北市中正區國民小學",
        "臺南市東區家長會",
        "B000012345",
        "高雄市信義區衛生所1",
    ] {
        for _ in 0..25 {
            found += addressbook::search(&app.db, Some(q), 50).await?.len();
        }
    }
    println!(
        "地址簿查詢（關鍵字，臺／台不分）：平均 {:.1} 毫秒（100 次，共找到 {found} 筆）",
        secs(t) * 10.0
    );
    let t = Instant::now();
    let all = addressbook::search(&app.db, None, 100_000).await?;
    let csv_out = addressbook::to_csv(&all);
    println!(
        "匯出整本地址簿 CSV：{:.2} 秒，{:.1} MB",
        secs(t),
        csv_out.len() as f64 / 1e6
    );

    center.close().await;
    running.shutdown().await;
    if b.db == "postgres" {
        drop_postgres(&base, "directory").await;
        drop_postgres(&base, "dircenter").await;
    }
    Ok(ExitCode::SUCCESS)
}
