//! The sealed package (交換封包): what the centers carry.
//!
//! ```text
//! ContentInfo(EnvelopedData)                 ← `openssl cms -decrypt` opens the file as it is
//!   recipientInfos: one RSA-OAEP KeyTransRecipientInfo per recipient encryption certificate
//!   encryptedContent (AES-256-CBC) = ContentInfo(SignedData)   ← `openssl cms -verify`
//!       content = ustar archive                                 ← `tar -x`
//!           <base>.di, <base>.sw, attachments under the names the DI declares
//!           package.json   the header as the sender signed it (without the body digest)
//!   unprotectedAttrs: the routing header = ContentInfo(SignedData) over header JSON,
//!       which carries the SHA-256 of encryptedContent
//! ```
//!
//! A center reads and checks the header without any key ([`inspect`]); the recipient checks
//! everything ([`open`]). The two signatures bind both ways: the header signs the ciphertext
//! digest, and the signed content repeats the header.

pub mod stream;
pub mod tar;

use ::cms::enveloped_data::EnvelopedData;
use der::asn1::{Any, ObjectIdentifier as Oid, SetOfVec};
use der::{Decode, Encode};
use gongwen_doc::{Addressee, AgencyCode, CopyKind, Di, Party, Roster};
use x509_cert::Certificate;

use crate::TrustError;
use crate::cms::{self, Signer};
use crate::keys::PrivateKey;
use crate::path::{Evaluation, Purpose, TrustStore, check_binding, hex};

/// The unprotected attribute that carries the routing header. The arc is IANA's documentation
/// enterprise number (RFC 5612): Gongwen has no registered arc yet, and this must move to one
/// before packages are exchanged with other implementations (readers match it by value).
pub(crate) const ATTR_PACKAGE_HEADER: Oid = Oid::new_unwrap("1.3.6.1.4.1.32473.1.1");
pub(crate) const MANIFEST: &str = "package.json";
/// Files a package may hold (DI, SW, and attachments).
pub(crate) const MAX_FILES: usize = 1000;

pub use gongwen_proto::{FileEntry, FileRole, HeaderOptions, HeaderRecipient, PackageHeader};

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref())
}

/// A file held in memory as the header lists it.
fn entry((name, bytes): &(String, Vec<u8>), role: FileRole) -> FileEntry {
    FileEntry {
        name: name.clone(),
        role,
        size: bytes.len() as u64,
        sha256: sha256_hex(bytes),
    }
}

pub(crate) fn content_err(detail: impl Into<String>) -> TrustError {
    TrustError::Content {
        detail: detail.into(),
    }
}

pub(crate) fn mismatch(detail: impl Into<String>) -> TrustError {
    TrustError::HeaderMismatch {
        detail: detail.into(),
    }
}

/// What the sender hands in: the files as they lie on disk (name, bytes).
pub struct SealInput<'a> {
    pub di: (String, Vec<u8>),
    pub sw: Option<(String, Vec<u8>)>,
    pub attachments: Files,
    pub signer: Signer<'a>,
    /// The recipients' encryption certificates.
    pub recipients: &'a [Certificate],
    /// 立即確認, a correction's original, the groups addressed.
    pub options: HeaderOptions,
    pub now: i64,
}

pub(crate) fn recipients_of(
    di: &Di,
    roster: Option<&Roster>,
) -> Result<Vec<HeaderRecipient>, TrustError> {
    let of = |p: &Party, copy: CopyKind| HeaderRecipient {
        code: p.agency_code().to_string(),
        unit: match p {
            Party::Unit { unit_code, .. } => Some(unit_code.to_string()),
            Party::Person { unit_code, .. } => unit_code.as_ref().map(|u| u.to_string()),
            Party::Agency { .. } => None,
        },
        copy: copy.as_str().to_string(),
    };
    if let Some(r) = roster {
        return Ok(r
            .entries
            .iter()
            .map(|e| of(&e.party, e.copy_kind))
            .collect());
    }
    match di.document.addressee() {
        Some(Addressee::Direct { party, .. }) => Ok(vec![of(party, CopyKind::Primary)]),
        _ => Err(content_err("一文多發的公文需要附上交換表單（SW）")),
    }
}

