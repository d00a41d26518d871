//! What the document-management system and the local signer agree on: the first line of
//! every sign-off step, so the signer signs such a text and nothing else of the office's.

/// The first line of every signed sign-off step (線上簽核).
pub const STEP_HEAD: &str = "公文管理系統線上簽核";

/// The longest step text the signer signs: a step names every current version of the case's
/// documents, a comment and the decisions, never a document itself.
pub const MAX_STEP_BYTES: usize = 16 * 1024;
