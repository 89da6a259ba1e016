//! Builders for the requests of XEP-0060. Each returns the whole `<iq/>` (the id is set by
//! `Context::request`, or by `Context::send` for an iq without one). `to` is the pubsub service; `None`
//! addresses our own account, i.e. our PEP service (XEP-0163).

use moxl_core::stanza::{iq_get, iq_set};
use moxl_core::xml::{ElementBuilder, ElementOrBuilder};

use super::{NS, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_OWNER};
use crate::xep_0004_data_forms::DataForm;
use crate::xep_0059_rsm::SetQuery;

fn pubsub(ns: &'static str) -> ElementBuilder {
    ElementBuilder::new("pubsub", ns)
}

fn with_node(name: &'static str, ns: &'static str, node: &str) -> ElementBuilder {
    ElementBuilder::new(name, ns).attr("node", node.to_owned())
}

fn item(id: Option<&str>) -> ElementBuilder {
    ElementBuilder::new("item", NS).attr_opt("id", id.map(str::to_owned))
}

/// Publishes an item with `payload` to `node` (§7.1.1). Without `id`, the service assigns one (returned in
/// the result, see [`Published`](super::Published)).
///
/// ```
/// use moxl_core::xml::ElementBuilder;
/// // §7.1.1, Example 99 (the entry abridged)
/// let entry = ElementBuilder::new("entry", "http://www.w3.org/2005/Atom").text_child("title", "Soliloquy");
/// let iq = moxl_xep::xep_0060_pubsub::publish(Some("pubsub.shakespeare.lit"), "princely_musings", Some("bnd81g37d61f49fgn581"), entry);
/// assert_eq!(
///     iq.build()?.to_xml(),
///     "<iq xmlns='jabber:client' type='set' to='pubsub.shakespeare.lit'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
///      <publish node='princely_musings'><item id='bnd81g37d61f49fgn581'><entry xmlns='http://www.w3.org/2005/Atom'>\
///      <title>Soliloquy</title></entry></item></publish></pubsub></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn publish(to: Option<&str>, node: &str, id: Option<&str>, payload: impl Into<ElementOrBuilder>) -> ElementBuilder {
    iq_set(to).append(pubsub(NS).append(with_node("publish", NS, node).append(item(id).append(payload))))
}

/// [`publish`] with publish-options (§7.1.5): `options` is a submit form whose `FORM_TYPE` is
/// [`NS_PUBLISH_OPTIONS`](super::NS_PUBLISH_OPTIONS) (see [`publish_options`]). A node whose configuration does
/// not match gets the publish refused with `conflict` and `<precondition-not-met/>` ([`PubsubError`](super::PubsubError)).
///
/// ```
/// use moxl_core::xml::ElementBuilder;
/// use moxl_xep::xep_0060_pubsub::{publish_options, publish_with_options};
/// // §7.1.5, Example 126
/// let options = publish_options().with_value("pubsub#access_model", "presence");
/// let iq = publish_with_options(None, "princely_musings", Some("ae890ac52d0df67ed7cfdf51b644e901"),
///     ElementBuilder::new("entry", "http://www.w3.org/2005/Atom"), &options).build()?;
/// let form = iq.first_child().unwrap().child("publish-options", moxl_xep::xep_0060_pubsub::NS).unwrap();
/// let form = moxl_xep::xep_0004_data_forms::DataForm::find_in(&form).unwrap();
/// assert_eq!(form.form_type_value(), Some("http://jabber.org/protocol/pubsub#publish-options"));
/// assert_eq!(form.value("pubsub#access_model"), Some("presence"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn publish_with_options(
    to: Option<&str>,
    node: &str,
    id: Option<&str>,
    payload: impl Into<ElementOrBuilder>,
    options: &DataForm,
) -> ElementBuilder {
    iq_set(to).append(
        pubsub(NS)
            .append(with_node("publish", NS, node).append(item(id).append(payload)))
            .append(ElementBuilder::new("publish-options", NS).append(options.to_element())),
    )
}

/// An empty publish-options form (`FORM_TYPE` [`NS_PUBLISH_OPTIONS`](super::NS_PUBLISH_OPTIONS), §7.1.5): add
/// the `pubsub#…` fields the node must have with `with_value`/`with_bool`.
///
/// ```
/// let options = moxl_xep::xep_0060_pubsub::publish_options().with_bool("pubsub#persist_items", true);
/// assert_eq!(options.value("pubsub#persist_items"), Some("1"));
/// ```
pub fn publish_options() -> DataForm {
    DataForm::submit(Some(super::NS_PUBLISH_OPTIONS))
}

