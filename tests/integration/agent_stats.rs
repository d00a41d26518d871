//! The web client's statistics: B's document system sends A three letters and A one to B; A
//! signs for one two hours after delivery, returns one, and signs for the last an hour after its deadline;
//! A prints its own letter for paper. A's numbers are worked out by hand, the CSV and the
//! API say the same, the page shows them, B sees only its own, and nobody signed out sees any.

use gongwen_integration::{A, B, until};
use serde_json::Value;

use crate::agent_api::Api;
use crate::agent_web::{Page, card, challenge, draft_to, login, send, send_with_pdf, web};

const HOUR: i64 = 3_600_000;

/// `code` signed in at the node at `base`, its card signing with the node's clock: the
/// session cookie.
async fn cookie_of(w: &crate::agent_web::Web, code: &str) -> String {
    let (nonce, text) = challenge(&w.http, &w.base).await;
    let signed = card(code)
        .sign_challenge(&text, w.n.node.clock.now_s())
        .unwrap();
    let p = send(login(&w.http, &w.base, &nonce, &signed)).await;
    p.went_to("/inbox");
    p.cookie.unwrap()
}

async fn get(w: &crate::agent_web::Web, path: &str, cookie: Option<&str>) -> Page {
    let mut rb = w.http.get(format!("{}{path}", w.base));
    if let Some(c) = cookie {
        rb = rb.header("cookie", c);
    }
    send(rb).await
}

fn n(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("not a whole number: {v}"))
}

/// sent, received, confirmed, returned, paper_printed of a line.
fn figures(l: &Value) -> [i64; 5] {
    ["sent", "received", "confirmed", "returned", "paper_printed"].map(|f| n(&l[f]))
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Number(x) => match x.as_i64() {
            Some(i) => i.to_string(),
            None => {
                let f = x.as_f64().unwrap();
                if f.fract() == 0.0 {
                    format!("{f:.0}")
                } else {
                    f.to_string()
                }
            }
        },
        Value::String(s) => s.clone(),
        other => panic!("{other}"),
    }
}

