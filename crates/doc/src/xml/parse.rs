//! A small, strict XML 1.0 reader for DI and SW files.
//!
//! Why our own instead of a general parser: exchange files come from strangers, so every bound
//! (size, depth, counts) must be hard, nothing may ever be fetched, and no entity is expanded
//! except the five predefined ones and character references. The parser is iterative (an explicit
//! stack), so hostile nesting ends in [`DocError::TooDeep`], never in a stack overflow.

use super::{Attr, Doctype, Element, Node, TextEncoding, XmlDoc};
use crate::error::DocError;

/// Hard bounds applied while reading. The defaults are generous for real documents (a DI is a
/// few kilobytes; attachments travel as separate files) and small enough to keep a hostile file
/// from costing more than a few tens of megabytes.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting accepted (the root is depth 1). Values above [`MAX_DEPTH`] count
    /// as [`MAX_DEPTH`].
    pub max_depth: usize,
    /// Most elements in one file.
    pub max_elements: usize,
    /// Most attributes on one element.
    pub max_attributes: usize,
    /// Most attributes in one file (a 公文 has a few dozen; a flood of them would otherwise
    /// cost several times the file's size in memory).
    pub max_attributes_total: usize,
    /// Largest single text node, in bytes (after decoding).
    pub max_text_bytes: usize,
    /// Most markup declarations in a DOCTYPE internal subset.
    pub max_declarations: usize,
}

/// The deepest nesting any [`Limits`] may allow. Reading is iterative, but the validator, the
/// model reader and dropping the tree walk it recursively; this keeps them far from the end of
/// even a small thread stack. Real 公文 nest less than 20 levels.
pub const MAX_DEPTH: usize = 256;

impl Limits {
    /// [`Limits::max_depth`] as applied.
    pub fn depth_limit(&self) -> usize {
        self.max_depth.min(MAX_DEPTH)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 8 * 1024 * 1024,
            max_depth: 64,
            max_elements: 100_000,
            max_attributes: 64,
            max_attributes_total: 20_000,
            max_text_bytes: 1024 * 1024,
            max_declarations: 4096,
        }
    }
}

/// Reads `bytes` (UTF-8 or Big5/CP950, from the XML declaration) into a tree.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<XmlDoc, DocError> {
    if bytes.len() > limits.max_bytes {
        return Err(DocError::TooLarge {
            what: "檔案",
            limit: limits.max_bytes,
        });
    }
    let (text, encoding) = decode(bytes)?;
    let mut p = Parser {
        cur: Cursor { s: &text, pos: 0 },
        limits,
        elements: 0,
        attributes: 0,
        standalone: false,
    };
    // Characters XML does not allow are an error wherever they are (comments and the DOCTYPE too).
    p.check_chars(&text)?;
    let (doctype, root) = p.document()?;
    Ok(XmlDoc {
        encoding,
        standalone: p.standalone,
        doctype,
        root,
    })
}

/// Turns the raw bytes into text, honouring a UTF-8 BOM and the declared encoding.
fn decode(bytes: &[u8]) -> Result<(std::borrow::Cow<'_, str>, TextEncoding), DocError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(DocError::Encoding {
            detail: "不支援 UTF-16 編碼，請使用 UTF-8 或 Big5".into(),
        });
    }
    let encoding = match declared_encoding(bytes)? {
        None => TextEncoding::Utf8,
        Some(name) => match name.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => TextEncoding::Utf8,
            "big5" | "big-5" | "cp950" | "x-big5" | "ms950" | "big5-hkscs" => TextEncoding::Big5,
            _ => {
                return Err(DocError::Encoding {
                    detail: format!("不支援的編碼「{name}」，僅接受 UTF-8 與 Big5"),
                });
            }
        },
    };
    match encoding {
        TextEncoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => Ok((std::borrow::Cow::Borrowed(s), encoding)),
            Err(e) => Err(DocError::Encoding {
                detail: format!("第 {} 位元組不是有效的 UTF-8", e.valid_up_to()),
            }),
        },
        TextEncoding::Big5 => Ok((std::borrow::Cow::Owned(decode_cp950(bytes)?), encoding)),
    }
}

