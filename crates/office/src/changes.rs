//! Tracked changes between two versions of a document (SIGNOFF: a reviewer may "amend the
//! text (every version kept, changes visible as tracked changes)").
//!
//! A version is first turned into the lines a person reads ([`readable`]): a 簽 or 稿 (the JSON
//! of a [`Draft`]) field by field in document order, a DI as the text of its elements, anything
//! else as text or as one line saying it is not text. Two versions are then compared line by
//! line, and a changed line character by character ([`compare`]): Chinese has no spaces, so
//! words are no unit. Every comparison is bounded ([`MAX_CELLS`], [`MAX_TOTAL_CELLS`]): past the
//! bound the differing part is shown as replaced whole, never slowly.

use gongwen_doc::draft::{
    Draft, DraftItem, DraftNumber, DraftPerson, DraftRecipient, DraftSection, OneOrMany,
    item_number,
};

/// One line of a version as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The field it belongs to, as the DTD names it (主旨, 說明, 正本 …); every line of a field
    /// carries it, so a page may print it only where it differs from the line before. Empty for
    /// text that has no fields (JSON that is not a draft, plain text).
    pub label: String,
    /// Nesting: 0 for the field itself, 1 for its items (一、), 2 for theirs ((一)) …
    pub depth: usize,
    pub text: String,
}

/// A run of characters in a compared line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Same(String),
    Inserted(String),
    Deleted(String),
}

impl Segment {
    pub fn text(&self) -> &str {
        match self {
            Segment::Same(t) | Segment::Inserted(t) | Segment::Deleted(t) => t,
        }
    }

    /// A CSS class for the page: `same`, `ins` or `del`.
    pub fn class(&self) -> &'static str {
        match self {
            Segment::Same(_) => "same",
            Segment::Inserted(_) => "ins",
            Segment::Deleted(_) => "del",
        }
    }
}

/// What happened to a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Same,
    /// In both versions, with characters inserted or deleted (see its segments).
    Changed,
    Inserted,
    Deleted,
}

impl Status {
    /// A CSS class for the page: `same`, `changed`, `ins` or `del`.
    pub fn class(&self) -> &'static str {
        match self {
            Status::Same => "same",
            Status::Changed => "changed",
            Status::Inserted => "ins",
            Status::Deleted => "del",
        }
    }
}

/// A line of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedLine {
    pub label: String,
    pub depth: usize,
    pub status: Status,
    /// The text: one [`Segment::Same`] for an unchanged line, one [`Segment::Inserted`] or
    /// [`Segment::Deleted`] for a whole line, a mix for a changed one. Empty for an empty line.
    pub segments: Vec<Segment>,
}

/// Two versions compared, in the order of the newer one, deleted lines where they were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub lines: Vec<ChangedLine>,
    /// Characters inserted and deleted, over all segments.
    pub inserted_chars: usize,
    pub deleted_chars: usize,
    pub inserted_lines: usize,
    pub deleted_lines: usize,
    pub changed_lines: usize,
    /// Some part was too large to compare finely and is shown as replaced whole; the page says
    /// so.
    pub coarse: bool,
}

impl Changes {
    /// Whether the two versions read the same.
    pub fn unchanged(&self) -> bool {
        self.inserted_lines == 0 && self.deleted_lines == 0 && self.changed_lines == 0
    }

    /// A one-line summary for people, e.g. 「修改 2 行、新增 1 行；新增 12 字、刪除 3 字」.
    pub fn summary(&self) -> String {
        if self.unchanged() {
            return "與前一版相同".into();
        }
        let mut parts = Vec::new();
        for (n, what) in [
            (self.changed_lines, "修改"),
            (self.inserted_lines, "新增"),
            (self.deleted_lines, "刪除"),
        ] {
            if n > 0 {
                parts.push(format!("{what} {n} 行"));
            }
        }
        format!(
            "{}；新增 {} 字、刪除 {} 字",
            parts.join("、"),
            self.inserted_chars,
            self.deleted_chars
        )
    }
}

/// The most cells (rows × columns) one comparison table may have: the lines of two versions,
/// or the characters of two lines. 4 million cells of 2 bytes: 8 MB and well under a second.
pub const MAX_CELLS: usize = 4_000_000;

/// The most cells all comparisons of one [`compare`] may use together, so that many changed
/// lines cannot add up to a slow page.
pub const MAX_TOTAL_CELLS: usize = 16_000_000;

