//! Request bodies and files, the same for the document-system API and the web client: the
//! size of a small form, multipart uploads written under checked names, and files served as
//! streamed downloads.

use std::path::Path;

use axum::extract::Multipart;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gongwen_net::Refusal;
use gongwen_proto::Code;

use crate::compose;

type Result<T, E = Refusal> = std::result::Result<T, E>;

/// The most a form other than an upload may carry: a sign-in's signature with its chain, a
/// 退文 reason, a group's members.
pub const SMALL_BODY: usize = 64 * 1024;

/// A file name from an upload: a plain name, no folders.
fn file_name(raw: Option<&str>, field: &str) -> Result<String> {
    let name = raw.unwrap_or("").trim();
    if !compose::plain_name(name) {
        return Err(Refusal::new(
            Code::AgentDocument,
            format!(
                "欄位「{field}」的檔名「{name}」不能用：須為 1 到 100 字、不含路徑、不以「.」開頭"
            ),
        ));
    }
    Ok(name.to_string())
}

/// A multipart form read within the size limit: its text fields, and its files written to
/// `uploads` under their own (checked) names.
pub struct FormData {
    pub texts: Vec<(String, String)>,
    /// (field, file name).
    pub files: Vec<(String, String)>,
}

impl FormData {
    pub fn text(&self, name: &str) -> &str {
        self.texts
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

pub async fn read_multipart(
    mut mp: Multipart,
    uploads: &Path,
    limit: usize,
    file_fields: &[&str],
) -> Result<FormData> {
    use tokio::io::AsyncWriteExt;
    let bad = |m: String| Refusal::new(Code::AgentDocument, m);
    let io =
        |e: std::io::Error| Refusal::new(Code::Internal, format!("{}：{e}", uploads.display()));
    crate::folder::private_dir(uploads).map_err(io)?;
    let mut out = FormData {
        texts: Vec::new(),
        files: Vec::new(),
    };
    let mut total = 0usize;
    let too_large = |limit: usize| {
        Refusal::new(
            Code::SubmitTooLarge,
            format!("上傳的檔案合計超過 {} MiB", limit / 1024 / 1024),
        )
    };
    let multipart_err = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(limit)
        } else {
            Refusal::new(Code::BadRequest, format!("multipart 內容有誤：{e}"))
        }
    };
    while let Some(mut field) = mp.next_field().await.map_err(multipart_err)? {
        let kind = field.name().unwrap_or("").to_string();
        if file_fields.contains(&kind.as_str()) {
            // A file input left empty still sends a part without a name.
            if field.file_name().is_none_or(|n| n.is_empty()) {
                let _ = field.bytes().await;
                continue;
            }
            let name = file_name(field.file_name(), &kind)?;
            let path = uploads.join(&name);
            if tokio::fs::try_exists(&path).await.unwrap_or(false) {
                return Err(bad(format!("檔名「{name}」重複上傳")));
            }
            let mut f = tokio::fs::File::from_std(crate::folder::private_file(&path).map_err(io)?);
            while let Some(chunk) = field.chunk().await.map_err(multipart_err)? {
                total += chunk.len();
                if total > limit {
                    return Err(too_large(limit));
                }
                f.write_all(&chunk).await.map_err(io)?;
            }
            f.sync_all().await.map_err(io)?;
            out.files.push((kind, name));
        } else {
            let bytes = field.bytes().await.map_err(multipart_err)?;
            total += bytes.len();
            if bytes.len() > 1024 * 1024 || total > limit {
                return Err(bad(format!("欄位「{kind}」超過 1 MiB")));
            }
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| bad(format!("欄位「{kind}」不是 UTF-8 文字")))?;
            out.texts.push((kind, text));
        }
    }
    Ok(out)
}

/// A file as a download, streamed.
pub async fn file_response(path: &Path, name: &str) -> Result<Response> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Refusal::new(Code::Internal, format!("{}：{e}", path.display())))?;
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let body = axum::body::Body::from_stream(file_chunks(file));
    Ok((
        [
            (header::CONTENT_TYPE, content_type(name).to_string()),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CONTENT_DISPOSITION, disposition("attachment", name)),
        ],
        body,
    )
        .into_response())
}

/// The `Content-Disposition` (`attachment` or `inline`) of a file named `name`.
pub fn disposition(kind: &str, name: &str) -> String {
    format!(
        "{kind}; filename*=UTF-8''{}",
        gongwen_client::encode_segment(name)
    )
}

/// A file read in 64 KiB pieces, so a large attachment is never held in memory.
fn file_chunks(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> {
    use tokio::io::AsyncReadExt;
    futures_util::stream::unfold(file, |mut f| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    })
}

pub fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "tif" | "tiff" => "image/tiff",
        "di" | "sw" | "xml" => "application/xml",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}
