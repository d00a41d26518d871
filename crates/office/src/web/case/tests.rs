use super::*;

fn who() -> Option<Who> {
    Some(Who {
        name: "科員 張承辦".into(),
        csrf: "c".into(),
    })
}

fn version(doc: &str, kind: &str) -> cases::Version {
    cases::Version {
        doc: doc.into(),
        version: 1,
        kind: kind.into(),
        sha256: String::new(),
        author: "officer".into(),
        created_at: 1_767_580_200_000,
    }
}

/// Every id once, and every control with a label (or inside one).
fn check_page(html: &str) {
    let ids: Vec<&str> = html
        .split(" id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    for id in &ids {
        assert_eq!(
            ids.iter().filter(|x| *x == id).count(),
            1,
            "id {id} twice in {html}"
        );
    }
    for tag in ["<input id=\"", "<select id=\"", "<textarea id=\""] {
        for rest in html.split(tag).skip(1) {
            let id = rest.split('"').next().unwrap_or_default();
            assert!(html.contains(&format!("for=\"{id}\"")), "{id} has no label");
        }
    }
    for (open, close) in [("<section", "</section>"), ("<fieldset", "</fieldset>")] {
        assert_eq!(
            html.matches(open).count(),
            html.matches(close).count(),
            "{open}"
        );
    }
}

#[test]
fn signed_lines_are_read_back_for_the_trail() {
    let signed = "公文管理系統線上簽核\n機關：379000000A 臺北市政府教育局\n案件：1150000001\n序號：3\n動作：退回（return）\n簽核人：處長 趙處長（dept）\n代：科長 王科長（chief）\n退回：科員 張承辦（officer）\n文件：draft-1 第2版 draft SHA-256 ab\n意見：請補附\\n員額表\\\\\n時間：中華民國115年1月5日 10:30:00（1）\n前一步：cd\n";
    let (details, comment) = step_lines(signed);
    assert_eq!(details, ["退回：科員 張承辦（officer）"]);
    assert_eq!(comment, "請補附\n員額表\\");
    assert_eq!(gongwen_proto::office::from_one_line("a\\\\n"), "a\\n");
    assert_eq!(gongwen_proto::office::from_one_line("結尾\\"), "結尾\\");
    assert_eq!(comment_label(Action::File), "檔號");
}

#[test]
fn notes_travel_in_the_address() {
    assert_eq!(note_url("k", "1", ""), "/cases/1");
    let url = note_url("k", "1", "紙本 a");
    assert!(
        url.starts_with("/cases/1?note=%E7%B4%99%E6%9C%AC%20a&seal="),
        "{url}"
    );
    // Sealed for one session and one case: another's seal differs.
    let seal = |u: &str| u.split("&seal=").nth(1).unwrap_or_default().to_string();
    assert_eq!(seal(&url), note_seal("k", "1", "紙本 a"));
    assert_ne!(seal(&url), note_seal("other", "1", "紙本 a"));
    assert_ne!(seal(&url), note_seal("k", "2", "紙本 a"));
}

#[test]
fn versions_print_or_say_why_not() {
    let memo = r#"{"文別":"簽","速別":"普通件","主旨":"擬辦理研習。","單位":"國中教育科","發文字號":"1150000001","署名":"科員 張承辦"}"#.as_bytes();
    let html = printed(&version("memo-1", "memo"), memo, None).unwrap();
    assert!(html.contains("擬辦理研習。"), "{html}");
    let (problem, text) =
        printed(&version("memo-1", "memo"), "簽：擬復如稿".as_bytes(), None).unwrap_err();
    assert!(problem.is_empty());
    assert_eq!(text, "簽：擬復如稿");
    let letter = r#"{"文別":"函","主旨":"請查照。","發文機關":[{"全銜":"臺北市政府教育局","機關代碼":"379000000A"}]}"#.as_bytes();
    let (problem, _) = printed(&version("draft-1", "draft"), letter, None).unwrap_err();
    assert!(problem.contains("地址"), "{problem}");
    // A received DI prints as it came.
    let w = Writer {
        agency_code: "379000000A",
        agency_name: "臺北市政府教育局",
        unit_name: "國中教育科",
        case_number: "",
        signer: "科員 張承辦",
    };
    let mut f = Fields::default();
    for (k, v) in [
        ("kind", "函"),
        ("urgency", "速件"),
        ("subject", "檢送員額表，請查照。"),
        ("primary", "A15000000D 教育部"),
        ("address", "臺北市"),
        ("contact", "承辦人"),
    ] {
        f.set(k, v.into());
    }
    let day = RocDate::parse("115年1月5日").unwrap();
    let d = drafting::draft_of(&f, &w, day).unwrap();
    let built = drafting::printable(&d, Some("北市教字第1150000001號"))
        .build(day)
        .unwrap();
    let di = gongwen_doc::write_di(&built.di).unwrap();
    let html = printed(&version("incoming", "incoming"), di.as_bytes(), None).unwrap();
    assert!(html.contains("檢送員額表"), "{html}");
    assert!(html.contains("北市教字第1150000001號"), "{html}");
}

