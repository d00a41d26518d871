//! What the directory publishes: the signed snapshot the centers run on, and the address book
//! (地址簿) everyone may read. The directory builds these; centers and agents parse them.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The snapshot's `format` value; a center refuses any other.
pub const SNAPSHOT_FORMAT: &str = "gongwen-directory-snapshot/1";

/// Everything a center needs to know about the network, signed by the directory. A center
/// takes its participants, their keys and addresses, and the shared groups from the newest
/// snapshot it holds, and stops exchanging once that snapshot is past `valid_until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: String,
    /// Grows by one with every snapshot; a center never goes back to a lower one.
    pub version: i64,
    /// Unix milliseconds.
    pub issued_at: i64,
    pub valid_until: i64,
    /// The directory log's last entry when the snapshot was built (an anchor for audits).
    pub log_seq: i64,
    pub log_hash: String,
    pub centers: Vec<SnapshotCenter>,
    pub participants: Vec<SnapshotParticipant>,
    /// Shared distribution groups (行文群組 kept centrally).
    #[serde(default)]
    pub groups: Vec<SnapshotGroup>,
}

/// A center's kind (交換中心：共用、自管、自建).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CenterKind {
    Shared,
    SelfManaged,
    SelfBuilt,
}

words!(CenterKind, parse words_or_labels {
    Shared => "shared", "共用";
    SelfManaged => "self_managed", "自管";
    SelfBuilt => "self_built", "自建";
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotCenter {
    pub id: String,
    pub name: String,
    pub kind: CenterKind,
    /// Its API, e.g. `https://center-tp.example:8443`.
    pub url: String,
    /// SHA-256 (hex) of the public key of its TLS client certificate, by which peers know it.
    pub tls_key: Option<String>,
    /// Who runs it (an agency code or name).
    pub operator: String,
}

/// A participant's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantKind {
    Agency,
    School,
    PublicEnterprise,
    Organisation,
    Company,
}

words!(ParticipantKind, parse words_or_labels {
    Agency => "agency", "機關";
    School => "school", "學校";
    PublicEnterprise => "public_enterprise", "公營事業";
    Organisation => "organisation", "法人或團體";
    Company => "company", "公司商號";
});

/// A participant's state (暫停 / 中止 / 註銷 stop all exchange).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantState {
    Active,
    Suspended,
    Terminated,
    Cancelled,
}

words!(ParticipantState {
    Active => "active", "正常";
    Suspended => "suspended", "暫停";
    Terminated => "terminated", "中止";
    Cancelled => "cancelled", "註銷";
});

impl ParticipantState {
    /// The address book's `STATUSCODE`, as the national open-data address book publishes it:
    /// `T` in service, `D` and `F` no longer in service. Gongwen's four states fold onto those
    /// three letters, and the export writes nothing else, so a published file read in and
    /// written out again carries the same letters:
    ///
    /// - 正常 (`Active`) → `T`: it exchanges.
    /// - 暫停 (`Suspended`) → `D`: it cannot exchange now (its center refuses its traffic), so a
    ///   sender must not read it as `T` and must send on paper meanwhile. It is not `F`
    ///   because the code is not gone: the suspension can be lifted. That it is only
    ///   suspended is Gongwen's own, finer fact; it travels in the export's `STATE` column.
    /// - 中止 (`Terminated`) → `D`: service stopped; the code stays, a new application can
    ///   bring it back.
    /// - 註銷 (`Cancelled`) → `F`: the code itself is withdrawn (the organisation asked to
    ///   cancel, was dissolved or merged); it will not come back under that code.
    ///
    /// The open data names only the letters, not their meanings; this reading (D the weaker
    /// stop, F the final one) is ours. [`ParticipantState::from_status_code`] reads `D` as
    /// 中止 and `F` as 註銷.
    pub fn status_code(self) -> &'static str {
        match self {
            ParticipantState::Active => "T",
            ParticipantState::Suspended | ParticipantState::Terminated => "D",
            ParticipantState::Cancelled => "F",
        }
    }

    /// Reads a `STATUSCODE`: the published `T` 正常, `D` 中止, `F` 註銷; or the digits
    /// 0 正常, 1 暫停, 2 中止, 3 註銷 that Gongwen's exports wrote before they wrote the
    /// published letters (read only, for those files). `D` reads as 中止 rather
    /// than 暫停: a file cannot carry a suspension's reason or the way back from it, and a
    /// terminated participant that should exchange again goes through review.
    pub fn from_status_code(s: &str) -> Option<ParticipantState> {
        match s.trim() {
            "T" | "0" => Some(ParticipantState::Active),
            "1" => Some(ParticipantState::Suspended),
            "D" | "2" => Some(ParticipantState::Terminated),
            "F" | "3" => Some(ParticipantState::Cancelled),
            _ => None,
        }
    }

    /// By its code word or its Chinese label.
    pub fn parse(s: &str) -> Option<ParticipantState> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.label() == s)
    }
}

