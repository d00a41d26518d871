//! The XML layer: a bounded reader, a tree, and a writer. Knows nothing about 公文.

mod parse;

use std::collections::HashMap;

pub(crate) use parse::{
    Cursor, is_name, is_name_char, is_name_start, is_pubid_char, is_xml_char, line_col,
};
pub use parse::{Limits, MAX_DEPTH, parse};

/// The character encoding a file was read in. Written files are always UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    /// Legacy DIs (`encoding="big5"`), decoded as CP950 (造字 to private-use code points).
    Big5,
}

/// A whole XML file as read.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlDoc {
    pub encoding: TextEncoding,
    /// `standalone="yes"` in the XML declaration: the external DTD may then neither supply
    /// attribute defaults nor make white space in element content ignorable.
    pub standalone: bool,
    pub doctype: Option<Doctype>,
    pub root: Element,
}

/// `<!DOCTYPE name SYSTEM "…" [ internal subset ]>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Doctype {
    pub name: String,
    pub public_id: Option<String>,
    pub system_id: Option<String>,
    /// The raw text between `[` and `]`, read later by [`crate::dtd`].
    pub internal_subset: Option<String>,
    /// Line of the file where the internal subset starts, for messages.
    pub internal_line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Element(Element),
    /// Character data between two tags, references resolved.
    Text(String),
    /// Character data between two tags that includes at least one CDATA section (the text
    /// around the sections is part of it). Only element content cares about the difference.
    CData(String),
    /// One or more comments or processing instructions. Their text carries no meaning for a 公文
    /// and is not kept, but an element declared EMPTY may not hold them. Never written.
    Markup,
}

impl Element {
    pub fn new(name: impl Into<String>, attrs: Vec<Attr>) -> Self {
        Element {
            name: name.into(),
            attrs,
            children: Vec::new(),
        }
    }

    /// An element holding only text.
    pub fn text(name: &str, text: &str) -> Self {
        Element {
            name: name.to_string(),
            attrs: Vec::new(),
            children: vec![Node::Text(text.to_string())],
        }
    }

    pub fn with_attr(mut self, name: &str, value: &str) -> Self {
        self.attrs.push(Attr {
            name: name.to_string(),
            value: value.to_string(),
        });
        self
    }

    pub fn push(&mut self, child: Element) {
        self.children.push(Node::Element(child));
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.as_str())
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// For each child element: its number among the siblings of the same name, 0 when the name is
    /// unique (element paths index a name only where siblings share it).
    pub(crate) fn ordinals(&self) -> Vec<usize> {
        let mut totals: HashMap<&str, usize> = HashMap::new();
        for c in self.elements() {
            *totals.entry(c.name.as_str()).or_default() += 1;
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        self.elements()
            .map(|c| {
                let n = seen.entry(c.name.as_str()).or_default();
                *n += 1;
                if totals[c.name.as_str()] > 1 { *n } else { 0 }
            })
            .collect()
    }

    /// All character data directly inside this element, concatenated.
    pub fn text_content(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            match n {
                Node::Text(t) | Node::CData(t) => s.push_str(t),
                Node::Element(_) | Node::Markup => {}
            }
        }
        s
    }
}

/// Serialises a tree as UTF-8 with two-space indentation of element-only content.
pub fn write(
    out: &mut String,
    doctype_name: Option<&str>,
    system_id: &str,
    subset: &[String],
    root: &Element,
) {
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if let Some(name) = doctype_name {
        out.push_str("<!DOCTYPE ");
        out.push_str(name);
        out.push_str(" SYSTEM \"");
        out.push_str(system_id);
        out.push('"');
        if !subset.is_empty() {
            out.push_str(" [\n");
            for d in subset {
                out.push_str(d);
                out.push('\n');
            }
            out.push(']');
        }
        out.push_str(">\n");
    }
    write_element(out, root, 0);
    out.push('\n');
}

fn write_element(out: &mut String, e: &Element, depth: usize) {
    out.push('<');
    out.push_str(&e.name);
    for a in &e.attrs {
        out.push(' ');
        out.push_str(&a.name);
        out.push_str("=\"");
        escape_into(out, &a.value, true);
        out.push('"');
    }
    if e.children.iter().all(|n| matches!(n, Node::Markup)) {
        out.push_str("/>");
        return;
    }
    out.push('>');
    let element_only = e
        .children
        .iter()
        .all(|n| matches!(n, Node::Element(_) | Node::Markup));
    for n in &e.children {
        match n {
            Node::Element(c) => {
                if element_only {
                    out.push('\n');
                    indent(out, depth + 1);
                }
                write_element(out, c, depth + 1);
            }
            Node::Text(t) => escape_into(out, t, false),
            Node::CData(t) => {
                // Written as escaped text: the meaning is the same and "]]>" needs no care.
                escape_into(out, t, false)
            }
            Node::Markup => {}
        }
    }
    if element_only {
        out.push('\n');
        indent(out, depth);
    }
    out.push_str("</");
    out.push_str(&e.name);
    out.push('>');
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Escapes markup characters; in attributes also quotes and the white space that attribute
/// normalisation would otherwise turn into spaces.
pub fn escape_into(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
}
