//! A command-line XMPP client to point at any server.
//!
//! ```text
//! cargo run --release --example moxl -- --help
//! cargo run --release --example moxl -- --jid J --password P login
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
    jid: Option<BareJid>,
    password: Option<String>,
    anonymous: Option<String>,
    server: Option<(String, u16)>,
    direct_tls: bool,
    ca_file: Option<String>,
    mechanism: Option<Mechanism>,
    timeout: Option<Duration>,
    insecure_cleartext: bool,
    websocket: Option<String>,
    /// XEP-0156 discovery of the WebSocket endpoint, and where host-meta is (`None`: `https://DOMAIN`).
    discover: Option<Option<String>>,
    command: Command,
}

/// What to do once logged in.
enum Command {
    Login,
    Send { to: String, body: String },
    Listen,
    Echo,
    Roster,
    Disco(String),
}

const HELP: &str = "\
moxl: a command-line XMPP client (an example of the moxl library)

usage: moxl [OPTIONS] COMMAND

commands:
  login                 log in, print the session (JID, SASL mechanism, transport, login time), log out
  send TO BODY...       send the chat message BODY (the remaining words) to TO
  listen                go online and print every message and presence received, until Ctrl-C
  echo                  go online and answer each chat message with its body, until Ctrl-C
  roster                print the roster
  disco JID             print JID's service discovery information (XEP-0030)

options:
  --jid JID             the account to log in as (with --password)
  --password PASSWORD   its password
  --anonymous DOMAIN    log in anonymously (SASL ANONYMOUS) to DOMAIN instead
  --server HOST:PORT    connect to HOST:PORT instead of resolving the domain (SRV records, then the domain on 5222)
  --direct-tls          the port speaks TLS from the first byte (XEP-0368), not STARTTLS
  --websocket URL       connect over WebSocket (RFC 7395): wss://... (ws:// needs --insecure-cleartext)
  --discover-websocket  connect over the WebSocket endpoint the domain lists in https://DOMAIN/.well-known/host-meta
                        (XEP-0156)
  --host-meta BASE      as --discover-websocket, with host-meta fetched from BASE (https://HOST:PORT) instead
  --ca-file PEM         also trust the certificate authorities in this PEM file (a private or test server's CA)
  --mechanism NAME      use only this SASL mechanism (SCRAM-SHA-256, SCRAM-SHA-1, PLAIN...)
  --timeout SECONDS     give up a login attempt after this many seconds (default 30)
  --insecure-cleartext  go on without TLS when the server offers none (test servers only)
  -h, --help            print this help and exit

Results and events are printed as JSON lines on standard output, errors on standard error. Exit status: 0 on
success, 1 when the connection, the login or a request failed (an error reply included), 2 on a usage error.
";

/// A usage error: what is wrong with the command line.
struct Usage(String);

/// The command line, checked before any network work; `Ok(None)` for `--help`.
fn parse_args(args: impl IntoIterator<Item = String>) -> std::result::Result<Option<Options>, Usage> {
    let (mut jid, mut password, mut anonymous, mut server, mut ca_file, mut mechanism, mut timeout, mut websocket) =
        (None, None, None, None, None, None, None, None);
    let (mut direct_tls, mut insecure_cleartext, mut words, mut discover) = (false, false, Vec::new(), None);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| Usage(format!("{name} needs a value")));
        match arg.as_str() {
            "--jid" => {
                let v = value("--jid")?;
                jid = Some(BareJid::new(&v).map_err(|e| Usage(format!("--jid {v}: {e}")))?);
            }
            "--password" => password = Some(value("--password")?),
            "--anonymous" => anonymous = Some(value("--anonymous")?),
            "--server" => {
                let v = value("--server")?;
                let port = v.rsplit_once(':').and_then(|(host, port)| Some((host.to_owned(), port.parse().ok()?)));
                server = Some(port.ok_or_else(|| Usage(format!("--server takes HOST:PORT, not {v}")))?);
            }
            "--direct-tls" => direct_tls = true,
            "--ca-file" => ca_file = Some(value("--ca-file")?),
            "--mechanism" => {
                let v = value("--mechanism")?;
                mechanism = Some(Mechanism::from_name(&v).ok_or_else(|| Usage(format!("unknown SASL mechanism {v}")))?);
            }
            "--timeout" => {
                let v = value("--timeout")?;
                let seconds = v.parse::<u64>().ok().filter(|s| *s > 0);
                timeout = Some(Duration::from_secs(
                    seconds.ok_or_else(|| Usage(format!("--timeout takes seconds, not {v}")))?,
                ));
            }
            "--insecure-cleartext" => insecure_cleartext = true,
            "--websocket" => websocket = Some(value("--websocket")?),
            "--discover-websocket" => discover = discover.or(Some(None)),
            "--host-meta" => discover = Some(Some(value("--host-meta")?)),
            "-h" | "--help" => return Ok(None),
            flag if flag.starts_with('-') => return Err(Usage(format!("unknown option {flag}"))),
            _ => words.push(arg),
        }
    }
    match (&jid, &password, &anonymous) {
        (Some(_), Some(_), None) | (None, None, Some(_)) => {}
        (_, _, Some(_)) => return Err(Usage("--anonymous goes without --jid and --password".into())),
        _ => return Err(Usage("give --jid and --password, or --anonymous DOMAIN".into())),
    }
    let command = match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["login"] => Command::Login,
        ["send", to, first, rest @ ..] => Command::Send {
            to: (*to).to_owned(),
            body: [*first].iter().chain(rest).copied().collect::<Vec<_>>().join(" "),
        },
        ["send", ..] => return Err(Usage("send takes TO BODY".into())),
        ["listen"] => Command::Listen,
        ["echo"] => Command::Echo,
        ["roster"] => Command::Roster,
        ["disco", jid] => Command::Disco((*jid).to_owned()),
        ["disco", ..] => return Err(Usage("disco takes one JID".into())),
        [] => return Err(Usage("no command given".into())),
        [other, ..] => return Err(Usage(format!("unknown command {other:?} (or too many words)"))),
    };
    Ok(Some(Options {
        jid,
        password,
        anonymous,
        server,
        direct_tls,
        ca_file,
        mechanism,
        timeout,
        insecure_cleartext,
        websocket,
        discover,
        command,
    }))
}

