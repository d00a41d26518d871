//! The directory's pages (zh-TW, server-rendered on the `gongwen-web` layout, no script needed
//! except to upload a signed file): the address book, how to apply and where an application
//! stands, and the reviewers' queue and decisions. Reviewers sign in with their API token; the
//! session is a random cookie (HttpOnly, SameSite=Strict, 8 hours) and every form carries its
//! CSRF token. The templates are in `templates/`; what the pages show comes from the domain
//! modules.

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use gongwen_proto::Code;
use gongwen_proto::directory::{AddressEntry, ApplicationForm, ParticipantKind};
use gongwen_web::assets::{self, Asset};
use gongwen_web::{Badge, Choice, Csrf, FormErrors, Link, NoFields, Page, Site, Tone};
use gongwen_web::{filters, render};
use serde::Deserialize;

use crate::accounts::{self, Session};
use crate::addressbook;
use crate::app::Shared;
use crate::applications::{self, AppState, Application, Step};
use crate::error::DirectoryError;
use crate::improvements::{self, ImprovementNotice};
use crate::registry;
use crate::stats;
use gongwen_web::chart::{self, Bar, BarChart};

const SESSION_COOKIE: &str = "gongwen_dir_session";

const SITE: &Site = &Site {
    name: "公文電子交換通訊錄",
    nav: &[
        Link {
            href: "/address-book",
            label: "地址簿",
        },
        Link {
            href: "/apply",
            label: "申請連線",
        },
        Link {
            href: "/review",
            label: "審核",
        },
        Link {
            href: "/stats",
            label: "統計",
        },
    ],
    styles: &[],
    scripts: &["/static/directory.js"],
};

/// The directory's own static file (the foundation's style sheet and script come with it).
const ASSETS: &[Asset] = &[Asset {
    name: "directory.js",
    body: include_bytes!("../static/directory.js"),
}];

/// The directory's pages, for [`gongwen_web::WebError`].
pub struct Pages;

impl gongwen_web::Service for Pages {
    const SITE: &'static Site = SITE;
}

type WebError = gongwen_web::WebError<Pages>;
type PageResult<T> = Result<Page<T>, WebError>;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/", get(home))
        .route("/address-book", get(address_book))
        .route("/apply", get(apply))
        .route("/apply/form", get(apply_form).post(make_form))
        .route("/applications", get(find_application))
        .route("/applications/{id}", get(application))
        .route("/review/login", get(login_page).post(login))
        .route("/review/logout", post(logout))
        .route("/review", get(queue))
        .route("/review/{id}", get(review_page).post(review))
        .route("/stats", get(stats_page))
        .route("/stats.csv", get(stats_csv))
        .route("/stats.json", get(stats_json))
        .merge(assets::router(ASSETS))
}

/// The state as a badge in the pages (`AppState` is proto's, so a trait).
trait Badged {
    fn badge(self) -> Badge;
}

impl Badged for AppState {
    fn badge(self) -> Badge {
        let tone = match self {
            AppState::Submitted | AppState::FirstApproved | AppState::Correction => Tone::Waiting,
            AppState::Activated => Tone::Ok,
            AppState::Rejected => Tone::Bad,
        };
        Badge {
            label: self.label(),
            tone,
        }
    }
}

// ---------------------------------------------------------------------------
// Everyone

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    site: &'static Site,
    title: &'static str,
}

async fn home() -> Page<Home> {
    Page(Home {
        site: SITE,
        title: "首頁",
    })
}

#[derive(Deserialize)]
struct BookQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "address_book.html")]
struct AddressBook {
    site: &'static Site,
    title: &'static str,
    query: String,
    /// `None` before a search.
    found: Option<Vec<AddressEntry>>,
}

async fn address_book(
    State(app): State<Shared>,
    Query(q): Query<BookQuery>,
) -> PageResult<AddressBook> {
    let query = q.q.trim().to_string();
    let found = match query.as_str() {
        "" => None,
        q => Some(addressbook::search(&app.db, Some(q), 200).await?),
    };
    Ok(Page(AddressBook {
        site: SITE,
        title: "地址簿",
        query,
        found,
    }))
}

#[derive(Template)]
#[template(path = "apply.html")]
struct Apply {
    site: &'static Site,
    title: &'static str,
}

async fn apply() -> Page<Apply> {
    Page(Apply {
        site: SITE,
        title: "申請連線",
    })
}

