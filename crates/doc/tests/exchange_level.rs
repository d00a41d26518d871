//! Two levels of checking, kept apart: a draft the official DTD accepts is valid (notes only),
//! and only the exchange level refuses its blanks or a classification.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

use gongwen_doc::xml::Limits;
use gongwen_doc::{Parsed, ProblemKind, check, exchange_problems, read_di, write_di};

fn corpus(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/corpus/valid/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// (file, the paths the exchange level names; empty when ready to exchange)
const CASES: &[(&str, &[&str])] = &[
    ("函-密等空白.di", &[]),
    ("函-署名空白.di", &[]),
    ("函-年月日空白.di", &["/函/發文日期/年月日"]),
    ("函-發文字號空白.di", &["/函/發文字號"]),
    ("簽-草稿留白.di", &["/簽/年月日", "/簽/文號"]),
    ("函-最速件與密等.di", &["/函/密等及解密條件或保密期限"]),
    ("函-發文字號文字.di", &[]),
];

#[test]
fn drafts_are_valid_and_only_the_exchange_level_refuses_their_blanks() {
    for (name, not_ready) in CASES {
        let bytes = corpus(name);
        let checked = check(&bytes, &Limits::default()).unwrap();
        assert!(
            checked.problems.is_empty(),
            "{name}: {:?}",
            checked.problems
        );
        let Some(Parsed::Di(di)) = checked.parsed else {
            panic!("{name}: not read as a DI")
        };
        let refused = exchange_problems(&di.document);
        let paths: Vec<&str> = refused.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, *not_ready, "{name}: {refused:?}");
        for p in &refused {
            assert_eq!(p.code(), "E_DOC_NOT_READY");
            assert!(!p.message.is_empty());
            // `check` lists the same problems as notes, in the same words.
            assert!(checked.notes.contains(p), "{name}: note missing for {p}");
        }
        // read_di (what receiving uses) accepts a valid draft too.
        read_di(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn an_empty_classification_is_not_classified() {
    let di = read_di(&corpus("函-密等空白.di")).unwrap();
    assert!(di.document.secrecy().is_none());
}

#[test]
fn an_empty_signature_is_a_note_that_does_not_block_exchange() {
    let checked = check(&corpus("函-署名空白.di"), &Limits::default()).unwrap();
    assert!(
        checked
            .notes
            .iter()
            .any(|n| n.kind == ProblemKind::Draft && n.path == "/函/署名"),
        "{:?}",
        checked.notes
    );
}

#[test]
fn blanks_round_trip_through_the_writer_and_stay_valid() {
    for name in ["函-年月日空白.di", "函-發文字號空白.di", "簽-草稿留白.di"] {
        let di = read_di(&corpus(name)).unwrap();
        let written = write_di(&di).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = read_di(written.as_bytes()).unwrap();
        assert_eq!(again.document, di.document, "{name}");
        assert_eq!(
            exchange_problems(&again.document),
            exchange_problems(&di.document)
        );
    }
}
