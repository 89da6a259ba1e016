//! XEP-0353: Jingle Message Initiation (version 0.8.0, namespace `urn:xmpp:jingle-message:0`). Messages that
//! ring all of a contact's devices before the Jingle session of XEP-0166 starts: [`propose`], [`ringing`],
//! [`proceed`], [`reject`], [`retract`] and [`finish`] (§3), with the tie-breaks of §4 ([`reject_tie_break`],
//! [`retract_tie_break`], [`finish_migrated`]). Each one received is delivered as a [`JingleMessage`] (Packet key
//! `jinglemessage`, from the [`JingleMessages`] Payload).
//!
//! Every device of both parties sees every message (§5: carbons and the archive): a [`JingleMessage`] is read
//! the same way whichever way it went, with its `from` and `to`, and its [`copy`](JingleMessage::copy) says when it
//! is a carbon of a message one of our other devices sent or received: a `proceed` or `reject` sent by another
//! of our devices tells this one to stop ringing. The id of the proposal is the sid of the Jingle session
//! that follows ([`crate::xep_0166_jingle`]).
//!
//! Sending, with the state this client keeps: [`send_propose`] (a fresh UUIDv4 id, remembered until answered),
//! [`send_ringing`], [`send_proceed`] and [`send_reject`] (answers to a received proposal, to the initiator's
//! bare JID, so that every device of both parties sees them), [`send_retract`], [`send_finish`]. A proposal
//! from a contact we proposed to ourselves (crossing proposals, §4.1) is settled on arrival: the tie-break
//! message is sent and the [`JingleMessage::crossed`] says who won. [`JingleMessage::stops_ringing`] says when
//! a ringing device stops: another of our devices took or declined the call (a carbon of its `proceed` or
//! `reject`), or the initiator retracted.
//!
//! | event | typed view | Packet key |
//! |---|---|---|
//! | any of the six messages, received or a carbon | [`JingleMessage`] | `jinglemessage` |
//!
//! §7 (security): answering a proposal reveals presence; send [`ringing`] or [`proceed`] only with the user's
//! consent or to contacts the user allows.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::stanza::message;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};

use crate::rfc6121_message::is_extension_of;
use crate::xep_0166_jingle::{Reason, ReasonCondition, initiate_wins};
use crate::xep_0280_carbons::Direction;
use crate::xep_0334_hints::Hint;

/// `urn:xmpp:jingle-message:0` (§3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0353_jmi::NS, "urn:xmpp:jingle-message:0");
/// ```
pub const NS: &str = "urn:xmpp:jingle-message:0";

/// What a Jingle message says (§3).
///
/// ```
/// use moxl_xep::xep_0353_jmi::Kind;
/// assert_eq!(Kind::from_name("proceed"), Some(Kind::Proceed));
/// assert_eq!(Kind::Retract.name(), "retract");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// The initiator intends to start a session (§3.1).
    Propose,
    /// A device of the responder rings (§3.2).
    Ringing,
    /// The initiator no longer intends to (§3.3).
    Retract,
    /// The responder takes the call on the device that sent it (§3.4).
    Proceed,
    /// The responder declines (§3.5).
    Reject,
    /// The session is over (§3.7).
    Finish,
}

impl Kind {
    const ALL: [Kind; 6] = [Kind::Propose, Kind::Ringing, Kind::Retract, Kind::Proceed, Kind::Reject, Kind::Finish];

    /// The element name.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0353_jmi::Kind::Propose.name(), "propose");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Kind::Propose => "propose",
            Kind::Ringing => "ringing",
            Kind::Retract => "retract",
            Kind::Proceed => "proceed",
            Kind::Reject => "reject",
            Kind::Finish => "finish",
        }
    }

    /// The kind of an element name.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0353_jmi::Kind::from_name("accept"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether it ends the call attempt or the call: reject, retract, finish.
    ///
    /// ```
    /// assert!(moxl_xep::xep_0353_jmi::Kind::Reject.is_final());
    /// assert!(!moxl_xep::xep_0353_jmi::Kind::Ringing.is_final());
    /// ```
    pub fn is_final(self) -> bool {
        matches!(self, Kind::Reject | Kind::Retract | Kind::Finish)
    }
}

