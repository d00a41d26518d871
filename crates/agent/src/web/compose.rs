//! 撰寫: a 函, 書函, 開會通知單 or 公告 written in a form whose fields follow the DTD
//! (主旨; 說明 and 辦法 with nested 條列; 依據 and 公告事項; 開會事由, 時間, 地點, 主持人,
//! 聯絡人及電話; 速別; 附件), recipients picked from the center's address book and from groups
//! into 正本 and 副本 (出席者 and 列席者 for a meeting), 立即確認 and a typed resend of one of
//! the agency's own sends, a preview as the printed PDF, and sending with the next 發文字號
//! of the year. Every kind offered can be previewed and sent; a 簽 is an internal memo and is
//! written in 線上簽核, not here.
//! A refused form comes back with everything typed (the files must be chosen again: browsers
//! do not let a page refill them).

use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use gongwen_net::Refusal;
use gongwen_net::html::esc;
use gongwen_proto::{Code, ResendKind};
use gongwen_store::random_hex;
use serde::Deserialize;
use serde_json::{Value, json};

use super::login::{self, Session};
use super::{Web, error_page, page};
use crate::Agency;
use crate::api::FormData;

const KINDS: [&str; 4] = ["函", "書函", "開會通知單", "公告"];

/// The two recipient boxes as the kind names them: 出席者 and 列席者 on a meeting notice,
/// 正本 and 副本 otherwise.
fn box_labels(kind: &str) -> (&'static str, &'static str) {
    if kind == "開會通知單" {
        ("出席者", "列席者")
    } else {
        ("正本", "副本")
    }
}
const URGENCIES: [&str; 3] = ["普通件", "速件", "最速件"];
/// ODF for editable files, PDF (or TIFF, a scan) otherwise.
const ALLOWED: [&str; 7] = ["odt", "ods", "odp", "odg", "pdf", "tif", "tiff"];

fn level1(n: usize) -> String {
    format!("{}、", chinese(n))
}

fn level2(n: usize) -> String {
    format!("({})", chinese(n))
}

fn chinese(n: usize) -> String {
    const D: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => D[n].into(),
        10 => "十".into(),
        11..=19 => format!("十{}", D[n - 10]),
        20..=99 => format!("{}十{}", D[n / 10], D[n % 10]),
        _ => n.to_string(),
    }
}

/// Lines typed in a box as 條列: each line an item; a line indented (spaces or 全形空白)
/// belongs under the one before. Numbers typed by hand (一、 (一) 1.) are replaced.
fn items(text: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let indented = line.starts_with([' ', '\u{3000}', '\t']);
        let body = strip_number(line.trim());
        if indented && let Some(last) = out.last_mut() {
            let subs = last["條列"].as_array().map(|a| a.len()).unwrap_or(0);
            if !last["條列"].is_array() {
                last["條列"] = json!([]);
            }
            if let Some(a) = last["條列"].as_array_mut() {
                a.push(json!({ "序號": level2(subs + 1), "文字": body }));
            }
            continue;
        }
        out.push(json!({ "序號": level1(out.len() + 1), "文字": body }));
    }
    out
}

