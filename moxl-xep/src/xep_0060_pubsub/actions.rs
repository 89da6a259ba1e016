//! Actions for the requests of XEP-0060 (group `pubsub`). Each has a typed `Output`: awaiting
//! `ctx.request(action)?` gives it, and the same value is delivered as the Packet `pubsub_<type>_handle` (the
//! second view). An error reply makes the request resolve to `Err(Error::Stanza(..))` and is delivered under
//! `pubsub_<type>_error<condition>` with the [`StanzaError`](moxl_core::stanza::StanzaError) as content (read
//! its pubsub condition with [`PubsubError::from_error`](super::PubsubError::from_error)); a timeout resolves to
//! `Err(Error::Timeout(..))` and is delivered under `pubsub_<type>_timeout`.
//!
//! | Action | request | `Output` (and `…_handle` content) |
//! |---|---|---|
//! | [`Publish`] | §7.1.1 (§7.1.5 with options) | [`Published`] |
//! | [`Items`] | §6.5.2, §6.5.7, §6.5.8 | `Vec<`[`Item`]`>` |
//! | [`ItemsPage`] | §6.5.4 with XEP-0059 | [`Page`] |
//! | [`Retract`] | §7.2.1 | the item id (`String`) |
//! | [`Subscribe`] | §6.1.1, §6.3.7 | [`Subscription`] |
//! | [`Unsubscribe`] | §6.2.1 | the node (`String`) |
//! | [`Subscriptions`] | §5.6 | `Vec<`[`Subscription`]`>` |
//! | [`Affiliations`] | §5.7 | `Vec<`[`Affiliation`]`>` |
//! | [`SubscriptionOptions`] | §6.3.2 | [`DataForm`] |
//! | [`Create`] | §8.1.1–§8.1.3 | the node (`String`; the service's name for an instant node) |
//! | [`GetConfig`] | §8.2.1 | [`DataForm`] |
//! | [`Configure`] | §8.2.5 | the node (`String`) |
//! | [`Delete`] | §8.4.1 | the node (`String`) |
//! | [`Purge`] | §8.5.1 | the node (`String`) |
//! | [`NodeSubscriptions`] | §8.8.1 | `Vec<`[`Subscription`]`>` |
//! | [`NodeAffiliations`] | §8.9.1 | `Vec<`[`Affiliation`]`>` |
//! | [`ModifyAffiliations`] | §8.9.2 | the node (`String`) |
//! | [`DiscoNodes`] | §5.2, §5.5 (disco#items) | `Vec<`[`DiscoItem`]`>` |

use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder, ElementOrBuilder};
use moxl_core::{Result, action};
use serde::{Deserialize, Serialize};

use super::{Affiliation, AffiliationKind, DiscoItem, Item, Page, Published, Subscription, stanza};
use crate::xep_0004_data_forms::DataForm;
use crate::xep_0059_rsm::SetQuery;

/// Publishes an item (§7.1.1), with publish-options if given (§7.1.5). Outputs [`Published`]
/// (`pubsub_publish_handle`); a node whose configuration does not match the options gives
/// `pubsub_publish_errorconflict` with the `precondition-not-met` pubsub condition.
///
/// The payload is kept as XML text in the Action's state (so that a stored Action can be sent again).
///
/// ```
/// use moxl_core::xml::ElementBuilder;
/// use moxl_xep::xep_0060_pubsub::{publish_options, Publish};
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let tune = ElementBuilder::new("tune", "http://jabber.org/protocol/tune").text_child("title", "Yesterday");
/// let publish = Publish::new(None, "http://jabber.org/protocol/tune", None, tune)?
///     .with_options(publish_options().with_value("pubsub#access_model", "presence"));
/// let published = xec.context().request(publish)?.await?; // also the Packet `pubsub_publish_handle`
/// println!("published as {:?}", published.id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Publish {
    to: Option<String>,
    node: String,
    id: Option<String>,
    payload: String,
    options: Option<DataForm>,
}

