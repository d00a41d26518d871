//! A typed client of a center's API over mutual TLS, and of an agency node's API (`agent`).

pub mod agent;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use gongwen_proto::ApiError;
use gongwen_proto::api::{
    CopyView, Group, GroupUpdate, Health, InboxPage, ParticipantCerts, RecordPage, RelayAnswer,
    SentPackage, SentPage, StatusUpdate,
};
use gongwen_proto::directory::{AddressEntry, Application};
use reqwest::{Method, RequestBuilder, StatusCode};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug)]
pub enum ClientError {
    /// The server answered with an error body.
    Api { status: u16, error: ApiError },
    /// No answer, or one that is not ours (connection refused, TLS handshake failed …).
    Transport { detail: String },
    /// Our own certificates or keys could not be used.
    Config { detail: String },
}

impl ClientError {
    /// The API error code, when the server gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { error, .. } => Some(&error.code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Api { status, error } => write!(f, "HTTP {status} {error}"),
            ClientError::Transport { detail } => {
                write!(f, "E_CLIENT_TRANSPORT：連線失敗：{detail}")
            }
            ClientError::Config { detail } => {
                write!(f, "E_CLIENT_CONFIG：用戶端設定錯誤：{detail}")
            }
        }
    }
}

impl std::error::Error for ClientError {}

fn config(detail: impl fmt::Display) -> ClientError {
    ClientError::Config {
        detail: detail.to_string(),
    }
}

fn transport(e: reqwest::Error) -> ClientError {
    let mut detail = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        detail.push('：');
        detail.push_str(&s.to_string());
        src = s.source();
    }
    ClientError::Transport { detail }
}

