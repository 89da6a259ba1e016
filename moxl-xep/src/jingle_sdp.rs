//! SDP ⇄ Jingle: a browser's offer or answer (RFC 8829, JSEP) as Jingle RTP contents and back, as the
//! "Mapping to Session Description Protocol" sections define it: XEP-0167 §6 (media, payload types, `a=fmtp`,
//! `a=ptime`, `b=`), XEP-0176 §5.3 (ICE credentials and `a=candidate`), XEP-0320 §1 (`a=fingerprint`,
//! `a=setup`), XEP-0293 §5 (`a=rtcp-fb`), XEP-0294 §5 (`a=extmap`, `a=extmap-allow-mixed`), XEP-0338 §2
//! (`a=group`, `a=mid` as the content name) and XEP-0339 §2 (`a=ssrc`, `a=ssrc-group`). Feature `jingle-sdp`.
//!
//! - An offer becomes the contents of a session-initiate, an answer those of a session-accept:
//!   [`JingleSdp::from_sdp`], then [`JingleSdp::to_jingle`]. `author` says who wrote the SDP, which is what its
//!   directions (`a=sendonly`, …) are relative to.
//! - A received session-initiate or session-accept becomes the SDP to hand to `setRemoteDescription`:
//!   [`JingleSdp::from_jingle`], then [`JingleSdp::to_sdp`].
//! - Trickled candidates: the browser's `a=candidate` lines become transport-info messages
//!   ([`JingleSdp::transport_info`]), and a received transport-info gives the lines for `addIceCandidate`
//!   ([`candidates_of`]).
//!
//! Nothing is lost silently. A line the XEPs give no Jingle form (`a=rtcp-rsize`, `a=rtcp-xr`, ICE-TCP candidates,
//! `a=msid-semantic`, an `a=end-of-candidates`, …) or that the SDP parser does not understand is listed in
//! [`JingleSdp::dropped`] with the reason. Lines that Jingle does not carry because they follow from what it
//! does carry are written back from it: the `o=`, `s=` and `t=` lines, the `m=` port and `c=` address (ICE
//! decides where media goes, RFC 8839 §4.2.1.2), the `m=` protocol (`UDP/TLS/RTP/SAVPF` with DTLS, `RTP/AVPF` with
//! RTCP feedback, `RTP/AVP` else), `a=rtcp` (meaningless with `a=rtcp-mux`) and `a=ice-options:trickle` (Jingle
//! ICE-UDP always trickles, XEP-0176 §5.5).
//!
//! # The SDP crate
//!
//! SDP is parsed and written with Mozilla's [`webrtc_sdp`], the parser Firefox uses on every offer and answer it
//! meets. It was chosen over the `sdp` crate of webrtc-rs because it types what this mapping reads: candidates,
//! fingerprints (checked against the hash length), `a=setup`, `a=rtcp-fb`, `a=extmap`, `a=ssrc`,
//! `a=ssrc-group`, `a=group`, `a=msid`; `sdp` keeps every attribute as a name and a string, which would have
//! left the grammar of each of those lines to moxl. What webrtc-sdp gives up for that: it normalizes `a=fmtp`
//! (parameters with their default value, as H.264's `profile-level-id=42000a`, are not written back; order
//! changes), and skips attributes it does not know, with a warning that moxl turns into a [`Dropped`] entry.
//!
//! ```
//! use moxl_xep::jingle_sdp::JingleSdp;
//! use moxl_xep::xep_0166_jingle::{Action, Role};
//! use moxl_xep::xep_0167_rtp::RtpDescription;
//! let offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
//!     m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:ldpL\r\na=ice-pwd:L9rHzD8FavfvKd2/ia+/NeI+\r\n\
//!     a=fingerprint:sha-256 88:6D:87:B3:7D:E9:4C:73:68:99:EC:B9:43:B2:F8:CD:DD:D1:FB:EB:21:54:A7:13:39:D4:39:D8:32:53:E2:9C\r\n\
//!     a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n";
//! let mapped = JingleSdp::from_sdp(offer, Role::Initiator)?;
//! let initiate = mapped.to_jingle(Action::SessionInitiate, "a73sjjvkla37jfea");
//! let audio = RtpDescription::from_content(&initiate.contents[0]).unwrap()?;
//! assert_eq!((initiate.contents[0].name.as_str(), audio.payload_types[0].name.as_deref()), ("0", Some("opus")));
//! // and back, on the other side
//! let sdp = JingleSdp::from_jingle(&initiate)?.to_sdp(Role::Initiator)?;
//! assert!(sdp.contains("a=rtpmap:111 opus/48000/2\r\n") && sdp.contains("a=group:BUNDLE 0\r\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use webrtc_sdp::address::ExplicitlyTypedAddress;
use webrtc_sdp::attribute_type::{
    SdpAttribute, SdpAttributeCandidate, SdpAttributeCandidateTransport, SdpAttributeCandidateType,
    SdpAttributeDirection, SdpAttributeExtmap, SdpAttributeGroup, SdpAttributeGroupSemantic, SdpAttributeMsid,
    SdpAttributePayloadType, SdpAttributeRtcpFbType, SdpAttributeRtpmap, SdpAttributeSetup, SdpAttributeSsrc,
};
use webrtc_sdp::error::SdpParserError;
use webrtc_sdp::media_type::{SdpFormatList, SdpMedia, SdpMediaLine, SdpMediaValue, SdpProtocolValue};
use webrtc_sdp::{SdpBandwidth, SdpConnection, SdpOrigin, SdpSession, SdpTiming};

use crate::xep_0166_jingle::{Action, Content, Jingle, JingleError, Role, Senders};
use crate::xep_0167_rtp::{Bandwidth, Parameter, PayloadType, RtpDescription};
use crate::xep_0176_ice_udp::{Candidate, CandidateType, IceUdpTransport};
use crate::xep_0293_rtcp_fb::RtcpFb;
use crate::xep_0294_rtp_hdrext::RtpHdrext;
use crate::xep_0320_dtls::{Fingerprint, Setup};
use crate::xep_0338_grouping::Group;
use crate::xep_0339_ssma::{Source, SsrcGroup};

