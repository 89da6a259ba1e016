//! XEP-0380: Explicit Message Encryption (namespace `urn:xmpp:eme:0`). Marks a message as encrypted, and with
//! which mechanism, so that a client that cannot decrypt it says so instead of showing the fallback body as if
//! it were the message (§3).
//!
//! §5: a client MUST tell its user when it cannot decrypt a message; it MUST NOT use the `name` attribute for
//! a mechanism it already has a name for ([`Encryption::display_name`] follows that rule).
//!
//! ```
//! use moxl_xep::xep_0380_eme::{Encryption, OMEMO_LEGACY};
//! let m = moxl_core::stanza::message("juliet@capulet.lit", "chat", Some("I sent you an OMEMO encrypted message"))
//!     .append(Encryption::element(OMEMO_LEGACY, None))
//!     .build()?;
//! assert_eq!(Encryption::of(&m).unwrap().display_name(), "OMEMO");
//! # Ok::<(), moxl_core::Error>(())
//! ```

use std::borrow::Cow;

use moxl_core::xml::{Element, ElementBuilder};

/// `urn:xmpp:eme:0` (§7), also the disco feature (§3.3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0380_eme::NS, "urn:xmpp:eme:0");
/// ```
pub const NS: &str = "urn:xmpp:eme:0";

moxl_core::feature!("urn:xmpp:eme:0");

/// OMEMO as deployed by Conversations, Movim and most clients (XEP-0384 before 0.4).
pub const OMEMO_LEGACY: &str = "eu.siacs.conversations.axolotl";
/// OMEMO of XEP-0384 0.4 to 0.7.
pub const OMEMO_1: &str = "urn:xmpp:omemo:1";
/// OMEMO of XEP-0384 0.8 and later.
pub const OMEMO_2: &str = "urn:xmpp:omemo:2";
/// OpenPGP for XMPP (XEP-0373).
pub const OPENPGP: &str = "urn:xmpp:openpgp:0";
/// Legacy OpenPGP (XEP-0027).
pub const LEGACY_OPENPGP: &str = "jabber:x:encrypted";
/// OTR (XEP-0364).
pub const OTR: &str = "urn:xmpp:otr:0";

/// The mechanisms the XEP names (§3.2, with the OMEMO namespaces of its later table), and their names.
///
/// ```
/// assert!(moxl_xep::xep_0380_eme::KNOWN.iter().any(|(ns, _)| *ns == "urn:xmpp:openpgp:0"));
/// ```
pub const KNOWN: [(&str, &str); 6] = [
    (OTR, "OTR"),
    (LEGACY_OPENPGP, "Legacy OpenPGP"),
    (OPENPGP, "OpenPGP for XMPP"),
    (OMEMO_LEGACY, "OMEMO"),
    (OMEMO_1, "OMEMO 1"),
    (OMEMO_2, "OMEMO 2"),
];

/// A message's `<encryption/>` marker.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0380_eme::Encryption;
/// let m = Element::parse("<message xmlns='jabber:client'><body>?</body>\
///     <encryption xmlns='urn:xmpp:eme:0' namespace='urn:example:cipher' name='Example Cipher'/></message>")?;
/// let e = Encryption::of(&m).unwrap();
/// assert_eq!((e.namespace.as_str(), e.display_name()), ("urn:example:cipher", "Example Cipher"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Encryption {
    /// The mechanism's namespace (`namespace`, required).
    pub namespace: String,
    /// The name the sender gave, for a mechanism the reader may not know (`name`).
    pub name: Option<String>,
}

impl Encryption {
    /// The marker of a message; `None` without one or without its `namespace`.
    pub fn of(message: &Element) -> Option<Encryption> {
        let e = message.child("encryption", NS)?;
        Some(Encryption {
            namespace: e.attr("namespace").filter(|n| !n.is_empty())?.into_owned(),
            name: e.attr("name").map(Cow::into_owned),
        })
    }

    /// The name to show: the XEP's name for a known mechanism (a `name` sent for it is ignored, §5), else the
    /// sender's `name`, else the namespace.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0380_eme::Encryption;
    /// let m = Element::parse("<message xmlns='jabber:client'>\
    ///     <encryption xmlns='urn:xmpp:eme:0' namespace='urn:xmpp:otr:0' name='Totally Safe'/></message>")?;
    /// assert_eq!(Encryption::of(&m).unwrap().display_name(), "OTR");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn display_name(&self) -> &str {
        KNOWN
            .iter()
            .find(|(ns, _)| *ns == self.namespace)
            .map(|(_, name)| *name)
            .or(self.name.as_deref())
            .unwrap_or(&self.namespace)
    }

    /// The marker for `namespace`; `name` only for a mechanism the XEP does not list (§5: it SHOULD NOT be
    /// sent for the listed ones, so it is left out for them).
    ///
    /// ```
    /// use moxl_xep::xep_0380_eme::{Encryption, OTR};
    /// assert_eq!(Encryption::element(OTR, Some("OTR")).build()?.to_xml(),
    ///     "<encryption xmlns='urn:xmpp:eme:0' namespace='urn:xmpp:otr:0'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn element(namespace: &str, name: Option<&str>) -> ElementBuilder {
        let e = ElementBuilder::new("encryption", NS).attr("namespace", namespace.to_owned());
        match name {
            Some(name) if !KNOWN.iter().any(|(ns, _)| *ns == namespace) => e.attr("name", name.to_owned()),
            _ => e,
        }
    }
}
