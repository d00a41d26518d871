//! Drafts: what a clerk (or a document system, as JSON) writes to produce a DI + SW.
//!
//! Field names are the DTD element names, so a draft reads like the document. Recipients are
//! given once, in 正本 / 副本 (or 出席者 / 列席者): a recipient with a 機關代碼 is sent
//! electronically and goes into the SW; one without is printed on the document only (paper).
//! The crate does no I/O: attachments are returned as (entity, source path, file name) for the
//! caller to copy.

use serde::{Deserialize, Serialize};

use crate::codec::safe_file_name;
use crate::error::{Problem, ValueError};
use crate::model::*;
use crate::values::*;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    /// 函 (default), 書函, 簽, 令, 公告, 開會通知單, 會勘通知單.
    #[serde(rename = "文別", default)]
    pub kind: Option<String>,
    /// 函類別 for a 函 (函 by default).
    #[serde(rename = "函類別", default)]
    pub letter_class: Option<String>,
    #[serde(rename = "令類別", default)]
    pub order_class: Option<String>,
    /// Base name of the written files; by default 年度 + 流水號 of the 發文字號.
    #[serde(rename = "檔名", default)]
    pub base: Option<String>,
    #[serde(rename = "發文機關", default)]
    pub issuers: Vec<DraftIssuer>,
    /// For a 簽 written by a unit without codes.
    #[serde(rename = "單位", default)]
    pub unit: Option<String>,
    #[serde(rename = "單位代碼", default)]
    pub unit_code: Option<String>,
    #[serde(rename = "地址", default)]
    pub address: Option<String>,
    #[serde(rename = "聯絡方式", default)]
    pub contacts: OneOrMany<String>,
    /// Today (Asia/Taipei) when left out.
    #[serde(rename = "發文日期", default)]
    pub date: Option<String>,
    /// `府資字第1150001234號`, or a table {字, 年度, 流水號, 支號}. For a 簽: its 文號.
    #[serde(rename = "發文字號", default)]
    pub numbers: OneOrMany<DraftNumber>,
    #[serde(rename = "速別", default)]
    pub urgency: Option<String>,
    #[serde(rename = "密等及解密條件或保密期限", default)]
    pub secrecy: Option<DraftSecrecy>,
    #[serde(rename = "擬辦方式", default)]
    pub proposal: Option<String>,
    #[serde(rename = "附件", default)]
    pub attachments: Option<DraftAttachments>,
    #[serde(rename = "主旨", default)]
    pub subject: Option<String>,
    #[serde(rename = "段落", default)]
    pub sections: Vec<DraftSection>,
    #[serde(rename = "正本", default)]
    pub primary: Vec<DraftRecipient>,
    #[serde(rename = "副本", default)]
    pub copies: Vec<DraftRecipient>,
    #[serde(rename = "敬陳", default)]
    pub respectfully: Vec<DraftPerson>,
    #[serde(rename = "署名", default)]
    pub signatures: OneOrMany<String>,
    /// 分繕: one DI per electronic recipient instead of one DI + SW for all (一文多發).
    #[serde(rename = "分繕", default)]
    pub split: bool,
    #[serde(rename = "聯絡人及電話", default)]
    pub contact_persons: Vec<DraftContact>,
    #[serde(rename = "開會事由", alias = "會勘事由", default)]
    pub reason: Option<String>,
    #[serde(rename = "開會時間", alias = "會勘時間", default)]
    pub times: Vec<DraftTime>,
    #[serde(rename = "開會地點", alias = "會勘地點", default)]
    pub place: Option<String>,
    #[serde(rename = "主持人", default)]
    pub chairs: Vec<DraftPerson>,
    #[serde(rename = "出席者", default)]
    pub attendees: Vec<DraftRecipient>,
    #[serde(rename = "列席者", default)]
    pub observers: Vec<DraftRecipient>,
    #[serde(rename = "備註", default)]
    pub remarks: Option<DraftSection>,
}