/// The message carrying `child` to `to`: `type='chat'` with a `<store/>` hint, as §3 requires of them all.
fn jmi_message(to: &str, child: ElementBuilder) -> ElementBuilder {
    message(to, "chat", None).append(child).append(Hint::Store.element())
}

fn element(kind: Kind, id: &str, reason: Option<&Reason>) -> ElementBuilder {
    let e = ElementBuilder::new(kind.name(), NS).attr("id", id.to_owned());
    match reason {
        Some(r) => e.append(r.to_builder()),
        None => e,
    }
}

/// A proposal to the contact's bare JID `to` (so that every device rings, §3.1): `id` is globally unique (a
/// UUIDv4, §5) and becomes the Jingle sid; one `<description/>` per media of the intended session.
///
/// ```
/// use moxl_core::xml::Element;
/// // §3.1, Example 1
/// let audio = Element::parse("<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/>")?;
/// let m = moxl_xep::xep_0353_jmi::propose("juliet@capulet.example", "ca3cf894-5325-482f-a412-a6e9f832298d", &[audio]).build()?;
/// assert_eq!(
///     m.to_xml(),
///     "<message xmlns='jabber:client' to='juliet@capulet.example' type='chat'>\
///      <propose xmlns='urn:xmpp:jingle-message:0' id='ca3cf894-5325-482f-a412-a6e9f832298d'>\
///      <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose><store xmlns='urn:xmpp:hints'/></message>"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn propose(to: &str, id: &str, descriptions: &[Element]) -> ElementBuilder {
    let p = descriptions.iter().fold(element(Kind::Propose, id, None), |p, d| p.append(d.clone()));
    jmi_message(to, p)
}

/// "This device rings", to the initiator: its bare JID (§3.2), so that all its devices and, by carbons, ours see it.
///
/// ```
/// // §3.2, Example 3
/// let m = moxl_xep::xep_0353_jmi::ringing("romeo@montague.example/orchard", "ca3cf894-5325-482f-a412-a6e9f832298d").build()?;
/// assert_eq!(
///     m.to_xml(),
///     "<message xmlns='jabber:client' to='romeo@montague.example/orchard' type='chat'>\
///      <ringing xmlns='urn:xmpp:jingle-message:0' id='ca3cf894-5325-482f-a412-a6e9f832298d'/><store xmlns='urn:xmpp:hints'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn ringing(to: &str, id: &str) -> ElementBuilder {
    jmi_message(to, element(Kind::Ringing, id, None))
}

/// The call is taken on this device, to the initiator's bare JID (§3.4); the initiator then sends the Jingle
/// session-initiate to this device.
///
/// ```
/// let m = moxl_xep::xep_0353_jmi::proceed("romeo@montague.example/orchard", "ca3cf894-5325-482f-a412-a6e9f832298d").build()?;
/// assert!(m.to_xml().contains("<proceed xmlns='urn:xmpp:jingle-message:0' id='ca3cf894-5325-482f-a412-a6e9f832298d'/>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn proceed(to: &str, id: &str) -> ElementBuilder {
    jmi_message(to, element(Kind::Proceed, id, None))
}

/// The call is declined, to the initiator's bare JID (§3.5; the reason SHOULD be `<busy/>`, §7).
///
/// ```
/// use moxl_xep::xep_0166_jingle::{Reason, ReasonCondition};
/// // §3.5, Example 7
/// let busy = Reason::new(ReasonCondition::Busy).with_text("Busy");
/// let m = moxl_xep::xep_0353_jmi::reject("romeo@montague.example/orchard", "ca3cf894-5325-482f-a412-a6e9f832298d", Some(&busy)).build()?;
/// assert_eq!(
///     m.to_xml(),
///     "<message xmlns='jabber:client' to='romeo@montague.example/orchard' type='chat'>\
///      <reject xmlns='urn:xmpp:jingle-message:0' id='ca3cf894-5325-482f-a412-a6e9f832298d'>\
///      <reason xmlns='urn:xmpp:jingle:1'><busy/><text>Busy</text></reason></reject><store xmlns='urn:xmpp:hints'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn reject(to: &str, id: &str, reason: Option<&Reason>) -> ElementBuilder {
    jmi_message(to, element(Kind::Reject, id, reason))
}

