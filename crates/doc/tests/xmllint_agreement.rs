//! The DTD validator agrees with the real `xmllint --valid` on every file of `tests/corpus/`.
//!
//! The corpus has three directories (see `tests/corpus/README.md`):
//! - `valid/`: both xmllint and Gongwen accept the file;
//! - `invalid/`: both reject it (Gongwen with a DTD problem or a fatal error);
//! - `stricter/`: xmllint accepts it but Gongwen refuses it on purpose (user-defined entities,
//!   DTD paths, home-made DTDs). These are listed so the difference stays deliberate.
//!
//! Every file starts (after its XML declaration) with a comment `<!-- VALID: … -->`,
//! `<!-- INVALID: … -->` or `<!-- STRICTER: … -->` that says what it tests; the marker must match
//! the directory.
//!
//! xmllint is required: a missing xmllint fails the test (install `libxml2-utils`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

use std::path::{Path, PathBuf};
use std::process::Command;

use gongwen_doc::xml::Limits;
use gongwen_doc::{DocError, ProblemKind, check};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Valid,
    Invalid,
    Stricter,
}

impl Category {
    const ALL: [Category; 3] = [Category::Valid, Category::Invalid, Category::Stricter];

    fn dir(self) -> &'static str {
        match self {
            Category::Valid => "valid",
            Category::Invalid => "invalid",
            Category::Stricter => "stricter",
        }
    }

    fn marker(self) -> String {
        format!("<!-- {}: ", self.dir().to_uppercase())
    }
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_dir() -> PathBuf {
    manifest_dir().join("tests").join("corpus")
}

/// `<official>:<vendor-observed>` plus the test-only shim for legacy DTD names (searched last).
fn xmllint_path() -> String {
    let dtd = manifest_dir().join("dtd");
    format!(
        "{}:{}:{}",
        dtd.join("official").display(),
        dtd.join("vendor-observed").display(),
        corpus_dir().join("legacy-dtd").display()
    )
}

fn require_xmllint() {
    match Command::new("xmllint").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "xmllint --version failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "xmllint is required for this test but could not be run ({e}). \
             Install it with `apt-get install -y libxml2-utils`."
        ),
    }
}

struct XmllintVerdict {
    valid: bool,
    output: String,
}

