//! The metadata database: SQLite (one file, the default) or PostgreSQL, chosen by URL.
//!
//! Every statement is written once, with `$1…$n` placeholders, and runs on both engines; values
//! cross as [`Value`] and come back as [`Row`]. PostgreSQL gets a pool, and several center
//! processes may share it. SQLite gets a few readers and one writer connection with *group
//! commit*: each transaction is a savepoint inside an outer transaction, and a committer task
//! commits the outer one for every transaction that finished meanwhile. A transaction's
//! `commit` returns only after that commit is on disk, so nothing is acknowledged before it is
//! durable, and a busy center pays one fsync per batch instead of one per request.
//!
//! SQLite statements run on the calling thread (rusqlite), not on a connection's own worker
//! thread: a statement takes microseconds, and the hop to another thread and back for each
//! one cost more than the statement (a third of a busy center's CPU went to those switches).
//!
//! The fsync happens after the writer lock is released: SQLite runs with `synchronous=NORMAL`
//! (the commit appends its frames to the WAL without syncing), and the committer then
//! `fdatasync`s the WAL itself before answering the batch. New transactions go on meanwhile
//! instead of queueing behind the disk. After a crash, SQLite's recovery keeps the WAL up to
//! the first frame that did not reach the disk, and no transaction after that frame was
//! acknowledged.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row as _};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, oneshot};

use crate::StoreError;

/// A value bound to a placeholder. `None` is SQL NULL of that type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! value_from {
    ($($t:ty => |$v:ident| $e:expr;)*) => {
        $(impl From<$t> for Value {
            fn from($v: $t) -> Self {
                $e
            }
        })*
    };
}

value_from! {
    i64 => |v| Value::Int(Some(v));
    Option<i64> => |v| Value::Int(v);
    bool => |v| Value::Int(Some(v as i64));
    &str => |v| Value::Text(Some(v.to_string()));
    String => |v| Value::Text(Some(v));
    &String => |v| Value::Text(Some(v.clone()));
    Option<String> => |v| Value::Text(v);
    Option<&str> => |v| Value::Text(v.map(str::to_string));
    Vec<u8> => |v| Value::Bytes(Some(v));
    &[u8] => |v| Value::Bytes(Some(v.to_vec()));
}

/// Builds an array of [`Value`]s from anything convertible: `&args![code, now, None::<String>]`.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => { [$($crate::Value::from($v)),*] };
}

/// One result row; columns are read by name (`r.text("subject")`) or by position, with the
/// type the schema gives them. Names keep working when a SELECT's column order changes.
pub enum Row {
    Sqlite {
        names: Arc<[String]>,
        values: Vec<rusqlite::types::Value>,
    },
    Postgres(PgRow),
}

/// A column of an SQLite row as type `T`.
trait FromSqlite: Sized {
    fn from_value(v: &rusqlite::types::Value) -> Option<Self>;
}

macro_rules! from_sqlite {
    ($($t:ty => $($p:pat => $e:expr),+;)*) => {
        $(impl FromSqlite for $t {
            fn from_value(v: &rusqlite::types::Value) -> Option<Self> {
                use rusqlite::types::Value::*;
                match v {
                    $($p => Some($e),)+
                    _ => None,
                }
            }
        })*
    };
}

from_sqlite! {
    i64 => Integer(i) => *i;
    String => Text(t) => t.clone();
    Vec<u8> => Blob(b) => b.clone(), Text(t) => t.clone().into_bytes();
}

impl<T: FromSqlite> FromSqlite for Option<T> {
    fn from_value(v: &rusqlite::types::Value) -> Option<Self> {
        match v {
            rusqlite::types::Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// A column of a [`Row`]: its name in the SELECT, or its position.
#[derive(Debug, Clone, Copy)]
pub enum Col<'a> {
    Name(&'a str),
    Pos(usize),
}

impl<'a> From<&'a str> for Col<'a> {
    fn from(n: &'a str) -> Self {
        Col::Name(n)
    }
}

impl From<usize> for Col<'_> {
    fn from(i: usize) -> Self {
        Col::Pos(i)
    }
}

/// An integer literal (`r.text(0)`) is an `i32` to the compiler.
impl From<i32> for Col<'_> {
    fn from(i: i32) -> Self {
        Col::Pos(usize::try_from(i).unwrap_or(usize::MAX))
    }
}

impl std::fmt::Display for Col<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Col::Name(n) => write!(f, "「{n}」欄"),
            Col::Pos(i) => write!(f, "第 {i} 欄"),
        }
    }
}

