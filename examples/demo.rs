//! moxl at work, end to end, in one command: starts a local Prosody (the project's test support: temp config,
//! throw-away CA, loopback ports), creates two accounts, logs both in, fetches a roster with an Action, and has
//! them exchange messages that a `#[payload]` handler defined here picks up.
//!
//! ```text
//! cargo run --example demo
//! ```
//!
//! Needs Prosody (`bash scripts/install-test-deps.sh` installs it on Debian).

use std::time::Duration;

use moxl::client::Client;
use moxl::jid::BareJid;
use moxl::prelude::*;
use moxl::transport::TlsConfig;
use moxl::xep::rfc6121_roster::{Get, RosterItem};
use moxl_test_support::Prosody;

/// A chat message: delivers "from: body".
#[payload(name = "message", ns = "jabber:client")]
#[derive(Default)]
struct Chat;

impl Payload for Chat {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        if let Some(body) = element.child_text("body", "jabber:client") {
            ctx.pack(format!("{}: {body}", ctx.from().unwrap_or_default())).deliver();
        }
        Ok(())
    }
}

async fn next(stream: &mut moxl::xec::PacketStream) -> Result<moxl::xec::Packet> {
    tokio::time::timeout(Duration::from_secs(10), stream.recv())
        .await
        .map_err(|_| Error::Timeout("no packet in 10 s".into()))?
        .ok_or_else(|| Error::Transport("session ended".into()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let server = Prosody::builder()
        .account("juliet", "balcony")
        .account("romeo", "orchard")
        .start()
        .map_err(|e| Error::Transport(e.to_string()))?;
    println!(
        "server   Prosody {} on 127.0.0.1:{} (domain {})",
        server.version().unwrap_or("?"),
        server.c2s_port(),
        server.domain()
    );
    let tls = TlsConfig::only_ca_pem(server.ca_pem())?;
    let connect = |user: &str, password: &str| {
        Client::builder(BareJid::new(&server.jid(user)).unwrap_or_else(|_| unreachable!()), password)
            .server("127.0.0.1", server.c2s_port())
            .tls(tls.clone())
            .connect()
    };

    let juliet = connect("juliet", "balcony").await?;
    let romeo = connect("romeo", "orchard").await?;
    for c in [&juliet, &romeo] {
        println!(
            "login    {} with {} over {} in {:.1} ms",
            c.jid(),
            c.mechanism().unwrap_or("?"),
            c.tls_version().unwrap_or("cleartext"),
            c.login_time().as_secs_f64() * 1000.0
        );
    }

    // An Action (moxl-xep's roster get): request, then its reply comes back to `Get::handle` as a Packet.
    let mut roster = juliet.xec().subscribe("roster_get_handle");
    juliet.xec().context().request(Get)?;
    let items = next(&mut roster).await?;
    let jids: Vec<&str> = items.content::<Vec<RosterItem>>().into_iter().flatten().map(|i| i.jid.as_str()).collect();
    println!("packet   {} {jids:?}", items.key());

    // Payloads: each message reaches the other side's `Chat` handler.
    let mut at_romeo = romeo.xec().subscribe("chat");
    let mut at_juliet = juliet.xec().subscribe("chat");
    juliet.xec().context().send(message(&romeo.jid().to_string(), "chat", Some("Wherefore art thou Romeo?")))?;
    let got = next(&mut at_romeo).await?;
    println!("packet   {} {:?}", got.key(), got.content::<String>());
    romeo.xec().context().send(message(&juliet.jid().to_string(), "chat", Some("Call me but love.")))?;
    let got = next(&mut at_juliet).await?;
    println!("packet   {} {:?}", got.key(), got.content::<String>());
    println!("done     (sessions are kept in memory; the SQLite session store comes with the persistence milestone)");
    Ok(())
}
