//! [`Element`]: one received or built XML element, backed by its stanza's source text and a compact node table.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::attrs::AttrScanner;
use super::text::{escape_attr, unescape_attr, unescape_content};
use super::{StreamEvent, StreamParser, XmlError};
use crate::stanza::StreamCondition;

/// Index value meaning "no namespace".
pub(crate) const NO_NS: u8 = u8::MAX;

/// A namespace name, interned per parser and shared by the stanzas that use it (a thin pointer).
pub(crate) type NsName = Arc<String>;

/// One element of a [`Document`]: 16 bytes, all offsets relative to the document's source.
///
/// The compact fields set limits the parser enforces with `<policy-violation/>`: a start tag of at most
/// 64 KiB, a name of at most 255 bytes, at most 255 namespaces in one stanza.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    /// Offset of the `<` of the start tag.
    pub(crate) start: u32,
    /// Offset of the `</` of the end tag; equal to the end of the start tag for an empty-element tag.
    pub(crate) inner_end: u32,
    /// Index of the first node after this element's subtree (children are `self + 1 .. subtree_end`).
    pub(crate) subtree_end: u32,
    /// Length of the start tag, `<` to `>` included.
    pub(crate) tag_len: u16,
    /// Index into [`Document::ns`], or [`NO_NS`].
    pub(crate) ns: u8,
    /// Byte length of the qualified name (prefix included).
    pub(crate) name_len: u8,
}

impl Node {
    /// Offset just past the `>` of the start tag.
    pub(crate) fn tag_end(&self) -> u32 {
        self.start + u32::from(self.tag_len)
    }
}

/// What one stanza owns: its source text (already validated UTF-8 and well-formed), its nodes in document order,
/// and the namespaces they use.
pub(crate) struct Document {
    pub(crate) src: Box<str>,
    pub(crate) nodes: Box<[Node]>,
    pub(crate) ns: Box<[NsName]>,
    /// Prefixes declared outside the stanza (on the stream header) that its attributes use, with their
    /// namespaces: written out by [`Element::to_xml`] so that the XML stands alone. Almost always `None`.
    pub(crate) inherited: Option<Box<Inherited>>,
}

/// Prefix declarations from outside a stanza: `(prefix, namespace)`.
pub(crate) type Inherited = Vec<(Box<str>, NsName)>;

/// An XML element: cheap to clone (one reference count), cheap to keep, cheap to read.
///
/// Every stanza the [`StreamParser`] yields and every stanza an [`ElementBuilder`](super::ElementBuilder) builds
/// is an `Element`. Names, attributes and text are read straight from the stanza's source; text and attribute
/// values are unescaped when read (borrowed when there is nothing to unescape). Namespaces are resolved, the
/// inherited default namespace included (`jabber:client` applies to stanzas).
///
/// ```
/// use moxl_core::xml::Element;
/// let msg = Element::parse(
///     "<message xmlns='jabber:client' from='juliet@example.com/balcony' type='chat'>\
///        <body>Art thou not Romeo, &amp; a Montague?</body>\
///        <active xmlns='http://jabber.org/protocol/chatstates'/>\
///      </message>",
/// )?;
/// assert_eq!(msg.name(), "message");
/// assert_eq!(msg.ns(), "jabber:client");
/// assert_eq!(msg.attr("type").as_deref(), Some("chat"));
/// assert_eq!(msg.child("body", "jabber:client").unwrap().text(), "Art thou not Romeo, & a Montague?");
/// assert!(msg.child("active", "http://jabber.org/protocol/chatstates").is_some());
/// assert_eq!(msg.children().count(), 2);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Clone)]
pub struct Element {
    doc: Arc<Document>,
    idx: u32,
}

impl Element {
    pub(crate) fn from_document(doc: Document) -> Element {
        Element { doc: Arc::new(doc), idx: 0 }
    }

