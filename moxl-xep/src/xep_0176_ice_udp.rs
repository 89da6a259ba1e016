//! XEP-0176: Jingle ICE-UDP Transport Method (version 1.1.1, namespace `urn:xmpp:jingle:transports:ice-udp:1`),
//! sans I/O: the `<transport/>` of a content ([`IceUdpTransport`], §5.3) with its ICE credentials (SDP
//! `a=ice-ufrag`, `a=ice-pwd`), its [`Candidate`]s (SDP `a=candidate`, RFC 8839 §5.1), the `<remote-candidate/>`
//! of §5.7, and the DTLS `<fingerprint/>` of XEP-0320 that goes inside it.
//!
//! Candidates trickle in transport-info messages (§5.5), one content each with a transport of new candidates:
//! [`IceUdpTransport::from_content`] reads them, [`IceUdpTransport::to_builder`] writes them. The mapping of
//! `a=candidate` lines is in [`crate::jingle_sdp`] (feature `jingle-sdp`).
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0176_ice_udp::{CandidateType, IceUdpTransport};
//! // §5.2, Example 1
//! let e = Element::parse("<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'>\
//!     <candidate component='1' foundation='1' generation='0' id='el0747fg11' ip='10.0.1.1' network='1' port='8998' priority='2130706431' protocol='udp' type='host'/>\
//!     <candidate component='1' foundation='2' generation='0' id='y3s2b30v3r' ip='192.0.2.3' network='1' port='45664' priority='1694498815' protocol='udp' rel-addr='10.0.1.1' rel-port='8998' type='srflx'/>\
//!     </transport>")?;
//! let t = IceUdpTransport::from_element(&e)?;
//! assert_eq!((t.ufrag.as_deref(), t.candidates.len()), (Some("8hhy"), 2));
//! assert_eq!((t.candidates[1].kind, t.candidates[1].rel_port), (CandidateType::Srflx, Some(8998)));
//! assert_eq!(IceUdpTransport::from_element(&t.to_builder().build()?)?, t);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use moxl_core::xml::{Element, ElementBuilder};

use crate::xep_0166_jingle::{Content, JingleError};
use crate::xep_0167_rtp::{bad, num_attr, req_attr, req_num, same_elements};
use crate::xep_0320_dtls::{self as dtls, Fingerprint};

/// `urn:xmpp:jingle:transports:ice-udp:1` (§12.1), also the disco feature (§7.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0176_ice_udp::NS, "urn:xmpp:jingle:transports:ice-udp:1");
/// ```
pub const NS: &str = "urn:xmpp:jingle:transports:ice-udp:1";

/// A candidate's type (`type`, §5.3; RFC 8445 §5.1.1).
///
/// ```
/// use moxl_xep::xep_0176_ice_udp::CandidateType;
/// assert_eq!(CandidateType::from_str("relay"), Some(CandidateType::Relay));
/// assert_eq!(CandidateType::Srflx.to_string(), "srflx");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateType {
    /// A host candidate.
    Host,
    /// A peer reflexive candidate.
    Prflx,
    /// A relayed candidate (TURN).
    Relay,
    /// A server reflexive candidate (STUN).
    Srflx,
}

impl CandidateType {
    /// Reads the wire name.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(s: &str) -> Option<CandidateType> {
        match s {
            "host" => Some(CandidateType::Host),
            "prflx" => Some(CandidateType::Prflx),
            "relay" => Some(CandidateType::Relay),
            "srflx" => Some(CandidateType::Srflx),
            _ => None,
        }
    }

    /// The wire name.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0176_ice_udp::CandidateType::Host.as_str(), "host");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateType::Host => "host",
            CandidateType::Prflx => "prflx",
            CandidateType::Relay => "relay",
            CandidateType::Srflx => "srflx",
        }
    }
}

