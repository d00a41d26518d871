use std::fmt;

/// What storage can fail with. Messages are zh-TW for the operator's log.
#[derive(Debug)]
pub enum StoreError {
    /// The database URL is not one we know (`sqlite://…` or `postgres://…`).
    Url { url: String },
    /// The database refused or failed; `detail` is the engine's words.
    Db { detail: String },
    /// Another writer held the row (serialisation failure): safe to retry.
    Conflict { detail: String },
    /// A unique key was already taken.
    Duplicate { detail: String },
    /// A blob file could not be read or written.
    Io { path: String, detail: String },
    /// A stored value is not what the schema says (corruption, or an older schema).
    Corrupt { detail: String },
    /// The database's schema is newer than this program.
    Schema { detail: String },
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Url { .. } => "E_STORE_URL",
            StoreError::Db { .. } => "E_STORE_DB",
            StoreError::Conflict { .. } => "E_STORE_CONFLICT",
            StoreError::Duplicate { .. } => "E_STORE_DUPLICATE",
            StoreError::Io { .. } => "E_STORE_IO",
            StoreError::Corrupt { .. } => "E_STORE_CORRUPT",
            StoreError::Schema { .. } => "E_STORE_SCHEMA",
        }
    }

    pub(crate) fn io(path: &std::path::Path, e: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.display().to_string(),
            detail: e.to_string(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Url { url } => write!(
                f,
                "資料庫位址「{url}」無法辨識，應為 sqlite://檔案路徑 或 postgres://主機/資料庫"
            ),
            StoreError::Db { detail } => write!(f, "資料庫錯誤：{detail}"),
            StoreError::Conflict { detail } => write!(f, "資料庫寫入衝突（可重試）：{detail}"),
            StoreError::Duplicate { detail } => write!(f, "資料已存在：{detail}"),
            StoreError::Io { path, detail } => write!(f, "檔案 {path} 存取失敗：{detail}"),
            StoreError::Corrupt { detail } => write!(f, "資料庫內容與結構不符：{detail}"),
            StoreError::Schema { detail } => write!(f, "資料庫結構版本不符：{detail}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(d) = &e {
            if d.is_unique_violation() {
                return StoreError::Duplicate {
                    detail: d.message().to_string(),
                };
            }
            // PostgreSQL serialization_failure / deadlock_detected.
            if matches!(d.code().as_deref(), Some("40001" | "40P01")) {
                return StoreError::Conflict {
                    detail: d.message().to_string(),
                };
            }
        }
        StoreError::Db {
            detail: e.to_string(),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, msg) = &e {
            let detail = msg.clone().unwrap_or_else(|| e.to_string());
            // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
            if matches!(f.extended_code, 2067 | 1555) {
                return StoreError::Duplicate { detail };
            }
            // SQLITE_BUSY and SQLITE_BUSY_SNAPSHOT
            if matches!(f.extended_code, 5 | 517) {
                return StoreError::Conflict { detail };
            }
        }
        StoreError::Db {
            detail: e.to_string(),
        }
    }
}
