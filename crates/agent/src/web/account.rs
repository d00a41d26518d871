//! The organisation's own things: its profile with the card certificates' expiry, its
//! distribution groups (行文群組), and the exchange records (search, CSV for Excel).

use askama::Template;
use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_proto::api::{Record, record_kind_label};
use gongwen_web::{Choice, Csrf, Page, Site, filters};
use serde::Deserialize;

use super::{Refused, SITE, SignedIn, Who};
use crate::send::refusal_of;

/// Days before a card certificate expires when the profile starts warning.
const WARN_DAYS: [i64; 3] = [60, 30, 7];

fn not_after(c: &x509_cert::Certificate) -> i64 {
    c.tbs_certificate
        .validity
        .not_after
        .to_unix_duration()
        .as_secs() as i64
}

/// A card certificate on the profile.
struct CertRow {
    label: &'static str,
    subject: String,
    end_ms: i64,
    days: i64,
}

#[derive(Template)]
#[template(path = "agent/profile.html")]
pub struct Profile {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    /// Certificates expired or about to.
    warnings: Vec<String>,
    code: String,
    agency_name: String,
    word: String,
    center: String,
    user: String,
    certs: Vec<CertRow>,
    /// The directory's address, without the trailing `/`, if the node knows it.
    directory: Option<String>,
}

pub async fn profile(me: SignedIn) -> Page<Profile> {
    let (a, w) = (me.agency(), &me.node);
    let now = w.clock.now_s();
    let mut warnings = Vec::new();
    let mut certs = Vec::new();
    for (label, c) in [("簽章憑證", a.sign_cert()), ("加密憑證", a.enc_cert())] {
        let end = not_after(c);
        let days = (end - now).div_euclid(86_400);
        let at = gongwen_web::roc(end * 1000);
        if days < 0 {
            warnings.push(format!(
                "{label}已於{at}到期：無法收發公文，請向憑證管理中心辦理換發，並以新憑證申請異動。"
            ));
        } else if let Some(t) = WARN_DAYS.iter().rev().find(|t| days <= **t) {
            warnings.push(format!(
                "{label}將於 {days} 天後（{at}）到期（{t} 天內）：請儘早辦理憑證 IC 卡屆期換發，並以新憑證申請異動。"
            ));
        }
        certs.push(CertRow {
            label,
            subject: c.tbs_certificate.subject.to_string(),
            end_ms: end * 1000,
            days,
        });
    }
    Page(Profile {
        site: SITE,
        title: "本機關資料",
        who: me.who(),
        warnings,
        code: a.code.as_str().to_string(),
        agency_name: a.name.clone().unwrap_or_default(),
        word: a.word.clone().unwrap_or_else(|| "（未設定）".into()),
        center: a.center.base().to_string(),
        user: me.session.user.clone(),
        certs,
        directory: (w.config.web.directory_url.as_deref())
            .map(|u| u.trim_end_matches('/').to_string()),
    })
}

/// A distribution group as the page lists it.
struct GroupRow {
    name: String,
    /// This organisation's own (it may delete it), not a shared one.
    own: bool,
    members: String,
}

#[derive(Template)]
#[template(path = "agent/groups.html")]
pub struct Groups {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    csrf: String,
    groups: Vec<GroupRow>,
}

pub async fn groups(me: SignedIn) -> Result<Page<Groups>, Refused> {
    let a = me.agency();
    let list = (a.center.groups().await).map_err(|e| me.refuse(refusal_of(&e)))?;
    Ok(Page(Groups {
        site: SITE,
        title: "行文群組",
        who: me.who(),
        csrf: me.session.csrf.clone(),
        groups: list
            .into_iter()
            .map(|g| GroupRow {
                own: g.owner == a.code.as_str(),
                members: g.members.join("、"),
                name: g.name,
            })
            .collect(),
    }))
}

#[derive(Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    members: String,
}

pub async fn put_group(Csrf(me, f): Csrf<SignedIn, GroupForm>) -> Result<Redirect, Refused> {
    let members: Vec<String> = f
        .members
        .split(|c: char| c.is_whitespace() || c == ',' || c == '、')
        .filter(|m| !m.is_empty())
        .map(|m| m.to_uppercase())
        .collect();
    let put = me.agency().center.put_group(f.name.trim(), members).await;
    put.map_err(|e| me.refuse(refusal_of(&e)))?;
    Ok(Redirect::to("/groups"))
}

pub async fn delete_group(Csrf(me, f): Csrf<SignedIn, GroupForm>) -> Result<Redirect, Refused> {
    let gone = me.agency().center.delete_group(f.name.trim()).await;
    gone.map_err(|e| me.refuse(refusal_of(&e)))?;
    Ok(Redirect::to("/groups"))
}

