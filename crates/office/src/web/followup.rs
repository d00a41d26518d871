//! 稽催 (SIGNOFF.md): the cases overdue and due soon, counted per officer, per unit and for the
//! agency, from each case's stored 限辦日期; and a printable 稽催單 for each overdue case.
//! For 稽催、時效考核人員 and the head of the agency (every case), and supervisors (their units
//! and those under them).
//!
//! - `GET /followup` (`?page=`): the counts and the list, earliest due first;
//! - `GET /followup/{case}`: the 稽催單 of one case.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query};
use axum::routing::get;
use gongwen_calendar::roc_date;
use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_web::{Page, Site};
use serde::Deserialize;
use time::Date;

use super::{Me, SITE, Web, WebError, Who};
use crate::cases::{self, ChaseBy, ChaseScope};
use crate::org::{self, Role};
use crate::timing;

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/followup", get(list))
        .route("/followup/{case}", get(slip))
}

/// Whose cases `me` follows up: every case (稽催 staff, the head), their units' (supervisors),
/// or none (refused).
async fn scope(me: &Me) -> Result<ChaseScope, Refusal> {
    if me.has(Role::FollowUp) || me.has(Role::Head) {
        return Ok(ChaseScope::All);
    }
    if !me.has(Role::Supervisor) {
        return Err(Refusal::new(
            Code::OfficeNotAllowed,
            "稽催清單限稽催、時效考核人員與單位主管使用",
        ));
    }
    let units = org::units(&me.app.db).await?;
    let supervised: Vec<(Role, String)> = (me.roles.iter())
        .filter(|(r, _)| *r == Role::Supervisor)
        .cloned()
        .collect();
    let mut mine = super::search::visible_units("", &supervised, &units);
    mine.retain(|u| !u.is_empty());
    Ok(ChaseScope::Units(mine))
}

/// One line of the list.
pub struct ChaseLine {
    pub id: String,
    pub subject: String,
    pub urgency: String,
    pub state: &'static str,
    pub unit: String,
    pub officer: String,
    pub due: String,
    /// Working days overdue; 0: due soon.
    pub late: u32,
}

/// One count of the list.
pub struct CountLine {
    pub name: String,
    pub overdue: i64,
    pub due_soon: i64,
}

#[derive(Template)]
#[template(path = "office/followup.html")]
struct ListPage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    scope: &'static str,
    today: String,
    /// The missing office calendar ([`calendar_warning`]).
    warning: String,
    agency: CountLine,
    units: Vec<CountLine>,
    officers: Vec<CountLine>,
    lines: Vec<ChaseLine>,
    page: i64,
    prev: String,
    next: String,
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    page: String,
}

/// Names of people and units, each read once per page.
#[derive(Default)]
struct Names(std::collections::HashMap<String, String>);

impl Names {
    async fn person(&mut self, db: &gongwen_store::Db, id: Option<&str>) -> String {
        let Some(id) = id else {
            return "（未分辦）".to_string();
        };
        if let Some(n) = self.0.get(&format!("p:{id}")) {
            return n.clone();
        }
        let n = org::person(db, id)
            .await
            .map_or_else(|_| id.to_string(), |p| p.display());
        self.0.insert(format!("p:{id}"), n.clone());
        n
    }

    async fn unit(&mut self, db: &gongwen_store::Db, id: Option<&str>) -> String {
        let Some(id) = id else {
            return "（未分文）".to_string();
        };
        if let Some(n) = self.0.get(&format!("u:{id}")) {
            return n.clone();
        }
        let n = org::unit(db, id)
            .await
            .map_or_else(|_| id.to_string(), |u| u.name);
        self.0.insert(format!("u:{id}"), n.clone());
        n
    }
}

/// The warning the operator's pages show while this year's or next year's office calendar is
/// missing (empty when none is): deadlines that reach such a year are not counted.
pub(super) async fn calendar_warning(app: &crate::serve::App) -> Result<String, Refusal> {
    let Some(today) = crate::deadlines::day_of(app.clock.now_ms()) else {
        return Ok(String::new());
    };
    let years = crate::deadlines::uncovered_years(&app.calendar, today);
    if years.is_empty() {
        return Ok(String::new());
    }
    let waiting = cases::count_without_due_day(&app.db)
        .await
        .map_err(Refusal::from)?;
    let names: Vec<String> = years
        .iter()
        .map(|y| gongwen_calendar::roc_year(*y))
        .collect();
    Ok(format!(
        "辦公日曆缺少{}：限辦日期落在該年的案件暫不計算（目前 {waiting} 件辦理中案件尚無限辦日期）。\
         請以 gongwen calendar import 檢查該年的政府行政機關辦公日曆表，加入設定檔 [office] calendars 後重新啟動，系統即補上限辦日期。",
        names.join("、")
    ))
}

fn today_of(me: &Me) -> Result<Date, Refusal> {
    crate::deadlines::day_of(me.app.clock.now_ms())
        .ok_or_else(|| Refusal::new(Code::Internal, "無法取得今日日期"))
}

