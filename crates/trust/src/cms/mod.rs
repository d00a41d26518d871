//! CMS (RFC 5652) as stock OpenSSL writes and reads it: SignedData (SHA-256, signingTime, the
//! signer's chain included) and EnvelopedData (AES-256-CBC, one RSA-OAEP RecipientInfo per
//! recipient; PKCS#1 v1.5 and BER accepted on input). We always write DER.
//!
//! This is the cryptographic core of the sealed package (交換封包); the package layout, the
//! signed routing header and certificate-path checks build on it.

pub mod ber;
pub(crate) mod frame;

use ::cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use ::cms::content_info::{CmsVersion, ContentInfo};
use ::cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use ::cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, DecryptionContext, PaddedBlockDecryptingKey,
    PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey};
use aws_lc_rs::signature;
use der::asn1::{Any, ObjectIdentifier as Oid, OctetString, SetOfVec, UtcTime};
use der::{Decode, Encode};
pub use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::time::Time;

use crate::TrustError;
use crate::keys::{Hash, KeyTransport, PrivateKey};

pub(crate) const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
pub(crate) const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const ID_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.3");
const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
const ATTR_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const RSAES_OAEP: Oid = Oid::new_unwrap("1.2.840.113549.1.1.7");
const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
pub(crate) const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
pub(crate) const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
pub(crate) const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub(crate) const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
pub(crate) const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES192_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");

pub(crate) fn malformed(e: impl std::fmt::Display) -> TrustError {
    TrustError::Malformed {
        detail: e.to_string(),
    }
}

pub(crate) fn unsupported(what: impl Into<String>) -> TrustError {
    TrustError::Unsupported { what: what.into() }
}

fn bad_signature(detail: &str) -> TrustError {
    TrustError::BadSignature {
        detail: detail.into(),
    }
}

fn alg(oid: Oid, params: Option<Any>) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: params,
    }
}

fn null() -> Option<Any> {
    Some(Any::from(der::asn1::Null))
}

fn digest_of(oid: &Oid, data: &[u8]) -> Result<Vec<u8>, TrustError> {
    use aws_lc_rs::digest;
    let algorithm = match *oid {
        SHA256 => &digest::SHA256,
        SHA384 => &digest::SHA384,
        SHA512 => &digest::SHA512,
        _ => {
            return Err(unsupported(format!(
                "摘要演算法 {oid}（支援 SHA-256／384／512）"
            )));
        }
    };
    Ok(digest::digest(algorithm, data).as_ref().to_vec())
}

/// Certificates from PEM text (one or more `CERTIFICATE` blocks) or DER.
pub fn load_certs(data: &[u8]) -> Result<Vec<Certificate>, TrustError> {
    let unreadable = |e: der::Error| TrustError::Key {
        detail: format!("憑證檔無法解讀：{e}"),
    };
    let certs = if data.trim_ascii_start().starts_with(b"-----BEGIN") {
        Certificate::load_pem_chain(data).map_err(unreadable)?
    } else {
        vec![Certificate::from_der(data).map_err(unreadable)?]
    };
    if certs.is_empty() {
        return Err(TrustError::Key {
            detail: "檔案中沒有憑證".into(),
        });
    }
    Ok(certs)
}

/// The bits of a certificate's public key.
pub(crate) fn public_key(cert: &Certificate) -> &[u8] {
    cert.tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes()
}

fn issuer_and_serial(cert: &Certificate) -> IssuerAndSerialNumber {
    IssuerAndSerialNumber {
        issuer: cert.tbs_certificate.issuer.clone(),
        serial_number: cert.tbs_certificate.serial_number.clone(),
    }
}

pub(crate) fn attribute(oid: Oid, value: Any) -> Result<Attribute, TrustError> {
    let mut values = SetOfVec::new();
    values.insert(value).map_err(malformed)?;
    Ok(Attribute { oid, values })
}

/// What signing needs: the key, its certificate, and the chain up to (not including) the root.
pub struct Signer<'a> {
    pub key: &'a PrivateKey,
    pub cert: &'a Certificate,
    pub chain: &'a [Certificate],
}

