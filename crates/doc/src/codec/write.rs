//! Model → XML tree, element by element in the order the DTDs give.

use crate::model::*;
use crate::values::*;
use crate::xml::Element;

fn t(name: &str, text: &str) -> Element {
    Element::text(name, text)
}

/// An element holding `children`.
fn parent(name: &str, children: impl IntoIterator<Item = Element>) -> Element {
    let mut e = Element::new(name, vec![]);
    children.into_iter().for_each(|c| e.push(c));
    e
}

fn wrapped(name: &str, text: &str) -> Element {
    parent(name, [t("文字", text)])
}

/// (全銜, 機關代碼) or (單位名, 機關代碼, 單位代碼).
fn issuer(i: &Issuer) -> Element {
    let label = match i.unit_code {
        Some(_) => "單位名",
        None => "全銜",
    };
    let name = t(label, &i.name);
    let mut e = parent("發文機關", [name, t("機關代碼", i.agency_code.as_str())]);
    if let Some(u) = &i.unit_code {
        e.push(t("單位代碼", u.as_str()));
    }
    e
}

fn party(e: &mut Element, p: &Party) {
    match p {
        Party::Person {
            name,
            title,
            agency_code,
            unit_code,
        } => {
            person(e, name, title);
            e.push(t("機關代碼", agency_code.as_str()));
            if let Some(u) = unit_code {
                e.push(t("單位代碼", u.as_str()));
            }
        }
        Party::Agency { name, agency_code } => {
            e.push(t("全銜", name));
            e.push(t("機關代碼", agency_code.as_str()));
        }
        Party::Unit {
            name,
            agency_code,
            unit_code,
        } => {
            e.push(t("單位名", name));
            e.push(t("機關代碼", agency_code.as_str()));
            e.push(t("單位代碼", unit_code.as_str()));
        }
    }
}

fn flag_and_file(e: &mut Element, flag: Option<AttachmentFlag>, file: &Option<String>) {
    if let Some(f) = flag {
        e.push(t("含附件", f.as_str()));
    }
    if let Some(f) = file {
        e.push(t("內含本文與附件之可攜式文件檔名", f));
    }
}

fn addressee(a: &Addressee) -> Element {
    let mut e = Element::new("受文者", vec![]);
    match a {
        Addressee::Roster { entity, text } => {
            e.push(t("交換表", text).with_attr("交換表單", entity));
        }
        Addressee::Direct {
            party: p,
            attachments,
            portable_file,
        } => {
            party(&mut e, p);
            flag_and_file(&mut e, *attachments, portable_file);
        }
    }
    e
}

/// 姓名 and, when given, 職稱.
fn person(e: &mut Element, name: &str, title: &Option<String>) {
    e.push(t("姓名", name));
    if let Some(tt) = title {
        e.push(t("職稱", tt));
    }
}

fn name(e: &mut Element, n: &Name) {
    match n {
        Name::Person { name, title } => person(e, name, title),
        Name::Agency(s) => e.push(t("全銜", s)),
        Name::Unit(s) => e.push(t("單位名", s)),
        Name::Collective(s) => e.push(t("總稱", s)),
    }
}

fn names(el: &str, list: &[Name]) -> Element {
    let mut e = Element::new(el, vec![]);
    list.iter().for_each(|n| name(&mut e, n));
    e
}

fn copies(list: &[CopyRecipient]) -> Element {
    let mut e = Element::new("副本", vec![]);
    for c in list {
        name(&mut e, &c.name);
        if let Some(f) = c.attachments {
            e.push(t("含附件", f.as_str()));
        }
    }
    e
}

/// 文字? then 條列*: what 段落 and 條列 both hold.
fn text_and_items(mut e: Element, text: Option<&str>, items: &[Item]) -> Element {
    if let Some(tx) = text {
        e.push(t("文字", tx));
    }
    items.iter().for_each(|c| e.push(item(c)));
    e
}

