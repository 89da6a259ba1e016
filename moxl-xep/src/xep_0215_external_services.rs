//! XEP-0215: External Service Discovery (version 1.0, namespace `urn:xmpp:extdisco:2`): the STUN and TURN servers
//! (and other services outside XMPP) that our server knows, with short-term credentials. Ask for every service
//! ([`Services::all`], §3.1) or those of one type ([`Services::of_type`], §3.2), then for the credentials of a
//! restricted one ([`Credentials`], §3.3); a server that updates a list it gave pushes the change (§3.2), delivered
//! as a [`ServicesPush`]. A server that offers it says so with the feature `urn:xmpp:extdisco:2` (§5).
//!
//! TURN credentials are usually made as the TURN REST API draft says (`draft-uberti-behave-turn-rest-00`, what
//! Prosody's `mod_turn_external` and ejabberd's `mod_stun_disco` do): the username is the expiry time in Unix
//! seconds (then `:` and a user name), the password the base64 of HMAC-SHA1(secret, username);
//! [`Service::turn_rest_expiry`] reads that expiry.
//!
//! | request | `Output` | Packet keys |
//! |---|---|---|
//! | [`Services`] | `Vec<Service>` | `extdisco_services_handle`, `extdisco_services_error` |
//! | [`Credentials`] | `Vec<Service>` | `extdisco_credentials_handle`, `extdisco_credentials_error` |
//! | a push (IQ-set, acked) | [`ServicesPush`] | `extdisco_push` |
//!
//! ```
//! # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
//! use moxl_xep::xep_0215_external_services::{Credentials, Services};
//! for turn in ctx.request(Services::of_type("montague.lit", "turn"))?.await? {
//!     let turn = if turn.restricted && turn.password.is_none() {
//!         ctx.request(Credentials::new("montague.lit", &turn))?.await?.into_iter().next().unwrap_or(turn)
//!     } else {
//!         turn
//!     };
//!     println!("turn:{}:{:?} as {:?}", turn.host, turn.port, turn.username);
//! }
//! # Ok(()) }
//! ```

use std::borrow::Cow;

use moxl_core::stanza::{iq_get, iq_result};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;

/// `urn:xmpp:extdisco:2`: the namespace, and the feature of a server that answers (§5).
///
/// ```
/// assert_eq!(moxl_xep::xep_0215_external_services::NS, "urn:xmpp:extdisco:2");
/// ```
pub const NS: &str = "urn:xmpp:extdisco:2";

/// What a push does with a service (§2, `action`; `add` when absent).
///
/// ```
/// use moxl_xep::xep_0215_external_services::ServiceAction;
/// assert_eq!(ServiceAction::from_name("delete"), Some(ServiceAction::Remove));
/// assert_eq!(ServiceAction::from_name("modify"), Some(ServiceAction::Modify));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ServiceAction {
    /// A new service (the default).
    #[default]
    Add,
    /// A service changed (new credentials, say).
    Modify,
    /// A service is gone (`remove`, or `delete` as §3.2's example writes it).
    Remove,
}

impl ServiceAction {
    /// Reads the `action` attribute.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0215_external_services::ServiceAction::from_name("jump"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<ServiceAction> {
        match name {
            "add" => Some(ServiceAction::Add),
            "modify" => Some(ServiceAction::Modify),
            "remove" | "delete" => Some(ServiceAction::Remove),
            _ => None,
        }
    }
}

