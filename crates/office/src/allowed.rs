//! Which steps a person may take on a case now, and whom or what each may name: the case page
//! shows only these forms. It mirrors the checks of [`crate::steps`] (state, holder, roles for
//! the case's unit, deputies today, the deciding level) but decides nothing: `prepare` and
//! `commit` check everything again, so a form shown by mistake is refused, never obeyed.
//!
//! What is read from the store ([`facts`], [`officers`], [`reviewers`], [`returnees`]) is kept
//! apart from what is decided from it ([`offers`]), which is plain and tested here.

use gongwen_store::Db;

use crate::cases::{self, Case, Consult, State, Version};
use crate::org::{self, Person, Role, Unit};
use crate::steps::{self, Action, Trail};
use crate::{OfficeError, delegation};

/// Someone a person may act as: themselves, or a principal they deputise for today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub person: Person,
    pub roles: Vec<(Role, String)>,
    /// The level they decide at (1 head … 3 section chief), if they supervise.
    pub level: Option<i64>,
}

/// What the offers are decided from.
#[derive(Debug, Clone)]
pub struct Facts {
    pub case: Case,
    /// Every unit, the agency first.
    pub units: Vec<Unit>,
    /// The person signed in first, then whom they deputise for today.
    pub identities: Vec<Identity>,
    pub consults: Vec<Consult>,
    pub trail: Vec<Trail>,
    pub current: Vec<Version>,
    /// A copy sent came back (退文).
    pub returned: bool,
    /// The level that decides the case's matter today (the delegation table).
    pub needed_level: i64,
    /// The exclusions this agency applies (`[office] exclusions`).
    pub agency_exclusions: Vec<u8>,
}

/// An action offered, and as whom: `None` is the person themselves, `Some(id)` a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub action: Action,
    pub as_whom: Vec<Option<String>>,
}

/// The actions of the case page, in the order of the flow.
pub const ORDER: [Action; 20] = [
    Action::AssignUnit,
    Action::AssignOfficer,
    Action::ReturnToDesk,
    Action::Draft,
    Action::Flag,
    Action::Consult,
    Action::Opinion,
    Action::Submit,
    Action::Approve,
    Action::Amend,
    Action::Return,
    Action::Decide,
    Action::Dispatch,
    Action::File,
    Action::Reopen,
    Action::ChangeUrgency,
    Action::Extend,
    Action::ProjectControl,
    Action::GrantTime,
    Action::DenyTime,
];

/// Reads what [`offers`] needs for `person` on `day` (Taipei, `YYYY-MM-DD`).
pub async fn facts(
    db: &Db,
    case_id: &str,
    person: &str,
    day: &str,
    agency_exclusions: &[u8],
) -> Result<Facts, OfficeError> {
    let case = cases::case(db, case_id).await?;
    let mut ids = vec![person.to_string()];
    ids.extend(org::principals_on(db, person, day).await?);
    let mut identities = Vec::new();
    for id in ids {
        identities.push(Identity {
            person: org::person(db, &id).await?,
            roles: org::roles(db, &id).await?,
            level: org::level(db, &id).await?,
        });
    }
    Ok(Facts {
        units: tree(org::units(db).await?),
        consults: cases::consults(db, case_id).await?,
        trail: steps::trail(db, case_id).await?,
        current: cases::current_versions(db, case_id).await?,
        returned: crate::dispatch::was_returned(db, case_id).await?,
        needed_level: delegation::level_on(db, &case.matter, day).await?,
        agency_exclusions: agency_exclusions.to_vec(),
        identities,
        case,
    })
}

/// Units in the order of the tree: each unit followed by the units under it (by id), as
/// people read an organisation chart. Units the walk does not reach (a broken parent) come
/// last, so none is lost.
pub fn tree(mut units: Vec<Unit>) -> Vec<Unit> {
    units.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out: Vec<Unit> = Vec::with_capacity(units.len());
    let mut stack: Vec<&Unit> = units.iter().filter(|u| u.parent.is_none()).rev().collect();
    while let Some(u) = stack.pop() {
        if out.iter().any(|o| o.id == u.id) {
            continue;
        }
        out.push(u.clone());
        stack.extend(
            units
                .iter()
                .filter(|c| c.parent.as_deref() == Some(u.id.as_str()))
                .rev(),
        );
    }
    for u in &units {
        if !out.iter().any(|o| o.id == u.id) {
            out.push(u.clone());
        }
    }
    out
}

