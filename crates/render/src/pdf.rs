//! Drawing the laid-out pages into a PDF with krilla: text (fonts embedded and subset, with
//! ToUnicode maps so `pdftotext` gives the text back), page numbers, and a received document's
//! 電子公文交換戳記 and 騎縫 marks.

use gongwen_doc::Di;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::surface::Surface;
use krilla::text::TextDirection;

use crate::blocks::{Block, Size, blocks};
use crate::fonts::{Fonts, Measure};
use crate::layout::{BOTTOM, LEFT, Layout, PAGE_H, PAGE_W, RIGHT, Run, STAMP_H, TOP};
use crate::{ExchangeStamp, Record, RenderError, RenderOptions};

const STAMP_SIZE: f32 = 9.0;
const STAMP_LINE: f32 = 13.0;
const INK: (u8, u8, u8) = (0, 0, 0);
const STAMP_INK: (u8, u8, u8) = (200, 16, 16);
/// Where the 騎縫 line runs: in the binding margin, left of the text.
const SEAM_X: f32 = 34.0;

enum Shape {
    Rect(f32, f32, f32, f32),
    Line(f32, f32, f32, f32),
}

/// What goes on one page besides the flowing text.
#[derive(Default)]
struct Overlay {
    /// Printed in black: the page number.
    runs: Vec<Run>,
    /// Printed in stamp ink: the exchange stamp and the seam mark.
    marks: Vec<Run>,
    shapes: Vec<(Shape, bool)>,
}

/// Lays the blocks out and adds the marks; returns the pages' text and their overlays.
fn lay_out(
    blocks: &[Block],
    fonts: &Fonts,
    opts: &RenderOptions,
) -> (Vec<crate::layout::Page>, Vec<Overlay>) {
    let mut measure = Measure::new(fonts);
    let mut layout = Layout::new(&mut measure);
    layout.blocks(blocks, opts.stamp.is_some() || opts.mark.is_some());
    let total = layout.pages.len();
    let mut overlays: Vec<Overlay> = (0..total).map(|_| Overlay::default()).collect();
    for (i, o) in overlays.iter_mut().enumerate() {
        let text = format!("第 {} 頁，共 {} 頁", i + 1, total);
        let w = layout.width(&text, 10.0);
        let (runs, _) = layout.fixed((PAGE_W - w) / 2.0, PAGE_H - 36.0, &text, 10.0);
        o.runs.extend(runs);
    }
    if let Some(m) = &opts.mark {
        sender_mark(&mut layout, m, &mut overlays[0]);
    }
    if let Some(stamp) = &opts.stamp {
        exchange_stamp(&mut layout, stamp, &mut overlays[0]);
        for o in overlays.iter_mut() {
            seam(&mut layout, stamp, o);
        }
    }
    let pages = std::mem::take(&mut layout.pages);
    (pages, overlays)
}

/// The 電子公文交換戳記 in the top right of the first page: receiving agency, date and time
/// of receipt, 收文字號.
fn exchange_stamp(layout: &mut Layout, s: &ExchangeStamp, o: &mut Overlay) {
    let lines = [
        "電子公文交換戳記".to_string(),
        s.agency.clone(),
        format!("{} {:02}時{:02}分", s.date, s.hour, s.minute),
        format!("收文字號：{}", s.receipt_number),
    ];
    let width = lines
        .iter()
        .map(|l| layout.width(l, STAMP_SIZE))
        .fold(0.0_f32, f32::max)
        + 16.0;
    let width = width.min(RIGHT - LEFT - 120.0);
    let x = RIGHT - width;
    o.shapes.push((Shape::Rect(x, TOP, width, STAMP_H), false));
    for (i, l) in lines.iter().enumerate() {
        let baseline = TOP + 8.0 + STAMP_SIZE + i as f32 * STAMP_LINE;
        let (runs, _) = layout.fixed(x + 8.0, baseline, l, STAMP_SIZE);
        o.marks.extend(runs);
    }
}

/// A sender's mark (已電子交換未確認) boxed in the top right of the first page.
fn sender_mark(layout: &mut Layout, text: &str, o: &mut Overlay) {
    const SIZE: f32 = 14.0;
    let width = (layout.width(text, SIZE) + 20.0).min(RIGHT - LEFT - 120.0);
    let x = RIGHT - width;
    o.shapes
        .push((Shape::Rect(x, TOP, width, SIZE + 16.0), false));
    let (runs, _) = layout.fixed(x + 10.0, TOP + 8.0 + SIZE * 0.85, text, SIZE);
    o.marks.extend(runs);
}

