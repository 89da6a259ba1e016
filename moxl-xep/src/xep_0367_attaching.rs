//! XEP-0367: Message Attaching (namespace `urn:xmpp:message-attaching:1`). A message says it belongs with an
//! earlier one (a preview of a link, a sticker, another source of a shared file) by `<attach-to id='…'/>` (§3);
//! receivers may show it next to that message, and SHOULD show it as an attachment, never as part of the
//! original (§4.2, §5).
//!
//! [`attach_to`] builds the element, [`attached_to`] reads it, [`id_to_attach_to`] picks the id §4.1 requires
//! (in a room, the room's XEP-0359 stanza id; elsewhere the origin id, else the `id` attribute). The
//! [`Attachments`] Payload delivers each attaching message as an [`Attachment`] (Packet key
//! `messageattachment`). XEP-0447 attaches further file sources this way
//! ([`AttachedSources`](crate::xep_0447_sfs::AttachedSources)). The tests use the XEP's §3 example as fixture.
//!
//! ```
//! use moxl_xep::xep_0367_attaching::{attach_to, attached_to};
//! let m = moxl_core::stanza::message("antonio@milan.lit/ship", "chat", Some("storm.png"))
//!     .append(attach_to("SD24VCzSYQ"))
//!     .build()?;
//! assert_eq!(attached_to(&m).as_deref(), Some("SD24VCzSYQ"));
//! # Ok::<(), moxl_core::Error>(())
//! ```

use std::borrow::Cow;

use moxl_core::jid::Jid;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Result, payload};

use crate::rfc6121_message::MessageType;
use crate::xep_0359_stable_ids::{origin_id, stanza_id};

/// `urn:xmpp:message-attaching:1` (§2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0367_attaching::NS, "urn:xmpp:message-attaching:1");
/// ```
pub const NS: &str = "urn:xmpp:message-attaching:1";

moxl_core::feature!("urn:xmpp:message-attaching:1");

/// `<attach-to id='…'/>`: the element that attaches a message to the message `id` (§3).
///
/// ```
/// let e = moxl_xep::xep_0367_attaching::attach_to("SD24VCzSYQ").build()?;
/// assert_eq!(e.to_xml(), "<attach-to xmlns='urn:xmpp:message-attaching:1' id='SD24VCzSYQ'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn attach_to(id: impl Into<String>) -> ElementBuilder {
    ElementBuilder::new("attach-to", NS).attr("id", id.into())
}

/// The id a message is attached to; `None` without an `<attach-to/>`, with an empty id, on another stanza than
/// a message, or with more than one `<attach-to/>` (§4.3 allows one).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0367_attaching::attached_to;
/// let two = Element::parse("<message xmlns='jabber:client'><attach-to xmlns='urn:xmpp:message-attaching:1' id='a'/>\
///     <attach-to xmlns='urn:xmpp:message-attaching:1' id='b'/></message>")?;
/// assert_eq!(attached_to(&two), None);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn attached_to(stanza: &Element) -> Option<String> {
    if !stanza.is("message", ns::CLIENT) {
        return None;
    }
    let mut all = stanza.children().filter(|c| c.is("attach-to", NS));
    match (all.next(), all.next()) {
        (Some(only), None) => only.attr("id").filter(|id| !id.is_empty()).map(Cow::into_owned),
        _ => None,
    }
}

/// The id to attach to `message` with (§4.1): for a groupchat message the stanza id its room (the bare JID of
/// its sender) stamped, and nothing without one; otherwise its origin id, else its `id` attribute.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0367_attaching::id_to_attach_to;
/// let chat = Element::parse("<message xmlns='jabber:client' from='prospero@milan.lit/island' id='RgEGnjqy'><body>hi</body></message>")?;
/// assert_eq!(id_to_attach_to(&chat).as_deref(), Some("RgEGnjqy"));
/// let room = Element::parse("<message xmlns='jabber:client' type='groupchat' from='room@muc.example/nick' id='client-id'>\
///     <stanza-id xmlns='urn:xmpp:sid:0' id='room-id' by='room@muc.example'/></message>")?;
/// assert_eq!(id_to_attach_to(&room).as_deref(), Some("room-id"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn id_to_attach_to(message: &Element) -> Option<String> {
    if MessageType::of(message) == MessageType::Groupchat {
        let room = Jid::new(&message.attr("from")?).ok()?.to_bare().to_string();
        return stanza_id(message, &room);
    }
    origin_id(message).or_else(|| message.attr("id").filter(|id| !id.is_empty()).map(Cow::into_owned))
}

