//! Fuzzes the receive path: `StreamParser` (fed in chunks) → `Element` → `Xec::dispatch` → handlers.
//!
//! Input layout: the first byte picks how the rest is split into chunks (see `Chunker`); the rest is what a
//! server sends after its stream header. Every occurrence of `$id` in it is replaced by the id of the Action
//! requested up front, so that the fuzzer can reach the reply path (ids are random).
//!
//! Properties checked (a panic is a bug; parser errors are expected and end the run):
//! - nothing panics in the parser, the element accessors, the dispatcher or the handlers;
//! - every element the parser yields, and every stanza the dispatcher sends, serializes (`to_xml`) to XML that
//!   strict parsers (xml-rs and roxmltree) accept as the same tree, and that `Element::parse` accepts and
//!   serializes again to the same string with the same name, namespace, attributes and text (off with
//!   `MOXL_FUZZ_ROUNDTRIP=0`);
//! - splitting the input into chunks changes nothing: the same elements, the same end, the same error
//!   (condition and text) (off with `MOXL_FUZZ_CHUNKING=0`).
//!
//! The parser runs with its default limits; `$*k` in the input repeats the bytes before it (see
//! [`common::expand`]), so that small inputs reach them.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use moxl::prelude::*;
use moxl::xml::{StreamEvent, StreamParser, XmlError};

mod common;
use common::{strict_round_trip, Chunker};

const HEADER: &[u8] = b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
const ACCOUNT: &str = "juliet@im.example.com";
/// Replaced by the pending Action's id.
const ID_MARK: &[u8] = b"$id";

/// `MOXL_FUZZ_CHUNKING=0` turns off the chunked-versus-whole comparison, `MOXL_FUZZ_ROUNDTRIP=0` the
/// serialization checks (to look past a known failure for panics).
static CHECK_CHUNKING: LazyLock<bool> = LazyLock::new(|| enabled("MOXL_FUZZ_CHUNKING"));
static CHECK_ROUNDTRIP: LazyLock<bool> = LazyLock::new(|| enabled("MOXL_FUZZ_ROUNDTRIP"));

fn enabled(var: &str) -> bool {
    std::env::var_os(var).is_none_or(|v| v != "0")
}

static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a current-thread runtime")
});

// ---- handlers: read whatever the fuzzer sent, the way applications do -----------------------------------

/// RFC 6120 §8 / RFC 6121 §5: a message.
#[payload(name = "message", ns = "jabber:client")]
#[derive(Default)]
struct Message;

impl Payload for Message {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        let kind = element.attr("type").map(|t| t.into_owned());
        let body = element.child_text("body", "jabber:client");
        let thread = element.child("thread", "jabber:client").map(|t| (t.attr("parent").is_some(), t.text().len()));
        let attrs = element.attrs().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        let children =
            element.children().map(|c| c.qname().len() + c.ns().len() + usize::from(c.has_children())).sum::<usize>();
        let _ = (ctx.from(), stanza.root().name(), thread, attrs, children);
        // XEP-0184: answer a receipt request, so fuzzed ids and JIDs go through the builder.
        if element.child("request", "urn:xmpp:receipts").is_some() {
            if let (Some(from), Some(id)) = (element.attr("from"), element.attr("id")) {
                let receipt = message(&from, "normal", None)
                    .append(ElementBuilder::new("received", "urn:xmpp:receipts").attr("id", id.into_owned()));
                ctx.send(receipt)?;
            }
        }
        if kind.as_deref() == Some("error") {
            let error = StanzaError::from_stanza(element);
            let _ = error.as_ref().map(|e| (e.condition(), e.condition_name().len(), e.text()));
        }
        ctx.pack(body.unwrap_or_default()).deliver();
        Ok(())
    }
}

/// RFC 6121 §2.1.6: a roster push, answered with a result.
#[payload(name = "query", ns = "jabber:iq:roster")]
#[derive(Default)]
struct RosterQuery;

