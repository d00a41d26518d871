//! The forms of a case's actions, read into the request the person is to sign. Every form posts
//! to `POST /cases/{id}/act` with its `action` (the step's name, e.g. `assign_unit`) and fields
//! named after it (`assign_unit_to`, `assign_unit_reason` …), so that all the forms of one
//! page have their own ids. What a form lacks comes back under its field; whether the step may
//! be taken at all is for [`crate::steps::prepare`] to say.
//!
//! | action | fields |
//! |---|---|
//! | `assign_unit` 分文 | `assign_unit_to` (unit), `assign_unit_reason` (改分: required) |
//! | `assign_officer` 分辦 | `assign_officer_to` (person) |
//! | `return_to_desk` 退回登記桌 | `return_to_desk_reason` |
//! | `flag` 改列紙本 | `flag_1` … `flag_8` (check boxes, value 1) |
//! | `consult` 送會 | `consult_unit_<unit id>` (check boxes), `consult_in_sequence`, `consult_due` (會辦期限, optional: 速件) |
//! | `opinion` 會辦意見 | `opinion_text` |
//! | `submit` 陳核 | `submit_to` (person), `submit_comment` |
//! | `approve` 核轉 | `approve_to` (person), `approve_comment` |
//! | `return` 退回 | `return_to` (person), `return_reason` |
//! | `decide` 決行 | `decide_<doc>` (`issue`, `withhold`, `defer`) per 稿, `decide_comment` |
//! | `dispatch` 發文 | `dispatch_channel` (交換 or 紙本) |
//! | `file` 歸檔 | `file_class`, `file_case`, `file_volume`, `file_item`, `file_retention` |
//! | `reopen` 重辦 | `reopen_reason` |
//! | `change_urgency` 改速別 | `change_urgency_to` (速別), `change_urgency_reason` |
//! | `extend` 申請展期 | `extend_days` (working days), `extend_reason` |
//! | `project_control` 申請改列專案管制 | `project_control_day` (`YYYY-MM-DD`), `project_control_reason` |
//! | `grant_time` 核准 | `grant_time_comment` |
//! | `deny_time` 不予核准 | `deny_time_reason` |
//!
//! Each form also has `principal_<action>` (「代理」: empty for oneself, or the principal's id)
//! when the person deputises for someone today. 擬辦 and 修改 (`draft`, `amend`) post the
//! drafting form ([`super::drafting`]) with `doc` and `principal_draft` / `principal_amend`.

use std::collections::HashMap;

use gongwen_web::FormErrors;
use serde::Deserialize;

use super::sign::Then;
use crate::cases::{Case, State};
use crate::steps::{Action, Decision, Request};

/// A posted form's fields (other than its CSRF token), by name. Check boxes post `1`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Fields(pub HashMap<String, String>);

impl Fields {
    /// The field's value, or "".
    pub fn text(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    pub fn set(&mut self, name: &str, value: String) {
        self.0.insert(name.to_string(), value);
    }

    /// Whether a check box is ticked.
    pub fn on(&self, name: &str) -> bool {
        !self.text(name).is_empty()
    }
}

/// 保存年限 an archivist chooses from.
pub const RETENTIONS: [&str; 9] = [
    "1年", "3年", "5年", "10年", "15年", "20年", "25年", "30年", "永久",
];

/// How a decided case goes out.
pub const CHANNELS: [&str; 2] = ["交換", "紙本"];

/// The field of a form's 「代理」 select.
pub fn principal_field(action: Action) -> &'static str {
    match action {
        Action::Register => "principal_register",
        Action::AssignUnit => "principal_assign_unit",
        Action::AssignOfficer => "principal_assign_officer",
        Action::ReturnToDesk => "principal_return_to_desk",
        Action::Refuse => "principal_refuse",
        Action::Create => "principal_create",
        Action::Draft => "principal_draft",
        Action::Flag => "principal_flag",
        Action::Consult => "principal_consult",
        Action::Opinion => "principal_opinion",
        Action::Submit => "principal_submit",
        Action::Approve => "principal_approve",
        Action::Amend => "principal_amend",
        Action::Return => "principal_return",
        Action::Decide => "principal_decide",
        Action::Dispatch => "principal_dispatch",
        Action::File => "principal_file",
        Action::Reopen => "principal_reopen",
        Action::ChangeUrgency => "principal_change_urgency",
        Action::Extend => "principal_extend",
        Action::ProjectControl => "principal_project_control",
        Action::GrantTime => "principal_grant_time",
        Action::DenyTime => "principal_deny_time",
    }
}

