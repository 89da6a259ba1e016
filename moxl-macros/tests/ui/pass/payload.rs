// Payloads with and without `node` and `key`, and one with a raw identifier; they register themselves and
// fire on a dispatched stanza under their Packet keys.
#![deny(warnings, rust_2018_idioms)]
use moxl::prelude::*;
use moxl::xec::{Dispatched, Registry, Xec};

#[payload(name = "failure", ns = "urn:ietf:params:xml:ns:xmpp-sasl")]
#[derive(Default)]
pub struct SaslFailure;

impl Payload for SaslFailure {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        ctx.pack(element.first_child().map(|c| c.name().to_owned())).deliver();
        Ok(())
    }
}

// A namespace of its own: moxl-xep's pubsub handlers would fire on a real pubsub event too.
#[payload(name = "event", ns = "urn:example:moxl-ui:event", node = "urn:example:avatar", key = "avatar_update")]
#[derive(Default)]
pub struct AvatarEvent {
    seen: u32,
}

impl Payload for AvatarEvent {
    async fn handle(&mut self, ctx: &Context, _element: &Element, _stanza: &Element) -> Result<()> {
        self.seen += 1;
        ctx.pack(self.seen).deliver();
        Ok(())
    }
}

#[payload(node = "x", ns = "urn:example:raw", name = "type", crate = "::moxl")]
#[derive(Default)]
#[allow(non_camel_case_types)]
pub struct r#Type;

impl Payload for r#Type {
    async fn handle(&mut self, _: &Context, _: &Element, _: &Element) -> Result<()> {
        Ok(())
    }
}

/// Polls a future that never waits on anything outside itself (the runtime does no I/O) to completion.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..1000 {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("the future did not complete");
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let entries = Registry::global()?.payload_entries();
    let here = module_path!();
    assert!(entries.contains(&(
        "failure",
        "urn:ietf:params:xml:ns:xmpp-sasl",
        None,
        "saslfailure",
        &*format!("{here}::SaslFailure"),
    )));
    assert!(entries.contains(&(
        "event",
        "urn:example:moxl-ui:event",
        Some("urn:example:avatar"),
        "avatar_update",
        &*format!("{here}::AvatarEvent"),
    )));
    assert!(entries.contains(&("type", "urn:example:raw", Some("x"), "type", &*format!("{here}::Type"))));

    let xec = Xec::new()?;
    let mut packets = xec.packets();
    let failure = Element::parse(
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
    )?;
    assert_eq!(block_on(xec.dispatch(failure)), Dispatched::Payloads(1));
    let packet = packets.try_recv().ok_or("no packet")?;
    assert_eq!(packet.key(), "saslfailure");
    assert_eq!(packet.content::<Option<String>>(), Some(&Some("not-authorized".to_owned())));

    let event = Element::parse(
        "<message xmlns='jabber:client' from='juliet@example.com'>\
           <event xmlns='urn:example:moxl-ui:event'><items node='urn:example:avatar'/></event>\
         </message>",
    )?;
    // this one, and moxl-xep's handler of every top-level message (which delivers nothing without a body)
    assert!(matches!(block_on(xec.dispatch(event)), Dispatched::Payloads(n) if n >= 1));
    let packet = packets.try_recv().ok_or("no packet")?;
    assert_eq!(packet.key(), "avatar_update");
    assert_eq!(packet.content::<u32>(), Some(&1), "a fresh value handles each match");
    Ok(())
}
