//! Typed views of what a pubsub service sends: items, results, event notifications and errors.

use std::fmt::Write as _;

use moxl_core::stanza::StanzaError;
use moxl_core::xml::{Element, ns};
use serde::{Deserialize, Serialize};

use super::{NS, NS_DISCO_ITEMS, NS_ERRORS, NS_EVENT, NS_OWNER};
use crate::xep_0004_data_forms::DataForm;
use crate::xep_0059_rsm::SetResult;

fn attr(e: &Element, name: &str) -> Option<String> {
    e.attr(name).map(|v| v.into_owned())
}

/// The `<pubsub/>` (in `ns`) of an iq.
fn pubsub_of(stanza: &Element, ns: &str) -> Option<Element> {
    stanza.child("pubsub", ns)
}

/// One item (§7.1, §6.5): its id, the publisher when the service tells it (§7.1.2.3), and its payload (the
/// first child element; none in a notification without payload, §7.1.2.2).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::Item;
/// let item = Element::parse("<item xmlns='http://jabber.org/protocol/pubsub#event' id='ae890' publisher='hamlet@denmark.lit'>\
///     <entry xmlns='http://www.w3.org/2005/Atom'><title>Soliloquy</title></entry></item>")?;
/// let item = Item::from_element(&item).unwrap();
/// assert_eq!(item.id.as_deref(), Some("ae890"));
/// assert_eq!(item.publisher.as_deref(), Some("hamlet@denmark.lit"));
/// assert!(item.payload.unwrap().is("entry", "http://www.w3.org/2005/Atom"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Item {
    /// The item id (`None` only from services that leave it out).
    pub id: Option<String>,
    /// Who published it, when the service says (`publisher` attribute).
    pub publisher: Option<String>,
    /// The payload: the item's first child element.
    pub payload: Option<Element>,
}

impl Item {
    /// Reads an `<item/>` of the pubsub or pubsub#event namespace.
    pub fn from_element(item: &Element) -> Option<Item> {
        if item.name() != "item" || !(item.ns() == NS || item.ns() == NS_EVENT) {
            return None;
        }
        Some(Item { id: attr(item, "id"), publisher: attr(item, "publisher"), payload: item.first_child() })
    }

    /// The items of an items result (`<iq><pubsub><items><item/>…`, §6.5.2) or of a publish result.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0060_pubsub::Item;
    /// // §6.5.2, Example 79 (abridged)
    /// let result = Element::parse("<iq xmlns='jabber:client' type='result' from='pubsub.shakespeare.lit' id='items1'>\
    ///     <pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='princely_musings'>\
    ///     <item id='368866411b877c30064a5f62b917cffe'><entry xmlns='http://www.w3.org/2005/Atom'><title>The Uses of This World</title></entry></item>\
    ///     <item id='3300659945416e274474e469a1f0154c'><entry xmlns='http://www.w3.org/2005/Atom'><title>Ghostly Encounters</title></entry></item>\
    ///     </items></pubsub></iq>")?;
    /// let items = Item::all_in(&result);
    /// assert_eq!(items.len(), 2);
    /// assert_eq!(items[1].id.as_deref(), Some("3300659945416e274474e469a1f0154c"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(stanza: &Element) -> Vec<Item> {
        pubsub_of(stanza, NS)
            .into_iter()
            .flat_map(|p| p.children())
            .filter(|c| c.is("items", NS))
            .flat_map(|items| items.children())
            .filter_map(|i| Item::from_element(&i))
            .collect()
    }
}

/// One page of items (§6.5.4 with XEP-0059): the node, its items, and the result set (`first`, `last`,
/// `count`) to ask for the next page with `SetQuery::after(last)` (or `before(first)` going back).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::Page;
/// // §6.5.4, Example 83 (abridged)
/// let result = Element::parse("<iq xmlns='jabber:client' type='result' from='pubsub.shakespeare.lit' id='items1'>\
///     <pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='princely_musings'>\
///     <item id='368866411b877c30064a5f62b917cffe'/><item id='3300659945416e274474e469a1f0154c'/></items>\
///     <set xmlns='http://jabber.org/protocol/rsm'><first index='0'>368866411b877c30064a5f62b917cffe</first>\
///     <last>4e30f35051b7b8b42abe083742187228</last><count>19</count></set></pubsub></iq>")?;
/// let page = Page::from_result(&result).unwrap();
/// assert_eq!((page.node.as_str(), page.items.len()), ("princely_musings", 2));
/// let set = page.set.unwrap();
/// assert_eq!((set.last.as_deref(), set.count), (Some("4e30f35051b7b8b42abe083742187228"), Some(19)));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Page {
    /// The node.
    pub node: String,
    /// The items of this page.
    pub items: Vec<Item>,
    /// The result set, when the service pages (XEP-0059).
    pub set: Option<SetResult>,
}

