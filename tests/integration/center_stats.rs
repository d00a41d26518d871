//! The center's statistics (issue 19): documents sent, delivered, confirmed on time and late,
//! returned and failed through a real center, counted by the daily rollup; the JSON, the CSV
//! and the page show the same numbers, `/metrics` the gauges; who may not read `/metrics` may
//! not read them either.

use std::collections::BTreeMap;

use gongwen_integration::{A, B, C, agency_tls, confirm, pki, sealed};
use gongwen_proto::ReturnReason;
use gongwen_trust::receipt::ReceiptEvent;
use serde_json::Value;

use crate::agent_web::center_with;

/// A client of the center's pages: no certificate, or agency `code`'s.
fn browser(code: Option<&str>) -> reqwest::Client {
    match code {
        Some(c) => reqwest::Client::builder()
            .use_preconfigured_tls(agency_tls(c))
            .build()
            .unwrap(),
        None => {
            let roots = std::fs::read(pki().ca.root_file()).unwrap();
            gongwen_client::plain_http(&roots).unwrap()
        }
    }
}

async fn get(http: &reqwest::Client, base: &str, path: &str) -> (u16, String) {
    let r = http.get(format!("{base}{path}")).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// The cells of the row headed `head` in the page's table `id`.
fn cells(body: &str, table: &str, head: &str) -> Vec<String> {
    let t = body
        .split(&format!("id=\"{table}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no table {table}"));
    let t = t.split("</table>").next().unwrap();
    let row = t
        .split("<tr>")
        .find(|r| r.starts_with(&format!("<th scope=\"row\">{head}</th>")))
        .unwrap_or_else(|| panic!("no row {head} in {table}: {t}"));
    row.split("<td>")
        .skip(1)
        .map(|c| c.split("</td>").next().unwrap().to_string())
        .collect()
}

/// The CSV's numbers by (區段, 期間, 項目).
fn csv_numbers(csv: &str) -> BTreeMap<(String, String, String), i64> {
    let mut out = BTreeMap::new();
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next(), Some("區段,期間,項目,名稱,數量"));
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f.len(), 5, "{l}");
        let key = (f[0].to_string(), f[1].to_string(), f[2].to_string());
        assert!(out.insert(key, f[4].parse().unwrap()).is_none(), "{l}");
    }
    out
}

