//! The demo network on one machine: a test CA, the directory, two centers (臺北市 and 臺南市)
//! and two agent nodes serving five sample participants, all on SQLite and local files under
//! one folder. Each service gets its own configuration file there, the same files an
//! operator would write, so `gongwen center serve -c …` works on them too.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gongwen_agent::{AgencyConfig, AgentConfig, ApiConfig};
use gongwen_center::BlobStore;
use gongwen_center::Clock;
use gongwen_center::config::{CenterConfig, DirectorySource};
use gongwen_directory::DirectoryConfig;
use gongwen_directory::config::{DirectoryTls, SigningConfig, SnapshotConfig};
use gongwen_directory::registry::{self, Center, ParticipantInput};
use gongwen_proto::directory::{CenterKind, ParticipantKind};
use gongwen_testbed::Pki;
use gongwen_trust::pki::{Branch, TestCa};
use serde::{Deserialize, Serialize};

use crate::doc_cmd::read;
use crate::error::CliError;

/// How a sample participant works with its node.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A document system dropping files in folders (jAgent).
    Folder,
    /// A document system calling the API.
    Api,
    /// Both: files in and out through folders, 簽收 and 退文 through the API.
    FolderAndApi,
    /// A person in the browser (the web client).
    Web,
}

impl Mode {
    pub fn folder(self) -> bool {
        matches!(self, Mode::Folder | Mode::FolderAndApi)
    }
}

pub struct Sample {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: ParticipantKind,
    pub branch: Branch,
    /// `tp` or `tn`: its center and its agent node.
    pub city: &'static str,
    pub mode: Mode,
    /// 發文代字.
    pub word: &'static str,
}

/// The sample participants. The codes follow the real shapes (10 characters; XCA
/// organisations XA + 8 digits) but are illustrative.
pub const SAMPLES: [Sample; 5] = [
    Sample {
        code: "379130000C",
        name: "臺北市政府教育局",
        kind: ParticipantKind::Agency,
        branch: Branch::Gca,
        city: "tp",
        mode: Mode::FolderAndApi,
        word: "北市教字",
    },
    Sample {
        code: "379100600B",
        name: "臺北市大安區公所",
        kind: ParticipantKind::Agency,
        branch: Branch::Gca,
        city: "tp",
        mode: Mode::Folder,
        word: "北市安字",
    },
    Sample {
        code: "395450100A",
        name: "臺南市立大光國民小學",
        kind: ParticipantKind::School,
        branch: Branch::Xca,
        city: "tn",
        mode: Mode::Api,
        word: "南市大光國小字",
    },
    Sample {
        code: "XA20250001",
        name: "臺南市社區營造協會",
        kind: ParticipantKind::Organisation,
        branch: Branch::Xca,
        city: "tn",
        mode: Mode::Web,
        word: "南社營字",
    },
    Sample {
        code: "XB24536806",
        name: "府城資訊股份有限公司",
        kind: ParticipantKind::Company,
        branch: Branch::Moeaca,
        city: "tn",
        mode: Mode::Folder,
        word: "府城資字",
    },
];

/// The demo's participant with this code. Only the demo's own constants (BUREAU … COMPANY) and
/// codes taken from `SAMPLES` are passed, so a miss is a programming error that `gongwen demo
/// --self-test` (run by the tests) would show at once.
#[allow(clippy::expect_used)]
pub fn sample(code: &str) -> &'static Sample {
    SAMPLES
        .iter()
        .find(|s| s.code == code)
        .expect("a sample participant")
}

pub fn city_name(city: &str) -> &'static str {
    if city == "tp" {
        "臺北市"
    } else {
        "臺南市"
    }
}

/// The street address of the city's government, for its participants' letters.
pub fn address(city: &str) -> &'static str {
    if city == "tp" {
        "110204 臺北市信義區市府路1號"
    } else {
        "708201 臺南市安平區永華路二段6號"
    }
}

