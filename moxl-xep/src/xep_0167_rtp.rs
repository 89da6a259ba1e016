//! XEP-0167: Jingle RTP Sessions (version 1.2.3, namespace `urn:xmpp:jingle:apps:rtp:1`), sans I/O: the
//! `<description/>` of an audio or video content ([`RtpDescription`], §4) with its payload types, codec
//! parameters, `<bandwidth/>` and `<rtcp-mux/>`, and the extensions that live inside it: RTCP feedback
//! (XEP-0293, [`crate::xep_0293_rtcp_fb`]), RTP header extensions (XEP-0294, [`crate::xep_0294_rtp_hdrext`]) and
//! source-specific media (XEP-0339, [`crate::xep_0339_ssma`]); and the informational messages of §8 sent in a
//! session-info ([`RtpInfo`]).
//!
//! The view plugs into XEP-0166's [`Content`], whose description is an [`Element`]:
//! [`RtpDescription::from_content`] reads it, [`RtpDescription::to_builder`] writes it. The mapping to and from
//! SDP (§6) is `crate::jingle_sdp` (feature `jingle-sdp`).
//!
//! Disco (§10): moxl declares none of these features itself, since the media are the application's (its WebRTC
//! stack), and every feature a linked crate declares is announced. An application that takes calls declares
//! what it handles: `moxl_core::feature!` with [`NS`], [`FEATURE_AUDIO`], [`FEATURE_VIDEO`], and the namespaces
//! of the extensions it supports: `xep_0176_ice_udp::NS`, `xep_0320_dtls::NS`, `xep_0293_rtcp_fb::NS`,
//! `xep_0294_rtp_hdrext::NS`, `xep_0338_grouping::FEATURE`, `xep_0339_ssma::FEATURE`.
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0166_jingle::{Content, Role};
//! use moxl_xep::xep_0167_rtp::{PayloadType, RtpDescription};
//! let mut audio = RtpDescription::new("audio");
//! audio.payload_types.push(PayloadType::new(111, "opus", 48000).with_channels(2).with_parameter("useinbandfec", "1"));
//! audio.rtcp_mux = true;
//! let content = Content::new(Role::Initiator, "0").with_description(audio.to_builder().build()?);
//! let back = RtpDescription::from_content(&content).unwrap()?;
//! assert_eq!(back, audio);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::str::FromStr;

use moxl_core::xml::{Element, ElementBuilder};

use crate::xep_0166_jingle::{Content, JingleError, Role};
use crate::xep_0293_rtcp_fb::{self as rtcp_fb, RtcpFb};
use crate::xep_0294_rtp_hdrext::{self as hdrext, RtpHdrext};
use crate::xep_0339_ssma::{self as ssma, Source, SsrcGroup};

/// `urn:xmpp:jingle:apps:rtp:1` (§15.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0167_rtp::NS, "urn:xmpp:jingle:apps:rtp:1");
/// ```
pub const NS: &str = "urn:xmpp:jingle:apps:rtp:1";

/// `urn:xmpp:jingle:apps:rtp:info:1`, the namespace of the informational messages (§8).
///
/// ```
/// assert_eq!(moxl_xep::xep_0167_rtp::NS_INFO, "urn:xmpp:jingle:apps:rtp:info:1");
/// ```
pub const NS_INFO: &str = "urn:xmpp:jingle:apps:rtp:info:1";

// RTP sessions as a Jingle application format (XEP-0166 §6.8): a session-info carrying only payloads outside the
// §8 informational messages is answered `<unsupported-info/>`; the media itself stays with the application.
crate::jingle_application_format!(crate::xep_0166_jingle::ApplicationFormat {
    ns: NS,
    info_ns: &[NS_INFO],
    on_event: None
});

/// `urn:xmpp:jingle:apps:rtp:audio`, the disco feature of audio support (§10).
///
/// ```
/// assert_eq!(moxl_xep::xep_0167_rtp::FEATURE_AUDIO, "urn:xmpp:jingle:apps:rtp:audio");
/// ```
pub const FEATURE_AUDIO: &str = "urn:xmpp:jingle:apps:rtp:audio";

