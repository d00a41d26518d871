//! What every service's OpenAPI document shares: its security schemes and its error answers,
//! made from the one list of codes. Each operation names the codes it may answer in
//! `x-error-codes`; [`document`] turns them into responses, a list in words, and the
//! document's table of codes.

use serde_json::json;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi, Ref, ResponseBuilder, example::ExampleBuilder,
};

use crate::{ApiError, Code};

const CODES: &str = "x-error-codes";

/// A service's document as it is served: `doc` with its security `schemes` and its error
/// answers, as pretty JSON ending in a newline. `implied` gives an operation's whole list of
/// codes from those it names (adding, say, the authentication codes every authenticated route
/// may answer).
pub fn document(
    mut doc: OpenApi,
    schemes: impl IntoIterator<Item = (&'static str, SecurityScheme)>,
    implied: impl Fn(&Operation, Vec<Code>) -> Vec<Code>,
) -> String {
    if let Some(c) = doc.components.as_mut() {
        for (name, scheme) in schemes {
            c.add_security_scheme(name, scheme);
        }
    }
    serde_json::to_string_pretty(&error_answers(doc, implied))
        .map(|s| s + "\n")
        .unwrap_or_default()
}

/// A bearer token scheme, described.
pub fn bearer(description: &str) -> SecurityScheme {
    let http = HttpBuilder::new().scheme(HttpAuthScheme::Bearer);
    SecurityScheme::Http(http.description(Some(description)).build())
}

/// A client certificate scheme (mutual TLS), described.
pub fn mutual_tls(description: &str) -> SecurityScheme {
    SecurityScheme::MutualTls {
        description: Some(description.into()),
        extensions: None,
    }
}

fn error_answers(
    mut doc: OpenApi,
    implied: impl Fn(&Operation, Vec<Code>) -> Vec<Code>,
) -> OpenApi {
    let mut answered: Vec<(Code, String)> = Vec::new();
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
        ];
        for (method, op) in ops {
            let Some(op) = op.as_mut() else { continue };
            let named = op
                .extensions
                .as_ref()
                .and_then(|e| e.get(CODES))
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str().and_then(Code::parse))
                        .collect()
                })
                .unwrap_or_default();
            let mut codes: Vec<Code> = Vec::new();
            for c in implied(op, named) {
                if !codes.contains(&c) {
                    codes.push(c);
                }
            }
            if codes.is_empty() {
                continue;
            }
            let mut text = String::from("\n\n**可能的錯誤代碼**：");
            for c in &codes {
                text.push_str(&format!("\n- `{c}`（{}）{}", c.http_status(), c.message()));
                op.responses
                    .responses
                    .entry(c.http_status().to_string())
                    .or_insert_with(|| {
                        Ref::from_response_name(status_names(c.http_status()).0).into()
                    });
                answered.push((*c, format!("{method} {path}")));
            }
            op.description = Some(op.description.take().unwrap_or_default() + &text);
            op.extensions
                .get_or_insert_with(Default::default)
                .insert(CODES.into(), json!(codes));
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    for (code, _) in &answered {
        let status = code.http_status();
        components
            .responses
            .entry(status_names(status).0.into())
            .or_insert_with(|| response(status).into());
    }
    let table: Vec<_> = Code::ALL
        .iter()
        .map(|c| {
            let ops: Vec<&str> = answered
                .iter()
                .filter(|(a, _)| a == c)
                .map(|(_, op)| op.as_str())
                .collect();
            json!({ "code": c, "status": c.http_status(), "message": c.message(), "operations": ops })
        })
        .collect();
    components
        .extensions
        .get_or_insert_with(Default::default)
        .insert(CODES.into(), json!(table));
    doc
}

/// The shared response of one status: every code that travels with it, as examples.
fn response(status: u16) -> utoipa::openapi::Response {
    let codes: Vec<Code> = Code::ALL
        .iter()
        .copied()
        .filter(|c| c.http_status() == status)
        .collect();
    let list: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ApiError")))
        .examples_from_iter(codes.into_iter().map(|c| {
            let example = ExampleBuilder::new()
                .summary(c.message())
                .value(serde_json::to_value(ApiError::new(c, None)).ok());
            (c.as_str(), example)
        }));
    let mut r = ResponseBuilder::new()
        .description(format!(
            "{}（`ApiError`）。此狀態的錯誤代碼：{}。",
            status_names(status).1,
            list.join("、")
        ))
        .content("application/json", content.build());
    if status == 416 {
        r = r.header(
            "Content-Range",
            HeaderBuilder::new()
                .description(Some("`bytes */總長`。"))
                .build(),
        );
    }
    r.build()
}

/// The name of a status's shared response, and the status in words.
fn status_names(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("BadRequest", "請求無效"),
        401 => ("Unauthorized", "未通過身分驗證"),
        403 => ("Forbidden", "不允許"),
        404 => ("NotFound", "找不到"),
        408 => ("RequestTimeout", "逾時"),
        409 => ("Conflict", "衝突"),
        410 => ("Gone", "已清除"),
        413 => ("PayloadTooLarge", "內容過大"),
        415 => ("UnsupportedMediaType", "檔案類型不允許"),
        416 => ("RangeNotSatisfiable", "範圍無效"),
        422 => ("UnprocessableContent", "內容不允許"),
        502 => ("BadGateway", "上游資料無效"),
        503 => ("Unavailable", "暫時無法服務"),
        _ => ("InternalError", "內部錯誤"),
    }
}

/// Raw bytes in a body (a package, a signed receipt, a file): `string`, format `binary`.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}

/// What is wrong with a document, for the services' tests: not OpenAPI 3, or a `$ref` that
/// names nothing in it.
pub fn problems(doc: &serde_json::Value) -> Vec<String> {
    fn walk(v: &serde_json::Value, doc: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                    let target = r.strip_prefix('#').and_then(|p| doc.pointer(p));
                    if target.is_none() {
                        out.push(format!("$ref {r} names nothing"));
                    }
                }
                m.values().for_each(|v| walk(v, doc, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, doc, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if !doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")) {
        out.push(format!("openapi is {}, not 3.x", doc["openapi"]));
    }
    if doc["paths"].as_object().is_none_or(|p| p.is_empty()) {
        out.push("no paths".into());
    }
    walk(doc, doc, &mut out);
    out
}

/// A generated document checked for its services' tests: valid (see [`problems`]) and the same
/// as its committed copy under docs/api/ (`committed`, read by the caller: this crate does no
/// I/O). Returns the document parsed.
pub fn checked(doc: &str, committed: Option<&str>) -> Result<serde_json::Value, String> {
    let v: serde_json::Value = serde_json::from_str(doc).map_err(|e| e.to_string())?;
    let found = problems(&v);
    if !found.is_empty() {
        return Err(found.join("; "));
    }
    if committed != Some(doc) {
        return Err(
            "the committed document under docs/api/ is not the generated one; write it \
             again with `GONGWEN_BLESS=1 cargo test -p <service> openapi`"
                .into(),
        );
    }
    Ok(v)
}
