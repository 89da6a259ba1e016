//! [`Client`]: connects, negotiates, then runs the event controller on the received stanzas, and keeps the
//! session alive.
//!
//! Each client is a few tasks on the caller's tokio runtime, no thread of its own: a supervisor that connects
//! and reconnects, and per connection a reader (parses, counts for XEP-0198, dispatches), a writer (sends what
//! handlers queue, keeps it until the server acknowledges it) and a pinger; plus the Action timer.
//! [`Client::close`] ends all of them and the session. Dropping the client ends them too, and closes the
//! stream as `close` does, unless the session is stored: then it is kept for the next run to resume (see
//! [`Client`'s `Drop`](Client#impl-Drop-for-Client)).
//!
//! # Losing the connection
//! With stream management (XEP-0198, enabled whenever the server offers it) every stanza we send is kept until
//! the server acknowledges it, and both sides count what they handled. When the connection is lost (a read or
//! write fails, the server closes it, or a ping goes unanswered), the client reconnects with exponential
//! backoff and full jitter ([`Reconnect`]) and resumes the session: the server redelivers what we missed, we
//! send again what it had not acknowledged, and [`ConnectionState::Resumed`] (and a [`Packet::RESUMED`] Packet)
//! tells the application that nothing was lost. If the session cannot be resumed (the server forgot it, or
//! offers no stream management), a fresh one is bound: our last broadcast presence and the room joins still in
//! effect are sent again, as are our stanzas the old session did not acknowledge (except presences: XEP-0198 §5
//! lets the client send again what the server did not handle; when its `<failed/>` carries `h`, only those; without
//! it, a stanza the server handled but never acknowledged may arrive twice), and
//! [`ConnectionState::Reestablished`] (with [`Packet::REESTABLISHED`]) says so. The pending Actions whose
//! requests the old session had handled time out at once (their `timeout` runs): the replies were queued for
//! the old stream, and a server gives a new session none of it (XEP-0198 §5); those whose requests it had not
//! acknowledged stay pending, their requests sent again. The backoff starts over only after a session stayed
//! up for [`Reconnect::stable`]. The same holds for a [stored](ClientBuilder::session_store) session on the
//! first connection of a new process: resumed if the server still has it, else replaced by a fresh session
//! (`Reestablished`), also when the connection fails while resuming. Authentication failures, a stream
//! `conflict` (another client took the resource) and [`Client::close`] end the session for good:
//! [`ConnectionState::Disconnected`].
//!
//! [`Packet::RESUMED`]: crate::xec::Packet::RESUMED
//! [`Packet::REESTABLISHED`]: crate::xec::Packet::REESTABLISHED

mod connect;
mod persist;
mod presence;
pub(crate) mod reconnect;
mod roster_version;
mod run;
mod start;
mod stored;

use std::sync::{Arc, Mutex, PoisonError};

use jid::{BareJid, FullJid};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Duration;
use tracing::Instrument as _;

pub use connect::SessionInfo;
pub use reconnect::Reconnect;
pub use roster_version::RosterVersion;
pub use start::{start_hooks, SessionStart, StartHook};

use crate::auth::{SaslAuthenticator, SaslConfig};
use crate::stream::{Authenticator, StreamFeatures};
use crate::transport::{Resolver, TlsConfig};
use crate::xec::{Xec, XecBuilder};
use crate::Result;
use connect::{connect_once, Settings};
use run::{Shared, Timing};

/// XEP-0199 §4.2: a client-to-server ping, sent periodically to find out that a connection died silently (any
/// answer, even an error, proves the server is there).
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct ServerPing {
    to: String,
}

#[crate::action(group = "moxl", crate = "crate")]
impl ServerPing {
    fn request(&self) -> crate::xml::ElementBuilder {
        crate::stanza::iq_get(Some(&self.to)).append(crate::xml::ElementBuilder::new("ping", "urn:xmpp:ping"))
    }

    async fn handle(&mut self, _ctx: &crate::xec::Context, _stanza: &crate::xml::Element) {}

    async fn error(
        &mut self,
        _ctx: &crate::xec::Context,
        _error: &crate::stanza::StanzaError,
        _stanza: &crate::xml::Element,
    ) {
    }

