//! Round trips (read(write(x)) == x for every 文別 and the SW) and reader behaviour.

use proptest::prelude::*;

use super::*;
use crate::values::*;

fn text() -> impl Strategy<Value = String> {
    let chars = prop_oneof![
        8 => (0x4E00u32..0x9FA5).prop_map(|c| char::from_u32(c).unwrap()),
        2 => (0x21u32..0x7F).prop_map(|c| char::from_u32(c).unwrap()),
        1 => prop::sample::select(vec!['<', '>', '&', '"', '\'', '　', ' ', '\n', '，', '。', '𠀀']),
    ];
    prop::collection::vec(chars, 0..24).prop_map(|v| {
        let s: String = v.into_iter().collect();
        s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
            .to_string()
    })
}

/// Text that is not blank, also by Unicode's measure (a lone U+3000 is blank to the value rules).
fn nonempty() -> impl Strategy<Value = String> {
    text().prop_map(|s| {
        if s.trim().is_empty() {
            "文".to_string()
        } else {
            s
        }
    })
}

fn agency() -> impl Strategy<Value = AgencyCode> {
    "[0-9A-Z]{10}".prop_map(|s| AgencyCode::parse(&s).unwrap())
}

fn unit() -> impl Strategy<Value = UnitCode> {
    "[0-9A-Z]{7}".prop_map(|s| UnitCode::parse(&s).unwrap())
}

/// Now and then a draft's blank date (`<年月日/>`), which must round-trip as blank.
fn drafted(d: RocDate) -> Option<RocDate> {
    (d.day != 1).then_some(d)
}

fn date() -> impl Strategy<Value = RocDate> {
    (1u16..200, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| RocDate::new(y, m, d).unwrap())
}

fn issuer() -> impl Strategy<Value = Issuer> {
    (nonempty(), agency(), prop::option::of(unit())).prop_map(|(name, agency_code, unit_code)| {
        Issuer {
            name,
            agency_code,
            unit_code,
        }
    })
}

fn party() -> impl Strategy<Value = Party> {
    prop_oneof![
        (
            nonempty(),
            prop::option::of(nonempty()),
            agency(),
            prop::option::of(unit())
        )
            .prop_map(|(name, title, agency_code, unit_code)| Party::Person {
                name,
                title,
                agency_code,
                unit_code
            }),
        (nonempty(), agency()).prop_map(|(name, agency_code)| Party::Agency { name, agency_code }),
        (nonempty(), agency(), unit()).prop_map(|(name, agency_code, unit_code)| Party::Unit {
            name,
            agency_code,
            unit_code
        }),
    ]
}

fn flag() -> impl Strategy<Value = Option<AttachmentFlag>> {
    prop::option::of(prop::sample::select(vec![
        AttachmentFlag::With,
        AttachmentFlag::Without,
    ]))
}

fn addressee() -> impl Strategy<Value = Addressee> {
    prop_oneof![
        text().prop_map(|text| Addressee::Roster {
            entity: "表單".into(),
            text
        }),
        (party(), flag(), prop::option::of(nonempty())).prop_map(
            |(party, attachments, portable_file)| Addressee::Direct {
                party,
                attachments,
                portable_file
            }
        ),
    ]
}

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![
        (nonempty(), prop::option::of(nonempty()))
            .prop_map(|(name, title)| Name::Person { name, title }),
        nonempty().prop_map(Name::Agency),
        nonempty().prop_map(Name::Unit),
        nonempty().prop_map(Name::Collective),
    ]
}

fn copies() -> impl Strategy<Value = Vec<CopyRecipient>> {
    prop::collection::vec(
        (name(), flag()).prop_map(|(name, attachments)| CopyRecipient { name, attachments }),
        0..3,
    )
}

fn items() -> impl Strategy<Value = Vec<Item>> {
    let leaf = (text(), prop::option::of(nonempty())).prop_map(|(number, text)| Item {
        number,
        text,
        items: vec![],
    });
    let tree = leaf.prop_recursive(3, 12, 3, |inner| {
        (
            text(),
            prop::option::of(nonempty()),
            prop::collection::vec(inner, 0..3),
        )
            .prop_map(|(number, text, items)| Item {
                number,
                text,
                items,
            })
    });
    prop::collection::vec(tree, 0..3)
}