/// What the demo remembers between runs (`demo.json`).
#[derive(Serialize, Deserialize)]
pub struct State {
    pub ports: Ports,
    /// API token of each participant that has one.
    pub tokens: Vec<(String, String)>,
    /// Whether the sample documents were exchanged.
    pub samples_sent: bool,
    /// Each participant's card: (code, signing certificate with chain, key), to start a
    /// `gongwen signer` with and sign in to the web client.
    #[serde(default)]
    pub cards: Vec<(String, PathBuf, String)>,
    /// The bureau's document-management system: its people's cards.
    #[serde(default)]
    pub office: super::office::OfficeState,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
pub struct Ports {
    pub directory: u16,
    pub tp: u16,
    pub tn: u16,
    pub agent_tp: u16,
    pub agent_tn: u16,
    /// The local signing program standing in for the association's card reader.
    #[serde(default)]
    pub signer: u16,
    /// The bureau's document-management system (gongwen office), and the signer of whoever
    /// works in it on this machine.
    #[serde(default)]
    pub office: u16,
    #[serde(default)]
    pub office_signer: u16,
}

impl State {
    /// The API token of participant `code`, if it has one.
    pub fn token(&self, code: &str) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, t)| t.as_str())
    }
}

impl Ports {
    /// The port of the city's center.
    pub fn center(&self, city: &str) -> u16 {
        if city == "tp" { self.tp } else { self.tn }
    }

    /// The port of the city's agent node.
    pub fn agent(&self, city: &str) -> u16 {
        if city == "tp" {
            self.agent_tp
        } else {
            self.agent_tn
        }
    }

    /// Five consecutive ports from `base`.
    pub fn from_base(base: u16) -> Ports {
        Ports {
            directory: base,
            tp: base + 1,
            tn: base + 2,
            agent_tp: base + 10,
            agent_tn: base + 11,
            signer: base + 12,
            office: base + 13,
            office_signer: base + 14,
        }
    }

    /// Free ports of this machine (the self-test).
    pub fn free() -> Result<Ports, CliError> {
        let held = (0..8)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| demo_err(format!("找不到可用的連接埠：{e}")))?;
        let p: Vec<u16> = held
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .map(|a| a.port())
            .collect();
        Ok(Ports {
            directory: p[0],
            tp: p[1],
            tn: p[2],
            agent_tp: p[3],
            agent_tn: p[4],
            signer: p[5],
            office: p[6],
            office_signer: p[7],
        })
    }
}

pub fn demo_err(e: impl std::fmt::Display) -> CliError {
    CliError::Arg(format!("示範網路：{e}"))
}

/// One file, one table: what `gongwen … -c` reads.
#[derive(Serialize)]
struct ConfigFile<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    center: Option<&'a CenterConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    directory: Option<&'a DirectoryConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<&'a AgentConfig>,
}

/// Writes `path` with the one table given.
fn write_config(
    path: &Path,
    center: Option<&CenterConfig>,
    directory: Option<&DirectoryConfig>,
    agent: Option<&AgentConfig>,
) -> Result<(), CliError> {
    let c = ConfigFile {
        center,
        directory,
        agent,
    };
    let text = toml::to_string(&c).map_err(demo_err)?;
    let head = "# 由 gongwen demo 產生：示範網路的設定（測試憑證，勿用於正式環境）\n";
    crate::doc_cmd::write_atomic(path, format!("{head}{text}").as_bytes())
}

fn sqlite(p: &Path) -> String {
    format!("sqlite://{}", p.display())
}