/// `urn:xmpp:jingle:apps:rtp:video`, the disco feature of video support (§10).
///
/// ```
/// assert_eq!(moxl_xep::xep_0167_rtp::FEATURE_VIDEO, "urn:xmpp:jingle:apps:rtp:video");
/// ```
pub const FEATURE_VIDEO: &str = "urn:xmpp:jingle:apps:rtp:video";

pub(crate) fn bad(what: impl Into<String>) -> JingleError {
    JingleError::BadRequest(what.into())
}

/// Reads an optional numeric attribute; a present but malformed one is a bad request.
pub(crate) fn num_attr<T: FromStr>(e: &Element, name: &str) -> Result<Option<T>, JingleError> {
    match e.attr(name) {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| bad(format!("<{}/> has a bad '{name}': {v:?}", e.name()))),
    }
}

/// Reads a required attribute.
pub(crate) fn req_attr(e: &Element, name: &str) -> Result<String, JingleError> {
    e.attr(name).map(|v| v.into_owned()).ok_or_else(|| bad(format!("<{}/> has no '{name}'", e.name())))
}

/// Reads a required numeric attribute.
pub(crate) fn req_num<T: FromStr>(e: &Element, name: &str) -> Result<T, JingleError> {
    num_attr(e, name)?.ok_or_else(|| bad(format!("<{}/> has no '{name}'", e.name())))
}

/// A `<parameter name='…' value='…'/>`: a codec parameter of a payload type (§4, an SDP `fmtp` entry), and the
/// same element in the namespaces of XEP-0293, XEP-0294 and XEP-0339. A parameter without a value (an SDP token
/// that is not `name=value`, as RED's `111/111` or a source attribute without a value) has `value: None`.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0167_rtp::Parameter;
/// let p = Parameter::from_element(&Element::parse("<parameter xmlns='urn:xmpp:jingle:apps:rtp:1' name='vbr' value='on'/>")?)?;
/// assert_eq!(p, Parameter::new("vbr", "on"));
/// assert_eq!(p.to_builder("urn:xmpp:jingle:apps:rtp:1").build()?.to_xml(), "<parameter xmlns='urn:xmpp:jingle:apps:rtp:1' name='vbr' value='on'/>");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Parameter {
    /// The name (case-sensitive, §4).
    pub name: String,
    /// The value.
    pub value: Option<String>,
}

impl Parameter {
    /// `name=value`.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0167_rtp::Parameter::new("apt", "96").value.as_deref(), Some("96"));
    /// ```
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Parameter {
        Parameter { name: name.into(), value: Some(value.into()) }
    }

    /// A parameter without a value.
    ///
    /// ```
    /// assert!(moxl_xep::xep_0167_rtp::Parameter::flag("111/111").value.is_none());
    /// ```
    pub fn flag(name: impl Into<String>) -> Parameter {
        Parameter { name: name.into(), value: None }
    }

    /// Reads a `<parameter/>` of any namespace; it needs a `name`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let e = Element::parse("<parameter xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' value='x'/>")?;
    /// assert!(moxl_xep::xep_0167_rtp::Parameter::from_element(&e).is_err());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<Parameter, JingleError> {
        Ok(Parameter { name: req_attr(e, "name")?, value: e.attr("value").map(|v| v.into_owned()) })
    }

    /// The `<parameter/>` in namespace `ns`.
    ///
    /// ```
    /// let p = moxl_xep::xep_0167_rtp::Parameter::flag("cname");
    /// assert_eq!(p.to_builder("urn:xmpp:jingle:apps:rtp:ssma:0").build()?.to_xml(), "<parameter xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' name='cname'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self, ns: &'static str) -> ElementBuilder {
        ElementBuilder::new("parameter", ns).attr("name", self.name.clone()).attr_opt("value", self.value.clone())
    }

    /// The `<parameter/>` children of `parent` in namespace `ns`.
    pub(crate) fn all_in(parent: &Element, ns: &str) -> Result<Vec<Parameter>, JingleError> {
        parent.children().filter(|c| c.is("parameter", ns)).map(|c| Parameter::from_element(&c)).collect()
    }
}

