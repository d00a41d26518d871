//! Centers run from the directory's signed snapshot: two centers that know their participants
//! and each other only from the directory exchange a document; an IP change and a suspension
//! reach them; they keep working with the directory stopped, stop when the snapshot expires,
//! and refuse a snapshot signed by anyone else. And the address book's import and search.

use gongwen_center::BlobStore;
use gongwen_center::config::{CenterConfig, DirectorySource};
use gongwen_center::{Clock, Running};
use gongwen_directory::config::{DirectoryTls, SigningConfig, SnapshotConfig};
use gongwen_directory::registry::{self, Center, ParticipantInput};
use gongwen_directory::{DirectoryConfig, addressbook};
use gongwen_integration::{
    A, B, C, D, agency_tls, code_of, confirm, fresh_database, pki, sealed, until,
};
use gongwen_proto::directory::{ApplicationForm, CenterKind, ParticipantKind, ParticipantState};
use gongwen_proto::{CopyStatus, FailReason};

use crate::agent_web::{Page, csrf_of, send};

pub(crate) const ADMIN: &str = "admin:測試";

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn directory_config(db: &str, port: u16) -> DirectoryConfig {
    let pki = pki();
    DirectoryConfig {
        listen: format!("127.0.0.1:{port}"),
        database_url: db.into(),
        tls: DirectoryTls {
            cert: pki.server_cert.clone(),
            key: pki.server_key.clone(),
            client_roots: vec![pki.ca.root_file()],
        },
        signing: SigningConfig {
            cert: pki.directory_signer.0.clone(),
            key: pki.directory_signer.1.display().to_string(),
        },
        trust_anchors: vec![pki.ca.root_file()],
        crls: vec![pki.ca.dir().join("crl")],
        cert_grace_days: 90,
        cert_warn_days: vec![60, 30, 7],
        log_retention_days: 3650,
        metrics_allow: vec!["127.0.0.1".into(), "::1".into()],
        usage_rules: "公文電子交換系統使用規範（115.01 版）".into(),
        snapshot: SnapshotConfig {
            valid_hours: 24,
            build_every_s: 1,
            keep: 5,
        },
    }
}

/// A directory on a fresh database and a free port of 127.0.0.1.
pub(crate) async fn start_directory(name: &str) -> (gongwen_directory::Running, u16) {
    let pd = free_port();
    let dir = gongwen_directory::start(
        directory_config(&fresh_database(name).await, pd),
        Clock::default(),
    )
    .await
    .unwrap();
    (dir, pd)
}

/// Center `name` with client certificate `mine`, following the directory at `dir_port`;
/// no peers and no participants of its own.
fn center_config(name: &str, db: &str, port: u16, mine: usize, dir_port: u16) -> CenterConfig {
    let pki = pki();
    let mut c = pki.center_config(name, db, BlobStore::Fs);
    c.listen = format!("127.0.0.1:{port}");
    c.federation.client_cert = Some(pki.center_clients[mine].0.clone());
    c.federation.client_key = Some(pki.center_clients[mine].1.clone());
    c.federation.retry_first_ms = 100;
    c.federation.retry_max_ms = 400;
    c.directory = Some(DirectorySource {
        url: format!("https://127.0.0.1:{dir_port}"),
        signer: pki.directory_signer.0.clone(),
        refresh_s: 1,
    });
    c
}

/// Center `name` started from `center_config` on `clock`.
async fn follow(name: &str, db: &str, port: u16, mine: usize, dir: u16, clock: Clock) -> Running {
    let cfg = center_config(name, db, port, mine, dir);
    gongwen_center::start(cfg, clock).await.unwrap()
}

/// What the directory's enforcement does at `at`: 90 days' grace, warnings `warn` days
/// before a certificate expires.
async fn enforce(db: &gongwen_store::Db, at: i64, warn: &[u32]) -> Vec<String> {
    let done = gongwen_directory::improvements::enforce(db, at, 90, warn).await;
    done.unwrap()
}

/// The state the directory holds for `code`.
async fn state_of(db: &gongwen_store::Db, code: &str) -> ParticipantState {
    registry::require(db, code).await.unwrap().state
}

fn participant(code: &str, name: &str, center: &str) -> ParticipantInput {
    ParticipantInput {
        code: code.into(),
        name: name.into(),
        kind: ParticipantKind::Agency,
        ubn: None,
        authority: None,
        center: center.into(),
        receive: true,
        send: true,
        operator: false,
        contact_name: None,
        contact_phone: None,
        contact_email: None,
    }
}

/// Registers center `id` at `port`, known by test center client certificate `client`.
pub(crate) async fn register_center(
    db: &gongwen_store::Db,
    id: &str,
    port: u16,
    client: Option<usize>,
) {
    let tls_key = client
        .map(|i| registry::key_of(&std::fs::read(&pki().center_clients[i].2).unwrap()).unwrap());
    let c = Center {
        id: id.into(),
        name: format!("交換中心{id}"),
        kind: CenterKind::Shared,
        url: format!("https://127.0.0.1:{port}"),
        tls_key,
        operator: "國家發展委員會檔案管理局".into(),
    };
    registry::put_center(db, &c, ADMIN, 1_767_580_200_000)
        .await
        .unwrap();
}

/// Registers test agency `code` at `center` directly (as an administrator): its three
/// certificates and 127.0.0.1.
async fn register_agency(db: &gongwen_store::Db, code: &str, name: &str, center: &str, now: i64) {
    registry::add(db, &participant(code, name, center), ADMIN, now)
        .await
        .unwrap();
    let a = pki().agency(code);
    for f in [&a.sign_file, &a.enc_file, &a.tls_leaf] {
        registry::add_certs(db, code, &std::fs::read(f).unwrap(), None, ADMIN, now)
            .await
            .unwrap();
    }
    registry::add_ip(db, code, "127.0.0.1", None, ADMIN, now)
        .await
        .unwrap();
}

