//! 撰寫: a 函, 書函, 開會通知單 or 公告 written in a form whose fields follow the DTD
//! (主旨; 說明 and 辦法 with nested 條列; 依據 and 公告事項; 開會事由, 時間, 地點, 主持人,
//! 聯絡人及電話; 速別; 附件), recipients picked from the center's address book and from groups
//! into 正本 and 副本 (出席者 and 列席者 for a meeting), 立即確認 and a typed resend of one of
//! the agency's own sends, a preview as the printed PDF, and sending with the next 發文字號
//! of the year. Every kind offered can be previewed and sent; a 簽 is an internal memo and is
//! written in 線上簽核, not here.
//! A refused form comes back with everything typed (the files must be chosen again: browsers
//! do not let a page refill them).

use askama::Template;
use axum::extract::{Multipart, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gongwen_doc::draft::{box_labels, item_number, strip_item_number};
use gongwen_net::Refusal;
use gongwen_proto::{Code, ResendKind};
use gongwen_store::random_hex;
use gongwen_web::{Choice, FormErrors, Page, Signed, Site, csrf_matches, csrf_refusal, render};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Refused, SITE, SignedIn, Who};
use crate::Agency;
use crate::forms::FormData;

const KINDS: [&str; 4] = ["函", "書函", "開會通知單", "公告"];

const URGENCIES: [&str; 3] = ["普通件", "速件", "最速件"];
/// ODF for editable files, PDF (or TIFF, a scan) otherwise.
const ALLOWED: [&str; 7] = ["odt", "ods", "odp", "odg", "pdf", "tif", "tiff"];

/// Lines typed in a box as 條列: each line an item; a line indented (spaces or 全形空白)
/// belongs under the one before. Numbers typed by hand (一、 (一) 1.) are replaced.
fn items(text: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let indented = line.starts_with([' ', '\u{3000}', '\t']);
        let body = strip_item_number(line.trim());
        if indented && let Some(last) = out.last_mut() {
            let subs = last["條列"].as_array().map(|a| a.len()).unwrap_or(0);
            if !last["條列"].is_array() {
                last["條列"] = json!([]);
            }
            if let Some(a) = last["條列"].as_array_mut() {
                a.push(json!({ "序號": item_number(2, subs + 1), "文字": body }));
            }
            continue;
        }
        out.push(json!({ "序號": item_number(1, out.len() + 1), "文字": body }));
    }
    out
}

/// `代碼 名稱` lines (the name may be left out).
fn parties(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            if l.is_empty() {
                return None;
            }
            let (code, name) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            Some((code.trim().to_uppercase(), name.trim().to_string()))
        })
        .collect()
}

/// The recipients of one box with their names from the address book; unknown codes refused.
async fn resolve(a: &Agency, box_name: &str, text: &str) -> Result<Vec<(String, String)>, Refusal> {
    let mut out = Vec::new();
    for (code, name) in parties(text) {
        match a
            .listed(&code)
            .await
            .map_err(|e| crate::send::refusal_of(&e))?
        {
            Some(l) => out.push((code, if name.is_empty() { l.name } else { name })),
            None => {
                return Err(Refusal::new(
                    Code::Recipient,
                    format!("{box_name}「{code}」不在通訊錄，或已暫停、中止收發"),
                ));
            }
        }
    }
    Ok(out)
}

