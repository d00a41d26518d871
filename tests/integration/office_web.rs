//! The office's pages as a browser drives them (HTTP, forms, cookies), on the real server
//! (`gongwen_office::serve::start`): each person signs in with their own card through a signed
//! challenge, sees the worklists of their roles, and signs every step on the page that shows
//! the step's text. A card nobody registered, a replayed challenge, a forged form and a step
//! signed by someone else are refused and change nothing.

use std::collections::HashMap;

use gongwen_center::Clock;
use gongwen_integration::{fresh_database, scratch};
use gongwen_office::config::{AgencySettings, AgentLink, OfficeConfig, OfficeWeb};
use gongwen_office::org::{self, Person, Role};
use gongwen_office::serve::Running;
use gongwen_store::Db;
use gongwen_testbed::office::{self, Card};

use crate::agent_web::{Page, browser, challenge_of, csrf_of, send};

/// The secret of the agent's webhook to the office.
const HOOK_SECRET: &str = "office-hook-secret";

/// Units: (id, parent, name, online).
const UNITS: [(&str, Option<&str>, &str, bool); 4] = [
    ("edu", None, "臺北市政府教育局", true),
    ("elem", Some("edu"), "國小教育科", true),
    ("elem-cur", Some("elem"), "課程教學股", true),
    ("pe", Some("edu"), "體育及衛生保健科", true),
];

/// People: (id, name, title, unit, roles).
const PEOPLE: [(&str, &str, &str, &str, &[Role]); 9] = [
    (
        "clerk",
        "林美華",
        "收發員",
        "edu",
        &[Role::Clerk, Role::Desk, Role::Archivist, Role::Admin],
    ),
    ("desk", "陳怡君", "科員", "elem", &[Role::Desk]),
    ("officer", "王小明", "專員", "elem-cur", &[Role::Officer]),
    ("officer2", "李志豪", "科員", "pe", &[Role::Officer]),
    ("pe-head", "吳國華", "科長", "pe", &[Role::Supervisor]),
    ("chief", "張淑芬", "股長", "elem-cur", &[Role::Supervisor]),
    ("dept", "黃建國", "科長", "elem", &[Role::Supervisor]),
    ("head", "湯志民", "局長", "edu", &[Role::Head]),
    ("deputy", "劉文華", "副局長", "edu", &[Role::Supervisor]),
];

/// An office on its own database, its people with their cards, and a browser for each.
pub(crate) struct OfficeSite {
    pub running: Running,
    pub base: String,
    pub cards: HashMap<String, Card>,
    /// A card of the same CA that nobody registered.
    pub stranger: Card,
    /// Each person's browser (its own cookie).
    pub cookies: HashMap<String, String>,
    pub http: reqwest::Client,
}

/// Starts an office of agency `code` for `name`, its agent at `agent` (a URL and a token; a
/// closed port when the test needs none).
pub(crate) async fn office_site(name: &str, code: &str, agent: (&str, &str)) -> OfficeSite {
    let dir = scratch(&format!("office-web-{name}"));
    let (mut ca, _) = office::people_ca(&dir.join("ca")).unwrap();
    let url = fresh_database(&format!("office-web-{name}")).await;
    let db = Db::connect(&url).await.unwrap();
    for (id, parent, unit, online) in UNITS {
        org::add_unit(&db, id, parent, unit, online).await.unwrap();
    }
    let mut cards = HashMap::new();
    for (id, pname, title, unit, roles) in PEOPLE {
        let card = Card::issue(&mut ca, pname).unwrap();
        let p = Person {
            id: id.into(),
            name: pname.into(),
            title: title.into(),
            unit: unit.into(),
            spki_sha256: Some(card.key_sha256().unwrap()),
        };
        org::add_person(&db, &p).await.unwrap();
        for r in roles {
            org::grant(&db, id, *r, unit).await.unwrap();
        }
        cards.insert(id.to_string(), card);
    }
    for (matter, level) in [("政策計畫", 1), ("學校業務", 2)] {
        let rule = gongwen_office::delegation::Rule {
            matter: matter.into(),
            level,
            effective_from: "2020-01-01".into(),
            changed_by: "clerk".into(),
            changed_at: 0,
        };
        gongwen_office::delegation::set(&db, &rule).await.unwrap();
    }
    let today = gongwen_office::taipei_day(Clock::default().now_ms());
    let deputy = org::Deputy {
        principal: "head".into(),
        deputy: "deputy".into(),
        first_day: today.clone(),
        last_day: today,
    };
    org::add_deputy(&db, &deputy).await.unwrap();
    db.close().await;
    let stranger = Card::issue(&mut ca, "路人甲").unwrap();
    let token_file = dir.join("agent-token.txt");
    std::fs::write(&token_file, agent.1).unwrap();
    let webhook_secret_file = dir.join("webhook-secret.txt");
    std::fs::write(&webhook_secret_file, HOOK_SECRET).unwrap();
    let cfg = OfficeConfig {
        listen: "127.0.0.1:0".into(),
        database_url: url,
        tls: None,
        agency: AgencySettings {
            code: code.into(),
            name: "臺北市政府教育局".into(),
            kind: "first_level".into(),
        },
        agent: AgentLink {
            url: agent.0.into(),
            token_file,
            roots: Vec::new(),
            webhook_secret_file: Some(webhook_secret_file),
        },
        trust_anchors: vec![ca.root_file()],
        crls: vec![ca.dir().join("crl")],
        web: OfficeWeb::default(),
        sync_every_s: 3600,
        exclusions: (1..=8).collect(),
        calendars: vec![gongwen_integration::test_calendar_file(&dir)],
        extensions: Default::default(),
        indicators: Default::default(),
        mail: None,
        remind_at: "09:00".into(),
    };
    let running = gongwen_office::serve::start(cfg, Clock::default())
        .await
        .unwrap();
    let base = format!("http://{}", running.addr());
    OfficeSite {
        running,
        base,
        cards,
        stranger,
        cookies: HashMap::new(),
        http: browser(),
    }
}