fn item(i: &Item) -> Element {
    let e = Element::new("條列", vec![]).with_attr("序號", &i.number);
    text_and_items(e, i.text.as_deref(), &i.items)
}

fn section(s: &Section) -> Element {
    let e = Element::new("段落", vec![]).with_attr("段名", &s.title);
    text_and_items(e, s.text.as_deref(), &s.items)
}

fn attachments(a: &Attachments) -> Element {
    let mut e = Element::new("附件", vec![]);
    e.push(t("文字", &a.text));
    if !a.entities.is_empty() {
        e.push(Element::new("附件檔名", vec![]).with_attr("附件名", &a.entities.join(" ")));
    }
    e
}

fn secrecy(s: &Secrecy) -> Element {
    let level = Element::new("密等", vec![]).with_attr("代碼", s.level.as_str());
    parent(
        "密等及解密條件或保密期限",
        [level, t("解密條件或保密期限", &s.condition)],
    )
}

fn case_number(e: &mut Element, year: u16, serial: u32, branch: &Option<String>) {
    e.push(t("年度", &format!("{year:03}")));
    e.push(t("流水號", &format!("{serial:07}")));
    if let Some(b) = branch {
        e.push(t("支號", b));
    }
}

fn doc_number(n: &DocNumber) -> Element {
    let mut e = Element::new("發文字號", vec![]);
    match n {
        DocNumber::Structured {
            word,
            year,
            serial,
            branch,
        } => {
            e.push(t("字", word));
            let mut no = Element::new("文號", vec![]);
            case_number(&mut no, *year, *serial, branch);
            e.push(no);
        }
        DocNumber::Text(s) => e.push(t("文字", s)),
    }
    e
}

/// 年月日, empty while a draft leaves the date blank.
fn ymd(d: Option<RocDate>) -> Element {
    t("年月日", &d.map(|d| d.to_string()).unwrap_or_default())
}

fn urgency(u: Urgency) -> Element {
    Element::new("速別", vec![]).with_attr("代碼", u.as_str())
}

/// The parts most 文別 share, in DTD order: 發文日期, 發文字號+, 速別, 密等, 附件 (a 公告 has
/// neither 速別 nor 密等).
fn push_common(e: &mut Element, d: &Document) {
    e.push(parent("發文日期", [ymd(d.date())]));
    d.numbers().iter().for_each(|n| e.push(doc_number(n)));
    if !matches!(d, Document::Announcement(_)) {
        e.push(urgency(d.urgency()));
    }
    if let Some(s) = d.secrecy() {
        e.push(secrecy(s));
    }
    if let Some(a) = d.attachments() {
        e.push(attachments(a));
    }
}

fn push_body(e: &mut Element, subject: &str, sections: &[Section]) {
    e.push(wrapped("主旨", subject));
    sections.iter().for_each(|s| e.push(section(s)));
}

fn push_signatures(e: &mut Element, list: &[String]) {
    list.iter().for_each(|s| e.push(t("署名", s)));
}

