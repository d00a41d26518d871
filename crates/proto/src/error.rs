//! The API's error codes, listed once. Every answer that is not a success is
//! `{ "code": "E_…", "message": "…(zh-TW)", "detail": … }`; docs/errors.md lists the same codes.

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($( $name:ident = $code:literal, $status:literal, $msg:literal; )*) => {
        /// A stable error code of the HTTP APIs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $( $name, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$name, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( Code::$name => $code, )* }
            }

            /// The HTTP status the code travels with.
            pub fn http_status(self) -> u16 {
                match self { $( Code::$name => $status, )* }
            }

            /// The zh-TW sentence a person reads; `detail` adds the particulars.
            pub fn message(self) -> &'static str {
                match self { $( Code::$name => $msg, )* }
            }

            pub fn parse(s: &str) -> Option<Code> {
                match s { $( $code => Some(Code::$name), )* _ => None }
            }
        }
    };
}

codes! {
    AuthNoCert = "E_AUTH_NO_CERT", 401, "需要以用戶端憑證連線（雙向 TLS）";
    AuthUnknownCert = "E_AUTH_UNKNOWN_CERT", 403, "用戶端憑證未登記給任何參與者";
    AuthIp = "E_AUTH_IP", 403, "來源 IP 位址不在此參與者登記的允許清單中";
    AuthSuspended = "E_AUTH_SUSPENDED", 403, "參與者已暫停、中止或註銷，不能收發公文";
    AuthNotOperator = "E_AUTH_NOT_OPERATOR", 403, "此功能限交換中心管理者使用";
    AuthNotPeer = "E_AUTH_NOT_PEER", 403, "此功能限已登記的交換中心使用";
    SubmitNoKey = "E_SUBMIT_NO_KEY", 400, "送件需要 Idempotency-Key 標頭（由用戶端產生的唯一鍵）";
    SubmitHeader = "E_SUBMIT_HEADER", 400, "封包表頭無效";
    SubmitSender = "E_SUBMIT_SENDER", 403, "封包表頭的發文機關不是連線的參與者";
    SubmitSigner = "E_SUBMIT_SIGNER", 403, "表頭簽署憑證不屬於發文機關或未通過驗證";
    SubmitTooLarge = "E_SUBMIT_TOO_LARGE", 413, "封包超過大小上限";
    SubmitTruncated = "E_SUBMIT_TRUNCATED", 400, "封包不完整（傳送中斷或長度不符）";
    SubmitFileType = "E_SUBMIT_FILE_TYPE", 415, "附件檔案類型不允許交換";
    SubmitClassified = "E_SUBMIT_CLASSIFIED", 400, "機密文書不得電子交換";
    SubmitNoRecipient = "E_SUBMIT_NO_RECIPIENT", 400, "封包沒有收文者";
    SubmitGroup = "E_SUBMIT_GROUP", 400, "行文群組不存在或成員已變更";
    SubmitResend = "E_SUBMIT_RESEND", 400, "重發所指的原封包不存在或不是本機關發出的";
    SubmitKeyReused = "E_SUBMIT_KEY_REUSED", 409, "此 Idempotency-Key 已用於另一份封包";
    SubmitReplay = "E_SUBMIT_REPLAY", 409, "此封包已送出過（重送請以新封包並註明重發類別）";
    NotFound = "E_NOT_FOUND", 404, "找不到指定的資料";
    EventNotParty = "E_EVENT_NOT_PARTY", 403, "只有封包的發文者或收文者可以通報與該封包有關的資安事件";
    CopyState = "E_COPY_STATE", 409, "公文目前的狀態不允許此動作";
    ReceiptInvalid = "E_RECEIPT_INVALID", 400, "回執無效";
    ReceiptMismatch = "E_RECEIPT_MISMATCH", 400, "回執與這份公文或收文者不符";
    BodyPurged = "E_BODY_PURGED", 410, "封包內容已依保存期限清除";
    BodyCorrupt = "E_BODY_CORRUPT", 500, "交換中心存放的封包內容已損毀（摘要不符），未傳送；已通知管理者";
    Range = "E_RANGE", 416, "要求的位元組範圍無效";
    BadRequest = "E_BAD_REQUEST", 400, "請求格式錯誤";
    RelayRefused = "E_RELAY_REFUSED", 400, "交換中心拒收轉送的封包";
    RelayNoReceipt = "E_RELAY_NO_RECEIPT", 400, "交換中心回報送達、收文確認或退文，卻沒有附上收文者簽署的回執";
    DirectoryStale = "E_DIRECTORY_STALE", 503, "交換中心沒有有效的通訊錄快照，暫停收發公文";
    DirDuplicate = "E_DIR_DUPLICATE", 409, "此代碼已登記";
    DirImport = "E_DIR_IMPORT", 400, "匯入檔有誤，未匯入任何資料";
    DirForbidden = "E_DIR_FORBIDDEN", 403, "此帳號無權辦理此項目";
    DirSignature = "E_DIR_SIGNATURE", 400, "申請書的簽章無效，或不是該機關的憑證所簽";
    DirState = "E_DIR_STATE", 409, "申請案或參與者目前的狀態不允許此動作";
    DirSnapshot = "E_DIR_SNAPSHOT", 502, "通訊錄快照無效（簽章、格式、版本或效期不符），未採用";
    AgentAuth = "E_AGENT_AUTH", 401, "需要機關代理程式的 API 權杖（Authorization: Bearer …）或已登記的用戶端憑證";
    AgentDocument = "E_AGENT_DOCUMENT", 400, "公文內容或檔案有誤，未送出";
    Malware = "E_MALWARE", 422, "公文或附件驗出惡意程式，未送出";
    Recipient = "E_RECIPIENT", 400, "收文者不在通訊錄，或查不到其加密憑證";
    HttpTooLarge = "E_HTTP_TOO_LARGE", 413, "請求內容超過這個路徑的大小上限，未讀取";
    HttpTimeout = "E_HTTP_TIMEOUT", 408, "請求內容未在時限內傳完";
    OfficeState = "E_OFFICE_STATE", 409, "案件目前的狀態不允許這個動作";
    OfficeNotAllowed = "E_OFFICE_NOT_ALLOWED", 403, "您不是這個動作的承辦人、主管或其職務代理人";
    OfficeLevel = "E_OFFICE_LEVEL", 403, "依分層負責明細表，這個案件須由更高層級決行";
    OfficeDecided = "E_OFFICE_DECIDED", 409, "這份稿已經決行，不能再決行一次";
    OfficeSignature = "E_OFFICE_SIGNATURE", 400, "簽章不符：不是所準備的簽核內容、不是本人的憑證，或簽章無效";
    OfficeCert = "E_OFFICE_CERT", 403, "簽核憑證已廢止、過期或不受信任";
    OfficeVersion = "E_OFFICE_VERSION", 409, "簽核所指的版本不是案件目前的版本";
    OfficeChain = "E_OFFICE_CHAIN", 422, "簽核紀錄不完整或遭竄改（步驟被刪除、調換或修改）";
    OfficeAuth = "E_OFFICE_AUTH", 401, "請以本人的憑證 IC 卡登入公文管理系統";
    HttpCrossSite = "E_HTTP_CROSS_SITE", 403, "拒絕來自其他網站的請求";
    Unavailable = "E_UNAVAILABLE", 503, "交換中心暫時無法服務，請稍後重試";
    Internal = "E_INTERNAL", 500, "系統內部錯誤，已記入日誌；請將事件編號告知管理者";
}

/// A code travels as its string (`x-error-codes` in the OpenAPI documents).
impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiError {
    #[schema(pattern = "^E_[A-Z_]+$", example = "E_SUBMIT_NO_KEY")]
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ApiError {
    pub fn new(code: Code, detail: impl Into<Option<String>>) -> Self {
        ApiError {
            code: code.as_str().to_string(),
            message: code.message().to_string(),
            detail: detail.into(),
        }
    }

    pub fn known_code(&self) -> Option<Code> {
        Code::parse(&self.code)
    }

    /// What the error says, without its code: the message, then the detail in brackets. For
    /// a printer that shows the code on its own (the command line's `錯誤 [E_…]：…`), so the
    /// code is said once.
    pub fn text(&self) -> String {
        match &self.detail {
            Some(d) => format!("{}（{d}）", self.message),
            None => self.message.clone(),
        }
    }
}

/// `E_…：message（detail）`: the code, then [`ApiError::text`].
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}：{}", self.code, self.text())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        let doc = include_str!("../../../docs/errors.md");
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert_eq!(Code::parse(c.as_str()), Some(*c));
            assert!(doc.contains(c.as_str()), "{c} missing from docs/errors.md");
            assert!((400..600).contains(&c.http_status()));
        }
    }
}
