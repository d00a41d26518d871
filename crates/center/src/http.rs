//! The HTTP API (`/api/v1/...`), `/healthz` and `/metrics`. Every API route but the OpenAPI
//! document needs a client certificate registered to an active participant calling from an
//! allowed address; errors are recorded.

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use gongwen_net::Peer;
use gongwen_proto::Code;
use gongwen_proto::api::{GroupUpdate, ParticipantCerts};

use crate::Result;
use crate::app::{Caller, PeerCenter, Shared};
use crate::exchange::{self, InboxQuery, SentQuery};
use crate::participants::{self, KeyUse};
use crate::records;
use gongwen_net::Refusal;

pub fn router(app: Shared) -> Router {
    let api = Router::new()
        .route("/packages", post(submit))
        .route("/packages/{id}", get(sent_one))
        .route("/sent", get(sent_list))
        .route("/inbox", get(inbox))
        .route("/inbox/{id}/body", get(body))
        .route("/inbox/{id}/receipts", post(receipt))
        .route("/groups", get(groups))
        .route("/groups/{name}", put(put_group).delete(delete_group))
        .route("/participants", get(participants))
        .route("/participants/{code}/certificates", get(participant_certs))
        .route("/records", get(records_query))
        .route("/duties", get(duties))
        .route("/security-events", post(security_event))
        .route("/paper-prints", post(paper_print))
        .layer(middleware::from_fn_with_state(app.clone(), authenticate));
    let relay = Router::new()
        .route("/packages", post(relay_package))
        .route("/status", post(relay_status))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            authenticate_peer,
        ));
    Router::new()
        .nest("/api/v1/relay", relay)
        .nest("/api/v1", api)
        .route("/api/v1/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(crate::web::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

/// Identifies the caller, or answers with the reason it may not call.
async fn authenticate(State(app): State<Shared>, mut req: Request, next: Next) -> Response {
    let Some(peer) = req.extensions().get::<Peer>().cloned() else {
        return Refusal::bare(Code::AuthNoCert).into_response();
    };
    match app.caller(&peer).await {
        Ok(c) => {
            req.extensions_mut().insert(c);
            next.run(req).await
        }
        // A registered participant's own certificate, refused for its standing or address:
        // a record. Anyone else is not written down (see `observe`).
        Err(e) if matches!(e.code, Code::AuthIp | Code::AuthSuspended) => {
            tagged(e, Actor(format!("ip:{}", peer.ip)))
        }
        Err(e) => e.into_response(),
    }
}

/// Only the configured peer centers may relay.
async fn authenticate_peer(State(app): State<Shared>, mut req: Request, next: Next) -> Response {
    let Some(peer) = req.extensions().get::<Peer>().cloned() else {
        return Refusal::bare(Code::AuthNoCert).into_response();
    };
    match app.peer(&peer) {
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

fn peer_error(p: &PeerCenter, e: Refusal) -> Response {
    tagged(e, Actor(p.0.clone()))
}

/// An error answer carrying who it is recorded against (see `observe`).
fn tagged<T: Clone + Send + Sync + 'static>(e: Refusal, who: T) -> Response {
    let mut r = e.into_response();
    r.extensions_mut().insert(who);
    r
}

/// The declared body size.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

async fn relay_package(
    State(app): State<Shared>,
    Extension(peer): Extension<PeerCenter>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let recipients: Vec<String> = headers
        .get(gongwen_proto::api::RELAY_RECIPIENTS)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    match exchange::accept_relay(&app, &peer.0, &recipients, body, content_length(&headers)).await {
        Ok(a) => Json(a).into_response(),
        Err(e) => peer_error(&peer, e),
    }
}

async fn relay_status(
    State(app): State<Shared>,
    Extension(peer): Extension<PeerCenter>,
    body: Body,
) -> Response {
    let r = async {
        let data = axum::body::to_bytes(body, 256 * 1024)
            .await
            .map_err(|_| Refusal::new(Code::BadRequest, "內容超過 256 KiB"))?;
        let u: gongwen_proto::api::StatusUpdate = serde_json::from_slice(&data)
            .map_err(|e| Refusal::new(Code::BadRequest, format!("狀態內容：{e}")))?;
        exchange::accept_status(&app, &peer.0, &u).await
    }
    .await;
    match r {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => peer_error(&peer, e),
    }
}

/// Who an error is recorded against when there is no caller: a peer center, or a registered
/// participant refused for its standing or address.
#[derive(Clone)]
struct Actor(String);

/// Counts and times every request, and records every error answered to a known caller (a
/// participant or a peer center). Refusals of callers not known — no certificate, one not
/// registered, a participant suspended or calling from elsewhere, a path that does not exist —
/// are counted (`gongwen_refused_unauthenticated_total`) and logged, never written to the
/// records: the records are evidence of the exchange, and anyone could fill them.
async fn observe(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    let method = req.method().as_str().to_string();
    let caller_ip = req.extensions().get::<Peer>().map(|p| p.ip.to_string());
    let resp = next.run(req).await;
    let label = format!("{method} {route}");
    app.metrics.observe(
        "gongwen_http_request_seconds",
        &label,
        started.elapsed().as_secs_f64(),
    );
    app.metrics.inc(
        "gongwen_http_responses_total",
        &format!("{} {}", resp.status().as_u16(), label),
    );
    if let Some(e) = resp.extensions().get::<Refusal>() {
        let known = resp
            .extensions()
            .get::<Caller>()
            .map(|c| c.code.clone())
            .or_else(|| resp.extensions().get::<Actor>().map(|a| a.0.clone()));
        let actor = known
            .clone()
            .or_else(|| caller_ip.map(|ip| format!("ip:{ip}")))
            .unwrap_or_default();
        let detail = format!("{label} {}", e.detail);
        gongwen_net::log::warn(
            e.code.message(),
            serde_json::json!({ "code": e.code.as_str(), "actor": actor, "detail": detail }),
        );
        if known.is_none() {
            app.metrics
                .inc("gongwen_refused_unauthenticated_total", e.code.as_str());
        } else if e.code != Code::Unavailable {
            let _ = records::error(
                &app.db,
                app.clock.now_ms(),
                &actor,
                e.code.as_str(),
                &detail,
            )
            .await;
        }
    }
    resp
}

/// Attaches the caller to an error so `observe` can record who it was.
fn with_caller(caller: &Caller, e: Refusal) -> Response {
    tagged(e, caller.clone())
}

fn reply<T: serde::Serialize>(caller: &Caller, r: Result<T>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => with_caller(caller, e),
    }
}

async fn submit(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let key = headers
        .get(gongwen_proto::api::IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Some(key) = key else {
        return with_caller(&caller, Refusal::bare(Code::SubmitNoKey));
    };
    match exchange::submit(&app, &caller, &key, body, content_length(&headers)).await {
        Ok((created, view)) => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, Json(view)).into_response()
        }
        Err(e) => with_caller(&caller, e),
    }
}