impl Page {
    /// Reads an items result. `None` when the stanza holds no `<pubsub><items/>`.
    pub fn from_result(stanza: &Element) -> Option<Page> {
        let pubsub = pubsub_of(stanza, NS)?;
        let items = pubsub.child("items", NS)?;
        Some(Page {
            node: attr(&items, "node").unwrap_or_default(),
            items: items.children().filter_map(|i| Item::from_element(&i)).collect(),
            set: SetResult::find_in(&pubsub),
        })
    }
}

/// The outcome of a publish (§7.1.2): the node and the id of the item, as the service assigned it (or as we
/// asked, when the result does not say).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::Published;
/// // §7.1.2, Example 101
/// let result = Element::parse("<iq xmlns='jabber:client' type='result' from='pubsub.shakespeare.lit' to='hamlet@denmark.lit/blogbot' id='publish1'>\
///     <pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='princely_musings'><item id='ae890ac52d0df67ed7cfdf51b644e901'/></publish></pubsub></iq>")?;
/// let p = Published::from_result(&result).unwrap();
/// assert_eq!((p.node.as_str(), p.id.as_deref()), ("princely_musings", Some("ae890ac52d0df67ed7cfdf51b644e901")));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Published {
    /// The node published to.
    pub node: String,
    /// The item id.
    pub id: Option<String>,
}

impl Published {
    /// Reads a publish result (`None` if it holds no `<publish/>`: an empty result, which §7.1.2 allows).
    pub fn from_result(stanza: &Element) -> Option<Published> {
        let publish = pubsub_of(stanza, NS)?.child("publish", NS)?;
        Some(Published {
            node: attr(&publish, "node").unwrap_or_default(),
            id: publish.child("item", NS).and_then(|i| attr(&i, "id")),
        })
    }

    /// `node`, without an item id (the result of a request about the node, not an item).
    ///
    /// ```
    /// let p = moxl_xep::xep_0060_pubsub::Published::of_node("n");
    /// assert_eq!((p.node.as_str(), p.id), ("n", None));
    /// ```
    pub fn of_node(node: &str) -> Published {
        Published { node: node.to_owned(), id: None }
    }
}

/// The state of a subscription (§4.2).
///
/// ```
/// use moxl_xep::xep_0060_pubsub::SubscriptionState;
/// assert_eq!(SubscriptionState::from_name("unconfigured"), Some(SubscriptionState::Unconfigured));
/// assert_eq!(SubscriptionState::Subscribed.as_str(), "subscribed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SubscriptionState {
    /// No subscription (also: remove it, §8.8.2).
    None,
    /// Awaiting approval (§6.1.3).
    Pending,
    /// Subscribed.
    Subscribed,
    /// Subscribed, but the options must be configured first (§6.1.4).
    Unconfigured,
}

impl SubscriptionState {
    /// The state named in a `subscription` attribute.
    pub fn from_name(name: &str) -> Option<SubscriptionState> {
        Some(match name {
            "none" => SubscriptionState::None,
            "pending" => SubscriptionState::Pending,
            "subscribed" => SubscriptionState::Subscribed,
            "unconfigured" => SubscriptionState::Unconfigured,
            _ => return None,
        })
    }

    /// Its name in the protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::None => "none",
            SubscriptionState::Pending => "pending",
            SubscriptionState::Subscribed => "subscribed",
            SubscriptionState::Unconfigured => "unconfigured",
        }
    }
}

