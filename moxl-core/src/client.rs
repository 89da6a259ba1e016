//! [`Client`]: connects, negotiates, then runs the event controller on the received stanzas.
//!
//! Each client is two tasks on the caller's tokio runtime (a reader that parses and dispatches, a writer that
//! sends what handlers queue) plus the Action timer; no thread of its own. Dropping the client (or
//! [`Client::close`]) ends all of them.

use std::sync::Arc;

use jid::{BareJid, FullJid};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::{Duration, Instant};

use crate::auth::{SaslAuthenticator, SaslConfig};
use crate::stream::{Authenticator, NegotiationConfig, Negotiator, Output, StreamFeatures, TlsPolicy};
use crate::transport::wire::{Wire, WireReader, WireWriter};
use crate::transport::{connect_tcp, connect_websocket, Connection, TlsConfig, WebSocketUrl};
use crate::xec::{Xec, XecBuilder};
use crate::xml::{StreamEvent, StreamParser};
use crate::{Error, Result};

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
            dead.0.notify_one();
        }
    }
}

/// Signalled when a ping went unanswered.
struct DeadConnection(Arc<Notify>);

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
    /// The connection ended, and why.
    Disconnected(String),
}

/// Makes the SASL side of a connection attempt.
pub type AuthenticatorFactory = Arc<dyn Fn() -> Box<dyn Authenticator> + Send + Sync>;

/// Configures a [`Client`].
pub struct ClientBuilder {
    jid: BareJid,
    authenticator: AuthenticatorFactory,
    server: Option<(String, u16)>,
    direct_tls: bool,
    websocket: Option<String>,
    tls: Option<TlsConfig>,
    allow_cleartext: bool,
    resource: Option<String>,
    sasl2: bool,
    user_agent_id: String,
    /// Whether to register the account first (XEP-0077).
    register: bool,
    /// The password of [`Client::builder`]/[`Client::with_sasl`], for [`ClientBuilder::register`].
    password: Option<(String, String)>,
    keepalive: Option<Duration>,
    ping: Option<(Duration, Duration)>,
    xec: XecBuilder,
}

/// The default interval and timeout of server pings (XEP-0199) that detect dead connections.
pub const DEFAULT_PING: (Duration, Duration) = (Duration::from_secs(300), Duration::from_secs(30));

/// The default interval of whitespace keepalives on an idle connection.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(90);

