//! [`Negotiator`]: stream negotiation as a sans-I/O state machine (RFC 6120 §4.3): STARTTLS (§5), SASL (§6),
//! resource binding (§7), and the legacy session (RFC 3921 §3) where a server still requires it.
//!
//! Where the server offers SASL2 (XEP-0388), authentication uses it instead: no stream restart after success
//! (§2.6.1), and with Bind2 (XEP-0386) the resource is bound in the same round trip. Without Bind2, or when an
//! explicit resource was asked for (Bind2 lets the server choose it), the legacy bind follows.
//!
//! The transport feeds it the parser's events and tells it when TLS is up; it answers with what to write and
//! when to upgrade or restart. It never touches a socket.

use base64::Engine;
use jid::FullJid;
use rand::distr::{Alphanumeric, SampleString};

use super::error::NegotiationError;
use super::features::{feature_ns as fns, StreamFeatures};
use super::register;
use super::sm::{h_of, SmEnabled, SM3};
use crate::stanza::{self, StanzaError, StreamCondition};
use crate::xml::{ns, Element, ElementBuilder, StreamEvent};
use crate::{Error, Result};

/// The SASL side of negotiation: chooses a mechanism and computes the responses. Implemented over the
/// mechanisms in [`crate::auth`]; anything that speaks SASL can be plugged in.
pub trait Authenticator: Send {
    /// Chooses a mechanism among those offered (in any order) and returns its name and initial response.
    /// `secure` tells whether the stream is encrypted; `channel_binding_types` are those the server advertised
    /// (XEP-0440), empty when it advertised none.
    fn start(
        &mut self,
        offered: &[String],
        secure: bool,
        channel_binding_types: &[String],
    ) -> Result<(String, Option<Vec<u8>>)>;

    /// Answers a server challenge.
    fn challenge(&mut self, data: &[u8]) -> Result<Vec<u8>>;

    /// Checks the server's final message (e.g. the SCRAM server signature), if any.
    fn success(&mut self, data: Option<&[u8]>) -> Result<()>;

    /// The channel-binding data of the TLS connection (RFC 5056), given once TLS is up and before
    /// [`start`](Self::start). Mechanisms without channel binding ignore it (the default).
    fn set_channel_binding(&mut self, binding: Option<crate::transport::ChannelBinding>) {
        let _ = binding;
    }

    /// The server refused the attempt with this RFC 6120 §6.5 `condition` (and optional text). Returns the next
    /// attempt (mechanism and initial response) to make on the same stream (§6.4.5 allows retries), or the error
    /// to fail with. The default never retries.
    fn failure(&mut self, condition: &str, text: Option<&str>) -> Result<(String, Option<Vec<u8>>)> {
        Err(crate::auth::AuthError::from_failure(condition, text).into())
    }

    /// The mechanism (and channel binding) that authenticated, once [`success`](Self::success) returned `Ok`: what
    /// a session store remembers for mechanism pinning. The default knows none.
    fn succeeded(&self) -> Option<crate::auth::MechanismPin> {
        None
    }

    /// The strongest mechanism this account used before (from a session store), given before
    /// [`start`](Self::start): weaker ones are then refused (see [`crate::auth::SaslConfig::pinned`]). Ignored by
    /// default.
    fn set_pin(&mut self, pin: Option<crate::auth::MechanismPin>) {
        let _ = pin;
    }
}

/// Whether the stream must be encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TlsPolicy {
    /// Upgrade with STARTTLS; refuse to go on if the server does not offer it (the default).
    #[default]
    Required,
    /// The connection is already TLS (XEP-0368 direct TLS, or `wss://`).
    Direct,
    /// Upgrade when offered, else go on in cleartext. For test servers only: the authenticator still refuses
    /// mechanisms that reveal the password in cleartext.
    AllowCleartext,
}

/// What the negotiator needs to know.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NegotiationConfig {
    /// The XMPP domain (the stream's `to`).
    pub domain: String,
    /// The account's bare JID, if any (the stream's `from` once encrypted; RFC 6120 §4.7.1).
    pub account: Option<String>,
    /// The resource to ask for; `None` asks for `moxl` followed by a random suffix. The server may impose
    /// another: the bound JID is what counts.
    pub resource: Option<String>,
    /// Whether TLS is required, already there, or optional.
    pub tls: TlsPolicy,
    /// Whether the stream is framed (XMPP over WebSocket, RFC 7395): `<open/>` and `<close/>` instead of
    /// `<stream:stream>`.
    pub framing: bool,
    /// Use SASL2 (XEP-0388) when the server offers it (the default), else only the RFC 6120 profile.
    pub sasl2: bool,
    /// Enable stream management (XEP-0198) when offered (default `true`).
    pub sm: bool,
    /// Resume this earlier session instead of binding a new one, when the server offers stream management.
    pub resume: Option<ResumeFrom>,
    /// Register the account by in-band registration (XEP-0077 §3.1) before authenticating: the username and
    /// password to register. `None` (the default) never registers.
    pub register: Option<(String, String)>,
    /// A FAST token (XEP-0484) to log in with instead of the password, when the server offers its mechanism.
    pub fast_token: Option<crate::session::FastToken>,
    /// Ask for a FAST token when authenticating otherwise (see [`Negotiator::fast_token_issued`]).
    pub fast_request: bool,
    /// The stable identifier of this client installation for SASL2's `<user-agent id='…'/>` (XEP-0388 §2.3:
    /// a UUIDv4; servers derive the Bind2 resource from it). `None` sends a fresh random one.
    pub user_agent_id: Option<String>,
}

