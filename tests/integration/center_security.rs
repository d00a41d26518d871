//! Issue 15, the audit of the demo network: security events only from the parties of a
//! package, corrupted stored bodies never served, and revocation without a restart.

use gongwen_center::BlobStore;
use gongwen_client::ClientError;
use gongwen_integration::{A, B, C, agency_tls, code_of, fresh_database, pki, records_of, sealed};

use gongwen_proto::HeaderOptions;
use gongwen_proto::api::SecurityEvent;
use gongwen_testbed::start_center;

use crate::center::center_ab;

/// Anyone registered could file a report against any package (C about A's letter to B),
/// and the center recorded it under that package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_parties_of_a_package_report_on_it() {
    let pki = pki();
    let (center, a, b) = center_ab("secev", BlobStore::Fs).await;
    let c = pki.client(center.addr(), C).unwrap();
    let sent = a.submit("ev-1", sealed(A, &[B], 0)).await.unwrap();
    let report = |id: Option<&str>| SecurityEvent {
        kind: "malware".into(),
        package_id: id.map(String::from),
        detail: "EICAR-Test-Signature".into(),
    };
    // Not a party: refused, and nothing recorded against the package.
    assert_eq!(
        code_of(c.security_event(&report(Some(&sent.id))).await),
        "E_EVENT_NOT_PARTY"
    );
    // A package that does not exist: the same answer (no telling whether it exists).
    assert_eq!(
        code_of(c.security_event(&report(Some("no-such-package"))).await),
        "E_EVENT_NOT_PARTY"
    );
    let recs = records_of(&a, &sent.id).await;
    assert!(!recs.iter().any(|r| r.kind == "security_event"));
    // The recipient and the sender may; a report about no package is anyone's to make.
    b.security_event(&report(Some(&sent.id))).await.unwrap();
    a.security_event(&report(Some(&sent.id))).await.unwrap();
    c.security_event(&report(None)).await.unwrap();
    let recs = records_of(&a, &sent.id).await;
    let actors: Vec<&str> = recs
        .iter()
        .filter(|r| r.kind == "security_event")
        .map(|r| r.actor.as_str())
        .collect();
    assert_eq!(actors.len(), 2, "{actors:?}");
    assert!(actors.contains(&A) && actors.contains(&B));
    center.shutdown().await;
}

/// Flips one byte of package `id`'s stored body, in its pack file, through the filesystem.
async fn flip_stored_byte(center: &gongwen_center::Running, id: &str, at: u64) {
    use std::os::unix::fs::FileExt;
    let row = center
        .app
        .db
        .fetch_optional(
            "SELECT pb.pack, pb.offset_bytes FROM packages p JOIN pack_blobs pb ON pb.sha256 = p.body_sha256 WHERE p.id = $1",
            &[id.into()],
        )
        .await
        .unwrap()
        .expect("the body lies in a pack");
    let path = center
        .app
        .config
        .data_dir
        .join("blobs")
        .join(row.text(0).unwrap());
    let offset = row.i64(1).unwrap() as u64 + at;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let mut b = [0u8; 1];
    f.read_exact_at(&mut b, offset).unwrap();
    b[0] ^= 0x01;
    f.write_all_at(&b, offset).unwrap();
    f.sync_all().unwrap();
}

