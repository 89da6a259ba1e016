//! XEP-0260: Jingle SOCKS5 Bytestreams Transport Method (version 1.0.3, namespace
//! `urn:xmpp:jingle:transports:s5b:1`): the `<transport/>` of a Jingle content whose data goes over a XEP-0065
//! SOCKS5 bytestream. Each party offers candidates (streamhosts with a priority, §2.1), tries the other's in order
//! of priority and says which one worked (`<candidate-used/>`) or that none did (`<candidate-error/>`) in a
//! transport-info; the nominated candidate is the higher-priority one used, the initiator's on a tie (§2.4). A
//! proxy candidate is activated by the party that offered it, which then sends `<activated/>`. When both sides
//! fail, the initiator replaces the transport, typically with XEP-0261 IBB (§3). XEP-0234 file transfer drives it
//! (`xep_0234_file_transfer`).
//!
//! ```
//! use moxl_xep::xep_0260_jingle_s5b::{Candidate, S5bInfo, S5bTransport};
//! let t = S5bTransport::new("vj3hs98y")
//!     .with_candidate(Candidate::proxy("xmdh4b7i", "streamer.shakespeare.lit", "123.456.7.8", 7625));
//! assert_eq!(S5bTransport::from_element(&t.to_element().build()?).unwrap().candidates.len(), 1);
//! let used = S5bTransport::new("vj3hs98y").with_info(S5bInfo::CandidateUsed("hr65dqyd".into()));
//! assert!(used.to_element().build()?.to_xml().contains("<candidate-used cid='hr65dqyd'/>"));
//! # Ok::<(), moxl_core::Error>(())
//! ```

use moxl_core::xml::{Element, ElementBuilder};

use crate::xep_0065_socks5::StreamHost;

/// `urn:xmpp:jingle:transports:s5b:1` (§6), also the disco feature.
///
/// ```
/// assert_eq!(moxl_xep::xep_0260_jingle_s5b::NS, "urn:xmpp:jingle:transports:s5b:1");
/// ```
pub const NS: &str = "urn:xmpp:jingle:transports:s5b:1";

moxl_core::feature!("urn:xmpp:jingle:transports:s5b:1");

/// The type preference of a proxy candidate (§2.2: `proxy` is 10, so its priority is 10 × 2^16).
///
/// ```
/// assert_eq!(moxl_xep::xep_0260_jingle_s5b::PROXY_PRIORITY, 655360);
/// ```
pub const PROXY_PRIORITY: u32 = 10 << 16;

/// A candidate (§2.1): a streamhost with its id, priority and type (`direct`, `assisted`, `tunnel`, `proxy`).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0260_jingle_s5b::Candidate;
/// let e = Element::parse("<candidate xmlns='urn:xmpp:jingle:transports:s5b:1' cid='xmdh4b7i' host='123.456.7.8' \
///     jid='streamer.shakespeare.lit' port='7625' priority='7878787' type='proxy'/>")?;
/// let c = Candidate::from_element(&e).unwrap();
/// assert_eq!((c.cid.as_str(), c.priority, c.kind.as_str(), c.host.port), ("xmdh4b7i", 7878787, "proxy", 7625));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Candidate {
    /// Its id.
    pub cid: String,
    /// The streamhost.
    pub host: StreamHost,
    /// Its priority (higher first).
    pub priority: u32,
    /// Its type (`direct` by default).
    pub kind: String,
}

impl Candidate {
    /// A proxy candidate with the proxy's priority.
    pub fn proxy(cid: impl Into<String>, jid: impl Into<String>, host: impl Into<String>, port: u16) -> Candidate {
        Candidate {
            cid: cid.into(),
            host: StreamHost::new(jid, host, port),
            priority: PROXY_PRIORITY,
            kind: "proxy".into(),
        }
    }

    /// Whether it is a proxy (activated by the party that offered it, §2.4).
    pub fn is_proxy(&self) -> bool {
        self.kind == "proxy"
    }

    /// Reads a `<candidate/>` (`None` without cid, host, jid or a numeric priority).
    pub fn from_element(e: &Element) -> Option<Candidate> {
        if !e.is("candidate", NS) {
            return None;
        }
        let cid = e.attr("cid").filter(|c| !c.is_empty())?.into_owned();
        let jid = e.attr("jid").filter(|j| !j.is_empty())?.into_owned();
        let host = e.attr("host").filter(|h| !h.is_empty())?.into_owned();
        let port = match e.attr("port") {
            Some(p) => p.trim().parse().ok()?,
            None => 1080,
        };
        let priority = e.attr("priority")?.trim().parse().ok()?;
        let kind = e.attr("type").map(|t| t.into_owned()).unwrap_or_else(|| "direct".into());
        Some(Candidate { cid, host: StreamHost::new(jid, host, port), priority, kind })
    }