/// The code of the error a participant's call gets now, `None` if it succeeds.
async fn refusal(c: &gongwen_client::CenterClient) -> Option<String> {
    c.inbox(&[])
        .await
        .err()
        .and_then(|e| e.code().map(String::from))
}

/// Every route of the directory's API is in its OpenAPI document, and the reverse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_documents_every_route() {
    let (dir, _) = start_directory("dir_openapi").await;
    let doc = serde_json::from_str(&gongwen_directory::openapi::DOCUMENT).unwrap();
    let router = gongwen_directory::http::router(dir.app.clone());
    gongwen_integration::router_matches_openapi(router, &doc).await;
    dir.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn centers_learn_everything_from_the_signed_snapshot() {
    let pki = pki();
    let (pd, px, py) = (free_port(), free_port(), free_port());
    let ddb = fresh_database("dirnet_dir").await;
    let dir = gongwen_directory::start(directory_config(&ddb, pd), Clock::default())
        .await
        .unwrap();
    let db = dir.app.db.clone();
    let now = dir.app.clock.now_ms();
    register_center(&db, "center-x", px, Some(0)).await;
    register_center(&db, "center-y", py, Some(1)).await;
    for (code, center) in [(A, "center-x"), (B, "center-y")] {
        register_agency(&db, code, &format!("臺北市測試機關{code}"), center, now).await;
    }
    // A second registration of a code, or of a key someone else holds, changes nothing.
    let dup = registry::add(&db, &participant(A, "重複", "center-x"), ADMIN, now).await;
    assert_eq!(dup.unwrap_err().code.as_str(), "E_DIR_DUPLICATE");
    let stolen = registry::add_certs(
        &db,
        B,
        &std::fs::read(&pki.agency(A).sign_file).unwrap(),
        None,
        ADMIN,
        now,
    )
    .await;
    assert_eq!(stolen.unwrap_err().code.as_str(), "E_DIR_DUPLICATE");

    // The centers start knowing nobody; they learn A, B and each other from the snapshot.
    let (dbx, dby) = (
        fresh_database("dirnet_x").await,
        fresh_database("dirnet_y").await,
    );
    let clock_x = Clock::default();
    let x = follow("center-x", &dbx, px, 0, pd, clock_x.clone()).await;
    let y = follow("center-y", &dby, py, 1, pd, Clock::default()).await;
    let a = pki.client(x.addr(), A).unwrap();
    let b = pki.client(y.addr(), B).unwrap();
    until_refusal("A known at X", &a, None).await;
    until_refusal("B known at Y", &b, None).await;

    let pkg = sealed(A, &[B], 1000);
    let sent = a.submit("dn1", pkg.clone()).await.unwrap();
    until("the copy to reach B through Y", || async {
        a.sent(&sent.id).await.unwrap().copies[0].status == CopyStatus::Available
    })
    .await;
    assert_eq!(b.fetch(&sent.id).await.unwrap(), pkg);
    confirm(&b, B, &sent.id, &pkg).await;
    until("the confirmation back at X", || async {
        a.sent(&sent.id).await.unwrap().copies[0].status == CopyStatus::Confirmed
    })
    .await;

    // The snapshot names B's keys by digest; X fetches B's encryption certificate from the
    // directory when A asks for it, and keeps it.
    let certs = a.participant_certs(B).await.unwrap();
    let got = gongwen_trust::cms::load_certs(certs.encryption.as_bytes()).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0], pki.agency(B).enc_cert);
    let kept = x
        .app
        .db
        .fetch_all(
            "SELECT cert FROM participant_keys WHERE code = $1 AND length(cert) > 0",
            &[B.into()],
        )
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);

    // A change of IP reaches the center: A calling from 127.0.0.1 is refused, then let in.
    registry::add_ip(&db, A, "10.9.9.9", Some("資訊處長"), ADMIN, now)
        .await
        .unwrap();
    registry::remove_ip(&db, A, "127.0.0.1", ADMIN, now)
        .await
        .unwrap();
    until_refusal("the new IP at X", &a, Some("E_AUTH_IP")).await;
    registry::add_ip(&db, A, "127.0.0.1", Some("資訊處長"), ADMIN, now)
        .await
        .unwrap();
    until_refusal("127.0.0.1 allowed again", &a, None).await;

    // A suspension reaches both centers: B is refused with the reason, A's copy to B fails.
    registry::set_state(
        &db,
        B,
        ParticipantState::Suspended,
        Some("利用本系統散播電腦病毒"),
        ADMIN,
        now,
    )
    .await
    .unwrap();
    until_refusal("B suspended at Y", &b, Some("E_AUTH_SUSPENDED")).await;
    let err = b.inbox(&[]).await.unwrap_err();
    assert!(err.to_string().contains("散播電腦病毒"), "{err}");
    until_standing(&x, B, ParticipantState::Suspended).await;
    let pkg2 = sealed(A, &[B], 0);
    let sent2 = a.submit("dn2", pkg2).await.unwrap();
    assert_eq!(sent2.copies[0].status, CopyStatus::Failed);
    assert_eq!(
        sent2.copies[0].fail_reason,
        Some(FailReason::RecipientSuspended)
    );
    registry::set_state(&db, B, ParticipantState::Active, None, ADMIN, now)
        .await
        .unwrap();
    until_refusal("B resumed at Y", &b, None).await;
    // X, too, must hold the snapshot with B resumed before the directory stops.
    until_standing(&x, B, ParticipantState::Active).await;

    // The directory stops: the centers go on, even across a restart, on the snapshot held.
    let held = gongwen_center::snapshot::held(&x.app.db)
        .await
        .unwrap()
        .unwrap();
    dir.shutdown().await;
    x.shutdown().await;
    let x = follow("center-x", &dbx, px, 0, pd, clock_x.clone()).await;
    let a = pki.client(x.addr(), A).unwrap();
    assert_eq!(refusal(&a).await, None);
    let pkg3 = sealed(A, &[B], 0);
    let sent3 = a.submit("dn3", pkg3).await.unwrap();
    until("a copy through Y with the directory down", || async {
        a.sent(&sent3.id).await.unwrap().copies[0].status == CopyStatus::Available
    })
    .await;

    // Past the snapshot's validity the center stops exchanging, and says why.
    clock_x.advance(held.1 - clock_x.now_ms() + 1000);
    let stale = a.inbox(&[]).await.unwrap_err();
    assert_eq!(stale.code(), Some("E_DIRECTORY_STALE"), "{stale}");
    assert!(stale.to_string().contains("過期"), "{stale}");
    x.shutdown().await;
    y.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_signed_by_another_key_is_refused() {
    let pki = pki();
    let (dir, pd) = start_directory("dirnet_forged").await;
    let px = free_port();
    let now = dir.app.clock.now_ms();
    register_center(&dir.app.db, "center-x", px, Some(0)).await;
    registry::add(
        &dir.app.db,
        &participant(A, "測試機關", "center-x"),
        ADMIN,
        now,
    )
    .await
    .unwrap();
    // The center pins a different certificate (an agency's) as the directory's signer.
    let mut cfg = center_config(
        "center-x",
        &fresh_database("dirnet_forged_x").await,
        px,
        0,
        pd,
    );
    cfg.directory.as_mut().unwrap().signer = pki.agency(B).sign_file.clone();
    let x = gongwen_center::start(cfg, Clock::default()).await.unwrap();
    assert_eq!(
        gongwen_center::snapshot::held(&x.app.db).await.unwrap(),
        None
    );
    let a = pki.client(x.addr(), A).unwrap();
    let e = a.inbox(&[]).await.unwrap_err();
    assert_eq!(e.code(), Some("E_DIRECTORY_STALE"));
    assert!(e.to_string().contains("尚未取得"), "{e}");

    // A stranger's certificate gets no snapshot at all.
    let url = format!("https://{}", dir.addr());
    let stranger = gongwen_client::DirectoryClient::new(&url, agency_tls(A)).unwrap();
    assert_eq!(
        stranger.snapshot(None).await.unwrap_err().code(),
        Some("E_AUTH_NOT_PEER")
    );
    // The address book is open to anyone.
    let book = stranger.address_book(Some("測試")).await.unwrap();
    assert_eq!(book.len(), 1);
    x.shutdown().await;
    dir.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_book_import_is_all_or_nothing_and_search_folds_variants() {
    let db = gongwen_store::Db::connect(&fresh_database("dirnet_book").await)
        .await
        .unwrap();
    let now = 1_767_580_200_000;
    registry::put_center(
        &db,
        &Center {
            id: "tpc".into(),
            name: "臺北市公文交換中心".into(),
            kind: CenterKind::Shared,
            url: "https://tpc.example".into(),
            tls_key: None,
            operator: "臺北市政府".into(),
        },
        ADMIN,
        now,
    )
    .await
    .unwrap();
    let good = "\u{feff}ORGID,ORGNAME,STATUSCODE,UPDATETIME\r\n\
                379000000A,臺北市政府,0,2026-01-05 08:30:00\r\n\
                379130000C,\"台北市政府資訊局\",0,\r\n\
                XA12345678,臺北市中正區中正國民小學家長會,1,\r\n\
                XA12345679,臺北市政府,0,\r\n";
    let n = |db: gongwen_store::Db| async move {
        db.fetch_optional("SELECT COUNT(*) FROM dir_participants", &[])
            .await
            .unwrap()
            .unwrap()
            .i64(0)
            .unwrap()
    };
    for (bad, code, says) in [
        (
            "ORGID,ORGNAME\r\n379000000A,臺北市政府\r\n379000000A,again\r\n",
            "E_DIR_DUPLICATE",
            "第 3 行",
        ),
        (
            "ORGID,ORGNAME\r\n379000000A,\"臺北市政府\r\n",
            "E_DIR_IMPORT",
            "引號",
        ),
        (
            "ORGID,ORGNAME\r\n379000000A,臺北\"市\r\n",
            "E_DIR_IMPORT",
            "第 2 行",
        ),
        (
            "ORGID,NAME\r\n379000000A,臺北市政府\r\n",
            "E_DIR_IMPORT",
            "ORGNAME",
        ),
        (
            "ORGID,ORGNAME,STATUSCODE\r\n379000000A,臺北市政府,9\r\n",
            "E_DIR_IMPORT",
            "STATUSCODE",
        ),
        (
            "ORGID,ORGNAME\r\n37900-000A,臺北市政府\r\n",
            "E_DIR_IMPORT",
            "代碼",
        ),
        (
            "ORGID,ORGNAME\r\n379000000A,臺北市政府,多一欄\r\n",
            "E_DIR_IMPORT",
            "欄位",
        ),
        (
            "ORGID,ORGNAME,CENTER\r\n379000000A,臺北市政府,nowhere\r\n",
            "E_DIR_IMPORT",
            "nowhere",
        ),
        ("", "E_DIR_IMPORT", "空"),
    ] {
        let e = addressbook::import_csv(&db, bad, Some("tpc"), ADMIN, now)
            .await
            .unwrap_err();
        assert_eq!(e.code.as_str(), code, "{bad:?}: {e}");
        assert!(e.detail.contains(says), "{bad:?}: {e}");
        assert_eq!(n(db.clone()).await, 0, "{bad:?} left rows behind");
    }
    let s = addressbook::import_csv(&db, good, Some("tpc"), ADMIN, now)
        .await
        .unwrap();
    assert_eq!(s.added, 4);
    // Importing the same codes again is refused and changes nothing.
    let again = addressbook::import_csv(&db, good, Some("tpc"), ADMIN, now)
        .await
        .unwrap_err();
    assert_eq!(again.code.as_str(), "E_DIR_DUPLICATE");
    assert_eq!(n(db.clone()).await, 4);

    // 臺/台 and full-width letters find the same entries.
    for q in ["台北市政府", "臺北市政府", "臺北市　政府", "ＸＡ12345678"] {
        let found = addressbook::search(&db, Some(q), 100).await.unwrap();
        assert!(!found.is_empty(), "{q}");
    }
    let by_code = addressbook::search(&db, Some("xa12345678"), 100)
        .await
        .unwrap();
    assert_eq!(by_code.len(), 1);
    // The legacy digit 1 is 暫停: published as D, Gongwen's state kept beside it.
    assert_eq!(by_code[0].statuscode, "D");
    assert_eq!(by_code[0].state, ParticipantState::Suspended);
    let info = addressbook::search(&db, Some("臺北市政府資訊局"), 100)
        .await
        .unwrap();
    assert_eq!(info[0].orgid, "379130000C");
    // Two codes for one name: the address book names both and picks neither.
    let e = addressbook::resolve(&db, "台北市政府").await.unwrap_err();
    assert!(
        e.detail.contains("379000000A") && e.detail.contains("XA12345679"),
        "{e}"
    );
    assert_eq!(
        addressbook::resolve(&db, "臺北市政府資訊局")
            .await
            .unwrap()
            .orgid,
        "379130000C"
    );
    let csv = addressbook::to_csv(&addressbook::search(&db, None, 100).await.unwrap());
    assert!(csv.starts_with("\u{feff}ORGID,ORGNAME,STATUSCODE,UPDATETIME,"));
    assert!(
        // The file's UPDATETIME is kept; an empty one is the time of the import.
        csv.contains("379000000A,臺北市政府,T,2026-01-05 08:30:00,agency,tpc,1,1,active\r\n")
            && csv.contains("379130000C,台北市政府資訊局,T,2026-01-05 10:30:00,"),
        "{csv}"
    );
    // Every imported participant has its entry in the log, and the chain holds.
    let r = gongwen_directory::audit::verify(&db, None).await.unwrap();
    assert_eq!((r.entries, r.broken), (5, None));
    db.close().await;
}

/// An application form for agency `code` (of the test CA) at `center`.
pub(crate) fn form(code: &str, center: &str, with_enc: bool, now: i64) -> ApplicationForm {
    let a = pki().agency(code);
    let mut certificates = vec![
        std::fs::read_to_string(&a.sign_file).unwrap(),
        std::fs::read_to_string(&a.tls_leaf).unwrap(),
    ];
    if with_enc {
        certificates.push(std::fs::read_to_string(&a.enc_file).unwrap());
    }
    ApplicationForm {
        kind: gongwen_proto::directory::ApplicationKind::New,
        code: code.into(),
        name: format!("臺南市測試協會{code}"),
        participant_kind: ParticipantKind::Organisation,
        ubn: Some("04595257".into()),
        authority: A.into(),
        center: center.into(),
        receive: true,
        send: true,
        card_number: Some("TW1234567890".into()),
        card_activated_on: Some("2026-01-05".into()),
        certificates,
        ips: vec!["127.0.0.1".into()],
        contact_name: "王小明".into(),
        contact_phone: "06-2991111".into(),
        contact_email: "office@example.org.tw".into(),
        agreement: gongwen_proto::directory::Agreement {
            rules: "公文電子交換系統使用規範 115.01 版".into(),
            agreed_at: now,
        },
        reason: None,
    }
}

/// The form signed with `signer`'s signing key (the organisation's IC card).
pub(crate) fn signed(f: &ApplicationForm, signer: &str) -> Vec<u8> {
    let a = pki().agency(signer);
    gongwen_trust::cms::sign(
        &serde_json::to_vec(f).unwrap(),
        &gongwen_trust::cms::Signer {
            key: &a.sign_key,
            cert: &a.sign_cert,
            chain: &a.chain,
        },
        f.agreement.agreed_at / 1000,
    )
    .unwrap()
}

/// Waits until center `x` holds `code` with `standing`.
async fn until_standing(x: &Running, code: &str, standing: ParticipantState) {
    until(&format!("{code} {standing:?} at the center"), || async {
        x.app
            .participant(code)
            .await
            .unwrap()
            .is_some_and(|p| p.standing == standing)
    })
    .await;
}

/// Waits until a participant's call gets the error `code` (`None`: succeeds).
async fn until_refusal(what: &str, c: &gongwen_client::CenterClient, code: Option<&str>) {
    until(what, || async { refusal(c).await.as_deref() == code }).await;
}

/// A directory where applications are reviewed: center X registered at a free port (not
/// started), its authority A registered; first reviewers for A (`minzheng`) and for C, a
/// second reviewer for X and an auditor, by their tokens; a client and a browser for anyone.
pub(crate) struct Reviews {
    pub dir: gongwen_directory::Running,
    pub pd: u16,
    pub px: u16,
    pub now: i64,
    pub dc: gongwen_client::DirectoryClient,
    pub web: reqwest::Client,
    pub first: String,
    pub elsewhere: String,
    pub second: String,
    pub auditor: String,
}

pub(crate) async fn reviews(name: &str) -> Reviews {
    use gongwen_directory::accounts::{self, Role};
    let (dir, pd) = start_directory(name).await;
    let px = free_port();
    let db = &dir.app.db;
    let now = dir.app.clock.now_ms();
    register_center(db, "center-x", px, Some(0)).await;
    register_agency(db, A, "臺南市政府民政局", "center-x", now).await;
    let mut tokens = Vec::new();
    for (account, name, role, scope) in [
        ("minzheng", "民政局初審", Role::FirstReviewer, Some(A)),
        ("other", "他機關初審", Role::FirstReviewer, Some(C)),
        (
            "tnc",
            "智慧發展中心複審",
            Role::SecondReviewer,
            Some("center-x"),
        ),
        ("audit", "稽核", Role::Auditor, None),
    ] {
        tokens.push(
            accounts::put(db, account, name, role, scope, ADMIN, now)
                .await
                .unwrap(),
        );
    }
    let [first, elsewhere, second, auditor] = tokens.try_into().unwrap();
    let roots = std::fs::read(pki().ca.root_file()).unwrap();
    let dc = gongwen_client::DirectoryClient::new(
        &format!("https://{}", dir.addr()),
        gongwen_client::tls_config(&roots, None).unwrap(),
    )
    .unwrap();
    Reviews {
        dir,
        pd,
        px,
        now,
        dc,
        web: crate::agent_web::browser(),
        first,
        elsewhere,
        second,
        auditor,
    }
}

fn with_cookie(rb: reqwest::RequestBuilder, cookie: Option<&str>) -> reqwest::RequestBuilder {
    match cookie {
        Some(c) => rb.header("cookie", c),
        None => rb,
    }
}

impl Reviews {
    /// Application `f` signed with `signer`'s card and submitted: its id.
    pub async fn apply(&self, f: &ApplicationForm, signer: &str) -> String {
        let app = self
            .dc
            .submit_application(None, signed(f, signer))
            .await
            .unwrap();
        assert_eq!(app.state.as_str(), "submitted");
        app.id
    }

    /// The state of application `id`.
    pub async fn state(&self, id: &str) -> &'static str {
        self.dc.application(id).await.unwrap().state.as_str()
    }

    /// How many applications `token`'s queue shows.
    async fn queue(&self, token: &str) -> usize {
        self.dc.reviews(token).await.unwrap().len()
    }

    /// What `token`'s `decision` on application `id` answers: its new state, or the code of
    /// the refusal.
    async fn review(&self, token: &str, id: &str, decision: &str) -> String {
        match self.dc.review(token, id, decision, None).await {
            Ok(app) => app.state.as_str().into(),
            Err(e) => e.code().unwrap_or("(no code)").into(),
        }
    }

    /// A page of the directory, with a session cookie if given.
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Page {
        let rb = self.web.get(format!("https://{}{path}", self.dir.addr()));
        send(with_cookie(rb, cookie)).await
    }

    pub async fn post(&self, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Page {
        let rb = self.web.post(format!("https://{}{path}", self.dir.addr()));
        send(with_cookie(rb, cookie).form(form)).await
    }

    /// `minzheng` signed in on the pages, at the review page of `id`: the session cookie and
    /// the page.
    pub async fn signed_in(&self, id: &str) -> (String, Page) {
        let form = [("name", "minzheng"), ("token", self.first.as_str())];
        let p = self.post("/review/login", None, &form).await;
        assert_eq!(p.status, 303, "{}", p.body);
        let cookie = p.cookie.unwrap();
        let page = self.get(&format!("/review/{id}"), Some(&cookie)).await;
        (cookie, page)
    }

    pub async fn shutdown(self) {
        self.dir.shutdown().await;
    }
}

/// Forged: D's form signed with B's card, D's form signed with a key it does not register,
/// a signed form with one byte changed; nothing is kept of any.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_applications_are_refused_and_nothing_is_kept() {
    let r = reviews("dirapp_forged").await;
    let f = form(D, "center-x", true, r.now);
    let submit = |bytes| r.dc.submit_application(None, bytes);
    assert_eq!(code_of(submit(signed(&f, B)).await), "E_DIR_SIGNATURE");
    let mut f2 = f.clone();
    f2.certificates.remove(0);
    assert_eq!(code_of(submit(signed(&f2, D)).await), "E_DIR_SIGNATURE");
    let mut tampered = signed(&f, D);
    let n = tampered.len();
    tampered[n / 3] ^= 1;
    assert!(submit(tampered).await.is_err());
    assert_eq!(r.queue(&r.auditor).await, 0);
    r.shutdown().await;
}

