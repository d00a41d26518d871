//! The DTDs that define DI and SW files, built into the crate, and the validator that enforces
//! them the way `xmllint --valid` does.
//!
//! The official files (函 `104_2`, 簽 `104_5`, 交換表單 `104_roster`, and their two entity sets) are
//! kept byte-for-byte in `dtd/official/`. The other 文別 have no public DTD; the files in
//! `dtd/vendor-observed/` write down the order seen in a commercial converter and say so.

mod decl;
mod model;
mod validate;

use std::sync::OnceLock;

pub use decl::{Dtd, EntityDecl};
pub use model::{AttrDecl, AttrDefault, AttrType, ContentSpec, Cp, Occ, Particle};
pub use validate::Declarations;

use decl::Source;

/// `(file name, text, official?)` for each file of a directory of `dtd/`.
macro_rules! dtd_files {
    ($($dir:literal, $official:literal: [$($name:literal),+];)+) => {
        &[$($(($name, include_str!(concat!("../../dtd/", $dir, "/", $name)), $official)),+),+]
    };
}

/// Every DTD file the crate carries: (bare file name, text, official?).
const FILES: &[(&str, &str, bool)] = dtd_files!(
    "official", true: [
        "104_2_utf8.dtd",
        "104_5_utf8.dtd",
        "104_roster_utf8.dtd",
        "104_basic_utf8.ent",
        "104_exchange_utf8.ent"
    ];
    "vendor-observed", false: ["104_1_utf8.dtd", "104_3_utf8.dtd", "104_4_utf8.dtd", "104_B_utf8.dtd"];
);

/// The DTD files that a root element is declared in, for writing and for the root lookup.
const ROOTS: &[(&str, &str)] = &[
    ("函", "104_2_utf8.dtd"),
    ("簽", "104_5_utf8.dtd"),
    ("交換表單", "104_roster_utf8.dtd"),
    ("令", "104_1_utf8.dtd"),
    ("公告", "104_3_utf8.dtd"),
    ("開會通知單", "104_4_utf8.dtd"),
    ("會勘通知單", "104_B_utf8.dtd"),
];

fn file_text(name: &str) -> Option<&'static str> {
    FILES.iter().find(|f| f.0 == name).map(|f| f.1)
}

/// The DTD file name written into the DOCTYPE of a document with this root element.
pub fn dtd_for_root(root: &str) -> Option<&'static str> {
    ROOTS.iter().find(|r| r.0 == root).map(|r| r.1)
}

/// Whether a built-in DTD file is one of the official published files.
pub fn is_official(file: &str) -> bool {
    FILES.iter().any(|f| f.0 == file && f.2)
}

/// The built-in DTD files, for tools that want to hand them to xmllint.
pub fn files() -> impl Iterator<Item = (&'static str, &'static str, bool)> {
    FILES.iter().copied()
}

/// Maps a DOCTYPE system identifier to a built-in DTD file name.
///
/// Only a bare file name is accepted (as the format requires). Legacy names such as
/// `99_2_big5.dtd` — whose text is not public — are read with the 104 DTD of the same kind.
fn resolve(system_id: &str) -> Option<&'static str> {
    if let Some(f) = FILES
        .iter()
        .find(|f| f.0 == system_id && f.0.ends_with(".dtd"))
    {
        return Some(f.0);
    }
    let stem = system_id.strip_suffix(".dtd")?;
    let mut parts = stem.split('_');
    let version = parts.next()?;
    let kind = parts.next()?;
    let enc = parts.next()?;
    if parts.next().is_some()
        || !matches!(version, "91" | "92" | "99")
        || !matches!(enc, "big5" | "utf8")
    {
        return None;
    }
    let modern = format!("104_{kind}_utf8.dtd");
    FILES.iter().find(|f| f.0 == modern).map(|f| f.0)
}

/// The parsed external DTD for a system identifier, built once per process.
pub fn external(system_id: &str) -> Option<&'static Dtd> {
    static CACHE: [OnceLock<Dtd>; 9] = [const { OnceLock::new() }; 9];
    let file = resolve(system_id)?;
    let idx = FILES.iter().position(|f| f.0 == file)?;
    Some(CACHE[idx].get_or_init(|| {
        let text = FILES[idx].1;
        // The built-in files are fixed at compile time and covered by tests, so this cannot fail
        // at run time; an empty DTD would only make every document invalid, never unsafe.
        Dtd::parse(text, &Source::Library(&file_text)).unwrap_or_default()
    }))
}

/// Parses a DI's internal subset. Parameter entity references are refused.
pub fn internal(subset: &str) -> Result<Dtd, crate::DocError> {
    Dtd::parse(subset, &Source::InternalSubset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_dtd_parses() {
        for (name, _) in ROOTS {
            let file = dtd_for_root(name).unwrap();
            let text = file_text(file).unwrap();
            let dtd = Dtd::parse(text, &Source::Library(&file_text)).unwrap();
            assert!(dtd.elements.contains_key(*name), "{file} declares {name}");
            assert!(dtd.elements.contains_key("年月日"));
            assert!(dtd.redeclared.is_empty(), "{file}: {:?}", dtd.redeclared);
        }
    }

    #[test]
    fn legacy_names_map_to_104() {
        assert_eq!(resolve("99_2_big5.dtd"), Some("104_2_utf8.dtd"));
        assert_eq!(resolve("104_2_utf8.dtd"), Some("104_2_utf8.dtd"));
        assert_eq!(resolve("http://x/104_2_utf8.dtd"), None);
        assert_eq!(resolve("104_basic_utf8.ent"), None);
    }

    #[test]
    fn content_model_text() {
        let dtd = external("104_2_utf8.dtd").unwrap();
        assert_eq!(
            dtd.elements["正本"].to_string(),
            "((姓名, 職稱?) | 全銜 | 單位名 | 總稱)+"
        );
        assert_eq!(dtd.elements["署名"].to_string(), "(#PCDATA)");
    }
}