/// The proposal is withdrawn, to the contact's bare JID (§3.3; the reason SHOULD be `<cancel/>`, §7).
///
/// ```
/// use moxl_xep::xep_0166_jingle::{Reason, ReasonCondition};
/// let cancel = Reason::new(ReasonCondition::Cancel).with_text("Retracted");
/// let m = moxl_xep::xep_0353_jmi::retract("juliet@capulet.example", "ca3cf894-5325-482f-a412-a6e9f832298d", Some(&cancel)).build()?;
/// assert!(m.to_xml().contains("<retract xmlns='urn:xmpp:jingle-message:0' id='ca3cf894-5325-482f-a412-a6e9f832298d'><reason xmlns='urn:xmpp:jingle:1'><cancel/>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn retract(to: &str, id: &str, reason: Option<&Reason>) -> ElementBuilder {
    jmi_message(to, element(Kind::Retract, id, reason))
}

/// The session is over, to the other party's bare JID (§3.7; the reason SHOULD be `<success/>` or
/// `<expired/>`, §7). Both parties send one.
///
/// ```
/// use moxl_xep::xep_0166_jingle::{Reason, ReasonCondition};
/// let done = Reason::new(ReasonCondition::Success).with_text("Success");
/// let m = moxl_xep::xep_0353_jmi::finish("juliet@capulet.example/phone", "ca3cf894-5325-482f-a412-a6e9f832298d", Some(&done)).build()?;
/// assert!(m.to_xml().contains("<finish xmlns='urn:xmpp:jingle-message:0' id='ca3cf894-5325-482f-a412-a6e9f832298d'><reason xmlns='urn:xmpp:jingle:1'><success/><text>Success</text></reason></finish>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn finish(to: &str, id: &str, reason: Option<&Reason>) -> ElementBuilder {
    jmi_message(to, element(Kind::Finish, id, reason))
}

fn tie_break(kind: Kind, to: &str, id: &str) -> ElementBuilder {
    let expired = Reason::new(ReasonCondition::Expired).with_text("Tie-Break");
    jmi_message(to, element(kind, id, Some(&expired)).append(ElementBuilder::new("tie-break", NS)))
}

/// Crossing proposals, no session yet (§4.1): the one who received the proposal with the *higher* id rejects it
/// with this (`<expired/>` and `<tie-break/>`). Which id is lower:
/// [`initiate_wins`](crate::xep_0166_jingle::initiate_wins), as for Jingle.
///
/// ```
/// let m = moxl_xep::xep_0353_jmi::reject_tie_break("juliet@capulet.example", "fecbea35-08d3-404f-9ec7-2b57c566fa74").build()?;
/// assert!(m.to_xml().contains("<reason xmlns='urn:xmpp:jingle:1'><expired/><text>Tie-Break</text></reason><tie-break/></reject>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn reject_tie_break(to: &str, id: &str) -> ElementBuilder {
    tie_break(Kind::Reject, to, id)
}

/// Crossing proposals (§4.1): the one who received the proposal with the *lower* id retracts its own (higher)
/// proposal with this, then answers the other proposal as usual.
///
/// ```
/// let m = moxl_xep::xep_0353_jmi::retract_tie_break("romeo@montague.example/orchard", "fecbea35-08d3-404f-9ec7-2b57c566fa74").build()?;
/// assert!(m.to_xml().contains("<retract xmlns='urn:xmpp:jingle-message:0' id='fecbea35-08d3-404f-9ec7-2b57c566fa74'>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn retract_tie_break(to: &str, id: &str) -> ElementBuilder {
    tie_break(Kind::Retract, to, id)
}