/// The private-use code point Windows (CP950) gives a user-defined character (造字), for the
/// four EUDC areas; `None` outside them.
fn cp950_eudc(lead: u8, trail: u8) -> Option<char> {
    let col = match trail {
        0x40..=0x7e => (trail - 0x40) as u32,
        0xa1..=0xfe => (trail - 0x62) as u32,
        _ => return None,
    };
    let (base, first_lead, start) = match lead {
        0xfa..=0xfe => (0xe000, 0xfa, 0),
        0x8e..=0xa0 => (0xe311, 0x8e, 0),
        0x81..=0x8d => (0xeeb8, 0x81, 0),
        // Row C6 starts at A1 (its first half is ordinary text).
        0xc6 if trail >= 0xa1 => (0xf6b1, 0xc6, 63),
        0xc7 | 0xc8 => (0xf6b1 + 94, 0xc7, 0),
        _ => return None,
    };
    char::from_u32(base + (lead - first_lead) as u32 * 157 + col - start)
}

/// Big5 as Windows reads it (CP950): the WHATWG table for ordinary characters, and private-use
/// code points for user-defined characters (造字), which old agency documents do contain and
/// which the WHATWG table would turn into unrelated HKSCS characters.
fn decode_cp950(bytes: &[u8]) -> Result<String, DocError> {
    let bad = |at: usize| DocError::Encoding {
        detail: format!("第 {at} 位元組無法以 Big5 解碼"),
    };
    let mut out = String::with_capacity(bytes.len() * 3 / 2);
    let mut run = 0; // start of the pending ordinary run
    let mut i = 0;
    let flush = |out: &mut String, from: usize, to: usize| -> Result<(), DocError> {
        let part = encoding_rs::BIG5
            .decode_without_bom_handling_and_without_replacement(&bytes[from..to])
            .ok_or_else(|| bad(from))?;
        out.push_str(&part);
        Ok(())
    };
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            i += 1;
            continue;
        }
        let trail = *bytes.get(i + 1).ok_or_else(|| bad(i))?;
        if let Some(c) = cp950_eudc(b, trail) {
            flush(&mut out, run, i)?;
            out.push(c);
            i += 2;
            run = i;
        } else {
            i += 2;
        }
    }
    flush(&mut out, run, bytes.len())?;
    Ok(out)
}

/// The `encoding="…"` of the XML declaration, read from the ASCII-compatible prefix.
fn declared_encoding(bytes: &[u8]) -> Result<Option<String>, DocError> {
    if !bytes.starts_with(b"<?xml") {
        return Ok(None);
    }
    let head = &bytes[..bytes.len().min(256)];
    let Some(end) = head.windows(2).position(|w| w == b"?>") else {
        return Ok(None); // the parser reports the broken declaration with its position
    };
    let decl = &head[..end];
    let Some(at) = decl.windows(8).position(|w| w == b"encoding") else {
        return Ok(None);
    };
    let rest = &decl[at + 8..];
    let rest = trim_ascii_start(rest);
    let Some(rest) = rest.strip_prefix(b"=") else {
        return Ok(None);
    };
    let rest = trim_ascii_start(rest);
    let Some((&q, rest)) = rest.split_first() else {
        return Ok(None);
    };
    if q != b'"' && q != b'\'' {
        return Ok(None);
    }
    let Some(close) = rest.iter().position(|&b| b == q) else {
        return Ok(None);
    };
    let name = &rest[..close];
    if !name
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
    {
        return Err(DocError::Encoding {
            detail: "XML 宣告中的編碼名稱無效".into(),
        });
    }
    Ok(Some(String::from_utf8_lossy(name).into_owned()))
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// A position in a text being read: what the XML reader and the DTD reader share.
pub(crate) struct Cursor<'a> {
    pub s: &'a str,
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    pub fn done(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub fn starts(&self, t: &str) -> bool {
        self.rest().starts_with(t)
    }

    pub fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub fn eat(&mut self, t: &str) -> bool {
        if self.starts(t) {
            self.pos += t.len();
            true
        } else {
            false
        }
    }

    /// Skips XML white space; whether there was any.
    pub fn ws(&mut self) -> bool {
        let n = self
            .rest()
            .bytes()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        self.pos += n;
        n > 0
    }
}

struct Parser<'a> {
    cur: Cursor<'a>,
    limits: &'a Limits,
    elements: usize,
    attributes: usize,
    /// `standalone="yes"` in the XML declaration.
    standalone: bool,
}

