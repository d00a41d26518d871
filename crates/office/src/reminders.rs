//! 稽催 reminders (SIGNOFF.md: officers see their own due and overdue cases first, then the
//! document unit chases): what a person is reminded of today — the running cases they handle,
//! and, for a unit head, those of the units they head — shown on their worklist, and sent once
//! a working day by e-mail where the agency set an SMTP server (`[office.mail]`).
//!
//! A mail names counts only, never a subject or any other text of a document: mail leaves the
//! agency's systems.

use gongwen_calendar::{WorkCalendar, roc_date};
use gongwen_net::mail::Mailer;
use gongwen_store::Db;
use time::Date;

use crate::OfficeError;
use crate::cases::{self, ChaseBy, ChaseScope};
use crate::org::{self, Role};

/// Overdue and due-soon running cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub overdue: i64,
    pub due_soon: i64,
}

impl Counts {
    pub fn any(&self) -> bool {
        self.overdue > 0 || self.due_soon > 0
    }
}

/// What one person is reminded of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reminder {
    /// The cases they handle (承辦).
    pub own: Counts,
    /// The cases of the units they head, if they head any.
    pub units: Option<Counts>,
}

impl Reminder {
    pub fn any(&self) -> bool {
        self.own.any() || self.units.is_some_and(|u| u.any())
    }

    /// The reminder in one line, for the worklist.
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        if self.own.any() {
            parts.push(format!(
                "您承辦的案件逾期 {} 件、即將到期 {} 件",
                self.own.overdue, self.own.due_soon
            ));
        }
        if let Some(u) = self.units.filter(Counts::any) {
            parts.push(format!(
                "您主管的單位逾期 {} 件、即將到期 {} 件",
                u.overdue, u.due_soon
            ));
        }
        parts.join("；")
    }
}

async fn counts(
    db: &Db,
    scope: &ChaseScope,
    today: &str,
    until: &str,
) -> Result<Counts, OfficeError> {
    let rows = cases::chase_counts(db, scope, today, until, ChaseBy::Agency).await?;
    Ok(rows.first().map_or(Counts::default(), |r| Counts {
        overdue: r.overdue,
        due_soon: r.due_soon,
    }))
}

/// `person`'s reminder on `today` (`YYYY-MM-DD`; due soon up to `until`).
pub async fn for_person(
    db: &Db,
    person: &str,
    today: &str,
    until: &str,
) -> Result<Reminder, OfficeError> {
    let own = counts(db, &ChaseScope::Officer(person.to_string()), today, until).await?;
    let mut headed = Vec::new();
    let mut head_of_agency = false;
    for (role, unit) in org::roles(db, person).await? {
        match role {
            Role::Head => head_of_agency = true,
            Role::Supervisor => {
                for u in org::subtree(db, &unit).await? {
                    if !headed.contains(&u) {
                        headed.push(u);
                    }
                }
            }
            _ => {}
        }
    }
    let units = if head_of_agency {
        Some(counts(db, &ChaseScope::All, today, until).await?)
    } else if headed.is_empty() {
        None
    } else {
        Some(counts(db, &ChaseScope::Units(headed), today, until).await?)
    };
    Ok(Reminder { own, units })
}

/// The mail of a reminder: subject and plain-text body, counts only.
pub fn mail(name: &str, r: &Reminder, today: Date, site: &str) -> (String, String) {
    let mut total = r.own;
    if let Some(u) = r.units {
        total.overdue = total.overdue.max(u.overdue);
        total.due_soon = total.due_soon.max(u.due_soon);
    }
    let subject = format!(
        "公文稽催提醒：逾期 {} 件、即將到期 {} 件（{}）",
        total.overdue,
        total.due_soon,
        roc_date(today)
    );
    let mut body = format!(
        "{name} 您好：\n\n依公文管理系統{}的紀錄：\n",
        roc_date(today)
    );
    body += &format!(
        "- 您承辦的案件：逾期 {} 件，即將到期（兩個工作天內）{} 件。\n",
        r.own.overdue, r.own.due_soon
    );
    if let Some(u) = r.units {
        body += &format!(
            "- 您主管的單位（含所屬單位）：逾期 {} 件，即將到期 {} 件。\n",
            u.overdue, u.due_soon
        );
    }
    // The 稽催 list is for heads; an officer's own cases are on the worklist.
    let (what, path) = if r.units.is_some() {
        ("工作清單與稽催清單", "/followup")
    } else {
        ("工作清單", "/")
    };
    body += &format!("\n請登入公文管理系統，查看{what}");
    if !site.is_empty() {
        body += &format!("：{}{path}", site.trim_end_matches('/'));
    }
    body +=
        "。\n\n（本郵件由公文管理系統自動寄出，只列件數，不含公文內容；每個工作天最多一封。）\n";
    (subject, body)
}

