//! XEP-0107: User Mood, on our PEP node `http://jabber.org/protocol/mood` (§2): [`Mood`], the [`Publish`] and
//! [`Get`] Actions (group `mood`) and the [`MoodEvents`] Payload (key `mood`; we declare
//! `http://jabber.org/protocol/mood+notify`). Built on the shared shape of
//! [`xep_0080_geoloc`](crate::xep_0080_geoloc) ([`PepData`], [`UserData`]).

use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0080_geoloc::{PepData, UserData, fetch_data, publish_data};

/// `http://jabber.org/protocol/mood` (§2): the namespace and the PEP node.
///
/// ```
/// assert_eq!(moxl_xep::xep_0107_mood::NS, "http://jabber.org/protocol/mood");
/// ```
pub const NS: &str = "http://jabber.org/protocol/mood";

moxl_core::feature!("http://jabber.org/protocol/mood+notify");

/// The moods of §11 (element names; `in_awe`, `in_love` with an underscore).
///
/// ```
/// assert!(moxl_xep::xep_0107_mood::MOODS.contains(&"happy"));
/// assert_eq!(moxl_xep::xep_0107_mood::MOODS.len(), 84);
/// ```
pub const MOODS: [&str; 84] = [
    "afraid",
    "amazed",
    "amorous",
    "angry",
    "annoyed",
    "anxious",
    "aroused",
    "ashamed",
    "bored",
    "brave",
    "calm",
    "cautious",
    "cold",
    "confident",
    "confused",
    "contemplative",
    "contented",
    "cranky",
    "crazy",
    "creative",
    "curious",
    "dejected",
    "depressed",
    "disappointed",
    "disgusted",
    "dismayed",
    "distracted",
    "embarrassed",
    "envious",
    "excited",
    "flirtatious",
    "frustrated",
    "grateful",
    "grieving",
    "grumpy",
    "guilty",
    "happy",
    "hopeful",
    "hot",
    "humbled",
    "humiliated",
    "hungry",
    "hurt",
    "impressed",
    "in_awe",
    "in_love",
    "indignant",
    "interested",
    "intoxicated",
    "invincible",
    "jealous",
    "lonely",
    "lost",
    "lucky",
    "mean",
    "moody",
    "nervous",
    "neutral",
    "offended",
    "outraged",
    "playful",
    "proud",
    "relaxed",
    "relieved",
    "remorseful",
    "restless",
    "sad",
    "sarcastic",
    "satisfied",
    "serious",
    "shocked",
    "shy",
    "sick",
    "sleepy",
    "spontaneous",
    "stressed",
    "strong",
    "surprised",
    "thankful",
    "thirsty",
    "tired",
    "undefined",
    "weak",
    "worried",
];

/// A user mood (§2.1): one of [`MOODS`] and an optional text. An empty `<mood/>` says the user stopped
/// publishing a mood (§2.2): its `value` is empty.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::PepData;
/// use moxl_xep::xep_0107_mood::Mood;
/// // §2.1, Example 1
/// let m = Element::parse("<mood xmlns='http://jabber.org/protocol/mood'><happy/><text>Yay, the mood spec has been approved!</text></mood>")?;
/// let m = Mood::from_element(&m).unwrap();
/// assert_eq!(m.value, "happy");
/// assert_eq!(Mood::from_element(&m.to_element().build()?), Some(m));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Mood {
    /// The mood's element name (one of [`MOODS`]); empty for none.
    pub value: String,
    /// A natural-language description.
    pub text: Option<String>,
}

impl Mood {
    /// The mood `value`, without text.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0107_mood::Mood::new("happy").value, "happy");
    /// ```
    pub fn new(value: impl Into<String>) -> Mood {
        Mood { value: value.into(), text: None }
    }

    /// Whether no mood is set (§2.2).
    ///
    /// ```
    /// assert!(moxl_xep::xep_0107_mood::Mood::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

impl PepData for Mood {
    const NODE: &'static str = NS;

    /// Reads a `<mood/>`: a known mood element (an unknown one, or one of another namespace, is left out; §2.1
    /// allows a more specific mood as its child, which is not read).
    fn from_element(m: &Element) -> Option<Mood> {
        if !m.is("mood", NS) {
            return None;
        }
        let value = m.children().find(|c| c.ns() == NS && c.name() != "text" && MOODS.contains(&c.name()));
        Some(Mood { value: value.map(|v| v.name().to_owned()).unwrap_or_default(), text: m.child_text("text", NS) })
    }

