//! XEP-0048: Bookmarks (legacy). A [`Storage`] of conference and URL bookmarks, kept whole in private XML
//! storage (XEP-0049, §3.2: [`Get`], [`Set`]) or as the single item `current` of the PEP node
//! `storage:bookmarks` (§3.3, with XEP-0223's options: [`PepGet`], [`PepSet`]).
//!
//! Movim (and Moxl before it) also keeps in `<storage/>` the pubsub nodes its user follows, as
//! `<subscription xmlns='urn:xmpp:pubsub:subscription:0' server='…' node='…' subid='…'><title/></subscription>`
//! entries beside the conferences and the URLs (§3.1): [`NodeSubscription`], read and written here, so that a
//! client round-trips them instead of dropping them. Today's Movim follows nodes with XEP-0330
//! ([`crate::xep_0330_pubsub_subscription`]); [`NodeSubscription::to_followed`] moves one there.
//!
//! XEP-0048 is deprecated in favour of XEP-0402 ([`crate::xep_0402_bookmarks2`]), which has one item per room;
//! [`crate::xep_0402_bookmarks2::Migrate`] moves these bookmarks there. Prosody's `mod_bookmarks` already
//! answers both legacy forms from the XEP-0402 node and converts what a legacy client stores.

use moxl_core::action;
use moxl_core::stanza::StanzaError;
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0049_private;
use crate::xep_0060_pubsub::{self as pubsub, Item, publish_options};
use crate::xep_0330_pubsub_subscription::{self as followed, FollowedNode};

/// `storage:bookmarks` (§3): the namespace of `<storage/>`, and the PEP node (§3.3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0048_bookmarks::NS, "storage:bookmarks");
/// ```
pub const NS: &str = "storage:bookmarks";

/// A conference room bookmark (§3.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Conference {
    /// The room's JID.
    pub jid: String,
    /// A friendly name.
    pub name: Option<String>,
    /// Join the room when logging in (`autojoin='true'` or `'1'`).
    pub autojoin: bool,
    /// Our nickname in the room.
    pub nick: Option<String>,
    /// The room's password (sent unencrypted to the storage, §6).
    pub password: Option<String>,
}

impl Conference {
    /// A bookmark of the room `jid`.
    ///
    /// ```
    /// let c = moxl_xep::xep_0048_bookmarks::Conference::new("theplay@conference.shakespeare.lit");
    /// assert!(!c.autojoin && c.name.is_none());
    /// ```
    pub fn new(jid: impl Into<String>) -> Conference {
        Conference { jid: jid.into(), ..Conference::default() }
    }
}

/// A web page bookmark (§3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UrlBookmark {
    /// A friendly name.
    pub name: Option<String>,
    /// The address.
    pub url: String,
}

impl UrlBookmark {
    /// A bookmark of the page `url`, with an optional name (§3.1).
    ///
    /// ```
    /// let u = moxl_xep::xep_0048_bookmarks::UrlBookmark::new("http://the-tech.mit.edu/Shakespeare/", Some("Complete Works"));
    /// assert_eq!(u.name.as_deref(), Some("Complete Works"));
    /// ```
    pub fn new(url: impl Into<String>, name: Option<&str>) -> UrlBookmark {
        UrlBookmark { name: name.map(str::to_owned), url: url.into() }
    }
}

/// A pubsub node the user follows, as Movim keeps it in `<storage/>`: `server`, `node`, the subscription id
/// (`subid`) and a `<title/>`, in the namespace `urn:xmpp:pubsub:subscription:0`.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0048_bookmarks::NodeSubscription;
/// let e = Element::parse("<subscription xmlns='urn:xmpp:pubsub:subscription:0' server='pubsub.movim.eu' node='berlin-xmpp-meetup' subid='5f2e'>\
///     <title>Berlin XMPP Meetup</title></subscription>")?;
/// let s = NodeSubscription::from_element(&e).unwrap();
/// assert_eq!((s.server.as_str(), s.node.as_str(), s.subid.as_deref()), ("pubsub.movim.eu", "berlin-xmpp-meetup", Some("5f2e")));
/// assert_eq!(s.title.as_deref(), Some("Berlin XMPP Meetup"));
/// assert_eq!(NodeSubscription::from_element(&s.to_element().build()?), Some(s));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NodeSubscription {
    /// The pubsub service.
    pub server: String,
    /// The node.
    pub node: String,
    /// The subscription id the service gave, if any.
    pub subid: Option<String>,
    /// The node's title.
    pub title: Option<String>,
}