#[test]
fn changes_are_tracked_character_by_character() {
    let old = r#"{"文別":"簽","主旨":"舊主旨"}"#.as_bytes();
    let new = r#"{"文別":"簽","主旨":"新主旨"}"#.as_bytes();
    let v = changes_between(old, new);
    let changed: Vec<&ChangeLine> = v.lines.iter().filter(|l| l.class == "changed").collect();
    assert_eq!(changed.len(), 1, "{:?}", v.summary);
    let runs: Vec<(&str, &str)> = (changed[0].runs.iter())
        .map(|r| (r.class, r.text.as_str()))
        .collect();
    assert!(
        runs.contains(&("del", "舊")) && runs.contains(&("ins", "新")),
        "{runs:?}"
    );
    assert!(v.summary.contains("修改 1 行"), "{}", v.summary);
    let first = changes_between(&[], new);
    assert!(
        first.lines.iter().all(|l| l.class == "ins"),
        "the first version is all new"
    );
    let page = ChangesPage {
        site: SITE,
        title: "修改".into(),
        who: who(),
        case: "1".into(),
        old_label: "第1版".into(),
        new_label: "第2版".into(),
        view: ChangeView {
            summary: "修改 1 行".into(),
            lines: vec![ChangeLine {
                label: "主旨".into(),
                class: "changed",
                runs: vec![
                    Run {
                        class: "del",
                        text: "舊".into(),
                    },
                    Run {
                        class: "ins",
                        text: "新".into(),
                    },
                    Run {
                        class: "same",
                        text: "主旨<".into(),
                    },
                ],
            }],
        },
    };
    let html = page.render().unwrap();
    assert!(
        html.contains("<del>舊</del><ins>新</ins>主旨&lt;"),
        "{html}"
    );
    check_page(&html);
}

