//! What the integration tests share: a runtime, a fresh database per test (SQLite file, or a
//! new PostgreSQL database when `GONGWEN_TEST_DATABASE_URL` names a server), and one test CA.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use gongwen_testbed::Pki;

/// The agencies every test can use. 376410000A is the one tests suspend or restrict.
pub const A: &str = "379000000A";
pub const B: &str = "379130000C";
pub const C: &str = "379050000D";
pub const D: &str = "376410000A";

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A fresh folder for one test, under one folder per test process. Folders that earlier test
/// processes left behind (their process is gone) are removed the first time.
pub fn scratch(name: &str) -> PathBuf {
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(|| {
        if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.strip_prefix("gongwen-it-").is_some_and(gone) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    });
    let dir = std::env::temp_dir()
        .join(format!("gongwen-it-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Whether `pid` names a process, not this one, that has ended: an earlier test process.
fn gone(pid: &str) -> bool {
    pid.parse::<u32>().is_ok_and(|p| p != std::process::id())
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki::create(&scratch("pki"), &[A, B, C, D]).expect("test CA"))
}

/// Which engine the tests run on: `postgres` when `GONGWEN_TEST_DATABASE_URL` is set.
pub fn engine() -> &'static str {
    match std::env::var("GONGWEN_TEST_DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => "postgres",
        _ => "sqlite",
    }
}

/// A database nobody else uses: a new SQLite file, or a new PostgreSQL database on the server
/// `GONGWEN_TEST_DATABASE_URL` names.
pub async fn fresh_database(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    match std::env::var("GONGWEN_TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            use sqlx::Connection;
            // A bare identifier: letters, digits and underscores only.
            let name: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let db = format!("gongwen_it_{}_{n}_{name}", std::process::id()).to_lowercase();
            let mut c = sqlx::PgConnection::connect(&base)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL {base}：{e}"));
            // Databases of earlier test processes that are gone.
            if n == 0 {
                let old: Vec<(String,)> = sqlx::query_as(
                    "SELECT datname::text FROM pg_database WHERE datname LIKE 'gongwen_it_%'",
                )
                .fetch_all(&mut c)
                .await
                .unwrap_or_default();
                for (name,) in old {
                    if name.split('_').nth(2).is_some_and(gone) {
                        let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}"))
                            .execute(&mut c)
                            .await;
                    }
                }
            }
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {db}"))
                .execute(&mut c)
                .await
                .expect("drop database");
            sqlx::raw_sql(&format!("CREATE DATABASE {db}"))
                .execute(&mut c)
                .await
                .expect("create database");
            let (head, _) = base.rsplit_once('/').expect("postgres://host/db");
            format!("{head}/{db}")
        }
        _ => format!(
            "sqlite://{}",
            scratch(&format!("db-{n}-{name}"))
                .join("center.db")
                .display()
        ),
    }
}

