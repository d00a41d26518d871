//! CRLs fetched from their publication address and cached on disk. CRLs are signed by their
//! CA, so plain HTTP (what CAs publish them on) is enough; the signature is checked when the
//! CRL is used ([`crate::path::TrustStore`]). A fresh cached copy is used without asking the
//! network; when the network fails, the last copy is used and its age is left to the
//! stale-CRL setting.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use x509_cert::crl::CertificateList;

use crate::TrustError;
use crate::package::sha256_hex;
use crate::path::load_crls;

/// No CA publishes a CRL this large; a bigger answer is refused.
const MAX_CRL: usize = 32 * 1024 * 1024;

/// Where a CRL came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The cached copy was still before its nextUpdate.
    Cache,
    /// Downloaded now (and cached).
    Network,
    /// The download failed; the cached copy is used (zh-TW reason).
    StaleCache(String),
}

fn fetch_err(url: &str, detail: impl std::fmt::Display) -> TrustError {
    TrustError::Io {
        path: url.to_string(),
        detail: format!("無法下載廢止清冊：{detail}"),
    }
}

fn cache_file(cache: &Path, url: &str) -> PathBuf {
    cache.join(format!("{}.crl", &sha256_hex(url.as_bytes())[..32]))
}

fn next_update(crl: &CertificateList) -> Option<i64> {
    crl.tbs_cert_list
        .next_update
        .map(|t| t.to_unix_duration().as_secs() as i64)
}

/// A CRL for `url`, from the cache when still fresh at `now`, else from the network.
pub fn fetch(
    url: &str,
    cache: &Path,
    now: i64,
    timeout: Duration,
) -> Result<(CertificateList, Source), TrustError> {
    let file = cache_file(cache, url);
    let cached = std::fs::read(&file)
        .ok()
        .and_then(|b| load_crls(&b).ok())
        .and_then(|mut v| (!v.is_empty()).then(|| v.remove(0)));
    if let Some(c) = &cached
        && next_update(c).is_some_and(|n| n > now)
    {
        return Ok((c.clone(), Source::Cache));
    }
    match download(url, timeout).and_then(|body| {
        let crl = load_crls(&body)?
            .into_iter()
            .next()
            .ok_or_else(|| fetch_err(url, "回應中沒有 CRL"))?;
        Ok((crl, body))
    }) {
        Ok((crl, body)) => {
            std::fs::create_dir_all(cache).map_err(|e| TrustError::io(cache, e))?;
            crate::pki::write_file(&file, &body, false)?;
            Ok((crl, Source::Network))
        }
        Err(e) => match cached {
            Some(c) => Ok((c, Source::StaleCache(e.to_string()))),
            None => Err(e),
        },
    }
}

/// HTTP/1.1 GET of `http://host[:port]/path`, bounded in time and size.
fn download(url: &str, timeout: Duration) -> Result<Vec<u8>, TrustError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| fetch_err(url, "只支援 http:// 位址（CRL 本身有簽章，不需加密連線）"))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => (
            h,
            p.parse::<u16>()
                .map_err(|_| fetch_err(url, "連接埠不正確"))?,
        ),
        _ => (hostport, 80),
    };
    if host.is_empty() || path.contains([' ', '\r', '\n']) {
        return Err(fetch_err(url, "位址不正確"));
    }
    let io = |e: std::io::Error| fetch_err(url, e);
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(io)?
        .next()
        .ok_or_else(|| fetch_err(url, "找不到主機"))?;
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(io)?;
    s.set_read_timeout(Some(timeout)).map_err(io)?;
    s.set_write_timeout(Some(timeout)).map_err(io)?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nUser-Agent: gongwen\r\nAccept: application/pkix-crl\r\nConnection: close\r\n\r\n"
    )
    .map_err(io)?;
    // Read until the connection closes or Content-Length bytes of body have arrived (a
    // server that resets the connection after a complete answer is still answered).
    let mut resp = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let complete = |resp: &[u8]| -> Option<usize> {
        let split = resp.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&resp[..split]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())?;
        (resp.len() >= split + 4 + len).then_some(split + 4 + len)
    };
    loop {
        if let Some(end) = complete(&resp) {
            resp.truncate(end);
            break;
        }
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => resp.extend_from_slice(&buf[..n]),
            Err(e) => return Err(io(e)),
        }
        if resp.len() > MAX_CRL + 64 * 1024 {
            return Err(fetch_err(url, "CRL 過大"));
        }
    }
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| fetch_err(url, "回應格式不正確"))?;
    let head = String::from_utf8_lossy(&resp[..split]).into_owned();
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1).is_none_or(|c| c != "200") {
        return Err(fetch_err(url, format!("伺服器回應「{status}」")));
    }
    if head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    }) {
        return Err(fetch_err(url, "不支援分段傳輸的回應"));
    }
    let body = resp[split + 4..].to_vec();
    if body.len() > MAX_CRL {
        return Err(fetch_err(url, "CRL 過大"));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;
    use crate::testutil::{fresh_dir, p256_ca};

    const T0: i64 = 1_767_580_200;

    /// Serves `body` to `n` requests on 127.0.0.1, then stops.
    fn serve(body: Vec<u8>, n: usize) -> (String, std::thread::JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/crl/gca.crl", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            for _ in 0..n {
                let (mut s, _) = l.accept().unwrap();
                let mut req = Vec::new();
                let mut b = [0u8; 512];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut b) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&b[..n]),
                    }
                }
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
            }
        });
        (url, h)
    }

    #[test]
    fn fetched_once_then_from_cache_then_stale_cache_when_the_network_fails() {
        let dir = fresh_dir("crlfetch");
        let ca = p256_ca(&dir, 5, T0);
        let body = std::fs::read(ca.crl_file("gca")).unwrap();
        let (url, server) = serve(body, 1);
        let cache = dir.join("cache");
        let t = Duration::from_secs(5);
        let (crl, src) = fetch(&url, &cache, T0, t).unwrap();
        assert_eq!(src, Source::Network);
        server.join().unwrap();
        // The server is gone: a fresh copy comes from the cache.
        let (again, src) = fetch(&url, &cache, T0 + 60, t).unwrap();
        assert_eq!((again, src), (crl.clone(), Source::Cache));
        // Past nextUpdate and the network fails: the old copy, with the reason.
        let (old, src) = fetch(&url, &cache, T0 + 8 * 86_400, t).unwrap();
        assert_eq!(old, crl);
        assert!(
            matches!(src, Source::StaleCache(ref m) if m.contains("無法下載")),
            "{src:?}"
        );
        // No cache and no network; not http; garbage from the server.
        let e = fetch(&url, &dir.join("empty"), T0, t).unwrap_err();
        assert_eq!(e.code(), "E_TRUST_IO");
        assert!(
            fetch("https://example.invalid/x.crl", &cache, T0, t)
                .unwrap_err()
                .to_string()
                .contains("http://")
        );
        let (bad, server) = serve(b"<html>not a crl</html>".to_vec(), 1);
        assert!(fetch(&bad, &dir.join("c2"), T0, t).is_err());
        server.join().unwrap();
    }
}
