//! The government office calendar (政府行政機關辦公日曆) and the deadlines of the electronic
//! exchange. No I/O and no clock of its own: callers pass the time (from the one
//! `gongwen_net::Clock`).
//!
//! * [`WorkCalendar`]: Monday to Friday are working days and Saturday and Sunday are not,
//!   unless a date says otherwise: a holiday ([`DayKind::Holiday`]) or a make-up working day
//!   ([`DayKind::Workday`]).
//! * CSV import (the two formats are told apart by their header) and export:
//!   - the 「中華民國政府行政機關辦公日曆表」 that the Directorate-General of Personnel
//!     Administration publishes on the government open-data platform: header
//!     `西元日期,星期,是否放假,備註`, e.g. `20260101,四,2,開國紀念日`;
//!   - our simple format: header `date,kind,name`, e.g. `2026-02-16,holiday,農曆除夕`.
//!     A row `2027,year,…` says the file holds the complete table of that year.
//! * [`WorkCalendar::check_official`] / [`WorkCalendar::import_official`]: one whole year of the
//!   open-data table (UTF-8 with or without BOM, or Big5), checked all or nothing: every day of
//!   the year exactly once, 星期 matching, a reason for every weekday off and every working
//!   weekend day. See [`OfficialYear`].
//! * Coverage: [`WorkCalendar::covers`] tells the years with a complete table (bundled, or
//!   imported from the official table); [`WorkCalendar::next_working_day_checked`] answers
//!   [`CalendarError::Uncovered`] instead of silently counting plain weekdays in other years.
//! * [`CALENDAR_2026_CSV`]: the bundled calendar of ROC year 115 (2026).
//! * [`sender_due`] / [`receiver_due`]: the sender's and the recipient's check deadlines of
//!   points 12 and 13 of the 臺北市政府公文電子交換作業要點 (Taiwan time, UTC+8, no daylight
//!   saving).
//!
//! Every loop is bounded: looking for a working day goes at most [`MAX_SCAN_DAYS`] days back or
//! forward and then answers [`CalendarError::NoWorkingDay`]; nothing loops forever or panics.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

mod month;
mod official;

pub use month::{MAX_MONTHS, Month, months, period};
pub use official::{MAX_PROBLEMS, OfficialDay, OfficialYear};

use gongwen_proto::csv::{self, Record};
use time::{Date, OffsetDateTime, Time, UtcOffset, Weekday};

/// Taiwan time (Asia/Taipei): always UTC+8; Taiwan has had no daylight saving since 1980.
pub const TAIPEI_OFFSET: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+8 is a valid offset"),
};

/// The sender's check deadline: 14:00 of the next working day (point 12, item 2).
pub const SENDER_DUE_TIME: Time = match Time::from_hms(14, 0, 0) {
    Ok(t) => t,
    Err(_) => panic!("14:00 is a valid time"),
};

/// The recipient's check deadline: 10:00 (point 13, item 2).
pub const RECEIVER_DUE_TIME: Time = match Time::from_hms(10, 0, 0) {
    Ok(t) => t,
    Err(_) => panic!("10:00 is a valid time"),
};

/// Most days looked at when searching for the previous or next working day. When that many
/// days in a row are not working days, [`WorkCalendar::next_working_day`] and
/// [`WorkCalendar::previous_working_day`] answer [`CalendarError::NoWorkingDay`].
pub const MAX_SCAN_DAYS: u16 = 366;

/// Largest import file, in bytes.
pub const MAX_IMPORT_BYTES: usize = 1024 * 1024;

/// Most lines in an import file (the header included; a final newline is not a line).
pub const MAX_IMPORT_LINES: usize = 10_000;

/// Longest name (備註), in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Most fields in one row; more is a field-count error, so odd input cannot take much memory.
const MAX_FIELDS: usize = 16;

/// Most characters of an input value quoted in an error message.
const MAX_QUOTED_CHARS: usize = 40;

const OFFICIAL_HEADER: [&str; 4] = ["西元日期", "星期", "是否放假", "備註"];
const SIMPLE_HEADER: [&str; 3] = ["date", "kind", "name"];

/// The name written in a `year` row of our format (informative; not read back).
const YEAR_ROW_NAME: &str = "政府行政機關辦公日曆表";

// ---------------------------------------------------------------------------
// The calendar
// ---------------------------------------------------------------------------

/// How a date differs from the default rule (Monday to Friday are working days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayKind {
    /// A holiday.
    Holiday,
    /// A make-up working day (or any other day made a working day).
    Workday,
}

impl DayKind {
    /// As written in the simple CSV format: `holiday` or `workday`.
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    /// The zh-TW name, 「放假」 or 「補行上班」; also the default name when none is given.
    pub fn label_zh(self) -> &'static str {
        match self {
            DayKind::Holiday => "放假",
            DayKind::Workday => "補行上班",
        }
    }

    /// Whether such a day is a working day.
    pub fn is_working(self) -> bool {
        matches!(self, DayKind::Workday)
    }
}

/// How one date differs: its kind and name (e.g. 「春節」, 「補行上班」).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Override {
    pub kind: DayKind,
    pub name: String,
}

impl Override {
    /// A holiday, e.g. `Override::holiday("春節")`.
    pub fn holiday(name: impl Into<String>) -> Self {
        Override {
            kind: DayKind::Holiday,
            name: name.into(),
        }
    }

    /// A make-up working day, e.g. `Override::workday("補行上班")`.
    pub fn workday(name: impl Into<String>) -> Self {
        Override {
            kind: DayKind::Workday,
            name: name.into(),
        }
    }
}

/// A calendar computation that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarError {
    /// No working day in the `days` days after (or before) `from`, `from` excluded.
    NoWorkingDay { from: Date, days: u16 },
    /// A date or time outside what can be represented (years -9999 to 9999).
    OutOfRange { date: Date },
    /// The computation reached `year`, for which the calendar has no complete table: counting
    /// plain weekdays there could give a wrong day, so the checked functions refuse.
    Uncovered { year: i32 },
}

impl fmt::Display for CalendarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalendarError::NoWorkingDay { from, days } => write!(
                f,
                "{}前後連續 {} 日都不是上班日，請檢查辦公日曆設定",
                roc_date(*from),
                days
            ),
            CalendarError::OutOfRange { date } => {
                write!(f, "{}附近的日期超出可計算的範圍", roc_date(*date))
            }
            CalendarError::Uncovered { year } => write!(
                f,
                "{}沒有政府行政機關辦公日曆表，無法計算落在該年的期限；請以「gongwen calendar import」匯入該年的辦公日曆",
                roc_year(*year)
            ),
        }
    }
}

impl std::error::Error for CalendarError {}

/// The government office calendar.
///
/// The default rule: Monday to Friday are working days, Saturday and Sunday are not. Dates that
/// differ are kept as [`Override`]s, sorted by date. The years whose complete official table
/// the calendar holds are its coverage ([`WorkCalendar::covers`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    overrides: BTreeMap<Date, Override>,
    covered: BTreeSet<i32>,
}

impl WorkCalendar {
    /// The default rule only (Monday to Friday), with no overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bundled [`CALENDAR_2026_CSV`] (ROC year 115). The data is a fixed string that the
    /// `bundled_2026_*` unit tests prove imports; the error can only come from a bad edit of it.
    pub fn with_bundled() -> Result<Self, ImportError> {
        Self::from_csv(CALENDAR_2026_CSV)
    }

    /// A calendar from CSV text (format recognised by its header, see [`WorkCalendar::import_csv`]).
    pub fn from_csv(text: &str) -> Result<Self, ImportError> {
        let mut calendar = Self::new();
        calendar.import_csv(text)?;
        Ok(calendar)
    }

    /// Whether `date` is a working day: as its override says, else Monday to Friday.
    pub fn is_working_day(&self, date: Date) -> bool {
        match self.overrides.get(&date) {
            Some(o) => o.kind.is_working(),
            None => is_weekday(date),
        }
    }

    /// Whether the calendar holds the complete official table of `year` (bundled, imported
    /// with [`WorkCalendar::add_year`], or from a `year` row of our CSV format).
    pub fn covers(&self, year: i32) -> bool {
        self.covered.contains(&year)
    }

