//! The web client as a browser drives it (HTTP, forms, cookies): sign-in with the
//! organisation's card through a signed challenge, the inbox with urgency first, the document
//! as the printed page and as PDF, 簽收 (with a 收文字號 the sender sees) and 退文, the sent
//! list and the duty lists. A replayed or foreign signature, a forged form and an expired
//! session are refused and change nothing. And the local signing program.

use std::path::Path;

use gongwen_agent::AgentConfig;
use gongwen_center::BlobStore;
use gongwen_center::Clock;
use gongwen_client::agent::{AgentClient, Part};
use gongwen_integration::{A, B, C, fresh_database, pki, scratch, until};
use serde_json::json;

pub(crate) fn card(code: &str) -> gongwen_agent::signer::Card {
    let p = pki();
    let a = p.agency(code);
    gongwen_agent::signer::Card {
        key: gongwen_trust::keys::PrivateKey::load(&a.sign_key_file.display().to_string()).unwrap(),
        cert: a.sign_cert.clone(),
        chain: a.chain.clone(),
    }
}

pub(crate) fn browser() -> reqwest::Client {
    let roots = std::fs::read(pki().ca.root_file()).unwrap();
    reqwest::Client::builder()
        .use_preconfigured_tls(gongwen_client::tls_config(&roots, None).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The hidden challenge and nonce of a sign-in page.
pub(crate) fn challenge_of(html: &str) -> (String, String) {
    let nonce = html
        .split("name=\"nonce\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let text = html
        .split("<textarea id=\"challenge\"")
        .nth(1)
        .and_then(|t| t.split_once('>'))
        .unwrap()
        .1
        .split("</textarea>")
        .next()
        .unwrap()
        .to_string();
    (nonce, text)
}

pub(crate) struct Page {
    pub status: u16,
    pub location: String,
    pub cookie: Option<String>,
    pub body: String,
}

impl Page {
    /// Panics, showing the page, unless it has `status` and holds every one of `parts`.
    pub fn has(&self, status: u16, parts: &[&str]) {
        assert_eq!(self.status, status, "{}", self.body);
        for p in parts {
            assert!(self.body.contains(p), "no {p:?} in: {}", self.body);
        }
    }

    /// Panics, showing the page, if it holds any of `parts`.
    pub fn lacks(&self, parts: &[&str]) {
        for p in parts {
            assert!(!self.body.contains(p), "{p:?} in: {}", self.body);
        }
    }

    /// Panics unless this is a redirect to `to`.
    pub fn went_to(&self, to: &str) {
        let got = (self.status, self.location.as_str());
        assert_eq!(got, (303, to), "{}", self.body);
    }
}

pub(crate) async fn send(rb: reqwest::RequestBuilder) -> Page {
    let r = rb.send().await.unwrap();
    let header = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (status, location) = (r.status().as_u16(), header("location").unwrap_or_default());
    let cookie = header("set-cookie").map(|c| c.split(';').next().unwrap().to_string());
    Page {
        status,
        location,
        cookie,
        body: r.text().await.unwrap(),
    }
}

/// The challenge of a fresh sign-in page at the node at `base`: (nonce, text).
pub(crate) async fn challenge(http: &reqwest::Client, base: &str) -> (String, String) {
    let login = send(http.get(format!("{base}/login"))).await;
    login.has(200, &[]);
    challenge_of(&login.body)
}

/// `text` signed now with `code`'s card.
pub(crate) fn signed_by(code: &str, text: &str) -> String {
    card(code)
        .sign_challenge(text, Clock::default().now_s())
        .unwrap()
}

/// The sign-in form: `signed` answering challenge `nonce`.
pub(crate) fn login(
    http: &reqwest::Client,
    base: &str,
    nonce: &str,
    signed: &str,
) -> reqwest::RequestBuilder {
    http.post(format!("{base}/login"))
        .form(&[("nonce", nonce), ("signed", signed)])
}

pub(crate) async fn sign_in(http: &reqwest::Client, base: &str, code: &str) -> Page {
    let (nonce, text) = challenge(http, base).await;
    send(login(http, base, &nonce, &signed_by(code, &text))).await
}

pub(crate) fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

pub(crate) fn node(db: &str, root: &Path, center: std::net::SocketAddr) -> AgentConfig {
    let agencies = [A, B].map(|code| crate::agent::api_only(code, center, root));
    crate::agent::node_config(db, root, agencies.into(), Some(10))
}

/// A center with A and B registered.
pub(crate) async fn start_center(name: &str) -> gongwen_center::Running {
    center_with(name, &[A, B], |_| {}).await
}

/// A center named `name` on a fresh database, with `tune` applied to its configuration and
/// `codes` registered.
pub(crate) async fn center_with(
    name: &str,
    codes: &[&str],
    tune: impl FnOnce(&mut gongwen_center::config::CenterConfig),
) -> gongwen_center::Running {
    let pki = pki();
    let mut cfg = pki.center_config(name, &fresh_database(name).await, BlobStore::Fs);
    tune(&mut cfg);
    let x = gongwen_center::start(cfg, Clock::default()).await.unwrap();
    pki.register(&x.app, codes).await.unwrap();
    x
}

/// An agent node serving A and B through the API and the web client, with `tune` applied.
pub(crate) async fn start_node(
    name: &str,
    center: &gongwen_center::Running,
    tune: impl FnOnce(&mut AgentConfig),
) -> gongwen_agent::Running {
    let root = scratch(name);
    let mut cfg = node(&fresh_database(name).await, &root, center.addr());
    tune(&mut cfg);
    gongwen_agent::start(cfg, Clock::default()).await.unwrap()
}

/// A center with A and B, one agent node serving both, and a browser at the node.
pub(crate) struct Web {
    pub x: gongwen_center::Running,
    pub n: gongwen_agent::Running,
    pub base: String,
    pub http: reqwest::Client,
}

pub(crate) async fn web(name: &str) -> Web {
    let x = start_center(&format!("{name}_x")).await;
    let n = start_node(name, &x, |_| {}).await;
    let base = format!("http://{}", n.api_addr().unwrap());
    Web {
        x,
        n,
        base,
        http: browser(),
    }
}

impl Web {
    /// `code` signed in with its card.
    async fn session(&self, code: &str) -> Session {
        Session::open(&self.http, &self.base, code).await
    }

    /// `code`'s document system at this node, with a new token.
    async fn api(&self, code: &str) -> AgentClient {
        crate::agent_api::Api::new(&self.n, code).await.client()
    }

    /// The first column of the first row `sql` (with `$1` and `$2`) finds at this node.
    async fn first(&self, sql: &str, args: [&str; 2]) -> Option<String> {
        let row = self
            .n
            .node
            .db
            .fetch_optional(sql, &args.map(Into::into))
            .await;
        row.unwrap().map(|r| r.text(0).unwrap())
    }

    /// The state of `id` in A's inbox at this node, once it is there.
    async fn state_at_a(&self, id: &str) -> Option<String> {
        let sql = "SELECT state FROM agent_received WHERE agency = $1 AND package_id = $2";
        self.first(sql, [A, id]).await
    }

    /// The package id of the newest document `code` sent from this node.
    async fn last_sent(&self, code: &str) -> String {
        let sql = "SELECT package_id FROM agent_sent WHERE agency = $1 AND state = $2 ORDER BY created_at DESC";
        self.first(sql, [code, "submitted"]).await.unwrap()
    }

    pub async fn shutdown(self) {
        self.n.shutdown().await;
        self.x.shutdown().await;
    }
}

/// A browser signed in at a node: every request carries the session cookie.
pub(crate) struct Session {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Session {
    /// `code` signed in with its card at the node at `base`.
    pub async fn open(http: &reqwest::Client, base: &str, code: &str) -> Session {
        let p = sign_in(http, base, code).await;
        Session::of(http, base, p)
    }

    /// The session the sign-in answer `p` (a redirect to the inbox) opens.
    fn of(http: &reqwest::Client, base: &str, p: Page) -> Session {
        p.went_to("/inbox");
        let cookie = p.cookie.expect("a session cookie");
        let (http, base) = (http.clone(), base.to_string());
        Session { http, base, cookie }
    }

    /// A request for `path`, with the session cookie.
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.base);
        self.http
            .request(method, url)
            .header("cookie", &self.cookie)
    }

    /// The response itself, for files.
    pub async fn fetch(&self, path: &str) -> reqwest::Response {
        self.req(reqwest::Method::GET, path).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Page {
        send(self.req(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        send(self.req(reqwest::Method::POST, path).form(form)).await
    }

    /// A multipart form, as the compose page posts it.
    pub async fn upload(&self, path: &str, f: &[(&str, Option<&str>, Vec<u8>)]) -> Page {
        let (ct, body) = gongwen_client::agent::multipart(&parts(f));
        let rb = self.req(reqwest::Method::POST, path);
        send(rb.header("content-type", ct).body(body)).await
    }
}

/// Asks the local signer at `url` to sign `text`, as a page of `origin` would.
pub(crate) async fn ask_signer(url: &str, origin: Option<&str>, text: &str) -> reqwest::Response {
    let mut rb = browser().post(url).body(text.to_string());
    if let Some(o) = origin {
        rb = rb.header("origin", o);
    }
    rb.send().await.unwrap()
}

/// A form's fields as multipart parts: (field, file name, bytes).
pub(crate) type Fields = Vec<(&'static str, Option<&'static str>, Vec<u8>)>;

/// Multipart parts: (field, file name, bytes).
pub(crate) fn parts<'a, B: AsRef<[u8]>>(f: &'a [(&'a str, Option<&'a str>, B)]) -> Vec<Part<'a>> {
    let part = |(field, file, bytes): &'a (&'a str, Option<&'a str>, B)| Part {
        field,
        file: *file,
        bytes: bytes.as_ref(),
    };
    f.iter().map(part).collect()
}

/// A document system's 函 to `to` (a draft, as JSON) naming one file, 附件.pdf.
pub(crate) fn draft_to(to: &str, urgency: &str, subject: &str) -> String {
    json!({
        "文別": "函", "速別": urgency, "主旨": subject, "地址": "100 臺北市中正區測試路1號", "聯絡方式": ["承辦人：王小明"], "署名": ["機關首長　王大明"],
        "段落": [{ "段名": "說明：", "條列": [{ "序號": "一、", "文字": "依規定辦理。" }] }],
        "附件": { "文字": "附件1份", "檔案": ["附件.pdf"] },
        "正本": [{ "全銜": format!("測試機關{to}"), "機關代碼": to }],
    })
    .to_string()
}

/// Sends draft `d` (of `draft_to`) with its PDF through `from`: the package id.
pub(crate) async fn send_with_pdf(from: &AgentClient, d: &str) -> String {
    let pdf: &[u8] = b"%PDF-1.4\n%%EOF\n";
    let f = [
        ("draft", None, d.as_bytes()),
        ("attachment", Some("附件.pdf"), pdf),
    ];
    from.send(&parts(&f), None).await.unwrap().package_id
}

/// A short 函 of A's to B, as a draft (JSON) with no files.
fn note_to_b(subject: &str) -> String {
    json!({
        "文別": "函", "主旨": subject, "地址": "708 臺南市安平區測試路1號", "聯絡方式": ["承辦人：林小姐"],
        "署名": ["理事長　林大同"], "正本": [{ "全銜": "測試機關B", "機關代碼": B }],
    })
    .to_string()
}

/// B's document system sends A a 普通件 and then a 最速件, each with a PDF; both reach A.
/// B's client and the two package ids (普通件, 最速件).
async fn letters_to_a(w: &Web) -> (AgentClient, String, String) {
    let b = w.api(B).await;
    let mut ids = Vec::new();
    for (urgency, subject) in [
        ("普通件", "普通件的函，請查照。"),
        ("最速件", "最速件的函，請即辦理。"),
    ] {
        ids.push(send_with_pdf(&b, &draft_to(A, urgency, subject)).await);
    }
    until("both letters at A", || async {
        w.state_at_a(&ids[0]).await.is_some() && w.state_at_a(&ids[1]).await.is_some()
    })
    .await;
    let urgent = ids.pop().unwrap();
    (b, ids.pop().unwrap(), urgent)
}

/// The compose form of a 函 with two levels of 說明 and one file.
fn letter(csrf: &str, subject: &str, to: &str, file: &'static str) -> Fields {
    let text = |s: &str| s.as_bytes().to_vec();
    vec![
        ("csrf", None, text(csrf)),
        ("kind", None, text("函")),
        ("urgency", None, text("速件")),
        ("subject", None, text(subject)),
        (
            "explain",
            None,
            text("依據本會章程辦理。\n活動內容如下：\n　上午：開幕\n　下午：座談"),
        ),
        ("primary", None, text(to)),
        ("address", None, text("708 臺南市安平區測試路1號")),
        ("contact", None, text("承辦人：林小姐")),
        ("signature", None, text("理事長　林大同")),
        ("attachment", Some(file), b"%PDF-1.4\n%%EOF\n".to_vec()),
    ]
}

/// Only a card of an organisation this node serves signs in, and each challenge once; every
/// attempt is recorded; the profile shows the card's certificates; a session ends after 30
/// idle minutes; a person's own card (附卡), once registered as A's user, signs in as A.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_signs_in_with_its_card() {
    let w = web("web_sign_in").await;
    let Web { http, base, .. } = &w;
    // Not signed in: to the sign-in page.
    let p = send(http.get(format!("{base}/inbox"))).await;
    p.went_to("/login");

    // A card of an organisation this node does not serve, a replayed signature and a
    // signature of another text: refused.
    let foreign = sign_in(http, base, C).await;
    foreign.has(403, &["不是本網站服務的機關"]);
    let (nonce, text) = challenge(http, base).await;
    let signed = signed_by(A, &text);
    let ok = send(login(http, base, &nonce, &signed)).await;
    let s = Session::of(http, base, ok);
    let replay = send(login(http, base, &nonce, &signed)).await;
    replay.has(403, &["已使用過"]);
    let bad_text = signed_by(A, "Gongwen 網頁版登入\n隨機碼：0000\n");
    let (nonce, _) = challenge(http, base).await;
    let wrong = send(login(http, base, &nonce, &bad_text)).await;
    wrong.has(403, &[]);

    // Every sign-in was recorded.
    let rows =
        w.n.node
            .db
            .fetch_all("SELECT ok FROM agent_logins", &[])
            .await
            .unwrap();
    let oks = rows.iter().filter(|r| r.i64(0).unwrap() == 1).count();
    assert_eq!(
        (oks, rows.len() - oks),
        (1, 3),
        "one success, three failures"
    );

    // The profile: the card certificates and when they expire.
    let prof = s.get("/profile").await;
    prof.has(200, &["簽章憑證", "尚有"]);

    // Idle for 31 minutes: the session is over.
    w.n.node.clock.advance(31 * 60_000);
    let expired = s.get("/inbox").await;
    expired.went_to("/login?expired=1");

    // A person's own card (附卡), once registered as A's user, signs in as A.
    let c_cert = std::fs::read(&pki().agency(C).sign_file).unwrap();
    gongwen_agent::clients::add_cert(
        &w.n.node.db,
        A,
        "王小明",
        "card",
        &c_cert,
        Clock::default().now_ms(),
    )
    .await
    .unwrap();
    let inbox = w.session(C).await.get("/inbox").await;
    inbox.has(200, &["王小明", A]);
    w.shutdown().await;
}

/// The inbox puts the 最速件 first; a document shows as a page, printed and with its files;
/// 簽收 gives the sender A's 收文字號, 退文 takes a reason from the list, and a forged form
/// changes nothing; the records show both and go to Excel as CSV.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_is_read_confirmed_and_returned_in_the_browser() {
    let w = web("web_inbox").await;
    let (b, normal, urgent) = letters_to_a(&w).await;
    let s = w.session(A).await;

    // The inbox: both waiting, the 最速件 first, marked in words.
    let inbox = s.get("/inbox").await;
    inbox.has(200, &[]);
    let (u, nrm) = (
        inbox.body.find("最速件的函").unwrap(),
        inbox.body.find("普通件的函").unwrap(),
    );
    assert!(u < nrm, "urgent first");
    inbox.has(200, &["badge urgent\">最速件"]);

    // One document: the page, the printed form, its files.
    let page = s.get(&format!("/inbox/{urgent}")).await;
    page.has(200, &["簽收", "退文原因", "download>"]);
    let doc = s.get(&format!("/inbox/{urgent}/document")).await;
    doc.has(200, &["最速件的函"]);
    let file = page
        .body
        .split("/files/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let f = s.get(&format!("/inbox/{urgent}/files/{file}")).await;
    f.has(200, &[]);
    let pdf = s.fetch(&format!("/inbox/{urgent}/print.pdf")).await;
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));

    // A forged form (no or wrong CSRF token) changes nothing.
    let csrf = csrf_of(&page.body);
    let forged = s
        .post(&format!("/inbox/{urgent}/confirm"), &[("csrf", "forged")])
        .await;
    forged.has(401, &["表單已失效"]);
    assert_eq!(w.state_at_a(&urgent).await.unwrap(), "delivered");

    // 簽收: the sender sees it confirmed, with A's 收文字號.
    let done = s
        .post(&format!("/inbox/{urgent}/confirm"), &[("csrf", &csrf)])
        .await;
    done.has(303, &[]);
    assert_eq!(w.state_at_a(&urgent).await.unwrap(), "confirmed");
    let seen = b.sent(&urgent).await.unwrap();
    assert_eq!(seen.copies[0].status, gongwen_proto::CopyStatus::Confirmed);
    assert!(
        seen.copies[0]
            .receipt_number
            .as_deref()
            .is_some_and(|r| r.starts_with("測試收字第")),
        "{seen:?}"
    );
    let after = s.get(&format!("/inbox/{urgent}")).await;
    after.has(200, &["收文字號"]);
    after.lacks(&["退文原因"]);

    // 退文: 其他 needs words; then with a reason from the list.
    let ret = format!("/inbox/{normal}/return");
    let p = s
        .post(&ret, &[("csrf", &csrf), ("reason", "其他"), ("text", "")])
        .await;
    p.has(400, &["其他"]);
    assert_eq!(w.state_at_a(&normal).await.unwrap(), "delivered");
    let p = s
        .post(
            &ret,
            &[
                ("csrf", &csrf),
                ("reason", "非本機關權責"),
                ("text", "請改送主管機關"),
            ],
        )
        .await;
    p.has(303, &[]);
    let seen = b.sent(&normal).await.unwrap();
    assert_eq!(
        seen.copies[0].return_reason,
        Some(gongwen_proto::ReturnReason::NotOurs)
    );

    // Records: the search and the CSV for Excel (with a BOM).
    let rec = s.get("/records").await;
    rec.has(200, &["已收文確認", "已退文"]);
    let csv = s.fetch("/records.csv?kind=returned").await;
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let text = csv.text().await.unwrap();
    assert!(text.starts_with('\u{FEFF}'), "a BOM for Excel");
    assert_eq!(
        s.get("/records?from=2026-13-01").await.status,
        400,
        "a date that is not one"
    );
    w.shutdown().await;
}