/// A proposal from a peer we still have a session with (§4.2): the old session `id` is finished as migrated to
/// `new_id` (`<expired/>`, `<migrated/>`), then the new one is accepted with [`proceed`].
///
/// ```
/// // §4.2, Example 11
/// let m = moxl_xep::xep_0353_jmi::finish_migrated("juliet@capulet.example", "ca3cf894-5325-482f-a412-a6e9f832298d",
///     "989a46a6-f202-4910-a7c3-83c6ba3f3947").build()?;
/// assert_eq!(
///     m.to_xml(),
///     "<message xmlns='jabber:client' to='juliet@capulet.example' type='chat'>\
///      <finish xmlns='urn:xmpp:jingle-message:0' id='ca3cf894-5325-482f-a412-a6e9f832298d'>\
///      <reason xmlns='urn:xmpp:jingle:1'><expired/><text>Session migrated</text></reason>\
///      <migrated to='989a46a6-f202-4910-a7c3-83c6ba3f3947'/></finish><store xmlns='urn:xmpp:hints'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn finish_migrated(to: &str, id: &str, new_id: &str) -> ElementBuilder {
    let expired = Reason::new(ReasonCondition::Expired).with_text("Session migrated");
    let migrated = ElementBuilder::new("migrated", NS).attr("to", new_id.to_owned());
    jmi_message(to, element(Kind::Finish, id, Some(&expired)).append(migrated))
}

/// A Jingle message, read the same way whichever way it went.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0353_jmi::{JingleMessage, Kind};
/// // §3.4, Example 5
/// let m = Element::parse("<message xmlns='jabber:client' from='juliet@capulet.example/phone' to='romeo@montague.example/orchard' type='chat'>\
///     <proceed xmlns='urn:xmpp:jingle-message:0' id='ca3cf894-5325-482f-a412-a6e9f832298d'/><store xmlns='urn:xmpp:hints'/></message>")?;
/// let j = JingleMessage::from_message(&m).unwrap();
/// assert_eq!((j.kind, j.id.as_str()), (Kind::Proceed, "ca3cf894-5325-482f-a412-a6e9f832298d"));
/// assert_eq!(j.from.as_deref(), Some("juliet@capulet.example/phone"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JingleMessage {
    /// What it says.
    pub kind: Kind,
    /// The proposal's id, the sid of the Jingle session.
    pub id: String,
    /// The sender (full JID: the device that rang, proceeded, rejected).
    pub from: Option<String>,
    /// The addressee.
    pub to: Option<String>,
    /// Of a proposal: the `<description/>` of each media.
    pub descriptions: Vec<Element>,
    /// The reason (reject, retract, finish).
    pub reason: Option<Reason>,
    /// A tie-break reject or retract (§4.1).
    pub tie_break: bool,
    /// Of a finish: the id of the session this one migrated to (§4.2).
    pub migrated_to: Option<String>,
    /// When it came as a carbon (XEP-0280): `Sent` for a message another of our devices sent (another device took
    /// or declined the call: stop ringing here), `Received` for one another of our devices received.
    pub copy: Option<Direction>,
    /// Of a proposal that crossed one of ours to the same contact (§4.1), made with [`send_propose`]: how the tie
    /// was broken (the tie-break message is already sent).
    pub crossed: Option<TieBreak>,
}

/// How crossing proposals were resolved (§4.1: the lower id wins, in `i;octet` order, then the lower JID).
///
/// ```
/// use moxl_xep::xep_0353_jmi::TieBreak;
/// let t = TieBreak::TheirsWins { retracted: "b".into() };
/// assert!(t.ring());
/// assert!(!TieBreak::OursWins { ours: "a".into() }.ring());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TieBreak {
    /// Our proposal `ours` has the lower id: theirs was rejected with `<tie-break/>`. Do not ring; ours goes on.
    OursWins {
        /// Our proposal's id.
        ours: String,
    },
    /// Theirs has the lower id: our proposal `retracted` was retracted with `<tie-break/>`. Answer theirs as
    /// usual (ring, then proceed or reject).
    TheirsWins {
        /// Our retracted proposal's id.
        retracted: String,
    },
}

impl TieBreak {
    /// Whether the proposal still calls for an answer (ring).
    ///
    /// ```
    /// assert!(moxl_xep::xep_0353_jmi::TieBreak::TheirsWins { retracted: "x".into() }.ring());
    /// ```
    pub fn ring(&self) -> bool {
        matches!(self, TieBreak::TheirsWins { .. })
    }
}

