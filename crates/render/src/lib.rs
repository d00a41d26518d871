//! `gongwen-render`: a 公文 as people print and read it.
//!
//! - [`render_pdf`]: A4 in the customary layout of each 文別, the 全字庫 font embedded and
//!   subset, Chinese line breaking, 第 n 頁，共 m 頁, and for a received document the
//!   電子公文交換戳記 and 騎縫 marks.
//! - [`render_html`]: the same document for the web client.
//! - [`render_text`]: the same document as terminal text.
//!
//! All three are drawn from one list of printed blocks ([`blocks`]), so they never disagree.

mod blocks;
mod fonts;
mod html;
mod layout;
mod pdf;

use std::fmt;

use gongwen_doc::RocDate;

pub use blocks::render_text;
pub use fonts::Fonts;
pub use html::render_html;
pub use pdf::{page_count, render_pdf, render_record_pdf};

/// A record printed with a document: 簽核紀錄 and the like.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// The agency, printed as the heading.
    pub agency: String,
    /// What the record is, printed after the agency (簽核紀錄).
    pub kind: String,
    /// What it is about, for the PDF's title.
    pub subject: String,
    /// Groups of `label：text` lines, with a gap after each group (one step of a case).
    pub groups: Vec<Vec<(String, String)>>,
}

/// The 電子公文交換戳記 printed on a received electronic document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeStamp {
    /// The receiving agency.
    pub agency: String,
    /// Date of receipt (Asia/Taipei).
    pub date: RocDate,
    pub hour: u8,
    pub minute: u8,
    /// 收文字號.
    pub receipt_number: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Present when printing a received document: adds the stamp and the 騎縫 marks.
    pub stamp: Option<ExchangeStamp>,
    /// A sender's mark in the top right of the first page, e.g. 「已電子交換未確認」 on the
    /// paper copy mailed to a recipient that did not confirm, or 「已電子交換」 on the copy
    /// filed.
    pub mark: Option<String>,
}

/// Why a document could not be printed. Codes are listed in `docs/errors.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// No Traditional Chinese font is installed.
    FontMissing { tried: Vec<String> },
    /// A font file that cannot be read as TrueType/OpenType.
    FontInvalid { detail: String },
    /// The PDF writer refused the document.
    Pdf { detail: String },
}

impl RenderError {
    pub fn code(&self) -> &'static str {
        match self {
            RenderError::FontMissing { .. } => "E_RENDER_FONT_MISSING",
            RenderError::FontInvalid { .. } => "E_RENDER_FONT_INVALID",
            RenderError::Pdf { .. } => "E_RENDER_PDF",
        }
    }
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::FontMissing { tried } => write!(
                f,
                "找不到中文字型，請安裝全字庫字型（Debian 套件 fonts-cns11643-kai）或以 --font 指定字型檔；已找過：{}",
                tried.join("、")
            ),
            RenderError::FontInvalid { detail } => write!(f, "字型檔有誤：{detail}"),
            RenderError::Pdf { detail } => write!(f, "產生 PDF 失敗：{detail}"),
        }
    }
}

impl std::error::Error for RenderError {}

#[cfg(test)]
mod tests;
