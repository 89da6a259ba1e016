//! XEP-0503: Server-side spaces (version 0.3.0, namespace `urn:xmpp:spaces:0`), as Movim uses them. A space is
//! a pubsub node (XEP-0060) of type `urn:xmpp:spaces:0` that clusters rooms, pubsub nodes and links: its items
//! are its content (§6.4). The XEP needs no special server support (§4): any XEP-0060 service that lets users
//! create nodes can host spaces.
//!
//! | what | how | § |
//! |---|---|---|
//! | list a service's spaces | request [`ListSpaces`] (optionally with the XEP-0462 type filter) | 6.1 |
//! | a space's metadata | request `xep_0030_disco::InfoQuery::node(service, node)`, read with [`SpaceInfo::from_info`] | 6.2 |
//! | create a space | request [`Create`] (its node configuration is [`space_config`]) | 3 |
//! | join a space | request [`Subscribe`] (a pubsub subscription; its changes then come as [`SpaceEvent`]) | 6.3 |
//! | a space's content | request [`GetRooms`]: rooms, nodes, links, avatar and banner as [`SpaceItem`] | 6.4, 6.2.1 |
//! | approve or remove a member (owner) | request [`SetSubscription`] | 3, XEP-0060 §8.8.2 |
//! | add or change content | request [`AddToSpace`] | 6.4 |
//! | remove content | request [`RemoveFromSpace`] | 6.4 |
//! | a room's parent space | [`SpaceParent::of`] on the room's disco#info | 6.5 |
//!
//! The Actions' names and Packet keys are Moxl's Space actions (`space_create_handle`, `space_subscribe_handle`,
//! `space_getrooms_handle`, `space_setsubscription_handle`), so that a Movim port finds its keys.
//!
//! Events: [`SpaceEvents`] delivers what changes in the spaces this session joined, created or read, as
//! [`SpaceEvent`] (Packet key `spaceevent`), built only when someone listens. A client announces no feature for
//! spaces: `urn:xmpp:spaces:0` is announced by the rooms and nodes that belong to one (§6.5).
//!
//! The tests run the whole flow on the pubsub services of both test servers (Prosody 0.12, ejabberd 23.01), which
//! have no spaces support of their own (their rooms announce no `urn:xmpp:spaces:0`), and read the XEP's own
//! examples as fixtures.
//!
//! ```
//! use moxl_xep::xep_0503_spaces::{AddToSpace, Create, Exposure, GetRooms, SpaceItem};
//! use moxl_xep::xep_0402_bookmarks2::Bookmark;
//! # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
//! let service = "megacorp-pubsub.example.com";
//! ctx.request(Create::new(service, "dev", Exposure::Public).title("The developers corner"))?.await?;
//! let room = SpaceItem::Room(Bookmark::new("editors@conference.megacorp.example.com"));
//! ctx.request(AddToSpace::new(service, "dev", room))?.await?;
//! for item in ctx.request(GetRooms::new(service, "dev"))?.await? {
//!     println!("{}", item.id());
//! }
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Mutex;

use moxl_core::jid::Jid;
use moxl_core::stanza::iq_get;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0030_disco::DiscoInfo;
use crate::xep_0060_pubsub::{self as pubsub, DiscoItem, Event, EventKind, Item, Subscription};
use crate::xep_0066_oob;
use crate::xep_0080_geoloc::PepData;
use crate::xep_0084_avatar::Metadata;
use crate::xep_0330_pubsub_subscription::{self as followed, FollowedNode};
use crate::xep_0402_bookmarks2::{self as bookmarks2, Bookmark};

/// `urn:xmpp:spaces:0`: the `pubsub#type` of a space node (§3), the feature and `FORM_TYPE` of its members
/// (§6.5).
///
/// ```
/// assert_eq!(moxl_xep::xep_0503_spaces::NS, "urn:xmpp:spaces:0");
/// ```
pub const NS: &str = "urn:xmpp:spaces:0";

/// `urn:xmpp:spaces:avatar:metadata:0`: the item id of a space's avatar (§6.2.1).
pub const AVATAR_ITEM: &str = "urn:xmpp:spaces:avatar:metadata:0";

/// `urn:xmpp:spaces:banner:metadata:0`: the item id of a space's banner (§6.2.1).
pub const BANNER_ITEM: &str = "urn:xmpp:spaces:banner:metadata:0";

/// `urn:xmpp:pubsub-filter:0`: XEP-0462's disco#items filter, to list only spaces (§6.1).
pub const NS_FILTER: &str = "urn:xmpp:pubsub-filter:0";

/// The pubsub features a spaces service MUST announce (§5, after `http://jabber.org/protocol/pubsub#`).
///
/// ```
/// assert!(moxl_xep::xep_0503_spaces::REQUIRED_FEATURES.contains(&"multi-items"));
/// ```
pub const REQUIRED_FEATURES: [&str; 11] = [
    "subscribe",
    "create-nodes",
    "delete-nodes",
    "config-node",
    "meta-data",
    "delete-items",
    "retract-items",
    "multi-items",
    "item-ids",
    "manage-subscriptions",
    "retrieve-items",
];

