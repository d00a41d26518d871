//! One whole year of the official open-data table 「中華民國政府行政機關辦公日曆表」
//! (data.gov.tw dataset 14718, published by the Directorate-General of Personnel
//! Administration), checked all or nothing before it may become a covered year.
//!
//! The file: header `西元日期,星期,是否放假,備註`, one row per day, e.g.
//! `20270101,五,2,開國紀念日`; `是否放假` is `2` for a day off and `0` for a working day;
//! `備註` names the holiday, or says 補假, 調整放假, 補行上班 (調整上班 in older years).
//! The platform has served it as Big5 and as UTF-8 with a BOM; both are read.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use gongwen_proto::csv::{self, Record};
use time::{Date, Month};

use super::{
    DayKind, ImportError, MAX_IMPORT_LINES, OFFICIAL_HEADER, Override, WorkCalendar, check_size,
    detect_format, is_weekday, official_fields, parse_records, weekday_zh,
};

/// Most problems listed for one file; past that a [`ImportError::TooManyProblems`] ends the list.
pub const MAX_PROBLEMS: usize = 100;

/// Most missing days named in [`ImportError::MissingDays`].
const MAX_MISSING_NAMED: usize = 5;

/// One day of the official table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialDay {
    pub date: Date,
    /// `是否放假` 2: a day off.
    pub off: bool,
    /// 備註, trimmed; empty for an ordinary day.
    pub note: String,
}

impl OfficialDay {
    /// A working Saturday or Sunday (補行上班).
    pub fn is_make_up(&self) -> bool {
        !self.off && !is_weekday(self.date)
    }

    /// How this day differs from the default rule (Monday to Friday), if it does.
    pub fn override_entry(&self) -> Option<Override> {
        let kind = if self.off {
            DayKind::Holiday
        } else {
            DayKind::Workday
        };
        if kind.is_working() == is_weekday(self.date) {
            return None;
        }
        let name = if self.note.is_empty() {
            kind.label_zh().to_string()
        } else {
            self.note.clone()
        };
        Some(Override { kind, name })
    }
}

/// A checked year of the official table: every day of `year` once, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialYear {
    pub year: i32,
    pub days: Vec<OfficialDay>,
}

impl OfficialYear {
    /// Working days.
    pub fn working_days(&self) -> usize {
        self.days.iter().filter(|d| !d.off).count()
    }

    /// Days off (weekends included).
    pub fn days_off(&self) -> usize {
        self.days.iter().filter(|d| d.off).count()
    }

    /// Working Saturdays and Sundays (補行上班).
    pub fn make_up_days(&self) -> impl Iterator<Item = &OfficialDay> + '_ {
        self.days.iter().filter(|d| d.is_make_up())
    }

    /// Days off with a 備註 (holidays, 補假, 調整放假), weekend ones included.
    pub fn named_days_off(&self) -> impl Iterator<Item = &OfficialDay> + '_ {
        self.days.iter().filter(|d| d.off && !d.note.is_empty())
    }

    /// The year as a calendar of its own: its overrides, and the year covered.
    pub fn to_calendar(&self) -> WorkCalendar {
        let mut calendar = WorkCalendar::new();
        calendar.add_year(self);
        calendar
    }

    /// The year in the official format (UTF-8, CRLF), as the open-data platform publishes it.
    pub fn to_official_csv(&self) -> String {
        let mut out = OFFICIAL_HEADER.join(",");
        out.push_str("\r\n");
        for day in &self.days {
            let (y, m, d) = day.date.to_calendar_date();
            out.push_str(&format!(
                "{y:04}{:02}{d:02},{},{},{}\r\n",
                u8::from(m),
                weekday_zh(day.date.weekday()),
                if day.off { 2 } else { 0 },
                csv::field(&day.note)
            ));
        }
        out
    }
}

