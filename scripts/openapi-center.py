#!/usr/bin/env python3
# 產生 docs/api/center.openapi.json（交換中心 API 的 OpenAPI 文件）；錯誤代碼直接讀 crates/proto/src/error.rs。
# Generates docs/api/center.openapi.json; error codes are read from crates/proto/src/error.rs.
# Run after changing the API: python3 scripts/openapi-center.py
import json, os, re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')

# ---- error codes, read from the source of truth ----
src = open(os.path.join(ROOT, 'crates/proto/src/error.rs'), encoding='utf-8').read()
table = src[src.index('codes! {'):]
CODES = [(c, int(s), m) for c, s, m in re.findall(r'=\s*"(E_[A-Z_]+)",\s*(\d+),\s*"([^"]*)";', table)]
CMAP = {c: (s, m) for c, s, m in CODES}
assert len(CODES) == 46, len(CODES)

def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}

def with_desc(name, desc):
    return {"allOf": [ref(name)], "description": desc}

AUTH = ["E_AUTH_NO_CERT", "E_AUTH_UNKNOWN_CERT", "E_AUTH_IP", "E_AUTH_SUSPENDED", "E_DIRECTORY_STALE"]
SERVER = ["E_INTERNAL", "E_UNAVAILABLE"]

STATUS_RESP = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
    408: "RequestTimeout", 409: "Conflict", 410: "Gone", 413: "PayloadTooLarge", 415: "UnsupportedMediaType",
    416: "RangeNotSatisfiable", 500: "InternalError", 503: "Unavailable",
}

def codes_text(codes):
    lines = ["", "", "**可能的錯誤代碼**："]
    for c in codes:
        s, m = CMAP[c]
        lines.append(f"- `{c}`（{s}）{m}")
    return "\n".join(lines)

def error_responses(codes):
    out = {}
    for c in codes:
        s = CMAP[c][0]
        out[str(s)] = {"$ref": f"#/components/responses/{STATUS_RESP[s]}"}
    return dict(sorted(out.items()))

def op(op_id, tag, summary, desc, codes, responses, auth=True, **extra):
    # A body must arrive within limits.body_timeout_s.
    timed = ["E_HTTP_TIMEOUT"] if "requestBody" in extra else []
    all_codes = (AUTH if auth else []) + codes + timed + (SERVER if auth else [])
    seen = []
    for c in all_codes:
        if c not in seen:
            seen.append(c)
    o = {"operationId": op_id, "tags": [tag], "summary": summary,
         "description": desc + (codes_text(seen) if seen else "")}
    o.update(extra)
    r = dict(responses)
    r.update(error_responses(seen))
    o["responses"] = dict(sorted(r.items(), key=lambda kv: kv[0]))
    if seen:
        o["x-error-codes"] = seen
    o["x-security"] = [{"mutualTLS": []}] if auth else []
    return o

def json_resp(desc, schema, headers=None):
    r = {"description": desc, "content": {"application/json": {"schema": schema}}}
    if headers:
        r["headers"] = headers
    return r

ms = lambda d: {"type": "integer", "format": "int64", "description": d}
cursor = lambda d: {"name": "after", "in": "query", "required": False, "description": d, "schema": {"type": "string"}}

# ---- paths ----
paths = {}

paths["/api/v1/packages"] = {"post": op(
    "submitPackage", "送文", "送出一份交換封包",
    "送出已封裝（簽章並加密）的交換封包。交換中心不解密內容，只讀取並驗證封包表頭（發文者簽署、明文的路由資訊），"
    "依表頭為每一個收文者（機關代碼＋單位代碼）建立一份副本（copy），並在封包與所有副本都已寫入持久儲存後才回應。\n\n"
    "請求主體是整份封包的 DER 位元組（`ContentInfo(EnvelopedData)`，路由表頭是 unprotectedAttrs 中的 SignedData），"
    "以串流方式上傳；交換中心不檢查 `Content-Type`，建議送 `application/pkcs7-mime`。"
    "若送了 `Content-Length`：超過上限（`limits.max_package_bytes`，預設 200 MiB）立即以 `E_SUBMIT_TOO_LARGE` 拒收；"
    "與實際收到的位元組數不符則為 `E_SUBMIT_TRUNCATED`。\n\n"
    "檢查順序：Idempotency-Key 格式 → 大小 → 表頭可解讀 → 發文機關＝連線的參與者 → 無密等（「普通」或空白以外一律拒收）→ "
    "有收文者、數量不超過 `limits.max_recipients`（預設 5000）→ 附件副檔名在 `limits.attachment_types`（預設 pdf、odt、ods、odp、odg、tif、tiff）→ "
    "收文者機關代碼格式 → 表頭簽署憑證鏈到信任的根憑證、用途為簽章、且公鑰登記給發文機關 → 冪等鍵 → 重複送件 → 重發所指原封包 → 行文群組展開。\n\n"
    "**冪等**：`Idempotency-Key` 由用戶端為每一份封包產生（例如 UUID），範圍為發文機關自己。"
    "送件回應遺失時，以同一個鍵、同一份封包重送是安全的：回應 200 與該封包目前的狀態（`replayed: true`），不會再送一次。"
    "同一個鍵配另一份封包為 `E_SUBMIT_KEY_REUSED`；不同的鍵配已送過的封包 id 為 `E_SUBMIT_REPLAY`。"
    "重送同一份封包仍須上傳完整內容（先驗證表頭，再比對鍵）。\n\n"
    "**副本的起始狀態**：收文者在本中心且狀態正常 → `available`；登記在其他交換中心 → `accepted`（等待轉送）；"
    "不在通訊錄 → `failed`（`unknown_recipient`）；已停用 → `failed`（`recipient_suspended`）。"
    "收文者的問題不使整份送件失敗，而記在各副本上。",
    ["E_SUBMIT_NO_KEY", "E_SUBMIT_HEADER", "E_SUBMIT_SENDER", "E_SUBMIT_SIGNER", "E_SUBMIT_TOO_LARGE",
     "E_SUBMIT_TRUNCATED", "E_SUBMIT_FILE_TYPE", "E_SUBMIT_CLASSIFIED", "E_SUBMIT_NO_RECIPIENT",
     "E_SUBMIT_GROUP", "E_SUBMIT_RESEND", "E_SUBMIT_KEY_REUSED", "E_SUBMIT_REPLAY"],
    {
        "201": json_resp("已收件：新的封包，所有副本已建立（`replayed: false`）。", ref("SentPackage")),
        "200": json_resp("重送：此 Idempotency-Key 先前已送出同一份封包；回應該封包目前的狀態（`replayed: true`），沒有再送一次。", ref("SentPackage")),
    },
    parameters=[{
        "name": "Idempotency-Key", "in": "header", "required": True,
        "description": "用戶端為這份封包產生的唯一鍵：1 到 128 個可見的 ASCII 字元（0x21–0x7E）。缺少或格式不符為 `E_SUBMIT_NO_KEY`。",
        "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[\\x21-\\x7E]{1,128}$"},
        "example": "7f1d2c9e-4b8a-4f6e-9a51-0c3e8d2b6a10",
    }],
    requestBody={
        "required": True,
        "description": "交換封包（DER）。大小上限為交換中心設定 `limits.max_package_bytes`（預設 209715200 位元組）。",
        "content": {"application/pkcs7-mime": {"schema": {"type": "string", "format": "binary"}}},
    },
)}