/// What the applicant typed, kept as typed so a mistake loses nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApplyForm {
    kind: String,
    code: String,
    name: String,
    participant_kind: String,
    ubn: String,
    authority: String,
    center: String,
    receive: Option<String>,
    send: Option<String>,
    card_number: String,
    card_activated_on: String,
    certificates: String,
    ips: String,
    contact_name: String,
    contact_phone: String,
    contact_email: String,
    agree: Option<String>,
    reason: String,
}

#[derive(Template)]
#[template(path = "apply_form.html")]
struct ApplyFormPage {
    site: &'static Site,
    title: &'static str,
    f: ApplyForm,
    kinds: Vec<Choice>,
    participant_kinds: Vec<Choice>,
    centers: Vec<Choice>,
    /// A first visit: both functions are ticked.
    fresh: bool,
    agree_label: String,
    errors: FormErrors,
}

impl ApplyFormPage {
    async fn new(app: &Shared, f: ApplyForm, errors: FormErrors) -> Result<Self, WebError> {
        let centers = registry::centers(&app.db).await?;
        Ok(ApplyFormPage {
            site: SITE,
            title: "填寫申請書",
            kinds: Choice::list(
                [("new", "新申請"), ("change", "異動"), ("cancel", "註銷")],
                &f.kind,
            ),
            participant_kinds: Choice::list(
                ParticipantKind::ALL.iter().map(|k| (k.as_str(), k.label())),
                &f.participant_kind,
            ),
            centers: Choice::list(
                centers.iter().map(|c| {
                    let label = format!("{}（{}，{}）", c.name, c.id, c.kind.label());
                    (c.id.as_str(), label)
                }),
                &f.center,
            ),
            fresh: f.kind.is_empty(),
            agree_label: format!("本機關同意遵守「{}」＊", app.config.usage_rules),
            errors,
            f,
        })
    }
}

async fn apply_form(State(app): State<Shared>) -> PageResult<ApplyFormPage> {
    Ok(Page(
        ApplyFormPage::new(&app, ApplyForm::default(), FormErrors::new()).await?,
    ))
}

/// Checks what was typed and hands back the form file to sign; on a mistake, the same page
/// with the errors and everything typed.
async fn make_form(
    State(app): State<Shared>,
    Form(f): Form<ApplyForm>,
) -> Result<Response, WebError> {
    let form = match build_form(&f, &app.config.usage_rules, app.clock.now_ms()) {
        Ok(form) => form,
        Err(errors) => {
            let page = ApplyFormPage::new(&app, f, errors).await?;
            return Err(WebError::page(StatusCode::BAD_REQUEST, &page));
        }
    };
    let json = serde_json::to_string_pretty(&form).unwrap_or_default();
    let disposition = format!("attachment; filename=\"application-{}.json\"", form.code);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".into(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        json,
    )
        .into_response())
}

fn build_form(f: &ApplyForm, rules: &str, now: i64) -> Result<ApplicationForm, FormErrors> {
    use gongwen_proto::directory::{Agreement, ApplicationKind};
    let one = |field: &'static str, m: String| FormErrors::new().with(Some(field), m);
    if f.agree.is_none() {
        return Err(one("agree", format!("須勾選同意遵守「{rules}」")));
    }
    let kind = match f.kind.as_str() {
        "new" => ApplicationKind::New,
        "change" => ApplicationKind::Change,
        "cancel" => ApplicationKind::Cancel,
        other => return Err(one("kind", format!("申請種類「{other}」不認得"))),
    };
    let participant_kind = ParticipantKind::parse(&f.participant_kind).ok_or_else(|| {
        one(
            "participant_kind",
            format!("機關種類「{}」不認得", f.participant_kind),
        )
    })?;
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let mut certificates = Vec::new();
    if !f.certificates.trim().is_empty() {
        let certs = registry::read_certs(f.certificates.as_bytes(), None)
            .map_err(|e| one("certificates", e.detail))?;
        for c in certs {
            certificates.push(
                der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &c.der)
                    .map_err(|e| one("certificates", e.to_string()))?,
            );
        }
    }
    let form = ApplicationForm {
        kind,
        code: f.code.trim().to_ascii_uppercase(),
        name: f.name.trim().to_string(),
        participant_kind,
        ubn: opt(&f.ubn),
        authority: f.authority.trim().to_ascii_uppercase(),
        center: f.center.trim().to_string(),
        receive: f.receive.is_some(),
        send: f.send.is_some(),
        card_number: opt(&f.card_number),
        card_activated_on: opt(&f.card_activated_on),
        certificates,
        ips: f
            .ips
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        contact_name: f.contact_name.trim().to_string(),
        contact_phone: f.contact_phone.trim().to_string(),
        contact_email: f.contact_email.trim().to_string(),
        agreement: Agreement {
            rules: rules.to_string(),
            agreed_at: now,
        },
        reason: opt(&f.reason),
    };
    applications::check_form(&form, now).map_err(|e| FormErrors::new().with(None, e.detail))?;
    Ok(form)
}