async fn sent_one(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    reply(&caller, exchange::sent_view_for(&app, &caller, &id).await)
}

async fn sent_list(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<SentQuery>, QueryRejection>,
) -> Response {
    let r = async { exchange::sent_list(&app, &caller, &q.map_err(bad_query)?.0).await };
    reply(&caller, r.await)
}

async fn inbox(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<InboxQuery>, QueryRejection>,
) -> Response {
    let r = async { exchange::inbox(&app, &caller, &q.map_err(bad_query)?.0).await };
    reply(&caller, r.await)
}

/// `Range: bytes=a-b` / `bytes=a-` / `bytes=-n`, one range only.
fn parse_range(h: &str, size: u64) -> Option<(u64, u64)> {
    let spec = h.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        (size.saturating_sub(n), size.checked_sub(1)?)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            size.checked_sub(1)?
        } else {
            b.parse::<u64>().ok()?.min(size.checked_sub(1)?)
        };
        (start, end)
    };
    (start <= end && end < size).then_some((start, end))
}

async fn body(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let b = match exchange::body_ref(&app, &caller, &id).await {
        Ok(b) => b,
        Err(e) => return with_caller(&caller, e),
    };
    let (status, start, end) = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => (StatusCode::OK, 0, b.size.saturating_sub(1)),
        Some(r) => match parse_range(r, b.size) {
            Some((s, e)) => (StatusCode::PARTIAL_CONTENT, s, e),
            None => {
                let mut resp = with_caller(
                    &caller,
                    Refusal::new(Code::Range, format!("「{r}」，封包共 {} 位元組", b.size)),
                );
                set_header(
                    resp.headers_mut(),
                    header::CONTENT_RANGE,
                    format!("bytes */{}", b.size),
                );
                return resp;
            }
        },
    };
    let len = if b.size == 0 { 0 } else { end - start + 1 };
    const CHUNK: u64 = 256 * 1024;
    let reader = match b.reader {
        Some(r) if r.size() == b.size => std::sync::Arc::new(r),
        _ => {
            return with_caller(
                &caller,
                Refusal::new(
                    Code::Internal,
                    format!("封包 {id} 的內容不在存放區或長度不符"),
                ),
            );
        }
    };
    // Nothing leaves before the whole stored body (not only the range asked for) is checked
    // against its digest: a small body is read once, checked and served from memory; a large
    // one is checked in a first pass, then streamed.
    let body = if b.size <= exchange::VERIFY_IN_MEMORY {
        match exchange::read_verified(&app, &id, &b.sha, &reader).await {
            Ok(data) if len == 0 => {
                drop(data);
                Body::empty()
            }
            Ok(data) => Body::from(bytes::Bytes::from(data).slice(start as usize..=end as usize)),
            Err(e) => return with_caller(&caller, e),
        }
    } else {
        if let Err(e) = exchange::verify_stored(&app, &id, &b.sha, &reader).await {
            return with_caller(&caller, e);
        }
        Body::from_stream(futures_util::stream::unfold(start, move |pos| {
            let reader = reader.clone();
            async move {
                if pos > end || len == 0 {
                    return None;
                }
                let n = CHUNK.min(end + 1 - pos) as usize;
                match reader.read_at(pos, n).await {
                    Ok(data) if data.len() == n => {
                        Some((Ok(bytes::Bytes::from(data)), pos + n as u64))
                    }
                    Ok(_) => Some((Err(std::io::Error::other("封包檔案長度不符")), end + 1)),
                    Err(e) => Some((Err(std::io::Error::other(e.to_string())), end + 1)),
                }
            }
        }))
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pkcs7-mime"),
    );
    h.insert(header::CONTENT_LENGTH, len.into());
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    set_header(h, header::ETAG, format!("\"{}\"", b.sha));
    if status == StatusCode::PARTIAL_CONTENT {
        set_header(
            h,
            header::CONTENT_RANGE,
            format!("bytes {start}-{end}/{}", b.size),
        );
    }
    app.metrics.inc(
        "gongwen_downloads_total",
        if status == StatusCode::OK {
            "whole"
        } else {
            "range"
        },
    );
    resp
}