/// Minutes before a failed mail is tried again.
const RETRY_AFTER_MS: i64 = 10 * 60 * 1000;

/// What one round of [`send_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    pub sent: usize,
    pub failed: usize,
    /// People with nothing to be reminded of today (no mail).
    pub nothing: usize,
}

/// Sends today's reminders that are due: on a working day from `at` (`HH:MM`, Taipei), one
/// mail per person with an address and something overdue or due soon, recorded so that a
/// restart or the next round never mails twice; a failure is tried again after ten minutes.
pub async fn send_due(
    db: &Db,
    mailer: &Mailer,
    cal: &WorkCalendar,
    now_ms: i64,
    at: &str,
    site: &str,
) -> Result<Sent, OfficeError> {
    let mut out = Sent::default();
    let Some(now) = time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000))
        .ok()
        .map(|t| t.to_offset(gongwen_calendar::TAIPEI_OFFSET))
    else {
        return Ok(out);
    };
    let today = now.date();
    if !cal.is_working_day(today) || format!("{:02}:{:02}", now.hour(), now.minute()).as_str() < at
    {
        return Ok(out);
    }
    let day = crate::timing::iso(today);
    let until = crate::timing::iso(crate::deadlines::soon_until(cal, today));
    let done = db
        .fetch_all(
            "SELECT person, outcome, sent_at FROM office_reminders WHERE day = $1",
            &[day.as_str().into()],
        )
        .await?;
    let mut settled = Vec::new();
    for r in &done {
        let tried_lately = now_ms - r.i64("sent_at")? < RETRY_AFTER_MS;
        if r.text("outcome")? != "failed" || tried_lately {
            settled.push(r.text("person")?);
        }
    }
    for (person, address) in org::emails(db).await? {
        if settled.contains(&person) {
            continue;
        }
        let r = for_person(db, &person, &day, &until).await?;
        let outcome = if !r.any() {
            out.nothing += 1;
            "nothing".to_string()
        } else {
            let name = org::person(db, &person).await?.display();
            let (subject, body) = mail(&name, &r, today, site);
            match mailer.send(&address, &subject, &body).await {
                Ok(()) => {
                    out.sent += 1;
                    "sent".to_string()
                }
                Err(e) => {
                    out.failed += 1;
                    gongwen_net::log::warn(
                        "稽催提醒郵件未寄出",
                        serde_json::json!({ "person": person, "detail": e }),
                    );
                    "failed".to_string()
                }
            }
        };
        let total = r.units.unwrap_or_default();
        db.execute(
            "INSERT INTO office_reminders (day, person, sent_at, overdue, due_soon, outcome) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (day, person) DO UPDATE SET sent_at = $3, overdue = $4, due_soon = $5, outcome = $6",
            &[
                day.as_str().into(),
                person.as_str().into(),
                now_ms.into(),
                (r.own.overdue + total.overdue).into(),
                (r.own.due_soon + total.due_soon).into(),
                outcome.into(),
            ],
        )
        .await?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mail_names_counts_only() {
        let r = Reminder {
            own: Counts {
                overdue: 2,
                due_soon: 1,
            },
            units: Some(Counts {
                overdue: 5,
                due_soon: 0,
            }),
        };
        let day = Date::from_calendar_date(2026, time::Month::March, 2).unwrap();
        let (subject, body) = mail("科長 王大明", &r, day, "https://odms.example.gov.tw/");
        assert_eq!(
            subject,
            "公文稽催提醒：逾期 5 件、即將到期 1 件（中華民國115年3月2日）"
        );
        assert!(body.starts_with("科長 王大明 您好："), "{body}");
        assert!(body.contains("您承辦的案件：逾期 2 件，即將到期（兩個工作天內）1 件"));
        assert!(body.contains("您主管的單位（含所屬單位）：逾期 5 件"));
        assert!(body.contains("https://odms.example.gov.tw/followup"));
        assert_eq!(
            r.line(),
            "您承辦的案件逾期 2 件、即將到期 1 件；您主管的單位逾期 5 件、即將到期 0 件"
        );
        assert!(!Reminder::default().any());
    }
}
