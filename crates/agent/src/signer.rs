//! `gongwen signer`: the small signing program on the clerk's PC, where the card reader is —
//! the part people know from the card-reader components they install today. The web client's
//! sign-in page asks it (from the browser, at 127.0.0.1) to sign the page's challenge with
//! the card's signing key (a key file or PKCS#11), and the document-management system's pages
//! ask it to sign a sign-off step. It signs those two kinds of text and nothing else, shows
//! every step it signs in its window (the log), answers only pages from the origins it was
//! started for, and signs a sign-in challenge only when it names that page's own site
//! (`網站：` equals the `Origin`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_proto::office::{MAX_STEP_BYTES, STEP_HEAD};
use gongwen_trust::cms::{self, Signer};
use gongwen_trust::keys::PrivateKey;
use x509_cert::Certificate;

use crate::AgentError;
use crate::web::CHALLENGE_HEAD;

/// A card (or key file) ready to sign.
pub struct Card {
    pub key: PrivateKey,
    pub cert: Certificate,
    pub chain: Vec<Certificate>,
}

impl Card {
    /// Signs a sign-in challenge or a sign-off step: CMS SignedData with the certificate
    /// chain, as PEM, at `now_s` (Unix seconds). Any other text is refused.
    pub fn sign_challenge(&self, text: &str, now: i64) -> Result<String, AgentError> {
        let challenge = text.starts_with(CHALLENGE_HEAD) && text.len() <= 4096;
        let step = text.starts_with(STEP_HEAD) && text.len() <= MAX_STEP_BYTES;
        if !challenge && !step {
            return Err(AgentError::Refused(Refusal::new(
                Code::BadRequest,
                format!(
                    "只簽署網頁版登入的隨機碼（以「{CHALLENGE_HEAD}」開頭，最多 4096 位元組）或線上簽核的步驟（以「{STEP_HEAD}」開頭，最多 {MAX_STEP_BYTES} 位元組）"
                ),
            )));
        }
        let der = cms::sign(
            text.as_bytes(),
            &Signer {
                key: &self.key,
                cert: &self.cert,
                chain: &self.chain,
            },
            now,
        )
        .map_err(AgentError::trust(""))?;
        der::pem::encode_string("CMS", der::pem::LineEnding::LF, &der).map_err(|e| {
            AgentError::trust("")(gongwen_trust::TrustError::Malformed {
                detail: e.to_string(),
            })
        })
    }
}

struct SignerState {
    card: Card,
    /// Pages allowed to ask; empty: any page served from this PC (127.0.0.1, localhost).
    origins: Vec<String>,
}

fn origin_allowed(s: &SignerState, origin: &str) -> bool {
    if s.origins.is_empty() {
        let host = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("");
        let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
        return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
    }
    s.origins.iter().any(|o| o.trim_end_matches('/') == origin)
}

fn cors(s: &SignerState, headers: &HeaderMap, mut r: Response) -> Response {
    if let Some(o) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
        && origin_allowed(s, o)
        && let Ok(v) = HeaderValue::from_str(o)
    {
        r.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        r.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        r.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    r
}

async fn sign(State(s): State<Arc<SignerState>>, headers: HeaderMap, body: String) -> Response {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !origin.is_empty() && !origin_allowed(&s, origin) {
        gongwen_net::log::warn(
            "拒絕未允許網站的簽章要求",
            serde_json::json!({ "origin": origin }),
        );
        return (
            StatusCode::FORBIDDEN,
            format!("網站 {origin} 不在允許清單中"),
        )
            .into_response();
    }
    // A page may have only its own site's challenge signed: another site's page could
    // otherwise relay a challenge it fetched from a site the card may sign in to.
    let site = body
        .lines()
        .find_map(|l| l.strip_prefix("網站："))
        .unwrap_or("")
        .trim_end_matches('/');
    if body.starts_with(CHALLENGE_HEAD) && (origin.is_empty() || site != origin) {
        gongwen_net::log::warn(
            "拒絕簽署其他網站的登入隨機碼",
            serde_json::json!({ "origin": origin, "site": site }),
        );
        let r = (
            StatusCode::FORBIDDEN,
            format!(
                "只簽署提出要求的網站自己的登入隨機碼：要求來自「{origin}」，隨機碼是給「{site}」的"
            ),
        )
            .into_response();
        return cors(&s, &headers, r);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let r = match s.card.sign_challenge(&body, now) {
        Ok(pem) if body.starts_with(STEP_HEAD) => {
            // What the person signed, in full, where they can read it.
            gongwen_net::log::info(
                "已簽署線上簽核步驟",
                serde_json::json!({ "origin": origin, "text": body }),
            );
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], pem).into_response()
        }
        Ok(pem) => {
            gongwen_net::log::info("已簽署登入隨機碼", serde_json::json!({ "origin": origin }));
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], pem).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    cors(&s, &headers, r)
}

async fn preflight(State(s): State<Arc<SignerState>>, headers: HeaderMap) -> Response {
    cors(&s, &headers, StatusCode::NO_CONTENT.into_response())
}

/// Only that it runs: which card is in the reader is nobody's business (any page can ask).
async fn health(State(s): State<Arc<SignerState>>, headers: HeaderMap) -> Response {
    cors(
        &s,
        &headers,
        axum::Json(serde_json::json!({ "status": "ok" })).into_response(),
    )
}

/// The signer's routes: `POST /sign` (text/plain challenge → PEM), `GET /healthz`.
pub fn router(card: Card, origins: Vec<String>) -> Router {
    Router::new()
        .route("/sign", post(sign).options(preflight))
        .route("/healthz", get(health))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_STEP_BYTES + 1024))
        .with_state(Arc::new(SignerState { card, origins }))
}

/// Starts the signer on a loopback address.
pub async fn serve(
    listen: &str,
    card: Card,
    origins: Vec<String>,
) -> Result<gongwen_net::Server, gongwen_net::StartError> {
    let err = |code: &'static str, detail: String| gongwen_net::StartError {
        service: "本機簽章程式",
        code,
        detail,
    };
    let loopback = listen
        .parse::<std::net::SocketAddr>()
        .map(|a| a.ip().is_loopback())
        .unwrap_or(false);
    if !loopback {
        return Err(err(
            "E_CONFIG",
            format!("簽章程式只能在本機位址（127.0.0.1）上執行，不能用 {listen}"),
        ));
    }
    gongwen_net::Server::start_with(listen, None, router(card, origins))
        .await
        .map_err(|e| err(e.code(), e.to_string()))
}