fn section() -> impl Strategy<Value = Section> {
    (text(), prop::option::of(nonempty()), items()).prop_map(|(title, text, items)| Section {
        title,
        text,
        items,
    })
}

fn number() -> impl Strategy<Value = DocNumber> {
    prop_oneof![
        (
            nonempty(),
            1u16..999,
            0u32..9_999_999,
            prop::option::of("[0-9]{1,2}")
        )
            .prop_map(|(word, year, serial, branch)| DocNumber::Structured {
                word,
                year,
                serial,
                branch
            }),
        nonempty().prop_map(DocNumber::Text),
    ]
}

fn secrecy() -> impl Strategy<Value = Option<Secrecy>> {
    prop::option::of(
        (prop::sample::select(Classification::ALL.to_vec()), text())
            .prop_map(|(level, condition)| Secrecy { level, condition }),
    )
}

fn urgency() -> impl Strategy<Value = Urgency> {
    prop::sample::select(Urgency::ALL.to_vec())
}

/// Attachments with 0–3 entities, and the matching declarations.
fn attachments() -> impl Strategy<Value = (Option<Attachments>, Vec<AttachmentFile>)> {
    (prop::option::of((text(), 0usize..4))).prop_map(|a| match a {
        None => (None, vec![]),
        Some((text, n)) => {
            let entities: Vec<String> = (1..=n).map(|i| format!("ATTCH{i}")).collect();
            let files = entities
                .iter()
                .map(|e| AttachmentFile {
                    entity: e.clone(),
                    file: format!("1150001234_{e}.pdf"),
                    notation: "_X".into(),
                })
                .collect();
            (Some(Attachments { text, entities }), files)
        }
    })
}

fn document() -> impl Strategy<Value = (Document, Vec<AttachmentFile>)> {
    let common = (
        prop::collection::vec(issuer(), 1..3),
        addressee(),
        date(),
        prop::collection::vec(number(), 1..3),
        urgency(),
        secrecy(),
        attachments(),
        text(),
        prop::collection::vec(section(), 0..3),
    );
    let primary = prop::collection::vec(name(), 1..3);
    let tail = (primary, copies(), prop::collection::vec(nonempty(), 0..2));
    (
        common,
        tail,
        0u8..6,
        prop::sample::select(LetterClass::ALL.to_vec()),
        (text(), prop::collection::vec(nonempty(), 1..3)),
        (
            nonempty(),
            prop::option::of(prop::sample::select(ProposalMethod::ALL.to_vec())),
        ),
    )
        .prop_map(
            |(
                (
                    issuers,
                    addressee,
                    date,
                    numbers,
                    urgency,
                    secrecy,
                    (attachments, files),
                    subject,
                    sections,
                ),
                (primary, copies, signatures),
                which,
                class,
                (address, contacts),
                (signature, proposal),
            )| {
                let doc = match which {
                    0 => Document::Letter(Letter {
                        issuers,
                        class,
                        address,
                        contacts,
                        addressee,
                        date: drafted(date),
                        numbers,
                        urgency,
                        secrecy,
                        attachments,
                        subject,
                        sections,
                        primary,
                        copies,
                        signatures,
                    }),
                    1 => Document::Memo(Memo {
                        from: if signatures.is_empty() {
                            MemoFrom::Issuer(issuers[0].clone())
                        } else {
                            MemoFrom::Unit {
                                name: address.clone() + "科",
                                code: issuers[0].unit_code.clone(),
                            }
                        },
                        addressee: (!copies.is_empty()).then_some(addressee),
                        // Now and then a draft's blank 文號 (empty 年度 and 流水號).
                        number: (date.day != 2).then_some(CaseNumber {
                            year: date.year,
                            serial: 42,
                            branch: None,
                        }),
                        urgency,
                        secrecy,
                        proposal,
                        attachments,
                        subject,
                        sections,
                        respectfully: primary
                            .iter()
                            .map(|n| PersonName {
                                name: if contacts.len() > 1 {
                                    n.display()
                                } else {
                                    String::new()
                                },
                                title: Some("處長".into()),
                            })
                            .collect(),
                        signature,
                        date: drafted(date),
                    }),
                    2 => Document::Order(Order {
                        issuers,
                        class: if contacts.len() > 1 {
                            OrderClass::Order
                        } else {
                            OrderClass::RewardOrder
                        },
                        addressee,
                        date: drafted(date),
                        numbers,
                        urgency,
                        secrecy,
                        attachments,
                        subject,
                        sections,
                        primary,
                        copies,
                        signatures,
                    }),
                    3 => Document::Announcement(Announcement {
                        issuers,
                        date: drafted(date),
                        numbers,
                        attachments,
                        subject,
                        sections,
                        signatures,
                    }),
                    n => Document::MeetingNotice(MeetingNotice {
                        site_visit: n == 5,
                        issuers,
                        addressee,
                        contacts: contacts
                            .iter()
                            .map(|c| ContactPerson {
                                person: PersonName {
                                    name: c.clone(),
                                    title: None,
                                },
                                phone: "02-27208889".into(),
                            })
                            .collect(),
                        date: drafted(date),
                        numbers,
                        urgency,
                        secrecy,
                        attachments,
                        reason: subject,
                        times: vec![MeetingTime {
                            date,
                            weekday: date.weekday().into(),
                            time: "上午9時30分".into(),
                        }],
                        place: address,
                        chairs: vec![PersonName {
                            name: signature,
                            title: Some("局長".into()),
                        }],
                        attendees: primary.clone(),
                        observers: if copies.is_empty() { vec![] } else { primary },
                        copies,
                        remarks: sections.into_iter().next(),
                        signatures,
                    }),
                };
                (doc, files)
            },
        )
}

