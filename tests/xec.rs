//! XEC end to end, sans I/O: handlers registered by annotation in this crate (outside moxl-core, with a
//! namespace of its own) receive stanzas parsed from byte fixtures. Covers Action replies and errors,
//! spoofed replies, timeouts and late replies, the three-level descent and its order, pubsub nodes, the
//! catch-all, `service-unavailable`, revived Actions, and Packet keys as public API.

// Test and bench code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;
use std::time::Duration;

use moxl::prelude::*;
use moxl::stanza::StanzaError;
use moxl::xec::{Dispatched, HandlerFailure, MemoryActionStore, Packet, PacketStream};
use moxl::xml::{StreamEvent, StreamParser};

/// Handlers append what they saw here, to check the firing order.
#[derive(Default)]
struct Log(Mutex<Vec<String>>);

fn log(ctx: &Context, entry: String) {
    if let Some(l) = ctx.get::<Log>() {
        l.0.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
    }
}

fn logged(xec: &Xec) -> Vec<String> {
    xec.context().get::<Log>().map(|l| l.0.lock().unwrap_or_else(|e| e.into_inner()).clone()).unwrap_or_default()
}

// ---- Payloads -------------------------------------------------------------------------------------------

#[payload(name = "message", ns = "jabber:client")]
#[derive(Default)]
struct Message;

impl Payload for Message {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        log(ctx, format!("message:{}", element.name()));
        if let Some(body) = element.child_text("body", "jabber:client") {
            ctx.pack(body).deliver();
        }
        Ok(())
    }
}

/// A child of the message, like a chat state, in a namespace of this test's own (moxl-xep's XEP-0085 handler
/// would fire on the real one too).
#[payload(name = "active", ns = "urn:example:moxl-test:state")]
#[derive(Default)]
struct ChatStateActive;

impl Payload for ChatStateActive {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        log(ctx, format!("active:{}<{}", element.name(), stanza.name()));
        ctx.deliver();
        Ok(())
    }
}

/// A namespace of this test crate's own, matched as a grandchild.
#[payload(name = "custom", ns = "urn:example:moxl-test")]
#[derive(Default)]
struct Custom;

impl Payload for Custom {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        log(ctx, format!("custom:{}", element.attr("n").unwrap_or_default()));
        ctx.pack(element.attr("n").map(|n| n.into_owned())).deliver();
        Ok(())
    }
}

/// XEP-0060 §7.1.2.1: an event for the microblog node (matched by the node of `<items>`).
#[payload(name = "event", ns = "http://jabber.org/protocol/pubsub#event", node = "urn:xmpp:microblog:0")]
#[derive(Default)]
struct MicroblogEvent;

impl Payload for MicroblogEvent {
    async fn handle(&mut self, ctx: &Context, _element: &Element, _stanza: &Element) -> Result<()> {
        log(ctx, "microblog".into());
        ctx.deliver();
        Ok(())
    }
}

/// Any pubsub event, whatever its node.
#[payload(name = "event", ns = "http://jabber.org/protocol/pubsub#event", key = "pubsub_event")]
#[derive(Default)]
struct AnyEvent;

impl Payload for AnyEvent {
    async fn handle(&mut self, ctx: &Context, _element: &Element, _stanza: &Element) -> Result<()> {
        log(ctx, "any-event".into());
        Ok(())
    }
}

/// RFC 6121 §2.1.6 roster push.
#[payload(name = "query", ns = "jabber:iq:roster")]
#[derive(Default)]
struct RosterPush;

impl Payload for RosterPush {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        ctx.send(moxl::stanza::iq_result(stanza))?;
        ctx.deliver();
        Ok(())
    }
}

/// A handler that fails.
#[payload(name = "broken", ns = "urn:example:moxl-test")]
#[derive(Default)]
struct Broken;

impl Payload for Broken {
    async fn handle(&mut self, _ctx: &Context, _element: &Element, _stanza: &Element) -> Result<()> {
        Err(Error::handler("cannot"))
    }
}

/// Only as a direct child of the stanza (an iq payload): `at = "child"`.
#[payload(name = "direct", ns = "urn:example:moxl-test", at = "child")]
#[derive(Default)]
struct DirectOnly;

impl Payload for DirectOnly {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        log(ctx, format!("direct:{}", element.attr("n").unwrap_or_default()));
        if stanza.attr("type").as_deref() == Some("get") {
            ctx.send(moxl::stanza::iq_result(stanza))?;
        }
        Ok(())
    }
}

