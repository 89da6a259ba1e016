//! XEP-0357: Push Notifications (namespace `urn:xmpp:push:0`), the client's side: a mobile client registers
//! with an app server (its push service, out of band), then asks its own server to publish a notification to
//! that service's node whenever something arrives while it is away ([`Enable`], §5), and can stop it
//! ([`Disable`], §6). The server announces support with the account feature `urn:xmpp:push:0` (§4).
//!
//! ```
//! use moxl_xep::xep_0357_push::Enable;
//! # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
//! ctx.request(Enable::new("push-5.client.example", "yxs32uqsflafdk3iuqo").secret("eruio234vzxc2kla-91"))?.await?;
//! # Ok(()) }
//! ```

use moxl_core::stanza::iq_set;
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0060_pubsub as pubsub;

/// `urn:xmpp:push:0`: the namespace, and the account feature of a server that pushes (§4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0357_push::NS, "urn:xmpp:push:0");
/// ```
pub const NS: &str = "urn:xmpp:push:0";

/// Enables push notifications to `node` of the push service `jid` (§5), with publish-options such as the
/// secret the app server gave (a `publish-options` form inside `<enable/>`). Its `Output` is the service's JID;
/// a server without push answers `service-unavailable` or `feature-not-implemented`, the request's error.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `push_enable_handle` | the service's JID (`String`) |
/// | error | `push_enable_error<condition>` | the `StanzaError` |
///
/// ```
/// use moxl_xep::xep_0357_push::Enable;
/// // §5, Example 9
/// let iq = Enable::new("push-5.client.example", "yxs32uqsflafdk3iuqo").secret("eruio234vzxc2kla-91").request_stanza().build()?;
/// let xml = iq.to_xml();
/// assert!(xml.contains("<enable xmlns='urn:xmpp:push:0' jid='push-5.client.example' node='yxs32uqsflafdk3iuqo'>"));
/// assert!(xml.contains("<field var='secret'><value>eruio234vzxc2kla-91</value></field>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Enable {
    jid: String,
    node: String,
    options: Vec<(String, String)>,
}

impl Enable {
    /// Notifications to `node` of the push service `jid`.
    pub fn new(jid: impl Into<String>, node: impl Into<String>) -> Enable {
        Enable { jid: jid.into(), node: node.into(), options: Vec::new() }
    }

    /// With the app server's secret (the `secret` publish-option most push services ask for).
    pub fn secret(self, secret: impl Into<String>) -> Enable {
        self.option("secret", secret)
    }

    /// With another publish-option the push service asks for.
    pub fn option(mut self, var: impl Into<String>, value: impl Into<String>) -> Enable {
        self.options.push((var.into(), value.into()));
        self
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        let enable = ElementBuilder::new("enable", NS).attr("jid", self.jid.clone()).attr("node", self.node.clone());
        let enable = if self.options.is_empty() {
            enable
        } else {
            let form: DataForm = self
                .options
                .iter()
                .fold(pubsub::publish_options(), |form, (var, value)| form.with_value(var, value.clone()));
            enable.append(form.to_element())
        };
        iq_set(None).append(enable)
    }
}

#[action(group = "push")]
impl Enable {
    /// The push service's JID.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<String> {
        Ok(self.jid.clone())
    }
}

/// Disables push notifications to the service `jid`: to one node, or to all of that service's nodes (§6).
/// Its `Output` is the service's JID.
///
/// ```
/// use moxl_xep::xep_0357_push::Disable;
/// // §6, Examples 11 and 12
/// let all = Disable::new("push-5.client.example", None).request_stanza().build()?;
/// assert!(all.to_xml().contains("<disable xmlns='urn:xmpp:push:0' jid='push-5.client.example'/>"));
/// let one = Disable::new("push-5.client.example", Some("yxs32uqsflafdk3iuqo")).request_stanza().build()?;
/// assert!(one.to_xml().contains("node='yxs32uqsflafdk3iuqo'"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Disable {
    jid: String,
    node: Option<String>,
}

impl Disable {
    /// Stops notifications to `node` of `jid`, or to every node of `jid` with `None`.
    pub fn new(jid: impl Into<String>, node: Option<&str>) -> Disable {
        Disable { jid: jid.into(), node: node.map(str::to_owned) }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        iq_set(None).append(
            ElementBuilder::new("disable", NS).attr("jid", self.jid.clone()).attr_opt("node", self.node.clone()),
        )
    }
}

#[action(group = "push")]
impl Disable {
    /// The push service's JID.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<String> {
        Ok(self.jid.clone())
    }
}
