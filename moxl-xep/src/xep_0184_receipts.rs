//! XEP-0184: Message Delivery Receipts. A builder that requests a receipt ([`request_receipt`]), the ack
//! message a client must give ([`answer`]), the [`ReceiptResponder`] Payload that gives it by itself, and the
//! [`Receipts`] Payload that delivers each receipt received as a [`Receipt`] (Packet key `receipt`).
//!
//! A receipt says that a message reached a client, not that anyone read it (§1, §4), and none may come at all:
//! do not resend for want of one (§4). Section 8 asks not to return receipts to senders that may not see our
//! presence; give the controller a [`ReceiptPolicy`] to decide per sender (without one, every sender that
//! asks gets a receipt).

use std::fmt;
use std::sync::Arc;

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};

/// `urn:xmpp:receipts` (§6, §10.1).
pub const NS: &str = "urn:xmpp:receipts";

moxl_core::feature!("urn:xmpp:receipts");

/// Asks for a receipt: sets the message's `id` (a sender MUST give one, §7) and adds `<request/>`.
///
/// Request receipts on `chat`, `headline` and `normal` messages (§5.1, §5.2); not on `groupchat` (§5.3), and
/// never on an ack message (§5.4).
///
/// ```
/// use moxl_core::stanza::message;
/// use moxl_xep::xep_0184_receipts::request_receipt;
/// // §7, Example 3: a content message with receipt requested
/// let m = request_receipt(
///     message("kingrichard@royalty.england.lit/throne", "normal", Some("My lord, dispatch; read o'er these articles.")),
///     "richard2-4.1.247",
/// );
/// assert_eq!(
///     m.build()?.to_xml(),
///     "<message xmlns='jabber:client' to='kingrichard@royalty.england.lit/throne' type='normal' id='richard2-4.1.247'>\
///      <body>My lord, dispatch; read o'er these articles.</body><request xmlns='urn:xmpp:receipts'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn request_receipt(message: ElementBuilder, id: impl Into<String>) -> ElementBuilder {
    message.attr("id", id).append(ElementBuilder::new("request", NS))
}

/// Whether a message asks for a receipt (a `<request/>` among its children).
///
/// ```
/// use moxl_core::xml::Element;
/// let m = Element::parse("<message xmlns='jabber:client' id='m1'><body>hi</body><request xmlns='urn:xmpp:receipts'/></message>")?;
/// assert!(moxl_xep::xep_0184_receipts::is_requested(&m));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn is_requested(stanza: &Element) -> bool {
    stanza.child("request", NS).is_some()
}

/// The ack message for `id`, to `to` (§7, Example 4): it holds only `<received id='…'/>`. `kind` is the
/// `type` of the content message, which the ack message should repeat.
///
/// ```
/// use moxl_xep::xep_0184_receipts::receipt;
/// let ack = receipt("northumberland@shakespeare.lit/westminster", "richard2-4.1.247", None);
/// assert_eq!(
///     ack.build()?.to_xml(),
///     "<message xmlns='jabber:client' to='northumberland@shakespeare.lit/westminster'>\
///      <received xmlns='urn:xmpp:receipts' id='richard2-4.1.247'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn receipt(to: &str, id: &str, kind: Option<&str>) -> ElementBuilder {
    ElementBuilder::new("message", ns::CLIENT)
        .attr("to", to.to_owned())
        .attr_opt("type", kind.map(str::to_owned))
        .append(ElementBuilder::new("received", NS).attr("id", id.to_owned()))
}

/// The ack message a client must send for a received message, or `None` when it must not answer:
///
/// - the message asks for a receipt (§7: "if and only if"), has an `id` to echo (§7) and a sender;
/// - its type is not `error` (an error is never a content message, §5) nor `groupchat` (§5.3: one ack per
///   occupant through the room; moxl does not send them);
/// - it is not itself an ack message: a `<request/>` next to a `<received/>` would loop (§5.4).
///
/// Messages read back from an archive or forwarded inside another stanza are not answered (§5.5): only a
/// `<request/>` that is a direct child of the stanza counts, and [`ReceiptResponder`] only sees those (nor does it
/// answer a message unwrapped from a XEP-0280 carbon).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0184_receipts::answer;
/// let content = Element::parse("<message xmlns='jabber:client' from='northumberland@shakespeare.lit/westminster' \
///     id='richard2-4.1.247' to='kingrichard@royalty.england.lit/throne'>\
///     <body>My lord, dispatch; read o'er these articles.</body><request xmlns='urn:xmpp:receipts'/></message>")?;
/// assert_eq!(
///     answer(&content).unwrap().build()?.to_xml(),
///     "<message xmlns='jabber:client' to='northumberland@shakespeare.lit/westminster'>\
///      <received xmlns='urn:xmpp:receipts' id='richard2-4.1.247'/></message>"
/// );
/// let groupchat = Element::parse("<message xmlns='jabber:client' from='room@muc.lit/nick' id='g1' type='groupchat'>\
///     <body>hi</body><request xmlns='urn:xmpp:receipts'/></message>")?;
/// assert!(answer(&groupchat).is_none());
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn answer(stanza: &Element) -> Option<ElementBuilder> {
    if !stanza.is("message", ns::CLIENT) || !is_requested(stanza) || stanza.child("received", NS).is_some() {
        return None;
    }
    let kind = stanza.attr("type");
    if matches!(kind.as_deref(), Some("error" | "groupchat")) {
        return None;
    }
    let (from, id) = (stanza.attr("from")?, stanza.attr("id")?);
    if id.is_empty() {
        return None;
    }
    Some(receipt(&from, &id, kind.as_deref()))
}

