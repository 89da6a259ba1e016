//! XEP-0461: Message Replies. Marks a message as a reply to an earlier one ([`reply`], with an optional quote
//! of it as a fallback per XEP-0428, §3) and delivers each reply received as a [`Reply`] (Packet key
//! `messagereply`, from the [`Replies`] Payload), with its body already stripped of that quote.

use std::borrow::Cow;

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::stanza::message;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};

use crate::rfc6121_message::{MessageType, is_extension_of};
use crate::xep_0428_fallback::{Fallback, body_range, strip};

/// `urn:xmpp:reply:0` (§2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0461_replies::NS, "urn:xmpp:reply:0");
/// ```
pub const NS: &str = "urn:xmpp:reply:0";

moxl_core::feature!("urn:xmpp:reply:0");

/// The quote of `quoted` as a fallback (§3): each line prefixed with `> ` (Message Styling, XEP-0393), then a
/// line break.
///
/// ```
/// assert_eq!(moxl_xep::xep_0461_replies::quote("Anna wrote:\nWe should bake a cake"), "> Anna wrote:\n> We should bake a cake\n");
/// ```
pub fn quote(quoted: &str) -> String {
    quoted.lines().map(|l| format!("> {l}\n")).collect()
}

/// A reply `text` to `to` (type `kind`) answering the message `id` (its `id` attribute, or in a room the room's
/// stanza id, §3) written by `author` (its full JID, or occupant JID; optional). With `quoted`, the body starts
/// with a quote of it, marked as the reply's fallback with its range in code points (XEP-0428).
///
/// ```
/// // XEP-0461 §3, Example 1 (its range counted in code points: 38)
/// let m = moxl_xep::xep_0461_replies::reply(
///     "anna@example.com", "chat", Some("anna@example.com/laptop"), "message-id1",
///     Some("Anna wrote:\nWe should bake a cake"), "Great idea!",
/// ).attr("id", "message-id2").build()?;
/// assert_eq!(
///     m.to_xml(),
///     "<message xmlns='jabber:client' to='anna@example.com' type='chat' id='message-id2'>\
///      <body>&gt; Anna wrote:\n&gt; We should bake a cake\nGreat idea!</body>\
///      <reply xmlns='urn:xmpp:reply:0' to='anna@example.com/laptop' id='message-id1'/>\
///      <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='38'/></fallback></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn reply(
    to: &str,
    kind: &'static str,
    author: Option<&str>,
    id: &str,
    quoted: Option<&str>,
    text: &str,
) -> ElementBuilder {
    let quoted = quoted.map(quote).unwrap_or_default();
    let m = message(to, kind, Some(&format!("{quoted}{text}")))
        .append(ElementBuilder::new("reply", NS).attr_opt("to", author.map(str::to_owned)).attr("id", id.to_owned()));
    match quoted.chars().count() {
        0 => m,
        end => m.append(body_range(NS, 0, end)),
    }
}

/// A reply received.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0461_replies::Reply;
/// // XEP-0461 §3, Example 1 (its range counted in code points: 38)
/// let m = Element::parse("<message xmlns='jabber:client' from='bob@example.com/phone' to='anna@example.com' id='message-id2' type='chat'>\
///     <body>&gt; Anna wrote:\n&gt; We should bake a cake\nGreat idea!</body>\
///     <reply to='anna@example.com/laptop' id='message-id1' xmlns='urn:xmpp:reply:0'/>\
///     <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='38'/></fallback></message>")?;
/// let r = Reply::from_message(&m).unwrap();
/// assert_eq!((r.id.as_str(), r.author.as_deref()), ("message-id1", Some("anna@example.com/laptop")));
/// assert_eq!(r.text.as_deref(), Some("Great idea!"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reply {
    /// Who replies.
    pub from: Option<String>,
    /// The id of the message answered.
    pub id: String,
    /// The author of the message answered, if given.
    pub author: Option<String>,
    /// The message type (`groupchat`: `id` is the room's stanza id).
    pub kind: MessageType,
    /// The reply's own text: the body without the quote marked as the reply's fallback.
    pub text: Option<String>,
}

impl Reply {
    /// Reads a message with `<reply/>`; `None` without one, without an id, or for an error message.
    pub fn from_message(stanza: &Element) -> Option<Reply> {
        let el = stanza.child("reply", NS)?;
        if !is_extension_of(&el, stanza) {
            return None;
        }
        let fallbacks = Fallback::all_in(stanza);
        Some(Reply {
            from: stanza.attr("from").map(Cow::into_owned),
            id: el.attr("id").filter(|id| !id.is_empty())?.into_owned(),
            author: el.attr("to").map(Cow::into_owned),
            kind: MessageType::of(stanza),
            text: stanza.child_text("body", ns::CLIENT).map(|b| strip(&b, &fallbacks, &[NS])),
        })
    }
}

/// Delivers each reply as a [`Reply`] under the Packet key `messagereply`.
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) {
/// let mut replies = xec.subscribe("messagereply");
/// # }
/// ```
#[payload(name = "reply", ns = "urn:xmpp:reply:0", key = "messagereply", at = "child")]
#[derive(Debug, Default)]
pub struct Replies;

impl Payload for Replies {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if is_extension_of(element, stanza)
            && let Some(r) = Reply::from_message(stanza)
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
    fn replies_round_trip_with_and_without_a_quote() {
        let xec = Xec::new().unwrap();
        let mut replies = xec.subscribe("messagereply");
        for (quoted, author) in [(Some("Ça va ? 🎂"), Some("anna@example.com/laptop")), (None, None)] {
            let m = reply("anna@example.com", "chat", author, "m1", quoted, "Oui !").attr("from", "bob@example.com/x");
            block_on(xec.dispatch(m.build().unwrap()));
            let p = replies.try_recv().unwrap();
            let r = p.content::<Reply>().unwrap();
            assert_eq!((r.id.as_str(), r.author.as_deref(), r.text.as_deref()), ("m1", author, Some("Oui !")));
        }
    }
}