/// An empty node configuration submit form (`FORM_TYPE` [`NS_NODE_CONFIG`](super::NS_NODE_CONFIG), §8.2.5), for
/// [`create_with_config`] and [`configure_node`].
///
/// ```
/// let config = moxl_xep::xep_0060_pubsub::node_config().with_value("pubsub#max_items", "10");
/// assert_eq!(config.form_type_value(), Some("http://jabber.org/protocol/pubsub#node_config"));
/// ```
pub fn node_config() -> DataForm {
    DataForm::submit(Some(super::NS_NODE_CONFIG))
}

/// A node configuration keeping as many items as the service allows (`pubsub#max_items` `max`, §16.4.3):
/// for a node of one item per entry (bookmarks, displayed states, OMEMO bundles) on a service that refused
/// the limit in publish-options ([`is_options_refused`](super::is_options_refused)).
///
/// ```
/// assert_eq!(moxl_xep::xep_0060_pubsub::max_items_config().value("pubsub#max_items"), Some("max"));
/// ```
pub fn max_items_config() -> DataForm {
    node_config().with_value("pubsub#max_items", "max")
}

/// Every item of `node` (§6.5.2). Narrow it with [`items_max`], [`items_by_id`] or [`items_page`].
///
/// ```
/// // §6.5.2, Example 78
/// let iq = moxl_xep::xep_0060_pubsub::items(Some("pubsub.shakespeare.lit"), "princely_musings").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='pubsub.shakespeare.lit'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
///      <items node='princely_musings'/></pubsub></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn items(to: Option<&str>, node: &str) -> ElementBuilder {
    iq_get(to).append(pubsub(NS).append(with_node("items", NS, node)))
}

/// The `max_items` most recent items of `node` (§6.5.7).
///
/// ```
/// // §6.5.7, Example 88
/// let iq = moxl_xep::xep_0060_pubsub::items_max(Some("pubsub.shakespeare.lit"), "princely_musings", 2).build()?;
/// assert!(iq.to_xml().contains("<items node='princely_musings' max_items='2'/>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn items_max(to: Option<&str>, node: &str, max_items: u32) -> ElementBuilder {
    iq_get(to).append(pubsub(NS).append(with_node("items", NS, node).attr("max_items", max_items.to_string())))
}

/// The items of `node` with these ids (§6.5.8).
///
/// ```
/// // §6.5.8, Example 90
/// let iq = moxl_xep::xep_0060_pubsub::items_by_id(Some("pubsub.shakespeare.lit"), "princely_musings", ["368866411b877c30064a5f62b917cffe", "4e30f35051b7b8b42abe083742187228"]).build()?;
/// assert!(iq.to_xml().contains("<items node='princely_musings'><item id='368866411b877c30064a5f62b917cffe'/><item id='4e30f35051b7b8b42abe083742187228'/></items>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn items_by_id(to: Option<&str>, node: &str, ids: impl IntoIterator<Item = impl Into<String>>) -> ElementBuilder {
    let items = ids.into_iter().fold(with_node("items", NS, node), |b, id| b.append(item(Some(&id.into()))));
    iq_get(to).append(pubsub(NS).append(items))
}

/// One page of the items of `node` (§6.5.4 with Result Set Management, XEP-0059): the `<set/>` goes next to
/// `<items/>`. Read the page with [`ItemsPage`](super::ItemsPage).
///
/// ```
/// use moxl_xep::xep_0059_rsm::SetQuery;
/// // §6.5.4, Example 82
/// let iq = moxl_xep::xep_0060_pubsub::items_page(Some("pubsub.shakespeare.lit"), "princely_musings", &SetQuery::max(2)).build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='pubsub.shakespeare.lit'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
///      <items node='princely_musings'/><set xmlns='http://jabber.org/protocol/rsm'><max>2</max></set></pubsub></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn items_page(to: Option<&str>, node: &str, set: &SetQuery) -> ElementBuilder {
    iq_get(to).append(pubsub(NS).append(with_node("items", NS, node)).append(set.to_element()))
}