/// A subscription: the result of a subscribe (§6.1.2), an entry of our subscriptions (§5.6) or of a node's
/// (§8.8.1, where the node is the list's), or a subscription-state notification (§8.8.4).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::{Subscription, SubscriptionState};
/// // §6.1.2, Example 33
/// let result = Element::parse("<iq xmlns='jabber:client' type='result' from='pubsub.shakespeare.lit' to='francisco@denmark.lit/barracks' id='sub1'>\
///     <pubsub xmlns='http://jabber.org/protocol/pubsub'><subscription node='princely_musings' jid='francisco@denmark.lit' \
///     subid='ba49252aaa4f5d320c24d3766f0bdcade78c78d3' subscription='subscribed'/></pubsub></iq>")?;
/// let s = Subscription::from_result(&result).unwrap();
/// assert_eq!(s.state, Some(SubscriptionState::Subscribed));
/// assert_eq!(s.subid.as_deref(), Some("ba49252aaa4f5d320c24d3766f0bdcade78c78d3"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Subscription {
    /// The node.
    pub node: Option<String>,
    /// The subscribed JID.
    pub jid: Option<String>,
    /// The state (`None` when the attribute is missing or unknown).
    pub state: Option<SubscriptionState>,
    /// The subscription id, when the service uses them.
    pub subid: Option<String>,
    /// When a temporary subscription ends (`expiry`, XEP-0082 date-time).
    pub expiry: Option<String>,
    /// The service supports subscription options (`<subscribe-options/>`, §6.1.2).
    pub options_supported: bool,
    /// The options must be configured before notifications come (`<subscribe-options><required/>`, §6.1.4).
    pub options_required: bool,
}

impl Subscription {
    /// Reads a `<subscription/>` of the pubsub, owner or event namespace; `node` is used when the element has
    /// none (owner lists give it on the parent).
    pub fn from_element(s: &Element, node: Option<&str>) -> Option<Subscription> {
        if s.name() != "subscription" || ![NS, NS_OWNER, NS_EVENT].contains(&s.ns()) {
            return None;
        }
        let options = s.child("subscribe-options", s.ns());
        Some(Subscription {
            node: attr(s, "node").or_else(|| node.map(str::to_owned)),
            jid: attr(s, "jid"),
            state: s.attr("subscription").and_then(|v| SubscriptionState::from_name(&v)),
            subid: attr(s, "subid"),
            expiry: attr(s, "expiry"),
            options_supported: options.is_some(),
            options_required: options.is_some_and(|o| o.child("required", s.ns()).is_some()),
        })
    }

    /// The subscription of a subscribe result (§6.1.2).
    pub fn from_result(stanza: &Element) -> Option<Subscription> {
        Self::from_element(&pubsub_of(stanza, NS)?.child("subscription", NS)?, None)
    }

    /// The subscriptions of a subscriptions result, ours (§5.6) or a node's as its owner (§8.8.1).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0060_pubsub::Subscription;
    /// // §8.8.1, Example 184 (abridged)
    /// let result = Element::parse("<iq xmlns='jabber:client' type='result' from='pubsub.shakespeare.lit' id='subman1'>\
    ///     <pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><subscriptions node='princely_musings'>\
    ///     <subscription jid='hamlet@denmark.lit' subscription='subscribed'/>\
    ///     <subscription jid='bernardo@denmark.lit' subscription='subscribed' subid='123-abc'/></subscriptions></pubsub></iq>")?;
    /// let all = Subscription::all_in(&result);
    /// assert_eq!(all.len(), 2);
    /// assert_eq!(all[1].node.as_deref(), Some("princely_musings"));
    /// assert_eq!(all[1].subid.as_deref(), Some("123-abc"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(stanza: &Element) -> Vec<Subscription> {
        [NS, NS_OWNER]
            .into_iter()
            .filter_map(|ns| pubsub_of(stanza, ns)?.child("subscriptions", ns))
            .flat_map(|list| {
                let node = attr(&list, "node");
                list.children().filter_map(move |s| Subscription::from_element(&s, node.as_deref())).collect::<Vec<_>>()
            })
            .collect()
    }
}

/// An affiliation with a node (§4.1).
///
/// ```
/// use moxl_xep::xep_0060_pubsub::AffiliationKind;
/// assert_eq!(AffiliationKind::from_name("publish-only"), Some(AffiliationKind::PublishOnly));
/// assert_eq!(AffiliationKind::Outcast.as_str(), "outcast");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AffiliationKind {
    /// Owner: manages the node.
    Owner,
    /// Publisher: publishes and retracts items.
    Publisher,
    /// Publish-only: publishes, and retracts its own items.
    PublishOnly,
    /// Member: subscribes and retrieves items.
    Member,
    /// No affiliation (also: remove it, §8.9.2).
    None,
    /// Outcast: banned.
    Outcast,
}