    /// The element.
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("candidate", NS)
            .attr("cid", self.cid.clone())
            .attr("host", self.host.host.clone())
            .attr("jid", self.host.jid.clone())
            .attr("port", self.host.port.to_string())
            .attr("priority", self.priority.to_string())
            .attr("type", self.kind.clone())
    }
}

/// What a transport-info says (§2.3, §2.4).
///
/// ```
/// use moxl_xep::xep_0260_jingle_s5b::S5bInfo;
/// assert_eq!(S5bInfo::CandidateUsed("a".into()), S5bInfo::CandidateUsed("a".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum S5bInfo {
    /// `<candidate-used cid/>`: the sender connected to this candidate of ours.
    CandidateUsed(String),
    /// `<candidate-error/>`: the sender could connect to none of ours.
    CandidateError,
    /// `<activated cid/>`: the proxy candidate is activated.
    Activated(String),
    /// `<proxy-error/>`: the nominated proxy could not be reached.
    ProxyError,
}

/// A `<transport/>` (§2): the bytestream's sid, the DST.ADDR its sender computed for its proxy candidates, its
/// candidates, or one [`S5bInfo`].
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0260_jingle_s5b::{S5bInfo, S5bTransport};
/// let e = Element::parse("<transport xmlns='urn:xmpp:jingle:transports:s5b:1' sid='vj3hs98y'><candidate-error/></transport>")?;
/// assert_eq!(S5bTransport::from_element(&e).unwrap().info, Some(S5bInfo::CandidateError));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct S5bTransport {
    /// The bytestream's sid.
    pub sid: String,
    /// The `dstaddr` attribute.
    pub dstaddr: Option<String>,
    /// The candidates, highest priority first once read.
    pub candidates: Vec<Candidate>,
    /// The information of a transport-info.
    pub info: Option<S5bInfo>,
}

impl S5bTransport {
    /// An empty transport for `sid`.
    pub fn new(sid: impl Into<String>) -> S5bTransport {
        S5bTransport { sid: sid.into(), dstaddr: None, candidates: Vec::new(), info: None }
    }

    /// With this `dstaddr`.
    pub fn with_dstaddr(mut self, dstaddr: impl Into<String>) -> S5bTransport {
        self.dstaddr = Some(dstaddr.into());
        self
    }

    /// With one more candidate.
    pub fn with_candidate(mut self, candidate: Candidate) -> S5bTransport {
        self.candidates.push(candidate);
        self
    }

    /// With this information.
    pub fn with_info(mut self, info: S5bInfo) -> S5bTransport {
        self.info = Some(info);
        self
    }

    /// Reads a `<transport/>` of this namespace (`None` without a sid; malformed candidates are skipped).
    pub fn from_element(e: &Element) -> Option<S5bTransport> {
        if !e.is("transport", NS) {
            return None;
        }
        let sid = e.attr("sid").filter(|s| !s.is_empty())?.into_owned();
        let mut candidates: Vec<Candidate> = e.children().filter_map(|c| Candidate::from_element(&c)).collect();
        candidates.sort_by_key(|c| std::cmp::Reverse(c.priority));
        let cid = |c: &Element| c.attr("cid").map(|v| v.into_owned()).unwrap_or_default();
        let info = e.children().filter(|c| c.ns() == NS).find_map(|c| match c.name() {
            "candidate-used" => Some(S5bInfo::CandidateUsed(cid(&c))),
            "candidate-error" => Some(S5bInfo::CandidateError),
            "activated" => Some(S5bInfo::Activated(cid(&c))),
            "proxy-error" => Some(S5bInfo::ProxyError),
            _ => None,
        });
        Some(S5bTransport { sid, dstaddr: e.attr("dstaddr").map(|d| d.into_owned()), candidates, info })
    }

    /// The element.
    pub fn to_element(&self) -> ElementBuilder {
        let t = ElementBuilder::new("transport", NS)
            .attr("sid", self.sid.clone())
            .attr_opt("dstaddr", self.dstaddr.clone());
        let t = self.candidates.iter().fold(t, |t, c| t.append(c.to_element()));
        match &self.info {
            None => t,
            Some(S5bInfo::CandidateUsed(cid)) => {
                t.append(ElementBuilder::new("candidate-used", NS).attr("cid", cid.clone()))
            }
            Some(S5bInfo::CandidateError) => t.append(ElementBuilder::new("candidate-error", NS)),
            Some(S5bInfo::Activated(cid)) => t.append(ElementBuilder::new("activated", NS).attr("cid", cid.clone())),
            Some(S5bInfo::ProxyError) => t.append(ElementBuilder::new("proxy-error", NS)),
        }
    }
}
