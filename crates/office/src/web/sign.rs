//! A step on its way: the office prepares the text ([`crate::steps::prepare`]), the page shows
//! it whole and asks the local signer to sign exactly it (or takes the signature pasted by
//! hand), and [`crate::steps::commit`] checks it again before the case changes. What the step
//! asks of the agent afterwards (簽收, sending, a paper number) follows the commit: the step
//! stands even when the agent cannot be reached, and the case page offers to try again.
//!
//! A prepared step waits here, in memory, for [`SIGN_WITHIN_MS`] at most: a restart only
//! means signing again. The person who prepared it is the only one who can sign it.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_store::random_hex;
use gongwen_web::{Csrf, Page, Site};
use serde::Deserialize;

use super::{Me, SITE, Web, WebError, Who};
use crate::steps::{self, Request, SIGN_WITHIN_MS};
use crate::{dispatch, intake};

/// Most steps waiting for their signature at once (every person of a city hall, twice).
pub const MAX_PENDING: usize = 10_000;

/// What the office asks of the agent once the step is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    Nothing,
    /// 簽收 of a registered 電子收文: the agent's 收文字號.
    SignFor,
    /// 發文 by exchange: the 「發」 drafts go out through the agent.
    Send,
    /// 發文 on paper: the 發文字號 from the agency's one series.
    NumberPaper,
}

struct Waiting {
    person: String,
    req: Request,
    then: Then,
}

/// The prepared steps, by their token.
#[derive(Default)]
pub struct Pending {
    items: HashMap<String, Waiting>,
}

impl Pending {
    fn put(&mut self, w: Waiting, now: i64) -> Result<String, Refusal> {
        self.items.retain(|_, p| now - p.req.at <= SIGN_WITHIN_MS);
        if self.items.len() >= MAX_PENDING {
            return Err(Refusal::new(
                Code::Unavailable,
                "等待簽章的步驟過多，請稍後再試",
            ));
        }
        let token = random_hex(16);
        self.items.insert(token.clone(), w);
        Ok(token)
    }
}

/// The page that shows the text to sign.
#[derive(Template)]
#[template(path = "office/sign.html")]
struct SignPage<'a> {
    site: &'static Site,
    title: String,
    who: Option<Who>,
    /// Where 「取消」 goes: the case, or where a new case was begun.
    back: String,
    text: &'a str,
    /// The text on one line, for the command typed by hand.
    text_line: String,
    token: String,
    signer: &'a str,
}

/// Prepares `req` for `me` and shows the text to sign; refused (with the case unchanged) when
/// the step may not be taken now.
pub async fn prepare(me: &Me, req: Request, then: Then) -> Result<Response, WebError> {
    let text = me
        .app
        .with_office(async |o| steps::prepare(o, &req).await)
        .await
        .map_err(Refusal::from)?;
    let back = match req.action {
        steps::Action::Register => "/intake".to_string(),
        steps::Action::Create => "/".to_string(),
        _ => format!("/cases/{}", req.case),
    };
    let title = format!("簽章確認：{}", req.action.label());
    let now = me.app.clock.now_ms();
    let token = {
        let mut pending = me.app.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.put(
            Waiting {
                person: me.person.id.clone(),
                req,
                then,
            },
            now,
        )?
    };
    Ok(Page(SignPage {
        site: SITE,
        title,
        who: Some(me.who()),
        back,
        text_line: text.replace('\\', "\\\\").replace('\n', "\\n"),
        text: &text,
        token,
        signer: &me.app.config.web.signer_url,
    })
    .into_response())
}

pub fn routes() -> Router<Web> {
    Router::new().route("/sign", post(commit))
}

#[derive(Deserialize)]
pub struct SignForm {
    token: String,
    #[serde(default)]
    signed: String,
}

