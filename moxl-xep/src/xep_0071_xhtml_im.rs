//! XEP-0071: XHTML-IM. Sends a formatted version of a message body ([`with_xhtml`]) and reads the one received
//! ([`XhtmlIm`], delivered by the [`XhtmlMessages`] Payload under the Packet key `xhtmlim`).
//!
//! **Received XHTML is untrusted markup.** This module keeps it as a string ([`XhtmlBody::markup`]) and never
//! renders, interprets or cleans it. §8 and §9 of the XEP list what a receiver must refuse (scripts, event
//! attributes, style sheets, objects, remote images that leak presence…): pass the markup through a strict
//! allow-list HTML sanitizer before showing it, or show the plain-text fallback instead ([`XhtmlIm::fallback`],
//! the message's `<body/>`, which §7 requires with every XHTML body; [`plain_text`] strips markup when a
//! message has none). XHTML-IM is deprecated by the XSF in favour of Message Styling (XEP-0393); receiving it
//! remains useful for older clients.

use std::borrow::Cow;

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ElementOrBuilder, ns};

use crate::rfc6121_message::is_extension_of;

/// `http://jabber.org/protocol/xhtml-im`, the wrapper's namespace (§4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0071_xhtml_im::NS, "http://jabber.org/protocol/xhtml-im");
/// ```
pub const NS: &str = "http://jabber.org/protocol/xhtml-im";

/// `http://www.w3.org/1999/xhtml`, the namespace of the XHTML `<body/>` and its content (§4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0071_xhtml_im::XHTML, "http://www.w3.org/1999/xhtml");
/// ```
pub const XHTML: &str = "http://www.w3.org/1999/xhtml";

moxl_core::feature!("http://jabber.org/protocol/xhtml-im");

/// An empty XHTML `<body/>` to append `<p/>`, `<strong/>`… to (each made with `ElementBuilder::new(name, XHTML)`).
///
/// ```
/// use moxl_core::xml::ElementBuilder;
/// use moxl_xep::xep_0071_xhtml_im::{xhtml_body, XHTML};
/// let body = xhtml_body().append(ElementBuilder::new("p", XHTML).text("hi!")).build()?;
/// assert_eq!(body.to_xml(), "<body xmlns='http://www.w3.org/1999/xhtml'><p>hi!</p></body>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn xhtml_body() -> ElementBuilder {
    ElementBuilder::new("body", XHTML)
}

/// Adds the XHTML version of the message (§7): `body` is an XHTML `<body/>` (from [`xhtml_body`], or parsed
/// markup). The message keeps its plain `<body/>`, which §7 requires as the fallback.
///
/// ```
/// use moxl_core::stanza::message;
/// use moxl_core::xml::{Element, ElementBuilder};
/// use moxl_xep::xep_0071_xhtml_im::{with_xhtml, xhtml_body, XHTML};
/// // XEP-0071 §7, Example 1 (abridged)
/// let body = xhtml_body().append(ElementBuilder::new("p", XHTML).attr("style", "font-weight:bold").text("hi!"));
/// let m = with_xhtml(message("juliet@example.com", "chat", Some("hi!")), body).build()?;
/// assert_eq!(
///     m.to_xml(),
///     "<message xmlns='jabber:client' to='juliet@example.com' type='chat'><body>hi!</body>\
///      <html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>\
///      <p style='font-weight:bold'>hi!</p></body></html></message>"
/// );
/// // the same from markup
/// let parsed = Element::parse("<body xmlns='http://www.w3.org/1999/xhtml'><p style='font-weight:bold'>hi!</p></body>")?;
/// assert_eq!(with_xhtml(message("juliet@example.com", "chat", Some("hi!")), parsed).build()?.to_xml(), m.to_xml());
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_xhtml(message: ElementBuilder, body: impl Into<ElementOrBuilder>) -> ElementBuilder {
    message.append(ElementBuilder::new("html", NS).append(body))
}