/// At each step only the reviewer whose turn it is may act: not another authority's, not the
/// second before the first, not the first twice, never the auditor (who sees every queue);
/// a correction needs words; an application pending or activated cannot be filed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_reviewer_whose_turn_it_is_may_act() {
    let r = reviews("dirapp_turns").await;
    let f = form(D, "center-x", true, r.now);
    let id = r.apply(&f, D).await;
    assert_eq!(
        code_of(r.dc.submit_application(None, signed(&f, D)).await),
        "E_DIR_STATE"
    );
    // The queue of another authority does not show it.
    assert_eq!(r.queue(&r.elsewhere).await, 0);
    assert_eq!(r.queue(&r.first).await, 1);
    // Another authority and the second reviewer may not act on it yet.
    for (who, token, decision, want) in [
        ("elsewhere", &r.elsewhere, "approve", "E_DIR_FORBIDDEN"),
        ("second", &r.second, "approve", "E_DIR_FORBIDDEN"),
        ("first", &r.first, "correct", "E_BAD_REQUEST"),
        ("auditor", &r.auditor, "approve", "E_DIR_FORBIDDEN"),
        ("first", &r.first, "approve", "first_approved"),
        ("first", &r.first, "approve", "E_DIR_FORBIDDEN"),
        ("second", &r.second, "approve", "activated"),
        ("second", &r.second, "approve", "E_DIR_STATE"),
    ] {
        let got = r.review(token, &id, decision).await;
        assert_eq!(got, want, "{decision} by {who}");
    }
    assert_eq!(
        r.queue(&r.auditor).await,
        1,
        "the auditor sees what is done too"
    );
    // Applying again for the same code is refused.
    assert_eq!(
        code_of(r.dc.submit_application(None, signed(&f, D)).await),
        "E_DIR_DUPLICATE"
    );
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_applies_is_reviewed_twice_and_exchanges() {
    let pki = pki();
    let r = reviews("dirapp").await;
    let Reviews {
        dc, first, second, ..
    } = &r;
    let db = &r.dir.app.db;
    let f = form(D, "center-x", true, r.now);

    // Submitted without the encryption certificate; the authority asks for it.
    let id = r.apply(&form(D, "center-x", false, r.now), D).await;
    let back = dc
        .review(first, &id, "correct", Some("請補附加密憑證"))
        .await
        .unwrap();
    assert_eq!(back.state.as_str(), "correction");
    assert_eq!(
        dc.application(&id).await.unwrap().message.as_deref(),
        Some("請補附加密憑證")
    );
    let corrected = dc
        .submit_application(Some(&id), signed(&f, D))
        .await
        .unwrap();
    assert_eq!(corrected.state.as_str(), "submitted");
    assert_eq!(r.review(first, &id, "approve").await, "first_approved");
    assert_eq!(r.review(second, &id, "approve").await, "activated");
    // The applicant and the authority are told.
    let told = gongwen_directory::applications::notices(db, D)
        .await
        .unwrap();
    for said in ["連線申請已開通", "連線申請須補正"] {
        assert!(told.iter().any(|(_, s, _)| s == said), "{told:?}");
    }
    let told = gongwen_directory::applications::notices(db, A)
        .await
        .unwrap();
    assert!(
        told.iter().any(|(_, s, _)| s == "連線申請已開通"),
        "{told:?}"
    );
    // Every step is in the log with who did it.
    let steps: Vec<String> = gongwen_directory::audit::history(db, &format!("application:{id}"))
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.entry.actor, e.entry.action))
        .collect();
    assert_eq!(
        steps,
        [
            format!("applicant:{D} application.submitted"),
            "first_reviewer:minzheng application.correction_requested".into(),
            format!("applicant:{D} application.corrected"),
            "first_reviewer:minzheng application.first_approved".into(),
            "second_reviewer:tnc application.activated".into(),
        ]
    );

    // A center that knows D only from the snapshot lets it exchange with A.
    let db_x = fresh_database("dirapp_x").await;
    let x = follow("center-x", &db_x, r.px, 0, r.pd, Clock::default()).await;
    let d = pki.client(x.addr(), D).unwrap();
    let a = pki.client(x.addr(), A).unwrap();
    until_refusal("D known at X", &d, None).await;
    let pkg = sealed(D, &[A], 500);
    let sent = d.submit("app1", pkg.clone()).await.unwrap();
    assert_eq!(sent.copies[0].status, CopyStatus::Available);
    assert_eq!(a.fetch(&sent.id).await.unwrap(), pkg);

    // A change (異動): a new address, signed with D's registered card, reviewed twice;
    // the center lets D in only from the new address.
    let mut change = f.clone();
    change.kind = gongwen_proto::directory::ApplicationKind::Change;
    change.ips = vec!["10.7.7.7".into()];
    change.reason = Some("機房搬遷，更換固定 IP".into());
    let cid = r.apply(&change, D).await;
    dc.review(first, &cid, "approve", None).await.unwrap();
    dc.review(second, &cid, "approve", None).await.unwrap();
    until_refusal("D's new address at X", &d, Some("E_AUTH_IP")).await;
    // A cancellation (註銷) signed with another organisation's card is refused; D's own
    // is reviewed and D leaves.
    let mut cancel = f.clone();
    cancel.kind = gongwen_proto::directory::ApplicationKind::Cancel;
    cancel.reason = Some("機關裁撤".into());
    assert_eq!(
        code_of(dc.submit_application(None, signed(&cancel, A)).await),
        "E_DIR_SIGNATURE"
    );
    let nid = r.apply(&cancel, D).await;
    dc.review(first, &nid, "approve", None).await.unwrap();
    dc.review(second, &nid, "approve", None).await.unwrap();
    assert_eq!(state_of(db, D).await, ParticipantState::Cancelled);
    until_standing(&x, D, ParticipantState::Cancelled).await;

    let v = gongwen_directory::audit::verify(db, None).await.unwrap();
    assert_eq!(v.broken, None);
    x.shutdown().await;
    r.shutdown().await;
}