impl JingleMessage {
    /// Reads a message with one of the elements of §3; `None` without one, without an id, or for an error
    /// message. [`copy`](JingleMessage::copy) is `None`: the Payload fills it in.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0353_jmi::{JingleMessage, Kind};
    /// let m = Element::parse("<message xmlns='jabber:client' from='juliet@capulet.example/phone' to='romeo@montague.example/orchard' type='chat'>\
    ///     <reject xmlns='urn:xmpp:jingle-message:0' id='a'><reason xmlns='urn:xmpp:jingle:1'><busy/></reason></reject></message>")?;
    /// let j = JingleMessage::from_message(&m).unwrap();
    /// assert_eq!((j.kind, j.reason.unwrap().condition), (Kind::Reject, moxl_xep::xep_0166_jingle::ReasonCondition::Busy));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_message(stanza: &Element) -> Option<JingleMessage> {
        let (kind, e) =
            stanza.children().filter(|c| c.ns() == NS).find_map(|c| Kind::from_name(c.name()).map(|k| (k, c)))?;
        if !is_extension_of(&e, stanza) {
            return None;
        }
        JingleMessage::from_element(kind, &e, stanza)
    }

    fn from_element(kind: Kind, e: &Element, stanza: &Element) -> Option<JingleMessage> {
        let attr = |n: &str| stanza.attr(n).map(Cow::into_owned);
        Some(JingleMessage {
            kind,
            id: e.attr("id").filter(|id| !id.is_empty())?.into_owned(),
            from: attr("from"),
            to: attr("to"),
            descriptions: if kind == Kind::Propose {
                e.children().filter(|c| c.name() == "description").collect()
            } else {
                Vec::new()
            },
            reason: e.child("reason", crate::xep_0166_jingle::NS).and_then(|r| Reason::from_element(&r)),
            tie_break: e.child("tie-break", NS).is_some(),
            migrated_to: e.child("migrated", NS).and_then(|m| m.attr("to").map(Cow::into_owned)),
            copy: None,
            crossed: None,
        })
    }

    /// The media of a proposal (the `media` of its RTP descriptions, XEP-0167).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0353_jmi::JingleMessage;
    /// let m = Element::parse("<message xmlns='jabber:client' from='romeo@montague.example/orchard' type='chat'>\
    ///     <propose xmlns='urn:xmpp:jingle-message:0' id='a'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/>\
    ///     <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'/></propose></message>")?;
    /// assert_eq!(JingleMessage::from_message(&m).unwrap().media(), ["audio", "video"]);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn media(&self) -> Vec<String> {
        self.descriptions.iter().filter_map(|d| d.attr("media").map(Cow::into_owned)).collect()
    }

    /// Whether this device should stop ringing for the proposal [`id`](JingleMessage::id): another of our devices
    /// took or declined the call (a carbon of its `proceed` or `reject`, §3.4, §3.5), the initiator withdrew it
    /// (`retract`, §3.3), or the session is over (`finish`, §3.7).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0353_jmi::JingleMessage;
    /// let m = Element::parse("<message xmlns='jabber:client' from='romeo@montague.example/orchard' type='chat'>\
    ///     <retract xmlns='urn:xmpp:jingle-message:0' id='a'><reason xmlns='urn:xmpp:jingle:1'><cancel/></reason></retract></message>")?;
    /// assert!(JingleMessage::from_message(&m).unwrap().stops_ringing());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn stops_ringing(&self) -> bool {
        match self.kind {
            Kind::Proceed | Kind::Reject => self.copy == Some(Direction::Sent),
            Kind::Retract | Kind::Finish => true,
            Kind::Propose | Kind::Ringing => false,
        }
    }

    /// The sender's bare JID (where the answers to a proposal go, §3.2).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0353_jmi::JingleMessage;
    /// let m = Element::parse("<message xmlns='jabber:client' from='romeo@montague.example/orchard' type='chat'>\
    ///     <propose xmlns='urn:xmpp:jingle-message:0' id='a'/></message>")?;
    /// assert_eq!(JingleMessage::from_message(&m).unwrap().from_bare().as_deref(), Some("romeo@montague.example"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_bare(&self) -> Option<String> {
        self.from.as_deref().map(|f| bare(f).to_owned())
    }
}

