//! Hostile files end in a clear, typed error (or a list of problems) within bounded time and
//! memory: entity bombs, external and parameter entities, oversized text, deep nesting, broken
//! encodings, truncated files, and floods of elements, attributes, declarations and markup.
//!
//! Memory is measured with a counting global allocator: each case records the peak of the bytes
//! allocated while `check` runs (the input itself is allocated before and not counted). The
//! tests in this file run one at a time (a shared lock) so the peaks do not mix. Time is not
//! asserted; a case that did not end would hang the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use gongwen_doc::xml::Limits;
use gongwen_doc::{Checked, DocError, ProblemKind, check};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Counts `by` more bytes when the allocation `p` succeeded.
fn grew(p: *mut u8, by: usize) -> *mut u8 {
    if !p.is_null() {
        let now = CURRENT.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
    p
}

// SAFETY: every call is forwarded to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        grew(p, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static SERIAL: Mutex<()> = Mutex::new(());

/// Every test holds this for its whole run, so allocation peaks belong to one case.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const MIB: usize = 1024 * 1024;

/// `check` with the given limits, and the peak number of bytes it had allocated at once.
fn measured_with(bytes: &[u8], limits: &Limits) -> (Result<Checked, DocError>, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let result = check(bytes, limits);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    (result, peak)
}

fn measured(bytes: &[u8]) -> (Result<Checked, DocError>, usize) {
    measured_with(bytes, &Limits::default())
}

/// Asserts a fatal error with this code and a non-empty zh-TW message; returns the message.
#[track_caller]
fn expect_error(what: &str, result: Result<Checked, DocError>, code: &str) -> String {
    match result {
        Err(e) => {
            assert_eq!(e.code(), code, "{what}: {e}");
            assert!(e.is_fatal(), "{what}: {e}");
            let msg = e.to_string();
            assert!(
                msg.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
                "{what}: the message is zh-TW: {msg}"
            );
            msg
        }
        Ok(c) => panic!("{what}: expected {code}, got problems {:#?}", c.problems),
    }
}

#[track_caller]
fn expect_small(what: &str, peak: usize, bound: usize) {
    assert!(
        peak <= bound,
        "{what}: allocated up to {} KiB while checking (bound {} KiB)",
        peak / 1024,
        bound / 1024
    );
}

/// Asserts that checking `bytes` ends in the error `code` (as `expect_error`) having allocated
/// at most `bound` bytes at once; returns the message.
#[track_caller]
fn refused_within(what: &str, bytes: &[u8], code: &str, bound: usize) -> String {
    let (r, peak) = measured(bytes);
    let msg = expect_error(what, r, code);
    expect_small(what, peak, bound);
    msg
}

/// Asserts that checking `bytes` ends in the error `code` (as `expect_error`); returns the message.
#[track_caller]
fn refused(what: &str, bytes: &[u8], code: &str) -> String {
    expect_error(what, check(bytes, &Limits::default()), code)
}

/// A valid 函 with `subset` added to its internal subset and `subject` as the 主旨 text.
fn letter(subset: &str, subject: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE 函 SYSTEM "104_2_utf8.dtd" [
<!ENTITY 表單 SYSTEM "1150001234.sw" NDATA DI>
<!NOTATION DI SYSTEM "">
{subset}
]>
<函>
  <發文機關><全銜>臺北市政府</全銜><機關代碼>379000000A</機關代碼></發文機關>
  <函類別 代碼="函"/>
  <地址>臺北市信義區市府路1號</地址>
  <聯絡方式>承辦人：王小明</聯絡方式>
  <受文者><交換表 交換表單="表單">如正副本行文單位</交換表></受文者>
  <發文日期><年月日>中華民國115年1月5日</年月日></發文日期>
  <發文字號><字>府資字</字><文號><年度>115</年度><流水號>0001234</流水號></文號></發文字號>
  <速別 代碼="普通件"/>
  <主旨><文字>{subject}</文字></主旨>
  <正本><全銜>臺北市議會</全銜></正本>
</函>
"#
    )
}

