//! `gongwen bench center`: a real `gongwen center serve` process on SQLite or PostgreSQL,
//! driven over mutual TLS by S senders and R recipients with real sealed packages:
//! submit → fetch → 送達 → 收文確認. Prints figures; judges nothing.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gongwen_center::BlobStore;
use gongwen_center::Clock;
use gongwen_client::CenterClient;
use gongwen_proto::HeaderOptions;
use gongwen_testbed::Pki;
use gongwen_trust::receipt::ReceiptEvent;
use tokio::sync::Mutex;

use crate::error::CliError;

/// User + system CPU seconds of a process, from /proc (Linux); 0 elsewhere.
fn cpu_seconds_of(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may contain spaces) in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

#[derive(clap::Args)]
pub struct CenterBench {
    /// 資料庫：sqlite 或 postgres（GONGWEN_BENCH_DATABASE_URL，預設本機 postgres）
    #[arg(long, default_value = "sqlite")]
    pub db: String,
    /// 封包存放：fs（本機檔案，預設）或 db（資料庫）
    #[arg(long, default_value = "fs")]
    pub blobs: String,
    /// 公文份數
    #[arg(long, default_value_t = 2000)]
    pub docs: usize,
    /// 每份附件大小，如 100k、1m
    #[arg(long, default_value = "100k")]
    pub size: String,
    /// 發文機關數
    #[arg(long, default_value_t = 8)]
    pub senders: usize,
    /// 收文機關數
    #[arg(long, default_value_t = 8)]
    pub recipients: usize,
    /// 限制送件速率（每秒份數）；不指定則全速
    #[arg(long)]
    pub rate: Option<f64>,
}

/// An error that says `e`.
pub(crate) fn arg(e: impl std::fmt::Display) -> CliError {
    CliError::Arg(e.to_string())
}

/// `100k`, `1m`, `5000`.
fn parse_size(s: &str) -> Result<usize, CliError> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mul) = if let Some(n) = t.strip_suffix('k') {
        (n, 1024)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 1024 * 1024)
    } else {
        (t.as_str(), 1)
    };
    num.parse::<usize>()
        .map(|n| n * mul)
        .map_err(|_| arg(format!("大小「{s}」應如 100k、1m 或位元組數")))
}

pub(crate) fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

/// The two signed receipts (送達, 收文確認) of each package, by package id.
type Receipts = std::collections::HashMap<String, (Vec<u8>, Vec<u8>)>;

struct Doc {
    sender: usize,
    /// The package id, read from the header while preparing: bookkeeping, not measured.
    id: String,
    package: Vec<u8>,
    delivered: Vec<u8>,
    confirmed: Vec<u8>,
}

/// Latencies in ms, per step.
#[derive(Default)]
struct Lat {
    submit: Vec<f64>,
    fetch: Vec<f64>,
    deliver: Vec<f64>,
    confirm: Vec<f64>,
    /// Inbox queries the recipients made.
    polls: usize,
}

pub(crate) fn database_url(db: &str, dir: &std::path::Path) -> Result<String, CliError> {
    match db {
        "sqlite" => Ok(format!("sqlite://{}", dir.join("center.db").display())),
        "postgres" => Ok(std::env::var("GONGWEN_BENCH_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())),
        other => Err(arg(format!("--db「{other}」應為 sqlite 或 postgres"))),
    }
}

/// A fresh PostgreSQL database for this run, on the server `base` names.
pub(crate) async fn fresh_postgres(base: &str, role: &str) -> Result<String, CliError> {
    use sqlx::Connection;
    let name = format!("gongwen_bench_{role}_{}", std::process::id());
    let mut c = sqlx::PgConnection::connect(base)
        .await
        .map_err(|e| arg(format!("PostgreSQL {base}：{e}")))?;
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::raw_sql(&sql)
            .execute(&mut c)
            .await
            .map_err(|e| arg(format!("PostgreSQL：{e}")))?;
    }
    let (head, _) = base
        .rsplit_once('/')
        .ok_or_else(|| arg("PostgreSQL 位址應為 postgres://主機/資料庫"))?;
    Ok(format!("{head}/{name}"))
}

/// Drops this run's database (best effort: a figure is not worth failing over it).
pub(crate) async fn drop_postgres(base: &str, role: &str) {
    use sqlx::Connection;
    if let Ok(mut c) = sqlx::PgConnection::connect(base).await {
        let name = format!("gongwen_bench_{role}_{}", std::process::id());
        let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut c)
            .await;
    }
}

