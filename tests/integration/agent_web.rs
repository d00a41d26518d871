//! The web client as a browser drives it (HTTP, forms, cookies): sign-in with the
//! organisation's card through a signed challenge, the inbox with urgency first, the document
//! as the printed page and as PDF, 簽收 (with a 收文字號 the sender sees) and 退文, the sent
//! list and the duty lists. A replayed or foreign signature, a forged form and an expired
//! session are refused and change nothing. And the local signing program.

use std::path::Path;

use gongwen_agent::AgentConfig;
use gongwen_center::BlobStore;
use gongwen_center::Clock;
use gongwen_integration::{A, B, C, fresh_database, pki, runtime, scratch, until};
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
        .split("<textarea id=\"challenge\" hidden readonly>")
        .nth(1)
        .unwrap()
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

pub(crate) async fn sign_in(http: &reqwest::Client, base: &str, code: &str) -> Page {
    let login = send(http.get(format!("{base}/login"))).await;
    assert_eq!(login.status, 200);
    let (nonce, text) = challenge_of(&login.body);
    let signed = card(code)
        .sign_challenge(&text, Clock::default().now_s())
        .unwrap();
    send(
        http.post(format!("{base}/login"))
            .form(&[("nonce", nonce.as_str()), ("signed", signed.as_str())]),
    )
    .await
}

/// The package id of the newest document `code` sent from this node.
async fn ok_id(n: &gongwen_agent::Running, code: &str) -> String {
    n.node
        .db
        .fetch_optional(
            "SELECT package_id FROM agent_sent WHERE agency = $1 AND state = 'submitted' ORDER BY created_at DESC",
            &[code.into()],
        )
        .await
        .unwrap()
        .unwrap()
        .text(0)
        .unwrap()
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
    let mut a = crate::agent::agency(A, center, root);
    a.folder = None;
    let mut b = crate::agent::agency(B, center, root);
    b.folder = None;
    crate::agent::node_config(db, root, vec![a, b], Some(10))
}