/// A stanza-level handler that opts into nested stanzas too (`at = "any"`), e.g. for a traffic log.
#[payload(name = "presence", ns = "jabber:client", at = "any", key = "any_presence")]
#[derive(Default)]
struct AnyPresence;

impl Payload for AnyPresence {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        log(ctx, format!("presence:{}", if element.ptr_eq(stanza) { "top" } else { "nested" }));
        Ok(())
    }
}

/// A request handler that declines (matches, answers nothing), and one that leaves the answer to the
/// application.
#[payload(name = "decline", ns = "urn:example:moxl-test", at = "child")]
#[derive(Default)]
struct Decline;

impl Payload for Decline {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        if element.has_attr("later") {
            ctx.answer_later();
            ctx.deliver();
        }
        Ok(())
    }
}

/// Delivers `n` Packets (to fill a subscriber's queue).
#[payload(name = "burst", ns = "urn:example:moxl-test")]
#[derive(Default)]
struct Burst;

impl Payload for Burst {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        let n: u32 = element.attr("n").and_then(|n| n.parse().ok()).unwrap_or(1);
        for i in 0..n {
            ctx.pack(i).deliver();
        }
        Ok(())
    }
}

// ---- Actions --------------------------------------------------------------------------------------------

/// XEP-0054 vCard retrieval, in a group of its own (moxl-xep's `xep_0054_vcard_temp::Get` owns `vcard_get_*`).
#[derive(Serialize, Deserialize)]
struct Get {
    to: Option<String>,
    note: String,
}

#[action(group = "card")]
impl Get {
    fn request(&self) -> ElementBuilder {
        iq_get(self.to.as_deref()).append(ElementBuilder::new("vCard", "vcard-temp"))
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<()> {
        let full_name =
            stanza.child("vCard", "vcard-temp").and_then(|v| v.child_text("FN", "vcard-temp")).unwrap_or_default();
        ctx.pack(format!("{}:{full_name}", self.note)).deliver();
        Ok(())
    }

    async fn error_item_not_found(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(format!("{}:{}", self.note, error.text().unwrap_or_default())).deliver();
    }
}

/// A paged request: each page's Action continues with the next one until the last; the requester gets every
/// item from the last page's Action (`Context::continue_with`).
#[derive(Serialize, Deserialize)]
struct Pages {
    page: u32,
    items: Vec<String>,
}

#[action(group = "pages")]
impl Pages {
    type Output = Vec<String>;

    fn request(&self) -> ElementBuilder {
        iq_get(None).append(ElementBuilder::new("list", "urn:example:moxl-test").attr("page", self.page.to_string()))
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<Vec<String>> {
        let list = stanza.child("list", "urn:example:moxl-test").ok_or_else(|| Error::handler("no list"))?;
        self.items.extend(list.children().filter_map(|c| c.attr("n").map(|n| n.into_owned())));
        if list.has_attr("more") {
            ctx.continue_with(Pages { page: self.page + 1, items: std::mem::take(&mut self.items) })?;
        }
        Ok(std::mem::take(&mut self.items))
    }
}

mod roster {
    use moxl::prelude::*;

    /// RFC 6121 §2.3 roster set; its group comes from this module's name.
    #[derive(Serialize, Deserialize)]
    pub(crate) struct AddItem {
        pub(crate) jid: String,
    }

    #[action]
    impl AddItem {
        fn request(&self) -> ElementBuilder {
            iq_set(None).append(
                ElementBuilder::new("query", "jabber:iq:roster")
                    .append(ElementBuilder::new("item", "jabber:iq:roster").attr("jid", self.jid.clone())),
            )
        }

        async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
            ctx.pack(self.jid.clone()).deliver();
        }

        async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
            ctx.pack(error.condition_name().to_owned()).deliver();
        }

        async fn timeout(&mut self, ctx: &Context) {
            ctx.pack(self.jid.clone()).deliver();
        }
    }
}

mod xep_0199_ping {
    use moxl::prelude::*;

    /// XEP-0199 §4.2 client-to-server ping; the `xep_0199_` prefix is dropped from the group.
    #[derive(Serialize, Deserialize)]
    pub(crate) struct Ping;

