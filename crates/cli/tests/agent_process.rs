//! `gongwen agent serve` as agencies run it, against a real center: killed with SIGKILL in the
//! middle of sending and of receiving, in folder mode and in API mode, and started again.
//! Every document ends exactly once in sent/ and in the recipient's inbox: no duplicate at
//! the center or in the inbox, nothing lost, nothing left half-moved.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use gongwen_agent::{AgencyConfig, AgentConfig, ApiConfig};
use gongwen_center::BlobStore;
use gongwen_client::CenterClient;
use gongwen_client::agent::{AgentClient, Part};
use gongwen_integration::{A, B, fresh_database, pki, runtime, scratch};

use common::{BIN, free_port, ok, run, words};

#[derive(serde::Serialize)]
struct File {
    agent: AgentConfig,
}

fn agency(code: &str, center: std::net::SocketAddr, root: &Path, folder: bool) -> AgencyConfig {
    let p = pki();
    let a = p.agency(code);
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
        folder: folder.then(|| root.join(code)),
        name: Some(format!("測試機關{code}")),
        word: Some("測試字".into()),
        address: None,
        contact: Vec::new(),
        webhook: None,
    }
}

/// Writes the configuration of a node in `root` on a fresh database `db`, serving `codes`, in
/// folder mode or with the API on `api_port`.
async fn write_config(
    root: &Path,
    db: &str,
    center: std::net::SocketAddr,
    api_port: Option<u16>,
    codes: &[&str],
) -> PathBuf {
    std::fs::create_dir_all(root).unwrap();
    let folder = api_port.is_none();
    let cfg = AgentConfig {
        database_url: fresh_database(db).await,
        data_dir: root.join("data"),
        trust_anchors: vec![pki().ca.root_file()],
        crls: vec![pki().ca.dir().join("crl")],
        poll_s: 1,
        settle_s: 0,
        clamd: None,
        retention_days: 365,
        inbox_mode: "0640".into(),
        web: Default::default(),
        api: api_port.map(|p| ApiConfig {
            listen: format!("127.0.0.1:{p}"),
            tls: None,
            max_upload_mb: 10,
            ..Default::default()
        }),
        agencies: codes
            .iter()
            .map(|c| agency(c, center, root, folder))
            .collect(),
    };
    let path = root.join("gongwen.toml");
    std::fs::write(&path, toml::to_string(&File { agent: cfg }).unwrap()).unwrap();
    path
}

/// A running `gongwen agent serve`, killed when dropped (a failed test leaves none behind).
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `gongwen agent serve`; what it logs goes to `agent.log` beside the configuration.
fn serve(config: &Path) -> Node {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(config.with_file_name("agent.log"))
        .unwrap();
    Node(
        Command::new(BIN)
            .args(["agent", "serve", "--config"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("gongwen agent serve"),
    )
}

/// SIGKILL, and waits for the process to be gone.
fn kill(node: &mut Node) {
    node.0.kill().expect("SIGKILL");
    node.0.wait().unwrap();
}

/// The entries of a folder.
fn all_entries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The visible entries of a folder (not the hidden work in progress).
fn entries(dir: &Path) -> BTreeSet<String> {
    let mut all = all_entries(dir);
    all.retain(|n| !n.starts_with('.'));
    all
}

/// Waits (up to `secs`) until `f` says yes, checking every 5 ms.
async fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    for _ in 0..secs * 200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Everything A sent, by the center: (package id, document number).
async fn sent_at_center(a: &CenterClient) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut q = vec![("limit", "500")];
        if let Some(c) = &after {
            q.push(("after", c.as_str()));
        }
        let page = a.sent_list(&q).await.unwrap();
        let n = page.items.len();
        out.extend(page.items.into_iter().map(|p| (p.id, p.doc_number)));
        match page.next {
            Some(c) if n > 0 => after = Some(c),
            _ => break,
        }
    }
    out
}

/// What the center records of `kind` for packages A sent.
async fn records(a: &CenterClient, kind: &str) -> Vec<String> {
    a.records(&[("kind", kind), ("limit", "10000")])
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|r| r.package_id)
        .collect()
}