/// The agency codes a DI (with its SW, if any) sends to, each once, in order: whose
/// encryption certificates a sealer needs.
pub fn recipient_codes(di: &[u8], sw: Option<&[u8]>) -> Result<Vec<String>, TrustError> {
    let di = gongwen_doc::read_di(di).map_err(|e| content_err(e.to_string()))?;
    let roster = sw
        .map(gongwen_doc::read_roster)
        .transpose()
        .map_err(|e| content_err(e.to_string()))?;
    let mut out: Vec<String> = Vec::new();
    for r in recipients_of(&di, roster.as_ref())? {
        if !out.contains(&r.code) {
            out.push(r.code);
        }
    }
    Ok(out)
}

/// Files by name, in package order.
pub type Files = Vec<(String, Vec<u8>)>;

/// What the header repeats from the signed DI for people's lists: 發文字號, 主旨, 速別.
#[derive(Debug, PartialEq, Eq)]
struct Claims {
    doc_number: String,
    subject: String,
    urgency: String,
}

impl Claims {
    fn of(doc: &gongwen_doc::Document) -> Claims {
        Claims {
            doc_number: doc
                .numbers()
                .first()
                .map(|n| n.to_string())
                .unwrap_or_default(),
            subject: doc.subject().to_string(),
            urgency: doc.urgency().as_str().to_string(),
        }
    }

    fn of_header(h: &PackageHeader) -> Claims {
        Claims {
            doc_number: h.doc_number.clone(),
            subject: h.subject.clone(),
            urgency: h.urgency.clone(),
        }
    }
}

/// Checks the documents and builds the header (without the body digest). `attachments` are
/// the entries of the attachment files (their bytes may be streamed, so only name, size and
/// digest are needed here).
pub(crate) fn header_for(
    di_file: &(String, Vec<u8>),
    sw_file: Option<&(String, Vec<u8>)>,
    attachments: Vec<FileEntry>,
    options: &HeaderOptions,
    now: i64,
) -> Result<PackageHeader, TrustError> {
    let di =
        gongwen_doc::read_di(&di_file.1).map_err(|e| content_err(format!("{}：{e}", di_file.0)))?;
    let doc = &di.document;
    // Valid is not enough to send: a date, a number, and never a classified document.
    let not_ready = gongwen_doc::exchange_problems(doc);
    if !not_ready.is_empty() {
        let list: Vec<String> = not_ready.iter().map(|p| p.to_string()).collect();
        return Err(content_err(format!(
            "{}：尚未備妥電子交換：{}",
            di_file.0,
            list.join("；")
        )));
    }
    let sender = doc
        .issuers()
        .first()
        .map(|i| i.agency_code.to_string())
        .ok_or_else(|| content_err("公文沒有含機關代碼的發文機關"))?;
    let roster = match sw_file {
        Some((name, bytes)) => {
            if let Some(decl) = &di.roster
                && decl.file != *name
            {
                return Err(content_err(format!(
                    "DI 宣告的交換表單是「{}」，附上的是「{name}」",
                    decl.file
                )));
            }
            Some(gongwen_doc::read_roster(bytes).map_err(|e| content_err(format!("{name}：{e}")))?)
        }
        None => None,
    };
    let recipients = recipients_of(&di, roster.as_ref())?;
    // Exactly the attachments the DI declares, under the declared names.
    let declared: Vec<&str> = di
        .attachment_files
        .iter()
        .map(|a| a.file.as_str())
        .collect();
    for a in &attachments {
        if !declared.contains(&a.name.as_str()) {
            return Err(content_err(format!(
                "附件「{}」不在 DI 的附件宣告中",
                a.name
            )));
        }
    }
    for d in &declared {
        if !attachments.iter().any(|a| a.name == *d) {
            return Err(content_err(format!("DI 宣告的附件「{d}」沒有附上")));
        }
    }
    let mut files = vec![entry(di_file, FileRole::Di)];
    if let Some(sw) = sw_file {
        files.push(entry(sw, FileRole::Sw));
    }
    files.extend(attachments);
    for f in &files {
        gongwen_doc::safe_file_name(&f.name).map_err(content_err)?;
    }
    // The sealing second first, then 88 random bits: packages sealed together sort together,
    // so a center's indexes keyed by package id grow at one end instead of touching a random
    // page for every new package.
    let mut id = [0u8; 16];
    id[..5].copy_from_slice(&(now.max(0) as u64).to_be_bytes()[3..]);
    aws_lc_rs::rand::fill(&mut id[5..]).map_err(TrustError::crypto)?;
    let claims = Claims::of(doc);
    let mut header = PackageHeader {
        version: 1,
        id: hex(&id),
        sender,
        created: now,
        recipients,
        doc_number: claims.doc_number,
        subject: claims.subject,
        urgency: claims.urgency,
        secrecy: None,
        confirm_now: false,
        resend: None,
        groups: Vec::new(),
        files,
        body_sha256: None,
    };
    header.apply(options);
    header.check().map_err(content_err)?;
    Ok(header)
}