/// The person's choice of whom they act for: `None` is themselves.
pub fn principal(action: Action, f: &Fields) -> Option<String> {
    Some(f.text(principal_field(action)).trim().to_string()).filter(|p| !p.is_empty())
}

/// The check box of one unit in the 送會 form.
pub fn consult_field(unit: &str) -> String {
    format!("consult_unit_{unit}")
}

/// The radio group of one 稿 in the 決行 form.
pub fn decide_field(doc: &str) -> String {
    format!("decide_{doc}")
}

/// What a form is read against: the case as the page showed it.
pub struct Context<'a> {
    pub case: &'a Case,
    /// The case's current 稿, each decided on its own.
    pub drafts: Vec<String>,
    /// Every unit in the order the page lists them (the order of 會辦 in sequence).
    pub units: Vec<String>,
}

/// The request a form asks for and what follows it at the agent, or what the form lacks.
/// 擬辦 and 修改 are read from the drafting form instead.
pub fn request(
    action: Action,
    f: &Fields,
    ctx: &Context<'_>,
    actor: &str,
    at: i64,
) -> Result<(Request, Then), FormErrors> {
    let mut r = Request::new(&ctx.case.id, action, actor, at);
    r.principal = principal(action, f);
    let mut errors = FormErrors::new();
    let mut then = Then::Nothing;
    let mut required = |name: &'static str, message: &str| -> String {
        let v = f.text(name).trim().to_string();
        if v.is_empty() {
            errors.push(Some(name), message);
        }
        v
    };
    match action {
        Action::AssignUnit => {
            r.target = Some(required("assign_unit_to", "請選擇主辦單位"));
            r.comment = if ctx.case.state == State::AtUnit {
                required("assign_unit_reason", "改分須填寫原因")
            } else {
                f.text("assign_unit_reason").trim().to_string()
            };
        }
        Action::AssignOfficer => {
            r.target = Some(required("assign_officer_to", "請選擇承辦人"));
        }
        Action::ReturnToDesk => {
            r.comment = required("return_to_desk_reason", "退回登記桌須填寫原因");
        }
        Action::Flag => {
            r.exclusions = (1..=8u8).filter(|n| f.on(&format!("flag_{n}"))).collect();
            if r.exclusions.is_empty() {
                errors.push(Some("flag_exclusions"), "請勾選至少一款排除情形");
            }
        }
        Action::Consult => {
            let chosen: Vec<&str> = ctx
                .units
                .iter()
                .filter(|u| f.on(&consult_field(u)))
                .map(String::as_str)
                .collect();
            if chosen.is_empty() {
                errors.push(Some("consult_units"), "請勾選至少一個會辦單位");
            }
            r.target = Some(chosen.join(","));
            r.in_sequence = f.on("consult_in_sequence");
            let due = f.text("consult_due").trim();
            if !due.is_empty() {
                match crate::timing::limit_of_form("fixed", due) {
                    Ok(limit) => r.limit = limit,
                    Err(e) => errors.push(Some("consult_due"), e.replace("限辦日期", "會辦期限")),
                }
            }
        }
        Action::Opinion => {
            r.comment = f.text("opinion_text").trim().to_string();
        }
        Action::Submit => {
            r.target = Some(required("submit_to", "請選擇陳核的主管"));
            r.comment = f.text("submit_comment").trim().to_string();
        }
        Action::Approve => {
            r.target = Some(required("approve_to", "請選擇核轉的上一層主管"));
            r.comment = f.text("approve_comment").trim().to_string();
        }
        Action::Return => {
            r.target = Some(required("return_to", "請選擇退回給誰"));
            r.comment = required("return_reason", "退回須填寫原因");
        }
        Action::Decide => {
            for doc in &ctx.drafts {
                match Decision::parse(f.text(&decide_field(doc))) {
                    Some(d) => r.decisions.push((doc.clone(), d)),
                    None => errors.push(
                        Some("decisions"),
                        format!("請為稿「{doc}」選擇發、不發或緩發"),
                    ),
                }
            }
            r.comment = f.text("decide_comment").trim().to_string();
        }
        Action::Dispatch => {
            let channel = f.text("dispatch_channel");
            then = match channel {
                "交換" => Then::Send,
                "紙本" => Then::NumberPaper,
                _ => {
                    errors.push(Some("dispatch_channel"), "請選擇發文方式（交換或紙本）");
                    Then::Nothing
                }
            };
            r.comment = channel.to_string();
        }
        Action::File => {
            let mut parts = Vec::new();
            for (name, what) in [
                ("file_class", "分類號"),
                ("file_case", "案次號"),
                ("file_volume", "卷次號"),
                ("file_item", "目次號"),
            ] {
                let v = f.text(name).trim();
                if v.is_empty() || v.contains('/') {
                    errors.push(Some(name), format!("請填寫{what}（英數字，不含 /）"));
                }
                parts.push(v.to_string());
            }
            r.comment = parts.join("/");
            let retention = f.text("file_retention");
            if !RETENTIONS.contains(&retention) {
                errors.push(Some("file_retention"), "請選擇保存年限");
            }
            r.retention = Some(retention.to_string());
        }
        Action::Reopen => {
            r.comment = required("reopen_reason", "重辦須填寫原因");
        }
        Action::ChangeUrgency => {
            r.target = Some(required("change_urgency_to", "請選擇新的速別"));
            r.comment = required("change_urgency_reason", "改速別須填寫原因");
        }
        Action::Extend => {
            r.comment = required("extend_reason", "展期須填寫原因");
            match f.text("extend_days").trim().parse::<u32>() {
                Ok(n) if (1..=366).contains(&n) => r.days = n,
                _ => errors.push(Some("extend_days"), "請填寫展期的工作天數（1 以上的整數）"),
            }
        }
        Action::ProjectControl => {
            r.comment = required("project_control_reason", "改列專案管制須填寫原因");
            let day = required("project_control_day", "請填寫專案管制的日期");
            if !day.is_empty() {
                match crate::timing::limit_of_form("project", &day) {
                    Ok(limit) => r.limit = limit,
                    Err(e) => errors.push(Some("project_control_day"), e),
                }
            }
        }
        Action::GrantTime => {
            r.comment = f.text("grant_time_comment").trim().to_string();
        }
        Action::DenyTime => {
            r.comment = required("deny_time_reason", "不予核准須填寫原因");
        }
        Action::Register | Action::Refuse | Action::Create | Action::Draft | Action::Amend => {
            errors.push(None, format!("「{}」不在案件頁辦理", action.label()));
        }
    }
    if errors.is_empty() {
        Ok((r, then))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(state: State) -> Case {
        crate::org::testing::case(state, None)
    }

    fn form(pairs: &[(&str, &str)]) -> Fields {
        Fields(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn read(action: Action, state: State, pairs: &[(&str, &str)]) -> Result<Request, FormErrors> {
        let c = case(state);
        let ctx = Context {
            case: &c,
            drafts: vec!["draft-1".into(), "draft-2".into()],
            units: vec!["school".into(), "sports".into(), "paper".into()],
        };
        request(action, &form(pairs), &ctx, "me", 5).map(|(r, _)| r)
    }

    #[test]
    fn a_reassignment_needs_its_reason_the_first_assignment_does_not() {
        let r = read(
            Action::AssignUnit,
            State::Registered,
            &[("assign_unit_to", "k12")],
        )
        .unwrap();
        assert_eq!(
            (r.case.as_str(), r.target.as_deref(), r.actor.as_str(), r.at),
            ("1150000001", Some("k12"), "me", 5)
        );
        assert_eq!(r.principal, None);
        let e = read(
            Action::AssignUnit,
            State::AtUnit,
            &[("assign_unit_to", "k12")],
        )
        .unwrap_err();
        assert_eq!(e.of("assign_unit_reason"), "改分須填寫原因");
        let e = read(Action::AssignUnit, State::Registered, &[]).unwrap_err();
        assert!(!e.of("assign_unit_to").is_empty());
    }

    #[test]
    fn a_deputy_names_the_principal() {
        let r = read(
            Action::Approve,
            State::InReview,
            &[("approve_to", "dept"), ("principal_approve", "chief")],
        )
        .unwrap();
        assert_eq!(r.principal.as_deref(), Some("chief"));
        assert_eq!(r.target.as_deref(), Some("dept"));
        // Another form's principal does not count.
        let r = read(
            Action::Approve,
            State::InReview,
            &[("approve_to", "dept"), ("principal_submit", "chief")],
        )
        .unwrap();
        assert_eq!(r.principal, None);
    }

    #[test]
    fn consulted_units_follow_the_pages_order() {
        let r = read(
            Action::Consult,
            State::WithOfficer,
            &[
                ("consult_unit_sports", "1"),
                ("consult_unit_school", "1"),
                ("consult_in_sequence", "1"),
            ],
        )
        .unwrap();
        assert_eq!(r.target.as_deref(), Some("school,sports"));
        assert!(r.in_sequence);
        let e = read(
            Action::Consult,
            State::WithOfficer,
            &[("consult_unit_elsewhere", "1")],
        );
        assert!(!e.unwrap_err().of("consult_units").is_empty());
    }

    #[test]
    fn every_draft_gets_its_decision() {
        let r = read(
            Action::Decide,
            State::InReview,
            &[("decide_draft-1", "issue"), ("decide_draft-2", "defer")],
        )
        .unwrap();
        assert_eq!(
            r.decisions,
            [
                ("draft-1".to_string(), Decision::Issue),
                ("draft-2".to_string(), Decision::Defer)
            ]
        );
        let e = read(Action::Decide, State::InReview, &[("decide_draft-1", "發")]).unwrap_err();
        assert_eq!(e.items().len(), 2, "{e:?}");
    }

    #[test]
    fn exclusions_dispatch_and_filing_read_their_fields() {
        let r = read(
            Action::Flag,
            State::WithOfficer,
            &[("flag_1", "1"), ("flag_6", "1")],
        )
        .unwrap();
        assert_eq!(r.exclusions, [1, 6]);
        assert!(read(Action::Flag, State::WithOfficer, &[]).is_err());
        let c = case(State::ToDispatch);
        let ctx = Context {
            case: &c,
            drafts: Vec::new(),
            units: Vec::new(),
        };
        let (r, then) = request(
            Action::Dispatch,
            &form(&[("dispatch_channel", "紙本")]),
            &ctx,
            "clerk",
            1,
        )
        .unwrap();
        assert_eq!((r.comment.as_str(), then), ("紙本", Then::NumberPaper));
        let (_, then) = request(
            Action::Dispatch,
            &form(&[("dispatch_channel", "交換")]),
            &ctx,
            "clerk",
            1,
        )
        .unwrap();
        assert_eq!(then, Then::Send);
        assert!(
            read(
                Action::Dispatch,
                State::ToDispatch,
                &[("dispatch_channel", "傳真")]
            )
            .is_err()
        );
        let r = read(
            Action::File,
            State::ToFile,
            &[
                ("file_class", "A01"),
                ("file_case", "115"),
                ("file_volume", "1"),
                ("file_item", "3"),
                ("file_retention", "10年"),
            ],
        )
        .unwrap();
        assert_eq!(r.comment, "A01/115/1/3");
        assert_eq!(r.retention.as_deref(), Some("10年"));
        let e = read(
            Action::File,
            State::ToFile,
            &[("file_class", "A/01"), ("file_retention", "100年")],
        )
        .unwrap_err();
        for f in [
            "file_class",
            "file_case",
            "file_volume",
            "file_item",
            "file_retention",
        ] {
            assert!(!e.of(f).is_empty(), "{f}");
        }
    }

    #[test]
    fn reasons_are_required_where_the_rules_require_them() {
        for (action, field) in [
            (Action::ReturnToDesk, "return_to_desk_reason"),
            (Action::Reopen, "reopen_reason"),
            (Action::Return, "return_reason"),
            (Action::Extend, "extend_reason"),
            (Action::Extend, "extend_days"),
            (Action::ChangeUrgency, "change_urgency_reason"),
            (Action::ChangeUrgency, "change_urgency_to"),
        ] {
            let e = read(action, State::InReview, &[]).unwrap_err();
            assert!(!e.of(field).is_empty(), "{field}");
        }
        assert!(
            read(Action::Opinion, State::Consulting, &[]).is_ok(),
            "無意見"
        );
        assert!(read(Action::Draft, State::WithOfficer, &[]).is_err());
    }
}
