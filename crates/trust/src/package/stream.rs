//! Sealing and opening packages as streams, so a 1 GB attachment needs a few buffers of
//! memory, not a gigabyte. The bytes are the same DER as [`super::seal`] writes: a package
//! sealed here opens there and the other way round.
//!
//! Sealing reads the attachments three times (digests; the ciphertext digest the header signs;
//! the output), because DER puts every length before the content and the header, whose signed
//! length depends on that digest, sits in the outer structure. Opening reads the package once
//! (seeking to the header first) and writes the files to temporary names beside their final
//! ones; only when every check has passed are they renamed into place.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ::cms::enveloped_data::EnvelopedData;
use aws_lc_rs::cipher::{
    AES_256, DecryptionContext, EncryptionContext, StreamingDecryptingKey, StreamingEncryptingKey,
    UnboundCipherKey,
};
use aws_lc_rs::digest::{Context, SHA256};
use aws_lc_rs::iv::FixedLength;
use der::asn1::{Any, ObjectIdentifier as Oid};
use der::{Decode, Encode};
use x509_cert::Certificate;

use super::tar;
use super::{
    FileEntry, FileRole, HeaderOptions, Inspected, MANIFEST, MAX_FILES, PackageHeader, Recipient,
    Signed, check_body_digest, check_documents, check_opened, header_for, mismatch, signed_header,
};
use crate::TrustError;
use crate::cms::frame::{self, body, elements, read_header, tl};
use crate::cms::{self, Signer, malformed, unsupported};
use crate::path::{Evaluation, TrustStore, hex};
use crate::pki::create_file;

const CHUNK: usize = 64 * 1024;
/// Small structures (certificates, recipient infos, the header) are read whole, up to this.
const MAX_SMALL: u64 = 4 * 1024 * 1024;
/// DI and SW are read back from disk for their checks, up to this.
const MAX_DOC: u64 = 8 * 1024 * 1024;

fn io(path: &Path) -> impl Fn(std::io::Error) -> TrustError + '_ {
    move |e| TrustError::io(path, e)
}

/// SHA-256 on another thread: opening a package hashes the same gigabyte three times
/// (ciphertext, signed content, each file), and two cores can share that work. The channel is
/// bounded, so memory stays a few chunks whatever the size.
struct BackgroundHash {
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    handle: Option<std::thread::JoinHandle<String>>,
}

impl BackgroundHash {
    fn new() -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
        let handle = std::thread::spawn(move || {
            let mut ctx = Context::new(&SHA256);
            for chunk in rx {
                ctx.update(&chunk);
            }
            hex(ctx.finish().as_ref())
        });
        BackgroundHash {
            tx: Some(tx),
            handle: Some(handle),
        }
    }

    fn update(&mut self, data: &[u8]) {
        if let Some(tx) = &self.tx {
            // The receiver only stops when we do.
            let _ = tx.send(data.to_vec());
        }
    }

    fn finish(mut self) -> String {
        self.tx = None;
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

/// A piece of the content stream: bytes in memory, or a whole file read in chunks.
enum Piece<'a> {
    Bytes(Vec<u8>),
    File(&'a Path, u64),
}

fn feed(
    pieces: &[Piece],
    sink: &mut dyn FnMut(&[u8]) -> Result<(), TrustError>,
) -> Result<(), TrustError> {
    let mut buf = vec![0u8; CHUNK];
    for p in pieces {
        match p {
            Piece::Bytes(b) => sink(b)?,
            Piece::File(path, len) => {
                let mut f = File::open(path).map_err(io(path))?;
                let mut left = *len;
                while left > 0 {
                    let want = left.min(CHUNK as u64) as usize;
                    let n = f.read(&mut buf[..want]).map_err(io(path))?;
                    if n == 0 {
                        return Err(changed(path));
                    }
                    sink(&buf[..n])?;
                    left -= n as u64;
                }
                if f.read(&mut buf[..1]).map_err(io(path))? != 0 {
                    return Err(changed(path));
                }
            }
        }
    }
    Ok(())
}

fn changed(path: &Path) -> TrustError {
    TrustError::Content {
        detail: format!("{} 在封裝過程中被修改，請重新封裝", path.display()),
    }
}

/// What the sender hands in: DI and SW in memory (small), attachments as files.
pub struct StreamSeal<'a> {
    pub di: (String, Vec<u8>),
    pub sw: Option<(String, Vec<u8>)>,
    /// (name in the package, file on disk).
    pub attachments: Vec<(String, PathBuf)>,
    pub signer: Signer<'a>,
    pub recipients: &'a [Certificate],
    pub options: HeaderOptions,
    pub now: i64,
}

