//! The document-system API (`/api/v1`): a document-management system sends a DI + SW +
//! attachments, or a draft as JSON, lists and fetches what arrived, signs 簽收 or 退文, and
//! reads statuses and duty lists. Each caller belongs to one agency and sees only its own
//! documents: an API token (`Authorization: Bearer …`) or a registered client certificate.
//! `openapi` describes every route (docs/api/agent.openapi.json).

use std::path::{Path, PathBuf};

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path as UrlPath, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gongwen_net::{Peer, Refusal};
use gongwen_proto::agent::{
    InboxPage, NumberTaken, ReceivedItem, ReceivedState, SendResult, SendState, WhoAmI,
};
use gongwen_proto::{Code, ReturnReason};
use gongwen_store::random_hex;
use serde::Deserialize;

use crate::clients::{self, ApiClient};
use crate::compose::{self, Defaults};
use crate::forms::{file_response, read_multipart};
use crate::receive::{self, Decision};
use crate::send::{self, refusal_of};
use crate::{Agency, Shared};

type Result<T, E = Refusal> = std::result::Result<T, E>;

#[derive(Clone)]
struct Api {
    node: Shared,
    /// Largest upload in bytes.
    limit: usize,
}

/// The API's routes. Only `POST /api/v1/documents` reads up to the upload limit, and only
/// after the caller is known; every other route reads at most 64 KiB.
pub fn router(node: Shared, limit: usize) -> Router {
    let big = limit.saturating_add(1024 * 1024);
    let uploads = Router::new()
        .route("/api/v1/documents", post(send_document))
        .layer(axum::middleware::from_fn(move |r, n| {
            gongwen_net::body_limit(big, r, n)
        }));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/whoami", get(whoami))
        .route("/api/v1/numbers", post(take_number))
        .route("/api/v1/documents/{name}", get(document))
        .route("/api/v1/sent", get(sent_list))
        .route("/api/v1/sent/{id}", get(sent_one))
        .route("/api/v1/inbox", get(inbox))
        .route("/api/v1/inbox/{id}", get(inbox_one))
        .route("/api/v1/inbox/{id}/files/{name}", get(inbox_file))
        .route("/api/v1/inbox/{id}/confirm", post(confirm))
        .route("/api/v1/inbox/{id}/return", post(return_doc))
        .route("/api/v1/duties", get(duties))
        .route("/api/v1/stats", get(stats))
        .layer(axum::middleware::from_fn(|r, n| {
            gongwen_net::body_limit(crate::forms::SMALL_BODY, r, n)
        }))
        .merge(uploads)
        .layer(DefaultBodyLimit::disable())
        .fallback(|| async { Refusal::new(Code::NotFound, "沒有這個 API 路徑") })
        .with_state(Api { node, limit })
}

async fn healthz(State(api): State<Api>) -> Response {
    gongwen_net::health(api.node.db.fetch_optional("SELECT 1", &[]).await.is_ok())
}

async fn openapi() -> Response {
    let doc = crate::openapi::DOCUMENT.as_str();
    ([(header::CONTENT_TYPE, "application/json")], doc).into_response()
}

/// The caller and its agency (its place in `node.agencies`), from the token or the client
/// certificate.
async fn caller(api: &Api, headers: &HeaderMap, peer: Option<&Peer>) -> Result<(ApiClient, usize)> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let cert = peer.and_then(|p| p.key.as_deref());
    let client = clients::find(&api.node.db, token, cert)
        .await?
        .ok_or_else(|| {
            Refusal::new(
                Code::AgentAuth,
                if token.is_some() {
                    "API 權杖不正確或已撤銷"
                } else if cert.is_some() {
                    "用戶端憑證未登記給任何機關（gongwen agent client add --cert）"
                } else {
                    "請求沒有 API 權杖或用戶端憑證"
                },
            )
        })?;
    let at = (api.node.agencies.iter())
        .position(|a| a.code.as_str() == client.agency)
        .ok_or_else(|| {
            Refusal::new(
                Code::AgentAuth,
                format!("用戶端所屬機關 {} 已不在本代理程式的設定中", client.agency),
            )
        })?;
    Ok((client, at))
}

/// The known caller of a request: a handler that takes one is reached by no one else.
struct Caller {
    api: Api,
    client: ApiClient,
    /// The agency's place in `node.agencies`.
    at: usize,
}

impl Caller {
    fn agency(&self) -> &Agency {
        &self.api.node.agencies[self.at]
    }
}

impl FromRequestParts<Api> for Caller {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self> {
        let peer = parts.extensions.get::<Peer>();
        let (client, at) = caller(api, &parts.headers, peer).await?;
        let api = api.clone();
        Ok(Caller { api, client, at })
    }
}

