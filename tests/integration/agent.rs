//! The agent in folder mode against a real center: a set dropped in an outbox is sealed,
//! sent once, and moved to sent/ with its status; the recipient's inbox gets the files all at
//! once and the center learns 送達; a set that cannot go lands in error/ with the reason; a
//! restart repeats nothing.

use std::path::Path;

use gongwen_agent::{AgencyConfig, AgentConfig};
use gongwen_center::Clock;
use gongwen_integration::{
    A, B, C, EICAR, clamd, fresh_database, json_file, pki, records_of, scratch, until,
};
use gongwen_proto::CopyStatus;
use gongwen_testbed::letter;

use crate::agent_web::start_center;

pub(crate) fn agency(code: &str, center: std::net::SocketAddr, root: &Path) -> AgencyConfig {
    let p = pki();
    let a = p.agency(code);
    // The card's signing certificate with its issuer, as card software exports it.
    let chain = root.join(format!("{code}-sign-chain.pem"));
    let mut pem = std::fs::read(&a.sign_file).unwrap();
    pem.extend(std::fs::read(p.ca.ca_file(gongwen_trust::pki::Branch::Gca)).unwrap());
    std::fs::write(&chain, pem).unwrap();
    AgencyConfig {
        code: code.into(),
        center: format!("https://{center}"),
        tls_cert: a.tls_cert.clone(),
        tls_key: a.tls_key.clone(),
        sign_cert: chain,
        sign_key: a.sign_key_file.display().to_string(),
        enc_cert: a.enc_file.clone(),
        enc_key: a.enc_key_file.display().to_string(),
        folder: Some(root.join(code)),
        name: Some(format!("測試機關{code}")),
        word: Some("測試字".into()),
        address: None,
        contact: Vec::new(),
        webhook: None,
    }
}

/// `code` served through the API and the web client only, with no folders.
pub(crate) fn api_only(code: &str, center: std::net::SocketAddr, root: &Path) -> AgencyConfig {
    let folder = None;
    AgencyConfig {
        folder,
        ..agency(code, center, root)
    }
}

/// A node serving `agencies`, polling every second; with the API (and web client) on a free
/// port of 127.0.0.1 when `api_mb` (the upload limit) is given.
pub(crate) fn node_config(
    db: &str,
    root: &Path,
    agencies: Vec<AgencyConfig>,
    api_mb: Option<u64>,
) -> AgentConfig {
    AgentConfig {
        database_url: db.into(),
        data_dir: root.join("data"),
        trust_anchors: vec![pki().ca.root_file()],
        crls: vec![pki().ca.dir().join("crl")],
        poll_s: 1,
        settle_s: 0,
        clamd: None,
        retention_days: 365,
        inbox_mode: "0640".into(),
        web: Default::default(),
        api: api_mb.map(|mb| gongwen_agent::ApiConfig {
            listen: "127.0.0.1:0".into(),
            tls: None,
            max_upload_mb: mb,
            ..Default::default()
        }),
        agencies,
    }
}

fn config(db: &str, root: &Path, center: std::net::SocketAddr) -> AgentConfig {
    node_config(
        db,
        root,
        vec![agency(A, center, root), agency(B, center, root)],
        None,
    )
}

/// Drops set `(di, sw, attachments)` into A's outbox under `root`: its options file first
/// when given, the DI last (as a copying program would). The set's name.
pub(crate) fn drop_set(
    root: &Path,
    (di, sw, attachments): gongwen_testbed::Letter,
    options: Option<&str>,
) -> String {
    let name = di.0.trim_end_matches(".di").to_string();
    let outbox = root.join(A).join("outbox");
    if let Some(o) = options {
        std::fs::write(outbox.join(format!("{name}.options.toml")), o).unwrap();
    }
    for (n, bytes) in attachments.iter().chain(std::iter::once(&sw)) {
        std::fs::write(outbox.join(n), bytes).unwrap();
    }
    std::fs::write(outbox.join(&di.0), &di.1).unwrap();
    name
}

/// Drops a letter from A to `to` into A's outbox.
fn drop_letter(root: &Path, to: &[&str]) -> String {
    drop_set(root, letter(A, to, 3000).unwrap(), None)
}