/// Client TLS: the roots the server must chain to, and our certificate (optional).
pub fn tls_config(
    roots_pem: &[u8],
    identity: Option<(&[u8], &[u8])>,
) -> Result<rustls::ClientConfig, ClientError> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(roots_pem) {
        roots.add(c.map_err(config)?).map_err(config)?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(config)?
        .with_root_certificates(roots);
    let mut cfg = match identity {
        Some((cert_pem, key_pem)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
                .collect::<Result<_, _>>()
                .map_err(config)?;
            let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(config)?;
            builder.with_client_auth_cert(chain, key).map_err(config)?
        }
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

/// A center, as one participant talks to it.
#[derive(Clone)]
pub struct CenterClient {
    base: String,
    http: reqwest::Client,
}

impl CenterClient {
    /// `base` like `https://127.0.0.1:8443`.
    pub fn new(base: &str, tls: rustls::ClientConfig) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(600))
            .pool_max_idle_per_host(32)
            .build()
            .map_err(config)?;
        Ok(CenterClient {
            base: base.trim_end_matches('/').to_string(),
            http,
        })
    }

    /// The center's address, as configured.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    async fn send(rb: RequestBuilder) -> Result<reqwest::Response, ClientError> {
        Self::check(rb.send().await.map_err(transport)?).await
    }

    /// A success as it is; anything else as the server's error.
    async fn check(resp: reqwest::Response) -> Result<reqwest::Response, ClientError> {
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(transport)?;
        let error = serde_json::from_slice::<ApiError>(&body).unwrap_or_else(|_| ApiError {
            code: "E_HTTP".into(),
            message: format!("伺服器回應 HTTP {status}"),
            detail: Some(String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned()),
        });
        Err(ClientError::Api { status, error })
    }

    async fn json<T: serde::de::DeserializeOwned>(rb: RequestBuilder) -> Result<T, ClientError> {
        let resp = Self::send(rb).await?;
        let body = resp.bytes().await.map_err(transport)?;
        serde_json::from_slice(&body).map_err(|e| ClientError::Transport {
            detail: format!("回應無法解讀：{e}"),
        })
    }

    /// Submits a sealed package; the same key again returns the first answer.
    pub async fn submit(
        &self,
        idempotency_key: &str,
        package: Vec<u8>,
    ) -> Result<SentPackage, ClientError> {
        Self::json(
            self.req(Method::POST, "/api/v1/packages")
                .header(gongwen_proto::api::IDEMPOTENCY_KEY, idempotency_key)
                .header("content-type", "application/pkcs7-mime")
                .body(package),
        )
        .await
    }

    /// Submits with a body the caller builds (streaming, or deliberately broken in tests).
    pub async fn submit_body(
        &self,
        idempotency_key: Option<&str>,
        body: reqwest::Body,
        content_length: Option<u64>,
    ) -> Result<SentPackage, ClientError> {
        let mut rb = self.req(Method::POST, "/api/v1/packages").body(body);
        if let Some(k) = idempotency_key {
            rb = rb.header(gongwen_proto::api::IDEMPOTENCY_KEY, k);
        }
        if let Some(n) = content_length {
            rb = rb.header("content-length", n);
        }
        Self::json(rb).await
    }

    pub async fn sent(&self, id: &str) -> Result<SentPackage, ClientError> {
        let id = segment(id)?;
        Self::json(self.req(Method::GET, &format!("/api/v1/packages/{id}"))).await
    }

    /// `query` like `[("open", "true")]`.
    pub async fn sent_list(&self, query: &[(&str, &str)]) -> Result<SentPage, ClientError> {
        Self::json(self.req(Method::GET, "/api/v1/sent").query(query)).await
    }

    /// `query` like `[("status", "available"), ("urgency", "最速件")]`.
    pub async fn inbox(&self, query: &[(&str, &str)]) -> Result<InboxPage, ClientError> {
        Self::json(self.req(Method::GET, "/api/v1/inbox").query(query)).await
    }

    /// The whole sealed body.
    pub async fn fetch(&self, id: &str) -> Result<Vec<u8>, ClientError> {
        let id = segment(id)?;
        let resp = Self::send(self.req(Method::GET, &format!("/api/v1/inbox/{id}/body"))).await?;
        Ok(resp.bytes().await.map_err(transport)?.to_vec())
    }

    /// Bytes from `start` (to `end`, inclusive, when given): resuming a broken download.
    pub async fn fetch_range(
        &self,
        id: &str,
        start: u64,
        end: Option<u64>,
    ) -> Result<Vec<u8>, ClientError> {
        let range = match end {
            Some(e) => format!("bytes={start}-{e}"),
            None => format!("bytes={start}-"),
        };
        let id = segment(id)?;
        let resp = Self::send(
            self.req(Method::GET, &format!("/api/v1/inbox/{id}/body"))
                .header("range", range),
        )
        .await?;
        if resp.status() != StatusCode::PARTIAL_CONTENT {
            return Err(ClientError::Transport {
                detail: format!("要求部分內容卻收到 HTTP {}", resp.status()),
            });
        }
        Ok(resp.bytes().await.map_err(transport)?.to_vec())
    }

    /// Hands in a signed receipt (送達, 收文確認 or 退文).
    pub async fn receipt(&self, id: &str, receipt: Vec<u8>) -> Result<CopyView, ClientError> {
        let id = segment(id)?;
        Self::json(
            self.req(Method::POST, &format!("/api/v1/inbox/{id}/receipts"))
                .header("content-type", "application/pkcs7-mime")
                .body(receipt),
        )
        .await
    }

    pub async fn groups(&self) -> Result<Vec<Group>, ClientError> {
        Self::json(self.req(Method::GET, "/api/v1/groups")).await
    }

    pub async fn put_group(&self, name: &str, members: Vec<String>) -> Result<Group, ClientError> {
        Self::json(
            self.req(
                Method::PUT,
                &format!("/api/v1/groups/{}", encode_segment(name)),
            )
            .json(&GroupUpdate { members }),
        )
        .await
    }

    pub async fn delete_group(&self, name: &str) -> Result<(), ClientError> {
        Self::send(self.req(
            Method::DELETE,
            &format!("/api/v1/groups/{}", encode_segment(name)),
        ))
        .await?;
        Ok(())
    }

    /// Participants whose code or name contains `q` (臺／台 alike).
    pub async fn search_participants(
        &self,
        q: &str,
        limit: u32,
    ) -> Result<Vec<gongwen_proto::api::Listing>, ClientError> {
        let limit = limit.to_string();
        Self::json(
            self.req(Method::GET, "/api/v1/participants")
                .query(&[("q", q), ("limit", limit.as_str())]),
        )
        .await
    }

    pub async fn participant_certs(&self, code: &str) -> Result<ParticipantCerts, ClientError> {
        let code = segment(code)?;
        Self::json(self.req(
            Method::GET,
            &format!("/api/v1/participants/{code}/certificates"),
        ))
        .await
    }

    pub async fn records(&self, query: &[(&str, &str)]) -> Result<RecordPage, ClientError> {
        Self::json(self.req(Method::GET, "/api/v1/records").query(query)).await
    }

    pub async fn records_csv(&self, query: &[(&str, &str)]) -> Result<String, ClientError> {
        let resp = Self::send(
            self.req(Method::GET, "/api/v1/records")
                .query(query)
                .query(&[("format", "csv")]),
        )
        .await?;
        resp.text().await.map_err(transport)
    }

    /// My duty lists: copies to follow up (sender) and to process (recipient).
    pub async fn duties(&self) -> Result<gongwen_proto::api::Duties, ClientError> {
        Self::json(self.req(Method::GET, "/api/v1/duties")).await
    }

    /// Center to center: hands a package on for the listed recipients registered there.
    pub async fn relay_package(
        &self,
        recipients: &[String],
        package: Vec<u8>,
    ) -> Result<RelayAnswer, ClientError> {
        Self::json(
            self.req(Method::POST, "/api/v1/relay/packages")
                .header(gongwen_proto::api::RELAY_RECIPIENTS, recipients.join(","))
                .header("content-type", "application/pkcs7-mime")
                .body(package),
        )
        .await
    }

    /// Center to center: a copy's new status, back to the center the package came from.
    pub async fn relay_status(&self, update: &StatusUpdate) -> Result<(), ClientError> {
        Self::send(self.req(Method::POST, "/api/v1/relay/status").json(update)).await?;
        Ok(())
    }

    /// Reports a security event (malware found …) to the center.
    pub async fn security_event(
        &self,
        event: &gongwen_proto::api::SecurityEvent,
    ) -> Result<(), ClientError> {
        Self::send(
            self.req(Method::POST, "/api/v1/security-events")
                .json(event),
        )
        .await?;
        Ok(())
    }

    /// Reports one paper print of a document this participant sent (the center's statistics
    /// count it against the copies sent electronically).
    pub async fn paper_print(
        &self,
        print: &gongwen_proto::api::PaperPrint,
    ) -> Result<(), ClientError> {
        Self::send(self.req(Method::POST, "/api/v1/paper-prints").json(print)).await?;
        Ok(())
    }

    pub async fn health(&self) -> Result<Health, ClientError> {
        Self::json(self.req(Method::GET, "/healthz")).await
    }

    pub async fn metrics(&self) -> Result<String, ClientError> {
        Self::send(self.req(Method::GET, "/metrics"))
            .await?
            .text()
            .await
            .map_err(transport)
    }

    pub async fn openapi(&self) -> Result<serde_json::Value, ClientError> {
        Self::json(self.req(Method::GET, "/api/v1/openapi.json")).await
    }
}

