//! `gongwen pki …` as an operator runs it, checked with stock OpenSSL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{BIN, run, text};

fn gongwen(args: &[&str]) -> Output {
    run(Path::new("."), &[], BIN, args)
}

fn openssl(args: &[&str]) -> Output {
    run(Path::new("."), &[], "openssl", args)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn init_issue_revoke_list() {
    let dir: PathBuf = std::env::temp_dir().join(format!("gongwen-cli-pki-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = gongwen(&["pki", "init", s(&dir), "--key", "p256"]);
    assert!(o.status.success(), "{}", text(&o));

    let o = gongwen(&[
        "pki",
        "issue",
        s(&dir),
        "--kind",
        "agency",
        "--name",
        "臺北市政府",
        "--code",
        "379000000A",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("簽章憑證") && out.contains("加密憑證") && out.contains("公鑰 SHA-256"),
        "{out}"
    );
    let sign = dir.join("issued/379000000A-sign.crt");
    let (root, gca) = (dir.join("root.crt"), dir.join("gca.crt"));
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", "-CAfile", s(&root), "-untrusted", s(&gca)];
        args.extend_from_slice(extra);
        args.push(s(&sign));
        openssl(&args)
    };
    let crl = dir.join("crl/gca.crl");
    let o = verify(&["-crl_check", "-CRLfile", s(&crl)]);
    assert!(o.status.success(), "{}", text(&o));

    // `cert check`: good now; a warning when the renewal horizon reaches the expiry.
    let check = |days: &str| {
        gongwen(&[
            "cert",
            "check",
            s(&sign),
            "--chain",
            s(&gca),
            "--trust",
            s(&root),
            "--crl",
            s(&dir.join("crl")),
            "--days",
            days,
        ])
    };
    let o = check("30");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("狀態：有效（憑證鏈 3 層）"),
        "{}",
        text(&o)
    );
    // The same with the CRL downloaded over HTTP (a local server) and cached.
    let crl_body = std::fs::read(dir.join("crl/gca.crl")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/gca.crl", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut req = Vec::new();
        let mut b = [0u8; 512];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut b) {
                Ok(0) | Err(_) => break,
                Ok(n) => req.extend_from_slice(&b[..n]),
            }
        }
        write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            crl_body.len()
        )
        .unwrap();
        s.write_all(&crl_body).unwrap();
    });
    let o = gongwen(&[
        "cert",
        "check",
        s(&sign),
        "--chain",
        s(&gca),
        "--trust",
        s(&root),
        "--crl",
        s(&dir.join("crl/root.crl")),
        "--crl-url",
        &url,
        "--crl-cache",
        s(&dir.join("cache")),
    ]);
    server.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_dir(dir.join("cache")).unwrap().count(), 1);

    let o = check("1000");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("到期") && text(&o).contains("換發"),
        "{}",
        text(&o)
    );

    let serial =
        String::from_utf8_lossy(&openssl(&["x509", "-noout", "-serial", "-in", s(&sign)]).stdout)
            .trim()
            .trim_start_matches("serial=")
            .to_string();
    let o = gongwen(&[
        "pki",
        "revoke",
        s(&dir),
        &serial,
        "--reason",
        "keyCompromise",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = verify(&["-crl_check", "-CRLfile", s(&crl)]);
    assert!(
        !o.status.success() && text(&o).contains("revoked"),
        "{}",
        text(&o)
    );

    let o = check("30");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("E_TRUST_REVOKED"), "{}", text(&o));

    let o = gongwen(&["pki", "list", s(&dir)]);
    let out = text(&o);
    assert!(
        out.contains(&serial) && out.contains("已撤銷") && out.contains("有效"),
        "{out}"
    );

    // A person's certificates also as password-protected PKCS#12, and imported back.
    std::fs::write(dir.join("pw"), "正確的密碼 horse\n").unwrap();
    let o = gongwen(&[
        "pki",
        "issue",
        s(&dir),
        "--kind",
        "person",
        "--name",
        "王小明",
        "--key",
        "p256",
        "--p12-password-file",
        s(&dir.join("pw")),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let p12 = dir.join("issued/王小明-sign.p12");
    assert!(text(&o).contains("PKCS#12") && p12.exists(), "{}", text(&o));
    let out = dir.join("imported");
    let o = gongwen(&[
        "pki",
        "import",
        s(&p12),
        "--password-file",
        s(&dir.join("pw")),
        "-o",
        s(&out),
        "--name",
        "me",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let pubkey = |args: &[&str]| String::from_utf8_lossy(&openssl(args).stdout).into_owned();
    let original = pubkey(&[
        "x509",
        "-noout",
        "-pubkey",
        "-in",
        s(&dir.join("issued/王小明-sign.crt")),
    ]);
    assert!(original.contains("BEGIN PUBLIC KEY"));
    assert_eq!(
        pubkey(&["x509", "-noout", "-pubkey", "-in", s(&out.join("me.crt"))]),
        original
    );
    assert_eq!(
        pubkey(&["pkey", "-pubout", "-in", s(&out.join("me.key"))]),
        original
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join("me.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
    }
    std::fs::write(dir.join("badpw"), "wrong password").unwrap();
    let o = gongwen(&[
        "pki",
        "import",
        s(&p12),
        "--password-file",
        s(&dir.join("badpw")),
        "-o",
        s(&dir.join("x")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("密碼錯誤") && !dir.join("x").exists(),
        "{}",
        text(&o)
    );

    // Mistakes: exit 1 with the code and what to do; a directory that is no CA: exit 2.
    let o = gongwen(&["pki", "issue", s(&dir), "--kind", "agency", "--name", "甲"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("E_ARG") && text(&o).contains("--code"));
    let o = gongwen(&[
        "pki",
        "issue",
        s(&dir),
        "--kind",
        "agency",
        "--name",
        "臺北市政府",
        "--code",
        "379000000A",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("E_PKI_REQUEST") && text(&o).contains("已存在"));
    let o = gongwen(&["pki", "init", s(&dir)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("E_PKI_EXISTS"));
    let o = gongwen(&["pki", "list", s(&dir.join("issued"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("E_PKI_STATE"));
}