/// Deletes the item `id` from `node` (§7.2.1); with `notify`, subscribers get a retract notification (§7.2.2.1).
///
/// ```
/// // §7.2.1, Example 115
/// let iq = moxl_xep::xep_0060_pubsub::retract(Some("pubsub.shakespeare.lit"), "princely_musings", "ae890ac52d0df67ed7cfdf51b644e901", true).build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='set' to='pubsub.shakespeare.lit'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
///      <retract node='princely_musings' notify='true'><item id='ae890ac52d0df67ed7cfdf51b644e901'/></retract></pubsub></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn retract(to: Option<&str>, node: &str, id: &str, notify: bool) -> ElementBuilder {
    let retract = with_node("retract", NS, node).attr_opt("notify", notify.then_some("true")).append(item(Some(id)));
    iq_set(to).append(pubsub(NS).append(retract))
}

/// Subscribes `jid` (our bare or full JID) to `node` (§6.1.1). The result is a [`Subscription`](super::Subscription).
///
/// ```
/// // §6.1.1, Example 32
/// let iq = moxl_xep::xep_0060_pubsub::subscribe(Some("pubsub.shakespeare.lit"), "princely_musings", "francisco@denmark.lit").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='set' to='pubsub.shakespeare.lit'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
///      <subscribe node='princely_musings' jid='francisco@denmark.lit'/></pubsub></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn subscribe(to: Option<&str>, node: &str, jid: &str) -> ElementBuilder {
    iq_set(to).append(pubsub(NS).append(with_node("subscribe", NS, node).attr("jid", jid.to_owned())))
}

/// [`subscribe`] with subscription options in the same request (§6.3.7): a submit form whose `FORM_TYPE` is
/// [`NS_SUBSCRIBE_OPTIONS`](super::NS_SUBSCRIBE_OPTIONS).
///
/// ```
/// use moxl_xep::xep_0004_data_forms::DataForm;
/// use moxl_xep::xep_0060_pubsub::{subscribe_with_options, NS_SUBSCRIBE_OPTIONS};
/// // §6.3.7, Example 68
/// let options = DataForm::submit(Some(NS_SUBSCRIBE_OPTIONS)).with_bool("pubsub#deliver", true).with_value("pubsub#digest", "false");
/// let iq = subscribe_with_options(Some("pubsub.shakespeare.lit"), "princely_musings", "francisco@denmark.lit", &options).build()?;
/// assert!(iq.to_xml().contains("<subscribe node='princely_musings' jid='francisco@denmark.lit'/><options><x xmlns='jabber:x:data' type='submit'>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn subscribe_with_options(to: Option<&str>, node: &str, jid: &str, options: &DataForm) -> ElementBuilder {
    iq_set(to).append(
        pubsub(NS)
            .append(with_node("subscribe", NS, node).attr("jid", jid.to_owned()))
            .append(ElementBuilder::new("options", NS).append(options.to_element())),
    )
}

/// Unsubscribes `jid` from `node` (§6.2.1); `subid` picks one of several subscriptions.
///
/// ```
/// // §6.2.1, Example 48
/// let iq = moxl_xep::xep_0060_pubsub::unsubscribe(Some("pubsub.shakespeare.lit"), "princely_musings", "francisco@denmark.lit", None).build()?;
/// assert!(iq.to_xml().contains("<unsubscribe node='princely_musings' jid='francisco@denmark.lit'/>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn unsubscribe(to: Option<&str>, node: &str, jid: &str, subid: Option<&str>) -> ElementBuilder {
    let u = with_node("unsubscribe", NS, node).attr("jid", jid.to_owned()).attr_opt("subid", subid.map(str::to_owned));
    iq_set(to).append(pubsub(NS).append(u))
}

/// Asks for the subscription options form of `jid` on `node` (§6.3.2).
///
/// ```
/// // §6.3.2, Example 57
/// let iq = moxl_xep::xep_0060_pubsub::subscription_options(Some("pubsub.shakespeare.lit"), "princely_musings", "francisco@denmark.lit", None).build()?;
/// assert!(iq.to_xml().contains("type='get'") && iq.to_xml().contains("<options node='princely_musings' jid='francisco@denmark.lit'/>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn subscription_options(to: Option<&str>, node: &str, jid: &str, subid: Option<&str>) -> ElementBuilder {
    let o = with_node("options", NS, node).attr("jid", jid.to_owned()).attr_opt("subid", subid.map(str::to_owned));
    iq_get(to).append(pubsub(NS).append(o))
}