/// SignedData with the content inside (attached), DER.
pub fn sign(content: &[u8], signer: &Signer, signing_time: i64) -> Result<Vec<u8>, TrustError> {
    let (prefix, suffix) = frame::attached(
        &digest_of(&SHA256, content)?,
        content.len() as u64,
        signer,
        signing_time,
    )?;
    let mut out = Vec::with_capacity(prefix.len() + content.len() + suffix.len());
    out.extend_from_slice(&prefix);
    out.extend_from_slice(content);
    out.extend_from_slice(&suffix);
    Ok(out)
}

/// SignedData over content whose SHA-256 is `digest`, without the content: [`frame`] splices
/// it in between the two halves it encodes.
pub(crate) fn signed_data(
    digest: &[u8],
    signer: &Signer,
    signing_time: i64,
) -> Result<SignedData, TrustError> {
    let secs = u64::try_from(signing_time).map_err(|_| unsupported("1970 年以前的簽署時間"))?;
    let time = UtcTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map(Time::UtcTime)
        .map_err(malformed)?;
    let mut attrs = SetOfVec::new();
    for (oid, value) in [
        (
            ATTR_CONTENT_TYPE,
            Any::encode_from(&ID_DATA).map_err(malformed)?,
        ),
        (
            ATTR_SIGNING_TIME,
            Any::encode_from(&time).map_err(malformed)?,
        ),
        (
            ATTR_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest).map_err(malformed)?).map_err(malformed)?,
        ),
    ] {
        attrs.insert(attribute(oid, value)?).map_err(malformed)?;
    }
    let signature = signer
        .key
        .sign_sha256(&attrs.to_der().map_err(malformed)?)?;
    let signature_algorithm = if signer.key.is_rsa() {
        alg(SHA256_WITH_RSA, null())
    } else {
        alg(ECDSA_SHA256, None)
    };
    let info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(issuer_and_serial(signer.cert)),
        digest_alg: alg(SHA256, None),
        signed_attrs: Some(attrs),
        signature_algorithm,
        signature: OctetString::new(signature).map_err(malformed)?,
        unsigned_attrs: None,
    };
    let mut certs = SetOfVec::new();
    for c in std::iter::once(signer.cert).chain(signer.chain) {
        // A chain file may repeat the signer's certificate; a SET holds each once.
        let choice = CertificateChoices::Certificate(c.clone());
        if !certs.iter().any(|x| x == &choice) {
            certs.insert(choice).map_err(malformed)?;
        }
    }
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms
        .insert(alg(SHA256, None))
        .map_err(malformed)?;
    let mut infos = SetOfVec::new();
    infos.insert(info).map_err(malformed)?;
    Ok(SignedData {
        version: CmsVersion::V1,
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(certs)),
        crls: None,
        signer_infos: SignerInfos(infos),
    })
}

pub(crate) fn wrap(content_type: Oid, inner: &impl Encode) -> Result<Vec<u8>, TrustError> {
    let inner = inner.to_der().map_err(malformed)?;
    ContentInfo {
        content_type,
        content: Any::from_der(&inner).map_err(malformed)?,
    }
    .to_der()
    .map_err(malformed)
}

/// Parses BER or DER ContentInfo of the expected type and returns its content.
fn unwrap(data: &[u8], want: Oid, what: &str) -> Result<Any, TrustError> {
    let der = ber::to_der(data)?;
    let ci = ContentInfo::from_der(&der).map_err(malformed)?;
    if ci.content_type != want {
        return Err(TrustError::Malformed {
            detail: format!("內容型別是 {}，需要{what}", ci.content_type),
        });
    }
    Ok(ci.content)
}

/// A checked signature: the content, who signed it and when they say they did.
#[derive(Debug, Clone)]
pub struct Verified {
    pub content: Vec<u8>,
    pub signer: Certificate,
    /// Every certificate the message carries (the signer's chain, for path building).
    pub certs: Vec<Certificate>,
    /// signingTime as claimed by the signer (Unix seconds), when present.
    pub signing_time: Option<i64>,
}