/// `YYYY-MM-DD` in Asia/Taipei, `days` from `now`.
fn date_in(now: i64, days: i64) -> String {
    addressbook::taipei_time(now + days * 86_400_000)[..10].to_string()
}

/// A directory and center X following it, with A and B registered and known at X.
struct AtX {
    dir: gongwen_directory::Running,
    x: Running,
    a: gongwen_client::CenterClient,
    b: gongwen_client::CenterClient,
    now: i64,
}

async fn at_x(name: &str) -> AtX {
    let (dir, pd) = start_directory(name).await;
    let px = free_port();
    let now = dir.app.clock.now_ms();
    register_center(&dir.app.db, "center-x", px, Some(0)).await;
    for code in [A, B] {
        register_agency(
            &dir.app.db,
            code,
            &format!("測試機關{code}"),
            "center-x",
            now,
        )
        .await;
    }
    let db_x = fresh_database(&format!("{name}_x")).await;
    let x = follow("center-x", &db_x, px, 0, pd, Clock::default()).await;
    let a = pki().client(x.addr(), A).unwrap();
    let b = pki().client(x.addr(), B).unwrap();
    until_refusal("A known at X", &a, None).await;
    until_refusal("B known at X", &b, None).await;
    AtX { dir, x, a, b, now }
}