fn corrupt_count(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("gongwen_body_corrupt_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// A flipped byte in a pack file was served with 200 and the original ETag, whole and in
/// ranges, from the center's memory of recent bodies too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_bodies_are_never_served() {
    let (center, a, b) = center_ab("corrupt", BlobStore::Fs).await;
    // One body read whole into memory, one streamed after a first pass.
    for (key, attachment) in [("small", 200_000), ("large", 1_600_000)] {
        let pkg = sealed(A, &[B], attachment);
        let sent = a.submit(key, pkg.clone()).await.unwrap();
        // Sound bytes are served (and remembered as a recent body).
        assert_eq!(b.fetch(&sent.id).await.unwrap(), pkg);
        assert_eq!(
            b.fetch_range(&sent.id, 10, Some(19)).await.unwrap(),
            pkg[10..20].to_vec()
        );
        let before = corrupt_count(&a.metrics().await.unwrap());

        let at = pkg.len() as u64 / 2;
        flip_stored_byte(&center, &sent.id, at).await;
        // Whole, a range around the flipped byte, and a range far from it.
        assert_eq!(code_of(b.fetch(&sent.id).await), "E_BODY_CORRUPT", "{key}");
        assert_eq!(
            code_of(b.fetch_range(&sent.id, at - 5, Some(at + 5)).await),
            "E_BODY_CORRUPT",
            "{key}"
        );
        assert_eq!(
            code_of(b.fetch_range(&sent.id, 0, Some(99)).await),
            "E_BODY_CORRUPT",
            "{key}"
        );
        // The status is an error, with no body bytes in it.
        let raw = reqwest_raw(center.addr(), &sent.id).await;
        assert_eq!(raw.0, 500);
        assert!(raw.1.contains("E_BODY_CORRUPT"), "{}", raw.1);
        assert!(raw.2.is_none(), "no ETag on the refusal");
        assert!(corrupt_count(&a.metrics().await.unwrap()) >= before + 4);
        // Nothing stored was changed by the reads: flipping back serves the original.
        flip_stored_byte(&center, &sent.id, at).await;
        assert_eq!(b.fetch(&sent.id).await.unwrap(), pkg);
    }
    center.shutdown().await;
}

/// The status, body text and ETag of a download by B.
async fn reqwest_raw(addr: std::net::SocketAddr, id: &str) -> (u16, String, Option<String>) {
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(agency_tls(B))
        .build()
        .unwrap();
    let r = client
        .get(format!("https://{addr}/api/v1/inbox/{id}/body"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let etag = r
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    (status, r.text().await.unwrap(), etag)
}

/// A certificate's serial number in hex, as `gongwen pki revoke` takes it.
macro_rules! serial_of {
    ($cert:expr) => {
        $cert
            .tbs_certificate
            .serial_number
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
    };
}

fn now_s() -> i64 {
    gongwen_center::Clock::default().now_s()
}

/// Does a new TLS connection with `code`'s client certificate get an answer from the API?
async fn connects(
    pki: &gongwen_testbed::Pki,
    addr: std::net::SocketAddr,
    code: &str,
) -> Result<(), ClientError> {
    // A new client each time: a new connection, a new handshake.
    pki.client(addr, code).unwrap().inbox(&[]).await.map(|_| ())
}

fn handshake_refused(r: Result<(), ClientError>) -> bool {
    matches!(r, Err(ClientError::Transport { .. }))
}

/// CRLs were read once at start: a certificate revoked (and the CRL written where the center
/// reads it) kept connecting until a restart, a stale CRL changed nothing, and a revoked
/// signing certificate kept its cached evaluation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_takes_effect_without_a_restart() {
    // A CA of this test's own: revoking in the shared one would touch every other test.
    let mut pki =
        gongwen_testbed::Pki::create(&gongwen_integration::scratch("crl-pki"), &[A, B]).unwrap();
    let center = start_center(&pki, "crl", &fresh_database("crl").await, BlobStore::Fs)
        .await
        .unwrap();
    let addr = center.addr();
    connects(&pki, addr, A).await.unwrap();
    connects(&pki, addr, B).await.unwrap();
    // B's signing certificate is good, and its evaluation is now cached.
    let b = pki.client(addr, B).unwrap();
    b.submit(
        "crl-1",
        pki.seal(B, &[A], 0, HeaderOptions::default()).unwrap(),
    )
    .await
    .unwrap();

    // A stale CRL (past its nextUpdate) refuses under stale_crl = "refuse"; a fresh one
    // is taken up again.
    pki.ca.write_crls(now_s() - 8 * 86_400).unwrap();
    gongwen_integration::until("a stale CRL to refuse", || async {
        handshake_refused(connects(&pki, addr, B).await)
    })
    .await;
    pki.ca.write_crls(now_s()).unwrap();
    gongwen_integration::until("a fresh CRL to be taken up", || async {
        connects(&pki, addr, B).await.is_ok()
    })
    .await;

    // A's TLS certificate revoked and the CRL written: new connections are refused, B's
    // still go through. No restart.
    let a_tls = gongwen_trust::cms::load_certs(&std::fs::read(&pki.agency(A).tls_leaf).unwrap())
        .unwrap()
        .remove(0);
    pki.ca
        .revoke(&serial_of!(a_tls), Some("keyCompromise"), now_s() - 5)
        .unwrap();
    gongwen_integration::until("the revoked TLS certificate to be refused", || async {
        handshake_refused(connects(&pki, addr, A).await)
    })
    .await;
    connects(&pki, addr, B).await.unwrap();

    // B's signing certificate revoked: its packages are refused, cached evaluation or not.
    let serial = serial_of!(pki.agency(B).sign_cert);
    pki.ca.revoke(&serial, None, now_s() - 5).unwrap();
    let mut n = 1;
    gongwen_integration::until("the revoked signing certificate to be refused", || {
        n += 1;
        let key = format!("crl-{n}");
        let pkg = pki.seal(B, &[A], 0, HeaderOptions::default()).unwrap();
        let b = &b;
        async move {
            match b.submit(&key, pkg).await {
                Err(e) => {
                    assert_eq!(e.code(), Some("E_SUBMIT_SIGNER"), "{e}");
                    true
                }
                Ok(_) => false,
            }
        }
    })
    .await;
    center.shutdown().await;
}