fn verify_alg(
    cert: &Certificate,
    digest: &Oid,
    sig_alg: &Oid,
) -> Result<&'static dyn signature::VerificationAlgorithm, TrustError> {
    let key_alg = &cert.tbs_certificate.subject_public_key_info.algorithm.oid;
    let fits = match *key_alg {
        RSA_ENCRYPTION => [
            RSA_ENCRYPTION,
            SHA256_WITH_RSA,
            SHA384_WITH_RSA,
            SHA512_WITH_RSA,
        ]
        .contains(sig_alg),
        EC_PUBLIC_KEY => [ECDSA_SHA256, ECDSA_SHA384].contains(sig_alg),
        _ => false,
    };
    if !fits {
        return Err(unsupported(format!(
            "簽章演算法 {sig_alg}（金鑰 {key_alg}；支援 RSA PKCS#1 v1.5 與 ECDSA）"
        )));
    }
    Ok(match (*key_alg, *digest) {
        (RSA_ENCRYPTION, SHA256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (RSA_ENCRYPTION, SHA384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (RSA_ENCRYPTION, SHA512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (EC_PUBLIC_KEY, SHA256) => &signature::ECDSA_P256_SHA256_ASN1,
        (EC_PUBLIC_KEY, SHA384) => &signature::ECDSA_P256_SHA384_ASN1,
        _ => {
            return Err(unsupported(format!(
                "簽章演算法（金鑰 {key_alg}、摘要 {digest}）"
            )));
        }
    })
}

fn attr(attrs: &SetOfVec<Attribute>, oid: Oid) -> Option<&Any> {
    attrs
        .iter()
        .find(|a| a.oid == oid)
        .and_then(|a| a.values.iter().next())
}

/// Checks a SignedData's signature (not yet who the signer is: that is trust evaluation, done
/// by the caller with the returned certificates). Accepts BER.
pub fn verify(data: &[u8]) -> Result<Verified, TrustError> {
    let (sd, certs) = decode_signed(&unwrap(data, ID_SIGNED_DATA, "簽章資料（SignedData）")?)?;
    let content = match &sd.encap_content_info.econtent {
        Some(any) => any
            .decode_as::<OctetString>()
            .map_err(malformed)?
            .into_bytes(),
        None => return Err(unsupported("分離式簽章（內容不在簽章資料中）")),
    };
    let (signer, certs, signing_time) =
        check_signed(&sd, certs, &|oid| digest_of(oid, &content), Some(&content))?;
    Ok(Verified {
        content,
        signer,
        certs,
        signing_time,
    })
}

/// Where the certificate set sits among a SignedData's fields (version, digest algorithms,
/// encapsulated content, then `[0] IMPLICIT CertificateSet`).
const CERTIFICATES_FIELD: usize = 3;

/// A SignedData (the SEQUENCE `sd`) and the X.509 certificates it carries, the certificates
/// parsed apart through [`certificate`]: a center checks a header and two receipts for every
/// document, each carrying the signer's certificate and its CA, and parsing those same few
/// certificates again and again was most of the cost of decoding.
pub(crate) fn decode_signed(sd: &Any) -> Result<(SignedData, Vec<Certificate>), TrustError> {
    if der::Tagged::tag(sd) != der::Tag::Sequence {
        return Err(malformed("簽章資料不是 SEQUENCE"));
    }
    let mut fields = der::SliceReader::new(sd.value()).map_err(malformed)?;
    let mut rest = Vec::with_capacity(sd.value().len());
    let mut certs = Vec::new();
    let mut i = 0;
    while !der::Reader::is_finished(&fields) {
        let tlv = der::Reader::tlv_bytes(&mut fields).map_err(malformed)?;
        if i == CERTIFICATES_FIELD && tlv.first() == Some(&0xA0) {
            let set = der::asn1::AnyRef::from_der(tlv).map_err(malformed)?;
            let mut choices = der::SliceReader::new(set.value()).map_err(malformed)?;
            while !der::Reader::is_finished(&choices) {
                let choice = der::Reader::tlv_bytes(&mut choices).map_err(malformed)?;
                // Attribute certificates and other formats ([0]…[3]) name nobody we check.
                if choice.first() == Some(&0x30) {
                    certs.push(certificate(choice)?);
                }
            }
        } else {
            rest.extend_from_slice(tlv);
        }
        i += 1;
    }
    let without = der::asn1::AnyRef::new(der::Tag::Sequence, &rest)
        .and_then(|a| a.to_der())
        .map_err(malformed)?;
    Ok((SignedData::from_der(&without).map_err(malformed)?, certs))
}

/// A process-wide memo of what is costly to work out again and keeps coming back (the same
/// few certificates and keys sign everything a center checks): the last few hundred kept, all
/// forgotten at once when full.
type Memo<V> = std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<Vec<u8>, V>>>;

fn memo<V: Clone, E>(
    memo: &Memo<V>,
    key: &[u8],
    make: impl FnOnce() -> Result<V, E>,
) -> Result<V, E> {
    let lock = || memo.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = lock().get(key) {
        return Ok(v.clone());
    }
    let v = make()?;
    let mut map = lock();
    if map.len() >= 512 {
        map.clear();
    }
    map.insert(key.to_vec(), v.clone());
    Ok(v)
}

/// Is `sig` a signature over `msg` by `key` (a SubjectPublicKey's bits)? Parsing an RSA key
/// and setting up its arithmetic cost a fifth of each check, so each key is parsed once.
pub(crate) fn signature_ok(
    alg: &'static dyn signature::VerificationAlgorithm,
    key: &[u8],
    msg: &[u8],
    sig: &[u8],
) -> bool {
    static KEYS: Memo<std::sync::Arc<signature::ParsedPublicKey>> =
        std::sync::LazyLock::new(Default::default);
    // The algorithms are statics: the address names one.
    let id = (alg as *const dyn signature::VerificationAlgorithm).cast::<()>() as usize;
    let named = [&id.to_le_bytes()[..], key].concat();
    memo(&KEYS, &named, || {
        signature::ParsedPublicKey::new(alg, key).map(std::sync::Arc::new)
    })
    .is_ok_and(|k| k.verify_sig(msg, sig).is_ok())
}

/// A certificate from its DER, parsed once.
fn certificate(der: &[u8]) -> Result<Certificate, TrustError> {
    static CERTS: Memo<Certificate> = std::sync::LazyLock::new(Default::default);
    memo(&CERTS, der, || {
        Certificate::from_der(der).map_err(malformed)
    })
}

/// Checks a SignedData's one signature, made by one of `certs`. `digest` gives the content's
/// digest for a digest algorithm (a streaming reader computes SHA-256 as the content passes);
/// `content` is only needed for the rare signature without signed attributes.
pub(crate) fn check_signed(
    sd: &SignedData,
    certs: Vec<Certificate>,
    digest: &dyn Fn(&Oid) -> Result<Vec<u8>, TrustError>,
    content: Option<&[u8]>,
) -> Result<(Certificate, Vec<Certificate>, Option<i64>), TrustError> {
    let mut infos = sd.signer_infos.0.iter();
    let info = infos
        .next()
        .ok_or_else(|| bad_signature("沒有任何簽署者"))?;
    if infos.next().is_some() {
        return Err(unsupported("多個簽署者的簽章資料"));
    }
    let signer = certs
        .iter()
        .find(|c| match &info.sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => *ias == issuer_and_serial(c),
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                subject_key_id(c).as_deref() == Some(ski.0.as_bytes())
            }
        })
        .ok_or(TrustError::SignerMissing)?
        .clone();
    let digest_oid = info.digest_alg.oid;
    let alg = verify_alg(&signer, &digest_oid, &info.signature_algorithm.oid)?;
    let key = public_key(&signer);
    let mut signing_time = None;
    let signed_bytes = match &info.signed_attrs {
        Some(attrs) => {
            let md = attr(attrs, ATTR_MESSAGE_DIGEST)
                .ok_or_else(|| bad_signature("簽署屬性缺少 messageDigest"))?;
            let md = md.decode_as::<OctetString>().map_err(malformed)?;
            if md.as_bytes() != digest(&digest_oid)? {
                return Err(bad_signature("內容摘要不符（內容在簽署後被更改）"));
            }
            match attr(attrs, ATTR_CONTENT_TYPE).map(|a| a.decode_as::<Oid>()) {
                Some(Ok(t)) if t == sd.encap_content_info.econtent_type => {}
                _ => {
                    return Err(bad_signature("簽署屬性的 contentType 不符"));
                }
            }
            if let Some(t) = attr(attrs, ATTR_SIGNING_TIME) {
                let t = Time::from_der(&t.to_der().map_err(malformed)?).map_err(malformed)?;
                signing_time = Some(t.to_unix_duration().as_secs() as i64);
            }
            attrs.to_der().map_err(malformed)?
        }
        None => content
            .ok_or_else(|| unsupported("沒有簽署屬性的串流簽章"))?
            .to_vec(),
    };
    if !signature_ok(alg, key, &signed_bytes, info.signature.as_bytes()) {
        return Err(bad_signature("簽章值與簽署者的公鑰不符"));
    }
    Ok((signer, certs, signing_time))
}

