//! Attacks by participants with valid credentials (issue 15): an agency's API client naming
//! files outside its request, a sender whose own tools write a header the rules do not allow,
//! one bad package or byte that must not stop an agency's receiving, and retries racing on
//! one Idempotency-Key. Each gets its stable code, and nothing already stored is lost or
//! changed.

use std::path::Path;

use gongwen_center::{BlobStore, Clock};
use gongwen_integration::{A, B, fresh_database, packages, pki, scratch, sealed, within};
use gongwen_proto::CopyStatus;
use serde_json::json;

use crate::agent_api::Api;
use crate::center::center_ab;

/// A center with A and B, and one agent node serving A (API only) and B (folder mode), with
/// A's document system at it.
pub(crate) async fn network(
    root: &Path,
    name: &str,
) -> (gongwen_center::Running, gongwen_agent::Running, Api) {
    let x = crate::agent_web::start_center(&format!("{name}_x")).await;
    let a = crate::agent::api_only(A, x.addr(), root);
    let b = crate::agent::agency(B, x.addr(), root);
    let node = gongwen_agent::start(
        crate::agent::node_config(
            &fresh_database(&format!("{name}_node")).await,
            root,
            vec![a, b],
            Some(5),
        ),
        Clock::default(),
    )
    .await
    .unwrap();
    let api = Api::new(&node, A).await;
    (x, node, api)
}

/// An agent node for B alone, in folder mode under `root`.
async fn agent_for_b(
    root: &Path,
    x: &gongwen_center::Running,
    name: &str,
) -> gongwen_agent::Running {
    gongwen_agent::start(
        crate::agent::node_config(
            &fresh_database(name).await,
            root,
            vec![crate::agent::agency(B, x.addr(), root)],
            None,
        ),
        Clock::default(),
    )
    .await
    .unwrap()
}

fn draft(files: &[&str]) -> String {
    let mut d = json!({
        "文別": "函",
        "速別": "普通件",
        "地址": "100 臺北市中正區測試路1號",
        "聯絡方式": ["承辦人：王小明", "電話：(02)2345-6789"],
        "主旨": "檢送資料，請查照。",
        "署名": ["機關首長　王大明"],
        "正本": [{ "全銜": "測試機關B", "機關代碼": B }],
    });
    if !files.is_empty() {
        d["附件"] = json!({ "文字": "資料1份", "檔案": files });
    }
    d.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_drafts_may_name_only_files_uploaded_with_them() {
    let root = scratch("hostile-paths");
    let (x, node, api) = network(&root, "hostile_paths").await;

    // Files the agent can read and rename: one outside any agency's folders, and one in
    // another agency's (B's) inbox.
    let secret = root.join("secret.pdf");
    std::fs::write(&secret, b"%PDF-1.4\n% not for sending\n%%EOF\n").unwrap();
    let other = root
        .join(B)
        .join("inbox")
        .join("0123456789abcdef0123456789abcdef");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("received.pdf"), b"%PDF-1.4\n% B's\n%%EOF\n").unwrap();
    let staged = root.join("data").join("staged").join(A);
    let relative_up = |target: &Path| {
        // From data/staged/<A>/<set>/.uploads back to the root.
        let rel = target.strip_prefix(&root).unwrap();
        format!("../../../../../{}", rel.display())
    };
    for name in [
        secret.display().to_string(),
        relative_up(&secret),
        relative_up(&other.join("received.pdf")),
        ".uploads/../../secret.pdf".into(),
        "..".into(),
    ] {
        let d = draft(&[&name]);
        let (status, v) = api.send(&[("draft", None, d.as_bytes())], None).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (400, Some("E_AGENT_DOCUMENT")),
            "{name}: {v}"
        );
        assert!(v["detail"].as_str().unwrap().contains("沒有上傳"), "{v}");
    }
    // Nothing moved, nothing sent, nothing left staged.
    assert!(secret.is_file() && other.join("received.pdf").is_file());
    assert_eq!(packages(&x).await, 0, "nothing reached the center");
    assert!(
        std::fs::read_dir(&staged)
            .map(|rd| rd.count() == 0)
            .unwrap_or(true),
        "no staged set left behind"
    );

    // The same draft naming a file uploaded with it goes, and the upload was the source.
    let pdf: &[u8] = b"%PDF-1.4\n% plan\n%%EOF\n";
    let d = draft(&["plan.pdf"]);
    let f = [
        ("draft", None, d.as_bytes()),
        ("attachment", Some("plan.pdf"), pdf),
    ];
    let (status, v) = api.send(&f, None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["serial"], 1, "the refused drafts took no number");
    node.shutdown().await;
    x.shutdown().await;
}

