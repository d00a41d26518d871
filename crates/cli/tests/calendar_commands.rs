//! `gongwen calendar import | show` as an operator runs them: the official open-data table of a
//! year checked, summed up and converted, or refused with every problem listed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test stops at the first surprise

mod common;

use std::path::Path;
use std::process::Output;

use common::{BIN, exits, has, ok, run, scratch, words};
use gongwen_calendar::WorkCalendar;

/// `gongwen` in `dir` with the words of `line` as its arguments.
fn gongwen(dir: &Path, line: &str) -> Output {
    run(dir, &[], BIN, &words(line))
}

/// The bundled 2026 table as the open-data platform publishes it (365 rows, UTF-8 with BOM).
fn official_2026() -> String {
    let table = WorkCalendar::with_bundled()
        .unwrap()
        .year_table(2026)
        .unwrap();
    format!("\u{feff}{}", table.to_official_csv())
}

#[test]
fn import_checks_sums_up_and_converts_a_year() {
    let dir = scratch("calendar-import");
    // A make-up Saturday, as some years have.
    let text = official_2026()
        .replace("20260302,一,0,\r\n", "20260302,一,2,調整放假\r\n")
        .replace("20260307,六,2,\r\n", "20260307,六,0,補行上班\r\n");
    std::fs::write(dir.join("115.csv"), text).unwrap();

    let out = ok(gongwen(&dir, "calendar import 115.csv --out cal/2026.csv"));
    has(
        &out,
        &[
            "中華民國115年（西元2026年）政府行政機關辦公日曆表：全年 365 日，上班 245 日，放假 120 日，補行上班 1 日",
            "中華民國115年1月1日（星期四） 開國紀念日",
            "中華民國115年3月2日（星期一） 調整放假",
            "中華民國115年12月25日（星期五） 行憲紀念日",
            "補行上班日：\n  中華民國115年3月7日（星期六） 補行上班",
            "已寫出 cal/2026.csv",
        ],
    );
    // Our format, the year covered; what services load.
    let written = std::fs::read_to_string(dir.join("cal/2026.csv")).unwrap();
    assert!(
        written.starts_with("date,kind,name\n2026,year,"),
        "{written}"
    );
    let cal = WorkCalendar::from_csv(&written).unwrap();
    assert!(cal.covers(2026));
    let march = |d| time::Date::from_calendar_date(2026, time::Month::March, d).unwrap();
    assert!(cal.is_working_day(march(7)));
    assert!(!cal.is_working_day(march(2)));

    // Without --out: the summary only.
    let out = ok(gongwen(&dir, "calendar import 115.csv"));
    assert!(!out.contains("已寫出"), "{out}");
}

#[test]
fn a_bad_file_is_refused_with_every_problem() {
    let dir = scratch("calendar-refused");
    let text = official_2026()
        // A missing day.
        .replace("20260704,六,2,\r\n", "")
        // A duplicate.
        .replace("20260105,一,0,\r\n", "20260105,一,0,\r\n20260105,一,0,\r\n")
        // A wrong weekday.
        .replace("20260106,二,0,", "20260106,三,0,")
        // A holiday without its reason.
        .replace("20260101,四,2,開國紀念日", "20260101,四,2,");
    std::fs::write(dir.join("bad.csv"), text).unwrap();
    let out = exits(
        gongwen(&dir, "calendar import bad.csv --out cal.csv"),
        1,
        &[
            "辦公日曆表有 4 項問題，未匯入",
            "第 2 行：中華民國115年1月1日（星期四）是平日卻放假，備註須寫明原因",
            "第 7 行：中華民國115年1月5日重複出現（第 6 行已列）",
            "第 8 行：星期「三」與日期不符，應為「二」",
            // The day of the bad row is missing as well as 7/4.
            "缺少 2 日：中華民國115年1月6日、中華民國115年7月4日",
        ],
    );
    assert!(!out.contains("上班 245 日"), "{out}");
    assert!(!dir.join("cal.csv").exists(), "nothing is written");

    // Not the official header: one problem, exit 1.
    std::fs::write(dir.join("ours.csv"), "date,kind,name\n2026,year,\n").unwrap();
    exits(
        gongwen(&dir, "calendar import ours.csv"),
        1,
        &["第 1 行：無法辨識的標題列"],
    );
    // No file at all: exit 2.
    exits(gongwen(&dir, "calendar import none.csv"), 2, &["none.csv"]);
}

#[test]
fn show_prints_a_bundled_year() {
    let dir = scratch("calendar-show");
    for year in ["2026", "115"] {
        let out = ok(gongwen(&dir, &format!("calendar show {year}")));
        has(
            &out,
            &[
                "中華民國115年（西元2026年）政府行政機關辦公日曆表：全年 365 日，上班 245 日，放假 120 日，補行上班 0 日",
                "中華民國115年2月16日（星期一） 農曆除夕",
                "補行上班日：\n  （無）",
            ],
        );
    }
    exits(
        gongwen(&dir, "calendar show 2027"),
        1,
        &["內建的辦公日曆沒有中華民國116年（西元2027年）（內建：中華民國115年（西元2026年））"],
    );
}