/// The CA, the keys, the configuration files and the directory's registrations of a new
/// demo network in `dir` (absolute).
pub async fn create(dir: &Path, ports: Ports) -> Result<State, CliError> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir, e))?;
    let named: Vec<(String, String, Branch)> = SAMPLES
        .iter()
        .map(|s| (s.code.to_string(), s.name.to_string(), s.branch))
        .collect();
    let mut pki = Pki::create_named(&dir.join("pki"), &named).map_err(demo_err)?;
    let root = pki.ca.root_file();
    let crls = pki.ca.dir().join("crl");

    let directory = DirectoryConfig {
        listen: format!("127.0.0.1:{}", ports.directory),
        database_url: sqlite(&dir.join("directory.db")),
        tls: DirectoryTls {
            cert: pki.server_cert.clone(),
            key: pki.server_key.clone(),
            client_roots: vec![root.clone()],
        },
        signing: SigningConfig {
            cert: pki.directory_signer.0.clone(),
            key: pki.directory_signer.1.display().to_string(),
        },
        trust_anchors: vec![root.clone()],
        crls: vec![crls.clone()],
        snapshot: SnapshotConfig {
            valid_hours: 72,
            build_every_s: 1,
            keep: 20,
        },
        cert_grace_days: 90,
        cert_warn_days: vec![60, 30, 7],
        usage_rules: "公文電子交換系統使用規範（示範）".into(),
        log_retention_days: 3650,
        metrics_allow: vec!["127.0.0.1".into(), "::1".into()],
    };
    write_config(&dir.join("directory.toml"), None, Some(&directory), None)?;

    for (i, city) in ["tp", "tn"].into_iter().enumerate() {
        let id = format!("center-{city}");
        let mut c = pki.center_config(&id, &sqlite(&dir.join(format!("{id}.db"))), BlobStore::Fs);
        c.listen = format!("127.0.0.1:{}", ports.center(city));
        c.data_dir = dir.join(&id);
        c.federation.client_cert = Some(pki.center_clients[i].0.clone());
        c.federation.client_key = Some(pki.center_clients[i].1.clone());
        c.federation.retry_first_ms = 1000;
        c.directory = Some(DirectorySource {
            url: format!("https://127.0.0.1:{}", ports.directory),
            signer: pki.directory_signer.0.clone(),
            refresh_s: 2,
        });
        write_config(&dir.join(format!("{id}.toml")), Some(&c), None, None)?;
    }

    // The bureau's agent tells its document-management system of news at once (a webhook
    // signed with a secret both hold).
    let office_hook = gongwen_store::random_hex(16);
    let mut cards = Vec::new();
    for city in ["tp", "tn"] {
        let node = dir.join(format!("agent-{city}"));
        let mut agencies = Vec::new();
        for s in SAMPLES.iter().filter(|s| s.city == city) {
            let a = pki.agency(s.code);
            // The card's signing certificate with its issuer, as card software exports it.
            let chain = node.join("keys").join(format!("{}-sign-chain.pem", s.code));
            std::fs::create_dir_all(chain.parent().unwrap_or(&node))
                .map_err(|e| CliError::io(&node, e))?;
            let mut pem = read(&a.sign_file)?;
            pem.extend(std::fs::read(pki.ca.ca_file(s.branch)).map_err(demo_err)?);
            crate::doc_cmd::write_atomic(&chain, &pem)?;
            cards.push((
                s.code.to_string(),
                chain.clone(),
                a.sign_key_file.display().to_string(),
            ));
            agencies.push(AgencyConfig {
                code: s.code.into(),
                center: format!("https://127.0.0.1:{}", ports.center(city)),
                tls_cert: a.tls_cert.clone(),
                tls_key: a.tls_key.clone(),
                sign_cert: chain,
                sign_key: a.sign_key_file.display().to_string(),
                enc_cert: a.enc_file.clone(),
                enc_key: a.enc_key_file.display().to_string(),
                folder: s
                    .mode
                    .folder()
                    .then(|| node.join(format!("{}-{}", s.code, s.name))),
                name: Some(s.name.into()),
                word: Some(s.word.into()),
                address: Some(address(city).into()),
                contact: vec!["承辦人：王小明".into(), "電話：(06)299-1111".into()],
                webhook: (s.code == super::office::AGENCY).then(|| gongwen_agent::WebhookConfig {
                    url: format!("http://127.0.0.1:{}/agent/webhook", ports.office),
                    secret: office_hook.clone(),
                }),
            });
        }
        let cfg = AgentConfig {
            database_url: sqlite(&node.join("agent.db")),
            data_dir: node.join("data"),
            trust_anchors: vec![root.clone()],
            crls: vec![crls.clone()],
            poll_s: 2,
            settle_s: 1,
            clamd: None,
            retention_days: 365,
            inbox_mode: "0640".into(),
            web: gongwen_agent::WebConfig {
                signer_url: format!("http://127.0.0.1:{}", ports.signer),
                directory_url: Some(format!("https://127.0.0.1:{}", ports.directory)),
                ..Default::default()
            },
            api: Some(ApiConfig {
                listen: format!("127.0.0.1:{}", ports.agent(city)),
                tls: None,
                max_upload_mb: 200,
                ..Default::default()
            }),
            agencies,
        };
        let path = dir.join(format!("agent-{city}.toml"));
        write_config(&path, None, None, Some(&cfg))?;
    }

    // The directory's registrations: both centers, every participant with its three
    // certificates and 127.0.0.1.
    let db = gongwen_store::Db::connect(&directory.database_url).await?;
    let now = Clock::default().now_ms();
    let actor = "admin:示範";
    for (i, city) in ["tp", "tn"].into_iter().enumerate() {
        let tls_key =
            registry::key_of(&std::fs::read(&pki.center_clients[i].2).map_err(demo_err)?)?;
        let c = Center {
            id: format!("center-{city}"),
            name: format!("{}政府公文電子交換中心", city_name(city)),
            kind: CenterKind::Shared,
            url: format!("https://127.0.0.1:{}", ports.center(city)),
            tls_key: Some(tls_key),
            operator: format!("{}政府", city_name(city)),
        };
        registry::put_center(&db, &c, actor, now).await?;
    }
    for s in &SAMPLES {
        registry::add(
            &db,
            &ParticipantInput {
                code: s.code.into(),
                name: s.name.into(),
                kind: s.kind,
                ubn: None,
                authority: None,
                center: format!("center-{}", s.city),
                receive: true,
                send: true,
                operator: false,
                contact_name: None,
                contact_phone: None,
                contact_email: None,
            },
            actor,
            now,
        )
        .await?;
        let a = pki.agency(s.code);
        for f in [&a.sign_file, &a.enc_file, &a.tls_leaf] {
            registry::add_certs(&db, s.code, &read(f)?, None, actor, now).await?;
        }
        registry::add_ip(&db, s.code, "127.0.0.1", None, actor, now).await?;
    }
    db.close().await;

    // API tokens for the participants that use the API or the web client.
    let mut tokens = Vec::new();
    for city in ["tp", "tn"] {
        let db = gongwen_store::Db::connect(&sqlite(
            &dir.join(format!("agent-{city}")).join("agent.db"),
        ))
        .await?;
        for s in SAMPLES
            .iter()
            .filter(|s| s.city == city && s.mode != Mode::Folder)
        {
            let t = gongwen_agent::clients::add_token(&db, s.code, "示範公文系統", now).await?;
            tokens.push((s.code.to_string(), t));
        }
        db.close().await;
    }
    // The bureau's document-management system calls its agent with a token of its own.
    let agent_tp = sqlite(&dir.join("agent-tp").join("agent.db"));
    let db = gongwen_store::Db::connect(&agent_tp).await?;
    let office_token =
        gongwen_agent::clients::add_token(&db, super::office::AGENCY, "公文管理系統", now).await?;
    db.close().await;
    let office =
        super::office::create(dir, &mut pki.ca, ports, &office_token, &office_hook).await?;
    let state = State {
        ports,
        tokens,
        samples_sent: false,
        cards,
        office,
    };
    save(dir, &state)?;
    Ok(state)
}