    #[action]
    impl Ping {
        fn request(&self) -> ElementBuilder {
            iq_get(Some("capulet.lit")).append(ElementBuilder::new("ping", "urn:xmpp:ping"))
        }

        async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
            ctx.deliver();
        }
    }
}

// ---- helpers --------------------------------------------------------------------------------------------

const OPEN: &str = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='im.example.com' id='s'>";

/// Parses a server stream (a fixture) into its stanzas.
fn stanzas(xml: &str) -> Vec<Element> {
    let mut parser = StreamParser::new();
    parser.feed(OPEN.as_bytes());
    parser.feed(xml.as_bytes());
    let mut out = Vec::new();
    while let Ok(Some(event)) = parser.next_event() {
        if let StreamEvent::Element(e) = event {
            out.push(e);
        }
    }
    out
}

fn one(xml: &str) -> Element {
    stanzas(xml).pop().unwrap_or_else(|| unreachable!("fixture has no stanza: {xml}"))
}

fn xec() -> Xec {
    Xec::builder()
        .extension(Log::default())
        .account(moxl::jid::BareJid::new("juliet@im.example.com").unwrap_or_else(|e| unreachable!("{e}")))
        .build()
        .unwrap_or_else(|e| unreachable!("{e}"))
}

fn keys(stream: &mut PacketStream) -> Vec<String> {
    std::iter::from_fn(|| stream.try_recv()).map(|p| p.key().to_owned()).collect()
}

fn sent_id(xec: &Xec) -> String {
    let out = xec.take_outgoing();
    assert_eq!(out.len(), 1, "one request sent");
    out[0].attr("id").map(|i| i.into_owned()).unwrap_or_default()
}

// ---- tests ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn action_reply_reaches_handle_with_its_fields() -> Result<()> {
    let xec = xec();
    let mut packets = xec.packets();
    xec.context().request(Get { to: Some("romeo@example.net".into()), note: "n1".into() })?;
    let id = sent_id(&xec);
    // XEP-0054 §3.1, Example 2 (abridged)
    let reply = one(&format!(
        "<iq from='romeo@example.net' to='juliet@im.example.com/balcony' type='result' id='{id}'>\
         <vCard xmlns='vcard-temp'><FN>Romeo Montague</FN></vCard></iq>"
    ));
    assert_eq!(xec.dispatch(reply).await, Dispatched::Reply);
    let p = packets.try_recv().unwrap_or_else(|| unreachable!());
    assert_eq!(p.key(), "card_get_handle");
    assert_eq!(p.content::<String>().map(String::as_str), Some("n1:Romeo Montague"));
    assert_eq!(p.from(), Some("romeo@example.net"));
    assert_eq!(xec.pending(), 0);
    Ok(())
}