impl AffiliationKind {
    /// The affiliation named in an `affiliation` attribute.
    pub fn from_name(name: &str) -> Option<AffiliationKind> {
        Some(match name {
            "owner" => AffiliationKind::Owner,
            "publisher" => AffiliationKind::Publisher,
            "publish-only" => AffiliationKind::PublishOnly,
            "member" => AffiliationKind::Member,
            "none" => AffiliationKind::None,
            "outcast" => AffiliationKind::Outcast,
            _ => return None,
        })
    }

    /// Its name in the protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            AffiliationKind::Owner => "owner",
            AffiliationKind::Publisher => "publisher",
            AffiliationKind::PublishOnly => "publish-only",
            AffiliationKind::Member => "member",
            AffiliationKind::None => "none",
            AffiliationKind::Outcast => "outcast",
        }
    }
}

/// An entry of an affiliations result: ours, by node (§5.7), or a node's, by JID (§8.9.1).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::{Affiliation, AffiliationKind};
/// // §5.7, Example 25 (abridged)
/// let result = Element::parse("<iq xmlns='jabber:client' type='result' from='pubsub.shakespeare.lit' id='affil1'>\
///     <pubsub xmlns='http://jabber.org/protocol/pubsub'><affiliations>\
///     <affiliation node='node1' affiliation='owner'/><affiliation node='node5' affiliation='outcast'/></affiliations></pubsub></iq>")?;
/// let all = Affiliation::all_in(&result);
/// assert_eq!(all[1].node.as_deref(), Some("node5"));
/// assert_eq!(all[1].affiliation, AffiliationKind::Outcast);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Affiliation {
    /// The node (the list's, for an owner's list).
    pub node: Option<String>,
    /// The affiliated JID (owner lists).
    pub jid: Option<String>,
    /// The affiliation.
    pub affiliation: AffiliationKind,
}

