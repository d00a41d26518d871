//! 統計: the sign-off indicators (seed 003 伍) by month for the agency and by unit, with the
//! 線上簽核率 drawn against the plan's 減紙 target, and the same numbers as CSV and JSON for
//! the 研考／管考 body. For 稽催 (time-control) staff, administrators and heads.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_web::chart::{self, Bar, BarChart};
use gongwen_web::{FormErrors, Site};
use serde::Deserialize;

use super::{Me, SITE, Web, WebError, Who};
use crate::indicators::{self, Line, Month, Report};
use crate::org::Role;
use crate::{stages, timeliness};

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/stats", get(page))
        .route("/stats.csv", get(csv))
        .route("/stats.json", get(json))
        .route("/stats/timeliness.csv", get(timely_csv))
        .route("/stats/timeliness.json", get(timely_json))
        .route("/stats/stages.csv", get(stages_csv))
        .route("/stats/stages.json", get(stages_json))
}

/// The period asked for (all optional: the last 12 months, the agency's before period).
#[derive(Deserialize, Default, Debug, Clone)]
pub struct StatsForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before_from: String,
    #[serde(default)]
    before_to: String,
}

impl StatsForm {
    /// The query string that asks for the same period (the export links).
    fn query(&self) -> String {
        let enc = gongwen_client::encode_segment;
        format!(
            "from={}&to={}&before_from={}&before_to={}",
            enc(self.from.trim()),
            enc(self.to.trim()),
            enc(self.before_from.trim()),
            enc(self.before_to.trim()),
        )
    }
}

/// The period read from the form, the agency's settings filling what it leaves out.
struct Period {
    from: Month,
    to: Month,
    before: Option<(Month, Month)>,
}

fn read_form(f: &mut StatsForm, me: &Me) -> Result<Period, FormErrors> {
    let mut errors = FormErrors::new();
    let settings = &me.app.config.indicators;
    let now = Month::of_ms(me.app.clock.now_ms());
    let mut month = |field: &'static str, label: &str, v: &str| match v.trim() {
        "" => None,
        s => {
            let m = Month::parse(s);
            if m.is_none() {
                errors.push(Some(field), format!("{label}須為年月（YYYY-MM）"));
            }
            m
        }
    };
    let to = month("to", "迄月", &f.to).unwrap_or(now);
    let from = month("from", "起月", &f.from).unwrap_or(to.back(12));
    let given = !f.before_from.trim().is_empty() || !f.before_to.trim().is_empty();
    let (bf, bt) = if given {
        (f.before_from.clone(), f.before_to.clone())
    } else {
        (
            settings.before_from.clone().unwrap_or_default(),
            settings.before_to.clone().unwrap_or_default(),
        )
    };
    let before_from = month("before_from", "比較基期起月", &bf);
    let before_to = month("before_to", "比較基期迄月", &bt);
    let before = match (before_from, before_to) {
        (Some(a), Some(b)) => Some((a, b)),
        (None, None) => None,
        _ => {
            errors.push(Some("before_from"), "比較基期須填起月與迄月");
            None
        }
    };
    if let Err(e) = indicators::months(from, to) {
        errors.push(Some("from"), Refusal::from(e).detail);
    }
    if let Some((a, b)) = before
        && let Err(e) = indicators::months(a, b)
    {
        errors.push(
            Some("before_from"),
            format!("比較基期：{}", Refusal::from(e).detail),
        );
    }
    // What the page shows in its form: the period in effect.
    f.from = from.iso();
    f.to = to.iso();
    if let Some((a, b)) = before {
        f.before_from = a.iso();
        f.before_to = b.iso();
    }
    if errors.is_empty() {
        Ok(Period { from, to, before })
    } else {
        Err(errors)
    }
}

/// One row of a table, as printed (the same figures as the exports).
pub struct Row {
    pub head: String,
    pub cells: Vec<String>,
}

/// A figure as printed: 「—」 when there is none.
fn show(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "—".into())
}

