//! [`ElementBuilder`]: writes the elements we send.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rustc_hash::FxHashMap;

use super::element::{Document, Node, NsName, NO_NS};
use super::text::{escape_attr, escape_text, is_valid_name};
use super::{ns, Element, Limits};
use crate::Error;

/// Builds an [`Element`] to send. Values are escaped when written; names are checked when built.
///
/// Stanza builders grouped by theme ([`crate::stanza`]) return `ElementBuilder`s, so that callers can add
/// children and attributes before building.
///
/// ```
/// use moxl_core::xml::{Element, ElementBuilder};
/// let iq = Element::builder("iq", "jabber:client")
///     .attr("type", "set")
///     .attr("id", "push1")
///     .append(
///         ElementBuilder::new("query", "jabber:iq:roster")
///             .append(ElementBuilder::new("item", "jabber:iq:roster").attr("jid", "nurse@example.com").attr("name", "Nurse & co")),
///     )
///     .build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='set' id='push1'><query xmlns='jabber:iq:roster'>\
///      <item jid='nurse@example.com' name='Nurse &amp; co'/></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ElementBuilder {
    name: Cow<'static, str>,
    ns: Cow<'static, str>,
    attrs: Vec<(Cow<'static, str>, String)>,
    children: Vec<Child>,
}

#[derive(Debug, Clone)]
enum Child {
    Builder(ElementBuilder),
    Element(Element),
    Text(String),
}

impl Element {
    /// Starts building an element named `name` in namespace `ns` (see [`ElementBuilder`]).
    pub fn builder(name: impl Into<Cow<'static, str>>, ns: impl Into<Cow<'static, str>>) -> ElementBuilder {
        ElementBuilder::new(name, ns)
    }
}

impl ElementBuilder {
    /// An element named `name` in namespace `ns` (`""` for no namespace).
    pub fn new(name: impl Into<Cow<'static, str>>, ns: impl Into<Cow<'static, str>>) -> Self {
        ElementBuilder { name: name.into(), ns: ns.into(), attrs: Vec::new(), children: Vec::new() }
    }

    /// Sets an attribute (replacing one of the same name).
    pub fn attr(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.set_attr(name, value);
        self
    }

    /// Sets an attribute when `value` is `Some`.
    ///
    /// ```
    /// let b = moxl_core::xml::ElementBuilder::new("presence", "jabber:client").attr_opt("to", None::<String>);
    /// assert_eq!(b.get_attr("to"), None);
    /// ```
    pub fn attr_opt(self, name: impl Into<Cow<'static, str>>, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    /// Sets an attribute in place (replacing one of the same name).
    pub fn set_attr(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self.attrs.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((name, value)),
        }
    }

    /// The value of an attribute set so far.
    pub fn get_attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The element's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The element's namespace.
    pub fn ns(&self) -> &str {
        &self.ns
    }

    /// Appends a child element (a builder or an existing [`Element`], e.g. a form or a forwarded stanza).
    pub fn append(mut self, child: impl Into<ElementOrBuilder>) -> Self {
        self.push(child);
        self
    }

    /// Appends a child in place.
    pub fn push(&mut self, child: impl Into<ElementOrBuilder>) {
        self.children.push(match child.into().0 {
            Either::Builder(b) => Child::Builder(b),
            Either::Element(e) => Child::Element(e),
        });
    }

