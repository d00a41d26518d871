//! What the web client keeps in the database: its sessions (by the SHA-256 of the cookie,
//! never the cookie), the sign-in challenges already used, and every sign-in attempt. The
//! pages (`web::login`) decide; this module reads and writes.

use gongwen_store::{Db, StoreError, random_hex};

/// A session ends after this long idle…
pub const IDLE_MS: i64 = 30 * 60_000;
/// …or this long after sign-in.
pub const MAX_MS: i64 = 10 * 3_600_000;
/// The idle clock is written back at most this often: each write is a durable commit, and a
/// page view should not wait for the disk.
const TOUCH_MS: i64 = 60_000;

/// The signed-in organisation and person.
#[derive(Debug, Clone)]
pub struct Session {
    pub agency: String,
    /// The card certificate's subject name.
    pub user: String,
    pub csrf: String,
    /// SHA-256 of the cookie (hex), the session's key in the store.
    pub(crate) key: String,
}

/// The session stored under `key`, if it is still valid at `now`; its idle clock restarts.
pub(crate) async fn find(db: &Db, key: &str, now: i64) -> Result<Option<Session>, StoreError> {
    let Some(r) = db
        .fetch_optional(
            "SELECT agency, user_name, csrf, last_seen FROM agent_sessions WHERE id_sha256 = $1 AND last_seen > $2 AND created_at > $3",
            &[key.into(), (now - IDLE_MS).into(), (now - MAX_MS).into()],
        )
        .await?
    else {
        return Ok(None);
    };
    if now - r.i64(3)? >= TOUCH_MS {
        // Not written: the idle clock runs a minute longer, the page is still shown.
        let _ = db
            .execute(
                "UPDATE agent_sessions SET last_seen = $2 WHERE id_sha256 = $1",
                &[key.into(), now.into()],
            )
            .await;
    }
    Ok(Some(Session {
        agency: r.text(0)?,
        user: r.text(1)?,
        csrf: r.text(2)?,
        key: key.to_string(),
    }))
}

/// Stores a new session.
pub(crate) async fn open(db: &Db, s: &Session, now: i64) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO agent_sessions (id_sha256, agency, user_name, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $5)",
        &[
            s.key.as_str().into(),
            s.agency.as_str().into(),
            s.user.as_str().into(),
            s.csrf.as_str().into(),
            now.into(),
        ],
    )
    .await
    .map(|_| ())
}

/// Ends a session.
pub(crate) async fn close(db: &Db, s: &Session) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM agent_sessions WHERE id_sha256 = $1",
        &[s.key.as_str().into()],
    )
    .await
    .map(|_| ())
}

/// Writes the challenge `nonce` down as used; `false` if it already was.
pub(crate) async fn use_challenge(
    db: &Db,
    nonce: &str,
    issued: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let fresh = db
        .execute(
            "INSERT INTO agent_challenges (nonce, created_at, used_at) VALUES ($1, $2, $3) ON CONFLICT (nonce) DO NOTHING",
            &[nonce.into(), issued.into(), now.into()],
        )
        .await?;
    Ok(fresh == 1)
}

/// One sign-in attempt, for the record.
pub(crate) struct Attempt<'a> {
    pub ip: &'a str,
    /// SHA-256 of the card's public key, hex.
    pub account: Option<&'a str>,
    pub agency: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// Why it failed; `None` for a success.
    pub detail: Option<&'a str>,
}

/// Records an attempt.
pub(crate) async fn record(db: &Db, t: &Attempt<'_>, now: i64) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO agent_logins (id, at, agency, ok, subject, ip, user_agent, detail, account) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            random_hex(12).into(),
            now.into(),
            t.agency.into(),
            i64::from(t.detail.is_none()).into(),
            t.subject.into(),
            t.ip.into(),
            t.user_agent.into(),
            t.detail.into(),
            t.account.into(),
        ],
    )
    .await
    .map(|_| ())
}

/// Whose failures [`failures`] counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum By {
    /// One client address.
    Ip,
    /// One card.
    Account,
}

/// Failed sign-ins by one address or card since `since`.
pub(crate) async fn failures(db: &Db, by: By, value: &str, since: i64) -> Result<i64, StoreError> {
    let column = match by {
        By::Ip => "ip",
        By::Account => "account",
    };
    let sql =
        format!("SELECT COUNT(*) FROM agent_logins WHERE {column} = $1 AND ok = 0 AND at > $2");
    let r = db
        .fetch_optional(&sql, &[value.into(), since.into()])
        .await?;
    r.map_or(Ok(0), |r| r.i64(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_idle_or_old_and_challenges_and_failures_are_counted() {
        crate::with_test_db("sessions", |db| async move {
            let s = Session {
                agency: "379130000C".into(),
                user: "王小明".into(),
                csrf: "t".into(),
                key: "k".into(),
            };
            open(&db, &s, 0).await.unwrap();
            // Each view within the idle time restarts the clock, until the session is too old.
            let mut at = 0;
            while at + IDLE_MS - 1 < MAX_MS {
                at += IDLE_MS - 1;
                assert!(find(&db, "k", at).await.unwrap().is_some(), "at {at}");
            }
            assert!(
                find(&db, "k", MAX_MS).await.unwrap().is_none(),
                "ten hours at most"
            );
            let keyed = |key: &str| Session {
                key: key.into(),
                ..s.clone()
            };
            open(&db, &keyed("k2"), 0).await.unwrap();
            assert!(
                find(&db, "k2", IDLE_MS).await.unwrap().is_none(),
                "idle too long"
            );
            open(&db, &keyed("k3"), 0).await.unwrap();
            close(&db, &keyed("k3")).await.unwrap();
            assert!(find(&db, "k3", 1).await.unwrap().is_none(), "signed out");

            assert!(use_challenge(&db, "n", 0, 1).await.unwrap());
            assert!(!use_challenge(&db, "n", 0, 2).await.unwrap(), "used once");

            let failed = |ip, account| Attempt {
                ip,
                account: Some(account),
                agency: None,
                subject: None,
                user_agent: None,
                detail: Some("簽章無效"),
            };
            record(&db, &failed("10.0.0.1", "a"), 10).await.unwrap();
            record(&db, &failed("10.0.0.1", "b"), 20).await.unwrap();
            let ok = Attempt {
                detail: None,
                ..failed("10.0.0.1", "a")
            };
            record(&db, &ok, 30).await.unwrap();
            assert_eq!(failures(&db, By::Ip, "10.0.0.1", 0).await.unwrap(), 2);
            assert_eq!(failures(&db, By::Account, "a", 0).await.unwrap(), 1);
            assert_eq!(
                failures(&db, By::Account, "a", 10).await.unwrap(),
                0,
                "since"
            );
        });
    }
}