/// Which of [`REQUIRED_FEATURES`] a service's disco#info features lack (empty: it can host spaces, §5).
///
/// ```
/// let lacking = moxl_xep::xep_0503_spaces::missing_features(&["http://jabber.org/protocol/pubsub#subscribe"]);
/// assert_eq!(lacking.len(), 10);
/// ```
pub fn missing_features<S: AsRef<str>>(features: &[S]) -> Vec<&'static str> {
    let has =
        |f: &str| features.iter().any(|g| g.as_ref().strip_prefix("http://jabber.org/protocol/pubsub#") == Some(f));
    REQUIRED_FEATURES.into_iter().filter(|f| !has(f)).collect()
}

/// Who may join a space (§3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Exposure {
    /// Anyone (`pubsub#access_model` `open`).
    Public,
    /// At the owner's discretion (`pubsub#access_model` `whitelist`).
    Private,
}

/// The node configuration of a space (§3, the table of Node Configuration): its type, persistent items,
/// retractions, subscriptions, configuration changes and deletion notified, publishers only, and the access model
/// of its exposure.
///
/// ```
/// use moxl_xep::xep_0503_spaces::{Exposure, space_config};
/// let c = space_config(Exposure::Public);
/// assert_eq!(c.value("pubsub#type"), Some("urn:xmpp:spaces:0"));
/// assert_eq!(c.value("pubsub#access_model"), Some("open"));
/// assert_eq!(c.value("pubsub#notify_retract"), Some("1")); // XEP-0004's boolean true
/// assert_eq!(space_config(Exposure::Private).value("pubsub#access_model"), Some("whitelist"));
/// ```
pub fn space_config(exposure: Exposure) -> DataForm {
    pubsub::node_config()
        .with_value("pubsub#type", NS)
        .with_bool("pubsub#notify_retract", true)
        .with_bool("pubsub#persist_items", true)
        .with_bool("pubsub#purge_offline", false)
        .with_bool("pubsub#notify_sub", true)
        .with_bool("pubsub#notify_config", true)
        .with_bool("pubsub#notify_delete", true)
        .with_value("pubsub#publish_model", "publishers")
        .with_value(
            "pubsub#access_model",
            match exposure {
                Exposure::Public => "open",
                Exposure::Private => "whitelist",
            },
        )
}

/// A space of a service, as listed (§6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpaceRef {
    /// The spaces service.
    pub service: String,
    /// The space's node.
    pub node: String,
    /// Its name.
    pub name: Option<String>,
}

/// A space's metadata (§6.2): the `pubsub#meta-data` form of its node's disco#info.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0030_disco::DiscoInfo;
/// use moxl_xep::xep_0503_spaces::SpaceInfo;
/// // §6.2, Example 4
/// let iq = Element::parse("<iq xmlns='jabber:client' type='result' from='megacorp-pubsub.example.com'>\
///     <query xmlns='http://jabber.org/protocol/disco#info' node='dev'><identity category='pubsub' type='leaf'/>\
///     <feature var='http://jabber.org/protocol/pubsub'/><x xmlns='jabber:x:data' type='result'>\
///     <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#meta-data</value></field>\
///     <field var='pubsub#type'><value>urn:xmpp:spaces:0</value></field>\
///     <field var='pubsub#creator' type='jid-single'><value>lead-dev@megacorp.example.com</value></field>\
///     <field var='pubsub#title'><value>The developers corner</value></field>\
///     <field var='pubsub#owner' type='jid-multi'><value>lead-dev@megacorp.example.com</value>\
///     <value>lead-dev-friend@megacorp.example.com</value></field></x></query></iq>")?;
/// let info = SpaceInfo::from_info(&DiscoInfo::from_stanza(&iq).unwrap()).unwrap();
/// assert!(info.is_space);
/// assert_eq!(info.title.as_deref(), Some("The developers corner"));
/// assert_eq!(info.owners.len(), 2);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpaceInfo {
    /// The node.
    pub node: Option<String>,
    /// Whether its `pubsub#type` is `urn:xmpp:spaces:0` (a node of another type is no space).
    pub is_space: bool,
    /// Its title.
    pub title: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Who created it.
    pub creator: Option<String>,
    /// Its owners.
    pub owners: Vec<String>,
}