#[tokio::test]
async fn error_conditions_route_to_their_methods() -> Result<()> {
    let xec = xec();
    let mut packets = xec.packets();
    xec.context().request(Get { to: Some("romeo@example.net".into()), note: "n2".into() })?;
    let id = sent_id(&xec);
    // XEP-0054 §3.1, Example 3: no vCard
    let reply = one(&format!(
        "<iq from='romeo@example.net' type='error' id='{id}'><error type='cancel'>\
         <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>none here</text></error></iq>"
    ));
    assert_eq!(xec.dispatch(reply).await, Dispatched::Reply);
    let p = packets.try_recv().unwrap_or_else(|| unreachable!());
    assert_eq!(p.key(), "card_get_erroritemnotfound");
    assert_eq!(p.content::<String>().map(String::as_str), Some("n2:none here"));

    // a condition with no method and no generic `error`: a Packet carrying the error
    xec.context().request(Get { to: Some("romeo@example.net".into()), note: "n3".into() })?;
    let id = sent_id(&xec);
    let reply = one(&format!(
        "<iq from='romeo@example.net' type='error' id='{id}'><error type='auth'>\
         <forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ));
    xec.dispatch(reply).await;
    let p = packets.try_recv().unwrap_or_else(|| unreachable!());
    assert_eq!(p.key(), "card_get_errorforbidden");
    assert_eq!(p.content::<StanzaError>().and_then(StanzaError::condition), Some(Condition::Forbidden));

    // an unknown condition goes to the generic method
    xec.context().request(roster::AddItem { jid: "nurse@example.com".into() })?;
    let id = sent_id(&xec);
    let reply = one(&format!(
        "<iq type='error' id='{id}'><error type='cancel'><made-up xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ));
    xec.dispatch(reply).await;
    let p = packets.try_recv().unwrap_or_else(|| unreachable!());
    assert_eq!(p.key(), "roster_additem_error");
    assert_eq!(p.content::<String>().map(String::as_str), Some("made-up"));
    Ok(())
}

#[tokio::test]
async fn spoofed_replies_never_reach_the_action() -> Result<()> {
    let xec = xec();
    let mut packets = xec.packets();
    xec.context().request(Get { to: Some("romeo@example.net/orchard".into()), note: "n".into() })?;
    let id = sent_id(&xec);
    for from in ["mallory@evil.example", "romeo@example.net", "romeo@example.net/other", "im.example.com"] {
        let spoof = one(&format!(
            "<iq from='{from}' type='result' id='{id}'><vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard></iq>"
        ));
        assert_eq!(xec.dispatch(spoof).await, Dispatched::Unhandled, "from {from}");
    }
    // and a forged "result" carrying a roster query does not reach the roster-push Payload either
    let forged =
        one(&format!("<iq from='mallory@evil.example' type='result' id='{id}'><query xmlns='jabber:iq:roster'/></iq>"));
    assert_eq!(xec.dispatch(forged).await, Dispatched::Unhandled);
    // a request from the addressee that happens to reuse the id is a request, not the reply
    let request = one(&format!(
        "<iq from='romeo@example.net/orchard' type='get' id='{id}'><query xmlns='jabber:iq:roster'/></iq>"
    ));
    // (two Payloads match a roster query: this file's and moxl-xep's roster-push handler, which ignores a get)
    assert_eq!(xec.dispatch(request).await, Dispatched::Payloads(2));
    xec.take_outgoing();
    assert_eq!(keys(&mut packets), [vec![Packet::UNHANDLED; 5], vec!["rosterpush"]].concat());
    assert_eq!(xec.pending(), 1);
    assert!(xec.take_outgoing().is_empty(), "a result is never answered");
    // the real reply (JIDs compare normalized)
    let real = one(&format!("<iq from='Romeo@Example.NET/orchard' type='result' id='{id}'/>"));
    assert_eq!(xec.dispatch(real).await, Dispatched::Reply);
    assert_eq!(keys(&mut packets), ["card_get_handle"]);
    Ok(())
}

#[tokio::test]
async fn requests_to_our_server_are_answered_without_from_or_from_our_bare_jid() -> Result<()> {
    let xec = xec();
    let mut packets = xec.packets();
    for from in ["", " from='juliet@im.example.com'"] {
        xec.context().request(roster::AddItem { jid: "nurse@example.com".into() })?;
        let id = sent_id(&xec);
        let spoof = one(&format!("<iq from='juliet@im.example.com/other' type='result' id='{id}'/>"));
        assert_eq!(xec.dispatch(spoof).await, Dispatched::Unhandled);
        assert_eq!(xec.dispatch(one(&format!("<iq{from} type='result' id='{id}'/>"))).await, Dispatched::Reply);
    }
    assert_eq!(
        keys(&mut packets),
        [Packet::UNHANDLED, "roster_additem_handle", Packet::UNHANDLED, "roster_additem_handle"]
    );
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn pending_actions_time_out_on_a_timer_and_late_replies_are_dropped() -> Result<()> {
    let xec = std::sync::Arc::new(xec());
    let mut packets = xec.packets();
    let timers = tokio::spawn({
        let xec = std::sync::Arc::clone(&xec);
        async move { xec.run_timers().await }
    });
    xec.context().request(roster::AddItem { jid: "a@example.com".into() })?;
    let late_id = sent_id(&xec);
    xec.context().request_with_timeout(xep_0199_ping::Ping, Duration::from_secs(5))?;
    let ping_id = sent_id(&xec);
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(keys(&mut packets), ["ping_ping_timeout"]);
    assert_eq!(xec.pending(), 1);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(keys(&mut packets), ["roster_additem_timeout"]);
    assert_eq!(xec.pending(), 0);
    // the late reply neither reaches the Action nor a Payload (nor the catch-all)
    let late = one(&format!("<iq type='result' id='{late_id}'><query xmlns='jabber:iq:roster'/></iq>"));
    assert_eq!(xec.dispatch(late).await, Dispatched::LateReply);
    let late_ping = one(&format!("<iq from='capulet.lit' type='result' id='{ping_id}'/>"));
    assert_eq!(xec.dispatch(late_ping).await, Dispatched::LateReply);
    assert!(keys(&mut packets).is_empty());
    timers.abort();
    Ok(())
}

#[tokio::test]
async fn descent_fires_every_match_in_document_order() -> Result<()> {
    let xec = xec();
    let mut packets = xec.packets();
    let msg = one("<message from='romeo@example.net/orchard' type='chat'><body>hi</body>\
         <active xmlns='urn:example:moxl-test:state'/>\
         <wrap xmlns='urn:example:other'><custom xmlns='urn:example:moxl-test' n='grandchild'>\
           <deeper><custom xmlns='urn:example:moxl-test' n='too-deep'/></deeper></custom></wrap>\
         <custom xmlns='urn:example:moxl-test' n='child'/></message>");
    // moxl-xep's handlers are registered too (MUC reads every body): at least the four of this file fire.
    assert!(matches!(xec.dispatch(msg).await, Dispatched::Payloads(n) if n >= 4));
    assert_eq!(logged(&xec), ["message:message", "active:active<message", "custom:grandchild", "custom:child"]);
    let ours = ["message", "chatstateactive", "custom"];
    let p: Vec<_> = std::iter::from_fn(|| packets.try_recv()).filter(|p| ours.contains(&p.key())).collect();
    let got: Vec<_> = p.iter().map(|p| p.key()).collect();
    assert_eq!(got, ["message", "chatstateactive", "custom", "custom"]);
    assert_eq!(p[0].content::<String>().map(String::as_str), Some("hi"));
    assert_eq!(p[1].from(), Some("romeo@example.net/orchard"));
    Ok(())
}

#[tokio::test]
async fn pubsub_events_are_matched_by_node() -> Result<()> {
    let xec = xec();
    // XEP-0277 §3.2 / XEP-0060 §7.1.2.1: a microblog notification
    let mb = one(
        "<message from='pubsub.example.com' to='juliet@im.example.com'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
         <items node='urn:xmpp:microblog:0'><item id='1cb57d9c'><entry xmlns='http://www.w3.org/2005/Atom'><title>hi</title></entry></item></items>\
         </event></message>",
    );
    // moxl-xep's pubsub and microblog handlers fire as well.
    assert!(matches!(xec.dispatch(mb).await, Dispatched::Payloads(n) if n >= 3));
    // the node-specific handler first, then the generic one
    assert_eq!(logged(&xec), ["message:message", "microblog", "any-event"]);
    let other = one("<message from='pubsub.example.com'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
         <purge node='princely_musings'/></event></message>");
    assert!(matches!(xec.dispatch(other).await, Dispatched::Payloads(n) if n >= 2));
    assert_eq!(logged(&xec)[3..], ["message:message", "any-event"]);
    Ok(())
}

#[tokio::test]
async fn unhandled_requests_get_service_unavailable_and_reach_the_catch_all() -> Result<()> {
    let xec = xec();
    let mut unhandled = xec.subscribe(Packet::UNHANDLED);
    // a request in a namespace nobody handles (moxl-xep answers real XEP-0199 pings)
    let ping = one("<iq from='capulet.lit' to='juliet@capulet.lit/balcony' id='s2c1' type='get'><nothing xmlns='urn:example:unhandled'/></iq>");
    assert_eq!(xec.dispatch(ping).await, Dispatched::Unhandled);
    let out = xec.take_outgoing();
    assert_eq!(
        out[0].to_xml(),
        "<iq xmlns='jabber:client' type='error' id='s2c1' to='capulet.lit'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    );
    let p = unhandled.try_recv().unwrap_or_else(|| unreachable!());
    assert!(p.content::<Element>().is_some_and(|e| e.attr("id").as_deref() == Some("s2c1")));
    // a roster push is handled and answered by its Payload
    let push = one(
        "<iq id='a78b4q6ha463' type='set'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com'/></query></iq>",
    );
    // this file's Payload and moxl-xep's `roster_push` handler both answer it (the same result)
    assert_eq!(xec.dispatch(push).await, Dispatched::Payloads(2));
    assert_eq!(xec.take_outgoing()[0].to_xml(), "<iq xmlns='jabber:client' type='result' id='a78b4q6ha463'/>");
    // an error or a result is never answered
    let err = one("<iq id='zz' type='error'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    assert_eq!(xec.dispatch(err).await, Dispatched::Unhandled);
    assert!(xec.take_outgoing().is_empty());
    Ok(())
}

#[tokio::test]
async fn failing_handlers_are_reported() {
    let xec = xec();
    let mut failures = xec.subscribe(Packet::HANDLER_ERROR);
    let m = one("<message><broken xmlns='urn:example:moxl-test'/></message>");
    // this file's two, and moxl-xep's incoming-message Payload (every message; no body: nothing delivered)
    assert_eq!(xec.dispatch(m).await, Dispatched::Payloads(3));
    let f = failures.try_recv().unwrap_or_else(|| unreachable!());
    let failure = f.content::<HandlerFailure>().unwrap_or_else(|| unreachable!());
    assert_eq!(failure.key, "broken");
    assert_eq!(failure.error, "handler: cannot");
}

#[tokio::test]
async fn a_stored_action_is_revived_by_a_later_run() -> Result<()> {
    let store = MemoryActionStore::default();
    let id = {
        let first_run = xec();
        first_run.context().request(Get { to: Some("romeo@example.net".into()), note: "kept".into() })?;
        first_run.save_to(&store).await?;
        sent_id(&first_run)
    };
    let second_run = xec();
    assert_eq!(second_run.restore_from(&store).await?, 1);
    let mut packets = second_run.packets();
    let reply = one(&format!(
        "<iq from='romeo@example.net' type='result' id='{id}'><vCard xmlns='vcard-temp'><FN>R</FN></vCard></iq>"
    ));
    assert_eq!(second_run.dispatch(reply).await, Dispatched::Reply);
    let p = packets.try_recv().unwrap_or_else(|| unreachable!());
    assert_eq!((p.key(), p.content::<String>().map(String::as_str)), ("card_get_handle", Some("kept:R")));
    // state that does not match the type is a clear error, not a panic
    let bad = moxl::xec::StoredAction {
        id: "x".into(),
        type_name: <Get as Action>::TYPE_NAME.into(),
        state: "{\"to\": 3}".into(),
        to: None,
        deadline: std::time::SystemTime::now(),
    };
    assert!(matches!(second_run.restore(&bad), Err(Error::Store(moxl::error::StoreError::Revive { .. }))));
    let unknown = moxl::xec::StoredAction { type_name: "nowhere::Gone".into(), ..bad };
    assert!(matches!(second_run.restore(&unknown), Err(Error::Store(moxl::error::StoreError::UnknownAction { .. }))));
    Ok(())
}

#[tokio::test]
async fn position_is_part_of_a_match() -> Result<()> {
    let xec = xec();
    // `at = "child"`: a direct child of the iq fires, a grandchild does not.
    let iq = one("<iq type='get' id='d1' from='romeo@example.net/orchard'>\
         <direct xmlns='urn:example:moxl-test' n='child'/>\
         <wrap xmlns='urn:example:other'><direct xmlns='urn:example:moxl-test' n='grandchild'/></wrap></iq>");
    xec.dispatch(iq).await;
    assert_eq!(logged(&xec), ["direct:child"]);
    assert_eq!(xec.take_outgoing()[0].attr("type").as_deref(), Some("result"), "answered once, by the handler");
    // A presence nested in a message is not the stanza: the default stanza-level handlers do not fire for it,
    // and nothing inside it is matched as part of the message; a handler registered `at = "any"` sees it.
    let msg = one("<message from='mallory@evil.example' type='chat'><x xmlns='urn:example:other'>\
         <presence xmlns='jabber:client' from='juliet@im.example.com/balcony'/></x><message from='bank.example' type='chat'>\
         <body>forged</body><custom xmlns='urn:example:moxl-test' n='inside-nested'/></message></message>");
    xec.dispatch(msg).await;
    let log = logged(&xec);
    assert_eq!(&log[1..], ["message:message", "presence:nested"], "{log:?}");
    let presence = one("<presence from='romeo@example.net/orchard'/>");
    xec.dispatch(presence).await;
    assert_eq!(logged(&xec).last().map(String::as_str), Some("presence:top"));
    Ok(())
}

#[tokio::test]
async fn every_iq_request_gets_one_reply() -> Result<()> {
    let xec = xec();
    let mut unhandled = xec.subscribe(Packet::UNHANDLED);
    // A handler that matched but declined: the dispatcher answers, and the catch-all still sees the request.
    xec.dispatch(one(
        "<iq type='set' id='x1' from='romeo@example.net/orchard'><decline xmlns='urn:example:moxl-test'/></iq>",
    ))
    .await;
    let out = xec.take_outgoing();
    assert_eq!(out.len(), 1);
    assert!(out[0].to_xml().contains("<service-unavailable"), "{}", out[0].to_xml());
    assert!(unhandled.try_recv().is_some());
    // A handler that leaves the answer to the application: nothing is sent for it.
    xec.dispatch(one("<iq type='set' id='x2' from='romeo@example.net/orchard'><decline xmlns='urn:example:moxl-test' later=''/></iq>")).await;
    assert!(xec.take_outgoing().is_empty());
    // A payload one level too deep for its handler: unhandled, answered.
    xec.dispatch(one("<iq type='get' id='x3' from='romeo@example.net/orchard'><wrap xmlns='urn:example:other'><direct xmlns='urn:example:moxl-test'/></wrap></iq>")).await;
    assert!(xec.take_outgoing()[0].to_xml().contains("<service-unavailable"));
    Ok(())
}

#[tokio::test]
async fn a_subscriber_that_does_not_read_holds_its_session_and_loses_nothing() -> Result<()> {
    let xec = Xec::builder().event_capacity(4).build()?;
    let mut numbers = xec.events::<u32>();
    // Ten Packets for a queue of four: the dispatch waits for the subscriber.
    let burst =
        one("<message from='romeo@example.net/orchard'><burst xmlns='urn:example:moxl-test' n='10'/></message>");
    let mut dispatch = Box::pin(xec.dispatch(burst));
    assert!(tokio::time::timeout(Duration::from_millis(50), &mut dispatch).await.is_err(), "it must wait");
    let mut got = Vec::new();
    let mut done = false;
    while got.len() < 10 || !done {
        tokio::select! {
            _ = &mut dispatch, if !done => done = true,
            Some(n) = numbers.recv() => got.push(*n),
        }
    }
    assert_eq!(got, (0..10).collect::<Vec<u32>>(), "in order, none lost");
    // A dropped subscription holds nothing.
    drop(numbers);
    xec.dispatch(one(
        "<message from='romeo@example.net/orchard'><burst xmlns='urn:example:moxl-test' n='10'/></message>",
    ))
    .await;
    Ok(())
}

#[tokio::test]
async fn a_continued_action_answers_its_first_requester() -> Result<()> {
    let xec = xec();
    let mut pages = xec.subscribe("pages_pages_handle");
    let request = xec.context().request(Pages { page: 1, items: vec![] })?;
    for (page, reply) in [(1, "<a n='1'/><a n='2'/>"), (2, "<a n='3'/>")] {
        let id = sent_id(&xec);
        let more = if page == 1 { " more=''" } else { "" };
        let xml = format!("<iq type='result' id='{id}'><list xmlns='urn:example:moxl-test'{more}>{reply}</list></iq>");
        assert_eq!(xec.dispatch(one(&xml)).await, Dispatched::Reply);
    }
    assert_eq!(request.await?, ["1", "2", "3"]);
    // The Moxl view: one Packet for the chain, from its last step.
    assert_eq!(pages.try_recv().and_then(|p| p.content::<Vec<String>>().map(Vec::len)), Some(3));
    assert!(pages.try_recv().is_none());
    Ok(())
}

#[test]
fn packet_keys_are_public_api() -> Result<()> {
    let registry = moxl::xec::Registry::global()?;
    assert_eq!(registry.action_prefix(<Get as Action>::TYPE_NAME), Some("card_get"));
    assert_eq!(registry.action_prefix(<roster::AddItem as Action>::TYPE_NAME), Some("roster_additem"));
    assert_eq!(registry.action_prefix(<xep_0199_ping::Ping as Action>::TYPE_NAME), Some("ping_ping"));
    assert_eq!(<Get as Action>::TYPE_NAME, "xec::Get");
    let keys: Vec<_> = registry.payload_entries().into_iter().map(|(_, _, node, key, _)| (key, node)).collect();
    for expected in [
        ("message", None),
        ("chatstateactive", None),
        ("custom", None),
        ("microblogevent", Some("urn:xmpp:microblog:0")),
        ("pubsub_event", None),
        ("rosterpush", None),
    ] {
        assert!(keys.contains(&expected), "{expected:?} in {keys:?}");
    }
    Ok(())
}
