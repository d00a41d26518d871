//! The directory's OpenAPI document (`/api/v1/openapi.json`, docs/api/directory.openapi.json):
//! the wire types of `gongwen_proto` and the routes below, each with the codes it may answer.

// The functions only carry the routes' descriptions; the handlers are in `http`.
#![allow(dead_code)]

use std::sync::LazyLock;

use gongwen_proto::api::ParticipantCerts;
use gongwen_proto::directory::AddressEntry;
use gongwen_proto::openapi::{self, Binary};
use gongwen_proto::{ApiError, Code};
use utoipa::OpenApi;

use crate::applications::Application;

/// The document, made once.
pub static DOCUMENT: LazyLock<String> = LazyLock::new(document);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gongwen 通訊錄 API",
        description = "Gongwen 通訊錄（管理層）的 HTTP API：交換中心以它取得簽章快照；任何人查詢地址簿與加密憑證；申請機關送出以憑證簽署的連線申請；審核機關與交換中心管理機關以 API 權杖初審、複審。\n\n時間欄位為 Unix 毫秒。錯誤回應一律為 JSON `{ \"code\", \"message\", \"detail\" }`，代碼清單見 docs/errors.md。",
    ),
    servers((url = "https://127.0.0.1:8440", description = "預設的監聽位址（`directory.listen`）。")),
    tags((name = "快照"), (name = "地址簿"), (name = "連線申請"), (name = "審核"), (name = "系統")),
    paths(get_snapshot, address_book, resolve_name, participant_certificates, submit_application, get_application, correct_application, review_application, list_reviews, openapi, health, metrics),
    components(schemas(ApiError)),
)]
struct Doc;

/// The document as JSON. An operation that names codes may also fail inside.
pub fn document() -> String {
    let token = openapi::bearer("`gongwen directory account` 印出的 API 權杖。");
    let cert = openapi::mutual_tls("交換中心的 TLS 用戶端憑證，公鑰登記於通訊錄。");
    let schemes = [("reviewerToken", token), ("mutualTLS", cert)];
    openapi::document(Doc::openapi(), schemes, |_, mut named| {
        if !named.is_empty() {
            named.extend([Code::Internal, Code::Unavailable]);
        }
        named
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/snapshot",
    operation_id = "getSnapshot",
    tag = "快照",
    summary = "取得最新的通訊錄簽章快照",
    description = "只給已登記的交換中心：以交換中心的 TLS 用戶端憑證連線（公鑰須等於通訊錄登記的 `tls_key`），否則為 `E_AUTH_NO_CERT`／`E_AUTH_NOT_PEER`。回應是 CMS SignedData（DER，內容為 JSON，格式 `gongwen-directory-snapshot/1`），以通訊錄的簽章憑證簽署，可用 `openssl cms -verify` 檢查。`ETag` 為版本號；帶 `If-None-Match` 且未變更時回應 304。快照含參與者（狀態、原因、所屬交換中心、收發功能、金鑰摘要、允許 IP）、交換中心、共用行文群組與效期 `valid_until`。",
    params(
        ("If-None-Match" = Option<String>, Header, description = "手上快照的 ETag（例如 `\"42\"`）。"),
    ),
    security(("mutualTLS" = [])),
    responses(
        (status = 200, description = "簽章快照。", body = Binary, content_type = "application/pkcs7-mime", headers(("ETag" = String), ("x-gongwen-snapshot-version" = i64))),
        (status = 304, description = "與 `If-None-Match` 的版本相同，未變更。"),
    ),
    extensions(("x-error-codes" = json!([Code::AuthNoCert, Code::AuthNotPeer]))),
)]
fn get_snapshot() {}

#[utoipa::path(
    get,
    path = "/api/v1/address-book",
    operation_id = "addressBook",
    tag = "地址簿",
    summary = "查詢地址簿",
    description = "公開。依機關代碼或名稱關鍵字查詢（臺／台、全形／半形、空白視為相同）；不給 `q` 列出全部。`format=csv` 以開放資料欄位 `ORGID,ORGNAME,STATUSCODE,UPDATETIME` 加上本系統欄位輸出（UTF-8 含 BOM）。STATUSCODE 與開放資料相同：T 正常、D 暫停或中止、F 註銷；STATE 為本系統較細的狀態。憑證逾期超過寬限期而移除者不列出。",
    params(
        ("q" = Option<String>, Query, description = "機關代碼或名稱關鍵字。"),
        ("format" = Option<String>, Query, description = "可用值：`json`、`csv`。"),
        ("limit" = Option<i64>, Query, maximum = 100000),
    ),
    responses(
        (status = 200, description = "地址簿條目。", content(([AddressEntry] = "application/json"), (String = "text/csv"))),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest]))),
)]
fn address_book() {}