/// One XHTML body of a received message, as untrusted markup (see the [module documentation](self)).
///
/// ```
/// use moxl_core::xml::Element;
/// let m = Element::parse("<message xmlns='jabber:client'><html xmlns='http://jabber.org/protocol/xhtml-im'>\
///     <body xmlns='http://www.w3.org/1999/xhtml' xml:lang='fr'><p>salut</p></body></html></message>")?;
/// let b = &moxl_xep::xep_0071_xhtml_im::XhtmlIm::from_message(&m).unwrap().bodies[0];
/// assert_eq!((b.lang.as_deref(), b.plain_text().as_str()), (Some("fr"), "salut"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct XhtmlBody {
    /// The body's `xml:lang`, if any (§7: one body per language).
    pub lang: Option<String>,
    /// The `<body xmlns='http://www.w3.org/1999/xhtml'>…</body>` element as XML text, unchanged and unchecked.
    pub markup: String,
}

impl XhtmlBody {
    /// The markup's text with the tags left out (`<br/>` and the end of a `<p/>` become line breaks).
    pub fn plain_text(&self) -> String {
        plain_text(&self.markup)
    }
}

/// The XHTML-IM content of a received message.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0071_xhtml_im::XhtmlIm;
/// // XEP-0071 §7, Example 1 (abridged)
/// let m = Element::parse("<message xmlns='jabber:client' from='juliet@example.com/balcony'><body>hi!</body>\
///     <html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>\
///     <p style='font-weight:bold'>hi!</p></body></html></message>")?;
/// let x = XhtmlIm::from_message(&m).unwrap();
/// assert_eq!(x.fallback.as_deref(), Some("hi!"));
/// assert_eq!(x.bodies[0].markup, "<body xmlns='http://www.w3.org/1999/xhtml'><p style='font-weight:bold'>hi!</p></body>");
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct XhtmlIm {
    /// The sender.
    pub from: Option<String>,
    /// The XHTML bodies, one per language.
    pub bodies: Vec<XhtmlBody>,
    /// The message's plain `<body/>` (the first), the text to show when the markup is not shown.
    pub fallback: Option<String>,
}

impl XhtmlIm {
    /// Reads the `<html/>` of a message; `None` without one (or without any XHTML body in it).
    pub fn from_message(stanza: &Element) -> Option<XhtmlIm> {
        let html = stanza.child("html", NS)?;
        let bodies: Vec<XhtmlBody> = html
            .children()
            .filter(|b| b.is("body", XHTML))
            .map(|b| XhtmlBody { lang: b.attr("xml:lang").map(Cow::into_owned), markup: b.to_xml() })
            .collect();
        if bodies.is_empty() {
            return None;
        }
        Some(XhtmlIm {
            from: stanza.attr("from").map(Cow::into_owned),
            bodies,
            fallback: stanza.child_text("body", ns::CLIENT),
        })
    }

    /// The text to show without rendering markup: the plain body, else the first XHTML body's text.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let m = Element::parse("<message xmlns='jabber:client'><html xmlns='http://jabber.org/protocol/xhtml-im'>\
    ///     <body xmlns='http://www.w3.org/1999/xhtml'><p>a <em>b</em></p><p>c</p></body></html></message>")?;
    /// let x = moxl_xep::xep_0071_xhtml_im::XhtmlIm::from_message(&m).unwrap();
    /// assert_eq!(x.text(), "a b\nc");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn text(&self) -> String {
        match &self.fallback {
            Some(body) => body.clone(),
            None => self.bodies.first().map(XhtmlBody::plain_text).unwrap_or_default(),
        }
    }
}

