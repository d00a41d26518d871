//! XML tree → model. Runs after DTD validation, but never relies on it: every missing or
//! unexpected element becomes a [`Problem`], never a panic.

use crate::error::{Problem, ProblemKind, ValueError};
use crate::model::*;
use crate::values::*;
use crate::xml::Element;

/// Collects problems while a document is converted, and notes on what a draft left blank.
pub(crate) struct Ctx {
    pub problems: Vec<Problem>,
    /// What a draft left for later (an empty 署名); blanks that block exchange are found by
    /// [`crate::exchange_problems`] on the model.
    pub notes: Vec<Problem>,
}

impl Ctx {
    pub fn new() -> Self {
        Ctx {
            problems: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn value<T>(&mut self, path: &str, r: Result<T, ValueError>) -> Option<T> {
        r.map_err(|e| self.problems.push(Problem::value(path, e.message)))
            .ok()
    }

    fn structure(&mut self, path: &str, msg: String) {
        self.problems
            .push(Problem::new(ProblemKind::Dtd, path, msg));
    }
}

/// Walks the child elements of one element in order.
pub(crate) struct Children<'a> {
    els: Vec<&'a Element>,
    /// For each child: its number among siblings of the same name, 0 when the name is unique.
    ordinals: Vec<usize>,
    i: usize,
    pub path: String,
}

impl<'a> Children<'a> {
    pub fn new(e: &'a Element, path: &str) -> Self {
        Children {
            els: e.elements().collect(),
            ordinals: e.ordinals(),
            i: 0,
            path: path.to_string(),
        }
    }

    fn peek(&self) -> Option<&'a str> {
        self.els.get(self.i).map(|e| e.name.as_str())
    }

    /// The path of the child at `idx`, indexed like the validator's paths: `[n]` only where
    /// siblings share the name.
    fn child_path(&self, idx: usize) -> String {
        let name = self.els[idx].name.as_str();
        match self.ordinals[idx] {
            0 => format!("{}/{name}", self.path),
            n => format!("{}/{name}[{n}]", self.path),
        }
    }

    fn opt(&mut self, name: &str) -> Option<(&'a Element, String)> {
        if self.peek() == Some(name) {
            self.i += 1;
            Some((self.els[self.i - 1], self.child_path(self.i - 1)))
        } else {
            None
        }
    }

    fn one(&mut self, name: &str, ctx: &mut Ctx) -> Option<(&'a Element, String)> {
        let got = self.opt(name);
        if got.is_none() {
            let msg = match self.peek() {
                Some(other) => format!("缺少〈{name}〉（此處為〈{other}〉）"),
                None => format!("缺少〈{name}〉"),
            };
            ctx.structure(&self.path, msg);
        }
        got
    }

    /// All consecutive children of this name; paths are indexed when siblings share the name.
    fn many(&mut self, name: &str) -> Vec<(&'a Element, String)> {
        let start = self.i;
        while self.peek() == Some(name) {
            self.i += 1;
        }
        (start..self.i)
            .map(|idx| (self.els[idx], self.child_path(idx)))
            .collect()
    }

    fn finish(self, ctx: &mut Ctx) {
        if let Some(extra) = self.els.get(self.i) {
            ctx.structure(&self.path, format!("不應出現〈{}〉", extra.name));
        }
    }
}

/// Text of an element without the XML white space around it (full-width spaces are kept).
fn text(e: &Element) -> String {
    e.text_content()
        .trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
        .to_string()
}

fn text_of(c: &mut Children<'_>, name: &str, ctx: &mut Ctx) -> String {
    c.one(name, ctx).map(|(e, _)| text(e)).unwrap_or_default()
}

fn opt_text(c: &mut Children<'_>, name: &str) -> Option<String> {
    c.opt(name).map(|(e, _)| text(e))
}