#[test]
fn the_base_letter_is_valid() {
    let _g = serial();
    let c = check(
        letter("", "檢送資料，請查照。").as_bytes(),
        &Limits::default(),
    )
    .unwrap();
    assert!(c.problems.is_empty(), "{:#?}", c.problems);
    assert!(c.parsed.is_some());
}

#[test]
fn billion_laughs_is_refused_without_expansion() {
    let _g = serial();
    let mut subset = String::from("<!ENTITY lol0 \"lol\">\n");
    for i in 1..=9 {
        let prev = format!("&lol{};", i - 1).repeat(10);
        subset.push_str(&format!("<!ENTITY lol{i} \"{prev}\">\n"));
    }
    // Referenced in content.
    let msg = refused_within(
        "billion laughs in content",
        letter(&subset, "&lol9;").as_bytes(),
        "E_DOC_ENTITY",
        MIB,
    );
    assert!(msg.contains("lol9"), "{msg}");
    // Referenced in an attribute value.
    let text = letter(&subset, "x")
        .replace("段名", "x")
        .replace("<主旨>", "<主旨 說明=\"&lol9;\">");
    refused_within(
        "billion laughs in an attribute",
        text.as_bytes(),
        "E_DOC_ENTITY",
        MIB,
    );
    // Declared but never referenced: nothing is expanded, the file is read normally.
    let (r, peak) = measured(letter(&subset, "x").as_bytes());
    let c = r.expect("declared entities are not expanded");
    assert!(c.problems.is_empty(), "{:#?}", c.problems);
    expect_small("billion laughs declared only", peak, MIB);
}

#[test]
fn quadratic_blowup_is_refused() {
    let _g = serial();
    // One big entity referenced many times (the "quadratic blowup" variant).
    let big = "哈".repeat(100_000);
    let refs = "&big;".repeat(10_000);
    let text = letter(&format!("<!ENTITY big \"{big}\">"), &refs);
    refused_within("quadratic blowup", text.as_bytes(), "E_DOC_ENTITY", 4 * MIB);
}

#[test]
fn external_entities_are_never_fetched() {
    let _g = serial();
    // In content.
    let text = letter("<!ENTITY xxe SYSTEM \"file:///etc/passwd\">", "&xxe;");
    let msg = refused(
        "external entity in content",
        text.as_bytes(),
        "E_DOC_ENTITY",
    );
    assert!(msg.contains("xxe") && !msg.contains("root:"), "{msg}");
    // By URL, in an attribute.
    let text = letter("<!ENTITY net SYSTEM \"http://127.0.0.1:9/x\">", "x")
        .replace("<主旨>", "<主旨 說明=\"&net;\">");
    refused(
        "network entity in an attribute",
        text.as_bytes(),
        "E_DOC_ENTITY",
    );
    // As the ENTITY attribute value: it is a parsed entity, so a DTD problem, and nothing is read.
    let text = letter("<!ENTITY xxe SYSTEM \"file:///etc/passwd\">", "x")
        .replace("交換表單=\"表單\"", "交換表單=\"xxe\"");
    let c = check(text.as_bytes(), &Limits::default()).unwrap();
    let p = c
        .problems
        .iter()
        .find(|p| p.kind == ProblemKind::Dtd)
        .expect("a DTD problem");
    assert_eq!(p.path, "/函/受文者/交換表");
    assert!(
        p.message.contains("未剖析實體") && !p.message.contains("root:"),
        "{p}"
    );
    // As an unparsed entity (an "attachment"): the path is refused as a value problem.
    let text = letter(
        "<!ENTITY ATTCH1 SYSTEM \"file:///etc/passwd\" NDATA DI>",
        "x",
    )
    .replace(
        "<主旨>",
        "<附件><文字>附件</文字><附件檔名 附件名=\"ATTCH1\"/></附件>\n  <主旨>",
    );
    let c = check(text.as_bytes(), &Limits::default()).unwrap();
    assert!(
        c.problems.iter().any(|p| p.kind == ProblemKind::Value
            && p.path == "/<!ENTITY ATTCH1>"
            && p.message.contains("路徑")),
        "{:#?}",
        c.problems
    );
    assert!(c.parsed.is_none());
    // The DTD itself is never fetched from a path or URL either.
    for id in [
        "file:///etc/passwd",
        "/etc/passwd",
        "http://127.0.0.1:9/104_2_utf8.dtd",
    ] {
        let text = letter("", "x").replace("\"104_2_utf8.dtd\"", &format!("\"{id}\""));
        let c = check(text.as_bytes(), &Limits::default()).unwrap();
        assert!(
            c.problems
                .iter()
                .any(|p| p.kind == ProblemKind::Dtd && p.path == "/函" && p.message.contains(id)),
            "{id}: {:#?}",
            c.problems
        );
    }
}

