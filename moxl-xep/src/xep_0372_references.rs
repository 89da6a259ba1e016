//! XEP-0372: References (namespace `urn:xmpp:reference:0`). A message points at another entity — a user it
//! mentions (`type='mention'`, §3.2), an item that can be fetched (`type='data'`, §3.3) — by URI, optionally
//! marking the part of its body that refers to it (`begin`/`end`) or, for an annotation of an earlier message,
//! naming that message (`anchor`, §3.4).
//!
//! [`Reference`] reads and builds one; the [`References`] Payload delivers each one a message carries as a
//! [`ReceivedReference`] (Packet key `messagereference`). The tests use the XEP's examples (§3.2–§3.4) as
//! fixtures.
//!
//! Offsets: §3.1 counts characters from 0 without defining "character" (a TODO of version 0.1); this module
//! counts Unicode code points, as XEP-0426 recommends and as XEP-0428 fallbacks do, and reads `end` as the
//! index just past the reference, which is what the XEP's own mention example does (`begin='72' end='78'`
//! spans the six letters of "Juliet").
//!
//! ```
//! use moxl_xep::xep_0372_references::{Reference, RefType};
//! let body = "Hello Juliet!";
//! let m = moxl_core::stanza::message("balcony@channels.shakespeare.lit", "groupchat", Some(body))
//!     .append(Reference::mention("juliet@capulet.lit").span(6, 12).to_element())
//!     .build()?;
//! let r = &Reference::all_in(&m)[0];
//! assert_eq!((&r.kind, r.text_in(body)), (&RefType::Mention, Some("Juliet")));
//! assert_eq!(r.mentioned().as_deref(), Some("juliet@capulet.lit"));
//! # Ok::<(), moxl_core::Error>(())
//! ```

use std::borrow::Cow;

use moxl_core::jid::Jid;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, payload};
use serde::{Deserialize, Serialize};

use crate::rfc6121_message::is_extension_of;

/// `urn:xmpp:reference:0` (§2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0372_references::NS, "urn:xmpp:reference:0");
/// ```
pub const NS: &str = "urn:xmpp:reference:0";

// §2: a client that implements references announces the namespace.
moxl_core::feature!("urn:xmpp:reference:0");

/// The `type` of a reference (§3).
///
/// ```
/// use moxl_xep::xep_0372_references::RefType;
/// assert_eq!(RefType::from_name("mention"), RefType::Mention);
/// assert_eq!(RefType::from_name("data").name(), "data");
/// assert_eq!(RefType::from_name("fdp"), RefType::Other("fdp".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RefType {
    /// `mention`: a user's bare JID (§3.2).
    Mention,
    /// `data`: an item that can be fetched (§3.3).
    Data,
    /// Any other type.
    Other(String),
}

impl RefType {
    /// The type of a `type` attribute.
    pub fn from_name(name: &str) -> RefType {
        match name {
            "mention" => RefType::Mention,
            "data" => RefType::Data,
            other => RefType::Other(other.to_owned()),
        }
    }

    /// The attribute value.
    pub fn name(&self) -> &str {
        match self {
            RefType::Mention => "mention",
            RefType::Data => "data",
            RefType::Other(o) => o,
        }
    }
}

/// A `<reference/>` (§3.1).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0372_references::{Reference, RefType};
/// // §3.4, Example 5: an annotation of an earlier message
/// let e = Element::parse("<reference xmlns='urn:xmpp:reference:0' type='data' \
///     anchor='xmpp:balcony@channels.shakespeare.lit?node=messages&amp;item=bnhob' begin='72' end='78' \
///     uri='xmpp:fdp.shakespeare.lit?node=fdp/submitted/stan.isode.net/accidentreport&amp;item=ndina872be'/>")?;
/// let r = Reference::from_element(&e).unwrap();
/// assert_eq!((r.kind, r.begin, r.end), (RefType::Data, Some(72), Some(78)));
/// assert_eq!(r.anchor.as_deref(), Some("xmpp:balcony@channels.shakespeare.lit?node=messages&item=bnhob"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reference {
    /// `type` (required).
    pub kind: RefType,
    /// `uri`: what is referenced (required).
    pub uri: String,
    /// `begin`: the code point of the body where the reference starts.
    pub begin: Option<usize>,
    /// `end`: the code point just past the reference.
    pub end: Option<usize>,
    /// `anchor`: the earlier message this reference annotates (§3.4).
    pub anchor: Option<String>,
}

