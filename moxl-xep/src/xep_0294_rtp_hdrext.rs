//! XEP-0294: Jingle RTP Header Extensions Negotiation (version 1.1.2, namespace
//! `urn:xmpp:jingle:apps:rtp:rtp-hdrext:0`): the `<rtp-hdrext/>` element (§3), SDP `a=extmap` (RFC 8285), and
//! `<extmap-allow-mixed/>` (§3), SDP `a=extmap-allow-mixed`, as §5 maps them. They live in
//! [`RtpDescription::hdrexts`](crate::xep_0167_rtp::RtpDescription::hdrexts) and
//! [`RtpDescription::extmap_allow_mixed`](crate::xep_0167_rtp::RtpDescription::extmap_allow_mixed).
//!
//! The `senders` of a header extension says who sends it, as a content's `senders` does (XEP-0166 §7.3): an
//! `a=extmap:2/recvonly` in the initiator's offer is `senders='responder'`. (§5's example writes `initiator` for
//! that line; the direction of RFC 8285 is the SDP author's, so moxl reads it as XEP-0166 defines `senders`.)
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0167_rtp::RtpDescription;
//! // §4, Example 1
//! let e = Element::parse("<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>\
//!     <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' uri='urn:ietf:params:rtp-hdrext:toffset' id='1'/>\
//!     <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' uri='urn:ietf:params:rtp-hdrext:ntp-64' id='4907'/>\
//!     <payload-type id='96' name='THEORA' clockrate='90000'/>\
//!     <extmap-allow-mixed xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/></description>")?;
//! let d = RtpDescription::from_element(&e)?;
//! assert_eq!((d.hdrexts.len(), d.hdrexts[1].id, d.extmap_allow_mixed), (2, 4907, true));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use moxl_core::xml::{Element, ElementBuilder};

use crate::xep_0166_jingle::{JingleError, Senders};
use crate::xep_0167_rtp::{Parameter, bad, req_attr, req_num};

/// `urn:xmpp:jingle:apps:rtp:rtp-hdrext:0` (§8.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0294_rtp_hdrext::NS, "urn:xmpp:jingle:apps:rtp:rtp-hdrext:0");
/// ```
pub const NS: &str = "urn:xmpp:jingle:apps:rtp:rtp-hdrext:0";

/// An `<rtp-hdrext/>` (§3): the extension's id (1–256, 4096–4351), its URI, who sends it, and its parameters.
///
/// ```
/// use moxl_xep::xep_0294_rtp_hdrext::RtpHdrext;
/// let h = RtpHdrext::new(4, "urn:ietf:params:rtp-hdrext:sdes:mid");
/// assert_eq!(h.to_builder().build()?.to_xml(), "<rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='4' uri='urn:ietf:params:rtp-hdrext:sdes:mid'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RtpHdrext {
    /// The id (`id`, REQUIRED).
    pub id: u16,
    /// The URI (`uri`, REQUIRED).
    pub uri: String,
    /// Who sends it (`senders`, default `both`).
    pub senders: Senders,
    /// Extension attributes (`<parameter/>` children).
    pub parameters: Vec<Parameter>,
}

impl RtpHdrext {
    /// Extension `id` with this URI, sent by both.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0294_rtp_hdrext::RtpHdrext::new(1, "urn:ietf:params:rtp-hdrext:toffset").id, 1);
    /// ```
    pub fn new(id: u16, uri: impl Into<String>) -> RtpHdrext {
        RtpHdrext { id, uri: uri.into(), senders: Senders::Both, parameters: Vec::new() }
    }

    /// Reads an `<rtp-hdrext/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0166_jingle::Senders;
    /// let e = Element::parse("<rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' id='2' uri='URI-gps-string' senders='initiator'/>")?;
    /// assert_eq!(moxl_xep::xep_0294_rtp_hdrext::RtpHdrext::from_element(&e)?.senders, Senders::Initiator);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<RtpHdrext, JingleError> {
        let senders = match e.attr("senders") {
            None => Senders::Both,
            Some(s) => Senders::from_str(&s).ok_or_else(|| bad(format!("<rtp-hdrext/> has bad senders {s:?}")))?,
        };
        Ok(RtpHdrext {
            id: req_num(e, "id")?,
            uri: req_attr(e, "uri")?,
            senders,
            parameters: Parameter::all_in(e, NS)?,
        })
    }

    /// The `<rtp-hdrext/>` element (`senders` written when not `both`).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::Senders;
    /// let mut h = moxl_xep::xep_0294_rtp_hdrext::RtpHdrext::new(2, "URI-gps-string");
    /// h.senders = Senders::Responder;
    /// assert!(h.to_builder().build()?.to_xml().contains("senders='responder'"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        let mut b = ElementBuilder::new("rtp-hdrext", NS).attr("id", self.id.to_string()).attr("uri", self.uri.clone());
        if self.senders != Senders::Both {
            b = b.attr("senders", self.senders.as_str());
        }
        for p in &self.parameters {
            b = b.append(p.to_builder(NS));
        }
        b
    }
}
