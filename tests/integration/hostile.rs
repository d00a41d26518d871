//! What an unknown client on the network can do to the services (issue 15's audit), each
//! through the real interfaces: bodies that are too large or too slow, more connections than
//! allowed, anonymous requests that would fill the database or the center's records, sign-in
//! challenges relayed from another site or another time, lockouts that hit everyone, and what
//! errors, pages, the signer and the files on disk give away.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gongwen_center::Clock;
use gongwen_integration::{A, B, C, agency_tls, engine, error_records, pki, scratch, until};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::agent_api::Api;
use crate::agent_web::{
    Web, ask_signer, browser, card, center_with, challenge, draft_to, login, send, send_with_pdf,
    sign_in, signed_by, start_center, start_node, web,
};

/// What the server answers, read until it closes the connection. A server that keeps the
/// connection open without finishing its answer fails the test (after 30 s of silence).
async fn answer<S: AsyncRead + Unpin>(s: &mut S) -> String {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf)).await {
            Err(_) => panic!(
                "the server kept the connection open without answering: {:?}",
                String::from_utf8_lossy(&out)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends `req` on a new connection to `addr`: what the server answers.
async fn exchange(addr: std::net::SocketAddr, req: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(req).await;
    answer(&mut s).await
}

/// Sends `head` and then the body one byte every 200 ms (a slow client), and returns what
/// the server answers. The body is never sent whole: 40 bytes would take 8 s.
async fn slow_post<S>(s: S, head: String) -> String
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut r, mut w) = tokio::io::split(s);
    w.write_all(head.as_bytes()).await.unwrap();
    let writer = tokio::spawn(async move {
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if w.write_all(b"a").await.is_err() || w.flush().await.is_err() {
                break;
            }
        }
        // Keeps the connection open: the server must end it.
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(w);
    });
    let got = answer(&mut r).await;
    writer.abort();
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_anonymous_bodies_are_refused_before_they_are_read() {
    let w = web("hostile-large").await;
    let Web { n, .. } = &w;
    let addr = n.api_addr().unwrap();

    let post = |path: &str, headers: &str| {
        format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n")
    };
    // `head`, then a body 16 bytes past 64 KiB, its length not announced.
    let chunked = |head: String, fill: u8| {
        let chunk = 64 * 1024 + 16;
        let mut req = format!("{head}Transfer-Encoding: chunked\r\n\r\n{chunk:x}\r\n").into_bytes();
        req.extend(std::iter::repeat_n(fill, chunk));
        req.extend_from_slice(b"\r\n");
        req
    };
    let form = "Content-Type: application/x-www-form-urlencoded";
    let token = Api::new(n, A).await.token;
    let json = "Content-Type: application/json";
    let return_as = |who: &str| post("/api/v1/inbox/x/return", &format!("{who}{json}"));
    for (req, answer_says) in [
        // 180 MiB announced to the sign-in form: refused at once, none of it read.
        (
            post(
                "/login",
                &format!("{form}\r\nContent-Length: {}\r\n", 180 * 1024 * 1024),
            )
            .into_bytes(),
            "64 KiB",
        ),
        // Without a length: cut once past 64 KiB.
        (chunked(post("/login", form), b'a'), ""),
        // A signed-in caller's 退文 is small too, announced or not.
        (
            chunked(
                return_as(&format!("Authorization: Bearer {token}\r\n")),
                b' ',
            ),
            "",
        ),
        // The API's 退文 is small too.
        (
            format!(
                "{}Content-Length: {}\r\n\r\n",
                return_as(""),
                100 * 1024 * 1024
            )
            .into_bytes(),
            "",
        ),
    ] {
        let got = exchange(addr, &req).await;
        assert!(
            got.starts_with("HTTP/1.1 413") && got.contains("E_HTTP_TOO_LARGE"),
            "{got}"
        );
        assert!(got.contains(answer_says), "{got}");
    }
    // The upload route answers an anonymous caller before reading what it sends.
    let req = post(
        "/api/v1/documents",
        &format!(
            "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {}\r\nConnection: close\r\n",
            5 * 1024 * 1024
        ),
    );
    let got = exchange(addr, req.as_bytes()).await;
    assert!(
        got.starts_with("HTTP/1.1 401") && got.contains("E_AGENT_AUTH"),
        "{got}"
    );

    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_is_cut_after_the_timeout_on_the_agent_and_the_center() {
    let x = center_with("hostile_slow_x", &[A, B], |c| c.limits.body_timeout_s = 1).await;
    let n = start_node("hostile-slow", &x, |c| {
        c.api.as_mut().unwrap().body_timeout_s = 1;
    })
    .await;

    // The agent's sign-in form, anonymous.
    let addr = n.api_addr().unwrap();
    let s = TcpStream::connect(addr).await.unwrap();
    let got = slow_post(
        s,
        format!(
            "POST /login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 40\r\n\r\n"
        ),
    )
    .await;
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("E_HTTP_TIMEOUT"), "{got}");

    // The center: a participant's package upload, over mutual TLS.
    let tcp = TcpStream::connect(x.addr()).await.unwrap();
    let s = tokio_rustls::TlsConnector::from(Arc::new(agency_tls(A)))
        .connect(
            rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap(),
            tcp,
        )
        .await
        .unwrap();
    let got = slow_post(
        s,
        format!(
            "POST /api/v1/packages HTTP/1.1\r\nHost: {}\r\nIdempotency-Key: slow-1\r\nContent-Type: application/pkcs7-mime\r\nContent-Length: 40\r\n\r\n",
            x.addr()
        ),
    )
    .await;
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("E_HTTP_TIMEOUT"), "{got}");

    n.shutdown().await;
    x.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_closed_at_once() {
    let x = start_center("hostile-conns-x").await;
    let n = start_node("hostile-conns", &x, |c| {
        c.api.as_mut().unwrap().max_connections_per_ip = 2;
    })
    .await;
    let addr = n.api_addr().unwrap();
    let health = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");

    // Two idle connections from this address take its share.
    let first = TcpStream::connect(addr).await.unwrap();
    let _second = TcpStream::connect(addr).await.unwrap();
    // Let the server accept them before the third arrives.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = exchange(addr, health.as_bytes()).await;
    assert!(
        got.is_empty(),
        "a third connection is closed unanswered: {got}"
    );

    // One closes: the next one is served.
    drop(first);
    until("a connection is served again", || async {
        let got = exchange(addr, health.as_bytes()).await;
        got.starts_with("HTTP/1.1 200")
    })
    .await;

    n.shutdown().await;
    x.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_sign_in_pages_write_nothing() {
    let w = web("hostile-rows").await;
    let Web { n, base, http, .. } = &w;
    for _ in 0..20 {
        let p = send(http.get(format!("{base}/login"))).await;
        assert_eq!(p.status, 200);
    }
    for table in ["agent_challenges", "agent_logins", "agent_sessions"] {
        let rows = n
            .node
            .db
            .fetch_all(&format!("SELECT 1 FROM {table}"), &[])
            .await
            .unwrap();
        assert!(rows.is_empty(), "{table}: {} rows", rows.len());
    }
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_center_requests_are_counted_not_recorded_and_metrics_need_an_operator() {
    let pki = pki();
    let x = start_center("hostile-records-x").await;
    let anonymous = pki.anonymous(x.addr()).unwrap();
    let stranger = pki.client(x.addr(), C).unwrap(); // not registered here
    for _ in 0..3 {
        let e = anonymous.inbox(&[]).await.unwrap_err();
        assert_eq!(e.code(), Some("E_AUTH_NO_CERT"));
    }
    for _ in 0..2 {
        let e = stranger.inbox(&[]).await.unwrap_err();
        assert_eq!(e.code(), Some("E_AUTH_UNKNOWN_CERT"));
    }
    let r = browser()
        .post(format!("https://{}/api/v1/nothing-here", x.addr()))
        .body(vec![b'x'; 60_000])
        .send()
        .await
        .unwrap();
    assert!([401, 404].contains(&r.status().as_u16()), "{}", r.status());
    assert_eq!(
        error_records(&x).await,
        0,
        "no records of anonymous refusals"
    );
    // Counted instead (this machine may read the metrics).
    let m = anonymous.metrics().await.unwrap();
    assert!(
        m.contains("gongwen_refused_unauthenticated_total{kind=\"E_AUTH_NO_CERT\"} 3"),
        "{m}"
    );
    assert!(
        m.contains("gongwen_refused_unauthenticated_total{kind=\"E_AUTH_UNKNOWN_CERT\"} 2"),
        "{m}"
    );
    // A known participant's errors are still records.
    let a = pki.client(x.addr(), A).unwrap();
    assert!(a.sent(&"0".repeat(32)).await.is_err());
    assert_eq!(error_records(&x).await, 1);
    x.shutdown().await;

    // A center that lets no address read its metrics: only its operator's certificate.
    let x = center_with("hostile_metrics_x", &[A, B, C], |c| {
        c.metrics_allow = Vec::new()
    })
    .await;
    gongwen_center::participants::upsert(
        &x.app.db,
        &gongwen_center::participants::ParticipantInput {
            code: C.into(),
            name: format!("測試機關{C}"),
            operator: true,
            ..Default::default()
        },
        Clock::default().now_ms(),
    )
    .await
    .unwrap();
    for c in [pki.anonymous(x.addr()), pki.client(x.addr(), B)] {
        let e = c.unwrap().metrics().await.unwrap_err();
        assert_eq!(e.code(), Some("E_AUTH_NOT_OPERATOR"), "{e}");
    }
    let m = pki.client(x.addr(), C).unwrap().metrics().await.unwrap();
    assert!(m.contains("gongwen_http_responses_total"), "{m}");
    x.shutdown().await;
}

/// A challenge with one line replaced.
fn with_line(text: &str, name: &str, value: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with(name) {
                format!("{name}{value}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_challenges_are_bound_to_this_site_and_their_time() {
    let w = web("hostile-challenge").await;
    let Web { n, base, http, .. } = &w;
    let fresh = || challenge(http, base);
    let post = |nonce: String, signed: String, extra: Vec<(&'static str, String)>| {
        let mut rb = login(http, base, &nonce, &signed);
        for (k, v) in extra {
            rb = rb.header(k, v);
        }
        send(rb)
    };

    // The challenge names this site and the time.
    let (_, text) = fresh().await;
    assert!(text.contains(&format!("網站：{base}\n")), "{text}");
    assert!(text.contains("時間：中華民國"), "{text}");

    // Signed text naming another site (as a relaying site would show it): refused.
    let (nonce, text) = fresh().await;
    let other = with_line(&text, "網站：", "https://evil.example");
    let p = post(nonce, signed_by(A, &other), vec![]).await;
    p.has(403, &["不是本網站"]);

    // Signed text with another time: refused.
    let (nonce, text) = fresh().await;
    let old = with_line(&text, "時間：", "中華民國115年1月5日 10:30:00");
    let p = post(nonce, signed_by(A, &old), vec![]).await;
    p.has(403, &["時間"]);

    // A challenge signed six minutes after it was shown: refused.
    let (nonce, text) = fresh().await;
    n.node.clock.advance(6 * 60_000);
    let p = post(nonce, signed_by(A, &text), vec![]).await;
    p.has(403, &["已逾 5 分鐘"]);

    // The sign-in page asked for under another site's name: no challenge for it.
    let p = send(
        http.get(format!("{base}/login"))
            .header("host", "evil.example"),
    )
    .await;
    p.has(403, &["E_HTTP_CROSS_SITE"]);

    // A post from another site's page: refused, the challenge still good for this one.
    let (nonce, text) = fresh().await;
    let signed = signed_by(A, &text);
    for extra in [
        vec![("origin", "https://evil.example".to_string())],
        vec![("sec-fetch-site", "cross-site".to_string())],
        vec![("origin", "null".to_string())],
    ] {
        let p = post(nonce.clone(), signed.clone(), extra).await;
        p.has(403, &["E_HTTP_CROSS_SITE"]);
    }
    let ok = post(
        nonce,
        signed,
        vec![
            ("origin", base.clone()),
            ("sec-fetch-site", "same-origin".into()),
        ],
    )
    .await;
    ok.went_to("/inbox");

    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signer_signs_only_the_asking_sites_own_challenge() {
    let (mine, evil) = ("https://webjagent.example.gov.tw", "https://evil.example");
    let s = gongwen_agent::signer::serve(
        "127.0.0.1:0",
        card(A),
        vec![mine.to_string(), evil.to_string()],
    )
    .await
    .unwrap();
    let url = format!("http://{}/sign", s.addr);
    let challenge = |site: &str| {
        format!(
            "Gongwen 網頁版登入\n網站：{site}\n隨機碼：abc\n時間：中華民國115年1月5日 10:30:00\n"
        )
    };
    // An allowed page asking to sign another site's challenge (one it fetched itself).
    let r = ask_signer(&url, Some(evil), &challenge(mine)).await;
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains(mine));
    // No page at all: nothing to compare with.
    let r = ask_signer(&url, None, &challenge(mine)).await;
    assert_eq!(r.status().as_u16(), 403);
    // Its own.
    let r = ask_signer(&url, Some(mine), &challenge(mine)).await;
    assert_eq!(r.status().as_u16(), 200);

    // Health says it runs, not whose card is in the reader.
    let r = browser().get(format!("http://{}/healthz", s.addr)).send();
    let v: Value = r.await.unwrap().json().await.unwrap();
    assert_eq!(v, json!({ "status": "ok" }));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_lock_the_card_and_only_many_lock_the_address() {
    let w = web("hostile-lockout").await;
    let Web { base, http, .. } = &w;
    let attempt = |code| sign_in(http, base, code);
    // C's card, which this node does not serve, fails five times (all from 127.0.0.1,
    // like everyone behind one proxy) …
    for _ in 0..5 {
        assert_eq!(attempt(C).await.status, 403);
    }
    // … and C must wait,
    let p = attempt(C).await;
    assert_eq!(p.status, 429, "{}", p.body);
    // but A, from the same address, still signs in.
    let p = attempt(A).await;
    p.went_to("/inbox");

    // Many failures from one address lock the address.
    for i in 0..45 {
        let p = send(login(http, base, "x", "garbage")).await;
        assert_eq!(p.status, 403, "attempt {i}");
    }
    let p = attempt(A).await;
    assert_eq!(p.status, 429, "{}", p.body);

    w.shutdown().await;
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// A page's headers and markup allow no script or style but the site's own files.
async fn strict_page(http: &reqwest::Client, url: &str, cookie: Option<&str>) -> String {
    let mut rb = http.get(url);
    if let Some(c) = cookie {
        rb = rb.header("cookie", c);
    }
    let r = rb.send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "{url}");
    let csp = header(&r, "content-security-policy");
    for d in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(d), "{url}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{url}: {csp}");
    assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{url}");
    assert_eq!(header(&r, "referrer-policy"), "same-origin", "{url}");
    let body = r.text().await.unwrap();
    for inline in [
        "<style",
        "style=",
        "javascript:",
        "onclick=",
        "onsubmit=",
        "onchange=",
    ] {
        assert!(!body.contains(inline), "{url} has {inline}: {body}");
    }
    assert!(
        body.split("<script")
            .skip(1)
            .all(|s| s.trim_start().starts_with("src=")),
        "{url} has an inline script: {body}"
    );
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_a_content_security_policy_and_scripts_are_files() {
    let w = web("hostile-csp").await;
    let Web { base, http, .. } = &w;
    let login = strict_page(http, &format!("{base}/login"), None).await;
    assert!(login.contains("/static/web.js") && login.contains("data-signer="));
    let csp = header(
        &http.get(format!("{base}/login")).send().await.unwrap(),
        "content-security-policy",
    );
    assert!(
        csp.contains("connect-src 'self' http://127.0.0.1:61161"),
        "{csp}"
    );
    // A file of the site's, of content type `ct`: its text.
    let asset = |url: String, ct: &'static str| async move {
        let r = http.get(&url).send().await.unwrap();
        assert!(header(&r, "content-type").starts_with(ct), "{url}");
        r.text().await.unwrap()
    };
    let js = asset(format!("{base}/static/web.js"), "text/javascript").await;
    assert!(js.contains("/sign"));
    asset(format!("{base}/static/web.css"), "text/css").await;
    // Signed in: the pages with forms and frames, and a refused preview, which is shown in
    // the compose page's frame (so framed by this site only).
    let signed_in = sign_in(http, base, A).await;
    let cookie = signed_in.cookie.expect("a session");
    for path in [
        "/inbox", "/compose", "/sent", "/groups", "/profile", "/records",
    ] {
        strict_page(http, &format!("{base}{path}"), Some(&cookie)).await;
    }
    let refused = http
        .post(format!("{base}/compose/preview"))
        .header("cookie", &cookie)
        .header("content-type", gongwen_client::agent::multipart(&[]).0)
        .send()
        .await
        .unwrap();
    assert_ne!(refused.status().as_u16(), 200);
    let csp = header(&refused, "content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );

    let (d, port) = crate::directory_network::start_directory("hostile_csp_dir").await;
    let dir = format!("https://127.0.0.1:{port}");
    for path in ["/", "/address-book", "/apply", "/review/login"] {
        strict_page(http, &format!("{dir}{path}"), None).await;
    }
    let js = asset(format!("{dir}/static/directory.js"), "text/javascript").await;
    assert!(js.contains("/applications/"));
    d.shutdown().await;
    w.shutdown().await;
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(files_under(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn received_documents_and_copies_are_private_and_internal_errors_name_no_path() {
    let root = scratch("hostile-files");
    // A through the API, B in folder mode.
    let (x, n, api_a) = crate::hostile_senders::network(&root, "hostile_files").await;
    let db = n.node.config.database_url.clone();
    let (ca, cb) = (api_a.client(), Api::new(&n, B).await.client());
    for (from, to) in [(&cb, A), (&ca, B)] {
        send_with_pdf(from, &draft_to(to, "普通件", "請查照。")).await;
    }
    let arrived = |c: &gongwen_client::agent::AgentClient| {
        let c = c.clone();
        async move {
            let v = c.inbox("delivered").await.unwrap();
            v.items.first().map(|i| i.package_id.clone())
        }
    };
    until("both letters delivered", || async {
        arrived(&ca).await.is_some() && arrived(&cb).await.is_some()
    })
    .await;
    let (id_a, id_b) = (arrived(&ca).await.unwrap(), arrived(&cb).await.unwrap());

    let data = root.join("data");
    assert_eq!(mode(&data), 0o700);
    // A (the web client and API): its received set, the packages, the staged copies.
    let set = data.join("inbox").join(A).join(&id_a);
    assert_eq!(mode(&set), 0o700, "{}", set.display());
    let mut checked = 0;
    for dir in [
        set.clone(),
        data.join("incoming"),
        data.join("outgoing"),
        data.join("staged").join(A),
    ] {
        for f in files_under(&dir) {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
            checked += 1;
        }
    }
    assert!(checked >= 6, "{checked} files");
    // B (folder mode): readable by the document system's group, as configured.
    let inbox = root.join(B).join("inbox");
    assert_eq!(mode(&inbox), 0o750);
    assert_eq!(mode(&inbox.join(&id_b)), 0o750);
    let shared = files_under(&inbox.join(&id_b));
    assert!(shared.len() >= 3);
    for f in shared {
        assert_eq!(mode(&f), 0o640, "{}", f.display());
    }
    if engine() == "sqlite" {
        let file = db.trim_start_matches("sqlite://");
        assert_eq!(mode(Path::new(file)), 0o600, "{file}");
    }
    // The center's sealed packages and uploads in progress.
    assert_eq!(mode(&x.app.config.data_dir), 0o700);

    // A file gone from under the agent: an internal error, with an incident number and
    // no path.
    let files = files_under(&set);
    let gone = files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "pdf"))
        .unwrap();
    std::fs::remove_file(gone).unwrap();
    let name = gone.file_name().unwrap().to_string_lossy().into_owned();
    let file = gongwen_client::encode_segment(&name);
    let (s, v) = api_a
        .get(&format!("/api/v1/inbox/{id_a}/files/{file}"))
        .await;
    assert_eq!(s, 500);
    assert_eq!(v["code"], "E_INTERNAL");
    let detail = v["detail"].as_str().unwrap();
    assert!(detail.contains("事件編號"), "{detail}");
    assert!(
        !detail.contains(&root.display().to_string()) && !detail.contains('/'),
        "{detail}"
    );

    n.shutdown().await;
    x.shutdown().await;
}
