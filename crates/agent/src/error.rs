//! What goes wrong in the agent's rounds and requests, with its cause kept and its code from
//! the one list (`gongwen_proto::Code`). Displayed in zh-TW for logs, `原因.txt` and answers.

use std::path::PathBuf;

use gongwen_client::ClientError;
use gongwen_net::Refusal;
use gongwen_proto::Code;
use gongwen_store::StoreError;
use gongwen_trust::TrustError;

#[derive(Debug)]
pub enum AgentError {
    /// The center could not be reached: a round stops there rather than try every set
    /// against a center that is down.
    Unreachable(ClientError),
    /// A call to the center or a webhook that failed: what it was for, and the answer.
    Remote {
        what: String,
        source: ClientError,
    },
    Store(StoreError),
    /// A file of the agent's own.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Opening, checking or signing: what it was about, and why not.
    Trust {
        what: String,
        source: TrustError,
    },
    /// A DI that is not one.
    Di(gongwen_doc::DocError),
    /// The scanner cannot be asked or answered nonsense: nothing passes unscanned.
    Scanner {
        clamd: String,
        source: std::io::Error,
    },
    /// A download that does not check out (another package, another digest): not kept.
    Download(String),
    /// What was asked is wrong, as the refusal says.
    Refused(Refusal),
}

impl AgentError {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> AgentError {
        let path = path.into();
        move |source| AgentError::Io { path, source }
    }

    pub fn trust(what: impl Into<String>) -> impl FnOnce(TrustError) -> AgentError {
        let what = what.into();
        move |source| AgentError::Trust { what, source }
    }

    pub fn remote(what: impl Into<String>) -> impl FnOnce(ClientError) -> AgentError {
        let what = what.into();
        move |source| AgentError::Remote { what, source }
    }

    pub fn code(&self) -> Code {
        match self {
            AgentError::Unreachable(_) | AgentError::Scanner { .. } => Code::Unavailable,
            AgentError::Remote { source, .. } => center_code(source),
            AgentError::Store(e) => gongwen_net::store_code(e),
            AgentError::Io { .. } | AgentError::Trust { .. } => Code::Internal,
            AgentError::Di(_) => Code::AgentDocument,
            AgentError::Download(_) => Code::BodyCorrupt,
            AgentError::Refused(r) => r.code,
        }
    }
}

/// The code of a center's answer: its own, or what kind of failure it was.
pub(crate) fn center_code(e: &ClientError) -> Code {
    e.code().and_then(Code::parse).unwrap_or(if refused(e) {
        Code::BadRequest
    } else {
        Code::Unavailable
    })
}

/// Is this a refusal (the center read the request and said no), not a failure to reach it?
pub(crate) fn refused(e: &ClientError) -> bool {
    e.status().is_some_and(|s| (400..500).contains(&s))
}

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentError::Unreachable(e) => write!(f, "交換中心無法連線：{e}"),
            AgentError::Remote { what, source } => write!(f, "{what}：{source}"),
            AgentError::Store(e) => e.fmt(f),
            AgentError::Io { path, source } => write!(f, "{}：{source}", path.display()),
            AgentError::Trust { what, source } if what.is_empty() => source.fmt(f),
            AgentError::Trust { what, source } => write!(f, "{what}：{source}"),
            AgentError::Di(e) => write!(f, "DI 有誤：{e}"),
            AgentError::Scanner { clamd, source } => {
                write!(f, "防毒掃描（clamd {clamd}）失敗：{source}")
            }
            AgentError::Download(why) => f.write_str(why),
            AgentError::Refused(r) => f.write_str(&r.detail),
        }
    }
}

impl std::error::Error for AgentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AgentError::Unreachable(e) | AgentError::Remote { source: e, .. } => Some(e),
            AgentError::Store(e) => Some(e),
            AgentError::Io { source, .. } | AgentError::Scanner { source, .. } => Some(source),
            AgentError::Trust { source, .. } => Some(source),
            AgentError::Di(e) => Some(e),
            AgentError::Refused(r) => Some(r),
            AgentError::Download(_) => None,
        }
    }
}

impl From<StoreError> for AgentError {
    fn from(e: StoreError) -> Self {
        AgentError::Store(e)
    }
}

impl From<Refusal> for AgentError {
    fn from(r: Refusal) -> Self {
        AgentError::Refused(r)
    }
}

impl From<AgentError> for Refusal {
    fn from(e: AgentError) -> Self {
        match e {
            // Logged under an incident number where the caller may not read it.
            AgentError::Store(e) => Refusal::from(e),
            AgentError::Refused(r) => r,
            e => Refusal::new(e.code(), e.to_string()),
        }
    }
}