/// A's letters are not B's to see, through the API or in the browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_organisation_sees_only_its_own_inbox() {
    let w = web("web_own_inbox").await;
    let (b, _, urgent) = letters_to_a(&w).await;
    assert!(b.inbox("all").await.unwrap().items.is_empty());
    let s = w.session(B).await;
    assert_eq!(s.get(&format!("/inbox/{urgent}")).await.status, 404);
    let a = w.session(A).await;
    assert_eq!(a.get(&format!("/inbox/{urgent}")).await.status, 200);
    assert_eq!(
        a.get(&format!("/inbox/{}", "0".repeat(32))).await.status,
        404
    );
    w.shutdown().await;
}

/// A 函 composed in the browser (two levels of 說明, a PDF) is previewed and sent with the
/// year's first number and reaches B; bad input sends nothing and keeps what was typed; the
/// sent letter prints for paper mailing and for filing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_composed_in_the_browser_reaches_its_recipient() {
    let w = web("web_compose").await;
    let b = w.api(B).await;
    let s = w.session(A).await;
    // Nothing sent yet; the duty lists say when to look.
    let sent = s.get("/sent").await;
    sent.has(200, &["尚未送出公文"]);
    let duties = s.get("/duties").await;
    duties.has(200, &["次一工作日下午 2 時"]);

    let compose = s.get("/compose").await;
    compose.has(200, &[]);
    let csrf = csrf_of(&compose.body);
    let book = s.get(&format!("/compose/recipients?q={}", &B[..6])).await;
    book.has(200, &[B]); // found by part of its code
    let by_name = s.get("/compose/recipients?q=%E5%8F%B0").await;
    assert_eq!(by_name.body, "[]", "nobody here is named with 台");
    let pv = s.upload("/compose/preview", &[]).await;
    assert_ne!(pv.status, 200, "an empty form is no preview");
    let subject = "邀請參加年會，請查照。";
    let pv = s
        .upload("/compose/preview", &letter(&csrf, subject, B, "議程.pdf"))
        .await;
    pv.has(200, &[]);
    // Bad input keeps what was typed: a Word file, an unknown recipient, a forged token.
    let p = s
        .upload("/compose/send", &letter(&csrf, subject, B, "議程.docx"))
        .await;
    p.has(415, &["ODF", "邀請參加年會", "上午：開幕"]);
    let p = s
        .upload(
            "/compose/send",
            &letter(&csrf, subject, "999999999Z", "議程.pdf"),
        )
        .await;
    p.has(400, &["999999999Z", "邀請參加年會"]);
    let forged = s
        .upload("/compose/send", &letter("forged", subject, B, "議程.pdf"))
        .await;
    forged.has(401, &[]);
    assert_eq!(
        b.inbox("all").await.unwrap().items.len(),
        0,
        "nothing reached B"
    );
    let ok = s
        .upload("/compose/send", &letter(&csrf, subject, B, "議程.pdf"))
        .await;
    ok.has(200, &["測試字第1150000001號"]); // the first number of the year
    until("B has the composed letter", || async {
        b.inbox("delivered").await.unwrap().items.len() == 1
    })
    .await;
    let item = b.inbox("delivered").await.unwrap().items[0].clone();
    assert_eq!(item.urgency, "速件");
    assert!(item.doc_number.contains("測試字"), "{item:?}");
    let sent = s.get("/sent").await;
    sent.has(200, &["邀請參加年會"]);

    // The letter A sent, printed for paper mailing and for filing, with the marks.
    let sent_id = w.last_sent(A).await;
    for (path, mark) in [("paper", "已電子交換未確認"), ("filing", "已電子交換")] {
        let r = s.fetch(&format!("/sent/{sent_id}/{path}.pdf")).await;
        assert_eq!(r.headers()["content-type"], "application/pdf", "{path}");
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF"), "{mark}");
    }
    let dl = s.get("/duties").await;
    assert!(
        dl.body.contains("/paper.pdf") || dl.body.contains("沒有待辦"),
        "{}",
        dl.body
    );
    w.shutdown().await;
}

