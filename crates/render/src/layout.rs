//! From blocks to pages: line breaking with the Chinese rules (避頭點: no line starts with
//! ，。：、）」 …; no line ends with （「 …), hanging indentation, and page breaks.
//! Geometry is in PDF points with the origin at the top left of an A4 page.

use crate::blocks::{Block, Size};
use crate::fonts::Measure;

pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
/// Margins: 2.5 cm left (binding side), 2 cm right and top, 2.5 cm bottom (page numbers).
pub const LEFT: f32 = 70.87;
pub const RIGHT: f32 = PAGE_W - 56.69;
pub const TOP: f32 = 56.69;
pub const BOTTOM: f32 = PAGE_H - 70.87;
/// Height of the exchange stamp box (drawn by the PDF writer); the title stays below it.
pub(crate) const STAMP_H: f32 = 64.0;
const LINE: f32 = 1.55;
const GAP: f32 = 8.0;

/// Characters that may not begin a line.
const NO_START: &str = "，。、；：？！）」』】〕〉》’”．,.;:?!)]}%％…‥—～・·｝］";
/// Characters that may not end a line.
const NO_END: &str = "（「『【〔〈《‘“([{｛［";

/// A piece of text in one font at one position (y is the baseline).
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub face: usize,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct Page {
    pub runs: Vec<Run>,
}

/// A line of text before it is placed: its characters with their fonts and widths.
struct Line {
    chars: Vec<(char, usize, f32)>,
}

impl Line {
    fn width(&self) -> f32 {
        self.chars.iter().map(|c| c.2).sum()
    }
}

pub struct Layout<'a, 'f> {
    measure: &'a mut Measure<'f>,
    pub pages: Vec<Page>,
    y: f32,
}

/// Line breaks are allowed between these units only: one CJK character, one Latin word or
/// number (URLs and e-mail addresses stay whole), or one space — with 避頭點 characters glued to
/// the unit before them and opening brackets glued to the unit after them.
fn units(text: &str) -> Vec<String> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || "@._-/:?=&%#+~".contains(c);
    let mut raw: Vec<String> = Vec::new();
    let mut prev_word = false;
    for c in text.chars() {
        let w = is_word(c);
        match raw.last_mut() {
            Some(last) if w && prev_word => last.push(c),
            _ => raw.push(c.to_string()),
        }
        prev_word = w;
    }
    let mut out: Vec<String> = Vec::new();
    let mut pending_open = String::new();
    for u in raw {
        let first = u.chars().next().unwrap_or(' ');
        if NO_END.contains(first) && u.chars().count() == 1 {
            pending_open.push_str(&u);
            continue;
        }
        let u = std::mem::take(&mut pending_open) + &u;
        match out.last_mut() {
            Some(last) if NO_START.contains(first) => last.push_str(&u),
            _ => out.push(u),
        }
    }
    if !pending_open.is_empty() {
        out.push(pending_open);
    }
    out
}

