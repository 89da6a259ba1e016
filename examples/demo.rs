//! moxl at work, end to end, in one command: starts a local Prosody (the project's test support: temp config,
//! throw-away CA, loopback ports), creates two accounts, logs both in, fetches a roster with an Action (awaited
//! for its typed result), and has them exchange messages that a `#[payload]` handler defined here picks up and
//! delivers as a typed event. Juliet's session lives in an
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
use moxl::xec::{Event, EventStream};
use moxl::xep::rfc6121_roster::Get;
use moxl_test_support::{Prosody, TempDir};

/// What the `Chat` handler delivers: the typed event the application subscribes to.
#[derive(Debug, Clone)]
struct ChatLine {
    from: String,
    body: String,
}

/// A chat message (top-level messages only: a message nested in another stanza never reaches it): delivers a
/// [`ChatLine`] (Packet key "chat").
#[payload(name = "message", ns = "jabber:client")]
#[derive(Default)]
struct Chat;

impl Payload for Chat {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        if let Some(body) = element.child_text("body", "jabber:client") {
            ctx.pack(ChatLine { from: ctx.from().unwrap_or_default().into_owned(), body }).deliver();
        }
        Ok(())
    }
}

/// The next event of a stream, within 10 s.
async fn next<T: std::any::Any + Send + Sync>(stream: &mut EventStream<T>) -> Result<Event<T>> {
    tokio::time::timeout(Duration::from_secs(10), stream.recv())
        .await
        .map_err(|_| Error::Timeout("no event in 10 s".into()))?
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

    // An Action (moxl-xep's roster get), awaited for its typed Output; the Packet `roster_get_handle` carries the
    // same value for whoever reads Packets by key.
    let roster = juliet.xec().context().request(Get)?.await?;
    println!("roster   {:?}", roster.iter().map(|i| i.jid.as_str()).collect::<Vec<_>>());

    // Payloads: each message reaches the other side's `Chat` handler, read as typed events.
    let mut at_romeo = romeo.xec().events::<ChatLine>();
    let mut at_juliet = juliet.xec().events::<ChatLine>();
    juliet.xec().context().send(message(&romeo.jid().to_string(), "chat", Some("Wherefore art thou Romeo?")))?;
    let got = next(&mut at_romeo).await?;
    println!("event    {} {}: {}", got.key(), got.from, got.body);
    romeo.xec().context().send(message(&juliet.jid().to_string(), "chat", Some("Call me but love.")))?;
    let got = next(&mut at_juliet).await?;
    println!("event    {} {}: {}", got.key(), got.from, got.body);

    // Juliet's process dies (no goodbye); Romeo writes meanwhile; a new process resumes from the SQLite file.
    let stored = juliet.stream_management().flatten().unwrap_or_default();
    println!("session  {} stored in {} (stream management id {stored})", juliet.jid(), file.display());
    let full = juliet.jid().to_string();
    drop(juliet);
    romeo.xec().context().send(message(&full, "chat", Some("Juliet? Are you there?")))?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let store = SessionStore::open_sqlite_file(&file, &StoreOptions::default()).await?;
    // Subscribed before connecting: the resumed session's backlog, which arrives while it connects, is seen.
    let juliet = builder("juliet", "balcony")?.session_store(store, "demo-process");
    let mut missed = juliet.events::<ChatLine>();
    let juliet = juliet.connect().await?;
    println!("resume   {:?}", *juliet.state().borrow());
    let missed = next(&mut missed).await?;
    println!("missed   {}: {}", missed.from, missed.body);
    juliet.close().await;
    println!("done");
    Ok(())
}
