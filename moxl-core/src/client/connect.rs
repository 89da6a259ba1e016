//! One connection attempt: open the transport, negotiate (TLS, registration, SASL or SASL2, bind or resume,
//! stream management), and hand over the connection ready for stanzas.

use std::sync::{Arc, Mutex, PoisonError};

use jid::{BareJid, FullJid};
use tokio::sync::watch;
use tokio::time::{Duration, Instant};

use super::{AuthenticatorFactory, ConnectionState, READ_BUFFER};
use crate::session::FastToken;
use crate::stream::{
    NegotiationConfig, NegotiationError, Negotiator, Output, Phase, ResumeFrom, Resumption, SmEnabled, StreamFeatures,
    TlsPolicy,
};
use crate::transport::wire::Wire;
use crate::transport::{
    connect_addrs, connect_tcp, connect_websocket, Connection, Endpoint, Resolver, TlsConfig, TransportError,
    WebSocketUrl,
};
use crate::xml::{Limits, StreamParser};
use crate::{Error, Result};

/// Everything a connection attempt needs; kept by the client to reconnect.
#[derive(Clone)]
pub(super) struct Settings {
    pub(super) jid: BareJid,
    pub(super) authenticator: AuthenticatorFactory,
    pub(super) server: Option<(String, u16)>,
    /// Resolves SRV records when no server is given (default: the system's resolver).
    pub(super) resolver: Option<Resolver>,
    pub(super) direct_tls: bool,
    pub(super) websocket: Option<String>,
    /// XEP-0156 discovery of the WebSocket endpoint, when asked for and no `websocket` URL is given.
    #[cfg(feature = "http")]
    pub(super) discovery: Option<Arc<Discovery>>,
    pub(super) tls: TlsConfig,
    pub(super) allow_cleartext: bool,
    pub(super) resource: Option<String>,
    pub(super) sasl2: bool,
    pub(super) sm: bool,
    pub(super) user_agent_id: String,
    /// Username and password to register first (XEP-0077), on the first connection only.
    pub(super) register: Option<(String, String)>,
    /// Ask for FAST tokens (XEP-0484) and log in with them.
    pub(super) fast: bool,
    /// How long one connection attempt (resolution, TCP, TLS, negotiation) may take.
    pub(super) timeout: Duration,
    /// The current FAST token, shared by every connection attempt.
    pub(super) fast_token: Arc<Mutex<Option<FastToken>>>,
    /// The session-start hooks not to run.
    pub(super) skip_hooks: Vec<String>,
    /// The roster version of the stored session, for the session-start hooks.
    pub(super) roster_version: Option<String>,
    /// The strongest SASL mechanism the account used (mechanism pinning), shared by every connection attempt.
    pub(super) auth_pin: Arc<Mutex<Option<crate::auth::MechanismPin>>>,
    /// The session's Packet bus, for the `saslfailure` Packet of a failed authentication.
    pub(super) bus: Arc<crate::xec::PacketBus>,
    /// The SCRAM key cache of a password client (shared with its authenticator), to write through to the store.
    pub(super) scram: Option<super::stored::ScramMemo>,
}

/// Where host-meta is fetched, and the WebSocket URL found last (kept for reconnections, forgotten when a
/// connection to it fails).
#[cfg(feature = "http")]
pub(super) struct Discovery {
    base: Option<String>,
    found: Mutex<Option<String>>,
}

#[cfg(feature = "http")]
impl Discovery {
    pub(super) fn new(base: Option<String>) -> Discovery {
        Discovery { base, found: Mutex::new(None) }
    }

