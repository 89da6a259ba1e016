//! RFC 6121 §2: the roster. Getting it ([`Get`], and [`Fetch`] with roster versioning, §2.6), adding or
//! updating an item ([`Set`], §2.3), removing one ([`Remove`], §2.5), and the roster pushes the server sends
//! after every change ([`RosterPushes`], §2.1.6), which a client must answer.
//!
//! Subscriptions (the `subscription` and `ask` of an item) change through presence stanzas: see
//! [`rfc6121_presence`](crate::rfc6121_presence).

use moxl_core::client::RosterVersion;
use moxl_core::jid::BareJid;
use moxl_core::stanza::{Condition, StanzaError, error_reply, iq_get, iq_result, iq_set};
use moxl_core::stream::StreamFeatures;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{action, payload};
use serde::{Deserialize, Serialize};

/// `jabber:iq:roster` (RFC 6121 §2.1).
///
/// ```
/// assert_eq!(moxl_xep::rfc6121_roster::NS, "jabber:iq:roster");
/// ```
pub const NS: &str = "jabber:iq:roster";

moxl_core::feature!("jabber:iq:roster");

/// One roster item (RFC 6121 §2.1.2).
///
/// ```
/// let item = moxl_xep::rfc6121_roster::RosterItem::new("romeo@example.net").with_name("Romeo").with_group("Friends");
/// assert_eq!(item.groups, ["Friends"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RosterItem {
    /// The contact's JID.
    pub jid: String,
    /// The handle the user gave the contact.
    pub name: Option<String>,
    /// `none`, `to`, `from`, `both` or `remove` (§2.1.2.5).
    pub subscription: Option<String>,
    /// `subscribe` while a subscription request is pending (§2.1.2.2).
    pub ask: Option<String>,
    /// The user pre-approved the contact's subscription (§2.1.2.1, §3.4).
    pub approved: bool,
    /// The groups the contact is in.
    pub groups: Vec<String>,
}

impl RosterItem {
    /// An item with only a JID, to be given a name and groups for a [`Set`].
    ///
    /// ```
    /// assert_eq!(moxl_xep::rfc6121_roster::RosterItem::new("nurse@example.com").jid, "nurse@example.com");
    /// ```
    pub fn new(jid: impl Into<String>) -> Self {
        RosterItem { jid: jid.into(), ..RosterItem::default() }
    }

