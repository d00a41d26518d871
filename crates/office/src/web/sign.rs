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

/// Most steps one person has waiting (a few pages open at once): preparing another drops their
/// oldest, so nobody fills [`MAX_PENDING`] for everyone else.
pub const MAX_PENDING_PER_PERSON: usize = 5;

/// Most bytes of documents one person's waiting steps hold (two paper scans of the largest
/// size): a waiting step keeps its document in memory.
pub const MAX_PENDING_BYTES_PER_PERSON: usize = 2 * steps::MAX_VERSION_BYTES + 1024 * 1024;

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
    /// The order it was put in (set by [`Pending::put`]): the oldest goes first.
    placed: u64,
}

impl Waiting {
    /// What it holds in memory, near enough: its document and its words.
    fn bytes(&self) -> usize {
        let r = &self.req;
        let version = r.version.as_ref().map_or(0, |v| v.content.len());
        let case = r.new_case.as_ref().map_or(0, |n| n.subject.len());
        version + case + r.comment.len() + 1024
    }
}

/// The prepared steps, by their token.
#[derive(Default)]
pub struct Pending {
    items: HashMap<String, Waiting>,
    placed: u64,
}

impl Pending {
    fn put(&mut self, mut w: Waiting, now: i64) -> Result<String, Refusal> {
        self.items.retain(|_, p| now - p.req.at <= SIGN_WITHIN_MS);
        self.make_room(&w);
        if self.items.len() >= MAX_PENDING {
            return Err(Refusal::new(
                Code::Unavailable,
                "等待簽章的步驟過多，請稍後再試",
            ));
        }
        let token = random_hex(16);
        self.placed += 1;
        w.placed = self.placed;
        self.items.insert(token.clone(), w);
        Ok(token)
    }

    /// Puts back a step whose signature was refused, under its token, to be signed again.
    fn restore(&mut self, token: String, w: Waiting) {
        self.make_room(&w);
        self.items.insert(token, w);
    }

    /// Drops the person's oldest steps until theirs, with `w`, are within bounds.
    fn make_room(&mut self, w: &Waiting) {
        loop {
            let theirs: Vec<(&String, &Waiting)> = (self.items.iter())
                .filter(|(_, p)| p.person == w.person)
                .collect();
            let bytes: usize = theirs.iter().map(|(_, p)| p.bytes()).sum::<usize>() + w.bytes();
            let over = theirs.len() >= MAX_PENDING_PER_PERSON
                || (!theirs.is_empty() && bytes > MAX_PENDING_BYTES_PER_PERSON);
            let oldest = theirs
                .iter()
                .min_by_key(|(_, p)| p.placed)
                .map(|(t, _)| (*t).clone());
            match oldest {
                Some(t) if over => {
                    self.items.remove(&t);
                }
                _ => break,
            }
        }
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
    /// The text as the command typed by hand takes it: one line, one quoted argument.
    text_arg: String,
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
                placed: 0,
            },
            now,
        )?
    };
    Ok(Page(SignPage {
        site: SITE,
        title,
        who: Some(me.who()),
        back,
        text_arg: shell_argument(&text),
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
            pending.restore(f.token.clone(), w);
        }
        return Err(Refusal::from(e).into());
    }
    let case = w.req.case.clone();
    let note = after(&me, &case, w.then, now).await.unwrap_or_default();
    Ok(Redirect::to(&super::case::note_url(&me.session.csrf, &case, &note)).into_response())
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

/// The text as one argument of the command typed by hand (`gongwen signer sign --text …`): its
/// line breaks as `\n` (the signer reads them back), inside single quotes, each `'` written
/// `'\''`. A subject, a comment or a sender's name is never read by the shell (sh, bash, zsh,
/// PowerShell) as anything but words.
pub fn shell_argument(text: &str) -> String {
    let line = gongwen_proto::office::one_line(text);
    format!("'{}'", line.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_steps_expire_and_are_bounded() {
        let mut p = Pending::default();
        // Each by another person (one person's own are bounded on their own, below).
        let w = |at, n: usize| Waiting {
            person: format!("p{n}"),
            req: Request::new("c", steps::Action::Approve, "p", at),
            then: Then::Nothing,
            placed: 0,
        };
        let t = p.put(w(0, 0), 0).unwrap();
        assert!(p.items.contains_key(&t));
        p.put(w(SIGN_WITHIN_MS + 1, 0), SIGN_WITHIN_MS + 1).unwrap();
        assert_eq!(p.items.len(), 1, "the first one expired");
        assert!(!p.items.contains_key(&t));
        for n in 1..MAX_PENDING {
            p.put(w(SIGN_WITHIN_MS + 1, n), SIGN_WITHIN_MS + 1).unwrap();
        }
        let full = p.put(w(SIGN_WITHIN_MS + 1, MAX_PENDING), SIGN_WITHIN_MS + 1);
        assert!(full.is_err());
    }

    /// One person preparing step after step (a script, many tabs) neither fills the map for
    /// everyone else nor holds more than a few documents in memory: their oldest go first.
    #[test]
    fn one_person_cannot_fill_the_pending_steps() {
        let mut p = Pending::default();
        let w = |person: &str, bytes: usize| {
            let mut req = Request::new("c", steps::Action::Register, person, 0);
            req.version = Some(steps::NewVersion {
                doc: "scan".into(),
                kind: "scan".into(),
                content: vec![b'%'; bytes],
            });
            Waiting {
                person: person.into(),
                req,
                then: Then::Nothing,
                placed: 0,
            }
        };
        let first = p.put(w("clerk", 1), 0).unwrap();
        for _ in 0..MAX_PENDING {
            p.put(w("clerk", 1), 0).unwrap();
        }
        assert!(!p.items.contains_key(&first), "the oldest went first");
        let mine = |p: &Pending, who: &str| p.items.values().filter(|w| w.person == who).count();
        assert!(mine(&p, "clerk") <= MAX_PENDING_PER_PERSON);
        p.put(w("officer", 1), 0)
            .expect("another person still prepares");
        // A step put back after a refused signature makes room the same way.
        p.restore("back".into(), w("clerk", 1));
        assert!(p.items.contains_key("back"));
        assert!(mine(&p, "clerk") <= MAX_PENDING_PER_PERSON);
        // Large scans: a few at most are held.
        for _ in 0..10 {
            p.put(w("clerk", steps::MAX_VERSION_BYTES), 0).unwrap();
        }
        let held: usize = (p.items.values())
            .filter(|w| w.person == "clerk")
            .map(Waiting::bytes)
            .sum();
        assert!(held <= MAX_PENDING_BYTES_PER_PERSON, "{held}");
        assert_eq!(mine(&p, "officer"), 1, "nobody else's went");
    }

    #[test]
    fn the_typed_text_is_one_quoted_argument() {
        assert_eq!(shell_argument("a\nb\\"), r"'a\nb\\'");
        assert_eq!(
            shell_argument("x'; rm -rf ~; '"),
            r"'x'\''; rm -rf ~; '\'''"
        );
        assert_eq!(shell_argument("$(id) `id`"), "'$(id) `id`'");
    }
}