#[utoipa::path(
    get,
    path = "/api/v1/address-book/resolve",
    operation_id = "resolveName",
    tag = "地址簿",
    summary = "依完整名稱找唯一的機關代碼",
    description = "公開。名稱對應多個機關代碼時回應 `E_BAD_REQUEST` 並列出全部，不猜測。",
    params(
        ("name" = String, Query),
    ),
    responses(
        (status = 200, description = "唯一的條目。", body = AddressEntry),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest, Code::NotFound]))),
)]
fn resolve_name() {}

#[utoipa::path(
    get,
    path = "/api/v1/participants/{code}/certificates",
    operation_id = "participantCertificates",
    tag = "地址簿",
    summary = "參與者的加密憑證",
    description = "公開。發文者加密封包所需的收文者加密憑證（PEM）。交換中心依快照中的公鑰摘要核對後才採用。",
    params(
        ("code" = String, Path),
    ),
    responses(
        (status = 200, description = "加密憑證。", body = ParticipantCerts),
    ),
    extensions(("x-error-codes" = json!([Code::NotFound]))),
)]
fn participant_certificates() {}

#[utoipa::path(
    post,
    path = "/api/v1/applications",
    operation_id = "submitApplication",
    tag = "連線申請",
    summary = "送出連線申請（新申請、異動、註銷）",
    description = "主體是以申請機關憑證 IC 卡（簽章用）簽署的申請書：CMS SignedData（DER），內容為 JSON `ApplicationForm`（可用 `gongwen directory application sign` 產生）。簽章即持有憑證的證明：新申請須以所附、要登記的簽章憑證簽署（憑證載明的機關代碼須相符）；異動、註銷須以已登記的簽章憑證簽署。同一機關已有進行中的申請案為 `E_DIR_STATE`；代碼已登記（且未中止、註銷）為 `E_DIR_DUPLICATE`。",
    request_body(content = Binary, content_type = "application/pkcs7-mime"),
    responses(
        (status = 201, description = "已收件，待初審。", body = Application),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest, Code::DirSignature, Code::DirDuplicate, Code::DirState, Code::NotFound]))),
)]
fn submit_application() {}

#[utoipa::path(
    get,
    path = "/api/v1/applications/{id}",
    operation_id = "getApplication",
    tag = "連線申請",
    summary = "查詢申請案進度",
    description = "知道申請案編號者可查詢（申請者以此追蹤）。",
    params(
        ("id" = String, Path, description = "申請案編號（AP 開頭）。"),
    ),
    responses(
        (status = 200, description = "申請案。", body = Application),
    ),
    extensions(("x-error-codes" = json!([Code::NotFound]))),
)]
fn get_application() {}

#[utoipa::path(
    put,
    path = "/api/v1/applications/{id}",
    operation_id = "correctApplication",
    tag = "連線申請",
    summary = "補正",
    description = "待補正的申請案，以重新簽署的申請書補正；回到要求補正的審核階段。機關代碼與申請種類不能改。",
    params(
        ("id" = String, Path, description = "申請案編號（AP 開頭）。"),
    ),
    request_body(content = Binary, content_type = "application/pkcs7-mime"),
    responses(
        (status = 200, description = "已補正。", body = Application),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest, Code::DirSignature, Code::DirDuplicate, Code::DirState, Code::NotFound]))),
)]
fn correct_application() {}