#[derive(Deserialize)]
struct FindQuery {
    #[serde(default)]
    id: String,
}

/// The look-up form of the apply page, without script: to the application's page.
async fn find_application(Query(q): Query<FindQuery>) -> Redirect {
    Redirect::to(&format!("/applications/{}", path_segment(q.id.trim())))
}

/// `s` as one segment of a path (percent-encoded but for unreserved characters).
fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "application.html")]
struct ApplicationPage {
    site: &'static Site,
    title: &'static str,
    a: Application,
    steps: Vec<Step>,
}

async fn application(
    State(app): State<Shared>,
    Path(id): Path<String>,
) -> PageResult<ApplicationPage> {
    let a = applications::get(&app.db, &id).await?;
    let steps = applications::steps(&app.db, &a.id).await?;
    Ok(Page(ApplicationPage {
        site: SITE,
        title: "申請案",
        a,
        steps,
    }))
}

// ---------------------------------------------------------------------------
// Reviewers

/// The signed-in reviewer; a page that takes one sends everyone else to the sign-in page.
struct Reviewer(Session);

impl FromRequestParts<Shared> for Reviewer {
    type Rejection = Redirect;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, Redirect> {
        let to_login = || Redirect::to("/review/login");
        let id = gongwen_web::cookie(&parts.headers, SESSION_COOKIE).ok_or_else(to_login)?;
        match accounts::session(&app.db, &id, app.clock.now_ms()).await {
            Ok(Some(s)) => Ok(Reviewer(s)),
            _ => Err(to_login()),
        }
    }
}

impl gongwen_web::Signed for Reviewer {
    const CSRF_CODE: Code = Code::DirForbidden;
    fn csrf(&self) -> &str {
        &self.0.csrf
    }
    fn refuse(&self, r: gongwen_web::Refusal) -> Response {
        WebError::from(r).into_response()
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login {
    site: &'static Site,
    title: &'static str,
    /// The account name as typed (not `name`: a variable named like a part's parameter is
    /// shadowed inside the part).
    user: String,
    errors: FormErrors,
}

async fn login_page() -> Page<Login> {
    Page(Login {
        site: SITE,
        title: "審核登入",
        user: String::new(),
        errors: FormErrors::new(),
    })
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    token: String,
}

async fn login(State(app): State<Shared>, Form(f): Form<LoginForm>) -> Result<Response, WebError> {
    let s = match accounts::sign_in(&app.db, &f.name, &f.token, app.clock.now_ms()).await {
        Ok(s) => s,
        Err(e) if e.code == Code::DirForbidden => {
            let page = Login {
                site: SITE,
                title: "審核登入",
                user: f.name,
                errors: FormErrors::new().with(None, e.detail),
            };
            return Err(WebError::page(StatusCode::FORBIDDEN, &page));
        }
        Err(e) => return Err(e.into()),
    };
    let cookie = gongwen_web::session_cookie(SESSION_COOKIE, &s.id, accounts::SESSION_MS / 1000);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/review")).into_response())
}

async fn logout(
    State(app): State<Shared>,
    form: Result<Csrf<Reviewer, NoFields>, Response>,
) -> Response {
    if let Ok(Csrf(Reviewer(who), _)) = form {
        // Gone or not, the cookie is removed below.
        let _ = accounts::sign_out(&app.db, &who.id).await;
    }
    let cookie = gongwen_web::clear_cookie(SESSION_COOKIE);
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/review/login"),
    )
        .into_response()
}

#[derive(Deserialize)]
struct QueueQuery {
    #[serde(default)]
    state: String,
}

/// One link of the queue's filter.
struct Filter {
    href: String,
    label: &'static str,
    current: bool,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct Queue {
    site: &'static Site,
    title: &'static str,
    who: Session,
    filters: Vec<Filter>,
    list: Vec<Application>,
    now: i64,
}

async fn queue(
    State(app): State<Shared>,
    Reviewer(who): Reviewer,
    Query(q): Query<QueueQuery>,
) -> PageResult<Queue> {
    let state = AppState::parse(&q.state);
    let list = applications::list(&app.db, &who.account, state).await?;
    let all = std::iter::once(("/review".to_string(), "全部", state.is_none()));
    let each = AppState::ALL.into_iter().map(|s| {
        let href = format!("/review?state={}", s.as_str());
        (href, s.label(), state == Some(s))
    });
    let filters = all
        .chain(each)
        .map(|(href, label, current)| Filter {
            href,
            label,
            current,
        })
        .collect();
    Ok(Page(Queue {
        site: SITE,
        title: "審核",
        who,
        filters,
        list,
        now: app.clock.now_ms(),
    }))
}

/// What happened to the reviewer's last decision.
enum Outcome {
    Done(String),
    Refused(String),
}

#[derive(Template)]
#[template(path = "review.html")]
struct Review {
    site: &'static Site,
    title: &'static str,
    who: Session,
    outcome: Option<Outcome>,
    a: Application,
    /// What the reviewer typed, kept after a mistake.
    typed: String,
    steps: Vec<Step>,
    /// The organisation's other applications: id, state, when.
    past: Vec<(String, AppState, i64)>,
    notices: Vec<ImprovementNotice>,
}

impl Review {
    async fn new(
        app: &Shared,
        who: Session,
        id: &str,
        outcome: Option<Outcome>,
        typed: String,
    ) -> Result<Review, WebError> {
        let a = applications::get_for(&app.db, &who.account, id).await?;
        let steps = applications::steps(&app.db, &a.id).await?;
        let mut past = applications::history_of(&app.db, &a.form.code).await?;
        past.retain(|p| p.0 != a.id);
        let notices = improvements::of(&app.db, &a.form.code).await?;
        Ok(Review {
            site: SITE,
            title: "申請案審核",
            who,
            outcome,
            a,
            typed,
            steps,
            past,
            notices,
        })
    }

