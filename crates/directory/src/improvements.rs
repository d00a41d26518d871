//! Suspension and its way back or out (臺南市須知 §7–9, 資安規範 §13): a suspension with a
//! reason from the rules' list; an improvement notice (限期改善單) with a deadline; the
//! participant's answer; up to three follow-ups (追蹤評估) per period, more only after an
//! approved extension; and, if it is not improved, a termination date — service stops at 18:00
//! (Asia/Taipei) of the day before. [`enforce`] does what time decides: it stops the service
//! at that hour, suspends participants whose certificates expired, drops them from the address
//! book after the grace period, and warns before expiry.

use gongwen_proto::directory::ParticipantState;
use gongwen_store::{Db, Row, Tx, random_hex};
use serde::Serialize;

use crate::applications::notify;
use crate::audit;
use crate::error::{Result, bad, internal, not_found, refused};
use crate::registry;

/// Suspension reasons of 臺南市政府公文電子交換系統使用須知 §7 (and 資安規範 §13).
pub const REASONS: [(&str, &str); 9] = [
    ("malware", "利用本系統散播電腦病毒"),
    (
        "attack",
        "蓄意破壞、干擾或妨礙其他用戶使用本系統，或對本系統相關主機進行阻斷性攻擊",
    ),
    ("ip_rights", "發送侵害他人智慧財產權之公文電子交換檔案"),
    (
        "credentials",
        "竊取、更改或破壞其他用戶之帳號密碼資訊或權限存取行為",
    ),
    ("fraud", "藉由本系統進行銷售非法商品或從事詐欺行為"),
    (
        "advertising",
        "未經受文者同意，發送廣告信函或其他商業行為之公文電子交換檔案",
    ),
    (
        "audit_refused",
        "規避、妨礙或拒絕稽核，或經稽核限期改善而屆期未改善",
    ),
    ("rules", "違反使用須知、使用規範同意書或其他相關法規"),
    ("security_incident", "發生第三級至第四級資通安全事件"),
];

/// A reason as typed: one of the [`REASONS`] keys, or text of its own.
pub fn reason_text(s: &str) -> Result<String> {
    let s = s.trim();
    if let Some((_, label)) = REASONS.iter().find(|(k, _)| *k == s) {
        return Ok((*label).to_string());
    }
    if s.is_empty() || s.chars().count() > 500 {
        return Err(bad(format!(
            "原因應為下列代號之一，或 1 到 500 字的說明：{}",
            REASONS.map(|(k, _)| k).join("、")
        )));
    }
    Ok(s.to_string())
}

const DAY_MS: i64 = 86_400_000;
const TAIPEI_MS: i64 = 8 * 3_600_000;

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn days_of(date: &str) -> Result<i64> {
    let bad = || bad(format!("日期「{date}」應為 YYYY-MM-DD"));
    let mut it = date.trim().splitn(3, '-');
    let (y, m, d) = (
        it.next()
            .and_then(|v| v.parse::<i32>().ok())
            .ok_or_else(bad)?,
        it.next()
            .and_then(|v| v.parse::<u8>().ok())
            .ok_or_else(bad)?,
        it.next()
            .and_then(|v| v.parse::<u8>().ok())
            .ok_or_else(bad)?,
    );
    let month = time::Month::try_from(m).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(y, month, d).map_err(|_| bad())?;
    Ok(
        (date
            - time::Date::from_calendar_date(1970, time::Month::January, 1).map_err(|_| bad())?)
        .whole_days(),
    )
}

/// The end of `date` (23:59:59.999 Asia/Taipei), Unix ms: a deadline day counts whole.
pub fn end_of_day(date: &str) -> Result<i64> {
    Ok((days_of(date)? + 1) * DAY_MS - TAIPEI_MS - 1)
}

/// 18:00 Asia/Taipei of the day before `date`, Unix ms: when service stops for a termination
/// on `date` (須知 §8).
pub fn stops_at(date: &str) -> Result<i64> {
    Ok(days_of(date)? * DAY_MS - TAIPEI_MS - 6 * 3_600_000)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImprovementNoticeState {
    Open,
    Improved,
    /// A termination date is set; service has not stopped yet.
    Terminating,
    Terminated,
}

impl ImprovementNoticeState {
    fn parse(s: &str) -> Option<ImprovementNoticeState> {
        use ImprovementNoticeState::*;
        [Open, Improved, Terminating, Terminated]
            .into_iter()
            .find(|state| state.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImprovementNoticeState::Open => "open",
            ImprovementNoticeState::Improved => "improved",
            ImprovementNoticeState::Terminating => "terminating",
            ImprovementNoticeState::Terminated => "terminated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ImprovementNoticeState::Open => "改善中",
            ImprovementNoticeState::Improved => "已改善",
            ImprovementNoticeState::Terminating => "已通知中止",
            ImprovementNoticeState::Terminated => "已中止",
        }
    }
}

/// One follow-up on the 追蹤評估表.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    pub n: i64,
    pub at: i64,
    pub assessor: String,
    pub improved: bool,
    pub note: String,
}

