//! [`SaslSession`]: one authentication attempt, driven by the stream layer; and the glue that runs moxl's own
//! mechanisms (SCRAM, DIGEST-MD5, CRAM-MD5) inside rsasl next to rsasl's PLAIN and ANONYMOUS.
//!
//! rsasl builds a mechanism from a plain `fn()` with no arguments, so a mechanism gets its per-attempt data
//! (credentials, domain, channel binding, the server's offer, test hooks) by asking the session callback for
//! the moxl-private property [`Params`] on its first step.

use std::fmt;
use std::io::Write;

use rsasl::callback::{Context, Request, SessionCallback, SessionData};
use rsasl::mechanism::{Authentication, EmptyProvider, MechanismData};
use rsasl::mechname::Mechname;
use rsasl::prelude::{MessageSent, SASLClient, SASLConfig, Session, SessionError, State};
use rsasl::property::{AuthId, AuthzId, Password, Property};
use rsasl::registry::{Matches, Mechanism as RsaslMechanism, Named, Registry, Side};

use super::cram_md5::CramMd5Client;
use super::digest_md5::DigestMd5Client;
use super::scram::ScramClient;
use super::{AuthError, ChannelBindingType, Credentials, Mechanism, SaslConfig, ServerOffer};

/// What a mechanism step produced.
#[derive(Debug)]
pub(crate) enum Step {
    /// Send this and wait for the server.
    Continue(Vec<u8>),
    /// The mechanism is done; send this if `Some` (an answer to a challenge).
    Finished(Option<Vec<u8>>),
}

/// Test-only overrides. Not public API.
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct TestHooks {
    /// The SCRAM client nonce or the DIGEST-MD5 cnonce, instead of a random one.
    pub nonce: Option<String>,
    /// The DIGEST-MD5 service (`digest-uri` is `<service>/<domain>`) instead of `xmpp`.
    pub service: Option<String>,
}

/// Everything a mechanism needs for one attempt.
#[derive(Clone)]
pub(crate) struct MechParams {
    pub(crate) credentials: Credentials,
    pub(crate) authzid: Option<String>,
    pub(crate) domain: String,
    pub(crate) channel_binding: Option<(ChannelBindingType, Vec<u8>)>,
    /// What the server offered, when the caller told us (XEP-0474, GS2 flag).
    pub(crate) offer: Option<ServerOffer>,
    pub(crate) hooks: TestHooks,
    /// SCRAM keys to reuse, and where to keep the ones derived ([`SaslConfig::scram_cache`]).
    pub(crate) scram_cache: Option<super::ScramKeyCache>,
}

/// The rsasl property through which moxl's mechanisms get their [`MechParams`].
struct Params;
impl Property<'_> for Params {
    type Value = MechParams;
}

/// Answers rsasl's property requests from the attempt's parameters.
struct Callback {
    params: MechParams,
}

impl SessionCallback for Callback {
    fn callback(&self, _: &SessionData, _: &Context<'_>, request: &mut Request<'_>) -> Result<(), SessionError> {
        // `satisfy` returns early (through `?`) once it has answered.
        request.satisfy::<Params>(&self.params)?;
        match &self.params.credentials {
            Credentials::Password { authcid, password } => {
                if let Some(authzid) = self.params.authzid.as_deref().filter(|a| !a.is_empty()) {
                    request.satisfy::<AuthzId>(authzid)?;
                }
                request.satisfy::<AuthId>(authcid)?.satisfy::<Password>(password.as_bytes())?;
            }
            Credentials::Anonymous { trace: Some(trace) } => {
                request.satisfy::<rsasl::mechanisms::anonymous::AnonymousToken>(trace)?;
            }
            Credentials::Anonymous { trace: None } => {}
        }
        Ok(())
    }
}

fn boxed(e: AuthError) -> SessionError {
    SessionError::Boxed(Box::new(e))
}