    /// With this handle (§2.1.2.4).
    ///
    /// ```
    /// let item = moxl_xep::rfc6121_roster::RosterItem::new("nurse@example.com").with_name("Nurse");
    /// assert_eq!(item.name.as_deref(), Some("Nurse"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// In this group too (§2.1.2.6).
    ///
    /// ```
    /// let item = moxl_xep::rfc6121_roster::RosterItem::new("nurse@example.com").with_group("Servants");
    /// assert_eq!(item.groups, ["Servants"]);
    /// ```
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.groups.push(group.into());
        self
    }

    /// Whether the item says it was removed (`subscription='remove'` in a push, §2.5.2).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::rfc6121_roster::RosterItem;
    /// let item = Element::parse("<item xmlns='jabber:iq:roster' jid='nurse@example.com' subscription='remove'/>")?;
    /// assert!(RosterItem::from_element(&item).unwrap().is_removed());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn is_removed(&self) -> bool {
        self.subscription.as_deref() == Some("remove")
    }

    /// Reads an `<item/>` of a roster query.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::rfc6121_roster::RosterItem;
    /// // RFC 6121 §2.1.4, Example (abridged)
    /// let item = Element::parse("<item xmlns='jabber:iq:roster' jid='romeo@example.net' name='Romeo' subscription='both'><group>Friends</group></item>")?;
    /// let item = RosterItem::from_element(&item).unwrap();
    /// assert_eq!((item.jid.as_str(), item.groups.as_slice()), ("romeo@example.net", &["Friends".to_owned()][..]));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(item: &Element) -> Option<RosterItem> {
        if !item.is("item", NS) {
            return None;
        }
        let attr = |name: &str| item.attr(name).map(|v| v.into_owned());
        Some(RosterItem {
            jid: attr("jid")?,
            name: attr("name"),
            subscription: attr("subscription"),
            ask: attr("ask"),
            approved: matches!(item.attr("approved").as_deref(), Some("true" | "1")),
            groups: item.children().filter(|g| g.is("group", NS)).map(|g| g.text().into_owned()).collect(),
        })
    }

    /// The items of a `<query xmlns='jabber:iq:roster'/>` inside a stanza.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let iq = Element::parse("<iq xmlns='jabber:client' type='result' id='r1'><query xmlns='jabber:iq:roster'><item jid='a@b'/></query></iq>")?;
    /// assert_eq!(moxl_xep::rfc6121_roster::RosterItem::all_in(&iq).len(), 1);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(stanza: &Element) -> Vec<RosterItem> {
        stanza
            .child("query", NS)
            .into_iter()
            .flat_map(|q| q.children())
            .filter_map(|i| Self::from_element(&i))
            .collect()
    }

    /// The `<item/>` of a roster set (§2.3.2): JID, name and groups; never `subscription` (other than `remove`)
    /// nor `ask`, which only the server sets.
    ///
    /// ```
    /// let item = moxl_xep::rfc6121_roster::RosterItem::new("nurse@example.com").with_name("Nurse").with_group("Servants");
    /// assert_eq!(
    ///     item.to_set_item().build()?.to_xml(),
    ///     "<item xmlns='jabber:iq:roster' jid='nurse@example.com' name='Nurse'><group>Servants</group></item>"
    /// );
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_set_item(&self) -> ElementBuilder {
        let item = ElementBuilder::new("item", NS).attr("jid", self.jid.clone()).attr_opt("name", self.name.clone());
        self.groups.iter().fold(item, |item, g| item.text_child("group", g.clone()))
    }
}

/// A roster with its version (§2.6): what [`Fetch`] delivers when the server sends the roster.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::rfc6121_roster::Roster;
/// let iq = Element::parse("<iq xmlns='jabber:client' type='result' id='r1'><query xmlns='jabber:iq:roster' ver='ver14'><item jid='a@b'/></query></iq>")?;
/// let roster = Roster::from_stanza(&iq).unwrap();
/// assert_eq!((roster.ver.as_deref(), roster.items.len()), (Some("ver14"), 1));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Roster {
    /// The version to store with the items and send in the next [`Fetch`] (`None` if the server does not
    /// version rosters).
    pub ver: Option<String>,
    /// The items.
    pub items: Vec<RosterItem>,
}

impl Roster {
    /// Reads the roster query of a stanza; `None` if it has none.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let empty = Element::parse("<iq xmlns='jabber:client' type='result' id='r1'/>")?;
    /// assert_eq!(moxl_xep::rfc6121_roster::Roster::from_stanza(&empty), None);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<Roster> {
        let query = stanza.child("query", NS)?;
        Some(Roster {
            ver: query.attr("ver").map(|v| v.into_owned()),
            items: query.children().filter_map(|i| RosterItem::from_element(&i)).collect(),
        })
    }
}

/// What a [`Fetch`] delivers (§2.6.3).
///
/// ```
/// use moxl_xep::rfc6121_roster::{Fetched, Roster};
/// let fetched = Fetched::Unchanged;
/// assert!(matches!(fetched, Fetched::Unchanged));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fetched {
    /// The whole roster (and its version, to store with it).
    Roster(Roster),
    /// The server answered the version we sent with an empty result: the stored roster is current, apart from
    /// the roster pushes that follow (each with its new version, §2.6.3).
    Unchanged,
}

/// Gets the roster (RFC 6121 §2.1.3), without versioning. Output: the items (`Vec<RosterItem>`), also delivered
/// as the Packet `roster_get_handle` (the second view). To store the roster and get only changes next time, use
/// [`Fetch`].
///
/// ```
/// use moxl_xep::rfc6121_roster::{Get, RosterItem};
/// async fn contacts(xec: &moxl_core::xec::Xec) -> moxl_core::Result<Vec<RosterItem>> {
///     xec.context().request(Get)?.await
/// }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Get;