impl Publish {
    /// A publish of `payload` to `node` at `to` (`None`: our PEP service), with item id `id` (`None`: the
    /// service's choice). Fails only if the payload is a builder with an invalid name.
    ///
    /// ```
    /// use moxl_core::xml::ElementBuilder;
    /// let p = moxl_xep::xep_0060_pubsub::Publish::new(Some("pubsub.example.org"), "news", Some("1"), ElementBuilder::new("x", "urn:x"))?;
    /// assert_eq!(p.node(), "news");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(
        to: Option<&str>,
        node: &str,
        id: Option<&str>,
        payload: impl Into<ElementOrBuilder>,
    ) -> moxl_core::Result<Publish> {
        Ok(Publish {
            to: to.map(str::to_owned),
            node: node.to_owned(),
            id: id.map(str::to_owned),
            payload: payload.into().into_element()?.to_xml(),
            options: None,
        })
    }

    /// Adds publish-options (§7.1.5; see [`publish_options`](super::publish_options)).
    ///
    /// ```
    /// use moxl_core::xml::ElementBuilder;
    /// use moxl_xep::xep_0060_pubsub::{publish_options, Publish};
    /// let p = Publish::new(None, "n", None, ElementBuilder::new("x", "urn:x"))?.with_options(publish_options());
    /// assert!(p.request_stanza().build()?.to_xml().contains("<publish-options>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn with_options(mut self, options: DataForm) -> Publish {
        self.options = Some(options);
        self
    }

    /// The same publish without publish-options.
    ///
    /// ```
    /// use moxl_core::xml::ElementBuilder;
    /// use moxl_xep::xep_0060_pubsub::{publish_options, Publish};
    /// let p = Publish::new(None, "n", None, ElementBuilder::new("x", "urn:x"))?.with_options(publish_options());
    /// assert!(!p.without_options().request_stanza().build()?.to_xml().contains("publish-options"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn without_options(mut self) -> Publish {
        self.options = None;
        self
    }

    /// The node.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// What the result of this publish says: the node and item id, the id we chose when the service names
    /// none (XEP-0060 §7.1.2: the result may be empty).
    pub(crate) fn published(&self, result: &Element) -> Published {
        Published::from_result(result)
            .map(|p| Published { id: p.id.or_else(|| self.id.clone()), ..p })
            .unwrap_or_else(|| Published { node: self.node.clone(), id: self.id.clone() })
    }

    /// The request this Action sends.
    ///
    /// ```
    /// use moxl_core::xml::ElementBuilder;
    /// let p = moxl_xep::xep_0060_pubsub::Publish::new(None, "n", Some("i"), ElementBuilder::new("x", "urn:x"))?;
    /// assert!(p.request_stanza().build()?.to_xml().contains("<item id='i'><x xmlns='urn:x'/></item>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn request_stanza(&self) -> ElementBuilder {
        // The payload was serialized by `new`; it parses again unless the stored state was tampered with, and
        // then the publish goes without payload and the service refuses it (payload-required).
        let to = self.to.as_deref();
        match (Element::parse(&self.payload), &self.options) {
            (Ok(p), Some(o)) => stanza::publish_with_options(to, &self.node, self.id.as_deref(), p, o),
            (Ok(p), None) => stanza::publish(to, &self.node, self.id.as_deref(), p),
            (Err(_), _) => stanza::publish(to, &self.node, self.id.as_deref(), ElementBuilder::new("invalid", "")),
        }
    }
}

#[action(group = "pubsub")]
impl Publish {
    /// The node and the id of the published item (the service's, or ours).
    type Output = Published;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Published> {
        Ok(self.published(stanza))
    }
}

/// Retrieves items of a node (§6.5.2), the most recent `max_items` (§6.5.7) or some by id (§6.5.8). Delivers
/// `Vec<`[`Item`]`>` (`pubsub_items_handle`).
///
/// ```
/// use moxl_xep::xep_0060_pubsub::Items;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let request = Items::new(Some("pubsub.shakespeare.lit"), "princely_musings").max_items(2);
/// let items = xec.context().request(request)?.await?; // also the Packet `pubsub_items_handle`
/// for item in &items {
///     println!("{:?}", item.id);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Items {
    to: Option<String>,
    node: String,
    max_items: Option<u32>,
    ids: Vec<String>,
}

impl Items {
    /// Every item of `node` at `to` (`None`: our PEP service).
    ///
    /// ```
    /// let i = moxl_xep::xep_0060_pubsub::Items::new(None, "n").ids(["a", "b"]);
    /// assert!(i.request_stanza().build()?.to_xml().contains("<item id='a'/><item id='b'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(to: Option<&str>, node: &str) -> Items {
        Items { to: to.map(str::to_owned), node: node.to_owned(), max_items: None, ids: Vec::new() }
    }

    /// Only the `max` most recent (§6.5.7).
    pub fn max_items(mut self, max: u32) -> Items {
        self.max_items = Some(max);
        self
    }

    /// Only these ids (§6.5.8).
    pub fn ids(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Items {
        self.ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        let to = self.to.as_deref();
        match self.max_items {
            _ if !self.ids.is_empty() => stanza::items_by_id(to, &self.node, self.ids.iter().cloned()),
            Some(max) => stanza::items_max(to, &self.node, max),
            None => stanza::items(to, &self.node),
        }
    }
}