/// What a text box shows of its HTML: the five entities the pages write, undone.
pub(crate) fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// A card's signature (PEM) over `text`, as `gongwen signer` gives it.
pub(crate) fn pem_of(card: &Card, text: &str) -> String {
    let der = card.sign(text).unwrap();
    der::pem::encode_string("CMS", der::pem::LineEnding::LF, &der).unwrap()
}

impl OfficeSite {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs in `who` with `card`: the sign-in answer.
    pub(crate) async fn sign_in_with(&self, card: &Card) -> Page {
        let login = send(self.http.get(self.url("/login"))).await;
        login.has(200, &["以憑證登入"]);
        let (nonce, text) = challenge_of(&login.body);
        let signed = pem_of(card, &unescape(&text));
        let form = [("nonce", nonce.as_str()), ("signed", signed.as_str())];
        send(self.http.post(self.url("/login")).form(&form)).await
    }

    /// Signs `who` in with their own card and keeps their cookie.
    pub(crate) async fn sign_in(&mut self, who: &str) {
        let page = self.sign_in_with(&self.cards[who]).await;
        page.went_to("/");
        let cookie = page.cookie.unwrap();
        self.cookies.insert(who.to_string(), cookie);
    }

    /// A page as `who` sees it.
    pub(crate) async fn get(&self, who: &str, path: &str) -> Page {
        let rb = self.http.get(self.url(path));
        send(rb.header("cookie", &self.cookies[who])).await
    }

    /// A form of `who`'s, with their session's CSRF token.
    pub(crate) async fn post(&self, who: &str, path: &str, form: &[(&str, &str)]) -> Page {
        let csrf = csrf_of(&self.get(who, "/").await.body);
        let mut fields: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        let rb = self.http.post(self.url(path)).form(&fields);
        send(rb.header("cookie", &self.cookies[who])).await
    }

