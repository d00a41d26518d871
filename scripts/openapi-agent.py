#!/usr/bin/env python3
# 產生 docs/api/agent.openapi.json（機關代理程式的公文系統 API）；錯誤代碼直接讀 crates/proto/src/error.rs。
# Generates docs/api/agent.openapi.json. Run after changing the agent's API: python3 scripts/openapi-agent.py
import json, os, re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
src = open(os.path.join(ROOT, 'crates/proto/src/error.rs'), encoding='utf-8').read()
CMAP = {c: (int(s), m) for c, s, m in re.findall(r'=\s*"(E_[A-Z_]+)",\s*(\d+),\s*"([^"]*)";', src[src.index('codes! {'):])}

AUTH = ["E_AGENT_AUTH"]
SERVER = ["E_INTERNAL", "E_UNAVAILABLE"]

def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}

def op(op_id, tag, summary, desc, codes, ok, auth=True, **extra):
    seen = []
    # Every POST is bounded in size (64 KiB but for the upload) and in time (api.body_timeout_s).
    bounded = ["E_HTTP_TOO_LARGE", "E_HTTP_TIMEOUT"] if "requestBody" in extra or op_id == "sendDocument" else []
    for c in (AUTH if auth else []) + codes + bounded + (SERVER if auth else []):
        if c not in seen:
            seen.append(c)
    lines = [desc]
    if seen:
        lines += ["", "**可能的錯誤代碼**："] + [f"- `{c}`（{CMAP[c][0]}）{CMAP[c][1]}" for c in seen]
    responses = dict(ok)
    for c in seen:
        s = str(CMAP[c][0])
        responses.setdefault(s, {"description": "錯誤", "content": {"application/json": {"schema": ref("Error")}}})
    o = {"operationId": op_id, "tags": [tag], "summary": summary, "description": "\n".join(lines),
         "responses": dict(sorted(responses.items()))}
    if seen:
        o["x-error-codes"] = seen
    if not auth:
        o["security"] = []
    o.update(extra)
    return o

def js(desc, schema):
    return {"description": desc, "content": {"application/json": {"schema": schema}}}

pid = {"name": "id", "in": "path", "required": True, "description": "封包編號（交換中心給的 package id）", "schema": {"type": "string"}}
CENTER = "（內容與交換中心 API 的同名結構相同，見 docs/api/center.openapi.json）"

