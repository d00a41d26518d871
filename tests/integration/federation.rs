//! Two centers relaying to each other over mutual TLS (the link cut and restored, and given
//! up on), webhooks, and two center processes sharing one database.

use std::time::Duration;

use gongwen_center::BlobStore;
use gongwen_center::config::{CenterConfig, PeerConfig};
use gongwen_center::participants;
use gongwen_center::{Clock, Running};
use gongwen_client::CenterClient;
use gongwen_integration::{A, B, C, confirm, fresh_database, hex, pki, records_of, sealed, until};
use gongwen_proto::api::CopyView;
use gongwen_proto::{CopyStatus, FailReason};
use gongwen_testbed::Pki;
use gongwen_trust::receipt::ReceiptEvent;

use crate::agent_api::{Hooks, all_signed, webhook_sink};

/// Two distinct free ports (both held until both are known).
pub(crate) fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

/// Center `me` (client certificate `mine`) that relays to `other` at `port`.
pub(crate) fn federated(
    pki: &Pki,
    name: &str,
    db: &str,
    port: u16,
    mine: usize,
    other: (&str, u16, usize),
) -> CenterConfig {
    let mut c = pki.center_config(name, db, BlobStore::Fs);
    c.id = name.into();
    c.listen = format!("127.0.0.1:{port}");
    c.federation.client_cert = Some(pki.center_clients[mine].0.clone());
    c.federation.client_key = Some(pki.center_clients[mine].1.clone());
    c.federation.retry_first_ms = 100;
    c.federation.retry_max_ms = 400;
    c.federation.peers = vec![PeerConfig {
        id: other.0.into(),
        url: format!("https://127.0.0.1:{}", other.1),
        cert: pki.center_clients[other.2].2.clone(),
    }];
    c
}

async fn status_of(c: &CenterClient, id: &str, to: &str) -> CopyStatus {
    c.sent(id)
        .await
        .unwrap()
        .copies
        .iter()
        .find(|x| x.recipient == to)
        .unwrap()
        .status
}

/// Waits until the copy of `id` to B is `want`.
async fn until_b_is(want: CopyStatus, c: &CenterClient, id: &str, what: &str) {
    until(what, || async { status_of(c, id, B).await == want }).await;
}

/// B (at Y) confirms package `id`, sealed as `pkg`; the confirmation travels back to A's
/// center with B's 收文字號. The copy as A sees it.
async fn confirmed_through_y(a: &CenterClient, b: &CenterClient, id: &str, pkg: &[u8]) -> CopyView {
    confirm(b, B, id, pkg).await;
    until_b_is(
        CopyStatus::Confirmed,
        a,
        id,
        "the confirmation to travel back",
    )
    .await;
    let v = a.sent(id).await.unwrap().copies.remove(0);
    assert_eq!(v.receipt_number.as_deref(), Some("測收字第1150000001號"));
    v
}

/// Center X (`names[0]`, known to Y as `center-x`) with `at_x`, and center Y (`names[1]`,
/// known to X as `center-y`) with `at_y`, on fresh databases `dbs`; each knows the other's
/// participants. Returns X, Y and Y's configuration (to start it again).
pub(crate) async fn linked(
    names: [&str; 2],
    dbs: [&str; 2],
    at_x: &[&str],
    at_y: &[&str],
) -> (Running, Running, CenterConfig) {
    let pki = pki();
    let (px, py) = free_ports();
    let (dbx, dby) = (fresh_database(dbs[0]).await, fresh_database(dbs[1]).await);
    let cx = federated(pki, names[0], &dbx, px, 0, ("center-y", py, 1));
    let cy = federated(pki, names[1], &dby, py, 1, ("center-x", px, 0));
    let x = gongwen_center::start(cx, Clock::default()).await.unwrap();
    let y = gongwen_center::start(cy.clone(), Clock::default());
    let y = y.await.unwrap();
    for (center, home, there, other) in [(&x, at_x, at_y, "center-y"), (&y, at_y, at_x, "center-x")]
    {
        pki.register(&center.app, home).await.unwrap();
        for code in there {
            pki.register_remote(&center.app, code, other).await.unwrap();
        }
    }
    (x, y, cy)
}

