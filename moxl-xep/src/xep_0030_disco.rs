//! XEP-0030: Service Discovery. Asks an entity what it is and supports ([`InfoQuery`], §3) and which items it
//! has ([`ItemsQuery`], §4), delivering typed views ([`DiscoInfo`], [`DiscoItems`]); answers such queries for
//! the client ([`DiscoInfoAnswer`], [`DiscoItemsAnswer`]).
//!
//! Our disco#info is computed, never hand-kept: the identity is the controller's [`DiscoIdentity`] extension
//! (default `client/pc/moxl`), the features are every feature declared with `moxl_core::feature!` by every
//! linked crate (moxl-core, moxl-xep, the application's own: `Registry::features`), and the extended forms
//! (XEP-0128) are the [`ExtendedInfo`] extension. The same data
//! gives the entity-capabilities hash ([`crate::xep_0115_caps`]) that goes into our presence.

use std::fmt;
use std::sync::Arc;

use moxl_core::stanza::{Condition, StanzaError, error_reply, iq_get, iq_result};
use moxl_core::xec::{Context, Payload, Registry};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0128_extended_disco::{ExtendedInfo, extended_forms};

/// `http://jabber.org/protocol/disco#info` (§3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0030_disco::NS_INFO, "http://jabber.org/protocol/disco#info");
/// ```
pub const NS_INFO: &str = "http://jabber.org/protocol/disco#info";

/// `http://jabber.org/protocol/disco#items` (§4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0030_disco::NS_ITEMS, "http://jabber.org/protocol/disco#items");
/// ```
pub const NS_ITEMS: &str = "http://jabber.org/protocol/disco#items";

// §3.1: an entity that answers disco#info queries MUST return the disco#info feature; we answer items too.
moxl_core::feature!("http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items");

/// An identity (§3.1, `<identity category='…' type='…' name='…' xml:lang='…'/>`).
///
/// ```
/// use moxl_xep::xep_0030_disco::Identity;
/// let i = Identity::new("client", "pc").with_name("Exodus 0.9.1");
/// assert_eq!(
///     i.to_element().build()?.to_xml(),
///     "<identity xmlns='http://jabber.org/protocol/disco#info' category='client' type='pc' name='Exodus 0.9.1'/>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Identity {
    /// The category (`client`, `server`, `conference`, `pubsub`…; the registry of XEP-0030 §9).
    pub category: String,
    /// The type within the category (`pc`, `web`, `im`, `text`…), the `type` attribute.
    pub kind: String,
    /// The language of the name (`xml:lang`).
    pub lang: Option<String>,
    /// A natural-language name.
    pub name: Option<String>,
}

impl Identity {
    /// An identity without a name or language.
    ///
    /// ```
    /// let i = moxl_xep::xep_0030_disco::Identity::new("server", "im");
    /// assert_eq!((i.category.as_str(), i.kind.as_str(), i.name), ("server", "im", None));
    /// ```
    pub fn new(category: impl Into<String>, kind: impl Into<String>) -> Identity {
        Identity { category: category.into(), kind: kind.into(), lang: None, name: None }
    }

    /// With a name.
    ///
    /// ```
    /// let i = moxl_xep::xep_0030_disco::Identity::new("client", "pc").with_name("moxl");
    /// assert_eq!(i.name.as_deref(), Some("moxl"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Identity {
        self.name = Some(name.into());
        self
    }

    /// With the language of its name.
    ///
    /// ```
    /// let i = moxl_xep::xep_0030_disco::Identity::new("client", "pc").with_lang("en");
    /// assert_eq!(i.lang.as_deref(), Some("en"));
    /// ```
    pub fn with_lang(mut self, lang: impl Into<String>) -> Identity {
        self.lang = Some(lang.into());
        self
    }

    /// Reads an `<identity/>`; `None` without its required `category` and `type` (§3.1).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0030_disco::Identity;
    /// let e = Element::parse("<identity xmlns='http://jabber.org/protocol/disco#info' category='conference' type='text' name='Play-Specific Chatrooms'/>")?;
    /// assert_eq!(Identity::from_element(&e), Some(Identity::new("conference", "text").with_name("Play-Specific Chatrooms")));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(identity: &Element) -> Option<Identity> {
        if !identity.is("identity", NS_INFO) {
            return None;
        }
        Some(Identity {
            category: identity.attr("category")?.into_owned(),
            kind: identity.attr("type")?.into_owned(),
            lang: identity.attr("xml:lang").map(|l| l.into_owned()),
            name: identity.attr("name").map(|n| n.into_owned()),
        })
    }

    /// The `<identity/>` element.
    ///
    /// ```
    /// let e = moxl_xep::xep_0030_disco::Identity::new("client", "pc").with_lang("en").to_element().build()?;
    /// assert_eq!(e.attr("xml:lang").as_deref(), Some("en"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("identity", NS_INFO)
            .attr("category", self.category.clone())
            .attr("type", self.kind.clone())
            .attr_opt("xml:lang", self.lang.clone())
            .attr_opt("name", self.name.clone())
    }
}

