//! The center's OpenAPI document (`/api/v1/openapi.json`, docs/api/center.openapi.json): the
//! wire types of `gongwen_proto` and the routes below, each with the codes it may answer.

// The functions only carry the routes' descriptions; the handlers are in `http`.
#![allow(dead_code)]

use std::sync::LazyLock;

use gongwen_proto::api::*;
use gongwen_proto::openapi::{self, Binary};
use gongwen_proto::{ApiError, Code, PackageHeader};
use gongwen_trust::receipt::Receipt;
use utoipa::OpenApi;

/// The document, made once.
pub static DOCUMENT: LazyLock<String> = LazyLock::new(document);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gongwen 交換中心 API",
        description = "Gongwen 交換中心（交換層）的 HTTP API：參與機關的公文系統以它送出交換封包、收取公文、送回回執、管理行文群組、取得收文者的加密憑證與查詢紀錄。交換中心只依發文者簽署的封包表頭路由，不解密、看不到公文內容。\n\n## 連線與身分\n\n只提供 HTTPS，並以**雙向 TLS** 識別呼叫者：`/api/v1/`（`/api/v1/openapi.json` 除外）的每一個請求都必須在 TLS 交握時出示用戶端憑證。憑證須鏈到交換中心信任的根憑證（並檢查 CRL），且其公鑰（SubjectPublicKeyInfo 的 SHA-256）已在交換中心登記為某一參與者的 TLS 憑證。\n\n- **呼叫者＝憑證綁定的參與者**（機關代碼）。請求中沒有其他身分欄位，也不使用帳號密碼或權杖；送件的發文機關、收文的收文者、回執的簽署者都必須是這個參與者。\n- 參與者的狀態必須為「正常」，停用、終止或註銷者一律拒絕（`E_AUTH_SUSPENDED`）。\n- **來源 IP** 必須在該參與者登記的允許清單中（單一位址；網段須經核准，列為例外），否則為 `E_AUTH_IP`。\n- 沒有出示憑證為 `E_AUTH_NO_CERT`（401）；憑證未登記給任何參與者為 `E_AUTH_UNKNOWN_CERT`（403）。\n\n安全機制為 `mutualTLS`（`components.securitySchemes`）；不需用戶端憑證的操作標示 `security: [{}]`。`/healthz` 與 `/api/v1/openapi.json` 不需用戶端憑證；`/metrics` 只給 `metrics_allow` 所列的位址（預設本機）或管理者的憑證。\n\n## 時間\n\n所有時間欄位與查詢參數都是 **Unix 毫秒**（交換中心的時鐘）；畫面上以民國日期、Asia/Taipei 時區顯示。例外：封包表頭的 `created` 與回執的 `time` 為 Unix 秒（它們在簽署的內容裡，不在 API 的 JSON 中）。\n\n## 錯誤\n\n非成功的回應主體一律為 JSON `{ \"code\": \"E_…\", \"message\": \"…\", \"detail\": \"…\" }`（`ApiError`）：`code` 是穩定的錯誤代碼，程式依它判斷；`message` 是 zh-TW 說明；`detail` 補充細節，可能省略。每個代碼固定對應一個 HTTP 狀態，完整清單見 `components.x-error-codes`（代碼、狀態、訊息、可能回應它的操作）與 docs/errors.md；各操作的說明列出它可能回應的代碼。交換中心把回應給已知呼叫者（登記的參與者、同儕交換中心）的每一個錯誤記入紀錄（`kind=error`），`E_UNAVAILABLE` 除外；身分不明者（沒有或未登記的憑證、不存在的路徑）的拒絕只計入指標 `gongwen_refused_unauthenticated_total`，不寫入紀錄。`E_INTERNAL` 的 `detail` 只有事件編號，細節記在交換中心的日誌。\n\n請求主體須在標頭之後 `limits.body_timeout_s` 秒（預設 300）內傳完，否則回應 `E_HTTP_TIMEOUT` 並中斷連線；同時開啟的連線數上限為 `limits.max_connections`（預設 1024）、同一位址 `limits.max_connections_per_ip`（預設 128），超過的連線一接受就關閉。\n\n查詢參數不認得或型別不符為 `E_BAD_REQUEST`，路徑不存在為 `E_NOT_FOUND`。例外：方法不允許（405）由 HTTP 框架回應，主體不是 JSON；用戶端程式庫把這類非 JSON 的錯誤回應視為 `E_HTTP`。\n\n## 分頁\n\n清單回應有 `items` 與 `next`；`next` 出現時表示可能還有下一頁，把它作為 `after` 查詢參數傳入。",
    ),
    servers((url = "https://127.0.0.1:8443", description = "預設的監聽位址（`center.listen`）。")),
    tags(
        (name = "送文", description = "送出封包與查詢送出的封包。"),
        (name = "收文", description = "列出、下載公文與送出回執。"),
        (name = "行文群組", description = "本機關與共用的行文群組。"),
        (name = "通訊錄", description = "參與者的加密憑證。"),
        (name = "紀錄", description = "交換紀錄與錯誤紀錄，JSON 或 CSV。"),
        (name = "交換中心之間", description = "同儕交換中心的轉送與狀態回報（雙向 TLS，以同儕憑證辨識）。"),
        (name = "系統", description = "健康檢查、指標與本文件。")
    ),
    security(("mutualTLS" = [])),
    paths(submit_package, get_sent_package, list_sent, list_inbox, get_inbox_body, post_receipt, list_groups, put_group, delete_group, search_participants, get_participant_certificates, query_records, report_security_event, report_paper_print, get_duties, relay_package, relay_status, get_open_api, healthz, metrics),
    components(schemas(ApiError, PackageHeader, Receipt, Notification)),
)]
struct Doc;

