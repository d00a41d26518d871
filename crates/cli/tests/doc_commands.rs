//! `gongwen doc …` as users run it: the real binary, real files, checked with xmllint and
//! pdftotext. These tools are installed by scripts/test; a missing tool fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{BIN, has, run, scratch, words};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `gongwen` in `dir` with the words of `line` as its arguments.
fn gongwen(dir: &Path, line: &str) -> Output {
    run(dir, &[], BIN, &words(line))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Expects exit code `code` and each of `parts` on standard output.
fn prints(o: Output, code: i32, parts: &[&str]) {
    assert_eq!(o.status.code(), Some(code), "{}", stdout(&o));
    has(&stdout(&o), parts);
}

fn tool(name: &str) -> Command {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{name} is not installed: run ./scripts/test, which installs it (libxml2-utils / poppler-utils)"
    );
    Command::new(name)
}

/// `xmllint --noout --valid --nonet --path <dtd dirs> FILE`, exactly as FORMATS.md says.
fn xmllint_ok(file: &Path) -> bool {
    let dtd = repo().join("crates/doc/dtd");
    let path = format!(
        "{} {}",
        dtd.join("official").display(),
        dtd.join("vendor-observed").display()
    );
    let o = tool("xmllint")
        .args(["--noout", "--valid", "--nonet", "--path", &path])
        .arg(file)
        .output()
        .unwrap();
    if !o.status.success() {
        eprintln!(
            "xmllint {}:\n{}",
            file.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    o.status.success()
}

/// `gongwen doc new` of an example draft, writing into `out` (plus `extra` arguments).
fn new_from(example: &str, out: &Path, extra: &[&str]) -> Output {
    let draft = repo().join("examples").join(example);
    let args = [
        &["doc", "new", draft.to_str().unwrap(), "--out", "."],
        extra,
    ]
    .concat();
    run(out, &[], BIN, &args)
}

fn files_with(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// The file name of a path in the directory a test runs in.
fn name(p: &Path) -> &str {
    p.file_name().unwrap().to_str().unwrap()
}

/// Each example draft writes files xmllint accepts, and each kind renders to PDF and HTML
/// with its title.
#[test]
fn every_example_draft_writes_files_xmllint_accepts_and_renders() {
    for (example, dis, sws, title) in [
        ("letter.toml", 1, 1, "函"),
        ("memo.toml", 1, 0, "簽"),
        ("order.toml", 1, 1, "令"),
        ("announcement.toml", 1, 0, "公告"),
        ("meeting.toml", 1, 1, "開會通知單"),
        ("site-visit.toml", 2, 2, "會勘通知單"),
    ] {
        let out = scratch(&format!("doc-{example}"));
        let o = new_from(example, &out, &[]);
        assert!(o.status.success(), "{example}: {}", stderr(&o));
        let di = files_with(&out, "di");
        let sw = files_with(&out, "sw");
        assert_eq!(
            (di.len(), sw.len()),
            (dis, sws),
            "{example}: {}",
            stdout(&o)
        );
        for f in di.iter().chain(&sw) {
            assert!(xmllint_ok(f), "xmllint rejects {}", f.display());
        }
        let c = gongwen(&out, &format!("doc check {}", name(&di[0])));
        assert_eq!(c.status.code(), Some(0), "{example}: {}", stdout(&c));
        for di in di {
            let pdf = di.with_extension("pdf");
            let o = gongwen(&out, &format!("doc render {} -o {}", name(&di), name(&pdf)));
            assert!(o.status.success(), "{example}: {}", stderr(&o));
            let t = tool("pdftotext").arg(&pdf).arg("-").output().unwrap();
            let text: String = String::from_utf8_lossy(&t.stdout)
                .split_whitespace()
                .collect();
            assert!(text.contains(title), "{example}: {text}");
            let html = di.with_extension("html");
            let o = gongwen(
                &out,
                &format!("doc render {} -o {} --html", name(&di), name(&html)),
            );
            assert!(o.status.success());
            assert!(std::fs::read_to_string(&html).unwrap().contains(title));
        }
    }
}

/// The example letter written into a fresh directory for test `name`.
fn letter(name: &str) -> PathBuf {
    let out = scratch(&format!("doc-{name}"));
    assert!(new_from("letter.toml", &out, &[]).status.success());
    out
}

#[test]
fn letter_files_are_named_after_the_document_number() {
    let out = letter("names");
    for f in ["1150001234.di", "1150001234.sw", "1150001234_ATTCH1.pdf"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let orig = std::fs::read(repo().join("examples/attachments/plan.pdf")).unwrap();
    assert_eq!(
        std::fs::read(out.join("1150001234_ATTCH1.pdf")).unwrap(),
        orig
    );
    assert!(
        new_from("letter.toml", &out, &["--base", "自訂"])
            .status
            .success()
    );
    assert!(out.join("自訂.di").is_file() && out.join("自訂_ATTCH1.pdf").is_file());
}

#[test]
fn check_reports_problems_with_paths_and_exit_codes() {
    let out = letter("check");
    let text = std::fs::read_to_string(out.join("1150001234.di")).unwrap();
    let check = |files: &str| gongwen(&out, &format!("doc check {files}"));

    // A rule problem: exit 1, one line naming file, element path and what is wrong.
    std::fs::write(
        out.join("bad.di"),
        text.replace("代碼=\"速件\"", "代碼=\"特急件\""),
    )
    .unwrap();
    let problem = ["bad.di: /函/速別:", "特急件", "[E_DOC_INVALID]"];
    prints(check("bad.di"), 1, &problem);

    // Not XML any more: exit 2.
    let half = (text.len() / 2..)
        .find(|&i| text.is_char_boundary(i))
        .unwrap();
    std::fs::write(out.join("cut.di"), &text.as_bytes()[..half]).unwrap();
    prints(check("cut.di"), 2, &["E_DOC_MALFORMED"]);

    // The attachment the DI declares must be beside it.
    std::fs::remove_file(out.join("1150001234_ATTCH1.pdf")).unwrap();
    let missing = ["E_DOC_REFERENCE", "1150001234_ATTCH1.pdf"];
    prints(check("1150001234.di"), 1, &missing);

    // Several files: the worst decides.
    assert_eq!(check("1150001234.sw cut.di").status.code(), Some(2));

    prints(check("nothing.di"), 2, &["找不到檔案"]);
}

#[test]
fn show_prints_the_document_in_utf8_whatever_its_encoding() {
    let out = letter("show");
    let o = gongwen(&out, "doc show 1150001234.di");
    assert!(o.status.success());
    let s = stdout(&o);
    for want in [
        "臺北市政府　函",
        "發文字號：府資字第1150001234號",
        "發文日期：中華民國115年1月5日",
        "速別：速件",
        "    (一)憑證管理",
        "      1、發文單位應於次一上班日",
        "副本：臺北市政府秘書處（含附件）",
    ] {
        assert!(s.contains(want), "missing {want:?} in\n{s}");
    }
    // The same document in Big5.
    let text = std::fs::read_to_string(out.join("1150001234.di"))
        .unwrap()
        .replace("encoding=\"UTF-8\"", "encoding=\"big5\"");
    let big5 = to_big5(&text).expect("every character maps to Big5");
    std::fs::write(out.join("1150001234-big5.di"), big5).unwrap();
    let o = gongwen(&out, "doc show 1150001234-big5.di");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), s);
}

/// Big5 bytes through iconv (glibc), so this test needs no extra crate; `None` when a
/// character has no Big5 code.
fn to_big5(text: &str) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut child = Command::new("iconv")
        .args(["-f", "UTF-8", "-t", "CP950"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("iconv");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).unwrap();
    drop(stdin); // iconv reads to the end
    let o = child.wait_with_output().unwrap();
    o.status.success().then_some(o.stdout)
}

#[test]
fn render_pdf_and_html_with_the_exchange_stamp() {
    let out = letter("render");
    let pdf = out.join("1150001234.pdf");
    // The stamp time has a space, so it is given as one argument.
    let mut args = words("doc render 1150001234.di -o 1150001234.pdf --stamp-time");
    args.push("115/01/05 10:30");
    args.extend(words(
        "--stamp-agency 臺北市政府資訊局 --receipt-no 北市資字第1150000456號",
    ));
    let o = run(&out, &[], BIN, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let t = tool("pdftotext").arg(&pdf).arg("-").output().unwrap();
    assert!(t.status.success());
    // pdftotext may put spaces between CJK glyphs; compare without white space.
    let text: String = String::from_utf8_lossy(&t.stdout)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for want in [
        "府資字第1150001234號",
        "主旨：檢送本府「115年度公文電子交換系統升級計畫」1份",
        "(一)憑證管理",
        "1、發文單位應於次一上班日",
        "應即以退文處理並敘明理由。",
        "臺北市政府秘書處(含附件)",
        "電子公文交換戳記",
        "臺北市政府資訊局",
        "北市資字第1150000456號",
        "第1頁，共2頁",
        "第2頁，共2頁",
    ] {
        let want: String = want.replace(['(', ')'], "");
        let got = text.replace(['(', ')', '（', '）'], "");
        assert!(got.contains(&want), "pdftotext lacks {want:?}:\n{text}");
    }
    let info = tool("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains("595.28 x 841.89 pts (A4)")
            && info
                .lines()
                .any(|l| l.starts_with("Pages:") && l.ends_with(" 2")),
        "{info}"
    );
    let fonts = tool("pdffonts").arg(&pdf).output().unwrap();
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    assert!(
        fonts.contains("TW-Kai") && fonts.contains("yes yes yes"),
        "font not embedded and subset:\n{fonts}"
    );

    // As a picture: the stamp is in stamp ink in the top right of page 1, the seam mark
    // runs down the binding margin of every page, and the body is black text.
    let png = out.join("page");
    let o = tool("pdftoppm")
        .args(["-r", "50"])
        .arg(&pdf)
        .arg(&png)
        .output()
        .unwrap();
    assert!(o.status.success());
    let page1 = Ppm::read(&out.join("page-1.ppm"));
    let page2 = Ppm::read(&out.join("page-2.ppm"));
    let (w, h) = (page1.w, page1.h);
    assert!(
        page1.count(w * 6 / 10, 0, w, h / 8, Ppm::red) > 20,
        "no stamp on page 1"
    );
    assert_eq!(
        page2.count(w * 6 / 10, 0, w, h / 8, Ppm::red),
        0,
        "stamp only on page 1"
    );
    for p in [&page1, &page2] {
        assert!(
            p.count(0, h / 4, w / 12, h * 3 / 4, Ppm::red) > 10,
            "no seam mark"
        );
        assert!(
            p.count(w / 8, h / 8, w, h * 7 / 8, Ppm::dark) > 50,
            "no text"
        );
    }

    let o = gongwen(&out, "doc render 1150001234.di -o 1150001234.html --html");
    assert!(o.status.success());
    let h = std::fs::read_to_string(out.join("1150001234.html")).unwrap();
    assert!(h.contains("府資字第1150001234號") && h.contains("主旨"));

    // A stamp time that is not a time is refused before anything is written.
    let o = gongwen(
        &out,
        "doc render 1150001234.di -o bad.pdf --stamp-agency 甲 --stamp-time 明天下午 --receipt-no 1",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("E_ARG"));
    assert!(!out.join("bad.pdf").exists());
}

/// A binary PPM (P6) as pdftoppm writes it, enough to count pixels by colour.
struct Ppm {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Ppm {
    fn read(path: &Path) -> Ppm {
        let b = std::fs::read(path).unwrap();
        let mut fields = Vec::new();
        let mut i = 0;
        while fields.len() < 4 {
            while b[i].is_ascii_whitespace() {
                i += 1;
            }
            let start = i;
            while !b[i].is_ascii_whitespace() {
                i += 1;
            }
            fields.push(String::from_utf8_lossy(&b[start..i]).into_owned());
        }
        assert_eq!(fields[0], "P6");
        let w: usize = fields[1].parse().unwrap();
        let h: usize = fields[2].parse().unwrap();
        Ppm {
            w,
            h,
            px: b[i + 1..].to_vec(),
        }
    }
    fn red(p: &[u8]) -> bool {
        p[0] > 150 && p[1] < 120 && p[2] < 120
    }
    fn dark(p: &[u8]) -> bool {
        p[0] < 128 && p[1] < 128 && p[2] < 128
    }
    /// Pixels in the rectangle [x0, x1) × [y0, y1) for which `f` holds.
    fn count(&self, x0: usize, y0: usize, x1: usize, y1: usize, f: fn(&[u8]) -> bool) -> usize {
        let mut n = 0;
        for y in y0..y1.min(self.h) {
            for x in x0..x1.min(self.w) {
                let o = (y * self.w + x) * 3;
                n += f(&self.px[o..o + 3]) as usize;
            }
        }
        n
    }
}

#[test]
fn bad_drafts_fail_clearly_and_write_nothing() {
    let out = scratch("doc-baddraft");
    let draft = out.join("bad.toml");
    // `doc new` of `bad.toml` as written by `text`: exit code `code`, each of `parts` on
    // standard error.
    let new = |text: &str, code: i32, parts: &[&str]| {
        std::fs::write(&draft, text).unwrap();
        let o = gongwen(&out, "doc new bad.toml --out o");
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        has(&stderr(&o), parts);
    };
    let text = "\"文別\" = \"函\"\n\"速別\" = \"特急\"\n\"主旨\" = \"測試\"\n";
    new(text, 1, &["速別", "發文機關", "正本"]);
    assert!(!out.join("o").exists());

    new("\"文別\" = \"函\"\n\"不存在的欄位\" = 1\n", 1, &["E_DRAFT"]);

    // Chinese keys without quotes are not TOML; the message says how to write them.
    new("文別 = \"函\"\n", 1, &["要加雙引號"]);

    // An attachment that is not there: nothing is written.
    let text = std::fs::read_to_string(repo().join("examples/letter.toml")).unwrap();
    new(&text.replace("plan.pdf", "none.pdf"), 2, &["none.pdf"]);
    assert!(!out.join("o").exists());
}
