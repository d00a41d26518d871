//! 發文 through the exchange: each 「發」 draft goes to the agency's agent node as a draft of
//! the agent's API, which gives it the 發文字號 from the agency's one series (so the office and
//! the agent never give out the same number), seals and sends it. The office then follows
//! each copy's status; a copy returned (退文) puts the case on its officer's 被退文 list, and
//! the officer reopens it with a signed step (重辦).

use gongwen_client::agent::{AgentClient, Part};
use gongwen_proto::{Code, CopyStatus};
use gongwen_store::{Db, Row, StoreError};

use crate::steps::{self, Action, Decision};
use crate::{OfficeError, bad, cases};

/// One draft sent through the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub case_id: String,
    pub doc: String,
    /// The send's name at the agent (from its Idempotency-Key).
    pub name: String,
    pub package_id: String,
    pub doc_number: String,
    /// A copy came back (退文): the reason and text of the first one.
    pub returned: Option<String>,
}

impl Sent {
    fn from_row(r: &Row) -> Result<Sent, StoreError> {
        Ok(Sent {
            case_id: r.text("case_id")?,
            doc: r.text("doc")?,
            name: r.text("name")?,
            package_id: r.text("package_id")?,
            doc_number: r.text("doc_number")?,
            returned: r.opt_text("returned")?,
        })
    }
}

/// The drafts the decider marked 「發」, from the signed 決行 step.
async fn issued(db: &Db, case_id: &str) -> Result<Vec<String>, OfficeError> {
    let decided = steps::steps(db, case_id)
        .await?
        .into_iter()
        .rfind(|s| s.action == Action::Decide)
        .ok_or_else(|| bad(format!("案件「{case_id}」尚未決行")))?;
    let issue = format!(" {}", Decision::Issue.label());
    Ok(decided
        .signed
        .lines()
        .filter_map(|l| l.strip_prefix("決定："))
        .filter_map(|l| l.strip_suffix(issue.as_str()))
        .map(str::to_string)
        .collect())
}

/// The clerk's 發文 step: how it goes out (交換 or 紙本).
async fn dispatched_by(db: &Db, case_id: &str) -> Result<String, OfficeError> {
    let step = steps::steps(db, case_id)
        .await?
        .into_iter()
        .rfind(|s| s.action == Action::Dispatch)
        .ok_or_else(|| OfficeError::new(Code::OfficeState, format!("案件「{case_id}」尚未發文")))?;
    Ok(step
        .signed
        .lines()
        .find_map(|l| l.strip_prefix("意見："))
        .unwrap_or_default()
        .to_string())
}

/// The 發文字號 of a case sent on paper, from the agency's one series at the agent (so no
/// number is given twice, whichever sends). Asked once; later calls give the same number.
pub async fn number_paper(
    db: &Db,
    agent: &AgentClient,
    case_id: &str,
) -> Result<String, OfficeError> {
    if dispatched_by(db, case_id).await? != "紙本" {
        return Err(bad(format!(
            "案件「{case_id}」經由交換發文，由代理程式送出時編號"
        )));
    }
    if let Some(n) = cases::case(db, case_id).await?.dispatch_number {
        return Ok(n);
    }
    let taken = agent
        .take_number()
        .await
        .map_err(OfficeError::agent("取號"))?;
    db.execute(
        "UPDATE office_cases SET dispatch_number = $2 WHERE id = $1 AND dispatch_number IS NULL",
        &[case_id.into(), taken.doc_number.as_str().into()],
    )
    .await?;
    Ok(cases::case(db, case_id)
        .await?
        .dispatch_number
        .unwrap_or(taken.doc_number))
}