fn roster() -> impl Strategy<Value = Roster> {
    prop::collection::vec(
        (
            party(),
            flag(),
            prop::option::of(nonempty()),
            prop::sample::select(CopyKind::ALL.to_vec()),
        )
            .prop_map(
                |(party, attachments, portable_file, copy_kind)| RosterEntry {
                    party,
                    attachments,
                    portable_file,
                    copy_kind,
                },
            ),
        1..5,
    )
    .prop_map(|entries| Roster { entries })
}

/// The DI of a generated document, declaring the SW when the addressee is a roster.
fn di_of(document: Document, attachment_files: Vec<AttachmentFile>) -> Di {
    let roster = match document.addressee() {
        Some(Addressee::Roster { entity, .. }) => Some(RosterFile {
            entity: entity.clone(),
            file: "1150001234.sw".into(),
            notation: "DI".into(),
        }),
        _ => None,
    };
    Di {
        document,
        roster,
        attachment_files,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn di_round_trip((document, attachment_files) in document()) {
        let di = di_of(document, attachment_files);
        let text = write_di(&di).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = read_di(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, di);
    }

    #[test]
    fn roster_round_trip(r in roster()) {
        let text = write_roster(&r).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = read_roster(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, r);
    }

    /// Whatever bytes arrive, reading ends in a value or an error, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = check(&bytes, &Limits::default());
    }
}

/// The shape of `examples/letter.toml` (the TOML itself is read by the CLI tests).
fn example() -> crate::draft::Built {
    example_draft()
        .build(RocDate::new(115, 1, 5).unwrap())
        .unwrap()
}

fn example_draft() -> crate::draft::Draft {
    use crate::draft::*;
    Draft {
        kind: Some("函".into()),
        numbers: OneOrMany::One(DraftNumber::Parts {
            word: "府資字".into(),
            year: 115,
            serial: 1234,
            branch: None,
        }),
        issuers: vec![DraftIssuer {
            full_name: Some("臺北市政府".into()),
            agency_code: "379000000A".into(),
            ..Default::default()
        }],
        address: Some("110204 臺北市信義區市府路1號".into()),
        contacts: OneOrMany::Many(vec!["承辦人：王小明".into(), "電話：(02)2720-8889".into()]),
        subject: Some("檢送計畫1份，請查照。".into()),
        attachments: Some(DraftAttachments {
            text: Some("計畫書1份".into()),
            files: vec!["attachments/plan.pdf".into()],
        }),
        sections: vec![DraftSection {
            title: "說明：".into(),
            text: None,
            items: vec![DraftItem {
                number: "一、".into(),
                text: Some("依據…辦理。".into()),
                items: vec![],
            }],
        }],
        primary: vec![DraftRecipient {
            full_name: Some("臺北市政府資訊局".into()),
            agency_code: Some("379130000C".into()),
            ..Default::default()
        }],
        copies: vec![
            DraftRecipient {
                full_name: Some("臺北市政府秘書處".into()),
                agency_code: Some("379020000E".into()),
                with_attachments: Some(false),
                ..Default::default()
            },
            DraftRecipient {
                full_name: Some("臺北市議會".into()),
                ..Default::default()
            },
        ],
        signatures: OneOrMany::One("市長　蔣萬安".into()),
        ..Default::default()
    }
}

