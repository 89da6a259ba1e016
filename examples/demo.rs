//! moxl at work, end to end, in one command: starts a local Prosody (the project's test support: temp config,
//! throw-away CA, loopback ports), creates two accounts, logs both in, fetches a roster with an Action, and has
//! them exchange messages that a `#[payload]` handler defined here picks up. Juliet's session lives in an
//! embedded SQLite file: her process "dies", Romeo writes meanwhile, and a new process resumes the session from
//! the file and gets the message.
//!
//! ```text
//! cargo run --example demo
//! ```
//!
//! Needs Prosody (`bash scripts/install-test-deps.sh` installs it on Debian).

use std::time::Duration;

use moxl::client::{Client, ClientBuilder};
use moxl::jid::BareJid;
use moxl::prelude::*;
use moxl::session::{SessionStore, StoreOptions};
use moxl::transport::TlsConfig;
use moxl::xep::rfc6121_roster::{Get, RosterItem};
use moxl_test_support::{Prosody, TempDir};

/// A chat message: delivers "from: body".
#[payload(name = "message", ns = "jabber:client")]
#[derive(Default)]
struct Chat;

impl Payload for Chat {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        if let Some(body) = element.child_text("body", "jabber:client") {
            let line = format!("{}: {body}", ctx.from().unwrap_or_default());
            // A resumed session's backlog arrives as soon as it connects: straight to a channel given to the
            // controller, so that nothing depends on subscribing in time.
            if let Some(missed) = ctx.get::<Missed>() {
                let _ = missed.0.send(line.clone());
            }
            ctx.pack(line).deliver();
        }
        Ok(())
    }
}

/// Where the resumed session's handler puts what it received.
struct Missed(tokio::sync::mpsc::UnboundedSender<String>);

async fn next(stream: &mut moxl::xec::PacketStream) -> Result<moxl::xec::Packet> {
    tokio::time::timeout(Duration::from_secs(10), stream.recv())
        .await
        .map_err(|_| Error::Timeout("no packet in 10 s".into()))?
        .ok_or_else(|| moxl::error::TransportError::Closed { during: None }.into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let server = Prosody::builder()
        .account("juliet", "balcony")
        .account("romeo", "orchard")
        .start()
        .map_err(|e| Error::handler(e.to_string()))?;
    println!(
        "server   Prosody {} on 127.0.0.1:{} (domain {})",
        server.version().unwrap_or("?"),
        server.c2s_port(),
        server.domain()
    );
    let tls = TlsConfig::only_ca_pem(server.ca_pem())?;
    let builder = |user: &str, password: &str| -> Result<ClientBuilder> {
        Ok(Client::builder(BareJid::new(&server.jid(user))?, password)
            .server("127.0.0.1", server.c2s_port())
            .tls(tls.clone()))
    };
    let dir = TempDir::new("moxl-demo").map_err(|e| Error::handler(e.to_string()))?;
    let file = dir.path().join("sessions.db");
    let store = SessionStore::open_sqlite_file(&file, &StoreOptions::default()).await?;

    let juliet = builder("juliet", "balcony")?.session_store(store, "demo-process").connect().await?;
    let romeo = builder("romeo", "orchard")?.connect().await?;
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

    // Juliet's process dies (no goodbye); Romeo writes meanwhile; a new process resumes from the SQLite file.
    let stored = juliet.stream_management().flatten().unwrap_or_default();
    println!("session  {} stored in {} (stream management id {stored})", juliet.jid(), file.display());
    let full = juliet.jid().to_string();
    drop(juliet);
    romeo.xec().context().send(message(&full, "chat", Some("Juliet? Are you there?")))?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let store = SessionStore::open_sqlite_file(&file, &StoreOptions::default()).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let juliet = builder("juliet", "balcony")?
        .session_store(store, "demo-process")
        .xec(moxl::xec::Xec::builder().extension(Missed(tx)))
        .connect()
        .await?;
    println!("resume   {:?}", *juliet.state().borrow());
    let missed = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
    println!("missed   {:?}", missed.ok().flatten().unwrap_or_default());
    juliet.close().await;
    println!("done");
    Ok(())
}
