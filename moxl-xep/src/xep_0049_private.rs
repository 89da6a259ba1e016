//! XEP-0049: Private XML Storage. Stores an element of our own namespace on our server ([`Set`], §2.1) and
//! reads it back ([`Get`], §2.2). Only our own server answers: requests carry no `to`.
//!
//! XEP-0048 bookmarks are kept this way ([`crate::xep_0048_bookmarks`]); new data should rather go to PEP
//! with `pubsub#access_model` `whitelist` (XEP-0223).

use moxl_core::action;
use moxl_core::stanza::{StanzaError, iq_get, iq_set};
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder, ElementOrBuilder};
use serde::{Deserialize, Serialize};

/// `jabber:iq:private` (§2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0049_private::NS, "jabber:iq:private");
/// ```
pub const NS: &str = "jabber:iq:private";

/// The request for our element `<name xmlns='ns'/>` (§2.2: an IQ-get holding the empty element).
///
/// ```
/// let iq = moxl_xep::xep_0049_private::get("exodus", "exodus:prefs").attr("id", "1001").build()?;
/// // §2.2, Example 3
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' id='1001'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'/></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn get(name: &str, ns: &str) -> ElementBuilder {
    iq_get(None).append(ElementBuilder::new("query", NS).append(ElementBuilder::new(name.to_owned(), ns.to_owned())))
}

/// The request storing `data` (§2.1: an IQ-set; the element replaces what was stored under its name and
/// namespace, which must not be `jabber:client`, `jabber:server` or `jabber:iq:private`, §3).
///
/// ```
/// use moxl_core::xml::ElementBuilder;
/// let prefs = ElementBuilder::new("exodus", "exodus:prefs").append(
///     ElementBuilder::new("defaultnick", "exodus:prefs").text("Hamlet"));
/// let iq = moxl_xep::xep_0049_private::set(prefs).attr("id", "1001").build()?;
/// // §2.1, Example 1
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='set' id='1001'><query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'>\
///      <defaultnick>Hamlet</defaultnick></exodus></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn set(data: impl Into<ElementOrBuilder>) -> ElementBuilder {
    iq_set(None).append(ElementBuilder::new("query", NS).append(data))
}

/// The stored element `<name xmlns='ns'/>` in a result (§2.2). An empty element (nothing was stored) is
/// returned too; check `has_children()`.
///
/// ```
/// use moxl_core::xml::Element;
/// // §2.2, Example 4
/// let r = Element::parse("<iq xmlns='jabber:client' type='result' from='hamlet@shakespeare.lit/denmark' id='1001'>\
///     <query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'><defaultnick>Hamlet</defaultnick></exodus></query></iq>")?;
/// let data = moxl_xep::xep_0049_private::stored(&r, "exodus", "exodus:prefs").unwrap();
/// assert_eq!(data.child_text("defaultnick", "exodus:prefs").as_deref(), Some("Hamlet"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn stored(stanza: &Element, name: &str, ns: &str) -> Option<Element> {
    stanza.child("query", NS)?.child(name, ns)
}

/// Reads our element `<name xmlns='ns'/>` (§2.2). Its `Output` is the stored [`Element`] (private XML has no
/// schema: the element is its view).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `private_get_handle` | the stored [`Element`] (empty when nothing is stored) |
/// | any error | `private_get_error` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0049_private::Get;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let prefs = xec.context().request(Get::new("exodus", "exodus:prefs"))?.await?;
/// println!("{:?}", prefs.child_text("defaultnick", "exodus:prefs"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Get {
    /// The element's name.
    pub name: String,
    /// The element's namespace.
    pub ns: String,
}

impl Get {
    /// A read of `<name xmlns='ns'/>`.
    ///
    /// ```
    /// let g = moxl_xep::xep_0049_private::Get::new("storage", "storage:bookmarks");
    /// assert_eq!((g.name.as_str(), g.ns.as_str()), ("storage", "storage:bookmarks"));
    /// ```
    pub fn new(name: impl Into<String>, ns: impl Into<String>) -> Get {
        Get { name: name.into(), ns: ns.into() }
    }
}

#[action(group = "private")]
impl Get {
    /// The stored element (private XML has no schema: the element is its view); empty when nothing is stored.
    type Output = Element;

