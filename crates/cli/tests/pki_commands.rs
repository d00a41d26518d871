//! `gongwen pki …` as an operator runs it, checked with stock OpenSSL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use common::{BIN, exits, has, ok, run, scratch, text, words};

#[test]
fn init_issue_revoke_list() {
    // Everything runs in `dir`, with the CA in `dir/ca`.
    let dir = scratch("pki");
    let g = |line: &str| run(&dir, &[], BIN, &words(line));
    let openssl = |line: &str| run(&dir, &[], "openssl", &words(line));
    ok(g("pki init ca --key p256"));

    let out = ok(g(
        "pki issue ca --kind agency --name 臺北市政府 --code 379000000A",
    ));
    has(&out, &["簽章憑證", "加密憑證", "公鑰 SHA-256"]);
    let verify = |extra: &str| {
        openssl(&format!(
            "verify -CAfile ca/root.crt -untrusted ca/gca.crt {extra} ca/issued/379000000A-sign.crt"
        ))
    };
    ok(verify("-crl_check -CRLfile ca/crl/gca.crl"));

    // `cert check`: good now; a warning when the renewal horizon reaches the expiry.
    let cert_check =
        "cert check ca/issued/379000000A-sign.crt --chain ca/gca.crt --trust ca/root.crt";
    let check = |days: &str| g(&format!("{cert_check} --crl ca/crl --days {days}"));
    exits(check("30"), 0, &["狀態：有效（憑證鏈 3 層）"]);
    // The same with the CRL downloaded over HTTP (a local server) and cached.
    let crl_body = std::fs::read(dir.join("ca/crl/gca.crl")).unwrap();
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
    let o = g(&format!(
        "{cert_check} --crl ca/crl/root.crl --crl-url {url} --crl-cache cache"
    ));
    server.join().unwrap();
    exits(o, 0, &[]);
    assert_eq!(std::fs::read_dir(dir.join("cache")).unwrap().count(), 1);

    exits(check("1000"), 1, &["到期", "換發"]);

    let serial = openssl("x509 -noout -serial -in ca/issued/379000000A-sign.crt");
    let serial = String::from_utf8_lossy(&serial.stdout)
        .trim()
        .trim_start_matches("serial=")
        .to_string();
    ok(g(&format!("pki revoke ca {serial} --reason keyCompromise")));
    let o = verify("-crl_check -CRLfile ca/crl/gca.crl");
    assert!(!o.status.success(), "{}", text(&o));
    has(&text(&o), &["revoked"]);

    exits(check("30"), 1, &["E_TRUST_REVOKED"]);

    has(&text(&g("pki list ca")), &[&serial, "已撤銷", "有效"]);

    // A person's certificates also as password-protected PKCS#12, and imported back.
    std::fs::write(dir.join("pw"), "正確的密碼 horse\n").unwrap();
    let o = ok(g(
        "pki issue ca --kind person --name 王小明 --key p256 --p12-password-file pw",
    ));
    let p12 = "ca/issued/王小明-sign.p12";
    assert!(o.contains("PKCS#12") && dir.join(p12).exists(), "{o}");
    ok(g(&format!(
        "pki import {p12} --password-file pw -o imported --name me"
    )));
    let pubkey = |line: &str| String::from_utf8_lossy(&openssl(line).stdout).into_owned();
    let original = pubkey("x509 -noout -pubkey -in ca/issued/王小明-sign.crt");
    assert!(original.contains("BEGIN PUBLIC KEY"));
    assert_eq!(pubkey("x509 -noout -pubkey -in imported/me.crt"), original);
    assert_eq!(pubkey("pkey -pubout -in imported/me.key"), original);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("imported/me.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
    }
    std::fs::write(dir.join("badpw"), "wrong password").unwrap();
    let o = g(&format!("pki import {p12} --password-file badpw -o x"));
    exits(o, 2, &["密碼錯誤"]);
    assert!(!dir.join("x").exists());

    // Mistakes: exit 1 with the code and what to do; a directory that is no CA: exit 2.
    let o = g("pki issue ca --kind agency --name 甲");
    exits(o, 1, &["E_ARG", "--code"]);
    let o = g("pki issue ca --kind agency --name 臺北市政府 --code 379000000A");
    exits(o, 1, &["E_PKI_REQUEST", "已存在"]);
    exits(g("pki init ca"), 2, &["E_PKI_EXISTS"]);
    exits(g("pki list ca/issued"), 2, &["E_PKI_STATE"]);
}
