//! One case as one file (JSON: the case, every version, every signed step, the people who
//! signed), and its verification without the office's server: `gongwen office verify`.
//!
//! Verification needs only the file and the trust anchors. It checks each step's CMS
//! signature, that the steps form one unbroken chain (number, previous step's digest), that the
//! signer is the person the step names, that every version named by a step is in the file with
//! that digest, and that no version is in the file that no step signed. A certificate that was
//! revoked or expired when it signed is flagged.

use base64ct::{Base64, Encoding};
use gongwen_store::{Db, sha256_hex};
use gongwen_trust::cms;
use gongwen_trust::path::{Purpose, TrustStore, hex, spki_sha256};
use serde::{Deserialize, Serialize};

use crate::steps::{self, STEP_HEAD};
use crate::{OfficeError, bad, cases, org};

pub const FORMAT: &str = "gongwen-office-case/1";

/// Largest export `verify` reads (every version of every document of one case).
pub const MAX_EXPORT_BYTES: usize = 512 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Export {
    pub format: String,
    pub agency: String,
    pub case: ExportCase,
    pub people: Vec<ExportPerson>,
    pub versions: Vec<ExportVersion>,
    pub steps: Vec<ExportStep>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportCase {
    pub id: String,
    pub origin: String,
    pub subject: String,
    pub matter: String,
    pub urgency: String,
    pub state: String,
    pub dispatch_number: Option<String>,
    pub file_code: Option<String>,
    pub retention: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportPerson {
    pub id: String,
    pub name: String,
    pub title: String,
    pub spki_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportVersion {
    pub doc: String,
    pub version: i64,
    pub kind: String,
    pub sha256: String,
    /// Base64.
    pub content: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportStep {
    pub seq: i64,
    pub action: String,
    pub actor: String,
    pub principal: Option<String>,
    pub at: i64,
    /// The CMS SignedData, DER in Base64; its content is the signed text.
    pub cms: String,
}

/// The case as one file.
pub async fn export(db: &Db, agency: &str, case_id: &str) -> Result<Export, OfficeError> {
    let c = cases::case(db, case_id).await?;
    let mut versions = Vec::new();
    for v in cases::versions(db, case_id).await? {
        let content = cases::version_content(db, case_id, &v.doc, v.version).await?;
        versions.push(ExportVersion {
            doc: v.doc,
            version: v.version,
            kind: v.kind,
            sha256: v.sha256,
            content: Base64::encode_string(&content),
        });
    }
    let steps = steps::steps(db, case_id).await?;
    let mut people: Vec<ExportPerson> = Vec::new();
    for s in &steps {
        for id in std::iter::once(&s.actor).chain(&s.principal) {
            if !people.iter().any(|p| p.id == *id) {
                let p = org::person(db, id).await?;
                people.push(ExportPerson {
                    id: p.id,
                    name: p.name,
                    title: p.title,
                    spki_sha256: p.spki_sha256,
                });
            }
        }
    }
    Ok(Export {
        format: FORMAT.to_string(),
        agency: agency.to_string(),
        case: ExportCase {
            id: c.id,
            origin: c.origin.as_str().to_string(),
            subject: c.subject,
            matter: c.matter,
            urgency: c.urgency,
            state: c.state.as_str().to_string(),
            dispatch_number: c.dispatch_number,
            file_code: c.file_code,
            retention: c.retention,
        },
        people,
        versions,
        steps: steps
            .into_iter()
            .map(|s| ExportStep {
                seq: s.seq,
                action: s.action.as_str().to_string(),
                actor: s.actor,
                principal: s.principal,
                at: s.at,
                cms: Base64::encode_string(&s.cms),
            })
            .collect(),
    })
}

/// What verification found about one step: who did what when, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedStep {
    pub seq: i64,
    /// 動作 as signed.
    pub action: String,
    /// 「職稱 姓名」 of the signer, and of the person acted for (「代」).
    pub signer: String,
    pub acting_for: Option<String>,
    /// 時間 as signed.
    pub time: String,
    pub problems: Vec<String>,
}

/// The verdict on a case file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub case: String,
    pub agency: String,
    pub subject: String,
    pub steps: Vec<CheckedStep>,
    /// Problems of the file as a whole (versions nobody signed, a wrong format …).
    pub problems: Vec<String>,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && self.steps.iter().all(|s| s.problems.is_empty())
    }
}

/// The 簽核紀錄 of a verified case: a group of lines per step (序號, 動作, 簽核人, 代, 時間 and
/// any problem), then the verdict. Printed as text by `gongwen office verify` and as a PDF
/// with `gongwen_render::render_record_pdf`.
pub fn record(report: &Report) -> gongwen_render::Record {
    let line = |l: &str, t: &str| (l.to_string(), t.to_string());
    let mut groups = vec![vec![
        line("案件", &report.case),
        line("主旨", &report.subject),
    ]];
    for s in &report.steps {
        let mut g = vec![
            line("序號", &s.seq.to_string()),
            line("動作", &s.action),
            line("簽核人", &s.signer),
        ];
        if let Some(p) = &s.acting_for {
            g.push(line("代", p));
        }
        g.push(line("時間", &s.time));
        g.extend(s.problems.iter().map(|p| line("問題", p)));
        groups.push(g);
    }
    let mut end: Vec<(String, String)> = report.problems.iter().map(|p| line("問題", p)).collect();
    end.push(line(
        "驗證",
        if report.is_ok() {
            "驗證通過：每一步的簽章、簽核人憑證、步驟鏈與各版本內容都相符"
        } else {
            "驗證未通過：見上列問題"
        },
    ));
    groups.push(end);
    gongwen_render::Record {
        agency: report.agency.clone(),
        kind: "簽核紀錄".to_string(),
        subject: report.subject.clone(),
        groups,
    }
}

/// [`record`] as text, a line per field and a blank line between steps.
pub fn record_text(report: &Report) -> String {
    let mut out = String::new();
    for group in record(report).groups {
        for (label, text) in group {
            out += &format!("{label}：{text}\n");
        }
        out += "\n";
    }
    out
}

fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('：'))
}

