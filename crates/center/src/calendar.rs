//! 政府行政機關辦公日曆（government office calendar）與公文電子交換的時限計算。
//!
//! * [`WorkCalendar`]：預設星期一至星期五上班、星期六日放假；個別日期可設定
//!   放假（[`DayKind::Holiday`]）或補行上班（[`DayKind::Workday`]）。
//! * CSV 匯入（自動辨識兩種格式）與匯出：
//!   - 行政院人事行政總處在政府資料開放平臺公布的「中華民國政府行政機關辦公日曆表」：
//!     標題列 `西元日期,星期,是否放假,備註`，例如 `20260101,四,2,開國紀念日`。
//!   - 本系統的簡易格式：標題列 `date,kind,name`，例如 `2026-02-16,holiday,農曆除夕`。
//! * [`CALENDAR_2026_CSV`]：內建的中華民國115年（2026年）辦公日曆。
//! * [`sender_due`] / [`receiver_due`]：依「臺北市政府公文電子交換作業要點」
//!   第十二點、第十三點計算發文與收文的檢查時限（臺灣時間 UTC+8，無日光節約時間）。
//!
//! 迴圈一律有上限：尋找上班日時最多往前或往後看 [`MAX_SCAN_DAYS`] 日，
//! 找不到就回傳 [`CalendarError::NoWorkingDay`]，不會無窮迴圈，也不會 panic。

use std::collections::BTreeMap;
use std::fmt;

use gongwen_proto::csv::{self, Record};
use time::{Date, Month, OffsetDateTime, Time, UtcOffset, Weekday};

/// 臺灣時間（Asia/Taipei）：固定 UTC+8，臺灣自 1980 年起未實施日光節約時間。
pub const TAIPEI_OFFSET: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+8 is a valid offset"),
};

/// 發文檢查時限的時刻：次一工作日下午二時（要點第十二點第二款）。
pub const SENDER_DUE_TIME: Time = match Time::from_hms(14, 0, 0) {
    Ok(t) => t,
    Err(_) => panic!("14:00 is a valid time"),
};

/// 收文檢核時限的時刻：上午十時（要點第十三點第二款）。
pub const RECEIVER_DUE_TIME: Time = match Time::from_hms(10, 0, 0) {
    Ok(t) => t,
    Err(_) => panic!("10:00 is a valid time"),
};

/// 尋找上一個或下一個上班日時最多檢查的日數。連續這麼多日都不是上班日時，
/// [`WorkCalendar::next_working_day`] 與 [`WorkCalendar::previous_working_day`]
/// 回傳 [`CalendarError::NoWorkingDay`]。
pub const MAX_SCAN_DAYS: u16 = 366;

/// 匯入檔案大小上限（位元組）。
pub const MAX_IMPORT_BYTES: usize = 1024 * 1024;

/// 匯入檔案行數上限（含標題列；檔尾換行不另計一行）。
pub const MAX_IMPORT_LINES: usize = 10_000;

/// 名稱（備註）長度上限（字元數）。
pub const MAX_NAME_CHARS: usize = 100;

/// 一列最多的欄位數；超過即視為欄位數錯誤，避免異常輸入占用大量記憶體。
const MAX_FIELDS: usize = 16;

/// 錯誤訊息中引用輸入值時最多顯示的字元數。
const MAX_QUOTED_CHARS: usize = 40;

const OFFICIAL_HEADER: [&str; 4] = ["西元日期", "星期", "是否放假", "備註"];
const SIMPLE_HEADER: [&str; 3] = ["date", "kind", "name"];

// ---------------------------------------------------------------------------
// 日曆
// ---------------------------------------------------------------------------

/// 特定日期相對於預設規則（週一至週五上班）的調整種類。
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayKind {
    /// 放假。
    Holiday,
    /// 補行上班（或其他調整為上班的日子）。
    Workday,
}

