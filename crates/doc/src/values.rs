//! Values with their rules: codes, document numbers, ROC dates and the closed code lists.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ValueError;

/// 機關代碼: 10 characters, digits and capital letters (e.g. `200000000A` 總統府, XCA
/// organisations `XA` + the last 8 digits of their OID).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgencyCode(String);

/// `s` trimmed, when it is digits and capital letters of one of the lengths `lens`.
fn code(s: &str, lens: &[usize]) -> Option<String> {
    let t = s.trim();
    (lens.contains(&t.chars().count())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()))
    .then(|| t.to_string())
}

impl AgencyCode {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        code(s, &[10])
            .map(AgencyCode)
            .ok_or_else(|| ValueError::new(format!("機關代碼「{s}」應為 10 碼數字或大寫英文字母")))
    }
}

/// 單位代碼: 7 characters (or 17 = the 10-character 機關代碼 followed by the 7-character unit).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        code(s, &[7, 17]).map(UnitCode).ok_or_else(|| {
            ValueError::new(format!(
                "單位代碼「{s}」應為 7 碼（或含機關代碼共 17 碼）數字或大寫英文字母"
            ))
        })
    }
}

macro_rules! string_newtype_conversions {
    ($($t:ty),*) => {$(
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $t {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, ValueError> {
                Self::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $t {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                Self::parse(s)
            }
        }
    )*};
}
string_newtype_conversions!(AgencyCode, UnitCode);

/// A date in the Republic of China calendar (民國年 = Gregorian year − 1911), as printed:
/// `中華民國115年1月5日`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RocDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl RocDate {
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, ValueError> {
        if year == 0 || year > 999 {
            return Err(ValueError::new(format!("民國年 {year} 超出範圍（1–999）")));
        }
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year as i32 + 1911, month)
        {
            return Err(ValueError::new(format!(
                "日期 民國{year}年{month}月{day}日 不存在"
            )));
        }
        Ok(RocDate { year, month, day })
    }

    pub fn from_gregorian(year: i32, month: u8, day: u8) -> Result<Self, ValueError> {
        if !(1912..=2910).contains(&year) {
            return Err(ValueError::new(format!("西元 {year} 年不在民國紀年範圍內")));
        }
        RocDate::new((year - 1911) as u16, month, day)
    }

    pub fn gregorian_year(&self) -> i32 {
        self.year as i32 + 1911
    }

    /// Parses `中華民國115年1月5日`, also without `中華民國`, with `民國`, with full-width digits,
    /// or as `115/01/05` and `115.1.5`.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let bad = || {
            ValueError::new(format!(
                "日期「{s}」格式不正確，應為「中華民國115年1月5日」"
            ))
        };
        let t: String = s.trim().chars().map(halfwidth_digit).collect();
        let t = t
            .strip_prefix("中華民國")
            .or_else(|| t.strip_prefix("民國"))
            .unwrap_or(&t);
        let nums: Vec<&str> = if t.contains('年') {
            let (y, rest) = t.split_once('年').ok_or_else(bad)?;
            let (m, rest) = rest.split_once('月').ok_or_else(bad)?;
            let d = rest.strip_suffix('日').ok_or_else(bad)?;
            vec![y, m, d]
        } else {
            t.split(['/', '.', '-']).collect()
        };
        if nums.len() != 3
            || nums
                .iter()
                .any(|n| n.is_empty() || n.len() > 4 || !n.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        let y: u16 = nums[0].parse().map_err(|_| bad())?;
        let m: u8 = nums[1].parse().map_err(|_| bad())?;
        let d: u8 = nums[2].parse().map_err(|_| bad())?;
        RocDate::new(y, m, d)
    }

    /// 星期 as printed on meeting notices: 星期一 … 星期日.
    pub fn weekday(&self) -> &'static str {
        // Zeller-free: days since 1970-01-01 (a Thursday).
        let days = days_from_civil(self.gregorian_year(), self.month, self.day);
        [
            "星期四",
            "星期五",
            "星期六",
            "星期日",
            "星期一",
            "星期二",
            "星期三",
        ][days.rem_euclid(7) as usize]
    }

    /// The date in Asia/Taipei (UTC+8 all year; Taiwan has had no daylight saving since 1979)
    /// for seconds since the Unix epoch.
    pub fn from_unix_taipei(secs: i64) -> Result<Self, ValueError> {
        let days = (secs + 8 * 3600).div_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        RocDate::from_gregorian(y, m, d)
    }
}

impl fmt::Display for RocDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "中華民國{}年{}月{}日", self.year, self.month, self.day)
    }
}

impl TryFrom<String> for RocDate {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        RocDate::parse(&s)
    }
}

impl From<RocDate> for String {
    fn from(d: RocDate) -> String {
        d.to_string()
    }
}

