//! Connection applications (連線申請): new, change (異動) or cancellation (註銷), signed by the
//! applying organisation's certificate, reviewed first by its competent authority (初審) and
//! then by the center's managing agency (複審), which activates it. Either reviewer can ask
//! for a correction (補正) or reject with a reason. Every step is in the log, with who and when.

use std::collections::HashSet;

use gongwen_proto::Code;
pub use gongwen_proto::directory::{AppState, Application};
use gongwen_proto::directory::{
    ApplicationForm, ApplicationKind, ParticipantState, check_code, check_ip_rule,
};
use gongwen_store::{Db, Row, Tx, random_hex};
use gongwen_trust::path::{Purpose, TrustStore, hex, spki_sha256};
use x509_cert::Certificate;

use crate::accounts::{Account, Role};
use crate::audit;
use crate::error::{DirectoryError, Result, bad, duplicate, internal, not_found, refused};
use crate::registry::{self, ParticipantInput};

/// Largest signed application accepted.
pub const MAX_SIGNED_BYTES: usize = 1024 * 1024;

/// How old the recorded agreement may be when the application arrives.
const AGREEMENT_MAX_AGE_MS: i64 = 30 * 86_400_000;

/// What a reviewer decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve,
    /// 補正, with what to fix.
    Correct(String),
    /// 不同意, with the reason.
    Reject(String),
}

impl Decision {
    pub fn label(&self) -> &'static str {
        match self {
            Decision::Approve => "同意",
            Decision::Correct(_) => "補正",
            Decision::Reject(_) => "不同意",
        }
    }
}

/// A decision as typed: `approve`, `correct` or `reject` (the latter two with a message).
pub fn decision(word: &str, message: Option<String>) -> Result<Decision> {
    let need = || bad("補正或不同意須說明理由（message）");
    match word {
        "approve" | "同意" => Ok(Decision::Approve),
        "correct" | "補正" => Ok(Decision::Correct(message.ok_or_else(need)?)),
        "reject" | "不同意" => Ok(Decision::Reject(message.ok_or_else(need)?)),
        other => Err(bad(format!(
            "決定「{other}」應為 approve、correct 或 reject"
        ))),
    }
}

fn sig(detail: impl Into<String>) -> DirectoryError {
    DirectoryError::new(Code::DirSignature, detail)
}

const COLS: &str = "id, state, returned_by, message, form, signer_spki, created_at, updated_at";

fn application_of(r: &Row) -> Result<Application> {
    let state = r.text(1)?;
    let form: ApplicationForm =
        serde_json::from_str(&r.text(4)?).map_err(|e| internal(format!("申請書：{e}")))?;
    Ok(Application {
        id: r.text(0)?,
        state: AppState::parse(&state).ok_or_else(|| internal(format!("申請案狀態「{state}」")))?,
        returned_by: r.opt_text(2)?,
        message: r.opt_text(3)?,
        form,
        signer_spki: r.text(5)?,
        created_at: r.i64(6)?,
        updated_at: r.i64(7)?,
    })
}

/// One application, for anyone who knows its id (the applicant checks progress with it).
pub async fn get(db: &Db, id: &str) -> Result<Application> {
    db.fetch_optional(
        &format!("SELECT {COLS} FROM dir_applications WHERE id = $1"),
        &[id.into()],
    )
    .await?
    .map(|r| application_of(&r))
    .transpose()?
    .ok_or_else(|| not_found(format!("沒有申請案 {id}")))
}

/// One application as `who` may see it: first reviewers those naming their authority, second
/// reviewers those for their center, auditors and administrators all.
pub async fn get_for(db: &Db, who: &Account, id: &str) -> Result<Application> {
    let a = get(db, id).await?;
    let visible = match who.role {
        Role::FirstReviewer => who.scope.as_deref() == Some(a.form.authority.as_str()),
        Role::SecondReviewer => who.scope.as_deref() == Some(a.form.center.as_str()),
        Role::Auditor | Role::Admin => true,
    };
    if !visible {
        return Err(who.forbidden(&format!("查看申請案 {id}")));
    }
    Ok(a)
}

/// One step in the handling of an application, as people read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub at: i64,
    pub actor: String,
    /// What was done, in zh-TW (送出申請, 初審同意 …).
    pub what: String,
}