/// Submits subscription options for `jid` on `node` (§6.3.5).
///
/// ```
/// use moxl_xep::xep_0004_data_forms::DataForm;
/// use moxl_xep::xep_0060_pubsub::NS_SUBSCRIBE_OPTIONS;
/// let form = DataForm::submit(Some(NS_SUBSCRIBE_OPTIONS)).with_bool("pubsub#deliver", false);
/// let iq = moxl_xep::xep_0060_pubsub::set_subscription_options(None, "n", "a@b", None, &form).build()?;
/// assert!(iq.to_xml().contains("type='set'") && iq.to_xml().contains("<options node='n' jid='a@b'><x xmlns='jabber:x:data' type='submit'>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn set_subscription_options(
    to: Option<&str>,
    node: &str,
    jid: &str,
    subid: Option<&str>,
    form: &DataForm,
) -> ElementBuilder {
    let o = with_node("options", NS, node)
        .attr("jid", jid.to_owned())
        .attr_opt("subid", subid.map(str::to_owned))
        .append(form.to_element());
    iq_set(to).append(pubsub(NS).append(o))
}

/// Our subscriptions at the service (§5.6), or to one node.
///
/// ```
/// // §5.6, Example 20
/// let iq = moxl_xep::xep_0060_pubsub::subscriptions(Some("pubsub.shakespeare.lit"), None).build()?;
/// assert!(iq.to_xml().ends_with("<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscriptions/></pubsub></iq>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn subscriptions(to: Option<&str>, node: Option<&str>) -> ElementBuilder {
    let s = ElementBuilder::new("subscriptions", NS).attr_opt("node", node.map(str::to_owned));
    iq_get(to).append(pubsub(NS).append(s))
}

/// Our affiliations at the service (§5.7), or with one node.
///
/// ```
/// // §5.7, Example 24
/// let iq = moxl_xep::xep_0060_pubsub::affiliations(Some("pubsub.shakespeare.lit"), None).build()?;
/// assert!(iq.to_xml().ends_with("<pubsub xmlns='http://jabber.org/protocol/pubsub'><affiliations/></pubsub></iq>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn affiliations(to: Option<&str>, node: Option<&str>) -> ElementBuilder {
    let a = ElementBuilder::new("affiliations", NS).attr_opt("node", node.map(str::to_owned));
    iq_get(to).append(pubsub(NS).append(a))
}

/// Creates `node` with the default configuration (§8.1.1), or an instant node named by the service when `node`
/// is `None` (§8.1.2).
///
/// ```
/// // §8.1.1, Example 132; §8.1.2, Example 137
/// let iq = moxl_xep::xep_0060_pubsub::create(Some("pubsub.shakespeare.lit"), Some("princely_musings")).build()?;
/// assert!(iq.to_xml().ends_with("<pubsub xmlns='http://jabber.org/protocol/pubsub'><create node='princely_musings'/></pubsub></iq>"));
/// let instant = moxl_xep::xep_0060_pubsub::create(Some("pubsub.shakespeare.lit"), None).build()?;
/// assert!(instant.to_xml().ends_with("<create/></pubsub></iq>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn create(to: Option<&str>, node: Option<&str>) -> ElementBuilder {
    let c = ElementBuilder::new("create", NS).attr_opt("node", node.map(str::to_owned));
    iq_set(to).append(pubsub(NS).append(c))
}

/// Creates `node` with a configuration (§8.1.3): the `<configure/>` holds a [`node_config`] submit form.
///
/// ```
/// use moxl_xep::xep_0060_pubsub::{create_with_config, node_config};
/// // §8.1.3, Example 141 (abridged)
/// let config = node_config().with_value("pubsub#title", "Princely Musings (Atom)").with_value("pubsub#max_items", "10");
/// let iq = create_with_config(Some("pubsub.shakespeare.lit"), Some("princely_musings"), &config).build()?;
/// assert!(iq.to_xml().contains("<create node='princely_musings'/><configure><x xmlns='jabber:x:data' type='submit'>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn create_with_config(to: Option<&str>, node: Option<&str>, config: &DataForm) -> ElementBuilder {
    let c = ElementBuilder::new("create", NS).attr_opt("node", node.map(str::to_owned));
    iq_set(to).append(pubsub(NS).append(c).append(ElementBuilder::new("configure", NS).append(config.to_element())))
}

