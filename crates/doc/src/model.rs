//! The typed model of 公文: one struct per 文別, the parts they share, and the SW (交換表單).
//!
//! 函, 簽 and the SW follow the official 104 DTDs. 令, 公告, 開會通知單 and 會勘通知單 have no
//! public official DTD: their element order is **vendor-observed** (see `dtd/vendor-observed/`).

use serde::{Deserialize, Serialize};

use crate::values::{
    AgencyCode, AttachmentFlag, Classification, CopyKind, DocNumber, LetterClass, OrderClass,
    ProposalMethod, RocDate, UnitCode, Urgency,
};

/// 文別.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DocKind {
    /// 函 (all 函類別; 書函 is `Letter { class: LetterClass::Note }`).
    Letter { class: LetterClass },
    /// 簽.
    Memo,
    /// 令 (vendor-observed).
    Order,
    /// 公告 (vendor-observed).
    Announcement,
    /// 開會通知單 (vendor-observed).
    MeetingNotice,
    /// 會勘通知單 (vendor-observed).
    SiteVisitNotice,
}

impl DocKind {
    /// The name people use: 函, 書函, 簽, 令, 公告 …
    pub fn label(self) -> &'static str {
        match self {
            DocKind::Letter { class } => class.as_str(),
            DocKind::Memo => "簽",
            DocKind::Order => "令",
            DocKind::Announcement => "公告",
            DocKind::MeetingNotice => "開會通知單",
            DocKind::SiteVisitNotice => "會勘通知單",
        }
    }

    /// The root element of its DI.
    pub fn root(self) -> &'static str {
        match self {
            DocKind::Letter { .. } => "函",
            other => other.label(),
        }
    }
}

/// 發文機關: an agency (全銜 + 機關代碼) or one of its units (單位名 + 機關代碼 + 單位代碼).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issuer {
    /// 全銜, or 單位名 when `unit_code` is set.
    pub name: String,
    pub agency_code: AgencyCode,
    pub unit_code: Option<UnitCode>,
}

/// An electronic recipient with its codes, as in 受文者 and the SW.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Party {
    /// (姓名, 職稱?, 機關代碼, 單位代碼?)
    Person {
        name: String,
        title: Option<String>,
        agency_code: AgencyCode,
        unit_code: Option<UnitCode>,
    },
    /// (全銜, 機關代碼)
    Agency {
        name: String,
        agency_code: AgencyCode,
    },
    /// (單位名, 機關代碼, 單位代碼)
    Unit {
        name: String,
        agency_code: AgencyCode,
        unit_code: UnitCode,
    },
}

impl Party {
    /// The name as printed (姓名 with 職稱, 全銜 or 單位名).
    pub fn display_name(&self) -> String {
        match self {
            Party::Person {
                name, title: None, ..
            } => name.clone(),
            Party::Person {
                name,
                title: Some(t),
                ..
            } => format!("{name} {t}"),
            Party::Agency { name, .. } | Party::Unit { name, .. } => name.clone(),
        }
    }

    pub fn agency_code(&self) -> &AgencyCode {
        match self {
            Party::Person { agency_code, .. }
            | Party::Agency { agency_code, .. }
            | Party::Unit { agency_code, .. } => agency_code,
        }
    }
}

/// 受文者.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Addressee {
    /// 一文多發: `<交換表 交換表單="表單">如正副本行文單位</交換表>`, the recipients are in the SW.
    Roster {
        /// Name of the entity that declares the SW file (`表單`; `名單` in the old 91 format).
        entity: String,
        /// The printed text, usually 如正副本行文單位.
        text: String,
    },
    /// 分繕: this copy's own recipient.
    Direct {
        party: Party,
        attachments: Option<AttachmentFlag>,
        /// 內含本文與附件之可攜式文件檔名.
        portable_file: Option<String>,
    },
}

/// A name in 正本, 副本, 出席者 or 列席者 — names only, the codes live in the SW.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Name {
    Person {
        name: String,
        title: Option<String>,
    },
    /// 全銜
    Agency(String),
    /// 單位名
    Unit(String),
    /// 總稱, e.g. 各區公所.
    Collective(String),
}

