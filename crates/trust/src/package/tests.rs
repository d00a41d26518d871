//! The sealed package end to end: sealed by one agency, inspected by a center without keys,
//! opened by a recipient (and by stock OpenSSL + tar), and every way it must fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::path::{StaleCrl, spki_sha256};
use crate::pki::{IssuedCert, KeyType, TestCa};
use crate::testutil::{
    SignerKeys, cert, fresh_dir, issue_agency, key, openssl_decrypt, openssl_in, p256_ca,
    trust_store,
};

const T0: i64 = 1_767_580_200; // 2026-01-05 10:30 Asia/Taipei

struct World {
    dir: PathBuf,
    ca: TestCa,
    sender: Vec<IssuedCert>,
    /// 臺北市政府資訊局: in the SW.
    dit: Vec<IssuedCert>,
    /// Not in the SW.
    outsider: Vec<IssuedCert>,
    files: SealFiles,
}

struct SealFiles {
    di: (String, Vec<u8>),
    sw: (String, Vec<u8>),
    attachments: Vec<(String, Vec<u8>)>,
}

fn letter() -> SealFiles {
    let draft: gongwen_doc::draft::Draft =
        toml::from_str(include_str!("../../../../examples/letter.toml")).unwrap();
    let built = draft
        .build(gongwen_doc::RocDate::new(115, 1, 5).unwrap())
        .unwrap();
    let pdf = include_bytes!("../../../../examples/attachments/plan.pdf").to_vec();
    SealFiles {
        di: (
            format!("{}.di", built.base),
            gongwen_doc::write_di(&built.di).unwrap().into_bytes(),
        ),
        sw: (
            format!("{}.sw", built.base),
            gongwen_doc::write_roster(&built.roster)
                .unwrap()
                .into_bytes(),
        ),
        attachments: built
            .attachments
            .iter()
            .map(|a| (a.file.clone(), pdf.clone()))
            .collect(),
    }
}

fn world(name: &str) -> World {
    let dir = fresh_dir(&format!("pkg-{name}"));
    let mut ca = p256_ca(&dir, 10, T0);
    let sender = issue_agency(&mut ca, "379000000A", KeyType::P256, T0);
    let dit = issue_agency(&mut ca, "379130000C", KeyType::Rsa2048, T0);
    let outsider = issue_agency(&mut ca, "376410000A", KeyType::Rsa2048, T0);
    World {
        dir,
        ca,
        sender,
        dit,
        outsider,
        files: letter(),
    }
}

fn store(w: &World, policy: StaleCrl) -> TrustStore {
    trust_store(&w.ca, policy)
}

fn seal_at(w: &World, recipients: &[&IssuedCert], now: i64) -> Result<Vec<u8>, TrustError> {
    let sender = SignerKeys::new(&w.ca, &w.sender[0]);
    let to: Vec<Certificate> = recipients.iter().map(|r| cert(r)).collect();
    seal(&SealInput {
        di: w.files.di.clone(),
        sw: Some(w.files.sw.clone()),
        attachments: w.files.attachments.clone(),
        signer: sender.signer(),
        recipients: &to,
        options: Default::default(),
        now,
    })
    .map(|(bytes, _)| bytes)
}

fn directory(w: &World) -> impl Fn(&str) -> Vec<[u8; 32]> {
    let sender = spki_sha256(&cert(&w.sender[0])).unwrap();
    move |code: &str| {
        if code == "379000000A" {
            vec![sender]
        } else {
            vec![]
        }
    }
}

/// A recipient's decryption key and certificate with its code, lent out as a [`Recipient`].
struct RecipientKeys {
    key: PrivateKey,
    cert: Certificate,
    code: AgencyCode,
}

impl RecipientKeys {
    fn new(who: &IssuedCert, code: &str) -> RecipientKeys {
        let code = AgencyCode::parse(code).unwrap();
        RecipientKeys {
            key: key(who),
            cert: cert(who),
            code,
        }
    }

    fn recipient(&self) -> Recipient<'_> {
        Recipient {
            key: &self.key,
            cert: &self.cert,
            code: &self.code,
        }
    }
}

fn open_as(
    w: &World,
    pkg: &[u8],
    who: &IssuedCert,
    code: &str,
    trust: &TrustStore,
) -> Result<Opened, TrustError> {
    open(
        pkg,
        &RecipientKeys::new(who, code).recipient(),
        trust,
        &directory(w),
    )
}