/// A changed line is shown with its characters marked only when at least this share (1/n) of
/// the longer line stays; otherwise as a deleted line and an inserted one, which reads better
/// than a scatter of single kept characters.
const SIMILAR: usize = 3;

/// How many inserted lines ahead a deleted line looks for its amended counterpart.
const LOOKAHEAD: usize = 4;

/// The lines a person reads of a version's content: a [`Draft`] (簽, 稿) field by field; other
/// JSON pretty-printed; a DI (XML) as the text of its elements; other text as its lines; and a
/// binary file (a scan) as one line saying so.
pub fn readable(content: &[u8]) -> Vec<Line> {
    let trimmed = trim_start(content);
    if trimmed.first() == Some(&b'{')
        && let Ok(d) = serde_json::from_slice::<Draft>(trimmed)
    {
        return draft_lines(&d);
    }
    if matches!(trimmed.first(), Some(b'{' | b'['))
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(trimmed)
    {
        let pretty = serde_json::to_string_pretty(&v).unwrap_or_default();
        return pretty.lines().map(|l| plain("", 0, l)).collect();
    }
    if trimmed.first() == Some(&b'<')
        && let Ok(doc) = gongwen_doc::xml::parse(content, &gongwen_doc::xml::Limits::default())
    {
        let mut out = Vec::new();
        xml_lines(&doc.root, "", 0, &mut out);
        return out;
    }
    match std::str::from_utf8(content) {
        Ok(s) if !is_binary(content) => s
            .strip_prefix('\u{feff}')
            .unwrap_or(s)
            .lines()
            .map(|l| plain("", 0, l))
            .collect(),
        _ => vec![plain(
            "",
            0,
            &format!("（非文字檔，{} 位元組）", content.len()),
        )],
    }
}

/// Compares two versions' contents as read ([`readable`]): lines kept, inserted, deleted, and
/// within a line amended, the characters inserted and deleted.
pub fn compare(old: &[u8], new: &[u8]) -> Changes {
    compare_lines(&readable(old), &readable(new))
}

/// [`compare`] on lines already read.
pub fn compare_lines(old: &[Line], new: &[Line]) -> Changes {
    let mut budget = MAX_TOTAL_CELLS;
    let mut out = Changes::default();
    let (ops, coarse) = diff(old, new, &mut budget);
    out.coarse |= coarse;
    let (mut i, mut j) = (0, 0);
    let mut k = 0;
    while k < ops.len() {
        if ops[k] == Op::Same {
            push_same(&mut out, &new[j]);
            i += 1;
            j += 1;
            k += 1;
            continue;
        }
        // A run of deleted and inserted lines between two kept ones.
        let (di, dj) = (i, j);
        while k < ops.len() && ops[k] != Op::Same {
            match ops[k] {
                Op::Del => i += 1,
                _ => j += 1,
            }
            k += 1;
        }
        hunk(&mut out, &old[di..i], &new[dj..j], &mut budget);
    }
    out
}

/// Pairs each deleted line with an inserted one of the same field that reads alike (looking a
/// few lines ahead, since a new item may come before the amended one); the rest stay whole.
fn hunk(out: &mut Changes, deleted: &[Line], inserted: &[Line], budget: &mut usize) {
    let mut p = 0;
    for d in deleted {
        let mut paired = None;
        for (n, cand) in inserted.iter().enumerate().skip(p).take(LOOKAHEAD) {
            if cand.label != d.label || cand.depth != d.depth {
                continue;
            }
            if let Some(segments) = char_changes(&d.text, &cand.text, budget, &mut out.coarse) {
                paired = Some((n, segments));
                break;
            }
        }
        match paired {
            Some((n, segments)) => {
                for ins in &inserted[p..n] {
                    push_whole(out, ins, Status::Inserted);
                }
                push_changed(out, &inserted[n], segments);
                p = n + 1;
            }
            None => push_whole(out, d, Status::Deleted),
        }
    }
    for ins in &inserted[p..] {
        push_whole(out, ins, Status::Inserted);
    }
}

fn push_same(out: &mut Changes, l: &Line) {
    let segments = if l.text.is_empty() {
        Vec::new()
    } else {
        vec![Segment::Same(l.text.clone())]
    };
    out.lines.push(ChangedLine {
        label: l.label.clone(),
        depth: l.depth,
        status: Status::Same,
        segments,
    });
}