/// Which senders get receipts (§8: not those that may not see our presence). Give it to the controller with
/// `Xec::builder().extension(policy)` or the client builder's equivalent; [`ReceiptResponder`] asks it with the
/// sender's JID (as written in `from`) before answering.
///
/// ```
/// use moxl_xep::xep_0184_receipts::ReceiptPolicy;
/// let contacts = ["romeo@montague.lit"];
/// let policy = ReceiptPolicy::new(move |from| contacts.iter().any(|c| from.split('/').next() == Some(*c)));
/// assert!(policy.allows("romeo@montague.lit/orchard"));
/// assert!(!policy.allows("tybalt@capulet.lit/street"));
/// assert!(!ReceiptPolicy::never().allows("romeo@montague.lit/orchard"));
/// ```
#[derive(Clone)]
pub struct ReceiptPolicy(Arc<dyn Fn(&str) -> bool + Send + Sync>);

impl ReceiptPolicy {
    /// A policy that answers the senders for which `allow` returns `true`.
    ///
    /// ```
    /// let only_romeo = moxl_xep::xep_0184_receipts::ReceiptPolicy::new(|from| from.starts_with("romeo@"));
    /// assert!(only_romeo.allows("romeo@montague.lit/orchard"));
    /// ```
    pub fn new(allow: impl Fn(&str) -> bool + Send + Sync + 'static) -> ReceiptPolicy {
        ReceiptPolicy(Arc::new(allow))
    }

    /// A policy that never answers (the user turned receipts off).
    ///
    /// ```
    /// assert!(!moxl_xep::xep_0184_receipts::ReceiptPolicy::never().allows("a@b/c"));
    /// ```
    pub fn never() -> ReceiptPolicy {
        ReceiptPolicy::new(|_| false)
    }

    /// Whether `from` gets a receipt.
    ///
    /// ```
    /// assert!(moxl_xep::xep_0184_receipts::ReceiptPolicy::new(|_| true).allows("a@b/c"));
    /// ```
    pub fn allows(&self, from: &str) -> bool {
        (self.0)(from)
    }
}

impl fmt::Debug for ReceiptPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReceiptPolicy(..)")
    }
}

/// Answers receipt requests by itself: sends [`answer`]'s ack message, if any, unless the controller's
/// [`ReceiptPolicy`] refuses the sender. It delivers no Packet (its key, `receiptresponder`, stays unused).
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
/// # block_on(async {
/// let xec = Xec::new()?;
/// let m = Element::parse("<message xmlns='jabber:client' from='juliet@capulet.lit/balcony' id='m1' type='chat'>\
///     <body>hi</body><request xmlns='urn:xmpp:receipts'/></message>")?;
/// xec.dispatch(m).await;
/// assert_eq!(
///     xec.take_outgoing()[0].to_xml(),
///     "<message xmlns='jabber:client' to='juliet@capulet.lit/balcony' type='chat'><received xmlns='urn:xmpp:receipts' id='m1'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "request", ns = "urn:xmpp:receipts", key = "receiptresponder", at = "child")]
#[derive(Debug, Default)]
pub struct ReceiptResponder;

impl Payload for ReceiptResponder {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        // A copy unwrapped from another stanza (a XEP-0280 carbon) is answered by its addressee, not by us.
        if ctx.is_unwrapped() {
            return Ok(());
        }
        let Some(ack) = answer(stanza) else { return Ok(()) };
        if let (Some(policy), Some(from)) = (ctx.get::<ReceiptPolicy>(), ctx.from())
            && !policy.allows(&from)
        {
            return Ok(());
        }
        ctx.send(ack)
    }
}