impl Reference {
    /// A reference of `kind` to `uri`.
    ///
    /// ```
    /// use moxl_xep::xep_0372_references::{Reference, RefType};
    /// let r = Reference::new(RefType::Data, "https://example.org/a.png");
    /// assert_eq!(r.to_element().build()?.to_xml(), "<reference xmlns='urn:xmpp:reference:0' type='data' uri='https://example.org/a.png'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(kind: RefType, uri: impl Into<String>) -> Reference {
        Reference { kind, uri: uri.into(), begin: None, end: None, anchor: None }
    }

    /// A mention of the user `jid` (§3.2: `xmpp:` and their bare JID).
    ///
    /// ```
    /// let r = moxl_xep::xep_0372_references::Reference::mention("juliet@capulet.lit");
    /// assert_eq!(r.uri, "xmpp:juliet@capulet.lit");
    /// ```
    pub fn mention(jid: &str) -> Reference {
        Reference::new(RefType::Mention, format!("xmpp:{jid}"))
    }

    /// Marks the code points `begin..end` of the body as the reference.
    ///
    /// ```
    /// let r = moxl_xep::xep_0372_references::Reference::mention("juliet@capulet.lit").span(72, 78);
    /// assert_eq!((r.begin, r.end), (Some(72), Some(78)));
    /// ```
    pub fn span(mut self, begin: usize, end: usize) -> Reference {
        self.begin = Some(begin);
        self.end = Some(end);
        self
    }

    /// Anchors the reference to an earlier message (§3.4).
    ///
    /// ```
    /// let r = moxl_xep::xep_0372_references::Reference::mention("juliet@capulet.lit").anchor("xmpp:room@muc.example?node=messages&item=x");
    /// assert!(r.anchor.is_some());
    /// ```
    pub fn anchor(mut self, anchor: impl Into<String>) -> Reference {
        self.anchor = Some(anchor.into());
        self
    }

    /// Reads a `<reference/>`: `None` without a `type` or a `uri`; an offset that is not a number is left out.
    pub fn from_element(e: &Element) -> Option<Reference> {
        if !e.is("reference", NS) {
            return None;
        }
        let attr = |n: &str| e.attr(n).filter(|v| !v.is_empty());
        let offset = |n: &str| attr(n).and_then(|v| v.trim().parse().ok());
        Some(Reference {
            kind: RefType::from_name(&attr("type")?),
            uri: attr("uri")?.into_owned(),
            begin: offset("begin"),
            end: offset("end"),
            anchor: attr("anchor").map(Cow::into_owned),
        })
    }

    /// Every reference among a stanza's children, in order.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0372_references::Reference;
    /// let m = Element::parse("<message xmlns='jabber:client'><body>hi</body><reference xmlns='urn:xmpp:reference:0' type='mention' uri='xmpp:a@b'/></message>")?;
    /// assert_eq!(Reference::all_in(&m).len(), 1);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(stanza: &Element) -> Vec<Reference> {
        stanza.children().filter_map(|c| Reference::from_element(&c)).collect()
    }

    /// The element (attributes `type`, `uri`, then `begin`, `end`, `anchor` when set).
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("reference", NS)
            .attr("type", self.kind.name().to_owned())
            .attr("uri", self.uri.clone())
            .attr_opt("begin", self.begin.map(|b| b.to_string()))
            .attr_opt("end", self.end.map(|e| e.to_string()))
            .attr_opt("anchor", self.anchor.clone())
    }

    /// The part of `body` the reference marks (code points `begin..end`); `None` without both offsets, or when
    /// they do not fit the body.
    ///
    /// ```
    /// // §3.2, Example 3
    /// let body = "But, soft! what light through yonder window breaks? It is the east, and Juliet is the sun.";
    /// let r = moxl_xep::xep_0372_references::Reference::mention("juliet@capulet.lit").span(72, 78);
    /// assert_eq!(r.text_in(body), Some("Juliet"));
    /// assert_eq!(r.text_in("too short"), None);
    /// ```
    pub fn text_in<'a>(&self, body: &'a str) -> Option<&'a str> {
        let (begin, end) = (self.begin?, self.end?);
        if begin > end {
            return None;
        }
        // the byte offset of each code point, and of the end of the body
        let mut offsets = body.char_indices().map(|(i, _)| i).chain(std::iter::once(body.len()));
        let start = offsets.nth(begin)?;
        let stop = if end == begin { start } else { offsets.nth(end - begin - 1)? };
        body.get(start..stop)
    }

    /// The bare JID a mention names (its `xmpp:` URI without a query); `None` for another type or URI.
    ///
    /// ```
    /// use moxl_xep::xep_0372_references::{Reference, RefType};
    /// assert_eq!(Reference::mention("juliet@capulet.lit").mentioned().as_deref(), Some("juliet@capulet.lit"));
    /// assert_eq!(Reference::new(RefType::Data, "xmpp:juliet@capulet.lit").mentioned(), None);
    /// ```
    pub fn mentioned(&self) -> Option<String> {
        if self.kind != RefType::Mention {
            return None;
        }
        let path = self.uri.strip_prefix("xmpp:")?;
        let path = path.split(['?', '#']).next()?;
        Some(Jid::new(path).ok()?.to_bare().to_string())
    }
}

