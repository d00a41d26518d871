//! Duties that had code but no test (issue 16 item 4): a classified document (密等) never
//! leaves — refused by the agent in folder mode, by its API (DI or draft), never produced by
//! the web client's form, and refused by the center; the center keeps its records the
//! retention period (and those of a package still open for good); the directory's 不同意.

use std::time::Duration;

use gongwen_center::Clock;
use gongwen_integration::{
    A, B, C, confirm, fresh_database, json_file, pki, scratch, sealed, until,
};
use gongwen_proto::CopyStatus;
use gongwen_testbed::letter;
use serde_json::json;

use crate::agent_api::Api;

/// The words sealing refuses a classified document with.
const CLASSIFIED: &str = "機密文書不得電子交換";

/// `di` with a 密等 of 「密」 after its 速別, as a document system writes a classified letter.
fn classified(di: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(di.to_vec()).unwrap();
    let start = text.find("<速別").expect("a letter has a 速別");
    let end = start + text[start..].find("/>").expect("an empty 速別 element") + 2;
    let secrecy = "<密等及解密條件或保密期限><密等 代碼=\"密\"/><解密條件或保密期限>本件於公文發布後解密</解密條件或保密期限></密等及解密條件或保密期限>";
    format!("{}{secrecy}{}", &text[..end], &text[end..]).into_bytes()
}

/// The folders of `dir` that are complete sets (not hidden work in progress).
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_classified_document_is_refused_everywhere_and_nothing_reaches_the_recipient() {
    let pki = pki();
    let root = scratch("duties-classified");
    let x = crate::agent_web::start_center("duties_cl").await;
    let cfg = crate::agent::node_config(
        &fresh_database("duties_cl_node").await,
        &root,
        vec![
            crate::agent::agency(A, x.addr(), &root),
            crate::agent::agency(B, x.addr(), &root),
        ],
        Some(10),
    );
    let n = gongwen_agent::start(cfg, Clock::default()).await.unwrap();
    let a = pki.client(x.addr(), A).unwrap();
    let b = pki.client(x.addr(), B).unwrap();
    let nothing_sent = || async {
        assert!(
            a.sent_list(&[]).await.unwrap().items.is_empty(),
            "nothing reached the center"
        );
        assert!(
            b.inbox(&[]).await.unwrap().items.is_empty(),
            "nothing waits for B"
        );
        assert!(
            entries(&root.join(B).join("inbox")).is_empty(),
            "B's inbox is empty"
        );
        let sealed = n
            .node
            .db
            .fetch_all("SELECT name FROM agent_sent", &[])
            .await;
        assert!(sealed.unwrap().is_empty(), "nothing was sealed");
    };

    // Folder mode: the set goes to error/ with the reason, and nothing is sealed or sent.
    let (di, sw, attachments) = letter(A, &[B], 500).unwrap();
    let (di_name, sw_name) = (di.0.clone(), sw.0.clone());
    let set = ((di.0, classified(&di.1)), sw, attachments);
    let name = crate::agent::drop_set(&root, set, None);
    let err = root.join(A).join("error").join(&name);
    until("the classified set in error/", || async {
        err.join("error.json").is_file()
    })
    .await;
    let why = std::fs::read_to_string(err.join("原因.txt")).unwrap();
    assert!(why.contains(CLASSIFIED) && why.contains("密"), "{why}");
    let detail = json_file(err.join("error.json"));
    assert!(
        detail["message"].as_str().unwrap().contains(CLASSIFIED),
        "{detail}"
    );
    assert!(
        err.join(&di_name).is_file() && err.join(&sw_name).is_file(),
        "the whole set moved"
    );
    assert!(
        entries(&root.join(A).join("outbox")).is_empty(),
        "the outbox is emptied"
    );
    assert!(entries(&root.join(A).join("sent")).is_empty());
    // A second round leaves it there and sends nothing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    nothing_sent().await;

    // The API: a DI with its SW and attachment.
    let api = Api::new(&n, A).await;
    let (di, sw, atts) = letter(A, &[B], 500).unwrap();
    let (s, v) = api
        .send(
            &[
                ("di", Some(di.0.as_str()), classified(&di.1)),
                ("sw", Some(sw.0.as_str()), sw.1),
                ("attachment", Some(atts[0].0.as_str()), atts[0].1.clone()),
            ],
            None,
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["code"], "E_AGENT_DOCUMENT", "{v}");
    assert!(v.to_string().contains(CLASSIFIED), "{v}");

    // The API: a draft (JSON) with 密等.
    let draft = json!({
        "文別": "函", "速別": "普通件", "主旨": "機密的函，請查照。",
        "密等及解密條件或保密期限": { "密等": "機密", "解密條件或保密期限": "本件於115年12月31日解密" },
        "地址": "100 臺北市中正區測試路1號", "聯絡方式": ["承辦人：王小明"], "署名": ["機關首長　王大明"],
        "段落": [{ "段名": "說明：", "條列": [{ "序號": "一、", "文字": "依規定辦理。" }] }],
        "正本": [{ "全銜": format!("測試機關{B}"), "機關代碼": B }],
    })
    .to_string();
    let (s, v) = api.send(&[("draft", None, draft.as_bytes())], None).await;
    assert_eq!(s, 400, "{v}");
    assert!(v.to_string().contains(CLASSIFIED), "{v}");
    nothing_sent().await;

    // The web client offers no 密等; a form with one crafted in still never sends one.
    let http = crate::agent_web::browser();
    let session = crate::agent_web::Session::open(&http, &api.base, A).await;
    let page = session.get("/compose").await;
    page.has(200, &[]);
    page.lacks(&["密等"]); // the form offers none
    let csrf = crate::agent_web::csrf_of(&page.body);
    let fields: crate::agent_web::Fields = [
        ("csrf", csrf.as_str()),
        ("kind", "函"),
        ("urgency", "普通件"),
        ("secrecy", "密"),
        ("密等", "密"),
        ("密等及解密條件或保密期限", "{\"密等\":\"密\"}"),
        ("subject", "表單加了密等欄位的函，請查照。"),
        ("explain", "依規定辦理。"),
        ("primary", B),
        ("address", "100 臺北市中正區測試路1號"),
        ("contact", "承辦人：王小明"),
        ("signature", "機關首長　王大明"),
    ]
    .map(|(k, v)| (k, None, v.as_bytes().to_vec()))
    .to_vec();
    session.upload("/compose/send", &fields).await.has(200, &[]);
    let sent = a.sent_list(&[]).await.unwrap().items;
    assert_eq!(sent.len(), 1, "only the web letter was sent");
    let id = sent[0].id.clone();
    let inbox = root.join(B).join("inbox").join(&id);
    until("the web letter in B's inbox", || async {
        inbox.join("receipt.json").is_file()
    })
    .await;
    for f in entries(&inbox) {
        let bytes = std::fs::read(inbox.join(&f)).unwrap();
        if f.ends_with(".di") {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.contains("表單加了密等欄位"), "{text}");
            assert!(!text.contains("<密等"), "sent without 密等: {text}");
        }
    }
    let pkg = b.fetch(&id).await.unwrap();
    let header = gongwen_trust::package::inspect(&pkg).unwrap().header;
    assert_eq!(header.secrecy, None);

    // The center: a package whose signed header says 密 is refused, and not kept.
    let pkg = pki
        .seal_with_header(A, &[B], |h| h.secrecy = Some("密".into()))
        .unwrap();
    let refused_id = gongwen_trust::package::inspect(&pkg).unwrap().header.id;
    let e = a.submit("classified-1", pkg).await.expect_err("refused");
    assert_eq!(e.code(), Some("E_SUBMIT_CLASSIFIED"), "{e}");
    assert_eq!(e.status(), Some(400));
    assert!(e.to_string().contains(CLASSIFIED), "{e}");
    assert_eq!(a.sent_list(&[]).await.unwrap().items.len(), 1);
    assert!(
        a.sent(&refused_id).await.is_err(),
        "the center kept nothing of it"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        entries(&root.join(B).join("inbox")),
        vec![id.clone()],
        "B received the web letter alone"
    );
    // A header with 密等 「普通」 is no classification.
    let plain = pki
        .seal_with_header(A, &[B], |h| h.secrecy = Some("普通".into()))
        .unwrap();
    a.submit("classified-2", plain).await.unwrap();
    n.shutdown().await;
    x.shutdown().await;
}

