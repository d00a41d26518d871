//! What the document-management system and the local signer agree on: the first line of
//! every sign-off step, so the signer signs such a text and nothing else of the office's.

/// The first line of every signed sign-off step (線上簽核).
pub const STEP_HEAD: &str = "公文管理系統線上簽核";

/// The longest step text the signer signs: a step names every current version of the case's
/// documents, a comment and the decisions, never a document itself.
pub const MAX_STEP_BYTES: usize = 16 * 1024;

/// A value on one line of a step (and a step on one line of a typed command): `\`, carriage
/// returns and line breaks written `\\`, `\r`, `\n`.
pub fn one_line(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\r', "\\r")
        .replace('\n', "\\n")
}

/// [`one_line`] read back. A backslash before anything else stays as it is.
pub fn from_one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_values_read_back_whole() {
        for s in [
            "a\nb",
            "C:\\path\r\nx",
            "\\n is not a line break",
            "end\\",
            "",
        ] {
            assert_eq!(from_one_line(&one_line(s)), s, "{s:?}");
            assert!(!one_line(s).contains('\n'));
        }
        assert_eq!(from_one_line(r"\t"), r"\t");
    }
}
