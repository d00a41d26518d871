//! The agent's one listener: the document-system API and the web client on one address, with
//! the pages' security headers. Plain HTTP is refused on anything but a loopback address.

use gongwen_net::{Server, StartError};
use serde_json::json;

use crate::config::ApiConfig;
use crate::{Shared, start_err};

/// Starts the API listener. Plain HTTP is refused on anything but a loopback address.
pub async fn serve(node: Shared, c: &ApiConfig) -> Result<Server, StartError> {
    let tls = match &c.tls {
        Some(t) => Some(
            gongwen_net::server_config(&t.files(
                &node.config.trust_anchors,
                node.config.crls.clone(),
                true,
            ))
            .map_err(|e| start_err(e.code(), e))?,
        ),
        None => {
            let loopback = c
                .listen
                .parse::<std::net::SocketAddr>()
                .map(|a| a.ip().is_loopback())
                .unwrap_or(c.listen.starts_with("localhost:"));
            if !loopback {
                return Err(start_err(
                    "E_CONFIG",
                    format!(
                        "API 位址 {} 不是本機位址，須設定 [agent.api.tls]（不以明文 HTTP 在網路上傳送公文）",
                        c.listen
                    ),
                ));
            }
            None
        }
    };
    let limit = c.upload_limit();
    let secure = tls.is_some();
    let signin = std::sync::Arc::new(crate::web::sign_in());
    let csp: std::sync::Arc<str> = crate::web::page_policy(&node.config.web.signer_url).into();
    let origins = node.config.web.origins.clone();
    let app = crate::api::router(node.clone(), limit)
        .merge(crate::web::router(node, secure, limit, signin.clone()))
        .layer(axum::middleware::from_fn_with_state(
            csp,
            gongwen_net::html::security_headers,
        ));
    let server = Server::start_limited(&c.listen, tls, app, c.limits())
        .await
        .map_err(|e| start_err(e.code(), e))?;
    signin.set_origins(if origins.is_empty() {
        gongwen_net::html::own_origins(server.addr, secure)
    } else {
        origins
    });
    if signin.origins().is_empty() {
        gongwen_net::log::warn(
            "網頁版的網址未設定（[agent.web] origins），無法登入網頁版",
            json!({ "listen": server.addr.to_string() }),
        );
    }
    Ok(server)
}
