//! Our own accept loop: rustls with optional client certificates, then hyper HTTP/1.1 into an
//! axum router, with the peer's certificate chain and IP address put on every request.
//!
//! The verifier accepts a connection without a certificate (browser pages, `/healthz`); each
//! API route decides whether it needs one. A certificate that is offered must chain to the
//! configured roots, be within its validity and not be on a CRL, or the handshake fails.
//! The CRL files are watched: a changed, added or removed file (its modification time, at most
//! one look every [`CRL_CHECK_EVERY`]) takes effect for the next handshake, without a restart.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::body::{Gate, Limits, Timed};

/// Who is on the other end of a request.
#[derive(Clone, Debug)]
pub struct Peer {
    pub ip: IpAddr,
    /// The client certificate chain as presented, leaf first; empty without one. rustls has
    /// verified it against the roots.
    pub chain: Arc<Vec<CertificateDer<'static>>>,
    /// SHA-256 of the leaf's SubjectPublicKeyInfo, hex: what a directory binds to a
    /// participant. Worked out once per connection.
    pub key: Option<Arc<str>>,
}

/// SHA-256 of a certificate's SubjectPublicKeyInfo, hex.
pub fn spki_sha256_hex(der: &[u8]) -> Option<String> {
    use der::{Decode, Encode};
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().ok()?;
    Some(gongwen_store::sha256_hex(&spki))
}

impl Peer {
    pub fn leaf(&self) -> Option<&[u8]> {
        self.chain.first().map(|c| c.as_ref())
    }
}

#[derive(Debug)]
pub enum NetError {
    /// A certificate, key or CRL file could not be read or used.
    Tls { detail: String },
    /// The address could not be bound.
    Bind { addr: String, detail: String },
}

impl NetError {
    pub fn code(&self) -> &'static str {
        match self {
            NetError::Tls { .. } => "E_NET_TLS",
            NetError::Bind { .. } => "E_NET_BIND",
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Tls { detail } => write!(f, "TLS 設定錯誤：{detail}"),
            NetError::Bind { addr, detail } => write!(f, "無法在 {addr} 上接受連線：{detail}"),
        }
    }
}

impl std::error::Error for NetError {}

fn tls_err(detail: impl Into<String>) -> NetError {
    NetError::Tls {
        detail: detail.into(),
    }
}

/// A service's `[tls]` section, as operators write it: the agency node's API and the center
/// read the same three keys.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerTls {
    /// Server certificate and chain (PEM).
    pub cert: PathBuf,
    /// Server private key (PEM, PKCS#8).
    pub key: PathBuf,
    /// Roots client certificates must chain to; defaults to the service's `trust_anchors`.
    #[serde(default)]
    pub client_roots: Vec<PathBuf>,
}

impl ServerTls {
    /// The files to serve with: `client_roots`, or `trust_anchors` when none are given; the
    /// service's CRLs (files or folders) and whether a stale or missing one refuses.
    pub fn files(
        &self,
        trust_anchors: &[PathBuf],
        crls: Vec<PathBuf>,
        refuse_stale_crl: bool,
    ) -> TlsFiles {
        TlsFiles {
            cert: self.cert.clone(),
            key: self.key.clone(),
            client_roots: if self.client_roots.is_empty() {
                trust_anchors.to_vec()
            } else {
                self.client_roots.clone()
            },
            crls,
            refuse_stale_crl,
        }
    }
}

/// The files a TLS server needs.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Server certificate, followed by its chain (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM, PKCS#8).
    pub key: PathBuf,
    /// Roots that client certificates must chain to (PEM, one or more).
    pub client_roots: Vec<PathBuf>,
    /// CRLs (PEM or DER; a folder stands for its `.crl` and `.pem` files), checked for client
    /// certificates and re-read when they change.
    pub crls: Vec<PathBuf>,
    /// The service's `stale_crl = "refuse"`: a client certificate whose issuer's CRL is
    /// missing or past its nextUpdate is refused. Otherwise such a certificate is accepted
    /// (revoked ones never are). Without any CRL configured, revocation is not checked.
    pub refuse_stale_crl: bool,
}

fn read(path: &Path) -> Result<Vec<u8>, NetError> {
    std::fs::read(path).map_err(|e| tls_err(format!("{}：{e}", path.display())))
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let data = read(path)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<_, _>>()
        .map_err(|e| tls_err(format!("{}：{e}", path.display())))?;
    if certs.is_empty() {
        return Err(tls_err(format!("{} 沒有 PEM 憑證", path.display())));
    }
    Ok(certs)
}

/// How often, at most, the CRL files are looked at (their modification times) again.
pub const CRL_CHECK_EVERY: Duration = Duration::from_secs(2);

