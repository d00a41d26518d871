//! Sealed packages, stored by the SHA-256 of their bytes: in pack files on the local
//! filesystem (the default) or in the database (so several center processes on different
//! machines can share one PostgreSQL).
//!
//! A pack file holds many packages one after another. Creating a file (an inode) per package
//! cost a third of the center's CPU; appending to a pack costs a `pwrite`, and the `fdatasync`
//! that makes it durable is shared by every package written meanwhile (group sync, like the
//! database's group commit). A package is found through the `pack_blobs` table, whose row is
//! written only after its bytes are on disk: a row that exists points at whole bytes.
//!
//! Each process appends only to packs it created (never to one left by an earlier run, whose
//! tail may be torn by a crash). Bytes no row points at (a crash between the sync and the row,
//! a retried upload) are left where they are. Purging a package deletes its row; [`Blobs::sweep`]
//! deletes pack files no row points into, which is how purged bodies give their space back.
//! A process stops appending to a pack left idle for an hour, and the sweep leaves alone any
//! pack written to in the last two hours, so it never deletes a pack another process (sharing
//! the folder) is still appending to.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::{Db, StoreError, Tx, Value};

/// `n` random bytes from the system's generator, as hex: names and identifiers nobody can guess.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    let _ = aws_lc_rs::rand::fill(&mut b);
    hex(&b)
}

/// Hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

fn check_sha(sha: &str) -> Result<(), StoreError> {
    if sha.len() == 64
        && sha
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        Ok(())
    } else {
        Err(StoreError::Corrupt {
            detail: format!("「{sha}」不是 SHA-256 摘要"),
        })
    }
}

/// A pack file is closed to new packages once it is this large (a package that starts below
/// the mark is written whole, so a pack can be larger).
const PACK_TARGET: u64 = 256 * 1024 * 1024;
/// A pack idle this long gets no more packages (see the module notes).
const PACK_IDLE: std::time::Duration = std::time::Duration::from_secs(3600);
/// The sweep deletes only packs not written to for this long.
const PACK_SWEEP_AGE: std::time::Duration = std::time::Duration::from_secs(2 * 3600);

#[derive(Clone)]
pub enum Blobs {
    Fs(Arc<Packs>),
    Db(Db),
}

/// Pack files in one folder, indexed in the database.
pub struct Packs {
    dir: PathBuf,
    db: Db,
    /// The pack this process appends to.
    active: Mutex<Option<Arc<Pack>>>,
    /// Read handles of packs, by name.
    readers: Mutex<HashMap<String, Arc<File>>>,
}

/// A pack this process appends to.
struct Pack {
    name: String,
    path: PathBuf,
    file: File,
    /// Bytes written so far; held while writing, so every byte below it is written.
    len: Mutex<u64>,
    /// When the last package was appended (or the pack made).
    last: Mutex<std::time::Instant>,
    /// Bytes known to be on disk; held while syncing, so concurrent writers share one sync.
    synced: Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

fn joined<T>(r: Result<Result<T, StoreError>, tokio::task::JoinError>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Db {
        detail: e.to_string(),
    })?
}

/// Where a package's bytes come from when it is stored.
enum Source {
    Bytes(Vec<u8>),
    File(PathBuf),
}

impl Pack {
    /// Appends the bytes and returns once they are on disk, with their offset.
    fn append(&self, source: &Source) -> Result<(u64, u64), StoreError> {
        let (offset, end) = {
            let mut len = lock(&self.len);
            let offset = *len;
            let written = match source {
                Source::Bytes(data) => self
                    .file
                    .write_all_at(data, offset)
                    .map(|_| data.len() as u64),
                Source::File(path) => copy_at(path, &self.file, offset),
            };
            let n = written.map_err(|e| StoreError::io(&self.path, e))?;
            *len = offset + n;
            *lock(&self.last) = std::time::Instant::now();
            (offset, offset + n)
        };
        let mut synced = lock(&self.synced);
        if *synced < end {
            let upto = *lock(&self.len);
            self.file
                .sync_data()
                .map_err(|e| StoreError::io(&self.path, e))?;
            *synced = upto;
        }
        Ok((offset, end - offset))
    }
}