/// The text of XML markup with the tags left out and the entities resolved; `<br/>` and `</p>`, `</div>`,
/// `</li>` become line breaks (trailing ones trimmed). No markup is interpreted otherwise.
///
/// ```
/// use moxl_xep::xep_0071_xhtml_im::plain_text;
/// assert_eq!(plain_text("<body><p>1 &lt; 2<br/>&amp; <a href='x'>link</a></p></body>"), "1 < 2\n& link");
/// assert_eq!(plain_text("<b><![CDATA[<not a tag>]]></b>&#x263A;&#65;"), "<not a tag>☺A");
/// ```
pub fn plain_text(markup: &str) -> String {
    let mut out = String::new();
    let mut rest = markup;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").unwrap_or(after.len());
            out.push_str(after.get(..end).unwrap_or_default());
            rest = after.get(end + 3..).unwrap_or_default();
        } else if c == '<' {
            let end = rest.find('>').unwrap_or(rest.len());
            let tag = rest.get(1..end).unwrap_or_default();
            let name = tag.trim_start_matches('/').split(|c: char| c.is_whitespace() || c == '/').next();
            let closing = tag.starts_with('/');
            if matches!(name, Some("br")) || (closing && matches!(name, Some("p" | "div" | "li"))) {
                out.push('\n');
            }
            rest = rest.get(end + 1..).unwrap_or_default();
        } else if c == '&' {
            let end = rest.find(';').filter(|&e| e <= 12);
            let entity = end.and_then(|e| rest.get(1..e));
            let resolved = entity.and_then(|e| match e {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let code = match e.strip_prefix("#x").or_else(|| e.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => e.strip_prefix('#').and_then(|d| d.parse().ok()),
                    };
                    code.and_then(char::from_u32)
                }
            });
            match (resolved, end) {
                (Some(ch), Some(e)) => {
                    out.push(ch);
                    rest = rest.get(e + 1..).unwrap_or_default();
                }
                _ => {
                    out.push('&');
                    rest = rest.get(1..).unwrap_or_default();
                }
            }
        } else {
            out.push(c);
            rest = rest.get(c.len_utf8()..).unwrap_or_default();
        }
    }
    out.trim_end_matches('\n').to_owned()
}

/// Delivers each message with XHTML-IM as an [`XhtmlIm`] under the Packet key `xhtmlim` (the markup untrusted,
/// see the [module documentation](self)).
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) {
/// let mut formatted = xec.subscribe("xhtmlim");
/// # }
/// ```
#[payload(name = "html", ns = "http://jabber.org/protocol/xhtml-im", key = "xhtmlim", at = "child")]
#[derive(Debug, Default)]
pub struct XhtmlMessages;

impl Payload for XhtmlMessages {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if is_extension_of(element, stanza)
            && let Some(x) = XhtmlIm::from_message(stanza)
        {
            ctx.pack(x).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    #[test]
    fn hostile_markup_is_kept_as_text_and_delivered_unrendered() {
        let xec = Xec::new().unwrap();
        let mut formatted = xec.subscribe("xhtmlim");
        let m = "<message xmlns='jabber:client' from='mallory@evil.example/x'><body>hello</body>\
            <html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml' xml:lang='en'>\
            <p onclick='steal()'>hello<script>steal()</script></p><img src='https://evil.example/track.png'/></body></html></message>";
        block_on(xec.dispatch(Element::parse(m).unwrap()));
        let p = formatted.try_recv().unwrap();
        let x = p.content::<XhtmlIm>().unwrap();
        assert_eq!(x.text(), "hello");
        assert_eq!(x.bodies[0].lang.as_deref(), Some("en"));
        assert!(
            x.bodies[0].markup.contains("<script>steal()</script>"),
            "kept verbatim, for the application's sanitizer"
        );
        assert_eq!(x.bodies[0].plain_text(), "hellosteal()");
        assert!(xec.take_outgoing().is_empty());
        // an <html/> without XHTML body, or deeper in the stanza, is nothing
        for xml in [
            "<message xmlns='jabber:client'><html xmlns='http://jabber.org/protocol/xhtml-im'/></message>",
            "<message xmlns='jabber:client'><x xmlns='urn:x'><html xmlns='http://jabber.org/protocol/xhtml-im'>\
             <body xmlns='http://www.w3.org/1999/xhtml'>x</body></html></x></message>",
        ] {
            block_on(xec.dispatch(Element::parse(xml).unwrap()));
            assert!(formatted.try_recv().is_none(), "{xml}");
        }
    }

    #[test]
    fn plain_text_survives_broken_markup() {
        for bad in ["<p", "&", "&#xFFFFFFFF;", "&unknown;", "<![CDATA[x", "a & b", "é<"] {
            let _ = plain_text(bad);
        }
        assert_eq!(plain_text("a & b"), "a & b");
        assert_eq!(plain_text("&#xD800;x"), "&#xD800;x");
    }
}
