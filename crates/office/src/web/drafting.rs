//! The drafting form (擬辦, 修改, 創簽／創稿): a 簽 or 稿 written in fields that follow the DTD
//! (文別, 速別, 主旨, 說明 and 辦法 as numbered paragraphs, 正本 and 副本, 擬辦方式 …) and kept
//! as the JSON of a [`Draft`] — the draft format of the agent's API, which is what a 「發」 稿
//! is sent as. A form is checked by building the document it describes, so what is signed can
//! be printed and sent; every problem comes back under its field, with everything typed kept.
//!
//! A 稿 is kept without its 發文字號: the agent gives it from the agency's series when it is
//! sent. A 簽 carries the case's number as its 文號, its unit and its writer as 署名.

use gongwen_doc::RocDate;
use gongwen_doc::draft::{
    Draft, DraftContact, DraftIssuer, DraftItem, DraftNumber, DraftPerson, DraftRecipient,
    DraftSection, DraftTime, OneOrMany, item_number, strip_item_number,
};
use gongwen_web::FormErrors;

use super::actions::Fields;

/// The kinds the form writes.
pub const KINDS: [&str; 5] = ["簽", "函", "書函", "公告", "開會通知單"];

/// 速別, as cases keep it.
pub const URGENCIES: [&str; 3] = ["普通件", "速件", "最速件"];

/// 擬辦方式 of a 簽: the DTD's code and the name people use. 逕行存查 has no code of its own
/// and is written as 6 (其他).
pub const PROPOSALS: [(&str, &str); 4] = [
    ("1", "先簽後稿"),
    ("2", "簽稿併陳"),
    ("3", "以稿代簽"),
    ("6", "逕行存查"),
];

/// The 發文字號 a 稿 prints with until the agent numbers it.
pub const NUMBER_LATER: &str = "（發文時編號）";

/// Longest text of one field (a 說明 of many paragraphs fits; the form's body is smaller).
const MAX_FIELD_CHARS: usize = 50_000;

/// What a 簽 or 稿 takes from the office rather than from the form.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    pub agency_code: &'a str,
    pub agency_name: &'a str,
    /// The unit a 簽 comes from.
    pub unit_name: &'a str,
    /// The case's number, a 簽's 文號 ("" while a new case has none).
    pub case_number: &'a str,
    /// 「職稱 姓名」 of the writer: a 簽's 署名 when none is typed.
    pub signer: &'a str,
}

/// The version kind a 文別 is kept as: `memo` for a 簽, `draft` for everything sent out.
pub fn version_kind(kind: &str) -> &'static str {
    if kind == "簽" { "memo" } else { "draft" }
}

/// The last paragraph's name: 擬辦 in a 簽, 辦法 elsewhere.
pub fn plan_label(kind: &str) -> &'static str {
    if kind == "簽" { "擬辦" } else { "辦法" }
}

/// Lines typed in a box as numbered paragraphs: each line one (一、二、); a line indented with
/// spaces or 全形空白 belongs under the one before ((一)(二)). A number typed by hand at the
/// start of a line is dropped: the form numbers the paragraphs itself.
pub fn items(text: &str) -> Vec<DraftItem> {
    let mut out: Vec<DraftItem> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let indented = line.starts_with([' ', '\u{3000}', '\t']);
        let body = strip_item_number(line.trim()).to_string();
        if indented && let Some(last) = out.last_mut() {
            let n = last.items.len() + 1;
            last.items.push(DraftItem {
                number: item_number(2, n),
                text: Some(body),
                items: Vec::new(),
            });
            continue;
        }
        out.push(DraftItem {
            number: item_number(1, out.len() + 1),
            text: Some(body),
            items: Vec::new(),
        });
    }
    out
}

/// Paragraphs back as the lines of a box.
fn lines_of(items: &[DraftItem], depth: usize, out: &mut Vec<String>) {
    for i in items {
        let indent = "\u{3000}\u{3000}".repeat(depth);
        out.push(format!("{indent}{}", i.text.as_deref().unwrap_or_default()));
        lines_of(&i.items, depth + 1, out);
    }
}

/// Recipients typed one a line: `機關代碼 名稱` (exchanged electronically), or only a name
/// (printed on the document, sent on paper).
fn recipients(
    text: &str,
    field: &'static str,
    errors: &mut FormErrors,
    copy: bool,
) -> Vec<DraftRecipient> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (first, rest) = line
            .split_once(char::is_whitespace)
            .map_or((line, ""), |(a, b)| (a, b.trim()));
        let code = gongwen_doc::AgencyCode::parse(&first.to_ascii_uppercase()).ok();
        let (code, name) = match code {
            Some(_) => (Some(first.to_ascii_uppercase()), rest),
            None => (None, line),
        };
        if name.is_empty() {
            errors.push(
                Some(field),
                format!("「{first}」之後請寫受文者名稱（機關代碼 名稱）"),
            );
            continue;
        }
        out.push(DraftRecipient {
            full_name: Some(name.to_string()),
            agency_code: code,
            with_attachments: copy.then_some(true),
            ..Default::default()
        });
    }
    out
}