/// A suspended recipient: the address book no longer offers it, a send names it, and what
/// was typed is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_recipient_is_not_offered_and_a_send_to_it_names_it() {
    let w = web("web_suspended").await;
    let s = w.session(A).await;
    let csrf = csrf_of(&s.get("/compose").await.body);
    use gongwen_center::participants::{Standing, set_standing};
    set_standing(
        &w.x.app.db,
        B,
        Standing::Suspended,
        Some("未依規定改善"),
        "admin",
        Clock::default().now_ms(),
    )
    .await
    .unwrap();
    let book = s.get(&format!("/compose/recipients?q={}", &B[..6])).await;
    assert_eq!(book.body, "[]", "{}", book.body);
    let p = s
        .upload(
            "/compose/send",
            &letter(&csrf, "再次邀請參加年會，請查照。", B, "議程.pdf"),
        )
        .await;
    p.has(400, &[B, "暫停", "再次邀請參加年會"]);
    w.shutdown().await;
}

/// A group of A's own: kept, offered on the compose page, then gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_kept_offered_and_deleted() {
    let w = web("web_groups").await;
    let s = w.session(A).await;
    let csrf = csrf_of(&s.get("/compose").await.body);
    let p = s
        .post(
            "/groups",
            &[("csrf", &csrf), ("name", "常用機關"), ("members", B)],
        )
        .await;
    p.has(303, &[]);
    let g = s.get("/groups").await;
    g.has(200, &["常用機關", B]);
    s.get("/compose").await.has(200, &["常用機關"]);
    let p = s
        .post("/groups/delete", &[("csrf", &csrf), ("name", "常用機關")])
        .await;
    p.has(303, &[]);
    s.get("/groups").await.lacks(&["常用機關"]);
    w.shutdown().await;
}

