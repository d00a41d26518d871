//! The directory's people and what each may see and do. Applicants need no account: they prove
//! who they are by signing the application with the organisation's certificate.
//!
//! | role | sees | does |
//! |---|---|---|
//! | first reviewer (初審，審核機關) | applications naming its authority | approve, ask for correction, reject them |
//! | second reviewer (複審，交換中心管理機關) | applications for its center | approve (activates), ask for correction, reject |
//! | auditor | everything | nothing |
//! | administrator | everything | accounts, centers, participants, suspensions |

use gongwen_proto::Code;
use gongwen_store::{Db, Row, random_hex, sha256_hex};
use serde::Serialize;

use crate::audit;
use crate::error::{DirectoryError, Result, bad, internal, not_found};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    FirstReviewer,
    SecondReviewer,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::FirstReviewer,
        Role::SecondReviewer,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::FirstReviewer => "first_reviewer",
            Role::SecondReviewer => "second_reviewer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::FirstReviewer => "初審（審核機關）",
            Role::SecondReviewer => "複審（交換中心管理機關）",
            Role::Auditor => "稽核",
            Role::Admin => "管理者",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub name: String,
    pub display_name: String,
    pub role: Role,
    /// First reviewers: the authority's code; second reviewers: the center's id.
    pub scope: Option<String>,
}

impl Account {
    /// Who the log names.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.role.as_str(), self.name)
    }

    /// The refusal for something this account may not do.
    pub fn forbidden(&self, what: &str) -> DirectoryError {
        DirectoryError::new(
            Code::DirForbidden,
            format!(
                "帳號 {}（{}{}）不能{what}",
                self.name,
                self.role.label(),
                self.scope
                    .as_deref()
                    .map(|s| format!("，範圍 {s}"))
                    .unwrap_or_default()
            ),
        )
    }

    pub fn require(&self, roles: &[Role], what: &str) -> Result<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(self.forbidden(what))
        }
    }
}

fn account_of(r: &Row) -> Result<Account> {
    let role = r.text(2)?;
    Ok(Account {
        name: r.text(0)?,
        display_name: r.text(1)?,
        role: Role::parse(&role).ok_or_else(|| internal(format!("角色「{role}」")))?,
        scope: r.opt_text(3)?,
    })
}

pub async fn get(db: &Db, name: &str) -> Result<Account> {
    db.fetch_optional(
        "SELECT name, display_name, role, scope FROM dir_accounts WHERE name = $1",
        &[name.into()],
    )
    .await?
    .map(|r| account_of(&r))
    .transpose()?
    .ok_or_else(|| not_found(format!("沒有帳號 {name}")))
}

/// The account an API token belongs to.
pub async fn by_token(db: &Db, token: &str) -> Result<Account> {
    db.fetch_optional(
        "SELECT name, display_name, role, scope FROM dir_accounts WHERE token_sha256 = $1",
        &[sha256_hex(token.as_bytes()).into()],
    )
    .await?
    .map(|r| account_of(&r))
    .transpose()?
    .ok_or_else(|| DirectoryError::new(Code::DirForbidden, "API 權杖無效"))
}

/// Creates an account (or gives it a new token); returns the token, shown once.
pub async fn put(
    db: &Db,
    name: &str,
    display_name: &str,
    role: Role,
    scope: Option<&str>,
    actor: &str,
    now: i64,
) -> Result<String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b))
    {
        return Err(bad(format!(
            "帳號「{name}」應為 1 到 64 個英數字或 - _ . @"
        )));
    }
    if display_name.trim().is_empty() || display_name.chars().count() > 100 {
        return Err(bad("顯示名稱應為 1 到 100 個字"));
    }
    let scope = scope.map(str::trim).filter(|s| !s.is_empty());
    match (role, scope) {
        (Role::FirstReviewer, None) => {
            return Err(bad("初審帳號須指定所屬審核機關的機關代碼（--scope）"));
        }
        (Role::SecondReviewer, None) => {
            return Err(bad("複審帳號須指定所管理的交換中心代號（--scope）"));
        }
        _ => {}
    }
    let token = random_hex(24);
    let mut tx = db.begin().await?;
    tx.execute(
        "INSERT INTO dir_accounts (name, display_name, role, scope, token_sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (name) DO UPDATE SET display_name = $2, role = $3, scope = $4, token_sha256 = $5",
        &[
            name.into(),
            display_name.into(),
            role.as_str().into(),
            scope.into(),
            sha256_hex(token.as_bytes()).into(),
            now.into(),
        ],
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "account.set",
        &format!("account:{name}"),
        serde_json::json!({ "role": role.as_str(), "scope": scope, "display_name": display_name }),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// How long a reviewer's session in the pages lasts.
pub const SESSION_MS: i64 = 8 * 3_600_000;

/// A reviewer signed in to the pages: the account, the session's id (the cookie, kept only as
/// its hash in the database) and the CSRF token every form of the session carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub account: Account,
    pub csrf: String,
}

/// Signs `name` in with its API token: a new session (older expired ones are removed), and
/// the sign-in in the log. A wrong name or token is refused the same way.
pub async fn sign_in(db: &Db, name: &str, token: &str, now: i64) -> Result<Session> {
    let who = match by_token(db, token.trim()).await {
        Ok(a) if a.name == name.trim() => a,
        _ => {
            return Err(DirectoryError::new(Code::DirForbidden, "帳號或權杖不正確"));
        }
    };
    let id = random_hex(24);
    let csrf = random_hex(16);
    let mut tx = db.begin().await?;
    tx.execute(
        "DELETE FROM dir_sessions WHERE expires_at < $1",
        &[now.into()],
    )
    .await?;
    tx.execute(
        "INSERT INTO dir_sessions (id_sha256, account, csrf, expires_at) VALUES ($1, $2, $3, $4)",
        &[
            sha256_hex(id.as_bytes()).into(),
            who.name.as_str().into(),
            csrf.as_str().into(),
            (now + SESSION_MS).into(),
        ],
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        &who.actor(),
        "account.login",
        &format!("account:{}", who.name),
        "{}",
    )
    .await?;
    tx.commit().await?;
    Ok(Session {
        id,
        account: who,
        csrf,
    })
}

/// The session with cookie `id`, if it exists and has not expired.
pub async fn session(db: &Db, id: &str, now: i64) -> Result<Option<Session>> {
    let Some(r) = db
        .fetch_optional(
            "SELECT account, csrf FROM dir_sessions WHERE id_sha256 = $1 AND expires_at > $2",
            &[sha256_hex(id.as_bytes()).into(), now.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Session {
        id: id.to_string(),
        account: get(db, &r.text(0)?).await?,
        csrf: r.text(1)?,
    }))
}

/// Ends the session with cookie `id`.
pub async fn sign_out(db: &Db, id: &str) -> Result<()> {
    db.execute(
        "DELETE FROM dir_sessions WHERE id_sha256 = $1",
        &[sha256_hex(id.as_bytes()).into()],
    )
    .await?;
    Ok(())
}
