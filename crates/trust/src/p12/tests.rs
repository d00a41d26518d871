//! PKCS#12 both ways with stock OpenSSL.

use super::*;
use crate::pki::{InitOptions, KeyType, TestCa};
use crate::testutil::{cert, fresh_dir, issue_agency, openssl_in, openssl_then, p256_ca, rel, s};

const T0: i64 = 1_767_580_200;

#[test]
fn our_p12_opens_in_openssl_and_openssls_opens_here() {
    let dir = fresh_dir("p12");
    let mut ca = TestCa::init(&dir, &InitOptions::default(), T0).unwrap();
    for (code, kt) in [
        ("379000000A", KeyType::Rsa2048),
        ("376410000A", KeyType::P256),
    ] {
        let issued = issue_agency(&mut ca, code, kt, T0);
        let c = &issued[0];
        let pem = std::fs::read_to_string(&c.key_file).unwrap();
        let (_, pkcs8) = der::pem::decode_vec(pem.trim().as_bytes()).unwrap();
        let cert = cert(c);
        let chain = crate::cms::load_certs(&std::fs::read(&c.chain_file).unwrap()).unwrap();

        let p12 = export(&pkcs8, &cert, &chain, "臺北市政府 簽章", "correct horse").unwrap();
        let f = dir.join(format!("{code}.p12"));
        std::fs::write(&f, &p12).unwrap();
        let (ok, out) = openssl_then(
            "pkcs12 -in",
            &[s(&f), "-passin", "pass:correct horse", "-nodes", "-info"],
        );
        assert!(ok, "{out}");
        assert!(
            out.contains("BEGIN PRIVATE KEY") && out.matches("BEGIN CERTIFICATE").count() == 3,
            "{out}"
        );
        assert!(
            out.contains("PBES2") && out.contains("AES-256-CBC") && out.contains("sha256"),
            "{out}"
        );

        // Round trip here, and OpenSSL's own export (its defaults) read here.
        let back = import(&p12, "correct horse").unwrap();
        assert_eq!(back.key_pkcs8, pkcs8);
        assert_eq!(back.cert, cert);
        assert_eq!(back.chain.len(), 2);
        let theirs = dir.join(format!("{code}-openssl.p12"));
        let (key, cert_file) = (rel(&dir, &c.key_file), rel(&dir, &c.cert_file));
        let export_args = format!("pkcs12 -export -inkey {key} -in {cert_file}");
        let (ok, out) = openssl_in(
            &dir,
            &format!(
                "{export_args} -certfile {} -passout pass:另一個密碼 -out {code}-openssl.p12",
                rel(&dir, &c.chain_file)
            ),
        );
        assert!(ok, "{out}");
        let got = import(&std::fs::read(&theirs).unwrap(), "另一個密碼").unwrap();
        assert_eq!(got.cert, cert);
        assert!(
            crate::keys::PrivateKey::from_pkcs8_der(&got.key_pkcs8)
                .unwrap()
                .matches(&cert)
        );

        // Wrong password, legacy protection, short password, garbage.
        let e = import(&p12, "wrong password").err().unwrap();
        assert_eq!(e.code(), "E_TRUST_KEY");
        assert!(e.to_string().contains("密碼錯誤"), "{e}");
        let legacy = dir.join(format!("{code}-legacy.p12"));
        let (ok, out) = openssl_in(
            &dir,
            &format!("{export_args} -legacy -passout pass:legacy-pass -out {code}-legacy.p12"),
        );
        if ok {
            let e = import(&std::fs::read(&legacy).unwrap(), "legacy-pass")
                .err()
                .unwrap();
            assert_eq!(e.code(), "E_CMS_UNSUPPORTED", "{e}");
            assert!(e.to_string().contains("-legacy"), "{e}");
        } else {
            // OpenSSL built without the legacy provider: nothing to compare with.
            assert!(
                out.contains("legacy") || out.contains("unsupported"),
                "{out}"
            );
        }
        assert_eq!(
            export(&pkcs8, &cert, &[], "x", "short")
                .err()
                .unwrap()
                .code(),
            "E_PKI_REQUEST"
        );
        assert!(import(b"not a p12", "x").is_err());
        assert!(import(&p12[..p12.len() / 2], "correct horse").is_err());
    }
}

#[test]
fn passphrase_protected_pkcs8_keys_from_openssl() {
    let dir = fresh_dir("p8");
    let mut ca = p256_ca(&dir, 5, T0);
    for (code, kt) in [
        ("379000000A", KeyType::Rsa2048),
        ("376410000A", KeyType::P256),
    ] {
        let c = &issue_agency(&mut ca, code, kt, T0)[0];
        let enc = dir.join(format!("{code}-enc.pem"));
        let args = [
            s(&c.key_file),
            "-passout",
            "pass:長長的密碼 phrase",
            "-out",
            s(&enc),
        ];
        let (ok, out) = openssl_then("pkcs8 -topk8 -v2 aes-256-cbc -in", &args);
        assert!(ok, "{out}");
        let text = std::fs::read_to_string(&enc).unwrap();
        assert!(text.contains("ENCRYPTED PRIVATE KEY"));
        let cert = cert(c);
        let key = crate::keys::PrivateKey::from_pem_with_password(&text, Some("長長的密碼 phrase"))
            .unwrap();
        assert!(key.matches(&cert));
        let e = crate::keys::PrivateKey::from_pem_with_password(&text, Some("wrong")).unwrap_err();
        assert!(e.to_string().contains("密碼錯誤"), "{e}");
        let e = crate::keys::PrivateKey::from_pem(&text).unwrap_err();
        assert!(e.to_string().contains("--key-password-file"), "{e}");
    }
}