    /// Signs the step a page shows (its text, as the signer would) with `card` and sends it.
    pub(crate) async fn sign_step_with(&self, who: &str, page: &Page, card: &Card) -> Page {
        page.has(200, &["簽章確認", gongwen_proto::office::STEP_HEAD]);
        let text = page
            .body
            .split("<textarea id=\"text\"")
            .nth(1)
            .and_then(|t| t.split_once('>'))
            .unwrap()
            .1
            .split("</textarea>")
            .next()
            .unwrap();
        let token = page
            .body
            .split("name=\"token\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let signed = pem_of(card, &unescape(text));
        self.post(who, "/sign", &[("token", token), ("signed", &signed)])
            .await
    }

    /// Signs the step a page shows with `who`'s own card.
    pub(crate) async fn sign_step(&self, who: &str, page: &Page) -> Page {
        self.sign_step_with(who, page, &self.cards[who]).await
    }

    /// An action of `who` on the case page: the form, the text shown, signed with their own
    /// card; where the page goes after (the case, with a note).
    pub(crate) async fn act(&self, who: &str, case: &str, form: &[(&str, &str)]) -> String {
        let page = self.post(who, &format!("/cases/{case}/act"), form).await;
        let done = self.sign_step(who, &page).await;
        assert_eq!(done.status, 303, "{}", done.body);
        done.location
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_sign_in_with_their_own_card_and_see_their_worklists() {
    let mut o = office_site("signin", "379130000C", ("http://127.0.0.1:9", "t")).await;
    // Not signed in: to the sign-in page.
    send(o.http.get(o.url("/"))).await.went_to("/login");

    // A card of the right CA that nobody registered is refused, and the attempt counted.
    let stranger = o.sign_in_with(&o.stranger).await;
    stranger.has(403, &["沒有登記給本機關的任何同仁"]);
    assert!(stranger.cookie.is_none());

    o.sign_in("officer").await;
    let home = o.get("officer", "/").await;
    home.has(200, &["工作清單", "專員 王小明", "我的案件", "承辦人"]);
    o.sign_in("deputy").await;
    let deputy = o.get("deputy", "/").await;
    deputy.has(200, &["副局長 劉文華", "待核決（代）"]);

    // A replayed sign-in (the same signed challenge twice) opens no second session.
    let login = send(o.http.get(o.url("/login"))).await;
    let (nonce, text) = challenge_of(&login.body);
    let signed = pem_of(&o.cards["clerk"], &unescape(&text));
    let form = [("nonce", nonce.as_str()), ("signed", signed.as_str())];
    send(o.http.post(o.url("/login")).form(&form))
        .await
        .went_to("/");
    let again = send(o.http.post(o.url("/login")).form(&form)).await;
    again.has(403, &["已使用過"]);

    // A form without the session's token changes nothing; a step nobody prepared is refused.
    let forged = send(
        o.http
            .post(o.url("/sign"))
            .header("cookie", &o.cookies["officer"])
            .form(&[("csrf", "x"), ("token", "t"), ("signed", "s")]),
    )
    .await;
    forged.has(401, &["E_OFFICE_AUTH"]);
    let unknown = o
        .post("officer", "/sign", &[("token", "nope"), ("signed", "x")])
        .await;
    unknown.has(400, &["E_OFFICE_SIGNATURE", "找不到等待簽章的步驟"]);

    // Signed out, the cookie no longer opens a page.
    let out = o.post("officer", "/logout", &[]).await;
    out.went_to("/login");
    o.get("officer", "/").await.went_to("/login?expired=1");
    o.running.shutdown().await;
}

/// A letter from A reaches the office of C through C's agent and goes the whole way on the
/// pages, each step by a different person with their own card: 登記 (and 簽收), 分文, 分辦,
/// 簽稿併陳, 會辦 in parallel, the section chief amends (tracked changes), the department head
/// returns it once, up again, the head's deputy decides (代為決行), the clerk sends it through
/// the exchange and A receives it, the case is filed, and its export verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_goes_from_registration_to_filing_on_the_pages() {
    use crate::agent_api::{draft, two_centers};
    use gongwen_integration::{C, until};
    let net = two_centers("office_web_walk").await;
    let agent = net.c.client();
    let mut o = office_site("walk", C, (&net.c.base, &net.c.token)).await;
    for who in [
        "clerk", "desk", "officer", "officer2", "pe-head", "chief", "dept", "deputy",
    ] {
        o.sign_in(who).await;
    }
    let letter = draft(&[C], &[], None).to_string();
    let (status, sent) = net
        .a
        .send(&[("draft", None, letter.as_bytes())], None)
        .await;
    assert_eq!(status, 200, "{sent}");
    let package = sent["package_id"].as_str().unwrap().to_string();
    until("C's agent has the letter", || async {
        agent.received(&package).await.is_ok()
    })
    .await;

    // The agent's webhook wakes the round at once (its body is not believed: a forged or
    // stale call is refused); the letter waits in 待登記.
    let hook = |sig: String| {
        o.http
            .post(o.url("/agent/webhook"))
            .header(gongwen_proto::api::WEBHOOK_SIGNATURE, sig)
            .body("{}")
    };
    let now = Clock::default().now_s();
    let stale = gongwen_center::outbox::sign_webhook(HOOK_SECRET.as_bytes(), now - 3600, b"{}");
    send(hook(stale)).await.has(401, &["E_OFFICE_AUTH"]);
    send(hook("t=1,sha256=00".into())).await.has(401, &[]);
    let fresh = gongwen_center::outbox::sign_webhook(HOOK_SECRET.as_bytes(), now, b"{}");
    assert_eq!(send(hook(fresh)).await.status, 204);
    until("the webhook's round takes the letter in", || async {
        let list = o.get("clerk", "/intake").await;
        list.body.contains("檢送公文系統介接測試計畫")
    })
    .await;
    // 立即收文 finds nothing more: taken once.
    o.post("clerk", "/intake/sync", &[])
        .await
        .went_to("/intake?taken=0");
    o.get("clerk", &format!("/intake/{package}"))
        .await
        .has(200, &["登記並簽章", "退文"]);
    let form = [("matter", "政策計畫"), ("urgency", "速件")];
    let sign = o
        .post("clerk", &format!("/intake/{package}/register"), &form)
        .await;
    let done = o.sign_step("clerk", &sign).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let case = done.location["/cases/".len()..]
        .split('?')
        .next()
        .unwrap()
        .to_string();
    assert!(done.location.contains("note="), "{}", done.location);
    let page = o.get("clerk", &done.location).await;
    page.has(200, &["已簽收", "收字第"]);
    assert_eq!(
        agent.received(&package).await.unwrap().state,
        gongwen_proto::agent::ReceivedState::Confirmed
    );

    // 分文 to 國小教育科, 分辦 to the officer.
    o.act(
        "clerk",
        &case,
        &[("action", "assign_unit"), ("assign_unit_to", "elem")],
    )
    .await;
    let to_officer = [
        ("action", "assign_officer"),
        ("assign_officer_to", "officer"),
    ];
    o.act("desk", &case, &to_officer).await;
    let mine = o.get("officer", "/").await;
    mine.has(200, &[case.as_str()]);

    // 簽稿併陳: a 簽 and a 函稿 to A.
    let memo = [
        ("action", "draft"),
        ("doc", ""),
        ("kind", "簽"),
        ("urgency", "速件"),
        ("subject", "擬復測試機關介接測試計畫，簽請核示。"),
        ("explain", "依據來函辦理。"),
        ("plan", "擬復如稿。"),
        ("proposal", "2"),
    ];
    o.act("officer", &case, &memo).await;
    let reply = |subject: &'static str| {
        [
            ("action", "draft"),
            ("doc", ""),
            ("kind", "函"),
            ("urgency", "速件"),
            ("subject", subject),
            ("explain", "復貴機關來函。"),
            ("primary", "379000000A 測試機關379000000A"),
            ("address", "110 臺北市信義區市府路1號"),
            ("contact", "承辦人：專員 王小明"),
            ("signature", "局長 湯志民"),
        ]
    };
    o.act("officer", &case, &reply("同意參加介接測試，請查照。"))
        .await;

    // 會辦 with 體育及衛生保健科 (parallel), its officer's opinion.
    let consult = [("action", "consult"), ("consult_unit_pe", "1")];
    o.act("officer", &case, &consult).await;
    let opinion = [("action", "opinion"), ("opinion_text", "本科無意見。")];
    o.act("officer2", &case, &opinion).await;
    // Its officer has written; the unit's head answers for the unit.
    let waiting = o.get("pe-head", "/").await;
    waiting.has(200, &["待會辦", case.as_str()]);
    let head = [("action", "opinion"), ("opinion_text", "同意承辦人意見。")];
    o.act("pe-head", &case, &head).await;

    // 陳核 to the section chief, who amends the 稿: the changes are tracked.
    let to_chief = [("action", "submit"), ("submit_to", "chief")];
    o.act("officer", &case, &to_chief).await;
    let mut amended = reply("同意參加115年度介接測試，請查照。").to_vec();
    amended[0] = ("action", "amend");
    amended[1] = ("doc", "draft-1");
    o.act("chief", &case, &amended).await;
    let changes = o
        .get("chief", &format!("/cases/{case}/docs/draft-1/2/changes"))
        .await;
    changes.has(200, &["<ins>115年度</ins>"]);
    // Up to the department head, who returns it once, with a reason; up again.
    let to_dept = [("action", "approve"), ("approve_to", "dept")];
    let back = [
        ("action", "return"),
        ("return_to", "officer"),
        ("return_reason", "請補充測試日期。"),
    ];
    let to_head = [("action", "approve"), ("approve_to", "head")];
    for (who, step) in [
        ("chief", &to_dept[..]),
        ("dept", &back),
        ("officer", &to_chief),
        ("chief", &to_dept),
        ("dept", &to_head),
    ] {
        o.act(who, &case, step).await;
    }

    // 政策計畫 is the head's; the head's deputy decides for them (代為決行).
    let decide = [
        ("action", "decide"),
        ("principal_decide", "head"),
        ("decide_draft-1", "issue"),
    ];
    o.act("deputy", &case, &decide).await;
    let decided = o.get("deputy", &format!("/cases/{case}")).await;
    decided.has(200, &["代為決行", "待發文"]);

    // 發文 through the exchange: the agent numbers it, A receives it.
    o.sign_in("clerk").await;
    let out = [("action", "dispatch"), ("dispatch_channel", "交換")];
    let went = o.act("clerk", &case, &out).await;
    assert!(went.contains("note="), "{went}");
    let after = o.get("clerk", &went).await;
    after.has(200, &["已交換發文", "字第"]);
    let a = net.a.client();
    until("A receives the reply", || async {
        a.inbox("all").await.is_ok_and(|p| {
            (p.items.iter()).any(|i| i.subject.contains("115年度介接測試") && i.sender == C)
        })
    })
    .await;
    // Decided by the deputy: the letter names who acted for the head (代行).
    let got = a.inbox("all").await.unwrap();
    let item = (got.items.iter())
        .find(|i| i.subject.contains("115年度介接測試"))
        .unwrap();
    let di = item.files.iter().find(|f| f.ends_with(".di")).unwrap();
    let di = a
        .received_file(&item.package_id, di, 1 << 20)
        .await
        .unwrap();
    let di = String::from_utf8_lossy(&di);
    assert!(di.contains("副局長 劉文華 代行"), "{di}");

    // 歸檔, and the case as one file verifies; its 簽核紀錄 prints.
    let file = [
        ("action", "file"),
        ("file_class", "A01"),
        ("file_case", "115"),
        ("file_volume", "1"),
        ("file_item", "1"),
        ("file_retention", "10年"),
    ];
    o.act("clerk", &case, &file).await;
    o.get("clerk", &format!("/cases/{case}"))
        .await
        .has(200, &["已歸檔", "A01/115/1/1"]);
    let json = o.get("clerk", &format!("/cases/{case}/export.json")).await;
    json.has(200, &[]);
    let export: gongwen_office::export::Export = serde_json::from_str(&json.body).unwrap();
    let report = gongwen_office::export::verify(&export, &o.running.app.trust.store());
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(
        report
            .steps
            .iter()
            .filter(|s| s.acting_for.is_some())
            .count(),
        1,
        "one step acted for another (代)"
    );
    o.running.shutdown().await;
    net.shutdown().await;
}

/// 創簽 by `who` with `subject`, signed with their own card: the new case's number.
async fn memo_case(o: &OfficeSite, who: &str, subject: &str) -> String {
    let memo = [
        ("kind", "簽"),
        ("matter", "學校業務"),
        ("urgency", "普通件"),
        ("subject", subject),
        ("explain", "依據來函辦理。"),
        ("plan", "擬復如稿。"),
        ("proposal", "2"),
    ];
    let page = o.post(who, "/cases/new", &memo).await;
    let done = o.sign_step(who, &page).await;
    assert_eq!(done.status, 303, "{}", done.body);
    done.location["/cases/".len()..]
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

/// The words a POSIX shell (or PowerShell) makes of `line`, or why it would do more than pass
/// words: only single-quoted runs, `\'` and plain characters are read; anything the shell
/// would act on (`;`, `|`, `&`, `$`, a backquote, a redirection …) unquoted is refused.
fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut started = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => word.push(q),
                        None => return Err("unterminated quote".into()),
                    }
                }
            }
            '\\' => {
                started = true;
                word.push(chars.next().ok_or("a trailing backslash")?);
            }
            ' ' => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c if ";|&$`<>(){}\"\n".contains(c) => return Err(format!("unquoted {c:?}")),
            c => {
                started = true;
                word.push(c);
            }
        }
    }
    if started {
        words.push(word);
    }
    Ok(words)
}

