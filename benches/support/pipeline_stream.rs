//! The stream and the handlers of the pipeline benchmarks (`pipeline`: time; `pipeline_allocs`: allocations),
//! shared by both.

use std::hint::black_box;

use moxl::prelude::*;
use moxl::xml::{StreamEvent, StreamParser};
use quick_xml::events::Event;
use quick_xml::NsReader;

const CLIENT: &str = "jabber:client";

// ---- handlers like an application's (named Bench*, with Packet keys of their own) -----------------------------

#[payload(name = "message", ns = "jabber:client")]
#[derive(Default)]
struct BenchMessage;

impl Payload for BenchMessage {
    async fn handle(&mut self, _ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        black_box(element.child("body", CLIENT).map(|b| b.text().len()));
        Ok(())
    }
}

#[payload(name = "active", ns = "http://jabber.org/protocol/chatstates")]
#[derive(Default)]
struct BenchActive;

impl Payload for BenchActive {
    async fn handle(&mut self, _ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        black_box(stanza.attr("from"));
        Ok(())
    }
}

#[payload(name = "request", ns = "urn:xmpp:receipts")]
#[derive(Default)]
struct BenchReceiptRequest;

impl Payload for BenchReceiptRequest {
    async fn handle(&mut self, _ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        black_box(stanza.attr("id"));
        Ok(())
    }
}

#[payload(name = "received", ns = "urn:xmpp:receipts")]
#[derive(Default)]
struct BenchReceiptReceived;

impl Payload for BenchReceiptReceived {
    async fn handle(&mut self, _ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        black_box(element.attr("id"));
        Ok(())
    }
}

#[payload(name = "presence", ns = "jabber:client")]
#[derive(Default)]
struct BenchPresence;

impl Payload for BenchPresence {
    async fn handle(&mut self, _ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        black_box((element.attr("from"), element.child_text("status", CLIENT)));
        Ok(())
    }
}

#[payload(name = "c", ns = "http://jabber.org/protocol/caps")]
#[derive(Default)]
struct BenchCaps;

impl Payload for BenchCaps {
    async fn handle(&mut self, _ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        black_box((element.attr("node"), element.attr("ver")));
        Ok(())
    }
}

#[payload(name = "query", ns = "jabber:iq:roster")]
#[derive(Default)]
struct BenchRosterPush;

impl Payload for BenchRosterPush {
    async fn handle(&mut self, _ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        black_box(element.children().filter_map(|i| i.attr("jid").map(|j| j.len())).sum::<usize>());
        Ok(())
    }
}

#[payload(name = "event", ns = "http://jabber.org/protocol/pubsub#event", node = "urn:xmpp:microblog:0")]
#[derive(Default)]
struct BenchMicroblog;