#[test]
fn an_organisation_signs_in_with_its_card_and_handles_its_inbox_in_the_browser() {
    runtime().block_on(async {
        let pki = pki();
        let root = scratch("agent-web");
        let x = gongwen_center::start(pki.center_config("web-x", &fresh_database("web_x").await, BlobStore::Fs), Clock::default())
            .await
            .unwrap();
        pki.register(&x.app, &[A, B]).await.unwrap();
        let n = gongwen_agent::start(node(&fresh_database("web_node").await, &root, x.addr()), Clock::default())
            .await
            .unwrap();
        let base = format!("http://{}", n.api_addr().unwrap());
        let http = browser();

        // B's document system sends A two letters: one 最速件, one 普通件.
        let token = gongwen_agent::clients::add_token(&n.node.db, B, "公文系統", Clock::default().now_ms()).await.unwrap();
        let b = gongwen_client::agent::AgentClient::new(&base, &token, b"").unwrap();
        let mut ids = Vec::new();
        for (urgency, subject) in [("普通件", "普通件的函，請查照。"), ("最速件", "最速件的函，請即辦理。")] {
            let d = json!({
                "文別": "函", "速別": urgency, "主旨": subject, "地址": "100 臺北市中正區測試路1號", "聯絡方式": ["承辦人：王小明"], "署名": ["機關首長　王大明"],
                "段落": [{ "段名": "說明：", "條列": [{ "序號": "一、", "文字": "依規定辦理。" }] }],
                "附件": { "文字": "附件1份", "檔案": ["附件.pdf"] },
                "正本": [{ "全銜": "測試機關A", "機關代碼": A }],
            })
            .to_string();
            let v = b
                .send(
                    &[
                        gongwen_client::agent::Part { field: "draft", file: None, bytes: d.as_bytes() },
                        gongwen_client::agent::Part { field: "attachment", file: Some("附件.pdf"), bytes: b"%PDF-1.4\n%%EOF\n" },
                    ],
                    None,
                )
                .await
                .unwrap();
            ids.push(v.package_id.clone());
        }
        let (normal, urgent) = (ids[0].clone(), ids[1].clone());
        let received = |id: String| {
            let db = n.node.db.clone();
            async move {
                db.fetch_optional("SELECT state FROM agent_received WHERE agency = $1 AND package_id = $2", &[A.into(), id.as_str().into()])
                    .await
                    .unwrap()
                    .is_some()
            }
        };
        until("both letters at A", || async { received(normal.clone()).await && received(urgent.clone()).await }).await;

        // Not signed in: to the sign-in page.
        let p = send(http.get(format!("{base}/inbox"))).await;
        assert_eq!((p.status, p.location.as_str()), (303, "/login"));

        // A card of an organisation this node does not serve, and a replayed signature: refused.
        let foreign = sign_in(&http, &base, C).await;
        assert_eq!(foreign.status, 403);
        assert!(foreign.body.contains("不是本網站服務的機關"), "{}", foreign.body);
        let login = send(http.get(format!("{base}/login"))).await;
        let (nonce, text) = challenge_of(&login.body);
        let signed = card(A).sign_challenge(&text, Clock::default().now_s()).unwrap();
        let form = [("nonce", nonce.as_str()), ("signed", signed.as_str())];
        let ok = send(http.post(format!("{base}/login")).form(&form)).await;
        assert_eq!((ok.status, ok.location.as_str()), (303, "/inbox"));
        let replay = send(http.post(format!("{base}/login")).form(&form)).await;
        assert_eq!(replay.status, 403);
        assert!(replay.body.contains("已使用過"), "{}", replay.body);
        let bad_text = card(A).sign_challenge("Gongwen 網頁版登入\n隨機碼：0000\n", Clock::default().now_s()).unwrap();
        let login = send(http.get(format!("{base}/login"))).await;
        let (nonce, _) = challenge_of(&login.body);
        let wrong = send(http.post(format!("{base}/login")).form(&[("nonce", nonce.as_str()), ("signed", bad_text.as_str())])).await;
        assert_eq!(wrong.status, 403);
        let cookie = ok.cookie.expect("a session cookie");
        let get = |path: String| send(http.get(format!("{base}{path}")).header("cookie", &cookie));

        // The inbox: both waiting, the 最速件 first, marked in words.
        let inbox = get("/inbox".into()).await;
        assert_eq!(inbox.status, 200);
        let (u, nrm) = (inbox.body.find("最速件的函").unwrap(), inbox.body.find("普通件的函").unwrap());
        assert!(u < nrm, "urgent first");
        assert!(inbox.body.contains("badge urgent\">最速件"));

        // One document: the page, the printed form, its files.
        let page = get(format!("/inbox/{urgent}")).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("簽收") && page.body.contains("退文原因"));
        let doc = get(format!("/inbox/{urgent}/document")).await;
        assert!(doc.body.contains("最速件的函"), "{}", doc.body);
        let att = page.body.split("download>").nth(1).map(|_| ()).is_some();
        assert!(att, "files listed");
        let file = page.body.split("/files/").nth(1).unwrap().split('"').next().unwrap().to_string();
        let f = http.get(format!("{base}/inbox/{urgent}/files/{file}")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(f.status().as_u16(), 200);
        let pdf = http.get(format!("{base}/inbox/{urgent}/print.pdf")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));

        // A forged form (no or wrong CSRF token) changes nothing.
        let csrf = csrf_of(&page.body);
        let forged = send(http.post(format!("{base}/inbox/{urgent}/confirm")).header("cookie", &cookie).form(&[("csrf", "forged")])).await;
        assert_eq!(forged.status, 401);
        assert!(forged.body.contains("表單已失效"));
        let state = |id: String| {
            let db = n.node.db.clone();
            async move {
                db.fetch_optional("SELECT state FROM agent_received WHERE agency = $1 AND package_id = $2", &[A.into(), id.as_str().into()])
                    .await
                    .unwrap()
                    .unwrap()
                    .text(0)
                    .unwrap()
            }
        };
        assert_eq!(state(urgent.clone()).await, "delivered");

        // 簽收: the sender sees it confirmed, with A's 收文字號.
        let done = send(http.post(format!("{base}/inbox/{urgent}/confirm")).header("cookie", &cookie).form(&[("csrf", csrf.as_str())])).await;
        assert_eq!(done.status, 303);
        assert_eq!(state(urgent.clone()).await, "confirmed");
        let seen = b.sent(&urgent).await.unwrap();
        assert_eq!(seen.copies[0].status, gongwen_proto::CopyStatus::Confirmed);
        assert!(seen.copies[0].receipt_number.as_deref().is_some_and(|r| r.starts_with("測試收字第")), "{seen:?}");
        let after = get(format!("/inbox/{urgent}")).await;
        assert!(after.body.contains("收文字號") && !after.body.contains("退文原因"));

        // 退文: 其他 needs words; then with a reason from the list.
        let p = send(http.post(format!("{base}/inbox/{normal}/return")).header("cookie", &cookie).form(&[("csrf", csrf.as_str()), ("reason", "其他"), ("text", "")])).await;
        assert_eq!(p.status, 400);
        assert!(p.body.contains("其他"), "{}", p.body);
        assert_eq!(state(normal.clone()).await, "delivered");
        let p = send(
            http.post(format!("{base}/inbox/{normal}/return"))
                .header("cookie", &cookie)
                .form(&[("csrf", csrf.as_str()), ("reason", "非本機關權責"), ("text", "請改送主管機關")]),
        )
        .await;
        assert_eq!(p.status, 303);
        let seen = b.sent(&normal).await.unwrap();
        assert_eq!(seen.copies[0].return_reason, Some(gongwen_proto::ReturnReason::NotOurs));

        // Sent, duty lists.
        let sent = get("/sent".into()).await;
        assert_eq!(sent.status, 200);
        assert!(sent.body.contains("尚未送出公文"));
        let duties = get("/duties".into()).await;
        assert_eq!(duties.status, 200, "{}", duties.body);
        assert!(duties.body.contains("次一工作日下午 2 時"));

        // Another agency's document is not A's to see.
        let other = b.inbox("all").await.unwrap();
        assert!(other.items.is_empty());
        assert_eq!(get(format!("/inbox/{}", "0".repeat(32))).await.status, 404);

        // Compose: a 函 with two levels of 說明 and a PDF, to B; previewed, then sent.
        let compose = get("/compose".into()).await;
        assert_eq!(compose.status, 200);
        let csrf = csrf_of(&compose.body);
        let book = get(format!("/compose/recipients?q={}", &B[..6])).await;
        assert!(book.body.contains(B), "the address book finds B by part of its code: {}", book.body);
        let by_name = get("/compose/recipients?q=%E5%8F%B0".into()).await;
        assert_eq!(by_name.body, "[]", "nobody here is named with 台");
        let fields = |subject: &'static str, to: &'static str, file: &'static str| {
            vec![
                ("csrf", None, csrf.clone().into_bytes()),
                ("kind", None, "函".as_bytes().to_vec()),
                ("urgency", None, "速件".as_bytes().to_vec()),
                ("subject", None, subject.as_bytes().to_vec()),
                ("explain", None, "依據本會章程辦理。\n活動內容如下：\n　上午：開幕\n　下午：座談".as_bytes().to_vec()),
                ("primary", None, to.as_bytes().to_vec()),
                ("address", None, "708 臺南市安平區測試路1號".as_bytes().to_vec()),
                ("contact", None, "承辦人：林小姐".as_bytes().to_vec()),
                ("signature", None, "理事長　林大同".as_bytes().to_vec()),
                ("attachment", Some(file), b"%PDF-1.4\n%%EOF\n".to_vec()),
            ]
        };
        let post = |path: &'static str, f: Vec<(&'static str, Option<&'static str>, Vec<u8>)>| {
            let parts: Vec<gongwen_client::agent::Part<'_>> =
                f.iter().map(|(k, n, b)| gongwen_client::agent::Part { field: k, file: *n, bytes: b }).collect();
            let (ct, body) = gongwen_client::agent::multipart(&parts);
            send(http.post(format!("{base}{path}")).header("cookie", &cookie).header("content-type", ct).body(body))
        };
        let pv = http
            .post(format!("{base}/compose/preview"))
            .header("cookie", &cookie)
            .header("content-type", gongwen_client::agent::multipart(&[]).0)
            .send()
            .await
            .unwrap();
        assert_ne!(pv.status().as_u16(), 200, "an empty form is no preview");
        let pv = post("/compose/preview", fields("邀請參加年會，請查照。", B, "議程.pdf")).await;
        assert_eq!(pv.status, 200, "{}", pv.body);
        // Bad input keeps what was typed: a Word file, an unknown recipient, a forged token.
        let p = post("/compose/send", fields("邀請參加年會，請查照。", B, "議程.docx")).await;
        assert_eq!(p.status, 415, "{}", p.body);
        assert!(p.body.contains("ODF") && p.body.contains("邀請參加年會") && p.body.contains("上午：開幕"), "{}", p.body);
        let p = post("/compose/send", fields("邀請參加年會，請查照。", "999999999Z", "議程.pdf")).await;
        assert_eq!(p.status, 400);
        assert!(p.body.contains("999999999Z") && p.body.contains("邀請參加年會"), "{}", p.body);
        let mut forged = fields("邀請參加年會，請查照。", B, "議程.pdf");
        forged[0].2 = b"forged".to_vec();
        assert_eq!(post("/compose/send", forged).await.status, 401);
        let sent_before = b.inbox("all").await.unwrap().items.len();
        assert_eq!(sent_before, 0, "nothing reached B");
        let ok = post("/compose/send", fields("邀請參加年會，請查照。", B, "議程.pdf")).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert!(ok.body.contains("測試字第1150000001號"), "the first number of the year: {}", ok.body);
        until("B has the composed letter", || async {
            b.inbox("delivered").await.unwrap().items.len() == 1
        })
        .await;
        let item = b.inbox("delivered").await.unwrap().items[0].clone();
        assert_eq!(item.urgency, "速件");
        assert!(item.doc_number.contains("測試字"), "{item:?}");
        let sent = get("/sent".into()).await;
        assert!(sent.body.contains("邀請參加年會"), "{}", sent.body);

        // A suspended recipient: the address book no longer offers it, a send names it, and
        // what was typed is kept.
        gongwen_center::participants::set_standing(&x.app.db, B, gongwen_center::participants::Standing::Suspended, Some("未依規定改善"), "admin", Clock::default().now_ms())
            .await
            .unwrap();
        let book = get(format!("/compose/recipients?q={}", &B[..6])).await;
        assert_eq!(book.body, "[]", "{}", book.body);
        let p = post("/compose/send", fields("再次邀請參加年會，請查照。", B, "議程.pdf")).await;
        assert_eq!(p.status, 400);
        assert!(p.body.contains(B) && p.body.contains("暫停") && p.body.contains("再次邀請參加年會"), "{}", p.body);
        gongwen_center::participants::set_standing(&x.app.db, B, gongwen_center::participants::Standing::Active, None, "admin", Clock::default().now_ms())
            .await
            .unwrap();

        // The letter A sent, printed for paper mailing and for filing, with the marks.
        let sent_id = ok_id(&n, A).await;
        for (path, mark) in [("paper", "已電子交換未確認"), ("filing", "已電子交換")] {
            let r = http.get(format!("{base}/sent/{sent_id}/{path}.pdf")).header("cookie", &cookie).send().await.unwrap();
            assert_eq!(r.headers()["content-type"], "application/pdf", "{path}");
            let pdf = r.bytes().await.unwrap();
            assert!(pdf.starts_with(b"%PDF"), "{mark}");
        }
        let dl = get("/duties".into()).await;
        assert!(dl.body.contains("/paper.pdf") || dl.body.contains("沒有待辦"), "{}", dl.body);

        // Records: the search and the CSV for Excel (with a BOM).
        let rec = get("/records".into()).await;
        assert_eq!(rec.status, 200);
        assert!(rec.body.contains("已收文確認") && rec.body.contains("已退文"), "{}", rec.body);
        let csv = http.get(format!("{base}/records.csv?kind=returned")).header("cookie", &cookie).send().await.unwrap();
        assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
        let text = csv.text().await.unwrap();
        assert!(text.starts_with('\u{FEFF}'), "a BOM for Excel");
        assert_eq!(get("/records?from=2026-13-01".into()).await.status, 400, "a date that is not one");

        // Groups: one of A's own, then gone; the compose page offers it.
        let p = send(http.post(format!("{base}/groups")).header("cookie", &cookie).form(&[("csrf", csrf.as_str()), ("name", "常用機關"), ("members", B)])).await;
        assert_eq!(p.status, 303, "{}", p.body);
        let g = get("/groups".into()).await;
        assert!(g.body.contains("常用機關") && g.body.contains(B));
        assert!(get("/compose".into()).await.body.contains("常用機關"));
        let p = send(http.post(format!("{base}/groups/delete")).header("cookie", &cookie).form(&[("csrf", csrf.as_str()), ("name", "常用機關")])).await;
        assert_eq!(p.status, 303);
        assert!(!get("/groups".into()).await.body.contains("常用機關"));

        // The profile: the card certificates and when they expire.
        let prof = get("/profile".into()).await;
        assert!(prof.body.contains("簽章憑證") && prof.body.contains("尚有"), "{}", prof.body);

        // Idle for 31 minutes: the session is over.
        n.node.clock.advance(31 * 60_000);
        let expired = get("/inbox".into()).await;
        assert_eq!((expired.status, expired.location.as_str()), (303, "/login?expired=1"));

        // Every sign-in was recorded.
        let rows = n.node.db.fetch_all("SELECT ok FROM agent_logins", &[]).await.unwrap();
        let oks = rows.iter().filter(|r| r.i64(0).unwrap() == 1).count();
        assert_eq!((oks, rows.len() - oks), (1, 3), "one success, three failures");

        // A person's own card (附卡), once registered as A's user, signs in as A.
        let c_cert = std::fs::read(&pki.agency(C).sign_file).unwrap();
        gongwen_agent::clients::add_cert(&n.node.db, A, "王小明", "card", &c_cert, Clock::default().now_ms())
            .await
            .unwrap();
        let person = sign_in(&http, &base, C).await;
        assert_eq!((person.status, person.location.as_str()), (303, "/inbox"), "{}", person.body);
        let inbox = send(http.get(format!("{base}/inbox")).header("cookie", person.cookie.unwrap())).await;
        assert!(inbox.body.contains("王小明") && inbox.body.contains(A), "{}", inbox.body);

        // A year and a day later the agent's copies of finished documents are purged; a
        // document still waiting stays.
        let staged = root.join("data").join("staged").join(A);
        assert!(std::fs::read_dir(&staged).unwrap().count() > 0);
        n.node.clock.advance(366 * 86_400_000);
        let (sent_gone, received_gone) = gongwen_agent::purge::run(&n.node).await.unwrap();
        assert!(sent_gone >= 1 && received_gone >= 2, "{sent_gone} {received_gone}");
        assert_eq!(std::fs::read_dir(&staged).unwrap().count(), 0, "staged sets removed");
        let left = n.node.db.fetch_all("SELECT agency, state FROM agent_received", &[]).await.unwrap();
        assert!(left.iter().all(|r| r.text(1).unwrap() == "delivered"), "only what waits is kept");
        assert!(!left.is_empty(), "B's letter, not yet handled, stays");
        assert!(n.node.db.fetch_all("SELECT id FROM agent_logins", &[]).await.unwrap().is_empty());

        n.shutdown().await;
        x.shutdown().await;
    });
}