/// CRL files named directly or found in named folders (`.crl`, `.pem`), sorted.
fn crl_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(p) {
                let mut files: Vec<PathBuf> = rd
                    .flatten()
                    .map(|e| e.path())
                    .filter(|f| f.extension().is_some_and(|e| e == "crl" || e == "pem"))
                    .collect();
                files.sort();
                out.extend(files);
            }
        } else {
            out.push(p.clone());
        }
    }
    out
}

/// What the CRL files look like now: name, modification time and length of each.
type Fingerprint = Vec<(PathBuf, Option<std::time::SystemTime>, u64)>;

fn fingerprint(paths: &[PathBuf]) -> Fingerprint {
    crl_files(paths)
        .into_iter()
        .map(|f| {
            let m = std::fs::metadata(&f).ok();
            let modified = m.as_ref().and_then(|m| m.modified().ok());
            let len = m.map(|m| m.len()).unwrap_or(0);
            (f, modified, len)
        })
        .collect()
}

fn read_crls(paths: &[PathBuf]) -> Result<Vec<CertificateRevocationListDer<'static>>, NetError> {
    let mut crls = Vec::new();
    for p in crl_files(paths) {
        let data = read(&p)?;
        if data.trim_ascii_start().starts_with(b"-----") {
            for c in CertificateRevocationListDer::pem_slice_iter(&data) {
                crls.push(c.map_err(|e| tls_err(format!("{}：{e}", p.display())))?);
            }
        } else {
            crls.push(CertificateRevocationListDer::from(data));
        }
    }
    Ok(crls)
}

/// The client-certificate verifier: rustls' WebPKI verifier over the roots and the CRLs as
/// they are on disk now, rebuilt when the CRL files change.
#[derive(Debug)]
pub struct CrlWatchingVerifier {
    roots: Arc<rustls::RootCertStore>,
    crls: Vec<PathBuf>,
    refuse_stale: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
    hints: Vec<rustls::DistinguishedName>,
    current: std::sync::RwLock<Arc<dyn ClientCertVerifier>>,
    watch: std::sync::Mutex<Watch>,
}

#[derive(Debug)]
struct Watch {
    checked: std::time::Instant,
    seen: Fingerprint,
}

