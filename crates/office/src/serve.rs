//! `gongwen office serve`: the office's state, its pages on one listener, and the round that
//! takes in what the agent received (待登記) and follows what it sent (送達, 退文).

use std::sync::Arc;
use std::time::Duration;

use gongwen_client::agent::AgentClient;
use gongwen_net::{Clock, Server, StartError};
use gongwen_store::Db;
use gongwen_trust::path::{LiveTrust, StaleCrl};
use serde_json::json;

use crate::config::OfficeConfig;
use crate::steps::Office;
use crate::web::{self, Pending};
use crate::{dispatch, intake};

pub struct App {
    pub config: OfficeConfig,
    pub db: Db,
    pub clock: Clock,
    /// What people's cards must chain to; the CRLs follow their files.
    pub trust: LiveTrust,
    pub agent: AgentClient,
    /// The government office calendar the time limits count on.
    pub calendar: gongwen_calendar::WorkCalendar,
    /// The agency's SMTP server (`[office.mail]`), for 稽催 reminders.
    pub mailer: Option<gongwen_net::mail::Mailer>,
    /// 機關代碼 and name, as every signed step names the agency.
    pub agency: String,
    /// The agent's webhook secret, when it calls this office on news.
    pub webhook_secret: Option<Vec<u8>>,
    /// Wakes the sync round before its time (the agent's webhook).
    pub wake: tokio::sync::Notify,
    /// Steps prepared and waiting for their signature (at most [`web::MAX_PENDING`], for
    /// [`crate::steps::SIGN_WITHIN_MS`]).
    pub pending: std::sync::Mutex<Pending>,
}

pub type Shared = Arc<App>;

impl App {
    /// Runs `f` with the office's context for steps (the trust as it stands now).
    pub async fn with_office<T, F>(&self, f: F) -> T
    where
        F: AsyncFnOnce(&Office<'_>) -> T,
    {
        let trust = self.trust.store();
        let office = Office {
            db: &self.db,
            agency: &self.agency,
            trust: &trust,
            calendar: &self.calendar,
            extensions: self.config.extensions,
        };
        f(&office).await
    }
}

pub struct Running {
    pub app: Shared,
    pub server: Server,
    sync: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.addr
    }

    pub async fn shutdown(self) {
        self.sync.abort();
        self.server.shutdown().await;
        self.app.db.close().await;
    }
}

fn start_err(code: &'static str, detail: impl std::fmt::Display) -> StartError {
    StartError {
        service: "公文管理系統",
        code,
        detail: detail.to_string(),
    }
}

/// Opens the database, the trust in people's cards and the way to the agent, and starts the
/// pages and the sync round.
pub async fn start(config: OfficeConfig, clock: Clock) -> Result<Running, StartError> {
    config.check().map_err(|e| start_err("E_CONFIG", e))?;
    let token = std::fs::read_to_string(&config.agent.token_file).map_err(|e| {
        start_err(
            "E_CONFIG",
            format!(
                "無法讀取代理程式的 API 權杖 {}：{e}",
                config.agent.token_file.display()
            ),
        )
    })?;
    let mut roots = Vec::new();
    for p in &config.agent.roots {
        let pem =
            std::fs::read(p).map_err(|e| start_err("E_CONFIG", format!("{}：{e}", p.display())))?;
        roots.extend(pem);
    }
    let webhook_secret = match &config.agent.webhook_secret_file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .map_err(|e| start_err("E_CONFIG", format!("{}：{e}", f.display())))?
                .trim()
                .as_bytes()
                .to_vec(),
        )
        .filter(|s: &Vec<u8>| !s.is_empty()),
        None => None,
    };
    let agent = AgentClient::new(&config.agent.url, token.trim(), &roots)
        .map_err(|e| start_err("E_CONFIG", e))?;
    let trust = LiveTrust::from_files(&config.trust_anchors, &config.crls, StaleCrl::Refuse)
        .map_err(|e| start_err("E_CONFIG", e))?;
    let tls = match &config.tls {
        Some(t) => Some(
            gongwen_net::server_config(&t.files(&config.trust_anchors, config.crls.clone(), true))
                .map_err(|e| start_err(e.code(), e))?,
        ),
        None => {
            let loopback = (config.listen.parse::<std::net::SocketAddr>())
                .map(|a| a.ip().is_loopback())
                .unwrap_or(config.listen.starts_with("localhost:"));
            if !loopback {
                return Err(start_err(
                    "E_CONFIG",
                    format!(
                        "公文管理系統的位址 {} 不是本機位址，須設定 [office.tls]",
                        config.listen
                    ),
                ));
            }
            None
        }
    };
    let db = Db::connect(&config.database_url)
        .await
        .map_err(|e| start_err("E_STORE", e))?;
    let calendar =
        crate::deadlines::load_calendar(&config.calendars).map_err(|e| start_err("E_CONFIG", e))?;
    let mailer = match &config.mail {
        Some(m) => Some(
            gongwen_net::mail::Mailer::new(m)
                .map_err(|e| start_err("E_CONFIG", format!("[office.mail] {e}")))?,
        ),
        None => None,
    };
    let app = Arc::new(App {
        calendar,
        mailer,
        agency: format!("{} {}", config.agency.code, config.agency.name),
        config,
        db,
        clock,
        trust,
        agent,
        webhook_secret,
        wake: tokio::sync::Notify::new(),
        pending: std::sync::Mutex::new(Pending::default()),
    });
    let secure = tls.is_some();
    let signin = Arc::new(web::sign_in());
    let router = web::router(app.clone(), secure, signin.clone());
    let server = Server::start_with(&app.config.listen, tls, router)
        .await
        .map_err(|e| start_err(e.code(), e))?;
    let origins = if app.config.web.origins.is_empty() {
        gongwen_net::html::own_origins(server.addr, secure)
    } else {
        app.config.web.origins.clone()
    };
    signin.set_origins(origins);
    let sync = tokio::spawn(sync_round(app.clone()));
    Ok(Running { app, server, sync })
}

