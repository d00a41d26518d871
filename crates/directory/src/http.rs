//! The directory's HTTP API: the signed snapshot for registered centers, the address book for
//! everyone, and `/healthz`.

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use gongwen_net::Peer;
use gongwen_proto::Code;
use serde::Deserialize;

use crate::app::Shared;
use crate::error::{DirectoryError, Result, bad, internal, not_found};
use crate::{accounts, addressbook, applications};

/// The header that carries a snapshot's version beside its ETag.
pub const VERSION_HEADER: &str = "x-gongwen-snapshot-version";

pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/api/v1/snapshot", get(snapshot))
        .route("/api/v1/address-book", get(address_book))
        .route("/api/v1/address-book/resolve", get(resolve))
        .route(
            "/api/v1/participants/{code}/certificates",
            get(certificates),
        )
        .route("/api/v1/applications", axum::routing::post(submit))
        .route("/api/v1/applications/{id}", get(application).put(correct))
        .route(
            "/api/v1/applications/{id}/review",
            axum::routing::post(review),
        )
        .route("/api/v1/reviews", get(reviews))
        .route(
            "/api/v1/openapi.json",
            get(|| async {
                let doc = crate::openapi::DOCUMENT.as_str();
                ([(header::CONTENT_TYPE, "application/json")], doc)
            }),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(crate::web::router())
        .fallback(|| async { not_found("沒有這個網址") })
        .with_state(app)
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::<str>::from(gongwen_net::html::PAGE_POLICY),
            gongwen_net::html::security_headers,
        ))
}

/// Only a registered center gets the snapshot (it carries every participant's addresses).
async fn snapshot(State(app): State<Shared>, headers: HeaderMap, req: Request) -> Result<Response> {
    let key = req
        .extensions()
        .get::<Peer>()
        .and_then(|p| p.key.as_deref())
        .ok_or_else(|| {
            DirectoryError::new(Code::AuthNoCert, "請以交換中心的 TLS 用戶端憑證連線")
        })?;
    if app
        .db
        .fetch_optional(
            "SELECT id FROM dir_centers WHERE tls_key = $1",
            &[key.into()],
        )
        .await?
        .is_none()
    {
        return Err(DirectoryError::new(
            Code::AuthNotPeer,
            format!("公鑰 SHA-256 {key} 不是已登記交換中心的憑證"),
        ));
    }
    let current = app.current().await?;
    let etag = format!("\"{}\"", current.version);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/pkcs7-mime".to_string()),
            (header::ETAG, etag),
            (
                header::HeaderName::from_static(VERSION_HEADER),
                current.version.to_string(),
            ),
        ],
        current.body.clone(),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BookQuery {
    q: Option<String>,
    format: Option<String>,
    limit: Option<i64>,
}