/// Line breaks and tabs in DI text are formatting of the XML, not of the document: between
/// Chinese characters they vanish, between Latin words they become a space.
fn clean(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c.is_control() {
            let before = out
                .chars()
                .last()
                .is_some_and(|p: char| p.is_ascii_alphanumeric());
            let after = chars[i + 1..]
                .iter()
                .find(|c| !c.is_control())
                .is_some_and(|n| n.is_ascii_alphanumeric());
            if before && after && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl<'a, 'f> Layout<'a, 'f> {
    pub fn new(measure: &'a mut Measure<'f>) -> Self {
        Layout {
            measure,
            pages: vec![Page::default()],
            y: TOP,
        }
    }

    /// Each character as printed, with its font slot and width in points.
    fn shaped(&mut self, text: &str, size: f32) -> Vec<(char, usize, f32)> {
        text.chars()
            .map(|c| {
                let (c, f, em) = self.measure.resolve(c);
                (c, f, em * size)
            })
            .collect()
    }

    /// Breaks `text` into lines no wider than `width` at `size` points.
    fn break_lines(&mut self, text: &str, size: f32, width: f32) -> Vec<Line> {
        // The lines already full, and the one being filled.
        let mut done = Vec::new();
        let mut cur = Line { chars: Vec::new() };
        for unit in units(&clean(text)) {
            let chars = self.shaped(&unit, size);
            let w: f32 = chars.iter().map(|c| c.2).sum();
            if cur.width() + w <= width + 0.01 {
                cur.chars.extend(chars);
                continue;
            }
            if w <= width {
                done.push(std::mem::replace(&mut cur, Line { chars }));
            } else {
                // Wider than a whole line (a long URL): break it anywhere.
                for ch in chars {
                    if !cur.chars.is_empty() && cur.width() + ch.2 > width + 0.01 {
                        // Even here an opening bracket stays with what follows it and a
                        // closing mark with what precedes it.
                        let last = cur.chars.last().map_or(' ', |c| c.0);
                        let carry = (cur.chars.len() > 1
                            && (NO_END.contains(last) || NO_START.contains(ch.0)))
                        .then(|| cur.chars.pop())
                        .flatten();
                        let next = Line {
                            chars: carry.into_iter().collect(),
                        };
                        done.push(std::mem::replace(&mut cur, next));
                    }
                    cur.chars.push(ch);
                }
            }
            // A line never starts with a space.
            while cur.chars.first().is_some_and(|c| c.0 == ' ') {
                cur.chars.remove(0);
            }
        }
        done.push(cur);
        done
    }

    fn advance(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > TOP + 0.5 {
            self.pages.push(Page::default());
            self.y = TOP;
        }
    }

    /// Places one line with its baseline `size` below the current position and moves down.
    fn place(&mut self, x: f32, line: &Line, size: f32) {
        let height = size * LINE;
        self.advance(height);
        let baseline = self.y + size * 1.1;
        let runs = runs(x, baseline, size, &line.chars);
        match self.pages.last_mut() {
            Some(page) => page.runs.extend(runs),
            None => self.pages.push(Page { runs }),
        }
        self.y += height;
    }

    /// `text` wrapped from `x` to the right margin.
    fn flow(&mut self, x: f32, text: &str, size: f32) {
        for line in self.break_lines(text, size, RIGHT - x) {
            self.place(x, &line, size);
        }
    }

    /// `label` at `x`, then `text` wrapped with every line starting where the text starts.
    fn hanging(&mut self, x: f32, label: &str, text: &str, size: f32) {
        let label_w = self.measure.width(label, size);
        if RIGHT - (x + label_w) < 6.0 * size {
            // A label that leaves no room (deep nesting, a very long 序號): the label on its
            // own lines, the text under it.
            self.flow(x, label, size);
            self.flow((x + size).min(RIGHT - 6.0 * size), text, size);
            return;
        }
        let text_x = x + label_w;
        let mut lines = self.break_lines(text, size, RIGHT - text_x);
        let label_line = self.break_lines(label, size, f32::MAX).remove(0);
        let first = lines.remove(0);
        let mut chars = label_line.chars;
        chars.extend(first.chars);
        self.place(x, &Line { chars }, size);
        for l in lines {
            self.place(text_x, &l, size);
        }
    }

    fn centred(&mut self, text: &str, size: f32) {
        for line in self.break_lines(text, size, RIGHT - LEFT) {
            let x = LEFT + ((RIGHT - LEFT) - line.width()) / 2.0;
            self.place(x, &line, size);
        }
    }

    /// Lays out the blocks; `reserve_top` keeps the title below a stamp or mark in the top
    /// right of the first page.
    pub fn blocks(&mut self, blocks: &[Block], reserve_top: bool) {
        // The x where each 條列 level's text starts, so a child's number starts there.
        let mut item_text_x: Vec<f32> = Vec::new();
        for b in blocks {
            if !matches!(b, Block::Item { .. }) {
                item_text_x.clear();
            }
            match b {
                Block::FileBox => {
                    let top = self.y;
                    let small = Size::Small.points();
                    for label in ["檔　　號：", "保存年限："] {
                        let line = self.break_lines(label, small, f32::MAX).remove(0);
                        self.place(LEFT, &line, small);
                    }
                    if reserve_top {
                        self.y = self.y.max(top + STAMP_H + GAP);
                    }
                }
                Block::Title { issuers, kind } => {
                    self.y += GAP;
                    let size = Size::Large.points();
                    let n = issuers.len();
                    for (i, name) in issuers.iter().enumerate() {
                        if i + 1 == n && !kind.is_empty() {
                            self.centred(&format!("{name}　{kind}"), size);
                        } else {
                            self.centred(name, size);
                        }
                    }
                    if issuers.is_empty() {
                        self.centred(kind, size);
                    }
                }
                Block::Contact(lines) => {
                    let x = LEFT + (RIGHT - LEFT) * 0.5;
                    lines
                        .iter()
                        .for_each(|l| self.flow(x, l, Size::Small.points()));
                }
                Block::Field { label, text, size } => {
                    self.hanging(LEFT, label, text, size.points())
                }
                Block::Item {
                    level,
                    number,
                    text,
                    size,
                } => {
                    let size = size.points();
                    let depth = level.saturating_sub(1);
                    item_text_x.truncate(depth);
                    let x = item_text_x.last().copied().unwrap_or(LEFT + size);
                    // Very deep nesting still leaves a third of the line for text.
                    let x = x.min(LEFT + (RIGHT - LEFT) * 0.66);
                    let number_w = self.measure.width(number, size);
                    item_text_x.push(x + number_w);
                    self.hanging(x, number, text, size);
                }
                Block::Gap => self.y += GAP,
                Block::Signature(lines) => {
                    let x = LEFT + (RIGHT - LEFT) * 0.45;
                    lines
                        .iter()
                        .for_each(|l| self.flow(x, l, Size::Large.points()));
                }
            }
        }
    }

    /// One line of text at a fixed place outside the flow (page numbers, stamps): its runs
    /// and its width.
    pub fn fixed(&mut self, x: f32, baseline: f32, text: &str, size: f32) -> (Vec<Run>, f32) {
        let chars = self.shaped(text, size);
        let width = chars.iter().map(|c| c.2).sum();
        (runs(x, baseline, size, &chars), width)
    }

    pub fn width(&mut self, text: &str, size: f32) -> f32 {
        self.measure.width(text, size)
    }
}

/// Splits a line into runs of one font each.
fn runs(x: f32, baseline: f32, size: f32, chars: &[(char, usize, f32)]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut x = x;
    for &(c, face, w) in chars {
        match out.last_mut() {
            Some(r) if r.face == face => r.text.push(c),
            _ => out.push(Run {
                x,
                y: baseline,
                size,
                face,
                text: c.to_string(),
            }),
        }
        x += w;
    }
    out
}
