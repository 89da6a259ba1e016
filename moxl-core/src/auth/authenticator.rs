//! [`SaslAuthenticator`]: the SASL mechanisms of this module as the negotiator's
//! [`Authenticator`](crate::stream::Authenticator).

use super::{choose_offer, SaslConfig, SaslSession, ServerOffer, TlsState};
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
        SaslAuthenticator { config, session: None }
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
        let mechanism = choose_offer(&offer, &self.config, tls)?;
        let session = SaslSession::start_with_offer(mechanism, &self.config, &offer)?;
        let initial = session.initial_response();
        self.session = Some(session);
        Ok((mechanism.name().to_owned(), initial))
    }

    fn challenge(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        Ok(self.session()?.step(data)?)
    }

    fn success(&mut self, data: Option<&[u8]>) -> Result<()> {
        Ok(self.session()?.finish(data)?)
    }

    fn set_channel_binding(&mut self, binding: Option<crate::transport::ChannelBinding>) {
        self.config.channel_binding = binding;
    }
}
