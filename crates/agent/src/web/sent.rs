//! 發文 and the daily duty lists: each recipient's status as the center reports it (送達,
//! 確認, 退文 with the reason, failed), and the lists the rules ask for — copies not confirmed
//! by 14:00 of the next working day (send them on paper) and documents received the working
//! day before that are not yet handled by 10:00.

use std::time::Duration;

use askama::Template;
use axum::extract::Path as UrlPath;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gongwen_proto::CopyStatus;
use gongwen_proto::api::{DutyItem, SentPackage};
use gongwen_web::{Page, Site, filters};

use super::{Refused, SITE, SignedIn, Who};
use crate::send::refusal_of;

pub async fn list(me: SignedIn) -> Result<Page<Sent>, Refused> {
    let a = me.agency();
    let sent =
        (a.center.sent_list(&[("limit", "100")]).await).map_err(|e| me.refuse(refusal_of(&e)))?;
    // Recipients by name, looked up once each in the center's address book.
    let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for p in &sent.items {
        for c in &p.copies {
            if names.len() < 100 && !names.contains_key(&c.recipient) {
                let found = a.listed(&c.recipient).await.ok().flatten();
                let name = found.map(|x| x.name).unwrap_or_default();
                names.insert(c.recipient.clone(), name);
            }
        }
    }
    let docs = sent
        .items
        .into_iter()
        .map(|p| SentDoc {
            id: gongwen_client::encode_segment(&p.id),
            caption: format!("{} 的受文者", p.doc_number),
            pending: p.aggregate.pending + p.aggregate.delivered,
            copies: p
                .copies
                .iter()
                .map(|c| CopyRow {
                    recipient: match names.get(&c.recipient).filter(|n| !n.is_empty()) {
                        Some(n) => format!("{n}（{}）", c.recipient),
                        None => c.recipient.clone(),
                    },
                    copy: c.copy.clone(),
                    status: c.status.label(),
                    at: c.status_at,
                    why: match c.status {
                        CopyStatus::Returned => format!(
                            "{}{}",
                            c.return_reason.map(|r| r.label()).unwrap_or(""),
                            c.return_text
                                .as_deref()
                                .map(|t| format!("：{t}"))
                                .unwrap_or_default()
                        ),
                        CopyStatus::Failed => c
                            .fail_reason
                            .map(|r| r.label().to_string())
                            .unwrap_or_default(),
                        _ => String::new(),
                    },
                })
                .collect(),
            sent: p,
        })
        .collect();
    Ok(Page(Sent {
        site: SITE,
        title: "發文",
        who: me.who(),
        paper_mark: me.node.config.web.paper_mark.clone(),
        docs,
    }))
}

#[derive(Template)]
#[template(path = "agent/sent.html")]
pub struct Sent {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    /// The mark stamped on the copy mailed on paper (已電子交換未確認).
    paper_mark: String,
    docs: Vec<SentDoc>,
}

/// One sent document and where each copy stands.
struct SentDoc {
    /// The package id, URL-encoded for the links.
    id: String,
    /// The name of its table of recipients.
    caption: String,
    /// Not yet confirmed, returned or failed.
    pending: u32,
    copies: Vec<CopyRow>,
    sent: SentPackage,
}

struct CopyRow {
    /// Name and code, or the code alone.
    recipient: String,
    /// 正本 or 副本.
    copy: String,
    status: &'static str,
    at: i64,
    /// The reason of a 退文 or a failure.
    why: String,
}

/// A sent document printed with a mark: for mailing on paper to a recipient that did not
/// confirm (已電子交換未確認), or for filing (已電子交換).
async fn marked(me: SignedIn, id: String, filing: bool) -> Result<Response, Refused> {
    let a = me.agency();
    let r = async {
        let doc = crate::send::sent_document(&me.node, a, &id).await?;
        let mark = if filing {
            "已電子交換".to_string()
        } else {
            me.node.config.web.paper_mark.clone()
        };
        super::inbox::pdf(
            doc,
            gongwen_render::RenderOptions {
                stamp: None,
                mark: Some(mark),
            },
        )
        .await
    }
    .await;
    let pdf = r.map_err(|e| me.refuse(e))?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}

/// The copy to mail on paper; each one printed is counted in the statistics.
pub async fn paper(me: SignedIn, UrlPath(id): UrlPath<String>) -> Result<Response, Refused> {
    let (db, now) = (me.node.db.clone(), me.node.clock.now_ms());
    let (agency, by) = (
        me.agency().code.as_str().to_string(),
        me.session.user.clone(),
    );
    let center = me.agency().center.clone();
    let pdf = marked(me, id.clone(), false).await?;
    if let Err(e) = crate::stats::paper_printed(&db, &agency, &id, &by, now).await {
        gongwen_net::log::error(
            "紙本列印未能記入統計",
            serde_json::json!({ "code": e.code.as_str(), "detail": e.detail }),
        );
    }
    // The center counts it too, against the copies exchanged (its 電子／紙本 share); a failure
    // there costs that count, never the print.
    let print = gongwen_proto::api::PaperPrint {
        package_id: id.clone(),
    };
    let told = tokio::time::timeout(Duration::from_secs(10), center.paper_print(&print)).await;
    if !matches!(told, Ok(Ok(()))) {
        gongwen_net::log::warn(
            "紙本列印未能通報交換中心",
            serde_json::json!({ "package": id, "detail": match told {
                Ok(Err(e)) => e.to_string(),
                _ => "逾時".to_string(),
            }}),
        );
    }
    Ok(pdf)
}

pub async fn filing(me: SignedIn, UrlPath(id): UrlPath<String>) -> Result<Response, Refused> {
    marked(me, id, true).await
}

/// One duty list of the page.
struct DutyList {
    caption: &'static str,
    /// The column of the other side: 受文者 or 發文機關.
    counterpart: &'static str,
    /// With a link to the copy to mail on paper.
    paper: bool,
    rows: Vec<DutyRow>,
}

struct DutyRow {
    item: DutyItem,
    /// The package id, URL-encoded for the link.
    id: String,
}

impl DutyList {
    fn new(
        caption: &'static str,
        counterpart: &'static str,
        paper: bool,
        items: Vec<DutyItem>,
    ) -> Self {
        DutyList {
            caption,
            counterpart,
            paper,
            rows: items
                .into_iter()
                .map(|item| DutyRow {
                    id: gongwen_client::encode_segment(&item.id),
                    item,
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "agent/duties.html")]
pub struct Duties {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    as_of: i64,
    sending: DutyList,
    receiving: DutyList,
}

pub async fn duties(me: SignedIn) -> Result<Page<Duties>, Refused> {
    let d = (me.agency().center.duties().await).map_err(|e| me.refuse(refusal_of(&e)))?;
    Ok(Page(Duties {
        site: SITE,
        title: "待辦清單",
        who: me.who(),
        as_of: d.as_of,
        sending: DutyList::new("發文待辦", "受文者", true, d.sending),
        receiving: DutyList::new("收文待辦", "發文機關", false, d.receiving),
    }))
}
