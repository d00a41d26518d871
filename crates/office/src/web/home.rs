//! 工作清單: the worklists of the person's roles (seed 003's training table) and of those
//! they deputise for today (marked 「代」); in each, due and overdue cases first.

use askama::Template;
use axum::Router;
use axum::routing::get;
use gongwen_web::{Page, Site, filters};

use super::{Me, SITE, Web, WebError, Who};
use crate::cases::{self, WorkItem};
use crate::deadlines::{self, Standing};

/// Cases shown per worklist; the search page finds the rest.
const PER_LIST: i64 = 200;

pub fn routes() -> Router<Web> {
    Router::new().route("/", get(show))
}

/// One line of a worklist, with its due day.
pub struct Line {
    pub item: WorkItem,
    /// 限辦日 as people read it.
    pub due: String,
    pub standing: Standing,
}

impl Line {
    pub fn class(&self) -> &'static str {
        match self.standing {
            Standing::Overdue => "overdue",
            Standing::DueSoon => "due-soon",
            Standing::InTime => "",
        }
    }

    pub fn standing_label(&self) -> &'static str {
        match self.standing {
            Standing::Overdue => "逾期",
            Standing::DueSoon => "即將到期",
            Standing::InTime => "",
        }
    }
}

pub struct List {
    pub name: String,
    /// The id of its heading (for the skip links at the top).
    pub anchor: String,
    pub lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "office/home.html")]
struct HomePage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    roles: String,
    /// Today's 稽催 reminder (`crate::reminders`), empty when there is nothing to chase.
    reminder: String,
    /// Whether the person may open the 稽催 list.
    followup: bool,
    lists: Vec<List>,
}

async fn show(me: Me) -> Result<Page<HomePage>, WebError> {
    let app = &me.app;
    let today_ms = app.clock.now_ms();
    let today = deadlines::day_of(today_ms);
    let found = cases::worklists_for(&app.db, &me.person.id, &me.today(), PER_LIST)
        .await
        .map_err(gongwen_net::Refusal::from)?;
    let lists = found
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            let mut lines: Vec<Line> = (w.items.into_iter())
                .map(|item| {
                    // As stored by the case's steps; a case from before, by its 速別.
                    let due = (item.due_day.as_deref())
                        .and_then(crate::timing::parse_day)
                        .or_else(|| deadlines::due(&app.calendar, item.created_at, &item.urgency));
                    let standing = match (due, today) {
                        (Some(d), Some(t)) => deadlines::standing(&app.calendar, d, t),
                        _ => Standing::InTime,
                    };
                    Line {
                        due: due.map(gongwen_calendar::roc_date).unwrap_or_default(),
                        standing,
                        item,
                    }
                })
                .collect();
            // Overdue first, then due soon; within each, oldest first (as listed).
            lines.sort_by_key(|l| l.standing);
            List {
                name: w.name,
                anchor: format!("list-{i}"),
                lines,
            }
        })
        .collect();
    let roles = me
        .roles
        .iter()
        .map(|(r, _)| r.label())
        .collect::<Vec<_>>()
        .join("、");
    let reminder = match today {
        Some(t) => {
            let until = crate::timing::iso(deadlines::soon_until(&app.calendar, t));
            crate::reminders::for_person(&app.db, &me.person.id, &crate::timing::iso(t), &until)
                .await
                .map_err(gongwen_net::Refusal::from)?
                .line()
        }
        None => String::new(),
    };
    Ok(Page(HomePage {
        site: SITE,
        title: "工作清單",
        reminder,
        followup: me.roles.iter().any(|(r, _)| {
            matches!(
                r,
                crate::org::Role::FollowUp | crate::org::Role::Supervisor | crate::org::Role::Head
            )
        }),
        who: Some(me.who()),
        roles,
        lists,
    }))
}
