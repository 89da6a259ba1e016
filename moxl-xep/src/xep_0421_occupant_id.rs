//! XEP-0421: Anonymous unique occupant identifiers for MUCs (namespace `urn:xmpp:occupant-id:0`). A room that
//! supports it stamps every presence and message it routes with an id that stays the same for one participant
//! (whatever the nick), so a client can tell that a correction, a retraction or a reaction comes from the same
//! occupant as the message it applies to, without seeing real JIDs.
//!
//! Trust it only from a room that announces the feature ([`NS`] in its disco#info, §3): such a room replaces
//! any `<occupant-id/>` a participant sent; another room passes a forged one through (§7).
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0421_occupant_id::occupant_id;
//! let m = Element::parse("<message xmlns='jabber:client' from='room@muc.example.com/nick' type='groupchat'>\
//!     <body>Hello</body><occupant-id xmlns='urn:xmpp:occupant-id:0' id='dd72603deec90a38ba552f7c68cbcc61bca202cd'/></message>")?;
//! assert_eq!(occupant_id(&m).as_deref(), Some("dd72603deec90a38ba552f7c68cbcc61bca202cd"));
//! # Ok::<(), moxl_core::xml::XmlError>(())
//! ```

use moxl_core::xml::Element;

/// `urn:xmpp:occupant-id:0`: the element's namespace and the room's disco feature (§3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0421_occupant_id::NS, "urn:xmpp:occupant-id:0");
/// ```
pub const NS: &str = "urn:xmpp:occupant-id:0";

/// The occupant id a room put on a stanza (`None` without one, or with an empty id). Only meaningful when the
/// room announces [`NS`]; see [`trusted_occupant_id`].
///
/// ```
/// use moxl_core::xml::Element;
/// let p = Element::parse("<presence xmlns='jabber:client' from='room@muc.example.com/nick'/>")?;
/// assert_eq!(moxl_xep::xep_0421_occupant_id::occupant_id(&p), None);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn occupant_id(stanza: &Element) -> Option<String> {
    let id = stanza.child("occupant-id", NS)?.attr("id")?.into_owned();
    (!id.is_empty()).then_some(id)
}

/// The occupant id of a stanza from a room whose disco#info `features` were read: `None` when the room does not
/// announce [`NS`], since such a room lets a participant's forged id through (§7).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0421_occupant_id::{trusted_occupant_id, NS};
/// let m = Element::parse("<message xmlns='jabber:client' type='groupchat'>\
///     <occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/></message>")?;
/// assert_eq!(trusted_occupant_id(&m, &["http://jabber.org/protocol/muc"]), None);
/// assert_eq!(trusted_occupant_id(&m, &["http://jabber.org/protocol/muc", NS]).as_deref(), Some("forged"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn trusted_occupant_id<S: AsRef<str>>(stanza: &Element, room_features: &[S]) -> Option<String> {
    room_features.iter().any(|f| f.as_ref() == NS).then(|| occupant_id(stanza)).flatten()
}
