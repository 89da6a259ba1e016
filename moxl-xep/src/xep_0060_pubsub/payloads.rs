//! The Payload that delivers every pubsub event notification.

use moxl_core::payload;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::Element;

use super::Event;

/// Delivers every event notification (§7.1.2, §7.2.2, §8.2.4, §8.4.2, §8.5.2, §8.8.4), whatever its node, as
/// an [`Event`] under the Packet key `pubsubevent` (the Packet's sender is the message's `from`).
///
/// | Packet key | content | when |
/// |---|---|---|
/// | `pubsubevent` | [`Event`] | a `<message/>` with a pubsub `<event/>` child |
///
/// Modules that handle one node register their own Payload with `node = "…"` (see the
/// [module documentation](super)); this one fires as well, after them, so that an application can follow
/// nodes no module knows. The typed view `xec.events::<Event>()` gets this Payload's Packets, and also those of
/// any node handler that delivers the [`Event`] itself (as the module documentation's example does): the same
/// notification twice. Subscribe by key (`pubsubevent`) to get each notification once. The moxl-xep modules
/// deliver their own types (`UserData<T>`, `MicroblogEvent`, `BookmarkChange`…), never an [`Event`].
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::{Event, EventKind};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// // the typed view of the Packets keyed `pubsubevent`
/// let mut events = xec.events::<Event>();
/// // §8.4.2, Example 173: the node was deleted
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='pubsub.shakespeare.lit' to='bernardo@denmark.lit' id='foo'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><delete node='princely_musings'>\
///     <redirect uri='xmpp:hamlet@denmark.lit?;node=blog'/></delete></event></message>")?).await;
/// let packet = events.try_recv().unwrap();
/// assert_eq!(packet.from(), Some("pubsub.shakespeare.lit"));
/// let event = &*packet;
/// assert!(matches!(&event.kind, EventKind::Delete { redirect: Some(uri) } if uri == "xmpp:hamlet@denmark.lit?;node=blog"));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "event", ns = "http://jabber.org/protocol/pubsub#event", key = "pubsubevent", at = "child")]
#[derive(Debug, Default)]
pub struct PubsubEvent;

impl Payload for PubsubEvent {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<Event>()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        if let Some(event) = Event::from_message(stanza) {
            ctx.pack(event).deliver();
        }
        Ok(())
    }
}