paths = {
  "/healthz": {"get": op("health", "系統", "健康檢查", "資料庫可用時回 200。", [], {"200": js("正常", {"type": "object"}), "503": js("資料庫無法使用", {"type": "object"})}, auth=False)},
  "/api/v1/openapi.json": {"get": op("openapi", "系統", "本文件", "機關代理程式 API 的 OpenAPI 文件。", [], {"200": js("OpenAPI 文件", {"type": "object"})}, auth=False)},
  "/api/v1/whoami": {"get": op("whoami", "系統", "呼叫者是誰", "回傳 API 權杖或用戶端憑證所屬的機關、用戶端名稱與其交換中心位址。", [], {"200": js("呼叫者", {"type": "object", "properties": {
      "agency": {"type": "string"}, "name": {"type": "string", "nullable": True}, "client": {"type": "string"}, "kind": {"type": "string", "enum": ["token", "cert"]}, "center": {"type": "string"}}})})},
  "/api/v1/documents": {"post": op("sendDocument", "發文", "發文：草稿（JSON）或 DI＋SW＋附件",
      "以 `multipart/form-data` 上傳，二擇一：\n\n"
      "- **草稿**：欄位 `draft`（JSON，欄位名稱即 DTD 元素名稱，與 `gongwen doc new` 的 TOML 草稿相同：文別、主旨、段落（含巢狀條列）、速別、正本、副本、附件…），"
      "附件以 `attachment` 欄位上傳，草稿「附件.檔案」只能以檔名（不含路徑、不以「.」開頭、1–100 字）指稱同一請求上傳的檔案；"
      "寫路徑或未上傳的檔名回 `E_AGENT_DOCUMENT`，代理程式不讀取或搬動請求以外的任何檔案。草稿沒有「發文字號」時，由代理程式依本機關的發文代字（`agencies.word`）取當年度下一個流水號；"
      "沒有「發文機關」時填入本機關。封裝前被拒的發文若仍是最後一號會退回號碼；已封裝的號碼即已用掉（即使交換中心拒收）。不支援分繕（請逐一受文者各送一份）。\n"
      "- **DI 檔**：欄位 `di`（一份）、`sw` 與 `attachment`（檔名須與 DI 宣告的相同）。DI 宣告的檔案缺少任何一個即拒收；未宣告的檔案不送出，列在回應的 `ignored_files`。\n\n"
      "代理程式以防毒掃描（有設定 clamd 時）、向交換中心取得收文者加密憑證、簽章加密後送出。交換中心已收件回 200（`state` = `submitted`，附交換中心的發文狀態）；"
      "交換中心暫時連不上時回 202（`state` = `sealed`），代理程式每輪重送，結果以 webhook 通知。\n\n"
      "**冪等**：帶 `Idempotency-Key`（1–64 個英數字、`-`、`_`）時，同一個鍵再送只回第一次的結果，不會再送一次；同一個鍵的請求同時到達時，後到的等前一個處理完再回同樣的結果。上傳合計上限為 `api.max_upload_mb`（預設 200 MiB）："
      "先確認呼叫者身分才讀取上傳內容；`Content-Length` 超過上限 1 MiB 以上時不讀內容即回應 `E_HTTP_TOO_LARGE`。\n\n"
      "**立即確認與重發**（選填）：`confirm_now=true` 表示涉及人民或機關重大權益，請受文者立即確認（表頭 `confirm_now`）；"
      "更正或重發本機關送出過的公文時，`resend_kind` 填重發類別（本文修正、附件修正、本文附件修正、錯發、重送），"
      "`resend_of` 填原發文的發文字號或封包 id（須是本機關已送達交換中心的發文，否則 `E_AGENT_DOCUMENT`，未送出）。"
      "兩者須一起填。資料夾模式以 DI 旁的 `<DI 檔名>.options.toml` 指定同樣的選項。",
      ["E_AGENT_DOCUMENT", "E_BAD_REQUEST", "E_RECIPIENT", "E_MALWARE", "E_SUBMIT_TOO_LARGE", "E_SUBMIT_FILE_TYPE", "E_SUBMIT_CLASSIFIED"],
      {"200": js("交換中心已收件", ref("SendResult")), "202": js("已封裝，等待交換中心收件（自動重送）", ref("SendResult"))},
      parameters=[{"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$"}}],
      requestBody={"required": True, "content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
          "draft": {"type": "string", "description": "草稿 JSON（最多 1 MiB）"},
          "confirm_now": {"type": "string", "enum": ["true", "false"], "description": "請受文者立即確認（涉及重大權益）"},
          "resend_kind": {"type": "string", "enum": ["本文修正", "附件修正", "本文附件修正", "錯發", "重送"], "description": "重發類別；與 resend_of 一起填"},
          "resend_of": {"type": "string", "maxLength": 100, "description": "原發文：本機關送出過的發文字號（如 府資字第1150001234號）或封包 id"},
          "di": {"type": "string", "format": "binary"}, "sw": {"type": "string", "format": "binary"},
          "attachment": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}})},
  "/api/v1/documents/{name}": {"get": op("document", "發文", "一次發文的處理狀態",
      "`name` 為發文回應中的 `name`。已送達交換中心時附上交換中心的逐一受文者狀態。", ["E_NOT_FOUND"],
      {"200": js("發文", ref("SendResult"))}, parameters=[{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}])},
  "/api/v1/sent": {"get": op("sentList", "發文", "發文清單（交換中心的逐一受文者狀態）",
      "轉查本機關在交換中心的發文：`open=true` 只列尚有副本未確認、未退文、未失敗者；`since`（毫秒）、`after`（游標）、`limit`。" + CENTER, ["E_BAD_REQUEST"],
      {"200": js("SentPage", {"type": "object"})}, parameters=[
          {"name": n, "in": "query", "required": False, "schema": {"type": t}} for n, t in [("open", "boolean"), ("since", "integer"), ("after", "string"), ("limit", "integer")]])},
  "/api/v1/sent/{id}": {"get": op("sentOne", "發文", "一份發文的逐一受文者狀態",
      "送達、收文確認、退文（含原因與說明）或失敗（含原因），以及是否要求即時確認。" + CENTER, ["E_NOT_FOUND"], {"200": js("SentPackage", {"type": "object"})}, parameters=[pid])},
  "/api/v1/duties": {"get": op("duties", "待辦", "待辦清單",
      "發文：受文者未確認或被退文者，應於次一工作日下午 2 時前查詢並改以紙本補發；收文：前一工作日收到而尚未處理者，應於上午 10 時前處理。依交換中心的辦公日曆計算。" + CENTER,
      [], {"200": js("Duties", {"type": "object"})})},
  "/api/v1/inbox": {"get": op("inbox", "收文", "收文清單（新到的在前）",
      "`state`：`delivered`（待簽收，預設）、`confirmed`、`returned`、`quarantined`（含惡意程式，已隔離並自動退文）或 `all`。"
      "以 `before`（毫秒，取上一頁的 `next_before`）翻頁，`limit` 1–500（預設 100）。", ["E_BAD_REQUEST"],
      {"200": js("收文清單", {"type": "object", "properties": {"items": {"type": "array", "items": ref("Received")}, "next_before": {"type": "integer", "format": "int64", "nullable": True}}})},
      parameters=[{"name": "state", "in": "query", "required": False, "schema": {"type": "string", "enum": ["delivered", "confirmed", "returned", "quarantined", "all"]}},
                  {"name": "before", "in": "query", "required": False, "schema": {"type": "integer", "format": "int64"}},
                  {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 500}}])},
  "/api/v1/inbox/{id}": {"get": op("inboxOne", "收文", "一份收文", "只看得到本機關的收文。", ["E_NOT_FOUND"], {"200": js("收文", ref("Received"))}, parameters=[pid])},
  "/api/v1/inbox/{id}/files/{name}": {"get": op("inboxFile", "收文", "下載收文的一個檔案（DI、SW、附件）",
      "`name` 須為收文 `files` 所列者（以百分比編碼）。以串流傳回，`Content-Disposition` 附原檔名。", ["E_NOT_FOUND"],
      {"200": {"description": "檔案內容", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
      parameters=[pid, {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}])},
  "/api/v1/inbox/{id}/confirm": {"post": op("confirm", "收文", "簽收（收文確認）",
      "以本機關的簽章憑證簽署收文確認回執送交換中心，記錄處理者（用戶端名稱）。只有待簽收的收文可以簽收。", ["E_NOT_FOUND", "E_COPY_STATE"],
      {"200": js("處理後的收文", ref("Received"))}, parameters=[pid])},
  "/api/v1/inbox/{id}/return": {"post": op("return", "收文", "退文（附原因）",
      "原因須為：非本機關權責、誤送、附件不全、無法開啟或亂碼、含惡意程式、格式錯誤、重複發送、其他；「其他」須填說明（最多 500 字）。"
      "已簽收者不能再以電子方式退文（請以紙本辦理）。", ["E_NOT_FOUND", "E_COPY_STATE", "E_BAD_REQUEST"],
      {"200": js("處理後的收文", ref("Received"))}, parameters=[pid],
      requestBody={"required": True, "content": {"application/json": {"schema": {"type": "object", "required": ["reason"], "properties": {
          "reason": {"type": "string", "enum": ["非本機關權責", "誤送", "附件不全", "無法開啟或亂碼", "含惡意程式", "格式錯誤", "重複發送", "其他"]},
          "text": {"type": "string", "maxLength": 500}}}}}})},
}

schemas = {
  "Error": {"type": "object", "required": ["code", "message"], "properties": {
      "code": {"type": "string", "enum": sorted(CMAP)}, "message": {"type": "string", "description": "中文說明"},
      "detail": {"type": "string", "nullable": True, "description": "哪一個欄位、檔案或收文者有問題"}}},
  "SendResult": {"type": "object", "properties": {
      "name": {"type": "string", "description": "本次發文在代理程式的名稱（查詢用）"},
      "package_id": {"type": "string"}, "state": {"type": "string", "enum": ["sealed", "submitted", "refused"]},
      "state_label": {"type": "string"}, "package": {"type": "object", "nullable": True, "description": "交換中心的 SentPackage" + CENTER},
      "detail": {"type": "string", "nullable": True}, "serial": {"type": "integer", "nullable": True, "description": "代理程式配給的流水號"},
      "ignored_files": {"type": "array", "items": {"type": "string"}}}},
  "Received": {"type": "object", "properties": {
      "package_id": {"type": "string"}, "sender": {"type": "string"}, "sender_name": {"type": "string", "description": "發文機關全銜（取自公文）"},
      "doc_number": {"type": "string"}, "subject": {"type": "string"},
      "receipt_number": {"type": "string", "nullable": True, "description": "簽收時配給的收文字號"},
      "urgency": {"type": "string", "description": "最速件、速件、普通件"}, "copy": {"type": "string", "description": "正本或副本"},
      "confirm_now": {"type": "boolean", "description": "發文者要求即時確認"},
      "state": {"type": "string", "enum": ["delivered", "confirmed", "returned", "quarantined"]}, "state_label": {"type": "string"},
      "received_at": {"type": "integer", "format": "int64"}, "files": {"type": "array", "items": {"type": "string"}},
      "handled_at": {"type": "integer", "format": "int64", "nullable": True}, "handled_by": {"type": "string", "nullable": True},
      "return_reason": {"type": "string", "nullable": True}, "return_text": {"type": "string", "nullable": True},
      "detail": {"type": "string", "nullable": True, "description": "到達時即自動退文的原因"}}},
  "WebhookEvent": {"type": "object", "description":
      "代理程式 POST 到 `agencies.webhook.url` 的通知。標頭 `Gongwen-Signature: t=<unix 秒>,sha256=<hex>` 是以 `agencies.webhook.secret` 對 `t.` 加上主體計算的 HMAC-SHA256。"
      "回應 2xx 才算送達；否則 5 秒起倍增（最多 1 小時）重送，依序，3 天後放棄並記錄。",
      "properties": {"id": {"type": "string"}, "event": {"type": "string", "enum": ["received", "sent", "refused", "status", "receive_failed"]},
          "agency": {"type": "string"}, "at": {"type": "integer", "format": "int64"}, "data": {"type": "object"}}},
}

doc = {
  "openapi": "3.0.3",
  "info": {"title": "Gongwen 機關代理程式：公文系統 API", "version": "1",
           "description": "機關的公文管理系統透過本機或機關內網的代理程式發文、收文、簽收與退文。每個 API 權杖（`gongwen agent client add`）或登記的用戶端憑證只屬於一個機關，只看得到該機關的公文。"
                          "錯誤一律回 `{code, message, detail}`；代碼見 docs/errors.md；`E_INTERNAL` 的 `detail` 只有事件編號，細節記在代理程式的日誌。狀態變化以 webhook 通知（見 `WebhookEvent`）。"
                          "\n\n請求內容的上限：上傳公文（`POST /api/v1/documents`）為 `api.max_upload_mb`，其餘 64 KiB，超過為 `E_HTTP_TOO_LARGE`（413）；"
                          "內容須在標頭之後 `api.body_timeout_s` 秒（預設 300）內傳完，否則為 `E_HTTP_TIMEOUT`（408）並中斷連線。"
                          "同時開啟的連線數上限為 `api.max_connections`（預設 1024）、同一位址 `api.max_connections_per_ip`（預設 128）。"},
  "servers": [{"url": "http://127.0.0.1:8450"}],
  "security": [{"apiToken": []}, {"clientCert": []}],
  "tags": [{"name": t} for t in ["發文", "收文", "待辦", "系統"]],
  "paths": paths,
  "components": {"schemas": schemas, "securitySchemes": {
      "apiToken": {"type": "http", "scheme": "bearer", "description": "`gongwen agent client add --agency <代碼> --name <名稱>` 產生的權杖"},
      "clientCert": {"type": "mutualTLS", "description": "設定 `[agent.api.tls]` 時，可改用 `gongwen agent client add --cert` 登記的用戶端憑證"}}},
}
out = os.path.join(ROOT, 'docs/api/agent.openapi.json')
with open(out, 'w', encoding='utf-8') as f:
    json.dump(doc, f, ensure_ascii=False, indent=2)
    f.write('\n')
print(out)