/// What an entity (or one of its nodes) is and supports: the `<query xmlns='…disco#info'/>` of a result
/// (§3.1), with the extended forms of XEP-0128.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0030_disco::{DiscoInfo, Identity};
/// // XEP-0030 §3.1, Example 2 (shortened)
/// let result = Element::parse("<iq xmlns='jabber:client' type='result' from='plays.shakespeare.lit' to='romeo@montague.net/orchard' id='info1'>\
///     <query xmlns='http://jabber.org/protocol/disco#info'>\
///     <identity category='conference' type='text' name='Play-Specific Chatrooms'/>\
///     <identity category='directory' type='chatroom' name='Play-Specific Chatrooms'/>\
///     <feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/muc'/>\
///     </query></iq>")?;
/// let info = DiscoInfo::from_stanza(&result).unwrap();
/// assert_eq!(info.identities[0], Identity::new("conference", "text").with_name("Play-Specific Chatrooms"));
/// assert!(info.has_feature("http://jabber.org/protocol/muc"));
/// assert!(info.has_identity("directory", "chatroom"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoInfo {
    /// The node queried, if any (§3.2).
    pub node: Option<String>,
    /// The identities, in document order.
    pub identities: Vec<Identity>,
    /// The feature `var`s, in document order.
    pub features: Vec<String>,
    /// The extended information forms (XEP-0128), in document order.
    pub extensions: Vec<DataForm>,
}

impl DiscoInfo {
    /// Reads a `<query xmlns='…disco#info'/>`; identities without their required attributes and features
    /// without a `var` are skipped. `None` if it is not such a query.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let q = Element::parse("<query xmlns='http://jabber.org/protocol/disco#info' node='n'><feature var='urn:xmpp:ping'/><feature/></query>")?;
    /// let info = moxl_xep::xep_0030_disco::DiscoInfo::from_query(&q).unwrap();
    /// assert_eq!((info.node.as_deref(), info.features.len()), (Some("n"), 1));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_query(query: &Element) -> Option<DiscoInfo> {
        if !query.is("query", NS_INFO) {
            return None;
        }
        let mut info = DiscoInfo {
            node: query.attr("node").map(|n| n.into_owned()),
            extensions: extended_forms(query),
            ..DiscoInfo::default()
        };
        for child in query.children() {
            if let Some(identity) = Identity::from_element(&child) {
                info.identities.push(identity);
            } else if child.is("feature", NS_INFO)
                && let Some(var) = child.attr("var")
            {
                info.features.push(var.into_owned());
            }
        }
        Some(info)
    }

    /// Reads the query of a result stanza (see [`from_query`](Self::from_query)).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let r = Element::parse("<iq xmlns='jabber:client' type='result' id='1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")?;
    /// assert!(moxl_xep::xep_0030_disco::DiscoInfo::from_stanza(&r).is_some());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<DiscoInfo> {
        DiscoInfo::from_query(&stanza.child("query", NS_INFO)?)
    }

    /// Whether `var` is among the features.
    ///
    /// ```
    /// let info = moxl_xep::xep_0030_disco::DiscoInfo { features: vec!["urn:xmpp:ping".into()], ..Default::default() };
    /// assert!(info.has_feature("urn:xmpp:ping") && !info.has_feature("urn:xmpp:time"));
    /// ```
    pub fn has_feature(&self, var: &str) -> bool {
        self.features.iter().any(|f| f == var)
    }

    /// Whether an identity has this category and type.
    ///
    /// ```
    /// use moxl_xep::xep_0030_disco::{DiscoInfo, Identity};
    /// let info = DiscoInfo { identities: vec![Identity::new("server", "im")], ..Default::default() };
    /// assert!(info.has_identity("server", "im"));
    /// ```
    pub fn has_identity(&self, category: &str, kind: &str) -> bool {
        self.identities.iter().any(|i| i.category == category && i.kind == kind)
    }

    /// The extended form whose `FORM_TYPE` is `form_type` (XEP-0128).
    ///
    /// ```
    /// use moxl_xep::xep_0004_data_forms::{DataForm, FormType};
    /// use moxl_xep::xep_0030_disco::DiscoInfo;
    /// let mut form = DataForm::submit(Some("urn:xmpp:dataforms:softwareinfo")).with_value("software", "Psi");
    /// form.form_type = FormType::Result;
    /// let info = DiscoInfo { extensions: vec![form], ..Default::default() };
    /// assert_eq!(info.extension("urn:xmpp:dataforms:softwareinfo").and_then(|f| f.value("software")), Some("Psi"));
    /// ```
    pub fn extension(&self, form_type: &str) -> Option<&DataForm> {
        self.extensions.iter().find(|f| f.form_type_value() == Some(form_type))
    }

    /// The `<query/>`: identities, features and forms in this order.
    ///
    /// ```
    /// use moxl_xep::xep_0030_disco::{DiscoInfo, Identity};
    /// let info = DiscoInfo {
    ///     identities: vec![Identity::new("client", "pc").with_name("moxl")],
    ///     features: vec!["urn:xmpp:ping".into()],
    ///     ..Default::default()
    /// };
    /// assert_eq!(
    ///     info.to_query().build()?.to_xml(),
    ///     "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='client' type='pc' name='moxl'/><feature var='urn:xmpp:ping'/></query>"
    /// );
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_query(&self) -> ElementBuilder {
        let mut query = ElementBuilder::new("query", NS_INFO).attr_opt("node", self.node.clone());
        for identity in &self.identities {
            query.push(identity.to_element());
        }
        for var in &self.features {
            query.push(ElementBuilder::new("feature", NS_INFO).attr("var", var.clone()));
        }
        for form in &self.extensions {
            query.push(form.to_element());
        }
        query
    }

    /// Our own disco#info: `identity`, the features declared by every linked module (sorted, deduplicated) and
    /// the extended `forms`.
    ///
    /// ```
    /// use moxl_xep::xep_0030_disco::{DiscoIdentity, DiscoInfo};
    /// let info = DiscoInfo::ours(&DiscoIdentity::default(), &[])?;
    /// assert!(info.has_identity("client", "pc"));
    /// assert!(info.has_feature("http://jabber.org/protocol/disco#info") && info.has_feature("urn:xmpp:ping"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn ours(identity: &DiscoIdentity, forms: &[DataForm]) -> moxl_core::Result<DiscoInfo> {
        Ok(DiscoInfo {
            node: None,
            identities: vec![identity.to_identity()],
            features: Registry::global()?.features().map(str::to_owned).collect(),
            extensions: forms.to_vec(),
        })
    }
}

