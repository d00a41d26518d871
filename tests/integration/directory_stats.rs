//! The directory's statistics: applications reviewed through the API over a week of the office
//! calendar, a suspension and a termination, certificates near their end; the JSON's numbers
//! worked out by hand, the CSV the same, the page showing them, `/metrics` the same counts,
//! and nobody who is not signed in sees any of it.

use gongwen_integration::{A, B, C, D};
use gongwen_proto::directory::ParticipantState;
use serde_json::Value;

use crate::directory_network::{ADMIN, Reviews, form, reviews};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

/// 00:00 Taipei of the first Monday after the day of `now` whose week up to the next
/// Monday has no holiday and no make-up day, and stays in one month.
fn plain_monday(now: i64) -> (i64, time::Date) {
    let cal = gongwen_directory::stats::calendar();
    let taipei = |ms: i64| {
        time::OffsetDateTime::from_unix_timestamp(ms / 1000 + 8 * 3600)
            .unwrap()
            .date()
    };
    let mut day = taipei(now).next_day().unwrap();
    loop {
        let next = day + time::Duration::days(7);
        if day.weekday() == time::Weekday::Monday
            && cal.count_working_days(day, next) == 6
            && (day.month() == next.month())
        {
            let midnight = time::PrimitiveDateTime::new(day, time::Time::MIDNIGHT)
                .assume_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap());
            return (midnight.unix_timestamp() * 1000, day);
        }
        day = day.next_day().unwrap();
    }
}

impl Reviews {
    /// Moves the directory's clock to `at` (Unix ms).
    fn go(&self, at: i64) {
        let clock = &self.dir.app.clock;
        clock.advance(at - clock.now_ms());
    }

    /// A signed-in reviewer's cookie (signed in now, on the directory's clock).
    async fn cookie(&self) -> String {
        let form = [("name", "audit"), ("token", self.auditor.as_str())];
        let p = self.post("/review/login", None, &form).await;
        assert_eq!(p.status, 303, "{}", p.body);
        p.cookie.unwrap()
    }
}

fn n(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("not a whole number: {v}"))
}

/// `by_*` as key → count.
fn counts(v: &Value) -> Vec<(String, i64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap().to_string(), n(&c["count"])))
        .collect()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// The CSV's lines (after the BOM and header) as (section, item, value).
fn csv_rows(text: &str) -> Vec<(String, String, String)> {
    let text = text.strip_prefix('\u{feff}').expect("a BOM for Excel");
    let records = gongwen_proto::csv::parse(text, 3).unwrap();
    assert_eq!(records[0].fields, ["區段", "項目", "數值"]);
    records[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.count, 3, "{r:?}");
            (r.field(0).into(), r.field(1).into(), r.field(2).into())
        })
        .collect()
}

