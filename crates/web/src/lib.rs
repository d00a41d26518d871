//! The one page foundation of the services' web pages (the directory's today; the agent's web
//! client and the office's pages next): askama templates on one layout, the reusable parts,
//! ROC dates, the static files, and the web error that renders the error page or the form again.
//!
//! # Why a crate of its own, beside `net`
//!
//! DESIGN.md draws services → {web, net, store, …} → {proto, doc}. `net` is the transport: the
//! TLS listener, client identity, logs and metrics, which every service needs — the center too,
//! which has no pages. Putting askama and the page chrome into `net` would make every user of
//! the listener compile a template engine and would mix two concerns in one crate. So the
//! foundation sits beside `net` and depends on it only for [`Refusal`] (the one error of the
//! services), and on `doc` for the ROC calendar. Nothing here depends on a service.
//!
//! # How a service uses it
//!
//! 1. `askama.toml` in the service crate (copy the directory's): `[general] dirs =
//!    ["templates", "../web/templates"]`, so its templates can `{% extends "web/base.html" %}`
//!    and `{% import "web/parts.html" as ui %}`, and the escaper [`Escape`] for `html`.
//! 2. One [`Site`] (name, main menu, its own style sheets and scripts) and a marker type implementing [`Service`];
//!    `type WebError = gongwen_web::WebError<Marker>`.
//! 3. Every page is a `#[derive(Template)]` struct with the fields `site: &'static Site` and
//!    `title` that the layout reads; handlers return `Result<Page<T>, WebError>`.
//! 4. `use gongwen_web::filters;` in the module of the page structs gives `{{ ms|roc }}`.
//! 5. [`assets::router`] serves `/static/…`: the foundation's style sheet and script plus the
//!    service's own files.
//!
//! 6. Signed-in pages: the service's session extractor implements [`Signed`]; a handler
//!    that takes a form takes [`Csrf`]`<Session, Form>`, which checks the form's token.
//!
//! # The layout's blocks (web/base.html)
//!
//! `nav` (default: the site's menu), `account` (who is signed in, the sign-out form), `main`,
//! `footer`. The layout gives a skip link, `lang="zh-Hant-TW"`, the `<h1>` from `title`.
//!
//! # The parts (web/parts.html)
//!
//! `ui::alert(text)`, `ui::status(text)` (role="alert" / role="status"), `ui::errors(errors)`
//! (the error summary of a form, role="alert", each linked to its field), `ui::field`,
//! `ui::textarea`, `ui::select`, `ui::checkbox` (label, kept value, hint and error tied by
//! `aria-describedby`), `ui::badge(badge)`, and `{% call(row) ui::table(caption, headers, rows) %}`.

extern crate self as gongwen_web;

pub mod assets;
pub mod chart;
mod error;
mod form;
mod session;
pub mod signin;

use std::fmt;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

pub use error::{ErrorPage, WebError};
pub use form::{Choice, FieldError, FormErrors};
pub use gongwen_net::Refusal;
pub use gongwen_net::html::{PAGE_POLICY, cookie, security_headers};
pub use session::{Csrf, NoFields, Signed};

/// What every page of one service shares: its name (in the header and every title), its main
/// menu, and its own style sheets and scripts (the foundation's come always, first).
#[derive(Debug)]
pub struct Site {
    pub name: &'static str,
    pub nav: &'static [Link],
    /// Paths of the service's own style sheets, loaded after the foundation's.
    pub styles: &'static [&'static str],
    /// Paths of the service's own scripts, loaded with `defer` after the foundation's.
    pub scripts: &'static [&'static str],
}

/// One entry of a menu.
#[derive(Debug)]
pub struct Link {
    pub href: &'static str,
    pub label: &'static str,
}

impl Link {
    /// An entry, in a `const` [`Site`]'s menu.
    pub const fn new(href: &'static str, label: &'static str) -> Link {
        Link { href, label }
    }
}

/// A service's pages: the type names the [`Site`], so a [`WebError`] knows which chrome to
/// render the error page in without any state.
pub trait Service: 'static {
    const SITE: &'static Site;
}

/// A page as an answer, `200 OK`: handlers return `Ok(Page(template))`; for another status,
/// `(status, Page(template))`.
pub struct Page<T>(pub T);

impl<T: Template> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        render(StatusCode::OK, &self.0)
    }
}

/// Renders `t` as an HTML answer with `status`. A template that fails to render (a filter's
/// error) answers 500 without details: they go to the log under an incident number.
pub fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            let id = gongwen_net::incident(gongwen_proto::Code::Internal, &e.to_string());
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html(format!("網頁無法產生。{id}")),
            )
                .into_response()
        }
    }
}

