//! `gongwen bench doc`: throughput of the document layer. Prints figures; judges nothing.

use std::process::ExitCode;
use std::time::Instant;

use gongwen_doc::draft::Draft;

use crate::error::CliError;

const DRAFT: &str = include_str!("../../../examples/letter.toml");

/// A typical 函 DI is about 5 KB; the example is shorter, so repeat its 說明 items to that size.
fn typical_size(di: &mut gongwen_doc::Di) {
    let gongwen_doc::Document::Letter(l) = &mut di.document else {
        return;
    };
    let Some(items) = l.sections.first().map(|s| s.items.clone()) else {
        return;
    };
    let mut next = items.len();
    while gongwen_doc::write_di(di).map_or(0, |t| t.len()) < 5_000 {
        let gongwen_doc::Document::Letter(l) = &mut di.document else {
            return;
        };
        let mut item = items[next % items.len()].clone();
        next += 1;
        item.number = format!("{next}、");
        l.sections[0].items.push(item);
    }
}

/// Peak resident memory of this process, from /proc (Linux); 0 elsewhere.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

pub fn doc(docs: usize, renders: usize) -> Result<ExitCode, CliError> {
    let docs = docs.max(1);
    let draft: Draft = toml::from_str(DRAFT).map_err(|e| CliError::Draft {
        path: "examples/letter.toml".into(),
        detail: e.to_string(),
    })?;
    let mut built = draft
        .build(crate::clock::today())
        .map_err(|p| CliError::Doc {
            path: "examples/letter.toml".into(),
            error: gongwen_doc::DocError::Invalid(p),
        })?;
    typical_size(&mut built.di);
    let text = gongwen_doc::write_di(&built.di).map_err(|e| CliError::Doc {
        path: "examples/letter.toml".into(),
        error: e,
    })?;
    let bytes = text.as_bytes();
    println!(
        "樣本：範例函加長到典型大小的 DI，{} 位元組（{:.1} KB）",
        bytes.len(),
        bytes.len() as f64 / 1024.0
    );

    let t = Instant::now();
    for _ in 0..docs {
        let di = gongwen_doc::read_di(std::hint::black_box(bytes)).map_err(|e| CliError::Doc {
            path: "bench".into(),
            error: e,
        })?;
        std::hint::black_box(di);
    }
    let s = t.elapsed().as_secs_f64();
    let read_rate = docs as f64 / s;
    println!(
        "讀取＋驗證：{docs} 件 {:.3} 秒，{:.0} 件/秒，{:.1} MB/秒",
        s,
        read_rate,
        read_rate * bytes.len() as f64 / 1e6
    );

    let t = Instant::now();
    for _ in 0..docs {
        let out =
            gongwen_doc::write_di(std::hint::black_box(&built.di)).map_err(|e| CliError::Doc {
                path: "bench".into(),
                error: e,
            })?;
        std::hint::black_box(out);
    }
    let s = t.elapsed().as_secs_f64();
    let write_rate = docs as f64 / s;
    println!(
        "寫出（含驗證）：{docs} 件 {:.3} 秒，{:.0} 件/秒",
        s, write_rate
    );

    let mut ms_per_page = 0.0;
    let mut pages = 0;
    if renders > 0 {
        let fonts = crate::doc_cmd::load_fonts(None)?;
        let opts = gongwen_render::RenderOptions::default();
        // The first render loads and parses the font; report it apart.
        let t = Instant::now();
        let first = gongwen_render::render_pdf(&built.di, &fonts, &opts)
            .map_err(crate::doc_cmd::render_err)?;
        let first_ms = t.elapsed().as_secs_f64() * 1000.0;
        pages = gongwen_render::page_count(&built.di, &fonts, &opts)
            .map_err(crate::doc_cmd::render_err)?;
        let t = Instant::now();
        for _ in 0..renders {
            let pdf = gongwen_render::render_pdf(&built.di, &fonts, &opts)
                .map_err(crate::doc_cmd::render_err)?;
            std::hint::black_box(pdf);
        }
        let ms = t.elapsed().as_secs_f64() * 1000.0 / renders as f64;
        ms_per_page = ms / pages.max(1) as f64;
        println!(
            "列印 PDF：{pages} 頁，{} 位元組；首次 {:.1} 毫秒；其後平均 {:.1} 毫秒/件，{:.1} 毫秒/頁",
            first.len(),
            first_ms,
            ms,
            ms_per_page
        );
    }
    let rss = peak_rss_mb();
    println!("最高記憶體用量：{rss:.1} MB");
    println!(
        "{{\"di_bytes\":{},\"read_validate_docs_per_s\":{:.0},\"write_docs_per_s\":{:.0},\"render_pages\":{},\"render_ms_per_page\":{:.2},\"peak_rss_mb\":{:.1}}}",
        bytes.len(),
        read_rate,
        write_rate,
        pages,
        ms_per_page,
        rss
    );
    Ok(ExitCode::SUCCESS)
}