/// Seals into `out` (written beside it under a temporary name, then renamed).
pub fn seal_to_file(input: &StreamSeal, out: &Path) -> Result<PackageHeader, TrustError> {
    // The tar stream: DI, SW, attachments, then the manifest, then the end blocks.
    let mut sizes = Vec::new();
    for (name, path) in &input.attachments {
        let len = std::fs::metadata(path).map_err(io(path))?.len();
        sizes.push((name, path, len));
    }
    let mut pieces: Vec<Piece> = Vec::new();
    for (name, bytes) in std::iter::once(&input.di).chain(input.sw.as_ref()) {
        pieces.push(Piece::Bytes(
            tar::header(name, bytes.len() as u64, input.now)?.to_vec(),
        ));
        pieces.push(Piece::Bytes(bytes.clone()));
        pieces.push(Piece::Bytes(vec![0; tar::padding(bytes.len() as u64)]));
    }
    for (name, path, len) in &sizes {
        pieces.push(Piece::Bytes(tar::header(name, *len, input.now)?.to_vec()));
        pieces.push(Piece::File(path, *len));
        pieces.push(Piece::Bytes(vec![0; tar::padding(*len)]));
    }

    // Pass 1: each attachment's digest and the running digest of the tar stream.
    let mut tar_digest = Context::new(&SHA256);
    let mut entries = Vec::new();
    for p in &pieces {
        let mut file = Context::new(&SHA256);
        feed(std::slice::from_ref(p), &mut |chunk: &[u8]| {
            tar_digest.update(chunk);
            file.update(chunk);
            Ok(())
        })?;
        if let Piece::File(_, len) = p {
            entries.push(FileEntry {
                name: sizes[entries.len()].0.clone(),
                role: FileRole::Attachment,
                size: *len,
                sha256: hex(file.finish().as_ref()),
            });
        }
    }
    let mut header = header_for(
        &input.di,
        input.sw.as_ref(),
        entries,
        &input.options,
        input.now,
    )?;
    let manifest = serde_json::to_vec_pretty(&header).map_err(TrustError::crypto)?;
    let mut tail = tar::header(MANIFEST, manifest.len() as u64, input.now)?.to_vec();
    tail.extend_from_slice(&manifest);
    tail.resize(tail.len() + tar::padding(manifest.len() as u64), 0);
    tail.extend_from_slice(&tar::END);
    tar_digest.update(&tail);
    pieces.push(Piece::Bytes(tail));
    let tar_len: u64 = pieces
        .iter()
        .map(|p| match p {
            Piece::Bytes(b) => b.len() as u64,
            Piece::File(_, len) => *len,
        })
        .sum();
    let tar_sha256 = tar_digest.finish();

    // The inner SignedData around the tar stream: prefix ‖ tar ‖ suffix.
    let (prefix, suffix) = frame::attached(tar_sha256.as_ref(), tar_len, &input.signer, input.now)?;
    let inner_len = prefix.len() as u64 + tar_len + suffix.len() as u64;
    let ct_len = (inner_len / 16 + 1) * 16;
    let mut inner: Vec<Piece> = vec![Piece::Bytes(prefix)];
    inner.extend(pieces);
    inner.push(Piece::Bytes(suffix));

    // Pass 2: the ciphertext's digest, for the header; the files must not have changed.
    let (mut ed, cek, iv) = cms::envelope_for(input.recipients)?;
    let encrypt =
        |sink: &mut dyn FnMut(&[u8]) -> Result<(), TrustError>| -> Result<[u8; 32], TrustError> {
            let key = UnboundCipherKey::new(&AES_256, &cek).map_err(TrustError::crypto)?;
            let mut enc = StreamingEncryptingKey::less_safe_cbc_pkcs7(
                key,
                EncryptionContext::Iv128(FixedLength::from(iv)),
            )
            .map_err(TrustError::crypto)?;
            let mut out = vec![0u8; CHUNK + 32];
            let mut check = Context::new(&SHA256);
            feed(&inner, &mut |chunk: &[u8]| {
                check.update(chunk);
                for part in chunk.chunks(CHUNK) {
                    let w = enc.update(part, &mut out).map_err(TrustError::crypto)?;
                    sink(w.written())?;
                }
                Ok(())
            })?;
            let (_, w) = enc.finish(&mut out).map_err(TrustError::crypto)?;
            sink(w.written())?;
            let mut d = [0u8; 32];
            d.copy_from_slice(check.finish().as_ref());
            Ok(d)
        };
    let mut ct_digest = Context::new(&SHA256);
    let mut ct_seen = 0u64;
    let inner_digest = encrypt(&mut |c| {
        ct_digest.update(c);
        ct_seen += c.len() as u64;
        Ok(())
    })?;
    if ct_seen != ct_len {
        return Err(malformed("內部錯誤：密文長度不符"));
    }
    header.body_sha256 = Some(hex(ct_digest.finish().as_ref()));
    super::attach_header(&mut ed, &header, &input.signer, input.now)?;

    // The outer EnvelopedData around the ciphertext: prefix ‖ ciphertext ‖ suffix.
    let ed_der = ed.to_der().map_err(cms::malformed)?;
    let parts = elements(body(&ed_der)?)?;
    let [version, recips, eci, unprotected] = &parts[..] else {
        return Err(malformed("內部錯誤：EnvelopedData 結構不符"));
    };
    let eci_inner = body(eci)?;
    let ct_hdr = tl(0x80, ct_len);
    let eci_len = eci_inner.len() as u64 + ct_hdr.len() as u64 + ct_len;
    let eci_hdr = tl(0x30, eci_len);
    let ed_len =
        (version.len() + recips.len() + eci_hdr.len()) as u64 + eci_len + unprotected.len() as u64;
    let ed_hdr = tl(0x30, ed_len);
    let oid_env = cms::ID_ENVELOPED_DATA.to_der().map_err(cms::malformed)?;
    let ed_total = ed_hdr.len() as u64 + ed_len;
    let explicit = tl(0xa0, ed_total);
    let mut outer = tl(
        0x30,
        oid_env.len() as u64 + explicit.len() as u64 + ed_total,
    );
    for p in [
        &oid_env[..],
        &explicit,
        &ed_hdr,
        version,
        recips,
        &eci_hdr,
        eci_inner,
        &ct_hdr,
    ] {
        outer.extend_from_slice(p);
    }

    // Pass 3: write, then check the content was the same as in pass 2.
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.part",
        out.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| {
        let file = create_file(&tmp, true).map_err(io(&tmp))?;
        let mut w = std::io::BufWriter::with_capacity(CHUNK, file);
        w.write_all(&outer).map_err(io(&tmp))?;
        let again = encrypt(&mut |c| w.write_all(c).map_err(io(&tmp)))?;
        if again != inner_digest {
            return Err(TrustError::Content {
                detail: "附件在封裝過程中被修改，請重新封裝".into(),
            });
        }
        w.write_all(unprotected).map_err(io(&tmp))?;
        let file = w.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
        file.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, out).map_err(io(out))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|_| header)
}

