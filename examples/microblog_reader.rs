//! A microblog reader (XEP-0277): follows a contact's feed, prints their last 10 posts, then each new post as it
//! arrives, until Ctrl-C.
//!
//! ```text
//! MOXL_JID=me@example.com MOXL_PASSWORD=secret cargo run --release --example microblog_reader -- friend@example.org
//! ```
//!
//! Optional: `MOXL_SERVER=host:port` (instead of resolving the domain), `MOXL_CA_FILE=ca.pem` (a private CA).
//! Following asks to see the contact's presence (their PEP service notifies only those who do): the first time,
//! the contact has to approve; the reader waits for that.

use std::collections::HashSet;

use moxl::client::Client;
use moxl::prelude::*;
use moxl::transport::TlsConfig;
use moxl::xep::xep_0277_microblog::{self as microblog, Feed, MicroblogEvent, Post};

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let contact = std::env::args().nth(1).ok_or("usage: microblog_reader CONTACT_JID")?;
    let jid = std::env::var("MOXL_JID")?.parse()?;
    let mut builder = Client::builder(jid, std::env::var("MOXL_PASSWORD")?);
    if let Ok(server) = std::env::var("MOXL_SERVER") {
        let (host, port) = server.rsplit_once(':').ok_or("MOXL_SERVER is host:port")?;
        builder = builder.server(host, port.parse()?);
    }
    if let Ok(ca_file) = std::env::var("MOXL_CA_FILE") {
        builder = builder.tls(TlsConfig::with_extra_ca_pem(&std::fs::read_to_string(ca_file)?)?);
    }
    // Typed events: posts as they are published (Packet key "microblog_event"); the contact's approval of our
    // follow request is a Packet "microblog_followapproved" (its content: the contact's bare JID).
    let mut events = builder.events::<MicroblogEvent>();
    let mut approved = builder.subscribe("microblog_followapproved");
    let client = builder.connect().await?;
    let ctx = client.xec().context();
    ctx.send(presence(None, None))?; // initial presence: we are online (RFC 6121 §4.2)

    // Subscribes to the contact's presence; once approved (at once if it was before), `follow` sends them our
    // presence directly, so that their PEP service learns we want microblog notifications (XEP-0163 §4.3).
    microblog::follow(&ctx, &contact)?;
    println!("following {contact}: waiting for their approval");
    approved.recv().await.ok_or("the session ended")?;

    // The last 10 posts (XEP-0060 max_items), oldest first.
    let mut last = ctx.request(Feed::last(Some(&contact), 10))?.await?.posts;
    last.sort_by(|a, b| a.entry.published.cmp(&b.entry.published));
    let mut seen = HashSet::new();
    for post in &last {
        print_post(post, &mut seen);
    }
    println!("-- {} posts; waiting for new ones (Ctrl-C to stop)", last.len());
    loop {
        tokio::select! {
            event = events.recv() => match event.as_deref() {
                // The service also notifies the last post on following: `seen` prints each post once.
                Some(MicroblogEvent::Posts { from, posts }) if *from == contact => {
                    posts.iter().for_each(|post| print_post(post, &mut seen));
                }
                Some(_) => {}
                None => break, // the session ended for good
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    client.close().await;
    Ok(())
}

/// Prints a post once: its publication time and title.
fn print_post(post: &Post, seen: &mut HashSet<Option<String>>) {
    if seen.insert(post.item_id.clone()) {
        let title = post.entry.title.as_ref().map_or("(no title)", |t| t.value.as_str());
        println!("{} {title}", post.entry.published.as_deref().unwrap_or("-"));
    }
}