/// Why an SDP or a Jingle description could not be mapped.
///
/// ```
/// use moxl_xep::jingle_sdp::{JingleSdp, SdpError};
/// use moxl_xep::xep_0166_jingle::Role;
/// let e = JingleSdp::from_sdp("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio nine RTP/AVP 0\r\n", Role::Initiator).unwrap_err();
/// assert!(matches!(e, SdpError::Parse { line: 4, .. }), "{e}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpError {
    /// The SDP is malformed: the (0-based) line and what is wrong with it.
    Parse {
        /// The line number, from 0.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A Jingle description or transport is malformed.
    Jingle(JingleError),
    /// Something has no form on the other side (a media type SDP cannot write, a content without an RTP
    /// description, a candidate of another transport than UDP, …).
    Unmappable(String),
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdpError::Parse { line, message } => write!(f, "malformed SDP at line {}: {message}", line + 1),
            SdpError::Jingle(e) => write!(f, "malformed Jingle: {e:?}"),
            SdpError::Unmappable(what) => write!(f, "cannot map: {what}"),
        }
    }
}

impl std::error::Error for SdpError {}

impl From<JingleError> for SdpError {
    fn from(e: JingleError) -> SdpError {
        SdpError::Jingle(e)
    }
}

impl From<SdpParserError> for SdpError {
    fn from(e: SdpParserError) -> SdpError {
        match e {
            SdpParserError::Line { error, line, line_number }
            | SdpParserError::Unsupported { error, line, line_number } => {
                SdpError::Parse { line: line_number, message: format!("{error} in {line:?}") }
            }
            SdpParserError::Sequence { message, line_number } => SdpError::Parse { line: line_number, message },
        }
    }
}

fn unmappable(what: impl Into<String>) -> SdpError {
    SdpError::Unmappable(what.into())
}

fn internal(e: impl fmt::Display) -> SdpError {
    unmappable(format!("the SDP writer refused it: {e}"))
}

/// An SDP line that was not mapped, and why (see the [module docs](self)).
///
/// ```
/// use moxl_xep::jingle_sdp::JingleSdp;
/// use moxl_xep::xep_0166_jingle::Role;
/// let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\na=rtcp-rsize\r\n";
/// let mapped = JingleSdp::from_sdp(sdp, Role::Initiator)?;
/// assert_eq!((mapped.dropped[0].mid.as_deref(), mapped.dropped[0].line.as_str()), (Some("a"), "a=rtcp-rsize"));
/// # Ok::<(), moxl_xep::jingle_sdp::SdpError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dropped {
    /// The media section's mid (its content's name); `None` at the session level.
    pub mid: Option<String>,
    /// The line, as the SDP parser read it.
    pub line: String,
    /// Why it is not in the Jingle contents.
    pub reason: &'static str,
}

const NO_XEP: &str = "no XEP maps it to Jingle";
const NOT_PARSED: &str = "the SDP parser does not understand it";
const TCP: &str = "an ICE-TCP candidate: XEP-0176 is ICE over UDP";

/// SDP mapped to Jingle: the contents, the groups (XEP-0338), and what was not mapped.
///
/// The contents carry an RTP `<description/>` ([`RtpDescription`]) and an ICE-UDP `<transport/>`
/// ([`IceUdpTransport`]) each; their `creator` is the initiator (the session-initiate's and session-accept's
/// contents are the initiator's, XEP-0166 §7.3; set another for a content-add of the responder's).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JingleSdp {
    /// One content per media section, in order.
    pub contents: Vec<Content>,
    /// The `a=group` lines.
    pub groups: Vec<Group>,
    /// What was not mapped (always empty from [`JingleSdp::from_jingle`]).
    pub dropped: Vec<Dropped>,
}

fn senders_of(direction: Option<&SdpAttribute>, author: Role) -> Senders {
    match direction {
        Some(SdpAttribute::Sendonly) => author_senders(author),
        Some(SdpAttribute::Recvonly) => author_senders(author.other()),
        Some(SdpAttribute::Inactive) => Senders::None,
        _ => Senders::Both,
    }
}

fn author_senders(r: Role) -> Senders {
    match r {
        Role::Initiator => Senders::Initiator,
        _ => Senders::Responder,
    }
}

fn direction_of(senders: Senders, author: Role) -> SdpAttribute {
    match senders {
        Senders::Both => SdpAttribute::Sendrecv,
        Senders::None => SdpAttribute::Inactive,
        s if s == author_senders(author) => SdpAttribute::Sendonly,
        _ => SdpAttribute::Recvonly,
    }
}

fn hdrext_senders(d: Option<&SdpAttributeDirection>, author: Role) -> Senders {
    match d {
        Some(SdpAttributeDirection::Sendonly) => author_senders(author),
        Some(SdpAttributeDirection::Recvonly) => author_senders(author.other()),
        _ => Senders::Both,
    }
}

fn hdrext_direction(s: Senders, author: Role) -> Option<SdpAttributeDirection> {
    match s {
        Senders::Both => None,
        s if s == author_senders(author) => Some(SdpAttributeDirection::Sendonly),
        _ => Some(SdpAttributeDirection::Recvonly),
    }
}

/// `k=v;k=v` (and bare tokens) as parameters.
fn fmtp_parameters(text: &str) -> Vec<Parameter> {
    text.split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once('=') {
            Some((k, v)) => Parameter::new(k.trim(), v.trim()),
            None => Parameter::flag(t),
        })
        .collect()
}

