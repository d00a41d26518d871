//! 統計: the signed-in organisation's own numbers — sent and received per month and per day,
//! how quickly 簽收 follows delivery, returns, copies printed for paper — with charts, and the
//! same numbers as CSV and JSON. Only the session's organisation is ever counted.

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gongwen_web::chart::{self, Bar, BarChart};
use gongwen_web::{FormErrors, Site, filters};
use serde::Deserialize;

use super::{Refused, SITE, SignedIn, Who};
use crate::stats::{self, Line, Month, Report};

#[derive(Deserialize, Default)]
pub struct StatsQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

#[derive(Template)]
#[template(path = "agent/stats.html")]
pub struct StatsPage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    from: String,
    to: String,
    errors: FormErrors,
    /// `None` when the period asked for is refused.
    r: Option<Report>,
    query: String,
    /// The last month, as people read it.
    last_month: String,
    /// Inline SVG, escaped by `chart`.
    months_chart: String,
    days_chart: String,
    within_chart: String,
}

fn label(l: &Line) -> String {
    Month::parse(&l.period).map_or_else(|| l.period.clone(), Month::roc)
}

async fn report(me: &SignedIn, q: &StatsQuery) -> Result<Report, gongwen_net::Refusal> {
    let now = me.node.clock.now_ms();
    let (from, to) = stats::period(&q.from, &q.to, now)?;
    stats::report(&me.node.db, me.agency().code.as_str(), from, to, now).await
}

pub async fn page(me: SignedIn, Query(q): Query<StatsQuery>) -> Result<Response, Refused> {
    let mut page = StatsPage {
        site: SITE,
        title: "統計",
        who: me.who(),
        from: q.from.trim().chars().take(16).collect(),
        to: q.to.trim().chars().take(16).collect(),
        errors: FormErrors::new(),
        r: None,
        query: String::new(),
        last_month: String::new(),
        months_chart: String::new(),
        days_chart: String::new(),
        within_chart: String::new(),
    };
    let r = match report(&me, &q).await {
        Ok(r) => r,
        Err(e) if e.code == gongwen_proto::Code::BadRequest => {
            page.errors.push(Some("from"), e.detail);
            return Ok(gongwen_web::render(StatusCode::BAD_REQUEST, &page));
        }
        Err(e) => return Err(me.refuse(e)),
    };
    let (from, to) = (
        Month::parse(&r.from).unwrap_or(Month::of_ms(r.as_of)),
        Month::parse(&r.to).unwrap_or(Month::of_ms(r.as_of)),
    );
    let desc = format!("{} 至 {}；數字與下表相同。", from.roc(), to.roc());
    let received: Vec<Bar> = r
        .months
        .iter()
        .map(|l| Bar {
            label: label(l),
            value: Some(l.received as f64),
        })
        .collect();
    page.months_chart = chart::bar_chart(&BarChart {
        id: "received",
        title: "各月收文數",
        desc: &format!("各月收文件數長條圖，{desc}"),
        unit: "",
        bars: &received,
        target: None,
        y_max: None,
    });
    let sent: Vec<Bar> = r
        .days
        .iter()
        .map(|l| Bar {
            label: l.period.get(8..).unwrap_or_default().to_string(),
            value: Some(l.sent as f64),
        })
        .collect();
    page.days_chart = chart::bar_chart(&BarChart {
        id: "sent-days",
        title: &format!("{} 每日發文數", to.roc()),
        desc: &format!("{} 每日發文件數長條圖；數字與下表相同。", to.roc()),
        unit: "",
        bars: &sent,
        target: None,
        y_max: None,
    });
    let within = [
        Bar {
            label: "期限內簽收".into(),
            value: Some(r.confirm.within_due as f64),
        },
        Bar {
            label: "逾期簽收".into(),
            value: Some((r.confirm.count - r.confirm.within_due) as f64),
        },
    ];
    page.within_chart = chart::bar_chart(&BarChart {
        id: "within",
        title: "簽收是否在次一工作日上午 10 時前",
        desc: &format!("期間內收到並已簽收的公文，期限內與逾期的件數長條圖，{desc}"),
        unit: "",
        bars: &within,
        target: None,
        y_max: None,
    });
    page.from = r.from.clone();
    page.to = r.to.clone();
    page.last_month = to.roc();
    page.query = format!("from={}&to={}", r.from, r.to);
    page.r = Some(r);
    Ok(gongwen_web::render(StatusCode::OK, &page))
}

pub async fn json(me: SignedIn, Query(q): Query<StatsQuery>) -> Response {
    match report(&me, &q).await {
        Ok(r) => axum::Json(r).into_response(),
        Err(e) => e.into_response(),
    }
}

pub async fn csv(me: SignedIn, Query(q): Query<StatsQuery>) -> Response {
    match report(&me, &q).await {
        Ok(r) => gongwen_web::download(&format!("統計-{}-{}.csv", r.from, r.to), stats::csv(&r)),
        Err(e) => e.into_response(),
    }
}