impl NegotiationConfig {
    /// A configuration for this domain with the defaults: TLS required, resource `moxl-<random>`.
    ///
    /// ```
    /// let config = moxl_core::stream::NegotiationConfig::new("example.com");
    /// assert_eq!(config.domain, "example.com");
    /// ```
    pub fn new(domain: impl Into<String>) -> Self {
        NegotiationConfig {
            domain: domain.into(),
            account: None,
            resource: None,
            tls: TlsPolicy::Required,
            framing: false,
            sasl2: true,
            sm: true,
            resume: None,
            register: None,
            fast_token: None,
            fast_request: false,
            user_agent_id: None,
        }
    }
}

/// What the transport must do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Write this text.
    Send(String),
    /// Upgrade the connection to TLS now, then call [`Negotiator::tls_established`].
    StartTls,
    /// Reset the parser ([`StreamParser::reset`](crate::xml::StreamParser::reset)): a new stream begins; its
    /// header is in the next [`Output::Send`].
    Restart,
    /// Negotiation is over: the session is bound to this JID.
    Online {
        /// The bound full JID (the server may have chosen the resource), or the resumed session's.
        jid: FullJid,
        /// The features of the final stream (stream management, CSI, roster versioning…).
        features: Box<StreamFeatures>,
        /// Stream management (XEP-0198), if enabled or resumed.
        sm: Option<SmEnabled>,
        /// Whether an earlier session was resumed.
        resumption: Resumption,
    },
}

/// What became of the earlier session named in [`NegotiationConfig::resume`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resumption {
    /// No resumption was asked for, or the server offers no stream management.
    NotTried,
    /// The session was resumed (XEP-0198 §5): `h` is how many of our stanzas the server had handled; send the
    /// rest again.
    Resumed {
        /// The server's count of our stanzas.
        h: u32,
    },
    /// The server could not resume it: this is a fresh session. `h`, if the server said, tells which of our
    /// stanzas of the old session it had handled.
    Failed {
        /// The server's count of our stanzas in the old session, if given.
        h: Option<u32>,
    },
}

/// An earlier stream-management session to resume (XEP-0198 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResumeFrom {
    /// The id from `<enabled/>`.
    pub id: String,
    /// How many stanzas we handled (our `h`).
    pub h: u32,
    /// The full JID of that session.
    pub jid: FullJid,
}

impl ResumeFrom {
    /// A session to resume.
    pub fn new(id: impl Into<String>, h: u32, jid: FullJid) -> Self {
        ResumeFrom { id: id.into(), h, jid }
    }
}

/// Where negotiation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Waiting for the stream header or features.
    Connecting,
    /// TLS is being negotiated.
    Securing,
    /// SASL is running.
    Authenticating,
    /// Binding a resource.
    Binding,
    /// Negotiation succeeded.
    Online,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    AwaitHeader,
    AwaitFeatures,
    AwaitProceed,
    AwaitTls,
    /// In-band registration (XEP-0077): waiting for the fields (`fields`) or for the result of the submission.
    Register {
        id: String,
        fields: bool,
    },
    Sasl,
    /// SASL2 is running; `bind2` tells whether a Bind2 request went with it.
    Sasl2 {
        bind2: bool,
    },
    Bind {
        id: String,
        retried: bool,
    },
    Session {
        id: String,
        jid: FullJid,
    },
    /// `<resume/>` sent (XEP-0198 §5).
    Resume,
    /// `<enable/>` sent for the bound `jid` (XEP-0198 §3).
    Enable {
        jid: FullJid,
    },
    Online,
}

