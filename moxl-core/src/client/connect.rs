//! One connection attempt: open the transport, negotiate (TLS, registration, SASL or SASL2, bind or resume,
//! stream management), and hand over the connection ready for stanzas.

use jid::{BareJid, FullJid};
use tokio::sync::watch;
use tokio::time::{Duration, Instant};

use super::{AuthenticatorFactory, ConnectionState, READ_BUFFER};
use crate::stream::{
    NegotiationConfig, Negotiator, Output, Phase, ResumeFrom, Resumption, SmEnabled, StreamFeatures, TlsPolicy,
};
use crate::transport::wire::Wire;
use crate::transport::{connect_tcp, connect_websocket, Connection, TlsConfig, WebSocketUrl};
use crate::xml::{Limits, StreamParser};
use crate::{Error, Result};

/// Everything a connection attempt needs; kept by the client to reconnect.
#[derive(Clone)]
pub(super) struct Settings {
    pub(super) jid: BareJid,
    pub(super) authenticator: AuthenticatorFactory,
    pub(super) server: Option<(String, u16)>,
    pub(super) direct_tls: bool,
    pub(super) websocket: Option<String>,
    pub(super) tls: TlsConfig,
    pub(super) allow_cleartext: bool,
    pub(super) resource: Option<String>,
    pub(super) sasl2: bool,
    pub(super) sm: bool,
    pub(super) user_agent_id: String,
    /// Username and password to register first (XEP-0077), on the first connection only.
    pub(super) register: Option<(String, String)>,
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
    /// The features of the final stream.
    pub features: StreamFeatures,
    /// Time from opening the connection to being bound (or resumed).
    pub login: Duration,
}

/// Opens a connection and negotiates it; `resume` asks to resume an earlier stream-management session.
pub(super) async fn connect_once(
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
    if register {
        config.register = Some(s.register.clone().ok_or_else(|| {
            Error::Negotiation("in-band registration needs a login with a username and a password".into())
        })?);
    }
    let (mut wire, mut parser) = match &s.websocket {
        Some(url) => {
            let url = WebSocketUrl::parse(url)?;
            if !url.tls && !s.allow_cleartext {
                return Err(Error::Transport(format!(
                    "{} is cleartext WebSocket: use wss://, or allow cleartext for a test server",
                    url.url
                )));
            }
            state.send_replace(ConnectionState::Securing);
            let ws = connect_websocket(&url, &s.tls, limits.max_stanza_bytes).await?;
            config.framing = true;
            config.tls = if url.tls { TlsPolicy::Direct } else { TlsPolicy::AllowCleartext };
            (Wire::WebSocket(Box::new(ws)), StreamParser::framed())
        }
        None => {
            let (host, port) = s.server.clone().unwrap_or_else(|| (domain.clone(), 5222));
            let tcp = connect_tcp(&host, port).await?;
            let conn = if s.direct_tls {
                state.send_replace(ConnectionState::Securing);
                Connection::Tls(Box::new(s.tls.connect(&domain, tcp).await?))
            } else {
                Connection::Plain(tcp)
            };
            config.tls = match (s.direct_tls, s.allow_cleartext) {
                (true, _) => TlsPolicy::Direct,
                (false, true) => TlsPolicy::AllowCleartext,
                (false, false) => TlsPolicy::Required,
            };
            (Wire::Stream(conn), StreamParser::with_limits(limits))
        }
    };
    let (mut negotiator, first) = Negotiator::new(config, (s.authenticator)());
    negotiator.set_channel_binding(wire.channel_binding());
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
            return Err(Error::Transport("the server closed the connection during negotiation".into()));
        }
        while let Some(event) = parser.next_event()? {
            pending.extend(negotiator.handle(event)?);
            if pending.iter().any(|o| matches!(o, Output::Restart | Output::StartTls | Output::Online { .. })) {
                break;
            }
        }
    };
    let transport = match (&s.websocket, s.direct_tls, wire.is_tls()) {
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
        features: *features,
        login: started.elapsed(),
    };
    Ok(Connected { wire, parser, jid, info, sm, resumption })
}
