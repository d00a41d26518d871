//! The agent's document-system API across two centers: a document system sends a draft as
//! JSON (numbered by the agent) with a PDF attachment to a folder-mode bureau at its own
//! center (正本) and to an API-connected agency at the other center (副本); the second
//! confirms, the first returns with a reason, and the sender's webhook hears each step.
//! Bad input gets a clear code and changes nothing; each agency sees only its own.

use std::path::Path;
use std::sync::{Arc, Mutex};

use gongwen_agent::{AgencyConfig, AgentConfig, WebhookConfig};
use gongwen_center::Clock;
use gongwen_integration::{A, B, C, D, agency_tls, fresh_database, pki, scratch, until};
use serde_json::{Value, json};

use crate::agent::{agency, api_only};
use crate::agent_web::parts;
use crate::federation::linked;

const SECRET: &str = "webhook-secret-for-tests";

fn node_config(db: &str, root: &Path, agencies: Vec<AgencyConfig>) -> AgentConfig {
    crate::agent::node_config(db, root, agencies, Some(1))
}

/// A document system calling an agent node's API with its token: each call answers (HTTP
/// status, JSON answer).
#[derive(Clone)]
pub(crate) struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    /// `code`'s document system at node `n`, with a new token and a new HTTP client.
    pub async fn new(n: &gongwen_agent::Running, code: &str) -> Api {
        let now = Clock::default().now_ms();
        let add = gongwen_agent::clients::add_token(&n.node.db, code, "公文系統", now);
        Api {
            http: gongwen_client::plain_http(&std::fs::read(pki().ca.root_file()).unwrap())
                .unwrap(),
            base: format!("http://{}", n.api_addr().unwrap()),
            token: add.await.unwrap(),
        }
    }

    /// The same document system through gongwen-client.
    pub fn client(&self) -> gongwen_client::agent::AgentClient {
        gongwen_client::agent::AgentClient::new(&self.base, &self.token, b"").unwrap()
    }

    async fn call(&self, rb: reqwest::RequestBuilder) -> (u16, Value) {
        let r = rb.bearer_auth(&self.token).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Multipart parts (field, file name, bytes) to `/api/v1/documents`, with an
    /// Idempotency-Key when given.
    pub async fn send<B: AsRef<[u8]>>(
        &self,
        f: &[(&str, Option<&str>, B)],
        key: Option<&str>,
    ) -> (u16, Value) {
        let (ct, body) = gongwen_client::agent::multipart(&parts(f));
        let url = format!("{}/api/v1/documents", self.base);
        let mut rb = self.http.post(url).header("content-type", ct).body(body);
        if let Some(k) = key {
            rb = rb.header("idempotency-key", k);
        }
        self.call(rb).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let rb = self.http.post(format!("{}{path}", self.base));
        self.call(rb.json(&body)).await
    }
}

pub(crate) fn draft(to: &[&str], copies: &[&str], attachment: Option<&str>) -> Value {
    let mut d = json!({
        "文別": "函",
        "速別": "速件",
        "地址": "100 臺北市中正區測試路1號",
        "聯絡方式": ["承辦人：王小明", "電話：(02)2345-6789"],
        "主旨": "檢送公文系統介接測試計畫1份，請查照。",
        "段落": [{
            "段名": "說明：",
            "條列": [
                { "序號": "一、", "文字": "依據本府115年度工作計畫辦理。" },
                { "序號": "二、", "文字": "測試重點如下：", "條列": [
                    { "序號": "(一)", "文字": "由公文系統以 API 送出。" },
                    { "序號": "(二)", "文字": "跨交換中心送達、簽收與退文。" }
                ]}
            ]
        }],
        "署名": ["機關首長　王大明"],
        "正本": to.iter().map(|c| json!({ "全銜": format!("測試機關{c}"), "機關代碼": c })).collect::<Vec<_>>(),
        "副本": copies.iter().map(|c| json!({ "全銜": format!("測試機關{c}"), "機關代碼": c, "含附件": true })).collect::<Vec<_>>(),
    });
    if let Some(f) = attachment {
        d["附件"] = json!({ "文字": "計畫書1份", "檔案": [f] });
    }
    d
}

