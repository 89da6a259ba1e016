//! XEP-0223: Persistent Storage of Private Data via PubSub. Private data (bookmarks, client settings) is
//! published to a node of our own PEP service with publish-options that make the node persistent and
//! readable by us only (§3): `pubsub#persist_items` true and `pubsub#access_model` `whitelist`.
//!
//! A node that exists with another configuration refuses such a publish with `conflict` and the pubsub
//! condition `precondition-not-met` (XEP-0060 §7.1.5). [`Publish`] then reconfigures the node with the same
//! values (XEP-0060 §8.2.5) and publishes again, once; it never stores private data in a node it could not
//! make private.

use moxl_core::action;
use moxl_core::stanza::StanzaError;
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder, ElementOrBuilder};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0060_pubsub::{self as pubsub, Published, is_precondition_not_met};

/// The publish-options of private storage (§3): persistent items, whitelist access.
///
/// ```
/// let options = moxl_xep::xep_0223_private_pep::private_options();
/// assert_eq!(options.form_type_value(), Some("http://jabber.org/protocol/pubsub#publish-options"));
/// assert_eq!(options.value("pubsub#access_model"), Some("whitelist"));
/// assert_eq!(options.field("pubsub#persist_items").and_then(|f| f.as_bool()), Some(true));
/// ```
pub fn private_options() -> DataForm {
    pubsub::publish_options().with_bool("pubsub#persist_items", true).with_value("pubsub#access_model", "whitelist")
}

/// The node configuration that makes an existing node private (the same values as [`private_options`], in a
/// `node_config` form, XEP-0060 §8.2.5).
///
/// ```
/// let config = moxl_xep::xep_0223_private_pep::private_config();
/// assert_eq!(config.form_type_value(), Some("http://jabber.org/protocol/pubsub#node_config"));
/// assert_eq!(config.value("pubsub#access_model"), Some("whitelist"));
/// ```
pub fn private_config() -> DataForm {
    pubsub::node_config().with_bool("pubsub#persist_items", true).with_value("pubsub#access_model", "whitelist")
}

/// Publishes private data to `node` of our PEP service (§3, Example 1).
///
/// ```
/// use moxl_core::xml::ElementBuilder;
/// // §3, Example 1 (the bookmark abridged)
/// let storage = ElementBuilder::new("storage", "storage:bookmarks");
/// let iq = moxl_xep::xep_0223_private_pep::publish("storage:bookmarks", Some("current"), storage).build()?;
/// let xml = iq.to_xml();
/// assert!(xml.contains("<publish node='storage:bookmarks'><item id='current'><storage xmlns='storage:bookmarks'/></item></publish>"));
/// assert!(xml.contains("<var>pubsub#access_model</var>") || xml.contains("var='pubsub#access_model'"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn publish(node: &str, id: Option<&str>, payload: impl Into<ElementOrBuilder>) -> ElementBuilder {
    pubsub::publish_with_options(None, node, id, payload, &private_options())
}

/// Publishes private data (§3), reconfiguring the node once if it exists with another configuration (see the
/// [module documentation](self)).
///
/// Its `Output` is the [`Published`] item: `ctx.request(publish)?.await` resolves once, with the final outcome
/// (the reconfigure and the retry continue this request, [`Context::continue_with`]): the stored item, or the
/// error that ended the chain (the retry's `conflict`, the reconfigure's error). The Packets are the second view:
///
/// | Packet key | content | when |
/// |---|---|---|
/// | `private_pep_publish_handle` | [`Published`] | stored |
/// | `private_pep_publish_errorconflict` | [`StanzaError`] | the node stayed non-private (precondition-not-met after reconfiguring) |
/// | `private_pep_publish_error<condition>` | [`StanzaError`] | any other error |
/// | `private_pep_reconfigure_error<condition>` | [`StanzaError`] | the node could not be reconfigured |
///
/// ```
/// use moxl_core::xml::ElementBuilder;
/// use moxl_xep::xep_0223_private_pep::Publish;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let settings = ElementBuilder::new("settings", "urn:example:settings");
/// let stored = xec.context().request(Publish::new("urn:example:settings", Some("current"), settings)?)?.await?;
/// assert_eq!(stored.node, "urn:example:settings");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Publish {
    /// The XEP-0060 publish, with [`private_options`].
    publish: pubsub::Publish,
    reconfigured: bool,
}

impl Publish {
    /// A private publish of `payload` to `node`. Fails only if the payload is a builder with an invalid name.
    ///
    /// ```
    /// use moxl_core::xml::ElementBuilder;
    /// let p = moxl_xep::xep_0223_private_pep::Publish::new("n", None, ElementBuilder::new("x", "urn:x"))?;
    /// assert!(p.request_stanza().build()?.to_xml().contains("<publish-options>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(node: &str, id: Option<&str>, payload: impl Into<ElementOrBuilder>) -> moxl_core::Result<Publish> {
        let publish = pubsub::Publish::new(None, node, id, payload)?.with_options(private_options());
        Ok(Publish { publish, reconfigured: false })
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        self.publish.request_stanza()
    }
}

#[action(group = "private_pep")]
impl Publish {
    /// The node and the id of the stored item, after the reconfigure-and-retry if there was one.
    type Output = Published;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<Published> {
        Ok(self.publish.published(stanza))
    }