/// Our disco#info for the controller of `ctx`: its [`DiscoIdentity`] and
/// [`ExtendedInfo`] extensions (or the defaults), and the registry's features.
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_xep::xep_0030_disco::{our_info, DiscoIdentity};
/// let xec = Xec::builder().extension(DiscoIdentity::new("client", "web", "Movim")).build()?;
/// let info = our_info(&xec.context())?;
/// assert_eq!(info.identities[0].name.as_deref(), Some("Movim"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn our_info(ctx: &Context) -> moxl_core::Result<DiscoInfo> {
    let default = DiscoIdentity::default();
    let identity = ctx.get::<DiscoIdentity>().unwrap_or(&default);
    let forms = ctx.get::<ExtendedInfo>().map_or(&[][..], |e| e.forms.as_slice());
    DiscoInfo::ours(identity, forms)
}

/// The identity the client announces (§3.1): give it with `Xec::builder().extension(DiscoIdentity { … })`. The
/// default is `client/pc` named `moxl`; a browser-based application announces `client/web`, a phone
/// `client/phone` (the registry of XEP-0030 §9).
///
/// ```
/// use moxl_xep::xep_0030_disco::DiscoIdentity;
/// let d = DiscoIdentity::default();
/// assert_eq!((d.category.as_str(), d.kind.as_str(), d.name.as_deref()), ("client", "pc", Some("moxl")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoIdentity {
    /// The category (`client` for a client).
    pub category: String,
    /// The type (`pc`, `web`, `phone`, `bot`…).
    pub kind: String,
    /// The name shown to people.
    pub name: Option<String>,
}

impl Default for DiscoIdentity {
    fn default() -> Self {
        DiscoIdentity::new("client", "pc", "moxl")
    }
}

impl DiscoIdentity {
    /// An identity with a name.
    ///
    /// ```
    /// let d = moxl_xep::xep_0030_disco::DiscoIdentity::new("client", "web", "Movim");
    /// assert_eq!(d.kind, "web");
    /// ```
    pub fn new(category: impl Into<String>, kind: impl Into<String>, name: impl Into<String>) -> DiscoIdentity {
        DiscoIdentity { category: category.into(), kind: kind.into(), name: Some(name.into()) }
    }

    /// As an [`Identity`] (no language).
    ///
    /// ```
    /// use moxl_xep::xep_0030_disco::{DiscoIdentity, Identity};
    /// assert_eq!(DiscoIdentity::default().to_identity(), Identity::new("client", "pc").with_name("moxl"));
    /// ```
    pub fn to_identity(&self) -> Identity {
        Identity { category: self.category.clone(), kind: self.kind.clone(), lang: None, name: self.name.clone() }
    }
}

/// One item of a disco#items result (§4.1): a JID, and optionally a node and a name.
///
/// ```
/// use moxl_xep::xep_0030_disco::Item;
/// let item = Item::new("people.shakespeare.lit").with_name("Directory of Characters");
/// assert_eq!(
///     item.to_element().build()?.to_xml(),
///     "<item xmlns='http://jabber.org/protocol/disco#items' jid='people.shakespeare.lit' name='Directory of Characters'/>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The item's JID (required).
    pub jid: String,
    /// Its node, if it is a node of that JID (§4.2).
    pub node: Option<String>,
    /// A natural-language name.
    pub name: Option<String>,
}

impl Item {
    /// An item with only a JID.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0030_disco::Item::new("conference.localhost").jid, "conference.localhost");
    /// ```
    pub fn new(jid: impl Into<String>) -> Item {
        Item { jid: jid.into(), node: None, name: None }
    }

    /// With a node.
    ///
    /// ```
    /// let i = moxl_xep::xep_0030_disco::Item::new("pubsub.lit").with_node("princely_musings");
    /// assert_eq!(i.node.as_deref(), Some("princely_musings"));
    /// ```
    pub fn with_node(mut self, node: impl Into<String>) -> Item {
        self.node = Some(node.into());
        self
    }

