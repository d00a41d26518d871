//! A SignedData with attached content, written as prefix ‖ content ‖ suffix: the content is
//! never copied into an encoder, so a large content costs one copy (or none, when streamed).

use der::Encode;

use super::{Signer, malformed};
use crate::TrustError;

/// DER tag and length.
pub(crate) fn tl(tag: u8, len: u64) -> Vec<u8> {
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out
}

/// The complete DER elements directly inside `der` (one constructed element's body).
pub(crate) fn elements(body: &[u8]) -> Result<Vec<&[u8]>, TrustError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let (_, header, len) = read_header(&body[pos..])?;
        let end = pos + header + len as usize;
        out.push(
            body.get(pos..end)
                .ok_or_else(|| malformed("元素長度超出範圍"))?,
        );
        pos = end;
    }
    Ok(out)
}

/// (tag, header length, content length) of a DER element at the start of `b`.
pub(crate) fn read_header(b: &[u8]) -> Result<(u8, usize, u64), TrustError> {
    let short = || malformed("DER 標頭被截斷");
    let tag = *b.first().ok_or_else(short)?;
    let first = *b.get(1).ok_or_else(short)?;
    if first < 0x80 {
        return Ok((tag, 2, first as u64));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 8 {
        return Err(malformed("串流處理只接受 DER（定長）編碼"));
    }
    let mut len = 0u64;
    for i in 0..n {
        len = (len << 8) | *b.get(2 + i).ok_or_else(short)? as u64;
    }
    Ok((tag, 2 + n, len))
}

/// The body of one DER element.
pub(crate) fn body(element: &[u8]) -> Result<&[u8], TrustError> {
    let (_, h, _) = read_header(element)?;
    Ok(&element[h..])
}

/// The DER before and after `content_len` bytes of content whose SHA-256 is `digest`, making
/// a ContentInfo(SignedData) signed by `signer`.
pub(crate) fn attached(
    digest: &[u8],
    content_len: u64,
    signer: &Signer,
    signing_time: i64,
) -> Result<(Vec<u8>, Vec<u8>), TrustError> {
    let sd = super::signed_data(digest, signer, signing_time)?;
    let sd_der = sd.to_der().map_err(malformed)?;
    let parts = elements(body(&sd_der)?)?;
    let [version, digest_algs, _encap_without_content, rest @ ..] = &parts[..] else {
        return Err(malformed("內部錯誤：SignedData 結構不符"));
    };
    let oid_data = super::ID_DATA.to_der().map_err(malformed)?;
    let octet = tl(0x04, content_len);
    let explicit = tl(0xa0, octet.len() as u64 + content_len);
    let encap_len =
        oid_data.len() as u64 + explicit.len() as u64 + octet.len() as u64 + content_len;
    let encap_hdr = tl(0x30, encap_len);
    let suffix: Vec<u8> = rest.concat();
    let sd_len = (version.len() + digest_algs.len() + encap_hdr.len()) as u64
        + encap_len
        + suffix.len() as u64;
    let sd_hdr = tl(0x30, sd_len);
    let oid_sd = super::ID_SIGNED_DATA.to_der().map_err(malformed)?;
    let sd_total = sd_hdr.len() as u64 + sd_len;
    let ci_explicit = tl(0xa0, sd_total);
    let ci_len = oid_sd.len() as u64 + ci_explicit.len() as u64 + sd_total;
    let mut prefix = tl(0x30, ci_len);
    for p in [
        &oid_sd,
        &ci_explicit,
        &sd_hdr,
        &version.to_vec(),
        &digest_algs.to_vec(),
        &encap_hdr,
        &oid_data,
        &explicit,
        &octet,
    ] {
        prefix.extend_from_slice(p);
    }
    Ok((prefix, suffix))
}