fn subject_key_id(cert: &Certificate) -> Option<Vec<u8>> {
    const SKI: Oid = Oid::new_unwrap("2.5.29.14");
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == SKI)
        .and_then(|e| OctetString::from_der(e.extn_value.as_bytes()).ok())
        .map(|o| o.into_bytes())
}

/// RSAES-OAEP-params (RFC 4055); all fields default to SHA-1.
#[derive(Clone, Debug, Eq, PartialEq, der::Sequence)]
struct OaepParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mgf: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    label: Option<AlgorithmIdentifierOwned>,
}

fn oaep_sha256() -> Result<Any, TrustError> {
    let sha256 = alg(SHA256, null());
    let params = OaepParams {
        hash: Some(sha256.clone()),
        mgf: Some(alg(
            MGF1,
            Some(Any::encode_from(&sha256).map_err(malformed)?),
        )),
        label: None,
    };
    Any::encode_from(&params).map_err(malformed)
}

fn hash_of(oid: &Oid) -> Result<Hash, TrustError> {
    Ok(match *oid {
        SHA1 => Hash::Sha1,
        SHA256 => Hash::Sha256,
        SHA384 => Hash::Sha384,
        SHA512 => Hash::Sha512,
        _ => return Err(unsupported(format!("OAEP 雜湊 {oid}"))),
    })
}