async fn whoami(c: Caller) -> Result<Json<WhoAmI>> {
    let a = c.agency();
    Ok(Json(WhoAmI {
        agency: a.code.as_str().to_string(),
        name: a.name.clone(),
        client: c.client.name.clone(),
        kind: c.client.kind.clone(),
        center: a.center.base().to_string(),
    }))
}

/// The next 發文字號 of the caller's agency this year, for a document it sends on paper: the
/// same series the agent numbers drafts from, so no number is given twice.
async fn take_number(c: Caller) -> Result<(StatusCode, Json<NumberTaken>)> {
    let a = c.agency();
    let Some(word) = a.word.as_deref() else {
        return Err(Refusal::new(
            Code::AgentDocument,
            "本機關沒有設定發文代字（agencies.word），無法編號",
        ));
    };
    let year = crate::compose::today(&c.api.node)?.year;
    let serial = crate::compose::next_number(&c.api.node.db, a.code.as_str(), year).await?;
    let number = gongwen_doc::DocNumber::structured(word, year, serial)
        .map_err(|e| Refusal::new(Code::AgentDocument, format!("發文代字：{}", e.message)))?;
    Ok((
        StatusCode::CREATED,
        Json(NumberTaken {
            doc_number: number.to_string(),
            year,
            serial,
        }),
    ))
}

/// What came in a send: a draft or a DI, with files staged in `uploads`.
struct Upload {
    draft: Option<gongwen_doc::draft::Draft>,
    di: Option<String>,
    /// 立即確認 and a typed resend (fields `confirm_now`, `resend_kind`, `resend_of`).
    options: crate::options::SendOptions,
}

/// Reads a send's multipart body into `uploads/` within the size limit.
async fn read_upload(mp: Multipart, uploads: &Path, limit: usize) -> Result<Upload> {
    let bad = |m: String| Refusal::new(Code::AgentDocument, m);
    let form = read_multipart(mp, uploads, limit, &["di", "sw", "attachment"]).await?;
    let mut out = Upload {
        draft: None,
        di: None,
        options: Default::default(),
    };
    for (k, v) in &form.texts {
        if !["draft", "confirm_now", "resend_kind", "resend_of"].contains(&k.as_str()) {
            return Err(bad(format!(
                "不認得的欄位「{k}」：可用 draft、di、sw、attachment、confirm_now、resend_kind、resend_of"
            )));
        }
        if k == "draft" {
            let d: gongwen_doc::draft::Draft =
                serde_json::from_str(v).map_err(|e| bad(format!("草稿 JSON 有誤：{e}")))?;
            out.draft = Some(d);
        }
    }
    out.options = crate::options::SendOptions::from_fields(
        form.text("confirm_now"),
        form.text("resend_kind"),
        form.text("resend_of"),
    )
    .map_err(bad)?;
    for (k, name) in &form.files {
        if k == "di" {
            if out.di.is_some() {
                return Err(bad("一次只能送一份 DI".into()));
            }
            out.di = Some(name.clone());
        }
    }
    match (&out.draft, &out.di) {
        (Some(_), Some(_)) => Err(bad(
            "請送草稿（draft）或 DI（di）其中之一，不要兩者都送".into()
        )),
        (None, None) => Err(bad("沒有草稿（draft）也沒有 DI（di）".into())),
        _ => Ok(out),
    }
}

/// The set's name: from the caller's Idempotency-Key (a retried request finds the first),
/// or a new one.
fn set_name(headers: &HeaderMap) -> Result<String> {
    match headers.get(gongwen_proto::api::IDEMPOTENCY_KEY) {
        None => Ok(format!("api-{}", random_hex(12))),
        Some(v) => {
            let k = v.to_str().unwrap_or("");
            if k.is_empty()
                || k.len() > 64
                || !k
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(Refusal::new(
                    Code::BadRequest,
                    "Idempotency-Key 須為 1 到 64 個英數字、「-」或「_」",
                ));
            }
            Ok(format!("api-{k}"))
        }
    }
}

async fn send_document(
    State(api): State<Api>,
    headers: HeaderMap,
    peer: Option<axum::Extension<Peer>>,
    mp: Multipart,
) -> Result<Response> {
    let (_, at) = caller(&api, &headers, peer.as_deref()).await?;
    let node = &api.node;
    let a = &node.agencies[at];
    let name = set_name(&headers)?;
    let _claim = node.claims.claim(a.code.as_str(), &name).await;
    let dir = send::staged_dir(node, a, &name);
    // A retried request: answer what became of the first, read nothing. The upload left
    // unread ends this connection, so the answer says so (`Connection: close`): a client
    // that kept it for its next request would see that request cut off.
    if send::sent_row(node, a, &name).await?.is_some() {
        let replay = async {
            let set = crate::folder::declared_set(&dir, &find_di(&dir)?, name)?;
            let r = send::send_staged(node, a, &set, "api").await?;
            Ok::<_, Refusal>(answer(r, None, Vec::new()))
        };
        let mut resp = replay.await.unwrap_or_else(IntoResponse::into_response);
        resp.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
        return Ok(resp);
    }
    let _ = tokio::fs::remove_dir_all(&dir).await;
    let uploads = dir.join(".uploads");
    let result = stage_and_send(&api, a, mp, &dir, &uploads).await;
    let _ = tokio::fs::remove_dir_all(&uploads).await;
    if result.is_err()
        && send::sent_row(node, a, &name)
            .await
            .ok()
            .flatten()
            .is_none()
    {
        // Nothing was recorded: nothing to keep.
        let _ = tokio::fs::remove_dir_all(&dir).await;
    }
    result
}