/// The id in 「… （id）」.
fn bracketed_id(v: &str) -> Option<&str> {
    v.strip_suffix('）')?.rsplit_once('（').map(|(_, id)| id)
}

/// Reads an export file (JSON) and verifies it against `trust`.
pub fn verify_file(bytes: &[u8], trust: &TrustStore) -> Result<Report, OfficeError> {
    if bytes.len() > MAX_EXPORT_BYTES {
        return Err(bad(format!("案件檔超過 {MAX_EXPORT_BYTES} 位元組")));
    }
    let export: Export =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("不是案件匯出檔（JSON）：{e}")))?;
    Ok(verify(&export, trust))
}

/// Verifies an export against `trust`; never fails, every finding is in the report.
pub fn verify(export: &Export, trust: &TrustStore) -> Report {
    let mut report = Report {
        case: export.case.id.clone(),
        agency: export.agency.clone(),
        subject: export.case.subject.clone(),
        steps: Vec::new(),
        problems: Vec::new(),
    };
    if export.format != FORMAT {
        report
            .problems
            .push(format!("格式「{}」不是 {FORMAT}", export.format));
    }
    // Versions: the content must have the digest the file states.
    for v in &export.versions {
        match Base64::decode_vec(&v.content) {
            Ok(c) if sha256_hex(&c) == v.sha256 => {}
            _ => report.problems.push(format!(
                "「{}」第 {} 版的內容與其摘要不符（遭修改）",
                v.doc, v.version
            )),
        }
    }
    let mut signed_versions: Vec<String> = Vec::new();
    let mut prev: Option<String> = None;
    for (i, s) in export.steps.iter().enumerate() {
        let mut checked = CheckedStep {
            seq: s.seq,
            action: s.action.clone(),
            signer: s.actor.clone(),
            acting_for: None,
            time: String::new(),
            problems: Vec::new(),
        };
        let problems = &mut checked.problems;
        let der = Base64::decode_vec(&s.cms).unwrap_or_default();
        let digest = sha256_hex(&der);
        match cms::verify(&der) {
            Err(e) => problems.push(format!("簽章無效：{e}")),
            Ok(v) => {
                let text = String::from_utf8_lossy(&v.content).into_owned();
                if !text.starts_with(STEP_HEAD) {
                    problems.push("簽署的內容不是線上簽核的步驟".to_string());
                }
                let expect_seq = (i + 1).to_string();
                let checks = [
                    ("機關", Some(export.agency.as_str()), "機關"),
                    ("案件", Some(export.case.id.as_str()), "案件"),
                    (
                        "序號",
                        Some(expect_seq.as_str()),
                        "序號（步驟被刪除或調換）",
                    ),
                    (
                        "前一步",
                        Some(prev.as_deref().unwrap_or("無")),
                        "前一步的摘要（步驟被刪除、調換或修改）",
                    ),
                ];
                for (key, want, what) in checks {
                    if field(&text, key) != want {
                        problems.push(format!("{what}不符"));
                    }
                }
                let action = field(&text, "動作").unwrap_or_default();
                if !action.ends_with(&format!("（{}）", s.action)) {
                    problems.push(format!(
                        "記錄的動作「{}」與簽署的「{action}」不符",
                        s.action
                    ));
                }
                checked.action = action.to_string();
                checked.time = field(&text, "時間").unwrap_or_default().to_string();
                let signer_id = field(&text, "簽核人").and_then(bracketed_id);
                if signer_id != Some(s.actor.as_str()) {
                    problems.push("簽核人與紀錄不符".to_string());
                }
                checked.signer = field(&text, "簽核人").unwrap_or_default().to_string();
                checked.acting_for = field(&text, "代").map(str::to_string);
                if field(&text, "代").and_then(bracketed_id) != s.principal.as_deref() {
                    problems.push("代理註記與紀錄不符".to_string());
                }
                let person = export.people.iter().find(|p| p.id == s.actor);
                let key = spki_sha256(&v.signer).map(|k| hex(&k)).ok();
                if person.and_then(|p| p.spki_sha256.clone()) != key || key.is_none() {
                    problems.push("簽章憑證不是簽核人登記的憑證".to_string());
                }
                let at = v.signing_time.unwrap_or(s.at.div_euclid(1000));
                if let Err(e) = trust.evaluate(&v.signer, &v.certs, at, Purpose::Signing) {
                    problems.push(format!("簽署時的憑證有問題：{e}"));
                }
                for line in text.lines().filter_map(|l| l.strip_prefix("文件：")) {
                    // 「doc 第N版 kind SHA-256 hex」
                    let parts: Vec<&str> = line.split(' ').collect();
                    let found = match parts[..] {
                        [doc, n, _, "SHA-256", sha] => export.versions.iter().any(|v| {
                            v.doc == doc && format!("第{}版", v.version) == n && v.sha256 == sha
                        }),
                        _ => false,
                    };
                    if found {
                        signed_versions.push(line.to_string());
                    } else {
                        problems.push(format!("簽署的文件「{line}」不在檔案中或內容不同"));
                    }
                }
            }
        }
        prev = Some(digest);
        report.steps.push(checked);
    }
    let actions: Vec<&str> = export.steps.iter().map(|s| s.action.as_str()).collect();
    if !final_states(&actions).contains(&export.case.state.as_str()) {
        report.problems.push(format!(
            "案件狀態「{}」與簽核步驟不符（最後的步驟可能被刪除）",
            export.case.state
        ));
    }
    for v in &export.versions {
        let named = format!(
            "{} 第{}版 {} SHA-256 {}",
            v.doc, v.version, v.kind, v.sha256
        );
        if !signed_versions.contains(&named) {
            report.problems.push(format!(
                "「{}」第 {} 版沒有任何簽核步驟涵蓋（未經簽核加入或遭修改）",
                v.doc, v.version
            ));
        }
    }
    report
}