fn strip_number(s: &str) -> &str {
    let numerals = "一二三四五六七八九十0123456789０１２３４５６７８９";
    let t = s.trim_start_matches(['(', '（']);
    let rest = t.trim_start_matches(|c: char| numerals.contains(c));
    if rest.len() == t.len() {
        return s;
    }
    let rest2 = rest.trim_start_matches([')', '）', '、', '.', '．']);
    if rest2.len() == rest.len() {
        s
    } else {
        rest2.trim_start()
    }
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
        let found = a
            .center
            .search_participants(&code, 5)
            .await
            .map_err(|e| crate::send::refusal_of(&e))?
            .into_iter()
            .find(|l| l.code == code);
        match found {
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
async fn draft_of(a: &Agency, f: &FormData) -> Result<Value, Refusal> {
    let bad = |m: &str| Refusal::new(Code::AgentDocument, m.to_string());
    let kind = f.text("kind");
    if !KINDS.contains(&kind) {
        return Err(bad("請選擇文別"));
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
    if kind == "簽" {
        d["單位"] = json!(a.name.clone().unwrap_or_default());
    }
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
    let primary = resolve(a, primary_label, f.text("primary")).await?;
    let copies = resolve(a, copies_label, f.text("copies")).await?;
    let with_att = f.text("copies_attach") == "on";
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
        d["出席者"] = json!(primary.iter().map(|p| party(p, false)).collect::<Vec<_>>());
        d["列席者"] = json!(copies.iter().map(|p| party(p, true)).collect::<Vec<_>>());
    } else {
        d["正本"] = json!(primary.iter().map(|p| party(p, false)).collect::<Vec<_>>());
        d["副本"] = json!(copies.iter().map(|p| party(p, true)).collect::<Vec<_>>());
    }
    for (_, name) in &f.files {
        let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        if !ALLOWED.contains(&ext.as_str()) {
            return Err(Refusal::new(
                Code::SubmitFileType,
                format!(
                    "附件「{name}」的格式不能交換：可編輯的檔案請另存為 ODF（.odt、.ods、.odp），其他請轉成 PDF（掃描檔可用 TIFF）"
                ),
            ));
        }
    }
    Ok(d)
}

fn select(name: &str, label: &str, options: &[&str], chosen: &str) -> String {
    let opts: String = options
        .iter()
        .map(|o| {
            format!(
                "<option{}>{o}</option>",
                if *o == chosen { " selected" } else { "" }
            )
        })
        .collect();
    format!("<label>{label} <select name=\"{name}\" id=\"{name}\">{opts}</select></label>")
}

fn area(name: &str, label: &str, hint: &str, value: &str, rows: u8) -> String {
    format!(
        "<p><label for=\"{name}\" id=\"{name}-label\">{label}</label>{h}<br><textarea name=\"{name}\" id=\"{name}\" rows=\"{rows}\">{v}</textarea></p>",
        h = if hint.is_empty() {
            String::new()
        } else {
            format!("<br><small>{hint}</small>")
        },
        v = esc(value)
    )
}

fn input(name: &str, label: &str, value: &str) -> String {
    format!(
        "<p><label>{label} <input name=\"{name}\" id=\"{name}\" value=\"{}\" size=\"40\"></label></p>",
        esc(value)
    )
}

/// What the form offers beside the typed fields: the agency's groups and the sends it may
/// correct or resend.
struct Choices {
    groups: Vec<gongwen_proto::api::Group>,
    originals: Vec<crate::options::Original>,
}

async fn choices_of(w: &Web, a: &Agency) -> Choices {
    Choices {
        groups: a.center.groups().await.unwrap_or_default(),
        originals: crate::options::recent_originals(&w.node.db, a.code.as_str(), 50)
            .await
            .unwrap_or_default(),
    }
}

/// 立即確認 and a typed resend of one of the agency's own sends.
fn resend_fields(f: &FormData, originals: &[crate::options::Original]) -> String {
    let kinds: String = std::iter::once(("", "（不是重發）"))
        .chain(ResendKind::ALL.iter().map(|k| (k.label(), k.label())))
        .map(|(v, l)| {
            format!(
                "<option value=\"{v}\"{}>{l}</option>",
                if v == f.text("resend_kind") {
                    " selected"
                } else {
                    ""
                }
            )
        })
        .collect();
    let chosen = f.text("resend_of");
    let mut of = String::from("<option value=\"\">（請選擇本機關送出的公文）</option>");
    for o in originals {
        of.push_str(&format!(
            "<option value=\"{id}\"{sel}>{num}　{subj}</option>",
            id = esc(&o.package_id),
            sel = if chosen == o.package_id || chosen == o.doc_number {
                " selected"
            } else {
                ""
            },
            num = esc(&o.doc_number),
            subj = esc(&o.subject.chars().take(40).collect::<String>()),
        ));
    }
    format!(
        "<fieldset><legend>立即確認與更正、重發（選填）</legend>\
         <p><label><input type=\"checkbox\" name=\"confirm_now\"{cn}> 涉及人民或機關重大權益，請受文者立即確認</label></p>\
         <p><label>重發類別 <select name=\"resend_kind\" id=\"resend_kind\">{kinds}</select></label> \
         <label>原發文 <select name=\"resend_of\" id=\"resend_of\">{of}</select></label><br>\
         <small>電子公文不得增、減發送：本文或附件有誤時，改好後以「本文修正」「附件修正」等類別重發，並指明原發文；受文者會看到這是哪一件的更正。</small></p></fieldset>",
        cn = if f.text("confirm_now") == "on" {
            " checked"
        } else {
            ""
        },
    )
}

/// The form, filled with what was typed.
fn form(a: &Agency, s: &Session, f: &FormData, c: &Choices, error: Option<&Refusal>) -> String {
    let groups = &c.groups;
    let kind = if f.text("kind").is_empty() {
        "函"
    } else {
        f.text("kind")
    };
    // A form never posted (no 文別 yet) shows the agency's defaults.
    let fresh = f.text("kind").is_empty();
    let v = |k: &str, default: &str| {
        let t = f.text(k);
        if t.is_empty() && fresh {
            default.to_string()
        } else {
            t.to_string()
        }
    };
    let name = a.name.clone().unwrap_or_default();
    let err = error
        .map(|e| {
            format!(
                "<p class=\"msg\" role=\"alert\">{}：{}（{}）。您輸入的內容都保留在下面{}。</p>",
                esc(e.code.message()),
                esc(&e.detail),
                e.code.as_str(),
                if f.files.is_empty() {
                    ""
                } else {
                    "；附件請重新選擇"
                }
            )
        })
        .unwrap_or_default();
    let group_boxes: String = groups
        .iter()
        .map(|g| {
            format!(
                "<label><input type=\"checkbox\" class=\"group\" data-members=\"{}\"> {}（{} 個）</label> ",
                esc(&g.members.join(" ")),
                esc(&g.name),
                g.members.len()
            )
        })
        .collect();
    format!(
        "{err}<form method=\"post\" action=\"/compose/send\" enctype=\"multipart/form-data\" id=\"compose\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <p>{kinds}　{urg}</p>\
         {subject}\
         <div id=\"f-letter\">{explain}{action}</div>\
         <div id=\"f-notice\">{basis}{announce}</div>\
         <div id=\"f-meeting\">{reason}{date}{time}{place}{chair}{contact_name}{contact_phone}</div>\
         <fieldset><legend>受文者</legend>\
         <p><label>查詢通訊錄（名稱或代碼，臺／台不分） <input id=\"book-q\" list=\"book\" autocomplete=\"off\"></label>\
         <datalist id=\"book\"></datalist> <button type=\"button\" id=\"to-primary\">加入{pl}</button> <button type=\"button\" id=\"to-copies\">加入{cl}</button></p>\
         {groups}\
         {primary}{copies}\
         <p><label><input type=\"checkbox\" name=\"copies_attach\"{ca}> <span id=\"copies-attach-label\">{cl}</span>含附件</label></p></fieldset>\
         <fieldset><legend>附件</legend><p><small>可編輯的檔案請用 ODF（.odt、.ods、.odp），其他請轉成 PDF；掃描的紙本可用 TIFF。\
         Word、Excel 檔請先另存為 ODF 或 PDF。</small></p>\
         <p><label>附件 <input type=\"file\" name=\"attachment\" multiple accept=\".odt,.ods,.odp,.odg,.pdf,.tif,.tiff\"></label></p>\
         {att_text}</fieldset>\
         <fieldset><legend>發文機關資料</legend>{address}{contact}{signature}</fieldset>\
         {resend}\
         <p><button formaction=\"/compose/preview\" formtarget=\"preview\">預覽（PDF）</button> \
         <button id=\"send\">送出</button> <small>發文字號於送出時依「{word}」配給。</small></p></form>\
         <iframe name=\"preview\" title=\"預覽\" class=\"frame\"></iframe>",
        csrf = esc(&s.csrf),
        kinds = select("kind", "文別", &KINDS, kind),
        urg = select("urgency", "速別", &URGENCIES, f.text("urgency")),
        subject = area("subject", "主旨", "", f.text("subject"), 2),
        explain = area(
            "explain",
            "說明",
            "每行一點，自動編為「一、二、」；行首空兩格的是上一點的細項「(一)(二)」",
            f.text("explain"),
            6
        ),
        action = area("action", "辦法", "", f.text("action"), 3),
        basis = area("basis", "依據", "", f.text("basis"), 2),
        announce = area("announce", "公告事項", "每行一點", f.text("announce"), 5),
        reason = area("reason", "開會事由", "", f.text("reason"), 2),
        date = input("date", "開會日期（例：115年2月3日）", f.text("date")),
        time = input("time", "開會時間（例：上午10時）", f.text("time")),
        place = input("place", "開會地點", f.text("place")),
        chair = input("chair", "主持人", f.text("chair")),
        contact_name = input("contact_name", "聯絡人", &v("contact_name", "")),
        contact_phone = input("contact_phone", "聯絡電話", &v("contact_phone", "")),
        pl = box_labels(kind).0,
        cl = box_labels(kind).1,
        resend = resend_fields(f, &c.originals),
        groups = if group_boxes.is_empty() {
            String::new()
        } else {
            format!("<p>行文群組（加入正本）：{group_boxes}</p>")
        },
        primary = area(
            "primary",
            box_labels(kind).0,
            "每行一個：機關代碼 名稱",
            f.text("primary"),
            3
        ),
        copies = area("copies", box_labels(kind).1, "", f.text("copies"), 2),
        ca = if f.text("copies_attach") == "on" || fresh {
            " checked"
        } else {
            ""
        },
        att_text = input(
            "attachment_text",
            "附件說明（例：計畫書1份）",
            f.text("attachment_text")
        ),
        address = input(
            "address",
            "地址",
            &v("address", a.address.as_deref().unwrap_or(""))
        ),
        contact = area(
            "contact",
            "聯絡方式",
            "每行一項：承辦人、電話、電子信箱",
            &v("contact", &a.contact.join("\n")),
            3
        ),
        signature = area("signature", "署名", "", &v("signature", &name), 1),
        word = esc(a.word.as_deref().unwrap_or("")),
    )
}

#[derive(Deserialize)]
pub struct ComposeQuery {
    /// A send to correct or resend (its package id), from the 發文 page.
    #[serde(default)]
    resend_of: String,
}

pub async fn show(
    State(w): State<Web>,
    headers: HeaderMap,
    Query(q): Query<ComposeQuery>,
) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut start = FormData {
        texts: Vec::new(),
        files: Vec::new(),
    };
    if !q.resend_of.is_empty() {
        start.texts.push(("resend_of".into(), q.resend_of.clone()));
    }
    let c = choices_of(&w, a).await;
    page("撰寫公文", Some((a, &s)), &form(a, &s, &start, &c, None)).into_response()
}

#[derive(Deserialize)]
pub struct BookQuery {
    #[serde(default)]
    q: String,
}

/// Recipients for the search box: the center's address book.
pub async fn recipients(
    State(w): State<Web>,
    headers: HeaderMap,
    Query(q): Query<BookQuery>,
) -> Response {
    let (a, _) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match a.center.search_participants(&q.q, 20).await {
        Ok(l) => axum::Json(l).into_response(),
        Err(e) => crate::send::refusal_of(&e).into_response(),
    }
}

/// Reads the form into a fresh folder; the caller removes it.
async fn read(
    w: &Web,
    a: &Agency,
    mp: Multipart,
) -> (std::path::PathBuf, Result<FormData, Refusal>) {
    let dir = w
        .node
        .config
        .data_dir
        .join("staged")
        .join(a.code.as_str())
        .join(format!("web-{}", random_hex(12)));
    let limit = w
        .node
        .config
        .api
        .as_ref()
        .map(|c| c.max_upload_mb)
        .unwrap_or(200)
        .saturating_mul(1024 * 1024);
    let r = crate::api::read_multipart(
        mp,
        &dir.join(".uploads"),
        usize::try_from(limit).unwrap_or(usize::MAX),
        &["attachment"],
    )
    .await;
    (dir, r)
}

fn today(w: &Web) -> Result<gongwen_doc::RocDate, Refusal> {
    gongwen_doc::RocDate::from_unix_taipei(w.node.clock.now_s())
        .map_err(|e| Refusal::new(Code::Internal, e.message))
}

pub async fn preview(State(w): State<Web>, headers: HeaderMap, mp: Multipart) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (dir, form) = read(&w, a, mp).await;
    let r = async {
        let f = form?;
        login::csrf_ok(&s, f.text("csrf"))?;
        let mut d = draft_of(a, &f).await?;
        d["發文機關"] =
            json!([{ "全銜": a.name.clone().unwrap_or_default(), "機關代碼": a.code.as_str() }]);
        d["發文字號"] = json!(format!(
            "{}字第（送出時編號）號",
            a.word.as_deref().unwrap_or("")
        ));
        d["檔名"] = json!("preview");
        let draft: gongwen_doc::draft::Draft = serde_json::from_value(d)
            .map_err(|e| Refusal::new(Code::AgentDocument, e.to_string()))?;
        let built = draft.build(today(&w)?).map_err(|p| {
            Refusal::new(
                Code::AgentDocument,
                p.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join("；"),
            )
        })?;
        super::inbox::pdf(built.di, gongwen_render::RenderOptions::default()).await
    }
    .await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    match r {
        Ok(pdf) => ([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response(),
        Err(e) => error_page(Some((a, &s)), &e),
    }
}

pub async fn send(State(w): State<Web>, headers: HeaderMap, mp: Multipart) -> Response {
    let (a, s) = match login::require(&w, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (dir, read_form) = read(&w, a, mp).await;
    let f = match read_form {
        Ok(f) => f,
        Err(e) => {
            let _ = tokio::fs::remove_dir_all(&dir).await;
            return error_page(Some((a, &s)), &e);
        }
    };
    let r = async {
        login::csrf_ok(&s, f.text("csrf"))?;
        let options = crate::options::SendOptions::from_fields(
            f.text("confirm_now"),
            f.text("resend_kind"),
            f.text("resend_of"),
        )
        .map_err(|m| Refusal::new(Code::AgentDocument, m))?;
        let d = draft_of(a, &f).await?;
        let mut draft: gongwen_doc::draft::Draft = serde_json::from_value(d)
            .map_err(|e| Refusal::new(Code::AgentDocument, e.to_string()))?;
        let today = today(&w)?;
        let taken = crate::compose::complete(
            &w.node.db,
            &mut draft,
            &crate::compose::Defaults {
                code: a.code.as_str(),
                name: a.name.as_deref(),
                word: a.word.as_deref(),
            },
            today,
        )
        .await?;
        let sent = async {
            let mut set = crate::compose::stage(&draft, today, &dir.join(".uploads"), &dir)?;
            options
                .attach_to(&mut set)
                .map_err(|e| Refusal::new(Code::Internal, e.to_string()))?;
            crate::send::send_staged(&w.node, a, &set, "web").await
        }
        .await;
        if sent.is_err() {
            let name = crate::folder::dir_name(&dir);
            crate::send::give_back_unsealed(&w.node, a, &name, taken).await;
        }
        sent
    }
    .await;
    let _ = tokio::fs::remove_dir_all(dir.join(".uploads")).await;
    match r {
        Ok(res) => {
            let number = res
                .package
                .as_ref()
                .map(|p| p.doc_number.clone())
                .unwrap_or_default();
            let body = format!(
                "<p class=\"msg ok\" role=\"status\">已送出 {}（{}）。</p><p><a href=\"/sent\">看發文狀態</a>　<a href=\"/compose\">再寫一件</a></p>",
                esc(&number),
                if res.state == "submitted" {
                    "交換中心已收件"
                } else {
                    "已封裝，交換中心暫時無法連線，稍後自動重送"
                }
            );
            page("已送出", Some((a, &s)), &body).into_response()
        }
        Err(e) => {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if crate::send::sent_row(&w.node, a, &name)
                .await
                .ok()
                .flatten()
                .is_none()
            {
                // Nothing was sealed: nothing to keep.
                let _ = tokio::fs::remove_dir_all(&dir).await;
            }
            let c = choices_of(&w, a).await;
            let status = axum::http::StatusCode::from_u16(e.code.http_status())
                .unwrap_or(axum::http::StatusCode::BAD_REQUEST);
            (
                status,
                page("撰寫公文", Some((a, &s)), &form(a, &s, &f, &c, Some(&e))),
            )
                .into_response()
        }
    }
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
        assert_eq!(chinese(10), "十");
        assert_eq!(chinese(21), "二十一");
        assert_eq!(level2(12), "(十二)");
    }

    #[test]
    fn only_leading_numbers_are_stripped() {
        assert_eq!(strip_number("一、主旨"), "主旨");
        assert_eq!(strip_number("（三）說明"), "說明");
        assert_eq!(strip_number("2. 細項"), "細項");
        assert_eq!(
            strip_number("115年度計畫"),
            "115年度計畫",
            "a year is not a number"
        );
        assert_eq!(strip_number("依據"), "依據");
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