    fn can_decide(&self) -> bool {
        matches!(self.a.state, AppState::Submitted | AppState::FirstApproved)
    }
}

async fn review_page(
    State(app): State<Shared>,
    Reviewer(who): Reviewer,
    Path(id): Path<String>,
) -> PageResult<Review> {
    Ok(Page(
        Review::new(&app, who, &id, None, String::new()).await?,
    ))
}

#[derive(Deserialize)]
struct ReviewForm {
    decision: String,
    #[serde(default)]
    message: String,
}

async fn review(
    State(app): State<Shared>,
    Path(id): Path<String>,
    Csrf(Reviewer(who), f): Csrf<Reviewer, ReviewForm>,
) -> Result<Response, WebError> {
    let message = Some(f.message.trim().to_string()).filter(|m| !m.is_empty());
    let done = match applications::decision(&f.decision, message) {
        Ok(d) => {
            let label = d.label();
            applications::review(&app.db, &who.account, &id, d, app.clock.now_ms())
                .await
                .map(|a| format!("已{label}：申請案 {}「{}」", a.id, a.state.label()))
        }
        Err(e) => Err(e),
    };
    let (status, outcome, typed) = match done {
        Ok(text) => (StatusCode::OK, Outcome::Done(text), String::new()),
        // What the reviewer typed stays in the box.
        Err(e) => (
            StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            Outcome::Refused(e.detail),
            f.message,
        ),
    };
    let page = Review::new(&app, who, &id, Some(outcome), typed).await?;
    Ok(render(status, &page))
}

// ---------------------------------------------------------------------------
// Statistics (signed-in accounts only)

#[derive(Deserialize, Default)]
struct StatsQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    site: &'static Site,
    title: &'static str,
    who: Session,
    from: String,
    to: String,
    errors: FormErrors,
    /// `None` when the period asked for is refused.
    r: Option<stats::Report>,
    /// The export links' query.
    query: String,
    /// Inline SVG, escaped by `chart`.
    received_chart: String,
    stops_chart: String,
    states_chart: String,
}

fn bars<'a>(items: impl Iterator<Item = (String, i64)> + 'a) -> Vec<Bar> {
    items
        .map(|(label, v)| Bar {
            label,
            value: Some(v as f64),
        })
        .collect()
}

fn month_label(iso: &str) -> String {
    stats::Month::parse(iso).map_or_else(|| iso.to_string(), stats::Month::roc)
}

