//! The bodies of packages submitted lately, for their recipients' downloads.
//!
//! A download otherwise begins with a reader query (may this recipient fetch it, and where do
//! its bytes lie). On SQLite every commit empties the readers' page cache, so on a busy center
//! that query read a dozen pages back from the WAL for each document, though recipients mostly
//! fetch what came in a moment ago. What a download checks is settled when the package is
//! accepted (its recipients here, its bytes in a pack) and changes only when the body is purged,
//! which forgets it here. Kept only where one process owns the database (SQLite) and the packs
//! (files): with several processes on one PostgreSQL, another one may purge.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use gongwen_store::BlobReader;

/// How many packages are remembered; each costs a few hundred bytes.
const KEEP: usize = 10_000;

pub struct RecentBodies {
    /// Off for PostgreSQL and for bodies kept in the database.
    on: bool,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<String, Body>,
    /// Oldest first, for forgetting when full.
    order: VecDeque<String>,
}

struct Body {
    sha: String,
    size: u64,
    /// Recipients whose copy is available here.
    recipients: Vec<String>,
    reader: BlobReader,
}

impl RecentBodies {
    pub fn new(on: bool) -> Self {
        RecentBodies {
            on,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn put(
        &self,
        id: &str,
        sha: &str,
        size: u64,
        recipients: impl Iterator<Item = String>,
        reader: BlobReader,
    ) {
        if !self.on {
            return;
        }
        let body = Body {
            sha: sha.to_string(),
            size,
            recipients: recipients.collect(),
            reader,
        };
        let mut inner = self.lock();
        if inner.by_id.insert(id.to_string(), body).is_none() {
            inner.order.push_back(id.to_string());
        }
        while inner.order.len() > KEEP {
            if let Some(old) = inner.order.pop_front() {
                inner.by_id.remove(&old);
            }
        }
    }

    /// The body of package `id` for `recipient`, when remembered and theirs to fetch; `None`
    /// means ask the database.
    pub fn get(&self, id: &str, recipient: &str) -> Option<BodyRef> {
        let inner = self.lock();
        let b = inner.by_id.get(id)?;
        b.recipients
            .iter()
            .any(|r| r == recipient)
            .then(|| BodyRef {
                sha: b.sha.clone(),
                size: b.size,
                reader: Some(b.reader.clone()),
            })
    }

    pub fn forget(&self, id: &str) {
        let mut inner = self.lock();
        if inner.by_id.remove(id).is_some() {
            inner.order.retain(|o| o != id);
        }
    }
}

/// A recipient's body: where it lies, if this recipient may fetch it.
pub struct BodyRef {
    pub sha: String,
    pub size: u64,
    pub reader: Option<gongwen_store::BlobReader>,
}