impl<'a> std::ops::Deref for Parser<'a> {
    type Target = Cursor<'a>;
    fn deref(&self) -> &Cursor<'a> {
        &self.cur
    }
}

impl std::ops::DerefMut for Parser<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.cur
    }
}

impl<'a> Parser<'a> {
    fn err(&self, msg: impl Into<String>) -> DocError {
        let (line, column) = line_col(self.s, self.pos);
        DocError::Malformed {
            line,
            column,
            detail: msg.into(),
        }
    }

    fn expect(&mut self, t: &str, what: &str) -> Result<(), DocError> {
        if self.eat(t) {
            Ok(())
        } else if self.done() {
            Err(self.err(format!("檔案不完整：缺少{what}")))
        } else {
            Err(self.err(format!("應為{what}「{t}」")))
        }
    }

    fn name(&mut self) -> Result<String, DocError> {
        let mut chars = self.rest().char_indices();
        match chars.next() {
            Some((_, c)) if is_name_start(c) => {}
            Some((_, c)) => return Err(self.err(format!("名稱不可以「{c}」開頭"))),
            None => return Err(self.err("檔案不完整：缺少名稱")),
        }
        let len = chars
            .find(|&(_, c)| !is_name_char(c))
            .map(|(i, _)| i)
            .unwrap_or(self.rest().len());
        if len > 256 {
            return Err(self.err("名稱過長（上限 256 位元組）"));
        }
        let n = self.rest()[..len].to_string();
        self.pos += len;
        Ok(n)
    }

    fn document(&mut self) -> Result<(Option<Doctype>, Element), DocError> {
        if self.starts("<?xml") && self.rest()[5..].starts_with(|c: char| c.is_ascii_whitespace()) {
            self.xml_decl()?;
        }
        let mut doctype = None;
        loop {
            self.ws();
            if self.starts("<!--") {
                self.comment()?;
            } else if self.starts("<?") {
                self.pi()?;
            } else if self.starts("<!DOCTYPE") {
                if doctype.is_some() {
                    return Err(self.err("DOCTYPE 只能出現一次"));
                }
                doctype = Some(self.doctype()?);
            } else if self.starts("<") {
                break;
            } else if self.done() {
                return Err(self.err("檔案不完整：找不到根元素"));
            } else {
                return Err(self.err("根元素之前有不允許的內容"));
            }
        }
        let root = self.element_tree()?;
        loop {
            self.ws();
            if self.done() {
                break;
            }
            if self.starts("<!--") {
                self.comment()?;
            } else if self.starts("<?") {
                self.pi()?;
            } else {
                return Err(self.err("根元素之後有多餘的內容"));
            }
        }
        Ok((doctype, root))
    }