impl Payload for RosterQuery {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        let _ver = element.attr("ver");
        let mut items = Vec::new();
        for item in element.children().filter(|c| c.is("item", "jabber:iq:roster")) {
            let jid = item.attr("jid").map(|j| j.into_owned()).unwrap_or_default();
            let parsed = moxl::jid::Jid::new(&jid).is_ok();
            let name = item.attr("name").map(|n| n.into_owned());
            let subscription = item.attr("subscription").map(|s| s.into_owned());
            let groups: Vec<String> =
                item.children().filter(|g| g.is("group", "jabber:iq:roster")).map(|g| g.text().into_owned()).collect();
            items.push((jid, parsed, name, subscription, groups));
        }
        if stanza.name() == "iq" && stanza.attr("type").as_deref() == Some("set") {
            ctx.send(iq_result(stanza))?;
        }
        ctx.pack(items).deliver();
        Ok(())
    }
}

/// XEP-0277 / XEP-0060 §7.1.2.1: a microblog notification, matched by node.
#[payload(name = "event", ns = "http://jabber.org/protocol/pubsub#event", node = "urn:xmpp:microblog:0")]
#[derive(Default)]
struct MicroblogEvent;

impl Payload for MicroblogEvent {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        let mut titles = Vec::new();
        for items in element.children() {
            let _node = items.attr("node");
            for item in items.children() {
                let _id = item.attr("id");
                if let Some(entry) = item.child("entry", "http://www.w3.org/2005/Atom") {
                    titles.push(entry.child_text("title", "http://www.w3.org/2005/Atom").unwrap_or_default());
                    let _ = entry.to_xml();
                }
            }
        }
        ctx.pack(titles).deliver();
        Ok(())
    }
}

/// XEP-0092 software version, requested up front so that `$id` in the input reaches the reply path.
#[derive(Serialize, Deserialize)]
struct Probe {
    note: String,
}

