//! Duty lists (臺北市政府公文電子交換作業要點 十二、十三): what a sender must follow up by
//! 14:00 of the next working day, and what a recipient must process by 10:00 of the next
//! working day, on the government office calendar (bundled, plus what administrators import).

use gongwen_proto::Code;
use gongwen_proto::CopyStatus;
use gongwen_proto::api::{Duties, DutyItem};
use gongwen_store::{Db, args};
use time::OffsetDateTime;

use crate::Result;
use crate::app::{Caller, Shared};
use gongwen_calendar::{Override, WorkCalendar, receiver_due, sender_due};
use gongwen_net::Refusal;

/// The bundled calendar with the administrators' changes on top.
pub async fn load_calendar(db: &Db) -> Result<WorkCalendar> {
    let mut cal = WorkCalendar::with_bundled()
        .map_err(|e| Refusal::new(Code::Internal, format!("內建辦公日曆有誤：{e}")))?;
    for r in db
        .fetch_all("SELECT day, kind, name FROM calendar ORDER BY day", &[])
        .await?
    {
        let (day, kind, name) = (r.text(0)?, r.text(1)?, r.text(2)?);
        let Some(date) = parse_day(&day) else {
            continue;
        };
        let _ = match kind.as_str() {
            "holiday" => cal.set(date, Override::holiday(name)),
            "workday" => cal.set(date, Override::workday(name)),
            // An administrator removed a bundled entry: the weekday rule applies.
            _ => cal.remove(date),
        };
    }
    Ok(cal)
}

fn parse_day(s: &str) -> Option<time::Date> {
    let mut it = s.split('-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
}

fn day_text(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// Imports a calendar CSV (the official open-data table or ours; UTF-8, or Big5 as the
/// open-data site offers it) on top of the current calendar, all or nothing.
pub async fn import_calendar(db: &Db, bytes: &[u8]) -> Result<usize> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => {
            let (t, _, bad) = encoding_rs::BIG5.decode(bytes);
            if bad {
                return Err(Refusal::new(
                    Code::BadRequest,
                    "行事曆檔案不是 UTF-8 也不是 Big5",
                ));
            }
            t.into_owned()
        }
    };
    let before = load_calendar(db).await?;
    let mut cal = before.clone();
    let summary = cal
        .import_csv(&text)
        .map_err(|e| Refusal::new(Code::BadRequest, e.to_string()))?;
    let mut tx = db.begin().await?;
    tx.execute("DELETE FROM calendar", &[]).await?;
    for (date, o) in cal.iter() {
        tx.execute(
            "INSERT INTO calendar (day, kind, name) VALUES ($1, $2, $3)",
            &args![day_text(date), o.kind.as_str(), o.name.as_str()],
        )
        .await?;
    }
    // Bundled entries the import removed stay removed.
    for (date, _) in before.iter() {
        if cal.day(date).is_none() {
            tx.execute(
                "INSERT INTO calendar (day, kind, name) VALUES ($1, 'weekday', '')",
                &args![day_text(date)],
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(summary.rows)
}

fn at(ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map_err(|_| Refusal::new(Code::Internal, format!("時間 {ms} 超出範圍")))
}

fn due(r: std::result::Result<OffsetDateTime, gongwen_calendar::CalendarError>) -> Result<i64> {
    r.map(|t| t.unix_timestamp() * 1000)
        .map_err(|e| Refusal::new(Code::Internal, e.to_string()))
}

/// One line from a row (id, doc number, subject, counterpart, status, since, confirm_now),
/// due by the rule `due_by`.
fn item(
    r: &gongwen_store::Row,
    now: i64,
    due_by: impl Fn(
        OffsetDateTime,
    ) -> std::result::Result<OffsetDateTime, gongwen_calendar::CalendarError>,
) -> Result<DutyItem> {
    let since = r.i64(5)?;
    let due_at = due(due_by(at(since)?))?;
    let status = r.text(4)?;
    Ok(DutyItem {
        id: r.text(0)?,
        doc_number: r.text(1)?,
        subject: r.text(2)?,
        counterpart: r.text(3)?,
        status: CopyStatus::parse(&status)
            .ok_or_else(|| Refusal::new(Code::Internal, format!("狀態「{status}」不認得")))?,
        since,
        due_at,
        overdue: now > due_at,
        confirm_now: r.bool(6)?,
    })
}

/// The caller's two lists, `days` back for the sender's.
pub async fn duties(app: &Shared, caller: &Caller, days: u32) -> Result<Duties> {
    let cal = load_calendar(&app.db).await?;
    let now = app.clock.now_ms();
    let since = now - days.clamp(1, 366) as i64 * 86_400_000;
    let sending = app
        .db
        .fetch_all(
            "SELECT p.id, p.doc_number, p.subject, c.recipient, c.status, p.submitted_at, p.confirm_now \
             FROM packages p JOIN copies c ON c.package_id = p.id \
             WHERE p.sender = $1 AND c.status <> 'confirmed' AND p.submitted_at >= $2 \
             ORDER BY p.submitted_at, p.id, c.recipient LIMIT 5000",
            &args![caller.code.as_str(), since],
        )
        .await?
        .iter()
        .map(|r| item(r, now, |t| sender_due(&cal, t)))
        .collect::<Result<Vec<_>>>()?;
    let receiving = app
        .db
        .fetch_all(
            &format!(
                "SELECT p.id, p.doc_number, p.subject, p.sender, c.status, c.available_at, p.confirm_now \
                 FROM copies c JOIN packages p ON p.id = c.package_id \
                 WHERE c.recipient = $1 AND {} \
                 ORDER BY c.available_at, p.id LIMIT 5000",
                crate::copies::OPEN_COPY
            ),
            &args![caller.code.as_str()],
        )
        .await?
        .iter()
        .map(|r| item(r, now, |t| receiver_due(&cal, t)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Duties {
        as_of: now,
        sending,
        receiving,
    })
}
