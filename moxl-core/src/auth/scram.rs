//! SCRAM client (RFC 5802; SHA-256 per RFC 7677), with channel binding (`-PLUS`, RFC 5802 §6) and XEP-0474
//! downgrade protection.
//!
//! Written here rather than taken from rsasl: rsasl 2.3.1's SCRAM client rebuilds the AuthMessage from the
//! parsed `r`, `s` and `i` attributes and drops every other attribute of the server-first-message, so its proof
//! is wrong whenever the server adds one (RFC 5802 §3 signs the message as sent). XEP-0474 servers always add
//! one. It also takes no fixed nonce, so the RFC test vectors cannot be run through it, and it slices
//! attributes without checking their length (a two-byte server message panics it).

use hmac::digest::core_api::BlockSizeUser;
use hmac::digest::{Digest, KeyInit};
use hmac::Mac;
use hmac::SimpleHmac;

use super::session::{MechParams, Step};
use super::ssdp::{ssdp_hash, SsdpForm};
use super::util::{b64, ct_eq, random_nonce, saslprep, unb64};
use super::{AuthError, Credentials, Mechanism};

/// The smallest iteration count accepted: RFC 7677 §4 says servers SHOULD announce at least 4096. A lower count
/// makes a captured exchange cheap to attack offline.
pub(crate) const MIN_ITERATIONS: u32 = 4096;
/// The largest iteration count accepted, so that a hostile server cannot make the client spin for minutes.
pub(crate) const MAX_ITERATIONS: u32 = 10_000_000;

/// The hash function of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScramHash {
    /// SHA-1 (RFC 5802).
    Sha1,
    /// SHA-256 (RFC 7677).
    Sha256,
    /// SHA-512 (`SCRAM-SHA-512`, registered at IANA from draft-melnikov-scram-sha-512; RFC 5802's algorithm with
    /// SHA-512, which ejabberd offers).
    Sha512,
}

impl ScramHash {
    /// H(data).
    pub(crate) fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            ScramHash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            ScramHash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// HMAC(key, data).
    pub(crate) fn hmac(self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, AuthError> {
        match self {
            ScramHash::Sha1 => hmac_with::<sha1::Sha1>(key, data),
            ScramHash::Sha256 => hmac_with::<sha2::Sha256>(key, data),
            ScramHash::Sha512 => hmac_with::<sha2::Sha512>(key, data),
        }
    }

    /// Hi(password, salt, i) of RFC 5802 §2.2: PBKDF2 with HMAC, one block.
    pub(crate) fn hi(self, password: &[u8], salt: &[u8], iterations: u32) -> Result<Vec<u8>, AuthError> {
        match self {
            ScramHash::Sha1 => hi_with::<sha1::Sha1>(password, salt, iterations),
            ScramHash::Sha256 => hi_with::<sha2::Sha256>(password, salt, iterations),
            ScramHash::Sha512 => hi_with::<sha2::Sha512>(password, salt, iterations),
        }
    }
}

fn new_mac<D: Digest + BlockSizeUser + Clone>(key: &[u8]) -> Result<SimpleHmac<D>, AuthError> {
    <SimpleHmac<D> as KeyInit>::new_from_slice(key).map_err(|e| AuthError::Internal(format!("HMAC key: {e}")))
}

fn hmac_with<D: Digest + BlockSizeUser + Clone>(key: &[u8], data: &[u8]) -> Result<Vec<u8>, AuthError> {
    let mut mac = new_mac::<D>(key)?;
    Mac::update(&mut mac, data);
    Ok(mac.finalize().into_bytes().to_vec())
}

fn hi_with<D: Digest + BlockSizeUser + Clone>(password: &[u8], salt: &[u8], i: u32) -> Result<Vec<u8>, AuthError> {
    let prf = new_mac::<D>(password)?;
    let mut mac = prf.clone();
    Mac::update(&mut mac, salt);
    Mac::update(&mut mac, &1u32.to_be_bytes());
    let mut u = mac.finalize().into_bytes();
    let mut out = u.clone();
    for _ in 1..i {
        let mut mac = prf.clone();
        Mac::update(&mut mac, &u);
        u = mac.finalize().into_bytes();
        out.iter_mut().zip(u.iter()).for_each(|(o, x)| *o ^= x);
    }
    Ok(out.to_vec())
}

/// `saslname` escaping (RFC 5802 §5.1): `,` and `=` become `=2C` and `=3D`.
fn escape_saslname(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

/// Whether every byte is a `printable` of RFC 5802 §7 (`%x21-2B / %x2D-7E`: visible ASCII but `,`).
fn printable(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, 0x21..=0x2b | 0x2d..=0x7e))
}