pub fn run(b: CenterBench) -> Result<ExitCode, CliError> {
    let size = parse_size(&b.size)?;
    if b.docs == 0 || b.senders == 0 || b.recipients == 0 {
        return Err(arg("--docs、--senders、--recipients 都至少為 1"));
    }
    let dir = std::env::temp_dir().join(format!("gongwen-bench-center-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| CliError::io(&dir, e))?;
    let result = crate::runtime()?.block_on(drive(&b, size, &dir));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn drive(b: &CenterBench, size: usize, dir: &std::path::Path) -> Result<ExitCode, CliError> {
    let senders: Vec<String> = (0..b.senders).map(|i| format!("S{i:08}A")).collect();
    let recipients: Vec<String> = (0..b.recipients).map(|i| format!("R{i:08}A")).collect();
    let codes: Vec<&str> = senders
        .iter()
        .chain(&recipients)
        .map(String::as_str)
        .collect();
    eprintln!("準備測試憑證（{} 個機關）……", codes.len());
    let pki = Arc::new(Pki::create(dir, &codes).map_err(arg)?);
    let base = database_url(&b.db, dir)?;
    let mut url = base.clone();
    if b.db == "postgres" {
        url = fresh_postgres(&base, "center").await?;
    }
    let blobs: BlobStore = b.blobs.parse().map_err(|e| arg(format!("--blobs{e}")))?;
    let mut cfg = pki.center_config("bench", &url, blobs);
    cfg.limits.max_package_bytes = (size as u64 + 1024 * 1024).max(cfg.limits.max_package_bytes);
    // Register everyone, then hand the database to the server process.
    {
        let app = gongwen_center::open(cfg.clone(), Clock::default()).await?;
        pki.register_all(&app).await.map_err(arg)?;
        app.db.close().await;
    }
    // Seal every package and sign every receipt now: the clients' crypto is not measured.
    eprintln!("封裝 {} 份 {} 位元組附件的公文……", b.docs, size);
    let docs = {
        let pki = pki.clone();
        let (n, s, r, senders, recipients) = (
            b.docs,
            b.senders,
            b.recipients,
            senders.clone(),
            recipients.clone(),
        );
        tokio::task::spawn_blocking(move || -> Result<Vec<Doc>, String> {
            let threads = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2);
            let chunks: Vec<Vec<usize>> = (0..threads)
                .map(|t| (t..n).step_by(threads).collect())
                .collect();
            let mut out: Vec<Option<Doc>> = (0..n).map(|_| None).collect();
            std::thread::scope(|scope| {
                let handles: Vec<_> = chunks
                    .into_iter()
                    .map(|idx| {
                        let pki = &pki;
                        let senders = &senders;
                        let recipients = &recipients;
                        scope.spawn(move || -> Result<Vec<(usize, Doc)>, String> {
                            let mut v = Vec::new();
                            for i in idx {
                                let from = &senders[i % s];
                                let to = &recipients[i % r];
                                let package =
                                    pki.seal(from, &[to.as_str()], size, HeaderOptions::default())?;
                                let delivered =
                                    pki.receipt(to, &package, ReceiptEvent::Delivered, None, None)?;
                                let confirmed =
                                    pki.receipt(to, &package, ReceiptEvent::Confirmed, None, None)?;
                                let id = gongwen_trust::package::inspect(&package)
                                    .map_err(|e| e.to_string())?
                                    .header
                                    .id;
                                v.push((
                                    i,
                                    Doc {
                                        sender: i % s,
                                        id,
                                        package,
                                        delivered,
                                        confirmed,
                                    },
                                ));
                            }
                            Ok(v)
                        })
                    })
                    .collect();
                for h in handles {
                    for (i, d) in h.join().map_err(|_| "封裝執行緒失敗".to_string())?? {
                        out[i] = Some(d);
                    }
                }
                Ok::<(), String>(())
            })?;
            Ok(out.into_iter().flatten().collect())
        })
        .await
        .map_err(arg)?
        .map_err(arg)?
    };
    // The server: a separate process, so its memory is its own.
    let config_path = dir.join("gongwen.toml");
    let text = toml::to_string(&crate::center_cmd::ConfigOut {
        center: cfg.clone(),
    })
    .map_err(arg)?;
    // A free port: bind, note it, release it for the server.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(arg)?
        .port();
    let text = text.replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    std::fs::write(&config_path, text).map_err(|e| CliError::io(&config_path, e))?;
    let exe = std::env::current_exe().map_err(arg)?;
    let mut child = std::process::Command::new(exe)
        .args(["center", "serve", "--config"])
        .arg(&config_path)
        .env("GONGWEN_LOG_QUIET", "1")
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| arg(format!("無法啟動交換中心：{e}")))?;
    let pid = child.id().to_string();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}")
        .parse()
        .map_err(|_| arg("port"))?;
    let client_cpu0 = cpu_seconds_of("self");
    let outcome = measure(b, &pki, addr, &senders, &recipients, docs).await;
    let client_cpu = cpu_seconds_of("self") - client_cpu0;
    let rss = crate::bench::peak_rss_mb_of(&pid);
    let cpu = cpu_seconds_of(&pid);
    let _ = child.kill();
    let _ = child.wait();
    if b.db == "postgres" {
        drop_postgres(&base, "center").await;
    }
    let (elapsed, mut lat) = outcome?;
    let docs_per_s = b.docs as f64 / elapsed;
    println!(
        "交換中心（{}，封包存於{}）：{} 份、附件 {} 位元組、發文 {} 個、收文 {} 個{}",
        b.db,
        if b.blobs == "db" {
            "資料庫"
        } else {
            "本機檔案"
        },
        b.docs,
        size,
        b.senders,
        b.recipients,
        b.rate
            .map(|r| format!("、限速每秒 {r} 份"))
            .unwrap_or_default()
    );
    println!("  端到端（送件→下載→送達→收文確認）：{docs_per_s:.0} 份/秒，共 {elapsed:.2} 秒");
    for (name, v) in [
        ("送件", &mut lat.submit),
        ("下載", &mut lat.fetch),
        ("送達", &mut lat.deliver),
        ("收文確認", &mut lat.confirm),
    ] {
        let (p50, p99) = (pct(v, 0.5), pct(v, 0.99));
        println!("  {name}：p50 {p50:.1} ms，p99 {p99:.1} ms");
    }
    println!(
        "  收件匣查詢：{} 次（每份 {:.2} 次）",
        lat.polls,
        lat.polls as f64 / b.docs as f64
    );
    println!(
        "  交換中心行程最高記憶體：{rss:.1} MB；CPU 時間 {cpu:.2} 秒（每份 {:.2} ms）",
        cpu * 1000.0 / b.docs as f64
    );
    println!(
        "{{\"docs_per_s\":{docs_per_s:.1},\"submit_p50_ms\":{:.2},\"submit_p99_ms\":{:.2},\"fetch_p99_ms\":{:.2},\"confirm_p99_ms\":{:.2},\"peak_rss_mb\":{rss:.1},\"center_cpu_ms_per_doc\":{:.2},\"client_cpu_ms_per_doc\":{:.2},\"db\":\"{}\",\"blobs\":\"{}\",\"docs\":{},\"size\":{size}}}",
        pct(&mut lat.submit, 0.5),
        pct(&mut lat.submit, 0.99),
        pct(&mut lat.fetch, 0.99),
        pct(&mut lat.confirm, 0.99),
        cpu * 1000.0 / b.docs as f64,
        client_cpu * 1000.0 / b.docs as f64,
        b.db,
        b.blobs,
        b.docs
    );
    Ok(ExitCode::SUCCESS)
}