#[action(group = "roster")]
impl Get {
    /// The roster's items.
    type Output = Vec<RosterItem>;

    fn request(&self) -> ElementBuilder {
        iq_get(None).append(ElementBuilder::new("query", NS))
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<Vec<RosterItem>> {
        Ok(RosterItem::all_in(stanza))
    }
}

/// Gets the roster with roster versioning (§2.6) when the server offers it (`<ver/>` in its stream features).
/// Output: [`Fetched`] (the roster with its version, or [`Fetched::Unchanged`]); an error reply is
/// `Err(Error::Stanza(..))`. The Packets are the second view:
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | the roster | `roster_fetch_handle` | [`Fetched::Roster`] with the new version |
/// | an empty result: the version we sent is current (§2.6.3) | `roster_fetch_handle` | [`Fetched::Unchanged`] |
/// | an error | `roster_fetch_error` | the [`StanzaError`] |
///
/// After either answer, the changes since the stored version come as roster pushes (`roster_push`, each with
/// its version, see [`RosterPushes`]).
///
/// ```
/// use moxl_core::stream::StreamFeatures;
/// use moxl_xep::rfc6121_roster::Fetch;
/// let mut features = StreamFeatures::default();
/// // a server without versioning never sees a `ver` (§2.6.1)
/// assert_eq!(Fetch::new(&features, Some("ver14")).ver(), None);
/// features.roster_ver = true;
/// assert_eq!(Fetch::new(&features, Some("ver14")).ver(), Some("ver14"));
/// // no stored roster: the empty version asks for the whole roster and its version (§2.6.2)
/// assert_eq!(Fetch::new(&features, None).ver(), Some(""));
/// # async fn run(client: &moxl_core::client::Client, stored: Option<&str>) -> moxl_core::Result<()> {
/// let fetched = client.xec().context().request(Fetch::new(client.features(), stored))?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Fetch {
    ver: Option<String>,
}

/// The session-start hook `"roster"` (see [`moxl_core::client::StartHook`]): every fresh session fetches the
/// roster ([`Fetch`], with the latest version if the session store keeps one: [`RosterVersion`], written back from
/// every versioned roster result and push), which makes it an interested
/// resource (RFC 6121 §3.1.6, §2.1.6): the server sends it roster pushes and the approvals (`subscribed`) of our
/// subscription requests (§3.1.6: only to interested resources). The answer is delivered as
/// `roster_fetch_handle`. Opt out with `ClientBuilder::without_start_hook("roster")`.
///
/// ```
/// assert!(moxl_core::client::start_hooks().any(|h| h.name == "roster"));
/// ```
fn fetch_at_session_start(ctx: &Context, start: &moxl_core::client::SessionStart<'_>) -> moxl_core::Result<()> {
    ctx.request(Fetch::new(start.features, start.roster_version)).map(|_| ())
}

moxl_core::start_hook!("roster", fetch_at_session_start);

impl Fetch {
    /// A roster get that sends the stored version `stored` (or the empty version without one) when `features`
    /// say the server supports versioning, and no version otherwise (§2.6.1: a client MUST NOT send one then).
    pub fn new(features: &StreamFeatures, stored: Option<&str>) -> Self {
        Fetch { ver: features.roster_ver.then(|| stored.unwrap_or_default().to_owned()) }
    }

    /// The version sent, if any.
    ///
    /// ```
    /// assert_eq!(moxl_xep::rfc6121_roster::Fetch::default().ver(), None);
    /// ```
    pub fn ver(&self) -> Option<&str> {
        self.ver.as_deref()
    }
}

#[action(group = "roster")]
impl Fetch {
    /// The roster, or word that the stored one is current.
    type Output = Fetched;