impl Name {
    pub fn display(&self) -> String {
        match self {
            Name::Person { name, title: None } => name.clone(),
            Name::Person {
                name,
                title: Some(t),
            } => format!("{name}{t}"),
            Name::Agency(s) | Name::Unit(s) | Name::Collective(s) => s.clone(),
        }
    }
}

/// A 副本 entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyRecipient {
    pub name: Name,
    pub attachments: Option<AttachmentFlag>,
}

/// 段落: a named section (說明：, 辦法：, 擬辦：, 公告事項： …) with its text and numbered items.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Section {
    /// 段名, with its colon as written (e.g. `說明：`).
    pub title: String,
    pub text: Option<String>,
    pub items: Vec<Item>,
}

/// 條列: a numbered item (一、 / (一) / 1、 / (1) …), nesting to any depth.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Item {
    /// 序號 as written.
    pub number: String,
    pub text: Option<String>,
    pub items: Vec<Item>,
}

/// 附件: the printed description and the entity names of the attached files.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Attachments {
    pub text: String,
    /// Entity names (e.g. `ATTCH1`), declared in the DI's internal subset.
    pub entities: Vec<String>,
}

/// 密等及解密條件或保密期限.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secrecy {
    pub level: Classification,
    pub condition: String,
}

/// A person's name with an optional title (主持人, 敬陳, 聯絡人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    pub name: String,
    pub title: Option<String>,
}

/// 函 (104_2_utf8.dtd).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    /// 發文機關+: several agencies issue jointly (會銜).
    pub issuers: Vec<Issuer>,
    pub class: LetterClass,
    /// 地址.
    pub address: String,
    /// 聯絡方式+: free lines such as 承辦人：…, 電話：…, 傳真：…, 電子信箱：….
    pub contacts: Vec<String>,
    pub addressee: Addressee,
    /// 發文日期; `None` while a draft leaves it blank (the receiving system or the 發文 step
    /// fills it in). [`crate::exchange_problems`] requires it.
    pub date: Option<RocDate>,
    /// 發文字號+ (one per issuer in a 會銜).
    pub numbers: Vec<DocNumber>,
    pub urgency: Urgency,
    pub secrecy: Option<Secrecy>,
    pub attachments: Option<Attachments>,
    pub subject: String,
    pub sections: Vec<Section>,
    /// 正本 (at least one).
    pub primary: Vec<Name>,
    /// 副本 (may be empty).
    pub copies: Vec<CopyRecipient>,
    /// 署名*.
    pub signatures: Vec<String>,
}

/// Who writes a 簽: an agency or unit with codes (發文機關), or a unit by name (單位).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemoFrom {
    Issuer(Issuer),
    Unit {
        name: String,
        code: Option<UnitCode>,
    },
}

/// 文號 of a 簽: 年度 + 流水號 (+ 支號).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseNumber {
    pub year: u16,
    pub serial: u32,
    pub branch: Option<String>,
}

/// 簽 (104_5_utf8.dtd): an internal memo to superiors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memo {
    pub from: MemoFrom,
    pub addressee: Option<Addressee>,
    /// 文號; `None` while a draft leaves 年度 or 流水號 blank.
    pub number: Option<CaseNumber>,
    pub urgency: Urgency,
    pub secrecy: Option<Secrecy>,
    pub proposal: Option<ProposalMethod>,
    pub attachments: Option<Attachments>,
    pub subject: String,
    pub sections: Vec<Section>,
    /// 敬陳: the superiors addressed, by 職稱 (姓名 optional).
    pub respectfully: Vec<PersonName>,
    /// 署名 (exactly one).
    pub signature: String,
    /// 年月日; `None` while blank.
    pub date: Option<RocDate>,
}

/// 令 (vendor-observed order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub issuers: Vec<Issuer>,
    pub class: OrderClass,
    pub addressee: Addressee,
    pub date: Option<RocDate>,
    pub numbers: Vec<DocNumber>,
    pub urgency: Urgency,
    pub secrecy: Option<Secrecy>,
    pub attachments: Option<Attachments>,
    pub subject: String,
    pub sections: Vec<Section>,
    pub primary: Vec<Name>,
    pub copies: Vec<CopyRecipient>,
    pub signatures: Vec<String>,
}