#[test]
fn the_case_page_shows_its_forms_labelled_with_errors_in_place() {
    let mut assign = ActionForm::new(Action::AssignUnit);
    assign.targets = with_prompt(vec![("k12".into(), "國中教育科".into())], "k12");
    assign.errors = FormErrors::new().with(Some("assign_unit_reason"), "改分須填寫原因");
    assign.reassign = true;
    assign.principals = vec![
        Choice {
            value: String::new(),
            label: "本人".into(),
            selected: true,
        },
        Choice {
            value: "chief".into(),
            label: "代理 科長 王科長".into(),
            selected: false,
        },
    ];
    let mut flag = ActionForm::new(Action::Flag);
    flag.checks = vec![Check {
        name: "flag_1".into(),
        label: "第1款 密件以上".into(),
        checked: true,
    }];
    let mut consult = ActionForm::new(Action::Consult);
    consult.checks = vec![Check {
        name: "consult_unit_sports".into(),
        label: "體育處".into(),
        checked: false,
    }];
    let mut decide = ActionForm::new(Action::Decide);
    decide.decisions = vec![DecisionRow {
        name: "decide_draft-1".into(),
        title: "稿 draft-1".into(),
        chosen: "defer".into(),
    }];
    let mut file = ActionForm::new(Action::File);
    file.retentions = with_prompt(vec![("永久".into(), "永久".into())], "");
    let mut draft = ActionForm::new(Action::Draft);
    draft.links = vec![DocLink {
        href: "/cases/1/draft?kind=memo".into(),
        label: "擬新簽".into(),
    }];
    let mut forms = vec![assign, flag, consult, decide, file, draft];
    for a in [
        Action::AssignOfficer,
        Action::ReturnToDesk,
        Action::Opinion,
        Action::Submit,
        Action::Approve,
        Action::Return,
        Action::Dispatch,
        Action::Reopen,
    ] {
        forms.push(ActionForm::new(a));
    }
    let page = CasePage {
        site: SITE,
        title: "案件 1".into(),
        who: who(),
        csrf: "c".into(),
        id: "1".into(),
        note: "已簽收".into(),
        alert: String::new(),
        facts: vec![FactRow {
            label: "主旨",
            value: "<b>主旨</b>".into(),
        }],
        exclusions: vec!["第1款 密件以上".into()],
        docs: vec![DocView {
            title: "memo-1 第1版（簽）".into(),
            frame: Some("/cases/1/docs/memo-1/1".into()),
            file: "/f".into(),
            about: "文稿".into(),
        }],
        versions: vec![VersionRow {
            doc: "memo-1".into(),
            version: 2,
            kind: "簽",
            author: "科員 張承辦".into(),
            at: 0,
            view: "/v".into(),
            file: "/f".into(),
            changes: Some("/c".into()),
        }],
        trail: vec![StepRow {
            seq: 1,
            action: "退回",
            actor: "科員 李承辦".into(),
            principal: Some("科長 王科長".into()),
            at: 0,
            details: vec!["退回：科員 張承辦".into()],
            comment_label: "原因",
            comment: "請補附".into(),
        }],
        consults: vec![ConsultRow {
            unit: "體育處".into(),
            mode: "依序",
            state: "待會辦".into(),
        }],
        sent: vec![SentRow {
            doc: "draft-1".into(),
            number: "北市教字第1150000001號".into(),
            package: "p".into(),
            returned: Some("誤送".into()),
        }],
        forms,
        retries: vec![Retry {
            what: "send",
            label: "重新交付代理程式發文",
        }],
    };
    let html = page.render().unwrap();
    check_page(&html);
    for want in [
        "role=\"status\"",
        "&lt;b&gt;主旨&lt;/b&gt;",
        "<iframe src=\"/cases/1/docs/memo-1/1\" title=\"memo-1 第1版（簽）\"",
        "aria-describedby=\"assign_unit_reason-error\" aria-invalid=\"true\"",
        "id=\"form-errors\"",
        "name=\"principal_assign_unit\"",
        "<option value=\"k12\" selected>",
        "name=\"flag_1\" value=\"1\" checked",
        "name=\"decide_draft-1\" value=\"defer\" checked",
        "name=\"dispatch_channel\" value=\"交換\"",
        "name=\"file_class\"",
        "代 科長 王科長",
        "原因：請補附",
        "<a href=\"/c\">與前一版比較</a>",
        "name=\"what\" value=\"send\"",
        "<caption>每一步都由簽核人以本人憑證簽章，依序串連</caption>",
    ] {
        assert!(html.contains(want), "{want} not in {html}");
    }
    assert_eq!(html.matches("id=\"form-errors\"").count(), 1);
    // Only the forms offered are there: one principal select, the one form's.
    assert_eq!(html.matches("name=\"principal_").count(), 1);
}

#[test]
fn the_drafting_form_comes_back_with_what_was_typed() {
    let mut f = drafting::blank("函", "科員 張承辦");
    f.set("subject", "請查照<".into());
    let errors = FormErrors::new()
        .with(Some("address"), "草稿缺少「地址」")
        .with(None, "本案沒有這份文稿");
    let (urgencies, proposals) = DraftPage::choices(&f);
    let page = DraftPage {
        site: SITE,
        title: "擬辦".into(),
        who: who(),
        csrf: "c".into(),
        post_to: "/cases/1/act".into(),
        action: "draft",
        doc: "draft-1".into(),
        case: "1".into(),
        kinds: DraftPage::kinds(Some("draft"), "函"),
        urgencies,
        proposals,
        matters: Vec::new(),
        principal_field: "principal_draft",
        principals: Vec::new(),
        kind_note: "簽仍為簽".into(),
        f,
        errors,
    };
    let html = page.render().unwrap();
    check_page(&html);
    for want in [
        "name=\"action\" value=\"draft\"",
        "name=\"doc\" value=\"draft-1\"",
        "請查照&lt;</textarea>",
        "承辦人：科員 張承辦</textarea>",
        "<a href=\"#address\">草稿缺少「地址」</a>",
        "aria-describedby=\"address-error\" aria-invalid=\"true\"",
        "<option value=\"函\" selected>",
        "data-kinds=\"開會通知單\"",
    ] {
        assert!(html.contains(want), "{want} not in {html}");
    }
    assert!(!html.contains("<option value=\"簽\""), "a 稿 stays a 稿");
    assert!(!html.contains("name=\"matter\""));
}

#[test]
fn documents_are_shown_incoming_first() {
    let mut v = [
        version("draft-1", "draft"),
        version("incoming", "incoming"),
        version("memo-1", "memo"),
    ];
    v.sort_by(|a, b| (kind_rank(&a.kind), &a.doc).cmp(&(kind_rank(&b.kind), &b.doc)));
    assert_eq!(
        v.iter().map(|x| x.doc.as_str()).collect::<Vec<_>>(),
        ["incoming", "memo-1", "draft-1"]
    );
}