#[test]
fn parameter_entities_are_refused() {
    let _g = serial();
    let cases = [
        (
            "external parameter entity",
            "<!ENTITY % ext SYSTEM \"file:///etc/passwd\">\n%ext;",
        ),
        (
            "nested parameter entities",
            "<!ENTITY % a \"<!ENTITY b 'x'>\">\n<!ENTITY % c \"%a;%a;%a;%a;\">\n%c;",
        ),
        (
            "parameter entity inside a declaration",
            "<!ENTITY % t \"CDATA\">\n<!ATTLIST 主旨 說明 %t; #IMPLIED>",
        ),
        (
            "parameter entity as a content model",
            "<!ENTITY % m \"(#PCDATA)\">\n<!ELEMENT 備考 %m;>",
        ),
        (
            "parameter entity as a name",
            "<!ENTITY % n \"備考\">\n<!ELEMENT %n; (#PCDATA)>",
        ),
    ];
    for (what, subset) in cases {
        let msg = refused_within(what, letter(subset, "x").as_bytes(), "E_DOC_ENTITY", MIB);
        assert!(msg.contains('%'), "{what}: {msg}");
    }
}

#[test]
fn a_50_mb_subject_is_refused_before_it_is_read() {
    let _g = serial();
    let head = letter("", "MARK");
    let (before, after) = head.split_once("MARK").unwrap();
    let filler = "主旨文字".repeat(50 * MIB / 12);
    let mut bytes = Vec::with_capacity(before.len() + filler.len() + after.len());
    bytes.extend_from_slice(before.as_bytes());
    bytes.extend_from_slice(filler.as_bytes());
    bytes.extend_from_slice(after.as_bytes());
    drop(filler);
    assert!(bytes.len() >= 50 * MIB);
    let msg = refused_within("50 MB file", &bytes, "E_DOC_TOO_LARGE", 64 * 1024);
    assert!(msg.contains("檔案"), "{msg}");
}

#[test]
fn text_and_attribute_values_over_the_text_limit_are_refused() {
    let _g = serial();
    let limits = Limits::default();
    let big = "文".repeat(limits.max_text_bytes / 3 + 10); // just over the limit, under max_bytes
    for (what, text) in [
        ("text", letter("", &big)),
        (
            "text in pieces",
            letter("", &big.replace("文文文文", "文文&#x6587;文<!---->文")),
        ),
        ("CDATA", letter("", &format!("<![CDATA[{big}]]>"))),
        (
            "text and CDATA",
            letter(
                "",
                &format!(
                    "{}<![CDATA[{}]]>",
                    &big[..big.len() / 2 / 3 * 3],
                    &big[..big.len() / 2 / 3 * 3 + 30]
                ),
            ),
        ),
        (
            "attribute value",
            letter("", "x").replace("<主旨>", &format!("<主旨 說明=\"{big}\">")),
        ),
    ] {
        assert!(text.len() < limits.max_bytes);
        refused_within(what, text.as_bytes(), "E_DOC_TOO_LARGE", 4 * MIB);
    }
}

