//! 查詢: finding a case by number (案件號, 收文字號, 發文字號, or the incoming letter's), words
//! of its subject, its state and the day it began. Archivists, follow-up staff and
//! administrators find every case; everyone else the cases they (or those they deputise for
//! today) hold or handle, and those of their units — for a desk, supervisor or head, the units
//! under theirs too.

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_web::{Choice, FormErrors, Site, filters};
use serde::Deserialize;

use super::{Me, SITE, Web, WebError, Who};
use crate::OfficeError;
use crate::cases::{self, SearchQuery, State, Visible, WorkItem};
use crate::org::{self, Role, Unit};

pub fn routes() -> Router<Web> {
    Router::new().route("/search", get(search))
}

/// What the search form sends (all optional).
#[derive(Deserialize, Default, Debug, Clone)]
pub struct SearchForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    words: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: String,
}

impl SearchForm {
    fn is_empty(&self) -> bool {
        [&self.number, &self.words, &self.state, &self.from, &self.to]
            .iter()
            .all(|v| v.trim().is_empty())
    }

    /// The form as a query string for page `page` (the paging links keep every criterion).
    fn query(&self, page: i64) -> String {
        let enc = gongwen_client::encode_segment;
        format!(
            "/search?number={}&words={}&state={}&from={}&to={}&page={page}",
            enc(self.number.trim()),
            enc(self.words.trim()),
            enc(self.state.trim()),
            enc(self.from.trim()),
            enc(self.to.trim()),
        )
    }
}

#[derive(Template)]
#[template(path = "office/search.html")]
struct SearchPage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    f: SearchForm,
    states: Vec<Choice>,
    /// Whose cases are searched, in words.
    scope: &'static str,
    items: Vec<WorkItem>,
    searched: bool,
    page: i64,
    prev: String,
    next: String,
    errors: FormErrors,
}

const MS_PER_DAY: i64 = 86_400_000;