fn key_transport(a: &AlgorithmIdentifierOwned) -> Result<KeyTransport, TrustError> {
    match a.oid {
        RSA_ENCRYPTION => Ok(KeyTransport::Pkcs1),
        RSAES_OAEP => {
            let p: OaepParams = match &a.parameters {
                Some(any) => any.decode_as().map_err(malformed)?,
                None => OaepParams {
                    hash: None,
                    mgf: None,
                    label: None,
                },
            };
            let hash = p
                .hash
                .as_ref()
                .map_or(Ok(Hash::Sha1), |h| hash_of(&h.oid))?;
            let mgf_hash = match &p.mgf {
                None => Hash::Sha1,
                Some(m) if m.oid == MGF1 => {
                    let inner: AlgorithmIdentifierOwned = m
                        .parameters
                        .as_ref()
                        .ok_or_else(|| malformed("MGF1 缺少雜湊參數"))?
                        .decode_as()
                        .map_err(malformed)?;
                    hash_of(&inner.oid)?
                }
                Some(m) => return Err(unsupported(format!("遮罩產生函數 {}", m.oid))),
            };
            if hash != mgf_hash || p.label.is_some() {
                return Err(unsupported("OAEP 與 MGF1 使用不同雜湊，或帶標籤的 OAEP"));
            }
            Ok(KeyTransport::Oaep(hash))
        }
        other => Err(unsupported(format!("金鑰傳遞演算法 {other}"))),
    }
}

/// EnvelopedData for every recipient certificate at once (RSA keys; AES-256-CBC content,
/// RSA-OAEP with SHA-256 key transport), DER.
pub fn encrypt(content: &[u8], recipients: &[Certificate]) -> Result<Vec<u8>, TrustError> {
    wrap_enveloped(&envelop(content, recipients)?)
}

pub(crate) fn wrap_enveloped(ed: &EnvelopedData) -> Result<Vec<u8>, TrustError> {
    wrap(ID_ENVELOPED_DATA, ed)
}

pub(crate) fn envelop(
    content: &[u8],
    recipients: &[Certificate],
) -> Result<EnvelopedData, TrustError> {
    let (mut ed, cek, iv) = envelope_for(recipients)?;
    let key = UnboundCipherKey::new(&AES_256, &cek).map_err(TrustError::crypto)?;
    let enc = PaddedBlockEncryptingKey::cbc_pkcs7(key).map_err(TrustError::crypto)?;
    let mut body = content.to_vec();
    enc.less_safe_encrypt(
        &mut body,
        aws_lc_rs::cipher::EncryptionContext::Iv128(FixedLength::from(iv)),
    )
    .map_err(TrustError::crypto)?;
    ed.encrypted_content.encrypted_content = Some(OctetString::new(body).map_err(malformed)?);
    Ok(ed)
}

