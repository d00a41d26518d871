//! The demo's document-management system (`gongwen office`) for 臺北市政府教育局: its units
//! and people imported from CSV as an administrator would, each person with a card (a
//! MOICA look-alike of the demo's CA) and the command of their own signer, the delegation table,
//! a deputy for the head, and the agent's API token. The letters sent to the bureau reach its
//! registration desk (待登記).

use std::path::{Path, PathBuf};

use gongwen_office::config::{AgencySettings, AgentLink, OfficeConfig, OfficeWeb};
use gongwen_office::{delegation, org};
use gongwen_trust::pki::{Branch, IssueRequest, KeyType, Subject, TestCa, Usage};
use serde::{Deserialize, Serialize};

use super::network::{Ports, demo_err, sample};
use crate::doc_cmd::{read, write_atomic};
use crate::error::CliError;

pub const AGENCY: &str = "379130000C";

/// The bureau's units: (id, parent, name, on online sign-off).
const UNITS: [(&str, &str, &str, &str); 5] = [
    ("edu", "", "臺北市政府教育局", "是"),
    ("elem", "edu", "國小教育科", "是"),
    ("elem-cur", "elem", "課程教學股", "是"),
    ("pe", "edu", "體育及衛生保健科", "是"),
    ("inspect", "edu", "督學室", "否"),
];

/// A person of the demo office: id, name, title, unit, roles.
pub struct DemoPerson {
    pub id: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    pub unit: &'static str,
    pub roles: &'static str,
}

pub const PEOPLE: [DemoPerson; 9] = [
    DemoPerson {
        id: "clerk",
        name: "林美華",
        title: "收發員",
        unit: "edu",
        roles: "收發、登記桌、檔案、系統管理",
    },
    DemoPerson {
        id: "desk",
        name: "陳怡君",
        title: "科員",
        unit: "elem",
        roles: "登記桌",
    },
    DemoPerson {
        id: "officer",
        name: "王小明",
        title: "專員",
        unit: "elem-cur",
        roles: "承辦人",
    },
    DemoPerson {
        id: "officer2",
        name: "李志豪",
        title: "科員",
        unit: "pe",
        roles: "承辦人",
    },
    DemoPerson {
        id: "chief",
        name: "張淑芬",
        title: "股長",
        unit: "elem-cur",
        roles: "主管",
    },
    DemoPerson {
        id: "dept",
        name: "黃建國",
        title: "科長",
        unit: "elem",
        roles: "主管",
    },
    DemoPerson {
        id: "pe-head",
        name: "吳國華",
        title: "科長",
        unit: "pe",
        roles: "主管",
    },
    DemoPerson {
        id: "head",
        name: "湯志民",
        title: "局長",
        unit: "edu",
        roles: "首長",
    },
    DemoPerson {
        id: "deputy",
        name: "劉文華",
        title: "副局長",
        unit: "edu",
        roles: "主管",
    },
];

/// The delegation table: (matter, level). 1 局長, 2 科長, 3 股長.
pub const MATTERS: [(&str, i64); 3] = [("政策計畫", 1), ("學校業務", 2), ("一般行政", 3)];

/// What the demo keeps of its office: each person's card (id, certificate with chain, key).
#[derive(Serialize, Deserialize, Default, Clone)]
pub struct OfficeState {
    pub cards: Vec<(String, PathBuf, String)>,
}

impl OfficeState {
    pub fn card(&self, id: &str) -> Option<(&PathBuf, &str)> {
        self.cards
            .iter()
            .find(|(p, _, _)| p == id)
            .map(|(_, c, k)| (c, k.as_str()))
    }
}

