//! The exchange center (交換層): accepts sealed packages from its participants, makes each copy
//! available to its recipient, and tracks every copy until it is confirmed, returned or failed.
//! It never sees plaintext: it routes on the signed package header.

pub mod app;
pub mod config;
mod copies;
pub mod delivery;
pub mod duty;
pub mod exchange;
pub mod http;
pub mod openapi;
pub mod outbox;
pub mod participants;
pub mod recent;
pub mod records;
pub mod snapshot;
pub mod stats;
pub mod web;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gongwen_net::{Metrics, Server};
use gongwen_store::{Blobs, Db};
use gongwen_trust::path::{LiveTrust, StaleCrl};

pub use app::{App, Shared};
pub use config::{BlobStore, CenterConfig};
pub use gongwen_net::Clock;

pub use gongwen_net::StartError;

pub(crate) type Result<T, E = gongwen_net::Refusal> = std::result::Result<T, E>;

fn start_err(code: &'static str, detail: impl std::fmt::Display) -> StartError {
    StartError {
        service: "交換中心",
        code,
        detail: detail.to_string(),
    }
}

fn read(p: &Path) -> Result<Vec<u8>, StartError> {
    std::fs::read(p).map_err(|e| start_err("E_CONFIG", format!("{}：{e}", p.display())))
}

/// The first certificate of the PEM file `p`.
fn first_cert(p: &Path) -> Result<x509_cert::Certificate, StartError> {
    gongwen_trust::cms::load_certs(&read(p)?)
        .map_err(|e| start_err(e.code(), format!("{}：{e}", p.display())))?
        .into_iter()
        .next()
        .ok_or_else(|| start_err("E_CONFIG", format!("{} 沒有憑證", p.display())))
}

/// Opens the storage and trust settings a center needs, without listening (also what
/// `gongwen center admin` uses).
pub async fn open(config: CenterConfig, clock: Clock) -> Result<Shared, StartError> {
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| start_err(e.code(), e))?;
    let blobs = match config.blob_store {
        BlobStore::Fs => Blobs::packs(config.data_dir.join("blobs"), db.clone()),
        BlobStore::Db => Blobs::Db(db.clone()),
    };
    let trust = LiveTrust::from_files(&config.trust_anchors, &config.crls, config.stale_crl)
        .map_err(|e| start_err(e.code(), e))?;
    // The center's own: sealed packages and uploads in progress (0700).
    let spool = config.data_dir.join("spool");
    for dir in [&config.data_dir, &spool] {
        gongwen_store::private_dir(dir)
            .map_err(|e| start_err("E_CONFIG", format!("{}：{e}", dir.display())))?;
    }
    // Uploads that were arriving when the process stopped were never acknowledged.
    if let Ok(rd) = std::fs::read_dir(&spool) {
        for e in rd.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
    let metrics = Metrics::default();
    for (name, help) in [
        ("gongwen_http_request_seconds", "Time to answer a request"),
        (
            "gongwen_http_responses_total",
            "Answers by status and route",
        ),
        ("gongwen_packages_total", "Packages accepted"),
        ("gongwen_package_bytes_total", "Bytes of packages accepted"),
        (
            "gongwen_copies_total",
            "Copies that reached a status by receipt",
        ),
        ("gongwen_downloads_total", "Package downloads"),
        (
            "gongwen_body_corrupt_total",
            "Stored bodies found corrupted (digest mismatch) and refused",
        ),
        (
            "gongwen_outbox_done_total",
            "Relays, statuses and webhooks delivered",
        ),
        (
            "gongwen_outbox_retries_total",
            "Attempts that will be retried",
        ),
        (
            "gongwen_outbox_given_up_total",
            "Work given up after the retry period",
        ),
        (
            "gongwen_refused_unauthenticated_total",
            "Requests of unknown callers refused (not written to the records), by error code",
        ),
    ] {
        metrics.describe(name, help);
    }
    let links = links(&config)?;
    let directory = match (&config.directory, &links.peer_tls) {
        (Some(d), Some(tls)) => Some(
            gongwen_client::DirectoryClient::new(&d.url, tls.clone())
                .map_err(|e| start_err("E_CONFIG", e))?,
        ),
        _ => None,
    };
    let mut peer_keys = Vec::new();
    for p in &config.federation.peers {
        let spki = gongwen_trust::path::spki_sha256(&first_cert(&p.cert)?)
            .map_err(|e| start_err(e.code(), e))?;
        peer_keys.push((p.id.clone(), participants::hex(&spki)));
    }
    // One process owns an SQLite file and its packs: nobody else purges behind our back.
    let recent = recent::RecentBodies::new(!db.is_postgres() && blobs.engine() == "fs");
    Ok(Arc::new(App {
        config,
        db,
        blobs,
        trust,
        clock,
        metrics,
        spool,
        links,
        outbox_ready: tokio::sync::Notify::new(),
        peer_keys: std::sync::RwLock::new(peer_keys),
        directory,
        snapshot_valid_until: std::sync::atomic::AtomicI64::new(i64::MAX),
        evaluations: Default::default(),
        callers: Default::default(),
        participants: Default::default(),
        signing_keys: Default::default(),
        hooked: Default::default(),
        recent,
    }))
}