impl SpaceInfo {
    /// Reads the node's `pubsub#meta-data` form; `None` without one.
    pub fn from_info(info: &DiscoInfo) -> Option<SpaceInfo> {
        let form = info.extension("http://jabber.org/protocol/pubsub#meta-data")?;
        let value = |v: &str| form.value(v).filter(|s| !s.is_empty()).map(str::to_owned);
        Some(SpaceInfo {
            node: info.node.clone(),
            is_space: form.value("pubsub#type") == Some(NS),
            title: value("pubsub#title"),
            description: value("pubsub#description"),
            creator: value("pubsub#creator"),
            owners: form.values("pubsub#owner").to_vec(),
        })
    }
}

/// One entity in a space (§6.4, §6.2.1).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::Item;
/// use moxl_xep::xep_0503_spaces::SpaceItem;
/// let item = Element::parse("<item xmlns='http://jabber.org/protocol/pubsub' id='https://megacorp.example.com/dev-team-presentation'>\
///     <x xmlns='jabber:x:oob'><url>https://megacorp.example.com/dev-team-presentation</url></x></item>")?;
/// let link = SpaceItem::from_item(&Item::from_element(&item).unwrap()).unwrap();
/// assert_eq!(link, SpaceItem::Link("https://megacorp.example.com/dev-team-presentation".into()));
/// assert_eq!(link.id(), "https://megacorp.example.com/dev-team-presentation");
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SpaceItem {
    /// A chat room, as a XEP-0402 `<conference/>` under the room's JID.
    Room(Bookmark),
    /// A pubsub node, as a XEP-0330 `<subscription/>`.
    Node(FollowedNode),
    /// A web link, as a XEP-0066 `<x xmlns='jabber:x:oob'/>` under its URL.
    Link(String),
    /// The space's avatar: XEP-0084 metadata (§6.2.1).
    Avatar(Metadata),
    /// The space's banner: XEP-0084 metadata (§6.2.1).
    Banner(Metadata),
    /// Something else, which a client that does not know it ignores (§6.4): its item id.
    Other(String),
}

impl SpaceItem {
    /// Reads a pubsub item of a space; `None` without an id.
    pub fn from_item(item: &Item) -> Option<SpaceItem> {
        let id = item.id.as_deref().filter(|i| !i.is_empty())?;
        let other = || Some(SpaceItem::Other(id.to_owned()));
        let Some(payload) = &item.payload else { return other() };
        let metadata = || <Metadata as PepData>::from_element(payload);
        let read = match id {
            AVATAR_ITEM => metadata().map(SpaceItem::Avatar),
            BANNER_ITEM => metadata().map(SpaceItem::Banner),
            _ if payload.is("conference", bookmarks2::NS) => Bookmark::from_element(id, payload).map(SpaceItem::Room),
            _ if payload.is("subscription", followed::NS) => FollowedNode::from_element(payload).map(SpaceItem::Node),
            _ if payload.is("x", xep_0066_oob::NS_X) => {
                payload.child_text("url", xep_0066_oob::NS_X).map(SpaceItem::Link)
            }
            _ => None,
        };
        read.or_else(other)
    }

    /// The item id it is published under: the room's JID, the link's URL, the avatar and banner ids of §6.2.1,
    /// and for a node the XEP-0330 id of its service and node (§2.1, with the space's service as account).
    pub fn id(&self) -> Cow<'_, str> {
        match self {
            SpaceItem::Room(b) => Cow::Borrowed(&b.jid),
            SpaceItem::Node(n) => Cow::Owned(followed::item_id(&n.server, &n.node, "")),
            SpaceItem::Link(url) => Cow::Borrowed(url),
            SpaceItem::Avatar(_) => Cow::Borrowed(AVATAR_ITEM),
            SpaceItem::Banner(_) => Cow::Borrowed(BANNER_ITEM),
            SpaceItem::Other(id) => Cow::Borrowed(id),
        }
    }

    /// The item's payload; `None` for [`SpaceItem::Other`], whose payload is not known.
    pub fn to_payload(&self) -> Option<ElementBuilder> {
        Some(match self {
            SpaceItem::Room(b) => b.to_element(),
            SpaceItem::Node(n) => n.to_element(),
            SpaceItem::Link(url) => ElementBuilder::new("x", xep_0066_oob::NS_X)
                .append(ElementBuilder::new("url", xep_0066_oob::NS_X).text(url.clone())),
            SpaceItem::Avatar(m) | SpaceItem::Banner(m) => m.to_element(),
            SpaceItem::Other(_) => return None,
        })
    }

    /// The content of an items result.
    pub fn all_in(stanza: &Element) -> Vec<SpaceItem> {
        Item::all_in(stanza).iter().filter_map(SpaceItem::from_item).collect()
    }
}