fn parameters_text(ps: &[Parameter], sep: &str) -> String {
    ps.iter()
        .map(|p| match &p.value {
            Some(v) => format!("{}={v}", p.name),
            None => p.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(sep)
}

fn candidate_to_jingle(c: &SdpAttributeCandidate) -> Result<Candidate, SdpError> {
    if c.transport != SdpAttributeCandidateTransport::Udp {
        return Err(unmappable(TCP));
    }
    let kind = match c.c_type {
        SdpAttributeCandidateType::Host => CandidateType::Host,
        SdpAttributeCandidateType::Srflx => CandidateType::Srflx,
        SdpAttributeCandidateType::Prflx => CandidateType::Prflx,
        SdpAttributeCandidateType::Relay => CandidateType::Relay,
    };
    let small = |what: &str| unmappable(format!("candidate {what} out of range"));
    let mut out = Candidate::new(
        &c.foundation,
        u8::try_from(c.component).map_err(|_| small("component"))?,
        "udp",
        u32::try_from(c.priority).map_err(|_| small("priority"))?,
        &c.address.to_string(),
        u16::try_from(c.port).map_err(|_| small("port"))?,
        kind,
    );
    out.generation = u8::try_from(c.generation.unwrap_or(0)).map_err(|_| small("generation"))?;
    out.rel_addr = c.raddr.as_ref().map(ToString::to_string);
    out.rel_port = c.rport.map(u16::try_from).transpose().map_err(|_| small("rport"))?;
    for (k, v) in &c.unknown_extensions {
        if k == "network-id" {
            out.network = Some(v.parse().map_err(|_| small("network-id"))?);
        }
    }
    Ok(out)
}

/// Reads one `a=candidate` line (with or without `a=`, as `RTCIceCandidate.candidate` has it) as an XEP-0176
/// candidate (§5.3). ICE-TCP candidates have no ICE-UDP form: [`SdpError::Unmappable`].
///
/// ```
/// use moxl_xep::jingle_sdp::candidate_from_sdp;
/// let c = candidate_from_sdp("candidate:1440883613 1 udp 2122194687 192.0.2.2 40955 typ host generation 0 ufrag ldpL network-id 1")?;
/// assert_eq!((c.ip.as_str(), c.port, c.network), ("192.0.2.2", 40955, Some(1)));
/// assert!(candidate_from_sdp("candidate:724418821 1 tcp 1518214911 192.0.2.2 9 typ host tcptype active").is_err());
/// assert!(candidate_from_sdp("candidate:1 1 udp").is_err());
/// # Ok::<(), moxl_xep::jingle_sdp::SdpError>(())
/// ```
pub fn candidate_from_sdp(line: &str) -> Result<Candidate, SdpError> {
    let line = line.trim();
    let line = line.strip_prefix("a=").unwrap_or(line);
    match SdpAttribute::from_str(line) {
        Ok(SdpAttribute::Candidate(c)) => candidate_to_jingle(&c),
        Ok(_) => Err(unmappable("not an a=candidate line")),
        Err(e) => Err(SdpError::Parse { line: 0, message: format!("{e} in {line:?}") }),
    }
}

/// Writes an XEP-0176 candidate as an `a=candidate` value (`candidate:…`, the form of
/// `RTCIceCandidate.candidate`).
///
/// ```
/// use moxl_xep::jingle_sdp::candidate_to_sdp;
/// use moxl_xep::xep_0176_ice_udp::{Candidate, CandidateType};
/// let mut c = Candidate::new("2", 1, "udp", 1694498815, "192.0.2.3", 45664, CandidateType::Srflx);
/// (c.rel_addr, c.rel_port) = (Some("10.0.1.1".into()), Some(8998));
/// assert_eq!(candidate_to_sdp(&c)?, "candidate:2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998 generation 0");
/// # Ok::<(), moxl_xep::jingle_sdp::SdpError>(())
/// ```
pub fn candidate_to_sdp(c: &Candidate) -> Result<String, SdpError> {
    Ok(format!("candidate:{}", sdp_candidate(c)?))
}

fn sdp_candidate(c: &Candidate) -> Result<SdpAttributeCandidate, SdpError> {
    let mut text = format!(
        "candidate:{} {} {} {} {} {} typ {}",
        c.foundation, c.component, c.protocol, c.priority, c.ip, c.port, c.kind
    );
    if let (Some(a), Some(p)) = (&c.rel_addr, c.rel_port) {
        text.push_str(&format!(" raddr {a} rport {p}"));
    }
    text.push_str(&format!(" generation {}", c.generation));
    if let Some(n) = c.network {
        text.push_str(&format!(" network-id {n}"));
    }
    match SdpAttribute::from_str(&text) {
        Ok(SdpAttribute::Candidate(c)) => Ok(c),
        Ok(_) => Err(unmappable("not a candidate")),
        Err(e) => Err(unmappable(format!("candidate {}: {e}", c.id))),
    }
}

/// The `a=candidate` values of a transport-info (or any Jingle with ICE-UDP transports), each with the mid
/// (the content's name) to give `addIceCandidate`.
///
/// ```
/// /// use moxl_xep::jingle_sdp::candidates_of;
/// use moxl_xep::xep_0166_jingle::Jingle;
/// // XEP-0176 §5.5, Example 3 (abridged)
/// let j = Jingle::from_element(&Element::parse("<jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='a73sjjvkla37jfea'>\
///     <content creator='initiator' name='this-is-the-audio-content'>\
///     <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'>\
///     <candidate component='1' foundation='3' generation='0' id='t4sdnr3vr2' ip='192.0.2.3' network='1' port='45664' priority='1694498815' protocol='udp' rel-addr='10.0.1.1' rel-port='8998' type='srflx'/>\
///     </transport></content></jingle>")?)?;
/// let lines = candidates_of(&j)?;
/// assert_eq!(lines[0].0, "this-is-the-audio-content");
/// assert_eq!(lines[0].1, "candidate:3 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998 generation 0 network-id 1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn candidates_of(jingle: &Jingle) -> Result<Vec<(String, String)>, SdpError> {
    let mut out = Vec::new();
    for content in &jingle.contents {
        if let Some(t) = IceUdpTransport::from_content(content) {
            for c in &t?.candidates {
                out.push((content.name.clone(), candidate_to_sdp(c)?));
            }
        }
    }
    Ok(out)
}

/// The per-section state of [`JingleSdp::from_sdp`].
struct Section<'a> {
    desc: RtpDescription,
    transport: IceUdpTransport,
    setup: Option<Setup>,
    msid: Vec<String>,
    mid: Option<String>,
    dropped: Vec<(String, &'static str)>,
    author: Role,
    formats: &'a [u32],
    /// The section's `a=fmtp` lines as written: (payload type, parameters).
    fmtp: Vec<(u8, String)>,
}

impl Section<'_> {
    fn payload(&mut self, pt: u8) -> Option<&mut PayloadType> {
        self.desc.payload_types.iter_mut().find(|p| p.id == pt)
    }

    /// Maps one attribute of the media section, or of the session when `session` (those that apply to every
    /// media section: ICE credentials, fingerprint, setup, extmap-allow-mixed, …).
    fn attribute(&mut self, a: &SdpAttribute, session: bool) -> Result<(), SdpError> {
        match a {
            SdpAttribute::Mid(m) => self.mid = Some(m.clone()),
            SdpAttribute::Rtpmap(r) => {
                if let Some(p) = self.payload(r.payload_type) {
                    p.name = Some(r.codec_name.clone());
                    p.clockrate = Some(r.frequency);
                    p.channels = r.channels.map(u8::try_from).transpose().map_err(|_| unmappable("channels"))?;
                }
            }
            SdpAttribute::Fmtp(f) => {
                // The line as written: webrtc-sdp's own form leaves out parameters at their default value.
                let text = self.fmtp.iter().find(|(pt, _)| *pt == f.payload_type).map(|(_, t)| t.clone());
                let params = fmtp_parameters(&text.unwrap_or_else(|| f.parameters.to_string()));
                if let Some(p) = self.payload(f.payload_type) {
                    p.parameters = params;
                }
            }
            SdpAttribute::Rtcpfb(fb) => {
                let (kind, trr) = match fb.feedback_type {
                    SdpAttributeRtcpFbType::TrrInt => ("trr-int".to_owned(), fb.parameter.trim().parse::<u32>().ok()),
                    ref t => (t.to_string(), None),
                };
                let mut item = RtcpFb::new(kind, Some(fb.parameter.as_str()).filter(|s| !s.is_empty()));
                if !fb.extra.is_empty() {
                    item.parameters = fmtp_parameters(&fb.extra.replace(' ', ";"));
                }
                match fb.payload_type {
                    SdpAttributePayloadType::Wildcard => match trr {
                        Some(v) => self.desc.rtcp_fb_trr_int = Some(v),
                        None => self.desc.rtcp_fb.push(item),
                    },
                    SdpAttributePayloadType::PayloadType(pt) => {
                        if let Some(p) = self.payload(pt) {
                            match trr {
                                Some(v) => p.rtcp_fb_trr_int = Some(v),
                                None => p.rtcp_fb.push(item),
                            }
                        }
                    }
                }
            }
            SdpAttribute::Ptime(v) => {
                let v = u32::try_from(*v).map_err(|_| unmappable("ptime"))?;
                self.desc.payload_types.iter_mut().for_each(|p| p.ptime = Some(v));
            }
            SdpAttribute::MaxPtime(v) => {
                let v = u32::try_from(*v).map_err(|_| unmappable("maxptime"))?;
                self.desc.payload_types.iter_mut().for_each(|p| p.maxptime = Some(v));
            }
            SdpAttribute::RtcpMux => self.desc.rtcp_mux = true,
            SdpAttribute::Extmap(x) => {
                let mut h = RtpHdrext::new(x.id, x.url.clone());
                h.senders = hdrext_senders(x.direction.as_ref(), self.author);
                if let Some(ext) = &x.extension_attributes {
                    h.parameters = ext
                        .split_whitespace()
                        .map(|t| match t.split_once('=') {
                            Some((k, v)) => Parameter::new(k, v),
                            None => Parameter::flag(t),
                        })
                        .collect();
                }
                self.desc.hdrexts.push(h);
            }
            SdpAttribute::ExtmapAllowMixed => self.desc.extmap_allow_mixed = true,
            SdpAttribute::Ssrc(s) => {
                let param = match (&s.attribute, &s.value) {
                    (Some(a), Some(v)) => Some(Parameter::new(a.clone(), v.clone())),
                    (Some(a), None) => Some(Parameter::flag(a.clone())),
                    _ => None,
                };
                match self.desc.sources.iter_mut().find(|x| x.ssrc == s.id) {
                    Some(src) => src.parameters.extend(param),
                    None => self.desc.sources.push(Source { ssrc: s.id, parameters: param.into_iter().collect() }),
                }
            }
            SdpAttribute::SsrcGroup(semantics, ssrcs) => self
                .desc
                .ssrc_groups
                .push(SsrcGroup { semantics: semantics.to_string(), sources: ssrcs.iter().map(|s| s.id).collect() }),
            SdpAttribute::Msid(m) => self.msid.push(m.to_string()),
            SdpAttribute::IceUfrag(u) => self.transport.ufrag = Some(u.clone()),
            SdpAttribute::IcePwd(p) => self.transport.pwd = Some(p.clone()),
            SdpAttribute::IceOptions(o) if o.iter().all(|o| o == "trickle") => {}
            SdpAttribute::Fingerprint(f) => {
                let text = f.to_string();
                let (hash, value) = text.split_once(' ').unwrap_or((text.as_str(), ""));
                self.transport.fingerprints.push(Fingerprint {
                    hash: hash.to_owned(),
                    setup: None,
                    value: value.to_owned(),
                });
            }
            SdpAttribute::Setup(s) => {
                self.setup = match s {
                    SdpAttributeSetup::Active => Some(Setup::Active),
                    SdpAttributeSetup::Passive => Some(Setup::Passive),
                    SdpAttributeSetup::Actpass => Some(Setup::Actpass),
                    SdpAttributeSetup::Holdconn => {
                        self.dropped.push((format!("a={a}"), "XEP-0320 defines no mapping of holdconn"));
                        None
                    }
                }
            }
            SdpAttribute::Candidate(c) => match candidate_to_jingle(c) {
                Ok(c) => self.transport.candidates.push(c),
                Err(SdpError::Unmappable(_)) if c.transport == SdpAttributeCandidateTransport::Tcp => {
                    self.dropped.push((format!("a=candidate:{c}"), TCP))
                }
                Err(e) => return Err(e),
            },
            // Derived: written back from what Jingle carries (module docs).
            SdpAttribute::Rtcp(_) | SdpAttribute::Sendrecv | SdpAttribute::Sendonly | SdpAttribute::Recvonly => {}
            SdpAttribute::Inactive => {}
            // Session-level only, handled by the caller.
            SdpAttribute::Group(_) | SdpAttribute::MsidSemantic(_) if session => {}
            other => self.dropped.push((format!("a={other}"), NO_XEP)),
        }
        Ok(())
    }
}