/// A field that takes one value or a list (`署名 = "市長 王大明"` or `署名 = ["…", "…"]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl<T: Clone> OneOrMany<T> {
    pub fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
    pub fn is_empty(&self) -> bool {
        matches!(self, OneOrMany::Many(v) if v.is_empty())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftIssuer {
    #[serde(rename = "全銜", default)]
    pub full_name: Option<String>,
    #[serde(rename = "單位名", default)]
    pub unit_name: Option<String>,
    #[serde(rename = "機關代碼")]
    pub agency_code: String,
    #[serde(rename = "單位代碼", default)]
    pub unit_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DraftNumber {
    Text(String),
    Parts {
        #[serde(rename = "字", default)]
        word: String,
        #[serde(rename = "年度")]
        year: u16,
        #[serde(rename = "流水號")]
        serial: u32,
        #[serde(rename = "支號", default)]
        branch: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftSecrecy {
    #[serde(rename = "密等")]
    pub level: String,
    #[serde(rename = "解密條件或保密期限", default)]
    pub condition: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftAttachments {
    /// The printed description, e.g. 如文 or 計畫書1份.
    #[serde(rename = "文字", default)]
    pub text: Option<String>,
    /// Paths of the attachment files, relative to the draft file.
    #[serde(rename = "檔案", default)]
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftSection {
    #[serde(rename = "段名", default)]
    pub title: String,
    #[serde(rename = "文字", default)]
    pub text: Option<String>,
    #[serde(rename = "條列", default)]
    pub items: Vec<DraftItem>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftItem {
    #[serde(rename = "序號", default)]
    pub number: String,
    #[serde(rename = "文字", default)]
    pub text: Option<String>,
    #[serde(rename = "條列", default)]
    pub items: Vec<DraftItem>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftRecipient {
    #[serde(rename = "全銜", default)]
    pub full_name: Option<String>,
    #[serde(rename = "單位名", default)]
    pub unit_name: Option<String>,
    #[serde(rename = "姓名", default)]
    pub person: Option<String>,
    #[serde(rename = "職稱", default)]
    pub title: Option<String>,
    #[serde(rename = "總稱", default)]
    pub collective: Option<String>,
    /// With a code the recipient is electronic (listed in the SW).
    #[serde(rename = "機關代碼", default)]
    pub agency_code: Option<String>,
    #[serde(rename = "單位代碼", default)]
    pub unit_code: Option<String>,
    /// For 副本: whether this copy gets the attachments (default: yes when there are any).
    #[serde(rename = "含附件", default)]
    pub with_attachments: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftPerson {
    #[serde(rename = "姓名", default)]
    pub name: String,
    #[serde(rename = "職稱", default)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftContact {
    #[serde(rename = "姓名")]
    pub name: String,
    #[serde(rename = "職稱", default)]
    pub title: Option<String>,
    #[serde(rename = "電話")]
    pub phone: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftTime {
    #[serde(rename = "年月日")]
    pub date: String,
    /// Computed from the date when left out.
    #[serde(rename = "星期", default)]
    pub weekday: Option<String>,
    #[serde(rename = "時分")]
    pub time: String,
}

/// An attachment to copy: the source path as written in the draft, and the file name the DI
/// declares for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentCopy {
    pub entity: String,
    pub source: String,
    pub file: String,
}

/// A draft turned into files-to-be.
#[derive(Debug, Clone)]
pub struct Built {
    pub base: String,
    pub di: Di,
    pub roster: Roster,
    pub attachments: Vec<AttachmentCopy>,
    pub split: bool,
}

struct B {
    problems: Vec<Problem>,
    /// The electronic recipients, as the recipient lists are read.
    roster: Roster,
    has_attachments: bool,
}

impl B {
    fn val<T>(&mut self, field: &str, r: Result<T, ValueError>) -> Option<T> {
        r.map_err(|e| self.error(field, e.message)).ok()
    }
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(Problem::value(field, message));
    }
    fn missing(&mut self, field: &str) {
        self.error(field, format!("草稿缺少「{field}」"));
    }
    /// 含附件 or 不含附件, when the document has attachments at all.
    fn flag(&self, with: bool) -> Option<AttachmentFlag> {
        let flag = if with {
            AttachmentFlag::With
        } else {
            AttachmentFlag::Without
        };
        self.has_attachments.then_some(flag)
    }
    fn text(&mut self, field: &str, v: &Option<String>) -> String {
        match v.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => {
                self.missing(field);
                String::new()
            }
        }
    }
}

impl Draft {
    /// Builds the DI and SW. `today` is used when the draft has no 發文日期.
    pub fn build(&self, today: RocDate) -> Result<Built, Vec<Problem>> {
        // Attachments: entity ATTCHn, file <base>_ATTCHn.<ext>; the base is settled below.
        let attachment_sources: Vec<String> = self
            .attachments
            .as_ref()
            .map(|a| a.files.clone())
            .unwrap_or_default();
        let has_attachments = !attachment_sources.is_empty();
        let mut b = B {
            problems: Vec::new(),
            roster: Roster::default(),
            has_attachments,
        };
        let kind = self.kind.as_deref().unwrap_or("函").trim();
        let date = match &self.date {
            Some(d) => b.val("發文日期", RocDate::parse(d)).unwrap_or(today),
            None => today,
        };
        let issuers: Vec<Issuer> = self
            .issuers
            .iter()
            .enumerate()
            .filter_map(|(i, d)| issuer(&mut b, i, d))
            .collect();
        let numbers: Vec<DocNumber> = self
            .numbers
            .to_vec()
            .iter()
            .filter_map(|n| match n {
                DraftNumber::Text(t) => Some(DocNumber::parse_display(t)),
                DraftNumber::Parts {
                    word,
                    year,
                    serial,
                    branch,
                } => {
                    let n = DocNumber::Structured {
                        word: word.clone(),
                        year: *year,
                        serial: *serial,
                        branch: branch.clone(),
                    };
                    b.val("發文字號", n.check()).map(|_| n)
                }
            })
            .collect();
        let urgency = match &self.urgency {
            Some(u) => b.val("速別", Urgency::parse(u)).unwrap_or(Urgency::Normal),
            None => Urgency::Normal,
        };
        let secrecy = self.secrecy.as_ref().and_then(|s| {
            b.val("密等", Classification::parse(&s.level))
                .map(|level| Secrecy {
                    level,
                    condition: s.condition.clone(),
                })
        });
        let sections: Vec<Section> = self.sections.iter().map(section).collect();
        let is_meeting = matches!(kind, "開會通知單" | "會勘通知單");
        let subject = if is_meeting {
            String::new()
        } else {
            b.text("主旨", &self.subject)
        };
        let attachments = self.attachments.as_ref().map(|a| Attachments {
            text: a.text.clone().unwrap_or_else(|| {
                if has_attachments {
                    "如文".into()
                } else {
                    String::new()
                }
            }),
            entities: (1..=attachment_sources.len())
                .map(|i| format!("ATTCH{i}"))
                .collect(),
        });

        let (prim_src, copy_src) = if is_meeting {
            (&self.attendees, &self.copies)
        } else {
            (&self.primary, &self.copies)
        };
        let primary = recipients(&mut b, "正本", prim_src, CopyKind::Primary);
        let copies_names = recipients(&mut b, "副本", copy_src, CopyKind::Copy);
        let observers = if is_meeting {
            recipients(&mut b, "列席者", &self.observers, CopyKind::Copy)
        } else {
            Vec::new()
        };
        let copies: Vec<CopyRecipient> = copies_names
            .into_iter()
            .zip(copy_src)
            .map(|(name, d)| CopyRecipient {
                name,
                attachments: b.flag(d.with_attachments.unwrap_or(true)),
            })
            .collect();
        let addressee = Addressee::Roster {
            entity: "表單".into(),
            text: "如正副本行文單位".into(),
        };
        let need = |b: &mut B, v: bool, f: &str| {
            if v {
                b.missing(f)
            }
        };
        // 發文機關 and 發文字號: every kind that is sent out needs both.
        let (no_issuer, no_number) = (
            issuers.is_empty() && self.issuers.is_empty(),
            numbers.is_empty() && self.numbers.is_empty(),
        );
        let no_primary = primary.is_empty() && self.primary.is_empty();
        let need_issued = |b: &mut B| {
            need(b, no_issuer, "發文機關");
            need(b, no_number, "發文字號");
        };

        let mut base_from_number = numbers.first().and_then(DocNumber::file_base);
        let document = match kind {
            "函" | "書函" => {
                let class = match (kind, &self.letter_class) {
                    ("書函", _) => LetterClass::Note,
                    (_, Some(c)) => b
                        .val("函類別", LetterClass::parse(c))
                        .unwrap_or(LetterClass::Letter),
                    _ => LetterClass::Letter,
                };
                need_issued(&mut b);
                need(&mut b, self.contacts.is_empty(), "聯絡方式");
                need(&mut b, no_primary, "正本");
                let address = b.text("地址", &self.address);
                Document::Letter(Letter {
                    issuers,
                    class,
                    address,
                    contacts: self.contacts.to_vec(),
                    addressee,
                    date: Some(date),
                    numbers,
                    urgency,
                    secrecy,
                    attachments,
                    subject,
                    sections,
                    primary,
                    copies,
                    signatures: self.signatures.to_vec(),
                })
            }
            "令" => {
                let class = match &self.order_class {
                    Some(c) => b
                        .val("令類別", OrderClass::parse(c))
                        .unwrap_or(OrderClass::Order),
                    None => OrderClass::Order,
                };
                need_issued(&mut b);
                need(&mut b, no_primary, "正本");
                Document::Order(Order {
                    issuers,
                    class,
                    addressee,
                    date: Some(date),
                    numbers,
                    urgency,
                    secrecy,
                    attachments,
                    subject,
                    sections,
                    primary,
                    copies,
                    signatures: self.signatures.to_vec(),
                })
            }
            "公告" => {
                need_issued(&mut b);
                Document::Announcement(Announcement {
                    issuers,
                    date: Some(date),
                    numbers,
                    attachments,
                    subject,
                    sections,
                    signatures: self.signatures.to_vec(),
                })
            }
            "簽" => {
                let from = match (issuers.into_iter().next(), &self.unit) {
                    (Some(i), _) => Some(MemoFrom::Issuer(i)),
                    (None, Some(u)) => Some(MemoFrom::Unit {
                        name: u.clone(),
                        code: self
                            .unit_code
                            .as_deref()
                            .and_then(|c| b.val("單位代碼", UnitCode::parse(c))),
                    }),
                    (None, None) => {
                        if self.issuers.is_empty() {
                            b.missing("單位");
                        }
                        None
                    }
                };
                let number = match numbers.first() {
                    Some(DocNumber::Structured {
                        year,
                        serial,
                        branch,
                        ..
                    }) => Some(CaseNumber {
                        year: *year,
                        serial: *serial,
                        branch: branch.clone(),
                    }),
                    Some(DocNumber::Text(t)) => {
                        // A 簽 number is bare digits: 年度 (3) + 流水號 (7).
                        let t = t.trim();
                        if t.len() == 10 && t.bytes().all(|c| c.is_ascii_digit()) {
                            Some(CaseNumber {
                                year: t[..3].parse().unwrap_or(0),
                                serial: t[3..].parse().unwrap_or(0),
                                branch: None,
                            })
                        } else {
                            b.error(
                                "發文字號",
                                format!("簽的文號「{t}」應為 10 位數字（年度 3 碼＋流水號 7 碼）"),
                            );
                            None
                        }
                    }
                    None => {
                        b.missing("發文字號");
                        None
                    }
                };
                let proposal = self
                    .proposal
                    .as_deref()
                    .and_then(|p| b.val("擬辦方式", ProposalMethod::parse(p)));
                let signature = self
                    .signatures
                    .to_vec()
                    .first()
                    .cloned()
                    .unwrap_or_else(|| {
                        b.missing("署名");
                        String::new()
                    });
                base_from_number = number
                    .as_ref()
                    .map(|n| format!("{:03}{:07}", n.year, n.serial));
                let memo = from.zip(number).map(|(from, number)| Memo {
                    from,
                    addressee: None,
                    number: Some(number),
                    urgency,
                    secrecy,
                    proposal,
                    attachments,
                    subject,
                    sections,
                    respectfully: self.respectfully.iter().map(person).collect(),
                    signature,
                    date: Some(date),
                });
                match memo {
                    Some(m) => Document::Memo(m),
                    None => return Err(b.problems),
                }
            }
            "開會通知單" | "會勘通知單" => {
                let site_visit = kind == "會勘通知單";
                let [reason_f, time_f, place_f] = MeetingNotice::field_names(site_visit);
                need_issued(&mut b);
                need(&mut b, self.contact_persons.is_empty(), "聯絡人及電話");
                need(&mut b, self.times.is_empty(), time_f);
                need(&mut b, self.chairs.is_empty(), "主持人");
                need(
                    &mut b,
                    primary.is_empty() && self.attendees.is_empty(),
                    "出席者",
                );
                let reason = b.text(reason_f, &self.reason);
                let place = b.text(place_f, &self.place);
                let times = self
                    .times
                    .iter()
                    .filter_map(|t| {
                        let d = b.val("開會時間", RocDate::parse(&t.date))?;
                        Some(MeetingTime {
                            date: d,
                            weekday: t.weekday.clone().unwrap_or_else(|| d.weekday().into()),
                            time: t.time.clone(),
                        })
                    })
                    .collect();
                Document::MeetingNotice(MeetingNotice {
                    site_visit,
                    issuers,
                    addressee,
                    contacts: self
                        .contact_persons
                        .iter()
                        .map(|c| ContactPerson {
                            person: PersonName {
                                name: c.name.clone(),
                                title: c.title.clone(),
                            },
                            phone: c.phone.clone(),
                        })
                        .collect(),
                    date: Some(date),
                    numbers,
                    urgency,
                    secrecy,
                    attachments,
                    reason,
                    times,
                    place,
                    chairs: self.chairs.iter().map(person).collect(),
                    attendees: primary,
                    observers,
                    copies,
                    remarks: self.remarks.as_ref().map(section),
                    signatures: self.signatures.to_vec(),
                })
            }
            other => {
                b.error(
                    "文別",
                    format!("文別「{other}」應為 函、書函、簽、令、公告、開會通知單 或 會勘通知單"),
                );
                return Err(b.problems);
            }
        };

        let base = match (&self.base, base_from_number) {
            (Some(b0), _) => b0.trim().to_string(),
            (None, Some(n)) => n,
            (None, None) => {
                b.error(
                    "檔名",
                    "發文字號不是「字第＋年度＋流水號＋號」的格式，請以「檔名」指定檔案名稱",
                );
                String::new()
            }
        };
        if !base.is_empty()
            && let Err(m) = safe_file_name(&base)
        {
            b.error("檔名", m);
        }
        let mut copies_out = Vec::new();
        let mut attachment_files = Vec::new();
        for (i, src) in attachment_sources.iter().enumerate() {
            let entity = format!("ATTCH{}", i + 1);
            let ext = std::path::Path::new(src)
                .extension()
                .and_then(|e| e.to_str())
                .filter(|e| {
                    !e.is_empty() && e.len() <= 10 && e.chars().all(|c| c.is_ascii_alphanumeric())
                })
                .map(|e| format!(".{}", e.to_ascii_lowercase()))
                .unwrap_or_default();
            let file = format!("{base}_{entity}{ext}");
            attachment_files.push(AttachmentFile {
                entity: entity.clone(),
                file: file.clone(),
                notation: "_X".into(),
            });
            copies_out.push(AttachmentCopy {
                entity,
                source: src.clone(),
                file,
            });
        }
        let roster = std::mem::take(&mut b.roster);
        if roster.entries.is_empty() && document.addressee().is_some() {
            b.error(
                "正本",
                "沒有任何電子交換的受文者：請至少為一個正本或副本填寫機關代碼",
            );
        }
        if !b.problems.is_empty() {
            return Err(b.problems);
        }
        // A 公告 has no 受文者 element, but it is exchanged like any other document: its
        // recipients (正本, 副本) travel in an SW the DI declares.
        let has_roster = document.addressee().is_some() || !roster.entries.is_empty();
        let di = Di {
            document,
            roster: has_roster.then(|| RosterFile {
                entity: "表單".into(),
                file: format!("{base}.sw"),
                notation: "DI".into(),
            }),
            attachment_files,
        };
        Ok(Built {
            base,
            di,
            roster,
            attachments: copies_out,
            split: self.split,
        })
    }
}

fn issuer(b: &mut B, i: usize, d: &DraftIssuer) -> Option<Issuer> {
    let field = format!("發文機關[{}]", i + 1);
    let code = b.val(
        &format!("{field}.機關代碼"),
        AgencyCode::parse(&d.agency_code),
    )?;
    let (name, unit_code) = match (&d.full_name, &d.unit_name, &d.unit_code) {
        (Some(n), None, None) => (n, None),
        (None, Some(n), Some(u)) => (
            n,
            Some(b.val(&format!("{field}.單位代碼"), UnitCode::parse(u))?),
        ),
        _ => {
            b.error(
                &field,
                "發文機關應填「全銜」，或「單位名」加「單位代碼」（兩者擇一）",
            );
            return None;
        }
    };
    Some(Issuer {
        name: name.clone(),
        agency_code: code,
        unit_code,
    })
}

fn recipients(b: &mut B, field: &str, list: &[DraftRecipient], copy_kind: CopyKind) -> Vec<Name> {
    let mut out = Vec::new();
    for (i, r) in list.iter().enumerate() {
        let f = format!("{field}[{}]", i + 1);
        let name = match (&r.full_name, &r.unit_name, &r.person, &r.collective) {
            (Some(n), None, None, None) => Name::Agency(n.clone()),
            (None, Some(n), None, None) => Name::Unit(n.clone()),
            (None, None, Some(n), None) => Name::Person {
                name: n.clone(),
                title: r.title.clone(),
            },
            (None, None, None, Some(n)) => Name::Collective(n.clone()),
            _ => {
                b.error(
                    &f,
                    "受文者應填「全銜」、「單位名」、「姓名」或「總稱」其中之一",
                );
                continue;
            }
        };
        if let Some(code) = &r.agency_code {
            let Some(code) = b.val(&format!("{f}.機關代碼"), AgencyCode::parse(code)) else {
                continue;
            };
            let unit = match &r.unit_code {
                Some(u) => match b.val(&format!("{f}.單位代碼"), UnitCode::parse(u)) {
                    Some(u) => Some(u),
                    None => continue,
                },
                None => None,
            };
            let party = match (&name, unit) {
                (Name::Agency(n), None) => Party::Agency {
                    name: n.clone(),
                    agency_code: code,
                },
                (Name::Unit(n), Some(u)) => Party::Unit {
                    name: n.clone(),
                    agency_code: code,
                    unit_code: u,
                },
                (Name::Person { name, title }, u) => Party::Person {
                    name: name.clone(),
                    title: title.clone(),
                    agency_code: code,
                    unit_code: u,
                },
                (Name::Unit(_), None) => {
                    b.missing(&format!("{f}.單位代碼"));
                    continue;
                }
                (Name::Agency(_), Some(_)) => {
                    b.error(&f, "以全銜交換時不填單位代碼；單位請用「單位名」");
                    continue;
                }
                (Name::Collective(_), _) => {
                    b.error(&f, "總稱不能電子交換，請逐一列出機關並填機關代碼");
                    continue;
                }
            };
            let attachments =
                b.flag(copy_kind == CopyKind::Primary || r.with_attachments.unwrap_or(true));
            b.roster.entries.push(RosterEntry {
                party,
                attachments,
                portable_file: None,
                copy_kind,
            });
        }
        out.push(name);
    }
    out
}

fn person(p: &DraftPerson) -> PersonName {
    PersonName {
        name: p.name.clone(),
        title: p.title.clone(),
    }
}

fn section(s: &DraftSection) -> Section {
    Section {
        title: s.title.clone(),
        text: s.text.clone(),
        items: s.items.iter().map(item).collect(),
    }
}

fn item(i: &DraftItem) -> Item {
    Item {
        number: i.number.clone(),
        text: i.text.clone(),
        items: i.items.iter().map(item).collect(),
    }
}

/// The two recipient boxes as the kind names them: 出席者 and 列席者 on a meeting notice,
/// 正本 and 副本 otherwise.
pub fn box_labels(kind: &str) -> (&'static str, &'static str) {
    if kind == "開會通知單" {
        ("出席者", "列席者")
    } else {
        ("正本", "副本")
    }
}

/// The customary 序號 of the n-th item (from 1) at a depth (from 1): 一、 (一) 1、 (1).
pub fn item_number(depth: usize, n: usize) -> String {
    match depth {
        1 => format!("{}、", chinese_number(n)),
        2 => format!("({})", chinese_number(n)),
        3 => format!("{n}、"),
        _ => format!("({n})"),
    }
}

/// 1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九; larger in digits.
pub fn chinese_number(n: usize) -> String {
    const D: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => D[n].to_string(),
        10..=99 => {
            let (t, u) = (n / 10, n % 10);
            let tens = if t == 1 { "" } else { D[t] };
            let units = if u == 0 { "" } else { D[u] };
            format!("{tens}十{units}")
        }
        _ => n.to_string(),
    }
}

/// A line typed in a form box without the number typed by hand at its start (一、 (一) 1.
/// １、): the form numbers the items itself. A number not followed by its mark stays (a year).
pub fn strip_item_number(s: &str) -> &str {
    let numerals = "一二三四五六七八九十0123456789０１２３４５６７８９";
    let t = s.trim_start_matches(['(', '（']);
    let rest = t.trim_start_matches(|c: char| numerals.contains(c));
    if rest.len() == t.len() {
        return s;
    }
    let after = rest.trim_start_matches([')', '）', '、', '.', '．']);
    if after.len() == rest.len() {
        s
    } else {
        after.trim_start()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boxes_are_named_for_the_kind() {
        assert_eq!(box_labels("開會通知單"), ("出席者", "列席者"));
        for k in ["函", "書函", "公告", "簽"] {
            assert_eq!(box_labels(k), ("正本", "副本"));
        }
    }

    #[test]
    fn items_are_numbered_as_customary() {
        assert_eq!(item_number(1, 12), "十二、");
        assert_eq!(item_number(2, 20), "(二十)");
        assert_eq!(item_number(2, 12), "(十二)");
        assert_eq!(item_number(3, 3), "3、");
        assert_eq!(item_number(4, 3), "(3)");
        assert_eq!(chinese_number(10), "十");
        assert_eq!(chinese_number(21), "二十一");
        assert_eq!(chinese_number(101), "101");
    }

    #[test]
    fn only_leading_numbers_are_stripped() {
        assert_eq!(strip_item_number("一、主旨"), "主旨");
        assert_eq!(strip_item_number("（三）說明"), "說明");
        assert_eq!(strip_item_number("(二)細項"), "細項");
        assert_eq!(strip_item_number("2. 細項"), "細項");
        assert_eq!(strip_item_number("１．甲"), "甲");
        assert_eq!(strip_item_number("100人"), "100人");
        assert_eq!(
            strip_item_number("115年度計畫"),
            "115年度計畫",
            "a year is not a number"
        );
        assert_eq!(strip_item_number("依據"), "依據");
    }
}
