//! `/stats`: the center's statistics page (charts drawn on the server, each with its table),
//! and `/stats.csv`, `/stats.json` with the same numbers. Who may read them is who may read
//! `/metrics`: an address on `metrics_allow`, or the center's operator by client certificate.

use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, middleware};
use gongwen_net::{Peer, Refusal};
use gongwen_proto::Code;
use gongwen_web::chart::{self, Bar, BarChart};
use gongwen_web::{FormErrors, Link, Service, Site, assets, filters};
use serde::Deserialize;

use crate::app::Shared;
use crate::stats::{self, Count, FLOW_COLUMNS, Flow, Period, Report};

/// The center's pages.
pub struct Center;

impl Service for Center {
    const SITE: &'static Site = &Site {
        name: "公文交換中心",
        nav: &[Link::new("/stats", "統計")],
        styles: &[],
        scripts: &[],
    };
}

type WebError = gongwen_web::WebError<Center>;

/// The statistics routes, with the pages' static files and security headers.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/stats", get(page))
        .route("/stats.csv", get(csv))
        .route("/stats.json", get(json))
        .merge(assets::router(&[]))
        .layer(middleware::from_fn_with_state(
            std::sync::Arc::<str>::from(gongwen_net::html::PAGE_POLICY),
            gongwen_net::html::security_headers,
        ))
}

/// The period asked for: a month, or a range of days (all optional: this month to today).
#[derive(Deserialize, Default, Debug, Clone)]
pub struct StatsForm {
    #[serde(default)]
    month: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl StatsForm {
    /// The query string of the period in effect (the export links).
    fn query(&self) -> String {
        format!("from={}&to={}", self.from, self.to)
    }
}

/// The period the form asks for; the form then shows the period in effect.
fn read_form(f: &mut StatsForm, today: time::Date) -> Result<Period, FormErrors> {
    let mut errors = FormErrors::new();
    let mut range = None;
    if !f.month.trim().is_empty() {
        match stats::parse_month(&f.month) {
            Some(first) => {
                let next = first
                    .replace_day(28)
                    .ok()
                    .and_then(|d| d.checked_add(time::Duration::days(4)))
                    .and_then(|d| d.replace_day(1).ok());
                let last = next.and_then(|n| n.previous_day()).unwrap_or(first);
                range = Some((first, last));
            }
            None => errors.push(Some("month"), "月份須為年月（YYYY-MM）"),
        }
    } else {
        let mut day = |field: &'static str, label: &str, v: &str| match v.trim() {
            "" => None,
            s => {
                let d = stats::parse_day(s);
                if d.is_none() {
                    errors.push(Some(field), format!("{label}須為日期（YYYY-MM-DD）"));
                }
                d
            }
        };
        let to = day("to", "迄日", &f.to.clone());
        let from = day("from", "起日", &f.from.clone());
        let to = to.unwrap_or(today);
        let from = from.unwrap_or_else(|| Period::this_month(to).from);
        range = Some((from, to));
    }
    let period = match range {
        Some((from, to)) if errors.is_empty() => match Period::new(from, to) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(Some("from"), e.detail);
                None
            }
        },
        _ => None,
    };
    match period {
        Some(p) => {
            f.from = stats::iso(p.from);
            f.to = stats::iso(p.to);
            Ok(p)
        }
        None => Err(errors),
    }
}

/// Who may read `/metrics` and `/stats`: an address on `metrics_allow` (default this machine), or the
/// center's operator by client certificate.
pub(crate) async fn allowed(app: &Shared, peer: Option<&Peer>) -> Result<(), Refusal> {
    let Some(peer) = peer else {
        return Err(Refusal::bare(Code::AuthNoCert));
    };
    if app
        .config
        .metrics_allow
        .iter()
        .any(|rule| gongwen_proto::directory::ip_matches(rule, peer.ip))
    {
        return Ok(());
    }
    match app.caller(peer).await {
        Ok(c) if c.operator => Ok(()),
        _ => Err(Refusal::new(
            Code::AuthNotOperator,
            format!(
                "/metrics 與 /stats 限 metrics_allow 所列位址或交換中心管理者的用戶端憑證；{} 不在其中",
                peer.ip
            ),
        )),
    }
}

async fn compute(app: &Shared, f: &mut StatsForm) -> Result<Result<Report, FormErrors>, Refusal> {
    let now = app.clock.now_ms();
    let p = match read_form(f, stats::day_of(now)) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let cal = crate::duty::load_calendar(&app.db).await?;
    Ok(Ok(stats::report(&app.db, &cal, now, p).await?))
}

