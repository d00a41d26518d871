//! Page counts of received files, for exclusion 2 of online sign-off (SIGNOFF: 「來文本文及附件
//! 超過 15 頁」 goes to paper).
//!
//! No PDF or image library: only the page count is wanted, from files sent by strangers, so each
//! count is a bounded scan that never panics and says `None` when it cannot tell.

use std::collections::HashSet;

/// More pages than this in an incoming text and its attachments: exclusion 2 (seed 003).
pub const EXCLUSION_PAGES: u32 = 15;

/// Whether a page total calls for exclusion 2 (more than [`EXCLUSION_PAGES`]).
pub fn over_limit(total: u32) -> bool {
    total > EXCLUSION_PAGES
}

/// The pages of one received file, chosen by its content: a PDF or TIFF by its magic bytes,
/// a DI (the name ends in `.di`, or the content is XML) by [`di_pages`]. `None` for anything
/// else, or when the file does not tell.
pub fn count(name: &str, bytes: &[u8]) -> Option<u32> {
    if is_tiff(bytes) {
        return tiff_pages(bytes);
    }
    if pdf_header(bytes) {
        return pdf_pages(bytes);
    }
    let lower = name.trim().to_ascii_lowercase();
    let content = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let content = &content[content
        .iter()
        .take_while(|c| c.is_ascii_whitespace())
        .count()..];
    if lower.ends_with(".di") || content.starts_with(b"<?xml") {
        return Some(di_pages(bytes));
    }
    None
}

/// Where a PDF header may start: readers accept some bytes before `%PDF-`.
const PDF_HEADER_WITHIN: usize = 1024;

/// How far from a `/Type /Pages` its object's start and end are looked for.
const OBJECT_WINDOW: usize = 256 * 1024;

/// The most bytes read around `/Type /Pages` names in one file, all of them together.
const PAGES_SCAN_BUDGET: usize = 64 * 1024 * 1024;

fn pdf_header(b: &[u8]) -> bool {
    find(&b[..b.len().min(PDF_HEADER_WITHIN)], b"%PDF-", 0).is_some()
}

/// The pages of a PDF: the `/Count` of its page tree's root (the largest `/Count` in an object
/// of `/Type /Pages`), else the number of `/Type /Page` objects. `None` when it is not a PDF
/// (no `%PDF-` header) or shows neither, as when the page tree sits in compressed object
/// streams (PDF 1.5): the page then says the count is unknown rather than guess.
pub fn pdf_pages(bytes: &[u8]) -> Option<u32> {
    if !pdf_header(bytes) {
        return None;
    }
    let mut budget = PAGES_SCAN_BUDGET;
    let (mut largest, mut pages) = (0u32, 0u32);
    let mut at = 0;
    while let Some(p) = find(bytes, b"/Type", at) {
        at = p + 5;
        let q = skip_space(bytes, at);
        if !bytes[q..].starts_with(b"/Page") {
            continue;
        }
        let r = q + 5;
        match bytes.get(r) {
            Some(b's') if bytes.get(r + 1).is_none_or(|c| delimiter(*c)) => {
                if let Some(n) = object_count(bytes, p, &mut budget) {
                    largest = largest.max(n);
                }
            }
            None => pages = pages.saturating_add(1),
            Some(c) if delimiter(*c) => pages = pages.saturating_add(1),
            _ => {}
        }
    }
    match (largest, pages) {
        (0, 0) => None,
        (0, n) => Some(n),
        (n, _) => Some(n),
    }
}

