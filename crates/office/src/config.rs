//! The office's settings: the `[office]` table of `gongwen.toml`.

use std::path::PathBuf;

use gongwen_net::ServerTls;
use serde::{Deserialize, Serialize};

use crate::delegation::AgencyKind;

/// How the office runs. Paths are relative to the working directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeConfig {
    /// Address of the pages. Plain HTTP only on a loopback address; otherwise `[office.tls]`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// `sqlite://path` (default, one file) or `postgres://user@host/db`.
    #[serde(default = "default_db")]
    pub database_url: String,
    #[serde(default)]
    pub tls: Option<ServerTls>,
    /// The agency this office serves.
    pub agency: AgencySettings,
    /// The agency's agent node, reached through its document-system API.
    pub agent: AgentLink,
    /// Roots people's cards (MOICA, 公務人員電子識別證) chain to.
    pub trust_anchors: Vec<PathBuf>,
    /// CRLs of those hierarchies (files or folders); re-read when they change.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
    #[serde(default)]
    pub web: OfficeWeb,
    /// How often (seconds) the office takes in what the agent received and follows what it sent.
    #[serde(default = "default_sync")]
    pub sync_every_s: u64,
    /// The exclusions (SIGNOFF.md, 1–8) this agency applies: the plan reviews the list as
    /// adoption grows. Default: all eight.
    #[serde(default = "all_exclusions")]
    pub exclusions: Vec<u8>,
    /// Office calendars beyond the bundled years, in order: a year's official table
    /// (政府行政機關辦公日曆表 CSV) or what `gongwen calendar import --out` wrote. A deadline
    /// that reaches a year none covers stays blank, with a warning, until it is added here.
    #[serde(default)]
    pub calendars: Vec<PathBuf>,
    /// 展期 limits (`[office.extensions]`); beyond them, 專案管制.
    #[serde(default)]
    pub extensions: crate::timing::ExtensionRules,
    /// `[office.indicators]`: what the sign-off indicators (seed 003 伍) are reckoned with.
    #[serde(default)]
    pub indicators: IndicatorSettings,
    /// `[office.mail]`: the agency's SMTP server for 稽催 reminders by e-mail. None: the
    /// reminders are only on the worklists.
    #[serde(default)]
    pub mail: Option<gongwen_net::mail::MailSettings>,
    /// When (`HH:MM`, Taipei, on working days) the day's reminders are mailed.
    #[serde(default = "default_remind_at")]
    pub remind_at: String,
}

fn default_remind_at() -> String {
    "09:00".into()
}

/// The agency's settings of the indicators (`crate::indicators`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndicatorSettings {
    /// Postage of one piece of mail (NT$): what each piece not posted saves.
    pub postage_twd: u32,
    /// The plan's target (減紙), in %: drawn on the 線上簽核率 chart.
    pub target_paper_reduction: u32,
    /// The "before" period of 公文效率提升 (`YYYY-MM`), when the agency has chosen one; the
    /// statistics page may name another.
    pub before_from: Option<String>,
    pub before_to: Option<String>,
}

impl Default for IndicatorSettings {
    fn default() -> Self {
        IndicatorSettings {
            postage_twd: 28,
            target_paper_reduction: 30,
            before_from: None,
            before_to: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencySettings {
    /// 機關代碼.
    pub code: String,
    /// 機關全銜.
    pub name: String,
    /// 市府一層 (city_hall), 一級機關 (first_level), 二級機關 (second_level) or 學校 (school):
    /// who is at the top of the chain.
    #[serde(default = "default_kind")]
    pub kind: String,
}

impl AgencySettings {
    pub fn kind(&self) -> Option<AgencyKind> {
        match self.kind.as_str() {
            "city_hall" => Some(AgencyKind::CityHall),
            "first_level" => Some(AgencyKind::FirstLevel),
            "second_level" => Some(AgencyKind::SecondLevel),
            "school" => Some(AgencyKind::School),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentLink {
    /// The agent's API, e.g. `http://127.0.0.1:8450`.
    pub url: String,
    /// A file holding the API token the agent gave this office (`gongwen agent client add`):
    /// the secret stays out of `gongwen.toml`.
    pub token_file: PathBuf,
    /// Roots the agent's TLS certificate chains to, when its API is HTTPS.
    #[serde(default)]
    pub roots: Vec<PathBuf>,
    /// A file holding the secret of the agent's webhook for this agency (`[agent.agencies.webhook]
    /// secret`, its URL `…/agent/webhook` of this office): a new document is taken in at once
    /// instead of at the next round. None: only the rounds.
    #[serde(default)]
    pub webhook_secret_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OfficeWeb {
    /// Where the pages find the local signing program (`gongwen signer serve`) on each PC.
    pub signer_url: String,
    /// The addresses (origins) people open the office at; sign-in challenges name one of
    /// them. Empty: the listener's own address.
    pub origins: Vec<String>,
}

impl Default for OfficeWeb {
    fn default() -> Self {
        OfficeWeb {
            signer_url: "http://127.0.0.1:61161".into(),
            origins: Vec::new(),
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:8470".into()
}
fn default_db() -> String {
    "sqlite://gongwen-data/office.db".into()
}
fn default_kind() -> String {
    "first_level".into()
}
fn default_sync() -> u64 {
    30
}
fn all_exclusions() -> Vec<u8> {
    (1..=8).collect()
}

impl OfficeConfig {
    /// Checks what serde cannot: the kind of agency, the exclusions.
    pub fn check(&self) -> Result<(), String> {
        if self.agency.kind().is_none() {
            return Err(format!(
                "[office.agency] kind「{}」須為 city_hall、first_level、second_level 或 school",
                self.agency.kind
            ));
        }
        if let Some(n) = self.exclusions.iter().find(|n| !(1..=8).contains(*n)) {
            return Err(format!("[office] exclusions 的「{n}」不是 1 到 8"));
        }
        let x = &self.extensions;
        if x.max_requests == 0 || x.max_days_each == 0 || x.max_days_total < x.max_days_each {
            return Err(
                "[office.extensions] max_requests、max_days_each 須大於 0，max_days_total 不得小於 max_days_each"
                    .into(),
            );
        }
        if let Some(problem) = x.problem() {
            return Err(problem);
        }
        let i = &self.indicators;
        if i.target_paper_reduction > 100 {
            return Err("[office.indicators] target_paper_reduction 須為 0 到 100".into());
        }
        for m in [&i.before_from, &i.before_to].into_iter().flatten() {
            if crate::indicators::Month::parse(m).is_none() {
                return Err(format!("[office.indicators] 的月份「{m}」須為 YYYY-MM"));
            }
        }
        if i.before_from.is_some() != i.before_to.is_some() {
            return Err("[office.indicators] before_from 與 before_to 須一起設定".into());
        }
        let hm: Vec<&str> = self.remind_at.split(':').collect();
        let valid_time = matches!(hm.as_slice(), [h, m] if h.len() == 2 && m.len() == 2
            && h.parse::<u8>().is_ok_and(|h| h < 24) && m.parse::<u8>().is_ok_and(|m| m < 60));
        if !valid_time {
            return Err(format!(
                "[office] remind_at「{}」須為 HH:MM（例如 09:00）",
                self.remind_at
            ));
        }
        if let Some(m) = &self.mail {
            gongwen_net::mail::Mailer::new(m).map_err(|e| format!("[office.mail] {e}"))?;
        }
        if self.trust_anchors.is_empty() {
            return Err("[office] trust_anchors 須列出同仁憑證的根憑證".into());
        }
        Ok(())
    }
}
