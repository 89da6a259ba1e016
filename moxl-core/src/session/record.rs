//! The session record: everything about one account's session that survives between runs.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use jid::{BareJid, FullJid};
use serde::{Deserialize, Serialize};

use crate::xec::StoredAction;
use crate::{Error, Result};

/// Everything stored about one account's session: what it bound, where it connected, how it can log in again,
/// its stream-management state, and what it was waiting for.
///
/// A plain value (serde-able, comparable). A [`SessionStore`](super::SessionStore) keeps one per account and
/// writes its fields one by one through a [`Lease`](super::Lease) as they change; [`Lease::save_record`](super::Lease::save_record)
/// writes a whole record at once.
///
/// ```
/// use moxl_core::session::{ServerEndpoint, SessionRecord, TransportKind};
/// let mut record = SessionRecord::new("juliet@capulet.lit".parse()?);
/// record.bound = Some("juliet@capulet.lit/balcony".parse()?);
/// record.server = Some(ServerEndpoint::new("capulet.lit", 5222, TransportKind::StartTls));
/// record.roster_version = Some("ver14".into());
/// assert_eq!(record.resource(), Some("balcony"));
/// let json = serde_json::to_string(&record).map_err(|e| moxl_core::Error::handler(e.to_string()))?;
/// let back: SessionRecord = serde_json::from_str(&json).map_err(|e| moxl_core::Error::handler(e.to_string()))?;
/// assert_eq!(back, record);
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionRecord {
    /// The account (the key of the record).
    pub account: BareJid,
    /// The full JID the server bound (RFC 6120 §7); its resource is [`resource`](Self::resource).
    pub bound: Option<FullJid>,
    /// The server endpoint and transport last used successfully.
    pub server: Option<ServerEndpoint>,
    /// The XEP-0484 FAST token for the next login, if the server issued one.
    pub fast_token: Option<FastToken>,
    /// Login secrets kept only when the user opted in (see [`StoredCredentials`] for how they are protected).
    pub credentials: Option<StoredCredentials>,
    /// The XEP-0198 stream-management session, if one was enabled.
    pub sm: Option<SmState>,
    /// Stanzas sent but not yet acknowledged by the server, oldest first.
    pub unacked: Vec<UnackedStanza>,
    /// The roster version (RFC 6121 §2.6) of the roster the application holds.
    pub roster_version: Option<String>,
    /// The entity-capabilities cache (XEP-0115): verification string → serialized disco#info.
    pub caps: BTreeMap<String, String>,
    /// The pending Actions, sorted by id.
    pub actions: Vec<StoredAction>,
}

impl SessionRecord {
    /// An empty record for an account: nothing bound, no SM session, nothing pending.
    ///
    /// ```
    /// let record = moxl_core::session::SessionRecord::new("romeo@montague.lit".parse()?);
    /// assert!(record.bound.is_none() && record.sm.is_none() && record.actions.is_empty());
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(account: BareJid) -> SessionRecord {
        SessionRecord {
            account,
            bound: None,
            server: None,
            fast_token: None,
            credentials: None,
            sm: None,
            unacked: Vec::new(),
            roster_version: None,
            caps: BTreeMap::new(),
            actions: Vec::new(),
        }
    }

    /// The bound resource.
    ///
    /// ```
    /// let mut record = moxl_core::session::SessionRecord::new("romeo@montague.lit".parse()?);
    /// assert_eq!(record.resource(), None);
    /// record.bound = Some("romeo@montague.lit/orchard".parse()?);
    /// assert_eq!(record.resource(), Some("orchard"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn resource(&self) -> Option<&str> {
        self.bound.as_ref().map(|j| j.resource().as_str())
    }
}

/// Where a session connected: host, port and transport.
///
/// ```
/// use moxl_core::session::{ServerEndpoint, TransportKind};
/// let ws = ServerEndpoint::new("capulet.lit", 443, TransportKind::WebSocket { url: "wss://capulet.lit/xmpp-websocket".into() });
/// assert_eq!(ws.transport.name(), "websocket");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerEndpoint {
    /// The host name or address connected to (after SRV resolution).
    pub host: String,
    /// The port.
    pub port: u16,
    /// How the stream was carried.
    pub transport: TransportKind,
}

impl ServerEndpoint {
    /// An endpoint.
    ///
    /// ```
    /// use moxl_core::session::{ServerEndpoint, TransportKind};
    /// let e = ServerEndpoint::new("capulet.lit", 5223, TransportKind::DirectTls);
    /// assert_eq!((e.host.as_str(), e.port), ("capulet.lit", 5223));
    /// ```
    pub fn new(host: impl Into<String>, port: u16, transport: TransportKind) -> ServerEndpoint {
        ServerEndpoint { host: host.into(), port, transport }
    }
}

