//! RFC 6121 §5: messages. A typed view of a received message ([`MessageInfo`]: type, bodies and subjects with
//! their languages, thread and parent thread, error) and builders for what the core's
//! [`message`](moxl_core::stanza::message) leaves out: [`with_thread`], [`with_subject`], [`with_body`] in
//! another language, [`with_lang`].
//!
//! This module registers no Payload: an application reads messages with its own `#[payload(name = "message",
//! ns = "jabber:client")]` (or a narrower one) and types them with [`MessageInfo::from_element`] when it wants
//! to. A built-in Payload delivering every message would fire for every chat state, receipt and MUC message
//! alongside the application's handler, and would take the obvious Packet keys (`message`, `body`) from it. The
//! message extensions of this crate (corrections, reactions, retractions, replies…) deliver their own events.

use std::borrow::Cow;

use moxl_core::stanza::StanzaError;
use moxl_core::xml::{Element, ElementBuilder, ns};
use serde::{Deserialize, Serialize};

use crate::rfc6121_presence::Localized;

/// The type of a message (§5.2.2); a message without one is `normal`.
///
/// ```
/// use moxl_xep::rfc6121_message::MessageType;
/// assert_eq!(MessageType::from_attr(None), MessageType::Normal);
/// assert_eq!(MessageType::from_attr(Some("groupchat")), MessageType::Groupchat);
/// // §5.2.2: an unknown type is treated as normal
/// assert_eq!(MessageType::from_attr(Some("shout")), MessageType::Normal);
/// assert_eq!(MessageType::Headline.as_str(), "headline");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum MessageType {
    /// One-to-one chat.
    Chat,
    /// A multi-user chat message.
    Groupchat,
    /// An alert or notification that expects no reply.
    Headline,
    /// A standalone message (the default).
    #[default]
    Normal,
    /// An error about a message we sent.
    Error,
}

impl MessageType {
    /// The `type` attribute's value.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Chat => "chat",
            MessageType::Groupchat => "groupchat",
            MessageType::Headline => "headline",
            MessageType::Normal => "normal",
            MessageType::Error => "error",
        }
    }

    /// Parses the `type` attribute: absent or unknown is `normal` (§5.2.2).
    pub fn from_attr(kind: Option<&str>) -> MessageType {
        match kind {
            Some("chat") => MessageType::Chat,
            Some("groupchat") => MessageType::Groupchat,
            Some("headline") => MessageType::Headline,
            Some("error") => MessageType::Error,
            _ => MessageType::Normal,
        }
    }

    /// The type of a message stanza.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::rfc6121_message::MessageType;
    /// let m = Element::parse("<message xmlns='jabber:client' type='chat'/>")?;
    /// assert_eq!(MessageType::of(&m), MessageType::Chat);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn of(stanza: &Element) -> MessageType {
        MessageType::from_attr(stanza.attr("type").as_deref())
    }
}

/// A conversation thread (§5.2.5): its id and, for a sub-thread, the parent's id.
///
/// ```
/// let t = moxl_xep::rfc6121_message::Thread { id: "e0ffe42b".into(), parent: Some("7edac73ab41e".into()) };
/// assert_eq!(t.parent.as_deref(), Some("7edac73ab41e"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    /// The thread id.
    pub id: String,
    /// The parent thread, for a thread spawned from another.
    pub parent: Option<String>,
}