impl Affiliation {
    /// The affiliations of an affiliations result (§5.7, §8.9.1). Entries with an unknown affiliation are
    /// skipped.
    pub fn all_in(stanza: &Element) -> Vec<Affiliation> {
        [NS, NS_OWNER]
            .into_iter()
            .filter_map(|ns| pubsub_of(stanza, ns)?.child("affiliations", ns))
            .flat_map(|list| {
                let node = attr(&list, "node");
                list.children()
                    .filter(|a| a.name() == "affiliation")
                    .filter_map(move |a| {
                        Some(Affiliation {
                            node: attr(&a, "node").or_else(|| node.clone()),
                            jid: attr(&a, "jid"),
                            affiliation: AffiliationKind::from_name(&a.attr("affiliation")?)?,
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// The configuration form of a node configuration result (§8.2.1) or of the default configuration (§8.3), or
/// the subscription options form of an options result (§6.3.2): the data form inside `<configure/>`,
/// `<default/>` or `<options/>`.
///
/// ```
/// use moxl_core::xml::Element;
/// // §8.2.1, Example 157 (abridged)
/// let result = Element::parse("<iq xmlns='jabber:client' type='result' from='pubsub.shakespeare.lit' id='config1'>\
///     <pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='princely_musings'>\
///     <x xmlns='jabber:x:data' type='form'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>\
///     <field var='pubsub#max_items' type='text-single'><value>10</value></field></x></configure></pubsub></iq>")?;
/// let form = moxl_xep::xep_0060_pubsub::config_form(&result).unwrap();
/// assert_eq!(form.value("pubsub#max_items"), Some("10"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn config_form(stanza: &Element) -> Option<DataForm> {
    [NS_OWNER, NS].into_iter().filter_map(|ns| pubsub_of(stanza, ns)).find_map(|p| {
        p.children()
            .filter(|c| matches!(c.name(), "configure" | "default" | "options"))
            .find_map(|c| DataForm::find_in(&c))
    })
}

/// An item of a disco#items result (XEP-0030): a node of a service (§5.2) or an item of a node (§5.5, where
/// `name` is the item id).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::DiscoItem;
/// // §5.2, Example 10
/// let result = Element::parse("<iq xmlns='jabber:client' type='result' from='pubsub.shakespeare.lit' id='nodes1'>\
///     <query xmlns='http://jabber.org/protocol/disco#items'>\
///     <item jid='pubsub.shakespeare.lit' node='blogs' name='Weblog updates'/>\
///     <item jid='pubsub.shakespeare.lit' node='news' name='News and announcements'/></query></iq>")?;
/// let nodes = DiscoItem::all_in(&result);
/// assert_eq!(nodes[1].node.as_deref(), Some("news"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DiscoItem {
    /// The entity.
    pub jid: String,
    /// The node.
    pub node: Option<String>,
    /// The name (for items of a node: the item id).
    pub name: Option<String>,
}

impl DiscoItem {
    /// The items of a disco#items result.
    pub fn all_in(stanza: &Element) -> Vec<DiscoItem> {
        stanza
            .child("query", NS_DISCO_ITEMS)
            .into_iter()
            .flat_map(|q| q.children())
            .filter(|i| i.is("item", NS_DISCO_ITEMS))
            .filter_map(|i| Some(DiscoItem { jid: attr(&i, "jid")?, node: attr(&i, "node"), name: attr(&i, "name") }))
            .collect()
    }
}

/// What an event notification tells (§7.1.2, §7.2.2, §8.2.4, §8.4.2, §8.5.2, §8.8.4).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EventKind {
    /// Items published (with or without payload), and item ids retracted (§7.1.2, §7.2.2).
    Items {
        /// The published items.
        items: Vec<Item>,
        /// The ids of retracted items.
        retracted: Vec<String>,
    },
    /// Every item of the node was deleted (§8.5.2).
    Purge,
    /// The node was deleted (§8.4.2), maybe with a redirect URI to another node.
    Delete {
        /// `xmpp:` URI of the node that replaces it.
        redirect: Option<String>,
    },
    /// The node's configuration changed (§8.2.4); the form is there when the node delivers payloads.
    Configuration {
        /// The new configuration.
        form: Option<DataForm>,
    },
    /// Our subscription's state changed (§8.8.4, §6.1.3 approval).
    Subscription(Subscription),
}

/// An event notification (`<message><event xmlns='…#event'>…`): who sent it, the node, and what happened.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::{Event, EventKind};
/// // §7.2.2.1, Example 117: a retraction
/// let m = Element::parse("<message xmlns='jabber:client' from='pubsub.shakespeare.lit' to='francisco@denmark.lit' id='foo'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='princely_musings'>\
///     <retract id='ae890ac52d0df67ed7cfdf51b644e901'/></items></event></message>")?;
/// let e = Event::from_message(&m).unwrap();
/// assert_eq!(e.from.as_deref(), Some("pubsub.shakespeare.lit"));
/// let EventKind::Items { items, retracted } = e.kind else { panic!() };
/// assert!(items.is_empty());
/// assert_eq!(retracted, ["ae890ac52d0df67ed7cfdf51b644e901"]);
/// // §8.5.2, Example 178: a purge
/// let m = Element::parse("<message xmlns='jabber:client' from='pubsub.shakespeare.lit' to='francisco@denmark.lit' id='foo'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><purge node='princely_musings'/></event></message>")?;
/// assert!(matches!(Event::from_message(&m).unwrap().kind, EventKind::Purge));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Event {
    /// The sender: the pubsub service, or the account of a PEP node (XEP-0163).
    pub from: Option<String>,
    /// The node.
    pub node: String,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// Whether this notification is about a PEP node of our own `account` (our bare JID): PEP notifications come
    /// from the node owner's bare JID (XEP-0163 §4.3.1), and our own server may leave `from` out. Without a known
    /// account, only a notification without `from` counts.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0060_pubsub::Event;
    /// let m = Element::parse("<message xmlns='jabber:client' from='juliet@capulet.lit'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
    ///     <items node='n'><item id='1'/></items></event></message>")?;
    /// let e = Event::from_message(&m).unwrap();
    /// assert!(e.is_from_own_account(Some("juliet@capulet.lit")));
    /// assert!(!e.is_from_own_account(Some("romeo@montague.lit")));
    /// assert!(!e.is_from_own_account(None));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn is_from_own_account(&self, account: Option<&str>) -> bool {
        match (self.from.as_deref(), account) {
            (None, _) => true,
            (Some(from), Some(account)) => from == account,
            (Some(_), None) => false,
        }
    }

    /// Reads the event of a message. `None` for other stanzas, error messages, and events without a node or of
    /// a kind not listed in [`EventKind`] (collection associations).
    pub fn from_message(stanza: &Element) -> Option<Event> {
        if !stanza.is("message", ns::CLIENT) || stanza.attr("type").as_deref() == Some("error") {
            return None;
        }
        let event = stanza.child("event", NS_EVENT)?;
        let from = attr(stanza, "from");
        event.children().find_map(|c| {
            let node = attr(&c, "node")?;
            let kind = match c.name() {
                "items" => EventKind::Items {
                    items: c.children().filter_map(|i| Item::from_element(&i)).collect(),
                    retracted: c
                        .children()
                        .filter(|r| r.is("retract", NS_EVENT))
                        .filter_map(|r| attr(&r, "id"))
                        .collect(),
                },
                "purge" => EventKind::Purge,
                "delete" => EventKind::Delete { redirect: c.child("redirect", NS_EVENT).and_then(|r| attr(&r, "uri")) },
                "configuration" => EventKind::Configuration { form: DataForm::find_in(&c) },
                "subscription" => EventKind::Subscription(Subscription::from_element(&c, None)?),
                _ => return None,
            };
            Some(Event { from: from.clone(), node, kind })
        })
    }
}

/// A pubsub application-specific error condition (§7.1.3, §6.1.3, §12 and the `pubsub#errors` schema):
/// `precondition-not-met`, `not-subscribed`, `unsupported` with the `feature`, `invalid-jid`, `item-forbidden`,
/// `payload-too-big`, …
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_core::stanza::StanzaError;
/// use moxl_xep::xep_0060_pubsub::PubsubError;
/// // §7.1.5, Example 128: the node's configuration does not match the publish-options
/// let reply = Element::parse("<iq xmlns='jabber:client' type='error' from='pubsub.shakespeare.lit' id='pub1'>\
///     <error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
///     <precondition-not-met xmlns='http://jabber.org/protocol/pubsub#errors'/></error></iq>")?;
/// let error = StanzaError::from_stanza(&reply).unwrap();
/// assert!(PubsubError::from_error(&error).unwrap().is_precondition_not_met());
/// // §7.1.3.1: publishing is not supported
/// let reply = Element::parse("<iq xmlns='jabber:client' type='error' id='pub1'><error type='cancel'>\
///     <feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
///     <unsupported xmlns='http://jabber.org/protocol/pubsub#errors' feature='publish'/></error></iq>")?;
/// let e = PubsubError::from_error(&StanzaError::from_stanza(&reply).unwrap()).unwrap();
/// assert_eq!((e.condition.as_str(), e.feature.as_deref()), ("unsupported", Some("publish")));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PubsubError {
    /// The element name in `pubsub#errors` (`precondition-not-met`).
    pub condition: String,
    /// The `feature` of an `unsupported` condition.
    pub feature: Option<String>,
}

impl PubsubError {
    /// The pubsub condition of a stanza error (its application-specific condition, if in
    /// [`NS_ERRORS`]).
    pub fn from_error(error: &StanzaError) -> Option<PubsubError> {
        let app = Element::parse(error.app_condition()?).ok()?;
        if app.ns() != NS_ERRORS {
            return None;
        }
        Some(PubsubError { condition: app.name().to_owned(), feature: attr(&app, "feature") })
    }

    /// `precondition-not-met` (§7.1.5): the node exists with a configuration other than the publish-options.
    pub fn is_precondition_not_met(&self) -> bool {
        self.condition == "precondition-not-met"
    }
}

/// Whether a stanza error carries the pubsub condition `precondition-not-met` (§7.1.5).
///
/// ```
/// use moxl_core::stanza::{Condition, StanzaError};
/// assert!(!moxl_xep::xep_0060_pubsub::is_precondition_not_met(&StanzaError::new(Condition::Conflict)));
/// ```
pub fn is_precondition_not_met(error: &StanzaError) -> bool {
    PubsubError::from_error(error).is_some_and(|e| e.is_precondition_not_met())
}

/// Whether an error answering a publish with publish-options (§7.1.5) refuses the form rather than the publish:
/// options the service does not accept (`not-acceptable`, `bad-request`, `feature-not-implemented`,
/// `resource-constraint`). ejabberd 23.01, for one, answers an option field it does not know (`pubsub#type`,
/// `pubsub#max_items`) with `resource-constraint` ("Unknown field … of type '…#publish-options'"). A mismatch
/// with an existing node's configuration is [`is_precondition_not_met`] instead.
///
/// ```
/// use moxl_core::stanza::{Condition, StanzaError};
/// use moxl_xep::xep_0060_pubsub::is_options_refused;
/// assert!(is_options_refused(&StanzaError::new(Condition::ResourceConstraint)));
/// assert!(!is_options_refused(&StanzaError::new(Condition::Forbidden)));
/// ```
pub fn is_options_refused(error: &StanzaError) -> bool {
    matches!(
        error.condition_name(),
        "not-acceptable" | "bad-request" | "feature-not-implemented" | "resource-constraint"
    )
}

/// An XMPP URI of a pubsub node or item (RFC 5122 with the `;node=…;item=…` keys of the XMPP URI query
/// components registry, used by XEP-0060 §8.4.1 redirects and by XEP-0277 comment links):
/// `xmpp:pubsub.shakespeare.lit?;node=princely_musings;item=ae890`.
///
/// ```
/// use moxl_xep::xep_0060_pubsub::NodeUri;
/// let uri = NodeUri::parse("xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0%3Acomments%2F1cb57d9c;item=a1").unwrap();
/// assert_eq!(uri.jid, "romeo@montague.lit");
/// assert_eq!(uri.node.as_deref(), Some("urn:xmpp:microblog:0:comments/1cb57d9c"));
/// assert_eq!(uri.item.as_deref(), Some("a1"));
/// assert_eq!(NodeUri::parse(&uri.to_uri()), Some(uri));
/// assert_eq!(NodeUri::parse("https://montague.lit/"), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NodeUri {
    /// The pubsub service (or PEP account).
    pub jid: String,
    /// The node.
    pub node: Option<String>,
    /// The item.
    pub item: Option<String>,
}

impl NodeUri {
    /// A URI of `node` at `jid`.
    ///
    /// ```
    /// let uri = moxl_xep::xep_0060_pubsub::NodeUri::new("pubsub.shakespeare.lit", "a b");
    /// assert_eq!(uri.to_uri(), "xmpp:pubsub.shakespeare.lit?;node=a%20b");
    /// ```
    pub fn new(jid: &str, node: &str) -> NodeUri {
        NodeUri { jid: jid.to_owned(), node: Some(node.to_owned()), item: None }
    }