impl Payload for BenchMicroblog {
    async fn handle(&mut self, _ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        for item in element.children().flat_map(|items| items.children()) {
            let entry = item.child("entry", "http://www.w3.org/2005/Atom");
            black_box(entry.and_then(|e| e.child_text("title", "http://www.w3.org/2005/Atom")));
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct BenchRosterGet;

#[action(group = "bench")]
impl BenchRosterGet {
    fn request(&self) -> ElementBuilder {
        iq_get(None).append(ElementBuilder::new("query", "jabber:iq:roster"))
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) {
        black_box(stanza.child("query", "jabber:iq:roster").map(|q| q.children().count()));
    }
}

#[derive(Serialize, Deserialize)]
struct BenchDiscoInfo {
    to: String,
}

#[action(group = "bench")]
impl BenchDiscoInfo {
    fn request(&self) -> ElementBuilder {
        iq_get(Some(&self.to)).append(ElementBuilder::new("query", "http://jabber.org/protocol/disco#info"))
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) {
        black_box(stanza.first_child().map(|q| q.children().filter(|f| f.name() == "feature").count()));
    }
}

// ---- the stream ---------------------------------------------------------------------------------------------

pub(crate) const HEADER: &str =
    "<?xml version='1.0'?><stream:stream from='example.com' id='bench' to='juliet@example.com' \
    version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/// The stanzas of the stream; replies carry the ids of the Actions requested on `xec`.
pub(crate) fn generate(n: usize, xec: &Xec) -> String {
    let mut s = String::from(HEADER);
    let ctx = xec.context();
    for i in 0..n {
        let peer = format!("contact{}@example.net", i % 97);
        match i % 20 {
            0..=7 => s.push_str(&format!(
                "<message from='{peer}/phone' to='juliet@example.com/moxl' type='chat' id='m{i}'>\
                 <body>Message number {i}: wherefore art thou, &amp; where is the balcony? 🌹</body>\
                 <active xmlns='http://jabber.org/protocol/chatstates'/>\
                 <request xmlns='urn:xmpp:receipts'/>\
                 <origin-id xmlns='urn:xmpp:sid:0' id='5f0a1c5e-{i:08x}'/>\
                 <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@example.com' id='a{i:08x}'/></message>\n"
            )),
            8 | 9 => s.push_str(&format!(
                "<message from='{peer}/phone' to='juliet@example.com/moxl' id='r{i}'>\
                 <received xmlns='urn:xmpp:receipts' id='m{}'/></message>\n",
                i.saturating_sub(3)
            )),
            10..=13 => s.push_str(&format!(
                "<presence from='{peer}/laptop' to='juliet@example.com/moxl'><show>away</show>\
                 <status>Gone to Verona</status><priority>5</priority>\
                 <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://movim.eu/' \
                 ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>\n"
            )),
            14 => s.push_str(&format!(
                "<iq to='juliet@example.com/moxl' id='push{i}' type='set'><query xmlns='jabber:iq:roster' ver='v{i}'>\
                 <item jid='{peer}' name='Contact {i}' subscription='both'><group>Friends</group></item></query></iq>\n"
            )),
            15 => {
                let id = ctx.request(BenchRosterGet).map(|r| r.id().to_owned()).unwrap_or_default();
                s.push_str(&format!("<iq to='juliet@example.com/moxl' id='{id}' type='result'><query xmlns='jabber:iq:roster' ver='ver{i}'>"));
                for k in 0..12 {
                    s.push_str(&format!(
                        "<item jid='friend{k}@example.org' name='Friend {k}' subscription='both'><group>Verona</group></item>"
                    ));
                }
                s.push_str("</query></iq>\n");
            }
            16 => {
                let id = ctx.request(BenchDiscoInfo { to: peer.clone() + "/laptop" }).map(|r| r.id().to_owned()).unwrap_or_default();
                s.push_str(&format!(
                    "<iq from='{peer}/laptop' to='juliet@example.com/moxl' id='{id}' type='result'>\
                     <query xmlns='http://jabber.org/protocol/disco#info'>\
                     <identity category='client' type='pc' name='Movim'/>"
                ));
                for f in [
                    "http://jabber.org/protocol/caps",
                    "http://jabber.org/protocol/disco#info",
                    "http://jabber.org/protocol/chatstates",
                    "urn:xmpp:receipts",
                    "urn:xmpp:microblog:0+notify",
                    "urn:xmpp:ping",
                    "jabber:iq:version",
                    "urn:xmpp:message-correct:0",
                ] {
                    s.push_str(&format!("<feature var='{f}'/>"));
                }
                s.push_str("</query></iq>\n");
            }
            _ => s.push_str(&format!(
                "<message from='{peer}' to='juliet@example.com/moxl' id='ev{i}'>\
                 <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:microblog:0'>\
                 <item id='post-{i}' publisher='{peer}'><entry xmlns='http://www.w3.org/2005/Atom'>\
                 <title type='text'>Post {i} on the balcony</title>\
                 <author><name>Contact {i}</name><uri>xmpp:{peer}</uri></author>\
                 <content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>Good night, good night! \
                 Parting is such sweet sorrow, that I shall say good night till it be <b>morrow</b>.</p></div></content>\
                 <link rel='alternate' type='text/html' href='https://example.net/post-{i}'/>\
                 <link rel='replies' title='comments' href='xmpp:pubsub.example.net?;node=urn:xmpp:microblog:0:comments/{i}'/>\
                 <category term='verona'/><published>2026-11-24T07:{:02}:00Z</published>\
                 <updated>2026-11-24T07:{:02}:00Z</updated><id>tag:example.net,2026:post-{i}</id>\
                 </entry></item></items></event></message>\n",
                i % 60,
                i % 60
            )),
        }
    }
    s
}

// ---- the measured work --------------------------------------------------------------------------------------------

pub(crate) fn baseline(bytes: &[u8]) -> usize {
    let mut reader = NsReader::from_reader(bytes);
    reader.config_mut().trim_text(false);
    let mut events = 0;
    loop {
        match reader.read_resolved_event() {
            Ok((_, Event::Eof)) | Err(_) => break,
            Ok((ns, event)) => {
                black_box((ns, event));
                events += 1;
            }
        }
    }
    events
}

/// What a session does with received bytes: parse, dispatch each stanza, write what the handlers sent (taken
/// after each chunk, as the writer would).
pub(crate) fn moxl_pipeline(bytes: &[u8], xec: &Xec, rt: &tokio::runtime::Runtime) -> usize {
    rt.block_on(async {
        let mut parser = StreamParser::new();
        let mut stanzas = 0;
        for chunk in bytes.chunks(16 * 1024) {
            parser.feed(chunk);
            while let Ok(Some(event)) = parser.next_event() {
                if let StreamEvent::Element(stanza) = event {
                    black_box(xec.dispatch(stanza).await);
                    stanzas += 1;
                }
            }
            black_box(xec.take_outgoing());
        }
        stanzas
    })
}

pub(crate) fn parse_only(bytes: &[u8]) -> usize {
    let mut parser = StreamParser::new();
    let mut stanzas = 0;
    for chunk in bytes.chunks(16 * 1024) {
        parser.feed(chunk);
        while let Ok(Some(event)) = parser.next_event() {
            black_box(event);
            stanzas += 1;
        }
    }
    stanzas
}

pub(crate) fn dispatch_only(stanzas: &[Element], xec: &Xec, rt: &tokio::runtime::Runtime) -> usize {
    rt.block_on(async {
        for chunk in stanzas.chunks(32) {
            for stanza in chunk {
                black_box(xec.dispatch(stanza.clone()).await);
            }
            black_box(xec.take_outgoing());
        }
    });
    stanzas.len()
}

pub(crate) fn parse_all(stream: &str) -> Vec<Element> {
    let mut parser = StreamParser::new();
    parser.feed(stream.as_bytes());
    let mut out = Vec::new();
    while let Ok(Some(event)) = parser.next_event() {
        if let StreamEvent::Element(e) = event {
            out.push(e);
        }
    }
    out
}

pub(crate) fn controller() -> Result<Xec> {
    Xec::builder().account(moxl::jid::BareJid::new("juliet@example.com")?).build()
}

/// The kind of a stanza, for the allocation table: its name and its first child's.
pub(crate) fn kind(stanza: &Element) -> String {
    let first = stanza.first_child().map(|c| c.name().to_owned()).unwrap_or_default();
    let kind = stanza.attr("type").map(|t| format!(" type={t}")).unwrap_or_default();
    format!("{}{kind} <{first}/>", stanza.name())
}