/// Opened by 臺北市政府資訊局, which is in the SW.
fn open_dit(w: &World, pkg: &[u8], trust: &TrustStore) -> Result<Opened, TrustError> {
    open_as(w, pkg, &w.dit[1], "379130000C", trust)
}

#[test]
fn sealed_inspected_by_a_center_opened_by_the_recipient_and_by_openssl_and_tar() {
    let w = world("ok");
    let pkg = seal_at(&w, &[&w.dit[1], &w.outsider[1]], T0).unwrap();

    // The center: header checked against the body, no key.
    let i = inspect(&pkg).unwrap();
    let h = &i.header;
    // Read in place (what we seal is DER), and the same as a full decode reads.
    let (_, body) = cms::enveloped_apart(&pkg).unwrap().expect("DER package");
    let full = cms::parse_enveloped(&pkg).unwrap();
    assert_eq!(body, sealed_body(&full));
    assert_eq!(header_of(&full, sealed_body(&full)).unwrap().header, *h);
    assert_eq!(h.sender, "379000000A");
    // The id: the sealing second, then random; a later package sorts after.
    assert_eq!(h.id.len(), 32);
    assert!(h.id.starts_with(&format!("{T0:010x}")), "{}", h.id);
    let later = inspect(&seal_at(&w, &[&w.dit[1]], T0 + 1).unwrap()).unwrap();
    assert!(later.header.id > h.id);
    assert_eq!(h.doc_number, "府資字第1150001234號");
    assert_eq!(h.urgency, "速件");
    let codes: Vec<&str> = h.recipients.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(
        codes,
        ["379130000C", "379050000D", "379020000E", "379130000C"]
    );
    assert_eq!(h.recipients[3].unit.as_deref(), Some("3791301"));
    assert_eq!(h.recipients[2].copy, "副本");
    assert_eq!(h.files.len(), 3);
    assert_eq!(
        h.files[2].sha256,
        crate::path::hex(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &w.files.attachments[0].1)
                .as_ref()
        )
    );

    // The recipient: everything checked, files byte-identical.
    let o = open_dit(&w, &pkg, &store(&w, StaleCrl::Refuse)).unwrap();
    assert_eq!(o.files[0], w.files.di);
    assert_eq!(o.files[1], w.files.sw);
    assert_eq!(o.files[2], w.files.attachments[0]);
    assert_eq!(o.trust.chain.len(), 3);
    assert!(o.trust.warnings.is_empty());
    assert_eq!(o.signed_at, T0);

    // Stock OpenSSL and tar open the same file.
    let f = w.dir.join("p.pkg");
    std::fs::write(&f, &pkg).unwrap();
    let inner = w.dir.join("inner.der");
    let (ok, out) = openssl_decrypt(&f, &w.dit[1].cert_file, &w.dit[1].key_file, &inner);
    assert!(ok, "{out}");
    let (ok, out) = openssl_in(
        &w.dir,
        &format!(
            "cms -verify -binary -inform DER -in inner.der -CAfile root.crt -attime {} \
             -out content.tar",
            T0 + 60
        ),
    );
    assert!(ok, "{out}");
    let out = w.dir.join("unpacked");
    std::fs::create_dir_all(&out).unwrap();
    let tar = Command::new("tar")
        .arg("-xf")
        .arg(w.dir.join("content.tar"))
        .arg("-C")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        tar.status.success(),
        "{}",
        String::from_utf8_lossy(&tar.stderr)
    );
    for (name, bytes) in [&w.files.di, &w.files.sw, &w.files.attachments[0]] {
        assert_eq!(&std::fs::read(out.join(name)).unwrap(), bytes, "{name}");
    }
    let manifest: PackageHeader =
        serde_json::from_slice(&std::fs::read(out.join("package.json")).unwrap()).unwrap();
    assert_eq!(manifest.id, h.id);
}