    async fn error_conflict(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) -> moxl_core::Result<()> {
        if is_precondition_not_met(error) && !self.reconfigured {
            let retry = Publish { reconfigured: true, ..self.clone() };
            // The requester awaits the retry's outcome (through the Reconfigure), not this conflict.
            ctx.continue_with(Reconfigure { node: retry.publish.node().to_owned(), then: Some(retry) })?;
            return Ok(());
        }
        ctx.pack(error.clone()).deliver();
        Ok(())
    }
}

/// Makes a node private (XEP-0060 §8.2.5 with [`private_config`]), then publishes again: the second step of
/// [`Publish`]. Its errors are delivered as `private_pep_reconfigure_error<condition>`. Its `Output` is a
/// [`Published`] naming the node (no item id), also delivered under `private_pep_reconfigure_handle` when the
/// node was reconfigured; as [`Publish`]'s second step its requester gets the retried publish's result.
///
/// ```
/// let r = moxl_xep::xep_0223_private_pep::Reconfigure::for_node("storage:bookmarks");
/// assert!(r.request_stanza().build()?.to_xml().contains("<configure node='storage:bookmarks'>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reconfigure {
    node: String,
    then: Option<Publish>,
}

impl Reconfigure {
    /// Makes `node` private, with no publish after.
    pub fn for_node(node: &str) -> Reconfigure {
        Reconfigure { node: node.to_owned(), then: None }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        pubsub::configure_node(None, &self.node, &private_config())
    }
}

#[action(group = "private_pep")]
impl Reconfigure {
    /// The node (`id` `None`), or, as the second step of [`Publish`], the retried publish's result.
    type Output = Published;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) -> moxl_core::Result<Published> {
        if let Some(publish) = self.then.take() {
            // Whoever awaits the first Publish gets the retry's outcome.
            ctx.continue_with(publish)?;
        }
        Ok(Published::of_node(&self.node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    const PRECONDITION: &str = "<iq xmlns='jabber:client' type='error' id='ID'><error type='cancel'>\
        <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
        <precondition-not-met xmlns='http://jabber.org/protocol/pubsub#errors'/></error></iq>";

    fn answer(xec: &Xec, reply: &str) -> Element {
        let sent = xec.take_outgoing().pop().unwrap();
        let id = sent.attr("id").unwrap().into_owned();
        block_on(xec.dispatch(Element::parse(&reply.replace("ID", &id)).unwrap()));
        sent
    }

    #[test]
    fn the_awaited_publish_gives_the_retry_outcome() {
        let xec = Xec::new().unwrap();
        let payload = ElementBuilder::new("storage", "storage:bookmarks");
        let request =
            xec.context().request(Publish::new("storage:bookmarks", Some("current"), payload).unwrap()).unwrap();
        answer(&xec, PRECONDITION);
        answer(&xec, "<iq xmlns='jabber:client' type='result' id='ID'/>");
        // the retry is stored: the first request resolves to its result
        answer(
            &xec,
            "<iq xmlns='jabber:client' type='result' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
             <publish node='storage:bookmarks'><item id='current'/></publish></pubsub></iq>",
        );
        let stored = block_on(request).unwrap();
        assert_eq!((stored.node.as_str(), stored.id.as_deref()), ("storage:bookmarks", Some("current")));
        // refused after reconfiguring: the requester gets the retry's conflict
        let payload = ElementBuilder::new("storage", "storage:bookmarks");
        let request =
            xec.context().request(Publish::new("storage:bookmarks", Some("current"), payload).unwrap()).unwrap();
        answer(&xec, PRECONDITION);
        answer(&xec, "<iq xmlns='jabber:client' type='result' id='ID'/>");
        answer(&xec, PRECONDITION);
        match block_on(request) {
            Err(moxl_core::Error::Stanza(e)) => assert!(is_precondition_not_met(&e)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn precondition_not_met_reconfigures_once_then_publishes_again() {
        let xec = Xec::new().unwrap();
        let (mut ok, mut conflict) =
            (xec.subscribe("private_pep_publish_handle"), xec.subscribe("private_pep_publish_errorconflict"));
        let payload = ElementBuilder::new("storage", "storage:bookmarks");
        xec.context().request(Publish::new("storage:bookmarks", Some("current"), payload).unwrap()).unwrap();
        let first = answer(&xec, PRECONDITION);
        assert!(first.to_xml().contains("<publish-options>"));
        let configure = answer(&xec, "<iq xmlns='jabber:client' type='result' id='ID'/>");
        let form = crate::xep_0060_pubsub::config_form(&configure).unwrap();
        assert_eq!(form.value("pubsub#access_model"), Some("whitelist"));
        // published again, refused again: no third attempt, the conflict is delivered
        let second = answer(&xec, PRECONDITION);
        assert_eq!(second.first_child().unwrap().to_xml(), first.first_child().unwrap().to_xml());
        assert!(xec.take_outgoing().is_empty());
        assert!(is_precondition_not_met(conflict.try_recv().unwrap().content::<StanzaError>().unwrap()));
        assert!(ok.try_recv().is_none());
    }
}