/// Reads DER elements from a file, keeping count of the position.
struct Cursor<R> {
    r: R,
    pos: u64,
}

impl<R: Read> Cursor<R> {
    fn exact(&mut self, n: usize) -> Result<Vec<u8>, TrustError> {
        let mut b = vec![0u8; n];
        self.r
            .read_exact(&mut b)
            .map_err(|_| malformed(format!("第 {} 位元組附近資料意外結束", self.pos)))?;
        self.pos += n as u64;
        Ok(b)
    }

    /// Tag and length of the next element (its header bytes returned too).
    fn header(&mut self) -> Result<(u8, u64, Vec<u8>), TrustError> {
        let mut h = self.exact(2)?;
        if h[1] == 0x80 {
            return Err(malformed("串流處理只接受 DER（定長）編碼"));
        }
        if h[1] > 0x80 {
            let n = (h[1] & 0x7f) as usize;
            if n > 8 {
                return Err(malformed("長度欄位過長"));
            }
            h.extend(self.exact(n)?);
        }
        let (tag, _, len) = read_header(&h)?;
        Ok((tag, len, h))
    }

    /// A whole small element (header and body).
    fn element(&mut self, want: u8, what: &str) -> Result<Vec<u8>, TrustError> {
        let (tag, len, mut h) = self.header()?;
        if tag != want {
            return Err(malformed(format!("{what}的位置出現標籤 0x{tag:02x}")));
        }
        if len > MAX_SMALL {
            return Err(malformed(format!("{what}過大（{len} 位元組）")));
        }
        h.extend(self.exact(len as usize)?);
        Ok(h)
    }