const SESSION_WIDE: fn(&SdpAttribute) -> bool = |a| {
    matches!(
        a,
        SdpAttribute::IceUfrag(_)
            | SdpAttribute::IcePwd(_)
            | SdpAttribute::IceOptions(_)
            | SdpAttribute::Fingerprint(_)
            | SdpAttribute::Setup(_)
            | SdpAttribute::ExtmapAllowMixed
            | SdpAttribute::Extmap(_)
    )
};

fn media_of(content: &Content) -> Result<(RtpDescription, IceUdpTransport), SdpError> {
    let desc = RtpDescription::from_content(content)
        .ok_or_else(|| unmappable(format!("content {:?} has no RTP description", content.name)))??;
    let transport = IceUdpTransport::from_content(content).transpose()?.unwrap_or_default();
    Ok((desc, transport))
}

impl JingleSdp {
    /// Maps an SDP offer or answer written by `author` (the initiator for an offer that starts the session):
    /// one content per `m=` section, named by its `a=mid`.
    ///
    /// ```
    /// use moxl_xep::jingle_sdp::{JingleSdp, SdpError};
    /// use moxl_xep::xep_0166_jingle::{Role, Senders};
    /// let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVPF 96\r\nc=IN IP4 0.0.0.0\r\n\
    ///     a=mid:v\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\n";
    /// let mapped = JingleSdp::from_sdp(sdp, Role::Responder)?;
    /// assert_eq!(mapped.contents[0].senders, Senders::Responder, "the answerer sends only");
    /// assert!(matches!(JingleSdp::from_sdp("hello", Role::Initiator), Err(SdpError::Parse { .. })));
    /// # Ok::<(), SdpError>(())
    /// ```
    pub fn from_sdp(sdp: &str, author: Role) -> Result<JingleSdp, SdpError> {
        let session = webrtc_sdp::parse_sdp(sdp, false)?;
        let mut out = JingleSdp { contents: Vec::new(), groups: Vec::new(), dropped: Vec::new() };
        for w in &session.warnings {
            let line = match w {
                SdpParserError::Line { line, .. } | SdpParserError::Unsupported { line, .. } => line.clone(),
                SdpParserError::Sequence { message, .. } => message.clone(),
            };
            out.dropped.push(Dropped { mid: None, line, reason: NOT_PARSED });
        }
        for a in &session.attribute {
            match a {
                SdpAttribute::Group(g) => {
                    out.groups.push(Group { semantics: g.semantics.to_string(), contents: g.tags.clone() })
                }
                a if SESSION_WIDE(a) => {}
                other => out.dropped.push(Dropped { mid: None, line: format!("a={other}"), reason: NO_XEP }),
            }
        }
        let raw_fmtp = raw_fmtp(sdp);
        let mut names = Vec::new();
        for (i, m) in session.media.iter().enumerate() {
            let media = m.get_type().to_string();
            if matches!(m.get_type(), SdpMediaValue::Application) {
                let mid = m.get_attributes().iter().find_map(|a| match a {
                    SdpAttribute::Mid(m) => Some(m.clone()),
                    _ => None,
                });
                out.dropped.push(Dropped {
                    mid,
                    line: format!("m={}", m_line(m)),
                    reason: "data channels (XEP-0343) are not mapped",
                });
                continue;
            }
            let formats: Vec<u32> = match m.get_formats() {
                SdpFormatList::Integers(v) => v.clone(),
                _ => return Err(unmappable(format!("m={media} has no RTP payload types"))),
            };
            let mut s = Section {
                desc: RtpDescription::new(media.clone()),
                transport: IceUdpTransport::default(),
                setup: None,
                msid: Vec::new(),
                mid: None,
                dropped: Vec::new(),
                author,
                formats: &formats,
                fmtp: raw_fmtp.get(i).cloned().unwrap_or_default(),
            };
            for pt in s.formats {
                let id = u8::try_from(*pt)
                    .ok()
                    .filter(|id| *id < 128)
                    .ok_or_else(|| unmappable(format!("payload type {pt}")))?;
                s.desc.payload_types.push(PayloadType {
                    id,
                    name: None,
                    clockrate: None,
                    channels: None,
                    ptime: None,
                    maxptime: None,
                    parameters: Vec::new(),
                    rtcp_fb: Vec::new(),
                    rtcp_fb_trr_int: None,
                });
            }
            for b in m.get_bandwidth() {
                let (kind, value) = match b {
                    SdpBandwidth::As(v) => ("AS".to_owned(), *v),
                    SdpBandwidth::Ct(v) => ("CT".to_owned(), *v),
                    SdpBandwidth::Tias(v) => ("TIAS".to_owned(), *v),
                    SdpBandwidth::Unknown(k, v) => (k.clone(), *v),
                };
                s.desc.bandwidth.push(Bandwidth { kind, value });
            }
            for a in session.attribute.iter().filter(|a| SESSION_WIDE(a)) {
                s.attribute(a, true)?;
            }
            for a in m.get_attributes() {
                s.attribute(a, false)?;
            }
            // Media-level a=msid goes on the sources, where XEP-0339 §2.1 carries it.
            if !s.msid.is_empty() {
                if s.desc.sources.is_empty() {
                    for msid in &s.msid {
                        s.dropped.push((
                            format!("a=msid:{msid}"),
                            "XEP-0339 carries msid on sources, and there is no a=ssrc",
                        ));
                    }
                } else {
                    for src in s.desc.sources.iter_mut().filter(|src| src.parameter("msid").is_none()) {
                        src.parameters.extend(s.msid.iter().map(|m| Parameter::new("msid", m.clone())));
                    }
                }
            }
            let setup = s.setup;
            s.transport.fingerprints.iter_mut().for_each(|f| f.setup = setup);
            let name = match &s.mid {
                Some(m) => m.clone(),
                None => format!("{media}-{i}"),
            };
            if names.contains(&name) {
                return Err(unmappable(format!("two media sections named {name:?}")));
            }
            names.push(name.clone());
            let senders = senders_of(
                m.get_attributes().iter().find(|a| {
                    matches!(
                        a,
                        SdpAttribute::Sendrecv
                            | SdpAttribute::Sendonly
                            | SdpAttribute::Recvonly
                            | SdpAttribute::Inactive
                    )
                }),
                author,
            );
            let mut content = Content::new(Role::Initiator, &name)
                .with_description(s.desc.to_builder().build().map_err(internal)?)
                .with_transport(s.transport.to_builder().build().map_err(internal)?);
            if senders != Senders::Both {
                content = content.with_senders(senders);
            }
            out.dropped.extend(s.dropped.into_iter().map(|(line, reason)| Dropped {
                mid: Some(name.clone()),
                line,
                reason,
            }));
            out.contents.push(content);
        }
        Ok(out)
    }

