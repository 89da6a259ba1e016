//! [`SaslAuthenticator`]: the SASL mechanisms of this module as the negotiator's
//! [`Authenticator`](crate::stream::Authenticator).

use super::config::choose_with;
use super::{
    AuthError, ChannelBindingType, Mechanism, MechanismPin, SaslConfig, SaslSession, ScramKeyCache, ServerOffer,
    TlsState,
};
use crate::Result;

/// Runs one SASL attempt for the stream negotiator: chooses by preference among what the server offers
/// (respecting XEP-0440 channel-binding types), checks XEP-0474 downgrade protection, and verifies the server's
/// final message.
///
/// ```
/// use moxl_core::auth::{SaslAuthenticator, SaslConfig};
/// use moxl_core::stream::Authenticator;
/// let mut auth = SaslAuthenticator::new(SaslConfig::password("juliet", "secret", "example.com"));
/// let offered = ["PLAIN".to_owned(), "SCRAM-SHA-1".to_owned()];
/// let (mechanism, first) = auth.start(&offered, true, &[])?;
/// assert_eq!(mechanism, "SCRAM-SHA-1");
/// assert!(first.is_some_and(|m| m.starts_with(b"n,,n=juliet,r=")));
/// // over cleartext, PLAIN is never chosen
/// let mut auth = SaslAuthenticator::new(SaslConfig::password("juliet", "secret", "example.com"));
/// assert!(auth.start(&["PLAIN".to_owned()], false, &[]).is_err());
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub struct SaslAuthenticator {
    config: SaslConfig,
    session: Option<SaslSession>,
    /// The offer and encryption of the current exchange, for a retry on the same stream.
    offer: Option<(ServerOffer, TlsState)>,
    /// Whether the server already refused our channel binding on this stream (then no `-PLUS` again).
    binding_refused: bool,
    /// The mechanism and binding that succeeded.
    succeeded: Option<MechanismPin>,
    /// [`ScramKeyCache::reuses`] when the current attempt began: a higher count at its failure means it logged in
    /// with cached keys.
    reuses_at_start: u64,
    /// Whether this stream already retried after cached keys were refused.
    cache_refused: bool,
}

/// Shows the configuration (whose `Debug` hides the secrets) and whether an exchange began.
impl std::fmt::Debug for SaslAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslAuthenticator")
            .field("config", &self.config)
            .field("started", &self.session.is_some())
            .finish()
    }
}

impl SaslAuthenticator {
    /// An authenticator for these credentials and settings.
    pub fn new(config: SaslConfig) -> Self {
        SaslAuthenticator {
            config,
            session: None,
            offer: None,
            binding_refused: false,
            succeeded: None,
            reuses_at_start: 0,
            cache_refused: false,
        }
    }

    /// Starts an attempt with `mechanism` and remembers it.
    fn begin(&mut self, mechanism: Mechanism, offer: &ServerOffer) -> Result<(String, Option<Vec<u8>>)> {
        self.reuses_at_start = self.config.scram_cache.as_ref().map_or(0, ScramKeyCache::reuses);
        let session = SaslSession::start_with_offer(mechanism, &self.config, offer)?;
        let initial = session.initial_response();
        self.session = Some(session);
        Ok((mechanism.name().to_owned(), initial))
    }

    /// RFC 5802 §5.1: when the server refused a SCRAM login made with cached keys (its password changed but not
    /// its salt, or the keys were wrong), they are dropped and the login is tried once more on the same stream
    /// (RFC 6120 §6.4.5), with keys derived from the password. `None`: the attempt used no cached keys.
    fn after_cached_keys_refused(
        &mut self,
        mechanism: Mechanism,
        why: &str,
    ) -> Option<Result<(String, Option<Vec<u8>>)>> {
        let cache = self.config.scram_cache.as_ref()?;
        if self.cache_refused || cache.reuses() <= self.reuses_at_start {
            return None;
        }
        let super::Credentials::Password { authcid, .. } = &self.config.credentials else { return None };
        cache.remove(authcid, mechanism);
        self.cache_refused = true;
        let (offer, _) = self.offer.clone()?;
        tracing::info!(%why, %mechanism, "the server refused the cached SCRAM keys: deriving them from the password");
        Some(self.begin(mechanism, &offer))
    }