/// The steps of application `id`, oldest first, from the log.
pub async fn steps(db: &Db, id: &str) -> Result<Vec<Step>> {
    Ok(audit::history(db, &format!("application:{id}"))
        .await?
        .into_iter()
        .map(|e| Step {
            at: e.entry.at,
            what: match e.entry.action.as_str() {
                "application.submitted" => "送出申請",
                "application.corrected" => "補正",
                "application.first_approved" => "初審同意",
                "application.correction_requested" => "要求補正",
                "application.rejected" => "不同意",
                "application.activated" => "複審同意，開通",
                other => other,
            }
            .to_string(),
            actor: e.entry.actor,
        })
        .collect())
}

/// The applications an account may see: a first reviewer those of its authority, a second
/// reviewer those for its center, auditors and administrators all. Newest first.
pub async fn list(db: &Db, who: &Account, state: Option<AppState>) -> Result<Vec<Application>> {
    let (filter, scope): (&str, Option<&str>) = match who.role {
        Role::FirstReviewer => ("authority = $1", who.scope.as_deref()),
        Role::SecondReviewer => ("center = $1", who.scope.as_deref()),
        Role::Auditor | Role::Admin => ("$1 IS NULL", None),
    };
    let mut sql = format!("SELECT {COLS} FROM dir_applications WHERE {filter}");
    let mut args = vec![scope.into()];
    if let Some(s) = state {
        sql.push_str(" AND state = $2");
        args.push(s.as_str().into());
    }
    sql.push_str(" ORDER BY created_at DESC, id LIMIT 1000");
    db.fetch_all(&sql, &args)
        .await?
        .iter()
        .map(application_of)
        .collect()
}

/// A checked signature: the form, the signer's key digest, and the certificates the form
/// registers.
struct Signed {
    form: ApplicationForm,
    signer_spki: String,
    certs: Vec<Certificate>,
}

/// The serialNumber attribute of the subject (where certificates write the 機關代碼).
fn subject_code(cert: &Certificate) -> Option<String> {
    const SERIAL_NUMBER: der::asn1::ObjectIdentifier =
        der::asn1::ObjectIdentifier::new_unwrap("2.5.4.5");
    cert.tbs_certificate
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == SERIAL_NUMBER)
        .and_then(|atv| std::str::from_utf8(atv.value.value()).ok())
        .map(|s| s.trim().to_string())
}

/// Verifies the signature and the signer's chain, and checks the form's fields.
fn open_signed(trust: &TrustStore, signed: &[u8], now: i64) -> Result<Signed> {
    if signed.len() > MAX_SIGNED_BYTES {
        return Err(bad(format!(
            "申請書有 {} 位元組，超過上限 {MAX_SIGNED_BYTES}",
            signed.len()
        )));
    }
    let v = gongwen_trust::cms::verify(signed).map_err(|e| sig(format!("簽章：{e}")))?;
    trust
        .evaluate(&v.signer, &v.certs, now.div_euclid(1000), Purpose::Signing)
        .map_err(|e| sig(format!("簽署憑證：{e}")))?;
    let form: ApplicationForm =
        serde_json::from_slice(&v.content).map_err(|e| bad(format!("申請書內容無法解讀：{e}")))?;
    if let Some(code) = subject_code(&v.signer)
        && code != form.code
    {
        return Err(sig(format!(
            "簽署憑證載明的機關代碼 {code} 與申請的 {} 不符",
            form.code
        )));
    }
    let signer_spki = hex(&spki_sha256(&v.signer).map_err(|e| sig(e.to_string()))?);
    let mut certs = Vec::new();
    for pem in &form.certificates {
        certs.extend(
            gongwen_trust::cms::load_certs(pem.as_bytes())
                .map_err(|e| bad(format!("申請書所附憑證無法讀取：{e}")))?,
        );
    }
    check_form(&form, now)?;
    Ok(Signed {
        form,
        signer_spki,
        certs,
    })
}

/// The checks a form passes before anyone signs it (also run on what arrives signed).
pub fn check_form(f: &ApplicationForm, now: i64) -> Result<()> {
    input_of(f).check()?;
    check_code(&f.authority).map_err(|e| bad(format!("審核機關：{e}")))?;
    for ip in &f.ips {
        check_ip_rule(ip).map_err(bad)?;
    }
    if f.kind != ApplicationKind::Cancel && f.ips.is_empty() {
        return Err(bad("請填寫連線的固定 IP 位址"));
    }
    if f.kind == ApplicationKind::New && f.certificates.is_empty() {
        return Err(bad("新申請須附上憑證（簽章、加密與 TLS 用戶端）"));
    }
    if f.kind != ApplicationKind::New && f.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(bad("異動、註銷須填寫原因"));
    }
    if f.agreement.rules.trim().is_empty()
        || f.agreement.agreed_at > now + 300_000
        || f.agreement.agreed_at < now - AGREEMENT_MAX_AGE_MS
    {
        return Err(bad("須同意使用規範（註明版本），同意時間應在 30 天內"));
    }
    Ok(())
}