    async fn timeout(&mut self, ctx: &crate::xec::Context) {
        if let Some(dead) = ctx.get::<DeadConnection>() {
            // The reply may be queued behind a slow handler: bytes that arrived meanwhile prove the connection.
            let quiet = dead.last_read.lock().unwrap_or_else(PoisonError::into_inner).elapsed();
            if quiet >= dead.window {
                dead.dead.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
    }
}

/// Bumped when a ping went unanswered and nothing else came from the server for as long: the current
/// connection's reader ends.
struct DeadConnection {
    dead: Arc<watch::Sender<u64>>,
    last_read: Arc<Mutex<tokio::time::Instant>>,
    window: Duration,
}

/// Bytes read from the socket at a time.
const READ_BUFFER: usize = 4 * 1024;

/// Where a client's connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Opening the TCP connection and the stream.
    Connecting,
    /// Negotiating TLS.
    Securing,
    /// Running SASL.
    Authenticating,
    /// Bound: stanzas flow.
    Online(FullJid),
    /// The connection was lost; the client reconnects (attempt number, and why the connection was lost).
    Reconnecting {
        /// 1 for the first attempt after the loss.
        attempt: u32,
        /// Why the connection was lost (or why the previous attempt failed).
        reason: String,
    },
    /// Reconnected and resumed (XEP-0198 §5): nothing was lost.
    Resumed(FullJid),
    /// Reconnected with a fresh session (resumption failed or was impossible); presence and rooms were sent
    /// again. Also the state after the first connection of a [stored](ClientBuilder::session_store) session
    /// that could not be resumed: what the server had kept for the old session is gone.
    Reestablished(FullJid),
    /// The session ended for good, and why.
    Disconnected(String),
}

/// Delivers each connection state as a [`Packet::STATE`](crate::xec::Packet::STATE) event (content: the
/// [`ConnectionState`]) until the client is gone. A watch keeps the latest state: states that replace each other
/// faster than the application reads may be skipped, never reordered.
async fn forward_states(mut states: watch::Receiver<ConnectionState>, bus: Arc<crate::xec::PacketBus>) {
    loop {
        let state = states.borrow_and_update().clone();
        bus.deliver(crate::xec::Packet::new(crate::xec::Packet::STATE, None, Some(state)));
        if states.changed().await.is_err() {
            return;
        }
    }
}

/// Makes the SASL side of a connection attempt.
pub type AuthenticatorFactory = Arc<dyn Fn() -> Box<dyn Authenticator> + Send + Sync>;

/// Configures a [`Client`].
pub struct ClientBuilder {
    jid: BareJid,
    authenticator: AuthenticatorFactory,
    server: Option<(String, u16)>,
    resolver: Option<Resolver>,
    direct_tls: bool,
    websocket: Option<String>,
    /// XEP-0156 discovery of the WebSocket endpoint, and where to fetch host-meta (`None`: `https://<domain>`).
    #[cfg(feature = "http")]
    discover: Option<Option<String>>,
    tls: Option<TlsConfig>,
    allow_cleartext: bool,
    resource: Option<String>,
    sasl2: bool,
    sm: bool,
    /// Set explicitly with [`ClientBuilder::user_agent_id`] (else random, or derived from the stored session).
    user_agent_id: Option<String>,
    /// Whether to register the account first (XEP-0077).
    register: bool,
    /// The password of [`Client::builder`]/[`Client::with_sasl`], for [`ClientBuilder::register`].
    password: Option<(String, String)>,
    keepalive: Option<Duration>,
    ping: Option<(Duration, Duration)>,
    reconnect: Option<Reconnect>,
    fast: bool,
    fast_token: Option<crate::session::FastToken>,
    connect_timeout: Duration,
    store: stored::StoreConfig,
    xec: XecBuilder,
    /// The client's Packet bus, made first so that the application can subscribe before connecting.
    bus: Arc<crate::xec::PacketBus>,
    /// The connection state, from the first attempt on (see [`ClientBuilder::state`]).
    state: watch::Sender<ConnectionState>,
    /// The session-start hooks not to run.
    skip_hooks: Vec<String>,
    /// The SCRAM key cache of [`Client::with_sasl`]'s config.
    scram: Option<stored::ScramMemo>,
}

/// Shows where and how the client connects; never the password or a FAST token.
impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut f = f.debug_struct("ClientBuilder");
        f.field("jid", &self.jid)
            .field("server", &self.server)
            .field("direct_tls", &self.direct_tls)
            .field("websocket", &self.websocket);
        #[cfg(feature = "http")]
        f.field("discover_websocket", &self.discover);
        f.field("allow_cleartext", &self.allow_cleartext)
            .field("resource", &self.resource)
            .field("sasl2", &self.sasl2)
            .field("sm", &self.sm)
            .field("register", &self.register)
            .field("fast", &self.fast)
            .field("keepalive", &self.keepalive)
            .field("ping", &self.ping)
            .field("reconnect", &self.reconnect)
            .field("connect_timeout", &self.connect_timeout)
            .field("stored", &stored::is_stored(&self.store))
            .field("skip_hooks", &self.skip_hooks)
            .finish_non_exhaustive()
    }
}