/// One external service (§2): where it is, and the credentials to use it when the server gave them.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0215_external_services::Service;
/// // §3.1, Example 2
/// let e = Element::parse("<service xmlns='urn:xmpp:extdisco:2' host='relay.shakespeare.lit' password='jj929jkj5sadjfj93v3n' \
///     port='9999' transport='udp' type='turn' username='nb78932lkjlskjfdb7g8'/>")?;
/// let s = Service::from_element(&e).unwrap();
/// assert_eq!((s.kind.as_str(), s.host.as_str(), s.port, s.transport.as_deref()), ("turn", "relay.shakespeare.lit", Some(9999), Some("udp")));
/// assert_eq!(s.username.as_deref(), Some("nb78932lkjlskjfdb7g8"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Service {
    /// The service type (`stun`, `turn`, `turns`, `ftp`…), the `type` attribute.
    pub kind: String,
    /// Host name or IP address.
    pub host: String,
    /// The port.
    pub port: Option<u16>,
    /// `udp` or `tcp`, typically.
    pub transport: Option<String>,
    /// The username to use.
    pub username: Option<String>,
    /// The password to use.
    pub password: Option<String>,
    /// When the credentials expire (XEP-0082 dateTime, UTC), as written.
    pub expires: Option<String>,
    /// Credentials are needed, and asked for with [`Credentials`] when not given.
    pub restricted: bool,
    /// A human-readable name.
    pub name: Option<String>,
    /// In a push: what happens to it.
    pub action: ServiceAction,
    /// Extended information (§4), a data form.
    pub extended: Option<DataForm>,
}

impl Service {
    /// Reads a `<service/>`; `None` without `host` or `type` (both REQUIRED, §2) or with a port that is not one.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0215_external_services::Service;
    /// assert!(Service::from_element(&Element::parse("<service xmlns='urn:xmpp:extdisco:2' type='stun'/>")?).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(service: &Element) -> Option<Service> {
        let attr = |n: &str| service.attr(n).map(Cow::into_owned);
        let port = match service.attr("port") {
            Some(p) => Some(p.trim().parse::<u16>().ok()?),
            None => None,
        };
        Some(Service {
            kind: attr("type").filter(|t| !t.is_empty())?,
            host: attr("host").filter(|h| !h.is_empty())?,
            port,
            transport: attr("transport"),
            username: attr("username"),
            password: attr("password"),
            expires: attr("expires"),
            restricted: matches!(service.attr("restricted").as_deref(), Some("1" | "true")),
            name: attr("name"),
            action: service.attr("action").and_then(|a| ServiceAction::from_name(&a)).unwrap_or_default(),
            extended: service.child("x", crate::xep_0004_data_forms::NS).and_then(|x| DataForm::from_element(&x)),
        })
    }

    /// The services of a `<services/>` or `<credentials/>` element (those that do not read are skipped).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0215_external_services::Service;
    /// let e = Element::parse("<services xmlns='urn:xmpp:extdisco:2'><service host='192.0.2.1' port='8888' transport='udp' type='stun'/>\
    ///     <service type='turn'/></services>")?;
    /// assert_eq!(Service::list(&e).len(), 1);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn list(parent: &Element) -> Vec<Service> {
        parent.children().filter(|c| c.is("service", NS)).filter_map(|c| Service::from_element(&c)).collect()
    }

    /// The expiry of TURN REST credentials (`draft-uberti-behave-turn-rest-00` §2.2): the Unix time before the
    /// first `:` of the username, when it is one.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0215_external_services::Service;
    /// let e = Element::parse("<service xmlns='urn:xmpp:extdisco:2' host='turn.example' type='turn' username='1765238400:juliet'/>")?;
    /// assert_eq!(Service::from_element(&e).unwrap().turn_rest_expiry(), Some(1765238400));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn turn_rest_expiry(&self) -> Option<u64> {
        let username = self.username.as_deref()?;
        username.split(':').next()?.parse().ok()
    }

    /// The `<service/>` element naming this service (`type`, `host`, and `port` when known), as a
    /// [`Credentials`] request carries it (§3.3).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0215_external_services::Service;
    /// let s = Service::from_element(&Element::parse("<service xmlns='urn:xmpp:extdisco:2' host='turn.shakespeare.lit' type='turn'/>")?).unwrap();
    /// assert_eq!(s.identity().build()?.to_xml(), "<service xmlns='urn:xmpp:extdisco:2' type='turn' host='turn.shakespeare.lit'/>");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn identity(&self) -> ElementBuilder {
        ElementBuilder::new("service", NS)
            .attr("type", self.kind.clone())
            .attr("host", self.host.clone())
            .attr_opt("port", self.port.map(|p| p.to_string()))
    }
}

