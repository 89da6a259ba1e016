//! SCRAM client (RFC 5802; SHA-256 per RFC 7677), with channel binding (`-PLUS`, RFC 5802 §6) and XEP-0474
//! downgrade protection.
//!
//! Written here rather than taken from rsasl: rsasl 2.3.1's SCRAM client rebuilds the AuthMessage from the
//! parsed `r`, `s` and `i` attributes and drops every other attribute of the server-first-message, so its proof
//! is wrong whenever the server adds one (RFC 5802 §3 signs the message as sent). XEP-0474 servers always add
//! one. It also takes no fixed nonce, so the RFC test vectors cannot be run through it, and it slices
//! attributes without checking their length (a two-byte server message panics it).
//!
//! # Re-login without PBKDF2 (RFC 5802 §5.1)
//! Deriving SaltedPassword = Hi(password, salt, i) costs `i` HMAC iterations (Prosody's 10 000 are about 1 ms of
//! CPU even with the pads precomputed). RFC 5802 §5.1 lets a client keep ClientKey and ServerKey for a salt and
//! iteration count instead: a [`ScramKeyCache`] holds them per account and mechanism, and a login whose server
//! announces the same salt and count computes the proof from them without Hi. A changed salt or count (a password
//! change, a server migrating its hashes) derives again; a login refused with cached keys is retried once on the
//! same stream with keys derived from the password (see [`SaslAuthenticator`](super::SaslAuthenticator)).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use hmac::digest::{Digest, KeyInit};
use hmac::{Hmac, Mac};

use super::session::{MechParams, Step};
use super::ssdp::{ssdp_hash, SsdpForm};
use super::util::{b64, ct_eq, random_nonce, saslprep, unb64};
use super::{AuthError, Credentials, Mechanism};
use crate::session::StoredCredentials;

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
        fn with<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Result<Vec<u8>, AuthError> {
            let mut mac =
                <M as KeyInit>::new_from_slice(key).map_err(|e| AuthError::Internal(format!("HMAC key: {e}")))?;
            mac.update(data);
            Ok(mac.finalize().into_bytes().to_vec())
        }
        match self {
            ScramHash::Sha1 => with::<Hmac<sha1::Sha1>>(key, data),
            ScramHash::Sha256 => with::<Hmac<sha2::Sha256>>(key, data),
            ScramHash::Sha512 => with::<Hmac<sha2::Sha512>>(key, data),
        }
    }

    /// Hi(password, salt, i) of RFC 5802 §2.2: PBKDF2 (RFC 8018 §5.2) with HMAC, one block, from the RustCrypto
    /// `pbkdf2` crate, whose HMAC computes the inner and outer pads once (two hash compressions per iteration).
    pub(crate) fn hi(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let mut out = vec![0; self.len()];
        match self {
            ScramHash::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, &mut out),
            ScramHash::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out),
            ScramHash::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, iterations, &mut out),
        }
        out
    }

    /// The output size of the hash, in bytes.
    const fn len(self) -> usize {
        match self {
            ScramHash::Sha1 => 20,
            ScramHash::Sha256 => 32,
            ScramHash::Sha512 => 64,
        }
    }
}

/// ClientKey and ServerKey (RFC 5802 §3) of one account for one SCRAM mechanism, salt and iteration count: what a
/// SCRAM login needs instead of the password, as RFC 5802 §5.1 allows a client to keep.
///
/// **They are a login secret.** With them anyone can log in to *that server* as the account with that mechanism
/// (as long as the server keeps the salt), though they reveal neither the password nor anything that works with
/// `PLAIN` or on another service. Keep them like the password: `Debug` shows neither key, moxl never logs them,
/// and the session store writes them only when [`SaslConfig::remember_scram_keys`](super::SaslConfig) is set (see
/// [`StoredCredentials`] for how the store protects them).
///
/// ```
/// use moxl_core::auth::{Mechanism, ScramKeys};
/// let keys = ScramKeys::new(Mechanism::ScramSha256, b"salt".to_vec(), 4096, vec![1; 32], vec![2; 32]);
/// assert_eq!(keys.iterations(), 4096);
/// assert!(!format!("{keys:?}").contains("[1, 1"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ScramKeys {
    mechanism: Mechanism,
    salt: Vec<u8>,
    iterations: u32,
    client_key: Vec<u8>,
    server_key: Vec<u8>,
}