/// The columns of both tables, after the row's heading.
pub const COLUMNS: [&str; 12] = [
    "收文總數",
    "密件公文數",
    "自創簽稿數",
    "線上簽核件數",
    "線上簽核率(%)",
    "結案件數",
    "平均處理天數",
    "公文效率提升(%)",
    "線上會辦件數",
    "電子交換件數",
    "節省郵資(元)",
    "節能績效指標(元/日)",
];

fn row(head: String, l: &Line) -> Row {
    let f = &l.figures;
    let c = &f.counts;
    Row {
        head,
        cells: vec![
            c.received.to_string(),
            c.classified.to_string(),
            c.self_created.to_string(),
            c.online.to_string(),
            show(f.online_rate),
            c.closed.to_string(),
            show(f.average_days),
            show(f.efficiency),
            c.consult_pieces.to_string(),
            c.exchange_pieces.to_string(),
            f.postage_saved_twd.to_string(),
            show(f.energy_ratio),
        ],
    }
}

#[derive(Template)]
#[template(path = "office/stats.html")]
struct StatsPage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    f: StatsForm,
    errors: FormErrors,
    /// Empty until the form is right.
    query: String,
    columns: &'static [&'static str],
    months: Vec<Row>,
    total: Option<Row>,
    units: Vec<Row>,
    /// The charts (inline SVG, escaped by `chart`).
    rate_chart: String,
    days_chart: String,
    postage_twd: i64,
    target: i64,
    /// The before period in words, or empty.
    before: String,
    /// 時效統計: the agency by 速別, by month, and each unit by 速別 (the period).
    timely_columns: &'static [&'static str],
    timely_speeds: Vec<Row>,
    timely_months: Vec<Row>,
    timely_units: Vec<UnitRow>,
    timely_chart: String,
    /// 各階段處理時間 (`crate::stages`).
    stage_closed: i64,
    stage_rows: Vec<Row>,
}

/// A unit's row of the 時效 table: the unit (on its first row only), the 速別, the figures.
pub struct UnitRow {
    pub unit: String,
    pub speed: String,
    pub cells: Vec<String>,
}

/// The columns of the 時效 tables, after the row's heading (the CSV's, in the same order).
pub const TIMELY_COLUMNS: [&str; 6] = [
    "結案件數",
    "如期結案件數",
    "逾期結案件數",
    "無限辦日期件數",
    "如期率(%)",
    "平均處理天數(工作天)",
];

fn timely_cells(l: &timeliness::Line) -> Vec<String> {
    let f = &l.figures;
    let c = &f.counts;
    vec![
        c.closed.to_string(),
        c.on_time.to_string(),
        c.late.to_string(),
        c.no_due.to_string(),
        show(f.on_time_rate),
        show(f.average_days),
    ]
}

/// 限期 and 專案管制 rows are shown only when some case was closed under them.
fn timely_shown(l: &timeliness::Line) -> bool {
    !matches!(
        l.speed,
        Some(timeliness::Speed::Fixed | timeliness::Speed::Project)
    ) || l.figures.counts.closed > 0
}

/// The 時效 part of the page from its report.
fn timely_rows(r: &timeliness::Report) -> (Vec<Row>, Vec<Row>, Vec<UnitRow>, String) {
    let speeds = r
        .agency_period()
        .filter(|l| timely_shown(l))
        .map(|l| Row {
            head: l.speed_name.clone(),
            cells: timely_cells(l),
        })
        .collect();
    let label = |l: &timeliness::Line| {
        let m = l.month.as_deref().unwrap_or_default();
        Month::parse(m).map_or_else(|| m.to_string(), Month::roc_short)
    };
    let months: Vec<&timeliness::Line> = r.agency_months().collect();
    let month_rows = months
        .iter()
        .map(|l| Row {
            head: label(l),
            cells: timely_cells(l),
        })
        .collect();
    let mut units: Vec<UnitRow> = Vec::new();
    let mut last: Option<&str> = None;
    for l in r
        .unit_period()
        .filter(|l| timely_shown(l) && (l.speed.is_none() || l.figures.counts.closed > 0))
    {
        let first = last != l.unit.as_deref();
        last = l.unit.as_deref();
        units.push(UnitRow {
            unit: if first {
                l.unit_name.clone()
            } else {
                String::new()
            },
            speed: l.speed_name.clone(),
            cells: timely_cells(l),
        });
    }
    let bars: Vec<Bar> = months
        .iter()
        .map(|l| Bar {
            label: label(l),
            value: l.figures.on_time_rate,
        })
        .collect();
    let chart = chart::bar_chart(&BarChart {
        id: "timely",
        title: "各月如期結案率",
        desc: &format!(
            "{} 至 {} 各月如期結案率（%）長條圖；數字與下表相同。",
            r.from, r.to
        ),
        unit: "%",
        bars: &bars,
        target: None,
        y_max: Some(100.0),
    });
    (speeds, month_rows, units, chart)
}