/// The document as JSON. Every operation without its own `security` is a participant's, and
/// may answer the authentication codes; a body may time out.
pub fn document() -> String {
    let tls = openapi::mutual_tls(
        "雙向 TLS：用戶端憑證須鏈到交換中心信任的根憑證，且公鑰登記給一個狀態正常的參與者；連線來源 IP 須在該參與者的允許清單中。呼叫者即該參與者。",
    );
    openapi::document(Doc::openapi(), [("mutualTLS", tls)], |op, named| {
        let participant = op.security.is_none();
        let mut all = Vec::new();
        if participant {
            all.extend([
                Code::AuthNoCert,
                Code::AuthUnknownCert,
                Code::AuthIp,
                Code::AuthSuspended,
                Code::DirectoryStale,
            ]);
        }
        all.extend(named);
        if op.request_body.is_some() {
            all.push(Code::HttpTimeout);
        }
        if participant {
            all.extend([Code::Internal, Code::Unavailable]);
        }
        all
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/packages",
    operation_id = "submitPackage",
    tag = "送文",
    summary = "送出一份交換封包",
    description = "送出已封裝（簽章並加密）的交換封包。交換中心不解密內容，只讀取並驗證封包表頭（發文者簽署、明文的路由資訊），依表頭為每一個收文者（機關代碼＋單位代碼）建立一份副本（copy），並在封包與所有副本都已寫入持久儲存後才回應。\n\n請求主體是整份封包的 DER 位元組（`ContentInfo(EnvelopedData)`，路由表頭是 unprotectedAttrs 中的 SignedData），以串流方式上傳；交換中心不檢查 `Content-Type`，建議送 `application/pkcs7-mime`。若送了 `Content-Length`：超過上限（`limits.max_package_bytes`，預設 200 MiB）立即以 `E_SUBMIT_TOO_LARGE` 拒收；與實際收到的位元組數不符則為 `E_SUBMIT_TRUNCATED`。\n\n檢查順序：Idempotency-Key 格式 → 大小 → 表頭可解讀 → 發文機關＝連線的參與者 → 無密等（「普通」或空白以外一律拒收）→ 有收文者、數量不超過 `limits.max_recipients`（預設 5000）→ 附件副檔名在 `limits.attachment_types`（預設 pdf、odt、ods、odp、odg、tif、tiff）→ 收文者機關代碼格式 → 表頭簽署憑證鏈到信任的根憑證、用途為簽章、且公鑰登記給發文機關 → 冪等鍵 → 重複送件 → 重發所指原封包 → 行文群組展開。\n\n**冪等**：`Idempotency-Key` 由用戶端為每一份封包產生（例如 UUID），範圍為發文機關自己。送件回應遺失時，以同一個鍵、同一份封包重送是安全的：回應 200 與該封包目前的狀態（`replayed: true`），不會再送一次。同一個鍵配另一份封包為 `E_SUBMIT_KEY_REUSED`；不同的鍵配已送過的封包 id 為 `E_SUBMIT_REPLAY`。重送同一份封包仍須上傳完整內容（先驗證表頭，再比對鍵）。\n\n**副本的起始狀態**：收文者在本中心且狀態正常 → `available`；登記在其他交換中心 → `accepted`（等待轉送）；不在通訊錄 → `failed`（`unknown_recipient`）；已停用 → `failed`（`recipient_suspended`）。收文者的問題不使整份送件失敗，而記在各副本上。",
    params(
        ("Idempotency-Key" = String, Header, description = "用戶端為這份封包產生的唯一鍵：1 到 128 個可見的 ASCII 字元（0x21–0x7E）。缺少或格式不符為 `E_SUBMIT_NO_KEY`。", min_length = 1, max_length = 128, pattern = "^[\\x21-\\x7E]{1,128}$", example = "7f1d2c9e-4b8a-4f6e-9a51-0c3e8d2b6a10"),
    ),
    request_body(content = Binary, content_type = "application/pkcs7-mime", description = "交換封包（DER）。大小上限為交換中心設定 `limits.max_package_bytes`（預設 209715200 位元組）。"),
    responses(
        (status = 200, description = "重送：此 Idempotency-Key 先前已送出同一份封包；回應該封包目前的狀態（`replayed: true`），沒有再送一次。", body = SentPackage),
        (status = 201, description = "已收件：新的封包，所有副本已建立（`replayed: false`）。", body = SentPackage),
    ),
    extensions(("x-error-codes" = json!([Code::SubmitNoKey, Code::SubmitHeader, Code::SubmitSender, Code::SubmitSigner, Code::SubmitTooLarge, Code::SubmitTruncated, Code::SubmitFileType, Code::SubmitClassified, Code::SubmitNoRecipient, Code::SubmitGroup, Code::SubmitResend, Code::SubmitKeyReused, Code::SubmitReplay]))),
)]
fn submit_package() {}

#[utoipa::path(
    get,
    path = "/api/v1/packages/{id}",
    operation_id = "getSentPackage",
    tag = "送文",
    summary = "查詢一份已送出的封包",
    description = "發文機關查詢自己送出的封包及每一份副本的狀態、送達時間、退文原因、收文字號與彙總。只有發文機關（以及交換中心管理者）看得到；其他人查詢一律回應 `E_NOT_FOUND`，不透露封包是否存在。",
    params(
        ("id" = String, Path, description = "封包 id（表頭的 `id`，32 個十六進位數字）。", example = "3f2a9c0d1e7b4a5f8c6d2e1f0a9b8c7d"),
    ),
    responses(
        (status = 200, description = "封包與各副本的狀態。", body = SentPackage),
    ),
    extensions(("x-error-codes" = json!([Code::NotFound]))),
)]
fn get_sent_package() {}