fn input_of(f: &ApplicationForm) -> ParticipantInput {
    ParticipantInput {
        code: f.code.clone(),
        name: f.name.clone(),
        kind: f.participant_kind,
        ubn: f.ubn.clone(),
        authority: Some(f.authority.clone()),
        center: f.center.clone(),
        receive: f.receive,
        send: f.send,
        operator: false,
        contact_name: Some(f.contact_name.clone()),
        contact_phone: Some(f.contact_phone.clone()),
        contact_email: Some(f.contact_email.clone()),
    }
}

/// Who may submit what: a new code signed with a key among the certificates it registers; a
/// change or cancellation signed with a key already registered to the code for signing.
async fn check_signer(tx: &mut Tx, s: &Signed) -> Result<()> {
    let code = s.form.code.as_str();
    let state = tx
        .fetch_optional(
            "SELECT state FROM dir_participants WHERE code = $1",
            &[code.into()],
        )
        .await?
        .map(|r| r.text(0))
        .transpose()?;
    let registered = state.is_some();
    // After 中止 or 註銷 the organisation applies anew (須知 §9); its history stays.
    let reapplying = matches!(state.as_deref(), Some("terminated") | Some("cancelled"));
    let mut form_keys = HashSet::new();
    for c in &s.certs {
        let k = hex(&spki_sha256(c).map_err(|e| bad(e.to_string()))?);
        registry::key_free_for(tx, &k, code, "所附憑證").await?;
        form_keys.insert(k);
    }
    match s.form.kind {
        ApplicationKind::New => {
            if registered && !reapplying {
                return Err(duplicate(format!(
                    "機關代碼 {code} 已登記；要改資料請申請異動"
                )));
            }
            if !form_keys.contains(&s.signer_spki) {
                return Err(sig("簽署申請書的憑證須是所附、要登記的簽章憑證"));
            }
        }
        ApplicationKind::Change | ApplicationKind::Cancel => {
            if !registered || reapplying {
                return Err(not_found(format!(
                    "機關代碼 {code} 未登記或已中止、註銷；請提出新申請"
                )));
            }
            let ok = tx
                .fetch_optional(
                    "SELECT code FROM dir_certs WHERE spki_sha256 = $1 AND code = $2 AND usage = 'signing'",
                    &[s.signer_spki.as_str().into(), code.into()],
                )
                .await?
                .is_some();
            if !ok {
                return Err(sig(format!("異動、註銷須以已登記給 {code} 的簽章憑證簽署")));
            }
        }
    }
    registry::center_exists(tx, &s.form.center).await
}

async fn log(
    tx: &mut Tx,
    at: i64,
    actor: &str,
    action: &str,
    id: &str,
    detail: serde_json::Value,
) -> Result<()> {
    let subject = format!("application:{id}");
    Ok(audit::record(tx, at, actor, action, &subject, detail).await?)
}