#[test]
fn the_local_signer_signs_only_challenges_for_allowed_pages() {
    runtime().block_on(async {
        let origin = "http://127.0.0.1:18451".to_string();
        let s = gongwen_agent::signer::serve("127.0.0.1:0", card(A), vec![origin.clone()])
            .await
            .unwrap();
        let http = browser();
        let url = format!("http://{}/sign", s.addr);
        let challenge = "Gongwen 網頁版登入\n網站：http://127.0.0.1:18451\n隨機碼：abc\n";
        let r = http
            .post(&url)
            .header("origin", &origin)
            .body(challenge)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["access-control-allow-origin"], origin.as_str());
        let pem = r.text().await.unwrap();
        assert!(pem.starts_with("-----BEGIN CMS-----"), "{pem}");
        let (_, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
        let v = gongwen_trust::cms::verify(&der).unwrap();
        assert_eq!(v.content, challenge.as_bytes());
        let r = http
            .post(&url)
            .header("origin", "https://evil.example")
            .body(challenge)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        let r = http
            .post(&url)
            .header("origin", &origin)
            .body("請簽這份合約")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        assert!(
            gongwen_agent::signer::serve("0.0.0.0:0", card(A), vec![])
                .await
                .is_err(),
            "loopback only"
        );
        s.shutdown().await;
    });
}

