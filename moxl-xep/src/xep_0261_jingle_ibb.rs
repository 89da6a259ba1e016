//! XEP-0261: Jingle In-Band Bytestreams Transport Method (version 1.0, namespace
//! `urn:xmpp:jingle:transports:ibb:1`): the `<transport/>` of a Jingle content whose data goes over XEP-0047.
//! The Jingle negotiation stands for XEP-0047's `<open/>`, which the initiator still sends afterwards with the
//! negotiated `block-size` and `sid` (§2.2); the responder may lower the block size in its session-accept or
//! transport-accept. XEP-0234 file transfer drives it (`xep_0234_file_transfer`); the bytes flow through
//! [`xep_0047_ibb`](crate::xep_0047_ibb).
//!
//! ```
//! use moxl_xep::xep_0261_jingle_ibb::IbbTransport;
//! let t = IbbTransport::new("ch3d9s71", 4096);
//! let e = t.to_element().build()?;
//! assert_eq!(e.to_xml(), "<transport xmlns='urn:xmpp:jingle:transports:ibb:1' sid='ch3d9s71' block-size='4096' stanza='iq'/>");
//! assert_eq!(IbbTransport::from_element(&e), Some(t));
//! # Ok::<(), moxl_core::Error>(())
//! ```

use moxl_core::xml::{Element, ElementBuilder};

use crate::xep_0047_ibb::StanzaKind;

/// `urn:xmpp:jingle:transports:ibb:1` (§6), also the disco feature.
///
/// ```
/// assert_eq!(moxl_xep::xep_0261_jingle_ibb::NS, "urn:xmpp:jingle:transports:ibb:1");
/// ```
pub const NS: &str = "urn:xmpp:jingle:transports:ibb:1";

moxl_core::feature!("urn:xmpp:jingle:transports:ibb:1");

/// The `<transport/>` (§2.1): the IBB session id, the block size and the carrying stanza.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0261_jingle_ibb::IbbTransport;
/// // §2.1, Example 3 (the responder lowers the block size)
/// let e = Element::parse("<transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='2048' sid='ch3d9s71'/>")?;
/// assert_eq!(IbbTransport::from_element(&e).map(|t| t.block_size), Some(2048));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IbbTransport {
    /// The IBB session id (not the Jingle one).
    pub sid: String,
    /// The largest chunk, in bytes (1 to 65535).
    pub block_size: u16,
    /// The carrying stanza (default `iq`).
    pub stanza: StanzaKind,
}

impl IbbTransport {
    /// A transport over `<iq/>` stanzas.
    pub fn new(sid: impl Into<String>, block_size: u16) -> IbbTransport {
        IbbTransport { sid: sid.into(), block_size: block_size.max(1), stanza: StanzaKind::Iq }
    }

    /// Reads a `<transport/>` of this namespace (`None` without a sid or a valid block size).
    pub fn from_element(e: &Element) -> Option<IbbTransport> {
        if !e.is("transport", NS) {
            return None;
        }
        let sid = e.attr("sid").filter(|s| !s.is_empty())?.into_owned();
        let block_size = e.attr("block-size")?.trim().parse::<u16>().ok().filter(|b| *b > 0)?;
        let stanza = StanzaKind::from_attr(e.attr("stanza").as_deref())?;
        Some(IbbTransport { sid, block_size, stanza })
    }

    /// The element.
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("transport", NS)
            .attr("sid", self.sid.clone())
            .attr("block-size", self.block_size.to_string())
            .attr("stanza", self.stanza.as_str())
    }
}