/// The draft the form describes (without 發文字號: that is taken when it is sent).
async fn draft_of(a: &Agency, f: &FormData) -> Result<Value, Wrong> {
    let kind = f.text("kind");
    if !KINDS.contains(&kind) {
        let e = Refusal::new(Code::AgentDocument, "請選擇文別");
        return Err(Wrong(Some("kind"), e));
    }
    let urgency = f.text("urgency");
    let mut d = json!({
        "文別": kind,
        "速別": if URGENCIES.contains(&urgency) { urgency } else { "普通件" },
        "主旨": f.text("subject").trim(),
        "地址": f.text("address").trim(),
        "聯絡方式": f.text("contact").lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>(),
        "署名": f.text("signature").lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>(),
    });
    let mut sections = Vec::new();
    let mut section = |title: &str, field: &str| {
        let it = items(f.text(field));
        if !it.is_empty() {
            sections.push(json!({ "段名": title, "條列": it }));
        }
    };
    match kind {
        "公告" => {
            section("依據：", "basis");
            section("公告事項：", "announce");
        }
        "開會通知單" => {}
        _ => {
            section("說明：", "explain");
            section("辦法：", "action");
        }
    }
    d["段落"] = json!(sections);
    let files: Vec<&str> = f.files.iter().map(|(_, n)| n.as_str()).collect();
    if !files.is_empty() {
        let text = f.text("attachment_text").trim();
        d["附件"] = json!({ "文字": if text.is_empty() { format!("{}份", files.len()) } else { text.to_string() }, "檔案": files });
    }
    let (primary_label, copies_label) = box_labels(kind);
    let primary = (resolve(a, primary_label, f.text("primary")).await)
        .map_err(|e| Wrong(Some("primary"), e))?;
    let copies =
        (resolve(a, copies_label, f.text("copies")).await).map_err(|e| Wrong(Some("copies"), e))?;
    let with_att = !f.text("copies_attach").is_empty();
    let party = |(code, name): &(String, String), copy: bool| {
        let mut p = json!({ "全銜": name, "機關代碼": code });
        if copy {
            p["含附件"] = json!(with_att);
        }
        p
    };
    if kind == "開會通知單" {
        d["開會事由"] = json!(f.text("reason").trim());
        d["開會時間"] = json!([{ "年月日": f.text("date").trim(), "時分": f.text("time").trim() }]);
        d["開會地點"] = json!(f.text("place").trim());
        d["主持人"] = json!([{ "姓名": f.text("chair").trim() }]);
        d["聯絡人及電話"] = json!([{ "姓名": f.text("contact_name").trim(), "電話": f.text("contact_phone").trim() }]);
    }
    d[primary_label] = json!(primary.iter().map(|p| party(p, false)).collect::<Vec<_>>());
    d[copies_label] = json!(copies.iter().map(|p| party(p, true)).collect::<Vec<_>>());
    for (_, name) in &f.files {
        let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        if !ALLOWED.contains(&ext.as_str()) {
            let e = Refusal::new(
                Code::SubmitFileType,
                format!(
                    "附件「{name}」的格式不能交換：可編輯的檔案請另存為 ODF（.odt、.ods、.odp），其他請轉成 PDF（掃描檔可用 TIFF）"
                ),
            );
            return Err(Wrong(Some("attachment"), e));
        }
    }
    Ok(d)
}

/// What the form offers beside the typed fields: the agency's groups and the sends it may
/// correct or resend.
struct Choices {
    groups: Vec<gongwen_proto::api::Group>,
    originals: Vec<crate::options::Original>,
}

async fn choices_of(me: &SignedIn) -> Choices {
    let a = me.agency();
    Choices {
        groups: a.center.groups().await.unwrap_or_default(),
        originals: crate::options::recent_originals(&me.node.db, a.code.as_str(), 50)
            .await
            .unwrap_or_default(),
    }
}

/// The compose form, filled with what was typed (or, never posted, the agency's defaults).
#[derive(Template)]
#[template(path = "agent/compose.html")]
pub struct ComposePage {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    csrf: String,
    f: FormData,
    errors: FormErrors,
    kinds: Vec<Choice>,
    urgencies: Vec<Choice>,
    resend_kinds: Vec<Choice>,
    originals: Vec<Choice>,
    groups: Vec<gongwen_proto::api::Group>,
    /// The recipient boxes as the kind names them.
    primary_label: &'static str,
    copies_label: &'static str,
    /// The 發文代字 the number is taken in.
    word: String,
}