/// What a key is registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyUsage {
    Tls,
    Signing,
    Encryption,
}

impl KeyUsage {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::Tls => "tls",
            KeyUsage::Signing => "signing",
            KeyUsage::Encryption => "encryption",
        }
    }

    pub fn parse(s: &str) -> Option<KeyUsage> {
        match s {
            "tls" => Some(KeyUsage::Tls),
            "signing" | "sign" => Some(KeyUsage::Signing),
            "encryption" | "enc" => Some(KeyUsage::Encryption),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotParticipant {
    /// 機關代碼.
    pub code: String,
    pub name: String,
    pub kind: ParticipantKind,
    /// The center it exchanges through.
    pub center: String,
    pub receive: bool,
    pub send: bool,
    pub state: ParticipantState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// May read every participant's records at its center (the center's own staff).
    #[serde(default)]
    pub operator: bool,
    #[serde(default)]
    pub certs: Vec<SnapshotCert>,
    #[serde(default)]
    pub ips: Vec<SnapshotIp>,
}

/// A registered key: by digest, so 40,000 participants make a snapshot of a few megabytes.
/// The certificates themselves (senders need the encryption ones) come from the directory's
/// public `/api/v1/participants/{code}/certificates`, checked against these digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotCert {
    pub usage: KeyUsage,
    /// SHA-256 (hex) of the certificate's SubjectPublicKeyInfo.
    pub spki_sha256: String,
    /// Unix milliseconds.
    pub not_after: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotIp {
    /// An address, or a network (`10.1.2.0/24`) approved as an exception.
    pub ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotGroup {
    pub name: String,
    pub members: Vec<String>,
}

/// One line of the address book: the open-data columns, then ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub struct AddressEntry {
    pub orgid: String,
    pub orgname: String,
    /// The published letter: `T` in service, `D` or `F` not
    /// ([`ParticipantState::status_code`]).
    pub statuscode: String,
    /// Last change, `YYYY-MM-DD HH:MM:SS` Asia/Taipei.
    pub updatetime: String,
    pub kind: ParticipantKind,
    pub center: String,
    pub receive: bool,
    pub send: bool,
    /// Gongwen's own state, finer than `STATUSCODE` (which shows 暫停 and 中止 both as `D`).
    pub state: ParticipantState,
}

/// The address book's CSV header: the open-data columns, then Gongwen's.
pub const ADDRESS_BOOK_COLUMNS: [&str; 9] = [
    "ORGID",
    "ORGNAME",
    "STATUSCODE",
    "UPDATETIME",
    "KIND",
    "CENTER",
    "RECEIVE",
    "SEND",
    "STATE",
];

/// What an application asks for (連線申請).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationKind {
    /// 新申請：收文、發文功能.
    New,
    /// 異動: changed facts, certificates or addresses.
    Change,
    /// 註銷.
    Cancel,
}

impl ApplicationKind {
    pub fn label(self) -> &'static str {
        match self {
            ApplicationKind::New => "新申請",
            ApplicationKind::Change => "異動",
            ApplicationKind::Cancel => "註銷",
        }
    }
}