/// Centers linked with A at X and B at Y: X, Y, Y's configuration, A's client at X and B's
/// at Y.
async fn a_and_b(
    names: [&str; 2],
    dbs: [&str; 2],
    at_x: &[&str],
) -> (Running, Running, CenterConfig, CenterClient, CenterClient) {
    let (x, y, cy) = linked(names, dbs, at_x, &[B]).await;
    let (a, b) = (pki().client(x.addr(), A), pki().client(y.addr(), B));
    (x, y, cy, a.unwrap(), b.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relayed_between_centers_even_when_the_link_is_cut() {
    // A lives at X, B at Y; each center knows the other's participant.
    let (x, y, cy, a, b) = a_and_b(["center-x", "center-y"], ["fedx", "fedy"], &[A]).await;

    let pkg = sealed(A, &[B], 2000);
    let sent = a.submit("f1", pkg.clone()).await.unwrap();
    until_b_is(CopyStatus::Available, &a, &sent.id, "the copy to reach Y").await;
    let recs = records_of(&a, &sent.id).await;
    assert!(
        recs.iter()
            .any(|r| r.kind == "relayed" && r.actor == "center-y")
    );
    assert_eq!(b.inbox(&[]).await.unwrap().items[0].id, sent.id);
    assert_eq!(b.fetch(&sent.id).await.unwrap(), pkg);
    confirmed_through_y(&a, &b, &sent.id, &pkg).await;
    // The signed receipt travelled with it and is kept at the origin.
    let with_receipt = x
        .app
        .db
        .fetch_all("SELECT receipt FROM events WHERE package_id = $1 AND kind = 'confirmed' AND receipt IS NOT NULL", &[sent.id.as_str().into()])
        .await
        .unwrap();
    assert_eq!(with_receipt.len(), 1);

    // Only a configured peer may relay: an agency's certificate is refused.
    let forged = a.relay_package(&[B.to_string()], pkg.clone()).await;
    assert_eq!(forged.unwrap_err().code(), Some("E_AUTH_NOT_PEER"));

    // Cut the link: Y stops. The copy waits, retried, and goes once Y is back.
    y.shutdown().await;
    let pkg2 = sealed(A, &[B], 0);
    let sent2 = a.submit("f2", pkg2).await.unwrap();
    until("a failed attempt", || async {
        let rows = x
            .app
            .db
            .fetch_all(
                "SELECT attempts, last_error FROM outbox WHERE kind = 'relay'",
                &[],
            )
            .await
            .unwrap();
        rows.iter().any(|r| r.i64(0).unwrap() >= 1)
    })
    .await;
    assert_eq!(status_of(&a, &sent2.id, B).await, CopyStatus::Accepted);
    let y = gongwen_center::start(cy.clone(), Clock::default())
        .await
        .unwrap();
    until_b_is(
        CopyStatus::Available,
        &a,
        &sent2.id,
        "the relay after the link came back",
    )
    .await;
    assert_eq!(b.inbox(&[]).await.unwrap().items.len(), 1, "delivered once");

    // Y gone for longer than the retry period: the copy fails with that reason.
    y.shutdown().await;
    let pkg3 = sealed(A, &[B], 0);
    let sent3 = a.submit("f3", pkg3).await.unwrap();
    x.app.clock.advance(4 * 86_400_000);
    until_b_is(CopyStatus::Failed, &a, &sent3.id, "the relay to give up").await;
    let v = a.sent(&sent3.id).await.unwrap();
    assert_eq!(v.copies[0].fail_reason, Some(FailReason::RelayGaveUp));
    x.shutdown().await;
}

fn statuses(h: &Hooks, pkg: &str, to: &str) -> Vec<CopyStatus> {
    h.lock()
        .unwrap()
        .iter()
        .map(|(_, b)| serde_json::from_slice::<gongwen_proto::api::Notification>(b).unwrap())
        .filter(|n| n.package_id == pkg && n.recipient == to)
        .map(|n| n.status)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_and_two_centers_share_one_database() {
    let pki = pki();
    let db = fresh_database("shared").await;
    let start = |name: &str| {
        let mut c = pki.center_config(name, &db, BlobStore::Db);
        c.id = "center-shared".into();
        c
    };
    let one: Running = gongwen_center::start(start("one"), Clock::default())
        .await
        .unwrap();
    let two: Running = gongwen_center::start(start("two"), Clock::default())
        .await
        .unwrap();
    pki.register_all(&one.app).await.unwrap();
    let (url, hooks) = webhook_sink().await;
    let secret = "這是至少十六個字元的測試金鑰";
    for code in [A, B] {
        participants::set_webhook(&one.app.db, code, Some(&url), Some(secret))
            .await
            .unwrap();
    }
    // Refused: an ftp:// address, and a secret that is too short.
    for (url, secret) in [("ftp://x", secret), (url.as_str(), "short")] {
        let set = participants::set_webhook(&one.app.db, C, Some(url), Some(secret)).await;
        assert!(set.is_err(), "{url} {secret}");
    }

    // Submitted through one process, received through the other.
    let a = pki.client(one.addr(), A).unwrap();
    let b = pki.client(two.addr(), B).unwrap();
    let pkg = sealed(A, &[B, C], 500);
    let sent = a.submit("w", pkg.clone()).await.unwrap();
    assert_eq!(
        b.fetch(&sent.id).await.unwrap(),
        pkg,
        "the body is in the shared database"
    );
    confirm(&b, B, &sent.id, &pkg).await;
    // A hears of B's copy: available (twice: to A as sender and to B as recipient), delivered, confirmed.
    until("the webhooks", || async {
        statuses(&hooks, &sent.id, B).contains(&CopyStatus::Confirmed)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut got = statuses(&hooks, &sent.id, B);
    got.sort();
    assert_eq!(
        got,
        vec![
            CopyStatus::Available,
            CopyStatus::Available,
            CopyStatus::Delivered,
            CopyStatus::Confirmed
        ],
        "each notification exactly once, though two workers share the queue"
    );
    // C has no webhook: none for C as recipient, but A hears of C's copy.
    assert_eq!(statuses(&hooks, &sent.id, C), vec![CopyStatus::Available]);
    all_signed(&hooks, secret);
    let left = one
        .app
        .db
        .fetch_all("SELECT id FROM outbox", &[])
        .await
        .unwrap();
    assert!(left.is_empty(), "{} rows left in the outbox", left.len());
    one.shutdown().await;
    two.shutdown().await;
}

/// A client of `addr` holding center `which`'s TLS client certificate: what a peer center
/// (or whoever runs it) can send.
fn as_peer_center(pki: &Pki, addr: std::net::SocketAddr, which: usize) -> CenterClient {
    let (chain, key, _) = &pki.center_clients[which];
    let tls = gongwen_client::tls_config(
        &std::fs::read(pki.ca.root_file()).unwrap(),
        Some((&std::fs::read(chain).unwrap(), &std::fs::read(key).unwrap())),
    )
    .unwrap();
    CenterClient::new(&format!("https://{addr}"), tls).unwrap()
}

/// A receipt naming `recipient` but signed with `signer`'s key.
fn receipt_signed_by(
    pki: &Pki,
    signer: &str,
    recipient: &str,
    pkg: &[u8],
    event: ReceiptEvent,
) -> Vec<u8> {
    use gongwen_trust::cms::Signer;
    use gongwen_trust::receipt::{ReceiptRequest, issue};
    let header = gongwen_trust::package::inspect(pkg).unwrap().header;
    let a = pki.agency(signer);
    issue(
        &ReceiptRequest {
            header: &header,
            event,
            recipient,
            reason: None,
            text: None,
            receipt_number: (event == ReceiptEvent::Confirmed)
                .then(|| "偽收字第1120000001號".to_string()),
            now: Clock::default().now_s(),
        },
        &Signer {
            key: &a.sign_key,
            cert: &a.sign_cert,
            chain: &a.chain,
        },
    )
    .unwrap()
    .0
}

/// Issue 15: a federated center reported 收文確認 (with an invented 收文字號 and a 2023 time),
/// 送達 or 退文 for a copy whose recipient never signed anything, and the sender saw it.
/// Final statuses across centers now count only with the recipient's signed receipt, and what
/// is recorded comes from that receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_center_cannot_forge_final_statuses() {
    let pki = pki();
    let (x, y, _, a, b) = a_and_b(["forge-x", "forge-y"], ["forgex", "forgey"], &[A, C]).await;
    let pkg = sealed(A, &[B], 0);
    let sent = a.submit("forge1", pkg.clone()).await.unwrap();
    until_b_is(CopyStatus::Available, &a, &sent.id, "the copy to reach Y").await;
    let before = a.sent(&sent.id).await.unwrap().copies[0].clone();

    // Whoever holds center-y's TLS key talks to X directly.
    let mallory = as_peer_center(pki, x.addr(), 1);
    let forged = |status: CopyStatus, receipt: Option<Vec<u8>>| {
        let mut copy = before.clone();
        copy.status = status;
        copy.status_at = 1_672_531_200_000; // 2023-01-01
        copy.delivered_at = Some(1_672_531_200_000);
        match status {
            CopyStatus::Confirmed => copy.receipt_number = Some("偽收字第1120000001號".into()),
            CopyStatus::Returned => {
                copy.return_reason = Some(gongwen_proto::ReturnReason::Other);
                copy.return_text = Some("偽造的退文".into());
            }
            _ => {}
        }
        gongwen_proto::api::StatusUpdate {
            package_id: sent.id.clone(),
            copy,
            receipt_hex: receipt.map(|r| hex(&r)),
        }
    };
    let unchanged = || async {
        let now = a.sent(&sent.id).await.unwrap().copies[0].clone();
        assert_eq!(now, before, "the sender's view of the copy must not change");
    };

    // B's own receipt, and the same with its 收文字號 altered after signing.
    let genuine = pki
        .receipt(B, &pkg, ReceiptEvent::Confirmed, None, None)
        .unwrap();
    let mut altered = genuine.clone();
    let from = "1150000001".as_bytes();
    let at = altered
        .windows(from.len())
        .position(|w| w == from)
        .expect("number in receipt");
    altered[at..at + from.len()].copy_from_slice(b"1120000009");
    // A receipt naming B but signed by C (a participant, with a valid certificate).
    let by_c = |ev| Some(receipt_signed_by(pki, C, B, &pkg, ev));
    use CopyStatus::{Confirmed, Delivered, Returned};
    use ReceiptEvent as E;
    for (s, receipt, code) in [
        // No receipt at all.
        (Delivered, None, "E_RELAY_NO_RECEIPT"),
        (Confirmed, None, "E_RELAY_NO_RECEIPT"),
        (Returned, None, "E_RELAY_NO_RECEIPT"),
        (Delivered, by_c(E::Delivered), "E_RECEIPT_INVALID"),
        (Confirmed, by_c(E::Confirmed), "E_RECEIPT_INVALID"),
        (Confirmed, Some(altered), "E_RECEIPT_INVALID"),
        // B's genuine receipt, but the peer claims another 收文字號, or another event.
        (Confirmed, Some(genuine.clone()), "E_RECEIPT_MISMATCH"),
        (Returned, Some(genuine), "E_RECEIPT_MISMATCH"),
    ] {
        let e = mallory.relay_status(&forged(s, receipt)).await.unwrap_err();
        assert_eq!(e.code(), Some(code), "{s:?}: {e}");
        unchanged().await;
    }
    // B's genuine 送達 receipt with the peer's 2023 time: the receipt's time is recorded.
    let delivered = pki
        .receipt(B, &pkg, ReceiptEvent::Delivered, None, None)
        .unwrap();
    let mut u = forged(CopyStatus::Delivered, Some(delivered));
    u.copy.receipt_number = None;
    mallory.relay_status(&u).await.unwrap();
    let v = a.sent(&sent.id).await.unwrap().copies[0].clone();
    assert_eq!(v.status, CopyStatus::Delivered);
    assert!(
        v.status_at > 1_700_000_000_000,
        "the receipt's time, not the peer's: {}",
        v.status_at
    );
    assert_eq!(v.delivered_at, Some(v.status_at));
    let recs = records_of(&a, &sent.id).await;
    assert!(
        !recs
            .iter()
            .any(|r| r.kind == "confirmed" || r.kind == "returned")
    );

    // The honest path still carries B's receipts back through Y.
    let v = confirmed_through_y(&a, &b, &sent.id, &pkg).await;
    assert!(v.status_at > 1_700_000_000_000);
    x.shutdown().await;
    y.shutdown().await;
}
