//! The hot path, measured: a realistic generated server stream (chat messages with chat states, receipts and
//! stable ids; receipts; presences with caps; roster pushes and results; disco#info results; pubsub microblog
//! events) pushed through `StreamParser` + `Xec::dispatch` into handlers registered here, against quick-xml's
//! `NsReader` tokenizing (and resolving namespaces of) the same bytes in the same run.
//!
//! Prints MB/s for both and their ratio (target: >= 0.75), and the bytes retained per stanza when every stanza
//! is kept, measured by a counting allocator, against the XML size (target: <= 1.5).
//!
//! `cargo bench --bench pipeline` (set `MOXL_BENCH_STANZAS` to change the size of the stream).

// Test and bench code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use moxl::prelude::*;
use moxl::xml::{StreamEvent, StreamParser};
use quick_xml::events::Event;
use quick_xml::NsReader;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

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

const HEADER: &str = "<?xml version='1.0'?><stream:stream from='example.com' id='bench' to='juliet@example.com' \
    version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/// The stanzas of the stream; replies carry the ids of the Actions requested on `xec`.
fn generate(n: usize, xec: &Xec) -> String {
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

// ---- measurements --------------------------------------------------------------------------------------------

fn baseline(bytes: &[u8]) -> usize {
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

fn moxl_pipeline(bytes: &[u8], xec: &Xec, rt: &tokio::runtime::Runtime) -> usize {
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
        }
        xec.take_outgoing();
        stanzas
    })
}

fn parse_only(bytes: &[u8]) -> usize {
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

fn parse_all(stream: &str) -> Vec<Element> {
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

fn best_of(rounds: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut out = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        out = black_box(f());
        best = best.min(start.elapsed());
    }
    (best, out)
}

fn mbps(bytes: usize, t: Duration) -> f64 {
    bytes as f64 / t.as_secs_f64() / 1e6
}

fn main() -> Result<()> {
    let n: usize = std::env::var("MOXL_BENCH_STANZAS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_current_thread().build().map_err(|e| Error::handler(e.to_string()))?;
    let rounds = 7;

    // Throughput: each round needs its own pending Actions (replies consume them), so streams are generated
    // up front, one per round, on one controller.
    let xec = Xec::builder().account(moxl::jid::BareJid::new("juliet@example.com")?).build()?;
    let streams: Vec<String> = (0..rounds).map(|_| generate(n, &xec)).collect();
    let size = streams[0].len();
    let (base_t, events) = best_of(rounds, || baseline(streams[0].as_bytes()));
    let mut round = 0;
    let (ours_t, stanzas) = best_of(rounds, || {
        round += 1;
        moxl_pipeline(streams[round - 1].as_bytes(), &xec, &rt)
    });
    let (parse_t, _) = best_of(rounds, || parse_only(streams[0].as_bytes()));
    // Dispatch alone, over stanzas parsed beforehand (fresh Actions for their replies).
    let xec_d = Xec::builder().account(moxl::jid::BareJid::new("juliet@example.com")?).build()?;
    let parsed: Vec<Vec<Element>> = (0..rounds).map(|_| parse_all(&generate(n, &xec_d))).collect();
    let mut round_d = 0;
    let (dispatch_t, _) = best_of(rounds, || {
        round_d += 1;
        rt.block_on(async {
            for stanza in &parsed[round_d - 1] {
                black_box(xec_d.dispatch(stanza.clone()).await);
            }
        });
        xec_d.take_outgoing().len()
    });
    let ratio = base_t.as_secs_f64() / ours_t.as_secs_f64();
    println!("stream: {n} stanzas, {:.2} MB, {events} quick-xml events", size as f64 / 1e6);
    println!("baseline quick-xml NsReader tokenize+resolve: {:8.1} MB/s", mbps(size, base_t));
    println!(
        "moxl parse + dispatch to handlers:            {:8.1} MB/s  ({stanzas} stanzas, {:.0} ns/stanza)",
        mbps(size, ours_t),
        ours_t.as_nanos() as f64 / stanzas as f64
    );
    println!(
        "moxl parse only (StreamParser -> Elements):  {:8.1} MB/s  ratio {:.2}x",
        mbps(size, parse_t),
        base_t.as_secs_f64() / parse_t.as_secs_f64()
    );
    println!("moxl dispatch only (to handlers):            {:8.0} ns/stanza", dispatch_t.as_nanos() as f64 / n as f64);
    println!("ratio moxl/baseline: {ratio:.2}x (target >= 0.75x)");

    // Memory: keep every stanza; count what stays allocated.
    let xec2 = Xec::new()?;
    let stream = generate(n, &xec2);
    let xml_bytes = stream.len() - HEADER.len();
    let region = Region::new(GLOBAL);
    let mut kept = Vec::with_capacity(n);
    let before = region.change();
    let mut parser = StreamParser::new();
    for chunk in stream.as_bytes().chunks(16 * 1024) {
        parser.feed(chunk);
        while let Ok(Some(event)) = parser.next_event() {
            if let StreamEvent::Element(stanza) = event {
                kept.push(stanza);
            }
        }
    }
    drop(parser);
    let after = region.change();
    let retained = (after.bytes_allocated as isize - after.bytes_deallocated as isize)
        - (before.bytes_allocated as isize - before.bytes_deallocated as isize);
    let vec_bytes = kept.capacity() * std::mem::size_of::<Element>();
    let per_stanza = (retained as f64 - vec_bytes as f64) / kept.len() as f64;
    let xml_per_stanza = xml_bytes as f64 / kept.len() as f64;
    println!(
        "retained per stanza (all {} kept): {:.0} bytes for {:.0} bytes of XML = {:.2}x (target <= 1.5x)",
        kept.len(),
        per_stanza,
        xml_per_stanza,
        per_stanza / xml_per_stanza
    );
    Ok(())
}