/// A `<payload-type/>`: one encoding (§4), its codec parameters and its own RTCP feedback (XEP-0293 §3).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0167_rtp::PayloadType;
/// // §6: a Speex payload type with parameters
/// let e = Element::parse("<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='96' name='speex' clockrate='16000' ptime='40'>\
///     <parameter name='vbr' value='on'/><parameter name='cng' value='on'/></payload-type>")?;
/// let pt = PayloadType::from_element(&e)?;
/// assert_eq!((pt.id, pt.name.as_deref(), pt.clockrate, pt.ptime), (96, Some("speex"), Some(16000), Some(40)));
/// assert_eq!(pt.parameters.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PayloadType {
    /// The payload identifier, 0–127 (`id`, REQUIRED).
    pub id: u8,
    /// The MIME subtype (`name`), REQUIRED for dynamic payload types.
    pub name: Option<String>,
    /// The sampling frequency in Hertz (`clockrate`).
    pub clockrate: Option<u32>,
    /// The number of channels (`channels`, default 1); `None` when absent.
    pub channels: Option<u8>,
    /// The packet time (`ptime`, SDP `a=ptime`).
    pub ptime: Option<u32>,
    /// The maximum packet time (`maxptime`, SDP `a=maxptime`).
    pub maxptime: Option<u32>,
    /// The codec parameters (SDP `a=fmtp`), in the order given (which does not matter, §4).
    pub parameters: Vec<Parameter>,
    /// The RTCP feedback messages for this payload type (XEP-0293).
    pub rtcp_fb: Vec<RtcpFb>,
    /// The minimum interval between regular RTCP packets in ms for this payload type (`<rtcp-fb-trr-int/>`).
    pub rtcp_fb_trr_int: Option<u32>,
}

impl PayloadType {
    /// A payload type with this id, name and clock rate.
    ///
    /// ```
    /// let pt = moxl_xep::xep_0167_rtp::PayloadType::new(96, "VP8", 90000);
    /// assert_eq!(pt.to_builder().build()?.to_xml(), "<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='96' name='VP8' clockrate='90000'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(id: u8, name: impl Into<String>, clockrate: u32) -> PayloadType {
        PayloadType {
            id,
            name: Some(name.into()),
            clockrate: Some(clockrate),
            channels: None,
            ptime: None,
            maxptime: None,
            parameters: Vec::new(),
            rtcp_fb: Vec::new(),
            rtcp_fb_trr_int: None,
        }
    }

    /// With this number of channels.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0167_rtp::PayloadType::new(111, "opus", 48000).with_channels(2).channels, Some(2));
    /// ```
    pub fn with_channels(mut self, channels: u8) -> PayloadType {
        self.channels = Some(channels);
        self
    }

    /// With one more codec parameter.
    ///
    /// ```
    /// let pt = moxl_xep::xep_0167_rtp::PayloadType::new(97, "rtx", 90000).with_parameter("apt", "96");
    /// assert_eq!(pt.parameters[0].name, "apt");
    /// ```
    pub fn with_parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> PayloadType {
        self.parameters.push(Parameter::new(name, value));
        self
    }

    /// Reads a `<payload-type/>`; a bad request without an `id` or with a malformed number.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let e = Element::parse("<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='x' name='PCMU'/>")?;
    /// assert!(moxl_xep::xep_0167_rtp::PayloadType::from_element(&e).is_err());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<PayloadType, JingleError> {
        let (rtcp_fb, rtcp_fb_trr_int) = rtcp_fb::read(e)?;
        Ok(PayloadType {
            id: req_num(e, "id")?,
            name: e.attr("name").map(|v| v.into_owned()),
            clockrate: num_attr(e, "clockrate")?,
            channels: num_attr(e, "channels")?,
            ptime: num_attr(e, "ptime")?,
            maxptime: num_attr(e, "maxptime")?,
            parameters: Parameter::all_in(e, NS)?,
            rtcp_fb,
            rtcp_fb_trr_int,
        })
    }

    /// The `<payload-type/>` element.
    ///
    /// ```
    /// let pt = moxl_xep::xep_0167_rtp::PayloadType::new(111, "opus", 48000).with_channels(2).with_parameter("minptime", "10");
    /// assert_eq!(
    ///     pt.to_builder().build()?.to_xml(),
    ///     "<payload-type xmlns='urn:xmpp:jingle:apps:rtp:1' id='111' name='opus' clockrate='48000' channels='2'><parameter name='minptime' value='10'/></payload-type>"
    /// );
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        let mut b = ElementBuilder::new("payload-type", NS)
            .attr("id", self.id.to_string())
            .attr_opt("name", self.name.clone())
            .attr_opt("clockrate", self.clockrate.map(|v| v.to_string()))
            .attr_opt("channels", self.channels.map(|v| v.to_string()))
            .attr_opt("ptime", self.ptime.map(|v| v.to_string()))
            .attr_opt("maxptime", self.maxptime.map(|v| v.to_string()));
        for p in &self.parameters {
            b = b.append(p.to_builder(NS));
        }
        rtcp_fb::write(b, &self.rtcp_fb, self.rtcp_fb_trr_int)
    }
}