/// Stream negotiation for one connection (see the [module documentation](crate::stream)).
///
/// ```
/// use moxl_core::stream::{Negotiator, NegotiationConfig, Output};
/// # struct NoSasl;
/// # impl moxl_core::stream::Authenticator for NoSasl {
/// #   fn start(&mut self, _: &[String], _: bool, _: &[String]) -> moxl_core::Result<(String, Option<Vec<u8>>)> { unreachable!() }
/// #   fn challenge(&mut self, _: &[u8]) -> moxl_core::Result<Vec<u8>> { unreachable!() }
/// #   fn success(&mut self, _: Option<&[u8]>) -> moxl_core::Result<()> { unreachable!() } }
/// let (negotiator, first) = Negotiator::new(NegotiationConfig::new("example.com"), Box::new(NoSasl));
/// assert!(matches!(&first[0], Output::Send(header) if header.contains("to='example.com'")));
/// # drop(negotiator);
/// ```
pub struct Negotiator {
    config: NegotiationConfig,
    auth: Box<dyn Authenticator>,
    state: State,
    secure: bool,
    authenticated: bool,
    mechanism: Option<String>,
    /// The features of the stream being bound (reported with [`Output::Online`]).
    features: StreamFeatures,
    /// The JID bound inline by Bind2, reported once the features that follow SASL2 success arrive.
    bound: Option<FullJid>,
    registered: bool,
    /// The TLS connection's channel binding (also given to the authenticator).
    cb: Option<crate::transport::ChannelBinding>,
    /// The SASL2 offer, kept to fall back from a refused FAST token to the password.
    sasl2_offer: Option<(super::features::Sasl2Offer, Vec<String>)>,
    /// A FAST token login in progress.
    fast: Option<super::fast::Attempt>,
    /// The mechanism we asked a FAST token for.
    fast_requested: Option<String>,
    fast_issued: Option<crate::session::FastToken>,
    fast_rejected: bool,
    used_fast: bool,
    resumption: Resumption,
    used_sasl2: bool,
    used_bind2: bool,
}

impl std::fmt::Debug for Negotiator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Negotiator")
            .field("domain", &self.config.domain)
            .field("state", &self.state)
            .field("secure", &self.secure)
            .field("authenticated", &self.authenticated)
            .field("mechanism", &self.mechanism)
            .finish_non_exhaustive()
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

impl Negotiator {
    /// Starts negotiation; the outputs open the stream.
    pub fn new(config: NegotiationConfig, auth: Box<dyn Authenticator>) -> (Negotiator, Vec<Output>) {
        let secure = config.tls == TlsPolicy::Direct;
        let n = Negotiator {
            config,
            auth,
            state: State::AwaitHeader,
            secure,
            authenticated: false,
            mechanism: None,
            features: StreamFeatures::default(),
            bound: None,
            registered: false,
            cb: None,
            sasl2_offer: None,
            fast: None,
            fast_requested: None,
            fast_issued: None,
            fast_rejected: false,
            used_fast: false,
            resumption: Resumption::NotTried,
            used_sasl2: false,
            used_bind2: false,
        };
        let open = n.open();
        (n, vec![open])
    }

    /// Where negotiation stands.
    pub fn phase(&self) -> Phase {
        match self.state {
            State::AwaitHeader | State::AwaitFeatures if self.authenticated => Phase::Binding,
            State::AwaitHeader | State::AwaitFeatures => Phase::Connecting,
            State::AwaitProceed | State::AwaitTls => Phase::Securing,
            State::Register { .. } | State::Sasl | State::Sasl2 { .. } => Phase::Authenticating,
            State::Bind { .. } | State::Session { .. } | State::Resume | State::Enable { .. } => Phase::Binding,
            State::Online => Phase::Online,
        }
    }

    /// Whether the stream is encrypted.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The SASL mechanism used, once chosen.
    pub fn mechanism(&self) -> Option<&str> {
        self.mechanism.as_deref()
    }

    /// Whether authentication used SASL2 (XEP-0388).
    pub fn used_sasl2(&self) -> bool {
        self.used_sasl2
    }

    /// Whether the resource was bound inline by Bind2 (XEP-0386).
    pub fn used_bind2(&self) -> bool {
        self.used_bind2
    }

    fn open(&self) -> Output {
        // The account's JID goes in `from` only once the stream is encrypted (RFC 6120 §4.7.1).
        let from = if self.secure { self.config.account.as_deref() } else { None };
        if self.config.framing {
            Output::Send(stanza::framing_open(&self.config.domain, from))
        } else {
            Output::Send(stanza::stream_header(&self.config.domain, from))
        }
    }

    /// The mechanism (and channel binding) that authenticated this stream, if the authenticator knows it (for
    /// mechanism pinning).
    pub fn auth_succeeded(&self) -> Option<crate::auth::MechanismPin> {
        self.auth.succeeded()
    }