/// A subject with a quote in it is shown in the command typed by hand as one argument: the
/// shell reads no command out of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_typed_by_hand_keeps_a_quoted_subject_one_argument() {
    let mut o = office_site("shellquote", "379130000C", ("http://127.0.0.1:9", "t")).await;
    o.sign_in("officer").await;
    let subject = "擬辦理'; touch /tmp/gongwen-pwned; echo '研習。";
    let memo = [
        ("kind", "簽"),
        ("matter", "學校業務"),
        ("urgency", "普通件"),
        ("subject", subject),
        ("explain", "依據來函辦理。"),
        ("plan", "擬復如稿。"),
        ("proposal", "2"),
    ];
    let page = o.post("officer", "/cases/new", &memo).await;
    page.has(200, &["簽章確認"]);
    let command = page
        .body
        .split("<pre>gongwen signer sign ")
        .nth(1)
        .and_then(|c| c.split("</pre>").next())
        .map(unescape)
        .unwrap();
    let words = shell_words(&command).unwrap_or_else(|e| panic!("{e}: {command}"));
    let text = words
        .iter()
        .position(|w| w == "--text")
        .and_then(|i| words.get(i + 1))
        .unwrap_or_else(|| panic!("no --text in {words:?}"));
    assert!(text.contains(subject), "{text}");
    assert_eq!(
        words.last(),
        Some(text),
        "nothing after the text: {words:?}"
    );
    o.running.shutdown().await;
}