/// Leaves a notice for an organisation (shown on its pages; mailed where configured).
pub async fn notify(
    tx: &mut Tx,
    recipient: &str,
    subject: &str,
    body: &str,
    now: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO dir_notices (recipient, subject, body, created_at) VALUES ($1, $2, $3, $4)",
        &[recipient.into(), subject.into(), body.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// Notices left for an organisation, newest first.
pub async fn notices(db: &Db, recipient: &str) -> Result<Vec<(i64, String, String)>> {
    db.fetch_all(
        "SELECT created_at, subject, body FROM dir_notices WHERE recipient = $1 ORDER BY id DESC LIMIT 200",
        &[recipient.into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.i64(0)?, r.text(1)?, r.text(2)?)))
    .collect()
}

/// Receives a signed application. The applicant is whoever holds the signing key.
pub async fn submit(db: &Db, trust: &TrustStore, signed: &[u8], now: i64) -> Result<Application> {
    let s = open_signed(trust, signed, now)?;
    let id = format!("AP{}", random_hex(8).to_uppercase());
    let mut tx = db.begin().await?;
    check_signer(&mut tx, &s).await?;
    if let Some(r) = tx
        .fetch_optional(
            "SELECT id, state FROM dir_applications WHERE code = $1 AND state IN ('submitted', 'first_approved', 'correction')",
            &[s.form.code.as_str().into()],
        )
        .await?
    {
        return Err(refused(format!("{} 已有進行中的申請案 {}（{}）", s.form.code, r.text(0)?, r.text(1)?),
        ));
    }
    let form = serde_json::to_string(&s.form).unwrap_or_default();
    tx.execute(
        "INSERT INTO dir_applications (id, kind, code, authority, center, state, form, signed, signer_spki, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'submitted', $6, $7, $8, $9, $9)",
        &[
            id.as_str().into(),
            kind_str(s.form.kind).into(),
            s.form.code.as_str().into(),
            s.form.authority.as_str().into(),
            s.form.center.as_str().into(),
            form.into(),
            signed.to_vec().into(),
            s.signer_spki.as_str().into(),
            now.into(),
        ],
    )
    .await?;
    log(
        &mut tx,
        now,
        &format!("applicant:{}", s.form.code),
        "application.submitted",
        &id,
        serde_json::json!({ "kind": kind_str(s.form.kind), "code": s.form.code, "signer_spki": s.signer_spki }),
    )
    .await?;
    notify(
        &mut tx,
        &s.form.authority,
        &format!("{}連線申請待初審：{}", s.form.kind.label(), s.form.name),
        &format!("申請案 {id}：{}（{}）", s.form.name, s.form.code),
        now,
    )
    .await?;
    tx.commit().await?;
    get(db, &id).await
}

fn kind_str(k: ApplicationKind) -> &'static str {
    match k {
        ApplicationKind::New => "new",
        ApplicationKind::Change => "change",
        ApplicationKind::Cancel => "cancel",
    }
}

/// The applicant's corrected application (補正), signed again; it goes back to the reviewer
/// who asked.
pub async fn correct(
    db: &Db,
    trust: &TrustStore,
    id: &str,
    signed: &[u8],
    now: i64,
) -> Result<Application> {
    let app = get(db, id).await?;
    if app.state != AppState::Correction {
        return Err(refused(format!(
            "申請案 {id} 目前「{}」，不在待補正",
            app.state.label()
        )));
    }
    let s = open_signed(trust, signed, now)?;
    if s.form.code != app.form.code || s.form.kind != app.form.kind {
        return Err(bad("補正不能改變機關代碼或申請種類"));
    }
    let mut tx = db.begin().await?;
    check_signer(&mut tx, &s).await?;
    let back_to = if app.returned_by.as_deref() == Some("second") {
        AppState::FirstApproved
    } else {
        AppState::Submitted
    };
    let n = tx
        .execute(
            "UPDATE dir_applications SET state = $2, form = $3, signed = $4, signer_spki = $5, authority = $6, center = $7, \
             updated_at = $8 WHERE id = $1 AND state = 'correction'",
            &[
                id.into(),
                back_to.as_str().into(),
                serde_json::to_string(&s.form).unwrap_or_default().into(),
                signed.to_vec().into(),
                s.signer_spki.as_str().into(),
                s.form.authority.as_str().into(),
                s.form.center.as_str().into(),
                now.into(),
            ],
        )
        .await?;
    if n == 0 {
        return Err(refused(format!("申請案 {id} 已不在待補正")));
    }
    log(
        &mut tx,
        now,
        &format!("applicant:{}", s.form.code),
        "application.corrected",
        id,
        serde_json::json!({ "signer_spki": s.signer_spki }),
    )
    .await?;
    tx.commit().await?;
    get(db, id).await
}