/// The applicant's agreement to the usage rules (使用規範同意書), with when it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// Which text was agreed to, e.g. 「公文電子交換系統使用規範 115.01 版」.
    pub rules: String,
    /// Unix milliseconds.
    pub agreed_at: i64,
}

/// Where a connection application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppState {
    /// Waiting for the first review.
    Submitted,
    /// Waiting for the second review.
    FirstApproved,
    /// Back with the applicant to correct (補正).
    Correction,
    Activated,
    Rejected,
}

words!(AppState, parse words {
    Submitted => "submitted", "待初審";
    FirstApproved => "first_approved", "待複審";
    Correction => "correction", "待補正";
    Activated => "activated", "已開通";
    Rejected => "rejected", "不同意";
});

/// An application as the directory holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Application {
    pub id: String,
    pub state: AppState,
    /// Who asked for the correction: `first` or `second`.
    pub returned_by: Option<String>,
    pub message: Option<String>,
    pub form: ApplicationForm,
    pub signer_spki: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The application form, as the applicant fills it in and signs it (CMS SignedData with the
/// organisation's signing certificate: that signature is the proof of possession).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationForm {
    pub kind: ApplicationKind,
    /// 機關代碼.
    pub code: String,
    pub name: String,
    pub participant_kind: ParticipantKind,
    /// 統一編號.
    #[serde(default)]
    pub ubn: Option<String>,
    /// 審核機關 (the competent authority with which the organisation is registered).
    pub authority: String,
    /// The center to exchange through.
    pub center: String,
    #[serde(default = "yes")]
    pub receive: bool,
    #[serde(default = "yes")]
    pub send: bool,
    /// 憑證卡號 and 啟用日期 (YYYY-MM-DD) as on the card.
    #[serde(default)]
    pub card_number: Option<String>,
    #[serde(default)]
    pub card_activated_on: Option<String>,
    /// Certificates to register (PEM): signing, encryption, TLS client.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// Fixed IP addresses to connect from.
    #[serde(default)]
    pub ips: Vec<String>,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub agreement: Agreement,
    /// Why (異動、註銷).
    #[serde(default)]
    pub reason: Option<String>,
}

fn yes() -> bool {
    true
}

/// A name folded for searching: full-width letters, digits and punctuation become half-width,
/// 臺 becomes 台, letters lower case, and spaces (of either width) go — so 「臺北市政府」,
/// 「台北市 政府」 and 「台北市政府 」 find the same entries.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '臺' => '台',
            _ => c,
        };
        if !c.is_whitespace() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// A participant code as people type it: 1 to 20 ASCII letters and digits (the 10-character
/// 機關代碼, or "XA" and 8 digits for XCA organisations). The error is a zh-TW sentence.
pub fn check_code(code: &str) -> Result<(), String> {
    if code.is_empty() || code.len() > 20 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "代碼「{code}」應為 1 到 20 個英數字（例如 10 碼機關代碼）"
        ));
    }
    Ok(())
}

/// Checks an allowed-address rule (`192.0.2.7` or `10.1.2.0/24`) as an administrator types it.
pub fn check_ip_rule(rule: &str) -> Result<(), String> {
    let (addr, bits) = match rule.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (rule, None),
    };
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| format!("「{rule}」不是 IP 位址或網段"))?;
    if let Some(b) = bits {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        match b.parse::<u8>() {
            Ok(n) if n <= max => {}
            _ => return Err(format!("「{rule}」的網段長度應為 0 到 {max}")),
        }
    }
    Ok(())
}

