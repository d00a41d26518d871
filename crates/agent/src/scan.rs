//! Malware scanning with ClamAV's daemon (clamd), over its socket with the INSTREAM command:
//! the file is streamed in chunks, so its size does not matter to memory. clamd must allow the
//! largest attachment (`StreamMaxLength`, e.g. 300M). A scanner that cannot be reached is an
//! error, never a clean result: nothing is sent or released unscanned.

use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::AgentError;

/// What clamd said of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature's name, e.g. `Eicar-Test-Signature`.
    Infected(String),
}

const CHUNK: usize = 256 * 1024;

/// Where clamd listens: a unix socket path, or `host:port`.
#[derive(Debug, Clone)]
pub struct Clamd(pub String);

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

impl Clamd {
    async fn connect(&self) -> std::io::Result<Box<dyn Stream>> {
        if self.0.starts_with('/') {
            Ok(Box::new(tokio::net::UnixStream::connect(&self.0).await?))
        } else {
            Ok(Box::new(tokio::net::TcpStream::connect(&self.0).await?))
        }
    }

    /// Scans one file.
    pub async fn scan(&self, path: &Path) -> Result<Verdict, AgentError> {
        let fail = |source| AgentError::Scanner {
            clamd: self.0.clone(),
            source,
        };
        let timeout = |what: &str| fail(std::io::Error::new(std::io::ErrorKind::TimedOut, what));
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(AgentError::io(path))?;
        let mut s = tokio::time::timeout(std::time::Duration::from_secs(10), self.connect())
            .await
            .map_err(|_| timeout("連線逾時"))?
            .map_err(fail)?;
        s.write_all(b"zINSTREAM\0").await.map_err(fail)?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = file.read(&mut buf).await.map_err(AgentError::io(path))?;
            if n == 0 {
                break;
            }
            s.write_all(&(n as u32).to_be_bytes()).await.map_err(fail)?;
            s.write_all(&buf[..n]).await.map_err(fail)?;
        }
        s.write_all(&0u32.to_be_bytes()).await.map_err(fail)?;
        let mut reply = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(600),
            s.read_to_end(&mut reply),
        )
        .await
        .map_err(|_| timeout("逾時未回應"))?
        .map_err(fail)?;
        let reply = String::from_utf8_lossy(&reply);
        parse_reply(&reply).ok_or_else(|| {
            fail(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "回應無法判讀：{}",
                    reply.trim_end_matches(['\0', '\n']).trim()
                ),
            ))
        })
    }
}

/// `stream: OK`, `stream: <name> FOUND`, or `... ERROR` (none).
fn parse_reply(reply: &str) -> Option<Verdict> {
    let r = reply.trim_end_matches(['\0', '\n']).trim();
    let body = r.strip_prefix("stream:").map(str::trim).unwrap_or(r);
    if body == "OK" {
        Some(Verdict::Clean)
    } else {
        let name = body.strip_suffix("FOUND")?.trim();
        Some(Verdict::Infected(
            name.strip_suffix(".UNOFFICIAL").unwrap_or(name).to_string(),
        ))
    }
}

/// Scans files in order; the first infected one and its signature, if any.
pub async fn first_infected(
    clamd: &Clamd,
    files: &[std::path::PathBuf],
) -> Result<Option<(String, String)>, AgentError> {
    for f in files {
        if let Verdict::Infected(sig) = clamd.scan(f).await? {
            return Ok(Some((crate::folder::dir_name(f), sig)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read() {
        assert_eq!(parse_reply("stream: OK\0"), Some(Verdict::Clean));
        assert_eq!(
            parse_reply("stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0"),
            Some(Verdict::Infected("Eicar-Test-Signature".into()))
        );
        assert!(parse_reply("INSTREAM size limit exceeded. ERROR\0").is_none());
    }
}