async fn receipt(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let data = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(d) => d,
        Err(_) => {
            return with_caller(
                &caller,
                Refusal::new(Code::ReceiptInvalid, "回執超過 64 KiB 或傳送中斷"),
            );
        }
    };
    reply(&caller, exchange::receipt(&app, &caller, &id, &data).await)
}

async fn groups(State(app): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    reply(
        &caller,
        participants::groups_for(&app.db, &caller.code).await,
    )
}

async fn put_group(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    body: Body,
) -> Response {
    let r = async {
        let data = axum::body::to_bytes(body, 1024 * 1024)
            .await
            .map_err(|_| Refusal::new(Code::BadRequest, "內容超過 1 MiB"))?;
        let u: GroupUpdate = serde_json::from_slice(&data)
            .map_err(|e| Refusal::new(Code::BadRequest, format!("群組內容：{e}")))?;
        participants::set_group(&app.db, &caller.code, &name, &u.members, app.clock.now_ms())
            .await?;
        let all = participants::groups_for(&app.db, &caller.code).await?;
        all.into_iter()
            .find(|g| g.name == name && g.owner == caller.code)
            .ok_or_else(|| Refusal::bare(Code::Internal))
    }
    .await;
    reply(&caller, r)
}

async fn delete_group(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Response {
    match participants::delete_group(&app.db, &caller.code, &name).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => with_caller(&caller, e),
    }
}