/// Delivers each Jingle message as a [`JingleMessage`] under the Packet key `jinglemessage`, carbons included
/// (with [`JingleMessage::copy`] set).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// use moxl_xep::xep_0353_jmi::{JingleMessage, Kind};
/// let mut calls = xec.events::<JingleMessage>();
/// while let Some(m) = calls.recv().await {
///     if m.kind == Kind::Propose && m.copy.is_none() {
///         println!("{:?} calls ({:?})", m.from, m.media());
///     }
/// }
/// # }
/// ```
#[payload(name = "propose", ns = "urn:xmpp:jingle-message:0", key = "jinglemessage", at = "child")]
#[payload(name = "ringing", ns = "urn:xmpp:jingle-message:0", key = "jinglemessage", at = "child")]
#[payload(name = "retract", ns = "urn:xmpp:jingle-message:0", key = "jinglemessage", at = "child")]
#[payload(name = "proceed", ns = "urn:xmpp:jingle-message:0", key = "jinglemessage", at = "child")]
#[payload(name = "reject", ns = "urn:xmpp:jingle-message:0", key = "jinglemessage", at = "child")]
#[payload(name = "finish", ns = "urn:xmpp:jingle-message:0", key = "jinglemessage", at = "child")]
#[derive(Debug, Default)]
pub struct JingleMessages;

impl Payload for JingleMessages {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<JingleMessage>() || !outgoing(ctx).0.lock().unwrap_or_else(PoisonError::into_inner).is_empty()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if !is_extension_of(element, stanza) {
            return Ok(());
        }
        let Some(kind) = Kind::from_name(element.name()) else { return Ok(()) };
        let Some(mut m) = JingleMessage::from_element(kind, element, stanza) else { return Ok(()) };
        m.copy = ctx.envelope::<Direction>().copied();
        if m.copy.is_none() {
            m.crossed = settle(ctx, &m)?;
        }
        ctx.pack(m).deliver();
        Ok(())
    }
}

/// Our proposals not yet answered, by id: the contact's bare JID (for the tie-breaks of §4.1).
#[derive(Default)]
struct Outgoing(Mutex<HashMap<String, String>>);

fn outgoing(ctx: &Context) -> std::sync::Arc<Outgoing> {
    ctx.session_state::<Outgoing>()
}

/// Updates our proposals with a message received live (not a carbon), and breaks a tie (§4.1).
fn settle(ctx: &Context, m: &JingleMessage) -> Result<Option<TieBreak>> {
    let state = outgoing(ctx);
    let mut ours = state.0.lock().unwrap_or_else(PoisonError::into_inner);
    match m.kind {
        // An answer to one of ours (or its withdrawal by the peer's side): it is no longer open.
        Kind::Proceed | Kind::Reject | Kind::Retract | Kind::Finish => {
            ours.remove(&m.id);
            Ok(None)
        }
        Kind::Ringing => Ok(None),
        Kind::Propose => {
            let (Some(from), Some(me)) = (m.from.as_deref(), ctx.jid().map(|j| j.to_string())) else { return Ok(None) };
            let peer = bare(from);
            let Some(mine) = ours.iter().find(|(_, to)| to.as_str() == peer).map(|(id, _)| id.clone()) else {
                return Ok(None);
            };
            if initiate_wins(&mine, &me, &m.id, from) {
                // We received the higher id: reject it (§4.1).
                ctx.send(reject_tie_break(peer, &m.id))?;
                Ok(Some(TieBreak::OursWins { ours: mine }))
            } else {
                // We received the lower id: retract ours, then answer theirs as usual.
                ours.remove(&mine);
                ctx.send(retract_tie_break(peer, &mine))?;
                Ok(Some(TieBreak::TheirsWins { retracted: mine }))
            }
        }
    }
}

fn bare(jid: &str) -> &str {
    jid.split_once('/').map_or(jid, |(b, _)| b)
}

/// Proposes a session to the contact `to` (its bare JID: every device rings, §3.1) with these descriptions,
/// under a fresh UUIDv4 id (the sid of the Jingle session that follows), and remembers it until it is answered
/// (for the tie-breaks of §4.1). Returns the id.
///
/// ```
/// # fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// use moxl_core::xml::Element;
/// let audio = Element::parse("<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/>")?;
/// let id = moxl_xep::xep_0353_jmi::send_propose(ctx, "juliet@capulet.example", &[audio])?;
/// # Ok(()) }
/// ```
pub fn send_propose(ctx: &Context, to: &str, descriptions: &[Element]) -> Result<String> {
    let id = crate::xep_0166_jingle::new_sid();
    let to = bare(to);
    ctx.send(propose(to, &id, descriptions))?;
    outgoing(ctx).0.lock().unwrap_or_else(PoisonError::into_inner).insert(id.clone(), to.to_owned());
    Ok(id)
}

