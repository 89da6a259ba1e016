//! XEP-0402: PEP Native Bookmarks. One item per room on our PEP node `urn:xmpp:bookmarks:1`, the item id being
//! the room's JID (§3): [`Get`] all of them (§4.2), [`Add`] or replace one with the publish-options of §5
//! ([`publish_options`]), [`Remove`] one (§4.4, with notification). The [`BookmarkEvents`] Payload delivers
//! the notifications our other clients cause (§4.3, §4.4; we declare `urn:xmpp:bookmarks:1+notify`), and
//! [`Migrate`] moves XEP-0048 bookmarks here (from private XML storage and from the legacy PEP node) as Moxl does:
//! read both, publish each room as its own item. It is idempotent: an item with the same id replaces the last.

use moxl_core::stanza::StanzaError;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0048_bookmarks::{self as legacy, Storage};
use crate::xep_0060_pubsub::{self as pubsub, Event, EventKind, Item};

/// `urn:xmpp:bookmarks:1` (§3): the namespace of `<conference/>` and the PEP node.
///
/// ```
/// assert_eq!(moxl_xep::xep_0402_bookmarks2::NS, "urn:xmpp:bookmarks:1");
/// ```
pub const NS: &str = "urn:xmpp:bookmarks:1";

moxl_core::feature!("urn:xmpp:bookmarks:1+notify");

/// A room bookmark (§3): the `<conference/>` payload with the room's JID from the item id.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0402_bookmarks2::Bookmark;
/// // §3, Example 1
/// let c = Element::parse("<conference xmlns='urn:xmpp:bookmarks:1' name='The Play&apos;s the Thing' autojoin='true'>\
///     <nick>JC</nick></conference>")?;
/// let b = Bookmark::from_element("theplay@conference.shakespeare.lit", &c).unwrap();
/// assert_eq!((b.name.as_deref(), b.autojoin, b.nick.as_deref()), (Some("The Play's the Thing"), true, Some("JC")));
/// assert_eq!(Bookmark::from_element(&b.jid, &b.to_element().build()?), Some(b));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Bookmark {
    /// The room's JID (the item id).
    pub jid: String,
    /// A friendly name.
    pub name: Option<String>,
    /// Join when logging in.
    pub autojoin: bool,
    /// Our nickname in the room.
    pub nick: Option<String>,
    /// The room's password (stored in clear, §7).
    pub password: Option<String>,
    /// The `<extensions/>` element of other clients, serialized, kept as it was (§3: MUST be preserved).
    pub extensions: Option<String>,
}

impl Bookmark {
    /// A bookmark of the room `jid`.
    ///
    /// ```
    /// let b = moxl_xep::xep_0402_bookmarks2::Bookmark::new("theplay@conference.shakespeare.lit");
    /// assert_eq!(b.jid, "theplay@conference.shakespeare.lit");
    /// ```
    pub fn new(jid: impl Into<String>) -> Bookmark {
        Bookmark { jid: jid.into(), ..Bookmark::default() }
    }

    /// Reads a `<conference xmlns='urn:xmpp:bookmarks:1'/>` published under the item id `jid`.
    pub fn from_element(jid: &str, c: &Element) -> Option<Bookmark> {
        if !c.is("conference", NS) || jid.is_empty() {
            return None;
        }
        Some(Bookmark {
            jid: jid.to_owned(),
            name: c.attr("name").map(|n| n.into_owned()),
            autojoin: matches!(c.attr("autojoin").as_deref(), Some("true" | "1")),
            nick: c.child_text("nick", NS),
            password: c.child_text("password", NS),
            extensions: c.child("extensions", NS).map(|e| e.to_xml()),
        })
    }