#[utoipa::path(
    get,
    path = "/api/v1/sent",
    operation_id = "listSent",
    tag = "送文",
    summary = "列出本機關送出的封包",
    description = "依送件時間（`submitted_at`）、封包 id 遞增排序，只列連線參與者自己送出的封包（管理者也只看到自己的）。回應的 `next` 存在時，以它作為 `after` 取下一頁。\n\n查詢參數不認得或型別不符時回應 `E_BAD_REQUEST`。`after` 不是 `時間:id` 的格式為 `E_BAD_REQUEST`。",
    params(
        ("open" = Option<bool>, Query, description = "`true`：只列還有副本未到最終狀態（收文確認、退文、傳送失敗以外）的封包。預設 false。"),
        ("since" = Option<i64>, Query, description = "只列 `submitted_at` ≥ 此時間（Unix 毫秒）的封包。"),
        ("after" = Option<String>, Query, description = "分頁位置：前一頁回應的 `next`（格式 `submitted_at:id`）。"),
        ("limit" = Option<i32>, Query, description = "每頁筆數，1 到 500（超出範圍時取最近的界限）。預設 50。", minimum = 1, maximum = 500),
    ),
    responses(
        (status = 200, description = "一頁封包。", body = SentPage),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest]))),
)]
fn list_sent() {}

#[utoipa::path(
    get,
    path = "/api/v1/inbox",
    operation_id = "listInbox",
    tag = "收文",
    summary = "列出待收（或已收）的公文",
    description = "列出寄給連線參與者、已可收取（`available_at` 已設定）的副本，依 `available_at`、封包 id、單位代碼遞增排序。同一封包寄給本機關的多個單位時，每個單位一筆。回應的 `next` 存在時，以它作為 `after` 取下一頁。\n\n收文流程：列出 → `GET /api/v1/inbox/{id}/body` 下載並在本機解密驗證 → `POST /api/v1/inbox/{id}/receipts` 送出簽章的送達回執 → 承辦後送出收文確認或退文回執。\n\n查詢參數不認得或型別不符時回應 `E_BAD_REQUEST`。",
    params(
        ("status" = Option<String>, Query, description = "副本狀態：`available`（預設，尚未送達）、`delivered`、`confirmed`、`returned`、`failed`，或 `all`（不限）。也接受中文名稱（例如「待收文」）。不認得的值為 `E_BAD_REQUEST`。", example = "available"),
        ("urgency" = Option<String>, Query, description = "速別，完全相符：最速件、速件、普通件。", example = "最速件"),
        ("since" = Option<i64>, Query, description = "只列 `available_at` ≥ 此時間（Unix 毫秒）。"),
        ("until" = Option<i64>, Query, description = "只列 `available_at` < 此時間（Unix 毫秒）。"),
        ("after" = Option<String>, Query, description = "分頁位置：前一頁回應的 `next`（格式 `available_at:id`）。"),
        ("limit" = Option<i32>, Query, description = "每頁筆數，1 到 1000（超出範圍時取最近的界限）。預設 100。", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "一頁收文。", body = InboxPage),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest]))),
)]
fn list_inbox() {}

