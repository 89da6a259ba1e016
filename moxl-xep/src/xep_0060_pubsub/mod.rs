//! XEP-0060: Publish-Subscribe, from the side of a client (subscriber, publisher, node owner).
//!
//! - [`stanza`]: builders for every request a client sends: discovery (§5), subscribe/unsubscribe and
//!   subscription options (§6.1–§6.4), items retrieval with paging (§6.5, XEP-0059), publish with
//!   publish-options and retract (§7.1, §7.2), create/configure/delete/purge (§8.1–§8.5), and the owner's
//!   subscription and affiliation management (§8.8, §8.9).
//! - [`view`]: typed views of what comes back: [`Item`], [`Event`] (items, retractions, purge, delete,
//!   configuration, subscription: §7.1.2, §7.2.2, §8.2.4, §8.4, §8.5, §8.8.4), [`Subscription`],
//!   [`Affiliation`], [`PubsubError`] (the `pubsub#errors` application conditions, §7.1.3 and others).
//! - [`actions`]: Actions for each request (group `pubsub`).
//! - [`payloads`]: [`PubsubEvent`], which delivers every event notification as an [`Event`].
//!
//! This module declares no disco feature: pubsub features belong to the service. A module that wants
//! notifications of a PEP node (XEP-0163) declares `NODE+notify` itself.
//!
//! # Event notifications by node
//!
//! The dispatcher gives an element the pubsub node of its own `node` attribute, or else that of its first child
//! (see `moxl::xec`). An event notification is `<message><event xmlns='…#event'><items node='X'>…`, so a
//! Payload registered with `name = "event", ns = NS_EVENT, node = "X"` fires for every event of node `X`
//! (items, retract, purge, delete, configuration, subscription), and one with `name = "items"` only for the
//! `<items/>` (publications and retractions) of that node. Read the element with [`Event::from_message`]:
//!
//! ```
//! use moxl_core::xec::{Context, Payload, Xec};
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0060_pubsub::{Event, EventKind};
//!
//! /// The events of one node (the example's own node, `princely_musings`, XEP-0060 §7.1.2.1).
//! #[moxl_core::payload(name = "event", ns = "http://jabber.org/protocol/pubsub#event", node = "princely_musings", at = "child")]
//! #[derive(Default)]
//! struct Musings;
//!
//! impl Payload for Musings {
//!     async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
//!         if let Some(event) = Event::from_message(stanza) {
//!             ctx.pack(event).deliver(); // key: musings
//!         }
//!         Ok(())
//!     }
//! }
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
//! # }
//! # block_on(async {
//! let xec = Xec::new()?;
//! let mut musings = xec.subscribe("musings");
//! xec.dispatch(Element::parse("<message xmlns='jabber:client' from='pubsub.shakespeare.lit' to='francisco@denmark.lit' id='foo'>\
//!     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='princely_musings'>\
//!     <item id='ae890ac52d0df67ed7cfdf51b644e901'><entry xmlns='http://www.w3.org/2005/Atom'><title>Soliloquy</title></entry></item>\
//!     </items></event></message>")?).await;
//! let event = musings.try_recv().unwrap();
//! let event = event.content::<Event>().unwrap();
//! assert_eq!(event.node, "princely_musings");
//! let EventKind::Items { items, .. } = &event.kind else { panic!() };
//! assert_eq!(items[0].id.as_deref(), Some("ae890ac52d0df67ed7cfdf51b644e901"));
//! # Ok::<(), moxl_core::Error>(()) }).unwrap();
//! ```

pub mod actions;
pub mod payloads;
pub mod stanza;
pub mod view;

pub use actions::*;
pub use payloads::*;
pub use stanza::*;
pub use view::*;

/// `http://jabber.org/protocol/pubsub` (§3): the requests of subscribers and publishers.
///
/// ```
/// assert_eq!(moxl_xep::xep_0060_pubsub::NS, "http://jabber.org/protocol/pubsub");
/// ```
pub const NS: &str = "http://jabber.org/protocol/pubsub";

/// `http://jabber.org/protocol/pubsub#event` (§3): event notifications.
///
/// ```
/// assert_eq!(moxl_xep::xep_0060_pubsub::NS_EVENT, "http://jabber.org/protocol/pubsub#event");
/// ```
pub const NS_EVENT: &str = "http://jabber.org/protocol/pubsub#event";

/// `http://jabber.org/protocol/pubsub#owner` (§3): the requests of node owners.
///
/// ```
/// assert_eq!(moxl_xep::xep_0060_pubsub::NS_OWNER, "http://jabber.org/protocol/pubsub#owner");
/// ```
pub const NS_OWNER: &str = "http://jabber.org/protocol/pubsub#owner";