impl WorkCalendar {
    /// Checks one year of the official table, all or nothing, and lists every problem found
    /// (at most [`MAX_PROBLEMS`]): a day outside the year most rows are in, a day twice, a day
    /// missing, a 星期 that is not the date's (a blank one is accepted, as some years' files
    /// have it), `是否放假` other than 0 or 2, a weekday off or a working weekend day without a
    /// 備註. UTF-8 (with or without BOM) or Big5. The problems of the whole file (size, encoding,
    /// quoting, header) come alone, since the rows cannot be read.
    pub fn check_official(bytes: &[u8]) -> Result<OfficialYear, Vec<ImportError>> {
        check_size(bytes.len()).map_err(|e| vec![e])?;
        let text = decode(bytes).map_err(|e| vec![e])?;
        if csv::count_lines(&text) > MAX_IMPORT_LINES {
            return Err(vec![ImportError::TooManyLines {
                limit: MAX_IMPORT_LINES,
            }]);
        }
        let records = parse_records(&text).map_err(|e| vec![e])?;
        let mut records = records.into_iter();
        let header = records.next().ok_or_else(|| vec![ImportError::Empty])?;
        if detect_format(&header) != Ok(super::CsvFormat::Official) {
            return Err(vec![ImportError::BadHeader {
                line: header.line,
                found: super::quoted(&header.fields.join(",")),
            }]);
        }
        check_rows(records.collect())
    }

    /// As [`WorkCalendar::check_official`], answering only the first problem.
    pub fn import_official(bytes: &[u8]) -> Result<OfficialYear, ImportError> {
        Self::check_official(bytes).map_err(|mut problems| {
            if problems.is_empty() {
                ImportError::Empty
            } else {
                problems.swap_remove(0)
            }
        })
    }

    /// Puts a checked year into the calendar: the year's old overrides are dropped, its own set,
    /// and the year becomes covered.
    pub fn add_year(&mut self, year: &OfficialYear) {
        self.clear_year(year.year);
        for day in &year.days {
            if let Some(entry) = day.override_entry() {
                self.overrides.insert(day.date, entry);
            }
        }
        self.covered.insert(year.year);
    }

    /// Adds a calendar file a service is configured with: one year of the official table
    /// (checked as [`WorkCalendar::check_official`], UTF-8 or Big5) or our own format, as
    /// `gongwen calendar import --out` writes it (its `YYYY,year,…` rows make the years
    /// covered). All or nothing: on an error the calendar stays as it was.
    pub fn add_file(&mut self, bytes: &[u8]) -> Result<(), ImportError> {
        match Self::import_official(bytes) {
            Ok(year) => {
                self.add_year(&year);
                Ok(())
            }
            // Not the official header: ours, or neither (then ours names the header).
            Err(ImportError::BadHeader { .. }) => self.import_csv_bytes(bytes).map(|_| ()),
            Err(e) => Err(e),
        }
    }

    /// The table of a covered year, day by day as the calendar has it (`None` when the year is
    /// not covered). Names are those of the overrides; weekend holidays, not kept as overrides,
    /// have none.
    pub fn year_table(&self, year: i32) -> Option<OfficialYear> {
        if !self.covers(year) {
            return None;
        }
        let mut day = Date::from_calendar_date(year, Month::January, 1).ok()?;
        let mut days = Vec::with_capacity(366);
        while day.year() == year {
            days.push(OfficialDay {
                date: day,
                off: !self.is_working_day(day),
                note: self.day(day).map(|o| o.name.clone()).unwrap_or_default(),
            });
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
        Some(OfficialYear { year, days })
    }
}

/// UTF-8 (a BOM is dropped), else Big5.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    let mut decoder = encoding_rs::BIG5.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(usize::MAX);
    let mut out = String::new();
    if out.try_reserve(capacity).is_err() {
        return Err(ImportError::BadEncoding { line: 1 });
    }
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok(Cow::Owned(out)),
        _ => {
            let before = &bytes[..read.min(bytes.len())];
            let line = 1 + before.iter().filter(|b| **b == b'\n').count();
            Err(ImportError::BadEncoding { line })
        }
    }
}

