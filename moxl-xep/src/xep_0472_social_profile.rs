//! XEP-0472: Pubsub Social Feed, where it applies to microblog posts. Posts are the Atom entries of XEP-0277
//! ([`crate::xep_0277_microblog::Entry`]); this module adds the social feed profiles (node types and their
//! configuration, §6), replies (`thr:in-reply-to` pointing at the post's `xmpp:` URI, §4.4) and repeats (a
//! `via` link and the original author, §4.5).
//!
//! The client declares `urn:xmpp:pubsub-social-feed:1` (§3): it reads and writes social feed posts.

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0060_pubsub::{self as pubsub, NodeUri};
use crate::xep_0277_microblog::{Entry, InReplyTo, Link, Person, Post};

/// `urn:xmpp:pubsub-social-feed:1`: the feature (§3) and the `pubsub#type` of the base profile (§6.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0472_social_profile::NS, "urn:xmpp:pubsub-social-feed:1");
/// ```
pub const NS: &str = "urn:xmpp:pubsub-social-feed:1";

/// `urn:xmpp:pubsub-social-feed:gallery:1`: the `pubsub#type` of the gallery profile (§6.3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0472_social_profile::GALLERY, "urn:xmpp:pubsub-social-feed:gallery:1");
/// ```
pub const GALLERY: &str = "urn:xmpp:pubsub-social-feed:gallery:1";

/// `urn:xmpp:microblog:0`: the `pubsub#type` of the microblog profile (§6.2), on the PEP node of that name.
///
/// ```
/// assert_eq!(moxl_xep::xep_0472_social_profile::MICROBLOG, moxl_xep::xep_0277_microblog::NODE);
/// ```
pub const MICROBLOG: &str = crate::xep_0277_microblog::NODE;

moxl_core::feature!("urn:xmpp:pubsub-social-feed:1");

/// The node configuration of a social feed of type `pubsub_type` (§6.1.1): retractions notified, as many items
/// as the service allows, persistent items, the last item never sent on subscription, notifications without
/// payloads (clients fetch what they do not have).
///
/// ```
/// use moxl_xep::xep_0472_social_profile::{feed_config, NS};
/// let config = feed_config(NS);
/// assert_eq!(config.form_type_value(), Some("http://jabber.org/protocol/pubsub#node_config"));
/// assert_eq!(config.value("pubsub#type"), Some(NS));
/// assert_eq!(config.value("pubsub#max_items"), Some("max"));
/// assert_eq!(config.value("pubsub#send_last_published_item"), Some("never"));
/// ```
pub fn feed_config(pubsub_type: &str) -> DataForm {
    with_profile(pubsub::node_config(), pubsub_type)
}

/// The same profile as publish-options (XEP-0060 §7.1.5), for a node created on first publish.
///
/// ```
/// let options = moxl_xep::xep_0472_social_profile::feed_options(moxl_xep::xep_0472_social_profile::GALLERY);
/// assert_eq!(options.form_type_value(), Some("http://jabber.org/protocol/pubsub#publish-options"));
/// assert_eq!(options.field("pubsub#notify_retract").and_then(|f| f.as_bool()), Some(true));
/// ```
pub fn feed_options(pubsub_type: &str) -> DataForm {
    with_profile(pubsub::publish_options(), pubsub_type)
}

fn with_profile(form: DataForm, pubsub_type: &str) -> DataForm {
    kept(form, pubsub_type)
        .with_value("pubsub#send_last_published_item", "never")
        .with_bool("pubsub#deliver_payloads", false)
}

/// The part of the profile that keeps the posts (§6.1.1): the type, retractions notified, as many items as the
/// service allows, persistent items.
fn kept(form: DataForm, pubsub_type: &str) -> DataForm {
    form.with_value("pubsub#type", pubsub_type)
        .with_bool("pubsub#notify_retract", true)
        .with_value("pubsub#max_items", "max")
        .with_bool("pubsub#persist_items", true)
}

/// The publish-options of a post to our PEP microblog (§6.2, XEP-0060 §7.1.5): the microblog type, every post
/// kept (persistent, as many items as the service allows, retractions notified), and `access_model` (XEP-0060
/// §4.5; `presence`, XEP-0163's default, lets the contacts who see our presence read and follow it; `open`
/// makes it public). Unlike [`feed_options`], notifications carry the posts and the last one is sent to a new
/// follower (the PEP defaults, XEP-0163 §4.3): a contact sees a post when it is published, without fetching it.
///
/// ```
/// let options = moxl_xep::xep_0472_social_profile::microblog_options("presence");
/// assert_eq!(options.form_type_value(), Some("http://jabber.org/protocol/pubsub#publish-options"));
/// assert_eq!(options.value("pubsub#type"), Some("urn:xmpp:microblog:0"));
/// assert_eq!(options.value("pubsub#max_items"), Some("max"));
/// assert_eq!(options.value("pubsub#access_model"), Some("presence"));
/// assert_eq!(options.value("pubsub#deliver_payloads"), None);
/// ```
pub fn microblog_options(access_model: &str) -> DataForm {
    kept(pubsub::publish_options(), MICROBLOG).with_value("pubsub#access_model", access_model)
}

