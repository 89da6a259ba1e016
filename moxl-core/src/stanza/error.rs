//! [`StanzaError`]: the `<error/>` of a stanza (RFC 6120 §8.3).

use std::fmt;

use super::{Condition, ErrorType};
use crate::xml::{ns, Element, ElementBuilder};

/// A stanza error, read from a reply or built to answer a request (RFC 6120 §8.3).
///
/// ```
/// use moxl_core::stanza::{Condition, ErrorType, StanzaError};
/// use moxl_core::xml::Element;
/// // RFC 6120 §8.3.1, Example 11 (abridged)
/// let reply = Element::parse(
///     "<iq xmlns='jabber:client' from='im.example.com' id='xk3h1v69' to='juliet@im.example.com/balcony' type='error'>\
///        <error by='im.example.com' type='cancel'>\
///          <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
///          <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>No such service</text>\
///        </error></iq>",
/// )?;
/// let error = StanzaError::from_stanza(&reply).unwrap();
/// assert_eq!(error.condition(), Some(Condition::ServiceUnavailable));
/// assert_eq!(error.error_type(), Some(ErrorType::Cancel));
/// assert_eq!(error.text(), Some("No such service"));
/// assert_eq!(error.by(), Some("im.example.com"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanzaError {
    error_type: Option<ErrorType>,
    condition: Option<Condition>,
    condition_name: String,
    condition_text: Option<String>,
    text: Option<String>,
    by: Option<String>,
    app: Option<String>,
}

impl StanzaError {
    /// An error with this condition and its default type.
    pub fn new(condition: Condition) -> Self {
        StanzaError {
            error_type: Some(condition.default_type()),
            condition: Some(condition),
            condition_name: condition.as_str().to_owned(),
            condition_text: None,
            text: None,
            by: None,
            app: None,
        }
    }

    /// Sets the error type.
    pub fn with_type(mut self, error_type: ErrorType) -> Self {
        self.error_type = Some(error_type);
        self
    }

    /// Sets the human-readable text.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// An error reply that carried no `<error/>` element at all.
    pub(crate) fn missing() -> Self {
        StanzaError {
            error_type: None,
            condition: None,
            condition_name: String::new(),
            condition_text: None,
            text: None,
            by: None,
            app: None,
        }
    }

    /// Reads the `<error/>` child of a stanza, if it has one.
    ///
    /// An error with no defined condition (or one this library does not know) has `condition() == None`;
    /// [`condition_name`](Self::condition_name) then says what was received.
    pub fn from_stanza(stanza: &Element) -> Option<StanzaError> {
        let error = stanza.children().find(|c| c.name() == "error" && c.ns() == stanza.ns())?;
        let mut out = StanzaError {
            error_type: error.attr("type").and_then(|t| ErrorType::from_name(&t)),
            condition: None,
            condition_name: String::new(),
            condition_text: None,
            text: None,
            by: error.attr("by").map(|b| b.into_owned()),
            app: None,
        };
        for child in error.children() {
            if child.ns() != ns::STANZAS {
                out.app.get_or_insert_with(|| child.to_xml());
            } else if child.name() == "text" {
                out.text = Some(child.text().into_owned());
            } else if out.condition_name.is_empty() {
                out.condition = Condition::from_name(child.name());
                out.condition_name = child.name().to_owned();
                let t = child.text();
                out.condition_text = (!t.is_empty()).then(|| t.into_owned());
            }
        }
        Some(out)
    }

    /// The defined condition, if the error carried one this library knows.
    pub fn condition(&self) -> Option<Condition> {
        self.condition
    }

    /// The condition element's name as received (empty when there was none).
    pub fn condition_name(&self) -> &str {
        &self.condition_name
    }

    /// The text inside the condition element (the new address of `<gone/>` and `<redirect/>`).
    pub fn condition_text(&self) -> Option<&str> {
        self.condition_text.as_deref()
    }

    /// The error type (`None` when the peer sent none or an unknown one).
    pub fn error_type(&self) -> Option<ErrorType> {
        self.error_type
    }

    /// The human-readable `<text/>`.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The entity that generated the error (`by`).
    pub fn by(&self) -> Option<&str> {
        self.by.as_deref()
    }

    /// The application-specific condition element, serialized, if any.
    pub fn app_condition(&self) -> Option<&str> {
        self.app.as_deref()
    }

    /// The `<error/>` element, in the namespace of the stanza it goes into (`jabber:client`).
    pub fn to_builder(&self, stanza_ns: &'static str) -> ElementBuilder {
        let mut error =
            ElementBuilder::new("error", stanza_ns).attr_opt("type", self.error_type.map(ErrorType::as_str));
        let name = if self.condition_name.is_empty() { "undefined-condition" } else { &self.condition_name };
        error = error.append(ElementBuilder::new(name.to_owned(), ns::STANZAS));
        if let Some(text) = &self.text {
            error = error.append(ElementBuilder::new("text", ns::STANZAS).text(text.clone()));
        }
        error
    }
}

impl fmt::Display for StanzaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.condition_name.is_empty() { "no condition" } else { &self.condition_name };
        f.write_str(name)?;
        if let Some(t) = self.error_type {
            write!(f, " ({t})")?;
        }
        if let Some(text) = &self.text {
            write!(f, ": {text}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StanzaError {}