impl ScramKeys {
    /// Keys for `mechanism` (a `-PLUS` mechanism uses the keys of the same mechanism without binding, so it is
    /// stored as that one).
    ///
    /// ```
    /// use moxl_core::auth::{Mechanism, ScramKeys};
    /// let keys = ScramKeys::new(Mechanism::ScramSha1Plus, vec![0; 16], 4096, vec![1; 20], vec![2; 20]);
    /// assert_eq!(keys.mechanism(), Mechanism::ScramSha1);
    /// ```
    pub fn new(mechanism: Mechanism, salt: Vec<u8>, iterations: u32, client_key: Vec<u8>, server_key: Vec<u8>) -> Self {
        ScramKeys { mechanism: mechanism.without_binding(), salt, iterations, client_key, server_key }
    }

    /// The SCRAM mechanism (without `-PLUS`).
    ///
    /// ```
    /// # use moxl_core::auth::{Mechanism, ScramKeys};
    /// let keys = ScramKeys::new(Mechanism::ScramSha256, vec![0; 16], 4096, vec![1; 32], vec![2; 32]);
    /// assert!(keys.mechanism().is_scram());
    /// ```
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// The salt the server announced.
    ///
    /// ```
    /// # use moxl_core::auth::{Mechanism, ScramKeys};
    /// let keys = ScramKeys::new(Mechanism::ScramSha256, vec![7; 16], 4096, vec![1; 32], vec![2; 32]);
    /// assert_eq!(keys.salt(), &[7; 16]);
    /// ```
    pub fn salt(&self) -> &[u8] {
        &self.salt
    }

    /// The iteration count the server announced.
    ///
    /// ```
    /// # use moxl_core::auth::{Mechanism, ScramKeys};
    /// let keys = ScramKeys::new(Mechanism::ScramSha256, vec![7; 16], 10_000, vec![1; 32], vec![2; 32]);
    /// assert_eq!(keys.iterations(), 10_000);
    /// ```
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The stored form ([`StoredCredentials::Scram`]).
    ///
    /// ```
    /// # use moxl_core::auth::{Mechanism, ScramKeys};
    /// let keys = ScramKeys::new(Mechanism::ScramSha256, vec![7; 16], 4096, vec![1; 32], vec![2; 32]);
    /// assert_eq!(ScramKeys::from_stored(&keys.to_stored()), Some(keys));
    /// ```
    pub fn to_stored(&self) -> StoredCredentials {
        StoredCredentials::scram(
            self.mechanism.name(),
            self.salt.clone(),
            self.iterations,
            self.client_key.clone(),
            self.server_key.clone(),
        )
    }

    /// Reads the stored form; `None` for a mechanism that is not SCRAM, or keys of the wrong length for it.
    ///
    /// ```
    /// use moxl_core::auth::ScramKeys;
    /// use moxl_core::session::StoredCredentials;
    /// let stored = StoredCredentials::scram("SCRAM-SHA-256", vec![7; 16], 4096, vec![1; 32], vec![2; 32]);
    /// assert!(ScramKeys::from_stored(&stored).is_some());
    /// let short = StoredCredentials::scram("SCRAM-SHA-256", vec![7; 16], 4096, vec![1; 20], vec![2; 20]);
    /// assert!(ScramKeys::from_stored(&short).is_none());
    /// ```
    pub fn from_stored(stored: &StoredCredentials) -> Option<ScramKeys> {
        match stored {
            StoredCredentials::Scram { mechanism, salt, iterations, client_key, server_key } => {
                let mechanism = Mechanism::from_name(mechanism).filter(|m| m.is_scram())?;
                let len = hash_of(mechanism)?.len();
                (client_key.len() == len && server_key.len() == len).then(|| {
                    ScramKeys::new(mechanism, salt.clone(), *iterations, client_key.clone(), server_key.clone())
                })
            }
        }
    }
}

/// Shows the mechanism and iteration count, never the keys (nor the salt).
impl fmt::Debug for ScramKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramKeys")
            .field("mechanism", &self.mechanism)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// The [`ScramKeys`] of the accounts a client logged in as, shared by its connections (cheap to clone: a handle),
/// and counters of what the SCRAM logins did with it. [`SaslConfig::password`](super::SaslConfig::password) makes
/// one; a [`Client`](crate::client::Client) keeps it across reconnections, and loads and saves it through its
/// session store when [`SaslConfig::remember_scram_keys`](super::SaslConfig) is set.
///
/// An entry is used only when the server announces the same salt and iteration count; it is replaced when a
/// login derives new keys, and dropped when the server refuses a login made with it.
///
/// ```
/// use moxl_core::auth::{Mechanism, ScramKeyCache, ScramKeys};
/// let cache = ScramKeyCache::new();
/// cache.insert("juliet", ScramKeys::new(Mechanism::ScramSha256, vec![7; 16], 4096, vec![1; 32], vec![2; 32]));
/// assert_eq!(cache.get("juliet", Mechanism::ScramSha256Plus).map(|k| k.iterations()), Some(4096));
/// assert!(cache.get("juliet", Mechanism::ScramSha1).is_none());
/// assert_eq!((cache.derivations(), cache.reuses()), (0, 0));
/// ```
#[derive(Clone, Default)]
pub struct ScramKeyCache(Arc<Mutex<CacheState>>);

