//! XEP-0425: Moderated Message Retraction. A room moderator asks the room to retract an occupant's message,
//! named by the stanza id the room stamped on it (XEP-0359); the room tells every occupant (§ "Use Case").
//!
//! Two versions are deployed, and both are spoken:
//! - `urn:xmpp:message-moderate:1` (0.3 and later): `<moderate id='…'>` in the iq, and the notice is a
//!   XEP-0424 `<retract id='…'>` holding `<moderated by='…'/>`.
//! - `urn:xmpp:message-moderate:0` (0.2): the same wrapped in a XEP-0422 `<apply-to id='…'>`.
//!
//! [`Version::of_features`] picks the one a room announces; [`Moderate`] sends it; the [`Moderations`] Payload
//! delivers each notice as a [`Moderation`] (Packet key `messagemoderated`). § "Business Rules": only notices
//! from the room itself (its bare JID) count; any other is dropped, since an occupant could forge one.
//!
//! ```
//! use moxl_xep::xep_0425_moderation::{Moderate, Version};
//! # async fn run(ctx: &moxl_core::xec::Context, room_features: &[String]) -> moxl_core::Result<()> {
//! let version = Version::of_features(room_features).expect("the room moderates");
//! let moderate = Moderate::new("room@muc.example.com", "stanza-id-1", version).reason("Spam");
//! ctx.request(moderate)?.await?;
//! # Ok(()) }
//! ```

use std::borrow::Cow;

use moxl_core::jid::Jid;
use moxl_core::stanza::{StanzaError, iq_set};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0421_occupant_id;
use crate::xep_0424_retraction as retraction;

/// `urn:xmpp:message-moderate:1`.
///
/// ```
/// assert_eq!(moxl_xep::xep_0425_moderation::NS_1, "urn:xmpp:message-moderate:1");
/// ```
pub const NS_1: &str = "urn:xmpp:message-moderate:1";

/// `urn:xmpp:message-moderate:0`.
pub const NS_0: &str = "urn:xmpp:message-moderate:0";

/// `urn:xmpp:fasten:0` (XEP-0422), the wrapper of version 0.
pub const FASTEN: &str = "urn:xmpp:fasten:0";

/// `urn:xmpp:message-retract:0`, the retraction namespace of version 0.
pub const RETRACT_0: &str = "urn:xmpp:message-retract:0";

moxl_core::feature!("urn:xmpp:message-moderate:1", "urn:xmpp:message-moderate:0");

/// Which version of the protocol a room speaks.
///
/// ```
/// use moxl_xep::xep_0425_moderation::Version;
/// assert_eq!(Version::of_features(&["urn:xmpp:message-moderate:0", "urn:xmpp:message-moderate:1"]), Some(Version::V1));
/// assert_eq!(Version::of_features(&["http://jabber.org/protocol/muc"]), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Version {
    /// `urn:xmpp:message-moderate:0`, inside XEP-0422's `<apply-to/>`.
    V0,
    /// `urn:xmpp:message-moderate:1`.
    #[default]
    V1,
}

impl Version {
    /// The newest version among a room's disco#info features (§ "Discovering support"); `None` if the room
    /// does not moderate.
    pub fn of_features<S: AsRef<str>>(features: &[S]) -> Option<Version> {
        let has = |ns: &str| features.iter().any(|f| f.as_ref() == ns);
        if has(NS_1) {
            Some(Version::V1)
        } else if has(NS_0) {
            Some(Version::V0)
        } else {
            None
        }
    }

    /// The namespace of this version.
    pub fn ns(self) -> &'static str {
        match self {
            Version::V0 => NS_0,
            Version::V1 => NS_1,
        }
    }
}

/// Asks `room` to retract the message it stamped `stanza_id`, with an optional reason. Its `Output` is the
/// stanza id; the room's refusal (`forbidden` for a non-moderator, `item-not-found`…) is the request's error.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `moderation_moderate_handle` | the stanza id (`String`) |
/// | error | `moderation_moderate_error<condition>` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0425_moderation::{Moderate, Version};
/// let iq = Moderate::new("room@muc.example.com", "stanza-id-1", Version::V1)
///     .reason("This message contains inappropriate content for this forum")
///     .request_stanza()
///     .build()?;
/// assert!(iq.to_xml().contains("<moderate xmlns='urn:xmpp:message-moderate:1' id='stanza-id-1'>\
///     <retract xmlns='urn:xmpp:message-retract:1'/><reason>This message contains inappropriate content for this forum</reason></moderate>"));
/// let v0 = Moderate::new("room@muc.example.com", "stanza-id-1", Version::V0).request_stanza().build()?;
/// assert!(v0.to_xml().contains("<apply-to xmlns='urn:xmpp:fasten:0' id='stanza-id-1'><moderate xmlns='urn:xmpp:message-moderate:0'>\
///     <retract xmlns='urn:xmpp:message-retract:0'/></moderate></apply-to>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Moderate {
    room: String,
    stanza_id: String,
    reason: Option<String>,
    version: Version,
}

