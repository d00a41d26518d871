//! `gongwen directory audit verify` on the test database's engine: an intact log passes, a
//! changed entry or a cut-off head (with the anchor) fails with exit code 1 and names it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use std::path::Path;
use std::process::Command;

use common::directory::{directory_config, directory_with_center, ok, run};
use common::{expect, has, words};
use gongwen_directory::audit::{self, NewEntry};
use gongwen_integration::{fresh_database, runtime};
use gongwen_store::Db;

/// `directory audit verify` on `url`, with `anchor` if given: exit code and output.
fn verify(url: &str, anchor: Option<&str>) -> (i32, String) {
    let mut args = vec!["directory", "audit", "verify", "--database-url", url];
    args.extend(anchor.iter().flat_map(|a| ["--anchor", *a]));
    run(Path::new("."), &args)
}

#[test]
fn audit_verify_names_what_was_changed() {
    let url = runtime().block_on(fresh_database("directory_cli"));
    runtime().block_on(async {
        let db = Db::connect(&url).await.unwrap();
        for i in 0..5 {
            let mut tx = db.begin().await.unwrap();
            audit::append(
                &mut tx,
                NewEntry {
                    at: 1_767_580_200_000 + i,
                    actor: "管理者".into(),
                    action: "participant.activated".into(),
                    subject: format!("XA1234567{i}"),
                    detail: "{}".into(),
                },
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        db.close().await;
    });
    let out = expect(verify(&url, None), 0, &["共 5 筆", "雜湊鏈完整"]);
    let anchor = out
        .lines()
        .find_map(|l| l.strip_prefix("下次檢查可用錨點：--anchor "))
        .expect("an anchor line")
        .to_string();
    assert_eq!(verify(&url, Some(&anchor)).0, 0);

    // A bad anchor is an argument error, not a finding.
    expect(verify(&url, Some("5:xyz")), 1, &["E_ARG"]);

    runtime().block_on(async {
        let db = Db::connect(&url).await.unwrap();
        db.execute("UPDATE directory_log SET actor = '他人' WHERE seq = 3", &[])
            .await
            .unwrap();
        db.execute("DELETE FROM directory_log WHERE seq = 5", &[])
            .await
            .unwrap();
        db.close().await;
    });
    expect(verify(&url, None), 1, &["第 3 筆", "遭修改"]);
    // The first problem is reported: entry 3, before the missing head.
    expect(verify(&url, Some(&anchor)), 1, &["發現問題（第 3 筆）"]);
}

/// Verifies a snapshot file with openssl against the test root; its JSON.
fn open_snapshot(dir: &Path, der: &str) -> serde_json::Value {
    let json = format!("{der}.json");
    let v = Command::new("openssl")
        .current_dir(dir)
        .args([
            "cms", "-verify", "-inform", "DER", "-in", der, "-purpose", "any", "-out", &json,
            "-CAfile",
        ])
        .arg(gongwen_integration::pki().ca.root_file())
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    serde_json::from_slice(&std::fs::read(dir.join(json)).unwrap()).unwrap()
}

/// Writes `csv` as `file` in `dir` and imports it for center `tpc`: exit code and output.
fn import(dir: &Path, file: &str, csv: &str) -> (i32, String) {
    std::fs::write(dir.join(file), csv).unwrap();
    run(dir, &["directory", "import", file, "--center", "tpc"])
}

/// The participant state an export's STATUSCODE letter stands for.
fn state_of(letter: &str) -> &'static str {
    match letter {
        "T" => "active",
        "D" => "terminated",
        _ => "cancelled",
    }
}

#[test]
fn directory_commands_import_look_up_change_and_sign() {
    let (dir, url) = directory_with_center("directory_commands");

    // A broken file is refused with the line, and nothing goes in.
    let bad = "ORGID,ORGNAME\n379000000A,臺北市政府\n379000000A,重複\n";
    let refusal = ["E_DIR_DUPLICATE", "第 3 行"];
    expect(import(&dir, "bad.csv", bad), 1, &refusal);
    let book = "\u{feff}ORGID,ORGNAME,STATUSCODE,UPDATETIME\r\n379000000A,臺北市政府,0,\r\n379130000C,臺北市政府資訊局,0,\r\nXA12345678,台北市中正區中正國民小學家長會,0,\r\n";
    expect(import(&dir, "book.csv", book), 0, &["已匯入 3 筆"]);

    let out = ok(&dir, &words("directory address-book --query 臺北市中正區"));
    has(&out, &["XA12345678", "共 1 筆"]);
    let out = ok(&dir, &words("directory address-book --format csv"));
    // The legacy digits are read; the export writes the published letters.
    has(&out, &["ORGID,ORGNAME,STATUSCODE,UPDATETIME"]);
    has(&out, &["379130000C,臺北市政府資訊局,T,"]);
    let (code, out) = run(
        &dir,
        &words("directory address-book --resolve 台北市政府資訊局"),
    );
    assert_eq!((code, out.trim()), (0, "379130000C\t臺北市政府資訊局"));

    // A suspension needs a reason; the participant's history shows both changes.
    let suspend = "directory participant state XA12345678 suspend";
    expect(run(&dir, &words(suspend)), 1, &["須註明原因"]);
    let reason = "--reason 未經受文者同意發送廣告";
    ok(&dir, &words(&format!("{suspend} {reason}")));
    let out = ok(&dir, &words("directory participant show XA12345678"));
    has(
        &out,
        &["暫停", "participant.imported", "participant.suspended"],
    );

    // The snapshot is a CMS SignedData that openssl verifies against the test root.
    ok(&dir, &words("directory snapshot --out snapshot.der"));
    let json = open_snapshot(&dir, "snapshot.der");
    assert_eq!(json["format"], "gongwen-directory-snapshot/1");
    assert_eq!(json["participants"].as_array().unwrap().len(), 3);
    assert_eq!(json["participants"][2]["state"], "suspended");

    audit_intact(&dir, &url);
}

/// `directory audit verify` of the database at `url` passes.
fn audit_intact(dir: &Path, url: &str) {
    let line = format!("directory audit verify --database-url {url}");
    ok(dir, &words(&line));
}

/// The case number `application submit` printed (`申請案 <id>：…`).
fn case_id(submitted: &str) -> String {
    submitted
        .strip_prefix("申請案 ")
        .and_then(|r| r.split('：').next())
        .unwrap()
        .to_string()
}

/// Reviews case `id` as `account`: `decision` and its further arguments.
fn review(dir: &Path, id: &str, account: &str, decision: &[&str]) -> (i32, String) {
    let mut args = vec!["directory", "application", "review", id, "--as", account];
    args.extend_from_slice(decision);
    run(dir, &args)
}

#[test]
fn an_application_signed_submitted_and_reviewed_from_the_command_line() {
    use gongwen_integration::C;
    let (dir, url) = review_setup("directory_applications");
    let no_scope = "directory account x --display-name x --role first_reviewer";
    expect(run(&dir, &words(no_scope)), 1, &["審核機關"]);

    assert_eq!(sign(&dir, "app.p7").0, 0);
    // Never overwrites.
    expect(sign(&dir, "app.p7"), 1, &[]);
    let out = ok(&dir, &words("directory application submit app.p7"));
    let id = case_id(&out);
    has(&out, &["待初審"]);
    let out = ok(&dir, &words("directory application list --as minzheng"));
    has(&out, &[&id, "共 1 件"]);
    let approve = |account: &str| review(&dir, &id, account, &["approve"]);
    expect(approve("tnc-admin"), 1, &["E_DIR_FORBIDDEN"]);
    expect(approve("minzheng"), 0, &[]);
    expect(approve("tnc-admin"), 0, &["已開通"]);
    let out = ok(&dir, &["directory", "application", "show", &id]);
    has(
        &out,
        &["second_reviewer:tnc-admin", "application.activated"],
    );
    let out = ok(&dir, &["directory", "address-book", "--query", C]);
    has(&out, &["臺南市體育會", "正常"]);

    // The improvement path from the command line.
    let out = ok(
        &dir,
        &words(&format!(
            "directory improvement issue {C} advertising --deadline 2099-12-31"
        )),
    );
    let nid = out
        .split_whitespace()
        .nth(1)
        .unwrap()
        .split('（')
        .next()
        .unwrap()
        .to_string();
    ok(
        &dir,
        &["directory", "improvement", "answer", &nid, "已改善"],
    );
    let follow_up = format!("directory improvement follow-up {nid} --improved --note 確認已無廣告");
    has(&ok(&dir, &words(&follow_up)), &["已改善"]);
    let out = ok(&dir, &["directory", "improvement", "show", C]);
    has(&out, &["第 1 次追蹤", "確認已無廣告"]);
    audit_intact(&dir, &url);
}

/// The national open-data address book's shape: `ORGID,ORGNAME,STATUSCODE,UPDATETIME`, a BOM,
/// `T`/`D`/`F`, `YYYY-MM-DD HH:MM:SS`; `rows` rows after 總統府, lines ended with `eol`.
/// Returns the file and its rows (the four columns, as written).
fn published_book(rows: usize, eol: &str) -> (String, Vec<[String; 4]>) {
    const CITIES: [&str; 4] = ["臺北市", "台中市", "臺南市", "高雄市"];
    const KINDS: [&str; 4] = ["政府", "中正區公所", "國民小學", "戶政事務所"];
    let mut entries = vec![[
        "200000000A".to_string(),
        "總統府".to_string(),
        "T".to_string(),
        "2025-12-08 11:23:23".to_string(),
    ]];
    for i in 0..rows {
        let status = match i % 25 {
            3 => "D",
            7 => "F",
            _ => "T",
        };
        entries.push([
            format!("3{i:08}{}", char::from(b'A' + (i % 26) as u8)),
            format!("{}{}第{i}", CITIES[i % 4], KINDS[(i / 4) % 4]),
            status.to_string(),
            format!(
                "20{:02}-{:02}-{:02} {:02}:{:02}:{:02}",
                15 + i % 11,
                1 + i % 12,
                1 + i % 28,
                i % 24,
                (i / 24) % 60,
                i % 60
            ),
        ]);
    }
    let mut text = format!("\u{feff}ORGID,ORGNAME,STATUSCODE,UPDATETIME{eol}");
    for e in &entries {
        text.push_str(&e.join(","));
        text.push_str(eol);
    }
    (text, entries)
}

#[test]
fn the_published_address_book_imports_and_exports_as_it_is() {
    const ROWS: usize = 40_000;
    for (name, eol) in [("published_crlf", "\r\n"), ("published_lf", "\n")] {
        let (dir, _) = directory_with_center(name);
        let (good, entries) = published_book(ROWS, eol);
        // The letters and times as published, and a realistic mix of them.
        assert!(good.contains(&format!("200000000A,總統府,T,2025-12-08 11:23:23{eol}")));
        let count = |letter: &str| entries.iter().filter(|e| e[2] == letter).count();
        assert_eq!(
            (count("T"), count("D"), count("F")),
            (ROWS / 25 * 23 + 1, ROWS / 25, ROWS / 25)
        );

        // One bad row at the very end: nothing goes in, and the error names that line.
        let bad = format!("{good}XA99999999,最後一列,X,2025-12-08 11:23:23{eol}");
        let started = std::time::Instant::now();
        let last = format!("第 {} 行", ROWS + 3); // the header, 總統府, ROWS rows, the bad one
        let refusal = ["E_DIR_IMPORT", &last, "STATUSCODE「X」"];
        expect(import(&dir, "bad.csv", &bad), 1, &refusal);
        has(&ok(&dir, &["directory", "address-book"]), &["共 0 筆"]);
        // So does a time in another form.
        let bad = good.replacen("2025-12-08 11:23:23", "2025/12/08 11:23:23", 1);
        let refusal = ["E_DIR_IMPORT", "第 2 行", "UPDATETIME"];
        expect(import(&dir, "bad.csv", &bad), 1, &refusal);

        let imported = format!("已匯入 {} 筆", ROWS + 1);
        expect(import(&dir, "book.csv", &good), 0, &[&imported]);
        eprintln!(
            "{name}: both refusals and the import took {:?}",
            started.elapsed()
        );

        // Found by code or by name, 臺 and 台 alike, each with its state.
        let query = |q: &str| ok(&dir, &["directory", "address-book", "--query", q]);
        has(&query("200000000A"), &["200000000A\t總統府\t正常\ttpc"]);
        has(&query("台南市政府第2"), &["臺南市政府第2\t正常"]);
        for (i, label) in [(3, "中止"), (7, "註銷"), (2, "正常")] {
            let e = &entries[i + 1];
            has(&query(&e[1]), &[&format!("{}\t{}\t{label}", e[0], e[1])]);
        }
        let (code, out) = run(
            &dir,
            &words("directory address-book --resolve 台北市國民小學第8"),
        );
        assert_eq!((code, out.trim()), (0, "300000008I\t臺北市國民小學第8"));

        // The export gives every row back as published: same letters, same times.
        let out = ok(&dir, &words("directory address-book --format csv"));
        let mut lines = out.split("\r\n");
        assert_eq!(
            lines.next(),
            Some("\u{feff}ORGID,ORGNAME,STATUSCODE,UPDATETIME,KIND,CENTER,RECEIVE,SEND,STATE")
        );
        let exported: std::collections::BTreeMap<String, Vec<String>> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let f: Vec<String> = l.split(',').map(String::from).collect();
                (f[0].clone(), f)
            })
            .collect();
        assert_eq!(exported.len(), entries.len());
        for e in &entries {
            let x = &exported[&e[0]];
            assert_eq!(&x[..4], &e[..], "{x:?}");
            assert_eq!(x[8], state_of(&e[2]), "{x:?}");
        }

        // The signed snapshot carries every imported entry with its state.
        ok(&dir, &words("directory snapshot --out snapshot.der"));
        let json = open_snapshot(&dir, "snapshot.der");
        let participants = json["participants"].as_array().unwrap();
        assert_eq!(participants.len(), entries.len());
        let states: std::collections::HashMap<&str, &str> = participants
            .iter()
            .map(|p| (p["code"].as_str().unwrap(), p["state"].as_str().unwrap()))
            .collect();
        for e in &entries {
            assert_eq!(states[e[0].as_str()], state_of(&e[2]), "{e:?}");
        }
        eprintln!("{name}: everything took {:?}", started.elapsed());
    }
}

