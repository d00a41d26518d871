//! `gongwen seal | inspect | open` as two agencies' operators run them, with the test CA.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use std::path::Path;
use std::process::Output;

use common::{BIN, exits, has, ok, run, scratch, text, two_agencies, words};

/// `gongwen` in `dir` with the words of `line` as its arguments.
fn gongwen(dir: &Path, line: &str) -> Output {
    run(dir, &[], BIN, &words(line))
}

/// `gongwen seal` as 379000000A's operator, to 379130000C.
fn seal(dir: &Path, di: &str, out: &str) -> Output {
    gongwen(
        dir,
        &format!(
            "seal --di {di} --sign-key ca/issued/379000000A-sign.key \
             --sign-cert ca/issued/379000000A-sign.crt --chain ca/issued/379000000A-chain.pem \
             --to ca/issued/379130000C-enc.crt -o {out}"
        ),
    )
}

#[test]
fn seal_inspect_open_receipts_and_refusals() {
    let dir = scratch("pkg");
    let (sha, dit_sha) = two_agencies(&dir, &[]);

    let sealed = ok(seal(&dir, "doc/1150001234.di", "p.pkg"));
    has(&sealed, &["府資字第1150001234號", "4 個電子受文者"]);

    let h = ok(gongwen(&dir, "inspect p.pkg --json"));
    has(&h, &["\"sender\": \"379000000A\"", "body_sha256"]);

    let bind = format!("379000000A={sha}");
    // As 379130000C's operator, with its decryption key in `key`.
    let recipient = "--cert ca/issued/379130000C-enc.crt --code 379130000C --trust ca/root.crt";
    let open = |out: &str, extra: &str| {
        let key = "ca/issued/379130000C-enc.key";
        gongwen(
            &dir,
            &format!("open p.pkg --key {key} {recipient} --crl ca/crl -o {out} {extra}"),
        )
    };
    let o = ok(open("recv", &format!("--bind {bind}")));
    has(&o, &["驗證通過", "已寫出 3 個檔案"]);
    for f in ["1150001234.di", "1150001234.sw", "1150001234_ATTCH1.pdf"] {
        assert_eq!(
            std::fs::read(dir.join("recv").join(f)).unwrap(),
            std::fs::read(dir.join("doc").join(f)).unwrap()
        );
    }

    // The recipient signs a 退文 receipt; the sender verifies it with the recipient's binding.
    let signer = "--code 379130000C --sign-key ca/issued/379130000C-sign.key \
                  --sign-cert ca/issued/379130000C-sign.crt";
    let r = ok(gongwen(
        &dir,
        &format!(
            "receipt p.pkg --event 退文 --reason 附件不全 --text 附件無法開啟 {signer} \
             --chain ca/issued/379130000C-chain.pem -o r.p7"
        ),
    ));
    has(&r, &["退文回執"]);
    let verify = "verify-receipt r.p7 --trust ca/root.crt --crl ca/crl";
    let v = ok(gongwen(
        &dir,
        &format!("{verify} --bind 379130000C={dit_sha}"),
    ));
    has(&v, &["退文原因：附件不全：附件無法開啟", "驗證通過"]);
    exits(gongwen(&dir, verify), 1, &["E_PKG_SENDER"]);
    let no_reason = format!("receipt p.pkg --event 退文 {signer} -o r2.p7");
    exits(gongwen(&dir, &no_reason), 1, &["原因"]);
    assert!(!dir.join("r2.p7").exists());

    // A passphrase-protected key file (encrypted PKCS#8, as OpenSSL writes it); the
    // passphrase has spaces, so these arguments are given one by one.
    let pkcs8 = "pkcs8 -topk8 -v2 aes-256-cbc -in ca/issued/379130000C-enc.key -passout";
    let args = [
        words(pkcs8),
        vec!["pass:correct horse battery", "-out", "enc-protected.key"],
    ];
    ok(run(&dir, &[], "openssl", &args.concat()));
    std::fs::write(dir.join("keypw"), "correct horse battery\n").unwrap();
    let o = ok(gongwen(
        &dir,
        &format!(
            "open p.pkg --key enc-protected.key --key-password-file keypw {recipient} \
             --crl ca/crl --bind {bind} -o recv-pw"
        ),
    ));
    has(&o, &["驗證通過"]);

    // Refusals write nothing: unbound sender, existing files, tampered package, bad --bind.
    exits(open("recv2", ""), 1, &["E_PKG_SENDER"]);
    assert!(!dir.join("recv2").exists());
    exits(open("recv", &format!("--bind {bind}")), 1, &["不會覆寫"]);
    let mut pkg = std::fs::read(dir.join("p.pkg")).unwrap();
    let n = pkg.len();
    pkg[n / 3] ^= 0x10;
    std::fs::write(dir.join("p.pkg"), &pkg).unwrap();
    exits(
        open("recv3", &format!("--bind {bind}")),
        1,
        &["E_PKG_HEADER"],
    );
    assert!(!dir.join("recv3").exists());
    has(&text(&gongwen(&dir, "inspect p.pkg")), &["E_PKG_HEADER"]);
    exits(open("recv4", "--bind 379000000A=xyz"), 1, &["E_ARG"]);
}

/// A valid draft (blank 發文日期) and a classified document are refused by `seal` with the
/// words `doc check --exchange` uses; an empty 密等 is not classified and seals.
#[test]
fn seal_refuses_what_is_not_ready_to_exchange() {
    let dir = scratch("ready");
    two_agencies(&dir, &[]);
    let di = std::fs::read_to_string(dir.join("doc/1150001234.di")).unwrap();
    let date = di
        .split("<年月日>")
        .nth(1)
        .and_then(|s| s.split("</年月日>").next())
        .unwrap()
        .to_string();
    let urgency_end = di
        .find("<速別")
        .and_then(|i| di[i..].find("/>").map(|j| i + j + 2));
    let at = urgency_end.expect("the example has a 速別");
    let with = |wrapper: &str| format!("{}\n  {wrapper}{}", &di[..at], &di[at..]);
    let cases = [
        (
            "blank.di",
            di.replace(&format!("<年月日>{date}</年月日>"), "<年月日/>"),
            Some("日期空白"),
        ),
        (
            "secret.di",
            with(
                "<密等及解密條件或保密期限><密等 代碼=\"密\"/><解密條件或保密期限>公布後解密</解密條件或保密期限></密等及解密條件或保密期限>",
            ),
            Some("機密文書不得電子交換"),
        ),
        (
            "plain.di",
            with(
                "<密等及解密條件或保密期限><密等/><解密條件或保密期限/></密等及解密條件或保密期限>",
            ),
            None,
        ),
    ];
    for (name, text_of_di, refused) in cases {
        std::fs::write(dir.join("doc").join(name), &text_of_di).unwrap();
        let path = format!("doc/{name}");
        let check = exits(gongwen(&dir, &format!("doc check {path}")), 0, &[]);
        let strict = gongwen(&dir, &format!("doc check --exchange {path}"));
        let out = format!("{name}.pkg");
        let o = seal(&dir, &path, &out);
        match refused {
            Some(words) => {
                has(&check, &["附註", words]);
                exits(strict, 1, &["E_DOC_NOT_READY", words]);
                exits(o, 1, &[words]);
                assert!(!dir.join(&out).exists());
            }
            None => {
                exits(strict, 0, &[]);
                exits(o, 0, &[]);
            }
        }
    }
}