#[action(group = "pubsub")]
impl Items {
    /// The items the service returned, in its order.
    type Output = Vec<Item>;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Vec<Item>> {
        Ok(Item::all_in(stanza))
    }
}

/// Retrieves one page of a node's items (§6.5.4, XEP-0059). Outputs a [`Page`] (`pubsub_itemspage_handle`);
/// ask for the next with `SetQuery::max(n).after(last)`.
///
/// ```
/// use moxl_xep::xep_0059_rsm::SetQuery;
/// use moxl_xep::xep_0060_pubsub::ItemsPage;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let first = ItemsPage::new(Some("pubsub.shakespeare.lit"), "princely_musings", SetQuery::max(10));
/// let page = xec.context().request(first)?.await?; // also the Packet `pubsub_itemspage_handle`
/// println!("{} items", page.items.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemsPage {
    to: Option<String>,
    node: String,
    set: SetQuery,
}

impl ItemsPage {
    /// The page `set` of `node` at `to` (`None`: our PEP service).
    ///
    /// ```
    /// use moxl_xep::xep_0059_rsm::SetQuery;
    /// let p = moxl_xep::xep_0060_pubsub::ItemsPage::new(None, "n", SetQuery::max(2).after("x"));
    /// assert!(p.request_stanza().build()?.to_xml().contains("<items node='n'/><set xmlns='http://jabber.org/protocol/rsm'>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(to: Option<&str>, node: &str, set: SetQuery) -> ItemsPage {
        ItemsPage { to: to.map(str::to_owned), node: node.to_owned(), set }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        stanza::items_page(self.to.as_deref(), &self.node, &self.set)
    }
}

#[action(group = "pubsub")]
impl ItemsPage {
    /// The page: its items and the XEP-0059 result set.
    type Output = Page;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Page> {
        Ok(Page::from_result(stanza).unwrap_or(Page { node: self.node.clone(), items: Vec::new(), set: None }))
    }
}

/// Declares a simple Action: its fields, constructor and request; `handle` returns `$deliver` (its `Output`).
macro_rules! simple_action {
    (
        $(#[$doc:meta])*
        $name:ident { $($field:ident : $fty:ty),* $(,)? }
        new($($arg:ident : $aty:ty => $conv:expr),* $(,)?)
        request(|$s:ident| $request:expr)
        handle(|$hs:ident, $stanza:ident| -> $out:ty { $deliver:expr })
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, Deserialize)]
        pub struct $name {
            $($field: $fty),*
        }

        impl $name {
            /// The Action for these arguments (`to` `None`: our own account, i.e. our PEP service).
            pub fn new($($arg: $aty),*) -> $name {
                $name { $($arg: $conv),* }
            }

            /// The request this Action sends.
            pub fn request_stanza(&self) -> ElementBuilder {
                let $s = self;
                $request
            }
        }

        #[action(group = "pubsub")]
        impl $name {
            type Output = $out;

            fn request(&self) -> ElementBuilder {
                self.request_stanza()
            }

            async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<$out> {
                let ($hs, $stanza) = (&*self, stanza);
                Ok($deliver)
            }
        }
    };
}

fn own(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

simple_action! {
    /// Deletes an item (§7.2.1), notifying subscribers if `notify`. Outputs the item id
    /// (`pubsub_retract_handle`).
    ///
    /// ```
    /// let r = moxl_xep::xep_0060_pubsub::Retract::new(None, "n", "i1", true);
    /// assert!(r.request_stanza().build()?.to_xml().contains("<retract node='n' notify='true'><item id='i1'/></retract>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    Retract { to: Option<String>, node: String, id: String, notify: bool }
    new(to: Option<&str> => own(to), node: &str => node.to_owned(), id: &str => id.to_owned(), notify: bool => notify)
    request(|s| stanza::retract(s.to.as_deref(), &s.node, &s.id, s.notify))
    handle(|s, _stanza| -> String { s.id.clone() })
}

/// Subscribes to a node (§6.1.1), with subscription options if given (§6.3.7). Outputs the
/// [`Subscription`] (`pubsub_subscribe_handle`; state `pending` when the owner must approve, §6.1.3).
///
/// ```
/// let s = moxl_xep::xep_0060_pubsub::Subscribe::new(Some("pubsub.shakespeare.lit"), "princely_musings", "francisco@denmark.lit");
/// assert!(s.request_stanza().build()?.to_xml().contains("<subscribe node='princely_musings' jid='francisco@denmark.lit'/>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscribe {
    to: Option<String>,
    node: String,
    jid: String,
    options: Option<DataForm>,
}