    fn expect(&mut self, want: u8, what: &str) -> Result<u64, TrustError> {
        let (tag, len, _) = self.header()?;
        if tag != want {
            return Err(malformed(format!("{what}的位置出現標籤 0x{tag:02x}")));
        }
        Ok(len)
    }
}

/// Decrypts the ciphertext as it is read, digesting the ciphertext on the way.
struct Decrypting<R> {
    src: R,
    left: u64,
    key: Option<StreamingDecryptingKey>,
    digest: BackgroundHash,
    buf: Vec<u8>,
    tmp: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    failed: bool,
}

impl<R: Read> Read for Decrypting<R> {
    fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.out.len() {
            self.pos = 0;
            self.out.clear();
            if self.left > 0 {
                let want = self.left.min(CHUNK as u64) as usize;
                let n = self.src.read(&mut self.buf[..want])?;
                if n == 0 {
                    return Err(std::io::Error::other("密文被截斷"));
                }
                self.left -= n as u64;
                self.digest.update(&self.buf[..n]);
                let key = self
                    .key
                    .as_mut()
                    .ok_or_else(|| std::io::Error::other("state"))?;
                let w = key.update(&self.buf[..n], &mut self.tmp).map_err(|_| {
                    self.failed = true;
                    std::io::Error::other("解密失敗")
                })?;
                self.out.extend_from_slice(w.written());
            } else if let Some(key) = self.key.take() {
                let mut tmp = vec![0u8; 32];
                let w = key.finish(&mut tmp).map_err(|_| {
                    self.failed = true;
                    std::io::Error::other("解密失敗")
                })?;
                self.out.extend_from_slice(w.written());
            } else {
                return Ok(0);
            }
        }
        let n = dst.len().min(self.out.len() - self.pos);
        dst[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl<R: Read> Decrypting<R> {
    /// The ciphertext digest, reading (not decrypting) whatever is left: after a failure
    /// inside, this tells a package changed in transit from one that was bad when sealed.
    fn ciphertext_digest(mut self) -> String {
        let mut buf = vec![0u8; CHUNK];
        while self.left > 0 {
            let want = self.left.min(CHUNK as u64) as usize;
            match self.src.read(&mut buf[..want]) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    self.digest.update(&buf[..n]);
                    self.left -= n as u64;
                }
            }
        }
        self.digest.finish()
    }
}

/// The envelope of a package file without its ciphertext, and where the ciphertext lies.
struct Outer {
    ed: EnvelopedData,
    file: File,
    ct_start: u64,
    ct_len: u64,
    /// Where the package ends; a file may not be shorter.
    end: u64,
}

