//! What the trust tests share: stock OpenSSL as the peer that checks our work.

use std::path::Path;
use std::process::Command;

/// Runs `openssl` with `args`: success, and stdout+stderr together.
pub fn openssl(args: &[&str]) -> (bool, String) {
    let o = Command::new("openssl")
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

pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `openssl cms -decrypt` of a DER file with a recipient's certificate and key, into `out`.
pub fn openssl_decrypt(input: &Path, cert: &Path, key: &Path, out: &Path) -> (bool, String) {
    openssl(&[
        "cms",
        "-decrypt",
        "-binary",
        "-inform",
        "DER",
        "-in",
        s(input),
        "-recip",
        s(cert),
        "-inkey",
        s(key),
        "-out",
        s(out),
    ])
}

/// An agency's signing and encryption certificates from the GCA-like intermediate, 30 days.
pub fn issue_agency(
    ca: &mut crate::pki::TestCa,
    code: &str,
    key: crate::pki::KeyType,
    now: i64,
) -> Vec<crate::pki::IssuedCert> {
    use crate::pki::{Branch, IssueRequest, Subject};
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