impl Subscribe {
    /// A subscription of `jid` (our bare or full JID) to `node` at `to`.
    pub fn new(to: Option<&str>, node: &str, jid: &str) -> Subscribe {
        Subscribe { to: own(to), node: node.to_owned(), jid: jid.to_owned(), options: None }
    }

    /// With subscription options (§6.3.7).
    ///
    /// ```
    /// use moxl_xep::xep_0004_data_forms::DataForm;
    /// use moxl_xep::xep_0060_pubsub::{Subscribe, NS_SUBSCRIBE_OPTIONS};
    /// let s = Subscribe::new(None, "n", "a@b").with_options(DataForm::submit(Some(NS_SUBSCRIBE_OPTIONS)));
    /// assert!(s.request_stanza().build()?.to_xml().contains("<options>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn with_options(mut self, options: DataForm) -> Subscribe {
        self.options = Some(options);
        self
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        match &self.options {
            Some(o) => stanza::subscribe_with_options(self.to.as_deref(), &self.node, &self.jid, o),
            None => stanza::subscribe(self.to.as_deref(), &self.node, &self.jid),
        }
    }
}

#[action(group = "pubsub")]
impl Subscribe {
    /// The subscription the service made (`pending` when the owner must approve it).
    type Output = Subscription;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Subscription> {
        // §6.1.2: the service may return an empty result; the subscription is then made.
        let s = Subscription::from_result(stanza).unwrap_or_else(|| Subscription {
            node: Some(self.node.clone()),
            jid: Some(self.jid.clone()),
            state: Some(super::SubscriptionState::Subscribed),
            subid: None,
            expiry: None,
            options_supported: false,
            options_required: false,
        });
        Ok(s)
    }
}

simple_action! {
    /// Unsubscribes from a node (§6.2.1). Outputs the node (`pubsub_unsubscribe_handle`).
    ///
    /// ```
    /// let u = moxl_xep::xep_0060_pubsub::Unsubscribe::new(None, "n", "a@b", Some("s1"));
    /// assert!(u.request_stanza().build()?.to_xml().contains("<unsubscribe node='n' jid='a@b' subid='s1'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    Unsubscribe { to: Option<String>, node: String, jid: String, subid: Option<String> }
    new(to: Option<&str> => own(to), node: &str => node.to_owned(), jid: &str => jid.to_owned(), subid: Option<&str> => own(subid))
    request(|s| stanza::unsubscribe(s.to.as_deref(), &s.node, &s.jid, s.subid.as_deref()))
    handle(|s, _stanza| -> String { s.node.clone() })
}

simple_action! {
    /// Our subscriptions at a service (§5.6), or to one node. Outputs `Vec<`[`Subscription`]`>`
    /// (`pubsub_subscriptions_handle`).
    ///
    /// ```
    /// let s = moxl_xep::xep_0060_pubsub::Subscriptions::new(Some("pubsub.shakespeare.lit"), None);
    /// assert!(s.request_stanza().build()?.to_xml().contains("<subscriptions/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    Subscriptions { to: Option<String>, node: Option<String> }
    new(to: Option<&str> => own(to), node: Option<&str> => own(node))
    request(|s| stanza::subscriptions(s.to.as_deref(), s.node.as_deref()))
    handle(|_s, stanza| -> Vec<Subscription> { Subscription::all_in(stanza) })
}

simple_action! {
    /// Our affiliations at a service (§5.7), or with one node. Outputs `Vec<`[`Affiliation`]`>`
    /// (`pubsub_affiliations_handle`).
    ///
    /// ```
    /// let a = moxl_xep::xep_0060_pubsub::Affiliations::new(None, Some("n"));
    /// assert!(a.request_stanza().build()?.to_xml().contains("<affiliations node='n'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    Affiliations { to: Option<String>, node: Option<String> }
    new(to: Option<&str> => own(to), node: Option<&str> => own(node))
    request(|s| stanza::affiliations(s.to.as_deref(), s.node.as_deref()))
    handle(|_s, stanza| -> Vec<Affiliation> { Affiliation::all_in(stanza) })
}

