//! XEP-0118: User Tune, on our PEP node `http://jabber.org/protocol/tune` (§4): [`Tune`], the [`Publish`] and
//! [`Get`] Actions (group `tune`) and the [`TuneEvents`] Payload (key `tune`; we declare
//! `http://jabber.org/protocol/tune+notify`). Built on the shared shape of
//! [`xep_0080_geoloc`](crate::xep_0080_geoloc) ([`PepData`], [`UserData`]).

use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0080_geoloc::{PepData, UserData, fetch_data, publish_data};

/// `http://jabber.org/protocol/tune` (§4): the namespace and the PEP node.
///
/// ```
/// assert_eq!(moxl_xep::xep_0118_tune::NS, "http://jabber.org/protocol/tune");
/// ```
pub const NS: &str = "http://jabber.org/protocol/tune";

moxl_core::feature!("http://jabber.org/protocol/tune+notify");

/// What the user listens to (§3). An empty `<tune/>` says it stopped (§4.3): [`Tune::is_empty`].
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::PepData;
/// use moxl_xep::xep_0118_tune::Tune;
/// // §4.1, Example 1
/// let t = Element::parse("<tune xmlns='http://jabber.org/protocol/tune'><artist>Yes</artist><length>686</length>\
///     <rating>8</rating><source>Yessongs</source><title>Heart of the Sunrise</title><track>3</track>\
///     <uri>http://www.yesworld.com/lyrics/Fragile.html#9</uri></tune>")?;
/// let t = Tune::from_element(&t).unwrap();
/// assert_eq!((t.artist.as_deref(), t.length, t.rating), (Some("Yes"), Some(686), Some(8)));
/// assert_eq!(Tune::from_element(&t.to_element().build()?), Some(t));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Tune {
    /// `artist`.
    pub artist: Option<String>,
    /// `length`: the duration in seconds.
    pub length: Option<u32>,
    /// `rating`: 1 (lowest) to 10 (highest).
    pub rating: Option<u8>,
    /// `source`: the album, or other collection.
    pub source: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `track`: a position in the source (text, e.g. `3` or `A2`).
    pub track: Option<String>,
    /// `uri`: where to learn more.
    pub uri: Option<String>,
}

impl Tune {
    /// Whether nothing is set (§4.3: the user stopped listening).
    ///
    /// ```
    /// assert!(moxl_xep::xep_0118_tune::Tune::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self == Tune::default()
    }
}

impl PepData for Tune {
    const NODE: &'static str = NS;

    fn from_element(t: &Element) -> Option<Tune> {
        if !t.is("tune", NS) {
            return None;
        }
        let text = |name: &str| t.child_text(name, NS).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        Some(Tune {
            artist: text("artist"),
            length: text("length").and_then(|l| l.parse().ok()),
            rating: text("rating").and_then(|r| r.parse().ok()).filter(|r| (1..=10).contains(r)),
            source: text("source"),
            title: text("title"),
            track: text("track"),
            uri: text("uri"),
        })
    }

    fn to_element(&self) -> ElementBuilder {
        let mut t = ElementBuilder::new("tune", NS);
        for (name, value) in [
            ("artist", self.artist.clone()),
            ("length", self.length.map(|l| l.to_string())),
            ("rating", self.rating.map(|r| r.to_string())),
            ("source", self.source.clone()),
            ("title", self.title.clone()),
            ("track", self.track.clone()),
            ("uri", self.uri.clone()),
        ] {
            if let Some(v) = value {
                t = t.text_child(name, v);
            }
        }
        t
    }
}

/// Publishes our tune (§4.1; an empty [`Tune`] says we stopped, §4.3).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `tune_publish_handle` | none |
/// | error | `tune_publish_error<condition>` | the [`StanzaError`](moxl_core::stanza::StanzaError) |
///
/// ```
/// use moxl_xep::xep_0118_tune::{Publish, Tune};
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let mut tune = Tune::default();
/// tune.title = Some("Heart of the Sunrise".into());
/// xec.context().request(Publish { tune })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Publish {
    /// The tune.
    pub tune: Tune,
}

#[action(group = "tune")]
impl Publish {
    fn request(&self) -> ElementBuilder {
        publish_data(&self.tune)
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }
}

/// Reads the tune of `from` (`None`: ours).
///
/// Its `Output` is the [`UserData`] read (`ctx.request(..)?.await`); the Packets are the second view.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `tune_get_handle` | [`UserData`]`<`[`Tune`]`>` |
/// | error (`item-not-found`: never published) | `tune_get_error<condition>` | the [`StanzaError`](moxl_core::stanza::StanzaError) |
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// // the Output, also delivered as the Packet in the table
/// let read = xec.context().request(moxl_xep::xep_0118_tune::Get { from: Some("stpeter@jabber.org".into()) })?.await?;
/// println!("{:?} published {:?}", read.from, read.data.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Get {
    /// Whose tune (a bare JID); `None` for ours.
    pub from: Option<String>,
}

#[action(group = "tune")]
impl Get {
    /// What was read: the publisher, the item id and the data (`None`: nothing published).
    type Output = UserData<Tune>;

    fn request(&self) -> ElementBuilder {
        fetch_data::<Tune>(self.from.as_deref())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<UserData<Tune>> {
        Ok(UserData::<Tune>::from_result(stanza))
    }
}

/// Delivers tune notifications as [`UserData`]`<`[`Tune`]`>` (Packet key `tune`, sender the publisher).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::UserData;
/// use moxl_xep::xep_0118_tune::Tune;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// // the typed view of the Packets keyed `tune`
/// let mut tunes = xec.events::<UserData<Tune>>();
/// // §4.1, Example 2 (abridged)
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='stpeter@jabber.org' to='maineboy@jabber.org'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='http://jabber.org/protocol/tune'>\
///     <item id='bffe6584-0f9c-11dc-84ba-001143d5d5db'><tune xmlns='http://jabber.org/protocol/tune'>\
///     <artist>Yes</artist><title>Heart of the Sunrise</title></tune></item></items></event></message>")?).await;
/// let p = tunes.try_recv().unwrap();
/// assert_eq!(p.data.as_ref().unwrap().artist.as_deref(), Some("Yes"));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(
    name = "event",
    ns = "http://jabber.org/protocol/pubsub#event",
    node = "http://jabber.org/protocol/tune",
    key = "tune",
    at = "child"
)]
#[derive(Debug, Default)]
pub struct TuneEvents;

impl Payload for TuneEvents {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(u) = UserData::<Tune>::from_event(stanza) {
            ctx.pack(u).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_numbers_are_dropped_and_empty_means_stopped() {
        let t = Element::parse(
            "<tune xmlns='http://jabber.org/protocol/tune'><length>-3</length><rating>11</rating><title> T </title></tune>",
        )
        .unwrap();
        let t = Tune::from_element(&t).unwrap();
        assert_eq!((t.length, t.rating, t.title.as_deref()), (None, None, Some("T")));
        // §4.3, Example 3
        let stop =
            Tune::from_element(&Element::parse("<tune xmlns='http://jabber.org/protocol/tune'/>").unwrap()).unwrap();
        assert!(stop.is_empty());
        assert_eq!(stop.to_element().build().unwrap().to_xml(), "<tune xmlns='http://jabber.org/protocol/tune'/>");
    }
}