    /// With a name.
    ///
    /// ```
    /// let i = moxl_xep::xep_0030_disco::Item::new("a.lit").with_name("A");
    /// assert_eq!(i.name.as_deref(), Some("A"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Item {
        self.name = Some(name.into());
        self
    }

    /// Reads an `<item/>`; `None` without its required `jid`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let e = Element::parse("<item xmlns='http://jabber.org/protocol/disco#items' jid='catalog.shakespeare.lit' node='books' name='Books by and about Shakespeare'/>")?;
    /// let item = moxl_xep::xep_0030_disco::Item::from_element(&e).unwrap();
    /// assert_eq!(item.node.as_deref(), Some("books"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(item: &Element) -> Option<Item> {
        if !item.is("item", NS_ITEMS) {
            return None;
        }
        Some(Item {
            jid: item.attr("jid")?.into_owned(),
            node: item.attr("node").map(|n| n.into_owned()),
            name: item.attr("name").map(|n| n.into_owned()),
        })
    }

    /// The `<item/>` element.
    ///
    /// ```
    /// let e = moxl_xep::xep_0030_disco::Item::new("a.lit").with_node("n").to_element().build()?;
    /// assert_eq!(e.attr("node").as_deref(), Some("n"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("item", NS_ITEMS)
            .attr("jid", self.jid.clone())
            .attr_opt("node", self.node.clone())
            .attr_opt("name", self.name.clone())
    }
}

/// The items of an entity or node: the `<query xmlns='…disco#items'/>` of a result (§4.1).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0030_disco::{DiscoItems, Item};
/// // XEP-0030 §4.1, Example 10 (shortened)
/// let result = Element::parse("<iq xmlns='jabber:client' type='result' from='shakespeare.lit' to='romeo@montague.net/orchard' id='items1'>\
///     <query xmlns='http://jabber.org/protocol/disco#items'>\
///     <item jid='people.shakespeare.lit' name='Directory of Characters'/>\
///     <item jid='plays.shakespeare.lit' name='Play-Specific Chatrooms'/></query></iq>")?;
/// let items = DiscoItems::from_stanza(&result).unwrap();
/// assert_eq!(items.items[1], Item::new("plays.shakespeare.lit").with_name("Play-Specific Chatrooms"));
/// assert!(items.has_jid("people.shakespeare.lit"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoItems {
    /// The node queried, if any (§4.2).
    pub node: Option<String>,
    /// The items, in document order (those without a `jid` skipped).
    pub items: Vec<Item>,
}

impl DiscoItems {
    /// Reads a `<query xmlns='…disco#items'/>`; `None` if it is not one.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let q = Element::parse("<query xmlns='http://jabber.org/protocol/disco#items' node='music'/>")?;
    /// assert_eq!(moxl_xep::xep_0030_disco::DiscoItems::from_query(&q).unwrap().node.as_deref(), Some("music"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_query(query: &Element) -> Option<DiscoItems> {
        if !query.is("query", NS_ITEMS) {
            return None;
        }
        Some(DiscoItems {
            node: query.attr("node").map(|n| n.into_owned()),
            items: query.children().filter_map(|c| Item::from_element(&c)).collect(),
        })
    }

    /// Reads the query of a result stanza.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let r = Element::parse("<iq xmlns='jabber:client' type='result' id='1'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>")?;
    /// assert!(moxl_xep::xep_0030_disco::DiscoItems::from_stanza(&r).unwrap().items.is_empty());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<DiscoItems> {
        DiscoItems::from_query(&stanza.child("query", NS_ITEMS)?)
    }

    /// Whether an item has this JID.
    ///
    /// ```
    /// use moxl_xep::xep_0030_disco::{DiscoItems, Item};
    /// let items = DiscoItems { node: None, items: vec![Item::new("conference.localhost")] };
    /// assert!(items.has_jid("conference.localhost"));
    /// ```
    pub fn has_jid(&self, jid: &str) -> bool {
        self.items.iter().any(|i| i.jid == jid)
    }

    /// The `<query/>`.
    ///
    /// ```
    /// use moxl_xep::xep_0030_disco::{DiscoItems, Item};
    /// let q = DiscoItems { node: None, items: vec![Item::new("a.lit")] }.to_query().build()?;
    /// assert_eq!(q.to_xml(), "<query xmlns='http://jabber.org/protocol/disco#items'><item jid='a.lit'/></query>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_query(&self) -> ElementBuilder {
        let mut query = ElementBuilder::new("query", NS_ITEMS).attr_opt("node", self.node.clone());
        for item in &self.items {
            query.push(item.to_element());
        }
        query
    }
}

/// The disco#info query to `to` (§3.1), of one of its nodes if `node` is given (§3.2).
///
/// ```
/// let iq = moxl_xep::xep_0030_disco::info_query(Some("plays.shakespeare.lit"), None).attr("id", "info1").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='plays.shakespeare.lit' id='info1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn info_query(to: Option<&str>, node: Option<&str>) -> ElementBuilder {
    iq_get(to).append(ElementBuilder::new("query", NS_INFO).attr_opt("node", node.map(str::to_owned)))
}

/// The disco#items query to `to` (§4.1), of one of its nodes if `node` is given (§4.2).
///
/// ```
/// let iq = moxl_xep::xep_0030_disco::items_query(Some("shakespeare.lit"), Some("music")).attr("id", "i").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='shakespeare.lit' id='i'><query xmlns='http://jabber.org/protocol/disco#items' node='music'/></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn items_query(to: Option<&str>, node: Option<&str>) -> ElementBuilder {
    iq_get(to).append(ElementBuilder::new("query", NS_ITEMS).attr_opt("node", node.map(str::to_owned)))
}