/// The default interval and timeout of server pings (XEP-0199) that detect dead connections.
pub const DEFAULT_PING: (Duration, Duration) = (Duration::from_secs(300), Duration::from_secs(30));

/// The default limit on one connection attempt: resolution, TCP, TLS and negotiation.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default interval of whitespace keepalives on an idle connection.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(90);

impl ClientBuilder {
    /// A client for this account, authenticating with what `authenticator` makes.
    pub fn new(jid: BareJid, authenticator: AuthenticatorFactory) -> Self {
        ClientBuilder {
            jid,
            authenticator,
            server: None,
            resolver: None,
            direct_tls: false,
            websocket: None,
            #[cfg(feature = "http")]
            discover: None,
            tls: None,
            allow_cleartext: false,
            resource: None,
            sasl2: true,
            sm: true,
            user_agent_id: None,
            register: false,
            password: None,
            keepalive: Some(DEFAULT_KEEPALIVE),
            ping: Some(DEFAULT_PING),
            reconnect: Some(Reconnect::default()),
            fast: true,
            fast_token: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            store: stored::StoreConfig::default(),
            xec: Xec::builder(),
            bus: Arc::default(),
            state: watch::Sender::new(ConnectionState::Connecting),
            skip_hooks: Vec::new(),
            scram: None,
        }
    }