impl AtX {
    /// The directory's log chain holds; then both stop.
    async fn shutdown(self) {
        let v = gongwen_directory::audit::verify(&self.dir.app.db, None)
            .await
            .unwrap();
        assert_eq!(v.broken, None);
        self.x.shutdown().await;
        self.dir.shutdown().await;
    }
}

/// An improvement notice suspends B with its reason; after three failed follow-ups it ends
/// in termination at 18:00 the day before the date set, and B may apply again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_improvement_notice_suspends_and_ends_in_termination() {
    use gongwen_directory::improvements;
    let net = at_x("dirimp_end").await;
    let AtX { x, a, b, now, .. } = &net;
    let (db, now) = (&net.dir.app.db, *now);
    // An improvement notice suspends B, with its reason, at the center too.
    let notice = improvements::issue(db, B, "advertising", &date_in(now, 10), ADMIN, now)
        .await
        .unwrap();
    let id = notice.id.clone();
    until_refusal("B suspended at X", b, Some("E_AUTH_SUSPENDED")).await;
    let e = b.inbox(&[]).await.unwrap_err().to_string();
    assert!(e.contains("限期改善單") && e.contains("廣告"), "{e}");
    // Not yet: within the deadline and without three failed follow-ups.
    let early = improvements::terminate(db, &id, &date_in(now, 20), ADMIN, now)
        .await
        .unwrap_err();
    assert_eq!(early.code.as_str(), "E_DIR_STATE");
    improvements::answer(
        db,
        &id,
        "已停止發送廣告並檢討內部程序",
        &format!("participant:{B}"),
        now,
    )
    .await
    .unwrap();
    for n in 1..=3 {
        improvements::follow_up(
            db,
            &id,
            false,
            &format!("第 {n} 次追蹤：仍有廣告"),
            "assessor:王",
            now + n,
        )
        .await
        .unwrap();
    }
    let fourth = improvements::follow_up(db, &id, false, "第 4 次", "assessor:王", now + 4)
        .await
        .unwrap_err();
    assert_eq!(fourth.code.as_str(), "E_DIR_STATE");
    assert!(fourth.detail.contains("延長"), "{fourth}");
    let on = date_in(now, 3);
    let t = improvements::terminate(db, &id, &on, ADMIN, now + 5)
        .await
        .unwrap();
    assert_eq!(t.follow_ups.len(), 3);
    let stops = t.stops_at.unwrap();
    assert_eq!(&addressbook::taipei_time(stops)[..10], date_in(now, 2));
    assert!(addressbook::taipei_time(stops).ends_with("18:00:00"));
    // A minute before 18:00 the day before, nothing happens; at 18:00 service stops.
    assert!(enforce(db, stops - 60_000, &[]).await.is_empty());
    assert_eq!(state_of(db, B).await, ParticipantState::Suspended);
    let done = enforce(db, stops, &[]).await;
    assert_eq!(done, [format!("terminated {B}")]);
    assert_eq!(state_of(db, B).await, ParticipantState::Terminated);
    until_standing(x, B, ParticipantState::Terminated).await;
    let e = b.inbox(&[]).await.unwrap_err().to_string();
    assert!(e.contains("中止") && e.contains("紙本"), "{e}");
    let to_b = a.submit("imp1", sealed(A, &[B], 0)).await.unwrap();
    assert_eq!(
        to_b.copies[0].fail_reason,
        Some(FailReason::RecipientSuspended)
    );
    // B may apply again, and the reviewers see what happened.
    let app = gongwen_directory::applications::submit(
        db,
        &net.dir.app.trust.store(),
        &signed(
            &{
                let mut f = form(B, "center-x", true, now);
                f.authority = A.into();
                f
            },
            B,
        ),
        now,
    )
    .await
    .unwrap();
    assert_eq!(
        app.state,
        gongwen_directory::applications::AppState::Submitted
    );
    let past = improvements::of(db, B).await.unwrap();
    assert_eq!(
        (past.len(), past[0].state),
        (1, improvements::ImprovementNoticeState::Terminated)
    );

    net.shutdown().await;
}

