//! RFC 6121 §5: messages. A typed view of a received message ([`MessageInfo`]: type, bodies and subjects with
//! their languages, thread and parent thread, error) and builders for what the core's
//! [`message`](moxl_core::stanza::message) leaves out: [`with_thread`], [`with_subject`], [`with_body`] in
//! another language, [`with_lang`].
//!
//! The typed message event: [`IncomingMessages`] delivers every chat, normal or groupchat message with a body
//! that reached this client, live or as a XEP-0280 carbon copy (marked as such), as an [`IncomingMessage`] under
//! the Packet key `incomingmessage` (read it with `xec.events::<IncomingMessage>()`). Archived messages
//! (XEP-0313 results) are never among them, nor messages nested in another one that nobody vouched for. An
//! application that wants every message stanza still registers its own `#[payload(name = "message", ns =
//! "jabber:client")]` (the keys `message` and `body` are left to it). The message extensions of this crate
//! (corrections, reactions, retractions, replies, receipts, chat states…) deliver their own events.
//!
//! Since [`IncomingMessages`] is registered for every `<message/>`, a message no longer reaches the catch-all
//! (`Packet::UNHANDLED`). A groupchat message with a body comes both as an [`IncomingMessage`] and, from the MUC
//! module, as a `GroupchatMessage` (`mucmessage`, with the occupant's nick): read one of the two.

use std::borrow::Cow;

use moxl_core::payload;
use moxl_core::stanza::StanzaError;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use serde::{Deserialize, Serialize};

use crate::rfc6121_presence::Localized;
use crate::xep_0280_carbons::Direction;
use crate::xep_0359_stable_ids::StanzaId;

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

/// A chat, normal or groupchat message with a body that reached this client (RFC 6121 §5.2): what
/// [`IncomingMessages`] delivers under the Packet key `incomingmessage`.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::rfc6121_message::{IncomingMessage, MessageType};
/// // RFC 6121 §5.2.3, Example (abridged)
/// let m = Element::parse("<message xmlns='jabber:client' from='juliet@example.com/balcony' id='ktx72v49' \
///     to='romeo@example.net' type='chat'><body>Wherefore art thou, Romeo?</body></message>")?;
/// let m = IncomingMessage::read(&m, None).unwrap();
/// assert_eq!((m.info.kind, m.body()), (MessageType::Chat, Some("Wherefore art thou, Romeo?")));
/// assert!(m.carbon.is_none());
/// // no body: a receipt, a chat state… is no incoming message (their own events deliver them)
/// let state = Element::parse("<message xmlns='jabber:client' from='juliet@example.com/balcony' type='chat'>\
///     <composing xmlns='http://jabber.org/protocol/chatstates'/></message>")?;
/// assert!(IncomingMessage::read(&state, None).is_none());
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IncomingMessage {
    /// The message: from, to, id, type, bodies, subjects, thread.
    pub info: MessageInfo,
    /// Its XEP-0359 stanza ids, with who assigned each (check `by` with [`StanzaId::id_by`]: only the ids
    /// assigned by our own server or the room are to be trusted).
    pub stanza_ids: Vec<StanzaId>,
    /// `Some` for a XEP-0280 carbon copy: [`Direction::Received`] (another client of ours received it) or
    /// [`Direction::Sent`] (another client of ours sent it; its `to` is the contact). `None` for a message sent
    /// to this client.
    pub carbon: Option<Direction>,
}

impl IncomingMessage {
    /// Reads a message as an incoming one: `None` unless it is a `<message/>` of type chat, normal (or none) or
    /// groupchat (headlines and errors are not conversation, §5.2.2) with at least one non-empty body (a
    /// message carrying only a receipt, a chat state, a marker, a reaction… is not delivered: those have their
    /// own events). `carbon` is the carbon envelope it was unwrapped from, if any.
    pub fn read(stanza: &Element, carbon: Option<Direction>) -> Option<IncomingMessage> {
        let info = MessageInfo::from_element(stanza)?;
        if !matches!(info.kind, MessageType::Chat | MessageType::Normal | MessageType::Groupchat) {
            return None;
        }
        if info.bodies.iter().all(|b| b.text.trim().is_empty()) {
            return None;
        }
        Some(IncomingMessage { info, stanza_ids: StanzaId::all_in(stanza), carbon })
    }