/// Where set `name` of A's lands once sent.
fn sent_status(root: &Path, name: &str) -> std::path::PathBuf {
    root.join(A).join("sent").join(name).join("status.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_send_and_receive_through_a_center() {
    let pki = pki();
    let root = scratch("agent-folders");
    let x = start_center("agent_x").await;
    let db = fresh_database("agent_node").await;
    let node = gongwen_agent::start(config(&db, &root, x.addr()), Clock::default())
        .await
        .unwrap();

    let name = drop_letter(&root, &[B]);
    let status = sent_status(&root, &name);
    until("the set in sent/", || async { status.is_file() }).await;
    assert!(
        std::fs::read_dir(root.join(A).join("outbox"))
            .unwrap()
            .next()
            .is_none(),
        "outbox emptied"
    );
    let status = json_file(status);
    let id = status["id"].as_str().unwrap().to_string();
    // B's inbox: the whole set and the receipt file, under the package id.
    let inbox = root.join(B).join("inbox").join(&id);
    until("B's inbox", || async {
        inbox.join("receipt.json").is_file()
    })
    .await;
    assert!(inbox.join(format!("{name}.di")).is_file());
    let record = json_file(inbox.join("receipt.json"));
    assert_eq!(record["sender"], A);
    assert!(record["files"].as_array().unwrap().len() >= 3, "{record}");
    let a = pki.client(x.addr(), A).unwrap();
    until("送達 to reach the center", || async {
        a.sent(&id).await.unwrap().copies[0].status == CopyStatus::Delivered
    })
    .await;

    // To someone the center does not know: error/ with the reason, nothing sent.
    let bad = drop_letter(&root, &[C]);
    let err_dir = root.join(A).join("error").join(&bad);
    until("the set in error/", || async {
        err_dir.join("原因.txt").is_file()
    })
    .await;
    let why = std::fs::read_to_string(err_dir.join("原因.txt")).unwrap();
    assert!(why.contains(C), "{why}");
    // A DI that is not a DI.
    std::fs::write(
        root.join(A).join("outbox").join("broken.di"),
        b"<not a document",
    )
    .unwrap();
    let broken = root.join(A).join("error").join("broken");
    until("the broken DI in error/", || async {
        broken.join("原因.txt").is_file()
    })
    .await;

    // A restart sends what is new and repeats nothing.
    node.shutdown().await;
    let again = drop_letter(&root, &[B]);
    let node = gongwen_agent::start(config(&db, &root, x.addr()), Clock::default())
        .await
        .unwrap();
    let status = sent_status(&root, &again);
    until("the second set in sent/", || async { status.is_file() }).await;
    let list = a.sent_list(&[]).await.unwrap();
    assert_eq!(list.items.len(), 2, "two letters, each sent once");
    // Both complete (a set still being written is a `.tmp-` folder, counted only once
    // renamed).
    until("both in B's inbox", || async {
        std::fs::read_dir(root.join(B).join("inbox"))
            .unwrap()
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .count()
            >= 2
    })
    .await;
    // Nothing half-written was ever left in the inbox.
    for e in std::fs::read_dir(root.join(B).join("inbox")).unwrap() {
        let e = e.unwrap();
        assert!(
            !e.file_name().to_string_lossy().starts_with('.'),
            "{:?}",
            e.path()
        );
        assert!(e.path().join("receipt.json").is_file());
    }
    node.shutdown().await;
    x.shutdown().await;
}

/// A set's `<DI>.options.toml` asks for 立即確認 and names the send it corrects (by its
/// 發文字號); options that are wrong send nothing and say why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_sets_carry_immediate_confirmation_and_typed_resends() {
    let pki = pki();
    let root = scratch("agent-options");
    let x = start_center("options_x").await;
    let node = gongwen_agent::start(
        config(&fresh_database("options_node").await, &root, x.addr()),
        Clock::default(),
    )
    .await
    .unwrap();
    let status_of = |name: &str| json_file(sent_status(&root, name));
    let first = drop_letter(&root, &[B]);
    let status = sent_status(&root, &first);
    until("the first set in sent/", || async { status.is_file() }).await;
    let original = status_of(&first);
    assert_eq!(original["confirm_now"], false);

    // Options before the DI, as a copying program would write them.
    let options = format!(
        "\"立即確認\" = true\n\"重發類別\" = \"本文修正\"\n\"原發文\" = \"{}\"\n",
        original["doc_number"].as_str().unwrap()
    );
    let name = drop_set(&root, letter(A, &[B], 3000).unwrap(), Some(&options));
    let sent = root.join(A).join("sent").join(&name);
    let refused = root.join(A).join("error").join(&name).join("原因.txt");
    until("the correction in sent/", || async {
        sent.join("status.json").is_file() || refused.is_file()
    })
    .await;
    assert!(
        !refused.is_file(),
        "{}",
        std::fs::read_to_string(&refused).unwrap_or_default()
    );
    let fixed = status_of(&name);
    assert_eq!(fixed["confirm_now"], true, "{fixed}");
    assert_eq!(fixed["resend"]["original"], original["id"], "{fixed}");
    assert_eq!(fixed["resend"]["kind"], "本文修正", "{fixed}");
    assert!(
        sent.join(format!("{name}.options.toml")).is_file(),
        "kept with the set"
    );

    // An unknown field: error/ with the reason, nothing sent.
    let set = letter(A, &[B], 3000).unwrap();
    let bad = drop_set(&root, set, Some("\"重要\" = true\n"));
    let err = root.join(A).join("error").join(&bad);
    until("the set with bad options in error/", || async {
        err.join("原因.txt").is_file()
    })
    .await;
    let why = std::fs::read_to_string(err.join("原因.txt")).unwrap();
    assert!(why.contains("可用的欄位"), "{why}");
    let a = pki.client(x.addr(), A).unwrap();
    assert_eq!(
        a.sent_list(&[]).await.unwrap().items.len(),
        2,
        "the bad set was not sent"
    );
    node.shutdown().await;
    x.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malware_is_refused_on_send_and_quarantined_on_receipt() {
    let pki = pki();
    let root = scratch("agent-malware");
    let x = start_center("agent_m").await;
    let mut cfg = config(&fresh_database("agent_m_node").await, &root, x.addr());
    cfg.clamd = Some(clamd().to_string());
    let node = gongwen_agent::start(cfg, Clock::default()).await.unwrap();
    let a = pki.client(x.addr(), A).unwrap();

    // An infected attachment in A's outbox: refused, nothing leaves.
    let infected = || {
        let (di, sw, mut attachments) = letter(A, &[B], 1000).unwrap();
        attachments[0].1 = format!("%PDF-1.4 {EICAR} %%EOF").into_bytes();
        (di, sw, attachments)
    };
    let name = drop_set(&root, infected(), None);
    let err = root.join(A).join("error").join(&name);
    until("the infected set in error/", || async {
        err.join("error.json").is_file()
    })
    .await;
    let why = std::fs::read_to_string(err.join("原因.txt")).unwrap();
    assert!(why.contains("含惡意程式") && why.contains("Eicar"), "{why}");
    assert!(
        std::fs::read_to_string(err.join("error.json"))
            .unwrap()
            .contains("E_MALWARE")
    );
    assert!(
        a.sent_list(&[]).await.unwrap().items.is_empty(),
        "nothing was sent"
    );

    // An infected package sealed elsewhere reaches B: quarantined, returned, reported.
    let (di, sw, attachments) = infected();
    let pkg = pki
        .seal_files(
            A,
            di,
            Some(sw),
            attachments,
            &[B],
            gongwen_proto::HeaderOptions::default(),
        )
        .unwrap();
    let sent = a.submit("m1", pkg).await.unwrap();
    until("the return by B's agent", || async {
        a.sent(&sent.id).await.unwrap().copies[0].status == CopyStatus::Returned
    })
    .await;
    let c = a.sent(&sent.id).await.unwrap().copies.remove(0);
    assert_eq!(c.return_reason, Some(gongwen_proto::ReturnReason::Malware));
    assert!(
        !root.join(B).join("inbox").join(&sent.id).exists(),
        "never in the inbox"
    );
    assert!(
        root.join("data")
            .join("quarantine")
            .join(format!("{B}-{}", sent.id))
            .is_dir()
    );
    let b = pki.client(x.addr(), B).unwrap();
    // The report follows the return.
    until("the center to record B's security report", || async {
        records_of(&b, &sent.id)
            .await
            .iter()
            .any(|r| r.kind == "security_event" && r.actor == B)
    })
    .await;
    node.shutdown().await;
    x.shutdown().await;
}