#[test]
fn a_suspended_participant_exports_as_d_and_stays_suspended_when_moved() {
    let (dir, _) = directory_with_center("suspended_export");
    let book = "ORGID,ORGNAME,STATUSCODE,UPDATETIME\n379000000A,臺北市政府,T,2025-12-08 11:23:23\n";
    expect(import(&dir, "book.csv", book), 0, &[]);
    let suspend = "directory participant state 379000000A suspend --reason 散播電腦病毒";
    ok(&dir, &words(suspend));
    let export = ok(&dir, &words("directory address-book --format csv"));
    has(&export, &["379000000A,臺北市政府,D,", ",suspended\r\n"]);

    // Into another directory: still 暫停, not 中止.
    let (other, _) = directory_with_center("suspended_import");
    expect(import(&other, "book.csv", &export), 0, &[]);
    let out = ok(&other, &words("directory address-book --query 379000000A"));
    has(&out, &["379000000A\t臺北市政府\t暫停"]);
    // A STATE that contradicts STATUSCODE is refused.
    let bad = "ORGID,ORGNAME,STATUSCODE,STATE\n379130000C,臺北市政府資訊局,T,suspended\n";
    let refusal = ["E_DIR_IMPORT", "第 2 行", "STATE"];
    expect(import(&other, "bad.csv", bad), 1, &refusal);
}