/// A reviewer who is also an officer cannot submit their own case to themselves (陳核 goes up
/// the chain, to someone else), though a crafted form names them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_submits_a_case_to_themselves() {
    let mut o = office_site("selfsubmit", "379130000C", ("http://127.0.0.1:9", "t")).await;
    org::grant(&o.running.app.db, "chief", Role::Officer, "elem-cur")
        .await
        .unwrap();
    o.sign_in("chief").await;
    let case = memo_case(&o, "chief", "擬辦理課程研習。").await;
    let page = o.get("chief", &format!("/cases/{case}")).await;
    page.has(200, &["陳核"]);
    let submit = [("action", "submit"), ("submit_to", "chief")];
    let own = o
        .post("chief", &format!("/cases/{case}/act"), &submit)
        .await;
    own.lacks(&["簽章確認"]);
    own.has(400, &["E_BAD_REQUEST", "自己"]);
    // Up the chain it goes.
    o.act(
        "chief",
        &case,
        &[("action", "submit"), ("submit_to", "dept")],
    )
    .await;
    o.running.shutdown().await;
}

/// A status line in the address of a case page is shown only when the office wrote it (after
/// the person's own step): a link from someone else cannot put words in the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_line_in_a_link_is_not_shown_unless_the_office_wrote_it() {
    let mut o = office_site("note", "379130000C", ("http://127.0.0.1:9", "t")).await;
    o.sign_in("officer").await;
    let case = memo_case(&o, "officer", "擬辦理課程研習。").await;
    let forged = "步驟已簽核，但請立即將卡片交給資訊室人員";
    let path = format!(
        "/cases/{case}?note={}",
        gongwen_client::encode_segment(forged)
    );
    let page = o.get("officer", &path).await;
    page.has(200, &[case.as_str()]);
    page.lacks(&[forged]);
    o.running.shutdown().await;
}

