//! XEP-0320: Use of DTLS-SRTP in Jingle Sessions (version 1.0.0, namespace `urn:xmpp:jingle:apps:dtls:0`): the
//! `<fingerprint/>` of the certificate a party presents in the DTLS handshake and its DTLS role (§1), SDP
//! `a=fingerprint` (RFC 8122) and `a=setup` (RFC 4145, RFC 5763). It is a child of the ICE-UDP `<transport/>`:
//! [`IceUdpTransport::fingerprints`](crate::xep_0176_ice_udp::IceUdpTransport::fingerprints).
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0320_dtls::{Fingerprint, Setup};
//! // §1
//! let e = Element::parse("<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>\
//!     02:1A:CC:54:27:AB:EB:9C:53:3F:3E:4B:65:2E:7D:46:3F:54:42:CD:54:F1:7A:03:A2:7D:F9:B0:7F:46:19:B2</fingerprint>")?;
//! let f = Fingerprint::from_element(&e)?;
//! assert_eq!((f.hash.as_str(), f.setup), ("sha-256", Some(Setup::Actpass)));
//! assert!(f.value.starts_with("02:1A:CC"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use moxl_core::xml::{Element, ElementBuilder};

use crate::xep_0166_jingle::JingleError;
use crate::xep_0167_rtp::{bad, req_attr};

/// `urn:xmpp:jingle:apps:dtls:0` (§6.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0320_dtls::NS, "urn:xmpp:jingle:apps:dtls:0");
/// ```
pub const NS: &str = "urn:xmpp:jingle:apps:dtls:0";

/// The DTLS role (`setup`, SDP `a=setup`, RFC 4145 §4; no mapping of `holdconn`, §1).
///
/// ```
/// use moxl_xep::xep_0320_dtls::Setup;
/// assert_eq!(Setup::from_str("passive"), Some(Setup::Passive));
/// assert_eq!(Setup::Actpass.to_string(), "actpass");
/// assert_eq!(Setup::from_str("holdconn"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// The party starts the DTLS handshake.
    Active,
    /// The party waits for it.
    Passive,
    /// Either (an offerer's usual choice, RFC 5763 §5).
    Actpass,
}

impl Setup {
    /// Reads the wire name.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(s: &str) -> Option<Setup> {
        match s {
            "active" => Some(Setup::Active),
            "passive" => Some(Setup::Passive),
            "actpass" => Some(Setup::Actpass),
            _ => None,
        }
    }

    /// The wire name.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0320_dtls::Setup::Active.as_str(), "active");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::Actpass => "actpass",
        }
    }
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `<fingerprint/>` (§1): the hash function (`sha-256`, …), the DTLS role, and the fingerprint as
/// colon-separated hex bytes.
///
/// ```
/// use moxl_xep::xep_0320_dtls::{Fingerprint, Setup};
/// let f = Fingerprint { hash: "sha-256".into(), setup: Some(Setup::Active), value: "02:1A".into() };
/// assert_eq!(f.to_builder().build()?.to_xml(), "<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>02:1A</fingerprint>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The hash function's name from the IANA registry (`hash`, REQUIRED).
    pub hash: String,
    /// The DTLS role (`setup`, REQUIRED by the schema; `None` when a peer left it out).
    pub setup: Option<Setup>,
    /// The fingerprint, upper-case hex bytes separated by colons (whitespace around it removed).
    pub value: String,
}

impl Fingerprint {
    /// Reads a `<fingerprint/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let e = Element::parse("<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='sideways'>00</fingerprint>")?;
    /// assert!(moxl_xep::xep_0320_dtls::Fingerprint::from_element(&e).is_err());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(e: &Element) -> Result<Fingerprint, JingleError> {
        let setup = match e.attr("setup") {
            None => None,
            Some(s) => Some(Setup::from_str(&s).ok_or_else(|| bad(format!("<fingerprint/> has a bad setup {s:?}")))?),
        };
        let value: String = e.text().split_whitespace().collect();
        if value.is_empty() {
            return Err(bad("<fingerprint/> is empty"));
        }
        Ok(Fingerprint { hash: req_attr(e, "hash")?, setup, value })
    }

    /// The `<fingerprint/>` element.
    ///
    /// ```
    /// let f = moxl_xep::xep_0320_dtls::Fingerprint { hash: "sha-1".into(), setup: None, value: "AB".into() };
    /// assert_eq!(f.to_builder().build()?.to_xml(), "<fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-1'>AB</fingerprint>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(&self) -> ElementBuilder {
        ElementBuilder::new("fingerprint", NS)
            .attr("hash", self.hash.clone())
            .attr_opt("setup", self.setup.map(|s| s.as_str()))
            .text(self.value.clone())
    }
}
