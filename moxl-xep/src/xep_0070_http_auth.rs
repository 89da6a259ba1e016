//! XEP-0070: Verifying HTTP Requests via XMPP. An HTTP server asks, through our XMPP server, whether we made a
//! request (§4.5, a `<confirm/>` in an `iq` or a `message`); [`HttpAuthConfirm`] delivers it as a
//! [`ConfirmRequest`], and the application answers with [`ConfirmRequest::accept`] or
//! [`ConfirmRequest::deny`] (§4.6: a result or the request echoed; a `not-authorized` error to deny).

use moxl_core::payload;
use moxl_core::stanza::{Condition, ErrorType, StanzaError, error_reply, iq_result};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};

/// `http://jabber.org/protocol/http-auth` (§8.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0070_http_auth::NS, "http://jabber.org/protocol/http-auth");
/// ```
pub const NS: &str = "http://jabber.org/protocol/http-auth";

moxl_core::feature!("http://jabber.org/protocol/http-auth");

/// A request to confirm, as received: the transaction id, the HTTP method and URL, and the stanza to answer.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0070_http_auth::ConfirmRequest;
/// // §4.5, the iq form
/// let iq = Element::parse("<iq xmlns='jabber:client' type='get' from='files.shakespeare.lit' to='juliet@capulet.com/balcony' id='ha000'>\
///     <confirm xmlns='http://jabber.org/protocol/http-auth' id='a7374jnjlalasdf82' method='GET' url='https://files.shakespeare.lit:9345/missive.html'/></iq>")?;
/// let request = ConfirmRequest::from_stanza(&iq).unwrap();
/// assert_eq!((request.id.as_str(), request.method.as_str()), ("a7374jnjlalasdf82", "GET"));
/// assert_eq!(request.url, "https://files.shakespeare.lit:9345/missive.html");
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ConfirmRequest {
    /// The transaction id the HTTP client gave (`id`).
    pub id: String,
    /// The HTTP method (`GET`, `POST`…).
    pub method: String,
    /// The URL requested.
    pub url: String,
    /// The human-readable explanation of the message form (`<body/>`), if any.
    pub text: Option<String>,
    /// The thread of the message form, echoed in the answer.
    pub thread: Option<String>,
    /// The stanza, to answer.
    pub stanza: Element,
}