#[test]
fn ten_thousand_levels_of_nesting_end_in_too_deep() {
    let _g = serial();
    let deep = format!(
        "{}{}",
        "<條列><文字>x</文字>".repeat(10_000),
        "</條列>".repeat(10_000)
    );
    let text = letter("", "x").replace(
        "<正本>",
        &format!("<段落 段名=\"說明：\">{deep}</段落>\n  <正本>"),
    );
    let msg = refused_within("10,000 levels", text.as_bytes(), "E_DOC_TOO_DEEP", MIB);
    assert!(msg.contains("64"), "{msg}");
    // Unclosed, and as deep as the byte limit allows.
    let bytes = "<a>".repeat(Limits::default().max_bytes / 3);
    let (r, _) = measured(bytes.as_bytes());
    expect_error("2.8 million unclosed levels", r, "E_DOC_TOO_DEEP");
}

#[test]
fn raising_the_depth_limit_does_not_overflow_the_stack() {
    let _g = serial();
    // A caller may raise max_depth, but never past xml::MAX_DEPTH: validating, reading and
    // dropping the tree walk it recursively.
    let limits = Limits {
        max_depth: 1_000_000,
        ..Limits::default()
    };
    assert_eq!(limits.depth_limit(), gongwen_doc::xml::MAX_DEPTH);
    let nested = |levels: usize| {
        let deep = format!(
            "{}{}",
            "<條列 序號=\"一、\"><文字>x</文字>".repeat(levels),
            "</條列>".repeat(levels)
        );
        letter("", "x").replace(
            "<正本>",
            &format!("<段落 段名=\"說明：\">{deep}</段落>\n  <正本>"),
        )
    };
    let (r, peak) = measured_with(nested(20_000).as_bytes(), &limits);
    let msg = expect_error("20,000 levels with a raised limit", r, "E_DOC_TOO_DEEP");
    assert!(
        msg.contains(&gongwen_doc::xml::MAX_DEPTH.to_string()),
        "{msg}"
    );
    expect_small("20,000 levels with a raised limit", peak, 4 * MIB);
    // As deep as allowed (函 1, 段落 2, 條列 3 … MAX_DEPTH − 1, 文字 MAX_DEPTH): DTD-valid, read
    // into the model and dropped on a thread with the default 2 MiB test stack.
    let text = nested(gongwen_doc::xml::MAX_DEPTH - 3);
    let outcome = std::thread::Builder::new()
        .stack_size(2 * MIB)
        .spawn(move || {
            let c = check(text.as_bytes(), &limits).expect("readable");
            assert!(c.problems.is_empty(), "{:#?}", c.problems);
            assert!(c.parsed.is_some());
            let di = gongwen_doc::read_di(text.as_bytes());
            // read_di uses the default limits: too deep for them.
            assert_eq!(di.unwrap_err().code(), "E_DOC_TOO_DEEP");
        })
        .unwrap()
        .join();
    assert!(outcome.is_ok(), "no stack overflow and no panic");
}

#[test]
fn invalid_utf8_is_an_encoding_error() {
    let _g = serial();
    let base = letter("", "MARK");
    let cases: [(&str, &[u8]); 7] = [
        ("lone continuation byte", b"\x80"),
        ("overlong encoding of <", b"\xC0\xBC"),
        ("UTF-16 surrogate", b"\xED\xA0\x80"),
        ("beyond U+10FFFF", b"\xF4\x90\x80\x80"),
        ("truncated sequence", b"\xE6\x96"),
        ("0xFF", b"\xFF\xFE"),
        ("Latin-1 byte", b"caf\xE9"),
    ];
    for (what, bad) in cases {
        let (before, after) = base.split_once("MARK").unwrap();
        let mut bytes = before.as_bytes().to_vec();
        bytes.extend_from_slice(bad);
        bytes.extend_from_slice(after.as_bytes());
        let msg = refused_within(what, &bytes, "E_DOC_ENCODING", 64 * 1024);
        assert!(msg.contains("UTF-8"), "{what}: {msg}");
    }
    // Also in a name, and at the very end of the file.
    let mut bytes = base
        .replace("<主旨>", "<主旨 說\u{660E}=\"\">")
        .into_bytes();
    let at = bytes
        .windows(3)
        .position(|w| w == "\u{660E}".as_bytes())
        .unwrap();
    bytes[at + 1] = b'A';
    refused("bad byte in a name", &bytes, "E_DOC_ENCODING");
    let mut bytes = base.into_bytes();
    bytes.push(0xE6);
    refused("cut character at the end", &bytes, "E_DOC_ENCODING");
    // UTF-16 is refused outright, and so are encodings the format does not use.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "<?xml version=\"1.0\"?><函/>"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        )
        .collect();
    refused("UTF-16", &utf16, "E_DOC_ENCODING");
    let latin = letter("", "x").replace("UTF-8", "ISO-8859-1");
    refused("Latin-1 declared", latin.as_bytes(), "E_DOC_ENCODING");
    // Big5 bytes that are not Big5.
    let big5 = letter("", "MARK").replace("UTF-8", "big5");
    let (bytes, _, unmappable) = encoding_rs::BIG5.encode(&big5);
    assert!(!unmappable);
    let bytes = replace_bytes(&bytes, b"MARK", b"\xFF\xFF\x81");
    refused("bad Big5", &bytes, "E_DOC_ENCODING");
}