/// A moxl mechanism as an rsasl [`Authentication`].
struct Adapter {
    kind: Mechanism,
    inner: Option<Inner>,
}

enum Inner {
    Scram(ScramClient),
    DigestMd5(DigestMd5Client),
    CramMd5(CramMd5Client),
}

impl Adapter {
    const fn new(kind: Mechanism) -> Adapter {
        Adapter { kind, inner: None }
    }
}

impl Authentication for Adapter {
    fn step(
        &mut self,
        session: &mut MechanismData<'_, '_>,
        input: Option<&[u8]>,
        writer: &mut dyn Write,
    ) -> Result<State, SessionError> {
        let inner = match &mut self.inner {
            Some(inner) => inner,
            slot @ None => {
                let kind = self.kind;
                let built = session.need_with::<Params, _, _>(&EmptyProvider, |p| {
                    match kind {
                        Mechanism::DigestMd5 => DigestMd5Client::new(p).map(Inner::DigestMd5),
                        Mechanism::CramMd5 => CramMd5Client::new(p).map(Inner::CramMd5),
                        m => ScramClient::new(m, p).map(Inner::Scram),
                    }
                    .map_err(boxed)
                })?;
                slot.insert(built)
            }
        };
        let step = match inner {
            Inner::Scram(m) => m.step(input),
            Inner::DigestMd5(m) => m.step(input),
            Inner::CramMd5(m) => m.step(input),
        }
        .map_err(boxed)?;
        Ok(match step {
            Step::Continue(out) => {
                writer.write_all(&out)?;
                State::Running
            }
            Step::Finished(Some(out)) => {
                writer.write_all(&out)?;
                State::Finished(MessageSent::Yes)
            }
            Step::Finished(None) => State::Finished(MessageSent::No),
        })
    }
}

/// Declares an rsasl mechanism backed by [`Adapter`].
macro_rules! moxl_mechanism {
    ($static:ident, $selector:ident, $name:literal, $kind:expr, $first:expr) => {
        static $static: RsaslMechanism = RsaslMechanism::build(
            Mechname::const_new_unchecked($name),
            0,
            Some(|| Ok(Box::new(Adapter::new($kind)))),
            None,
            $first,
            |_| Some(Matches::<$selector>::name()),
            |_| true,
        );
        struct $selector;
        impl Named for $selector {
            fn mech() -> &'static RsaslMechanism {
                &$static
            }
        }
    };
}

moxl_mechanism!(SCRAM_SHA512_PLUS, SelScramSha512Plus, b"SCRAM-SHA-512-PLUS", Mechanism::ScramSha512Plus, Side::Client);
moxl_mechanism!(SCRAM_SHA256_PLUS, SelScramSha256Plus, b"SCRAM-SHA-256-PLUS", Mechanism::ScramSha256Plus, Side::Client);
moxl_mechanism!(SCRAM_SHA1_PLUS, SelScramSha1Plus, b"SCRAM-SHA-1-PLUS", Mechanism::ScramSha1Plus, Side::Client);
moxl_mechanism!(SCRAM_SHA512, SelScramSha512, b"SCRAM-SHA-512", Mechanism::ScramSha512, Side::Client);
moxl_mechanism!(SCRAM_SHA256, SelScramSha256, b"SCRAM-SHA-256", Mechanism::ScramSha256, Side::Client);
moxl_mechanism!(SCRAM_SHA1, SelScramSha1, b"SCRAM-SHA-1", Mechanism::ScramSha1, Side::Client);
moxl_mechanism!(DIGEST_MD5, SelDigestMd5, b"DIGEST-MD5", Mechanism::DigestMd5, Side::Server);
moxl_mechanism!(CRAM_MD5, SelCramMd5, b"CRAM-MD5", Mechanism::CramMd5, Side::Server);