impl ComposePage {
    fn new(me: &SignedIn, mut f: FormData, c: Choices, errors: FormErrors) -> Self {
        let a = me.agency();
        // A form never posted (no 文別 yet) shows the agency's defaults.
        if f.text("kind").is_empty() {
            let defaults = [
                ("address", a.address.clone().unwrap_or_default()),
                ("contact", a.contact.join("\n")),
                ("signature", a.name.clone().unwrap_or_default()),
                ("copies_attach", "1".to_string()),
            ];
            for (k, v) in defaults {
                if f.text(k).is_empty() {
                    f.texts.retain(|(n, _)| n != k);
                    f.texts.push((k.to_string(), v));
                }
            }
        }
        let kind = Some(f.text("kind"))
            .filter(|k| !k.is_empty())
            .unwrap_or("函");
        let (primary_label, copies_label) = box_labels(kind);
        let chosen = f.text("resend_of");
        let originals = std::iter::once(Choice {
            value: String::new(),
            label: "（請選擇本機關送出的公文）".into(),
            selected: false,
        })
        .chain(c.originals.iter().map(|o| Choice {
            selected: chosen == o.package_id || chosen == o.doc_number,
            value: o.package_id.clone(),
            label: format!(
                "{}　{}",
                o.doc_number,
                o.subject.chars().take(40).collect::<String>()
            ),
        }))
        .collect();
        ComposePage {
            site: SITE,
            title: "撰寫公文",
            who: me.who(),
            csrf: me.session.csrf.clone(),
            kinds: Choice::list(KINDS.map(|k| (k, k)), kind),
            urgencies: Choice::list(URGENCIES.map(|u| (u, u)), f.text("urgency")),
            resend_kinds: Choice::list(
                std::iter::once(("", "（不是重發）"))
                    .chain(ResendKind::ALL.iter().map(|k| (k.label(), k.label()))),
                f.text("resend_kind"),
            ),
            originals,
            groups: c.groups,
            primary_label,
            copies_label,
            word: a.word.clone().unwrap_or_default(),
            errors,
            f,
        }
    }
}