async fn list(me: Me, Query(q): Query<ListQuery>) -> Result<Page<ListPage>, WebError> {
    let scope = scope(&me).await?;
    let app = &me.app;
    let db = &app.db;
    let cal = &app.calendar;
    let today = today_of(&me)?;
    let warning = calendar_warning(app).await?;
    let (t, until) = (
        timing::iso(today),
        timing::iso(crate::deadlines::soon_until(cal, today)),
    );
    let page = q
        .page
        .trim()
        .parse::<i64>()
        .unwrap_or(1)
        .clamp(1, cases::CHASE_MAX_PAGE);
    let found = cases::chase_list(db, &scope, &until, page)
        .await
        .map_err(Refusal::from)?;
    let mut names = Names::default();
    let mut counts = Vec::new();
    for by in [ChaseBy::Agency, ChaseBy::Unit, ChaseBy::Officer] {
        let rows = cases::chase_counts(db, &scope, &t, &until, by)
            .await
            .map_err(Refusal::from)?;
        let mut out = Vec::new();
        for r in rows {
            let name = match by {
                ChaseBy::Agency => String::new(),
                ChaseBy::Unit => names.unit(db, r.key.as_deref()).await,
                ChaseBy::Officer => names.person(db, r.key.as_deref()).await,
            };
            out.push(CountLine {
                name,
                overdue: r.overdue,
                due_soon: r.due_soon,
            });
        }
        counts.push(out);
    }
    let officers = counts.pop().unwrap_or_default();
    let units = counts.pop().unwrap_or_default();
    let agency = counts.pop().and_then(|mut a| a.pop()).unwrap_or(CountLine {
        name: String::new(),
        overdue: 0,
        due_soon: 0,
    });
    let mut lines = Vec::new();
    for c in found.items {
        let due = timing::parse_day(&c.due_day);
        lines.push(ChaseLine {
            late: due.map_or(0, |d| timing::days_overdue(cal, d, today)),
            due: due.map(roc_date).unwrap_or(c.due_day),
            unit: names.unit(db, c.unit.as_deref()).await,
            officer: names.person(db, c.officer.as_deref()).await,
            state: c.state.label(),
            id: c.id,
            subject: c.subject,
            urgency: c.urgency,
        });
    }
    let link = |p: i64| format!("/followup?page={p}");
    Ok(Page(ListPage {
        site: SITE,
        title: "稽催清單",
        warning,
        who: Some(me.who()),
        scope: match scope {
            ChaseScope::All => "全機關",
            ChaseScope::Units(_) => "您主管的單位及其所屬單位",
            ChaseScope::Officer(_) => "您承辦的案件",
        },
        today: roc_date(today),
        agency,
        units,
        officers,
        lines,
        prev: if page > 1 {
            link(page - 1)
        } else {
            String::new()
        },
        next: if found.more {
            link(page + 1)
        } else {
            String::new()
        },
        page,
    }))
}

#[derive(Template)]
#[template(path = "office/followup_slip.html")]
struct SlipPage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    agency: String,
    today: String,
    rows: Vec<(&'static str, String)>,
    late: u32,
}

/// 稽催單: one overdue case, printed for its officer and unit head to answer.
async fn slip(me: Me, Path(id): Path<String>) -> Result<Page<SlipPage>, WebError> {
    let scope = scope(&me).await?;
    let app = &me.app;
    let db = &app.db;
    let c = cases::case(db, &id).await.map_err(Refusal::from)?;
    if let ChaseScope::Units(units) = &scope
        && !c.unit.as_ref().is_some_and(|u| units.contains(u))
    {
        return Err(Refusal::new(
            Code::OfficeNotAllowed,
            format!("案件「{id}」不屬於您主管的單位"),
        )
        .into());
    }
    let today = today_of(&me)?;
    let due = timing::due_of(&app.calendar, &c)
        .ok_or_else(|| Refusal::new(Code::OfficeState, format!("案件「{id}」沒有限辦日期")))?;
    let late = timing::days_overdue(&app.calendar, due, today);
    if !cases::RUNNING.contains(&c.state) || late == 0 {
        return Err(Refusal::new(
            Code::OfficeState,
            format!("案件「{id}」未逾期（{}），不需稽催單", c.state.label()),
        )
        .into());
    }
    let mut names = Names::default();
    let kind = (c.deadline_kind.as_deref())
        .and_then(timing::DeadlineKind::parse)
        .map_or("依速別", |k| k.label());
    let mut rows = vec![
        ("文號", c.id.clone()),
        ("主旨", c.subject.clone()),
        ("來源", c.origin.label().to_string()),
        ("速別", c.urgency.clone()),
        (
            "收（創）文日",
            roc_date(crate::deadlines::day_of(c.created_at).unwrap_or(today)),
        ),
        ("限辦日期", format!("{}（{kind}）", roc_date(due))),
        ("逾期", format!("{late} 個工作天")),
        ("主辦單位", names.unit(db, c.unit.as_deref()).await),
        ("承辦人", names.person(db, c.officer.as_deref()).await),
        ("目前在", names.person(db, c.holder.as_deref()).await),
        ("狀態", c.state.label().to_string()),
    ];
    if let Some(n) = &c.receipt_number {
        rows.push(("收文字號", n.clone()));
    }
    if c.extensions > 0 {
        rows.push((
            "展期",
            format!("{} 次，共 {} 個工作天", c.extensions, c.extension_days),
        ));
    }
    Ok(Page(SlipPage {
        site: SITE,
        title: "稽催單",
        who: Some(me.who()),
        agency: app.agency.clone(),
        today: roc_date(today),
        rows,
        late,
    }))
}
