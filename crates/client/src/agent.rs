//! A client of an agency node's document-system API (docs/api/agent.openapi.json): what a
//! document-management system, `gongwen demo` and the tests use.

use gongwen_proto::agent::{InboxPage, NumberTaken, ReceivedItem, SendResult, WhoAmI};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use crate::{CenterClient, ClientError};

/// One part of a `multipart/form-data` send: `draft` (JSON), `di`, `sw` or `attachment`.
pub struct Part<'a> {
    pub field: &'a str,
    /// The file name; none for `draft`.
    pub file: Option<&'a str>,
    pub bytes: &'a [u8],
}

/// The body and its `Content-Type`.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = format!("gongwen-{}", crate::random_boundary());
    let mut body = Vec::new();
    for p in parts {
        body.extend(format!("--{boundary}\r\n").as_bytes());
        let disposition = match p.file {
            // Quotes and line breaks cannot be in a header's quoted string.
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                p.field,
                f.replace(['"', '\r', '\n'], "_")
            ),
            None => format!(
                "Content-Disposition: form-data; name=\"{}\"\r\nContent-Type: application/json\r\n\r\n",
                p.field
            ),
        };
        body.extend(disposition.as_bytes());
        body.extend(p.bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[derive(Clone)]
pub struct AgentClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl AgentClient {
    /// `base` like `http://127.0.0.1:8450` (or https, whose certificate chains to
    /// `roots_pem`); `token` from `gongwen agent client add`.
    pub fn new(base: &str, token: &str, roots_pem: &[u8]) -> Result<AgentClient, ClientError> {
        Ok(AgentClient {
            http: crate::plain_http(roots_pem)?,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        })
    }

    fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    /// Sends a draft or a DI set.
    pub async fn send(
        &self,
        parts: &[Part<'_>],
        idempotency_key: Option<&str>,
    ) -> Result<SendResult, ClientError> {
        let (content_type, body) = multipart(parts);
        let mut rb = self
            .req(Method::POST, "/api/v1/documents")
            .header("content-type", content_type)
            .body(body);
        if let Some(k) = idempotency_key {
            rb = rb.header(gongwen_proto::api::IDEMPOTENCY_KEY, k);
        }
        CenterClient::json(rb).await
    }

    /// Any GET of the API as JSON (for routes without a typed method).
    pub async fn get(&self, path: &str) -> Result<Value, ClientError> {
        self.get_as(path).await
    }

    async fn get_as<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        CenterClient::json(self.req(Method::GET, path)).await
    }

    /// Any POST of the API as JSON (for routes without a typed method).
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        CenterClient::json(self.req(Method::POST, path).json(body)).await
    }

    /// The next 發文字號 of the agency's one series, for a document sent on paper.
    pub async fn take_number(&self) -> Result<NumberTaken, ClientError> {
        CenterClient::json(self.req(Method::POST, "/api/v1/numbers").json(&Value::Null)).await
    }

    /// Who the token belongs to.
    pub async fn whoami(&self) -> Result<WhoAmI, ClientError> {
        self.get_as("/api/v1/whoami").await
    }

    /// A send by its name (as the send answered it).
    pub async fn document(&self, name: &str) -> Result<SendResult, ClientError> {
        self.get_as(&format!("/api/v1/documents/{}", crate::segment(name)?))
            .await
    }

    /// The inbox: `delivered` (to handle), `confirmed`, `returned`, `quarantined` or `all`.
    pub async fn inbox(&self, state: &str) -> Result<InboxPage, ClientError> {
        self.inbox_before(state, None).await
    }

    /// A page of the inbox: what arrived before `before` (a page's `next_before`), newest first.
    pub async fn inbox_before(
        &self,
        state: &str,
        before: Option<i64>,
    ) -> Result<InboxPage, ClientError> {
        let mut rb = self
            .req(Method::GET, "/api/v1/inbox")
            .query(&[("state", state)]);
        if let Some(b) = before {
            rb = rb.query(&[("before", b)]);
        }
        CenterClient::json(rb).await
    }

    /// One received document.
    pub async fn received(&self, id: &str) -> Result<ReceivedItem, ClientError> {
        self.get_as(&format!("/api/v1/inbox/{}", crate::segment(id)?))
            .await
    }

    /// One file of a received document (its DI, SW or an attachment), as it arrived; refused
    /// once it passes `max` bytes, without reading the rest.
    pub async fn received_file(
        &self,
        id: &str,
        name: &str,
        max: usize,
    ) -> Result<Vec<u8>, ClientError> {
        let path = format!(
            "/api/v1/inbox/{}/files/{}",
            crate::segment(id)?,
            crate::segment(name)?
        );
        let mut resp = CenterClient::send(self.req(Method::GET, &path)).await?;
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(crate::transport)? {
            if out.len() + chunk.len() > max {
                return Err(ClientError::Transport {
                    detail: format!("檔案「{name}」超過 {max} 位元組"),
                });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    pub async fn confirm(&self, id: &str) -> Result<ReceivedItem, ClientError> {
        CenterClient::json(
            self.req(
                Method::POST,
                &format!("/api/v1/inbox/{}/confirm", crate::segment(id)?),
            )
            .json(&Value::Null),
        )
        .await
    }

    pub async fn return_doc(
        &self,
        id: &str,
        reason: &str,
        text: &str,
    ) -> Result<ReceivedItem, ClientError> {
        CenterClient::json(
            self.req(
                Method::POST,
                &format!("/api/v1/inbox/{}/return", crate::segment(id)?),
            )
            .json(&serde_json::json!({ "reason": reason, "text": text })),
        )
        .await
    }

    /// The center's view of a sent package: every copy's status.
    pub async fn sent(&self, id: &str) -> Result<gongwen_proto::api::SentPackage, ClientError> {
        self.get_as(&format!("/api/v1/sent/{}", crate::segment(id)?))
            .await
    }
}
