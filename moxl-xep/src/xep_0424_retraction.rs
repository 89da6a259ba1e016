//! XEP-0424: Message Retraction (version 0.4, namespace `urn:xmpp:message-retract:1`). Asks the recipients to
//! retract one of our messages ([`retract`]), and delivers each retraction received as a [`Retraction`] (Packet
//! key `messageretraction`, from the [`Retractions`] Payload).
//!
//! A retraction is a request that clients may not honor (§1). §6 (security): only the sender of a message may
//! retract it: the application, which holds the history, must check that the retracted message came from the
//! retraction's sender (the same bare JID in a one-to-one chat, the same occupant in a room) and ignore it
//! otherwise.

use std::borrow::Cow;

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::stanza::message;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};

use crate::rfc6121_message::{MessageType, is_extension_of};
use crate::xep_0428_fallback::whole_body;

/// `urn:xmpp:message-retract:1` (§2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0424_retraction::NS, "urn:xmpp:message-retract:1");
/// ```
pub const NS: &str = "urn:xmpp:message-retract:1";

/// `urn:xmpp:hints`, for the `<store/>` hint a retraction carries (XEP-0334), so that archives keep it.
///
/// ```
/// assert_eq!(moxl_xep::xep_0424_retraction::HINTS, "urn:xmpp:hints");
/// ```
pub const HINTS: &str = crate::xep_0334_hints::NS;

moxl_core::feature!("urn:xmpp:message-retract:1");

/// The fallback body for clients without retraction support (§3).
///
/// ```
/// assert!(moxl_xep::xep_0424_retraction::FALLBACK_BODY.contains("retract"));
/// ```
pub const FALLBACK_BODY: &str =
    "This person attempted to retract a previous message, but it's unsupported by your client.";

/// The retraction of our message `id` sent to `to` (§3): `kind` is the type of the retracted message (`chat`, or
/// `groupchat` to a room); `id` is the retracted message's origin id (XEP-0359) or `id` attribute, or, in a room,
/// the stanza id the room gave it (§4). It carries a fallback body marked per XEP-0428 and a store hint.
///
/// ```
/// // XEP-0424 §3, Example 2 (the id is the caller's)
/// let m = moxl_xep::xep_0424_retraction::retract("lord@capulet.example", "chat", "origin-id-1").attr("id", "retract-message-1").build()?;
/// assert_eq!(
///     m.to_xml(),
///     "<message xmlns='jabber:client' to='lord@capulet.example' type='chat' id='retract-message-1'>\
///      <body>This person attempted to retract a previous message, but it's unsupported by your client.</body>\
///      <retract xmlns='urn:xmpp:message-retract:1' id='origin-id-1'/>\
///      <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/><store xmlns='urn:xmpp:hints'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn retract(to: &str, kind: &'static str, id: &str) -> ElementBuilder {
    message(to, kind, Some(FALLBACK_BODY))
        .append(ElementBuilder::new("retract", NS).attr("id", id.to_owned()))
        .append(whole_body(NS))
        .append(crate::xep_0334_hints::Hint::Store.element())
}

/// A retraction received.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0424_retraction::Retraction;
/// let m = Element::parse("<message xmlns='jabber:client' from='romeo@montague.example/orchard' type='chat' id='retract-message-1'>\
///     <retract id='origin-id-1' xmlns='urn:xmpp:message-retract:1'/></message>")?;
/// assert_eq!(Retraction::from_message(&m).unwrap().retracts, "origin-id-1");
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retraction {
    /// The sender: check it sent the retracted message (§6).
    pub from: Option<String>,
    /// The id of the retracted message.
    pub retracts: String,
    /// The message type (`groupchat`: `retracts` is the room's stanza id).
    pub kind: MessageType,
}

impl Retraction {
    /// Reads a message with `<retract/>`; `None` without one, without an id, or for an error message.
    pub fn from_message(stanza: &Element) -> Option<Retraction> {
        let retract = stanza.child("retract", NS)?;
        // A moderator's retraction by the room is XEP-0425's, not the sender's own.
        if !is_extension_of(&retract, stanza) || retract.child("moderated", crate::xep_0425_moderation::NS_1).is_some()
        {
            return None;
        }
        Some(Retraction {
            from: stanza.attr("from").map(Cow::into_owned),
            retracts: retract.attr("id").filter(|id| !id.is_empty())?.into_owned(),
            kind: MessageType::of(stanza),
        })
    }
}

/// Delivers each retraction as a [`Retraction`] under the Packet key `messageretraction`.
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) {
/// let mut retractions = xec.subscribe("messageretraction");
/// # }
/// ```
#[payload(name = "retract", ns = "urn:xmpp:message-retract:1", key = "messageretraction", at = "child")]
#[derive(Debug, Default)]
pub struct Retractions;

impl Payload for Retractions {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if is_extension_of(element, stanza)
            && let Some(r) = Retraction::from_message(stanza)
        {
            ctx.pack(r).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use crate::xep_0428_fallback::{Fallback, strip};
    use moxl_core::xec::Xec;

    #[test]
    fn a_retraction_round_trips_with_its_fallback() {
        let xec = Xec::new().unwrap();
        let mut retractions = xec.subscribe("messageretraction");
        let m = retract("lord@capulet.example", "chat", "origin-id-1")
            .attr("from", "romeo@montague.example/orchard")
            .build()
            .unwrap();
        let body = m.child_text("body", moxl_core::xml::ns::CLIENT).unwrap();
        assert_eq!(strip(&body, &Fallback::all_in(&m), &[NS]), "", "the whole body is the fallback");
        block_on(xec.dispatch(m));
        let p = retractions.try_recv().unwrap();
        let r = p.content::<Retraction>().unwrap();
        assert_eq!((r.retracts.as_str(), r.kind), ("origin-id-1", MessageType::Chat));
        assert_eq!(p.from(), Some("romeo@montague.example/orchard"));
        let bounce = "<message xmlns='jabber:client' type='error'><retract xmlns='urn:xmpp:message-retract:1' id='x'/></message>";
        block_on(xec.dispatch(Element::parse(bounce).unwrap()));
        assert!(retractions.try_recv().is_none());
    }
}