fn replace_bytes(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = hay.windows(from.len()).position(|w| w == from).unwrap();
    [&hay[..at], to, &hay[at + from.len()..]].concat()
}

/// Each corpus file cut at many byte positions: never a panic, always an error or problems,
/// except where the cut only removed what follows the root element.
#[test]
fn truncated_files_never_panic() {
    let _g = serial();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/valid");
    let files = [
        ("函-一文多發.di", 1),
        ("簽.di", 1),
        ("交換表單.sw", 1),
        ("函-big5.di", 1),
        ("開會通知單.di", 3),
        ("函-CRLF.di", 5),
        ("函-BOM.di", 7),
    ];
    let mut cuts = 0;
    for (name, step) in files {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let full = check(&bytes, &Limits::default()).unwrap();
        assert!(full.problems.is_empty(), "{name} is valid");
        // The end of the root element: cutting after it leaves a complete document.
        let close: &[u8] = if name.ends_with(".sw") {
            "</交換表單>".as_bytes()
        } else if name.starts_with("簽") {
            "</簽>".as_bytes()
        } else if name.starts_with("開會") {
            "</開會通知單>".as_bytes()
        } else if name.contains("big5") {
            b"</\xA8\xE7>" // </函> in Big5
        } else {
            "</函>".as_bytes()
        };
        let complete = bytes
            .windows(close.len())
            .rposition(|w| w == close)
            .map(|i| i + close.len())
            .unwrap_or_else(|| panic!("{name}: root end tag"));
        for cut in (0..bytes.len()).step_by(step) {
            cuts += 1;
            let part = &bytes[..cut];
            match check(part, &Limits::default()) {
                Err(e) => {
                    assert!(!e.code().is_empty() && !e.to_string().is_empty());
                }
                Ok(c) if cut >= complete => {
                    assert!(c.problems.is_empty(), "{name} cut at {cut}");
                }
                Ok(c) => {
                    assert!(
                        !c.problems.is_empty(),
                        "{name} cut at byte {cut} of {} was accepted",
                        bytes.len()
                    );
                }
            }
        }
    }
    assert!(cuts > 5_000, "{cuts} cuts");
}

