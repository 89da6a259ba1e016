//! XEP-0224: Attention. Gets the attention of a contact (to "buzz" them): [`attention`] builds the message,
//! the [`AttentionRequests`] Payload delivers each one received as an [`Attention`] (Packet key `attention`).
//!
//! §4 and §6: attention is for people we talk to; a client SHOULD NOT honor it from strangers (ignore it from
//! senders not in the roster) nor let it be abused (rate-limit the alerts). The Packet's sender is there to
//! decide.

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};

use crate::rfc6121_message::is_extension_of;

/// `urn:xmpp:attention:0` (§2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0224_attention::NS, "urn:xmpp:attention:0");
/// ```
pub const NS: &str = "urn:xmpp:attention:0";

moxl_core::feature!("urn:xmpp:attention:0");

/// An attention request to `to` (§3): a `headline` message, with a body for clients that do not support it.
///
/// ```
/// // XEP-0224 §3, Example 3 (the from is added by the server)
/// let m = moxl_xep::xep_0224_attention::attention("herbie@usrobots.lit/home", None).build()?;
/// assert_eq!(
///     m.to_xml(),
///     "<message xmlns='jabber:client' to='herbie@usrobots.lit/home' type='headline'><attention xmlns='urn:xmpp:attention:0'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn attention(to: &str, body: Option<&str>) -> ElementBuilder {
    with_attention(moxl_core::stanza::message(to, "headline", body))
}

/// Adds `<attention/>` to a message (e.g. a chat message that should alert, §3).
///
/// ```
/// use moxl_core::stanza::message;
/// let m = moxl_xep::xep_0224_attention::with_attention(message("a@b", "chat", Some("Wake up!"))).build()?;
/// assert!(m.to_xml().ends_with("<attention xmlns='urn:xmpp:attention:0'/></message>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_attention(message: ElementBuilder) -> ElementBuilder {
    message.append(ElementBuilder::new("attention", NS))
}

/// An attention request received.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0224_attention::Attention;
/// // XEP-0224 §3, Example 3
/// let m = Element::parse("<message xmlns='jabber:client' from='calvin@usrobots.lit/lab' to='herbie@usrobots.lit/home' type='headline'>\
///     <attention xmlns='urn:xmpp:attention:0'/></message>")?;
/// assert_eq!(Attention::from_message(&m).unwrap().from.as_deref(), Some("calvin@usrobots.lit/lab"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attention {
    /// Who wants our attention.
    pub from: Option<String>,
    /// The message's body, if it has one.
    pub body: Option<String>,
}

impl Attention {
    /// Reads a message with `<attention/>`; `None` without one or for an error message.
    pub fn from_message(stanza: &Element) -> Option<Attention> {
        let attention = stanza.child("attention", NS)?;
        if !is_extension_of(&attention, stanza) {
            return None;
        }
        Some(Attention {
            from: stanza.attr("from").map(|f| f.into_owned()),
            body: stanza.child_text("body", moxl_core::xml::ns::CLIENT),
        })
    }
}

/// Delivers each attention request as an [`Attention`] under the Packet key `attention`.
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) {
/// let mut buzzes = xec.subscribe("attention");
/// # }
/// ```
#[payload(name = "attention", ns = "urn:xmpp:attention:0", key = "attention", at = "child")]
#[derive(Debug, Default)]
pub struct AttentionRequests;

impl Payload for AttentionRequests {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if is_extension_of(element, stanza)
            && let Some(attention) = Attention::from_message(stanza)
        {
            ctx.pack(attention).deliver();
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
    fn attention_is_delivered_once_and_not_from_a_bounce() {
        let xec = Xec::new().unwrap();
        let mut buzzes = xec.subscribe("attention");
        let built = attention("herbie@usrobots.lit/home", Some("Hey!")).attr("from", "calvin@usrobots.lit/lab");
        block_on(xec.dispatch(built.build().unwrap()));
        let p = buzzes.try_recv().unwrap();
        assert_eq!(p.content::<Attention>().unwrap().body.as_deref(), Some("Hey!"));
        assert!(buzzes.try_recv().is_none());
        for xml in [
            "<message xmlns='jabber:client' type='error'><attention xmlns='urn:xmpp:attention:0'/></message>",
            "<message xmlns='jabber:client'><x xmlns='urn:x'><attention xmlns='urn:xmpp:attention:0'/></x></message>",
        ] {
            block_on(xec.dispatch(Element::parse(xml).unwrap()));
            assert!(buzzes.try_recv().is_none(), "{xml}");
        }
    }
}