simple_action! {
    /// The subscription options form of `jid` on a node (§6.3.2). Outputs the [`DataForm`]
    /// (`pubsub_subscriptionoptions_handle`; an empty form if the result holds none).
    ///
    /// ```
    /// let o = moxl_xep::xep_0060_pubsub::SubscriptionOptions::new(None, "n", "a@b", None);
    /// assert!(o.request_stanza().build()?.to_xml().contains("<options node='n' jid='a@b'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    SubscriptionOptions { to: Option<String>, node: String, jid: String, subid: Option<String> }
    new(to: Option<&str> => own(to), node: &str => node.to_owned(), jid: &str => jid.to_owned(), subid: Option<&str> => own(subid))
    request(|s| stanza::subscription_options(s.to.as_deref(), &s.node, &s.jid, s.subid.as_deref()))
    handle(|_s, stanza| -> DataForm { super::config_form(stanza).unwrap_or_else(|| DataForm::submit(None)) })
}

/// Creates a node (§8.1.1), an instant node (§8.1.2, `node` `None`), with a configuration if given (§8.1.3).
/// Outputs the node's name (`pubsub_create_handle`): ours, or the one the service chose.
///
/// ```
/// use moxl_xep::xep_0060_pubsub::{node_config, Create};
/// let c = Create::new(Some("pubsub.shakespeare.lit"), Some("princely_musings")).with_config(node_config().with_value("pubsub#max_items", "10"));
/// assert!(c.request_stanza().build()?.to_xml().contains("<create node='princely_musings'/><configure>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Create {
    to: Option<String>,
    node: Option<String>,
    config: Option<DataForm>,
}

impl Create {
    /// Creates `node` at `to`.
    pub fn new(to: Option<&str>, node: Option<&str>) -> Create {
        Create { to: own(to), node: own(node), config: None }
    }

    /// With a configuration (§8.1.3; see [`node_config`](super::node_config)).
    pub fn with_config(mut self, config: DataForm) -> Create {
        self.config = Some(config);
        self
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        match &self.config {
            Some(c) => stanza::create_with_config(self.to.as_deref(), self.node.as_deref(), c),
            None => stanza::create(self.to.as_deref(), self.node.as_deref()),
        }
    }
}

#[action(group = "pubsub")]
impl Create {
    /// The node's name: ours, or the one the service chose.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<String> {
        // §8.1.2: the result names an instant node; it may name another than asked for (§8.1.1).
        let named = stanza
            .child("pubsub", super::NS)
            .and_then(|p| p.child("create", super::NS))
            .and_then(|c| c.attr("node").map(|n| n.into_owned()));
        Ok(named.or_else(|| self.node.clone()).unwrap_or_default())
    }
}

simple_action! {
    /// The configuration form of a node (§8.2.1, owner). Outputs the [`DataForm`]
    /// (`pubsub_getconfig_handle`); change its values and give its `submission()` to [`Configure`].
    ///
    /// ```
    /// let g = moxl_xep::xep_0060_pubsub::GetConfig::new(None, "n");
    /// assert!(g.request_stanza().build()?.to_xml().contains("<configure node='n'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    GetConfig { to: Option<String>, node: String }
    new(to: Option<&str> => own(to), node: &str => node.to_owned())
    request(|s| stanza::node_configuration(s.to.as_deref(), &s.node))
    handle(|_s, stanza| -> DataForm { super::config_form(stanza).unwrap_or_else(|| DataForm::submit(None)) })
}

simple_action! {
    /// Submits a node configuration (§8.2.5, owner). Outputs the node (`pubsub_configure_handle`).
    ///
    /// ```
    /// use moxl_xep::xep_0060_pubsub::{node_config, Configure};
    /// let c = Configure::new(None, "n", node_config().with_value("pubsub#title", "T"));
    /// assert!(c.request_stanza().build()?.to_xml().contains("<configure node='n'><x xmlns='jabber:x:data' type='submit'>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    Configure { to: Option<String>, node: String, config: DataForm }
    new(to: Option<&str> => own(to), node: &str => node.to_owned(), config: DataForm => config)
    request(|s| stanza::configure_node(s.to.as_deref(), &s.node, &s.config))
    handle(|s, _stanza| -> String { s.node.clone() })
}

