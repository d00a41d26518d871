//! Every error the command line prints says each thing once: `錯誤 [E_…]：message`, the code
//! in the brackets only, the message on one line, not repeated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use std::path::Path;

use common::directory::{directory_config, directory_with_center, gongwen};
use common::has;
use gongwen_integration::{fresh_database, runtime, scratch};

/// Runs `gongwen` in `dir`; its exit code and standard error.
fn fails(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = gongwen(dir, args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One error line with `code` in its brackets, the code nowhere else, and no line twice.
fn said_once(stderr: &str, code: &str, says: &str) {
    assert_eq!(stderr.matches(code).count(), 1, "{code} not once: {stderr}");
    let line = format!("錯誤 [{code}]：");
    assert_eq!(stderr.matches(&line).count(), 1, "{stderr}");
    assert_eq!(
        stderr.matches(says).count(),
        1,
        "{says:?} not once: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    for (i, l) in lines.iter().enumerate() {
        assert!(!lines[..i].contains(l), "line said twice: {stderr}");
    }
}

#[test]
fn a_directory_that_cannot_start_says_its_code_once() {
    let dir = scratch("errors_directory_start");
    let url = runtime().block_on(fresh_database("errors_directory_start"));
    directory_config(&dir, &url, &dir.join("no-such-signer.pem"), "");
    for args in [
        &["directory", "address-book"][..],
        &["directory", "address-book", "--query", "臺北市"],
        &["directory", "snapshot"],
    ] {
        let (code, err) = fails(&dir, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        said_once(&err, "E_CONFIG", "通訊錄服務無法啟動");
        assert!(err.contains("no-such-signer.pem"), "{err}");
    }
}

#[test]
fn a_refused_import_and_lookup_say_their_code_once() {
    let (dir, _) = directory_with_center("errors_directory_refusal");

    std::fs::write(
        dir.join("bad.csv"),
        "ORGID,ORGNAME,STATUSCODE,UPDATETIME\n379000000A,臺北市政府,Q,2025-12-08 11:23:23\n",
    )
    .unwrap();
    let (code, err) = fails(&dir, &["directory", "import", "bad.csv", "--center", "tpc"]);
    assert_eq!(code, 1, "{err}");
    said_once(&err, "E_DIR_IMPORT", "第 2 行");
    has(&err, &["匯入檔有誤", "STATUSCODE「Q」"]);

    let resolve = ["directory", "address-book", "--resolve", "沒有這個機關"];
    let (code, err) = fails(&dir, &resolve);
    assert_eq!(code, 1, "{err}");
    said_once(&err, "E_NOT_FOUND", "沒有這個機關");
}

#[test]
fn a_database_failure_in_an_admin_command_is_printed_once() {
    let (dir, url) = directory_with_center("errors_directory_database");
    let (code, err) = fails(&dir, &["directory", "address-book"]);
    assert_eq!(code, 0, "{err}");
    // The table the address book reads is gone: a database error inside the directory.
    runtime().block_on(async {
        let db = gongwen_store::Db::connect(&url).await.unwrap();
        db.execute(
            "ALTER TABLE dir_participants RENAME TO dir_participants_gone",
            &[],
        )
        .await
        .unwrap();
        db.close().await;
    });
    for args in [
        &["directory", "address-book"][..],
        &["directory", "address-book", "--query", "臺北市"],
    ] {
        let (code, err) = fails(&dir, args);
        assert_ne!(code, 0, "{args:?}: {err}");
        // Once, on the command's own line, with what the database said — not also as a log
        // line, and not hidden behind an incident number the operator would have to look up.
        said_once(&err, "E_UNAVAILABLE", "dir_participants");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!err.contains("事件編號"), "{err}");
    }
}

/// A value outside a setting's allowed values stops the start: the field, the value and what
/// is allowed, never a silent default.
#[test]
fn a_typo_in_an_enum_setting_is_refused_with_the_allowed_values() {
    let dir = scratch("error-messages-enum");
    for (line, says) in [
        (
            "stale_crl = \"warnn\"",
            "stale_crl「warnn」不認得，應為 refuse（拒收，預設）或 warn（警告後接受）",
        ),
        (
            "blob_store = \"disk\"",
            "blob_store「disk」不認得，應為 fs（本機檔案，預設）或 db（資料庫）",
        ),
    ] {
        std::fs::write(
            dir.join("gongwen.toml"),
            format!("[center]\ntrust_anchors = []\n{line}\n\n[center.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n"),
        )
        .unwrap();
        let (code, err) = fails(&dir, &["center", "serve"]);
        assert_eq!(code, 1, "{err}");
        said_once(&err, "E_CONFIG", says);
        assert!(err.contains("設定檔 gongwen.toml 有誤"), "{err}");
    }
}
