//! Replays a recorded server stream through handlers registered in this example (and those of moxl-xep: the
//! receipt requested in the recording is answered by its XEP-0184 module), and prints the Packets they deliver
//! and the stanzas moxl would send. No network: `examples/moxl.rs` is the client for a real server.
//!
//! ```text
//! cargo run --example replay                    # the recording in examples/data/session.xml
//! cargo run --example replay -- other.xml 7     # another recording, fed 7 bytes at a time
//! ```
//!
//! The recording's `{roster}` placeholders are filled in with the id of the roster request the example sends,
//! as a server would. The second reply to it comes from another sender, and moxl refuses it. The recording
//! ends with a comment, which ends the stream with `<restricted-xml/>`.

use moxl::prelude::*;
use moxl::xec::Packet;
use moxl::xep::rfc6121_roster::{Get, RosterItem};
use moxl::xml::{StreamEvent, StreamParser};

/// A chat message with a body.
#[payload(name = "message", ns = "jabber:client")]
#[derive(Default)]
struct Message;

impl Payload for Message {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        if let Some(body) = element.child_text("body", "jabber:client") {
            ctx.pack(body).deliver();
        }
        Ok(())
    }
}

/// Presence with entity capabilities (XEP-0115).
#[payload(name = "presence", ns = "jabber:client")]
#[derive(Default)]
struct Presence;

impl Payload for Presence {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        let show = element.child_text("show", "jabber:client").unwrap_or_else(|| "available".into());
        ctx.pack(show).deliver();
        Ok(())
    }
}

/// XEP-0277: a microblog post, matched by its pubsub node.
#[payload(name = "event", ns = "http://jabber.org/protocol/pubsub#event", node = "urn:xmpp:microblog:0")]
#[derive(Default)]
struct MicroblogPost;

impl Payload for MicroblogPost {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        let atom = "http://www.w3.org/2005/Atom";
        let titles: Vec<String> = element
            .children()
            .flat_map(|items| items.children())
            .filter_map(|item| item.child("entry", atom).and_then(|e| e.child_text("title", atom)))
            .collect();
        ctx.pack(titles).deliver();
        Ok(())
    }
}

/// How a Packet's content is shown.
fn show(p: &Packet) -> String {
    if let Some(s) = p.content::<String>() {
        format!("{s:?}")
    } else if let Some(v) = p.content::<Vec<String>>() {
        format!("{v:?}")
    } else if let Some(items) = p.content::<Vec<RosterItem>>() {
        format!("{:?}", items.iter().map(|i| i.jid.as_str()).collect::<Vec<_>>())
    } else if let Some(e) = p.content::<Element>() {
        e.to_xml()
    } else {
        "-".into()
    }
}

fn print_packets(packets: &mut moxl::xec::PacketStream) {
    while let Some(p) = packets.try_recv() {
        println!("packet  {:<22} from={:<28} {}", p.key(), p.from().unwrap_or("-"), show(&p));
    }
}

fn print_outgoing(xec: &Xec) {
    for stanza in xec.take_outgoing() {
        println!("send    {}", stanza.to_xml());
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let recording = match args.next() {
        Some(path) => std::fs::read_to_string(&path).map_err(|e| Error::handler(format!("{path}: {e}")))?,
        None => include_str!("data/session.xml").to_owned(),
    };
    let chunk: usize = args.next().and_then(|c| c.parse().ok()).unwrap_or(64).max(1);

    let xec = Xec::builder().account(moxl::jid::BareJid::new("juliet@capulet.lit")?).build()?;
    let mut packets = xec.packets();
    // The typed view: the roster request's Output, awaited once the recorded reply has been dispatched.
    let roster = xec.context().request(Get)?;
    print_outgoing(&xec);
    let recording = recording.replace("{roster}", roster.id());

    let mut parser = StreamParser::new();
    for piece in recording.as_bytes().chunks(chunk) {
        parser.feed(piece);
        loop {
            match parser.next_event() {
                Ok(Some(StreamEvent::Header(h))) => {
                    println!("stream  from={} id={}", h.from.unwrap_or_default(), h.id.unwrap_or_default())
                }
                Ok(Some(StreamEvent::Element(stanza))) => {
                    let what = xec.dispatch(stanza).await;
                    println!("routed  {what:?}");
                    print_packets(&mut packets);
                    print_outgoing(&xec);
                }
                Ok(Some(StreamEvent::End)) => println!("stream  closed by the server"),
                Ok(None) => break,
                Err(e) => {
                    let reply = moxl::stanza::stream_error(e.condition(), Some(e.text())).build()?;
                    println!("error   {e}\nsend    {}</stream:stream>", reply.to_xml());
                    return Ok(());
                }
            }
        }
    }
    match tokio::time::timeout(std::time::Duration::from_millis(100), roster).await {
        Ok(Ok(items)) => println!("typed   roster {:?}", items.iter().map(|i| i.jid.as_str()).collect::<Vec<_>>()),
        Ok(Err(e)) => println!("typed   roster request failed: {e}"),
        Err(_) => println!("typed   roster: no reply in the recording"),
    }
    Ok(())
}
