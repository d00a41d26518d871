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

const AGENCY: &str = "379130000C";

/// Units: (id, parent, name, online).
const UNITS: [(&str, Option<&str>, &str, bool); 4] = [
    ("edu", None, "臺北市政府教育局", true),
    ("elem", Some("edu"), "國小教育科", true),
    ("elem-cur", Some("elem"), "課程教學股", true),
    ("pe", Some("edu"), "體育及衛生保健科", true),
];

/// People: (id, name, title, unit, roles).
const PEOPLE: [(&str, &str, &str, &str, &[Role]); 8] = [
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

/// Starts an office for `name`, its agent at `agent` (a URL and a token; a closed port when
/// the test needs none).
pub(crate) async fn office_site(name: &str, agent: (&str, &str)) -> OfficeSite {
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
    let cfg = OfficeConfig {
        listen: "127.0.0.1:0".into(),
        database_url: url,
        tls: None,
        agency: AgencySettings {
            code: AGENCY.into(),
            name: "臺北市政府教育局".into(),
            kind: "first_level".into(),
        },
        agent: AgentLink {
            url: agent.0.into(),
            token_file,
            roots: Vec::new(),
        },
        trust_anchors: vec![ca.root_file()],
        crls: vec![ca.dir().join("crl")],
        web: OfficeWeb::default(),
        sync_every_s: 3600,
        exclusions: (1..=8).collect(),
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_sign_in_with_their_own_card_and_see_their_worklists() {
    let mut o = office_site("signin", ("http://127.0.0.1:9", "t")).await;
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