#[derive(serde::Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<u32>,
}

async fn participants(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<SearchQuery>,
) -> Response {
    let limit = i64::from(q.limit.unwrap_or(20).clamp(1, 100));
    reply(&caller, participants::search(&app.db, &q.q, limit).await)
}

async fn participant_certs(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(code): Path<String>,
) -> Response {
    let r = async {
        let p = participants::get(&app.db, &code)
            .await?
            .ok_or_else(|| Refusal::new(Code::NotFound, format!("參與者 {code}")))?;
        crate::snapshot::fill_certs(&app, &code).await?;
        let certs = participants::certs(&app.db, &code, KeyUse::Encryption).await?;
        let mut pem = String::new();
        for c in certs.into_iter().filter(|c| !c.is_empty()) {
            pem.push_str(
                &der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &c)
                    .map_err(|e| Refusal::new(Code::Internal, e.to_string()))?,
            );
        }
        let signing_keys = participants::keys(&app.db, &code, KeyUse::Signing)
            .await?
            .iter()
            .map(|k| participants::hex(k))
            .collect();
        Ok(ParticipantCerts {
            code: p.code,
            name: p.name,
            encryption: pem,
            signing_keys,
        })
    }
    .await;
    reply(&caller, r)
}

async fn records_query(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<records::Query>, QueryRejection>,
) -> Response {
    let mut q = match q {
        Ok(q) => q.0,
        Err(e) => return with_caller(&caller, bad_query(e)),
    };
    if !caller.operator {
        // A participant sees its own records; the center's operators see all.
        if q.participant.as_ref().is_some_and(|p| *p != caller.code) {
            return with_caller(
                &caller,
                Refusal::new(Code::AuthNotOperator, "只能查詢自己的紀錄"),
            );
        }
        q.participant = Some(caller.code.clone());
    }
    match records::query(&app.db, &q).await {
        Ok(page) if q.format.as_deref() == Some("csv") => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"records.csv\"",
                ),
            ],
            records::to_csv(&page.items),
        )
            .into_response(),
        r => reply(&caller, r),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DutyQuery {
    /// How many days back the sender's list reaches (default 30).
    days: Option<u32>,
}