#[derive(Default)]
struct CacheState {
    /// (authcid, keys), at most one per authcid and mechanism, the latest last.
    entries: Vec<(String, ScramKeys)>,
    derivations: u64,
    reuses: u64,
    /// The entries changed since [`ScramKeyCache::take_unsaved`] last said so.
    unsaved: bool,
}

impl CacheState {
    fn put(&mut self, authcid: &str, keys: ScramKeys) {
        self.entries.retain(|(a, k)| !(a == authcid && k.mechanism == keys.mechanism));
        self.entries.push((authcid.to_owned(), keys));
    }
}

/// Shows the counters and how many entries it holds, never the keys.
impl fmt::Debug for ScramKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("ScramKeyCache")
            .field("entries", &state.entries.len())
            .field("derivations", &state.derivations)
            .field("reuses", &state.reuses)
            .finish()
    }
}

impl ScramKeyCache {
    /// An empty cache.
    ///
    /// ```
    /// let cache = moxl_core::auth::ScramKeyCache::new();
    /// assert!(cache.get("juliet", moxl_core::auth::Mechanism::ScramSha256).is_none());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds or replaces the keys of `authcid` for their mechanism.
    ///
    /// ```
    /// use moxl_core::auth::{Mechanism, ScramKeyCache, ScramKeys};
    /// let cache = ScramKeyCache::new();
    /// cache.insert("juliet", ScramKeys::new(Mechanism::ScramSha256, vec![7; 16], 4096, vec![1; 32], vec![2; 32]));
    /// cache.insert("juliet", ScramKeys::new(Mechanism::ScramSha256, vec![8; 16], 4096, vec![3; 32], vec![4; 32]));
    /// assert_eq!(cache.get("juliet", Mechanism::ScramSha256).map(|k| k.salt()[0]), Some(8));
    /// ```
    pub fn insert(&self, authcid: &str, keys: ScramKeys) {
        let mut state = self.state();
        state.put(authcid, keys);
        state.unsaved = true;
    }

    /// The keys of `authcid` for `mechanism` (with or without `-PLUS`), whatever their salt.
    ///
    /// ```
    /// # use moxl_core::auth::{Mechanism, ScramKeyCache};
    /// assert!(ScramKeyCache::new().get("juliet", Mechanism::ScramSha256).is_none());
    /// ```
    pub fn get(&self, authcid: &str, mechanism: Mechanism) -> Option<ScramKeys> {
        let mechanism = mechanism.without_binding();
        self.state().entries.iter().find(|(a, k)| a == authcid && k.mechanism == mechanism).map(|(_, k)| k.clone())
    }

    /// Forgets the keys of `authcid` for `mechanism` (with or without `-PLUS`).
    ///
    /// ```
    /// use moxl_core::auth::{Mechanism, ScramKeyCache, ScramKeys};
    /// let cache = ScramKeyCache::new();
    /// cache.insert("juliet", ScramKeys::new(Mechanism::ScramSha256, vec![7; 16], 4096, vec![1; 32], vec![2; 32]));
    /// cache.remove("juliet", Mechanism::ScramSha256Plus);
    /// assert!(cache.get("juliet", Mechanism::ScramSha256).is_none());
    /// ```
    pub fn remove(&self, authcid: &str, mechanism: Mechanism) {
        let mechanism = mechanism.without_binding();
        let mut state = self.state();
        let before = state.entries.len();
        state.entries.retain(|(a, k)| !(a == authcid && k.mechanism == mechanism));
        if state.entries.len() != before {
            state.unsaved = true;
        }
    }

    /// How many times a SCRAM login with this cache derived keys from the password (ran PBKDF2).
    ///
    /// ```
    /// assert_eq!(moxl_core::auth::ScramKeyCache::new().derivations(), 0);
    /// ```
    pub fn derivations(&self) -> u64 {
        self.state().derivations
    }

    /// How many times a SCRAM login with this cache used cached keys instead of deriving them.
    ///
    /// ```
    /// assert_eq!(moxl_core::auth::ScramKeyCache::new().reuses(), 0);
    /// ```
    pub fn reuses(&self) -> u64 {
        self.state().reuses
    }

    /// The latest keys of `authcid` if the entries changed since the last call (`Some(None)`: its keys were
    /// dropped), for writing them through to a store; `None` when nothing changed.
    pub(crate) fn take_unsaved(&self, authcid: &str) -> Option<Option<ScramKeys>> {
        let mut state = self.state();
        if !std::mem::take(&mut state.unsaved) {
            return None;
        }
        Some(state.entries.iter().rev().find(|(a, _)| a == authcid).map(|(_, k)| k.clone()))
    }