#[utoipa::path(
    get,
    path = "/api/v1/inbox/{id}/body",
    operation_id = "getInboxBody",
    tag = "收文",
    summary = "下載封包內容",
    description = "下載寄給連線參與者的整份封包（與發文者上傳的位元組完全相同，`application/pkcs7-mime`），由收文者在本機解密並驗證簽章。只要副本已可收取（待收文、已送達、已收文確認或已退文）即可下載，直到依保存期限清除（之後為 `E_BODY_PURGED`）。下載本身不改變副本狀態：收文者須另送送達回執。\n\n**續傳（Range）**：只接受單一範圍 `bytes=起-迄`、`bytes=起-`、`bytes=-末N`；`迄` 超過檔尾時截到檔尾。有效範圍回應 206 與 `Content-Range: bytes 起-迄/總長`；無效或多重範圍、起點超過檔尾、`bytes=-0` 回應 416（`E_RANGE`），並帶 `Content-Range: bytes */總長`。不支援 `If-Range`／`If-None-Match`：請比對 `ETag`，並在下載完成後自行驗算 SHA-256。傳送中若讀檔失敗，連線會中斷（收到的長度少於 `Content-Length`），請續傳或重新下載。\n\n**完整性**：交換中心在送出任何位元組之前，先核對存放的整份封包（不只是要求的範圍）與存入時的 SHA-256；不符時不傳送內容，回應 500（`E_BODY_CORRUPT`），記錄日誌事件 `body_corrupt` 並計入 `/metrics` 的 `gongwen_body_corrupt_total`，存放的內容不會被更動。",
    params(
        ("id" = String, Path, description = "封包 id。連線參與者不是其收文者時為 `E_NOT_FOUND`。"),
        ("Range" = Option<String>, Header, description = "單一位元組範圍（RFC 9110），例如 `bytes=1048576-`。", example = "bytes=1048576-"),
    ),
    responses(
        (status = 200, description = "整份封包（沒有 Range 標頭）。", body = Binary, content_type = "application/pkcs7-mime", headers(("Content-Length" = i64, description = "本次回應的位元組數。"), ("Accept-Ranges" = String, description = "一律 `bytes`：可用 Range 續傳。"), ("ETag" = String, description = "封包檔案的 SHA-256（十六進位，含雙引號），與 `InboxItem.body_sha256` 相同。續傳時請確認不變。"))),
        (status = 206, description = "所要求的位元組範圍。", body = Binary, content_type = "application/pkcs7-mime", headers(("Content-Length" = i64, description = "本次回應的位元組數。"), ("Accept-Ranges" = String, description = "一律 `bytes`：可用 Range 續傳。"), ("ETag" = String, description = "封包檔案的 SHA-256（十六進位，含雙引號），與 `InboxItem.body_sha256` 相同。續傳時請確認不變。"), ("Content-Range" = String, description = "`bytes 起-迄/總長`。"))),
    ),
    extensions(("x-error-codes" = json!([Code::NotFound, Code::BodyPurged, Code::Range, Code::BodyCorrupt]))),
)]
fn get_inbox_body() {}

