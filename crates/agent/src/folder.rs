//! Folder mode, the way jAgent is used: per agency `outbox/` (drop a DI, its SW and its
//! attachments), `sent/<name>/` (the set and `status.json` once the center has it),
//! `error/<name>/` (the set, `原因.txt` and `error.json` when it was refused), and
//! `inbox/<package id>/` (DI, SW, attachments and `receipt.json`, appearing all at once).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::AgentError;

/// The four folders of one agency.
#[derive(Debug, Clone)]
pub struct Folders {
    pub outbox: PathBuf,
    pub sent: PathBuf,
    pub error: PathBuf,
    pub inbox: PathBuf,
}

impl Folders {
    pub fn under(root: &Path) -> Folders {
        Folders {
            outbox: root.join("outbox"),
            sent: root.join("sent"),
            error: root.join("error"),
            inbox: root.join("inbox"),
        }
    }

    /// Creates the four folders; the inbox gets `inbox_dir_mode` (the document system reads
    /// there), the others are left to the operator (the document system writes the outbox).
    pub fn create(&self, inbox_dir_mode: u32) -> std::io::Result<()> {
        for d in [&self.outbox, &self.sent, &self.error, &self.inbox] {
            std::fs::create_dir_all(d)?;
        }
        set_mode(&self.inbox, inbox_dir_mode)
    }
}

pub use gongwen_store::{private_dir, set_mode};

/// Creates (or truncates) a file only the node may read (0600).
pub fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// Gives a received set in a folder-mode inbox the configured modes (before it is moved in
/// place): `file_mode` for its files, `dir_mode` for its folders.
pub fn share(dir: &Path, file_mode: u32, dir_mode: u32) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            share(&e.path(), file_mode, dir_mode)?;
        } else {
            set_mode(&e.path(), file_mode)?;
        }
    }
    set_mode(dir, dir_mode)
}

/// A set found in an outbox: the DI, and the files it declares (SW, attachments).
#[derive(Debug, Clone, Default)]
pub struct OutboxSet {
    /// The DI's file name without `.di`.
    pub name: String,
    pub di: PathBuf,
    pub sw: Option<PathBuf>,
    pub attachments: Vec<PathBuf>,
    /// `<DI 檔名>.options.toml` when the set has one ([`crate::options`]).
    pub options: Option<PathBuf>,
}

impl OutboxSet {
    pub fn files(&self) -> Vec<PathBuf> {
        let mut out = vec![self.di.clone()];
        out.extend(self.sw.clone());
        out.extend(self.attachments.clone());
        out.extend(self.options.clone());
        out
    }

    /// Writes the options beside the set's DI and adds them to the set; nothing when there
    /// are none.
    pub fn attach_options(&mut self, o: &crate::options::SendOptions) -> std::io::Result<()> {
        if o.is_empty() {
            return Ok(());
        }
        let path = crate::options::path_beside(&self.di);
        let text = toml::to_string(o).map_err(std::io::Error::other)?;
        write_atomically(&path, text.as_bytes())?;
        self.options = Some(path);
        Ok(())
    }
}

/// What the outbox holds now.
#[derive(Debug, Default)]
pub struct Scanned {
    /// Complete sets, unchanged for `settle`.
    pub ready: Vec<OutboxSet>,
    /// DIs that cannot be read (with why), once they have settled too.
    pub broken: Vec<(OutboxSet, String)>,
    /// DIs some of whose declared files are not there: still being copied in, or a set whose
    /// move to sent/ or error/ was cut short (the DI goes last).
    pub incomplete: Vec<OutboxSet>,
}

/// What the outbox holds now: see [`Scanned`].
pub fn scan(outbox: &Path, settle: Duration) -> Scanned {
    let mut out = Scanned::default();
    let Ok(rd) = std::fs::read_dir(outbox) else {
        return out;
    };
    let mut dis: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_di(p))
        .collect();
    dis.sort();
    let settled = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age >= settle)
    };
    for di in dis {
        let name = di
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !settled(&di) {
            continue;
        }
        let alone = OutboxSet {
            name: name.clone(),
            di: di.clone(),
            ..Default::default()
        };
        let set = match declared_set(outbox, &di, name) {
            Ok(s) => s,
            Err(why) => {
                out.broken.push((alone, why.to_string()));
                continue;
            }
        };
        // Not all there yet, or still being written: next time.
        if set.files().iter().all(|f| f.is_file() && settled(f)) {
            out.ready.push(set);
        } else if set.files().iter().any(|f| !f.is_file()) {
            out.incomplete.push(set);
        }
    }
    out
}

fn is_di(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("di"))
}

/// A DI in `dir`, if there is one.
pub fn find_di(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| is_di(p))
}

/// A path's last part: a staged set's name (its folder's), a file's name.
pub fn dir_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The set a DI in `dir` declares: its SW and attachments, expected beside it.
pub fn declared_set(dir: &Path, di: &Path, name: String) -> Result<OutboxSet, AgentError> {
    let bytes = std::fs::read(di).map_err(AgentError::io(di))?;
    let declared = gongwen_doc::read_di(&bytes).map_err(AgentError::Di)?;
    let options = crate::options::path_beside(&dir.join(di.file_name().unwrap_or_default()));
    Ok(OutboxSet {
        options: options.is_file().then_some(options),
        name,
        di: di.to_path_buf(),
        sw: declared.roster.as_ref().map(|r| dir.join(&r.file)),
        attachments: declared
            .attachment_files
            .iter()
            .map(|f| dir.join(&f.file))
            .collect(),
    })
}

/// Moves a set's files into `dest/<name>/` (created), renaming where it can and copying
/// otherwise; a file already gone (moved before a crash) is skipped. The DI goes last: while
/// it is in the outbox the set is found again, so a move cut short is finished next round.
pub fn move_set(set: &OutboxSet, dest: &Path) -> std::io::Result<PathBuf> {
    let dir = dest.join(&set.name);
    std::fs::create_dir_all(&dir)?;
    let mut files = set.files();
    files.rotate_left(1);
    for f in files {
        let Some(file_name) = f.file_name() else {
            continue;
        };
        if !f.exists() {
            continue;
        }
        let to = dir.join(file_name);
        if std::fs::rename(&f, &to).is_err() {
            std::fs::copy(&f, &to)?;
            std::fs::remove_file(&f)?;
        }
    }
    Ok(dir)
}

/// Writes `bytes` to `path` whole or not at all (temporary file, synced, renamed), for the
/// node alone (0600).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = private_file(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