impl DayKind {
    /// 簡易 CSV 格式中的寫法：`holiday` 或 `workday`。
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    /// 中文名稱：「放假」或「補行上班」；名稱空白時也用作預設名稱。
    pub fn label_zh(self) -> &'static str {
        match self {
            DayKind::Holiday => "放假",
            DayKind::Workday => "補行上班",
        }
    }

    /// 這種日子是否上班。
    pub fn is_working(self) -> bool {
        matches!(self, DayKind::Workday)
    }
}

/// 某一日期的調整：種類與名稱（例如「春節」、「補行上班」）。
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Override {
    pub kind: DayKind,
    pub name: String,
}

impl Override {
    /// 放假日，例如 `Override::holiday("春節")`。
    pub fn holiday(name: impl Into<String>) -> Self {
        Override {
            kind: DayKind::Holiday,
            name: name.into(),
        }
    }

    /// 補行上班日，例如 `Override::workday("補行上班")`。
    pub fn workday(name: impl Into<String>) -> Self {
        Override {
            kind: DayKind::Workday,
            name: name.into(),
        }
    }
}

/// 日曆運算錯誤。
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarError {
    /// 自 `from` 起（不含）連續 `days` 日都不是上班日。
    NoWorkingDay { from: Date, days: u16 },
    /// 日期或時間超出可表示的範圍（西元 -9999 年至 9999 年）。
    OutOfRange { date: Date },
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
        }
    }
}

impl std::error::Error for CalendarError {}

/// 政府行政機關辦公日曆。
///
/// 預設規則：星期一至星期五上班，星期六、星期日放假。個別日期的調整以
/// [`Override`] 記錄，依日期排序保存。
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    overrides: BTreeMap<Date, Override>,
}

impl WorkCalendar {
    /// 只有預設規則（週一至週五上班）、沒有任何調整的日曆。
    pub fn new() -> Self {
        Self::default()
    }

    /// 載入內建的 [`CALENDAR_2026_CSV`]（中華民國115年）。
    pub fn with_bundled() -> Self {
        let mut calendar = Self::new();
        // 內建資料是固定字串，單元測試 `bundled_2026_*` 確認它一定能匯入。
        calendar
            .import_csv(CALENDAR_2026_CSV)
            .expect("bundled calendar CSV is valid (checked by unit tests)");
        calendar
    }

    /// 從 CSV 文字建立日曆（格式自動辨識，見 [`WorkCalendar::import_csv`]）。
    pub fn from_csv(text: &str) -> Result<Self, ImportError> {
        let mut calendar = Self::new();
        calendar.import_csv(text)?;
        Ok(calendar)
    }

    /// 該日是否上班：有調整依調整，否則星期一至星期五上班。
    pub fn is_working_day(&self, date: Date) -> bool {
        match self.overrides.get(&date) {
            Some(o) => o.kind.is_working(),
            None => is_weekday(date),
        }
    }

    /// `date` 之後（不含當日）的第一個上班日。
    ///
    /// 最多檢查 [`MAX_SCAN_DAYS`] 日；都不是上班日時回傳
    /// [`CalendarError::NoWorkingDay`]，超出日期範圍時回傳 [`CalendarError::OutOfRange`]。
    pub fn next_working_day(&self, date: Date) -> Result<Date, CalendarError> {
        self.scan(date, true)
    }

    /// `date` 之前（不含當日）的最後一個上班日；上限與錯誤同 [`WorkCalendar::next_working_day`]。
    pub fn previous_working_day(&self, date: Date) -> Result<Date, CalendarError> {
        self.scan(date, false)
    }

    fn scan(&self, from: Date, forward: bool) -> Result<Date, CalendarError> {
        let mut day = from;
        for _ in 0..MAX_SCAN_DAYS {
            let step = if forward {
                day.next_day()
            } else {
                day.previous_day()
            };
            day = step.ok_or(CalendarError::OutOfRange { date: from })?;
            if self.is_working_day(day) {
                return Ok(day);
            }
        }
        Err(CalendarError::NoWorkingDay {
            from,
            days: MAX_SCAN_DAYS,
        })
    }