#[utoipa::path(
    post,
    path = "/api/v1/inbox/{id}/receipts",
    operation_id = "postReceipt",
    tag = "收文",
    summary = "送出回執（送達、收文確認或退文）",
    description = "收文者送出以自己簽章憑證簽署的回執，改變本機關（所有單位）這份封包副本的狀態；發文者之後在 `GET /api/v1/packages/{id}` 看到結果，交換中心把回執原文保存在紀錄中，可作為證明。\n\n請求主體是 CMS SignedData（DER，`ContentInfo`，內含被簽署的內容），最多 64 KiB；被簽署的內容是 JSON（見 `Receipt`）。簽章憑證須鏈到信任的根憑證、用途為簽章，且公鑰登記給 `recipient`（＝連線參與者）。交換中心不檢查 `Content-Type`。\n\n- **送達**（`送達`）：收文者系統已收到並驗證封包。`available` → `delivered`；交換中心在接受回執的時刻記下 `delivered_at`，即法定的送達時間。\n- **收文確認**（`收文確認`）：收文者簽收，可附收文字號（`receipt_number`）。`delivered` → `confirmed`（最終）。\n- **退文**（`退文`）：收文者退回，必須有原因代碼（`ReturnReason`）與說明文字。`delivered` → `returned`（最終）。\n\n必須先送達才能收文確認或退文；其他的狀態變更（例如 `available` → `confirmed`、最終狀態再改）為 `E_COPY_STATE`。\n\n**重複送出**：副本已在回執所指的狀態時（例如回應遺失後重送同一份送達回執），回應 200 與目前的副本、不做任何變更，也不改送達時間；可放心重試。\n\n回執所記的收文者不是連線參與者、封包 id 與路徑不同、`package_sha256` 不是封包表頭的 `body_sha256`、或發文者不符時為 `E_RECEIPT_MISMATCH`；無法解讀、簽章無效、憑證不受信任或未登記給收文者、超過 64 KiB 時為 `E_RECEIPT_INVALID`。",
    params(
        ("id" = String, Path, description = "封包 id。連線參與者不是其收文者時為 `E_NOT_FOUND`。"),
    ),
    request_body(content = Binary, content_type = "application/pkcs7-mime", description = "簽章的回執：CMS SignedData（DER），內容為 `Receipt` JSON，最多 65536 位元組。"),
    responses(
        (status = 200, description = "回執已套用（或已是該狀態）：本機關第一個單位的副本目前狀態。", body = CopyView),
    ),
    extensions(("x-error-codes" = json!([Code::ReceiptInvalid, Code::ReceiptMismatch, Code::NotFound, Code::CopyState]))),
)]
fn post_receipt() {}

#[utoipa::path(
    get,
    path = "/api/v1/groups",
    operation_id = "listGroups",
    tag = "行文群組",
    summary = "列出可用的行文群組",
    description = "列出連線參與者自己的群組（`owner` 為自己的機關代碼），接著是交換中心的共用群組（`owner` 為「共用」）。送件時表頭列出的群組，先找自己的同名群組，再找共用群組；群組的每個成員都必須已在封包收文者中（否則 `E_SUBMIT_GROUP`），所以請在封裝前取得群組。",
    responses(
        (status = 200, description = "群組清單。", body = [Group]),
    ),
)]
fn list_groups() {}

#[utoipa::path(
    put,
    path = "/api/v1/groups/{name}",
    operation_id = "putGroup",
    tag = "行文群組",
    summary = "建立或取代本機關的群組",
    description = "以請求中的成員整批取代連線參與者自己的同名群組（不存在則建立）；重複的成員只留一個。不能修改共用群組。主體為 JSON（`GroupUpdate`，最多 1 MiB；交換中心不檢查 `Content-Type`）。成員須為 1 到 5000 個機關代碼，每個 1 到 20 個英數字。",
    params(
        ("name" = String, Path, description = "群組名稱：1 到 50 個字，不含「/」（以 UTF-8 百分比編碼）。", min_length = 1, max_length = 50, example = "所屬機關"),
    ),
    request_body(content = GroupUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "更新後的群組。", body = Group),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest]))),
)]
fn put_group() {}

#[utoipa::path(
    delete,
    path = "/api/v1/groups/{name}",
    operation_id = "deleteGroup",
    tag = "行文群組",
    summary = "刪除本機關的群組",
    description = "刪除連線參與者自己的同名群組。已送出封包記錄的群組展開不受影響。",
    params(
        ("name" = String, Path, description = "群組名稱：1 到 50 個字，不含「/」（以 UTF-8 百分比編碼）。", min_length = 1, max_length = 50, example = "所屬機關"),
    ),
    responses(
        (status = 204, description = "已刪除。"),
    ),
    extensions(("x-error-codes" = json!([Code::NotFound]))),
)]
fn delete_group() {}

#[utoipa::path(
    get,
    path = "/api/v1/participants",
    operation_id = "searchParticipants",
    tag = "通訊錄",
    summary = "查詢可發文的參與者（地址簿）",
    description = "依機關代碼或名稱的一部分查詢狀態正常的參與者（臺與台、全形與半形不分），供發文時挑選受文者；依代碼排序，最多 `limit` 筆（1–100，預設 20）。`center` 不為空時表示該參與者登記在其他交換中心（由本中心轉送）。",
    params(
        ("q" = Option<String>, Query, description = "代碼或名稱的一部分。", example = "台南"),
        ("limit" = Option<i64>, Query, description = "預設 20。", minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, description = "符合的參與者。", body = [Listing]),
    ),
)]
fn search_participants() {}