/// Asks for the configuration form of `node` (§8.2.1, owner).
///
/// ```
/// // §8.2.1, Example 156
/// let iq = moxl_xep::xep_0060_pubsub::node_configuration(Some("pubsub.shakespeare.lit"), "princely_musings").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='pubsub.shakespeare.lit'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>\
///      <configure node='princely_musings'/></pubsub></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn node_configuration(to: Option<&str>, node: &str) -> ElementBuilder {
    iq_get(to).append(pubsub(NS_OWNER).append(with_node("configure", NS_OWNER, node)))
}

/// Submits a new configuration of `node` (§8.2.5, owner): a [`node_config`] submit form (or a received form's
/// `submission()`).
///
/// ```
/// use moxl_xep::xep_0060_pubsub::{configure_node, node_config};
/// let iq = configure_node(Some("pubsub.shakespeare.lit"), "princely_musings", &node_config().with_bool("pubsub#deliver_payloads", false)).build()?;
/// assert!(iq.to_xml().contains("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='princely_musings'><x xmlns='jabber:x:data' type='submit'>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn configure_node(to: Option<&str>, node: &str, config: &DataForm) -> ElementBuilder {
    iq_set(to).append(pubsub(NS_OWNER).append(with_node("configure", NS_OWNER, node).append(config.to_element())))
}

/// Asks for the service's default node configuration (§8.3).
///
/// ```
/// // §8.3, Example 167
/// let iq = moxl_xep::xep_0060_pubsub::default_configuration(Some("pubsub.shakespeare.lit")).build()?;
/// assert!(iq.to_xml().ends_with("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><default/></pubsub></iq>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn default_configuration(to: Option<&str>) -> ElementBuilder {
    iq_get(to).append(pubsub(NS_OWNER).append(ElementBuilder::new("default", NS_OWNER)))
}

/// Deletes `node` (§8.4.1, owner), optionally redirecting subscribers to another node's URI (§8.4.1).
///
/// ```
/// // §8.4.1, Example 171
/// let iq = moxl_xep::xep_0060_pubsub::delete(Some("pubsub.shakespeare.lit"), "princely_musings", Some("xmpp:hamlet@denmark.lit?;node=blog")).build()?;
/// assert!(iq.to_xml().ends_with("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><delete node='princely_musings'>\
///     <redirect uri='xmpp:hamlet@denmark.lit?;node=blog'/></delete></pubsub></iq>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn delete(to: Option<&str>, node: &str, redirect: Option<&str>) -> ElementBuilder {
    let mut d = with_node("delete", NS_OWNER, node);
    if let Some(uri) = redirect {
        d = d.append(ElementBuilder::new("redirect", NS_OWNER).attr("uri", uri.to_owned()));
    }
    iq_set(to).append(pubsub(NS_OWNER).append(d))
}

/// Deletes every item of `node` (§8.5.1, owner).
///
/// ```
/// // §8.5.1, Example 176
/// let iq = moxl_xep::xep_0060_pubsub::purge(Some("pubsub.shakespeare.lit"), "princely_musings").build()?;
/// assert!(iq.to_xml().ends_with("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><purge node='princely_musings'/></pubsub></iq>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn purge(to: Option<&str>, node: &str) -> ElementBuilder {
    iq_set(to).append(pubsub(NS_OWNER).append(with_node("purge", NS_OWNER, node)))
}

/// The subscriptions to `node`, as its owner (§8.8.1).
///
/// ```
/// // §8.8.1, Example 183
/// let iq = moxl_xep::xep_0060_pubsub::node_subscriptions(Some("pubsub.shakespeare.lit"), "princely_musings").build()?;
/// assert!(iq.to_xml().ends_with("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><subscriptions node='princely_musings'/></pubsub></iq>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn node_subscriptions(to: Option<&str>, node: &str) -> ElementBuilder {
    iq_get(to).append(pubsub(NS_OWNER).append(with_node("subscriptions", NS_OWNER, node)))
}