    /// The URL found before, else discovered now.
    async fn url(&self, s: &Settings) -> Result<String> {
        if let Some(url) = self.found.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            return Ok(url);
        }
        let domain = s.jid.domain().to_string();
        let found =
            crate::transport::discovery::discover_websocket(&domain, self.base.as_deref(), &s.tls, s.allow_cleartext)
                .await?;
        *self.found.lock().unwrap_or_else(PoisonError::into_inner) = Some(found.url.clone());
        Ok(found.url)
    }

    fn forget(&self) {
        *self.found.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// A negotiated connection, ready for stanzas.
pub(super) struct Connected {
    pub(super) wire: Wire,
    /// The parser, possibly holding elements that arrived right after negotiation (a resumed session's
    /// redelivered stanzas come at once).
    pub(super) parser: StreamParser,
    pub(super) jid: FullJid,
    pub(super) info: SessionInfo,
    pub(super) sm: Option<SmEnabled>,
    pub(super) resumption: Resumption,
    /// The FAST token changed (issued, rotated, or refused): `Some(new)` to store.
    pub(super) fast_changed: Option<Option<FastToken>>,
    /// The pinned mechanism rose with this login: the new pin, to store.
    pub(super) auth_pin_raised: Option<crate::auth::MechanismPin>,
}

/// How a connection was made: mechanism, TLS, transport, SASL2/Bind2, features and login time.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The SASL mechanism used.
    pub mechanism: Option<String>,
    /// The TLS version, if encrypted (`"TLSv1_3"`).
    pub tls_version: Option<String>,
    /// `"starttls"`, `"direct-tls"`, `"wss"`, or in cleartext (test servers only) `"tcp"` or `"ws"`.
    pub transport: &'static str,
    /// Whether authentication used SASL2 (XEP-0388).
    pub sasl2: bool,
    /// Whether the resource was bound inline with Bind2 (XEP-0386).
    pub bind2: bool,
    /// Whether authentication used a FAST token (XEP-0484) instead of the password.
    pub fast: bool,
    /// The host and port connected to (an SRV target, the `server` override, or the domain on 5222; for
    /// WebSocket, the URL's).
    pub endpoint: Option<Endpoint>,
    /// The features of the final stream.
    pub features: StreamFeatures,
    /// Time from opening the connection to being bound (or resumed).
    pub login: Duration,
}

/// Opens a connection and negotiates it; `resume` asks to resume an earlier stream-management session. Gives up
/// after [`Settings::timeout`]: a server that stops answering mid-negotiation must not hang the client.
pub(super) async fn connect_once(
    s: &Settings,
    resume: Option<ResumeFrom>,
    register: bool,
    state: &watch::Sender<ConnectionState>,
) -> Result<Connected> {
    match tokio::time::timeout(s.timeout, negotiate(s, resume, register, state)).await {
        Ok(Err(Error::Auth(e))) => {
            // Moxl's key for a failed SASL authentication, beside the error the caller gets.
            s.bus.deliver(crate::xec::Packet::new(crate::xec::Packet::SASL_FAILURE, None, Some(e.clone())));
            Err(Error::Auth(e))
        }
        Ok(result) => result,
        Err(_) => Err(TransportError::Timeout {
            domain: s.jid.domain().to_string(),
            after: s.timeout,
            stage: format!("{:?}", *state.borrow()),
        }
        .into()),
    }
}