/// Sends the case's 「發」 drafts through the agent, once the clerk's 發文 step chose 交換.
/// Each draft's current version is a draft of the agent's API (JSON); the agent numbers it.
/// Safe to call again: a draft already sent is not sent twice (the send's name is its key).
pub async fn send(
    db: &Db,
    agent: &AgentClient,
    case_id: &str,
    now: i64,
) -> Result<Vec<Sent>, OfficeError> {
    if dispatched_by(db, case_id).await? != "交換" {
        return Err(bad(format!("案件「{case_id}」以紙本發文")));
    }
    let current = cases::current_versions(db, case_id).await?;
    let mut out = Vec::new();
    for doc in issued(db, case_id).await? {
        if let Some(s) = sent_one(db, case_id, &doc).await? {
            out.push(s);
            continue;
        }
        let v = current
            .iter()
            .find(|v| v.doc == doc)
            .ok_or_else(|| bad(format!("案件沒有稿「{doc}」")))?;
        let content = cases::version_content(db, case_id, &doc, v.version).await?;
        let content = with_markings(&content, &decision_markings(db, case_id).await?);
        let key = format!("office-{case_id}-{doc}");
        let parts = [Part {
            field: "draft",
            file: None,
            bytes: &content,
        }];
        let result = agent
            .send(&parts, Some(&key))
            .await
            .map_err(OfficeError::agent("發文"))?;
        let doc_number = result
            .package
            .as_ref()
            .map(|p| p.doc_number.clone())
            .unwrap_or_default();
        db.execute(
            "INSERT INTO office_dispatches (case_id, doc, name, package_id, doc_number, sent_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                case_id.into(),
                doc.as_str().into(),
                result.name.as_str().into(),
                result.package_id.as_str().into(),
                doc_number.as_str().into(),
                now.into(),
            ],
        )
        .await?;
        db.execute(
            "UPDATE office_cases SET dispatch_number = $2 WHERE id = $1",
            &[case_id.into(), doc_number.as_str().into()],
        )
        .await?;
        out.extend(sent_one(db, case_id, &doc).await?);
    }
    Ok(out)
}

/// What the decision adds under the 署名 of the outgoing document (文書處理手冊): a document
/// decided under delegation says so (授權決行), and one decided by the head's deputy names the
/// deputy who acted (代行).
async fn decision_markings(db: &Db, case_id: &str) -> Result<Vec<String>, OfficeError> {
    let steps = crate::steps::steps(db, case_id).await?;
    let Some(decided) = steps.iter().rfind(|s| s.action == Action::Decide) else {
        return Ok(Vec::new());
    };
    Ok(markings(&decided.signed))
}

/// The markings a signed 決行 step asks for.
fn markings(signed: &str) -> Vec<String> {
    let has = |line: &str| signed.lines().any(|l| l == line);
    let mut out = Vec::new();
    if has("代為決行") {
        let signer = (signed.lines())
            .find_map(|l| l.strip_prefix("簽核人："))
            .map(|s| s.rsplit_once('（').map_or(s, |(name, _)| name))
            .unwrap_or_default();
        out.push(format!("{signer} 代行"));
    }
    if has("授權決行") {
        out.push("本案依分層負責規定授權業務主管決行".to_string());
    }
    out
}

/// The draft (the agent's JSON) with `lines` added under its 署名; as it was when there are
/// none, or when it is not the JSON the agent reads (the agent then says what is wrong).
fn with_markings(content: &[u8], lines: &[String]) -> Vec<u8> {
    if lines.is_empty() {
        return content.to_vec();
    }
    let Ok(serde_json::Value::Object(mut draft)) = serde_json::from_slice(content) else {
        return content.to_vec();
    };
    let mut signatures = match draft.remove("署名") {
        Some(serde_json::Value::Array(a)) => a,
        Some(serde_json::Value::String(s)) => vec![s.into()],
        _ => Vec::new(),
    };
    signatures.extend(lines.iter().map(|l| serde_json::Value::from(l.as_str())));
    draft.insert("署名".into(), signatures.into());
    serde_json::to_vec(&draft).unwrap_or_else(|_| content.to_vec())
}

