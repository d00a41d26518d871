//! The address book (地址簿): what every participant may look up, as JSON or CSV with the
//! open-data columns, searchable with 臺/台 and full/half width treated alike; and the import
//! of a whole address book from CSV, all or nothing.
//!
//! The file the national open data publishes (`ORGID,ORGNAME,STATUSCODE,UPDATETIME`, e.g.
//! `200000000A,總統府,T,2025-12-08 11:23:23`) imports as it is, and exports again with the same
//! letters and times: `STATUSCODE` is `T`, `D` or `F` both ways (see
//! [`ParticipantState::status_code`] for how Gongwen's four states map onto them).

use std::collections::{HashMap, HashSet};

use gongwen_proto::Code;
use gongwen_proto::csv;
use gongwen_proto::directory::{
    ADDRESS_BOOK_COLUMNS, AddressEntry, ParticipantKind, ParticipantState, fold,
};
use gongwen_store::{Db, Row, Tx, sha256_hex};

use crate::audit::{self, NewEntry};
use crate::error::{DirectoryError, Result, bad, duplicate, internal, not_found};
use crate::registry::ParticipantInput;

/// Largest CSV accepted (a national address book of 40,000 lines is about 4 MB).
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;
/// Most lines accepted in one import.
pub const MAX_IMPORT_ROWS: usize = 200_000;

/// `YYYY-MM-DD HH:MM:SS` in Asia/Taipei, the open data's `UPDATETIME`.
pub fn taipei_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Reads the open data's `UPDATETIME` (`YYYY-MM-DD HH:MM:SS`, Asia/Taipei) as Unix
/// milliseconds; `None` when it is not that.
pub fn parse_taipei_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(digits(0..4)?).ok()?,
        month,
        u8::try_from(digits(8..10)?).ok()?,
    )
    .ok()?;
    let t = time::Time::from_hms(
        u8::try_from(digits(11..13)?).ok()?,
        u8::try_from(digits(14..16)?).ok()?,
        u8::try_from(digits(17..19)?).ok()?,
    )
    .ok()?;
    let at = time::PrimitiveDateTime::new(date, t)
        .assume_offset(time::UtcOffset::from_hms(8, 0, 0).ok()?);
    Some(at.unix_timestamp() * 1000)
}

const COLS: &str = "code, name, state, updated_at, kind, center, receive, send";

fn entry_of(r: &Row) -> Result<AddressEntry> {
    let state = r.text(2)?;
    let kind = r.text(4)?;
    let state = ParticipantState::parse(&state)
        .ok_or_else(|| internal(format!("參與者狀態「{state}」")))?;
    Ok(AddressEntry {
        orgid: r.text(0)?,
        orgname: r.text(1)?,
        statuscode: state.status_code().to_string(),
        updatetime: taipei_time(r.i64(3)?),
        kind: ParticipantKind::parse(&kind).unwrap_or(ParticipantKind::Agency),
        center: r.text(5)?,
        receive: r.bool(6)?,
        send: r.bool(7)?,
        state,
    })
}