fn halfwidth_digit(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        '／' => '/',
        _ => c,
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 (H. Hinnant's algorithm).
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// 發文字號: 發文代字 + ROC year + 7-digit serial (+ 支號), or free text for numbers that do
/// not follow the pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DocNumber {
    Structured {
        /// 發文代字, e.g. `府資字`.
        word: String,
        /// ROC year (年度), written with 3 digits.
        year: u16,
        /// 流水號, written with 7 digits; restarts every year.
        serial: u32,
        /// 支號, when one case produces several documents.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        branch: Option<String>,
    },
    Text(String),
}

impl DocNumber {
    pub fn structured(word: &str, year: u16, serial: u32) -> Result<Self, ValueError> {
        let n = DocNumber::Structured {
            word: word.to_string(),
            year,
            serial,
            branch: None,
        };
        n.check()?;
        Ok(n)
    }

    /// Parses the printed form `府資字第1150001234號`; anything else is kept as free text.
    pub fn parse_display(s: &str) -> DocNumber {
        let t = s.trim();
        if let Some((word, rest)) = t.split_once('第')
            && let Some(digits) = rest.strip_suffix('號')
            && digits.len() == 10
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !word.is_empty()
            && let (Ok(year), Ok(serial)) = (digits[..3].parse(), digits[3..].parse())
        {
            return DocNumber::Structured {
                word: word.to_string(),
                year,
                serial,
                branch: None,
            };
        }
        DocNumber::Text(t.to_string())
    }

    /// Checks the rules of the structured form.
    pub fn check(&self) -> Result<(), ValueError> {
        match self {
            DocNumber::Structured {
                word,
                year,
                serial,
                branch,
            } => {
                if word.trim().is_empty() {
                    return Err(ValueError::new("發文代字不可空白"));
                }
                if *year == 0 || *year > 999 {
                    return Err(ValueError::new(format!("文號年度 {year} 應為 1–999")));
                }
                if *serial > 9_999_999 {
                    return Err(ValueError::new(format!("流水號 {serial} 超過 7 位數")));
                }
                if let Some(b) = branch
                    && (b.is_empty()
                        || b.len() > 4
                        || !b.bytes().all(|c| c.is_ascii_alphanumeric()))
                {
                    return Err(ValueError::new(format!("支號「{b}」應為 1–4 碼英數字")));
                }
                Ok(())
            }
            // Blank while a draft waits for its number: valid, not ready to exchange.
            DocNumber::Text(_) => Ok(()),
        }
    }

    /// A draft's 發文字號 not yet given (`<文字/>`).
    pub fn is_blank(&self) -> bool {
        matches!(self, DocNumber::Text(t) if t.trim().is_empty())
    }

    /// `年度` + `流水號` (+ 支號): the base name of the document's files, e.g. `1150001234`.
    pub fn file_base(&self) -> Option<String> {
        match self {
            DocNumber::Structured {
                year,
                serial,
                branch,
                ..
            } => Some(format!(
                "{year:03}{serial:07}{}",
                branch.as_deref().unwrap_or("")
            )),
            DocNumber::Text(_) => None,
        }
    }
}

impl fmt::Display for DocNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocNumber::Structured {
                word,
                year,
                serial,
                branch,
            } => write!(
                f,
                "{word}第{year:03}{serial:07}{}號",
                branch.as_deref().unwrap_or("")
            ),
            DocNumber::Text(t) => f.write_str(t),
        }
    }
}

/// Defines a closed code list: the enum, its 代碼 text, parsing with a zh-TW error, and serde
/// as the Chinese text (which is what drafts and APIs show).
macro_rules! code_list {
    ($(#[$m:meta])* $name:ident, $label:literal { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
            pub fn parse(s: &str) -> Result<Self, ValueError> {
                match s.trim() {
                    $($s => Ok($name::$v),)+
                    other => Err(ValueError::new(format!(
                        concat!($label, "「{}」不在允許的代碼內（{}）"),
                        other,
                        [$($s),+].join("、")
                    ))),
                }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, ValueError> { Self::parse(&s) }
        }
        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str { v.as_str() }
        }
    };
}

code_list!(
    /// 速別.
    Urgency, "速別" {
        Normal = "普通件",
        Urgent = "速件",
        MostUrgent = "最速件",
    }
);

impl Urgency {
    /// Working days allowed to process a document of this urgency (最速件 1, 速件 3, 普通件 6).
    pub fn processing_days(self) -> u32 {
        match self {
            Urgency::MostUrgent => 1,
            Urgency::Urgent => 3,
            Urgency::Normal => 6,
        }
    }
}

code_list!(
    /// 密等. Classified documents are never exchanged electronically.
    Classification, "密等" {
        Restricted = "密",
        Confidential = "機密",
        Secret = "極機密",
        TopSecret = "絕對機密",
    }
);