/// How the XML stream was carried.
///
/// Stored by its [`name`](Self::name); [`FromStr`] reads the name back (a WebSocket's URL is stored next to it).
///
/// ```
/// use moxl_core::session::TransportKind;
/// assert_eq!(TransportKind::DirectTls.name(), "direct-tls");
/// assert_eq!("starttls".parse::<TransportKind>()?, TransportKind::StartTls);
/// assert!("carrier-pigeon".parse::<TransportKind>().is_err());
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TransportKind {
    /// TCP, then STARTTLS (RFC 6120 §5).
    #[serde(rename = "starttls")]
    StartTls,
    /// TLS from the first byte (XEP-0368).
    DirectTls,
    /// XMPP over WebSocket (RFC 7395).
    #[serde(rename = "websocket")]
    WebSocket {
        /// The `ws://` or `wss://` URL.
        url: String,
    },
}

impl TransportKind {
    /// The stored name: `starttls`, `direct-tls` or `websocket`.
    ///
    /// ```
    /// use moxl_core::session::TransportKind;
    /// assert_eq!(TransportKind::WebSocket { url: "wss://x".into() }.name(), "websocket");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            TransportKind::StartTls => "starttls",
            TransportKind::DirectTls => "direct-tls",
            TransportKind::WebSocket { .. } => "websocket",
        }
    }

    /// The WebSocket URL, for a WebSocket.
    ///
    /// ```
    /// use moxl_core::session::TransportKind;
    /// assert_eq!(TransportKind::WebSocket { url: "wss://x".into() }.url(), Some("wss://x"));
    /// assert_eq!(TransportKind::StartTls.url(), None);
    /// ```
    pub fn url(&self) -> Option<&str> {
        match self {
            TransportKind::WebSocket { url } => Some(url),
            _ => None,
        }
    }

    /// The transport from its stored name and URL (`url` is needed for, and only for, `websocket`).
    pub(crate) fn from_parts(name: &str, url: Option<String>) -> std::result::Result<TransportKind, String> {
        match (name, url) {
            ("starttls", _) => Ok(TransportKind::StartTls),
            ("direct-tls", _) => Ok(TransportKind::DirectTls),
            ("websocket", Some(url)) => Ok(TransportKind::WebSocket { url }),
            ("websocket", None) => Err("websocket without a URL".into()),
            (other, _) => Err(format!("unknown transport {other:?}")),
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportKind::WebSocket { url } => write!(f, "websocket {url}"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for TransportKind {
    type Err = Error;

    /// `starttls`, `direct-tls`, or `websocket URL` (as [`Display`](fmt::Display) writes it).
    fn from_str(s: &str) -> Result<TransportKind> {
        let (name, url) = match s.split_once(' ') {
            Some((name, url)) => (name, Some(url.to_owned())),
            None => (s, None),
        };
        TransportKind::from_parts(name, url).map_err(|detail| {
            crate::session::StoreError::Corrupt {
                session: String::new(),
                column: "transport".into(),
                detail,
                source: None,
            }
            .into()
        })
    }
}

/// A XEP-0484 FAST token: a secret the server issued for logging in again without the password.
///
/// Its `Debug` output hides the secret.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use moxl_core::session::FastToken;
/// let token = FastToken::new("HT-SHA-256-NONE", "s3cr3t", SystemTime::now() + Duration::from_secs(86400));
/// assert!(!format!("{token:?}").contains("s3cr3t"));
/// assert!(!token.is_expired(SystemTime::now()));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FastToken {
    /// The mechanism the token is for (`HT-SHA-256-NONE`, `HT-SHA-256-UNIQ`, …).
    pub mechanism: String,
    /// The secret.
    pub token: String,
    /// When the server stops accepting it (its `expiry`). Stored with millisecond precision.
    pub expires: SystemTime,
}

impl FastToken {
    /// A token.
    ///
    /// ```
    /// let t = moxl_core::session::FastToken::new("HT-SHA-256-NONE", "s", std::time::SystemTime::UNIX_EPOCH);
    /// assert_eq!(t.mechanism, "HT-SHA-256-NONE");
    /// ```
    pub fn new(mechanism: impl Into<String>, token: impl Into<String>, expires: SystemTime) -> FastToken {
        FastToken { mechanism: mechanism.into(), token: token.into(), expires }
    }

    /// Whether the token has expired at `now`.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// let t = moxl_core::session::FastToken::new("HT-SHA-256-NONE", "s", SystemTime::UNIX_EPOCH);
    /// assert!(t.is_expired(SystemTime::now()));
    /// ```
    pub fn is_expired(&self, now: SystemTime) -> bool {
        now >= self.expires
    }
}

impl fmt::Debug for FastToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastToken")
            .field("mechanism", &self.mechanism)
            .field("token", &"<hidden>")
            .field("expires", &self.expires)
            .finish()
    }
}

