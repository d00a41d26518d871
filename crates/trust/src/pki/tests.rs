//! The test CA checked by stock OpenSSL: what it issues must verify with `openssl verify`, carry
//! the key usages of its purpose, and show up as revoked in the CRL after `revoke`.

use std::path::Path;

use super::*;
use crate::testutil::{fresh_dir, openssl, openssl_in, openssl_then, p256_ca, rel, s as p};

const NOW: i64 = 1_767_580_200; // 2026-01-05 10:30 Asia/Taipei

/// `openssl verify` in the CA's directory at the CA's own clock (certificates are not yet valid
/// at the real time the test runs if that is before NOW, so pass the time explicitly).
fn verify(ca: &TestCa, branch: Branch, cert: &Path, extra: &str) -> (bool, String) {
    verify_at(ca, NOW + 60, &format!("{}.crt", branch.stem()), cert, extra)
}

/// [`verify`], which must succeed.
fn verify_ok(ca: &TestCa, branch: Branch, cert: &Path, extra: &str) {
    let (ok, out) = verify(ca, branch, cert, extra);
    assert!(ok, "{out}");
}

/// `openssl verify` of `cert` at `time`, trusting the root, with the intermediates in `untrusted`.
fn verify_at(ca: &TestCa, time: i64, untrusted: &str, cert: &Path, extra: &str) -> (bool, String) {
    let cert = rel(&ca.dir, cert);
    let line =
        format!("verify -attime {time} -CAfile root.crt -untrusted {untrusted} {extra} {cert}");
    openssl_in(&ca.dir, &line)
}

fn org(branch: Branch, code: &str, key: KeyType) -> IssueRequest {
    IssueRequest {
        subject: Subject::Organisation {
            branch,
            code: code.into(),
            name: "臺北市政府".into(),
        },
        key,
        days: 730,
    }
}

fn request(subject: Subject, key: KeyType, days: u32) -> IssueRequest {
    IssueRequest { subject, key, days }
}

/// `openssl x509 -noout -text` of a certificate.
fn x509_text(cert: &Path) -> String {
    openssl_then("x509 -noout -text -nameopt utf8 -in", &[p(cert)]).1
}

#[test]
fn organisations_get_a_signing_and_an_encryption_certificate_openssl_accepts() {
    let dir = fresh_dir("pki-org");
    let mut ca = TestCa::init(&dir, &InitOptions::default(), NOW).unwrap();
    let issued = ca
        .issue(&org(Branch::Gca, "379000000A", KeyType::Rsa2048), NOW)
        .unwrap();
    assert_eq!(issued.len(), 2);
    let (sign, enc) = (&issued[0], &issued[1]);
    assert_eq!(sign.record.usage, Usage::Signing);
    assert_eq!(enc.record.usage, Usage::Encryption);

    verify_ok(&ca, Branch::Gca, &sign.cert_file, "-purpose smimesign");
    verify_ok(&ca, Branch::Gca, &enc.cert_file, "-purpose smimeencrypt");
    // The chain file is what a peer needs beside the root.
    let chain = rel(&dir, &sign.chain_file);
    let (ok, out) = verify_at(&ca, NOW + 60, chain, &sign.cert_file, "");
    assert!(ok, "{out}");

    let text = x509_text(&sign.cert_file);
    assert!(
        text.contains("Digital Signature") && text.contains("Non Repudiation"),
        "{text}"
    );
    assert!(!text.contains("Key Encipherment"), "{text}");
    assert!(
        text.contains("臺北市政府") && text.contains("379000000A"),
        "{text}"
    );
    let text = x509_text(&enc.cert_file);
    assert!(
        text.contains("Key Encipherment") && !text.contains("Digital Signature"),
        "{text}"
    );

    // The serial in the register is the one OpenSSL reads.
    let (_, serial) = openssl(&["x509", "-noout", "-serial", "-in", p(&sign.cert_file)]);
    assert_eq!(serial.trim(), format!("serial={}", sign.record.serial));

    // The key file is PKCS#8, readable by its owner only, and matches the certificate.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&sign.key_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "key file mode {mode:o}");
    }
    let (_, a) = openssl(&["pkey", "-in", p(&sign.key_file), "-pubout"]);
    let (_, b) = openssl(&["x509", "-in", p(&sign.cert_file), "-noout", "-pubkey"]);
    assert_eq!(a, b);

    // The SPKI digest the directory binds is SHA-256 over the DER public key.
    std::fs::write(dir.join("pub.pem"), &b).unwrap();
    openssl_in(&dir, "pkey -pubin -in pub.pem -outform DER -out spki.der");
    let (_, dgst) = openssl_in(&dir, "dgst -sha256 -r spki.der");
    assert!(
        dgst.starts_with(&sign.spki_sha256),
        "{dgst} vs {}",
        sign.spki_sha256
    );
}

