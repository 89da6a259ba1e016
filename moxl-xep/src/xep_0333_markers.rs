//! XEP-0333: Chat Markers. A builder that makes a message markable ([`markable`]), the marker a client sends
//! for a markable message it received ([`mark`], [`mark_in_room`]), and the [`ChatMarkers`] Payload that
//! delivers each marker received as a [`ChatMarker`] (Packet key `chatmarker`).
//!
//! Markers are never sent by moxl itself: `displayed` and `acknowledged` need the user (§8.2: never acknowledge
//! without user interaction), and a user may not want to disclose any of them (§9); send them only to those
//! allowed to see your presence (§9). A marker covers every message up to the one it names, and markers only
//! move forward: ignore one for an earlier or an unknown message (§7).

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};

use crate::xep_0359_stable_ids::stanza_id;

/// `urn:xmpp:chat-markers:0` (§4, §11.1).
pub const NS: &str = "urn:xmpp:chat-markers:0";

moxl_core::feature!("urn:xmpp:chat-markers:0");

/// The three markers, in order of significance (§6): `Received < Displayed < Acknowledged`.
///
/// ```
/// use moxl_xep::xep_0333_markers::Marker;
/// assert!(Marker::Received < Marker::Displayed && Marker::Displayed < Marker::Acknowledged);
/// assert_eq!(Marker::from_name("displayed"), Some(Marker::Displayed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Marker {
    /// The message has been received by a client.
    Received,
    /// The message has been displayed to the user in an active chat (not in a notification).
    Displayed,
    /// The user acknowledged the message by some interaction.
    Acknowledged,
}

impl Marker {
    /// The element name (§12, the schema).
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0333_markers::Marker::Acknowledged.as_str(), "acknowledged");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Marker::Received => "received",
            Marker::Displayed => "displayed",
            Marker::Acknowledged => "acknowledged",
        }
    }

    /// The marker named `name` (`markable` is not a marker).
    ///
    /// ```
    /// use moxl_xep::xep_0333_markers::Marker;
    /// assert_eq!(Marker::from_name("received"), Some(Marker::Received));
    /// assert_eq!(Marker::from_name("markable"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Marker> {
        [Marker::Received, Marker::Displayed, Marker::Acknowledged].into_iter().find(|m| m.as_str() == name)
    }
}

/// Makes a message markable: sets its `id` (a sender MUST give one, §6) and adds `<markable/>`.
///
/// ```
/// use moxl_core::stanza::message;
/// use moxl_xep::xep_0333_markers::markable;
/// let m = markable(message("kingrichard@royalty.england.lit/throne", "chat", Some("My lord, dispatch")), "message-1");
/// assert_eq!(
///     m.build()?.to_xml(),
///     "<message xmlns='jabber:client' to='kingrichard@royalty.england.lit/throne' type='chat' id='message-1'>\
///      <body>My lord, dispatch</body><markable xmlns='urn:xmpp:chat-markers:0'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn markable(message: ElementBuilder, id: impl Into<String>) -> ElementBuilder {
    message.attr("id", id).append(ElementBuilder::new("markable", NS))
}

/// Whether a message is markable (§6: a `<markable/>` child and an `id`, §7).
///
/// ```
/// use moxl_core::xml::Element;
/// // §6, Example 3: a content message with a markable Chat Marker
/// let m = Element::parse("<message xmlns='jabber:client' from='northumberland@shakespeare.lit/westminster' \
///     id='message-1' to='kingrichard@royalty.england.lit/throne'><thread>sleeping</thread>\
///     <body>My lord, dispatch; read o'er these articles.</body><markable xmlns='urn:xmpp:chat-markers:0'/></message>")?;
/// assert!(moxl_xep::xep_0333_markers::is_markable(&m));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn is_markable(stanza: &Element) -> bool {
    stanza.is("message", ns::CLIENT)
        && stanza.child("markable", NS).is_some()
        && stanza.attr("id").is_some_and(|id| !id.is_empty())
}

