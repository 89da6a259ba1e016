//! XEP-0330: Pubsub Subscription. The list of pubsub nodes an account follows, kept (and shared, if the user
//! wishes) in its PEP node `urn:xmpp:pubsub:subscription` (§1): one item per followed node, holding a
//! `<subscription xmlns='urn:xmpp:pubsub:subscription:0' server='…' node='…'><title/></subscription>` (§2),
//! whose id is derived from the server, the node and the account (§2.1), so that following a node twice
//! overwrites one item and unfollowing retracts it.

use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::xep_0060_pubsub::{self as pubsub, Item};

/// `urn:xmpp:pubsub:subscription`: the PEP node of the list (§1, §4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0330_pubsub_subscription::NODE, "urn:xmpp:pubsub:subscription");
/// ```
pub const NODE: &str = "urn:xmpp:pubsub:subscription";

/// `urn:xmpp:pubsub:subscription:0`: the namespace of the `<subscription/>` payload (§4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0330_pubsub_subscription::NS, "urn:xmpp:pubsub:subscription:0");
/// ```
pub const NS: &str = "urn:xmpp:pubsub:subscription:0";

/// The item id of a followed node (§2.1): the hex SHA-1 of `server<node<account`.
///
/// ```
/// // §2.1 and §4, Example 2
/// assert_eq!(
///     moxl_xep::xep_0330_pubsub_subscription::item_id("pubsub.shakespeare.lit", "party", "romeo@montague.lit"),
///     "0bc0e76cb803b3b107aa369169d8c0d45086f844"
/// );
/// ```
pub fn item_id(server: &str, node: &str, account: &str) -> String {
    let digest = Sha1::digest(format!("{server}<{node}<{account}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A followed node (§2): the service, the node, and a title (optional, in the node's language, §5).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0330_pubsub_subscription::FollowedNode;
/// let s = Element::parse("<subscription xmlns='urn:xmpp:pubsub:subscription:0' server='pubsub.shakespeare.lit' node='party'>\
///     <title>Party at the Capulets</title></subscription>")?;
/// let f = FollowedNode::from_element(&s).unwrap();
/// assert_eq!((f.server.as_str(), f.node.as_str(), f.title.as_deref()), ("pubsub.shakespeare.lit", "party", Some("Party at the Capulets")));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FollowedNode {
    /// The pubsub service.
    pub server: String,
    /// The node.
    pub node: String,
    /// A title.
    pub title: Option<String>,
}

impl FollowedNode {
    /// A followed node.
    pub fn new(server: &str, node: &str, title: Option<&str>) -> FollowedNode {
        FollowedNode { server: server.to_owned(), node: node.to_owned(), title: title.map(str::to_owned) }
    }

    /// Reads a `<subscription/>` (both attributes are required, §2).
    pub fn from_element(e: &Element) -> Option<FollowedNode> {
        if !e.is("subscription", NS) {
            return None;
        }
        Some(FollowedNode {
            server: e.attr("server")?.into_owned(),
            node: e.attr("node")?.into_owned(),
            title: e.child_text("title", NS),
        })
    }

    /// The followed nodes of a list's items (an items result or an event's items).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0060_pubsub::Item;
    /// use moxl_xep::xep_0330_pubsub_subscription::FollowedNode;
    /// let result = Element::parse("<iq xmlns='jabber:client' type='result' id='items1'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
    ///     <items node='urn:xmpp:pubsub:subscription'><item id='0bc0e76cb803b3b107aa369169d8c0d45086f844'>\
    ///     <subscription xmlns='urn:xmpp:pubsub:subscription:0' server='pubsub.shakespeare.lit' node='party'/></item></items></pubsub></iq>")?;
    /// assert_eq!(FollowedNode::all_in(&Item::all_in(&result))[0].node, "party");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(items: &[Item]) -> Vec<FollowedNode> {
        items.iter().filter_map(|i| FollowedNode::from_element(i.payload.as_ref()?)).collect()
    }

    /// The `<subscription/>` payload.
    ///
    /// ```
    /// let f = moxl_xep::xep_0330_pubsub_subscription::FollowedNode::new("pubsub.shakespeare.lit", "party", Some("Party at the Capulets"));
    /// assert_eq!(f.to_element().build()?.to_xml(),
    ///     "<subscription xmlns='urn:xmpp:pubsub:subscription:0' server='pubsub.shakespeare.lit' node='party'><title>Party at the Capulets</title></subscription>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        let e =
            ElementBuilder::new("subscription", NS).attr("server", self.server.clone()).attr("node", self.node.clone());
        match &self.title {
            Some(t) => e.text_child("title", t.clone()),
            None => e,
        }
    }
}

/// Adds (or updates) a followed node in our list (§4, Examples 2 and 4); `account` is our bare JID, part of
/// the item id.
///
/// ```
/// use moxl_xep::xep_0330_pubsub_subscription::{follow, FollowedNode};
/// let iq = follow(&FollowedNode::new("pubsub.shakespeare.lit", "party", None), "romeo@montague.lit").build()?;
/// assert!(iq.to_xml().contains("<publish node='urn:xmpp:pubsub:subscription'><item id='0bc0e76cb803b3b107aa369169d8c0d45086f844'>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn follow(followed: &FollowedNode, account: &str) -> ElementBuilder {
    let id = item_id(&followed.server, &followed.node, account);
    pubsub::publish(None, NODE, Some(&id), followed.to_element())
}

/// Removes a followed node from our list (§4, Example 3).
///
/// ```
/// let iq = moxl_xep::xep_0330_pubsub_subscription::unfollow("pubsub.shakespeare.lit", "party", "romeo@montague.lit").build()?;
/// assert!(iq.to_xml().contains("<retract node='urn:xmpp:pubsub:subscription' notify='true'><item id='0bc0e76cb803b3b107aa369169d8c0d45086f844'/>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn unfollow(server: &str, node: &str, account: &str) -> ElementBuilder {
    pubsub::retract(None, NODE, &item_id(server, node, account), true)
}

/// The list of `jid` (`None`: ours), §4 Example 1; read the result with [`FollowedNode::all_in`] (or request
/// a [`pubsub::Items`] for this node).
///
/// ```
/// let iq = moxl_xep::xep_0330_pubsub_subscription::list(Some("romeo@montague.lit")).build()?;
/// assert!(iq.to_xml().contains("<items node='urn:xmpp:pubsub:subscription'/>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn list(jid: Option<&str>) -> ElementBuilder {
    pubsub::items(jid, NODE)
}