/// The states a case may be in after these actions (by their stored names). Steps that
/// leave the state as it was (擬辦, 改列紙本, 修改) carry the earlier possibilities on.
fn final_states(actions: &[&str]) -> Vec<&'static str> {
    let mut states: Vec<&'static str> = Vec::new();
    for a in actions {
        let next: &[&'static str] = match *a {
            "register" | "return_to_desk" => &["registered"],
            "assign_unit" => &["at_unit"],
            "assign_officer" | "create" | "reopen" => &["with_officer"],
            "refuse" => &["refused"],
            "consult" => &["consulting"],
            "opinion" => &["consulting", "with_officer"],
            "submit" | "approve" => &["in_review"],
            "return" => &["with_officer", "in_review"],
            "decide" => &["to_dispatch", "to_file"],
            "dispatch" => &["to_file"],
            "file" => &["filed"],
            // 改速別 and 展期 move the deadline, not the state.
            "change_urgency" | "extend" => continue,
            _ => continue,
        };
        states = next.to_vec();
    }
    states
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_ids_are_read_from_signed_lines() {
        let text = "公文管理系統線上簽核\n案件：1150000001\n簽核人：科長 王大明（wang）\n";
        assert_eq!(field(text, "案件"), Some("1150000001"));
        assert_eq!(field(text, "代"), None);
        assert_eq!(field(text, "簽核人").and_then(bracketed_id), Some("wang"));
        assert_eq!(bracketed_id("沒有括號"), None);
    }

    #[test]
    fn the_state_follows_from_the_last_step_that_moves_it() {
        assert_eq!(final_states(&["register", "assign_unit"]), ["at_unit"]);
        assert_eq!(final_states(&["create", "draft", "flag"]), ["with_officer"]);
        assert_eq!(final_states(&["create", "submit", "amend"]), ["in_review"]);
        assert_eq!(
            final_states(&[
                "register",
                "assign_unit",
                "change_urgency",
                "assign_officer",
                "extend"
            ]),
            ["with_officer"]
        );
        assert!(final_states(&[]).is_empty());
    }
}