/// An extension allows more follow-ups; an improvement restores the participant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extension_allows_more_follow_ups_and_an_improvement_restores() {
    use gongwen_directory::improvements;
    let net = at_x("dirimp_ext").await;
    let (db, now) = (&net.dir.app.db, net.now);
    let n2 = improvements::issue(db, A, "rules", &date_in(now, 5), ADMIN, now)
        .await
        .unwrap();
    for i in 0..3 {
        improvements::follow_up(db, &n2.id, false, "尚未完成", "assessor:李", now + i)
            .await
            .unwrap();
    }
    assert_eq!(
        improvements::extend(db, &n2.id, &date_in(now, 4), "局長", ADMIN, now)
            .await
            .unwrap_err()
            .code
            .as_str(),
        "E_BAD_REQUEST"
    );
    improvements::extend(db, &n2.id, &date_in(now, 15), "局長", ADMIN, now)
        .await
        .unwrap();
    let done = improvements::follow_up(db, &n2.id, true, "已完成改善", "assessor:李", now + 10)
        .await
        .unwrap();
    assert_eq!(done.state, improvements::ImprovementNoticeState::Improved);
    assert_eq!(state_of(db, A).await, ParticipantState::Active);

    net.shutdown().await;
}

/// Certificates: warned before expiry (once), suspended at expiry, and out of the address
/// book after the grace period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_certificates_warn_then_suspend_then_delist() {
    use gongwen_directory::improvements;
    let net = at_x("dirimp_cert").await;
    let AtX { x, a, .. } = &net;
    let db = &net.dir.app.db;
    // A's and B's certificates (of the one test CA) expire together.
    let until_ms = registry::certs(db, A)
        .await
        .unwrap()
        .iter()
        .filter(|c| c.usage != gongwen_proto::directory::KeyUsage::Encryption)
        .map(|c| c.not_after)
        .min()
        .unwrap();
    let day = 86_400_000;
    let warned = enforce(db, until_ms - 20 * day, &[60, 30, 7]).await;
    assert_eq!(warned, [A, B].map(|c| format!("warned {c} (30 days)")));
    let next_day = enforce(db, until_ms - 19 * day, &[60, 30, 7]).await;
    assert!(next_day.is_empty(), "warned once");
    let expired = enforce(db, until_ms + 60_000, &[]).await;
    assert_eq!(
        expired,
        [A, B].map(|c| format!("suspended {c} (certificate expired)"))
    );
    until_refusal("A suspended at X", a, Some("E_AUTH_SUSPENDED")).await;
    let e = a.inbox(&[]).await.unwrap_err().to_string();
    assert!(e.contains("憑證") && e.contains("到期"), "{e}");
    // Reconnecting needs a valid certificate; the old one is still expired.
    let r = improvements::reconnect(db, A, ADMIN, until_ms + 2 * day)
        .await
        .unwrap_err();
    assert_eq!(r.code.as_str(), "E_DIR_STATE");
    let gone = enforce(db, until_ms + 91 * day, &[]).await;
    assert_eq!(
        gone,
        [A, B].map(|c| format!("delisted {c} (certificate expired 90 days ago)"))
    );
    assert!(
        addressbook::search(db, Some(A), 10)
            .await
            .unwrap()
            .is_empty()
    );
    until_standing(x, A, ParticipantState::Cancelled).await;
    net.shutdown().await;
}