/// Every 文別 the compose form offers can be previewed and sent, with the recipient boxes
/// named for the kind; a send may ask for 立即確認 and correct an earlier one (a typed
/// resend), from the form and from the API; the records show states in words.
#[test]
fn every_kind_the_compose_form_offers_is_previewed_and_sent() {
    runtime().block_on(async {
        let pki = pki();
        let root = scratch("agent-web-kinds");
        let x = gongwen_center::start(pki.center_config("kinds-x", &fresh_database("kinds_x").await, BlobStore::Fs), Clock::default())
            .await
            .unwrap();
        pki.register(&x.app, &[A, B]).await.unwrap();
        let n = gongwen_agent::start(node(&fresh_database("kinds_node").await, &root, x.addr()), Clock::default())
            .await
            .unwrap();
        let base = format!("http://{}", n.api_addr().unwrap());
        let http = browser();
        let signed_in = sign_in(&http, &base, A).await;
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        let cookie = signed_in.cookie.unwrap();
        let get = |path: String| send(http.get(format!("{base}{path}")).header("cookie", &cookie));
        let compose = get("/compose".into()).await;
        let csrf = csrf_of(&compose.body);
        // 函 by default: 正本 and 副本, no 出席者; a 簽 is not offered (written in 線上簽核).
        assert!(compose.body.contains("id=\"primary-label\">正本<") && compose.body.contains("id=\"copies-label\">副本<"), "{}", compose.body);
        assert!(!compose.body.contains("出席者") && !compose.body.contains("<option>簽</option>"), "{}", compose.body);

        let post = |path: &'static str, f: Vec<(&'static str, Option<&'static str>, Vec<u8>)>| {
            let parts: Vec<gongwen_client::agent::Part<'_>> =
                f.iter().map(|(k, n, b)| gongwen_client::agent::Part { field: k, file: *n, bytes: b }).collect();
            let (ct, body) = gongwen_client::agent::multipart(&parts);
            send(http.post(format!("{base}{path}")).header("cookie", &cookie).header("content-type", ct).body(body))
        };
        let form = |kind: &'static str, to: &'static str, extra: Vec<(&'static str, String)>| {
            let mut f: Vec<(&'static str, Option<&'static str>, Vec<u8>)> = vec![
                ("csrf", None, csrf.clone().into_bytes()),
                ("kind", None, kind.as_bytes().to_vec()),
                ("urgency", None, "普通件".as_bytes().to_vec()),
                ("subject", None, format!("{kind}的主旨，請查照。").into_bytes()),
                ("explain", None, "依本會章程辦理。".as_bytes().to_vec()),
                ("basis", None, "本會章程第5條。".as_bytes().to_vec()),
                ("announce", None, "一、會員大會訂於115年3月1日舉行。".as_bytes().to_vec()),
                ("reason", None, "討論年度計畫".as_bytes().to_vec()),
                ("date", None, "115年3月2日".as_bytes().to_vec()),
                ("time", None, "上午10時".as_bytes().to_vec()),
                ("place", None, "本會會議室".as_bytes().to_vec()),
                ("chair", None, "林大同".as_bytes().to_vec()),
                ("contact_name", None, "林小姐".as_bytes().to_vec()),
                ("contact_phone", None, "06-2345678".as_bytes().to_vec()),
                ("primary", None, to.as_bytes().to_vec()),
                ("address", None, "708 臺南市安平區測試路1號".as_bytes().to_vec()),
                ("contact", None, "承辦人：林小姐".as_bytes().to_vec()),
                ("signature", None, "理事長　林大同".as_bytes().to_vec()),
            ];
            for (k, v) in extra {
                f.push((k, None, v.as_bytes().to_vec()));
            }
            f
        };
        // A meeting notice refused (unknown recipient) comes back with the meeting's labels.
        let back = post("/compose/send", form("開會通知單", "999999999Z", vec![])).await;
        assert_eq!(back.status, 400, "{}", back.body);
        assert!(back.body.contains("id=\"primary-label\">出席者<") && back.body.contains("id=\"copies-label\">列席者<"), "{}", back.body);
        assert!(back.body.contains("出席者「999999999Z」"), "the box is named as the kind names it: {}", back.body);
        assert!(back.body.contains("林小姐") && back.body.contains("06-2345678"), "what was typed is kept");

        let mut sent = Vec::new();
        for kind in ["函", "書函", "公告", "開會通知單"] {
            let pv = post("/compose/preview", form(kind, B, vec![])).await;
            assert_eq!(pv.status, 200, "{kind} preview: {}", pv.body);
            let ok = post("/compose/send", form(kind, B, vec![])).await;
            assert_eq!(ok.status, 200, "{kind} send: {}", ok.body);
            assert!(ok.body.contains("已送出"), "{kind}: {}", ok.body);
            sent.push(ok_id(&n, A).await);
        }
        let token = gongwen_agent::clients::add_token(&n.node.db, B, "公文系統", Clock::default().now_ms()).await.unwrap();
        let b = gongwen_client::agent::AgentClient::new(&base, &token, b"").unwrap();
        until("B has all four kinds", || async {
            b.inbox("all").await.unwrap().items.len() == 4
        })
        .await;
        let subjects: Vec<String> = b.inbox("all").await.unwrap().items.into_iter().map(|i| i.subject).collect();
        for kind in ["函", "書函", "公告"] {
            assert!(subjects.iter().any(|s| s == &format!("{kind}的主旨，請查照。")), "{kind}: {subjects:?}");
        }
        assert!(subjects.iter().any(|s| s == "討論年度計畫"), "the meeting's 開會事由: {subjects:?}");

        // A correction of the first letter, asking for immediate confirmation: the sent page
        // offers it, the form names the original, the center carries both.
        let list = get("/sent".into()).await;
        assert!(list.body.contains(&format!("/compose?resend_of={}", sent[0])), "{}", list.body);
        let pre = get(format!("/compose?resend_of={}", sent[0])).await;
        assert!(pre.body.contains(&format!("value=\"{}\" selected", sent[0])), "{}", pre.body);
        let fix = post(
            "/compose/send",
            form("函", B, vec![("confirm_now", "on".into()), ("resend_kind", "本文修正".into()), ("resend_of", sent[0].clone())]),
        )
        .await;
        assert_eq!(fix.status, 200, "{}", fix.body);
        let fixed_id = ok_id(&n, A).await;
        let a_token = gongwen_agent::clients::add_token(&n.node.db, A, "公文系統", Clock::default().now_ms()).await.unwrap();
        let a_api = gongwen_client::agent::AgentClient::new(&base, &a_token, b"").unwrap();
        let p = a_api.sent(&fixed_id).await.unwrap();
        assert!(p.confirm_now);
        let r = p.resend.expect("a typed resend");
        assert_eq!((r.kind, r.original.as_str()), (gongwen_proto::ResendKind::BodyCorrected, sent[0].as_str()));

        // The API: by 發文字號; an original that is not A's is refused and nothing is sent.
        let first_number = a_api.sent(&sent[1]).await.unwrap().doc_number;
        let draft = json!({
            "文別": "函", "主旨": "更正附件，請查照。", "地址": "708 臺南市安平區測試路1號", "聯絡方式": ["承辦人：林小姐"],
            "署名": ["理事長　林大同"], "正本": [{ "全銜": "測試機關B", "機關代碼": B }],
        })
        .to_string();
        let parts = |kind: &'static str, of: String| {
            vec![
                ("draft".to_string(), draft.clone()),
                ("resend_kind".to_string(), kind.to_string()),
                ("resend_of".to_string(), of),
            ]
        };
        let send_api = |fields: Vec<(String, String)>| {
            let a_api = &a_api;
            async move {
                let p: Vec<gongwen_client::agent::Part<'_>> =
                    fields.iter().map(|(k, v)| gongwen_client::agent::Part { field: k, file: None, bytes: v.as_bytes() }).collect();
                a_api.send(&p, None).await
            }
        };
        let v = send_api(parts("附件修正", first_number.clone())).await.unwrap();
        let p = a_api.sent(&v.package_id).await.unwrap();
        assert_eq!(p.resend.unwrap().original, sent[1], "found by its 發文字號");
        assert!(!p.confirm_now);
        let e = send_api(parts("重送", "他機關字第1150000001號".into())).await.unwrap_err();
        assert_eq!(e.code(), Some("E_AGENT_DOCUMENT"), "{e}");
        assert!(e.to_string().contains("不是本機關"), "{e}");
        let e = send_api(parts("改正", first_number)).await.unwrap_err();
        assert!(e.to_string().contains("重發類別"), "{e}");
        // Four kinds and two corrections reached B; the refused ones did not.
        until("B has the two corrections", || async {
            b.inbox("all").await.unwrap().items.len() == 6
        })
        .await;
        let listed = a_api.get("/api/v1/sent").await.unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 6, "{listed}");

        // Records: every state in words, none as the code the center stores.
        let items = b.inbox("delivered").await.unwrap();
        let all = b.inbox("all").await.unwrap();
        let id = items.items.first().unwrap_or_else(|| panic!("a letter waiting at B: {all:?}")).package_id.clone();
        b.confirm(&id).await.unwrap();
        let rec = get("/records".into()).await;
        assert_eq!(rec.status, 200);
        assert!(rec.body.contains("待收文") && rec.body.contains("已送達"), "{}", rec.body);
        for raw in ["available", "delivered", "accepted", "confirmed"] {
            assert!(!rec.body.contains(&format!("<td>{raw}</td>")), "{raw} shown raw: {}", rec.body);
        }

        n.shutdown().await;
        x.shutdown().await;
    });
}
