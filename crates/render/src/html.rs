//! The document as a self-contained HTML page (no scripts, no outside resources), for the web
//! client and for anyone without a PDF reader. Same blocks as the PDF, so the same content.

use gongwen_doc::Di;

use crate::blocks::{Block, Size, blocks};
use crate::{ExchangeStamp, RenderOptions};

const STYLE: &str = "\
body{margin:0;background:#eee;font-family:'TW-Kai','全字庫正楷體','AR PL UKai TW','Noto Serif CJK TC','Noto Sans CJK TC',serif;color:#000}
.page{position:relative;box-sizing:border-box;width:210mm;min-height:297mm;margin:1em auto;padding:20mm 20mm 25mm 25mm;background:#fff}
.s{font-size:12pt}.b{font-size:16pt}.l{font-size:20pt}
p,div{margin:0;line-height:1.55}
.title{text-align:center;margin-top:8pt}
.contact{margin-left:50%}
.field,.item{display:flex}.field>span:first-child,.item>span:first-child{flex:none;white-space:pre}
.gap{height:8pt}
.sign{margin-left:45%}
.stamp{position:absolute;top:20mm;right:20mm;border:1px solid #c81010;color:#c81010;font-size:9pt;padding:3pt 8pt;line-height:1.45}
.filebox{min-height:0}
@media print{body{background:#fff}.page{margin:0}}
";

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

fn class(size: Size) -> &'static str {
    match size {
        Size::Small => "s",
        Size::Body => "b",
        Size::Large => "l",
    }
}

fn stamp_html(s: &ExchangeStamp) -> String {
    format!(
        "<div class=\"stamp\" role=\"note\" aria-label=\"電子公文交換戳記\">電子公文交換戳記<br>{}<br>{} {:02}時{:02}分<br>收文字號：{}</div>\n",
        esc(&s.agency),
        s.date,
        s.hour,
        s.minute,
        esc(&s.receipt_number)
    )
}

/// The document as a complete HTML page (UTF-8).
pub fn render_html(di: &Di, opts: &RenderOptions) -> String {
    let d = &di.document;
    let mut h = String::with_capacity(8192);
    h.push_str("<!DOCTYPE html>\n<html lang=\"zh-Hant-TW\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!(
        "<title>{}：{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<article class=\"page\">\n",
        d.kind().label(),
        esc(d.subject())
    ));
    if let Some(s) = &opts.stamp {
        h.push_str(&stamp_html(s));
    }
    if let Some(m) = &opts.mark {
        h.push_str(&format!(
            "<div class=\"stamp\" role=\"note\">{}</div>\n",
            esc(m)
        ));
    }
    for b in blocks(di) {
        match b {
            Block::FileBox => h.push_str(
                "<div class=\"filebox s\"><p>檔　　號：</p><p>保存年限：</p></div>\n",
            ),
            Block::Title { issuers, kind } => {
                let n = issuers.len();
                h.push_str("<h1 class=\"title l\">");
                for (i, name) in issuers.iter().enumerate() {
                    if i > 0 {
                        h.push_str("<br>");
                    }
                    h.push_str(&esc(name));
                    if i + 1 == n && !kind.is_empty() {
                        h.push_str(&format!("　{}", esc(&kind)));
                    }
                }
                h.push_str("</h1>\n");
            }
            Block::Contact(lines) => {
                h.push_str("<div class=\"contact s\">");
                for l in lines {
                    h.push_str(&format!("<p>{}</p>", esc(&l)));
                }
                h.push_str("</div>\n");
            }
            Block::Field { label, text, size } => h.push_str(&format!(
                "<div class=\"field {}\"><span>{}</span><span>{}</span></div>\n",
                class(size),
                esc(&label),
                esc(&text)
            )),
            Block::Item {
                level,
                number,
                text,
                size,
            } => h.push_str(&format!(
                "<div class=\"item {}\" style=\"margin-left:{}em\"><span>{}</span><span>{}</span></div>\n",
                class(size),
                (2 * level.min(12)).saturating_sub(1),
                esc(&number),
                esc(&text)
            )),
            Block::Gap => h.push_str("<div class=\"gap\"></div>\n"),
            Block::Signature(lines) => {
                h.push_str("<div class=\"sign l\">");
                for l in lines {
                    h.push_str(&format!("<p>{}</p>", esc(&l)));
                }
                h.push_str("</div>\n");
            }
        }
    }
    h.push_str("</article>\n</body>\n</html>\n");
    h
}