    /// `<?xml version="1.x" encoding="…"? standalone="yes|no"? ?>`, in this order (XML 1.0 §2.8).
    fn xml_decl(&mut self) -> Result<(), DocError> {
        if !self.rest().contains("?>") {
            return Err(self.err("XML 宣告未結束"));
        }
        self.pos += 5;
        self.ws();
        if !self.eat("version") {
            return Err(self.err("XML 宣告缺少 version"));
        }
        let version = self.decl_value("version")?;
        let minor = version.strip_prefix("1.").unwrap_or("");
        if minor.is_empty() || !minor.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(format!("不支援的 XML 版本「{version}」（應為 1.0）")));
        }
        let mut ws = self.ws();
        if ws && self.eat("encoding") {
            let name = self.decl_value("encoding")?;
            let mut cs = name.chars();
            let ok = cs.next().is_some_and(|c| c.is_ascii_alphabetic())
                && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !ok {
                return Err(self.err(format!("XML 宣告中的編碼名稱「{name}」無效")));
            }
            ws = self.ws();
        }
        if ws && self.eat("standalone") {
            self.standalone = match self.decl_value("standalone")? {
                "yes" => true,
                "no" => false,
                other => {
                    return Err(self.err(format!("standalone 只能是 yes 或 no，不可為「{other}」")));
                }
            };
            self.ws();
        }
        self.expect("?>", "XML 宣告結尾")
    }

    /// `= "value"` of a pseudo-attribute of the XML declaration.
    fn decl_value(&mut self, what: &str) -> Result<&'a str, DocError> {
        self.ws();
        self.expect("=", "等號")?;
        self.ws();
        let v = self.quoted(what)?;
        if v.contains("?>") {
            return Err(self.err(format!("XML 宣告的 {what} 引號未結束")));
        }
        Ok(v)
    }

    fn comment(&mut self) -> Result<(), DocError> {
        self.pos += 4;
        let Some(end) = self.rest().find("--") else {
            return Err(self.err("註解未結束"));
        };
        self.pos += end;
        if !self.eat("-->") {
            return Err(self.err("註解中不可出現「--」"));
        }
        Ok(())
    }

    fn pi(&mut self) -> Result<(), DocError> {
        self.pos += 2;
        let target = self.name()?;
        if target.eq_ignore_ascii_case("xml") {
            return Err(self.err("XML 宣告只能出現在檔案開頭"));
        }
        if !self.starts("?>") && !self.ws() {
            return Err(self.err(format!("處理指令「{target}」的名稱之後應有空白")));
        }
        let Some(end) = self.rest().find("?>") else {
            return Err(self.err("處理指令未結束"));
        };
        self.pos += end + 2;
        Ok(())
    }

    fn quoted(&mut self, what: &str) -> Result<&'a str, DocError> {
        let q = match self.peek() {
            Some(q @ ('"' | '\'')) => q,
            _ => return Err(self.err(format!("{what}應以引號括住"))),
        };
        self.pos += 1;
        let Some(end) = self.rest().find(q) else {
            return Err(self.err(format!("{what}的引號未結束")));
        };
        let v = &self.rest()[..end];
        self.pos += end + 1;
        Ok(v)
    }

    fn doctype(&mut self) -> Result<Doctype, DocError> {
        self.pos += "<!DOCTYPE".len();
        if !self.ws() {
            return Err(self.err("DOCTYPE 之後應有空白"));
        }
        let name = self.name()?;
        self.ws();
        let (mut public_id, mut system_id) = (None, None);
        if self.eat("SYSTEM") {
            self.ws();
            system_id = Some(self.quoted("SYSTEM 識別")?.to_string());
        } else if self.eat("PUBLIC") {
            self.ws();
            let id = self.quoted("PUBLIC 識別")?;
            if let Some(c) = id.chars().find(|&c| !is_pubid_char(c)) {
                return Err(self.err(format!("PUBLIC 識別中不可有字元「{c}」")));
            }
            public_id = Some(id.to_string());
            self.ws();
            system_id = Some(self.quoted("SYSTEM 識別")?.to_string());
        }
        self.ws();
        let mut internal_subset = None;
        let mut internal_offset = 0;
        if self.eat("[") {
            internal_offset = self.pos;
            let start = self.pos;
            self.internal_subset()?;
            internal_subset = Some(self.s[start..self.pos].to_string());
            self.expect("]", "內部子集結尾")?;
            self.ws();
        }
        self.expect(">", "DOCTYPE 結尾")?;
        let (internal_line, _) = line_col(self.s, internal_offset);
        Ok(Doctype {
            name,
            public_id,
            system_id,
            internal_subset,
            internal_line,
        })
    }

    /// Finds the end of the internal subset, stepping over quoted literals and comments so that a
    /// `]` inside them does not end it. The declarations are read later by the DTD module.
    fn internal_subset(&mut self) -> Result<(), DocError> {
        let mut decls = 0usize;
        loop {
            self.ws();
            if self.starts("]") {
                return Ok(());
            }
            count(&mut decls, self.limits.max_declarations, "DOCTYPE 宣告")?;
            if self.starts("<!--") {
                self.comment()?;
            } else if self.starts("<?") {
                self.pi()?;
            } else if self.eat("<!") {
                loop {
                    match self.peek() {
                        None => return Err(self.err("檔案不完整：DOCTYPE 宣告未結束")),
                        Some('>') => {
                            self.pos += 1;
                            break;
                        }
                        Some('"' | '\'') => {
                            self.quoted("宣告中的字串")?;
                        }
                        Some('<') => return Err(self.err("DOCTYPE 宣告中不可出現「<」")),
                        Some(c) => self.pos += c.len_utf8(),
                    }
                }
            } else if self.eat("%") {
                self.name()?;
                self.expect(";", "參數實體參照結尾")?;
            } else if self.done() {
                return Err(self.err("檔案不完整：DOCTYPE 內部子集未結束"));
            } else {
                return Err(self.err("DOCTYPE 內部子集中有無法辨識的內容"));
            }
        }
    }

    /// Reads the root element and everything inside it, without recursion.
    ///
    /// All character data between two tags (text, CDATA sections, references) becomes one node,
    /// and comments or processing instructions leave one [`Node::Markup`] marker however many
    /// there are, so the tree never holds more than a few nodes per element whatever the file.
    fn element_tree(&mut self) -> Result<Element, DocError> {
        let mut stack: Vec<Element> = Vec::new();
        let mut text = String::new();
        // The pending character data contains a CDATA section (it becomes a `Node::CData`).
        let mut cdata = false;
        loop {
            if self.done() {
                let open = stack.last().map(|e| e.name.as_str()).unwrap_or("");
                return Err(self.err(format!("檔案不完整：元素〈{open}〉未結束")));
            }
            if self.starts("<!--") || self.starts("<?") {
                // Text on both sides of a comment or processing instruction stays one text node;
                // the element only records that it holds markup (one marker however many).
                if self.starts("<!--") {
                    self.comment()?;
                } else {
                    self.pi()?;
                }
                if let Some(top) = stack.last_mut()
                    && !matches!(top.children.last(), Some(Node::Markup))
                {
                    top.children.push(Node::Markup);
                }
                continue;
            }
            if self.starts("<![CDATA[") {
                if stack.is_empty() {
                    return Err(self.err("根元素之外有 CDATA"));
                }
                self.pos += 9;
                let Some(end) = self.rest().find("]]>") else {
                    return Err(self.err("檔案不完整：CDATA 未結束"));
                };
                let raw = &self.rest()[..end];
                self.check_chars(raw)?;
                self.text_fits(text.len() + raw.len())?;
                text.push_str(&normalize_newlines(raw));
                cdata = true;
                self.pos += end + 3;
                continue;
            }
            if self.starts("<") {
                if !text.is_empty() || cdata {
                    let Some(top) = stack.last_mut() else {
                        return Err(self.err("根元素之外有文字"));
                    };
                    let t = std::mem::take(&mut text);
                    top.children
                        .push(if cdata { Node::CData(t) } else { Node::Text(t) });
                    cdata = false;
                }
                if self.starts("</") {
                    self.pos += 2;
                    let name = self.name()?;
                    self.ws();
                    self.expect(">", "結束標籤結尾")?;
                    let Some(done) = stack.pop() else {
                        return Err(self.err(format!("多餘的結束標籤〈/{name}〉")));
                    };
                    if done.name != name {
                        return Err(self.err(format!(
                            "結束標籤〈/{name}〉與開始標籤〈{}〉不符",
                            done.name
                        )));
                    }
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(Node::Element(done)),
                        None => return Ok(done),
                    }
                } else if self.starts("<!") {
                    return Err(self.err("元素內容中不可出現宣告"));
                } else {
                    let (el, empty) = self.start_tag(stack.len() + 1)?;
                    if empty {
                        match stack.last_mut() {
                            Some(parent) => parent.children.push(Node::Element(el)),
                            None => return Ok(el),
                        }
                    } else {
                        stack.push(el);
                    }
                }
            } else {
                if stack.is_empty() {
                    return Err(self.err("根元素之前有文字"));
                }
                self.char_data(&mut text)?;
            }
        }
    }

    fn start_tag(&mut self, depth: usize) -> Result<(Element, bool), DocError> {
        if depth > self.limits.depth_limit() {
            return Err(DocError::TooDeep {
                limit: self.limits.depth_limit(),
            });
        }
        count(&mut self.elements, self.limits.max_elements, "元素")?;
        self.pos += 1;
        let name = self.name()?;
        let mut attrs: Vec<Attr> = Vec::new();
        loop {
            let had_ws = self.ws();
            if self.eat("/>") {
                return Ok((Element::new(name, attrs), true));
            }
            if self.eat(">") {
                return Ok((Element::new(name, attrs), false));
            }
            if self.done() {
                return Err(self.err(format!("檔案不完整：〈{name}〉的開始標籤未結束")));
            }
            if !had_ws {
                return Err(self.err(format!("〈{name}〉的屬性之間應有空白")));
            }
            let an = self.name()?;
            self.ws();
            self.expect("=", "屬性等號")?;
            self.ws();
            let raw = self.quoted("屬性值")?;
            if raw.len() > self.limits.max_text_bytes {
                return Err(DocError::TooLarge {
                    what: "屬性值",
                    limit: self.limits.max_text_bytes,
                });
            }
            if raw.contains('<') {
                return Err(self.err(format!("屬性 {an} 的值不可含「<」")));
            }
            let value = self.attr_value(raw)?;
            if attrs.iter().any(|a| a.name == an) {
                return Err(self.err(format!("〈{name}〉的屬性 {an} 重複")));
            }
            count(
                &mut self.attributes,
                self.limits.max_attributes_total,
                "屬性（全檔）",
            )?;
            // This attribute, counted against the limit for one element.
            count(&mut attrs.len(), self.limits.max_attributes, "屬性")?;
            attrs.push(Attr { name: an, value });
        }
    }

    fn attr_value(&self, raw: &str) -> Result<String, DocError> {
        self.check_chars(raw)?;
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find(['&', '\t', '\n', '\r']) {
            out.push_str(&rest[..i]);
            let c = rest.as_bytes()[i];
            if c == b'&' {
                let (ch, used) = self.reference(&rest[i..])?;
                out.push_str(&ch);
                rest = &rest[i + used..];
            } else {
                // attribute-value normalisation: CR LF counts once, each white space becomes a space
                out.push(' ');
                rest = if rest[i..].starts_with("\r\n") {
                    &rest[i + 2..]
                } else {
                    &rest[i + 1..]
                };
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    fn char_data(&mut self, text: &mut String) -> Result<(), DocError> {
        let end = self.rest().find('<').unwrap_or(self.rest().len());
        let raw = &self.rest()[..end];
        self.check_chars(raw)?;
        if raw.contains("]]>") {
            return Err(self.err("文字中不可出現「]]>」"));
        }
        self.text_fits(text.len() + raw.len())?;
        let mut rest = raw;
        while let Some(i) = rest.find(['&', '\r']) {
            text.push_str(&rest[..i]);
            if rest.as_bytes()[i] == b'\r' {
                text.push('\n');
                rest = if rest[i..].starts_with("\r\n") {
                    &rest[i + 2..]
                } else {
                    &rest[i + 1..]
                };
            } else {
                let (ch, used) = self
                    .reference(&rest[i..])
                    .map_err(|e| self.at(e, raw.len() - rest.len() + i))?;
                text.push_str(&ch);
                rest = &rest[i + used..];
            }
        }
        text.push_str(rest);
        self.pos += end;
        Ok(())
    }

    /// Character data of `len` bytes between two tags is within the limit.
    fn text_fits(&self, len: usize) -> Result<(), DocError> {
        if len > self.limits.max_text_bytes {
            return Err(DocError::TooLarge {
                what: "文字內容",
                limit: self.limits.max_text_bytes,
            });
        }
        Ok(())
    }

    /// Moves a malformed-error's position `delta` bytes ahead of the current position.
    fn at(&self, e: DocError, delta: usize) -> DocError {
        match e {
            DocError::Malformed { detail, .. } => {
                let (line, column) = line_col(self.s, self.pos + delta);
                DocError::Malformed {
                    line,
                    column,
                    detail,
                }
            }
            other => other,
        }
    }

    /// Resolves `&…;` at the start of `s`: predefined entities and character references only.
    fn reference(&self, s: &str) -> Result<(String, usize), DocError> {
        // Byte search: ';' is ASCII, so its position is always a character boundary.
        let Some(end) = s.as_bytes()[..s.len().min(64)]
            .iter()
            .position(|&b| b == b';')
        else {
            return Err(self.err("「&」之後應為實體參照（例如 &amp;）"));
        };
        let body = &s[1..end];
        let used = end + 1;
        let ch = match body {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ if body.starts_with("#x") => char_ref(&body[2..], 16)
                .ok_or_else(|| self.err(format!("字元參照 &{body}; 不是有效的 XML 字元")))?,
            _ if body.starts_with('#') => char_ref(&body[1..], 10)
                .ok_or_else(|| self.err(format!("字元參照 &{body}; 不是有效的 XML 字元")))?,
            _ => {
                return Err(DocError::Entity {
                    name: body.to_string(),
                    detail: "不展開自訂實體，只接受預先定義實體與字元參照".into(),
                });
            }
        };
        Ok((ch.to_string(), used))
    }

    fn check_chars(&self, s: &str) -> Result<(), DocError> {
        if let Some((i, c)) = s.char_indices().find(|&(_, c)| !is_xml_char(c)) {
            let (line, column) = line_col(self.s, self.pos + i);
            return Err(DocError::Malformed {
                line,
                column,
                detail: format!("不允許的字元 U+{:04X}", c as u32),
            });
        }
        Ok(())
    }
}

/// Counts one more of `what`; more than `limit` is an error.
fn count(n: &mut usize, limit: usize, what: &'static str) -> Result<(), DocError> {
    *n += 1;
    if *n > limit {
        return Err(DocError::TooMany { what, limit });
    }
    Ok(())
}

fn char_ref(digits: &str, radix: u32) -> Option<char> {
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let v = u32::from_str_radix(digits, radix).ok()?;
    char::from_u32(v).filter(|&c| is_xml_char(c))
}

fn normalize_newlines(s: &str) -> String {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.to_string()
    }
}

/// 1-based line and column (in characters) of a byte offset; only computed for error messages.
pub(crate) fn line_col(s: &str, pos: usize) -> (u32, u32) {
    let pos = pos.min(s.len());
    let mut p = pos;
    while !s.is_char_boundary(p) {
        p -= 1;
    }
    let before = &s[..p];
    let line = before.bytes().filter(|&b| b == b'\n').count() as u32 + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() as u32 + 1;
    (line, column)
}

pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c as u32, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

pub(crate) fn is_name_start(c: char) -> bool {
    matches!(c as u32,
        0x3A | 0x41..=0x5A | 0x5F | 0x61..=0x7A | 0xC0..=0xD6 | 0xD8..=0xF6 | 0xF8..=0x2FF
        | 0x370..=0x37D | 0x37F..=0x1FFF | 0x200C..=0x200D | 0x2070..=0x218F
        | 0x2C00..=0x2FEF | 0x3001..=0xD7FF | 0xF900..=0xFDCF | 0xFDF0..=0xFFFD
        | 0x10000..=0xEFFFF)
}

/// PubidChar (XML 1.0 §2.3).
pub(crate) fn is_pubid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " \r\n-'()+,./:=?;!*#@$_%".contains(c)
}

