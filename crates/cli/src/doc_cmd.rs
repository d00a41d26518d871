//! `gongwen doc new | check | show | render`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gongwen_doc::draft::Draft;
use gongwen_doc::xml::Limits;
use gongwen_doc::{Di, DocError, Parsed, Problem, ProblemKind, RocDate, Roster};

use crate::error::CliError;

/// Reads a whole file.
pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::io(path, e))
}

/// Reads a whole file, refusing anything larger than `max` without reading it.
pub fn read_bounded(path: &Path, max: usize) -> Result<Vec<u8>, CliError> {
    let too_large = || {
        let error = DocError::TooLarge {
            what: "檔案",
            limit: max,
        };
        doc_err(path, error)
    };
    let f = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    let len = f.metadata().map_err(|e| CliError::io(path, e))?.len();
    if len > max as u64 {
        return Err(too_large());
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(max as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| CliError::io(path, e))?;
    if buf.len() > max {
        return Err(too_large());
    }
    Ok(buf)
}

/// Writes through a temporary file in the same directory and renames it into place, so that a
/// reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(CliError::io(path, e));
    }
    Ok(())
}

/// A document error about the file at `path`.
pub fn doc_err(path: impl AsRef<Path>, error: DocError) -> CliError {
    let path = path.as_ref();
    CliError::Doc {
        path: path.display().to_string(),
        error,
    }
}

