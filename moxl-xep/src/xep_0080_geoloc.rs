//! XEP-0080: User Location, published on our PEP node `http://jabber.org/protocol/geoloc` (§4.1) and read
//! from contacts: [`Geoloc`], the [`Publish`] and [`Get`] Actions (group `geoloc`), and the [`GeolocEvents`]
//! Payload (key `geoloc`; we declare `http://jabber.org/protocol/geoloc+notify`).
//!
//! # The shape shared by the user-data PEP modules
//!
//! User location, mood (XEP-0107), activity (XEP-0108), tune (XEP-0118), nickname (XEP-0172) and the avatar
//! metadata (XEP-0084) each publish one element on a PEP node named after its namespace (XEP-0163 §4) and
//! read it back from items results and event notifications. [`PepData`] is that element's view and
//! [`UserData`] what was read; the modules use [`publish_data`], [`fetch_data`], [`UserData::from_result`]
//! and [`UserData::from_event`]. They extend [`crate::xep_0163_pep`] (which has the builders and the check that an
//! event comes from a PEP service) with the typed element of a node.

use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0060_pubsub::{self as pubsub, Event, EventKind, Item};
use crate::xep_0163_pep::is_pep_event;

/// `http://jabber.org/protocol/geoloc` (§4): the namespace and the PEP node.
///
/// ```
/// assert_eq!(moxl_xep::xep_0080_geoloc::NS, "http://jabber.org/protocol/geoloc");
/// ```
pub const NS: &str = "http://jabber.org/protocol/geoloc";

moxl_core::feature!("http://jabber.org/protocol/geoloc+notify");

/// An element published alone on a PEP node named after its namespace (XEP-0163 §4).
///
/// ```
/// use moxl_xep::xep_0080_geoloc::{Geoloc, PepData};
/// assert_eq!(Geoloc::NODE, "http://jabber.org/protocol/geoloc");
/// ```
pub trait PepData: Sized {
    /// The node (and the element's namespace).
    const NODE: &'static str;
    /// Reads the element (`None` for another one).
    fn from_element(element: &Element) -> Option<Self>;
    /// Writes the element.
    fn to_element(&self) -> ElementBuilder;
}

/// The publish of `data` on our node (XEP-0163 §4.3; the item id is `current`, as for other singletons).
///
/// ```
/// use moxl_xep::xep_0080_geoloc::{publish_data, Geoloc};
/// let mut here = Geoloc::default();
/// here.locality = Some("Verona".into());
/// let iq = publish_data(&here).build()?;
/// assert!(iq.to_xml().contains("<publish node='http://jabber.org/protocol/geoloc'><item id='current'>\
///     <geoloc xmlns='http://jabber.org/protocol/geoloc'><locality>Verona</locality></geoloc></item></publish>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn publish_data<T: PepData>(data: &T) -> ElementBuilder {
    pubsub::publish(None, T::NODE, Some("current"), data.to_element())
}

/// The request for the last item of `from`'s node (`None`: ours; XEP-0060 §6.5.7).
///
/// ```
/// use moxl_xep::xep_0080_geoloc::{fetch_data, Geoloc};
/// let iq = fetch_data::<Geoloc>(Some("juliet@capulet.lit")).build()?;
/// assert!(iq.to_xml().contains("<items node='http://jabber.org/protocol/geoloc' max_items='1'/>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn fetch_data<T: PepData>(from: Option<&str>) -> ElementBuilder {
    pubsub::items_max(from, T::NODE, 1)
}

/// A user's data read from its node: who published it, and the data (`None` when the node has no item, the
/// item was retracted or the node purged: the user stopped publishing).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UserData<T> {
    /// The publisher's account (the event's or the result's sender; `None` for our own result).
    pub from: Option<String>,
    /// The item id.
    pub id: Option<String>,
    /// The data.
    pub data: Option<T>,
}

