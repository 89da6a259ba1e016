//! What an authentication attempt is configured with, and the choice of a mechanism.

use std::fmt;

use super::AuthError;

/// A SASL mechanism moxl can authenticate with.
///
/// The order of the variants is not the preference: that is [`SaslConfig::preference`], by default
/// [`Mechanism::DEFAULT_PREFERENCE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mechanism {
    /// `SCRAM-SHA-256-PLUS`: SCRAM with SHA-256 (RFC 7677) and channel binding (RFC 5802 §6).
    ScramSha256Plus,
    /// `SCRAM-SHA-1-PLUS`: SCRAM with SHA-1 (RFC 5802) and channel binding.
    ScramSha1Plus,
    /// `SCRAM-SHA-256` (RFC 7677).
    ScramSha256,
    /// `SCRAM-SHA-1` (RFC 5802).
    ScramSha1,
    /// `DIGEST-MD5` (RFC 2831; historic, RFC 6331). Weak: refused over cleartext by default.
    DigestMd5,
    /// `CRAM-MD5` (RFC 2195). Weak: refused over cleartext by default.
    CramMd5,
    /// `PLAIN` (RFC 4616): the password itself. Weak: refused over cleartext by default.
    Plain,
    /// `ANONYMOUS` (RFC 4505). Only used when the configuration asks for it ([`Credentials::Anonymous`]).
    Anonymous,
}

impl Mechanism {
    /// The default preference, strongest first. `ANONYMOUS` is not in it: it is used only when asked for.
    pub const DEFAULT_PREFERENCE: [Mechanism; 7] = [
        Mechanism::ScramSha256Plus,
        Mechanism::ScramSha1Plus,
        Mechanism::ScramSha256,
        Mechanism::ScramSha1,
        Mechanism::DigestMd5,
        Mechanism::CramMd5,
        Mechanism::Plain,
    ];

    /// Every mechanism moxl implements: the default preference, then `ANONYMOUS`.
    #[allow(clippy::indexing_slicing)] // `i < 7` indexes both arrays in bounds
    pub const ALL: [Mechanism; 8] = {
        let mut all = [Mechanism::Anonymous; 8];
        let mut i = 0;
        while i < Self::DEFAULT_PREFERENCE.len() {
            all[i] = Self::DEFAULT_PREFERENCE[i];
            i += 1;
        }
        all
    };

    /// The IANA name, as in `<mechanism>` and `<auth mechanism='…'>`.
    pub const fn name(self) -> &'static str {
        match self {
            Mechanism::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
            Mechanism::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::DigestMd5 => "DIGEST-MD5",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::Plain => "PLAIN",
            Mechanism::Anonymous => "ANONYMOUS",
        }
    }

    /// The mechanism with this name. Surrounding whitespace (as in pretty-printed XML) is ignored; SASL names
    /// are upper case (RFC 4422 §3.1) but the comparison forgives case.
    ///
    /// ```
    /// use moxl_core::auth::Mechanism;
    /// assert_eq!(Mechanism::from_name(" SCRAM-SHA-1\n"), Some(Mechanism::ScramSha1));
    /// assert_eq!(Mechanism::from_name("GSSAPI"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Mechanism> {
        let name = name.trim();
        Mechanism::ALL.into_iter().find(|m| m.name().eq_ignore_ascii_case(name))
    }

    /// Whether this is a `-PLUS` (channel-binding) mechanism.
    pub const fn is_plus(self) -> bool {
        matches!(self, Mechanism::ScramSha256Plus | Mechanism::ScramSha1Plus)
    }

    /// Whether this is a SCRAM mechanism.
    pub const fn is_scram(self) -> bool {
        matches!(
            self,
            Mechanism::ScramSha256Plus | Mechanism::ScramSha1Plus | Mechanism::ScramSha256 | Mechanism::ScramSha1
        )
    }

    /// Whether the mechanism is weak: `PLAIN` sends the password; an eavesdropper on `CRAM-MD5` or `DIGEST-MD5`
    /// gets a single unsalted, unstretched MD5-based response to test password guesses against offline, and
    /// both need the server to keep a password equivalent. Weak mechanisms are refused over cleartext unless
    /// [`SaslConfig::allow_plain_in_cleartext`] is set.
    pub const fn is_weak(self) -> bool {
        matches!(self, Mechanism::Plain | Mechanism::DigestMd5 | Mechanism::CramMd5)
    }

    /// Whether the client sends the first message (an initial response in `<auth/>`); otherwise the server
    /// starts with a challenge.
    pub const fn client_first(self) -> bool {
        !matches!(self, Mechanism::DigestMd5 | Mechanism::CramMd5)
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A channel-binding type (RFC 5056 §2, registered at IANA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelBindingType {
    /// `tls-exporter` (RFC 9266): the one to use with TLS 1.3.
    TlsExporter,
    /// `tls-server-end-point` (RFC 5929 §4): a hash of the server certificate; works with any TLS version.
    TlsServerEndPoint,
    /// `tls-unique` (RFC 5929 §3): TLS 1.2 and earlier only; rustls cannot produce it.
    TlsUnique,
}

impl ChannelBindingType {
    /// The registered name, as in the GS2 header `p=<name>` and XEP-0440's `<channel-binding type='…'/>`.
    pub const fn name(self) -> &'static str {
        match self {
            ChannelBindingType::TlsExporter => "tls-exporter",
            ChannelBindingType::TlsServerEndPoint => "tls-server-end-point",
            ChannelBindingType::TlsUnique => "tls-unique",
        }
    }
}

impl fmt::Display for ChannelBindingType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the stream SASL runs on is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsState {
    /// No TLS: everything is visible to an eavesdropper. Weak mechanisms are refused and `-PLUS` is impossible.
    Cleartext,
    /// TLS is up (STARTTLS done, or direct TLS).
    Tls,
}

/// Who authenticates.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// An account with a password. The `Debug` output hides the password.
    Password {
        /// The authentication identity: for XMPP the localpart of the account's JID (RFC 6120 §6.3.8).
        authcid: String,
        /// The password.
        password: String,
    },
    /// `ANONYMOUS` login (RFC 4505), with optional trace information.
    Anonymous {
        /// Trace information sent to the server (an email address or an opaque string without `@`).
        trace: Option<String>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Password { authcid, .. } => {
                f.debug_struct("Password").field("authcid", authcid).field("password", &"<hidden>").finish()
            }
            Credentials::Anonymous { trace } => f.debug_struct("Anonymous").field("trace", trace).finish(),
        }
    }
}