/// What a webhook endpoint was sent: (signature header, body).
pub(crate) type Hooks = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A webhook endpoint on 127.0.0.1 (a document system's, or a participant's): keeps what it
/// is sent.
pub(crate) async fn webhook_sink() -> (String, Hooks) {
    let got: Hooks = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let g = g.clone();
                async move {
                    let sig = headers
                        .get(gongwen_proto::api::WEBHOOK_SIGNATURE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    g.lock().unwrap().push((sig, body.to_vec()));
                    "ok"
                }
            },
        ),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (format!("http://{addr}/hook"), got)
}

/// Two centers (X with A and B, Y with C, each knowing the other's participants) and two
/// agent nodes: A's document system with a webhook on node 1; B in folder mode (and API) and
/// C through the API on node 2, each at its own center.
pub(crate) struct Net {
    x: gongwen_center::Running,
    y: gongwen_center::Running,
    n1: gongwen_agent::Running,
    n2: gongwen_agent::Running,
    root: std::path::PathBuf,
    hooks: Hooks,
    pub(crate) a: Api,
    b: Api,
    pub(crate) c: Api,
}

pub(crate) async fn two_centers(name: &str) -> Net {
    let root = scratch(name);
    std::fs::create_dir_all(root.join("n2")).unwrap();
    // Center X has A and B; center Y has C. Each knows the other's participants.
    let dbs = [format!("{name}_x"), format!("{name}_y")];
    let names = ["center-x", "center-y"];
    let (x, y, _) = linked(names, [&dbs[0], &dbs[1]], &[A, B], &[C]).await;

    // Node 1: A's document system, with a webhook. Node 2: B in folder mode (and API),
    // C through the API, each at its own center.
    let (hook_url, hooks) = webhook_sink().await;
    let mut a_cfg = api_only(A, x.addr(), &root);
    a_cfg.webhook = Some(WebhookConfig {
        url: hook_url,
        secret: SECRET.into(),
    });
    let db1 = fresh_database(&format!("{name}_n1")).await;
    let n1 = gongwen_agent::start(
        node_config(&db1, &root.join("n1"), vec![a_cfg]),
        Clock::default(),
    )
    .await
    .unwrap();
    let db2 = fresh_database(&format!("{name}_n2")).await;
    let n2 = gongwen_agent::start(
        node_config(
            &db2,
            &root.join("n2"),
            vec![
                agency(B, x.addr(), &root.join("n2")),
                api_only(C, y.addr(), &root),
            ],
        ),
        Clock::default(),
    )
    .await
    .unwrap();
    let (a, b, c) = (
        Api::new(&n1, A).await,
        Api::new(&n2, B).await,
        Api::new(&n2, C).await,
    );
    Net {
        x,
        y,
        n1,
        n2,
        root,
        hooks,
        a,
        b,
        c,
    }
}

impl Net {
    pub(crate) async fn shutdown(self) {
        self.n1.shutdown().await;
        self.n2.shutdown().await;
        self.x.shutdown().await;
        self.y.shutdown().await;
    }
}

/// No token, a wrong token: refused; a good one names its agency.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_wants_a_valid_token() {
    let net = two_centers("the_api_wants_a_valid_to").await;
    let Net { a, .. } = &net;
    let anon = a
        .http
        .get(format!("{}/api/v1/inbox", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status().as_u16(), 401);
    let body: Value = anon.json().await.unwrap();
    assert_eq!(body["code"], "E_AGENT_AUTH");
    let wrong = Api {
        http: a.http.clone(),
        base: a.base.clone(),
        token: "gwa_not-a-token".into(),
    };
    assert_eq!(wrong.get("/api/v1/inbox").await.1["code"], "E_AGENT_AUTH");
    assert_eq!(a.get("/api/v1/whoami").await.1["agency"], A);

    net.shutdown().await;
}

