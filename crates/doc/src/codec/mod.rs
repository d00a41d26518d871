//! Reading and writing DI and SW files: bytes ⇄ model, with DTD validation on both sides.

mod read;
mod write;

use crate::dtd::{self, Declarations, EntityDecl};
use crate::error::{DocError, Problem};
use crate::model::*;
use crate::xml::{self, Element, Limits, Node, TextEncoding, XmlDoc};

/// What a file turned out to be, told apart by its root element.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Di(Box<Di>),
    Roster(Roster),
}

/// The result of checking one file: every problem found, and the model when there were none.
#[derive(Debug, Clone)]
pub struct Checked {
    pub encoding: TextEncoding,
    pub problems: Vec<Problem>,
    /// Valid, but left for later by a draft: what exchange would still refuse
    /// ([`crate::exchange_problems`], kind `Exchange`) and empty 署名 (kind `Draft`).
    pub notes: Vec<Problem>,
    pub parsed: Option<Parsed>,
}

/// Reads and checks a DI or SW file. `Err` only when the file cannot be read at all (not XML,
/// over a bound, a refused entity, an unknown 文別); rule problems are in [`Checked::problems`].
pub fn check(bytes: &[u8], limits: &Limits) -> Result<Checked, DocError> {
    let mut doc = xml::parse(bytes, limits)?;
    let root = doc.root.name.as_str();
    if root != "交換表單" && dtd::dtd_for_root(root).is_none() {
        return Err(DocError::UnknownKind {
            root: root.to_string(),
        });
    }
    let decls = Declarations::of(&doc)?;
    let problems = decls.validate(&doc);
    if !problems.is_empty() {
        return Ok(Checked {
            encoding: doc.encoding,
            problems,
            notes: Vec::new(),
            parsed: None,
        });
    }
    apply_defaults(&decls, &mut doc.root);
    let mut ctx = read::Ctx::new();
    let parsed = if doc.root.name == "交換表單" {
        Some(Parsed::Roster(read::roster(&doc.root, &mut ctx)))
    } else {
        read::document(&doc.root, &mut ctx).map(|document| {
            let (roster, attachment_files) = declared_files(&decls, &document, &mut ctx);
            Parsed::Di(Box::new(Di {
                document,
                roster,
                attachment_files,
            }))
        })
    };
    let problems = ctx.problems;
    let mut notes = match &parsed {
        Some(Parsed::Di(di)) if problems.is_empty() => crate::exchange_problems(&di.document),
        _ => Vec::new(),
    };
    notes.extend(ctx.notes);
    Ok(Checked {
        encoding: doc.encoding,
        parsed: if problems.is_empty() { parsed } else { None },
        problems,
        notes,
    })
}

/// Fills in attributes the file leaves out with their declared defaults, as a validating XML
/// parser does; an internal subset may change a default (its declarations bind first).
fn apply_defaults(decls: &Declarations, e: &mut Element) {
    for d in std::iter::once(&decls.internal).chain(decls.external) {
        for a in d.attlists.get(&e.name).into_iter().flatten() {
            if let dtd::AttrDefault::Value(v) | dtd::AttrDefault::Fixed(v) = &a.default
                && e.attr(&a.name).is_none()
            {
                e.attrs.push(xml::Attr {
                    name: a.name.clone(),
                    value: v.clone(),
                });
            }
        }
    }
    for n in &mut e.children {
        if let Node::Element(c) = n {
            apply_defaults(decls, c);
        }
    }
}

/// Reads a DI; any rule problem makes it [`DocError::Invalid`].
pub fn read_di(bytes: &[u8]) -> Result<Di, DocError> {
    match read_checked(bytes)? {
        Parsed::Di(di) => Ok(*di),
        Parsed::Roster(_) => Err(DocError::UnknownKind {
            root: "交換表單（這是 SW 檔，不是 DI）".into(),
        }),
    }
}

/// Reads an SW (交換表單); any rule problem makes it [`DocError::Invalid`].
pub fn read_roster(bytes: &[u8]) -> Result<Roster, DocError> {
    match read_checked(bytes)? {
        Parsed::Roster(r) => Ok(r),
        Parsed::Di(di) => Err(DocError::UnknownKind {
            root: format!("{}（這是 DI 檔，不是 SW）", di.document.kind().root()),
        }),
    }
}

