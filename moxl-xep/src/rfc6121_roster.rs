//! RFC 6121 §2: the roster. For now the roster get (§2.1.3) with a typed view of its items; pushes, sets,
//! versioning and subscriptions come with the instant-messaging milestone.

use moxl_core::action;
use moxl_core::stanza::iq_get;
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

/// `jabber:iq:roster` (RFC 6121 §2.1).
pub const NS: &str = "jabber:iq:roster";

moxl_core::feature!("jabber:iq:roster");

/// One roster item (RFC 6121 §2.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The groups the contact is in.
    pub groups: Vec<String>,
}

impl RosterItem {
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
            groups: item.children().filter(|g| g.is("group", NS)).map(|g| g.text().into_owned()).collect(),
        })
    }

    /// The items of a `<query xmlns='jabber:iq:roster'/>` inside a stanza.
    pub fn all_in(stanza: &Element) -> Vec<RosterItem> {
        stanza
            .child("query", NS)
            .into_iter()
            .flat_map(|q| q.children())
            .filter_map(|i| Self::from_element(&i))
            .collect()
    }
}

/// Gets the roster (RFC 6121 §2.1.3). Delivers `roster_get_handle` with a `Vec<RosterItem>`.
///
/// ```
/// use moxl_xep::rfc6121_roster::Get;
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let mut items = xec.subscribe("roster_get_handle");
/// xec.context().request(Get)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Get;

#[action(group = "roster")]
impl Get {
    fn request(&self) -> ElementBuilder {
        iq_get(None).append(ElementBuilder::new("query", NS))
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) {
        ctx.pack(RosterItem::all_in(stanza)).deliver();
    }
}