/// The space a room or node says it belongs to (§6.5): the `parent` of its `urn:xmpp:spaces:0` form, else the
/// `muc#roomconfig_pubsub` of its `muc#roominfo` form (the compatibility field).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0030_disco::DiscoInfo;
/// use moxl_xep::xep_0503_spaces::SpaceParent;
/// // §6.5, Example 8 (with the XEP's doubled quote fixed)
/// let iq = Element::parse("<iq xmlns='jabber:client' type='result' from='programming-socks@conference.megacorp.example.com'>\
///     <query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:xmpp:spaces:0'/>\
///     <x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:spaces:0</value></field>\
///     <field var='parent' label='Space parent'><value>xmpp:megacorp-pubsub.example.com?;node=dev</value></field></x>\
///     </query></iq>")?;
/// let parent = SpaceParent::of(&DiscoInfo::from_stanza(&iq).unwrap()).unwrap();
/// assert_eq!((parent.service.as_str(), parent.node.as_str()), ("megacorp-pubsub.example.com", "dev"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpaceParent {
    /// The spaces service.
    pub service: String,
    /// The space's node.
    pub node: String,
}

impl SpaceParent {
    /// The parent an entity's disco#info names; `None` when it names none (or not as an `xmpp:` node URI).
    pub fn of(info: &DiscoInfo) -> Option<SpaceParent> {
        let parent = info.extension(NS).and_then(|f| f.value("parent"));
        let compat =
            || info.extension("http://jabber.org/protocol/muc#roominfo").and_then(|f| f.value("muc#roomconfig_pubsub"));
        SpaceParent::from_uri(parent.or_else(compat)?)
    }

    /// Reads an `xmpp:service?;node=name` URI (XEP-0060 §12.22; `%`-escapes are not decoded).
    ///
    /// ```
    /// let p = moxl_xep::xep_0503_spaces::SpaceParent::from_uri("xmpp:pubsub.example.com?;node=dev").unwrap();
    /// assert_eq!(p.uri(), "xmpp:pubsub.example.com?;node=dev");
    /// assert!(moxl_xep::xep_0503_spaces::SpaceParent::from_uri("https://example.com/").is_none());
    /// ```
    pub fn from_uri(uri: &str) -> Option<SpaceParent> {
        let (service, query) = uri.strip_prefix("xmpp:")?.split_once('?')?;
        let node = query.split(';').find_map(|p| p.strip_prefix("node="))?;
        let service = Jid::new(service).ok()?.to_string();
        (!node.is_empty()).then(|| SpaceParent { service, node: node.to_owned() })
    }

    /// The `xmpp:` URI.
    pub fn uri(&self) -> String {
        format!("xmpp:{}?;node={}", self.service, self.node)
    }
}

/// The spaces this session follows, by (service, node): their notifications become [`SpaceEvent`]s.
#[derive(Default)]
struct KnownSpaces(Mutex<HashSet<(String, String)>>);

fn remember(ctx: &Context, service: &str, node: &str) {
    let known = ctx.session_state::<KnownSpaces>();
    known.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert((service.to_owned(), node.to_owned()));
}

fn is_known(ctx: &Context, service: &str, node: &str) -> bool {
    let known = ctx.session_state::<KnownSpaces>();
    let known = known.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    known.contains(&(service.to_owned(), node.to_owned()))
}

/// Lists the spaces of a service (§6.1): its disco#items, optionally filtered to spaces with XEP-0462 (only on
/// services that support it: others may refuse or ignore the filter). Its `Output` is the [`SpaceRef`]s.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `space_listspaces_handle` | `Vec<SpaceRef>` |
/// | error | `space_listspaces_error<condition>` | the `StanzaError` |
///
/// ```
/// use moxl_xep::xep_0503_spaces::ListSpaces;
/// // §6.1, Example 1
/// let xml = ListSpaces::new("megacorp-pubsub.example.com").filtered().request_stanza().build()?.to_xml();
/// assert!(xml.contains("<filter xmlns='urn:xmpp:pubsub-filter:0'><x xmlns='jabber:x:data' type='submit'>"), "{xml}");
/// assert!(xml.contains("<field var='included-types'><value>urn:xmpp:spaces:0</value><value/></field>"), "{xml}");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListSpaces {
    service: String,
    filter: bool,
}

impl ListSpaces {
    /// The spaces (and, without a filter, other nodes) of `service`.
    pub fn new(service: impl Into<String>) -> ListSpaces {
        ListSpaces { service: service.into(), filter: false }
    }

    /// With XEP-0462's filter: spaces and untyped nodes only.
    pub fn filtered(mut self) -> ListSpaces {
        self.filter = true;
        self
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        let mut query = ElementBuilder::new("query", pubsub::NS_DISCO_ITEMS);
        if self.filter {
            let form = DataForm::submit(Some(NS_FILTER)).with_values("included-types", [NS, ""]);
            query.push(ElementBuilder::new("filter", NS_FILTER).append(form.to_element()));
        }
        iq_get(Some(&self.service)).append(query)
    }
}

#[action(group = "space")]
impl ListSpaces {
    /// The service's spaces (and other nodes, without a filter).
    type Output = Vec<SpaceRef>;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Vec<SpaceRef>> {
        Ok(DiscoItem::all_in(stanza)
            .into_iter()
            .filter_map(|i| Some(SpaceRef { service: i.jid, node: i.node?, name: i.name }))
            .collect())
    }
}