    fn session(&mut self) -> Result<&mut SaslSession> {
        self.session
            .as_mut()
            .ok_or_else(|| crate::stream::NegotiationError::protocol("SASL message before the exchange began").into())
    }
}

impl crate::stream::Authenticator for SaslAuthenticator {
    fn start(
        &mut self,
        offered: &[String],
        secure: bool,
        channel_binding_types: &[String],
    ) -> Result<(String, Option<Vec<u8>>)> {
        let mut offer = ServerOffer::new(offered.iter().cloned());
        if !channel_binding_types.is_empty() {
            offer = offer.with_channel_bindings(channel_binding_types.iter().cloned());
        }
        let tls = if secure { TlsState::Tls } else { TlsState::Cleartext };
        let mechanism = choose_with(&offer, &self.config, tls, !self.binding_refused)?;
        let started = self.begin(mechanism, &offer);
        self.offer = Some((offer, tls));
        started
    }

    /// A refused `-PLUS` attempt ([`AuthError::ChannelBindingRejected`]) is retried once on the same stream (RFC
    /// 6120 §6.4.5 lets the client try again) with the best mechanism without channel binding, unless the
    /// preference allows nothing else (the application pinned `-PLUS`) or the account is pinned to `-PLUS`
    /// ([`SaslConfig::pinned`]: then [`AuthError::BelowPinned`]). Every other failure is final here.
    fn failure(&mut self, condition: &str, text: Option<&str>) -> Result<(String, Option<Vec<u8>>)> {
        let error = match &self.session {
            Some(session) => session.failure(condition, text),
            None => AuthError::from_failure(condition, text),
        };
        let failed = self.session.take().map(|s| s.mechanism());
        if let (AuthError::BadCredentials(why), Some(mechanism)) = (&error, failed) {
            if let Some(retry) = self.after_cached_keys_refused(mechanism, why) {
                return retry;
            }
        }
        let AuthError::ChannelBindingRejected(why) = &error else { return Err(error.into()) };
        if self.binding_refused {
            return Err(error.into());
        }
        self.binding_refused = true;
        let Some((offer, tls)) = self.offer.clone() else { return Err(error.into()) };
        let mechanism = match choose_with(&offer, &self.config, tls, false) {
            Ok(m) => m,
            Err(AuthError::BelowPinned(more)) => {
                return Err(
                    AuthError::BelowPinned(format!("the server refused our channel binding ({why}); {more}")).into()
                )
            }
            // Nothing without binding is allowed: the binding error is the one to report.
            Err(_) => return Err(error.into()),
        };
        tracing::warn!(
            %why,
            retry = %mechanism,
            "the server refused our channel binding: retrying once without it"
        );
        self.begin(mechanism, &offer)
    }

    fn challenge(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        Ok(self.session()?.step(data)?)
    }

    fn success(&mut self, data: Option<&[u8]>) -> Result<()> {
        let session = self.session()?;
        session.finish(data)?;
        let mechanism = session.mechanism();
        let binding: Option<ChannelBindingType> = self.config.channel_binding.as_ref().map(|(cb, _)| *cb);
        self.succeeded = Some(MechanismPin::new(mechanism, binding));
        Ok(())
    }

    fn succeeded(&self) -> Option<MechanismPin> {
        self.succeeded
    }

    fn set_pin(&mut self, pin: Option<MechanismPin>) {
        self.config.pinned = pin;
    }

    fn set_channel_binding(&mut self, binding: Option<crate::transport::ChannelBinding>) {
        self.config.channel_binding = binding;
    }
}
