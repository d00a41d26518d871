//! What a printed 公文 consists of, kind by kind, before any page geometry: the title, the
//! labelled fields, the numbered items, the signature. The PDF, the HTML and the terminal text
//! are all drawn from this one list, so the three always show the same document.

use gongwen_doc::*;

/// Type size classes of the customary layout (文書處理手冊: title and signature largest,
/// 受文者 and the body next, the header fields and the recipients smallest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Small,
    Body,
    Large,
}

impl Size {
    pub fn points(self) -> f32 {
        match self {
            Size::Small => 12.0,
            Size::Body => 16.0,
            Size::Large => 20.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The 檔號／保存年限 box at the top left (filled in by hand or by the archive system).
    FileBox,
    /// The heading: 發文機關 (one line per agency when issued jointly) and the 文別.
    Title { issuers: Vec<String>, kind: String },
    /// Lines set in the right half under the title: 地址 and 聯絡方式.
    Contact(Vec<String>),
    /// `label：text`, wrapped lines hanging under the start of the text.
    Field {
        label: String,
        text: String,
        size: Size,
    },
    /// A numbered item (條列): `level` 1 is the outermost.
    Item {
        level: usize,
        number: String,
        text: String,
        size: Size,
    },
    /// Vertical space of about one small line.
    Gap,
    /// 署名 and similar closing lines, set large toward the right.
    Signature(Vec<String>),
}

fn field(label: &str, text: impl Into<String>, size: Size) -> Block {
    Block::Field {
        label: format!("{label}："),
        text: text.into(),
        size,
    }
}

/// The heading with the names of the issuing agencies.
fn title(issuers: &[Issuer], kind: &str) -> Block {
    Block::Title {
        issuers: issuers.iter().map(|i| i.name.clone()).collect(),
        kind: kind.to_string(),
    }
}

fn with_flag(name: String, flag: Option<AttachmentFlag>) -> String {
    match flag {
        Some(AttachmentFlag::With) => format!("{name}（含附件）"),
        _ => name,
    }
}

fn addressee(a: &Addressee) -> String {
    match a {
        Addressee::Roster { text, .. } => text.clone(),
        Addressee::Direct {
            party, attachments, ..
        } => with_flag(party.display_name(), *attachments),
    }
}

fn join<T>(list: &[T], f: impl Fn(&T) -> String) -> String {
    list.iter().map(f).collect::<Vec<_>>().join("、")
}

fn names(list: &[Name]) -> String {
    join(list, Name::display)
}

fn copies(list: &[CopyRecipient]) -> String {
    join(list, |c| with_flag(c.name.display(), c.attachments))
}

fn numbers(list: &[DocNumber]) -> String {
    join(list, DocNumber::to_string)
}

/// A draft's blank date prints as a blank field, to be filled in by hand or at 發文.
fn date_text(d: Option<RocDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn person(p: &PersonName) -> String {
    format!("{}{}", p.title.as_deref().unwrap_or_default(), p.name)
}

fn secrecy(s: Option<&Secrecy>) -> Block {
    let text = s
        .map(|s| format!("{} {}", s.level, s.condition))
        .unwrap_or_default();
    field("密等及解密條件或保密期限", text, Size::Small)
}

/// 附件: the printed description, then the file each entity names.
fn attachments(a: Option<&Attachments>, files: &[AttachmentFile]) -> Block {
    let text = a
        .map(|a| {
            let listed: Vec<String> = a
                .entities
                .iter()
                .map(|e| {
                    files
                        .iter()
                        .find(|f| &f.entity == e)
                        .map(|f| f.file.clone())
                        .unwrap_or_else(|| format!("{e}（未宣告）"))
                })
                .collect();
            if listed.is_empty() {
                a.text.clone()
            } else {
                format!("{}（{}）", a.text, listed.join("、"))
            }
        })
        .unwrap_or_default();
    field("附件", text, Size::Small)
}

fn items(out: &mut Vec<Block>, list: &[Item], level: usize) {
    for i in list {
        out.push(Block::Item {
            level,
            number: i.number.clone(),
            text: i.text.clone().unwrap_or_default(),
            size: Size::Body,
        });
        items(out, &i.items, level + 1);
    }
}

fn sections(out: &mut Vec<Block>, list: &[Section]) {
    for s in list {
        out.push(Block::Field {
            label: s.title.clone(),
            text: s.text.clone().unwrap_or_default(),
            size: Size::Body,
        });
        items(out, &s.items, 1);
    }
}

/// The header fields every outgoing kind prints under the title, in the DTD's order (a 公告
/// has no 受文者, 速別 or 密等).
fn header(out: &mut Vec<Block>, d: &Document) {
    out.push(Block::Gap);
    if let Some(a) = d.addressee() {
        out.push(field("受文者", addressee(a), Size::Body));
    }
    out.push(field("發文日期", date_text(d.date()), Size::Small));
    out.push(field("發文字號", numbers(&d.numbers()), Size::Small));
    if !matches!(d, Document::Announcement(_)) {
        out.push(field("速別", d.urgency().as_str(), Size::Small));
        out.push(secrecy(d.secrecy()));
    }
}

/// 附件, then 主旨 and the sections.
fn body(out: &mut Vec<Block>, d: &Document, files: &[AttachmentFile], list: &[Section]) {
    out.push(attachments(d.attachments(), files));
    out.push(Block::Gap);
    out.push(field("主旨", d.subject(), Size::Body));
    sections(out, list);
}

fn recipients(out: &mut Vec<Block>, primary: &[Name], copy: &[CopyRecipient]) {
    out.push(Block::Gap);
    out.push(field("正本", names(primary), Size::Small));
    out.push(field("副本", copies(copy), Size::Small));
}

fn signatures(out: &mut Vec<Block>, lines: &[String]) {
    if !lines.is_empty() {
        out.push(Block::Gap);
        out.push(Block::Signature(lines.to_vec()));
    }
}

/// The printed structure of a DI.
pub fn blocks(di: &Di) -> Vec<Block> {
    let files = &di.attachment_files;
    let d = &di.document;
    let mut out = vec![Block::FileBox];
    match d {
        Document::Letter(l) => {
            out.push(title(&l.issuers, l.class.as_str()));
            let mut contact = vec![format!("地址：{}", l.address)];
            contact.extend(l.contacts.iter().cloned());
            out.push(Block::Contact(contact));
            header(&mut out, d);
            body(&mut out, d, files, &l.sections);
            recipients(&mut out, &l.primary, &l.copies);
            signatures(&mut out, &l.signatures);
        }
        Document::Memo(m) => {
            let (from, code) = match &m.from {
                MemoFrom::Issuer(i) => (i.name.clone(), None),
                MemoFrom::Unit { name, code } => (name.clone(), code.as_ref()),
            };
            out.push(Block::Title {
                issuers: vec![format!("簽　於{from}")],
                kind: String::new(),
            });
            if let Some(c) = code {
                out.push(Block::Contact(vec![format!("單位代碼：{c}")]));
            }
            out.push(Block::Gap);
            if let Some(a) = &m.addressee {
                out.push(field("受文者", addressee(a), Size::Body));
            }
            // A 簽's 文號 is printed as 年度 + 流水號 (+ 支號), as its files are named.
            let number = d.numbers().first().and_then(DocNumber::file_base);
            out.push(field("文號", number.unwrap_or_default(), Size::Small));
            out.push(field("速別", m.urgency.as_str(), Size::Small));
            out.push(secrecy(m.secrecy.as_ref()));
            if let Some(p) = m.proposal {
                out.push(field("擬辦方式", p.label(), Size::Small));
            }
            body(&mut out, d, files, &m.sections);
            if !m.respectfully.is_empty() {
                out.push(Block::Gap);
                out.push(field("敬陳", join(&m.respectfully, person), Size::Body));
            }
            out.push(Block::Gap);
            out.push(Block::Signature(vec![
                m.signature.clone(),
                date_text(m.date),
            ]));
        }
        Document::Order(r) => {
            out.push(title(&r.issuers, r.class.as_str()));
            header(&mut out, d);
            body(&mut out, d, files, &r.sections);
            recipients(&mut out, &r.primary, &r.copies);
            signatures(&mut out, &r.signatures);
        }
        Document::Announcement(a) => {
            out.push(title(&a.issuers, "公告"));
            header(&mut out, d);
            body(&mut out, d, files, &a.sections);
            signatures(&mut out, &a.signatures);
        }
        Document::MeetingNotice(m) => {
            let [reason, time, place] = MeetingNotice::field_names(m.site_visit);
            out.push(title(&m.issuers, d.kind().label()));
            header(&mut out, d);
            out.push(attachments(m.attachments.as_ref(), files));
            out.push(Block::Gap);
            out.push(field(reason, &m.reason, Size::Body));
            for (i, t) in m.times.iter().enumerate() {
                // Later times line up under the first, without the label.
                let label = if i == 0 {
                    format!("{time}：")
                } else {
                    "　".repeat(time.chars().count() + 1)
                };
                let text = format!("{}（{}）{}", t.date, t.weekday, t.time);
                out.push(Block::Field {
                    label,
                    text,
                    size: Size::Body,
                });
            }
            out.push(field(place, &m.place, Size::Body));
            out.push(field("主持人", join(&m.chairs, person), Size::Body));
            out.push(field(
                "聯絡人及電話",
                join(&m.contacts, |c| {
                    format!("{} {}", person(&c.person), c.phone)
                }),
                Size::Body,
            ));
            out.push(field("出席者", names(&m.attendees), Size::Body));
            out.push(field("列席者", names(&m.observers), Size::Body));
            out.push(field("副本", copies(&m.copies), Size::Small));
            if let Some(r) = &m.remarks {
                out.push(field(
                    "備註",
                    r.text.clone().unwrap_or_default(),
                    Size::Body,
                ));
                items(&mut out, &r.items, 1);
            }
            signatures(&mut out, &m.signatures);
        }
    }
    out
}

/// The same document as plain terminal text (`gongwen doc show`).
pub fn render_text(di: &Di) -> String {
    let mut s = String::new();
    for b in blocks(di) {
        match b {
            Block::FileBox => {}
            Block::Title { issuers, kind } => {
                s.push_str(&issuers.join("、"));
                if !kind.is_empty() {
                    s.push('　');
                    s.push_str(&kind);
                }
                s.push('\n');
            }
            Block::Contact(lines) => lines.iter().for_each(|l| s.push_str(&format!("    {l}\n"))),
            Block::Field { label, text, .. } => s.push_str(&format!("{label}{text}\n")),
            Block::Item {
                level,
                number,
                text,
                ..
            } => s.push_str(&format!("{}{number}{text}\n", "  ".repeat(level))),
            Block::Gap => s.push('\n'),
            Block::Signature(lines) => lines
                .iter()
                .for_each(|l| s.push_str(&format!("{:>20}{l}\n", ""))),
        }
    }
    s
}