/// An EnvelopedData without its encrypted content yet: a fresh AES-256 key wrapped for every
/// recipient (RSA-OAEP, SHA-256) and a fresh IV, returned for the caller to encrypt with.
pub(crate) fn envelope_for(
    recipients: &[Certificate],
) -> Result<(EnvelopedData, [u8; 32], [u8; 16]), TrustError> {
    if recipients.is_empty() {
        return Err(TrustError::NoRecipients);
    }
    let mut cek = [0u8; 32];
    aws_lc_rs::rand::fill(&mut cek).map_err(TrustError::crypto)?;
    let mut iv = [0u8; 16];
    aws_lc_rs::rand::fill(&mut iv).map_err(TrustError::crypto)?;
    let mut infos = SetOfVec::new();
    for cert in recipients {
        let spki = &cert.tbs_certificate.subject_public_key_info;
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(unsupported(format!(
                "非 RSA 的加密憑證（{}）；請使用 RSA 加密憑證",
                spki.algorithm.oid
            )));
        }
        let public =
            PublicEncryptingKey::from_der(&spki.to_der().map_err(malformed)?).map_err(|_| {
                TrustError::Key {
                    detail: "加密憑證的 RSA 公鑰無法使用（至少需 2048 位元）".into(),
                }
            })?;
        let oaep = OaepPublicEncryptingKey::new(public).map_err(TrustError::crypto)?;
        let mut wrapped = vec![0u8; oaep.ciphertext_size()];
        let wrapped = oaep
            .encrypt(&OAEP_SHA256_MGF1SHA256, &cek, &mut wrapped, None)
            .map_err(TrustError::crypto)?;
        let info = RecipientInfo::Ktri(KeyTransRecipientInfo {
            version: CmsVersion::V0,
            rid: RecipientIdentifier::IssuerAndSerialNumber(issuer_and_serial(cert)),
            key_enc_alg: alg(RSAES_OAEP, Some(oaep_sha256()?)),
            enc_key: OctetString::new(wrapped.to_vec()).map_err(malformed)?,
        });
        if !infos.iter().any(|x| x == &info) {
            infos.insert(info).map_err(malformed)?;
        }
    }
    let ed = EnvelopedData {
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos: RecipientInfos(infos),
        encrypted_content: EncryptedContentInfo {
            content_type: ID_DATA,
            content_enc_alg: alg(
                AES256_CBC,
                Some(
                    Any::encode_from(&OctetString::new(iv).map_err(malformed)?)
                        .map_err(malformed)?,
                ),
            ),
            encrypted_content: None,
        },
        unprotected_attrs: None,
    };
    Ok((ed, cek, iv))
}

/// Opens EnvelopedData with the recipient's key and the certificate it was encrypted to.
/// Accepts BER, AES-128/192/256-CBC, RSA-OAEP (SHA-1/256/384/512) and PKCS#1 v1.5.
pub fn decrypt(data: &[u8], key: &PrivateKey, cert: &Certificate) -> Result<Vec<u8>, TrustError> {
    open_enveloped(&parse_enveloped(data)?, key, cert)
}