    /// The bookmark of a pubsub item (`None` without an id or a `<conference/>`).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0060_pubsub::Item;
    /// let i = Element::parse("<item xmlns='http://jabber.org/protocol/pubsub' id='a@b'><conference xmlns='urn:xmpp:bookmarks:1'/></item>")?;
    /// let b = moxl_xep::xep_0402_bookmarks2::Bookmark::from_item(&Item::from_element(&i).unwrap()).unwrap();
    /// assert_eq!(b.jid, "a@b");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_item(item: &Item) -> Option<Bookmark> {
        Bookmark::from_element(item.id.as_deref()?, item.payload.as_ref()?)
    }

    /// The bookmarks of an items result (§4.2).
    pub fn all_in(stanza: &Element) -> Vec<Bookmark> {
        Item::all_in(stanza).iter().filter_map(Bookmark::from_item).collect()
    }

    /// Writes the `<conference/>` payload.
    pub fn to_element(&self) -> ElementBuilder {
        let mut c = ElementBuilder::new("conference", NS).attr_opt("name", self.name.clone());
        if self.autojoin {
            c = c.attr("autojoin", "true");
        }
        if let Some(nick) = &self.nick {
            c = c.text_child("nick", nick.clone());
        }
        if let Some(password) = &self.password {
            c = c.text_child("password", password.clone());
        }
        if let Some(ext) = self.extensions.as_deref().and_then(|x| Element::parse(x).ok()) {
            c = c.append(ext);
        }
        c
    }
}

impl From<&legacy::Conference> for Bookmark {
    /// The XEP-0402 form of a XEP-0048 conference bookmark (§6: the same fields).
    fn from(c: &legacy::Conference) -> Bookmark {
        Bookmark {
            jid: c.jid.clone(),
            name: c.name.clone(),
            autojoin: c.autojoin,
            nick: c.nick.clone(),
            password: c.password.clone(),
            extensions: None,
        }
    }
}

/// The publish-options every publish to the node carries (§5): persistent, as many items as the server
/// allows, none sent on presence, and only for us.
///
/// ```
/// let o = moxl_xep::xep_0402_bookmarks2::publish_options();
/// assert_eq!(o.value("pubsub#max_items"), Some("max"));
/// assert_eq!(o.value("pubsub#send_last_published_item"), Some("never"));
/// assert_eq!(o.value("pubsub#access_model"), Some("whitelist"));
/// ```
pub fn publish_options() -> DataForm {
    pubsub::publish_options()
        .with_value("pubsub#persist_items", "true")
        .with_value("pubsub#max_items", "max")
        .with_value("pubsub#send_last_published_item", "never")
        .with_value("pubsub#access_model", "whitelist")
}

/// The publish of one bookmark (§4.3: item id = the room's JID, with [`publish_options`]).
///
/// ```
/// use moxl_xep::xep_0402_bookmarks2::{publish, Bookmark};
/// let iq = publish(&Bookmark::new("theplay@conference.shakespeare.lit")).build()?;
/// assert!(iq.to_xml().contains("<publish node='urn:xmpp:bookmarks:1'><item id='theplay@conference.shakespeare.lit'>\
///     <conference xmlns='urn:xmpp:bookmarks:1'/></item></publish>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn publish(bookmark: &Bookmark) -> ElementBuilder {
    pubsub::publish_with_options(None, NS, Some(&bookmark.jid), bookmark.to_element(), &publish_options())
}

/// Gets all our bookmarks (§4.2). Its `Output` is the list; `item-not-found` (no node yet, so no bookmarks)
/// resolves the request to `Err(Error::Stanza(..))` with that condition.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `bookmarks2_get_handle` | `Vec<`[`Bookmark`]`>` |
/// | `item-not-found` (no node yet: no bookmarks) | `bookmarks2_get_erroritemnotfound` | none |
/// | any other error | `bookmarks2_get_error` | the [`StanzaError`] |
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// for bookmark in xec.context().request(moxl_xep::xep_0402_bookmarks2::Get)?.await? {
///     println!("{} (autojoin: {})", bookmark.jid, bookmark.autojoin);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Get;

#[action(group = "bookmarks2")]
impl Get {
    /// Our bookmarks.
    type Output = Vec<Bookmark>;

