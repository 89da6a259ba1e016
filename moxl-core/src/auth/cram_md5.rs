//! CRAM-MD5 client (RFC 2195 §2): the response is the username, a space, and the lower-case hex
//! HMAC-MD5 (RFC 2104) of the server's challenge keyed with the password.
//!
//! CRAM-MD5 has no server authentication: `<success/>` is all the client gets.

use hmac::{Hmac, Mac};
use md5::Md5;

use super::session::{MechParams, Step};
use super::util::hex;
use super::{AuthError, Credentials};

/// A CRAM-MD5 client exchange, sans I/O.
pub(crate) struct CramMd5Client {
    authcid: String,
    password: String,
    answered: bool,
}

impl std::fmt::Debug for CramMd5Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CramMd5Client").field("answered", &self.answered).finish_non_exhaustive()
    }
}

impl CramMd5Client {
    pub(crate) fn new(params: &MechParams) -> Result<CramMd5Client, AuthError> {
        let Credentials::Password { authcid, password } = &params.credentials else {
            return Err(AuthError::Config("CRAM-MD5 needs a password".into()));
        };
        if authcid.is_empty() || password.is_empty() {
            return Err(AuthError::Config("empty username or password".into()));
        }
        Ok(CramMd5Client { authcid: authcid.clone(), password: password.clone(), answered: false })
    }

    pub(crate) fn step(&mut self, input: Option<&[u8]>) -> Result<Step, AuthError> {
        match input {
            _ if self.answered => Err(AuthError::ServerMisbehaved("data after the CRAM-MD5 response".into())),
            Some(challenge) if !challenge.is_empty() => {
                let mut mac = <Hmac<Md5> as Mac>::new_from_slice(self.password.as_bytes())
                    .map_err(|e| AuthError::Internal(format!("HMAC key: {e}")))?;
                mac.update(challenge);
                let digest = hex(&mac.finalize().into_bytes());
                self.answered = true;
                Ok(Step::Finished(Some(format!("{} {digest}", self.authcid).into_bytes())))
            }
            _ => Err(AuthError::ServerMisbehaved("CRAM-MD5 needs a non-empty challenge from the server".into())),
        }
    }
}