/// An improvement notice and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImprovementNotice {
    pub id: String,
    pub code: String,
    pub reason: String,
    pub issued_at: i64,
    pub deadline: i64,
    pub state: ImprovementNoticeState,
    pub answer: Option<String>,
    pub follow_ups_allowed: i64,
    pub follow_ups: Vec<FollowUp>,
    pub terminate_on: Option<String>,
    pub stops_at: Option<i64>,
}

const COLS: &str = "id, code, reason, issued_at, deadline, state, answer, follow_ups_allowed, terminate_on, stops_at";

async fn notice_of(db: &Db, r: &Row) -> Result<ImprovementNotice> {
    let id = r.text(0)?;
    let state = r.text(5)?;
    let follow_ups = db
        .fetch_all(
            "SELECT n, at, assessor, improved, note FROM dir_follow_ups WHERE improvement = $1 ORDER BY n",
            &[id.as_str().into()],
        )
        .await?
        .iter()
        .map(|f| {
            Ok(FollowUp {
                n: f.i64(0)?,
                at: f.i64(1)?,
                assessor: f.text(2)?,
                improved: f.bool(3)?,
                note: f.text(4)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ImprovementNotice {
        code: r.text(1)?,
        reason: r.text(2)?,
        issued_at: r.i64(3)?,
        deadline: r.i64(4)?,
        state: ImprovementNoticeState::parse(&state)
            .ok_or_else(|| internal(format!("改善單狀態「{state}」")))?,
        answer: r.opt_text(6)?,
        follow_ups_allowed: r.i64(7)?,
        terminate_on: r.opt_text(8)?,
        stops_at: r.opt_i64(9)?,
        follow_ups,
        id,
    })
}

pub async fn get(db: &Db, id: &str) -> Result<ImprovementNotice> {
    let r = db
        .fetch_optional(
            &format!("SELECT {COLS} FROM dir_improvements WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or_else(|| not_found(format!("沒有限期改善單 {id}")))?;
    notice_of(db, &r).await
}

/// A participant's notices, oldest first (what a reviewer weighs on re-application).
pub async fn of(db: &Db, code: &str) -> Result<Vec<ImprovementNotice>> {
    let rows = db
        .fetch_all(
            &format!("SELECT {COLS} FROM dir_improvements WHERE code = $1 ORDER BY issued_at, id"),
            &[code.into()],
        )
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(notice_of(db, r).await?);
    }
    Ok(out)
}

async fn suspend_in(
    tx: &mut Tx,
    code: &str,
    reason: &str,
    why: &str,
    actor: &str,
    now: i64,
) -> Result<()> {
    registry::set_state_in(
        tx,
        code,
        ParticipantState::Suspended,
        Some(reason),
        actor,
        now,
    )
    .await?;
    tx.execute(
        "UPDATE dir_participants SET suspended_for = $2 WHERE code = $1",
        &[code.into(), why.into()],
    )
    .await?;
    Ok(())
}

/// Suspends a participant (暫停) for a reason from the rules' list or in words.
pub async fn suspend(db: &Db, code: &str, reason: &str, actor: &str, now: i64) -> Result<()> {
    let reason = reason_text(reason)?;
    registry::require(db, code).await?;
    let mut tx = db.begin().await?;
    suspend_in(&mut tx, code, &reason, "manual", actor, now).await?;
    notify(&mut tx, code, "暫停公文電子交換服務", &reason, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Issues an improvement notice with a deadline (`YYYY-MM-DD`, the whole day counts),
/// suspending the participant.
pub async fn issue(
    db: &Db,
    code: &str,
    reason: &str,
    deadline: &str,
    actor: &str,
    now: i64,
) -> Result<ImprovementNotice> {
    let reason = reason_text(reason)?;
    let deadline_ms = end_of_day(deadline)?;
    if deadline_ms <= now {
        return Err(bad(format!("改善期限 {deadline} 已過")));
    }
    let p = registry::require(db, code).await?;
    if matches!(
        p.state,
        ParticipantState::Terminated | ParticipantState::Cancelled
    ) {
        return Err(refused(format!(
            "{code} 已「{}」，不能再發限期改善單",
            p.state.label()
        )));
    }
    let id = format!("IM{}", random_hex(6).to_uppercase());
    let mut tx = db.begin().await?;
    tx.execute(
        "INSERT INTO dir_improvements (id, code, reason, issued_at, deadline, state, follow_ups_allowed, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'open', 3, $4)",
        &[id.as_str().into(), code.into(), reason.as_str().into(), now.into(), deadline_ms.into()],
    )
    .await?;
    suspend_in(
        &mut tx,
        code,
        &format!("限期改善單 {id}：{reason}"),
        "improvement",
        actor,
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "improvement.issued",
        code,
        serde_json::json!({ "id": id, "reason": reason, "deadline": deadline }),
    )
    .await?;
    notify(
        &mut tx,
        code,
        "限期改善單",
        &format!("{id}：{reason}；請於 {deadline} 前改善並回復改善情形"),
        now,
    )
    .await?;
    tx.commit().await?;
    get(db, &id).await
}

async fn open_notice(db: &Db, id: &str) -> Result<ImprovementNotice> {
    let n = get(db, id).await?;
    if n.state != ImprovementNoticeState::Open {
        return Err(refused(format!(
            "限期改善單 {id} 目前「{}」",
            n.state.label()
        )));
    }
    Ok(n)
}

/// The participant's answer: what it did (改善事項處理情形與說明).
pub async fn answer(
    db: &Db,
    id: &str,
    text: &str,
    actor: &str,
    now: i64,
) -> Result<ImprovementNotice> {
    let n = open_notice(db, id).await?;
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 4000 {
        return Err(bad("改善情形說明應為 1 到 4000 字"));
    }
    let mut tx = db.begin().await?;
    tx.execute(
        "UPDATE dir_improvements SET answer = $2, answered_at = $3, updated_at = $3 WHERE id = $1",
        &[id.into(), text.into(), now.into()],
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "improvement.answered",
        &n.code,
        serde_json::json!({ "id": id, "answer": text }),
    )
    .await?;
    tx.commit().await?;
    get(db, id).await
}

/// A follow-up (追蹤評估). Improved: the notice closes and the participant is active again.
/// At most three per period; an extension allows three more.
pub async fn follow_up(
    db: &Db,
    id: &str,
    improved: bool,
    note: &str,
    actor: &str,
    now: i64,
) -> Result<ImprovementNotice> {
    let n = open_notice(db, id).await?;
    let done = n.follow_ups.len() as i64;
    if done >= n.follow_ups_allowed {
        return Err(refused(format!(
            "限期改善單 {id} 已追蹤 {done} 次；再追蹤須先核准延長期限，否則應通知中止"
        )));
    }
    if note.trim().is_empty() {
        return Err(bad("追蹤結果須記錄說明"));
    }
    let mut tx = db.begin().await?;
    tx.execute(
        "INSERT INTO dir_follow_ups (improvement, n, at, assessor, improved, note) VALUES ($1, $2, $3, $4, $5, $6)",
        &[id.into(), (done + 1).into(), now.into(), actor.into(), improved.into(), note.trim().into()],
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "improvement.followed_up",
        &n.code,
        serde_json::json!({ "id": id, "n": done + 1, "improved": improved, "note": note.trim() }),
    )
    .await?;
    if improved {
        tx.execute(
            "UPDATE dir_improvements SET state = 'improved', updated_at = $2 WHERE id = $1",
            &[id.into(), now.into()],
        )
        .await?;
        registry::set_state_in(&mut tx, &n.code, ParticipantState::Active, None, actor, now)
            .await?;
        notify(&mut tx, &n.code, "改善完成，恢復公文電子交換服務", id, now).await?;
    }
    tx.commit().await?;
    get(db, id).await
}

/// An approved extension: a new deadline and three more follow-ups.
pub async fn extend(
    db: &Db,
    id: &str,
    deadline: &str,
    approved_by: &str,
    actor: &str,
    now: i64,
) -> Result<ImprovementNotice> {
    let n = open_notice(db, id).await?;
    let new = end_of_day(deadline)?;
    if new <= n.deadline.max(now) {
        return Err(bad(format!("延長後的期限 {deadline} 應晚於原期限與今天")));
    }
    if approved_by.trim().is_empty() {
        return Err(bad("延長期限須記錄核准人"));
    }
    let mut tx = db.begin().await?;
    tx.execute(
        "UPDATE dir_improvements SET deadline = $2, follow_ups_allowed = follow_ups_allowed + 3, updated_at = $3 WHERE id = $1",
        &[id.into(), new.into(), now.into()],
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "improvement.extended",
        &n.code,
        serde_json::json!({ "id": id, "deadline": deadline, "approved_by": approved_by }),
    )
    .await?;
    tx.commit().await?;
    get(db, id).await
}

/// The written notice of termination, naming the date; allowed once the deadline has passed
/// or the allowed follow-ups all found it not improved.
pub async fn terminate(
    db: &Db,
    id: &str,
    on: &str,
    actor: &str,
    now: i64,
) -> Result<ImprovementNotice> {
    let n = open_notice(db, id).await?;
    let failed = n.follow_ups.len() as i64 >= n.follow_ups_allowed
        && n.follow_ups.iter().all(|f| !f.improved);
    if now <= n.deadline && !failed {
        return Err(refused(format!(
            "限期改善單 {id} 尚在改善期限內，且追蹤未滿 {} 次",
            n.follow_ups_allowed
        )));
    }
    let stops = stops_at(on)?;
    if stops <= now {
        return Err(bad(format!(
            "中止日期 {on} 太近：服務於前一日下午六時停止，該時間已過"
        )));
    }
    let mut tx = db.begin().await?;
    tx.execute(
        "UPDATE dir_improvements SET state = 'terminating', terminate_on = $2, stops_at = $3, updated_at = $4 WHERE id = $1",
        &[id.into(), on.into(), stops.into(), now.into()],
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "improvement.termination_noticed",
        &n.code,
        serde_json::json!({ "id": id, "terminate_on": on, "stops_at": stops }),
    )
    .await?;
    notify(
        &mut tx,
        &n.code,
        "中止公文電子交換服務通知",
        &format!("依限期改善單 {id}，自 {on} 起中止服務（{} 前一日下午六時起停止），之後收發改以紙本；如需再使用應重新申請", on),
        now,
    )
    .await?;
    tx.commit().await?;
    get(db, id).await
}

/// What time decides, as of `now`. Returns the log actions taken, for the service's log.
pub async fn enforce(db: &Db, now: i64, grace_days: u32, warn_days: &[u32]) -> Result<Vec<String>> {
    let mut done = Vec::new();
    // Terminations whose hour has come.
    for r in db
        .fetch_all(
            "SELECT id, code, terminate_on FROM dir_improvements WHERE state = 'terminating' AND stops_at <= $1",
            &[now.into()],
        )
        .await?
    {
        let (id, code, on) = (r.text(0)?, r.text(1)?, r.opt_text(2)?.unwrap_or_default());
        let mut tx = db.begin().await?;
        tx.execute(
            "UPDATE dir_improvements SET state = 'terminated', updated_at = $2 WHERE id = $1 AND state = 'terminating'",
            &[id.as_str().into(), now.into()],
        )
        .await?;
        registry::set_state_in(
            &mut tx,
            &code,
            ParticipantState::Terminated,
            Some(&format!("依限期改善單 {id} 自 {on} 起中止服務，收發改以紙本；如需再使用應重新申請")),
            "system",
            now,
        )
        .await?;
        tx.commit().await?;
        done.push(format!("terminated {code}"));
    }
    // Certificates: the newest signing or TLS key of each listed participant.
    let rows = db
        .fetch_all(
            "SELECT p.code, p.state, p.suspended_for, k.usage, MAX(k.not_after) FROM dir_participants p \
             JOIN dir_certs k ON k.code = p.code WHERE p.listed = 1 AND k.usage IN ('tls', 'signing') \
             GROUP BY p.code, p.state, p.suspended_for, k.usage ORDER BY p.code",
            &[],
        )
        .await?;
    let mut expiry: std::collections::BTreeMap<String, (String, Option<String>, i64)> =
        Default::default();
    for r in &rows {
        let code = r.text(0)?;
        let last = r.i64(4)?;
        let e = expiry
            .entry(code)
            .or_insert((r.text(1)?, r.opt_text(2)?, i64::MAX));
        // The participant can exchange until the first of its two kinds runs out.
        e.2 = e.2.min(last);
    }
    for (code, (state, why, until)) in expiry {
        let roc = gongwen_trust::path::roc_datetime(until / 1000);
        if state == "active" && until <= now {
            let mut tx = db.begin().await?;
            suspend_in(
                &mut tx,
                &code,
                &format!("憑證已於 {roc} 到期；更新憑證後申請恢復連線"),
                "cert_expired",
                "system",
                now,
            )
            .await?;
            notify(
                &mut tx,
                &code,
                "憑證到期，暫停公文電子交換服務",
                &format!("請於 {grace_days} 天內更新憑證並申請恢復連線，逾期須重新申請"),
                now,
            )
            .await?;
            tx.commit().await?;
            done.push(format!("suspended {code} (certificate expired)"));
        } else if state == "suspended"
            && why.as_deref() == Some("cert_expired")
            && now >= until + grace_days as i64 * DAY_MS
        {
            let mut tx = db.begin().await?;
            registry::set_state_in(
                &mut tx,
                &code,
                ParticipantState::Terminated,
                Some(&format!("憑證於 {roc} 到期後 {grace_days} 天內未更新，已自地址簿移除；如需使用應重新申請")),
                "system",
                now,
            )
            .await?;
            tx.execute(
                "UPDATE dir_participants SET listed = 0 WHERE code = $1",
                &[code.as_str().into()],
            )
            .await?;
            tx.commit().await?;
            done.push(format!(
                "delisted {code} (certificate expired {grace_days} days ago)"
            ));
        } else if state == "active" {
            // The nearest threshold crossed: 20 days before expiry is the 30-day warning.
            let mut days = warn_days.to_vec();
            days.sort_unstable();
            for d in &days {
                let at = until - *d as i64 * DAY_MS;
                if now >= at && now < until {
                    let subject = format!("憑證將於 {d} 天內到期");
                    let sent = db
                        .fetch_optional(
                            "SELECT id FROM dir_notices WHERE recipient = $1 AND subject = $2 AND created_at >= $3",
                            &[code.as_str().into(), subject.as_str().into(), at.into()],
                        )
                        .await?
                        .is_some();
                    if !sent {
                        let mut tx = db.begin().await?;
                        notify(
                            &mut tx,
                            &code,
                            &subject,
                            &format!("憑證效期至 {roc}，請儘早更新並登記新憑證"),
                            now,
                        )
                        .await?;
                        tx.commit().await?;
                        done.push(format!("warned {code} ({d} days)"));
                    }
                    break;
                }
            }
        }
    }
    Ok(done)
}

/// Lifts a suspension for an expired certificate once a valid one is registered (within
/// the grace period: afterwards the participant has left the address book).
pub async fn reconnect(db: &Db, code: &str, actor: &str, now: i64) -> Result<()> {
    let r = db
        .fetch_optional(
            "SELECT state, suspended_for, listed FROM dir_participants WHERE code = $1",
            &[code.into()],
        )
        .await?
        .ok_or_else(|| registry::no_participant(code))?;
    if r.text(0)? != "suspended"
        || r.opt_text(1)?.as_deref() != Some("cert_expired")
        || !r.bool(2)?
    {
        return Err(refused(format!(
            "{code} 不是因憑證到期而暫停（或已逾期移除，須重新申請）"
        )));
    }
    let valid = db
        .fetch_all(
            "SELECT usage FROM dir_certs WHERE code = $1 AND usage IN ('tls', 'signing') AND not_after > $2 GROUP BY usage",
            &[code.into(), now.into()],
        )
        .await?;
    if valid.len() < 2 {
        return Err(refused(format!("{code} 尚未登記有效的簽章與 TLS 憑證")));
    }
    let mut tx = db.begin().await?;
    registry::set_state_in(&mut tx, code, ParticipantState::Active, None, actor, now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_stops_at_six_the_evening_before() {
        // 2026-02-10 00:00 Taipei is 2026-02-09 16:00 UTC; 18:00 of the 9th is 10:00 UTC.
        let at = stops_at("2026-02-10").unwrap();
        assert_eq!(crate::addressbook::taipei_time(at), "2026-02-09 18:00:00");
        assert_eq!(
            crate::addressbook::taipei_time(end_of_day("2026-02-10").unwrap()),
            "2026-02-10 23:59:59"
        );
        assert!(stops_at("2026-02-30").is_err());
        assert!(reason_text("malware").unwrap().contains("電腦病毒"));
        assert!(reason_text("").is_err());
    }
}