impl ClientBuilder {
    /// A client for this account, authenticating with what `authenticator` makes.
    pub fn new(jid: BareJid, authenticator: AuthenticatorFactory) -> Self {
        ClientBuilder {
            jid,
            authenticator,
            server: None,
            direct_tls: false,
            websocket: None,
            tls: None,
            allow_cleartext: false,
            resource: None,
            sasl2: true,
            user_agent_id: uuid::Uuid::new_v4().to_string(),
            register: false,
            password: None,
            keepalive: Some(DEFAULT_KEEPALIVE),
            ping: Some(DEFAULT_PING),
            xec: Xec::builder(),
        }
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

    /// Connects to this host and port instead of the account's domain on 5222.
    pub fn server(mut self, host: impl Into<String>, port: u16) -> Self {
        self.server = Some((host.into(), port));
        self
    }

    /// The port speaks TLS from the first byte (XEP-0368).
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
    /// UUIDv4). Servers derive the Bind2 resource from it, so keeping it across runs keeps the resource. The
    /// default is random per builder.
    pub fn user_agent_id(mut self, id: impl Into<String>) -> Self {
        self.user_agent_id = id.into();
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

    /// Configures the session's event controller (timeouts, extensions for handlers).
    pub fn xec(mut self, xec: XecBuilder) -> Self {
        self.xec = xec;
        self
    }

    /// Connects, negotiates and starts the session.
    pub async fn connect(self) -> Result<Client> {
        let (state_tx, state_rx) = watch::channel(ConnectionState::Connecting);
        let domain = self.jid.domain().to_string();
        let (host, port) = self.server.clone().unwrap_or_else(|| (domain.clone(), 5222));
        let tls = match self.tls {
            Some(t) => t,
            None => TlsConfig::shared()?,
        };
        let span = tracing::info_span!("xmpp", account = %self.jid);
        let started = Instant::now();
        let limits = crate::xml::Limits::DEFAULT;
        let mut config = NegotiationConfig::new(domain.clone());
        config.account = Some(self.jid.to_string());
        config.resource = self.resource.clone();
        config.sasl2 = self.sasl2;
        if self.register {
            let credentials = self.password.clone();
            config.register = Some(credentials.ok_or_else(|| {
                Error::Negotiation("in-band registration needs a login with a username and a password".into())
            })?);
        }
        config.user_agent_id = Some(self.user_agent_id.clone());
        let (mut wire, mut parser) = match &self.websocket {
            Some(url) => {
                let url = WebSocketUrl::parse(url)?;
                if !url.tls && !self.allow_cleartext {
                    return Err(Error::Transport(format!(
                        "{} is cleartext WebSocket: use wss://, or allow cleartext for a test server",
                        url.url
                    )));
                }
                state_tx.send_replace(ConnectionState::Securing);
                let ws = connect_websocket(&url, &tls, limits.max_stanza_bytes).await?;
                config.framing = true;
                config.tls = if url.tls { TlsPolicy::Direct } else { TlsPolicy::AllowCleartext };
                (Wire::WebSocket(Box::new(ws)), StreamParser::framed())
            }
            None => {
                let tcp = connect_tcp(&host, port).await?;
                let conn = if self.direct_tls {
                    state_tx.send_replace(ConnectionState::Securing);
                    Connection::Tls(Box::new(tls.connect(&domain, tcp).await?))
                } else {
                    Connection::Plain(tcp)
                };
                config.tls = match (self.direct_tls, self.allow_cleartext) {
                    (true, _) => TlsPolicy::Direct,
                    (false, true) => TlsPolicy::AllowCleartext,
                    (false, false) => TlsPolicy::Required,
                };
                (Wire::Stream(conn), StreamParser::with_limits(limits))
            }
        };
        let framed = wire.is_framed();
        let (mut negotiator, first) = Negotiator::new(config, (self.authenticator)());
        negotiator.set_channel_binding(wire.channel_binding());
        let mut pending = first;
        let mut buf = vec![0u8; READ_BUFFER];
        let (jid, features) = loop {
            let mut online = None;
            for output in std::mem::take(&mut pending) {
                match output {
                    Output::Send(text) => wire.send(text).await?,
                    Output::Restart => parser.reset(),
                    Output::StartTls => {
                        state_tx.send_replace(ConnectionState::Securing);
                        wire = wire.starttls(&tls, &domain).await?;
                        parser.reset();
                        negotiator.set_channel_binding(wire.channel_binding());
                        pending.extend(negotiator.tls_established()?);
                    }
                    Output::Online { jid, features } => online = Some((jid, features)),
                }
            }
            if let Some(done) = online {
                break done;
            }
            if !pending.is_empty() {
                continue;
            }
            if negotiator.phase() == crate::stream::Phase::Authenticating {
                state_tx.send_replace(ConnectionState::Authenticating);
            }
            if !wire.recv(&mut buf, &mut parser).await? {
                return Err(Error::Transport("the server closed the connection during negotiation".into()));
            }
            while let Some(event) = parser.next_event()? {
                pending.extend(negotiator.handle(event)?);
                if pending.iter().any(|o| matches!(o, Output::Restart | Output::StartTls | Output::Online { .. })) {
                    break;
                }
            }
        };
        let login = started.elapsed();
        tracing::info!(parent: &span, %jid, mechanism = ?negotiator.mechanism(), ?login, "online");
        let dead = Arc::new(Notify::new());
        let xec = Arc::new(self.xec.account(jid.to_bare()).extension(DeadConnection(Arc::clone(&dead))).build()?);
        state_tx.send_replace(ConnectionState::Online(jid.clone()));
        let mechanism = negotiator.mechanism().map(str::to_owned);
        let (sasl2, bind2) = (negotiator.used_sasl2(), negotiator.used_bind2());
        let tls_version = wire.tls_version();
        let transport = match (&self.websocket, self.direct_tls, wire.is_tls()) {
            (Some(_), _, true) => "wss",
            (Some(_), _, false) => "ws",
            (None, true, _) => "direct-tls",
            (None, false, true) => "starttls",
            (None, false, false) => "tcp",
        };
        let (read, write) = wire.split();
        let state_tx = Arc::new(state_tx);
        let close = Arc::new(Notify::new());
        let reader = tokio::spawn(read_loop(
            read,
            parser,
            framed,
            Arc::clone(&xec),
            Arc::clone(&state_tx),
            span.clone(),
            Arc::clone(&dead),
            Arc::clone(&close),
        ));
        let writer = tokio::spawn(write_loop(
            write,
            Arc::clone(&xec),
            Arc::clone(&state_tx),
            Arc::clone(&close),
            self.keepalive,
        ));
        let timers = tokio::spawn({
            let xec = Arc::clone(&xec);
            async move { xec.run_timers().await }
        });
        let mut tasks = vec![reader, timers];
        if let Some((interval, timeout)) = self.ping {
            let xec = Arc::clone(&xec);
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(interval).await;
                    if let Err(e) = xec.context().request_with_timeout(ServerPing { to: domain.clone() }, timeout) {
                        tracing::warn!(%e, "cannot send a ping");
                    }
                }
            }));
        }
        Ok(Client {
            jid,
            xec,
            state: state_rx,
            tasks,
            writer: Some(writer),
            close,
            mechanism,
            tls_version,
            transport,
            sasl2,
            bind2,
            features: *features,
            login,
        })
    }
}