    fn request(&self) -> ElementBuilder {
        iq_get(None).append(ElementBuilder::new("query", NS).attr_opt("ver", self.ver.clone()))
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> moxl_core::Result<Fetched> {
        Ok(match Roster::from_stanza(stanza) {
            Some(roster) => {
                // §2.6.3: the version of the roster now held, kept with a stored session for its next start
                if let (Some(ver), Some(kept)) = (roster.ver.as_deref(), ctx.get::<RosterVersion>()) {
                    kept.set(ver);
                }
                Fetched::Roster(roster)
            }
            None => Fetched::Unchanged,
        })
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Adds an item to the roster, or updates its name and groups (§2.3, §2.4): the server answers, then pushes the
/// item to every interested resource, this one included. Output: the item's JID; an error reply is
/// `Err(Error::Stanza(..))`. The Packets are the second view:
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `roster_set_handle` | the JID |
/// | error (`bad-request`, `not-acceptable`, `forbidden`, … §2.3.3) | `roster_set_error` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::rfc6121_roster::{RosterItem, Set};
/// // RFC 6121 §2.3.2, Example 1
/// let set = Set::new(RosterItem::new("nurse@example.com").with_name("Nurse").with_group("Servants"));
/// # async fn run(xec: &moxl_core::xec::Xec, set: Set) -> moxl_core::Result<()> {
/// let jid: String = xec.context().request(set)?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Set {
    item: RosterItem,
}

impl Set {
    /// Sets `item` (its JID, name and groups).
    pub fn new(item: RosterItem) -> Self {
        Set { item }
    }
}

#[action(group = "roster")]
impl Set {
    /// The JID of the item set.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        iq_set(None).append(ElementBuilder::new("query", NS).append(self.item.to_set_item()))
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> moxl_core::Result<String> {
        Ok(self.item.jid.clone())
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Removes an item from the roster (§2.5), which also cancels the subscriptions both ways (§2.5.2). Output: the
/// removed JID; an error reply (`item-not-found` when there was no such item) is `Err(Error::Stanza(..))`. The
/// Packets are the second view:
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `roster_remove_handle` | the JID |
/// | `item-not-found` (no such item, §2.5.3) | `roster_remove_erroritemnotfound` | the [`StanzaError`] |
/// | another error | `roster_remove_error` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::rfc6121_roster::Remove;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let removed: String = xec.context().request(Remove::new("nurse@example.com"))?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Remove {
    jid: String,
}

impl Remove {
    /// Removes the item of `jid`.
    pub fn new(jid: impl Into<String>) -> Self {
        Remove { jid: jid.into() }
    }
}

#[action(group = "roster")]
impl Remove {
    /// The JID of the removed item.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        iq_set(None).append(
            ElementBuilder::new("query", NS)
                .append(ElementBuilder::new("item", NS).attr("jid", self.jid.clone()).attr("subscription", "remove")),
        )
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> moxl_core::Result<String> {
        Ok(self.jid.clone())
    }

    async fn error_item_not_found(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// One roster push (§2.1.6): the changed item, and the roster version it brings the stored roster to (§2.6.3).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::rfc6121_roster::RosterPush;
/// // RFC 6121 §2.1.6, Example (the push of an added item)
/// let push = Element::parse("<iq xmlns='jabber:client' id='a78b4q6ha463' to='juliet@example.com/chamber' type='set'>\
///     <query xmlns='jabber:iq:roster' ver='ver13'><item jid='nurse@example.com' name='Nurse' subscription='none'>\
///     <group>Servants</group></item></query></iq>")?;
/// let push = RosterPush::from_stanza(&push).unwrap();
/// assert_eq!((push.item.jid.as_str(), push.ver.as_deref()), ("nurse@example.com", Some("ver13")));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RosterPush {
    /// The item as it is now (`subscription='remove'` when it was removed: [`RosterItem::is_removed`]).
    pub item: RosterItem,
    /// The new roster version, if the server versions the roster.
    pub ver: Option<String>,
}

impl RosterPush {
    /// Reads a roster push: an `iq` `set` whose query holds exactly one item (§2.1.6). It does not check the
    /// sender: see [`is_trusted_push`].
    pub fn from_stanza(stanza: &Element) -> Option<RosterPush> {
        if !stanza.is("iq", ns::CLIENT) || stanza.attr("type").as_deref() != Some("set") {
            return None;
        }
        let query = stanza.child("query", NS)?;
        let mut items = query.children().filter(|c| c.is("item", NS));
        let item = RosterItem::from_element(&items.next()?)?;
        if items.next().is_some() {
            return None;
        }
        Some(RosterPush { item, ver: query.attr("ver").map(|v| v.into_owned()) })
    }
}

/// Whether a roster push comes from where it may (§2.1.6): with no `from` (our server, for our account), or from
/// our own bare JID `account`. A push from anyone else is forged and MUST be ignored.
///
/// ```
/// use moxl_core::jid::BareJid;
/// use moxl_core::xml::Element;
/// use moxl_xep::rfc6121_roster::is_trusted_push;
/// let juliet = BareJid::new("juliet@example.com")?;
/// let push = |from: &str| Element::parse(&format!("<iq xmlns='jabber:client' type='set' id='p1'{from}><query xmlns='jabber:iq:roster'><item jid='x@y'/></query></iq>")).unwrap();
/// assert!(is_trusted_push(&push(""), Some(&juliet)));
/// assert!(is_trusted_push(&push(" from='Juliet@Example.com'"), Some(&juliet)));
/// assert!(!is_trusted_push(&push(" from='juliet@example.com/balcony'"), Some(&juliet)));
/// assert!(!is_trusted_push(&push(" from='mallory@evil.example'"), Some(&juliet)));
/// # Ok::<(), moxl_core::jid::Error>(())
/// ```
pub fn is_trusted_push(stanza: &Element, account: Option<&BareJid>) -> bool {
    match stanza.attr("from") {
        None => true,
        Some(from) => account.is_some_and(|account| BareJid::new(&from).is_ok_and(|from| &from == account)),
    }
}

/// Answers roster pushes (§2.1.6) and delivers each as a [`RosterPush`] under the Packet key `roster_push`.
///
/// A push from our server (no `from`) or from our own bare JID is answered with an empty result (the client is
/// expected to answer, RFC 6120 §8.2.3) and delivered; a push from anyone else is ignored, as §2.1.6 requires
/// (logged as a warning, not delivered; the dispatcher answers it `service-unavailable`, as it answers every
/// request no handler answered, RFC 6120 §8.2.3). A trusted push with no item or several is refused with
/// `bad-request`. Store the push's `ver` with the roster ([`Fetch`] sends it next time).
///
/// ```
/// use moxl_core::jid::BareJid;
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::rfc6121_roster::RosterPush;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::builder().account(BareJid::new("juliet@example.com")?).build()?;
/// let mut pushes = xec.subscribe("roster_push");
/// xec.dispatch(Element::parse("<iq xmlns='jabber:client' id='a78b4q6ha463' to='juliet@example.com/chamber' type='set'>\
///     <query xmlns='jabber:iq:roster' ver='ver13'><item jid='nurse@example.com' subscription='none'/></query></iq>")?).await;
/// assert_eq!(xec.take_outgoing()[0].to_xml(), "<iq xmlns='jabber:client' type='result' id='a78b4q6ha463'/>");
/// assert_eq!(pushes.try_recv().unwrap().content::<RosterPush>().unwrap().ver.as_deref(), Some("ver13"));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "query", ns = "jabber:iq:roster", key = "roster_push", at = "child")]
#[derive(Debug, Default)]
pub struct RosterPushes;

impl Payload for RosterPushes {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        if !stanza.is("iq", ns::CLIENT) || stanza.attr("type").as_deref() != Some("set") {
            return Ok(());
        }
        if !is_trusted_push(stanza, ctx.account().as_ref()) {
            tracing::warn!(from = ?stanza.attr("from"), "roster push from another entity ignored (RFC 6121 §2.1.6)");
            return Ok(());
        }
        match RosterPush::from_stanza(stanza) {
            Some(push) => {
                ctx.send(iq_result(stanza))?;
                // §2.6.3: each push carries the roster's new version, kept with a stored session
                if let (Some(ver), Some(kept)) = (push.ver.as_deref(), ctx.get::<RosterVersion>()) {
                    kept.set(ver);
                }
                ctx.pack(push).deliver();
                Ok(())
            }
            None => ctx.send(error_reply(stanza, &StanzaError::new(Condition::BadRequest))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    /// RFC 6121 §2.1.6, the push example.
    const PUSH: &str = "<iq xmlns='jabber:client' id='a78b4q6ha463' to='juliet@example.com/chamber' type='set'>\
        <query xmlns='jabber:iq:roster' ver='ver13'><item jid='nurse@example.com' name='Nurse' subscription='none'>\
        <group>Servants</group></item></query></iq>";

    fn xec() -> Xec {
        Xec::builder().account(BareJid::new("juliet@example.com").unwrap()).build().unwrap()
    }

    #[test]
    fn the_requests_are_the_spec_examples() {
        // §2.1.3 Example; §2.6.2 with a version
        let get = Get.request().attr("id", "bv1bs71f").build().unwrap();
        assert_eq!(
            get.to_xml(),
            "<iq xmlns='jabber:client' type='get' id='bv1bs71f'><query xmlns='jabber:iq:roster'/></iq>"
        );
        let versioned = Fetch { ver: Some("ver14".into()) }.request().attr("id", "r1").build().unwrap();
        assert_eq!(
            versioned.to_xml(),
            "<iq xmlns='jabber:client' type='get' id='r1'><query xmlns='jabber:iq:roster' ver='ver14'/></iq>"
        );
        // §2.3.2 Example 1; §2.5.2
        let set = Set::new(RosterItem::new("nurse@example.com").with_name("Nurse").with_group("Servants"));
        assert_eq!(
            set.request().attr("id", "ph1xaz53").build().unwrap().to_xml(),
            "<iq xmlns='jabber:client' type='set' id='ph1xaz53'><query xmlns='jabber:iq:roster'>\
             <item jid='nurse@example.com' name='Nurse'><group>Servants</group></item></query></iq>"
        );
        assert_eq!(
            Remove::new("nurse@example.com").request().attr("id", "hm4hs97y").build().unwrap().to_xml(),
            "<iq xmlns='jabber:client' type='set' id='hm4hs97y'><query xmlns='jabber:iq:roster'>\
             <item jid='nurse@example.com' subscription='remove'/></query></iq>"
        );
    }

    #[test]
    fn a_versioned_get_delivers_the_roster_or_unchanged() {
        let xec = xec();
        let mut fetched = xec.subscribe("roster_fetch_handle");
        let mut features = StreamFeatures::default();
        features.roster_ver = true;
        for (reply, expected) in [
            // §2.6.3: the roster with its version, or an empty result
            (
                "<query xmlns='jabber:iq:roster' ver='ver34'><item jid='romeo@example.net' subscription='both'/></query>",
                Fetched::Roster(Roster {
                    ver: Some("ver34".into()),
                    items: vec![RosterItem {
                        subscription: Some("both".into()),
                        ..RosterItem::new("romeo@example.net")
                    }],
                }),
            ),
            ("", Fetched::Unchanged),
        ] {
            let typed = block_on(async {
                let out = xec.context().request(Fetch::new(&features, Some("ver14"))).unwrap();
                let sent = xec.take_outgoing().remove(0);
                assert_eq!(sent.child("query", NS).unwrap().attr("ver").as_deref(), Some("ver14"));
                let id = sent.attr("id").unwrap().into_owned();
                let xml = format!("<iq xmlns='jabber:client' type='result' id='{id}'>{reply}</iq>");
                xec.dispatch(Element::parse(&xml).unwrap()).await;
                out.await.unwrap()
            });
            assert_eq!(typed, expected);
            assert_eq!(fetched.try_recv().unwrap().content::<Fetched>(), Some(&expected));
        }
    }

    #[test]
    fn a_stored_sessions_roster_version_follows_the_fetch_and_the_pushes() {
        // the extension a client with a session store gives its controller (RFC 6121 §2.6.3)
        let kept = RosterVersion::default();
        let xec = Xec::builder()
            .account(BareJid::new("juliet@example.com").unwrap())
            .extension(kept.clone())
            .build()
            .unwrap();
        let mut features = StreamFeatures::default();
        features.roster_ver = true;
        let out = xec.context().request(Fetch::new(&features, None)).unwrap();
        let id = xec.take_outgoing().remove(0).attr("id").unwrap().into_owned();
        let xml = format!("<iq xmlns='jabber:client' type='result' id='{id}'><query xmlns='{NS}' ver='ver11'/></iq>");
        block_on(xec.dispatch(Element::parse(&xml).unwrap()));
        assert!(matches!(block_on(out).unwrap(), Fetched::Roster(_)));
        assert_eq!(kept.take_pending().as_deref(), Some("ver11"));
        block_on(xec.dispatch(Element::parse(PUSH).unwrap()));
        assert_eq!(kept.take_pending().as_deref(), Some("ver13"));
        assert_eq!(kept.get().as_deref(), Some("ver13"));
    }

    #[test]
    fn pushes_are_answered_and_delivered_only_from_our_account() {
        let xec = xec();
        let mut pushes = xec.subscribe("roster_push");
        for from in ["", " from='juliet@example.com'", " from='JULIET@example.com'"] {
            let xml = PUSH.replace(" id=", &format!("{from} id="));
            block_on(xec.dispatch(Element::parse(&xml).unwrap()));
            let out = xec.take_outgoing();
            assert_eq!(out.len(), 1, "{from}");
            assert_eq!(out[0].attr("type").as_deref(), Some("result"));
            assert_eq!(out[0].attr("id").as_deref(), Some("a78b4q6ha463"));
            let push = pushes.try_recv().unwrap();
            let push = push.content::<RosterPush>().unwrap();
            assert_eq!(push.item.groups, ["Servants"]);
            assert_eq!(push.ver.as_deref(), Some("ver13"));
        }
        // forged pushes: ignored (§2.1.6), answered service-unavailable by the dispatcher (RFC 6120 §8.2.3)
        for from in ["juliet@example.com/balcony", "mallory@evil.example", "example.com", "not a jid@@"] {
            let xml = PUSH.replace(" id=", &format!(" from='{from}' id="));
            block_on(xec.dispatch(Element::parse(&xml).unwrap()));
            let out = xec.take_outgoing();
            assert_eq!(out.len(), 1, "{from}");
            assert!(out[0].to_xml().contains("<service-unavailable"), "{from}");
            assert!(pushes.try_recv().is_none(), "{from}");
        }
        // a push with two items is refused; a get is no push
        let two = PUSH.replace("</query>", "<item jid='x@y'/></query>");
        block_on(xec.dispatch(Element::parse(&two).unwrap()));
        assert!(xec.take_outgoing()[0].to_xml().contains("<bad-request"));
        let get = "<iq xmlns='jabber:client' type='get' id='g1'><query xmlns='jabber:iq:roster'/></iq>";
        block_on(xec.dispatch(Element::parse(get).unwrap()));
        assert!(pushes.try_recv().is_none());
        assert!(xec.take_outgoing().iter().all(|o| o.attr("type").as_deref() != Some("result")));
    }

    #[test]
    fn a_removal_of_an_unknown_item_is_the_stanza_error() {
        // §2.5.3: item-not-found
        let xec = xec();
        let result = block_on(async {
            let out = xec.context().request(Remove::new("nurse@example.com")).unwrap();
            let reply = crate::test_util::answer_last(
                &xec,
                "<iq xmlns='jabber:client' type='error' id='ID'><error type='modify'>\
                 <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            );
            xec.dispatch(reply).await;
            out.await
        });
        match result {
            Err(moxl_core::Error::Stanza(e)) => assert_eq!(e.condition(), Some(Condition::ItemNotFound)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_removal_push_reads_as_removed() {
        // §2.5.2
        let xml = "<iq xmlns='jabber:client' id='hm4hs97y' to='juliet@example.com/balcony' type='set'>\
            <query xmlns='jabber:iq:roster' ver='ver15'><item jid='nurse@example.com' subscription='remove'/></query></iq>";
        let push = RosterPush::from_stanza(&Element::parse(xml).unwrap()).unwrap();
        assert!(push.item.is_removed());
    }
}