/// The signature of a prepared step: checked and committed, then what it asks of the agent.
async fn commit(
    State(_): State<Web>,
    Csrf(me, f): Csrf<Me, SignForm>,
) -> Result<Response, WebError> {
    let waiting = {
        let mut pending = me.app.pending.lock().unwrap_or_else(|e| e.into_inner());
        match pending.items.get(&f.token) {
            Some(w) if w.person == me.person.id => pending.items.remove(&f.token),
            _ => None,
        }
    };
    let Some(w) = waiting else {
        return Err(Refusal::new(
            Code::OfficeSignature,
            "找不到等待簽章的步驟（已逾 10 分鐘、已簽過，或不是您準備的），請回到案件重新操作",
        )
        .into());
    };
    let bad = |m: String| Refusal::new(Code::OfficeSignature, m);
    let der = der::pem::decode_vec(f.signed.trim().as_bytes())
        .map(|(_, der)| der)
        .map_err(|e| bad(format!("簽章結果不是 PEM 格式：{e}")));
    let now = me.app.clock.now_ms();
    let committed = match der {
        Ok(der) => {
            me.app
                .with_office(async |o| steps::commit(o, &w.req, &der, now).await)
                .await
        }
        Err(e) => Err(crate::OfficeError::Refused(e)),
    };
    if let Err(e) = committed {
        // Signed again, it may still go in (another card, a fresh signature): keep it.
        let retry = e.code() == Code::OfficeSignature && now - w.req.at <= SIGN_WITHIN_MS;
        if retry {
            let mut pending = me.app.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.items.insert(f.token.clone(), w);
        }
        return Err(Refusal::from(e).into());
    }
    let case = w.req.case.clone();
    let note = after(&me, &case, w.then, now).await;
    let to = match note {
        Some(n) => format!("/cases/{case}?note={}", urlencode(&n)),
        None => format!("/cases/{case}"),
    };
    Ok(Redirect::to(&to).into_response())
}

/// What the step asks of the agent; a failure is a note on the case page (the step stands).
pub async fn after(me: &Me, case: &str, then: Then, now: i64) -> Option<String> {
    let (db, agent) = (&me.app.db, &me.app.agent);
    let r = match then {
        Then::Nothing => return None,
        Then::SignFor => intake::sign_for(db, agent, case)
            .await
            .map(|n| format!("已簽收，收文字號：{}", n.unwrap_or_default())),
        Then::Send => dispatch::send(db, agent, case, now).await.map(|sent| {
            let numbers: Vec<String> = sent.into_iter().map(|s| s.doc_number).collect();
            format!("已交換發文：{}", numbers.join("、"))
        }),
        Then::NumberPaper => dispatch::number_paper(db, agent, case)
            .await
            .map(|n| format!("紙本發文字號：{n}")),
    };
    Some(match r {
        Ok(done) => done,
        Err(e) => format!(
            "步驟已簽核，但{}（{}）；請稍後在案件頁重試",
            e,
            e.code().as_str()
        ),
    })
}

/// A note in a query string.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_steps_expire_and_are_bounded() {
        let mut p = Pending::default();
        let w = |at| Waiting {
            person: "p".into(),
            req: Request::new("c", steps::Action::Approve, "p", at),
            then: Then::Nothing,
        };
        let t = p.put(w(0), 0).unwrap();
        assert!(p.items.contains_key(&t));
        p.put(w(SIGN_WITHIN_MS + 1), SIGN_WITHIN_MS + 1).unwrap();
        assert_eq!(p.items.len(), 1, "the first one expired");
        assert!(!p.items.contains_key(&t));
        for _ in 1..MAX_PENDING {
            p.put(w(SIGN_WITHIN_MS + 1), SIGN_WITHIN_MS + 1).unwrap();
        }
        assert!(p.put(w(SIGN_WITHIN_MS + 1), SIGN_WITHIN_MS + 1).is_err());
    }

    #[test]
    fn notes_are_encoded() {
        assert_eq!(urlencode("a b/臺"), "a%20b%2F%E8%87%BA");
    }
}