/// Asks `server` (our own server's domain, typically) for its external services: all of them (§3.1) or those of
/// one type (§3.2). `Output`: the services; a server without the protocol answers `service-unavailable`
/// (`Err(Error::Stanza(..))`).
///
/// ```
/// use moxl_xep::xep_0215_external_services::Services;
/// // §3.2, Example 3
/// let iq = Services::of_type("shakespeare.lit", "turn").request_stanza().build()?;
/// assert_eq!(iq.to_xml(), "<iq xmlns='jabber:client' type='get' to='shakespeare.lit'><services xmlns='urn:xmpp:extdisco:2' type='turn'/></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Services {
    server: String,
    kind: Option<String>,
}

impl Services {
    /// Every service `server` knows (§3.1).
    ///
    /// ```
    /// let iq = moxl_xep::xep_0215_external_services::Services::all("shakespeare.lit").request_stanza().build()?;
    /// assert!(iq.to_xml().contains("<services xmlns='urn:xmpp:extdisco:2'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn all(server: impl Into<String>) -> Services {
        Services { server: server.into(), kind: None }
    }

    /// The services of type `kind` (`stun`, `turn`…) that `server` knows (§3.2).
    ///
    /// ```
    /// let s = moxl_xep::xep_0215_external_services::Services::of_type("shakespeare.lit", "stun");
    /// assert!(s.request_stanza().build()?.to_xml().contains("type='stun'"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn of_type(server: impl Into<String>, kind: impl Into<String>) -> Services {
        Services { server: server.into(), kind: Some(kind.into()) }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        iq_get(Some(&self.server)).append(ElementBuilder::new("services", NS).attr_opt("type", self.kind.clone()))
    }
}

#[action(group = "extdisco")]
impl Services {
    /// The services.
    type Output = Vec<Service>;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Vec<Service>> {
        let services = stanza.child("services", NS).ok_or_else(|| moxl_core::Error::handler("no <services/>"))?;
        Ok(Service::list(&services))
    }

    async fn error(&mut self, ctx: &Context, error: &moxl_core::stanza::StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Asks `server` for the credentials of a service it knows (§3.3): `service` names it by type, host and port
/// (any [`Service`] from [`Services`], or one known otherwise). `Output`: the matching services, with their
/// username, password and expiry. (ejabberd 23.01 answers with a `<services/>` element instead of
/// `<credentials/>`: both are read.)
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0215_external_services::{Credentials, Service};
/// // §3.3, Example 6
/// let turn = Service::from_element(&Element::parse("<service xmlns='urn:xmpp:extdisco:2' host='turn.shakespeare.lit' type='turn'/>")?).unwrap();
/// let iq = Credentials::new("shakespeare.lit", &turn).request_stanza().build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='shakespeare.lit'><credentials xmlns='urn:xmpp:extdisco:2'>\
///      <service type='turn' host='turn.shakespeare.lit'/></credentials></iq>"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    server: String,
    kind: String,
    host: String,
    port: Option<u16>,
}

impl Credentials {
    /// The credentials of `service`, asked of `server`.
    pub fn new(server: impl Into<String>, service: &Service) -> Credentials {
        Credentials::of(server, &service.kind, &service.host, service.port)
    }