/// Creates a space (§3): a node of `service` with [`space_config`] and an optional title. Its `Output` is the
/// node's name.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `space_create_handle` | the node (`String`) |
/// | error | `space_create_error<condition>` | the `StanzaError` |
///
/// ```
/// use moxl_xep::xep_0503_spaces::{Create, Exposure};
/// let xml = Create::new("megacorp-pubsub.example.com", "dev", Exposure::Public).title("The developers corner")
///     .request_stanza().build()?.to_xml();
/// assert!(xml.contains("<create node='dev'/><configure>"), "{xml}");
/// assert!(xml.contains("<field var='pubsub#type'><value>urn:xmpp:spaces:0</value></field>"), "{xml}");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Create {
    service: String,
    node: String,
    config: DataForm,
}

impl Create {
    /// The space `node` on `service`.
    pub fn new(service: impl Into<String>, node: impl Into<String>, exposure: Exposure) -> Create {
        Create { service: service.into(), node: node.into(), config: space_config(exposure) }
    }

    /// With a title (`pubsub#title`).
    pub fn title(mut self, title: impl Into<String>) -> Create {
        self.config = self.config.with_value("pubsub#title", title);
        self
    }

    /// With a description (`pubsub#description`).
    pub fn description(mut self, description: impl Into<String>) -> Create {
        self.config = self.config.with_value("pubsub#description", description);
        self
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        pubsub::create_with_config(Some(&self.service), Some(&self.node), &self.config)
    }
}

#[action(group = "space")]
impl Create {
    /// The space's node.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) -> Result<String> {
        remember(ctx, &self.service, &self.node);
        Ok(self.node.clone())
    }
}

/// Joins a space (§6.3): subscribes `jid` (our bare or full JID) to its node, and from then on delivers its
/// changes as [`SpaceEvent`]s. Its `Output` is the pubsub [`Subscription`] (`pending` for a private space until
/// the owner approves).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `space_subscribe_handle` | the [`Subscription`] |
/// | error | `space_subscribe_error<condition>` | the `StanzaError` |
///
/// ```
/// use moxl_xep::xep_0503_spaces::Subscribe;
/// let xml = Subscribe::new("megacorp-pubsub.example.com", "dev", "emacs-user@megacorp.example.com").request_stanza().build()?.to_xml();
/// assert!(xml.contains("<subscribe node='dev' jid='emacs-user@megacorp.example.com'/>"), "{xml}");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscribe {
    service: String,
    node: String,
    jid: String,
}

impl Subscribe {
    /// `jid` joins the space `node` of `service`.
    pub fn new(service: impl Into<String>, node: impl Into<String>, jid: impl Into<String>) -> Subscribe {
        Subscribe { service: service.into(), node: node.into(), jid: jid.into() }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        pubsub::subscribe(Some(&self.service), &self.node, &self.jid)
    }
}

#[action(group = "space")]
impl Subscribe {
    /// Our subscription to the space.
    type Output = Subscription;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<Subscription> {
        remember(ctx, &self.service, &self.node);
        // XEP-0060 §6.1.2: the service may return an empty result; the subscription is then made.
        Ok(Subscription::from_result(stanza).unwrap_or_else(|| Subscription {
            node: Some(self.node.clone()),
            jid: Some(self.jid.clone()),
            state: Some(pubsub::SubscriptionState::Subscribed),
            subid: None,
            expiry: None,
            options_supported: false,
            options_required: false,
        }))
    }
}

/// Fetches a space's content (§6.4, §6.2.1): every item, as [`SpaceItem`]s (Moxl's name for it: rooms are
/// most of a space). The space's later changes are
/// then delivered as [`SpaceEvent`]s (once we are subscribed).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `space_getrooms_handle` | `Vec<SpaceItem>` |
/// | error | `space_getrooms_error<condition>` | the `StanzaError` |
///
/// ```
/// use moxl_xep::xep_0503_spaces::GetRooms;
/// // §6.4, Example 5
/// let xml = GetRooms::new("megacorp-pubsub.example.com", "dev").request_stanza().build()?.to_xml();
/// assert!(xml.contains("<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='dev'/></pubsub>"), "{xml}");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetRooms {
    service: String,
    node: String,
}

impl GetRooms {
    /// The content of the space `node` of `service`.
    pub fn new(service: impl Into<String>, node: impl Into<String>) -> GetRooms {
        GetRooms { service: service.into(), node: node.into() }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        pubsub::items(Some(&self.service), &self.node)
    }
}

#[action(group = "space")]
impl GetRooms {
    /// The space's items.
    type Output = Vec<SpaceItem>;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<Vec<SpaceItem>> {
        remember(ctx, &self.service, &self.node);
        Ok(SpaceItem::all_in(stanza))
    }
}