/// Sets subscription states of `node`'s subscribers, as its owner (§8.8.2): `(jid, state)` pairs, state
/// `none` removing the subscription.
///
/// ```
/// use moxl_xep::xep_0060_pubsub::{modify_subscriptions, SubscriptionState};
/// // §8.8.2, Example 187
/// let iq = modify_subscriptions(Some("pubsub.shakespeare.lit"), "princely_musings", [("bard@shakespeare.lit", SubscriptionState::Subscribed)]).build()?;
/// assert!(iq.to_xml().contains("<subscriptions node='princely_musings'><subscription jid='bard@shakespeare.lit' subscription='subscribed'/></subscriptions>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn modify_subscriptions<'a>(
    to: Option<&str>,
    node: &str,
    changes: impl IntoIterator<Item = (&'a str, super::SubscriptionState)>,
) -> ElementBuilder {
    let s = changes.into_iter().fold(with_node("subscriptions", NS_OWNER, node), |b, (jid, state)| {
        b.append(
            ElementBuilder::new("subscription", NS_OWNER)
                .attr("jid", jid.to_owned())
                .attr("subscription", state.as_str()),
        )
    });
    iq_set(to).append(pubsub(NS_OWNER).append(s))
}

/// The affiliations with `node`, as its owner (§8.9.1).
///
/// ```
/// // §8.9.1, Example 195
/// let iq = moxl_xep::xep_0060_pubsub::node_affiliations(Some("pubsub.shakespeare.lit"), "princely_musings").build()?;
/// assert!(iq.to_xml().ends_with("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><affiliations node='princely_musings'/></pubsub></iq>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn node_affiliations(to: Option<&str>, node: &str) -> ElementBuilder {
    iq_get(to).append(pubsub(NS_OWNER).append(with_node("affiliations", NS_OWNER, node)))
}

/// Sets affiliations with `node`, as its owner (§8.9.2): `(jid, affiliation)` pairs, `none` removing one.
///
/// ```
/// use moxl_xep::xep_0060_pubsub::{modify_affiliations, AffiliationKind};
/// // §8.9.2, Example 199
/// let iq = modify_affiliations(Some("pubsub.shakespeare.lit"), "princely_musings", [("bard@shakespeare.lit", AffiliationKind::Publisher)]).build()?;
/// assert!(iq.to_xml().contains("<affiliations node='princely_musings'><affiliation jid='bard@shakespeare.lit' affiliation='publisher'/></affiliations>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn modify_affiliations<'a>(
    to: Option<&str>,
    node: &str,
    changes: impl IntoIterator<Item = (&'a str, super::AffiliationKind)>,
) -> ElementBuilder {
    let a = changes.into_iter().fold(with_node("affiliations", NS_OWNER, node), |b, (jid, affiliation)| {
        b.append(
            ElementBuilder::new("affiliation", NS_OWNER)
                .attr("jid", jid.to_owned())
                .attr("affiliation", affiliation.as_str()),
        )
    });
    iq_set(to).append(pubsub(NS_OWNER).append(a))
}

/// A disco#items query (XEP-0030): the nodes of a service (§5.2, `node` `None`), the children of a collection
/// node, or the items of a leaf node (§5.5, by id; the item names are ids).
///
/// ```
/// // §5.2, Example 9; §5.5, Example 17
/// let nodes = moxl_xep::xep_0060_pubsub::disco_items(Some("pubsub.shakespeare.lit"), None).build()?;
/// assert!(nodes.to_xml().ends_with("<query xmlns='http://jabber.org/protocol/disco#items'/></iq>"));
/// let items = moxl_xep::xep_0060_pubsub::disco_items(Some("pubsub.shakespeare.lit"), Some("princely_musings")).build()?;
/// assert!(items.to_xml().ends_with("<query xmlns='http://jabber.org/protocol/disco#items' node='princely_musings'/></iq>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn disco_items(to: Option<&str>, node: Option<&str>) -> ElementBuilder {
    iq_get(to).append(ElementBuilder::new("query", NS_DISCO_ITEMS).attr_opt("node", node.map(str::to_owned)))
}

/// A disco#info query of a node (§5.3: its type, leaf or collection; §5.4: its metadata form).
///
/// ```
/// // §5.3, Example 11
/// let iq = moxl_xep::xep_0060_pubsub::node_info(Some("pubsub.shakespeare.lit"), "blogs").build()?;
/// assert!(iq.to_xml().ends_with("<query xmlns='http://jabber.org/protocol/disco#info' node='blogs'/></iq>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn node_info(to: Option<&str>, node: &str) -> ElementBuilder {
    iq_get(to).append(ElementBuilder::new("query", NS_DISCO_INFO).attr("node", node.to_owned()))
}