impl ConfirmRequest {
    /// Reads a confirmation request: an `iq` `get` or `set`, or a `message` (not an error), holding `<confirm/>`
    /// with its `id`, `method` and `url`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let no_url = Element::parse("<iq xmlns='jabber:client' type='get' id='1'><confirm xmlns='http://jabber.org/protocol/http-auth' id='x' method='GET'/></iq>")?;
    /// assert!(moxl_xep::xep_0070_http_auth::ConfirmRequest::from_stanza(&no_url).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<ConfirmRequest> {
        let kind = stanza.attr("type");
        let ok = match stanza.name() {
            "iq" => matches!(kind.as_deref(), Some("get" | "set")),
            "message" => kind.as_deref() != Some("error"),
            _ => false,
        };
        if !ok || stanza.ns() != ns::CLIENT {
            return None;
        }
        let confirm = stanza.child("confirm", NS)?;
        Some(ConfirmRequest {
            id: confirm.attr("id")?.into_owned(),
            method: confirm.attr("method")?.into_owned(),
            url: confirm.attr("url")?.into_owned(),
            text: stanza.child_text("body", ns::CLIENT),
            thread: stanza.child_text("thread", ns::CLIENT),
            stanza: stanza.clone(),
        })
    }

    /// Whether it came as a message (§4.5's second form) rather than an iq.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let m = Element::parse("<message xmlns='jabber:client' from='files.shakespeare.lit'><thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread>\
    ///     <confirm xmlns='http://jabber.org/protocol/http-auth' id='a7374jnjlalasdf82' method='GET' url='https://files.shakespeare.lit:9345/missive.html'/></message>")?;
    /// assert!(moxl_xep::xep_0070_http_auth::ConfirmRequest::from_stanza(&m).unwrap().is_message());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn is_message(&self) -> bool {
        self.stanza.name() == "message"
    }

    fn confirm(&self) -> ElementBuilder {
        ElementBuilder::new("confirm", NS)
            .attr("id", self.id.clone())
            .attr("method", self.method.clone())
            .attr("url", self.url.clone())
    }

    /// "Yes, I made that request" (§4.6): an empty result to an iq; to a message, a message to the requester
    /// with the same thread and `<confirm/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0070_http_auth::ConfirmRequest;
    /// let iq = Element::parse("<iq xmlns='jabber:client' type='get' from='files.shakespeare.lit' id='ha000'>\
    ///     <confirm xmlns='http://jabber.org/protocol/http-auth' id='a7374jnjlalasdf82' method='GET' url='https://files.shakespeare.lit:9345/missive.html'/></iq>")?;
    /// let yes = ConfirmRequest::from_stanza(&iq).unwrap().accept().build()?;
    /// assert_eq!(yes.to_xml(), "<iq xmlns='jabber:client' type='result' id='ha000' to='files.shakespeare.lit'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn accept(&self) -> ElementBuilder {
        if !self.is_message() {
            return iq_result(&self.stanza);
        }
        let to = self.stanza.attr("from").map(|f| f.into_owned());
        let message = ElementBuilder::new("message", ns::CLIENT).attr_opt("to", to);
        let message = match &self.thread {
            Some(thread) => message.append(ElementBuilder::new("thread", ns::CLIENT).text(thread.clone())),
            None => message,
        };
        message.append(self.confirm())
    }

    /// "No, I did not" (§4.6, §6.2): an error of type `auth` with `not-authorized`, with the `<confirm/>` (and for a
    /// message, its thread).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0070_http_auth::ConfirmRequest;
    /// let iq = Element::parse("<iq xmlns='jabber:client' type='get' from='files.shakespeare.lit' id='ha000'>\
    ///     <confirm xmlns='http://jabber.org/protocol/http-auth' id='a7374jnjlalasdf82' method='GET' url='https://files.shakespeare.lit:9345/missive.html'/></iq>")?;
    /// let no = ConfirmRequest::from_stanza(&iq).unwrap().deny().build()?;
    /// assert!(no.to_xml().contains("<error type='auth'><not-authorized"));
    /// assert!(no.child("confirm", moxl_xep::xep_0070_http_auth::NS).is_some());
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn deny(&self) -> ElementBuilder {
        let error = StanzaError::new(Condition::NotAuthorized).with_type(ErrorType::Auth);
        let mut reply = error_reply(&self.stanza, &error);
        if let Some(thread) = &self.thread {
            reply.push(ElementBuilder::new("thread", ns::CLIENT).text(thread.clone()));
        }
        reply.append(self.confirm())
    }
}

/// Delivers confirmation requests (§4.5, iq or message) as [`ConfirmRequest`]s under the Packet key
/// `httpauthconfirm` (the Packet's sender is the requester); answer with `ctx.send(request.accept())` or
/// `ctx.send(request.deny())`. Only requests from our own server or a service (a JID without a local part)
/// are taken: the XMPP server relays for the HTTP server, and a person has nothing to ask here.
///
/// ```
/// use moxl_xep::xep_0070_http_auth::ConfirmRequest;
/// # async fn run(xec: &moxl_core::xec::Xec) -> Option<()> {
/// let mut requests = xec.subscribe("httpauthconfirm");
/// let packet = requests.recv().await?;
/// let request = packet.content::<ConfirmRequest>()?;
/// xec.context().send(request.deny()).ok()?; // we did not make it
/// # Some(()) }
/// ```
#[payload(name = "confirm", ns = "http://jabber.org/protocol/http-auth", at = "child")]
#[derive(Debug, Default)]
pub struct HttpAuthConfirm;