fn outer(package: &Path) -> Result<Outer, TrustError> {
    let f = File::open(package).map_err(io(package))?;
    let mut c = Cursor {
        r: BufReader::with_capacity(CHUNK, f),
        pos: 0,
    };
    // ContentInfo { envelopedData, [0] EnvelopedData { version, recipientInfos, eci, [1] } }
    c.expect(0x30, "ContentInfo")?;
    let oid = c.element(0x06, "內容型別")?;
    if Oid::from_der(&oid).map_err(cms::malformed)? != cms::ID_ENVELOPED_DATA {
        return Err(malformed("不是加密資料（EnvelopedData）"));
    }
    c.expect(0xa0, "內容")?;
    let ed_len = c.expect(0x30, "EnvelopedData")?;
    let ed_start = c.pos;
    let version = c.element(0x02, "版本")?;
    let recips = c.element(0x31, "收件者資訊")?;
    c.expect(0x30, "EncryptedContentInfo")?;
    let ct_type = c.element(0x06, "內容型別")?;
    let alg = c.element(0x30, "加密演算法")?;
    let (tag, ct_len, _) = c.header()?;
    if tag != 0x80 {
        return Err(malformed("加密內容不是單一定長字串（串流處理只接受 DER）"));
    }
    let ct_start = c.pos;
    let ed_end = ed_start + ed_len;
    let trailer_len = ed_end
        .checked_sub(ct_start + ct_len)
        .ok_or_else(|| malformed("加密內容長度超出 EnvelopedData"))?;
    if trailer_len > MAX_SMALL {
        return Err(malformed("未加密屬性過大"));
    }
    // The header first: it sits after the ciphertext.
    let mut file = c.r.into_inner();
    let file_len = file.metadata().map_err(io(package))?.len();
    if file_len < ed_end {
        return Err(malformed("封包被截斷"));
    }
    file.seek(SeekFrom::Start(ct_start + ct_len))
        .map_err(io(package))?;
    let mut trailer = vec![0u8; trailer_len as usize];
    file.read_exact(&mut trailer)
        .map_err(|_| malformed("封包被截斷"))?;
    let mut eci = tl(0x30, (ct_type.len() + alg.len()) as u64);
    eci.extend_from_slice(&ct_type);
    eci.extend_from_slice(&alg);
    let parts = [&version[..], &recips, &eci, &trailer].concat();
    let mut ed_der = tl(0x30, parts.len() as u64);
    ed_der.extend_from_slice(&parts);
    let ed = EnvelopedData::from_der(&ed_der).map_err(cms::malformed)?;
    Ok(Outer {
        ed,
        file,
        ct_start,
        ct_len,
        end: ed_end,
    })
}

/// What a center does with a package on disk: the header checked against the ciphertext,
/// read in chunks (no key, memory independent of the size). The file must hold exactly one
/// package: trailing bytes are refused too.
pub fn inspect_file(package: &Path) -> Result<Inspected, TrustError> {
    let Outer {
        ed,
        mut file,
        ct_start,
        ct_len,
        end,
    } = outer(package)?;
    if file.metadata().map_err(io(package))?.len() != end {
        return Err(malformed("封包之後還有多餘的資料"));
    }
    let inspected = signed_header(&ed)?;
    file.seek(SeekFrom::Start(ct_start)).map_err(io(package))?;
    let mut r = BufReader::with_capacity(CHUNK, file).take(ct_len);
    let mut ctx = Context::new(&SHA256);
    let mut buf = vec![0u8; CHUNK];
    let mut seen = 0u64;
    loop {
        let n = r.read(&mut buf).map_err(io(package))?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
        seen += n as u64;
    }
    if seen != ct_len {
        return Err(malformed("封包被截斷"));
    }
    check_body_digest(&inspected.header, &hex(ctx.finish().as_ref()))?;
    Ok(inspected)
}

/// A package opened from a file: the files are in `out` under their names.
pub struct OpenedFiles {
    pub header: PackageHeader,
    pub files: Vec<PathBuf>,
    pub signer: Certificate,
    pub signed_at: i64,
    pub trust: Evaluation,
}

struct Extracted {
    name: String,
    tmp: PathBuf,
    size: u64,
    sha256: String,
}