/// Every mechanism the rsasl registry of a session knows: moxl's, and rsasl's PLAIN and ANONYMOUS.
static MECHANISMS: [RsaslMechanism; 10] = [
    SCRAM_SHA512_PLUS,
    SCRAM_SHA256_PLUS,
    SCRAM_SHA1_PLUS,
    SCRAM_SHA512,
    SCRAM_SHA256,
    SCRAM_SHA1,
    DIGEST_MD5,
    CRAM_MD5,
    rsasl::mechanisms::plain::PLAIN,
    rsasl::mechanisms::anonymous::ANONYMOUS,
];

/// Maps an error out of rsasl back to ours.
fn from_rsasl(e: SessionError) -> AuthError {
    match e {
        SessionError::Boxed(inner) => match inner.downcast::<AuthError>() {
            Ok(ours) => *ours,
            Err(other) => AuthError::Internal(other.to_string()),
        },
        // rsasl's PLAIN refuses empty values and NUL bytes this way.
        SessionError::MechanismError(e) => AuthError::Config(e.to_string()),
        SessionError::MutualAuthenticationFailed => {
            AuthError::ServerMisbehaved("the server failed mutual authentication".into())
        }
        SessionError::InputDataRequired => {
            AuthError::ServerMisbehaved("the server sent nothing where the mechanism needs data".into())
        }
        other => AuthError::Internal(format!("rsasl: {other}")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Finished,
    Failed,
}

/// One SASL authentication attempt, sans I/O: the stream layer sends `<auth mechanism='…'>` with
/// [`initial_response`](SaslSession::initial_response), answers each `<challenge/>` with
/// [`step`](SaslSession::step), and on `<success/>` calls [`finish`](SaslSession::finish), which checks the
/// server's proof (SCRAM `v=`, DIGEST-MD5 `rspauth`). Only after `finish` returns `Ok` is the server
/// authenticated to us. On `<failure/>`, see [`AuthError::from_failure`].
///
/// Data is raw bytes: base64 is the stream layer's business (RFC 6120 §6.4.2: an empty initial response is
/// sent as `=`).
///
/// ```
/// use moxl_core::auth::{choose, SaslConfig, SaslSession, TlsState};
/// let config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
/// let mechanism = choose(&["SCRAM-SHA-1", "PLAIN"], &config, TlsState::Tls)?;
/// let session = SaslSession::start(mechanism, &config)?;
/// let first = session.initial_response().unwrap();
/// assert!(first.starts_with(b"n,,n=juliet,r="));
/// # Ok::<(), moxl_core::auth::AuthError>(())
/// ```
pub struct SaslSession {
    mechanism: Mechanism,
    session: Session,
    initial: Option<Vec<u8>>,
    phase: Phase,
    /// How many challenges the server sent (for SCRAM, none means it has not seen a proof of the password yet).
    challenges: usize,
}

impl fmt::Debug for SaslSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslSession").field("mechanism", &self.mechanism).field("phase", &self.phase).finish()
    }
}

impl SaslSession {
    /// Starts an attempt with `mechanism` (normally from [`choose`](super::choose)). Without the server's offer
    /// there is no XEP-0474 check; prefer [`start_with_offer`](SaslSession::start_with_offer).
    pub fn start(mechanism: Mechanism, config: &SaslConfig) -> Result<SaslSession, AuthError> {
        SaslSession::start_inner(mechanism, config, None, TestHooks::default())
    }

    /// Starts an attempt knowing what the server offered (normally with
    /// [`choose_offer`](super::choose_offer)):
    ///
    /// - SCRAM checks the XEP-0474 hash when the server sends one (`h=`, or `d=` from servers implementing
    ///   version 0.3.0) against `offer`, and fails with [`AuthError::Downgrade`] if they differ.
    /// - Non-`-PLUS` SCRAM with channel-binding data says `n` instead of `y` in its GS2 header when the server
    ///   offers `-PLUS` mechanisms (XEP-0474 §7): otherwise a server that could bind would take it for a
    ///   downgrade.
    pub fn start_with_offer(
        mechanism: Mechanism,
        config: &SaslConfig,
        offer: &ServerOffer,
    ) -> Result<SaslSession, AuthError> {
        SaslSession::start_inner(mechanism, config, Some(offer.clone()), TestHooks::default())
    }

