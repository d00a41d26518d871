//! E-mail through the organisation's own SMTP server (reminders, notices): one message to one
//! person, in Traditional Chinese, plain text. The settings are the `[… .mail]` table a service
//! names; the password stays in a file, never in `gongwen.toml` or a log line.
//!
//! TLS is required unless the server is on this machine: STARTTLS on 587 (default) or TLS from
//! the first byte on 465, verified against the system's roots and any `roots` the agency adds
//! (an internal CA). A plain connection to another host is refused when the settings are read.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    /// Plain, then STARTTLS before anything is sent (port 587); refused if the server offers none.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: only to a server on this machine (a local relay).
    Plain,
}

/// The `[… .mail]` table: where and as whom mail is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The SMTP server's host name (as its certificate names it) or address.
    pub server: String,
    /// Default 587 (465 with `security = "tls"`).
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: MailSecurity,
    /// The sender, e.g. `公文管理系統 <odms@edu.gov.taipei>`.
    pub from: String,
    /// The account to sign in to the server with, if it asks for one.
    #[serde(default)]
    pub username: Option<String>,
    /// A file holding that account's password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Extra CA certificates (PEM) the server's certificate may chain to.
    #[serde(default)]
    pub roots: Vec<PathBuf>,
    /// Seconds one message may take, connection included.
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
}

fn default_timeout() -> u64 {
    30
}

/// Largest password or CA file read.
const MAX_FILE_BYTES: u64 = 256 * 1024;

/// A ready connection setting to the server, and the sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

fn read_small(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("{}：{e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}：{e}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("{}：檔案過大", path.display()));
    }
    Ok(bytes)
}

fn is_local(server: &str) -> bool {
    server == "localhost"
        || server
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Mailer {
    /// Checks the settings and reads the password and roots; the message names what is wrong.
    pub fn new(s: &MailSettings) -> Result<Mailer, String> {
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| format!("寄件者「{}」不是電子郵件地址：{e}", s.from))?;
        if s.server.trim().is_empty() {
            return Err("未設定 SMTP 伺服器".into());
        }
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.server.as_str())
            .timeout(Some(Duration::from_secs(s.timeout_s.clamp(1, 600))));
        let tls = || -> Result<TlsParameters, String> {
            let mut p = TlsParameters::builder(s.server.clone());
            for root in &s.roots {
                let pem = read_small(root)?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| format!("{}：不是 PEM 憑證：{e}", root.display()))?;
                p = p.add_root_certificate(cert);
            }
            p.build_rustls().map_err(|e| format!("TLS 設定有誤：{e}"))
        };
        let (tls, port) = match s.security {
            MailSecurity::Starttls => (Tls::Required(tls()?), 587),
            MailSecurity::Tls => (Tls::Wrapper(tls()?), 465),
            MailSecurity::Plain if is_local(&s.server) => (Tls::None, 25),
            MailSecurity::Plain => {
                return Err(format!(
                    "SMTP 伺服器 {} 不在本機，須以 TLS 連線（security = \"starttls\" 或 \"tls\"）",
                    s.server
                ));
            }
        };
        b = b.tls(tls).port(s.port.unwrap_or(port));
        match (&s.username, &s.password_file) {
            (Some(user), Some(file)) => {
                let pw = String::from_utf8(read_small(file)?)
                    .map_err(|_| format!("{}：密碼檔不是 UTF-8", file.display()))?;
                b = b.credentials(Credentials::new(user.clone(), pw.trim_end().to_string()));
            }
            (None, None) => {}
            _ => return Err("username 與 password_file 須一起設定".into()),
        }
        Ok(Mailer {
            transport: b.build(),
            from,
        })
    }

    /// Sends `body` (plain text, UTF-8) to `to`; the error names the recipient or the server's
    /// answer, never the message.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("收件者「{to}」不是電子郵件地址：{e}"))?;
        // Base64 always: any mail client reads it, and the text comes back byte for byte.
        let part = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .header(ContentTransferEncoding::Base64)
            .body(body.to_string());
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .singlepart(part)
            .map_err(|e| format!("郵件內容有誤：{e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP 伺服器未收下郵件：{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(server: &str, security: MailSecurity) -> MailSettings {
        MailSettings {
            server: server.into(),
            port: None,
            security,
            from: "公文管理系統 <odms@example.gov.tw>".into(),
            username: None,
            password_file: None,
            roots: Vec::new(),
            timeout_s: 5,
        }
    }

    #[test]
    fn plain_smtp_only_to_this_machine() {
        assert!(Mailer::new(&settings("127.0.0.1", MailSecurity::Plain)).is_ok());
        assert!(Mailer::new(&settings("localhost", MailSecurity::Plain)).is_ok());
        let e = Mailer::new(&settings("mail.example.gov.tw", MailSecurity::Plain)).unwrap_err();
        assert!(e.contains("須以 TLS 連線"), "{e}");
        assert!(Mailer::new(&settings("mail.example.gov.tw", MailSecurity::Starttls)).is_ok());
        let mut bad = settings("127.0.0.1", MailSecurity::Plain);
        bad.from = "not an address".into();
        assert!(Mailer::new(&bad).unwrap_err().contains("寄件者"));
        bad = settings("127.0.0.1", MailSecurity::Plain);
        bad.username = Some("odms".into());
        assert!(Mailer::new(&bad).unwrap_err().contains("password_file"));
    }
}