impl NodeSubscription {
    /// A followed `node` of `server`.
    ///
    /// ```
    /// let s = moxl_xep::xep_0048_bookmarks::NodeSubscription::new("pubsub.movim.eu", "berlin-xmpp-meetup");
    /// assert!(s.subid.is_none() && s.title.is_none());
    /// ```
    pub fn new(server: impl Into<String>, node: impl Into<String>) -> NodeSubscription {
        NodeSubscription { server: server.into(), node: node.into(), ..NodeSubscription::default() }
    }

    /// Reads a `<subscription/>` entry (also the `<subcription/>` an older Moxl wrote); `None` without `server`
    /// or `node`. The title is read in the entry's namespace, or in `storage:bookmarks` (where a writer that
    /// did not inherit the namespace put it).
    pub fn from_element(e: &Element) -> Option<NodeSubscription> {
        if e.ns() != followed::NS || !matches!(e.name(), "subscription" | "subcription") {
            return None;
        }
        let attr = |n: &str| e.attr(n).filter(|v| !v.is_empty()).map(|v| v.into_owned());
        Some(NodeSubscription {
            server: attr("server")?,
            node: attr("node")?,
            subid: attr("subid"),
            title: e.child_text("title", followed::NS).or_else(|| e.child_text("title", NS)),
        })
    }

    /// Writes the entry.
    pub fn to_element(&self) -> ElementBuilder {
        let e = ElementBuilder::new("subscription", followed::NS)
            .attr("server", self.server.clone())
            .attr("node", self.node.clone())
            .attr_opt("subid", self.subid.clone());
        match &self.title {
            Some(title) => e.append(ElementBuilder::new("title", followed::NS).text(title.clone())),
            None => e,
        }
    }

    /// The same node as a XEP-0330 followed node (where today's Movim keeps them).
    ///
    /// ```
    /// let s = moxl_xep::xep_0048_bookmarks::NodeSubscription::new("pubsub.movim.eu", "berlin-xmpp-meetup");
    /// assert_eq!(s.to_followed().node, "berlin-xmpp-meetup");
    /// ```
    pub fn to_followed(&self) -> FollowedNode {
        FollowedNode::new(&self.server, &self.node, self.title.as_deref())
    }
}

/// The whole `<storage xmlns='storage:bookmarks'/>` (§3).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0048_bookmarks::Storage;
/// // §3.2, Example 2 (abridged)
/// let s = Element::parse("<storage xmlns='storage:bookmarks'>\
///     <conference name='Council of Oberon' autojoin='true' jid='council@conference.underhill.org'>\
///     <nick>Puck</nick><password>titania</password></conference>\
///     <url name='Complete Works of Shakespeare' url='http://the-tech.mit.edu/Shakespeare/'/></storage>")?;
/// let s = Storage::from_element(&s).unwrap();
/// assert_eq!(s.conferences[0].nick.as_deref(), Some("Puck"));
/// assert!(s.conferences[0].autojoin);
/// assert_eq!(s.urls[0].url, "http://the-tech.mit.edu/Shakespeare/");
/// assert_eq!(Storage::from_element(&s.to_element().build()?), Some(s));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Storage {
    /// The conference bookmarks.
    pub conferences: Vec<Conference>,
    /// The URL bookmarks.
    pub urls: Vec<UrlBookmark>,
    /// Movim's followed pubsub nodes.
    pub subscriptions: Vec<NodeSubscription>,
}