    /// [`start`](SaslSession::start) with test-only overrides (fixed nonces for the RFC test vectors). Not
    /// public API.
    #[doc(hidden)]
    pub fn start_with_test_hooks(
        mechanism: Mechanism,
        config: &SaslConfig,
        offer: Option<&ServerOffer>,
        hooks: TestHooks,
    ) -> Result<SaslSession, AuthError> {
        SaslSession::start_inner(mechanism, config, offer.cloned(), hooks)
    }

    fn start_inner(
        mechanism: Mechanism,
        config: &SaslConfig,
        offer: Option<ServerOffer>,
        hooks: TestHooks,
    ) -> Result<SaslSession, AuthError> {
        match (&config.credentials, mechanism) {
            (Credentials::Anonymous { .. }, Mechanism::Anonymous) => {}
            (Credentials::Anonymous { .. }, m) => return Err(AuthError::Config(format!("{m} needs a password"))),
            (Credentials::Password { .. }, Mechanism::Anonymous) => {
                return Err(AuthError::Config("ANONYMOUS was not asked for (the credentials have a password)".into()))
            }
            (Credentials::Password { authcid, password }, _) if authcid.is_empty() || password.is_empty() => {
                return Err(AuthError::Config("empty username or password".into()))
            }
            (Credentials::Password { .. }, _) => {}
        }
        if mechanism.is_plus() && config.channel_binding.is_none() {
            return Err(AuthError::Config(format!("{mechanism} needs channel-binding data")));
        }
        let params = MechParams {
            credentials: config.credentials.clone(),
            authzid: config.authzid.clone(),
            domain: config.domain.clone(),
            channel_binding: config.channel_binding.clone(),
            offer,
            hooks,
            scram_cache: config.scram_cache.clone(),
        };
        let sasl_config = SASLConfig::builder()
            .with_registry(Registry::with_mechanisms(&MECHANISMS))
            .with_callback(Callback { params })
            .map_err(|e| AuthError::Internal(format!("rsasl config: {e}")))?;
        let name = Mechname::parse(mechanism.name().as_bytes())
            .map_err(|e| AuthError::Internal(format!("mechanism name: {e}")))?;
        let session = SASLClient::new(sasl_config)
            .start_suggested(&[name])
            .map_err(|e| AuthError::Internal(format!("rsasl cannot start {mechanism}: {e}")))?;
        let mut this = SaslSession { mechanism, session, initial: None, phase: Phase::Running, challenges: 0 };
        if this.session.are_we_first() {
            let mut out = Vec::new();
            match this.session.step(None, &mut out).map_err(from_rsasl)? {
                State::Running => {}
                State::Finished(_) => this.phase = Phase::Finished,
            }
            this.initial = Some(out);
        }
        Ok(this)
    }

    /// The mechanism of this attempt.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// The initial response to send in `<auth/>`: `Some` for client-first mechanisms (possibly empty, sent as
    /// `=`), `None` for DIGEST-MD5 and CRAM-MD5, where the server starts.
    pub fn initial_response(&self) -> Option<Vec<u8>> {
        self.initial.clone()
    }

