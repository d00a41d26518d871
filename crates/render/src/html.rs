//! The document as a self-contained HTML page (no scripts, no outside resources), for the web
//! client and for anyone without a PDF reader. Same blocks as the PDF, so the same content.
//! The page is the template `templates/document.html`, compiled in.

use askama::Template;
use gongwen_doc::Di;

use crate::blocks::{Block, Size, blocks};
use crate::{ExchangeStamp, RenderOptions};

#[derive(Template)]
#[template(path = "document.html")]
struct Page<'a> {
    kind_label: &'static str,
    subject: &'a str,
    stamp: Option<&'a ExchangeStamp>,
    mark: Option<&'a str>,
    blocks: Vec<Block>,
}

impl Page<'_> {
    /// The left margin of a numbered item, in em: its number hangs one em out.
    fn indent(&self, level: &usize) -> usize {
        (2 * (*level).min(12)).saturating_sub(1)
    }
}

impl Size {
    /// The style class of the size.
    fn class(&self) -> &'static str {
        match self {
            Size::Small => "s",
            Size::Body => "b",
            Size::Large => "l",
        }
    }
}

/// The page's escaper: the five characters that matter as named entities, and control
/// characters (but line feeds) dropped, as a document's text may carry them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Escape;

impl askama::filters::Escaper for Escape {
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, s: &str) -> std::fmt::Result {
        for c in s.chars() {
            match c {
                '&' => dest.write_str("&amp;")?,
                '<' => dest.write_str("&lt;")?,
                '>' => dest.write_str("&gt;")?,
                '"' => dest.write_str("&quot;")?,
                '\'' => dest.write_str("&#39;")?,
                c if c.is_control() && c != '\n' => {}
                c => dest.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// The document as a complete HTML page (UTF-8).
pub fn render_html(di: &Di, opts: &RenderOptions) -> String {
    let d = &di.document;
    let page = Page {
        kind_label: d.kind().label(),
        subject: d.subject(),
        stamp: opts.stamp.as_ref(),
        mark: opts.mark.as_deref(),
        blocks: blocks(di),
    };
    // Writing into a String fails only if a value's Display does, and none here does. The
    // file ends with a line feed, as text files do (askama drops the template's last one).
    page.render().map(|h| h + "\n").unwrap_or_default()
}