/// Entries whose code is `query`, or whose folded name contains the folded `query`; every
/// entry without a query. At most `limit`, by code.
pub async fn search(db: &Db, query: Option<&str>, limit: i64) -> Result<Vec<AddressEntry>> {
    let limit = limit.clamp(1, 100_000);
    let rows = match query.map(str::trim).filter(|q| !q.is_empty()) {
        None => {
            db.fetch_all(
                &format!(
                    "SELECT {COLS} FROM dir_participants WHERE listed = 1 ORDER BY code LIMIT $1"
                ),
                &[limit.into()],
            )
            .await?
        }
        Some(q) => {
            let pattern = format!(
                "%{}%",
                fold(q)
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            db.fetch_all(
                &format!(
                    "SELECT {COLS} FROM dir_participants WHERE listed = 1 AND (code = $1 OR name_folded LIKE $2 ESCAPE '\\') \
                     ORDER BY code LIMIT $3"
                ),
                &[fold(q).to_ascii_uppercase().into(), pattern.into(), limit.into()],
            )
            .await?
        }
    };
    rows.iter().map(entry_of).collect()
}

/// The one code whose name is `name` (folded). Two participants with that name is an error
/// that lists both: the address book never guesses.
pub async fn resolve(db: &Db, name: &str) -> Result<AddressEntry> {
    let rows = db
        .fetch_all(
            &format!("SELECT {COLS} FROM dir_participants WHERE listed = 1 AND name_folded = $1 ORDER BY code LIMIT 20"),
            &[fold(name).into()],
        )
        .await?;
    let mut found: Vec<AddressEntry> = rows.iter().map(entry_of).collect::<Result<_>>()?;
    match found.len() {
        0 => Err(not_found(format!("通訊錄沒有名稱為「{name}」的機關"))),
        1 => Ok(found.remove(0)),
        _ => Err(bad(format!(
            "名稱「{name}」對應多個機關代碼，請以代碼指定：{}",
            found
                .iter()
                .map(|e| format!("{}（{}）", e.orgid, e.orgname))
                .collect::<Vec<_>>()
                .join("、")
        ))),
    }
}

/// The address book as CSV (UTF-8 with BOM, CRLF): the open-data columns first, as the
/// national file has them (`STATUSCODE` `T`, `D` or `F`; `UPDATETIME` `YYYY-MM-DD HH:MM:SS`),
/// then Gongwen's, `STATE` last (暫停 and 中止 are both `D`; `STATE` tells them apart).
pub fn to_csv(entries: &[AddressEntry]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&csv::line(&ADDRESS_BOOK_COLUMNS));
    for e in entries {
        out.push_str(&csv::line(&[
            e.orgid.as_str(),
            e.orgname.as_str(),
            e.statuscode.as_str(),
            e.updatetime.as_str(),
            e.kind.as_str(),
            e.center.as_str(),
            if e.receive { "1" } else { "0" },
            if e.send { "1" } else { "0" },
            e.state.as_str(),
        ]));
    }
    out
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub added: usize,
    /// SHA-256 of the file, as recorded in the log.
    pub sha256: String,
}

fn import_err(line: usize, detail: impl std::fmt::Display) -> DirectoryError {
    DirectoryError::new(Code::DirImport, format!("第 {line} 行：{detail}"))
}

fn flag(line: usize, column: &str, v: &str) -> Result<bool> {
    match v.trim() {
        "" | "1" | "Y" | "y" | "是" | "true" => Ok(true),
        "0" | "N" | "n" | "否" | "false" => Ok(false),
        other => Err(import_err(
            line,
            format!("{column} 欄「{other}」應為 1 或 0"),
        )),
    }
}

