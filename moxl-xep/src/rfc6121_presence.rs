//! RFC 6121 §3 and §4: presence. Builders for our presence ([`available`], [`unavailable`], [`directed`]) and for
//! subscription management ([`subscribe`], [`subscribed`], [`unsubscribe`], [`unsubscribed`]), a typed view of a
//! received presence ([`PresenceInfo`]), and three Payloads that deliver presence as typed events:
//!
//! | Payload | Packet key | fires for | content |
//! |---|---|---|---|
//! | [`SubscriptionRequests`] | `subscriptionrequest` | `type='subscribe'` (§3.1.3) | [`PresenceInfo`] |
//! | [`SubscriptionChanges`] | `subscriptionchange` | `subscribed`, `unsubscribe`, `unsubscribed` (§3.1.5, §3.2, §3.3) | [`PresenceInfo`] |
//! | [`PresenceUpdates`] | `presenceupdate` | available, `unavailable` and `error` presence (§4) | [`PresenceInfo`] |
//!
//! Every presence the client receives goes through them: each checks the `type` attribute first and builds the
//! view only for its own types. Presence from a multi-user chat room (with an `<x/>` of
//! `http://jabber.org/protocol/muc#user`, or the `muc` echo of a join error) is left to
//! [`xep_0045_muc`](crate::xep_0045_muc), which delivers it typed as an occupant's; `presenceupdate` skips it.

use std::borrow::Cow;

use moxl_core::payload;
use moxl_core::stanza::{StanzaError, presence};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use serde::{Deserialize, Serialize};

/// The `<show/>` values of available presence (§4.7.2.1).
///
/// ```
/// use moxl_xep::rfc6121_presence::Show;
/// assert_eq!(Show::from_name("dnd"), Some(Show::Dnd));
/// assert_eq!(Show::Xa.as_str(), "xa");
/// assert_eq!(Show::from_name("busy"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Show {
    /// Temporarily away.
    Away,
    /// Interested in chatting.
    Chat,
    /// Do not disturb.
    Dnd,
    /// Away for an extended period.
    Xa,
}

impl Show {
    /// The element text.
    pub fn as_str(self) -> &'static str {
        match self {
            Show::Away => "away",
            Show::Chat => "chat",
            Show::Dnd => "dnd",
            Show::Xa => "xa",
        }
    }

    /// Parses the element text; `None` for anything else (§4.7.2.1 allows no other value).
    pub fn from_name(name: &str) -> Option<Show> {
        match name.trim() {
            "away" => Some(Show::Away),
            "chat" => Some(Show::Chat),
            "dnd" => Some(Show::Dnd),
            "xa" => Some(Show::Xa),
            _ => None,
        }
    }
}

/// The type of a presence stanza (§4.7.1; none means available).
///
/// ```
/// use moxl_xep::rfc6121_presence::PresenceType;
/// assert_eq!(PresenceType::from_attr(None), Some(PresenceType::Available));
/// assert_eq!(PresenceType::from_attr(Some("subscribe")), Some(PresenceType::Subscribe));
/// assert_eq!(PresenceType::from_attr(Some("available")), None); // not a value of the schema
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PresenceType {
    /// No `type`: the sender is available.
    Available,
    /// The sender is no longer available (§4.5).
    Unavailable,
    /// A subscription request (§3.1).
    Subscribe,
    /// A subscription approved (§3.1.5) or pre-approved (§3.4).
    Subscribed,
    /// The sender unsubscribes from our presence (§3.3).
    Unsubscribe,
    /// A subscription request denied, or a subscription cancelled (§3.1.4, §3.2).
    Unsubscribed,
    /// A request for current presence, sent by servers (§4.3).
    Probe,
    /// An error about a presence we sent (§4.7.1).
    Error,
}

impl PresenceType {
    /// The `type` attribute's value (`None` for available presence).
    ///
    /// ```
    /// assert_eq!(moxl_xep::rfc6121_presence::PresenceType::Unsubscribed.as_attr(), Some("unsubscribed"));
    /// ```
    pub fn as_attr(self) -> Option<&'static str> {
        match self {
            PresenceType::Available => None,
            PresenceType::Unavailable => Some("unavailable"),
            PresenceType::Subscribe => Some("subscribe"),
            PresenceType::Subscribed => Some("subscribed"),
            PresenceType::Unsubscribe => Some("unsubscribe"),
            PresenceType::Unsubscribed => Some("unsubscribed"),
            PresenceType::Probe => Some("probe"),
            PresenceType::Error => Some("error"),
        }
    }

    /// Parses the `type` attribute; `None` for a value the schema does not allow.
    pub fn from_attr(kind: Option<&str>) -> Option<PresenceType> {
        Some(match kind {
            None => PresenceType::Available,
            Some("unavailable") => PresenceType::Unavailable,
            Some("subscribe") => PresenceType::Subscribe,
            Some("subscribed") => PresenceType::Subscribed,
            Some("unsubscribe") => PresenceType::Unsubscribe,
            Some("unsubscribed") => PresenceType::Unsubscribed,
            Some("probe") => PresenceType::Probe,
            Some("error") => PresenceType::Error,
            Some(_) => return None,
        })
    }
}

