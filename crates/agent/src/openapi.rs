//! The agent's OpenAPI document (`/api/v1/openapi.json`, docs/api/agent.openapi.json): the
//! wire types of `gongwen_proto` and the routes below, each with the codes it may answer.

// The functions only carry the routes' descriptions; the handlers are in `api`.
#![allow(dead_code)]

use std::sync::LazyLock;

use gongwen_proto::agent::{InboxPage, NumberTaken, ReceivedItem, SendResult, WhoAmI};
use gongwen_proto::api::{Duties, SentPackage, SentPage};
use gongwen_proto::openapi::{self, Binary};
use gongwen_proto::{ApiError, Code, ResendKind, ReturnReason};
use utoipa::{OpenApi, ToSchema};

/// The document, made once.
pub static DOCUMENT: LazyLock<String> = LazyLock::new(document);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gongwen 機關代理程式：公文系統 API",
        description = "機關的公文管理系統透過本機或機關內網的代理程式發文、收文、簽收與退文。每個 API 權杖（`gongwen agent client add`）或登記的用戶端憑證只屬於一個機關，只看得到該機關的公文。錯誤一律回 `{code, message, detail}`；代碼見 docs/errors.md；`E_INTERNAL` 的 `detail` 只有事件編號，細節記在代理程式的日誌。狀態變化以 webhook 通知（見 `WebhookEvent`）。\n\n請求內容的上限：上傳公文（`POST /api/v1/documents`）為 `api.max_upload_mb`，其餘 64 KiB，超過為 `E_HTTP_TOO_LARGE`（413）；內容須在標頭之後 `api.body_timeout_s` 秒（預設 300）內傳完，否則為 `E_HTTP_TIMEOUT`（408）並中斷連線。同時開啟的連線數上限為 `api.max_connections`（預設 1024）、同一位址 `api.max_connections_per_ip`（預設 128）。",
    ),
    servers((url = "http://127.0.0.1:8450")),
    tags((name = "發文"), (name = "收文"), (name = "待辦"), (name = "統計"), (name = "系統")),
    security(("apiToken" = []), ("clientCert" = [])),
    paths(health, openapi, whoami, take_number, send_document, document_status, sent_list, sent_one, duties, stats, inbox, inbox_one, inbox_file, confirm, return_doc),
    components(schemas(ApiError, ReceivedItem, WebhookEvent)),
)]
struct Doc;

/// The document as JSON. Every operation without its own `security` needs a caller, and a
/// body is bounded in size and time.
pub fn document() -> String {
    let token =
        openapi::bearer("`gongwen agent client add --agency <代碼> --name <名稱>` 產生的權杖");
    let cert = openapi::mutual_tls(
        "設定 `[agent.api.tls]` 時，可改用 `gongwen agent client add --cert` 登記的用戶端憑證",
    );
    let schemes = [("apiToken", token), ("clientCert", cert)];
    openapi::document(Doc::openapi(), schemes, |op, named| {
        let caller = op.security.is_none();
        let mut all = Vec::new();
        if caller {
            all.push(Code::AgentAuth);
        }
        all.extend(named);
        if op.request_body.is_some() {
            all.extend([Code::HttpTooLarge, Code::HttpTimeout]);
        }
        if caller {
            all.extend([Code::Internal, Code::Unavailable]);
        }
        all
    })
}

/// 發文的 `multipart/form-data` 欄位：草稿，或 DI＋SW＋附件。
#[derive(ToSchema)]
struct Upload {
    /// 草稿 JSON（最多 1 MiB）
    draft: Option<String>,
    /// 請受文者立即確認（涉及重大權益）：`true` 或 `false`
    confirm_now: Option<bool>,
    /// 重發類別；與 resend_of 一起填
    resend_kind: Option<ResendKind>,
    /// 原發文：本機關送出過的發文字號（如 府資字第1150001234號）或封包 id
    #[schema(max_length = 100)]
    resend_of: Option<String>,
    di: Option<Binary>,
    sw: Option<Binary>,
    attachment: Vec<Binary>,
}

/// 退文的原因與說明。
#[derive(ToSchema)]
struct ReturnRequest {
    reason: ReturnReason,
    /// 說明；「其他」須填
    #[schema(max_length = 500)]
    text: Option<String>,
}