impl Storage {
    /// Reads a `<storage xmlns='storage:bookmarks'/>`. A conference without `jid`, a URL without `url` or a
    /// subscription without `server` or `node` is left out.
    pub fn from_element(storage: &Element) -> Option<Storage> {
        if !storage.is("storage", NS) {
            return None;
        }
        let attr = |e: &Element, name: &str| e.attr(name).map(|v| v.into_owned());
        let conferences = storage
            .children()
            .filter(|c| c.is("conference", NS))
            .filter_map(|c| {
                Some(Conference {
                    jid: attr(&c, "jid")?,
                    name: attr(&c, "name"),
                    autojoin: matches!(c.attr("autojoin").as_deref(), Some("true" | "1")),
                    nick: c.child_text("nick", NS),
                    password: c.child_text("password", NS),
                })
            })
            .collect();
        let urls = storage
            .children()
            .filter(|u| u.is("url", NS))
            .filter_map(|u| Some(UrlBookmark { url: attr(&u, "url")?, name: attr(&u, "name") }))
            .collect();
        let subscriptions = storage.children().filter_map(|e| NodeSubscription::from_element(&e)).collect();
        Some(Storage { conferences, urls, subscriptions })
    }

    /// The storage inside a private-storage or PEP result (empty when the result holds none).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let r = Element::parse("<iq xmlns='jabber:client' type='result' id='1'><query xmlns='jabber:iq:private'>\
    ///     <storage xmlns='storage:bookmarks'><url url='https://a/'/></storage></query></iq>")?;
    /// assert_eq!(moxl_xep::xep_0048_bookmarks::Storage::from_stanza(&r).urls.len(), 1);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Storage {
        let private = xep_0049_private::stored(stanza, "storage", NS);
        let pep = || Item::all_in(stanza).into_iter().filter_map(|i| i.payload).find(|p| p.is("storage", NS));
        private.or_else(pep).and_then(|s| Storage::from_element(&s)).unwrap_or_default()
    }

    /// Writes the `<storage/>` element.
    pub fn to_element(&self) -> ElementBuilder {
        let mut s = ElementBuilder::new("storage", NS);
        for c in &self.conferences {
            let mut e = ElementBuilder::new("conference", NS)
                .attr_opt("name", c.name.clone())
                .attr("autojoin", if c.autojoin { "true" } else { "false" })
                .attr("jid", c.jid.clone());
            if let Some(nick) = &c.nick {
                e = e.text_child("nick", nick.clone());
            }
            if let Some(password) = &c.password {
                e = e.text_child("password", password.clone());
            }
            s = s.append(e);
        }
        for u in &self.urls {
            s = s.append(ElementBuilder::new("url", NS).attr_opt("name", u.name.clone()).attr("url", u.url.clone()));
        }
        for n in &self.subscriptions {
            s = s.append(n.to_element());
        }
        s
    }

    /// With one more conference.
    ///
    /// ```
    /// use moxl_xep::xep_0048_bookmarks::{Conference, NodeSubscription, Storage, UrlBookmark};
    /// let s = Storage::default()
    ///     .with_conference(Conference::new("theplay@conference.shakespeare.lit"))
    ///     .with_url(UrlBookmark::new("https://movim.eu/", Some("Movim")))
    ///     .with_subscription(NodeSubscription::new("pubsub.movim.eu", "berlin-xmpp-meetup"));
    /// let xml = s.to_element().build()?.to_xml();
    /// assert!(xml.contains("<url name='Movim' url='https://movim.eu/'/>\
    ///     <subscription xmlns='urn:xmpp:pubsub:subscription:0' server='pubsub.movim.eu' node='berlin-xmpp-meetup'/>"), "{xml}");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn with_conference(mut self, conference: Conference) -> Storage {
        self.conferences.push(conference);
        self
    }

    /// With one more URL.
    pub fn with_url(mut self, url: UrlBookmark) -> Storage {
        self.urls.push(url);
        self
    }

    /// With one more followed node.
    pub fn with_subscription(mut self, subscription: NodeSubscription) -> Storage {
        self.subscriptions.push(subscription);
        self
    }
}

