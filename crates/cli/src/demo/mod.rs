//! `gongwen demo`: the demo network (a test CA, the directory, two centers, agent nodes and
//! five sample participants, under one folder) with a couple of documents already exchanged,
//! running until Ctrl-C; started again it keeps its data. `--self-test` builds a fresh one in
//! a temporary folder, runs one full exchange across both centers, reports each step and
//! cleans up: the smoke test after installing.

mod network;
mod office;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use gongwen_client::agent::{AgentClient, Part};
use gongwen_proto::CopyStatus;
use gongwen_proto::agent::{SendResult, SendState};
use serde_json::{Value, json};

use crate::error::CliError;
use network::{Mode, Ports, SAMPLES, Sample, city_name, demo_err, sample};

const BUREAU: &str = "379130000C";
const DISTRICT: &str = "379100600B";
const SCHOOL: &str = "395450100A";
const ASSOCIATION: &str = "XA20250001";
const COMPANY: &str = "XB24536806";

const PLAN_PDF: &[u8] = include_bytes!("../../../../examples/attachments/plan.pdf");

pub fn run(dir: &Path, port: u16, self_test: bool) -> Result<ExitCode, CliError> {
    let rt = crate::runtime()?;
    if self_test {
        return rt.block_on(self_test_run());
    }
    if !(1024..=65_000).contains(&port) {
        return Err(demo_err(format!(
            "連接埠起點 {port} 不能用：請給 1024 到 65000 之間的數字（其後 12 個連接埠也會用到）"
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir, e))?;
    let dir = dir.canonicalize().map_err(|e| CliError::io(dir, e))?;
    let log = dir.join("demo.log");
    gongwen_net::log::to_file(&log).map_err(|e| CliError::io(&log, e))?;
    rt.block_on(async {
        let mut state = match network::load(&dir)? {
            Some(s) => {
                println!("沿用 {} 的示範網路（資料保留）。", dir.display());
                s
            }
            None => {
                println!(
                    "在 {} 建立示範網路：測試憑證中心、通訊錄、兩個交換中心、兩個機關代理程式……",
                    dir.display()
                );
                network::create(&dir, Ports::from_base(port)).await?
            }
        };
        let running = network::start(&dir).await?;
        if !state.samples_sent {
            println!("交換範例公文……");
            exchange_samples(&dir, &state).await?;
            state.samples_sent = true;
            network::save(&dir, &state)?;
        }
        print_guide(&dir, &state);
        office::guide(&state.office, state.ports);
        println!("各服務的日誌：{}", log.display());
        crate::center_cmd::wait_for_signal().await;
        println!("正在停止示範網路……");
        running.shutdown().await;
        println!("已停止。再執行一次 gongwen demo 會沿用同一份資料。");
        Ok(ExitCode::SUCCESS)
    })
}

fn api(state: &network::State, code: &str) -> Result<AgentClient, CliError> {
    let port = state.ports.agent(sample(code).city);
    let token = state
        .token(code)
        .ok_or_else(|| demo_err(format!("{code} 沒有 API 權杖")))?;
    // The agents' APIs are plain HTTP on 127.0.0.1: no roots needed.
    AgentClient::new(&format!("http://127.0.0.1:{port}"), token, b"").map_err(demo_err)
}

/// A 函 from `from` as a draft (JSON), with the sample plan as its attachment.
fn letter(from: &Sample, to: &[&str], copies: &[&str], subject: &str) -> Value {
    let party = |c: &&str| json!({ "全銜": sample(c).name, "機關代碼": c });
    json!({
        "文別": "函",
        "速別": "速件",
        "地址": network::address(from.city),
        "聯絡方式": ["承辦人：王小明", "電話：(02)2720-8889 分機 1234"],
        "主旨": subject,
        "段落": [{
            "段名": "說明：",
            "條列": [
                { "序號": "一、", "文字": "依據本府115年度公文電子交換推動計畫辦理。" },
                { "序號": "二、", "文字": "請於期限內完成下列事項：", "條列": [
                    { "序號": "(一)", "文字": "指定電子收發文人員及其職務代理人。" },
                    { "序號": "(二)", "文字": "每日上午10時前完成前一工作日來文之簽收或退文。" }
                ]}
            ]
        }],
        "署名": ["局長　王大明"],
        "附件": { "文字": "計畫書1份", "檔案": ["計畫書.pdf"] },
        "正本": to.iter().map(party).collect::<Vec<_>>(),
        "副本": copies.iter().map(party).collect::<Vec<_>>(),
    })
}

/// The bureau sends a 函 about `subject` to the school (正本) and the association (副本)
/// through its API.
async fn bureau_letter(api: &AgentClient, subject: &str) -> Result<SendResult, CliError> {
    let d = letter(sample(BUREAU), &[SCHOOL], &[ASSOCIATION], subject).to_string();
    api.send(
        &[
            Part {
                field: "draft",
                file: None,
                bytes: d.as_bytes(),
            },
            Part {
                field: "attachment",
                file: Some("計畫書.pdf"),
                bytes: PLAN_PDF,
            },
        ],
        None,
    )
    .await
    .map_err(demo_err)
}

/// The company drops a letter in its outbox folder, as its document system would.
fn drop_in_outbox(dir: &Path) -> Result<(), CliError> {
    let from = sample(COMPANY);
    let mut draft = letter(
        from,
        &[DISTRICT],
        &[],
        "函送本公司115年度資訊服務契約履約報告1份，請查照。",
    );
    draft["發文字號"] = json!({ "字": from.word, "年度": 115, "流水號": 1 });
    draft["發文機關"] = json!([{ "全銜": from.name, "機關代碼": from.code }]);
    draft["署名"] = json!(["董事長　陳大文"]);
    let draft: gongwen_doc::draft::Draft = serde_json::from_value(draft).map_err(demo_err)?;
    let work = dir.join("tmp-company-letter");
    let _ = std::fs::remove_dir_all(&work);
    let uploads = work.join("uploads");
    std::fs::create_dir_all(&uploads).map_err(|e| CliError::io(&uploads, e))?;
    crate::doc_cmd::write_atomic(&uploads.join("計畫書.pdf"), PLAN_PDF)?;
    let today = crate::clock::today();
    let set = gongwen_agent::compose::stage(&draft, today, &uploads, &work.join("set"))
        .map_err(demo_err)?;
    let outbox = network::folder_of(dir, from).join("outbox");
    // The DI last, so the set is never taken half-copied.
    for f in set.files().iter().rev() {
        let name = f.file_name().ok_or_else(|| demo_err("檔名"))?;
        std::fs::copy(f, outbox.join(name)).map_err(|e| CliError::io(f, e))?;
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

async fn wait_for<F, Fut>(what: &str, mut f: F) -> Result<(), CliError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..240 {
        if f().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(demo_err(format!("等候「{what}」超過 60 秒")))
}

/// Waits until the district office's inbox folder holds an entry for which `done` holds.
async fn district_receives(dir: &Path, done: fn(&Path) -> bool) -> Result<(), CliError> {
    let inbox = network::folder_of(dir, sample(DISTRICT)).join("inbox");
    wait_for("大安區公所的收文資料夾", || {
        let inbox = inbox.clone();
        async move {
            std::fs::read_dir(&inbox)
                .map(|d| d.flatten().any(|e| done(&e.path())))
                .unwrap_or(false)
        }
    })
    .await
}

/// The status of `to`'s copy of `id`, as the sender's node reports it.
async fn status(sender: &AgentClient, id: &str, to: &str) -> Option<CopyStatus> {
    let p = sender.sent(id).await.ok()?;
    p.copies
        .iter()
        .find(|c| c.recipient == to)
        .map(|c| c.status)
}

/// The first run's documents: the bureau writes to the school (正本) and the association
/// (副本) at the other center; the school signs for it; the company sends a letter to the
/// district office through its folders. The association's copy is left for its user.
async fn exchange_samples(dir: &Path, state: &network::State) -> Result<(), CliError> {
    let bureau = api(state, BUREAU)?;
    let subject =
        "檢送本局「115年度公文電子交換推動計畫」1份，請於115年1月30日前完成連線測試，請查照。";
    let sent = bureau_letter(&bureau, subject).await?;
    let id = sent.package_id.clone();
    println!(
        "  臺北市政府教育局 → 臺南市立大光國民小學（正本）、臺南市社區營造協會（副本）：{}",
        sent.package
            .as_ref()
            .map(|p| p.doc_number.as_str())
            .unwrap_or("")
    );
    drop_in_outbox(dir)?;
    println!("  府城資訊股份有限公司（資料夾）→ 臺北市大安區公所（資料夾）");
    wait_for("國小收到", || async {
        matches!(
            status(&bureau, &id, SCHOOL).await,
            Some(CopyStatus::Delivered)
        )
    })
    .await?;
    api(state, SCHOOL)?.confirm(&id).await.map_err(demo_err)?;
    println!("  臺南市立大光國民小學已簽收");
    district_receives(dir, |_| true).await?;
    println!("  臺北市大安區公所的收文資料夾已收到");
    let school = api(state, SCHOOL)?;
    school_letter(&school, "函報本校115年度公文電子交換連線測試結果，請鑒核。").await?;
    println!("  臺南市立大光國民小學 → 臺北市政府教育局：進入教育局公文管理系統的待登記");
    Ok(())
}

/// The school writes to the bureau through its API: the letter the bureau's registration desk
/// finds in 待登記.
async fn school_letter(school: &AgentClient, subject: &str) -> Result<SendResult, CliError> {
    let mut d = letter(sample(SCHOOL), &[BUREAU], &[], subject);
    if let Some(o) = d.as_object_mut() {
        o.remove("附件");
    }
    d["署名"] = json!(["校長　陳美玲"]);
    let d = d.to_string();
    let part = Part {
        field: "draft",
        file: None,
        bytes: d.as_bytes(),
    };
    school.send(&[part], None).await.map_err(demo_err)
}

fn print_guide(dir: &Path, state: &network::State) {
    let p = state.ports;
    println!("\n══ 示範網路已啟動（{}）══", dir.display());
    println!(
        "通訊錄      https://127.0.0.1:{}/  （地址簿：/address-book）",
        p.directory
    );
    println!(
        "臺北市交換中心 https://127.0.0.1:{}   臺南市交換中心 https://127.0.0.1:{}",
        p.tp, p.tn
    );
    println!(
        "機關代理程式  臺北市 http://127.0.0.1:{}   臺南市 http://127.0.0.1:{}（公文系統 API：/api/v1/openapi.json）",
        p.agent_tp, p.agent_tn
    );
    println!(
        "（憑證由示範用測試憑證中心簽發，瀏覽器會警告不受信任：根憑證在 {}）\n",
        dir.join("pki/ca/root.crt").display()
    );
    println!("參與者：");
    for s in &SAMPLES {
        let port = p.agent(s.city);
        let how = match s.mode {
            Mode::Folder => format!(
                "資料夾模式：{}（outbox／sent／error／inbox）",
                network::folder_of(dir, s).display()
            ),
            Mode::Web => format!(
                "網頁版：http://127.0.0.1:{port}/login，按「以憑證登入」（示範已在 127.0.0.1:{} 代為啟動協會憑證卡的本機簽章程式 gongwen signer）",
                p.signer
            ),
            Mode::Api | Mode::FolderAndApi => {
                let token = state.token(s.code).unwrap_or("");
                let api = format!("公文系統 API：http://127.0.0.1:{port}，權杖 {token}");
                if s.mode.folder() {
                    format!(
                        "資料夾模式：{}；{api}",
                        network::folder_of(dir, s).display()
                    )
                } else {
                    api
                }
            }
        };
        println!(
            "  {} {}（{}交換中心）\n    {how}",
            s.code,
            s.name,
            city_name(s.city)
        );
    }
    let assoc = state.token(ASSOCIATION).unwrap_or("");
    println!(
        "\n每個參與者都可以用網頁版（其代理程式網址的 /login）：在自己的電腦以自己的憑證卡啟動本機簽章程式 gongwen signer serve。"
    );
    if let Some((code, cert, key)) = state.cards.iter().find(|(c, _, _)| c == SCHOOL) {
        println!(
            "  例如{}的憑證卡：--cert {} --key {}",
            sample(code).name,
            cert.display(),
            key
        );
    }
    println!("\n接著可以試試：");
    println!(
        "  curl -s -H 'Authorization: Bearer {assoc}' http://127.0.0.1:{}/api/v1/inbox        # 協會的待簽收公文",
        p.agent_tn
    );
    println!(
        "  gongwen directory address-book -c {} --query 台南            # 地址簿（臺／台不分）",
        dir.join("directory.toml").display()
    );
    println!(
        "  把 DI＋SW＋附件放進 {} 就會送出",
        network::folder_of(dir, sample(DISTRICT))
            .join("outbox")
            .display()
    );
    println!(
        "  gongwen center admin -c {} records                              # 交換紀錄",
        dir.join("center-tp.toml").display()
    );
    println!("\n按 Ctrl-C 停止；再執行一次 gongwen demo 會沿用同一份資料。");
}

/// One step of the self-test, printed as it goes.
async fn step<T>(
    n: usize,
    what: &str,
    f: impl std::future::Future<Output = Result<T, CliError>>,
) -> Result<T, CliError> {
    let r = f.await;
    match &r {
        Ok(_) => println!("  ✓ {n}. {what}"),
        Err(e) => println!("  ✗ {n}. {what}：{e}"),
    }
    r
}

async fn self_test_run() -> Result<ExitCode, CliError> {
    let tmp = std::env::temp_dir().join(format!("gongwen-demo-self-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    println!(
        "gongwen demo --self-test：在 {} 建立全新的示範網路並完整交換一次",
        tmp.display()
    );
    std::fs::create_dir_all(&tmp).map_err(|e| CliError::io(&tmp, e))?;
    let log = tmp.join("demo.log");
    gongwen_net::log::to_file(&log).map_err(|e| CliError::io(&log, e))?;
    let result = self_test_steps(&tmp).await;
    if result.is_err() {
        // What the services said, before it is cleaned up.
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        println!("日誌最後 {} 行：", lines.len().min(30));
        for l in &lines[lines.len().saturating_sub(30)..] {
            println!("  {l}");
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    match result {
        Ok(()) => {
            println!(
                "自我測試通過：發文、跨交換中心送達、簽收、退文、資料夾收發、機關內線上簽核都正常；暫存資料已清除。"
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("自我測試失敗；暫存資料已清除。");
            Err(e)
        }
    }
}

async fn self_test_steps(dir: &Path) -> Result<(), CliError> {
    let state = step(
        1,
        "建立測試憑證中心、通訊錄登記、兩個交換中心與兩個代理程式的設定",
        network::create(dir, Ports::free()?),
    )
    .await?;
    let running = step(
        2,
        "啟動通訊錄、臺北市與臺南市交換中心、機關代理程式；交換中心由通訊錄快照得知參與者",
        network::start(dir),
    )
    .await?;
    let mut r = self_test_exchange(dir, &state).await;
    if r.is_ok() {
        r = self_test_office(&state, &running).await;
    }
    running.shutdown().await;
    r
}

/// The bureau's document-management system carries the school's letter from 待登記 to filing.
async fn self_test_office(
    state: &network::State,
    running: &network::Running,
) -> Result<(), CliError> {
    let subject = "自我測試：本校連線測試結果，請鑒核。";
    step(
        9,
        "國小以公文系統 API 函送臺北市政府教育局",
        async {
            school_letter(&api(state, SCHOOL)?, subject)
                .await
                .map(|_| ())
        },
    )
    .await?;
    let (office, _) = (running.office.as_ref()).ok_or_else(|| demo_err("公文管理系統未啟動"))?;
    let school = sample(SCHOOL);
    step(
        10,
        "教育局公文管理系統：代理程式的 webhook 一到即收進待登記，登記並簽收、分文、分辦、擬稿、陳核、核轉、科長決行「發」、交換發文、歸檔，每一步由本人憑證簽章；匯出檔驗證通過",
        async {
            let done =
                office::self_test(&office.app, &state.office, subject, SCHOOL, school.name).await?;
            println!("     案件 {done}");
            Ok(())
        },
    )
    .await?;
    step(11, "國小的代理程式收到教育局的復函", async {
        let school = api(state, SCHOOL)?;
        wait_for("國小收到復函", || async {
            school.inbox("all").await.is_ok_and(|p| {
                p.items
                    .iter()
                    .any(|i| i.subject.contains("復貴校連線測試結果") && i.sender == BUREAU)
            })
        })
        .await
    })
    .await?;
    Ok(())
}

async fn self_test_exchange(dir: &Path, state: &network::State) -> Result<(), CliError> {
    let bureau = api(state, BUREAU)?;
    let sent = step(
        3,
        "臺北市政府教育局以公文系統 API 發函（附 PDF）給臺南市的國小（正本）與協會（副本）",
        async {
            let v = bureau_letter(&bureau, "自我測試函，請查照。").await?;
            if v.state != SendState::Submitted {
                return Err(demo_err(format!(
                    "交換中心未收件：{}",
                    v.detail.as_deref().unwrap_or(v.state.label())
                )));
            }
            Ok(v)
        },
    )
    .await?;
    let id = sent.package_id.clone();
    step(
        4,
        "經臺北市交換中心轉送臺南市交換中心，兩個收文者的代理程式解密、驗證並回送達",
        async {
            for to in [SCHOOL, ASSOCIATION] {
                wait_for("送達", || async {
                    status(&bureau, &id, to).await == Some(CopyStatus::Delivered)
                })
                .await?;
            }
            Ok(())
        },
    )
    .await?;
    step(5, "國小簽收（收文確認）", async {
        api(state, SCHOOL)?.confirm(&id).await.map_err(demo_err)
    })
    .await?;
    step(6, "協會退文（誤送，附說明）", async {
        api(state, ASSOCIATION)?
            .return_doc(&id, "誤送", "本會非受文者，請查明")
            .await
            .map_err(demo_err)
    })
    .await?;
    step(
        7,
        "發文者看到：國小已收文確認、協會已退文（含原因）",
        async {
            wait_for("收文確認與退文傳回臺北市", || async {
                status(&bureau, &id, SCHOOL).await == Some(CopyStatus::Confirmed)
                    && status(&bureau, &id, ASSOCIATION).await == Some(CopyStatus::Returned)
            })
            .await?;
            let p = bureau.sent(&id).await.map_err(demo_err)?;
            let r = p
                .copies
                .iter()
                .find(|c| c.recipient == ASSOCIATION)
                .and_then(|c| c.return_reason);
            if r != Some(gongwen_proto::ReturnReason::Misdelivered) {
                return Err(demo_err(format!("退文原因應為誤送，實為 {r:?}")));
            }
            Ok(())
        },
    )
    .await?;
    step(
        8,
        "府城資訊公司以資料夾送出，臺北市大安區公所的收文資料夾收到（DI、SW、附件、receipt.json）",
        async {
            drop_in_outbox(dir)?;
            district_receives(dir, |set| set.join("receipt.json").is_file()).await
        },
    )
    .await?;
    Ok(())
}
