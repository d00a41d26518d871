//! Bounds on what an unknown client can make a service hold: how long a request body may take
//! to arrive, how many connections are open at once, and how large a body each route reads.
//!
//! A body that has not arrived within its time is cut: the handler sees an error, and the
//! answer becomes `408 E_HTTP_TIMEOUT` with the connection closed. A body larger than its
//! route allows is refused with `413 E_HTTP_TOO_LARGE` — at once when `Content-Length` says
//! so, before any of it is read, otherwise as soon as the limit is passed.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use gongwen_proto::{ApiError, Code};
use http_body::{Frame, SizeHint};

/// The listener's bounds, as a service's config gives them (see each service's
/// `max_connections`, `max_connections_per_ip` and `body_timeout_s`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Connections open at once from one address.
    pub max_connections_per_ip: usize,
    /// How long a request body may take to arrive, counted from the end of its headers.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        limits(
            DEFAULT_MAX_CONNECTIONS,
            DEFAULT_MAX_CONNECTIONS_PER_IP,
            DEFAULT_BODY_TIMEOUT_S,
        )
    }
}

/// The listener's bounds from a service's config values (each at least 1).
pub fn limits(
    max_connections: usize,
    max_connections_per_ip: usize,
    body_timeout_s: u64,
) -> Limits {
    Limits {
        max_connections: max_connections.max(1),
        max_connections_per_ip: max_connections_per_ip.max(1),
        body_timeout: Duration::from_secs(body_timeout_s.max(1)),
    }
}

/// The serde defaults of those config values, shared by every service's config.
pub fn default_max_connections() -> usize {
    DEFAULT_MAX_CONNECTIONS
}
pub fn default_max_connections_per_ip() -> usize {
    DEFAULT_MAX_CONNECTIONS_PER_IP
}
pub fn default_body_timeout() -> u64 {
    DEFAULT_BODY_TIMEOUT_S
}

/// Defaults of the settings, for the services' config structs.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 128;
pub const DEFAULT_BODY_TIMEOUT_S: u64 = 300;

/// Open connections, in total and per address.
#[derive(Default)]
pub(crate) struct Gate {
    inner: std::sync::Mutex<(usize, std::collections::HashMap<IpAddr, usize>)>,
}

/// One admitted connection; dropping it lets the next one in.
pub(crate) struct Ticket {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Gate {
    /// A ticket for a connection from `ip`, unless that would pass a limit.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr, limits: &Limits) -> Option<Ticket> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let from_ip = g.1.get(&ip).copied().unwrap_or(0);
        if g.0 >= limits.max_connections || from_ip >= limits.max_connections_per_ip {
            return None;
        }
        g.0 += 1;
        g.1.insert(ip, from_ip + 1);
        Some(Ticket {
            gate: self.clone(),
            ip,
        })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut g = self.gate.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.0 = g.0.saturating_sub(1);
        if let Some(n) = g.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                g.1.remove(&self.ip);
            }
        }
    }
}

/// Why a body was cut.
#[derive(Debug)]
struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("請求內容未在時限內傳完")
    }
}

impl std::error::Error for BodyTimeout {}

/// A request body that must arrive before its deadline. The timer is set only when the
/// body makes the reader wait: most bodies are empty or already there.
pub(crate) struct Timed<B> {
    inner: B,
    deadline: tokio::time::Instant,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    cut: Arc<AtomicBool>,
}

impl<B> Timed<B> {
    pub(crate) fn new(inner: B, within: Duration, cut: Arc<AtomicBool>) -> Self {
        Timed {
            inner,
            deadline: tokio::time::Instant::now() + within,
            sleep: None,
            cut,
        }
    }
}

impl<B> http_body::Body for Timed<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(r) => Poll::Ready(r.map(|r| r.map_err(Into::into))),
            Poll::Pending => {
                let deadline = this.deadline;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if sleep.as_mut().poll(cx).is_ready() {
                    this.cut.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(Box::new(BodyTimeout))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The answer for a body cut by its deadline; the connection is closed after it.
pub(crate) fn timed_out() -> Response {
    refusal(
        Code::HttpTimeout,
        "請求內容未在時限內傳完，連線已中斷；請檢查網路後重試",
    )
}

/// The error answer, after which the connection is closed (what is left of the body is not
/// read).
fn refusal(code: Code, detail: &str) -> Response {
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = (
        status,
        axum::Json(ApiError::new(code, Some(detail.to_string()))),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

fn too_large(max: usize) -> Response {
    let size = if max >= 1024 * 1024 {
        format!("{} MiB", max / 1024 / 1024)
    } else {
        format!("{} KiB", max.div_ceil(1024))
    };
    refusal(
        Code::HttpTooLarge,
        &format!("這個路徑的請求內容最多 {size}"),
    )
}

/// Middleware: the body of a request to these routes may be at most `max` bytes. Used with
/// `axum::middleware::from_fn`, e.g. `.layer(from_fn(move |r, n| body_limit(max, r, n)))`;
/// axum's own `DefaultBodyLimit` should be disabled on the same routes.
pub async fn body_limit(max: usize, req: Request, next: axum::middleware::Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large(max);
    }
    let passed = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let body = Body::new(Watched {
        inner: http_body_util::Limited::new(body, max),
        passed: passed.clone(),
    });
    let resp = next.run(Request::from_parts(parts, body)).await;
    let own_format = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json") || t.starts_with("text/html"));
    // The limit was passed: the answer says so with the stable code, unless the handler
    // already said so in its own words (a page, or its own JSON code).
    if passed.load(Ordering::Relaxed)
        && (resp.status() != StatusCode::PAYLOAD_TOO_LARGE || !own_format)
    {
        return too_large(max);
    }
    resp
}

/// Notes when the limit was passed, so the answer can say so.
struct Watched<B> {
    inner: B,
    passed: Arc<AtomicBool>,
}

impl<B> http_body::Body for Watched<B>
where
    B: http_body::Body<Data = Bytes, Error = axum::BoxError> + Unpin,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Err(e))) = &r
            && e.is::<http_body_util::LengthLimitError>()
        {
            this.passed.store(true, Ordering::Relaxed);
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