fn push_whole(out: &mut Changes, l: &Line, status: Status) {
    let n = l.text.chars().count();
    let segments = match (l.text.is_empty(), status) {
        (true, _) => Vec::new(),
        (false, Status::Deleted) => vec![Segment::Deleted(l.text.clone())],
        (false, _) => vec![Segment::Inserted(l.text.clone())],
    };
    if status == Status::Deleted {
        out.deleted_lines += 1;
        out.deleted_chars += n;
    } else {
        out.inserted_lines += 1;
        out.inserted_chars += n;
    }
    out.lines.push(ChangedLine {
        label: l.label.clone(),
        depth: l.depth,
        status,
        segments,
    });
}

fn push_changed(out: &mut Changes, l: &Line, segments: Vec<Segment>) {
    for s in &segments {
        match s {
            Segment::Inserted(t) => out.inserted_chars += t.chars().count(),
            Segment::Deleted(t) => out.deleted_chars += t.chars().count(),
            Segment::Same(_) => {}
        }
    }
    out.changed_lines += 1;
    out.lines.push(ChangedLine {
        label: l.label.clone(),
        depth: l.depth,
        status: Status::Changed,
        segments,
    });
}

/// The characters of `old` and `new` as segments, or `None` when too little stays for the two
/// to be one line amended (see [`SIMILAR`]).
fn char_changes(
    old: &str,
    new: &str,
    budget: &mut usize,
    coarse: &mut bool,
) -> Option<Vec<Segment>> {
    let a: Vec<char> = old.chars().collect();
    let b: Vec<char> = new.chars().collect();
    let (ops, was_coarse) = diff(&a, &b, budget);
    *coarse |= was_coarse;
    // Past the bound likeness is unknown; lines of the same field, where they were, are then
    // taken for one line amended.
    let same = ops.iter().filter(|o| **o == Op::Same).count();
    if !was_coarse && same * SIMILAR < a.len().max(b.len()) {
        return None;
    }
    Some(segments(&a, &b, &ops))
}

/// A run of characters while building a line's segments: kept, or replaced (deleted, inserted).
enum Run {
    Same(String),
    Change(String, String),
}

/// Turns character operations into segments, deleted before inserted within a change, and
/// folds a short kept run between two larger changes into them: a lone 「的」 kept in the middle
/// of a rewritten clause only makes it harder to read.
fn segments(a: &[char], b: &[char], ops: &[Op]) -> Vec<Segment> {
    let mut runs: Vec<Run> = Vec::new();
    let (mut ai, mut bi) = (a.iter(), b.iter());
    for op in ops {
        let (same, del, ins) = match op {
            Op::Same => {
                bi.next();
                (ai.next().copied(), None, None)
            }
            Op::Del => (None, ai.next().copied(), None),
            Op::Ins => (None, None, bi.next().copied()),
        };
        if let Some(c) = same {
            match runs.last_mut() {
                Some(Run::Same(s)) => s.push(c),
                _ => runs.push(Run::Same(c.to_string())),
            }
            continue;
        }
        if !matches!(runs.last(), Some(Run::Change(..))) {
            runs.push(Run::Change(String::new(), String::new()));
        }
        if let Some(Run::Change(d, n)) = runs.last_mut() {
            d.extend(del);
            n.extend(ins);
        }
    }
    let mut folded: Vec<Run> = Vec::with_capacity(runs.len());
    for r in runs {
        folded.push(r);
        while foldable(&folded) {
            if let (Some(Run::Change(d2, i2)), Some(Run::Same(s))) = (folded.pop(), folded.pop())
                && let Some(Run::Change(d, i)) = folded.last_mut()
            {
                d.push_str(&s);
                d.push_str(&d2);
                i.push_str(&s);
                i.push_str(&i2);
            }
        }
    }
    let mut out = Vec::new();
    for r in folded {
        match r {
            Run::Same(s) => out.push(Segment::Same(s)),
            Run::Change(d, n) => {
                if !d.is_empty() {
                    out.push(Segment::Deleted(d));
                }
                if !n.is_empty() {
                    out.push(Segment::Inserted(n));
                }
            }
        }
    }
    out
}