/// `http://jabber.org/protocol/pubsub#errors` (§3): application-specific error conditions.
///
/// ```
/// assert_eq!(moxl_xep::xep_0060_pubsub::NS_ERRORS, "http://jabber.org/protocol/pubsub#errors");
/// ```
pub const NS_ERRORS: &str = "http://jabber.org/protocol/pubsub#errors";

/// `http://jabber.org/protocol/pubsub#publish-options`: the `FORM_TYPE` of publish-options (§7.1.5, §16.4.5).
///
/// ```
/// assert_eq!(moxl_xep::xep_0060_pubsub::NS_PUBLISH_OPTIONS, "http://jabber.org/protocol/pubsub#publish-options");
/// ```
pub const NS_PUBLISH_OPTIONS: &str = "http://jabber.org/protocol/pubsub#publish-options";

/// `http://jabber.org/protocol/pubsub#node_config`: the `FORM_TYPE` of node configuration forms (§8.2, §16.4.4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0060_pubsub::NS_NODE_CONFIG, "http://jabber.org/protocol/pubsub#node_config");
/// ```
pub const NS_NODE_CONFIG: &str = "http://jabber.org/protocol/pubsub#node_config";

/// `http://jabber.org/protocol/pubsub#subscribe_options`: the `FORM_TYPE` of subscription options (§6.3,
/// §16.4.2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0060_pubsub::NS_SUBSCRIBE_OPTIONS, "http://jabber.org/protocol/pubsub#subscribe_options");
/// ```
pub const NS_SUBSCRIBE_OPTIONS: &str = "http://jabber.org/protocol/pubsub#subscribe_options";

/// `http://jabber.org/protocol/disco#items` (XEP-0030), with which nodes and items are discovered (§5.2, §5.5).
///
/// ```
/// assert_eq!(moxl_xep::xep_0060_pubsub::NS_DISCO_ITEMS, "http://jabber.org/protocol/disco#items");
/// ```
pub const NS_DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";