    /// The body in the stanza's default language, else the first (see [`MessageInfo::body`]).
    pub fn body(&self) -> Option<&str> {
        self.info.body(None)
    }
}

/// Delivers the messages that reached this client as [`IncomingMessage`]s under the Packet key
/// `incomingmessage`: top-level messages (never one nested in another: forwarded, archived, or in a stranger's
/// message), and the messages of XEP-0280 carbons, which the carbons module unwraps only when they come from our
/// own account, marked with their [`Direction`]. Archived messages (XEP-0313 results) are collected by their
/// query and never dispatched as live messages, so they are not delivered here. Which messages count: see
/// [`IncomingMessage::read`].
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::rfc6121_message::IncomingMessage;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// let mut messages = xec.events::<IncomingMessage>();
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='juliet@example.com/balcony' type='chat'>\
///     <body>Art thou not Romeo, and a Montague?</body></message>")?).await;
/// assert_eq!(messages.try_recv().unwrap().body(), Some("Art thou not Romeo, and a Montague?"));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "message", ns = "jabber:client", key = "incomingmessage")]
#[derive(Debug, Default)]
pub struct IncomingMessages;

impl Payload for IncomingMessages {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<IncomingMessage>()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        let carbon = ctx.envelope::<Direction>().copied();
        if ctx.is_unwrapped() && carbon.is_none() {
            // unwrapped by someone else than the carbons module: not a message that reached us
            return Ok(());
        }
        if let Some(message) = IncomingMessage::read(stanza, carbon) {
            ctx.pack(message).deliver();
        }
        Ok(())
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
    use crate::test_util::block_on;
    use moxl_core::jid::BareJid;
    use moxl_core::stanza::{Condition, message};
    use moxl_core::xec::Xec;

    fn romeo() -> Xec {
        Xec::builder().account(BareJid::new("romeo@montague.example").unwrap()).build().unwrap()
    }

    fn incoming(xec: &Xec, xml: &str) -> Vec<IncomingMessage> {
        let mut events = xec.events::<IncomingMessage>();
        block_on(xec.dispatch(Element::parse(xml).unwrap()));
        std::iter::from_fn(|| events.try_recv()).map(|e| (*e.into_inner()).clone()).collect()
    }

    #[test]
    fn chat_normal_and_groupchat_messages_with_a_body_are_delivered() {
        let xec = romeo();
        // RFC 6121 §5.2.3 (abridged), with a XEP-0359 stanza id
        let got = incoming(
            &xec,
            "<message xmlns='jabber:client' from='juliet@capulet.example/balcony' to='romeo@montague.example/garden' \
             type='chat' id='ktx72v49'><body>Wherefore art thou, Romeo?</body><thread>e0ffe42b</thread>\
             <stanza-id xmlns='urn:xmpp:sid:0' id='5f3dbc5e' by='romeo@montague.example'/></message>",
        );
        assert_eq!(got.len(), 1);
        let m = &got[0];
        assert_eq!(m.info.from.as_deref(), Some("juliet@capulet.example/balcony"));
        assert_eq!((m.info.kind, m.info.id.as_deref()), (MessageType::Chat, Some("ktx72v49")));
        assert_eq!(m.body(), Some("Wherefore art thou, Romeo?"));
        assert_eq!(m.info.thread.as_ref().map(|t| t.id.as_str()), Some("e0ffe42b"));
        assert_eq!(m.stanza_ids.len(), 1);
        assert_eq!(m.stanza_ids[0].id_by("romeo@montague.example"), Some("5f3dbc5e"));
        assert_eq!(m.carbon, None);
        for kind in ["", " type='normal'", " type='groupchat'"] {
            let xml = format!(
                "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch'{kind}><body>Thrice</body></message>"
            );
            assert_eq!(incoming(&xec, &xml).len(), 1, "{kind}");
        }
        // not chat: headline, error; no body: a chat state, a receipt, an empty body
        for xml in [
            "<message xmlns='jabber:client' from='news.example' type='headline'><body>News</body></message>",
            "<message xmlns='jabber:client' from='juliet@capulet.example/balcony' type='error'><body>hi</body>\
             <error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
            "<message xmlns='jabber:client' from='juliet@capulet.example/balcony' type='chat'>\
             <composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
            "<message xmlns='jabber:client' from='juliet@capulet.example/balcony' id='r2'>\
             <received xmlns='urn:xmpp:receipts' id='richard2-4.1.247'/></message>",
            "<message xmlns='jabber:client' from='juliet@capulet.example/balcony' type='chat'><body> </body></message>",
        ] {
            assert!(incoming(&xec, xml).is_empty(), "{xml}");
        }
    }

