//! XEP-0293: Jingle RTP Feedback Negotiation (version 1.0.2, namespace `urn:xmpp:jingle:apps:rtp:rtcp-fb:0`):
//! the `<rtcp-fb/>` and `<rtcp-fb-trr-int/>` elements (§3) that go in an RTP `<description/>` (for every payload
//! type, SDP `a=rtcp-fb:*`) or in one `<payload-type/>` (SDP `a=rtcp-fb:<pt>`), as §5 maps them. They live in
//! [`RtpDescription::rtcp_fb`](crate::xep_0167_rtp::RtpDescription::rtcp_fb) and
//! [`PayloadType::rtcp_fb`](crate::xep_0167_rtp::PayloadType::rtcp_fb).
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0167_rtp::RtpDescription;
//! use moxl_xep::xep_0293_rtcp_fb::RtcpFb;
//! // §4, Example 1
//! let e = Element::parse("<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>\
//!     <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='pli'/>\
//!     <payload-type id='96' name='H264' clockrate='90000'>\
//!       <rtcp-fb-trr-int xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' value='100'/>\
//!       <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='sli'/>\
//!     </payload-type><payload-type id='34' name='H263' clockrate='90000'/></description>")?;
//! let d = RtpDescription::from_element(&e)?;
//! assert_eq!(d.rtcp_fb, [RtcpFb::new("nack", Some("pli"))]);
//! assert_eq!((d.payload_types[0].rtcp_fb_trr_int, d.payload_types[0].rtcp_fb.len()), (Some(100), 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use moxl_core::xml::{Element, ElementBuilder};

use crate::xep_0166_jingle::JingleError;
use crate::xep_0167_rtp::{Parameter, req_attr, req_num};

/// `urn:xmpp:jingle:apps:rtp:rtcp-fb:0` (§8.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0293_rtcp_fb::NS, "urn:xmpp:jingle:apps:rtp:rtcp-fb:0");
/// ```
pub const NS: &str = "urn:xmpp:jingle:apps:rtp:rtcp-fb:0";

/// An `<rtcp-fb/>` (§3): a feedback message type (`nack`, `ccm`, `goog-remb`, `transport-cc`, …), its subtype
/// (`pli`, `fir`, …) and any further parameters (for `a=rtcp-fb:96 ccm tmmbr smaxpr=120`, say).
///
/// ```
/// use moxl_xep::xep_0293_rtcp_fb::RtcpFb;
/// let fb = RtcpFb::new("ccm", Some("fir"));
/// assert_eq!(fb.to_builder().build()?.to_xml(), "<rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='ccm' subtype='fir'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RtcpFb {
    /// The feedback type (`type`, REQUIRED).
    pub kind: String,
    /// The subtype.
    pub subtype: Option<String>,
    /// Further parameters (`<parameter/>` children).
    pub parameters: Vec<Parameter>,
}

impl RtcpFb {
    /// A feedback message of this type and subtype.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0293_rtcp_fb::RtcpFb::new("nack", None).kind, "nack");
    /// ```
    pub fn new(kind: impl Into<String>, subtype: Option<&str>) -> RtcpFb {
        RtcpFb { kind: kind.into(), subtype: subtype.map(str::to_owned), parameters: Vec::new() }
    }

    /// Reads an `<rtcp-fb/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let e = Element::parse("<rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' subtype='pli'/>")?;
    /// assert!(moxl_xep::xep_0293_rtcp_fb::RtcpFb::from_element(&e).is_err(), "type is REQUIRED");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<RtcpFb, JingleError> {
        Ok(RtcpFb {
            kind: req_attr(e, "type")?,
            subtype: e.attr("subtype").map(|s| s.into_owned()),
            parameters: Parameter::all_in(e, NS)?,
        })
    }

    /// The `<rtcp-fb/>` element.
    ///
    /// ```
    /// let fb = moxl_xep::xep_0293_rtcp_fb::RtcpFb::new("transport-cc", None);
    /// assert_eq!(fb.to_builder().build()?.to_xml(), "<rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='transport-cc'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        let mut b = ElementBuilder::new("rtcp-fb", NS)
            .attr("type", self.kind.clone())
            .attr_opt("subtype", self.subtype.clone());
        for p in &self.parameters {
            b = b.append(p.to_builder(NS));
        }
        b
    }
}

/// The `<rtcp-fb/>` and `<rtcp-fb-trr-int/>` children of a description or payload type.
pub(crate) fn read(parent: &Element) -> Result<(Vec<RtcpFb>, Option<u32>), JingleError> {
    let mut fb = Vec::new();
    let mut trr = None;
    for c in parent.children().filter(|c| c.ns() == NS) {
        match c.name() {
            "rtcp-fb" => fb.push(RtcpFb::from_element(&c)?),
            "rtcp-fb-trr-int" => trr = Some(req_num(&c, "value")?),
            _ => {}
        }
    }
    Ok((fb, trr))
}

/// Appends them to a description or payload type.
pub(crate) fn write(mut b: ElementBuilder, fb: &[RtcpFb], trr: Option<u32>) -> ElementBuilder {
    if let Some(v) = trr {
        b = b.append(ElementBuilder::new("rtcp-fb-trr-int", NS).attr("value", v.to_string()));
    }
    for f in fb {
        b = b.append(f.to_builder());
    }
    b
}