impl CrlWatchingVerifier {
    /// Reads the CRLs now; an unreadable one is an error at start.
    pub fn new(
        roots: Arc<rustls::RootCertStore>,
        crls: Vec<PathBuf>,
        refuse_stale: bool,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Self, NetError> {
        let seen = fingerprint(&crls);
        let first = Self::build(&roots, &crls, refuse_stale, &provider)?;
        Ok(CrlWatchingVerifier {
            hints: first.root_hint_subjects().to_vec(),
            current: std::sync::RwLock::new(first),
            watch: std::sync::Mutex::new(Watch {
                checked: std::time::Instant::now(),
                seen,
            }),
            roots,
            crls,
            refuse_stale,
            provider,
        })
    }

    fn build(
        roots: &Arc<rustls::RootCertStore>,
        paths: &[PathBuf],
        refuse_stale: bool,
        provider: &Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Arc<dyn ClientCertVerifier>, NetError> {
        let crls = read_crls(paths)?;
        let none = crls.is_empty();
        let mut b = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
            .with_crls(crls)
            .allow_unauthenticated();
        if refuse_stale && !none {
            // A CRL past its nextUpdate counts as no CRL, and no CRL for an issuer refuses.
            b = b.enforce_revocation_expiration();
        } else {
            b = b.allow_unknown_revocation_status();
        }
        b.build().map_err(|e| tls_err(e.to_string()))
    }

    /// The verifier for this handshake: the files are looked at again when the last look is
    /// older than [`CRL_CHECK_EVERY`], and the verifier rebuilt when they changed. A file
    /// that cannot be read or parsed (caught mid-write) keeps the previous CRLs and is tried
    /// again at the next look.
    fn current(&self) -> Arc<dyn ClientCertVerifier> {
        if let Ok(mut w) = self.watch.try_lock()
            && w.checked.elapsed() >= CRL_CHECK_EVERY
        {
            w.checked = std::time::Instant::now();
            let seen = fingerprint(&self.crls);
            if seen != w.seen {
                match Self::build(&self.roots, &self.crls, self.refuse_stale, &self.provider) {
                    Ok(v) => {
                        *self.current.write().unwrap_or_else(|e| e.into_inner()) = v;
                        w.seen = seen;
                        crate::log::info(
                            "廢止清冊（CRL）已變更，已重新載入",
                            serde_json::json!({ "event": "crl_reloaded", "files": w.seen.len() }),
                        );
                    }
                    Err(e) => crate::log::error(
                        "廢止清冊（CRL）無法載入，沿用先前的清冊",
                        serde_json::json!({ "event": "crl_reload_failed", "detail": e.to_string() }),
                    ),
                }
            }
        }
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl ClientCertVerifier for CrlWatchingVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: rustls_pki_types::UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.current()
            .verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Builds the server side of TLS.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, NetError> {
    let chain = certs(&files.cert)?;
    let key = PrivateKeyDer::from_pem_slice(&read(&files.key)?)
        .map_err(|e| tls_err(format!("{}：{e}", files.key.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    for p in &files.client_roots {
        for c in certs(p)? {
            roots
                .add(c)
                .map_err(|e| tls_err(format!("{}：{e}", p.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(CrlWatchingVerifier::new(
        Arc::new(roots),
        files.crls.clone(),
        files.refuse_stale_crl,
        provider.clone(),
    )?);
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| tls_err(e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// A running listener; dropping the handle does not stop it, `shutdown` does.
pub struct Server {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds `addr` and serves `app` over TLS until [`Server::shutdown`].
    pub async fn start(
        addr: &str,
        tls: Arc<ServerConfig>,
        app: Router,
    ) -> Result<Server, NetError> {
        Self::start_with(addr, Some(tls), app).await
    }

    /// Binds `addr` and serves `app`: over TLS when `tls` is given, otherwise plain HTTP
    /// (for a listener on the loopback address only; the caller decides).
    pub async fn start_with(
        addr: &str,
        tls: Option<Arc<ServerConfig>>,
        app: Router,
    ) -> Result<Server, NetError> {
        Self::start_limited(addr, tls, app, Limits::default()).await
    }

    /// [`Server::start_with`], with the service's bounds on connections and request bodies.
    pub async fn start_limited(
        addr: &str,
        tls: Option<Arc<ServerConfig>>,
        app: Router,
        limits: Limits,
    ) -> Result<Server, NetError> {
        let bind = |e: std::io::Error| NetError::Bind {
            addr: addr.to_string(),
            detail: e.to_string(),
        };
        let listener = TcpListener::bind(addr).await.map_err(bind)?;
        let local = listener.local_addr().map_err(bind)?;
        let (stop, mut stopped) = watch::channel(false);
        let acceptor = tls.map(TlsAcceptor::from);
        let gate = Arc::new(Gate::default());
        let task = tokio::spawn(async move {
            loop {
                let (tcp, remote) = tokio::select! {
                    r = listener.accept() => match r {
                        Ok(x) => x,
                        Err(_) => {
                            // Out of file descriptors and the like: wait, then go on.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                    _ = stopped.changed() => break,
                };
                let ip = canonical(remote.ip());
                // Over the limits: closed at once, before TLS or a request is read.
                let Some(ticket) = gate.admit(ip, &limits) else {
                    drop(tcp);
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let app = app.clone();
                let conn_stop = stopped.clone();
                tokio::spawn(async move {
                    let _ticket = ticket;
                    let Some(acceptor) = acceptor else {
                        let peer = Peer {
                            ip,
                            chain: Arc::new(Vec::new()),
                            key: None,
                        };
                        serve_connection(tcp, peer, app, conn_stop, limits).await;
                        return;
                    };
                    let tls =
                        match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp))
                            .await
                        {
                            Ok(Ok(s)) => s,
                            _ => return,
                        };
                    let chain: Vec<CertificateDer<'static>> = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
                        .unwrap_or_default();
                    let key = chain
                        .first()
                        .and_then(|c| spki_sha256_hex(c.as_ref()))
                        .map(Arc::from);
                    let peer = Peer {
                        ip,
                        chain: Arc::new(chain),
                        key,
                    };
                    serve_connection(tls, peer, app, conn_stop, limits).await;
                });
            }
        });
        Ok(Server {
            addr: local,
            stop,
            task,
        })
    }

    /// Stops accepting, lets requests in flight finish (5 s at most), and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// HTTP/1.1 on one connection, each request carrying `peer`, until it closes or the server
/// stops (requests in flight get 5 s). A request body must arrive within
/// `limits.body_timeout`, or the answer is 408 and the connection closes.
async fn serve_connection<IO>(
    io: IO,
    peer: Peer,
    app: Router,
    mut stop: watch::Receiver<bool>,
    limits: Limits,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(peer.clone());
        let cut = Arc::new(AtomicBool::new(false));
        let req =
            req.map(|b| axum::body::Body::new(Timed::new(b, limits.body_timeout, cut.clone())));
        let app = app.clone();
        async move {
            let resp = app.oneshot(req).await?;
            if cut.load(Ordering::Relaxed) {
                return Ok(crate::body::timed_out());
            }
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(5), conn).await;
        }
    }
}

/// IPv4 clients on a dual-stack socket arrive as ::ffff:a.b.c.d; allow-lists are written as
/// IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}