/// The configuration of one authentication attempt.
///
/// Build it with [`SaslConfig::password`] or [`SaslConfig::anonymous`] and adjust the public fields. The
/// channel-binding data belongs to one TLS connection, so a config is made per connection.
///
/// ```
/// use moxl_core::auth::{ChannelBindingType, Mechanism, SaslConfig};
/// let mut config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
/// config.channel_binding = Some((ChannelBindingType::TlsExporter, vec![0; 32]));
/// assert_eq!(config.preference[0], Mechanism::ScramSha256Plus);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SaslConfig {
    /// Who authenticates.
    pub credentials: Credentials,
    /// The authorization identity, when it differs from what the credentials imply (RFC 6120 §6.3.8); usually
    /// `None`.
    pub authzid: Option<String>,
    /// The XMPP domain: DIGEST-MD5's `digest-uri` is `xmpp/<domain>` and its realm when the server names none.
    pub domain: String,
    /// Mechanisms in order of preference, strongest first; mechanisms not listed are never used. Defaults to
    /// [`Mechanism::DEFAULT_PREFERENCE`].
    pub preference: Vec<Mechanism>,
    /// Allow the weak mechanisms (`PLAIN`, `DIGEST-MD5`, `CRAM-MD5`; see [`Mechanism::is_weak`]) without TLS.
    /// Off by default; for test servers on loopback only.
    pub allow_plain_in_cleartext: bool,
    /// The channel-binding type and data of this connection: `tls-exporter` on TLS 1.3, `tls-server-end-point`
    /// otherwise. `-PLUS` mechanisms are used only when this is set.
    pub channel_binding: Option<(ChannelBindingType, Vec<u8>)>,
}

impl SaslConfig {
    /// A password login with the default preference, no authzid and no channel binding.
    pub fn password(authcid: impl Into<String>, password: impl Into<String>, domain: impl Into<String>) -> Self {
        SaslConfig {
            credentials: Credentials::Password { authcid: authcid.into(), password: password.into() },
            authzid: None,
            domain: domain.into(),
            preference: Mechanism::DEFAULT_PREFERENCE.to_vec(),
            allow_plain_in_cleartext: false,
            channel_binding: None,
        }
    }

    /// An `ANONYMOUS` login without trace information.
    pub fn anonymous(domain: impl Into<String>) -> Self {
        SaslConfig {
            credentials: Credentials::Anonymous { trace: None },
            authzid: None,
            domain: domain.into(),
            preference: vec![Mechanism::Anonymous],
            allow_plain_in_cleartext: false,
            channel_binding: None,
        }
    }
}

