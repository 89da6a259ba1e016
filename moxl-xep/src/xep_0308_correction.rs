//! XEP-0308: Last Message Correction. Sends a corrected version of our last message ([`correct`]), and
//! delivers each correction received as a [`Correction`] (Packet key `messagecorrection`, from the
//! [`Corrections`] Payload).
//!
//! §5 (business rules): a correction replaces a message from the same sender only: the same full JID (in a room,
//! the same occupant). The application holds the history, so it must check that the replaced message came from
//! the correction's sender before replacing anything; a correction of someone else's message must be ignored.

use std::borrow::Cow;

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};

use crate::rfc6121_message::{MessageType, is_extension_of};

/// `urn:xmpp:message-correct:0` (§2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0308_correction::NS, "urn:xmpp:message-correct:0");
/// ```
pub const NS: &str = "urn:xmpp:message-correct:0";

moxl_core::feature!("urn:xmpp:message-correct:0");

/// Marks `message` (holding the whole corrected text) as the correction of our message `replaced_id`: its `id`
/// attribute (or, in a room, see §4; §3: always the id of the original, never of an earlier correction).
///
/// ```
/// use moxl_core::stanza::message;
/// // XEP-0308 §3, Example 2
/// let m = moxl_xep::xep_0308_correction::correct(
///     message("juliet@capulet.net/balcony", "chat", Some("But soft, what light through yonder window breaks?")),
///     "bad1",
/// ).attr("id", "good1").build()?;
/// assert_eq!(
///     m.to_xml(),
///     "<message xmlns='jabber:client' to='juliet@capulet.net/balcony' type='chat' id='good1'>\
///      <body>But soft, what light through yonder window breaks?</body>\
///      <replace xmlns='urn:xmpp:message-correct:0' id='bad1'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn correct(message: ElementBuilder, replaced_id: &str) -> ElementBuilder {
    message.append(ElementBuilder::new("replace", NS).attr("id", replaced_id.to_owned()))
}

/// A correction received.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0308_correction::Correction;
/// let m = Element::parse("<message xmlns='jabber:client' from='romeo@montague.net/orchard' to='juliet@capulet.net/balcony' id='good1'>\
///     <body>But soft, what light through yonder window breaks?</body><replace id='bad1' xmlns='urn:xmpp:message-correct:0'/></message>")?;
/// let c = Correction::from_message(&m).unwrap();
/// assert_eq!((c.replaces.as_str(), c.body.as_deref()), ("bad1", Some("But soft, what light through yonder window breaks?")));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Correction {
    /// The sender: check it sent the replaced message (§5).
    pub from: Option<String>,
    /// The id of the message replaced.
    pub replaces: String,
    /// The correction's own id.
    pub id: Option<String>,
    /// The message type.
    pub kind: MessageType,
    /// The corrected text (the first body).
    pub body: Option<String>,
}

impl Correction {
    /// Reads a message with `<replace/>`; `None` without one, without an id to replace, or for an error message.
    pub fn from_message(stanza: &Element) -> Option<Correction> {
        let replace = stanza.child("replace", NS)?;
        if !is_extension_of(&replace, stanza) {
            return None;
        }
        Some(Correction {
            from: stanza.attr("from").map(Cow::into_owned),
            replaces: replace.attr("id").filter(|id| !id.is_empty())?.into_owned(),
            id: stanza.attr("id").map(Cow::into_owned),
            kind: MessageType::of(stanza),
            body: stanza.child_text("body", ns::CLIENT),
        })
    }
}

/// Delivers each correction as a [`Correction`] under the Packet key `messagecorrection`.
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) {
/// let mut corrections = xec.subscribe("messagecorrection");
/// # }
/// ```
#[payload(name = "replace", ns = "urn:xmpp:message-correct:0", key = "messagecorrection", at = "child")]
#[derive(Debug, Default)]
pub struct Corrections;

impl Payload for Corrections {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if is_extension_of(element, stanza)
            && let Some(c) = Correction::from_message(stanza)
        {
            ctx.pack(c).deliver();
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
    fn corrections_round_trip_and_are_delivered() {
        let xec = Xec::new().unwrap();
        let mut corrections = xec.subscribe("messagecorrection");
        let m = correct(moxl_core::stanza::message("a@b", "chat", Some("fixed")), "bad1")
            .attr("from", "c@d/e")
            .attr("id", "good1")
            .build()
            .unwrap();
        block_on(xec.dispatch(m));
        let p = corrections.try_recv().unwrap();
        let c = p.content::<Correction>().unwrap();
        assert_eq!((c.replaces.as_str(), c.id.as_deref(), c.kind), ("bad1", Some("good1"), MessageType::Chat));
        for xml in [
            "<message xmlns='jabber:client'><replace xmlns='urn:xmpp:message-correct:0'/></message>",
            "<message xmlns='jabber:client' type='error'><replace xmlns='urn:xmpp:message-correct:0' id='x'/></message>",
        ] {
            block_on(xec.dispatch(Element::parse(xml).unwrap()));
            assert!(corrections.try_recv().is_none(), "{xml}");
        }
    }
}