fn sqlite_get<T: FromSqlite>(
    names: &[String],
    r: &[rusqlite::types::Value],
    c: Col,
) -> Result<T, String> {
    let i = match c {
        Col::Pos(i) => i,
        Col::Name(n) => names.iter().position(|x| x == n).ok_or("沒有這一欄")?,
    };
    let v = r.get(i).ok_or("沒有這一欄")?;
    T::from_value(v).ok_or_else(|| format!("型別不符（{:?}）", v.data_type()))
}

/// The typed column readers of [`Row`], one per type.
macro_rules! getters {
    ($($name:ident: $t:ty;)*) => {
        impl Row {
            $(pub fn $name<'a>(&self, c: impl Into<Col<'a>>) -> Result<$t, StoreError> {
                let c: Col = c.into();
                let got: Result<$t, String> = match (self, c) {
                    (Row::Sqlite { names, values }, c) => sqlite_get(names, values, c),
                    (Row::Postgres(r), Col::Pos(i)) => r.try_get(i).map_err(|e| e.to_string()),
                    (Row::Postgres(r), Col::Name(n)) => r.try_get(n).map_err(|e| e.to_string()),
                };
                got.map_err(|e| StoreError::Corrupt {
                    detail: format!("{c}：{e}"),
                })
            })*
        }
    };
}

getters! {
    i64: i64;
    opt_i64: Option<i64>;
    text: String;
    opt_text: Option<String>;
    bytes: Vec<u8>;
    opt_bytes: Option<Vec<u8>>;
}

impl Row {
    pub fn bool<'a>(&self, c: impl Into<Col<'a>>) -> Result<bool, StoreError> {
        Ok(self.i64(c)? != 0)
    }
}

/// The metadata database.
#[derive(Clone)]
pub enum Db {
    Sqlite {
        write: Arc<CommitGroup>,
        read: Arc<Readers>,
    },
    Postgres(PgPool),
}

/// The SQLite writer and its group commit (not a distribution group, 行文群組): one
/// connection, an outer transaction shared by the transactions that run while the previous
/// commit is on its way to disk.
pub struct CommitGroup {
    conn: Arc<Mutex<Writer>>,
    pending: std::sync::Mutex<Vec<oneshot::Sender<Result<(), String>>>>,
    wake: Notify,
    /// The database file; its WAL is beside it.
    path: std::path::PathBuf,
    /// The WAL, opened for syncing after the first commit.
    wal: std::sync::Mutex<Option<Arc<std::fs::File>>>,
}

/// SQLite connections for queries outside a transaction; each is used by one caller at a time.
pub struct Readers {
    conns: Vec<std::sync::Mutex<rusqlite::Connection>>,
    next: std::sync::atomic::AtomicUsize,
}

impl Readers {
    fn run(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError> {
        // A free one if there is; otherwise wait for the next in turn.
        for c in &self.conns {
            if let Ok(conn) = c.try_lock() {
                return sqlite_rows(&conn, sql, args);
            }
        }
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.conns.len();
        let conn = self.conns[i].lock().unwrap_or_else(|e| e.into_inner());
        sqlite_rows(&conn, sql, args)
    }
}

/// Binds `$n` placeholders (by their number, as PostgreSQL reads them) and runs.
fn sqlite_bind<'a>(
    conn: &'a rusqlite::Connection,
    sql: &str,
    args: &[Value],
) -> Result<rusqlite::CachedStatement<'a>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    for i in 1..=stmt.parameter_count() {
        let n = match stmt.parameter_name(i) {
            Some(name) => name
                .trim_start_matches(['$', '?', ':', '@'])
                .parse::<usize>()
                .map_err(|_| StoreError::Db {
                    detail: format!("不支援的參數 {name}"),
                })?,
            None => i,
        };
        let v = args.get(n.wrapping_sub(1)).ok_or_else(|| StoreError::Db {
            detail: format!("缺少第 {n} 個參數"),
        })?;
        match v {
            Value::Int(x) => stmt.raw_bind_parameter(i, x)?,
            Value::Text(x) => stmt.raw_bind_parameter(i, x.as_deref())?,
            Value::Bytes(x) => stmt.raw_bind_parameter(i, x.as_deref())?,
        }
    }
    Ok(stmt)
}

fn sqlite_rows(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Value],
) -> Result<Vec<Row>, StoreError> {
    let mut stmt = sqlite_bind(conn, sql, args)?;
    let cols = stmt.column_count();
    let names: Arc<[String]> = stmt.column_names().iter().map(|n| n.to_string()).collect();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut values = Vec::with_capacity(cols);
        for c in 0..cols {
            values.push(r.get::<_, rusqlite::types::Value>(c)?);
        }
        out.push(Row::Sqlite {
            names: names.clone(),
            values,
        });
    }
    Ok(out)
}

