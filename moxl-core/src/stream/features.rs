//! [`StreamFeatures`]: a typed view of `<stream:features/>` (RFC 6120 §4.3.2).

use crate::xml::{ns, Element};

/// Namespaces of the features read here.
pub mod feature_ns {
    /// STARTTLS (RFC 6120 §5.4.1).
    pub const TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
    /// SASL (RFC 6120 §6.4.1).
    pub const SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
    /// Resource binding (RFC 6120 §7.4).
    pub const BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
    /// The legacy session establishment (RFC 3921 §3, made optional by RFC 6121 Appendix E).
    pub const SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
    /// Extensible SASL Profile (XEP-0388 §2.1).
    pub const SASL2: &str = "urn:xmpp:sasl:2";
    /// Bind 2 (XEP-0386 §2).
    pub const BIND2: &str = "urn:xmpp:bind:0";
    /// Fast Authentication Streamlining Tokens (XEP-0484 §3).
    pub const FAST: &str = "urn:xmpp:fast:0";
    /// SASL channel-binding types (XEP-0440 §2).
    pub const SASL_CB: &str = "urn:xmpp:sasl-cb:0";
    /// Stream management, version 3 (XEP-0198 §2).
    pub const SM3: &str = "urn:xmpp:sm:3";
    /// Stream management, version 2 (XEP-0198 §2).
    pub const SM2: &str = "urn:xmpp:sm:2";
    /// In-band registration (XEP-0077 §4).
    pub const REGISTER: &str = "http://jabber.org/features/iq-register";
    /// Roster versioning (RFC 6121 §2.6.1).
    pub const ROSTER_VER: &str = "urn:xmpp:features:rosterver";
    /// Client state indication (XEP-0352 §3).
    pub const CSI: &str = "urn:xmpp:csi:0";
}

use feature_ns as fns;

/// What XEP-0388 (SASL2) offers, with the features it can negotiate inline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sasl2Offer {
    /// Mechanisms offered through SASL2.
    pub mechanisms: Vec<String>,
    /// Bind 2 (XEP-0386) can be negotiated inline.
    pub bind2: bool,
    /// Stream management (XEP-0198) can be enabled or resumed inline.
    pub sm: bool,
    /// FAST (XEP-0484) token mechanisms offered inline.
    pub fast_mechanisms: Vec<String>,
}

/// The features a server offers at one stage of stream negotiation.
///
/// ```
/// use moxl_core::stream::StreamFeatures;
/// use moxl_core::xml::Element;
/// // RFC 6120 §9.1.1, Step 2
/// let f = Element::parse(
///     "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
///        <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>",
/// )?;
/// let f = StreamFeatures::from_element(&f).unwrap();
/// assert_eq!(f.starttls, Some(true));
/// assert!(f.mechanisms.is_empty());
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamFeatures {
    /// STARTTLS is offered; `Some(true)` when the server says it is required.
    pub starttls: Option<bool>,
    /// SASL mechanisms (RFC 6120 §6.4.1), in the order the server listed them (which means nothing).
    pub mechanisms: Vec<String>,
    /// SASL2 (XEP-0388), if offered.
    pub sasl2: Option<Sasl2Offer>,
    /// Channel-binding types the server supports (XEP-0440), e.g. `tls-exporter`, `tls-server-end-point`.
    pub channel_binding_types: Vec<String>,
    /// Resource binding is offered (RFC 6120 §7.4).
    pub bind: bool,
    /// A legacy session must be established (RFC 3921): offered and not marked `<optional/>`.
    pub session_required: bool,
    /// Stream management versions offered (XEP-0198): 3 and/or 2.
    pub sm: Vec<u8>,
    /// In-band registration is offered (XEP-0077).
    pub register: bool,
    /// Roster versioning is supported (RFC 6121 §2.6).
    pub roster_ver: bool,
    /// Client state indication is supported (XEP-0352).
    pub csi: bool,
}