/// The checks of [`WorkCalendar::check_official`] on the rows after the header.
fn check_rows(records: Vec<Record>) -> Result<OfficialYear, Vec<ImportError>> {
    let mut problems = Vec::new();
    let mut rows = Vec::with_capacity(records.len());
    for record in &records {
        match official_fields(record) {
            Ok((date, kind, note)) => rows.push((record.line, date, kind, note.trim())),
            Err(e) => problems.push(e),
        }
    }
    if rows.is_empty() && problems.is_empty() {
        return Err(vec![ImportError::Empty]);
    }

    // The table's year: the one most rows are in (the earliest on a tie).
    let mut per_year: BTreeMap<i32, usize> = BTreeMap::new();
    for (_, date, _, _) in &rows {
        *per_year.entry(date.year()).or_default() += 1;
    }
    let year = per_year
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(y, _)| *y);

    let mut seen: HashMap<Date, usize> = HashMap::new();
    let mut days = Vec::with_capacity(rows.len());
    for (line, date, kind, note) in rows {
        if Some(date.year()) != year {
            problems.push(ImportError::OtherYear {
                line,
                date,
                expected: year.unwrap_or(date.year()),
            });
            continue;
        }
        if let Some(first_line) = seen.get(&date) {
            problems.push(ImportError::DuplicateDate {
                line,
                date,
                first_line: *first_line,
            });
            continue;
        }
        seen.insert(date, line);
        let off = !kind.is_working();
        // A weekday off or a working weekend day must say why.
        if note.is_empty() && off == is_weekday(date) {
            problems.push(ImportError::MissingReason {
                line,
                date,
                working: !off,
            });
        }
        days.push(OfficialDay {
            date,
            off,
            note: note.to_string(),
        });
    }
    // Rows may be in any order; problems are listed by line.
    problems.sort_by_key(|p| p.line().unwrap_or(usize::MAX));

    if let Some(year) = year {
        let missing = missing_days(year, &seen);
        if !missing.is_empty() {
            problems.push(ImportError::MissingDays {
                count: missing.len(),
                first: missing.into_iter().take(MAX_MISSING_NAMED).collect(),
            });
        }
    }
    if !problems.is_empty() {
        if problems.len() > MAX_PROBLEMS {
            problems.truncate(MAX_PROBLEMS);
            problems.push(ImportError::TooManyProblems {
                limit: MAX_PROBLEMS,
            });
        }
        return Err(problems);
    }
    days.sort_by_key(|d| d.date);
    let year = year.ok_or_else(|| vec![ImportError::Empty])?;
    Ok(OfficialYear { year, days })
}

