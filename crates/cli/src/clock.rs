//! The one clock of the command line: today's date in Asia/Taipei.

use gongwen_doc::RocDate;

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Today in Asia/Taipei; `GONGWEN_TODAY` (e.g. 中華民國115年1月5日) overrides it so that
/// examples and tests produce the same files on any day.
pub fn today() -> RocDate {
    if let Ok(s) = std::env::var("GONGWEN_TODAY")
        && let Ok(d) = RocDate::parse(&s)
    {
        return d;
    }
    RocDate::from_unix_taipei(unix_now()).unwrap_or(RocDate {
        year: 115,
        month: 1,
        day: 1,
    })
}