#[action(group = "fuzz")]
impl Probe {
    fn request(&self) -> ElementBuilder {
        iq_get(None).append(ElementBuilder::new("query", "jabber:iq:version"))
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<()> {
        let query = stanza.child("query", "jabber:iq:version");
        let name = query.as_ref().and_then(|q| q.child_text("name", "jabber:iq:version"));
        let version = query.as_ref().and_then(|q| q.child_text("version", "jabber:iq:version"));
        ctx.pack(format!("{}:{name:?}:{version:?}", self.note)).deliver();
        Ok(())
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element) {
        let _ = (error.condition(), stanza.attr("from"));
        ctx.pack(format!("{}:{}:{:?}", self.note, error.condition_name(), error.text())).deliver();
    }

    async fn timeout(&mut self, ctx: &Context) {
        ctx.deliver();
    }
}

// ---- the harness ----------------------------------------------------------------------------------------

/// What the parser made of the input: the elements, then whether it stopped with an error (and which).
#[derive(Default)]
struct Parsed {
    elements: Vec<Element>,
    ended: bool,
    error: Option<XmlError>,
    /// Bytes held at the end: the parser is waiting for the rest of a token.
    waiting: bool,
}

fn parse(body: &[u8], mut chunker: Chunker) -> Parsed {
    // The limits a client runs with (1 MiB stanzas, 64 KiB start tags, depth 32): `$*` repetitions reach them.
    let mut parser = StreamParser::new();
    let mut out = Parsed::default();
    parser.feed(HEADER);
    let mut rest = body;
    let mut first = true;
    loop {
        // The header alone first, then the body in chunks.
        if !first {
            if rest.is_empty() {
                out.waiting = parser.buffered() > 0;
                return out;
            }
            let n = chunker.next_len().min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            parser.feed(chunk);
            rest = tail;
        }
        first = false;
        loop {
            match parser.next_event() {
                Ok(Some(StreamEvent::Header(h))) => {
                    assert!(out.elements.is_empty() && !out.ended, "second header: {h:?}")
                }
                Ok(Some(StreamEvent::Element(e))) => out.elements.push(e),
                Ok(Some(StreamEvent::End)) => out.ended = true,
                Ok(None) => break,
                Err(e) => {
                    out.error = Some(e);
                    return out;
                }
            }
        }
    }
}

/// Reads every accessor of an element and its descendants (panics are what we look for).
fn walk(e: &Element, depth: usize) -> usize {
    let mut n = e.qname().len() + e.name().len() + e.ns().len() + e.text().len();
    n += e.attrs().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    let _ = (e.attr("id"), e.attr("xml:lang"), e.has_attr("from"), e.first_child().map(|c| c.root().ptr_eq(&e.root())));
    assert!(depth <= 32, "deeper than the parser's limit");
    for child in e.children() {
        n += walk(&child, depth + 1);
    }
    n
}

/// `to_xml` must give XML that strict parsers accept as the same tree, and that moxl parses back to the same
/// element (which serializes the same again).
fn round_trip(e: &Element, what: &str) {
    let xml = e.to_xml();
    if !*CHECK_ROUNDTRIP {
        let _ = Element::parse(&xml);
        return;
    }
    strict_round_trip(e, what);
    let again = match Element::parse(&xml) {
        Ok(again) => again,
        Err(err) => panic!("{what}: to_xml output does not re-parse: {err}\n  xml: {xml:?}"),
    };
    assert_eq!(again.to_xml(), xml, "{what}: to_xml changes across a round trip");
    assert_eq!((again.name(), again.ns()), (e.name(), e.ns()), "{what}: name/ns changed; xml: {xml:?}");
    let attrs = |e: &Element| e.attrs().map(|(k, v)| (k.to_owned(), v.into_owned())).collect::<Vec<_>>();
    assert_eq!(attrs(&again), attrs(e), "{what}: attributes changed; xml: {xml:?}");
    assert_eq!(again.text(), e.text(), "{what}: text changed; xml: {xml:?}");
    assert_eq!(again.children().count(), e.children().count(), "{what}: children changed; xml: {xml:?}");
}

fn substitute(body: &[u8], id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    let mut rest = body;
    while !rest.is_empty() {
        if rest.starts_with(ID_MARK) {
            out.extend_from_slice(id.as_bytes());
            rest = &rest[ID_MARK.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

async fn run(mode: u8, body: &[u8]) {
    let account = moxl::jid::BareJid::new(ACCOUNT).expect("a valid JID");
    let xec = Xec::builder().account(account).build().expect("the registry is consistent");
    let mut packets = xec.packets();
    let id = xec.context().request(Probe { note: "probe".into() }).expect("the request is sent").id().to_owned();
    for out in xec.take_outgoing() {
        round_trip(&out, "request");
    }
    let body = common::expand(&substitute(body, &id));

    let parsed = parse(&body, Chunker::new(mode));
    if !Chunker::new(mode).whole() && *CHECK_CHUNKING {
        let whole = parse(&body, Chunker::new(0));
        let xml = |p: &Parsed| p.elements.iter().map(Element::to_xml).collect::<Vec<_>>();
        assert_eq!(xml(&parsed), xml(&whole), "chunking changed the elements");
        assert_eq!(parsed.ended, whole.ended, "chunking changed the end of the stream");
        // Exactly the same error (condition and text): the parser reports errors in input order.
        assert_eq!(parsed.error, whole.error, "chunking changed the error");
        assert_eq!(parsed.waiting, whole.waiting, "chunking changed whether bytes are held");
    }

    for element in parsed.elements {
        walk(&element, 1);
        round_trip(&element, "received");
        let _ = xec.dispatch(element).await;
        for out in xec.take_outgoing() {
            round_trip(&out, "sent");
        }
        while let Some(p) = packets.try_recv() {
            let _ = (p.key().len(), p.from(), p.content::<String>(), p.has_content());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else { return };
    RT.block_on(run(mode, body));
});