#[test]
fn every_failure_has_its_own_code() {
    let w = world("bad");
    let trust = store(&w, StaleCrl::Refuse);
    let pkg = seal_at(&w, &[&w.dit[1], &w.outsider[1]], T0).unwrap();
    let code = |r: Result<Opened, TrustError>| r.err().map(|e| e.code()).unwrap_or("ok");

    // Encrypted to the outsider too, but the SW does not list it.
    let e = open_as(&w, &pkg, &w.outsider[1], "376410000A", &trust)
        .err()
        .unwrap();
    assert_eq!(e.code(), "E_PKG_CONTENT");
    assert!(e.to_string().contains("不在此公文的交換表單"), "{e}");
    // Not encrypted to the sender's own encryption key.
    assert_eq!(
        code(open_as(&w, &pkg, &w.sender[1], "379000000A", &trust)),
        "E_CMS_NOT_RECIPIENT"
    );
    // The directory does not bind the signer's key to the sender.
    let me = RecipientKeys::new(&w.dit[1], "379130000C");
    let e = open(&pkg, &me.recipient(), &trust, &|_| vec![])
        .err()
        .unwrap();
    assert_eq!(e.code(), "E_PKG_SENDER");
    // Another root: untrusted. No CRL under "refuse": refused; under "warn": a warning.
    let other = p256_ca(&w.dir.join("other"), 5, T0);
    let foreign = TrustStore {
        anchors: cms::load_certs(&std::fs::read(other.root_file()).unwrap()).unwrap(),
        crls: vec![],
        stale_crl: StaleCrl::Refuse,
    };
    assert_eq!(code(open_dit(&w, &pkg, &foreign)), "E_TRUST_UNTRUSTED");
    let no_crl = TrustStore {
        crls: vec![],
        ..store(&w, StaleCrl::Refuse)
    };
    assert_eq!(code(open_dit(&w, &pkg, &no_crl)), "E_TRUST_CRL_STALE");
    let warn = TrustStore {
        crls: vec![],
        ..store(&w, StaleCrl::Warn)
    };
    let o = open_dit(&w, &pkg, &warn).unwrap();
    assert!(
        o.trust.warnings.iter().any(|m| m.contains("廢止清冊")),
        "{:?}",
        o.trust.warnings
    );

    // The ciphertext changed in transit: the center sees it without any key.
    let mut t = pkg.clone();
    let n = t.len();
    t[n / 2] ^= 1;
    assert_eq!(inspect(&t).err().unwrap().code(), "E_PKG_HEADER");
    assert_eq!(code(open_dit(&w, &t, &trust)), "E_PKG_HEADER");
    // Truncated.
    assert_eq!(
        inspect(&pkg[..n - 7]).err().unwrap().code(),
        "E_CMS_MALFORMED"
    );
    // A plain EnvelopedData without the header.
    let plain = cms::encrypt(b"x", &[cert(&w.dit[1])]).unwrap();
    assert_eq!(inspect(&plain).err().unwrap().code(), "E_PKG_HEADER");

    // Signed after the certificate expired.
    let late = seal_at(&w, &[&w.dit[1]], T0 + 40 * 86_400).unwrap();
    assert_eq!(code(open_dit(&w, &late, &trust)), "E_TRUST_EXPIRED");

    // Revoked: a package signed before the revocation still opens; one signed after does not.
    let mut ca = TestCa::open(&w.dir).unwrap();
    ca.revoke(&w.sender[0].record.serial, Some("keyCompromise"), T0 + 100)
        .unwrap();
    let w2 = World { ca, ..w };
    let after = seal_at(&w2, &[&w2.dit[1]], T0 + 200).unwrap();
    let trust = store(&w2, StaleCrl::Refuse);
    assert_eq!(code(open_dit(&w2, &pkg, &trust)), "ok");
    let e = open_dit(&w2, &after, &trust).err().unwrap();
    assert_eq!(e.code(), "E_TRUST_REVOKED");
    assert!(e.to_string().contains("撤銷"), "{e}");
}

#[test]
fn sealing_refuses_what_does_not_fit_the_document() {
    let w = world("seal");
    let sender = SignerKeys::new(&w.ca, &w.sender[0]);
    let to = [cert(&w.dit[1])];
    let base = |files: &SealFiles| SealInput {
        di: files.di.clone(),
        sw: Some(files.sw.clone()),
        attachments: files.attachments.clone(),
        signer: sender.signer(),
        recipients: &to,
        options: Default::default(),
        now: T0,
    };
    let refusal = |files: &SealFiles| seal(&base(files)).err().unwrap();
    let mut missing = letter();
    missing.attachments.clear();
    let e = refusal(&missing);
    assert_eq!(e.code(), "E_PKG_CONTENT");
    assert!(e.to_string().contains("沒有附上"), "{e}");
    let mut extra = letter();
    extra.attachments.push(("evil.exe".into(), vec![1]));
    assert!(refusal(&extra).to_string().contains("evil.exe"));
    let mut renamed = letter();
    renamed.sw.0 = "other.sw".into();
    assert!(refusal(&renamed).to_string().contains("other.sw"));
    let mut broken = letter();
    broken.di.1.truncate(100);
    assert_eq!(refusal(&broken).code(), "E_PKG_CONTENT");
    let mut no_sw = base(&letter());
    no_sw.sw = None;
    assert!(seal(&no_sw).err().unwrap().to_string().contains("交換表單"));
}