/// A receipt received: `id` is the id of our message that reached `from`'s client (§7).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0184_receipts::Receipt;
/// // §7, Example 4: a message delivery receipt
/// let ack = Element::parse("<message xmlns='jabber:client' from='kingrichard@royalty.england.lit/throne' \
///     id='bi29sg183b4v' to='northumberland@shakespeare.lit/westminster'>\
///     <received xmlns='urn:xmpp:receipts' id='richard2-4.1.247'/></message>")?;
/// let r = Receipt::from_message(&ack).unwrap();
/// assert_eq!(r.id, "richard2-4.1.247");
/// assert_eq!(r.from.as_deref(), Some("kingrichard@royalty.england.lit/throne"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// Whose client acknowledges (the ack message's `from`).
    pub from: Option<String>,
    /// The `id` of the acknowledged message.
    pub id: String,
}

impl Receipt {
    /// Reads the receipt of an ack message. `None` when the message holds no `<received/>`, is of type `error`
    /// (the bounce of an ack message we sent is no receipt), or the id is missing: then the ack message's own
    /// `id` is taken, as receipts before version 1.1 of this specification echoed the id there.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0184_receipts::Receipt;
    /// let old = Element::parse("<message xmlns='jabber:client' from='a@b/c' id='m7'><received xmlns='urn:xmpp:receipts'/></message>")?;
    /// assert_eq!(Receipt::from_message(&old).map(|r| r.id), Some("m7".to_owned()));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_message(stanza: &Element) -> Option<Receipt> {
        if !stanza.is("message", ns::CLIENT) || stanza.attr("type").as_deref() == Some("error") {
            return None;
        }
        let received = stanza.child("received", NS)?;
        let id = received.attr("id").or_else(|| stanza.attr("id")).filter(|id| !id.is_empty())?;
        Some(Receipt { from: stanza.attr("from").map(|f| f.into_owned()), id: id.into_owned() })
    }
}

/// Delivers each receipt received as a [`Receipt`] under the Packet key `receipt` (the Packet's sender is the
/// ack message's `from`). A message may reach several clients of the recipient: expect several receipts for
/// one id (§4).
///
/// ```
/// use moxl_xep::xep_0184_receipts::Receipt;
/// # async fn run(xec: &moxl_core::xec::Xec) -> Option<()> {
/// let mut receipts = xec.subscribe("receipt");
/// let packet = receipts.recv().await?;
/// println!("{} reached {}", packet.content::<Receipt>()?.id, packet.from()?);
/// # Some(()) }
/// ```
#[payload(name = "received", ns = "urn:xmpp:receipts", key = "receipt", at = "child")]
#[derive(Debug, Default)]
pub struct Receipts;