/// "This device rings" for `proposal`, to the initiator's bare JID (§3.2).
///
/// ```
/// # fn run(ctx: &moxl_core::xec::Context, proposal: &moxl_xep::xep_0353_jmi::JingleMessage) -> moxl_core::Result<()> {
/// moxl_xep::xep_0353_jmi::send_ringing(ctx, proposal)?;
/// # Ok(()) }
/// ```
pub fn send_ringing(ctx: &Context, proposal: &JingleMessage) -> Result<()> {
    ctx.send(ringing(&answer_to(proposal)?, &proposal.id))
}

/// Takes the call proposed by `proposal` on this device (§3.4), to the initiator's bare JID: the server copies
/// it to our other devices, which stop ringing; the initiator then sends the session-initiate to this device.
///
/// ```
/// # fn run(ctx: &moxl_core::xec::Context, proposal: &moxl_xep::xep_0353_jmi::JingleMessage) -> moxl_core::Result<()> {
/// moxl_xep::xep_0353_jmi::send_proceed(ctx, proposal)?;
/// # Ok(()) }
/// ```
pub fn send_proceed(ctx: &Context, proposal: &JingleMessage) -> Result<()> {
    ctx.send(proceed(&answer_to(proposal)?, &proposal.id))
}

/// Declines the call proposed by `proposal` (§3.5; `<busy/>` when `reason` is `None`, as §7 recommends), to the
/// initiator's bare JID: our other devices stop ringing too.
///
/// ```
/// # fn run(ctx: &moxl_core::xec::Context, proposal: &moxl_xep::xep_0353_jmi::JingleMessage) -> moxl_core::Result<()> {
/// moxl_xep::xep_0353_jmi::send_reject(ctx, proposal, None)?;
/// # Ok(()) }
/// ```
pub fn send_reject(ctx: &Context, proposal: &JingleMessage, reason: Option<&Reason>) -> Result<()> {
    let busy = Reason::new(ReasonCondition::Busy);
    ctx.send(reject(&answer_to(proposal)?, &proposal.id, Some(reason.unwrap_or(&busy))))
}

/// Withdraws our proposal `id` to `to` (§3.3; `<cancel/>` when `reason` is `None`).
///
/// ```
/// # fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// moxl_xep::xep_0353_jmi::send_retract(ctx, "juliet@capulet.example", "ca3cf894-5325-482f-a412-a6e9f832298d", None)?;
/// # Ok(()) }
/// ```
pub fn send_retract(ctx: &Context, to: &str, id: &str, reason: Option<&Reason>) -> Result<()> {
    outgoing(ctx).0.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    let cancel = Reason::new(ReasonCondition::Cancel);
    ctx.send(retract(bare(to), id, Some(reason.unwrap_or(&cancel))))
}

/// Tells the other party's devices (its bare JID `to`) that the session `id` is over (§3.7; `<success/>` when
/// `reason` is `None`). Both parties send one.
///
/// ```
/// # fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// moxl_xep::xep_0353_jmi::send_finish(ctx, "juliet@capulet.example", "ca3cf894-5325-482f-a412-a6e9f832298d", None)?;
/// # Ok(()) }
/// ```
pub fn send_finish(ctx: &Context, to: &str, id: &str, reason: Option<&Reason>) -> Result<()> {
    outgoing(ctx).0.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    let success = Reason::new(ReasonCondition::Success);
    ctx.send(finish(bare(to), id, Some(reason.unwrap_or(&success))))
}