    /// The credentials of the service of type `kind` at `host` (and `port`), asked of `server`.
    ///
    /// ```
    /// let c = moxl_xep::xep_0215_external_services::Credentials::of("shakespeare.lit", "turn", "192.0.2.1", Some(8889));
    /// assert!(c.request_stanza().build()?.to_xml().contains("<service type='turn' host='192.0.2.1' port='8889'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn of(server: impl Into<String>, kind: &str, host: &str, port: Option<u16>) -> Credentials {
        Credentials { server: server.into(), kind: kind.to_owned(), host: host.to_owned(), port }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        let service = ElementBuilder::new("service", NS)
            .attr("type", self.kind.clone())
            .attr("host", self.host.clone())
            .attr_opt("port", self.port.map(|p| p.to_string()));
        iq_get(Some(&self.server)).append(ElementBuilder::new("credentials", NS).append(service))
    }
}

#[action(group = "extdisco")]
impl Credentials {
    /// The services with their credentials.
    type Output = Vec<Service>;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Vec<Service>> {
        // ejabberd 23.01 (mod_stun_disco) answers with <services/>: read either.
        let credentials = stanza
            .child("credentials", NS)
            .or_else(|| stanza.child("services", NS))
            .ok_or_else(|| moxl_core::Error::handler("no <credentials/>"))?;
        Ok(Service::list(&credentials))
    }