#[test]
fn floods_of_elements_attributes_and_declarations_hit_the_limits() {
    let _g = serial();
    let limits = Limits::default();
    // Attributes on one element.
    let attrs: String = (0..limits.max_attributes + 1)
        .map(|i| format!(" a{i}=\"v\""))
        .collect();
    let text = letter("", "x").replace("<主旨>", &format!("<主旨{attrs}>"));
    let msg = refused_within("attributes", text.as_bytes(), "E_DOC_TOO_MANY", MIB);
    assert!(msg.contains("屬性"), "{msg}");
    // Elements.
    let many = "<文字/>".repeat(limits.max_elements + 1);
    let text = letter("", "x").replace("<正本>", &format!("<正本>{many}"));
    assert!(text.len() < limits.max_bytes);
    let msg = refused_within("elements", text.as_bytes(), "E_DOC_TOO_MANY", 48 * MIB);
    assert!(msg.contains("元素"), "{msg}");
    // Declarations in the internal subset.
    let decls: String = (0..limits.max_declarations + 1)
        .map(|i| format!("<!ENTITY e{i} \"x\">\n"))
        .collect();
    let msg = refused_within(
        "declarations",
        letter(&decls, "x").as_bytes(),
        "E_DOC_TOO_MANY",
        4 * MIB,
    );
    assert!(msg.contains("宣告"), "{msg}");
    // A name longer than any real one.
    let name = "長".repeat(100);
    let text = letter("", "x").replace("<主旨>", &format!("<主旨><{name}/>"));
    refused("long name", text.as_bytes(), "E_DOC_MALFORMED");
    // Character references that are no characters.
    for r in [
        "&#0;",
        "&#x110000;",
        "&#99999999999;",
        "&#xD800;",
        "&#x;",
        "&#12a;",
    ] {
        let text = letter("", r);
        refused(r, text.as_bytes(), "E_DOC_MALFORMED");
    }
    // A reference that never ends.
    let text = letter("", &format!("&{}", "a".repeat(10_000)));
    refused("endless reference", text.as_bytes(), "E_DOC_MALFORMED");
}

/// Floods that stay under every count limit still cost memory in proportion to the file.
#[test]
fn markup_floods_cost_memory_in_proportion_to_the_file() {
    let _g = serial();
    let max = Limits::default().max_bytes;
    let fill = |unit: &str| -> String {
        let base = letter("", "MARK");
        let n = (max - base.len()) / unit.len();
        base.replace("MARK", &unit.repeat(n))
    };
    for (what, unit) in [
        ("text and comments", "a<!---->"),
        ("text and processing instructions", "a<?p?>"),
        ("empty CDATA sections", "<![CDATA[]]>"),
        ("text and CDATA sections", "a<![CDATA[b]]>"),
        ("character references", "&#x6587;"),
        ("predefined entities", "&amp;"),
    ] {
        let text = fill(unit);
        assert!(text.len() <= max);
        let (r, peak) = measured(text.as_bytes());
        match r {
            Ok(c) => assert!(c.problems.iter().all(|p| !p.message.is_empty())),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        expect_small(what, peak, 4 * max);
    }
    // Attributes: as many as the limits allow, on as many elements as fit.
    let attrs: String = (0..64).map(|i| format!(" a{i}=\"\"")).collect();
    let unit = format!("<文字{attrs}/>");
    let text = fill(&unit);
    let msg = refused_within(
        "attribute flood",
        text.as_bytes(),
        "E_DOC_TOO_MANY",
        2 * max,
    );
    assert!(msg.contains("屬性（全檔）"), "{msg}");
    // Declarations, each with a long literal.
    let decls: String = (0..4000)
        .map(|i| format!("<!ENTITY e{i} \"{}\">\n", "x".repeat(1900)))
        .collect();
    let text = letter(&decls, "x");
    assert!(text.len() <= max);
    let (r, peak) = measured(text.as_bytes());
    assert!(r.is_ok());
    expect_small("declaration flood", peak, 4 * max);
}

#[test]
fn not_a_gongwen_document() {
    let _g = serial();
    for (what, text, code) in [
        ("empty file", "", "E_DOC_MALFORMED"),
        (
            "only a declaration",
            "<?xml version=\"1.0\"?>",
            "E_DOC_MALFORMED",
        ),
        (
            "HTML",
            "<!DOCTYPE html><html><body>公文</body></html>",
            "E_DOC_UNKNOWN_KIND",
        ),
        (
            "another root",
            "<?xml version=\"1.0\"?><公文/>",
            "E_DOC_UNKNOWN_KIND",
        ),
        ("two roots", "<函/><函/>", "E_DOC_MALFORMED"),
        ("a NUL byte", "<函>\u{0}</函>", "E_DOC_MALFORMED"),
    ] {
        let (r, _) = measured(text.as_bytes());
        expect_error(what, r, code);
    }
}