/// Whether the stanza is an `iq` `get` (`Some(true)`) or `set` (`Some(false)`); `None` for anything else. (The
/// query is the iq's child: the Payloads are registered `at = "child"`, [`answer_info`] and [`answer_items`] read
/// the child.)
fn request_type(stanza: &Element) -> Option<bool> {
    if !stanza.is("iq", moxl_core::xml::ns::CLIENT) {
        return None;
    }
    match stanza.attr("type").as_deref() {
        Some("get") => Some(true),
        Some("set") => Some(false),
        _ => None,
    }
}

/// The answer to a disco#info request (an `iq` `get` holding `<query xmlns='…disco#info'/>`) given our info:
/// the info itself without a node; for the node `<caps node>#<ver>` (XEP-0115 §6.2) or a XEP-0390 capability
/// hash node of that info (`urn:xmpp:caps#sha-256.…`, XEP-0390 §5, Service Discovery Query for a Specific Hash
/// Value), the same info with that node; `item-not-found` for any other node (§3.2); `bad-request` to a `set`.
/// `None` if the stanza is no such request.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0030_disco::{answer_info, DiscoInfo, Identity};
/// let ours = DiscoInfo { identities: vec![Identity::new("client", "pc")], ..Default::default() };
/// let get = Element::parse("<iq xmlns='jabber:client' type='get' from='romeo@montague.net/orchard' id='info1'>\
///     <query xmlns='http://jabber.org/protocol/disco#info' node='nope'/></iq>")?;
/// let reply = answer_info(&get, &ours, "https://crates.io/crates/moxl#abc=").unwrap().build()?;
/// assert!(reply.to_xml().contains("<item-not-found"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn answer_info(stanza: &Element, ours: &DiscoInfo, caps_node: &str) -> Option<ElementBuilder> {
    let query = stanza.child("query", NS_INFO)?;
    if !request_type(stanza)? {
        return Some(error_reply(stanza, &StanzaError::new(Condition::BadRequest)));
    }
    match query.attr("node") {
        None => Some(iq_result(stanza).append(ours.to_query())),
        Some(node) if node == caps_node || crate::xep_0390_caps2::is_hash_node_of(&node, ours) => {
            let with_node = DiscoInfo { node: Some(node.into_owned()), ..ours.clone() };
            Some(iq_result(stanza).append(with_node.to_query()))
        }
        Some(_) => Some(error_reply(stanza, &StanzaError::new(Condition::ItemNotFound))),
    }
}

/// Answers disco#info queries to the client (§3.1) with [`our_info`], and those to the entity-capabilities node
/// `<node>#<ver>` (XEP-0115 §6.2) or to one of our capability hash nodes (XEP-0390 §5) with the same; other
/// nodes get `item-not-found`. Delivers no Packet.
///
/// ```
/// let registry = moxl_core::xec::Registry::global()?;
/// assert!(registry.handles("query", moxl_xep::xep_0030_disco::NS_INFO));
/// assert!(registry.features().any(|f| f == moxl_xep::xep_0030_disco::NS_INFO));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[payload(name = "query", ns = "http://jabber.org/protocol/disco#info", at = "child")]
#[derive(Debug, Default)]
pub struct DiscoInfoAnswer;

impl Payload for DiscoInfoAnswer {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        if request_type(stanza).is_none() {
            return Ok(());
        }
        let ours = our_info(ctx)?;
        let caps = crate::xep_0115_caps::Caps::of(&ours, crate::xep_0115_caps::caps_node(ctx));
        match answer_info(stanza, &ours, &caps.node_ver()) {
            Some(reply) => ctx.send(reply),
            None => Ok(()),
        }
    }
}

/// The application's disco#items (§4): given the queried node (`None` for the client itself) and the asker's
/// JID, the items, or `None` for a node it does not know (answered `item-not-found`). Give it with
/// `Xec::builder().extension(DiscoItemsProvider::new(…))`; without one, the client has no items and no nodes.
///
/// ```
/// use moxl_xep::xep_0030_disco::{DiscoItemsProvider, Item};
/// let provider = DiscoItemsProvider::new(|node, _from| match node {
///     None => Some(vec![Item::new("juliet@capulet.lit/balcony").with_node("urn:xmpp:microblog:0")]),
///     Some(_) => None,
/// });
/// assert_eq!(provider.items(None, "romeo@montague.lit/orchard").map(|i| i.len()), Some(1));
/// assert!(provider.items(Some("x"), "romeo@montague.lit/orchard").is_none());
/// ```
#[derive(Clone)]
pub struct DiscoItemsProvider(Arc<ItemsFn>);

/// What a [`DiscoItemsProvider`] calls: (node, asker) → items, or `None` for an unknown node.
type ItemsFn = dyn Fn(Option<&str>, &str) -> Option<Vec<Item>> + Send + Sync;

impl DiscoItemsProvider {
    /// A provider from a function of (node, asker).
    ///
    /// ```
    /// let none = moxl_xep::xep_0030_disco::DiscoItemsProvider::new(|_, _| Some(Vec::new()));
    /// assert_eq!(none.items(None, "a@b/c"), Some(Vec::new()));
    /// ```
    pub fn new(items: impl Fn(Option<&str>, &str) -> Option<Vec<Item>> + Send + Sync + 'static) -> Self {
        DiscoItemsProvider(Arc::new(items))
    }