/// A text with its language (`xml:lang`), as in `<status/>`, `<body/>` and `<subject/>` (RFC 6120 §8.1.5).
///
/// ```
/// let s = moxl_xep::rfc6121_presence::Localized { lang: Some("cs".into()), text: "Dvorak je zde".into() };
/// assert_eq!(s.lang.as_deref(), Some("cs"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Localized {
    /// The element's own `xml:lang`, if any (else the stanza's default language applies).
    pub lang: Option<String>,
    /// The text.
    pub text: String,
}

impl Localized {
    /// The children `name` in `ns` of `parent`, with their languages.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::rfc6121_presence::Localized;
    /// let p = Element::parse("<presence xmlns='jabber:client'><status>hi</status><status xml:lang='fr'>salut</status></presence>")?;
    /// let all = Localized::all_in(&p, "status", "jabber:client");
    /// assert_eq!((all[1].lang.as_deref(), all[1].text.as_str()), (Some("fr"), "salut"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(parent: &Element, name: &str, ns: &str) -> Vec<Localized> {
        parent
            .children()
            .filter(|c| c.is(name, ns))
            .map(|c| Localized { lang: c.attr("xml:lang").map(Cow::into_owned), text: c.text().into_owned() })
            .collect()
    }

    /// The text in `lang`, else the one without a language, else the first (RFC 6120 §8.1.5).
    ///
    /// ```
    /// use moxl_xep::rfc6121_presence::Localized;
    /// let all = [Localized { lang: None, text: "hi".into() }, Localized { lang: Some("fr".into()), text: "salut".into() }];
    /// assert_eq!(Localized::pick(&all, Some("fr")), Some("salut"));
    /// assert_eq!(Localized::pick(&all, Some("de")), Some("hi"));
    /// assert_eq!(Localized::pick(&[], None), None);
    /// ```
    pub fn pick<'a>(all: &'a [Localized], lang: Option<&str>) -> Option<&'a str> {
        let with = |l: Option<&str>| all.iter().find(|s| s.lang.as_deref() == l);
        lang.and_then(|l| with(Some(l))).or_else(|| with(None)).or_else(|| all.first()).map(|s| s.text.as_str())
    }
}

/// A received presence, typed (§4.7).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::rfc6121_presence::{PresenceInfo, PresenceType, Show};
/// // RFC 6121 §4.7.2.1–§4.7.2.3 (combined)
/// let p = Element::parse("<presence xmlns='jabber:client' from='romeo@example.net/orchard' xml:lang='en'>\
///     <show>dnd</show><status>Wooing Juliet</status><status xml:lang='cs'>Dvo&#x0159;&#x00ED;m se Julii</status>\
///     <priority>1</priority></presence>")?;
/// let p = PresenceInfo::from_element(&p).unwrap();
/// assert_eq!((p.kind, p.show, p.priority), (PresenceType::Available, Some(Show::Dnd), 1));
/// assert_eq!(p.status(Some("cs")), Some("Dvořím se Julii"));
/// assert_eq!(p.status(None), Some("Wooing Juliet"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PresenceInfo {
    /// The sender (a full JID for available presence, a bare JID for subscription stanzas).
    pub from: Option<String>,
    /// The type.
    pub kind: PresenceType,
    /// The availability, for available presence.
    pub show: Option<Show>,
    /// The status texts, with their languages.
    pub statuses: Vec<Localized>,
    /// The priority, -128 to 127 (§4.7.2.3: 0 when missing; a value out of range or not a number reads as 0).
    pub priority: i8,
    /// The error, for `type='error'`.
    pub error: Option<StanzaError>,
}

