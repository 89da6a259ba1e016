//! The error the XML layer reports: a stream error condition and a text.

use crate::stanza::StreamCondition;

/// Why the XML layer gave up on a stream (or refused a document).
///
/// Every failure maps to the stream error condition the peer must be sent before the stream is closed
/// (RFC 6120 §4.9.3): malformed XML and invalid UTF-8 are `not-well-formed`, DTDs, comments, processing
/// instructions and entity references are `restricted-xml` (§11.1), stanzas over the [`Limits`](super::Limits)
/// are `policy-violation`.
///
/// ```
/// use moxl_core::{stanza::StreamCondition, xml::{StreamParser, StreamEvent}};
/// let mut p = StreamParser::new();
/// p.feed(b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
/// p.feed(b"<!-- a comment -->");
/// assert!(matches!(p.next_event(), Ok(Some(StreamEvent::Header(_)))));
/// let err = p.next_event().unwrap_err();
/// assert_eq!(err.condition(), StreamCondition::RestrictedXml);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{condition}: {text}")]
pub struct XmlError {
    condition: StreamCondition,
    text: String,
}

impl XmlError {
    /// An error with the given condition and explanation.
    pub fn new(condition: StreamCondition, text: impl Into<String>) -> Self {
        XmlError { condition, text: text.into() }
    }

    /// The stream error condition to send to the peer.
    pub fn condition(&self) -> StreamCondition {
        self.condition
    }

    /// A human-readable explanation (for logs and the `<text/>` of the stream error).
    pub fn text(&self) -> &str {
        &self.text
    }
}