/// The office's folder, configuration, cards, organisation and delegation table.
pub async fn create(
    dir: &Path,
    ca: &mut TestCa,
    ports: Ports,
    agent_token: &str,
    webhook_secret: &str,
) -> Result<OfficeState, CliError> {
    let home = dir.join("office");
    let cards_dir = home.join("cards");
    std::fs::create_dir_all(&cards_dir).map_err(|e| CliError::io(&cards_dir, e))?;
    let token_file = home.join("agent-token.txt");
    write_atomic(&token_file, agent_token.as_bytes())?;
    let webhook_secret_file = home.join("agent-webhook-secret.txt");
    write_atomic(&webhook_secret_file, webhook_secret.as_bytes())?;
    let now_s = gongwen_net::Clock::default().now_s();
    let mut state = OfficeState::default();
    let mut people_csv = String::from("人員代號,姓名,職稱,單位代號,憑證公鑰SHA-256,角色\n");
    for p in &PEOPLE {
        let issued = ca
            .issue(
                &IssueRequest {
                    subject: Subject::Person {
                        name: p.name.to_string(),
                    },
                    key: KeyType::P256,
                    days: 365,
                },
                now_s - 60,
            )
            .map_err(demo_err)?;
        let sign = issued
            .iter()
            .find(|c| c.record.usage == Usage::Signing)
            .ok_or_else(|| demo_err("沒有簽章憑證"))?;
        let mut pem = read(&sign.cert_file)?;
        let key = gongwen_trust::path::spki_sha256(
            gongwen_trust::cms::load_certs(&pem)
                .map_err(demo_err)?
                .first()
                .ok_or_else(|| demo_err("沒有憑證"))?,
        )
        .map_err(demo_err)?;
        pem.extend(read(&ca.ca_file(Branch::Moica))?);
        let chain = cards_dir.join(format!("{}-sign-chain.pem", p.id));
        write_atomic(&chain, &pem)?;
        let key_file = cards_dir.join(format!("{}-sign-key.pem", p.id));
        write_atomic(&key_file, &read(&sign.key_file)?)?;
        people_csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            p.id,
            p.name,
            p.title,
            p.unit,
            gongwen_trust::path::hex(&key),
            p.roles
        ));
        state
            .cards
            .push((p.id.to_string(), chain, key_file.display().to_string()));
    }
    let mut units_csv = String::from("單位代號,上級單位代號,單位名稱,線上簽核\n");
    for (id, parent, name, online) in UNITS {
        units_csv.push_str(&format!("{id},{parent},{name},{online}\n"));
    }
    write_atomic(&home.join("units.csv"), units_csv.as_bytes())?;
    write_atomic(&home.join("people.csv"), people_csv.as_bytes())?;

    let root = ca.root_file();
    let cfg = OfficeConfig {
        listen: format!("127.0.0.1:{}", ports.office),
        database_url: format!("sqlite://{}", home.join("office.db").display()),
        tls: None,
        agency: AgencySettings {
            code: AGENCY.into(),
            name: sample(AGENCY).name.into(),
            kind: "first_level".into(),
        },
        agent: AgentLink {
            url: format!("http://127.0.0.1:{}", ports.agent_tp),
            token_file,
            roots: Vec::new(),
            webhook_secret_file: Some(webhook_secret_file),
        },
        trust_anchors: vec![root],
        crls: vec![ca.dir().join("crl")],
        web: OfficeWeb {
            signer_url: format!("http://127.0.0.1:{}", ports.office_signer),
            origins: Vec::new(),
        },
        sync_every_s: 30,
        exclusions: (1..=8).collect(),
        calendars: Vec::new(),
        extensions: Default::default(),
        indicators: Default::default(),
        mail: None,
        remind_at: "09:00".into(),
    };
    let text = toml::to_string(&ConfigFile { office: &cfg }).map_err(demo_err)?;
    let head =
        "# 由 gongwen demo 產生：臺北市政府教育局的公文管理系統（測試憑證，勿用於正式環境）\n";
    write_atomic(&dir.join("office.toml"), format!("{head}{text}").as_bytes())?;

    // What an administrator does on the first day: import the units and the people, set the
    // delegation table, name the head's deputy.
    let db = gongwen_store::Db::connect(&cfg.database_url).await?;
    for (what, report) in [
        ("單位", org::import_units(&db, &units_csv).await),
        ("人員", org::import_people(&db, &people_csv).await),
    ] {
        let report = report.map_err(gongwen_net::Refusal::from)?;
        if let Some((line, why)) = report.refused.first() {
            return Err(demo_err(format!("匯入{what}第 {line} 列：{why}")));
        }
    }
    let now = gongwen_net::Clock::default().now_ms();
    let today = gongwen_office::taipei_day(now);
    for (matter, level) in MATTERS {
        let rule = delegation::Rule {
            matter: matter.into(),
            level,
            effective_from: "2020-01-01".into(),
            changed_by: "clerk".into(),
            changed_at: now,
        };
        delegation::set(&db, &rule)
            .await
            .map_err(gongwen_net::Refusal::from)?;
    }
    let deputy = org::Deputy {
        principal: "head".into(),
        deputy: "deputy".into(),
        first_day: today,
        last_day: gongwen_office::taipei_day(now + 365 * 86_400_000),
    };
    org::add_deputy(&db, &deputy)
        .await
        .map_err(gongwen_net::Refusal::from)?;
    db.close().await;
    Ok(state)
}

