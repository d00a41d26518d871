//! Interoperability is the test: stock OpenSSL checks what we write, and we read what it writes
//! (DER and BER, OAEP and PKCS#1 v1.5). Certificates come from the built-in test CA.

use std::path::PathBuf;

use super::*;
use crate::pki::{Branch, InitOptions, IssuedCert, KeyType, TestCa};
use crate::testutil::{
    SignerKeys, cert, fresh_dir, issue_agency, key, openssl_decrypt, openssl_in, rel,
};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A test CA with two agencies (RSA) and one P-256 signer, made once per test.
struct World {
    dir: PathBuf,
    ca: TestCa,
    a: Vec<IssuedCert>,
    b: Vec<IssuedCert>,
    ec: Vec<IssuedCert>,
}

fn world(name: &str) -> World {
    let dir = fresh_dir(&format!("cms-{name}"));
    let mut ca = TestCa::init(&dir, &InitOptions::default(), now()).unwrap();
    let a = issue_agency(&mut ca, "379000000A", KeyType::Rsa2048, now());
    let b = issue_agency(&mut ca, "379130000C", KeyType::Rsa2048, now());
    let ec = issue_agency(&mut ca, "376410000A", KeyType::P256, now());
    World { dir, ca, a, b, ec }
}

/// `openssl` in the world's directory, asserting that it succeeds.
fn openssl_ok(w: &World, line: &str) -> String {
    let (ok, out) = openssl_in(&w.dir, line);
    assert!(ok, "openssl {line}: {out}");
    out
}

/// `openssl cms -sign` of `input` (attached, DER) by `signer` into `out`, with `extra` flags;
/// the files are in the world's directory.
fn openssl_sign(w: &World, input: &str, signer: &IssuedCert, out: &str, extra: &str) {
    let (cert, key) = (
        rel(&w.dir, &signer.cert_file),
        rel(&w.dir, &signer.key_file),
    );
    openssl_ok(
        w,
        &format!(
            "cms -sign -nodetach -outform DER -in {input} -signer {cert} -inkey {key} -out {out} \
             {extra}"
        ),
    );
}

/// Every byte value, and enough of them to span many AES blocks.
fn content() -> Vec<u8> {
    (0..70_000u32).map(|i| (i * 7 % 256) as u8).collect()
}

#[test]
fn openssl_opens_what_we_seal_sign_then_encrypt_to_two_recipients() {
    let w = world("seal");
    let data = content();
    let signed = sign(&data, &SignerKeys::new(&w.ca, &w.a[0]).signer(), now()).unwrap();
    let sealed = encrypt(&signed, &[cert(&w.a[1]), cert(&w.b[1])]).unwrap();
    let pkg = w.dir.join("pkg.der");
    std::fs::write(&pkg, &sealed).unwrap();

    // Recipient b: openssl cms -decrypt, then -verify against the root only.
    let inner = w.dir.join("inner.der");
    let (ok, out) = openssl_decrypt(&pkg, &w.b[1].cert_file, &w.b[1].key_file, &inner);
    assert!(ok, "{out}");
    let plain = w.dir.join("plain.bin");
    openssl_ok(
        &w,
        "cms -verify -binary -inform DER -in inner.der -CAfile root.crt -purpose smimesign \
         -out plain.bin",
    );
    assert_eq!(
        std::fs::read(&plain).unwrap(),
        data,
        "byte-identical content"
    );

    // And we open it ourselves, as recipient a.
    let inner = decrypt(&sealed, &key(&w.a[1]), &cert(&w.a[1])).unwrap();
    let v = verify(&inner).unwrap();
    assert_eq!(v.content, data);
    assert_eq!(v.signer, cert(&w.a[0]));
    assert_eq!(v.certs.len(), 2, "signer and its CA travel along");
    assert!(v.signing_time.is_some_and(|t| (t - now()).abs() < 120));
}

#[test]
fn an_ec_signer_verifies_in_openssl_too() {
    let w = world("ec");
    let signed = sign(b"hello", &SignerKeys::new(&w.ca, &w.ec[0]).signer(), now()).unwrap();
    std::fs::write(w.dir.join("ec.der"), &signed).unwrap();
    let out = openssl_ok(&w, "cms -verify -inform DER -in ec.der -CAfile root.crt");
    assert!(out.contains("hello"), "{out}");
    assert_eq!(verify(&signed).unwrap().content, b"hello");
}

#[test]
fn we_open_what_openssl_seals_der_and_ber_oaep_and_pkcs1() {
    let w = world("openssl");
    let data = content();
    let input = w.dir.join("in.bin");
    std::fs::write(&input, &data).unwrap();
    let chain_file = rel(&w.dir, &w.ca.ca_file(Branch::Gca)).to_string();

    for (i, extra) in ["", "-stream -indef"].iter().enumerate() {
        for (signer, sk) in [(&w.a[0], key(&w.a[0])), (&w.ec[0], key(&w.ec[0]))] {
            let out = format!("signed-{i}.der");
            let flags = format!("-binary -certfile {chain_file} {extra}");
            openssl_sign(&w, "in.bin", signer, &out, &flags);
            let bytes = std::fs::read(w.dir.join(&out)).unwrap();
            let v = verify(&bytes).unwrap_or_else(|e| panic!("{extra:?}: {e}"));
            assert_eq!(v.content, data);
            assert_eq!(v.signer, cert(signer));
            drop(sk);
        }
    }

    let recip = rel(&w.dir, &w.a[1].cert_file);
    for extra in [
        "-aes256",
        "-aes128 -stream -indef",
        "-aes256 -keyopt rsa_padding_mode:oaep",
        "-aes256 -stream -indef -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256",
    ] {
        openssl_ok(
            &w,
            &format!(
                "cms -encrypt -binary -outform DER -in in.bin -out enc.der -recip {recip} {extra}"
            ),
        );
        let bytes = std::fs::read(w.dir.join("enc.der")).unwrap();
        let plain = decrypt(&bytes, &key(&w.a[1]), &cert(&w.a[1]))
            .unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        assert_eq!(plain, data, "{extra:?}");
        // Not for b: a clear "not a recipient".
        let e = decrypt(&bytes, &key(&w.b[1]), &cert(&w.b[1])).unwrap_err();
        assert_eq!(e.code(), "E_CMS_NOT_RECIPIENT");
    }

    // Signed without certificates: the signer cannot be found.
    openssl_sign(&w, "in.bin", &w.a[0], "nocerts.der", "-nocerts");
    let e = verify(&std::fs::read(w.dir.join("nocerts.der")).unwrap()).unwrap_err();
    assert_eq!(e.code(), "E_CMS_SIGNER_MISSING");
}