    /// Parses one complete element (a document with no stream around it). Undeclared namespaces are empty.
    ///
    /// ```
    /// let e = moxl_core::xml::Element::parse("<ping xmlns='urn:xmpp:ping'/>")?;
    /// assert!(e.is("ping", "urn:xmpp:ping"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn parse(xml: &str) -> Result<Element, XmlError> {
        let mut parser = StreamParser::framed();
        parser.feed(xml.as_bytes());
        let element = match parser.next_event()? {
            Some(StreamEvent::Element(element)) => element,
            _ => return Err(XmlError::new(StreamCondition::NotWellFormed, "not one complete element")),
        };
        parser.finish()?;
        Ok(element)
    }

    fn node(&self) -> &Node {
        self.node_at(self.idx)
    }

    fn node_at(&self, idx: u32) -> &Node {
        // `idx` always comes from this document's node table; the first node exists in every document.
        static FALLBACK: Node = Node { start: 0, inner_end: 0, subtree_end: 1, tag_len: 0, ns: NO_NS, name_len: 0 };
        self.doc.nodes.get(idx as usize).unwrap_or(&FALLBACK)
    }

    fn slice(&self, start: u32, end: u32) -> &str {
        self.doc.src.get(start as usize..end as usize).unwrap_or("")
    }

    /// The element at node `idx` of the same stanza.
    pub(crate) fn at(&self, idx: u32) -> Element {
        Element { doc: Arc::clone(&self.doc), idx }
    }

    /// The node and namespace tables, for tests comparing two ways of making an element.
    #[cfg(test)]
    pub(crate) fn debug_tables(&self) -> String {
        format!("{:?} {:?} {:?}", self.doc.nodes, self.doc.ns, self.doc.inherited)
    }

    /// The index of this element in its stanza.
    pub(crate) fn index(&self) -> u32 {
        self.idx
    }

    /// The index of the first node after the subtree of node `idx`.
    pub(crate) fn subtree_end_of(&self, idx: u32) -> u32 {
        self.node_at(idx).subtree_end.max(idx + 1)
    }

    /// Local name and namespace of node `idx`, without making an `Element` of it.
    pub(crate) fn name_ns_at(&self, idx: u32) -> (&str, &str) {
        let n = self.node_at(idx);
        let q = self.slice(n.start + 1, n.start + 1 + u32::from(n.name_len));
        let name = q.split_once(':').map_or(q, |(_, local)| local);
        let ns = if n.ns == NO_NS { "" } else { self.doc.ns.get(usize::from(n.ns)).map_or("", |s| s.as_str()) };
        (name, ns)
    }

    /// The qualified name as written (`stream:features`, `message`).
    pub fn qname(&self) -> &str {
        let n = self.node();
        self.slice(n.start + 1, n.start + 1 + u32::from(n.name_len))
    }

    /// The local name (without prefix).
    pub fn name(&self) -> &str {
        self.name_ns_at(self.idx).0
    }

    /// The namespace URI, or `""` when the element is in no namespace.
    pub fn ns(&self) -> &str {
        self.name_ns_at(self.idx).1
    }

    /// Is this the element `name` in namespace `ns`?
    pub fn is(&self, name: &str, ns: &str) -> bool {
        self.name() == name && self.ns() == ns
    }

    /// The raw text of the start tag between the name and the closing `>` or `/>`.
    fn raw_attrs(&self) -> &str {
        let n = self.node();
        let mut end = n.tag_end().saturating_sub(1);
        if self.is_empty_tag() {
            end = end.saturating_sub(1);
        }
        self.slice(n.start + 1 + u32::from(n.name_len), end)
    }

    fn is_empty_tag(&self) -> bool {
        let n = self.node();
        let tag_end = n.tag_end();
        n.inner_end == tag_end && tag_end >= 2 && self.doc.src.as_bytes().get(tag_end as usize - 2) == Some(&b'/')
    }

    /// The value of the attribute with this qualified name (`id`, `xml:lang`), unescaped.
    ///
    /// ```
    /// let e = moxl_core::xml::Element::parse("<iq xmlns='jabber:client' id='a&amp;b' type='get'/>")?;
    /// assert_eq!(e.attr("id").as_deref(), Some("a&b"));
    /// assert_eq!(e.attr("to"), None);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn attr(&self, name: &str) -> Option<Cow<'_, str>> {
        self.raw_attr_iter().find(|a| a.name == name).map(|a| unescape_attr(a.value))
    }

    /// Whether the attribute is present.
    pub fn has_attr(&self, name: &str) -> bool {
        self.raw_attr_iter().any(|a| a.name == name)
    }

    /// The attributes, in document order, without namespace declarations (`xmlns`, `xmlns:*`).
    ///
    /// ```
    /// let e = moxl_core::xml::Element::parse("<item xmlns='jabber:iq:roster' jid='a@b' name='A'/>")?;
    /// let attrs: Vec<_> = e.attrs().map(|(k, v)| format!("{k}={v}")).collect();
    /// assert_eq!(attrs, ["jid=a@b", "name=A"]);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn attrs(&self) -> Attrs<'_> {
        Attrs { raw: self.raw_attr_iter() }
    }

    fn raw_attr_iter(&self) -> AttrScanner<'_> {
        AttrScanner::new(self.raw_attrs())
    }

    /// The child elements, in document order.
    pub fn children(&self) -> Children {
        let n = self.node();
        Children { parent: self.clone(), next: self.idx + 1, end: n.subtree_end }
    }

    /// Whether the element has child elements.
    pub fn has_children(&self) -> bool {
        self.node().subtree_end > self.idx + 1
    }

    /// The first child element named `name` in namespace `ns`.
    pub fn child(&self, name: &str, ns: &str) -> Option<Element> {
        self.children().find(|c| c.is(name, ns))
    }

    /// The first child element, whatever its name.
    pub fn first_child(&self) -> Option<Element> {
        self.children().next()
    }

    /// The text directly inside this element (text nodes and CDATA sections, not the text of children),
    /// unescaped.
    ///
    /// ```
    /// let e = moxl_core::xml::Element::parse("<body>a &lt; b<![CDATA[ & <c>]]></body>")?;
    /// assert_eq!(e.text(), "a < b & <c>");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn text(&self) -> Cow<'_, str> {
        let n = *self.node();
        if !self.has_children() {
            return unescape_content(self.slice(n.tag_end(), n.inner_end));
        }
        let mut out = String::new();
        let mut pos = n.tag_end();
        for child in self.children() {
            let cn = child.node();
            super::text::push_unescaped_content(self.slice(pos, cn.start), &mut out);
            pos = child.end_offset();
        }
        super::text::push_unescaped_content(self.slice(pos, n.inner_end), &mut out);
        Cow::Owned(out)
    }

    /// The text of the child `name` in `ns`, if that child exists.
    ///
    /// ```
    /// let e = moxl_core::xml::Element::parse("<message xmlns='jabber:client'><body>hi</body></message>")?;
    /// assert_eq!(e.child_text("body", "jabber:client").as_deref(), Some("hi"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn child_text(&self, name: &str, ns: &str) -> Option<String> {
        self.child(name, ns).map(|c| c.text().into_owned())
    }

    /// Offset just past this element's end tag.
    fn end_offset(&self) -> u32 {
        let n = self.node();
        if n.inner_end == n.tag_end() && self.is_empty_tag() {
            return n.tag_end();
        }
        let after = self.doc.src.as_bytes().get(n.inner_end as usize..).unwrap_or_default();
        memchr::memchr(b'>', after).map_or(n.inner_end, |i| n.inner_end + i as u32 + 1)
    }

    /// The top-level element of the stanza this element belongs to.
    pub fn root(&self) -> Element {
        Element { doc: Arc::clone(&self.doc), idx: 0 }
    }

    /// Whether two handles point at the same element of the same stanza.
    pub fn ptr_eq(&self, other: &Element) -> bool {
        Arc::ptr_eq(&self.doc, &other.doc) && self.idx == other.idx
    }

    /// Heap bytes kept alive by this element's stanza (source text, node table, namespace table and the shared
    /// header), for memory accounting.
    pub fn retained_bytes(&self) -> usize {
        std::mem::size_of::<Document>()
            + 2 * std::mem::size_of::<usize>()
            + self.doc.src.len()
            + std::mem::size_of_val::<[Node]>(&self.doc.nodes)
            + std::mem::size_of_val::<[NsName]>(&self.doc.ns)
            + self.doc.inherited.as_ref().map_or(0, |v| {
                std::mem::size_of::<Inherited>()
                    + v.iter().map(|(p, _)| p.len() + std::mem::size_of::<(Box<str>, NsName)>()).sum::<usize>()
            })
    }

    /// Serializes the element with its namespace declared (`xmlns='…'`).
    ///
    /// ```
    /// let e = moxl_core::xml::Element::parse("<a xmlns='urn:x' k=\"v\"><b>t &amp; u</b></a>")?;
    /// assert_eq!(e.to_xml(), "<a xmlns='urn:x' k=\"v\"><b>t &amp; u</b></a>");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(self.slice(self.node().start, self.end_offset()).len() + 32);
        self.write_xml(&mut out, None);
        out
    }

    /// Appends the serialized element to `out`. `default_ns` is the namespace in scope where it is written
    /// (for a stanza on a client stream, `Some("jabber:client")`, so that no redundant `xmlns` is written).
    /// Prefixed names are written unprefixed with a default namespace declaration.
    ///
    /// Prefixes that attributes use and that are declared outside the element (on an ancestor, or on the stream
    /// header) are declared on it, so that the output is namespace-well-formed on its own.
    ///
    /// ```
    /// let e = moxl_core::xml::Element::parse("<a xmlns:p='urn:p'><b p:k='v'/></a>")?;
    /// let b = e.first_child().unwrap();
    /// assert_eq!(b.to_xml(), "<b xmlns='' p:k='v' xmlns:p='urn:p'/>");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn write_xml(&self, out: &mut String, default_ns: Option<&str>) {
        self.write_node(out, default_ns, true);
    }

    fn write_node(&self, out: &mut String, default_ns: Option<&str>, top: bool) {
        let ns = self.ns();
        out.push('<');
        // The `xml` prefix is bound by definition and its namespace may not be the default one.
        let xml_ns = ns == super::ns::XML;
        let name = if xml_ns { self.qname() } else { self.name() };
        out.push_str(name);
        if default_ns != Some(ns) && !xml_ns {
            out.push_str(" xmlns='");
            out.push_str(&escape_attr(ns));
            out.push('\'');
        }
        let inner_default = if xml_ns { default_ns } else { Some(ns) };
        for a in self.raw_attr_iter() {
            if a.name == "xmlns" {
                continue;
            }
            out.push(' ');
            out.push_str(a.name);
            out.push('=');
            out.push(a.quote);
            out.push_str(a.value);
            out.push(a.quote);
        }
        if top {
            self.write_outside_declarations(out);
        }
        let n = *self.node();
        if n.inner_end == n.tag_end() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        let mut pos = n.tag_end();
        for child in self.children() {
            out.push_str(self.slice(pos, child.node().start));
            child.write_node(out, inner_default, false);
            pos = child.end_offset();
        }
        out.push_str(self.slice(pos, n.inner_end));
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }

    /// Declares the prefixes that attributes of this subtree use without a declaration inside it (Namespaces
    /// in XML 1.0 §5: every prefix must be declared).
    fn write_outside_declarations(&self, out: &mut String) {
        let end = self.subtree_end_of(self.idx);
        let mut declared: Vec<String> = Vec::new();
        for k in self.idx..end {
            let node = self.at(k);
            for a in node.raw_attr_iter() {
                let Some((prefix, _)) = a.name.split_once(':') else { continue };
                if prefix == "xml" || prefix == "xmlns" || declared.iter().any(|d| d == prefix) {
                    continue;
                }
                // Declared on `k` or an ancestor of `k` inside the subtree?
                let inside = (self.idx..=k)
                    .filter(|j| *j == k || self.subtree_end_of(*j) > k)
                    .any(|j| self.at(j).declaration(prefix).is_some());
                if inside {
                    continue;
                }
                let outside = (0..self.idx)
                    .rev()
                    .filter(|j| self.subtree_end_of(*j) > self.idx)
                    .find_map(|j| self.at(j).declaration(prefix).map(|(q, v)| (q, v.to_owned())))
                    .or_else(|| {
                        let inherited = self.doc.inherited.as_deref()?;
                        let (_, uri) = inherited.iter().find(|(p, _)| &**p == prefix)?;
                        Some(('\'', escape_attr(uri).into_owned()))
                    });
                if let Some((quote, value)) = outside {
                    out.push_str(" xmlns:");
                    out.push_str(prefix);
                    out.push('=');
                    out.push(quote);
                    out.push_str(&value);
                    out.push(quote);
                }
                declared.push(prefix.to_owned());
            }
        }
    }

    /// This element's own `xmlns:prefix` declaration: its quote and raw value.
    fn declaration(&self, prefix: &str) -> Option<(char, &str)> {
        self.raw_attr_iter().find(|a| a.name.strip_prefix("xmlns:") == Some(prefix)).map(|a| (a.quote, a.value))
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_xml())
    }
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Element({})", self.to_xml())
    }
}

