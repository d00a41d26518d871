//! The metadata database: SQLite (one file, the default) or PostgreSQL, chosen by URL.
//!
//! Every statement is written once, with `$1…$n` placeholders, and runs on both engines; values
//! cross as [`Value`] and come back as [`Row`]. SQLite gets one writer connection (writes are
//! serialised in the process, so no "database is locked") and a few readers; PostgreSQL gets a
//! pool, and several center processes may share it.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{PgPool, Postgres, Row as _, Sqlite, SqlitePool};

use crate::StoreError;

/// A value bound to a placeholder. `None` is SQL NULL of that type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(Some(v as i64))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_string()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::Text(v.map(str::to_string))
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(Some(v))
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytes(Some(v.to_vec()))
    }
}

/// Builds a `Vec<Value>` from anything convertible: `args![code, now, None::<String>]`.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::Value::from($v)),*] };
}

/// One result row; columns are read by position with the type the schema gives them.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

macro_rules! get {
    ($self:ident, $i:ident, $t:ty) => {
        match $self {
            Row::Sqlite(r) => r.try_get::<$t, _>($i),
            Row::Postgres(r) => r.try_get::<$t, _>($i),
        }
        .map_err(|e| StoreError::Corrupt {
            detail: format!("第 {} 欄：{e}", $i),
        })
    };
}

impl Row {
    pub fn i64(&self, i: usize) -> Result<i64, StoreError> {
        get!(self, i, i64)
    }
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        get!(self, i, Option<i64>)
    }
    pub fn bool(&self, i: usize) -> Result<bool, StoreError> {
        Ok(self.i64(i)? != 0)
    }
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        get!(self, i, String)
    }
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        get!(self, i, Option<String>)
    }
    pub fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        get!(self, i, Vec<u8>)
    }
    pub fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        get!(self, i, Option<Vec<u8>>)
    }
}

/// The metadata database.
#[derive(Clone)]
pub enum Db {
    Sqlite { write: SqlitePool, read: SqlitePool },
    Postgres(PgPool),
}

/// A transaction on either engine. Dropped without `commit`, it rolls back.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Value::Int(v) => q.bind(*v),
                Value::Text(v) => q.bind(v.as_deref()),
                Value::Bytes(v) => q.bind(v.as_deref()),
            };
        }
        q
    }};
}

macro_rules! run {
    ($exec:expr, $sql:expr, $args:expr, execute) => {
        bind_all!(sqlx::query($sql), $args)
            .execute($exec)
            .await
            .map(|r| r.rows_affected())
            .map_err(StoreError::from)
    };
    ($exec:expr, $sql:expr, $args:expr, fetch_all, $variant:ident) => {
        bind_all!(sqlx::query($sql), $args)
            .fetch_all($exec)
            .await
            .map(|rows| rows.into_iter().map(Row::$variant).collect())
            .map_err(StoreError::from)
    };
}

/// Where SQLite keeps its file, from `sqlite://path` or `sqlite:path`.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Some(rest.split('?').next().unwrap_or(rest))
}

impl Db {
    /// Opens (creating an SQLite file and its folder when missing) and brings the schema up to
    /// date.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        let db = if let Some(path) = sqlite_path(url) {
            if path.is_empty() || path.contains(":memory:") {
                return Err(StoreError::Url {
                    url: url.to_string(),
                });
            }
            if let Some(dir) = Path::new(path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
            }
            let opts = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a commit is on disk (WAL fsync'd) before we acknowledge anything.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(opts.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(opts)
                .await?;
            Db::Sqlite { write, read }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            Db::Postgres(pool)
        } else {
            return Err(StoreError::Url {
                url: url.to_string(),
            });
        };
        crate::migrate::run(&db).await?;
        Ok(db)
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// The engine's name, for logs and benchmark output.
    pub fn engine(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Appended to a claiming `SELECT`: PostgreSQL locks the rows and skips those another
    /// process holds; SQLite has one writer, whose transaction is the lock.
    pub fn skip_locked(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "",
            Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Appended to a `SELECT` that reads rows about to be changed in the same transaction.
    pub fn for_update(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "",
            Db::Postgres(_) => " FOR UPDATE",
        }
    }

    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin().await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A single statement outside a transaction (SQLite: through the writer).
    pub async fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite { write, .. } => run!(write, sql, args, execute),
            Db::Postgres(p) => run!(p, sql, args, execute),
        }
    }

    /// A query on a reader.
    pub async fn fetch_all(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError> {
        match self {
            Db::Sqlite { read, .. } => run!(read, sql, args, fetch_all, Sqlite),
            Db::Postgres(p) => run!(p, sql, args, fetch_all, Postgres),
        }
    }

    pub async fn fetch_optional(
        &self,
        sql: &str,
        args: &[Value],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_all(sql, args).await?.into_iter().next())
    }

    /// Runs a whole script (migrations): several statements, no placeholders.
    pub(crate) async fn raw_script(tx: &mut Tx, sql: &str) -> Result<(), StoreError> {
        match tx {
            Tx::Sqlite(t) => sqlx::raw_sql(sql).execute(&mut **t).await.map(|_| ())?,
            Tx::Postgres(t) => sqlx::raw_sql(sql).execute(&mut **t).await.map(|_| ())?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { write, read } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    pub async fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, StoreError> {
        match self {
            Tx::Sqlite(t) => run!(&mut **t, sql, args, execute),
            Tx::Postgres(t) => run!(&mut **t, sql, args, execute),
        }
    }

    pub async fn fetch_all(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError> {
        match self {
            Tx::Sqlite(t) => run!(&mut **t, sql, args, fetch_all, Sqlite),
            Tx::Postgres(t) => run!(&mut **t, sql, args, fetch_all, Postgres),
        }
    }

    pub async fn fetch_optional(
        &mut self,
        sql: &str,
        args: &[Value],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_all(sql, args).await?.into_iter().next())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls() {
        assert_eq!(sqlite_path("sqlite://./data/g.db"), Some("./data/g.db"));
        assert_eq!(sqlite_path("sqlite:g.db?mode=rwc"), Some("g.db"));
        assert_eq!(sqlite_path("postgres://x"), None);
    }
}