impl Payload for Receipts {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<Receipt>()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        // A receipt another of our clients sent (a XEP-0280 sent carbon) acknowledges nothing of ours.
        let sent_by_us =
            ctx.envelope::<crate::xep_0280_carbons::Direction>() == Some(&crate::xep_0280_carbons::Direction::Sent);
        if sent_by_us {
            return Ok(());
        }
        if let Some(receipt) = Receipt::from_message(stanza) {
            ctx.pack(receipt).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    /// §7, Example 3.
    const CONTENT: &str = "<message xmlns='jabber:client' from='northumberland@shakespeare.lit/westminster' \
        id='richard2-4.1.247' to='kingrichard@royalty.england.lit/throne'>\
        <body>My lord, dispatch; read o'er these articles.</body><request xmlns='urn:xmpp:receipts'/></message>";
    /// §7, Example 4.
    const ACK: &str = "<message xmlns='jabber:client' from='kingrichard@royalty.england.lit/throne' \
        id='bi29sg183b4v' to='northumberland@shakespeare.lit/westminster'>\
        <received xmlns='urn:xmpp:receipts' id='richard2-4.1.247'/></message>";

    #[test]
    fn spec_examples_parse_build_and_round_trip() {
        let content = Element::parse(CONTENT).unwrap();
        assert!(is_requested(&content));
        // the request, built again, reads back the same
        let built = request_receipt(
            moxl_core::stanza::message("kingrichard@royalty.england.lit/throne", "normal", Some("x")),
            "richard2-4.1.247",
        )
        .attr("from", "northumberland@shakespeare.lit/westminster")
        .build()
        .unwrap();
        assert!(is_requested(&built));
        assert_eq!(built.attr("id").as_deref(), Some("richard2-4.1.247"));
        // the answer to Example 3 is Example 4 (without the ids and addresses the server adds)
        let ack = answer(&content).unwrap().attr("from", "kingrichard@royalty.england.lit/throne").build().unwrap();
        let expected =
            Receipt { from: Some("kingrichard@royalty.england.lit/throne".into()), id: "richard2-4.1.247".into() };
        assert_eq!(Receipt::from_message(&ack).as_ref(), Some(&expected));
        assert_eq!(Receipt::from_message(&Element::parse(ACK).unwrap()), Some(expected));
        assert_eq!(ack.children().count(), 1, "an ack message holds only <received/> (§7)");
        assert!(!is_requested(&ack), "never a request in an ack message (§5.4)");
        assert_eq!(answer(&ack).map(|a| a.build().unwrap().to_xml()), None);
    }

    #[test]
    fn answers_only_what_the_rules_allow() {
        let request = "<request xmlns='urn:xmpp:receipts'/>";
        for (kind, answered) in [
            ("", true),
            (" type='chat'", true),
            (" type='normal'", true),
            (" type='headline'", true),
            (" type='groupchat'", false),
            (" type='error'", false),
        ] {
            let m = Element::parse(&format!(
                "<message xmlns='jabber:client' from='a@b/c' id='m1'{kind}><body>x</body>{request}</message>"
            ))
            .unwrap();
            let ack = answer(&m).map(|a| a.build().unwrap());
            assert_eq!(ack.is_some(), answered, "type{kind}");
            if let Some(ack) = ack {
                assert_eq!(ack.attr("type"), m.attr("type"), "the same type as the content message");
                assert_eq!(ack.attr("to").as_deref(), Some("a@b/c"));
            }
        }
        for xml in [
            // no id to echo, no sender, no request, a request inside an ack message (§5.4)
            format!("<message xmlns='jabber:client' from='a@b/c'><body>x</body>{request}</message>"),
            format!("<message xmlns='jabber:client' id='m1'><body>x</body>{request}</message>"),
            "<message xmlns='jabber:client' from='a@b/c' id='m1'><body>x</body></message>".to_owned(),
            format!(
                "<message xmlns='jabber:client' from='a@b/c' id='m1'><received xmlns='urn:xmpp:receipts' id='m0'/>{request}</message>"
            ),
            format!("<iq xmlns='jabber:client' from='a@b/c' id='m1' type='set'>{request}</iq>"),
        ] {
            assert!(answer(&Element::parse(&xml).unwrap()).is_none(), "{xml}");
        }
        // an error-type message with a receipt is no receipt
        let bounce = "<message xmlns='jabber:client' from='a@b/c' type='error'><received xmlns='urn:xmpp:receipts' id='m1'/></message>";
        assert_eq!(Receipt::from_message(&Element::parse(bounce).unwrap()), None);
    }

    #[test]
    fn the_payloads_answer_requests_and_deliver_receipts() {
        let xec = Xec::new().unwrap();
        let mut receipts = xec.subscribe("receipt");
        block_on(xec.dispatch(Element::parse(CONTENT).unwrap()));
        let out = xec.take_outgoing();
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].to_xml(),
            "<message xmlns='jabber:client' to='northumberland@shakespeare.lit/westminster'>\
             <received xmlns='urn:xmpp:receipts' id='richard2-4.1.247'/></message>"
        );
        // groupchat and error messages, and a request nested deeper (an archived or forwarded message) get none
        for xml in [
            CONTENT.replace("id='richard2", "type='groupchat' id='richard2"),
            CONTENT.replace("id='richard2", "type='error' id='richard2"),
            "<message xmlns='jabber:client' from='a@b/c' id='m1'><result xmlns='urn:xmpp:mam:2'>\
             <request xmlns='urn:xmpp:receipts'/></result></message>"
                .to_owned(),
        ] {
            block_on(xec.dispatch(Element::parse(&xml).unwrap()));
            assert!(xec.take_outgoing().is_empty(), "{xml}");
        }
        assert!(receipts.try_recv().is_none());
        block_on(xec.dispatch(Element::parse(ACK).unwrap()));
        let p = receipts.try_recv().unwrap();
        assert_eq!(p.from(), Some("kingrichard@royalty.england.lit/throne"));
        assert_eq!(p.content::<Receipt>().map(|r| r.id.as_str()), Some("richard2-4.1.247"));
        assert!(xec.take_outgoing().is_empty(), "a receipt is not answered");
    }

    #[test]
    fn a_policy_can_refuse_senders() {
        let xec =
            Xec::builder().extension(ReceiptPolicy::new(|from| from.starts_with("kingrichard@"))).build().unwrap();
        block_on(xec.dispatch(Element::parse(CONTENT).unwrap()));
        assert!(xec.take_outgoing().is_empty(), "northumberland may not see our presence");
        let from_the_king = CONTENT.replace(
            "from='northumberland@shakespeare.lit/westminster'",
            "from='kingrichard@royalty.england.lit/hall'",
        );
        block_on(xec.dispatch(Element::parse(&from_the_king).unwrap()));
        assert_eq!(xec.take_outgoing().len(), 1);
    }
}
