//! XEP-0352: Client State Indication. Tells the server whether the user is looking at the client (`active`) or
//! not (`inactive`, e.g. a phone with its screen off), so that it can hold back what is not urgent (presence
//! updates, chat states) until the client is active again (§1, §6).
//!
//! `<active/>` and `<inactive/>` are nonzas: top-level elements that are not stanzas (§4). Sent with
//! [`Context::send`] they go out as they are, are not counted by stream management (XEP-0198 counts only
//! `<message/>`, `<presence/>` and `<iq/>`: see `moxl_core::stream::is_counted`), and the server answers nothing
//! (§4). A client may send them only when the server offers `<csi xmlns='urn:xmpp:csi:0'/>` in its stream
//! features (§3): [`set_state`] checks that. The state belongs to the stream: a resumed session keeps it, a
//! fresh one (`ConnectionState::Reestablished`) starts `active` (§5), so send `inactive` again there if needed.
//! XEP-0352 defines no disco feature.

use moxl_core::Result;
use moxl_core::stream::StreamFeatures;
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};

/// `urn:xmpp:csi:0` (§3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0352_csi::NS, "urn:xmpp:csi:0");
/// ```
pub const NS: &str = "urn:xmpp:csi:0";

/// The state the client indicates.
///
/// ```
/// use moxl_xep::xep_0352_csi::ClientState;
/// assert_eq!(ClientState::Inactive.to_nonza().build()?.to_xml(), "<inactive xmlns='urn:xmpp:csi:0'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientState {
    /// The user is using the client (§4, Example 2).
    Active,
    /// The user is not (§4, Example 3).
    Inactive,
}

impl ClientState {
    /// The element name.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0352_csi::ClientState::Active.as_str(), "active");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ClientState::Active => "active",
            ClientState::Inactive => "inactive",
        }
    }

    /// The nonza: `<active xmlns='urn:xmpp:csi:0'/>` or `<inactive xmlns='urn:xmpp:csi:0'/>` (§4).
    pub fn to_nonza(self) -> ElementBuilder {
        ElementBuilder::new(self.as_str(), NS)
    }

    /// Reads a CSI nonza.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0352_csi::ClientState;
    /// let e = Element::parse("<active xmlns='urn:xmpp:csi:0'/>")?;
    /// assert_eq!(ClientState::from_element(&e), Some(ClientState::Active));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(element: &Element) -> Option<ClientState> {
        match (element.name(), element.ns()) {
            ("active", NS) => Some(ClientState::Active),
            ("inactive", NS) => Some(ClientState::Inactive),
            _ => None,
        }
    }
}

/// Whether the server offers client state indication (§3).
///
/// ```
/// use moxl_core::stream::StreamFeatures;
/// let mut features = StreamFeatures::default();
/// assert!(!moxl_xep::xep_0352_csi::supported(&features));
/// features.csi = true;
/// assert!(moxl_xep::xep_0352_csi::supported(&features));
/// ```
pub fn supported(features: &StreamFeatures) -> bool {
    features.csi
}

/// Sends `state` if the server offers CSI (`features`: the stream's, `Client::features()`); returns whether
/// it was sent.
///
/// ```
/// use moxl_core::stream::StreamFeatures;
/// use moxl_core::xec::Xec;
/// use moxl_xep::xep_0352_csi::{set_state, ClientState};
/// let xec = Xec::new()?;
/// let mut features = StreamFeatures::default();
/// assert!(!set_state(&xec.context(), &features, ClientState::Inactive)?);
/// assert!(xec.take_outgoing().is_empty(), "not offered: nothing sent (§3)");
/// features.csi = true;
/// assert!(set_state(&xec.context(), &features, ClientState::Inactive)?);
/// assert_eq!(xec.take_outgoing()[0].to_xml(), "<inactive xmlns='urn:xmpp:csi:0'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn set_state(ctx: &Context, features: &StreamFeatures, state: ClientState) -> Result<bool> {
    if !supported(features) {
        return Ok(false);
    }
    ctx.send(state.to_nonza())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonzas_are_not_counted_by_stream_management() {
        for state in [ClientState::Active, ClientState::Inactive] {
            let e = state.to_nonza().build().unwrap();
            assert!(!moxl_core::stream::is_counted(&e));
            assert_eq!(ClientState::from_element(&e), Some(state));
        }
        let chat_state = Element::parse("<active xmlns='http://jabber.org/protocol/chatstates'/>").unwrap();
        assert_eq!(ClientState::from_element(&chat_state), None);
    }
}