fn sqlite_execute(
    conn: &rusqlite::Connection,
    sql: &str,
    args: &[Value],
) -> Result<u64, StoreError> {
    let mut stmt = sqlite_bind(conn, sql, args)?;
    if stmt.column_count() > 0 {
        // A statement that returns rows (RETURNING, a PRAGMA): run it through.
        let mut rows = stmt.raw_query();
        while rows.next()?.is_some() {}
        return Ok(conn.changes());
    }
    Ok(stmt.raw_execute()? as u64)
}

/// The database file, and its WAL and shared-memory files when there, for this user alone
/// (0600): SQLite gives the files it creates the database file's permissions.
fn private_db_files(path: &str) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let p = Path::new(path);
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(p)
            .map_err(|e| StoreError::io(p, e))?;
        for suffix in ["", "-wal", "-shm"] {
            let f = std::path::PathBuf::from(format!("{path}{suffix}"));
            if f.exists() {
                std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| StoreError::io(&f, e))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Opens one SQLite connection with the settings every connection needs.
fn sqlite_open(path: &str) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.set_prepared_statement_cache_capacity(256);
    // NORMAL: the committer syncs the WAL itself, outside the writer lock, before anything is
    // acknowledged (see the module notes). temp_store in memory: each transaction is a
    // savepoint of the group commit, whose statement journal is then kept in memory. Each
    // connection has an 8 MiB page cache: most of a center's reads are recent rows; five
    // connections stay well under 200 MB. No memory mapping: a growing file is mapped anew
    // again and again, and the faults and unmappings cost more than the reads they save.
    // Checkpoints every 4,000 WAL pages (16 MiB) instead of 1,000: a page rewritten by many
    // commits is copied into the database once per checkpoint, and the commit that runs one
    // holds the writer (gongwen bench center: 5 % more documents/s; at 10,000 pages the longer
    // checkpoints showed in the submit p99).
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=memory; \
         PRAGMA mmap_size=0; PRAGMA cache_size=-8192; PRAGMA foreign_keys=ON; \
         PRAGMA wal_autocheckpoint=4000;",
    )?;
    Ok(conn)
}

pub struct Writer {
    conn: rusqlite::Connection,
    /// An outer transaction is open.
    open: bool,
    /// A transaction was dropped without commit: its savepoint must be rolled back first.
    dirty: bool,
}

impl Writer {
    fn clean(&mut self) -> Result<(), StoreError> {
        if self.dirty {
            self.conn.execute_batch("ROLLBACK TO tx; RELEASE tx")?;
            self.dirty = false;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), String> {
        if let Err(e) = self.clean() {
            return Err(e.to_string());
        }
        if !self.open {
            return Ok(());
        }
        self.open = false;
        match self
            .conn
            .prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e.to_string())
            }
        }
    }
}

impl CommitGroup {
    /// Commits the outer transaction for everyone waiting, again and again.
    async fn committer(self: Arc<Self>) {
        loop {
            self.wake.notified().await;
            let mut w = self.conn.clone().lock_owned().await;
            let waiters =
                std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
            if waiters.is_empty() {
                continue;
            }
            let mut r = w.finish();
            drop(w);
            if r.is_ok() {
                let me = self.clone();
                r = tokio::task::spawn_blocking(move || me.sync_wal())
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()));
            }
            for tx in waiters {
                let _ = tx.send(r.clone());
            }
        }
    }

    /// Makes every commit so far durable: the WAL's frames on disk (or, with no WAL, the
    /// database file, into which a checkpoint moved them).
    fn sync_wal(&self) -> Result<(), String> {
        let mut wal = self.wal.lock().unwrap_or_else(|e| e.into_inner());
        let f = match wal.as_ref() {
            Some(f) => f.clone(),
            None => {
                let mut name = self.path.as_os_str().to_owned();
                name.push("-wal");
                match std::fs::File::open(std::path::PathBuf::from(name)) {
                    Ok(f) => wal.insert(Arc::new(f)).clone(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return std::fs::File::open(&self.path)
                            .and_then(|f| f.sync_data())
                            .map_err(|e| format!("{}：{e}", self.path.display()));
                    }
                    Err(e) => return Err(format!("{}-wal：{e}", self.path.display())),
                }
            }
        };
        drop(wal);
        f.sync_data()
            .map_err(|e| format!("{}-wal：{e}", self.path.display()))
    }
}