/// The days of `year` not in `seen`, in order.
fn missing_days(year: i32, seen: &HashMap<Date, usize>) -> Vec<Date> {
    let mut missing = Vec::new();
    let Ok(mut day) = Date::from_calendar_date(year, Month::January, 1) else {
        return missing;
    };
    while day.year() == year {
        if !seen.contains_key(&day) {
            missing.push(day);
        }
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CALENDAR_2026_CSV, CalendarError, roc_day};

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
    }

    /// The bundled 2026 table written in the official format: 365 rows.
    fn official_2026() -> String {
        let bundled = WorkCalendar::with_bundled().unwrap();
        bundled.year_table(2026).unwrap().to_official_csv()
    }

    /// `text` with the line starting with `prefix` replaced by `with` (or removed when `None`).
    fn edit(text: &str, prefix: &str, with: Option<&str>) -> String {
        let mut found = false;
        let out: Vec<&str> = text
            .split_inclusive("\r\n")
            .filter_map(|l| {
                if l.starts_with(prefix) {
                    found = true;
                    with
                } else {
                    Some(l)
                }
            })
            .collect();
        assert!(found, "no line starts with {prefix}");
        out.concat()
    }

    fn problems(text: &str) -> Vec<ImportError> {
        WorkCalendar::check_official(text.as_bytes()).unwrap_err()
    }

    #[test]
    fn the_bundled_year_round_trips_through_the_official_format() {
        let text = official_2026();
        assert_eq!(text.matches("\r\n").count(), 366);
        assert!(text.starts_with("西元日期,星期,是否放假,備註\r\n20260101,四,2,開國紀念日\r\n"));
        let year = WorkCalendar::import_official(text.as_bytes()).unwrap();
        assert_eq!(year.year, 2026);
        assert_eq!(year.days.len(), 365);
        assert_eq!(year.working_days(), 245);
        assert_eq!(year.days_off(), 120);
        assert_eq!(year.make_up_days().count(), 0);
        let named: Vec<Date> = year.named_days_off().map(|d| d.date).collect();
        assert_eq!(named.len(), 16);
        assert_eq!(named[0], date(2026, 1, 1));
        // As a calendar it is the bundled one: same overrides, 2026 covered.
        let cal = year.to_calendar();
        assert_eq!(cal, WorkCalendar::with_bundled().unwrap());
        assert!(cal.covers(2026) && !cal.covers(2027));
        assert_eq!(cal.years().collect::<Vec<_>>(), vec![2026]);
        // With a BOM, in LF, rows shuffled: the same year.
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1..].reverse();
        let shuffled = format!("\u{feff}{}\n", lines.join("\n"));
        assert_eq!(
            WorkCalendar::import_official(shuffled.as_bytes()).unwrap(),
            year
        );
    }

    #[test]
    fn a_service_adds_files_in_either_format_all_or_nothing() {
        // The official table of 2026 on a calendar with nothing: 2026 becomes covered.
        let mut cal = WorkCalendar::new();
        cal.add_file(official_2026().as_bytes()).unwrap();
        assert_eq!(cal, WorkCalendar::with_bundled().unwrap());
        // Our format, as `calendar import --out` writes it: its year rows cover.
        let mut ours = WorkCalendar::new();
        ours.add_file(cal.to_csv().as_bytes()).unwrap();
        assert_eq!(ours, cal);
        // A bad official file (a day twice) changes nothing.
        let twice = edit(
            &official_2026(),
            "20260302,",
            Some("20260302,一,0,\r\n20260302,一,0,\r\n"),
        );
        let mut kept = WorkCalendar::new();
        assert!(matches!(
            kept.add_file(twice.as_bytes()),
            Err(ImportError::DuplicateDate { .. })
        ));
        assert_eq!(kept, WorkCalendar::new());
        // Neither format: the header is named.
        assert!(matches!(
            kept.add_file("a,b\n1,2\n".as_bytes()),
            Err(ImportError::BadHeader { .. })
        ));
    }

    #[test]
    fn a_make_up_saturday_and_an_adjusted_day_off() {
        // As in ROC year 113: a weekday made a day off, a Saturday made a working day.
        let text = edit(
            &official_2026(),
            "20260302,",
            Some("20260302,一,2,調整放假\r\n"),
        );
        let text = edit(&text, "20260307,", Some("20260307,六,0,補行上班\r\n"));
        let year = WorkCalendar::import_official(text.as_bytes()).unwrap();
        let make_up: Vec<Date> = year.make_up_days().map(|d| d.date).collect();
        assert_eq!(make_up, vec![date(2026, 3, 7)]);
        assert_eq!(year.working_days(), 245);
        let cal = year.to_calendar();
        assert!(cal.is_working_day(date(2026, 3, 7)));
        assert!(!cal.is_working_day(date(2026, 3, 2)));
        assert_eq!(
            cal.day(date(2026, 3, 7)),
            Some(&Override::workday("補行上班"))
        );
        // Its export is our format, and reads back the same (coverage included).
        let csv = cal.to_csv();
        assert!(csv.starts_with("date,kind,name\n2026,year,"), "{csv}");
        assert_eq!(WorkCalendar::from_csv(&csv).unwrap(), cal);
    }

    #[test]
    fn a_missing_day() {
        let text = edit(&official_2026(), "20260704,", None);
        let p = problems(&text);
        assert_eq!(
            p,
            vec![ImportError::MissingDays {
                count: 1,
                first: vec![date(2026, 7, 4)]
            }]
        );
        assert_eq!(p[0].kind(), "missing_days");
        assert_eq!(
            p[0].to_string(),
            "缺少 1 日：中華民國115年7月4日（每年的每一日都須列出一次）"
        );
        // A whole month: the first five named, and 「等」.
        let mut text = official_2026();
        for d in 1..=31 {
            text = edit(&text, &format!("202608{d:02},"), None);
        }
        let p = problems(&text);
        assert!(
            matches!(&p[..], [ImportError::MissingDays { count: 31, first }] if first.len() == 5)
        );
        assert!(p[0].to_string().contains("8月5日等"), "{}", p[0]);
    }

    #[test]
    fn a_duplicate_and_a_day_of_another_year() {
        let text = edit(
            &official_2026(),
            "20260105,",
            Some("20260105,一,0,\r\n20260105,一,0,\r\n20270105,二,0,\r\n"),
        );
        let p = problems(&text);
        assert_eq!(
            p,
            vec![
                ImportError::DuplicateDate {
                    line: 7,
                    date: date(2026, 1, 5),
                    first_line: 6
                },
                ImportError::OtherYear {
                    line: 8,
                    date: date(2027, 1, 5),
                    expected: 2026
                },
            ]
        );
        assert_eq!(
            p[0].to_string(),
            "第 7 行：中華民國115年1月5日重複出現（第 6 行已列）"
        );
        assert_eq!(
            p[1].to_string(),
            "第 8 行：中華民國116年1月5日不屬於本表的年度中華民國115年（西元2026年）"
        );
    }

    #[test]
    fn a_wrong_weekday_and_a_bad_flag_are_each_listed() {
        let text = edit(&official_2026(), "20260106,", Some("20260106,三,0,\r\n"));
        let text = edit(&text, "20260107,", Some("20260107,三,1,\r\n"));
        let p = problems(&text);
        assert_eq!(
            p,
            vec![
                ImportError::BadWeekday {
                    line: 7,
                    value: "三".into(),
                    expected: "二"
                },
                ImportError::BadFlag {
                    line: 8,
                    value: "1".into()
                },
                // The two rows could not be read, so their days are missing too.
                ImportError::MissingDays {
                    count: 2,
                    first: vec![date(2026, 1, 6), date(2026, 1, 7)]
                },
            ]
        );
        assert_eq!(p[0].kind(), "bad_weekday");
        // A blank 星期 is accepted (some years' files have none).
        let text = edit(&official_2026(), "20260106,", Some("20260106,,0,\r\n"));
        assert!(WorkCalendar::check_official(text.as_bytes()).is_ok());
    }

    #[test]
    fn days_without_a_reason() {
        // A weekday off and a working Sunday, both with an empty 備註.
        let text = edit(&official_2026(), "20260101,", Some("20260101,四,2,\r\n"));
        let text = edit(&text, "20260104,", Some("20260104,日,0,  \r\n"));
        let p = problems(&text);
        assert_eq!(
            p,
            vec![
                ImportError::MissingReason {
                    line: 2,
                    date: date(2026, 1, 1),
                    working: false
                },
                ImportError::MissingReason {
                    line: 5,
                    date: date(2026, 1, 4),
                    working: true
                },
            ]
        );
        assert_eq!(
            p[0].to_string(),
            "第 2 行：中華民國115年1月1日（星期四）是平日卻放假，備註須寫明原因（節日名稱、補假或調整放假）"
        );
        assert!(p[1].to_string().contains("補行上班"));
        assert_eq!(p[1].kind(), "missing_reason");
        // A weekend day off needs no reason; neither does an ordinary working day.
        assert_eq!(roc_day(date(2026, 1, 4)), "中華民國115年1月4日（星期日）");
    }

    #[test]
    fn big5_file() {
        let text = edit(
            &official_2026(),
            "20260302,",
            Some("20260302,一,2,調整放假\r\n"),
        );
        let (bytes, _, unmappable) = encoding_rs::BIG5.encode(&text);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&bytes).is_err());
        let year = WorkCalendar::import_official(&bytes).unwrap();
        assert_eq!(year.days[0].note, "開國紀念日");
        assert_eq!(
            year.days
                .iter()
                .find(|d| d.date == date(2026, 3, 2))
                .unwrap()
                .note,
            "調整放假"
        );
        // Bytes that are neither UTF-8 nor Big5: the line where decoding failed.
        let mut bad = bytes.into_owned();
        let at = bad.len() - 3;
        bad[at] = 0xFF;
        bad[at + 1] = 0xFF;
        let p = WorkCalendar::check_official(&bad).unwrap_err();
        assert!(
            matches!(p[..], [ImportError::BadEncoding { line: 366 }]),
            "{p:?}"
        );
        assert!(p[0].to_string().contains("既不是 UTF-8 也不是 Big5"));
    }

    #[test]
    fn whole_file_problems_come_alone() {
        for (text, kind) in [
            ("", "empty"),
            ("西元日期,星期,是否放假,備註\r\n", "empty"),
            ("date,kind,name\n2026,year,x\n", "bad_header"),
            ("日期,星期,是否放假,備註\n", "bad_header"),
            (
                "西元日期,星期,是否放假,備註\n20260101,四,2,\"開國\n",
                "unterminated_quote",
            ),
        ] {
            let p = WorkCalendar::check_official(text.as_bytes()).unwrap_err();
            assert_eq!(p.len(), 1, "{text}: {p:?}");
            assert_eq!(p[0].kind(), kind, "{text}");
        }
        let big = vec![b'x'; crate::MAX_IMPORT_BYTES + 1];
        assert_eq!(
            WorkCalendar::import_official(&big).unwrap_err().kind(),
            "too_large"
        );
    }

    #[test]
    fn problems_are_bounded() {
        // Every weekday off without a reason: far more than MAX_PROBLEMS.
        let text: String = official_2026()
            .split_inclusive("\r\n")
            .map(|l| l.replace(",0,\r\n", ",2,\r\n"))
            .collect();
        let p = problems(&text);
        assert_eq!(p.len(), MAX_PROBLEMS + 1);
        assert_eq!(
            p.last(),
            Some(&ImportError::TooManyProblems {
                limit: MAX_PROBLEMS
            })
        );
        assert_eq!(p.last().unwrap().to_string(), "問題超過 100 項，其餘未列出");
    }

    #[test]
    fn adding_a_year_replaces_its_old_days_and_covers_it() {
        let mut cal = WorkCalendar::new();
        cal.set(date(2026, 5, 5), Override::holiday("舊的"));
        cal.set(date(2025, 5, 5), Override::holiday("別年"));
        let year = WorkCalendar::import_official(official_2026().as_bytes()).unwrap();
        cal.add_year(&year);
        assert_eq!(cal.day(date(2026, 5, 5)), None);
        assert_eq!(cal.day(date(2025, 5, 5)), Some(&Override::holiday("別年")));
        assert!(cal.covers(2026) && !cal.covers(2025));
        // Our format with a year row does the same, wherever the row stands.
        let mut cal = WorkCalendar::new();
        cal.set(date(2026, 5, 5), Override::holiday("舊的"));
        cal.import_csv("date,kind,name\n2026-01-01,holiday,開國紀念日\n2026,year,\n")
            .unwrap();
        assert_eq!(cal.day(date(2026, 5, 5)), None);
        assert_eq!(cal.len(), 1);
        assert!(cal.covers(2026));
        for bad in ["26", "20266", "２０２６", "-001"] {
            let err = WorkCalendar::from_csv(&format!("date,kind,name\n{bad},year,\n"));
            assert!(
                matches!(err, Err(ImportError::BadDate { line: 2, .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn checked_scanning_refuses_uncovered_years() {
        let cal = WorkCalendar::with_bundled().unwrap();
        // Inside 2026: as unchecked.
        assert_eq!(
            cal.next_working_day_checked(date(2026, 2, 13)),
            Ok(date(2026, 2, 23))
        );
        // Thu 2026-12-31 → Fri 2027-01-01: 2027 has no table.
        assert_eq!(
            cal.next_working_day_checked(date(2026, 12, 31)),
            Err(CalendarError::Uncovered { year: 2027 })
        );
        assert_eq!(
            cal.next_working_day(date(2026, 12, 31)),
            Ok(date(2027, 1, 1))
        );
        assert_eq!(
            cal.next_working_day_checked(date(2025, 12, 31)),
            Ok(date(2026, 1, 2))
        );
        assert_eq!(
            WorkCalendar::new().next_working_day_checked(date(2026, 3, 2)),
            Err(CalendarError::Uncovered { year: 2026 })
        );
        assert_eq!(
            cal.check_covered(date(2026, 1, 1), date(2026, 12, 31)),
            Ok(())
        );
        assert_eq!(
            cal.check_covered(date(2025, 6, 1), date(2027, 1, 1)),
            Err(CalendarError::Uncovered { year: 2025 })
        );
        let msg = CalendarError::Uncovered { year: 2027 }.to_string();
        assert!(
            msg.starts_with("中華民國116年（西元2027年）沒有政府行政機關辦公日曆表"),
            "{msg}"
        );
        assert!(CALENDAR_2026_CSV.contains("2026,year,"));
    }
}
