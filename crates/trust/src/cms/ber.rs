//! BER → DER for what CMS peers send: indefinite lengths (`openssl cms -stream -indef`),
//! constructed OCTET STRINGs split into chunks, and non-minimal lengths. We emit DER and accept
//! BER, so everything read goes through here first, with bounds: a hostile file ("BER bomb":
//! deep nesting, lengths past the end, endless chunks) ends in an error, never a crash.

use super::malformed;
use crate::TrustError;

/// Deeper than any CMS structure nests (a package is about 12 levels).
const MAX_DEPTH: usize = 64;

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, TrustError> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or_else(|| malformed(format!("資料在第 {} 位元組意外結束", self.pos)))?;
        self.pos += 1;
        Ok(b)
    }

    /// Identifier octets, returned as written (high tag numbers included).
    fn tag(&mut self) -> Result<Vec<u8>, TrustError> {
        let first = self.byte()?;
        let mut tag = vec![first];
        if first & 0x1f == 0x1f {
            loop {
                let b = self.byte()?;
                tag.push(b);
                if tag.len() > 6 {
                    return Err(malformed("標籤號碼過長"));
                }
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        Ok(tag)
    }

    /// `None` for the indefinite form.
    fn length(&mut self) -> Result<Option<usize>, TrustError> {
        let first = self.byte()?;
        if first < 0x80 {
            return self.fits(first as usize);
        }
        if first == 0x80 {
            return Ok(None);
        }
        let n = (first & 0x7f) as usize;
        if n > 8 {
            return Err(malformed("長度欄位過長"));
        }
        let mut len: u64 = 0;
        for _ in 0..n {
            len = (len << 8) | self.byte()? as u64;
        }
        let len = usize::try_from(len).map_err(|_| malformed("長度超出範圍"))?;
        self.fits(len)
    }

    fn fits(&self, len: usize) -> Result<Option<usize>, TrustError> {
        if len > self.data.len() - self.pos {
            return Err(malformed(format!(
                "第 {} 位元組宣告的長度 {len} 超過檔案剩餘大小",
                self.pos
            )));
        }
        Ok(Some(len))
    }
}

fn write_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// One element: its tag, and either its primitive bytes or its normalised children.
fn element(r: &mut Reader, depth: usize, out: &mut Vec<u8>) -> Result<(), TrustError> {
    if depth > MAX_DEPTH {
        return Err(malformed(format!("巢狀超過 {MAX_DEPTH} 層")));
    }
    let start = r.pos;
    let tag = r.tag()?;
    if tag == [0, 0] || tag == [0] {
        return Err(malformed(format!("第 {start} 位元組出現多餘的結束標記")));
    }
    let constructed = tag[0] & 0x20 != 0;
    let len = r.length()?;
    if !constructed {
        let len = len.ok_or_else(|| malformed("基本型別不可使用不定長度"))?;
        out.extend_from_slice(&tag);
        write_len(out, len);
        out.extend_from_slice(&r.data[r.pos..r.pos + len]);
        r.pos += len;
        return Ok(());
    }
    // Children first, then the header with the now known length.
    let mut body = Vec::new();
    match len {
        Some(len) => {
            let end = r.pos + len;
            while r.pos < end {
                element(r, depth + 1, &mut body)?;
            }
            if r.pos != end {
                return Err(malformed(format!("第 {start} 位元組的元素長度與內容不符")));
            }
        }
        None => loop {
            if r.data.get(r.pos..r.pos + 2) == Some(&[0, 0]) {
                r.pos += 2;
                break;
            }
            if r.pos >= r.data.len() {
                return Err(malformed(format!(
                    "第 {start} 位元組的不定長度元素沒有結束標記"
                )));
            }
            element(r, depth + 1, &mut body)?;
        },
    }
    // A constructed OCTET STRING (universal 4, BER only) becomes one primitive string.
    if tag == [0x24] {
        let mut joined = Vec::with_capacity(body.len());
        let mut inner = Reader {
            data: &body,
            pos: 0,
        };
        while inner.pos < body.len() {
            let t = inner.tag()?;
            let l = inner
                .length()?
                .ok_or_else(|| malformed("分段字串格式錯誤"))?;
            if t != [0x04] {
                return Err(malformed("分段的 OCTET STRING 只能由 OCTET STRING 組成"));
            }
            joined.extend_from_slice(&body[inner.pos..inner.pos + l]);
            inner.pos += l;
        }
        out.push(0x04);
        write_len(out, joined.len());
        out.extend_from_slice(&joined);
        return Ok(());
    }
    if tag == [0x30] {
        body = implicit_octets(body)?;
    }
    out.extend_from_slice(&tag);
    write_len(out, body.len());
    out.extend_from_slice(&body);
    Ok(())
}

/// The children of a DER body: (tag byte, header length, content length).
fn children(body: &[u8]) -> Result<Vec<(u8, usize, usize)>, TrustError> {
    let mut r = Reader { data: body, pos: 0 };
    let mut out = Vec::new();
    while r.pos < body.len() {
        let start = r.pos;
        let tag = r.tag()?;
        let len = r
            .length()?
            .ok_or_else(|| malformed("內部錯誤：正規化後仍有不定長度"))?;
        out.push((tag[0], r.pos - start, len));
        r.pos += len;
    }
    Ok(out)
}

/// EncryptedContentInfo's content is `[0] IMPLICIT OCTET STRING`; streamed BER writes it as a
/// constructed [0] of chunks, which DER wants as one primitive [0]. It is recognised by its
/// place: third in a SEQUENCE after an OID and an AlgorithmIdentifier (SignedData's `[0]
/// EXPLICIT` content is second, after the OID, and is left alone).
fn implicit_octets(body: Vec<u8>) -> Result<Vec<u8>, TrustError> {
    let kids = children(&body)?;
    if kids.len() != 3 || kids[0].0 != 0x06 || kids[1].0 != 0x30 || kids[2].0 != 0xa0 {
        return Ok(body);
    }
    let start = kids[0].1 + kids[0].2 + kids[1].1 + kids[1].2;
    let inner = &body[start + kids[2].1..];
    let chunks = children(inner)?;
    if chunks.is_empty() || chunks.iter().any(|c| c.0 != 0x04) {
        return Ok(body);
    }
    let mut joined = Vec::with_capacity(inner.len());
    let mut pos = 0;
    for (_, header, len) in chunks {
        joined.extend_from_slice(&inner[pos + header..pos + header + len]);
        pos += header + len;
    }
    let mut out = body[..start].to_vec();
    out.push(0x80);
    write_len(&mut out, joined.len());
    out.extend_from_slice(&joined);
    Ok(out)
}

/// The length the first element says it has, header included, when it uses a definite
/// length: more than the bytes at hand means the data was cut short.
pub fn declared_len(data: &[u8]) -> Option<u64> {
    let mut r = Reader { data, pos: 0 };
    r.tag().ok()?;
    let first = r.byte().ok()?;
    let len = if first < 0x80 {
        first as u64
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 8 {
            return None;
        }
        let mut len = 0u64;
        for _ in 0..n {
            len = (len << 8) | r.byte().ok()? as u64;
        }
        len
    };
    Some(r.pos as u64 + len)
}

/// Whether `data` is one element already in DER as [`element`] writes it, so it can be used as
/// it is: what we and most peers send. Checking copies nothing; rewriting a package copied its
/// body once per nesting level. Anything unusual answers `false` and takes the long way, which
/// also gives the errors.
pub(crate) fn is_der(data: &[u8]) -> bool {
    fn header(data: &[u8], pos: &mut usize) -> Option<(u8, usize)> {
        let tag = *data.get(*pos)?;
        if tag & 0x1f == 0x1f || tag == 0 {
            return None;
        }
        let first = *data.get(*pos + 1)?;
        *pos += 2;
        let len = if first < 0x80 {
            first as usize
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 {
                return None;
            }
            let bytes = data.get(*pos..*pos + n)?;
            *pos += n;
            let len = bytes.iter().fold(0usize, |l, b| (l << 8) | *b as usize);
            // Minimal: no leading zero byte, and the long form only from 128 on.
            if bytes[0] == 0 || len < 0x80 {
                return None;
            }
            len
        };
        (len <= data.len() - *pos).then_some((tag, len))
    }
    fn element(data: &[u8], pos: &mut usize, depth: usize) -> Option<u8> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (tag, len) = header(data, pos)?;
        let end = *pos + len;
        if tag & 0x20 == 0 {
            *pos = end;
            return Some(tag);
        }
        if tag == 0x24 {
            return None;
        }
        let mut kids = Vec::new();
        while *pos < end {
            let kid_start = *pos;
            let kid = element(data, pos, depth + 1)?;
            kids.push((kid, kid_start));
        }
        if *pos != end {
            return None;
        }
        // The chunked `[0] IMPLICIT OCTET STRING` that `implicit_octets` rewrites.
        if tag == 0x30
            && kids.len() == 3
            && kids[0].0 == 0x06
            && kids[1].0 == 0x30
            && kids[2].0 == 0xa0
        {
            let mut p = kids[2].1;
            let (_, l) = header(data, &mut p)?;
            let inner_end = p + l;
            let mut chunks = 0;
            let mut all_octets = true;
            while p < inner_end {
                let (t, l) = header(data, &mut p)?;
                all_octets &= t == 0x04;
                chunks += 1;
                p += l;
            }
            if chunks > 0 && all_octets {
                return None;
            }
        }
        Some(tag)
    }
    let mut pos = 0;
    element(data, &mut pos, 0).is_some() && pos == data.len()
}