/// The largest `/Count n` (not `/Count n 0 R`) in the object around position `p`: from its
/// `obj` keyword back to its `endobj`, within [`OBJECT_WINDOW`] each way and the budget.
fn object_count(b: &[u8], p: usize, budget: &mut usize) -> Option<u32> {
    let lo = p.saturating_sub(OBJECT_WINDOW);
    let hi = b.len().min(p.saturating_add(OBJECT_WINDOW));
    let cost = hi - lo;
    if cost > *budget {
        return None;
    }
    *budget -= cost;
    let start = rfind(&b[lo..p], b"obj").map_or(lo, |s| lo + s);
    let end = find(&b[..hi], b"endobj", p).unwrap_or(hi);
    let obj = &b[start..end];
    let mut best = None;
    let mut at = 0;
    while let Some(c) = find(obj, b"/Count", at) {
        at = c + 6;
        let d = skip_space(obj, at);
        let (n, after) = digits(obj, d);
        let Some(n) = n else { continue };
        // `/Count 5 0 R`: an indirect count, not the number.
        let e = skip_space(obj, after);
        let (generation, after_gen) = digits(obj, e);
        if generation.is_some() && obj.get(skip_space(obj, after_gen)) == Some(&b'R') {
            continue;
        }
        best = best.max(Some(n));
    }
    best
}

/// An unsigned number at `at` (at most 10 digits, saturating) and where it ends.
fn digits(b: &[u8], at: usize) -> (Option<u32>, usize) {
    let n = b
        .get(at..)
        .unwrap_or_default()
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n == 0 {
        return (None, at);
    }
    let v = b[at..at + n]
        .iter()
        .take(10)
        .fold(0u64, |v, c| v * 10 + u64::from(c - b'0'));
    (Some(u32::try_from(v).unwrap_or(u32::MAX)), at + n)
}