/// HTTPS clients for the peer centers (with this center's client certificate) and webhooks.
fn links(config: &CenterConfig) -> Result<app::Links, StartError> {
    let mut roots = Vec::new();
    for p in &config.trust_anchors {
        roots.extend(read(p)?);
        roots.push(b'\n');
    }
    let fed = &config.federation;
    let mut peers = std::collections::HashMap::new();
    let peer_tls = match (&fed.client_cert, &fed.client_key) {
        (Some(cert), Some(key)) => Some(
            gongwen_client::tls_config(&roots, Some((&read(cert)?, &read(key)?)))
                .map_err(|e| start_err("E_CONFIG", e))?,
        ),
        _ if !fed.peers.is_empty() || config.directory.is_some() => {
            return Err(start_err(
                "E_CONFIG",
                "設定了其他交換中心（federation.peers）或通訊錄（directory），但沒有本中心的 TLS 用戶端憑證（federation.client_cert、client_key）",
            ));
        }
        _ => None,
    };
    if let Some(tls) = &peer_tls {
        for p in &fed.peers {
            let c = gongwen_client::CenterClient::new(&p.url, tls.clone())
                .map_err(|e| start_err("E_CONFIG", e))?;
            peers.insert(p.id.clone(), c);
        }
    }
    let http = gongwen_client::plain_http(&roots).map_err(|e| start_err("E_CONFIG", e))?;
    Ok(app::Links {
        peers: std::sync::RwLock::new(peers),
        http,
        peer_tls,
    })
}

/// A center listening.
pub struct Running {
    pub app: Shared,
    pub server: Server,
    sweeper: tokio::task::JoinHandle<()>,
    worker: tokio::task::JoinHandle<()>,
    /// Fetches the directory's snapshots, when the center runs from a directory.
    fetcher: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr
    }

    pub async fn shutdown(self) {
        self.sweeper.abort();
        self.worker.abort();
        if let Some(f) = self.fetcher {
            f.abort();
        }
        self.server.shutdown().await;
        self.app.db.close().await;
    }
}

