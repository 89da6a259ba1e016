//! XEP-0108: User Activity, on our PEP node `http://jabber.org/protocol/activity` (§2): [`Activity`], the
//! [`Publish`] and [`Get`] Actions (group `activity`) and the [`ActivityEvents`] Payload (key `activity`; we
//! declare `http://jabber.org/protocol/activity+notify`). Built on the shared shape of
//! [`xep_0080_geoloc`](crate::xep_0080_geoloc) ([`PepData`], [`UserData`]).

use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0080_geoloc::{PepData, UserData, fetch_data, publish_data};

/// `http://jabber.org/protocol/activity` (§2): the namespace and the PEP node.
///
/// ```
/// assert_eq!(moxl_xep::xep_0108_activity::NS, "http://jabber.org/protocol/activity");
/// ```
pub const NS: &str = "http://jabber.org/protocol/activity";

moxl_core::feature!("http://jabber.org/protocol/activity+notify");

/// The general activities of §3 (element names).
///
/// ```
/// assert!(moxl_xep::xep_0108_activity::GENERAL.contains(&"relaxing"));
/// ```
pub const GENERAL: [&str; 11] = [
    "doing_chores",
    "drinking",
    "eating",
    "exercising",
    "grooming",
    "having_appointment",
    "inactive",
    "relaxing",
    "talking",
    "traveling",
    "working",
];

/// A user activity (§2.1): a general category (one of [`GENERAL`]), maybe a specific one (`partying` inside
/// `relaxing`, §3), and a text. An empty `<activity/>` says the user stopped publishing one (§2.2): `general`
/// is empty.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::PepData;
/// use moxl_xep::xep_0108_activity::Activity;
/// // §2.1, Example 1
/// let a = Element::parse("<activity xmlns='http://jabber.org/protocol/activity'><relaxing><partying/></relaxing>\
///     <text xml:lang='en'>My nurse&apos;s birthday!</text></activity>")?;
/// let a = Activity::from_element(&a).unwrap();
/// assert_eq!((a.general.as_str(), a.specific.as_deref()), ("relaxing", Some("partying")));
/// assert_eq!(Activity::from_element(&a.to_element().build()?), Some(a));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Activity {
    /// The general category (one of [`GENERAL`]); empty for none.
    pub general: String,
    /// The specific activity (an element name of §3, e.g. `partying`).
    pub specific: Option<String>,
    /// A natural-language description.
    pub text: Option<String>,
}

impl Activity {
    /// The activity `general`/`specific`, without text.
    ///
    /// ```
    /// let a = moxl_xep::xep_0108_activity::Activity::new("eating", Some("having_lunch"));
    /// assert_eq!(a.specific.as_deref(), Some("having_lunch"));
    /// ```
    pub fn new(general: impl Into<String>, specific: Option<&str>) -> Activity {
        Activity { general: general.into(), specific: specific.map(str::to_owned), text: None }
    }

    /// Whether no activity is set (§2.2).
    ///
    /// ```
    /// assert!(moxl_xep::xep_0108_activity::Activity::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.general.is_empty()
    }
}

/// Whether `name` can be written as an element name of the activity namespace (lowercase letters and `_`).
fn is_activity_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

impl PepData for Activity {
    const NODE: &'static str = NS;

    /// Reads an `<activity/>`: the general category must be one of [`GENERAL`] (else none is read).
    fn from_element(a: &Element) -> Option<Activity> {
        if !a.is("activity", NS) {
            return None;
        }
        let general = a.children().find(|c| c.ns() == NS && GENERAL.contains(&c.name()));
        let specific = general
            .as_ref()
            .and_then(|g| g.children().find(|s| s.ns() == NS && is_activity_name(s.name())))
            .map(|s| s.name().to_owned());
        Some(Activity {
            general: general.map(|g| g.name().to_owned()).unwrap_or_default(),
            specific,
            text: a.child_text("text", NS),
        })
    }

