//! `gongwen demo`: the bundled example letter written, checked, printed, and then sent through
//! a real exchange center (SQLite, mutual TLS) to its recipients, who confirm or return it.

use std::path::Path;
use std::process::ExitCode;

use crate::doc_cmd;
use crate::error::CliError;

const DRAFT: &str = include_str!("../../../examples/letter.toml");
const ATTACHMENT: &[u8] = include_bytes!("../../../examples/attachments/plan.pdf");

pub fn run(out: &Path) -> Result<ExitCode, CliError> {
    let draft_dir = out.join("draft");
    let att_dir = draft_dir.join("attachments");
    std::fs::create_dir_all(&att_dir).map_err(|e| CliError::io(&att_dir, e))?;
    let draft = draft_dir.join("letter.toml");
    doc_cmd::write_atomic(&draft, DRAFT.as_bytes())?;
    doc_cmd::write_atomic(&att_dir.join("plan.pdf"), ATTACHMENT)?;

    println!("一、由草稿 {} 產生 DI、SW 與附件：", draft.display());
    let w = doc_cmd::new_files(&draft, out, None)?;
    for p in w.dis.iter().chain(&w.rosters).chain(&w.attachments) {
        println!("    {}", p.display());
    }

    println!("\n二、檢查（DTD 與欄位規則；SW 與附件一併檢查）：");
    let code = doc_cmd::check(&w.dis)?;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }

    let di_path = &w.dis[0];
    println!("\n三、公文內容（gongwen doc show）：\n");
    doc_cmd::show(di_path)?;

    println!("四、列印（含電子公文交換戳記與騎縫章）：");
    let pdf = di_path.with_extension("pdf");
    let html = di_path.with_extension("html");
    let stamp = || doc_cmd::StampArgs {
        agency: Some("臺北市政府資訊局".into()),
        time: Some("115/01/05 10:30".into()),
        receipt_no: Some("北市資字第1150000456號".into()),
    };
    doc_cmd::render(di_path, &pdf, false, stamp(), None)?;
    doc_cmd::render(di_path, &html, true, stamp(), None)?;
    let files = |p: &Path| -> Result<(String, Vec<u8>), CliError> {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok((name, std::fs::read(p).map_err(|e| CliError::io(p, e))?))
    };
    let di = files(di_path)?;
    let sw = w.rosters.first().map(|p| files(p)).transpose()?;
    let attachments = w
        .attachments
        .iter()
        .map(|p| files(p))
        .collect::<Result<Vec<_>, _>>()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Arg {
            detail: e.to_string(),
        })?;
    rt.block_on(network(&out.join("network"), di, sw, attachments))?;
    println!("\n完成。可用 PDF 閱讀器開啟 {}。", pdf.display());
    Ok(ExitCode::SUCCESS)
}

fn demo_err(e: impl std::fmt::Display) -> CliError {
    CliError::Arg {
        detail: format!("示範失敗：{e}"),
    }
}

/// 五、六: the letter through an exchange center to its recipients and back.
async fn network(
    dir: &Path,
    di: (String, Vec<u8>),
    sw: Option<(String, Vec<u8>)>,
    attachments: Vec<(String, Vec<u8>)>,
) -> Result<(), CliError> {
    use gongwen_center::testbed::{Pki, start_center};
    use gongwen_proto::{HeaderOptions, ReturnReason};
    use gongwen_trust::receipt::ReceiptEvent;
    const SENDER: &str = "379000000A";
    const DIT: &str = "379130000C";
    const EDU: &str = "379050000D";
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir, e))?;
    println!(
        "\n五、交換中心（SQLite：{}，雙向 TLS）：",
        dir.join("center.db").display()
    );
    println!("    建立測試憑證：臺北市政府、資訊局、教育局（簽章、加密、TLS 用戶端各一張）");
    let pki = Pki::create(dir, &[SENDER, DIT, EDU]).map_err(demo_err)?;
    let url = format!("sqlite://{}", dir.join("center.db").display());
    let center = start_center(&pki, "demo", &url, "fs")
        .await
        .map_err(demo_err)?;
    println!("    交換中心已啟動：https://{}", center.addr());
    let to = [DIT, EDU, "379020000E"];
    let pkg = pki
        .seal_files(SENDER, di, sw, attachments, &to, HeaderOptions::default())
        .map_err(demo_err)?;
    let a = pki.client(center.addr(), SENDER).map_err(demo_err)?;
    let sent = a.submit("demo-1", pkg).await.map_err(demo_err)?;
    println!(
        "    臺北市政府送出封包 {}（{} 位元組）",
        sent.id, sent.body_size
    );
    for c in &sent.copies {
        println!(
            "      → {} {}：{}{}",
            c.recipient,
            c.copy,
            c.status.label(),
            c.fail_reason
                .map(|r| format!("（{}）", r.label()))
                .unwrap_or_default()
        );
    }
    println!("\n六、收文：");
    for (code, name) in [(DIT, "資訊局"), (EDU, "教育局")] {
        let c = pki.client(center.addr(), code).map_err(demo_err)?;
        let mut items = c.inbox(&[]).await.map_err(demo_err)?.items;
        // A copy for the agency and one for its unit are one package to open.
        items.dedup_by(|x, y| x.id == y.id);
        for item in items {
            let body = c.fetch(&item.id).await.map_err(demo_err)?;
            let me = pki.agency(code);
            let opened = gongwen_trust::package::open(
                &body,
                &gongwen_trust::package::Recipient {
                    key: &me.enc_key,
                    cert: &me.enc_cert,
                    code: &gongwen_doc::AgencyCode::parse(code).map_err(demo_err)?,
                },
                &center.app.trust,
                &|c| {
                    if c == SENDER {
                        gongwen_trust::path::spki_sha256(&pki.agency(SENDER).sign_cert)
                            .map(|k| vec![k])
                            .unwrap_or_default()
                    } else {
                        Vec::new()
                    }
                },
            )
            .map_err(demo_err)?;
            println!(
                "    {name}收到 {}「{}」，解密並驗證簽章：{} 個檔案",
                item.doc_number,
                opened.header.subject.chars().take(20).collect::<String>() + "…",
                opened.files.len()
            );
            let d = pki
                .receipt(code, &body, ReceiptEvent::Delivered, None, None)
                .map_err(demo_err)?;
            c.receipt(&item.id, d).await.map_err(demo_err)?;
            let r = if code == DIT {
                pki.receipt(code, &body, ReceiptEvent::Confirmed, None, None)
            } else {
                pki.receipt(
                    code,
                    &body,
                    ReceiptEvent::Returned,
                    Some(ReturnReason::NotOurs),
                    Some("本案非本局業務"),
                )
            }
            .map_err(demo_err)?;
            let v = c.receipt(&item.id, r).await.map_err(demo_err)?;
            println!("      {name}：{}", v.status.label());
        }
    }
    let view = a.sent(&sent.id).await.map_err(demo_err)?;
    let g = &view.aggregate;
    println!(
        "    發文者看到：共 {} 份，收文確認 {}、退文 {}、失敗 {}、處理中 {}",
        g.total, g.confirmed, g.returned, g.failed, g.pending
    );
    let csv = a
        .records_csv(&[("package_id", sent.id.as_str())])
        .await
        .map_err(demo_err)?;
    let csv_path = dir.join("紀錄.csv");
    std::fs::write(&csv_path, csv).map_err(|e| CliError::io(&csv_path, e))?;
    println!("    交換紀錄：{}", csv_path.display());
    center.shutdown().await;
    Ok(())
}