/// The directory, as a center (snapshot) or anyone (address book) talks to it.
#[derive(Clone)]
pub struct DirectoryClient {
    base: String,
    http: reqwest::Client,
}

impl DirectoryClient {
    /// `base` like `https://directory.example:8440`; `tls` with the center's client
    /// certificate to fetch snapshots.
    pub fn new(base: &str, tls: rustls::ClientConfig) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(config)?;
        Ok(DirectoryClient {
            base: base.trim_end_matches('/').to_string(),
            http,
        })
    }

    fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// The newest signed snapshot, or `None` when it is still version `have`.
    pub async fn snapshot(&self, have: Option<i64>) -> Result<Option<Vec<u8>>, ClientError> {
        let mut rb = self.req(Method::GET, "/api/v1/snapshot");
        if let Some(v) = have {
            rb = rb.header("if-none-match", format!("\"{v}\""));
        }
        let resp = rb.send().await.map_err(transport)?;
        if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let resp = CenterClient::check(resp).await?;
        Ok(Some(resp.bytes().await.map_err(transport)?.to_vec()))
    }

    /// A participant's encryption certificates (PEM).
    pub async fn participant_certs(&self, code: &str) -> Result<ParticipantCerts, ClientError> {
        let path = format!("/api/v1/participants/{}/certificates", encode_segment(code));
        CenterClient::json(self.req(Method::GET, &path)).await
    }

    /// Submits a signed application (or, with `id`, its correction); answers it as held.
    pub async fn submit_application(
        &self,
        id: Option<&str>,
        signed: Vec<u8>,
    ) -> Result<Application, ClientError> {
        let rb = match id {
            None => self.req(Method::POST, "/api/v1/applications"),
            Some(id) => self.req(Method::PUT, &application_path(id)),
        };
        CenterClient::json(
            rb.header("content-type", "application/pkcs7-mime")
                .body(signed),
        )
        .await
    }

    /// An application's state, by its id.
    pub async fn application(&self, id: &str) -> Result<Application, ClientError> {
        CenterClient::json(self.req(Method::GET, &application_path(id))).await
    }

    /// The applications a reviewer (by API token) may see.
    pub async fn reviews(&self, token: &str) -> Result<Vec<Application>, ClientError> {
        CenterClient::json(self.req(Method::GET, "/api/v1/reviews").bearer_auth(token)).await
    }

    /// A reviewer's decision: `approve`, `correct` or `reject` (the latter two with a message).
    pub async fn review(
        &self,
        token: &str,
        id: &str,
        decision: &str,
        message: Option<&str>,
    ) -> Result<Application, ClientError> {
        CenterClient::json(
            self.req(Method::POST, &format!("{}/review", application_path(id)))
                .bearer_auth(token)
                .json(&serde_json::json!({ "decision": decision, "message": message })),
        )
        .await
    }

    /// Address-book entries matching `q` (a code, or part of a name; 臺/台 alike).
    pub async fn address_book(&self, q: Option<&str>) -> Result<Vec<AddressEntry>, ClientError> {
        let mut rb = self.req(Method::GET, "/api/v1/address-book");
        if let Some(q) = q {
            rb = rb.query(&[("q", q)]);
        }
        CenterClient::json(rb).await
    }
}