impl<T: PepData> UserData<T> {
    /// Reads an items result (the last item with a matching payload).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0080_geoloc::{Geoloc, UserData};
    /// let r = Element::parse("<iq xmlns='jabber:client' type='result' from='juliet@capulet.lit' id='1'>\
    ///     <pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='http://jabber.org/protocol/geoloc'>\
    ///     <item id='current'><geoloc xmlns='http://jabber.org/protocol/geoloc'><country>Italy</country></geoloc></item>\
    ///     </items></pubsub></iq>")?;
    /// let u = UserData::<Geoloc>::from_result(&r);
    /// assert_eq!(u.from.as_deref(), Some("juliet@capulet.lit"));
    /// assert_eq!(u.data.unwrap().country.as_deref(), Some("Italy"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_result(stanza: &Element) -> UserData<T> {
        let from = stanza.attr("from").map(|f| f.into_owned());
        let found =
            Item::all_in(stanza).into_iter().filter_map(|i| Some((i.id, T::from_element(i.payload.as_ref()?)?))).last();
        match found {
            Some((id, data)) => UserData { from, id, data: Some(data) },
            None => UserData { from, id: None, data: None },
        }
    }

    /// Reads an event notification of the node `T::NODE` (`None` for another node, another kind of event, or a
    /// sender that is not a bare JID: see [`is_pep_event`]).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0080_geoloc::{Geoloc, UserData};
    /// let m = Element::parse("<message xmlns='jabber:client' from='juliet@capulet.lit'>\
    ///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='http://jabber.org/protocol/geoloc'>\
    ///     <retract id='current'/></items></event></message>")?;
    /// let u = UserData::<Geoloc>::from_event(&m).unwrap();
    /// assert!(u.data.is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_event(stanza: &Element) -> Option<UserData<T>> {
        // PEP events come from the publisher's bare JID (XEP-0163 §4.3): not from a full JID nor a service.
        let event = Event::from_message(stanza).filter(|e| e.node == T::NODE && is_pep_event(e))?;
        let from = event.from;
        match event.kind {
            EventKind::Items { items, retracted } => {
                let found =
                    items.into_iter().filter_map(|i| Some((i.id, T::from_element(i.payload.as_ref()?)?))).last();
                match found {
                    Some((id, data)) => Some(UserData { from, id, data: Some(data) }),
                    None if !retracted.is_empty() => Some(UserData { from, id: retracted.last().cloned(), data: None }),
                    None => None,
                }
            }
            EventKind::Purge | EventKind::Delete { .. } => Some(UserData { from, id: None, data: None }),
            _ => None,
        }
    }
}

/// A user location (§4): every element of the protocol, as written (numbers are decimal text).
///
/// An empty `<geoloc/>` says that the user stopped publishing a location (§4.2); [`Geoloc::is_empty`].
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::{Geoloc, PepData};
/// // §4.1, Example 1 (abridged)
/// let g = Element::parse("<geoloc xmlns='http://jabber.org/protocol/geoloc' xml:lang='en'>\
///     <accuracy>20</accuracy><country>Italy</country><lat>45.44</lat><locality>Venice</locality>\
///     <lon>12.33</lon></geoloc>")?;
/// let g = Geoloc::from_element(&g).unwrap();
/// assert_eq!((g.lat.as_deref(), g.lon.as_deref()), (Some("45.44"), Some("12.33")));
/// assert_eq!(Geoloc::from_element(&g.to_element().build()?), Some(g));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Geoloc {
    /// `accuracy`: horizontal GPS error in meters.
    pub accuracy: Option<String>,
    /// `alt`: altitude in meters above or below sea level.
    pub alt: Option<String>,
    /// `altaccuracy`: vertical GPS error in meters.
    pub altaccuracy: Option<String>,
    /// `area`: a named area such as a campus or neighborhood.
    pub area: Option<String>,
    /// `bearing`: GPS bearing in degrees from true north.
    pub bearing: Option<String>,
    /// `building`.
    pub building: Option<String>,
    /// `country`.
    pub country: Option<String>,
    /// `countrycode`: ISO 3166 two-letter code.
    pub countrycode: Option<String>,
    /// `datum`: GPS datum (WGS84 when absent).
    pub datum: Option<String>,
    /// `description`: natural-language name of or description about the location.
    pub description: Option<String>,
    /// `floor`.
    pub floor: Option<String>,
    /// `lat`: latitude in decimal degrees North.
    pub lat: Option<String>,
    /// `locality`: town, village, city…
    pub locality: Option<String>,
    /// `lon`: longitude in decimal degrees East.
    pub lon: Option<String>,
    /// `postalcode`.
    pub postalcode: Option<String>,
    /// `region`: an administrative region of the nation.
    pub region: Option<String>,
    /// `room`.
    pub room: Option<String>,
    /// `speed`: meters per second.
    pub speed: Option<String>,
    /// `street`.
    pub street: Option<String>,
    /// `text`: a catch-all element that captures any other information about the location.
    pub text: Option<String>,
    /// `timestamp`: UTC timestamp (XEP-0082) of the location.
    pub timestamp: Option<String>,
    /// `tzo`: the offset from UTC.
    pub tzo: Option<String>,
    /// `uri`: a URI or URL pointing to information about the location.
    pub uri: Option<String>,
}