    /// Appends text (escaped when written).
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Child::Text(text.into()));
        self
    }

    /// Appends a child `<name>text</name>` in this element's namespace.
    ///
    /// ```
    /// let m = moxl_core::xml::Element::builder("message", "jabber:client").text_child("body", "hi").build()?;
    /// assert_eq!(m.to_xml(), "<message xmlns='jabber:client'><body>hi</body></message>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn text_child(self, name: impl Into<Cow<'static, str>>, text: impl Into<String>) -> Self {
        let child = ElementBuilder::new(name, self.ns.clone()).text(text);
        self.append(child)
    }

    /// Writes the XML. `default_ns` is the namespace in scope (see [`Element::write_xml`]).
    pub fn write_xml(&self, out: &mut String, default_ns: Option<&str>) -> Result<(), Error> {
        if !is_valid_name(&self.name) {
            return Err(Error::InvalidName(self.name.to_string()));
        }
        out.push('<');
        out.push_str(&self.name);
        if default_ns != Some(&self.ns) {
            out.push_str(" xmlns='");
            out.push_str(&escape_attr(&self.ns));
            out.push('\'');
        }
        for (k, v) in &self.attrs {
            if !is_valid_name(k) || k == "xmlns" || k.starts_with("xmlns:") {
                return Err(Error::InvalidName(k.to_string()));
            }
            out.push(' ');
            out.push_str(k);
            out.push_str("='");
            out.push_str(&escape_attr(v));
            out.push('\'');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return Ok(());
        }
        out.push('>');
        for child in &self.children {
            match child {
                Child::Builder(b) => b.write_xml(out, Some(&self.ns))?,
                Child::Element(e) => e.write_xml(out, Some(&self.ns)),
                Child::Text(t) => out.push_str(&escape_text(t)),
            }
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
        Ok(())
    }

    /// Builds the element.
    ///
    /// Fails only when a name is not a valid XML name (names usually are constants; values are escaped), or when
    /// the element is not one the parser would accept (a character outside XML's `Char`, beyond the
    /// [`Limits`]).
    pub fn build(&self) -> Result<Element, Error> {
        let mut xml = String::with_capacity(128);
        // The common case: the node table is recorded while writing, and the XML is not parsed again.
        let mut table = Table { nodes: Vec::with_capacity(self.count_nodes()), ns: Vec::with_capacity(2) };
        if self.write_indexed(&mut xml, None, &mut table, 1).is_some() {
            if let Some(doc) = table.finish(&xml) {
                return Ok(Element::from_document(doc));
            }
        }
        // Anything the direct path does not vouch for (an appended `Element`, a prefixed name, an invalid
        // character, a limit) is written and parsed: the parser accepts or rejects it.
        xml.clear();
        self.write_xml(&mut xml, None)?;
        Ok(Element::parse(&xml)?)
    }

    /// How many elements this one holds, itself included (appended [`Element`]s count as one).
    fn count_nodes(&self) -> usize {
        1 + self.children.iter().map(|c| if let Child::Builder(b) = c { b.count_nodes() } else { 0 }).sum::<usize>()
    }

    /// [`write_xml`](Self::write_xml) recording each element's [`Node`] as the parser would; `None` when the
    /// element needs the parser's verdict (see [`build`](Self::build)).
    fn write_indexed(&self, out: &mut String, default_ns: Option<&str>, table: &mut Table, depth: usize) -> Option<()> {
        if depth >= Limits::DEFAULT.max_depth || !is_valid_name(&self.name) || self.name.contains(':') {
            return None;
        }
        let start = u32::try_from(out.len()).ok()?;
        let idx = table.nodes.len();
        let ns_idx = table.ns_index(&self.ns)?;
        out.push('<');
        out.push_str(&self.name);
        if default_ns != Some(&self.ns) {
            if self.ns == ns::XML || self.ns == XMLNS_NS {
                return None;
            }
            out.push_str(" xmlns='");
            out.push_str(&escape_attr(&self.ns));
            out.push('\'');
        }
        for (k, v) in &self.attrs {
            let prefixed = match k.split_once(':') {
                Some((prefix, _)) => prefix != "xml",
                None => false,
            };
            if prefixed || !is_valid_name(k) || k == "xmlns" || k.starts_with("xmlns:") {
                return None;
            }
            out.push(' ');
            out.push_str(k);
            out.push_str("='");
            out.push_str(&escape_attr(v));
            out.push('\'');
        }
        out.push_str(if self.children.is_empty() { "/>" } else { ">" });
        let tag_end = u32::try_from(out.len()).ok()?;
        table.nodes.push(Node {
            start,
            inner_end: tag_end,
            subtree_end: 0,
            tag_len: u16::try_from(tag_end - start).ok().filter(|l| *l < u16::MAX)?,
            ns: ns_idx,
            name_len: u8::try_from(self.name.len()).ok().filter(|l| *l < u8::MAX)?,
        });
        if !self.children.is_empty() {
            for child in &self.children {
                match child {
                    Child::Builder(b) => b.write_indexed(out, Some(&self.ns), table, depth + 1)?,
                    Child::Element(_) => return None,
                    Child::Text(t) => out.push_str(&escape_text(t)),
                }
            }
            let inner_end = u32::try_from(out.len()).ok()?;
            out.push_str("</");
            out.push_str(&self.name);
            out.push('>');
            table.nodes.get_mut(idx)?.inner_end = inner_end;
        }
        let subtree_end = u32::try_from(table.nodes.len()).ok()?;
        table.nodes.get_mut(idx)?.subtree_end = subtree_end;
        Some(())
    }
}