/// A reviewer's decision. The first review belongs to the authority the application names,
/// the second to the managing agency of its center; approving the second activates it.
pub async fn review(
    db: &Db,
    who: &Account,
    id: &str,
    decision: Decision,
    now: i64,
) -> Result<Application> {
    let app = get(db, id).await?;
    let stage = match app.state {
        AppState::Submitted => {
            if who.role != Role::FirstReviewer
                || who.scope.as_deref() != Some(app.form.authority.as_str())
            {
                return Err(who.forbidden(&format!(
                    "初審申請案 {id}（審核機關 {}）",
                    app.form.authority
                )));
            }
            "first"
        }
        AppState::FirstApproved => {
            if who.role != Role::SecondReviewer
                || who.scope.as_deref() != Some(app.form.center.as_str())
            {
                return Err(
                    who.forbidden(&format!("複審申請案 {id}（交換中心 {}）", app.form.center))
                );
            }
            "second"
        }
        other => {
            return Err(refused(format!(
                "申請案 {id} 目前「{}」，不能審核",
                other.label()
            )));
        }
    };
    let actor = who.actor();
    let mut tx = db.begin().await?;
    let (state, message, action) = match &decision {
        Decision::Approve if stage == "first" => {
            (AppState::FirstApproved, None, "application.first_approved")
        }
        Decision::Approve => (AppState::Activated, None, "application.activated"),
        Decision::Correct(m) => (
            AppState::Correction,
            Some(m.trim()),
            "application.correction_requested",
        ),
        Decision::Reject(m) => (AppState::Rejected, Some(m.trim()), "application.rejected"),
    };
    if let Some(m) = message
        && (m.is_empty() || m.chars().count() > 1000)
    {
        return Err(bad("補正或不同意須說明理由（1 到 1000 字）"));
    }
    let n = tx
        .execute(
            "UPDATE dir_applications SET state = $2, message = $3, returned_by = $4, updated_at = $5 WHERE id = $1 AND state = $6",
            &[
                id.into(),
                state.as_str().into(),
                message.into(),
                (state == AppState::Correction).then_some(stage).into(),
                now.into(),
                app.state.as_str().into(),
            ],
        )
        .await?;
    if n == 0 {
        return Err(refused(format!("申請案 {id} 剛被他人處理過，請重新整理")));
    }
    log(
        &mut tx,
        now,
        &actor,
        action,
        id,
        serde_json::json!({ "message": message }),
    )
    .await?;
    let f = &app.form;
    if state == AppState::Activated {
        activate(&mut tx, &app, who, now).await?;
        let body = format!(
            "申請案 {id}：{}（{}）{}已開通，交換中心 {}。",
            f.name,
            f.code,
            f.kind.label(),
            f.center
        );
        notify(&mut tx, &f.code, "連線申請已開通", &body, now).await?;
        notify(&mut tx, &f.authority, "連線申請已開通", &body, now).await?;
    } else {
        let subject = match state {
            AppState::FirstApproved => "連線申請初審通過，待複審",
            AppState::Correction => "連線申請須補正",
            _ => "連線申請不同意",
        };
        // A correction or rejection carries its reason; a first approval has none.
        let body = match message {
            Some(m) => format!("申請案 {id}：{m}"),
            None => format!("申請案 {id}：{}（{}）", f.name, f.code),
        };
        notify(&mut tx, &f.code, subject, &body, now).await?;
    }
    tx.commit().await?;
    get(db, id).await
}

/// Makes the application true in the registry, in the reviewer's transaction.
async fn activate(tx: &mut Tx, app: &Application, who: &Account, now: i64) -> Result<()> {
    let f = &app.form;
    let actor = who.actor();
    let input = input_of(f);
    match f.kind {
        ApplicationKind::New => {
            if registry::registered(tx, &f.code).await? {
                // A re-application: the same row, active and listed again, with new keys.
                registry::change_in(tx, &input, &actor, now).await?;
                registry::set_state_in(tx, &f.code, ParticipantState::Active, None, &actor, now)
                    .await?;
                tx.execute(
                    "UPDATE dir_participants SET listed = 1 WHERE code = $1",
                    &[f.code.as_str().into()],
                )
                .await?;
                registry::clear_keys_in(tx, &f.code).await?;
            } else {
                registry::insert_in(tx, &input, ParticipantState::Active, &actor, now).await?;
            }
        }
        ApplicationKind::Change => {
            registry::change_in(tx, &input, &actor, now).await?;
            registry::clear_keys_in(tx, &f.code).await?;
        }
        ApplicationKind::Cancel => {
            let reason = format!(
                "依申請案 {} 註銷：{}",
                app.id,
                f.reason.as_deref().unwrap_or("")
            );
            return registry::set_state_in(
                tx,
                &f.code,
                ParticipantState::Cancelled,
                Some(&reason),
                &actor,
                now,
            )
            .await;
        }
    }
    let mut pem = Vec::new();
    for c in &f.certificates {
        pem.extend_from_slice(c.as_bytes());
        pem.push(b'\n');
    }
    let certs = registry::read_certs(&pem, None)?;
    registry::put_certs_in(tx, &f.code, &certs, &actor, now).await?;
    for (i, ip) in f.ips.iter().enumerate() {
        // The first address is the rule; any other is an exception this reviewer approved.
        let approved_by = (i > 0 || ip.contains('/')).then_some(who.name.as_str());
        registry::put_ip_in(tx, &f.code, ip, approved_by, &actor, now).await?;
    }
    Ok(())
}