/// Extracts the tar stream into `dir` under temporary names; the manifest stays in memory.
fn extract(
    r: &mut dyn Read,
    dir: &Path,
    tag: &str,
) -> Result<(Vec<Extracted>, Vec<u8>), TrustError> {
    let bad = |e: std::io::Error| malformed(format!("封包內容讀取失敗：{e}"));
    let mut files: Vec<Extracted> = Vec::new();
    let mut manifest = None;
    let mut block = [0u8; 512];
    let mut buf = vec![0u8; CHUNK];
    loop {
        r.read_exact(&mut block).map_err(bad)?;
        if block.iter().all(|b| *b == 0) {
            break;
        }
        if files.len() + manifest.is_some() as usize > MAX_FILES {
            return Err(malformed("封包內的檔案過多"));
        }
        let (name, size) = tar::parse_header(&block)?;
        if files.iter().any(|f| f.name == name) || manifest.is_some() {
            return Err(malformed(format!(
                "封包內容的檔案順序或名稱有誤：「{name}」"
            )));
        }
        let pad = tar::padding(size);
        if name == MANIFEST {
            if size > MAX_SMALL {
                return Err(malformed("package.json 過大"));
            }
            let mut m = vec![0u8; size as usize];
            r.read_exact(&mut m).map_err(bad)?;
            manifest = Some(m);
        } else {
            let tmp = dir.join(format!(".{name}.{tag}.part"));
            let mut f = create_file(&tmp, true).map_err(io(&tmp))?;
            // Listed before it is written, so a failure below still removes the part file.
            files.push(Extracted {
                name,
                tmp: tmp.clone(),
                size,
                sha256: String::new(),
            });
            let at = files.len() - 1;
            let mut hash = BackgroundHash::new();
            let mut left = size;
            while left > 0 {
                let n = left.min(CHUNK as u64) as usize;
                r.read_exact(&mut buf[..n]).map_err(bad)?;
                hash.update(&buf[..n]);
                f.write_all(&buf[..n]).map_err(io(&tmp))?;
                left -= n as u64;
            }
            f.sync_all().map_err(io(&tmp))?;
            files[at].sha256 = hash.finish();
        }
        let mut p = vec![0u8; pad];
        r.read_exact(&mut p).map_err(bad)?;
    }
    // The rest of the archive is zero padding.
    let mut rest = Vec::new();
    r.take(64 * 1024).read_to_end(&mut rest).map_err(bad)?;
    if rest.iter().any(|b| *b != 0) || rest.len() >= 64 * 1024 {
        return Err(malformed("封包內容結尾有多餘的資料"));
    }
    let manifest = manifest.ok_or_else(|| mismatch("內容缺少 package.json"))?;
    Ok((files, manifest))
}

/// Digests what passes through.
struct Hashing<'a, R> {
    r: R,
    ctx: &'a mut Context,
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        let n = self.r.read(b)?;
        self.ctx.update(&b[..n]);
        Ok(n)
    }
}