/// The namespace bound to the `xmlns` prefix, which no declaration may use (Namespaces in XML 1.0 §3).
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// The node and namespace tables of an element being built.
struct Table {
    nodes: Vec<Node>,
    ns: Vec<NsName>,
}

impl Table {
    /// The index of `uri` in the element's namespace table ([`NO_NS`] for none), as the parser numbers them:
    /// in order of first use.
    fn ns_index(&mut self, uri: &str) -> Option<u8> {
        if uri.is_empty() {
            return Some(NO_NS);
        }
        let idx = match self.ns.iter().position(|n| n.as_str() == uri) {
            Some(i) => i,
            None => {
                self.ns.push(interned(uri));
                self.ns.len() - 1
            }
        };
        u8::try_from(idx).ok().filter(|i| *i != NO_NS)
    }

    /// The document, if the parser would accept it whole: every character an XML `Char`, within the stanza
    /// size limit.
    fn finish(self, xml: &str) -> Option<Document> {
        if xml.len() >= Limits::DEFAULT.max_stanza_bytes || super::scan::check_chars(xml.as_bytes(), true).is_err() {
            return None;
        }
        Some(Document { src: xml.into(), nodes: self.nodes.into(), ns: self.ns.into(), inherited: None })
    }
}

/// Namespace names of built elements, shared process-wide (a program uses a few dozen), like the parser's per
/// stream. Past this many, new ones are allocated per element.
const MAX_INTERNED: usize = 1024;

fn interned(uri: &str) -> NsName {
    static TABLE: OnceLock<Mutex<FxHashMap<Box<str>, NsName>>> = OnceLock::new();
    let mut table = TABLE.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(name) = table.get(uri) {
        return Arc::clone(name);
    }
    let name: NsName = Arc::new(uri.to_owned());
    if table.len() < MAX_INTERNED {
        table.insert(uri.into(), Arc::clone(&name));
    }
    name
}

/// Something [`ElementBuilder::append`] takes: an [`ElementBuilder`] or an [`Element`].
#[derive(Debug)]
pub struct ElementOrBuilder(Either);

impl ElementOrBuilder {
    /// The element, built if it was a builder.
    pub fn into_element(self) -> Result<Element, Error> {
        match self.0 {
            Either::Builder(b) => b.build(),
            Either::Element(e) => Ok(e),
        }
    }

    /// The element, built if it was a builder; an `<iq/>` builder without an id gets `id` (RFC 6120 §8.2.3:
    /// every iq carries one).
    pub(crate) fn into_stanza(self, id: impl FnOnce() -> String) -> Result<Element, Error> {
        match self.0 {
            Either::Builder(mut b) => {
                if b.name() == "iq" && b.ns() == super::ns::CLIENT && b.get_attr("id").is_none() {
                    b.set_attr("id", id());
                }
                b.build()
            }
            Either::Element(e) => Ok(e),
        }
    }
}

#[derive(Debug)]
enum Either {
    Builder(ElementBuilder),
    Element(Element),
}

impl From<ElementBuilder> for ElementOrBuilder {
    fn from(b: ElementBuilder) -> Self {
        ElementOrBuilder(Either::Builder(b))
    }
}

impl From<Element> for ElementOrBuilder {
    fn from(e: Element) -> Self {
        ElementOrBuilder(Either::Element(e))
    }
}