/// A marker message (§6): only the marker naming `id`, and the `<thread/>` if the message was in one.
fn marker_message(to: &str, kind: Option<&str>, marker: Marker, id: &str, thread: Option<String>) -> ElementBuilder {
    let m =
        ElementBuilder::new("message", ns::CLIENT).attr("to", to.to_owned()).attr_opt("type", kind.map(str::to_owned));
    let m = match thread {
        Some(thread) => m.text_child("thread", thread),
        None => m,
    };
    m.append(ElementBuilder::new(marker.as_str(), NS).attr("id", id.to_owned()))
}

/// Whether the message carries a marker (a marker is never marked, §5.3).
fn carries_marker(stanza: &Element) -> bool {
    stanza.children().any(|c| c.ns() == NS && Marker::from_name(c.name()).is_some())
}

/// The marker to send for a received one-to-one markable message (`chat`, `normal` or `headline`), addressed
/// back to its sender with its `thread` (§6, Example 4). `None` if the message is not markable, is of type
/// `error` or `groupchat` (use [`mark_in_room`]), or is itself a marker (§5.3).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0333_markers::{mark, Marker};
/// let m = Element::parse("<message xmlns='jabber:client' from='northumberland@shakespeare.lit/westminster' \
///     id='message-1' to='kingrichard@royalty.england.lit/throne'><thread>sleeping</thread>\
///     <body>My lord, dispatch; read o'er these articles.</body><markable xmlns='urn:xmpp:chat-markers:0'/></message>")?;
/// // §6, Example 4: a message marked with a received Chat Marker
/// assert_eq!(
///     mark(&m, Marker::Received).unwrap().build()?.to_xml(),
///     "<message xmlns='jabber:client' to='northumberland@shakespeare.lit/westminster'><thread>sleeping</thread>\
///      <received xmlns='urn:xmpp:chat-markers:0' id='message-1'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn mark(stanza: &Element, marker: Marker) -> Option<ElementBuilder> {
    let kind = stanza.attr("type");
    if !is_markable(stanza) || carries_marker(stanza) || matches!(kind.as_deref(), Some("error" | "groupchat")) {
        return None;
    }
    let (from, id) = (stanza.attr("from")?, stanza.attr("id")?);
    Some(marker_message(&from, kind.as_deref(), marker, &id, stanza.child_text("thread", ns::CLIENT)))
}

/// The marker to send for a markable `groupchat` message of a room (§8.6), to the room's bare JID. The marked
/// id is the one the room stamped (its `<stanza-id/>` with `by` the room) when `room_announces_sid` (the room
/// announced XEP-0359): occupants can reuse a message `id`. Otherwise the room's stanza ids are spoofable and
/// are ignored, and the message `id` is marked.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0333_markers::{mark_in_room, Marker};
/// // §8.6, Example 5: a MUC message with a markable Chat Marker
/// let m = Element::parse("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch' \
///     to='coven@chat.shakespeare.lit' id='message-1' type='groupchat'><thread>Act IV, Scene I</thread>\
///     <body>Thrice the brinded cat hath mew'd.</body><markable xmlns='urn:xmpp:chat-markers:0' />\
///     <stanza-id xmlns='urn:xmpp:sid:0' by='coven@chat.shakespeare.lit' id='39K7ZYIp' /></message>")?;
/// // §8.6, Example 6: the marker response
/// assert_eq!(
///     mark_in_room(&m, Marker::Displayed, true).unwrap().build()?.to_xml(),
///     "<message xmlns='jabber:client' to='coven@chat.shakespeare.lit' type='groupchat'><thread>Act IV, Scene I</thread>\
///      <displayed xmlns='urn:xmpp:chat-markers:0' id='39K7ZYIp'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn mark_in_room(stanza: &Element, marker: Marker, room_announces_sid: bool) -> Option<ElementBuilder> {
    if !is_markable(stanza) || carries_marker(stanza) || stanza.attr("type").as_deref() != Some("groupchat") {
        return None;
    }
    let from = stanza.attr("from")?;
    let room = from.split('/').next().filter(|r| !r.is_empty())?;
    let id = if room_announces_sid { stanza_id(stanza, room)? } else { stanza.attr("id")?.into_owned() };
    Some(marker_message(room, Some("groupchat"), marker, &id, stanza.child_text("thread", ns::CLIENT)))
}