#[derive(Deserialize, Default)]
pub struct RecordForm {
    /// yyyy-mm-dd (the browser's date input), Asia/Taipei.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    doc_number: String,
    #[serde(default)]
    kind: String,
}

/// Midnight (Asia/Taipei) of a yyyy-mm-dd date, in Unix milliseconds.
fn taipei_midnight(date: &str) -> Result<Option<i64>, Refusal> {
    if date.trim().is_empty() {
        return Ok(None);
    }
    let bad = || Refusal::new(Code::BadRequest, format!("日期「{date}」應為 yyyy-mm-dd"));
    let mut p = date.trim().split('-').map(|x| x.parse::<i64>());
    let (Some(Ok(y)), Some(Ok(m)), Some(Ok(d)), None) = (p.next(), p.next(), p.next(), p.next())
    else {
        return Err(bad());
    };
    let month = time::Month::try_from(u8::try_from(m).map_err(|_| bad())?).map_err(|_| bad())?;
    let day = time::Date::from_calendar_date(
        i32::try_from(y).map_err(|_| bad())?,
        month,
        u8::try_from(d).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    let secs = day.midnight().assume_utc().unix_timestamp() - 8 * 3600;
    Ok(Some(secs * 1000))
}

/// The kinds one may filter by (labels from [`record_kind_label`], defined once).
const KINDS: [&str; 10] = [
    "",
    "accepted",
    "relayed",
    "available",
    "delivered",
    "confirmed",
    "returned",
    "failed",
    "security_event",
    "error",
];

fn query_of(q: &RecordForm) -> Result<Vec<(&'static str, String)>, Refusal> {
    let mut out = Vec::new();
    if let Some(f) = taipei_midnight(&q.from)? {
        out.push(("from", f.to_string()));
    }
    if let Some(t) = taipei_midnight(&q.to)? {
        // The whole of the last day.
        out.push(("to", (t + 86_400_000).to_string()));
    }
    if !q.doc_number.trim().is_empty() {
        out.push(("doc_number", q.doc_number.trim().to_string()));
    }
    if !q.kind.is_empty() {
        if !KINDS.contains(&q.kind.as_str()) {
            return Err(Refusal::new(
                Code::BadRequest,
                format!("紀錄種類「{}」不認得", q.kind),
            ));
        }
        out.push(("kind", q.kind.clone()));
    }
    out.push(("limit", "1000".into()));
    Ok(out)
}

pub async fn records(me: SignedIn, Query(q): Query<RecordForm>) -> Result<Page<Records>, Refused> {
    let query = query_of(&q).map_err(|e| me.refuse(e))?;
    let found = me.agency().center.records(&pairs(&query)).await;
    let records = found.map_err(|e| me.refuse(refusal_of(&e)))?.items;
    let kinds = Choice::list(
        KINDS.iter().map(|k| {
            let label = if k.is_empty() {
                "全部".to_string()
            } else {
                record_kind_label(k)
            };
            (*k, label)
        }),
        &q.kind,
    );
    let csv_query = format!(
        "from={}&to={}&doc_number={}&kind={}",
        gongwen_client::encode_segment(&q.from),
        gongwen_client::encode_segment(&q.to),
        gongwen_client::encode_segment(&q.doc_number),
        gongwen_client::encode_segment(&q.kind)
    );
    Ok(Page(Records {
        site: SITE,
        title: "交換紀錄",
        who: me.who(),
        from: q.from,
        to: q.to,
        doc_number: q.doc_number,
        kinds,
        csv_query,
        records,
    }))
}

/// The query as the center's client takes it.
fn pairs<'a>(query: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    query.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[derive(Template)]
#[template(path = "agent/records.html")]
pub struct Records {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    /// The search as typed.
    from: String,
    to: String,
    doc_number: String,
    kinds: Vec<Choice>,
    /// The same search for the CSV link (already URL-encoded).
    csv_query: String,
    records: Vec<Record>,
}

pub async fn records_csv(me: SignedIn, Query(q): Query<RecordForm>) -> Result<Response, Refused> {
    let query = query_of(&q).map_err(|e| me.refuse(e))?;
    let found = me.agency().center.records_csv(&pairs(&query)).await;
    let csv = found.map_err(|e| me.refuse(refusal_of(&e)))?;
    // With a BOM, so Excel on an office PC reads it as UTF-8.
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                crate::forms::disposition("attachment", "交換紀錄.csv"),
            ),
        ],
        format!("\u{FEFF}{csv}"),
    )
        .into_response())
}