fn read_checked(bytes: &[u8]) -> Result<Parsed, DocError> {
    let c = check(bytes, &Limits::default())?;
    match c.parsed {
        Some(p) if c.problems.is_empty() => Ok(p),
        _ => Err(DocError::Invalid(c.problems)),
    }
}

/// The SW and attachments a DI's internal subset declares (unparsed entities, in order).
fn declared_files(
    decls: &Declarations,
    doc: &Document,
    ctx: &mut read::Ctx,
) -> (Option<RosterFile>, Vec<AttachmentFile>) {
    let roster_entity = match doc.addressee() {
        Some(Addressee::Roster { entity, .. }) => Some(entity.as_str()),
        _ => None,
    };
    let mut roster = None;
    let mut files = Vec::new();
    for name in &decls.internal.entity_order {
        let Some(EntityDecl::External {
            system_id,
            notation: Some(notation),
            ..
        }) = decls.internal.entities.get(name)
        else {
            continue;
        };
        let path = format!("/<!ENTITY {name}>");
        if let Err(msg) = safe_file_name(system_id) {
            ctx.problems.push(Problem::value(path, msg));
            continue;
        }
        let is_roster = roster_entity == Some(name.as_str())
            || (roster_entity.is_none() && (name == "表單" || name == "名單"));
        let file = AttachmentFile {
            entity: name.clone(),
            file: system_id.clone(),
            notation: notation.clone(),
        };
        if is_roster && roster.is_none() {
            roster = Some(file);
        } else {
            files.push(file);
        }
    }
    (roster, files)
}

/// Attachment and SW file names travel between strangers and end up on disk: a bare name only.
pub fn safe_file_name(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name.len() > 200
        || name == "."
        || name == ".."
        || name.starts_with('.')
        || name.chars().any(|c| {
            matches!(c, '/' | '\\' | ':' | '"' | '<' | '>' | '|' | '?' | '*') || c.is_control()
        });
    if bad {
        return Err(format!(
            "檔名「{}」不可含路徑、控制字元或 / \\ : \" < > | ? *，也不可以「.」開頭",
            name.chars().take(80).collect::<String>()
        ));
    }
    // Inboxes are often folders shared to Windows desktops (SMB): Windows cannot create or
    // open a file with a reserved device name (whatever its extension) or one ending in a dot
    // or a space, so such a document could never be taken out of the inbox there.
    if name.ends_with(['.', ' ']) {
        return Err(format!(
            "檔名「{}」不可以「.」或空白結尾（Windows 無法存取）",
            name.chars().take(80).collect::<String>()
        ));
    }
    let stem = name
        .split('.')
        .next()
        .unwrap_or(name)
        .trim_end()
        .to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit()
            && stem.as_bytes()[3] != b'0');
    if reserved {
        return Err(format!(
            "檔名「{name}」是 Windows 的保留裝置名稱，共用資料夾中無法存取，請改名"
        ));
    }
    Ok(())
}

/// Writes a DI as UTF-8 with the bare DTD name and an internal subset declaring its SW and
/// attachments. The result is validated before it is returned: whatever this crate writes,
/// `xmllint --valid` accepts.
pub fn write_di(di: &Di) -> Result<String, DocError> {
    let root = write::document(&di.document);
    let mut subset = Vec::new();
    let mut notations: Vec<&str> = Vec::new();
    let mut problems = Vec::new();
    for a in di.attachment_files.iter().chain(&di.roster) {
        check_declared(&a.entity, &a.file, &a.notation, &mut problems);
        subset.push(format!(
            "<!ENTITY {} SYSTEM \"{}\" NDATA {}>",
            a.entity, a.file, a.notation
        ));
    }
    if let Some(r) = &di.roster {
        notations.push(&r.notation);
    }
    for a in &di.attachment_files {
        if !notations.contains(&a.notation.as_str()) {
            notations.push(&a.notation);
        }
    }
    for n in notations {
        subset.push(format!("<!NOTATION {n} SYSTEM \"\">"));
    }
    let dtd_name = dtd::dtd_for_root(&root.name).unwrap_or("104_2_utf8.dtd");
    finish(root, dtd_name, subset, problems, values_of(&di.document))
}