/// A marker received: `from` marked every message up to `id` (in `thread`, if given) as `marker` (§6).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0333_markers::{ChatMarker, Marker};
/// // §6, Example 4
/// let m = Element::parse("<message xmlns='jabber:client' from='kingrichard@royalty.england.lit/throne' id='message-2' \
///     to='northumberland@shakespeare.lit/westminster'><thread>sleeping</thread>\
///     <received xmlns='urn:xmpp:chat-markers:0' id='message-1'/></message>")?;
/// let marker = ChatMarker::from_message(&m).unwrap();
/// assert_eq!((marker.marker, marker.id.as_str(), marker.thread.as_deref()), (Marker::Received, "message-1", Some("sleeping")));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChatMarker {
    /// Who marked (the message's `from`).
    pub from: Option<String>,
    /// Which marker.
    pub marker: Marker,
    /// The id of the last message marked.
    pub id: String,
    /// The thread the marker is valid in, if any (§6).
    pub thread: Option<String>,
}

impl ChatMarker {
    /// Reads the marker of a message: its most significant marker child with an `id`; `None` for a message of
    /// type `error` or without marker.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0333_markers::ChatMarker;
    /// let no_id = Element::parse("<message xmlns='jabber:client' from='a@b/c'><displayed xmlns='urn:xmpp:chat-markers:0'/></message>")?;
    /// assert_eq!(ChatMarker::from_message(&no_id), None);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_message(stanza: &Element) -> Option<ChatMarker> {
        if !stanza.is("message", ns::CLIENT) || stanza.attr("type").as_deref() == Some("error") {
            return None;
        }
        let (marker, id) = stanza
            .children()
            .filter(|c| c.ns() == NS)
            .filter_map(|c| {
                Some((Marker::from_name(c.name())?, c.attr("id").filter(|id| !id.is_empty())?.into_owned()))
            })
            .max_by_key(|(marker, _)| *marker)?;
        Some(ChatMarker {
            from: stanza.attr("from").map(|f| f.into_owned()),
            marker,
            id,
            thread: stanza.child_text("thread", ns::CLIENT),
        })
    }
}

/// Delivers each marker received as a [`ChatMarker`] under the Packet key `chatmarker` (the Packet's sender is
/// the message's `from`). Markers for unknown or earlier messages are the application's to ignore (§7).
///
/// ```
/// use moxl_xep::xep_0333_markers::{ChatMarker, Marker};
/// # async fn run(xec: &moxl_core::xec::Xec) -> Option<()> {
/// let mut markers = xec.subscribe("chatmarker");
/// let m = markers.recv().await?;
/// if m.content::<ChatMarker>()?.marker == Marker::Displayed {
///     println!("{} read up to {}", m.from()?, m.content::<ChatMarker>()?.id);
/// }
/// # Some(()) }
/// ```
#[payload(name = "received", ns = "urn:xmpp:chat-markers:0", key = "chatmarker", at = "child")]
#[payload(name = "displayed", ns = "urn:xmpp:chat-markers:0", key = "chatmarker", at = "child")]
#[payload(name = "acknowledged", ns = "urn:xmpp:chat-markers:0", key = "chatmarker", at = "child")]
#[derive(Debug, Default)]
pub struct ChatMarkers;

