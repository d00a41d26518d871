//! `gongwen office verify`: a case exported by the document-management system checks out with
//! no server, and a changed file is refused with the problem named and exit code 1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use common::{BIN, run, scratch};
use gongwen_office::cases::{self, Origin};
use gongwen_office::export;
use gongwen_office::steps::{self, Action, NewCase, NewVersion, Office, Request};
use gongwen_store::Db;
use gongwen_testbed::office::{self as fixture, Card};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// One case created and drafted by `officer-0` of the bench's city hall, exported.
async fn exported(dir: &std::path::Path) -> (export::Export, std::path::PathBuf) {
    let (mut ca, trust) = fixture::people_ca(&dir.join("ca")).unwrap();
    let card = Card::issue(&mut ca, "承辦人零").unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.join("office.db").display()))
        .await
        .unwrap();
    fixture::city_hall(&db, &card).await.unwrap();
    let calendar = gongwen_office::timing::WorkCalendar::with_bundled().unwrap_or_default();
    let office = Office {
        db: &db,
        agency: "379000000A 臺北市政府",
        trust: &trust,
        calendar: &calendar,
        extensions: Default::default(),
    };
    let id = cases::next_number(&db, "case", now()).await.unwrap();
    let mut create = Request::new(&id, Action::Create, "officer-0", now());
    create.new_case = Some(NewCase {
        origin: Origin::Memo,
        subject: "辦理研習".to_string(),
        matter: "一般業務".to_string(),
        urgency: "普通件".to_string(),
        intake: None,
    });
    let mut draft = Request::new(&id, Action::Draft, "officer-0", now());
    for (r, text) in [(&mut create, "簽：第一版"), (&mut draft, "簽：第二版")] {
        r.version = Some(NewVersion {
            doc: "memo-1".to_string(),
            kind: "memo".to_string(),
            content: text.as_bytes().to_vec(),
        });
        let signed = card
            .sign(&steps::prepare(&office, r).await.unwrap())
            .unwrap();
        steps::commit(&office, r, &signed, now()).await.unwrap();
    }
    (
        export::export(&db, office.agency, &id).await.unwrap(),
        ca.root_file(),
    )
}

#[test]
fn verify_prints_the_record_and_refuses_a_changed_file() {
    let dir = scratch("office-verify");
    let (file, root) = gongwen_integration::runtime().block_on(exported(&dir));
    let good = dir.join("case.json");
    std::fs::write(&good, serde_json::to_vec(&file).unwrap()).unwrap();
    let crl = dir.join("ca").join("crl");
    let verify_with = |f: &std::path::Path, more: &[&str]| {
        let mut all = vec!["office", "verify", f.to_str().unwrap()];
        all.extend([
            "--trust",
            root.to_str().unwrap(),
            "--crl",
            crl.to_str().unwrap(),
        ]);
        all.extend(more);
        run(&dir, &[], BIN, &all)
    };
    let verify = |f: &std::path::Path| verify_with(f, &[]);
    let pdf = dir.join("簽核紀錄.pdf");
    let out = verify_with(&good, &["--pdf", pdf.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}{errors}");
    assert!(text.contains("創簽／創稿（create）"), "{text}");
    assert!(text.contains("驗證通過"), "{text}");
    // The printed record says the same, in the PDF's own text.
    let printed = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, installed by scripts/test)");
    let printed = String::from_utf8_lossy(&printed.stdout);
    for words in [
        "簽核紀錄",
        "臺北市政府",
        "科員 承辦人（officer-0）",
        "驗證通過",
    ] {
        assert!(printed.contains(words), "{words} not in {printed}");
    }

    let mut changed = file.clone();
    changed.steps.swap(0, 1);
    let bad = dir.join("changed.json");
    std::fs::write(&bad, serde_json::to_vec(&changed).unwrap()).unwrap();
    let out = verify(&bad);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("問題：") && text.contains("驗證未通過"),
        "{text}"
    );

    // Not a case file at all: a clear error, not a panic.
    let junk = dir.join("junk.json");
    std::fs::write(&junk, b"{\"format\": 1}").unwrap();
    let out = verify(&junk);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("不是案件匯出檔"));
}

/// `gongwen office timeliness`: the exports of two agencies side by side, with their sum; two
/// periods that differ are refused.
#[test]
fn the_timeliness_of_several_agencies_is_put_side_by_side() {
    let dir = scratch("office-timeliness");
    let report = |agency: &str, to: &str, closed: i64, late: i64| {
        serde_json::json!({
            "agency": agency, "from": "2026-03", "to": to,
            "lines": [{
                "month": null, "unit": null, "unit_name": agency, "speed": null,
                "speed_name": "合計", "closed": closed, "on_time": closed - late, "late": late,
                "no_due": 0, "half_days": 4 * closed, "on_time_rate": null, "average_days": null
            }]
        })
        .to_string()
    };
    std::fs::write(
        dir.join("a.json"),
        report("379130000C 教育局", "2026-03", 4, 1),
    )
    .unwrap();
    std::fs::write(
        dir.join("b.json"),
        report("379100000G 市政府", "2026-03", 6, 0),
    )
    .unwrap();
    std::fs::write(
        dir.join("c.json"),
        report("379000000A 其他", "2026-04", 1, 0),
    )
    .unwrap();
    let out = run(
        &dir,
        &[],
        BIN,
        &["office", "timeliness", "a.json", "b.json", "--out", "m.csv"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("全部機關｜合計：結案 10，如期 9，逾期 1"),
        "{text}"
    );
    let csv = std::fs::read_to_string(dir.join("m.csv")).unwrap();
    assert!(csv.contains("379130000C 教育局,合計,4,3,1,0,75,2"), "{csv}");
    let out = run(
        &dir,
        &[],
        BIN,
        &["office", "timeliness", "a.json", "c.json"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("期間"));
}