/// Adds an entity to a space, or replaces it (§6.4): publishes the item under [`SpaceItem::id`]. Its
/// `Output` is the item id. A [`SpaceItem::Other`] cannot be published (its payload is unknown): the request
/// then fails before anything is sent.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `space_addtospace_handle` | the item id (`String`) |
/// | error | `space_addtospace_error<condition>` | the `StanzaError` |
///
/// ```
/// use moxl_xep::xep_0402_bookmarks2::Bookmark;
/// use moxl_xep::xep_0503_spaces::{AddToSpace, SpaceItem};
/// let mut room = Bookmark::new("editors@conference.megacorp.example.com");
/// room.name = Some("Settling the text editor wars".into());
/// let xml = AddToSpace::new("megacorp-pubsub.example.com", "dev", SpaceItem::Room(room)).request_stanza().build()?.to_xml();
/// assert!(xml.contains("<publish node='dev'><item id='editors@conference.megacorp.example.com'>\
///     <conference xmlns='urn:xmpp:bookmarks:1' name='Settling the text editor wars'/></item></publish>"), "{xml}");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddToSpace {
    service: String,
    node: String,
    item: SpaceItem,
}

impl AddToSpace {
    /// Publishes `item` in the space `node` of `service`.
    pub fn new(service: impl Into<String>, node: impl Into<String>, item: SpaceItem) -> AddToSpace {
        AddToSpace { service: service.into(), node: node.into(), item }
    }

    /// The request this Action sends (an empty `<item/>` for a [`SpaceItem::Other`], which the service refuses).
    pub fn request_stanza(&self) -> ElementBuilder {
        let id = self.item.id();
        match self.item.to_payload() {
            Some(payload) => pubsub::publish(Some(&self.service), &self.node, Some(&id), payload),
            None => pubsub::publish(Some(&self.service), &self.node, Some(&id), ElementBuilder::new("unknown", NS)),
        }
    }
}

#[action(group = "space")]
impl AddToSpace {
    /// The item id.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<String> {
        Ok(self.item.id().into_owned())
    }
}

/// Removes an entity from a space (§6.4): retracts its item, notifying the members. Its `Output` is the item id.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `space_removefromspace_handle` | the item id (`String`) |
/// | error | `space_removefromspace_error<condition>` | the `StanzaError` |
///
/// ```
/// use moxl_xep::xep_0503_spaces::RemoveFromSpace;
/// let xml = RemoveFromSpace::new("megacorp-pubsub.example.com", "dev", "editors@conference.megacorp.example.com")
///     .request_stanza().build()?.to_xml();
/// assert!(xml.contains("<retract node='dev' notify='true'><item id='editors@conference.megacorp.example.com'/></retract>"), "{xml}");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoveFromSpace {
    service: String,
    node: String,
    id: String,
}

impl RemoveFromSpace {
    /// Retracts the item `id` of the space `node` of `service` ([`SpaceItem::id`]).
    pub fn new(service: impl Into<String>, node: impl Into<String>, id: impl Into<String>) -> RemoveFromSpace {
        RemoveFromSpace { service: service.into(), node: node.into(), id: id.into() }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        pubsub::retract(Some(&self.service), &self.node, &self.id, true)
    }
}

#[action(group = "space")]
impl RemoveFromSpace {
    /// The retracted item's id.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<String> {
        Ok(self.id.clone())
    }
}

/// Sets a member's subscription to a space, as its owner (XEP-0060 §8.8.2, manage-subscriptions): approves
/// someone into a private space (`subscribed`), or puts them out (`none`). Its `Output` is the member's JID.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `space_setsubscription_handle` | the member's JID (`String`) |
/// | error | `space_setsubscription_error<condition>` | the `StanzaError` |
///
/// ```
/// use moxl_xep::xep_0060_pubsub::SubscriptionState;
/// use moxl_xep::xep_0503_spaces::SetSubscription;
/// let s = SetSubscription::new("megacorp-pubsub.example.com", "dev", "emacs-user@megacorp.example.com", SubscriptionState::Subscribed);
/// assert!(s.request_stanza().build()?.to_xml().contains("<subscriptions node='dev'>\
///     <subscription jid='emacs-user@megacorp.example.com' subscription='subscribed'/></subscriptions>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetSubscription {
    service: String,
    node: String,
    jid: String,
    state: pubsub::SubscriptionState,
}

impl SetSubscription {
    /// Sets `jid`'s subscription to the space `node` of `service` to `state`.
    pub fn new(
        service: impl Into<String>,
        node: impl Into<String>,
        jid: impl Into<String>,
        state: pubsub::SubscriptionState,
    ) -> SetSubscription {
        SetSubscription { service: service.into(), node: node.into(), jid: jid.into(), state }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        pubsub::modify_subscriptions(Some(&self.service), &self.node, [(self.jid.as_str(), self.state)])
    }
}

