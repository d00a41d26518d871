//! The web client (WebjAgent): server-rendered zh-TW pages for organisations that send and
//! receive in the browser. Sign-in is with the organisation's card (a challenge signed by
//! `gongwen signer`, or pasted from it); the session cookie is HttpOnly and SameSite=Strict,
//! expires after 30 idle minutes or 10 hours, and every form carries the session's CSRF
//! token. Pages need no script except the one button that asks the local signer.

mod account;
mod compose;
mod inbox;
mod login;
mod sent;
mod stats;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gongwen_net::Refusal;
use gongwen_web::assets::{self, Asset};
use gongwen_web::{Link, Site};

use crate::{Agency, Shared};

pub use login::{CHALLENGE_HEAD, Session, SignIn, SignedIn, sign_in};

#[derive(Clone)]
pub struct Web {
    pub node: Shared,
    /// Cookies get `Secure` when the listener is HTTPS.
    pub secure: bool,
    /// Sign-in challenges: their key and the site's addresses.
    pub signin: std::sync::Arc<SignIn>,
}

/// The web client's routes. `limit` is the largest upload, read only by the compose routes
/// once the session is known; every other form is at most [`SMALL_BODY`].
pub fn router(node: Shared, secure: bool, limit: usize, signin: std::sync::Arc<SignIn>) -> Router {
    let big = limit.saturating_add(1024 * 1024);
    let uploads = Router::new()
        .route(
            "/compose/preview",
            post(compose::preview).layer(axum::middleware::map_response(shown_in_frame)),
        )
        .route("/compose/send", post(compose::send))
        .layer(axum::middleware::from_fn(move |r, n| {
            gongwen_net::body_limit(big, r, n)
        }));
    Router::new()
        .route("/", get(home))
        .route("/compose", get(compose::show))
        .route("/compose/recipients", get(compose::recipients))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/inbox", get(inbox::list))
        .route("/inbox/{id}", get(inbox::show))
        .route("/inbox/{id}/document", get(inbox::document_html))
        .route("/inbox/{id}/print.pdf", get(inbox::print))
        .route("/inbox/{id}/files/{name}", get(inbox::file))
        .route("/inbox/{id}/confirm", post(inbox::confirm))
        .route("/inbox/{id}/return", post(inbox::return_doc))
        .route("/sent", get(sent::list))
        .route("/sent/{id}/paper.pdf", get(sent::paper))
        .route("/sent/{id}/filing.pdf", get(sent::filing))
        .route("/duties", get(sent::duties))
        .route("/records", get(account::records))
        .route("/records.csv", get(account::records_csv))
        .route("/groups", get(account::groups).post(account::put_group))
        .route("/groups/delete", post(account::delete_group))
        .route("/profile", get(account::profile))
        .route("/stats", get(stats::page))
        .route("/stats.csv", get(stats::csv))
        .route("/stats.json", get(stats::json))
        .layer(axum::middleware::from_fn(|r, n| {
            gongwen_net::body_limit(crate::forms::SMALL_BODY, r, n)
        }))
        .merge(uploads)
        .merge(assets::router(ASSETS))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(Web {
            node,
            secure,
            signin,
        })
}

async fn home(me: Result<SignedIn, Redirect>) -> Redirect {
    me.map_or_else(|to_login| to_login, |_| Redirect::to("/inbox"))
}

/// The web client's chrome on the `gongwen-web` layout: the menu of a signed-in organisation,
/// its own style sheet and script after the foundation's (no inline style or script, so the
/// Content-Security-Policy can forbid both).
pub(crate) const SITE: &Site = &Site {
    name: "公文電子交換（網頁版）",
    nav: &[
        Link::new("/inbox", "收文"),
        Link::new("/compose", "撰寫"),
        Link::new("/sent", "發文"),
        Link::new("/duties", "待辦清單"),
        Link::new("/records", "交換紀錄"),
        Link::new("/groups", "行文群組"),
        Link::new("/stats", "統計"),
        Link::new("/profile", "本機關資料"),
    ],
    styles: &["/static/web.css"],
    scripts: &["/static/web.js"],
};

/// The web client's own static files, served with the foundation's at `/static/{name}`.
const ASSETS: &[Asset] = &[
    Asset::new("web.css", include_bytes!("../../static/web.css")),
    Asset::new("web.js", include_bytes!("../../static/web.js")),
];

/// Who is signed in, as the layout shows it (the menu and the sign-out form need it); `None`
/// on the pages of someone not signed in.
pub(crate) struct Who {
    pub name: String,
    pub code: String,
    pub user: String,
    pub csrf: String,
}

impl Who {
    pub(crate) fn of(a: &Agency, s: &Session) -> Option<Who> {
        Some(Who {
            name: a
                .name
                .clone()
                .unwrap_or_else(|| a.code.as_str().to_string()),
            code: a.code.as_str().to_string(),
            user: s.user.clone(),
            csrf: s.csrf.clone(),
        })
    }
}

pub use gongwen_net::html::page_policy;

/// The compose page shows the preview in a frame: when the preview is refused, the error
/// page is shown there, so it may be framed by this site (and by no other).
async fn shown_in_frame(mut r: Response) -> Response {
    let html = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if html {
        r.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(FRAMED_PAGE_POLICY),
        );
    }
    r
}

/// A page shown in a frame of this site's own pages (a refused preview).
const FRAMED_PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// The policy of the document frame (the rendered DI): its own inline style, nothing else,
/// framed by this site's page only.
pub(crate) const DOCUMENT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

/// The page of a refusal: its message, the detail the user may read and the code, with the
/// way back (what the user typed is kept by the browser's back).
#[derive(Template)]
#[template(path = "agent/error.html")]
struct ErrorPage<'a> {
    site: &'static Site,
    title: &'a str,
    who: Option<Who>,
    message: &'a str,
    detail: &'a str,
    code: &'a str,
}

/// What a page answers instead: the error page, with the menu of whoever is signed in
/// ([`SignedIn::refuse`]; `?` on a refusal when no one is).
/// Boxed: handlers return `Result<_, Refused>`, whose error should stay one pointer.
pub(crate) struct Refused(Box<(Option<Who>, Refusal)>);

impl Refused {
    pub(crate) fn new(who: Option<Who>, e: Refusal) -> Self {
        Refused(Box::new((who, e)))
    }
}

impl From<Refusal> for Refused {
    fn from(e: Refusal) -> Self {
        Refused::new(None, e)
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let (who, e) = *self.0;
        let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        let detail = e.public_detail();
        gongwen_web::render(
            status,
            &ErrorPage {
                site: SITE,
                title: "無法完成",
                who,
                message: e.code.message(),
                detail: &detail,
                code: e.code.as_str(),
            },
        )
    }
}
