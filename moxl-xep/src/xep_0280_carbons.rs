//! XEP-0280: Message Carbons. Turns carbons on and off ([`Enable`], [`Disable`], §4 and §5), marks a message
//! that must not be copied ([`private`], §6), and unwraps the copies the server sends: a received carbon (§6) is
//! a message another of our clients received, a sent carbon (§7) one that another of our clients sent.
//!
//! Each carbon is delivered as a [`Carbon`] (Packet keys `carbonreceived` and `carbonsent`), then its inner
//! message is dispatched through the Payloads *as that message* (with
//! [`Context::dispatch_inner`](moxl_core::xec::Context::dispatch_inner)), so that the application's message
//! handlers, chat states or receipts see it as if it had come to this client. Handlers tell a copy from a live
//! message with `ctx.envelope::<Direction>()`: it is `Some(Direction::Sent)` for a message *we* sent from another
//! client (not one to answer: receipts are not sent for it, nor for any copy, whose addressee answers itself).
//!
//! Security (§11): a carbon is taken only from our own bare JID (the server copies on our behalf). Anyone else
//! can send a message that looks like a carbon, to make us believe a contact wrote something: such a message is
//! dropped and logged with a warning, never dispatched.

use moxl_core::jid::Jid;
use moxl_core::stanza::iq_set;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0297_forwarding::Forwarded;

/// `urn:xmpp:carbons:2` (§4, §13).
///
/// ```
/// assert_eq!(moxl_xep::xep_0280_carbons::NS, "urn:xmpp:carbons:2");
/// ```
pub const NS: &str = "urn:xmpp:carbons:2";

/// `urn:xmpp:hints` (XEP-0334), whose `<no-copy/>` a [`private`] message also carries (§6).
///
/// ```
/// assert_eq!(moxl_xep::xep_0280_carbons::HINTS_NS, "urn:xmpp:hints");
/// ```
pub const HINTS_NS: &str = crate::xep_0334_hints::NS;

moxl_core::feature!("urn:xmpp:carbons:2");

/// The request that turns carbons on for this client (§4, Example 3).
///
/// ```
/// let iq = moxl_xep::xep_0280_carbons::enable().attr("id", "enable1").build()?;
/// assert_eq!(iq.to_xml(), "<iq xmlns='jabber:client' type='set' id='enable1'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn enable() -> ElementBuilder {
    iq_set(None).append(ElementBuilder::new("enable", NS))
}

/// The request that turns carbons off for this client (§5, Example 6).
///
/// ```
/// let iq = moxl_xep::xep_0280_carbons::disable().attr("id", "disable1").build()?;
/// assert_eq!(iq.to_xml(), "<iq xmlns='jabber:client' type='set' id='disable1'><disable xmlns='urn:xmpp:carbons:2'/></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn disable() -> ElementBuilder {
    iq_set(None).append(ElementBuilder::new("disable", NS))
}

/// Marks a message as private: the server makes no carbon of it (§6, Example 13): adds
/// `<private xmlns='urn:xmpp:carbons:2'/>` and, as §6 recommends, the `<no-copy/>` hint of XEP-0334.
///
/// ```
/// use moxl_core::stanza::message;
/// use moxl_xep::xep_0280_carbons::private;
/// let m = private(message("romeo@montague.lit/orchard", "chat", Some("Neither, fair saint, if either thee dislike.")));
/// assert_eq!(
///     m.build()?.to_xml(),
///     "<message xmlns='jabber:client' to='romeo@montague.lit/orchard' type='chat'>\
///      <body>Neither, fair saint, if either thee dislike.</body>\
///      <private xmlns='urn:xmpp:carbons:2'/><no-copy xmlns='urn:xmpp:hints'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn private(message: ElementBuilder) -> ElementBuilder {
    no_copy(message.append(ElementBuilder::new("private", NS)))
}