/// Whether `runs` ends in change, kept, change with the kept run short (1 or 2 characters) and
/// at most half as long as each change beside it.
fn foldable(runs: &[Run]) -> bool {
    let size = |d: &str, i: &str| d.chars().count().max(i.chars().count());
    match runs {
        [.., Run::Change(d1, i1), Run::Same(s), Run::Change(d2, i2)] => {
            let n = s.chars().count();
            n <= 2 && 2 * n <= size(d1, i1) && 2 * n <= size(d2, i2)
        }
        _ => false,
    }
}

/// One step of an edit script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Del,
    Ins,
}

/// A shortest edit script from `a` to `b` by longest common subsequence, and whether a bound
/// made it coarse. The common start and end are taken off first (cheap, and most amendments
/// touch a small part); the middle gets a table only within [`MAX_CELLS`] and the budget left,
/// otherwise it is deleted and inserted whole.
fn diff<T: PartialEq>(a: &[T], b: &[T], budget: &mut usize) -> (Vec<Op>, bool) {
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a1, b1) = (&a[pre..], &b[pre..]);
    let suf = a1
        .iter()
        .rev()
        .zip(b1.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a1[..a1.len() - suf], &b1[..b1.len() - suf]);
    let mut ops = vec![Op::Same; pre];
    let mut coarse = false;
    if ma.is_empty() || mb.is_empty() {
        ops.extend(std::iter::repeat_n(Op::Del, ma.len()));
        ops.extend(std::iter::repeat_n(Op::Ins, mb.len()));
    } else {
        let cells = (ma.len() + 1).saturating_mul(mb.len() + 1);
        if cells <= MAX_CELLS && cells <= *budget {
            *budget -= cells;
            ops.extend(lcs(ma, mb));
        } else {
            coarse = true;
            ops.extend(std::iter::repeat_n(Op::Del, ma.len()));
            ops.extend(std::iter::repeat_n(Op::Ins, mb.len()));
        }
    }
    ops.extend(std::iter::repeat_n(Op::Same, suf));
    (ops, coarse)
}

/// The table of longest common subsequences of every pair of suffixes, walked from the start.
/// Within [`MAX_CELLS`] the shorter side has at most 2,000 elements, so `u16` holds any length.
fn lcs<T: PartialEq>(a: &[T], b: &[T]) -> Vec<Op> {
    let (n, m) = (a.len(), b.len());
    let w = m + 1;
    let mut t = vec![0u16; (n + 1) * w];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i * w + j] = if a[i] == b[j] {
                t[(i + 1) * w + j + 1].saturating_add(1)
            } else {
                t[(i + 1) * w + j].max(t[i * w + j + 1])
            };
        }
    }
    let mut ops = Vec::with_capacity(n + m);
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            ops.push(Op::Same);
            i += 1;
            j += 1;
        } else if t[(i + 1) * w + j] >= t[i * w + j + 1] {
            ops.push(Op::Del);
            i += 1;
        } else {
            ops.push(Op::Ins);
            j += 1;
        }
    }
    ops.extend(std::iter::repeat_n(Op::Del, n - i));
    ops.extend(std::iter::repeat_n(Op::Ins, m - j));
    ops
}