async fn stage_and_send(
    api: &Api,
    a: &Agency,
    mp: Multipart,
    dir: &Path,
    uploads: &Path,
) -> Result<Response> {
    let node = &api.node;
    let up = read_upload(mp, uploads, api.limit).await?;
    let today = compose::today(node)?;
    let (set, taken) = match (up.draft, up.di) {
        (Some(mut draft), _) => {
            let taken = compose::complete(&node.db, &mut draft, &Defaults::of(a), today).await?;
            (compose::stage(&draft, today, uploads, dir), taken)
        }
        (None, Some(di)) => {
            let io = |e: std::io::Error| Refusal::new(Code::Internal, e.to_string());
            crate::folder::private_dir(dir).map_err(io)?;
            let mut rd = tokio::fs::read_dir(uploads).await.map_err(io)?;
            while let Some(e) = rd.next_entry().await.map_err(io)? {
                tokio::fs::rename(e.path(), dir.join(e.file_name()))
                    .await
                    .map_err(io)?;
            }
            (compose::staged_files(dir, &dir.join(di)), None)
        }
        (None, None) => unreachable!("read_upload refuses a send with neither"),
    };
    let sent = async {
        let mut set = set?;
        // Kept with the staged set, so a set sealed after a restart keeps them too.
        (set.attach_options(&up.options))
            .map_err(|e| Refusal::new(Code::Internal, e.to_string()))?;
        let ignored = compose::undeclared(&set, dir);
        Ok::<_, Refusal>((send::send_staged(node, a, &set, "api").await?, ignored))
    }
    .await;
    if sent.is_err() {
        send::give_back_unsealed(node, a, &crate::folder::dir_name(dir), taken).await;
    }
    let (r, ignored) = sent?;
    Ok(answer(r, taken, ignored))
}