    /// The years covered, in order.
    pub fn years(&self) -> impl DoubleEndedIterator<Item = i32> + '_ {
        self.covered.iter().copied()
    }

    /// [`CalendarError::Uncovered`] for the first year from `from` to `to` (both included) that
    /// the calendar does not cover; `Ok` when all are covered or `from > to`.
    pub fn check_covered(&self, from: Date, to: Date) -> Result<(), CalendarError> {
        match (from.year()..=to.year()).find(|y| !self.covers(*y)) {
            Some(year) => Err(CalendarError::Uncovered { year }),
            None => Ok(()),
        }
    }

    /// The first working day after `date` (`date` excluded).
    ///
    /// Looks at most [`MAX_SCAN_DAYS`] days; when none is a working day it answers
    /// [`CalendarError::NoWorkingDay`], and [`CalendarError::OutOfRange`] past the representable dates.
    /// Days in years the calendar does not cover count by the default rule; deadlines should
    /// use [`WorkCalendar::next_working_day_checked`].
    pub fn next_working_day(&self, date: Date) -> Result<Date, CalendarError> {
        self.scan(date, true, false)
    }

    /// As [`WorkCalendar::next_working_day`], but [`CalendarError::Uncovered`] as soon as the
    /// search reaches a day of a year the calendar does not cover: what a deadline needs, since
    /// there the default rule may be wrong.
    pub fn next_working_day_checked(&self, date: Date) -> Result<Date, CalendarError> {
        self.scan(date, true, true)
    }

    /// The last working day before `date` (`date` excluded); bounds and errors as [`WorkCalendar::next_working_day`].
    pub fn previous_working_day(&self, date: Date) -> Result<Date, CalendarError> {
        self.scan(date, false, false)
    }

    fn scan(&self, from: Date, forward: bool, checked: bool) -> Result<Date, CalendarError> {
        let mut day = from;
        for _ in 0..MAX_SCAN_DAYS {
            let step = if forward {
                day.next_day()
            } else {
                day.previous_day()
            };
            day = step.ok_or(CalendarError::OutOfRange { date: from })?;
            if checked && !self.covers(day.year()) {
                return Err(CalendarError::Uncovered { year: day.year() });
            }
            if self.is_working_day(day) {
                return Ok(day);
            }
        }
        Err(CalendarError::NoWorkingDay {
            from,
            days: MAX_SCAN_DAYS,
        })
    }

    /// The override of `date` (`None`: the default rule applies).
    pub fn day(&self, date: Date) -> Option<&Override> {
        self.overrides.get(&date)
    }

    /// Sets the override of `date`, answering the one it replaces.
    pub fn set(&mut self, date: Date, entry: Override) -> Option<Override> {
        self.overrides.insert(date, entry)
    }

    /// Removes the override of `date` (back to the default rule), answering the one removed.
    pub fn remove(&mut self, date: Date) -> Option<Override> {
        self.overrides.remove(&date)
    }

    /// Every override, by date.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (Date, &Override)> + '_ {
        self.overrides.iter().map(|(d, o)| (*d, o))
    }

    /// How many overrides there are.
    pub fn len(&self) -> usize {
        self.overrides.len()
    }

    /// Whether there are no overrides.
    pub fn is_empty(&self) -> bool {
        self.overrides.is_empty()
    }

    /// Working days from `from` to `to`, both included; 0 when `from > to`.
    pub fn count_working_days(&self, from: Date, to: Date) -> u32 {
        if from > to {
            return 0;
        }
        let days = (to - from).whole_days() + 1;
        let mut count = days / 7 * 5;
        let mut weekday = i64::from(from.weekday().number_days_from_monday());
        for _ in 0..days % 7 {
            if weekday < 5 {
                count += 1;
            }
            weekday = (weekday + 1) % 7;
        }
        for (date, entry) in self.overrides.range(from..=to) {
            match (is_weekday(*date), entry.kind.is_working()) {
                (true, false) => count -= 1,
                (false, true) => count += 1,
                _ => {}
            }
        }
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// Imports CSV and merges it into this calendar (later rows win). The format is recognised
    /// by its header:
    ///
    /// * `西元日期,星期,是否放假,備註` (the open-data format): `是否放假` is `2` for a holiday and
    ///   `0` for a working day. Only days that differ from the default rule become overrides
    ///   (a Saturday or Sunday marked `0` is a make-up working day, a weekday marked `2` a
    ///   holiday); a day that agrees with the default rule removes any override it had, since the
    ///   official table lists every day and is the authority. `星期` may be blank; when given it
    ///   must match the date.
    /// * `date,kind,name` (our format): `kind` is `holiday` or `workday`; a row `2027,year,…`
    ///   (the date field a year alone) says the file holds that year's complete table: the
    ///   year's overrides already in the calendar are dropped (wherever the row stands in the
    ///   file) and the year becomes covered ([`WorkCalendar::covers`]).
    ///
    /// A blank name (備註) gets [`DayKind::label_zh`]. Accepts a UTF-8 BOM, CRLF/LF/CR line ends,
    /// quoted fields holding commas, quotes or line breaks, and blank rows. A file over
    /// [`MAX_IMPORT_BYTES`] bytes or [`MAX_IMPORT_LINES`] lines is refused. All or nothing: if any
    /// row is wrong, the calendar stays as it was.
    pub fn import_csv(&mut self, text: &str) -> Result<ImportSummary, ImportError> {
        check_size(text.len())?;
        if csv::count_lines(text) > MAX_IMPORT_LINES {
            return Err(ImportError::TooManyLines {
                limit: MAX_IMPORT_LINES,
            });
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let records = parse_records(text)?;
        let mut records = records.into_iter();
        let header = records.next().ok_or(ImportError::Empty)?;
        let format = detect_format(&header)?;

        let mut changes = Vec::new();
        for record in records {
            changes.push(match format {
                CsvFormat::Official => parse_official_row(&record)?,
                CsvFormat::Simple => parse_simple_row(&record)?,
            });
        }

        let mut summary = ImportSummary {
            format,
            rows: changes.len(),
            set: 0,
            cleared: 0,
        };
        // A complete year replaces what the calendar had for it, whatever the row order.
        for change in &changes {
            if let Row::Covers(year) = change {
                self.clear_year(*year);
                self.covered.insert(*year);
            }
        }
        for change in changes {
            match change {
                Row::Set(date, entry) => {
                    self.overrides.insert(date, entry);
                    summary.set += 1;
                }
                Row::Clear(date) => {
                    if self.overrides.remove(&date).is_some() {
                        summary.cleared += 1;
                    }
                }
                Row::Covers(_) => {}
            }
        }
        Ok(summary)
    }

    /// As [`WorkCalendar::import_csv`], from bytes; [`ImportError::NotUtf8`] when they are not
    /// UTF-8 (the open-data files are often Big5 and must first be saved as UTF-8).
    pub fn import_csv_bytes(&mut self, bytes: &[u8]) -> Result<ImportSummary, ImportError> {
        check_size(bytes.len())?;
        match std::str::from_utf8(bytes) {
            Ok(text) => self.import_csv(text),
            Err(e) => {
                let before = &bytes[..e.valid_up_to()];
                let line = 1 + before.iter().filter(|b| **b == b'\n').count();
                Err(ImportError::NotUtf8 { line })
            }
        }
    }

    /// Drops every override of `year`.
    fn clear_year(&mut self, year: i32) {
        let (Ok(first), Ok(last)) = (
            Date::from_calendar_date(year, time::Month::January, 1),
            Date::from_calendar_date(year, time::Month::December, 31),
        ) else {
            return;
        };
        let dates: Vec<Date> = self
            .overrides
            .range(first..=last)
            .map(|(d, _)| *d)
            .collect();
        for date in dates {
            self.overrides.remove(&date);
        }
    }

    /// Exports every override in the simple format (`date,kind,name`, LF line ends), each
    /// covered year as a row `YYYY,year,政府行政機關辦公日曆表` before its days, which
    /// [`WorkCalendar::import_csv`] reads back into the same calendar. Except: a blank name comes
    /// back as the default name, and dates before year 1 (negative years) cannot be written as
    /// `YYYY-MM-DD` and are refused on import.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("date,kind,name\n");
        let mut years = self.covered.iter().copied().filter(|y| *y >= 0).peekable();
        for (date, entry) in &self.overrides {
            while let Some(year) = years.next_if(|y| *y <= date.year()) {
                out.push_str(&format!("{year:04},year,{YEAR_ROW_NAME}\n"));
            }
            let (y, m, d) = date.to_calendar_date();
            out.push_str(&format!(
                "{:04}-{:02}-{:02},{},{}\n",
                y,
                u8::from(m),
                d,
                entry.kind.as_str(),
                csv::field(&entry.name)
            ));
        }
        for year in years {
            out.push_str(&format!("{year:04},year,{YEAR_ROW_NAME}\n"));
        }
        out
    }
}

impl<'a> IntoIterator for &'a WorkCalendar {
    type Item = (&'a Date, &'a Override);
    type IntoIter = std::collections::btree_map::Iter<'a, Date, Override>;

    fn into_iter(self) -> Self::IntoIter {
        self.overrides.iter()
    }
}