/// `f` on the children of `e`; a child it leaves unread is a problem.
fn within<T>(
    e: &Element,
    path: &str,
    ctx: &mut Ctx,
    f: impl FnOnce(&mut Children<'_>, &mut Ctx) -> T,
) -> T {
    let mut c = Children::new(e, path);
    let out = f(&mut c, ctx);
    c.finish(ctx);
    out
}

/// The children of `e` read one after the other by `next`, until it reads none.
fn each<T>(
    e: &Element,
    path: &str,
    ctx: &mut Ctx,
    mut next: impl FnMut(&mut Children<'_>, &mut Ctx) -> Option<T>,
) -> Vec<T> {
    within(e, path, ctx, |c, ctx| {
        std::iter::from_fn(|| next(c, ctx)).collect()
    })
}

/// `<X><文字>…</文字></X>`.
fn wrapped_text(e: &Element, path: &str, ctx: &mut Ctx) -> String {
    within(e, path, ctx, |c, ctx| text_of(c, "文字", ctx))
}

fn agency_code(c: &mut Children<'_>, ctx: &mut Ctx) -> Option<AgencyCode> {
    let (e, p) = c.one("機關代碼", ctx)?;
    ctx.value(&p, AgencyCode::parse(&text(e)))
}

fn unit_code(c: &mut Children<'_>, required: bool, ctx: &mut Ctx) -> Option<UnitCode> {
    let (e, p) = if required {
        c.one("單位代碼", ctx)?
    } else {
        c.opt("單位代碼")?
    };
    ctx.value(&p, UnitCode::parse(&text(e)))
}

pub(crate) fn issuer(e: &Element, path: &str, ctx: &mut Ctx) -> Option<Issuer> {
    within(e, path, ctx, |c, ctx| {
        if let Some((n, _)) = c.opt("全銜") {
            agency_code(c, ctx).map(|agency_code| Issuer {
                name: text(n),
                agency_code,
                unit_code: None,
            })
        } else {
            let name = text_of(c, "單位名", ctx);
            let code = agency_code(c, ctx);
            let unit = unit_code(c, true, ctx);
            code.zip(unit).map(|(agency_code, unit)| Issuer {
                name,
                agency_code,
                unit_code: Some(unit),
            })
        }
    })
}

/// (姓名, 職稱?, 機關代碼, 單位代碼?) | (全銜, 機關代碼) | (單位名, 機關代碼, 單位代碼)
///
/// Every element of the party is consumed even when a code is wrong, so that a bad value is
/// reported once as a value problem and never again as an unexpected element.
fn party(c: &mut Children<'_>, ctx: &mut Ctx) -> Option<Party> {
    if let Some((n, _)) = c.opt("姓名") {
        let title = opt_text(c, "職稱");
        let code = agency_code(c, ctx);
        let unit = unit_code(c, false, ctx);
        Some(Party::Person {
            name: text(n),
            title,
            agency_code: code?,
            unit_code: unit,
        })
    } else if let Some((n, _)) = c.opt("全銜") {
        Some(Party::Agency {
            name: text(n),
            agency_code: agency_code(c, ctx)?,
        })
    } else if let Some((n, _)) = c.opt("單位名") {
        let code = agency_code(c, ctx);
        let unit = unit_code(c, true, ctx);
        Some(Party::Unit {
            name: text(n),
            agency_code: code?,
            unit_code: unit?,
        })
    } else {
        ctx.structure(&c.path, "缺少姓名、全銜或單位名".into());
        None
    }
}

fn attachment_flag(c: &mut Children<'_>, ctx: &mut Ctx) -> Option<AttachmentFlag> {
    let (e, p) = c.opt("含附件")?;
    ctx.value(&p, AttachmentFlag::parse(&text(e)))
}

pub(crate) fn addressee(e: &Element, path: &str, ctx: &mut Ctx) -> Option<Addressee> {
    within(e, path, ctx, |c, ctx| {
        if let Some((t, _)) = c.opt("交換表") {
            Some(Addressee::Roster {
                entity: t.attr("交換表單").unwrap_or_default().to_string(),
                text: text(t),
            })
        } else {
            let party = party(c, ctx);
            let attachments = attachment_flag(c, ctx);
            let portable_file = opt_text(c, "內含本文與附件之可攜式文件檔名");
            party.map(|party| Addressee::Direct {
                party,
                attachments,
                portable_file,
            })
        }
    })
}

/// One name of 正本 / 副本 / 出席者 / 列席者, if the next child starts one.
fn name(c: &mut Children<'_>) -> Option<Name> {
    if let Some((n, _)) = c.opt("姓名") {
        Some(Name::Person {
            name: text(n),
            title: opt_text(c, "職稱"),
        })
    } else if let Some((n, _)) = c.opt("全銜") {
        Some(Name::Agency(text(n)))
    } else if let Some((n, _)) = c.opt("單位名") {
        Some(Name::Unit(text(n)))
    } else {
        c.opt("總稱").map(|(n, _)| Name::Collective(text(n)))
    }
}

pub(crate) fn names(e: &Element, path: &str, ctx: &mut Ctx) -> Vec<Name> {
    each(e, path, ctx, |c, _| name(c))
}

pub(crate) fn copies(e: &Element, path: &str, ctx: &mut Ctx) -> Vec<CopyRecipient> {
    each(e, path, ctx, |c, ctx| {
        let name = name(c)?;
        let attachments = attachment_flag(c, ctx);
        Some(CopyRecipient { name, attachments })
    })
}

fn persons(e: &Element, path: &str, ctx: &mut Ctx, title_first: bool) -> Vec<PersonName> {
    each(e, path, ctx, |c, _| {
        if title_first {
            // 敬陳 = (職稱, 姓名?)+
            c.opt("職稱").map(|(t, _)| PersonName {
                title: Some(text(t)),
                name: opt_text(c, "姓名").unwrap_or_default(),
            })
        } else {
            c.opt("姓名").map(|(n, _)| PersonName {
                name: text(n),
                title: opt_text(c, "職稱"),
            })
        }
    })
}

/// 文字? then 條列*: what 段落 and 條列 both hold.
fn text_and_items(e: &Element, path: &str, ctx: &mut Ctx) -> (Option<String>, Vec<Item>) {
    within(e, path, ctx, |c, ctx| {
        (opt_text(c, "文字"), many_with(c, "條列", ctx, item))
    })
}

fn item(e: &Element, path: &str, ctx: &mut Ctx) -> Item {
    let (text, items) = text_and_items(e, path, ctx);
    Item {
        number: e.attr("序號").unwrap_or_default().to_string(),
        text,
        items,
    }
}

pub(crate) fn section(e: &Element, path: &str, ctx: &mut Ctx) -> Section {
    let (text, items) = text_and_items(e, path, ctx);
    Section {
        title: e.attr("段名").unwrap_or_default().to_string(),
        text,
        items,
    }
}

fn attachments(e: &Element, path: &str, ctx: &mut Ctx) -> Attachments {
    let mut c = Children::new(e, path);
    let text = text_of(&mut c, "文字", ctx);
    let mut entities = Vec::new();
    for (f, _) in c.many("附件檔名") {
        entities.extend(
            f.attr("附件名")
                .unwrap_or_default()
                .split_ascii_whitespace()
                .map(str::to_string),
        );
    }
    c.finish(ctx);
    Attachments { text, entities }
}

fn secrecy(e: &Element, path: &str, ctx: &mut Ctx) -> Option<Secrecy> {
    let mut c = Children::new(e, path);
    // 代碼 is #IMPLIED: document systems write an empty <密等/> for an unclassified
    // document, and only a 代碼 marks it classified.
    let level = c.one("密等", ctx).and_then(|(m, p)| {
        m.attr("代碼")
            .and_then(|v| ctx.value(&p, Classification::parse(v)))
    });
    let condition = text_of(&mut c, "解密條件或保密期限", ctx);
    c.finish(ctx);
    level.map(|level| Secrecy { level, condition })
}

fn digits<T: std::str::FromStr>(
    e: &Element,
    path: &str,
    what: &str,
    max_len: usize,
    ctx: &mut Ctx,
) -> Option<T> {
    let t = text(e);
    if t.is_empty() || t.len() > max_len || !t.bytes().all(|b| b.is_ascii_digit()) {
        let message = format!("{what}「{t}」應為 1–{max_len} 位數字");
        ctx.problems.push(Problem::value(path, message));
        return None;
    }
    t.parse().ok()
}

/// A 文號; `Some(None)` when a draft leaves 年度 or 流水號 blank, `None` after a problem.
fn case_number(e: &Element, path: &str, ctx: &mut Ctx) -> Option<Option<CaseNumber>> {
    let mut c = Children::new(e, path);
    let mut blank = false;
    let mut part = |name: &str, max_len: usize, ctx: &mut Ctx| -> Option<Option<u32>> {
        let (e, p) = c.one(name, ctx)?;
        if text(e).is_empty() {
            blank = true;
            return Some(None);
        }
        digits::<u32>(e, &p, name, max_len, ctx).map(Some)
    };
    let year = part("年度", 3, ctx);
    let serial = part("流水號", 7, ctx);
    let branch = c.opt("支號").map(|(b, _)| text(b));
    c.finish(ctx);
    let (year, serial) = (year?, serial?);
    if blank {
        return Some(None);
    }
    let (year, serial) = (year? as u16, serial?);
    if year == 0 {
        ctx.problems.push(Problem::value(path, "年度不可為 0"));
    }
    Some(Some(CaseNumber {
        year,
        serial,
        branch,
    }))
}

fn doc_number(e: &Element, path: &str, ctx: &mut Ctx) -> Option<DocNumber> {
    let mut c = Children::new(e, path);
    let out = if let Some((w, _)) = c.opt("字") {
        let (n, p) = c.one("文號", ctx)?;
        let Some(cn) = case_number(n, &p, ctx)? else {
            // 字 with a blank 文號: nothing to keep but the word.
            return Some(DocNumber::Text(String::new()));
        };
        let d = DocNumber::Structured {
            word: text(w),
            year: cn.year,
            serial: cn.serial,
            branch: cn.branch,
        };
        ctx.value(path, d.check().map(|_| d))
    } else {
        let t = text_of(&mut c, "文字", ctx);
        let d = DocNumber::Text(t);
        ctx.value(path, d.check().map(|_| d))
    };
    c.finish(ctx);
    out
}

fn date_in(e: &Element, path: &str, ctx: &mut Ctx) -> Option<Option<RocDate>> {
    within(e, path, ctx, |c, ctx| {
        one_with(c, "年月日", ctx, blank_or_date).flatten()
    })
}

/// A 年月日 that a draft may leave blank: `Some(None)` with a note; `None` after a problem.
fn blank_or_date(e: &Element, path: &str, ctx: &mut Ctx) -> Option<Option<RocDate>> {
    let t = text(e);
    if t.is_empty() {
        return Some(None);
    }
    ctx.value(path, RocDate::parse(&t)).map(Some)
}

/// The 代碼 of `child` (`default` when it has none), read by `parse`.
fn code<T>(
    child: Option<(&Element, String)>,
    default: &str,
    ctx: &mut Ctx,
    parse: impl FnOnce(&str) -> Result<T, ValueError>,
) -> Option<T> {
    let (e, p) = child?;
    ctx.value(&p, parse(e.attr("代碼").unwrap_or(default)))
}

fn urgency(c: &mut Children<'_>, ctx: &mut Ctx) -> Urgency {
    code(c.opt("速別"), "普通件", ctx, Urgency::parse).unwrap_or(Urgency::Normal)
}

/// The consecutive children `name`, each read by `f`.
fn many_with<T>(
    c: &mut Children<'_>,
    name: &str,
    ctx: &mut Ctx,
    mut f: impl FnMut(&Element, &str, &mut Ctx) -> T,
) -> Vec<T> {
    c.many(name)
        .into_iter()
        .map(|(e, p)| f(e, &p, ctx))
        .collect()
}

/// One or more children `name` read by `f`; none at all is a problem, unless one of them was
/// already reported.
fn required_many<T>(
    c: &mut Children<'_>,
    name: &str,
    ctx: &mut Ctx,
    f: impl FnMut(&Element, &str, &mut Ctx) -> Option<T>,
) -> Vec<T> {
    let list: Vec<T> = many_with(c, name, ctx, f).into_iter().flatten().collect();
    if list.is_empty() && !ctx.problems.iter().any(|p| p.path.contains(name)) {
        ctx.structure(&c.path, format!("缺少〈{name}〉"));
    }
    list
}

fn required_date(c: &mut Children<'_>, ctx: &mut Ctx) -> Option<Option<RocDate>> {
    let (e, p) = c.one("發文日期", ctx)?;
    date_in(e, &p, ctx)
}

/// 署名 is (#PCDATA): a draft leaves it empty until the one who signs is known.
fn signature(e: &Element, path: &str, ctx: &mut Ctx) -> String {
    let t = text(e);
    if t.is_empty() {
        ctx.notes.push(Problem::new(
            ProblemKind::Draft,
            path,
            "署名空白（草稿），列印或發文前請填入",
        ));
    }
    t
}

/// The required child `name` read by `f`; `None` when it is missing (the problem is recorded).
fn one_with<T>(
    c: &mut Children<'_>,
    name: &str,
    ctx: &mut Ctx,
    f: impl FnOnce(&Element, &str, &mut Ctx) -> T,
) -> Option<T> {
    let (e, p) = c.one(name, ctx)?;
    Some(f(e, &p, ctx))
}

fn opt_with<T>(
    c: &mut Children<'_>,
    name: &str,
    ctx: &mut Ctx,
    f: impl FnOnce(&Element, &str, &mut Ctx) -> T,
) -> Option<T> {
    let (e, p) = c.opt(name)?;
    Some(f(e, &p, ctx))
}

/// Reads a document from its root element. `None` only when problems were recorded.
pub(crate) fn document(root: &Element, ctx: &mut Ctx) -> Option<Document> {
    let path = format!("/{}", root.name);
    let mut c = Children::new(root, &path);
    let before = ctx.problems.len();
    let doc = match root.name.as_str() {
        "函" => letter(&mut c, ctx).map(Document::Letter),
        "簽" => memo(&mut c, ctx).map(Document::Memo),
        "令" => order(&mut c, ctx).map(Document::Order),
        "公告" => announcement(&mut c, ctx).map(Document::Announcement),
        "開會通知單" => meeting(&mut c, ctx, false).map(Document::MeetingNotice),
        "會勘通知單" => meeting(&mut c, ctx, true).map(Document::MeetingNotice),
        _ => None,
    };
    c.finish(ctx);
    if ctx.problems.len() > before {
        None
    } else {
        doc
    }
}

/// Reads what 函 and 令 share from 受文者 to 署名, in the same order, into `$kind` with the
/// fields already read; `None` when 受文者 or 發文日期 could not be read.
macro_rules! outgoing {
    ($c:ident, $ctx:ident, $kind:ident { $($field:ident),* }) => {{
        let addressee = one_with($c, "受文者", $ctx, addressee).flatten();
        let date = required_date($c, $ctx);
        let numbers = required_many($c, "發文字號", $ctx, doc_number);
        let urgency = urgency($c, $ctx);
        let secrecy = opt_with($c, "密等及解密條件或保密期限", $ctx, secrecy).flatten();
        let attachments = opt_with($c, "附件", $ctx, attachments);
        let subject = one_with($c, "主旨", $ctx, wrapped_text).unwrap_or_default();
        let sections = many_with($c, "段落", $ctx, section);
        let primary = one_with($c, "正本", $ctx, names).unwrap_or_default();
        let copies = opt_with($c, "副本", $ctx, copies).unwrap_or_default();
        let signatures = many_with($c, "署名", $ctx, signature);
        Some($kind {
            $($field,)*
            addressee: addressee?,
            date: date?,
            numbers,
            urgency,
            secrecy,
            attachments,
            subject,
            sections,
            primary,
            copies,
            signatures,
        })
    }};
}

fn letter(c: &mut Children<'_>, ctx: &mut Ctx) -> Option<Letter> {
    let issuers = required_many(c, "發文機關", ctx, issuer);
    let class = code(c.one("函類別", ctx), "函", ctx, LetterClass::parse);
    let class = class.unwrap_or(LetterClass::Letter);
    let address = text_of(c, "地址", ctx);
    let contacts = many_with(c, "聯絡方式", ctx, |e, _, _| text(e));
    outgoing!(
        c,
        ctx,
        Letter {
            issuers,
            class,
            address,
            contacts
        }
    )
}

fn memo(c: &mut Children<'_>, ctx: &mut Ctx) -> Option<Memo> {
    // A wrong code in 發文機關 is a value problem; the rest of the 簽 is still read.
    let from = if let Some((e, p)) = c.opt("發文機關") {
        issuer(e, &p, ctx).map(MemoFrom::Issuer)
    } else if let Some((e, p)) = c.opt("單位") {
        Some(within(e, &p, ctx, |u, ctx| MemoFrom::Unit {
            name: text_of(u, "單位名", ctx),
            code: unit_code(u, false, ctx),
        }))
    } else {
        ctx.structure(&c.path, "缺少〈發文機關〉或〈單位〉".into());
        return None;
    };
    let addressee = c.opt("受文者").and_then(|(e, p)| addressee(e, &p, ctx));
    let number = one_with(c, "文號", ctx, case_number).flatten();
    let urgency = urgency(c, ctx);
    let secrecy = opt_with(c, "密等及解密條件或保密期限", ctx, secrecy).flatten();
    let proposal = code(c.opt("擬辦方式"), "1", ctx, ProposalMethod::parse);
    let attachments = opt_with(c, "附件", ctx, attachments);
    let subject = one_with(c, "主旨", ctx, wrapped_text).unwrap_or_default();
    let sections = many_with(c, "段落", ctx, section);
    let respectfully =
        opt_with(c, "敬陳", ctx, |e, p, ctx| persons(e, p, ctx, true)).unwrap_or_default();
    let signature = one_with(c, "署名", ctx, signature).unwrap_or_default();
    let date = one_with(c, "年月日", ctx, blank_or_date).flatten();
    Some(Memo {
        from: from?,
        addressee,
        number: number?,
        urgency,
        secrecy,
        proposal,
        attachments,
        subject,
        sections,
        respectfully,
        signature,
        date: date?,
    })
}

fn order(c: &mut Children<'_>, ctx: &mut Ctx) -> Option<Order> {
    let issuers = required_many(c, "發文機關", ctx, issuer);
    let class = code(c.one("令類別", ctx), "獎懲令", ctx, OrderClass::parse);
    let class = class.unwrap_or(OrderClass::Order);
    outgoing!(c, ctx, Order { issuers, class })
}

fn announcement(c: &mut Children<'_>, ctx: &mut Ctx) -> Option<Announcement> {
    let issuers = required_many(c, "發文機關", ctx, issuer);
    let date = required_date(c, ctx);
    let numbers = required_many(c, "發文字號", ctx, doc_number);
    let attachments = opt_with(c, "附件", ctx, attachments);
    let subject = one_with(c, "主旨", ctx, wrapped_text).unwrap_or_default();
    let sections = many_with(c, "段落", ctx, section);
    let signatures = many_with(c, "署名", ctx, signature);
    Some(Announcement {
        issuers,
        date: date?,
        numbers,
        attachments,
        subject,
        sections,
        signatures,
    })
}

fn meeting(c: &mut Children<'_>, ctx: &mut Ctx, site_visit: bool) -> Option<MeetingNotice> {
    let [reason_el, time_el, place_el] = MeetingNotice::field_names(site_visit);
    let issuers = required_many(c, "發文機關", ctx, issuer);
    let addressee = one_with(c, "受文者", ctx, addressee).flatten();
    let contacts = one_with(c, "聯絡人及電話", ctx, |e, p, ctx| {
        each(e, p, ctx, |c, ctx| {
            let (n, _) = c.opt("姓名")?;
            let title = opt_text(c, "職稱");
            let phone = text_of(c, "電話", ctx);
            let person = PersonName {
                name: text(n),
                title,
            };
            Some(ContactPerson { person, phone })
        })
    })
    .unwrap_or_default();
    let date = required_date(c, ctx);
    let numbers = required_many(c, "發文字號", ctx, doc_number);
    let urgency = urgency(c, ctx);
    let secrecy = opt_with(c, "密等及解密條件或保密期限", ctx, secrecy).flatten();
    let attachments = opt_with(c, "附件", ctx, attachments);
    let reason = one_with(c, reason_el, ctx, wrapped_text).unwrap_or_default();
    let times = many_with(c, time_el, ctx, |e, p, ctx| {
        within(e, p, ctx, |t, ctx| {
            let d = t.one("年月日", ctx);
            let date = d.and_then(|(d, dp)| ctx.value(&dp, RocDate::parse(&text(d))));
            let weekday = text_of(t, "星期", ctx);
            let time = text_of(t, "時分", ctx);
            Some(MeetingTime {
                date: date?,
                weekday,
                time,
            })
        })
    });
    let times: Vec<MeetingTime> = times.into_iter().flatten().collect();
    if times.is_empty() {
        ctx.structure(&c.path, format!("缺少〈{time_el}〉"));
    }
    let place = one_with(c, place_el, ctx, wrapped_text).unwrap_or_default();
    let chairs =
        one_with(c, "主持人", ctx, |e, p, ctx| persons(e, p, ctx, false)).unwrap_or_default();
    let attendees = one_with(c, "出席者", ctx, names).unwrap_or_default();
    let observers = opt_with(c, "列席者", ctx, names).unwrap_or_default();
    let copies = opt_with(c, "副本", ctx, copies).unwrap_or_default();
    let remarks = opt_with(c, "備註", ctx, |e, p, ctx| {
        within(e, p, ctx, |r, ctx| one_with(r, "段落", ctx, section))
    })
    .flatten();
    let signatures = many_with(c, "署名", ctx, signature);
    Some(MeetingNotice {
        site_visit,
        issuers,
        addressee: addressee?,
        contacts,
        date: date?,
        numbers,
        urgency,
        secrecy,
        attachments,
        reason,
        times,
        place,
        chairs,
        attendees,
        observers,
        copies,
        remarks,
        signatures,
    })
}

/// Reads an SW root (交換表單).
pub(crate) fn roster(root: &Element, ctx: &mut Ctx) -> Roster {
    let mut c = Children::new(root, "/交換表單");
    let mut entries = Vec::new();
    while c.peek().is_some() {
        let before = c.i;
        let party = party(&mut c, ctx);
        let attachments = attachment_flag(&mut c, ctx);
        let portable_file = opt_text(&mut c, "內含本文與附件之可攜式文件檔名");
        let copy_kind = opt_with(&mut c, "本別", ctx, |e, p, ctx| {
            within(e, p, ctx, |b, ctx| {
                code(b.one("收發處理本別", ctx), "正本", ctx, CopyKind::parse)
            })
        });
        let copy_kind = copy_kind.flatten().unwrap_or(CopyKind::Primary);
        if let Some(party) = party {
            entries.push(RosterEntry {
                party,
                attachments,
                portable_file,
                copy_kind,
            });
        }
        if c.i == before {
            break; // an element that starts no entry: reported by finish()
        }
    }
    if entries.is_empty() && ctx.problems.is_empty() {
        ctx.structure("/交換表單", "交換表單至少要有一個受文者".into());
    }
    c.finish(ctx);
    Roster { entries }
}