    /// The strongest mechanism this account used before: see [`Authenticator::set_pin`].
    pub fn set_auth_pin(&mut self, pin: Option<crate::auth::MechanismPin>) {
        self.auth.set_pin(pin);
    }

    /// The channel-binding data of the TLS connection, for `-PLUS` mechanisms; call it once TLS is up (after
    /// [`tls_established`](Self::tls_established), or at once for direct TLS).
    pub fn set_channel_binding(&mut self, binding: Option<crate::transport::ChannelBinding>) {
        self.cb.clone_from(&binding);
        self.auth.set_channel_binding(binding);
    }

    /// A FAST token the server issued during this negotiation (XEP-0484 §3.3, or a rotation §3.5): keep it
    /// for the next login.
    pub fn fast_token_issued(&self) -> Option<&crate::session::FastToken> {
        self.fast_issued.as_ref()
    }

    /// Whether the server refused the FAST token (the password was used instead): forget it.
    pub fn fast_token_rejected(&self) -> bool {
        self.fast_rejected
    }

    /// Whether this login used a FAST token.
    pub fn used_fast(&self) -> bool {
        self.used_fast
    }

    /// The TLS upgrade asked for by [`Output::StartTls`] succeeded: a new stream starts (RFC 6120 §5.4.3.3).
    pub fn tls_established(&mut self) -> Result<Vec<Output>> {
        if self.state != State::AwaitTls {
            return Err(NegotiationError::protocol("TLS established without STARTTLS").into());
        }
        self.secure = true;
        self.state = State::AwaitHeader;
        Ok(vec![Output::Restart, self.open()])
    }

    /// Handles one event from the parser.
    pub fn handle(&mut self, event: StreamEvent) -> Result<Vec<Output>> {
        match event {
            StreamEvent::Header(h) => self.on_header(h.version.as_deref()),
            StreamEvent::End => Err(NegotiationError::Closed.into()),
            // RFC 7395 §3.3.2 and §3.6: the framed stream header and its end.
            StreamEvent::Element(e) if self.config.framing && e.is("open", ns::FRAMING) => {
                self.on_header(e.attr("version").as_deref())
            }
            StreamEvent::Element(e) if self.config.framing && e.is("close", ns::FRAMING) => {
                Err(match e.attr("see-other-uri") {
                    Some(uri) => NegotiationError::Redirected { uri: uri.into_owned() }.into(),
                    None => NegotiationError::Closed.into(),
                })
            }
            StreamEvent::Element(e) => {
                if e.is("error", ns::STREAM) {
                    return Err(stream_error(&e));
                }
                self.on_element(&e)
            }
        }
    }

    fn on_header(&mut self, version: Option<&str>) -> Result<Vec<Output>> {
        if self.state != State::AwaitHeader {
            return Err(NegotiationError::protocol("unexpected stream header").into());
        }
        if version != Some("1.0") {
            return Err(NegotiationError::UnsupportedVersion { version: version.map(str::to_owned) }.into());
        }
        self.state = State::AwaitFeatures;
        Ok(Vec::new())
    }

    fn on_element(&mut self, e: &Element) -> Result<Vec<Output>> {
        match self.state.clone() {
            State::AwaitFeatures => {
                let features = StreamFeatures::from_element(e).ok_or_else(|| {
                    NegotiationError::protocol(format!("expected stream features, got <{}>", e.name()))
                })?;
                self.on_features(features)
            }
            State::AwaitProceed => {
                if e.is("proceed", fns::TLS) {
                    self.state = State::AwaitTls;
                    Ok(vec![Output::StartTls])
                } else {
                    // <failure/>: the server ends the stream (RFC 6120 §5.4.2.2).
                    Err(NegotiationError::StartTlsRefused.into())
                }
            }
            State::Register { id, fields } => self.on_register(e, &id, fields),
            State::Sasl => self.on_sasl(e),
            State::Sasl2 { bind2 } => self.on_sasl2(e, bind2),
            State::Bind { id, retried } => self.on_bind(e, &id, retried),
            State::Session { id, jid } => {
                if e.attr("id").as_deref() != Some(id.as_str()) {
                    return Ok(Vec::new());
                }
                if e.attr("type").as_deref() != Some("result") {
                    return Err(NegotiationError::BindFailed { what: "session establishment" }.into());
                }
                self.bound_to(jid)
            }
            State::Resume => self.on_resume(e),
            State::Enable { jid } => self.on_enable(e, jid),
            State::AwaitHeader | State::AwaitTls | State::Online => {
                Err(NegotiationError::protocol(format!("unexpected <{}> during negotiation", e.name())).into())
            }
        }
    }