/// One log line when this year's or next year's office calendar is missing: deadlines that
/// reach such a year are left blank on the worklists rather than counted on plain weekdays.
fn warn_uncovered(calendar: &gongwen_calendar::WorkCalendar, now_ms: i64) {
    let Some(today) = crate::deadlines::day_of(now_ms) else {
        return;
    };
    let years = crate::deadlines::uncovered_years(calendar, today);
    if !years.is_empty() {
        let names: Vec<String> = years
            .iter()
            .map(|y| gongwen_calendar::roc_year(*y))
            .collect();
        gongwen_net::log::warn(
            &format!(
                "辦公日曆缺少{}：落在該年的處理期限不會顯示，請以 gongwen calendar import 匯入該年的政府行政機關辦公日曆表",
                names.join("、")
            ),
            json!({ "years": years }),
        );
    }
}

/// Every `sync_every_s`, and at once when the agent's webhook calls: takes in what the agent
/// received, follows what was sent. A failure is logged and tried again next round; it never
/// stops the pages.
async fn sync_round(app: Shared) {
    let every = Duration::from_secs(app.config.sync_every_s.max(1));
    let mut checked_on = None;
    loop {
        // Once a day (and at start): the calendar warning, and the deadlines still to fill.
        let today = crate::deadlines::day_of(app.clock.now_ms());
        if today != checked_on {
            checked_on = today;
            warn_uncovered(&app.calendar, app.clock.now_ms());
            fill_due_days(&app).await;
            roll_up(&app).await;
        }
        sync_once(&app).await;
        send_reminders(&app).await;
        // Until the next round, or sooner when the agent's webhook says there is news.
        let _ = tokio::time::timeout(every, app.wake.notified()).await;
    }
}

/// Fills the deadlines of running cases that have none (see [`cases::fill_due_days`]), a
/// bounded number of batches; the rest wait for the next day's round.
async fn fill_due_days(app: &App) {
    for _ in 0..FILL_ROUNDS {
        match crate::cases::fill_due_days(&app.db, &app.calendar).await {
            Ok(n) if n > 0 => {
                gongwen_net::log::info("已補上限辦日期", json!({ "cases": n }));
            }
            Ok(_) => return,
            Err(e) => {
                gongwen_net::log::warn(
                    "補上限辦日期失敗",
                    json!({ "code": e.code().as_str(), "detail": e.to_string() }),
                );
                return;
            }
        }
    }
}

/// The day's 稽催 reminders by e-mail, once they are due (see [`crate::reminders::send_due`]).
async fn send_reminders(app: &App) {
    let Some(mailer) = &app.mailer else {
        return;
    };
    let site = app.config.web.origins.first().cloned().unwrap_or_default();
    let r = crate::reminders::send_due(
        &app.db,
        mailer,
        &app.calendar,
        app.clock.now_ms(),
        &app.config.remind_at,
        &site,
    )
    .await;
    match r {
        Ok(n) if n.sent + n.failed > 0 => gongwen_net::log::info(
            "已寄出稽催提醒",
            json!({ "sent": n.sent, "failed": n.failed, "nothing": n.nothing }),
        ),
        Ok(_) => {}
        Err(e) => gongwen_net::log::warn(
            "稽催提醒失敗",
            json!({ "code": e.code().as_str(), "detail": e.to_string() }),
        ),
    }
}

/// Brings the statistics rollup up to date ([`crate::closed::catch_up`]), a bounded number of
/// batches a day; what is left waits for the next day's round.
async fn roll_up(app: &App) {
    let mut after = String::new();
    for round in 0..FILL_ROUNDS {
        match crate::closed::catch_up(&app.db, &app.calendar, round == 0, &after).await {
            Ok(Some(next)) => after = next,
            Ok(None) => return,
            Err(e) => {
                gongwen_net::log::warn(
                    "統計彙整失敗",
                    json!({ "code": e.code().as_str(), "detail": e.to_string() }),
                );
                return;
            }
        }
    }
}

/// Batches of [`fill_due_days`] a day: 100 × 500 cases.
const FILL_ROUNDS: usize = 100;

/// One round of [`sync_round`]; also what the clerk's 「立即收文」 button runs.
pub async fn sync_once(app: &App) -> (usize, usize) {
    let now = app.clock.now_ms();
    let taken = intake::fetch(&app.db, &app.agent, now).await;
    let followed = dispatch::follow(&app.db, &app.agent).await;
    for (what, r) in [("收文", &taken), ("追蹤發文", &followed)] {
        if let Err(e) = r {
            gongwen_net::log::warn(
                &format!("公文管理系統{what}失敗"),
                json!({ "code": e.code().as_str(), "detail": e.to_string() }),
            );
        }
    }
    (taken.unwrap_or(0), followed.unwrap_or(0))
}
