//! The management layer (管理層): participants and centers, the address book, the signed
//! snapshot the centers run on, and the directory's tamper-evident log.

pub mod accounts;
pub mod addressbook;
pub mod app;
pub mod applications;
pub mod audit;
pub mod config;
pub mod error;
pub mod http;
pub mod improvements;
pub mod openapi;
pub mod registry;
pub mod snapshot;
pub mod stats;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use gongwen_net::{Clock, Server, TlsFiles};
use gongwen_store::Db;

pub use app::{App, Shared};
pub use config::DirectoryConfig;
pub use error::DirectoryError;

pub use gongwen_net::StartError;

fn start_err(code: &'static str, detail: impl std::fmt::Display) -> StartError {
    StartError {
        service: "通訊錄服務",
        code,
        detail: detail.to_string(),
    }
}

/// Opens the database and the signing key, without listening (what `gongwen directory`'s
/// administrative commands use).
pub async fn open(config: DirectoryConfig, clock: Clock) -> Result<Shared, StartError> {
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| start_err(e.code(), e))?;
    let cert = std::fs::read(&config.signing.cert).map_err(|e| {
        start_err(
            "E_CONFIG",
            format!("{}：{e}", config.signing.cert.display()),
        )
    })?;
    let key = snapshot::SnapshotKey::load(&cert, &config.signing.key)
        .map_err(|e| start_err("E_CONFIG", e.detail))?;
    let trust = gongwen_trust::path::LiveTrust::from_files(
        &config.trust_anchors,
        &config.crls,
        gongwen_trust::path::StaleCrl::Refuse,
    )
    .map_err(|e| start_err(e.code(), e))?;
    Ok(Arc::new(App::new(config, db, clock, key, trust)))
}

/// Logs a periodic task that failed.
fn failed(what: &str, e: DirectoryError) {
    gongwen_net::log::error(
        what,
        serde_json::json!({ "code": e.code.as_str(), "detail": e.detail }),
    );
}

/// A directory listening.
pub struct Running {
    pub app: Shared,
    pub server: Server,
    builder: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr
    }

    pub async fn shutdown(self) {
        self.builder.abort();
        self.server.shutdown().await;
        self.app.db.close().await;
    }
}

/// Opens everything, signs a snapshot if the registry moved, and starts listening.
pub async fn start(config: DirectoryConfig, clock: Clock) -> Result<Running, StartError> {
    let tls = gongwen_net::server_config(&TlsFiles {
        cert: config.tls.cert.clone(),
        key: config.tls.key.clone(),
        client_roots: config.tls.client_roots.clone(),
        // The same CRLs as everything else the directory checks, followed as they change;
        // a stale or missing one refuses, like its signature checks.
        crls: config.crls.clone(),
        refuse_stale_crl: true,
    })
    .map_err(|e| start_err(e.code(), e))?;
    let listen = config.listen.clone();
    let app = open(config, clock).await?;
    app.refresh()
        .await
        .map_err(|e| start_err(e.code.as_str(), e.detail))?;
    let server = Server::start(&listen, tls, http::router(app.clone()))
        .await
        .map_err(|e| start_err(e.code(), e))?;
    let a = app.clone();
    let every = Duration::from_secs(app.config.snapshot.build_every_s.max(1));
    let builder = tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match improvements::enforce(
                &a.db,
                a.clock.now_ms(),
                a.config.cert_grace_days,
                &a.config.cert_warn_days,
            )
            .await
            {
                Ok(done) if !done.is_empty() => gongwen_net::log::info(
                    "通訊錄已依時程處理中止、憑證到期與到期提醒",
                    serde_json::json!({ "actions": done }),
                ),
                Ok(_) => {}
                Err(e) => failed("通訊錄時程處理失敗", e),
            }
            let keep = a.config.log_retention_days.max(365) as i64 * 86_400_000;
            if let Err(e) = audit::purge(&a.db, a.clock.now_ms() - keep).await {
                gongwen_net::log::error(
                    "通訊錄異動紀錄清除失敗",
                    serde_json::json!({ "detail": e.to_string() }),
                );
            }
            if let Err(e) = a.refresh().await {
                failed("通訊錄快照產生失敗", e);
            }
        }
    });
    gongwen_net::log::info(
        "通訊錄服務已啟動",
        serde_json::json!({ "listen": server.addr.to_string(), "database": app.db.engine() }),
    );
    Ok(Running {
        app,
        server,
        builder,
    })
}