/// The applicant fills in the form page: a mistake keeps what was typed; a complete form
/// comes back as the file to sign, and once signed and sent its public page shows it waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applicant_fills_in_the_form_page() {
    let r = reviews("dirweb_form").await;
    let d = pki().agency(D);
    let pem = [&d.sign_file, &d.enc_file, &d.tls_leaf]
        .map(|f| std::fs::read_to_string(f).unwrap())
        .concat();
    let mut fields = vec![
        ("kind", "new"),
        ("code", D),
        ("name", "臺南市測試協會"),
        ("participant_kind", "organisation"),
        ("ubn", "04595257"),
        ("authority", A),
        ("center", "center-x"),
        ("receive", "1"),
        ("send", "1"),
        ("certificates", pem.as_str()),
        ("ips", "127.0.0.1\n"),
        ("contact_name", "王小明"),
        ("contact_phone", "06-2991111"),
        ("contact_email", "office@example.org.tw"),
    ];
    let page = r.get("/apply/form", None).await;
    page.has(200, &["填寫申請書", "center-x"]);
    let p = r.post("/apply/form", None, &fields).await;
    p.has(400, &["須勾選同意", "臺南市測試協會"]);
    fields.push(("agree", "1"));
    let url = format!("https://{}/apply/form", r.dir.addr());
    let file = r.web.post(url).form(&fields).send().await.unwrap();
    assert_eq!(file.status().as_u16(), 200);
    let disposition = file.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.contains("application-"), "{disposition}");
    let filled: ApplicationForm = serde_json::from_slice(&file.bytes().await.unwrap()).unwrap();
    assert_eq!((filled.code.as_str(), filled.certificates.len()), (D, 3));
    let id = r.apply(&filled, D).await;
    let p = r.get(&format!("/applications/{id}"), None).await;
    p.has(200, &["待初審", "送出申請"]);
    r.shutdown().await;
}