mod streaming {
    use super::*;
    use crate::package::stream::{StreamSeal, open_to_dir, seal_to_file};

    fn stream_seal(
        w: &World,
        recipients: &[&IssuedCert],
        out: &Path,
    ) -> Result<PackageHeader, TrustError> {
        let sender = SignerKeys::new(&w.ca, &w.sender[0]);
        let to: Vec<Certificate> = recipients.iter().map(|r| cert(r)).collect();
        let att_dir = w.dir.join("att");
        std::fs::create_dir_all(&att_dir).unwrap();
        let attachments = w
            .files
            .attachments
            .iter()
            .map(|(n, b)| {
                let p = att_dir.join(n);
                std::fs::write(&p, b).unwrap();
                (n.clone(), p)
            })
            .collect();
        seal_to_file(
            &StreamSeal {
                di: w.files.di.clone(),
                sw: Some(w.files.sw.clone()),
                attachments,
                signer: sender.signer(),
                recipients: &to,
                options: Default::default(),
                now: T0,
            },
            out,
        )
    }

    fn stream_open(w: &World, pkg: &Path, out: &Path) -> Result<stream::OpenedFiles, TrustError> {
        open_to_dir(
            pkg,
            &RecipientKeys::new(&w.dit[1], "379130000C").recipient(),
            &store(w, StaleCrl::Refuse),
            &directory(w),
            out,
        )
    }

    #[test]
    fn streamed_and_in_memory_packages_are_the_same_format() {
        let w = world("stream");
        // Streamed seal → in-memory open, stream open, and OpenSSL.
        let pkg = w.dir.join("s.pkg");
        let header = stream_seal(&w, &[&w.dit[1]], &pkg).unwrap();
        let bytes = std::fs::read(&pkg).unwrap();
        assert_eq!(inspect(&bytes).unwrap().header, header);
        let o = open_dit(&w, &bytes, &store(&w, StaleCrl::Refuse)).unwrap();
        assert_eq!(o.files[2], w.files.attachments[0]);
        let out = w.dir.join("out1");
        let opened = stream_open(&w, &pkg, &out).unwrap();
        assert_eq!(opened.header, header);
        for (name, data) in [&w.files.di, &w.files.sw, &w.files.attachments[0]] {
            assert_eq!(&std::fs::read(out.join(name)).unwrap(), data);
        }
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            3,
            "no temporary files left"
        );
        let inner = w.dir.join("inner.der");
        let (ok, msg) = openssl_decrypt(&pkg, &w.dit[1].cert_file, &w.dit[1].key_file, &inner);
        assert!(ok, "{msg}");

        // In-memory seal → stream open.
        let mem = seal_at(&w, &[&w.dit[1]], T0).unwrap();
        let f = w.dir.join("m.pkg");
        std::fs::write(&f, &mem).unwrap();
        stream_open(&w, &f, &w.dir.join("out2")).unwrap();

        // Existing files are not replaced; tampering leaves nothing behind.
        let e = stream_open(&w, &pkg, &out).err().unwrap();
        assert!(e.to_string().contains("不會覆寫"), "{e}");
        for pos in [bytes.len() / 2, bytes.len() - 2000, 300] {
            let mut t = bytes.clone();
            t[pos] ^= 0x20;
            let f = w.dir.join("t.pkg");
            std::fs::write(&f, &t).unwrap();
            let dir = w.dir.join(format!("bad{pos}"));
            let e = stream_open(&w, &f, &dir).err().unwrap();
            assert!(
                [
                    "E_PKG_HEADER",
                    "E_CMS_DECRYPT",
                    "E_CMS_MALFORMED",
                    "E_CMS_SIGNATURE",
                    "E_CMS_NOT_RECIPIENT"
                ]
                .contains(&e.code()),
                "{pos}: {e}"
            );
            let left = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
            assert_eq!(left, 0, "{pos}: files left behind");
        }
        // Truncated and not-a-package.
        let f = w.dir.join("cut.pkg");
        std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
        assert!(stream_open(&w, &f, &w.dir.join("cut")).is_err());
        std::fs::write(&f, b"%PDF-1.7").unwrap();
        assert_eq!(
            stream_open(&w, &f, &w.dir.join("pdf"))
                .err()
                .unwrap()
                .code(),
            "E_CMS_MALFORMED"
        );
    }
}
