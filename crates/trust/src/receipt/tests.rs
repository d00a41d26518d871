//! Receipts signed by a recipient, checked by us and by stock OpenSSL.

use std::path::PathBuf;

use super::*;
use crate::package::PackageHeader;
use crate::path::StaleCrl;
use crate::pki::{IssuedCert, KeyType, TestCa};
use crate::testutil::{
    SignerKeys, cert, fresh_dir, issue_agency, openssl_in, p256_ca, trust_store,
};

const T0: i64 = 1_767_580_200;

fn header() -> PackageHeader {
    PackageHeader {
        version: 1,
        id: "0123456789abcdef0123456789abcdef".into(),
        sender: "379000000A".into(),
        created: T0,
        recipients: vec![],
        doc_number: "府資字第1150001234號".into(),
        subject: "測試".into(),
        urgency: "普通件".into(),
        secrecy: None,
        confirm_now: false,
        resend: None,
        groups: vec![],
        files: vec![],
        body_sha256: Some("ab".repeat(32)),
    }
}

struct World {
    dir: PathBuf,
    ca: TestCa,
    dit: Vec<IssuedCert>,
}

fn world(name: &str) -> World {
    let dir = fresh_dir(&format!("receipt-{name}"));
    let mut ca = p256_ca(&dir, 5, T0);
    let dit = issue_agency(&mut ca, "379130000C", KeyType::P256, T0);
    World { dir, ca, dit }
}

fn sign_receipt(w: &World, req: &ReceiptRequest) -> Result<(Vec<u8>, Receipt), TrustError> {
    issue(req, &SignerKeys::new(&w.ca, &w.dit[0]).signer())
}

fn store(w: &World) -> TrustStore {
    trust_store(&w.ca, StaleCrl::Refuse)
}

fn req<'a>(h: &'a PackageHeader, event: ReceiptEvent) -> ReceiptRequest<'a> {
    ReceiptRequest {
        header: h,
        event,
        recipient: "379130000C",
        reason: None,
        text: None,
        receipt_number: None,
        now: T0 + 60,
    }
}

#[test]
fn a_return_with_its_reason_verifies_here_and_in_openssl() {
    let w = world("ok");
    let h = header();
    let r = ReceiptRequest {
        reason: Some(ReturnReason::Incomplete),
        text: Some("附件二無法開啟，請重新傳送".into()),
        ..req(&h, ReceiptEvent::Returned)
    };
    let (bytes, receipt) = sign_receipt(&w, &r).unwrap();
    assert_eq!(receipt.package_sha256, "ab".repeat(32));

    std::fs::write(w.dir.join("r.p7"), &bytes).unwrap();
    let (ok, out) = openssl_in(
        &w.dir,
        &format!(
            "cms -verify -inform DER -in r.p7 -CAfile root.crt -attime {}",
            T0 + 120
        ),
    );
    assert!(
        ok && out.contains("\"退文\"") && out.contains("附件不全"),
        "{out}"
    );

    let key = crate::path::spki_sha256(&cert(&w.dit[0])).unwrap();
    let v = verify(&bytes, &store(&w), &|c| {
        if c == "379130000C" { vec![key] } else { vec![] }
    })
    .unwrap();
    assert_eq!(v.receipt, receipt);
    assert_eq!(v.signed_at, T0 + 60);

    // Someone else's key for that code, a changed byte.
    let e = verify(&bytes, &store(&w), &|_| vec![]).err().unwrap();
    assert_eq!(e.code(), "E_PKG_SENDER");
    let mut t = bytes.clone();
    let at = t.windows(6).position(|x| x == "退文".as_bytes()).unwrap();
    t[at + 1] ^= 1;
    assert_eq!(
        verify(&t, &store(&w), &|_| vec![key]).err().unwrap().code(),
        "E_CMS_SIGNATURE"
    );
}

#[test]
fn receipts_say_what_they_must_and_nothing_else() {
    let w = world("rules");
    let h = header();
    let refusal = |r: &ReceiptRequest| sign_receipt(&w, r).err().unwrap().to_string();
    let e = refusal(&req(&h, ReceiptEvent::Returned));
    assert!(e.contains("退文必須註明原因"), "{e}");
    let bad = ReceiptRequest {
        reason: Some(ReturnReason::Other),
        ..req(&h, ReceiptEvent::Delivered)
    };
    assert!(sign_receipt(&w, &bad).is_err());
    let bad = ReceiptRequest {
        receipt_number: Some("北市資字第1150000456號".into()),
        ..req(&h, ReceiptEvent::Delivered)
    };
    assert!(refusal(&bad).contains("收文字號"));
    let ok = ReceiptRequest {
        receipt_number: Some("北市資字第1150000456號".into()),
        ..req(&h, ReceiptEvent::Confirmed)
    };
    let (_, r) = sign_receipt(&w, &ok).unwrap();
    assert_eq!(r.event.label(), "收文確認");
    assert_eq!(
        ReceiptEvent::parse("簽收").unwrap(),
        ReceiptEvent::Confirmed
    );
    let e = parse_reason("不想收").unwrap_err();
    assert!(e.to_string().contains("誤送"), "{e}");
}

#[test]
fn texts_the_system_writes_are_cut_to_fit_a_receipt() {
    let w = world("fit");
    let h = header();
    let long = format!("無法開啟或驗證：{}", "表頭無法解讀".repeat(200));
    let fitted = fit_text(&long);
    assert_eq!(fitted.chars().count(), TEXT_CHARS);
    assert!(fitted.ends_with('…') && long.starts_with(fitted.trim_end_matches('…')));
    assert_eq!(fit_text("  短的說明 "), "短的說明");
    let too_long = ReceiptRequest {
        reason: Some(ReturnReason::Unreadable),
        text: Some(long),
        ..req(&h, ReceiptEvent::Returned)
    };
    assert!(
        sign_receipt(&w, &too_long).is_err(),
        "a person's text is not cut"
    );
    let fits = ReceiptRequest {
        reason: Some(ReturnReason::Unreadable),
        text: Some(fitted),
        ..req(&h, ReceiptEvent::Returned)
    };
    let (der, _) = sign_receipt(&w, &fits).unwrap();
    assert!(der.len() < 16 * 1024, "{} bytes", der.len());
}
