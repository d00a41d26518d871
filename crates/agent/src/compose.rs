//! A document written from a draft (JSON from a document system, later the web client's
//! form): the 發文字號 taken from the agency's yearly series when the draft has none, the DI
//! and SW written, and the uploaded attachments put under the names the DI declares — into a
//! staged folder that `send::send_staged` seals and submits.

use std::path::{Path, PathBuf};

use gongwen_doc::RocDate;
use gongwen_doc::draft::{Draft, DraftIssuer, DraftNumber, OneOrMany};
use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_store::Db;

use crate::folder::{self, OutboxSet};

/// Takes the next serial of `agency`'s series for ROC `year`. Serials are never reused; a
/// send refused before it left gives its number back only if no later one was taken.
pub async fn next_number(db: &Db, agency: &str, year: u16) -> Result<u32, Refusal> {
    let mut tx = db.begin().await?;
    for sql in [
        "INSERT INTO agent_numbers (agency, year, last) VALUES ($1, $2, 0) ON CONFLICT (agency, year) DO NOTHING",
        "UPDATE agent_numbers SET last = last + 1 WHERE agency = $1 AND year = $2",
    ] {
        tx.execute(sql, &[agency.into(), i64::from(year).into()])
            .await?;
    }
    let last = tx
        .fetch_optional(
            "SELECT last FROM agent_numbers WHERE agency = $1 AND year = $2",
            &[agency.into(), i64::from(year).into()],
        )
        .await?
        .map(|r| r.i64(0))
        .transpose()?
        .unwrap_or(0);
    tx.commit().await?;
    u32::try_from(last).map_err(|_| Refusal::new(Code::Internal, "發文字號流水號超出範圍"))
}

/// Gives a serial back when it is still the last one taken (the send never left).
pub async fn give_back(db: &Db, agency: &str, year: u16, serial: u32) -> Result<(), Refusal> {
    db.execute(
        "UPDATE agent_numbers SET last = last - 1 WHERE agency = $1 AND year = $2 AND last = $3",
        &[
            agency.into(),
            i64::from(year).into(),
            i64::from(serial).into(),
        ],
    )
    .await?;
    Ok(())
}

/// What the agency fills in when a draft leaves it out.
pub struct Defaults<'a> {
    pub code: &'a str,
    /// 機關全銜.
    pub name: Option<&'a str>,
    /// 發文代字 (e.g. 北市教); with it a draft without 發文字號 gets the next serial.
    pub word: Option<&'a str>,
}

impl<'a> Defaults<'a> {
    /// The agency's own.
    pub fn of(a: &'a crate::Agency) -> Self {
        Defaults {
            code: a.code.as_str(),
            name: a.name.as_deref(),
            word: a.word.as_deref(),
        }
    }
}

/// Today's date in Taipei, as a document is dated.
pub(crate) fn today(node: &crate::Node) -> Result<RocDate, Refusal> {
    RocDate::from_unix_taipei(node.clock.now_s())
        .map_err(|e| Refusal::new(Code::Internal, e.message))
}

/// A number taken for a draft, to give back if the send is refused.
#[derive(Debug, Clone, Copy)]
pub struct Taken {
    pub year: u16,
    pub serial: u32,
}

/// Fills in 發文機關 and 發文字號 where the draft has none. The issuer must be the agency.
pub async fn complete(
    db: &Db,
    draft: &mut Draft,
    d: &Defaults<'_>,
    today: RocDate,
) -> Result<Option<Taken>, Refusal> {
    if draft.issuers.is_empty() {
        draft.issuers.push(DraftIssuer {
            full_name: d.name.map(str::to_string),
            agency_code: d.code.to_string(),
            ..Default::default()
        });
    }
    if let Some(other) = draft
        .issuers
        .iter()
        .find(|i| i.agency_code.trim() != d.code)
    {
        return Err(Refusal::new(
            Code::AgentDocument,
            format!(
                "發文機關代碼「{}」不是本機關（{}）",
                other.agency_code, d.code
            ),
        ));
    }
    if !draft.numbers.is_empty() {
        return Ok(None);
    }
    let Some(word) = d.word else {
        return Err(Refusal::new(
            Code::AgentDocument,
            "草稿沒有發文字號，本機關也沒有設定發文代字（agencies.word），無法編號",
        ));
    };
    let year = match &draft.date {
        Some(s) => {
            RocDate::parse(s)
                .map_err(|e| Refusal::new(Code::AgentDocument, format!("發文日期：{}", e.message)))?
                .year
        }
        None => today.year,
    };
    let serial = next_number(db, d.code, year).await?;
    draft.numbers = OneOrMany::One(DraftNumber::Parts {
        word: word.to_string(),
        year,
        serial,
        branch: None,
    });
    Ok(Some(Taken { year, serial }))
}

