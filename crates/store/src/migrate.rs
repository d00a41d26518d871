//! Schema migrations, one SQL file per change and engine (`migrations/sqlite`,
//! `migrations/postgres`), applied in order inside a transaction and recorded.

use crate::{Db, StoreError, Tx, Value};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// Each migration by number and name: its files are `migrations/{engine}/NNNN_name.sql`.
macro_rules! migrations {
    ($($version:literal $name:ident $file:literal,)*) => {
        &[$(Migration {
            version: $version,
            name: stringify!($name),
            sqlite: include_str!(concat!("../../../migrations/sqlite/", $file, ".sql")),
            postgres: include_str!(concat!("../../../migrations/postgres/", $file, ".sql")),
        }),*]
    };
}

const MIGRATIONS: &[Migration] = migrations![
    1 center "0001_center",
    2 packs "0002_packs",
    3 directory_log "0003_directory_log",
    4 directory "0004_directory",
    5 reviews "0005_reviews",
    6 agent "0006_agent",
    7 agent_api "0007_agent_api",
    8 agent_web "0008_agent_web",
    9 lean_indexes "0009_lean_indexes",
    10 open_copies "0010_open_copies",
    11 unpurged_packages "0011_unpurged_packages",
    12 http_login_account "0012_http_login_account",
    13 office "0013_office",
    14 office_web "0014_office_web",
    15 office_deadlines "0015_office_deadlines",
    16 office_stats "0016_office_stats",
    17 office_time "0017_office_time",
    18 dir_agent_stats "0018_dir_agent_stats",
    19 center_stats "0019_center_stats",
    20 office_closed "0020_office_closed",
];

pub(crate) async fn run(db: &Db) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    if let Tx::Postgres(_) = tx {
        // Two centers starting together on one database: one migrates, the other waits.
        tx.execute("SELECT pg_advisory_xact_lock(7346158)", &[])
            .await?;
    }
    tx.execute(
        "CREATE TABLE IF NOT EXISTS gongwen_schema (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        &[],
    )
    .await?;
    let rows = tx
        .fetch_all("SELECT version FROM gongwen_schema ORDER BY version", &[])
        .await?;
    let mut applied = Vec::new();
    for r in rows {
        applied.push(r.i64(0)?);
    }
    let known = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
    if let Some(v) = applied.iter().copied().max()
        && v > known
    {
        return Err(StoreError::Schema {
            detail: format!("資料庫結構為第 {v} 版，本程式只認得到第 {known} 版，請更新程式"),
        });
    }
    for m in MIGRATIONS {
        if applied.contains(&m.version) {
            continue;
        }
        let sql = if db.is_postgres() {
            m.postgres
        } else {
            m.sqlite
        };
        Db::raw_script(&mut tx, sql).await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        tx.execute(
            "INSERT INTO gongwen_schema (version, name, applied_at) VALUES ($1, $2, $3)",
            &[
                Value::from(m.version),
                Value::from(m.name),
                Value::from(now),
            ],
        )
        .await?;
    }
    tx.commit().await
}