    /// The items of `node` for `from`.
    ///
    /// ```
    /// let p = moxl_xep::xep_0030_disco::DiscoItemsProvider::new(|node, _| node.is_none().then(Vec::new));
    /// assert!(p.items(None, "a@b/c").is_some() && p.items(Some("n"), "a@b/c").is_none());
    /// ```
    pub fn items(&self, node: Option<&str>, from: &str) -> Option<Vec<Item>> {
        (self.0)(node, from)
    }
}

impl fmt::Debug for DiscoItemsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DiscoItemsProvider(..)")
    }
}

/// The answer to a disco#items request given the application's provider (none: no items, no nodes):
/// the items, `item-not-found` for an unknown node (§4.2), `bad-request` to a `set`. `None` if the stanza is no
/// such request.
///
/// ```
/// use moxl_core::xml::Element;
/// let get = Element::parse("<iq xmlns='jabber:client' type='get' from='romeo@montague.net/orchard' id='items1'>\
///     <query xmlns='http://jabber.org/protocol/disco#items'/></iq>")?;
/// let reply = moxl_xep::xep_0030_disco::answer_items(&get, None).unwrap().build()?;
/// assert_eq!(
///     reply.to_xml(),
///     "<iq xmlns='jabber:client' type='result' id='items1' to='romeo@montague.net/orchard'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn answer_items(stanza: &Element, provider: Option<&DiscoItemsProvider>) -> Option<ElementBuilder> {
    let query = stanza.child("query", NS_ITEMS)?;
    if !request_type(stanza)? {
        return Some(error_reply(stanza, &StanzaError::new(Condition::BadRequest)));
    }
    let node = query.attr("node");
    let from = stanza.attr("from").unwrap_or_default();
    let items = match provider {
        Some(p) => p.items(node.as_deref(), &from),
        None => node.is_none().then(Vec::new),
    };
    match items {
        Some(items) => {
            let result = DiscoItems { node: node.map(|n| n.into_owned()), items };
            Some(iq_result(stanza).append(result.to_query()))
        }
        None => Some(error_reply(stanza, &StanzaError::new(Condition::ItemNotFound))),
    }
}

/// Answers disco#items queries to the client (§4) with the controller's [`DiscoItemsProvider`], or with no
/// items. Delivers no Packet.
///
/// ```
/// assert!(moxl_core::xec::Registry::global()?.handles("query", moxl_xep::xep_0030_disco::NS_ITEMS));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[payload(name = "query", ns = "http://jabber.org/protocol/disco#items", at = "child")]
#[derive(Debug, Default)]
pub struct DiscoItemsAnswer;

impl Payload for DiscoItemsAnswer {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        if request_type(stanza).is_none() {
            return Ok(());
        }
        match answer_items(stanza, ctx.get::<DiscoItemsProvider>()) {
            Some(reply) => ctx.send(reply),
            None => Ok(()),
        }
    }
}

/// Asks `to` (or one of its nodes) what it is and supports (§3). Output: its [`DiscoInfo`]; an error reply is
/// `Err(Error::Stanza(..))`, no reply `Err(Error::Timeout(..))`. The same info is also delivered as a Packet
/// (the second view; its sender is the entity that answered):
///
/// | answer | Packet key |
/// |---|---|
/// | result | `disco_infoquery_handle` |
/// | error (`item-not-found`: no such node, `service-unavailable`: no such entity or not allowed, §3.2, §7) | `disco_infoquery_error<condition>` (content: the `StanzaError`) |
/// | none before the timeout | `disco_infoquery_timeout` |
///
/// ```
/// use moxl_xep::xep_0030_disco::InfoQuery;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let info = xec.context().request(InfoQuery::new("capulet.lit"))?.await?;
/// let has_muc = info.has_feature("http://jabber.org/protocol/muc");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InfoQuery {
    /// The entity asked.
    pub to: String,
    /// The node asked, if any.
    pub node: Option<String>,
}

impl InfoQuery {
    /// A query of the entity itself.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0030_disco::InfoQuery::new("capulet.lit").node, None);
    /// ```
    pub fn new(to: impl Into<String>) -> InfoQuery {
        InfoQuery { to: to.into(), node: None }
    }

    /// A query of one of its nodes.
    ///
    /// ```
    /// let q = moxl_xep::xep_0030_disco::InfoQuery::node("pubsub.lit", "princely_musings");
    /// assert_eq!(q.node.as_deref(), Some("princely_musings"));
    /// ```
    pub fn node(to: impl Into<String>, node: impl Into<String>) -> InfoQuery {
        InfoQuery { to: to.into(), node: Some(node.into()) }
    }
}

#[action(group = "disco")]
impl InfoQuery {
    /// The entity's (or node's) identities, features and extensions.
    type Output = DiscoInfo;

