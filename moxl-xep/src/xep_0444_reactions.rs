//! XEP-0444: Message Reactions. Reacts to a message with emojis ([`react`]) and delivers each reaction update
//! received as [`Reactions`] (Packet key `messagereactions`, from the [`ReactionUpdates`] Payload).
//!
//! An update holds the sender's whole current set of reactions to that message: it replaces the previous one,
//! and an empty set removes them all (§3.2, §4). Reactions are kept as the strings received; §5 asks a receiver to
//! show only those that are a single emoji (check that before showing them).

use std::borrow::Cow;

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::stanza::message;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};

use crate::rfc6121_message::{MessageType, is_extension_of};
use crate::xep_0334_hints::Hint;

/// `urn:xmpp:reactions:0` (§2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0444_reactions::NS, "urn:xmpp:reactions:0");
/// ```
pub const NS: &str = "urn:xmpp:reactions:0";

moxl_core::feature!("urn:xmpp:reactions:0");

/// Our reactions to the message `id` (its `id` attribute, or in a room the room's stanza id, §3), sent to `to`
/// as a message of type `kind` (`chat`, or `groupchat` to a room), with the store hint. Duplicates and empty
/// strings are left out; no reaction at all removes ours (§3.2).
///
/// ```
/// // XEP-0444 §3.1, Example 2 (the message id is the caller's)
/// let m = moxl_xep::xep_0444_reactions::react("romeo@capulet.net/orchard", "chat", "744f6e18-a57a-11e9-a656-4889e7820c76", ["👋", "🐢"])
///     .attr("id", "96d73204-a57a-11e9-88b8-4889e7820c76").build()?;
/// assert_eq!(
///     m.to_xml(),
///     "<message xmlns='jabber:client' to='romeo@capulet.net/orchard' type='chat' id='96d73204-a57a-11e9-88b8-4889e7820c76'>\
///      <reactions xmlns='urn:xmpp:reactions:0' id='744f6e18-a57a-11e9-a656-4889e7820c76'>\
///      <reaction>👋</reaction><reaction>🐢</reaction></reactions><store xmlns='urn:xmpp:hints'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn react<'a>(
    to: &str,
    kind: &'static str,
    id: &str,
    reactions: impl IntoIterator<Item = &'a str>,
) -> ElementBuilder {
    let mut seen: Vec<&str> = Vec::new();
    let mut el = ElementBuilder::new("reactions", NS).attr("id", id.to_owned());
    for r in reactions {
        if !r.is_empty() && !seen.contains(&r) {
            seen.push(r);
            el = el.text_child("reaction", r.to_owned());
        }
    }
    message(to, kind, None).append(el).append(Hint::Store.element())
}

/// A reaction update received: the sender's current reactions to a message.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0444_reactions::Reactions;
/// // XEP-0444 §3.1, Example 2
/// let m = Element::parse("<message xmlns='jabber:client' from='juliet@capulet.net/balcony' to='romeo@capulet.net/orchard' \
///     id='96d73204-a57a-11e9-88b8-4889e7820c76' type='chat'><reactions id='744f6e18-a57a-11e9-a656-4889e7820c76' \
///     xmlns='urn:xmpp:reactions:0'><reaction>👋</reaction><reaction>🐢</reaction></reactions><store xmlns='urn:xmpp:hints'/></message>")?;
/// let r = Reactions::from_message(&m).unwrap();
/// assert_eq!((r.to.as_str(), r.reactions.as_slice()), ("744f6e18-a57a-11e9-a656-4889e7820c76", &["👋".to_owned(), "🐢".to_owned()][..]));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reactions {
    /// Who reacts.
    pub from: Option<String>,
    /// The id of the message reacted to.
    pub to: String,
    /// The message type (`groupchat`: `to` is the room's stanza id).
    pub kind: MessageType,
    /// The sender's reactions now, without duplicates (empty: all removed).
    pub reactions: Vec<String>,
}

impl Reactions {
    /// Reads a message with `<reactions/>`; `None` without one, without an id, or for an error message.
    pub fn from_message(stanza: &Element) -> Option<Reactions> {
        let el = stanza.child("reactions", NS)?;
        if !is_extension_of(&el, stanza) {
            return None;
        }
        let mut reactions: Vec<String> = Vec::new();
        for r in el.children().filter(|r| r.is("reaction", NS)) {
            let text = r.text().into_owned();
            if !text.is_empty() && !reactions.contains(&text) {
                reactions.push(text);
            }
        }
        Some(Reactions {
            from: stanza.attr("from").map(Cow::into_owned),
            to: el.attr("id").filter(|id| !id.is_empty())?.into_owned(),
            kind: MessageType::of(stanza),
            reactions,
        })
    }
}

/// Delivers each reaction update as [`Reactions`] under the Packet key `messagereactions`.
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) {
/// let mut reactions = xec.subscribe("messagereactions");
/// # }
/// ```
#[payload(name = "reactions", ns = "urn:xmpp:reactions:0", key = "messagereactions", at = "child")]
#[derive(Debug, Default)]
pub struct ReactionUpdates;

impl Payload for ReactionUpdates {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if is_extension_of(element, stanza)
            && let Some(r) = Reactions::from_message(stanza)
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
    use moxl_core::xec::Xec;

    #[test]
    fn updates_replace_and_an_empty_one_removes() {
        let xec = Xec::new().unwrap();
        let mut updates = xec.subscribe("messagereactions");
        for (sent, expected) in [(vec!["👋", "", "👋", "🐢"], vec!["👋", "🐢"]), (vec![], vec![])] {
            let m = react("romeo@capulet.net", "chat", "m1", sent).attr("from", "juliet@capulet.net/balcony");
            block_on(xec.dispatch(m.build().unwrap()));
            let p = updates.try_recv().unwrap();
            let r = p.content::<Reactions>().unwrap();
            assert_eq!(r.reactions, expected);
            assert_eq!(r.to, "m1");
        }
        let no_id = "<message xmlns='jabber:client'><reactions xmlns='urn:xmpp:reactions:0'><reaction>x</reaction></reactions></message>";
        block_on(xec.dispatch(Element::parse(no_id).unwrap()));
        assert!(updates.try_recv().is_none());
    }
}