/// Iterator over the child elements of an [`Element`] (see [`Element::children`]). It holds its own handle on
/// the stanza, so it can outlive the element it came from (`e.children().flat_map(|c| c.children())`).
pub struct Children {
    parent: Element,
    next: u32,
    end: u32,
}

impl fmt::Debug for Children {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Children").field("parent", &self.parent.name()).finish_non_exhaustive()
    }
}

impl Iterator for Children {
    type Item = Element;

    fn next(&mut self) -> Option<Element> {
        if self.next >= self.end {
            return None;
        }
        let idx = self.next;
        self.next = self.parent.node_at(idx).subtree_end.max(idx + 1);
        Some(Element { doc: Arc::clone(&self.parent.doc), idx })
    }
}

/// Iterator over the attributes of an [`Element`] (see [`Element::attrs`]): `(qualified name, unescaped value)`.
pub struct Attrs<'a> {
    raw: AttrScanner<'a>,
}

impl fmt::Debug for Attrs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attrs").finish_non_exhaustive()
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let a = self.raw.next()?;
            if a.name == "xmlns" || a.name.starts_with("xmlns:") {
                continue;
            }
            return Some((a.name, unescape_attr(a.value)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(s: &str) -> Element {
        match Element::parse(s) {
            Ok(e) => e,
            Err(e) => unreachable!("fixture does not parse: {e}"),
        }
    }

    #[test]
    fn node_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Node>(), 16);
    }

    #[test]
    fn navigation_and_namespaces() {
        let e = el("<a xmlns='urn:a' xmlns:p='urn:p'><p:b x='1'><c/></p:b>text<d xmlns='urn:d'>t</d></a>");
        assert_eq!(e.ns(), "urn:a");
        let kids: Vec<_> = e.children().map(|c| (c.qname().to_owned(), c.ns().to_owned())).collect();
        assert_eq!(kids, [("p:b".to_owned(), "urn:p".to_owned()), ("d".to_owned(), "urn:d".to_owned())]);
        let b = e.child("b", "urn:p").unwrap_or_else(|| unreachable!());
        assert_eq!(b.name(), "b");
        assert_eq!(b.child("c", "urn:a").map(|c| c.ns().to_owned()), Some("urn:a".to_owned()));
        assert_eq!(e.text(), "text");
        assert!(e.root().ptr_eq(&e));
    }

    #[test]
    fn round_trip() {
        for s in [
            "<a xmlns='urn:a'/>",
            "<a xmlns='urn:a' k='v&amp;w' j=\"it's\"><b xmlns='urn:b'>x &lt; y</b><c>z</c></a>",
            "<a xmlns='urn:a'>x<![CDATA[<y>]]>z</a>",
        ] {
            let e = el(s);
            let again = el(&e.to_xml());
            assert_eq!(again.to_xml(), e.to_xml(), "{s}");
            assert_eq!(e.to_xml(), s);
        }
        // prefixes are written as default namespaces
        let e = el("<s:x xmlns:s='urn:s'><s:y/></s:x>");
        assert_eq!(e.to_xml(), "<x xmlns='urn:s' xmlns:s='urn:s'><y/></x>");
        // no namespace inside a namespace gets xmlns=''
        let e = el("<a xmlns='urn:a'><b xmlns=''/></a>");
        assert_eq!(e.to_xml(), "<a xmlns='urn:a'><b xmlns=''/></a>");
    }
}