#[derive(Debug)]
enum State {
    /// The client-first-message is yet to be sent.
    Initial,
    /// Sent; waiting for the server-first-message.
    AwaitServerFirst { client_first_bare: String },
    /// Sent the client-final-message; waiting for `v=`.
    AwaitServerFinal { server_signature: Vec<u8> },
    /// The server proved it knows the password.
    Done,
    /// Failed; nothing more is accepted.
    Failed,
}

/// A SCRAM client exchange, sans I/O.
pub(crate) struct ScramClient {
    hash: ScramHash,
    state: State,
    /// The escaped, SASLprepped authcid.
    username: String,
    /// The SASLprepped password.
    password: String,
    /// `gs2-header` (RFC 5802 §7): flag, authzid, comma.
    gs2_header: String,
    /// The channel-binding data for `-PLUS`, else empty.
    cb_data: Vec<u8>,
    nonce: String,
    offer: Option<super::ServerOffer>,
}

impl std::fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramClient").field("hash", &self.hash).field("state", &self.state).finish_non_exhaustive()
    }
}

impl ScramClient {
    /// A client for `mechanism` (a SCRAM one).
    pub(crate) fn new(mechanism: Mechanism, params: &MechParams) -> Result<ScramClient, AuthError> {
        let hash = match mechanism {
            Mechanism::ScramSha1 | Mechanism::ScramSha1Plus => ScramHash::Sha1,
            Mechanism::ScramSha256 | Mechanism::ScramSha256Plus => ScramHash::Sha256,
            Mechanism::ScramSha512 | Mechanism::ScramSha512Plus => ScramHash::Sha512,
            other => return Err(AuthError::Internal(format!("{other} is not SCRAM"))),
        };
        let Credentials::Password { authcid, password } = &params.credentials else {
            return Err(AuthError::Config(format!("{mechanism} needs a password")));
        };
        let username = saslprep(authcid, "username")?;
        let password = saslprep(password, "password")?;
        if username.is_empty() || password.is_empty() {
            return Err(AuthError::Config("empty username or password".into()));
        }
        // RFC 5802 §6 and XEP-0474 §7 (new rule 6): "p=" with channel binding; "y" if we could bind but the
        // server offered no -PLUS (a server that supports binding then fails us: a stripped offer); "n" if we
        // cannot bind, or if the server offers -PLUS that we do not use (for instance because its XEP-0440 list
        // lacks our type), which XEP-0474 then protects.
        let (flag, cb_data) = match (&params.channel_binding, mechanism.is_plus()) {
            (Some((cb, data)), true) => (format!("p={}", cb.name()), data.clone()),
            (None, true) => return Err(AuthError::Config(format!("{mechanism} needs channel-binding data"))),
            (None, false) => ("n".to_owned(), Vec::new()),
            (Some(_), false) if params.offer.as_ref().is_some_and(|o| o.offers_plus()) => ("n".to_owned(), Vec::new()),
            (Some(_), false) => ("y".to_owned(), Vec::new()),
        };
        let authzid = match &params.authzid {
            Some(a) if !a.is_empty() => format!("a={}", escape_saslname(a)),
            _ => String::new(),
        };
        let nonce = match &params.hooks.nonce {
            Some(n) if printable(n) && !n.is_empty() => n.clone(),
            Some(_) => return Err(AuthError::Config("test nonce must be printable ASCII without ','".into())),
            None => random_nonce(),
        };
        Ok(ScramClient {
            hash,
            state: State::Initial,
            username: escape_saslname(&username),
            password,
            gs2_header: format!("{flag},{authzid},"),
            cb_data,
            nonce,
            offer: params.offer.clone(),
        })
    }

