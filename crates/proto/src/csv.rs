//! CSV as people's spreadsheets write it (RFC 4180, with the usual liberties), read and written
//! one way for every import and export: the work calendar, the records, the address book.

use std::borrow::Cow;

/// 一列 CSV：起始行號、前 `max_fields` 個欄位與實際欄位數。
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
    pub count: usize,
}

impl Record {
    pub fn field(&self, index: usize) -> &str {
        self.fields.get(index).map(String::as_str).unwrap_or("")
    }
}

/// Why a text is not CSV; the line is 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvError {
    /// 引號欄位直到檔尾都沒有結束。
    UnterminatedQuote { line: usize },
    /// 引號出現在欄位中間，或結束引號後還有其他字元。
    StrayQuote { line: usize },
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CsvError::UnterminatedQuote { line } => {
                write!(f, "第 {line} 行：引號欄位直到檔尾都沒有結束")
            }
            CsvError::StrayQuote { line } => write!(
                f,
                "第 {line} 行：引號位置不對（欄位中間出現引號，或結束引號後還有字元）"
            ),
        }
    }
}

impl std::error::Error for CsvError {}

/// 行數：換行（CRLF、LF 或 CR）的數目，最後一行沒有換行時再加一。
pub fn count_lines(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut lines = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' => {
                lines += 1;
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => lines += 1,
            _ => {}
        }
        i += 1;
    }
    if !matches!(bytes.last(), None | Some(b'\n') | Some(b'\r')) {
        lines += 1;
    }
    lines
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// 欄位開頭（前導空白略過）。
    Start,
    /// 未加引號的欄位。
    Unquoted,
    /// 引號欄位內。
    Quoted,
    /// 結束引號之後（只容許空白，接著須是逗號或換行）。
    AfterQuote,
}

/// RFC 4180 風格的 CSV 解析（只保留前 `max_fields` 個欄位，欄位數另計）；未加引號的欄位去除前後空白，引號欄位保留原樣
/// （欄位內的 CRLF 正規化為 LF）。全空白的列（含只有逗號的列）略過。
pub fn parse(text: &str, max_fields: usize) -> Result<Vec<Record>, CsvError> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let mut record_line = 1;
    let mut quote_line = 1;
    let mut fields: Vec<String> = Vec::new();
    let mut count = 0;
    let mut any_quoted = false;
    let mut current = String::new();
    let mut state = State::Start;

    loop {
        let c = chars.next();
        if state == State::Quoted {
            match c {
                None => return Err(CsvError::UnterminatedQuote { line: quote_line }),
                Some('"') => {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        current.push('"');
                    } else {
                        state = State::AfterQuote;
                    }
                }
                Some('\r') | Some('\n') => {
                    if c == Some('\r') && chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    current.push('\n');
                    line += 1;
                }
                Some(ch) => current.push(ch),
            }
            continue;
        }
        match c {
            None | Some(',') | Some('\r') | Some('\n') => {
                if state == State::Unquoted {
                    let trimmed = current.trim_end_matches([' ', '\t']).len();
                    current.truncate(trimmed);
                }
                let field = std::mem::take(&mut current);
                count += 1;
                if fields.len() < max_fields {
                    fields.push(field);
                }
                state = State::Start;
                if c == Some(',') {
                    continue;
                }
                if c == Some('\r') && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                let blank = !any_quoted && fields.iter().all(String::is_empty);
                let done = std::mem::take(&mut fields);
                if !blank {
                    records.push(Record {
                        line: record_line,
                        fields: done,
                        count,
                    });
                }
                if c.is_none() {
                    break;
                }
                line += 1;
                record_line = line;
                count = 0;
                any_quoted = false;
            }
            Some(ch) => match state {
                State::Start => {
                    if ch == '"' {
                        state = State::Quoted;
                        any_quoted = true;
                        quote_line = line;
                    } else if ch != ' ' && ch != '\t' {
                        current.push(ch);
                        state = State::Unquoted;
                    }
                }
                State::Unquoted => {
                    if ch == '"' {
                        return Err(CsvError::StrayQuote { line });
                    }
                    current.push(ch);
                }
                State::AfterQuote => {
                    if ch != ' ' && ch != '\t' {
                        return Err(CsvError::StrayQuote { line });
                    }
                }
                State::Quoted => unreachable!("handled above"),
            },
        }
    }
    Ok(records)
}

/// 匯出時的欄位：含逗號、引號、換行或前後空白時以引號包住。
pub fn field(value: &str) -> Cow<'_, str> {
    let needs_quotes = value.contains([',', '"', '\r', '\n'])
        || value.starts_with([' ', '\t'])
        || value.ends_with([' ', '\t']);
    if needs_quotes {
        Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(value)
    }
}

/// A field for a file people open in a spreadsheet: a leading `= + - @` would be read as a
/// formula, so it gets a `'` in front.
pub fn cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@']) {
        field(&format!("'{value}")).into_owned()
    } else {
        field(value).into_owned()
    }
}

/// One CSV line (CRLF-terminated) from its fields, written with [`cell`].
pub fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let cells: Vec<String> = fields.iter().map(|f| cell(f.as_ref())).collect();
    cells.join(",") + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_quote_and_defuse_formulas() {
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("說\"明"), "\"說\"\"明\"");
        assert_eq!(cell("=cmd()"), "'=cmd()");
        assert_eq!(cell("北市資字"), "北市資字");
        assert_eq!(field(" x"), "\" x\"");
        assert_eq!(line(&["a", "b,c"]), "a,\"b,c\"\r\n");
    }

    #[test]
    fn parse_round_trips_what_line_writes() {
        let text = line(&["代碼", "名稱"]) + &line(&["A1", "臺北市\"政府\",\n秘書處"]);
        let recs = parse(&text, 8).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].fields, vec!["A1", "臺北市\"政府\",\n秘書處"]);
        assert_eq!(recs[1].line, 2);
        assert_eq!(
            parse("a,\"b\nc", 8),
            Err(CsvError::UnterminatedQuote { line: 1 })
        );
        assert_eq!(parse("a,b\"c\n", 8), Err(CsvError::StrayQuote { line: 1 }));
    }
}