fn application_path(id: &str) -> String {
    format!("/api/v1/applications/{}", encode_segment(id))
}

/// An id or code as one path segment, encoded; "." and ".." (which a URL parser would
/// resolve, even percent-encoded) and the empty string are refused.
pub fn segment(s: &str) -> Result<String, ClientError> {
    if matches!(s, "" | "." | "..") {
        return Err(config(format!("「{s}」不能作為網址路徑的一段")));
    }
    Ok(encode_segment(s))
}

/// Percent-encodes a path segment (group names and file names are Chinese).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Posts a signed webhook body to `url`; any 2xx is success.
pub async fn post_webhook(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    signature: &str,
) -> Result<(), ClientError> {
    let resp = http
        .post(url)
        .header("content-type", "application/json")
        .header(gongwen_proto::api::WEBHOOK_SIGNATURE, signature)
        .body(body)
        .send()
        .await
        .map_err(transport)?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(ClientError::Transport {
            detail: format!("通知網址回應 HTTP {}", resp.status()),
        })
    }
}

/// A plain HTTPS client (webhooks): `roots_pem` are the anchors its servers chain to.
pub fn plain_http(roots_pem: &[u8]) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls_config(roots_pem, None)?)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(config)
}

/// 16 random hex digits (multipart boundaries).
fn random_boundary() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:016x}",
        (n as u64) ^ (std::process::id() as u64).rotate_left(32)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_one_path_segment() {
        assert_eq!(
            segment("a/b?c#d%e").unwrap(),
            "a%2Fb%3Fc%23d%25e",
            "every separator encoded"
        );
        assert_eq!(segment("臺北").unwrap(), "%E8%87%BA%E5%8C%97");
        for bad in ["", ".", ".."] {
            assert!(segment(bad).is_err(), "{bad:?}");
        }
    }
}