#[test]
fn persons_companies_and_tls_nodes_with_every_key_type() {
    let dir = fresh_dir("pki-kinds");
    let mut ca = p256_ca(&dir, 10, NOW);
    let name = "王小明".into();
    let person = ca
        .issue(&request(Subject::Person { name }, KeyType::P256, 365), NOW)
        .unwrap();
    verify_ok(
        &ca,
        Branch::Moica,
        &person[0].cert_file,
        "-purpose smimesign",
    );
    let text = x509_text(&person[1].cert_file);
    assert!(
        text.contains("Key Agreement"),
        "an EC encryption key agrees, it does not encipher: {text}"
    );

    let company = ca
        .issue(&org(Branch::Moeaca, "12345678", KeyType::Rsa3072), NOW)
        .unwrap();
    verify_ok(&ca, Branch::Moeaca, &company[0].cert_file, "");
    let text = x509_text(&company[0].cert_file);
    assert!(text.contains("3072 bit"), "{text}");
    // Certified by the company CA, so the agency CA is no path to trust.
    let (ok, _) = verify(&ca, Branch::Gca, &company[0].cert_file, "");
    assert!(!ok);

    let hosts = vec!["localhost".into(), "127.0.0.1".into()];
    let subject = Subject::TlsServer {
        name: "交換中心".into(),
        hosts,
    };
    let server = ca
        .issue(&request(subject, KeyType::Rsa2048, 30), NOW)
        .unwrap();
    let server = &server[0].cert_file;
    let purpose = "-purpose sslserver -verify_ip 127.0.0.1";
    verify_ok(&ca, Branch::Gca, server, purpose);
    let (ok, _) = verify(&ca, Branch::Gca, server, "-purpose sslclient");
    assert!(!ok, "a server certificate is no client certificate");

    let subject = Subject::TlsClient {
        code: "379000000A".into(),
        name: "臺北市政府".into(),
    };
    let client = ca.issue(&request(subject, KeyType::P256, 30), NOW).unwrap();
    let client = &client[0].cert_file;
    verify_ok(&ca, Branch::Gca, client, "-purpose sslclient");

    // Our own evaluation agrees on purposes, extended key usage included.
    let load = |f: &Path| crate::cms::load_certs(&std::fs::read(f).unwrap()).unwrap();
    let store = crate::path::TrustStore {
        anchors: load(&ca.root_file()),
        crls: vec![],
        stale_crl: crate::path::StaleCrl::Warn,
    };
    let inter = load(&ca.ca_file(Branch::Gca));
    use crate::path::Purpose;
    let eval = |f: &Path, p: Purpose| {
        store
            .evaluate(&load(f)[0], &inter, NOW + 60, p)
            .map(|_| ())
            .map_err(|e| e.code())
    };
    assert_eq!(eval(server, Purpose::TlsServer), Ok(()));
    assert_eq!(eval(server, Purpose::TlsClient), Err("E_TRUST_USAGE"));
    assert_eq!(eval(client, Purpose::TlsClient), Ok(()));
    assert_eq!(eval(client, Purpose::TlsServer), Err("E_TRUST_USAGE"));

    // Expiry: the certificate is refused after its last day.
    let (ok, out) = verify_at(&ca, NOW + 31 * 86_400, "gca.crt", client, "");
    assert!(!ok && out.contains("expired"), "{out}");
}