#[utoipa::path(
    get,
    path = "/api/v1/participants/{code}/certificates",
    operation_id = "getParticipantCertificates",
    tag = "通訊錄",
    summary = "取得參與者的加密憑證",
    description = "取得收文者登記的加密憑證（PEM），供發文者封裝時為每一個收文者加密。收文者登記在其他交換中心時也查得到。沒有登記加密憑證時 `encryption` 為空字串。",
    params(
        ("code" = String, Path, description = "機關代碼。", example = "A01000000A"),
    ),
    responses(
        (status = 200, description = "參與者與其加密憑證。", body = ParticipantCerts),
    ),
    extensions(("x-error-codes" = json!([Code::NotFound]))),
)]
fn get_participant_certificates() {}

#[utoipa::path(
    get,
    path = "/api/v1/records",
    operation_id = "queryRecords",
    tag = "紀錄",
    summary = "查詢紀錄（JSON 或 CSV）",
    description = "查詢交換紀錄：每一份副本生命中的事件（`accepted`、`available`、`relayed`、`delivered`、`confirmed`、`returned`、`failed`）、參與者狀態變更（`participant_active`、`participant_suspended`…），以及交換中心回應過的每一個錯誤（`error`，`detail` 為「代碼 方法 路由 說明」）。紀錄至少保存 365 天。每個條件都縮小範圍，依紀錄編號遞增排序。\n\n一般參與者只看得到自己的紀錄（自己造成的、自己是收文者的、或自己送出的封包的），省略 `participant` 即為自己，指定其他參與者時回應 `E_AUTH_NOT_OPERATOR`；交換中心管理者看得到全部。\n\n`format=csv` 回應 CSV 檔（`text/csv; charset=utf-8`，`Content-Disposition: attachment; filename=\"records.csv\"`）：UTF-8 含 BOM、CRLF 換行，欄位為 編號、時間（Unix 毫秒）、民國日期時間（Asia/Taipei 的民國日期，例如「中華民國115年1月1日」）、行為者、事件、封包、收文者、文號、說明；以 `=`、`+`、`-`、`@` 開頭的欄位前加 `'`，避免被試算表當成公式。CSV 沒有 `next`：以最後一列的編號作為 `after` 取下一頁。\n\n查詢參數不認得或型別不符時回應 `E_BAD_REQUEST`。",
    params(
        ("participant" = Option<String>, Query, description = "機關代碼：它造成的、它是收文者的、或它送出的封包的紀錄。一般參與者只能指定自己（或省略）。"),
        ("from" = Option<i64>, Query, description = "起（含），Unix 毫秒。"),
        ("to" = Option<i64>, Query, description = "迄（不含），Unix 毫秒。"),
        ("doc_number" = Option<String>, Query, description = "發文字號，完全相符。"),
        ("kind" = Option<String>, Query, description = "事件種類，例如 `accepted`、`delivered`、`error`。"),
        ("package_id" = Option<String>, Query, description = "封包 id。"),
        ("after" = Option<i64>, Query, description = "只列編號大於此值的紀錄（分頁：前一頁的 `next`）。"),
        ("limit" = Option<i32>, Query, description = "每頁筆數，1 到 10000（超出範圍時取最近的界限）。預設 500。", minimum = 1, maximum = 10000),
        ("format" = Option<String>, Query, description = "`csv`：回應 CSV 檔；其他或省略：JSON。可用值：`json`、`csv`。"),
    ),
    responses(
        (status = 200, description = "一頁紀錄。", content((RecordPage = "application/json"), (String = "text/csv", example = json!("﻿編號,時間,民國日期時間,行為者,事件,封包,收文者,文號,說明\r\n1,1767225600000,中華民國115年1月1日,A01000000A,accepted,3f2a9c0d1e7b4a5f8c6d2e1f0a9b8c7d,B02000000B,北市資字第1150000001號,\r\n"))), headers(("Content-Disposition" = String, description = "只在 `format=csv` 時：`attachment; filename=\"records.csv\"`。"))),
    ),
    extensions(("x-error-codes" = json!([Code::AuthNotOperator, Code::BadRequest]))),
)]
fn query_records() {}

#[utoipa::path(
    post,
    path = "/api/v1/security-events",
    operation_id = "reportSecurityEvent",
    tag = "紀錄",
    summary = "通報資安事件",
    description = "參與者通報資安事件（資訊安全管理規範第五點：偵測到惡意程式時通知來源機關並通報），例如機關代理程式在收到的公文中驗出惡意程式、已隔離並退文。交換中心把它記入紀錄（`kind=security_event`，行為者為通報的參與者），並寫入日誌供管理者處理。目前的事件種類只有 `malware`。帶 `package_id` 時，通報者須是該封包的發文者或收文者（交換中心管理者不在此限），否則回應 `E_EVENT_NOT_PARTY`（不存在的封包亦同）。",
    request_body(content = SecurityEvent, content_type = "application/json"),
    responses(
        (status = 204, description = "已記錄。"),
    ),
    extensions(("x-error-codes" = json!([Code::EventNotParty, Code::BadRequest]))),
)]
fn report_security_event() {}