async fn measure(
    b: &CenterBench,
    pki: &Pki,
    addr: std::net::SocketAddr,
    senders: &[String],
    recipients: &[String],
    docs: Vec<Doc>,
) -> Result<(f64, Lat), CliError> {
    let clients = |codes: &[String]| -> Result<Vec<CenterClient>, CliError> {
        codes
            .iter()
            .map(|c| pki.client(addr, c))
            .collect::<Result<_, _>>()
            .map_err(arg)
    };
    let sender_clients = clients(senders)?;
    let recipient_clients = clients(recipients)?;
    // Wait for the server.
    let started = Instant::now();
    loop {
        if sender_clients[0].health().await.is_ok() {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err(arg("交換中心 30 秒內未啟動"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let lat = Arc::new(Mutex::new(Lat::default()));
    let polls = Arc::new(AtomicUsize::new(0));
    let total = docs.len();
    let done = Arc::new(AtomicUsize::new(0));
    // Receipts by package id, filled as packages are submitted.
    let receipts: Arc<Mutex<Receipts>> = Arc::default();
    let mut per_sender: Vec<Vec<Doc>> = (0..senders.len()).map(|_| Vec::new()).collect();
    for d in docs {
        per_sender[d.sender].push(d);
    }
    let t0 = Instant::now();
    let interval = b
        .rate
        .map(|r| Duration::from_secs_f64(senders.len() as f64 / r.max(0.001)));
    let mut tasks = Vec::new();
    for (i, mine) in per_sender.into_iter().enumerate() {
        let c = sender_clients[i].clone();
        let lat = lat.clone();
        let receipts = receipts.clone();
        tasks.push(tokio::spawn(async move {
            let mut tick = interval.map(tokio::time::interval);
            for (n, d) in mine.into_iter().enumerate() {
                if let Some(t) = tick.as_mut() {
                    t.tick().await;
                }
                receipts
                    .lock()
                    .await
                    .insert(d.id, (d.delivered, d.confirmed));
                let s = Instant::now();
                c.submit(&format!("bench-{i}-{n}"), d.package)
                    .await
                    .map_err(|e| e.to_string())?;
                lat.lock()
                    .await
                    .submit
                    .push(s.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<(), String>(())
        }));
    }
    for c in recipient_clients {
        let lat = lat.clone();
        let polls = polls.clone();
        let receipts = receipts.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            while done.load(Ordering::Relaxed) < total {
                let page = c
                    .inbox(&[("limit", "200")])
                    .await
                    .map_err(|e| e.to_string())?;
                polls.fetch_add(1, Ordering::Relaxed);
                if page.items.is_empty() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                for item in page.items {
                    let s = Instant::now();
                    let body = c.fetch(&item.id).await.map_err(|e| e.to_string())?;
                    let t1 = Instant::now();
                    if body.len() as u64 != item.body_size {
                        return Err(format!("封包 {} 長度不符", item.id));
                    }
                    let (dr, cr) = receipts
                        .lock()
                        .await
                        .remove(&item.id)
                        .ok_or_else(|| format!("封包 {} 不是本次送出的", item.id))?;
                    c.receipt(&item.id, dr).await.map_err(|e| e.to_string())?;
                    let t2 = Instant::now();
                    c.receipt(&item.id, cr).await.map_err(|e| e.to_string())?;
                    let t3 = Instant::now();
                    let mut l = lat.lock().await;
                    l.fetch.push((t1 - s).as_secs_f64() * 1000.0);
                    l.deliver.push((t2 - t1).as_secs_f64() * 1000.0);
                    l.confirm.push((t3 - t2).as_secs_f64() * 1000.0);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(())
        }));
    }
    for t in tasks {
        t.await.map_err(arg)?.map_err(arg)?;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let mut lat = Arc::try_unwrap(lat).map_err(|_| arg("lat"))?.into_inner();
    lat.polls = polls.load(Ordering::Relaxed);
    Ok((elapsed, lat))
}
