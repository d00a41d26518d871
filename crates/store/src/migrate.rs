//! Schema migrations, one SQL file per change and engine (`migrations/sqlite`,
//! `migrations/postgres`), applied in order inside a transaction and recorded.

use crate::{Db, StoreError, Tx, Value};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "center",
        sqlite: include_str!("../../../migrations/sqlite/0001_center.sql"),
        postgres: include_str!("../../../migrations/postgres/0001_center.sql"),
    },
    Migration {
        version: 2,
        name: "packs",
        sqlite: include_str!("../../../migrations/sqlite/0002_packs.sql"),
        postgres: include_str!("../../../migrations/postgres/0002_packs.sql"),
    },
    Migration {
        version: 3,
        name: "directory_log",
        sqlite: include_str!("../../../migrations/sqlite/0003_directory_log.sql"),
        postgres: include_str!("../../../migrations/postgres/0003_directory_log.sql"),
    },
    Migration {
        version: 4,
        name: "directory",
        sqlite: include_str!("../../../migrations/sqlite/0004_directory.sql"),
        postgres: include_str!("../../../migrations/postgres/0004_directory.sql"),
    },
    Migration {
        version: 5,
        name: "reviews",
        sqlite: include_str!("../../../migrations/sqlite/0005_reviews.sql"),
        postgres: include_str!("../../../migrations/postgres/0005_reviews.sql"),
    },
    Migration {
        version: 6,
        name: "agent",
        sqlite: include_str!("../../../migrations/sqlite/0006_agent.sql"),
        postgres: include_str!("../../../migrations/postgres/0006_agent.sql"),
    },
    Migration {
        version: 7,
        name: "agent_api",
        sqlite: include_str!("../../../migrations/sqlite/0007_agent_api.sql"),
        postgres: include_str!("../../../migrations/postgres/0007_agent_api.sql"),
    },
    Migration {
        version: 8,
        name: "agent_web",
        sqlite: include_str!("../../../migrations/sqlite/0008_agent_web.sql"),
        postgres: include_str!("../../../migrations/postgres/0008_agent_web.sql"),
    },
    Migration {
        version: 9,
        name: "lean_indexes",
        sqlite: include_str!("../../../migrations/sqlite/0009_lean_indexes.sql"),
        postgres: include_str!("../../../migrations/postgres/0009_lean_indexes.sql"),
    },
    Migration {
        version: 10,
        name: "open_copies",
        sqlite: include_str!("../../../migrations/sqlite/0010_open_copies.sql"),
        postgres: include_str!("../../../migrations/postgres/0010_open_copies.sql"),
    },
    Migration {
        version: 11,
        name: "unpurged_packages",
        sqlite: include_str!("../../../migrations/sqlite/0011_unpurged_packages.sql"),
        postgres: include_str!("../../../migrations/postgres/0011_unpurged_packages.sql"),
    },
    Migration {
        version: 12,
        name: "http_login_account",
        sqlite: include_str!("../../../migrations/sqlite/0012_http_login_account.sql"),
        postgres: include_str!("../../../migrations/postgres/0012_http_login_account.sql"),
    },
    Migration {
        version: 13,
        name: "office",
        sqlite: include_str!("../../../migrations/sqlite/0013_office.sql"),
        postgres: include_str!("../../../migrations/postgres/0013_office.sql"),
    },
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
