//! Keys on a token, as on an IC card in a card reader: SoftHSM2 holds the sender's signing key
//! and the recipient's decryption key; `gongwen seal`, `open` and `receipt` use them through
//! PKCS#11 and the keys never leave the token. scripts/test installs softhsm2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_gongwen");
const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

fn run(dir: &Path, conf: &Path, cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd)
        .current_dir(dir)
        .args(args)
        .env("SOFTHSM2_CONF", conf)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}：{e}（scripts/test 會安裝 softhsm2）"))
}

fn ok(o: Output) -> String {
    let t = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{t}");
    t
}

#[test]
fn seal_open_and_receipt_with_keys_on_softhsm() {
    assert!(
        Path::new(MODULE).exists(),
        "{MODULE} 不存在：請安裝 softhsm2（scripts/test 會安裝）"
    );
    let dir: PathBuf =
        std::env::temp_dir().join(format!("gongwen-cli-token-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\n",
            dir.join("tokens").display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("pin"), "123456\n").unwrap();
    let g = |args: &[&str]| ok(run(&dir, &conf, BIN, args));
    let hsm = |args: &[&str]| ok(run(&dir, &conf, "softhsm2-util", args));

    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    g(&["pki", "init", "ca", "--key", "p256"]);
    let out = g(&[
        "pki",
        "issue",
        "ca",
        "--kind",
        "agency",
        "--name",
        "臺北市政府",
        "--code",
        "379000000A",
        "--key",
        "p256",
    ]);
    let sender_sha = out
        .lines()
        .find(|l| l.contains("公鑰 SHA-256"))
        .and_then(|l| l.split('：').nth(1))
        .unwrap()
        .trim()
        .to_string();
    g(&[
        "pki",
        "issue",
        "ca",
        "--kind",
        "agency",
        "--name",
        "臺北市政府資訊局",
        "--code",
        "379130000C",
    ]);
    g(&[
        "doc",
        "new",
        repo.join("examples/letter.toml").to_str().unwrap(),
        "--out",
        "doc",
    ]);

    // One token per agency, as each has its own card.
    for (label, key, id) in [
        ("taipei", "379000000A-sign", "01"),
        ("dit", "379130000C-enc", "02"),
        ("dit", "379130000C-sign", "03"),
    ] {
        if !dir.join(format!("{label}.init")).exists() {
            hsm(&[
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                "123456",
                "--so-pin",
                "12345678",
            ]);
            std::fs::write(dir.join(format!("{label}.init")), "").unwrap();
        }
        hsm(&[
            "--import",
            &format!("ca/issued/{key}.key"),
            "--token",
            label,
            "--label",
            key,
            "--id",
            id,
            "--pin",
            "123456",
        ]);
    }
    let pin = dir.join("pin");
    let uri = |token: &str, object: &str| {
        format!(
            "pkcs11:token={token};object={object}?module-path={MODULE}&pin-source=file:{}",
            pin.display()
        )
    };

    g(&[
        "seal",
        "--di",
        "doc/1150001234.di",
        "--sign-key",
        &uri("taipei", "379000000A-sign"),
        "--sign-cert",
        "ca/issued/379000000A-sign.crt",
        "--chain",
        "ca/issued/379000000A-chain.pem",
        "--to",
        "ca/issued/379130000C-enc.crt",
        "-o",
        "p.pkg",
    ]);
    let o = g(&[
        "open",
        "p.pkg",
        "--key",
        &uri("dit", "379130000C-enc"),
        "--cert",
        "ca/issued/379130000C-enc.crt",
        "--code",
        "379130000C",
        "--trust",
        "ca/root.crt",
        "--crl",
        "ca/crl",
        "--bind",
        &format!("379000000A={sender_sha}"),
        "-o",
        "recv",
    ]);
    assert!(o.contains("驗證通過"), "{o}");
    assert_eq!(
        std::fs::read(dir.join("recv/1150001234_ATTCH1.pdf")).unwrap(),
        std::fs::read(dir.join("doc/1150001234_ATTCH1.pdf")).unwrap()
    );

    // An RSA signing key on the token signs the receipt; OpenSSL accepts it.
    g(&[
        "receipt",
        "p.pkg",
        "--event",
        "送達",
        "--code",
        "379130000C",
        "--sign-key",
        &uri("dit", "379130000C-sign"),
        "--sign-cert",
        "ca/issued/379130000C-sign.crt",
        "--chain",
        "ca/issued/379130000C-chain.pem",
        "-o",
        "r.p7",
    ]);
    ok(run(
        &dir,
        &conf,
        "openssl",
        &[
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-in",
            "r.p7",
            "-CAfile",
            "ca/root.crt",
            "-out",
            "/dev/null",
        ],
    ));

    // A wrong PIN and a missing key are clear errors.
    std::fs::write(dir.join("badpin"), "000000").unwrap();
    let bad = format!(
        "pkcs11:token=dit;object=379130000C-enc?module-path={MODULE}&pin-source=file:{}",
        dir.join("badpin").display()
    );
    let o = run(
        &dir,
        &conf,
        BIN,
        &[
            "open",
            "p.pkg",
            "--key",
            &bad,
            "--cert",
            "ca/issued/379130000C-enc.crt",
            "--code",
            "379130000C",
            "--trust",
            "ca/root.crt",
            "-o",
            "x",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("PIN"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(
        &dir,
        &conf,
        BIN,
        &[
            "open",
            "p.pkg",
            "--key",
            &uri("dit", "nothing"),
            "--cert",
            "ca/issued/379130000C-enc.crt",
            "--code",
            "379130000C",
            "--trust",
            "ca/root.crt",
            "-o",
            "x",
        ],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("E_TRUST_KEY"));
}