async fn negotiate(
    s: &Settings,
    resume: Option<ResumeFrom>,
    register: bool,
    state: &watch::Sender<ConnectionState>,
) -> Result<Connected> {
    let domain = s.jid.domain().to_string();
    let started = Instant::now();
    let limits = Limits::DEFAULT;
    let mut config = NegotiationConfig::new(domain.clone());
    config.account = Some(s.jid.to_string());
    config.resource = s.resource.clone();
    config.sasl2 = s.sasl2;
    config.sm = s.sm;
    config.resume = resume;
    config.user_agent_id = Some(s.user_agent_id.clone());
    config.fast_request = s.fast;
    if s.fast {
        config.fast_token = s.fast_token.lock().unwrap_or_else(PoisonError::into_inner).clone();
    }
    if register {
        config.register = Some(s.register.clone().ok_or(NegotiationError::RegistrationNeedsCredentials)?);
    }
    let mut direct_tls = false;
    let endpoint;
    #[cfg(feature = "http")]
    let websocket = match (&s.websocket, &s.discovery) {
        (None, Some(discovery)) => Some(discovery.url(s).await?),
        (url, _) => url.clone(),
    };
    #[cfg(not(feature = "http"))]
    let websocket = s.websocket.clone();
    let (mut wire, mut parser) = match &websocket {
        Some(url) => {
            let url = WebSocketUrl::parse(url)?;
            endpoint = Some(Endpoint::new(url.host.clone(), url.port, url.tls));
            if !url.tls && !s.allow_cleartext {
                return Err(TransportError::Cleartext { url: url.url }.into());
            }
            state.send_replace(ConnectionState::Securing);
            let ws = match connect_websocket(&url, &s.tls, limits.max_stanza_bytes).await {
                Ok(ws) => ws,
                Err(e) => {
                    // a discovered endpoint that fails is discovered again next time
                    #[cfg(feature = "http")]
                    if let Some(discovery) = &s.discovery {
                        discovery.forget();
                    }
                    return Err(e);
                }
            };
            config.framing = true;
            config.tls = if url.tls { TlsPolicy::Direct } else { TlsPolicy::AllowCleartext };
            (Wire::WebSocket(Box::new(ws)), StreamParser::framed())
        }
        None => {
            let (conn, used) = open_tcp(s, &domain, state).await?;
            direct_tls = used.direct_tls;
            endpoint = Some(used);
            config.tls = match (direct_tls, s.allow_cleartext) {
                (true, _) => TlsPolicy::Direct,
                (false, true) => TlsPolicy::AllowCleartext,
                (false, false) => TlsPolicy::Required,
            };
            (Wire::Stream(conn), StreamParser::with_limits(limits))
        }
    };
    let (mut negotiator, first) = Negotiator::new(config, (s.authenticator)());
    negotiator.set_channel_binding(wire.channel_binding());
    negotiator.set_auth_pin(*s.auth_pin.lock().unwrap_or_else(PoisonError::into_inner));
    let mut pending = first;
    let mut buf = vec![0u8; READ_BUFFER];
    let (jid, features, sm, resumption) = loop {
        let mut online = None;
        for output in std::mem::take(&mut pending) {
            match output {
                Output::Send(text) => wire.send(text).await?,
                Output::Restart => parser.reset(),
                Output::StartTls => {
                    state.send_replace(ConnectionState::Securing);
                    wire = wire.starttls(&s.tls, &domain).await?;
                    parser.reset();
                    negotiator.set_channel_binding(wire.channel_binding());
                    pending.extend(negotiator.tls_established()?);
                }
                Output::Online { jid, features, sm, resumption } => online = Some((jid, features, sm, resumption)),
            }
        }
        if let Some(done) = online {
            break done;
        }
        if !pending.is_empty() {
            continue;
        }
        if negotiator.phase() == Phase::Authenticating {
            state.send_replace(ConnectionState::Authenticating);
        }
        if !wire.recv(&mut buf, &mut parser).await? {
            return Err(TransportError::Closed { during: Some("negotiation") }.into());
        }
        while let Some(event) = parser.next_event()? {
            pending.extend(negotiator.handle(event)?);
            if pending.iter().any(|o| matches!(o, Output::Restart | Output::StartTls | Output::Online { .. })) {
                break;
            }
        }
    };
    let transport = match (&websocket, direct_tls, wire.is_tls()) {
        (Some(_), _, true) => "wss",
        (Some(_), _, false) => "ws",
        (None, true, _) => "direct-tls",
        (None, false, true) => "starttls",
        (None, false, false) => "tcp",
    };
    let info = SessionInfo {
        mechanism: negotiator.mechanism().map(str::to_owned),
        tls_version: wire.tls_version(),
        transport,
        sasl2: negotiator.used_sasl2(),
        bind2: negotiator.used_bind2(),
        fast: negotiator.used_fast(),
        endpoint,
        features: *features,
        login: started.elapsed(),
    };
    let fast_changed = match (negotiator.fast_token_issued(), negotiator.fast_token_rejected()) {
        (Some(token), _) => Some(Some(token.clone())),
        (None, true) => Some(None),
        (None, false) => None,
    };
    if let Some(token) = &fast_changed {
        token.clone_into(&mut s.fast_token.lock().unwrap_or_else(PoisonError::into_inner));
    }
    // Mechanism pinning: the pin only rises (an allowed downgrade does not lower it).
    let auth_pin_raised = negotiator.auth_succeeded().and_then(|used| {
        let mut slot = s.auth_pin.lock().unwrap_or_else(PoisonError::into_inner);
        let raised = slot.map_or(used, |old| old.max(used));
        (*slot != Some(raised)).then(|| {
            *slot = Some(raised);
            raised
        })
    });
    Ok(Connected { wire, parser, jid, info, sm, resumption, fast_changed, auth_pin_raised })
}