/// What the server offered in its stream features, in the order it sent them (which does not matter: Prosody
/// shuffles it).
///
/// Besides choosing, it is the input of XEP-0474 downgrade protection: see
/// [`SaslSession::start_with_offer`](super::SaslSession::start_with_offer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerOffer {
    /// The text of every `<mechanism/>` (RFC 6120 §6.4.1), including the ones moxl does not implement.
    pub mechanisms: Vec<String>,
    /// The `type` of every `<channel-binding/>` in XEP-0440's `<sasl-channel-binding/>`, or `None` when the
    /// server sent no such feature.
    pub channel_bindings: Option<Vec<String>>,
}

impl ServerOffer {
    /// An offer of these mechanisms, without XEP-0440 channel-binding types.
    pub fn new<I, S>(mechanisms: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ServerOffer { mechanisms: mechanisms.into_iter().map(Into::into).collect(), channel_bindings: None }
    }

    /// The same offer with the channel-binding types the server advertised (XEP-0440).
    pub fn with_channel_bindings<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.channel_bindings = Some(types.into_iter().map(Into::into).collect());
        self
    }

    /// Whether the server offered any `-PLUS` mechanism.
    pub(crate) fn offers_plus(&self) -> bool {
        self.mechanisms.iter().any(|m| m.trim().to_ascii_uppercase().ends_with("-PLUS"))
    }

    /// Whether the server accepts this channel-binding type: it advertised it (XEP-0440), or it advertised no
    /// list and the type is the default of the TLS version it comes from. That default is `tls-exporter` for
    /// TLS 1.3 (RFC 9266 §3) and `tls-unique` before (RFC 5802 §6.1), which rustls cannot produce: without
    /// XEP-0440, `tls-server-end-point` is never assumed (Prosody 0.12 offers `-PLUS` on TLS 1.2 but checks only
    /// `tls-unique`).
    fn accepts(&self, cb: ChannelBindingType) -> bool {
        match &self.channel_bindings {
            Some(types) => types.iter().any(|t| t.trim() == cb.name()),
            None => cb == ChannelBindingType::TlsExporter,
        }
    }
}

/// Chooses the mechanism to use among those the server offered, by [`SaslConfig::preference`] and never by the
/// order of the offer.
///
/// - `-PLUS` only with channel-binding data, over TLS.
/// - Never a weak mechanism ([`Mechanism::is_weak`]: `PLAIN`, `DIGEST-MD5`, `CRAM-MD5`) over
///   [`TlsState::Cleartext`] unless [`SaslConfig::allow_plain_in_cleartext`].
/// - `ANONYMOUS` only with [`Credentials::Anonymous`], and then nothing else.
///
/// ```
/// use moxl_core::auth::{choose, Mechanism, SaslConfig, TlsState};
/// let config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
/// let m = choose(&["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"], &config, TlsState::Tls).unwrap();
/// assert_eq!(m, Mechanism::ScramSha256);
/// assert!(choose(&["PLAIN"], &config, TlsState::Cleartext).is_err());
/// ```
pub fn choose(offered: &[&str], config: &SaslConfig, tls: TlsState) -> Result<Mechanism, AuthError> {
    choose_offer(&ServerOffer::new(offered.iter().copied()), config, tls)
}

/// [`choose`], also honouring the XEP-0440 channel-binding types in `offer`: no `-PLUS` when the server
/// advertised types and ours is not among them.
pub fn choose_offer(offer: &ServerOffer, config: &SaslConfig, tls: TlsState) -> Result<Mechanism, AuthError> {
    let offered: Vec<Mechanism> = offer.mechanisms.iter().filter_map(|n| Mechanism::from_name(n)).collect();
    let anonymous = matches!(config.credentials, Credentials::Anonymous { .. });
    let candidates: &[Mechanism] = if anonymous { &[Mechanism::Anonymous] } else { &config.preference };
    let mut refused = Vec::new();
    for &m in candidates {
        if !offered.contains(&m) || (m == Mechanism::Anonymous) != anonymous {
            continue;
        }
        if m.is_plus() {
            match (&config.channel_binding, tls) {
                (Some((cb, _)), TlsState::Tls) if offer.accepts(*cb) => {}
                (Some((cb, _)), TlsState::Tls) => {
                    refused.push(format!("{m} (the server does not list channel binding {cb})"));
                    continue;
                }
                _ => continue,
            }
        }
        if m.is_weak() && tls == TlsState::Cleartext && !config.allow_plain_in_cleartext {
            refused.push(format!("{m} (weak, and the stream is not encrypted)"));
            continue;
        }
        return Ok(m);
    }
    let mut message = format!("the server offers [{}]", offer.mechanisms.join(", "));
    if !refused.is_empty() {
        message.push_str("; refused: ");
        message.push_str(&refused.join(", "));
    }
    if anonymous {
        message.push_str("; only ANONYMOUS was asked for");
    }
    Err(AuthError::NoAcceptableMechanism(message))
}