fn client_builder(o: &Options) -> Result<ClientBuilder> {
    let mut builder = match (&o.jid, &o.password, &o.anonymous) {
        (Some(jid), Some(password), _) => {
            let mut config = SaslConfig::password(
                jid.node().map(|n| n.to_string()).unwrap_or_default(),
                password.clone(),
                jid.domain().to_string(),
            );
            if let Some(mechanism) = o.mechanism {
                config.preference = vec![mechanism];
            }
            Client::with_sasl(jid.clone(), config)
        }
        (_, _, Some(domain)) => Client::anonymous(domain)?,
        _ => return Err(Error::handler("give --jid and --password, or --anonymous DOMAIN")),
    };
    if let Some((host, port)) = &o.server {
        builder = builder.server(host.clone(), *port);
    }
    if let Some(url) = &o.websocket {
        builder = builder.websocket(url.clone());
    }
    builder = match &o.discover {
        Some(Some(base)) => builder.discover_websocket_at(base.clone()),
        Some(None) => builder.discover_websocket(),
        None => builder,
    };
    if let Some(path) = &o.ca_file {
        let pem = std::fs::read_to_string(path).map_err(|e| Error::handler(format!("--ca-file {path}: {e}")))?;
        builder = builder.tls(TlsConfig::with_extra_ca_pem(&pem)?);
    }
    if let Some(timeout) = o.timeout {
        builder = builder.connect_timeout(timeout);
    }
    Ok(builder.direct_tls(o.direct_tls).allow_cleartext(o.insecure_cleartext))
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

/// The error as a sentence for this program's user: where an option of this program fixes it, the option is
/// named (the library's messages name its API).
fn explain(e: &Error) -> String {
    use moxl::error::TransportError as T;
    match e {
        Error::Transport(T::CertificateUntrusted { domain, source }) => format!(
            "the certificate of {domain} is not signed by a trusted certificate authority ({source}); if the server \
             uses a private CA, trust it with --ca-file PEM"
        ),
        Error::Transport(T::Tls { domain, source }) => format!(
            "TLS with {domain} failed: {source}; if the port speaks TLS from the first byte, add --direct-tls, and \
             if it expects STARTTLS, leave it out"
        ),
        Error::Transport(T::Cleartext { url }) => {
            format!("{url} is cleartext: use wss://, or allow cleartext with --insecure-cleartext (test servers only)")
        }
        Error::Negotiation(moxl::stream::NegotiationError::StartTlsUnavailable) => {
            "the server does not offer STARTTLS: \
             refusing to go on in cleartext (--insecure-cleartext allows it, for test servers only)"
                .into()
        }
        Error::Transport(T::Timeout { domain, after, stage }) => format!(
            "no session with {domain} after {} s (the login was stuck while {}): check the address and the \
             network, or allow more time with --timeout SECONDS",
            after.as_secs(),
            stage.to_lowercase()
        ),
        Error::Stanza(error) => format!("the server answered with an error: {error}"),
        Error::Timeout(request) => format!("no reply to the {request} request came in time"),
        other => other.to_string(),
    }
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
    match &o.command {
        Command::Login => {
            let line = json!({
                "jid": client.jid().to_string(),
                "mechanism": client.mechanism(),
                "transport": transport,
                "ms": client.login_time().as_secs_f64() * 1000.0,
            });
            println!("{line}");
        }
        Command::Send { to, body } => {
            // Sent when the session closes at the latest: `close` sends what is queued first.
            ctx.send(message(to, "chat", Some(body)))?;
            println!("{}", json!({"sent": {"to": to, "body": body}}));
        }
        Command::Echo => {
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
        Command::Listen => {
            let mut packets = client.xec().packets();
            ctx.send(presence(None, None))?;
            while let Some(p) = packets.recv().await {
                if let Some(event) = p.content::<serde_json::Value>() {
                    println!("{event}");
                }
            }
        }
        Command::Roster => {
            // the typed result: the roster's items
            let items = ctx.request(Get)?.await?;
            println!("{}", json!({ "roster": items }));
        }
        Command::Disco(jid) => {
            // moxl-xep's XEP-0030 query: a typed DiscoInfo, or the stanza error (then the exit status is 1).
            match ctx.request(InfoQuery::new(jid.as_str()))?.await {
                Ok(info) => println!("{}", json!({ "jid": jid, "info": info })),
                Err(Error::Stanza(error)) => {
                    println!("{}", json!({ "jid": jid, "error": error.to_string() }));
                    return Err(Error::Stanza(error));
                }
                Err(other) => return Err(other),
            }
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(Usage(message)) => {
            eprintln!("moxl: usage error: {message}\n(moxl --help lists the commands and options)");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("moxl: {}", explain(&e));
            ExitCode::from(1)
        }
    }
}