#[test]
fn an_application_rejected_from_the_command_line_tells_the_applicant_why() {
    use gongwen_integration::C;
    let (dir, url) = review_setup("directory_reject");
    let submit = |p7: &str| {
        expect(sign(&dir, p7), 0, &[]);
        case_id(&ok(&dir, &["directory", "application", "submit", p7]))
    };
    let id = submit("app.p7");
    // The first review agrees; the second does not.
    assert_eq!(review(&dir, &id, "minzheng", &["approve"]).0, 0);
    let notices_before = ok(&dir, &["directory", "notices", C]);
    // 不同意 needs a reason: refused, and nothing changes.
    let second = |decision: &[&str]| review(&dir, &id, "tnc-admin", decision);
    expect(second(&["reject"]), 1, &["理由"]);
    expect(second(&["reject", "--message", " "]), 1, &[]);
    let show = ["directory", "application", "show", &id];
    assert!(ok(&dir, &show).contains("待複審"));
    assert_eq!(ok(&dir, &["directory", "notices", C]), notices_before);

    let reason = "固定 IP 非貴會所有，請洽網路服務業者確認後重新申請";
    let rejected = second(&["reject", "--message", reason]);
    expect(rejected, 0, &[&id, "不同意"]);
    let opinion = format!("審核意見：{reason}");
    let out = ok(&dir, &show);
    has(&out, &["不同意", &opinion, "application.rejected"]);
    has(&out, &["second_reviewer:tnc-admin"]);
    let rejected = "directory application list --as tnc-admin --state rejected";
    has(&ok(&dir, &words(rejected)), &[&id]);
    // The applicant's notice, newest first, says 不同意 and why.
    let out = ok(&dir, &["directory", "notices", C]);
    let first = out.lines().next().unwrap_or_default();
    has(first, &["連線申請不同意", &id, reason]);
    // Nothing was registered; the decision is final.
    let out = ok(&dir, &["directory", "address-book", "--query", C]);
    assert!(!out.contains("臺南市體育會"), "{out}");
    expect(second(&["approve"]), 1, &["E_DIR_STATE", "不同意"]);
    // The applicant may apply again, a new case.
    let again = submit("again.p7");
    assert_ne!(again, id);
    let out = ok(&dir, &["directory", "application", "show", &again]);
    has(&out, &["待初審", &format!("過去申請：{id}（不同意")]);
    audit_intact(&dir, &url);
}