#[test]
fn draft_builds_di_and_sw() {
    let b = example();
    assert_eq!(b.base, "1150001234");
    assert_eq!(b.attachments[0].file, "1150001234_ATTCH1.pdf");
    // Only recipients with a 機關代碼 are electronic.
    assert_eq!(b.roster.entries.len(), 2);
    assert_eq!(b.roster.entries[1].copy_kind, CopyKind::Copy);
    assert_eq!(
        b.roster.entries[1].attachments,
        Some(AttachmentFlag::Without)
    );
    let di_text = write_di(&b.di).unwrap();
    assert!(di_text.contains("<!DOCTYPE 函 SYSTEM \"104_2_utf8.dtd\" ["));
    assert!(di_text.contains("<!ENTITY ATTCH1 SYSTEM \"1150001234_ATTCH1.pdf\" NDATA _X>"));
    assert!(di_text.contains("<!ENTITY 表單 SYSTEM \"1150001234.sw\" NDATA DI>"));
    assert!(di_text.contains("<交換表 交換表單=\"表單\">如正副本行文單位</交換表>"));
    assert!(di_text.contains("<附件檔名 附件名=\"ATTCH1\"/>"));
    assert_eq!(read_di(di_text.as_bytes()).unwrap(), b.di);
    let sw = write_roster(&b.roster).unwrap();
    assert!(sw.contains("<!DOCTYPE 交換表單 SYSTEM \"104_roster_utf8.dtd\">"));
    assert_eq!(read_roster(sw.as_bytes()).unwrap(), b.roster);
}

#[test]
fn split_gives_each_recipient_its_own_addressee() {
    let b = example();
    let copies = split_per_recipient(&b.di, &b.roster).unwrap();
    assert_eq!(copies.len(), 2);
    for (di, r) in &copies {
        let Some(Addressee::Direct { party, .. }) = di.document.addressee() else {
            panic!("分繕 copy has no direct addressee");
        };
        assert_eq!(party, &r.entries[0].party);
        let text = write_di(di).unwrap();
        assert!(text.contains("<機關代碼>"));
        assert_eq!(&read_di(text.as_bytes()).unwrap(), di);
    }
}

#[test]
fn draft_problems_name_the_field() {
    let mut d = example_draft();
    d.urgency = Some("特急".into());
    d.issuers[0].agency_code = "abc".into();
    d.subject = None;
    let problems = d.build(RocDate::new(115, 1, 5).unwrap()).unwrap_err();
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    for needles in [&["速別", "特急"][..], &["機關代碼"], &["主旨"]] {
        let found = text.iter().any(|t| needles.iter().all(|n| t.contains(n)));
        assert!(found, "{needles:?}: {text:?}");
    }
}

#[test]
fn legacy_big5_with_old_roster_entity() {
    let xml = "<?xml version=\"1.0\" encoding=\"big5\"?>\n\
<!DOCTYPE 函 SYSTEM \"99_2_big5.dtd\" [\n\
<!ENTITY 名單 SYSTEM \"0990001234.sw\" NDATA DI>\n<!NOTATION DI SYSTEM \"\">\n]>\n\
<函><發文機關><全銜>臺南市政府</全銜><機關代碼>395000000A</機關代碼></發文機關>\
<函類別 代碼=\"函\"/><地址>臺南市安平區永華路2段6號</地址><聯絡方式>承辦人：林先生</聯絡方式>\
<受文者><交換表 交換表單=\"名單\">如正副本行文單位</交換表></受文者>\
<發文日期><年月日>中華民國99年3月1日</年月日></發文日期>\
<發文字號><字>府秘字</字><文號><年度>099</年度><流水號>0001234</流水號></文號></發文字號>\
<速別 代碼=\"普通件\"/><主旨><文字>函轉舊版格式公文，請查照。</文字></主旨>\
<正本><全銜>臺南市安平區公所</全銜></正本></函>";
    let (bytes, _, unmappable) = encoding_rs::BIG5.encode(xml);
    assert!(!unmappable);
    let di = read_di(&bytes).unwrap();
    assert_eq!(di.roster.as_ref().unwrap().entity, "名單");
    assert_eq!(di.document.subject(), "函轉舊版格式公文，請查照。");
    assert_eq!(di.document.numbers()[0].to_string(), "府秘字第0990001234號");
    // Written again, it is a modern UTF-8 DI that keeps the old entity name.
    let text = write_di(&di).unwrap();
    assert!(text.contains("104_2_utf8.dtd") && text.contains("交換表單=\"名單\""));
}