    /// Does not run the [session-start hook](StartHook) `name` (see [`start_hooks`]). By default every
    /// registered hook runs at the start of each fresh session: with moxl-xep linked, `"roster"` fetches the
    /// roster (with versioning, RFC 6121 §2.6, from the version in the [session store](Self::session_store)),
    /// which makes the session an interested resource (RFC 6121 §3.1.6): the server then sends it roster pushes
    /// and the approvals of our subscription requests. An application that must not be one opts out with
    /// `.without_start_hook("roster")`.
    ///
    /// ```
    /// use moxl_core::client::Client;
    /// let builder = Client::builder("juliet@example.com".parse()?, "secret").without_start_hook("roster");
    /// assert!(format!("{builder:?}").contains("roster"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn without_start_hook(mut self, name: impl Into<String>) -> Self {
        self.skip_hooks.push(name.into());
        self
    }

    /// The connection state from the first attempt on: subscribe before [`connect`](Self::connect) to see it
    /// go through [`Connecting`](ConnectionState::Connecting), [`Securing`](ConnectionState::Securing),
    /// [`Authenticating`](ConnectionState::Authenticating) to [`Online`](ConnectionState::Online) (or
    /// [`Disconnected`](ConnectionState::Disconnected) when `connect` fails). It is the same channel as
    /// [`Client::state`].
    ///
    /// ```no_run
    /// # async fn run() -> moxl_core::Result<()> {
    /// use moxl_core::client::{Client, ConnectionState};
    /// let builder = Client::builder("juliet@example.com".parse()?, "secret");
    /// let mut state = builder.state();
    /// tokio::spawn(async move {
    ///     while state.changed().await.is_ok() {
    ///         println!("{:?}", *state.borrow_and_update());
    ///     }
    /// });
    /// let client = builder.connect().await?;
    /// # Ok(()) }
    /// ```
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.subscribe()
    }

    /// Pings the server (XEP-0199) every `interval`; no answer within `timeout` ends the session as a dead
    /// connection (default [`DEFAULT_PING`]). `None` sends no pings.
    pub fn ping(mut self, ping: Option<(Duration, Duration)>) -> Self {
        self.ping = ping;
        self
    }

    /// Sends a whitespace keepalive after this long without sending anything (default
    /// [`DEFAULT_KEEPALIVE`]); `None` sends none.
    pub fn keepalive(mut self, interval: Option<Duration>) -> Self {
        self.keepalive = interval;
        self
    }

    /// Resolves the domain's SRV records (`_xmpps-client._tcp`, `_xmpp-client._tcp`) with this resolver instead
    /// of the system's. Without [`server`](Self::server), the client tries the endpoints in RFC 2782 order,
    /// then the domain on 5222.
    pub fn resolver(mut self, resolver: Resolver) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Connects to this host and port instead of resolving the domain's SRV records.
    pub fn server(mut self, host: impl Into<String>, port: u16) -> Self {
        self.server = Some((host.into(), port));
        self
    }

    /// The [`server`](Self::server) port speaks TLS from the first byte (XEP-0368). With SRV resolution, the
    /// records say which endpoints do.
    pub fn direct_tls(mut self, direct: bool) -> Self {
        self.direct_tls = direct;
        self
    }

    /// Connects over WebSocket (RFC 7395) to this `wss://` (or, with [`allow_cleartext`](Self::allow_cleartext),
    /// `ws://`) URL instead of TCP. The certificate is checked against the URL's host.
    pub fn websocket(mut self, url: impl Into<String>) -> Self {
        self.websocket = Some(url.into());
        self
    }

    /// Connects over WebSocket (RFC 7395) to the endpoint that the account's domain advertises in its host-meta
    /// (XEP-0156 §2: `https://<domain>/.well-known/host-meta`, else `host-meta.json`), fetched over HTTPS with
    /// the certificate verified with the client's [`tls`](Self::tls) configuration. Only a `wss://` endpoint is
    /// used, unless [`allow_cleartext`](Self::allow_cleartext) (XEP-0156 §3). The endpoint found is kept for
    /// reconnections, and discovered again after a connection to it failed; discovery counts in the
    /// [`connect_timeout`](Self::connect_timeout). When nothing usable is found, `connect` fails with
    /// [`TransportError::Discovery`](crate::transport::TransportError::Discovery), which says why for each
    /// document. A URL given with [`websocket`](Self::websocket) wins over discovery. Needs the cargo feature
    /// `http` (the facade's `host-meta`, on by default).
    ///
    /// ```no_run
    /// # async fn run() -> moxl_core::Result<()> {
    /// use moxl_core::client::Client;
    /// let client = Client::builder("juliet@example.com".parse()?, "secret").discover_websocket().connect().await?;
    /// assert_eq!(client.transport(), "wss");
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn discover_websocket(mut self) -> Self {
        self.discover = Some(None);
        self
    }

    /// As [`discover_websocket`](Self::discover_websocket), with the host-meta documents fetched from `base`
    /// (an `https://host[:port]` origin: `base/.well-known/host-meta`) instead of `https://<domain>`: for a
    /// domain whose web server is on another host or port, like a test server on loopback. The certificate is
    /// checked against the host of `base`.
    ///
    /// ```
    /// use moxl_core::client::Client;
    /// let builder = Client::builder("juliet@localhost".parse()?, "secret").discover_websocket_at("https://localhost:5281");
    /// assert!(format!("{builder:?}").contains("https://localhost:5281"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn discover_websocket_at(mut self, base: impl Into<String>) -> Self {
        self.discover = Some(Some(base.into()));
        self
    }

    /// Which certificate authorities to trust (default: [`TlsConfig::shared`], the web PKI).
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Goes on in cleartext when the server offers no STARTTLS. For test servers only; mechanisms that reveal
    /// the password are still refused in cleartext.
    pub fn allow_cleartext(mut self, allow: bool) -> Self {
        self.allow_cleartext = allow;
        self
    }

    /// The resource to ask for (default `moxl-` and a random suffix; the server may impose another).
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Uses SASL2 (XEP-0388), with Bind2 (XEP-0386), when the server offers it (default `true`); `false` keeps to
    /// the RFC 6120 SASL profile and resource binding.
    pub fn sasl2(mut self, enabled: bool) -> Self {
        self.sasl2 = enabled;
        self
    }

    /// The stable identifier of this client installation, sent in SASL2's `<user-agent/>` (XEP-0388 §2.3: a
    /// UUIDv4). Servers derive the Bind2 resource from it and bind FAST tokens to it (XEP-0484), so keep it
    /// across runs. The default is derived from the account and the owner with a
    /// [session store](Self::session_store), else random per builder.
    pub fn user_agent_id(mut self, id: impl Into<String>) -> Self {
        self.user_agent_id = Some(id.into());
        self
    }

    /// Creates the account by in-band registration (XEP-0077 §3.1) with the builder's username and password
    /// before logging in, on the same connection (after TLS). Fails clearly if the name is taken, if the server
    /// offers no registration, or if it asks for more than a username and password. Needs a password login
    /// ([`Client::builder`] or [`Client::with_sasl`] with a password).
    pub fn register(mut self, register: bool) -> Self {
        self.register = register;
        self
    }

    /// Enables stream management (XEP-0198) when the server offers it (default `true`): acknowledgements, and
    /// resumption after a lost connection.
    pub fn stream_management(mut self, enabled: bool) -> Self {
        self.sm = enabled;
        self
    }

    /// How to reconnect after losing the connection (default [`Reconnect::default`]); `None` ends the session
    /// at the first loss.
    pub fn reconnect(mut self, reconnect: Option<Reconnect>) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// How long one connection attempt may take, from resolving the domain to being bound (default
    /// [`DEFAULT_CONNECT_TIMEOUT`]); past it the attempt fails with
    /// [`TransportError::Timeout`](crate::transport::TransportError::Timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Asks the server for FAST tokens (XEP-0484) and logs in with them instead of the password on later
    /// connections (reconnections; later runs too, with a [session store](Self::session_store), or with
    /// [`fast_token`](Self::fast_token)). Default `true`; it needs SASL2 and the server's support.
    pub fn fast(mut self, enabled: bool) -> Self {
        self.fast = enabled;
        self
    }

    /// A FAST token from an earlier run (see [`Client::fast_token`]), tried first; a refused one is dropped and
    /// the password used.
    pub fn fast_token(mut self, token: crate::session::FastToken) -> Self {
        self.fast_token = Some(token);
        self
    }

    /// Keeps the session in `store` (see [`crate::session`]): the bound JID, stream management's id, counters
    /// and unacknowledged stanzas, and the pending Actions, written through as they change. `connect` takes the
    /// session's lease as `owner` (failing with [`Error::Lease`](crate::Error::Lease) while another owner
    /// holds it; the same owner, e.g. a restarted process, takes it back at once), revives the stored Actions,
    /// pins the strongest SASL mechanism the account authenticated with (a later login offered only weaker ones
    /// fails with [`AuthError::BelowPinned`](crate::auth::AuthError::BelowPinned) unless the
    /// [`SaslConfig`] allows a downgrade),
    /// and resumes the stored stream-management session if the server still has it: a reply to a request made
    /// by an earlier run reaches that Action's `handle`, with its fields restored. [`Client::close`] ends the
    /// stored session and gives the lease back; dropping the client (or the process dying) keeps it for the
    /// next run. The session's entity-caps cache is kept there too: the controller gets a
    /// [`CapsCache`](crate::session::CapsCache) extension filled with the stored entries, and what handlers put
    /// in it is written with the session's other changes (it replaces a `CapsCache` given with
    /// [`xec`](Self::xec)).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
    pub fn session_store(mut self, store: crate::session::SessionStore, owner: impl Into<String>) -> Self {
        self.store.store = Some((store, owner.into()));
        self
    }

    /// How long the session's lease lives without renewal (default 30 s; renewed every third of it). After a
    /// crash, another owner can take the session over once it expires.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.store.ttl = ttl;
        self
    }

    /// Configures the session's event controller (timeouts, extensions for handlers).
    pub fn xec(mut self, xec: XecBuilder) -> Self {
        self.xec = xec;
        self
    }

    /// The events whose content is a `T` ([`Xec::events`]), from the session's first stanza on: subscribe
    /// before [`connect`](Self::connect), and nothing delivered while connecting is missed.
    ///
    /// ```no_run
    /// # async fn run() -> moxl_core::Result<()> {
    /// use moxl_core::client::{Client, ConnectionState};
    /// let builder = Client::builder("juliet@example.com".parse()?, "secret");
    /// let mut states = builder.events::<ConnectionState>();
    /// let client = builder.connect().await?;
    /// while let Some(state) = states.recv().await {
    ///     println!("{:?}", *state);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events<T: std::any::Any + Send + Sync>(&self) -> crate::xec::EventStream<T> {
        crate::xec::EventStream::new(self.bus.subscribe_type(std::any::TypeId::of::<T>()))
    }

    /// Every Packet ([`Xec::packets`]), from the session's first stanza on (see [`events`](Self::events)).
    pub fn packets(&self) -> crate::xec::PacketStream {
        self.bus.subscribe(None)
    }

    /// The Packets with this key ([`Xec::subscribe`]), from the session's first stanza on (see
    /// [`events`](Self::events)).
    pub fn subscribe(&self, key: &str) -> crate::xec::PacketStream {
        self.bus.subscribe(Some(key.to_owned()))
    }

    /// Connects, negotiates and starts the session. Errors of this first connection are returned (a wrong
    /// password, an untrusted certificate, no route); later losses are handled by reconnecting (see the
    /// [module documentation](self)).
    pub async fn connect(self) -> Result<Client> {
        let state_tx = self.state.clone();
        match self.connect_inner().await {
            Ok(client) => Ok(client),
            Err(e) => {
                state_tx.send_replace(ConnectionState::Disconnected(e.to_string()));
                Err(e)
            }
        }
    }

    async fn connect_inner(self) -> Result<Client> {
        let state_tx = self.state;
        state_tx.send_replace(ConnectionState::Connecting);
        let state_rx = state_tx.subscribe();
        // The typed view of the state: each change as an event (`Packet::STATE`), from the first attempt on.
        let span = tracing::info_span!("xmpp", account = %self.jid);
        let _forwarder =
            tokio::spawn(forward_states(state_tx.subscribe(), Arc::clone(&self.bus)).instrument(span.clone()));
        let tls = match self.tls {
            Some(t) => t,
            None => TlsConfig::shared()?,
        };
        let fast_token = Arc::new(Mutex::new(self.fast_token));
        let auth_pin = Arc::new(Mutex::new(None));
        let settings = Settings {
            jid: self.jid.clone(),
            authenticator: self.authenticator,
            server: self.server,
            resolver: self.resolver,
            direct_tls: self.direct_tls,
            websocket: self.websocket,
            #[cfg(feature = "http")]
            discovery: self.discover.map(|base| Arc::new(connect::Discovery::new(base))),
            tls,
            allow_cleartext: self.allow_cleartext,
            resource: self.resource,
            sasl2: self.sasl2,
            sm: self.sm,
            user_agent_id: self.user_agent_id.unwrap_or_else(|| stored::user_agent_id(&self.store, &self.jid)),
            register: self.password,
            fast: self.fast,
            timeout: self.connect_timeout,
            fast_token: Arc::clone(&fast_token),
            skip_hooks: self.skip_hooks,
            roster_version: None,
            auth_pin: Arc::clone(&auth_pin),
            bus: Arc::clone(&self.bus),
            scram: self.scram.clone(),
        };
        let dead = Arc::new(watch::Sender::new(0u64));
        let last_read = Arc::new(Mutex::new(tokio::time::Instant::now()));
        let window = self.ping.map_or(Duration::MAX, |(_, timeout)| timeout);
        let dead_connection = DeadConnection { dead: Arc::clone(&dead), last_read: Arc::clone(&last_read), window };
        let mut xec = self.xec.account(self.jid.to_bare()).extension(dead_connection).bus(Arc::clone(&self.bus));
        if let Some(caps) = stored::caps_cache(&self.store) {
            xec = xec.extension(caps);
        }
        if stored::is_stored(&self.store) {
            xec = xec.extension(RosterVersion::default());
        }
        let xec = Arc::new(xec.build()?);
        // A stored session: take its lease (or fail: another process drives it), revive its Actions, and resume
        // its stream-management session.
        let stored = stored::open(self.store, &self.jid, &xec).instrument(span.clone()).await?;
        let mut settings = settings;
        settings.roster_version.clone_from(&stored.roster_version);
        {
            let mut slot = fast_token.lock().unwrap_or_else(PoisonError::into_inner);
            if slot.is_none() {
                slot.clone_from(&stored.fast_token);
            }
        }
        *auth_pin.lock().unwrap_or_else(PoisonError::into_inner) = stored.auth_pin;
        if let Some(scram) = &settings.scram {
            scram.load(stored.credentials.as_ref());
        }
        let connected = match connect_once(&settings, stored.resume.clone(), self.register, &state_tx)
            .instrument(span.clone())
            .await
        {
            Ok(connected) => connected,
            // Resuming the stored session failed on the way (the server closed the connection or stopped
            // answering during negotiation): rather than staying offline, bind a fresh session at once
            // (XEP-0198 §5 leaves it to the client to bind a new session when resumption fails).
            Err(e) if stored.resume.is_some() && !matches!(e, crate::Error::Auth(_)) => {
                tracing::info!(parent: &span, error = %e, "resuming the stored session failed: binding a fresh one");
                connect_once(&settings, None, self.register, &state_tx).instrument(span.clone()).await?
            }
            Err(e) => return Err(e),
        };
        tracing::info!(parent: &span, jid = %connected.jid, mechanism = ?connected.info.mechanism,
            login = ?connected.info.login, resumption = ?connected.resumption, "online");
        let (closing, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            xec: Arc::clone(&xec),
            sm: Mutex::new(stored.sm),
            presence: Mutex::default(),
            dead,
            last_read,
            closing,
            span,
            persist: stored.persist,
        });
        let info = connected.info.clone();
        let jid = Arc::new(Mutex::new(connected.jid.clone()));
        // A stored session that could not be resumed is replaced by a fresh one: `Reestablished`, as after a
        // lost connection.
        let mut first_resend = reconnect::start_session(&shared, &connected, &state_tx, &jid, stored.resume.is_some());
        reconnect::forget_lost_replies(&shared, &connected, &mut first_resend).await;
        reconnect::run_start_hooks(&shared, &settings, &connected);
        reconnect::record_start(&shared, &settings, &connected).await?;
        let state_tx = Arc::new(state_tx);
        // Every task of the session runs in its span, so that each log line names the account.
        let timers = tokio::spawn({
            let xec = Arc::clone(&xec);
            async move {
                tracing::trace!("timer task started");
                xec.run_timers().await
            }
            .instrument(shared.span.clone())
        });
        let supervise = reconnect::supervise(reconnect::Supervisor {
            shared: Arc::clone(&shared),
            settings,
            state: Arc::clone(&state_tx),
            jid: Arc::clone(&jid),
            timing: Timing { keepalive: self.keepalive, ping: self.ping },
            reconnect: self.reconnect,
            first: connected,
            first_resend,
            lease_ttl: stored.lease_ttl,
        });
        let supervisor = tokio::spawn(supervise.instrument(shared.span.clone()));
        Ok(Client {
            jid,
            xec,
            shared,
            state: state_rx,
            timers,
            supervisor: Mutex::new(Some(supervisor)),
            info,
            fast_token,
        })
    }
}