/// A year and a day later the agent's copies of finished documents, and the sign-in
/// records, are purged; a document still waiting stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_later_what_is_finished_is_purged_and_what_waits_stays() {
    let w = web("web_purge").await;
    let (_, normal, urgent) = letters_to_a(&w).await;
    let a = w.api(A).await;
    a.confirm(&urgent).await.unwrap();
    a.return_doc(&normal, "非本機關權責", "請改送主管機關")
        .await
        .unwrap();
    w.session(A).await;
    // A's letter to B waits at B, not yet handled.
    let d = note_to_b("年會，請查照。");
    let f = [("draft", None, d.as_bytes())];
    let to_b = a.send(&parts(&f), None).await.unwrap().package_id;
    let b = w.api(B).await;
    until("B has A's letter", || async {
        b.received(&to_b).await.is_ok()
    })
    .await;

    let staged = w.n.node.config.data_dir.join("staged").join(A);
    assert!(std::fs::read_dir(&staged).unwrap().count() > 0);
    w.n.node.clock.advance(366 * 86_400_000);
    let (sent_gone, received_gone) = gongwen_agent::purge::run(&w.n.node).await.unwrap();
    assert!(
        sent_gone >= 1 && received_gone >= 2,
        "{sent_gone} {received_gone}"
    );
    assert_eq!(
        std::fs::read_dir(&staged).unwrap().count(),
        0,
        "staged sets removed"
    );
    let rows = |sql| w.n.node.db.fetch_all(sql, &[]);
    let left = rows("SELECT agency, state FROM agent_received")
        .await
        .unwrap();
    assert!(
        left.iter().all(|r| r.text(1).unwrap() == "delivered"),
        "only what waits is kept"
    );
    assert!(!left.is_empty(), "B's letter, not yet handled, stays");
    let logins = rows("SELECT id FROM agent_logins").await.unwrap();
    assert!(logins.is_empty(), "the sign-in records purged");
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_signer_signs_only_challenges_for_allowed_pages() {
    let origin = "http://127.0.0.1:18451".to_string();
    let s = gongwen_agent::signer::serve("127.0.0.1:0", card(A), vec![origin.clone()])
        .await
        .unwrap();
    let url = format!("http://{}/sign", s.addr);
    let challenge = "Gongwen 網頁版登入\n網站：http://127.0.0.1:18451\n隨機碼：abc\n";
    let r = ask_signer(&url, Some(&origin), challenge).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], origin.as_str());
    let pem = r.text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN CMS-----"), "{pem}");
    let (_, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    let v = gongwen_trust::cms::verify(&der).unwrap();
    assert_eq!(v.content, challenge.as_bytes());
    let r = ask_signer(&url, Some("https://evil.example"), challenge).await;
    assert_eq!(r.status().as_u16(), 403);
    let r = ask_signer(&url, Some(&origin), "請簽這份合約").await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        gongwen_agent::signer::serve("0.0.0.0:0", card(A), vec![])
            .await
            .is_err(),
        "loopback only"
    );
    s.shutdown().await;
}