#[test]
fn tampering_wrong_keys_and_garbage_each_get_their_own_error() {
    let w = world("bad");
    let data = b"\xe4\xb8\xbb\xe6\x97\xa8\xef\xbc\x9a test content 1234567890".repeat(20);
    // Signed with a's key, without a chain, under the certificate `c`.
    let a_key = key(&w.a[0]);
    let signed_as = |c: &IssuedCert| {
        let c = cert(c);
        let signer = Signer {
            key: &a_key,
            cert: &c,
            chain: &[],
        };
        sign(&data, &signer, now()).unwrap()
    };
    let signed = signed_as(&w.a[0]);

    // The content changed after signing.
    let mut t = signed.clone();
    let at = t.windows(12).position(|x| x == b"test content").unwrap();
    t[at] ^= 1;
    let e = verify(&t).unwrap_err();
    assert_eq!(e.code(), "E_CMS_SIGNATURE");
    assert!(e.to_string().contains("摘要不符"), "{e}");
    // The signature value changed (it is the last 256 bytes of the structure).
    let mut t = signed.clone();
    let n = t.len();
    t[n - 10] ^= 0x40;
    let e = verify(&t).unwrap_err();
    assert_eq!(e.code(), "E_CMS_SIGNATURE");
    // Signed by a's key but claiming b's certificate.
    let forged = signed_as(&w.b[0]);
    assert_eq!(verify(&forged).unwrap_err().code(), "E_CMS_SIGNATURE");

    // Sealed to a, opened by b; opened by a with the wrong key.
    let sealed = encrypt(&signed, &[cert(&w.a[1])]).unwrap();
    assert_eq!(
        decrypt(&sealed, &key(&w.b[1]), &cert(&w.b[1]))
            .unwrap_err()
            .code(),
        "E_CMS_NOT_RECIPIENT"
    );
    assert_eq!(
        decrypt(&sealed, &key(&w.b[1]), &cert(&w.a[1]))
            .unwrap_err()
            .code(),
        "E_CMS_DECRYPT"
    );
    // Tampered ciphertext: never the original content back; the inner signature catches what
    // unauthenticated CBC lets through.
    for pos in [sealed.len() - 1, sealed.len() - 40, sealed.len() - 300] {
        let mut t = sealed.clone();
        t[pos] ^= 0x55;
        let opened = decrypt(&t, &key(&w.a[1]), &cert(&w.a[1])).and_then(|inner| verify(&inner));
        let e = opened.unwrap_err();
        assert!(
            ["E_CMS_DECRYPT", "E_CMS_MALFORMED", "E_CMS_SIGNATURE"].contains(&e.code()),
            "{e}"
        );
    }

    // Truncated anywhere, empty, not CMS, the wrong CMS type.
    for cut in [0, 1, 10, sealed.len() / 2, sealed.len() - 1] {
        let e = decrypt(&sealed[..cut], &key(&w.a[1]), &cert(&w.a[1])).unwrap_err();
        assert_eq!(e.code(), "E_CMS_MALFORMED", "cut at {cut}");
    }
    assert_eq!(verify(b"%PDF-1.7").unwrap_err().code(), "E_CMS_MALFORMED");
    let e = verify(&sealed).unwrap_err();
    assert!(e.to_string().contains("SignedData"), "{e}");
    let e = encrypt(&data, &[cert(&w.ec[1])]).unwrap_err();
    assert_eq!(e.code(), "E_CMS_UNSUPPORTED");
    assert_eq!(
        encrypt(&data, &[]).unwrap_err().code(),
        "E_CMS_NO_RECIPIENTS"
    );
    assert!(PrivateKey::from_pem("not a key").is_err());
    assert!(
        format!("{:?}", key(&w.a[0])) == "PrivateKey(RSA)",
        "keys never print"
    );
}

#[test]
fn openssl_sign_then_encrypt_nested_opens_here() {
    let w = world("nested");
    let data = content();
    let input = w.dir.join("in.bin");
    std::fs::write(&input, &data).unwrap();
    let flags = "-binary -stream -indef";
    openssl_sign(&w, "in.bin", &w.a[0], "signed.der", flags);
    let recip = rel(&w.dir, &w.b[1].cert_file);
    openssl_ok(
        &w,
        &format!(
            "cms -encrypt -binary -aes256 -stream -indef -inform DER -outform DER -in signed.der \
             -out sealed.der -recip {recip} -keyopt rsa_padding_mode:oaep"
        ),
    );
    let sealed = std::fs::read(w.dir.join("sealed.der")).unwrap();
    let inner = decrypt(&sealed, &key(&w.b[1]), &cert(&w.b[1])).unwrap();
    let v = verify(&inner).unwrap();
    assert_eq!(v.content, data);
    assert_eq!(v.signer, cert(&w.a[0]));
}
