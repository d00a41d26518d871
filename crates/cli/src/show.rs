//! The document as a person reads it, as terminal text (`gongwen doc show`).

use gongwen_doc::*;

/// A DI as the printed document reads, line by line (the same blocks as the PDF and HTML).
pub fn document(di: &Di) -> String {
    gongwen_render::render_text(di)
}

pub fn roster(r: &Roster) -> String {
    let mut o = format!("交換表單（{} 個電子受文者）\n", r.entries.len());
    for (i, e) in r.entries.iter().enumerate() {
        let flag = e.attachments.map(|f| f.as_str()).unwrap_or("");
        o.push_str(&format!(
            "{:>3}. [{}] {} {} {}\n",
            i + 1,
            e.copy_kind,
            e.party.agency_code(),
            e.party.display_name(),
            flag
        ));
    }
    o
}