paths["/api/v1/packages/{id}"] = {"get": op(
    "getSentPackage", "送文", "查詢一份已送出的封包",
    "發文機關查詢自己送出的封包及每一份副本的狀態、送達時間、退文原因、收文字號與彙總。"
    "只有發文機關（以及交換中心管理者）看得到；其他人查詢一律回應 `E_NOT_FOUND`，不透露封包是否存在。",
    ["E_NOT_FOUND"],
    {"200": json_resp("封包與各副本的狀態。", ref("SentPackage"))},
    parameters=[{"name": "id", "in": "path", "required": True, "description": "封包 id（表頭的 `id`，32 個十六進位數字）。",
                 "schema": {"type": "string"}, "example": "3f2a9c0d1e7b4a5f8c6d2e1f0a9b8c7d"}],
)}

paths["/api/v1/sent"] = {"get": op(
    "listSent", "送文", "列出本機關送出的封包",
    "依送件時間（`submitted_at`）、封包 id 遞增排序，只列連線參與者自己送出的封包（管理者也只看到自己的）。"
    "回應的 `next` 存在時，以它作為 `after` 取下一頁。\n\n"
    "查詢參數不認得或型別不符時回應 `E_BAD_REQUEST`。"
    "`after` 不是 `時間:id` 的格式為 `E_BAD_REQUEST`。",
    ["E_BAD_REQUEST"],
    {"200": json_resp("一頁封包。", ref("SentPage"))},
    parameters=[
        {"name": "open", "in": "query", "required": False,
         "description": "`true`：只列還有副本未到最終狀態（收文確認、退文、傳送失敗以外）的封包。",
         "schema": {"type": "boolean", "default": False}},
        {"name": "since", "in": "query", "required": False, "description": "只列 `submitted_at` ≥ 此時間（Unix 毫秒）的封包。",
         "schema": {"type": "integer", "format": "int64"}},
        cursor("分頁位置：前一頁回應的 `next`（格式 `submitted_at:id`）。"),
        {"name": "limit", "in": "query", "required": False, "description": "每頁筆數，1 到 500（超出範圍時取最近的界限）。",
         "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 500, "default": 50}},
    ],
)}

paths["/api/v1/inbox"] = {"get": op(
    "listInbox", "收文", "列出待收（或已收）的公文",
    "列出寄給連線參與者、已可收取（`available_at` 已設定）的副本，依 `available_at`、封包 id、單位代碼遞增排序。"
    "同一封包寄給本機關的多個單位時，每個單位一筆。回應的 `next` 存在時，以它作為 `after` 取下一頁。\n\n"
    "收文流程：列出 → `GET /api/v1/inbox/{id}/body` 下載並在本機解密驗證 → `POST /api/v1/inbox/{id}/receipts` 送出簽章的送達回執 → "
    "承辦後送出收文確認或退文回執。\n\n"
    "查詢參數不認得或型別不符時回應 `E_BAD_REQUEST`。",
    ["E_BAD_REQUEST"],
    {"200": json_resp("一頁收文。", ref("InboxPage"))},
    parameters=[
        {"name": "status", "in": "query", "required": False,
         "description": "副本狀態：`available`（預設，尚未送達）、`delivered`、`confirmed`、`returned`、`failed`，或 `all`（不限）。"
                        "也接受中文名稱（例如「待收文」）。不認得的值為 `E_BAD_REQUEST`。",
         "schema": {"type": "string", "default": "available"}, "example": "available"},
        {"name": "urgency", "in": "query", "required": False, "description": "速別，完全相符：最速件、速件、普通件。",
         "schema": {"type": "string"}, "example": "最速件"},
        {"name": "since", "in": "query", "required": False, "description": "只列 `available_at` ≥ 此時間（Unix 毫秒）。",
         "schema": {"type": "integer", "format": "int64"}},
        {"name": "until", "in": "query", "required": False, "description": "只列 `available_at` < 此時間（Unix 毫秒）。",
         "schema": {"type": "integer", "format": "int64"}},
        cursor("分頁位置：前一頁回應的 `next`（格式 `available_at:id`）。"),
        {"name": "limit", "in": "query", "required": False, "description": "每頁筆數，1 到 1000（超出範圍時取最近的界限）。",
         "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 1000, "default": 100}},
    ],
)}

body_headers = {
    "Content-Length": {"description": "本次回應的位元組數。", "schema": {"type": "integer", "format": "int64"}},
    "Accept-Ranges": {"description": "一律 `bytes`：可用 Range 續傳。", "schema": {"type": "string", "enum": ["bytes"]}},
    "ETag": {"description": "封包檔案的 SHA-256（十六進位，含雙引號），與 `InboxItem.body_sha256` 相同。續傳時請確認不變。",
             "schema": {"type": "string"}, "example": "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\""},
}
paths["/api/v1/inbox/{id}/body"] = {"get": op(
    "getInboxBody", "收文", "下載封包內容",
    "下載寄給連線參與者的整份封包（與發文者上傳的位元組完全相同，`application/pkcs7-mime`），由收文者在本機解密並驗證簽章。"
    "只要副本已可收取（待收文、已送達、已收文確認或已退文）即可下載，直到依保存期限清除（之後為 `E_BODY_PURGED`）。"
    "下載本身不改變副本狀態：收文者須另送送達回執。\n\n"
    "**續傳（Range）**：只接受單一範圍 `bytes=起-迄`、`bytes=起-`、`bytes=-末N`；`迄` 超過檔尾時截到檔尾。"
    "有效範圍回應 206 與 `Content-Range: bytes 起-迄/總長`；無效或多重範圍、起點超過檔尾、`bytes=-0` 回應 416（`E_RANGE`），"
    "並帶 `Content-Range: bytes */總長`。不支援 `If-Range`／`If-None-Match`：請比對 `ETag`，並在下載完成後自行驗算 SHA-256。"
    "傳送中若讀檔失敗，連線會中斷（收到的長度少於 `Content-Length`），請續傳或重新下載。\n\n"
    "**完整性**：交換中心在送出任何位元組之前，先核對存放的整份封包（不只是要求的範圍）與存入時的 SHA-256；"
    "不符時不傳送內容，回應 500（`E_BODY_CORRUPT`），記錄日誌事件 `body_corrupt` 並計入 `/metrics` 的 `gongwen_body_corrupt_total`，"
    "存放的內容不會被更動。",
    ["E_NOT_FOUND", "E_BODY_PURGED", "E_RANGE", "E_BODY_CORRUPT"],
    {
        "200": {"description": "整份封包（沒有 Range 標頭）。", "headers": body_headers,
                "content": {"application/pkcs7-mime": {"schema": {"type": "string", "format": "binary"}}}},
        "206": {"description": "所要求的位元組範圍。",
                "headers": dict(body_headers, **{"Content-Range": {"description": "`bytes 起-迄/總長`。", "schema": {"type": "string"}, "example": "bytes 0-1048575/52428800"}}),
                "content": {"application/pkcs7-mime": {"schema": {"type": "string", "format": "binary"}}}},
    },
    parameters=[
        {"name": "id", "in": "path", "required": True, "description": "封包 id。連線參與者不是其收文者時為 `E_NOT_FOUND`。", "schema": {"type": "string"}},
        {"name": "Range", "in": "header", "required": False, "description": "單一位元組範圍（RFC 9110），例如 `bytes=1048576-`。",
         "schema": {"type": "string"}, "example": "bytes=1048576-"},
    ],
)}

paths["/api/v1/inbox/{id}/receipts"] = {"post": op(
    "postReceipt", "收文", "送出回執（送達、收文確認或退文）",
    "收文者送出以自己簽章憑證簽署的回執，改變本機關（所有單位）這份封包副本的狀態；發文者之後在 `GET /api/v1/packages/{id}` 看到結果，"
    "交換中心把回執原文保存在紀錄中，可作為證明。\n\n"
    "請求主體是 CMS SignedData（DER，`ContentInfo`，內含被簽署的內容），最多 64 KiB；被簽署的內容是 JSON（見 `ReceiptContent`）。"
    "簽章憑證須鏈到信任的根憑證、用途為簽章，且公鑰登記給 `recipient`（＝連線參與者）。交換中心不檢查 `Content-Type`。\n\n"
    "- **送達**（`送達`）：收文者系統已收到並驗證封包。`available` → `delivered`；交換中心在接受回執的時刻記下 `delivered_at`，即法定的送達時間。\n"
    "- **收文確認**（`收文確認`）：收文者簽收，可附收文字號（`receipt_number`）。`delivered` → `confirmed`（最終）。\n"
    "- **退文**（`退文`）：收文者退回，必須有原因代碼（`ReturnReason`）與說明文字。`delivered` → `returned`（最終）。\n\n"
    "必須先送達才能收文確認或退文；其他的狀態變更（例如 `available` → `confirmed`、最終狀態再改）為 `E_COPY_STATE`。\n\n"
    "**重複送出**：副本已在回執所指的狀態時（例如回應遺失後重送同一份送達回執），回應 200 與目前的副本、不做任何變更，也不改送達時間；可放心重試。\n\n"
    "回執所記的收文者不是連線參與者、封包 id 與路徑不同、`package_sha256` 不是封包表頭的 `body_sha256`、或發文者不符時為 `E_RECEIPT_MISMATCH`；"
    "無法解讀、簽章無效、憑證不受信任或未登記給收文者、超過 64 KiB 時為 `E_RECEIPT_INVALID`。",
    ["E_RECEIPT_INVALID", "E_RECEIPT_MISMATCH", "E_NOT_FOUND", "E_COPY_STATE"],
    {"200": json_resp("回執已套用（或已是該狀態）：本機關第一個單位的副本目前狀態。", ref("CopyView"))},
    parameters=[{"name": "id", "in": "path", "required": True, "description": "封包 id。連線參與者不是其收文者時為 `E_NOT_FOUND`。", "schema": {"type": "string"}}],
    requestBody={"required": True,
                 "description": "簽章的回執：CMS SignedData（DER），內容為 `ReceiptContent` JSON，最多 65536 位元組。",
                 "content": {"application/pkcs7-mime": {"schema": {"type": "string", "format": "binary", "maxLength": 65536}}}},
)}

paths["/api/v1/groups"] = {"get": op(
    "listGroups", "行文群組", "列出可用的行文群組",
    "列出連線參與者自己的群組（`owner` 為自己的機關代碼），接著是交換中心的共用群組（`owner` 為「共用」）。"
    "送件時表頭列出的群組，先找自己的同名群組，再找共用群組；群組的每個成員都必須已在封包收文者中（否則 `E_SUBMIT_GROUP`），"
    "所以請在封裝前取得群組。",
    [],
    {"200": json_resp("群組清單。", {"type": "array", "items": ref("Group")})},
)}

paths["/api/v1/groups/{name}"] = {
    "parameters": [{"name": "name", "in": "path", "required": True,
                    "description": "群組名稱：1 到 50 個字，不含「/」（以 UTF-8 百分比編碼）。",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 50}, "example": "所屬機關"}],
    "put": op(
        "putGroup", "行文群組", "建立或取代本機關的群組",
        "以請求中的成員整批取代連線參與者自己的同名群組（不存在則建立）；重複的成員只留一個。不能修改共用群組。"
        "主體為 JSON（`GroupUpdate`，最多 1 MiB；交換中心不檢查 `Content-Type`）。成員須為 1 到 5000 個機關代碼，每個 1 到 20 個英數字。",
        ["E_BAD_REQUEST"],
        {"200": json_resp("更新後的群組。", ref("Group"))},
        requestBody={"required": True, "content": {"application/json": {"schema": ref("GroupUpdate")}}},
    ),
    "delete": op(
        "deleteGroup", "行文群組", "刪除本機關的群組",
        "刪除連線參與者自己的同名群組。已送出封包記錄的群組展開不受影響。",
        ["E_NOT_FOUND"],
        {"204": {"description": "已刪除。"}},
    ),
}

paths["/api/v1/participants"] = {"get": op(
    "searchParticipants", "通訊錄", "查詢可發文的參與者（地址簿）",
    "依機關代碼或名稱的一部分查詢狀態正常的參與者（臺與台、全形與半形不分），供發文時挑選受文者；依代碼排序，最多 `limit` 筆（1–100，預設 20）。"
    "`center` 不為空時表示該參與者登記在其他交換中心（由本中心轉送）。",
    [],
    {"200": json_resp("符合的參與者。", {"type": "array", "items": ref("Listing")})},
    parameters=[{"name": "q", "in": "query", "required": False, "description": "代碼或名稱的一部分。", "schema": {"type": "string"}, "example": "台南"},
                {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}],
)}

paths["/api/v1/participants/{code}/certificates"] = {"get": op(
    "getParticipantCertificates", "通訊錄", "取得參與者的加密憑證",
    "取得收文者登記的加密憑證（PEM），供發文者封裝時為每一個收文者加密。收文者登記在其他交換中心時也查得到。"
    "沒有登記加密憑證時 `encryption` 為空字串。",
    ["E_NOT_FOUND"],
    {"200": json_resp("參與者與其加密憑證。", ref("ParticipantCerts"))},
    parameters=[{"name": "code", "in": "path", "required": True, "description": "機關代碼。", "schema": {"type": "string"}, "example": "A01000000A"}],
)}

paths["/api/v1/records"] = {"get": op(
    "queryRecords", "紀錄", "查詢紀錄（JSON 或 CSV）",
    "查詢交換紀錄：每一份副本生命中的事件（`accepted`、`available`、`relayed`、`delivered`、`confirmed`、`returned`、`failed`）、"
    "參與者狀態變更（`participant_active`、`participant_suspended`…），以及交換中心回應過的每一個錯誤（`error`，`detail` 為「代碼 方法 路由 說明」）。"
    "紀錄至少保存 365 天。每個條件都縮小範圍，依紀錄編號遞增排序。\n\n"
    "一般參與者只看得到自己的紀錄（自己造成的、自己是收文者的、或自己送出的封包的），省略 `participant` 即為自己，指定其他參與者時回應 `E_AUTH_NOT_OPERATOR`；交換中心管理者看得到全部。\n\n"
    "`format=csv` 回應 CSV 檔（`text/csv; charset=utf-8`，`Content-Disposition: attachment; filename=\"records.csv\"`）："
    "UTF-8 含 BOM、CRLF 換行，欄位為 編號、時間（Unix 毫秒）、民國日期時間（Asia/Taipei 的民國日期，例如「中華民國115年1月1日」）、行為者、事件、封包、收文者、文號、說明；"
    "以 `=`、`+`、`-`、`@` 開頭的欄位前加 `'`，避免被試算表當成公式。CSV 沒有 `next`：以最後一列的編號作為 `after` 取下一頁。\n\n"
    "查詢參數不認得或型別不符時回應 `E_BAD_REQUEST`。",
    ["E_AUTH_NOT_OPERATOR", "E_BAD_REQUEST"],
    {"200": {"description": "一頁紀錄。",
             "content": {
                 "application/json": {"schema": ref("RecordPage")},
                 "text/csv": {"schema": {"type": "string"},
                              "example": "\ufeff編號,時間,民國日期時間,行為者,事件,封包,收文者,文號,說明\r\n1,1767225600000,中華民國115年1月1日,A01000000A,accepted,3f2a9c0d1e7b4a5f8c6d2e1f0a9b8c7d,B02000000B,北市資字第1150000001號,\r\n"}},
             "headers": {"Content-Disposition": {"description": "只在 `format=csv` 時：`attachment; filename=\"records.csv\"`。", "schema": {"type": "string"}}}}},
    parameters=[
        {"name": "participant", "in": "query", "required": False,
         "description": "機關代碼：它造成的、它是收文者的、或它送出的封包的紀錄。一般參與者只能指定自己（或省略）。", "schema": {"type": "string"}},
        {"name": "from", "in": "query", "required": False, "description": "起（含），Unix 毫秒。", "schema": {"type": "integer", "format": "int64"}},
        {"name": "to", "in": "query", "required": False, "description": "迄（不含），Unix 毫秒。", "schema": {"type": "integer", "format": "int64"}},
        {"name": "doc_number", "in": "query", "required": False, "description": "發文字號，完全相符。", "schema": {"type": "string"}},
        {"name": "kind", "in": "query", "required": False, "description": "事件種類，例如 `accepted`、`delivered`、`error`。", "schema": {"type": "string"}},
        {"name": "package_id", "in": "query", "required": False, "description": "封包 id。", "schema": {"type": "string"}},
        {"name": "after", "in": "query", "required": False, "description": "只列編號大於此值的紀錄（分頁：前一頁的 `next`）。", "schema": {"type": "integer", "format": "int64"}},
        {"name": "limit", "in": "query", "required": False, "description": "每頁筆數，1 到 10000（超出範圍時取最近的界限）。",
         "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 10000, "default": 500}},
        {"name": "format", "in": "query", "required": False, "description": "`csv`：回應 CSV 檔；其他或省略：JSON。",
         "schema": {"type": "string", "enum": ["json", "csv"]}},
    ],
)}

paths["/api/v1/security-events"] = {"post": op(
    "reportSecurityEvent", "紀錄", "通報資安事件",
    "參與者通報資安事件（資訊安全管理規範第五點：偵測到惡意程式時通知來源機關並通報），例如機關代理程式在收到的公文中驗出惡意程式、"
    "已隔離並退文。交換中心把它記入紀錄（`kind=security_event`，行為者為通報的參與者），並寫入日誌供管理者處理。"
    "目前的事件種類只有 `malware`。帶 `package_id` 時，通報者須是該封包的發文者或收文者（交換中心管理者不在此限），"
    "否則回應 `E_EVENT_NOT_PARTY`（不存在的封包亦同）。",
    ["E_EVENT_NOT_PARTY", "E_BAD_REQUEST"],
    {"204": {"description": "已記錄。"}},
    requestBody={"required": True, "content": {"application/json": {"schema": ref("SecurityEvent")}}},
)}

paths["/api/v1/duties"] = {"get": op(
    "getDuties", "收文", "待辦清單（發文追蹤與收文檢核）",
    "依臺北市政府公文電子交換作業要點第十二、十三點與政府行政機關辦公日曆（內建 115 年，管理者可匯入）：\n\n"
    "- `sending`：本機關送出、尚未收文確認的副本（待收、已送達、被退文、傳送失敗），應於發文後次一工作日 14:00 前查詢並補發紙本；"
    "只列 `days` 日內送出的。\n"
    "- `receiving`：寄給本機關、尚未收文確認或退文的副本，應於次一工作日 10:00 前完成收文處理檢核。\n\n"
    "`due_at` 為時限（Unix 毫秒），`overdue` 表示已逾時；`confirm_now` 表示發文者要求即時確認。",
    ["E_BAD_REQUEST"],
    {"200": json_resp("兩份清單。", ref("Duties"))},
    parameters=[{"name": "days", "in": "query", "required": False, "description": "發文追蹤清單回溯的天數（1 到 366，預設 30）。",
                 "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 366, "default": 30}}],
)}

paths["/api/v1/relay/packages"] = {"post": op(
    "relayPackage", "交換中心之間", "轉送封包（交換中心之間）",
    "另一個交換中心把收文者登記在本中心的封包轉送過來。只接受設定為同儕（`federation.peers`）的交換中心，以其 TLS 用戶端憑證辨識。"
    "主體為原封不動的交換封包（`application/pkcs7-mime`），標頭 `x-gongwen-recipients` 列出本中心的收文者（逗號分隔）。"
    "本中心檢查表頭簽章（憑證鏈、撤銷狀態、簽署金鑰屬於發文機關），為每個收文者建立副本並回應其狀態；"
    "同一封包再送一次只回應現況（冪等）。之後收文者的送達、收文確認、退文由本中心以 `/api/v1/relay/status` 送回來源中心。",
    ["E_AUTH_NO_CERT", "E_AUTH_NOT_PEER", "E_RELAY_REFUSED", "E_SUBMIT_TOO_LARGE", "E_SUBMIT_TRUNCATED", "E_INTERNAL", "E_UNAVAILABLE"],
    {"200": json_resp("本中心持有的副本。", ref("RelayAnswer"))},
    auth=False,
    parameters=[{"name": "x-gongwen-recipients", "in": "header", "required": True, "description": "本中心的收文者機關代碼，逗號分隔。", "schema": {"type": "string"}}],
    requestBody={"required": True, "content": {"application/pkcs7-mime": {"schema": {"type": "string", "format": "binary"}}}},
)}

paths["/api/v1/relay/status"] = {"post": op(
    "relayStatus", "交換中心之間", "回報副本狀態（交換中心之間）",
    "收文者所在的交換中心把副本的新狀態（可用、送達、收文確認、退文、失敗）送回封包的來源中心。只接受收文者登記所在的同儕中心。"
    "送達、收文確認與退文是收文者的行為，必須附上收文者簽署的回執原文（`receipt_hex`，DER 的十六進位）："
    "來源中心以通訊錄登記給收文者的簽章金鑰驗證回執（憑證鏈與撤銷狀態），回執須屬於該封包（封包 id、封包摘要、發文者、收文者），"
    "且所報的狀態、收文字號與退文原因須與回執相同；記錄的事件、收文字號、退文原因與時間一律取自回執，不採用同儕中心所填的時間。"
    "沒有回執者回應 `E_RELAY_NO_RECEIPT`，其他狀態（可用、失敗）則不得附回執。狀態只會往前推進，重複或較舊的狀態不改變任何事。",
    ["E_AUTH_NO_CERT", "E_AUTH_NOT_PEER", "E_RELAY_REFUSED", "E_RELAY_NO_RECEIPT", "E_RECEIPT_INVALID", "E_RECEIPT_MISMATCH", "E_BAD_REQUEST", "E_INTERNAL", "E_UNAVAILABLE"],
    {"204": {"description": "已套用（或已是該狀態）。"}},
    auth=False,
    requestBody={"required": True, "content": {"application/json": {"schema": ref("StatusUpdate")}}},
)}

paths["/api/v1/openapi.json"] = {"get": op(
    "getOpenApi", "系統", "本 API 的 OpenAPI 文件",
    "回應本文件（`application/json`）。不需用戶端憑證。",
    [],
    {"200": {"description": "OpenAPI 文件。", "content": {"application/json": {"schema": {"type": "object"}}}}},
    auth=False,
)}

paths["/healthz"] = {"get": op(
    "healthz", "系統", "健康檢查",
    "檢查交換中心能否讀取資料庫。不需用戶端憑證（請以網路設定限制存取）。兩種結果的主體都是 `Health`，不是錯誤格式。",
    [],
    {"200": json_resp("正常：`status` 為 `ok`。", ref("Health")),
     "503": json_resp("資料庫無法使用：`status` 為 `database unavailable`。", ref("Health"))},
    auth=False,
)}

paths["/metrics"] = {"get": op(
    "metrics", "系統", "Prometheus 指標",
    "Prometheus 文字格式（`text/plain; version=0.0.4`）。只回應 `metrics_allow` 所列的位址（預設只有本機 127.0.0.1、::1），"
    "或以交換中心管理者（operator）的用戶端憑證連線者；其他一律 `E_AUTH_NOT_OPERATOR`。指標：\n\n"
    "- `gongwen_http_request_seconds`（histogram，`kind`＝「方法 路由」）：回應時間\n"
    "- `gongwen_http_responses_total`（counter，`kind`＝「狀態 方法 路由」）\n"
    "- `gongwen_packages_total`、`gongwen_package_bytes_total`（counter，`kind=\"accepted\"`）：收件數與位元組數\n"
    "- `gongwen_downloads_total`（counter，`kind` 為 `whole` 或 `range`）\n"
    "- `gongwen_copies_total`（counter，`kind` 為回執造成的狀態）\n"
    "- `gongwen_copies_available`（gauge）：等待收文者的副本數；資料庫無法讀取時為 -1\n"
    "- `gongwen_body_corrupt_total`（counter）：存放的封包內容與摘要不符而拒絕傳送的次數\n"
    "- `gongwen_refused_unauthenticated_total`（counter，`kind` 為錯誤代碼）：拒絕身分不明的呼叫者（沒有或未登記的憑證、不存在的路徑、非同儕的轉送）的次數；這些拒絕不寫入紀錄",
    ["E_AUTH_NOT_OPERATOR"],
    {"200": {"description": "指標。", "content": {"text/plain": {"schema": {"type": "string"},
             "example": "# HELP gongwen_packages_total Packages accepted\n# TYPE gongwen_packages_total counter\ngongwen_packages_total{kind=\"accepted\"} 12\n# HELP gongwen_copies_available Copies waiting for their recipient\n# TYPE gongwen_copies_available gauge\ngongwen_copies_available 3\n"}}}},
    auth=False,
)}

# ---- schemas ----
S = {}
S["CopyStatus"] = {
    "type": "string",
    "enum": ["accepted", "relayed", "available", "delivered", "confirmed", "returned", "failed"],
    "description": (
        "一份副本（一份封包寄給一個收文者）的狀態。\n\n"
        "| 值 | 名稱 | 意義 |\n|---|---|---|\n"
        "| `accepted` | 已收件 | 發文者的交換中心已持久保存封包 |\n"
        "| `relayed` | 已轉送 | 已交給收文者所屬的交換中心 |\n"
        "| `available` | 待收文 | 收文者可以列出並下載 |\n"
        "| `delivered` | 已送達 | 收文者送出簽章的送達回執；`delivered_at` 為法定送達時間 |\n"
        "| `confirmed` | 已收文確認 | 收文者簽收（最終） |\n"
        "| `returned` | 已退文 | 收文者以原因代碼退回（最終） |\n"
        "| `failed` | 傳送失敗 | 無法送到收文者，見 `FailReason`（最終） |\n\n"
        "```text\n"
        "accepted ──▶ relayed ──▶ available ──▶ delivered (送達) ──▶ confirmed (收文確認)\n"
        "   │            │            │              └────────────▶ returned (退文, coded reason)\n"
        "   └────────────┴────────────┴──▶ failed (coded reason)\n"
        "```\n\n"
        "`confirmed`、`returned`、`failed` 之後不再改變；狀態不會倒退。查詢參數也接受中文名稱。"),
    "x-labels": {"accepted": "已收件", "relayed": "已轉送", "available": "待收文", "delivered": "已送達",
                 "confirmed": "已收文確認", "returned": "已退文", "failed": "傳送失敗"},
}
S["FailReason"] = {
    "type": "string",
    "enum": ["unknown_recipient", "recipient_suspended", "relay_gave_up", "refused_by_center"],
    "description": "副本傳送失敗的原因：`unknown_recipient` 收文者不在通訊錄中；`recipient_suspended` 收文者已停用；"
                   "`relay_gave_up` 轉送至收文者的交換中心逾時未成功；`refused_by_center` 收文者的交換中心拒收。",
    "x-labels": {"unknown_recipient": "收文者不在通訊錄中", "recipient_suspended": "收文者已停用",
                 "relay_gave_up": "轉送至收文者的交換中心逾時未成功", "refused_by_center": "收文者的交換中心拒收"},
}
S["ReturnReason"] = {
    "type": "string",
    "enum": ["非本機關權責", "誤送", "附件不全", "無法開啟或亂碼", "含惡意程式", "格式錯誤", "重複發送", "其他"],
    "description": "退文原因：收文者從這份封閉清單中選一個，並另附說明文字（`return_text`）。",
}
S["ResendKind"] = {
    "type": "string",
    "enum": ["本文修正", "附件修正", "本文附件修正", "錯發", "重送"],
    "description": "重發類別。電子公文不得增、減發送：更正是一份新的封包，註明所更正的原封包與類別。",
}
S["Resend"] = {
    "type": "object", "required": ["kind", "original"],
    "description": "重發：這份封包更正哪一份原封包、如何更正。原封包必須是同一發文機關送出的（否則 `E_SUBMIT_RESEND`）。",
    "properties": {"kind": ref("ResendKind"), "original": {"type": "string", "description": "所更正的原封包 id。"}},
}
S["CopyView"] = {
    "type": "object",
    "required": ["recipient", "copy", "status", "status_at"],
    "description": "一份副本，如發文者或紀錄所見。",
    "properties": {
        "recipient": {"type": "string", "description": "收文者機關代碼。"},
        "unit": {"type": "string", "description": "單位代碼（寄給機關內單位時）。"},
        "copy": {"type": "string", "description": "收發處理本別：正本、副本…", "example": "正本"},
        "status": ref("CopyStatus"),
        "status_at": ms("進入目前狀態的時間（Unix 毫秒）。"),
        "delivered_at": ms("送達時間（Unix 毫秒）：交換中心接受送達回執的時刻，即法定送達時間。"),
        "fail_reason": ref("FailReason"),
        "return_reason": ref("ReturnReason"),
        "return_text": {"type": "string", "description": "退文說明文字。"},
        "receipt_number": {"type": "string", "description": "收文者收文確認時給的收文字號。"},
    },
}
S["Aggregate"] = {
    "type": "object", "required": ["total", "pending", "delivered", "confirmed", "returned", "failed"],
    "description": "各狀態的副本數：發文者的彙總。`pending` 為已收件、已轉送、待收文的合計。",
    "properties": {k: {"type": "integer", "format": "int32", "minimum": 0} for k in ["total", "pending", "delivered", "confirmed", "returned", "failed"]},
}
S["GroupExpansion"] = {
    "type": "object", "required": ["group", "owner", "members"],
    "description": "送件時表頭所列行文群組的展開結果（送件當時的成員）。",
    "properties": {
        "group": {"type": "string", "description": "群組名稱。"},
        "owner": {"type": "string", "description": "`共用` 為交換中心的共用群組，否則為擁有者機關代碼。"},
        "members": {"type": "array", "items": {"type": "string"}, "description": "成員機關代碼。"},
    },
}
S["SentPackage"] = {
    "type": "object",
    "required": ["id", "doc_number", "subject", "urgency", "submitted_at", "body_size", "confirm_now", "copies", "aggregate", "replayed"],
    "description": "一份封包，如發文者所見。",
    "properties": {
        "id": {"type": "string", "description": "封包 id（表頭 `id`）。"},
        "doc_number": {"type": "string", "description": "發文字號。"},
        "subject": {"type": "string", "description": "主旨。"},
        "urgency": {"type": "string", "description": "速別：最速件、速件、普通件。"},
        "submitted_at": ms("收件時間（Unix 毫秒）。"),
        "body_size": {"type": "integer", "format": "int64", "minimum": 0, "description": "封包大小（位元組）。"},
        "confirm_now": {"type": "boolean", "description": "涉及重大權益：發文者要求收文者即時確認。"},
        "resend": ref("Resend"),
        "copies": {"type": "array", "items": ref("CopyView"), "description": "各副本，依收文者、單位排序。"},
        "aggregate": ref("Aggregate"),
        "groups": {"type": "array", "items": ref("GroupExpansion"), "description": "行文群組的展開（沒有時省略）。"},
        "replayed": {"type": "boolean", "default": False, "description": "送件回應才有意義：`true` 表示以先前用過的 Idempotency-Key 重送、沒有再送一次。"},
    },
}
S["SentPage"] = {
    "type": "object", "required": ["items"],
    "properties": {"items": {"type": "array", "items": ref("SentPackage")},
                   "next": {"type": "string", "description": "還有下一頁時出現：作為 `after` 傳入。"}},
}
S["InboxItem"] = {
    "type": "object",
    "required": ["id", "sender", "doc_number", "subject", "urgency", "copy", "status", "available_at", "body_size", "body_sha256", "confirm_now"],
    "description": "一份等待收文者（或收文者已持有）的副本。",
    "properties": {
        "id": {"type": "string", "description": "封包 id。"},
        "sender": {"type": "string", "description": "發文機關代碼。"},
        "doc_number": {"type": "string", "description": "發文字號。"},
        "subject": {"type": "string", "description": "主旨。"},
        "urgency": {"type": "string", "description": "速別：最速件、速件、普通件。"},
        "unit": {"type": "string", "description": "單位代碼（寄給機關內單位時）。"},
        "copy": {"type": "string", "description": "收發處理本別：正本、副本…"},
        "status": ref("CopyStatus"),
        "available_at": ms("可收取的時間（Unix 毫秒）。"),
        "body_size": {"type": "integer", "format": "int64", "minimum": 0, "description": "封包大小（位元組）。"},
        "body_sha256": {"type": "string", "description": "整份封包檔案的 SHA-256（十六進位）；下載回應的 ETag。", "pattern": "^[0-9a-f]{64}$"},
        "confirm_now": {"type": "boolean", "description": "涉及重大權益：發文者要求即時確認。"},
        "resend": ref("Resend"),
    },
}
S["InboxPage"] = {
    "type": "object", "required": ["items"],
    "properties": {"items": {"type": "array", "items": ref("InboxItem")},
                   "next": {"type": "string", "description": "還有下一頁時出現：作為 `after` 傳入。"}},
}
S["DutyItem"] = {
    "type": "object",
    "required": ["id", "doc_number", "subject", "counterpart", "status", "since", "due_at", "overdue", "confirm_now"],
    "description": "待辦清單的一列：還需要有人處理的一份副本。",
    "properties": {
        "id": {"type": "string", "description": "封包 id。"},
        "doc_number": {"type": "string", "description": "發文字號。"},
        "subject": {"type": "string", "description": "主旨。"},
        "counterpart": {"type": "string", "description": "發文追蹤清單為收文機關代碼；收文檢核清單為發文機關代碼。"},
        "status": ref("CopyStatus"),
        "since": ms("送出（發文追蹤）或可收取（收文檢核）的時間（Unix 毫秒）。"),
        "due_at": ms("時限：次一工作日 14:00（發文）或 10:00（收文），Asia/Taipei（Unix 毫秒）。"),
        "overdue": {"type": "boolean", "description": "已超過時限。"},
        "confirm_now": {"type": "boolean", "description": "發文者要求即時確認。"},
    },
}
S["Duties"] = {
    "type": "object", "required": ["as_of", "sending", "receiving"],
    "properties": {
        "as_of": ms("產生清單的時間（Unix 毫秒）。"),
        "sending": {"type": "array", "items": ref("DutyItem"), "description": "發文追蹤：尚未收文確認的副本。"},
        "receiving": {"type": "array", "items": ref("DutyItem"), "description": "收文檢核：尚未收文確認或退文的副本。"},
    },
}
S["RelayAnswer"] = {
    "type": "object", "required": ["package_id", "copies"],
    "properties": {"package_id": {"type": "string"}, "copies": {"type": "array", "items": ref("CopyView")}},
}
S["StatusUpdate"] = {
    "type": "object", "required": ["package_id", "copy"],
    "properties": {
        "package_id": {"type": "string"},
        "copy": ref("CopyView"),
        "receipt_hex": {"type": "string", "description": "收文者簽署的回執（CMS DER，十六進位）。送達、收文確認、退文必須附上；其他狀態不附。"},
    },
}
S["Notification"] = {
    "type": "object", "required": ["center", "package_id", "doc_number", "sender", "recipient", "status", "at"],
    "description": "狀態通知（webhook）的主體：一份副本到達新狀態。以 POST 送到參與者登記的通知網址，標頭 "
                   "`x-gongwen-signature: t=<Unix 秒>,sha256=<HMAC-SHA256(金鑰, \"t.\" + 主體) 十六進位>`。失敗時以遞增間隔重試。",
    "properties": {
        "center": {"type": "string", "description": "發出通知的交換中心。"},
        "package_id": {"type": "string"},
        "doc_number": {"type": "string"},
        "sender": {"type": "string"},
        "recipient": {"type": "string"},
        "status": ref("CopyStatus"),
        "at": ms("到達此狀態的時間（Unix 毫秒）。"),
    },
}
S["Record"] = {
    "type": "object", "required": ["id", "at", "actor", "kind"],
    "description": "一筆紀錄：副本生命中的一個事件，或回應給某人的一個錯誤。",
    "properties": {
        "id": {"type": "integer", "format": "int64", "description": "紀錄編號（遞增）。"},
        "at": ms("時間（Unix 毫秒）。"),
        "actor": {"type": "string", "description": "行為者：機關代碼、交換中心，`center` 為本交換中心自己；無法識別的連線為 `ip:位址`。"},
        "kind": {"type": "string", "description": "`accepted`、`available`、`delivered`、`confirmed`、`returned`、`failed`…，或 `error`。"},
        "package_id": {"type": "string"},
        "recipient": {"type": "string"},
        "doc_number": {"type": "string"},
        "detail": {"type": "string", "description": "說明；`error` 紀錄為「代碼 方法 路由 說明」。"},
    },
}
S["RecordPage"] = {
    "type": "object", "required": ["items"],
    "properties": {"items": {"type": "array", "items": ref("Record")},
                   "next": {"type": "string", "description": "還有下一頁時出現：最後一筆的編號，作為 `after` 傳入。"}},
}
S["Listing"] = {"type": "object", "required": ["code", "name"], "properties": {
    "code": {"type": "string", "description": "機關代碼"}, "name": {"type": "string"},
    "center": {"type": "string", "nullable": True, "description": "所屬的其他交換中心；本中心的參與者為 null"}}}

S["ParticipantCerts"] = {
    "type": "object", "required": ["code", "name", "encryption"],
    "description": "交換中心公布的參與者憑證，供發文者加密。",
    "properties": {
        "code": {"type": "string", "description": "機關代碼。"},
        "name": {"type": "string", "description": "機關名稱。"},
        "encryption": {"type": "string", "description": "PEM：一張或多張加密憑證（`-----BEGIN CERTIFICATE-----`…）；沒有時為空字串。"},
        "signing_keys": {"type": "array", "items": {"type": "string"},
                         "description": "登記為此參與者簽章用的公鑰 SHA-256（十六進位）：收文者開啟封包時核對簽署者。"},
    },
}
S["SecurityEvent"] = {
    "type": "object", "required": ["kind", "detail"],
    "description": "參與者通報的資安事件。",
    "properties": {
        "kind": {"type": "string", "enum": ["malware"]},
        "package_id": {"type": "string", "description": "相關的封包 id。"},
        "detail": {"type": "string", "description": "發現了什麼（檔名、病毒碼名稱），1 到 2000 字。"},
    },
}
S["Group"] = {
    "type": "object", "required": ["name", "owner", "members"],
    "description": "行文群組，如參與者所見。",
    "properties": {
        "name": {"type": "string"},
        "owner": {"type": "string", "description": "`共用` 為交換中心的共用群組，否則為擁有者機關代碼。"},
        "members": {"type": "array", "items": {"type": "string"}, "description": "成員機關代碼。"},
    },
}
S["GroupUpdate"] = {
    "type": "object", "required": ["members"],
    "description": "取代本機關的一個群組。",
    "properties": {"members": {"type": "array", "minItems": 1, "maxItems": 5000,
                               "items": {"type": "string", "pattern": "^[A-Za-z0-9]{1,20}$"}, "description": "成員機關代碼。"}},
    "example": {"members": ["A01000000A", "B02000000B"]},
}
S["Health"] = {
    "type": "object", "required": ["status", "version"],
    "properties": {"status": {"type": "string", "enum": ["ok", "database unavailable"]},
                   "version": {"type": "string", "description": "交換中心程式版本。"}},
}
S["HeaderRecipient"] = {
    "type": "object", "required": ["code", "copy"],
    "description": "表頭列出的一個電子收文者。",
    "properties": {"code": {"type": "string", "description": "機關代碼。"},
                   "unit": {"type": "string", "description": "單位代碼（寄給單位時）。"},
                   "copy": {"type": "string", "description": "收發處理本別：正本、副本…"}},
}
S["FileRole"] = {"type": "string", "enum": ["di", "sw", "attachment"], "description": "檔案在封包中的角色：公文 DI、交換表單 SW、附件。"}
S["FileEntry"] = {
    "type": "object", "required": ["name", "role", "size", "sha256"],
    "properties": {"name": {"type": "string"}, "role": ref("FileRole"),
                   "size": {"type": "integer", "format": "int64", "minimum": 0},
                   "sha256": {"type": "string", "description": "十六進位。"}},
}
S["PackageHeader"] = {
    "type": "object",
    "required": ["version", "id", "sender", "created", "recipients", "doc_number", "subject", "urgency", "files"],
    "description": "封包表頭：交換中心路由與檢查所需的資訊，由發文者簽署、以明文放在封包中（不在 API 的 JSON 中傳送，列在此供參考）。"
                   "交換中心依它檢查送件並建立副本。",
    "properties": {
        "version": {"type": "integer", "format": "int32", "minimum": 0},
        "id": {"type": "string", "description": "32 個十六進位數字：封裝時間（Unix 秒，10 位）後接 22 位隨機數字。", "pattern": "^[0-9a-f]{32}$"},
        "sender": {"type": "string", "description": "發文機關代碼；必須是連線的參與者。"},
        "created": {"type": "integer", "format": "int64", "description": "封裝時間，Unix **秒**。"},
        "recipients": {"type": "array", "items": ref("HeaderRecipient")},
        "doc_number": {"type": "string", "description": "發文字號。"},
        "subject": {"type": "string", "description": "主旨。"},
        "urgency": {"type": "string", "description": "速別。"},
        "secrecy": {"type": "string", "description": "密等；機密文書不得電子交換，「普通」或空白以外一律拒收（`E_SUBMIT_CLASSIFIED`）。"},
        "confirm_now": {"type": "boolean", "default": False, "description": "涉及重大權益：要求即時確認。"},
        "resend": ref("Resend"),
        "groups": {"type": "array", "items": {"type": "string"}, "description": "發文者指定的行文群組；交換中心在收件時記錄其展開。"},
        "files": {"type": "array", "items": ref("FileEntry")},
        "body_sha256": {"type": "string", "description": "加密內容（encryptedContent）的 SHA-256，十六進位；回執的 `package_sha256` 必須等於它。"},
    },
}
S["ReceiptEvent"] = {"type": "string", "enum": ["送達", "收文確認", "退文"], "description": "回執事件。"}
S["ReceiptContent"] = {
    "type": "object",
    "required": ["version", "event", "package_id", "package_sha256", "doc_number", "sender", "recipient", "time"],
    "description": "回執被簽署的 JSON 內容（在 CMS SignedData 裡，不直接以 JSON 傳送）。",
    "properties": {
        "version": {"type": "integer", "enum": [1]},
        "event": ref("ReceiptEvent"),
        "package_id": {"type": "string", "description": "封包 id；必須等於路徑的 `{id}`。"},
        "package_sha256": {"type": "string", "description": "封包表頭的 `body_sha256`（不是 `InboxItem.body_sha256`）。"},
        "doc_number": {"type": "string"},
        "sender": {"type": "string", "description": "發文機關代碼。"},
        "recipient": {"type": "string", "description": "簽署回執者的機關代碼；必須是連線的參與者。"},
        "time": {"type": "integer", "format": "int64", "description": "簽署時間，Unix **秒**。"},
        "reason": ref("ReturnReason"),
        "text": {"type": "string", "description": "退文說明（退文時必填）。"},
        "receipt_number": {"type": "string", "description": "收文字號（收文確認時）。"},
    },
}
S["ApiError"] = {
    "type": "object", "required": ["code", "message"],
    "description": "每個錯誤回應的主體。`code` 穩定不變（程式依它判斷，完整清單見 `components.x-error-codes` 與 docs/errors.md）；"
                   "`message` 為給人看的 zh-TW 說明；`detail` 補充細節（可省略）。",
    "properties": {
        "code": {"type": "string", "pattern": "^E_[A-Z_]+$", "example": "E_SUBMIT_NO_KEY"},
        "message": {"type": "string", "example": CMAP["E_SUBMIT_NO_KEY"][1]},
        "detail": {"type": "string"},
    },
}

# ---- reusable error responses ----
STATUS_TEXT = {400: "請求無效", 401: "需要用戶端憑證", 403: "不允許", 404: "找不到", 408: "逾時", 409: "衝突", 410: "已清除",
               413: "封包過大", 415: "檔案類型不允許", 416: "範圍無效", 500: "內部錯誤", 503: "暫時無法服務"}
responses = {}
for status, name in STATUS_RESP.items():
    cs = [c for c, s, _ in CODES if s == status]
    desc = f"{STATUS_TEXT[status]}（`ApiError`）。此狀態的錯誤代碼：" + "、".join(f"`{c}`" for c in cs) + "。"
    r = {"description": desc, "content": {"application/json": {"schema": ref("ApiError"),
         "examples": {c: {"summary": CMAP[c][1], "value": {"code": c, "message": CMAP[c][1]}} for c in cs}}}}
    if status == 416:
        r["headers"] = {"Content-Range": {"description": "`bytes */總長`。", "schema": {"type": "string"}, "example": "bytes */52428800"}}
    responses[name] = r

RESERVED = {
    "E_HTTP_TOO_LARGE": "交換中心不使用（封包大小由 `E_SUBMIT_TOO_LARGE` 把關）；機關代理程式與網頁版的小請求上限。",
    "E_HTTP_CROSS_SITE": "交換中心不使用；網頁版拒絕其他網站送來的登入表單。",
}
x_codes = []
for c, s, m in CODES:
    ops = [f"{meth.upper()} {p}" for p, item in paths.items() for meth, o in item.items()
           if meth != "parameters" and c in o.get("x-error-codes", [])]
    e = {"code": c, "status": s, "message": m}
    if ops:
        e["operations"] = ops
    if c in RESERVED:
        e["note"] = RESERVED[c]
    x_codes.append(e)

doc = {
    "openapi": "3.0.3",
    "info": {
        "title": "Gongwen 交換中心 API",
        "version": "0.1.0",
        "description": (
            "Gongwen 交換中心（交換層）的 HTTP API：參與機關的公文系統以它送出交換封包、收取公文、送回回執、管理行文群組、取得收文者的加密憑證與查詢紀錄。"
            "交換中心只依發文者簽署的封包表頭路由，不解密、看不到公文內容。\n\n"
            "## 連線與身分\n\n"
            "只提供 HTTPS，並以**雙向 TLS** 識別呼叫者：`/api/v1/`（`/api/v1/openapi.json` 除外）的每一個請求都必須在 TLS 交握時出示用戶端憑證。"
            "憑證須鏈到交換中心信任的根憑證（並檢查 CRL），且其公鑰（SubjectPublicKeyInfo 的 SHA-256）已在交換中心登記為某一參與者的 TLS 憑證。\n\n"
            "- **呼叫者＝憑證綁定的參與者**（機關代碼）。請求中沒有其他身分欄位，也不使用帳號密碼或權杖；送件的發文機關、收文的收文者、回執的簽署者都必須是這個參與者。\n"
            "- 參與者的狀態必須為「正常」，停用、終止或註銷者一律拒絕（`E_AUTH_SUSPENDED`）。\n"
            "- **來源 IP** 必須在該參與者登記的允許清單中（單一位址；網段須經核准，列為例外），否則為 `E_AUTH_IP`。\n"
            "- 沒有出示憑證為 `E_AUTH_NO_CERT`（401）；憑證未登記給任何參與者為 `E_AUTH_UNKNOWN_CERT`（403）。\n\n"
            "OpenAPI 3.0 沒有 `mutualTLS` 安全機制，所以以延伸欄位 `components.x-securitySchemes.mutualTLS` 說明，"
            "並在每個操作以 `x-security` 標示是否需要（空陣列表示不需要）。`/healthz` 與 `/api/v1/openapi.json` 不需用戶端憑證；`/metrics` 只給 `metrics_allow` 所列的位址（預設本機）或管理者的憑證。\n\n"
            "## 時間\n\n"
            "所有時間欄位與查詢參數都是 **Unix 毫秒**（交換中心的時鐘）；畫面上以民國日期、Asia/Taipei 時區顯示。"
            "例外：封包表頭的 `created` 與回執的 `time` 為 Unix 秒（它們在簽署的內容裡，不在 API 的 JSON 中）。\n\n"
            "## 錯誤\n\n"
            "非成功的回應主體一律為 JSON `{ \"code\": \"E_…\", \"message\": \"…\", \"detail\": \"…\" }`（`ApiError`）："
            "`code` 是穩定的錯誤代碼，程式依它判斷；`message` 是 zh-TW 說明；`detail` 補充細節，可能省略。"
            "每個代碼固定對應一個 HTTP 狀態，完整清單見 `components.x-error-codes`（代碼、狀態、訊息、可能回應它的操作）與 docs/errors.md；"
            "各操作的說明列出它可能回應的代碼。交換中心把回應給已知呼叫者（登記的參與者、同儕交換中心）的每一個錯誤記入紀錄（`kind=error`），`E_UNAVAILABLE` 除外；"
            "身分不明者（沒有或未登記的憑證、不存在的路徑）的拒絕只計入指標 `gongwen_refused_unauthenticated_total`，不寫入紀錄。"
            "`E_INTERNAL` 的 `detail` 只有事件編號，細節記在交換中心的日誌。\n\n"
            "請求主體須在標頭之後 `limits.body_timeout_s` 秒（預設 300）內傳完，否則回應 `E_HTTP_TIMEOUT` 並中斷連線；"
            "同時開啟的連線數上限為 `limits.max_connections`（預設 1024）、同一位址 `limits.max_connections_per_ip`（預設 128），超過的連線一接受就關閉。\n\n"
            "查詢參數不認得或型別不符為 `E_BAD_REQUEST`，路徑不存在為 `E_NOT_FOUND`。例外：方法不允許（405）由 HTTP 框架回應，主體不是 JSON；"
            "用戶端程式庫把這類非 JSON 的錯誤回應視為 `E_HTTP`。\n\n"
            "## 分頁\n\n"
            "清單回應有 `items` 與 `next`；`next` 出現時表示可能還有下一頁，把它作為 `after` 查詢參數傳入。"
        ),
    },
    "servers": [{"url": "https://127.0.0.1:8443", "description": "預設的監聽位址（`center.listen`）。"}],
    "tags": [
        {"name": "送文", "description": "送出封包與查詢送出的封包。"},
        {"name": "收文", "description": "列出、下載公文與送出回執。"},
        {"name": "行文群組", "description": "本機關與共用的行文群組。"},
        {"name": "通訊錄", "description": "參與者的加密憑證。"},
        {"name": "紀錄", "description": "交換紀錄與錯誤紀錄，JSON 或 CSV。"},
        {"name": "交換中心之間", "description": "同儕交換中心的轉送與狀態回報（雙向 TLS，以同儕憑證辨識）。"},
        {"name": "系統", "description": "健康檢查、指標與本文件。"},
    ],
    "x-security": [{"mutualTLS": []}],
    "paths": paths,
    "components": {
        "schemas": S,
        "responses": responses,
        "x-securitySchemes": {"mutualTLS": {
            "type": "mutualTLS",
            "description": "雙向 TLS：用戶端憑證須鏈到交換中心信任的根憑證，且公鑰登記給一個狀態正常的參與者；連線來源 IP 須在該參與者的允許清單中。"
                           "呼叫者即該參與者。（OpenAPI 3.1 的 `mutualTLS` 機制；3.0 以延伸欄位表示。）",
        }},
        "x-error-codes": x_codes,
    },
}

out = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
open(os.path.join(ROOT, 'docs/api/center.openapi.json'), 'w', encoding='utf-8').write(out)
for c, _, _ in CODES:
    assert c in out, c
print("ok", len(out))