/// One row of a table, as printed.
pub struct Row {
    pub head: String,
    pub cells: Vec<i64>,
}

/// A day or month as people read it: 115/12/03, 115/12.
fn roc_period(period: &str) -> String {
    let mut it = period.split('-');
    let y: i32 = it.next().and_then(|y| y.parse().ok()).unwrap_or(1911);
    let rest: Vec<&str> = it.collect();
    if rest.is_empty() {
        return period.to_string();
    }
    format!("{}/{}", y - 1911, rest.join("/"))
}

fn flow_row(f: &Flow) -> Row {
    Row {
        head: if f.period == "合計" {
            f.period.clone()
        } else {
            roc_period(&f.period)
        },
        cells: f.cells().to_vec(),
    }
}

#[derive(Template)]
#[template(path = "center/stats.html")]
struct StatsPage {
    site: &'static Site,
    title: &'static str,
    f: StatsForm,
    errors: FormErrors,
    query: String,
    columns: Vec<&'static str>,
    /// Daily rows when the period is short enough to chart its days, else monthly ones.
    by_day: bool,
    flows: Vec<Row>,
    months: Vec<Row>,
    total: Option<Row>,
    /// 電子交換與紙本: the period's copies exchanged and printed, in words.
    share: String,
    returns: Vec<Count>,
    failures: Vec<Count>,
    refusals: Vec<Count>,
    hours: Vec<Count>,
    duty: Vec<(&'static str, i64)>,
    participants: Vec<stats::Open>,
    open_now: i64,
    overdue_now: i64,
    overdue_before: i64,
    counted_at: Option<i64>,
    as_of: i64,
    flow_chart: String,
    duty_chart: String,
    hours_chart: String,
    returns_chart: String,
    overdue_chart: String,
}

fn bars(items: impl Iterator<Item = (String, i64)>) -> Vec<Bar> {
    items
        .map(|(label, n)| Bar {
            label,
            value: Some(n as f64),
        })
        .collect()
}

fn draw(id: &str, title: &str, desc: &str, unit: &str, bars: &[Bar]) -> String {
    chart::bar_chart(&BarChart {
        id,
        title,
        desc,
        unit,
        bars,
        target: None,
        y_max: None,
    })
}

impl StatsPage {
    fn new(f: StatsForm) -> StatsPage {
        StatsPage {
            site: Center::SITE,
            title: "交換中心統計",
            f,
            errors: FormErrors::new(),
            query: String::new(),
            columns: FLOW_COLUMNS.iter().map(|(_, h)| *h).collect(),
            by_day: true,
            flows: Vec::new(),
            months: Vec::new(),
            total: None,
            share: String::new(),
            returns: Vec::new(),
            failures: Vec::new(),
            refusals: Vec::new(),
            hours: Vec::new(),
            duty: Vec::new(),
            participants: Vec::new(),
            open_now: 0,
            overdue_now: 0,
            overdue_before: 0,
            counted_at: None,
            as_of: 0,
            flow_chart: String::new(),
            duty_chart: String::new(),
            hours_chart: String::new(),
            returns_chart: String::new(),
            overdue_chart: String::new(),
        }
    }