code_list!(
    /// 收發處理本別.
    CopyKind, "收發處理本別" {
        Primary = "正本",
        Copy = "副本",
        Transcript = "抄本",
        Photocopy = "影本",
        Translation = "譯本",
        DraftCopy = "稿本",
        Draft = "草稿",
        FinalDraft = "定稿",
        BaseDrawing = "底圖",
        Blueprint = "藍圖",
    }
);

code_list!(
    /// 函類別 (a 書函 is a 函 with 函類別 書函).
    LetterClass, "函類別" {
        Letter = "函",
        Note = "書函",
        AssignedCaseNotice = "交辦案件通知單",
        ReferredCaseNotice = "交議案件通知單",
        ReminderNotice = "催辦案件通知單",
        TransferSlip = "移文單",
        ClassificationChangeProposal = "機密文書機密等級變更或註銷建議單",
        ClassificationChangeNotice = "機密文書機密等級變更或註銷通知單",
        EnforcementOrder = "執行命令",
        RewardProposal = "獎懲建議函",
    }
);

code_list!(
    /// 令類別.
    OrderClass, "令類別" {
        Order = "令",
        RewardOrder = "獎懲令",
    }
);

code_list!(
    /// 擬辦方式 of a 簽 (vendor mapping of the codes 1–6).
    ProposalMethod, "擬辦方式" {
        MemoThenDraft = "1",
        MemoWithDraft = "2",
        DraftAsMemo = "3",
        TwoDrafts = "4",
        SeveralDrafts = "5",
        Other = "6",
    }
);

impl ProposalMethod {
    /// The name people use (vendor mapping; code 6 has no public name).
    pub fn label(self) -> &'static str {
        match self {
            ProposalMethod::MemoThenDraft => "先簽後稿",
            ProposalMethod::MemoWithDraft => "簽稿併陳",
            ProposalMethod::DraftAsMemo => "以稿代簽",
            ProposalMethod::TwoDrafts => "雙稿",
            ProposalMethod::SeveralDrafts => "多稿",
            ProposalMethod::Other => "其他",
        }
    }
}

/// 含附件 / 不含附件 on a 副本 entry, an addressee or an SW entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AttachmentFlag {
    #[serde(rename = "含附件")]
    With,
    #[serde(rename = "不含附件")]
    Without,
}

impl AttachmentFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentFlag::With => "含附件",
            AttachmentFlag::Without => "不含附件",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        match s.trim() {
            "含附件" => Ok(AttachmentFlag::With),
            "不含附件" => Ok(AttachmentFlag::Without),
            other => Err(ValueError::new(format!(
                "含附件的值「{other}」應為「含附件」或「不含附件」"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_dates_both_ways() {
        let d = RocDate::parse("中華民國115年1月5日").unwrap();
        assert_eq!((d.year, d.month, d.day), (115, 1, 5));
        assert_eq!(d.to_string(), "中華民國115年1月5日");
        assert_eq!(d.gregorian_year(), 2026);
        assert_eq!(RocDate::parse("民國１１５年１月５日").unwrap(), d);
        assert_eq!(RocDate::parse("115/01/05").unwrap(), d);
        assert_eq!(RocDate::from_gregorian(2026, 1, 5).unwrap(), d);
        assert_eq!(d.weekday(), "星期一");
        assert!(RocDate::parse("中華民國115年2月29日").is_err());
        assert!(RocDate::parse("中華民國113年2月29日").is_ok());
        assert!(RocDate::parse("115年13月1日").is_err());
        assert!(RocDate::parse("明天").is_err());
        // 2026-11-24 00:30 Taipei is 2026-11-23 16:30 UTC.
        let d = RocDate::from_unix_taipei(1_795_451_400).unwrap();
        assert_eq!(d.to_string(), "中華民國115年11月24日");
    }

    #[test]
    fn doc_numbers() {
        let n = DocNumber::structured("府資字", 115, 1234).unwrap();
        assert_eq!(n.to_string(), "府資字第1150001234號");
        assert_eq!(DocNumber::parse_display("府資字第1150001234號"), n);
        assert_eq!(n.file_base().unwrap(), "1150001234");
        assert!(matches!(
            DocNumber::parse_display("臨時字第一號"),
            DocNumber::Text(_)
        ));
        assert!(DocNumber::structured("府資字", 115, 10_000_000).is_err());
    }

    #[test]
    fn codes() {
        assert!(AgencyCode::parse("200000000A").is_ok());
        assert!(AgencyCode::parse("XA12345678").is_ok());
        assert!(AgencyCode::parse("20000000a").is_err());
        assert!(UnitCode::parse("ABC0001").is_ok());
        assert!(UnitCode::parse("AB").is_err());
        assert_eq!(Urgency::parse("最速件").unwrap(), Urgency::MostUrgent);
        let e = Urgency::parse("特急件").unwrap_err();
        assert!(e.message.contains("特急件"), "{e}");
    }
}
