//! The static files of the pages, served at `/static/{name}`: the foundation's style sheet and
//! script, and each service's own. Files are compiled into the binary (government intranets:
//! no CDN). Answers carry the file's type, an ETag of its content and `Cache-Control:
//! no-cache`, so browsers keep the file and ask only whether it changed (a `304` when not).

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One static file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub name: &'static str,
    pub body: &'static [u8],
}

impl Asset {
    /// A file, in a `const` list.
    pub const fn new(name: &'static str, body: &'static [u8]) -> Asset {
        Asset { name, body }
    }
}

/// The foundation's own files, which the layout loads on every page.
pub const FOUNDATION: &[Asset] = &[
    Asset::new("gongwen.css", include_bytes!("../static/gongwen.css")),
    Asset::new("gongwen.js", include_bytes!("../static/gongwen.js")),
];

/// The type of a file, by its extension.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The ETag of a body: FNV-1a, enough to tell versions of one file apart.
fn etag(body: &[u8]) -> String {
    let h = body.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("\"{h:016x}\"")
}

/// The answer for `name` among `files`: the file, `304` if the browser has it, `404`.
pub fn serve(files: &[Asset], name: &str, headers: &HeaderMap) -> Response {
    let Some(a) = FOUNDATION.iter().chain(files).find(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let tag = etag(a.body);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type(a.name))], a.body).into_response()
    };
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    r
}

/// `/static/{name}`: the foundation's files and `own`.
pub fn router<S: Clone + Send + Sync + 'static>(own: &'static [Asset]) -> Router<S> {
    Router::new().route(
        "/static/{name}",
        get(
            move |Path(name): Path<String>, headers: HeaderMap| async move {
                serve(own, &name, &headers)
            },
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_have_their_type_and_a_validator() {
        let r = serve(&[], "gongwen.css", &HeaderMap::new());
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/css; charset=utf-8");
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        let tag = r.headers()[header::ETAG].clone();
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, tag);
        assert_eq!(
            serve(&[], "gongwen.css", &h).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            serve(&[], "../Cargo.toml", &HeaderMap::new()).status(),
            StatusCode::NOT_FOUND
        );
    }
}