pub fn save(dir: &Path, state: &State) -> Result<(), CliError> {
    let text = serde_json::to_vec_pretty(state).map_err(demo_err)?;
    crate::doc_cmd::write_atomic(&dir.join("demo.json"), &text)
}

pub fn load(dir: &Path) -> Result<Option<State>, CliError> {
    let p = dir.join("demo.json");
    match std::fs::read(&p) {
        Ok(b) => Ok(Some(
            serde_json::from_slice(&b).map_err(|e| demo_err(format!("{}：{e}", p.display())))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::io(&p, e)),
    }
}

/// Everything running.
pub struct Running {
    pub directory: gongwen_directory::Running,
    pub centers: Vec<gongwen_center::Running>,
    pub agents: Vec<(String, gongwen_agent::Running)>,
    /// The association's local signing program (its card reader, on this machine).
    pub signer: Option<gongwen_net::Server>,
    /// The bureau's document-management system and its clerk's signer.
    pub office: Option<(gongwen_office::serve::Running, gongwen_net::Server)>,
}

impl Running {
    pub async fn shutdown(self) {
        if let Some((office, signer)) = self.office {
            signer.shutdown().await;
            office.shutdown().await;
        }
        if let Some(s) = self.signer {
            s.shutdown().await;
        }
        for (_, a) in self.agents {
            a.shutdown().await;
        }
        for c in self.centers {
            c.shutdown().await;
        }
        self.directory.shutdown().await;
    }
}

fn config(dir: &Path, name: &str) -> Result<crate::center_cmd::Config, CliError> {
    crate::center_cmd::load_file(&dir.join(name))
}

/// Starts the services from the files in `dir`. The CRLs are issued afresh first, so a demo
/// started again weeks later still checks revocation.
pub async fn start(dir: &Path) -> Result<Running, CliError> {
    let mut ca = TestCa::open(&dir.join("pki").join("ca")).map_err(demo_err)?;
    ca.write_crls(Clock::default().now_s() - 60)
        .map_err(demo_err)?;
    let missing = |f: &str| demo_err(format!("{} 缺少設定", dir.join(f).display()));
    let d = config(dir, "directory.toml")?
        .directory
        .ok_or_else(|| missing("directory.toml"))?;
    let directory = gongwen_directory::start(d, Clock::default()).await?;
    let mut centers = Vec::new();
    for f in ["center-tp.toml", "center-tn.toml"] {
        let c = config(dir, f)?.center.ok_or_else(|| missing(f))?;
        centers.push(gongwen_center::start(c, Clock::default()).await?);
    }
    let mut agents = Vec::new();
    for city in ["tp", "tn"] {
        let f = format!("agent-{city}.toml");
        let a = config(dir, &f)?.agent.ok_or_else(|| missing(&f))?;
        agents.push((
            city.to_string(),
            gongwen_agent::start(a, Clock::default()).await?,
        ));
    }
    // The web client's user signs in with the association's card: its signing program runs
    // here, as it would on the association's PC.
    let mut signer = None;
    let state = load(dir)?;
    if let Some(state) = &state
        && let Some((_, a)) = agents.iter().find(|(c, _)| c == "tn")
        && let Some(cfg) = a
            .node
            .config
            .agencies
            .iter()
            .find(|c| sample(&c.code).mode == Mode::Web)
    {
        let card = crate::signer_cmd::card(&crate::signer_cmd::CardArgs {
            cert: cfg.sign_cert.clone(),
            key: cfg.sign_key.clone(),
        })?;
        let origin = vec![format!("http://127.0.0.1:{}", state.ports.agent_tn)];
        signer = Some(
            gongwen_agent::signer::serve(
                &format!("127.0.0.1:{}", state.ports.signer),
                card,
                origin,
            )
            .await?,
        );
    }
    let office = match &state {
        Some(s) => super::office::start(dir, &s.office).await?,
        None => None,
    };
    let running = Running {
        directory,
        centers,
        agents,
        signer,
        office,
    };
    // Until each center has the directory's snapshot, its participants are refused.
    for (_, a) in &running.agents {
        for agency in &a.node.agencies {
            let mut ok = false;
            for _ in 0..120 {
                if agency.center.inbox(&[]).await.is_ok() {
                    ok = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            if !ok {
                return Err(demo_err(format!(
                    "交換中心 30 秒內未從通訊錄取得 {} 的登記",
                    agency.code.as_str()
                )));
            }
        }
    }
    Ok(running)
}

/// The folder a folder-mode participant works in.
pub fn folder_of(dir: &Path, s: &Sample) -> PathBuf {
    dir.join(format!("agent-{}", s.city))
        .join(format!("{}-{}", s.code, s.name))
}
