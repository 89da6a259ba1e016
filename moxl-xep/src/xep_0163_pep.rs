//! XEP-0163: Personal Eventing Protocol. Every account is a virtual pubsub service at its bare JID: publishing
//! to it needs no `to` (§3, §4), nodes are created on first publish with the default configuration or the
//! publish-options given (auto-create, §4.2), and contacts with a presence subscription get the events of the
//! nodes whose `NODE+notify` feature their client announces in its entity capabilities (filtered
//! notifications, §4.3, §9.2).
//!
//! The builders, views and Actions are those of XEP-0060 ([`crate::xep_0060_pubsub`]) with `to` set to `None`
//! (our account) or a contact's bare JID; this module adds what is particular to PEP: the `+notify` feature of a
//! node, and the check that an event really comes from a PEP service.
//!
//! A module that wants a node's notifications declares the feature with
//! `moxl_core::feature!("urn:xmpp:microblog:0+notify")` (a literal: the disco answer and caps hash are computed
//! from the declared features), and registers a Payload for the node:
//! `#[payload(name = "event", ns = "http://jabber.org/protocol/pubsub#event", node = "urn:xmpp:microblog:0",
//! at = "child")]` (see [`crate::xep_0277_microblog`]): `at = "child"` because the `<event/>` is a direct
//! child of the message (XEP-0060 §7.1.2), so one inside a forwarded or archived message never matches. The
//! Payload delivers a type of its own (not a bare [`Event`]), so that `xec.events::<T>()` gets that node's
//! events alone.

use moxl_core::xml::{ElementBuilder, ElementOrBuilder};

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0060_pubsub::{self as pubsub, Event};

/// The disco feature that asks for the notifications of `node` (`node+notify`, §4.3.1, §9.2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0163_pep::notify_feature("urn:xmpp:microblog:0"), "urn:xmpp:microblog:0+notify");
/// ```
pub fn notify_feature(node: &str) -> String {
    format!("{node}+notify")
}

/// Publishes to a node of our own PEP service (§4.1; the node is created if missing, §4.2).
///
/// ```
/// use moxl_core::xml::ElementBuilder;
/// // §4.1, Example 5 (tune abridged)
/// let tune = ElementBuilder::new("tune", "http://jabber.org/protocol/tune").text_child("artist", "Gerald Finzi");
/// let iq = moxl_xep::xep_0163_pep::publish("http://jabber.org/protocol/tune", None, tune).build()?;
/// assert_eq!(iq.attr("to"), None);
/// assert!(iq.to_xml().contains("<publish node='http://jabber.org/protocol/tune'><item><tune xmlns='http://jabber.org/protocol/tune'>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn publish(node: &str, id: Option<&str>, payload: impl Into<ElementOrBuilder>) -> ElementBuilder {
    pubsub::publish(None, node, id, payload)
}

/// Publishes to our own PEP service with publish-options (XEP-0060 §7.1.5): a node that does not exist yet is
/// created with them (§4.2); one configured otherwise refuses with `precondition-not-met`.
///
/// ```
/// use moxl_core::xml::ElementBuilder;
/// use moxl_xep::xep_0060_pubsub::publish_options;
/// let iq = moxl_xep::xep_0163_pep::publish_with_options("urn:example", Some("current"), ElementBuilder::new("x", "urn:example"),
///     &publish_options().with_value("pubsub#access_model", "open")).build()?;
/// assert!(iq.to_xml().contains("<publish-options>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn publish_with_options(
    node: &str,
    id: Option<&str>,
    payload: impl Into<ElementOrBuilder>,
    options: &DataForm,
) -> ElementBuilder {
    pubsub::publish_with_options(None, node, id, payload, options)
}

/// The items of `node` of `jid`'s PEP service (`None`: ours), e.g. the last published item of a contact's node
/// after going online (§4.3.3 sends it by itself to contacts that announced `+notify`).
///
/// ```
/// let iq = moxl_xep::xep_0163_pep::items(Some("juliet@capulet.lit"), "urn:xmpp:microblog:0").build()?;
/// assert!(iq.to_xml().starts_with("<iq xmlns='jabber:client' type='get' to='juliet@capulet.lit'>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn items(jid: Option<&str>, node: &str) -> ElementBuilder {
    pubsub::items(jid, node)
}

/// Whether an event comes from a PEP service: its sender is a bare JID with a local part (an account, §1), not
/// a full JID (a client, which cannot send events on its account's behalf) nor a domain (a pubsub component).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::Event;
/// use moxl_xep::xep_0163_pep::is_pep_event;
/// let event = |from: &str| Event::from_message(&Element::parse(&format!("<message xmlns='jabber:client' from='{from}'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><purge node='n'/></event></message>")).unwrap()).unwrap();
/// assert!(is_pep_event(&event("juliet@capulet.lit")));
/// assert!(!is_pep_event(&event("juliet@capulet.lit/balcony")));
/// assert!(!is_pep_event(&event("pubsub.capulet.lit")));
/// ```
pub fn is_pep_event(event: &Event) -> bool {
    event.from.as_deref().is_some_and(|from| from.contains('@') && !from.contains('/'))
}