/// A reference a message carried.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut refs = xec.events::<moxl_xep::xep_0372_references::ReceivedReference>();
/// if let Some(r) = refs.recv().await {
///     let marked = r.body.as_deref().and_then(|body| r.reference.text_in(body));
///     println!("{:?} refers to {} as {marked:?}", r.from, r.reference.uri);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceivedReference {
    /// The sender.
    pub from: Option<String>,
    /// The message's `id`.
    pub id: Option<String>,
    /// The message's body, if any (what `begin`/`end` count in).
    pub body: Option<String>,
    /// The reference.
    pub reference: Reference,
}

/// Delivers each reference of a top-level message as a [`ReceivedReference`] (Packet key `messagereference`).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut refs = xec.events::<moxl_xep::xep_0372_references::ReceivedReference>();
/// while let Some(r) = refs.recv().await {
///     if let Some(jid) = r.reference.mentioned() {
///         println!("{:?} mentions {jid}", r.from);
///     }
/// }
/// # }
/// ```
#[payload(name = "reference", ns = "urn:xmpp:reference:0", key = "messagereference", at = "child")]
#[derive(Debug, Default)]
pub struct References;

impl Payload for References {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<ReceivedReference>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if is_extension_of(element, stanza)
            && let Some(reference) = Reference::from_element(element)
        {
            let attr = |n: &str| stanza.attr(n).map(Cow::into_owned);
            let body = stanza.child_text("body", moxl_core::xml::ns::CLIENT);
            ctx.pack(ReceivedReference { from: attr("from"), id: attr("id"), body, reference }).deliver();
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
    fn the_xeps_examples_are_read_delivered_and_rebuilt() {
        let xec = Xec::new().unwrap();
        let mut refs = xec.events::<ReceivedReference>();
        // §3.2, Example 3 (with a sender added)
        let mention = "<message xmlns='jabber:client' type='groupchat' id='sotehu-bthbtp32h3' to='balcony@channels.shakespeare.lit' from='romeo@montegue.lit/30d3d8'>\
            <body>But, soft! what light through yonder window breaks? It is the east, and Juliet is the sun.</body>\
            <reference xmlns='urn:xmpp:reference:0' begin='72' end='78' type='mention' uri='xmpp:juliet@capulet.lit'/></message>";
        block_on(xec.dispatch(Element::parse(mention).unwrap()));
        let r = refs.try_recv().unwrap();
        assert_eq!(r.id.as_deref(), Some("sotehu-bthbtp32h3"));
        assert_eq!(r.reference.text_in(r.body.as_deref().unwrap()), Some("Juliet"));
        assert_eq!(r.reference.mentioned().as_deref(), Some("juliet@capulet.lit"));
        let rebuilt = Reference::mention("juliet@capulet.lit").span(72, 78);
        assert_eq!(rebuilt, r.reference);
        assert_eq!(Reference::from_element(&rebuilt.to_element().build().unwrap()), Some(rebuilt));

        // §3.3, Example 4: a data reference without offsets
        let data = "<message xmlns='jabber:client' type='groupchat' id='sotehu-bthbtp32h4' from='balcony@channels.shakespeare.lit' to='romeo@montegue.lit/30d3d8'>\
            <body>Form received</body>\
            <reference xmlns='urn:xmpp:reference:0' type='data' uri='xmpp:fdp.shakespeare.lit?node=fdp/submitted/stan.isode.net/accidentreport&amp;item=ndina872be'/></message>";
        block_on(xec.dispatch(Element::parse(data).unwrap()));
        let r = refs.try_recv().unwrap();
        assert_eq!((&r.reference.kind, r.reference.begin, r.reference.end), (&RefType::Data, None, None));
        assert_eq!(
            r.reference.uri,
            "xmpp:fdp.shakespeare.lit?node=fdp/submitted/stan.isode.net/accidentreport&item=ndina872be"
        );
        assert_eq!(r.reference.text_in("Form received"), None);

        // offsets count code points, not bytes; broken ones read nothing
        let r = Reference::mention("a@b").span(2, 4);
        assert_eq!(r.text_in("é🎂ab!"), Some("ab"));
        assert_eq!(Reference::mention("a@b").span(4, 2).text_in("abcdef"), None);
        assert_eq!(Reference::mention("a@b").span(5, 5).text_in("abcde"), Some(""));
        // a reference without its required attributes, or in a bounce, is not delivered
        block_on(
            xec.dispatch(
                Element::parse(
                    "<message xmlns='jabber:client'><reference xmlns='urn:xmpp:reference:0' type='mention'/></message>",
                )
                .unwrap(),
            ),
        );
        block_on(xec.dispatch(Element::parse(&mention.replace("type='groupchat'", "type='error'")).unwrap()));
        assert!(refs.try_recv().is_none());
    }
}