simple_action! {
    /// Deletes a node (§8.4.1, owner). Outputs the node (`pubsub_delete_handle`).
    ///
    /// ```
    /// let d = moxl_xep::xep_0060_pubsub::Delete::new(None, "n", None);
    /// assert!(d.request_stanza().build()?.to_xml().contains("<delete node='n'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    Delete { to: Option<String>, node: String, redirect: Option<String> }
    new(to: Option<&str> => own(to), node: &str => node.to_owned(), redirect: Option<&str> => own(redirect))
    request(|s| stanza::delete(s.to.as_deref(), &s.node, s.redirect.as_deref()))
    handle(|s, _stanza| -> String { s.node.clone() })
}

simple_action! {
    /// Deletes every item of a node (§8.5.1, owner). Outputs the node (`pubsub_purge_handle`).
    ///
    /// ```
    /// let p = moxl_xep::xep_0060_pubsub::Purge::new(None, "n");
    /// assert!(p.request_stanza().build()?.to_xml().contains("<purge node='n'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    Purge { to: Option<String>, node: String }
    new(to: Option<&str> => own(to), node: &str => node.to_owned())
    request(|s| stanza::purge(s.to.as_deref(), &s.node))
    handle(|s, _stanza| -> String { s.node.clone() })
}

simple_action! {
    /// The subscriptions to a node, as its owner (§8.8.1). Outputs `Vec<`[`Subscription`]`>`
    /// (`pubsub_nodesubscriptions_handle`).
    ///
    /// ```
    /// let s = moxl_xep::xep_0060_pubsub::NodeSubscriptions::new(None, "n");
    /// assert!(s.request_stanza().build()?.to_xml().contains("#owner'><subscriptions node='n'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    NodeSubscriptions { to: Option<String>, node: String }
    new(to: Option<&str> => own(to), node: &str => node.to_owned())
    request(|s| stanza::node_subscriptions(s.to.as_deref(), &s.node))
    handle(|_s, stanza| -> Vec<Subscription> { Subscription::all_in(stanza) })
}

simple_action! {
    /// The affiliations with a node, as its owner (§8.9.1). Outputs `Vec<`[`Affiliation`]`>`
    /// (`pubsub_nodeaffiliations_handle`).
    ///
    /// ```
    /// let a = moxl_xep::xep_0060_pubsub::NodeAffiliations::new(None, "n");
    /// assert!(a.request_stanza().build()?.to_xml().contains("#owner'><affiliations node='n'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    NodeAffiliations { to: Option<String>, node: String }
    new(to: Option<&str> => own(to), node: &str => node.to_owned())
    request(|s| stanza::node_affiliations(s.to.as_deref(), &s.node))
    handle(|_s, stanza| -> Vec<Affiliation> { Affiliation::all_in(stanza) })
}

simple_action! {
    /// Sets affiliations with a node, as its owner (§8.9.2). Outputs the node
    /// (`pubsub_modifyaffiliations_handle`).
    ///
    /// ```
    /// use moxl_xep::xep_0060_pubsub::{AffiliationKind, ModifyAffiliations};
    /// let m = ModifyAffiliations::new(None, "n", vec![("a@b".to_owned(), AffiliationKind::Member)]);
    /// assert!(m.request_stanza().build()?.to_xml().contains("<affiliation jid='a@b' affiliation='member'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    ModifyAffiliations { to: Option<String>, node: String, changes: Vec<(String, AffiliationKind)> }
    new(to: Option<&str> => own(to), node: &str => node.to_owned(), changes: Vec<(String, AffiliationKind)> => changes)
    request(|s| stanza::modify_affiliations(s.to.as_deref(), &s.node, s.changes.iter().map(|(j, a)| (j.as_str(), *a))))
    handle(|s, _stanza| -> String { s.node.clone() })
}

simple_action! {
    /// Discovers the nodes of a service (§5.2, `node` `None`) or the items of a node (§5.5) with disco#items.
    /// Outputs `Vec<`[`DiscoItem`]`>` (`pubsub_disconodes_handle`).
    ///
    /// ```
    /// let d = moxl_xep::xep_0060_pubsub::DiscoNodes::new(Some("pubsub.shakespeare.lit"), None);
    /// assert!(d.request_stanza().build()?.to_xml().contains("<query xmlns='http://jabber.org/protocol/disco#items'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    DiscoNodes { to: Option<String>, node: Option<String> }
    new(to: Option<&str> => own(to), node: Option<&str> => own(node))
    request(|s| stanza::disco_items(s.to.as_deref(), s.node.as_deref()))
    handle(|_s, stanza| -> Vec<DiscoItem> { DiscoItem::all_in(stanza) })
}