/// The compose form of `kind` to `to`, with every field some kind asks for, and `extra`.
fn of_kind(csrf: &str, kind: &str, to: &str, extra: &[(&'static str, &str)]) -> Fields {
    let subject = format!("{kind}的主旨，請查照。");
    let mut f = vec![
        ("csrf", csrf),
        ("kind", kind),
        ("urgency", "普通件"),
        ("subject", &subject),
        ("explain", "依本會章程辦理。"),
        ("basis", "本會章程第5條。"),
        ("announce", "一、會員大會訂於115年3月1日舉行。"),
        ("reason", "討論年度計畫"),
        ("date", "115年3月2日"),
        ("time", "上午10時"),
        ("place", "本會會議室"),
        ("chair", "林大同"),
        ("contact_name", "林小姐"),
        ("contact_phone", "06-2345678"),
        ("primary", to),
        ("address", "708 臺南市安平區測試路1號"),
        ("contact", "承辦人：林小姐"),
        ("signature", "理事長　林大同"),
    ];
    f.extend_from_slice(extra);
    f.into_iter()
        .map(|(k, v)| (k, None, v.as_bytes().to_vec()))
        .collect()
}

/// Every 文別 the compose form offers can be previewed and sent, with the recipient boxes
/// named for the kind; the records show states in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_the_compose_form_offers_is_previewed_and_sent() {
    let w = web("web_kinds").await;
    let s = w.session(A).await;
    let compose = s.get("/compose").await;
    let csrf = csrf_of(&compose.body);
    // 函 by default: 正本 and 副本, no 出席者; a 簽 is not offered (written in 線上簽核).
    compose.has(
        200,
        &["id=\"primary-label\">正本<", "id=\"copies-label\">副本<"],
    );
    compose.lacks(&["出席者", "<option>簽</option>"]);

    // A meeting notice refused (unknown recipient) comes back with the meeting's labels.
    let back = s
        .upload(
            "/compose/send",
            &of_kind(&csrf, "開會通知單", "999999999Z", &[]),
        )
        .await;
    back.has(
        400,
        &[
            "id=\"primary-label\">出席者<",
            "id=\"copies-label\">列席者<",
        ],
    );
    // The box is named as the kind names it; what was typed is kept.
    back.has(400, &["出席者「999999999Z」", "林小姐", "06-2345678"]);

    for kind in ["函", "書函", "公告", "開會通知單"] {
        let pv = s
            .upload("/compose/preview", &of_kind(&csrf, kind, B, &[]))
            .await;
        pv.has(200, &[]);
        let ok = s
            .upload("/compose/send", &of_kind(&csrf, kind, B, &[]))
            .await;
        ok.has(200, &["已送出"]);
    }
    let b = w.api(B).await;
    until("B has all four kinds", || async {
        b.inbox("all").await.unwrap().items.len() == 4
    })
    .await;
    let subjects: Vec<String> = b
        .inbox("all")
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.subject)
        .collect();
    for kind in ["函", "書函", "公告"] {
        assert!(
            subjects
                .iter()
                .any(|s| s == &format!("{kind}的主旨，請查照。")),
            "{kind}: {subjects:?}"
        );
    }
    assert!(
        subjects.iter().any(|s| s == "討論年度計畫"),
        "the meeting's 開會事由: {subjects:?}"
    );

    // Records: every state in words, none as the code the center stores.
    let items = b.inbox("delivered").await.unwrap();
    let id = items
        .items
        .first()
        .unwrap_or_else(|| panic!("a letter waiting at B: {items:?}"))
        .package_id
        .clone();
    b.confirm(&id).await.unwrap();
    let rec = s.get("/records").await;
    rec.has(200, &["待收文", "已送達"]);
    rec.lacks(&[
        "<td>available</td>",
        "<td>delivered</td>",
        "<td>accepted</td>",
        "<td>confirmed</td>",
    ]);
    w.shutdown().await;
}