fn recipient_lines(list: &[DraftRecipient]) -> String {
    list.iter()
        .map(|r| {
            let name = [&r.full_name, &r.unit_name, &r.person, &r.collective]
                .into_iter()
                .find_map(|n| n.clone())
                .unwrap_or_default();
            match &r.agency_code {
                Some(c) => format!("{c} {name}"),
                None => name,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn non_empty_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn opt(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// The fields of the form, read into a draft; what cannot be read is an error of its field.
/// The draft is then checked as a whole with [`check`].
pub fn read(f: &Fields, w: &Writer<'_>) -> Result<Draft, FormErrors> {
    let mut errors = FormErrors::new();
    for (name, value) in &f.0 {
        if value.chars().count() > MAX_FIELD_CHARS {
            let field = FIELDS.iter().find(|n| *n == name).copied();
            errors.push(field, format!("欄位最多 {MAX_FIELD_CHARS} 字"));
        }
    }
    let kind = f.text("kind");
    if !KINDS.contains(&kind) {
        errors.push(Some("kind"), "請選擇文別");
    }
    let urgency = f.text("urgency");
    if !URGENCIES.contains(&urgency) {
        errors.push(Some("urgency"), "請選擇速別（普通件、速件或最速件）");
    }
    let subject = f.text("subject").trim();
    if subject.contains(['\n', '\r']) {
        errors.push(Some("subject"), "主旨請寫成一段，不要換行");
    }
    let mut d = Draft {
        kind: Some(kind.to_string()),
        urgency: Some(urgency.to_string()),
        subject: opt(subject),
        ..Default::default()
    };
    let mut section = |title: &str, field: &str| {
        let it = items(f.text(field));
        if !it.is_empty() {
            d.sections.push(DraftSection {
                title: format!("{title}："),
                text: None,
                items: it,
            });
        }
    };
    match kind {
        "公告" => {
            section("依據", "basis");
            section("公告事項", "announce");
        }
        "開會通知單" => {}
        _ => {
            section("說明", "explain");
            section(plan_label(kind), "plan");
        }
    }
    let primary = recipients(f.text("primary"), "primary", &mut errors, false);
    let copies = recipients(f.text("copies"), "copies", &mut errors, true);
    let signatures = non_empty_lines(f.text("signature"));
    match kind {
        "簽" => {
            d.unit = Some(w.unit_name.to_string());
            if !w.case_number.is_empty() {
                d.numbers = OneOrMany::One(DraftNumber::Text(w.case_number.to_string()));
            }
            d.signatures = OneOrMany::Many(if signatures.is_empty() {
                vec![w.signer.to_string()]
            } else {
                signatures
            });
            let p = f.text("proposal");
            if !p.is_empty() && !PROPOSALS.iter().any(|(code, _)| *code == p) {
                errors.push(Some("proposal"), "請選擇擬辦方式");
            }
            d.proposal = opt(p);
            d.primary = primary;
            d.copies = copies;
        }
        _ => {
            d.issuers = vec![DraftIssuer {
                full_name: Some(w.agency_name.to_string()),
                agency_code: w.agency_code.to_string(),
                ..Default::default()
            }];
            d.address = opt(f.text("address"));
            d.contacts = OneOrMany::Many(non_empty_lines(f.text("contact")));
            d.signatures = OneOrMany::Many(signatures);
            if kind == "開會通知單" {
                d.reason = opt(f.text("reason"));
                d.place = opt(f.text("place"));
                let (date, time) = (f.text("date").trim(), f.text("time").trim());
                if !date.is_empty() || !time.is_empty() {
                    d.times = vec![DraftTime {
                        date: date.to_string(),
                        weekday: None,
                        time: time.to_string(),
                    }];
                }
                if let Some(chair) = opt(f.text("chair")) {
                    d.chairs = vec![DraftPerson {
                        name: chair,
                        title: None,
                    }];
                }
                let (name, phone) = (
                    f.text("contact_name").trim(),
                    f.text("contact_phone").trim(),
                );
                if !name.is_empty() || !phone.is_empty() {
                    d.contact_persons = vec![DraftContact {
                        name: name.to_string(),
                        title: None,
                        phone: phone.to_string(),
                    }];
                }
                d.attendees = primary;
                d.observers = copies;
            } else {
                d.primary = primary;
                d.copies = copies;
            }
        }
    }
    if errors.is_empty() {
        Ok(d)
    } else {
        Err(errors)
    }
}

/// Every field of the form, in the order of the page (what an error may point to).
pub const FIELDS: [&str; 20] = [
    "matter",
    "kind",
    "urgency",
    "subject",
    "explain",
    "plan",
    "basis",
    "announce",
    "reason",
    "date",
    "time",
    "place",
    "chair",
    "contact_name",
    "contact_phone",
    "primary",
    "copies",
    "proposal",
    "address",
    "contact",
];

/// The field of the form a build problem is about (its path names the DTD element).
fn field_of(path: &str) -> Option<&'static str> {
    let head = path.split(['[', '.']).next().unwrap_or_default();
    Some(match head {
        "文別" => "kind",
        "速別" => "urgency",
        "主旨" => "subject",
        "正本" | "出席者" => "primary",
        "副本" | "列席者" => "copies",
        "地址" => "address",
        "聯絡方式" => "contact",
        "署名" => "signature",
        "擬辦方式" => "proposal",
        "開會事由" | "會勘事由" => "reason",
        "開會時間" | "會勘時間" => "date",
        "開會地點" | "會勘地點" => "place",
        "主持人" => "chair",
        "聯絡人及電話" => "contact_name",
        _ => return None,
    })
}

/// The draft as it prints before it is numbered: a 稿 with [`NUMBER_LATER`] (or the number it
/// went out with), a 簽 of a case not yet numbered with zeros.
pub fn printable(d: &Draft, number: Option<&str>) -> Draft {
    let mut p = d.clone();
    if p.numbers.is_empty() {
        let n = match (p.kind.as_deref(), number) {
            (Some("簽"), _) => "0000000000",
            (_, Some(n)) => n,
            (_, None) => NUMBER_LATER,
        };
        p.numbers = OneOrMany::One(DraftNumber::Text(n.to_string()));
    }
    // A 稿's files are named after its number, which it does not have yet.
    if p.base.is_none() && p.kind.as_deref() != Some("簽") {
        p.base = Some("document".to_string());
    }
    p
}

/// What is wrong with the document a draft makes on `today`, each under its field.
pub fn check(d: &Draft, today: RocDate) -> FormErrors {
    let mut errors = FormErrors::new();
    if let Err(problems) = printable(d, None).build(today) {
        for p in problems {
            errors.push(field_of(&p.path), p.message);
        }
    }
    errors
}

/// [`read`] and [`check`]: the draft, or every problem under its field.
pub fn draft_of(f: &Fields, w: &Writer<'_>, today: RocDate) -> Result<Draft, FormErrors> {
    let d = read(f, w)?;
    let errors = check(&d, today);
    if errors.is_empty() {
        Ok(d)
    } else {
        Err(errors)
    }
}

/// The subject a case takes from its first document (a meeting notice has its 開會事由).
pub fn subject_of(d: &Draft) -> String {
    d.subject
        .clone()
        .or_else(|| d.reason.clone())
        .unwrap_or_default()
}

/// A draft as kept: its JSON, without the empty fields.
pub fn json_of(d: &Draft) -> Vec<u8> {
    let mut v = serde_json::to_value(d).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.retain(|_, x| match x {
            serde_json::Value::Null => false,
            serde_json::Value::Array(a) => !a.is_empty(),
            serde_json::Value::Bool(b) => *b,
            _ => true,
        });
    }
    serde_json::to_vec_pretty(&v).unwrap_or_default()
}

/// A kept version read back as a draft, if it is one.
pub fn parse(content: &[u8]) -> Option<Draft> {
    serde_json::from_slice(content).ok()
}

/// The form filled from a draft (to revise or amend it).
pub fn fields_of(d: &Draft) -> Fields {
    let kind = d.kind.clone().unwrap_or_else(|| "函".into());
    let mut f = Fields::default();
    let mut set = |k: &str, v: String| f.set(k, v);
    for s in &d.sections {
        let field = match s.title.trim_end_matches(['：', ':']) {
            "說明" => "explain",
            "辦法" | "擬辦" => "plan",
            "依據" => "basis",
            "公告事項" => "announce",
            _ => "explain",
        };
        let mut lines: Vec<String> = s.text.iter().cloned().collect();
        lines_of(&s.items, 0, &mut lines);
        set(field, lines.join("\n"));
    }
    let meeting = kind == "開會通知單";
    let (primary, copies) = if meeting {
        (&d.attendees, &d.observers)
    } else {
        (&d.primary, &d.copies)
    };
    set("primary", recipient_lines(primary));
    set("copies", recipient_lines(copies));
    set(
        "urgency",
        d.urgency.clone().unwrap_or_else(|| "普通件".into()),
    );
    set("subject", d.subject.clone().unwrap_or_default());
    set("proposal", d.proposal.clone().unwrap_or_default());
    set("address", d.address.clone().unwrap_or_default());
    set("contact", d.contacts.to_vec().join("\n"));
    if kind != "簽" {
        set("signature", d.signatures.to_vec().join("\n"));
    }
    set("reason", d.reason.clone().unwrap_or_default());
    set("place", d.place.clone().unwrap_or_default());
    if let Some(t) = d.times.first() {
        set("date", t.date.clone());
        set("time", t.time.clone());
    }
    if let Some(c) = d.chairs.first() {
        set("chair", c.name.clone());
    }
    if let Some(c) = d.contact_persons.first() {
        set("contact_name", c.name.clone());
        set("contact_phone", c.phone.clone());
    }
    set("kind", kind);
    f
}

/// The form filled from a kept version: a draft field by field, anything else (text written
/// before the form existed) as its 說明.
pub fn fields_of_content(content: &[u8], kind: &str) -> Fields {
    match parse(content) {
        Some(d) => fields_of(&d),
        None => {
            let mut f = Fields::default();
            f.set("kind", if kind == "memo" { "簽" } else { "函" }.into());
            f.set("urgency", "普通件".into());
            f.set("explain", String::from_utf8_lossy(content).into_owned());
            f
        }
    }
}

/// A new form: a 簽 (or a 函 for a 稿) of 普通件, the writer as the contact.
pub fn blank(kind: &str, signer: &str) -> Fields {
    let mut f = Fields::default();
    f.set("kind", kind.to_string());
    f.set("urgency", "普通件".into());
    f.set("contact", format!("承辦人：{signer}"));
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Writer<'static> = Writer {
        agency_code: "379000000A",
        agency_name: "臺北市政府教育局",
        unit_name: "國中教育科",
        case_number: "1150000012",
        signer: "科員 張承辦",
    };

    fn today() -> RocDate {
        RocDate::parse("115年3月2日").unwrap()
    }

    fn form(pairs: &[(&str, &str)]) -> Fields {
        let mut f = Fields::default();
        for (k, v) in pairs {
            f.set(k, v.to_string());
        }
        f
    }

    fn letter() -> Fields {
        form(&[
            ("kind", "函"),
            ("urgency", "速件"),
            ("subject", "檢送115學年度國中教師員額表，請查照。"),
            (
                "explain",
                "依據貴府來函辦理。\n員額如下：\n　國中 10 人\n　國小 5 人",
            ),
            ("plan", "請於3月底前回復。"),
            ("primary", "A15000000D 新北市政府教育局\n臺北市立大安國中"),
            ("copies", "379000000A 臺北市政府教育局"),
            ("address", "110 臺北市信義區市府路1號"),
            ("contact", "承辦人：科員 張承辦\n電話：(02)2720-8889"),
            ("signature", "局長 吳局長"),
        ])
    }

    #[test]
    fn a_letter_is_read_checked_and_kept_without_its_number() {
        let d = draft_of(&letter(), &W, today()).unwrap();
        assert_eq!(version_kind(d.kind.as_deref().unwrap()), "draft");
        assert!(d.numbers.is_empty(), "the agent numbers it");
        assert_eq!(d.issuers[0].agency_code, "379000000A");
        assert_eq!(d.primary.len(), 2);
        assert_eq!(d.primary[0].agency_code.as_deref(), Some("A15000000D"));
        assert_eq!(d.primary[1].agency_code, None, "a paper recipient");
        assert_eq!(d.copies[0].with_attachments, Some(true));
        let s = &d.sections[0];
        assert_eq!(s.title, "說明：");
        assert_eq!(s.items.len(), 2);
        assert_eq!(s.items[1].number, "二、");
        assert_eq!(s.items[1].items[1].number, "(二)");
        assert_eq!(s.items[1].items[1].text.as_deref(), Some("國小 5 人"));
        // Kept as JSON the agent reads back as a draft, and the form refills from it.
        let back = parse(&json_of(&d)).unwrap();
        let f = fields_of(&back);
        for k in ["kind", "urgency", "subject", "plan", "address", "signature"] {
            assert_eq!(f.text(k), letter().text(k).trim(), "{k}");
        }
        assert_eq!(
            f.text("explain"),
            "依據貴府來函辦理。\n員額如下：\n\u{3000}\u{3000}國中 10 人\n\u{3000}\u{3000}國小 5 人"
        );
        assert_eq!(f.text("primary"), letter().text("primary"));
        assert!(draft_of(&f, &W, today()).is_ok());
    }

    #[test]
    fn a_memo_comes_from_the_unit_with_the_case_number_and_its_writer() {
        let f = form(&[
            ("kind", "簽"),
            ("urgency", "普通件"),
            ("subject", "擬辦理教師研習，簽請核示。"),
            ("explain", "一、依據年度計畫。"),
            ("plan", "奉核後辦理。"),
            ("proposal", "2"),
        ]);
        let d = draft_of(&f, &W, today()).unwrap();
        assert_eq!(version_kind("簽"), "memo");
        assert_eq!(d.unit.as_deref(), Some("國中教育科"));
        assert_eq!(d.signatures.to_vec(), ["科員 張承辦"]);
        assert_eq!(d.sections[1].title, "擬辦：");
        assert_eq!(
            d.sections[0].items[0].text.as_deref(),
            Some("依據年度計畫。")
        );
        let built = printable(&d, None).build(today()).unwrap();
        assert_eq!(built.base, "1150000012");
        // A new case has no number yet: it still checks.
        let new = Writer {
            case_number: "",
            ..W
        };
        assert!(draft_of(&f, &new, today()).is_ok());
        // 逕行存查 is written as the DTD's 其他.
        let mut f = f;
        f.set("proposal", "逕行存查".into());
        assert_eq!(read(&f, &W).unwrap_err().of("proposal"), "請選擇擬辦方式");
    }

    #[test]
    fn problems_come_back_under_their_fields() {
        let mut f = letter();
        f.set("address", String::new());
        f.set("primary", "臺北市立大安國中".into());
        f.set("copies", String::new());
        f.set("subject", String::new());
        let e = draft_of(&f, &W, today()).unwrap_err();
        assert!(!e.of("address").is_empty(), "{e:?}");
        assert!(!e.of("subject").is_empty(), "{e:?}");
        assert!(e.of("primary").contains("電子交換"), "{e:?}");
        // Fields that cannot be read are refused before the document is built.
        let e = read(
            &form(&[("kind", "公文"), ("urgency", "急件"), ("subject", "一\n二")]),
            &W,
        )
        .unwrap_err();
        assert!(!e.of("kind").is_empty());
        assert!(!e.of("urgency").is_empty());
        assert!(!e.of("subject").is_empty());
        let e = read(
            &form(&[
                ("kind", "函"),
                ("urgency", "普通件"),
                ("primary", "A15000000D"),
            ]),
            &W,
        )
        .unwrap_err();
        assert!(e.of("primary").contains("名稱"), "{e:?}");
    }

    #[test]
    fn a_meeting_notice_names_its_attendees() {
        let f = form(&[
            ("kind", "開會通知單"),
            ("urgency", "普通件"),
            ("reason", "研商115學年度教師員額"),
            ("date", "115年3月10日"),
            ("time", "上午10時"),
            ("place", "本局會議室"),
            ("chair", "吳局長"),
            ("contact_name", "張承辦"),
            ("contact_phone", "(02)2720-8889"),
            ("primary", "A15000000D 新北市政府教育局"),
            ("address", "110 臺北市信義區市府路1號"),
        ]);
        let d = draft_of(&f, &W, today()).unwrap();
        assert_eq!(d.attendees.len(), 1);
        assert_eq!(subject_of(&d), "研商115學年度教師員額");
        assert_eq!(fields_of(&d).text("primary"), "A15000000D 新北市政府教育局");
        assert_eq!(
            gongwen_doc::draft::box_labels("開會通知單"),
            ("出席者", "列席者")
        );
    }

    #[test]
    fn text_that_is_not_a_draft_fills_the_explanation() {
        let f = fields_of_content("簽：擬復如稿".as_bytes(), "memo");
        assert_eq!(f.text("kind"), "簽");
        assert_eq!(f.text("explain"), "簽：擬復如稿");
        assert_eq!(
            blank("簽", "科員 張承辦").text("contact"),
            "承辦人：科員 張承辦"
        );
    }

    #[test]
    fn typed_numbers_are_replaced() {
        let i = items("一、依據\n　(二)細項\n１．甲\n100人");
        assert_eq!(i[0].text.as_deref(), Some("依據"));
        assert_eq!(i[0].items[0].text.as_deref(), Some("細項"));
        assert_eq!(i[1].text.as_deref(), Some("甲"));
        assert_eq!(i[2].text.as_deref(), Some("100人"));
        assert_eq!(i[2].number, "三、");
    }
}
