//! One JSON object per line on standard error: time (Asia/Taipei), level, message (zh-TW for
//! people), and fields for machines. Never a key, never document plaintext.

use std::io::Write;

use serde_json::{Map, Value};

fn now_taipei() -> String {
    // +08:00 is always a valid offset; UTC would only ever be a fallback never taken.
    let offset = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let t = time::OffsetDateTime::now_utc().to_offset(offset);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+08:00",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

static FILE: std::sync::OnceLock<std::sync::Mutex<std::fs::File>> = std::sync::OnceLock::new();

/// Sends the lines to `path` (appended) instead of standard error, for a program that keeps
/// its terminal for people (`gongwen demo`). Only the first call counts.
pub fn to_file(path: &std::path::Path) -> std::io::Result<()> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let _ = FILE.set(std::sync::Mutex::new(f));
    Ok(())
}

/// Writes one line. `fields` should be a JSON object.
pub fn write(level: &str, msg: &str, fields: Value) {
    if std::env::var_os("GONGWEN_LOG_QUIET").is_some() && level != "error" {
        return;
    }
    let mut m = Map::new();
    m.insert("time".into(), Value::from(now_taipei()));
    m.insert("level".into(), Value::from(level));
    m.insert("msg".into(), Value::from(msg));
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    let mut line = Value::Object(m).to_string();
    line.push('\n');
    match FILE.get() {
        Some(f) => {
            if let Ok(mut f) = f.lock() {
                let _ = f.write_all(line.as_bytes());
            }
        }
        None => {
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }
}

pub fn info(msg: &str, fields: Value) {
    write("info", msg, fields)
}

pub fn warn(msg: &str, fields: Value) {
    write("warn", msg, fields)
}

pub fn error(msg: &str, fields: Value) {
    write("error", msg, fields)
}