/// What the CSV should hold, read from the JSON.
fn csv_of_json(j: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut put = |s: &str, i: &str, v: String| out.push((s.to_string(), i.to_string(), v));
    let show = |v: &Value| match v {
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
    };
    put("期間", "from", show(&j["from"]));
    put("期間", "to", show(&j["to"]));
    put("參與者", "total", show(&j["participants"]["total"]));
    for (field, section) in [
        ("by_kind", "參與者依種類"),
        ("by_state", "參與者依狀態"),
        ("by_center", "參與者依交換中心"),
    ] {
        for (k, c) in counts(&j["participants"][field]) {
            put(section, &k, c.to_string());
        }
    }
    let mut lines: Vec<&Value> = j["months"].as_array().unwrap().iter().collect();
    lines.push(&j["totals"]);
    for m in lines {
        let month = m["month"].as_str().unwrap();
        for (f, s) in [
            ("received", "收件"),
            ("decided", "決定"),
            ("activated", "開通"),
            ("rejected", "不同意"),
            ("suspended", "暫停"),
            ("terminated", "中止"),
        ] {
            put(s, month, show(&m[f]));
        }
    }
    for (f, stage) in [("first", "初審"), ("second", "複審"), ("total", "全程")] {
        let d = &j["review_days"][f];
        for k in ["count", "average", "p90"] {
            put(&format!("審核工作天數：{stage}"), k, show(&d[k]));
        }
    }
    for k in ["within_30", "within_60", "within_90"] {
        put("憑證到期", k, show(&j["certificates"][k]));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_counts_applications_reviews_stops_and_expiring_certificates() {
    use gongwen_directory::{improvements, registry};
    let r = reviews("dirstats").await;
    let (dc, first, second) = (&r.dc, &r.first, &r.second);
    let db = r.dir.app.db.clone();
    let (monday, day) = plain_monday(r.dir.app.clock.now_ms());
    let at = |days: i64, hours: i64| monday + days * DAY + hours * HOUR;
    let month = format!("{:04}-{:02}", day.year(), u8::from(day.month()));

    // Monday 10:00: D, B and C apply (authority A, center X).
    r.go(at(0, 10));
    let now = r.dir.app.clock.now_ms();
    let d = r.apply(&form(D, "center-x", true, now), D).await;
    let b = r.apply(&form(B, "center-x", true, now), B).await;
    let c = r.apply(&form(C, "center-x", true, now), C).await;
    // Monday 15:00: B is rejected at the first review (0 working days).
    r.go(at(0, 15));
    dc.review(first, &b, "reject", Some("代表人資料不符"))
        .await
        .unwrap();
    // Tuesday: C passes both reviews (初審 1 day, 複審 0, in all 1).
    r.go(at(1, 10));
    dc.review(first, &c, "approve", None).await.unwrap();
    r.go(at(1, 11));
    dc.review(second, &c, "approve", None).await.unwrap();
    // Wednesday: D passes the first review (2 days); the next Monday the second (Thursday,
    // Friday, Monday: 3 days), in all 5.
    r.go(at(2, 10));
    dc.review(first, &d, "approve", None).await.unwrap();
    r.go(at(7, 10));
    let done = dc.review(second, &d, "approve", None).await.unwrap();
    assert_eq!(done.state.as_str(), "activated");
    // The same Monday: C is suspended, D terminated.
    r.go(at(7, 11));
    let now = r.dir.app.clock.now_ms();
    improvements::suspend(&db, C, "malware", ADMIN, now)
        .await
        .unwrap();
    registry::set_state(
        &db,
        D,
        ParticipantState::Terminated,
        Some("機關裁撤"),
        ADMIN,
        now,
    )
    .await
    .unwrap();
    // Certificates: A's signing one ends in 10 days, C's encryption one in 45, D's (no longer
    // in the exchange) in 5; every other one in more than 90.
    db.execute(
        "UPDATE dir_certs SET not_after = $1",
        &[(now + 400 * DAY).into()],
    )
    .await
    .unwrap();
    for (code, usage, days) in [(A, "signing", 10), (C, "encryption", 45), (D, "signing", 5)] {
        db.execute(
            "UPDATE dir_certs SET not_after = $1 WHERE code = $2 AND usage = $3",
            &[(now + days * DAY).into(), code.into(), usage.into()],
        )
        .await
        .unwrap();
    }

    // Nobody signed in sees nothing: every form of it sends to the sign-in page.
    for path in ["/stats", "/stats.json", "/stats.csv"] {
        let p = r.get(path, None).await;
        assert_eq!(
            (p.status, p.location.as_str()),
            (303, "/review/login"),
            "{path}"
        );
    }
    let cookie = r.cookie().await;
    let q = format!("?from={month}&to={month}");
    let p = r.get(&format!("/stats.json{q}"), Some(&cookie)).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let j: Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(
        (j["from"].as_str(), j["to"].as_str()),
        (Some(&*month), Some(&*month))
    );
    assert_eq!(j["calendar_covered"], true);

    let parts = &j["participants"];
    assert_eq!(n(&parts["total"]), 3);
    assert_eq!(
        counts(&parts["by_state"]),
        pairs(&[("active", 1), ("suspended", 1), ("terminated", 1)])
    );
    assert_eq!(
        counts(&parts["by_kind"]),
        pairs(&[("agency", 1), ("organisation", 2)])
    );
    assert_eq!(counts(&parts["by_center"]), pairs(&[("center-x", 3)]));
    assert_eq!(parts["by_center"][0]["label"], "交換中心center-x");

    let months = j["months"].as_array().unwrap();
    assert_eq!(months.len(), 1);
    for m in [&months[0], &j["totals"]] {
        let got: Vec<i64> = [
            "received",
            "decided",
            "activated",
            "rejected",
            "suspended",
            "terminated",
        ]
        .iter()
        .map(|f| n(&m[*f]))
        .collect();
        assert_eq!(got, [3, 3, 2, 1, 1, 1], "{m}");
    }
    assert_eq!(months[0]["month"], month);
    assert_eq!(j["totals"]["month"], "合計");

    // 初審 [1, 2], 複審 [0, 3], in all [0, 1, 5]: averages and the 90th percentile.
    let days = &j["review_days"];
    let stage = |s: &str| {
        let d = &days[s];
        (n(&d["count"]), d["average"].as_f64(), d["p90"].as_f64())
    };
    assert_eq!(stage("first"), (2, Some(1.5), Some(2.0)));
    assert_eq!(stage("second"), (2, Some(1.5), Some(3.0)));
    assert_eq!(stage("total"), (3, Some(2.0), Some(5.0)));

    let certs = &j["certificates"];
    let within: Vec<i64> = ["within_30", "within_60", "within_90"]
        .iter()
        .map(|k| n(&certs[*k]))
        .collect();
    assert_eq!(within, [1, 2, 2]);
    let list: Vec<(String, String, i64)> = certs["expiring"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().into(),
                e["usage"].as_str().unwrap().into(),
                n(&e["days_left"]),
            )
        })
        .collect();
    assert_eq!(
        list,
        [
            (A.to_string(), "signing".to_string(), 9),
            (C.to_string(), "encryption".to_string(), 44)
        ]
    );

    // The CSV holds the same numbers.
    let csv = r.get(&format!("/stats.csv{q}"), Some(&cookie)).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv_rows(&csv.body), csv_of_json(&j));

    // The page shows them, with its charts.
    let page = r.get(&format!("/stats{q}"), Some(&cookie)).await;
    page.has(
        200,
        &[
            "id=\"participants-total\">3<",
            &format!("<th scope=\"row\">{month}</th><td>3</td><td>3</td><td>2</td><td>1</td><td>1</td><td>1</td>"),
            "<th scope=\"row\">送件至決定</th><td>3</td><td>2</td><td>5</td>",
            "<th scope=\"row\">60 天內</th><td>2</td>",
            "<svg",
            "各月申請收件數",
            &format!("/stats.csv?from={month}&amp;to={month}"),
            "<html lang=\"zh-Hant-TW\">",
        ],
    );
    page.lacks(&["<script>"]);

    // Bad periods: refused with a stable code, and the page says why in words.
    for bad in [
        "from=2024-01&to=2026-12",
        "from=2026-02&to=2026-01",
        "from=2026-13",
    ] {
        let p = r.get(&format!("/stats.json?{bad}"), Some(&cookie)).await;
        assert_eq!(p.status, 400, "{bad}");
        let e: Value = serde_json::from_str(&p.body).unwrap();
        assert_eq!(e["code"], "E_BAD_REQUEST", "{bad}");
    }
    let p = r.get("/stats?from=2024-01&to=2026-12", Some(&cookie)).await;
    p.has(400, &["統計期間最多 24 個月", "role=\"alert\""]);

    // /metrics, from this machine: the same counts now.
    let m = r.get("/metrics", None).await;
    m.has(
        200,
        &[
            "gongwen_directory_participants_by_state{state=\"suspended\"} 1",
            "gongwen_directory_participants_by_kind{kind=\"organisation\"} 2",
            "gongwen_directory_participants_by_center{center=\"center-x\"} 3",
            "gongwen_directory_certificates_expiring{within_days=\"60\"} 2",
            "# TYPE gongwen_directory_participants_by_state gauge",
        ],
    );
    r.shutdown().await;
}
