//! The test CA checked by stock OpenSSL: what it issues must verify with `openssl verify`, carry
//! the key usages of its purpose, and show up as revoked in the CRL after `revoke`.

use std::path::{Path, PathBuf};

use super::*;
use crate::testutil::{openssl, s as p};

const NOW: i64 = 1_767_580_200; // 2026-01-05 10:30 Asia/Taipei

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gongwen-pki-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `openssl verify` at the CA's own clock (certificates are not yet valid at the real time
/// the test runs if that is before NOW, so pass the time explicitly).
fn verify(ca: &TestCa, branch: Branch, cert: &Path, extra: &[&str]) -> (bool, String) {
    let root = ca.root_file();
    let inter = ca.ca_file(branch);
    let at = (NOW + 60).to_string();
    let mut args = vec![
        "verify",
        "-attime",
        &at,
        "-CAfile",
        p(&root),
        "-untrusted",
        p(&inter),
    ];
    args.extend_from_slice(extra);
    args.push(p(cert));
    openssl(&args)
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

#[test]
fn organisations_get_a_signing_and_an_encryption_certificate_openssl_accepts() {
    let dir = temp_dir("org");
    let mut ca = TestCa::init(&dir, &InitOptions::default(), NOW).unwrap();
    let issued = ca
        .issue(&org(Branch::Gca, "379000000A", KeyType::Rsa2048), NOW)
        .unwrap();
    assert_eq!(issued.len(), 2);
    let (sign, enc) = (&issued[0], &issued[1]);
    assert_eq!(sign.record.usage, Usage::Signing);
    assert_eq!(enc.record.usage, Usage::Encryption);

    let (ok, out) = verify(
        &ca,
        Branch::Gca,
        &sign.cert_file,
        &["-purpose", "smimesign"],
    );
    assert!(ok, "{out}");
    let (ok, out) = verify(
        &ca,
        Branch::Gca,
        &enc.cert_file,
        &["-purpose", "smimeencrypt"],
    );
    assert!(ok, "{out}");
    // The chain file is what a peer needs beside the root.
    let at = (NOW + 60).to_string();
    let (ok, out) = openssl(&[
        "verify",
        "-attime",
        &at,
        "-CAfile",
        p(&ca.root_file()),
        "-untrusted",
        p(&sign.chain_file),
        p(&sign.cert_file),
    ]);
    assert!(ok, "{out}");

    let (_, text) = openssl(&[
        "x509",
        "-noout",
        "-text",
        "-nameopt",
        "utf8",
        "-in",
        p(&sign.cert_file),
    ]);
    assert!(
        text.contains("Digital Signature") && text.contains("Non Repudiation"),
        "{text}"
    );
    assert!(!text.contains("Key Encipherment"), "{text}");
    assert!(
        text.contains("臺北市政府") && text.contains("379000000A"),
        "{text}"
    );
    let (_, text) = openssl(&["x509", "-noout", "-text", "-in", p(&enc.cert_file)]);
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
    let der = dir.join("spki.der");
    let pubkey = dir.join("pub.pem");
    std::fs::write(&pubkey, &b).unwrap();
    openssl(&[
        "pkey",
        "-pubin",
        "-in",
        p(&pubkey),
        "-outform",
        "DER",
        "-out",
        p(&der),
    ]);
    let (_, dgst) = openssl(&["dgst", "-sha256", "-r", p(&der)]);
    assert!(
        dgst.starts_with(&sign.spki_sha256),
        "{dgst} vs {}",
        sign.spki_sha256
    );
}

#[test]
fn persons_companies_and_tls_nodes_with_every_key_type() {
    let dir = temp_dir("kinds");
    let mut ca = TestCa::init(
        &dir,
        &InitOptions {
            key: KeyType::P256,
            years: 10,
        },
        NOW,
    )
    .unwrap();
    let person = ca
        .issue(
            &IssueRequest {
                subject: Subject::Person {
                    name: "王小明".into(),
                },
                key: KeyType::P256,
                days: 365,
            },
            NOW,
        )
        .unwrap();
    let (ok, out) = verify(
        &ca,
        Branch::Moica,
        &person[0].cert_file,
        &["-purpose", "smimesign"],
    );
    assert!(ok, "{out}");
    let (_, text) = openssl(&["x509", "-noout", "-text", "-in", p(&person[1].cert_file)]);
    assert!(
        text.contains("Key Agreement"),
        "an EC encryption key agrees, it does not encipher: {text}"
    );

    let company = ca
        .issue(&org(Branch::Moeaca, "12345678", KeyType::Rsa3072), NOW)
        .unwrap();
    let (ok, out) = verify(&ca, Branch::Moeaca, &company[0].cert_file, &[]);
    assert!(ok, "{out}");
    let (_, text) = openssl(&["x509", "-noout", "-text", "-in", p(&company[0].cert_file)]);
    assert!(text.contains("3072 bit"), "{text}");
    // Certified by the company CA, so the agency CA is no path to trust.
    let (ok, _) = verify(&ca, Branch::Gca, &company[0].cert_file, &[]);
    assert!(!ok);

    let server = ca
        .issue(
            &IssueRequest {
                subject: Subject::TlsServer {
                    name: "交換中心".into(),
                    hosts: vec!["localhost".into(), "127.0.0.1".into()],
                },
                key: KeyType::Rsa2048,
                days: 30,
            },
            NOW,
        )
        .unwrap();
    let (ok, out) = verify(
        &ca,
        Branch::Gca,
        &server[0].cert_file,
        &["-purpose", "sslserver", "-verify_ip", "127.0.0.1"],
    );
    assert!(ok, "{out}");
    let (ok, _) = verify(
        &ca,
        Branch::Gca,
        &server[0].cert_file,
        &["-purpose", "sslclient"],
    );
    assert!(!ok, "a server certificate is no client certificate");

    let client = ca
        .issue(
            &IssueRequest {
                subject: Subject::TlsClient {
                    code: "379000000A".into(),
                    name: "臺北市政府".into(),
                },
                key: KeyType::P256,
                days: 30,
            },
            NOW,
        )
        .unwrap();
    let (ok, out) = verify(
        &ca,
        Branch::Gca,
        &client[0].cert_file,
        &["-purpose", "sslclient"],
    );
    assert!(ok, "{out}");

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
    assert_eq!(eval(&server[0].cert_file, Purpose::TlsServer), Ok(()));
    assert_eq!(
        eval(&server[0].cert_file, Purpose::TlsClient),
        Err("E_TRUST_USAGE")
    );
    assert_eq!(eval(&client[0].cert_file, Purpose::TlsClient), Ok(()));
    assert_eq!(
        eval(&client[0].cert_file, Purpose::TlsServer),
        Err("E_TRUST_USAGE")
    );

    // Expiry: the certificate is refused after its last day.
    let late = (NOW + 31 * 86_400).to_string();
    let (ok, out) = openssl(&[
        "verify",
        "-attime",
        &late,
        "-CAfile",
        p(&ca.root_file()),
        "-untrusted",
        p(&ca.ca_file(Branch::Gca)),
        p(&client[0].cert_file),
    ]);
    assert!(!ok && out.contains("expired"), "{out}");
}

#[test]
fn a_revoked_certificate_is_in_the_crl_and_openssl_refuses_it() {
    let dir = temp_dir("revoke");
    let mut ca = TestCa::init(&dir, &InitOptions::default(), NOW).unwrap();
    let a = ca
        .issue(&org(Branch::Xca, "XA12345678", KeyType::P256), NOW)
        .unwrap();
    let b = ca
        .issue(&org(Branch::Xca, "XA87654321", KeyType::P256), NOW)
        .unwrap();
    let crl_args = |ca: &TestCa| {
        vec![
            "-crl_check".to_string(),
            "-CRLfile".to_string(),
            ca.crl_file("xca").display().to_string(),
        ]
    };
    let args = crl_args(&ca);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, out) = verify(&ca, Branch::Xca, &a[0].cert_file, &args);
    assert!(ok, "{out}");

    let rec = ca
        .revoke(
            &a[0].record.serial.to_lowercase(),
            Some("金鑰洩漏"),
            NOW + 10,
        )
        .unwrap();
    assert_eq!(rec.reason.as_deref(), Some("keyCompromise"));
    let (ok, out) = verify(&ca, Branch::Xca, &a[0].cert_file, &args);
    assert!(!ok && out.contains("revoked"), "{out}");
    let (ok, out) = verify(&ca, Branch::Xca, &b[0].cert_file, &args);
    assert!(ok, "only the revoked one is refused: {out}");
    let (_, crl) = openssl(&["crl", "-noout", "-text", "-in", p(&ca.crl_file("xca"))]);
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
    let dir = temp_dir("bad");
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
            IssueRequest {
                subject: Subject::Person { name: "".into() },
                key: KeyType::P256,
                days: 30,
            },
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
            IssueRequest {
                subject: Subject::TlsServer {
                    name: "中心".into(),
                    hosts: vec![],
                },
                key: KeyType::P256,
                days: 30,
            },
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

    let e = TestCa::open(&temp_dir("nothing")).err().unwrap();
    assert_eq!(e.code(), "E_PKI_STATE");
    assert!(e.to_string().contains("pki init"));
    std::fs::write(dir.join("ca.toml"), "version = \"壞掉\"").unwrap();
    let e = TestCa::open(&dir).err().unwrap();
    assert_eq!(e.code(), "E_PKI_STATE");
    assert!(KeyType::parse("dsa").is_err() && Branch::parse("abc").is_err());
}

#[test]
fn expiry_is_announced_ahead() {
    let dir = temp_dir("expiry");
    let mut ca = TestCa::init(
        &dir,
        &InitOptions {
            key: KeyType::P256,
            years: 10,
        },
        NOW,
    )
    .unwrap();
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