impl Geoloc {
    /// Whether no element is set (§4.2: publishing it stops the location).
    ///
    /// ```
    /// assert!(moxl_xep::xep_0080_geoloc::Geoloc::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self == Geoloc::default()
    }

    fn fields(&self) -> [(&'static str, &Option<String>); 23] {
        [
            ("accuracy", &self.accuracy),
            ("alt", &self.alt),
            ("altaccuracy", &self.altaccuracy),
            ("area", &self.area),
            ("bearing", &self.bearing),
            ("building", &self.building),
            ("country", &self.country),
            ("countrycode", &self.countrycode),
            ("datum", &self.datum),
            ("description", &self.description),
            ("floor", &self.floor),
            ("lat", &self.lat),
            ("locality", &self.locality),
            ("lon", &self.lon),
            ("postalcode", &self.postalcode),
            ("region", &self.region),
            ("room", &self.room),
            ("speed", &self.speed),
            ("street", &self.street),
            ("text", &self.text),
            ("timestamp", &self.timestamp),
            ("tzo", &self.tzo),
            ("uri", &self.uri),
        ]
    }
}

impl PepData for Geoloc {
    const NODE: &'static str = NS;

    fn from_element(g: &Element) -> Option<Geoloc> {
        if !g.is("geoloc", NS) {
            return None;
        }
        let t = |name: &str| g.child_text(name, NS).filter(|v| !v.is_empty());
        Some(Geoloc {
            accuracy: t("accuracy"),
            alt: t("alt"),
            altaccuracy: t("altaccuracy"),
            area: t("area"),
            bearing: t("bearing"),
            building: t("building"),
            country: t("country"),
            countrycode: t("countrycode"),
            datum: t("datum"),
            description: t("description"),
            floor: t("floor"),
            lat: t("lat"),
            locality: t("locality"),
            lon: t("lon"),
            postalcode: t("postalcode"),
            region: t("region"),
            room: t("room"),
            speed: t("speed"),
            street: t("street"),
            text: t("text"),
            timestamp: t("timestamp"),
            tzo: t("tzo"),
            uri: t("uri"),
        })
    }

    fn to_element(&self) -> ElementBuilder {
        self.fields().into_iter().fold(ElementBuilder::new("geoloc", NS), |g, (name, value)| match value {
            Some(v) => g.text_child(name, v.clone()),
            None => g,
        })
    }
}

/// Publishes our location (§4.1; an empty [`Geoloc`] stops it, §4.2).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `geoloc_publish_handle` | none |
/// | error | `geoloc_publish_error<condition>` | the [`StanzaError`](moxl_core::stanza::StanzaError) |
///
/// ```
/// use moxl_xep::xep_0080_geoloc::{Geoloc, Publish};
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let mut here = Geoloc::default();
/// here.locality = Some("Verona".into());
/// xec.context().request(Publish { geoloc: here })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Publish {
    /// The location.
    pub geoloc: Geoloc,
}

#[action(group = "geoloc")]
impl Publish {
    fn request(&self) -> ElementBuilder {
        publish_data(&self.geoloc)
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }
}

/// Reads the location of `from` (`None`: ours).
///
/// Its `Output` is the [`UserData`] read (`ctx.request(..)?.await`); the Packets are the second view.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `geoloc_get_handle` | [`UserData`]`<`[`Geoloc`]`>` |
/// | error (`item-not-found`: never published) | `geoloc_get_error<condition>` | the [`StanzaError`](moxl_core::stanza::StanzaError) |
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// // the Output, also delivered as the Packet in the table
/// let read = xec.context().request(moxl_xep::xep_0080_geoloc::Get { from: Some("juliet@capulet.lit".into()) })?.await?;
/// println!("{:?} published {:?}", read.from, read.data.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Get {
    /// Whose location (a bare JID); `None` for ours.
    pub from: Option<String>,
}

#[action(group = "geoloc")]
impl Get {
    /// What was read: the publisher, the item id and the data (`None`: nothing published).
    type Output = UserData<Geoloc>;