/// Loads an address book: a header with at least `ORGID` and `ORGNAME`, and any of
/// `STATUSCODE`, `UPDATETIME`, `KIND`, `CENTER`, `RECEIVE`, `SEND`, `UBN`, `AUTHORITY`,
/// `STATE` (others are ignored). The file may start with a BOM; lines end in CRLF or LF.
///
/// - `STATUSCODE`: `T` 正常, `D` 中止, `F` 註銷 as published; the digits 0–3 of Gongwen's
///   older exports are read too ([`ParticipantState::from_status_code`]). Empty: 正常.
/// - `STATE`: Gongwen's own state word (`suspended` …) or label (暫停 …), written by its
///   exports so that 暫停 survives a move; it must agree with `STATUSCODE` and wins over it.
/// - `UPDATETIME`: `YYYY-MM-DD HH:MM:SS` Asia/Taipei, kept as the entry's last change (the
///   export shows it again); empty: the time of the import.
///
/// Rows without a center go to `default_center`. Every code must be new — an import adds
/// participants and never changes one already registered, so it cannot overwrite a finer
/// state (暫停) with a file's coarser letter. The whole file goes in, or nothing does: the
/// first bad line is named in an `E_DIR_IMPORT` (or `E_DIR_DUPLICATE`) error.
pub async fn import_csv(
    db: &Db,
    text: &str,
    default_center: Option<&str>,
    actor: &str,
    now: i64,
) -> Result<ImportSummary> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(DirectoryError::new(
            Code::DirImport,
            format!("檔案有 {} 位元組，超過上限 {MAX_IMPORT_BYTES}", text.len()),
        ));
    }
    if csv::count_lines(text) > MAX_IMPORT_ROWS + 1 {
        return Err(DirectoryError::new(
            Code::DirImport,
            format!("檔案超過 {MAX_IMPORT_ROWS} 列"),
        ));
    }
    let sha256 = sha256_hex(text.as_bytes());
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records =
        csv::parse(body, 32).map_err(|e| DirectoryError::new(Code::DirImport, e.to_string()))?;
    let mut records = records.into_iter();
    let header = records
        .next()
        .ok_or_else(|| DirectoryError::new(Code::DirImport, "檔案是空的（沒有標題列）"))?;
    let col: HashMap<String, usize> = header
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.trim().to_ascii_uppercase(), i))
        .collect();
    for needed in ["ORGID", "ORGNAME"] {
        if !col.contains_key(needed) {
            return Err(import_err(
                header.line,
                format!("標題列沒有 {needed} 欄（至少要有 ORGID、ORGNAME）"),
            ));
        }
    }
    // A column's value on a row, trimmed; `None` when the column is missing or the cell blank.
    let get = |r: &csv::Record, name: &str| {
        col.get(name)
            .map(|&i| r.field(i).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let mut rows: Vec<(usize, ParticipantInput, ParticipantState, i64)> = Vec::new();
    let mut lines: HashMap<String, usize> = HashMap::new();
    for r in records {
        if r.count > header.count && r.fields.iter().skip(header.count).any(|f| !f.is_empty()) {
            return Err(import_err(
                r.line,
                format!("有 {} 個欄位，標題列只有 {} 個", r.count, header.count),
            ));
        }
        let line = r.line;
        let code = get(&r, "ORGID").unwrap_or_default().to_ascii_uppercase();
        let name = get(&r, "ORGNAME").unwrap_or_default();
        let status = match get(&r, "STATUSCODE") {
            None => None,
            Some(s) => Some(ParticipantState::from_status_code(&s).ok_or_else(|| {
                import_err(
                    line,
                    format!("STATUSCODE「{s}」應為 T（正常）、D（中止）或 F（註銷）"),
                )
            })?),
        };
        let state = match get(&r, "STATE") {
            None => status.unwrap_or(ParticipantState::Active),
            Some(s) => {
                let state = ParticipantState::parse(&s).ok_or_else(|| {
                    import_err(
                        line,
                        format!("STATE「{s}」應為 active、suspended、terminated 或 cancelled"),
                    )
                })?;
                if let Some(st) = status.filter(|st| st.status_code() != state.status_code()) {
                    return Err(import_err(
                        line,
                        format!(
                            "STATE「{s}」與 STATUSCODE「{}」不符（{}應為 {}）",
                            st.status_code(),
                            state.label(),
                            state.status_code()
                        ),
                    ));
                }
                state
            }
        };
        let updated_at = match get(&r, "UPDATETIME") {
            None => now,
            Some(s) => parse_taipei_time(&s).ok_or_else(|| {
                import_err(
                    line,
                    format!("UPDATETIME「{s}」應為「年-月-日 時:分:秒」，例如 2025-12-08 11:23:23"),
                )
            })?,
        };
        let kind = match get(&r, "KIND") {
            None => ParticipantKind::Agency,
            Some(s) => ParticipantKind::parse(&s).ok_or_else(|| {
                import_err(
                    line,
                    format!(
                        "KIND「{s}」應為 agency、school、public_enterprise、organisation 或 company"
                    ),
                )
            })?,
        };
        let center = get(&r, "CENTER")
            .or_else(|| default_center.map(String::from))
            .ok_or_else(|| {
                import_err(line, "沒有 CENTER 欄，也沒有指定預設交換中心（--center）")
            })?;
        let p = ParticipantInput {
            code: code.clone(),
            name,
            kind,
            ubn: get(&r, "UBN"),
            authority: get(&r, "AUTHORITY"),
            center,
            receive: flag(line, "RECEIVE", &get(&r, "RECEIVE").unwrap_or_default())?,
            send: flag(line, "SEND", &get(&r, "SEND").unwrap_or_default())?,
            operator: false,
            contact_name: None,
            contact_phone: None,
            contact_email: None,
        };
        p.check().map_err(|e| import_err(line, e.detail))?;
        if let Some(first) = lines.insert(code.clone(), line) {
            return Err(duplicate(format!(
                "第 {line} 行：機關代碼 {code} 與第 {first} 行重複"
            )));
        }
        rows.push((line, p, state, updated_at));
    }
    if rows.is_empty() {
        return Err(DirectoryError::new(
            Code::DirImport,
            "檔案只有標題列，沒有資料",
        ));
    }

    let mut tx = db.begin().await?;
    let mut head = audit::lock_head(&mut tx).await?;
    let existing = keys(&mut tx, "SELECT code FROM dir_participants").await?;
    let centers = keys(&mut tx, "SELECT id FROM dir_centers").await?;
    for (line, p, _, _) in &rows {
        if existing.contains(&p.code) {
            return Err(duplicate(format!(
                "第 {line} 行：機關代碼 {} 已在通訊錄中",
                p.code
            )));
        }
        if !centers.contains(&p.center) {
            return Err(import_err(*line, format!("交換中心「{}」未登記", p.center)));
        }
    }
    for (_, p, state, updated_at) in &rows {
        crate::registry::insert_row(&mut tx, p, *state, now, *updated_at).await?;
        audit::append_after(
            &mut tx,
            &mut head,
            NewEntry {
                at: now,
                actor: actor.to_string(),
                action: "participant.imported".into(),
                subject: p.code.clone(),
                detail: serde_json::to_string(&(p, state, &sha256)).unwrap_or_default(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ImportSummary {
        added: rows.len(),
        sha256,
    })
}

/// The first column of every row `sql` selects.
async fn keys(tx: &mut Tx, sql: &str) -> Result<HashSet<String>> {
    let rows = tx.fetch_all(sql, &[]).await?;
    Ok(rows.iter().map(|r| r.text(0)).collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_time_is_taipei() {
        // 2026-01-05 00:30 UTC is 08:30 in Taipei.
        assert_eq!(taipei_time(1_767_573_000_000), "2026-01-05 08:30:00");
    }

    #[test]
    fn update_time_reads_back() {
        for t in [
            "2025-12-08 11:23:23",
            "2026-01-05 08:30:00",
            "2024-02-29 00:00:00",
        ] {
            let ms = parse_taipei_time(t).unwrap();
            assert_eq!(taipei_time(ms), t);
        }
        assert_eq!(
            parse_taipei_time("2026-01-05 08:30:00"),
            Some(1_767_573_000_000)
        );
        for bad in [
            "",
            "2025-12-08",
            "2025/12/08 11:23:23",
            "2025-12-08T11:23:23",
            "2025-13-08 11:23:23",
            "2025-02-30 11:23:23",
            "2025-12-08 24:00:00",
            "2025-12-08 11:23:2x",
            "+025-12-08 11:23:23",
            "２０２５-12-08 11:23:23",
        ] {
            assert_eq!(parse_taipei_time(bad), None, "{bad}");
        }
    }
}