/// 代理程式 POST 到 `agencies.webhook.url` 的通知。標頭 `Gongwen-Signature: t=<unix 秒>,sha256=<hex>` 是以 `agencies.webhook.secret` 對 `t.` 加上主體計算的 HMAC-SHA256。回應 2xx 才算送達；否則 5 秒起倍增（最多 1 小時）重送，依序，3 天後放棄並記錄。
#[derive(ToSchema)]
struct WebhookEvent {
    id: String,
    /// `received`、`sent`、`refused`、`status` 或 `receive_failed`
    event: String,
    agency: String,
    /// Unix 毫秒
    at: i64,
    data: serde_json::Value,
}

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health",
    tag = "系統",
    summary = "健康檢查",
    description = "資料庫可用時回 200。",
    responses(
        (status = 200, description = "正常", body = gongwen_proto::api::Health),
        (status = 503, description = "資料庫無法使用", body = gongwen_proto::api::Health),
    ),
    security(()),
)]
fn health() {}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    tag = "系統",
    summary = "本文件",
    description = "機關代理程式 API 的 OpenAPI 文件。",
    responses(
        (status = 200, description = "OpenAPI 文件", body = serde_json::Value),
    ),
    security(()),
)]
fn openapi() {}

#[utoipa::path(
    get,
    path = "/api/v1/whoami",
    operation_id = "whoami",
    tag = "系統",
    summary = "呼叫者是誰",
    description = "回傳 API 權杖或用戶端憑證所屬的機關、用戶端名稱與其交換中心位址。",
    responses(
        (status = 200, description = "呼叫者", body = WhoAmI),
    ),
)]
fn whoami() {}

#[utoipa::path(
    post,
    path = "/api/v1/numbers",
    operation_id = "takeNumber",
    tag = "發文",
    summary = "取一個發文字號（紙本發文用）",
    description = "從本機關今年的發文字號序列取下一個號碼，給公文系統以紙本發出的公文使用；與代理程式為草稿編號的是同一個序列，所以公文系統與代理程式不會給出相同的字號。經由交換發出的草稿不必先取號：送出時由代理程式編號。本機關沒有設定發文代字（agencies.word）時為 `E_AGENT_DOCUMENT`。",
    responses(
        (status = 201, description = "取得的發文字號", body = NumberTaken),
    ),
    extensions(("x-error-codes" = json!([Code::AgentDocument]))),
)]
fn take_number() {}

#[utoipa::path(
    post,
    path = "/api/v1/documents",
    operation_id = "sendDocument",
    tag = "發文",
    summary = "發文：草稿（JSON）或 DI＋SW＋附件",
    description = "以 `multipart/form-data` 上傳，二擇一：\n\n- **草稿**：欄位 `draft`（JSON，欄位名稱即 DTD 元素名稱，與 `gongwen doc new` 的 TOML 草稿相同：文別、主旨、段落（含巢狀條列）、速別、正本、副本、附件…），附件以 `attachment` 欄位上傳，草稿「附件.檔案」只能以檔名（不含路徑、不以「.」開頭、1–100 字）指稱同一請求上傳的檔案；寫路徑或未上傳的檔名回 `E_AGENT_DOCUMENT`，代理程式不讀取或搬動請求以外的任何檔案。草稿沒有「發文字號」時，由代理程式依本機關的發文代字（`agencies.word`）取當年度下一個流水號；沒有「發文機關」時填入本機關。封裝前被拒的發文若仍是最後一號會退回號碼；已封裝的號碼即已用掉（即使交換中心拒收）。不支援分繕（請逐一受文者各送一份）。\n- **DI 檔**：欄位 `di`（一份）、`sw` 與 `attachment`（檔名須與 DI 宣告的相同）。DI 宣告的檔案缺少任何一個即拒收；未宣告的檔案不送出，列在回應的 `ignored_files`。\n\n代理程式以防毒掃描（有設定 clamd 時）、向交換中心取得收文者加密憑證、簽章加密後送出。交換中心已收件回 200（`state` = `submitted`，附交換中心的發文狀態）；交換中心暫時連不上時回 202（`state` = `sealed`），代理程式每輪重送，結果以 webhook 通知。\n\n**冪等**：帶 `Idempotency-Key`（1–64 個英數字、`-`、`_`）時，同一個鍵再送只回第一次的結果，不會再送一次；同一個鍵的請求同時到達時，後到的等前一個處理完再回同樣的結果。上傳合計上限為 `api.max_upload_mb`（預設 200 MiB）：先確認呼叫者身分才讀取上傳內容；`Content-Length` 超過上限 1 MiB 以上時不讀內容即回應 `E_HTTP_TOO_LARGE`。\n\n**立即確認與重發**（選填）：`confirm_now=true` 表示涉及人民或機關重大權益，請受文者立即確認（表頭 `confirm_now`）；更正或重發本機關送出過的公文時，`resend_kind` 填重發類別（本文修正、附件修正、本文附件修正、錯發、重送），`resend_of` 填原發文的發文字號或封包 id（須是本機關已送達交換中心的發文，否則 `E_AGENT_DOCUMENT`，未送出）。兩者須一起填。資料夾模式以 DI 旁的 `<DI 檔名>.options.toml` 指定同樣的選項。",
    params(
        ("Idempotency-Key" = Option<String>, Header, max_length = 64, pattern = "^[A-Za-z0-9_-]+$"),
    ),
    request_body(content = Upload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "交換中心已收件", body = SendResult),
        (status = 202, description = "已封裝，等待交換中心收件（自動重送）", body = SendResult),
    ),
    extensions(("x-error-codes" = json!([Code::AgentDocument, Code::BadRequest, Code::Recipient, Code::Malware, Code::SubmitTooLarge, Code::SubmitFileType, Code::SubmitClassified]))),
)]
fn send_document() {}