#[utoipa::path(
    post,
    path = "/api/v1/applications/{id}/review",
    operation_id = "reviewApplication",
    tag = "審核",
    summary = "初審或複審",
    description = "待初審的申請案只能由該申請案審核機關的初審帳號審核；待複審的只能由該交換中心的複審帳號審核；複審同意即開通（參與者出現在下一版快照），並通知申請者與審核機關。`correct`（補正）與 `reject`（不同意）須附 `message`。",
    params(
        ("id" = String, Path, description = "申請案編號（AP 開頭）。"),
    ),
    request_body(content = crate::http::ReviewBody, content_type = "application/json"),
    security(("reviewerToken" = [])),
    responses(
        (status = 200, description = "審核後的申請案。", body = Application),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest, Code::DirForbidden, Code::DirState, Code::DirDuplicate, Code::NotFound]))),
)]
fn review_application() {}

#[utoipa::path(
    get,
    path = "/api/v1/reviews",
    operation_id = "listReviews",
    tag = "審核",
    summary = "帳號可看到的申請案",
    description = "初審帳號看到其審核機關的申請案、複審帳號看到其交換中心的、稽核與管理者看到全部。",
    params(
        ("state" = Option<String>, Query, description = "可用值：`submitted`、`first_approved`、`correction`、`activated`、`rejected`。"),
    ),
    security(("reviewerToken" = [])),
    responses(
        (status = 200, description = "申請案（新的在前）。", body = [Application]),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest, Code::DirForbidden]))),
)]
fn list_reviews() {}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    tag = "系統",
    summary = "本文件",
    description = "公開。",
    responses(
        (status = 200, description = "OpenAPI 文件。", body = serde_json::Value),
    ),
)]
fn openapi() {}

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health",
    tag = "系統",
    summary = "健康檢查",
    description = "資料庫可用時 200，否則 503。",
    responses(
        (status = 200, description = "正常。", body = gongwen_proto::api::Health),
        (status = 503, description = "資料庫無法使用。", body = gongwen_proto::api::Health),
    ),
)]
fn health() {}

#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "系統",
    summary = "Prometheus 指標",
    description = "Prometheus 文字格式（`text/plain; version=0.0.4`），只回應本機（127.0.0.1、::1）的請求，其他一律 `E_DIR_FORBIDDEN`。都是 gauge，數字與 `/stats`、`/stats.json` 相同：\n\n- `gongwen_directory_participants_by_state`（`state`）、`gongwen_directory_participants_by_kind`（`kind`）、`gongwen_directory_participants_by_center`（`center`）：參與者數\n- `gongwen_directory_applications_open`（`state` 為 `submitted`、`first_approved` 或 `correction`）：待審或待補正的申請案\n- `gongwen_directory_certificates_expiring`（`within_days` 為 30、60、90）：正常或暫停的參與者於該天數內到期的憑證數",
    responses(
        (status = 200, description = "指標。", body = String, content_type = "text/plain", example = json!("# HELP gongwen_directory_participants_by_state Participants by state\n# TYPE gongwen_directory_participants_by_state gauge\ngongwen_directory_participants_by_state{state=\"active\"} 12\n")),
    ),
    security(()),
    extensions(("x-error-codes" = json!([Code::DirForbidden]))),
)]
fn metrics() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_is_valid_and_committed() {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/api/directory.openapi.json"
        );
        if std::env::var_os("GONGWEN_BLESS").is_some() {
            std::fs::write(file, DOCUMENT.as_str()).unwrap();
        }
        let committed = std::fs::read_to_string(file).ok();
        openapi::checked(&DOCUMENT, committed.as_deref()).unwrap();
    }

    #[test]
    fn openapi_names_the_directory_codes() {
        let doc: serde_json::Value = serde_json::from_str(&DOCUMENT).expect("valid JSON");
        let answered = |c: Code| {
            doc["paths"].as_object().unwrap().values().any(|item| {
                item.as_object().unwrap().values().any(|op| {
                    op["x-error-codes"]
                        .as_array()
                        .is_some_and(|a| a.contains(&serde_json::json!(c)))
                })
            })
        };
        for c in [
            Code::DirDuplicate,
            Code::DirSignature,
            Code::DirForbidden,
            Code::DirState,
            Code::AuthNotPeer,
        ] {
            assert!(answered(c), "{c} missing");
        }
    }
}