impl PresenceInfo {
    /// Reads a `<presence/>`; `None` for another element or a `type` the schema does not allow.
    pub fn from_element(stanza: &Element) -> Option<PresenceInfo> {
        if !stanza.is("presence", ns::CLIENT) {
            return None;
        }
        let kind = PresenceType::from_attr(stanza.attr("type").as_deref())?;
        Some(PresenceInfo {
            from: stanza.attr("from").map(Cow::into_owned),
            kind,
            show: stanza.child("show", ns::CLIENT).and_then(|s| Show::from_name(&s.text())),
            statuses: Localized::all_in(stanza, "status", ns::CLIENT),
            priority: stanza.child("priority", ns::CLIENT).and_then(|p| parse_priority(&p.text())).unwrap_or(0),
            error: (kind == PresenceType::Error).then(|| StanzaError::from_stanza(stanza)).flatten(),
        })
    }

    /// The status in `lang` (else the one without a language, else the first).
    pub fn status(&self, lang: Option<&str>) -> Option<&str> {
        Localized::pick(&self.statuses, lang)
    }
}

/// Parses a `<priority/>` (§4.7.2.3): an integer from -128 to 127; `None` otherwise.
///
/// ```
/// use moxl_xep::rfc6121_presence::parse_priority;
/// assert_eq!(parse_priority(" -128 "), Some(-128));
/// assert_eq!(parse_priority("128"), None);
/// assert_eq!(parse_priority("high"), None);
/// ```
pub fn parse_priority(text: &str) -> Option<i8> {
    text.trim().parse().ok()
}

/// Our available presence (§4.2, §4.7.2): with a `<show/>`, a status and a priority, each when given. Sent
/// without `to` it is broadcast to our subscribers; see [`directed`] for one entity.
///
/// ```
/// use moxl_xep::rfc6121_presence::{available, Show};
/// // RFC 6121 §4.7.2 (combined)
/// let p = available(Some(Show::Dnd), Some("Wooing Juliet"), Some(1)).build()?;
/// assert_eq!(
///     p.to_xml(),
///     "<presence xmlns='jabber:client'><show>dnd</show><status>Wooing Juliet</status><priority>1</priority></presence>"
/// );
/// assert_eq!(available(None, None, None).build()?.to_xml(), "<presence xmlns='jabber:client'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn available(show: Option<Show>, status: Option<&str>, priority: Option<i8>) -> ElementBuilder {
    let mut p = presence(None, None);
    if let Some(show) = show {
        p = p.text_child("show", show.as_str());
    }
    if let Some(status) = status {
        p = p.text_child("status", status.to_owned());
    }
    match priority {
        Some(priority) => p.text_child("priority", priority.to_string()),
        None => p,
    }
}

/// Adds a `<status/>` in `lang` (§4.7.2.2: one per language).
///
/// ```
/// use moxl_xep::rfc6121_presence::{available, with_status, Show};
/// let p = with_status(available(Some(Show::Dnd), Some("Wooing Juliet"), None), "cs", "Dvořím se Julii").build()?;
/// assert!(p.to_xml().ends_with("<status>Wooing Juliet</status><status xml:lang='cs'>Dvořím se Julii</status></presence>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_status(presence: ElementBuilder, lang: &str, text: &str) -> ElementBuilder {
    presence.append(ElementBuilder::new("status", ns::CLIENT).attr("xml:lang", lang.to_owned()).text(text.to_owned()))
}

/// Unavailable presence (§4.5), with an optional status; sent without `to` it ends our presence session.
///
/// ```
/// let p = moxl_xep::rfc6121_presence::unavailable(Some("gone home")).build()?;
/// assert_eq!(p.to_xml(), "<presence xmlns='jabber:client' type='unavailable'><status>gone home</status></presence>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn unavailable(status: Option<&str>) -> ElementBuilder {
    let p = presence(None, Some("unavailable"));
    match status {
        Some(status) => p.text_child("status", status.to_owned()),
        None => p,
    }
}

/// Makes a presence directed (§4.6): sent to `to` only, e.g. to someone not subscribed to us.
///
/// ```
/// use moxl_xep::rfc6121_presence::{available, directed};
/// // RFC 6121 §4.6.2
/// let p = directed(available(None, None, None), "benvolio@example.net").build()?;
/// assert_eq!(p.to_xml(), "<presence xmlns='jabber:client' to='benvolio@example.net'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn directed(presence: ElementBuilder, to: &str) -> ElementBuilder {
    presence.attr("to", to.to_owned())
}

/// Requests a subscription to `to`'s presence (§3.1.1). Address the bare JID.
///
/// ```
/// let p = moxl_xep::rfc6121_presence::subscribe("juliet@example.com").attr("id", "xk3h1v69").build()?;
/// assert_eq!(p.to_xml(), "<presence xmlns='jabber:client' to='juliet@example.com' type='subscribe' id='xk3h1v69'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn subscribe(to: &str) -> ElementBuilder {
    presence(Some(to), Some("subscribe"))
}