/// Copies the file at `from` into `to` at `offset`; the number of bytes.
fn copy_at(from: &Path, to: &File, offset: u64) -> std::io::Result<u64> {
    let mut src = File::open(from)?;
    let mut buf = vec![0u8; 1024 * 1024];
    let mut at = offset;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        to.write_all_at(&buf[..n], at)?;
        at += n as u64;
    }
    Ok(at - offset)
}

impl Packs {
    /// The pack to append to: the active one, or a new one when there is none or it is full.
    fn active(&self) -> Result<Arc<Pack>, StoreError> {
        let mut active = lock(&self.active);
        if let Some(p) = active.as_ref()
            && *lock(&p.len) < PACK_TARGET
            && lock(&p.last).elapsed() < PACK_IDLE
        {
            return Ok(p.clone());
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| StoreError::io(&self.dir, e))?;
        let mut nonce = [0u8; 12];
        let _ = aws_lc_rs::rand::fill(&mut nonce);
        let name = format!("{}.pack", hex(&nonce));
        let path = self.dir.join(&name);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        // The new name is durable before any row points into it.
        sync_dir(&self.dir)?;
        let p = Arc::new(Pack {
            name,
            path,
            file,
            len: Mutex::new(0),
            last: Mutex::new(std::time::Instant::now()),
            synced: Mutex::new(0),
        });
        *active = Some(p.clone());
        Ok(p)
    }

    async fn put(self: &Arc<Self>, sha: &str, source: Source) -> Result<Stored, StoreError> {
        let me = self.clone();
        let (pack, offset, size) = joined(
            tokio::task::spawn_blocking(move || {
                let pack = me.active()?;
                let (offset, size) = pack.append(&source)?;
                Ok((pack.name.clone(), offset, size))
            })
            .await,
        )?;
        Ok(Stored {
            sha: sha.to_string(),
            placed: Placed::Pack { pack, offset, size },
        })
    }

    /// The package whose pack, offset and size are columns `first..first+3` of `row`.
    fn placed(&self, row: &crate::Row, first: usize) -> Result<BlobReader, StoreError> {
        Ok(BlobReader::Pack {
            file: self.reader(&row.text(first)?)?,
            offset: row.i64(first + 1)? as u64,
            size: row.i64(first + 2)? as u64,
        })
    }

    fn reader(&self, name: &str) -> Result<Arc<File>, StoreError> {
        if let Some(f) = lock(&self.readers).get(name) {
            return Ok(f.clone());
        }
        let path = self.dir.join(name);
        let f = Arc::new(File::open(&path).map_err(|e| StoreError::io(&path, e))?);
        lock(&self.readers).insert(name.to_string(), f.clone());
        Ok(f)
    }

    /// Deletes pack files that no row points into and nobody has written to lately; the
    /// number deleted.
    async fn sweep(&self) -> Result<usize, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(StoreError::io(&self.dir, e)),
        };
        let now = std::time::SystemTime::now();
        let mut old = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(&self.dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".pack") {
                continue;
            }
            let idle = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .unwrap_or_default();
            if idle >= PACK_SWEEP_AGE {
                old.push(name);
            }
        }
        let mut deleted = 0;
        for name in old {
            if lock(&self.active).as_ref().is_some_and(|p| p.name == name) {
                continue;
            }
            let used = self
                .db
                .fetch_optional(
                    "SELECT 1 FROM pack_blobs WHERE pack = $1 LIMIT 1",
                    &[name.as_str().into()],
                )
                .await?
                .is_some();
            if used {
                continue;
            }
            lock(&self.readers).remove(&name);
            let path = self.dir.join(&name);
            match std::fs::remove_file(&path) {
                Ok(()) => deleted += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io(&path, e)),
            }
        }
        Ok(deleted)
    }
}