/// Checks the center's side: each of `ids` accepted once, delivered to B once, and nothing
/// else sent.
async fn check_center(a: &CenterClient, b: &CenterClient, ids: &BTreeSet<String>) {
    let sent = sent_at_center(a).await;
    let sent_ids: BTreeSet<String> = sent.iter().map(|(i, _)| i.clone()).collect();
    assert_eq!(sent.len(), sent_ids.len(), "a package listed twice");
    assert_eq!(&sent_ids, ids, "the center has exactly the documents sent");
    let numbers: BTreeSet<&String> = sent.iter().map(|(_, n)| n).collect();
    assert_eq!(
        numbers.len(),
        sent.len(),
        "two packages share a 發文字號: {sent:?}"
    );
    let accepted = records(a, "accepted").await;
    assert_eq!(
        accepted.len(),
        ids.len(),
        "one acceptance record per package"
    );
    assert_eq!(&accepted.into_iter().collect::<BTreeSet<_>>(), ids);
    for p in &sent_ids {
        let v = a.sent(p).await.unwrap();
        assert_eq!(v.copies.len(), 1);
        assert_eq!(
            v.copies[0].status,
            gongwen_proto::CopyStatus::Delivered,
            "{p}"
        );
    }
    assert!(
        b.inbox(&[]).await.unwrap().items.is_empty(),
        "nothing still waits for B"
    );
}

/// A center on a fresh database (`t` tells the tests apart), and A's and B's clients of it.
async fn center(t: &str) -> (gongwen_center::Running, CenterClient, CenterClient) {
    let pki = pki();
    let x = gongwen_testbed::start_center(
        pki,
        &format!("agent-process-{t}"),
        &fresh_database(&format!("agent_process_{t}_center")).await,
        BlobStore::Fs,
    )
    .await
    .unwrap();
    let a = pki.client(x.addr(), A).unwrap();
    let b = pki.client(x.addr(), B).unwrap();
    (x, a, b)
}

#[test]
fn a_folder_mode_agent_killed_mid_send_and_mid_receive_delivers_each_document_once() {
    runtime().block_on(async {
        let root = scratch("agent-process-folders");
        let (x, a, b) = center("f").await;
        let config = write_config(&root, "agent_process_f", x.addr(), None, &[A, B]).await;

        // Thirty letters in A's outbox before the node starts, each DI written last.
        const N: usize = 30;
        let outbox = root.join(A).join("outbox");
        std::fs::create_dir_all(&outbox).unwrap();
        let mut names = BTreeSet::new();
        for _ in 0..N {
            let (di, sw, atts) = gongwen_testbed::letter(A, &[B], 60_000).unwrap();
            for (name, bytes) in atts.iter().chain(std::iter::once(&sw)) {
                std::fs::write(outbox.join(name), bytes).unwrap();
            }
            std::fs::write(outbox.join(&di.0), &di.1).unwrap();
            names.insert(di.0.trim_end_matches(".di").to_string());
        }
        assert_eq!(names.len(), N);
        let sent_dir = root.join(A).join("sent");
        let inbox = root.join(B).join("inbox");
        let sent = || entries(&sent_dir).len();
        let received = || entries(&inbox).len();

        // Killed while sending, twice; then while receiving, twice.
        let mut kills = Vec::new();
        for (i, at) in [(0, 5), (0, 15), (1, 8), (1, 20)] {
            let mut node = serve(&config);
            if i == 0 {
                wait_for("sets moving to sent/", 60, || sent() >= at).await;
            } else {
                wait_for("sets arriving in B's inbox", 60, || received() >= at).await;
            }
            kill(&mut node);
            kills.push((sent(), received()));
        }
        eprintln!("(sent, received) at each kill: {kills:?}");
        assert!(
            kills.iter().any(|(s, _)| *s < N) && kills.iter().any(|(_, r)| *r < N),
            "the kills came too late to test anything: {kills:?}"
        );

        // Started again for good: everything arrives.
        let mut node = serve(&config);
        wait_for("all sent and received", 60, || {
            sent() == N && received() == N
        })
        .await;
        // A round more to show nothing else comes.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        kill(&mut node);

        // A's folders: each set in sent/ whole with its status; nothing left behind.
        assert_eq!(all_entries(&outbox), BTreeSet::new(), "outbox");
        assert!(entries(&root.join(A).join("error")).is_empty());
        let names_sent = entries(&sent_dir);
        assert_eq!(names_sent, names);
        let mut ids = BTreeSet::new();
        for name in &names_sent {
            let d = sent_dir.join(name);
            let files = all_entries(&d);
            assert_eq!(
                files.len(),
                4,
                "{name}: DI, SW, attachment and status.json: {files:?}"
            );
            let status: serde_json::Value =
                serde_json::from_slice(&std::fs::read(d.join("status.json")).unwrap()).unwrap();
            assert!(
                ids.insert(status["id"].as_str().unwrap().to_string()),
                "{status}"
            );
        }
        // B's inbox: each package once, whole, nothing half-opened.
        assert_eq!(entries(&inbox), ids, "B's inbox holds exactly what A sent");
        assert_eq!(all_entries(&inbox), ids, "no hidden leftovers");
        for id in &ids {
            let files = all_entries(&inbox.join(id));
            assert_eq!(files.len(), 4, "{id}: {files:?}");
            assert!(files.contains("receipt.json"));
        }
        check_center(&a, &b, &ids).await;
        x.shutdown().await;
    });
}

