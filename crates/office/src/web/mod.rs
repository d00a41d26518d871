//! The office's pages (zh-TW, on the `gongwen-web` layout): each person signs in with their own
//! card, works from the worklists of their roles, and signs every step with the card through
//! the local signer (`gongwen signer`): the page shows the text, the signer signs exactly it,
//! and the office checks it again before the case changes ([`sign`]).
//!
//! - [`login`]: sign-in and sign-out;
//! - [`home`]: the worklists of the person's roles (and of those they deputise for);
//! - [`sign`]: a prepared step, its signature, its effects at the agent;
//! - [`hook`]: the agent's webhook, which wakes the round that takes in new documents;
//! - [`case`]: the case page and the forms of its actions;
//! - [`intake`]: 待登記 (electronic and paper), registration and 退文;
//! - [`stats`]: the sign-off indicators by month and unit, with charts and exports;
//! - [`search`]: finding a case, for archivists and everyone on their own cases;
//! - [`followup`]: 稽催, the overdue and due-soon cases and each one's 稽催單;
//! - [`admin`]: units, people, roles, deputies, the delegation table, import.

pub mod actions;
pub mod admin;
pub mod case;
pub mod drafting;
pub mod followup;
pub mod home;
pub mod hook;
pub mod intake;
pub mod login;
pub mod search;
pub mod sign;
pub mod stats;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_web::assets::{self, Asset};
use gongwen_web::signin::{Session, SignIn};
use gongwen_web::{ErrorPage, Link, Service, Signed, Site};

use crate::org::{self, Person, Role};
use crate::serve::Shared;

pub use login::sign_in;
pub use sign::{MAX_PENDING, Pending};

/// The pages' state.
#[derive(Clone)]
pub struct Web {
    pub app: Shared,
    /// Cookies get `Secure` when the listener is HTTPS.
    pub secure: bool,
    pub signin: Arc<SignIn>,
}

/// The office's pages, for [`gongwen_web::WebError`].
pub struct Office;

impl Service for Office {
    const SITE: &'static Site = SITE;
}

pub type WebError = gongwen_web::WebError<Office>;

pub(crate) const SITE: &Site = &Site {
    name: "公文管理系統",
    nav: &[
        Link::new("/", "工作清單"),
        Link::new("/intake", "待登記"),
        Link::new("/cases/new", "創簽／創稿"),
        Link::new("/search", "查詢"),
        Link::new("/followup", "稽催"),
        Link::new("/stats", "統計"),
        Link::new("/admin", "系統管理"),
    ],
    styles: &["/static/office.css"],
    scripts: &["/static/office.js"],
};

const ASSETS: &[Asset] = &[
    Asset::new("office.css", include_bytes!("../../static/office.css")),
    Asset::new("office.js", include_bytes!("../../static/office.js")),
];

/// Forms are small; uploads (a paper document's scan, a draft's attachments) go to the routes
/// that allow them, once the session is known.
pub const SMALL_BODY: usize = 256 * 1024;

/// The pages' routes.
pub fn router(app: Shared, secure: bool, signin: Arc<SignIn>) -> Router {
    let csp: Arc<str> = gongwen_net::html::page_policy(&app.config.web.signer_url).into();
    let big = crate::steps::MAX_VERSION_BYTES + 1024 * 1024;
    let uploads = Router::new()
        .merge(intake::upload_routes())
        .merge(admin::upload_routes())
        .merge(case::upload_routes())
        .layer(axum::middleware::from_fn(move |r, n| {
            gongwen_net::body_limit(big, r, n)
        }));
    Router::new()
        .merge(login::routes())
        .merge(home::routes())
        .merge(sign::routes())
        .merge(case::routes())
        .merge(intake::routes())
        .merge(admin::routes())
        .merge(search::routes())
        .merge(followup::routes())
        .merge(stats::routes())
        .merge(hook::routes())
        .layer(axum::middleware::from_fn(|r, n| {
            gongwen_net::body_limit(SMALL_BODY, r, n)
        }))
        .merge(uploads)
        .merge(assets::router(ASSETS))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            csp,
            gongwen_net::html::security_headers,
        ))
        .with_state(Web {
            app,
            secure,
            signin,
        })
}

/// The signed-in person of a request, with their roles. A handler that takes one is reached
/// only with a valid session; everyone else goes to the sign-in page.
pub struct Me {
    pub app: Shared,
    pub person: Person,
    /// Each role with the unit it is held in.
    pub roles: Vec<(Role, String)>,
    pub session: Session,
}

impl FromRequestParts<Web> for Me {
    type Rejection = Redirect;

    async fn from_request_parts(parts: &mut Parts, w: &Web) -> Result<Self, Redirect> {
        let now = w.app.clock.now_ms();
        let (session, had_cookie) = w.signin.session(&w.app.db, &parts.headers, now).await;
        let to_login = || gongwen_web::signin::to_login(had_cookie);
        let session = session.ok_or_else(to_login)?;
        let person = org::person(&w.app.db, &session.owner)
            .await
            .map_err(|_| to_login())?;
        let roles = org::roles(&w.app.db, &person.id)
            .await
            .map_err(|_| to_login())?;
        Ok(Me {
            app: w.app.clone(),
            person,
            roles,
            session,
        })
    }
}

impl Me {
    /// Who is signed in, as the layout shows it.
    pub fn who(&self) -> Who {
        Who {
            name: self.person.display(),
            csrf: self.session.csrf.clone(),
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.iter().any(|(r, _)| *r == role)
    }

    /// Refused unless the person holds `role` (the pages of that role).
    pub fn must(&self, role: Role) -> Result<(), Refusal> {
        if self.has(role) {
            return Ok(());
        }
        Err(Refusal::new(
            Code::OfficeNotAllowed,
            format!("這一頁限{}使用", role.label()),
        ))
    }

    /// Today in Taipei (`YYYY-MM-DD`), for deputies and the delegation table.
    pub fn today(&self) -> String {
        crate::taipei_day(self.app.clock.now_ms())
    }
}

impl Signed for Me {
    const CSRF_CODE: Code = Code::OfficeAuth;
    fn csrf(&self) -> &str {
        &self.session.csrf
    }
    fn refuse(&self, r: Refusal) -> Response {
        ErrorPage::answer(SITE, &r)
    }
}

/// Who is signed in, as the layout shows it (`None` on the sign-in page).
pub struct Who {
    /// 「職稱 姓名」.
    pub name: String,
    pub csrf: String,
}

/// A refusal as the error page: for handlers that answer a response of their own.
pub fn refused(r: impl Into<Refusal>) -> Response {
    ErrorPage::answer(SITE, &r.into()).into_response()
}
