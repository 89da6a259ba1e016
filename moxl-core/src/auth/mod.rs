//! SASL authentication (RFC 6120 §6), sans I/O.
//!
//! The stream layer picks a mechanism with [`choose_offer`] (or [`choose`]) from what the server offered, runs
//! one [`SaslSession`] per attempt, and maps a `<failure/>` with [`AuthError::from_failure`]:
//!
//! ```
//! use moxl_core::auth::{choose_offer, SaslConfig, SaslSession, ServerOffer, TlsState};
//! let config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
//! let offer = ServerOffer::new(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-1"]);
//! let mechanism = choose_offer(&offer, &config, TlsState::Tls)?;
//! let mut session = SaslSession::start_with_offer(mechanism, &config, &offer)?;
//! let auth_payload = session.initial_response(); // into <auth mechanism='SCRAM-SHA-256'>
//! // for each <challenge/>: let response = session.step(&challenge)?;
//! // on <success/>:         session.finish(additional_data.as_deref())?;
//! # let _ = (auth_payload, &mut session);
//! # Ok::<(), moxl_core::auth::AuthError>(())
//! ```
//!
//! # Mechanisms
//!
//! | mechanism | implementation | server proves it knows the password |
//! | --- | --- | --- |
//! | `SCRAM-SHA-512(-PLUS)`, `SCRAM-SHA-256(-PLUS)`, `SCRAM-SHA-1(-PLUS)` | moxl (RFC 5802, RFC 7677) | yes: `v=` is checked |
//! | `DIGEST-MD5` | moxl (RFC 2831) | yes: `rspauth` is checked |
//! | `CRAM-MD5` | moxl (RFC 2195) | no |
//! | `PLAIN`, `ANONYMOUS` | rsasl | no |
//!
//! All of them run inside rsasl's session machinery; moxl's own ones through its custom-mechanism API
//! (feature `unstable_custom_mechanism`, which is why rsasl is pinned to an exact version). SCRAM is moxl's
//! rather than rsasl's because rsasl 2.3.1's SCRAM client signs a rebuilt server-first-message without its
//! extension attributes, which breaks against every server implementing XEP-0474 (see `scram.rs`).
//!
//! # Policy
//!
//! - Preference, strongest first, configurable: `SCRAM-SHA-512-PLUS`, `SCRAM-SHA-256-PLUS`, `SCRAM-SHA-1-PLUS`,
//!   `SCRAM-SHA-512`, `SCRAM-SHA-256`, `SCRAM-SHA-1`, `DIGEST-MD5`, `CRAM-MD5`, `PLAIN`
//!   ([`Mechanism::DEFAULT_PREFERENCE`]). `ANONYMOUS` only for [`Credentials::Anonymous`]. The order of the
//!   server's `<mechanism/>` elements never matters.
//! - `-PLUS` only with channel-binding data ([`SaslConfig::channel_binding`]) of a type the server is known to
//!   accept: listed by it (XEP-0440), told by the application ([`SaslConfig::known_channel_bindings`]), or pinned
//!   from an earlier login ([`SaslConfig::pinned`]). Never guessed from the TLS version (see [`choose_offer`]).
//! - A refused channel binding is [`AuthError::ChannelBindingRejected`], not bad credentials; the
//!   [`SaslAuthenticator`] then retries once on the same stream without binding, unless the preference allows
//!   only `-PLUS`.
//! - Mechanism pinning ([`SaslConfig::pinned`]): nothing weaker than what the account used before, unless
//!   [`SaslConfig::allow_downgrade`]; the error is [`AuthError::BelowPinned`].
//! - Over cleartext, all three weak mechanisms are refused: `PLAIN` (the password itself), and `CRAM-MD5` and
//!   `DIGEST-MD5` (an eavesdropper gets an unsalted MD5-based response to run a dictionary against), unless
//!   [`SaslConfig::allow_plain_in_cleartext`]. SCRAM is allowed: what it shows an eavesdropper is salted and
//!   stretched.
//! - SCRAM refuses iteration counts below 4096 (RFC 7677 §4) or above 10 000 000.
//! - SCRAM keeps ClientKey and ServerKey per account, mechanism, salt and iteration count in a [`ScramKeyCache`]
//!   ([`SaslConfig::scram_cache`], RFC 5802 §5.1), so that a re-login to the same server runs no PBKDF2; a login
//!   refused with cached keys is retried once with keys derived from the password. The keys are a login secret
//!   for that server ([`ScramKeys`]).
//!
//! # Downgrade protection (XEP-0474)
//!
//! With [`SaslSession::start_with_offer`], SCRAM checks the hash of the offered mechanisms and channel-binding
//! types that the server puts in its server-first-message (XEP-0474 0.5.0 §6.1–6.2: attribute `h`; servers
//! implementing 0.3.0, such as ejabberd's and Prosody's `mod_sasl_ssdp`, send attribute `d` with other
//! delimiters; both are checked). The SCRAM signatures cover the attribute, so a man in the middle can change
//! neither the offer nor the hash without failing the exchange. A server that sends neither is not checked.

mod authenticator;
mod config;
mod cram_md5;
mod digest_md5;
mod error;
mod scram;
mod session;
mod ssdp;
mod util;

pub use authenticator::SaslAuthenticator;
pub use config::{
    choose, choose_offer, ChannelBindingType, Credentials, Mechanism, MechanismPin, SaslConfig, ServerOffer, TlsState,
};
pub use error::AuthError;
pub use scram::{ScramKeyCache, ScramKeys};
pub use session::SaslSession;
#[doc(hidden)]
pub use session::TestHooks;