#[utoipa::path(
    get,
    path = "/api/v1/documents/{name}",
    operation_id = "document",
    tag = "發文",
    summary = "一次發文的處理狀態",
    description = "`name` 為發文回應中的 `name`。已送達交換中心時附上交換中心的逐一受文者狀態。",
    params(
        ("name" = String, Path),
    ),
    responses(
        (status = 200, description = "發文", body = SendResult),
    ),
    extensions(("x-error-codes" = json!([Code::NotFound]))),
)]
fn document_status() {}

#[utoipa::path(
    get,
    path = "/api/v1/sent",
    operation_id = "sentList",
    tag = "發文",
    summary = "發文清單（交換中心的逐一受文者狀態）",
    description = "轉查本機關在交換中心的發文：`open=true` 只列尚有副本未確認、未退文、未失敗者；`since`（毫秒）、`after`（游標）、`limit`。（與交換中心 API 的同名結構相同）",
    params(
        ("open" = Option<bool>, Query),
        ("since" = Option<i64>, Query),
        ("after" = Option<String>, Query),
        ("limit" = Option<i64>, Query),
    ),
    responses(
        (status = 200, description = "SentPage", body = SentPage),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest]))),
)]
fn sent_list() {}

#[utoipa::path(
    get,
    path = "/api/v1/sent/{id}",
    operation_id = "sentOne",
    tag = "發文",
    summary = "一份發文的逐一受文者狀態",
    description = "送達、收文確認、退文（含原因與說明）或失敗（含原因），以及是否要求即時確認。（與交換中心 API 的同名結構相同）",
    params(
        ("id" = String, Path, description = "封包編號（交換中心給的 package id）"),
    ),
    responses(
        (status = 200, description = "SentPackage", body = SentPackage),
    ),
    extensions(("x-error-codes" = json!([Code::NotFound]))),
)]
fn sent_one() {}

#[utoipa::path(
    get,
    path = "/api/v1/duties",
    operation_id = "duties",
    tag = "待辦",
    summary = "待辦清單",
    description = "發文：受文者未確認或被退文者，應於次一工作日下午 2 時前查詢並改以紙本補發；收文：前一工作日收到而尚未處理者，應於上午 10 時前處理。依交換中心的辦公日曆計算。（與交換中心 API 的同名結構相同）",
    responses(
        (status = 200, description = "Duties", body = Duties),
    ),
)]
fn duties() {}

#[utoipa::path(
    get,
    path = "/api/v1/stats",
    operation_id = "stats",
    tag = "統計",
    summary = "本機關的統計",
    description = "呼叫者所屬機關在本代理程式的發文數、收文數、簽收數、退文數與紙本列印數（各月、迄月的每日與合計），以及簽收時間（自送達收件匣至簽收的小時數：平均、中位數、第 90 百分位，與次一工作日上午 10 時前簽收的件數與比率）。收文、簽收與退文依收到的日期歸月。與網頁版「統計」頁及其 JSON 匯出相同。期間最長 24 個月；起訖月不是 `YYYY-MM`、迄月早於起月或超過 24 個月為 `E_BAD_REQUEST`。",
    params(
        ("from" = Option<String>, Query, description = "起月 `YYYY-MM`；預設為迄月往前共 12 個月。", example = "2026-01"),
        ("to" = Option<String>, Query, description = "迄月 `YYYY-MM`（含）；預設為本月。", example = "2026-12"),
    ),
    responses(
        (status = 200, description = "統計", body = crate::stats::Report),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest]))),
)]
fn stats() {}