impl Payload for HttpAuthConfirm {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        let from_service = stanza.attr("from").is_none_or(|f| !f.contains('@'));
        match ConfirmRequest::from_stanza(stanza) {
            Some(request) if from_service => {
                ctx.answer_later(); // the user confirms or denies (no effect for a message)
                ctx.pack(request).deliver()
            }
            Some(request) if !request.is_message() => {
                ctx.send(error_reply(stanza, &StanzaError::new(Condition::ServiceUnavailable)))?
            }
            Some(_) => {}
            None if stanza.is("iq", ns::CLIENT) && matches!(stanza.attr("type").as_deref(), Some("get" | "set")) => {
                ctx.send(error_reply(stanza, &StanzaError::new(Condition::BadRequest)))?
            }
            None => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    const IQ: &str = "<iq xmlns='jabber:client' type='get' from='files.shakespeare.lit' to='juliet@capulet.com/balcony' id='ha000'>\
        <confirm xmlns='http://jabber.org/protocol/http-auth' id='a7374jnjlalasdf82' method='GET' url='https://files.shakespeare.lit:9345/missive.html'/></iq>";
    const MESSAGE: &str = "<message xmlns='jabber:client' from='files.shakespeare.lit' to='juliet@capulet.com'>\
        <thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread>\
        <body>Someone (maybe you) has requested the following file: https://files.shakespeare.lit:9345/missive.html. \
        The transaction identifier is: a7374jnjlalasdf82</body>\
        <confirm xmlns='http://jabber.org/protocol/http-auth' id='a7374jnjlalasdf82' method='GET' url='https://files.shakespeare.lit:9345/missive.html'/></message>";

    #[test]
    fn both_forms_are_delivered_and_answered() {
        let xec = Xec::new().unwrap();
        let mut requests = xec.subscribe("httpauthconfirm");
        block_on(xec.dispatch(Element::parse(IQ).unwrap()));
        block_on(xec.dispatch(Element::parse(MESSAGE).unwrap()));
        assert!(xec.take_outgoing().is_empty(), "the user decides");
        let iq = requests.try_recv().unwrap();
        let iq = iq.content::<ConfirmRequest>().unwrap();
        assert!(!iq.is_message());
        let denied = iq.deny().build().unwrap();
        assert_eq!(denied.attr("type").as_deref(), Some("error"));
        assert_eq!(
            StanzaError::from_stanza(&denied).map(|e| (e.condition(), e.error_type())),
            Some((Some(Condition::NotAuthorized), Some(ErrorType::Auth)))
        );
        let m = requests.try_recv().unwrap();
        let m = m.content::<ConfirmRequest>().unwrap();
        assert!(m.is_message() && m.text.as_deref().is_some_and(|t| t.contains("a7374jnjlalasdf82")));
        let yes = m.accept().build().unwrap();
        assert_eq!(yes.attr("to").as_deref(), Some("files.shakespeare.lit"));
        assert_eq!(yes.child_text("thread", ns::CLIENT).as_deref(), Some("e0ffe42b28561960c6b12b944a092794b9683a38"));
        assert_eq!(
            yes.child("confirm", NS).and_then(|c| c.attr("id").map(|i| i.into_owned())).as_deref(),
            Some("a7374jnjlalasdf82")
        );
        let no = m.deny().build().unwrap();
        assert_eq!((no.name(), no.attr("type").as_deref()), ("message", Some("error")));
        assert!(no.child_text("thread", ns::CLIENT).is_some());
    }

    #[test]
    fn requests_from_people_are_ignored() {
        let xec = Xec::new().unwrap();
        let mut requests = xec.subscribe("httpauthconfirm");
        block_on(xec.dispatch(
            Element::parse(&MESSAGE.replace("from='files.shakespeare.lit'", "from='iago@shakespeare.lit/x'")).unwrap(),
        ));
        assert!(requests.try_recv().is_none());
    }
}
