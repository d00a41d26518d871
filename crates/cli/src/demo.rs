//! `gongwen demo`: the document layer doing real work, from the bundled example draft.
//! (Once the exchange network exists, this grows into the whole network on one machine.)

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
    println!("\n完成。可用 PDF 閱讀器開啟 {}。", pdf.display());
    Ok(ExitCode::SUCCESS)
}