#[utoipa::path(
    post,
    path = "/api/v1/paper-prints",
    operation_id = "reportPaperPrint",
    tag = "紀錄",
    summary = "通報紙本列印",
    description = "參與者（機關代理程式）通報把一件已交換的公文印成紙本，寄給未參加電子交換的受文者一次。交換中心把它記入紀錄（`kind=paper_printed`，行為者為通報的參與者），統計頁以它與電子交換的份數並列（電子與紙本的比例）。通報者須是該封包的發文者或收文者，否則回應 `E_EVENT_NOT_PARTY`（不存在的封包亦同）。",
    request_body(content = PaperPrint, content_type = "application/json"),
    responses(
        (status = 204, description = "已記錄。"),
    ),
    extensions(("x-error-codes" = json!([Code::EventNotParty, Code::BadRequest]))),
)]
fn report_paper_print() {}

#[utoipa::path(
    get,
    path = "/api/v1/duties",
    operation_id = "getDuties",
    tag = "收文",
    summary = "待辦清單（發文追蹤與收文檢核）",
    description = "依臺北市政府公文電子交換作業要點第十二、十三點與政府行政機關辦公日曆（內建 115 年，管理者可匯入）：\n\n- `sending`：本機關送出、尚未收文確認的副本（待收、已送達、被退文、傳送失敗），應於發文後次一工作日 14:00 前查詢並補發紙本；只列 `days` 日內送出的。\n- `receiving`：寄給本機關、尚未收文確認或退文的副本，應於次一工作日 10:00 前完成收文處理檢核。\n\n`due_at` 為時限（Unix 毫秒），`overdue` 表示已逾時；`confirm_now` 表示發文者要求即時確認。",
    params(
        ("days" = Option<i32>, Query, description = "發文追蹤清單回溯的天數（1 到 366，預設 30）。", minimum = 1, maximum = 366),
    ),
    responses(
        (status = 200, description = "兩份清單。", body = Duties),
    ),
    extensions(("x-error-codes" = json!([Code::BadRequest]))),
)]
fn get_duties() {}

#[utoipa::path(
    post,
    path = "/api/v1/relay/packages",
    operation_id = "relayPackage",
    tag = "交換中心之間",
    summary = "轉送封包（交換中心之間）",
    description = "另一個交換中心把收文者登記在本中心的封包轉送過來。只接受設定為同儕（`federation.peers`）的交換中心，以其 TLS 用戶端憑證辨識。主體為原封不動的交換封包（`application/pkcs7-mime`），標頭 `x-gongwen-recipients` 列出本中心的收文者（逗號分隔）。本中心檢查表頭簽章（憑證鏈、撤銷狀態、簽署金鑰屬於發文機關），為每個收文者建立副本並回應其狀態；同一封包再送一次只回應現況（冪等）。之後收文者的送達、收文確認、退文由本中心以 `/api/v1/relay/status` 送回來源中心。",
    params(
        ("x-gongwen-recipients" = String, Header, description = "本中心的收文者機關代碼，逗號分隔。"),
    ),
    request_body(content = Binary, content_type = "application/pkcs7-mime"),
    responses(
        (status = 200, description = "本中心持有的副本。", body = RelayAnswer),
    ),
    security(("mutualTLS" = [])),
    extensions(("x-error-codes" = json!([Code::AuthNoCert, Code::AuthNotPeer, Code::RelayRefused, Code::SubmitTooLarge, Code::SubmitTruncated, Code::Internal, Code::Unavailable]))),
)]
fn relay_package() {}

