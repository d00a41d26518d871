//! Who may call the document-system API, and who may sign in to the web client: a document
//! system holds an API token (only its SHA-256 is kept) or presents a client certificate; a
//! person signs in with a card (an additional card, 附卡, beside the agency's own signing
//! certificate). For certificates, the key's SHA-256 is kept. Each belongs to one agency.

use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_store::{Db, random_hex, sha256_hex};
use serde::Serialize;

/// The caller of a request: which agency, under which registered name.
#[derive(Debug, Clone, Serialize)]
pub struct ApiClient {
    pub agency: String,
    pub name: String,
    /// `token`, `cert` (API client certificate) or `card` (a person's card for the web client).
    pub kind: String,
    pub created_at: i64,
}

fn check_name(name: &str) -> Result<(), Refusal> {
    if name.trim().is_empty() || name.chars().count() > 64 {
        return Err(Refusal::new(Code::BadRequest, "用戶端名稱須為 1 到 64 字"));
    }
    Ok(())
}

async fn insert(
    db: &Db,
    agency: &str,
    name: &str,
    kind: &str,
    sha: &str,
    now: i64,
) -> Result<(), Refusal> {
    check_name(name)?;
    let mut tx = db.begin().await?;
    tx.execute(
        "DELETE FROM agent_clients WHERE agency = $1 AND name = $2",
        &[agency.into(), name.into()],
    )
    .await?;
    tx.execute(
        "INSERT INTO agent_clients (agency, name, kind, sha256, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[agency.into(), name.into(), kind.into(), sha.into(), now.into()],
    )
    .await
    .map_err(|e| match e {
        gongwen_store::StoreError::Conflict { .. } => Refusal::new(
            Code::DirDuplicate,
            "此憑證已登記給另一個用戶端",
        ),
        other => other.into(),
    })?;
    tx.commit().await?;
    Ok(())
}

/// Registers (or renews) a token for `name`; the token is returned once and never stored.
pub async fn add_token(db: &Db, agency: &str, name: &str, now: i64) -> Result<String, Refusal> {
    let token = format!("gwa_{}", random_hex(24));
    insert(
        db,
        agency,
        name,
        "token",
        &sha256_hex(token.as_bytes()),
        now,
    )
    .await?;
    Ok(token)
}

/// Registers a certificate (PEM) for `name`: an API client certificate (`cert`) or a
/// person's signing card for the web client (`card`). Returns its key's SHA-256.
pub async fn add_cert(
    db: &Db,
    agency: &str,
    name: &str,
    kind: &str,
    pem: &[u8],
    now: i64,
) -> Result<String, Refusal> {
    let certs = gongwen_trust::cms::load_certs(pem)
        .map_err(|e| Refusal::new(Code::BadRequest, format!("用戶端憑證：{e}")))?;
    let leaf = certs
        .first()
        .ok_or_else(|| Refusal::new(Code::BadRequest, "檔案裡沒有憑證"))?;
    let der =
        der::Encode::to_der(leaf).map_err(|e| Refusal::new(Code::BadRequest, e.to_string()))?;
    let spki = gongwen_net::spki_sha256_hex(&der)
        .ok_or_else(|| Refusal::new(Code::BadRequest, "無法讀取憑證的公開金鑰"))?;
    insert(db, agency, name, kind, &spki, now).await?;
    Ok(spki)
}

pub async fn remove(db: &Db, agency: &str, name: &str) -> Result<bool, Refusal> {
    Ok(db
        .execute(
            "DELETE FROM agent_clients WHERE agency = $1 AND name = $2",
            &[agency.into(), name.into()],
        )
        .await?
        > 0)
}

pub async fn list(db: &Db, agency: &str) -> Result<Vec<ApiClient>, Refusal> {
    let rows = db
        .fetch_all(
            "SELECT agency, name, kind, created_at FROM agent_clients WHERE agency = $1 ORDER BY name",
            &[agency.into()],
        )
        .await?;
    rows.iter().map(client_of).collect()
}

fn client_of(r: &gongwen_store::Row) -> Result<ApiClient, Refusal> {
    Ok(ApiClient {
        agency: r.text(0)?,
        name: r.text(1)?,
        kind: r.text(2)?,
        created_at: r.i64(3)?,
    })
}

/// The client a token or a certificate key (SHA-256 hex) belongs to.
pub async fn find(
    db: &Db,
    token: Option<&str>,
    cert_key: Option<&str>,
) -> Result<Option<ApiClient>, Refusal> {
    match (token, cert_key) {
        (Some(t), _) => by_key(db, &sha256_hex(t.as_bytes()), "token").await,
        (None, Some(k)) => by_key(db, k, "cert").await,
        (None, None) => Ok(None),
    }
}

/// The person a card (its key's SHA-256, hex) was registered to for the web client.
pub async fn card(db: &Db, key: &str) -> Result<Option<ApiClient>, Refusal> {
    by_key(db, key, "card").await
}

/// The client of `kind` registered with the key (SHA-256, hex) `sha`.
async fn by_key(db: &Db, sha: &str, kind: &str) -> Result<Option<ApiClient>, Refusal> {
    db.fetch_optional(
        "SELECT agency, name, kind, created_at FROM agent_clients WHERE sha256 = $1 AND kind = $2",
        &[sha.into(), kind.into()],
    )
    .await?
    .as_ref()
    .map(client_of)
    .transpose()
}