/// Writes a draft's DI and SW into `dir` and links the uploads (files uploaded in the same
/// request into `uploads`, named by their bare names) under the names the DI declares. One DI + SW for all recipients: 分繕 is for the
/// document system to do, one send per copy.
pub fn stage(
    draft: &Draft,
    today: RocDate,
    uploads: &Path,
    dir: &Path,
) -> Result<OutboxSet, Refusal> {
    let bad = |m: String| Refusal::new(Code::AgentDocument, m);
    if draft.split {
        return Err(bad("經由 API 送出的公文不分繕；請每個受文者各送一份".into()));
    }
    let built = build(draft, today)?;
    let io =
        |p: &Path, e: std::io::Error| Refusal::new(Code::Internal, format!("{}：{e}", p.display()));
    crate::folder::private_dir(dir).map_err(|e| io(dir, e))?;
    for a in &built.attachments {
        let src = uploaded(uploads, &a.source)?;
        let to = dir.join(&a.file);
        link_or_copy(&src, &to).map_err(|e| io(&to, e))?;
    }
    let di_text = gongwen_doc::write_di(&built.di).map_err(|e| bad(e.to_string()))?;
    let di_path = dir.join(format!("{}.di", built.base));
    if built.di.roster.is_some() {
        let sw = gongwen_doc::write_roster(&built.roster).map_err(|e| bad(e.to_string()))?;
        let sw_path = dir.join(format!("{}.sw", built.base));
        folder::write_atomically(&sw_path, sw.as_bytes()).map_err(|e| io(&sw_path, e))?;
    }
    folder::write_atomically(&di_path, di_text.as_bytes()).map_err(|e| io(&di_path, e))?;
    let name = folder::dir_name(dir);
    Ok(folder::declared_set(dir, &di_path, name)?)
}

/// The document a draft makes on `today`, or all that is wrong with it.
pub fn build(draft: &Draft, today: RocDate) -> Result<gongwen_doc::draft::Built, Refusal> {
    draft.build(today).map_err(|problems| {
        let all: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        Refusal::new(Code::AgentDocument, all.join("；"))
    })
}

/// Is `name` a plain file name as an upload may carry: 1 to 100 characters, no folder, not
/// hidden? Only such names are ever joined to a folder.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 100
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name != ".."
}

/// The file a draft's 附件.檔案 entry names: one uploaded in the same request, by its bare
/// name, a regular file in the request's own staging folder (never a link, never a path).
fn uploaded(uploads: &Path, name: &str) -> Result<PathBuf, Refusal> {
    let missing = || {
        Refusal::new(
            Code::AgentDocument,
            format!(
                "草稿「附件」列了「{}」，但這次請求沒有上傳這個檔案；附件須以檔名指稱同一請求上傳的檔案",
                name.chars().take(100).collect::<String>()
            ),
        )
    };
    if !plain_name(name) {
        return Err(missing());
    }
    let path = uploads.join(name);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_file() => Ok(path),
        _ => Err(missing()),
    }
}

/// Puts a staged upload under its declared name: a hard link within the request's folder, or
/// a copy where links are not possible. The upload itself stays where it was.
fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to)?;
    }
    Ok(())
}

/// A DI (and SW, attachments) uploaded as they are: the set they make in `dir`, with every
/// declared file present.
pub fn staged_files(dir: &Path, di: &Path) -> Result<OutboxSet, Refusal> {
    let name = folder::dir_name(dir);
    let set = folder::declared_set(dir, di, name)?;
    let missing: Vec<String> = set
        .files()
        .iter()
        .filter(|f| !f.is_file())
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if !missing.is_empty() {
        return Err(Refusal::new(
            Code::AgentDocument,
            format!("DI 宣告的檔案沒有上傳：{}", missing.join("、")),
        ));
    }
    Ok(set)
}

/// Files in a staged set that the DI does not declare are not sent; say so rather than
/// drop them silently.
pub fn undeclared(set: &OutboxSet, dir: &Path) -> Vec<String> {
    let declared: Vec<PathBuf> = set.files();
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && !declared.contains(p))
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default()
}
