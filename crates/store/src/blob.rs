//! Sealed packages, stored by the SHA-256 of their bytes: on the local filesystem (the
//! default) or in the database (so several center processes can share one PostgreSQL).
//!
//! Files are written beside their final place, fsync'd, renamed and the folder fsync'd: a blob
//! that exists is whole.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::{Db, StoreError, Value};

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

#[derive(Clone)]
pub enum Blobs {
    Fs { dir: PathBuf },
    Db(Db),
}

/// Writes `data` to `path` through a temporary file, fsync'd, renamed, folder fsync'd.
pub fn write_durably(path: &Path, data: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
    f.write_all(data).map_err(|e| StoreError::io(&tmp, e))?;
    f.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| StoreError::io(path, e))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

impl Blobs {
    fn path(dir: &Path, sha: &str) -> PathBuf {
        dir.join(&sha[..2]).join(sha)
    }

    pub fn engine(&self) -> &'static str {
        match self {
            Blobs::Fs { .. } => "fs",
            Blobs::Db(_) => "db",
        }
    }

    /// Stores the file at `spooled` (already fsync'd by the caller or not: this syncs it)
    /// under `sha`, which the caller computed while receiving it. The spooled file is consumed.
    pub async fn put_file(&self, spooled: &Path, sha: &str) -> Result<(), StoreError> {
        check_sha(sha)?;
        match self {
            Blobs::Fs { dir } => {
                let dest = Self::path(dir, sha);
                let spooled = spooled.to_path_buf();
                tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
                    let f =
                        std::fs::File::open(&spooled).map_err(|e| StoreError::io(&spooled, e))?;
                    f.sync_all().map_err(|e| StoreError::io(&spooled, e))?;
                    let parent = dest.parent().unwrap_or(Path::new("."));
                    std::fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
                    if dest.exists() {
                        // Same digest, same bytes: keep the one we have.
                        let _ = std::fs::remove_file(&spooled);
                        return Ok(());
                    }
                    std::fs::rename(&spooled, &dest).map_err(|e| StoreError::io(&dest, e))?;
                    sync_dir(parent)
                })
                .await
                .map_err(|e| StoreError::Db {
                    detail: e.to_string(),
                })?
            }
            Blobs::Db(db) => {
                let data = tokio::fs::read(spooled)
                    .await
                    .map_err(|e| StoreError::io(spooled, e))?;
                let size = data.len() as i64;
                let sql = if db.is_postgres() {
                    "INSERT INTO blobs (sha256, size, data) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING"
                } else {
                    "INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES ($1, $2, $3)"
                };
                db.execute(sql, &[sha.into(), size.into(), data.into()])
                    .await?;
                let _ = tokio::fs::remove_file(spooled).await;
                Ok(())
            }
        }
    }

    /// The blob's size, or `None` when it is not here (never stored, or purged).
    pub async fn size(&self, sha: &str) -> Result<Option<u64>, StoreError> {
        check_sha(sha)?;
        match self {
            Blobs::Fs { dir } => match tokio::fs::metadata(Self::path(dir, sha)).await {
                Ok(m) => Ok(Some(m.len())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(StoreError::io(&Self::path(dir, sha), e)),
            },
            Blobs::Db(db) => Ok(db
                .fetch_optional("SELECT size FROM blobs WHERE sha256 = $1", &[sha.into()])
                .await?
                .map(|r| r.i64(0))
                .transpose()?
                .map(|n| n as u64)),
        }
    }

    /// Bytes `start..start+len` of a blob (a chunk of a streamed download).
    pub async fn read_at(&self, sha: &str, start: u64, len: usize) -> Result<Vec<u8>, StoreError> {
        check_sha(sha)?;
        match self {
            Blobs::Fs { dir } => {
                let path = Self::path(dir, sha);
                tokio::task::spawn_blocking(move || -> Result<Vec<u8>, StoreError> {
                    let mut f = std::fs::File::open(&path).map_err(|e| StoreError::io(&path, e))?;
                    f.seek(SeekFrom::Start(start))
                        .map_err(|e| StoreError::io(&path, e))?;
                    let mut buf = Vec::with_capacity(len);
                    f.take(len as u64)
                        .read_to_end(&mut buf)
                        .map_err(|e| StoreError::io(&path, e))?;
                    Ok(buf)
                })
                .await
                .map_err(|e| StoreError::Db {
                    detail: e.to_string(),
                })?
            }
            Blobs::Db(db) => {
                let row = db
                    .fetch_optional(
                        "SELECT substr(data, CAST($2 AS INTEGER), CAST($3 AS INTEGER)) FROM blobs WHERE sha256 = $1",
                        &[sha.into(), Value::from(start as i64 + 1), Value::from(len as i64)],
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

    pub async fn delete(&self, sha: &str) -> Result<(), StoreError> {
        check_sha(sha)?;
        match self {
            Blobs::Fs { dir } => match tokio::fs::remove_file(Self::path(dir, sha)).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(StoreError::io(&Self::path(dir, sha), e)),
            },
            Blobs::Db(db) => db
                .execute("DELETE FROM blobs WHERE sha256 = $1", &[sha.into()])
                .await
                .map(|_| ()),
        }
    }
}