const COLUMNS: &str = "case_id, doc, name, package_id, doc_number, returned";

async fn sent_one(db: &Db, case_id: &str, doc: &str) -> Result<Option<Sent>, OfficeError> {
    let r = db
        .fetch_optional(
            &format!("SELECT {COLUMNS} FROM office_dispatches WHERE case_id = $1 AND doc = $2"),
            &[case_id.into(), doc.into()],
        )
        .await?;
    Ok(r.as_ref().map(Sent::from_row).transpose()?)
}

/// What went out for a case.
pub async fn sent(db: &Db, case_id: &str) -> Result<Vec<Sent>, OfficeError> {
    let rows = db
        .fetch_all(
            &format!("SELECT {COLUMNS} FROM office_dispatches WHERE case_id = $1 ORDER BY doc"),
            &[case_id.into()],
        )
        .await?;
    Ok(rows.iter().map(Sent::from_row).collect::<Result<_, _>>()?)
}

/// Asks the agent how each send not yet returned stands; a copy returned (退文) is written
/// down with its reason, which puts the case on its officer's 被退文 list. One send that
/// cannot be asked about does not stop the others. Returns how many came back this round.
pub async fn follow(db: &Db, agent: &AgentClient) -> Result<usize, OfficeError> {
    let rows = db
        .fetch_all(
            &format!("SELECT {COLUMNS} FROM office_dispatches WHERE returned IS NULL ORDER BY sent_at LIMIT 500"),
            &[],
        )
        .await?;
    let mut back = 0;
    for s in rows.iter().map(Sent::from_row) {
        let s = s?;
        let Ok(result) = agent.document(&s.name).await else {
            continue;
        };
        let returned = result
            .package
            .iter()
            .flat_map(|p| &p.copies)
            .find(|c| c.status == CopyStatus::Returned);
        if let Some(c) = returned {
            let why = format!(
                "{}：{}{}",
                c.recipient,
                c.return_reason.map(|r| r.label()).unwrap_or("退文"),
                c.return_text
                    .as_deref()
                    .map(|t| format!("（{t}）"))
                    .unwrap_or_default()
            );
            db.execute(
                "UPDATE office_dispatches SET returned = $3 WHERE case_id = $1 AND doc = $2",
                &[s.case_id.as_str().into(), s.doc.as_str().into(), why.into()],
            )
            .await?;
            back += 1;
        }
    }
    Ok(back)
}

/// Whether a copy of the case came back (退文), so the officer may reopen it.
pub async fn was_returned(db: &Db, case_id: &str) -> Result<bool, OfficeError> {
    Ok(db
        .fetch_optional(
            "SELECT 1 FROM office_dispatches WHERE case_id = $1 AND returned IS NOT NULL",
            &[case_id.into()],
        )
        .await?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deputys_or_delegated_decision_is_marked_under_the_signature() {
        let signed = "公文管理系統線上簽核\n動作：決行（decide）\n簽核人：副局長 劉文華（deputy）\n代：局長 湯志民（head）\n代為決行\n";
        assert_eq!(markings(signed), ["副局長 劉文華 代行"]);
        let delegated = "動作：決行（decide）\n簽核人：科長 黃建國（dept）\n授權決行\n";
        assert_eq!(markings(delegated), ["本案依分層負責規定授權業務主管決行"]);
        assert!(markings("動作：決行（decide）\n簽核人：局長 湯志民（head）\n").is_empty());
        let draft = r#"{"主旨":"x","署名":"局長 湯志民"}"#.as_bytes();
        let marked = with_markings(draft, &markings(signed));
        let v: serde_json::Value = serde_json::from_slice(&marked).unwrap();
        assert_eq!(
            v["署名"],
            serde_json::json!(["局長 湯志民", "副局長 劉文華 代行"])
        );
        assert_eq!(with_markings(b"not json", &["x".into()]), b"not json");
    }
}