#[allow(clippy::too_many_arguments)]
async fn read_loop(
    mut read: WireReader,
    mut parser: StreamParser,
    framed: bool,
    xec: Arc<Xec>,
    state: Arc<watch::Sender<ConnectionState>>,
    span: tracing::Span,
    dead: Arc<Notify>,
    close: Arc<Notify>,
) {
    // Small on purpose: thousands of idle sessions each keep one; a large stanza just takes several reads (the
    // parser buffers partial stanzas and gives memory back when idle).
    let mut buf = vec![0u8; READ_BUFFER];
    let reason = loop {
        let received = tokio::select! {
            received = read.recv(&mut buf, &mut parser) => received,
            () = dead.notified() => break "dead connection: the server did not answer a ping in time".to_owned(),
        };
        match received {
            Ok(true) => {}
            Ok(false) => break "the server closed the connection".to_owned(),
            Err(Error::Xml(e)) => {
                send_stream_error(&xec, &span, &e);
                break format!("stream error sent: {e}");
            }
            Err(e) => break e.to_string(),
        }
        let mut ended = None;
        loop {
            match parser.next_event() {
                Ok(Some(StreamEvent::Element(e))) if framed && e.is("close", crate::xml::ns::FRAMING) => {
                    ended = Some("the server closed the stream".to_owned());
                    break;
                }
                Ok(Some(StreamEvent::Element(stanza))) => {
                    xec.dispatch(stanza).await;
                }
                Ok(Some(StreamEvent::End)) => {
                    ended = Some("the server closed the stream".to_owned());
                    break;
                }
                Ok(Some(StreamEvent::Header(_))) => {}
                Ok(None) => break,
                Err(e) => {
                    send_stream_error(&xec, &span, &e);
                    ended = Some(format!("stream error sent: {e}"));
                    break;
                }
            }
        }
        if let Some(reason) = ended {
            break reason;
        }
    };
    tracing::info!(parent: &span, %reason, "disconnected");
    state.send_replace(ConnectionState::Disconnected(reason));
    // The writer closes our side too.
    close.notify_one();
}

/// RFC 6120 §4.9: tell the server why, then close.
fn send_stream_error(xec: &Xec, span: &tracing::Span, e: &crate::xml::XmlError) {
    let error = crate::stanza::stream_error(e.condition(), Some(e.text()));
    if let Err(send) = xec.context().send(error) {
        tracing::warn!(parent: span, %send, "cannot send the stream error");
    }
}