/// A Name (XML 1.0 §2.3).
pub(crate) fn is_name(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(is_name_start) && cs.all(is_name_char)
}

pub(crate) fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c as u32, 0x2D | 0x2E | 0x30..=0x39 | 0xB7 | 0x300..=0x36F | 0x203F..=0x2040)
}

#[cfg(test)]
mod cp950_tests {
    use super::*;

    #[test]
    fn user_defined_characters_become_private_use_like_windows() {
        // 主旨 in Big5, then four 造字 from each EUDC area, then ASCII.
        let bytes = [
            0xa5, 0x44, 0xa6, 0xae, 0xfa, 0x40, 0x8e, 0x40, 0x81, 0x40, 0xc6, 0xa1, 0xc8, 0xfe,
            b'!',
        ];
        let s = decode_cp950(&bytes).unwrap();
        let chars: Vec<u32> = s.chars().map(|c| c as u32).collect();
        assert_eq!(&s[..6], "主旨");
        assert_eq!(
            &chars[2..],
            &[0xe000, 0xe311, 0xeeb8, 0xf6b1, 0xf848, '!' as u32]
        );
        // The last code of each area is the one before the next area's first.
        assert_eq!(cp950_eudc(0xfe, 0xfe), Some('\u{e310}'));
        assert_eq!(cp950_eudc(0xa0, 0xfe), Some('\u{eeb7}'));
        assert_eq!(cp950_eudc(0x8d, 0xfe), Some('\u{f6b0}'));
        // Row C6's first half is ordinary (Japanese kana and the like in Big5-ETEN).
        assert_eq!(cp950_eudc(0xc6, 0x40), None);
        // A lead byte at the end, or a trail byte out of range, is an error.
        assert!(decode_cp950(&[0xa5]).is_err());
        assert!(decode_cp950(&[0xa5, 0x30]).is_err());
    }
}