/// Refused unless the person is 稽催, 系統管理 or a head.
fn may_see(me: &Me) -> Result<(), Refusal> {
    if [Role::FollowUp, Role::Admin, Role::Head]
        .iter()
        .any(|r| me.has(*r))
    {
        return Ok(());
    }
    Err(Refusal::new(
        Code::OfficeNotAllowed,
        "統計限稽催、系統管理人員及機關首長使用",
    ))
}

/// The 時效統計 of the period the form asks for.
/// What a report is computed from: the form read (or why it cannot be), once the person may see
/// the statistics at all.
type Asked<R> = Result<Result<R, FormErrors>, Refusal>;

fn period_of(me: &Me, f: &mut StatsForm) -> Asked<Period> {
    may_see(me)?;
    Ok(read_form(f, me))
}

async fn compute_timely(me: &Me, f: &mut StatsForm) -> Asked<timeliness::Report> {
    let p = match period_of(me, f)? {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let mut r = timeliness::report(&me.app.db, p.from, p.to).await?;
    r.agency = me.app.agency.clone();
    Ok(Ok(r))
}

async fn compute(me: &Me, f: &mut StatsForm) -> Asked<Report> {
    let p = match period_of(me, f)? {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let r = indicators::report(
        &me.app.db,
        &me.app.config.indicators,
        p.from,
        p.to,
        p.before,
    )
    .await?;
    Ok(Ok(r))
}

fn charts(r: &Report) -> (String, String) {
    let months: Vec<&Line> = r.agency_months().collect();
    let label = |l: &Line| {
        l.month
            .as_deref()
            .and_then(Month::parse)
            .map(Month::roc_short)
            .unwrap_or_default()
    };
    let rates: Vec<Bar> = months
        .iter()
        .map(|l| Bar {
            label: label(l),
            value: l.figures.online_rate,
        })
        .collect();
    let days: Vec<Bar> = months
        .iter()
        .map(|l| Bar {
            label: label(l),
            value: l.figures.average_days,
        })
        .collect();
    let target = "減紙目標";
    let rate = chart::bar_chart(&BarChart {
        id: "rate",
        title: "各月線上簽核率",
        desc: &format!(
            "{} 至 {} 各月線上簽核率（%）長條圖，虛線為減紙目標 {}%；數字與下表相同。",
            r.from, r.to, r.target_percent
        ),
        unit: "%",
        bars: &rates,
        target: Some((r.target_percent as f64, target)),
        y_max: Some(100.0),
    });
    let before = r.before.as_ref().and_then(|b| b.average_days);
    let days = chart::bar_chart(&BarChart {
        id: "days",
        title: "各月平均處理天數",
        desc: &format!(
            "{} 至 {} 各月平均處理天數長條圖{}；數字與下表相同。",
            r.from,
            r.to,
            if before.is_some() {
                "，虛線為比較基期的平均天數"
            } else {
                ""
            }
        ),
        unit: "",
        bars: &days,
        target: before.map(|d| (d, "基期")),
        y_max: None,
    });
    (rate, days)
}

async fn page(me: Me, Query(mut f): Query<StatsForm>) -> Result<Response, WebError> {
    let computed = compute(&me, &mut f).await?;
    let mut page = StatsPage {
        site: SITE,
        title: "統計：線上簽核指標",
        who: Some(me.who()),
        f,
        errors: FormErrors::new(),
        query: String::new(),
        columns: &COLUMNS,
        months: Vec::new(),
        total: None,
        units: Vec::new(),
        rate_chart: String::new(),
        days_chart: String::new(),
        postage_twd: i64::from(me.app.config.indicators.postage_twd),
        target: i64::from(me.app.config.indicators.target_paper_reduction),
        before: String::new(),
        timely_columns: &TIMELY_COLUMNS,
        timely_speeds: Vec::new(),
        timely_months: Vec::new(),
        timely_units: Vec::new(),
        timely_chart: String::new(),
        stage_closed: 0,
        stage_rows: Vec::new(),
    };
    let r = match computed {
        Ok(r) => r,
        Err(errors) => {
            page.errors = errors;
            return Err(WebError::page(StatusCode::BAD_REQUEST, &page));
        }
    };
    page.query = page.f.query();
    page.months = r
        .agency_months()
        .map(|l| {
            // As people read months: 115/01 (the export keeps 2026-01).
            let m = l.month.as_deref().unwrap_or_default();
            let head = Month::parse(m).map_or_else(|| m.to_string(), Month::roc_short);
            row(head, l)
        })
        .collect();
    page.total = r.agency_total().map(|l| row("合計".into(), l));
    page.units = r
        .unit_totals()
        .map(|l| row(l.unit_name.clone(), l))
        .collect();
    (page.rate_chart, page.days_chart) = charts(&r);
    let mut tf = page.f.clone();
    if let Ok(t) = compute_timely(&me, &mut tf).await? {
        (
            page.timely_speeds,
            page.timely_months,
            page.timely_units,
            page.timely_chart,
        ) = timely_rows(&t);
    }
    let mut sf = page.f.clone();
    if let Ok(st) = compute_stages(&me, &mut sf).await? {
        page.stage_closed = st.closed;
        page.stage_rows = st
            .stages
            .iter()
            .map(|l| Row {
                head: l.stage_name.to_string(),
                cells: stage_cells(l),
            })
            .collect();
    }
    page.before = match &r.before {
        Some(b) => format!(
            "比較基期 {} 至 {}：結案 {} 件，平均處理天數 {}",
            b.from,
            b.to,
            b.closed,
            show(b.average_days)
        ),
        None => String::new(),
    };
    Ok(gongwen_web::render(StatusCode::OK, &page))
}

/// A stage's cells, as the CSV writes them after its name.
fn stage_cells(l: &stages::StageLine) -> Vec<String> {
    vec![
        l.cases.to_string(),
        show(l.average_days),
        l.max_days
            .map_or_else(|| "—".to_string(), |m| m.to_string()),
        show(l.average_hours),
    ]
}

/// The 各階段處理時間 of the period the form asks for.
async fn compute_stages(me: &Me, f: &mut StatsForm) -> Asked<stages::Report> {
    let p = match period_of(me, f)? {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(stages::report(&me.app.db, p.from, p.to).await?))
}

/// An export: `done` with the report, or the response that says why there is none.
fn exported<R>(asked: Asked<R>, done: impl FnOnce(R) -> Response) -> Response {
    match asked {
        Ok(Ok(r)) => done(r),
        Ok(Err(errors)) => form_error(errors),
        Err(r) => refusal_error(r),
    }
}

/// `/stats/stages.csv`: 各階段處理時間, one line per stage.
async fn stages_csv(me: Me, Query(mut f): Query<StatsForm>) -> Response {
    exported(compute_stages(&me, &mut f).await, |r| {
        gongwen_web::download(&format!("stages-{}-{}.csv", r.from, r.to), stages::csv(&r))
    })
}

async fn stages_json(me: Me, Query(mut f): Query<StatsForm>) -> Response {
    exported(compute_stages(&me, &mut f).await, |r| {
        gongwen_web::download_json(&format!("stages-{}-{}.json", r.from, r.to), &r)
    })
}

/// A refused or wrong period of an export: the reason as text.
fn export_error(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// A wrong period of an export: the form's messages as text.
fn form_error(errors: FormErrors) -> Response {
    export_error(
        StatusCode::BAD_REQUEST,
        errors
            .items()
            .iter()
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// A refused export: the reason as text.
fn refusal_error(r: Refusal) -> Response {
    export_error(
        StatusCode::from_u16(r.code.http_status()).unwrap_or(StatusCode::FORBIDDEN),
        r.detail,
    )
}

/// `/stats/timeliness.csv`: the 時效統計 of the period, one line per month (and 合計), unit
/// and 速別.
async fn timely_csv(me: Me, Query(mut f): Query<StatsForm>) -> Response {
    exported(compute_timely(&me, &mut f).await, |r| {
        gongwen_web::download(
            &format!("timeliness-{}-{}.csv", r.from, r.to),
            timeliness::csv(&r),
        )
    })
}

async fn timely_json(me: Me, Query(mut f): Query<StatsForm>) -> Response {
    exported(compute_timely(&me, &mut f).await, |r| {
        gongwen_web::download_json(&format!("timeliness-{}-{}.json", r.from, r.to), &r)
    })
}

async fn csv(me: Me, Query(mut f): Query<StatsForm>) -> Response {
    exported(compute(&me, &mut f).await, |r| {
        gongwen_web::download(
            &format!("stats-{}-{}.csv", r.from, r.to),
            indicators::csv(&r),
        )
    })
}

async fn json(me: Me, Query(mut f): Query<StatsForm>) -> Response {
    exported(compute(&me, &mut f).await, |r| {
        gongwen_web::download_json(&format!("stats-{}-{}.json", r.from, r.to), &r)
    })
}

#[cfg(test)]
mod tests {
    use super::super::intake::testweb::with_web;
    use super::*;
    use gongwen_store::Db;

    async fn closed_case(db: &Db, id: &str, origin: &str, exclusions: &str, created: i64, at: i64) {
        db.execute(
            "INSERT INTO office_cases (id, origin, subject, matter, urgency, state, unit, exclusions, created_at) VALUES ($1, $2, '主旨', '一般業務', '普通件', 'filed', 'k12', $3, $4)",
            &[id.into(), origin.into(), exclusions.into(), created.into()],
        )
        .await
        .unwrap();
        db.execute(
            "INSERT INTO office_steps (case_id, seq, action, actor, signed, cms, cms_sha256, at) VALUES ($1, 1, 'decide', 'officer', $2, $2, '00', $3)",
            &[id.into(), b"x".as_slice().into(), at.into()],
        )
        .await
        .unwrap();
    }

    /// The cells of the row headed `head` in the page's table `id`.
    fn cells(body: &str, table: &str, head: &str) -> Vec<String> {
        let t = body.split(&format!("id=\"{table}\"")).nth(1).unwrap();
        let t = t.split("</table>").next().unwrap();
        let row = t
            .split("<tr>")
            .find(|r| r.starts_with(&format!("<th scope=\"row\">{head}</th>")))
            .unwrap();
        row.split("<td>")
            .skip(1)
            .map(|c| c.split("</td>").next().unwrap().to_string())
            .collect()
    }

    #[test]
    fn the_page_and_its_exports_show_the_same_numbers() {
        with_web("web-stats", "admin", |w| async move {
            let day = |d: i64| Month::parse("2026-03").unwrap().start_ms() + d * 86_400_000;
            // March: 3 received (one 密件) and 1 created; 4 closed, 2 online → 2 ÷ (3 − 1 + 1).
            closed_case(&w.db, "s1", "exchange", "", day(1), day(3)).await;
            closed_case(&w.db, "s2", "paper", "1", day(2), day(3)).await;
            closed_case(&w.db, "s3", "memo", "", day(4), day(9)).await;
            closed_case(&w.db, "s4", "exchange", "2", day(5), day(6)).await;
            crate::closed::catch_up_all(
                &w.db,
                &gongwen_calendar::WorkCalendar::with_bundled().unwrap(),
            )
            .await
            .unwrap();
            let q = "from=2026-02&to=2026-03&before_from=2025-12&before_to=2026-01";
            let page = w.get(&format!("/stats?{q}")).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            assert!(page.body.contains(r#"role="img""#) && page.body.contains(r#"class="target""#));
            assert!(
                page.body.contains(">66.7%</text>"),
                "the bar carries its value"
            );
            let march = cells(&page.body, "stats-months", "115/03");
            assert_eq!(&march[..6], ["3", "1", "1", "2", "66.7", "4"]);
            // (2 + 1 + 5 + 1) ÷ 4 = 2.25 days; no before figures (nothing closed then).
            assert_eq!(march[6], "2.25");
            assert_eq!(march[7], "—");
            assert_eq!(cells(&page.body, "stats-months", "115/02")[4], "—");
            let unit = cells(&page.body, "stats-units", "國中教育科");
            assert_eq!(unit, march);

            let csv = w.get(&format!("/stats.csv?{q}")).await;
            assert_eq!(csv.status, StatusCode::OK);
            assert!(csv.disposition.contains("stats-2026-02-2026-03.csv"));
            let line = csv
                .body
                .lines()
                .find(|l| l.starts_with("2026-03,,"))
                .unwrap()
                .to_string();
            let fields: Vec<&str> = line.split(',').collect();
            // The CSV's columns are the page's, with 電子布告欄 before 節省郵資; empty for 「—」.
            let mut page_cells: Vec<String> = march
                .iter()
                .map(|c| if c == "—" { String::new() } else { c.clone() })
                .collect();
            page_cells.insert(10, "0".into());
            assert_eq!(
                fields[3..],
                page_cells.iter().map(String::as_str).collect::<Vec<_>>()[..]
            );

            let json = w.get(&format!("/stats.json?{q}")).await;
            assert_eq!(json.status, StatusCode::OK);
            let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
            let lines = v["lines"].as_array().unwrap();
            let m = lines
                .iter()
                .find(|l| l["month"] == "2026-03" && l["unit"].is_null())
                .unwrap();
            assert_eq!(m["online_rate"], 66.7);
            assert_eq!(m["average_days"], 2.25);
            assert_eq!(m["received"], 3);
            assert_eq!(m["online"], 2);
            assert!(m["efficiency"].is_null());
            assert_eq!(v["target_percent"], 30);

            // A period too long is refused with the reason, on the page and in the export.
            let long = w.get("/stats?from=2020-01&to=2026-03").await;
            assert_eq!(long.status, StatusCode::BAD_REQUEST);
            assert!(long.body.contains("最多 24 個月"));
            let bad = w.get("/stats.csv?from=2026-3").await;
            assert_eq!(bad.status, StatusCode::BAD_REQUEST);
            assert!(bad.body.contains("起月須為年月"));
        });
    }

    async fn timed_case(
        db: &Db,
        id: &str,
        urgency: &str,
        kind: Option<&str>,
        due: Option<&str>,
        created: i64,
        at: i64,
    ) {
        db.execute(
            "INSERT INTO office_cases (id, origin, subject, matter, urgency, state, unit, exclusions, created_at, due_day, deadline_kind) VALUES ($1, 'exchange', '主旨', '一般業務', $2, 'filed', 'k12', '', $3, $4, $5)",
            &[id.into(), urgency.into(), created.into(), due.into(), kind.into()],
        )
        .await
        .unwrap();
        db.execute(
            "INSERT INTO office_steps (case_id, seq, action, actor, signed, cms, cms_sha256, at) VALUES ($1, 1, 'dispatch', 'officer', $2, $2, '00', $3)",
            &[id.into(), b"x".as_slice().into(), at.into()],
        )
        .await
        .unwrap();
    }

    /// Two cases closed in March 2026: s1 registered Mon 03-02 09:00, 分文 10:00, 分辦 Tue
    /// 09:00, 陳核 Thu 03-05, 決行 Mon 03-09, 發文 Mon 03-09 15:00; s2 a 創簽 Wed 03-11 09:00,
    /// 陳核 the same day 11:00, 決行 Fri 03-13. Working days after each stage's first day.
    #[test]
    fn the_stages_and_their_exports_show_the_same_numbers() {
        with_web("web-stats-stages", "admin", |w| async move {
            let at = |d: i64, h: i64| {
                Month::parse("2026-03").unwrap().start_ms() + (d - 1) * 86_400_000 + h * 3_600_000
            };
            let steps: [(&str, &[(&str, i64)]); 2] = [
                (
                    "s1",
                    &[
                        ("register", at(2, 9)),
                        ("assign_unit", at(2, 10)),
                        ("assign_officer", at(3, 9)),
                        ("submit", at(5, 9)),
                        ("decide", at(9, 9)),
                        ("dispatch", at(9, 15)),
                    ],
                ),
                (
                    "s2",
                    &[
                        ("create", at(11, 9)),
                        ("submit", at(11, 11)),
                        ("decide", at(13, 9)),
                    ],
                ),
            ];
            for (id, list) in steps {
                w.db.execute(
                    "INSERT INTO office_cases (id, origin, subject, matter, urgency, state, unit, exclusions, created_at) VALUES ($1, 'paper', '主旨', '一般業務', '普通件', 'to_file', 'k12', '', $2)",
                    &[id.into(), list[0].1.into()],
                )
                .await
                .unwrap();
                for (i, (action, t)) in list.iter().enumerate() {
                    w.db.execute(
                        "INSERT INTO office_steps (case_id, seq, action, actor, signed, cms, cms_sha256, at) VALUES ($1, $2, $3, 'officer', $4, $4, '00', $5)",
                        &[id.into(), (i as i64 + 1).into(), (*action).into(), b"x".as_slice().into(), (*t).into()],
                    )
                    .await
                    .unwrap();
                }
            }
            crate::closed::catch_up_all(
                &w.db,
                &gongwen_calendar::WorkCalendar::with_bundled().unwrap(),
            )
            .await
            .unwrap();
            let q = "from=2026-03&to=2026-03";
            let page = w.get(&format!("/stats?{q}")).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            let rows = [
                ("登記→分文", ["1", "0", "0", "1"]),
                ("分文→分辦", ["1", "1", "1", "23"]),
                // s1: Tue → Thu, 2; s2: the same day, 0.
                ("分辦（創簽）→陳核", ["2", "1", "2", "25"]),
                ("送會→會畢", ["0", "—", "—", "—"]),
                // s1: Thu → Mon, 2 (the weekend); s2: Wed → Fri, 2.
                ("陳核→決行", ["2", "2", "2", "71"]),
                ("決行→發文", ["1", "0", "0", "6"]),
            ];
            for (head, want) in rows {
                assert_eq!(cells(&page.body, "stages-table", head), want, "{head}");
            }
            let csv = w.get(&format!("/stats/stages.csv?{q}")).await;
            assert!(csv.disposition.contains("stages-2026-03-2026-03.csv"));
            for (head, want) in rows {
                let line = (csv.body.lines())
                    .find(|l| l.split(',').nth(2) == Some(head))
                    .unwrap();
                let page_cells: Vec<&str> = want
                    .iter()
                    .map(|c| if *c == "—" { "" } else { c })
                    .collect();
                assert_eq!(line.split(',').skip(3).collect::<Vec<_>>(), page_cells);
            }
            let json = w.get(&format!("/stats/stages.json?{q}")).await;
            let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
            assert_eq!(v["closed"], 2);
            assert_eq!(v["stages"][4]["average_days"], 2.0);
            // The period is bounded as everywhere on the page.
            let wrong = w.get("/stats/stages.csv?from=2020-01&to=2026-03").await;
            assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        });
    }

    /// March 2026 in k12: w1 最速件 closed the day it came (½, on time); w2 速件 with no stored
    /// deadline, Fri 03-06 → due Wed 03-11, closed Thu 03-12 (4 working days, late); w3 限期
    /// 03-20, Mon 03-09 → Wed 03-18 (7, on time). 3 closed, 2 on time → 66.7 %, 11.5 ÷ 3 = 3.83.
    #[test]
    fn the_timeliness_section_and_its_exports_show_the_same_numbers() {
        with_web("web-stats-timely", "admin", |w| async move {
            let at = |d: i64, h: i64| {
                Month::parse("2026-03").unwrap().start_ms() + (d - 1) * 86_400_000 + h * 3_600_000
            };
            timed_case(
                &w.db,
                "w1",
                "最速件",
                Some("urgency"),
                Some("2026-03-06"),
                at(5, 9),
                at(5, 15),
            )
            .await;
            timed_case(&w.db, "w2", "速件", None, None, at(6, 9), at(12, 9)).await;
            timed_case(
                &w.db,
                "w3",
                "普通件",
                Some("fixed"),
                Some("2026-03-20"),
                at(9, 9),
                at(18, 9),
            )
            .await;
            crate::closed::catch_up_all(
                &w.db,
                &gongwen_calendar::WorkCalendar::with_bundled().unwrap(),
            )
            .await
            .unwrap();
            let q = "from=2026-03&to=2026-03";
            let page = w.get(&format!("/stats?{q}")).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            assert!(page.body.contains("各月如期結案率"));
            assert!(
                page.body
                    .contains("/stats/timeliness.csv?from=2026-03&amp;to=2026-03")
            );
            let rows = [
                ("最速件", ["1", "1", "0", "0", "100", "0.5"]),
                ("速件", ["1", "0", "1", "0", "0", "4"]),
                ("普通件", ["0", "0", "0", "0", "—", "—"]),
                ("限期", ["1", "1", "0", "0", "100", "7"]),
                ("合計", ["3", "2", "1", "0", "66.7", "3.83"]),
            ];
            for (head, want) in rows {
                assert_eq!(cells(&page.body, "timely-speeds", head), want, "{head}");
            }
            assert!(!page.body.contains("<th scope=\"row\">專案管制</th>"));
            assert_eq!(cells(&page.body, "timely-months", "115/03"), rows[4].1);
            let unit = page.body.split("id=\"timely-units\"").nth(1).unwrap();
            assert!(
                unit.contains("<th scope=\"row\">國中教育科</th><th scope=\"row\">最速件</th>")
            );

            let csv = w.get(&format!("/stats/timeliness.csv?{q}")).await;
            assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
            assert!(csv.disposition.contains("timeliness-2026-03-2026-03.csv"));
            for (head, want) in rows {
                let line = csv
                    .body
                    .lines()
                    .find(|l| l.starts_with("合計,,") && l.split(',').nth(3) == Some(head))
                    .unwrap();
                let page_cells: Vec<&str> = want
                    .iter()
                    .map(|c| if *c == "—" { "" } else { c })
                    .collect();
                assert_eq!(
                    line.split(',').skip(4).collect::<Vec<_>>(),
                    page_cells,
                    "{head}"
                );
            }

            let json = w.get(&format!("/stats/timeliness.json?{q}")).await;
            assert_eq!(json.status, StatusCode::OK);
            let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
            let total = v["lines"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["month"].is_null() && l["unit"].is_null() && l["speed"].is_null())
                .unwrap();
            assert_eq!(total["closed"], 3);
            assert_eq!(total["on_time"], 2);
            assert_eq!(total["late"], 1);
            assert_eq!(total["on_time_rate"], 66.7);
            assert_eq!(total["average_days"], 3.83);

            let bad = w
                .get("/stats/timeliness.json?from=2020-01&to=2026-03")
                .await;
            assert_eq!(bad.status, StatusCode::BAD_REQUEST);
            assert!(bad.body.contains("最多 24 個月"));
        });
    }

    #[test]
    fn an_officer_may_not_see_the_statistics() {
        with_web("web-stats-officer", "officer", |w| async move {
            let page = w.get("/stats").await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
            let csv = w.get("/stats.csv").await;
            assert_eq!(csv.status, StatusCode::FORBIDDEN);
            let timely = w.get("/stats/timeliness.csv").await;
            assert_eq!(timely.status, StatusCode::FORBIDDEN);
            assert!(csv.body.contains("統計限"));
        });
    }
}