async fn write_loop(
    mut write: WireWriter,
    xec: Arc<Xec>,
    state: Arc<watch::Sender<ConnectionState>>,
    close: Arc<Notify>,
    keepalive: Option<Duration>,
) {
    let mut closing = false;
    // One buffer for the life of the session: everything queued goes out in one write.
    let mut text = String::new();
    loop {
        if let Err(e) = write.send_stanzas(xec.take_outgoing(), &mut text).await {
            state.send_replace(ConnectionState::Disconnected(e.to_string()));
            return;
        }
        if text.capacity() > 64 * 1024 {
            // A large stanza went out: give the memory back rather than keep it for every idle session.
            text = String::new();
        }
        if closing || matches!(*state.borrow(), ConnectionState::Disconnected(_)) {
            write.close().await;
            if !matches!(*state.borrow(), ConnectionState::Disconnected(_)) {
                state.send_replace(ConnectionState::Disconnected("closed by the client".into()));
            }
            return;
        }
        let idle = keepalive.unwrap_or(Duration::MAX);
        tokio::select! {
            () = xec.outgoing_ready() => {}
            () = close.notified() => closing = true,
            () = tokio::time::sleep(idle), if keepalive.is_some() => {
                // A dead connection fails the write.
                if let Err(e) = write.keepalive().await {
                    state.send_replace(ConnectionState::Disconnected(format!("keepalive: {e}")));
                    return;
                }
            }
        }
    }
}

/// A connected session: send stanzas and start Actions through [`Client::xec`], read Packets from it.
///
/// Each client costs two tasks and a timer on the caller's runtime; dropping it ends them and the connection.
pub struct Client {
    jid: FullJid,
    xec: Arc<Xec>,
    state: watch::Receiver<ConnectionState>,
    tasks: Vec<JoinHandle<()>>,
    writer: Option<JoinHandle<()>>,
    close: Arc<Notify>,
    mechanism: Option<String>,
    tls_version: Option<String>,
    transport: &'static str,
    sasl2: bool,
    bind2: bool,
    features: StreamFeatures,
    login: std::time::Duration,
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
        let mut builder = ClientBuilder::new(jid, Arc::new(move || Box::new(SaslAuthenticator::new(config.clone()))));
        builder.password = password;
        builder
    }

    /// The bound full JID (with the resource the server accepted or imposed).
    pub fn jid(&self) -> &FullJid {
        &self.jid
    }

    /// The session's event controller.
    pub fn xec(&self) -> &Xec {
        &self.xec
    }

    /// The SASL mechanism used.
    pub fn mechanism(&self) -> Option<&str> {
        self.mechanism.as_deref()
    }

    /// The TLS version, if encrypted.
    pub fn tls_version(&self) -> Option<&str> {
        self.tls_version.as_deref()
    }

    /// How the session is carried: `"starttls"`, `"direct-tls"`, `"wss"`, or in cleartext (test servers only)
    /// `"tcp"` or `"ws"`.
    pub fn transport(&self) -> &'static str {
        self.transport
    }

    /// Whether authentication used SASL2 (XEP-0388).
    pub fn sasl2(&self) -> bool {
        self.sasl2
    }

    /// Whether the resource was bound inline with Bind2 (XEP-0386).
    pub fn bind2(&self) -> bool {
        self.bind2
    }

    /// The features of the final stream.
    pub fn features(&self) -> &StreamFeatures {
        &self.features
    }

    /// Time from opening the TCP connection to being bound.
    pub fn login_time(&self) -> std::time::Duration {
        self.login
    }

    /// The connection state, as it changes.
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// Closes the stream gracefully: sends what is queued, then `</stream:stream>`, and ends the session's tasks
    /// (waiting at most two seconds for the writer).
    pub async fn close(mut self) {
        self.close.notify_one();
        if let Some(writer) = self.writer.take() {
            if tokio::time::timeout(Duration::from_secs(2), writer).await.is_err() {
                tracing::debug!(jid = %self.jid, "the writer did not finish closing in time");
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        for task in self.tasks.iter().chain(&self.writer) {
            task.abort();
        }
    }
}