/// A received message, typed (§5.2).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::rfc6121_message::{MessageInfo, MessageType};
/// // RFC 6121 §5.2.3 and §5.2.5 (combined)
/// let m = Element::parse("<message xmlns='jabber:client' from='juliet@example.com/balcony' id='ktx72v49' \
///     to='romeo@example.net' type='chat' xml:lang='en'><subject>I implore you!</subject>\
///     <subject xml:lang='cs'>&#x00DA;p&#x011B;nliv&#x011B; pros&#x00ED;m!</subject>\
///     <body>Wherefore art thou, Romeo?</body><body xml:lang='cs'>Pro&#x010D;e&#x017E; jsi ty, Romeo?</body>\
///     <thread parent='7edac73ab41e'>e0ffe42b28561960c6b12b944a092794b9683a38</thread></message>")?;
/// let m = MessageInfo::from_element(&m).unwrap();
/// assert_eq!(m.kind, MessageType::Chat);
/// assert_eq!(m.body(None), Some("Wherefore art thou, Romeo?"));
/// assert_eq!(m.body(Some("cs")), Some("Pročež jsi ty, Romeo?"));
/// assert_eq!(m.subject(Some("cs")), Some("Úpěnlivě prosím!"));
/// assert_eq!(m.thread.unwrap().parent.as_deref(), Some("7edac73ab41e"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageInfo {
    /// The sender.
    pub from: Option<String>,
    /// The addressee.
    pub to: Option<String>,
    /// The stanza id.
    pub id: Option<String>,
    /// The type.
    pub kind: MessageType,
    /// The stanza's default language (`xml:lang` on the message).
    pub lang: Option<String>,
    /// The bodies, with their own languages (§5.2.3).
    pub bodies: Vec<Localized>,
    /// The subjects, with their own languages (§5.2.4).
    pub subjects: Vec<Localized>,
    /// The thread (§5.2.5).
    pub thread: Option<Thread>,
    /// The error, for `type='error'`.
    pub error: Option<StanzaError>,
}

impl MessageInfo {
    /// Reads a `<message/>`; `None` for another element.
    pub fn from_element(stanza: &Element) -> Option<MessageInfo> {
        if !stanza.is("message", ns::CLIENT) {
            return None;
        }
        let kind = MessageType::of(stanza);
        let attr = |name: &str| stanza.attr(name).map(Cow::into_owned);
        Some(MessageInfo {
            from: attr("from"),
            to: attr("to"),
            id: attr("id"),
            kind,
            lang: attr("xml:lang"),
            bodies: Localized::all_in(stanza, "body", ns::CLIENT),
            subjects: Localized::all_in(stanza, "subject", ns::CLIENT),
            thread: stanza
                .child("thread", ns::CLIENT)
                .map(|t| Thread { id: t.text().into_owned(), parent: t.attr("parent").map(Cow::into_owned) }),
            error: (kind == MessageType::Error).then(|| StanzaError::from_stanza(stanza)).flatten(),
        })
    }

    /// The body in `lang`, else the one in the stanza's default language, else the first (RFC 6120 §8.1.5).
    pub fn body(&self, lang: Option<&str>) -> Option<&str> {
        Localized::pick(&self.bodies, lang)
    }

    /// The subject in `lang`, else the one in the stanza's default language, else the first.
    pub fn subject(&self, lang: Option<&str>) -> Option<&str> {
        Localized::pick(&self.subjects, lang)
    }
}

/// Sets the thread (§5.2.5), with its parent thread when the conversation spawned from another.
///
/// ```
/// use moxl_core::stanza::message;
/// use moxl_xep::rfc6121_message::with_thread;
/// let m = with_thread(message("juliet@example.com", "chat", Some("Art thou not Romeo?")), "e0ffe42b", Some("7edac73ab41e")).build()?;
/// assert!(m.to_xml().ends_with("<body>Art thou not Romeo?</body><thread parent='7edac73ab41e'>e0ffe42b</thread></message>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_thread(message: ElementBuilder, thread: &str, parent: Option<&str>) -> ElementBuilder {
    message.append(
        ElementBuilder::new("thread", ns::CLIENT).attr_opt("parent", parent.map(str::to_owned)).text(thread.to_owned()),
    )
}

/// Adds a `<subject/>` (§5.2.4), in `lang` if given.
///
/// ```
/// use moxl_core::stanza::message;
/// use moxl_xep::rfc6121_message::with_subject;
/// let m = with_subject(message("romeo@example.net", "normal", None), None, "I implore you!").build()?;
/// assert!(m.to_xml().ends_with("<subject>I implore you!</subject></message>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_subject(message: ElementBuilder, lang: Option<&str>, subject: &str) -> ElementBuilder {
    message.append(localized("subject", lang, subject))
}