/// Re-encodes one BER element as DER (a DER input comes back unchanged, borrowed). Trailing
/// bytes after the element are an error.
pub fn to_der(data: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, TrustError> {
    if is_der(data) {
        return Ok(std::borrow::Cow::Borrowed(data));
    }
    let mut r = Reader { data, pos: 0 };
    let mut out = Vec::with_capacity(data.len());
    element(&mut r, 0, &mut out)?;
    if r.pos != data.len() {
        return Err(malformed(format!(
            "第 {} 位元組之後有多餘的資料（{} 位元組）",
            r.pos,
            data.len() - r.pos
        )));
    }
    Ok(std::borrow::Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_lengths_and_chunked_strings_become_der() {
        // SEQUENCE (indef) { OCTET STRING (constructed, indef) { "ab", "c" } } EOC
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0, 0, 0, 0,
        ];
        assert_eq!(
            to_der(&ber).unwrap(),
            [0x30, 0x05, 0x04, 0x03, b'a', b'b', b'c'].as_slice()
        );
        // Long-form length that DER would write short.
        assert_eq!(
            to_der(&[0x04, 0x81, 0x01, 0xff]).unwrap(),
            [0x04, 0x01, 0xff].as_slice()
        );
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        assert_eq!(declared_len(&der), Some(5));
        assert_eq!(declared_len(&der[..3]), Some(5));
        assert_eq!(declared_len(&[0x30, 0x82, 0x01, 0x00]), Some(260));
        assert_eq!(declared_len(&[0x30, 0x80]), None);
        assert!(matches!(
            to_der(&der).unwrap(),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(to_der(&der).unwrap(), der.as_slice());
        // The chunked [0] IMPLICIT OCTET STRING of streamed EnvelopedData, with definite
        // lengths, is still rewritten (to a primitive [0]).
        let chunked = [
            0x30, 0x0c, 0x06, 0x01, 0x2a, 0x30, 0x00, 0xa0, 0x05, 0x04, 0x01, b'x', 0x04, 0x00,
        ];
        assert_eq!(
            to_der(&chunked).unwrap(),
            [0x30, 0x08, 0x06, 0x01, 0x2a, 0x30, 0x00, 0x80, 0x01, b'x'].as_slice()
        );
    }

    #[test]
    fn bombs_and_lies_are_errors() {
        // 10,000 nested indefinite SEQUENCEs.
        let mut deep = Vec::new();
        for _ in 0..10_000 {
            deep.extend_from_slice(&[0x30, 0x80]);
        }
        assert_eq!(to_der(&deep).unwrap_err().code(), "E_CMS_MALFORMED");
        // A length far past the end of the data.
        assert!(to_der(&[0x04, 0x84, 0x7f, 0xff, 0xff, 0xff, 0]).is_err());
        // No end-of-contents.
        assert!(to_der(&[0x30, 0x80, 0x02, 0x01, 0x05]).is_err());
        // Trailing garbage, truncation, empty input.
        assert!(to_der(&[0x02, 0x01, 0x05, 0x00]).is_err());
        assert!(to_der(&[0x30, 0x03, 0x02]).is_err());
        assert!(to_der(&[]).is_err());
        let e = to_der(&[0x24, 0x80, 0x02, 0x01, 0x05, 0, 0]).unwrap_err();
        assert!(e.to_string().contains("OCTET STRING"));
    }
}