/// A `<bandwidth type='…'>value</bandwidth>` (§4), an SDP `b=` line (§6): the type (`AS`, `TIAS`, `CT`, …)
/// and the value (kilobits per second for `AS`).
///
/// ```
/// let b = moxl_xep::xep_0167_rtp::Bandwidth { kind: "AS".into(), value: 128 };
/// assert_eq!(b.to_builder().build()?.to_xml(), "<bandwidth xmlns='urn:xmpp:jingle:apps:rtp:1' type='AS'>128</bandwidth>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// The SDP bwtype (`type`).
    pub kind: String,
    /// The bandwidth.
    pub value: u32,
}

impl Bandwidth {
    /// Reads a `<bandwidth/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let b = moxl_xep::xep_0167_rtp::Bandwidth::from_element(&Element::parse("<bandwidth xmlns='urn:xmpp:jingle:apps:rtp:1' type='TIAS'> 64000 </bandwidth>")?)?;
    /// assert_eq!((b.kind.as_str(), b.value), ("TIAS", 64000));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<Bandwidth, JingleError> {
        let value = e.text().trim().parse().map_err(|_| bad("<bandwidth/> is not a number"))?;
        Ok(Bandwidth { kind: req_attr(e, "type")?, value })
    }

    /// The `<bandwidth/>` element.
    ///
    /// ```
    /// let b = moxl_xep::xep_0167_rtp::Bandwidth { kind: "TIAS".into(), value: 64000 };
    /// assert!(b.to_builder().build()?.to_xml().contains(">64000<"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        ElementBuilder::new("bandwidth", NS).attr("type", self.kind.clone()).text(self.value.to_string())
    }
}

/// The `<description xmlns='urn:xmpp:jingle:apps:rtp:1'/>` of an RTP content (§4), with the extensions that go
/// inside it: RTCP feedback for all payload types (XEP-0293), RTP header extensions and
/// `<extmap-allow-mixed/>` (XEP-0294), sources and source groups (XEP-0339). Children it does not know are kept
/// in [`RtpDescription::other`] and written back.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0167_rtp::RtpDescription;
/// // §4, the example description
/// let e = Element::parse("<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
///     <payload-type id='96' name='speex' clockrate='16000'/><payload-type id='18' name='G729'/>\
///     <payload-type id='103' name='L16' clockrate='16000' channels='2'/><rtcp-mux/></description>")?;
/// let d = RtpDescription::from_element(&e)?;
/// assert_eq!((d.media.as_str(), d.payload_types.len(), d.rtcp_mux), ("audio", 3, true));
/// assert_eq!(d.payload_types[2].channels, Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RtpDescription {
    /// The media type (`media`, REQUIRED): `audio`, `video`, …
    pub media: String,
    /// The 32-bit synchronization source (`ssrc`, OPTIONAL; superseded by XEP-0339 sources).
    pub ssrc: Option<u32>,
    /// The encodings, most preferred first.
    pub payload_types: Vec<PayloadType>,
    /// The `<bandwidth/>` elements.
    pub bandwidth: Vec<Bandwidth>,
    /// `<rtcp-mux/>`: RTP and RTCP on one port (RFC 5761).
    pub rtcp_mux: bool,
    /// RTCP feedback for every payload type (XEP-0293, SDP `a=rtcp-fb:*`).
    pub rtcp_fb: Vec<RtcpFb>,
    /// `<rtcp-fb-trr-int/>` for every payload type (XEP-0293).
    pub rtcp_fb_trr_int: Option<u32>,
    /// The RTP header extensions (XEP-0294).
    pub hdrexts: Vec<RtpHdrext>,
    /// `<extmap-allow-mixed/>` (XEP-0294 §3): one- and two-byte header extensions may be mixed.
    pub extmap_allow_mixed: bool,
    /// The sources (XEP-0339 §2.1).
    pub sources: Vec<Source>,
    /// The source groups (XEP-0339 §2.2).
    pub ssrc_groups: Vec<SsrcGroup>,
    /// Children of other namespaces (SRTP `<encryption/>`, …), kept as they came.
    pub other: Vec<Element>,
}