/// A connected session: send stanzas and start Actions through [`Client::xec`], read Packets from it.
///
/// Each client costs a few tasks and a timer on the caller's runtime; dropping it ends them and the connection
/// (closing the stream, except for a stored session kept for the next run: see the `Drop` implementation).
pub struct Client {
    jid: Arc<Mutex<FullJid>>,
    xec: Arc<Xec>,
    shared: Arc<Shared>,
    state: watch::Receiver<ConnectionState>,
    timers: JoinHandle<()>,
    /// Taken by [`Client::close`] (or the drop) to wait for the end of the session.
    supervisor: Mutex<Option<JoinHandle<()>>>,
    info: SessionInfo,
    fast_token: Arc<Mutex<Option<crate::session::FastToken>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("jid", &self.jid())
            .field("state", &*self.state.borrow())
            .field("transport", &self.info.transport)
            .field("mechanism", &self.info.mechanism)
            .field("stored", &self.shared.persist.is_on())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `jid` logging in with a password (SCRAM preferred; see [`SaslConfig`]).
    ///
    /// ```no_run
    /// # async fn run() -> moxl_core::Result<()> {
    /// use moxl_core::client::Client;
    /// let client = Client::builder("juliet@example.com".parse()?, "secret").connect().await?;
    /// println!("bound as {}", client.jid());
    /// # Ok(()) }
    /// ```
    pub fn builder(jid: BareJid, password: impl Into<String>) -> ClientBuilder {
        let node = jid.node().map(|n| n.to_string()).unwrap_or_default();
        let config = SaslConfig::password(node, password, jid.domain().to_string());
        Self::with_sasl(jid, config)
    }