    fn request(&self) -> ElementBuilder {
        info_query(Some(&self.to), self.node.as_deref())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<DiscoInfo> {
        Ok(DiscoInfo::from_stanza(stanza)
            .unwrap_or_else(|| DiscoInfo { node: self.node.clone(), ..DiscoInfo::default() }))
    }
}

/// Asks `to` (or one of its nodes) for its items (§4). Output: the [`DiscoItems`]; an error reply is
/// `Err(Error::Stanza(..))`, no reply `Err(Error::Timeout(..))`. The same items are also delivered as a Packet
/// (the second view):
///
/// | answer | Packet key |
/// |---|---|
/// | result | `disco_itemsquery_handle` |
/// | error | `disco_itemsquery_error<condition>` (content: the `StanzaError`) |
/// | none before the timeout | `disco_itemsquery_timeout` |
///
/// ```
/// use moxl_xep::xep_0030_disco::ItemsQuery;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let items = xec.context().request(ItemsQuery::new("capulet.lit"))?.await?;
/// let services: Vec<&str> = items.items.iter().map(|i| i.jid.as_str()).collect();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemsQuery {
    /// The entity asked.
    pub to: String,
    /// The node asked, if any.
    pub node: Option<String>,
}

impl ItemsQuery {
    /// A query of the entity's items.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0030_disco::ItemsQuery::new("capulet.lit").to, "capulet.lit");
    /// ```
    pub fn new(to: impl Into<String>) -> ItemsQuery {
        ItemsQuery { to: to.into(), node: None }
    }

    /// A query of the items of one of its nodes.
    ///
    /// ```
    /// let q = moxl_xep::xep_0030_disco::ItemsQuery::node("shakespeare.lit", "music");
    /// assert_eq!(q.node.as_deref(), Some("music"));
    /// ```
    pub fn node(to: impl Into<String>, node: impl Into<String>) -> ItemsQuery {
        ItemsQuery { to: to.into(), node: Some(node.into()) }
    }
}

#[action(group = "disco")]
impl ItemsQuery {
    /// The entity's (or node's) items.
    type Output = DiscoItems;