async fn stats_page(
    State(app): State<Shared>,
    Reviewer(who): Reviewer,
    Query(q): Query<StatsQuery>,
) -> Result<Response, WebError> {
    let mut page = StatsPage {
        site: SITE,
        title: "統計",
        who,
        from: q.from.trim().chars().take(16).collect(),
        to: q.to.trim().chars().take(16).collect(),
        errors: FormErrors::new(),
        r: None,
        query: String::new(),
        received_chart: String::new(),
        stops_chart: String::new(),
        states_chart: String::new(),
    };
    let now = app.clock.now_ms();
    let (from, to) = match stats::period(&q.from, &q.to, now) {
        Ok(p) => p,
        Err(e) => {
            page.errors.push(Some("from"), e.detail);
            return Ok(render(StatusCode::BAD_REQUEST, &page));
        }
    };
    let r = stats::report(&app.db, from, to, now).await?;
    let desc = format!("{} 至 {}；數字與下表相同。", from.roc(), to.roc());
    let received = bars(r.months.iter().map(|m| (month_label(&m.month), m.received)));
    page.received_chart = chart::bar_chart(&BarChart {
        id: "received",
        title: "各月申請收件數",
        desc: &format!("各月收到的連線申請件數長條圖，{desc}"),
        unit: "",
        bars: &received,
        target: None,
        y_max: None,
    });
    let stops = bars(
        r.months
            .iter()
            .map(|m| (month_label(&m.month), m.suspended + m.terminated)),
    );
    page.stops_chart = chart::bar_chart(&BarChart {
        id: "stops",
        title: "各月暫停與中止件數",
        desc: &format!("各月暫停加中止的件數長條圖，{desc}"),
        unit: "",
        bars: &stops,
        target: None,
        y_max: None,
    });
    let states = bars(
        r.participants
            .by_state
            .iter()
            .map(|c| (c.label.clone(), c.count)),
    );
    page.states_chart = chart::bar_chart(&BarChart {
        id: "states",
        title: "參與者（依狀態）",
        desc: "目前各狀態的參與者數長條圖；數字與下表相同。",
        unit: "",
        bars: &states,
        target: None,
        y_max: None,
    });
    page.from = from.iso();
    page.to = to.iso();
    page.query = format!("from={}&to={}", from.iso(), to.iso());
    page.r = Some(r);
    Ok(render(StatusCode::OK, &page))
}

async fn stats_report(app: &Shared, q: &StatsQuery) -> Result<stats::Report, DirectoryError> {
    let now = app.clock.now_ms();
    let (from, to) = stats::period(&q.from, &q.to, now)?;
    stats::report(&app.db, from, to, now).await
}

async fn stats_json(
    State(app): State<Shared>,
    _who: Reviewer,
    Query(q): Query<StatsQuery>,
) -> Result<Response, DirectoryError> {
    Ok(axum::Json(stats_report(&app, &q).await?).into_response())
}

async fn stats_csv(
    State(app): State<Shared>,
    _who: Reviewer,
    Query(q): Query<StatsQuery>,
) -> Result<Response, DirectoryError> {
    let r = stats_report(&app, &q).await?;
    Ok(gongwen_web::download(
        &format!("directory-stats-{}-{}.csv", r.from, r.to),
        stats::csv(&r),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(errors: FormErrors, f: ApplyForm) -> String {
        ApplyFormPage {
            site: SITE,
            title: "填寫申請書",
            kinds: Choice::list([("new", "新申請")], &f.kind),
            participant_kinds: Vec::new(),
            centers: Choice::list([("center-x", "測試中心")], &f.center),
            fresh: f.kind.is_empty(),
            agree_label: "本機關同意遵守「規範」＊".into(),
            errors,
            f,
        }
        .render()
        .unwrap()
    }

    #[test]
    fn a_form_with_a_mistake_keeps_the_input_and_ties_the_error_to_its_field() {
        let f = ApplyForm {
            kind: "new".into(),
            name: "<臺南>".into(),
            ..ApplyForm::default()
        };
        let html = page(FormErrors::new().with(Some("agree"), "須勾選同意"), f);
        assert!(html.contains("value=\"&lt;臺南&gt;\""), "{html}");
        assert!(!html.contains("<臺南>"), "{html}");
        assert!(html.contains("role=\"alert\""), "{html}");
        assert!(html.contains("href=\"#agree\""), "{html}");
        assert!(
            html.contains("aria-describedby=\"agree-error\" aria-invalid=\"true\""),
            "{html}"
        );
        assert!(html.contains("id=\"agree-error\""), "{html}");
        assert!(html.contains("<html lang=\"zh-Hant-TW\">"), "{html}");
    }

    #[test]
    fn every_field_of_the_form_has_a_label() {
        let html = page(FormErrors::new(), ApplyForm::default());
        for part in html.split("<input").skip(1) {
            let id = part
                .split("id=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_default();
            assert!(!id.is_empty(), "an input without id: {part}");
            assert!(html.contains(&format!("for=\"{id}\"")), "no label for {id}");
        }
    }

    #[test]
    fn lookups_are_one_path_segment() {
        assert_eq!(path_segment("AP-1"), "AP-1");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }
}