/// Seals a document for its recipients: signs the content, encrypts it to every recipient
/// certificate at once, and attaches the signed routing header.
pub fn seal(input: &SealInput) -> Result<(Vec<u8>, PackageHeader), TrustError> {
    seal_edited(input, |_| {})
}

/// Like [`seal`], with the header (routing header and signed manifest alike) edited after it
/// was built and checked: what a participant with a valid card but its own tools can make.
/// For the tests that play such a sender; centers and recipients must refuse what it makes
/// wrongly.
pub fn seal_edited(
    input: &SealInput,
    edit: impl FnOnce(&mut PackageHeader),
) -> Result<(Vec<u8>, PackageHeader), TrustError> {
    let attachments = input
        .attachments
        .iter()
        .map(|f| entry(f, FileRole::Attachment))
        .collect();
    let mut header = header_for(
        &input.di,
        input.sw.as_ref(),
        attachments,
        &input.options,
        input.now,
    )?;
    edit(&mut header);
    let mut files = vec![input.di.clone()];
    files.extend(input.sw.clone());
    files.extend(input.attachments.iter().cloned());
    let manifest = serde_json::to_vec_pretty(&header).map_err(TrustError::crypto)?;
    // The manifest goes last: a streaming writer knows the files' digests only after them.
    let mut entries = files;
    entries.push((MANIFEST.to_string(), manifest));
    let archive = tar::write(&entries, input.now)?;
    let signed = cms::sign(&archive, &input.signer, input.now)?;
    let mut ed = cms::envelop(&signed, input.recipients)?;
    header.body_sha256 = Some(sha256_hex(sealed_body(&ed)));
    attach_header(&mut ed, &header, &input.signer, input.now)?;
    Ok((cms::wrap_enveloped(&ed)?, header))
}

/// Signs `header` and puts it in the EnvelopedData's unprotected attributes.
pub(crate) fn attach_header(
    ed: &mut EnvelopedData,
    header: &PackageHeader,
    signer: &Signer,
    now: i64,
) -> Result<(), TrustError> {
    let header_json = serde_json::to_vec(header).map_err(TrustError::crypto)?;
    let signed_header = cms::sign(&header_json, signer, now)?;
    let mut attrs = SetOfVec::new();
    attrs
        .insert(cms::attribute(
            ATTR_PACKAGE_HEADER,
            Any::from_der(&signed_header).map_err(cms::malformed)?,
        )?)
        .map_err(cms::malformed)?;
    ed.unprotected_attrs = Some(attrs);
    // RFC 5652 §6.1: with unprotected attributes the version is 2.
    ed.version = ::cms::content_info::CmsVersion::V2;
    Ok(())
}

/// The encrypted content: what the header's `body_sha256` covers.
pub(crate) fn sealed_body(ed: &EnvelopedData) -> &[u8] {
    ed.encrypted_content
        .encrypted_content
        .as_ref()
        .map(|o| o.as_bytes())
        .unwrap_or_default()
}

/// The header as its sender signed it, checked against the sealed body; no key needed.
pub struct Inspected {
    pub header: PackageHeader,
    /// The certificate that signed the header (trust is the caller's to evaluate).
    pub signer: Certificate,
    pub certs: Vec<Certificate>,
}