/// A draft as JSON (numbered by the agent) with a PDF, 正本 to a folder-mode bureau at the
/// same center and 副本 to an API agency at the other; the second confirms, the first returns
/// with a reason, and the sender sees both statuses and hears each step on its signed webhook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_crosses_two_centers_and_each_copy_is_confirmed_or_returned() {
    let net = two_centers("a_draft_crosses_two_cent").await;
    let Net { a, b, c, .. } = &net;
    // A draft as JSON, two levels of 說明, a PDF: 正本 B (same center), 副本 C (other).
    let pdf = b"%PDF-1.4\n% plan\n%%EOF\n".to_vec();
    let d = draft(&[B], &[C], Some("plan.pdf")).to_string();
    let (status, sent) = a
        .send(
            &[
                ("draft", None, d.as_bytes()),
                ("attachment", Some("plan.pdf"), &pdf),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["state"], "submitted");
    assert_eq!(sent["serial"], 1, "the agency's first number this year");
    let id = sent["package_id"].as_str().unwrap().to_string();
    assert!(
        sent["package"]["doc_number"]
            .as_str()
            .unwrap()
            .contains("測試字"),
        "{sent}"
    );

    // B's folder inbox gets it; C's API inbox lists it with its subject and files.
    let b_inbox = net.root.join("n2").join(B).join("inbox");
    let b_receipt = b_inbox.join(&id).join("receipt.json");
    until("B's folder inbox", || async { b_receipt.is_file() }).await;
    until("C's API inbox", || async {
        c.get("/api/v1/inbox").await.1["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
    })
    .await;
    let (_, item) = c.get(&format!("/api/v1/inbox/{id}")).await;
    assert_eq!(item["sender"], A);
    assert_eq!(item["copy"], "副本");
    assert_eq!(item["urgency"], "速件");
    assert_eq!(item["state"], "delivered");
    assert!(item["subject"].as_str().unwrap().contains("介接測試"));
    let files: Vec<String> = serde_json::from_value(item["files"].clone()).unwrap();
    let att = files
        .iter()
        .find(|f| f.ends_with(".pdf"))
        .expect("the PDF is listed")
        .clone();
    let got = c
        .http
        .get(format!(
            "{}/api/v1/inbox/{id}/files/{}",
            c.base,
            gongwen_client::encode_segment(&att)
        ))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.headers()["content-type"], "application/pdf");
    assert_eq!(got.bytes().await.unwrap().as_ref(), pdf.as_slice());
    let (s, e) = c
        .get(&format!("/api/v1/inbox/{id}/files/..%2F..%2Fagent.db"))
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (404, Some("E_NOT_FOUND")),
        "only listed files"
    );

    // C confirms (簽收); then it cannot return it.
    let (s, v) = c
        .post(&format!("/api/v1/inbox/{id}/confirm"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "confirmed");
    assert_eq!(v["handled_by"], "公文系統");
    let ret = format!("/api/v1/inbox/{id}/return");
    let (s, v) = c.post(&ret, json!({ "reason": "誤送" })).await;
    assert_eq!((s, v["code"].as_str()), (409, Some("E_COPY_STATE")), "{v}");
    // B returns with a reason from the list; 其他 without words, or an unknown reason, is refused.
    let (s, v) = b.post(&ret, json!({ "reason": "其他" })).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("E_BAD_REQUEST")), "{v}");
    let (s, v) = b.post(&ret, json!({ "reason": "不想收" })).await;
    assert!(
        s == 400 && v["detail"].as_str().unwrap().contains("非本機關權責"),
        "{v}"
    );
    let returned = json!({ "reason": "非本機關權責", "text": "請改送教育局" });
    let (s, v) = b.post(&ret, returned).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["return_reason"], "非本機關權責");

    // A sees both statuses, across the two centers.
    until("both statuses at A", || async {
        let (_, p) = a.get(&format!("/api/v1/sent/{id}")).await;
        let st = |code: &str| {
            p["copies"].as_array().and_then(|cs| {
                cs.iter()
                    .find(|c| c["recipient"] == code)
                    .map(|c| c["status"].clone())
            })
        };
        st(B) == Some(json!("returned")) && st(C) == Some(json!("confirmed"))
    })
    .await;
    let (_, doc) = a
        .get(&format!(
            "/api/v1/documents/{}",
            sent["name"].as_str().unwrap()
        ))
        .await;
    assert_eq!(doc["state"], "submitted");
    assert_eq!(doc["package"]["id"], id.as_str());
    let (s, duties) = a.get("/api/v1/duties").await;
    assert_eq!(s, 200, "{duties}");

    // The webhook heard: sent, then each copy's moves; signed with the secret.
    until("webhooks for both outcomes", || async {
        let events = net.hooks.lock().unwrap().clone();
        let has = |want: &str, who: &str| {
            events.iter().any(|(_, b)| {
                let v: Value = serde_json::from_slice(b).unwrap();
                v["event"] == "status"
                    && v["data"]["status"] == want
                    && v["data"]["recipient"] == who
            })
        };
        has("returned", B) && has("confirmed", C)
    })
    .await;
    let first: Value = serde_json::from_slice(&net.hooks.lock().unwrap()[0].1).unwrap();
    assert_eq!(first["event"], "sent");
    all_signed(&net.hooks, SECRET);

    net.shutdown().await;
}