    async fn error(&mut self, ctx: &Context, error: &moxl_core::stanza::StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Services added, changed or removed, pushed by the server that gave a list (§3.2), already acked.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut pushes = xec.events::<moxl_xep::xep_0215_external_services::ServicesPush>();
/// while let Some(p) = pushes.recv().await {
///     println!("{:?}: {} services changed", p.from, p.services.len());
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServicesPush {
    /// Who pushed it.
    pub from: Option<String>,
    /// The type of the list it updates, if one.
    pub kind: Option<String>,
    /// The services, each with its [`action`](Service::action).
    pub services: Vec<Service>,
}

/// Acks a services push (§3.2) from our server (or a service we asked: any sender but a stranger's full JID…)
/// and delivers it as a [`ServicesPush`] (Packet key `extdisco_push`). A push from another user's account is
/// not a discovery service of ours: it is not handled (and is answered `service-unavailable`).
#[payload(name = "services", ns = "urn:xmpp:extdisco:2", key = "extdisco_push", at = "child")]
#[derive(Debug, Default)]
pub struct ServicesPushes;

impl Payload for ServicesPushes {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if !stanza.is("iq", ns::CLIENT) || stanza.attr("type").as_deref() != Some("set") {
            return Ok(());
        }
        let from = stanza.attr("from").map(Cow::into_owned);
        // A discovery service is a server or a component: a JID without a local part.
        if from.as_deref().is_some_and(|f| f.contains('@')) {
            return Ok(());
        }
        ctx.send(iq_result(stanza))?;
        let kind = element.attr("type").map(Cow::into_owned);
        ctx.pack(ServicesPush { from, kind, services: Service::list(element) }).deliver();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{answer_last, block_on};
    use moxl_core::xec::Xec;

    #[test]
    fn services_and_credentials_are_read_from_the_examples_of_section_3() {
        let xec = Xec::new().unwrap();
        let request = xec.context().request(Services::all("shakespeare.lit")).unwrap();
        // §3.1, Example 2
        let reply = answer_last(
            &xec,
            "<iq xmlns='jabber:client' from='shakespeare.lit' id='ID' type='result'><services xmlns='urn:xmpp:extdisco:2'>\
             <service host='stun.shakespeare.lit' port='9998' transport='udp' type='stun'/>\
             <service host='relay.shakespeare.lit' password='jj929jkj5sadjfj93v3n' port='9999' transport='udp' type='turn' username='nb78932lkjlskjfdb7g8'/>\
             <service host='192.0.2.1' port='8888' transport='udp' type='stun'/>\
             <service host='192.0.2.1' port='8889' password='93jn3bakj9s832lrjbbz' transport='udp' type='turn' username='auu98sjl2wk3e9fjdsl7'/>\
             <service host='ftp.shakespeare.lit' name='Shakespearean File Server' password='guest' port='20' transport='tcp' type='ftp' username='guest'/>\
             </services></iq>",
        );
        block_on(xec.dispatch(reply));
        let services = block_on(request).unwrap();
        assert_eq!(services.len(), 5);
        assert_eq!(services[4].name.as_deref(), Some("Shakespearean File Server"));
        assert_eq!(services.iter().filter(|s| s.kind == "turn").count(), 2);

        let request = xec.context().request(Credentials::new("shakespeare.lit", &services[1])).unwrap();
        let reply = answer_last(
            &xec,
            "<iq xmlns='jabber:client' from='shakespeare.lit' id='ID' type='result'><credentials xmlns='urn:xmpp:extdisco:2'>\
             <service host='relay.shakespeare.lit' type='turn' password='jj929jkj5sadjfj93v3n' username='nb78932lkjlskjfdb7g8' \
             restricted='1' expires='2026-12-09T00:00:00Z'/></credentials></iq>",
        );
        block_on(xec.dispatch(reply));
        let creds = block_on(request).unwrap();
        assert_eq!((creds[0].restricted, creds[0].expires.as_deref()), (true, Some("2026-12-09T00:00:00Z")));
    }

    #[test]
    fn ejabberds_credentials_answer_in_a_services_element_is_read() {
        let xec = Xec::new().unwrap();
        let request =
            xec.context().request(Credentials::of("localhost", "turn", "turn.localhost", Some(3478))).unwrap();
        // what ejabberd 23.01's mod_stun_disco answered in tests/xep_jingle.rs
        let reply = answer_last(
            &xec,
            "<iq xmlns='jabber:client' xml:lang='en' from='localhost' type='result' id='ID'><services xmlns='urn:xmpp:extdisco:2'>\
             <service username='1796693149:704d44b833438904' type='turn' transport='udp' restricted='true' port='3478' \
             password='VbCzcAzqrQ2Y1axyuS8IGQwjOqE=' host='turn.localhost' expires='2026-12-08T01:25:49Z'/></services></iq>",
        );
        block_on(xec.dispatch(reply));
        let creds = block_on(request).unwrap();
        assert_eq!((creds.len(), creds[0].restricted, creds[0].turn_rest_expiry()), (1, true, Some(1796693149)));
    }

    #[test]
    fn a_push_from_the_server_is_acked_and_delivered_one_from_a_user_is_not() {
        let xec = Xec::new().unwrap();
        let mut pushes = xec.events::<ServicesPush>();
        // §3.2, Example 5 (its first <service> closed)
        let push = "<iq xmlns='jabber:client' from='shakespeare.lit' id='lh3f1vc7' to='bard@shakespeare.lit/globe' type='set'>\
             <services xmlns='urn:xmpp:extdisco:2' type='turn'>\
             <service action='add' host='stun.shakespeare.lit' port='9999' transport='udp' type='turn' username='1nas9dlm3hzl89d0b9v' password='gh9023ljjdk109iajqn'/>\
             <service action='add' host='192.0.2.2' port='7778' transport='udp' type='turn' username='bnsv120afg48snsdozp' password='zxp023na98dsfahn1kk'/>\
             <service action='delete' host='192.0.2.1' port='8889' type='turn'/></services></iq>";
        block_on(xec.dispatch(Element::parse(push).unwrap()));
        assert_eq!(xec.take_outgoing()[0].attr("type").as_deref(), Some("result"));
        let p = pushes.try_recv().unwrap();
        assert_eq!(
            p.services.iter().map(|s| s.action).collect::<Vec<_>>(),
            [ServiceAction::Add, ServiceAction::Add, ServiceAction::Remove]
        );
        let forged = push.replace("from='shakespeare.lit'", "from='iago@venice.lit/dagger'");
        block_on(xec.dispatch(Element::parse(&forged).unwrap()));
        assert!(xec.take_outgoing()[0].to_xml().contains("service-unavailable"));
        assert!(pushes.try_recv().is_none());
    }
}