impl fmt::Display for CandidateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `<candidate/>` (§5.3): one transport address, with the attributes of the table "Candidate Attributes" and
/// their `a=candidate` counterparts.
///
/// ```
/// use moxl_xep::xep_0176_ice_udp::{Candidate, CandidateType};
/// let c = Candidate::new("1", 1, "udp", 2122194687, "192.0.2.2", 40955, CandidateType::Host);
/// assert_eq!(c.id, "1-1-udp-192.0.2.2-40955");
/// assert!(c.to_builder().build()?.to_xml().contains("ip='192.0.2.2' port='40955' priority='2122194687' protocol='udp' type='host'"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Candidate {
    /// The component: 1 for RTP, 2 for RTCP.
    pub component: u8,
    /// The foundation.
    pub foundation: String,
    /// The ICE generation (0 until an ICE restart).
    pub generation: u8,
    /// A unique id of the candidate within the session (not in SDP).
    pub id: String,
    /// The IP address (or, from a browser hiding its addresses, an mDNS `.local` name).
    pub ip: String,
    /// The network interface index (`network`; SDP `network-id`).
    pub network: Option<u8>,
    /// The port.
    pub port: u16,
    /// The priority.
    pub priority: u32,
    /// The transport protocol, `udp`.
    pub protocol: String,
    /// The related address of a reflexive or relayed candidate (`rel-addr`, SDP `raddr`).
    pub rel_addr: Option<String>,
    /// The related port (`rel-port`, SDP `rport`).
    pub rel_port: Option<u16>,
    /// The type.
    pub kind: CandidateType,
}

impl Candidate {
    /// A candidate of generation 0, its id made of its foundation, component, protocol, address and port.
    ///
    /// ```
    /// use moxl_xep::xep_0176_ice_udp::{Candidate, CandidateType};
    /// assert_eq!(Candidate::new("2", 1, "udp", 1694498815, "192.0.2.3", 45664, CandidateType::Srflx).generation, 0);
    /// ```
    pub fn new(
        foundation: &str,
        component: u8,
        protocol: &str,
        priority: u32,
        ip: &str,
        port: u16,
        kind: CandidateType,
    ) -> Candidate {
        Candidate {
            component,
            foundation: foundation.to_owned(),
            generation: 0,
            id: format!("{foundation}-{component}-{protocol}-{ip}-{port}"),
            ip: ip.to_owned(),
            network: None,
            port,
            priority,
            protocol: protocol.to_owned(),
            rel_addr: None,
            rel_port: None,
            kind,
        }
    }

    /// Reads a `<candidate/>`; a bad request without a required attribute or with a malformed one.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let e = Element::parse("<candidate xmlns='urn:xmpp:jingle:transports:ice-udp:1' component='1' foundation='1' generation='0' id='x' ip='10.0.1.1' port='99999' priority='1' protocol='udp' type='host'/>")?;
    /// assert!(moxl_xep::xep_0176_ice_udp::Candidate::from_element(&e).is_err(), "port is 16 bits");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<Candidate, JingleError> {
        let kind = req_attr(e, "type")?;
        let kind =
            CandidateType::from_str(&kind).ok_or_else(|| bad(format!("<candidate/> has a bad type {kind:?}")))?;
        Ok(Candidate {
            component: req_num(e, "component")?,
            foundation: req_attr(e, "foundation")?,
            generation: num_attr(e, "generation")?.unwrap_or(0),
            id: e.attr("id").map(|v| v.into_owned()).unwrap_or_default(),
            ip: req_attr(e, "ip")?,
            network: num_attr(e, "network")?,
            port: req_num(e, "port")?,
            priority: req_num(e, "priority")?,
            protocol: req_attr(e, "protocol")?,
            rel_addr: e.attr("rel-addr").map(|v| v.into_owned()),
            rel_port: num_attr(e, "rel-port")?,
            kind,
        })
    }

    /// The `<candidate/>` element.
    ///
    /// ```
    /// use moxl_xep::xep_0176_ice_udp::{Candidate, CandidateType};
    /// let c = Candidate::new("1", 1, "udp", 2130706431, "10.0.1.1", 8998, CandidateType::Host);
    /// assert_eq!(
    ///     c.to_builder().build()?.to_xml(),
    ///     "<candidate xmlns='urn:xmpp:jingle:transports:ice-udp:1' component='1' foundation='1' generation='0' id='1-1-udp-10.0.1.1-8998' \
    ///      ip='10.0.1.1' port='8998' priority='2130706431' protocol='udp' type='host'/>"
    /// );
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        ElementBuilder::new("candidate", NS)
            .attr("component", self.component.to_string())
            .attr("foundation", self.foundation.clone())
            .attr("generation", self.generation.to_string())
            .attr("id", self.id.clone())
            .attr("ip", self.ip.clone())
            .attr_opt("network", self.network.map(|n| n.to_string()))
            .attr("port", self.port.to_string())
            .attr("priority", self.priority.to_string())
            .attr("protocol", self.protocol.clone())
            .attr_opt("rel-addr", self.rel_addr.clone())
            .attr_opt("rel-port", self.rel_port.map(|p| p.to_string()))
            .attr("type", self.kind.as_str())
    }
}

