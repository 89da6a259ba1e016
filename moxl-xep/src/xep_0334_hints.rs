//! XEP-0334: Message Processing Hints (namespace `urn:xmpp:hints`). Hints to the servers and
//! archives a message passes through: do not store it for ever (`no-permanent-store`), do not store it at all
//! (`no-store`), do not copy it to other resources (`no-copy`), or store it although it has no body (`store`).
//! They are hints: no entity may rely on another honoring them (§ "Business Rules").
//!
//! ```
//! use moxl_xep::xep_0334_hints::{hints_of, Hint};
//! let m = moxl_core::stanza::message("juliet@capulet.lit", "chat", None)
//!     .append(Hint::Store.element())
//!     .build()?;
//! assert_eq!(hints_of(&m), [Hint::Store]);
//! # Ok::<(), moxl_core::Error>(())
//! ```

use moxl_core::xml::{Element, ElementBuilder};

/// `urn:xmpp:hints`.
///
/// ```
/// assert_eq!(moxl_xep::xep_0334_hints::NS, "urn:xmpp:hints");
/// ```
pub const NS: &str = "urn:xmpp:hints";

/// A processing hint (§ "Hints").
///
/// ```
/// use moxl_xep::xep_0334_hints::Hint;
/// assert_eq!(Hint::NoPermanentStore.name(), "no-permanent-store");
/// assert_eq!(Hint::from_name("no-copy"), Some(Hint::NoCopy));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Hint {
    /// `<no-permanent-store/>`: may be stored for delivery (offline storage) but not archived.
    NoPermanentStore,
    /// `<no-store/>`: not stored at all, not even for offline delivery.
    NoStore,
    /// `<no-copy/>`: not copied to other addresses (carbons). Only for messages to a full JID.
    NoCopy,
    /// `<store/>`: stored although it would not be by default (a message without a body, such as a
    /// retraction or a reaction).
    Store,
}

impl Hint {
    /// Every hint, in the XEP's order.
    pub const ALL: [Hint; 4] = [Hint::NoPermanentStore, Hint::NoStore, Hint::NoCopy, Hint::Store];

    /// The element's local name.
    pub fn name(self) -> &'static str {
        match self {
            Hint::NoPermanentStore => "no-permanent-store",
            Hint::NoStore => "no-store",
            Hint::NoCopy => "no-copy",
            Hint::Store => "store",
        }
    }

    /// The hint of an element's local name.
    pub fn from_name(name: &str) -> Option<Hint> {
        Hint::ALL.into_iter().find(|h| h.name() == name)
    }

    /// The hint element, to append to a message.
    ///
    /// ```
    /// let e = moxl_xep::xep_0334_hints::Hint::NoCopy.element().build()?;
    /// assert_eq!(e.to_xml(), "<no-copy xmlns='urn:xmpp:hints'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn element(self) -> ElementBuilder {
        ElementBuilder::new(self.name(), NS)
    }
}

/// The hints a message carries, in document order (unknown elements of the namespace are skipped).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0334_hints::{hints_of, Hint};
/// let m = Element::parse("<message xmlns='jabber:client'><no-store xmlns='urn:xmpp:hints'/>\
///     <no-copy xmlns='urn:xmpp:hints'/><later xmlns='urn:xmpp:hints'/></message>")?;
/// assert_eq!(hints_of(&m), [Hint::NoStore, Hint::NoCopy]);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn hints_of(message: &Element) -> Vec<Hint> {
    message.children().filter(|c| c.ns() == NS).filter_map(|c| Hint::from_name(c.name())).collect()
}