/// A file of `bytes` bytes is refused over [`MAX_IMPORT_BYTES`].
fn check_size(bytes: usize) -> Result<(), ImportError> {
    if bytes > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge {
            bytes,
            limit: MAX_IMPORT_BYTES,
        });
    }
    Ok(())
}

fn is_weekday(date: Date) -> bool {
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// 「一」 … 「日」, as the official table writes 星期.
pub fn weekday_zh(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "一",
        Weekday::Tuesday => "二",
        Weekday::Wednesday => "三",
        Weekday::Thursday => "四",
        Weekday::Friday => "五",
        Weekday::Saturday => "六",
        Weekday::Sunday => "日",
    }
}

/// A date with its weekday, e.g. 「中華民國116年1月1日（星期五）」.
pub fn roc_day(date: Date) -> String {
    format!("{}（星期{}）", roc_date(date), weekday_zh(date.weekday()))
}

/// A year in the ROC calendar with the Gregorian one, e.g. 2027 → 「中華民國116年（西元2027年）」.
pub fn roc_year(year: i32) -> String {
    if year >= 1912 {
        format!("中華民國{}年（西元{year}年）", year - 1911)
    } else {
        format!("民國前{}年（西元{year}年）", 1912 - year)
    }
}

/// A date in the ROC calendar, e.g. 2026-01-05 → 「中華民國115年1月5日」. Year 1 is written
/// 「中華民國1年」; years before 1912 「民國前N年」.
pub fn roc_date(date: Date) -> String {
    let (year, month, day) = date.to_calendar_date();
    let month = u8::from(month);
    if year >= 1912 {
        format!("中華民國{}年{}月{}日", year - 1911, month, day)
    } else {
        format!("民國前{}年{}月{}日", 1912 - year, month, day)
    }
}

// ---------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------

/// `time` (Taiwan time) on the first working day after the date of `at` in Taiwan.
fn next_working_day_at(
    calendar: &WorkCalendar,
    at: OffsetDateTime,
    time: Time,
) -> Result<OffsetDateTime, CalendarError> {
    let day = at
        .checked_to_offset(TAIPEI_OFFSET)
        .map(OffsetDateTime::date)
        .ok_or(CalendarError::OutOfRange { date: at.date() })?;
    let due = calendar.next_working_day(day)?;
    Ok(OffsetDateTime::new_in_offset(due, time, TAIPEI_OFFSET))
}

/// The sender's check deadline after sending.
///
/// 臺北市政府公文電子交換作業要點, point 12, item 2: 「每次發文後應檢查發送結果，
/// 至遲應於次一工作日下午二時前，查詢或列印受文者未確認清單或被退文清單，並隨即補發紙本公文。」
///
/// Takes the date of `sent_at` in Taiwan time and answers 14:00 (UTC+8) of the first working
/// day after it; a document sent on a day off gets the first working day after that day too.
/// The answer is the moment by which the check must be done: reaching it is overdue. By point
/// 14 this does not apply to connected users (participants outside the city government).
pub fn sender_due(
    calendar: &WorkCalendar,
    sent_at: OffsetDateTime,
) -> Result<OffsetDateTime, CalendarError> {
    next_working_day_at(calendar, sent_at, SENDER_DUE_TIME)
}

/// The recipient's check deadline.
///
/// Same rules, point 13, item 2: 「電子收文人員應於每日上午十時前，完成前一工作日電子公文收文處理結果
/// 檢核作業，如有未完成收文處理程序者，應通知發文機關或為必要之處理。」
///
/// Takes the date of `available_at` in Taiwan time and answers 10:00 (UTC+8) of the first
/// working day after it: what arrives on a working day is checked by 10:00 of the next one.
/// The rules speak only of 「前一工作日」 and say nothing of documents arriving on a weekend or
/// holiday; we take the earlier reading: those are checked at 10:00 of the first working day
/// after they arrived (the first check after delivery). By point 14 this does not apply to
/// connected users.
pub fn receiver_due(
    calendar: &WorkCalendar,
    available_at: OffsetDateTime,
) -> Result<OffsetDateTime, CalendarError> {
    next_working_day_at(calendar, available_at, RECEIVER_DUE_TIME)
}

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

/// The format of an imported CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvFormat {
    /// The open-data format: `西元日期,星期,是否放假,備註`.
    Official,
    /// Our format: `date,kind,name`.
    Simple,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// The format recognised.
    pub format: CsvFormat,
    /// Data rows (header and blank rows not counted).
    pub rows: usize,
    /// Overrides set (added or replaced).
    pub set: usize,
    /// Overrides removed because the official format marks the day as ordinary.
    pub cleared: usize,
}

/// A CSV import error; `line` counts from 1 (the header is line 1), and for a field spanning lines it is where the row starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// The file is over the size limit.
    TooLarge { bytes: usize, limit: usize },
    /// The file is over the line limit.
    TooManyLines { limit: usize },
    /// The file is not UTF-8; `line` is where the first invalid byte is.
    NotUtf8 { line: usize },
    /// The file is empty (no header).
    Empty,
    /// A header that is neither format.
    BadHeader { line: usize, found: String },
    /// The wrong number of fields.
    FieldCount {
        line: usize,
        expected: usize,
        found: usize,
    },
    /// A quoted field not closed before the end of the file.
    UnterminatedQuote { line: usize },
    /// A quote in the middle of a field, or something after a closing quote.
    StrayQuote { line: usize },
    /// The date is not a valid date (or not in the expected form).
    BadDate { line: usize, value: String },
    /// The 星期 field is not a weekday, or not the date's; `expected` is the date's weekday.
    BadWeekday {
        line: usize,
        value: String,
        expected: &'static str,
    },
    /// The 是否放假 field is neither 0 nor 2.
    BadFlag { line: usize, value: String },
    /// The kind field is neither holiday nor workday.
    BadKind { line: usize, value: String },
    /// The name is too long.
    NameTooLong {
        line: usize,
        chars: usize,
        limit: usize,
    },
    /// The official table is neither UTF-8 nor Big5; `line` is where decoding failed.
    BadEncoding { line: usize },
    /// A day of another year than the table's (the year most of its days are in).
    OtherYear {
        line: usize,
        date: Date,
        expected: i32,
    },
    /// The same day a second time; `first_line` is where it was first.
    DuplicateDate {
        line: usize,
        date: Date,
        first_line: usize,
    },
    /// A day off on a weekday, or a working Saturday or Sunday (補行上班), with an empty 備註:
    /// the official table gives the reason of every such day.
    MissingReason {
        line: usize,
        date: Date,
        working: bool,
    },
    /// Days of the year not in the table: how many, and the first few.
    MissingDays { count: usize, first: Vec<Date> },
    /// More problems than [`MAX_PROBLEMS`]; the rest were not listed.
    TooManyProblems { limit: usize },
}

impl ImportError {
    /// The line of the error (`None` for errors about the whole file).
    pub fn line(&self) -> Option<usize> {
        match self {
            ImportError::TooLarge { .. }
            | ImportError::TooManyLines { .. }
            | ImportError::Empty
            | ImportError::MissingDays { .. }
            | ImportError::TooManyProblems { .. } => None,
            ImportError::NotUtf8 { line }
            | ImportError::BadHeader { line, .. }
            | ImportError::FieldCount { line, .. }
            | ImportError::UnterminatedQuote { line }
            | ImportError::StrayQuote { line }
            | ImportError::BadDate { line, .. }
            | ImportError::BadWeekday { line, .. }
            | ImportError::BadFlag { line, .. }
            | ImportError::BadKind { line, .. }
            | ImportError::NameTooLong { line, .. }
            | ImportError::BadEncoding { line }
            | ImportError::OtherYear { line, .. }
            | ImportError::DuplicateDate { line, .. }
            | ImportError::MissingReason { line, .. } => Some(*line),
        }
    }