/// The events the center holds: (kind, package id).
async fn events(db: &gongwen_store::Db) -> Vec<(String, Option<String>)> {
    db.fetch_all("SELECT kind, package_id FROM events ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.text(0).unwrap(), r.opt_text(1).unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_kept_a_year_and_those_of_an_open_copy_for_good() {
    let pki = pki();
    // Asked for less than the minimum: a year is kept all the same.
    let x =
        crate::agent_web::center_with("duties_rec", &[A, B, C], |c| c.retention.record_days = 30)
            .await;
    let clock = &x.app.clock;
    let a = pki.client(x.addr(), A).unwrap();
    let b = pki.client(x.addr(), B).unwrap();

    // One package whose copy is final (送達, 收文確認), one to two recipients of which
    // one copy stays open, and an error record about no package.
    let done = sealed(A, &[B], 100);
    let done_id = a.submit("rec-1", done.clone()).await.unwrap().id;
    confirm(&b, B, &done_id, &done).await;
    let open = sealed(A, &[B, C], 100);
    let open_id = a.submit("rec-2", open.clone()).await.unwrap().id;
    confirm(&b, B, &open_id, &open).await;
    let c_copy = a.sent(&open_id).await.unwrap();
    assert!(
        c_copy
            .copies
            .iter()
            .any(|c| c.recipient == C && !c.status.is_final()),
        "C's copy is still open"
    );
    assert_eq!(
        c_copy
            .copies
            .iter()
            .find(|c| c.recipient == B)
            .unwrap()
            .status,
        CopyStatus::Confirmed
    );
    let bad = pki
        .seal_with_header(A, &[B], |h| h.secrecy = Some("密".into()))
        .unwrap();
    assert!(a.submit("rec-3", bad).await.is_err());
    let db = x.app.db.clone();
    let before = events(&db).await;
    let of = |id: &str, ev: &[(String, Option<String>)]| {
        ev.iter()
            .filter(|(_, p)| p.as_deref() == Some(id))
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
    };
    assert!(
        of(&done_id, &before).contains(&"confirmed".to_string()),
        "{before:?}"
    );
    assert!(
        of(&open_id, &before).contains(&"accepted".to_string()),
        "{before:?}"
    );
    assert!(
        before.iter().any(|(k, p)| k == "error" && p.is_none()),
        "the refusal is a record: {before:?}"
    );

    // 364 days on: everything is still there.
    clock.advance(364 * 86_400_000);
    gongwen_center::sweep(&x.app).await;
    let after = events(&db).await;
    for e in &before {
        assert!(after.contains(e), "{e:?} kept at 364 days");
    }

    // 365 days and a minute on: the final package's records and the error are gone; the
    // package with a copy still open keeps every record.
    clock.advance(86_400_000 + 60_000);
    gongwen_center::sweep(&x.app).await;
    let after = events(&db).await;
    let old_done: Vec<String> = of(&done_id, &before);
    let left_done = of(&done_id, &after);
    for k in ["accepted", "delivered", "confirmed"] {
        assert!(
            old_done.iter().any(|x| x == k),
            "{k} was recorded: {old_done:?}"
        );
        assert!(
            !left_done.iter().any(|x| x == k),
            "{k} of the final package purged: {left_done:?}"
        );
    }
    assert!(
        !after.iter().any(|(k, p)| k == "error" && p.is_none()),
        "the year-old error purged: {after:?}"
    );
    assert_eq!(
        of(&open_id, &after)
            .into_iter()
            .filter(|k| k != "body_purged")
            .collect::<Vec<_>>(),
        of(&open_id, &before),
        "the records of the package with an open copy are all kept"
    );
    // Through the records query too.
    let q = gongwen_center::records::query(
        &db,
        &gongwen_center::records::Query {
            package_id: Some(open_id.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        q.items.iter().any(|r| r.kind == "accepted"),
        "{:?}",
        q.items
    );
    x.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_rejects_an_application_in_the_pages_and_the_applicant_is_told_why() {
    use crate::directory_network::{form, reviews};
    use gongwen_directory::applications::notices;
    let r = reviews("dir_reject").await;
    let db = &r.dir.app.db;
    let f = form(C, "center-x", true, r.now);
    let id = r.apply(&f, C).await;
    let (cookie, page) = r.signed_in(&id).await;
    page.has(200, &["不同意"]);
    let csrf = crate::agent_web::csrf_of(&page.body);
    let decide = |message: &'static str| {
        let form = [
            ("csrf", csrf.as_str()),
            ("decision", "reject"),
            ("message", message),
        ];
        let (r, path, cookie) = (&r, format!("/review/{id}"), cookie.clone());
        async move { r.post(&path, Some(&cookie), &form).await }
    };

    // 不同意 without a reason: refused, nothing changes, nobody is told.
    let before = notices(db, C).await.unwrap();
    decide("  ").await.has(400, &["理由"]);
    assert_eq!(r.state(&id).await, "submitted");
    assert_eq!(notices(db, C).await.unwrap().len(), before.len());

    // 不同意 with the reason.
    let reason = "所附統一編號與立案證書不符，請查明後重新申請";
    decide(reason).await.has(200, &["不同意", reason]);
    assert_eq!(r.state(&id).await, "rejected");

    // The applicant's notice, with the reason.
    let notices = notices(db, C).await.unwrap();
    let (_, subject, body) = &notices[0];
    assert_eq!(subject, "連線申請不同意");
    assert!(body.contains(&id) && body.contains(reason), "{body}");
    // The application's public page says so, with the reason and the step.
    let p = r.get(&format!("/applications/{id}"), None).await;
    p.has(200, &["不同意", reason, "審核意見"]);
    // The step is in the log, by the reviewer.
    let log = gongwen_directory::audit::history(db, &format!("application:{id}"))
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.entry.action == "application.rejected"
                && e.entry.actor.contains("minzheng")),
        "{:?}",
        log.iter().map(|e| &e.entry.action).collect::<Vec<_>>()
    );

    // Nothing was registered, and the decision is final.
    assert!(
        gongwen_directory::registry::get(db, C)
            .await
            .unwrap()
            .is_none(),
        "{C} is not a participant"
    );
    let approve = [("csrf", csrf.as_str()), ("decision", "approve")];
    let p = r
        .post(&format!("/review/{id}"), Some(&cookie), &approve)
        .await;
    assert!(p.status >= 400, "{} {}", p.status, p.body);
    assert_eq!(r.state(&id).await, "rejected");
    // The applicant may apply again.
    assert_ne!(r.apply(&f, C).await, id);
    r.shutdown().await;
}
