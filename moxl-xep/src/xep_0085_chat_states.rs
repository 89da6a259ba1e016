//! XEP-0085: Chat State Notifications. The five states of §2 as [`ChatState`], builders that add
//! a state to a content message or make a standalone notification (§5.6), and the [`ChatStates`] Payload that
//! delivers each received notification as a [`ChatStateNotification`] (Packet key `chatstate`).
//!
//! What the application still decides (§5.1, §5.2, §5.3, §9): whether to send notifications at all (a client MUST
//! let the user turn them off), to whom (only to contacts that announced the feature or answered with a state),
//! and never the same standalone state twice in a row.

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};

/// `http://jabber.org/protocol/chatstates` (§4, §11.1).
pub const NS: &str = "http://jabber.org/protocol/chatstates";

moxl_core::feature!("http://jabber.org/protocol/chatstates");

/// One of the five chat states (§2).
///
/// ```
/// use moxl_xep::xep_0085_chat_states::ChatState;
/// assert_eq!(ChatState::from_name("paused"), Some(ChatState::Paused));
/// assert_eq!(ChatState::Gone.as_str(), "gone");
/// assert_eq!(ChatState::from_name("typing"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChatState {
    /// The user is actively participating in the chat session.
    Active,
    /// The user is composing a message.
    Composing,
    /// The user had been composing but has stopped.
    Paused,
    /// The user has not been actively participating for a while.
    Inactive,
    /// The user has effectively ended their participation in the chat session.
    Gone,
}

impl ChatState {
    /// The five states, in the order of §2's table.
    ///
    /// ```
    /// use moxl_xep::xep_0085_chat_states::ChatState;
    /// let names: Vec<_> = ChatState::ALL.iter().map(|s| s.as_str()).collect();
    /// assert_eq!(names, ["active", "composing", "paused", "inactive", "gone"]);
    /// ```
    pub const ALL: [ChatState; 5] =
        [ChatState::Active, ChatState::Composing, ChatState::Paused, ChatState::Inactive, ChatState::Gone];

    /// The element name of the state (§12, the schema).
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0085_chat_states::ChatState::Composing.as_str(), "composing");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ChatState::Active => "active",
            ChatState::Composing => "composing",
            ChatState::Paused => "paused",
            ChatState::Inactive => "inactive",
            ChatState::Gone => "gone",
        }
    }

    /// The state named `name`, if it is one of the five.
    ///
    /// ```
    /// use moxl_xep::xep_0085_chat_states::ChatState;
    /// assert_eq!(ChatState::from_name("inactive"), Some(ChatState::Inactive));
    /// ```
    pub fn from_name(name: &str) -> Option<ChatState> {
        ChatState::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The state an element in [`NS`] stands for (`None` for any other element).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0085_chat_states::ChatState;
    /// let e = Element::parse("<gone xmlns='http://jabber.org/protocol/chatstates'/>")?;
    /// assert_eq!(ChatState::from_element(&e), Some(ChatState::Gone));
    /// let other = Element::parse("<gone xmlns='urn:example'/>")?;
    /// assert_eq!(ChatState::from_element(&other), None);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(element: &Element) -> Option<ChatState> {
        if element.ns() != NS {
            return None;
        }
        ChatState::from_name(element.name())
    }

    /// The state a message carries: its first child in [`NS`] (a message has at most one, §5.6 rule 1).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0085_chat_states::ChatState;
    /// // §6, Example 5: "User Sends Standalone <composing/> Notification"
    /// let m = Element::parse("<message xmlns='jabber:client' from='bernardo@shakespeare.lit/pda' \
    ///     to='francisco@shakespeare.lit/elsinore' type='chat'>\
    ///     <composing xmlns='http://jabber.org/protocol/chatstates'/></message>")?;
    /// assert_eq!(ChatState::in_message(&m), Some(ChatState::Composing));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn in_message(stanza: &Element) -> Option<ChatState> {
        stanza.children().find(|c| c.ns() == NS).and_then(|c| ChatState::from_element(&c))
    }

    /// The state's element, `<composing xmlns='http://jabber.org/protocol/chatstates'/>`.
    ///
    /// ```
    /// use moxl_xep::xep_0085_chat_states::ChatState;
    /// let e = ChatState::Paused.to_builder().build()?;
    /// assert_eq!(e.to_xml(), "<paused xmlns='http://jabber.org/protocol/chatstates'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_builder(self) -> ElementBuilder {
        ElementBuilder::new(self.as_str(), NS)
    }
}

/// Adds a chat state to a message (§6: every content message SHOULD carry [`ChatState::Active`], §5.3; a
/// content message SHOULD NOT carry another state, §5.6 rule 2).
///
/// ```
/// use moxl_core::stanza::message;
/// use moxl_xep::xep_0085_chat_states::{with_chat_state, ChatState};
/// // §6, Example 3: "User Sends Initial Content Message With <active/> Notification"
/// let m = with_chat_state(message("francisco@shakespeare.lit", "chat", Some("Who's there?")), ChatState::Active);
/// assert_eq!(
///     m.build()?.to_xml(),
///     "<message xmlns='jabber:client' to='francisco@shakespeare.lit' type='chat'><body>Who's there?</body>\
///      <active xmlns='http://jabber.org/protocol/chatstates'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_chat_state(message: ElementBuilder, state: ChatState) -> ElementBuilder {
    message.append(state.to_builder())
}