#[derive(Serialize)]
struct ConfigFile<'a> {
    office: &'a OfficeConfig,
}

/// The office and the clerk's signer (the first to act each morning), if the demo has an office.
pub async fn start(
    dir: &Path,
    state: &OfficeState,
) -> Result<Option<(gongwen_office::serve::Running, gongwen_net::Server)>, CliError> {
    let path = dir.join("office.toml");
    if !path.is_file() {
        return Ok(None);
    }
    let cfg = crate::center_cmd::load_file(&path)?
        .office
        .ok_or_else(|| demo_err(format!("{} 缺少 [office]", path.display())))?;
    let signer_at = cfg.web.signer_url.trim_start_matches("http://").to_string();
    let running = gongwen_office::serve::start(cfg, gongwen_net::Clock::default()).await?;
    let (cert, key) = state
        .card("clerk")
        .ok_or_else(|| demo_err("收發人員沒有憑證卡"))?;
    let card = crate::signer_cmd::card(&crate::signer_cmd::CardArgs {
        cert: cert.clone(),
        key: key.to_string(),
    })?;
    let origin = format!("http://{}", running.addr());
    let signer = gongwen_agent::signer::serve(&signer_at, card, vec![origin]).await?;
    Ok(Some((running, signer)))
}

/// The lines of the guide about the office.
pub fn guide(state: &OfficeState, ports: Ports) {
    let office = format!("http://127.0.0.1:{}", ports.office);
    println!("\n公文管理系統（臺北市政府教育局，線上簽核）：{office}/login");
    println!(
        "  示範已在 127.0.0.1:{} 啟動收發人員林美華的本機簽章程式；換人操作時，停止它並以該同仁的憑證卡啟動：",
        ports.office_signer
    );
    for p in &PEOPLE {
        if let Some((cert, key)) = state.card(p.id) {
            println!(
                "  {} {}（{}）：gongwen signer serve --cert {} --key {} --listen 127.0.0.1:{} --origin {office}",
                p.title,
                p.name,
                p.roles,
                cert.display(),
                key,
                ports.office_signer
            );
        }
    }
}

/// Signs and records one step as `who` with their card, as their signer would.
async fn act(
    app: &gongwen_office::serve::App,
    state: &OfficeState,
    req: &gongwen_office::steps::Request,
) -> Result<gongwen_office::steps::Step, CliError> {
    let who = req.actor.as_str();
    let (cert, key) = state
        .card(who)
        .ok_or_else(|| demo_err(format!("{who} 沒有憑證卡")))?;
    let card = crate::signer_cmd::card(&crate::signer_cmd::CardArgs {
        cert: cert.clone(),
        key: key.to_string(),
    })?;
    let now = app.clock.now_ms();
    let r = app
        .with_office(async |o| {
            let text = gongwen_office::steps::prepare(o, req).await?;
            let pem = card
                .sign_challenge(&text, now.div_euclid(1000))
                .map_err(|e| {
                    gongwen_office::OfficeError::new(gongwen_proto::Code::Internal, e.to_string())
                })?;
            let (_, der) = der::pem::decode_vec(pem.as_bytes()).map_err(|e| {
                gongwen_office::OfficeError::new(gongwen_proto::Code::Internal, e.to_string())
            })?;
            gongwen_office::steps::commit(o, req, &der, now).await
        })
        .await;
    r.map_err(|e| demo_err(format!("{}（{}）：{e}", req.action.label(), who)))
}