    fn request(&self) -> ElementBuilder {
        fetch_data::<Geoloc>(self.from.as_deref())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<UserData<Geoloc>> {
        Ok(UserData::<Geoloc>::from_result(stanza))
    }
}

/// Delivers the location notifications of our contacts (and our own), as [`UserData`]`<`[`Geoloc`]`>` (Packet
/// key `geoloc`, sender the publisher).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::{Geoloc, UserData};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// // the typed view of the Packets keyed `geoloc`
/// let mut locations = xec.events::<UserData<Geoloc>>();
/// // §4.1, Example 2 (abridged)
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='portia@merchantofvenice.lit' to='bassanio@merchantofvenice.lit'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='http://jabber.org/protocol/geoloc'>\
///     <item id='d81a52b8-0f9c-11dc-9bc8-001143d5d5db'><geoloc xmlns='http://jabber.org/protocol/geoloc' xml:lang='en'>\
///     <accuracy>20</accuracy><country>Italy</country><lat>45.44</lat><locality>Venice</locality><lon>12.33</lon>\
///     </geoloc></item></items></event></message>")?).await;
/// let p = locations.try_recv().unwrap();
/// let u = &*p;
/// assert_eq!(u.data.as_ref().unwrap().locality.as_deref(), Some("Venice"));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(
    name = "event",
    ns = "http://jabber.org/protocol/pubsub#event",
    node = "http://jabber.org/protocol/geoloc",
    key = "geoloc",
    at = "child"
)]
#[derive(Debug, Default)]
pub struct GeolocEvents;

impl Payload for GeolocEvents {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(u) = UserData::<Geoloc>::from_event(stanza) {
            ctx.pack(u).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    #[test]
    fn every_field_round_trips_and_publish_and_get_dispatch() {
        let mut g = Geoloc::default();
        for (i, slot) in [
            &mut g.accuracy,
            &mut g.alt,
            &mut g.altaccuracy,
            &mut g.area,
            &mut g.bearing,
            &mut g.building,
            &mut g.country,
            &mut g.countrycode,
            &mut g.datum,
            &mut g.description,
            &mut g.floor,
            &mut g.lat,
            &mut g.locality,
            &mut g.lon,
            &mut g.postalcode,
            &mut g.region,
            &mut g.room,
            &mut g.speed,
            &mut g.street,
            &mut g.text,
            &mut g.timestamp,
            &mut g.tzo,
            &mut g.uri,
        ]
        .into_iter()
        .enumerate()
        {
            *slot = Some(format!("v{i}"));
        }
        assert_eq!(Geoloc::from_element(&g.to_element().build().unwrap()), Some(g.clone()));

        let xec = Xec::new().unwrap();
        let mut published = xec.subscribe("geoloc_publish_handle");
        let mut got = xec.subscribe("geoloc_get_handle");
        let id = xec.context().request(Publish { geoloc: g.clone() }).unwrap().id().to_owned();
        xec.take_outgoing();
        block_on(
            xec.dispatch(Element::parse(&format!("<iq xmlns='jabber:client' type='result' id='{id}'/>")).unwrap()),
        );
        assert!(published.try_recv().is_some());
        let id = xec.context().request(Get { from: Some("juliet@capulet.lit".into()) }).unwrap().id().to_owned();
        let out = xec.take_outgoing();
        assert_eq!(out[0].attr("to").as_deref(), Some("juliet@capulet.lit"));
        block_on(xec.dispatch(Element::parse(&format!(
            "<iq xmlns='jabber:client' type='result' from='juliet@capulet.lit' id='{id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
             <items node='http://jabber.org/protocol/geoloc'><item id='current'>{}</item></items></pubsub></iq>",
            g.to_element().build().unwrap().to_xml()
        )).unwrap()));
        assert_eq!(got.try_recv().unwrap().content::<UserData<Geoloc>>().unwrap().data, Some(g));
    }

    #[test]
    fn events_of_other_nodes_and_nested_events_are_not_geoloc() {
        let xec = Xec::new().unwrap();
        let mut locations = xec.subscribe("geoloc");
        for xml in [
            "<message xmlns='jabber:client' from='a@b'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
             <items node='http://jabber.org/protocol/tune'><item id='current'><tune xmlns='http://jabber.org/protocol/tune'/></item></items></event></message>",
            "<message xmlns='jabber:client' from='a@b'><forwarded xmlns='urn:xmpp:forward:0'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
             <items node='http://jabber.org/protocol/geoloc'><item id='current'><geoloc xmlns='http://jabber.org/protocol/geoloc'/></item></items></event></forwarded></message>",
        ] {
            block_on(xec.dispatch(Element::parse(xml).unwrap()));
        }
        assert!(locations.try_recv().is_none());
        // §4.2, Example 3: an empty geoloc stops publishing; it is delivered as an empty one
        block_on(
            xec.dispatch(
                Element::parse(
                    "<message xmlns='jabber:client' from='portia@merchantofvenice.lit'>\
            <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='http://jabber.org/protocol/geoloc'>\
            <item id='current'><geoloc xmlns='http://jabber.org/protocol/geoloc'/></item></items></event></message>",
                )
                .unwrap(),
            ),
        );
        let p = locations.try_recv().unwrap();
        assert!(p.content::<UserData<Geoloc>>().unwrap().data.as_ref().unwrap().is_empty());
    }
}