fn xmllint(file: &Path) -> XmllintVerdict {
    let out = Command::new("xmllint")
        .args(["--noout", "--valid", "--nonet", "--path"])
        .arg(xmllint_path())
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("xmllint could not be run on {}: {e}", file.display()));
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("xmllint was killed by a signal on {}", file.display()));
    XmllintVerdict {
        valid: code == 0,
        output: String::from_utf8_lossy(&out.stderr)
            .lines()
            .take(4)
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// Gongwen's DTD verdict: valid when `check` returned `Ok` with no problem of kind `Dtd`.
struct GongwenVerdict {
    valid: bool,
    /// Readable summary for failure messages.
    shown: String,
    result: Result<gongwen_doc::Checked, DocError>,
}

fn gongwen(bytes: &[u8]) -> GongwenVerdict {
    let result = check(bytes, &Limits::default());
    let (valid, shown) = match &result {
        Ok(c) => {
            let valid = !c.problems.iter().any(|p| p.kind == ProblemKind::Dtd);
            let shown = if c.problems.is_empty() {
                "no problems".to_string()
            } else {
                c.problems
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("\n    ")
            };
            (valid, shown)
        }
        Err(e) => (false, format!("{} {e}", e.code())),
    };
    GongwenVerdict {
        valid,
        shown,
        result,
    }
}

struct Case {
    category: Category,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Case {
    fn name(&self) -> String {
        format!(
            "{}/{}",
            self.category.dir(),
            self.path.file_name().unwrap().to_string_lossy()
        )
    }

    /// The explanation in the marker comment (ASCII marker; the note may be Big5 in Big5 files).
    fn note(&self) -> String {
        let marker = self.category.marker().into_bytes();
        let Some(at) = self.bytes.windows(marker.len()).position(|w| w == marker) else {
            return String::new();
        };
        let rest = &self.bytes[at + marker.len()..];
        let end = rest.windows(3).position(|w| w == b"-->").unwrap_or(0);
        String::from_utf8_lossy(&rest[..end]).trim().to_string()
    }
}

fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    for category in Category::ALL {
        let dir = corpus_dir().join(category.dir());
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for path in files {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            assert!(
                ext == "di" || ext == "sw",
                "{}: corpus files end in .di or .sw",
                path.display()
            );
            let bytes = std::fs::read(&path).unwrap();
            cases.push(Case {
                category,
                path,
                bytes,
            });
        }
    }
    cases
}

#[test]
fn corpus_is_labelled_and_large_enough() {
    let cases = corpus();
    let count = |c: Category| cases.iter().filter(|k| k.category == c).count();
    assert!(cases.len() >= 45, "only {} corpus cases", cases.len());
    assert!(count(Category::Valid) >= 20, "too few valid cases");
    assert!(count(Category::Invalid) >= 25, "too few invalid cases");
    for case in &cases {
        for other in Category::ALL {
            let marker = other.marker().into_bytes();
            let has = case.bytes.windows(marker.len()).any(|w| w == marker);
            assert_eq!(
                has,
                other == case.category,
                "{}: every file carries exactly the marker comment of its directory ({})",
                case.name(),
                case.category.marker()
            );
        }
        assert!(
            !case.note().is_empty(),
            "{}: the marker comment explains the case",
            case.name()
        );
    }
    // Every kind the brief lists is in the corpus.
    for needle in [
        "函-",
        "書函",
        "簽",
        "令",
        "公告",
        "開會通知單",
        "會勘通知單",
        "big5",
    ] {
        assert!(
            cases.iter().any(|c| c.name().contains(needle)),
            "no corpus case for {needle}"
        );
    }
    assert!(cases.iter().any(|c| c.name().ends_with(".sw")));
}

#[test]
fn gongwen_agrees_with_xmllint_on_every_corpus_file() {
    require_xmllint();
    let cases = corpus();
    let mut failures = Vec::new();
    for case in &cases {
        let lint = xmllint(&case.path);
        let gw = gongwen(&case.bytes);
        let mut fail = |why: String| {
            failures.push(format!(
                "{} ({})\n  {why}\n  xmllint: {}\n  gongwen: {}",
                case.name(),
                case.note(),
                if lint.valid {
                    "valid".to_string()
                } else {
                    lint.output.replace('\n', "\n    ")
                },
                gw.shown
            ))
        };
        let (want_lint, want_gw) = match case.category {
            Category::Valid => (true, true),
            Category::Invalid => (false, false),
            Category::Stricter => (true, false),
        };
        if lint.valid != want_lint {
            fail(format!(
                "xmllint says {}, the corpus label says {}",
                verdict(lint.valid),
                verdict(want_lint)
            ));
            continue;
        }
        if gw.valid != want_gw {
            fail(format!(
                "gongwen says {}, xmllint says {}",
                verdict(gw.valid),
                verdict(lint.valid)
            ));
            continue;
        }
        match (&gw.result, case.category) {
            (Ok(c), Category::Valid) => {
                // Value rules are Gongwen's own; valid cases use valid values, except where the
                // note says a value problem is expected.
                let expects_value = case.note().contains("E_DOC_VALUE");
                let values = c
                    .problems
                    .iter()
                    .filter(|p| p.kind == ProblemKind::Value)
                    .count();
                if expects_value != (values > 0) || (!expects_value && c.parsed.is_none()) {
                    fail("value problems not as the note says".into());
                }
                // A draft's blanks (and a classification) are notes, never problems: the
                // file is valid; the marker says NOTE exactly when one is expected.
                let expects_note = case.note().contains("NOTE");
                if expects_note == c.notes.is_empty() {
                    fail(format!("notes not as the marker says: {:?}", c.notes));
                }
            }
            (Ok(c), _) => {
                for p in c.problems.iter().filter(|p| p.kind == ProblemKind::Dtd) {
                    if !p.path.starts_with('/') || p.message.trim().is_empty() {
                        fail(format!("problem without element path or message: {p:?}"));
                    }
                }
            }
            (Err(e), _) => {
                if e.code().is_empty() || e.to_string().trim().is_empty() {
                    fail(format!("error without code or message: {e:?}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases disagree:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

fn verdict(valid: bool) -> &'static str {
    if valid { "valid" } else { "invalid" }
}

/// The DTD problems name the element at fault with a path into the document.
#[test]
fn invalid_content_is_located_by_element_path() {
    let cases = corpus();
    let expect = [
        ("invalid/函-缺正本.di", "/函", "正本"),
        ("invalid/函-副本純文字.di", "/函/副本", "副本"),
        ("invalid/函-速別代碼錯.di", "/函/速別", "特急件"),
        (
            "invalid/函-附件名未宣告實體.di",
            "/函/附件/附件檔名",
            "ATTCH3",
        ),
        (
            "invalid/函-附件名內部實體.di",
            "/函/附件/附件檔名",
            "未剖析實體",
        ),
        ("invalid/函-全形空白.di", "/函/正本", "U+3000"),
        (
            "invalid/函-條列第四層順序錯.di",
            "/函/段落/條列[2]/條列/條列/條列",
            "文字",
        ),
        ("invalid/函-EMPTY有註解.di", "/函/速別", "EMPTY"),
        (
            "invalid/函-standalone預設屬性.di",
            "/函/函類別",
            "standalone",
        ),
        ("invalid/簽-擬辦方式7.di", "/簽/擬辦方式", "7"),
        (
            "invalid/交換表單-本別代碼錯.sw",
            "/交換表單/本別[2]/收發處理本別",
            "正副本",
        ),
    ];
    for (name, path, needle) in expect {
        let case = cases
            .iter()
            .find(|c| c.name() == name)
            .unwrap_or_else(|| panic!("corpus case {name} is missing"));
        let checked = check(&case.bytes, &Limits::default()).unwrap();
        assert!(
            checked.problems.iter().any(|p| p.kind == ProblemKind::Dtd
                && p.path == path
                && p.message.contains(needle)),
            "{name}: expected a DTD problem at {path} mentioning {needle}, got {:#?}",
            checked.problems
        );
    }
}