fn answer(r: send::SendResult, taken: Option<compose::Taken>, ignored: Vec<String>) -> Response {
    let state = send_state(&r.state);
    let status = if state == SendState::Submitted {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let body = SendResult {
        name: r.name,
        package_id: r.package_id,
        state,
        state_label: state.label().to_string(),
        package: r.package,
        detail: r.detail,
        serial: taken.map(|t| t.serial),
        ignored_files: ignored,
    };
    (status, Json(body)).into_response()
}

/// The agent's stored send state; a row is only ever written with one of the three.
fn send_state(state: &str) -> SendState {
    SendState::parse(state).unwrap_or(SendState::Sealed)
}

fn find_di(dir: &Path) -> Result<PathBuf> {
    crate::folder::find_di(dir)
        .ok_or_else(|| Refusal::new(Code::Internal, format!("{} 沒有 DI", dir.display())))
}

/// A send as the agent knows it, with the center's statuses once it has it.
async fn document(UrlPath(name): UrlPath<String>, c: Caller) -> Result<Json<SendResult>> {
    let a = c.agency();
    let row = send::sent_row(&c.api.node, a, &name)
        .await?
        .ok_or_else(|| Refusal::new(Code::NotFound, format!("送件 {name} 不存在")))?;
    let package = if row.state == "submitted" {
        Some(
            a.center
                .sent(&row.package_id)
                .await
                .map_err(|e| refusal_of(&e))?,
        )
    } else {
        None
    };
    let state = send_state(&row.state);
    Ok(Json(SendResult {
        name,
        package_id: row.package_id,
        state,
        state_label: state.label().to_string(),
        package,
        detail: row.detail,
        serial: None,
        ignored_files: Vec::new(),
    }))
}

async fn sent_list(
    Query(q): Query<Vec<(String, String)>>,
    c: Caller,
) -> Result<Json<gongwen_proto::api::SentPage>> {
    let a = c.agency();
    let q: Vec<(&str, &str)> = q
        .iter()
        .filter(|(k, _)| ["open", "since", "after", "limit"].contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Ok(Json(
        a.center.sent_list(&q).await.map_err(|e| refusal_of(&e))?,
    ))
}

async fn sent_one(
    UrlPath(id): UrlPath<String>,
    c: Caller,
) -> Result<Json<gongwen_proto::api::SentPackage>> {
    let a = c.agency();
    Ok(Json(a.center.sent(&id).await.map_err(|e| refusal_of(&e))?))
}

async fn duties(c: Caller) -> Result<Json<gongwen_proto::api::Duties>> {
    let a = c.agency();
    Ok(Json(a.center.duties().await.map_err(|e| refusal_of(&e))?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The caller's agency's statistics, the same numbers as the web client's `/stats.json`.
async fn stats(
    q: std::result::Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
    c: Caller,
) -> Result<Json<crate::stats::Report>> {
    let Query(q) = q.map_err(|e| Refusal::new(Code::BadRequest, e.body_text()))?;
    let node = &c.api.node;
    let now = node.clock.now_ms();
    let (from, to) = crate::stats::period(
        q.from.as_deref().unwrap_or_default(),
        q.to.as_deref().unwrap_or_default(),
        now,
    )?;
    let agency = c.agency().code.as_str();
    Ok(Json(
        crate::stats::report(&node.db, agency, from, to, now).await?,
    ))
}

#[derive(Deserialize)]
struct InboxQuery {
    /// delivered (to handle, default), confirmed, returned, quarantined, or all.
    state: Option<String>,
    /// Only what arrived before this time (ms), for the next page.
    before: Option<i64>,
    limit: Option<u32>,
}

async fn inbox(Query(q): Query<InboxQuery>, c: Caller) -> Result<Json<InboxPage>> {
    let a = c.agency();
    let state = q.state.as_deref().unwrap_or("delivered");
    if !["delivered", "confirmed", "returned", "quarantined", "all"].contains(&state) {
        return Err(Refusal::new(
            Code::BadRequest,
            format!(
                "state「{state}」不認得：可用 delivered、confirmed、returned、quarantined、all"
            ),
        ));
    }
    let filter = receive::ReceivedFilter {
        state: ReceivedState::parse(state),
        before: q.before,
        limit: i64::from(q.limit.unwrap_or(100).clamp(1, 500)),
        waiting_first: false,
    };
    let items = receive::received_list(&c.api.node.db, a.code.as_str(), &filter).await?;
    let next_before = (items.len() as i64 == filter.limit)
        .then(|| items.last().map(|i| i.received_at))
        .flatten();
    Ok(Json(InboxPage { items, next_before }))
}

async fn received_row(api: &Api, a: &Agency, id: &str) -> Result<ReceivedItem> {
    receive::received(&api.node.db, a.code.as_str(), id).await
}

async fn inbox_one(UrlPath(id): UrlPath<String>, c: Caller) -> Result<Json<ReceivedItem>> {
    let a = c.agency();
    Ok(Json(received_row(&c.api, a, &id).await?))
}

async fn inbox_file(UrlPath((id, name)): UrlPath<(String, String)>, c: Caller) -> Result<Response> {
    let a = c.agency();
    let row = received_row(&c.api, a, &id).await?;
    let listed = row.files.contains(&name);
    if !listed {
        return Err(Refusal::new(
            Code::NotFound,
            format!("收文 {id} 沒有檔案「{name}」"),
        ));
    }
    let path = receive::inbox_dir(&c.api.node, a).join(&id).join(&name);
    file_response(&path, &name).await
}

async fn confirm(UrlPath(id): UrlPath<String>, c: Caller) -> Result<Json<ReceivedItem>> {
    let a = c.agency();
    receive::decide(&c.api.node, a, &id, &c.client.name, Decision::Confirm).await?;
    Ok(Json(received_row(&c.api, a, &id).await?))
}

#[derive(Deserialize)]
struct ReturnBody {
    /// One of the closed list (誤送, 非本機關權責 …).
    reason: String,
    #[serde(default)]
    text: String,
}

async fn return_doc(
    UrlPath(id): UrlPath<String>,
    c: Caller,
    body: axum::body::Body,
) -> Result<Json<ReceivedItem>> {
    // Who asks first; only then the body (64 KiB at most, see `router`).
    let a = c.agency();
    let body = axum::body::to_bytes(body, crate::forms::SMALL_BODY)
        .await
        .map_err(|e| Refusal::new(Code::BadRequest, format!("退文內容無法讀取：{e}")))?;
    let b: ReturnBody = serde_json::from_slice(&body).map_err(|e| {
        Refusal::new(
            Code::BadRequest,
            format!("退文內容須為 JSON {{\"reason\", \"text\"}}：{e}"),
        )
    })?;
    let reason = ReturnReason::parse(&b.reason).map_err(|m| Refusal::new(Code::BadRequest, m))?;
    receive::decide(
        &c.api.node,
        a,
        &id,
        &c.client.name,
        Decision::Return(reason, b.text),
    )
    .await?;
    Ok(Json(received_row(&c.api, a, &id).await?))
}