/// A refusal of the form, with the field it is about (`None`: the form as a whole).
struct Wrong(Option<&'static str>, Refusal);

impl From<Refusal> for Wrong {
    fn from(r: Refusal) -> Self {
        Wrong(None, r)
    }
}

#[derive(Deserialize)]
pub struct ComposeQuery {
    /// A send to correct or resend (its package id), from the 發文 page.
    #[serde(default)]
    resend_of: String,
}

pub async fn show(me: SignedIn, Query(q): Query<ComposeQuery>) -> Page<ComposePage> {
    let start = FormData {
        texts: vec![("resend_of".into(), q.resend_of)],
        files: Vec::new(),
    };
    let c = choices_of(&me).await;
    Page(ComposePage::new(&me, start, c, FormErrors::new()))
}

#[derive(Deserialize)]
pub struct BookQuery {
    #[serde(default)]
    q: String,
}

/// Recipients for the search box: the center's address book.
pub async fn recipients(me: SignedIn, Query(q): Query<BookQuery>) -> Response {
    match me.agency().center.search_participants(&q.q, 20).await {
        Ok(l) => axum::Json(l).into_response(),
        Err(e) => crate::send::refusal_of(&e).into_response(),
    }
}

/// Reads the form into a fresh folder (the caller removes it); a form without the session's
/// CSRF token is refused.
async fn read(me: &SignedIn, mp: Multipart) -> (std::path::PathBuf, Result<FormData, Refusal>) {
    let name = format!("web-{}", random_hex(12));
    let dir = crate::send::staged_dir(&me.node, me.agency(), &name);
    let limit = me
        .node
        .config
        .api
        .clone()
        .unwrap_or_default()
        .upload_limit();
    let r = crate::forms::read_multipart(mp, &dir.join(".uploads"), limit, &["attachment"]).await;
    let r = r.and_then(|f| match csrf_matches(me.csrf(), f.text("csrf")) {
        true => Ok(f),
        false => Err(csrf_refusal(SignedIn::CSRF_CODE)),
    });
    (dir, r)
}

pub async fn preview(me: SignedIn, mp: Multipart) -> Result<Response, Refused> {
    let a = me.agency();
    let (dir, form) = read(&me, mp).await;
    let r = async {
        let f = form?;
        let mut d = draft_of(a, &f).await.map_err(|wrong| wrong.1)?;
        d["發文機關"] =
            json!([{ "全銜": a.name.clone().unwrap_or_default(), "機關代碼": a.code.as_str() }]);
        d["發文字號"] = json!(format!(
            "{}字第（送出時編號）號",
            a.word.as_deref().unwrap_or("")
        ));
        d["檔名"] = json!("preview");
        let draft: gongwen_doc::draft::Draft = serde_json::from_value(d)
            .map_err(|e| Refusal::new(Code::AgentDocument, e.to_string()))?;
        let built = crate::compose::build(&draft, crate::compose::today(&me.node)?)?;
        super::inbox::pdf(built.di, gongwen_render::RenderOptions::default()).await
    }
    .await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    let pdf = r.map_err(|e| me.refuse(e))?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}

pub async fn send(me: SignedIn, mp: Multipart) -> Result<Response, Refused> {
    let a = me.agency();
    let (dir, read_form) = read(&me, mp).await;
    let f = match read_form {
        Ok(f) => f,
        Err(e) => {
            let _ = tokio::fs::remove_dir_all(&dir).await;
            return Err(me.refuse(e));
        }
    };
    let r = async {
        let options = crate::options::SendOptions::from_fields(
            f.text("confirm_now"),
            f.text("resend_kind"),
            f.text("resend_of"),
        )
        .map_err(|m| Wrong(Some("resend_kind"), Refusal::new(Code::AgentDocument, m)))?;
        let d = draft_of(a, &f).await?;
        let mut draft: gongwen_doc::draft::Draft = serde_json::from_value(d)
            .map_err(|e| Refusal::new(Code::AgentDocument, e.to_string()))?;
        let today = crate::compose::today(&me.node)?;
        let defaults = crate::compose::Defaults::of(a);
        let taken = crate::compose::complete(&me.node.db, &mut draft, &defaults, today).await?;
        let sent = async {
            let mut set = crate::compose::stage(&draft, today, &dir.join(".uploads"), &dir)?;
            set.attach_options(&options)
                .map_err(|e| Refusal::new(Code::Internal, e.to_string()))?;
            crate::send::send_staged(&me.node, a, &set, "web").await
        }
        .await;
        if sent.is_err() {
            let name = crate::folder::dir_name(&dir);
            crate::send::give_back_unsealed(&me.node, a, &name, taken).await;
        }
        Ok(sent?)
    }
    .await;
    let _ = tokio::fs::remove_dir_all(dir.join(".uploads")).await;
    match r {
        Ok(res) => {
            let number = res.package.as_ref().map_or("", |p| p.doc_number.as_str());
            let outcome = format!(
                "已送出 {number}（{}）。",
                if res.state == "submitted" {
                    "交換中心已收件"
                } else {
                    "已封裝，交換中心暫時無法連線，稍後自動重送"
                }
            );
            let page = Done {
                site: SITE,
                title: "已送出",
                who: me.who(),
                outcome,
            };
            Ok(Page(page).into_response())
        }
        Err(Wrong(field, e)) => {
            let name = crate::folder::dir_name(&dir);
            if crate::send::sent_row(&me.node, a, &name)
                .await
                .ok()
                .flatten()
                .is_none()
            {
                // Nothing was sealed: nothing to keep.
                let _ = tokio::fs::remove_dir_all(&dir).await;
            }
            let status =
                StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            let message = format!(
                "{}：{}（{}）。您輸入的內容都保留在下面{}。",
                e.code.message(),
                e.detail,
                e.code.as_str(),
                if f.files.is_empty() {
                    ""
                } else {
                    "；附件請重新選擇"
                }
            );
            let c = choices_of(&me).await;
            let errors = FormErrors::new().with(field, message);
            Ok(render(status, &ComposePage::new(&me, f, c, errors)))
        }
    }
}

/// A document sent: its number, and where to go next.
#[derive(Template)]
#[template(path = "agent/compose_done.html")]
struct Done {
    site: &'static Site,
    title: &'static str,
    who: Option<Who>,
    outcome: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_numbered_items_with_sub_items() {
        let v = items(
            "依據本會章程辦理。\n\n3、活動內容如下：\n　上午：開幕\n  下午：座談\n(二)敬請回復。",
        );
        assert_eq!(v.len(), 3);
        assert_eq!(v[0]["序號"], "一、");
        assert_eq!(v[1]["序號"], "二、");
        assert_eq!(
            v[1]["文字"], "活動內容如下：",
            "a number typed by hand is replaced"
        );
        assert_eq!(v[1]["條列"][0]["序號"], "(一)");
        assert_eq!(v[1]["條列"][1]["文字"], "下午：座談");
        assert_eq!(v[2]["文字"], "敬請回復。");
    }

    #[test]
    fn recipient_lines_are_code_then_name() {
        assert_eq!(
            parties("379130000c 臺北市政府資訊局\n\n  395450100A\n"),
            vec![
                ("379130000C".to_string(), "臺北市政府資訊局".to_string()),
                ("395450100A".to_string(), String::new())
            ]
        );
    }

    #[test]
    fn the_boxes_are_named_for_the_kind() {
        assert_eq!(box_labels("開會通知單"), ("出席者", "列席者"));
        for k in ["函", "書函", "公告"] {
            assert_eq!(box_labels(k), ("正本", "副本"));
        }
        assert!(!KINDS.contains(&"簽"), "a 簽 is written in 線上簽核");
    }
}