/// Bad input gets a clear code, sends nothing and takes no number; the same Idempotency-Key
/// twice sends once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_drafts_change_nothing_and_give_their_number_back() {
    let net = two_centers("bad_drafts_change_nothin").await;
    let Net { a, x, .. } = &net;
    // Bad input: nothing sent, the number given back. (parts, status, code, detail)
    let no_subject = {
        let mut d = draft(&[B], &[], None);
        d.as_object_mut().unwrap().remove("主旨");
        d.to_string().into_bytes()
    };
    let d = |to: &str, file| draft(&[to], &[], file).to_string().into_bytes();
    let only = |bytes| vec![("draft", None, bytes)];
    let big = vec![b'x'; 1024 * 1024 + 10];
    let cases: [(crate::agent_web::Fields, u16, Option<&str>, Option<&str>); 7] = [
        (
            only(no_subject),
            400,
            Some("E_AGENT_DOCUMENT"),
            Some("主旨"),
        ),
        (
            only(b"{not json".to_vec()),
            400,
            Some("E_AGENT_DOCUMENT"),
            None,
        ),
        (
            only(d(B, Some("missing.pdf"))),
            400,
            None,
            Some("missing.pdf"),
        ),
        // An unknown recipient.
        (only(d(D, None)), 400, Some("E_RECIPIENT"), None),
        (
            vec![
                ("draft", None, d(B, Some("big.pdf"))),
                ("attachment", Some("big.pdf"), big),
            ],
            413,
            Some("E_SUBMIT_TOO_LARGE"),
            None,
        ),
        (
            vec![
                ("draft", None, d(B, None)),
                ("attachment", Some("../../etc/passwd"), b"x".to_vec()),
            ],
            400,
            None,
            Some("檔名"),
        ),
        (
            vec![("bogus", None, b"{}".to_vec())],
            400,
            None,
            Some("bogus"),
        ),
    ];
    for (f, status, code, detail) in cases {
        let (s, v) = a.send(&f, None).await;
        assert_eq!(s, status, "{v}");
        if let Some(code) = code {
            assert_eq!(v["code"], code, "{v}");
        }
        if let Some(d) = detail {
            assert!(v["detail"].as_str().unwrap().contains(d), "{v}");
        }
    }

    // The next good send takes number 1; the same Idempotency-Key again sends nothing new.
    let only_b = draft(&[B], &[], None).to_string();
    let (s, v2) = a
        .send(&[("draft", None, only_b.as_bytes())], Some("order-2"))
        .await;
    assert_eq!(s, 200, "{v2}");
    assert_eq!(v2["serial"], 1, "refused sends gave their numbers back");
    let (s, again) = a
        .send(&[("draft", None, only_b.as_bytes())], Some("order-2"))
        .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["package_id"], v2["package_id"]);
    let a_center = pki().client(x.addr(), A).unwrap();
    assert_eq!(
        a_center.sent_list(&[]).await.unwrap().items.len(),
        1,
        "one document at the center"
    );

    net.shutdown().await;
}

/// A DI with its SW and files, as a document system writes them; a declared file missing is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_di_with_its_files_is_sent_as_the_document_system_wrote_it() {
    let net = two_centers("a_di_with_its_files_is_s").await;
    let Net { a, c, .. } = &net;
    let (di, sw, atts) = gongwen_testbed::letter(A, &[C], 500).unwrap();
    let (s, v) = a
        .send(
            &[("di", Some(&di.0), &di.1), ("sw", Some(&sw.0), &sw.1)],
            None,
        )
        .await;
    assert!(
        s == 400 && v["detail"].as_str().unwrap().contains(&atts[0].0),
        "{v}"
    );
    let (s, v) = a
        .send(
            &[
                ("di", Some(&di.0), &di.1),
                ("sw", Some(&sw.0), &sw.1),
                ("attachment", Some(&atts[0].0), &atts[0].1),
            ],
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let di_id = v["package_id"].as_str().unwrap().to_string();

    until("C has the DI letter", || async {
        c.get(&format!("/api/v1/inbox/{di_id}")).await.0 == 200
    })
    .await;
    net.shutdown().await;
}