/// Signs C's `form.json` with its card (`card.pem` and the signing key) into `out`.
fn sign(dir: &Path, out: &str) -> (i32, String) {
    let c = gongwen_integration::pki().agency(gongwen_integration::C);
    let key = c.sign_key_file.to_str().unwrap();
    let mut args = words("directory application sign form.json --cert card.pem --key");
    args.extend([key, "-o", out]);
    run(dir, &args)
}

/// A scratch folder `name` with a directory on a fresh database, the 臺南市 center and its two
/// reviewers (民政局 first, the center's operator second), and C's signed-application inputs:
/// `form.json` and `card.pem` (the card's certificate with its issuer, as card software
/// exports it). Returns the folder and the database URL.
fn review_setup(name: &str) -> (std::path::PathBuf, String) {
    use gongwen_integration::{A, C};
    let pki = gongwen_integration::pki();
    let dir = gongwen_integration::scratch(name);
    let url = runtime().block_on(fresh_database(name));
    let anchors = format!(
        "trust_anchors = [\"{}\"]\ncrls = [\"{}\"]\n",
        pki.ca.root_file().display(),
        pki.ca.dir().join("crl").display(),
    );
    directory_config(&dir, &url, &pki.directory_signer.0, &anchors);
    for line in [
        "directory center tnc --name 臺南市公文交換中心 --kind self_managed --url https://tnc.example --operator 臺南市政府",
        &format!(
            "directory account minzheng --display-name 民政局 --role first_reviewer --scope {A}"
        ),
        "directory account tnc-admin --display-name 智慧發展中心 --role second_reviewer --scope tnc",
    ] {
        ok(&dir, &words(line));
    }
    let c = pki.agency(C);
    let form = serde_json::json!({
        "kind": "new", "code": C, "name": "臺南市體育會", "participant_kind": "organisation",
        "authority": A, "center": "tnc",
        "certificates": [
            std::fs::read_to_string(&c.sign_file).unwrap(),
            std::fs::read_to_string(&c.enc_file).unwrap(),
            std::fs::read_to_string(&c.tls_leaf).unwrap(),
        ],
        "ips": ["192.0.2.10"],
        "contact_name": "陳大文", "contact_phone": "06-1234567", "contact_email": "sports@example.org.tw",
        "agreement": { "rules": "公文電子交換系統使用規範 115.01 版", "agreed_at": gongwen_center::Clock::default().now_ms() }
    });
    std::fs::write(
        dir.join("form.json"),
        serde_json::to_vec_pretty(&form).unwrap(),
    )
    .unwrap();
    let mut chain = std::fs::read(&c.sign_file).unwrap();
    chain.extend(std::fs::read(pki.ca.ca_file(gongwen_trust::pki::Branch::Gca)).unwrap());
    std::fs::write(dir.join("card.pem"), chain).unwrap();
    (dir, url)
}