    fn request(&self) -> ElementBuilder {
        pubsub::items(None, NS)
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Vec<Bookmark>> {
        Ok(Bookmark::all_in(stanza))
    }

    async fn error_item_not_found(&mut self, ctx: &Context, _error: &StanzaError, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Adds or replaces a bookmark (§4.3). Its `Output` is the [`Bookmark`] stored.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `bookmarks2_add_handle` | the [`Bookmark`] |
/// | any error (`conflict` when the node's configuration differs from §5) | `bookmarks2_add_error` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0402_bookmarks2::{Add, Bookmark};
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let mut b = Bookmark::new("theplay@conference.shakespeare.lit");
/// b.autojoin = true;
/// xec.context().request(Add { bookmark: b })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Add {
    /// The bookmark.
    pub bookmark: Bookmark,
}

#[action(group = "bookmarks2")]
impl Add {
    /// The bookmark stored.
    type Output = Bookmark;

    fn request(&self) -> ElementBuilder {
        publish(&self.bookmark)
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<Bookmark> {
        Ok(self.bookmark.clone())
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Removes the bookmark of a room (§4.4: a retract with `notify='true'`). Its `Output` is the room's JID.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `bookmarks2_remove_handle` | the room's JID (`String`) |
/// | any error | `bookmarks2_remove_error` | the [`StanzaError`] |
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(moxl_xep::xep_0402_bookmarks2::Remove { jid: "theplay@conference.shakespeare.lit".into() })?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Remove {
    /// The room's JID.
    pub jid: String,
}

#[action(group = "bookmarks2")]
impl Remove {
    /// The room's JID.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        pubsub::retract(None, NS, &self.jid, true)
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<String> {
        Ok(self.jid.clone())
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// A change of our bookmarks, notified by the server (§4.3, §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BookmarkChange {
    /// Added or replaced.
    Added(Bookmark),
    /// Removed: the room's JID.
    Removed(String),
    /// Every bookmark was removed (the node was purged or deleted).
    Cleared,
}

impl BookmarkChange {
    /// The changes an event notification carries. Only notifications from our own account count (§4: the node
    /// is ours; `account` is our bare JID): any other sender gives none.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0402_bookmarks2::BookmarkChange;
    /// // §4.4, Example 9
    /// let m = Element::parse("<message xmlns='jabber:client' from='juliet@capulet.lit' to='juliet@capulet.lit/balcony' type='headline' id='removed-room1'>\
    ///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:bookmarks:1'>\
    ///     <retract id='theplay@conference.shakespeare.lit'/></items></event></message>")?;
    /// assert_eq!(
    ///     BookmarkChange::all_in(&m, Some("juliet@capulet.lit")),
    ///     [BookmarkChange::Removed("theplay@conference.shakespeare.lit".into())]
    /// );
    /// assert!(BookmarkChange::all_in(&m, Some("romeo@montague.lit")).is_empty());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(stanza: &Element, account: Option<&str>) -> Vec<BookmarkChange> {
        let Some(event) = Event::from_message(stanza).filter(|e| e.node == NS) else { return Vec::new() };
        if !event.is_from_own_account(account) {
            return Vec::new();
        }
        match event.kind {
            EventKind::Items { items, retracted } => items
                .iter()
                .filter_map(Bookmark::from_item)
                .map(BookmarkChange::Added)
                .chain(retracted.into_iter().map(BookmarkChange::Removed))
                .collect(),
            EventKind::Purge | EventKind::Delete { .. } => vec![BookmarkChange::Cleared],
            _ => Vec::new(),
        }
    }
}

/// Delivers each change of our bookmarks notified by the server, as a [`BookmarkChange`] (Packet key
/// `bookmarkchange`; one Packet per change).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0402_bookmarks2::BookmarkChange;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::builder().account("juliet@capulet.lit".parse()?).build()?;
/// // the typed view of the Packets keyed `bookmarkchange`
/// let mut changes = xec.events::<BookmarkChange>();
/// // §4.3, Example 7
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='juliet@capulet.lit' to='juliet@capulet.lit/balcony' type='headline' id='new-room1'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:bookmarks:1'>\
///     <item id='theplay@conference.shakespeare.lit'><conference xmlns='urn:xmpp:bookmarks:1' name='The Play&apos;s the Thing' autojoin='true'>\
///     <nick>JC</nick></conference></item></items></event></message>")?).await;
/// let p = changes.try_recv().unwrap();
/// assert!(matches!(&*p, BookmarkChange::Added(b) if b.nick.as_deref() == Some("JC")));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(
    name = "event",
    ns = "http://jabber.org/protocol/pubsub#event",
    node = "urn:xmpp:bookmarks:1",
    key = "bookmarkchange",
    at = "child"
)]
#[derive(Debug, Default)]
pub struct BookmarkEvents;

impl Payload for BookmarkEvents {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        let account = ctx.account().map(|a| a.to_string());
        for change in BookmarkChange::all_in(stanza, account.as_deref()) {
            ctx.pack(change).deliver();
        }
        Ok(())
    }
}

/// Where a [`Migrate`] is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MigrateStep {
    /// Reading XEP-0048 bookmarks from the legacy PEP node `storage:bookmarks`.
    #[default]
    LegacyPep,
    /// Reading them from private XML storage.
    Private,
    /// Publishing the next bookmark.
    Publish,
}

/// Moves our XEP-0048 bookmarks to XEP-0402: reads the legacy PEP node, then private XML storage (either may
/// be missing), and publishes each conference bookmark (the first one read for a room wins; URL bookmarks
/// have no XEP-0402 form) as its own item, one after the other. The steps are requests of this one Action,
/// so its state (and a restart) carries what was read. Each step continues the request
/// ([`Context::continue_with`]): awaiting [`Migrate`] gives the published list once the last step is done, or
/// the error that stopped it.
///
/// | outcome | Packet key | content |
/// |---|---|---|
/// | every bookmark published | `bookmarks2_migrate_handle` | the published `Vec<`[`Bookmark`]`>` (empty if there was none) |
/// | a publish refused | `bookmarks2_migrate_error` | the [`StanzaError`] (the bookmarks before it were published) |
/// | private storage refused, and the legacy node held nothing | `bookmarks2_migrate_error` | the [`StanzaError`] |
///
/// Running it again publishes the same items again, which replaces them: nothing is duplicated.
///
/// ```
/// use moxl_xep::xep_0402_bookmarks2::{Bookmark, Migrate};
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let migrated: Vec<Bookmark> = xec.context().request(Migrate::default())?.await?;
/// println!("{} bookmarks migrated", migrated.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Migrate {
    /// The current step.
    pub step: MigrateStep,
    /// Read, not yet published.
    pub pending: Vec<Bookmark>,
    /// Published.
    pub published: Vec<Bookmark>,
}