/// An export (the statistics pages' CSV and JSON) as a download named `name`: its type from
/// the extension (`.csv`: UTF-8 CSV; else JSON), its name in RFC 6266 form so that a zh-TW
/// name survives.
pub fn download(name: &str, body: String) -> Response {
    let kind = if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "application/json"
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    (
        [
            (axum::http::header::CONTENT_TYPE, kind.to_string()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// A report as a JSON download ([`download`]).
pub fn download_json(name: &str, report: &impl serde::Serialize) -> Response {
    match serde_json::to_string_pretty(report) {
        Ok(body) => download(name, body),
        Err(e) => {
            let id = gongwen_net::incident(gongwen_proto::Code::Internal, &e.to_string());
            (StatusCode::INTERNAL_SERVER_ERROR, format!("無法匯出。{id}")).into_response()
        }
    }
}

/// A status as a badge: its zh-TW label and its tone (the badge's colour class).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Badge {
    pub label: &'static str,
    pub tone: Tone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Done, in force (已開通, 已確認).
    Ok,
    /// Waiting for someone (待初審, 待補正).
    Waiting,
    /// Refused, failed, ended (不同意, 退文).
    Bad,
    /// Neither.
    Neutral,
}

impl fmt::Display for Tone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tone::Ok => "ok",
            Tone::Waiting => "waiting",
            Tone::Bad => "bad",
            Tone::Neutral => "neutral",
        })
    }
}

/// The HTML escaper of every template (configured in each crate's `askama.toml`): the five
/// characters that matter, as named entities (`&lt;`, not askama's own `&#60;`), so pages
/// read the same as before the templates and as the tests expect.
#[derive(Debug, Clone, Copy, Default)]
pub struct Escape;

impl askama::filters::Escaper for Escape {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, s: &str) -> fmt::Result {
        let mut last = 0;
        for (i, b) in s.bytes().enumerate() {
            let entity = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            dest.write_str(&s[last..i])?;
            dest.write_str(entity)?;
            last = i + 1;
        }
        dest.write_str(&s[last..])
    }
}

/// A moment (Unix milliseconds) as a person in Taiwan reads it: `中華民國115年1月5日 10:30`
/// (Asia/Taipei, which has no daylight saving time).
pub fn roc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let local = (secs + 8 * 3600).rem_euclid(86_400);
    let date = gongwen_doc::RocDate::from_unix_taipei(secs)
        .map(|d| d.to_string())
        .unwrap_or_else(|_| secs.to_string());
    format!("{date} {:02}:{:02}", local / 3600, local % 3600 / 60)
}

/// The templates' own filters: `use gongwen_web::filters;` next to the page structs.
pub mod filters {
    /// A value the `roc` filter reads as Unix milliseconds.
    pub trait Millis {
        fn millis(&self) -> i64;
    }
    impl Millis for i64 {
        fn millis(&self) -> i64 {
            *self
        }
    }
    impl<T: Millis + ?Sized> Millis for &T {
        fn millis(&self) -> i64 {
            (**self).millis()
        }
    }

    /// `{{ at|roc }}`: 中華民國115年1月5日 10:30.
    #[askama::filter_fn]
    pub fn roc(value: impl Millis, _env: &dyn askama::Values) -> askama::Result<String> {
        Ok(crate::roc(value.millis()))
    }
}

/// The session cookie as pages set it: HttpOnly, Secure, SameSite=Strict, for `max_age_s`.
pub fn session_cookie(name: &str, value: &str, max_age_s: i64) -> String {
    format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_s}")
}

/// The header that removes cookie `name`.
pub fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Max-Age=0")
}

/// Whether the form's CSRF token is the session's (compared in constant time).
pub fn csrf_matches(expected: &str, given: &str) -> bool {
    !expected.is_empty() && gongwen_net::same_secret(expected.as_bytes(), given.as_bytes())
}

/// The refusal of a form whose CSRF token is not the session's.
pub fn csrf_refusal(code: gongwen_proto::Code) -> Refusal {
    Refusal::new(code, "表單已失效（CSRF 檢查未通過），請重新整理後再送出")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_dates_are_taipei_time() {
        // 2026-01-05 02:30 UTC is 10:30 in Taipei.
        assert_eq!(roc(1_767_580_200_000), "中華民國115年1月5日 10:30");
        // Taipei's midnight is 16:00 UTC the day before.
        assert_eq!(roc(1_767_542_400_000), "中華民國115年1月5日 00:00");
        assert_eq!(roc(1_767_542_400_000 - 1), "中華民國115年1月4日 23:59");
        assert_eq!(roc(0), "中華民國59年1月1日 08:00");
    }

    #[test]
    fn escaping_names_the_five_characters() {
        let mut out = String::new();
        askama::filters::Escaper::write_escaped_str(&Escape, &mut out, "a<b>&\"c'臺").unwrap();
        assert_eq!(out, "a&lt;b&gt;&amp;&quot;c&#39;臺");
    }

    #[test]
    fn csrf_tokens_compare_whole() {
        assert!(csrf_matches("abc", "abc"));
        assert!(!csrf_matches("abc", "abd"));
        assert!(!csrf_matches("abc", "ab"));
        assert!(!csrf_matches("", ""));
    }
}
