//! Wire types shared by the servers and their clients: the package header the centers route
//! on, the life of a copy, the HTTP API's requests and answers, and its error codes.
//!
//! Nothing here does I/O; every parse returns a typed error.

/// A fieldless enum's variants listed once with their code word and zh-TW label: `ALL`,
/// `as_str`, `label`, and with `parse words` or `parse words_or_labels` a `parse` that reads
/// the word (or the label too) back. Exported for the services' own enums of the same kind.
#[macro_export]
macro_rules! words {
    ($t:ident $(, parse $how:ident)? { $($v:ident => $word:literal, $label:literal;)* }) => {
        impl $t {
            pub const ALL: [$t; [$($word),*].len()] = [$($t::$v),*];

            pub fn as_str(self) -> &'static str {
                match self { $($t::$v => $word,)* }
            }

            /// What a clerk calls it.
            pub fn label(self) -> &'static str {
                match self { $($t::$v => $label,)* }
            }

            $($crate::words!(@parse $how);)?
        }
    };
    (@parse words) => {
        pub fn parse(s: &str) -> Option<Self> {
            Self::ALL.into_iter().find(|k| k.as_str() == s)
        }
    };
    (@parse words_or_labels) => {
        /// By its code word or its zh-TW label.
        pub fn parse(s: &str) -> Option<Self> {
            Self::ALL.into_iter().find(|k| k.as_str() == s || k.label() == s)
        }
    };
}

/// An enum whose variants travel as their zh-TW labels (serde names them so): `ALL`, `label`,
/// and `parse`, whose error names `$what` and the accepted labels.
macro_rules! labelled {
    (
        $(#[$m:meta])*
        pub enum $t:ident ($what:literal) { $($v:ident => $label:tt,)* }
    ) => {
        $(#[$m])*
        pub enum $t { $(#[serde(rename = $label)] $v,)* }

        impl $t {
            pub const ALL: [$t; [$($label),*].len()] = [$($t::$v),*];

            pub fn label(self) -> &'static str {
                match self { $($t::$v => $label,)* }
            }

            /// Reads the label; the error names the accepted ones.
            pub fn parse(s: &str) -> Result<Self, String> {
                Self::ALL.into_iter().find(|r| r.label() == s.trim()).ok_or_else(|| {
                    let all = Self::ALL.map(|r| r.label()).join("、");
                    format!("{}「{s}」不認得，應為：{all}", $what)
                })
            }
        }
    };
}

pub mod agent;
pub mod api;
pub mod csv;
pub mod directory;
pub mod error;
pub mod header;
pub mod office;
pub mod openapi;
pub mod status;

pub use error::{ApiError, Code};
pub use header::{
    FileEntry, FileRole, HeaderOptions, HeaderRecipient, PackageHeader, Resend, ResendKind,
};
pub use status::{CopyStatus, FailReason, ReturnReason};
