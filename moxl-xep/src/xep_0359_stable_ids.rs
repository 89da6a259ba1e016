//! XEP-0359: Unique and Stable Stanza IDs (version 0.7). The `<origin-id/>` a client puts on what it sends
//! ([`with_origin_id`], read back with [`origin_id`]), and the `<stanza-id/>` a server or room stamps on what it
//! routes ([`StanzaId`]).
//!
//! A `<stanza-id/>` is only as trustworthy as its `by`: anyone can write one into a message. The entity named
//! in `by` deletes copies bearing its own address that others inserted (§3), so a stanza id is trusted only when
//! `by` is the entity expected to stamp it (our own bare JID for messages our server archives, the room's bare
//! JID in a MUC) and that entity announced `urn:xmpp:sid:0` (§4). [`stanza_id`] and [`StanzaId::id_by`] take
//! that expected `by` and give the id only when it matches.

use moxl_core::jid::Jid;
use moxl_core::xml::{Element, ElementBuilder};

/// `urn:xmpp:sid:0` (§4, §7.1).
pub const NS: &str = "urn:xmpp:sid:0";

moxl_core::feature!("urn:xmpp:sid:0");

/// Adds `<origin-id id='…'/>` to a message (§2.2). The id SHOULD be unpredictable (§3): a UUID, or at least a
/// long random string, unique to this message.
///
/// ```
/// use moxl_core::stanza::message;
/// use moxl_xep::xep_0359_stable_ids::with_origin_id;
/// // §2.2, Example 2
/// let m = with_origin_id(message("room@muc.example.com", "groupchat", Some("Typical body text")), "de305d54-75b4-431b-adb2-eb6b9e546013");
/// assert_eq!(
///     m.build()?.to_xml(),
///     "<message xmlns='jabber:client' to='room@muc.example.com' type='groupchat'><body>Typical body text</body>\
///      <origin-id xmlns='urn:xmpp:sid:0' id='de305d54-75b4-431b-adb2-eb6b9e546013'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_origin_id(message: ElementBuilder, id: impl Into<String>) -> ElementBuilder {
    message.append(ElementBuilder::new("origin-id", NS).attr("id", id))
}

/// The origin id of a stanza: the `id` of its `<origin-id/>` child (§2.2). The sender chose it; it identifies
/// the message for the sender (to recognize a room's reflection of its own message, say), nothing more.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0359_stable_ids::origin_id;
/// // §2.2, Example 3
/// let m = Element::parse("<message xmlns='jabber:client' to='room@muc.example.com' type='groupchat'>\
///     <body>Typical body text</body>\
///     <stanza-id xmlns='urn:xmpp:sid:0' id='5f3dbc5e-e1d3-4077-a492-693f3769c7ad' by='room@muc.example.com'/>\
///     <origin-id xmlns='urn:xmpp:sid:0' id='de305d54-75b4-431b-adb2-eb6b9e546013'/></message>")?;
/// assert_eq!(origin_id(&m).as_deref(), Some("de305d54-75b4-431b-adb2-eb6b9e546013"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn origin_id(stanza: &Element) -> Option<String> {
    stanza.child("origin-id", NS).and_then(|o| o.attr("id").map(|id| id.into_owned())).filter(|id| !id.is_empty())
}

/// A `<stanza-id id='…' by='…'/>` (§2.1): the id that the entity `by` gave the stanza, unique and stable within
/// that entity's scope.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0359_stable_ids::StanzaId;
/// // §2.1, Example 1
/// let e = Element::parse("<stanza-id xmlns='urn:xmpp:sid:0' id='de305d54-75b4-431b-adb2-eb6b9e546013' by='room@muc.example.com'/>")?;
/// let sid = StanzaId::from_element(&e).unwrap();
/// assert_eq!(sid.id_by("room@muc.example.com"), Some("de305d54-75b4-431b-adb2-eb6b9e546013"));
/// assert_eq!(sid.id_by("mallory@evil.example"), None);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StanzaId {
    /// The id, as stamped: untrusted until its `by` is checked (see [`id_by`](Self::id_by)).
    pub id: String,
    /// The entity that claims to have stamped it.
    pub by: String,
}