    #[test]
    fn carbons_are_delivered_as_carbons_and_forged_nested_messages_not_at_all() {
        let xec = romeo();
        // XEP-0280 §6, Example 10: a received carbon, from our own bare JID
        let got = incoming(
            &xec,
            "<message xmlns='jabber:client' from='romeo@montague.example' to='romeo@montague.example/home' type='chat'>\
             <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' from='juliet@capulet.example/balcony' to='romeo@montague.example/garden' type='chat'>\
             <body>What man art thou that, thus bescreen'd in night, so stumblest on my counsel?</body>\
             <thread>0e3141cd80894871a68e6fe6b1ec56fa</thread></message></forwarded></received></message>",
        );
        assert_eq!(got.len(), 1, "the copy only, not the carrying message");
        assert_eq!(got[0].carbon, Some(Direction::Received));
        assert_eq!(got[0].info.from.as_deref(), Some("juliet@capulet.example/balcony"));
        // §7, Example 12: a sent carbon
        let got = incoming(
            &xec,
            "<message xmlns='jabber:client' from='romeo@montague.example' to='romeo@montague.example/garden' type='chat'>\
             <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' to='juliet@capulet.example/balcony' from='romeo@montague.example/home' type='chat'>\
             <body>Neither, fair saint, if either thee dislike.</body></message></forwarded></sent></message>",
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].carbon, Some(Direction::Sent));
        // §11: the same carbon from a stranger, and a message forwarded inside a stranger's message: only the
        // stranger's own message (with its own body) is delivered, never the nested one
        for wrapper in ["received xmlns='urn:xmpp:carbons:2'", "x xmlns='urn:example:anything'"] {
            let name = wrapper.split(' ').next().unwrap();
            let xml = format!(
                "<message xmlns='jabber:client' from='mallory@evil.example/x' to='romeo@montague.example/home' type='chat'>\
                 <body>look</body><{wrapper}><forwarded xmlns='urn:xmpp:forward:0'>\
                 <message xmlns='jabber:client' from='juliet@capulet.example/balcony' to='romeo@montague.example/garden' type='chat'>\
                 <body>forged</body></message></forwarded></{name}></message>"
            );
            let got = incoming(&xec, &xml);
            assert_eq!(got.len(), 1, "{wrapper}");
            assert_eq!((got[0].body(), got[0].carbon), (Some("look"), None), "{wrapper}");
        }
    }

    #[test]
    fn archived_messages_are_not_incoming() {
        // XEP-0313 §4.2, Example 9: a result of our own archive (for a query of ours) is no live message
        let xec = romeo();
        let query = crate::xep_0313_mam::Query::new(None, Default::default(), Default::default());
        let queryid = query.queryid().to_owned();
        drop(query.send(&xec.context()).unwrap());
        let got = incoming(
            &xec,
            &format!(
                "<message xmlns='jabber:client' id='aeb213' to='romeo@montague.example/garden'>\
                 <result xmlns='urn:xmpp:mam:2' queryid='{queryid}' id='28482-98726-73623'><forwarded xmlns='urn:xmpp:forward:0'>\
                 <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>\
                 <message xmlns='jabber:client' to='romeo@montague.example/garden' from='juliet@capulet.example/balcony' type='chat'>\
                 <body>Call me but love, and I'll be new baptized</body></message></forwarded></result></message>"
            ),
        );
        assert!(got.is_empty());
    }

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