/// A DER EnvelopedData ContentInfo, decoded without its encrypted content, and that content
/// where it lies in `data`: a center reads a package's header and hashes its ciphertext without
/// copying the ciphertext twice (into the ContentInfo, then into the OCTET STRING). `None` for
/// any other shape (BER, constructed content), which [`parse_enveloped`] reads.
pub(crate) fn enveloped_apart(data: &[u8]) -> Result<Option<(EnvelopedData, &[u8])>, TrustError> {
    use frame::{elements, read_header, tl};
    fn value(tlv: &[u8]) -> Option<&[u8]> {
        let (_, h, len) = read_header(tlv).ok()?;
        (h + len as usize == tlv.len()).then(|| &tlv[h..])
    }
    let split = || -> Option<(Vec<u8>, &[u8])> {
        let ci = elements(value(data)?).ok()?;
        let [oid, explicit] = ci.as_slice() else {
            return None;
        };
        if Oid::from_der(oid).ok()? != ID_ENVELOPED_DATA || explicit.first() != Some(&0xA0) {
            return None;
        }
        let mut ed = Vec::new();
        let mut content = None;
        for field in elements(value(value(explicit)?)?).ok()? {
            // The first SEQUENCE is the EncryptedContentInfo (version is an INTEGER,
            // originatorInfo [0], recipientInfos a SET, unprotectedAttrs [1]).
            if field.first() == Some(&0x30) && content.is_none() {
                let mut eci = Vec::new();
                for part in elements(value(field)?).ok()? {
                    if part.first() == Some(&0x80) {
                        content = Some(value(part)?);
                    } else {
                        eci.extend_from_slice(part);
                    }
                }
                content?;
                ed.extend(tl(0x30, eci.len() as u64));
                ed.extend(eci);
            } else {
                ed.extend_from_slice(field);
            }
        }
        let mut out = tl(0x30, ed.len() as u64);
        out.extend(ed);
        Some((out, content?))
    };
    if !ber::is_der(data) {
        return Ok(None);
    }
    match split() {
        Some((ed, content)) => Ok(Some((
            EnvelopedData::from_der(&ed).map_err(malformed)?,
            content,
        ))),
        None => Ok(None),
    }
}

pub(crate) fn parse_enveloped(data: &[u8]) -> Result<EnvelopedData, TrustError> {
    unwrap(data, ID_ENVELOPED_DATA, "加密資料（EnvelopedData）")?
        .decode_as()
        .map_err(malformed)
}

/// The content-encryption key for this recipient, and the IV (the encrypted content itself
/// may be absent: a streaming reader decrypts it as it goes).
pub(crate) fn content_key(
    ed: &EnvelopedData,
    key: &PrivateKey,
    cert: &Certificate,
) -> Result<(UnboundCipherKey, [u8; 16]), TrustError> {
    let me = issuer_and_serial(cert);
    let my_ski = subject_key_id(cert);
    let ktri = ed
        .recip_infos
        .0
        .iter()
        .find_map(|ri| match ri {
            RecipientInfo::Ktri(k) => match &k.rid {
                RecipientIdentifier::IssuerAndSerialNumber(ias) if *ias == me => Some(k),
                RecipientIdentifier::SubjectKeyIdentifier(ski)
                    if my_ski.as_deref() == Some(ski.0.as_bytes()) =>
                {
                    Some(k)
                }
                _ => None,
            },
            _ => None,
        })
        .ok_or(TrustError::NotRecipient)?;
    let eci = &ed.encrypted_content;
    let (cipher, key_len) = match eci.content_enc_alg.oid {
        AES128_CBC => (&AES_128, 16),
        AES192_CBC => (&AES_192, 24),
        AES256_CBC => (&AES_256, 32),
        other => {
            return Err(unsupported(format!(
                "內容加密演算法 {other}（支援 AES-CBC）"
            )));
        }
    };
    let iv = eci
        .content_enc_alg
        .parameters
        .as_ref()
        .ok_or_else(|| malformed("AES-CBC 缺少初始向量"))?
        .decode_as::<OctetString>()
        .map_err(malformed)?;
    let iv: [u8; 16] = iv
        .as_bytes()
        .try_into()
        .map_err(|_| malformed("AES-CBC 初始向量長度應為 16 位元組"))?;
    let transport = key_transport(&ktri.key_enc_alg)?;
    let cek = key.unwrap_key(transport, ktri.enc_key.as_bytes(), key_len)?;
    if cek.len() != key_len {
        return Err(TrustError::Decrypt);
    }
    let unbound = UnboundCipherKey::new(cipher, &cek).map_err(|_| TrustError::Decrypt)?;
    Ok((unbound, iv))
}

pub(crate) fn open_enveloped(
    ed: &EnvelopedData,
    key: &PrivateKey,
    cert: &Certificate,
) -> Result<Vec<u8>, TrustError> {
    let (unbound, iv) = content_key(ed, key, cert)?;
    let eci = &ed.encrypted_content;
    let mut body = eci
        .encrypted_content
        .as_ref()
        .ok_or_else(|| unsupported("內容不在加密資料中的封包"))?
        .as_bytes()
        .to_vec();
    let dec = PaddedBlockDecryptingKey::cbc_pkcs7(unbound).map_err(TrustError::crypto)?;
    let plain = dec
        .decrypt(&mut body, DecryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| TrustError::Decrypt)?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests;