    /// A client logging in anonymously (SASL ANONYMOUS, RFC 4505) on `domain`.
    pub fn anonymous(domain: &str) -> Result<ClientBuilder> {
        let jid = BareJid::new(domain)?;
        Ok(Self::with_sasl(jid, SaslConfig::anonymous(domain)))
    }

    /// A client with explicit SASL settings (mechanism preference, authorization identity…).
    pub fn with_sasl(jid: BareJid, config: SaslConfig) -> ClientBuilder {
        let password = match &config.credentials {
            crate::auth::Credentials::Password { authcid, password } => Some((authcid.clone(), password.clone())),
            _ => None,
        };
        let scram = match (&password, &config.scram_cache) {
            (Some((authcid, _)), Some(cache)) => Some(stored::ScramMemo {
                cache: cache.clone(),
                authcid: authcid.clone(),
                remember: config.remember_scram_keys,
            }),
            _ => None,
        };
        let mut builder = ClientBuilder::new(jid, Arc::new(move || Box::new(SaslAuthenticator::new(config.clone()))));
        builder.password = password;
        builder.scram = scram;
        builder
    }

    /// The bound full JID (with the resource the server accepted or imposed). After a fresh session replaced a
    /// lost one it is the new session's.
    pub fn jid(&self) -> FullJid {
        self.jid.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The session's event controller.
    pub fn xec(&self) -> &Xec {
        &self.xec
    }

    /// How the first connection was made (mechanism, TLS, transport, SASL2, Bind2, features, login time).
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// The SASL mechanism used.
    pub fn mechanism(&self) -> Option<&str> {
        self.info.mechanism.as_deref()
    }

    /// The TLS version, if encrypted.
    pub fn tls_version(&self) -> Option<&str> {
        self.info.tls_version.as_deref()
    }

    /// How the session is carried: `"starttls"`, `"direct-tls"`, `"wss"`, or in cleartext (test servers only)
    /// `"tcp"` or `"ws"`.
    pub fn transport(&self) -> &'static str {
        self.info.transport
    }

