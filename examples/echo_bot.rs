//! An echo bot: replies to each chat message with its body, and closes its session on Ctrl-C.
//!
//! ```text
//! MOXL_JID=bot@example.com MOXL_PASSWORD=secret cargo run --release --example echo_bot
//! ```
//!
//! Optional: `MOXL_SERVER=host:port` (instead of resolving the domain), `MOXL_CA_FILE=ca.pem` (a private CA).
//! This file is the README's quick start, as written (tests/examples.rs checks both).

use moxl::client::Client;
use moxl::prelude::*;
use moxl::transport::TlsConfig;
use moxl::xep::rfc6121_message::{IncomingMessage, MessageType};

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let jid = std::env::var("MOXL_JID")?.parse()?;
    let mut builder = Client::builder(jid, std::env::var("MOXL_PASSWORD")?);
    if let Ok(server) = std::env::var("MOXL_SERVER") {
        let (host, port) = server.rsplit_once(':').ok_or("MOXL_SERVER is host:port")?;
        builder = builder.server(host, port.parse()?);
    }
    if let Ok(ca_file) = std::env::var("MOXL_CA_FILE") {
        builder = builder.tls(TlsConfig::with_extra_ca_pem(&std::fs::read_to_string(ca_file)?)?);
    }
    // The typed view: every chat/normal/groupchat message with a body (the Packet key "incomingmessage").
    // Subscribed before connecting, so that nothing delivered while connecting is missed.
    let mut messages = builder.events::<IncomingMessage>();
    let client = builder.connect().await?;
    let ctx = client.xec().context();
    // Initial presence (RFC 6121 §4.2): until we send it, the server routes no chat to this session.
    ctx.send(presence(None, None))?;
    println!("online as {}", client.jid());

    loop {
        tokio::select! {
            m = messages.recv() => {
                let Some(m) = m else { break }; // the session ended for good
                // a carbon is a copy of another client's conversation: not ours to answer
                if let (MessageType::Chat, None, Some(from), Some(body)) = (m.info.kind, m.carbon, &m.info.from, m.body()) {
                    println!("{from}: {body}");
                    ctx.send(message(from, "chat", Some(body)))?;
                }
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    // Ends the stream (`</stream:stream>`): the server ends the session at once. Dropping `client` does the same.
    client.close().await;
    println!("closed");
    Ok(())
}