    /// A stable name of the kind of problem (for scripts and tests), e.g. `missing_reason`.
    pub fn kind(&self) -> &'static str {
        match self {
            ImportError::TooLarge { .. } => "too_large",
            ImportError::TooManyLines { .. } => "too_many_lines",
            ImportError::NotUtf8 { .. } => "not_utf8",
            ImportError::Empty => "empty",
            ImportError::BadHeader { .. } => "bad_header",
            ImportError::FieldCount { .. } => "field_count",
            ImportError::UnterminatedQuote { .. } => "unterminated_quote",
            ImportError::StrayQuote { .. } => "stray_quote",
            ImportError::BadDate { .. } => "bad_date",
            ImportError::BadWeekday { .. } => "bad_weekday",
            ImportError::BadFlag { .. } => "bad_flag",
            ImportError::BadKind { .. } => "bad_kind",
            ImportError::NameTooLong { .. } => "name_too_long",
            ImportError::BadEncoding { .. } => "bad_encoding",
            ImportError::OtherYear { .. } => "other_year",
            ImportError::DuplicateDate { .. } => "duplicate_date",
            ImportError::MissingReason { .. } => "missing_reason",
            ImportError::MissingDays { .. } => "missing_days",
            ImportError::TooManyProblems { .. } => "too_many_problems",
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::TooLarge { bytes, limit } => {
                write!(f, "檔案大小 {bytes} 位元組，超過上限 {limit} 位元組")
            }
            ImportError::TooManyLines { limit } => write!(f, "檔案超過 {limit} 行的上限"),
            ImportError::NotUtf8 { line } => write!(
                f,
                "第 {line} 行：檔案不是 UTF-8 編碼（若為 Big5 編碼，請先轉存為 UTF-8）"
            ),
            ImportError::Empty => write!(f, "檔案是空的，找不到標題列"),
            ImportError::BadHeader { line, found } => write!(
                f,
                "第 {line} 行：無法辨識的標題列「{found}」，應為「西元日期,星期,是否放假,備註」或「date,kind,name」"
            ),
            ImportError::FieldCount {
                line,
                expected,
                found,
            } => write!(f, "第 {line} 行：應有 {expected} 個欄位，實際有 {found} 個"),
            ImportError::UnterminatedQuote { line } => {
                write!(f, "第 {line} 行：引號欄位直到檔案結尾都沒有結束")
            }
            ImportError::StrayQuote { line } => write!(
                f,
                "第 {line} 行：引號位置不正確（欄位內的引號須寫成兩個引號，並以引號包住整個欄位）"
            ),
            ImportError::BadDate { line, value } => {
                write!(f, "第 {line} 行：日期「{value}」不是有效的日期")
            }
            ImportError::BadWeekday {
                line,
                value,
                expected,
            } => write!(
                f,
                "第 {line} 行：星期「{value}」與日期不符，應為「{expected}」"
            ),
            ImportError::BadFlag { line, value } => write!(
                f,
                "第 {line} 行：是否放假「{value}」不是有效的值，應為 0（上班）或 2（放假）"
            ),
            ImportError::BadKind { line, value } => write!(
                f,
                "第 {line} 行：種類「{value}」不是有效的種類，應為 holiday 或 workday"
            ),
            ImportError::NameTooLong { line, chars, limit } => write!(
                f,
                "第 {line} 行：名稱有 {chars} 個字，超過上限 {limit} 個字"
            ),
            ImportError::BadEncoding { line } => write!(
                f,
                "第 {line} 行：檔案既不是 UTF-8 也不是 Big5 編碼，無法讀取"
            ),
            ImportError::OtherYear {
                line,
                date,
                expected,
            } => write!(
                f,
                "第 {line} 行：{}不屬於本表的年度{}",
                roc_date(*date),
                roc_year(*expected)
            ),
            ImportError::DuplicateDate {
                line,
                date,
                first_line,
            } => write!(
                f,
                "第 {line} 行：{}重複出現（第 {first_line} 行已列）",
                roc_date(*date)
            ),
            ImportError::MissingReason {
                line,
                date,
                working,
            } => {
                let day = roc_day(*date);
                if *working {
                    write!(
                        f,
                        "第 {line} 行：{day}是週末卻要上班，備註須寫明原因（例如「補行上班」）"
                    )
                } else {
                    write!(
                        f,
                        "第 {line} 行：{day}是平日卻放假，備註須寫明原因（節日名稱、補假或調整放假）"
                    )
                }
            }
            ImportError::MissingDays { count, first } => {
                let listed: Vec<String> = first.iter().map(|d| roc_date(*d)).collect();
                let more = if *count > first.len() { "等" } else { "" };
                write!(
                    f,
                    "缺少 {count} 日：{}{more}（每年的每一日都須列出一次）",
                    listed.join("、")
                )
            }
            ImportError::TooManyProblems { limit } => {
                write!(f, "問題超過 {limit} 項，其餘未列出")
            }
        }
    }
}

impl std::error::Error for ImportError {}

/// An input value as quoted in an error message: shortened, control characters replaced by 「?」.
fn quoted(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(MAX_QUOTED_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if value.chars().nth(MAX_QUOTED_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Between `min` and `max` fields; extra fields are allowed when all blank (spreadsheets write them).
fn check_fields(record: &Record, min: usize, max: usize) -> Result<(), ImportError> {
    let extra_non_empty = record.fields.iter().skip(max).any(|f| !f.is_empty());
    if record.count < min || record.count > MAX_FIELDS || extra_non_empty {
        return Err(ImportError::FieldCount {
            line: record.line,
            expected: max,
            found: record.count,
        });
    }
    Ok(())
}

fn parse_records(text: &str) -> Result<Vec<Record>, ImportError> {
    csv::parse(text, MAX_FIELDS).map_err(|e| match e {
        csv::CsvError::UnterminatedQuote { line } => ImportError::UnterminatedQuote { line },
        csv::CsvError::StrayQuote { line } => ImportError::StrayQuote { line },
    })
}

fn detect_format(header: &Record) -> Result<CsvFormat, ImportError> {
    let meaningful = header
        .fields
        .iter()
        .rposition(|f| !f.is_empty())
        .map_or(0, |i| i + 1);
    let names = &header.fields[..meaningful];
    if header.count <= MAX_FIELDS {
        if names.iter().map(String::as_str).eq(OFFICIAL_HEADER) {
            return Ok(CsvFormat::Official);
        }
        if names.len() == SIMPLE_HEADER.len()
            && names
                .iter()
                .zip(SIMPLE_HEADER)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
        {
            return Ok(CsvFormat::Simple);
        }
    }
    Err(ImportError::BadHeader {
        line: header.line,
        found: quoted(&header.fields.join(",")),
    })
}

fn date_from_digits(year: &str, month: &str, day: &str) -> Option<Date> {
    let year: i32 = year.parse().ok()?;
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    let day: u8 = day.parse().ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// `YYYYMMDD`。
fn parse_compact_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    date_from_digits(&s[0..4], &s[4..6], &s[6..8])
}

/// `YYYY-MM-DD`。
fn parse_iso_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let digits_ok = b.iter().enumerate().all(|(i, c)| {
        if i == 4 || i == 7 {
            *c == b'-'
        } else {
            c.is_ascii_digit()
        }
    });
    if b.len() != 10 || !digits_ok {
        return None;
    }
    date_from_digits(&s[0..4], &s[5..7], &s[8..10])
}

fn parse_name(record: &Record, index: usize, kind: DayKind) -> Result<String, ImportError> {
    let name = record.field(index);
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(ImportError::NameTooLong {
            line: record.line,
            chars,
            limit: MAX_NAME_CHARS,
        });
    }
    Ok(if name.trim().is_empty() {
        kind.label_zh().to_string()
    } else {
        name.to_string()
    })
}

/// What a row of an import does.
enum Row {
    /// Sets the override of a date.
    Set(Date, Override),
    /// The date agrees with the default rule: removes its override.
    Clear(Date),
    /// The file holds the complete table of this year.
    Covers(i32),
}

/// One row of the open-data format; [`Row::Clear`] for a day that agrees with the default rule.
fn parse_official_row(record: &Record) -> Result<Row, ImportError> {
    let (date, kind, note) = official_fields(record)?;
    let name = if note.trim().is_empty() {
        kind.label_zh().to_string()
    } else {
        note.to_string()
    };
    if kind.is_working() == is_weekday(date) {
        Ok(Row::Clear(date))
    } else {
        Ok(Row::Set(date, Override { kind, name }))
    }
}

/// The date, whether it is a working day (`是否放假` 0) or a day off (2), and the 備註
/// (length-checked) of an open-data row; the 星期, when given, must match the date.
fn official_fields(record: &Record) -> Result<(Date, DayKind, &str), ImportError> {
    check_fields(record, 3, 4)?;
    let line = record.line;
    let raw_date = record.field(0);
    let date = parse_compact_date(raw_date).ok_or_else(|| ImportError::BadDate {
        line,
        value: quoted(raw_date),
    })?;

    let expected = weekday_zh(date.weekday());
    let raw_weekday = record.field(1);
    let weekday = raw_weekday
        .strip_prefix("星期")
        .or_else(|| raw_weekday.strip_prefix('週'))
        .or_else(|| raw_weekday.strip_prefix('周'))
        .unwrap_or(raw_weekday);
    let weekday = if weekday == "天" { "日" } else { weekday };
    if !raw_weekday.is_empty() && weekday != expected {
        return Err(ImportError::BadWeekday {
            line,
            value: quoted(raw_weekday),
            expected,
        });
    }

    let kind = match record.field(2) {
        "0" => DayKind::Workday,
        "2" => DayKind::Holiday,
        other => {
            return Err(ImportError::BadFlag {
                line,
                value: quoted(other),
            });
        }
    };
    let note = record.field(3);
    let chars = note.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(ImportError::NameTooLong {
            line,
            chars,
            limit: MAX_NAME_CHARS,
        });
    }
    Ok((date, kind, note))
}