/// A `<remote-candidate/>` (§5.7): the peer's candidate the initiator selected (SDP `a=remote-candidates`).
///
/// ```
/// let r = moxl_xep::xep_0176_ice_udp::RemoteCandidate { component: 1, ip: "10.0.1.2".into(), port: 9001 };
/// assert_eq!(r.to_builder().build()?.to_xml(), "<remote-candidate xmlns='urn:xmpp:jingle:transports:ice-udp:1' component='1' ip='10.0.1.2' port='9001'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCandidate {
    /// The component.
    pub component: u8,
    /// The address.
    pub ip: String,
    /// The port.
    pub port: u16,
}

impl RemoteCandidate {
    /// Reads a `<remote-candidate/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let e = Element::parse("<remote-candidate xmlns='urn:xmpp:jingle:transports:ice-udp:1' component='1' ip='10.0.1.2' port='9001'/>")?;
    /// assert_eq!(moxl_xep::xep_0176_ice_udp::RemoteCandidate::from_element(&e)?.port, 9001);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<RemoteCandidate, JingleError> {
        Ok(RemoteCandidate { component: req_num(e, "component")?, ip: req_attr(e, "ip")?, port: req_num(e, "port")? })
    }

    /// The `<remote-candidate/>` element.
    ///
    /// ```
    /// let r = moxl_xep::xep_0176_ice_udp::RemoteCandidate { component: 1, ip: "10.0.1.2".into(), port: 9001 };
    /// assert!(r.to_builder().build()?.to_xml().starts_with("<remote-candidate"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        ElementBuilder::new("remote-candidate", NS)
            .attr("component", self.component.to_string())
            .attr("ip", self.ip.clone())
            .attr("port", self.port.to_string())
    }
}

/// The `<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/>` of a content (§5.3): ICE credentials
/// (REQUIRED whenever candidates are sent), candidates, the remote candidate, and XEP-0320 fingerprints. Other
/// children are kept in [`IceUdpTransport::other`].
///
/// ```
/// use moxl_xep::xep_0176_ice_udp::IceUdpTransport;
/// let t = IceUdpTransport::new("8hhy", "asd88fgpdd777uzjYhagZg");
/// assert_eq!(t.to_builder().build()?.to_xml(), "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='8hhy' pwd='asd88fgpdd777uzjYhagZg'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct IceUdpTransport {
    /// The ICE username fragment (`ufrag`, SDP `a=ice-ufrag`).
    pub ufrag: Option<String>,
    /// The ICE password (`pwd`, SDP `a=ice-pwd`).
    pub pwd: Option<String>,
    /// The candidates.
    pub candidates: Vec<Candidate>,
    /// The remote candidate (§5.7).
    pub remote_candidate: Option<RemoteCandidate>,
    /// The DTLS fingerprints (XEP-0320).
    pub fingerprints: Vec<Fingerprint>,
    /// Children of other namespaces, kept as they came.
    pub other: Vec<Element>,
}