    fn on_features(&mut self, features: StreamFeatures) -> Result<Vec<Output>> {
        if !self.secure {
            match (features.starttls, self.config.tls) {
                (Some(_), _) => {
                    self.state = State::AwaitProceed;
                    let starttls = ElementBuilder::new("starttls", fns::TLS).build()?;
                    return Ok(vec![Output::Send(starttls.to_xml())]);
                }
                (None, TlsPolicy::AllowCleartext) => {
                    tracing::warn!(domain = %self.config.domain, "the server offers no STARTTLS: going on in cleartext, as allowed");
                }
                (None, _) => return Err(NegotiationError::StartTlsUnavailable.into()),
            }
        }
        if !self.authenticated && self.config.register.is_some() && !self.registered {
            if !features.register {
                return Err(NegotiationError::RegistrationUnavailable.into());
            }
            // XEP-0077 §3.1: ask for the fields first.
            let id = new_id();
            let get = register::fields_request(None).attr("id", id.clone());
            self.features = features;
            self.state = State::Register { id, fields: true };
            return Ok(vec![Output::Send(get.build()?.to_xml())]);
        }
        if !self.authenticated {
            if let Some(sasl2) = features.sasl2.as_ref().filter(|s| self.config.sasl2 && !s.mechanisms.is_empty()) {
                return self.start_sasl2(sasl2, &features.channel_binding_types);
            }
            if features.mechanisms.is_empty() {
                return Err(NegotiationError::NoSaslMechanism.into());
            }
            let attempt = self.auth.start(&features.mechanisms, self.secure, &features.channel_binding_types)?;
            return self.send_auth(attempt);
        }
        if let Some(jid) = self.bound.take() {
            // XEP-0388 §2.6.1: these are the features of the authenticated stream; Bind2 already bound it.
            self.features = features;
            return self.bound_to(jid);
        }
        if self.config.resume.is_some() && features.sm.contains(&3) && self.resumption == Resumption::NotTried {
            if let Some(resume) = &self.config.resume {
                // XEP-0198 §5: resume instead of binding.
                let element = ElementBuilder::new("resume", SM3)
                    .attr("previd", resume.id.clone())
                    .attr("h", resume.h.to_string())
                    .build()?;
                self.features = features;
                self.state = State::Resume;
                return Ok(vec![Output::Send(element.to_xml())]);
            }
        }
        if !features.bind {
            return Err(NegotiationError::NoResourceBinding.into());
        }
        if features.session_required {
            tracing::debug!("the server requires a legacy session (RFC 3921)");
        }
        self.features = features;
        self.bind(false)
    }

    fn bind(&mut self, retried: bool) -> Result<Vec<Output>> {
        let id = new_id();
        let resource = match (&self.config.resource, retried) {
            (Some(r), false) => r.clone(),
            _ => format!("moxl-{}", Alphanumeric.sample_string(&mut rand::rng(), 8)),
        };
        let bind = stanza::iq_set(None).attr("id", id.clone()).append(
            ElementBuilder::new("bind", fns::BIND).append(ElementBuilder::new("resource", fns::BIND).text(resource)),
        );
        self.state = State::Bind { id, retried };
        Ok(vec![Output::Send(bind.build()?.to_xml())])
    }

    /// RFC 6120 §6.4.2: `<auth mechanism='…'>` with the initial response (`=` for an empty one).
    fn send_auth(&mut self, (mechanism, initial): (String, Option<Vec<u8>>)) -> Result<Vec<Output>> {
        let payload = match initial {
            Some(data) if data.is_empty() => "=".to_owned(),
            Some(data) => B64.encode(data),
            None => String::new(),
        };
        let auth = ElementBuilder::new("auth", fns::SASL).attr("mechanism", mechanism.clone());
        let auth = if payload.is_empty() { auth } else { auth.text(payload) };
        self.mechanism = Some(mechanism);
        self.state = State::Sasl;
        Ok(vec![Output::Send(auth.build()?.to_xml())])
    }

    fn on_sasl(&mut self, e: &Element) -> Result<Vec<Output>> {
        if e.ns() != fns::SASL {
            return Err(NegotiationError::protocol(format!("unexpected <{}> during SASL", e.name())).into());
        }
        match e.name() {
            "challenge" => {
                let data = decode(&e.text())?;
                let response = self.auth.challenge(&data)?;
                let text = if response.is_empty() { String::new() } else { B64.encode(response) };
                let r = ElementBuilder::new("response", fns::SASL);
                let r = if text.is_empty() { r } else { r.text(text) };
                Ok(vec![Output::Send(r.build()?.to_xml())])
            }
            "success" => {
                let text = e.text();
                let data = if text.trim().is_empty() { None } else { Some(decode(&text)?) };
                self.auth.success(data.as_deref())?;
                self.authenticated = true;
                self.state = State::AwaitHeader;
                // RFC 6120 §6.4.6: a new stream, no TLS change.
                Ok(vec![Output::Restart, self.open()])
            }
            "failure" => {
                // RFC 6120 §6.5: the condition says whether retrying can help; the authenticator decides whether
                // to try again on this stream (§6.4.5), e.g. without channel binding.
                let condition = e.children().find(|c| c.name() != "text").map(|c| c.name().to_owned());
                let text = e.child_text("text", fns::SASL);
                let attempt = self.auth.failure(condition.as_deref().unwrap_or_default(), text.as_deref())?;
                self.send_auth(attempt)
            }
            other => Err(NegotiationError::protocol(format!("unexpected <{other}> during SASL")).into()),
        }
    }

