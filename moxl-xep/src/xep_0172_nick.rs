//! XEP-0172: User Nickname, on our PEP node `http://jabber.org/protocol/nick` (§4.5): [`Nick`], the [`Publish`]
//! and [`Get`] Actions (group `nick`) and the [`NickEvents`] Payload (key `nick`; we declare
//! `http://jabber.org/protocol/nick+notify`); [`with_nick`] adds it to a subscription request or a message
//! (§4.1, §4.2). Built on the shared shape of [`xep_0080_geoloc`](crate::xep_0080_geoloc) ([`PepData`],
//! [`UserData`]).

use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0080_geoloc::{PepData, UserData, fetch_data, publish_data};

/// `http://jabber.org/protocol/nick` (§3): the namespace and the PEP node.
///
/// ```
/// assert_eq!(moxl_xep::xep_0172_nick::NS, "http://jabber.org/protocol/nick");
/// ```
pub const NS: &str = "http://jabber.org/protocol/nick";

moxl_core::feature!("http://jabber.org/protocol/nick+notify");

/// A nickname the user chose (§3). An empty one says the user stopped publishing it.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::PepData;
/// use moxl_xep::xep_0172_nick::Nick;
/// // §4.5, Example 5
/// let n = Nick::from_element(&Element::parse("<nick xmlns='http://jabber.org/protocol/nick'>Ishmael</nick>")?).unwrap();
/// assert_eq!(n, Nick("Ishmael".into()));
/// assert_eq!(Nick::from_element(&n.to_element().build()?), Some(n));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nick(pub String);

impl PepData for Nick {
    const NODE: &'static str = NS;

    fn from_element(n: &Element) -> Option<Nick> {
        n.is("nick", NS).then(|| Nick(n.text().trim().to_owned()))
    }

    fn to_element(&self) -> ElementBuilder {
        let n = ElementBuilder::new("nick", NS);
        if self.0.is_empty() { n } else { n.text(self.0.clone()) }
    }
}

/// Adds our nickname to a presence subscription request or a message (§4.1, §4.2).
///
/// ```
/// use moxl_core::stanza::presence;
/// // §4.1, Example 1
/// let p = moxl_xep::xep_0172_nick::with_nick(presence(Some("juliet@capulet.com"), Some("subscribe")), "Romeo").build()?;
/// assert_eq!(
///     p.to_xml(),
///     "<presence xmlns='jabber:client' to='juliet@capulet.com' type='subscribe'><nick xmlns='http://jabber.org/protocol/nick'>Romeo</nick></presence>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_nick(stanza: ElementBuilder, nick: &str) -> ElementBuilder {
    stanza.append(Nick(nick.to_owned()).to_element())
}

/// Publishes our nick ([`Nick`]).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `nick_publish_handle` | none |
/// | error | `nick_publish_error<condition>` | the [`StanzaError`](moxl_core::stanza::StanzaError) |
///
/// ```
/// use moxl_xep::xep_0172_nick::{Publish, Nick};
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(Publish { nick: Nick("Ishmael".into()) })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Publish {
    /// What to publish.
    pub nick: Nick,
}

#[action(group = "nick")]
impl Publish {
    fn request(&self) -> ElementBuilder {
        publish_data(&self.nick)
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }
}

/// Reads the nick of `from` (`None`: ours).
///
/// Its `Output` is the [`UserData`] read (`ctx.request(..)?.await`); the Packets are the second view.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `nick_get_handle` | [`UserData`]`<`[`Nick`]`>` |
/// | error (`item-not-found`: never published) | `nick_get_error<condition>` | the [`StanzaError`](moxl_core::stanza::StanzaError) |
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// // the Output, also delivered as the Packet in the table
/// let read = xec.context().request(moxl_xep::xep_0172_nick::Get { from: Some("narrator@moby-dick.lit".into()) })?.await?;
/// println!("{:?} published {:?}", read.from, read.data.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Get {
    /// Whose nick (a bare JID); `None` for ours.
    pub from: Option<String>,
}

#[action(group = "nick")]
impl Get {
    /// What was read: the publisher, the item id and the data (`None`: nothing published).
    type Output = UserData<Nick>;

    fn request(&self) -> ElementBuilder {
        fetch_data::<Nick>(self.from.as_deref())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<UserData<Nick>> {
        Ok(UserData::<Nick>::from_result(stanza))
    }
}

/// Delivers nick notifications as [`UserData`]`<`[`Nick`]`>` (Packet key `nick`, sender the publisher).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::UserData;
/// use moxl_xep::xep_0172_nick::Nick;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// // the typed view of the Packets keyed `nick`
/// let mut events = xec.events::<UserData<Nick>>();
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='narrator@moby-dick.lit'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='http://jabber.org/protocol/nick'>\
///     <item id='current'><nick xmlns='http://jabber.org/protocol/nick'>Ishmael</nick></item></items></event></message>")?).await;
/// let p = events.try_recv().unwrap();
/// let data = p.data.as_ref().unwrap();
/// assert!(data.0 == "Ishmael");
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(
    name = "event",
    ns = "http://jabber.org/protocol/pubsub#event",
    node = "http://jabber.org/protocol/nick",
    key = "nick",
    at = "child"
)]
#[derive(Debug, Default)]
pub struct NickEvents;

impl Payload for NickEvents {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(u) = UserData::<Nick>::from_event(stanza) {
            ctx.pack(u).deliver();
        }
        Ok(())
    }
}