/// One way a hostile sender's tools write the header.
type HeaderEdit = Box<dyn FnOnce(&mut gongwen_proto::PackageHeader)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_out_of_bounds_are_refused_at_the_center() {
    let pki = pki();
    let (x, a, _) = center_ab("hostile_header", BlobStore::Fs).await;
    let long_number = "府".repeat(25_000);
    let cases: Vec<(&str, HeaderEdit)> = vec![
        (
            "an id with a slash",
            Box::new(|h| h.id = format!("{}/x", &h.id[..30])),
        ),
        ("an id of another form", Box::new(|h| h.id = "pkg-1".into())),
        (
            "a 25,000-character 發文字號",
            Box::new(move |h| h.doc_number = long_number),
        ),
        (
            "a 主旨 of 3,000 characters",
            Box::new(|h| h.subject = "查".repeat(3_000)),
        ),
        (
            "a control character in 速別",
            Box::new(|h| h.urgency = "速件\u{1b}[31m".into()),
        ),
        (
            "a file name with a folder",
            Box::new(|h| h.files[0].name = "../x.di".into()),
        ),
        (
            "a Windows device name",
            Box::new(|h| {
                let last = h.files.len() - 1;
                h.files[last].name = "CON.pdf".into()
            }),
        ),
    ];
    for (i, (what, edit)) in cases.into_iter().enumerate() {
        let pkg = pki.seal_with_header(A, &[B], edit).unwrap();
        let e = a
            .submit(&format!("hostile-{i}"), pkg)
            .await
            .expect_err(what);
        assert_eq!(e.code(), Some("E_SUBMIT_HEADER"), "{what}: {e}");
    }
    assert_eq!(packages(&x).await, 0, "none was stored");
    // An honest one still goes.
    let pkg = sealed(A, &[B], 100);
    a.submit("honest", pkg).await.unwrap();
    x.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_item_never_holds_up_the_documents_behind_it() {
    let root = scratch("hostile-isolation");
    let (x, a, b_client) = center_ab("hostile_iso_x", BlobStore::Fs).await;

    // Three documents wait for B before its agent starts. The first cannot be put in the
    // inbox (a file stands where its folder goes: a fault on B's disk); the second's
    // earlier download is corrupt in B's cache.
    let mut ids = Vec::new();
    for i in 0..3 {
        let pkg = sealed(A, &[B], 2000);
        ids.push(a.submit(&format!("iso-{i}"), pkg).await.unwrap().id);
    }
    let inbox = root.join(B).join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(inbox.join(&ids[0]), b"not a folder").unwrap();
    let incoming = root.join("data").join("incoming");
    std::fs::create_dir_all(&incoming).unwrap();
    let mut corrupt = b_client.fetch(&ids[1]).await.unwrap();
    let n = corrupt.len();
    corrupt[n - 40] ^= 0x55;
    std::fs::write(incoming.join(format!("{B}-{}.pkg", ids[1])), &corrupt).unwrap();

    let node = agent_for_b(&root, &x, "hostile_iso_node").await;
    // The second (fetched again) and the third arrive although the first fails.
    for id in &ids[1..] {
        let p = inbox.join(id).join("receipt.json");
        within(30, "the documents behind the failing one", || async {
            p.is_file()
        })
        .await;
    }
    assert!(inbox.join(&ids[0]).is_file(), "the first is still blocked");
    let copy = a.sent(&ids[0]).await.unwrap();
    assert_eq!(
        copy.copies[0].status,
        CopyStatus::Available,
        "not acknowledged"
    );
    // The fault is repaired: the first arrives on a later try, once.
    std::fs::remove_file(inbox.join(&ids[0])).unwrap();
    let p = inbox.join(&ids[0]).join("receipt.json");
    within(60, "the first document after the repair", || async {
        p.is_file()
    })
    .await;
    for id in &ids {
        within(30, "送達 of each", || async {
            a.sent(id)
                .await
                .is_ok_and(|s| s.copies[0].status == CopyStatus::Delivered)
        })
        .await;
    }
    node.shutdown().await;
    x.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_that_differs_from_the_signed_document_is_returned() {
    let pki = pki();
    let root = scratch("hostile-claims");
    let (x, a, _) = center_ab("hostile_claims_x", BlobStore::Fs).await;
    // The center cannot see the DI: it accepts the claim. B's agent must not.
    let pkg = pki
        .seal_with_header(A, &[B], |h| {
            h.subject = "緊急：請立即匯款".into();
            h.urgency = "最速件".into();
        })
        .unwrap();
    let id = a.submit("claims", pkg).await.unwrap().id;
    let node = agent_for_b(&root, &x, "hostile_claims_node").await;
    within(30, "the automatic return", || async {
        a.sent(&id)
            .await
            .is_ok_and(|s| s.copies[0].status == CopyStatus::Returned)
    })
    .await;
    let s = a.sent(&id).await.unwrap();
    let detail = serde_json::to_string(&s.copies[0]).unwrap();
    assert!(detail.contains("無法開啟"), "{detail}");
    assert!(
        !root.join(B).join("inbox").join(&id).exists(),
        "nothing in the inbox"
    );
    node.shutdown().await;
    x.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_racing_on_one_idempotency_key_send_once() {
    let root = scratch("hostile-idem");
    let (x, node, api) = network(&root, "hostile_idem").await;
    let pdf: Vec<u8> = b"%PDF-1.4\n"
        .iter()
        .copied()
        .chain(std::iter::repeat_n(b'x', 1_500_000))
        .collect();
    // Four retries of one request at once, with a body large enough that they overlap.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (api, pdf) = (api.clone(), pdf.clone());
        tasks.spawn(async move {
            let d = draft(&["big.pdf"]);
            let f = [
                ("draft", None, d.as_bytes()),
                ("attachment", Some("big.pdf"), pdf.as_slice()),
            ];
            api.send(&f, Some("same-key-1")).await
        });
    }
    let mut ids = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (s, v) = r.unwrap();
        assert!(s == 200 || s == 202, "{v}");
        ids.push(v["package_id"].as_str().unwrap().to_string());
    }
    assert!(ids.iter().all(|i| *i == ids[0]), "one package: {ids:?}");
    assert_eq!(packages(&x).await, 1, "sent once");
    // The waiting retries were answered without their bodies being read, so the server
    // closed those connections: a fresh client for what follows.
    let http = gongwen_client::plain_http(&std::fs::read(pki().ca.root_file()).unwrap());
    let api = Api {
        http: http.unwrap(),
        ..api
    };
    let (s, _) = api.get(&format!("/api/v1/sent/{}", ids[0])).await;
    assert_eq!(s, 200, "the agent knows what it sent");

    // A number, once sealed, is spent even when the center refuses the package: the
    // next draft does not get it again.
    let d = draft(&["tool.exe"]);
    let exe: &[u8] = b"MZ not really";
    let f = [
        ("draft", None, d.as_bytes()),
        ("attachment", Some("tool.exe"), exe),
    ];
    let (s, v) = api.send(&f, Some("refused-1")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (415, Some("E_SUBMIT_FILE_TYPE")),
        "{v}"
    );
    let d = draft(&[]);
    let (s, v) = api.send(&[("draft", None, d.as_bytes())], None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["serial"], 3,
        "serial 2 went with the refused package: {v}"
    );
    node.shutdown().await;
    x.shutdown().await;
}