    /// The contents and groups of a `<jingle/>` (a session-initiate, session-accept, content-add, …).
    ///
    /// ```
    /// use moxl_xep::jingle_sdp::JingleSdp;
    /// use moxl_xep::xep_0166_jingle::{Action, Jingle};
    /// let j = JingleSdp::from_jingle(&Jingle::new(Action::SessionAccept, "s"))?;
    /// assert!(j.contents.is_empty() && j.dropped.is_empty());
    /// # Ok::<(), moxl_xep::jingle_sdp::SdpError>(())
    /// ```
    pub fn from_jingle(jingle: &Jingle) -> Result<JingleSdp, SdpError> {
        Ok(JingleSdp { contents: jingle.contents.clone(), groups: Group::from_jingle(jingle)?, dropped: Vec::new() })
    }

    /// A `<jingle/>` of this action and sid with the contents and the groups (as XEP-0338 `<group/>` payloads).
    ///
    /// ```
    /// use moxl_xep::jingle_sdp::JingleSdp;
    /// use moxl_xep::xep_0166_jingle::{Action, Jingle};
    /// let j = JingleSdp::from_jingle(&Jingle::new(Action::SessionAccept, "s"))?.to_jingle(Action::SessionAccept, "s");
    /// assert_eq!(j.action, Action::SessionAccept);
    /// # Ok::<(), moxl_xep::jingle_sdp::SdpError>(())
    /// ```
    pub fn to_jingle(&self, action: Action, sid: &str) -> Jingle {
        let mut j = Jingle::new(action, sid).with_contents(self.contents.clone());
        for g in &self.groups {
            if let Ok(e) = g.to_builder().build() {
                j = j.with_payload(e);
            }
        }
        j
    }

