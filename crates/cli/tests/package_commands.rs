//! `gongwen seal | inspect | open` as two agencies' operators run them, with the test CA.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use std::path::Path;
use std::process::Output;

use common::{BIN, fresh_dir, ok, run, text, two_agencies, words};

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
    let dir = fresh_dir("pkg");
    let (sha, dit_sha) = two_agencies(&dir, &[]);

    let sealed = ok(seal(&dir, "doc/1150001234.di", "p.pkg"));
    assert!(
        sealed.contains("府資字第1150001234號") && sealed.contains("4 個電子受文者"),
        "{sealed}"
    );

    let h = ok(gongwen(&dir, "inspect p.pkg --json"));
    assert!(
        h.contains("\"sender\": \"379000000A\"") && h.contains("body_sha256"),
        "{h}"
    );

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
    assert!(
        o.contains("驗證通過") && o.contains("已寫出 3 個檔案"),
        "{o}"
    );
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
    assert!(r.contains("退文回執"), "{r}");
    let verify = "verify-receipt r.p7 --trust ca/root.crt --crl ca/crl";
    let v = ok(gongwen(
        &dir,
        &format!("{verify} --bind 379130000C={dit_sha}"),
    ));
    assert!(
        v.contains("退文原因：附件不全：附件無法開啟") && v.contains("驗證通過"),
        "{v}"
    );
    let o = gongwen(&dir, verify);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("E_PKG_SENDER"));
    let o = gongwen(
        &dir,
        &format!("receipt p.pkg --event 退文 {signer} -o r2.p7"),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("原因") && !dir.join("r2.p7").exists());

    // A passphrase-protected key file (encrypted PKCS#8, as OpenSSL writes it); the
    // passphrase has spaces, so these arguments are given one by one.
    ok(run(
        &dir,
        &[],
        "openssl",
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "ca/issued/379130000C-enc.key",
            "-passout",
            "pass:correct horse battery",
            "-out",
            "enc-protected.key",
        ],
    ));
    std::fs::write(dir.join("keypw"), "correct horse battery\n").unwrap();
    let o = ok(gongwen(
        &dir,
        &format!(
            "open p.pkg --key enc-protected.key --key-password-file keypw {recipient} \
             --crl ca/crl --bind {bind} -o recv-pw"
        ),
    ));
    assert!(o.contains("驗證通過"), "{o}");

    // Refusals write nothing: unbound sender, existing files, tampered package, bad --bind.
    let o = open("recv2", "");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("E_PKG_SENDER"), "{}", text(&o));
    assert!(!dir.join("recv2").exists());
    let o = open("recv", &format!("--bind {bind}"));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("不會覆寫"));
    let mut pkg = std::fs::read(dir.join("p.pkg")).unwrap();
    let n = pkg.len();
    pkg[n / 3] ^= 0x10;
    std::fs::write(dir.join("p.pkg"), &pkg).unwrap();
    let o = open("recv3", &format!("--bind {bind}"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("E_PKG_HEADER"), "{}", text(&o));
    assert!(!dir.join("recv3").exists());
    let o = gongwen(&dir, "inspect p.pkg");
    assert!(text(&o).contains("E_PKG_HEADER"));
    let o = open("recv4", "--bind 379000000A=xyz");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("E_ARG"));
}

/// A valid draft (blank 發文日期) and a classified document are refused by `seal` with the
/// words `doc check --exchange` uses; an empty 密等 is not classified and seals.
#[test]
fn seal_refuses_what_is_not_ready_to_exchange() {
    let dir = fresh_dir("ready");
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
        let check = gongwen(&dir, &format!("doc check {path}"));
        assert_eq!(check.status.code(), Some(0), "{name}: {}", text(&check));
        let strict = gongwen(&dir, &format!("doc check --exchange {path}"));
        let out = format!("{name}.pkg");
        let o = seal(&dir, &path, &out);
        match refused {
            Some(words) => {
                assert!(text(&check).contains("附註") && text(&check).contains(words));
                assert_eq!(strict.status.code(), Some(1), "{name}: {}", text(&strict));
                assert!(text(&strict).contains("E_DOC_NOT_READY") && text(&strict).contains(words));
                assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
                assert!(text(&o).contains(words), "{name}: {}", text(&o));
                assert!(!dir.join(&out).exists());
            }
            None => {
                assert_eq!(strict.status.code(), Some(0), "{name}: {}", text(&strict));
                assert!(o.status.success(), "{name}: {}", text(&o));
            }
        }
    }
}
