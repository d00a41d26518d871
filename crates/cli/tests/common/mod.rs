//! What the command-line tests share: running the real binary, and two agencies set up with
//! the test CA and the example letter.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub mod directory;

pub const BIN: &str = env!("CARGO_BIN_EXE_gongwen");

/// Runs `cmd` in `dir` with the fixed test date and the given environment.
pub fn run(dir: &Path, env: &[(&str, &Path)], cmd: &str, args: &[&str]) -> Output {
    let mut c = Command::new(cmd);
    c.current_dir(dir)
        .args(args)
        .env("GONGWEN_TODAY", "中華民國115年1月5日");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output()
        .unwrap_or_else(|e| panic!("{cmd}：{e}（scripts/test 會安裝所需套件）"))
}

/// An empty directory for one test (`name` tells the tests apart).
#[allow(unused_imports)] // not every test uses it
pub use gongwen_integration::scratch;

/// The words of a command line as arguments: these tests write commands as an operator types
/// them, and none of those arguments contains white space.
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// A local port that was free a moment ago, for a server a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", text(&o));
    text(&o)
}

/// Asserts that `out` contains each of `parts`.
pub fn has(out: &str, parts: &[&str]) {
    for p in parts {
        assert!(out.contains(p), "{p:?} missing in:\n{out}");
    }
}

/// Expects exit code `want` and each of `parts` in what was printed; all it printed.
pub fn expect((code, out): (i32, String), want: i32, parts: &[&str]) -> String {
    assert_eq!(code, want, "{out}");
    has(&out, parts);
    out
}

/// [`expect`] of a finished command.
pub fn exits(o: Output, want: i32, parts: &[&str]) -> String {
    expect((o.status.code().unwrap_or(-1), text(&o)), want, parts)
}

/// The signing certificate's key digest, as `pki issue` prints it first.
pub fn signing_key_sha(issue_output: &str) -> String {
    issue_output
        .lines()
        .find(|l| l.contains("公鑰 SHA-256"))
        .and_then(|l| l.split('：').nth(1))
        .expect("pki issue prints the key digest")
        .trim()
        .to_string()
}

/// In `dir`: a test CA `ca/` with 臺北市政府 (379000000A, P-256 keys) and 臺北市政府資訊局
/// (379130000C, RSA keys), and the example letter written to `doc/`. Returns the two signing
/// keys' digests (for `--bind`).
pub fn two_agencies(dir: &Path, env: &[(&str, &Path)]) -> (String, String) {
    let g = |line: &str| ok(run(dir, env, BIN, &words(line)));
    let letter = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/letter.toml");
    g("pki init ca --key p256");
    let sender = signing_key_sha(&g(
        "pki issue ca --kind agency --name 臺北市政府 --code 379000000A --key p256",
    ));
    let dit = signing_key_sha(&g(
        "pki issue ca --kind agency --name 臺北市政府資訊局 --code 379130000C",
    ));
    let letter = letter.to_str().expect("UTF-8 path");
    ok(run(dir, env, BIN, &["doc", "new", letter, "--out", "doc"]));
    (sender, dit)
}