    /// Bound to `jid`: enable stream management if offered (XEP-0198 §3), else online.
    fn bound_to(&mut self, jid: FullJid) -> Result<Vec<Output>> {
        if self.config.sm && self.features.sm.contains(&3) {
            let enable = ElementBuilder::new("enable", SM3).attr("resume", "true").build()?;
            self.state = State::Enable { jid };
            return Ok(vec![Output::Send(enable.to_xml())]);
        }
        Ok(self.online(jid, None))
    }

    fn online(&mut self, jid: FullJid, sm: Option<SmEnabled>) -> Vec<Output> {
        self.state = State::Online;
        vec![Output::Online { jid, features: Box::new(self.features.clone()), sm, resumption: self.resumption }]
    }

    fn on_enable(&mut self, e: &Element, jid: FullJid) -> Result<Vec<Output>> {
        if let Some(enabled) = SmEnabled::from_element(e) {
            return Ok(self.online(jid, Some(enabled)));
        }
        if e.is("failed", SM3) {
            tracing::warn!("the server refused to enable stream management");
            return Ok(self.online(jid, None));
        }
        Err(NegotiationError::protocol(format!("unexpected <{}> while enabling stream management", e.name())).into())
    }

    fn on_resume(&mut self, e: &Element) -> Result<Vec<Output>> {
        let resume = self.config.resume.clone().ok_or_else(|| NegotiationError::protocol("nothing to resume"))?;
        if e.is("resumed", SM3) {
            let h = h_of(e).ok_or_else(|| NegotiationError::protocol("<resumed/> without a valid h"))?;
            self.resumption = Resumption::Resumed { h };
            let sm = SmEnabled { id: Some(resume.id), location: None, max: None };
            return Ok(self.online(resume.jid, Some(sm)));
        }
        if e.is("failed", SM3) {
            // XEP-0198 §5: the session is gone; start a fresh one on this stream.
            self.resumption = Resumption::Failed { h: h_of(e) };
            tracing::info!(h = ?h_of(e), "the server could not resume the session: binding a new one");
            if !self.features.bind {
                return Err(NegotiationError::NoResourceBinding.into());
            }
            return self.bind(false);
        }
        Err(NegotiationError::protocol(format!("unexpected <{}> while resuming", e.name())).into())
    }

    fn on_register(&mut self, e: &Element, id: &str, fields: bool) -> Result<Vec<Output>> {
        if !e.is("iq", ns::CLIENT) || e.attr("id").as_deref() != Some(id) {
            return Ok(Vec::new());
        }
        if e.attr("type").as_deref() != Some("result") {
            // XEP-0077 §3.1: 409 conflict (the name is taken), 406 not-acceptable (a field is missing)…
            let error = StanzaError::from_stanza(e);
            return Err(NegotiationError::RegistrationFailed { source: error.map(Box::new) }.into());
        }
        let (username, password) = self.config.register.clone().unwrap_or_default();
        if fields {
            let (asked, registered) = register::asked_fields(e);
            if registered {
                return Err(NegotiationError::AlreadyRegistered.into());
            }
            // Only the basic fields are filled in here (XEP-0077 §3.1); a server that asks only through a data form
            // (§6) needs the application. One that requires more (an email…) answers not-acceptable.
            if !asked.iter().any(|f| f == "username") || !asked.iter().any(|f| f == "password") {
                return Err(NegotiationError::RegistrationFields { asked }.into());
            }
            let id = new_id();
            let set = register::credentials(None, &username, &password).attr("id", id.clone());
            self.state = State::Register { id, fields: false };
            return Ok(vec![Output::Send(set.build()?.to_xml())]);
        }
        // Registered: authenticate on the same stream, with the features it offered.
        self.registered = true;
        let features = std::mem::take(&mut self.features);
        self.on_features(features)
    }

    /// XEP-0388 §2.3: `<authenticate/>` with the initial response, the user agent, and (XEP-0386 §3) a Bind2
    /// request unless a specific resource was asked for.
    fn start_sasl2(&mut self, offer: &super::features::Sasl2Offer, cb_types: &[String]) -> Result<Vec<Output>> {
        self.start_sasl2_with(offer, cb_types, None)
    }