/// Opens the TCP connection (and TLS, for direct TLS): to the `server` override, else to the SRV endpoints of the
/// domain in their order (RFC 6120 §3.2.1: on failure, the next one), else to the domain on 5222. Certificates
/// are checked against the XMPP domain, whatever the host (XEP-0368 §3).
async fn open_tcp(
    s: &Settings,
    domain: &str,
    state: &watch::Sender<ConnectionState>,
) -> Result<(Connection, Endpoint)> {
    // Each candidate with the addresses to race (Happy Eyeballs, RFC 8305) or, for the `server` override, a
    // name the system resolves.
    let mut last_dns = None;
    let candidates: Vec<(Endpoint, Option<Vec<std::net::SocketAddr>>)> = match &s.server {
        Some((host, port)) => vec![(Endpoint::new(host.clone(), *port, s.direct_tls), None)],
        None => {
            let resolver = match &s.resolver {
                Some(r) => r.clone(),
                None => Resolver::system()?,
            };
            let found = resolver.endpoints(domain).await?;
            let mut out = Vec::with_capacity(found.len());
            for endpoint in found {
                // The resolver's own addresses, so that a custom name server also resolves the targets.
                match resolver.socket_addrs(&endpoint).await {
                    Ok(addrs) => out.push((endpoint, Some(addrs))),
                    Err(e) => {
                        tracing::debug!(host = %endpoint.host, error = %e, "SRV target does not resolve");
                        last_dns = Some(e);
                    }
                }
            }
            out
        }
    };
    let mut last = last_dns.unwrap_or_else(|| {
        let source = std::io::Error::new(std::io::ErrorKind::NotFound, "no endpoint");
        TransportError::connect(domain, 5222, source).into()
    });
    for (mut endpoint, addrs) in candidates {
        let connected = match &addrs {
            None => connect_tcp(&endpoint.host, endpoint.port).await,
            Some(addrs) => {
                connect_addrs(addrs).await.map_err(|e| TransportError::connect(&endpoint.host, endpoint.port, e).into())
            }
        };
        let tcp = match connected {
            Ok(tcp) => tcp,
            Err(e) => {
                tracing::debug!(host = %endpoint.host, port = endpoint.port, error = %e, "trying the next endpoint");
                last = e;
                continue;
            }
        };
        // Report the address that won the race.
        if let (Some(_), Ok(peer)) = (&addrs, tcp.peer_addr()) {
            endpoint.host = peer.ip().to_string();
            endpoint.port = peer.port();
        }
        if !endpoint.direct_tls {
            return Ok((Connection::Plain(tcp), endpoint));
        }
        state.send_replace(ConnectionState::Securing);
        // A certificate error is final: another endpoint of the same domain would not make it trustworthy.
        let tls = s.tls.connect(domain, tcp).await?;
        return Ok((Connection::Tls(Box::new(tls)), endpoint));
    }
    Err(last)
}
