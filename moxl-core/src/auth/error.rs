//! [`AuthError`]: why a SASL attempt failed, by whose fault.

/// Why a SASL authentication attempt failed.
///
/// The variants separate what the caller must do next:
///
/// - [`BadCredentials`](AuthError::BadCredentials) is final: retrying with the same credentials cannot succeed.
/// - [`TemporaryFailure`](AuthError::TemporaryFailure) may succeed later with the same credentials.
/// - [`Rejected`](AuthError::Rejected) is a refusal of this attempt (policy, mechanism, encoding); another
///   mechanism or configuration may work.
/// - [`ServerMisbehaved`](AuthError::ServerMisbehaved) means the server broke the mechanism: a malformed
///   challenge, a wrong or missing SCRAM server signature or DIGEST-MD5 `rspauth`. The server did not prove that
///   it knows the password, so the session must not be used.
/// - [`Downgrade`](AuthError::Downgrade) means someone changed what the server offered (XEP-0474) or stripped
///   channel binding: treat it as an active man-in-the-middle and do not retry on this connection.
/// - [`NoAcceptableMechanism`](AuthError::NoAcceptableMechanism) means nothing offered is acceptable under the
///   configuration (for instance only PLAIN, over cleartext).
/// - [`ChannelBindingRejected`](AuthError::ChannelBindingRejected) means the server refused our channel binding
///   (a `-PLUS` attempt), not the credentials: the client retries once without binding, unless the application
///   allows only `-PLUS`.
/// - [`BelowPinned`](AuthError::BelowPinned) means the server offered only mechanisms weaker than the one this
///   account used before (mechanism pinning): possibly a downgrade attack; the application may allow it.
/// - [`Config`](AuthError::Config) means the local configuration cannot be used (empty password, a password
///   SASLprep rejects, a `-PLUS` mechanism without channel-binding data).
///
/// ```
/// use moxl_core::auth::AuthError;
/// assert!(matches!(AuthError::from_failure("not-authorized", None), AuthError::BadCredentials(_)));
/// assert!(matches!(AuthError::from_failure("temporary-auth-failure", None), AuthError::TemporaryFailure(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The server refused the credentials (RFC 6120 §6.5 `not-authorized`, `credentials-expired`,
    /// `account-disabled`, `invalid-authzid`; SCRAM `e=invalid-proof` or `e=unknown-user`). Final: do not retry
    /// with the same credentials.
    #[error("bad credentials: {0}")]
    BadCredentials(String),
    /// The server could not authenticate now (`temporary-auth-failure`, SCRAM `e=no-resources`); retrying later
    /// may work.
    #[error("temporary authentication failure: {0}")]
    TemporaryFailure(String),
    /// The server refused this attempt for a reason other than the credentials (`mechanism-too-weak`,
    /// `encryption-required`, `invalid-mechanism`, `malformed-request`, `incorrect-encoding`, `aborted`, a SCRAM
    /// channel-binding error, or a condition this crate does not know).
    #[error("authentication rejected: {0}")]
    Rejected(String),
    /// The server broke the mechanism: malformed challenge, wrong or missing server signature (SCRAM `v=`,
    /// DIGEST-MD5 `rspauth`), data where none may be, success before the mechanism finished.
    #[error("server misbehaved: {0}")]
    ServerMisbehaved(String),
    /// A downgrade was detected: the XEP-0474 hash of the offered mechanisms and channel-binding types does not
    /// match what the server signed, or the server says it supports channel binding after we were told it does
    /// not (RFC 5802 §6). Possibly an active man-in-the-middle.
    #[error("downgrade detected: {0}")]
    Downgrade(String),
    /// The server refused the channel binding of a `-PLUS` attempt (SCRAM `e=channel-bindings-dont-match` and the
    /// like, a `<failure/>` before the client sent any proof of the password, or one whose text names the
    /// binding). Not a verdict on the credentials.
    #[error("channel binding rejected: {0}")]
    ChannelBindingRejected(String),
    /// The server offered only mechanisms weaker than the one this account authenticated with before
    /// ([`SaslConfig::pinned`](super::SaslConfig::pinned)); refused unless
    /// [`SaslConfig::allow_downgrade`](super::SaslConfig::allow_downgrade).
    #[error("refusing a weaker mechanism than this account used before: {0}")]
    BelowPinned(String),
    /// None of the offered mechanisms is acceptable under the configuration.
    #[error("no acceptable mechanism: {0}")]
    NoAcceptableMechanism(String),
    /// The local configuration cannot be used with the chosen mechanism.
    #[error("configuration: {0}")]
    Config(String),
    /// The SASL session was used out of order, or the SASL framework failed in a way that is nobody's fault but
    /// ours.
    #[error("internal: {0}")]
    Internal(String),
}

impl AuthError {
    /// Maps a SASL `<failure/>` (RFC 6120 §6.5) to an error: `condition` is the child element's name (for
    /// instance `not-authorized`), `text` the optional `<text/>`.
    pub fn from_failure(condition: &str, text: Option<&str>) -> AuthError {
        let message = match text {
            Some(t) if !t.is_empty() => format!("{condition}: {t}"),
            _ => condition.to_owned(),
        };
        match condition {
            "not-authorized" | "credentials-expired" | "account-disabled" | "invalid-authzid" => {
                AuthError::BadCredentials(message)
            }
            "temporary-auth-failure" => AuthError::TemporaryFailure(message),
            _ => AuthError::Rejected(message),
        }
    }

    /// Maps a SCRAM `server-error` value (RFC 5802 §7).
    pub(crate) fn from_scram_error(value: &str) -> AuthError {
        let message = format!("SCRAM server error {value:?}");
        match value {
            "invalid-proof" | "unknown-user" => AuthError::BadCredentials(message),
            "no-resources" => AuthError::TemporaryFailure(message),
            // RFC 5802 §7: the channel-binding errors.
            "channel-bindings-dont-match" | "unsupported-channel-binding-type" | "channel-binding-not-supported" => {
                AuthError::ChannelBindingRejected(message)
            }
            "server-does-support-channel-binding" => AuthError::Downgrade(format!(
                "{message}: the server supports channel binding although it offered no -PLUS mechanism to us"
            )),
            _ => AuthError::Rejected(message),
        }
    }
}