/// The header of `ed`, checked against `body`, its encrypted content (read in place, or
/// [`sealed_body`]).
fn header_of(ed: &EnvelopedData, body: &[u8]) -> Result<Inspected, TrustError> {
    let inspected = signed_header(ed)?;
    check_body_digest(&inspected.header, &sha256_hex(body))?;
    Ok(inspected)
}

pub(crate) fn check_body_digest(
    header: &PackageHeader,
    body_sha256: &str,
) -> Result<(), TrustError> {
    if header.body_sha256.as_deref() != Some(body_sha256) {
        return Err(mismatch("表頭記載的摘要與加密內容不符（內容被替換或竄改）"));
    }
    Ok(())
}

/// The header from the unprotected attributes, its signature checked (not yet the body).
pub(crate) fn signed_header(ed: &EnvelopedData) -> Result<Inspected, TrustError> {
    let attr = ed
        .unprotected_attrs
        .iter()
        .flat_map(|a| a.iter())
        .find(|a| a.oid == ATTR_PACKAGE_HEADER)
        .and_then(|a| a.values.iter().next())
        .ok_or_else(|| mismatch("沒有封包表頭（這不是 Gongwen 交換封包，或表頭被移除）"))?;
    let v = cms::verify(&attr.to_der().map_err(cms::malformed)?)?;
    let header: PackageHeader =
        serde_json::from_slice(&v.content).map_err(|e| mismatch(format!("表頭無法解讀：{e}")))?;
    if header.version != 1 {
        return Err(mismatch(format!("表頭版本 {} 不支援", header.version)));
    }
    header.check().map_err(mismatch)?;
    Ok(Inspected {
        header,
        signer: v.signer,
        certs: v.certs,
    })
}

/// What a center does with a package: read the header and check it belongs to this body.
pub fn inspect(package: &[u8]) -> Result<Inspected, TrustError> {
    if let Some((ed, body)) = cms::enveloped_apart(package)? {
        return header_of(&ed, body);
    }
    let ed = cms::parse_enveloped(package)?;
    header_of(&ed, sealed_body(&ed))
}

/// A package opened and checked.
pub struct Opened {
    pub header: PackageHeader,
    /// The files, in the order the sender packed them (DI, SW, attachments).
    pub files: Files,
    pub signer: Certificate,
    /// signingTime of the content, the time the chain was checked at.
    pub signed_at: i64,
    pub trust: Evaluation,
}

/// Who is opening: the recipient's decryption key and certificate, and its 機關代碼.
pub struct Recipient<'a> {
    pub key: &'a PrivateKey,
    pub cert: &'a Certificate,
    pub code: &'a AgencyCode,
}

/// Opens a package and checks everything: decryption, both signatures, the signer's chain and
/// revocation at signing time, that the signer's key is bound to the sender's code
/// (`bound_keys(code)` gives the SPKI SHA-256 the directory lists for a code), the header
/// against the content, that the DI's 發文機關 is the sender, and that this recipient is listed.
pub fn open(
    package: &[u8],
    me: &Recipient,
    trust: &TrustStore,
    bound_keys: &dyn Fn(&str) -> Vec<[u8; 32]>,
) -> Result<Opened, TrustError> {
    let ed = cms::parse_enveloped(package)?;
    let inspected = header_of(&ed, sealed_body(&ed))?;
    let inner = cms::open_enveloped(&ed, me.key, me.cert)?;
    let v = cms::verify(&inner)?;
    let mut files = tar::read(&v.content, MAX_FILES + 1)?;
    let manifest = match files.pop() {
        Some((name, bytes)) if name == MANIFEST => bytes,
        _ => return Err(mismatch("內容缺少 package.json")),
    };
    let entries: Vec<(String, u64, String)> = files
        .iter()
        .map(|(n, b)| (n.clone(), b.len() as u64, sha256_hex(b)))
        .collect();
    let signer = Signed {
        signer: v.signer,
        certs: v.certs,
        signing_time: v.signing_time,
    };
    let (header, signed_at, evaluation) =
        check_opened(inspected, &signer, &manifest, &entries, trust, bound_keys)?;
    check_documents(&header, &|i| Ok(files[i].1.clone()), me.code)?;
    Ok(Opened {
        header,
        files,
        signer: signer.signer,
        signed_at,
        trust: evaluation,
    })
}

