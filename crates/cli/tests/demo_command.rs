//! `gongwen demo` as an operator runs it: `--self-test` builds a network, exchanges across
//! both centers and cleans up; the long-running demo comes up with documents in its inboxes,
//! stops on Ctrl-C, and started again keeps its data and sends nothing twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gongwen_integration::scratch;

const BIN: &str = env!("CARGO_BIN_EXE_gongwen");

#[test]
fn self_test_runs_a_full_exchange_and_cleans_up() {
    let o = Command::new(BIN)
        .args(["demo", "--self-test"])
        .output()
        .expect("gongwen demo");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(out.matches('✓').count(), 11, "{out}");
    assert!(out.contains("國小的代理程式收到教育局的復函"), "{out}");
    assert!(!out.contains('✗'), "{out}");
    assert!(out.contains("自我測試通過"), "{out}");
    // The temporary folder it named is gone.
    let tmp = out
        .split_once('在')
        .and_then(|(_, rest)| rest.split_once(' ').map(|(_, r)| r))
        .and_then(|r| r.split_whitespace().next())
        .expect("the folder is named");
    assert!(tmp.contains("gongwen-demo-self-test-"), "{tmp}");
    assert!(!Path::new(tmp).exists(), "{tmp} left behind");
}

/// Starts the demo and reads its output until the guide is printed.
fn start(dir: &Path, port: u16) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["demo", "--dir"])
        .arg(dir)
        .args(["--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("gongwen demo");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        match lines.next() {
            Some(Ok(l)) => {
                seen.push_str(&l);
                seen.push('\n');
                if l.starts_with("各服務的日誌") {
                    // Keep draining so the demo never blocks on a full pipe.
                    std::thread::spawn(move || for _ in lines.by_ref() {});
                    return (child, seen);
                }
            }
            _ => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the demo did not come up:\n{seen}");
}

fn stop(mut child: Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            assert!(s.success(), "the demo stopped with {s}");
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the demo did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn get(url: &str, token: &str) -> serde_json::Value {
    let o = Command::new("curl")
        .args(["-s", "-H", &format!("Authorization: Bearer {token}"), url])
        .output()
        .expect("curl");
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&o.stdout)))
}

/// Expects exactly one item in the list at `url` (`what` says which).
fn one_item(url: &str, token: &str, what: &str) {
    let v = get(url, token);
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{what}: {v}");
}

#[test]
fn the_demo_network_keeps_its_data_across_a_restart() {
    let dir = scratch("demo-network");
    // Twelve ports from a base no other test uses, below the kernel's ephemeral range (from
    // 32768), where any outgoing connection of a test running beside it may take one.
    let base = 20000 + (std::process::id() % 600) as u16 * 20;
    let (child, out) = start(&dir, base);
    assert!(
        out.contains("臺南市社區營造協會") && out.contains("臺北市政府教育局"),
        "{out}"
    );
    assert!(out.contains("北市教字第1150000001號"), "{out}");
    // The bureau's document-management system, with the command of each person's signer.
    assert!(
        out.contains("公文管理系統（臺北市政府教育局，線上簽核）") && out.contains("副局長 劉文華"),
        "{out}"
    );
    let login = Command::new("curl")
        .args(["-s", &format!("http://127.0.0.1:{}/login", base + 13)])
        .output()
        .expect("curl");
    assert!(String::from_utf8_lossy(&login.stdout).contains("以憑證登入"));
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("demo.json")).unwrap()).unwrap();
    let tokens: Vec<(String, String)> = serde_json::from_value(state["tokens"].clone()).unwrap();
    let token = |code: &str| tokens.iter().find(|t| t.0 == code).unwrap().1.clone();
    let tn = format!("http://127.0.0.1:{}", base + 11);
    let (inbox, association) = (format!("{tn}/api/v1/inbox"), token("XA20250001"));
    // The association has a letter to sign for; the school signed for one.
    one_item(&inbox, &association, "to sign for");
    let confirmed = format!("{inbox}?state=confirmed");
    one_item(&confirmed, &token("395450100A"), "confirmed");
    stop(child);

    let (child, out) = start(&dir, base);
    assert!(out.contains("沿用"), "{out}");
    assert!(!out.contains("交換範例公文"), "nothing sent again: {out}");
    let all = format!("{inbox}?state=all");
    one_item(&all, &association, "all");
    let sent = format!("http://127.0.0.1:{}/api/v1/sent", base + 10);
    one_item(&sent, &token("379130000C"), "sent");
    stop(child);
}