/// Elements compare by their XML (moxl's `Element` has no equality of its own).
pub(crate) fn same_elements(a: &[Element], b: &[Element]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_xml() == y.to_xml())
}

impl PartialEq for RtpDescription {
    fn eq(&self, o: &RtpDescription) -> bool {
        self.media == o.media
            && self.ssrc == o.ssrc
            && self.payload_types == o.payload_types
            && self.bandwidth == o.bandwidth
            && self.rtcp_mux == o.rtcp_mux
            && self.rtcp_fb == o.rtcp_fb
            && self.rtcp_fb_trr_int == o.rtcp_fb_trr_int
            && self.hdrexts == o.hdrexts
            && self.extmap_allow_mixed == o.extmap_allow_mixed
            && self.sources == o.sources
            && self.ssrc_groups == o.ssrc_groups
            && same_elements(&self.other, &o.other)
    }
}

impl RtpDescription {
    /// An empty description of this media type.
    ///
    /// ```
    /// let d = moxl_xep::xep_0167_rtp::RtpDescription::new("video");
    /// assert_eq!(d.to_builder().build()?.to_xml(), "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(media: impl Into<String>) -> RtpDescription {
        RtpDescription {
            media: media.into(),
            ssrc: None,
            payload_types: Vec::new(),
            bandwidth: Vec::new(),
            rtcp_mux: false,
            rtcp_fb: Vec::new(),
            rtcp_fb_trr_int: None,
            hdrexts: Vec::new(),
            extmap_allow_mixed: false,
            sources: Vec::new(),
            ssrc_groups: Vec::new(),
            other: Vec::new(),
        }
    }

    /// Reads the RTP description of a content: `None` when it has none (or one of another application),
    /// a bad request when it is malformed.
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role};
    /// assert!(moxl_xep::xep_0167_rtp::RtpDescription::from_content(&Content::new(Role::Initiator, "x")).is_none());
    /// ```
    pub fn from_content(content: &Content) -> Option<Result<RtpDescription, JingleError>> {
        content.description.as_ref().filter(|d| d.is("description", NS)).map(RtpDescription::from_element)
    }

    /// Reads a `<description/>` of this namespace.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let e = Element::parse("<description xmlns='urn:xmpp:jingle:apps:rtp:1'/>")?;
    /// assert!(moxl_xep::xep_0167_rtp::RtpDescription::from_element(&e).is_err(), "media is REQUIRED");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<RtpDescription, JingleError> {
        if !e.is("description", NS) {
            return Err(bad("not an RTP <description/>"));
        }
        let mut d = RtpDescription::new(req_attr(e, "media")?);
        d.ssrc = num_attr(e, "ssrc")?;
        let (fb, trr) = rtcp_fb::read(e)?;
        d.rtcp_fb = fb;
        d.rtcp_fb_trr_int = trr;
        for c in e.children() {
            match (c.ns(), c.name()) {
                (NS, "payload-type") => d.payload_types.push(PayloadType::from_element(&c)?),
                (NS, "bandwidth") => d.bandwidth.push(Bandwidth::from_element(&c)?),
                (NS, "rtcp-mux") => d.rtcp_mux = true,
                (hdrext::NS, "rtp-hdrext") => d.hdrexts.push(RtpHdrext::from_element(&c)?),
                (hdrext::NS, "extmap-allow-mixed") => d.extmap_allow_mixed = true,
                (ssma::NS, "source") => d.sources.push(Source::from_element(&c)?),
                (ssma::NS, "ssrc-group") => d.ssrc_groups.push(SsrcGroup::from_element(&c)?),
                (rtcp_fb::NS, _) => {}
                _ => d.other.push(c),
            }
        }
        Ok(d)
    }

    /// The `<description/>` element.
    ///
    /// ```
    /// use moxl_xep::xep_0167_rtp::{PayloadType, RtpDescription};
    /// let mut d = RtpDescription::new("audio");
    /// d.payload_types.push(PayloadType::new(0, "PCMU", 8000));
    /// d.rtcp_mux = true;
    /// assert_eq!(
    ///     d.to_builder().build()?.to_xml(),
    ///     "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='0' name='PCMU' clockrate='8000'/><rtcp-mux/></description>"
    /// );
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        let mut b = ElementBuilder::new("description", NS)
            .attr("media", self.media.clone())
            .attr_opt("ssrc", self.ssrc.map(|v| v.to_string()));
        for pt in &self.payload_types {
            b = b.append(pt.to_builder());
        }
        for bw in &self.bandwidth {
            b = b.append(bw.to_builder());
        }
        if self.rtcp_mux {
            b = b.append(ElementBuilder::new("rtcp-mux", NS));
        }
        b = rtcp_fb::write(b, &self.rtcp_fb, self.rtcp_fb_trr_int);
        for h in &self.hdrexts {
            b = b.append(h.to_builder());
        }
        if self.extmap_allow_mixed {
            b = b.append(ElementBuilder::new("extmap-allow-mixed", hdrext::NS));
        }
        for g in &self.ssrc_groups {
            b = b.append(g.to_builder());
        }
        for s in &self.sources {
            b = b.append(s.to_builder());
        }
        for o in &self.other {
            b = b.append(o.clone());
        }
        b
    }
}