/// What the CSV should be, from the JSON.
fn csv_of_json(j: &Value) -> Vec<Vec<String>> {
    let mut out = vec![
        ["期間", "發文數", "收文數", "簽收數", "退文數", "紙本列印數"]
            .map(String::from)
            .to_vec(),
    ];
    let mut lines: Vec<&Value> = j["months"].as_array().unwrap().iter().collect();
    lines.push(&j["totals"]);
    lines.extend(j["days"].as_array().unwrap());
    for l in lines {
        let mut row = vec![show(&l["period"])];
        row.extend(figures(l).map(|x| x.to_string()));
        out.push(row);
    }
    out.push(vec!["項目".into(), "數值".into()]);
    for k in [
        "count",
        "average_hours",
        "p50_hours",
        "p90_hours",
        "within_due",
        "within_due_percent",
    ] {
        out.push(vec![k.into(), show(&j["confirm"][k])]);
    }
    out
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').expect("a BOM for Excel");
    let records = gongwen_proto::csv::parse(text, 8).unwrap();
    records
        .into_iter()
        .filter(|r| !(r.count == 1 && r.field(0).is_empty()))
        .map(|r| r.fields)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_sees_its_own_sending_receiving_and_signing_times() {
    let w = web("agstats").await;
    let (api_a, api_b) = (Api::new(&w.n, A).await, Api::new(&w.n, B).await);
    let (a, b) = (api_a.client(), api_b.client());
    let clock = w.n.node.clock.clone();
    let mut ids = Vec::new();
    for subject in ["第一件，請查照。", "第二件，請查照。", "第三件，請查照。"]
    {
        ids.push(send_with_pdf(&b, &draft_to(A, "普通件", subject)).await);
    }
    let to_b = send_with_pdf(&a, &draft_to(B, "速件", "A 給 B 的函。")).await;
    let db = w.n.node.db.clone();
    let all_in = || async {
        let mut n = 0;
        for (agency, id) in [(A, &ids[0]), (A, &ids[1]), (A, &ids[2]), (B, &to_b)] {
            let row = db
                .fetch_optional(
                    "SELECT state FROM agent_received WHERE agency = $1 AND package_id = $2",
                    &[agency.into(), id.as_str().into()],
                )
                .await
                .unwrap();
            n += usize::from(row.is_some());
        }
        n == 4
    };
    until("every letter delivered", all_in).await;
    let received_month = gongwen_agent::stats::Month::of_ms(clock.now_ms());

    // Two hours after delivery A signs for the first (within the deadline: 10:00 the next
    // working day is always more than two hours after delivery) and returns the second.
    clock.advance(2 * HOUR);
    a.confirm(&ids[0]).await.unwrap();
    a.return_doc(&ids[1], "非本機關權責", "請改送主管機關")
        .await
        .unwrap();
    // An hour after its deadline (10:00 the next working day after delivery), the third: late.
    let delivered = |id: String| {
        let db = db.clone();
        async move {
            let r = db
                .fetch_optional(
                    "SELECT received_at, handled_at FROM agent_received WHERE agency = $1 AND package_id = $2",
                    &[A.into(), id.into()],
                )
                .await
                .unwrap()
                .unwrap();
            (r.i64(0).unwrap(), r.opt_i64(1).unwrap())
        }
    };
    let (third_at, _) = delivered(ids[2].clone()).await;
    let deadline = gongwen_agent::stats::due(gongwen_agent::stats::calendar(), third_at).unwrap();
    clock.advance(deadline + HOUR - clock.now_ms());
    a.confirm(&ids[2]).await.unwrap();
    // The hours each took, to 0.1, worked out here.
    let mut hours = Vec::new();
    for id in [&ids[0], &ids[2]] {
        let (at, done) = delivered(id.clone()).await;
        hours.push((done.unwrap() - at) as f64 / HOUR as f64);
    }
    let round = |x: f64| (x * 10.0).round() / 10.0;
    let (fast, late) = (round(hours[0]), round(hours[1]));
    assert_eq!(fast, 2.0);
    assert!(late > 10.0, "{late}");
    let average = round((hours[0] + hours[1]) / 2.0);
    let now_month = gongwen_agent::stats::Month::of_ms(clock.now_ms());
    let q = format!("?from={}&to={}", received_month.iso(), now_month.iso());

    // Nobody signed in is sent to sign in, for the page and both exports.
    for path in ["/stats", "/stats.json", "/stats.csv"] {
        let p = get(&w, &format!("{path}{q}"), None).await;
        assert_eq!(p.status, 303, "{path}");
        assert!(p.location.starts_with("/login"), "{path}: {}", p.location);
    }

    // A prints its letter to B for mailing on paper: counted once the PDF is made (a machine
    // without the CJK font makes none, says so, and counts nothing).
    let ca = cookie_of(&w, A).await;
    let pdf = get(&w, &format!("/sent/{to_b}/paper.pdf"), Some(&ca)).await;
    if pdf.status == 200 {
        // The center was told too: its statistics set it against the copies exchanged.
        let told =
            w.x.app
                .db
                .fetch_all(
                    "SELECT actor FROM events WHERE kind = 'paper_printed' AND package_id = $1",
                    &[to_b.as_str().into()],
                )
                .await
                .unwrap();
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].text("actor").unwrap(), A);
    } else {
        pdf.has(503, &["E_RENDER_FONT_MISSING"]);
        let none = get(&w, &format!("/stats.json{q}"), Some(&ca)).await;
        let none: Value = serde_json::from_str(&none.body).unwrap();
        assert_eq!(
            n(&none["totals"]["paper_printed"]),
            0,
            "a print that failed is not counted"
        );
        // Recorded as the handler records a print that succeeded, so the count is still checked.
        gongwen_agent::stats::paper_printed(&db, A, &to_b, "測試", clock.now_ms())
            .await
            .unwrap();
    }
    let printed = 1;

    let p = get(&w, &format!("/stats.json{q}"), Some(&ca)).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let j: Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(j["agency"], A);
    let months = j["months"].as_array().unwrap();
    assert_eq!(
        months.len(),
        if received_month == now_month { 1 } else { 2 }
    );
    // Sent 1, received 3 (signed for 2, returned 1), printed 1.
    assert_eq!(figures(&j["totals"]), [1, 3, 2, 1, printed]);
    assert_eq!(n(&months[0]["received"]), 3);
    assert_eq!(n(&months.last().unwrap()["paper_printed"]), printed);
    let days = j["days"].as_array().unwrap();
    let in_days: i64 = days.iter().map(|d| n(&d["paper_printed"])).sum();
    assert_eq!(in_days, printed);
    assert!(days[0]["period"].as_str().unwrap().ends_with("-01"));
    // 簽收 after 2 hours and an hour after the deadline: one of two within it.
    let c = &j["confirm"];
    assert_eq!(n(&c["count"]), 2);
    assert_eq!(c["average_hours"].as_f64(), Some(average));
    assert_eq!(c["p50_hours"].as_f64(), Some(2.0));
    assert_eq!(c["p90_hours"].as_f64(), Some(late));
    assert_eq!(n(&c["within_due"]), 1);
    assert_eq!(c["within_due_percent"].as_f64(), Some(50.0));

    // The CSV says the same.
    let csv = get(&w, &format!("/stats.csv{q}"), Some(&ca)).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv_rows(&csv.body), csv_of_json(&j));

    // So does the document-system API, for the token's own agency.
    let r = api_a
        .http
        .get(format!("{}/api/v1/stats{q}", api_a.base))
        .bearer_auth(&api_a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut from_api: Value = r.json().await.unwrap();
    let mut from_web = j.clone();
    from_api["as_of"] = Value::Null;
    from_web["as_of"] = Value::Null;
    assert_eq!(from_api, from_web);

    // The page shows them.
    let page = get(&w, &format!("/stats{q}"), Some(&ca)).await;
    page.has(
        200,
        &[
            &format!("<th scope=\"row\">合計</th><td>1</td><td>3</td><td>2</td><td>1</td><td>{printed}</td>"),
            &format!("<th scope=\"row\">第 90 百分位（小時）</th><td>{late}</td>"),
            "<th scope=\"row\">期限內簽收比率（%）</th><td>50</td>",
            "<svg",
            "簽收是否在次一工作日上午 10 時前",
            "<html lang=\"zh-Hant-TW\">",
        ],
    );

    // B sees only its own: sent 3, received 1, nothing signed for; never A's.
    let cb = cookie_of(&w, B).await;
    let jb: Value =
        serde_json::from_str(&get(&w, &format!("/stats.json{q}"), Some(&cb)).await.body).unwrap();
    assert_eq!(jb["agency"], B);
    assert_eq!(figures(&jb["totals"]), [3, 1, 0, 0, 0]);
    assert_eq!(n(&jb["confirm"]["count"]), 0);
    assert_eq!(jb["confirm"]["average_hours"], Value::Null);
    let r = api_b
        .http
        .get(format!("{}/api/v1/stats{q}", api_b.base))
        .bearer_auth(&api_b.token)
        .send()
        .await
        .unwrap();
    let from_api: Value = r.json().await.unwrap();
    assert_eq!(figures(&from_api["totals"]), [3, 1, 0, 0, 0]);
    let pb = get(&w, &format!("/stats{q}"), Some(&cb)).await;
    pb.has(
        200,
        &["<th scope=\"row\">合計</th><td>3</td><td>1</td><td>0</td>"],
    );
    pb.lacks(&[&format!("<td>{late}</td>")]);

    // Bad periods: a stable code, zh-TW words.
    for bad in [
        "from=2024-01&to=2026-12",
        "from=2026-02&to=2026-01",
        "to=2026-1",
    ] {
        let p = get(&w, &format!("/stats.json?{bad}"), Some(&ca)).await;
        assert_eq!(p.status, 400, "{bad}");
        let e: Value = serde_json::from_str(&p.body).unwrap();
        assert_eq!(e["code"], "E_BAD_REQUEST", "{bad}");
        let r = api_a
            .http
            .get(format!("{}/api/v1/stats?{bad}", api_a.base))
            .bearer_auth(&api_a.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    let p = get(&w, "/stats?from=2024-01&to=2026-12", Some(&ca)).await;
    p.has(400, &["統計期間最多 24 個月"]);
    w.shutdown().await;
}