/// A package whose bytes are durable but not yet findable: [`Stored::record`] writes where
/// it is inside the caller's transaction, so the package row and its bytes' row commit
/// together (one commit per submission, and no row without its package).
#[must_use]
pub struct Stored {
    sha: String,
    placed: Placed,
}

enum Placed {
    Pack {
        pack: String,
        offset: u64,
        size: u64,
    },
    /// Stored in the database: the bytes go in with the row.
    Data(Vec<u8>),
}

impl Stored {
    /// A reader of the bytes just stored, when they lie in a pack (`None` in the database).
    pub fn reader(&self, blobs: &Blobs) -> Result<Option<BlobReader>, StoreError> {
        match (&self.placed, blobs) {
            (Placed::Pack { pack, offset, size }, Blobs::Fs(packs)) => Ok(Some(BlobReader::Pack {
                file: packs.reader(pack)?,
                offset: *offset,
                size: *size,
            })),
            _ => Ok(None),
        }
    }

    pub async fn record(self, tx: &mut Tx) -> Result<(), StoreError> {
        let (table, args) = match self.placed {
            Placed::Pack { pack, offset, size } => (
                "pack_blobs (sha256, pack, offset_bytes, size) VALUES ($1, $2, $3, $4)",
                vec![
                    self.sha.into(),
                    pack.into(),
                    (offset as i64).into(),
                    (size as i64).into(),
                ],
            ),
            Placed::Data(data) => {
                let size = data.len() as i64;
                (
                    "blobs (sha256, size, data) VALUES ($1, $2, $3)",
                    vec![self.sha.into(), size.into(), data.into()],
                )
            }
        };
        // The same bytes stored before (a retry, a relay of a package we have): keep the row.
        let sql = if matches!(tx, Tx::Postgres(_)) {
            format!("INSERT INTO {table} ON CONFLICT (sha256) DO NOTHING")
        } else {
            format!("INSERT OR IGNORE INTO {table}")
        };
        tx.execute(&sql, &args).await.map(|_| ())
    }
}

/// A stored package, ready to be read in chunks (a streamed or resumed download).
#[derive(Clone)]
pub enum BlobReader {
    Pack {
        file: Arc<File>,
        offset: u64,
        size: u64,
    },
    Db {
        db: Db,
        sha: String,
        size: u64,
    },
}

impl BlobReader {
    pub fn size(&self) -> u64 {
        match self {
            BlobReader::Pack { size, .. } | BlobReader::Db { size, .. } => *size,
        }
    }

    /// Bytes `start..start+len` of the package (fewer at its end).
    pub async fn read_at(&self, start: u64, len: usize) -> Result<Vec<u8>, StoreError> {
        let len = (len as u64).min(self.size().saturating_sub(start)) as usize;
        match self {
            BlobReader::Pack { file, offset, .. } => {
                let file = file.clone();
                let at = offset + start;
                let read = move || {
                    let mut buf = vec![0u8; len];
                    file.read_exact_at(&mut buf, at)
                        .map_err(|e| StoreError::Io {
                            path: "封包檔".into(),
                            detail: e.to_string(),
                        })?;
                    Ok(buf)
                };
                // A piece of up to 1 MiB of a recent package is in the page cache: read here
                // rather than on a blocking thread and back.
                if len <= 1024 * 1024 {
                    read()
                } else {
                    joined(tokio::task::spawn_blocking(read).await)
                }
            }
            BlobReader::Db { db, sha, .. } => {
                let row = db
                    .fetch_optional(
                        "SELECT substr(data, CAST($2 AS INTEGER), CAST($3 AS INTEGER)) FROM blobs WHERE sha256 = $1",
                        &[sha.as_str().into(), Value::from(start as i64 + 1), Value::from(len as i64)],
                    )
                    .await?;
                match row {
                    Some(r) => r.bytes(0),
                    None => Err(StoreError::Corrupt {
                        detail: format!("封包 {sha} 不在資料庫中"),
                    }),
                }
            }
        }
    }
}