/// `http://jabber.org/protocol/disco#info` (XEP-0030), with which a node's type and metadata are read (§5.3,
/// §5.4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0060_pubsub::NS_DISCO_INFO, "http://jabber.org/protocol/disco#info");
/// ```
pub const NS_DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use crate::xep_0059_rsm::SetQuery;
    use moxl_core::stanza::StanzaError;
    use moxl_core::xec::{Context, Payload, Xec};
    use moxl_core::xml::{Element, ElementBuilder};

    const SERVICE: &str = "pubsub.shakespeare.lit";

    /// A test-only handler of one node, registered the way modules register theirs.
    #[moxl_core::payload(
        name = "event",
        ns = "http://jabber.org/protocol/pubsub#event",
        node = "princely_musings",
        at = "child"
    )]
    #[derive(Default)]
    struct PubsubTestMusings;

    impl Payload for PubsubTestMusings {
        async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
            if let Some(e) = Event::from_message(stanza) {
                ctx.pack(e).deliver();
            }
            Ok(())
        }
    }

    /// Sends `action`, answers it with `reply` (its id filled in) from `from`.
    fn round_trip<A: moxl_core::xec::Action>(xec: &Xec, action: A, from: &str, reply: &str) -> Element {
        let id = xec.context().request(action).unwrap().id().to_owned();
        let sent = xec.take_outgoing().pop().unwrap();
        let reply = reply.replace("ID", &id).replace("FROM", from);
        block_on(xec.dispatch(Element::parse(&reply).unwrap()));
        sent
    }

    #[test]
    fn events_reach_the_handler_of_their_node_and_the_generic_one() {
        let xec = Xec::new().unwrap();
        let (mut node, mut all) = (xec.subscribe("pubsubtestmusings"), xec.subscribe("pubsubevent"));
        // §7.1.2.1 Example 102 (entry abridged), §7.2.2.1 Example 117, §8.5.2 Example 178, §8.2.4 Example 164
        for xml in [
            "<items node='princely_musings'><item id='ae890ac52d0df67ed7cfdf51b644e901'>\
             <entry xmlns='http://www.w3.org/2005/Atom'><title>Soliloquy</title></entry></item></items>",
            "<items node='princely_musings'><retract id='ae890ac52d0df67ed7cfdf51b644e901'/></items>",
            "<purge node='princely_musings'/>",
            "<configuration node='princely_musings'><x xmlns='jabber:x:data' type='result'>\
             <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>\
             <field var='pubsub#title'><value>Princely Musings (Atom)</value></field></x></configuration>",
            "<subscription node='princely_musings' jid='horatio@denmark.lit' subscription='subscribed'/>",
        ] {
            let m = format!(
                "<message xmlns='jabber:client' from='{SERVICE}' to='francisco@denmark.lit' id='foo'>\
                 <event xmlns='http://jabber.org/protocol/pubsub#event'>{xml}</event></message>"
            );
            block_on(xec.dispatch(Element::parse(&m).unwrap()));
            let a = node.try_recv().unwrap();
            let b = all.try_recv().unwrap();
            for e in [a.content::<Event>().unwrap(), b.content::<Event>().unwrap()] {
                assert_eq!((e.node.as_str(), e.from.as_deref()), ("princely_musings", Some(SERVICE)));
            }
        }
        // another node: only the generic handler
        let other = "<message xmlns='jabber:client' from='pubsub.shakespeare.lit'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
                     <purge node='other'/></event></message>";
        block_on(xec.dispatch(Element::parse(other).unwrap()));
        assert!(node.try_recv().is_none());
        assert_eq!(all.try_recv().unwrap().content::<Event>().unwrap().node, "other");
        // an event inside a forwarded message is not one of ours
        let nested = "<message xmlns='jabber:client' from='a@b'><forwarded xmlns='urn:xmpp:forward:0'>\
                      <event xmlns='http://jabber.org/protocol/pubsub#event'><purge node='x'/></event></forwarded></message>";
        block_on(xec.dispatch(Element::parse(nested).unwrap()));
        assert!(all.try_recv().is_none());
    }

    #[test]
    fn event_kinds_are_read() {
        let event = |inner: &str| {
            Event::from_message(
                &Element::parse(&format!(
                    "<message xmlns='jabber:client' from='s'><event xmlns='http://jabber.org/protocol/pubsub#event'>{inner}</event></message>"
                ))
                .unwrap(),
            )
        };
        let Some(Event { kind: EventKind::Configuration { form: Some(form) }, .. }) = event(
            "<configuration node='n'><x xmlns='jabber:x:data' type='result'><field var='pubsub#title'><value>T</value></field></x></configuration>",
        ) else {
            panic!("configuration")
        };
        assert_eq!(form.value("pubsub#title"), Some("T"));
        let Some(Event { kind: EventKind::Subscription(s), .. }) =
            event("<subscription node='n' jid='horatio@denmark.lit' subscription='pending'/>")
        else {
            panic!("subscription")
        };
        assert_eq!(s.state, Some(SubscriptionState::Pending));
        // a notification without payload (§7.1.2.2)
        let Some(Event { kind: EventKind::Items { items, .. }, .. }) = event("<items node='n'><item id='i'/></items>")
        else {
            panic!("items")
        };
        assert!(items[0].payload.is_none());
        assert!(event("<items/>").is_none(), "no node");
        assert!(event("<collection node='c'/>").is_none());
        let error = "<message xmlns='jabber:client' type='error' from='s'><event xmlns='http://jabber.org/protocol/pubsub#event'><purge node='n'/></event></message>";
        assert!(Event::from_message(&Element::parse(error).unwrap()).is_none());
    }

    #[test]
    fn publish_delivers_the_item_id_the_service_assigned() {
        let xec = Xec::new().unwrap();
        let mut published = xec.subscribe("pubsub_publish_handle");
        let entry = ElementBuilder::new("entry", "http://www.w3.org/2005/Atom").text_child("title", "Soliloquy");
        let sent = round_trip(
            &xec,
            Publish::new(Some(SERVICE), "princely_musings", None, entry).unwrap(),
            SERVICE,
            // §7.1.2, Example 101
            "<iq xmlns='jabber:client' type='result' from='FROM' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
             <publish node='princely_musings'><item id='ae890ac52d0df67ed7cfdf51b644e901'/></publish></pubsub></iq>",
        );
        let item = sent.child("pubsub", NS).unwrap().child("publish", NS).unwrap().child("item", NS).unwrap();
        assert_eq!(item.attr("id"), None);
        assert_eq!(
            item.first_child().unwrap().child_text("title", "http://www.w3.org/2005/Atom").as_deref(),
            Some("Soliloquy")
        );
        let p = published.try_recv().unwrap();
        assert_eq!(p.content::<Published>().unwrap().id.as_deref(), Some("ae890ac52d0df67ed7cfdf51b644e901"));
        // an empty result: the id we asked for
        round_trip(
            &xec,
            Publish::new(None, "n", Some("mine"), ElementBuilder::new("x", "urn:x")).unwrap(),
            "",
            "<iq xmlns='jabber:client' type='result' id='ID'/>",
        );
        assert_eq!(published.try_recv().unwrap().content::<Published>().unwrap().id.as_deref(), Some("mine"));
    }

    #[test]
    fn precondition_not_met_is_delivered_with_its_pubsub_condition() {
        let xec = Xec::new().unwrap();
        let mut conflicts = xec.subscribe("pubsub_publish_errorconflict");
        let publish = Publish::new(None, "n", Some("i"), ElementBuilder::new("x", "urn:x"))
            .unwrap()
            .with_options(publish_options().with_value("pubsub#access_model", "whitelist"));
        round_trip(
            &xec,
            publish,
            "",
            // §7.1.5, Example 128
            "<iq xmlns='jabber:client' type='error' id='ID'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <precondition-not-met xmlns='http://jabber.org/protocol/pubsub#errors'/></error></iq>",
        );
        let p = conflicts.try_recv().unwrap();
        assert!(is_precondition_not_met(p.content::<StanzaError>().unwrap()));
    }

    #[test]
    fn items_and_pages_are_delivered() {
        let xec = Xec::new().unwrap();
        let (mut items, mut pages) = (xec.subscribe("pubsub_items_handle"), xec.subscribe("pubsub_itemspage_handle"));
        let result = "<iq xmlns='jabber:client' type='result' from='FROM' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
            <items node='princely_musings'><item id='a'><x xmlns='urn:x'/></item><item id='b'><x xmlns='urn:x'/></item></items>\
            <set xmlns='http://jabber.org/protocol/rsm'><first index='0'>a</first><last>b</last><count>19</count></set></pubsub></iq>";
        let sent = round_trip(&xec, Items::new(Some(SERVICE), "princely_musings").max_items(2), SERVICE, result);
        assert_eq!(sent.first_child().unwrap().first_child().unwrap().attr("max_items").as_deref(), Some("2"));
        let got = items.try_recv().unwrap();
        let got = got.content::<Vec<Item>>().unwrap();
        assert_eq!(got.iter().map(|i| i.id.clone().unwrap()).collect::<Vec<_>>(), ["a", "b"]);
        let sent = round_trip(
            &xec,
            ItemsPage::new(Some(SERVICE), "princely_musings", SetQuery::max(2).after("z")),
            SERVICE,
            result,
        );
        assert!(sent.first_child().unwrap().child("set", crate::xep_0059_rsm::NS).is_some());
        let page = pages.try_recv().unwrap();
        let page = page.content::<Page>().unwrap();
        assert_eq!((page.items.len(), page.set.as_ref().and_then(|s| s.last.as_deref())), (2, Some("b")));
    }

    #[test]
    fn owner_and_subscriber_actions_deliver_their_views() {
        let xec = Xec::new().unwrap();
        let mut subs = xec.subscribe("pubsub_subscribe_handle");
        round_trip(
            &xec,
            Subscribe::new(Some(SERVICE), "princely_musings", "francisco@denmark.lit"),
            SERVICE,
            // §6.1.4, Example 37: configuration required
            "<iq xmlns='jabber:client' type='result' from='FROM' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
             <subscription node='princely_musings' jid='francisco@denmark.lit' subscription='unconfigured'>\
             <subscribe-options><required/></subscribe-options></subscription></pubsub></iq>",
        );
        let s = subs.try_recv().unwrap();
        let s = s.content::<Subscription>().unwrap();
        assert!(s.options_required && s.state == Some(SubscriptionState::Unconfigured));

        let mut created = xec.subscribe("pubsub_create_handle");
        round_trip(
            &xec,
            Create::new(Some(SERVICE), None),
            SERVICE,
            // §8.1.2, Example 138
            "<iq xmlns='jabber:client' type='result' from='FROM' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
             <create node='25e3d37dabbab9541f7523321421edc5bfeb2dae'/></pubsub></iq>",
        );
        assert_eq!(
            created.try_recv().unwrap().content::<String>().unwrap(),
            "25e3d37dabbab9541f7523321421edc5bfeb2dae"
        );

        let mut affs = xec.subscribe("pubsub_nodeaffiliations_handle");
        round_trip(
            &xec,
            NodeAffiliations::new(Some(SERVICE), "princely_musings"),
            SERVICE,
            // §8.9.1, Example 196
            "<iq xmlns='jabber:client' type='result' from='FROM' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>\
             <affiliations node='princely_musings'><affiliation jid='hamlet@denmark.lit' affiliation='owner'/>\
             <affiliation jid='polonius@denmark.lit' affiliation='outcast'/></affiliations></pubsub></iq>",
        );
        let a = affs.try_recv().unwrap();
        let a = a.content::<Vec<Affiliation>>().unwrap();
        assert_eq!(a[1].jid.as_deref(), Some("polonius@denmark.lit"));
        assert_eq!(a[1].node.as_deref(), Some("princely_musings"));

        let mut config = xec.subscribe("pubsub_getconfig_handle");
        round_trip(
            &xec,
            GetConfig::new(Some(SERVICE), "princely_musings"),
            SERVICE,
            "<iq xmlns='jabber:client' type='result' from='FROM' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>\
             <configure node='princely_musings'><x xmlns='jabber:x:data' type='form'>\
             <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>\
             <field var='pubsub#max_items' type='text-single'><value>10</value></field></x></configure></pubsub></iq>",
        );
        let form = config.try_recv().unwrap();
        let submission = form.content::<crate::xep_0004_data_forms::DataForm>().unwrap().submission();
        let sent = Configure::new(Some(SERVICE), "princely_musings", submission.with_value("pubsub#max_items", "20"))
            .request_stanza()
            .build()
            .unwrap();
        let f = config_form(&sent).unwrap();
        assert_eq!(f.value("pubsub#max_items"), Some("20"));
        assert_eq!(f.form_type_value(), Some(NS_NODE_CONFIG));
    }

    /// Sends `action`, answers it with `reply` (its id filled in) and awaits its typed `Output`.
    fn awaited<A: moxl_core::xec::Action>(xec: &Xec, action: A, reply: &str) -> moxl_core::Result<A::Output> {
        let request = xec.context().request(action)?;
        let reply = reply.replace("ID", request.id()).replace("FROM", SERVICE);
        block_on(async {
            xec.dispatch(Element::parse(&reply)?).await;
            request.await
        })
    }

    #[test]
    fn awaited_actions_give_their_typed_output() {
        let xec = Xec::new().unwrap();
        let entry = ElementBuilder::new("entry", "http://www.w3.org/2005/Atom").text_child("title", "Soliloquy");
        // §7.1.2, Example 101: the id the service assigned
        let published = awaited(
            &xec,
            Publish::new(Some(SERVICE), "princely_musings", None, entry).unwrap(),
            "<iq xmlns='jabber:client' type='result' from='FROM' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'>             <publish node='princely_musings'><item id='ae890ac52d0df67ed7cfdf51b644e901'/></publish></pubsub></iq>",
        )
        .unwrap();
        assert_eq!(published.id.as_deref(), Some("ae890ac52d0df67ed7cfdf51b644e901"));
        let items = awaited(
            &xec,
            Items::new(Some(SERVICE), "princely_musings"),
            "<iq xmlns='jabber:client' type='result' from='FROM' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'>             <items node='princely_musings'><item id='a'><x xmlns='urn:x'/></item></items></pubsub></iq>",
        )
        .unwrap();
        assert_eq!(items.iter().map(|i| i.id.as_deref()).collect::<Vec<_>>(), [Some("a")]);
        // §6.1.2: an empty result is a made subscription
        let subscription = awaited(
            &xec,
            Subscribe::new(Some(SERVICE), "princely_musings", "francisco@denmark.lit"),
            "<iq xmlns='jabber:client' type='result' from='FROM' id='ID'/>",
        )
        .unwrap();
        assert_eq!(subscription.state, Some(SubscriptionState::Subscribed));
        let form = awaited(
            &xec,
            GetConfig::new(Some(SERVICE), "princely_musings"),
            "<iq xmlns='jabber:client' type='result' from='FROM' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>             <configure node='princely_musings'><x xmlns='jabber:x:data' type='form'>             <field var='pubsub#max_items' type='text-single'><value>10</value></field></x></configure></pubsub></iq>",
        )
        .unwrap();
        assert_eq!(form.value("pubsub#max_items"), Some("10"));
        // §6.5.9.11: an error reply is the requester's typed stanza error
        let missing = awaited(
            &xec,
            Items::new(Some(SERVICE), "nothing"),
            "<iq xmlns='jabber:client' type='error' from='FROM' id='ID'><error type='cancel'>             <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        );
        match missing {
            Err(moxl_core::Error::Stanza(e)) => {
                assert_eq!(e.condition(), Some(moxl_core::stanza::Condition::ItemNotFound))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_without_a_pubsub_condition_have_none() {
        let reply = Element::parse(
            "<iq xmlns='jabber:client' type='error' id='x'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <other xmlns='urn:x'/></error></iq>",
        )
        .unwrap();
        assert_eq!(PubsubError::from_error(&StanzaError::from_stanza(&reply).unwrap()), None);
    }
}