    /// 該日的調整（沒有調整時為 `None`，即依預設規則）。
    pub fn day(&self, date: Date) -> Option<&Override> {
        self.overrides.get(&date)
    }

    /// 設定該日的調整，回傳原有的調整。
    pub fn set(&mut self, date: Date, entry: Override) -> Option<Override> {
        self.overrides.insert(date, entry)
    }

    /// 移除該日的調整（回復預設規則），回傳原有的調整。
    pub fn remove(&mut self, date: Date) -> Option<Override> {
        self.overrides.remove(&date)
    }

    /// 依日期排序列出所有調整。
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (Date, &Override)> + '_ {
        self.overrides.iter().map(|(d, o)| (*d, o))
    }

    /// 調整的筆數。
    pub fn len(&self) -> usize {
        self.overrides.len()
    }

    /// 是否沒有任何調整。
    pub fn is_empty(&self) -> bool {
        self.overrides.is_empty()
    }

    /// `from` 至 `to`（兩端皆含）之間的上班日數；`from > to` 時為 0。
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

    /// 匯入 CSV 並合併到本日曆（後出現者優先）。格式依標題列自動辨識：
    ///
    /// * `西元日期,星期,是否放假,備註`（政府資料開放平臺格式）：`是否放假` 為 `2`
    ///   表示放假、`0` 表示上班。只有與預設規則不同的日子會成為調整（週六日標 `0`
    ///   為補行上班，週一至週五標 `2` 為放假）；與預設規則相同的日子則移除該日原有的
    ///   調整，因為官方日曆表逐日列出，以它為準。`星期` 欄可空白，有填則須與日期相符。
    /// * `date,kind,name`（本系統格式）：`kind` 為 `holiday` 或 `workday`。
    ///
    /// 名稱（備註）空白時使用 [`DayKind::label_zh`]。接受 UTF-8 BOM、CRLF/LF/CR 換行、
    /// 含逗號、引號或換行的引號欄位、空白列。檔案超過 [`MAX_IMPORT_BYTES`] 位元組或
    /// [`MAX_IMPORT_LINES`] 行即拒絕。匯入是全有或全無：任何一列有錯，日曆維持不變。
    pub fn import_csv(&mut self, text: &str) -> Result<ImportSummary, ImportError> {
        if text.len() > MAX_IMPORT_BYTES {
            return Err(ImportError::TooLarge {
                bytes: text.len(),
                limit: MAX_IMPORT_BYTES,
            });
        }
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
        for (date, change) in changes {
            match change {
                Some(entry) => {
                    self.overrides.insert(date, entry);
                    summary.set += 1;
                }
                None => {
                    if self.overrides.remove(&date).is_some() {
                        summary.cleared += 1;
                    }
                }
            }
        }
        Ok(summary)
    }

    /// 同 [`WorkCalendar::import_csv`]，但接受位元組；不是 UTF-8 時回傳
    /// [`ImportError::NotUtf8`]（政府資料開放平臺的檔案常是 Big5，須先轉存為 UTF-8）。
    pub fn import_csv_bytes(&mut self, bytes: &[u8]) -> Result<ImportSummary, ImportError> {
        if bytes.len() > MAX_IMPORT_BYTES {
            return Err(ImportError::TooLarge {
                bytes: bytes.len(),
                limit: MAX_IMPORT_BYTES,
            });
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => self.import_csv(text),
            Err(e) => {
                let before = &bytes[..e.valid_up_to()];
                let line = 1 + before.iter().filter(|b| **b == b'\n').count();
                Err(ImportError::NotUtf8 { line })
            }
        }
    }

    /// 以簡易格式（`date,kind,name`，LF 換行）匯出所有調整，可再由
    /// [`WorkCalendar::import_csv`] 匯入得到相同的日曆。例外：名稱空白者匯入時會補上預設名稱；
    /// 西元前（負數年份）的日期無法以 `YYYY-MM-DD` 表示，匯入時會被拒絕。
    pub fn to_csv(&self) -> String {
        let mut out = String::from("date,kind,name\n");
        for (date, entry) in &self.overrides {
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

fn is_weekday(date: Date) -> bool {
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn weekday_zh(weekday: Weekday) -> &'static str {
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

/// 以民國紀年格式化日期，例如 2026-01-05 → 「中華民國115年1月5日」。
/// 民國元年寫作「中華民國1年」；1912 年以前寫作「民國前N年」。
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
// 時限
// ---------------------------------------------------------------------------

fn taipei_date(at: OffsetDateTime) -> Result<Date, CalendarError> {
    at.checked_to_offset(TAIPEI_OFFSET)
        .map(OffsetDateTime::date)
        .ok_or(CalendarError::OutOfRange { date: at.date() })
}

/// 發文後的檢查時限。
///
/// 臺北市政府公文電子交換作業要點第十二點第二款：「每次發文後應檢查發送結果，
/// 至遲應於次一工作日下午二時前，查詢或列印受文者未確認清單或被退文清單，並隨即補發紙本公文。」
///
/// 以臺灣時間取 `sent_at` 的日期，回傳其後第一個上班日 14:00（UTC+8）。在非上班日發文者，
/// 同樣是其後第一個上班日。回傳的是「之前」須完成的時刻：到達該時刻即已逾時。
/// 依第十四點，連線用戶（非本府機關）不適用本點。
pub fn sender_due(
    calendar: &WorkCalendar,
    sent_at: OffsetDateTime,
) -> Result<OffsetDateTime, CalendarError> {
    let day = taipei_date(sent_at)?;
    let due = calendar.next_working_day(day)?;
    Ok(OffsetDateTime::new_in_offset(
        due,
        SENDER_DUE_TIME,
        TAIPEI_OFFSET,
    ))
}

/// 收文的檢核時限。
///
/// 同要點第十三點第二款：「電子收文人員應於每日上午十時前，完成前一工作日電子公文收文處理結果
/// 檢核作業，如有未完成收文處理程序者，應通知發文機關或為必要之處理。」
///
/// 以臺灣時間取 `available_at` 的日期，回傳其後第一個上班日 10:00（UTC+8）：某上班日收到的
/// 公文，在次一上班日上午十時前完成檢核。要點只說「前一工作日」，未明定週末或假日送達者；
/// 這裡採較早的解讀：假日送達者於其後第一個上班日的上午十時檢核（該次是送達後的第一次檢核）。
/// 依第十四點，連線用戶不適用本點。
pub fn receiver_due(
    calendar: &WorkCalendar,
    available_at: OffsetDateTime,
) -> Result<OffsetDateTime, CalendarError> {
    let day = taipei_date(available_at)?;
    let due = calendar.next_working_day(day)?;
    Ok(OffsetDateTime::new_in_offset(
        due,
        RECEIVER_DUE_TIME,
        TAIPEI_OFFSET,
    ))
}

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

/// 匯入的 CSV 格式。
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvFormat {
    /// 政府資料開放平臺格式：`西元日期,星期,是否放假,備註`。
    Official,
    /// 本系統格式：`date,kind,name`。
    Simple,
}

/// 匯入結果。
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// 辨識出的格式。
    pub format: CsvFormat,
    /// 資料列數（不含標題列與空白列）。
    pub rows: usize,
    /// 設定（新增或取代）的調整筆數。
    pub set: usize,
    /// 因官方格式標示為一般日而移除的原有調整筆數。
    pub cleared: usize,
}

/// CSV 匯入錯誤；`line` 是從 1 起算的行號（標題列為第 1 行），欄位跨行時為該列的起始行。
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// 檔案超過大小上限。
    TooLarge { bytes: usize, limit: usize },
    /// 檔案超過行數上限。
    TooManyLines { limit: usize },
    /// 檔案不是 UTF-8；`line` 為第一個無效位元組所在行。
    NotUtf8 { line: usize },
    /// 檔案沒有任何內容（找不到標題列）。
    Empty,
    /// 無法辨識的標題列。
    BadHeader { line: usize, found: String },
    /// 欄位數不符。
    FieldCount {
        line: usize,
        expected: usize,
        found: usize,
    },
    /// 引號欄位直到檔尾都沒有結束。
    UnterminatedQuote { line: usize },
    /// 引號出現在欄位中間，或結束引號後還有其他字元。
    StrayQuote { line: usize },
    /// 日期不是有效的日期（或格式不對）。
    BadDate { line: usize, value: String },
    /// 星期欄不是有效的星期，或與日期不符；`expected` 為該日期實際的星期。
    BadWeekday {
        line: usize,
        value: String,
        expected: &'static str,
    },
    /// 是否放假欄不是 0 或 2。
    BadFlag { line: usize, value: String },
    /// 種類欄不是 holiday 或 workday。
    BadKind { line: usize, value: String },
    /// 名稱過長。
    NameTooLong {
        line: usize,
        chars: usize,
        limit: usize,
    },
}

impl ImportError {
    /// 錯誤所在行號（與整個檔案有關的錯誤為 `None`）。
    pub fn line(&self) -> Option<usize> {
        match self {
            ImportError::TooLarge { .. }
            | ImportError::TooManyLines { .. }
            | ImportError::Empty => None,
            ImportError::NotUtf8 { line }
            | ImportError::BadHeader { line, .. }
            | ImportError::FieldCount { line, .. }
            | ImportError::UnterminatedQuote { line }
            | ImportError::StrayQuote { line }
            | ImportError::BadDate { line, .. }
            | ImportError::BadWeekday { line, .. }
            | ImportError::BadFlag { line, .. }
            | ImportError::BadKind { line, .. }
            | ImportError::NameTooLong { line, .. } => Some(*line),
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
        }
    }
}

impl std::error::Error for ImportError {}

/// 錯誤訊息中引用的輸入值：截短並把控制字元換成「?」。
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

/// 欄位數須介於 `min` 與 `max` 之間；多出來的欄位若都是空白則容許（試算表常見）。
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
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
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

/// 政府資料開放平臺格式的一列；與預設規則相同的日子回傳 `None`（移除原有調整）。
fn parse_official_row(record: &Record) -> Result<(Date, Option<Override>), ImportError> {
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
    let name = parse_name(record, 3, kind)?;
    if kind.is_working() == is_weekday(date) {
        Ok((date, None))
    } else {
        Ok((date, Some(Override { kind, name })))
    }
}

/// 本系統格式的一列。
fn parse_simple_row(record: &Record) -> Result<(Date, Option<Override>), ImportError> {
    check_fields(record, 2, 3)?;
    let line = record.line;
    let raw_date = record.field(0);
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
    Ok((date, Some(Override { kind, name })))
}

// ---------------------------------------------------------------------------
// 內建 2026（中華民國115年）辦公日曆
// ---------------------------------------------------------------------------

/// 中華民國115年（2026年）政府行政機關辦公日曆，只列出與預設規則（週一至週五上班）不同的日子。
///
/// 來源：行政院114年6月13日院授人培字第11430248312號函「中華民國115年（西元2026年）
/// 政府行政機關辦公日曆表」（各機關學校轉知公告的函文說明：全年365日，總放假日數120日，
/// 即上班日245日；本年沒有補行上班日），並逐日與政府資料開放平臺「中華民國政府行政機關
/// 辦公日曆表」115年資料（GitHub ruyut/TaiwanCalendar 的 data/2026.json 轉存）比對一致。
/// 放假日逢星期六於前一上班日補假、逢星期日於次一上班日補假（行政院114年6月13日修正之
/// 「政府機關配合紀念日與節日補假及調整放假處理要點」第3點）。
///
/// 落在週末的放假日（2/14–15、2/21–22 春節連假的週末，除夕前一日 2/15、和平紀念日 2/28、
/// 兒童節 4/4、民族掃墓節 4/5、國慶日 10/10、臺灣光復暨金門古寧頭大捷紀念日 10/25）
/// 依預設規則本來就不上班，不另列。
pub const CALENDAR_2026_CSV: &str = concat!(
    "date,kind,name\n",
    // 開國紀念日（星期四）。
    "2026-01-01,holiday,開國紀念日\n",
    // 除夕及春節連續9日假期 2/14（六）至 2/22（日）。
    "2026-02-16,holiday,農曆除夕\n",
    "2026-02-17,holiday,春節\n",
    "2026-02-18,holiday,春節\n",
    "2026-02-19,holiday,春節\n",
    // 除夕前一日（2/15，星期日）於初四補假。
    "2026-02-20,holiday,補假（除夕前一日）\n",
    // 和平紀念日 2/28 逢星期六。
    "2026-02-27,holiday,補假（和平紀念日）\n",
    // 兒童節 4/4 逢星期六、民族掃墓節（清明）4/5 逢星期日：連續4日假期。
    "2026-04-03,holiday,補假（兒童節）\n",
    "2026-04-06,holiday,補假（民族掃墓節）\n",
    // 勞動節（星期五）：2025年修法後全體放假。
    "2026-05-01,holiday,勞動節\n",
    // 端午節（農曆五月初五，星期五）。
    "2026-06-19,holiday,端午節\n",
    // 中秋節（農曆八月十五，星期五）與教師節（星期一）併同週末形成4日連假。
    "2026-09-25,holiday,中秋節\n",
    "2026-09-28,holiday,孔子誕辰紀念日/教師節\n",
    // 國慶日 10/10 逢星期六。
    "2026-10-09,holiday,補假（國慶日）\n",
    // 臺灣光復暨金門古寧頭大捷紀念日 10/25 逢星期日。
    "2026-10-26,holiday,補假（臺灣光復暨金門古寧頭大捷紀念日）\n",
    // 行憲紀念日（星期五）。
    "2026-12-25,holiday,行憲紀念日\n",
);

// ---------------------------------------------------------------------------
// 測試
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
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

    // ---- 預設規則與調整 ----

    #[test]
    fn weekends_are_not_working_days() {
        let cal = WorkCalendar::new();
        // 2026-03-02 is a Monday.
        for d in 2..=6 {
            assert!(cal.is_working_day(date(2026, 3, d)), "March {d}");
        }
        assert!(!cal.is_working_day(date(2026, 3, 7)));
        assert!(!cal.is_working_day(date(2026, 3, 8)));
        assert_eq!(cal.next_working_day(date(2026, 3, 6)), Ok(date(2026, 3, 9)));
        assert_eq!(cal.next_working_day(date(2026, 3, 7)), Ok(date(2026, 3, 9)));
        // Strictly after / before.
        assert_eq!(cal.next_working_day(date(2026, 3, 3)), Ok(date(2026, 3, 4)));
        assert_eq!(
            cal.previous_working_day(date(2026, 3, 9)),
            Ok(date(2026, 3, 6))
        );
        assert_eq!(
            cal.previous_working_day(date(2026, 3, 4)),
            Ok(date(2026, 3, 3))
        );
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
        // 113年: 2/8（四）小年夜調整放假，2/17（六）補行上班.
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
        assert_eq!(
            sender_due(&cal, taipei(2024, 2, 16, 9, 0)),
            Ok(taipei(2024, 2, 17, 14, 0))
        );
        assert_eq!(
            receiver_due(&cal, taipei(2024, 2, 16, 16, 0)),
            Ok(taipei(2024, 2, 17, 10, 0))
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

    // ---- 時限 ----

    #[test]
    fn friday_send_is_due_monday_14() {
        let cal = WorkCalendar::new();
        // 2026-03-06 is a Friday.
        let due = sender_due(&cal, taipei(2026, 3, 6, 16, 30)).unwrap();
        assert_eq!(due, taipei(2026, 3, 9, 14, 0));
        assert_eq!(due.offset(), TAIPEI_OFFSET);
        assert_eq!(due.weekday(), Weekday::Monday);
        // A UTC timestamp is converted to Taipei before taking the date:
        // Thu 2026-03-05 17:00 UTC = Fri 01:00 Taipei → Monday.
        assert_eq!(
            sender_due(&cal, at(2026, 3, 5, 17, 0, 0)),
            Ok(taipei(2026, 3, 9, 14, 0))
        );
        // Thu 15:59 UTC = Thu 23:59 Taipei → Friday.
        assert_eq!(
            sender_due(&cal, at(2026, 3, 5, 15, 59, 0)),
            Ok(taipei(2026, 3, 6, 14, 0))
        );
        // Weekend sends are due on Monday as well.
        assert_eq!(
            sender_due(&cal, taipei(2026, 3, 8, 10, 0)),
            Ok(taipei(2026, 3, 9, 14, 0))
        );
        // Sent on Monday before 14:00 is still due Tuesday (next working day).
        assert_eq!(
            sender_due(&cal, taipei(2026, 3, 9, 8, 0)),
            Ok(taipei(2026, 3, 10, 14, 0))
        );
    }

    #[test]
    fn receiver_due_is_next_working_day_10() {
        let cal = WorkCalendar::new();
        assert_eq!(
            receiver_due(&cal, taipei(2026, 3, 4, 17, 45)),
            Ok(taipei(2026, 3, 5, 10, 0))
        );
        assert_eq!(
            receiver_due(&cal, taipei(2026, 3, 6, 9, 0)),
            Ok(taipei(2026, 3, 9, 10, 0))
        );
        // Arrived on Saturday → first morning check on Monday.
        assert_eq!(
            receiver_due(&cal, taipei(2026, 3, 7, 9, 0)),
            Ok(taipei(2026, 3, 9, 10, 0))
        );
        // Sun 2026-03-08 20:00 UTC = Mon 04:00 Taipei → Tuesday 10:00.
        assert_eq!(
            receiver_due(&cal, at(2026, 3, 8, 20, 0, 0)),
            Ok(taipei(2026, 3, 10, 10, 0))
        );
    }

    #[test]
    fn send_before_lunar_new_year_is_due_after_it() {
        let cal = WorkCalendar::with_bundled();
        // Fri 2026-02-13 is the last working day before the 9-day break (2/14–2/22).
        assert_eq!(
            sender_due(&cal, taipei(2026, 2, 13, 11, 0)),
            Ok(taipei(2026, 2, 23, 14, 0))
        );
        assert_eq!(
            receiver_due(&cal, taipei(2026, 2, 13, 11, 0)),
            Ok(taipei(2026, 2, 23, 10, 0))
        );
        // Sent during the break (除夕).
        assert_eq!(
            sender_due(&cal, taipei(2026, 2, 16, 11, 0)),
            Ok(taipei(2026, 2, 23, 14, 0))
        );
        assert_eq!(
            cal.previous_working_day(date(2026, 2, 23)),
            Ok(date(2026, 2, 13))
        );
        // Without the calendar, the same send would be due Monday 2/16.
        assert_eq!(
            sender_due(&WorkCalendar::new(), taipei(2026, 2, 13, 11, 0)),
            Ok(taipei(2026, 2, 16, 14, 0))
        );
    }

    // ---- 內建 2026 日曆 ----

    #[test]
    fn bundled_2026_parses() {
        let mut cal = WorkCalendar::new();
        let summary = cal.import_csv(CALENDAR_2026_CSV).unwrap();
        assert_eq!(summary.format, CsvFormat::Simple);
        assert_eq!(summary.rows, 16);
        assert_eq!(cal, WorkCalendar::with_bundled());
        assert!(
            cal.iter()
                .all(|(d, o)| d.year() == 2026 && !o.name.is_empty())
        );
    }

    #[test]
    fn bundled_2026_total_matches_source() {
        let cal = WorkCalendar::with_bundled();
        let (first, last) = (date(2026, 1, 1), date(2026, 12, 31));
        // Source: 115年全年365日，總放假日數120日.
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
        let cal = WorkCalendar::with_bundled();
        for (i, want) in expected.iter().enumerate() {
            let month = Month::try_from(i as u8 + 1).unwrap();
            let first = Date::from_calendar_date(2026, month, 1).unwrap();
            let last = Date::from_calendar_date(2026, month, month.length(2026)).unwrap();
            assert_eq!(cal.count_working_days(first, last), *want, "{month}");
        }
    }

    #[test]
    fn bundled_2026_specific_days() {
        let cal = WorkCalendar::with_bundled();
        for (m, d) in [
            (1, 1),
            (2, 16),
            (2, 17),
            (2, 18),
            (2, 19),
            (2, 20),
            (2, 27),
            (4, 3),
            (4, 6),
            (5, 1),
            (6, 19),
            (9, 25),
            (9, 28),
            (10, 9),
            (10, 26),
            (12, 25),
        ] {
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

    // ---- CSV 匯入 ----

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
        assert_eq!(
            cal.day(date(2026, 1, 1)),
            Some(&Override::holiday("開國紀念日"))
        );
        assert_eq!(cal.day(date(2026, 2, 16)).unwrap().name, "農曆\"除夕\"");
        assert_eq!(
            cal.day(date(2026, 2, 20)).unwrap().name,
            "補假\n（除夕前一日）"
        );
        assert_eq!(
            cal.day(date(2026, 3, 7)),
            Some(&Override::workday("補行上班"))
        );
        // Empty 備註 gets the default name.
        assert_eq!(cal.day(date(2026, 3, 9)), Some(&Override::holiday("放假")));
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
        let mut cal = WorkCalendar::with_bundled();
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

    // ---- CSV 錯誤 ----

    fn import_err(csv: &str) -> ImportError {
        let mut cal = WorkCalendar::with_bundled();
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

        for bad in ["20260230", "20261301", "2026011a", "２０２６０１０１", ""] {
            let err = import_err(&format!("西元日期,星期,是否放假,備註\n{bad},四,2,\n"));
            assert!(
                matches!(err, ImportError::BadDate { line: 2, .. }),
                "{bad}: {err:?}"
            );
        }
        for bad in [
            "2026-02-30",
            "2026/02/01",
            "20260201",
            "2026-2-1",
            "+026-01-01",
        ] {
            let err = import_err(&format!("date,kind,name\n{bad},holiday,x\n"));
            assert!(
                matches!(err, ImportError::BadDate { line: 2, .. }),
                "{bad}: {err:?}"
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
        let err = import_err("date,kind,name\n2026-01-01\n");
        assert_eq!(
            err,
            ImportError::FieldCount {
                line: 2,
                expected: 3,
                found: 1
            }
        );
        let err = import_err("date,kind,name\n2026-01-01,holiday,a,b\n");
        assert!(matches!(
            err,
            ImportError::FieldCount {
                line: 2,
                found: 4,
                ..
            }
        ));
        let err = import_err(&format!(
            "date,kind,name\n2026-01-01,holiday,a{}\n",
            ",".repeat(100)
        ));
        assert!(matches!(
            err,
            ImportError::FieldCount {
                line: 2,
                found: 103,
                ..
            }
        ));
        let err = import_err("西元日期,星期,是否放假,備註\n20260101,四\n");
        assert!(matches!(
            err,
            ImportError::FieldCount {
                line: 2,
                expected: 4,
                found: 2
            }
        ));
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
        assert_eq!(ok.rows, 16);
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
        }
    }
}