/// The socket of a ClamAV daemon for the tests: `GONGWEN_TEST_CLAMD` (scripts/test starts
/// one), else one started here from Debian's `clamav-daemon` with a single signature (the
/// EICAR test string), stopped within half an hour. Panics when there is no clamd: the
/// malware tests do not skip.
pub fn clamd() -> &'static str {
    static SOCKET: OnceLock<String> = OnceLock::new();
    SOCKET.get_or_init(|| {
        if let Ok(s) = std::env::var("GONGWEN_TEST_CLAMD")
            && std::path::Path::new(&s).exists()
        {
            return s;
        }
        let dir = scratch("clamd");
        std::fs::create_dir_all(dir.join("db")).expect("clamd folder");
        std::fs::write(
            dir.join("db").join("gongwen-test.ndb"),
            format!("Eicar-Test-Signature:0:*:{}\n", hex(EICAR.as_bytes())),
        )
        .expect("signature file");
        let socket = dir.join("clamd.sock");
        let mut conf = format!(
            "Foreground yes\nDatabaseDirectory {}\nLocalSocket {}\nTemporaryDirectory {}\nStreamMaxLength 300M\n",
            dir.join("db").display(),
            socket.display(),
            dir.display()
        );
        if std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0")) {
            conf.push_str("User root\n");
        }
        std::fs::write(dir.join("clamd.conf"), conf).expect("clamd.conf");
        // Kept for the life of the test process (`timeout` ends clamd after it).
        static CHILD: OnceLock<std::sync::Mutex<std::process::Child>> = OnceLock::new();
        let child = std::process::Command::new("timeout")
            .arg("1800")
            .arg("/usr/sbin/clamd")
            .arg(format!("--config-file={}", dir.join("clamd.conf").display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("clamd is not installed: apt-get install clamav-daemon (scripts/test does)");
        let _ = CHILD.set(std::sync::Mutex::new(child));
        for _ in 0..240 {
            if socket.exists() {
                return socket.display().to_string();
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        panic!("clamd did not start (see {})", dir.display());
    })
}

/// The EICAR anti-virus test string: harmless, and found by every scanner.
pub const EICAR: &str = concat!(
    "X5O!P%@AP[4\\PZX54(P^)7CC)7}$",
    "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
);

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The TLS configuration of a client holding test agency `code`'s certificate.
pub fn agency_tls(code: &str) -> rustls::ClientConfig {
    let (pki, read) = (pki(), |f: &std::path::Path| std::fs::read(f).unwrap());
    let a = pki.agency(code);
    let identity = (read(&a.tls_cert), read(&a.tls_key));
    gongwen_client::tls_config(&read(&pki.ca.root_file()), Some((&identity.0, &identity.1)))
        .unwrap()
}

/// A package from `from` to `to` with an attachment of `attachment` bytes and no options.
pub fn sealed(from: &str, to: &[&str], attachment: usize) -> Vec<u8> {
    let options = gongwen_proto::HeaderOptions::default();
    pki().seal(from, to, attachment, options).unwrap()
}

/// `who` signs 送達 and then 收文確認 for package `id` (sealed as `pkg`) through `c`.
pub async fn confirm(c: &gongwen_client::CenterClient, who: &str, id: &str, pkg: &[u8]) {
    use gongwen_trust::receipt::ReceiptEvent;
    for ev in [ReceiptEvent::Delivered, ReceiptEvent::Confirmed] {
        let receipt = pki().receipt(who, pkg, ev, None, None).unwrap();
        c.receipt(id, receipt).await.unwrap();
    }
}

/// The records `c` may see of package `id`.
pub async fn records_of(
    c: &gongwen_client::CenterClient,
    id: &str,
) -> Vec<gongwen_proto::api::Record> {
    c.records(&[("package_id", id)]).await.unwrap().items
}

/// How many packages center `x` holds.
pub async fn packages(x: &gongwen_center::Running) -> usize {
    let rows = x.app.db.fetch_all("SELECT id FROM packages", &[]);
    rows.await.unwrap().len()
}

/// How many error records center `x` holds.
pub async fn error_records(x: &gongwen_center::Running) -> usize {
    let rows = x
        .app
        .db
        .fetch_all("SELECT detail FROM events WHERE kind = 'error'", &[]);
    rows.await.unwrap().len()
}

/// The JSON file at `p`.
pub fn json_file(p: impl AsRef<std::path::Path>) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// The code of the refusal `r` must be; panics on a success.
pub fn code_of<T>(r: Result<T, gongwen_client::ClientError>) -> String {
    match r {
        Err(e) => e.code().unwrap_or("(no code)").to_string(),
        Ok(_) => panic!("expected a refusal, got a success"),
    }
}

/// Waits (15 s at most, every 50 ms) until `f` says yes; panics naming `what` otherwise.
pub async fn until<F, Fut>(what: &str, f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    within(15, what, f).await
}

/// Waits `secs` seconds at most (every 50 ms) until `f` says yes; panics naming `what`
/// otherwise.
pub async fn within<F, Fut>(secs: u64, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..secs * 20 {
        if f().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A service's router and its OpenAPI document agree: every route under `/api/`, `/healthz`
/// and `/metrics` is documented with the same methods, and every documented operation reaches
/// its route. axum lists its routes only in its `Debug` output (each path, and each route's
/// `Allow` header); the requests then confirm that every documented operation is routed.
pub async fn router_matches_openapi(router: axum::Router, doc: &serde_json::Value) {
    use std::collections::BTreeSet;
    use tower::ServiceExt;
    let listing = format!("{router:?}");
    let own = listing.split("fallback_router").next().unwrap();
    let (routes, paths) = own.split_at(own.find("paths: {").expect("axum lists its paths"));
    let mut served = BTreeSet::new();
    for entry in paths["paths: {".len()..].split("RouteId(").skip(1) {
        let (id, rest) = entry.split_once(')').unwrap();
        let path = rest.split('"').nth(1).unwrap();
        let at = routes
            .find(&format!("RouteId({id}): MethodRouter("))
            .unwrap();
        let allow = routes[at..]
            .split("allow_header: Bytes(b\"")
            .nth(1)
            .unwrap();
        let allow = allow.split('"').next().unwrap();
        if path.starts_with("/api/") || path == "/healthz" || path == "/metrics" {
            for m in allow.split(',').filter(|m| *m != "HEAD") {
                served.insert((path.to_string(), m.to_string()));
            }
        }
    }
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in ["get", "put", "post", "delete", "patch"] {
            if item.get(m).is_some() {
                documented.insert((path.clone(), m.to_uppercase()));
            }
        }
    }
    assert!(served.len() > 3, "no routes read from {listing}");
    assert_eq!(
        served, documented,
        "routes served (left) and documented (right)"
    );
    let router = router.route_layer(axum::middleware::from_fn(
        |req: axum::extract::Request, next: axum::middleware::Next| async move {
            let matched = req
                .extensions()
                .get::<axum::extract::MatchedPath>()
                .cloned();
            let mut res = next.run(req).await;
            res.extensions_mut().insert(matched);
            res
        },
    ));
    for (path, method) in documented {
        let uri: String = path.replace('{', "x").replace('}', "");
        let req = axum::http::Request::builder()
            .method(method.as_str())
            .uri(&uri)
            .body(axum::body::Body::empty())
            .unwrap();
        let res = router.clone().oneshot(req).await.unwrap();
        let matched = res.extensions().get::<Option<axum::extract::MatchedPath>>();
        let matched = matched.cloned().flatten();
        assert_eq!(
            matched.as_ref().map(|m| m.as_str()),
            Some(path.as_str()),
            "{method} {uri}"
        );
        assert_ne!(res.status(), 405, "{method} {uri}");
    }
}

/// The bundled office calendar, with stand-ins for the years up to 2030 it does not cover:
/// plain weekdays, named as test tables. Tests run on today's date, and a deadline counted from
/// it may reach a year whose official table the project does not have yet (the office then
/// leaves it blank, as it should); with these the tests of everything else keep their meaning.
/// For tests only, never shipped.
pub fn test_calendar() -> gongwen_office::timing::WorkCalendar {
    let mut cal = gongwen_office::timing::WorkCalendar::with_bundled().unwrap();
    cal.add_file(test_years_csv(&cal).as_bytes()).unwrap();
    cal
}

/// [`test_calendar`]'s stand-in years as a calendar file (`[office] calendars`) in `dir`.
pub fn test_calendar_file(dir: &std::path::Path) -> PathBuf {
    let cal = gongwen_office::timing::WorkCalendar::with_bundled().unwrap();
    let path = dir.join("test-calendar.csv");
    std::fs::write(&path, test_years_csv(&cal)).unwrap();
    path
}

fn test_years_csv(bundled: &gongwen_office::timing::WorkCalendar) -> String {
    let mut csv = String::from("date,kind,name\n");
    for year in 2027..=2030 {
        if !bundled.covers(year) {
            csv.push_str(&format!("{year},year,測試用年度（非官方辦公日曆）\n"));
        }
    }
    csv
}

/// A real SMTP server for the tests (Debian's python3-aiosmtpd, installed by `scripts/test`),
/// keeping every message it receives in a Maildir. Stopped when dropped.
pub struct SmtpSink {
    pub port: u16,
    dir: PathBuf,
    child: std::process::Child,
}

impl SmtpSink {
    /// Starts the server on a free loopback port and waits until it answers.
    pub fn start(name: &str) -> SmtpSink {
        let dir = scratch(&format!("smtp-{name}"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = std::process::Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.join("maildir"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3-aiosmtpd（scripts/test 會安裝）");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return SmtpSink { port, dir, child };
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("SMTP 測試伺服器沒有在 127.0.0.1:{port} 啟動");
    }

    /// Every message received so far, as its raw text, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.join("maildir").join("new"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