    fn request(&self) -> ElementBuilder {
        get(&self.name, &self.ns)
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<Element> {
        match stored(stanza, &self.name, &self.ns) {
            Some(d) => Ok(d),
            None => Ok(ElementBuilder::new(self.name.clone(), self.ns.clone()).build()?),
        }
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Stores an element (§2.1), given as its XML text so that the Action's state can be saved.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `private_set_handle` | none |
/// | any error | `private_set_error` | the [`StanzaError`] |
///
/// ```
/// use moxl_core::xml::ElementBuilder;
/// use moxl_xep::xep_0049_private::Set;
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let prefs = ElementBuilder::new("exodus", "exodus:prefs").text_child("defaultnick", "Hamlet");
/// xec.context().request(Set::new(&prefs.build()?))?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Set {
    /// The element to store, serialized.
    pub xml: String,
}

impl Set {
    /// Stores `data`.
    ///
    /// ```
    /// let e = moxl_core::xml::Element::parse("<a xmlns='urn:a'/>")?;
    /// assert_eq!(moxl_xep::xep_0049_private::Set::new(&e).xml, "<a xmlns='urn:a'/>");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn new(data: &Element) -> Set {
        Set { xml: data.to_xml() }
    }
}

#[action(group = "private")]
impl Set {
    fn request(&self) -> ElementBuilder {
        // The text was made by `to_xml` (or by a caller): if it no longer parses, an empty query goes out
        // and the server refuses it (`bad-format`/`not-acceptable`) into `private_set_error`.
        let query = ElementBuilder::new("query", NS);
        let query = match Element::parse(&self.xml) {
            Ok(e) => query.append(e),
            Err(_) => query,
        };
        iq_set(None).append(query)
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    #[test]
    fn get_and_set_round_trip_through_the_dispatcher() {
        let xec = Xec::new().unwrap();
        let ctx = xec.context();
        let mut got = xec.subscribe("private_get_handle");
        let mut set_ok = xec.subscribe("private_set_handle");
        let mut set_err = xec.subscribe("private_set_error");

        let prefs = Element::parse("<exodus xmlns='exodus:prefs'><defaultnick>Hamlet</defaultnick></exodus>").unwrap();
        let id = ctx.request(Set::new(&prefs)).unwrap().id().to_owned();
        let sent = &xec.take_outgoing()[0];
        assert_eq!(stored(sent, "exodus", "exodus:prefs").unwrap().to_xml(), prefs.to_xml());
        block_on(
            xec.dispatch(Element::parse(&format!("<iq xmlns='jabber:client' type='result' id='{id}'/>")).unwrap()),
        );
        assert!(set_ok.try_recv().is_some());

        let id = ctx.request(Get::new("exodus", "exodus:prefs")).unwrap().id().to_owned();
        xec.take_outgoing();
        // §2.2, Example 4
        block_on(
            xec.dispatch(
                Element::parse(&format!(
                    "<iq xmlns='jabber:client' type='result' id='{id}'><query xmlns='jabber:iq:private'>\
             <exodus xmlns='exodus:prefs'><defaultnick>Hamlet</defaultnick></exodus></query></iq>"
                ))
                .unwrap(),
            ),
        );
        let p = got.try_recv().unwrap();
        assert_eq!(
            p.content::<Element>().unwrap().child_text("defaultnick", "exodus:prefs").as_deref(),
            Some("Hamlet")
        );

        // a result without the element is an empty one
        let id = ctx.request(Get::new("exodus", "exodus:prefs")).unwrap().id().to_owned();
        xec.take_outgoing();
        block_on(
            xec.dispatch(Element::parse(&format!("<iq xmlns='jabber:client' type='result' id='{id}'/>")).unwrap()),
        );
        let p = got.try_recv().unwrap();
        let e = p.content::<Element>().unwrap();
        assert!(e.is("exodus", "exodus:prefs") && !e.has_children());

        // §3, Example 7: storing in jabber:iq:private is refused
        let id = ctx.request(Set { xml: "<x xmlns='jabber:iq:private'/>".into() }).unwrap().id().to_owned();
        xec.take_outgoing();
        block_on(
            xec.dispatch(
                Element::parse(&format!(
                    "<iq xmlns='jabber:client' type='error' id='{id}'><error type='modify'>\
             <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                ))
                .unwrap(),
            ),
        );
        assert!(set_err.try_recv().unwrap().content::<StanzaError>().is_some());
    }
}