/// Opens a package file into `out` (created if missing), checking what [`super::open`] checks.
/// Nothing is left in `out` unless everything passed; existing files are never replaced.
pub fn open_to_dir(
    package: &Path,
    me: &Recipient,
    trust: &TrustStore,
    bound_keys: &dyn Fn(&str) -> Vec<[u8; 32]>,
    out: &Path,
) -> Result<OpenedFiles, TrustError> {
    let Outer {
        ed,
        mut file,
        ct_start,
        ct_len,
        ..
    } = outer(package)?;
    let inspected: Inspected = signed_header(&ed)?;
    let (key, iv) = cms::content_key(&ed, me.key, me.cert)?;
    let key: UnboundCipherKey = key;
    file.seek(SeekFrom::Start(ct_start)).map_err(io(package))?;
    let dec =
        StreamingDecryptingKey::cbc_pkcs7(key, DecryptionContext::Iv128(FixedLength::from(iv)))
            .map_err(TrustError::crypto)?;
    let mut plain = Decrypting {
        src: BufReader::with_capacity(CHUNK, file),
        left: ct_len,
        key: Some(dec),
        digest: BackgroundHash::new(),
        buf: vec![0u8; CHUNK],
        tmp: vec![0u8; CHUNK + 32],
        out: Vec::new(),
        pos: 0,
        failed: false,
    };
    // Refuse to overwrite before writing anything.
    for entry in &inspected.header.files {
        gongwen_doc::safe_file_name(&entry.name).map_err(mismatch)?;
        let p = out.join(&entry.name);
        if p.exists() {
            return Err(TrustError::Exists {
                path: p.display().to_string(),
            });
        }
    }
    let created = !out.exists();
    private_dir(out).map_err(io(out))?;
    let tag = format!("{}-{}", std::process::id(), &inspected.header.id);
    let mut extracted: Vec<Extracted> = Vec::new();
    let result = (|| {
        let mut inner = Cursor {
            r: &mut plain,
            pos: 0,
        };
        inner.expect(0x30, "ContentInfo")?;
        let oid = inner.element(0x06, "內容型別")?;
        if Oid::from_der(&oid).map_err(cms::malformed)? != cms::ID_SIGNED_DATA {
            return Err(malformed("內層不是簽章資料（SignedData）"));
        }
        inner.expect(0xa0, "內容")?;
        inner.expect(0x30, "SignedData")?;
        let version = inner.element(0x02, "版本")?;
        let digests = inner.element(0x31, "摘要演算法")?;
        inner.expect(0x30, "EncapsulatedContentInfo")?;
        let data_oid = inner.element(0x06, "內容型別")?;
        inner.expect(0xa0, "內容")?;
        let content_len = inner.expect(0x04, "內容字串")?;
        let mut content_digest = Context::new(&SHA256);
        {
            let mut limited = Hashing {
                r: (&mut inner.r).take(content_len),
                ctx: &mut content_digest,
            };
            let (files, manifest) = extract(&mut limited, out, &tag)?;
            extracted = files;
            let mut rest = Vec::new();
            limited.read_to_end(&mut rest).map_err(malformed)?;
            if !rest.is_empty() {
                return Err(malformed("封包內容長度不符"));
            }
            let content_digest = content_digest.finish();
            // Certificates and signer infos: the rest of the decrypted stream.
            let mut tail = Vec::new();
            (&mut inner.r)
                .take(MAX_SMALL + 1)
                .read_to_end(&mut tail)
                .map_err(|_| TrustError::Decrypt)?;
            if inner.r.failed {
                return Err(TrustError::Decrypt);
            }
            let mut sd_body = [&version[..], &digests].concat();
            let mut encap = tl(0x30, data_oid.len() as u64);
            encap.extend_from_slice(&data_oid);
            sd_body.extend_from_slice(&encap);
            sd_body.extend_from_slice(&tail);
            let (sd, certs) = cms::decode_signed(
                &Any::new(der::Tag::Sequence, sd_body).map_err(cms::malformed)?,
            )?;
            let digest = content_digest.as_ref().to_vec();
            let (signer, certs, signing_time) = cms::check_signed(
                &sd,
                certs,
                &|oid| {
                    if *oid == Oid::new_unwrap("2.16.840.1.101.3.4.2.1") {
                        Ok(digest.clone())
                    } else {
                        Err(unsupported(format!("串流處理的摘要演算法 {oid}")))
                    }
                },
                None,
            )?;
            Ok((
                manifest,
                Signed {
                    signer,
                    certs,
                    signing_time,
                },
            ))
        }
    })();
    // On failure: no file and, if we made it, no directory left behind.
    let cleanup = |files: &[Extracted]| {
        for f in files {
            let _ = std::fs::remove_file(&f.tmp);
        }
        if created {
            let _ = std::fs::remove_dir(out);
        }
    };
    let failed = plain.failed;
    let body_sha256 = plain.ciphertext_digest();
    let (manifest, signed) = match result {
        Ok(v) => v,
        Err(e) => {
            cleanup(&extracted);
            // Changed in transit: say so, as a center would. Otherwise a wrong key or bad
            // padding shows up as garbage or a padding failure.
            check_body_digest(&inspected.header, &body_sha256)?;
            return Err(if failed { TrustError::Decrypt } else { e });
        }
    };
    let checked = (|| {
        check_body_digest(&inspected.header, &body_sha256)?;
        let entries: Vec<(String, u64, String)> = extracted
            .iter()
            .map(|f| (f.name.clone(), f.size, f.sha256.clone()))
            .collect();
        let (header, signed_at, evaluation) =
            check_opened(inspected, &signed, &manifest, &entries, trust, bound_keys)?;
        check_documents(
            &header,
            &|i| {
                let f = &extracted[i];
                if f.size > MAX_DOC {
                    return Err(TrustError::Content {
                        detail: format!("{} 過大", f.name),
                    });
                }
                std::fs::read(&f.tmp).map_err(io(&f.tmp))
            },
            me.code,
        )?;
        Ok((header, signed_at, evaluation))
    })();
    let (header, signed_at, evaluation) = match checked {
        Ok(v) => v,
        Err(e) => {
            cleanup(&extracted);
            return Err(e);
        }
    };
    let mut files = Vec::new();
    for f in &extracted {
        let dst = out.join(&f.name);
        std::fs::rename(&f.tmp, &dst).map_err(io(&dst))?;
        files.push(dst);
    }
    Ok(OpenedFiles {
        header,
        files,
        signer: signed.signer,
        signed_at,
        trust: evaluation,
    })
}

/// Creates a folder (and missing parents) only its owner may enter (0700).
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}