/// The form read into a query (without whose cases); the errors tied to their fields.
fn read_form(f: &SearchForm) -> Result<SearchQuery, FormErrors> {
    let mut errors = FormErrors::new();
    let state = match f.state.trim() {
        "" => None,
        s => {
            let st = State::parse(s);
            if st.is_none() {
                errors.push(Some("state"), "請從清單選擇狀態");
            }
            st
        }
    };
    let day = |errors: &mut FormErrors, field: &'static str, label: &str, v: &str| match v.trim() {
        "" => None,
        d => {
            let ms = cases::day_start_ms(d);
            if ms.is_none() {
                errors.push(Some(field), format!("{label}須為日期（YYYY-MM-DD）"));
            }
            ms
        }
    };
    let from_ms = day(&mut errors, "from", "起日", &f.from);
    let before_ms = day(&mut errors, "to", "迄日", &f.to).map(|ms| ms + MS_PER_DAY);
    if let (Some(a), Some(b)) = (from_ms, before_ms)
        && b <= a
    {
        errors.push(Some("to"), "迄日早於起日");
    }
    if f.number.trim().chars().count() > cases::SEARCH_MAX_CHARS {
        errors.push(
            Some("number"),
            format!("文號最多 {} 個字", cases::SEARCH_MAX_CHARS),
        );
    }
    let words: Vec<&str> = f.words.split_whitespace().collect();
    if words.len() > cases::SEARCH_MAX_WORDS
        || words
            .iter()
            .any(|w| w.chars().count() > cases::SEARCH_MAX_CHARS)
    {
        errors.push(
            Some("words"),
            format!(
                "主旨最多 {} 個詞，每詞最多 {} 個字",
                cases::SEARCH_MAX_WORDS,
                cases::SEARCH_MAX_CHARS
            ),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(SearchQuery {
        number: f.number.trim().to_string(),
        words: f.words.trim().to_string(),
        state,
        from_ms,
        before_ms,
        visible: Visible::All,
        page: f
            .page
            .trim()
            .parse::<i64>()
            .unwrap_or(1)
            .clamp(1, cases::SEARCH_MAX_PAGE),
    })
}

/// The units whose cases a person finds: their own unit, and for each unit they are desk,
/// supervisor or head of, that unit and every unit under it.
pub fn visible_units(own: &str, roles: &[(Role, String)], units: &[Unit]) -> Vec<String> {
    let mut out = vec![own.to_string()];
    let mut frontier: Vec<String> = roles
        .iter()
        .filter(|(r, _)| matches!(r, Role::Desk | Role::Supervisor | Role::Head))
        .map(|(_, u)| u.clone())
        .collect();
    // Three levels at most: the agency, 一級, 二級; bounded all the same.
    for _ in 0..units.len().max(1) {
        let Some(u) = frontier.pop() else { break };
        if !out.contains(&u) {
            out.push(u.clone());
        }
        for child in units.iter().filter(|c| c.parent.as_deref() == Some(&u)) {
            if !out.contains(&child.id) {
                frontier.push(child.id.clone());
            }
        }
    }
    out
}

/// Whether `me` may open case `id`: whoever may find it ([`visible`]), the 收發 (who registers
/// and dispatches every case), whoever acted on it (or acts today for someone who did), and
/// the units asked for 會辦. Everyone else is refused: case numbers run in sequence, and a
/// 密件 must not open for anyone who types its number.
pub async fn may_view(me: &Me, id: &str) -> Result<(), Refusal> {
    let refuse = || {
        Refusal::new(
            Code::OfficeNotAllowed,
            format!("您與案件「{id}」無關，不能查看"),
        )
    };
    let (vis, _) = visible(me).await?;
    let Visible::Own { people, units } = vis else {
        return Ok(());
    };
    if me.has(Role::Clerk) {
        return Ok(());
    }
    let db = &me.app.db;
    let c = cases::case(db, id).await?;
    let mine = |p: &Option<String>| p.as_ref().is_some_and(|p| people.contains(p));
    if mine(&c.holder) || mine(&c.officer) || c.unit.as_ref().is_some_and(|u| units.contains(u)) {
        return Ok(());
    }
    let trail = crate::steps::trail(db, id).await?;
    if (trail.iter()).any(|s| people.contains(&s.actor) || mine(&s.principal)) {
        return Ok(());
    }
    let consults = cases::consults(db, id).await?;
    if consults.iter().any(|k| units.contains(&k.unit)) {
        return Ok(());
    }
    Err(refuse())
}

/// Whose cases `me` may find.
async fn visible(me: &Me) -> Result<(Visible, &'static str), OfficeError> {
    if [Role::Archivist, Role::FollowUp, Role::Admin]
        .iter()
        .any(|r| me.has(*r))
    {
        return Ok((Visible::All, "全機關的案件"));
    }
    let db = &me.app.db;
    let mut people = vec![me.person.id.clone()];
    people.extend(org::principals_on(db, &me.person.id, &me.today()).await?);
    let units = visible_units(&me.person.unit, &me.roles, &org::units(db).await?);
    Ok((
        Visible::Own { people, units },
        "您（及今天您代理的人）承辦或持有的案件，以及您單位的案件",
    ))
}

async fn search(me: Me, Query(f): Query<SearchForm>) -> Result<Response, WebError> {
    let (vis, scope) = visible(&me).await.map_err(Refusal::from)?;
    let states = Choice::list(
        std::iter::once(("", "全部")).chain(State::ALL.iter().map(|s| (s.as_str(), s.label()))),
        f.state.trim(),
    );
    let mut page = SearchPage {
        site: SITE,
        title: "查詢案件",
        who: Some(me.who()),
        states,
        scope,
        items: Vec::new(),
        searched: false,
        page: 1,
        prev: String::new(),
        next: String::new(),
        errors: FormErrors::new(),
        f: SearchForm::default(),
    };
    let q = match read_form(&f) {
        Ok(q) => q,
        Err(errors) => {
            page.errors = errors;
            page.f = f;
            return Err(WebError::page(StatusCode::BAD_REQUEST, &page));
        }
    };
    if !f.is_empty() || !f.page.is_empty() {
        let q = SearchQuery { visible: vis, ..q };
        match cases::search(&me.app.db, &q).await {
            Ok(found) => {
                page.searched = true;
                page.page = q.page;
                if q.page > 1 {
                    page.prev = f.query(q.page - 1);
                }
                if found.more && q.page < cases::SEARCH_MAX_PAGE {
                    page.next = f.query(q.page + 1);
                }
                page.items = found.items;
            }
            Err(OfficeError::Refused(r)) => {
                page.errors = FormErrors::new().with(None, r.detail);
                page.f = f;
                return Err(WebError::page(StatusCode::BAD_REQUEST, &page));
            }
            Err(e) => return Err(Refusal::from(e).into()),
        }
    }
    page.f = f;
    Ok(gongwen_web::render(StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::testing::unit;

    #[test]
    fn supervisors_see_the_units_under_theirs() {
        let units = [
            unit("edu", None, 0),
            unit("school", Some("edu"), 1),
            unit("k12", Some("school"), 2),
            unit("sports", Some("edu"), 1),
        ];
        let mut v = visible_units("k12", &[(Role::Officer, "k12".into())], &units);
        v.sort();
        assert_eq!(v, ["k12"]);
        let mut v = visible_units("school", &[(Role::Supervisor, "school".into())], &units);
        v.sort();
        assert_eq!(v, ["k12", "school"]);
        let v = visible_units("edu", &[(Role::Head, "edu".into())], &units);
        assert_eq!(v.len(), 4);
    }

    #[test]
    fn the_form_is_read_with_its_errors_tied() {
        let f = |state: &str, from: &str, to: &str| SearchForm {
            state: state.into(),
            from: from.into(),
            to: to.into(),
            ..SearchForm::default()
        };
        let q = read_form(&f("filed", "2026-01-01", "2026-01-01")).unwrap();
        assert_eq!(q.state, Some(State::Filed));
        assert_eq!(
            q.before_ms.unwrap() - q.from_ms.unwrap(),
            MS_PER_DAY,
            "the last day is included"
        );
        let e = read_form(&f("nope", "2026-13-01", "x")).unwrap_err();
        for field in ["state", "from", "to"] {
            assert!(!e.of(field).is_empty(), "{field}");
        }
        let e = read_form(&f("", "2026-02-01", "2026-01-01")).unwrap_err();
        assert!(!e.of("to").is_empty());
        let many = SearchForm {
            words: "a b c d e f".into(),
            ..SearchForm::default()
        };
        assert!(!read_form(&many).unwrap_err().of("words").is_empty());
        let paged = SearchForm {
            page: "99999".into(),
            ..SearchForm::default()
        };
        assert_eq!(read_form(&paged).unwrap().page, cases::SEARCH_MAX_PAGE);
    }

    #[test]
    fn paging_keeps_the_criteria() {
        let f = SearchForm {
            words: "校園 安全".into(),
            state: "filed".into(),
            ..SearchForm::default()
        };
        let q = f.query(2);
        assert!(q.starts_with("/search?number=&words=%E6%A0%A1"), "{q}");
        assert!(
            q.contains("%20") && q.ends_with("&state=filed&from=&to=&page=2"),
            "{q}"
        );
    }

    use super::super::intake::testweb::{labelled, with_web};

    async fn add_case(
        db: &gongwen_store::Db,
        id: &str,
        subject: &str,
        unit: Option<&str>,
        holder: Option<&str>,
    ) {
        db.execute(
            "INSERT INTO office_cases (id, origin, subject, matter, urgency, state, unit, officer, holder, created_at) VALUES ($1, 'paper', $2, '一般', '普通件', 'with_officer', $3, $4, $4, 1767580200000)",
            &[id.into(), subject.into(), unit.into(), holder.into()],
        )
        .await
        .unwrap();
    }

    #[test]
    fn people_find_their_own_cases_and_archivists_all() {
        with_web("web-search", "officer", |w| async move {
            add_case(
                &w.db,
                "1150000001",
                "校園安全",
                Some("k12"),
                Some("officer"),
            )
            .await;
            add_case(&w.db, "1150000002", "校園午餐", Some("hs"), Some("other")).await;
            let page = w.get("/search").await;
            assert_eq!(page.status, StatusCode::OK);
            labelled(&page.body);
            assert!(!page.body.contains("查詢結果"), "nothing searched yet");
            let r = w.get("/search?words=%E6%A0%A1%E5%9C%92").await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert!(r.body.contains("href=\"/cases/1150000001\""));
            assert!(!r.body.contains("1150000002"), "another unit's case");
            assert!(r.body.contains("中華民國115年1月5日"));
            let bad = w.get("/search?from=2026-13-01&state=nope").await;
            assert_eq!(bad.status, StatusCode::BAD_REQUEST);
            assert!(
                bad.body.contains("id=\"from-error\"") && bad.body.contains("id=\"state-error\"")
            );
            assert!(bad.body.contains("value=\"2026-13-01\""), "kept");
        });
        with_web("web-search-all", "admin", |w| async move {
            add_case(&w.db, "1150000002", "校園午餐", Some("hs"), Some("other")).await;
            let r = w.get("/search?number=0002&page=1").await;
            assert!(r.body.contains("href=\"/cases/1150000002\""), "{}", r.body);
            assert!(r.body.contains("全機關的案件"));
        });
    }
}