/// PDF white space (ISO 32000 7.2.2).
fn pdf_space(c: u8) -> bool {
    matches!(c, 0 | b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

/// What ends a PDF name: white space or a delimiter.
fn delimiter(c: u8) -> bool {
    pdf_space(c) || b"()<>[]{}/%".contains(&c)
}

fn skip_space(b: &[u8], mut at: usize) -> usize {
    while b.get(at).is_some_and(|c| pdf_space(*c)) {
        at += 1;
    }
    at.min(b.len())
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// The most image directories followed in one TIFF: far beyond any fax or scan, and it keeps
/// a hostile chain short.
pub const MAX_TIFF_IFDS: u32 = 10_000;

fn is_tiff(b: &[u8]) -> bool {
    matches!(b.get(..4), Some(b"II*\0" | b"MM\0*" | b"II+\0" | b"MM\0+"))
}

/// The pages of a TIFF: the images in its chain of image file directories (IFDs), little-
/// (`II`) or big-endian (`MM`), classic (42) or BigTIFF (43). A reduced-resolution image
/// (NewSubfileType bit 0: a thumbnail) is no page. The walk stops at [`MAX_TIFF_IFDS`], at a
/// directory seen before (a loop), or at one outside the file (a truncated file keeps the pages
/// read so far). `None` when it is not a TIFF or has no readable directory.
pub fn tiff_pages(b: &[u8]) -> Option<u32> {
    let le = match b.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let r = Reader { b, le };
    let big = match r.u16(2)? {
        42 => false,
        43 if r.u16(4)? == 8 && r.u16(6)? == 0 => true,
        _ => return None,
    };
    let (count_size, entry_size, offset_size) = if big { (8, 20, 8) } else { (2, 12, 4) };
    let mut offset = if big { r.u64(8)? } else { u64::from(r.u32(4)?) };
    let mut seen = HashSet::new();
    let (mut ifds, mut pages) = (0u32, 0u32);
    while offset != 0 && ifds < MAX_TIFF_IFDS && seen.insert(offset) {
        let Ok(at) = usize::try_from(offset) else {
            break;
        };
        let entries = if big {
            r.u64(at)
        } else {
            r.u16(at).map(u64::from)
        };
        let Some(entries) = entries.and_then(|n| usize::try_from(n).ok()) else {
            break;
        };
        let first = at.saturating_add(count_size);
        let next_at = entries
            .checked_mul(entry_size)
            .and_then(|n| n.checked_add(first));
        let Some(next_at) = next_at.filter(|n| n.saturating_add(offset_size) <= b.len()) else {
            break;
        };
        ifds += 1;
        if !r.reduced(first, entries, entry_size, big) {
            pages += 1;
        }
        offset = if big {
            r.u64(next_at).unwrap_or(0)
        } else {
            r.u32(next_at).map_or(0, u64::from)
        };
    }
    match (ifds, pages) {
        (0, _) => None,
        // Only thumbnails: count the images.
        (n, 0) => Some(n),
        (_, p) => Some(p),
    }
}

/// Bounds-checked reads in a TIFF's byte order.
struct Reader<'a> {
    b: &'a [u8],
    le: bool,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.b.get(at..at.checked_add(N)?)?.try_into().ok()
    }
    fn u16(&self, at: usize) -> Option<u16> {
        let a = self.bytes::<2>(at)?;
        Some(if self.le {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        })
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let a = self.bytes::<4>(at)?;
        Some(if self.le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }
    fn u64(&self, at: usize) -> Option<u64> {
        let a = self.bytes::<8>(at)?;
        Some(if self.le {
            u64::from_le_bytes(a)
        } else {
            u64::from_be_bytes(a)
        })
    }

    /// Whether the directory's NewSubfileType (tag 254) marks a reduced image. Tags are sorted
    /// and 254 is the smallest baseline tag, so only the first few entries are read.
    fn reduced(&self, first: usize, entries: usize, size: usize, big: bool) -> bool {
        for k in 0..entries.min(8) {
            let e = first + k * size;
            let Some(tag) = self.u16(e) else { return false };
            if tag > 254 {
                return false;
            }
            if tag == 254 {
                let value_at = e + if big { 12 } else { 8 };
                let value = match self.u16(e + 2) {
                    Some(3) => self.u16(value_at).map(u32::from),
                    _ => self.u32(value_at),
                };
                return value.is_some_and(|v| v & 1 == 1);
            }
        }
        false
    }
}

/// Characters on one printed line of a 公文 in the official layout (標楷體 16 pt on A4 with the
/// prescribed margins: about 35).
pub const CHARS_PER_LINE: u32 = 35;
/// Lines on one printed A4 page in the same layout (about 30).
pub const LINES_PER_PAGE: u32 = 30;

/// An estimate of the printed pages of a DI's text (attachments are counted as their own
/// files). Each line as read ([`crate::changes::readable`]: 主旨, each 說明 item, each 正本 …)
/// starts a printed line and takes ⌈width ÷ 35⌉ of them, where a character is 1 wide, an
/// ASCII or half-width one ½, and an item is indented 2 per level; the pages are ⌈lines ÷ 30⌉,
/// at least 1. Codes (機關代碼, 單位代碼) are not printed and not counted. An estimate, so a
/// document near the limit is worth a look by the clerk.
pub fn di_pages(xml: &[u8]) -> u32 {
    let mut lines: u64 = 0;
    for l in crate::changes::readable(xml) {
        if l.label.ends_with("代碼") {
            continue;
        }
        // Width in half characters.
        let half: u64 = l
            .text
            .chars()
            .map(|c| {
                if c.is_ascii() || is_halfwidth(c) {
                    1
                } else {
                    2
                }
            })
            .sum::<u64>()
            + 4 * l.depth as u64;
        let per_line = u64::from(CHARS_PER_LINE) * 2;
        lines += half.div_ceil(per_line).max(1);
    }
    let pages = lines.div_ceil(u64::from(LINES_PER_PAGE)).max(1);
    u32::try_from(pages).unwrap_or(u32::MAX)
}

/// Half-width katakana and forms (U+FF61–U+FFDC, U+FFE8–U+FFEE).
fn is_halfwidth(c: char) -> bool {
    matches!(c, '\u{ff61}'..='\u{ffdc}' | '\u{ffe8}'..='\u{ffee}')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small PDF as a writer lays it out: a page tree root with /Count and the pages.
    fn pdf(pages: usize, compact: bool) -> Vec<u8> {
        let mut s = String::from(
            "%PDF-1.4\n%\u{e2}\u{e3}\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n",
        );
        let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", i + 3)).collect();
        if compact {
            s.push_str(&format!(
                "2 0 obj<</Kids[{}]/Count {pages}/Type/Pages>>endobj\n",
                kids.join(" ")
            ));
        } else {
            s.push_str(&format!(
                "2 0 obj\n<< /Type /Pages\n/Kids [{}]\n/Count {pages}\n>>\nendobj\n",
                kids.join(" ")
            ));
        }
        for i in 0..pages {
            let sep = if compact { "" } else { " " };
            s.push_str(&format!(
                "{} 0 obj\n<</Type{sep}/Page /Parent 2 0 R /MediaBox [0 0 595 842]>>\nendobj\n",
                i + 3
            ));
        }
        s.push_str("trailer\n<< /Root 1 0 R >>\n%%EOF\n");
        s.into_bytes()
    }

    #[test]
    fn pdf_pages_from_the_page_tree() {
        assert_eq!(pdf_pages(&pdf(3, false)), Some(3));
        assert_eq!(pdf_pages(&pdf(3, true)), Some(3));
        assert_eq!(count("來文附件.bin", &pdf(17, false)), Some(17));
        // Without a /Count, the page objects are counted (not /Pages, not /PageLabels).
        let s = "%PDF-1.7\n1 0 obj<</Type /Page>>endobj 2 0 obj<</Type/Page/X 1>>endobj\n\
                 3 0 obj<</Type /Pages /Kids[1 0 R 2 0 R]>>endobj 4 0 obj<</Type /PageLabels>>endobj";
        assert_eq!(pdf_pages(s.as_bytes()), Some(2));
        // A nested tree: the root's count is the largest.
        let s = "%PDF-1.4\n2 0 obj<</Type/Pages/Kids[5 0 R 6 0 R]/Count 20>>endobj\n\
                 5 0 obj<</Type/Pages/Parent 2 0 R/Count 12>>endobj\n\
                 6 0 obj<</Type/Pages/Parent 2 0 R/Count 8>>endobj";
        assert_eq!(pdf_pages(s.as_bytes()), Some(20));
        // An indirect /Count is not a number of pages.
        let s = "%PDF-1.4\n2 0 obj<</Type/Pages/Count 9 0 R>>endobj 3 0 obj<</Type/Page>>endobj";
        assert_eq!(pdf_pages(s.as_bytes()), Some(1));
    }

    #[test]
    fn not_a_pdf_or_no_pages() {
        assert_eq!(pdf_pages(b"hello /Type /Page"), None);
        assert_eq!(pdf_pages(b"%PDF-1.5\n"), None);
        assert_eq!(pdf_pages(b"%PDF-"), None);
        assert_eq!(pdf_pages(b"%PDF-1.4 /Type"), None);
        assert_eq!(pdf_pages(b"%PDF-1.4 /Type /Pages /Count"), None);
        assert_eq!(
            pdf_pages(b"%PDF-1.4 /Type /Pages /Count 99999999999999"),
            Some(u32::MAX)
        );
        assert_eq!(pdf_pages(b""), None);
    }

    /// A TIFF with the given directories, each with one entry (NewSubfileType when `reduced`
    /// is Some) and chained in order; `next_of_last` ends the chain (0) or points anywhere.
    fn tiff(le: bool, reduced: &[bool], next_of_last: Option<u32>) -> Vec<u8> {
        let u16b = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        let u32b = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        let mut b: Vec<u8> = if le { b"II".to_vec() } else { b"MM".to_vec() };
        b.extend(u16b(42));
        b.extend(u32b(8));
        for (i, r) in reduced.iter().enumerate() {
            let at = b.len() as u32;
            let next = if i + 1 == reduced.len() {
                next_of_last.unwrap_or(0)
            } else {
                at + 2 + 12 + 4
            };
            b.extend(u16b(1));
            // NewSubfileType, LONG, 1 value.
            b.extend(u16b(254));
            b.extend(u16b(4));
            b.extend(u32b(1));
            b.extend(u32b(u32::from(*r)));
            b.extend(u32b(next));
        }
        b
    }

    #[test]
    fn tiff_pages_follow_the_directories() {
        assert_eq!(tiff_pages(&tiff(true, &[false, false], None)), Some(2));
        assert_eq!(tiff_pages(&tiff(false, &[false, false], None)), Some(2));
        assert_eq!(count("scan.pdf", &tiff(false, &[false; 3], None)), Some(3));
        // A thumbnail is no page.
        assert_eq!(
            tiff_pages(&tiff(true, &[false, true, false], None)),
            Some(2)
        );
    }

    #[test]
    fn tiff_loops_and_truncation_end() {
        // The directory points to itself, and a chain back to the first.
        assert_eq!(tiff_pages(&tiff(true, &[false], Some(8))), Some(1));
        assert_eq!(tiff_pages(&tiff(false, &[false; 3], Some(8))), Some(3));
        // Points past the end: the pages read so far.
        assert_eq!(tiff_pages(&tiff(true, &[false; 2], Some(1 << 30))), Some(2));
        // The first directory is outside the file; the header only; not a TIFF.
        let mut b = tiff(true, &[false], None);
        b[4..8].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(tiff_pages(&b), None);
        assert_eq!(tiff_pages(b"II*\0"), None);
        assert_eq!(tiff_pages(b"II\x2b\0\x08\0\0\0"), None);
        assert_eq!(tiff_pages(b"XX*\0\x08\0\0\0"), None);
        // A directory claiming 65,535 entries in a short file.
        let mut b = tiff(true, &[false], None);
        b[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(tiff_pages(&b), None);
    }

    #[test]
    fn bigtiff_pages() {
        let mut b = b"MM\0\x2b\0\x08\0\0".to_vec();
        b.extend(16u64.to_be_bytes());
        for i in 0..2u64 {
            let at = b.len() as u64;
            b.extend(0u64.to_be_bytes());
            let next = if i == 0 { at + 16 } else { 0 };
            b.extend(next.to_be_bytes());
        }
        assert_eq!(tiff_pages(&b), Some(2));
    }

    #[test]
    fn di_pages_are_estimated() {
        let di = |items: usize| {
            let mut s = String::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<函><機關代碼>379000000A</機關代碼>\
                 <主旨><文字>請查照。</文字></主旨><段落 段名=\"說明：\">",
            );
            for _ in 0..items {
                s.push_str("<條列 序號=\"一、\"><文字>");
                s.push_str(&"字".repeat(60));
                s.push_str("</文字></條列>");
            }
            s.push_str("</段落></函>");
            s.into_bytes()
        };
        // 主旨, 說明 and items of 2 printed lines each (60 + 2 + 2 ÷ 35).
        assert_eq!(di_pages(&di(0)), 1);
        assert_eq!(di_pages(&di(14)), 1);
        assert_eq!(di_pages(&di(15)), 2);
        assert_eq!(di_pages(&di(300)), 21);
        assert_eq!(count("x.di", &di(300)), Some(21));
        assert_eq!(count("來文.DI", b"not xml at all"), Some(1));
        assert_eq!(di_pages(b""), 1);
    }

    #[test]
    fn garbage_and_the_limit() {
        assert_eq!(count("a.pdf", b"\x00\x01garbage"), None);
        assert_eq!(count("a.txt", b""), None);
        assert_eq!(count("a.tif", b"MM\0*"), None);
        assert!(!over_limit(15));
        assert!(over_limit(16));
        // Every prefix of real files, and bytes of every value: no panic.
        for b in [
            pdf(3, false),
            tiff(true, &[false; 3], None),
            tiff(false, &[true], None),
        ] {
            for n in 0..b.len() {
                let _ = count("x", &b[..n]);
                let _ = pdf_pages(&b[..n]);
                let _ = tiff_pages(&b[..n]);
            }
        }
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert_eq!(count("x", &noise), None);
    }
}