impl Moderate {
    /// The retraction of the message `room` stamped `stanza_id`, in `version`.
    pub fn new(room: impl Into<String>, stanza_id: impl Into<String>, version: Version) -> Moderate {
        Moderate { room: room.into(), stanza_id: stanza_id.into(), reason: None, version }
    }

    /// With a reason, shown to the occupants.
    pub fn reason(mut self, reason: impl Into<String>) -> Moderate {
        self.reason = Some(reason.into());
        self
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        let reason = |m: ElementBuilder, ns: &'static str| match &self.reason {
            Some(r) => m.append(ElementBuilder::new("reason", ns).text(r.clone())),
            None => m,
        };
        let body = match self.version {
            Version::V1 => reason(
                ElementBuilder::new("moderate", NS_1)
                    .attr("id", self.stanza_id.clone())
                    .append(ElementBuilder::new("retract", retraction::NS)),
                NS_1,
            ),
            Version::V0 => ElementBuilder::new("apply-to", FASTEN).attr("id", self.stanza_id.clone()).append(reason(
                ElementBuilder::new("moderate", NS_0).append(ElementBuilder::new("retract", RETRACT_0)),
                NS_0,
            )),
        };
        iq_set(Some(&self.room)).append(body)
    }
}

#[action(group = "moderation")]
impl Moderate {
    /// The moderated message's stanza id.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<String> {
        Ok(self.stanza_id.clone())
    }
}

/// A room's notice that a message was moderated.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0425_moderation::{Moderation, Version};
/// let m = Element::parse("<message xmlns='jabber:client' type='groupchat' id='retraction-id-1' from='room@muc.example.com' to='room@muc.example.com/macbeth'>\
///     <retract id='stanza-id-1' xmlns='urn:xmpp:message-retract:1'>\
///     <moderated by='room@muc.example.com/macbeth' xmlns='urn:xmpp:message-moderate:1'>\
///     <occupant-id xmlns='urn:xmpp:occupant-id:0' id='dd72603deec90a38ba552f7c68cbcc61bca202cd'/></moderated>\
///     <reason>This message contains inappropriate content for this forum</reason></retract></message>")?;
/// let n = Moderation::from_message(&m).unwrap();
/// assert_eq!((n.room.as_str(), n.stanza_id.as_str(), n.version), ("room@muc.example.com", "stanza-id-1", Version::V1));
/// assert_eq!(n.by.as_deref(), Some("room@muc.example.com/macbeth"));
/// assert_eq!(n.occupant_id.as_deref(), Some("dd72603deec90a38ba552f7c68cbcc61bca202cd"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Moderation {
    /// The room (the notice's sender, a bare JID).
    pub room: String,
    /// The stanza id of the moderated message.
    pub stanza_id: String,
    /// The moderator, as the room names it (occupant JID or real JID).
    pub by: Option<String>,
    /// The moderator's occupant id (XEP-0421), if the room gave one.
    pub occupant_id: Option<String>,
    /// The reason.
    pub reason: Option<String>,
    /// The version of the notice.
    pub version: Version,
}

impl Moderation {
    /// Reads a moderation notice: a groupchat message from a bare JID (the room itself, § "Business Rules")
    /// whose `<retract/>` (version 1) or `<apply-to/>` (version 0) holds `<moderated/>`. `None` otherwise.
    pub fn from_message(stanza: &Element) -> Option<Moderation> {
        if !stanza.is("message", ns::CLIENT) || stanza.attr("type").as_deref() != Some("groupchat") {
            return None;
        }
        let room = Jid::new(&stanza.attr("from")?).ok()?;
        if room.resource().is_some() {
            return None;
        }
        let (wrapper, moderated, version) = match stanza.child("retract", retraction::NS) {
            Some(r) => {
                let m = r.child("moderated", NS_1)?;
                (r, m, Version::V1)
            }
            None => {
                let a = stanza.child("apply-to", FASTEN)?;
                let m = a.child("moderated", NS_0)?;
                (a, m, Version::V0)
            }
        };
        let text = |e: &Element, ns: &str| e.child_text("reason", ns);
        Some(Moderation {
            room: room.to_string(),
            stanza_id: wrapper.attr("id").filter(|id| !id.is_empty())?.into_owned(),
            by: moderated.attr("by").filter(|b| !b.is_empty()).map(Cow::into_owned),
            occupant_id: xep_0421_occupant_id::occupant_id(&moderated),
            // Version 1 puts the reason beside <moderated/>, version 0 inside it.
            reason: text(&wrapper, retraction::NS).or_else(|| text(&moderated, version.ns())),
            version,
        })
    }
}