/// Records a paper print a participant reports of a document it sent or received: the
/// statistics count it against the copies exchanged electronically.
async fn paper_print(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<gongwen_proto::api::PaperPrint>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let r = async {
        let Json(p) = body.map_err(|e| Refusal::new(Code::BadRequest, e.body_text()))?;
        let id = p.package_id.trim();
        if id.is_empty() || id.len() > 128 {
            return Err(Refusal::new(Code::BadRequest, "封包編號應為 1 到 128 字元"));
        }
        if !exchange::is_party(&app, &caller.code, id).await? {
            return Err(Refusal::new(
                Code::EventNotParty,
                format!("{} 不是封包 {id} 的發文者或收文者", caller.code),
            ));
        }
        let mut tx = app.db.begin().await?;
        records::event_in(
            &mut tx,
            records::Event {
                package_id: Some(id),
                ..records::Event::new(app.clock.now_ms(), &caller.code, "paper_printed")
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => with_caller(&caller, e),
    }
}

/// Records a participant's security report (malware found …) among the records, for the
/// center's operators.
async fn security_event(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<gongwen_proto::api::SecurityEvent>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let r = async {
        let Json(e) = body.map_err(|e| Refusal::new(Code::BadRequest, e.body_text()))?;
        if e.kind != "malware" {
            return Err(Refusal::new(
                Code::BadRequest,
                format!("事件種類「{}」不認得（目前只有 malware）", e.kind),
            ));
        }
        if e.detail.trim().is_empty() || e.detail.chars().count() > 2000 {
            return Err(Refusal::new(Code::BadRequest, "事件說明應為 1 到 2000 字"));
        }
        if let Some(id) = &e.package_id
            && !caller.operator
            && !exchange::is_party(&app, &caller.code, id).await?
        {
            return Err(Refusal::new(
                Code::EventNotParty,
                format!("{} 不是封包 {id} 的發文者或收文者", caller.code),
            ));
        }
        let mut tx = app.db.begin().await?;
        records::event_in(&mut tx, records::Event { package_id: e.package_id.as_deref(), detail: Some(&format!("{}：{}", e.kind, e.detail)), ..records::Event::new(app.clock.now_ms(), &caller.code, "security_event") })
        .await?;
        tx.commit().await?;
        gongwen_net::log::warn(
            "參與者通報資安事件",
            serde_json::json!({ "participant": caller.code, "kind": e.kind, "package": e.package_id, "detail": e.detail }),
        );
        Ok(())
    }
    .await;
    match r {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => with_caller(&caller, e),
    }
}

async fn duties(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    q: Result<Query<DutyQuery>, QueryRejection>,
) -> Response {
    let r = async {
        let days = q.map_err(bad_query)?.days.unwrap_or(30);
        crate::duty::duties(&app, &caller, days).await
    };
    reply(&caller, r.await)
}

/// A query string that does not fit: the same JSON error as everything else.
fn bad_query(e: QueryRejection) -> Refusal {
    Refusal::new(Code::BadRequest, format!("查詢參數：{}", e.body_text()))
}

async fn not_found(req: Request) -> Response {
    Refusal::new(
        Code::NotFound,
        format!("{} {}", req.method(), req.uri().path()),
    )
    .into_response()
}

async fn openapi() -> Response {
    let doc = crate::openapi::DOCUMENT.as_str();
    ([(header::CONTENT_TYPE, "application/json")], doc).into_response()
}

async fn healthz(State(app): State<Shared>) -> Response {
    gongwen_net::health(app.db.fetch_optional("SELECT 1", &[]).await.is_ok())
}

async fn metrics(State(app): State<Shared>, peer: Option<Extension<Peer>>) -> Response {
    if let Err(e) = crate::web::allowed(&app, peer.as_deref()).await {
        return e.into_response();
    }
    let available = app
        .db
        .fetch_optional(
            &format!(
                "SELECT COUNT(*) FROM copies c WHERE {} AND c.status = 'available'",
                crate::copies::OPEN_COPY
            ),
            &[],
        )
        .await
        .ok()
        .flatten()
        .and_then(|r| r.i64(0).ok())
        .unwrap_or(-1);
    let now = app.clock.now_ms();
    let g = match crate::duty::load_calendar(&app.db).await {
        Ok(cal) => crate::stats::gauges(&app.db, &cal, now).await.ok(),
        Err(_) => None,
    };
    let (open, overdue, today) = g.map_or((-1.0, -1.0, -1.0), |g| {
        (g.open as f64, g.overdue as f64, g.accepted_today as f64)
    });
    let text = app.metrics.render(&[
        (
            "gongwen_copies_available",
            "Copies waiting for their recipient",
            available as f64,
        ),
        (
            "gongwen_copies_open",
            "Copies available or delivered, not yet confirmed or returned",
            open,
        ),
        (
            "gongwen_copies_overdue",
            "Open copies past the recipient's deadline (10:00 of the next working day)",
            overdue,
        ),
        (
            "gongwen_copies_accepted_today",
            "Copies accepted today (Asia/Taipei), as of the last statistics rollup",
            today,
        ),
    ]);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Sets a header built from digits and hex (always a valid value; an invalid one is left out
/// rather than panicking).
fn set_header(h: &mut HeaderMap, name: header::HeaderName, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        h.insert(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(parse_range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=-100", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=0-5000", 1000), Some((0, 999)));
        assert_eq!(parse_range("bytes=1000-", 1000), None);
        assert_eq!(parse_range("bytes=5-1", 1000), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
        assert_eq!(parse_range("bytes=-0", 1000), None);
    }
}
