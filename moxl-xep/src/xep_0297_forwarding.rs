//! XEP-0297: Stanza Forwarding. The `<forwarded/>` wrapper that carries a copy of a stanza inside another one
//! (used by Message Carbons, XEP-0280, and the Message Archive, XEP-0313): its builder ([`forward`]) and view
//! ([`Forwarded`]).
//!
//! This module only reads and writes the wrapper: forwarding a message to someone is an application's choice, so
//! it declares no disco feature.

use moxl_core::xml::{Element, ElementBuilder, ElementOrBuilder, ns};

/// `urn:xmpp:forward:0` (§3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0297_forwarding::NS, "urn:xmpp:forward:0");
/// ```
pub const NS: &str = "urn:xmpp:forward:0";

/// `urn:xmpp:delay` (XEP-0203), the timestamp a `<forwarded/>` may carry (§3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0297_forwarding::DELAY_NS, "urn:xmpp:delay");
/// ```
pub const DELAY_NS: &str = "urn:xmpp:delay";

/// A `<forwarded/>` wrapping `stanza`, with a `<delay stamp='…'/>` (XEP-0203) when `stamp` is given (§3).
///
/// ```
/// use moxl_core::stanza::message;
/// use moxl_xep::xep_0297_forwarding::forward;
/// let f = forward(message("romeo@montague.lit", "chat", Some("hi")), Some("2010-07-10T23:08:25Z"));
/// assert_eq!(
///     f.build()?.to_xml(),
///     "<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>\
///      <message xmlns='jabber:client' to='romeo@montague.lit' type='chat'><body>hi</body></message></forwarded>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn forward(stanza: impl Into<ElementOrBuilder>, stamp: Option<&str>) -> ElementBuilder {
    let mut forwarded = ElementBuilder::new("forwarded", NS);
    if let Some(stamp) = stamp {
        forwarded.push(ElementBuilder::new("delay", DELAY_NS).attr("stamp", stamp.to_owned()));
    }
    forwarded.append(stanza)
}

/// A `<forwarded/>` read: the message it carries and the time of its `<delay/>`, if any (§3).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0297_forwarding::Forwarded;
/// // XEP-0297 §3, Example 1 (shortened)
/// let m = Element::parse("<message xmlns='jabber:client' to='mercutio@verona.lit' from='romeo@montague.lit/orchard' type='chat' id='28gs'>\
///     <body>A most courteous exposition!</body>\
///     <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>\
///     <message from='juliet@capulet.lit/orchard' id='0202197' to='romeo@montague.lit' type='chat' xmlns='jabber:client'>\
///     <body>Yet I should kill thee with much cherishing.</body></message></forwarded></message>")?;
/// let f = Forwarded::find_in(&m).unwrap();
/// assert_eq!(f.stamp.as_deref(), Some("2010-07-10T23:08:25Z"));
/// assert_eq!(f.message.attr("id").as_deref(), Some("0202197"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Forwarded {
    /// The forwarded `<message xmlns='jabber:client'/>` (a view into the carrying stanza, not a copy).
    pub message: Element,
    /// The `stamp` of its `<delay/>` (XEP-0082 date-time, as written).
    pub stamp: Option<String>,
}

impl Forwarded {
    /// Reads a `<forwarded xmlns='urn:xmpp:forward:0'/>` element. `None` if it is none, or carries no
    /// `<message xmlns='jabber:client'/>` (the carriers in this crate only forward messages).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0297_forwarding::Forwarded;
    /// let empty = Element::parse("<forwarded xmlns='urn:xmpp:forward:0'/>")?;
    /// assert!(Forwarded::from_element(&empty).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(forwarded: &Element) -> Option<Forwarded> {
        if !forwarded.is("forwarded", NS) {
            return None;
        }
        let message = forwarded.child("message", ns::CLIENT)?;
        let stamp = forwarded.child("delay", DELAY_NS).and_then(|d| d.attr("stamp").map(|s| s.into_owned()));
        Some(Forwarded { message, stamp })
    }

    /// The first `<forwarded/>` child of `parent`, read with [`from_element`](Self::from_element).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let plain = Element::parse("<message xmlns='jabber:client'><body>hi</body></message>")?;
    /// assert!(moxl_xep::xep_0297_forwarding::Forwarded::find_in(&plain).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn find_in(parent: &Element) -> Option<Forwarded> {
        Forwarded::from_element(&parent.child("forwarded", NS)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forwarded_message_round_trips() {
        let inner = Element::parse(
            "<message xmlns='jabber:client' from='juliet@capulet.lit/orchard' id='0202197' type='chat'><body>Yet</body></message>",
        )
        .unwrap();
        let outer = ElementBuilder::new("message", ns::CLIENT)
            .append(forward(inner.clone(), Some("2010-07-10T23:08:25Z")))
            .build()
            .unwrap();
        let f = Forwarded::find_in(&outer).unwrap();
        assert_eq!(f.message.to_xml(), inner.to_xml());
        assert_eq!(f.stamp.as_deref(), Some("2010-07-10T23:08:25Z"));
        let undated = ElementBuilder::new("message", ns::CLIENT).append(forward(inner, None)).build().unwrap();
        assert_eq!(Forwarded::find_in(&undated).unwrap().stamp, None);
        // an iq is not a forwarded message here
        let iq =
            Element::parse("<forwarded xmlns='urn:xmpp:forward:0'><iq xmlns='jabber:client' type='get'/></forwarded>")
                .unwrap();
        assert!(Forwarded::from_element(&iq).is_none());
    }
}
