//! The document-management system's sign-off (issue 18): a case goes desk → unit → officer →
//! 會辦 → up the chain → 決行 → dispatch → filing, every step signed with the person's own
//! card (a MOICA look-alike of a test CA) and chained; the delegation table picks the level,
//! deputies act only within their dates, exclusions route to paper, the chain verifies with
//! OpenSSL and without the server, and tampering with any stored version or step is found.
//! Bad requests get their code and change nothing. On SQLite and PostgreSQL.

use std::collections::HashMap;
use std::path::PathBuf;

use gongwen_integration::{fresh_database, scratch};
use gongwen_office::cases::{self, Origin, State};
use gongwen_office::org::{self, Deputy, Person, Role};
use gongwen_office::steps::{self, Action, Decision, NewCase, NewVersion, Office, Request};
use gongwen_office::timing::{self, DeadlineKind, ExtensionRules, Limit, Override, WorkCalendar};
use gongwen_office::{OfficeError, delegation, taipei_day};
use gongwen_office::{deadlines, export, intake};
use gongwen_proto::Code;
use gongwen_store::Db;
use gongwen_testbed::office::{self, Card};
use gongwen_trust::path::TrustStore;
use gongwen_trust::pki::TestCa;

const AGENCY: &str = "379000000A 臺北市政府教育局";

/// An agency on its own database: units, people with cards, and the test CA behind them.
struct Agency {
    db: Db,
    ca: TestCa,
    cards: HashMap<String, Card>,
    trust: TrustStore,
    dir: PathBuf,
    /// The bundled office calendar with test stand-ins for later years (`test_calendar`).
    calendar: WorkCalendar,
    /// The agency's 展期 limits (a test may change them).
    rules: ExtensionRules,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The people of 臺北市政府教育局 in the demo: (id, name, title, unit, roles).
const PEOPLE: &[(&str, &str, &str, &str, &[Role])] = &[
    ("clerk", "林收發", "書記", "edu", &[Role::Clerk, Role::Desk]),
    ("desk-k", "陳登記", "辦事員", "k12", &[Role::Desk]),
    ("officer", "張承辦", "科員", "k12", &[Role::Officer]),
    ("officer2", "李承辦", "科員", "k12", &[Role::Officer]),
    ("chief", "王科長", "科長", "k12", &[Role::Supervisor]),
    ("dept", "趙處長", "處長", "school", &[Role::Supervisor]),
    ("head", "吳局長", "局長", "edu", &[Role::Head]),
    ("deputy", "周副局長", "副局長", "edu", &[]),
    ("pe", "鄭科員", "科員", "sports", &[Role::Officer]),
    (
        "sports-head",
        "孫處長",
        "處長",
        "sports",
        &[Role::Supervisor],
    ),
    ("archivist", "許檔案", "管理員", "edu", &[Role::Archivist]),
];

async fn agency(name: &str) -> Agency {
    let dir = scratch(&format!("office-{name}"));
    let (mut ca, trust) = office::people_ca(&dir.join("ca")).unwrap();
    let db = Db::connect(&fresh_database(&format!("office-{name}")).await)
        .await
        .unwrap();
    for (id, parent, name, online) in [
        ("edu", None, "臺北市政府教育局", true),
        ("school", Some("edu"), "中等教育處", true),
        ("k12", Some("school"), "國中教育科", true),
        ("sports", Some("edu"), "體育處", true),
        ("paper", Some("edu"), "秘書室", false),
    ] {
        org::add_unit(&db, id, parent, name, online).await.unwrap();
    }
    let mut cards = HashMap::new();
    for (id, name, title, unit, roles) in PEOPLE {
        let card = Card::issue(&mut ca, name).unwrap();
        org::add_person(
            &db,
            &Person {
                id: id.to_string(),
                name: name.to_string(),
                title: title.to_string(),
                unit: unit.to_string(),
                spki_sha256: Some(card.key_sha256().unwrap()),
            },
        )
        .await
        .unwrap();
        for role in *roles {
            org::grant(&db, id, *role, unit).await.unwrap();
        }
        cards.insert(id.to_string(), card);
    }
    Agency {
        db,
        ca,
        cards,
        trust,
        dir,
        calendar: gongwen_integration::test_calendar(),
        rules: ExtensionRules::default(),
    }
}

impl Agency {
    fn office(&self) -> Office<'_> {
        Office {
            db: &self.db,
            agency: AGENCY,
            trust: &self.trust,
            calendar: &self.calendar,
            extensions: self.rules,
        }
    }

    /// Signs `text` with `who`'s card, as their signer would.
    fn sign(&self, who: &str, text: &str) -> Vec<u8> {
        self.cards[who].sign(text).unwrap()
    }

    /// Prepares, signs with the actor's own card and commits.
    async fn act(&self, req: &Request) -> Result<steps::Step, OfficeError> {
        let text = steps::prepare(&self.office(), req).await?;
        steps::commit(&self.office(), req, &self.sign(&req.actor, &text), now_ms()).await
    }

    async fn step_count(&self, case: &str) -> usize {
        steps::steps(&self.db, case).await.unwrap().len()
    }

    async fn state(&self, case: &str) -> State {
        cases::case(&self.db, case).await.unwrap().state
    }
}

fn req(case: &str, action: Action, actor: &str) -> Request {
    Request::new(case, action, actor, now_ms())
}

fn to(mut r: Request, target: &str) -> Request {
    r.target = Some(target.to_string());
    r
}

fn saying(mut r: Request, comment: &str) -> Request {
    r.comment = comment.to_string();
    r
}

fn with_version(mut r: Request, doc: &str, kind: &str, content: &str) -> Request {
    r.version = Some(NewVersion {
        doc: doc.to_string(),
        kind: kind.to_string(),
        content: content.as_bytes().to_vec(),
    });
    r
}

/// A request that opens a case: `action` (登記 or 創簽) by `who`, of `origin`, with its first
/// document (none for an 電子收文, whose files come from the intake).
fn opening(
    case: &str,
    action: Action,
    who: &str,
    origin: Origin,
    first: Option<(&str, &str, &str)>,
    subject: &str,
) -> Request {
    let mut r = req(case, action, who);
    if let Some((doc, kind, text)) = first {
        r = with_version(r, doc, kind, text);
    }
    r.new_case = Some(NewCase {
        origin,
        subject: subject.to_string(),
        matter: "一般業務".to_string(),
        urgency: "普通件".to_string(),
        intake: None,
    });
    r
}

fn code(r: Result<steps::Step, OfficeError>) -> Code {
    match r {
        Ok(s) => panic!("expected a refusal, got step {}", s.seq),
        Err(e) => e.code(),
    }
}