/// The self-test's case, from the school's letter in 待登記 to filing: registration and 簽收,
/// 分文 and 分辦, a 稿 up the chain, 決行 by the 科長 (學校業務 is theirs), 發文 through the
/// exchange, filing, and the export verified without the server.
pub async fn self_test(
    app: &gongwen_office::serve::App,
    state: &OfficeState,
    subject: &str,
    to: &str,
    to_name: &str,
) -> Result<String, CliError> {
    use gongwen_office::cases::{self, Origin};
    use gongwen_office::steps::{Action, Decision, NewCase, NewVersion, Request};
    use gongwen_office::{dispatch, export, intake};
    let db = &app.db;
    // The agent's webhook wakes the office's round (the next one is 30 seconds away).
    let mut waiting = Vec::new();
    for _ in 0..80 {
        waiting = intake::waiting(db, 50)
            .await
            .map_err(gongwen_net::Refusal::from)?;
        if waiting.iter().any(|w| w.subject == subject) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let letter = (waiting.iter())
        .find(|w| w.subject == subject)
        .ok_or_else(|| {
            demo_err("學校的來函 20 秒內未進入待登記（代理程式的 webhook 沒有喚醒公文管理系統？）")
        })?;
    let now = || app.clock.now_ms();
    let refused = |e: gongwen_office::OfficeError| CliError::from(gongwen_net::Refusal::from(e));
    let id = cases::next_number(db, "case", now())
        .await
        .map_err(refused)?;
    let req = |action, actor: &str| Request::new(&id, action, actor, now());
    let mut register = req(Action::Register, "clerk");
    register.new_case = Some(NewCase {
        origin: Origin::Exchange,
        subject: letter.subject.clone(),
        matter: "學校業務".into(),
        urgency: letter.urgency.clone(),
        intake: Some(letter.id.clone()),
    });
    act(app, state, &register).await?;
    intake::sign_for(db, &app.agent, &id)
        .await
        .map_err(refused)?;
    let to_unit = |mut r: Request, t: &str| {
        r.target = Some(t.to_string());
        r
    };
    act(
        app,
        state,
        &to_unit(req(Action::AssignUnit, "clerk"), "elem"),
    )
    .await?;
    act(
        app,
        state,
        &to_unit(req(Action::AssignOfficer, "desk"), "officer"),
    )
    .await?;
    let reply = serde_json::json!({
        "文別": "函",
        "速別": "普通件",
        "地址": "110204 臺北市信義區市府路1號",
        "聯絡方式": ["承辦人：王小明", "電話：(02)2720-8889 分機 1234"],
        "主旨": "復貴校連線測試結果，請查照。",
        "段落": [{ "段名": "說明：", "文字": "復貴校來函。" }],
        "署名": ["局長　湯志民"],
        "正本": [{ "全銜": to_name, "機關代碼": to }],
    });
    let mut draft = req(Action::Draft, "officer");
    draft.version = Some(NewVersion {
        doc: "draft-1".into(),
        kind: "draft".into(),
        content: reply.to_string().into_bytes(),
    });
    act(app, state, &draft).await?;
    act(
        app,
        state,
        &to_unit(req(Action::Submit, "officer"), "chief"),
    )
    .await?;
    act(app, state, &to_unit(req(Action::Approve, "chief"), "dept")).await?;
    let mut decide = req(Action::Decide, "dept");
    decide.decisions = vec![("draft-1".into(), Decision::Issue)];
    act(app, state, &decide).await?;
    let mut send = req(Action::Dispatch, "clerk");
    send.comment = "交換".into();
    act(app, state, &send).await?;
    let sent = dispatch::send(db, &app.agent, &id, now())
        .await
        .map_err(refused)?;
    let mut file = req(Action::File, "clerk");
    file.comment = "A01/115/1/1".into();
    file.retention = Some("5年".into());
    act(app, state, &file).await?;
    let exported = export::export(db, &app.agency, &id)
        .await
        .map_err(refused)?;
    let report = export::verify(&exported, &app.trust.store());
    if !report.is_ok() {
        return Err(demo_err(format!(
            "案件匯出檔驗證未通過：\n{}",
            export::record_text(&report)
        )));
    }
    Ok(format!(
        "{id}（發文字號 {}）",
        sent.first().map(|s| s.doc_number.as_str()).unwrap_or("")
    ))
}