/// An informational message of §8, the payload of a session-info: the call is active, on hold, muted, ringing.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0166_jingle::Role;
/// use moxl_xep::xep_0167_rtp::RtpInfo;
/// // §8.3
/// let e = Element::parse("<mute xmlns='urn:xmpp:jingle:apps:rtp:info:1' creator='responder' name='voice'/>")?;
/// assert_eq!(RtpInfo::from_element(&e), Some(RtpInfo::Mute { creator: Role::Responder, name: Some("voice".into()) }));
/// assert_eq!(RtpInfo::Ringing.to_builder().build()?.to_xml(), "<ringing xmlns='urn:xmpp:jingle:apps:rtp:info:1'/>");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtpInfo {
    /// `<active/>`: the principal is active again (§8.1).
    Active,
    /// `<hold/>`: the principal put the call on hold (§8.2).
    Hold,
    /// `<unhold/>`: the call is taken off hold (§8.2).
    Unhold,
    /// `<mute/>`: the principal stops sending a content, or all of them without a name (§8.3).
    Mute {
        /// The creator of the content.
        creator: Role,
        /// The content's name; `None` for all contents.
        name: Option<String>,
    },
    /// `<unmute/>` (§8.3).
    Unmute {
        /// The creator of the content.
        creator: Role,
        /// The content's name; `None` for all contents.
        name: Option<String>,
    },
    /// `<ringing/>`: the device is ringing (§8.4).
    Ringing,
}

