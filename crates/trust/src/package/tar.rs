//! The package content as a POSIX ustar archive: any `tar -x` unpacks it to byte-identical files,
//! and it can be written and read as a stream. Only regular files with bare names are written
//! or accepted (no directories, links, or paths), and every size is checked against the data.

use crate::TrustError;

const BLOCK: usize = 512;

fn malformed(detail: impl Into<String>) -> TrustError {
    TrustError::Malformed {
        detail: format!("封包內容（tar）：{}", detail.into()),
    }
}

fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let s = format!("{value:0width$o}");
    field[..width].copy_from_slice(s.as_bytes());
    field[width] = 0;
}

/// The 512-byte ustar header of one regular file.
pub fn header(name: &str, size: u64, mtime: i64) -> Result<[u8; BLOCK], TrustError> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 100 {
        return Err(malformed(format!("檔名「{name}」應為 1 到 100 位元組")));
    }
    if size >= 8u64.pow(11) {
        return Err(malformed(format!("檔案「{name}」超過 8 GiB")));
    }
    let mut h = [0u8; BLOCK];
    h[..bytes.len()].copy_from_slice(bytes);
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime.max(0) as u64);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    Ok(h)
}

/// Zero bytes that pad a file of `size` to a whole block.
pub fn padding(size: u64) -> usize {
    (BLOCK - (size as usize % BLOCK)) % BLOCK
}

/// Two zero blocks end an archive.
pub const END: [u8; 2 * BLOCK] = [0; 2 * BLOCK];

/// Writes a whole archive in memory.
pub fn write(files: &[(String, Vec<u8>)], mtime: i64) -> Result<Vec<u8>, TrustError> {
    let mut out = Vec::new();
    for (name, data) in files {
        out.extend_from_slice(&header(name, data.len() as u64, mtime)?);
        out.extend_from_slice(data);
        out.resize(out.len() + padding(data.len() as u64), 0);
    }
    out.extend_from_slice(&END);
    Ok(out)
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let s: Vec<u8> = field
        .iter()
        .copied()
        .take_while(|b| *b != 0)
        .filter(|b| *b != b' ')
        .collect();
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(std::str::from_utf8(&s).ok()?, 8).ok()
}

/// Checks one 512-byte header block (checksum, regular file, bare safe name) and returns the
/// file's name and size.
pub fn parse_header(h: &[u8; BLOCK]) -> Result<(String, u64), TrustError> {
    let stored = parse_octal(&h[148..156]).ok_or_else(|| malformed("檢查碼欄位錯誤"))?;
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                *b as u64
            }
        })
        .sum();
    if sum != stored {
        return Err(malformed("標頭檢查碼不符"));
    }
    if h[156] != b'0' && h[156] != 0 {
        return Err(malformed("只接受一般檔案（不接受目錄、連結或其他類型）"));
    }
    let name_len = h[..100].iter().position(|b| *b == 0).unwrap_or(100);
    let name = std::str::from_utf8(&h[..name_len])
        .map_err(|_| malformed("檔名不是 UTF-8"))?
        .to_string();
    if h[345] != 0 {
        return Err(malformed(format!("「{name}」帶有路徑前綴")));
    }
    gongwen_doc::safe_file_name(&name).map_err(malformed)?;
    let size = parse_octal(&h[124..136]).ok_or_else(|| malformed("大小欄位錯誤"))?;
    Ok((name, size))
}

/// Reads an archive written by [`write`] (or by `tar --format=ustar` with regular files only).
/// `max_files` bounds the work a hostile archive can cause.
pub fn read(data: &[u8], max_files: usize) -> Result<Vec<(String, Vec<u8>)>, TrustError> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut pos = 0;
    loop {
        let h: &[u8; BLOCK] = data
            .get(pos..pos + BLOCK)
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| malformed("檔案在標頭處意外結束"))?;
        if h.iter().all(|b| *b == 0) {
            return Ok(files);
        }
        if files.len() >= max_files {
            return Err(malformed(format!("檔案數超過上限 {max_files}")));
        }
        let (name, size) = parse_header(h)?;
        if files.iter().any(|(n, _)| *n == name) {
            return Err(malformed(format!("檔名「{name}」重複")));
        }
        let size = usize::try_from(size).map_err(|_| malformed("檔案過大"))?;
        let start = pos + BLOCK;
        let body = data
            .get(start..start.saturating_add(size))
            .ok_or_else(|| malformed(format!("「{name}」的內容被截斷")))?;
        files.push((name, body.to_vec()));
        pos = start + size + padding(size as u64);
    }
}
