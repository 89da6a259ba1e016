//! XEP-0339: Source-Specific Media Attributes in Jingle (version 1.0.1, namespace
//! `urn:xmpp:jingle:apps:rtp:ssma:0`): `<source/>` (§2.1, SDP `a=ssrc`, RFC 5576) and `<ssrc-group/>` (§2.2,
//! SDP `a=ssrc-group`), children of an RTP `<description/>`: [`RtpDescription::sources`] and
//! [`RtpDescription::ssrc_groups`].
//!
//! [`RtpDescription::sources`]: crate::xep_0167_rtp::RtpDescription::sources
//! [`RtpDescription::ssrc_groups`]: crate::xep_0167_rtp::RtpDescription::ssrc_groups
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0167_rtp::RtpDescription;
//! // §3, the example
//! let e = Element::parse("<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>\
//!     <payload-type id='100' name='VP8' clockrate='90000'/>\
//!     <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'><source ssrc='2301230316'/><source ssrc='386328120'/></ssrc-group>\
//!     <source ssrc='2301230316' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><parameter name='cname' value='T5qvrIZj42v//eYQ'/></source>\
//!     <source ssrc='386328120' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><parameter name='cname' value='uEYgNtStZyTF74sM'/></source>\
//!     </description>")?;
//! let d = RtpDescription::from_element(&e)?;
//! assert_eq!(d.ssrc_groups[0].sources, [2301230316, 386328120]);
//! assert_eq!(d.sources[1].parameter("cname"), Some("uEYgNtStZyTF74sM"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use moxl_core::xml::{Element, ElementBuilder};

use crate::xep_0166_jingle::JingleError;
use crate::xep_0167_rtp::{Parameter, req_attr, req_num};

/// `urn:xmpp:jingle:apps:rtp:ssma:0` (§8.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0339_ssma::NS, "urn:xmpp:jingle:apps:rtp:ssma:0");
/// ```
pub const NS: &str = "urn:xmpp:jingle:apps:rtp:ssma:0";

/// A `<source/>` (§2.1): an SSRC and its source attributes (`cname`, `msid`, …), one `a=ssrc` line each.
///
/// ```
/// use moxl_xep::xep_0167_rtp::Parameter;
/// use moxl_xep::xep_0339_ssma::Source;
/// let s = Source { ssrc: 1656081975, parameters: vec![Parameter::new("cname", "Yv/wvbCdsDW2Prgd")] };
/// assert_eq!(
///     s.to_builder().build()?.to_xml(),
///     "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='1656081975'><parameter name='cname' value='Yv/wvbCdsDW2Prgd'/></source>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The synchronization source (`ssrc`, REQUIRED).
    pub ssrc: u32,
    /// Its attributes, in order.
    pub parameters: Vec<Parameter>,
}

impl Source {
    /// Reads a `<source/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let e = Element::parse("<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='-1'/>")?;
    /// assert!(moxl_xep::xep_0339_ssma::Source::from_element(&e).is_err());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<Source, JingleError> {
        Ok(Source { ssrc: req_num(e, "ssrc")?, parameters: Parameter::all_in(e, NS)? })
    }

    /// The value of its first attribute named `name`.
    ///
    /// ```
    /// let s = moxl_xep::xep_0339_ssma::Source { ssrc: 1, parameters: vec![moxl_xep::xep_0167_rtp::Parameter::new("cname", "a")] };
    /// assert_eq!((s.parameter("cname"), s.parameter("msid")), (Some("a"), None));
    /// ```
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.iter().find(|p| p.name == name).and_then(|p| p.value.as_deref())
    }

    /// The `<source/>` element.
    ///
    /// ```
    /// let s = moxl_xep::xep_0339_ssma::Source { ssrc: 7, parameters: vec![] };
    /// assert_eq!(s.to_builder().build()?.to_xml(), "<source xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' ssrc='7'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        let mut b = ElementBuilder::new("source", NS).attr("ssrc", self.ssrc.to_string());
        for p in &self.parameters {
            b = b.append(p.to_builder(NS));
        }
        b
    }
}

/// An `<ssrc-group/>` (§2.2): the group's semantics (`FID`, `SIM`, `FEC`, …) and its SSRCs in order.
///
/// ```
/// let g = moxl_xep::xep_0339_ssma::SsrcGroup { semantics: "FID".into(), sources: vec![2424087190, 3710043087] };
/// assert_eq!(
///     g.to_builder().build()?.to_xml(),
///     "<ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'><source ssrc='2424087190'/><source ssrc='3710043087'/></ssrc-group>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsrcGroup {
    /// The semantics (`semantics`, REQUIRED).
    pub semantics: String,
    /// The SSRCs.
    pub sources: Vec<u32>,
}

impl SsrcGroup {
    /// Reads an `<ssrc-group/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let e = Element::parse("<ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='SIM'><source ssrc='1'/><source ssrc='2'/></ssrc-group>")?;
    /// assert_eq!(moxl_xep::xep_0339_ssma::SsrcGroup::from_element(&e)?.sources, [1, 2]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<SsrcGroup, JingleError> {
        let sources =
            e.children().filter(|c| c.is("source", NS)).map(|c| req_num(&c, "ssrc")).collect::<Result<_, _>>()?;
        Ok(SsrcGroup { semantics: req_attr(e, "semantics")?, sources })
    }

    /// The `<ssrc-group/>` element.
    ///
    /// ```
    /// let g = moxl_xep::xep_0339_ssma::SsrcGroup { semantics: "SIM".into(), sources: vec![1] };
    /// assert!(g.to_builder().build()?.to_xml().starts_with("<ssrc-group"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        let mut b = ElementBuilder::new("ssrc-group", NS).attr("semantics", self.semantics.clone());
        for s in &self.sources {
            b = b.append(ElementBuilder::new("source", NS).attr("ssrc", s.to_string()));
        }
        b
    }
}