    fn fill(&mut self, r: Report) {
        self.query = self.f.query();
        self.by_day = r.days.len() <= chart::MAX_BARS;
        let shown = if self.by_day { &r.days } else { &r.months };
        self.flows = shown.iter().map(flow_row).collect();
        self.months = r.months.iter().map(flow_row).collect();
        self.total = Some(flow_row(&r.total));
        let t = &r.total;
        self.share = match t.electronic_share() {
            Some(p) => format!(
                "期間內電子交換 {} 份、紙本列印 {} 份（機關代理程式通報），電子交換占 {p}%。",
                t.accepted, t.paper
            ),
            None => "期間內沒有交換或紙本列印的公文。".to_string(),
        };
        let unit = if self.by_day { "日" } else { "月" };
        self.flow_chart = draw(
            "flow",
            &format!("各{unit}收件份數"),
            &format!(
                "{} 至 {} 各{unit}收件份數長條圖；數字與下表相同。",
                r.from, r.to
            ),
            "",
            &bars(shown.iter().map(|f| {
                let label = roc_period(&f.period);
                // 12/03 under a day's bar, 115/12 under a month's.
                let short = if self.by_day {
                    label
                        .split_once('/')
                        .map(|x| x.1.to_string())
                        .unwrap_or(label)
                } else {
                    label
                };
                (short, f.accepted)
            })),
        );
        let d = &r.duty;
        self.duty = vec![
            ("如期確認", d.confirmed_on_time),
            ("逾期確認", d.confirmed_late),
            ("尚未確認", d.open),
            ("尚未確認且已逾期", d.open_overdue),
        ];
        self.duty_chart = draw(
            "duty",
            "收文確認時效",
            "期間內如期確認、逾期確認，以及期間內送交而尚未確認（其中已逾期）的份數長條圖；數字與下表相同。",
            "",
            &bars(self.duty.iter().map(|(l, n)| (l.to_string(), *n))),
        );
        self.hours_chart = draw(
            "hours",
            "各時段收件份數",
            "期間內每日各小時（臺北時間）收件份數合計的長條圖；數字與下表相同。",
            "",
            &bars(r.hours.iter().map(|c| (c.key.clone(), c.n))),
        );
        self.returns_chart = if r.returns.is_empty() {
            String::new()
        } else {
            draw(
                "returns",
                "退文原因",
                "期間內退文份數依原因的長條圖；數字與下表相同。",
                "",
                &bars(r.returns.iter().map(|c| (c.label.clone(), c.n))),
            )
        };
        let most: Vec<&stats::Open> = r
            .participants
            .iter()
            .filter(|p| p.overdue > 0)
            .take(10)
            .collect();
        self.overdue_chart = if most.is_empty() {
            String::new()
        } else {
            draw(
                "overdue",
                "逾期未確認份數最多的參與者",
                "目前逾期未確認份數最多的參與者（至多 10 個，依機關代碼標示）長條圖；數字與下表相同。",
                "",
                &bars(most.iter().map(|p| (p.code.clone(), p.overdue))),
            )
        };
        self.returns = r.returns;
        self.failures = r.failures;
        self.refusals = r.refusals;
        self.hours = r.hours;
        self.participants = r.participants;
        self.open_now = r.open_now;
        self.overdue_now = r.overdue_now;
        self.overdue_before = r.overdue_before;
        self.counted_at = r.counted_at;
        self.as_of = r.as_of;
    }
}

async fn page(
    State(app): State<Shared>,
    peer: Option<Extension<Peer>>,
    q: Result<Query<StatsForm>, QueryRejection>,
) -> Result<Response, WebError> {
    allowed(&app, peer.as_deref()).await?;
    let mut f = q.map(|q| q.0).unwrap_or_default();
    let computed = compute(&app, &mut f).await?;
    let mut page = StatsPage::new(f);
    match computed {
        Ok(r) => page.fill(r),
        Err(errors) => {
            page.errors = errors;
            return Err(WebError::page(StatusCode::BAD_REQUEST, &page));
        }
    }
    Ok(gongwen_web::render(StatusCode::OK, &page))
}

/// The report of an export, or the answer that says why there is none (the API's JSON error).
async fn export(
    app: &Shared,
    peer: Option<&Peer>,
    q: Result<Query<StatsForm>, QueryRejection>,
) -> Result<Report, Response> {
    allowed(app, peer)
        .await
        .map_err(IntoResponse::into_response)?;
    let mut f = q
        .map_err(|e| {
            Refusal::new(Code::BadRequest, format!("查詢參數：{}", e.body_text())).into_response()
        })?
        .0;
    match compute(app, &mut f).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(errors)) => Err(Refusal::new(
            Code::BadRequest,
            errors
                .items()
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("；"),
        )
        .into_response()),
        Err(r) => Err(r.into_response()),
    }
}

async fn csv(
    State(app): State<Shared>,
    peer: Option<Extension<Peer>>,
    q: Result<Query<StatsForm>, QueryRejection>,
) -> Response {
    match export(&app, peer.as_deref(), q).await {
        Ok(r) => gongwen_web::download(
            &format!("center-stats-{}-{}.csv", r.from, r.to),
            stats::csv(&r),
        ),
        Err(resp) => resp,
    }
}

async fn json(
    State(app): State<Shared>,
    peer: Option<Extension<Peer>>,
    q: Result<Query<StatsForm>, QueryRejection>,
) -> Response {
    match export(&app, peer.as_deref(), q).await {
        Ok(r) => gongwen_web::download_json(&format!("center-stats-{}-{}.json", r.from, r.to), &r),
        Err(resp) => resp,
    }
}