#[utoipa::path(
    post,
    path = "/api/v1/relay/status",
    operation_id = "relayStatus",
    tag = "交換中心之間",
    summary = "回報副本狀態（交換中心之間）",
    description = "收文者所在的交換中心把副本的新狀態（可用、送達、收文確認、退文、失敗）送回封包的來源中心。只接受收文者登記所在的同儕中心。送達、收文確認與退文是收文者的行為，必須附上收文者簽署的回執原文（`receipt_hex`，DER 的十六進位）：來源中心以通訊錄登記給收文者的簽章金鑰驗證回執（憑證鏈與撤銷狀態），回執須屬於該封包（封包 id、封包摘要、發文者、收文者），且所報的狀態、收文字號與退文原因須與回執相同；記錄的事件、收文字號、退文原因與時間一律取自回執，不採用同儕中心所填的時間。沒有回執者回應 `E_RELAY_NO_RECEIPT`，其他狀態（可用、失敗）則不得附回執。狀態只會往前推進，重複或較舊的狀態不改變任何事。",
    request_body(content = StatusUpdate, content_type = "application/json"),
    responses(
        (status = 204, description = "已套用（或已是該狀態）。"),
    ),
    security(("mutualTLS" = [])),
    extensions(("x-error-codes" = json!([Code::AuthNoCert, Code::AuthNotPeer, Code::RelayRefused, Code::RelayNoReceipt, Code::ReceiptInvalid, Code::ReceiptMismatch, Code::BadRequest, Code::Internal, Code::Unavailable]))),
)]
fn relay_status() {}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "getOpenApi",
    tag = "系統",
    summary = "本 API 的 OpenAPI 文件",
    description = "回應本文件（`application/json`）。不需用戶端憑證。",
    responses(
        (status = 200, description = "OpenAPI 文件。", body = Object),
    ),
    security(()),
)]
fn get_open_api() {}

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "系統",
    summary = "健康檢查",
    description = "檢查交換中心能否讀取資料庫。不需用戶端憑證（請以網路設定限制存取）。兩種結果的主體都是 `Health`，不是錯誤格式。",
    responses(
        (status = 200, description = "正常：`status` 為 `ok`。", body = Health),
        (status = 503, description = "資料庫無法使用：`status` 為 `database unavailable`。", body = Health),
    ),
    security(()),
)]
fn healthz() {}

#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "系統",
    summary = "Prometheus 指標",
    description = "Prometheus 文字格式（`text/plain; version=0.0.4`）。只回應 `metrics_allow` 所列的位址（預設只有本機 127.0.0.1、::1），或以交換中心管理者（operator）的用戶端憑證連線者；其他一律 `E_AUTH_NOT_OPERATOR`。指標：\n\n- `gongwen_http_request_seconds`（histogram，`kind`＝「方法 路由」）：回應時間\n- `gongwen_http_responses_total`（counter，`kind`＝「狀態 方法 路由」）\n- `gongwen_packages_total`、`gongwen_package_bytes_total`（counter，`kind=\"accepted\"`）：收件數與位元組數\n- `gongwen_downloads_total`（counter，`kind` 為 `whole` 或 `range`）\n- `gongwen_copies_total`（counter，`kind` 為回執造成的狀態）\n- `gongwen_copies_available`（gauge）：等待收文者的副本數；資料庫無法讀取時為 -1\n- `gongwen_body_corrupt_total`（counter）：存放的封包內容與摘要不符而拒絕傳送的次數\n- `gongwen_refused_unauthenticated_total`（counter，`kind` 為錯誤代碼）：拒絕身分不明的呼叫者（沒有或未登記的憑證、不存在的路徑、非同儕的轉送）的次數；這些拒絕不寫入紀錄",
    responses(
        (status = 200, description = "指標。", body = String, content_type = "text/plain", example = json!("# HELP gongwen_packages_total Packages accepted\n# TYPE gongwen_packages_total counter\ngongwen_packages_total{kind=\"accepted\"} 12\n# HELP gongwen_copies_available Copies waiting for their recipient\n# TYPE gongwen_copies_available gauge\ngongwen_copies_available 3\n")),
    ),
    security(()),
    extensions(("x-error-codes" = json!([Code::AuthNotOperator]))),
)]
fn metrics() {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openapi_is_valid_and_committed() {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/api/center.openapi.json"
        );
        if std::env::var_os("GONGWEN_BLESS").is_some() {
            std::fs::write(file, DOCUMENT.as_str()).unwrap();
        }
        let committed = std::fs::read_to_string(file).ok();
        openapi::checked(&DOCUMENT, committed.as_deref()).unwrap();
    }

    #[test]
    fn openapi_names_every_code() {
        let doc: serde_json::Value = serde_json::from_str(&DOCUMENT).expect("valid JSON");
        for c in Code::ALL {
            assert!(
                DOCUMENT.contains(c.as_str()),
                "{c} missing from the OpenAPI document"
            );
        }
        // The submission names its own codes and those of every participant's route.
        let codes = &doc["paths"]["/api/v1/packages"]["post"]["x-error-codes"];
        for c in [
            Code::AuthNoCert,
            Code::SubmitNoKey,
            Code::HttpTimeout,
            Code::Internal,
        ] {
            assert!(codes.as_array().unwrap().contains(&json!(c)), "{c}");
        }
        assert_eq!(
            doc["paths"]["/healthz"]["get"]["x-error-codes"],
            json!(null)
        );
    }
}
