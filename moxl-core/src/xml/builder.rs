//! [`ElementBuilder`]: writes the elements we send.

use std::borrow::Cow;

use super::text::{escape_attr, escape_text, is_valid_name};
use super::Element;
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
    /// Fails only when a name is not a valid XML name (names usually are constants; values are escaped).
    pub fn build(&self) -> Result<Element, Error> {
        let mut xml = String::with_capacity(128);
        self.write_xml(&mut xml, None)?;
        Ok(Element::parse(&xml)?)
    }
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
}