    /// A transport-info (XEP-0176 §5.5) trickling these `a=candidate` lines of the media section `mid`, with its
    /// ICE credentials. ICE-TCP candidates are left out (they have no ICE-UDP form); with none left, `Ok(None)`.
    ///
    /// ```
    /// use moxl_xep::jingle_sdp::JingleSdp;
    /// use moxl_xep::xep_0166_jingle::Role;
    /// use moxl_xep::xep_0176_ice_udp::IceUdpTransport;
    /// let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:ldpL\r\na=ice-pwd:L9rHzD8FavfvKd2/ia+/NeI+\r\n";
    /// let local = JingleSdp::from_sdp(sdp, Role::Initiator)?;
    /// let info = local.transport_info("s1", "0", &["candidate:1440883613 1 udp 2122194687 192.0.2.2 40955 typ host generation 0"])?.unwrap();
    /// let t = IceUdpTransport::from_content(&info.contents[0]).unwrap()?;
    /// assert_eq!((t.ufrag.as_deref(), t.candidates[0].port), (Some("ldpL"), 40955));
    /// assert!(local.transport_info("s1", "0", &["candidate:7 1 tcp 1518214911 192.0.2.2 9 typ host tcptype active"])?.is_none());
    /// assert!(local.transport_info("s1", "9", &[]).is_err(), "no such media section");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn transport_info(&self, sid: &str, mid: &str, candidates: &[&str]) -> Result<Option<Jingle>, SdpError> {
        let content = self
            .contents
            .iter()
            .find(|c| c.name == mid)
            .ok_or_else(|| unmappable(format!("no media section {mid:?}")))?;
        let local = IceUdpTransport::from_content(content).transpose()?.unwrap_or_default();
        let mut t = IceUdpTransport { ufrag: local.ufrag, pwd: local.pwd, ..IceUdpTransport::default() };
        for line in candidates {
            match candidate_from_sdp(line) {
                Ok(c) => t.candidates.push(c),
                Err(SdpError::Unmappable(r)) if r == TCP => {}
                Err(e) => return Err(e),
            }
        }
        if t.candidates.is_empty() {
            return Ok(None);
        }
        let c = Content::new(content.creator, &content.name).with_transport(t.to_builder().build().map_err(internal)?);
        Ok(Some(Jingle::new(Action::TransportInfo, sid).with_contents(vec![c])))
    }

    /// Writes the SDP of these contents and groups, as written by `author` (the initiator's offer for a
    /// session-initiate, the responder's answer for a session-accept): what to hand to `setRemoteDescription`.
    ///
    /// ```
    ///     /// use moxl_xep::jingle_sdp::JingleSdp;
    /// use moxl_xep::xep_0166_jingle::{Jingle, Role};
    /// // XEP-0167 §6: a static payload type maps to the m= line alone
    /// let j = Jingle::from_element(&Element::parse("<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'>\
    ///     <content creator='initiator' name='voice'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
    ///     <payload-type id='13' name='CN'/></description></content></jingle>")?)?;
    /// let sdp = JingleSdp::from_jingle(&j)?.to_sdp(Role::Initiator)?;
    /// assert!(sdp.contains("m=audio 9 RTP/AVP 13\r\n"), "{sdp}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_sdp(&self, author: Role) -> Result<String, SdpError> {
        let mut medias = Vec::new();
        let mut fmtp = Vec::new();
        let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
        for content in &self.contents {
            let (desc, transport) = media_of(content)?;
            for b in
                transport.ufrag.iter().chain(transport.fingerprints.iter().map(|f| &f.value)).flat_map(|s| s.bytes())
            {
                seed = (seed ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
            medias.push(write_media(content, &desc, &transport, author, &mut fmtp)?);
        }
        let origin = SdpOrigin {
            username: "-".into(),
            session_id: seed >> 2,
            session_version: 2,
            unicast_addr: ExplicitlyTypedAddress::from(Ipv4Addr::LOCALHOST),
        };
        let mut session = SdpSession::new(0, origin, "-".into());
        session.set_timing(SdpTiming { start: 0, stop: 0 });
        for g in &self.groups {
            let semantics = match g.semantics.as_str() {
                "LS" => SdpAttributeGroupSemantic::LipSynchronization,
                "FID" => SdpAttributeGroupSemantic::FlowIdentification,
                "SRF" => SdpAttributeGroupSemantic::SingleReservationFlow,
                "ANAT" => SdpAttributeGroupSemantic::AlternateNetworkAddressType,
                "FEC" => SdpAttributeGroupSemantic::ForwardErrorCorrection,
                "DDP" => SdpAttributeGroupSemantic::DecodingDependency,
                "BUNDLE" => SdpAttributeGroupSemantic::Bundle,
                other => return Err(unmappable(format!("group semantics {other:?}"))),
            };
            session
                .add_attribute(SdpAttribute::Group(SdpAttributeGroup { semantics, tags: g.contents.clone() }))
                .map_err(internal)?;
        }
        session.add_attribute(SdpAttribute::IceOptions(vec!["trickle".into()])).map_err(internal)?;
        session.extend_media(medias);
        let mut fmtp = fmtp.into_iter();
        let mut out = String::new();
        for line in session.to_string().split_terminator("\r\n") {
            match line.starts_with("a=fmtp:") {
                true => out.push_str(&fmtp.next().unwrap_or_default()),
                false => out.push_str(line),
            }
            out.push_str("\r\n");
        }
        Ok(out)
    }
}

