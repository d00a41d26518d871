//! What each version of a case's documents is, for showing it: a 簽 or 稿 (the JSON of a
//! draft), a received DI or SW, a scan (PDF, TIFF), text, or bytes to download. Told from the
//! first bytes, so a case page never reads whole scans; each download gets a plain ASCII file
//! name made from the case, the document and the version, never from anything a sender wrote.

use gongwen_store::Db;

use crate::OfficeError;

/// How much of each version the case page reads to tell what it is.
pub const HEAD_BYTES: i64 = 512;

/// Largest version shown in the page (printed in a frame); larger ones are downloaded.
pub const MAX_SHOWN_BYTES: i64 = 10 * 1024 * 1024;

/// What a version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A 簽 or 稿 as kept by the drafting form (JSON).
    Draft,
    /// A received 公文 (DI, XML).
    Di,
    /// A received 交換表單 (SW, XML).
    Roster,
    Pdf,
    Tiff,
    Text,
    Binary,
}

impl Shape {
    /// Shown in the page as it prints (or as text); otherwise only downloaded.
    pub fn shown(self) -> bool {
        matches!(self, Shape::Draft | Shape::Di | Shape::Roster | Shape::Text)
    }

    pub fn mime(self) -> &'static str {
        match self {
            Shape::Draft => "application/json",
            Shape::Di | Shape::Roster => "application/xml",
            Shape::Pdf => "application/pdf",
            Shape::Tiff => "image/tiff",
            Shape::Text => "text/plain; charset=utf-8",
            Shape::Binary => "application/octet-stream",
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Shape::Draft => "json",
            Shape::Di => "di",
            Shape::Roster => "sw",
            Shape::Pdf => "pdf",
            Shape::Tiff => "tif",
            Shape::Text => "txt",
            Shape::Binary => "bin",
        }
    }

    /// What it is, for people.
    pub fn label(self) -> &'static str {
        match self {
            Shape::Draft => "文稿",
            Shape::Di => "公文本文（DI）",
            Shape::Roster => "交換表單（SW）",
            Shape::Pdf => "PDF",
            Shape::Tiff => "TIFF 影像",
            Shape::Text => "文字",
            Shape::Binary => "檔案",
        }
    }
}

/// The zh-TW name of a version's kind.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "incoming" => "來文",
        "scan" => "掃描檔",
        "memo" => "簽",
        "draft" => "稿",
        _ => "文件",
    }
}

/// What a version of `kind` is, from its first bytes (or all of them).
pub fn shape(kind: &str, head: &[u8]) -> Shape {
    if head.starts_with(b"%PDF") {
        return Shape::Pdf;
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return Shape::Tiff;
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let text = &text[start..];
    // The head may end inside a character: only an invalid sequence before the end counts.
    let utf8 = match std::str::from_utf8(text) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    if !utf8 {
        return Shape::Binary;
    }
    if matches!(kind, "memo" | "draft") && text.starts_with(b"{") {
        return Shape::Draft;
    }
    if text.starts_with(b"<") {
        // The SW's root element (a DI names its SW in an attribute of 交換表, never so).
        let t = String::from_utf8_lossy(text);
        let roster = t.contains("<交換表單") || t.contains("DOCTYPE 交換表單");
        return if roster { Shape::Roster } else { Shape::Di };
    }
    Shape::Text
}

/// The download name of a version: `1150000012-draft-1-v2.json`, ASCII only.
pub fn file_name(case: &str, doc: &str, version: i64, shape: Shape) -> String {
    let plain = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(40)
            .collect()
    };
    format!("{}-{}-v{version}.{}", plain(case), plain(doc), shape.ext())
}

/// A `Content-Disposition` with a name that needs no quoting rules (ASCII letters, digits,
/// `-` and `.` only).
pub fn disposition(kind: &str, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{kind}; filename=\"{safe}\"")
}

/// The start and size of one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub doc: String,
    pub version: i64,
    pub size: i64,
    pub head: Vec<u8>,
}

/// The first [`HEAD_BYTES`] and the size of every version of a case.
pub async fn heads(db: &Db, case_id: &str) -> Result<Vec<Head>, OfficeError> {
    let rows = db
        .fetch_all(
            // The length is a literal: PostgreSQL's substr takes an integer, not a bound bigint.
            &format!("SELECT doc, version, CAST(length(content) AS BIGINT) AS size, substr(content, 1, {HEAD_BYTES}) AS head FROM office_versions WHERE case_id = $1 ORDER BY doc, version"),
            &[case_id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Head {
                doc: r.text("doc")?,
                version: r.i64("version")?,
                size: r.i64("size")?,
                head: r.bytes("head")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_told_by_their_first_bytes() {
        assert_eq!(shape("scan", b"%PDF-1.4 ..."), Shape::Pdf);
        assert_eq!(shape("scan", b"II*\0\x08\0"), Shape::Tiff);
        assert_eq!(shape("memo", "{\"文別\":\"簽\"}".as_bytes()), Shape::Draft);
        assert_eq!(shape("memo", "簽：擬復如稿".as_bytes()), Shape::Text);
        assert_eq!(
            shape("incoming", "\u{feff}<?xml version=\"1.0\"?><函>".as_bytes()),
            Shape::Di
        );
        assert_eq!(
            shape("incoming", "<?xml?><交換表單>".as_bytes()),
            Shape::Roster
        );
        assert_eq!(
            shape(
                "incoming",
                "<?xml?><!DOCTYPE 函><函><受文者><交換表 交換表單=\"表單\">".as_bytes()
            ),
            Shape::Di
        );
        assert_eq!(shape("incoming", b"{\"a\":1}"), Shape::Text, "not a draft");
        assert_eq!(shape("incoming", b"\xff\xfe\x00garbage"), Shape::Binary);
        // A head cut inside a character is still text.
        let cut = &"說明".as_bytes()[..4];
        assert_eq!(shape("memo", cut), Shape::Text);
        assert!(Shape::Di.shown() && !Shape::Pdf.shown());
    }

    #[test]
    fn download_names_are_plain() {
        assert_eq!(
            file_name("1150000012", "draft-1", 2, Shape::Draft),
            "1150000012-draft-1-v2.json"
        );
        assert_eq!(file_name("../x\"", "a/b;c", 1, Shape::Pdf), "x-abc-v1.pdf");
        assert_eq!(
            disposition("attachment", "a\"b\r\n.pdf"),
            "attachment; filename=\"a_b__.pdf\""
        );
        assert_eq!(kind_label("memo"), "簽");
    }

    #[tokio::test]
    async fn heads_read_the_start_and_size_only() {
        let dir = std::env::temp_dir().join(format!(
            "gongwen-office-heads-{}-{}",
            std::process::id(),
            gongwen_store::random_hex(4)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.join("o.db").display()))
            .await
            .unwrap();
        db.execute(
            "INSERT INTO office_cases (id, origin, subject, matter, urgency, state, created_at) VALUES ('1', 'paper', 's', 'm', '普通件', 'registered', 0)",
            &[],
        )
        .await
        .unwrap();
        let mut big = b"%PDF-1.7\n".to_vec();
        big.resize(100_000, b'x');
        db.execute(
            "INSERT INTO office_versions (case_id, doc, version, kind, sha256, content, author, created_at) VALUES ('1', 'incoming', 1, 'scan', '', $1, 'clerk', 0)",
            &[big.as_slice().into()],
        )
        .await
        .unwrap();
        let h = heads(&db, "1").await.unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].size, 100_000);
        assert_eq!(h[0].head.len(), HEAD_BYTES as usize);
        assert_eq!(shape("scan", &h[0].head), Shape::Pdf);
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