    /// One step: `None` before the first message (and when `<success/>` carries no data), else the server's
    /// message.
    pub(crate) fn step(&mut self, input: Option<&[u8]>) -> Result<Step, AuthError> {
        let state = std::mem::replace(&mut self.state, State::Failed);
        let (next, step) = match (state, input) {
            // An empty challenge asks for the initial response when it was not sent with <auth/>.
            (State::Initial, None) | (State::Initial, Some([])) => self.client_first(),
            (State::Initial, Some(_)) => {
                Err(AuthError::ServerMisbehaved("a SCRAM challenge before the client-first-message".into()))
            }
            (State::AwaitServerFirst { client_first_bare }, Some(msg)) => self.server_first(&client_first_bare, msg),
            (State::AwaitServerFirst { .. }, None) => {
                Err(AuthError::ServerMisbehaved("success before the SCRAM exchange was complete".into()))
            }
            (State::AwaitServerFinal { server_signature }, Some(msg)) => {
                self.server_final(&server_signature, msg).map(|()| (State::Done, Step::Finished(None)))
            }
            (State::AwaitServerFinal { .. }, None) => Err(AuthError::ServerMisbehaved(
                "success without the SCRAM server signature (v=): the server did not prove it knows the password"
                    .into(),
            )),
            (State::Done, _) => Err(AuthError::ServerMisbehaved("data after the SCRAM exchange ended".into())),
            (State::Failed, _) => Err(AuthError::Internal("the SCRAM exchange already failed".into())),
        }?;
        self.state = next;
        Ok(step)
    }

    fn client_first(&self) -> Result<(State, Step), AuthError> {
        let client_first_bare = format!("n={},r={}", self.username, self.nonce);
        let message = format!("{}{}", self.gs2_header, client_first_bare);
        Ok((State::AwaitServerFirst { client_first_bare }, Step::Continue(message.into_bytes())))
    }