/// Clearing a person's card (lost, replaced) ends the sessions it opened: whoever holds the
/// card no longer reads the agency's cases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearing_a_card_ends_the_sessions_it_opened() {
    let mut o = office_site("cardclear", "379130000C", ("http://127.0.0.1:9", "t")).await;
    o.sign_in("officer").await;
    o.sign_in("clerk").await;
    o.get("officer", "/").await.has(200, &["工作清單"]);
    o.post("clerk", "/admin/people/officer/card/clear", &[])
        .await
        .went_to("/admin/people/officer?done=card_cleared");
    o.get("officer", "/").await.went_to("/login?expired=1");
    // The administrator's own session goes on.
    o.get("clerk", "/").await.has(200, &["工作清單"]);
    o.running.shutdown().await;
}

/// Anyone may read a case's export, and with it each step's signature: posted at the sign-in
/// page as if it were a signed challenge, someone else's signature does not count against
/// their card, so no colleague can lock another out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_persons_step_signature_does_not_lock_them_out() {
    use base64ct::{Base64, Encoding};
    let mut o = office_site("lockout", "379130000C", ("http://127.0.0.1:9", "t")).await;
    o.sign_in("officer").await;
    o.sign_in("officer2").await;
    o.sign_in("chief").await;
    let case = memo_case(&o, "officer", "擬辦理課程研習。").await;
    // Someone of another unit, with nothing to do with it, may not open it at all.
    for path in [
        "",
        "/export.json",
        "/record.pdf",
        "/docs/memo-1/1",
        "/draft?kind=memo",
    ] {
        let other = o.get("officer2", &format!("/cases/{case}{path}")).await;
        other.has(403, &["E_OFFICE_NOT_ALLOWED"]);
    }
    // The officer's section chief may: their export holds the officer's signature.
    let json = o.get("chief", &format!("/cases/{case}/export.json")).await;
    json.has(200, &[]);
    let export: gongwen_office::export::Export = serde_json::from_str(&json.body).unwrap();
    let der = Base64::decode_vec(&export.steps[0].cms).unwrap();
    let theirs = der::pem::encode_string("CMS", der::pem::LineEnding::LF, &der).unwrap();
    for _ in 0..8 {
        let login = send(o.http.get(o.url("/login"))).await;
        let (nonce, _) = challenge_of(&login.body);
        let form = [("nonce", nonce.as_str()), ("signed", theirs.as_str())];
        let refused = send(o.http.post(o.url("/login")).form(&form)).await;
        assert_ne!(refused.status, 303, "{}", refused.body);
    }
    // The officer still signs in with their own card.
    o.sign_in("officer").await;
    o.running.shutdown().await;
}