async fn address_book(
    State(app): State<Shared>,
    q: std::result::Result<Query<BookQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let Query(q) = q.map_err(|e| bad(e.body_text()))?;
    let entries = addressbook::search(&app.db, q.q.as_deref(), q.limit.unwrap_or(100_000)).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(entries).into_response()),
        Some("csv") => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"address-book.csv\"",
                ),
            ],
            addressbook::to_csv(&entries),
        )
            .into_response()),
        Some(other) => Err(bad(format!("format「{other}」應為 json 或 csv"))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveQuery {
    name: String,
}

async fn resolve(
    State(app): State<Shared>,
    q: std::result::Result<Query<ResolveQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let Query(q) = q.map_err(|e| bad(e.body_text()))?;
    Ok(Json(addressbook::resolve(&app.db, &q.name).await?).into_response())
}

/// A participant's encryption certificates (PEM), for senders to seal to it: public, like the
/// address book.
async fn certificates(
    State(app): State<Shared>,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> Result<Response> {
    let p = crate::registry::require(&app.db, &code).await?;
    let mut pem = String::new();
    let certs = crate::registry::certs(&app.db, &code).await?;
    let signing_keys = certs
        .iter()
        .filter(|c| c.usage == gongwen_proto::directory::KeyUsage::Signing)
        .map(|c| c.spki_sha256.clone())
        .collect();
    for c in certs {
        if c.usage == gongwen_proto::directory::KeyUsage::Encryption {
            pem.push_str(
                &der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &c.der)
                    .map_err(|e| internal(e.to_string()))?,
            );
        }
    }
    Ok(Json(gongwen_proto::api::ParticipantCerts {
        code: p.input.code,
        name: p.input.name,
        encryption: pem,
        signing_keys,
    })
    .into_response())
}

/// The application body is the signed form itself (CMS SignedData, DER).
async fn submit(State(app): State<Shared>, body: axum::body::Bytes) -> Result<Response> {
    let a = applications::submit(&app.db, &app.trust.store(), &body, app.clock.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

async fn application(
    State(app): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response> {
    Ok(Json(applications::get(&app.db, &id).await?).into_response())
}

async fn correct(
    State(app): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: axum::body::Bytes,
) -> Result<Response> {
    let a =
        applications::correct(&app.db, &app.trust.store(), &id, &body, app.clock.now_ms()).await?;
    Ok(Json(a).into_response())
}

/// The reviewer behind `Authorization: Bearer <token>`.
async fn account(app: &Shared, headers: &HeaderMap) -> Result<accounts::Account> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            DirectoryError::new(Code::DirForbidden, "需要 Authorization: Bearer 權杖")
        })?;
    accounts::by_token(&app.db, token.trim()).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewsQuery {
    state: Option<String>,
}

async fn reviews(
    State(app): State<Shared>,
    headers: HeaderMap,
    q: std::result::Result<Query<ReviewsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let who = account(&app, &headers).await?;
    let Query(q) = q.map_err(|e| bad(e.body_text()))?;
    let state = q
        .state
        .map(|s| {
            applications::AppState::parse(&s).ok_or_else(|| bad(format!("state「{s}」不認得")))
        })
        .transpose()?;
    Ok(Json(applications::list(&app.db, &who, state).await?).into_response())
}

/// 審核結果；`correct`（補正）與 `reject`（不同意）須附 `message`。
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewBody {
    /// `approve`、`correct` 或 `reject`
    decision: String,
    #[serde(default)]
    message: Option<String>,
}

async fn review(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: std::result::Result<Json<ReviewBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response> {
    let who = account(&app, &headers).await?;
    let Json(b) = body.map_err(|e| bad(e.body_text()))?;
    let decision = applications::decision(&b.decision, b.message)?;
    let a = applications::review(&app.db, &who, &id, decision, app.clock.now_ms()).await?;
    Ok(Json(a).into_response())
}

/// The current counts as Prometheus gauges, for the addresses of `metrics_allow` (default this
/// machine: the monitoring agent beside the directory): the registry's numbers are not for
/// everyone who can reach it.
async fn metrics(State(app): State<Shared>, req: Request) -> Result<Response> {
    let ip = req.extensions().get::<Peer>().map(|p| p.ip);
    let listed = |ip: std::net::IpAddr| {
        (app.config.metrics_allow.iter()).any(|rule| gongwen_proto::directory::ip_matches(rule, ip))
    };
    if !ip.is_some_and(listed) {
        return Err(DirectoryError::new(
            Code::DirForbidden,
            format!(
                "/metrics 限設定檔 metrics_allow 所列位址讀取（預設本機）；{} 不在其中",
                ip.map_or_else(|| "來源不明".to_string(), |ip| ip.to_string())
            ),
        ));
    }
    let text = crate::stats::gauges(&app.db, app.clock.now_ms()).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

async fn healthz(State(app): State<Shared>) -> Response {
    gongwen_net::health(app.db.fetch_optional("SELECT 1", &[]).await.is_ok())
}