    /// [`start_sasl2`](Self::start_sasl2), with the attempt already chosen (a retry after a failure).
    fn start_sasl2_with(
        &mut self,
        offer: &super::features::Sasl2Offer,
        cb_types: &[String],
        retry: Option<(String, Option<Vec<u8>>)>,
    ) -> Result<Vec<Output>> {
        self.sasl2_offer = Some((offer.clone(), cb_types.to_vec()));
        let authcid = self.config.account.as_deref().and_then(|a| a.split_once('@')).map_or("", |(node, _)| node);
        // XEP-0484 §3.4: a token, if we have one the server takes here (and it was not refused just now).
        let attempt = match (&self.config.fast_token, self.fast_rejected, self.secure) {
            _ if retry.is_some() => None,
            (Some(token), false, true) => {
                super::fast::Attempt::new(token, authcid, &offer.fast_mechanisms, self.cb.as_ref())
            }
            _ => None,
        };
        let (mechanism, initial) = match (&attempt, retry) {
            (Some(a), _) => (a.mechanism.clone(), Some(a.initial.clone())),
            (None, Some(retry)) => retry,
            (None, None) => self.auth.start(&offer.mechanisms, self.secure, cb_types)?,
        };
        let mut auth = ElementBuilder::new("authenticate", fns::SASL2).attr("mechanism", mechanism.clone());
        if let Some(data) = initial {
            auth = auth.append(ElementBuilder::new("initial-response", fns::SASL2).text(encode(&data)));
        }
        if attempt.is_some() {
            auth = auth.append(ElementBuilder::new("fast", fns::FAST));
        } else if self.config.fast_request && self.secure {
            // XEP-0484 §3.2: ask for a token for next time.
            self.fast_requested = super::fast::mechanism_to_request(&offer.fast_mechanisms, self.cb.as_ref());
            if let Some(m) = &self.fast_requested {
                auth = auth.append(ElementBuilder::new("request-token", fns::FAST).attr("mechanism", m.clone()));
            }
        }
        self.fast = attempt;
        let id = self.config.user_agent_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        auth = auth.append(
            ElementBuilder::new("user-agent", fns::SASL2)
                .attr("id", id)
                .append(ElementBuilder::new("software", fns::SASL2).text("moxl")),
        );
        // A session to resume is resumed after authentication, instead of binding (XEP-0198 §5).
        let bind2 = offer.bind2 && self.config.resource.is_none() && self.config.resume.is_none();
        if bind2 {
            // XEP-0386 §3: the tag names the client; the server makes the resource from it.
            auth = auth.append(
                ElementBuilder::new("bind", fns::BIND2).append(ElementBuilder::new("tag", fns::BIND2).text("moxl")),
            );
        }
        self.mechanism = Some(mechanism);
        self.used_sasl2 = true;
        self.state = State::Sasl2 { bind2 };
        Ok(vec![Output::Send(auth.build()?.to_xml())])
    }