/// `unit` and the units above it, nearest first (bounded by the number of units).
pub fn chain<'a>(units: &'a [Unit], unit: &str) -> Vec<&'a Unit> {
    let mut out: Vec<&Unit> = Vec::new();
    let mut next = units.iter().find(|u| u.id == unit);
    while let Some(u) = next {
        if out.len() > units.len() || out.iter().any(|o| o.id == u.id) {
            break;
        }
        out.push(u);
        next = u
            .parent
            .as_deref()
            .and_then(|p| units.iter().find(|x| x.id == p));
    }
    out
}

/// The agency itself (the root of the tree).
pub fn root(units: &[Unit]) -> Option<&Unit> {
    units.iter().find(|u| u.depth == 0)
}

/// Whether `roles` hold `role` for `unit` or a unit above it, as `org::holds` decides.
pub fn holds(units: &[Unit], roles: &[(Role, String)], role: Role, unit: &str) -> bool {
    let chain = chain(units, unit);
    roles
        .iter()
        .any(|(r, u)| *r == role && chain.iter().any(|c| c.id == *u))
}

/// The level at which `roles` head `unit` or a unit above it (1 首長 … 3 二級單位主管), the
/// highest if several; None when they head none of them.
pub fn level_over(units: &[Unit], roles: &[(Role, String)], unit: &str) -> Option<i64> {
    let chain = chain(units, unit);
    roles
        .iter()
        .filter_map(|(r, u)| {
            let held = chain.iter().find(|c| c.id == *u)?;
            match r {
                Role::Head => Some(1),
                Role::Supervisor => Some(held.depth + 1),
                _ => None,
            }
        })
        .min()
}

impl Facts {
    fn has_writing(&self) -> bool {
        self.current
            .iter()
            .any(|v| v.kind == "memo" || v.kind == "draft")
    }

    fn decided(&self) -> bool {
        self.trail.iter().any(|s| s.action == Action::Decide)
    }

    /// The exclusions this agency applies that the case does not have yet.
    pub fn open_exclusions(&self) -> Vec<u8> {
        self.agency_exclusions
            .iter()
            .copied()
            .filter(|n| (1..=8).contains(n) && !self.case.exclusions.contains(n))
            .collect()
    }

    /// The units this case may be sent to for 會辦: all but its own.
    pub fn consultable(&self) -> Vec<&Unit> {
        let own = self.case.unit.as_deref().unwrap_or_default();
        self.units.iter().filter(|u| u.id != own).collect()
    }

    /// The units awaiting an opinion that `who` may give it for (its officer or supervisor).
    pub fn opinion_units(&self, who: &Identity) -> Vec<&str> {
        cases::awaited(&self.consults)
            .into_iter()
            .filter(|c| {
                holds(&self.units, &who.roles, Role::Officer, &c.unit)
                    || holds(&self.units, &who.roles, Role::Supervisor, &c.unit)
            })
            .map(|c| c.unit.as_str())
            .collect()
    }