/// Adds the XEP-0334 `<no-copy xmlns='urn:xmpp:hints'/>` hint alone (servers that honour hints make no carbon).
///
/// ```
/// use moxl_core::stanza::message;
/// let m = moxl_xep::xep_0280_carbons::no_copy(message("romeo@montague.lit", "chat", None));
/// assert!(m.build()?.child("no-copy", "urn:xmpp:hints").is_some());
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn no_copy(message: ElementBuilder) -> ElementBuilder {
    message.append(crate::xep_0334_hints::Hint::NoCopy.element())
}

/// Whether a message is marked [`private`] (§6).
///
/// ```
/// use moxl_core::xml::Element;
/// let m = Element::parse("<message xmlns='jabber:client'><private xmlns='urn:xmpp:carbons:2'/></message>")?;
/// assert!(moxl_xep::xep_0280_carbons::is_private(&m));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn is_private(message: &Element) -> bool {
    message.child("private", NS).is_some()
}

/// Which way a carbon copied message went.
///
/// It is also the envelope of the unwrapped message: a Payload sees `ctx.envelope::<Direction>()` while it handles
/// one.
///
/// ```
/// use moxl_xep::xep_0280_carbons::Direction;
/// assert_eq!(Direction::from_element_name("sent"), Some(Direction::Sent));
/// assert_eq!(Direction::from_element_name("forwarded"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// `<received/>` (§6): another of our clients received it; its `from` is the contact.
    Received,
    /// `<sent/>` (§7): another of our clients sent it; its `to` is the contact.
    Sent,
}

impl Direction {
    /// The direction named by a carbon's wrapper element (`received` or `sent`).
    ///
    /// ```
    /// use moxl_xep::xep_0280_carbons::Direction;
    /// assert_eq!(Direction::from_element_name("received"), Some(Direction::Received));
    /// ```
    pub fn from_element_name(name: &str) -> Option<Direction> {
        match name {
            "received" => Some(Direction::Received),
            "sent" => Some(Direction::Sent),
            _ => None,
        }
    }
}

/// A carbon: the direction, the copied message and the time of its `<delay/>`, if the server added one.
///
/// | Payload | Packet key |
/// |---|---|
/// | [`CarbonReceived`] | `carbonreceived` |
/// | [`CarbonSent`] | `carbonsent` |
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0280_carbons::{Carbon, Direction};
/// // §6, Example 10 (a received carbon)
/// let m = Element::parse("<message xmlns='jabber:client' from='romeo@montague.example' to='romeo@montague.example/home' type='chat'>\
///     <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
///     <message xmlns='jabber:client' from='juliet@capulet.example/balcony' to='romeo@montague.example/garden' type='chat'>\
///     <body>What man art thou that, thus bescreen'd in night, so stumblest on my counsel?</body>\
///     <thread>0e3141cd80894871a68e6fe6b1ec56fa</thread></message></forwarded></received></message>")?;
/// let c = Carbon::from_message(&m).unwrap();
/// assert_eq!(c.direction, Direction::Received);
/// assert_eq!(c.message.attr("from").as_deref(), Some("juliet@capulet.example/balcony"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Carbon {
    /// Received by or sent from another of our clients.
    pub direction: Direction,
    /// The copied message.
    pub message: Element,
    /// The `stamp` of the `<delay/>` inside `<forwarded/>`, if any.
    pub stamp: Option<String>,
}

impl Carbon {
    /// Reads the carbon in a message: `<received/>` or `<sent/>` holding a forwarded message (§6, §7). This
    /// does not check the sender: see [`is_from_own_account`].
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let plain = Element::parse("<message xmlns='jabber:client' from='a@b/c'><body>hi</body></message>")?;
    /// assert!(moxl_xep::xep_0280_carbons::Carbon::from_message(&plain).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_message(stanza: &Element) -> Option<Carbon> {
        if !stanza.is("message", ns::CLIENT) {
            return None;
        }
        stanza.children().find_map(|c| Carbon::from_wrapper(&c))
    }

    /// Reads a `<received/>` or `<sent/>` wrapper element.
    fn from_wrapper(wrapper: &Element) -> Option<Carbon> {
        if wrapper.ns() != NS {
            return None;
        }
        let direction = Direction::from_element_name(wrapper.name())?;
        let Forwarded { message, stamp, .. } = Forwarded::find_in(wrapper)?;
        Some(Carbon { direction, message, stamp })
    }
}