/// The `a=fmtp` lines of each media section as written, after webrtc-sdp accepted the SDP.
fn raw_fmtp(sdp: &str) -> Vec<Vec<(u8, String)>> {
    let mut out: Vec<Vec<(u8, String)>> = Vec::new();
    for line in sdp.lines().map(str::trim) {
        if line.starts_with("m=") {
            out.push(Vec::new());
        } else if let (Some(rest), Some(section)) = (line.strip_prefix("a=fmtp:"), out.last_mut()) {
            if let Some((pt, params)) = rest.split_once(' ') {
                if let Ok(pt) = pt.trim().parse() {
                    section.push((pt, params.trim().to_owned()));
                }
            }
        }
    }
    out
}

fn m_line(m: &SdpMedia) -> String {
    format!("{} {} {} {}", m.get_type(), m.get_port(), m.get_proto(), m.get_formats())
}

fn write_media(
    content: &Content,
    desc: &RtpDescription,
    t: &IceUdpTransport,
    author: Role,
    fmtp: &mut Vec<String>,
) -> Result<SdpMedia, SdpError> {
    let media = match desc.media.as_str() {
        "audio" => SdpMediaValue::Audio,
        "video" => SdpMediaValue::Video,
        other => return Err(unmappable(format!("media type {other:?}"))),
    };
    let avpf = !desc.rtcp_fb.is_empty()
        || desc.rtcp_fb_trr_int.is_some()
        || desc.payload_types.iter().any(|p| !p.rtcp_fb.is_empty() || p.rtcp_fb_trr_int.is_some());
    let proto = match (t.fingerprints.is_empty(), avpf) {
        (false, _) => SdpProtocolValue::UdpTlsRtpSavpf,
        (true, true) => SdpProtocolValue::RtpAvpf,
        (true, false) => SdpProtocolValue::RtpAvp,
    };
    // The default candidate (RFC 8839 §4.2.1.2): the first RTP candidate with an IP address, else none yet.
    let default =
        t.candidates.iter().find_map(|c| Some((c.port, c.ip.parse::<IpAddr>().ok()?)).filter(|_| c.component == 1));
    let (port, addr) = default.unwrap_or((9, IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
    let mut m = SdpMedia::new(SdpMediaLine {
        media,
        port: u32::from(port),
        port_count: 0,
        proto,
        formats: SdpFormatList::Integers(desc.payload_types.iter().map(|p| u32::from(p.id)).collect()),
    });
    m.set_connection(SdpConnection { address: ExplicitlyTypedAddress::from(addr), ttl: None, amount: None });
    for b in &desc.bandwidth {
        m.add_bandwidth(match b.kind.as_str() {
            "AS" => SdpBandwidth::As(b.value),
            "CT" => SdpBandwidth::Ct(b.value),
            "TIAS" => SdpBandwidth::Tias(b.value),
            other => SdpBandwidth::Unknown(other.to_owned(), b.value),
        });
    }
    let mut add = |a: SdpAttribute| m.add_attribute(a).map_err(internal);
    if let Some(u) = &t.ufrag {
        add(SdpAttribute::IceUfrag(u.clone()))?;
    }
    if let Some(p) = &t.pwd {
        add(SdpAttribute::IcePwd(p.clone()))?;
    }
    for f in &t.fingerprints {
        match SdpAttribute::from_str(&format!("fingerprint:{} {}", f.hash, f.value)) {
            Ok(a) => add(a)?,
            Err(e) => return Err(unmappable(format!("fingerprint: {e}"))),
        }
    }
    if let Some(setup) = t.fingerprints.iter().find_map(|f| f.setup) {
        add(SdpAttribute::Setup(match setup {
            Setup::Active => SdpAttributeSetup::Active,
            Setup::Passive => SdpAttributeSetup::Passive,
            Setup::Actpass => SdpAttributeSetup::Actpass,
        }))?;
    }
    add(SdpAttribute::Mid(content.name.clone()))?;
    for h in &desc.hdrexts {
        let ext = parameters_text(&h.parameters, " ");
        add(SdpAttribute::Extmap(SdpAttributeExtmap {
            id: h.id,
            direction: hdrext_direction(h.senders, author),
            url: h.uri.clone(),
            extension_attributes: Some(ext).filter(|e| !e.is_empty()),
        }))?;
    }
    if desc.extmap_allow_mixed {
        add(SdpAttribute::ExtmapAllowMixed)?;
    }
    add(direction_of(content.senders, author))?;
    let mut msids: Vec<&str> = Vec::new();
    for s in &desc.sources {
        for p in s.parameters.iter().filter(|p| p.name == "msid") {
            if let Some(v) = p.value.as_deref().filter(|v| !msids.contains(v)) {
                msids.push(v);
            }
        }
    }
    for msid in msids {
        let (id, appdata) = match msid.split_once(' ') {
            Some((i, a)) => (i.to_owned(), Some(a.to_owned())),
            None => (msid.to_owned(), None),
        };
        add(SdpAttribute::Msid(SdpAttributeMsid { id, appdata }))?;
    }
    if desc.rtcp_mux {
        add(SdpAttribute::RtcpMux)?;
    }
    let fb = |pt: &str, f: &RtcpFb| {
        let mut text = format!("rtcp-fb:{pt} {}", f.kind);
        if let Some(s) = &f.subtype {
            text.push(' ');
            text.push_str(s);
        }
        if !f.parameters.is_empty() {
            text.push(' ');
            text.push_str(&parameters_text(&f.parameters, " "));
        }
        SdpAttribute::from_str(&text).map_err(|e| unmappable(format!("{text}: {e}")))
    };
    for f in &desc.rtcp_fb {
        add(fb("*", f)?)?;
    }
    if let Some(v) = desc.rtcp_fb_trr_int {
        add(fb("*", &RtcpFb::new("trr-int", Some(&v.to_string())))?)?;
    }
    let mut ptime = BTreeMap::new();
    for p in &desc.payload_types {
        // XEP-0167 §6: a static payload type is the m= line alone; an rtpmap needs a name and a clock rate.
        if let (Some(name), Some(clockrate)) = (&p.name, p.clockrate) {
            let mut r = SdpAttributeRtpmap::new(p.id, name.clone(), clockrate);
            r.channels = p.channels.map(u32::from);
            add(SdpAttribute::Rtpmap(r))?;
        }
        for f in &p.rtcp_fb {
            add(fb(&p.id.to_string(), f)?)?;
        }
        if let Some(v) = p.rtcp_fb_trr_int {
            add(fb(&p.id.to_string(), &RtcpFb::new("trr-int", Some(&v.to_string())))?)?;
        }
        if !p.parameters.is_empty() {
            // Checked by webrtc-sdp, written as given: its own form joins unknown parameters with commas and
            // leaves out those at their default value.
            let text = format!("fmtp:{} {}", p.id, parameters_text(&p.parameters, ";"));
            add(SdpAttribute::from_str(&text).map_err(|e| unmappable(format!("{text}: {e}")))?)?;
            fmtp.push(format!("a={text}"));
        }
        if let Some(v) = p.ptime {
            ptime.insert("ptime", v);
        }
        if let Some(v) = p.maxptime {
            ptime.insert("maxptime", v);
        }
    }
    if let Some(v) = ptime.get("ptime") {
        add(SdpAttribute::Ptime(u64::from(*v)))?;
    }
    if let Some(v) = ptime.get("maxptime") {
        add(SdpAttribute::MaxPtime(u64::from(*v)))?;
    }
    for g in &desc.ssrc_groups {
        let semantics = match SdpAttribute::from_str(&format!("ssrc-group:{} 1", g.semantics)) {
            Ok(SdpAttribute::SsrcGroup(s, _)) => s,
            _ => return Err(unmappable(format!("ssrc-group semantics {:?}", g.semantics))),
        };
        add(SdpAttribute::SsrcGroup(semantics, g.sources.iter().map(|s| SdpAttributeSsrc::new(*s)).collect()))?;
    }
    for s in &desc.sources {
        for p in &s.parameters {
            let mut a = SdpAttributeSsrc::new(s.ssrc);
            a.attribute = Some(p.name.clone());
            a.value = p.value.clone();
            add(SdpAttribute::Ssrc(a))?;
        }
    }
    for c in &t.candidates {
        add(SdpAttribute::Candidate(sdp_candidate(c)?))?;
    }
    Ok(m)
}