    /// Whether `who` may take `action` now, as far as the case page can tell.
    pub fn may(&self, who: &Identity, action: Action) -> bool {
        let c = &self.case;
        let id = who.person.id.as_str();
        let holder = c.holder.as_deref() == Some(id);
        let has = |role: Role| who.roles.iter().any(|(r, _)| *r == role);
        let state = |states: &[State]| states.contains(&c.state);
        match action {
            Action::AssignUnit => {
                state(&[State::Registered, State::AtUnit])
                    && root(&self.units)
                        .is_some_and(|r| holds(&self.units, &who.roles, Role::Desk, &r.id))
            }
            Action::AssignOfficer => {
                state(&[State::AtUnit])
                    && c.unit
                        .as_deref()
                        .is_some_and(|u| holds(&self.units, &who.roles, Role::Desk, u))
            }
            Action::ReturnToDesk | Action::Draft => state(&[State::WithOfficer]) && holder,
            Action::Flag => {
                state(&[State::Registered, State::AtUnit, State::WithOfficer])
                    && (has(Role::Clerk) || holder)
                    && !self.open_exclusions().is_empty()
            }
            Action::Consult => {
                state(&[State::WithOfficer])
                    && holder
                    && !c.is_paper()
                    && !self.consultable().is_empty()
            }
            Action::Opinion => state(&[State::Consulting]) && !self.opinion_units(who).is_empty(),
            Action::Submit => {
                state(&[State::WithOfficer]) && holder && !c.is_paper() && self.has_writing()
            }
            Action::Approve | Action::Return => state(&[State::InReview]) && holder,
            Action::Amend => state(&[State::InReview]) && holder && self.has_writing(),
            Action::Decide => {
                state(&[State::InReview])
                    && holder
                    && !self.decided()
                    && who.level.is_some_and(|l| l <= self.needed_level)
            }
            Action::Dispatch => state(&[State::ToDispatch]) && has(Role::Clerk),
            Action::File => state(&[State::ToFile]) && has(Role::Archivist),
            Action::Reopen => {
                state(&[State::ToFile]) && c.officer.as_deref() == Some(id) && self.returned
            }
            Action::ChangeUrgency => {
                state(&[
                    State::AtUnit,
                    State::WithOfficer,
                    State::Consulting,
                    State::InReview,
                    State::ToDispatch,
                ]) && matches!(c.origin, cases::Origin::Exchange | cases::Origin::Paper)
                    && c.unit.as_deref().is_some_and(|u| {
                        holds(&self.units, &who.roles, Role::Supervisor, u)
                            || holds(&self.units, &who.roles, Role::Head, u)
                    })
            }
            Action::Extend | Action::ProjectControl => {
                c.officer.as_deref() == Some(id)
                    && c.asked.is_none()
                    && (state(&[State::Consulting]) || (state(&[State::WithOfficer]) && holder))
                    && (action == Action::Extend
                        || crate::timing::kind_of(c) != crate::timing::DeadlineKind::Project)
            }
            Action::GrantTime | Action::DenyTime => {
                state(&[
                    State::AtUnit,
                    State::WithOfficer,
                    State::Consulting,
                    State::InReview,
                    State::ToDispatch,
                ]) && c.asked.as_ref().is_some_and(|a| {
                    c.unit.as_deref().is_some_and(|u| {
                        level_over(&self.units, &who.roles, u).is_some_and(|l| l <= a.level)
                    })
                })
            }
            Action::Register | Action::Refuse | Action::Create => false,
        }
    }
}

/// The actions the person may take now, each with as whom (themselves first).
pub fn offers(f: &Facts) -> Vec<Offer> {
    ORDER
        .iter()
        .filter_map(|&action| {
            let as_whom: Vec<Option<String>> = (f.identities.iter().enumerate())
                .filter(|(_, who)| f.may(who, action))
                .map(|(i, who)| (i > 0).then(|| who.person.id.clone()))
                .collect();
            (!as_whom.is_empty()).then_some(Offer { action, as_whom })
        })
        .collect()
}

/// The person (or principal) an offer acts as.
pub fn identity<'a>(f: &'a Facts, as_whom: &Option<String>) -> Option<&'a Identity> {
    match as_whom {
        None => f.identities.first(),
        Some(p) => f.identities.iter().skip(1).find(|i| i.person.id == *p),
    }
}

/// Most people a choice lists (a unit of a city hall is far smaller).
const MAX_CHOICES: i64 = 5_000;