/// One row of our format.
fn parse_simple_row(record: &Record) -> Result<Row, ImportError> {
    check_fields(record, 2, 3)?;
    let line = record.line;
    let raw_date = record.field(0);
    if record.field(1).eq_ignore_ascii_case("year") {
        let year = raw_date
            .parse::<i32>()
            .ok()
            .filter(|_| raw_date.len() == 4 && raw_date.bytes().all(|b| b.is_ascii_digit()))
            .filter(|y| Date::from_calendar_date(*y, time::Month::January, 1).is_ok());
        return match year {
            Some(year) => {
                parse_name(record, 2, DayKind::Holiday)?;
                Ok(Row::Covers(year))
            }
            None => Err(ImportError::BadDate {
                line,
                value: quoted(raw_date),
            }),
        };
    }
    let date = parse_iso_date(raw_date).ok_or_else(|| ImportError::BadDate {
        line,
        value: quoted(raw_date),
    })?;
    let raw_kind = record.field(1);
    let kind = if raw_kind.eq_ignore_ascii_case("holiday") {
        DayKind::Holiday
    } else if raw_kind.eq_ignore_ascii_case("workday") {
        DayKind::Workday
    } else {
        return Err(ImportError::BadKind {
            line,
            value: quoted(raw_kind),
        });
    };
    let name = parse_name(record, 2, kind)?;
    Ok(Row::Set(date, Override { kind, name }))
}

// ---------------------------------------------------------------------------
// The bundled calendar of 2026 (ROC year 115)
// ---------------------------------------------------------------------------