impl From<&Element> for ElementOrBuilder {
    fn from(e: &Element) -> Self {
        ElementOrBuilder(Either::Element(e.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_are_errors() {
        assert!(matches!(ElementBuilder::new("a b", "").build(), Err(Error::InvalidName(_))));
        assert!(matches!(ElementBuilder::new("a", "").attr("x y", "1").build(), Err(Error::InvalidName(_))));
        assert!(matches!(ElementBuilder::new("a", "").attr("xmlns", "u").build(), Err(Error::InvalidName(_))));
    }

    #[test]
    fn appends_received_elements() -> Result<(), Error> {
        let inner = Element::parse("<x xmlns='urn:x' a=\"1\"><y>&lt;</y></x>")?;
        let outer = ElementBuilder::new("wrap", "urn:w").append(&inner).text("t&").build()?;
        assert_eq!(outer.to_xml(), "<wrap xmlns='urn:w'><x xmlns='urn:x' a=\"1\"><y>&lt;</y></x>t&amp;</wrap>");
        assert_eq!(outer.child("x", "urn:x").map(|x| x.child_text("y", "urn:x")), Some(Some("<".to_owned())));
        Ok(())
    }

    /// The direct build records exactly the node and namespace tables the parser makes of the same XML, and
    /// leaves to the parser (with its verdict) what it does not vouch for.
    #[test]
    fn direct_build_matches_the_parser() -> Result<(), Error> {
        let nest = |levels: usize| {
            (1..levels)
                .fold(ElementBuilder::new("d", "urn:d"), |inner, _| ElementBuilder::new("d", "urn:d").append(inner))
        };
        let cases = [
            ElementBuilder::new("presence", ns::CLIENT),
            ElementBuilder::new("a", ""),
            ElementBuilder::new("a", "urn:a").text(""),
            ElementBuilder::new("message", ns::CLIENT)
                .attr("to", "romeo@example.net/orchard")
                .attr("id", "it's <&> \"q\"")
                .attr("xml:lang", "en")
                .text_child("body", "Wherefore art thou, Romeo? 🌹 & <b>")
                .append(ElementBuilder::new("active", "http://jabber.org/protocol/chatstates"))
                .append(
                    ElementBuilder::new("x", "")
                        .append(ElementBuilder::new("y", "urn:y").append(ElementBuilder::new("z", ""))),
                )
                .append(ElementBuilder::new("received", "urn:xmpp:receipts").attr("id", "m1"))
                .append(ElementBuilder::new("request", "urn:xmpp:receipts"))
                .text("tail\t\r\n]]>"),
            ElementBuilder::new("iq", ns::CLIENT).attr("type", "set").append(
                ElementBuilder::new("pubsub", "http://jabber.org/protocol/pubsub").append(
                    ElementBuilder::new("publish", "http://jabber.org/protocol/pubsub")
                        .attr("node", "urn:xmpp:microblog:0")
                        .append(ElementBuilder::new("item", "http://jabber.org/protocol/pubsub").text("é")),
                ),
            ),
            nest(31),
        ];
        for case in &cases {
            let built = case.build()?;
            let mut xml = String::new();
            case.write_xml(&mut xml, None)?;
            let parsed = Element::parse(&xml)?;
            assert_eq!(built.to_xml(), parsed.to_xml());
            assert_eq!(built.debug_tables(), parsed.debug_tables(), "{xml}");
        }
        // What the parser refuses is still refused, as the parser refuses it.
        for bad in [
            ElementBuilder::new("a", "urn:a").text("\u{1}"),
            ElementBuilder::new("a", "urn:a").attr("v", "\u{FFFF}"),
            ElementBuilder::new("a", "urn:a").attr("p:v", "1"),
            ElementBuilder::new("a", ns::XML),
            ElementBuilder::new("a", "urn:a").text("x".repeat(1 << 20)),
            nest(32),
            nest(33),
        ] {
            let mut xml = String::new();
            bad.write_xml(&mut xml, None)?;
            let expected = Element::parse(&xml).map(|e| e.to_xml()).map_err(|e| e.to_string());
            assert_eq!(
                bad.build().map(|e| e.to_xml()).map_err(|e| match e {
                    Error::Xml(x) => x.to_string(),
                    other => other.to_string(),
                }),
                expected
            );
        }
        Ok(())
    }
}