impl Payload for ChatMarkers {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        // One Packet per message, for its most significant marker (a message should carry one).
        let Some(marker) = ChatMarker::from_message(stanza) else { return Ok(()) };
        let first = stanza.children().find(|c| c.ns() == NS && Marker::from_name(c.name()) == Some(marker.marker));
        if first.is_some_and(|f| f.ptr_eq(element)) {
            ctx.pack(marker).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    /// §6, Example 3.
    const MARKABLE: &str = "<message xmlns='jabber:client' from='northumberland@shakespeare.lit/westminster' \
        id='message-1' to='kingrichard@royalty.england.lit/throne'><thread>sleeping</thread>\
        <body>My lord, dispatch; read o'er these articles.</body><markable xmlns='urn:xmpp:chat-markers:0'/></message>";
    /// §8.6, Example 5.
    const IN_ROOM: &str = "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch' \
        to='coven@chat.shakespeare.lit' id='message-1' type='groupchat'><thread>Act IV, Scene I</thread>\
        <body>Thrice the brinded cat hath mew'd.</body><markable xmlns='urn:xmpp:chat-markers:0' />\
        <stanza-id xmlns='urn:xmpp:sid:0' by='coven@chat.shakespeare.lit' id='39K7ZYIp' /></message>";

    #[test]
    fn spec_examples_parse_build_and_round_trip() {
        let m = Element::parse(MARKABLE).unwrap();
        assert!(is_markable(&m));
        let built =
            markable(moxl_core::stanza::message("kingrichard@royalty.england.lit/throne", "chat", None), "message-1")
                .build()
                .unwrap();
        assert!(is_markable(&built));
        for marker in [Marker::Received, Marker::Displayed, Marker::Acknowledged] {
            let answer =
                mark(&m, marker).unwrap().attr("from", "kingrichard@royalty.england.lit/throne").build().unwrap();
            let read = ChatMarker::from_message(&answer).unwrap();
            assert_eq!(read.from.as_deref(), Some("kingrichard@royalty.england.lit/throne"));
            assert_eq!(
                (read.marker, read.id.as_str(), read.thread.as_deref()),
                (marker, "message-1", Some("sleeping"))
            );
            assert_eq!(mark(&answer, marker).map(|_| ()), None, "a marker is not markable (§5.3)");
        }
        let room = Element::parse(IN_ROOM).unwrap();
        assert_eq!(mark(&room, Marker::Displayed).map(|_| ()), None, "groupchat goes through mark_in_room");
        let trusted = mark_in_room(&room, Marker::Displayed, true).unwrap().build().unwrap();
        assert_eq!(ChatMarker::from_message(&trusted).map(|m| m.id), Some("39K7ZYIp".to_owned()));
        let untrusted = mark_in_room(&room, Marker::Displayed, false).unwrap().build().unwrap();
        assert_eq!(ChatMarker::from_message(&untrusted).map(|m| m.id), Some("message-1".to_owned()));
        // a room that announced XEP-0359 but stamped nothing: no id to mark
        let unstamped = IN_ROOM.replace("by='coven@chat.shakespeare.lit'", "by='mallory@evil.example'");
        assert_eq!(mark_in_room(&Element::parse(&unstamped).unwrap(), Marker::Displayed, true).map(|_| ()), None);
    }

    #[test]
    fn the_payload_delivers_one_marker_per_message() {
        let xec = Xec::new().unwrap();
        let mut markers = xec.subscribe("chatmarker");
        let both = "<message xmlns='jabber:client' from='a@b/c'><received xmlns='urn:xmpp:chat-markers:0' id='m1'/>\
            <displayed xmlns='urn:xmpp:chat-markers:0' id='m1'/></message>";
        block_on(xec.dispatch(Element::parse(both).unwrap()));
        let p = markers.try_recv().unwrap();
        assert_eq!(p.from(), Some("a@b/c"));
        assert_eq!(p.content::<ChatMarker>().map(|m| m.marker), Some(Marker::Displayed));
        assert!(markers.try_recv().is_none());
        // a bounced marker is none, and a markable message is not a marker
        let bounce = "<message xmlns='jabber:client' from='a@b/c' type='error'><displayed xmlns='urn:xmpp:chat-markers:0' id='m1'/></message>";
        block_on(xec.dispatch(Element::parse(bounce).unwrap()));
        block_on(xec.dispatch(Element::parse(MARKABLE).unwrap()));
        assert!(markers.try_recv().is_none());
        assert!(xec.take_outgoing().iter().all(|m| m.child("received", NS).is_none()), "markers are never automatic");
    }
}
