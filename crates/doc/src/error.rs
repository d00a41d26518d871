//! Errors of the document layer. Every error has a stable code (listed in `docs/errors.md`) and a
//! zh-TW message that names what is wrong; none of them is ever a panic.

use std::fmt;

/// Why a file could not be read as a 公文 at all (the `doc check` exit code 2 family), or the list
/// of rule problems found in an otherwise readable file ([`DocError::Invalid`]).
#[derive(Debug, Clone, PartialEq)]
pub enum DocError {
    /// The file or one of its parts is larger than the reader accepts.
    TooLarge { what: &'static str, limit: usize },
    /// Elements nest deeper than the reader accepts.
    TooDeep { limit: usize },
    /// More elements, attributes or declarations than the reader accepts.
    TooMany { what: &'static str, limit: usize },
    /// Bytes that are not valid in the declared encoding, or an encoding we do not read.
    Encoding { detail: String },
    /// Not well-formed XML.
    Malformed {
        line: u32,
        column: u32,
        detail: String,
    },
    /// An entity we refuse to expand or fetch (external, parameter or user-defined).
    Entity { name: String, detail: String },
    /// A declaration in the DOCTYPE that cannot be read, or a DTD we do not have.
    Dtd { detail: String },
    /// The root element is not a 文別 we know.
    UnknownKind { root: String },
    /// Readable, but breaks the DTD or a value rule: every problem found.
    Invalid(Vec<Problem>),
}

impl DocError {
    pub fn code(&self) -> &'static str {
        match self {
            DocError::TooLarge { .. } => "E_DOC_TOO_LARGE",
            DocError::TooDeep { .. } => "E_DOC_TOO_DEEP",
            DocError::TooMany { .. } => "E_DOC_TOO_MANY",
            DocError::Encoding { .. } => "E_DOC_ENCODING",
            DocError::Malformed { .. } => "E_DOC_MALFORMED",
            DocError::Entity { .. } => "E_DOC_ENTITY",
            DocError::Dtd { .. } => "E_DOC_DTD",
            DocError::UnknownKind { .. } => "E_DOC_UNKNOWN_KIND",
            DocError::Invalid(_) => "E_DOC_INVALID",
        }
    }

    /// True when the file could not be read at all (as opposed to read and found invalid).
    pub fn is_fatal(&self) -> bool {
        !matches!(self, DocError::Invalid(_))
    }
}

impl fmt::Display for DocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocError::TooLarge { what, limit } => {
                write!(f, "{what}過大，超過上限 {limit} 位元組")
            }
            DocError::TooDeep { limit } => write!(f, "元素巢狀層數超過上限 {limit} 層"),
            DocError::TooMany { what, limit } => write!(f, "{what}數量超過上限 {limit} 個"),
            DocError::Encoding { detail } => write!(f, "編碼錯誤：{detail}"),
            DocError::Malformed {
                line,
                column,
                detail,
            } => write!(f, "XML 格式錯誤（第 {line} 行第 {column} 字）：{detail}"),
            DocError::Entity { name, detail } => write!(f, "拒絕實體「{name}」：{detail}"),
            DocError::Dtd { detail } => write!(f, "DTD 錯誤：{detail}"),
            DocError::UnknownKind { root } => {
                write!(f, "不認得的文別：根元素為〈{root}〉")
            }
            DocError::Invalid(problems) => {
                write!(f, "文件不符規定，共 {} 個問題", problems.len())?;
                for p in problems.iter().take(5) {
                    write!(f, "；{p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for DocError {}

/// Which rule a problem breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// The content models, attributes or entities of the DTD (what xmllint checks).
    Dtd,
    /// A value rule: 機關代碼, dates, document numbers, closed code lists …
    Value,
    /// A file the document refers to (its SW, an attachment) is missing or does not fit.
    Reference,
    /// Valid, but not ready to exchange: a blank 發文日期 or 發文字號, a classified document.
    /// A note when checking a file, an error when sealing one ([`crate::exchange_problems`]).
    Exchange,
    /// Valid and exchangeable, but left for later by a draft (an empty 署名): a note only.
    Draft,
}

impl ProblemKind {
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::Dtd => "E_DOC_INVALID",
            ProblemKind::Value => "E_DOC_VALUE",
            ProblemKind::Reference => "E_DOC_REFERENCE",
            ProblemKind::Exchange => "E_DOC_NOT_READY",
            ProblemKind::Draft => "N_DOC_DRAFT",
        }
    }
}

/// One problem, located by an element path such as `/函/段落[2]/條列[1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub path: String,
    /// zh-TW, names the element or value at fault.
    pub message: String,
}

impl Problem {
    pub fn new(kind: ProblemKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            kind,
            path: path.into(),
            message: message.into(),
        }
    }

    /// A problem of kind [`ProblemKind::Value`].
    pub fn value(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem::new(ProblemKind::Value, path, message)
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}：{}", self.code(), self.path, self.message)
    }
}

/// A value that breaks its rule (a malformed 機關代碼, an impossible date …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// zh-TW.
    pub message: String,
}

impl ValueError {
    pub fn new(message: impl Into<String>) -> Self {
        ValueError {
            message: message.into(),
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueError {}

/// What went wrong with a file, in the words the messages use (找不到檔案, 沒有權限 …).
/// Shared by every crate that reads or writes files, so people see one wording.
pub fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "找不到檔案".to_string(),
        std::io::ErrorKind::PermissionDenied => "沒有權限".to_string(),
        _ => e.to_string(),
    }
}
