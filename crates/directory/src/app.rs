//! The directory's shared state.

use std::sync::Arc;

use gongwen_net::Clock;
use gongwen_store::Db;

use crate::config::DirectoryConfig;
use crate::error::{DirectoryError, Result, internal};
use crate::snapshot::{self, SnapshotKey, Stored};

pub struct App {
    pub config: DirectoryConfig,
    pub db: Db,
    pub clock: Clock,
    pub key: SnapshotKey,
    /// What applicants' signing certificates must chain to.
    /// Anchors and CRLs; the CRLs follow their files.
    pub trust: gongwen_trust::path::LiveTrust,
    /// The newest snapshot, kept in memory so a fetch does not read it from the database.
    current: tokio::sync::Mutex<Option<Arc<Stored>>>,
}

pub type Shared = Arc<App>;

impl App {
    pub fn new(
        config: DirectoryConfig,
        db: Db,
        clock: Clock,
        key: SnapshotKey,
        trust: gongwen_trust::path::LiveTrust,
    ) -> App {
        App {
            config,
            db,
            clock,
            key,
            trust,
            current: tokio::sync::Mutex::new(None),
        }
    }

    /// Signs a new snapshot if the registry changed (or half the validity passed). The body
    /// is read from the database only when the one in memory is not the newest.
    pub async fn refresh(&self) -> Result<Arc<Stored>> {
        let mut cur = self.current.lock().await;
        let now = self.clock.now_ms();
        let s = match snapshot::refresh(&self.db, &self.key, now, &self.config.snapshot).await? {
            snapshot::Fresh::Built(s) => Arc::new(s),
            snapshot::Fresh::Current(v) => match cur.as_ref() {
                Some(c) if c.version == v => c.clone(),
                _ => Arc::new(
                    snapshot::latest(&self.db)
                        .await?
                        .ok_or_else(|| internal("找不到最新的通訊錄快照"))?,
                ),
            },
        };
        *cur = Some(s.clone());
        Ok(s)
    }

    /// The snapshot to hand out: the one in memory, or a fresh one if none was built yet.
    pub async fn current(&self) -> Result<Arc<Stored>> {
        if let Some(c) = self.current.lock().await.as_ref() {
            return Ok(c.clone());
        }
        self.refresh()
            .await
            .map_err(|e| DirectoryError::new(e.code, format!("無法產生通訊錄快照：{}", e.detail)))
    }
}