/// Approves `to`'s subscription request (§3.1.5), or pre-approves one not yet made (§3.4, when the server
/// offers pre-approval).
///
/// ```
/// let p = moxl_xep::rfc6121_presence::subscribed("romeo@example.net").build()?;
/// assert_eq!(p.to_xml(), "<presence xmlns='jabber:client' to='romeo@example.net' type='subscribed'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn subscribed(to: &str) -> ElementBuilder {
    presence(Some(to), Some("subscribed"))
}

/// Unsubscribes from `to`'s presence (§3.3).
///
/// ```
/// let p = moxl_xep::rfc6121_presence::unsubscribe("juliet@example.com").build()?;
/// assert_eq!(p.to_xml(), "<presence xmlns='jabber:client' to='juliet@example.com' type='unsubscribe'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn unsubscribe(to: &str) -> ElementBuilder {
    presence(Some(to), Some("unsubscribe"))
}

/// Denies `to`'s subscription request (§3.1.4) or cancels the subscription `to` has to our presence (§3.2).
///
/// ```
/// let p = moxl_xep::rfc6121_presence::unsubscribed("romeo@example.net").build()?;
/// assert_eq!(p.to_xml(), "<presence xmlns='jabber:client' to='romeo@example.net' type='unsubscribed'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn unsubscribed(to: &str) -> ElementBuilder {
    presence(Some(to), Some("unsubscribed"))
}

/// Whether a presence comes from a multi-user chat room: it carries MUC's `<x/>` (XEP-0045 §7.2.3, §7.2.6).
fn is_from_room(stanza: &Element) -> bool {
    stanza.children().any(|c| c.name() == "x" && c.ns().starts_with("http://jabber.org/protocol/muc"))
}

/// Delivers each subscription request (§3.1.3) as a [`PresenceInfo`] under the Packet key
/// `subscriptionrequest`. Answer with [`subscribed`] or [`unsubscribed`]; a contact we pre-approved is
/// approved by the server, which then sends no request (§3.4).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::rfc6121_presence::{PresenceInfo, PresenceType};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// let mut requests = xec.subscribe("subscriptionrequest");
/// // RFC 6121 §3.1.3
/// xec.dispatch(Element::parse("<presence xmlns='jabber:client' from='romeo@example.net' to='juliet@example.com' type='subscribe'/>")?).await;
/// let request = requests.try_recv().unwrap();
/// assert_eq!(request.content::<PresenceInfo>().unwrap().kind, PresenceType::Subscribe);
/// assert_eq!(request.from(), Some("romeo@example.net"));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "presence", ns = "jabber:client", key = "subscriptionrequest")]
#[derive(Debug, Default)]
pub struct SubscriptionRequests;

impl Payload for SubscriptionRequests {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<PresenceInfo>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> moxl_core::Result<()> {
        // (the presence Payloads fire for the stanza itself only: never for a presence nested in another stanza)
        if element.attr("type").as_deref() == Some("subscribe")
            && let Some(info) = PresenceInfo::from_element(element)
        {
            ctx.pack(info).deliver();
        }
        Ok(())
    }
}

/// Delivers the other subscription stanzas (`subscribed`: our request was approved, §3.1.5; `unsubscribed`:
/// denied or cancelled, §3.1.4, §3.2; `unsubscribe`: the contact unsubscribed from us, §3.3) as a
/// [`PresenceInfo`] under the Packet key `subscriptionchange`. The roster push that follows each carries the
/// new subscription state.
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) {
/// let mut changes = xec.subscribe("subscriptionchange");
/// # }
/// ```
#[payload(name = "presence", ns = "jabber:client", key = "subscriptionchange")]
#[derive(Debug, Default)]
pub struct SubscriptionChanges;

impl Payload for SubscriptionChanges {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<PresenceInfo>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> moxl_core::Result<()> {
        let kind = element.attr("type");
        if matches!(kind.as_deref(), Some("subscribed" | "unsubscribe" | "unsubscribed"))
            && let Some(info) = PresenceInfo::from_element(element)
        {
            ctx.pack(info).deliver();
        }
        Ok(())
    }
}

/// Delivers presence updates (available, `unavailable`, and `error` about a presence we sent; §4) as a
/// [`PresenceInfo`] under the Packet key `presenceupdate`. The Packet's sender is the presence's `from`: a
/// contact's full JID or another resource of ours. Room presence is left to the MUC module (see the
/// [module documentation](self)).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::rfc6121_presence::{PresenceInfo, PresenceType};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// let mut updates = xec.subscribe("presenceupdate");
/// // RFC 6121 §4.5.3
/// xec.dispatch(Element::parse("<presence xmlns='jabber:client' from='romeo@example.net/orchard' type='unavailable'/>")?).await;
/// assert_eq!(updates.try_recv().unwrap().content::<PresenceInfo>().unwrap().kind, PresenceType::Unavailable);
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "presence", ns = "jabber:client", key = "presenceupdate")]
#[derive(Debug, Default)]
pub struct PresenceUpdates;