#[utoipa::path(
    get,
    path = "/api/v1/inbox",
    operation_id = "inbox",
    tag = "收文",
    summary = "收文清單（新到的在前）",
    description = "`state`：`delivered`（待簽收，預設）、`confirmed`、`returned`、`quarantined`（含惡意程式，已隔離並自動退文）或 `all`。以 `before`（毫秒，取上一頁的 `next_before`）翻頁，`limit` 1–500（預設 100）。",
    params(
        ("state" = Option<String>, Query, description = "可用值：`delivered`、`confirmed`、`returned`、`quarantined`、`all`。"),
        ("before" = Option<i64>, Query),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 500),
    ),
    responses(
        (status = 200, description = "收文清單", body = InboxPage),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest]))),
)]
fn inbox() {}

#[utoipa::path(
    get,
    path = "/api/v1/inbox/{id}",
    operation_id = "inboxOne",
    tag = "收文",
    summary = "一份收文",
    description = "只看得到本機關的收文。",
    params(
        ("id" = String, Path, description = "封包編號（交換中心給的 package id）"),
    ),
    responses(
        (status = 200, description = "收文", body = ReceivedItem),
    ),
    extensions(("x-error-codes" = json!([Code::NotFound]))),
)]
fn inbox_one() {}

#[utoipa::path(
    get,
    path = "/api/v1/inbox/{id}/files/{name}",
    operation_id = "inboxFile",
    tag = "收文",
    summary = "下載收文的一個檔案（DI、SW、附件）",
    description = "`name` 須為收文 `files` 所列者（以百分比編碼）。以串流傳回，`Content-Disposition` 附原檔名。",
    params(
        ("id" = String, Path, description = "封包編號（交換中心給的 package id）"),
        ("name" = String, Path),
    ),
    responses(
        (status = 200, description = "檔案內容", body = Binary, content_type = "application/octet-stream"),
    ),
    extensions(("x-error-codes" = json!([Code::NotFound]))),
)]
fn inbox_file() {}

#[utoipa::path(
    post,
    path = "/api/v1/inbox/{id}/confirm",
    operation_id = "confirm",
    tag = "收文",
    summary = "簽收（收文確認）",
    description = "以本機關的簽章憑證簽署收文確認回執送交換中心，記錄處理者（用戶端名稱）。只有待簽收的收文可以簽收。",
    params(
        ("id" = String, Path, description = "封包編號（交換中心給的 package id）"),
    ),
    responses(
        (status = 200, description = "處理後的收文", body = ReceivedItem),
    ),
    extensions(("x-error-codes" = json!([Code::NotFound, Code::CopyState]))),
)]
fn confirm() {}

#[utoipa::path(
    post,
    path = "/api/v1/inbox/{id}/return",
    operation_id = "return",
    tag = "收文",
    summary = "退文（附原因）",
    description = "原因須為：非本機關權責、誤送、附件不全、無法開啟或亂碼、含惡意程式、格式錯誤、重複發送、其他；「其他」須填說明（最多 500 字）。已簽收者不能再以電子方式退文（請以紙本辦理）。",
    params(
        ("id" = String, Path, description = "封包編號（交換中心給的 package id）"),
    ),
    request_body(content = ReturnRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "處理後的收文", body = ReceivedItem),
    ),
    extensions(("x-error-codes" = json!([Code::NotFound, Code::CopyState, Code::BadRequest]))),
)]
fn return_doc() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_is_valid_and_committed() {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/api/agent.openapi.json"
        );
        if std::env::var_os("GONGWEN_BLESS").is_some() {
            std::fs::write(file, DOCUMENT.as_str()).unwrap();
        }
        let committed = std::fs::read_to_string(file).ok();
        let doc = openapi::checked(&DOCUMENT, committed.as_deref()).unwrap();
        let codes = &doc["paths"]["/api/v1/documents"]["post"]["x-error-codes"];
        for c in [
            Code::AgentAuth,
            Code::Malware,
            Code::HttpTooLarge,
            Code::Internal,
        ] {
            assert!(
                codes.as_array().unwrap().contains(&serde_json::json!(c)),
                "{c}"
            );
        }
    }
}