/// A send may ask for 立即確認 and correct an earlier one (a typed resend), from the form and
/// from the API (by 發文字號); an original that is not A's, or an unknown kind, sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_names_its_original_from_the_form_and_the_api() {
    let w = web("web_resend").await;
    let s = w.session(A).await;
    let csrf = csrf_of(&s.get("/compose").await.body);
    let mut sent = Vec::new();
    for _ in 0..2 {
        let ok = s
            .upload("/compose/send", &of_kind(&csrf, "函", B, &[]))
            .await;
        ok.has(200, &[]);
        sent.push(w.last_sent(A).await);
    }

    // A correction of the first letter, asking for immediate confirmation: the sent page
    // offers it, the form names the original, the center carries both.
    let list = s.get("/sent").await;
    list.has(200, &[&format!("/compose?resend_of={}", sent[0])]);
    let pre = s.get(&format!("/compose?resend_of={}", sent[0])).await;
    pre.has(200, &[&format!("value=\"{}\" selected", sent[0])]);
    let extra = [
        ("confirm_now", "on"),
        ("resend_kind", "本文修正"),
        ("resend_of", &sent[0]),
    ];
    let fix = s
        .upload("/compose/send", &of_kind(&csrf, "函", B, &extra))
        .await;
    fix.has(200, &[]);
    let a_api = w.api(A).await;
    let p = a_api.sent(&w.last_sent(A).await).await.unwrap();
    assert!(p.confirm_now);
    let r = p.resend.expect("a typed resend");
    assert_eq!(
        (r.kind, r.original.as_str()),
        (gongwen_proto::ResendKind::BodyCorrected, sent[0].as_str())
    );

    // The API: by 發文字號; an original that is not A's is refused and nothing is sent.
    let first_number = a_api.sent(&sent[1]).await.unwrap().doc_number;
    let draft = note_to_b("更正附件，請查照。");
    let resend = |kind: &'static str, of: String| {
        let (a_api, draft) = (&a_api, &draft);
        async move {
            let fields = [
                ("draft", draft.as_str()),
                ("resend_kind", kind),
                ("resend_of", &of),
            ];
            let fields = fields.map(|(k, v)| (k, None, v.as_bytes()));
            a_api.send(&parts(&fields), None).await
        }
    };
    let v = resend("附件修正", first_number.clone()).await.unwrap();
    let p = a_api.sent(&v.package_id).await.unwrap();
    assert_eq!(p.resend.unwrap().original, sent[1], "found by its 發文字號");
    assert!(!p.confirm_now);
    let e = resend("重送", "他機關字第1150000001號".into())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("E_AGENT_DOCUMENT"), "{e}");
    assert!(e.to_string().contains("不是本機關"), "{e}");
    let e = resend("改正", first_number).await.unwrap_err();
    assert!(e.to_string().contains("重發類別"), "{e}");
    // Two letters and two corrections reached B; the refused ones did not.
    let b = w.api(B).await;
    until("B has the two corrections", || async {
        b.inbox("all").await.unwrap().items.len() == 4
    })
    .await;
    let listed = a_api.get("/api/v1/sent").await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 4, "{listed}");
    w.shutdown().await;
}
