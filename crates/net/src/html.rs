//! What every service's server-rendered pages need: the session cookie and the security headers
//! (escaping is the templates' own, in `gongwen-web`).

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|c| c.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The headers every answer carries: no type sniffing, no referrer to other sites, and for
/// pages the Content-Security-Policy in the state (answers that are not pages may be framed
/// by this site only). A handler that sets its own policy keeps it. Used with
/// `axum::middleware::from_fn_with_state(policy, security_headers)`.
pub async fn security_headers(
    axum::extract::State(csp): axum::extract::State<std::sync::Arc<str>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = if html {
            HeaderValue::from_str(&csp).ok()
        } else {
            // A PDF shown in the compose page's preview frame, a download, JSON.
            Some(HeaderValue::from_static("frame-ancestors 'self'"))
        };
        if let Some(p) = policy {
            h.insert(header::CONTENT_SECURITY_POLICY, p);
        }
    }
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    r
}

/// The policy of pages that use only their own site's script and style sheet.
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// The policy of pages that ask the local signing program (`gongwen signer`, at `signer_url`
/// on the person's PC) to sign: [`PAGE_POLICY`] with the signer as a place to connect to.
pub fn page_policy(signer_url: &str) -> String {
    let signer = signer_url
        .trim_end_matches('/')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ';' && *c != ',')
        .collect::<String>();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self' {signer}; frame-src 'self'; frame-ancestors 'none'; form-action 'self'; \
         base-uri 'none'; object-src 'none'"
    )
}

/// A site's addresses (origins) when none are configured: the listener's own (and `localhost`
/// for a loopback address); none for an address that names every interface.
pub fn own_origins(addr: std::net::SocketAddr, secure: bool) -> Vec<String> {
    let scheme = if secure { "https" } else { "http" };
    let ip = addr.ip();
    if ip.is_unspecified() {
        return Vec::new();
    }
    let mut v = vec![format!("{scheme}://{addr}")];
    if ip.is_loopback() {
        v.push(format!("{scheme}://localhost:{}", addr.port()));
    }
    v
}