impl PartialEq for IceUdpTransport {
    fn eq(&self, o: &IceUdpTransport) -> bool {
        self.ufrag == o.ufrag
            && self.pwd == o.pwd
            && self.candidates == o.candidates
            && self.remote_candidate == o.remote_candidate
            && self.fingerprints == o.fingerprints
            && same_elements(&self.other, &o.other)
    }
}

impl IceUdpTransport {
    /// A transport with these credentials and nothing else.
    ///
    /// ```
    /// assert!(moxl_xep::xep_0176_ice_udp::IceUdpTransport::new("u", "p").candidates.is_empty());
    /// ```
    pub fn new(ufrag: impl Into<String>, pwd: impl Into<String>) -> IceUdpTransport {
        IceUdpTransport { ufrag: Some(ufrag.into()), pwd: Some(pwd.into()), ..IceUdpTransport::default() }
    }

    /// Reads the ICE-UDP transport of a content: `None` when it has none (or another transport).
    ///
    /// ```
    /// use moxl_xep::xep_0166_jingle::{Content, Role};
    /// use moxl_xep::xep_0176_ice_udp::IceUdpTransport;
    /// let c = Content::new(Role::Initiator, "0").with_transport(IceUdpTransport::new("u", "p").to_builder().build()?);
    /// assert_eq!(IceUdpTransport::from_content(&c).unwrap()?.ufrag.as_deref(), Some("u"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_content(content: &Content) -> Option<Result<IceUdpTransport, JingleError>> {
        content.transport.as_ref().filter(|t| t.is("transport", NS)).map(IceUdpTransport::from_element)
    }

    /// Reads a `<transport/>` of this namespace.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let e = Element::parse("<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'><candidate component='1'/></transport>")?;
    /// assert!(moxl_xep::xep_0176_ice_udp::IceUdpTransport::from_element(&e).is_err());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<IceUdpTransport, JingleError> {
        if !e.is("transport", NS) {
            return Err(bad("not an ICE-UDP <transport/>"));
        }
        let mut t = IceUdpTransport {
            ufrag: e.attr("ufrag").map(|v| v.into_owned()),
            pwd: e.attr("pwd").map(|v| v.into_owned()),
            ..IceUdpTransport::default()
        };
        for c in e.children() {
            match (c.ns(), c.name()) {
                (NS, "candidate") => t.candidates.push(Candidate::from_element(&c)?),
                (NS, "remote-candidate") => t.remote_candidate = Some(RemoteCandidate::from_element(&c)?),
                (dtls::NS, "fingerprint") => t.fingerprints.push(Fingerprint::from_element(&c)?),
                _ => t.other.push(c),
            }
        }
        Ok(t)
    }

    /// The `<transport/>` element.
    ///
    /// ```
    /// use moxl_xep::xep_0176_ice_udp::{Candidate, CandidateType, IceUdpTransport};
    /// let mut t = IceUdpTransport::new("8hhy", "asd88fgpdd777uzjYhagZg");
    /// t.candidates.push(Candidate::new("1", 1, "udp", 2130706431, "10.0.1.1", 8998, CandidateType::Host));
    /// assert!(t.to_builder().build()?.to_xml().contains("<candidate component='1'"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        let mut b = ElementBuilder::new("transport", NS)
            .attr_opt("ufrag", self.ufrag.clone())
            .attr_opt("pwd", self.pwd.clone());
        for f in &self.fingerprints {
            b = b.append(f.to_builder());
        }
        for c in &self.candidates {
            b = b.append(c.to_builder());
        }
        if let Some(r) = &self.remote_candidate {
            b = b.append(r.to_builder());
        }
        for o in &self.other {
            b = b.append(o.clone());
        }
        b
    }
}