/// 公告 (vendor-observed order; the trailing 署名 is a Gongwen addition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub issuers: Vec<Issuer>,
    pub date: Option<RocDate>,
    pub numbers: Vec<DocNumber>,
    pub attachments: Option<Attachments>,
    pub subject: String,
    /// Usually 依據： and 公告事項：.
    pub sections: Vec<Section>,
    pub signatures: Vec<String>,
}

/// 聯絡人及電話 entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPerson {
    pub person: PersonName,
    pub phone: String,
}

/// 開會時間 / 會勘時間: (年月日, 星期, 時分).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingTime {
    pub date: RocDate,
    /// 星期, as written (e.g. 星期一).
    pub weekday: String,
    /// 時分, as written (e.g. 上午9時30分).
    pub time: String,
}

/// 開會通知單 or 會勘通知單 (vendor-observed order); `site_visit` picks the 會勘 element names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingNotice {
    pub site_visit: bool,
    pub issuers: Vec<Issuer>,
    pub addressee: Addressee,
    /// 聯絡人及電話+.
    pub contacts: Vec<ContactPerson>,
    pub date: Option<RocDate>,
    pub numbers: Vec<DocNumber>,
    pub urgency: Urgency,
    pub secrecy: Option<Secrecy>,
    pub attachments: Option<Attachments>,
    /// 開會事由 / 會勘事由.
    pub reason: String,
    /// 開會時間+ / 會勘時間+.
    pub times: Vec<MeetingTime>,
    /// 開會地點 / 會勘地點.
    pub place: String,
    /// 主持人.
    pub chairs: Vec<PersonName>,
    /// 出席者 (at least one).
    pub attendees: Vec<Name>,
    /// 列席者.
    pub observers: Vec<Name>,
    pub copies: Vec<CopyRecipient>,
    /// 備註.
    pub remarks: Option<Section>,
    pub signatures: Vec<String>,
}

impl MeetingNotice {
    /// The element names of 事由, 時間 and 地點: 會勘… in a 會勘通知單, 開會… in a 開會通知單.
    pub fn field_names(site_visit: bool) -> [&'static str; 3] {
        if site_visit {
            ["會勘事由", "會勘時間", "會勘地點"]
        } else {
            ["開會事由", "開會時間", "開會地點"]
        }
    }
}

/// Any 公文 this crate reads and writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Document {
    Letter(Letter),
    Memo(Memo),
    Order(Order),
    Announcement(Announcement),
    MeetingNotice(MeetingNotice),
}

impl Document {
    pub fn kind(&self) -> DocKind {
        match self {
            Document::Letter(l) => DocKind::Letter { class: l.class },
            Document::Memo(_) => DocKind::Memo,
            Document::Order(_) => DocKind::Order,
            Document::Announcement(_) => DocKind::Announcement,
            Document::MeetingNotice(m) if m.site_visit => DocKind::SiteVisitNotice,
            Document::MeetingNotice(_) => DocKind::MeetingNotice,
        }
    }

    pub fn subject(&self) -> &str {
        match self {
            Document::Letter(d) => &d.subject,
            Document::Memo(d) => &d.subject,
            Document::Order(d) => &d.subject,
            Document::Announcement(d) => &d.subject,
            Document::MeetingNotice(d) => &d.reason,
        }
    }

    /// The issuing agencies (for a 簽 written by a unit without codes: none).
    pub fn issuers(&self) -> &[Issuer] {
        match self {
            Document::Letter(d) => &d.issuers,
            Document::Memo(Memo {
                from: MemoFrom::Issuer(i),
                ..
            }) => std::slice::from_ref(i),
            Document::Memo(_) => &[],
            Document::Order(d) => &d.issuers,
            Document::Announcement(d) => &d.issuers,
            Document::MeetingNotice(d) => &d.issuers,
        }
    }

