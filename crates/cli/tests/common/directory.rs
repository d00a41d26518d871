//! What the directory's command-line tests share: `gongwen` run in a folder whose
//! `gongwen.toml` points at a fresh database, and center `tpc` registered there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gongwen_integration::{fresh_database, pki, runtime, scratch};

/// Runs `gongwen` in `dir`, without the fixed test date.
pub fn gongwen(dir: &Path, args: &[&str]) -> Output {
    Command::new(super::BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run gongwen")
}

/// Its exit code and all it printed.
pub fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = gongwen(dir, args);
    (out.status.code().unwrap_or(-1), super::text(&out))
}

/// Expects success; all it printed.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out) = run(dir, args);
    assert_eq!(code, 0, "{args:?}: {out}");
    out
}

/// Writes `gongwen.toml` for a directory on the database at `url`, signing with
/// `signing_cert` and the test signer's key; `extra` lines go into `[directory]`.
pub fn directory_config(dir: &Path, url: &str, signing_cert: &Path, extra: &str) {
    let pki = pki();
    std::fs::write(
        dir.join("gongwen.toml"),
        format!(
            "[directory]\ndatabase_url = \"{url}\"\n{extra}\n[directory.tls]\ncert = \"{}\"\nkey = \"{}\"\nclient_roots = [\"{}\"]\n\n\
             [directory.signing]\ncert = \"{}\"\nkey = \"{}\"\n",
            pki.server_cert.display(),
            pki.server_key.display(),
            pki.ca.root_file().display(),
            signing_cert.display(),
            pki.directory_signer.1.display(),
        ),
    )
    .expect("write gongwen.toml");
}

/// A scratch folder with a `gongwen.toml` for a directory on a fresh database, and center
/// `tpc` registered. Returns the folder and the database URL.
pub fn directory_with_center(name: &str) -> (PathBuf, String) {
    let dir = scratch(name);
    let url = runtime().block_on(fresh_database(name));
    directory_config(&dir, &url, &pki().directory_signer.0, "");
    ok(
        &dir,
        &super::words(
            "directory center tpc --name 臺北市公文交換中心 --kind 共用 \
             --url https://tpc.example:8443 --operator 臺北市政府",
        ),
    );
    (dir, url)
}
