//! Keys on a token, as on an IC card in a card reader: SoftHSM2 holds the sender's signing key
//! and the recipient's decryption key; `gongwen seal`, `open` and `receipt` use them through
//! PKCS#11 and the keys never leave the token. scripts/test installs softhsm2.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use std::path::Path;
use std::process::Output;

use common::{BIN, has, ok, run, scratch, two_agencies, words};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

#[test]
fn seal_open_and_receipt_with_keys_on_softhsm() {
    assert!(
        Path::new(MODULE).exists(),
        "{MODULE} 不存在：請安裝 softhsm2（scripts/test 會安裝）"
    );
    let dir = scratch("token");
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
    let env = [("SOFTHSM2_CONF", conf.as_path())];
    let gongwen = |line: &str| run(&dir, &env, BIN, &words(line));
    let g = |line: &str| ok(gongwen(line));
    let hsm = |line: &str| ok(run(&dir, &env, "softhsm2-util", &words(line)));

    let (sender_sha, _) = two_agencies(&dir, &env);

    // One token per agency, as each has its own card.
    for (label, key, id) in [
        ("taipei", "379000000A-sign", "01"),
        ("dit", "379130000C-enc", "02"),
        ("dit", "379130000C-sign", "03"),
    ] {
        if !dir.join(format!("{label}.init")).exists() {
            hsm(&format!(
                "--init-token --free --label {label} --pin 123456 --so-pin 12345678"
            ));
            std::fs::write(dir.join(format!("{label}.init")), "").unwrap();
        }
        hsm(&format!(
            "--import ca/issued/{key}.key --token {label} --label {key} --id {id} --pin 123456"
        ));
    }
    // A key on a token, with the PIN read from the file `pin` names.
    let uri = |token: &str, object: &str, pin: &str| {
        format!(
            "pkcs11:token={token};object={object}?module-path={MODULE}&pin-source=file:{}",
            dir.join(pin).display()
        )
    };

    g(&format!(
        "seal --di doc/1150001234.di --sign-key {} --sign-cert ca/issued/379000000A-sign.crt \
         --chain ca/issued/379000000A-chain.pem --to ca/issued/379130000C-enc.crt -o p.pkg",
        uri("taipei", "379000000A-sign", "pin")
    ));
    let recipient = "--cert ca/issued/379130000C-enc.crt --code 379130000C --trust ca/root.crt";
    let o = g(&format!(
        "open p.pkg --key {} {recipient} --crl ca/crl --bind 379000000A={sender_sha} -o recv",
        uri("dit", "379130000C-enc", "pin")
    ));
    assert!(o.contains("驗證通過"), "{o}");
    assert_eq!(
        std::fs::read(dir.join("recv/1150001234_ATTCH1.pdf")).unwrap(),
        std::fs::read(dir.join("doc/1150001234_ATTCH1.pdf")).unwrap()
    );

    // An RSA signing key on the token signs the receipt; OpenSSL accepts it.
    g(&format!(
        "receipt p.pkg --event 送達 --code 379130000C --sign-key {} \
         --sign-cert ca/issued/379130000C-sign.crt --chain ca/issued/379130000C-chain.pem -o r.p7",
        uri("dit", "379130000C-sign", "pin")
    ));
    ok(run(
        &dir,
        &env,
        "openssl",
        &words("cms -verify -inform DER -in r.p7 -CAfile ca/root.crt -out /dev/null"),
    ));

    // A wrong PIN and a missing key are clear errors.
    std::fs::write(dir.join("badpin"), "000000").unwrap();
    let open_with = |key: String| gongwen(&format!("open p.pkg --key {key} {recipient} -o x"));
    let stderr = |o: Output| String::from_utf8_lossy(&o.stderr).into_owned();
    let o = open_with(uri("dit", "379130000C-enc", "badpin"));
    assert_eq!(o.status.code(), Some(2));
    has(&stderr(o), &["PIN"]);
    has(
        &stderr(open_with(uri("dit", "nothing", "pin"))),
        &["E_TRUST_KEY"],
    );
}