/// The same settings as [`microblog_options`] as a node configuration (XEP-0060 §8.1.3), to create our
/// microblog with where the service does not take them as publish-options (ejabberd 23.01 knows neither
/// `pubsub#type` nor `pubsub#max_items` there).
///
/// ```
/// let config = moxl_xep::xep_0472_social_profile::microblog_config("presence");
/// assert_eq!(config.form_type_value(), Some("http://jabber.org/protocol/pubsub#node_config"));
/// assert_eq!(config.value("pubsub#type"), Some("urn:xmpp:microblog:0"));
/// assert_eq!(config.value("pubsub#access_model"), Some("presence"));
/// ```
pub fn microblog_config(access_model: &str) -> DataForm {
    kept(pubsub::node_config(), MICROBLOG).with_value("pubsub#access_model", access_model)
}

/// The `xmpp:` URI of a post: `service?;node=…;item=…` (§4.3).
///
/// ```
/// assert_eq!(
///     moxl_xep::xep_0472_social_profile::post_uri("news.montague.lit", "montague-family", "1cb57d9c"),
///     "xmpp:news.montague.lit?;node=montague-family;item=1cb57d9c"
/// );
/// ```
pub fn post_uri(service: &str, node: &str, item_id: &str) -> String {
    NodeUri { item: Some(item_id.to_owned()), ..NodeUri::new(service, node) }.to_uri()
}

/// Makes `reply` a reply to `post`, published at `service`/`node` (§4.4): a `thr:in-reply-to` with the post's
/// Atom id and its `xmpp:` URI. `None` if the post has no Atom id or item id.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::Item;
/// use moxl_xep::xep_0277_microblog::{Entry, Post};
/// use moxl_xep::xep_0472_social_profile::reply_to;
/// let item = Element::parse("<item xmlns='http://jabber.org/protocol/pubsub' id='1cb57d9c'><entry xmlns='http://www.w3.org/2005/Atom'>\
///     <title>hanging out</title><id>tag:montague.lit,2008-05-08:posts-1cb57d9c</id></entry></item>")?;
/// let post = Post::from_item(&Item::from_element(&item).unwrap()).unwrap();
/// let reply = reply_to(Entry::new("@romeo cappuccino this late in the day?", "montague.lit", "c4145006"), &post, "news.montague.lit", "montague-family").unwrap();
/// assert_eq!(reply.in_reply_to[0].reference, "tag:montague.lit,2008-05-08:posts-1cb57d9c");
/// assert_eq!(reply.in_reply_to[0].href.as_deref(), Some("xmpp:news.montague.lit?;node=montague-family;item=1cb57d9c"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn reply_to(reply: Entry, post: &Post, service: &str, node: &str) -> Option<Entry> {
    let reference = post.entry.id.as_deref()?;
    let uri = post_uri(service, node, post.item_id.as_deref()?);
    Some(reply.with_in_reply_to(InReplyTo::new(reference, Some(&uri))))
}

/// A repeat of `post`, published at `service`/`node` (§4.5): the same entry under a new item id `new_item_id`,
/// with the original author kept (or `original_author` when the entry names none) and a `via` link to the
/// original post. The entry keeps its Atom id, by which aggregators recognise duplicates (§4.6.1).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::Item;
/// use moxl_xep::xep_0277_microblog::{Person, Post};
/// use moxl_xep::xep_0472_social_profile::repeat;
/// let item = Element::parse("<item xmlns='http://jabber.org/protocol/pubsub' id='1cb57d9c'><entry xmlns='http://www.w3.org/2005/Atom'>\
///     <title>hanging out</title><id>tag:montague.lit,2008-05-08:posts-1cb57d9c</id></entry></item>")?;
/// let post = Post::from_item(&Item::from_element(&item).unwrap()).unwrap();
/// let r = repeat(&post, "news.montague.lit", "montague-family", Person::new("Romeo Montague", Some("xmpp:romeo@montague.lit"))).unwrap();
/// assert_eq!(r.links_by_rel("via").next().unwrap().href, "xmpp:news.montague.lit?;node=montague-family;item=1cb57d9c");
/// assert_eq!(r.authors[0].jid(), Some("romeo@montague.lit"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn repeat(post: &Post, service: &str, node: &str, original_author: Person) -> Option<Entry> {
    let mut entry = post.entry.clone();
    if entry.authors.is_empty() {
        entry.authors.push(original_author);
    }
    entry.links.retain(|l| l.rel.as_deref() != Some("via"));
    Some(entry.with_link(Link::new("via", &post_uri(service, node, post.item_id.as_deref()?))))
}