fn answer_to(proposal: &JingleMessage) -> Result<String> {
    proposal.from_bare().ok_or_else(|| moxl_core::Error::handler("a proposal without a sender cannot be answered"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::jid::BareJid;
    use moxl_core::xec::Xec;

    const ID: &str = "ca3cf894-5325-482f-a412-a6e9f832298d";

    fn juliet() -> Xec {
        Xec::builder().account(BareJid::new("juliet@capulet.example").unwrap()).build().unwrap()
    }

    fn received(xec: &Xec, xml: &str) -> JingleMessage {
        let mut events = xec.subscribe("jinglemessage");
        block_on(xec.dispatch(Element::parse(xml).unwrap()));
        let p = events.try_recv().expect("a jinglemessage");
        assert!(events.try_recv().is_none());
        p.content::<JingleMessage>().unwrap().clone()
    }

    #[test]
    fn a_call_is_proposed_rung_and_taken_on_one_device_while_the_other_stops_ringing() {
        let xec = juliet();
        // §3.1, Example 1, as built and as received
        let audio = Element::parse("<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/>").unwrap();
        let m = propose("juliet@capulet.example", ID, &[audio])
            .attr("from", "romeo@montague.example/orchard")
            .build()
            .unwrap();
        let p = received(&xec, &m.to_xml());
        assert_eq!((p.kind, p.id.as_str(), p.media(), p.copy), (Kind::Propose, ID, vec!["audio".to_owned()], None));
        assert_eq!(p.from.as_deref(), Some("romeo@montague.example/orchard"));
        // another of Juliet's devices took the call: its proceed comes to this one as a sent carbon
        let carbon = format!(
            "<message xmlns='jabber:client' from='juliet@capulet.example' to='juliet@capulet.example/tablet' type='chat'>\
             <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' from='juliet@capulet.example/phone' to='romeo@montague.example/orchard' type='chat'>\
             <proceed xmlns='urn:xmpp:jingle-message:0' id='{ID}'/><store xmlns='urn:xmpp:hints'/></message>\
             </forwarded></sent></message>"
        );
        let p = received(&xec, &carbon);
        assert_eq!((p.kind, p.copy), (Kind::Proceed, Some(Direction::Sent)));
        assert_eq!(
            (p.from.as_deref(), p.to.as_deref()),
            (Some("juliet@capulet.example/phone"), Some("romeo@montague.example/orchard"))
        );
        // a forged carbon (not from our own account) is not one
        let forged = carbon.replace("from='juliet@capulet.example' to=", "from='iago@venice.example' to=");
        let mut events = xec.subscribe("jinglemessage");
        block_on(xec.dispatch(Element::parse(&forged).unwrap()));
        assert!(events.try_recv().is_none());
    }

    #[test]
    fn reasons_tie_breaks_and_migrations_are_read() {
        let xec = juliet();
        let p = received(
            &xec,
            &reject_tie_break("juliet@capulet.example", "fecbea35-08d3-404f-9ec7-2b57c566fa74")
                .attr("from", "romeo@montague.example/orchard")
                .build()
                .unwrap()
                .to_xml(),
        );
        assert_eq!((p.kind, p.tie_break), (Kind::Reject, true));
        assert_eq!(p.reason.unwrap().condition, ReasonCondition::Expired);
        let f = received(&xec, &finish_migrated("juliet@capulet.example", ID, "989a46a6").build().unwrap().to_xml());
        assert_eq!((f.kind, f.migrated_to.as_deref(), f.kind.is_final()), (Kind::Finish, Some("989a46a6"), true));
        let r = received(
            &xec,
            "<message xmlns='jabber:client' from='romeo@montague.example/orchard' to='juliet@capulet.example' type='chat'>\
             <retract xmlns='urn:xmpp:jingle-message:0' id='ca3cf894-5325-482f-a412-a6e9f832298d'>\
             <reason xmlns='urn:xmpp:jingle:1'><cancel/><text>Retracted</text></reason></retract><store xmlns='urn:xmpp:hints'/></message>",
        );
        assert_eq!(r.reason, Some(Reason::new(ReasonCondition::Cancel).with_text("Retracted")));
        // no id, or a bounce: nothing
        let mut events = xec.subscribe("jinglemessage");
        for xml in [
            "<message xmlns='jabber:client' type='chat'><ringing xmlns='urn:xmpp:jingle-message:0'/></message>",
            "<message xmlns='jabber:client' type='error'><ringing xmlns='urn:xmpp:jingle-message:0' id='a'/></message>",
        ] {
            block_on(xec.dispatch(Element::parse(xml).unwrap()));
        }
        assert!(events.try_recv().is_none());
    }
}
