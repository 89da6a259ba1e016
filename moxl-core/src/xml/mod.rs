//! XML for XMPP: the incremental stream parser, the element type handlers read, and the builder for what we send.
//!
//! - [`StreamParser`] turns bytes, in chunks of any size, into [`StreamEvent`]s: the stream header, one
//!   [`Element`] per top-level child of the stream, and the end of the stream. It enforces RFC 6120's XML
//!   restrictions and the [`Limits`].
//! - [`Element`] is a cheap, immutable, shareable view of one stanza: its source text plus a compact node table.
//! - [`ElementBuilder`] writes the stanzas we send (see also [`crate::stanza`] for the themed builders).

mod attrs;
mod builder;
mod element;
mod error;
mod parser;
mod scan;
mod text;

pub use builder::{ElementBuilder, ElementOrBuilder};
pub use element::{Attrs, Children, Element};
pub use error::XmlError;
pub use parser::{Limits, StreamEvent, StreamHeader, StreamParser};
pub use text::{escape_attr, escape_text};

/// Namespaces the core itself needs.
pub mod ns {
    /// `jabber:client`, the default namespace of client streams (RFC 6120 §4.8.3).
    pub const CLIENT: &str = "jabber:client";
    /// `jabber:server`, the default namespace of server-to-server streams (RFC 6120 §4.8.3); stanzas forwarded
    /// from one can carry it.
    pub const SERVER: &str = "jabber:server";
    /// `http://etherx.jabber.org/streams`, the `stream:` prefix (RFC 6120 §4.8.1).
    pub const STREAM: &str = "http://etherx.jabber.org/streams";
    /// Namespace of stream error conditions (RFC 6120 §4.9.3).
    pub const STREAMS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
    /// Namespace of stanza error conditions (RFC 6120 §8.3.3).
    pub const STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
    /// RFC 7395 framing namespace for XMPP over WebSocket (`<open/>`, `<close/>`).
    pub const FRAMING: &str = "urn:ietf:params:xml:ns:xmpp-framing";
    /// The namespace bound to the `xml` prefix (`xml:lang`).
    pub const XML: &str = "http://www.w3.org/XML/1998/namespace";
}
