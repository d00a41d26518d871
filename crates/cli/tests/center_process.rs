//! `gongwen center` as people run it: participants registered with `center admin`, the server
//! started with `center serve`, killed with SIGKILL in the middle of a load and started again:
//! nothing acknowledged is lost, nothing is delivered twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use gongwen_center::BlobStore;
use gongwen_center::CenterConfig;
use gongwen_integration::{A, B, fresh_database, pki, runtime, scratch};
use gongwen_proto::HeaderOptions;

use common::{BIN, exits, free_port, has};

#[derive(serde::Serialize)]
struct File {
    center: CenterConfig,
}

/// `gongwen center admin` with `args` on the configuration `config`.
fn admin(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(["center", "admin", "--config"])
        .arg(config)
        .args(args)
        .env("GONGWEN_LOG_QUIET", "1")
        .output()
        .expect("gongwen")
}

/// `admin`, which must succeed; all it printed.
fn gongwen(config: &Path, args: &[&str]) -> String {
    exits(admin(config, args), 0, &[])
}

fn serve(config: &Path) -> Child {
    Command::new(BIN)
        .args(["center", "serve", "--config"])
        .arg(config)
        .env("GONGWEN_LOG_QUIET", "1")
        .stdout(Stdio::null())
        .spawn()
        .expect("gongwen center serve")
}

async fn wait_up(c: &gongwen_client::CenterClient) {
    for _ in 0..300 {
        if c.health().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the center did not start");
}

#[test]
fn killed_mid_load_loses_nothing_acknowledged_and_sends_nothing_twice() {
    runtime().block_on(async {
        let pki = pki();
        let dir = scratch("center-process");
        let port = free_port();
        let mut cfg = pki.center_config("process", &fresh_database("process").await, BlobStore::Fs);
        cfg.listen = format!("127.0.0.1:{port}");
        cfg.data_dir = dir.join("data");
        let config = dir.join("gongwen.toml");
        std::fs::write(&config, toml::to_string(&File { center: cfg }).unwrap()).unwrap();

        // Registered the way an administrator does it.
        for code in [A, B] {
            let a = pki.agency(code);
            let name = format!("測試機關{code}");
            gongwen(&config, &["add", code, "--name", &name]);
            let files = [&a.sign_file, &a.enc_file, &a.tls_leaf].map(|f| f.to_str().unwrap());
            let out = gongwen(&config, &[&["cert", code][..], &files].concat());
            has(&out, &["tls", "signing", "encryption"]);
            gongwen(&config, &["ip", code, "127.0.0.1"]);
        }
        has(&gongwen(&config, &["list"]), &[A, "正常", "來源 127.0.0.1"]);

        let mut server = serve(&config);
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let a = pki.client(addr, A).unwrap();
        let b = pki.client(addr, B).unwrap();
        wait_up(&a).await;

        let packages: Vec<Vec<u8>> = (0..64)
            .map(|_| pki.seal(A, &[B], 20_000, HeaderOptions::default()).unwrap())
            .collect();
        let ids: Vec<String> = packages
            .iter()
            .map(|p| gongwen_trust::package::inspect(p).unwrap().header.id)
            .collect();
        // Four submitters; the server dies under them.
        let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for t in 0..4 {
            let a = a.clone();
            let done = done.clone();
            let mine: Vec<(usize, Vec<u8>)> = packages
                .iter()
                .cloned()
                .enumerate()
                .filter(|(i, _)| i % 4 == t)
                .collect();
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for (i, p) in mine {
                    if let Ok(v) = a.submit(&format!("load-{i}"), p).await {
                        acked.push((i, v.id));
                        done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                acked
            }));
        }
        while done.load(std::sync::atomic::Ordering::SeqCst) < 16 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        server.kill().expect("SIGKILL");
        server.wait().unwrap();
        let mut acked = Vec::new();
        for t in tasks {
            acked.extend(t.await.unwrap());
        }
        assert!(
            acked.len() < packages.len(),
            "the kill came too late to test anything"
        );

        let mut server = serve(&config);
        wait_up(&a).await;
        let inbox: Vec<String> = b
            .inbox(&[("limit", "1000")])
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.id)
            .collect();
        let unique: BTreeSet<&String> = inbox.iter().collect();
        assert_eq!(unique.len(), inbox.len(), "a package appears twice");
        for (i, id) in &acked {
            assert_eq!(id, &ids[*i]);
            assert!(unique.contains(id), "acknowledged package {i} lost");
        }
        // Every body that is listed is whole.
        for id in &inbox {
            let i = ids.iter().position(|x| x == id).unwrap();
            assert_eq!(b.fetch(id).await.unwrap(), packages[i]);
        }
        // Each client retries what it did not hear back about, with the same key.
        for (i, p) in packages.iter().enumerate() {
            let v = a.submit(&format!("load-{i}"), p.clone()).await.unwrap();
            assert_eq!(v.id, ids[i]);
            if acked.iter().any(|(j, _)| *j == i) {
                assert!(v.replayed);
            }
        }
        let inbox = b.inbox(&[("limit", "1000")]).await.unwrap().items;
        assert_eq!(inbox.len(), packages.len(), "each package exactly once");

        let csv = gongwen(&config, &["records", "--kind", "accepted", "--csv"]);
        assert_eq!(csv.lines().count(), packages.len() + 1, "{csv}");
        server.kill().unwrap();
        server.wait().unwrap();
    });
}

#[test]
fn a_center_run_from_the_directory_refuses_hand_registration() {
    let pki = pki();
    let dir = scratch("center-directory-mode");
    let url = runtime().block_on(fresh_database("center_directory_mode"));
    let mut cfg = pki.center_config("process", &url, BlobStore::Fs);
    cfg.data_dir = dir.join("data");
    cfg.federation.client_cert = Some(pki.center_clients[0].0.clone());
    cfg.federation.client_key = Some(pki.center_clients[0].1.clone());
    cfg.directory = Some(gongwen_center::config::DirectorySource {
        url: "https://directory.example:8440".into(),
        signer: pki.directory_signer.0.clone(),
        refresh_s: 60,
    });
    let config = dir.join("gongwen.toml");
    std::fs::write(&config, toml::to_string(&File { center: cfg }).unwrap()).unwrap();
    let o = admin(&config, &["add", A, "--name", "測試機關"]);
    exits(o, 1, &["通訊錄", "directory.example"]);
}