/// People holding one of `roles`, with the unit each role is held for. `units` (if any)
/// limits them to people of those units.
async fn role_holders(
    db: &Db,
    roles: &[Role],
    people_of: Option<&[&str]>,
) -> Result<Vec<(Person, Role, String)>, OfficeError> {
    let mut args: Vec<gongwen_store::Value> = vec![MAX_CHOICES.into()];
    let marks = |values: Vec<&str>, args: &mut Vec<gongwen_store::Value>| {
        let mut m = Vec::new();
        for v in values {
            args.push(v.into());
            m.push(format!("${}", args.len()));
        }
        m.join(", ")
    };
    let role_marks = marks(roles.iter().map(|r| r.as_str()).collect(), &mut args);
    let mut sql = format!(
        "SELECT p.id AS id, p.name AS name, p.title AS title, p.unit AS unit, p.spki_sha256 AS spki, r.role AS role, r.unit AS role_unit FROM office_roles r JOIN office_people p ON p.id = r.person WHERE r.role IN ({role_marks})"
    );
    if let Some(units) = people_of {
        if units.is_empty() {
            return Ok(Vec::new());
        }
        let unit_marks = marks(units.to_vec(), &mut args);
        sql += &format!(" AND p.unit IN ({unit_marks})");
    }
    sql += " ORDER BY p.unit, p.id LIMIT $1";
    let rows = db.fetch_all(&sql, &args).await?;
    let mut out = Vec::new();
    for r in rows {
        let Some(role) = Role::parse(&r.text("role")?) else {
            continue;
        };
        let person = Person {
            id: r.text("id")?,
            name: r.text("name")?,
            title: r.text("title")?,
            unit: r.text("unit")?,
            spki_sha256: r.opt_text("spki")?,
        };
        out.push((person, role, r.text("role_unit")?));
    }
    Ok(out)
}

/// The officers a unit's desk may give the case to (分辦): people of the unit or a unit below
/// it who hold the officer role for their own unit.
pub async fn officers(db: &Db, units: &[Unit], unit: &str) -> Result<Vec<Person>, OfficeError> {
    let below: Vec<&str> = units
        .iter()
        .filter(|u| chain(units, &u.id).iter().any(|c| c.id == unit))
        .map(|u| u.id.as_str())
        .collect();
    let rows = role_holders(db, &[Role::Officer], Some(&below)).await?;
    let mut out: Vec<Person> = Vec::new();
    for (p, _, role_unit) in rows {
        let own = chain(units, &p.unit).iter().any(|c| c.id == role_unit);
        if own && !out.iter().any(|o| o.id == p.id) {
            out.push(p);
        }
    }
    Ok(out)
}

/// The reviewers a case of `unit` may go up to (陳核, 核轉): the head, and the supervisors of
/// the unit or a unit above it, each with their level, highest level (smallest number) last.
pub async fn reviewers(
    db: &Db,
    units: &[Unit],
    unit: &str,
) -> Result<Vec<(Person, i64)>, OfficeError> {
    let chain_ids: Vec<&str> = chain(units, unit).iter().map(|u| u.id.as_str()).collect();
    let rows = role_holders(db, &[Role::Head, Role::Supervisor], None).await?;
    let mut out: Vec<(Person, i64)> = Vec::new();
    for (p, role, role_unit) in &rows {
        let in_chain = *role == Role::Head
            || (*role == Role::Supervisor && chain_ids.contains(&role_unit.as_str()));
        if !in_chain || out.iter().any(|(o, _)| o.id == p.id) {
            continue;
        }
        // The level is the highest any of their roles gives (as org::level reads it).
        let level = rows
            .iter()
            .filter(|(q, _, _)| q.id == p.id)
            .filter_map(|(_, r, u)| match r {
                Role::Head => Some(1),
                Role::Supervisor => units.iter().find(|x| x.id == *u).map(|x| x.depth + 1),
                _ => None,
            })
            .min();
        if let Some(level) = level {
            out.push((p.clone(), level));
        }
    }
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.id.cmp(&b.0.id)));
    Ok(out)
}

/// Whom a reviewer may return the case to (退回): its officer, and whoever approved or
/// amended it on the way up (as themselves or the principal they acted for).
pub fn returnee_ids(case: &Case, trail: &[Trail]) -> Vec<String> {
    let mut out: Vec<String> = case.officer.iter().cloned().collect();
    for s in trail {
        if matches!(s.action, Action::Approve | Action::Amend) {
            let who = s.principal.clone().unwrap_or_else(|| s.actor.clone());
            if !out.contains(&who) {
                out.push(who);
            }
        }
    }
    out
}