    /// 發文字號 (a 簽 has a 文號 instead, without 發文代字).
    pub fn numbers(&self) -> Vec<DocNumber> {
        match self {
            Document::Letter(d) => d.numbers.clone(),
            Document::Order(d) => d.numbers.clone(),
            Document::Announcement(d) => d.numbers.clone(),
            Document::MeetingNotice(d) => d.numbers.clone(),
            Document::Memo(m) => m
                .number
                .iter()
                .map(|n| DocNumber::Structured {
                    word: String::new(),
                    year: n.year,
                    serial: n.serial,
                    branch: n.branch.clone(),
                })
                .collect(),
        }
    }

    /// 發文日期 (a 簽's 年月日); `None` while a draft leaves it blank.
    pub fn date(&self) -> Option<RocDate> {
        match self {
            Document::Letter(d) => d.date,
            Document::Memo(d) => d.date,
            Document::Order(d) => d.date,
            Document::Announcement(d) => d.date,
            Document::MeetingNotice(d) => d.date,
        }
    }

    pub fn urgency(&self) -> Urgency {
        match self {
            Document::Letter(d) => d.urgency,
            Document::Memo(d) => d.urgency,
            Document::Order(d) => d.urgency,
            Document::Announcement(_) => Urgency::Normal,
            Document::MeetingNotice(d) => d.urgency,
        }
    }

    pub fn secrecy(&self) -> Option<&Secrecy> {
        match self {
            Document::Letter(d) => d.secrecy.as_ref(),
            Document::Memo(d) => d.secrecy.as_ref(),
            Document::Order(d) => d.secrecy.as_ref(),
            Document::Announcement(_) => None,
            Document::MeetingNotice(d) => d.secrecy.as_ref(),
        }
    }

    pub fn attachments(&self) -> Option<&Attachments> {
        match self {
            Document::Letter(d) => d.attachments.as_ref(),
            Document::Memo(d) => d.attachments.as_ref(),
            Document::Order(d) => d.attachments.as_ref(),
            Document::Announcement(d) => d.attachments.as_ref(),
            Document::MeetingNotice(d) => d.attachments.as_ref(),
        }
    }

    pub fn addressee(&self) -> Option<&Addressee> {
        match self {
            Document::Letter(d) => Some(&d.addressee),
            Document::Memo(d) => d.addressee.as_ref(),
            Document::Order(d) => Some(&d.addressee),
            Document::Announcement(_) => None,
            Document::MeetingNotice(d) => Some(&d.addressee),
        }
    }

    pub(crate) fn addressee_mut(&mut self) -> Option<&mut Addressee> {
        match self {
            Document::Letter(d) => Some(&mut d.addressee),
            Document::Memo(d) => d.addressee.as_mut(),
            Document::Order(d) => Some(&mut d.addressee),
            Document::Announcement(_) => None,
            Document::MeetingNotice(d) => Some(&mut d.addressee),
        }
    }
}

/// An SW (交換表單) entry: one electronic recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterEntry {
    pub party: Party,
    pub attachments: Option<AttachmentFlag>,
    pub portable_file: Option<String>,
    /// 本別 (收發處理本別; 正本 when absent).
    pub copy_kind: CopyKind,
}

/// SW / 交換表單: the electronic recipients of a document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Roster {
    pub entries: Vec<RosterEntry>,
}

/// An attachment as the DI declares it: `<!ENTITY ATTCH1 SYSTEM "1150001234_ATTCH1.pdf" NDATA _X>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentFile {
    pub entity: String,
    /// The file name the attachment travels under (no directories).
    pub file: String,
    pub notation: String,
}

/// The entity that declares the SW, declared as an attachment is:
/// `<!ENTITY 表單 SYSTEM "1150001234.sw" NDATA DI>` (`名單` in the old 91 format).
pub type RosterFile = AttachmentFile;

/// A DI file: the document plus the files its internal subset declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Di {
    pub document: Document,
    pub roster: Option<RosterFile>,
    pub attachment_files: Vec<AttachmentFile>,
}