/// A letter to B alone is not C's to read or sign, nor in its list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_agency_sees_only_its_own() {
    let net = two_centers("each_agency_sees_only_it").await;
    let Net { a, b, c, .. } = &net;
    let send_to = |to: &'static str| async move {
        let d = draft(&[to], &[], None).to_string();
        let (s, v) = a.send(&[("draft", None, d.as_bytes())], None).await;
        assert_eq!(s, 200, "{v}");
        v["package_id"].as_str().unwrap().to_string()
    };
    let to_b = send_to(B).await;
    let to_c = send_to(C).await;
    until("B and C have their letters", || async {
        b.get(&format!("/api/v1/inbox/{to_b}")).await.0 == 200
            && c.get(&format!("/api/v1/inbox/{to_c}")).await.0 == 200
    })
    .await;
    // The letter to B alone is not C's to read or sign, nor in its list.
    assert_eq!(c.get(&format!("/api/v1/inbox/{to_b}")).await.0, 404);
    assert_eq!(
        c.post(&format!("/api/v1/inbox/{to_b}/confirm"), json!({}))
            .await
            .0,
        404
    );
    let (_, list) = c.get("/api/v1/inbox?state=all").await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["package_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [to_c.as_str()]);
    let (s, v) = c.get("/api/v1/inbox?state=whatever").await;
    assert_eq!((s, v["code"].as_str()), (400, Some("E_BAD_REQUEST")));
    net.shutdown().await;
}

/// The OpenAPI document describes every route the API serves, and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_and_the_router_agree() {
    let net = two_centers("the_openapi_document_nam").await;
    let Net { a, n1, .. } = &net;
    let (s, doc) = a.get("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    let router = gongwen_agent::api::router(n1.node.clone(), 1 << 20);
    gongwen_integration::router_matches_openapi(router, &doc).await;

    net.shutdown().await;
}

/// Every webhook call `hooks` got is signed with `secret`.
pub(crate) fn all_signed(hooks: &Hooks, secret: &str) {
    for (sig, body) in hooks.lock().unwrap().iter() {
        let t = sig.split(',').next().unwrap();
        let t: i64 = t.trim_start_matches("t=").parse().unwrap();
        let want = gongwen_center::outbox::sign_webhook(secret.as_bytes(), t, body);
        assert_eq!(*sig, want, "signed with the secret");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_systems_may_identify_by_client_certificate_over_https() {
    let pki = pki();
    let root = scratch("agent-api-tls");
    let x = crate::agent_web::start_center("api_tls").await;
    let mut cfg = node_config(
        &fresh_database("api_tls_node").await,
        &root,
        vec![api_only(A, x.addr(), &root)],
    );
    // Plain HTTP on a network address is refused at start.
    cfg.api.as_mut().unwrap().listen = "0.0.0.0:0".into();
    let refused = gongwen_agent::start(cfg.clone(), Clock::default()).await;
    assert!(refused.err().unwrap().to_string().contains("tls"));
    cfg.api = Some(gongwen_agent::ApiConfig {
        listen: "127.0.0.1:0".into(),
        tls: Some(gongwen_agent::ApiTls {
            cert: pki.server_cert.clone(),
            key: pki.server_key.clone(),
            client_roots: vec![pki.ca.root_file()],
        }),
        max_upload_mb: 1,
        ..Default::default()
    });
    let n = gongwen_agent::start(cfg, Clock::default()).await.unwrap();
    let leaf = std::fs::read(&pki.agency(A).tls_leaf).unwrap();
    gongwen_agent::clients::add_cert(
        &n.node.db,
        A,
        "公文系統主機",
        "cert",
        &leaf,
        Clock::default().now_ms(),
    )
    .await
    .unwrap();
    let url = format!("https://{}/api/v1/whoami", n.api_addr().unwrap());
    let with_cert = reqwest::Client::builder().use_preconfigured_tls(agency_tls(A));
    let with_cert = with_cert.build().unwrap();
    let me: Value = with_cert
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["agency"], A, "{me}");
    assert_eq!(me["kind"], "cert");
    let roots = std::fs::read(pki.ca.root_file()).unwrap();
    let anonymous = gongwen_client::plain_http(&roots).unwrap();
    let r = anonymous.get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    n.shutdown().await;
    x.shutdown().await;
}