/// Writes an SW (交換表單), validated like [`write_di`].
pub fn write_roster(r: &Roster) -> Result<String, DocError> {
    finish(
        write::roster(r),
        "104_roster_utf8.dtd",
        Vec::new(),
        Vec::new(),
        Vec::new(),
    )
}

fn finish(
    root: Element,
    dtd_name: &str,
    subset: Vec<String>,
    mut problems: Vec<Problem>,
    value_problems: Vec<Problem>,
) -> Result<String, DocError> {
    problems.extend(value_problems);
    let path = format!("/{}", root.name);
    check_chars(&root, &path, &mut problems);
    let mut out = String::with_capacity(4096);
    xml::write(&mut out, Some(&root.name), dtd_name, &subset, &root);
    if problems.is_empty() {
        // Validate the tree we are about to hand out, with the declarations we wrote.
        let doc = XmlDoc {
            encoding: TextEncoding::Utf8,
            standalone: false,
            doctype: Some(xml::Doctype {
                name: root.name.clone(),
                public_id: None,
                system_id: Some(dtd_name.to_string()),
                internal_subset: (!subset.is_empty()).then(|| subset.join("\n")),
                internal_line: 3,
            }),
            root,
        };
        problems = Declarations::of(&doc)?.validate(&doc);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(DocError::Invalid(problems))
    }
}

fn check_declared(entity: &str, file: &str, notation: &str, problems: &mut Vec<Problem>) {
    let path = format!("/<!ENTITY {entity}>");
    if !xml::is_name(entity) || !xml::is_name(notation) {
        problems.push(Problem::value(
            &path,
            format!("實體名稱「{entity}」或標記法「{notation}」不是有效的 XML 名稱"),
        ));
    }
    if let Err(m) = safe_file_name(file) {
        problems.push(Problem::value(&path, m));
    }
}

/// Text that XML cannot carry (control characters) would make a broken file.
fn check_chars(e: &Element, path: &str, problems: &mut Vec<Problem>) {
    let bad = |s: &str| s.chars().any(|c| !xml::is_xml_char(c));
    for a in &e.attrs {
        if bad(&a.value) {
            problems.push(Problem::value(
                path,
                format!("屬性 {} 含有 XML 不允許的控制字元", a.name),
            ));
        }
    }
    for n in &e.children {
        match n {
            Node::Element(c) => check_chars(c, &format!("{path}/{}", c.name), problems),
            Node::Text(t) | Node::CData(t) if bad(t) => problems.push(Problem::value(
                path,
                "文字含有 XML 不允許的控制字元".to_string(),
            )),
            _ => {}
        }
    }
}

/// Value rules the types alone cannot hold (dates and numbers have public fields).
fn values_of(d: &Document) -> Vec<Problem> {
    let mut problems = Vec::new();
    let root = format!("/{}", d.kind().root());
    if let Some(date) = d.date()
        && let Err(e) = crate::values::RocDate::new(date.year, date.month, date.day)
    {
        problems.push(Problem::value(&root, e.message));
    }
    if !matches!(d, Document::Memo(_)) {
        for n in d.numbers() {
            if let Err(e) = n.check() {
                problems.push(Problem::value(format!("{root}/發文字號"), e.message));
            }
        }
    }
    problems
}

/// 分繕: one DI per electronic recipient, each with its own 受文者 and a one-entry SW.
pub fn split_per_recipient(di: &Di, roster: &Roster) -> Result<Vec<(Di, Roster)>, DocError> {
    if di.document.addressee().is_none() {
        return Err(DocError::Invalid(vec![Problem::value(
            format!("/{}", di.document.kind().root()),
            format!("{}沒有受文者，無法分繕", di.document.kind().label()),
        )]));
    }
    Ok(roster
        .entries
        .iter()
        .map(|entry| {
            let mut copy = di.clone();
            if let Some(a) = copy.document.addressee_mut() {
                *a = Addressee::Direct {
                    party: entry.party.clone(),
                    attachments: entry.attachments,
                    portable_file: entry.portable_file.clone(),
                };
            }
            (
                copy,
                Roster {
                    entries: vec![entry.clone()],
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests;
