use gongwen_doc::draft::Draft;
use gongwen_doc::{Di, RocDate};

use crate::blocks::{Block, Size, blocks};
use crate::fonts::{Fonts, Measure};
use crate::layout::{Layout, RIGHT};
use crate::*;

fn letter() -> Di {
    let draft: Draft = toml::from_str(include_str!("../../../examples/letter.toml")).unwrap();
    draft.build(RocDate::new(115, 1, 5).unwrap()).unwrap().di
}

fn fonts() -> Fonts {
    Fonts::system().expect("需要全字庫字型（scripts/test 會安裝 fonts-cns11643-kai）")
}

/// The text of each laid-out line, in order (runs on one baseline joined).
fn lines_of(blocks: &[Block], fonts: &Fonts) -> Vec<(f32, String)> {
    let mut m = Measure::new(fonts);
    let mut l = Layout::new(&mut m);
    l.blocks(blocks, false);
    let mut out: Vec<(f32, String)> = Vec::new();
    for (p, page) in l.pages.iter().enumerate() {
        for r in &page.runs {
            let y = p as f32 * 10_000.0 + r.y;
            match out.last_mut() {
                Some((ly, t)) if *ly == y => t.push_str(&r.text),
                _ => out.push((y, r.text.clone())),
            }
        }
    }
    out
}

#[test]
fn no_line_starts_with_closing_punctuation_or_ends_with_an_opening_one() {
    let fonts = fonts();
    // Every width from very narrow to full: the rules must hold wherever the break falls.
    let text = "檢送本府「115年度公文電子交換系統升級計畫」1份，請各機關於115年1月30日前完成連線測試（含附件）並回報辦理情形：請查照。";
    for extra in 0..32 {
        let label = "　".repeat(extra);
        let b = vec![Block::Field {
            label: format!("主旨：{label}"),
            text: text.into(),
            size: Size::Body,
        }];
        let lines = lines_of(&b, &fonts);
        assert!(lines.len() >= 2 || extra < 5, "{lines:?}");
        let joined: String = lines.iter().map(|l| l.1.as_str()).collect();
        assert_eq!(joined, format!("主旨：{label}{text}"));
        for (i, (_, l)) in lines.iter().enumerate() {
            let first = l.chars().next().unwrap();
            let last = l.chars().last().unwrap();
            if i > 0 {
                assert!(
                    !"，。、；：？！）」』".contains(first),
                    "line starts with {first}: {lines:?}"
                );
            }
            if i + 1 < lines.len() {
                assert!(!"（「『".contains(last), "line ends with {last}: {lines:?}");
            }
        }
    }
}

#[test]
fn wrapped_lines_hang_under_the_text_and_stay_inside_the_margin() {
    let fonts = fonts();
    let mut m = Measure::new(&fonts);
    let mut l = Layout::new(&mut m);
    let long = "依據行政院115年1月2日院臺綜字第1150000001號函辦理，".repeat(4);
    let item = |level: usize, number: &str| Block::Item {
        level,
        number: number.into(),
        text: long.clone(),
        size: Size::Body,
    };
    l.blocks(&[item(1, "一、"), item(2, "(一)")], false);
    let runs = &l.pages[0].runs;
    // Level 1: the number at x0, continuation lines where the text after 一、 starts.
    let x_number = runs[0].x;
    let x_text = x_number + 2.0 * 16.0;
    let mut xs: Vec<f32> = runs.iter().map(|r| r.x).collect();
    xs.dedup();
    assert!(xs.iter().any(|x| (x - x_text).abs() < 0.5), "{xs:?}");
    // Level 2's number starts where level 1's text starts.
    let second = runs.iter().find(|r| r.text.starts_with("(一)")).unwrap();
    assert!((second.x - x_text).abs() < 0.5, "{} vs {x_text}", second.x);
    let mut m2 = Measure::new(&fonts);
    for r in runs {
        assert!(r.x + m2.width(&r.text, r.size) <= RIGHT + 0.5, "{r:?}");
    }
}

#[test]
fn long_urls_break_and_words_stay_whole() {
    let fonts = fonts();
    let url = format!("https://example.gov.tw/{}", "a".repeat(200));
    let b = vec![Block::Field {
        label: "說明：".into(),
        text: format!("請至{url}下載 PDF file"),
        size: Size::Body,
    }];
    let lines = lines_of(&b, &fonts);
    let joined: String = lines.iter().map(|l| l.1.as_str()).collect();
    assert_eq!(joined, format!("說明：請至{url}下載 PDF file"));
    assert!(lines.len() >= 3);
    assert!(lines.iter().all(|l| !l.1.starts_with(' ')));
}

#[test]
fn a_long_letter_takes_several_numbered_pages() {
    let fonts = fonts();
    let mut di = letter();
    if let gongwen_doc::Document::Letter(l) = &mut di.document {
        let item = l.sections[0].items[0].clone();
        for _ in 0..60 {
            l.sections[0].items.push(item.clone());
        }
    }
    let opts = RenderOptions::default();
    let n = page_count(&di, &fonts, &opts).unwrap();
    assert!(n >= 2, "{n}");
    let pdf = render_pdf(&di, &fonts, &opts).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
}

#[test]
fn characters_no_font_has_print_as_the_missing_mark() {
    let fonts = fonts();
    let mut m = Measure::new(&fonts);
    let (c, _, em) = m.resolve('\u{E000}');
    assert_eq!(c, crate::fonts::MISSING);
    assert!(em > 0.0);
}

#[test]
fn text_html_and_pdf_come_from_the_same_blocks() {
    let di = letter();
    let b = blocks(&di);
    assert!(matches!(b[0], Block::FileBox));
    let text = render_text(&di);
    let stamp = ExchangeStamp {
        agency: "臺北市政府<資訊局>\u{7}".into(),
        date: RocDate::new(115, 1, 5).unwrap(),
        hour: 9,
        minute: 5,
        receipt_number: "北市資字第1150000456號".into(),
    };
    let html = render_html(
        &di,
        &RenderOptions {
            stamp: Some(stamp),
            mark: None,
        },
    );
    for want in [
        "臺北市政府　函",
        "主旨：",
        "府資字第1150001234號",
        "(一)",
        "市長　蔣萬安",
    ] {
        assert!(text.contains(want), "text lacks {want}");
        assert!(html.contains(want), "html lacks {want}");
    }
    assert!(
        html.contains("臺北市政府&lt;資訊局&gt;"),
        "stamp text is escaped"
    );
    assert!(!html.contains('\u{7}'), "control characters are dropped");
    assert!(html.contains("中華民國115年1月5日 09時05分"));
}

#[test]
fn a_font_that_is_not_a_font_is_a_clear_error() {
    let e = Fonts::from_bytes(b"not a font".to_vec()).err().unwrap();
    assert_eq!(e.code(), "E_RENDER_FONT_INVALID");
    assert!(e.to_string().contains("字型"));
}