/// Delivers each version-1 moderation notice from a room as a [`Moderation`] (Packet key `messagemoderated`;
/// version 0's come from [`LegacyModerations`], and `events::<Moderation>()` gets both).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut moderated = xec.events::<moxl_xep::xep_0425_moderation::Moderation>();
/// while let Some(m) = moderated.recv().await {
///     println!("{} removed {} in {}", m.by.as_deref().unwrap_or("a moderator"), m.stanza_id, m.room);
/// }
/// # }
/// ```
#[payload(name = "moderated", ns = "urn:xmpp:message-moderate:1", key = "messagemoderated", at = "any")]
#[derive(Debug, Default)]
pub struct Moderations;

impl Payload for Moderations {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<Moderation>()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        deliver(ctx, stanza, Version::V1);
        Ok(())
    }
}

/// The same for version 0's notices (Packet key `messagemoderated0`).
#[payload(name = "moderated", ns = "urn:xmpp:message-moderate:0", key = "messagemoderated0", at = "any")]
#[derive(Debug, Default)]
pub struct LegacyModerations;

impl Payload for LegacyModerations {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<Moderation>()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        deliver(ctx, stanza, Version::V0);
        Ok(())
    }
}

/// Delivers the notice a stanza holds, if it is one of `version`.
fn deliver(ctx: &Context, stanza: &Element, version: Version) {
    if let Some(m) = Moderation::from_message(stanza).filter(|m| m.version == version) {
        ctx.pack(m).deliver();
    }
}

/// Whether an error answer to a [`Moderate`] means the sender may not moderate (not a moderator of the room).
///
/// ```
/// use moxl_core::stanza::StanzaError;
/// use moxl_core::xml::Element;
/// let iq = Element::parse("<iq xmlns='jabber:client' type='error'><error type='auth'>\
///     <forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")?;
/// assert!(moxl_xep::xep_0425_moderation::is_not_allowed(&StanzaError::from_stanza(&iq).unwrap()));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn is_not_allowed(error: &StanzaError) -> bool {
    matches!(error.condition_name(), "forbidden" | "not-allowed" | "not-authorized")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    #[test]
    fn notices_of_both_versions_are_read_and_forged_ones_dropped() {
        let xec = Xec::new().unwrap();
        let mut notices = xec.events::<Moderation>();
        let mut retractions = xec.subscribe("messageretraction");
        // § "Use Case" of version 0.2: the notice in <apply-to/>
        let v0 = "<message xmlns='jabber:client' type='groupchat' id='retraction-id-1' from='room@muc.example.com' to='room@muc.example.com/macbeth'>\
            <apply-to id='stanza-id-1' xmlns='urn:xmpp:fasten:0'><moderated by='room@muc.example.com/macbeth' xmlns='urn:xmpp:message-moderate:0'>\
            <retract xmlns='urn:xmpp:message-retract:0'/><reason>Spam</reason></moderated></apply-to></message>";
        block_on(xec.dispatch(Element::parse(v0).unwrap()));
        let n = notices.try_recv().unwrap();
        assert_eq!((n.version, n.stanza_id.as_str(), n.reason.as_deref()), (Version::V0, "stanza-id-1", Some("Spam")));

        let v1 = "<message xmlns='jabber:client' type='groupchat' from='FROM'><retract id='s2' xmlns='urn:xmpp:message-retract:1'>\
            <moderated by='room@muc.example.com/macbeth' xmlns='urn:xmpp:message-moderate:1'/><reason>Off topic</reason></retract></message>";
        // an occupant cannot moderate by writing a notice
        block_on(xec.dispatch(Element::parse(&v1.replace("FROM", "room@muc.example.com/oldhag")).unwrap()));
        assert!(notices.try_recv().is_none());
        block_on(xec.dispatch(Element::parse(&v1.replace("FROM", "room@muc.example.com")).unwrap()));
        let n = notices.try_recv().unwrap();
        assert_eq!((n.version, n.stanza_id.as_str(), n.reason.as_deref()), (Version::V1, "s2", Some("Off topic")));
        // a moderation is not the sender's own retraction (XEP-0424)
        assert!(retractions.try_recv().is_none());
        // not a groupchat message: nothing
        block_on(xec.dispatch(
            Element::parse(&v1.replace("groupchat", "chat").replace("FROM", "room@muc.example.com")).unwrap(),
        ));
        assert!(notices.try_recv().is_none());
    }
}