/// A transaction on either engine. Dropped without `commit`, it rolls back.
pub enum Tx {
    Sqlite {
        writer: OwnedMutexGuard<Writer>,
        group: Arc<CommitGroup>,
        committed: bool,
    },
    /// `None` once committed.
    Postgres(Option<sqlx::Transaction<'static, Postgres>>),
}

impl Drop for Tx {
    fn drop(&mut self) {
        if let Tx::Sqlite {
            writer, committed, ..
        } = self
            && !*committed
        {
            writer.dirty = true;
        }
    }
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
                // A new folder is private; an existing one (the working directory, a shared
                // data folder) is left as it is.
                if !dir.exists() {
                    crate::private_dir(dir).map_err(|e| StoreError::io(dir, e))?;
                }
            }
            private_db_files(path)?;
            let conn = sqlite_open(path)?;
            let mut conns = Vec::new();
            for _ in 0..4 {
                conns.push(std::sync::Mutex::new(sqlite_open(path)?));
            }
            let read = Arc::new(Readers {
                conns,
                next: std::sync::atomic::AtomicUsize::new(0),
            });
            let write = Arc::new(CommitGroup {
                conn: Arc::new(Mutex::new(Writer {
                    conn,
                    open: false,
                    dirty: false,
                })),
                pending: std::sync::Mutex::new(Vec::new()),
                wake: Notify::new(),
                path: Path::new(path).to_path_buf(),
                wal: std::sync::Mutex::new(None),
            });
            tokio::spawn(write.clone().committer());
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
            Db::Sqlite { write, .. } => {
                let mut w = write.conn.clone().lock_owned().await;
                w.clean()?;
                if !w.open {
                    // IMMEDIATE: take the write lock now (another process, such as
                    // `gongwen center admin`, may hold it; busy_timeout waits for it).
                    w.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
                    w.open = true;
                }
                // Prepared once: parsing it anew cost more than running it.
                w.conn.prepare_cached("SAVEPOINT tx")?.execute([])?;
                Tx::Sqlite {
                    writer: w,
                    group: write.clone(),
                    committed: false,
                }
            }
            Db::Postgres(p) => Tx::Postgres(Some(p.begin().await?)),
        })
    }

    /// A single statement in a transaction of its own.
    pub async fn execute(&self, sql: &str, args: &[Value]) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite { .. } => {
                let mut tx = self.begin().await?;
                let n = tx.execute(sql, args).await?;
                tx.commit().await?;
                Ok(n)
            }
            Db::Postgres(p) => run!(p, sql, args, execute),
        }
    }

    /// A query on a reader.
    pub async fn fetch_all(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError> {
        match self {
            Db::Sqlite { read, .. } => read.run(sql, args),
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
            Tx::Sqlite { writer, .. } => writer.conn.execute_batch(sql)?,
            Tx::Postgres(t) => {
                let t = t.as_mut().ok_or_else(finished)?;
                sqlx::raw_sql(sql).execute(&mut **t).await.map(|_| ())?
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { write, .. } => {
                // Commit what is finished and answer whoever waits for it.
                let mut w = write.conn.clone().lock_owned().await;
                let waiters =
                    std::mem::take(&mut *write.pending.lock().unwrap_or_else(|e| e.into_inner()));
                let r = w.finish();
                for tx in waiters {
                    let _ = tx.send(r.clone());
                }
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

fn finished() -> StoreError {
    StoreError::Db {
        detail: "交易已結束".into(),
    }
}

impl Tx {
    pub async fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, StoreError> {
        match self {
            Tx::Sqlite { writer, .. } => sqlite_execute(&writer.conn, sql, args),
            Tx::Postgres(t) => {
                let t = t.as_mut().ok_or_else(finished)?;
                run!(&mut **t, sql, args, execute)
            }
        }
    }

    pub async fn fetch_all(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, StoreError> {
        match self {
            Tx::Sqlite { writer, .. } => sqlite_rows(&writer.conn, sql, args),
            Tx::Postgres(t) => {
                let t = t.as_mut().ok_or_else(finished)?;
                run!(&mut **t, sql, args, fetch_all, Postgres)
            }
        }
    }

    pub async fn fetch_optional(
        &mut self,
        sql: &str,
        args: &[Value],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_all(sql, args).await?.into_iter().next())
    }

    /// Commits; returns once the commit is on disk.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        match &mut self {
            Tx::Sqlite {
                group, committed, ..
            } => {
                // No RELEASE: the savepoint stays nested in the outer transaction, whose COMMIT
                // keeps it, and a later transaction that rolls back goes only to its own,
                // newer savepoint. One statement fewer per transaction.
                *committed = true;
                let (tx, rx) = oneshot::channel();
                group
                    .pending
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(tx);
                group.wake.notify_one();
                drop(self);
                match rx.await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(detail)) => Err(StoreError::Db { detail }),
                    Err(_) => Err(StoreError::Db {
                        detail: "資料庫已關閉，交易未提交".into(),
                    }),
                }
            }
            Tx::Postgres(t) => {
                t.take().ok_or_else(finished)?.commit().await?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_runtime as rt;

    /// Group commit: what commits is there; what is dropped, or fails halfway, is not.
    #[test]
    fn group_commit_keeps_commits_and_drops_the_rest() {
        let dir = std::env::temp_dir().join(format!("gongwen-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        rt().block_on(async {
            let db = Db::connect(&format!("sqlite://{}", dir.join("t.db").display()))
                .await
                .unwrap();
            db.execute(
                "CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT NOT NULL)",
                &[],
            )
            .await
            .unwrap();
            let mut tasks = Vec::new();
            for i in 0..60i64 {
                let db = db.clone();
                tasks.push(tokio::spawn(async move {
                    let mut tx = db.begin().await.unwrap();
                    tx.execute(
                        "INSERT INTO t (k, v) VALUES ($1, $2)",
                        &[format!("k{i}").into(), i.into()],
                    )
                    .await
                    .unwrap();
                    match i % 3 {
                        // Dropped without commit.
                        0 => drop(tx),
                        // Fails halfway (duplicate key), then dropped: the first insert goes too.
                        1 => {
                            let e = tx
                                .execute(
                                    "INSERT INTO t (k, v) VALUES ($1, $2)",
                                    &[format!("k{i}").into(), 0i64.into()],
                                )
                                .await;
                            assert!(matches!(e, Err(StoreError::Duplicate { .. })));
                        }
                        _ => tx.commit().await.unwrap(),
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            let rows = db
                .fetch_all("SELECT v FROM t ORDER BY v", &[])
                .await
                .unwrap();
            let got: Vec<i64> = rows.iter().map(|r| r.i64(0).unwrap()).collect();
            let want: Vec<i64> = (0..60).filter(|i| i % 3 == 2).collect();
            assert_eq!(got, want);
            db.close().await;
        });
        // Reopened: the same.
        rt().block_on(async {
            let db = Db::connect(&format!("sqlite://{}", dir.join("t.db").display()))
                .await
                .unwrap();
            let rows = db.fetch_all("SELECT COUNT(*) FROM t", &[]).await.unwrap();
            assert_eq!(rows[0].i64(0).unwrap(), 20);
        });
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Columns read by name and by position give the same values, on SQLite and (when
    /// `GONGWEN_TEST_DATABASE_URL` names one) on PostgreSQL; an unknown name is an error.
    #[test]
    fn columns_by_name_or_position() {
        let dir = std::env::temp_dir().join(format!("gongwen-cols-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut urls = vec![format!("sqlite://{}", dir.join("c.db").display())];
        urls.extend(
            std::env::var("GONGWEN_TEST_DATABASE_URL")
                .ok()
                .filter(|u| u.starts_with("postgres")),
        );
        for url in urls {
            rt().block_on(async {
                let db = Db::connect(&url).await.unwrap();
                let rows = db
                    .fetch_all(
                        "SELECT CAST(7 AS BIGINT) AS n, 'a' AS t, CAST(NULL AS TEXT) AS gone",
                        &[],
                    )
                    .await
                    .unwrap();
                let r = &rows[0];
                assert_eq!(r.i64("n").unwrap(), 7);
                assert_eq!(r.i64(0).unwrap(), 7);
                assert_eq!(r.text("t").unwrap(), r.text(1).unwrap());
                assert_eq!(r.opt_text("gone").unwrap(), None);
                assert!(matches!(r.text("missing"), Err(StoreError::Corrupt { .. })));
                assert!(matches!(r.text("n"), Err(StoreError::Corrupt { .. })));
                db.close().await;
            });
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sqlite_urls() {
        assert_eq!(sqlite_path("sqlite://./data/g.db"), Some("./data/g.db"));
        assert_eq!(sqlite_path("sqlite:g.db?mode=rwc"), Some("g.db"));
        assert_eq!(sqlite_path("postgres://x"), None);
    }
}