impl Migrate {
    fn collect(&mut self, storage: Storage) {
        for c in &storage.conferences {
            if !self.pending.iter().any(|b| b.jid == c.jid) {
                self.pending.push(Bookmark::from(c));
            }
        }
    }

    /// Continues with the next step (`None`: the requester awaits it), or gives the published list when none
    /// is left (only `handle` ends this way, see `error`).
    fn next(&mut self, ctx: &Context) -> Result<Option<Vec<Bookmark>>> {
        let step = match self.step {
            MigrateStep::LegacyPep => MigrateStep::Private,
            MigrateStep::Private | MigrateStep::Publish => MigrateStep::Publish,
        };
        if step == MigrateStep::Publish && self.pending.is_empty() {
            return Ok(Some(std::mem::take(&mut self.published)));
        }
        let next = Migrate {
            step,
            pending: std::mem::take(&mut self.pending),
            published: std::mem::take(&mut self.published),
        };
        ctx.continue_with(next)?;
        Ok(None)
    }
}

#[action(group = "bookmarks2")]
impl Migrate {
    /// The bookmarks published (empty if there was none), after the last step.
    type Output = Vec<Bookmark>;

    fn request(&self) -> ElementBuilder {
        match (self.step, self.pending.first()) {
            (MigrateStep::Private, _) => crate::xep_0049_private::get("storage", legacy::NS),
            (MigrateStep::LegacyPep, _) => pubsub::items(None, legacy::NS),
            (MigrateStep::Publish, Some(b)) => publish(b),
            // Never requested with nothing to publish (see `next`): ask for the node, harmlessly.
            (MigrateStep::Publish, None) => pubsub::items(None, NS),
        }
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<Vec<Bookmark>> {
        match self.step {
            MigrateStep::Private | MigrateStep::LegacyPep => self.collect(Storage::from_stanza(stanza)),
            MigrateStep::Publish => {
                if !self.pending.is_empty() {
                    let done = self.pending.remove(0);
                    self.published.push(done);
                }
            }
        }
        // A step that continued gives nothing: its requester awaits the next step's list.
        Ok(self.next(ctx)?.unwrap_or_default())
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) -> Result<()> {
        match self.step {
            // No legacy node: nothing to read there.
            // (Both continue: after the legacy node comes private storage; with bookmarks pending, a publish.)
            MigrateStep::LegacyPep => self.next(ctx).map(|_| ()),
            // Private storage refused, with bookmarks read from the legacy node: publish them.
            MigrateStep::Private if !self.pending.is_empty() => self.next(ctx).map(|_| ()),
            MigrateStep::Private | MigrateStep::Publish => {
                ctx.pack(error.clone()).deliver();
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    fn reply(xec: &Xec, xml: &str) {
        let out = xec.take_outgoing();
        let id = out.last().expect("a request went out").attr("id").unwrap().into_owned();
        block_on(xec.dispatch(Element::parse(&xml.replace("ID", &id)).unwrap()));
    }

    #[test]
    fn the_spec_publish_has_the_section_5_options_and_round_trips() {
        let mut b = Bookmark::new("theplay@conference.shakespeare.lit");
        b.name = Some("The Play's the Thing".into());
        b.autojoin = true;
        b.nick = Some("JC".into());
        b.extensions = Some("<extensions xmlns='urn:xmpp:bookmarks:1'><state xmlns='http://myclient.example/bookmark/state' minimized='true'/></extensions>".into());
        let iq = publish(&b).build().unwrap();
        let form = DataForm::find_in(&iq.first_child().unwrap().child("publish-options", pubsub::NS).unwrap()).unwrap();
        assert_eq!(form.form_type_value(), Some(pubsub::NS_PUBLISH_OPTIONS));
        assert_eq!(form.value("pubsub#persist_items"), Some("true"));
        // read back from the publish itself
        let item = iq.first_child().unwrap().child("publish", pubsub::NS).unwrap().first_child().unwrap();
        let read = Bookmark::from_item(&Item::from_element(&item).unwrap()).unwrap();
        assert_eq!(read, b);
        assert!(read.extensions.unwrap().contains("minimized='true'"), "extensions are kept");
    }

    #[test]
    fn notifications_from_others_are_ignored() {
        let m = "<message xmlns='jabber:client' from='FROM' to='juliet@capulet.lit/balcony' type='headline'>\
            <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:bookmarks:1'>\
            <item id='a@b'><conference xmlns='urn:xmpp:bookmarks:1'/></item></items></event></message>";
        let xec = Xec::builder().account("juliet@capulet.lit".parse().unwrap()).build().unwrap();
        let mut changes = xec.subscribe("bookmarkchange");
        block_on(xec.dispatch(Element::parse(&m.replace("FROM", "tybalt@capulet.lit")).unwrap()));
        assert!(changes.try_recv().is_none());
        block_on(xec.dispatch(Element::parse(&m.replace("FROM", "juliet@capulet.lit")).unwrap()));
        assert_eq!(
            changes.try_recv().unwrap().content::<BookmarkChange>(),
            Some(&BookmarkChange::Added(Bookmark::new("a@b")))
        );
    }

    #[test]
    fn migration_reads_both_legacy_stores_and_publishes_each_room_once() {
        let xec = Xec::new().unwrap();
        let mut done = xec.subscribe("bookmarks2_migrate_handle");
        xec.context().request(Migrate::default()).unwrap();
        // legacy PEP: two rooms
        let out = xec.take_outgoing();
        assert!(out[0].to_xml().contains("<items node='storage:bookmarks'/>"));
        let id = out[0].attr("id").unwrap().into_owned();
        block_on(xec.dispatch(Element::parse(&format!("<iq xmlns='jabber:client' type='result' id='{id}'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
            <items node='storage:bookmarks'><item id='current'><storage xmlns='storage:bookmarks'>\
            <conference jid='a@muc' autojoin='true'><nick>N</nick></conference><conference jid='b@muc' name='B'/>\
            </storage></item></items></pubsub></iq>")).unwrap()));
        // private storage: one of them again, a third, and a URL
        reply(
            &xec,
            "<iq xmlns='jabber:client' type='result' id='ID'><query xmlns='jabber:iq:private'>\
            <storage xmlns='storage:bookmarks'><conference jid='b@muc' name='other'/><conference jid='c@muc'/>\
            <url url='https://x/'/></storage></query></iq>",
        );
        // three publishes, one after the other
        let mut jids = Vec::new();
        for _ in 0..3 {
            let out = xec.take_outgoing();
            assert_eq!(out.len(), 1);
            let xml = out[0].to_xml();
            let id = out[0].attr("id").unwrap().into_owned();
            let item = out[0].first_child().unwrap().child("publish", pubsub::NS).unwrap().first_child().unwrap();
            jids.push(item.attr("id").unwrap().into_owned());
            assert!(xml.contains("pubsub#access_model"), "{xml}");
            block_on(
                xec.dispatch(Element::parse(&format!("<iq xmlns='jabber:client' type='result' id='{id}'/>")).unwrap()),
            );
        }
        assert_eq!(jids, ["a@muc", "b@muc", "c@muc"]);
        let p = done.try_recv().unwrap();
        let published = p.content::<Vec<Bookmark>>().unwrap();
        assert_eq!(published.len(), 3);
        assert_eq!((published[0].autojoin, published[0].nick.as_deref()), (true, Some("N")));
        assert_eq!(published[1].name.as_deref(), Some("B"), "the first read for a room wins");
        assert!(xec.take_outgoing().is_empty());
    }

    #[test]
    fn migration_with_nothing_to_move_ends_at_once() {
        let xec = Xec::new().unwrap();
        let mut done = xec.subscribe("bookmarks2_migrate_handle");
        let mut failed = xec.subscribe("bookmarks2_migrate_error");
        // no legacy node, empty private storage: nothing published, the migration ends
        xec.context().request(Migrate::default()).unwrap();
        reply(
            &xec,
            "<iq xmlns='jabber:client' type='error' id='ID'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        );
        reply(
            &xec,
            "<iq xmlns='jabber:client' type='result' id='ID'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>",
        );
        assert_eq!(done.try_recv().unwrap().content::<Vec<Bookmark>>().map(Vec::len), Some(0));
        assert!(xec.take_outgoing().is_empty());
        // neither store answers: the private storage's error is delivered
        xec.context().request(Migrate::default()).unwrap();
        reply(
            &xec,
            "<iq xmlns='jabber:client' type='error' id='ID'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        );
        reply(
            &xec,
            "<iq xmlns='jabber:client' type='error' id='ID'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        );
        assert!(failed.try_recv().unwrap().content::<StanzaError>().is_some());
        assert!(xec.take_outgoing().is_empty());
    }
}
