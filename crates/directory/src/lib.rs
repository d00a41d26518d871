//! The management layer (管理層): who may exchange, through which center, with which
//! certificates and from which addresses. Built up issue by issue; see `docs/design/directory.md`
//! for the rules it follows.

pub mod audit;