/// The signed application as received (for audits: `openssl cms -verify`).
pub async fn signed_bytes(db: &Db, id: &str) -> Result<Vec<u8>> {
    db.fetch_optional(
        "SELECT signed FROM dir_applications WHERE id = $1",
        &[id.into()],
    )
    .await?
    .map(|r| r.bytes(0))
    .transpose()?
    .ok_or_else(|| not_found(format!("沒有申請案 {id}")))
}

/// Every application for `code`, oldest first: a re-application shows the history.
pub async fn history_of(db: &Db, code: &str) -> Result<Vec<(String, AppState, i64)>> {
    db.fetch_all(
        "SELECT id, state, created_at FROM dir_applications WHERE code = $1 ORDER BY created_at",
        &[code.into()],
    )
    .await?
    .iter()
    .map(|r| {
        let s = r.text(1)?;
        Ok((
            r.text(0)?,
            AppState::parse(&s).unwrap_or(AppState::Rejected),
            r.i64(2)?,
        ))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use gongwen_proto::directory::{Agreement, ParticipantKind};

    use super::*;

    const NOW: i64 = 1_780_000_000_000;

    fn form() -> ApplicationForm {
        ApplicationForm {
            kind: ApplicationKind::New,
            code: "XA20250001".into(),
            name: "臺南市社區營造協會".into(),
            participant_kind: ParticipantKind::Organisation,
            ubn: Some("04595257".into()),
            authority: "379130000C".into(),
            center: "center-1".into(),
            receive: true,
            send: true,
            card_number: None,
            card_activated_on: None,
            certificates: vec!["-----BEGIN CERTIFICATE-----".into()],
            ips: vec!["203.0.113.7".into()],
            contact_name: "王小明".into(),
            contact_phone: "06-2991111".into(),
            contact_email: "office@example.org.tw".into(),
            agreement: Agreement {
                rules: "公文電子交換系統使用規範 115.01 版".into(),
                agreed_at: NOW,
            },
            reason: None,
        }
    }

    /// Each rule of the form, broken alone, is refused with words that name it.
    #[test]
    fn a_form_is_checked_before_anyone_signs_it() {
        assert!(check_form(&form(), NOW).is_ok());
        type BreakIt = fn(&mut ApplicationForm);
        let cases: [(BreakIt, &str); 6] = [
            (|f| f.authority = "379130000C/".into(), "審核機關"),
            (|f| f.ips.clear(), "固定 IP"),
            (|f| f.certificates.clear(), "憑證"),
            (|f| f.kind = ApplicationKind::Change, "原因"),
            (|f| f.agreement.rules = " ".into(), "使用規範"),
            (
                |f| f.agreement.agreed_at = NOW - AGREEMENT_MAX_AGE_MS - 1,
                "30 天",
            ),
        ];
        for (break_it, words) in cases {
            let mut f = form();
            break_it(&mut f);
            let e = check_form(&f, NOW).expect_err(words);
            assert_eq!(e.code, Code::BadRequest);
            assert!(e.detail.contains(words), "{words}: {}", e.detail);
        }
        // A cancellation needs no address, only its reason.
        let mut f = form();
        f.kind = ApplicationKind::Cancel;
        f.ips.clear();
        f.reason = Some("機關裁撤".into());
        assert!(check_form(&f, NOW).is_ok());
    }

    #[test]
    fn decisions_in_either_language_and_a_reason_when_not_approved() {
        assert_eq!(decision("同意", None).unwrap(), Decision::Approve);
        assert_eq!(
            decision("correct", Some("請附加密憑證".into())).unwrap(),
            Decision::Correct("請附加密憑證".into())
        );
        assert!(decision("reject", None).is_err());
        assert!(decision("maybe", Some("x".into())).is_err());
        for s in AppState::ALL {
            assert_eq!(AppState::parse(s.as_str()), Some(s), "{s:?}");
        }
    }
}