#[test]
fn problems_carry_paths_and_value_rules() {
    let b = example();
    let text = write_di(&b.di)
        .unwrap()
        .replace("379000000A", "37900000a")
        .replace("中華民國115年1月5日", "中華民國115年2月30日");
    let c = check(text.as_bytes(), &Limits::default()).unwrap();
    assert!(c.parsed.is_none());
    let shown: Vec<String> = c.problems.iter().map(|p| p.to_string()).collect();
    for (at, what) in [
        ("E_DOC_VALUE /函/發文機關/機關代碼", "37900000a"),
        ("/函/發文日期/年月日", "不存在"),
    ] {
        let found = shown.iter().any(|s| s.contains(at) && s.contains(what));
        assert!(found, "{at} {what}: {shown:?}");
    }
}

#[test]
fn writer_refuses_what_it_cannot_write() {
    let mut b = example();
    b.di.attachment_files[0].file = "../../etc/passwd".into();
    let err = write_di(&b.di).unwrap_err();
    assert_eq!(err.code(), "E_DOC_INVALID");
    let mut b = example();
    if let Document::Letter(l) = &mut b.di.document {
        l.primary.clear();
        l.subject = "含控制字元\u{1}".into();
    }
    let DocError::Invalid(problems) = write_di(&b.di).unwrap_err() else {
        panic!("expected problems");
    };
    assert!(problems.iter().any(|p| p.message.contains("控制字元")));
}

#[test]
fn internal_subset_defaults_apply_like_a_validating_parser() {
    let b = example();
    let text = write_di(&b.di)
        .unwrap()
        .replace(
            "<!NOTATION DI SYSTEM \"\">",
            "<!NOTATION DI SYSTEM \"\">\n<!ATTLIST 速別 代碼 (普通件|速件|最速件) \"最速件\">",
        )
        .replace("<速別 代碼=\"普通件\"/>", "<速別/>");
    let di = read_di(text.as_bytes()).unwrap();
    assert_eq!(di.document.urgency(), Urgency::MostUrgent);
}

/// Runs the real xmllint on a file written by this crate (libxml2-utils is installed by
/// scripts/test; a missing xmllint fails the test).
fn xmllint(name: &str, text: &str) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("gongwen-doc-xmllint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join(name);
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let dtd = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dtd");
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--valid", "--nonet", "--path"])
        .arg(format!(
            "{} {}",
            dtd.join("official").display(),
            dtd.join("vendor-observed").display()
        ))
        .arg(&file)
        .output()
        .map_err(|e| format!("xmllint 無法執行（請安裝 libxml2-utils）：{e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}\n{text}", String::from_utf8_lossy(&out.stderr)))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every DI and SW this crate writes is valid for xmllint too.
    #[test]
    fn written_files_pass_xmllint((document, attachment_files) in document(), r in roster()) {
        let di = di_of(document, attachment_files);
        let text = write_di(&di).map_err(|e| TestCaseError::fail(e.to_string()))?;
        xmllint("p.di", &text).map_err(TestCaseError::fail)?;
        let sw = write_roster(&r).map_err(|e| TestCaseError::fail(e.to_string()))?;
        xmllint("p.sw", &sw).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn file_names_that_windows_shares_cannot_hold_are_refused() {
    for bad in [
        "CON.pdf",
        "con.txt",
        "NUL",
        "Aux.doc",
        "prn.odt",
        "COM1.pdf",
        "lpt9.txt",
        "report.",
        "report.pdf ",
        "報告 ",
        "../x.pdf",
        "a/b.pdf",
    ] {
        assert!(super::safe_file_name(bad).is_err(), "{bad}");
    }
    for good in [
        "CONTRACT.pdf",
        "console.txt",
        "COM0.pdf",
        "COM10.pdf",
        "nul_1.pdf",
        "計畫書.pdf",
        "1150001234_ATTCH1.pdf",
        "a b.pdf",
    ] {
        assert!(super::safe_file_name(good).is_ok(), "{good}");
    }
}
