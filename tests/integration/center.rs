//! The exchange center: the life of a copy, idempotency, every refusal, groups, records,
//! automatic suspension and restarts.

use gongwen_center::BlobStore;
use gongwen_center::Running;
use gongwen_center::participants::{self, Standing};
use gongwen_client::{CenterClient, ClientError};
use gongwen_integration::{
    A, B, C, D, confirm, error_records, fresh_database, packages, pki, records_of, scratch, sealed,
};
use gongwen_proto::{CopyStatus, FailReason, HeaderOptions, ResendKind, ReturnReason};
use gongwen_testbed::start_center;
use gongwen_trust::receipt::ReceiptEvent;

use crate::agent_web::center_with;

fn code_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> String {
    match r {
        Err(e) => e.code().unwrap_or("(no code)").to_string() + " " + &e.to_string(),
        Ok(v) => panic!("expected a refusal, got {v:?}"),
    }
}

fn assert_code<T: std::fmt::Debug>(r: Result<T, ClientError>, code: &str) -> String {
    let s = code_of(r);
    assert!(s.starts_with(code), "expected {code}, got {s}");
    s
}

/// A center on the fresh database `name`, every test participant registered, and A's and B's
/// clients.
pub(crate) async fn center_ab(
    name: &str,
    blobs: BlobStore,
) -> (Running, CenterClient, CenterClient) {
    let pki = pki();
    let center = start_center(pki, name, &fresh_database(name).await, blobs)
        .await
        .unwrap();
    let a = pki.client(center.addr(), A).unwrap();
    let b = pki.client(center.addr(), B).unwrap();
    (center, a, b)
}

/// A send that asks for 立即確認.
fn confirm_now() -> HeaderOptions {
    let confirm_now = true;
    HeaderOptions {
        confirm_now,
        ..Default::default()
    }
}