/// The address book and an application's page are open to anyone; what a path brings is
/// shown escaped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_pages_are_open_and_escape_what_they_are_given() {
    let r = reviews("dirweb_public").await;
    let p = r.get("/address-book?q=%E8%87%BA%E5%8D%97", None).await;
    p.has(200, &["地址簿"]);
    let p = r.get("/applications/%3Cscript%3E", None).await;
    p.has(404, &["&lt;script&gt;"]);
    p.lacks(&["<script>"]);
    r.shutdown().await;
}

/// Reviewers sign in with their token (a wrong one is refused), and signing in is logged;
/// signing out ends the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewers_sign_in_with_their_token_and_out() {
    let r = reviews("dirweb_login").await;
    let p = r.get("/review", None).await;
    p.went_to("/review/login");
    let p = r
        .post(
            "/review/login",
            None,
            &[("name", "minzheng"), ("token", "wrong")],
        )
        .await;
    p.has(403, &["帳號或權杖不正確"]);
    let id = r.apply(&form(D, "center-x", true, r.now), D).await;
    let (cookie, page) = r.signed_in(&id).await;
    let logins = gongwen_directory::audit::history(&r.dir.app.db, "account:minzheng")
        .await
        .unwrap();
    assert!(logins.iter().any(|e| e.entry.action == "account.login"));
    let csrf = csrf_of(&page.body);
    let p = r
        .post("/review/logout", Some(&cookie), &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(p.status, 303);
    let p = r.get("/review", Some(&cookie)).await;
    p.went_to("/review/login");
    r.shutdown().await;
}

/// The first reviewer's queue lists the application; a forged post (no CSRF token) changes
/// nothing, a mistake keeps what was typed, and 同意 moves it on to the second review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_approves_in_the_pages() {
    let r = reviews("dirweb_review").await;
    let id = r.apply(&form(D, "center-x", true, r.now), D).await;
    let (cookie, page) = r.signed_in(&id).await;
    let csrf = csrf_of(&page.body);
    let p = r.get("/review", Some(&cookie)).await;
    p.has(200, &[&id, "共 1 件"]);

    let review = format!("/review/{id}");
    let p = r
        .post(
            &review,
            Some(&cookie),
            &[("csrf", "forged"), ("decision", "approve")],
        )
        .await;
    p.has(403, &["CSRF"]);
    assert_eq!(r.state(&id).await, "submitted");
    let form = [
        ("csrf", csrf.as_str()),
        ("decision", "maybe"),
        ("message", "請補附 <加密> 憑證"),
    ];
    let p = r.post(&review, Some(&cookie), &form).await;
    p.has(400, &["請補附 &lt;加密&gt; 憑證"]);
    let p = r
        .post(
            &review,
            Some(&cookie),
            &[("csrf", csrf.as_str()), ("decision", "approve")],
        )
        .await;
    p.has(200, &["已同意", "待複審"]);
    assert_eq!(r.state(&id).await, "first_approved");
    r.shutdown().await;
}