/// The 騎縫 mark: a dashed line down the binding margin of every page and, across it, the
/// receiving agency and 收文字號 set vertically, so pages taken apart can be matched again.
fn seam(layout: &mut Layout, s: &ExchangeStamp, o: &mut Overlay) {
    let text: Vec<char> = format!("{}收文{}", s.agency, s.receipt_number)
        .chars()
        .collect();
    let step = STAMP_SIZE + 2.0;
    let height = text.len() as f32 * step + 8.0;
    let top = ((PAGE_H - height) / 2.0).max(TOP);
    let bottom = (top + height).min(BOTTOM);
    o.shapes.push((Shape::Line(SEAM_X, TOP, SEAM_X, top), true));
    o.shapes
        .push((Shape::Line(SEAM_X, bottom, SEAM_X, BOTTOM), true));
    o.shapes
        .push((Shape::Rect(SEAM_X - 8.0, top, 16.0, bottom - top), false));
    for (i, c) in text.iter().enumerate() {
        let baseline = top + 4.0 + STAMP_SIZE + i as f32 * step;
        if baseline > bottom {
            break;
        }
        let w = layout.width(&c.to_string(), STAMP_SIZE);
        let (runs, _) = layout.fixed(SEAM_X - w / 2.0, baseline, &c.to_string(), STAMP_SIZE);
        o.marks.extend(runs);
    }
}

fn fill(c: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        ..Default::default()
    }
}

fn draw_runs(surface: &mut Surface, fonts: &Fonts, runs: &[Run]) {
    for r in runs {
        if let Some(face) = fonts.face(r.face) {
            surface.draw_text(
                Point::from_xy(r.x, r.y),
                face.pdf.clone(),
                r.size,
                &r.text,
                false,
                TextDirection::LeftToRight,
            );
        }
    }
}

fn draw_shapes(surface: &mut Surface, shapes: &[(Shape, bool)]) {
    surface.set_fill(None);
    for (shape, dashed) in shapes {
        let mut pb = PathBuilder::new();
        match *shape {
            Shape::Rect(x, y, w, h) => {
                if let Some(r) = Rect::from_xywh(x, y, w, h) {
                    pb.push_rect(r);
                }
            }
            Shape::Line(x1, y1, x2, y2) => {
                pb.move_to(x1, y1);
                pb.line_to(x2, y2);
            }
        }
        let Some(path) = pb.finish() else { continue };
        surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(STAMP_INK.0, STAMP_INK.1, STAMP_INK.2).into(),
            width: 0.8,
            dash: dashed.then(|| StrokeDash {
                array: vec![4.0, 3.0],
                offset: 0.0,
            }),
            ..Default::default()
        }));
        surface.draw_path(&path);
    }
    surface.set_stroke(None);
}

/// The document as an A4 PDF.
pub fn render_pdf(di: &Di, fonts: &Fonts, opts: &RenderOptions) -> Result<Vec<u8>, RenderError> {
    let d = &di.document;
    let title = format!("{}：{}", d.kind().label(), d.subject());
    print(&blocks(di), &title, fonts, opts)
}

/// A record that goes with a document (the 簽核紀錄 of a case …) as an A4 PDF: a heading of
/// the agency and the record's name, then its fields, in the documents' own type and margins.
pub fn render_record_pdf(record: &Record, fonts: &Fonts) -> Result<Vec<u8>, RenderError> {
    let mut out = vec![Block::Title {
        issuers: vec![record.agency.clone()],
        kind: record.kind.clone(),
    }];
    for group in &record.groups {
        for (label, text) in group {
            out.push(Block::Field {
                label: format!("{label}："),
                text: text.clone(),
                size: Size::Small,
            });
        }
        out.push(Block::Gap);
    }
    let title = format!("{}：{}", record.kind, record.subject);
    print(&out, &title, fonts, &RenderOptions::default())
}

fn print(
    blocks: &[Block],
    title: &str,
    fonts: &Fonts,
    opts: &RenderOptions,
) -> Result<Vec<u8>, RenderError> {
    let (pages, overlays) = lay_out(blocks, fonts, opts);
    let mut doc = krilla::Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .language("zh-TW".into())
            .creator("Gongwen 公文電子交換系統".into()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| RenderError::Pdf {
        detail: "頁面尺寸無效".into(),
    })?;
    for (page, overlay) in pages.iter().zip(&overlays) {
        let mut p = doc.start_page_with(settings.clone());
        let mut surface = p.surface();
        surface.set_fill(Some(fill(INK)));
        draw_runs(&mut surface, fonts, &page.runs);
        draw_runs(&mut surface, fonts, &overlay.runs);
        surface.set_fill(Some(fill(STAMP_INK)));
        draw_runs(&mut surface, fonts, &overlay.marks);
        draw_shapes(&mut surface, &overlay.shapes);
        surface.finish();
        p.finish();
    }
    doc.finish().map_err(|e| RenderError::Pdf {
        detail: format!("{e:?}"),
    })
}

/// How many A4 pages the document takes.
pub fn page_count(di: &Di, fonts: &Fonts, opts: &RenderOptions) -> Result<usize, RenderError> {
    Ok(lay_out(&blocks(di), fonts, opts).0.len())
}