/// The government office calendar of ROC year 115 (2026): only the days that differ from the
/// default rule (Monday to Friday), and the row saying the table of 2026 is complete.
///
/// Source: the Executive Yuan's letter 院授人培字第11430248312號 of 114-06-13, 「中華民國115年
/// （西元2026年）政府行政機關辦公日曆表」 (as agencies and schools relayed it: 365 days, 120 days
/// off, so 245 working days; no make-up working day this year), checked day by day against the
/// open-data table 「中華民國政府行政機關辦公日曆表」 for 115 (GitHub ruyut/TaiwanCalendar,
/// data/2026.json). A holiday on a Saturday is made up on the working day before, one on a
/// Sunday on the working day after (point 3 of the 「政府機關配合紀念日與節日補假及調整放假處理要點」
/// as amended on 114-06-13).
///
/// Holidays that fall on a weekend (the weekends of the Lunar New Year break 2/14–15 and
/// 2/21–22, the eve of New Year's Eve 2/15, 228 Peace Memorial Day 2/28, Children's Day 4/4,
/// Tomb Sweeping Day 4/5, National Day 10/10, Taiwan Retrocession and Guningtou Victory Day
/// 10/25) are days off under the default rule anyway and are not listed.
pub const CALENDAR_2026_CSV: &str = concat!(
    "date,kind,name\n",
    // The whole table of the year: 2026 is covered.
    "2026,year,中華民國115年政府行政機關辦公日曆表\n",
    // New Year's Day (Thursday).
    "2026-01-01,holiday,開國紀念日\n",
    // Lunar New Year's Eve and the nine-day Lunar New Year break, 2/14 (Sat) to 2/22 (Sun).
    "2026-02-16,holiday,農曆除夕\n",
    "2026-02-17,holiday,春節\n",
    "2026-02-18,holiday,春節\n",
    "2026-02-19,holiday,春節\n",
    // The eve of New Year's Eve (2/15, a Sunday) is made up on the fourth day of the new year.
    "2026-02-20,holiday,補假（除夕前一日）\n",
    // 228 Peace Memorial Day falls on a Saturday.
    "2026-02-27,holiday,補假（和平紀念日）\n",
    // Children's Day 4/4 (Saturday) and Tomb Sweeping Day 4/5 (Sunday): a four-day break.
    "2026-04-03,holiday,補假（兒童節）\n",
    "2026-04-06,holiday,補假（民族掃墓節）\n",
    // Labour Day (Friday): a day off for everyone since the 2025 amendment.
    "2026-05-01,holiday,勞動節\n",
    // Dragon Boat Festival (fifth day of the fifth lunar month, Friday).
    "2026-06-19,holiday,端午節\n",
    // Mid-Autumn Festival (Friday) and Teachers' Day (Monday) with the weekend: a four-day break.
    "2026-09-25,holiday,中秋節\n",
    "2026-09-28,holiday,孔子誕辰紀念日/教師節\n",
    // National Day 10/10 falls on a Saturday.
    "2026-10-09,holiday,補假（國慶日）\n",
    // Taiwan Retrocession and Guningtou Victory Day 10/25 falls on a Sunday.
    "2026-10-26,holiday,補假（臺灣光復暨金門古寧頭大捷紀念日）\n",
    // Constitution Day (Friday).
    "2026-12-25,holiday,行憲紀念日\n",
);

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
    }

    fn at(y: i32, m: u8, d: u8, hh: u8, mm: u8, offset_hours: i8) -> OffsetDateTime {
        OffsetDateTime::new_in_offset(
            date(y, m, d),
            Time::from_hms(hh, mm, 0).unwrap(),
            UtcOffset::from_hms(offset_hours, 0, 0).unwrap(),
        )
    }

    fn taipei(y: i32, m: u8, d: u8, hh: u8, mm: u8) -> OffsetDateTime {
        at(y, m, d, hh, mm, 8)
    }

    // ---- The default rule and overrides ----

    #[test]
    fn weekends_are_not_working_days() {
        let cal = WorkCalendar::new();
        // 2026-03-02 is a Monday.
        for d in 2..=6 {
            assert!(cal.is_working_day(date(2026, 3, d)), "March {d}");
        }
        assert!(!cal.is_working_day(date(2026, 3, 7)));
        assert!(!cal.is_working_day(date(2026, 3, 8)));
        // Strictly after / before.
        let march = |d| date(2026, 3, d);
        for (from, next) in [(6, 9), (7, 9), (3, 4)] {
            assert_eq!(cal.next_working_day(march(from)), Ok(march(next)));
        }
        for (from, previous) in [(9, 6), (4, 3)] {
            assert_eq!(cal.previous_working_day(march(from)), Ok(march(previous)));
        }
    }

    #[test]
    fn set_remove_day_and_iteration_order() {
        let mut cal = WorkCalendar::new();
        assert!(cal.is_empty());
        assert_eq!(cal.set(date(2026, 2, 17), Override::holiday("春節")), None);
        cal.set(date(2024, 2, 17), Override::workday("補行上班"));
        cal.set(date(2026, 1, 1), Override::holiday("開國紀念日"));
        assert_eq!(cal.len(), 3);
        assert!(!cal.is_working_day(date(2026, 2, 17)));
        assert!(cal.is_working_day(date(2024, 2, 17)));
        assert_eq!(cal.day(date(2026, 1, 1)).unwrap().name, "開國紀念日");
        assert_eq!(cal.day(date(2026, 1, 2)), None);
        let order: Vec<Date> = cal.iter().map(|(d, _)| d).collect();
        assert_eq!(
            order,
            vec![date(2024, 2, 17), date(2026, 1, 1), date(2026, 2, 17)]
        );
        let order2: Vec<Date> = (&cal).into_iter().map(|(d, _)| *d).collect();
        assert_eq!(order, order2);
        let old = cal.set(date(2026, 1, 1), Override::holiday("元旦"));
        assert_eq!(old, Some(Override::holiday("開國紀念日")));
        assert_eq!(
            cal.remove(date(2026, 2, 17)),
            Some(Override::holiday("春節"))
        );
        assert!(cal.is_working_day(date(2026, 2, 17)));
        assert_eq!(cal.remove(date(2026, 2, 17)), None);
    }

    #[test]
    fn make_up_saturday_is_a_working_day() {
        // ROC year 113: 2/8 (Thu, the day before New Year's Eve) made a holiday, 2/17 (Sat) a make-up working day.
        let csv = "西元日期,星期,是否放假,備註\n\
                   20240208,四,2,調整放假\n\
                   20240216,五,0,\n\
                   20240217,六,0,補行上班\n\
                   20240218,日,2,\n";
        let cal = WorkCalendar::from_csv(csv).unwrap();
        assert!(cal.is_working_day(date(2024, 2, 17)));
        assert!(!cal.is_working_day(date(2024, 2, 8)));
        assert_eq!(
            cal.day(date(2024, 2, 17)),
            Some(&Override::workday("補行上班"))
        );
        assert_eq!(cal.len(), 2);
        assert_eq!(
            cal.next_working_day(date(2024, 2, 16)),
            Ok(date(2024, 2, 17))
        );
        assert_eq!(
            cal.previous_working_day(date(2024, 2, 19)),
            Ok(date(2024, 2, 17))
        );
        // Friday's send is due on the make-up Saturday at 14:00.
        let saturday = date(2024, 2, 17);
        check_due(
            &cal,
            sender_due,
            14,
            &[(taipei(2024, 2, 16, 9, 0), saturday)],
        );
        check_due(
            &cal,
            receiver_due,
            10,
            &[(taipei(2024, 2, 16, 16, 0), saturday)],
        );
    }

    #[test]
    fn scanning_is_bounded() {
        // start+1 ..= start+366 are all non-working, start+367 is a working day.
        let start = date(2030, 1, 1);
        let mut cal = WorkCalendar::new();
        let mut d = start;
        for _ in 0..MAX_SCAN_DAYS {
            d = d.next_day().unwrap();
            cal.set(d, Override::holiday("停班"));
        }
        let working = d.next_day().unwrap();
        cal.set(working, Override::workday("上班"));
        assert_eq!(
            cal.next_working_day(start),
            Err(CalendarError::NoWorkingDay {
                from: start,
                days: MAX_SCAN_DAYS
            })
        );
        // 365 non-working days and then a working day: found.
        assert_eq!(cal.next_working_day(start.next_day().unwrap()), Ok(working));
        // Backwards: start is a working day 367 days before `working`.
        assert_eq!(
            cal.previous_working_day(working),
            Err(CalendarError::NoWorkingDay {
                from: working,
                days: MAX_SCAN_DAYS
            })
        );
        assert_eq!(cal.previous_working_day(d), Ok(start));
        assert!(sender_due(&cal, taipei(2030, 1, 1, 9, 0)).is_err());
        assert!(receiver_due(&cal, taipei(2030, 1, 1, 9, 0)).is_err());
        let msg = cal.next_working_day(start).unwrap_err().to_string();
        assert!(msg.contains("中華民國119年1月1日"), "{msg}");
        assert!(msg.contains("366"), "{msg}");
    }

    #[test]
    fn date_range_edges_do_not_panic() {
        let cal = WorkCalendar::new();
        assert!(matches!(
            cal.next_working_day(Date::MAX),
            Err(CalendarError::OutOfRange { .. })
        ));
        assert!(matches!(
            cal.previous_working_day(Date::MIN),
            Err(CalendarError::OutOfRange { .. })
        ));
        let late = OffsetDateTime::new_in_offset(Date::MAX, Time::MIDNIGHT, UtcOffset::UTC);
        assert!(sender_due(&cal, late).is_err());
        assert!(receiver_due(&cal, late).is_err());
        let early = OffsetDateTime::new_in_offset(Date::MIN, Time::MIDNIGHT, TAIPEI_OFFSET);
        // 9999-12-31 in -05:00 → Taipei would be year 10000.
        let beyond = OffsetDateTime::new_in_offset(
            Date::MAX,
            Time::from_hms(23, 0, 0).unwrap(),
            UtcOffset::from_hms(-5, 0, 0).unwrap(),
        );
        assert!(sender_due(&cal, beyond).is_err());
        assert!(sender_due(&cal, early).is_ok());
    }

    #[test]
    fn count_working_days_matches_day_by_day() {
        let mut cal = WorkCalendar::new();
        cal.set(date(2026, 3, 4), Override::holiday("x"));
        cal.set(date(2026, 3, 7), Override::workday("y"));
        cal.set(date(2026, 3, 8), Override::holiday("weekend holiday"));
        let start = date(2026, 2, 20);
        let mut end = start;
        for _ in 0..40 {
            let mut expected = 0;
            let mut d = start;
            while d <= end {
                expected += u32::from(cal.is_working_day(d));
                d = d.next_day().unwrap();
            }
            assert_eq!(cal.count_working_days(start, end), expected, "to {end}");
            end = end.next_day().unwrap();
        }
        assert_eq!(cal.count_working_days(end, start), 0);
    }

    #[test]
    fn roc_date_format() {
        assert_eq!(roc_date(date(2026, 1, 5)), "中華民國115年1月5日");
        assert_eq!(roc_date(date(2026, 12, 25)), "中華民國115年12月25日");
        assert_eq!(roc_date(date(1912, 1, 1)), "中華民國1年1月1日");
        assert_eq!(roc_date(date(1911, 10, 10)), "民國前1年10月10日");
    }

    // ---- Deadlines ----

    type Due = fn(&WorkCalendar, OffsetDateTime) -> Result<OffsetDateTime, CalendarError>;

    /// `due` of each time in `rows` is `hour`:00 in Taipei on the day beside it.
    fn check_due(cal: &WorkCalendar, due: Due, hour: u8, rows: &[(OffsetDateTime, Date)]) {
        for &(when, day) in rows {
            let want = day
                .with_hms(hour, 0, 0)
                .unwrap()
                .assume_offset(TAIPEI_OFFSET);
            assert_eq!(due(cal, when), Ok(want), "{when}");
        }
    }

    #[test]
    fn friday_send_is_due_monday_14() {
        let cal = WorkCalendar::new();
        // 2026-03-06 is a Friday.
        let due = sender_due(&cal, taipei(2026, 3, 6, 16, 30)).unwrap();
        assert_eq!(due, taipei(2026, 3, 9, 14, 0));
        assert_eq!(due.offset(), TAIPEI_OFFSET);
        assert_eq!(due.weekday(), Weekday::Monday);
        let rows = [
            // A UTC timestamp is converted to Taipei before taking the date:
            // Thu 2026-03-05 17:00 UTC = Fri 01:00 Taipei → Monday.
            (at(2026, 3, 5, 17, 0, 0), date(2026, 3, 9)),
            // Thu 15:59 UTC = Thu 23:59 Taipei → Friday.
            (at(2026, 3, 5, 15, 59, 0), date(2026, 3, 6)),
            // Weekend sends are due on Monday as well.
            (taipei(2026, 3, 8, 10, 0), date(2026, 3, 9)),
            // Sent on Monday before 14:00 is still due Tuesday (next working day).
            (taipei(2026, 3, 9, 8, 0), date(2026, 3, 10)),
        ];
        check_due(&cal, sender_due, 14, &rows);
    }

    #[test]
    fn receiver_due_is_next_working_day_10() {
        let rows = [
            (taipei(2026, 3, 4, 17, 45), date(2026, 3, 5)),
            (taipei(2026, 3, 6, 9, 0), date(2026, 3, 9)),
            // Arrived on Saturday → first morning check on Monday.
            (taipei(2026, 3, 7, 9, 0), date(2026, 3, 9)),
            // Sun 2026-03-08 20:00 UTC = Mon 04:00 Taipei → Tuesday 10:00.
            (at(2026, 3, 8, 20, 0, 0), date(2026, 3, 10)),
        ];
        check_due(&WorkCalendar::new(), receiver_due, 10, &rows);
    }

    #[test]
    fn send_before_lunar_new_year_is_due_after_it() {
        let cal = WorkCalendar::with_bundled().unwrap();
        // Fri 2026-02-13 is the last working day before the 9-day break (2/14–2/22).
        let friday = taipei(2026, 2, 13, 11, 0);
        let after = date(2026, 2, 23);
        // Sent during the break (除夕): due after it as well.
        let during = taipei(2026, 2, 16, 11, 0);
        check_due(&cal, sender_due, 14, &[(friday, after), (during, after)]);
        check_due(&cal, receiver_due, 10, &[(friday, after)]);
        assert_eq!(cal.previous_working_day(after), Ok(date(2026, 2, 13)));
        // Without the calendar, the same send would be due Monday 2/16.
        let plain = WorkCalendar::new();
        check_due(&plain, sender_due, 14, &[(friday, date(2026, 2, 16))]);
    }

    // ---- The bundled 2026 calendar ----

    #[test]
    fn bundled_2026_parses() {
        let mut cal = WorkCalendar::new();
        let summary = cal.import_csv(CALENDAR_2026_CSV).unwrap();
        assert_eq!(summary.format, CsvFormat::Simple);
        // 16 days and the row saying the year is complete.
        assert_eq!(summary.rows, 17);
        assert_eq!(summary.set, 16);
        assert!(cal.covers(2026));
        assert_eq!(cal, WorkCalendar::with_bundled().unwrap());
        assert!(
            cal.iter()
                .all(|(d, o)| d.year() == 2026 && !o.name.is_empty())
        );
    }

    #[test]
    fn bundled_2026_total_matches_source() {
        let cal = WorkCalendar::with_bundled().unwrap();
        let (first, last) = (date(2026, 1, 1), date(2026, 12, 31));
        // Source: 365 days in ROC year 115, 120 of them off.
        let working = cal.count_working_days(first, last);
        assert_eq!(365 - working, 120);
        assert_eq!(working, 245);
        // The source lists no make-up working day (補行上班) for 115年.
        assert!(cal.iter().all(|(_, o)| o.kind == DayKind::Holiday));
    }

    #[test]
    fn bundled_2026_working_days_per_month() {
        // Derived from the day-by-day open data for 115年 (the circular gives only the
        // yearly total); they add up to the circular's 245.
        let expected = [21, 14, 22, 20, 20, 21, 23, 21, 20, 20, 21, 22];
        assert_eq!(expected.iter().sum::<u32>(), 245);
        let cal = WorkCalendar::with_bundled().unwrap();
        for (i, want) in expected.iter().enumerate() {
            let month = time::Month::try_from(i as u8 + 1).unwrap();
            let first = Date::from_calendar_date(2026, month, 1).unwrap();
            let last = Date::from_calendar_date(2026, month, month.length(2026)).unwrap();
            assert_eq!(cal.count_working_days(first, last), *want, "{month}");
        }
    }

    #[test]
    fn bundled_2026_specific_days() {
        let cal = WorkCalendar::with_bundled().unwrap();
        let holidays: [(u8, &[u8]); 8] = [
            (1, &[1]),
            (2, &[16, 17, 18, 19, 20, 27]),
            (4, &[3, 6]),
            (5, &[1]),
            (6, &[19]),
            (9, &[25, 28]),
            (10, &[9, 26]),
            (12, &[25]),
        ];
        for (m, d) in holidays
            .iter()
            .flat_map(|(m, ds)| ds.iter().map(move |d| (*m, *d)))
        {
            let day = date(2026, m, d);
            assert!(is_weekday(day), "{day} should be a weekday");
            assert!(!cal.is_working_day(day), "{day} should be a holiday");
        }
        for (m, d) in [(1, 2), (2, 13), (2, 23), (4, 2), (4, 7), (9, 29), (10, 27)] {
            assert!(cal.is_working_day(date(2026, m, d)), "{m}/{d}");
        }
        assert_eq!(
            cal.day(date(2026, 9, 28)).unwrap().name,
            "孔子誕辰紀念日/教師節"
        );
        assert_eq!(cal.day(date(2026, 5, 1)).unwrap().name, "勞動節");
    }

    // ---- CSV import ----

    #[test]
    fn official_format_with_bom_crlf_quotes_and_blank_lines() {
        let csv = "\u{feff}西元日期,星期,是否放假,備註\r\n\
                   20260101,四,2,\"開國紀念日\"\r\n\
                   20260102,五,0,\r\n\
                   20260103,六,2,\r\n\
                   \"20260215\",\"日\",\"2\",\"小年夜, 除夕前一日\"\r\n\
                   20260216,一,2,\"農曆\"\"除夕\"\"\"\r\n\
                   20260220,五,2,\"補假\r\n（除夕前一日）\"\r\n\
                   20260307, 星期六 , 0 ,補行上班\r\n\
                   20260309,一,2,\r\n\
                   \r\n\
                   \r\n";
        let mut cal = WorkCalendar::new();
        let summary = cal.import_csv(csv).unwrap();
        assert_eq!(summary.format, CsvFormat::Official);
        assert_eq!(summary.rows, 8);
        assert_eq!(summary.set, 5);
        // Only differences from the weekday rule are kept.
        let dates: Vec<Date> = cal.iter().map(|(d, _)| d).collect();
        assert_eq!(
            dates,
            vec![
                date(2026, 1, 1),
                date(2026, 2, 16),
                date(2026, 2, 20),
                date(2026, 3, 7),
                date(2026, 3, 9)
            ]
        );
        for (day, want) in [
            (date(2026, 1, 1), Override::holiday("開國紀念日")),
            (date(2026, 2, 16), Override::holiday("農曆\"除夕\"")),
            (date(2026, 2, 20), Override::holiday("補假\n（除夕前一日）")),
            (date(2026, 3, 7), Override::workday("補行上班")),
            // A blank 備註 gets the default name.
            (date(2026, 3, 9), Override::holiday("放假")),
        ] {
            assert_eq!(cal.day(day), Some(&want), "{day}");
        }
        assert!(cal.is_working_day(date(2026, 3, 7)));
        assert!(!cal.is_working_day(date(2026, 3, 9)));
    }

    #[test]
    fn official_format_lf_without_trailing_newline_and_empty_weekday() {
        let csv = "西元日期,星期,是否放假,備註\n20261225,,2,行憲紀念日";
        let cal = WorkCalendar::from_csv(csv).unwrap();
        assert_eq!(
            cal.day(date(2026, 12, 25)),
            Some(&Override::holiday("行憲紀念日"))
        );
        // Old-Mac CR-only line endings and trailing empty columns.
        let csv = "西元日期,星期,是否放假,備註,,\r20261225,週五,2,行憲紀念日,,\r";
        let cal = WorkCalendar::from_csv(csv).unwrap();
        assert_eq!(cal.len(), 1);
    }

    #[test]
    fn official_regular_day_clears_existing_override() {
        let mut cal = WorkCalendar::new();
        cal.set(date(2026, 1, 2), Override::holiday("舊資料"));
        cal.set(date(2026, 1, 3), Override::workday("舊資料"));
        let summary = cal
            .import_csv("西元日期,星期,是否放假,備註\n20260102,五,0,\n20260103,六,2,\n")
            .unwrap();
        assert_eq!(summary.cleared, 2);
        assert!(cal.is_empty());
    }

    #[test]
    fn simple_format_and_merge_later_entries_win() {
        let mut cal = WorkCalendar::new();
        cal.set(date(2026, 2, 16), Override::holiday("舊名稱"));
        cal.set(date(2026, 3, 3), Override::holiday("保留"));
        let csv = "Date, Kind, Name\n\
                   2026-02-16,holiday,春節\n\
                   2026-01-31,workday,補行上班\n\
                   2026-04-01,HOLIDAY,\n\
                   2026-04-01,holiday,後者優先\n";
        let summary = cal.import_csv(csv).unwrap();
        assert_eq!(summary.format, CsvFormat::Simple);
        assert_eq!(summary.rows, 4);
        assert_eq!(cal.day(date(2026, 2, 16)), Some(&Override::holiday("春節")));
        assert_eq!(
            cal.day(date(2026, 1, 31)),
            Some(&Override::workday("補行上班"))
        );
        assert_eq!(
            cal.day(date(2026, 4, 1)),
            Some(&Override::holiday("後者優先"))
        );
        assert_eq!(cal.day(date(2026, 3, 3)), Some(&Override::holiday("保留")));
        assert!(cal.is_working_day(date(2026, 1, 31)));
    }

    #[test]
    fn export_import_round_trip() {
        let mut cal = WorkCalendar::with_bundled().unwrap();
        cal.set(date(2024, 2, 17), Override::workday("補行上班"));
        cal.set(date(2026, 7, 1), Override::holiday("名稱, 含逗號"));
        cal.set(date(2026, 7, 2), Override::holiday("含\"引號\""));
        cal.set(date(2026, 7, 3), Override::holiday("兩行\n名稱"));
        cal.set(date(2026, 7, 6), Override::holiday("  前後空白 "));
        cal.set(date(1, 1, 1), Override::holiday("西元1年"));
        let csv = cal.to_csv();
        assert!(csv.starts_with("date,kind,name\n0001-01-01,holiday,西元1年\n"));
        assert!(csv.contains("2024-02-17,workday,補行上班\n"));
        assert!(csv.contains("2026-07-01,holiday,\"名稱, 含逗號\"\n"));
        let back = WorkCalendar::from_csv(&csv).unwrap();
        assert_eq!(back, cal);
        // And once more: export is stable.
        assert_eq!(back.to_csv(), csv);
        // An empty calendar exports just the header and imports as empty.
        let empty = WorkCalendar::new().to_csv();
        assert_eq!(empty, "date,kind,name\n");
        assert!(WorkCalendar::from_csv(&empty).unwrap().is_empty());
    }

    // ---- CSV errors ----

    fn import_err(csv: &str) -> ImportError {
        let mut cal = WorkCalendar::with_bundled().unwrap();
        let before = cal.clone();
        let err = cal.import_csv(csv).unwrap_err();
        assert_eq!(cal, before, "a failed import must not change the calendar");
        err
    }

    #[test]
    fn error_bad_date() {
        let mut csv = String::from("西元日期,星期,是否放假,備註\n");
        for day in 1..=10 {
            csv.push_str(&format!(
                "202601{day:02},{},0,\n",
                weekday_zh(date(2026, 1, day).weekday())
            ));
        }
        csv.push_str("2026133,四,2,\n");
        let err = import_err(&csv);
        assert_eq!(
            err,
            ImportError::BadDate {
                line: 12,
                value: "2026133".into()
            }
        );
        assert_eq!(err.to_string(), "第 12 行：日期「2026133」不是有效的日期");
        assert_eq!(err.line(), Some(12));

        let official = ["20260230", "20261301", "2026011a", "２０２６０１０１", ""]
            .map(|bad| format!("西元日期,星期,是否放假,備註\n{bad},四,2,\n"));
        let simple = [
            "2026-02-30",
            "2026/02/01",
            "20260201",
            "2026-2-1",
            "+026-01-01",
        ]
        .map(|bad| format!("date,kind,name\n{bad},holiday,x\n"));
        for csv in official.iter().chain(&simple) {
            let err = import_err(csv);
            assert!(
                matches!(err, ImportError::BadDate { line: 2, .. }),
                "{csv}: {err:?}"
            );
        }
    }

    #[test]
    fn error_bad_kind() {
        let err = import_err("date,kind,name\n2026-01-01,holiday,a\n2026-01-02,vacation,b\n");
        assert_eq!(
            err,
            ImportError::BadKind {
                line: 3,
                value: "vacation".into()
            }
        );
        assert!(err.to_string().starts_with("第 3 行：種類「vacation」"));
    }

    #[test]
    fn error_bad_flag_and_weekday() {
        let err = import_err("西元日期,星期,是否放假,備註\n20260101,四,1,\n");
        assert_eq!(
            err,
            ImportError::BadFlag {
                line: 2,
                value: "1".into()
            }
        );
        assert!(err.to_string().contains("是否放假「1」"));
        let err = import_err("西元日期,星期,是否放假,備註\n20260101,五,2,\n");
        assert_eq!(
            err,
            ImportError::BadWeekday {
                line: 2,
                value: "五".into(),
                expected: "四"
            }
        );
        assert_eq!(err.to_string(), "第 2 行：星期「五」與日期不符，應為「四」");
    }

    #[test]
    fn error_bad_header() {
        for csv in [
            "日期,星期,是否放假,備註\n20260101,四,2,\n",
            "date,kind\n",
            "date,kind,name,extra\n",
            "西元日期,星期,是否放假\n",
        ] {
            let err = import_err(csv);
            assert!(
                matches!(err, ImportError::BadHeader { line: 1, .. }),
                "{csv}: {err:?}"
            );
            assert!(err.to_string().starts_with("第 1 行：無法辨識的標題列"));
        }
        // The header is the first non-blank line.
        let err = import_err("\n\nfoo\n");
        assert!(
            matches!(err, ImportError::BadHeader { line: 3, .. }),
            "{err:?}"
        );
        assert_eq!(import_err(""), ImportError::Empty);
        assert_eq!(import_err("\u{feff}\r\n\r\n"), ImportError::Empty);
        assert_eq!(import_err("\u{feff}"), ImportError::Empty);
    }

    #[test]
    fn error_field_count() {
        let wide = format!("date,kind,name\n2026-01-01,holiday,a{}\n", ",".repeat(100));
        for (csv, expected, found) in [
            ("date,kind,name\n2026-01-01\n", 3, 1),
            ("date,kind,name\n2026-01-01,holiday,a,b\n", 3, 4),
            (&wide, 3, 103),
            ("西元日期,星期,是否放假,備註\n20260101,四\n", 4, 2),
        ] {
            let err = import_err(csv);
            let want = ImportError::FieldCount {
                line: 2,
                expected,
                found,
            };
            assert_eq!(err, want, "{csv}");
        }
        let err = import_err("西元日期,星期,是否放假,備註\n20260101,四\n");
        assert!(err.to_string().contains("應有 4 個欄位，實際有 2 個"));
    }

    #[test]
    fn error_quotes() {
        let err =
            import_err("date,kind,name\n2026-01-01,holiday,a\n2026-01-02,holiday,\"沒有結束\n\n");
        assert_eq!(err, ImportError::UnterminatedQuote { line: 3 });
        let err = import_err("date,kind,name\n2026-01-01,holiday,a\"b\n");
        assert_eq!(err, ImportError::StrayQuote { line: 2 });
        let err = import_err("date,kind,name\n2026-01-01,holiday,\"a\"b\n");
        assert_eq!(err, ImportError::StrayQuote { line: 2 });
        // Line numbers count the lines inside a multi-line quoted field.
        let err = import_err("date,kind,name\n2026-01-01,holiday,\"a\nb\"\n2026-01-02,bad,x\n");
        assert!(
            matches!(err, ImportError::BadKind { line: 4, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn error_name_too_long() {
        let name = "長".repeat(MAX_NAME_CHARS + 1);
        let err = import_err(&format!("date,kind,name\n2026-01-01,holiday,{name}\n"));
        assert_eq!(
            err,
            ImportError::NameTooLong {
                line: 2,
                chars: MAX_NAME_CHARS + 1,
                limit: MAX_NAME_CHARS
            }
        );
    }

    #[test]
    fn error_too_big() {
        let mut big = String::from("date,kind,name\n");
        while big.len() <= MAX_IMPORT_BYTES {
            big.push_str("2026-01-01,holiday,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
        }
        let err = import_err(&big);
        assert!(matches!(
            err,
            ImportError::TooLarge {
                limit: MAX_IMPORT_BYTES,
                ..
            }
        ));
        assert!(err.to_string().contains("超過上限"));
        let mut cal = WorkCalendar::new();
        assert!(matches!(
            cal.import_csv_bytes(big.as_bytes()),
            Err(ImportError::TooLarge { .. })
        ));

        // Exactly MAX_IMPORT_LINES lines is fine, one more is refused.
        let mut lines = String::from("date,kind,name\n");
        lines.push_str(&"\n".repeat(MAX_IMPORT_LINES - 1));
        assert!(WorkCalendar::from_csv(&lines).unwrap().is_empty());
        lines.push('x');
        assert_eq!(
            import_err(&lines),
            ImportError::TooManyLines {
                limit: MAX_IMPORT_LINES
            }
        );
        assert_eq!(
            import_err(&"\r".repeat(MAX_IMPORT_LINES + 1)),
            ImportError::TooManyLines {
                limit: MAX_IMPORT_LINES
            }
        );
    }

    #[test]
    fn error_not_utf8() {
        // 「西元日期」 in Big5 is not valid UTF-8.
        let mut bytes = b"date,kind,name\n2026-01-01,holiday,".to_vec();
        bytes.extend_from_slice(&[0xA6, 0xE8, 0xA4, 0xB8]);
        bytes.push(b'\n');
        let mut cal = WorkCalendar::new();
        let err = cal.import_csv_bytes(&bytes).unwrap_err();
        assert_eq!(err, ImportError::NotUtf8 { line: 2 });
        assert!(err.to_string().contains("UTF-8"));
        assert!(cal.is_empty());
        let ok = cal.import_csv_bytes(CALENDAR_2026_CSV.as_bytes()).unwrap();
        assert_eq!(ok.rows, 17);
    }

    #[test]
    fn error_values_are_truncated_and_sanitized() {
        let value = format!("\u{7}{}", "x".repeat(100));
        let err = import_err(&format!("date,kind,name\n2026-01-01,{value},n\n"));
        match err {
            ImportError::BadKind { value, .. } => {
                assert_eq!(value.chars().count(), MAX_QUOTED_CHARS + 1);
                assert!(value.starts_with('?'));
                assert!(value.ends_with('…'));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Deterministic pseudo-random inputs built from CSV-significant pieces: import must
    /// return Ok or Err, never panic.
    #[test]
    fn import_never_panics() {
        let pieces = [
            "西元日期,星期,是否放假,備註\n",
            "date,kind,name\n",
            "\u{feff}",
            ",",
            "\"",
            "\"\"",
            "\r",
            "\n",
            "\r\n",
            " ",
            "2026",
            "20260101",
            "2026-01-01",
            "-",
            "0",
            "2",
            "四",
            "星期",
            "holiday",
            "workday",
            "é",
            "\u{0}",
            "99999999",
            "0000-00-00",
        ];
        let mut state: u64 = 0x2026_0101;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        for _ in 0..3000 {
            let mut text = String::new();
            let header = next() % 3;
            if header < 2 {
                text.push_str(pieces[header]);
            }
            for _ in 0..next() % 40 {
                text.push_str(pieces[next() % pieces.len()]);
            }
            let mut cal = WorkCalendar::new();
            let _ = cal.import_csv(&text);
            let mut bytes = text.into_bytes();
            if !bytes.is_empty() {
                let i = next() % bytes.len();
                bytes[i] = (next() % 256) as u8;
            }
            let _ = cal.import_csv_bytes(&bytes);
            let _ = WorkCalendar::check_official(&bytes);
        }
    }
}
