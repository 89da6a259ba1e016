//! [`NegotiationError`]: why stream negotiation (RFC 6120 §4.3) could not go on.

use crate::stanza::StanzaError;
use crate::transport::BoxError;

/// Why stream negotiation stopped: a security requirement was not met, the server lacks something the login
/// needs, in-band registration failed, or the server broke the protocol.
///
/// Authentication failures are [`AuthError`](crate::auth::AuthError)s, not these.
///
/// ```
/// use moxl_core::stream::NegotiationError;
/// let e = NegotiationError::StartTlsUnavailable;
/// assert!(e.to_string().contains("allow_cleartext"));
/// assert!(matches!(NegotiationError::protocol("a stray <x/>"), NegotiationError::Protocol { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// The server offers no STARTTLS (or something on the way stripped it) and cleartext is not allowed (RFC 6120
    /// §5.3.1). Allow cleartext only for a test server.
    #[error("the server does not offer STARTTLS (or something stripped it): refusing to continue in cleartext (ClientBuilder::allow_cleartext is for test servers only)")]
    StartTlsUnavailable,
    /// The server answered `<failure/>` to STARTTLS (RFC 6120 §5.4.2.2).
    #[error("the server refused STARTTLS")]
    StartTlsRefused,
    /// The server closed the stream during negotiation.
    #[error("the server closed the stream")]
    Closed,
    /// The server sent us elsewhere (RFC 7395 §3.6.1 `see-other-uri`): connect to that URI instead.
    #[error("the server redirects to {uri} (RFC 7395 §3.6.1): connect there instead")]
    Redirected {
        /// Where to connect.
        uri: String,
    },
    /// The server's stream is not version 1.0 (RFC 6120 §4.7.5).
    #[error("unsupported stream version {version:?}")]
    UnsupportedVersion {
        /// The version the server announced.
        version: Option<String>,
    },
    /// The server offers no SASL mechanism at all (RFC 6120 §6.4.1).
    #[error("the server offers no SASL mechanism")]
    NoSaslMechanism,
    /// The server offers no resource binding (RFC 6120 §7).
    #[error("the server offers no resource binding")]
    NoResourceBinding,
    /// Resource binding or the legacy session failed without a stanza error.
    #[error("{what} failed")]
    BindFailed {
        /// `resource binding` or `session establishment`.
        what: &'static str,
    },
    /// The server requires SASL2 tasks (XEP-0388 §2.6.3) that moxl does not perform.
    #[error("the server requires SASL2 tasks moxl does not perform: {tasks:?}")]
    UnsupportedTasks {
        /// The tasks asked for.
        tasks: Vec<String>,
    },
    /// In-band registration (XEP-0077) was asked for, but the login has no username and password.
    #[error("in-band registration needs a login with a username and a password")]
    RegistrationNeedsCredentials,
    /// The server does not offer in-band registration (XEP-0077).
    #[error("the server does not offer in-band registration (XEP-0077)")]
    RegistrationUnavailable,
    /// The account is already registered (XEP-0077 §3.1 `<registered/>`).
    #[error("in-band registration: already registered")]
    AlreadyRegistered,
    /// The registration form does not ask for a username and a password (XEP-0077 §3.1).
    #[error("in-band registration does not ask for a username and password but for {asked:?}")]
    RegistrationFields {
        /// The fields the server asked for.
        asked: Vec<String>,
    },
    /// The server refused the registration: the source is its stanza error (`conflict`: the name is taken;
    /// `not-acceptable`: a field is missing), absent if the reply was not a valid error.
    #[error("in-band registration failed: {}", source.as_ref().map(ToString::to_string).unwrap_or_else(|| "an invalid reply".into()))]
    RegistrationFailed {
        /// The server's error.
        #[source]
        source: Option<Box<StanzaError>>,
    },
    /// The server broke the negotiation protocol: an unexpected element, a missing attribute, invalid data.
    #[error("{detail}{}", source.as_ref().map(|s| format!(": {s}")).unwrap_or_default())]
    Protocol {
        /// What was wrong.
        detail: String,
        /// The error behind it, if any (a base64 or JID error).
        #[source]
        source: Option<BoxError>,
    },
}

impl NegotiationError {
    /// A protocol violation described by `detail`.
    ///
    /// ```
    /// let e = moxl_core::stream::NegotiationError::protocol("unexpected <x> during SASL");
    /// assert_eq!(e.to_string(), "unexpected <x> during SASL");
    /// ```
    pub fn protocol(detail: impl Into<String>) -> NegotiationError {
        NegotiationError::Protocol { detail: detail.into(), source: None }
    }

    /// A protocol violation with the error behind it.
    pub(crate) fn protocol_with(detail: impl Into<String>, source: impl Into<BoxError>) -> NegotiationError {
        NegotiationError::Protocol { detail: detail.into(), source: Some(source.into()) }
    }
}
