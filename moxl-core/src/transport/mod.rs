//! Transports: the only code that touches sockets. TCP with STARTTLS (RFC 6120 §5), direct TLS (XEP-0368) and
//! WebSocket (RFC 7395), through rustls with certificate verification against the XMPP domain (or, for
//! WebSocket, the URL's host).
//!
//! One [`TlsConfig`] (an `Arc` around a rustls `ClientConfig` and its root store) is meant to be shared by every
//! connection of a process: the default one is built once.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::Result;

mod channel_binding;
pub mod discovery;
mod error;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod resolve;
mod tcp;
mod websocket;
pub(crate) mod wire;

pub use channel_binding::{server_end_point, ChannelBinding};
pub use error::{BoxError, TransportError};
pub use resolve::{Endpoint, Resolver};
pub use tcp::{connect_addrs, connect_tcp, CONNECTION_ATTEMPT_DELAY};
pub(crate) use websocket::connect as connect_websocket;
pub use websocket::{WebSocketUrl, SUBPROTOCOL};

/// TLS settings shared by connections: which certificate authorities are trusted.
///
/// ```
/// use moxl_core::transport::TlsConfig;
/// let shared = TlsConfig::shared()?; // webpki roots, built once per process
/// let same = TlsConfig::shared()?;
/// assert!(shared.ptr_eq(&same));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    config: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig").finish_non_exhaustive()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn build(roots: rustls::RootCertStore) -> Result<TlsConfig> {
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::TlsConfig { detail: "protocol versions".into(), source: Some(e.into()) })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConfig { config: Arc::new(config) })
}

fn webpki_roots() -> rustls::RootCertStore {
    rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
}

fn parse_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| TransportError::TlsConfig { detail: "invalid PEM certificate".into(), source: Some(e.into()) })?;
    if certs.is_empty() {
        return Err(TransportError::tls_config("no certificate in the PEM data").into());
    }
    Ok(certs)
}

impl TlsConfig {
    /// The public web PKI roots (Mozilla's, from `webpki-roots`): built once per process, then shared by every
    /// connection that uses it.
    pub fn shared() -> Result<TlsConfig> {
        static SHARED: OnceLock<std::result::Result<TlsConfig, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| build(webpki_roots()).map_err(|e| e.to_string()))
            .clone()
            .map_err(|e| TransportError::tls_config(e).into())
    }

    /// The web PKI roots plus the certificate authorities in `pem` (e.g. a company CA).
    pub fn with_extra_ca_pem(pem: &str) -> Result<TlsConfig> {
        let mut roots = webpki_roots();
        for cert in parse_pem(pem)? {
            roots.add(cert).map_err(|e| TransportError::TlsConfig {
                detail: "unusable CA certificate".into(),
                source: Some(e.into()),
            })?;
        }
        build(roots)
    }

    /// Only the certificate authorities in `pem` (a private CA, or the throw-away CA of a test server).
    pub fn only_ca_pem(pem: &str) -> Result<TlsConfig> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in parse_pem(pem)? {
            roots.add(cert).map_err(|e| TransportError::TlsConfig {
                detail: "unusable CA certificate".into(),
                source: Some(e.into()),
            })?;
        }
        build(roots)
    }

    /// Whether two configs are the same shared object.
    pub fn ptr_eq(&self, other: &TlsConfig) -> bool {
        Arc::ptr_eq(&self.config, &other.config)
    }

    /// Wraps an existing rustls configuration (custom verifiers, client certificates…).
    pub fn from_rustls(config: Arc<rustls::ClientConfig>) -> TlsConfig {
        TlsConfig { config }
    }

    /// Upgrades a TCP connection, verifying the certificate against `domain` (also the SNI).
    pub async fn connect(&self, domain: &str, tcp: TcpStream) -> Result<TlsStream<TcpStream>> {
        let name = ServerName::try_from(domain.to_owned())
            .map_err(|e| TransportError::InvalidName { name: domain.to_owned(), source: e.into() })?;
        TlsConnector::from(Arc::clone(&self.config))
            .connect(name, tcp)
            .await
            .map_err(|e| TransportError::tls(domain, e).into())
    }
}

/// A connection, before or after TLS.
pub enum Connection {
    /// Cleartext TCP (only until STARTTLS, unless the user allowed cleartext).
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Connection::Plain(tcp) => f.debug_tuple("Plain").field(&tcp.peer_addr().ok()).finish(),
            Connection::Tls(tls) => {
                f.debug_tuple("Tls").field(&tls.get_ref().0.peer_addr().ok()).field(&self.tls_version()).finish()
            }
        }
    }
}

impl Connection {
    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self, Connection::Tls(_))
    }

    /// The TLS protocol version, once encrypted (`"TLSv1.3"`).
    pub fn tls_version(&self) -> Option<String> {
        match self {
            Connection::Tls(t) => t.get_ref().1.protocol_version().map(|v| format!("{v:?}")),
            Connection::Plain(_) => None,
        }
    }

    /// The channel-binding data of this TLS connection (RFC 5056): `tls-exporter` on TLS 1.3 (RFC 9266),
    /// `tls-server-end-point` otherwise (RFC 5929 §4). `None` in cleartext.
    pub fn channel_binding(&self) -> Option<ChannelBinding> {
        match self {
            Connection::Tls(t) => channel_binding::of(t.get_ref().1),
            Connection::Plain(_) => None,
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_flush(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