/// Writes the DI, SW and attachments of a draft, and names each file written.
pub fn new(draft_path: &Path, out: &Path, base: Option<String>) -> Result<ExitCode, CliError> {
    let bytes = read_bounded(draft_path, 1024 * 1024)?;
    let text = String::from_utf8(bytes).map_err(|_| CliError::Draft {
        path: draft_path.display().to_string(),
        detail: "不是 UTF-8 文字檔".into(),
    })?;
    let mut draft: Draft = toml::from_str(&text).map_err(|e| {
        let mut detail = e.to_string();
        if detail.contains("unquoted key") {
            detail.push_str(
                "\n（提示：TOML 的中文欄位名稱要加雙引號，例如 \"主旨\" = \"…\"、[[\"發文機關\"]]）",
            );
        }
        CliError::Draft {
            path: draft_path.display().to_string(),
            detail,
        }
    })?;
    if base.is_some() {
        draft.base = base;
    }
    let built = draft
        .build(crate::clock::today())
        .map_err(|problems| doc_err(draft_path, DocError::Invalid(problems)))?;

    // Everything is checked before anything is written.
    let draft_dir = draft_path.parent().unwrap_or(Path::new("."));
    let mut attachment_bytes = Vec::new();
    for a in &built.attachments {
        let src = draft_dir.join(&a.source);
        let data = read_bounded(&src, 2 * 1024 * 1024 * 1024).map_err(|e| match e {
            CliError::Io { path, detail } => CliError::Io {
                path,
                detail: format!("{detail}（草稿「附件」所列的檔案）"),
            },
            other => other,
        })?;
        attachment_bytes.push((a.file.clone(), data));
    }
    let mut outputs: Vec<(PathBuf, String)> = Vec::new();
    let (mut dis, mut rosters, mut attachments) = (Vec::new(), Vec::new(), Vec::new());
    let copies: Vec<(String, Di, Roster)> = if built.split {
        gongwen_doc::split_per_recipient(&built.di, &built.roster)
            .map_err(|e| doc_err(draft_path, e))?
            .into_iter()
            .map(|(mut di, roster)| {
                let code = roster
                    .entries
                    .first()
                    .map(|e| e.party.agency_code().to_string())
                    .unwrap_or_default();
                let name = format!("{}_{code}", built.base);
                if let Some(r) = &mut di.roster {
                    r.file = format!("{name}.sw");
                }
                (name, di, roster)
            })
            .collect()
    } else {
        vec![(built.base.clone(), built.di.clone(), built.roster.clone())]
    };
    for (name, di, roster) in &copies {
        let di_text = gongwen_doc::write_di(di).map_err(|e| doc_err(draft_path, e))?;
        let di_path = out.join(format!("{name}.di"));
        outputs.push((di_path.clone(), di_text));
        dis.push(di_path);
        if di.roster.is_some() {
            let sw = gongwen_doc::write_roster(roster).map_err(|e| doc_err(draft_path, e))?;
            let sw_path = out.join(format!("{name}.sw"));
            outputs.push((sw_path.clone(), sw));
            rosters.push(sw_path);
        }
    }
    std::fs::create_dir_all(out).map_err(|e| CliError::io(out, e))?;
    for (file, data) in &attachment_bytes {
        let p = out.join(file);
        write_atomic(&p, data)?;
        attachments.push(p);
    }
    for (p, text) in &outputs {
        write_atomic(p, text.as_bytes())?;
    }
    for p in dis.iter().chain(&rosters).chain(&attachments) {
        println!("已產生 {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// How bad the worst file was: 0 fine, 1 problems, 2 unreadable. Notes (what a draft left
/// blank) never change the exit code, unless `exchange` asks for the level sealing requires.
pub fn check(files: &[PathBuf], exchange: bool) -> Result<ExitCode, CliError> {
    let mut worst = 0u8;
    for f in files {
        worst = worst.max(check_one(f, exchange));
    }
    Ok(ExitCode::from(worst))
}

/// A problem, or with `note` "附註：" a note, on one line.
fn print_problem(file: &Path, p: &Problem, note: &str) {
    let (path, message, code) = (&p.path, &p.message, p.code());
    println!("{}: {path}: {note}{message} [{code}]", file.display());
}

fn check_one(file: &Path, exchange: bool) -> u8 {
    let limits = Limits::default();
    let bytes = match read_bounded(file, limits.max_bytes) {
        Ok(b) => b,
        Err(e) => {
            println!(
                "{}: {} [{}]",
                file.display(),
                strip_path(&e, file),
                e.code()
            );
            return 2;
        }
    };
    let checked = match gongwen_doc::check(&bytes, &limits) {
        Ok(c) => c,
        Err(e) => {
            println!("{}: {} [{}]", file.display(), e, e.code());
            return 2;
        }
    };
    for p in &checked.problems {
        print_problem(file, p, "");
    }
    let mut worst = if checked.problems.is_empty() { 0 } else { 1 };
    for n in &checked.notes {
        if exchange && n.kind == ProblemKind::Exchange {
            print_problem(file, n, "");
            worst = 1;
        } else {
            print_problem(file, n, "附註：");
        }
    }
    if let Some(Parsed::Di(di)) = &checked.parsed {
        let dir = file.parent().unwrap_or(Path::new("."));
        worst = worst.max(check_beside(file, dir, di, exchange));
    }
    if worst == 0 {
        let what = match &checked.parsed {
            Some(Parsed::Di(di)) => di.document.kind().label().to_string(),
            Some(Parsed::Roster(r)) => format!("交換表單，{} 個受文者", r.entries.len()),
            None => String::new(),
        };
        let enc = match checked.encoding {
            gongwen_doc::xml::TextEncoding::Utf8 => "UTF-8",
            gongwen_doc::xml::TextEncoding::Big5 => "Big5",
        };
        let ready = if exchange {
            "，已備妥電子交換"
        } else {
            ""
        };
        println!("{}: 正確（{what}，{enc}{ready}）", file.display());
    }
    worst
}

fn strip_path(e: &CliError, file: &Path) -> String {
    let s = e.to_string();
    let prefix = format!("{}：", file.display());
    s.strip_prefix(&prefix).map(str::to_string).unwrap_or(s)
}

/// A DI's SW and attachments travel beside it, under the names its entities declare.
fn check_beside(file: &Path, dir: &Path, di: &Di, exchange: bool) -> u8 {
    let mut worst = 0;
    let missing = |entity: &str, name: &str, what: &str| {
        let p = Problem::new(
            ProblemKind::Reference,
            format!("/<!ENTITY {entity}>"),
            format!("找不到{what}「{name}」（應與 DI 放在同一目錄）"),
        );
        print_problem(file, &p, "");
    };
    if let Some(r) = &di.roster {
        let sw = dir.join(&r.file);
        if sw.is_file() {
            worst = worst.max(check_one(&sw, exchange));
            let is_di = read_bounded(&sw, Limits::default().max_bytes)
                .ok()
                .and_then(|b| gongwen_doc::check(&b, &Limits::default()).ok())
                .is_some_and(|c| matches!(c.parsed, Some(Parsed::Di(_))));
            if is_di {
                let p = Problem::new(
                    ProblemKind::Reference,
                    format!("/<!ENTITY {}>", r.entity),
                    format!("「{}」不是交換表單（SW）", r.file),
                );
                print_problem(file, &p, "");
                worst = worst.max(1);
            }
        } else {
            missing(&r.entity, &r.file, "交換表單");
            worst = worst.max(1);
        }
    }
    for a in &di.attachment_files {
        if !dir.join(&a.file).is_file() {
            missing(&a.entity, &a.file, "附件");
            worst = worst.max(1);
        }
    }
    worst
}

fn read_di_file(file: &Path) -> Result<Parsed, CliError> {
    let bytes = read_bounded(file, Limits::default().max_bytes)?;
    let c = gongwen_doc::check(&bytes, &Limits::default()).map_err(|e| doc_err(file, e))?;
    match c.parsed {
        Some(p) if c.problems.is_empty() => Ok(p),
        _ => Err(doc_err(file, DocError::Invalid(c.problems))),
    }
}

pub fn show(file: &Path) -> Result<ExitCode, CliError> {
    let text = match read_di_file(file)? {
        // The same blocks as the PDF and HTML, line by line.
        Parsed::Di(di) => gongwen_render::render_text(&di),
        Parsed::Roster(r) => roster_text(&r),
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not an error worth reporting.
    let _ = out.write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// A roster as terminal text: one line per electronic recipient.
fn roster_text(r: &Roster) -> String {
    let mut o = format!("交換表單（{} 個電子受文者）\n", r.entries.len());
    for (i, e) in r.entries.iter().enumerate() {
        let flag = e.attachments.map(|f| f.as_str()).unwrap_or("");
        o.push_str(&format!(
            "{:>3}. [{}] {} {} {}\n",
            i + 1,
            e.copy_kind,
            e.party.agency_code(),
            e.party.display_name(),
            flag
        ));
    }
    o
}

#[derive(clap::Args)]
pub struct RenderArgs {
    file: PathBuf,
    /// 輸出檔（PDF；加 --html 時為 HTML）
    #[arg(short, long)]
    out: PathBuf,
    /// 輸出 HTML 而非 PDF
    #[arg(long)]
    html: bool,
    /// 交換戳記：收文機關名稱
    #[arg(long, requires_all = ["stamp_time", "receipt_no"])]
    stamp_agency: Option<String>,
    /// 交換戳記：收文日期時間，例如「115/01/05 10:30」或「2026-01-05T10:30」
    #[arg(long, requires = "stamp_agency")]
    stamp_time: Option<String>,
    /// 交換戳記：收文字號
    #[arg(long, requires = "stamp_agency")]
    receipt_no: Option<String>,
    /// 字型檔（預設使用已安裝的全字庫正楷體 fonts-cns11643-kai）
    #[arg(long)]
    font: Option<PathBuf>,
}

/// Parses `115/01/05 10:30`, `中華民國115年1月5日 10:30`, `2026-01-05T10:30` or `2026-01-05 10:30`.
pub fn parse_stamp_time(s: &str) -> Result<(RocDate, u8, u8), CliError> {
    let bad = || {
        CliError::Arg(format!(
            "收文時間「{s}」格式不正確，例如「115/01/05 10:30」或「2026-01-05T10:30」"
        ))
    };
    let s = s.trim();
    let (date, time) = s
        .rsplit_once(['T', ' '])
        .map(|(d, t)| (d.trim(), t.trim()))
        .ok_or_else(bad)?;
    let (h, m) = time.split_once(':').ok_or_else(bad)?;
    let h: u8 = h.parse().map_err(|_| bad())?;
    let m: u8 = m.get(..2).unwrap_or(m).parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    let parts: Vec<&str> = date.split('-').collect();
    let date = if parts.len() == 3 && parts[0].len() == 4 {
        let y: i32 = parts[0].parse().map_err(|_| bad())?;
        let mo: u8 = parts[1].parse().map_err(|_| bad())?;
        let d: u8 = parts[2].parse().map_err(|_| bad())?;
        RocDate::from_gregorian(y, mo, d).map_err(|e| CliError::Arg(e.message))?
    } else {
        RocDate::parse(date).map_err(|e| CliError::Arg(e.message))?
    };
    Ok((date, h, m))
}

pub fn render(a: RenderArgs) -> Result<ExitCode, CliError> {
    let (file, out) = (a.file.as_path(), a.out.as_path());
    let di = match read_di_file(file)? {
        Parsed::Di(di) => di,
        Parsed::Roster(_) => {
            return Err(CliError::Arg(format!(
                "{} 是交換表單（SW），只能列印 DI",
                file.display()
            )));
        }
    };
    let mut opts = gongwen_render::RenderOptions::default();
    if let (Some(agency), Some(time), Some(receipt)) = (a.stamp_agency, a.stamp_time, a.receipt_no)
    {
        let (date, hour, minute) = parse_stamp_time(&time)?;
        opts.stamp = Some(gongwen_render::ExchangeStamp {
            agency,
            date,
            hour,
            minute,
            receipt_number: receipt,
        });
    }
    let bytes = if a.html {
        gongwen_render::render_html(&di, &opts).into_bytes()
    } else {
        let fonts = load_fonts(a.font.as_deref())?;
        gongwen_render::render_pdf(&di, &fonts, &opts).map_err(render_err)?
    };
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir, e))?;
    }
    write_atomic(out, &bytes)?;
    println!("已輸出 {}", out.display());
    Ok(ExitCode::SUCCESS)
}

pub fn load_fonts(font: Option<&Path>) -> Result<gongwen_render::Fonts, CliError> {
    match font {
        Some(p) => {
            let data = read_bounded(p, 256 * 1024 * 1024)?;
            gongwen_render::Fonts::from_bytes(data).map_err(render_err)
        }
        None => gongwen_render::Fonts::system().map_err(render_err),
    }
}

pub fn render_err(e: gongwen_render::RenderError) -> CliError {
    CliError::Render {
        code: e.code(),
        detail: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_times() {
        let (d, h, m) = parse_stamp_time("115/01/05 10:30").unwrap();
        assert_eq!(
            (d.to_string().as_str(), h, m),
            ("中華民國115年1月5日", 10, 30)
        );
        let (d2, ..) = parse_stamp_time("2026-01-05T10:30").unwrap();
        assert_eq!(d, d2);
        assert!(parse_stamp_time("中華民國115年1月5日 10:30").is_ok());
        assert!(parse_stamp_time("2026-01-05T25:30").is_err());
        assert!(parse_stamp_time("昨天").is_err());
    }
}