    /// Whether authentication used SASL2 (XEP-0388).
    pub fn sasl2(&self) -> bool {
        self.info.sasl2
    }

    /// Whether the resource was bound inline with Bind2 (XEP-0386).
    pub fn bind2(&self) -> bool {
        self.info.bind2
    }

    /// The features of the stream.
    pub fn features(&self) -> &StreamFeatures {
        &self.info.features
    }

    /// Time from opening the connection to being bound.
    pub fn login_time(&self) -> Duration {
        self.info.login
    }

    /// The current FAST token (XEP-0484), to log in with next time ([`ClientBuilder::fast_token`]); a secret,
    /// like a password. With a session store it is kept there already.
    pub fn fast_token(&self) -> Option<crate::session::FastToken> {
        self.fast_token.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Whether stream management (XEP-0198) is on, and the id that resumption would use.
    pub fn stream_management(&self) -> Option<Option<String>> {
        self.shared.sm().as_ref().map(|sm| sm.id.clone())
    }

    /// The connection state, as it changes (from the first attempt on: [`ClientBuilder::state`]).
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// Closes the session gracefully: sends what is queued, then closes the stream (`</stream:stream>`, RFC 6120
    /// §4.4, or `<close/>` on WebSocket, RFC 7395 §3.6), which also ends stream management's session on the
    /// server (XEP-0198 §5: a cleanly closed stream cannot be resumed); no reconnection follows. With a
    /// [session store](ClientBuilder::session_store), the stored session ends too and its lease is given back.
    /// Waits at most two seconds. It takes `&self`, so that a client shared in an `Arc` can be closed; a second
    /// call (or one after the session ended) returns at once.
    ///
    /// ```no_run
    /// # async fn run() -> moxl_core::Result<()> {
    /// use std::sync::Arc;
    /// use moxl_core::client::Client;
    /// let client = Arc::new(Client::builder("juliet@example.com".parse()?, "secret").connect().await?);
    /// let shared = Arc::clone(&client);
    /// tokio::spawn(async move { /* … use `shared` … */ drop(shared) });
    /// client.close().await;
    /// # Ok(()) }
    /// ```
    pub async fn close(&self) {
        self.shared.closing.send_replace(true);
        let supervisor = self.supervisor.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(supervisor) = supervisor {
            let abort = supervisor.abort_handle();
            if tokio::time::timeout(CLOSE_WAIT, supervisor).await.is_err() {
                tracing::debug!(jid = %self.jid(), "the session did not finish closing in time");
                abort.abort();
            }
        }
    }
}

/// How long [`Client::close`] (and the drop of a client) waits for the stream to close.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

impl Drop for Client {
    /// Ends the client's tasks and its connection.
    ///
    /// - Without a [session store](ClientBuilder::session_store), nobody can resume the session later: the stream
    ///   is closed as by [`Client::close`] (`</stream:stream>`, RFC 6120 §4.4), so that the server ends the
    ///   session at once (else, with stream management, it would keep a detached session for resumption, XEP-0198
    ///   §5, for minutes: others would see us online and the server would route messages to it). The closing
    ///   runs in the background on the runtime, bounded to two seconds; without a runtime the socket is just
    ///   closed.
    /// - With a session store, the session is kept for the next run to resume: the socket is closed without
    ///   closing the stream, and the server keeps the session (and queues what arrives for it) until that run
    ///   resumes it, or its resumption timeout passes. Call [`Client::close`] to end it instead.
    fn drop(&mut self) {
        self.timers.abort();
        let supervisor = self.supervisor.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        let Some(supervisor) = supervisor else { return };
        let runtime = tokio::runtime::Handle::try_current();
        match runtime {
            Ok(runtime) if !self.shared.persist.is_on() && !supervisor.is_finished() => {
                self.shared.closing.send_replace(true);
                let abort = supervisor.abort_handle();
                runtime.spawn(async move {
                    if tokio::time::timeout(CLOSE_WAIT, supervisor).await.is_err() {
                        abort.abort();
                    }
                });
            }
            _ => supervisor.abort(),
        }
    }
}