impl StreamFeatures {
    /// Reads a `<stream:features/>` element; `None` if it is something else.
    pub fn from_element(features: &Element) -> Option<StreamFeatures> {
        if !features.is("features", ns::STREAM) {
            return None;
        }
        let mut out = StreamFeatures::default();
        for f in features.children() {
            match (f.ns(), f.name()) {
                (fns::TLS, "starttls") => out.starttls = Some(f.child("required", fns::TLS).is_some()),
                (fns::SASL, "mechanisms") => out.mechanisms = mechanism_names(&f, fns::SASL),
                (fns::SASL2, "authentication") => {
                    let inline = f.child("inline", fns::SASL2);
                    out.sasl2 = Some(Sasl2Offer {
                        mechanisms: mechanism_names(&f, fns::SASL2),
                        bind2: inline.as_ref().and_then(|i| i.child("bind", fns::BIND2)).is_some(),
                        sm: inline.as_ref().and_then(|i| i.child("sm", fns::SM3)).is_some(),
                        fast_mechanisms: inline
                            .as_ref()
                            .and_then(|i| i.child("fast", fns::FAST))
                            .map(|fast| mechanism_names(&fast, fns::FAST))
                            .unwrap_or_default(),
                    });
                }
                (fns::SASL_CB, "sasl-channel-binding") => {
                    out.channel_binding_types = f
                        .children()
                        .filter(|c| c.is("channel-binding", fns::SASL_CB))
                        .filter_map(|c| c.attr("type").map(|t| t.into_owned()))
                        .collect();
                }
                (fns::BIND, "bind") => out.bind = true,
                (fns::SESSION, "session") => out.session_required = f.child("optional", fns::SESSION).is_none(),
                (fns::SM3, "sm") => out.sm.push(3),
                (fns::SM2, "sm") => out.sm.push(2),
                (fns::REGISTER, "register") => out.register = true,
                (fns::ROSTER_VER, "ver") => out.roster_ver = true,
                (fns::CSI, "csi") => out.csi = true,
                _ => {}
            }
        }
        Some(out)
    }
}

fn mechanism_names(parent: &Element, ns: &str) -> Vec<String> {
    parent.children().filter(|m| m.is("mechanism", ns)).map(|m| m.text().trim().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(xml: &str) -> StreamFeatures {
        let wrapped =
            format!("<stream:features xmlns:stream='http://etherx.jabber.org/streams'>{xml}</stream:features>");
        Element::parse(&wrapped).ok().and_then(|e| StreamFeatures::from_element(&e)).unwrap_or_default()
    }

    #[test]
    fn rfc6120_examples() {
        // §9.1.2 Step 6 (SASL offer after TLS), §9.1.3 Step 12 (bind)
        let f = features(
            "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1-PLUS</mechanism>\
             <mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>",
        );
        assert_eq!(f.mechanisms, ["SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN"]);
        assert_eq!(f.starttls, None);
        assert!(!f.bind);
        let f = features("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>");
        assert!(f.bind && !f.session_required);
        let f = features("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        assert_eq!(f.starttls, Some(false));
    }

    #[test]
    fn sasl2_bind2_sm_fast_and_channel_binding() {
        // XEP-0388 §2.1, XEP-0386 §2, XEP-0484 §3, XEP-0440 §2
        let f = features(
            "<authentication xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-256-PLUS</mechanism>\
             <inline><bind xmlns='urn:xmpp:bind:0'/><sm xmlns='urn:xmpp:sm:3'/>\
             <fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism></fast></inline></authentication>\
             <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-server-end-point'/>\
             <channel-binding type='tls-exporter'/></sasl-channel-binding>\
             <sm xmlns='urn:xmpp:sm:3'/><sm xmlns='urn:xmpp:sm:2'/><ver xmlns='urn:xmpp:features:rosterver'/>\
             <csi xmlns='urn:xmpp:csi:0'/><register xmlns='http://jabber.org/features/iq-register'/>",
        );
        let sasl2 = f.sasl2.clone().unwrap_or_default();
        assert_eq!(sasl2.mechanisms, ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"]);
        assert!(sasl2.bind2 && sasl2.sm);
        assert_eq!(sasl2.fast_mechanisms, ["HT-SHA-256-NONE"]);
        assert_eq!(f.channel_binding_types, ["tls-server-end-point", "tls-exporter"]);
        assert_eq!(f.sm, [3, 2]);
        assert!(f.roster_ver && f.csi && f.register);
    }

    #[test]
    fn not_features() {
        let e = Element::parse("<features xmlns='urn:x'/>").ok();
        assert!(e.and_then(|e| StreamFeatures::from_element(&e)).is_none());
    }
}
