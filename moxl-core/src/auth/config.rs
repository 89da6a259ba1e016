//! What an authentication attempt is configured with, and the choice of a mechanism.

use std::fmt;

use super::{AuthError, ScramKeyCache};

/// A SASL mechanism moxl can authenticate with.
///
/// The order of the variants is not the preference: that is [`SaslConfig::preference`], by default
/// [`Mechanism::DEFAULT_PREFERENCE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mechanism {
    /// `SCRAM-SHA-512-PLUS`: SCRAM with SHA-512 and channel binding.
    ScramSha512Plus,
    /// `SCRAM-SHA-256-PLUS`: SCRAM with SHA-256 (RFC 7677) and channel binding (RFC 5802 §6).
    ScramSha256Plus,
    /// `SCRAM-SHA-1-PLUS`: SCRAM with SHA-1 (RFC 5802) and channel binding.
    ScramSha1Plus,
    /// `SCRAM-SHA-512` (registered at IANA; RFC 5802 with SHA-512). Offered by ejabberd.
    ScramSha512,
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
    pub const DEFAULT_PREFERENCE: [Mechanism; 9] = [
        Mechanism::ScramSha512Plus,
        Mechanism::ScramSha256Plus,
        Mechanism::ScramSha1Plus,
        Mechanism::ScramSha512,
        Mechanism::ScramSha256,
        Mechanism::ScramSha1,
        Mechanism::DigestMd5,
        Mechanism::CramMd5,
        Mechanism::Plain,
    ];

    /// Every mechanism moxl implements: the default preference, then `ANONYMOUS`.
    #[allow(clippy::indexing_slicing)] // `i < 9` indexes both arrays in bounds
    pub const ALL: [Mechanism; 10] = {
        let mut all = [Mechanism::Anonymous; 10];
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
            Mechanism::ScramSha512Plus => "SCRAM-SHA-512-PLUS",
            Mechanism::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
            Mechanism::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
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
        matches!(self, Mechanism::ScramSha512Plus | Mechanism::ScramSha256Plus | Mechanism::ScramSha1Plus)
    }

    /// The same mechanism without channel binding (`SCRAM-SHA-256` for `SCRAM-SHA-256-PLUS`); itself otherwise.
    ///
    /// ```
    /// use moxl_core::auth::Mechanism;
    /// assert_eq!(Mechanism::ScramSha512Plus.without_binding(), Mechanism::ScramSha512);
    /// assert_eq!(Mechanism::Plain.without_binding(), Mechanism::Plain);
    /// ```
    pub const fn without_binding(self) -> Mechanism {
        match self {
            Mechanism::ScramSha512Plus => Mechanism::ScramSha512,
            Mechanism::ScramSha256Plus => Mechanism::ScramSha256,
            Mechanism::ScramSha1Plus => Mechanism::ScramSha1,
            other => other,
        }
    }

    /// How strong the mechanism is, for [mechanism pinning](SaslConfig::pinned): channel binding first (it
    /// stops a man in the middle holding a certificate the client trusts), then the SCRAM hash, then the weak
    /// mechanisms (DIGEST-MD5 and CRAM-MD5 above PLAIN, which sends the password itself). `ANONYMOUS` is 0.
    ///
    /// ```
    /// use moxl_core::auth::Mechanism;
    /// assert!(Mechanism::ScramSha1Plus.strength() > Mechanism::ScramSha512.strength());
    /// assert!(Mechanism::ScramSha512.strength() > Mechanism::ScramSha256.strength());
    /// assert!(Mechanism::DigestMd5.strength() > Mechanism::Plain.strength());
    /// ```
    pub const fn strength(self) -> u8 {
        match self {
            Mechanism::ScramSha512Plus => 15,
            Mechanism::ScramSha256Plus => 14,
            Mechanism::ScramSha1Plus => 13,
            Mechanism::ScramSha512 => 5,
            Mechanism::ScramSha256 => 4,
            Mechanism::ScramSha1 => 3,
            Mechanism::DigestMd5 | Mechanism::CramMd5 => 2,
            Mechanism::Plain => 1,
            Mechanism::Anonymous => 0,
        }
    }

    /// Whether this is a SCRAM mechanism.
    pub const fn is_scram(self) -> bool {
        matches!(
            self,
            Mechanism::ScramSha512Plus
                | Mechanism::ScramSha256Plus
                | Mechanism::ScramSha1Plus
                | Mechanism::ScramSha512
                | Mechanism::ScramSha256
                | Mechanism::ScramSha1
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

impl ChannelBindingType {
    /// The type with this registered name.
    ///
    /// ```
    /// use moxl_core::auth::ChannelBindingType;
    /// assert_eq!(ChannelBindingType::from_name("tls-exporter"), Some(ChannelBindingType::TlsExporter));
    /// assert_eq!(ChannelBindingType::from_name("tls-foo"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<ChannelBindingType> {
        [ChannelBindingType::TlsExporter, ChannelBindingType::TlsServerEndPoint, ChannelBindingType::TlsUnique]
            .into_iter()
            .find(|t| t.name() == name.trim())
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
/// assert_eq!(config.preference[0], Mechanism::ScramSha512Plus);
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
    /// otherwise. `-PLUS` mechanisms are used only when this is set, and only when the server is known to accept
    /// the type (see [`choose_offer`]).
    pub channel_binding: Option<(ChannelBindingType, Vec<u8>)>,
    /// Channel-binding types the application knows the server accepts although the server does not list them
    /// (XEP-0440), for instance from its own configuration. Empty by default: then `-PLUS` is used only with a
    /// type the server lists, or the one of [`pinned`](Self::pinned).
    pub known_channel_bindings: Vec<ChannelBindingType>,
    /// The strongest mechanism (and channel binding) this account has authenticated with before, normally loaded
    /// from the session store. A login offered only weaker mechanisms ([`Mechanism::strength`]) then fails with
    /// [`AuthError::BelowPinned`] unless [`allow_downgrade`](Self::allow_downgrade): a man in the middle who can
    /// strip mechanisms from the (TLS-protected) offer is not stopped by TLS alone. `None` (an account never seen)
    /// allows anything the other rules allow, `PLAIN` over TLS included.
    pub pinned: Option<MechanismPin>,
    /// Accept a mechanism weaker than [`pinned`](Self::pinned). Off by default.
    pub allow_downgrade: bool,
    /// Where SCRAM keeps the ClientKey and ServerKey it derived, and finds them again for the next login with the
    /// same salt and iteration count (RFC 5802 §5.1): a re-login then runs no PBKDF2. [`SaslConfig::password`]
    /// makes a new, empty one; clones of the config share it (so do a client's reconnections). `None`: derive
    /// every time. Give a config with another password a new cache ([`ScramKeyCache::new`]): cached keys log in
    /// whatever the configured password.
    pub scram_cache: Option<ScramKeyCache>,
    /// Also keep the SCRAM keys in the client's session store
    /// ([`ClientBuilder::session_store`](crate::client::ClientBuilder::session_store)), so that a later process
    /// skips the derivation too. Off by default: the keys are a login secret for this account on this server
    /// (see [`StoredCredentials`](crate::session::StoredCredentials) for how the store is protected).
    pub remember_scram_keys: bool,
}

/// What [`SaslConfig::pinned`] remembers: a mechanism this account authenticated with, and the channel-binding
/// type it used (`-PLUS` only).
///
/// ```
/// use moxl_core::auth::{ChannelBindingType, Mechanism, MechanismPin};
/// let pin = MechanismPin::new(Mechanism::ScramSha256Plus, Some(ChannelBindingType::TlsExporter));
/// assert_eq!(pin.to_string(), "SCRAM-SHA-256-PLUS tls-exporter");
/// assert_eq!(MechanismPin::parse("SCRAM-SHA-256-PLUS tls-exporter"), Some(pin));
/// assert_eq!(MechanismPin::parse("SCRAM-SHA-1").map(|p| p.mechanism), Some(Mechanism::ScramSha1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MechanismPin {
    /// The mechanism.
    pub mechanism: Mechanism,
    /// Its channel-binding type, for a `-PLUS` mechanism.
    pub channel_binding: Option<ChannelBindingType>,
}

impl MechanismPin {
    /// A pin of this mechanism and binding (the binding is dropped for a mechanism without channel binding).
    pub fn new(mechanism: Mechanism, channel_binding: Option<ChannelBindingType>) -> Self {
        MechanismPin { mechanism, channel_binding: channel_binding.filter(|_| mechanism.is_plus()) }
    }

    /// Reads the form [`Display`](fmt::Display) writes: the mechanism name, then the binding type after a space.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split_whitespace();
        let mechanism = Mechanism::from_name(parts.next()?)?;
        let binding = match parts.next() {
            Some(name) => Some(ChannelBindingType::from_name(name)?),
            None => None,
        };
        if parts.next().is_some() || mechanism.is_plus() != binding.is_some() {
            return None;
        }
        Some(MechanismPin::new(mechanism, binding))
    }

    /// The stronger of two pins (by [`Mechanism::strength`]); `self` when equal.
    pub fn max(self, other: MechanismPin) -> MechanismPin {
        if other.mechanism.strength() > self.mechanism.strength() {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for MechanismPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.channel_binding {
            Some(cb) => write!(f, "{} {cb}", self.mechanism),
            None => f.write_str(self.mechanism.name()),
        }
    }
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
            known_channel_bindings: Vec::new(),
            pinned: None,
            allow_downgrade: false,
            scram_cache: Some(ScramKeyCache::new()),
            remember_scram_keys: false,
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
            known_channel_bindings: Vec::new(),
            pinned: None,
            allow_downgrade: false,
            scram_cache: None,
            remember_scram_keys: false,
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

    /// Whether this channel-binding type is one the server is known to accept: it lists it (XEP-0440 §2).
    ///
    /// Without a list, nothing is assumed from the TLS version (see [`choose_offer`]).
    pub(crate) fn lists(&self, cb: ChannelBindingType) -> bool {
        self.channel_bindings.as_ref().is_some_and(|types| types.iter().any(|t| t.trim() == cb.name()))
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

/// [`choose`], also honouring the XEP-0440 channel-binding types in `offer`, and the pin.
///
/// # Channel binding: never guessed
///
/// A `-PLUS` mechanism is chosen only with a channel-binding type the server is known to accept: one it lists
/// (XEP-0440), one in [`SaslConfig::known_channel_bindings`], or the one of [`SaslConfig::pinned`] (this account
/// already authenticated with it). A server's silence says nothing: RFC 9266 §3 makes `tls-exporter` SCRAM's
/// default on TLS 1.3, but servers written before it do otherwise (ejabberd 23.01 checks `tls-unique` on TLS 1.3
/// too; Prosody 0.12 offers `-PLUS` only with `tls-unique`), and RFC 5802's default, `tls-unique`, is undefined on
/// TLS 1.3 (RFC 9266 §2) and cannot be produced by rustls on TLS 1.2.
///
/// # Pinning
///
/// With [`SaslConfig::pinned`] and without [`SaslConfig::allow_downgrade`], mechanisms weaker than the pinned
/// one are refused, and when nothing else is left the error is [`AuthError::BelowPinned`].
///
/// ```
/// use moxl_core::auth::{choose_offer, ChannelBindingType, Mechanism, MechanismPin, SaslConfig, ServerOffer, TlsState};
/// let mut config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
/// config.channel_binding = Some((ChannelBindingType::TlsExporter, vec![0; 32]));
/// let offer = ServerOffer::new(["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"]);
/// // No XEP-0440 list: no -PLUS.
/// assert_eq!(choose_offer(&offer, &config, TlsState::Tls)?, Mechanism::ScramSha256);
/// let listed = offer.clone().with_channel_bindings(["tls-exporter"]);
/// assert_eq!(choose_offer(&listed, &config, TlsState::Tls)?, Mechanism::ScramSha256Plus);
/// // An account seen with -PLUS refuses a server that now offers only PLAIN.
/// config.pinned = Some(MechanismPin::new(Mechanism::ScramSha256Plus, Some(ChannelBindingType::TlsExporter)));
/// assert!(choose_offer(&ServerOffer::new(["PLAIN"]), &config, TlsState::Tls).is_err());
/// # Ok::<(), moxl_core::auth::AuthError>(())
/// ```
pub fn choose_offer(offer: &ServerOffer, config: &SaslConfig, tls: TlsState) -> Result<Mechanism, AuthError> {
    choose_with(offer, config, tls, true)
}

/// Whether the server is known to accept channel binding `cb` (see [`choose_offer`]).
pub(crate) fn binding_known(offer: &ServerOffer, config: &SaslConfig, cb: ChannelBindingType) -> bool {
    offer.lists(cb)
        || config.known_channel_bindings.contains(&cb)
        || config.pinned.is_some_and(|p| p.channel_binding == Some(cb))
}

/// [`choose_offer`]; `allow_plus: false` leaves out every `-PLUS` mechanism (the retry after the server refused
/// our channel binding).
pub(crate) fn choose_with(
    offer: &ServerOffer,
    config: &SaslConfig,
    tls: TlsState,
    allow_plus: bool,
) -> Result<Mechanism, AuthError> {
    let offered: Vec<Mechanism> = offer.mechanisms.iter().filter_map(|n| Mechanism::from_name(n)).collect();
    let anonymous = matches!(config.credentials, Credentials::Anonymous { .. });
    let candidates: &[Mechanism] = if anonymous { &[Mechanism::Anonymous] } else { &config.preference };
    let pin = config.pinned.filter(|_| !config.allow_downgrade && !anonymous);
    let mut refused = Vec::new();
    let mut below_pin = false;
    for &m in candidates {
        if !offered.contains(&m) || (m == Mechanism::Anonymous) != anonymous {
            continue;
        }
        if m.is_plus() {
            match (&config.channel_binding, tls) {
                _ if !allow_plus => {
                    refused.push(format!("{m} (the server refused our channel binding)"));
                    continue;
                }
                (Some((cb, _)), TlsState::Tls) if binding_known(offer, config, *cb) => {}
                (Some((cb, _)), TlsState::Tls) => {
                    refused.push(format!("{m} (the server is not known to accept channel binding {cb})"));
                    continue;
                }
                _ => continue,
            }
        }
        if m.is_weak() && tls == TlsState::Cleartext && !config.allow_plain_in_cleartext {
            refused.push(format!("{m} (weak, and the stream is not encrypted)"));
            continue;
        }
        if let Some(pin) = pin.filter(|p| m.strength() < p.mechanism.strength()) {
            refused.push(format!("{m} (weaker than {pin}, which this account used before)"));
            below_pin = true;
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
    if below_pin {
        return Err(AuthError::BelowPinned(message));
    }
    Err(AuthError::NoAcceptableMechanism(message))
}
