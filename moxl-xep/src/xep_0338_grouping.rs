//! XEP-0338: Jingle Grouping Framework (version 1.0.0, namespace `urn:xmpp:jingle:apps:grouping:0`): a
//! `<group/>` child of `<jingle/>` (§2) groups contents as an SDP `a=group` line does (RFC 5888), BUNDLE above
//! all (RFC 9143: all contents over one transport). Each `<content name='…'/>` inside names a content, which is
//! the SDP `a=mid` of its media section.
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0166_jingle::Jingle;
//! use moxl_xep::xep_0338_grouping::Group;
//! // §2
//! let j = Jingle::from_element(&Element::parse("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='romeo@montague.lit/orchard' sid='a73sjjvkla37jfea'>\
//!     <group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'><content name='voice'/><content name='webcam'/></group>\
//!     <content creator='initiator' name='voice'/><content creator='initiator' name='webcam'/></jingle>")?)?;
//! let groups = Group::from_jingle(&j)?;
//! assert_eq!((groups[0].semantics.as_str(), groups[0].contents.as_slice()), ("BUNDLE", ["voice".to_owned(), "webcam".to_owned()].as_slice()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use moxl_core::xml::{Element, ElementBuilder};

use crate::xep_0166_jingle::{Jingle, JingleError};
use crate::xep_0167_rtp::req_attr;

/// `urn:xmpp:jingle:apps:grouping:0` (§7.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0338_grouping::NS, "urn:xmpp:jingle:apps:grouping:0");
/// ```
pub const NS: &str = "urn:xmpp:jingle:apps:grouping:0";

/// A `<group/>` (§2): its semantics (`BUNDLE`, `LS`, …) and the names of the contents it groups.
///
/// ```
/// let g = moxl_xep::xep_0338_grouping::Group::bundle(["0", "1"]);
/// assert_eq!(
///     g.to_builder().build()?.to_xml(),
///     "<group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'><content name='0'/><content name='1'/></group>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The semantics (`semantics`, REQUIRED).
    pub semantics: String,
    /// The names of the grouped contents, in order.
    pub contents: Vec<String>,
}

impl Group {
    /// A BUNDLE group of these contents.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0338_grouping::Group::bundle(["voice"]).semantics, "BUNDLE");
    /// ```
    pub fn bundle<S: Into<String>>(contents: impl IntoIterator<Item = S>) -> Group {
        Group { semantics: "BUNDLE".into(), contents: contents.into_iter().map(Into::into).collect() }
    }

    /// Reads a `<group/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let e = Element::parse("<group xmlns='urn:xmpp:jingle:apps:grouping:0'><content name='a'/></group>")?;
    /// assert!(moxl_xep::xep_0338_grouping::Group::from_element(&e).is_err(), "semantics is REQUIRED");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<Group, JingleError> {
        let contents =
            e.children().filter(|c| c.is("content", NS)).map(|c| req_attr(&c, "name")).collect::<Result<_, _>>()?;
        Ok(Group { semantics: req_attr(e, "semantics")?, contents })
    }

    /// The groups of a `<jingle/>` (its `<group/>` payloads).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Action, Jingle};
    /// assert!(moxl_xep::xep_0338_grouping::Group::from_jingle(&Jingle::new(Action::SessionInitiate, "s"))?.is_empty());
    /// # Ok::<(), moxl_xep::xep_0166_jingle::JingleError>(())
    /// ```
    pub fn from_jingle(jingle: &Jingle) -> Result<Vec<Group>, JingleError> {
        jingle.payloads.iter().filter(|p| p.is("group", NS)).map(Group::from_element).collect()
    }

    /// The `<group/>` element, for [`Jingle::with_payload`].
    ///
    /// ```
    /// let g = moxl_xep::xep_0338_grouping::Group { semantics: "LS".into(), contents: vec!["voice".into(), "webcam".into()] };
    /// assert!(g.to_builder().build()?.to_xml().contains("semantics='LS'"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        let mut b = ElementBuilder::new("group", NS).attr("semantics", self.semantics.clone());
        for c in &self.contents {
            b = b.append(ElementBuilder::new("content", NS).attr("name", c.clone()));
        }
        b
    }
}