    /// Adds keys read from a store (they need no saving).
    pub(crate) fn load(&self, authcid: &str, keys: ScramKeys) {
        self.state().put(authcid, keys);
    }

    /// The client and server keys of `authcid` for this mechanism, salt and iteration count, counted as a reuse.
    fn lookup(&self, authcid: &str, mechanism: Mechanism, salt: &[u8], iterations: u32) -> Option<(Vec<u8>, Vec<u8>)> {
        let mechanism = mechanism.without_binding();
        let mut state = self.state();
        let found = state
            .entries
            .iter()
            .find(|(a, k)| a == authcid && k.mechanism == mechanism && k.salt == salt && k.iterations == iterations)
            .map(|(_, k)| (k.client_key.clone(), k.server_key.clone()));
        if found.is_some() {
            state.reuses += 1;
        }
        found
    }

    fn derived(&self) {
        self.state().derivations += 1;
    }
}

/// The hash of a SCRAM mechanism.
fn hash_of(mechanism: Mechanism) -> Option<ScramHash> {
    match mechanism {
        Mechanism::ScramSha1 | Mechanism::ScramSha1Plus => Some(ScramHash::Sha1),
        Mechanism::ScramSha256 | Mechanism::ScramSha256Plus => Some(ScramHash::Sha256),
        Mechanism::ScramSha512 | Mechanism::ScramSha512Plus => Some(ScramHash::Sha512),
        _ => None,
    }
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
    /// Sent the client-final-message; waiting for `v=`. `derived`: keys derived from the password, to cache once
    /// the server accepted them.
    AwaitServerFinal { server_signature: Vec<u8>, derived: Option<ScramKeys> },
    /// The server proved it knows the password.
    Done,
    /// Failed; nothing more is accepted.
    Failed,
}

/// A SCRAM client exchange, sans I/O.
pub(crate) struct ScramClient {
    mechanism: Mechanism,
    hash: ScramHash,
    /// The authcid as configured: the key of the [`ScramKeyCache`].
    authcid: String,
    cache: Option<ScramKeyCache>,
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
        let hash = hash_of(mechanism).ok_or_else(|| AuthError::Internal(format!("{mechanism} is not SCRAM")))?;
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
            mechanism,
            hash,
            authcid: authcid.clone(),
            cache: params.scram_cache.clone(),
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
            (State::AwaitServerFinal { server_signature, derived }, Some(msg)) => {
                self.server_final(&server_signature, msg)?;
                // The server proved it knows ServerKey, and accepted our proof: the keys are right.
                if let (Some(cache), Some(keys)) = (&self.cache, derived) {
                    cache.insert(&self.authcid, keys);
                }
                Ok((State::Done, Step::Finished(None)))
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
        // RFC 5802 §5.1: ClientKey and ServerKey cached for this salt and iteration count spare the Hi() below.
        let cached = self.cache.as_ref().and_then(|c| c.lookup(&self.authcid, self.mechanism, &salt, iterations));
        let (client_key, server_key, derived) = match cached {
            Some((client_key, server_key)) => {
                tracing::debug!(mechanism = %self.mechanism, iterations, "SCRAM: cached keys, no key derivation");
                (client_key, server_key, None)
            }
            None => {
                let salted = h.hi(self.password.as_bytes(), &salt, iterations);
                let client_key = h.hmac(&salted, b"Client Key")?;
                let server_key = h.hmac(&salted, b"Server Key")?;
                if let Some(cache) = &self.cache {
                    cache.derived();
                }
                tracing::debug!(mechanism = %self.mechanism, iterations, "SCRAM: keys derived from the password");
                let keys = ScramKeys::new(self.mechanism, salt, iterations, client_key.clone(), server_key.clone());
                (client_key, server_key, Some(keys))
            }
        };
        let stored_key = h.hash(&client_key);
        let mut cbind_input = self.gs2_header.clone().into_bytes();
        cbind_input.extend_from_slice(&self.cb_data);
        let without_proof = format!("c={},r={nonce}", b64(&cbind_input));
        // RFC 5802 §3: the server-first-message exactly as received, extensions included.
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let client_signature = h.hmac(&stored_key, auth_message.as_bytes())?;
        let proof: Vec<u8> = client_key.iter().zip(&client_signature).map(|(k, s)| k ^ s).collect();
        let server_signature = h.hmac(&server_key, auth_message.as_bytes())?;
        let client_final = format!("{without_proof},p={}", b64(&proof));
        let derived = derived.filter(|_| self.cache.is_some());
        Ok((State::AwaitServerFinal { server_signature, derived }, Step::Continue(client_final.into_bytes())))
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