    /// Reads an `xmpp:` URI (percent-encoded values decoded; whitespace, which some examples wrap in, ignored).
    /// `None` for another scheme or an empty JID.
    pub fn parse(uri: &str) -> Option<NodeUri> {
        let uri: String = uri.chars().filter(|c| !c.is_whitespace()).collect();
        let rest = uri.strip_prefix("xmpp:")?.trim_start_matches("//");
        let (jid, query) = rest.split_once('?').unwrap_or((rest, ""));
        let jid = percent_decode(jid)?;
        if jid.is_empty() {
            return None;
        }
        let mut out = NodeUri { jid, node: None, item: None };
        for pair in query.split(';') {
            match pair.split_once('=') {
                Some(("node", v)) => out.node = Some(percent_decode(v)?),
                Some(("item", v)) => out.item = Some(percent_decode(v)?),
                _ => {}
            }
        }
        Some(out)
    }

    /// Writes the URI, percent-encoding what RFC 5122 does not allow as is.
    pub fn to_uri(&self) -> String {
        let mut s = format!("xmpp:{}?", percent_encode(&self.jid, "@"));
        if let Some(node) = &self.node {
            s.push_str(";node=");
            s.push_str(&percent_encode(node, ""));
        }
        if let Some(item) = &self.item {
            s.push_str(";item=");
            s.push_str(&percent_encode(item, ""));
        }
        s
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn percent_encode(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.as_bytes().contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
