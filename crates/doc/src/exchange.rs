//! Ready to exchange: what sealing, the agent and the center require of a valid document.
//!
//! The official DTDs let a draft leave 發文日期 and 發文字號 blank (`<年月日/>`, `<文字/>`,
//! a 簽's empty 年度 and 流水號): 公文製作 modules write such files for the document system to
//! complete at 發文. `gongwen doc check` accepts them with a note; sending needs them filled in,
//! and never sends a classified document. Each rule names its source.

use crate::error::{Problem, ProblemKind};
use crate::model::{Document, Memo};

/// The problems that keep a valid document from being exchanged; empty when it is ready.
pub fn exchange_problems(doc: &Document) -> Vec<Problem> {
    let root = format!("/{}", doc.kind().root());
    let mut out = Vec::new();
    let mut not_ready = |path: String, message: &str| {
        out.push(Problem::new(ProblemKind::Exchange, path, message));
    };
    // The package header and the receipts carry 發文字號 and the receiver files by 發文日期
    // (FORMATS.md「Package header」; 文書處理手冊「發文」: 發文時填發文日期、編發文字號).
    if doc.date().is_none() {
        let path = match doc {
            Document::Memo(_) => format!("{root}/年月日"),
            _ => format!("{root}/發文日期/年月日"),
        };
        not_ready(path, "日期空白（草稿可留白），電子交換前須填入");
    }
    match doc {
        Document::Memo(Memo { number: None, .. }) => not_ready(
            format!("{root}/文號"),
            "文號的年度或流水號空白（草稿可留白），電子交換前須編號",
        ),
        Document::Memo(_) => {}
        _ if !doc.numbers().is_empty() && doc.numbers().iter().all(|n| !n.is_blank()) => {}
        _ => not_ready(
            format!("{root}/發文字號"),
            "發文字號空白（草稿可留白），電子交換前須編號",
        ),
    }
    // 臺北市政府公文電子交換作業要點第六點：機密性文書暫不適用電子交換。
    if let Some(s) = doc.secrecy() {
        not_ready(
            format!("{root}/密等及解密條件或保密期限"),
            &format!(
                "密等為「{}」：機密文書不得電子交換（公文電子交換作業要點第六點）",
                s.level.as_str()
            ),
        );
    }
    out
}