/// Adds a `<body/>` (§5.2.3), in `lang` if given: one per language.
///
/// ```
/// use moxl_core::stanza::message;
/// use moxl_xep::rfc6121_message::with_body;
/// let m = with_body(message("romeo@example.net", "chat", Some("Wherefore art thou, Romeo?")), Some("cs"), "Pročež jsi ty, Romeo?").build()?;
/// assert!(m.to_xml().ends_with("<body xml:lang='cs'>Pročež jsi ty, Romeo?</body></message>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_body(message: ElementBuilder, lang: Option<&str>, body: &str) -> ElementBuilder {
    message.append(localized("body", lang, body))
}

/// Sets the stanza's default language (`xml:lang`, RFC 6120 §8.1.5).
///
/// ```
/// use moxl_core::stanza::message;
/// let m = moxl_xep::rfc6121_message::with_lang(message("romeo@example.net", "chat", Some("hi")), "en").build()?;
/// assert_eq!(m.attr("xml:lang").as_deref(), Some("en"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_lang(message: ElementBuilder, lang: &str) -> ElementBuilder {
    message.attr("xml:lang", lang.to_owned())
}

/// Whether `element` is an extension of a received message: a direct child of a `<message/>` that is not of type
/// `error` (an error bounces our own message back). The message Payloads of this crate fire only then, not for a
/// copy nested deeper (a forwarded or archived message).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::rfc6121_message::is_extension_of;
/// let m = Element::parse("<message xmlns='jabber:client'><replace xmlns='urn:xmpp:message-correct:0' id='a'/></message>")?;
/// assert!(is_extension_of(&m.first_child().unwrap(), &m));
/// let bounce = Element::parse("<message xmlns='jabber:client' type='error'><replace xmlns='urn:xmpp:message-correct:0' id='a'/></message>")?;
/// assert!(!is_extension_of(&bounce.first_child().unwrap(), &bounce));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn is_extension_of(element: &Element, stanza: &Element) -> bool {
    stanza.is("message", ns::CLIENT)
        && stanza.attr("type").as_deref() != Some("error")
        && stanza.children().any(|c| c.ptr_eq(element))
}

fn localized(name: &'static str, lang: Option<&str>, text: &str) -> ElementBuilder {
    ElementBuilder::new(name, ns::CLIENT).attr_opt("xml:lang", lang.map(str::to_owned)).text(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use moxl_core::stanza::{Condition, message};

    #[test]
    fn built_messages_read_back() {
        let m = with_lang(
            with_subject(
                with_thread(message("romeo@example.net", "chat", Some("hi")), "t1", None),
                Some("fr"),
                "sujet",
            ),
            "en",
        )
        .build()
        .unwrap();
        let info = MessageInfo::from_element(&m).unwrap();
        assert_eq!(info.kind, MessageType::Chat);
        assert_eq!(info.thread, Some(Thread { id: "t1".into(), parent: None }));
        assert_eq!((info.body(None), info.subject(Some("fr"))), (Some("hi"), Some("sujet")));
        assert_eq!(info.lang.as_deref(), Some("en"));
    }

    #[test]
    fn an_error_message_has_its_error() {
        // RFC 6121 §5.2.2 / RFC 6120 §8.3
        let m = Element::parse(
            "<message xmlns='jabber:client' from='romeo@example.net' type='error' id='b4vs9km4'>\
             <error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
        )
        .unwrap();
        let info = MessageInfo::from_element(&m).unwrap();
        assert_eq!(info.error.as_ref().and_then(|e| e.condition()), Some(Condition::ItemNotFound));
        assert_eq!(info.body(None), None);
        assert_eq!(MessageInfo::from_element(&Element::parse("<iq xmlns='jabber:client'/>").unwrap()), None);
    }
}