/// [`returnee_ids`] as people.
pub async fn returnees(db: &Db, case: &Case, trail: &[Trail]) -> Result<Vec<Person>, OfficeError> {
    let mut out = Vec::new();
    for id in returnee_ids(case, trail) {
        out.push(org::person(db, &id).await?);
    }
    Ok(out)
}

/// The documents a reviewer may amend or an officer revise: the current 簽 and 稿.
pub fn writings(current: &[Version]) -> Vec<&Version> {
    current
        .iter()
        .filter(|v| v.kind == "memo" || v.kind == "draft")
        .collect()
}

/// The 稿 the decider decides on, one by one.
pub fn drafts(current: &[Version]) -> Vec<&Version> {
    current.iter().filter(|v| v.kind == "draft").collect()
}

/// The id of a new document of `kind` (`memo` or `draft`): `memo-1`, `memo-2` …, after the
/// highest already in the case.
pub fn new_doc_id(current: &[Version], kind: &str) -> String {
    let prefix = format!("{kind}-");
    let last = current
        .iter()
        .filter_map(|v| v.doc.strip_prefix(&prefix))
        .filter_map(|n| n.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    format!("{kind}-{}", last.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::testing::{case, unit};

    fn units() -> Vec<Unit> {
        vec![
            unit("edu", None, 0),
            unit("school", Some("edu"), 1),
            unit("sports", Some("edu"), 1),
            unit("k12", Some("school"), 2),
        ]
    }

    fn who(id: &str, roles: &[(Role, &str)], level: Option<i64>) -> Identity {
        Identity {
            person: Person {
                id: id.into(),
                name: id.into(),
                title: "科員".into(),
                unit: "k12".into(),
                spki_sha256: None,
            },
            roles: roles.iter().map(|(r, u)| (*r, u.to_string())).collect(),
            level,
        }
    }

    fn version(doc: &str, kind: &str) -> Version {
        Version {
            doc: doc.into(),
            version: 1,
            kind: kind.into(),
            sha256: String::new(),
            author: "officer".into(),
            created_at: 0,
        }
    }

    fn facts(case: Case, identities: Vec<Identity>) -> Facts {
        Facts {
            case,
            units: units(),
            identities,
            consults: Vec::new(),
            trail: Vec::new(),
            current: vec![version("memo-1", "memo"), version("draft-1", "draft")],
            returned: false,
            needed_level: 3,
            agency_exclusions: (1..=8).collect(),
        }
    }

    fn actions(f: &Facts) -> Vec<Action> {
        offers(f).into_iter().map(|o| o.action).collect()
    }

    #[test]
    fn the_agency_desk_assigns_a_registered_case_and_a_unit_desk_does_not() {
        let mut f = facts(
            case(State::Registered, None),
            vec![who(
                "clerk",
                &[(Role::Desk, "edu"), (Role::Clerk, "edu")],
                None,
            )],
        );
        f.case.unit = None;
        assert_eq!(actions(&f), [Action::AssignUnit, Action::Flag]);
        f.identities = vec![who("desk-k", &[(Role::Desk, "k12")], None)];
        assert!(actions(&f).is_empty());
        // At the unit: its desk gives it to an officer; the agency's desk may reassign.
        f.case.state = State::AtUnit;
        f.case.unit = Some("k12".into());
        assert_eq!(actions(&f), [Action::AssignOfficer]);
        f.identities = vec![who("clerk", &[(Role::Desk, "edu")], None)];
        assert_eq!(actions(&f), [Action::AssignUnit, Action::AssignOfficer]);
    }

    #[test]
    fn the_officer_holding_the_case_drafts_consults_and_submits() {
        let f = facts(
            case(State::WithOfficer, Some("officer")),
            vec![who("officer", &[(Role::Officer, "k12")], None)],
        );
        assert_eq!(
            actions(&f),
            [
                Action::ReturnToDesk,
                Action::Draft,
                Action::Flag,
                Action::Consult,
                Action::Submit,
                Action::Extend,
                Action::ProjectControl
            ]
        );
        // Another officer of the unit sees nothing to do.
        let mut other = f.clone();
        other.identities = vec![who("officer2", &[(Role::Officer, "k12")], None)];
        assert!(actions(&other).is_empty());
        // A paper case is not consulted or submitted online; nothing written, nothing to submit.
        let mut paper = f.clone();
        paper.case.exclusions = vec![1];
        assert!(!actions(&paper).contains(&Action::Consult));
        assert!(!actions(&paper).contains(&Action::Submit));
        let mut empty = f.clone();
        empty.current.clear();
        assert!(!actions(&empty).contains(&Action::Submit));
        // Every exclusion already flagged: nothing left to flag.
        let mut all = f;
        all.case.exclusions = (1..=8).collect();
        assert!(!actions(&all).contains(&Action::Flag));
    }

    #[test]
    fn a_head_at_the_asked_level_or_above_grants_time() {
        let us = units();
        let roles = |r: &[(Role, &str)]| -> Vec<(Role, String)> {
            r.iter().map(|(r, u)| (*r, u.to_string())).collect()
        };
        // 科長 of k12: level 3 over k12, nothing over sports.
        let chief = roles(&[(Role::Supervisor, "k12")]);
        assert_eq!(level_over(&us, &chief, "k12"), Some(3));
        assert_eq!(level_over(&us, &chief, "sports"), None);
        // 處長 of school: level 2 over k12 (under it); 局長: 1 everywhere.
        assert_eq!(
            level_over(&us, &roles(&[(Role::Supervisor, "school")]), "k12"),
            Some(2)
        );
        assert_eq!(
            level_over(&us, &roles(&[(Role::Head, "edu")]), "sports"),
            Some(1)
        );
        assert_eq!(
            level_over(&us, &roles(&[(Role::Officer, "k12")]), "k12"),
            None
        );
        let mut c = case(State::WithOfficer, Some("officer"));
        c.asked = Some(cases::TimeRequest {
            kind: crate::timing::RequestKind::Extend,
            days: 8,
            day: None,
            level: 2,
            by: "officer".into(),
            seq: 7,
        });
        let mut f = facts(c, vec![who("chief", &[(Role::Supervisor, "k12")], Some(3))]);
        // The 科長 may not grant what needs a 一級單位主管.
        let grants = |f: &Facts| {
            let a = actions(f);
            (
                a.contains(&Action::GrantTime),
                a.contains(&Action::DenyTime),
            )
        };
        assert_eq!(grants(&f), (false, false));
        f.identities = vec![who("dept", &[(Role::Supervisor, "school")], Some(2))];
        assert_eq!(grants(&f), (true, true));
        // The officer cannot ask again while one is open.
        f.identities = vec![who("officer", &[(Role::Officer, "k12")], None)];
        assert!(!actions(&f).contains(&Action::Extend));
        assert!(!actions(&f).contains(&Action::ProjectControl));
        // A closed case is not granted more time.
        f.case.state = State::ToFile;
        f.identities = vec![who("dept", &[(Role::Supervisor, "school")], Some(2))];
        assert_eq!(grants(&f), (false, false));
    }

    #[test]
    fn a_reviewer_decides_only_at_a_sufficient_level() {
        let mut f = facts(
            case(State::InReview, Some("chief")),
            vec![who("chief", &[(Role::Supervisor, "k12")], Some(3))],
        );
        assert_eq!(
            actions(&f),
            [
                Action::Approve,
                Action::Amend,
                Action::Return,
                Action::Decide,
                Action::ChangeUrgency
            ]
        );
        f.needed_level = 2;
        assert!(!actions(&f).contains(&Action::Decide));
        f.needed_level = 3;
        f.trail.push(Trail {
            seq: 1,
            action: Action::Decide,
            actor: "x".into(),
            principal: None,
            cms_sha256: String::new(),
        });
        assert!(!actions(&f).contains(&Action::Decide), "decided once");
    }

    #[test]
    fn a_deputy_is_offered_what_the_principal_may_do_marked_as_theirs() {
        let f = facts(
            case(State::InReview, Some("chief")),
            vec![
                who("officer2", &[(Role::Officer, "k12")], None),
                who("chief", &[(Role::Supervisor, "k12")], Some(3)),
            ],
        );
        let o = offers(&f);
        assert_eq!(o[0].action, Action::Approve);
        assert_eq!(o[0].as_whom, [Some("chief".to_string())]);
        assert_eq!(identity(&f, &o[0].as_whom[0]).unwrap().person.id, "chief");
        assert_eq!(identity(&f, &None).unwrap().person.id, "officer2");
        assert!(identity(&f, &Some("nobody".into())).is_none());
    }

    #[test]
    fn consulted_units_give_opinions_in_turn() {
        let consult = |pos: i64, unit: &str, done: bool| Consult {
            position: pos,
            unit: unit.into(),
            in_sequence: true,
            opinion_seq: done.then_some(9),
            due_day: None,
        };
        let mut f = facts(
            case(State::Consulting, None),
            vec![who("pe", &[(Role::Officer, "sports")], None)],
        );
        f.consults = vec![consult(1, "school", false), consult(2, "sports", false)];
        assert!(actions(&f).is_empty(), "not sports' turn yet");
        f.consults[0].opinion_seq = Some(5);
        assert_eq!(actions(&f), [Action::Opinion]);
        assert_eq!(f.opinion_units(&f.identities[0]), ["sports"]);
    }

    #[test]
    fn clerks_dispatch_archivists_file_and_officers_reopen_a_returned_case() {
        let mut f = facts(
            case(State::ToDispatch, None),
            vec![who("clerk", &[(Role::Clerk, "edu")], None)],
        );
        assert_eq!(actions(&f), [Action::Dispatch]);
        f.case.state = State::ToFile;
        assert!(actions(&f).is_empty());
        f.identities = vec![who("archivist", &[(Role::Archivist, "edu")], None)];
        assert_eq!(actions(&f), [Action::File]);
        f.identities = vec![who("officer", &[(Role::Officer, "k12")], None)];
        assert!(actions(&f).is_empty());
        f.returned = true;
        assert_eq!(actions(&f), [Action::Reopen]);
    }

    #[test]
    fn units_are_listed_as_a_tree() {
        let ids: Vec<String> = tree(units()).into_iter().map(|u| u.id).collect();
        assert_eq!(ids, ["edu", "school", "k12", "sports"]);
        let mut broken = units();
        broken.push(unit("lost", Some("nowhere"), 1));
        assert_eq!(tree(broken).last().map(|u| u.id.as_str()), Some("lost"));
    }

    #[test]
    fn chains_walk_up_and_stop_on_a_loop() {
        let u = units();
        let ids: Vec<&str> = chain(&u, "k12").iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["k12", "school", "edu"]);
        assert!(chain(&u, "none").is_empty());
        let looped = vec![unit("a", Some("b"), 1), unit("b", Some("a"), 1)];
        assert_eq!(chain(&looped, "a").len(), 2);
        let roles = [(Role::Desk, "school".to_string())];
        assert!(holds(&u, &roles, Role::Desk, "k12"));
        assert!(!holds(&u, &roles, Role::Desk, "sports"));
    }

    #[test]
    fn returns_go_to_the_officer_or_an_earlier_reviewer() {
        let c = case(State::InReview, Some("dept"));
        let step = |action, actor: &str, principal: Option<&str>| Trail {
            seq: 1,
            action,
            actor: actor.into(),
            principal: principal.map(Into::into),
            cms_sha256: String::new(),
        };
        let trail = [
            step(Action::Submit, "officer", None),
            step(Action::Approve, "officer2", Some("chief")),
            step(Action::Amend, "officer2", Some("chief")),
        ];
        assert_eq!(returnee_ids(&c, &trail), ["officer", "chief"]);
    }

    #[test]
    fn new_documents_are_numbered_after_the_last() {
        let current = [version("memo-1", "memo"), version("memo-3", "memo")];
        assert_eq!(new_doc_id(&current, "memo"), "memo-4");
        assert_eq!(new_doc_id(&current, "draft"), "draft-1");
        assert_eq!(writings(&current).len(), 2);
        assert!(drafts(&current).is_empty());
    }
}