/// Does `rule` (an address or CIDR) cover `ip`?
pub fn ip_matches(rule: &str, ip: IpAddr) -> bool {
    let (addr, bits) = match rule.split_once('/') {
        Some((a, b)) => match b.parse::<u8>() {
            Ok(b) => (a, Some(b)),
            Err(_) => return false,
        },
        None => (rule, None),
    };
    let Ok(net) = addr.trim().parse::<IpAddr>() else {
        return false;
    };
    // An IPv4 address is the low 32 bits; the mask keeps `bits` of its `width`.
    let (n, i, width) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u32::from(n).into(), u32::from(i).into(), 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
        _ => return false,
    };
    let bits = u32::from(bits.unwrap_or(width).min(width));
    let mask = u128::MAX.checked_shl(u32::from(width) - bits).unwrap_or(0);
    n & mask == i & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_treats_variants_alike() {
        assert_eq!(fold("臺北市政府"), fold("台北市政府"));
        assert_eq!(fold("ＡＢＣ　１２３"), "abc123");
        assert_eq!(fold("  台南市  東區 "), "台南市東區");
        assert_ne!(fold("臺北市"), fold("臺中市"));
    }

    #[test]
    fn ip_rules_match() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(ip_matches("127.0.0.1", ip("127.0.0.1")));
        assert!(!ip_matches("127.0.0.1", ip("127.0.0.2")));
        assert!(ip_matches("10.1.2.0/24", ip("10.1.2.200")));
        assert!(!ip_matches("10.1.2.0/24", ip("10.1.3.1")));
        assert!(ip_matches("0.0.0.0/0", ip("8.8.8.8")));
        assert!(ip_matches("::1", ip("::1")));
        assert!(!ip_matches("::1", ip("127.0.0.1")));
        assert!(!ip_matches("garbage", ip("127.0.0.1")));
        assert!(check_ip_rule("10.0.0.0/33").is_err());
        assert!(check_ip_rule("10.0.0.0/8").is_ok());
        assert!(check_ip_rule("abc").is_err());
    }

    #[test]
    fn states_parse_from_words_and_labels() {
        assert_eq!(
            ParticipantState::parse("terminated"),
            Some(ParticipantState::Terminated)
        );
        assert_eq!(
            ParticipantState::parse("暫停"),
            Some(ParticipantState::Suspended)
        );
        assert_eq!(ParticipantState::parse("x"), None);
        // Status codes are not states: D is two of them.
        assert_eq!(ParticipantState::parse("D"), None);
        assert_eq!(CenterKind::parse("自管"), Some(CenterKind::SelfManaged));
    }

    #[test]
    fn status_codes_are_the_published_letters() {
        use ParticipantState::*;
        let letters: Vec<_> = ParticipantState::ALL
            .into_iter()
            .map(ParticipantState::status_code)
            .collect();
        assert_eq!(letters, ["T", "D", "D", "F"]);
        // Every letter read in is written out again unchanged.
        for letter in ["T", "D", "F"] {
            let state = ParticipantState::from_status_code(letter).unwrap();
            assert_eq!(state.status_code(), letter);
        }
        assert_eq!(ParticipantState::from_status_code(" T "), Some(Active));
        assert_eq!(ParticipantState::from_status_code("D"), Some(Terminated));
        assert_eq!(ParticipantState::from_status_code("F"), Some(Cancelled));
        // The digits of Gongwen's older exports are still read.
        assert_eq!(ParticipantState::from_status_code("0"), Some(Active));
        assert_eq!(ParticipantState::from_status_code("1"), Some(Suspended));
        assert_eq!(ParticipantState::from_status_code("2"), Some(Terminated));
        assert_eq!(ParticipantState::from_status_code("3"), Some(Cancelled));
        for bad in ["", "4", "X", "t", "正常", "active", "TT"] {
            assert_eq!(ParticipantState::from_status_code(bad), None, "{bad}");
        }
    }
}
