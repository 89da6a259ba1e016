//! The one error type of moxl-core, with categories.

use crate::stanza::StanzaError;
use crate::xml::XmlError;

pub use crate::auth::AuthError;
pub use crate::session::{LeaseError, StoreError};
pub use crate::stream::NegotiationError;
pub use crate::transport::{BoxError, TransportError};

/// Everything that can go wrong in moxl-core.
///
/// Errors are grouped by category; match on the variant to find out whose fault it was (the peer's XML, the
/// server's stream, a stanza-level error reply, a timeout, the local registry or a store). The categories that
/// come from outside ([`TransportError`], [`NegotiationError`], [`AuthError`], [`StoreError`]) are enums of
/// their own, each keeping the error it comes from as its [`source`](std::error::Error::source):
///
/// ```
/// use moxl_core::{error::TransportError, Error};
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let e = Error::from(TransportError::connect("127.0.0.1", 9, refused));
/// assert!(matches!(&e, Error::Transport(TransportError::Refused { .. })));
/// assert!(e.is_transport());
/// let chain: Vec<String> = std::iter::successors(std::error::Error::source(&e), |s| s.source()).map(|s| s.to_string()).collect();
/// assert_eq!(chain.last().map(String::as_str), Some("connection refused"));
/// ```
///
///
/// ```
/// use moxl_core::{Error, stanza::StreamCondition, xml::XmlError};
/// let e = Error::from(XmlError::new(StreamCondition::NotWellFormed, "unexpected end tag"));
/// assert!(matches!(e, Error::Xml(_)));
/// assert_eq!(e.to_string(), "xml: not-well-formed: unexpected end tag");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The XML we received broke the rules of an XMPP stream (RFC 6120 §4.9.3, §11).
    #[error("xml: {0}")]
    Xml(#[from] XmlError),
    /// The peer answered a request with a stanza error (RFC 6120 §8.3).
    #[error("stanza error: {0}")]
    Stanza(Box<StanzaError>),
    /// The server ended the stream with a stream error (RFC 6120 §4.9).
    #[error("stream error: {}{}", condition.map_or("unknown condition", |c| c.as_str()), text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    StreamError {
        /// The defined condition, if the server sent one this library knows.
        condition: Option<crate::stanza::StreamCondition>,
        /// The server's explanation.
        text: Option<String>,
    },
    /// Stream negotiation could not go on: a security requirement was not met (no STARTTLS, no acceptable
    /// mechanism) or the server broke the protocol.
    #[error("negotiation: {0}")]
    Negotiation(#[from] crate::stream::NegotiationError),
    /// SASL authentication failed. [`AuthError::BadCredentials`] is
    /// final: retrying with the same credentials fails the same way.
    #[error("auth: {0}")]
    Auth(#[from] crate::auth::AuthError),
    /// The connection failed: DNS, refused, TLS handshake or certificate verification failed, timed out,
    /// closed. The [`TransportError`] says which.
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// A pending Action got no reply before its deadline.
    #[error("timeout: no reply to {0} in time")]
    Timeout(String),
    /// The session ended, or was replaced by a new one, before the reply to a request came: it will not come
    /// (the Action's request may or may not have reached its addressee).
    #[error("disconnected: {0}")]
    Disconnected(String),
    /// The request was not sent: the client is closed, or its outgoing queue is full (back-pressure; retry after
    /// [`Context::sendable`](crate::xec::Context::sendable)).
    #[error("refused: {0}")]
    Refused(String),
    /// A handler or Action type is registered wrongly (duplicate keys, unknown type names).
    #[error("registry: {0}")]
    Registry(String),
    /// Session or Action state could not be saved or restored: the database failed, or stored data is corrupt
    /// (the [`StoreError`] names the session and the column).
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A session is driven by another process, or this process lost its lease on it (see
    /// [`session`](crate::session)).
    #[error("lease: {0}")]
    Lease(#[from] crate::session::LeaseError),
    /// A JID could not be parsed.
    #[error("jid: {0}")]
    Jid(#[from] jid::Error),
    /// A builder was given something that cannot be written as XML (an invalid name).
    #[error("invalid xml name {0:?}")]
    InvalidName(String),
    /// A handler failed with its own error.
    #[error("handler: {0}")]
    Handler(String),
}

impl Error {
    /// A handler error with a message: `Err(Error::handler("no such contact"))`.
    ///
    /// ```
    /// let e = moxl_core::Error::handler("no such contact");
    /// assert_eq!(e.to_string(), "handler: no such contact");
    /// ```
    pub fn handler(message: impl Into<String>) -> Self {
        Error::Handler(message.into())
    }

    /// Whether the connection failed or ended ([`Error::Transport`]).
    ///
    /// ```
    /// use moxl_core::{error::TransportError, Error};
    /// assert!(Error::from(TransportError::Closed { during: None }).is_transport());
    /// ```
    pub fn is_transport(&self) -> bool {
        matches!(self, Error::Transport(_))
    }

    /// Whether something took too long: a request without a reply ([`Error::Timeout`]) or a login
    /// ([`TransportError::Timeout`]).
    ///
    /// ```
    /// use moxl_core::{error::TransportError, Error};
    /// let login = Error::from(TransportError::Timeout { domain: "capulet.lit".into(), after: std::time::Duration::from_secs(30), stage: "connecting".into() });
    /// assert!(login.is_timeout() && Error::Timeout("a ping".into()).is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout(_) | Error::Transport(TransportError::Timeout { .. }))
    }

    /// Whether the server's certificate was refused (untrusted or invalid): retrying cannot help.
    ///
    /// ```
    /// use moxl_core::{error::TransportError, Error};
    /// let unknown = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
    /// assert!(Error::from(TransportError::tls("capulet.lit", std::io::Error::other(unknown))).is_certificate());
    /// ```
    pub fn is_certificate(&self) -> bool {
        matches!(self, Error::Transport(e) if e.is_certificate())
    }

    /// Whether the session store failed ([`Error::Store`]).
    ///
    /// ```
    /// use moxl_core::{error::StoreError, Error};
    /// assert!(Error::from(StoreError::UnknownAction { type_name: "Fetch".into() }).is_store());
    /// ```
    pub fn is_store(&self) -> bool {
        matches!(self, Error::Store(_))
    }
}

impl From<StanzaError> for Error {
    fn from(e: StanzaError) -> Self {
        Error::Stanza(Box::new(e))
    }
}

/// `Result` with moxl-core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