    /// Writes the `<mood/>`; a value not in [`MOODS`] is not written.
    fn to_element(&self) -> ElementBuilder {
        let mut m = ElementBuilder::new("mood", NS);
        if let Some(v) = MOODS.iter().find(|v| !v.is_empty() && **v == self.value) {
            m = m.append(ElementBuilder::new(*v, NS));
        }
        if let Some(text) = &self.text {
            m = m.text_child("text", text.clone());
        }
        m
    }
}

/// Publishes our mood ([`Mood`]).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `mood_publish_handle` | none |
/// | error | `mood_publish_error<condition>` | the [`StanzaError`](moxl_core::stanza::StanzaError) |
///
/// ```
/// use moxl_xep::xep_0107_mood::{Publish, Mood};
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(Publish { mood: Mood::new("happy") })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Publish {
    /// What to publish.
    pub mood: Mood,
}

#[action(group = "mood")]
impl Publish {
    fn request(&self) -> ElementBuilder {
        publish_data(&self.mood)
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }
}

/// Reads the mood of `from` (`None`: ours).
///
/// Its `Output` is the [`UserData`] read (`ctx.request(..)?.await`); the Packets are the second view.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `mood_get_handle` | [`UserData`]`<`[`Mood`]`>` |
/// | error (`item-not-found`: never published) | `mood_get_error<condition>` | the [`StanzaError`](moxl_core::stanza::StanzaError) |
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// // the Output, also delivered as the Packet in the table
/// let read = xec.context().request(moxl_xep::xep_0107_mood::Get { from: Some("romeo@montague.lit".into()) })?.await?;
/// println!("{:?} published {:?}", read.from, read.data.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Get {
    /// Whose mood (a bare JID); `None` for ours.
    pub from: Option<String>,
}

#[action(group = "mood")]
impl Get {
    /// What was read: the publisher, the item id and the data (`None`: nothing published).
    type Output = UserData<Mood>;

    fn request(&self) -> ElementBuilder {
        fetch_data::<Mood>(self.from.as_deref())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<UserData<Mood>> {
        Ok(UserData::<Mood>::from_result(stanza))
    }
}

/// Delivers mood notifications as [`UserData`]`<`[`Mood`]`>` (Packet key `mood`, sender the publisher).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::UserData;
/// use moxl_xep::xep_0107_mood::Mood;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// // the typed view of the Packets keyed `mood`
/// let mut events = xec.events::<UserData<Mood>>();
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='romeo@montague.lit'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='http://jabber.org/protocol/mood'>\
///     <item id='current'><mood xmlns='http://jabber.org/protocol/mood'><annoyed/><text>curse my nurse!</text></mood></item></items></event></message>")?).await;
/// let p = events.try_recv().unwrap();
/// let data = p.data.as_ref().unwrap();
/// assert!(data.value == "annoyed" && data.text.as_deref() == Some("curse my nurse!"));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(
    name = "event",
    ns = "http://jabber.org/protocol/pubsub#event",
    node = "http://jabber.org/protocol/mood",
    key = "mood",
    at = "child"
)]
#[derive(Debug, Default)]
pub struct MoodEvents;

impl Payload for MoodEvents {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(u) = UserData::<Mood>::from_event(stanza) {
            ctx.pack(u).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_moods_are_not_read_nor_written() {
        let m = Element::parse("<mood xmlns='http://jabber.org/protocol/mood'><gloomy/><sad/><text>x</text></mood>")
            .unwrap();
        assert_eq!(Mood::from_element(&m).unwrap().value, "sad");
        let bad = Mood { value: "not a mood".into(), text: None };
        assert_eq!(bad.to_element().build().unwrap().to_xml(), "<mood xmlns='http://jabber.org/protocol/mood'/>");
        // §2.2, Example 3: stop publishing
        let stop =
            Mood::from_element(&Element::parse("<mood xmlns='http://jabber.org/protocol/mood'/>").unwrap()).unwrap();
        assert!(stop.is_empty());
    }
}