fn trim_start(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// Control characters other than tab, line feed, form feed and carriage return, or a PDF: not
/// something to read as text.
fn is_binary(b: &[u8]) -> bool {
    b.starts_with(b"%PDF-")
        || b.iter()
            .any(|c| *c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r' | 0x0c))
}

fn plain(label: &str, depth: usize, text: &str) -> Line {
    Line {
        label: label.to_string(),
        depth,
        text: text.trim_end().to_string(),
    }
}

/// The text of a DI as lines: each element's own text under its name (a 文字 under the field
/// that holds it: 主旨, or the 段名 of its 段落), an item's text after its 序號, and an element
/// with attributes only (速別, 函類別) as their values.
fn xml_lines(e: &gongwen_doc::xml::Element, context: &str, depth: usize, out: &mut Vec<Line>) {
    let name = e.name.as_str();
    let label = match name {
        "文字" | "條列" => context.to_string(),
        "段落" => section_label(e.attr("段名").unwrap_or_default()),
        _ => name.to_string(),
    };
    let child_depth = if name == "條列" { depth + 1 } else { depth };
    let text: Vec<String> = e
        .text_content()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let has_children = e.elements().next().is_some();
    if name == "段落" {
        // Its own 文字, when first, is on the line of its name.
        if e.elements().next().map(|c| c.name.as_str()) != Some("文字") {
            out.push(plain(&label, 0, ""));
        }
    } else if !text.is_empty() {
        for t in text {
            out.push(plain(&label, depth, &t));
        }
    } else if !has_children && !e.attrs.is_empty() {
        let values: Vec<&str> = e.attrs.iter().map(|a| a.value.as_str()).collect();
        out.push(plain(&label, depth, &values.join(" ")));
    }
    let number = e.attr("序號").unwrap_or_default();
    let mut first_text = true;
    for c in e.elements() {
        let before = out.len();
        xml_lines(c, &label, child_depth, out);
        // The 序號 of a 條列 goes before its first text.
        if name == "條列" && first_text && c.name == "文字" && out.len() > before {
            out[before].text.insert_str(0, number);
            first_text = false;
        }
    }
}

/// A 段名 as a label: 「說明：」 → 「說明」.
fn section_label(title: &str) -> String {
    let t = title.trim().trim_end_matches(['：', ':']).trim();
    if t.is_empty() {
        "段落".into()
    } else {
        t.to_string()
    }
}

/// A draft's fields in the order a 函 or 簽 prints them, then those that only steer the build
/// (分繕, 檔名), so that a change to any field shows.
fn draft_lines(d: &Draft) -> Vec<Line> {
    let mut out = Vec::new();
    one(&mut out, "文別", &d.kind);
    one(&mut out, "函類別", &d.letter_class);
    one(&mut out, "令類別", &d.order_class);
    for i in &d.issuers {
        let name = [&i.full_name, &i.unit_name]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        let codes = codes(Some(&i.agency_code), i.unit_code.as_ref());
        out.push(plain("發文機關", 0, &format!("{name}{codes}")));
    }
    one(&mut out, "單位", &d.unit);
    one(&mut out, "單位代碼", &d.unit_code);
    one(&mut out, "地址", &d.address);
    for c in many(&d.contacts) {
        out.push(plain("聯絡方式", 0, c));
    }
    one(&mut out, "發文日期", &d.date);
    for n in many(&d.numbers) {
        let text = match n {
            DraftNumber::Text(t) => t.clone(),
            DraftNumber::Parts {
                word,
                year,
                serial,
                branch,
            } => format!(
                "{word}第{year:03}{serial:07}{}號",
                branch.as_deref().unwrap_or("")
            ),
        };
        out.push(plain("發文字號", 0, &text));
    }
    one(&mut out, "速別", &d.urgency);
    if let Some(s) = &d.secrecy {
        let text = if s.condition.trim().is_empty() {
            s.level.clone()
        } else {
            format!("{}（{}）", s.level, s.condition)
        };
        out.push(plain("密等及解密條件或保密期限", 0, &text));
    }
    one(&mut out, "擬辦方式", &d.proposal);
    if let Some(a) = &d.attachments {
        out.push(plain("附件", 0, a.text.as_deref().unwrap_or_default()));
        for f in &a.files {
            out.push(plain("附件", 1, &format!("檔案：{f}")));
        }
    }
    one(&mut out, "主旨", &d.subject);
    let site = d.kind.as_deref().map(str::trim) == Some("會勘通知單");
    let (reason, time, place) = if site {
        ("會勘事由", "會勘時間", "會勘地點")
    } else {
        ("開會事由", "開會時間", "開會地點")
    };
    one(&mut out, reason, &d.reason);
    for t in &d.times {
        let weekday = t
            .weekday
            .as_deref()
            .map(|w| format!("（{w}）"))
            .unwrap_or_default();
        out.push(plain(time, 0, &format!("{}{weekday} {}", t.date, t.time)));
    }
    one(&mut out, place, &d.place);
    for p in &d.chairs {
        out.push(plain("主持人", 0, &person(p)));
    }
    for c in &d.contact_persons {
        let who = person(&DraftPerson {
            name: c.name.clone(),
            title: c.title.clone(),
        });
        out.push(plain("聯絡人及電話", 0, &format!("{who} {}", c.phone)));
    }
    for r in &d.attendees {
        out.push(plain("出席者", 0, &recipient(r)));
    }
    for r in &d.observers {
        out.push(plain("列席者", 0, &recipient(r)));
    }
    for s in &d.sections {
        section_lines(&section_label(&s.title), s, &mut out);
    }
    if let Some(s) = &d.remarks {
        section_lines("備註", s, &mut out);
    }
    for r in &d.primary {
        out.push(plain("正本", 0, &recipient(r)));
    }
    for r in &d.copies {
        out.push(plain("副本", 0, &recipient(r)));
    }
    for p in &d.respectfully {
        out.push(plain("敬陳", 0, &person(p)));
    }
    for s in many(&d.signatures) {
        out.push(plain("署名", 0, s));
    }
    if d.split {
        out.push(plain("分繕", 0, "是"));
    }
    one(&mut out, "檔名", &d.base);
    out
}

/// A field that may be left out: a line when present.
fn one(out: &mut Vec<Line>, label: &str, v: &Option<String>) {
    if let Some(v) = v {
        out.push(plain(label, 0, v));
    }
}

fn many<T>(v: &OneOrMany<T>) -> &[T] {
    match v {
        OneOrMany::One(x) => std::slice::from_ref(x),
        OneOrMany::Many(xs) => xs,
    }
}

/// A 段落: its own text on the line of its name, then its items, numbered as written (or 一、,
/// (一), 1、, (1) by depth when the 序號 was left empty).
fn section_lines(label: &str, s: &DraftSection, out: &mut Vec<Line>) {
    out.push(plain(label, 0, s.text.as_deref().unwrap_or_default()));
    item_lines(label, &s.items, 1, out);
}

fn item_lines(label: &str, items: &[DraftItem], depth: usize, out: &mut Vec<Line>) {
    for (n, i) in items.iter().enumerate() {
        let number = if i.number.trim().is_empty() {
            item_number(depth, n + 1)
        } else {
            i.number.trim().to_string()
        };
        let text = format!("{number}{}", i.text.as_deref().unwrap_or_default());
        out.push(plain(label, depth, &text));
        // Drafts come from people: nesting beyond any real 公文 is shown flat, not recursed.
        item_lines(label, &i.items, (depth + 1).min(32), out);
    }
}

fn person(p: &DraftPerson) -> String {
    match p.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() && !p.name.trim().is_empty() => format!("{t}　{}", p.name),
        Some(t) if !t.is_empty() => t.to_string(),
        _ => p.name.clone(),
    }
}

fn recipient(r: &DraftRecipient) -> String {
    let person = r.person.as_ref().map(|n| {
        person_name(&DraftPerson {
            name: n.clone(),
            title: r.title.clone(),
        })
    });
    let name = [
        r.full_name.clone(),
        r.unit_name.clone(),
        person,
        r.collective.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let attachments = match r.with_attachments {
        Some(true) => "（含附件）",
        Some(false) => "（不含附件）",
        None => "",
    };
    format!(
        "{name}{}{attachments}",
        codes(r.agency_code.as_ref(), r.unit_code.as_ref())
    )
}

/// A person as a recipient: 姓名 then 職稱 (「王大明 議員」).
fn person_name(p: &DraftPerson) -> String {
    match p.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => format!("{} {t}", p.name),
        _ => p.name.clone(),
    }
}

/// 「（機關代碼 379000000A，單位代碼 3791301）」, or nothing.
fn codes(agency: Option<&String>, unit: Option<&String>) -> String {
    let parts: Vec<String> = [("機關代碼", agency), ("單位代碼", unit)]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k} {v}")))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("（{}）", parts.join("，"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memo(subject: &str, items: &[&str]) -> Vec<u8> {
        let items: Vec<serde_json::Value> = items
            .iter()
            .map(|t| serde_json::json!({ "文字": t }))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "文別": "簽",
            "單位": "資訊局應用服務組",
            "發文字號": "1150000123",
            "主旨": subject,
            "段落": [
                { "段名": "說明：", "條列": items },
                { "段名": "擬辦：", "文字": "奉核後，依採購程序辦理。" }
            ],
            "敬陳": [{ "職稱": "局長" }],
            "署名": "承辦人　王小明"
        }))
        .unwrap()
    }

    const SUBJECT: &str =
        "為辦理本局115年度公文電子交換系統升級，擬請同意採購憑證讀卡機50臺，簽請核示。";

    #[test]
    fn a_draft_reads_field_by_field() {
        let lines = readable(&memo(
            SUBJECT,
            &["依本府函辦理。", "現有讀卡機已使用逾8年。"],
        ));
        let shown: Vec<(String, usize, String)> = lines
            .into_iter()
            .map(|l| (l.label, l.depth, l.text))
            .collect();
        let want = [
            ("文別", 0, "簽"),
            ("單位", 0, "資訊局應用服務組"),
            ("發文字號", 0, "1150000123"),
            ("主旨", 0, SUBJECT),
            ("說明", 0, ""),
            ("說明", 1, "一、依本府函辦理。"),
            ("說明", 1, "二、現有讀卡機已使用逾8年。"),
            ("擬辦", 0, "奉核後，依採購程序辦理。"),
            ("敬陳", 0, "局長"),
            ("署名", 0, "承辦人　王小明"),
        ];
        let want: Vec<(String, usize, String)> = want
            .iter()
            .map(|(l, d, t)| (l.to_string(), *d, t.to_string()))
            .collect();
        assert_eq!(shown, want);
    }

    #[test]
    fn a_changed_subject_shows_its_characters() {
        let new_subject = SUBJECT
            .replace("50臺", "60臺")
            .replace("簽請核示", "敬請核示");
        let c = compare(&memo(SUBJECT, &["甲。"]), &memo(&new_subject, &["甲。"]));
        assert_eq!(c.changed_lines, 1);
        assert_eq!((c.inserted_lines, c.deleted_lines), (0, 0));
        let line = c
            .lines
            .iter()
            .find(|l| l.status == Status::Changed)
            .unwrap();
        assert_eq!(line.label, "主旨");
        assert!(line.segments.contains(&Segment::Deleted("5".into())));
        assert!(line.segments.contains(&Segment::Inserted("6".into())));
        assert!(line.segments.contains(&Segment::Deleted("簽".into())));
        assert!(line.segments.contains(&Segment::Inserted("敬".into())));
        assert_eq!((c.inserted_chars, c.deleted_chars), (2, 2));
        // The old text is the kept and deleted segments; the new, the kept and inserted.
        let old: String = line
            .segments
            .iter()
            .filter(|s| !matches!(s, Segment::Inserted(_)))
            .map(Segment::text)
            .collect();
        let new: String = line
            .segments
            .iter()
            .filter(|s| !matches!(s, Segment::Deleted(_)))
            .map(Segment::text)
            .collect();
        assert_eq!(old, SUBJECT);
        assert_eq!(new, new_subject);
        assert!(c.summary().contains("修改 1 行"));
    }

    #[test]
    fn an_added_item_is_an_inserted_line() {
        let c = compare(
            &memo(SUBJECT, &["依本府函辦理。"]),
            &memo(SUBJECT, &["依本府函辦理。", "經費由本局預算支應。"]),
        );
        assert_eq!(
            (c.inserted_lines, c.deleted_lines, c.changed_lines),
            (1, 0, 0)
        );
        let ins: Vec<&ChangedLine> = c
            .lines
            .iter()
            .filter(|l| l.status == Status::Inserted)
            .collect();
        assert_eq!(ins.len(), 1);
        assert_eq!(ins[0].label, "說明");
        assert_eq!(ins[0].depth, 1);
        assert_eq!(
            ins[0].segments,
            vec![Segment::Inserted("二、經費由本局預算支應。".into())]
        );
        // In place: after 一、, before 擬辦.
        let at = c
            .lines
            .iter()
            .position(|l| l.status == Status::Inserted)
            .unwrap();
        assert_eq!(c.lines[at - 1].segments[0].text(), "一、依本府函辦理。");
        assert_eq!(c.lines[at + 1].label, "擬辦");
    }

    #[test]
    fn identical_versions_show_no_change() {
        let v = memo(SUBJECT, &["甲。", "乙。"]);
        let c = compare(&v, &v);
        assert!(c.unchanged());
        assert_eq!(c.summary(), "與前一版相同");
        assert!(c.lines.iter().all(|l| l.status == Status::Same));
        assert_eq!(c.lines.len(), readable(&v).len());
        assert!(compare(b"", b"").unchanged());
    }

    #[test]
    fn a_rewritten_line_is_deleted_and_inserted() {
        let c = compare(
            &memo("請同意採購。", &["甲。"]),
            &memo("檢送會議紀錄一份，請查照。", &["甲。"]),
        );
        assert_eq!(
            (c.inserted_lines, c.deleted_lines, c.changed_lines),
            (1, 1, 0)
        );
    }

    #[test]
    fn a_removed_field_is_a_deleted_line() {
        let old = memo(SUBJECT, &["甲。"]);
        let mut v: serde_json::Value = serde_json::from_slice(&old).unwrap();
        v.as_object_mut().unwrap().remove("敬陳");
        let c = compare(&old, &serde_json::to_vec(&v).unwrap());
        assert_eq!(
            (c.inserted_lines, c.deleted_lines, c.changed_lines),
            (0, 1, 0)
        );
        let del = c
            .lines
            .iter()
            .find(|l| l.status == Status::Deleted)
            .unwrap();
        assert_eq!(del.label, "敬陳");
    }

    #[test]
    fn other_contents_are_read_as_text_or_named_binary() {
        // JSON that is not a draft: pretty-printed.
        let lines = readable(br#"{"x": 1, "y": [2]}"#);
        assert!(lines.len() > 1 && lines.iter().all(|l| l.label.is_empty()));
        // A DI: the text of its elements, items after their 序號.
        let di = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<函><主旨><文字>請查照。</文字></主旨>\
                  <速別 代碼=\"普通件\"/><段落 段名=\"說明：\"><條列 序號=\"一、\"><文字>依據來函。</文字>\
                  </條列></段落></函>";
        let lines = readable(di.as_bytes());
        let shown: Vec<(&str, usize, &str)> = lines
            .iter()
            .map(|l| (l.label.as_str(), l.depth, l.text.as_str()))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("主旨", 0, "請查照。"),
                ("速別", 0, "普通件"),
                ("說明", 0, ""),
                ("說明", 1, "一、依據來函。"),
            ]
        );
        // Plain text, and a scan.
        assert_eq!(readable(b"a\nb\r\n").len(), 2);
        let scan = readable(b"%PDF-1.4\n\x00\x01\x02");
        assert_eq!(scan.len(), 1);
        assert_eq!(scan[0].text, "（非文字檔，12 位元組）");
        assert_eq!(
            readable(&[0xff, 0xfe, 0x00])[0].text,
            "（非文字檔，3 位元組）"
        );
    }

    #[test]
    fn huge_inputs_stay_bounded() {
        // 20,000 different lines each side (400 million cells unbounded): no line table, each
        // old line only set against the few new ones ahead of it.
        let (x, y) = ("甲".repeat(20), "乙".repeat(20));
        let a: String = (0..20_000).map(|i| format!("{x}{i}\n")).collect();
        let b: String = (0..20_000).map(|i| format!("{y}{i}\n")).collect();
        let c = compare(a.as_bytes(), b.as_bytes());
        assert!(c.coarse);
        assert_eq!(c.deleted_lines + c.changed_lines, 20_000);
        assert_eq!(c.inserted_lines + c.changed_lines, 20_000);
        // One line of 300,000 characters changed in the middle: the common ends are kept and
        // only the middle compared.
        let long = "公".repeat(150_000);
        let c = compare(
            format!("{long}甲{long}").as_bytes(),
            format!("{long}乙{long}").as_bytes(),
        );
        assert!(!c.coarse);
        assert_eq!(
            (c.changed_lines, c.inserted_chars, c.deleted_chars),
            (1, 1, 1)
        );
        // Two long lines that differ all through: too many cells, replaced whole.
        let x: String = (0..100_000)
            .map(|i| if i % 2 == 0 { '甲' } else { '乙' })
            .collect();
        let y: String = (0..100_000)
            .map(|i| if i % 3 == 0 { '甲' } else { '丙' })
            .collect();
        let c = compare(x.as_bytes(), y.as_bytes());
        assert!(c.coarse);
        assert_eq!(c.changed_lines, 1);
        assert_eq!((c.inserted_chars, c.deleted_chars), (99_999, 99_999));
        // Many lines amended in two places each (2 million cells a line): the total budget
        // ends fine comparison after a few, and the rest still show as amended.
        let fill = "字".repeat(1_400);
        let a: String = (0..300).map(|i| format!("{i}甲{fill}乙{i}\n")).collect();
        let b: String = (0..300).map(|i| format!("{i}丙{fill}丁{i}\n")).collect();
        let c = compare(a.as_bytes(), b.as_bytes());
        assert!(c.coarse);
        assert_eq!(c.changed_lines, 300);
        assert_eq!(c.lines.len(), 300);
        assert_eq!(c.lines[0].segments[1], Segment::Deleted("甲".into()));
        let last = &c.lines[299].segments;
        assert_eq!(last[1], Segment::Deleted(format!("甲{fill}乙")));
    }
}