pub(crate) fn document(d: &Document) -> Element {
    let mut e = Element::new(d.kind().root(), vec![]);
    match d {
        Document::Letter(l) => {
            l.issuers.iter().for_each(|i| e.push(issuer(i)));
            e.push(Element::new("函類別", vec![]).with_attr("代碼", l.class.as_str()));
            e.push(t("地址", &l.address));
            l.contacts.iter().for_each(|c| e.push(t("聯絡方式", c)));
            e.push(addressee(&l.addressee));
            push_common(&mut e, d);
            push_body(&mut e, &l.subject, &l.sections);
            e.push(names("正本", &l.primary));
            if !l.copies.is_empty() {
                e.push(copies(&l.copies));
            }
            push_signatures(&mut e, &l.signatures);
        }
        Document::Memo(m) => {
            match &m.from {
                MemoFrom::Issuer(i) => e.push(issuer(i)),
                MemoFrom::Unit { name, code } => {
                    let mut u = Element::new("單位", vec![]);
                    u.push(t("單位名", name));
                    if let Some(c) = code {
                        u.push(t("單位代碼", c.as_str()));
                    }
                    e.push(u);
                }
            }
            if let Some(a) = &m.addressee {
                e.push(addressee(a));
            }
            let mut no = Element::new("文號", vec![]);
            match &m.number {
                Some(n) => case_number(&mut no, n.year, n.serial, &n.branch),
                None => {
                    no.push(t("年度", ""));
                    no.push(t("流水號", ""));
                }
            }
            e.push(no);
            e.push(urgency(m.urgency));
            if let Some(s) = &m.secrecy {
                e.push(secrecy(s));
            }
            if let Some(p) = m.proposal {
                e.push(Element::new("擬辦方式", vec![]).with_attr("代碼", p.as_str()));
            }
            if let Some(a) = &m.attachments {
                e.push(attachments(a));
            }
            push_body(&mut e, &m.subject, &m.sections);
            if !m.respectfully.is_empty() {
                let mut r = Element::new("敬陳", vec![]);
                for p in &m.respectfully {
                    r.push(t("職稱", p.title.as_deref().unwrap_or_default()));
                    if !p.name.is_empty() {
                        r.push(t("姓名", &p.name));
                    }
                }
                e.push(r);
            }
            e.push(t("署名", &m.signature));
            e.push(ymd(m.date));
        }
        Document::Order(o) => {
            o.issuers.iter().for_each(|i| e.push(issuer(i)));
            e.push(Element::new("令類別", vec![]).with_attr("代碼", o.class.as_str()));
            e.push(addressee(&o.addressee));
            push_common(&mut e, d);
            push_body(&mut e, &o.subject, &o.sections);
            e.push(names("正本", &o.primary));
            if !o.copies.is_empty() {
                e.push(copies(&o.copies));
            }
            push_signatures(&mut e, &o.signatures);
        }
        Document::Announcement(a) => {
            a.issuers.iter().for_each(|i| e.push(issuer(i)));
            push_common(&mut e, d);
            push_body(&mut e, &a.subject, &a.sections);
            push_signatures(&mut e, &a.signatures);
        }
        Document::MeetingNotice(m) => {
            let [reason_el, time_el, place_el] = MeetingNotice::field_names(m.site_visit);
            m.issuers.iter().for_each(|i| e.push(issuer(i)));
            e.push(addressee(&m.addressee));
            let mut c = Element::new("聯絡人及電話", vec![]);
            for p in &m.contacts {
                person(&mut c, &p.person.name, &p.person.title);
                c.push(t("電話", &p.phone));
            }
            e.push(c);
            push_common(&mut e, d);
            e.push(wrapped(reason_el, &m.reason));
            for tm in &m.times {
                let date = t("年月日", &tm.date.to_string());
                e.push(parent(
                    time_el,
                    [date, t("星期", &tm.weekday), t("時分", &tm.time)],
                ));
            }
            e.push(wrapped(place_el, &m.place));
            let mut ch = Element::new("主持人", vec![]);
            m.chairs
                .iter()
                .for_each(|p| person(&mut ch, &p.name, &p.title));
            e.push(ch);
            e.push(names("出席者", &m.attendees));
            if !m.observers.is_empty() {
                e.push(names("列席者", &m.observers));
            }
            if !m.copies.is_empty() {
                e.push(copies(&m.copies));
            }
            if let Some(r) = &m.remarks {
                e.push(parent("備註", [section(r)]));
            }
            push_signatures(&mut e, &m.signatures);
        }
    }
    e
}

pub(crate) fn roster(r: &Roster) -> Element {
    let mut e = Element::new("交換表單", vec![]);
    for entry in &r.entries {
        party(&mut e, &entry.party);
        flag_and_file(&mut e, entry.attachments, &entry.portable_file);
        let mut b = Element::new("本別", vec![]);
        b.push(Element::new("收發處理本別", vec![]).with_attr("代碼", entry.copy_kind.as_str()));
        e.push(b);
    }
    e
}