#[action(group = "space")]
impl SetSubscription {
    /// The member's JID.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<String> {
        Ok(self.jid.clone())
    }
}

/// What changed in a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SpaceChange {
    /// An entity was added or changed.
    Added(SpaceItem),
    /// The entity under this item id was removed.
    Removed(String),
    /// Every entity was removed (the node was purged).
    Emptied,
    /// The space was deleted.
    Deleted,
    /// Its configuration changed (its title, its exposure…): read its metadata again.
    Reconfigured,
}

/// A change in a space this session joined, created or read (§6.3, §6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpaceEvent {
    /// The spaces service.
    pub service: String,
    /// The space's node.
    pub node: String,
    /// What changed.
    pub change: SpaceChange,
}

impl SpaceEvent {
    /// The changes a pubsub notification tells, for any node (the caller knows it is a space).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0060_pubsub::Event;
    /// use moxl_xep::xep_0503_spaces::{SpaceChange, SpaceEvent};
    /// let m = Element::parse("<message xmlns='jabber:client' from='megacorp-pubsub.example.com'>\
    ///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='dev'>\
    ///     <item id='editors@conference.megacorp.example.com'><conference xmlns='urn:xmpp:bookmarks:1' name='Editors'/></item>\
    ///     <retract id='boring-software@conference.megacorp.example.com'/></items></event></message>")?;
    /// let events = SpaceEvent::all_in(&Event::from_message(&m).unwrap());
    /// assert!(matches!(&events[0].change, SpaceChange::Added(item) if item.id() == "editors@conference.megacorp.example.com"));
    /// assert_eq!(events[1].change, SpaceChange::Removed("boring-software@conference.megacorp.example.com".into()));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(event: &Event) -> Vec<SpaceEvent> {
        let Some(service) = event.from.clone() else { return Vec::new() };
        let changes: Vec<SpaceChange> = match &event.kind {
            EventKind::Items { items, retracted } => items
                .iter()
                .filter_map(SpaceItem::from_item)
                .map(SpaceChange::Added)
                .chain(retracted.iter().cloned().map(SpaceChange::Removed))
                .collect(),
            EventKind::Purge => vec![SpaceChange::Emptied],
            EventKind::Delete { .. } => vec![SpaceChange::Deleted],
            EventKind::Configuration { .. } => vec![SpaceChange::Reconfigured],
            _ => Vec::new(),
        };
        changes
            .into_iter()
            .map(|change| SpaceEvent { service: service.clone(), node: event.node.clone(), change })
            .collect()
    }
}

/// Delivers the changes of the spaces this session joined, created or read ([`Subscribe`], [`Create`],
/// [`GetRooms`]) as [`SpaceEvent`]s (Packet key `spaceevent`), when someone listens.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// use moxl_xep::xep_0503_spaces::{SpaceChange, SpaceEvent};
/// let mut changes = xec.events::<SpaceEvent>();
/// while let Some(e) = changes.recv().await {
///     if let SpaceChange::Added(item) = &e.change {
///         println!("{} now holds {}", e.node, item.id());
///     }
/// }
/// # }
/// ```
#[payload(name = "event", ns = "http://jabber.org/protocol/pubsub#event", key = "spaceevent", at = "child")]
#[derive(Debug, Default)]
pub struct SpaceEvents;