    fn server_first(&self, client_first_bare: &str, msg: &[u8]) -> Result<(State, Step), AuthError> {
        let server_first = std::str::from_utf8(msg)
            .map_err(|_| AuthError::ServerMisbehaved("the server-first-message is not UTF-8".into()))?;
        let attrs = parse_attributes(server_first)?;
        let mut it = attrs.iter();
        let (nonce, salt, iterations) = match (it.next(), it.next(), it.next()) {
            (Some(('r', r)), Some(('s', s)), Some(('i', i))) => (*r, *s, *i),
            (Some(('m', _)), _, _) => {
                return Err(AuthError::ServerMisbehaved(
                    "the server-first-message has a mandatory extension (m=) we do not know".into(),
                ))
            }
            (Some(('e', e)), _, _) => return Err(AuthError::from_scram_error(e)),
            _ => {
                return Err(AuthError::ServerMisbehaved(format!(
                    "malformed server-first-message {server_first:?}: expected r=, s=, i="
                )))
            }
        };
        let server_part = nonce.strip_prefix(self.nonce.as_str()).unwrap_or_default();
        if server_part.is_empty() || !printable(nonce) {
            return Err(AuthError::ServerMisbehaved(
                "the server nonce does not extend ours with printable characters".into(),
            ));
        }
        let salt = unb64(salt, "the salt")?;
        if salt.is_empty() {
            return Err(AuthError::ServerMisbehaved("empty salt".into()));
        }
        let iterations: u32 = match iterations.parse() {
            Ok(i) if iterations.bytes().all(|b| b.is_ascii_digit()) => i,
            _ => return Err(AuthError::ServerMisbehaved(format!("bad iteration count {iterations:?}"))),
        };
        if iterations < MIN_ITERATIONS {
            return Err(AuthError::ServerMisbehaved(format!(
                "iteration count {iterations} is below {MIN_ITERATIONS} (RFC 7677 §4)"
            )));
        }
        if iterations > MAX_ITERATIONS {
            return Err(AuthError::ServerMisbehaved(format!("iteration count {iterations} is above {MAX_ITERATIONS}")));
        }
        self.check_downgrade(&attrs)?;

        let h = self.hash;
        let salted = h.hi(self.password.as_bytes(), &salt, iterations)?;
        let client_key = h.hmac(&salted, b"Client Key")?;
        let stored_key = h.hash(&client_key);
        let server_key = h.hmac(&salted, b"Server Key")?;
        let mut cbind_input = self.gs2_header.clone().into_bytes();
        cbind_input.extend_from_slice(&self.cb_data);
        let without_proof = format!("c={},r={nonce}", b64(&cbind_input));
        // RFC 5802 §3: the server-first-message exactly as received, extensions included.
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let client_signature = h.hmac(&stored_key, auth_message.as_bytes())?;
        let proof: Vec<u8> = client_key.iter().zip(&client_signature).map(|(k, s)| k ^ s).collect();
        let server_signature = h.hmac(&server_key, auth_message.as_bytes())?;
        let client_final = format!("{without_proof},p={}", b64(&proof));
        Ok((State::AwaitServerFinal { server_signature }, Step::Continue(client_final.into_bytes())))
    }

    /// XEP-0474 §6.2: compare the hash the server signed with our own view of its offer.
    fn check_downgrade(&self, attrs: &[(char, &str)]) -> Result<(), AuthError> {
        let Some(offer) = &self.offer else { return Ok(()) };
        for form in [SsdpForm::Current, SsdpForm::Legacy] {
            for (_, got) in attrs.iter().filter(|(k, _)| *k == form.attribute()) {
                let expected = ssdp_hash(offer, form, self.hash);
                if *got != expected {
                    return Err(AuthError::Downgrade(format!(
                        "XEP-0474: the server signed {}={got} but the mechanisms and channel-binding types we \
                         saw hash to {expected}: someone changed the offer",
                        form.attribute()
                    )));
                }
            }
        }
        Ok(())
    }

    fn server_final(&self, expected: &[u8], msg: &[u8]) -> Result<(), AuthError> {
        let text = std::str::from_utf8(msg)
            .map_err(|_| AuthError::ServerMisbehaved("the server-final-message is not UTF-8".into()))?;
        let attrs = parse_attributes(text)?;
        match attrs.first() {
            Some(('v', v)) => {
                let got = unb64(v, "the server signature")?;
                if ct_eq(&got, expected) {
                    Ok(())
                } else {
                    Err(AuthError::ServerMisbehaved(
                        "wrong SCRAM server signature: the server does not know the password (or someone is in \
                         the middle)"
                            .into(),
                    ))
                }
            }
            Some(('e', e)) => Err(AuthError::from_scram_error(e)),
            _ => Err(AuthError::ServerMisbehaved(format!("server-final-message without v=: {text:?}"))),
        }
    }
}

/// Splits `a=value,b=value` (RFC 5802 §5.1: a single ASCII letter, `=`, then anything but `,`).
fn parse_attributes(message: &str) -> Result<Vec<(char, &str)>, AuthError> {
    message
        .split(',')
        .map(|part| {
            let mut chars = part.chars();
            match (chars.next(), chars.next()) {
                (Some(k), Some('=')) if k.is_ascii_alphabetic() => Ok((k, chars.as_str())),
                _ => Err(AuthError::ServerMisbehaved(format!("malformed SCRAM attribute {part:?} in {message:?}"))),
            }
        })
        .collect()
}
