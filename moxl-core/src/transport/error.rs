//! [`TransportError`]: why a connection could not be made or kept, one variant per thing a program does
//! differently about it.

use std::io;
use std::time::Duration;

/// A boxed error from a dependency (the DNS resolver, the WebSocket or HTTP library), kept as the source
/// without making that library's version part of moxl's API.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a connection could not be opened, secured or kept.
///
/// Each variant keeps the error it comes from as its [`source`](std::error::Error::source), so a log can print
/// the whole chain, and a program can tell the cases apart:
///
/// - [`Dns`](Self::Dns): a name does not resolve (a typo in the domain, no network, no DNS server).
/// - [`Refused`](Self::Refused): the host answered, but nothing listens on that port.
/// - [`Connect`](Self::Connect): no TCP connection for another reason (unreachable network, the system's
///   connect timeout); the [`io::ErrorKind`] of the source says which.
/// - [`Timeout`](Self::Timeout): the whole login took longer than
///   [`ClientBuilder::connect_timeout`](crate::client::ClientBuilder::connect_timeout).
/// - [`CertificateUntrusted`](Self::CertificateUntrusted): the server's certificate is signed by an authority
///   that is not trusted (a private CA, a self-signed certificate).
/// - [`CertificateInvalid`](Self::CertificateInvalid): a certificate that is not valid for the domain, expired…
/// - [`Tls`](Self::Tls): the TLS handshake failed otherwise.
/// - [`Closed`](Self::Closed), [`Read`](Self::Read), [`Write`](Self::Write): an open connection ended.
///
/// ```
/// use std::error::Error as _;
/// use moxl_core::transport::TransportError;
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let e = TransportError::connect("127.0.0.1", 9, refused);
/// assert!(matches!(&e, TransportError::Refused { port: 9, .. }));
/// assert!(e.source().is_some());
/// assert!(e.to_string().starts_with("connection to 127.0.0.1:9 refused"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A host name could not be resolved to addresses (no such domain, no address, no DNS server answering).
    #[error("cannot resolve {host}: {source} (check the domain name and the DNS configuration)")]
    Dns {
        /// The name that did not resolve.
        host: String,
        /// What the resolver said.
        #[source]
        source: BoxError,
    },
    /// DNS says the domain offers no XMPP client service: an SRV record with target `.` (RFC 2782, RFC 6120
    /// §3.2.1). There is no fallback to the domain itself (XEP-0368 §5).
    #[error("{domain} offers no XMPP client service (SRV target \".\" for {services}){}", failures.as_deref().map(|f| format!("; other lookup failed: {f}")).unwrap_or_default())]
    NoService {
        /// The XMPP domain.
        domain: String,
        /// The SRV services that said `.`.
        services: String,
        /// What the lookups of the other service said, if they failed.
        failures: Option<String>,
    },
    /// A name cannot be used as a DNS name or a TLS server name.
    #[error("{name:?} is not a valid domain name: {source}")]
    InvalidName {
        /// The name.
        name: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The host refused the TCP connection: nothing listens on that port (is the server running, is the port
    /// right?).
    #[error("connection to {host}:{port} refused ({source}): is the server running, and is the port right?")]
    Refused {
        /// The host (a name or an address).
        host: String,
        /// The port.
        port: u16,
        /// The system's error (of kind [`io::ErrorKind::ConnectionRefused`]).
        #[source]
        source: io::Error,
    },
    /// No TCP connection for another reason than a refusal: unreachable host or network, the system's connect
    /// timeout ([`io::ErrorKind::TimedOut`]), no address at all.
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        /// The host (a name or an address).
        host: String,
        /// The port.
        port: u16,
        /// The system's error; its kind says what happened.
        #[source]
        source: io::Error,
    },
    /// The connection and login did not complete in time.
    #[error("no session with {domain} within {after:?} (stuck while {stage}): check the network, or allow more time with ClientBuilder::connect_timeout")]
    Timeout {
        /// The XMPP domain.
        domain: String,
        /// The time allowed.
        after: Duration,
        /// What was going on when the time ran out (`resolving`, `connecting`, `securing`, `authenticating`…).
        stage: String,
    },
    /// The server's certificate chain does not lead to a trusted certificate authority (rustls
    /// `UnknownIssuer`): a private CA, or a self-signed certificate. If the server is meant to use that CA, trust
    /// it with [`ClientBuilder::tls`](crate::client::ClientBuilder::tls) and
    /// [`TlsConfig::with_extra_ca_pem`](super::TlsConfig::with_extra_ca_pem).
    #[error("the certificate of {domain} is not signed by a trusted certificate authority ({source}); if the server uses a private CA, trust it with ClientBuilder::tls(TlsConfig::with_extra_ca_pem(..))")]
    CertificateUntrusted {
        /// The name the certificate was checked against.
        domain: String,
        /// rustls' verdict.
        #[source]
        source: rustls::Error,
    },
    /// The server's certificate is not acceptable for another reason: not valid for the domain, expired, not yet
    /// valid, revoked, badly encoded.
    #[error("the certificate of {domain} is invalid: {source}")]
    CertificateInvalid {
        /// The name the certificate was checked against.
        domain: String,
        /// rustls' verdict.
        #[source]
        source: rustls::Error,
    },
    /// The TLS handshake failed for a reason other than the certificate (no common protocol version or cipher,
    /// the connection dropped during the handshake).
    #[error("TLS with {domain}: {source}")]
    Tls {
        /// The name TLS was started for.
        domain: String,
        /// The handshake's error (its inner error is rustls' when rustls failed).
        #[source]
        source: io::Error,
    },
    /// The TLS configuration cannot be built: a PEM file without a certificate, an unusable CA certificate.
    #[error("TLS configuration: {detail}{}", source.as_ref().map(|s| format!(": {s}")).unwrap_or_default())]
    TlsConfig {
        /// What is wrong.
        detail: String,
        /// The error behind it, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// A cleartext connection was asked for but not allowed: use TLS, or allow cleartext for a test server
    /// ([`ClientBuilder::allow_cleartext`](crate::client::ClientBuilder::allow_cleartext)).
    #[error("{url} is cleartext: use TLS (wss://, https://), or allow cleartext for a test server")]
    Cleartext {
        /// The URL or address.
        url: String,
    },
    /// The server closed the connection.
    #[error("the server closed the connection{}", during.map(|d| format!(" during {d}")).unwrap_or_default())]
    Closed {
        /// What was going on (`negotiation`), if known.
        during: Option<&'static str>,
    },
    /// Reading from the connection failed.
    #[error("read: {0}")]
    Read(#[source] io::Error),
    /// Writing to the connection failed.
    #[error("write: {0}")]
    Write(#[source] io::Error),
    /// An I/O error on a connection, outside reading and writing.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The WebSocket layer failed (RFC 7395): a bad URL, a refused handshake, a protocol error.
    #[error("WebSocket {url}: {source}")]
    WebSocket {
        /// The WebSocket URL.
        url: String,
        /// The WebSocket library's error.
        #[source]
        source: BoxError,
    },
    /// An HTTP exchange failed (XEP-0363 file upload): a bad URL, an error status, a failed request.
    #[error("HTTP {url}: {detail}{}", source.as_ref().map(|s| format!(": {s}")).unwrap_or_default())]
    Http {
        /// The URL.
        url: String,
        /// What went wrong (`status 403`, `larger than 10 bytes`…).
        detail: String,
        /// The HTTP library's error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// XEP-0156 discovery found no usable WebSocket endpoint (or no usable host-meta document): each document
    /// tried, with what it lacked (not found, malformed, too large, only cleartext endpoints…). A connection or
    /// certificate failure on the way is reported as itself instead.
    #[error("no usable WebSocket endpoint of {domain} in its host-meta (XEP-0156): {}", failures.iter().map(|(url, e)| format!("{url}: {e}")).collect::<Vec<_>>().join("; "))]
    Discovery {
        /// The XMPP domain.
        domain: String,
        /// Each host-meta document tried (its URL, after redirections) and what it did not give.
        failures: Vec<(String, super::discovery::DiscoveryError)>,
    },
}

impl TransportError {
    /// Classifies a failed TCP connection to `host:port` by its [`io::ErrorKind`]: a refusal is
    /// [`Refused`](Self::Refused), anything else [`Connect`](Self::Connect).
    ///
    /// ```
    /// use moxl_core::transport::TransportError;
    /// let e = TransportError::connect("example.org", 5222, std::io::ErrorKind::TimedOut.into());
    /// assert!(matches!(e, TransportError::Connect { ref source, .. } if source.kind() == std::io::ErrorKind::TimedOut));
    /// ```
    pub fn connect(host: impl Into<String>, port: u16, source: io::Error) -> TransportError {
        let host = host.into();
        match source.kind() {
            io::ErrorKind::ConnectionRefused => TransportError::Refused { host, port, source },
            _ => TransportError::Connect { host, port, source },
        }
    }

    /// Classifies a failed TLS handshake with `domain`: rustls' certificate verdicts become
    /// [`CertificateUntrusted`](Self::CertificateUntrusted) or [`CertificateInvalid`](Self::CertificateInvalid),
    /// anything else [`Tls`](Self::Tls).
    ///
    /// ```
    /// use moxl_core::transport::TransportError;
    /// let unknown = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
    /// let e = TransportError::tls("capulet.lit", std::io::Error::other(unknown));
    /// assert!(matches!(e, TransportError::CertificateUntrusted { .. }));
    /// assert!(e.to_string().contains("TlsConfig::with_extra_ca_pem"));
    /// ```
    pub fn tls(domain: impl Into<String>, source: io::Error) -> TransportError {
        let domain = domain.into();
        let rustls_error = source.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()).cloned();
        match rustls_error {
            Some(e @ rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)) => {
                TransportError::CertificateUntrusted { domain, source: e }
            }
            Some(e @ rustls::Error::InvalidCertificate(_)) => TransportError::CertificateInvalid { domain, source: e },
            _ => TransportError::Tls { domain, source },
        }
    }

    /// A TLS configuration error without an underlying error.
    pub(crate) fn tls_config(detail: impl Into<String>) -> TransportError {
        TransportError::TlsConfig { detail: detail.into(), source: None }
    }

    /// An HTTP error without an underlying error (a status, a size limit).
    ///
    /// ```
    /// use moxl_core::transport::TransportError;
    /// let e = TransportError::http("https://upload.example/f", "status 403");
    /// assert_eq!(e.to_string(), "HTTP https://upload.example/f: status 403");
    /// ```
    pub fn http(url: impl Into<String>, detail: impl Into<String>) -> TransportError {
        TransportError::Http { url: url.into(), detail: detail.into(), source: None }
    }

    /// Whether the certificate of the server was refused (untrusted or invalid): retrying cannot help, the
    /// configuration or the server must change.
    ///
    /// ```
    /// use moxl_core::transport::TransportError;
    /// assert!(!TransportError::Closed { during: None }.is_certificate());
    /// ```
    pub fn is_certificate(&self) -> bool {
        matches!(self, TransportError::CertificateUntrusted { .. } | TransportError::CertificateInvalid { .. })
    }
}