#[test]
fn an_api_agent_killed_mid_send_and_mid_receive_delivers_each_document_once() {
    runtime().block_on(async {
        let root = scratch("agent-process-api");
        let (x, a, b) = center("a").await;
        // A sends from one node, B receives at another: each is killed at its own work.
        let (pa, pb) = (free_port(), free_port());
        let (root_a, root_b) = (root.join("a"), root.join("b"));
        let config_a = write_config(&root_a, "agent_process_a", x.addr(), Some(pa), &[A]).await;
        let config_b = write_config(&root_b, "agent_process_b", x.addr(), Some(pb), &[B]).await;
        // The document systems are registered the way an administrator does it.
        let token = |config: &Path, code: &str| {
            let add = format!("agent client add --agency {code} --name 公文系統 --config");
            let args = [words(&add), vec![config.to_str().unwrap()]].concat();
            let out = ok(run(&root, &[], BIN, &args));
            out.lines().nth(1).unwrap().trim().to_string()
        };
        let (base_a, base_b) = (format!("http://127.0.0.1:{pa}"), format!("http://127.0.0.1:{pb}"));
        let token_a = token(&config_a, A);
        let token_b = token(&config_b, B);
        // A new client each time: no connection kept from a node that was killed.
        let receiver = || AgentClient::new(&base_b, &token_b, b"").unwrap();
        let up = |base: String| async move {
            let probe = AgentClient::new(&base, "", b"").unwrap();
            for _ in 0..600 {
                if probe.get("/healthz").await.is_ok() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("the agent at {base} did not start");
        };

        const N: usize = 30;
        let drafts: Vec<String> = (0..N)
            .map(|i| {
                serde_json::json!({
                    "文別": "函", "速別": "普通件", "主旨": format!("第{i}件測試公文，請查照。"),
                    "地址": "100 臺北市中正區測試路1號", "聯絡方式": ["承辦人：王小明"], "署名": ["機關首長　王大明"],
                    "段落": [{ "段名": "說明：", "條列": [{ "序號": "一、", "文字": "依規定辦理。" }] }],
                    "附件": { "文字": "附件1份", "檔案": ["附件.pdf"] },
                    "正本": [{ "全銜": format!("測試機關{B}"), "機關代碼": B }],
                })
                .to_string()
            })
            .collect();
        let attachment = {
            let mut v = b"%PDF-1.4\n".to_vec();
            v.extend((0..60_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
            v
        };
        // The document system sends each draft with its own key until it hears back; the
        // node is killed under it, mid-send.
        let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let send_all = |from: usize| {
            // A new client each time: no connection kept from a node that was killed.
            let sender = AgentClient::new(&base_a, &token_a, b"").unwrap();
            let drafts = drafts.clone();
            let attachment = attachment.clone();
            let answered = answered.clone();
            async move {
                let mut answers = BTreeMap::new();
                let mut stopped = None;
                for (i, d) in drafts.iter().enumerate().skip(from) {
                    let parts = [
                        Part { field: "draft", file: None, bytes: d.as_bytes() },
                        Part { field: "attachment", file: Some("附件.pdf"), bytes: &attachment },
                    ];
                    match sender.send(&parts, Some(&format!("doc-{i}"))).await {
                        Ok(v) => {
                            answers.insert(i, v);
                            answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        // The node is gone: stop; the rest are sent later.
                        Err(e) => {
                            stopped = Some(format!("doc-{i}: {e}"));
                            break;
                        }
                    }
                }
                (answers, stopped)
            }
        };
        let in_b = || async {
            receiver()
                .get("/api/v1/inbox?state=all&limit=500")
                .await
                .map(|v| v["items"].as_array().map(Vec::len).unwrap_or(0))
                .unwrap_or(0)
        };
        let mut answers: BTreeMap<usize, gongwen_proto::agent::SendResult> = BTreeMap::new();
        let mut kills = Vec::new();
        for round in 0..4 {
            let mut node = serve(&config_a);
            up(base_a.clone()).await;
            let from = answers.keys().max().map(|k| k + 1).unwrap_or(0);
            answered.store(0, std::sync::atomic::Ordering::SeqCst);
            let task = tokio::spawn(send_all(from));
            // A few more answers, then the kill while the next is in flight.
            wait_for("answers", 60, || {
                task.is_finished()
                    || answered.load(std::sync::atomic::Ordering::SeqCst) >= 3 + round
            })
            .await;
            kill(&mut node);
            answers.extend(task.await.unwrap().0);
            kills.push(answers.len());
        }
        assert!(
            kills.iter().any(|s| *s < N),
            "the kills came too late to test anything: {kills:?}"
        );
        // Started again for good: the document system sends everything again with the same
        // keys; what was sent before answers with the same package.
        let mut node_a = serve(&config_a);
        up(base_a.clone()).await;
        let (again, stopped) = send_all(0).await;
        assert_eq!(again.len(), N, "every draft answered: {stopped:?}");
        let mut ids = BTreeSet::new();
        for (i, v) in &again {
            let id = v.package_id.clone();
            if let Some(first) = answers.get(i) {
                assert_eq!(first.package_id, v.package_id, "doc-{i} answered the same");
            }
            assert!(ids.insert(id), "doc-{i} shares a package: {v:?}");
        }
        assert_eq!(a.sent_list(&[("limit", "500")]).await.unwrap().items.len(), N);

        // B's node is killed while it receives, three times, each after one more arrived.
        let mut receiving = Vec::new();
        for _ in 0..3 {
            let mut node = serve(&config_b);
            up(base_b.clone()).await;
            let before = in_b().await;
            for _ in 0..3000 {
                if in_b().await > before {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            kill(&mut node);
            receiving.push(before);
        }
        eprintln!("answered at each kill {kills:?}; received at each restart {receiving:?}");
        assert!(
            receiving.iter().any(|r| *r > 0 && *r < N),
            "no kill landed while receiving: {receiving:?}"
        );
        let mut node_b = serve(&config_b);
        up(base_b.clone()).await;
        // Every one reaches B's document system once.
        let mut inbox = Vec::new();
        for _ in 0..600 {
            let v = receiver().get("/api/v1/inbox?state=all&limit=500").await.unwrap();
            inbox = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["package_id"].as_str().unwrap_or_default().to_string())
                .collect::<Vec<_>>();
            if inbox.len() >= N {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let unique: BTreeSet<String> = inbox.iter().cloned().collect();
        assert_eq!(unique.len(), inbox.len(), "a document twice in B's inbox: {inbox:?}");
        assert_eq!(unique, ids, "B received exactly what A sent");
        for id in &ids {
            let v = receiver().get(&format!("/api/v1/inbox/{id}")).await.unwrap();
            assert_eq!(v["state"], "delivered", "{v}");
        }
        // Received sets on disk: each once, nothing half-opened.
        let store = root_b.join("data").join("inbox").join(B);
        assert_eq!(all_entries(&store), ids, "no hidden leftovers in {}", store.display());
        tokio::time::sleep(Duration::from_millis(1500)).await;
        kill(&mut node_a);
        kill(&mut node_b);
        check_center(&a, &b, &ids).await;
        x.shutdown().await;
    });
}