    fn on_sasl2(&mut self, e: &Element, bind2: bool) -> Result<Vec<Output>> {
        if e.ns() != fns::SASL2 {
            return Err(NegotiationError::protocol(format!("unexpected <{}> during SASL2", e.name())).into());
        }
        match e.name() {
            // XEP-0388 §2.4
            "challenge" => {
                let response = self.auth.challenge(&decode(&e.text())?)?;
                let r = ElementBuilder::new("response", fns::SASL2).text(encode(&response));
                Ok(vec![Output::Send(r.build()?.to_xml())])
            }
            // XEP-0388 §2.6.1: the final SASL data, the identity, and the results of inline requests; then new
            // features on the same stream.
            "success" => {
                let data = e.child_text("additional-data", fns::SASL2).map(|t| decode(&t)).transpose()?;
                match self.fast.take() {
                    // HT §3: the server proves it knows the token.
                    Some(attempt) if !attempt.verify(data.as_deref()) => {
                        return Err(crate::auth::AuthError::ServerMisbehaved(
                            "the server's FAST (HT) proof does not match the token".into(),
                        )
                        .into())
                    }
                    Some(attempt) => {
                        self.used_fast = true;
                        // A rotated token (XEP-0484 §3.5) is for the mechanism in use.
                        self.fast_issued = super::fast::issued(e, &attempt.mechanism);
                    }
                    None => {
                        self.auth.success(data.as_deref())?;
                        self.fast_issued = self.fast_requested.as_deref().and_then(|m| super::fast::issued(e, m));
                    }
                }
                self.authenticated = true;
                if bind2 {
                    if e.child("bound", fns::BIND2).is_some() {
                        self.used_bind2 = true;
                        let id = e.child_text("authorization-identifier", fns::SASL2).unwrap_or_default();
                        self.bound = Some(FullJid::new(id.trim()).map_err(|err| {
                            NegotiationError::protocol_with(
                                format!("Bind2 bound, but the identity {id:?} is not a full JID"),
                                err,
                            )
                        })?);
                    } else {
                        let why = e.child("failed", fns::BIND2).map(|f| f.to_xml()).unwrap_or_default();
                        tracing::warn!(%why, "Bind2 did not bind: falling back to resource binding");
                    }
                }
                self.state = State::AwaitFeatures;
                Ok(Vec::new())
            }
            // XEP-0484 §4.1: a refused token is dropped, and the password used instead on the same stream (a SASL2
            // failure leaves the stream as it was, XEP-0388 §2.6).
            "failure" if self.fast.is_some() => {
                self.fast = None;
                self.fast_rejected = true;
                tracing::info!("the server refused the FAST token: authenticating with the password");
                let (offer, cb_types) = self
                    .sasl2_offer
                    .clone()
                    .ok_or_else(|| NegotiationError::protocol("SASL2 failure without an offer"))?;
                self.start_sasl2(&offer, &cb_types)
            }
            // XEP-0388 §2.6.2: an RFC 6120 §6.5 condition, as in the legacy profile.
            "failure" => {
                let condition = e.children().find(|c| c.ns() == fns::SASL).map(|c| c.name().to_owned());
                let text = e.child_text("text", fns::SASL2);
                let retry = self.auth.failure(condition.as_deref().unwrap_or_default(), text.as_deref())?;
                let (offer, cb_types) = self
                    .sasl2_offer
                    .clone()
                    .ok_or_else(|| Error::Negotiation(NegotiationError::protocol("SASL2 failure without an offer")))?;
                self.start_sasl2_with(&offer, &cb_types, Some(retry))
            }
            // XEP-0388 §2.6.3: tasks (2FA, password change, upgrades) are not supported.
            "continue" => {
                let tasks: Vec<String> = e
                    .child("tasks", fns::SASL2)
                    .map(|t| t.children().map(|c| c.text().into_owned()).collect())
                    .unwrap_or_default();
                Err(NegotiationError::UnsupportedTasks { tasks }.into())
            }
            other => Err(NegotiationError::protocol(format!("unexpected <{other}> during SASL2")).into()),
        }
    }

    fn on_bind(&mut self, e: &Element, id: &str, retried: bool) -> Result<Vec<Output>> {
        if !e.is("iq", ns::CLIENT) || e.attr("id").as_deref() != Some(id) {
            return Ok(Vec::new());
        }
        match e.attr("type").as_deref() {
            Some("result") => {
                let jid = e
                    .child("bind", fns::BIND)
                    .and_then(|b| b.child_text("jid", fns::BIND))
                    .ok_or_else(|| NegotiationError::protocol("resource binding result without a JID"))?;
                let jid = FullJid::new(jid.trim())?;
                if self.features.session_required {
                    // RFC 3921 §3: some servers still require the session request.
                    let id = new_id();
                    let session = stanza::iq_set(None)
                        .attr("id", id.clone())
                        .append(ElementBuilder::new("session", fns::SESSION));
                    self.state = State::Session { id, jid };
                    return Ok(vec![Output::Send(session.build()?.to_xml())]);
                }
                self.bound_to(jid)
            }
            _ => {
                let error = StanzaError::from_stanza(e);
                let conflict = error.as_ref().and_then(StanzaError::condition) == Some(stanza::Condition::Conflict);
                if conflict && !retried {
                    // RFC 6120 §7.7.2.2: the resource is taken; ask for a fresh one once.
                    return self.bind(true);
                }
                Err(error
                    .map(Error::from)
                    .unwrap_or_else(|| NegotiationError::BindFailed { what: "resource binding" }.into()))
            }
        }
    }
}

fn decode(text: &str) -> Result<Vec<u8>> {
    let text = text.trim();
    if text == "=" {
        return Ok(Vec::new());
    }
    B64.decode(text).map_err(|e| NegotiationError::protocol_with("invalid base64 from the server", e).into())
}

/// SASL2 data (XEP-0388 §2.2): plain base64, empty for no data.
fn encode(data: &[u8]) -> String {
    B64.encode(data)
}

fn stream_error(e: &Element) -> Error {
    let condition = e.children().find(|c| c.ns() == ns::STREAMS && c.name() != "text");
    Error::StreamError {
        condition: condition.as_ref().and_then(|c| StreamCondition::from_name(c.name())),
        text: e.child_text("text", ns::STREAMS),
    }
}

fn new_id() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 12)
}