#[test]
fn a_revoked_certificate_is_in_the_crl_and_openssl_refuses_it() {
    let dir = fresh_dir("pki-revoke");
    let mut ca = TestCa::init(&dir, &InitOptions::default(), NOW).unwrap();
    let a = ca
        .issue(&org(Branch::Xca, "XA12345678", KeyType::P256), NOW)
        .unwrap();
    let b = ca
        .issue(&org(Branch::Xca, "XA87654321", KeyType::P256), NOW)
        .unwrap();
    let crl = "-crl_check -CRLfile crl/xca.crl";
    verify_ok(&ca, Branch::Xca, &a[0].cert_file, crl);

    let rec = ca
        .revoke(
            &a[0].record.serial.to_lowercase(),
            Some("金鑰洩漏"),
            NOW + 10,
        )
        .unwrap();
    assert_eq!(rec.reason.as_deref(), Some("keyCompromise"));
    let (ok, out) = verify(&ca, Branch::Xca, &a[0].cert_file, crl);
    assert!(!ok && out.contains("revoked"), "{out}");
    let (ok, out) = verify(&ca, Branch::Xca, &b[0].cert_file, crl);
    assert!(ok, "only the revoked one is refused: {out}");
    let (_, crl) = openssl_in(&dir, "crl -noout -text -in crl/xca.crl");
    assert!(
        crl.contains(&a[0].record.serial) && crl.contains("Key Compromise"),
        "{crl}"
    );

    // The register survives reopening; revoking twice or an unknown serial is a clear error.
    let mut again = TestCa::open(&dir).unwrap();
    assert_eq!(again.records().len(), 4);
    assert!(again.records()[0].revoked_at.is_some());
    let e = again.revoke(&a[0].record.serial, None, NOW).unwrap_err();
    assert_eq!(e.code(), "E_PKI_REQUEST");
    assert!(e.to_string().contains("已經撤銷"));
    let e = again.revoke("FFFF", None, NOW).unwrap_err();
    assert!(e.to_string().contains("找不到序號"));
    let e = again
        .revoke(&b[0].record.serial, Some("心情不好"), NOW)
        .unwrap_err();
    assert!(e.to_string().contains("撤銷原因"));
}

#[test]
fn bad_requests_and_directories_are_refused_and_change_nothing() {
    let dir = fresh_dir("pki-bad");
    let mut ca = TestCa::init(&dir, &InitOptions::default(), NOW).unwrap();
    let e = TestCa::init(&dir, &InitOptions::default(), NOW)
        .err()
        .unwrap();
    assert_eq!(e.code(), "E_PKI_EXISTS");

    let before = std::fs::read_to_string(dir.join("ca.toml")).unwrap();
    for (req, want) in [
        (org(Branch::Gca, "379 000", KeyType::P256), "代碼"),
        (org(Branch::Moica, "379000000A", KeyType::P256), "內政部"),
        (
            request(Subject::Person { name: "".into() }, KeyType::P256, 30),
            "名稱",
        ),
        (
            IssueRequest {
                days: 0,
                ..org(Branch::Gca, "379000000A", KeyType::P256)
            },
            "效期",
        ),
        (
            request(
                Subject::TlsServer {
                    name: "中心".into(),
                    hosts: vec![],
                },
                KeyType::P256,
                30,
            ),
            "主機",
        ),
    ] {
        let e = ca.issue(&req, NOW).unwrap_err();
        assert_eq!(e.code(), "E_PKI_REQUEST");
        assert!(e.to_string().contains(want), "{e}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("ca.toml")).unwrap(),
        before
    );

    // The same subject twice would overwrite its key: refused.
    ca.issue(&org(Branch::Gca, "379000000A", KeyType::P256), NOW)
        .unwrap();
    let e = ca
        .issue(&org(Branch::Gca, "379000000A", KeyType::P256), NOW)
        .unwrap_err();
    assert!(e.to_string().contains("已存在"), "{e}");

    let e = TestCa::open(&fresh_dir("pki-nothing")).err().unwrap();
    assert_eq!(e.code(), "E_PKI_STATE");
    assert!(e.to_string().contains("pki init"));
    std::fs::write(dir.join("ca.toml"), "version = \"壞掉\"").unwrap();
    let e = TestCa::open(&dir).err().unwrap();
    assert_eq!(e.code(), "E_PKI_STATE");
    assert!(KeyType::parse("dsa").is_err() && Branch::parse("abc").is_err());
}

#[test]
fn expiry_is_announced_ahead() {
    let mut ca = p256_ca(&fresh_dir("pki-expiry"), 10, NOW);
    let c = ca
        .issue(&org(Branch::Gca, "379000000A", KeyType::P256), NOW)
        .unwrap();
    let cert = crate::cms::load_certs(&std::fs::read(&c[0].cert_file).unwrap()).unwrap();
    let day = 86_400;
    assert!(crate::path::expiry_warnings(&cert, NOW, 30).is_empty());
    let w = crate::path::expiry_warnings(&cert, NOW + 710 * day, 30);
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("剩 20 天") && w[0].contains("換發"), "{w:?}");
    assert!(
        crate::path::expiry_warnings(&cert, NOW + 731 * day, 30).is_empty(),
        "already expired: that is an error, not a warning"
    );
}