impl StanzaId {
    /// Reads a `<stanza-id/>`; both `id` and `by` are required (§3).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0359_stable_ids::StanzaId;
    /// let no_by = Element::parse("<stanza-id xmlns='urn:xmpp:sid:0' id='x'/>")?;
    /// assert_eq!(StanzaId::from_element(&no_by), None);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(element: &Element) -> Option<StanzaId> {
        if !element.is("stanza-id", NS) {
            return None;
        }
        let attr = |name: &str| element.attr(name).filter(|v| !v.is_empty()).map(|v| v.into_owned());
        Some(StanzaId { id: attr("id")?, by: attr("by")? })
    }

    /// Every `<stanza-id/>` directly inside a stanza (§3: they live at the stanza's first level), trusted or not.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0359_stable_ids::StanzaId;
    /// let m = Element::parse("<message xmlns='jabber:client'><stanza-id xmlns='urn:xmpp:sid:0' id='1' by='a@b'/>\
    ///     <stanza-id xmlns='urn:xmpp:sid:0' id='2' by='room@muc.b'/></message>")?;
    /// let by: Vec<_> = StanzaId::all_in(&m).into_iter().map(|s| s.by).collect();
    /// assert_eq!(by, ["a@b", "room@muc.b"]);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(stanza: &Element) -> Vec<StanzaId> {
        stanza.children().filter_map(|c| StanzaId::from_element(&c)).collect()
    }

    /// The id, only if it was stamped by `expected` (JIDs compared after normalization, RFC 7622): our own bare
    /// JID, or the room or server we asked. Any other `by` may be forged by whoever sent the stanza.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0359_stable_ids::StanzaId;
    /// let e = Element::parse("<stanza-id xmlns='urn:xmpp:sid:0' id='x1' by='Juliet@Capulet.LIT'/>")?;
    /// let sid = StanzaId::from_element(&e).unwrap();
    /// assert_eq!(sid.id_by("juliet@capulet.lit"), Some("x1"));
    /// assert_eq!(sid.id_by("juliet@capulet.lit/balcony"), None);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn id_by(&self, expected: &str) -> Option<&str> {
        same_jid(&self.by, expected).then_some(self.id.as_str())
    }
}

/// The id that `expected_by` stamped on a stanza, or `None` when there is none from it, or more than one (§3
/// allows at most one per `by`: several mean a forgery got through).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0359_stable_ids::stanza_id;
/// let m = Element::parse("<message xmlns='jabber:client' from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony'>\
///     <body>hi</body><stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='romeo@montague.lit'/>\
///     <stanza-id xmlns='urn:xmpp:sid:0' id='a1b2' by='juliet@capulet.lit'/></message>")?;
/// assert_eq!(stanza_id(&m, "juliet@capulet.lit").as_deref(), Some("a1b2")); // stamped by our own server
/// assert_eq!(stanza_id(&m, "capulet.lit"), None);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn stanza_id(stanza: &Element, expected_by: &str) -> Option<String> {
    let mut ids = StanzaId::all_in(stanza).into_iter().filter(|s| s.id_by(expected_by).is_some());
    match (ids.next(), ids.next()) {
        (Some(only), None) => Some(only.id),
        _ => None,
    }
}

/// Whether two addresses are the same JID once normalized (not equal if either is not a valid JID).
fn same_jid(a: &str, b: &str) -> bool {
    match (Jid::new(a), Jid::new(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §2.2, Example 3: a message with both ids, as the room reflects it.
    const REFLECTED: &str = "<message xmlns='jabber:client' to='room@muc.example.com' type='groupchat'>\
        <body>Typical body text</body>\
        <stanza-id xmlns='urn:xmpp:sid:0' id='5f3dbc5e-e1d3-4077-a492-693f3769c7ad' by='room@muc.example.com'/>\
        <origin-id xmlns='urn:xmpp:sid:0' id='de305d54-75b4-431b-adb2-eb6b9e546013'/></message>";

    #[test]
    fn spec_examples_parse_build_and_round_trip() {
        let m = Element::parse(REFLECTED).unwrap();
        assert_eq!(origin_id(&m).as_deref(), Some("de305d54-75b4-431b-adb2-eb6b9e546013"));
        assert_eq!(
            StanzaId::all_in(&m),
            [StanzaId { id: "5f3dbc5e-e1d3-4077-a492-693f3769c7ad".into(), by: "room@muc.example.com".into() }]
        );
        assert_eq!(stanza_id(&m, "room@muc.example.com").as_deref(), Some("5f3dbc5e-e1d3-4077-a492-693f3769c7ad"));
        // §2.2, Example 2, built: its origin id reads back
        let built = with_origin_id(
            moxl_core::stanza::message("room@muc.example.com", "groupchat", Some("Typical body text")),
            "de305d54-75b4-431b-adb2-eb6b9e546013",
        )
        .build()
        .unwrap();
        assert_eq!(origin_id(&built), origin_id(&m));
        assert!(StanzaId::all_in(&built).is_empty());
    }

    #[test]
    fn only_the_expected_by_is_trusted() {
        let m = Element::parse(REFLECTED).unwrap();
        for other in ["muc.example.com", "room@muc.example.com/nick", "mallory@evil.example", "", "not a jid@@"] {
            assert_eq!(stanza_id(&m, other), None, "{other}");
        }
        // two ids claiming the same `by`: one is forged, neither is trusted
        let doubled = REFLECTED.replace(
            "<origin-id",
            "<stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='room@muc.example.com'/><origin-id",
        );
        assert_eq!(stanza_id(&Element::parse(&doubled).unwrap(), "room@muc.example.com"), None);
        // nested deeper (inside a forwarded message) is not the stanza's own
        let nested = "<message xmlns='jabber:client'><x xmlns='urn:example'>\
            <stanza-id xmlns='urn:xmpp:sid:0' id='n' by='a@b'/><origin-id xmlns='urn:xmpp:sid:0' id='o'/></x></message>";
        let nested = Element::parse(nested).unwrap();
        assert_eq!((stanza_id(&nested, "a@b"), origin_id(&nested)), (None, None));
    }
}