impl RtpInfo {
    /// Reads an informational message; `None` for anything else.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0167_rtp::RtpInfo;
    /// assert_eq!(RtpInfo::from_element(&Element::parse("<hold xmlns='urn:xmpp:jingle:apps:rtp:info:1'/>")?), Some(RtpInfo::Hold));
    /// assert_eq!(RtpInfo::from_element(&Element::parse("<hold xmlns='urn:example'/>")?), None);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(e: &Element) -> Option<RtpInfo> {
        if e.ns() != NS_INFO {
            return None;
        }
        let creator = || e.attr("creator").and_then(|c| Role::from_str(&c)).unwrap_or(Role::Initiator);
        let name = || e.attr("name").map(|n| n.into_owned());
        Some(match e.name() {
            "active" => RtpInfo::Active,
            "hold" => RtpInfo::Hold,
            "unhold" => RtpInfo::Unhold,
            "ringing" => RtpInfo::Ringing,
            "mute" => RtpInfo::Mute { creator: creator(), name: name() },
            "unmute" => RtpInfo::Unmute { creator: creator(), name: name() },
            _ => return None,
        })
    }

    /// The payload element, for [`Jingle::with_payload`](crate::xep_0166_jingle::Jingle::with_payload).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::Role;
    /// use moxl_xep::xep_0167_rtp::RtpInfo;
    /// let m = RtpInfo::Unmute { creator: Role::Initiator, name: Some("voice".into()) };
    /// assert_eq!(m.to_builder().build()?.to_xml(), "<unmute xmlns='urn:xmpp:jingle:apps:rtp:info:1' creator='initiator' name='voice'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        match self {
            RtpInfo::Active => ElementBuilder::new("active", NS_INFO),
            RtpInfo::Hold => ElementBuilder::new("hold", NS_INFO),
            RtpInfo::Unhold => ElementBuilder::new("unhold", NS_INFO),
            RtpInfo::Ringing => ElementBuilder::new("ringing", NS_INFO),
            RtpInfo::Mute { creator, name } => {
                ElementBuilder::new("mute", NS_INFO).attr("creator", creator.as_str()).attr_opt("name", name.clone())
            }
            RtpInfo::Unmute { creator, name } => {
                ElementBuilder::new("unmute", NS_INFO).attr("creator", creator.as_str()).attr_opt("name", name.clone())
            }
        }
    }
}

#[cfg(test)]
mod format_tests {
    use crate::test_util::block_on;
    use crate::xep_0166_jingle::{self as jingle, Content, JingleError, Role};
    use moxl_core::xec::Xec;
    use moxl_core::xml::Element;

    const ROMEO: &str = "romeo@montague.lit/orchard";
    const JULIET: &str = "juliet@capulet.lit/balcony";

    fn client(jid: &str) -> Xec {
        let xec = Xec::new().unwrap();
        xec.set_jid(jid.parse().unwrap());
        xec
    }

    /// What `from` sent, dispatched at `to` stamped with the sender's JID, as the server would.
    fn pump(from: &Xec, from_jid: &str, to: &Xec) {
        for stanza in from.take_outgoing() {
            let xml = stanza.to_xml();
            let (name, rest) = xml.split_once(' ').unwrap();
            block_on(to.dispatch(Element::parse(&format!("{name} from='{from_jid}' {rest}")).unwrap()));
        }
    }

    #[test]
    fn an_rtp_session_takes_its_informational_messages_and_refuses_others_as_unsupported_info() {
        let (romeo, juliet) = (client(ROMEO), client(JULIET));
        let voice = Content::new(Role::Initiator, "voice")
            .with_description(
                Element::parse("<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/>").unwrap(),
            )
            .with_transport(Element::parse("<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/>").unwrap());
        let _initiated = jingle::initiate(&romeo.context(), JULIET, "c1", vec![voice]).unwrap();
        pump(&romeo, ROMEO, &juliet);
        pump(&juliet, JULIET, &romeo);
        // §8: <ringing/> is RTP's own informational message
        let ringing = jingle::session_info(
            &juliet.context(),
            ROMEO,
            "c1",
            Some(Element::parse("<ringing xmlns='urn:xmpp:jingle:apps:rtp:info:1'/>").unwrap()),
        )
        .unwrap();
        pump(&juliet, JULIET, &romeo);
        pump(&romeo, ROMEO, &juliet);
        block_on(ringing).unwrap();
        // a payload of another format is refused (XEP-0166 §6.8)
        let odd = jingle::session_info(
            &juliet.context(),
            ROMEO,
            "c1",
            Some(Element::parse("<checksum xmlns='urn:xmpp:jingle:apps:file-transfer:5'/>").unwrap()),
        )
        .unwrap();
        pump(&juliet, JULIET, &romeo);
        pump(&romeo, ROMEO, &juliet);
        let err = block_on(odd).unwrap_err();
        assert!(
            matches!(err, moxl_core::Error::Stanza(ref e) if JingleError::from_stanza_error(e) == Some(JingleError::UnsupportedInfo)),
            "{err}"
        );
    }
}