/// The inner signature as checked: who signed, the certificates carried, and when.
pub(crate) struct Signed {
    pub signer: Certificate,
    pub certs: Vec<Certificate>,
    pub signing_time: Option<i64>,
}

/// Everything after decryption that does not need the files' bytes: the two signers are one,
/// the chain at signing time, the sender's key binding, the manifest against the header, and
/// every file (name, size, SHA-256) against the header.
pub(crate) fn check_opened(
    inspected: Inspected,
    v: &Signed,
    manifest: &[u8],
    files: &[(String, u64, String)],
    trust: &TrustStore,
    bound_keys: &dyn Fn(&str) -> Vec<[u8; 32]>,
) -> Result<(PackageHeader, i64, Evaluation), TrustError> {
    if v.signer != inspected.signer {
        return Err(mismatch("表頭與內容不是同一張憑證簽署的"));
    }
    let signed_at = v
        .signing_time
        .ok_or_else(|| mismatch("內容簽章沒有簽署時間"))?;
    let mut intermediates = v.certs.clone();
    intermediates.extend(inspected.certs.iter().cloned());
    let evaluation = trust.evaluate(&v.signer, &intermediates, signed_at, Purpose::Signing)?;
    let header = inspected.header;
    check_binding(&v.signer, &header.sender, bound_keys, "簽署憑證")?;
    let signed_copy: PackageHeader = serde_json::from_slice(manifest)
        .map_err(|e| mismatch(format!("package.json 無法解讀：{e}")))?;
    let mut expected = header.clone();
    expected.body_sha256 = None;
    if signed_copy != expected {
        return Err(mismatch("表頭與內容中的 package.json 不同"));
    }
    if files.len() != header.files.len() {
        return Err(mismatch("檔案數與表頭不符"));
    }
    for ((name, size, sha), entry) in files.iter().zip(&header.files) {
        if *name != entry.name || *size != entry.size || *sha != entry.sha256 {
            return Err(mismatch(format!("檔案「{name}」與表頭記載不符")));
        }
    }
    Ok((header, signed_at, evaluation))
}

/// The DI's 發文機關 is the sender, and this recipient is among the electronic recipients.
/// `bytes(i)` gives the bytes of the header's file `i` (read from memory or from disk).
pub(crate) fn check_documents(
    header: &PackageHeader,
    bytes: &dyn Fn(usize) -> Result<Vec<u8>, TrustError>,
    me: &AgencyCode,
) -> Result<(), TrustError> {
    let find = |role: FileRole| header.files.iter().position(|f| f.role == role);
    let di_index = find(FileRole::Di).ok_or_else(|| content_err("封包中沒有 DI"))?;
    let di_name = &header.files[di_index].name;
    let di = gongwen_doc::read_di(&bytes(di_index)?)
        .map_err(|e| content_err(format!("{di_name}：{e}")))?;
    if !di
        .document
        .issuers()
        .iter()
        .any(|i| i.agency_code.as_str() == header.sender)
    {
        return Err(content_err(format!(
            "DI 的發文機關不是封包的發文者 {}",
            header.sender
        )));
    }
    // The recipient's lists, webhooks and records show the header's words: they must be the
    // signed DI's, not whatever the sender's header claims.
    if Claims::of_header(header) != Claims::of(&di.document) {
        return Err(mismatch("表頭的發文字號、主旨或速別與簽署的公文（DI）不同"));
    }
    let roster = match find(FileRole::Sw) {
        Some(i) => Some(
            gongwen_doc::read_roster(&bytes(i)?)
                .map_err(|e| content_err(format!("{}：{e}", header.files[i].name)))?,
        ),
        None => None,
    };
    let listed = recipients_of(&di, roster.as_ref())?;
    if listed != header.recipients {
        return Err(mismatch("表頭的受文者與交換表單不同"));
    }
    if !listed.iter().any(|r| r.code == me.as_str()) {
        return Err(content_err(format!("本機關（{me}）不在此公文的交換表單中")));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