/// A message attached to an earlier one.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut attachments = xec.events::<moxl_xep::xep_0367_attaching::Attachment>();
/// if let Some(a) = attachments.recv().await {
///     // show it below the message `a.attached_to`, marked as an attachment (§4.2)
///     println!("attached to {} by {:?}: {:?}", a.attached_to, a.from, a.body);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attachment {
    /// The sender.
    pub from: Option<String>,
    /// The attaching message's `id`.
    pub id: Option<String>,
    /// The id of the message it is attached to (in a room, a stanza id: §4.1, §5).
    pub attached_to: String,
    /// The message type.
    pub kind: MessageType,
    /// The body, if any.
    pub body: Option<String>,
}

/// Delivers each attaching message as an [`Attachment`] (Packet key `messageattachment`).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut attachments = xec.events::<moxl_xep::xep_0367_attaching::Attachment>();
/// while let Some(a) = attachments.recv().await {
///     println!("{:?} attaches {:?} to {}", a.from, a.body, a.attached_to);
/// }
/// # }
/// ```
#[payload(name = "attach-to", ns = "urn:xmpp:message-attaching:1", key = "messageattachment", at = "child")]
#[derive(Debug, Default)]
pub struct Attachments;

impl Payload for Attachments {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<Attachment>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        // an error may be attached to the message that caused it (§4.3): error messages count too
        let child = stanza.is("message", ns::CLIENT) && stanza.children().any(|c| c.ptr_eq(element));
        if let Some(attached) = attached_to(stanza).filter(|_| child) {
            let attr = |n: &str| stanza.attr(n).map(Cow::into_owned);
            ctx.pack(Attachment {
                from: attr("from"),
                id: attr("id"),
                attached_to: attached,
                kind: MessageType::of(stanza),
                body: stanza.child_text("body", ns::CLIENT),
            })
            .deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    #[test]
    fn the_xeps_example_is_delivered_and_rebuilt() {
        let xec = Xec::new().unwrap();
        let mut attachments = xec.events::<Attachment>();
        // §3, Example 3 (its missing quote after `island` restored)
        let m = "<message xmlns='jabber:client' to='antonio@milan.lit/ship' from='prospero@milan.lit/island' id='RgEGnjqy'>\
            <body>storm.png</body><attach-to id='SD24VCzSYQ' xmlns='urn:xmpp:message-attaching:1'/></message>";
        block_on(xec.dispatch(Element::parse(m).unwrap()));
        let a = attachments.try_recv().unwrap();
        assert_eq!(
            (a.attached_to.as_str(), a.id.as_deref(), a.body.as_deref()),
            ("SD24VCzSYQ", Some("RgEGnjqy"), Some("storm.png"))
        );
        let rebuilt = moxl_core::stanza::message("antonio@milan.lit/ship", "normal", Some("storm.png"))
            .attr("id", "RgEGnjqy")
            .append(attach_to("SD24VCzSYQ"))
            .build()
            .unwrap();
        assert_eq!(attached_to(&rebuilt).as_deref(), Some("SD24VCzSYQ"));

        // §4.1: a groupchat message without its room's stanza id cannot be attached to
        let unstamped = Element::parse(
            "<message xmlns='jabber:client' type='groupchat' from='room@muc.example/nick' id='x'>\
             <stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='nick@elsewhere.example'/></message>",
        )
        .unwrap();
        assert_eq!(id_to_attach_to(&unstamped), None);
        let with_origin = Element::parse(
            "<message xmlns='jabber:client' id='x'><origin-id xmlns='urn:xmpp:sid:0' id='o'/></message>",
        )
        .unwrap();
        assert_eq!(id_to_attach_to(&with_origin).as_deref(), Some("o"));
        // two attach-to: none is trusted (§4.3)
        block_on(
            xec.dispatch(
                Element::parse(
                    &m.replace("</message>", "<attach-to id='b' xmlns='urn:xmpp:message-attaching:1'/></message>"),
                )
                .unwrap(),
            ),
        );
        assert!(attachments.try_recv().is_none());
    }
}
