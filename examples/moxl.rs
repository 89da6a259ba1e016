//! A command-line XMPP client to point at any server.
//!
//! ```text
//! cargo run --release --example moxl -- [options] <command>
//!
//! options:  --jid J --password P | --anonymous DOMAIN
//!           --server HOST:PORT      connect here instead of resolving the domain (SRV, then the domain on 5222)
//!           --direct-tls            the port speaks TLS from the first byte (XEP-0368)
//!           --ca-file PEM           also trust this CA (e.g. a test server's)
//!           --mechanism NAME        use only this SASL mechanism (SCRAM-SHA-256, PLAIN…)
//!           --insecure-cleartext    go on without TLS if the server offers none (test servers only)
//!           --websocket URL         connect over WebSocket (RFC 7395): wss://… (ws:// needs --insecure-cleartext)
//! commands: login | send TO BODY | listen | echo | roster | disco JID
//! ```
//!
//! Output is one JSON line per result or event; errors go to stderr with a non-zero exit status. The session is
//! closed (`</stream:stream>`) when the command is done, and on SIGINT (Ctrl-C) or SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

use moxl::auth::{Mechanism, SaslConfig};
use moxl::client::{Client, ClientBuilder};
use moxl::jid::BareJid;
use moxl::prelude::*;
use moxl::transport::TlsConfig;
use moxl::xep::rfc6121_message::{IncomingMessage, MessageType};
use moxl::xep::rfc6121_roster::Get;
use moxl::xep::xep_0030_disco::InfoQuery;
use serde_json::json;

/// Every incoming message with a body.
#[payload(name = "message", ns = "jabber:client")]
#[derive(Default)]
struct Message;

impl Payload for Message {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        if let Some(body) = element.child_text("body", "jabber:client") {
            let kind = element.attr("type").map(|t| t.into_owned()).unwrap_or_else(|| "normal".into());
            ctx.pack(json!({"event": "message", "from": ctx.from(), "type": kind, "body": body})).deliver();
        }
        Ok(())
    }
}

/// Every incoming presence.
#[payload(name = "presence", ns = "jabber:client")]
#[derive(Default)]
struct Presence;

impl Payload for Presence {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        let event = json!({
            "event": "presence",
            "from": ctx.from(),
            "type": element.attr("type"),
            "show": element.child_text("show", "jabber:client"),
            "status": element.child_text("status", "jabber:client"),
        });
        ctx.pack(event).deliver();
        Ok(())
    }
}

struct Options {
    jid: Option<String>,
    password: Option<String>,
    anonymous: Option<String>,
    server: Option<(String, u16)>,
    direct_tls: bool,
    ca_file: Option<String>,
    mechanism: Option<String>,
    insecure_cleartext: bool,
    websocket: Option<String>,
    command: Vec<String>,
}

const USAGE: &str = "usage: moxl [--jid J --password P | --anonymous DOMAIN] [--server HOST:PORT] [--direct-tls] \
[--ca-file PEM] [--mechanism NAME] [--websocket URL] [--insecure-cleartext] <login | send TO BODY | listen | echo | roster | disco JID>";

fn parse_args() -> std::result::Result<Options, String> {
    let mut o = Options {
        jid: None,
        password: None,
        anonymous: None,
        server: None,
        direct_tls: false,
        ca_file: None,
        mechanism: None,
        insecure_cleartext: false,
        websocket: None,
        command: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--jid" => o.jid = Some(value("--jid")?),
            "--password" => o.password = Some(value("--password")?),
            "--anonymous" => o.anonymous = Some(value("--anonymous")?),
            "--server" => {
                let v = value("--server")?;
                let (host, port) = v.rsplit_once(':').ok_or("--server takes HOST:PORT")?;
                let port = port.parse().map_err(|_| format!("bad port in {v}"))?;
                o.server = Some((host.to_owned(), port));
            }
            "--direct-tls" => o.direct_tls = true,
            "--ca-file" => o.ca_file = Some(value("--ca-file")?),
            "--mechanism" => o.mechanism = Some(value("--mechanism")?),
            "--insecure-cleartext" => o.insecure_cleartext = true,
            "--websocket" => o.websocket = Some(value("--websocket")?),
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}\n{USAGE}")),
            _ => o.command.push(arg),
        }
    }
    if o.command.is_empty() {
        return Err(USAGE.into());
    }
    Ok(o)
}

