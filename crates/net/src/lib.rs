//! The HTTPS plumbing every Gongwen service shares: our own rustls accept loop that hands each
//! request its peer ([`Peer`]: client certificate and IP), JSON log lines, and metrics.

pub mod body;
mod clock;
pub mod html;
pub mod log;
pub mod mail;
pub mod metrics;
mod refusal;
mod tls;

pub use body::{Limits, body_limit};
pub use clock::Clock;
pub use metrics::Metrics;
pub use refusal::{Refusal, details_to_caller, incident, store_code};
pub use tls::{NetError, Peer, Server, ServerTls, TlsFiles, server_config, spki_sha256_hex};

/// The `/healthz` answer of every service: 200 `{"status":"ok","version":…}` when its
/// database answers, 503 otherwise.
pub fn health(database_ok: bool) -> axum::response::Response {
    use axum::response::IntoResponse;
    let status = if database_ok {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if database_ok { "ok" } else { "database unavailable" },
        "version": env!("CARGO_PKG_VERSION"),
    });
    (status, axum::Json(body)).into_response()
}

/// Why a service could not start: a stable code and what was wrong, for its operator.
#[derive(Debug)]
pub struct StartError {
    /// Which service, as people call it (交換中心, 通訊錄服務).
    pub service: &'static str,
    pub code: &'static str,
    pub detail: String,
}

/// `{service}無法啟動：{detail}` — the message only. The code is [`StartError::code`]; whoever
/// prints the error shows it once, beside this (the command line: `錯誤 [E_CONFIG]：…`).
impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}無法啟動：{}", self.service, self.detail)
    }
}

impl std::error::Error for StartError {}

/// HMAC-SHA256 of `msg` with `key`, hex.
pub fn hmac_sha256_hex(key: &[u8], msg: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    aws_lc_rs::hmac::sign(&key, msg)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// A webhook's signature header: `t=<unix>,sha256=<hex>`, HMAC-SHA256 over `t.body` with the
/// receiver's secret, so it can check both the sender and the freshness.
pub fn sign_webhook(secret: &[u8], t: i64, body: &[u8]) -> String {
    let signed = [format!("{t}.").as_bytes(), body].concat();
    format!("t={t},sha256={}", hmac_sha256_hex(secret, &signed))
}

/// Whether `header` is [`sign_webhook`]'s signature of `body` with `secret`, made within
/// `window_s` of `now_s` (an old one replayed is refused). Compared in constant time.
pub fn webhook_signed(secret: &[u8], header: &str, body: &[u8], now_s: i64, window_s: i64) -> bool {
    let t = header
        .split(',')
        .find_map(|p| p.trim().strip_prefix("t="))
        .and_then(|t| t.parse::<i64>().ok());
    let Some(t) = t.filter(|t| (now_s - t).abs() <= window_s) else {
        return false;
    };
    same_secret(
        sign_webhook(secret, t, body).as_bytes(),
        header.trim().as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_signatures_are_checked_with_their_time() {
        let sig = sign_webhook(b"s", 1_000, b"{}");
        assert!(webhook_signed(b"s", &sig, b"{}", 1_100, 300));
        assert!(
            !webhook_signed(b"s", &sig, b"{ }", 1_100, 300),
            "another body"
        );
        assert!(
            !webhook_signed(b"t", &sig, b"{}", 1_100, 300),
            "another secret"
        );
        assert!(!webhook_signed(b"s", &sig, b"{}", 1_400, 300), "too old");
        assert!(!webhook_signed(b"s", "t=x,sha256=00", b"{}", 1_000, 300));
        assert!(!webhook_signed(b"s", "", b"{}", 1_000, 300));
    }
}