/// Whether `from` is `account` itself, the bare JID (§11: the only sender of genuine carbons). A missing `from`,
/// a full JID (even one of our own resources) or an unknown account is not.
///
/// ```
/// use moxl_core::jid::BareJid;
/// use moxl_xep::xep_0280_carbons::is_from_own_account;
/// let me = BareJid::new("romeo@montague.example")?;
/// assert!(is_from_own_account(Some("romeo@montague.example"), Some(&me)));
/// assert!(!is_from_own_account(Some("romeo@montague.example/home"), Some(&me)));
/// assert!(!is_from_own_account(Some("juliet@capulet.example"), Some(&me)));
/// assert!(!is_from_own_account(None, Some(&me)));
/// # Ok::<(), moxl_core::jid::Error>(())
/// ```
pub fn is_from_own_account(from: Option<&str>, account: Option<&moxl_core::jid::BareJid>) -> bool {
    match (from.map(Jid::new), account) {
        (Some(Ok(from)), Some(account)) => from.is_bare() && from.to_bare() == *account,
        _ => false,
    }
}

/// Turns carbons on (§4). Output: `()` once the server copies to this client; an error is
/// `Err(Error::Stanza(..))`. The second view: `carbons_enable_handle` (no content), or `carbons_enable_error`
/// (content: the [`StanzaError`](moxl_core::stanza::StanzaError)).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(moxl_xep::xep_0280_carbons::Enable)?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Enable;