/// The publish-options of the `storage:bookmarks` node (§3.3, XEP-0223 §4): persistent and private.
///
/// ```
/// let o = moxl_xep::xep_0048_bookmarks::pep_options();
/// assert_eq!(o.value("pubsub#access_model"), Some("whitelist"));
/// assert_eq!(o.value("pubsub#persist_items"), Some("true"));
/// ```
pub fn pep_options() -> DataForm {
    publish_options().with_value("pubsub#persist_items", "true").with_value("pubsub#access_model", "whitelist")
}

/// Reads our bookmarks from private XML storage (§3.2, XEP-0049). Its `Output` is the [`Storage`] (the
/// Packets are the second view).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `bookmarks_get_handle` | [`Storage`] (empty if none is stored) |
/// | any error | `bookmarks_get_error` | the [`StanzaError`] |
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let storage = xec.context().request(moxl_xep::xep_0048_bookmarks::Get)?.await?; // the Output, a Storage
/// println!("{} rooms", storage.conferences.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Get;

#[action(group = "bookmarks")]
impl Get {
    /// The bookmarks stored (empty when none are).
    type Output = Storage;

    fn request(&self) -> ElementBuilder {
        xep_0049_private::get("storage", NS)
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<Storage> {
        Ok(Storage::from_stanza(stanza))
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Stores our bookmarks in private XML storage, replacing all of them (§3.2).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `bookmarks_set_handle` | none |
/// | any error | `bookmarks_set_error` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0048_bookmarks::{Conference, Set, Storage};
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let mut storage = Storage::default();
/// storage.conferences.push(Conference::new("theplay@conference.shakespeare.lit"));
/// xec.context().request(Set { storage })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Set {
    /// The bookmarks to store.
    pub storage: Storage,
}

#[action(group = "bookmarks")]
impl Set {
    fn request(&self) -> ElementBuilder {
        xep_0049_private::set(self.storage.to_element())
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Reads our bookmarks from the PEP node `storage:bookmarks` (§3.3). Its `Output` is the [`Storage`];
/// `item-not-found` (no node) resolves the request to `Err(Error::Stanza(..))`.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `bookmarks_pepget_handle` | [`Storage`] (empty if the node has no item) |
/// | `item-not-found` (no node) | `bookmarks_pepget_erroritemnotfound` | none |
/// | any other error | `bookmarks_pepget_error` | the [`StanzaError`] |
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(moxl_xep::xep_0048_bookmarks::PepGet)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PepGet;

#[action(group = "bookmarks")]
impl PepGet {
    /// The bookmarks published (empty when the node holds none).
    type Output = Storage;

    fn request(&self) -> ElementBuilder {
        pubsub::items(None, NS)
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<Storage> {
        Ok(Storage::from_stanza(stanza))
    }

    async fn error_item_not_found(&mut self, ctx: &Context, _error: &StanzaError, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Publishes our bookmarks as the item `current` of the PEP node `storage:bookmarks`, with [`pep_options`]
/// (§3.3).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `bookmarks_pepset_handle` | none |
/// | any error | `bookmarks_pepset_error` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0048_bookmarks::{PepSet, Storage};
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(PepSet { storage: Storage::default() })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PepSet {
    /// The bookmarks to publish.
    pub storage: Storage,
}

#[action(group = "bookmarks")]
impl PepSet {
    fn request(&self) -> ElementBuilder {
        pubsub::publish_with_options(None, NS, Some("current"), self.storage.to_element(), &pep_options())
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    /// §3.2, Example 2 (the `<iq/>` of the private storage result).
    const PRIVATE: &str = "<iq xmlns='jabber:client' type='result' id='ID'><query xmlns='jabber:iq:private'>\
        <storage xmlns='storage:bookmarks'>\
        <conference name='Council of Oberon' autojoin='true' jid='council@conference.underhill.org'>\
        <nick>Puck</nick><password>titania</password></conference>\
        <conference jid='broken'/><conference name='no jid'/>\
        <url name='Complete Works of Shakespeare' url='http://the-tech.mit.edu/Shakespeare/'/></storage></query></iq>";

    #[test]
    fn storage_round_trips_and_skips_broken_entries() {
        let s = Storage::from_stanza(&Element::parse(PRIVATE).unwrap());
        assert_eq!(s.conferences.len(), 2);
        assert_eq!(s.conferences[1], Conference::new("broken"));
        assert_eq!(Storage::from_element(&s.to_element().build().unwrap()), Some(s));
        let one = Element::parse("<storage xmlns='storage:bookmarks'><conference jid='a@b' autojoin='1'/></storage>")
            .unwrap();
        assert!(Storage::from_element(&one).unwrap().conferences[0].autojoin);
    }

    #[test]
    fn movims_subscription_entries_are_read_kept_and_written() {
        // what Moxl's Bookmark::set wrote: the title in the entry's namespace; an older Moxl's misspelt name;
        // broken entries left out
        let xml = "<storage xmlns='storage:bookmarks'><conference jid='a@b' autojoin='1'><nick>n</nick></conference>\
            <url name='Movim' url='https://movim.eu/'/>\
            <subscription xmlns='urn:xmpp:pubsub:subscription:0' server='pubsub.movim.eu' node='news' subid='s1'><title>News</title></subscription>\
            <subcription xmlns='urn:xmpp:pubsub:subscription:0' server='pubsub.movim.eu' node='old'/>\
            <subscription xmlns='urn:xmpp:pubsub:subscription:0' server='pubsub.movim.eu'/></storage>";
        let s = Storage::from_element(&Element::parse(xml).unwrap()).unwrap();
        assert_eq!(s.subscriptions.len(), 2);
        assert_eq!(s.subscriptions[0].title.as_deref(), Some("News"));
        assert_eq!(s.subscriptions[1], NodeSubscription::new("pubsub.movim.eu", "old"));
        assert_eq!(s.urls, [UrlBookmark::new("https://movim.eu/", Some("Movim"))]);
        assert_eq!(Storage::from_element(&s.to_element().build().unwrap()), Some(s));
    }

    #[test]
    fn private_and_pep_requests_dispatch_to_their_keys() {
        let xec = Xec::new().unwrap();
        let ctx = xec.context();
        let mut got = xec.subscribe("bookmarks_get_handle");
        let mut pep_got = xec.subscribe("bookmarks_pepget_handle");
        let mut pep_set = xec.subscribe("bookmarks_pepset_handle");

        let id = ctx.request(Get).unwrap().id().to_owned();
        let sent = xec.take_outgoing();
        assert!(
            sent[0].to_xml().contains("<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>")
        );
        block_on(xec.dispatch(Element::parse(&PRIVATE.replace("'ID'", &format!("'{id}'"))).unwrap()));
        assert_eq!(got.try_recv().unwrap().content::<Storage>().unwrap().urls.len(), 1);

        let mut storage = Storage::default();
        storage.conferences.push(Conference::new("theplay@conference.shakespeare.lit"));
        let id = ctx.request(PepSet { storage: storage.clone() }).unwrap().id().to_owned();
        let sent = xec.take_outgoing();
        let xml = sent[0].to_xml();
        // §3.3, Example 4: item 'current', persistent and whitelisted
        assert!(
            xml.contains("<publish node='storage:bookmarks'><item id='current'><storage xmlns='storage:bookmarks'>"),
            "{xml}"
        );
        assert!(xml.contains("pubsub#access_model") && xml.contains("whitelist"), "{xml}");
        block_on(
            xec.dispatch(Element::parse(&format!("<iq xmlns='jabber:client' type='result' id='{id}'/>")).unwrap()),
        );
        assert!(pep_set.try_recv().is_some());

        let id = ctx.request(PepGet).unwrap().id().to_owned();
        xec.take_outgoing();
        block_on(xec.dispatch(
            Element::parse(&format!(
                "<iq xmlns='jabber:client' type='result' id='{id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
                 <items node='storage:bookmarks'><item id='current'>{}</item></items></pubsub></iq>",
                storage.to_element().build().unwrap().to_xml()
            ))
            .unwrap(),
        ));
        assert_eq!(pep_got.try_recv().unwrap().content::<Storage>(), Some(&storage));
    }
}