/// A standalone notification (§2, §5.6 rule 3): a `chat` message (§5.4) holding only the state, and the
/// `<thread/>` if threads are used (§5.7).
///
/// ```
/// use moxl_xep::xep_0085_chat_states::{standalone, ChatState};
/// // §7, Example 9: "User's Client Sends Standalone <composing/> Notification"
/// let m = standalone("juliet@capulet.com/balcony", ChatState::Composing, Some("act2scene2chat1"));
/// assert_eq!(
///     m.build()?.to_xml(),
///     "<message xmlns='jabber:client' to='juliet@capulet.com/balcony' type='chat'>\
///      <thread>act2scene2chat1</thread><composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn standalone(to: &str, state: ChatState, thread: Option<&str>) -> ElementBuilder {
    let m = moxl_core::stanza::message(to, "chat", None);
    let m = match thread {
        Some(thread) => m.text_child("thread", thread.to_owned()),
        None => m,
    };
    with_chat_state(m, state)
}

/// A chat state notification as received: who, which state, and the thread it belongs to (§5.7).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0085_chat_states::{ChatState, ChatStateNotification};
/// // §7, Example 17: "Contact's Client Sends Standalone <gone/> Notification"
/// let m = Element::parse("<message xmlns='jabber:client' from='juliet@capulet.com/balcony' \
///     to='romeo@shakespeare.lit/orchard' type='chat'><thread>act2scene2chat1</thread>\
///     <gone xmlns='http://jabber.org/protocol/chatstates'/></message>")?;
/// let n = ChatStateNotification::from_message(&m).unwrap();
/// assert_eq!(n.from.as_deref(), Some("juliet@capulet.com/balcony"));
/// assert_eq!(n.state, ChatState::Gone);
/// assert_eq!(n.thread.as_deref(), Some("act2scene2chat1"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChatStateNotification {
    /// The sender (the message's `from`).
    pub from: Option<String>,
    /// The state.
    pub state: ChatState,
    /// The message's `<thread/>`, if any.
    pub thread: Option<String>,
}

impl ChatStateNotification {
    /// Reads the notification of a `<message/>` (`None` when it carries no chat state or is not a message).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0085_chat_states::ChatStateNotification;
    /// let m = Element::parse("<message xmlns='jabber:client' from='a@b/c'><body>hi</body></message>")?;
    /// assert_eq!(ChatStateNotification::from_message(&m), None);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_message(stanza: &Element) -> Option<ChatStateNotification> {
        if !stanza.is("message", ns::CLIENT) {
            return None;
        }
        Some(ChatStateNotification {
            from: stanza.attr("from").map(|f| f.into_owned()),
            state: ChatState::in_message(stanza)?,
            thread: stanza.child_text("thread", ns::CLIENT),
        })
    }
}

/// Delivers each chat state notification received as a [`ChatStateNotification`] under the Packet key
/// `chatstate` (the Packet's sender is the message's `from`).
///
/// Only a state that is a direct child of a `<message/>` counts (§5.4 rule 1); messages of type `error` (a
/// bounce of our own notification) are ignored, and so is `<gone/>` in a `groupchat` message (§5.5 rule 3).
///
/// ```
/// use moxl_xep::xep_0085_chat_states::{ChatState, ChatStateNotification};
/// # async fn run(xec: &moxl_core::xec::Xec) -> Option<()> {
/// let mut states = xec.subscribe("chatstate");
/// let packet = states.recv().await?;
/// let n = packet.content::<ChatStateNotification>()?;
/// if n.state == ChatState::Composing {
///     println!("{} is typing", packet.from()?);
/// }
/// # Some(()) }
/// ```
#[payload(name = "active", ns = "http://jabber.org/protocol/chatstates", key = "chatstate", at = "child")]
#[payload(name = "composing", ns = "http://jabber.org/protocol/chatstates", key = "chatstate", at = "child")]
#[payload(name = "paused", ns = "http://jabber.org/protocol/chatstates", key = "chatstate", at = "child")]
#[payload(name = "inactive", ns = "http://jabber.org/protocol/chatstates", key = "chatstate", at = "child")]
#[payload(name = "gone", ns = "http://jabber.org/protocol/chatstates", key = "chatstate", at = "child")]
#[derive(Debug, Default)]
pub struct ChatStates;