fn client_builder(o: &Options) -> Result<ClientBuilder> {
    let mut builder = match (&o.jid, &o.password, &o.anonymous) {
        (_, _, Some(domain)) => Client::anonymous(domain)?,
        (Some(jid), Some(password), None) => {
            let jid = BareJid::new(jid)?;
            let mut config = SaslConfig::password(
                jid.node().map(|n| n.to_string()).unwrap_or_default(),
                password.clone(),
                jid.domain().to_string(),
            );
            if let Some(name) = &o.mechanism {
                let mechanism = Mechanism::from_name(name)
                    .ok_or_else(|| Error::handler(format!("unknown SASL mechanism {name}")))?;
                config.preference = vec![mechanism];
            }
            Client::with_sasl(jid, config)
        }
        _ => return Err(Error::handler("give --jid and --password, or --anonymous DOMAIN")),
    };
    if let Some((host, port)) = &o.server {
        builder = builder.server(host.clone(), *port);
    }
    if let Some(url) = &o.websocket {
        builder = builder.websocket(url.clone());
    }
    if let Some(path) = &o.ca_file {
        let pem = std::fs::read_to_string(path).map_err(|e| Error::handler(format!("{path}: {e}")))?;
        builder = builder.tls(TlsConfig::with_extra_ca_pem(&pem)?);
    }
    Ok(builder.direct_tls(o.direct_tls).allow_cleartext(o.insecure_cleartext))
}

/// The next Packet, or an error after 30 s.
async fn wait(packets: &mut moxl::xec::PacketStream) -> Result<moxl::xec::Packet> {
    tokio::time::timeout(Duration::from_secs(30), packets.recv())
        .await
        .map_err(|_| Error::Timeout("no answer in 30 s".into()))?
        .ok_or_else(|| moxl::error::TransportError::Closed { during: None }.into())
}

async fn run(o: Options) -> Result<()> {
    let client = client_builder(&o)?.connect().await?;
    let outcome = tokio::select! {
        outcome = command(&o, &client) => outcome,
        signal = shutdown() => {
            eprintln!("moxl: {signal}: closing the session");
            Ok(())
        }
    };
    // End the stream (RFC 6120 §4.4) after what is queued went out: the server ends the session at once instead
    // of keeping it for a resumption that never comes (XEP-0198 §5), others see us go offline, and messages to
    // us go to our other resources or to offline storage.
    client.close().await;
    outcome
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM; returns its name.
async fn shutdown() -> &'static str {
    let interrupt = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "SIGINT",
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                name = interrupt => name,
                _ = terminate.recv() => "SIGTERM",
            },
            Err(_) => interrupt.await,
        }
    }
    #[cfg(not(unix))]
    interrupt.await
}

/// Runs the command of the command line on a connected client.
async fn command(o: &Options, client: &Client) -> Result<()> {
    let transport = client.transport();
    let ctx = client.xec().context();
    let mut packets = client.xec().packets();
    match o.command.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["login"] => {
            let line = json!({
                "jid": client.jid().to_string(),
                "mechanism": client.mechanism(),
                "transport": transport,
                "ms": client.login_time().as_secs_f64() * 1000.0,
            });
            println!("{line}");
        }
        ["send", to, body @ ..] => {
            // Sent when the session closes at the latest: `close` sends what is queued first.
            ctx.send(message(to, "chat", Some(&body.join(" "))))?;
            println!("{}", json!({"sent": {"to": to, "body": body.join(" ")}}));
        }
        ["echo"] => {
            // The typed message event: chat/normal/groupchat messages with a body, carbons marked as such.
            let mut messages = client.xec().events::<IncomingMessage>();
            ctx.send(presence(None, None))?;
            while let Some(m) = messages.recv().await {
                let (from, body) = (m.info.from.as_deref(), m.body());
                println!(
                    "{}",
                    json!({"event": "message", "from": from, "type": m.info.kind.as_str(), "body": body, "carbon": m.carbon.is_some()})
                );
                // echo chats sent to this client (a carbon is a copy of a conversation of another client of ours)
                if let (MessageType::Chat, None, Some(from), Some(body)) = (m.info.kind, m.carbon, from, body) {
                    ctx.send(message(from, "chat", Some(body)))?;
                }
            }
        }
        ["listen"] => {
            ctx.send(presence(None, None))?;
            loop {
                let p = wait(&mut packets).await.or_else(|e| match e {
                    Error::Timeout(_) => Ok(moxl::xec::Packet::new::<()>("idle", None, None)),
                    other => Err(other),
                })?;
                let Some(event) = p.content::<serde_json::Value>() else { continue };
                println!("{event}");
            }
        }
        ["roster"] => {
            // the typed result: the roster's items
            let items = ctx.request(Get)?.await?;
            println!("{}", json!({ "roster": items }));
        }
        ["disco", jid] => {
            // moxl-xep's XEP-0030 query: a typed DiscoInfo, or the stanza error.
            let out = match ctx.request(InfoQuery::new(*jid))?.await {
                Ok(info) => json!({ "jid": jid, "info": info }),
                Err(Error::Stanza(error)) => json!({ "jid": jid, "error": error.to_string() }),
                Err(other) => return Err(other),
            };
            println!("{out}");
        }
        other => return Err(Error::handler(format!("unknown command {other:?}\n{USAGE}"))),
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("moxl: {e}");
            ExitCode::from(1)
        }
    }
}
