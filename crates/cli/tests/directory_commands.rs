//! `gongwen directory audit verify` on the test database's engine: an intact log passes, a
//! changed entry or a cut-off head (with the anchor) fails with exit code 1 and names it.

use std::process::Command;

use gongwen_directory::audit::{self, NewEntry};
use gongwen_integration::{fresh_database, runtime};
use gongwen_store::Db;

const BIN: &str = env!("CARGO_BIN_EXE_gongwen");

fn verify(url: &str, anchor: Option<&str>) -> (i32, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["directory", "audit", "verify", "--database-url", url]);
    if let Some(a) = anchor {
        cmd.args(["--anchor", a]);
    }
    let out = cmd.output().expect("run gongwen");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
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