/// The JSON's numbers under the same keys as the CSV's.
fn json_numbers(v: &Value) -> BTreeMap<(String, String, String), i64> {
    let mut out = BTreeMap::new();
    let mut put = |s: &str, p: &str, i: &str, n: &Value| {
        let n = n.as_i64().unwrap_or_else(|| panic!("{s} {p} {i}: {n}"));
        assert!(out.insert((s.into(), p.into(), i.into()), n).is_none());
    };
    let columns = [
        "documents",
        "accepted",
        "relayed",
        "available",
        "delivered",
        "confirmed_on_time",
        "confirmed_late",
        "returned",
        "failed",
        "paper",
    ];
    for (section, flows) in [
        ("day", v["days"].as_array().unwrap().clone()),
        ("month", v["months"].as_array().unwrap().clone()),
        ("total", vec![v["total"].clone()]),
    ] {
        for f in &flows {
            for c in columns {
                put(section, f["period"].as_str().unwrap(), c, &f[c]);
            }
        }
    }
    for k in [
        "confirmed_on_time",
        "confirmed_late",
        "open",
        "open_overdue",
    ] {
        put("duty", "", k, &v["duty"][k]);
    }
    for (section, list) in [
        ("returned", "returns"),
        ("failed", "failures"),
        ("refused", "refusals"),
        ("hour", "hours"),
    ] {
        for c in v[list].as_array().unwrap() {
            put(section, "", c["key"].as_str().unwrap(), &c["n"]);
        }
    }
    put("now", "", "open", &v["open_now"]);
    put("now", "", "overdue", &v["overdue_now"]);
    for p in v["participants"].as_array().unwrap() {
        let code = p["code"].as_str().unwrap();
        put("open", "", code, &p["open"]);
        put("overdue", "", code, &p["overdue"]);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_center_counts_the_exchange_and_shows_the_same_numbers_everywhere() {
    let pki = pki();
    // Twelve days on, the test CA's revocation lists are out of date: accepted with a warning.
    let x = center_with("stats", &[A, B, C], |cfg| {
        cfg.stale_crl = gongwen_trust::path::StaleCrl::Warn;
    })
    .await;
    let (a, b, c) = (
        pki.client(x.addr(), A).unwrap(),
        pki.client(x.addr(), B).unwrap(),
        pki.client(x.addr(), C).unwrap(),
    );
    let first_day = gongwen_center::stats::day_of(x.app.clock.now_ms());

    // Day one: to B and C (B confirms at once), to B (returned), to B and to nobody known
    // (B leaves it open; the other copy fails).
    let p1 = sealed(A, &[B, C], 1000);
    let s1 = a.submit("stats-1", p1.clone()).await.unwrap();
    confirm(&b, B, &s1.id, &p1).await;
    let p2 = sealed(A, &[B], 1000);
    let s2 = a.submit("stats-2", p2.clone()).await.unwrap();
    // Confirmed before delivered: refused, and recorded against B (E_COPY_STATE).
    let early = pki
        .receipt(B, &p2, ReceiptEvent::Confirmed, None, None)
        .unwrap();
    assert!(b.receipt(&s2.id, early).await.is_err());
    for (ev, reason, text) in [
        (ReceiptEvent::Delivered, None, None),
        (
            ReceiptEvent::Returned,
            Some(ReturnReason::Misdelivered),
            Some("非本局業務"),
        ),
    ] {
        let r = pki.receipt(B, &p2, ev, reason, text).unwrap();
        b.receipt(&s2.id, r).await.unwrap();
    }
    let p3 = sealed(A, &[B, "999999999Z"], 1000);
    let s3 = a.submit("stats-3", p3).await.unwrap();
    // A prints it on paper for the recipient not on the exchange, and its agent says so.
    let print = gongwen_proto::api::PaperPrint {
        package_id: s3.id.clone(),
    };
    a.paper_print(&print).await.unwrap();

    // Twelve days later (past any run of days off): C confirms late; one more to B, not yet due.
    x.app.clock.advance(12 * 86_400_000);
    confirm(&c, C, &s1.id, &p1).await;
    let p4 = sealed(A, &[B], 1000);
    a.submit("stats-4", p4).await.unwrap();

    let now = x.app.clock.now_ms();
    let last_day = gongwen_center::stats::day_of(now);
    let done = gongwen_center::rollup(&x.app, now, 100).await.unwrap();
    assert!(done.days >= 13 && !done.pending, "{done:?}");
    // Again: the same numbers, nothing counted twice.
    gongwen_center::rollup(&x.app, now, 100).await.unwrap();
    // Only a party of the package may report a print of it (after the counting, so that its
    // refusal is not among the figures below).
    let e = c.paper_print(&print).await.unwrap_err();
    assert_eq!(e.code(), Some("E_EVENT_NOT_PARTY"));

    let base = format!("https://{}", x.addr());
    let http = browser(None);
    let q = format!(
        "from={}&to={}",
        gongwen_center::stats::iso(first_day),
        gongwen_center::stats::iso(last_day)
    );
    let (status, body) = get(&http, &base, &format!("/stats.json?{q}")).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let t = &v["total"];
    for (k, want) in [
        ("documents", 4),
        ("accepted", 6),
        ("available", 5),
        ("relayed", 0),
        ("delivered", 3),
        ("confirmed_on_time", 1),
        ("confirmed_late", 1),
        ("returned", 1),
        ("failed", 1),
        ("paper", 1),
    ] {
        assert_eq!(t[k], want, "{k}: {t}");
    }
    assert_eq!(v["duty"]["confirmed_on_time"], 1);
    assert_eq!(v["duty"]["confirmed_late"], 1);
    assert_eq!(v["duty"]["open"], 2, "p3 and p4 to B");
    assert_eq!(v["duty"]["open_overdue"], 1, "p3 to B");
    assert_eq!(v["returns"][0]["key"], "誤送");
    assert_eq!(v["returns"][0]["n"], 1);
    assert_eq!(v["failures"][0]["key"], "unknown_recipient");
    assert_eq!(v["failures"][0]["n"], 1);
    assert_eq!(v["refusals"][0]["key"], "E_COPY_STATE");
    assert_eq!(v["refusals"][0]["n"], 1);
    let hours: i64 = v["hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["n"].as_i64().unwrap())
        .sum();
    assert_eq!(hours, 6);
    assert_eq!(v["hours"].as_array().unwrap().len(), 24);
    assert_eq!(v["open_now"], 2);
    assert_eq!(v["overdue_now"], 1);
    let ps = v["participants"].as_array().unwrap();
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(ps[0]["code"], B);
    assert_eq!(
        (ps[0]["open"].as_i64(), ps[0]["overdue"].as_i64()),
        (Some(2), Some(1))
    );
    let days = v["days"].as_array().unwrap();
    assert_eq!(days.len(), 13);
    let last = days.last().unwrap();
    assert_eq!(last["period"], gongwen_center::stats::iso(last_day));
    for (k, want) in [
        ("documents", 1),
        ("accepted", 1),
        ("delivered", 1),
        ("confirmed_late", 1),
        ("confirmed_on_time", 0),
    ] {
        assert_eq!(last[k], want, "{k}: {last}");
    }
    assert!(v["counted_at"].as_i64().is_some());

    // The CSV has the JSON's numbers, line for line.
    let (status, csv) = get(&http, &base, &format!("/stats.csv?{q}")).await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(csv_numbers(&csv), json_numbers(&v));

    // The page shows them, beside its charts.
    let (status, page) = get(&http, &base, &format!("/stats?{q}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<html lang=\"zh-Hant-TW\">"));
    assert!(page.contains(r#"role="img""#) && page.contains("各日收件份數"));
    assert!(
        page.contains("期間內電子交換 6 份、紙本列印 1 份（機關代理程式通報），電子交換占 85.7%。"),
        "{page}"
    );
    assert_eq!(
        cells(&page, "stats-flow", "合計"),
        ["4", "6", "0", "5", "3", "1", "1", "1", "1", "1"]
    );
    assert_eq!(cells(&page, "stats-duty", "如期確認"), ["1"]);
    assert_eq!(cells(&page, "stats-duty", "逾期確認"), ["1"]);
    assert_eq!(cells(&page, "stats-duty", "尚未確認"), ["2"]);
    assert_eq!(cells(&page, "stats-duty", "尚未確認且已逾期"), ["1"]);
    assert_eq!(cells(&page, "stats-returns", "誤送"), ["1"]);
    assert_eq!(cells(&page, "stats-failures", "收文者不在通訊錄中"), ["1"]);
    assert_eq!(cells(&page, "stats-refusals", "E_COPY_STATE")[1], "1");
    assert_eq!(&cells(&page, "stats-open", B)[1..3], ["2", "1"]);
    assert!(page.contains(&format!("/stats.csv?{}", q.replace('&', "&amp;"))));

    // /metrics carries the gauges.
    let metrics = a.metrics().await.unwrap();
    for line in [
        "gongwen_copies_open 2",
        "gongwen_copies_overdue 1",
        "gongwen_copies_accepted_today 1",
    ] {
        assert!(metrics.contains(line), "{line} missing from {metrics}");
    }

    // A period over 24 months, or not a date: refused with the reason.
    let (status, body) = get(&http, &base, "/stats.json?from=2024-01-01&to=2026-01-01").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("E_BAD_REQUEST") && body.contains("最多 24 個月"),
        "{body}"
    );
    let (status, body) = get(&http, &base, "/stats?from=2026-13-01").await;
    assert_eq!(status, 400);
    assert!(body.contains("起日須為日期"), "{body}");
    x.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statistics_are_refused_where_metrics_are() {
    let x = center_with("stats_closed", &[A, B], |cfg| {
        cfg.metrics_allow = vec!["10.255.255.1".into()];
    })
    .await;
    let base = format!("https://{}", x.addr());
    for who in [None, Some(A)] {
        let http = browser(who);
        for path in ["/stats", "/stats.csv", "/stats.json", "/metrics"] {
            let (status, body) = get(&http, &base, path).await;
            assert_eq!(status, 403, "{who:?} {path}: {body}");
            assert!(body.contains("E_AUTH_NOT_OPERATOR"), "{path}: {body}");
            assert!(!body.contains("合計"), "{path}");
        }
    }
    x.shutdown().await;
}
