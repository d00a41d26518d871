//! What the trust tests share: a test CA and its agencies' keys, and stock OpenSSL as the peer
//! that checks our work.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cms::{Certificate, Signer, load_certs};
use crate::keys::PrivateKey;
use crate::path::{StaleCrl, TrustStore, load_crls};
use crate::pki::{Branch, InitOptions, IssuedCert, KeyType, TestCa};

/// Runs `openssl` with `args` (in `dir` when given): success, and stdout+stderr together.
fn run_openssl(dir: Option<&Path>, args: &[&str]) -> (bool, String) {
    let mut c = Command::new("openssl");
    if let Some(dir) = dir {
        c.current_dir(dir);
    }
    let o = c
        .args(args)
        .output()
        .expect("openssl 未安裝（scripts/test 會安裝）");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

/// Runs `openssl` with `args`: success, and stdout+stderr together.
pub fn openssl(args: &[&str]) -> (bool, String) {
    run_openssl(None, args)
}

/// Runs `openssl` with the words of `line`, then `args` as they are (paths, passwords with
/// spaces).
pub fn openssl_then(line: &str, args: &[&str]) -> (bool, String) {
    let mut all: Vec<&str> = line.split_whitespace().collect();
    all.extend(args);
    run_openssl(None, &all)
}

/// Runs `openssl` in `dir` with the words of `line`: the files are named relative to `dir`,
/// and no argument contains white space.
pub fn openssl_in(dir: &Path, line: &str) -> (bool, String) {
    run_openssl(Some(dir), &line.split_whitespace().collect::<Vec<_>>())
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `file`'s name relative to `dir`, for [`openssl_in`].
pub fn rel<'a>(dir: &Path, file: &'a Path) -> &'a str {
    s(file.strip_prefix(dir).expect("a file in the directory"))
}

/// `gongwen-{name}-{pid}` under the temp directory, removed if a previous run left it.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gongwen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A test CA with P-256 keys whose root is valid for `years`.
pub fn p256_ca(dir: &Path, years: u32, now: i64) -> TestCa {
    let options = InitOptions {
        key: KeyType::P256,
        years,
    };
    TestCa::init(dir, &options, now).expect("test CA")
}

/// `openssl cms -decrypt` of a DER file with a recipient's certificate and key, into `out`.
pub fn openssl_decrypt(input: &Path, cert: &Path, key: &Path, out: &Path) -> (bool, String) {
    let files = [
        s(input),
        "-recip",
        s(cert),
        "-inkey",
        s(key),
        "-out",
        s(out),
    ];
    openssl_then("cms -decrypt -binary -inform DER -in", &files)
}

/// An agency's signing and encryption certificates from the GCA-like intermediate, 30 days.
pub fn issue_agency(ca: &mut TestCa, code: &str, key: KeyType, now: i64) -> Vec<IssuedCert> {
    use crate::pki::{IssueRequest, Subject};
    ca.issue(
        &IssueRequest {
            subject: Subject::Organisation {
                branch: Branch::Gca,
                code: code.into(),
                name: format!("機關{code}"),
            },
            key,
            days: 30,
        },
        now,
    )
    .expect("issue")
}

/// The first certificate of an issued certificate's file.
pub fn cert(c: &IssuedCert) -> Certificate {
    load_certs(&std::fs::read(&c.cert_file).expect("certificate file"))
        .expect("certificate")
        .remove(0)
}

pub fn key(c: &IssuedCert) -> PrivateKey {
    PrivateKey::from_pem(&std::fs::read_to_string(&c.key_file).expect("key file")).expect("key")
}

/// The agency intermediate's certificate: the chain an agency's signer sends along.
pub fn gca_chain(ca: &TestCa) -> Vec<Certificate> {
    load_certs(&std::fs::read(ca.ca_file(Branch::Gca)).expect("CA file")).expect("CA certificate")
}

/// Trust in the test CA's root, with the root's and the agency intermediate's CRLs.
pub fn trust_store(ca: &TestCa, stale_crl: StaleCrl) -> TrustStore {
    let read = |f: PathBuf| std::fs::read(f).expect("CA file");
    TrustStore {
        anchors: load_certs(&read(ca.root_file())).expect("root"),
        crls: ["root", "gca"]
            .iter()
            .flat_map(|c| load_crls(&read(ca.crl_file(c))).expect("CRL"))
            .collect(),
        stale_crl,
    }
}

/// An agency's signing key and certificate with the agency chain, lent out as a [`Signer`].
pub struct SignerKeys {
    pub key: PrivateKey,
    pub cert: Certificate,
    pub chain: Vec<Certificate>,
}

impl SignerKeys {
    pub fn new(ca: &TestCa, signing: &IssuedCert) -> SignerKeys {
        SignerKeys {
            key: key(signing),
            cert: cert(signing),
            chain: gca_chain(ca),
        }
    }

    pub fn signer(&self) -> Signer<'_> {
        Signer {
            key: &self.key,
            cert: &self.cert,
            chain: &self.chain,
        }
    }
}
