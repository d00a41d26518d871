//! `gongwen-doc`: the 公文 formats.
//!
//! - [`xml`]: a bounded XML reader and writer (no I/O, no entity expansion, no fetching).
//! - [`dtd`]: the official 104 DTDs built in, and a validator that agrees with `xmllint --valid`.
//! - [`model`]: 函 (all 函類別), 簽, 令, 公告, 開會通知單, 會勘通知單 and the SW (交換表單).
//! - [`values`]: 機關代碼, 單位代碼, 發文字號, ROC dates, 速別, 密等, 收發處理本別 …
//!
//! This crate does no I/O and never panics on input: every read returns a typed [`DocError`].

pub mod draft;
pub mod dtd;
pub mod error;
mod exchange;
pub mod model;
pub mod values;
pub mod xml;

pub use error::{DocError, Problem, ProblemKind, ValueError, io_message};
pub use exchange::exchange_problems;
pub use model::*;
pub use values::*;

mod codec;
pub use codec::{
    Checked, Parsed, check, read_di, read_roster, safe_file_name, split_per_recipient, write_di,
    write_roster,
};
