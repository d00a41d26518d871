//! 發文選項: what a sender adds to a package beyond its documents — 立即確認 (涉及重大權益) and
//! a typed resend (更正、錯發、重送) of one of the agency's own earlier sends.
//!
//! In folder mode a set may carry them in `<DI 檔名>.options.toml` beside its DI (the API and
//! the web client write the same file into their staged sets, so a set resent after a restart
//! keeps them):
//!
//! ```toml
//! "立即確認" = true
//! "重發類別" = "本文修正"            # 本文修正、附件修正、本文附件修正、錯發、重送
//! "原發文" = "府資字第1150001234號"  # 原發文字號，或原封包 id（32 個十六進位字）
//! ```

use std::path::{Path, PathBuf};

use crate::AgentError;
use gongwen_net::Refusal;
use gongwen_proto::{Code, HeaderOptions, Resend, ResendKind};
use gongwen_store::{Db, StoreError};
use serde::{Deserialize, Serialize};

/// The file name suffix of a set's options.
pub const SUFFIX: &str = ".options.toml";

/// Where a DI's options are: `<DI 檔名>.options.toml` beside it.
pub fn path_beside(di: &Path) -> PathBuf {
    let stem = di
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    di.with_file_name(format!("{stem}{SUFFIX}"))
}

/// At most this many bytes: three short fields.
const MAX_BYTES: u64 = 4096;

/// A send's options as the sender wrote them; [`SendOptions::header_options`] resolves the
/// original of a resend among the agency's own sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendOptions {
    #[serde(
        rename = "立即確認",
        default,
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub confirm_now: bool,
    #[serde(rename = "重發類別", default, skip_serializing_if = "Option::is_none")]
    pub resend_kind: Option<String>,
    /// The original's 發文字號 as printed, or its package id.
    #[serde(rename = "原發文", default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
}

impl SendOptions {
    /// From form or API fields: `confirm_now` (true/1/on), `resend_kind` (a label),
    /// `resend_of` (發文字號 or package id). Empty fields are absent.
    pub fn from_fields(
        confirm_now: &str,
        resend_kind: &str,
        resend_of: &str,
    ) -> Result<Self, String> {
        let confirm_now = match confirm_now.trim() {
            "" | "false" | "0" | "off" => false,
            "true" | "1" | "on" => true,
            other => return Err(format!("立即確認「{other}」應為 true 或 false")),
        };
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let o = SendOptions {
            confirm_now,
            resend_kind: some(resend_kind),
            original: some(resend_of),
        };
        o.check()?;
        Ok(o)
    }

    /// Reads a set's options file.
    pub fn read(path: &Path) -> Result<Self, String> {
        let meta = std::fs::metadata(path).map_err(|e| format!("選項檔無法讀取：{e}"))?;
        if meta.len() > MAX_BYTES {
            return Err(format!("選項檔超過 {MAX_BYTES} 位元組"));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("選項檔無法讀取：{e}"))?;
        let o: SendOptions = toml::from_str(&text).map_err(|e| {
            format!(
                "選項檔有誤（可用的欄位：立即確認、重發類別、原發文）：{}",
                e.message()
            )
        })?;
        o.check()?;
        Ok(o)
    }

    pub fn is_empty(&self) -> bool {
        *self == SendOptions::default()
    }

    fn check(&self) -> Result<(), String> {
        if let Some(k) = &self.resend_kind {
            ResendKind::parse(k)?;
        }
        match (&self.resend_kind, &self.original) {
            (Some(_), None) => Err("重發須指明原發文（原發文字號或封包 id）".into()),
            (None, Some(_)) => Err(format!(
                "指明了原發文，請也選重發類別：{}",
                ResendKind::ALL.map(|k| k.label()).join("、")
            )),
            (_, Some(o)) if o.chars().count() > 100 => Err("原發文超過 100 字".into()),
            _ => Ok(()),
        }
    }

    /// The header options, with the original found among `agency`'s own sends (by package id
    /// or by 發文字號, the latest send with that number). An original the agency never sent is
    /// refused here, before anything is sealed.
    pub async fn header_options(&self, db: &Db, agency: &str) -> Result<HeaderOptions, AgentError> {
        let refused = |m: String| AgentError::Refused(Refusal::new(Code::AgentDocument, m));
        let resend = match (&self.resend_kind, &self.original) {
            (Some(kind), Some(original)) => {
                let kind = ResendKind::parse(kind).map_err(refused)?;
                let row = db
                    .fetch_optional(
                        "SELECT package_id FROM agent_sent WHERE agency = $1 AND (package_id = $2 OR doc_number = $2) \
                         AND state = 'submitted' ORDER BY created_at DESC LIMIT 1",
                        &[agency.into(), original.as_str().into()],
                    )
                    .await?;
                let id = row.map(|r| r.text(0)).transpose()?.ok_or_else(|| {
                    refused(format!(
                        "原發文「{original}」不是本機關已送達交換中心的發文，無法重發"
                    ))
                })?;
                Some(Resend { kind, original: id })
            }
            _ => None,
        };
        Ok(HeaderOptions {
            confirm_now: self.confirm_now,
            resend,
            groups: Vec::new(),
        })
    }
}

/// One of the agency's own sends that a resend may name.
#[derive(Debug, Clone)]
pub struct Original {
    pub package_id: String,
    pub doc_number: String,
    pub subject: String,
}

/// The agency's latest sends the center has, newest first: what the web client offers to
/// correct or resend.
pub async fn recent_originals(
    db: &Db,
    agency: &str,
    limit: i64,
) -> Result<Vec<Original>, StoreError> {
    let rows = db
        .fetch_all(
            "SELECT package_id, doc_number, subject FROM agent_sent WHERE agency = $1 AND state = 'submitted' \
             ORDER BY created_at DESC LIMIT $2",
            &[agency.into(), limit.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Original {
                package_id: r.text(0)?,
                doc_number: r.opt_text(1)?.unwrap_or_default(),
                subject: r.opt_text(2)?.unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_with_messages_that_name_them() {
        assert!(SendOptions::from_fields("", "", "").unwrap().is_empty());
        let o = SendOptions::from_fields("on", "本文修正", "府資字第1150001234號").unwrap();
        assert!(o.confirm_now);
        assert_eq!(o.resend_kind.as_deref(), Some("本文修正"));
        for ((confirm, kind, of), named) in [
            (("maybe", "", ""), "立即確認"),
            (("", "改正", "x"), "重發類別"),
            (("", "重送", ""), "原發文"),
            (("", "", "x"), "重發類別"),
        ] {
            let e = SendOptions::from_fields(confirm, kind, of).unwrap_err();
            assert!(e.contains(named), "{e}");
        }
    }

    #[test]
    fn the_file_round_trips_and_refuses_unknown_fields() {
        let dir = std::env::temp_dir().join(format!("gongwen-options-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let o =
            SendOptions::from_fields("true", "錯發", "0123456789abcdef0123456789abcdef").unwrap();
        let mut set = crate::folder::OutboxSet {
            name: "1150000001".into(),
            di: dir.join("1150000001.di"),
            ..Default::default()
        };
        set.attach_options(&o).unwrap();
        let path = set.options.clone().unwrap();
        assert_eq!(path, dir.join("1150000001.options.toml"));
        assert_eq!(SendOptions::read(&path).unwrap(), o);
        std::fs::write(&path, "\"立即確認\" = true\n\"重要\" = 1\n").unwrap();
        assert!(SendOptions::read(&path).unwrap_err().contains("可用的欄位"));
        std::fs::write(&path, "\"立即確認\" = \"是\"\n").unwrap();
        assert!(SendOptions::read(&path).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