/// B's receipt returning `pkg` for `reason`, in words `text`.
fn returned_by_b(pkg: &[u8], reason: ReturnReason, text: &str) -> Vec<u8> {
    let ev = ReceiptEvent::Returned;
    pki().receipt(B, pkg, ev, Some(reason), Some(text)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn life_of_a_copy() {
    let pki = pki();
    let (center, a, b) = center_ab("life", BlobStore::Fs).await;
    assert_eq!(a.health().await.unwrap().status, "ok");

    // To B, and to an agency no one registered.
    let pkg = sealed(A, &[B, "999999999Z"], 300_000);
    let sent = a.submit("key-1", pkg.clone()).await.unwrap();
    assert!(!sent.replayed);
    assert_eq!(sent.copies.len(), 2);
    let to_b = sent.copies.iter().find(|c| c.recipient == B).unwrap();
    assert_eq!(to_b.status, CopyStatus::Available);
    let lost = sent
        .copies
        .iter()
        .find(|c| c.recipient == "999999999Z")
        .unwrap();
    assert_eq!(lost.status, CopyStatus::Failed);
    assert_eq!(lost.fail_reason, Some(FailReason::UnknownRecipient));
    assert_eq!(sent.aggregate.failed, 1);
    assert_eq!(sent.aggregate.pending, 1);

    // B finds it, downloads it whole and in two resumed pieces.
    let inbox = b.inbox(&[]).await.unwrap();
    assert_eq!(inbox.items.len(), 1);
    let item = &inbox.items[0];
    assert_eq!(item.id, sent.id);
    assert_eq!(item.sender, A);
    assert_eq!(item.body_size, pkg.len() as u64);
    assert!(
        a.inbox(&[]).await.unwrap().items.is_empty(),
        "A received nothing"
    );
    assert_eq!(b.fetch(&sent.id).await.unwrap(), pkg);
    let half = pkg.len() as u64 / 2;
    let mut resumed = b.fetch_range(&sent.id, 0, Some(half - 1)).await.unwrap();
    resumed.extend(b.fetch_range(&sent.id, half, None).await.unwrap());
    assert_eq!(resumed, pkg);
    assert_code(
        b.fetch_range(&sent.id, pkg.len() as u64 + 10, None).await,
        "E_RANGE",
    );
    // Nobody else may fetch it.
    let c = pki.client(center.addr(), C).unwrap();
    assert_code(c.fetch(&sent.id).await, "E_NOT_FOUND");
    assert_code(c.sent(&sent.id).await, "E_NOT_FOUND");

    // Confirming before delivery is out of order.
    let receipt = |ev| pki.receipt(B, &pkg, ev, None, None).unwrap();
    let confirm = receipt(ReceiptEvent::Confirmed);
    assert_code(b.receipt(&sent.id, confirm.clone()).await, "E_COPY_STATE");
    // 送達, then 收文確認; each sent twice (a retry) changes nothing the second time.
    let delivered = receipt(ReceiptEvent::Delivered);
    let v = b.receipt(&sent.id, delivered.clone()).await.unwrap();
    assert_eq!(v.status, CopyStatus::Delivered);
    let delivered_at = v.delivered_at.expect("delivery time");
    let again = b.receipt(&sent.id, delivered).await.unwrap();
    assert_eq!(again.delivered_at, Some(delivered_at));
    assert_eq!(
        b.inbox(&[]).await.unwrap().items.len(),
        0,
        "no longer waiting"
    );
    assert_eq!(
        b.inbox(&[("status", "delivered")])
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let v = b.receipt(&sent.id, confirm.clone()).await.unwrap();
    assert_eq!(v.status, CopyStatus::Confirmed);
    assert_eq!(v.receipt_number.as_deref(), Some("測收字第1150000001號"));
    assert_eq!(v.delivered_at, Some(delivered_at));
    b.receipt(&sent.id, confirm).await.unwrap();
    // A late 送達 after the confirmation changes nothing either.
    let late = receipt(ReceiptEvent::Delivered);
    assert_eq!(
        b.receipt(&sent.id, late).await.unwrap().status,
        CopyStatus::Confirmed
    );
    // A final copy stays final.
    let ret = returned_by_b(&pkg, ReturnReason::Misdelivered, "非本局業務");
    assert_code(b.receipt(&sent.id, ret).await, "E_COPY_STATE");
    // The sender sees it all.
    let view = a.sent(&sent.id).await.unwrap();
    assert_eq!(view.aggregate.confirmed, 1);
    assert_eq!(view.aggregate.failed, 1);
    assert_eq!(view.aggregate.pending, 0);
    assert!(
        a.sent_list(&[("open", "true")])
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(a.sent_list(&[]).await.unwrap().items.len(), 1);

    // The records: every step, with the doc number, as JSON and CSV.
    let recs = records_of(&a, &sent.id).await;
    let kinds: Vec<&str> = recs.iter().map(|r| r.kind.as_str()).collect();
    for k in ["accepted", "available", "failed", "delivered", "confirmed"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    assert!(recs.iter().all(|r| {
        r.doc_number
            .as_deref()
            .is_some_and(|d| d.contains("測試字"))
    }));
    let csv = a
        .records_csv(&[("package_id", sent.id.as_str())])
        .await
        .unwrap();
    assert!(csv.starts_with("\u{feff}編號,時間,民國日期時間"), "{csv}");
    assert!(csv.contains("中華民國") && csv.contains("confirmed"));
    // Errors are records too (E_COPY_STATE above, answered to B).
    assert_code(
        b.records(&[("participant", A)]).await,
        "E_AUTH_NOT_OPERATOR",
    );
    let errs = b.records(&[("kind", "error")]).await.unwrap();
    assert!(errs.items.iter().any(|r| {
        r.detail
            .as_deref()
            .is_some_and(|d| d.contains("E_COPY_STATE"))
    }));
    let metrics = a.metrics().await.unwrap();
    assert!(
        metrics.contains("gongwen_packages_total{kind=\"accepted\"} 1"),
        "{metrics}"
    );
    let api = a.openapi().await.unwrap();
    assert_eq!(api["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    let router = gongwen_center::http::router(center.app.clone());
    gongwen_integration::router_matches_openapi(router, &api).await;
    // Ninety-one days after the last copy became final the body goes, also from what the
    // center remembers of recent packages for their downloads.
    assert_eq!(b.fetch(&sent.id).await.unwrap(), pkg);
    center.app.clock.advance(91 * 86_400_000);
    gongwen_center::sweep(&center.app).await;
    assert_code(b.fetch(&sent.id).await, "E_BODY_PURGED");
    center.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returned_with_a_reason() {
    let pki = pki();
    let (center, a, b) = center_ab("ret", BlobStore::Db).await;
    let pkg = pki.seal(A, &[B], 1000, confirm_now()).unwrap();
    let sent = a.submit("k", pkg.clone()).await.unwrap();
    assert!(sent.confirm_now);
    let item = &b.inbox(&[]).await.unwrap().items[0];
    assert!(
        item.confirm_now,
        "the recipient sees the request for immediate confirmation"
    );
    assert_eq!(
        b.fetch(&sent.id).await.unwrap(),
        pkg,
        "bodies kept in the database"
    );
    let d = pki.receipt(B, &pkg, ReceiptEvent::Delivered, None, None);
    b.receipt(&sent.id, d.unwrap()).await.unwrap();
    let r = returned_by_b(&pkg, ReturnReason::Incomplete, "附件只有第1頁");
    let v = b.receipt(&sent.id, r).await.unwrap();
    assert_eq!(v.status, CopyStatus::Returned);
    assert_eq!(v.return_reason, Some(ReturnReason::Incomplete));
    assert_eq!(v.return_text.as_deref(), Some("附件只有第1頁"));
    let view = a.sent(&sent.id).await.unwrap();
    assert_eq!(view.aggregate.returned, 1);
    // A correction is a new send naming the original.
    let resend = |kind, original| HeaderOptions {
        resend: Some(gongwen_proto::Resend { kind, original }),
        ..Default::default()
    };
    let fixing = resend(ResendKind::AttachmentCorrected, sent.id.clone());
    let fix = pki.seal(A, &[B], 1000, fixing).unwrap();
    let fixed = a.submit("k2", fix).await.unwrap();
    assert_eq!(
        fixed.resend.as_ref().map(|r| r.original.as_str()),
        Some(sent.id.as_str())
    );
    let item = &b.inbox(&[]).await.unwrap().items[0];
    assert_eq!(
        item.resend.as_ref().map(|r| r.kind.label()),
        Some("附件修正")
    );
    // A correction of someone else's package is refused.
    let bogus = pki.seal(
        A,
        &[B],
        0,
        resend(ResendKind::BodyCorrected, "0".repeat(32)),
    );
    let bogus = bogus.unwrap();
    assert_code(a.submit("k3", bogus).await, "E_SUBMIT_RESEND");
    // Ninety-one days after the return, the body goes; the package and its records stay.
    center.app.clock.advance(91 * 86_400_000);
    gongwen_center::sweep(&center.app).await;
    assert_code(b.fetch(&sent.id).await, "E_BODY_PURGED");
    assert_eq!(a.sent(&sent.id).await.unwrap().aggregate.returned, 1);
    let recs = records_of(&a, &sent.id).await;
    assert!(recs.iter().any(|r| r.kind == "body_purged"));
    assert!(recs.iter().any(|r| r.kind == "returned"));
    // The correction is not final yet: its body stays.
    assert!(b.fetch(&fixed.id).await.is_ok());
    center.shutdown().await;
}

/// Chain evaluations are cached by serial number and signature value; a certificate that
/// shares those with a cached one but differs anywhere else is evaluated afresh (and fails).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_evaluation_cache_serves_only_the_same_certificate() {
    let pki = pki();
    let (center, ..) = center_ab("evalcache", BlobStore::Fs).await;
    let (a, b) = (pki.agency(A), pki.agency(B));
    let now = center.app.clock.now_s();
    let e = center
        .app
        .evaluate_signing(&a.sign_cert, &a.chain, now)
        .unwrap();
    assert_eq!(e.chain[0], a.sign_cert);
    // Cached now; the same certificate again is answered from the cache.
    assert!(
        center
            .app
            .evaluate_signing(&a.sign_cert, &a.chain, now)
            .is_ok()
    );
    let mut forged = a.sign_cert.clone();
    forged.tbs_certificate.subject = b.sign_cert.tbs_certificate.subject.clone();
    assert_eq!(
        center
            .app
            .evaluate_signing(&forged, &a.chain, now)
            .err()
            .map(|e| e.code()),
        Some("E_TRUST_UNTRUSTED")
    );
    center.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_never_sends_twice() {
    let (center, a, b) = center_ab("idem", BlobStore::Fs).await;
    let pkg = sealed(A, &[B], 0);
    let first = a.submit("same", pkg.clone()).await.unwrap();
    let second = a.submit("same", pkg.clone()).await.unwrap();
    assert_eq!(first.id, second.id);
    assert!(second.replayed);
    // Concurrent retries too.
    let (x, y) = tokio::join!(a.submit("same", pkg.clone()), a.submit("same", pkg.clone()));
    assert!(x.unwrap().replayed && y.unwrap().replayed);
    assert_eq!(b.inbox(&[]).await.unwrap().items.len(), 1);
    let other = sealed(A, &[B], 0);
    assert_code(a.submit("same", other).await, "E_SUBMIT_KEY_REUSED");
    assert_code(a.submit("another", pkg).await, "E_SUBMIT_REPLAY");
    assert_eq!(b.inbox(&[]).await.unwrap().items.len(), 1);
    center.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_change_nothing() {
    let pki = pki();
    let center = center_with("refusals", &[A, B, C, D], |c| {
        c.limits.max_package_bytes = 200_000;
        c.data_dir = scratch("refusals").join("data");
    })
    .await;
    let addr = center.addr();
    let a = pki.client(addr, A).unwrap();
    let b = pki.client(addr, B).unwrap();
    let pkg = sealed(A, &[B], 0);

    assert_code(
        pki.anonymous(addr).unwrap().inbox(&[]).await,
        "E_AUTH_NO_CERT",
    );
    // A header naming B as sender, signed with A's key.
    let forged = pki.seal_as(A, B, &[C], 0, HeaderOptions::default());
    let mut flipped = pkg.clone();
    let mid = flipped.len() / 3;
    flipped[mid] ^= 0x55;
    let groups = vec!["不存在的群組".into()];
    let options = HeaderOptions {
        groups,
        ..Default::default()
    };
    let grouped = pki.seal(A, &[B], 0, options);
    for (who, key, body, code) in [
        // A package whose sender is not the caller, and the forged one sent by B.
        (&b, "k", pkg.clone(), "E_SUBMIT_SENDER"),
        (&b, "k", forged.unwrap(), "E_SUBMIT_SIGNER"),
        // Truncated and garbage bodies.
        (&a, "k", pkg[..pkg.len() / 2].to_vec(), "E_SUBMIT_TRUNCATED"),
        (&a, "k", b"not a package".to_vec(), "E_SUBMIT_HEADER"),
        (&a, "k", flipped, "E_SUBMIT_HEADER"),
        // Too large, a bad key, a group that does not exist.
        (&a, "k", sealed(A, &[B], 300_000), "E_SUBMIT_TOO_LARGE"),
        (&a, "bad key", pkg.clone(), "E_SUBMIT_NO_KEY"),
        (&a, "k", grouped.unwrap(), "E_SUBMIT_GROUP"),
    ] {
        assert_code(who.submit(key, body).await, code);
    }
    // No key at all; queries that make no sense.
    let no_key = a.submit_body(None, pkg.clone().into(), None).await;
    assert_code(no_key, "E_SUBMIT_NO_KEY");
    assert_code(b.inbox(&[("limit", "many")]).await, "E_BAD_REQUEST");
    assert_code(b.inbox(&[("status", "lost")]).await, "E_BAD_REQUEST");

    // Wrong address: D may only call from 10.9.9.9.
    let app = &center.app;
    participants::remove_ip(&app.db, D, "127.0.0.1")
        .await
        .unwrap();
    participants::add_ip(&app.db, D, "10.9.9.9", None, None)
        .await
        .unwrap();
    let d = pki.client(addr, D).unwrap();
    let s = assert_code(d.inbox(&[]).await, "E_AUTH_IP");
    assert!(s.contains("127.0.0.1"), "{s}");
    // A second address needs someone's approval.
    assert!(
        participants::add_ip(&app.db, D, "127.0.0.1", None, None)
            .await
            .is_err()
    );
    participants::add_ip(
        &app.db,
        D,
        "127.0.0.1",
        Some("資訊室主任"),
        Some("備援線路"),
    )
    .await
    .unwrap();
    d.inbox(&[]).await.unwrap();

    // A suspended participant can neither send nor receive, and is told why.
    let now = app.clock.now_ms();
    participants::set_standing(
        &app.db,
        D,
        Standing::Suspended,
        Some("未依規定更新憑證"),
        "admin",
        now,
    )
    .await
    .unwrap();
    let s = assert_code(d.inbox(&[]).await, "E_AUTH_SUSPENDED");
    assert!(s.contains("未依規定更新憑證"), "{s}");
    let to_d = sealed(A, &[D, B], 0);
    let sent = a.submit("to-d", to_d).await.unwrap();
    let dc = sent.copies.iter().find(|c| c.recipient == D).unwrap();
    assert_eq!(dc.status, CopyStatus::Failed);
    assert_eq!(dc.fail_reason, Some(FailReason::RecipientSuspended));

    // A receipt signed by someone else, or for another package.
    let other = pki
        .receipt(C, &pkg, ReceiptEvent::Delivered, None, None)
        .unwrap();
    assert_code(b.receipt(&sent.id, other).await, "E_RECEIPT_");
    let wrong_pkg = pki
        .receipt(B, &pkg, ReceiptEvent::Delivered, None, None)
        .unwrap();
    assert_code(b.receipt(&sent.id, wrong_pkg).await, "E_RECEIPT_MISMATCH");
    assert_code(
        b.receipt(&sent.id, b"junk".to_vec()).await,
        "E_RECEIPT_INVALID",
    );

    // Only the one accepted package exists; the spool is empty.
    assert_eq!(packages(&center).await, 1);
    assert_eq!(b.inbox(&[]).await.unwrap().items.len(), 1);
    assert_eq!(
        std::fs::read_dir(&app.spool).unwrap().count(),
        0,
        "spool left behind"
    );
    // Every refusal is a record.
    let errors = error_records(&center).await;
    assert!(errors >= 12, "{errors} errors recorded");
    center.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachment_types_are_limited() {
    let center = center_with("types", &[A, B, C, D], |c| {
        c.limits.attachment_types = vec!["odt".into()]
    })
    .await;
    let a = pki().client(center.addr(), A).unwrap();
    let pkg = sealed(A, &[B], 100);
    let s = assert_code(a.submit("k", pkg).await, "E_SUBMIT_FILE_TYPE");
    assert!(s.contains(".pdf") && s.contains("odt"), "{s}");
    center.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_expand_and_are_recorded() {
    let pki = pki();
    let (center, a, _) = center_ab("groups", BlobStore::Fs).await;
    let app = &center.app;
    participants::set_group(
        &app.db,
        participants::SHARED,
        "北市一級機關",
        &[B.into(), C.into()],
        0,
    )
    .await
    .unwrap();
    a.put_group("資訊窗口", vec![B.into()]).await.unwrap();
    let groups = a.groups().await.unwrap();
    assert!(
        groups
            .iter()
            .any(|g| g.name == "北市一級機關" && g.owner == "共用")
    );
    assert!(groups.iter().any(|g| g.name == "資訊窗口" && g.owner == A));
    // B does not see A's own group.
    let b = pki.client(center.addr(), B).unwrap();
    assert!(
        !b.groups()
            .await
            .unwrap()
            .iter()
            .any(|g| g.name == "資訊窗口")
    );

    let opts = HeaderOptions {
        groups: vec!["北市一級機關".into(), "資訊窗口".into()],
        ..Default::default()
    };
    let pkg = pki.seal(A, &[B, C], 0, opts.clone()).unwrap();
    let sent = a.submit("g", pkg).await.unwrap();
    assert_eq!(sent.groups.len(), 2);
    let shared = sent
        .groups
        .iter()
        .find(|g| g.group == "北市一級機關")
        .unwrap();
    assert_eq!(
        shared.members,
        vec![C.to_string(), B.to_string()],
        "sorted by code"
    );
    // The group grew after the package was sealed: refused, re-seal.
    a.put_group("資訊窗口", vec![B.into(), D.into()])
        .await
        .unwrap();
    let stale = pki.seal(A, &[B, C], 0, opts).unwrap();
    let s = assert_code(a.submit("g2", stale).await, "E_SUBMIT_GROUP");
    assert!(s.contains(D), "{s}");
    a.delete_group("資訊窗口").await.unwrap();
    assert_code(a.delete_group("資訊窗口").await, "E_NOT_FOUND");
    // The recorded expansion did not change.
    assert_eq!(a.sent(&sent.id).await.unwrap().groups.len(), 2);
    center.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_certificates_suspend_and_restarts_keep_everything() {
    let pki = pki();
    let db = fresh_database("restart").await;
    let center = start_center(pki, "restart", &db, BlobStore::Fs)
        .await
        .unwrap();
    let a = pki.client(center.addr(), A).unwrap();
    let pkg = sealed(A, &[B], 5000);
    let sent = a.submit("r", pkg.clone()).await.unwrap();
    let config = center.app.config.clone();
    center.shutdown().await;

    // Started again on the same database and folder: everything is there.
    let center = gongwen_center::start(config.clone(), gongwen_center::Clock::default())
        .await
        .unwrap();
    let b = pki.client(center.addr(), B).unwrap();
    assert_eq!(b.inbox(&[]).await.unwrap().items[0].id, sent.id);
    assert_eq!(b.fetch(&sent.id).await.unwrap(), pkg);
    let a = pki.client(center.addr(), A).unwrap();
    assert_code(a.submit("r2", pkg).await, "E_SUBMIT_REPLAY");

    // A year on, the certificates have expired: suspended, with the reason.
    center.app.clock.advance(400 * 86_400_000);
    gongwen_center::sweep(&center.app).await;
    let p = participants::get(&center.app.db, A).await.unwrap().unwrap();
    assert_eq!(p.standing, Standing::Suspended);
    assert!(p.reason.as_deref().unwrap().contains("到期"));
    let s = assert_code(a.inbox(&[]).await, "E_AUTH_SUSPENDED");
    assert!(s.contains("到期"), "{s}");
    center.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duty_lists_follow_the_office_calendar() {
    let pki = pki();
    let (center, a, b) = center_ab("duty", BlobStore::Fs).await;
    let pkg = pki.seal(A, &[B], 0, confirm_now()).unwrap();
    let sent = a.submit("d", pkg.clone()).await.unwrap();
    let mine = a.duties().await.unwrap();
    assert_eq!(mine.sending.len(), 1);
    let item = &mine.sending[0];
    assert_eq!(
        (item.counterpart.as_str(), item.id.as_str()),
        (B, sent.id.as_str())
    );
    assert!(item.confirm_now && !item.overdue);
    // Due at 14:00 (Taipei) of a later day; the recipient's at 10:00.
    assert_eq!((item.due_at / 1000 + 8 * 3600) % 86_400, 14 * 3600);
    assert!(item.due_at > item.since);
    let theirs = b.duties().await.unwrap();
    assert_eq!(theirs.receiving.len(), 1);
    assert_eq!(
        (theirs.receiving[0].due_at / 1000 + 8 * 3600) % 86_400,
        10 * 3600
    );
    assert!(a.duties().await.unwrap().receiving.is_empty());

    // Ten days on, both are overdue.
    center.app.clock.advance(10 * 86_400_000);
    assert!(a.duties().await.unwrap().sending[0].overdue);
    assert!(b.duties().await.unwrap().receiving[0].overdue);
    // Confirmed: off both lists.
    confirm(&b, B, &sent.id, &pkg).await;
    assert!(a.duties().await.unwrap().sending.is_empty());
    assert!(b.duties().await.unwrap().receiving.is_empty());

    // An administrator's calendar import, in the official open-data format.
    let db = &center.app.db;
    let csv = "\u{feff}西元日期,星期,是否放假,備註\r\n20261230,三,2,測試放假日\r\n20260103,六,0,補行上班\r\n";
    gongwen_center::duty::import_calendar(db, csv.as_bytes())
        .await
        .unwrap();
    let cal = gongwen_center::duty::load_calendar(db).await.unwrap();
    let d = |y, m, day| time_date(y, m, day);
    assert!(!cal.is_working_day(d(2026, 12, 30)));
    assert!(cal.is_working_day(d(2026, 1, 3)), "make-up Saturday");
    assert!(
        !cal.is_working_day(d(2026, 2, 17)),
        "the bundled Lunar New Year stays"
    );
    let bad =
        gongwen_center::duty::import_calendar(db, b"date,kind,name\n2026-13-01,holiday,x\n").await;
    assert!(bad.unwrap_err().to_string().contains("第 2 行"));
    center.shutdown().await;
}

fn time_date(y: i32, m: u8, d: u8) -> time::Date {
    time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
}