impl Blobs {
    /// Pack files in `dir`, indexed in `db`.
    pub fn packs(dir: PathBuf, db: Db) -> Blobs {
        Blobs::Fs(Arc::new(Packs {
            dir,
            db,
            active: Mutex::new(None),
            readers: Mutex::new(HashMap::new()),
        }))
    }

    pub fn engine(&self) -> &'static str {
        match self {
            Blobs::Fs(_) => "fs",
            Blobs::Db(_) => "db",
        }
    }

    /// Stores the file at `spooled` under `sha`, which the caller computed while receiving
    /// it. The spooled file is the caller's to remove.
    pub async fn put_file(&self, spooled: &Path, sha: &str) -> Result<Stored, StoreError> {
        check_sha(sha)?;
        match self {
            Blobs::Fs(packs) => packs.put(sha, Source::File(spooled.to_path_buf())).await,
            Blobs::Db(_) => {
                let data = tokio::fs::read(spooled).await;
                self.put_bytes(data.map_err(|e| StoreError::io(spooled, e))?, sha)
                    .await
            }
        }
    }

    /// Stores `data` (a package held in memory) under `sha`, which the caller computed.
    pub async fn put_bytes(&self, data: Vec<u8>, sha: &str) -> Result<Stored, StoreError> {
        check_sha(sha)?;
        match self {
            Blobs::Fs(packs) => packs.put(sha, Source::Bytes(data)).await,
            Blobs::Db(_) => Ok(Stored {
                sha: sha.to_string(),
                placed: Placed::Data(data),
            }),
        }
    }

    /// For a query that finds the package's row anyway: `LEFT JOIN` this on the column holding
    /// the package's SHA-256 and select [`Blobs::PACK_COLUMNS`], then hand them to
    /// [`Blobs::open_placed`].
    /// One query instead of two on every download.
    pub const PACK_JOIN: &'static str = "LEFT JOIN pack_blobs pb ON pb.sha256 =";
    pub const PACK_COLUMNS: &'static str = "pb.pack, pb.offset_bytes, pb.size";

    /// Like [`Blobs::open`], with the pack location the caller's query read through
    /// [`Blobs::PACK_JOIN`] (columns `first..first+3` of `row`).
    pub async fn open_placed(
        &self,
        sha: &str,
        row: &crate::Row,
        first: usize,
    ) -> Result<Option<BlobReader>, StoreError> {
        match (self, row.opt_text(first)?) {
            (Blobs::Fs(packs), Some(_)) => {
                check_sha(sha)?;
                packs.placed(row, first).map(Some)
            }
            _ => self.open(sha).await,
        }
    }

    /// The stored package, or `None` when it is not here (never stored, or purged).
    pub async fn open(&self, sha: &str) -> Result<Option<BlobReader>, StoreError> {
        check_sha(sha)?;
        match self {
            Blobs::Fs(packs) => {
                let row = packs
                    .db
                    .fetch_optional(
                        "SELECT pack, offset_bytes, size FROM pack_blobs WHERE sha256 = $1",
                        &[sha.into()],
                    )
                    .await?;
                row.map(|r| packs.placed(&r, 0)).transpose()
            }
            Blobs::Db(db) => Ok(db
                .fetch_optional("SELECT size FROM blobs WHERE sha256 = $1", &[sha.into()])
                .await?
                .map(|r| r.i64(0))
                .transpose()?
                .map(|size| BlobReader::Db {
                    db: db.clone(),
                    sha: sha.to_string(),
                    size: size as u64,
                })),
        }
    }

    /// Removes a package's bytes (on the filesystem, its row: the sweep frees the space).
    pub async fn delete(&self, sha: &str) -> Result<(), StoreError> {
        check_sha(sha)?;
        let (db, table) = match self {
            Blobs::Fs(packs) => (&packs.db, "pack_blobs"),
            Blobs::Db(db) => (db, "blobs"),
        };
        let sql = format!("DELETE FROM {table} WHERE sha256 = $1");
        db.execute(&sql, &[sha.into()]).await.map(|_| ())
    }

    /// Deletes pack files no package is in any more (see the module notes); the number
    /// deleted.
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        match self {
            Blobs::Fs(packs) => packs.sweep().await,
            Blobs::Db(_) => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_runtime as rt;

    async fn put(blobs: &Blobs, db: &Db, data: &[u8]) -> String {
        let sha = sha256_hex(data);
        let stored = blobs.put_bytes(data.to_vec(), &sha).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        stored.record(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        sha
    }

    async fn read_all(blobs: &Blobs, sha: &str) -> Option<Vec<u8>> {
        let r = blobs.open(sha).await.unwrap()?;
        Some(r.read_at(0, r.size() as usize).await.unwrap())
    }

    fn packs_in(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "pack"))
            .collect();
        v.sort();
        v
    }

    /// Packages go into one pack, are read back whole and in ranges, are found only once
    /// recorded, and a pack goes only when nothing is in it, nobody appends to it and it has
    /// been idle for long enough.
    #[test]
    fn packs_store_read_and_give_space_back() {
        let dir = std::env::temp_dir().join(format!("gongwen-packs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        rt().block_on(async {
            let db = Db::connect(&format!("sqlite://{}", dir.join("t.db").display()))
                .await
                .unwrap();
            let blobs = Blobs::packs(dir.join("blobs"), db.clone());
            let a: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
            let b = b"second package".to_vec();
            let sha_a = put(&blobs, &db, &a).await;
            let sha_b = put(&blobs, &db, &b).await;
            assert_eq!(read_all(&blobs, &sha_a).await.unwrap(), a);
            assert_eq!(read_all(&blobs, &sha_b).await.unwrap(), b);
            let r = blobs.open(&sha_a).await.unwrap().unwrap();
            assert_eq!(r.read_at(299_990, 100).await.unwrap(), a[299_990..]);
            assert_eq!(r.read_at(1000, 10).await.unwrap(), a[1000..1010]);
            assert_eq!(packs_in(&dir.join("blobs")).len(), 1);

            // Stored but never recorded (the submission's transaction rolled back): not found.
            let c = b"never recorded".to_vec();
            let sha_c = sha256_hex(&c);
            let stored = blobs.put_bytes(c, &sha_c).await.unwrap();
            let mut tx = db.begin().await.unwrap();
            stored.record(&mut tx).await.unwrap();
            drop(tx);
            assert!(blobs.open(&sha_c).await.unwrap().is_none());

            // A later process (a restart) appends to a pack of its own.
            let later = Blobs::packs(dir.join("blobs"), db.clone());
            let sha_d = put(&later, &db, b"after a restart").await;
            let packs = packs_in(&dir.join("blobs"));
            assert_eq!(packs.len(), 2);
            assert_eq!(read_all(&blobs, &sha_d).await.unwrap(), b"after a restart");

            // Purged: the rows go; the first pack goes once idle for two hours, and not before.
            blobs.delete(&sha_a).await.unwrap();
            blobs.delete(&sha_b).await.unwrap();
            assert!(blobs.open(&sha_a).await.unwrap().is_none());
            assert_eq!(later.sweep().await.unwrap(), 0);
            let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 3600);
            for p in &packs {
                std::fs::File::options()
                    .write(true)
                    .open(p)
                    .unwrap()
                    .set_modified(old)
                    .unwrap();
            }
            // `later` appends to the second pack, and sha_d is in it: only the first goes.
            assert_eq!(later.sweep().await.unwrap(), 1);
            assert_eq!(packs_in(&dir.join("blobs")).len(), 1);
            assert_eq!(read_all(&later, &sha_d).await.unwrap(), b"after a restart");
            // Bad digests are refused before anything is touched.
            assert!(blobs.put_bytes(vec![1], "XYZ").await.is_err());
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
}