impl Payload for PresenceUpdates {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<PresenceInfo>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        if matches!(element.attr("type").as_deref(), None | Some("unavailable" | "error"))
            && !is_from_room(stanza)
            && let Some(info) = PresenceInfo::from_element(element)
        {
            ctx.pack(info).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::stanza::Condition;
    use moxl_core::xec::Xec;

    #[test]
    fn spec_presences_are_typed() {
        // §4.7.2 examples, an out-of-range priority, an error (§4.7.1)
        let p = Element::parse(
            "<presence xmlns='jabber:client' from='juliet@example.com/balcony'><show>xa</show><priority>500</priority></presence>",
        )
        .unwrap();
        let p = PresenceInfo::from_element(&p).unwrap();
        assert_eq!((p.show, p.priority, p.status(None)), (Some(Show::Xa), 0, None));
        let e = Element::parse(
            "<presence xmlns='jabber:client' from='romeo@example.net' type='error'><error type='cancel'>\
             <remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>",
        )
        .unwrap();
        let e = PresenceInfo::from_element(&e).unwrap();
        assert_eq!(e.error.and_then(|e| e.condition()), Some(Condition::RemoteServerNotFound));
        let bad = Element::parse("<presence xmlns='jabber:client' type='invisible'/>").unwrap();
        assert_eq!(PresenceInfo::from_element(&bad), None);
    }

    #[test]
    fn each_presence_reaches_one_payload() {
        let xec = Xec::new().unwrap();
        let mut all = xec.packets();
        for (kind, key) in [
            ("", "presenceupdate"),
            (" type='unavailable'", "presenceupdate"),
            (" type='error'", "presenceupdate"),
            (" type='subscribe'", "subscriptionrequest"),
            (" type='subscribed'", "subscriptionchange"),
            (" type='unsubscribe'", "subscriptionchange"),
            (" type='unsubscribed'", "subscriptionchange"),
        ] {
            let xml = format!("<presence xmlns='jabber:client' from='romeo@example.net'{kind}/>");
            block_on(xec.dispatch(Element::parse(&xml).unwrap()));
            let keys: Vec<_> = std::iter::from_fn(|| all.try_recv()).map(|p| p.key().to_owned()).collect();
            assert_eq!(keys, [key], "{kind}");
        }
        // a probe is the server's business; a presence forwarded inside a message is not ours to report; room
        // presence is the MUC module's
        for xml in [
            "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch'>\
             <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/></x></presence>",
            "<presence xmlns='jabber:client' from='example.com' type='probe'/>",
            "<message xmlns='jabber:client'><presence xmlns='jabber:client' from='a@b/c'/></message>",
        ] {
            block_on(xec.dispatch(Element::parse(xml).unwrap()));
            let keys: Vec<_> = std::iter::from_fn(|| all.try_recv()).map(|p| p.key().to_owned()).collect();
            assert!(!keys.iter().any(|k| k.starts_with("presence") || k.starts_with("subscription")), "{xml}");
        }
    }

    #[test]
    fn builders_round_trip_through_the_view() {
        let p = with_status(directed(available(Some(Show::Chat), Some("hi"), Some(-128)), "a@b"), "fr", "salut")
            .attr("from", "c@d/e")
            .build()
            .unwrap();
        let info = PresenceInfo::from_element(&p).unwrap();
        assert_eq!((info.show, info.priority, info.status(Some("fr"))), (Some(Show::Chat), -128, Some("salut")));
        for (builder, kind) in [
            (subscribe("a@b"), PresenceType::Subscribe),
            (subscribed("a@b"), PresenceType::Subscribed),
            (unsubscribe("a@b"), PresenceType::Unsubscribe),
            (unsubscribed("a@b"), PresenceType::Unsubscribed),
            (unavailable(None), PresenceType::Unavailable),
        ] {
            assert_eq!(PresenceInfo::from_element(&builder.build().unwrap()).map(|i| i.kind), Some(kind));
        }
    }
}