impl Payload for SpaceEvents {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<SpaceEvent>()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        let Some(event) = Event::from_message(stanza) else { return Ok(()) };
        let Some(service) = event.from.as_deref() else { return Ok(()) };
        if is_known(ctx, service, &event.node) {
            for e in SpaceEvent::all_in(&event) {
                ctx.pack(e).deliver();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{answer_last, block_on};
    use moxl_core::xec::Xec;

    /// §6.4, Example 6, with the avatar item of §6.2.1, Example 5 (the XEP's stray `/` on the banner item
    /// dropped).
    const CONTENT: &str = "<iq xmlns='jabber:client' type='result' from='megacorp-pubsub.example.com' id='ID'>\
        <pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='dev'>\
        <item id='boring-software@conference.megacorp.example.com'><conference xmlns='urn:xmpp:bookmarks:1' name='ERP 3000' autojoin='true'/></item>\
        <item id='programming-socks@conference.megacorp.example.com'><conference xmlns='urn:xmpp:bookmarks:1' name='Share your best programming socks deal HERE'>\
        <extensions><pinned xmlns='urn:xmpp:bookmarks-pinning:0'/></extensions></conference></item>\
        <item id='editors@conference.megacorp.example.com'><conference xmlns='urn:xmpp:bookmarks:1' name='Settling the text editor wars'></conference></item>\
        <item id='https://megacorp.example.com/dev-team-presentation'><x xmlns='jabber:x:oob'><url>https://megacorp.example.com/dev-team-presentation</url></x></item>\
        <item id='some-hash'><subscription xmlns='urn:xmpp:pubsub:subscription:0' server='megacorp-pubsub.example.com' node='dev-announcements'/></item>\
        <item id='urn:xmpp:spaces:avatar:metadata:0'><metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='420' height='64' width='64' type='image/jpeg' \
        url='https://permanent-uploads.megacorp.example.com/dev/avatar.jpg' id='sha1-of-dev.jpg'/></metadata></item>\
        <item id='urn:xmpp:spaces:banner:metadata:0'><metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='4242' height='64' width='256' type='image/jpeg' \
        url='https://permanent-uploads.megacorp.example.com/dev/banner.jpg' id='sha1-of-banner.jpg'/></metadata></item>\
        <item id='a-poll'><poll xmlns='urn:example:polls'/></item>\
        </items></pubsub></iq>";

    #[test]
    fn the_content_of_the_xep_is_read_whole_and_a_known_space_reports_its_changes() {
        let xec = Xec::new().unwrap();
        let ctx = xec.context();
        let mut content = xec.subscribe("space_getrooms_handle");
        let mut changes = xec.events::<SpaceEvent>();
        ctx.request(GetRooms::new("megacorp-pubsub.example.com", "dev")).unwrap();
        block_on(xec.dispatch(answer_last(&xec, CONTENT)));
        let items = content.try_recv().unwrap();
        let items = items.content::<Vec<SpaceItem>>().unwrap();
        assert_eq!(items.len(), 8);
        let SpaceItem::Room(socks) = &items[1] else { panic!("{:?}", items[1]) };
        assert!(socks.extensions.as_deref().is_some_and(|e| e.contains("bookmarks-pinning")));
        assert!(matches!(&items[0], SpaceItem::Room(b) if b.autojoin && b.name.as_deref() == Some("ERP 3000")));
        assert_eq!(items[3], SpaceItem::Link("https://megacorp.example.com/dev-team-presentation".into()));
        assert!(matches!(&items[4], SpaceItem::Node(n) if n.node == "dev-announcements"));
        assert!(
            matches!(&items[5], SpaceItem::Avatar(m) if m.infos[0].url.as_deref().is_some_and(|u| u.ends_with("avatar.jpg")))
        );
        assert!(matches!(&items[6], SpaceItem::Banner(m) if m.infos[0].width == Some(256)));
        assert_eq!(items[7], SpaceItem::Other("a-poll".into()));
        // every known kind is written back as read
        for item in &items[..7] {
            let xml = AddToSpace::new("s", "dev", item.clone()).request_stanza().build().unwrap();
            let publish = xml.child("pubsub", pubsub::NS).and_then(|p| p.child("publish", pubsub::NS)).unwrap();
            let published = Item::from_element(&publish.child("item", pubsub::NS).unwrap()).unwrap();
            let back = SpaceItem::from_item(&published).unwrap();
            if !matches!(item, SpaceItem::Node(_)) {
                assert_eq!(&back, item);
            }
        }

        // the space was read: its notifications are space events; another node's are not
        let notification = "<message xmlns='jabber:client' from='megacorp-pubsub.example.com'>\
            <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='NODE'><retract id='a-poll'/></items></event></message>";
        block_on(xec.dispatch(Element::parse(&notification.replace("NODE", "dev")).unwrap()));
        let e = changes.try_recv().unwrap();
        assert_eq!((e.node.as_str(), &e.change), ("dev", &SpaceChange::Removed("a-poll".into())));
        block_on(xec.dispatch(Element::parse(&notification.replace("NODE", "sales")).unwrap()));
        assert!(changes.try_recv().is_none());
    }

    #[test]
    fn listing_reads_the_services_items() {
        let xec = Xec::new().unwrap();
        let mut listed = xec.subscribe("space_listspaces_handle");
        xec.context().request(ListSpaces::new("megacorp-pubsub.example.com")).unwrap();
        // §6.1, Example 2 (inside the disco#items <query/> the XEP's example leaves out)
        let answer = "<iq xmlns='jabber:client' type='result' from='megacorp-pubsub.example.com' id='ID'>\
            <query xmlns='http://jabber.org/protocol/disco#items'>\
            <item jid='megacorp-pubsub.example.com' node='dev' name='The developers corner'/>\
            <item jid='megacorp-pubsub.example.com' node='sales' name='Sales team'/>\
            <item jid='megacorp-pubsub.example.com' node='management' name='The bosses lounge'/></query></iq>";
        block_on(xec.dispatch(answer_last(&xec, answer)));
        let spaces = listed.try_recv().unwrap();
        let spaces = spaces.content::<Vec<SpaceRef>>().unwrap();
        assert_eq!(spaces.len(), 3);
        assert_eq!((spaces[1].node.as_str(), spaces[1].name.as_deref()), ("sales", Some("Sales team")));
    }
}
