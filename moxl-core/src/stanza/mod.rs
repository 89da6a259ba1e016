//! Stanzas: the builders for what we send (grouped by theme) and typed views of what we read.
//!
//! The core holds the basics of RFC 6120: `<iq/>`, `<message/>`, `<presence/>`, error replies, stream headers and
//! stream errors, and the defined conditions. Themed builders for XEPs live in `moxl-xep`.

mod condition;
mod error;

pub use condition::{Condition, ErrorType, StreamCondition};
pub use error::StanzaError;

use crate::xml::{ns, Element, ElementBuilder};

/// `<iq type='get'/>`, to be given an id by [`Context::request`](crate::xec::Context::request) (RFC 6120 §8.2.3).
///
/// ```
/// let iq = moxl_core::stanza::iq_get(Some("example.com")).append(
///     moxl_core::xml::ElementBuilder::new("ping", "urn:xmpp:ping"));
/// assert_eq!(iq.build()?.to_xml(), "<iq xmlns='jabber:client' type='get' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn iq_get(to: Option<&str>) -> ElementBuilder {
    iq("get", to)
}

/// `<iq type='set'/>` (RFC 6120 §8.2.3).
pub fn iq_set(to: Option<&str>) -> ElementBuilder {
    iq("set", to)
}

fn iq(kind: &'static str, to: Option<&str>) -> ElementBuilder {
    ElementBuilder::new("iq", ns::CLIENT).attr("type", kind).attr_opt("to", to.map(str::to_owned))
}

/// The `result` answering a received `get`/`set` (same id, addressed back to the sender; RFC 6120 §8.2.3).
///
/// ```
/// use moxl_core::xml::Element;
/// let ping = Element::parse("<iq xmlns='jabber:client' from='capulet.lit' id='s2c1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>")?;
/// let pong = moxl_core::stanza::iq_result(&ping).build()?;
/// assert_eq!(pong.to_xml(), "<iq xmlns='jabber:client' type='result' id='s2c1' to='capulet.lit'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn iq_result(request: &Element) -> ElementBuilder {
    reply_to(request, "result")
}

/// The error reply to a received stanza: same name and id, `type='error'`, addressed back to the sender
/// (RFC 6120 §8.3.1).
///
/// ```
/// use moxl_core::stanza::{error_reply, Condition, StanzaError};
/// use moxl_core::xml::Element;
/// let req = Element::parse("<iq xmlns='jabber:client' from='a@b/c' id='1' type='get'><query xmlns='urn:x'/></iq>")?;
/// let reply = error_reply(&req, &StanzaError::new(Condition::ServiceUnavailable)).build()?;
/// assert_eq!(
///     reply.to_xml(),
///     "<iq xmlns='jabber:client' type='error' id='1' to='a@b/c'><error type='cancel'>\
///      <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn error_reply(request: &Element, error: &StanzaError) -> ElementBuilder {
    reply_to(request, "error").append(error.to_builder(ns::CLIENT))
}

fn reply_to(request: &Element, kind: &'static str) -> ElementBuilder {
    ElementBuilder::new(request.name().to_owned(), ns::CLIENT)
        .attr("type", kind)
        .attr_opt("id", request.attr("id").map(|s| s.into_owned()))
        .attr_opt("to", request.attr("from").map(|s| s.into_owned()))
}

/// A `<message/>` of the given type (`chat`, `groupchat`, `headline`, `normal`; RFC 6121 §5.2.2) with a body.
///
/// ```
/// let m = moxl_core::stanza::message("juliet@example.com", "chat", Some("Wherefore art thou?")).build()?;
/// assert_eq!(m.to_xml(), "<message xmlns='jabber:client' to='juliet@example.com' type='chat'><body>Wherefore art thou?</body></message>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn message(to: &str, kind: &'static str, body: Option<&str>) -> ElementBuilder {
    let m = ElementBuilder::new("message", ns::CLIENT).attr("to", to.to_owned()).attr("type", kind);
    match body {
        Some(body) => m.text_child("body", body.to_owned()),
        None => m,
    }
}

/// A `<presence/>`: available when `kind` is `None`, else `unavailable`, `subscribe`… (RFC 6121 §4.7.1).
///
/// ```
/// let p = moxl_core::stanza::presence(None, None).build()?;
/// assert_eq!(p.to_xml(), "<presence xmlns='jabber:client'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn presence(to: Option<&str>, kind: Option<&'static str>) -> ElementBuilder {
    ElementBuilder::new("presence", ns::CLIENT).attr_opt("to", to.map(str::to_owned)).attr_opt("type", kind)
}

/// The opening tag of a client stream (RFC 6120 §4.7), ready to write to the socket.
///
/// ```
/// let header = moxl_core::stanza::stream_header("example.com", Some("juliet@example.com"));
/// assert!(header.starts_with("<?xml version='1.0'?><stream:stream to='example.com' from='juliet@example.com' version='1.0'"));
/// ```
pub fn stream_header(to: &str, from: Option<&str>) -> String {
    let from = from.map(|f| format!(" from='{}'", crate::xml::escape_attr(f))).unwrap_or_default();
    format!(
        "<?xml version='1.0'?><stream:stream to='{}'{from} version='1.0' xml:lang='en' xmlns='{}' xmlns:stream='{}'>",
        crate::xml::escape_attr(to),
        ns::CLIENT,
        ns::STREAM
    )
}

/// The `<open/>` that starts a stream over WebSocket (RFC 7395 §3.3.1), the framed counterpart of
/// [`stream_header`].
///
/// ```
/// let open = moxl_core::stanza::framing_open("example.com", None);
/// assert_eq!(open, "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0' xml:lang='en'/>");
/// ```
pub fn framing_open(to: &str, from: Option<&str>) -> String {
    let from = from.map(|f| format!(" from='{}'", crate::xml::escape_attr(f))).unwrap_or_default();
    format!("<open xmlns='{}' to='{}'{from} version='1.0' xml:lang='en'/>", ns::FRAMING, crate::xml::escape_attr(to))
}

/// A `<stream:error/>` with the given condition (RFC 6120 §4.9), to be followed by `</stream:stream>`.
///
/// ```
/// use moxl_core::stanza::{stream_error, StreamCondition};
/// let e = stream_error(StreamCondition::RestrictedXml, Some("comments are not allowed")).build()?;
/// assert_eq!(e.to_xml(), "<error xmlns='http://etherx.jabber.org/streams'>\
///     <restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
///     <text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>comments are not allowed</text></error>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn stream_error(condition: StreamCondition, text: Option<&str>) -> ElementBuilder {
    let e = ElementBuilder::new("error", ns::STREAM).append(ElementBuilder::new(condition.as_str(), ns::STREAMS));
    match text {
        Some(t) => e.append(ElementBuilder::new("text", ns::STREAMS).text(t.to_owned())),
        None => e,
    }
}
