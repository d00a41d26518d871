//! `gongwen directory audit verify` on the test database's engine: an intact log passes, a
//! changed entry or a cut-off head (with the anchor) fails with exit code 1 and names it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use std::path::Path;
use std::process::Command;

use common::directory::{directory_config, directory_with_center, ok, refused, run};
use common::words;
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
    let (code, out) = verify(&url, None);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("共 5 筆") && out.contains("雜湊鏈完整"),
        "{out}"
    );
    let anchor = out
        .lines()
        .find_map(|l| l.strip_prefix("下次檢查可用錨點：--anchor "))
        .expect("an anchor line")
        .to_string();
    assert_eq!(verify(&url, Some(&anchor)).0, 0);

    // A bad anchor is an argument error, not a finding.
    let (code, out) = verify(&url, Some("5:xyz"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("E_ARG"), "{out}");

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
    let (code, out) = verify(&url, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("第 3 筆") && out.contains("遭修改"), "{out}");
    let (code, out) = verify(&url, Some(&anchor));
    assert_eq!(code, 1, "{out}");
    // The first problem is reported: entry 3, before the missing head.
    assert!(out.contains("發現問題（第 3 筆）"), "{out}");
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
    let (code, out) = import(
        &dir,
        "bad.csv",
        "ORGID,ORGNAME\n379000000A,臺北市政府\n379000000A,重複\n",
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("E_DIR_DUPLICATE") && out.contains("第 3 行"),
        "{out}"
    );
    let (code, out) = import(
        &dir,
        "book.csv",
        "\u{feff}ORGID,ORGNAME,STATUSCODE,UPDATETIME\r\n379000000A,臺北市政府,0,\r\n379130000C,臺北市政府資訊局,0,\r\nXA12345678,台北市中正區中正國民小學家長會,0,\r\n",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("已匯入 3 筆"), "{out}");

    let out = ok(&dir, &words("directory address-book --query 臺北市中正區"));
    assert!(
        out.contains("XA12345678") && out.contains("共 1 筆"),
        "{out}"
    );
    let out = ok(&dir, &words("directory address-book --format csv"));
    // The legacy digits are read; the export writes the published letters.
    assert!(
        out.contains("ORGID,ORGNAME,STATUSCODE,UPDATETIME")
            && out.contains("379130000C,臺北市政府資訊局,T,"),
        "{out}"
    );
    let (code, out) = run(
        &dir,
        &words("directory address-book --resolve 台北市政府資訊局"),
    );
    assert_eq!((code, out.trim()), (0, "379130000C\t臺北市政府資訊局"));

    // A suspension needs a reason; the participant's history shows both changes.
    let out = refused(
        &dir,
        &words("directory participant state XA12345678 suspend"),
    );
    assert!(out.contains("須註明原因"), "{out}");
    ok(
        &dir,
        &words("directory participant state XA12345678 suspend --reason 未經受文者同意發送廣告"),
    );
    let out = ok(&dir, &words("directory participant show XA12345678"));
    assert!(
        out.contains("暫停")
            && out.contains("participant.imported")
            && out.contains("participant.suspended"),
        "{out}"
    );

    // The snapshot is a CMS SignedData that openssl verifies against the test root.
    ok(&dir, &words("directory snapshot --out snapshot.der"));
    let json = open_snapshot(&dir, "snapshot.der");
    assert_eq!(json["format"], "gongwen-directory-snapshot/1");
    assert_eq!(json["participants"].as_array().unwrap().len(), 3);
    assert_eq!(json["participants"][2]["state"], "suspended");

    ok(
        &dir,
        &["directory", "audit", "verify", "--database-url", &url],
    );
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
    let out = refused(
        &dir,
        &words("directory account x --display-name x --role first_reviewer"),
    );
    assert!(out.contains("審核機關"), "{out}");

    assert_eq!(sign(&dir, "app.p7").0, 0);
    // Never overwrites.
    let (code, out) = sign(&dir, "app.p7");
    assert_eq!(code, 1, "{out}");
    let out = ok(&dir, &words("directory application submit app.p7"));
    let id = case_id(&out);
    assert!(out.contains("待初審"), "{out}");
    let out = ok(&dir, &words("directory application list --as minzheng"));
    assert!(out.contains(&id) && out.contains("共 1 件"), "{out}");
    let (code, out) = review(&dir, &id, "tnc-admin", &["approve"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("E_DIR_FORBIDDEN"), "{out}");
    assert_eq!(review(&dir, &id, "minzheng", &["approve"]).0, 0);
    let (code, out) = review(&dir, &id, "tnc-admin", &["approve"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("已開通"), "{out}");
    let out = ok(&dir, &["directory", "application", "show", &id]);
    assert!(
        out.contains("second_reviewer:tnc-admin") && out.contains("application.activated"),
        "{out}"
    );
    let out = ok(&dir, &["directory", "address-book", "--query", C]);
    assert!(
        out.contains("臺南市體育會") && out.contains("正常"),
        "{out}"
    );

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
    let out = ok(
        &dir,
        &words(&format!(
            "directory improvement follow-up {nid} --improved --note 確認已無廣告"
        )),
    );
    assert!(out.contains("已改善"), "{out}");
    let out = ok(&dir, &["directory", "improvement", "show", C]);
    assert!(
        out.contains("第 1 次追蹤") && out.contains("確認已無廣告"),
        "{out}"
    );
    ok(
        &dir,
        &["directory", "audit", "verify", "--database-url", &url],
    );
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
        let (code, out) = import(&dir, "bad.csv", &bad);
        assert_eq!(code, 1, "{out}");
        let last = ROWS + 3; // the header, 總統府, ROWS rows, then the bad one
        assert!(
            out.contains("E_DIR_IMPORT")
                && out.contains(&format!("第 {last} 行"))
                && out.contains("STATUSCODE「X」"),
            "{out}"
        );
        let out = ok(&dir, &["directory", "address-book"]);
        assert!(out.contains("共 0 筆"), "{out}");
        // So does a time in another form.
        let bad = good.replacen("2025-12-08 11:23:23", "2025/12/08 11:23:23", 1);
        let (code, out) = import(&dir, "bad.csv", &bad);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("E_DIR_IMPORT") && out.contains("第 2 行") && out.contains("UPDATETIME"),
            "{out}"
        );

        let (code, out) = import(&dir, "book.csv", &good);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains(&format!("已匯入 {} 筆", ROWS + 1)), "{out}");
        eprintln!(
            "{name}: both refusals and the import took {:?}",
            started.elapsed()
        );

        // Found by code or by name, 臺 and 台 alike, each with its state.
        let query = |q: &str| ok(&dir, &["directory", "address-book", "--query", q]);
        let out = query("200000000A");
        assert!(out.contains("200000000A\t總統府\t正常\ttpc"), "{out}");
        let out = query("台南市政府第2");
        assert!(out.contains("臺南市政府第2\t正常"), "{out}");
        for (i, label) in [(3, "中止"), (7, "註銷"), (2, "正常")] {
            let e = &entries[i + 1];
            let out = query(&e[1]);
            assert!(
                out.contains(&format!("{}\t{}\t{label}", e[0], e[1])),
                "{out}"
            );
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
    let (code, out) = import(
        &dir,
        "book.csv",
        "ORGID,ORGNAME,STATUSCODE,UPDATETIME\n379000000A,臺北市政府,T,2025-12-08 11:23:23\n",
    );
    assert_eq!(code, 0, "{out}");
    ok(
        &dir,
        &words("directory participant state 379000000A suspend --reason 散播電腦病毒"),
    );
    let export = ok(&dir, &words("directory address-book --format csv"));
    assert!(
        export.contains("379000000A,臺北市政府,D,") && export.contains(",suspended\r\n"),
        "{export}"
    );

    // Into another directory: still 暫停, not 中止.
    let (other, _) = directory_with_center("suspended_import");
    let (code, out) = import(&other, "book.csv", &export);
    assert_eq!(code, 0, "{out}");
    let out = ok(&other, &words("directory address-book --query 379000000A"));
    assert!(out.contains("379000000A\t臺北市政府\t暫停"), "{out}");
    // A STATE that contradicts STATUSCODE is refused.
    let (code, out) = import(
        &other,
        "bad.csv",
        "ORGID,ORGNAME,STATUSCODE,STATE\n379130000C,臺北市政府資訊局,T,suspended\n",
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("E_DIR_IMPORT") && out.contains("第 2 行") && out.contains("STATE"),
        "{out}"
    );
}

#[test]
fn an_application_rejected_from_the_command_line_tells_the_applicant_why() {
    use gongwen_integration::C;
    let (dir, url) = review_setup("directory_reject");
    let submit = |p7: &str| {
        let (code, out) = sign(&dir, p7);
        assert_eq!(code, 0, "{out}");
        case_id(&ok(&dir, &["directory", "application", "submit", p7]))
    };
    let id = submit("app.p7");
    // The first review agrees; the second does not.
    assert_eq!(review(&dir, &id, "minzheng", &["approve"]).0, 0);
    let notices_before = ok(&dir, &["directory", "notices", C]);
    // 不同意 needs a reason: refused, and nothing changes.
    let (code, out) = review(&dir, &id, "tnc-admin", &["reject"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("理由"), "{out}");
    let (code, out) = review(&dir, &id, "tnc-admin", &["reject", "--message", " "]);
    assert_eq!(code, 1, "{out}");
    let show = ["directory", "application", "show", &id];
    assert!(ok(&dir, &show).contains("待複審"));
    assert_eq!(ok(&dir, &["directory", "notices", C]), notices_before);

    let reason = "固定 IP 非貴會所有，請洽網路服務業者確認後重新申請";
    let (code, out) = review(&dir, &id, "tnc-admin", &["reject", "--message", reason]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&id) && out.contains("不同意"), "{out}");
    let out = ok(&dir, &show);
    assert!(
        out.contains("不同意")
            && out.contains(&format!("審核意見：{reason}"))
            && out.contains("second_reviewer:tnc-admin")
            && out.contains("application.rejected"),
        "{out}"
    );
    let out = ok(
        &dir,
        &words("directory application list --as tnc-admin --state rejected"),
    );
    assert!(out.contains(&id), "{out}");
    // The applicant's notice, newest first, says 不同意 and why.
    let out = ok(&dir, &["directory", "notices", C]);
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.contains("連線申請不同意") && first.contains(&id) && first.contains(reason),
        "{out}"
    );
    // Nothing was registered; the decision is final.
    let out = ok(&dir, &["directory", "address-book", "--query", C]);
    assert!(!out.contains("臺南市體育會"), "{out}");
    let (code, out) = review(&dir, &id, "tnc-admin", &["approve"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("E_DIR_STATE") && out.contains("不同意"),
        "{out}"
    );
    // The applicant may apply again, a new case.
    let again = submit("again.p7");
    assert_ne!(again, id);
    let out = ok(&dir, &["directory", "application", "show", &again]);
    assert!(
        out.contains("待初審") && out.contains(&format!("過去申請：{id}（不同意")),
        "{out}"
    );
    ok(
        &dir,
        &["directory", "audit", "verify", "--database-url", &url],
    );
}

/// Signs C's `form.json` with its card (`card.pem` and the signing key) into `out`.
fn sign(dir: &Path, out: &str) -> (i32, String) {
    let c = gongwen_integration::pki().agency(gongwen_integration::C);
    let key = c.sign_key_file.to_str().unwrap();
    run(
        dir,
        &[
            "directory",
            "application",
            "sign",
            "form.json",
            "--cert",
            "card.pem",
            "--key",
            key,
            "-o",
            out,
        ],
    )
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