/// Registers a paper letter of `matter` (its scan) and carries it to the officer, who drafts
/// a 簽 and a 稿 (簽稿併陳). Returns the case id.
async fn case_with_officer(a: &Agency, matter: &str) -> String {
    let id = cases::next_number(&a.db, "case", now_ms()).await.unwrap();
    let mut r = opening(
        &id,
        Action::Register,
        "clerk",
        Origin::Paper,
        Some(("incoming", "scan", "%PDF-1.4 來文掃描檔")),
        "函請查填115學年度國中教師員額",
    );
    if let Some(n) = r.new_case.as_mut() {
        n.matter = matter.to_string();
    }
    a.act(&r).await.unwrap();
    a.act(&to(req(&id, Action::AssignUnit, "clerk"), "k12"))
        .await
        .unwrap();
    a.act(&to(req(&id, Action::AssignOfficer, "desk-k"), "officer"))
        .await
        .unwrap();
    for (doc, kind, text) in [
        ("memo-1", "memo", "簽：擬復如稿"),
        ("draft-1", "draft", "稿：復如說明"),
    ] {
        a.act(&with_version(
            req(&id, Action::Draft, "officer"),
            doc,
            kind,
            text,
        ))
        .await
        .unwrap();
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_goes_from_registration_to_filing_and_verifies() {
    let mut a = agency("flow").await;
    delegation::set(
        &a.db,
        &delegation::Rule {
            matter: "教師員額".to_string(),
            level: 1,
            effective_from: "2020-01-01".to_string(),
            changed_by: "admin".to_string(),
            changed_at: now_ms(),
        },
    )
    .await
    .unwrap();
    let id = case_with_officer(&a, "教師員額").await;
    // 會辦 with 體育處 in parallel.
    a.act(&to(req(&id, Action::Consult, "officer"), "sports"))
        .await
        .unwrap();
    assert_eq!(a.state(&id).await, State::Consulting);
    a.act(&saying(req(&id, Action::Opinion, "pe"), "無意見"))
        .await
        .unwrap();
    // The unit's officer has written; its head's opinion answers for the unit.
    assert_eq!(a.state(&id).await, State::Consulting);
    let head = a
        .act(&saying(req(&id, Action::Opinion, "sports-head"), "同意"))
        .await
        .unwrap();
    assert!(head.signed.contains("單位主管"), "{}", head.signed);
    assert_eq!(a.state(&id).await, State::WithOfficer);
    // Up: the chief amends, the department head returns once, then it goes up again.
    a.act(&to(req(&id, Action::Submit, "officer"), "chief"))
        .await
        .unwrap();
    a.act(&with_version(
        req(&id, Action::Amend, "chief"),
        "draft-1",
        "draft",
        "稿：復如說明（修正）",
    ))
    .await
    .unwrap();
    a.act(&to(req(&id, Action::Approve, "chief"), "dept"))
        .await
        .unwrap();
    a.act(&saying(
        to(req(&id, Action::Return, "dept"), "officer"),
        "請補附員額表",
    ))
    .await
    .unwrap();
    assert_eq!(a.state(&id).await, State::WithOfficer);
    a.act(&to(req(&id, Action::Submit, "officer"), "chief"))
        .await
        .unwrap();
    a.act(&to(req(&id, Action::Approve, "chief"), "dept"))
        .await
        .unwrap();
    a.act(&to(req(&id, Action::Approve, "dept"), "head"))
        .await
        .unwrap();
    // The head is away: the deputy decides for him (代為決行).
    let today = taipei_day(now_ms());
    org::add_deputy(
        &a.db,
        &Deputy {
            principal: "head".to_string(),
            deputy: "deputy".to_string(),
            first_day: today.clone(),
            last_day: today.clone(),
        },
    )
    .await
    .unwrap();
    let mut d = req(&id, Action::Decide, "deputy");
    d.principal = Some("head".to_string());
    d.decisions = vec![("draft-1".to_string(), Decision::Issue)];
    // The deputy signs with `gongwen signer`'s card, which signs a step and refuses
    // anything else.
    let Card {
        key, cert, chain, ..
    } = a.cards.remove("deputy").unwrap();
    let signer = gongwen_agent::signer::Card { key, cert, chain };
    let text = steps::prepare(&a.office(), &d).await.unwrap();
    assert!(signer.sign_challenge("請簽這份公文", 0).is_err());
    let pem = signer.sign_challenge(&text, now_ms() / 1000).unwrap();
    let (_, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    let decided = steps::commit(&a.office(), &d, &der, now_ms())
        .await
        .unwrap();
    assert!(
        decided.signed.contains("代：局長 吳局長（head）"),
        "{}",
        decided.signed
    );
    assert!(decided.signed.contains("代為決行"));
    assert_eq!(decided.principal.as_deref(), Some("head"));
    assert_eq!(a.state(&id).await, State::ToDispatch);
    a.act(&saying(req(&id, Action::Dispatch, "clerk"), "紙本"))
        .await
        .unwrap();
    let mut f = saying(req(&id, Action::File, "archivist"), "A01/115/1/3");
    f.retention = Some("10年".to_string());
    a.act(&f).await.unwrap();
    let c = cases::case(&a.db, &id).await.unwrap();
    assert_eq!(c.state, State::Filed);
    // On paper, the number comes from the agent's series (dispatch::number_paper), and
    // this agency has no agent here.
    assert_eq!(c.dispatch_number, None);
    // The closing steps rolled it up for the statistics (on either engine): one case closed
    // this month, each stage it went through counted once.
    let month = gongwen_office::indicators::Month::of_ms(now_ms());
    let st = gongwen_office::stages::report(&a.db, month, month)
        .await
        .unwrap();
    assert_eq!(st.closed, 1);
    let counted: Vec<i64> = st.stages.iter().map(|l| l.cases).collect();
    assert_eq!(counted, [1, 1, 1, 1, 1, 1, 1], "{st:?}");
    let t = gongwen_office::timeliness::report(&a.db, month, month)
        .await
        .unwrap();
    let total = t.agency_period().last().unwrap();
    assert_eq!(total.figures.counts.closed, 1);
    // Reopened, it is no longer closed; filed again, it counts once, however often caught up.
    for (state, counted, passes) in [("with_officer", 0, 1), ("filed", 1, 2)] {
        a.db.execute(
            "UPDATE office_cases SET state = $2 WHERE id = $1",
            &[id.as_str().into(), state.into()],
        )
        .await
        .unwrap();
        for _ in 0..passes {
            gongwen_office::closed::catch_up_all(&a.db, &a.calendar)
                .await
                .unwrap();
        }
        let st = gongwen_office::stages::report(&a.db, month, month)
            .await
            .unwrap();
        assert_eq!(st.closed, counted, "{state}");
    }

    // The export verifies without the server…
    let file = export::export(&a.db, AGENCY, &id).await.unwrap();
    let report = export::verify(&file, &a.trust);
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.steps.len(), a.step_count(&id).await);
    let json = serde_json::to_vec(&file).unwrap();
    assert!(export::verify_file(&json, &a.trust).unwrap().is_ok());
    // …and each signature with OpenSSL.
    for (i, s) in steps::steps(&a.db, &id).await.unwrap().iter().enumerate() {
        let p = a.dir.join(format!("step-{i}.der"));
        std::fs::write(&p, &s.cms).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["cms", "-verify", "-inform", "DER", "-purpose", "any", "-in"])
            .arg(&p)
            .arg("-CAfile")
            .arg(a.ca.root_file())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), s.signed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delegation_table_picks_the_level_by_its_effective_date() {
    let a = agency("delegation").await;
    let rule = |level, from: &str| delegation::Rule {
        matter: "校長遴選".to_string(),
        level,
        effective_from: from.to_string(),
        changed_by: "admin".to_string(),
        changed_at: 0,
    };
    delegation::set(&a.db, &rule(3, "2020-01-01"))
        .await
        .unwrap();
    delegation::set(&a.db, &rule(2, "2021-08-01"))
        .await
        .unwrap();
    for (matter, day, level) in [
        ("校長遴選", "2021-07-31", 3),
        ("校長遴選", "2021-08-01", 2),
        ("校長遴選", "2019-12-31", 1),
        ("沒列的業務", "2026-01-01", 1),
    ] {
        let found = delegation::level_on(&a.db, matter, day).await.unwrap();
        assert_eq!(found, level, "{matter} on {day}");
    }
    assert_eq!(delegation::history(&a.db).await.unwrap().len(), 2);
    assert!(
        delegation::set(&a.db, &rule(2, "2021-08-01"))
            .await
            .is_err()
    );
    assert!(
        delegation::set(&a.db, &rule(4, "2022-01-01"))
            .await
            .is_err()
    );

    // Today the matter is decided at level 2: the section chief (3) may not, the head of
    // department (2) may, and the text says 授權決行.
    let id = case_with_officer(&a, "校長遴選").await;
    a.act(&to(req(&id, Action::Submit, "officer"), "chief"))
        .await
        .unwrap();
    let mut d = req(&id, Action::Decide, "chief");
    d.decisions = vec![("draft-1".to_string(), Decision::Issue)];
    let before = a.step_count(&id).await;
    assert_eq!(code(a.act(&d).await), Code::OfficeLevel);
    assert_eq!(a.step_count(&id).await, before);
    assert_eq!(a.state(&id).await, State::InReview);
    a.act(&to(req(&id, Action::Approve, "chief"), "dept"))
        .await
        .unwrap();
    let mut d = req(&id, Action::Decide, "dept");
    d.decisions = vec![("draft-1".to_string(), Decision::Withhold)];
    let step = a.act(&d).await.unwrap();
    assert!(step.signed.contains("授權決行"));
    assert!(step.signed.contains("2021-08-01 起生效"), "{}", step.signed);
    // Nothing to send: straight to filing. A second decision is refused.
    assert_eq!(a.state(&id).await, State::ToFile);
    assert_eq!(code(a.act(&d).await), Code::OfficeDecided);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deputies_act_only_within_their_dates() {
    let a = agency("deputies").await;
    let id = case_with_officer(&a, "一般業務").await;
    a.act(&to(req(&id, Action::Submit, "officer"), "chief"))
        .await
        .unwrap();
    // officer2 deputises for the chief, but only next month.
    org::add_deputy(
        &a.db,
        &Deputy {
            principal: "chief".to_string(),
            deputy: "officer2".to_string(),
            first_day: taipei_day(now_ms() + 30 * 86_400_000),
            last_day: taipei_day(now_ms() + 40 * 86_400_000),
        },
    )
    .await
    .unwrap();
    let mut r = to(req(&id, Action::Approve, "officer2"), "dept");
    r.principal = Some("chief".to_string());
    assert_eq!(code(a.act(&r).await), Code::OfficeNotAllowed);
    // Without claiming to deputise, someone else may not act on the chief's case either.
    let r2 = to(req(&id, Action::Approve, "officer2"), "dept");
    assert_eq!(code(a.act(&r2).await), Code::OfficeNotAllowed);
    // Within the dates, the step is theirs and shows 「代」.
    org::add_deputy(
        &a.db,
        &Deputy {
            principal: "chief".to_string(),
            deputy: "officer2".to_string(),
            first_day: taipei_day(now_ms() - 86_400_000),
            last_day: taipei_day(now_ms() + 86_400_000),
        },
    )
    .await
    .unwrap();
    let step = a.act(&r).await.unwrap();
    assert!(step.signed.contains("代：科長 王科長（chief）"));
    assert_eq!(step.actor, "officer2");
    // Bad ranges are refused.
    let bad = Deputy {
        principal: "chief".to_string(),
        deputy: "officer2".to_string(),
        first_day: "2026-05-02".to_string(),
        last_day: "2026-05-01".to_string(),
    };
    assert_eq!(
        org::add_deputy(&a.db, &bad).await.unwrap_err().code(),
        Code::BadRequest
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusions_route_the_case_to_paper() {
    let a = agency("paper").await;
    let id = case_with_officer(&a, "一般業務").await;
    // Exclusion 8: 會辦 with a unit not on online sign-off.
    a.act(&to(req(&id, Action::Consult, "officer"), "paper"))
        .await
        .unwrap();
    let c = cases::case(&a.db, &id).await.unwrap();
    assert_eq!(c.exclusions, vec![8]);
    assert!(c.is_paper());
    // Flagged at registration: the case can be assigned, but not submitted online.
    let id2 = case_with_officer(&a, "一般業務").await;
    let mut f = req(&id2, Action::Flag, "officer");
    f.exclusions = vec![2, 6];
    let step = a.act(&f).await.unwrap();
    assert!(step.signed.contains("第2款"));
    assert_eq!(
        code(
            a.act(&to(req(&id2, Action::Submit, "officer"), "chief"))
                .await
        ),
        Code::OfficeState
    );
    let mut wrong = req(&id2, Action::Flag, "officer");
    wrong.exclusions = vec![9];
    assert_eq!(code(a.act(&wrong).await), Code::BadRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_and_revoked_signatures_change_nothing() {
    let mut a = agency("forged").await;
    let id = case_with_officer(&a, "一般業務").await;
    let before = a.step_count(&id).await;
    let submit = to(req(&id, Action::Submit, "officer"), "chief");
    let text = steps::prepare(&a.office(), &submit).await.unwrap();
    // Signed by someone else's card.
    let forged = a.sign("officer2", &text);
    assert_eq!(
        steps::commit(&a.office(), &submit, &forged, now_ms())
            .await
            .unwrap_err()
            .code(),
        Code::OfficeSignature
    );
    // A text that is not the one prepared (another action, same versions).
    let other = text.replace("陳核", "核轉");
    let sig = a.sign("officer", &other);
    assert_eq!(
        steps::commit(&a.office(), &submit, &sig, now_ms())
            .await
            .unwrap_err()
            .code(),
        Code::OfficeSignature
    );
    // Garbage is not a signature.
    assert_eq!(
        steps::commit(&a.office(), &submit, b"not cms", now_ms())
            .await
            .unwrap_err()
            .code(),
        Code::OfficeSignature
    );
    // Signed, then the draft changed: the signature is over another version.
    let sig = a.sign("officer", &text);
    a.act(&with_version(
        req(&id, Action::Draft, "officer"),
        "draft-1",
        "draft",
        "稿：第二版",
    ))
    .await
    .unwrap();
    let after_draft = a.step_count(&id).await;
    assert_eq!(
        steps::commit(&a.office(), &submit, &sig, now_ms())
            .await
            .unwrap_err()
            .code(),
        Code::OfficeVersion
    );
    // Too late to sign.
    let old = Request {
        at: now_ms() - 11 * 60_000,
        ..submit.clone()
    };
    let text = steps::prepare(&a.office(), &old).await.unwrap();
    assert_eq!(
        steps::commit(&a.office(), &old, &a.sign("officer", &text), now_ms())
            .await
            .unwrap_err()
            .code(),
        Code::OfficeSignature
    );
    // A revoked card is refused at signing.
    let serial = a.cards["officer"].serial.clone();
    a.ca.revoke(&serial, Some("keyCompromise"), now_ms() / 1000 - 1)
        .unwrap();
    a.trust = office::trust_of(&a.ca).unwrap();
    assert_eq!(code(a.act(&submit).await), Code::OfficeCert);
    assert_eq!(a.step_count(&id).await, after_draft);
    assert_eq!(after_draft, before + 1);
    assert_eq!(a.state(&id).await, State::WithOfficer);
    // The steps signed before the revocation are flagged when verified now.
    let report = export::verify(&export::export(&a.db, AGENCY, &id).await.unwrap(), &a.trust);
    assert!(!report.is_ok());
    assert!(
        report
            .steps
            .iter()
            .filter(|s| s.signer.ends_with("（officer）"))
            .all(|s| !s.problems.is_empty())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_with_a_stored_version_or_step_is_found() {
    let a = agency("tamper").await;
    let id = case_with_officer(&a, "一般業務").await;
    a.act(&to(req(&id, Action::Submit, "officer"), "chief"))
        .await
        .unwrap();
    let clean = export::export(&a.db, AGENCY, &id).await.unwrap();
    assert!(export::verify(&clean, &a.trust).is_ok());
    let broken = |e: &export::Export| !export::verify(e, &a.trust).is_ok();

    // In the database: a version's bytes changed.
    a.db.execute(
        "UPDATE office_versions SET content = $2 WHERE case_id = $1 AND doc = 'draft-1'",
        &[id.as_str().into(), "稿：偷改".as_bytes().into()],
    )
    .await
    .unwrap();
    assert!(broken(&export::export(&a.db, AGENCY, &id).await.unwrap()));

    // In the file: each change alone is found.
    type Tamper = fn(&mut export::Export);
    let tampered: [(&str, Tamper); 6] = [
        ("a step removed", |e| {
            e.steps.remove(2);
        }),
        ("two steps swapped", |e| e.steps.swap(3, 4)),
        ("a step's record altered", |e| {
            e.steps[1].actor = "chief".into()
        }),
        ("a version nobody signed", |e| {
            let mut extra = e.versions[0].clone();
            extra.version = 9;
            e.versions.push(extra);
        }),
        ("a version replaced with its digest", |e| {
            use base64ct::Encoding;
            let v = e.versions.iter_mut().find(|v| v.doc == "memo-1").unwrap();
            v.content = base64ct::Base64::encode_string("簽：改過".as_bytes());
            v.sha256 = gongwen_store::sha256_hex("簽：改過".as_bytes());
        }),
        // The chain is whole, but the case's state no longer follows from its steps.
        ("the last step removed", |e| {
            e.steps.pop();
        }),
    ];
    for (what, change) in tampered {
        let mut e = clean.clone();
        change(&mut e);
        assert!(broken(&e), "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_import_units_and_people_and_bad_rows_stop_nothing() {
    let db = Db::connect(&fresh_database("office-import").await)
        .await
        .unwrap();
    let units = "\u{feff}單位代號,上級單位代號,單位名稱,線上簽核\n\
        city,,臺南市政府,是\n\
        civil,city,民政局,是\n\
        lost,nowhere,不存在的上級,是\n\
        hr,city,人事處,也許\n\
        ward,civil,戶政科,否\n";
    let r = org::import_units(&db, units).await.unwrap();
    assert_eq!(r.added, 3, "{r:?}");
    assert_eq!(
        r.refused.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
        vec![4, 5]
    );
    assert!(r.refused[0].1.contains("nowhere"), "{r:?}");
    assert!(!org::unit(&db, "ward").await.unwrap().online);
    let key = "ab".repeat(32);
    let people = format!(
        "人員代號,姓名,職稱,單位代號,憑證公鑰SHA-256,角色\n\
         p1,黃承辦,科員,ward,{key},承辦人\n\
         p2,蔡科長,科長,ward,,主管、登記桌\n\
         p3,錯角色,科員,ward,,老闆\n\
         p4,錯金鑰,科員,ward,xyz,承辦人\n\
         p5,重複金鑰,科員,ward,{key},承辦人\n"
    );
    let r = org::import_people(&db, &people).await.unwrap();
    assert_eq!(r.added, 2, "{r:?}");
    assert_eq!(r.refused.len(), 3);
    assert!(r.refused[0].1.contains("老闆"));
    assert_eq!(org::level(&db, "p2").await.unwrap(), Some(3));
    assert!(org::holds(&db, "p2", Role::Desk, "ward").await.unwrap());
    assert_eq!(
        org::person_by_key(&db, &key).await.unwrap().map(|p| p.id),
        Some("p1".to_string())
    );
    // A file that is not the format is refused as a whole, naming the header.
    let e = org::import_people(&db, "id,name\n").await.unwrap_err();
    assert!(e.to_string().contains("人員代號"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_sees_its_worklists_and_a_deputy_those_of_whom_they_act_for() {
    let a = agency("worklists").await;
    let id = case_with_officer(&a, "一般業務").await;
    let day = taipei_day(now_ms());
    let lists = |who: &'static str| {
        let db = &a.db;
        let day = day.clone();
        async move {
            cases::worklists_for(db, who, &day, 50)
                .await
                .unwrap()
                .into_iter()
                .map(|w| {
                    (
                        w.name,
                        w.items.into_iter().map(|i| i.id).collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let mine = |l: &[(String, Vec<String>)], name: &str| {
        l.iter()
            .find(|(n, _)| n == name)
            .map(|(_, ids)| ids.clone())
            .unwrap_or_default()
    };
    assert_eq!(mine(&lists("officer").await, "我的案件"), vec![id.clone()]);
    assert!(mine(&lists("officer2").await, "我的案件").is_empty());
    a.act(&to(req(&id, Action::Consult, "officer"), "sports"))
        .await
        .unwrap();
    assert_eq!(mine(&lists("pe").await, "待會辦"), vec![id.clone()]);
    assert_eq!(
        mine(&lists("sports-head").await, "待會辦"),
        vec![id.clone()]
    );
    a.act(&req(&id, Action::Opinion, "pe")).await.unwrap();
    a.act(&req(&id, Action::Opinion, "sports-head"))
        .await
        .unwrap();
    assert!(mine(&lists("pe").await, "待會辦").is_empty());
    assert!(mine(&lists("sports-head").await, "待會辦").is_empty());
    a.act(&to(req(&id, Action::Submit, "officer"), "chief"))
        .await
        .unwrap();
    assert_eq!(mine(&lists("chief").await, "待核決"), vec![id.clone()]);
    // officer2 deputises for the chief today: the chief's list is theirs too, marked 代.
    org::add_deputy(
        &a.db,
        &Deputy {
            principal: "chief".to_string(),
            deputy: "officer2".to_string(),
            first_day: day.clone(),
            last_day: day.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        mine(&lists("officer2").await, "待核決（代）"),
        vec![id.clone()]
    );
    // A new registration waits at the agency's desk.
    let other = cases::next_number(&a.db, "case", now_ms()).await.unwrap();
    let r = opening(
        &other,
        Action::Register,
        "clerk",
        Origin::Paper,
        Some(("incoming", "scan", "%PDF-1.4")),
        "紙本來文",
    );
    a.act(&r).await.unwrap();
    assert_eq!(mine(&lists("clerk").await, "待分文"), vec![other]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_creates_a_memo_of_their_own_and_an_archivist_may_not() {
    let a = agency("create").await;
    let id = cases::next_number(&a.db, "case", now_ms()).await.unwrap();
    let create = |who: &str| {
        let memo = Some(("memo-1", "memo", "簽：擬辦理研習"));
        opening(&id, Action::Create, who, Origin::Memo, memo, "辦理教師研習")
    };
    assert_eq!(
        code(a.act(&create("archivist")).await),
        Code::OfficeNotAllowed
    );
    // A case number is the series' digits, never a caller's path or script.
    for wrong in ["../1", "115/1", ""] {
        let memo = Some(("memo-1", "memo", "簽"));
        let r = opening(
            wrong,
            Action::Create,
            "officer",
            Origin::Memo,
            memo,
            "辦理教師研習",
        );
        assert_eq!(code(a.act(&r).await), Code::BadRequest, "{wrong}");
    }
    a.act(&create("officer")).await.unwrap();
    let c = cases::case(&a.db, &id).await.unwrap();
    assert_eq!(
        (c.state, c.unit.as_deref(), c.holder.as_deref()),
        (State::WithOfficer, Some("k12"), Some("officer"))
    );
    // The number is taken: nobody creates or registers it again.
    assert_eq!(code(a.act(&create("officer2")).await), Code::OfficeState);
    // Up the case's own chain only: not to the head of another department.
    let elsewhere = to(req(&id, Action::Submit, "officer"), "sports-head");
    assert_eq!(code(a.act(&elsewhere).await), Code::BadRequest);
    a.act(&to(req(&id, Action::Submit, "officer"), "chief"))
        .await
        .unwrap();
    assert_eq!(a.state(&id).await, State::InReview);
}

/// 電子收文: a letter from A (at another center) reaches C's agent; C's office takes it in
/// whole, the clerk registers it with one signature over every file, the office signs for it
/// at the exchange and keeps the agent's 收文字號; nothing is taken in or registered twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_received_letter_is_taken_in_whole_registered_and_signed_for() {
    use crate::agent_api::{draft, two_centers};
    use gongwen_integration::{C, until};
    let net = two_centers("office_intake").await;
    let pdf = b"%PDF-1.4\n% plan\n%%EOF\n".to_vec();
    let d = draft(&[C], &[], Some("plan.pdf")).to_string();
    let (status, sent) = net
        .a
        .send(
            &[
                ("draft", None, d.as_bytes()),
                ("attachment", Some("plan.pdf"), &pdf),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    let package = sent["package_id"].as_str().unwrap().to_string();
    let agent = net.c.client();
    until("C's agent has the letter", || async {
        agent.received(&package).await.is_ok()
    })
    .await;

    let a = agency("intake").await;
    assert_eq!(intake::fetch(&a.db, &agent, now_ms()).await.unwrap(), 1);
    assert_eq!(
        intake::fetch(&a.db, &agent, now_ms()).await.unwrap(),
        0,
        "taken once"
    );
    let waiting = intake::waiting(&a.db, 10).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].id, package);
    let files = intake::versions(&a.db, &package).await.unwrap();
    assert!(
        files.len() >= 3,
        "DI, SW and the attachment: {}",
        files.len()
    );
    assert!(files.iter().any(|f| f.content == pdf));
    assert!(
        String::from_utf8_lossy(&files[0].content).contains("<函"),
        "the DI first"
    );

    let id = cases::next_number(&a.db, "case", now_ms()).await.unwrap();
    let register = |case: &str| {
        let subject = &waiting[0].subject;
        let mut r = opening(
            case,
            Action::Register,
            "clerk",
            Origin::Exchange,
            None,
            subject,
        );
        if let Some(n) = r.new_case.as_mut() {
            n.urgency = waiting[0].urgency.clone();
            n.intake = Some(package.clone());
        }
        r
    };
    // The files come from what was received, never from the request.
    let with_own = with_version(register(&id), "incoming", "incoming", "偽造的來文");
    assert_eq!(code(a.act(&with_own).await), Code::BadRequest);
    let step = a.act(&register(&id)).await.unwrap();
    assert_eq!(
        step.signed.matches("文件：incoming").count(),
        files.len(),
        "{}",
        step.signed
    );
    assert!(step.signed.contains(&format!("（{package}）")));
    let stored = cases::versions(&a.db, &id).await.unwrap();
    assert_eq!(stored.len(), files.len());
    assert!(intake::waiting(&a.db, 10).await.unwrap().is_empty());
    let again = cases::next_number(&a.db, "case", now_ms()).await.unwrap();
    assert_eq!(code(a.act(&register(&again)).await), Code::OfficeState);

    // 簽收 at the exchange: the agent's 收文字號 is the case's; a retry gives the same.
    let number = intake::sign_for(&a.db, &agent, &id).await.unwrap();
    assert!(
        number.as_deref().is_some_and(|n| n.contains("收字第")),
        "{number:?}"
    );
    assert_eq!(intake::sign_for(&a.db, &agent, &id).await.unwrap(), number);
    assert_eq!(
        cases::case(&a.db, &id).await.unwrap().receipt_number,
        number
    );
    assert_eq!(
        agent.received(&package).await.unwrap().state,
        gongwen_proto::agent::ReceivedState::Confirmed
    );
    // The registered case verifies like any other.
    let report = export::verify(&export::export(&a.db, AGENCY, &id).await.unwrap(), &a.trust);
    assert!(report.is_ok(), "{report:?}");

    // A second letter is returned (退文) from 待登記 instead: with a reason from the list,
    // by a clerk; then it cannot be registered.
    let plain = draft(&[C], &[], None).to_string();
    let (status, second) = net.a.send(&[("draft", None, plain.as_bytes())], None).await;
    assert_eq!(status, 200, "{second}");
    let other = second["package_id"].as_str().unwrap().to_string();
    until("C's agent has the second letter", || async {
        agent.received(&other).await.is_ok()
    })
    .await;
    assert_eq!(intake::fetch(&a.db, &agent, now_ms()).await.unwrap(), 1);
    let refuse = |reason: &'static str, text: &'static str, who: &'static str| {
        intake::refuse(&a.db, &agent, &other, reason, text, who, now_ms())
    };
    assert_eq!(
        refuse("其他", "", "clerk").await.unwrap_err().code(),
        Code::BadRequest
    );
    assert_eq!(
        refuse("誤送", "", "officer").await.unwrap_err().code(),
        Code::OfficeNotAllowed
    );
    assert_eq!(
        intake::waiting(&a.db, 10).await.unwrap().len(),
        1,
        "nothing changed"
    );
    refuse("誤送", "本局非主管機關", "clerk").await.unwrap();
    assert!(intake::waiting(&a.db, 10).await.unwrap().is_empty());
    assert_eq!(
        agent.received(&other).await.unwrap().state,
        gongwen_proto::agent::ReceivedState::Returned
    );
    assert_eq!(
        refuse("誤送", "", "clerk").await.unwrap_err().code(),
        Code::OfficeState
    );
    let mut late = register(&cases::next_number(&a.db, "case", now_ms()).await.unwrap());
    if let Some(n) = late.new_case.as_mut() {
        n.intake = Some(other.clone());
    }
    assert_eq!(code(a.act(&late).await), Code::OfficeState);
    net.shutdown().await;
}

/// 發文 through the exchange: the decided draft goes to the agency's agent, which numbers it
/// from the agency's one series; the recipient returns it, the office sees it come back, and
/// the officer reopens the case (重辦) with a signed step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decided_draft_goes_out_through_the_agent_and_a_return_reopens_it() {
    use crate::agent_api::{draft, two_centers};
    use gongwen_integration::{C, until};
    use gongwen_office::dispatch;
    let net = two_centers("office_dispatch").await;
    let agent = net.a.client();
    let a = agency("dispatch").await;
    let rule = delegation::Rule {
        matter: "一般業務".to_string(),
        level: 3,
        effective_from: "2020-01-01".to_string(),
        changed_by: "admin".to_string(),
        changed_at: now_ms(),
    };
    delegation::set(&a.db, &rule).await.unwrap();
    let id = case_with_officer(&a, "一般業務").await;
    // The 稿 is a draft of the agent's API: the agent gives its 發文字號.
    let letter = draft(&[C], &[], None).to_string();
    let v2 = with_version(
        req(&id, Action::Draft, "officer"),
        "draft-1",
        "draft",
        &letter,
    );
    a.act(&v2).await.unwrap();
    a.act(&to(req(&id, Action::Submit, "officer"), "chief"))
        .await
        .unwrap();
    let mut d = req(&id, Action::Decide, "chief");
    d.decisions = vec![("draft-1".to_string(), Decision::Issue)];
    a.act(&d).await.unwrap();
    // Not before the clerk's 發文 step.
    assert_eq!(
        dispatch::send(&a.db, &agent, &id, now_ms())
            .await
            .unwrap_err()
            .code(),
        Code::OfficeState
    );
    a.act(&saying(req(&id, Action::Dispatch, "clerk"), "交換"))
        .await
        .unwrap();
    let sent = dispatch::send(&a.db, &agent, &id, now_ms()).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].doc_number.contains("字第"), "{:?}", sent[0]);
    let again = dispatch::send(&a.db, &agent, &id, now_ms()).await.unwrap();
    assert_eq!(again, sent, "sent once");
    let case = cases::case(&a.db, &id).await.unwrap();
    assert_eq!(
        case.dispatch_number.as_deref(),
        Some(sent[0].doc_number.as_str())
    );
    // A second case goes on paper: its number is the next of the same series.
    let other = case_with_officer(&a, "一般業務").await;
    a.act(&to(req(&other, Action::Submit, "officer"), "chief"))
        .await
        .unwrap();
    let mut d = req(&other, Action::Decide, "chief");
    d.decisions = vec![("draft-1".to_string(), Decision::Issue)];
    a.act(&d).await.unwrap();
    a.act(&saying(req(&other, Action::Dispatch, "clerk"), "紙本"))
        .await
        .unwrap();
    let paper = dispatch::number_paper(&a.db, &agent, &other).await.unwrap();
    assert_ne!(paper, sent[0].doc_number);
    assert!(
        paper > sent[0].doc_number,
        "{paper} after {}",
        sent[0].doc_number
    );
    assert_eq!(
        dispatch::number_paper(&a.db, &agent, &other).await.unwrap(),
        paper
    );
    let wrong = dispatch::number_paper(&a.db, &agent, &id)
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::BadRequest);

    // The recipient returns it; the office hears of it and the officer may reopen the case.
    let theirs = net.c.client();
    let package = sent[0].package_id.clone();
    until("C has the letter", || async {
        theirs.received(&package).await.is_ok()
    })
    .await;
    theirs
        .return_doc(&package, "非本機關權責", "請改送體育局")
        .await
        .unwrap();
    let reopen = saying(req(&id, Action::Reopen, "officer"), "改正受文者後重發");
    assert_eq!(
        code(a.act(&reopen).await),
        Code::OfficeState,
        "nothing came back yet"
    );
    until("the return reaches the office", || async {
        dispatch::follow(&a.db, &agent).await.unwrap();
        dispatch::was_returned(&a.db, &id).await.unwrap()
    })
    .await;
    let back = dispatch::sent(&a.db, &id).await.unwrap();
    assert!(
        back[0]
            .returned
            .as_deref()
            .is_some_and(|r| r.contains("非本機關權責")),
        "{back:?}"
    );
    let lists = cases::worklists_for(&a.db, "officer", &taipei_day(now_ms()), 10)
        .await
        .unwrap();
    let returned = lists.iter().find(|w| w.name == "被退文").unwrap();
    assert_eq!(returned.items[0].id, id);
    assert_eq!(
        code(
            a.act(&saying(req(&id, Action::Reopen, "officer2"), "代辦"))
                .await
        ),
        Code::OfficeNotAllowed
    );
    a.act(&reopen).await.unwrap();
    assert_eq!(a.state(&id).await, State::WithOfficer);
    let report = export::verify(&export::export(&a.db, AGENCY, &id).await.unwrap(), &a.trust);
    assert!(report.is_ok(), "{report:?}");
    net.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Time control (時效管制): deadlines, 改速別, 展期, 稽催.

/// Taipei 10:00 of a 2026 day, in Unix ms.
fn taipei_ten(day: &str) -> i64 {
    cases::day_start_ms(day).unwrap() + 10 * 3_600_000
}

/// The 限辦日期 line of a signed text.
fn due_line(text: &str) -> String {
    text.lines()
        .find(|l| l.starts_with("限辦日期："))
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_count_on_the_office_calendar_and_are_signed() {
    let a = agency("deadlines").await;
    let prepared = |urgency: &str, at: i64, limit: Option<Limit>| {
        let mut r = opening(
            "1150000901",
            Action::Register,
            "clerk",
            Origin::Paper,
            Some(("incoming", "scan", "%PDF-1.4 來文")),
            "時效測試",
        );
        r.at = at;
        r.limit = limit;
        if let Some(n) = r.new_case.as_mut() {
            n.urgency = urgency.to_string();
        }
        r
    };
    // Friday 2026-02-13: the weekend, the Lunar New Year break (2/16–2/20), another weekend.
    let fri = taipei_ten("2026-02-13");
    for (urgency, line) in [
        (
            "最速件",
            "限辦日期：中華民國115年2月23日（最速件 1 個工作天）",
        ),
        ("速件", "限辦日期：中華民國115年2月25日（速件 3 個工作天）"),
        // 2/27 is the holiday for 228 (a Saturday).
        (
            "普通件",
            "限辦日期：中華民國115年3月3日（普通件 6 個工作天）",
        ),
    ] {
        let text = steps::prepare(&a.office(), &prepared(urgency, fri, None))
            .await
            .unwrap();
        assert_eq!(due_line(&text), line);
    }
    // A make-up working day (補行上班, a Saturday) counts: on a calendar that has one.
    let mut with_makeup = WorkCalendar::with_bundled().unwrap();
    let sat = time::Date::from_calendar_date(2026, time::Month::February, 14).unwrap();
    with_makeup.set(sat, Override::workday("補行上班"));
    let office = Office {
        calendar: &with_makeup,
        ..a.office()
    };
    let text = steps::prepare(&office, &prepared("最速件", fri, None))
        .await
        .unwrap();
    assert_eq!(
        due_line(&text),
        "限辦日期：中華民國115年2月14日（最速件 1 個工作天）"
    );
    // 限期: the document's date; already past on receipt, handled as 普通件.
    let limit = |kind, day: &str| {
        Some(Limit {
            kind,
            day: day.to_string(),
        })
    };
    let text = steps::prepare(
        &a.office(),
        &prepared("速件", fri, limit(DeadlineKind::Fixed, "2026-03-20")),
    )
    .await
    .unwrap();
    assert_eq!(
        due_line(&text),
        "限辦日期：中華民國115年3月20日（限期公文）"
    );
    let text = steps::prepare(
        &a.office(),
        &prepared("最速件", fri, limit(DeadlineKind::Fixed, "2026-02-10")),
    )
    .await
    .unwrap();
    assert_eq!(
        due_line(&text),
        "限辦日期：中華民國115年3月3日（限期 中華民國115年2月10日 收文時已過，依普通件 6 個工作天）"
    );
    let text = steps::prepare(
        &a.office(),
        &prepared("普通件", fri, limit(DeadlineKind::Project, "2026-06-30")),
    )
    .await
    .unwrap();
    assert_eq!(
        due_line(&text),
        "限辦日期：中華民國115年6月30日（專案管制）"
    );
    let bad = prepared("普通件", fri, limit(DeadlineKind::Fixed, "115/03/20"));
    let e = steps::prepare(&a.office(), &bad).await.unwrap_err();
    assert_eq!(e.code(), Code::BadRequest);

    // Committed (now): the stored day is the signed one; a past 限期 is stored by 普通件.
    let id = cases::next_number(&a.db, "case", now_ms()).await.unwrap();
    let mut r = opening(
        &id,
        Action::Register,
        "clerk",
        Origin::Paper,
        Some(("incoming", "scan", "%PDF-1.4 來文")),
        "限期已過",
    );
    r.limit = limit(DeadlineKind::Fixed, "2026-01-05");
    let step = a.act(&r).await.unwrap();
    let c = cases::case(&a.db, &id).await.unwrap();
    let expected = deadlines::due(&a.calendar, r.at, "普通件").unwrap();
    assert_eq!(c.due_day.as_deref(), Some(timing::iso(expected).as_str()));
    assert_eq!(c.deadline_kind.as_deref(), Some("urgency"));
    assert!(
        due_line(&step.signed).contains("依普通件"),
        "{}",
        step.signed
    );
    // A limit is only for a new case.
    let mut late = req(&id, Action::AssignUnit, "clerk");
    late.target = Some("k12".into());
    late.limit = limit(DeadlineKind::Fixed, "2027-01-05");
    assert_eq!(code(a.act(&late).await), Code::BadRequest);
    a.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unit_head_changes_an_incoming_urgency_and_others_may_not() {
    let a = agency("urgency").await;
    let id = case_with_officer(&a, "一般業務").await;
    let before = a.step_count(&id).await;
    let change = |who: &str| {
        let mut r = saying(
            req(&id, Action::ChangeUrgency, who),
            "來文所定速別與內容不符",
        );
        r.target = Some("最速件".into());
        r
    };
    // The officer, another unit's head: refused, nothing written.
    assert_eq!(
        code(a.act(&change("officer")).await),
        Code::OfficeNotAllowed
    );
    assert_eq!(
        code(a.act(&change("sports-head")).await),
        Code::OfficeNotAllowed
    );
    // Without a reason; to the same 速別.
    let mut no_reason = change("chief");
    no_reason.comment.clear();
    assert_eq!(code(a.act(&no_reason).await), Code::BadRequest);
    let mut same = change("chief");
    same.target = Some("普通件".into());
    assert_eq!(code(a.act(&same).await), Code::BadRequest);
    assert_eq!(a.step_count(&id).await, before);
    // The unit's head (科長), or one above (處長): the deadline counted again from receipt.
    let step = a.act(&change("chief")).await.unwrap();
    assert!(
        step.signed.contains("速別：普通件 → 最速件"),
        "{}",
        step.signed
    );
    let c = cases::case(&a.db, &id).await.unwrap();
    assert_eq!(c.urgency, "最速件");
    let want = deadlines::due(&a.calendar, c.created_at, "最速件").unwrap();
    assert_eq!(c.due_day.as_deref(), Some(timing::iso(want).as_str()));
    assert_eq!(c.state, State::WithOfficer, "the state does not move");
    let mut back = change("dept");
    back.target = Some("速件".into());
    a.act(&back).await.unwrap();
    // The export verifies with the new steps in the chain.
    let file = export::export(&a.db, AGENCY, &id).await.unwrap();
    let report = export::verify(&file, &a.trust);
    assert!(report.is_ok(), "{report:?}");
    a.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extensions_stay_within_the_agencys_limits() {
    let mut a = agency("extend").await;
    let id = case_with_officer(&a, "一般業務").await;
    let extend = |who: &str, days: u32| {
        let mut r = saying(req(&id, Action::Extend, who), "須函詢各校意見");
        r.days = days;
        r
    };
    // Only the officer holding the case; days from 1 to 10; with a reason.
    assert_eq!(
        code(a.act(&extend("officer2", 3)).await),
        Code::OfficeNotAllowed
    );
    assert_eq!(code(a.act(&extend("officer", 0)).await), Code::BadRequest);
    let e = a.act(&extend("officer", 11)).await.unwrap_err();
    assert_eq!(e.code(), Code::BadRequest);
    assert!(e.to_string().contains("專案管制"), "{e}");
    let mut no_reason = extend("officer", 2);
    no_reason.comment.clear();
    assert_eq!(code(a.act(&no_reason).await), Code::BadRequest);
    // Three requests; each moves the deadline once a head grants it, the level rising with
    // the total: up to 5 working days the 科長, up to 10 the 處長, beyond the 局長.
    let grant = |who: &str| req(&id, Action::GrantTime, who);
    for (n, days, granter) in [(1, 2, "chief"), (2, 1, "chief"), (3, 5, "dept")] {
        let before = cases::case(&a.db, &id).await.unwrap();
        let from = timing::due_of(&a.calendar, &before).unwrap();
        let asked = a.act(&extend("officer", days)).await.unwrap();
        assert!(asked.signed.contains("核准層級："), "{}", asked.signed);
        let c = cases::case(&a.db, &id).await.unwrap();
        assert_eq!(c.due_day, before.due_day, "not moved before it is granted");
        assert_eq!(c.asked.as_ref().map(|r| r.days), Some(i64::from(days)));
        // One open request at a time.
        assert_eq!(code(a.act(&extend("officer", 1)).await), Code::OfficeState);
        if granter == "dept" {
            // Eight days in all: beyond the 科長.
            assert_eq!(code(a.act(&grant("chief")).await), Code::OfficeNotAllowed);
        }
        assert_eq!(code(a.act(&grant("officer")).await), Code::OfficeNotAllowed);
        let step = a.act(&grant(granter)).await.unwrap();
        assert!(
            step.signed.contains(&format!("第 {n} 次")),
            "{}",
            step.signed
        );
        let c = cases::case(&a.db, &id).await.unwrap();
        let want = deadlines::add_working_days(&a.calendar, from, days).unwrap();
        assert_eq!(c.due_day.as_deref(), Some(timing::iso(want).as_str()));
        assert_eq!(c.extensions, n);
        assert!(c.asked.is_none());
    }
    // The fourth is refused, pointing to 專案管制.
    let e = a.act(&extend("officer", 1)).await.unwrap_err();
    assert_eq!(e.code(), Code::OfficeState);
    assert!(e.to_string().contains("專案管制"), "{e}");
    // With more requests allowed, the total of 30 working days still holds; past 10 in all,
    // the head of the agency grants.
    a.rules = ExtensionRules {
        max_requests: 10,
        ..ExtensionRules::default()
    };
    for _ in 0..2 {
        a.act(&extend("officer", 10)).await.unwrap();
        assert_eq!(code(a.act(&grant("dept")).await), Code::OfficeNotAllowed);
        a.act(&grant("head")).await.unwrap();
    }
    let c = cases::case(&a.db, &id).await.unwrap();
    assert_eq!((c.extensions, c.extension_days), (5, 28));
    let e = a.act(&extend("officer", 3)).await.unwrap_err();
    assert_eq!(e.code(), Code::OfficeState);
    assert!(e.to_string().contains("累計"), "{e}");
    // Refused: with a reason; the deadline stays and the officer may ask again.
    a.act(&extend("officer", 2)).await.unwrap();
    let due = cases::case(&a.db, &id).await.unwrap().due_day;
    let deny = req(&id, Action::DenyTime, "head");
    assert_eq!(code(a.act(&deny).await), Code::BadRequest);
    a.act(&saying(deny, "請於期限內辦結")).await.unwrap();
    let c = cases::case(&a.db, &id).await.unwrap();
    assert_eq!((c.due_day, c.extensions, c.asked), (due, 5, None));
    a.act(&extend("officer", 2)).await.unwrap();
    a.act(&grant("head")).await.unwrap();
    assert_eq!(a.state(&id).await, State::WithOfficer);
    let file = export::export(&a.db, AGENCY, &id).await.unwrap();
    assert!(export::verify(&file, &a.trust).is_ok());
    a.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_moves_to_project_control_when_its_head_grants_it() {
    let a = agency("project").await;
    let id = case_with_officer(&a, "一般業務").await;
    let today = deadlines::day_of(now_ms()).unwrap();
    let later = timing::iso(today + time::Duration::days(60));
    let ask = |day: &str| {
        let mut r = saying(req(&id, Action::ProjectControl, "officer"), "須跨年度辦理");
        r.limit = Some(Limit {
            kind: DeadlineKind::Project,
            day: day.to_string(),
        });
        r
    };
    // A date today or before, or missing, is refused.
    assert_eq!(
        code(a.act(&ask(&timing::iso(today))).await),
        Code::BadRequest
    );
    let mut bare = ask(&later);
    bare.limit = None;
    assert_eq!(code(a.act(&bare).await), Code::BadRequest);
    let asked = a.act(&ask(&later)).await.unwrap();
    assert!(
        asked.signed.contains("改列專案管制：限辦日期"),
        "{}",
        asked.signed
    );
    // The agency's rule: a 一級單位主管 grants it, not the 科長.
    let grant = |who: &str| req(&id, Action::GrantTime, who);
    assert_eq!(code(a.act(&grant("chief")).await), Code::OfficeNotAllowed);
    let step = a.act(&grant("dept")).await.unwrap();
    assert!(step.signed.contains("（專案管制）"), "{}", step.signed);
    let c = cases::case(&a.db, &id).await.unwrap();
    assert_eq!(c.due_day.as_deref(), Some(later.as_str()));
    assert_eq!(timing::kind_of(&c), DeadlineKind::Project);
    // Already under project control: not asked again.
    assert_eq!(code(a.act(&ask(&later)).await), Code::OfficeState);
    a.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultation_with_no_stated_date_is_due_as_urgent() {
    let a = agency("consult-due").await;
    let id = case_with_officer(&a, "一般業務").await;
    let asked = deadlines::day_of(now_ms()).unwrap();
    let urgent = deadlines::add_working_days(&a.calendar, asked, 3).unwrap();
    // In sequence with no date: the first unit has 3 working days; the next waits its turn.
    let mut r = to(req(&id, Action::Consult, "officer"), "sports,school");
    r.in_sequence = true;
    let step = a.act(&r).await.unwrap();
    assert!(
        step.signed.contains("會辦期限：") && step.signed.contains("速件 3 個工作天"),
        "{}",
        step.signed
    );
    let dues: Vec<Option<String>> = (cases::consults(&a.db, &id).await.unwrap())
        .into_iter()
        .map(|c| c.due_day)
        .collect();
    assert_eq!(dues, vec![Some(timing::iso(urgent)), None]);
    // The consulted unit's worklist shows its own 會辦期限.
    let lists = cases::worklists_for(&a.db, "pe", &taipei_day(now_ms()), 50)
        .await
        .unwrap();
    let waiting = lists.iter().find(|w| w.name == "待會辦").unwrap();
    assert_eq!(
        waiting.items[0].due_day.as_deref(),
        Some(timing::iso(urgent).as_str())
    );
    a.act(&req(&id, Action::Opinion, "sports-head"))
        .await
        .unwrap();
    let dues: Vec<Option<String>> = (cases::consults(&a.db, &id).await.unwrap())
        .into_iter()
        .map(|c| c.due_day)
        .collect();
    assert_eq!(
        dues[1],
        Some(timing::iso(urgent)),
        "its time starts with its turn"
    );
    // A stated date binds every unit; one already past is refused.
    let id2 = case_with_officer(&a, "一般業務").await;
    let stated = timing::iso(asked + time::Duration::days(20));
    let mut r = to(req(&id2, Action::Consult, "officer"), "sports");
    r.limit = Some(Limit {
        kind: DeadlineKind::Fixed,
        day: timing::iso(asked - time::Duration::days(1)),
    });
    assert_eq!(code(a.act(&r).await), Code::BadRequest);
    r.limit = Some(Limit {
        kind: DeadlineKind::Fixed,
        day: stated.clone(),
    });
    let step = a.act(&r).await.unwrap();
    assert!(step.signed.contains("（送會所定）"), "{}", step.signed);
    let c = &cases::consults(&a.db, &id2).await.unwrap()[0];
    assert_eq!(c.due_day.as_deref(), Some(stated.as_str()));
    a.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_in_a_year_with_no_calendar_waits_for_its_table() {
    let mut a = agency("uncovered").await;
    // Only the bundled years: what an office has before it imports next year's table.
    a.calendar = WorkCalendar::with_bundled().unwrap();
    let next = (a.calendar.years().next_back().unwrap() + 1) as i64;
    let last_day = format!("{}-12-24", next - 1);
    // Registered on 12/24 of the last covered year: 普通件 reaches next year, so the signed
    // line says the day waits for that year's calendar, never a count on plain weekdays.
    let mut r = opening(
        "1150000951",
        Action::Register,
        "clerk",
        Origin::Paper,
        Some(("incoming", "scan", "%PDF-1.4 來文")),
        "年底收文",
    );
    r.at = taipei_ten(&last_day);
    let text = steps::prepare(&a.office(), &r).await.unwrap();
    let roc = next - 1911;
    assert_eq!(
        due_line(&text),
        format!(
            "限辦日期：未定（普通件 6 個工作天；中華民國{roc}年（西元{next}年）辦公日曆尚未匯入，限辦日期俟匯入後計算）"
        )
    );
    // A running case stored without its day (started on that 12/24) is left empty …
    let id = case_with_officer(&a, "一般業務").await;
    a.db.execute(
        "UPDATE office_cases SET due_day = NULL, urgency = '普通件', created_at = $2 WHERE id = $1",
        &[id.as_str().into(), taipei_ten(&last_day).into()],
    )
    .await
    .unwrap();
    assert_eq!(cases::fill_due_days(&a.db, &a.calendar).await.unwrap(), 0);
    assert_eq!(cases::count_without_due_day(&a.db).await.unwrap(), 1);
    // … and cannot be extended, the message naming the missing year.
    let mut ext = saying(req(&id, Action::Extend, "officer"), "須函詢各校意見");
    ext.days = 2;
    let e = a.act(&ext).await.unwrap_err();
    assert_eq!(e.code(), Code::OfficeState);
    assert!(e.to_string().contains(&format!("民國{roc}年")), "{e}");
    // An extension from a stored day that would run into next year is refused the same way.
    a.db.execute(
        "UPDATE office_cases SET due_day = $2 WHERE id = $1",
        &[id.as_str().into(), last_day.as_str().into()],
    )
    .await
    .unwrap();
    let mut long = ext.clone();
    long.days = 6;
    let e = a.act(&long).await.unwrap_err();
    assert!(e.to_string().contains("辦公日曆尚未匯入"), "{e}");
    a.db.execute(
        "UPDATE office_cases SET due_day = NULL WHERE id = $1",
        &[id.as_str().into()],
    )
    .await
    .unwrap();
    // Once the year is added, the day is filled in from its 速別.
    a.calendar = gongwen_integration::test_calendar();
    assert_eq!(cases::fill_due_days(&a.db, &a.calendar).await.unwrap(), 1);
    let c = cases::case(&a.db, &id).await.unwrap();
    let want = deadlines::due(&a.calendar, c.created_at, &c.urgency).unwrap();
    assert_eq!(c.due_day.as_deref(), Some(timing::iso(want).as_str()));
    assert_eq!(want.year() as i64, next);
    assert_eq!(cases::count_without_due_day(&a.db).await.unwrap(), 0);
    a.act(&ext).await.unwrap();
    a.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_followup_list_shows_running_cases_by_due_day() {
    let a = agency("chase").await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(case_with_officer(&a, "一般業務").await);
    }
    // One from before deadlines were stored: filled in by its 速別.
    a.db.execute(
        "UPDATE office_cases SET due_day = NULL, deadline_kind = NULL WHERE id = $1",
        &[ids[3].as_str().into()],
    )
    .await
    .unwrap();
    assert_eq!(cases::fill_due_days(&a.db, &a.calendar).await.unwrap(), 1);
    for (id, day) in [
        (&ids[0], "2026-01-06"),
        (&ids[1], "2026-01-02"),
        (&ids[2], "2026-01-05"),
        (&ids[3], "2099-01-05"),
    ] {
        a.db.execute(
            "UPDATE office_cases SET due_day = $2 WHERE id = $1",
            &[id.as_str().into(), day.into()],
        )
        .await
        .unwrap();
    }
    // Case 3 is closed: its time no longer runs.
    a.db.execute(
        "UPDATE office_cases SET state = 'filed' WHERE id = $1",
        &[ids[2].as_str().into()],
    )
    .await
    .unwrap();
    let all = cases::ChaseScope::All;
    let list = cases::chase_list(&a.db, &all, "2026-01-06", 1)
        .await
        .unwrap();
    let got: Vec<&str> = list.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        got,
        [ids[1].as_str(), ids[0].as_str()],
        "earliest due first"
    );
    assert!(!list.more);
    let counts = cases::chase_counts(
        &a.db,
        &all,
        "2026-01-05",
        "2026-01-06",
        cases::ChaseBy::Officer,
    )
    .await
    .unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (
            counts[0].key.as_deref(),
            counts[0].overdue,
            counts[0].due_soon
        ),
        (Some("officer"), 1, 1)
    );
    let agency = cases::chase_counts(
        &a.db,
        &all,
        "2026-01-05",
        "2026-01-06",
        cases::ChaseBy::Agency,
    )
    .await
    .unwrap();
    assert_eq!(
        agency
            .iter()
            .map(|c| (c.key.clone(), c.overdue, c.due_soon))
            .collect::<Vec<_>>(),
        [(None, 1, 1)]
    );
    let units = cases::ChaseScope::Units(vec!["sports".into()]);
    assert!(
        cases::chase_list(&a.db, &units, "2026-01-06", 1)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let k12 = cases::ChaseScope::Units(vec!["k12".into()]);
    assert_eq!(
        cases::chase_list(&a.db, &k12, "2026-01-06", 1)
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    a.db.close().await;
}

/// The text of a mail the sink kept: its base64 body decoded.
fn mail_body(raw: &str) -> String {
    use base64ct::Encoding;
    let body = raw
        .split("\r\n\r\n")
        .nth(1)
        .or_else(|| raw.split("\n\n").nth(1));
    let b64: String = body
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    String::from_utf8(base64ct::Base64::decode_vec(&b64).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_go_by_mail_once_a_working_day_counts_only() {
    use gongwen_net::mail::{MailSecurity, MailSettings, Mailer};
    use gongwen_office::reminders;
    let a = agency("remind").await;
    let sink = gongwen_integration::SmtpSink::start("remind");
    let settings = |port: u16| MailSettings {
        server: "127.0.0.1".into(),
        port: Some(port),
        security: MailSecurity::Plain,
        from: "公文管理系統 <odms@edu.example.gov.tw>".into(),
        username: None,
        password_file: None,
        roots: Vec::new(),
        timeout_s: 5,
    };
    let mailer = Mailer::new(&settings(sink.port)).unwrap();
    for (who, mail) in [
        ("officer", "officer@edu.example.gov.tw"),
        ("chief", "chief@edu.example.gov.tw"),
        ("head", "head@edu.example.gov.tw"),
        ("pe", "pe@edu.example.gov.tw"),
    ] {
        org::set_email(&a.db, who, mail).await.unwrap();
    }
    let e = org::set_email(&a.db, "officer2", "not an address")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::BadRequest);
    // One case of the officer's (in 國中教育科), overdue since January.
    let id = case_with_officer(&a, "教師員額").await;
    a.db.execute(
        "UPDATE office_cases SET due_day = '2026-01-05', subject = '機密的主旨' WHERE id = $1",
        &[id.as_str().into()],
    )
    .await
    .unwrap();
    let monday = cases::day_start_ms("2026-03-02").unwrap();
    let at = |h: i64, m: i64| monday + (h * 60 + m) * 60_000;
    let send = |now: i64| {
        reminders::send_due(
            &a.db,
            &mailer,
            &a.calendar,
            now,
            "09:00",
            "https://odms.example.gov.tw",
        )
    };
    // Before 09:00, and on a Sunday: nothing.
    assert_eq!(send(at(8, 59)).await.unwrap().sent, 0);
    assert_eq!(send(at(9, 30) - 86_400_000).await.unwrap().sent, 0);
    // At 09:30: the officer (own), the 科長 (his unit) and the 局長 (the agency); 鄭科員 has
    // nothing and gets no mail.
    let n = send(at(9, 30)).await.unwrap();
    assert_eq!((n.sent, n.failed, n.nothing), (3, 0, 1));
    // Once a day, whatever the rounds and restarts.
    assert_eq!(send(at(10, 0)).await.unwrap(), reminders::Sent::default());
    let got = sink.messages();
    assert_eq!(got.len(), 3);
    let to_officer = got
        .iter()
        .find(|m| m.contains("officer@edu.example.gov.tw"))
        .unwrap();
    let body = mail_body(to_officer);
    assert!(body.contains("您承辦的案件：逾期 1 件"), "{body}");
    assert!(!body.contains("您主管的單位"), "{body}");
    assert!(body.contains("https://odms.example.gov.tw/"), "{body}");
    let to_chief = mail_body(got.iter().find(|m| m.contains("chief@")).unwrap());
    assert!(
        to_chief.contains("您主管的單位（含所屬單位）：逾期 1 件"),
        "{to_chief}"
    );
    assert!(to_chief.contains("/followup"), "{to_chief}");
    // Counts only: no subject or other text of a document leaves by mail.
    for m in &got {
        assert!(!mail_body(m).contains("機密的主旨"));
    }
    // On the worklist, the same reminder.
    let r = reminders::for_person(&a.db, "officer", "2026-03-02", "2026-03-03")
        .await
        .unwrap();
    assert_eq!(r.line(), "您承辦的案件逾期 1 件、即將到期 0 件");
    // A server that does not answer: recorded as failed, tried again after ten minutes.
    let tuesday = at(9, 30) + 86_400_000;
    let dead = Mailer::new(&settings(1)).unwrap();
    let down = reminders::send_due(&a.db, &dead, &a.calendar, tuesday, "09:00", "")
        .await
        .unwrap();
    assert_eq!((down.sent, down.failed), (0, 3));
    let again = |now| reminders::send_due(&a.db, &mailer, &a.calendar, now, "09:00", "");
    assert_eq!(again(tuesday + 60_000).await.unwrap().sent, 0);
    assert_eq!(again(tuesday + 11 * 60_000).await.unwrap().sent, 3);
    assert_eq!(sink.messages().len(), 6);
    a.db.close().await;
}