impl Payload for ChatStates {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<ChatStateNotification>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if !stanza.is("message", ns::CLIENT) {
            return Ok(());
        }
        let kind = stanza.attr("type");
        let Some(state) = ChatState::from_element(element) else { return Ok(()) };
        match (kind.as_deref(), state) {
            (Some("error"), _) | (Some("groupchat"), ChatState::Gone) => return Ok(()),
            _ => {}
        }
        let thread = stanza.child_text("thread", ns::CLIENT);
        ctx.pack(ChatStateNotification { from: ctx.from().map(|f| f.into_owned()), state, thread }).deliver();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::{Dispatched, Xec};

    /// §7, the detailed conversation: every standalone notification of Romeo's and Juliet's clients.
    const CONVERSATION: [(&str, &str, ChatState); 6] = [
        ("romeo@montague.net/orchard", "composing", ChatState::Composing),
        ("romeo@montague.net/orchard", "paused", ChatState::Paused),
        ("juliet@capulet.com/balcony", "inactive", ChatState::Inactive),
        ("juliet@capulet.com/balcony", "active", ChatState::Active),
        ("juliet@capulet.com/balcony", "gone", ChatState::Gone),
        ("romeo@montague.net/orchard", "composing", ChatState::Composing),
    ];

    fn fixture(from: &str, state: &str) -> String {
        format!(
            "<message xmlns='jabber:client' from='{from}' to='x@y/z' type='chat'>\
             <thread>act2scene2chat1</thread><{state} xmlns='http://jabber.org/protocol/chatstates'/></message>"
        )
    }

    #[test]
    fn spec_examples_parse_build_and_round_trip() {
        for (from, name, state) in CONVERSATION {
            let m = Element::parse(&fixture(from, name)).unwrap();
            let n = ChatStateNotification::from_message(&m).unwrap();
            assert_eq!((n.from.as_deref(), n.state, n.thread.as_deref()), (Some(from), state, Some("act2scene2chat1")));
            // built again, it reads back the same
            let built = standalone("x@y/z", state, Some("act2scene2chat1")).attr("from", from).build().unwrap();
            assert_eq!(ChatStateNotification::from_message(&built), Some(n));
        }
        // §6, Example 3: a content message with <active/>
        let m = Element::parse(
            "<message xmlns='jabber:client' from='bernardo@shakespeare.lit/pda' to='francisco@shakespeare.lit' \
             type='chat'><body>Who's there?</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
        )
        .unwrap();
        assert_eq!(ChatState::in_message(&m), Some(ChatState::Active));
        assert_eq!(ChatStateNotification::from_message(&m).and_then(|n| n.thread), None);
        // not in the namespace, not a state, not a message
        for xml in [
            "<message xmlns='jabber:client'><composing xmlns='urn:example'/></message>",
            "<message xmlns='jabber:client'><typing xmlns='http://jabber.org/protocol/chatstates'/></message>",
            "<presence xmlns='jabber:client'><active xmlns='http://jabber.org/protocol/chatstates'/></presence>",
        ] {
            assert_eq!(ChatStateNotification::from_message(&Element::parse(xml).unwrap()), None, "{xml}");
        }
        for state in ChatState::ALL {
            assert_eq!(ChatState::from_element(&state.to_builder().build().unwrap()), Some(state));
        }
    }

    #[test]
    fn the_payload_delivers_every_state_with_its_sender_and_thread() {
        let xec = Xec::new().unwrap();
        let mut states = xec.subscribe("chatstate");
        for (from, name, state) in CONVERSATION {
            let m = Element::parse(&fixture(from, name)).unwrap();
            assert!(matches!(block_on(xec.dispatch(m)), Dispatched::Payloads(_)));
            let p = states.try_recv().unwrap();
            assert_eq!(p.from(), Some(from));
            let n = p.content::<ChatStateNotification>().unwrap();
            assert_eq!((n.state, n.thread.as_deref()), (state, Some("act2scene2chat1")));
        }
        assert!(states.try_recv().is_none());
    }

    #[test]
    fn errors_groupchat_gone_and_nested_states_are_not_delivered() {
        let xec = Xec::new().unwrap();
        let mut states = xec.subscribe("chatstate");
        for xml in [
            "<message xmlns='jabber:client' from='a@b/c' type='error'><composing xmlns='http://jabber.org/protocol/chatstates'/>\
             <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
            "<message xmlns='jabber:client' from='room@muc.example/nick' type='groupchat'><gone xmlns='http://jabber.org/protocol/chatstates'/></message>",
            "<message xmlns='jabber:client' from='a@b/c'><x xmlns='urn:example'><active xmlns='http://jabber.org/protocol/chatstates'/></x></message>",
        ] {
            block_on(xec.dispatch(Element::parse(xml).unwrap()));
            assert!(states.try_recv().is_none(), "{xml}");
        }
        // other states in a groupchat are delivered
        let m = "<message xmlns='jabber:client' from='room@muc.example/nick' type='groupchat'><paused xmlns='http://jabber.org/protocol/chatstates'/></message>";
        block_on(xec.dispatch(Element::parse(m).unwrap()));
        assert_eq!(
            states.try_recv().and_then(|p| p.content::<ChatStateNotification>().map(|n| n.state)),
            Some(ChatState::Paused)
        );
    }
}