/// Login secrets, stored only when the user opted in.
///
/// **How they are protected.** The password itself is never stored. For SCRAM (RFC 5802, RFC 7677) moxl keeps
/// the *ClientKey* and *ServerKey* derived from the password with the salt and iteration count the server
/// announced: enough to log in to that server again with that mechanism (and to check the server's signature),
/// but neither the password nor a value that works with PLAIN or on another service, and changing the password
/// or the server's salt makes it useless. It is still a login secret for this account on this server: anyone who
/// can read the store can log in as the user. So the store must be protected like a password file: moxl creates
/// a new SQLite file readable and writable by its owner only (mode 0600 on Unix); a PostgreSQL store relies on the
/// database's own access control. Nothing is encrypted at rest. An account that cannot log in with SCRAM (a
/// PLAIN-only server) should use a [`FastToken`], or have the application hold the password.
///
/// `Debug` output hides the keys.
///
/// ```
/// use moxl_core::session::StoredCredentials;
/// let c = StoredCredentials::scram("SCRAM-SHA-256", b"salt".to_vec(), 4096, vec![1; 32], vec![2; 32]);
/// assert!(!format!("{c:?}").contains("[1, 1"));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StoredCredentials {
    /// SCRAM keys for one mechanism, salt and iteration count.
    Scram {
        /// The mechanism name (`SCRAM-SHA-1`, `SCRAM-SHA-256`; the `-PLUS` variant uses the same keys).
        mechanism: String,
        /// The salt the server announced.
        salt: Vec<u8>,
        /// The iteration count the server announced.
        iterations: u32,
        /// ClientKey = HMAC(SaltedPassword, "Client Key").
        client_key: Vec<u8>,
        /// ServerKey = HMAC(SaltedPassword, "Server Key").
        server_key: Vec<u8>,
    },
}

impl StoredCredentials {
    /// SCRAM keys (see the type's documentation for what they allow).
    ///
    /// ```
    /// use moxl_core::session::StoredCredentials;
    /// let c = StoredCredentials::scram("SCRAM-SHA-1", vec![0; 16], 4096, vec![1; 20], vec![2; 20]);
    /// assert!(matches!(c, StoredCredentials::Scram { iterations: 4096, .. }));
    /// ```
    pub fn scram(
        mechanism: impl Into<String>,
        salt: Vec<u8>,
        iterations: u32,
        client_key: Vec<u8>,
        server_key: Vec<u8>,
    ) -> StoredCredentials {
        StoredCredentials::Scram { mechanism: mechanism.into(), salt, iterations, client_key, server_key }
    }
}

impl fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredCredentials::Scram { mechanism, iterations, .. } => f
                .debug_struct("Scram")
                .field("mechanism", mechanism)
                .field("iterations", iterations)
                .finish_non_exhaustive(),
        }
    }
}

/// The state of a XEP-0198 stream-management session.
///
/// Counters are kept *unwrapped*: they count from zero and never wrap. On the wire XEP-0198 sends them modulo
/// 2³² (`count as u32`); the stream layer, which knows its own count, turns a received `h` back into a count.
///
/// ```
/// use moxl_core::session::SmState;
/// let sm = SmState::new("some-long-sm-id", Some("[2001:41D0:1:A49b::1]:9222".into()));
/// assert_eq!((sm.inbound, sm.outbound), (0, 0));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SmState {
    /// The `id` from `<enabled/>`, needed to resume.
    pub id: String,
    /// The `location` from `<enabled/>`: where to reconnect to resume, if the server said.
    pub location: Option<String>,
    /// Stanzas received and handled (`h` we report to the server).
    pub inbound: u64,
    /// Stanzas sent.
    pub outbound: u64,
}

impl SmState {
    /// A freshly enabled SM session: both counters at zero.
    ///
    /// ```
    /// let sm = moxl_core::session::SmState::new("id", None);
    /// assert_eq!(sm.id, "id");
    /// ```
    pub fn new(id: impl Into<String>, location: Option<String>) -> SmState {
        SmState { id: id.into(), location, inbound: 0, outbound: 0 }
    }
}

/// A stanza sent but not yet acknowledged, with its sequence number (the value of the outbound counter once it was
/// sent: the first stanza of an SM session is 1).
///
/// ```
/// let s = moxl_core::session::UnackedStanza::new(1, "<message xmlns='jabber:client'/>");
/// assert_eq!(s.seq, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnackedStanza {
    /// Its sequence number (unwrapped, like [`SmState`]'s counters).
    pub seq: u64,
    /// The serialized stanza.
    pub stanza: String,
}

impl UnackedStanza {
    /// An entry of the queue.
    ///
    /// ```
    /// let s = moxl_core::session::UnackedStanza::new(7, "<iq/>");
    /// assert_eq!(s.stanza, "<iq/>");
    /// ```
    pub fn new(seq: u64, stanza: impl Into<String>) -> UnackedStanza {
        UnackedStanza { seq, stanza: stanza.into() }
    }
}