    fn request(&self) -> ElementBuilder {
        items_query(Some(&self.to), self.node.as_deref())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<DiscoItems> {
        Ok(DiscoItems::from_stanza(stanza).unwrap_or_else(|| DiscoItems { node: self.node.clone(), items: Vec::new() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    /// §3.1, Example 2.
    const EXAMPLE_2: &str = "<iq xmlns='jabber:client' type='result' from='plays.shakespeare.lit' to='romeo@montague.net/orchard' id='info1'>\
        <query xmlns='http://jabber.org/protocol/disco#info'>\
        <identity category='conference' type='text' name='Play-Specific Chatrooms'/>\
        <identity category='directory' type='chatroom' name='Play-Specific Chatrooms'/>\
        <feature var='http://jabber.org/protocol/disco#info'/>\
        <feature var='http://jabber.org/protocol/disco#items'/>\
        <feature var='http://jabber.org/protocol/muc'/>\
        <feature var='jabber:iq:register'/>\
        <feature var='jabber:iq:search'/>\
        <feature var='jabber:iq:time'/>\
        <feature var='jabber:iq:version'/>\
        </query></iq>";

    #[test]
    fn the_spec_info_result_parses_and_round_trips() {
        let info = DiscoInfo::from_stanza(&Element::parse(EXAMPLE_2).unwrap()).unwrap();
        assert_eq!(info.identities.len(), 2);
        assert_eq!(info.features.len(), 7);
        assert!(info.has_feature("jabber:iq:search"));
        let again = DiscoInfo::from_query(&info.to_query().build().unwrap()).unwrap();
        assert_eq!(again, info);
    }

    #[test]
    fn items_with_nodes_parse_and_round_trip() {
        // §4.2, Example 18 (shortened)
        let xml = "<iq xmlns='jabber:client' type='result' from='catalog.shakespeare.lit' to='romeo@montague.net/orchard' id='items3'>\
            <query xmlns='http://jabber.org/protocol/disco#items' node='books'>\
            <item jid='catalog.shakespeare.lit' node='books/ham' name='Hamlet'/>\
            <item jid='catalog.shakespeare.lit' node='books/mac' name='Macbeth'/>\
            <item name='no jid'/></query></iq>";
        let items = DiscoItems::from_stanza(&Element::parse(xml).unwrap()).unwrap();
        assert_eq!(items.node.as_deref(), Some("books"));
        assert_eq!(items.items.len(), 2, "an item without a jid is skipped");
        assert_eq!(items.items[1], Item::new("catalog.shakespeare.lit").with_node("books/mac").with_name("Macbeth"));
        assert_eq!(DiscoItems::from_query(&items.to_query().build().unwrap()).unwrap(), items);
    }

    #[test]
    fn our_info_is_the_registry_union_sorted_with_the_default_identity() {
        let xec = Xec::new().unwrap();
        let info = our_info(&xec.context()).unwrap();
        assert_eq!(info.identities, [Identity::new("client", "pc").with_name("moxl")]);
        let mut sorted = info.features.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(info.features, sorted);
        for f in [NS_INFO, NS_ITEMS, "urn:xmpp:ping", "jabber:iq:version", "http://jabber.org/protocol/caps"] {
            assert!(info.has_feature(f), "{f}");
        }
    }

    #[test]
    fn the_client_answers_info_caps_node_items_and_refuses_unknown_nodes() {
        let xec = Xec::builder().extension(DiscoIdentity::new("client", "web", "Movim")).build().unwrap();
        let get = |q: &str| {
            Element::parse(&format!("<iq xmlns='jabber:client' type='get' from='romeo@montague.net/orchard' to='juliet@capulet.com/balcony' id='q1'>{q}</iq>")).unwrap()
        };
        block_on(xec.dispatch(get("<query xmlns='http://jabber.org/protocol/disco#info'/>")));
        let out = xec.take_outgoing();
        assert_eq!(out.len(), 1);
        let info = DiscoInfo::from_stanza(&out[0]).unwrap();
        assert_eq!(info.identities, [Identity::new("client", "web").with_name("Movim")]);
        assert_eq!(info, our_info(&xec.context()).unwrap());

        let caps = crate::xep_0115_caps::our_caps(&xec.context()).unwrap();
        let node = caps.node_ver();
        block_on(xec.dispatch(get(&format!("<query xmlns='http://jabber.org/protocol/disco#info' node='{node}'/>"))));
        let out = xec.take_outgoing();
        let at_node = DiscoInfo::from_stanza(&out[0]).unwrap();
        assert_eq!(at_node.node.as_deref(), Some(node.as_str()));
        assert_eq!(at_node.features, info.features);

        for q in [
            "<query xmlns='http://jabber.org/protocol/disco#info' node='http://example.org#other'/>",
            "<query xmlns='http://jabber.org/protocol/disco#items' node='x'/>",
        ] {
            block_on(xec.dispatch(get(q)));
            let out = xec.take_outgoing();
            assert!(out[0].to_xml().contains("<item-not-found"), "{q}");
        }
        block_on(xec.dispatch(get("<query xmlns='http://jabber.org/protocol/disco#items'/>")));
        let items = DiscoItems::from_stanza(&xec.take_outgoing()[0]).unwrap();
        assert!(items.items.is_empty());
        // a disco#info query inside a message is not answered
        block_on(xec.dispatch(
            Element::parse("<message xmlns='jabber:client' from='a@b/c'><query xmlns='http://jabber.org/protocol/disco#info'/></message>").unwrap(),
        ));
        assert!(xec.take_outgoing().is_empty());
    }

    #[test]
    fn the_items_provider_answers_items() {
        let provider = DiscoItemsProvider::new(|node, _| match node {
            None => Some(vec![Item::new("juliet@capulet.com/balcony").with_node("n1")]),
            Some("n1") => Some(vec![Item::new("juliet@capulet.com/balcony").with_name("leaf")]),
            Some(_) => None,
        });
        let xec = Xec::builder().extension(provider).build().unwrap();
        let get = Element::parse("<iq xmlns='jabber:client' type='get' from='romeo@montague.net/orchard' id='q1'><query xmlns='http://jabber.org/protocol/disco#items' node='n1'/></iq>").unwrap();
        block_on(xec.dispatch(get));
        let items = DiscoItems::from_stanza(&xec.take_outgoing()[0]).unwrap();
        assert_eq!(items.node.as_deref(), Some("n1"));
        assert_eq!(items.items[0].name.as_deref(), Some("leaf"));
    }

    #[test]
    fn queries_deliver_typed_views() {
        let xec = Xec::new().unwrap();
        let mut infos = xec.subscribe("disco_infoquery_handle");
        let mut items = xec.subscribe("disco_itemsquery_handle");
        let mut errors = xec.subscribe("disco_infoquery_erroritemnotfound");
        let out = xec.context().request(InfoQuery::new("plays.shakespeare.lit")).unwrap();
        let id = out.id().to_owned();
        let sent = xec.take_outgoing();
        assert_eq!(sent[0].child("query", NS_INFO).map(|q| q.has_attr("node")), Some(false));
        block_on(xec.dispatch(Element::parse(&EXAMPLE_2.replace("id='info1'", &format!("id='{id}'"))).unwrap()));
        // the typed view: the requester's DiscoInfo
        let info = block_on(out).unwrap();
        assert_eq!(info.features.len(), 7);
        assert!(info.has_feature("http://jabber.org/protocol/muc"));
        // the second view: the Packet, from the entity that answered
        let p = infos.try_recv().unwrap();
        assert_eq!(p.from(), Some("plays.shakespeare.lit"));
        assert!(p.content::<DiscoInfo>().unwrap().has_identity("conference", "text"));

        let out = xec.context().request(InfoQuery::node("plays.shakespeare.lit", "nope")).unwrap();
        let id = out.id().to_owned();
        block_on(xec.dispatch(Element::parse(&format!("<iq xmlns='jabber:client' type='error' from='plays.shakespeare.lit' id='{id}'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")).unwrap()));
        assert!(errors.try_recv().is_some());
        match block_on(out) {
            Err(moxl_core::Error::Stanza(e)) => assert_eq!(e.condition(), Some(Condition::ItemNotFound)),
            other => panic!("{other:?}"),
        }

        let out = xec.context().request(ItemsQuery::new("shakespeare.lit")).unwrap();
        let id = out.id().to_owned();
        block_on(xec.dispatch(Element::parse(&format!("<iq xmlns='jabber:client' type='result' from='shakespeare.lit' id='{id}'><query xmlns='http://jabber.org/protocol/disco#items'><item jid='people.shakespeare.lit'/></query></iq>")).unwrap()));
        assert!(block_on(out).unwrap().has_jid("people.shakespeare.lit"));
        assert!(items.try_recv().unwrap().content::<DiscoItems>().unwrap().has_jid("people.shakespeare.lit"));
    }
}