/// 稽催 (time control): the list of overdue and due-soon cases for 稽催 staff and unit heads,
/// the printable 稽催單, and the worklist's 限辦日 from the stored deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followup_lists_overdue_cases_and_prints_their_slips() {
    let mut o = office_site("followup", "379140000D", ("http://127.0.0.1:9", "t")).await;
    for who in ["clerk", "officer", "chief", "pe-head"] {
        o.sign_in(who).await;
    }
    let db = &o.running.app.db;
    let today = gongwen_office::taipei_day(Clock::default().now_ms());
    let now = Clock::default().now_ms();
    // (id, subject, unit, officer, due day, state)
    let cases = [
        (
            "1150000801",
            "逾期的案件",
            "elem-cur",
            "officer",
            "2026-01-05",
            "with_officer",
        ),
        (
            "1150000802",
            "今天到期的案件",
            "elem-cur",
            "officer",
            today.as_str(),
            "with_officer",
        ),
        (
            "1150000803",
            "體育科逾期案件",
            "pe",
            "officer2",
            "2026-01-02",
            "with_officer",
        ),
        (
            "1150000804",
            "已歸檔的案件",
            "elem-cur",
            "officer",
            "2026-01-01",
            "filed",
        ),
        (
            "1150000805",
            "還早的案件",
            "elem-cur",
            "officer",
            "2030-01-07",
            "with_officer",
        ),
    ];
    for (id, subject, unit, officer, due, state) in cases {
        db.execute(
            "INSERT INTO office_cases (id, origin, subject, matter, urgency, state, unit, officer, holder, created_at, due_day, deadline_kind) VALUES ($1, 'paper', $2, '一般業務', '普通件', $3, $4, $5, $5, $6, $7, 'urgency')",
            &[
                id.into(),
                subject.into(),
                state.into(),
                unit.into(),
                officer.into(),
                now.into(),
                due.into(),
            ],
        )
        .await
        .unwrap();
    }
    // An officer has no 稽催 list.
    o.get("officer", "/followup")
        .await
        .has(403, &["E_OFFICE_NOT_ALLOWED"]);
    // 稽催 staff see the agency: the most overdue first, the closed and far ones not at all.
    org::grant(db, "clerk", Role::FollowUp, "edu")
        .await
        .unwrap();
    let all = o.get("clerk", "/followup").await;
    all.has(
        200,
        &[
            "稽催清單",
            "全機關：逾期 <strong>2</strong> 件，即將到期 <strong>1</strong> 件",
            "課程教學股",
            "體育及衛生保健科",
            "專員 王小明",
            "/followup/1150000801",
        ],
    );
    let at = |id: &str| all.body.find(id).unwrap();
    assert!(at("1150000803") < at("1150000801") && at("1150000801") < at("1150000802"));
    assert!(!all.body.contains("1150000804") && !all.body.contains("1150000805"));
    assert!(
        !all.body.contains("/followup/1150000802"),
        "not overdue: no slip"
    );
    // A unit head sees their units (and those under them) only.
    let chief = o.get("chief", "/followup").await;
    chief.has(200, &["1150000801", "1150000802"]);
    assert!(!chief.body.contains("1150000803"));
    let pe = o.get("pe-head", "/followup").await;
    pe.has(200, &["1150000803"]);
    assert!(!pe.body.contains("1150000801"));
    o.get("pe-head", "/followup/1150000801")
        .await
        .has(403, &["不屬於您主管的單位"]);
    // The 稽催單: the case, its officer and unit, the due day and the working days overdue.
    let slip = o.get("clerk", "/followup/1150000801").await;
    slip.has(
        200,
        &[
            "稽催單",
            "逾期的案件",
            "中華民國115年1月5日",
            "個工作天",
            "專員 王小明",
            "課程教學股",
            "逾期原因",
            "單位主管",
        ],
    );
    o.get("clerk", "/followup/1150000802")
        .await
        .has(409, &["未逾期"]);
    // The officer's worklist reads the stored day: overdue first.
    let home = o.get("officer", "/").await;
    home.has(200, &["中華民國115年1月5日（逾期）", "即將到期"]);
    assert!(home.body.find("1150000801").unwrap() < home.body.find("1150000805").unwrap());

    // On the case page: the officer asks for 展期, the unit head 改速別; each is signed.
    let page = o.get("officer", "/cases/1150000805").await;
    page.has(200, &["限辦日期", "展期工作天數", "本機關展期上限：3 次"]);
    assert!(
        !page.body.contains("change_urgency_reason"),
        "not the officer's"
    );
    let too_long = [
        ("action", "extend"),
        ("extend_days", "11"),
        ("extend_reason", "待各校回復"),
    ];
    o.post("officer", "/cases/1150000805/act", &too_long)
        .await
        .has(400, &["每次展期最多 10 個工作天", "專案管制"]);
    let missing = o
        .post("officer", "/cases/1150000805/act", &[("action", "extend")])
        .await;
    missing.has(422, &["展期須填寫原因", "請填寫展期的工作天數"]);
    let extend = [
        ("action", "extend"),
        ("extend_days", "3"),
        ("extend_reason", "待各校回復"),
    ];
    o.act("officer", "1150000805", &extend).await;
    // It waits for the head: 3 working days in all is for the head of the 二級單位
    // (課程教學股); the officer cannot grant it.
    o.get("officer", "/cases/1150000805").await.has(
        200,
        &[
            "中華民國119年1月7日",
            "待核准",
            "展期 3 個工作天",
            "第三層（二級單位主管）以上",
        ],
    );
    let mine = o.get("officer", "/cases/1150000805").await;
    assert!(
        !mine.body.contains("grant_time_comment"),
        "not the officer's"
    );
    o.get("chief", "/")
        .await
        .has(200, &["待核准展期", "1150000805"]);
    o.act("chief", "1150000805", &[("action", "grant_time")])
        .await;
    o.get("officer", "/cases/1150000805").await.has(
        200,
        &["中華民國119年1月10日（依速別；已展期 1 次、3 個工作天）"],
    );
    let chief = o.get("chief", "/cases/1150000805").await;
    chief.has(200, &["改速別", "新的速別"]);
    let change = [
        ("action", "change_urgency"),
        ("change_urgency_to", "最速件"),
        ("change_urgency_reason", "涉及學生安全，應即辦理"),
    ];
    o.act("chief", "1150000805", &change).await;
    let after = o.get("officer", "/cases/1150000805").await;
    after.has(200, &["最速件", "改速別"]);
    // The worklist carries the day's 稽催 reminder; the administrator sets where mail goes.
    o.get("officer", "/")
        .await
        .has(200, &["稽催提醒：", "您承辦的案件逾期 1 件、即將到期 1 件"]);
    o.post(
        "clerk",
        "/admin/people/officer/email",
        &[("email", "王小明 at 教育局")],
    )
    .await
    .has(422, &["不是電子郵件地址"]);
    o.post(
        "clerk",
        "/admin/people/officer/email",
        &[("email", "officer@edu.example.gov.tw")],
    )
    .await
    .went_to("/admin/people/officer?done=email");
    o.get("clerk", "/admin/people/officer?done=email")
        .await
        .has(200, &["officer@edu.example.gov.tw", "已設定稽催提醒"]);
    o.running.shutdown().await;
}