    /// Whether the mechanism has finished (the server's proof, if the mechanism has one, was checked).
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// Answers a `<challenge/>` (decoded). The answer may be empty (sent as an empty `<response/>`), as after a
    /// DIGEST-MD5 `rspauth` or a SCRAM server-final-message sent as a challenge.
    pub fn step(&mut self, challenge: &[u8]) -> Result<Vec<u8>, AuthError> {
        match self.phase {
            Phase::Running => {}
            Phase::Finished => {
                self.phase = Phase::Failed;
                return Err(AuthError::ServerMisbehaved(format!("a challenge after {} finished", self.mechanism)));
            }
            Phase::Failed => return Err(AuthError::Internal("this SASL attempt already failed".into())),
        }
        self.challenges += 1;
        let mut out = Vec::new();
        match self.session.step(Some(challenge), &mut out) {
            Ok(State::Running) => Ok(out),
            Ok(State::Finished(_)) => {
                self.phase = Phase::Finished;
                Ok(out)
            }
            Err(e) => {
                self.phase = Phase::Failed;
                Err(from_rsasl(e))
            }
        }
    }

    /// Maps the server's `<failure/>` (RFC 6120 §6.5: `condition` is the child element's name, `text` the optional
    /// `<text/>`) for this attempt, like [`AuthError::from_failure`] except that a `-PLUS` attempt refused before
    /// the server saw any proof of the password (no challenge answered yet: ejabberd checks the GS2 header of the
    /// client-first-message), or with a text naming the channel binding, is
    /// [`AuthError::ChannelBindingRejected`]: the password was not judged, so "bad credentials" would be wrong.
    ///
    /// ```
    /// use moxl_core::auth::{AuthError, ChannelBindingType, Mechanism, SaslConfig, SaslSession};
    /// let mut config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
    /// config.channel_binding = Some((ChannelBindingType::TlsExporter, vec![0; 32]));
    /// let session = SaslSession::start(Mechanism::ScramSha256Plus, &config)?;
    /// let err = session.failure("not-authorized", Some("Invalid channel binding"));
    /// assert!(matches!(err, AuthError::ChannelBindingRejected(_)));
    /// let plain = SaslSession::start(Mechanism::Plain, &config)?;
    /// assert!(matches!(plain.failure("not-authorized", None), AuthError::BadCredentials(_)));
    /// # Ok::<(), AuthError>(())
    /// ```
    pub fn failure(&self, condition: &str, text: Option<&str>) -> AuthError {
        let error = AuthError::from_failure(condition, text);
        if !self.mechanism.is_plus() {
            return error;
        }
        let names_binding = text.is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.contains("channel binding") || t.contains("channel-binding") || t.contains("cbind")
        });
        let before_proof = self.mechanism.is_scram() && self.challenges == 0;
        match error {
            AuthError::BadCredentials(message) | AuthError::Rejected(message) if names_binding || before_proof => {
                AuthError::ChannelBindingRejected(format!(
                    "{message} (the server refused {} before judging the password)",
                    self.mechanism
                ))
            }
            other => other,
        }
    }

    /// Handles `<success/>` with its additional data (decoded; `None` or empty when there is none). Checks the
    /// server's proof: a SCRAM server-final-message (`v=`) or a DIGEST-MD5 `rspauth` must have come, here or in
    /// an earlier challenge. Data the mechanism does not expect is an error.
    pub fn finish(&mut self, success_data: Option<&[u8]>) -> Result<(), AuthError> {
        let data = success_data.filter(|d| !d.is_empty());
        match self.phase {
            Phase::Failed => Err(AuthError::Internal("this SASL attempt already failed".into())),
            Phase::Finished if data.is_none() => Ok(()),
            Phase::Finished => {
                self.phase = Phase::Failed;
                Err(AuthError::ServerMisbehaved(format!(
                    "additional data with <success/> after {} finished",
                    self.mechanism
                )))
            }
            Phase::Running => {
                let mut out = Vec::new();
                let result = match self.session.step(data, &mut out) {
                    Ok(State::Finished(_)) if out.is_empty() => Ok(()),
                    Ok(_) => {
                        Err(AuthError::ServerMisbehaved(format!("<success/> before {} was complete", self.mechanism)))
                    }
                    Err(e) => Err(from_rsasl(e)),
                };
                self.phase = if result.is_ok() { Phase::Finished } else { Phase::Failed };
                result
            }
        }
    }
}