/// The periodic duties: suspend participants whose certificates expired (unless the
/// directory decides that), purge old records.
pub async fn sweep(app: &Shared) {
    let now = app.clock.now_ms();
    // Run from the directory, certificate expiry is the directory's to decide.
    let expired = match app.config.directory {
        Some(_) => Ok(Vec::new()),
        None => participants::suspend_expired(&app.db, now).await,
    };
    match expired {
        Ok(codes) if !codes.is_empty() => gongwen_net::log::warn(
            "憑證到期，已自動停用參與者",
            serde_json::json!({ "participants": codes }),
        ),
        Ok(_) => {}
        Err(e) => failed("到期檢查失敗", e),
    }
    if let Err(e) = records::purge(&app.db, now, app.config.retention.record_days).await {
        failed("紀錄清除失敗", e);
    }
    match exchange::purge_bodies(app, now).await {
        Ok(n) if n > 0 => gongwen_net::log::info(
            "已清除保存期限屆滿的封包內容",
            serde_json::json!({ "packages": n }),
        ),
        Ok(_) => {}
        Err(e) => failed("封包內容清除失敗", e),
    }
    // A few days a sweep: a center upgraded with a year of records catches up in the
    // background without holding up its start for long.
    match rollup(app, now, 7).await {
        Ok(r) if r.closed > 0 => gongwen_net::log::info(
            "已完成逐日統計",
            serde_json::json!({ "days": r.days, "closed": r.closed, "pending": r.pending }),
        ),
        Ok(_) => {}
        Err(e) => failed("逐日統計失敗", e),
    }
    match app.blobs.sweep().await {
        Ok(n) if n > 0 => gongwen_net::log::info(
            "已刪除不再有封包的封包檔",
            serde_json::json!({ "pack_files": n }),
        ),
        Ok(_) => {}
        Err(e) => failed("封包檔整理失敗", e),
    }
}

/// Counts the days of the statistics not yet closed (at most `max_days` of them), on the
/// calendar the center keeps.
pub async fn rollup(app: &Shared, now: i64, max_days: u32) -> Result<stats::Rollup> {
    let cal = duty::load_calendar(&app.db).await?;
    stats::rollup(&app.db, &cal, now, max_days).await
}

/// Logs a periodic duty that failed.
fn failed(what: &str, e: impl std::fmt::Display) {
    gongwen_net::log::error(what, serde_json::json!({ "detail": e.to_string() }));
}

/// Takes up the snapshot held, asks the directory once, and starts asking every
/// `refresh_s`. An unreachable directory is not fatal: the held snapshot serves until it
/// expires.
async fn follow_directory(
    app: &Shared,
    d: &config::DirectorySource,
) -> Result<tokio::task::JoinHandle<()>, StartError> {
    let signer = first_cert(&d.signer)?;
    snapshot::resume(app, &signer)
        .await
        .map_err(|e| start_err(e.code.as_str(), e.api().text()))?;
    snapshot::fetch_logged(app, &signer).await;
    let every = Duration::from_secs(d.refresh_s.max(1));
    Ok(tokio::spawn(snapshot::worker(app.clone(), signer, every)))
}

/// Opens everything and starts listening.
pub async fn start(config: CenterConfig, clock: Clock) -> Result<Running, StartError> {
    let tls = gongwen_net::server_config(&config.tls.files(
        &config.trust_anchors,
        config.crls.clone(),
        config.stale_crl == StaleCrl::Refuse,
    ))
    .map_err(|e| start_err(e.code(), e))?;
    let listen = config.listen.clone();
    let limits = config.limits.listener();
    let app = open(config, clock).await?;
    let fetcher = match app.config.directory.clone() {
        Some(d) => Some(follow_directory(&app, &d).await?),
        None => None,
    };
    sweep(&app).await;
    let server = Server::start_limited(&listen, Some(tls), http::router(app.clone()), limits)
        .await
        .map_err(|e| start_err(e.code(), e))?;
    let a = app.clone();
    let sweeper = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            sweep(&a).await;
        }
    });
    let worker = tokio::spawn(delivery::worker(app.clone()));
    gongwen_net::log::info(
        "交換中心已啟動",
        serde_json::json!({
            "center": app.config.id, "listen": server.addr.to_string(),
            "database": app.db.engine(), "blobs": app.blobs.engine()
        }),
    );
    Ok(Running {
        app,
        server,
        sweeper,
        worker,
        fetcher,
    })
}