#[action(group = "carbons")]
impl Enable {
    fn request(&self) -> ElementBuilder {
        enable()
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &moxl_core::stanza::StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Turns carbons off (§5). Output: `()` once done; an error is `Err(Error::Stanza(..))`. The second view:
/// `carbons_disable_handle`, or `carbons_disable_error` with the error.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(moxl_xep::xep_0280_carbons::Disable)?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Disable;

#[action(group = "carbons")]
impl Disable {
    fn request(&self) -> ElementBuilder {
        disable()
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &moxl_core::stanza::StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Checks and unwraps one carbon: delivers it, then dispatches its message. Shared by both Payloads.
async fn unwrap(ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
    // Only the wrapper directly inside the message (`at = "child"`), and never a carbon inside a carbon.
    if !stanza.is("message", ns::CLIENT) {
        return Ok(());
    }
    if ctx.is_unwrapped() {
        tracing::warn!(from = ?ctx.from(), "a carbon inside an unwrapped message: dropped");
        return Ok(());
    }
    let from = ctx.from();
    if !is_from_own_account(from.as_deref(), ctx.account().as_ref()) {
        tracing::warn!(from = ?from, account = ?ctx.account().map(|a| a.to_string()),
            "carbon not sent by our own bare JID (XEP-0280 §11): dropped as forged");
        return Ok(());
    }
    let Some(carbon) = Carbon::from_wrapper(element) else {
        tracing::warn!(from = ?from, "carbon without a forwarded message: dropped");
        return Ok(());
    };
    let (direction, message) = (carbon.direction, carbon.message.clone());
    ctx.pack(carbon).deliver();
    ctx.dispatch_inner(message, direction).await;
    Ok(())
}

/// Handles received carbons (§6): delivers a [`Carbon`] under `carbonreceived`, then dispatches the message as
/// if this client had received it. Only from our own bare JID (§11).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep as _; // linking moxl-xep registers its Payloads
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// let xec = Xec::builder().account(moxl_core::jid::BareJid::new("romeo@montague.example")?).build()?;
/// let mut carbons = xec.subscribe("carbonreceived");
/// let m = Element::parse("<message xmlns='jabber:client' from='romeo@montague.example' to='romeo@montague.example/home' type='chat'>\
///     <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
///     <message xmlns='jabber:client' from='juliet@capulet.example/balcony' to='romeo@montague.example/garden' type='chat'>\
///     <body>What man art thou?</body></message></forwarded></received></message>")?;
/// block_on(xec.dispatch(m));
/// assert!(carbons.try_recv().is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[payload(name = "received", ns = "urn:xmpp:carbons:2", at = "child")]
#[derive(Debug, Default)]
pub struct CarbonReceived;

impl Payload for CarbonReceived {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        unwrap(ctx, element, stanza).await
    }
}

/// Handles sent carbons (§7): delivers a [`Carbon`] under `carbonsent`, then dispatches the message (from our
/// other client, to the contact) with the envelope [`Direction::Sent`]. Only from our own bare JID (§11).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> Option<()> {
/// let mut sent = xec.subscribe("carbonsent");
/// let carbon = sent.recv().await?;
/// let to = carbon.content::<moxl_xep::xep_0280_carbons::Carbon>()?.message.attr("to");
/// # Some(()) }
/// ```
#[payload(name = "sent", ns = "urn:xmpp:carbons:2", at = "child")]
#[derive(Debug, Default)]
pub struct CarbonSent;

impl Payload for CarbonSent {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        unwrap(ctx, element, stanza).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::jid::BareJid;
    use moxl_core::xec::{Dispatched, Xec};

    /// §6, Example 10: a received carbon (with a receipt request added, to see that the copy is not answered).
    const RECEIVED: &str = "<message xmlns='jabber:client' from='romeo@montague.example' to='romeo@montague.example/home' type='chat'>\
        <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
        <message xmlns='jabber:client' from='juliet@capulet.example/balcony' to='romeo@montague.example/garden' type='chat' id='r1'>\
        <body>What man art thou that, thus bescreen'd in night, so stumblest on my counsel?</body>\
        <thread>0e3141cd80894871a68e6fe6b1ec56fa</thread><request xmlns='urn:xmpp:receipts'/></message>\
        </forwarded></received></message>";
    /// §7, Example 12: a sent carbon.
    const SENT: &str = "<message xmlns='jabber:client' from='romeo@montague.example' to='romeo@montague.example/garden' type='chat'>\
        <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
        <message xmlns='jabber:client' to='juliet@capulet.example/balcony' from='romeo@montague.example/home' type='chat' id='s1'>\
        <body>Neither, fair saint, if either thee dislike.</body><thread>0e3141cd80894871a68e6fe6b1ec56fa</thread>\
        <request xmlns='urn:xmpp:receipts'/><received xmlns='urn:xmpp:receipts' id='m0'/></message>\
        </forwarded></sent></message>";

    /// A test Payload that records every `<thread/>` it sees, with the envelope of its message.
    #[payload(name = "thread", ns = "jabber:client", key = "carbons_test_thread")]
    #[derive(Default)]
    struct SeeThread;

    impl Payload for SeeThread {
        async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
            ctx.pack((element.text().into_owned(), ctx.envelope::<Direction>().copied())).deliver();
            Ok(())
        }
    }

    fn romeo() -> Xec {
        Xec::builder().account(BareJid::new("romeo@montague.example").unwrap()).build().unwrap()
    }

    #[test]
    fn builders_are_the_spec_examples() {
        // §4 Example 3, §5 Example 6 (ids set by the request)
        assert!(enable().build().unwrap().child("enable", NS).is_some());
        assert!(disable().build().unwrap().child("disable", NS).is_some());
        let m =
            private(moxl_core::stanza::message("romeo@montague.example/garden", "chat", Some("x"))).build().unwrap();
        assert!(is_private(&m) && m.child("no-copy", HINTS_NS).is_some());
    }

    #[test]
    fn genuine_carbons_are_delivered_and_their_message_dispatched_with_its_direction() {
        let xec = romeo();
        let (mut received, mut sent) = (xec.subscribe("carbonreceived"), xec.subscribe("carbonsent"));
        let mut threads = xec.subscribe("carbons_test_thread");
        let mut receipts = xec.subscribe("receipt");

        // the carbon Payload, and the incoming-message Payload on the carrying message (no body: not delivered)
        assert_eq!(block_on(xec.dispatch(Element::parse(RECEIVED).unwrap())), Dispatched::Payloads(2));
        let p = received.try_recv().unwrap();
        let c = p.content::<Carbon>().unwrap();
        assert_eq!(c.direction, Direction::Received);
        assert_eq!(c.message.attr("id").as_deref(), Some("r1"));
        let t = threads.try_recv().unwrap();
        assert_eq!(t.from(), Some("juliet@capulet.example/balcony"), "the inner message's sender");
        assert_eq!(
            t.content::<(String, Option<Direction>)>(),
            Some(&("0e3141cd80894871a68e6fe6b1ec56fa".to_owned(), Some(Direction::Received)))
        );
        assert!(xec.take_outgoing().is_empty(), "a copy gets no receipt: its addressee answers");

        block_on(xec.dispatch(Element::parse(SENT).unwrap()));
        assert_eq!(sent.try_recv().unwrap().content::<Carbon>().map(|c| c.direction), Some(Direction::Sent));
        let t = threads.try_recv().unwrap();
        assert_eq!(t.content::<(String, Option<Direction>)>().map(|t| t.1), Some(Some(Direction::Sent)));
        assert!(xec.take_outgoing().is_empty(), "no receipt for a message we sent");
        assert!(receipts.try_recv().is_none(), "our own receipt in a sent carbon is no receipt for us");

        // a live message is seen with no envelope
        block_on(xec.dispatch(Element::parse(
            "<message xmlns='jabber:client' from='juliet@capulet.example/balcony' type='chat'><thread>t</thread></message>",
        ).unwrap()));
        assert_eq!(threads.try_recv().unwrap().content::<(String, Option<Direction>)>().map(|t| t.1), Some(None));
    }

    #[test]
    fn an_unwrapped_message_is_never_taken_as_an_actions_reply() {
        let xec = romeo();
        let id = xec.context().request(Enable).unwrap().id().to_owned();
        let mut enabled = xec.subscribe("carbons_enable_handle");
        // the copied message reuses the pending id and comes "from" our own bare JID, as a reply would
        let carbon = SENT
            .replace("id='s1'", &format!("id='{id}'"))
            .replace("from='romeo@montague.example/home'", "from='romeo@montague.example'");
        block_on(xec.dispatch(Element::parse(&carbon).unwrap()));
        assert_eq!(xec.pending(), 1, "the Action still waits for its reply");
        assert!(enabled.try_recv().is_none());
    }

    #[test]
    fn forged_or_misplaced_carbons_are_dropped() {
        let xec = romeo();
        let mut all = xec.packets();
        let forged = [
            // §11, Example 15: from someone else
            RECEIVED.replace("from='romeo@montague.example' to=", "from='juliet@capulet.example/balcony' to="),
            // from one of our own resources: not the bare JID
            RECEIVED.replace("from='romeo@montague.example' to=", "from='romeo@montague.example/other' to="),
            // without from
            RECEIVED.replace("from='romeo@montague.example' to=", "to="),
            // a carbon nested in a carbon
            format!(
                "<message xmlns='jabber:client' from='romeo@montague.example'><sent xmlns='urn:xmpp:carbons:2'>\
                 <forwarded xmlns='urn:xmpp:forward:0'>{}</forwarded></sent></message>",
                RECEIVED.replace("from='romeo@montague.example' to=", "from='romeo@montague.example' id='x' to=")
            ),
        ];
        for xml in &forged {
            block_on(xec.dispatch(Element::parse(xml).unwrap()));
            let mut keys = Vec::new();
            while let Some(p) = all.try_recv() {
                keys.push(p.key().to_owned());
            }
            assert!(
                !keys.iter().any(|k| k == "carbons_test_thread"),
                "nothing of the inner message dispatched: {keys:?} for {xml}"
            );
        }
        // without a known account, nothing can be checked: dropped
        let anonymous = Xec::new().unwrap();
        let mut threads = anonymous.subscribe("carbons_test_thread");
        block_on(anonymous.dispatch(Element::parse(RECEIVED).unwrap()));
        assert!(threads.try_recv().is_none());
    }
}