    /// Writes the `<activity/>`; a general category not in [`GENERAL`], or a specific one that is no element
    /// name, is not written.
    fn to_element(&self) -> ElementBuilder {
        let mut a = ElementBuilder::new("activity", NS);
        if let Some(g) = GENERAL.iter().find(|g| **g == self.general) {
            let mut general = ElementBuilder::new(*g, NS);
            if let Some(s) = self.specific.as_deref().filter(|s| is_activity_name(s)) {
                general = general.append(ElementBuilder::new(s.to_owned(), NS));
            }
            a = a.append(general);
        }
        if let Some(text) = &self.text {
            a = a.text_child("text", text.clone());
        }
        a
    }
}

/// Publishes our activity ([`Activity`]).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `activity_publish_handle` | none |
/// | error | `activity_publish_error<condition>` | the [`StanzaError`](moxl_core::stanza::StanzaError) |
///
/// ```
/// use moxl_xep::xep_0108_activity::{Publish, Activity};
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(Publish { activity: Activity::new("relaxing", Some("partying")) })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Publish {
    /// What to publish.
    pub activity: Activity,
}

#[action(group = "activity")]
impl Publish {
    fn request(&self) -> ElementBuilder {
        publish_data(&self.activity)
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }
}

/// Reads the activity of `from` (`None`: ours).
///
/// Its `Output` is the [`UserData`] read (`ctx.request(..)?.await`); the Packets are the second view.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `activity_get_handle` | [`UserData`]`<`[`Activity`]`>` |
/// | error (`item-not-found`: never published) | `activity_get_error<condition>` | the [`StanzaError`](moxl_core::stanza::StanzaError) |
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// // the Output, also delivered as the Packet in the table
/// let read = xec.context().request(moxl_xep::xep_0108_activity::Get { from: Some("juliet@capulet.lit".into()) })?.await?;
/// println!("{:?} published {:?}", read.from, read.data.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Get {
    /// Whose activity (a bare JID); `None` for ours.
    pub from: Option<String>,
}

#[action(group = "activity")]
impl Get {
    /// What was read: the publisher, the item id and the data (`None`: nothing published).
    type Output = UserData<Activity>;

    fn request(&self) -> ElementBuilder {
        fetch_data::<Activity>(self.from.as_deref())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<UserData<Activity>> {
        Ok(UserData::<Activity>::from_result(stanza))
    }
}

/// Delivers activity notifications as [`UserData`]`<`[`Activity`]`>` (Packet key `activity`, sender the publisher).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::UserData;
/// use moxl_xep::xep_0108_activity::Activity;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// // the typed view of the Packets keyed `activity`
/// let mut events = xec.events::<UserData<Activity>>();
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='juliet@capulet.lit'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='http://jabber.org/protocol/activity'>\
///     <item id='current'><activity xmlns='http://jabber.org/protocol/activity'><relaxing><partying/></relaxing><text>My nurse&apos;s birthday!</text></activity></item></items></event></message>")?).await;
/// let p = events.try_recv().unwrap();
/// let data = p.data.as_ref().unwrap();
/// assert!(data.general == "relaxing" && data.specific.as_deref() == Some("partying"));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(
    name = "event",
    ns = "http://jabber.org/protocol/pubsub#event",
    node = "http://jabber.org/protocol/activity",
    key = "activity",
    at = "child"
)]
#[derive(Debug, Default)]
pub struct ActivityEvents;

impl Payload for ActivityEvents {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(u) = UserData::<Activity>::from_event(stanza) {
            ctx.pack(u).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_categories_are_not_read_and_bad_names_not_written() {
        let a =
            Element::parse("<activity xmlns='http://jabber.org/protocol/activity'><flying/><text>x</text></activity>")
                .unwrap();
        assert!(Activity::from_element(&a).unwrap().is_empty());
        let bad = Activity::new("relaxing", Some("a b"));
        assert_eq!(
            bad.to_element().build().unwrap().to_xml(),
            "<activity xmlns='http://jabber.org/protocol/activity'><relaxing/></activity>"
        );
    }
}
