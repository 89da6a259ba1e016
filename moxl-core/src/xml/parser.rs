//! [`StreamParser`]: incremental XMPP stream parsing.
//!
//! Bytes are appended to one buffer. The scanner (`scan.rs`) finds where each token ends, resuming where the last
//! read stopped, and checks every byte as it arrives; the parser then reads each complete token once, in place
//! (quick-xml only reads the XML declaration and checks references). Input can
//! be split anywhere (inside a tag, a reference, a multi-byte UTF-8 character) and **feeding N bytes costs O(N)
//! whatever the chunking**: no token is scanned twice. When a top-level element closes, its bytes become the
//! source of an [`Element`] and the buffer is compacted.
//!
//! # Limits
//!
//! Going over one ends the stream with `<policy-violation/>` (RFC 6120 §4.9.3.14). The two sizes are enforced
//! while the token or stanza grows, at the first byte over them (so no more is ever buffered); the others when
//! the start tag that breaks them is complete (it is bounded by the tag size):
//!
//! - a top-level element of at most [`Limits::max_stanza_bytes`] bytes (default 1 MiB), which also bounds what is
//!   buffered while it is incomplete; text between stanzas (white-space keepalives) is consumed as it comes;
//! - nesting at most [`Limits::max_depth`] deep (default 32);
//! - a start tag of at most [`Limits::MAX_START_TAG_BYTES`] (65535) bytes, an element name of at most 255 bytes,
//!   at most 255 namespaces used by one stanza, at most 256 namespace prefixes in scope (fixed).
//!
//! # What is an error
//!
//! Errors are reported in input order, so that byte-at-a-time and whole feeds give the same events and the same
//! error. Every rule of XML 1.0 (fifth edition) and Namespaces in XML 1.0 (third edition) that a stream can
//! break is a stream error (RFC 6120 §11: `not-well-formed` unless said otherwise):
//!
//! - UTF-8 only (RFC 6120 §11.6); characters outside the `Char` production (XML 1.0 §2.2: C0 controls other than
//!   tab, LF and CR, U+FFFE, U+FFFF), literal or as character references; names outside `NameStartChar` /
//!   `NameChar` (§2.3) or with more than one colon (Namespaces §4);
//! - `]]>` in text (§2.4), `<` in attribute values (§3.1), duplicate attributes (§3.1), references that are not
//!   `&name;` / `&#…;` (§4.1), mismatched or unexpected end tags;
//! - Namespaces in XML 1.0: undeclared prefixes on elements and attributes (§5), `xmlns:p=''` (no prefix
//!   undeclaring in 1.0), declaring `xmlns`, binding `xml` to another namespace or another prefix (or the default
//!   namespace) to the XML namespace, binding anything to the xmlns namespace, element names prefixed `xmlns`
//!   (§3), two attributes with one expanded name through two prefixes of one namespace (§6.3);
//! - the XML declaration anywhere but first, a version other than 1.x, and (`unsupported-encoding`) an encoding
//!   other than UTF-8;
//! - (`restricted-xml`, §11.1) comments, processing instructions, document type declarations, entity references
//!   other than the five predefined;
//! - (`bad-format`) character data outside a stanza; (`invalid-namespace`) a stream root other than
//!   `<stream:stream>` in `http://etherx.jabber.org/streams`.

use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashMap;

use quick_xml::events::{BytesDecl, BytesRef, BytesStart};

use super::attrs::AttrScanner;
use super::element::{Document, Element, Inherited, Node, NsName, NO_NS};
use super::scan::{Bounds, Scanner};
use super::{ns, XmlError};
use crate::stanza::StreamCondition;

/// Size and depth limits; going over one ends the stream with `<policy-violation/>` (RFC 6120 §4.9.3.14).
///
/// ```
/// use moxl_core::xml::{Limits, StreamParser};
/// let parser = StreamParser::with_limits(Limits::new(64 * 1024, 16));
/// # drop(parser);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest top-level element, in bytes of XML (default 1 MiB). Also bounds what is buffered while a stanza
    /// is incomplete.
    pub max_stanza_bytes: usize,
    /// Deepest nesting inside a stanza, the stanza itself being depth 1 (default 32).
    pub max_depth: usize,
}

impl Limits {
    /// The longest start tag, `<` to `>` included, in bytes: 64 KiB - 1 (fixed: the element's node stores the
    /// length in 16 bits). Checked while the tag arrives: the byte past it ends the stream with
    /// `<policy-violation/>`.
    ///
    /// ```
    /// assert_eq!(moxl_core::xml::Limits::MAX_START_TAG_BYTES, 65535);
    /// ```
    pub const MAX_START_TAG_BYTES: usize = u16::MAX as usize;

    /// The default limits: 1 MiB stanzas, depth 32.
    pub const DEFAULT: Limits = Limits { max_stanza_bytes: 1 << 20, max_depth: 32 };

    /// Limits with the given stanza size and depth.
    pub const fn new(max_stanza_bytes: usize, max_depth: usize) -> Limits {
        Limits { max_stanza_bytes, max_depth }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// The attributes of a received `<stream:stream>` header (RFC 6120 §4.7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamHeader {
    /// The stream id the server chose.
    pub id: Option<String>,
    /// The server's domain.
    pub from: Option<String>,
    /// Whom the stream is addressed to.
    pub to: Option<String>,
    /// `1.0` for XMPP.
    pub version: Option<String>,
    /// `xml:lang`, the default language of the stream.
    pub lang: Option<String>,
    /// The default namespace (`jabber:client`).
    pub default_ns: Option<String>,
}

/// What the [`StreamParser`] yields.
#[derive(Debug, Clone)]
pub enum StreamEvent {
    /// The stream header opened (first, and again after each [`StreamParser::reset`]).
    Header(StreamHeader),
    /// A complete top-level element: a stanza, `stream:features`, `stream:error`, a SASL/TLS/SM element.
    Element(Element),
    /// `</stream:stream>`: the peer closed the stream.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before `<stream:stream>` (only the XML declaration and whitespace may come first).
    ExpectHeader,
    /// Inside the stream: top-level elements are stanzas.
    InStream,
    /// After `</stream:stream>`.
    Closed,
}

/// A namespace binding in scope.
struct Binding {
    /// The prefix (empty in the stack of default namespaces).
    prefix: Box<[u8]>,
    /// The namespace (empty for `xmlns=''`).
    uri: NsName,
    /// Index in the current stanza's namespace table, valid when `serial` is the current stanza's.
    doc_idx: u8,
    serial: u32,
}

/// An open element of the stanza being parsed.
struct Open {
    node: u32,
    marks: Marks,
}

/// Lengths of the two binding stacks before an element's declarations.
#[derive(Clone, Copy)]
struct Marks {
    prefixed: usize,
    default: usize,
}

/// The UTF-8 byte order mark (U+FEFF).
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Namespace names every session meets, shared by all the parsers of the process (read-only, built once from the
/// core's namespaces and those of every registered Payload): a parser interns only the others, so that thousands
/// of sessions do not each keep their own copies of the same few dozen names. A peer cannot add to it.
fn shared_names() -> &'static FxHashMap<&'static [u8], NsName> {
    static TABLE: OnceLock<FxHashMap<&'static [u8], NsName>> = OnceLock::new();
    TABLE.get_or_init(|| {
        use crate::stream::feature_ns as f;
        let core = [ns::CLIENT, ns::SERVER, ns::STREAM, ns::STREAMS, ns::STANZAS, ns::FRAMING, ns::XML];
        let features = [f::TLS, f::SASL, f::BIND, f::SESSION, f::SASL2, f::BIND2, f::FAST, f::SASL_CB, f::SM3, f::SM2];
        let registered = crate::xec::Registry::global().ok().into_iter().flat_map(|r| r.payload_namespaces());
        let mut table = FxHashMap::default();
        for name in core.into_iter().chain(features).chain(registered) {
            table.entry(name.as_bytes()).or_insert_with(|| Arc::new(name.to_owned()));
        }
        table
    })
}

/// Namespace strings are interned per parser: a stream uses a few dozen, so each stanza shares them. Past this
/// many, new ones are allocated per stanza instead (a peer cannot grow the table without bound).
const MAX_INTERNED: usize = 1024;

/// Incremental parser for an XMPP stream (RFC 6120 §4), or for framed elements (RFC 7395 WebSocket frames,
/// single documents).
///
/// Feed bytes as they arrive with [`feed`](Self::feed), then call [`next_event`](Self::next_event) until it
/// returns `Ok(None)` (more bytes needed). An error is final: the stream must be closed with the error's
/// condition, and every later call returns the same error.
///
/// ```
/// use moxl_core::xml::{StreamEvent, StreamParser};
/// let mut parser = StreamParser::new();
/// let stream = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
///     xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='example.com' version='1.0'>\
///     <message from='romeo@example.net/orchard' to='juliet@example.com' type='chat'><body>Neither, fair saint</body></message>\
///     </stream:stream>";
/// let mut events = Vec::new();
/// for chunk in stream.as_bytes().chunks(7) {
///     parser.feed(chunk);
///     while let Some(event) = parser.next_event()? {
///         events.push(event);
///     }
/// }
/// assert!(matches!(&events[0], StreamEvent::Header(h) if h.id.as_deref() == Some("s1")));
/// assert!(matches!(&events[1], StreamEvent::Element(m) if m.is("message", "jabber:client")));
/// assert!(matches!(events[2], StreamEvent::End));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub struct StreamParser {
    buf: Vec<u8>,
    /// Start of the first byte not yet tokenized.
    pos: usize,
    /// Where each token ends: what is before its `ready()` may be tokenized.
    scan: Scanner,
    /// An error the scanner found after `scan.ready()`: reported once everything before it is tokenized.
    scan_error: Option<XmlError>,
    /// Whether a token was read since the stream (re)started: the XML declaration must come first.
    seen_token: bool,
    /// Where the stanza being parsed starts in `buf`.
    stanza_start: Option<usize>,
    state: State,
    framed: bool,
    /// Qualified name of the stream root, to recognise its end tag.
    root_qname: Vec<u8>,
    open: Vec<Open>,
    nodes: Vec<Node>,
    doc_ns: Vec<NsName>,
    /// `xmlns:p='…'` declarations in scope (rare in XMPP: searched by prefix).
    bindings: Vec<Binding>,
    /// `xmlns='…'` declarations in scope: the last one applies (no search on the hot path).
    defaults: Vec<Binding>,
    serial: u32,
    interned: FxHashMap<Box<[u8]>, NsName>,
    /// The namespace of the `xml` prefix (interned).
    xml_ns: NsName,
    /// How many prefixed bindings were in scope when the current stanza began (the stream's).
    stanza_bindings: usize,
    /// Prefixes bound outside the current stanza that its attributes use (see `Document::inherited`).
    doc_inherited: Inherited,
    limits: Limits,
    failed: Option<XmlError>,
}

impl std::fmt::Debug for StreamParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamParser")
            .field("buffered", &self.buf.len().saturating_sub(self.pos))
            .field("depth", &self.open.len())
            .field("framed", &self.framed)
            .finish_non_exhaustive()
    }
}

impl Default for StreamParser {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamParser {
    /// A parser for a stream that starts with `<stream:stream>`, with the default [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::DEFAULT)
    }

    /// A parser for a stream, with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        let xml_ns: NsName =
            shared_names().get(ns::XML.as_bytes()).map_or_else(|| Arc::new(ns::XML.to_owned()), Arc::clone);
        let interned = FxHashMap::default();
        let mut parser = StreamParser {
            buf: Vec::new(),
            pos: 0,
            scan: Scanner::new(true),
            scan_error: None,
            seen_token: false,
            stanza_start: None,
            state: State::ExpectHeader,
            framed: false,
            root_qname: Vec::new(),
            open: Vec::new(),
            nodes: Vec::new(),
            doc_ns: Vec::new(),
            bindings: Vec::new(),
            defaults: Vec::new(),
            serial: 0,
            interned,
            xml_ns,
            stanza_bindings: 0,
            doc_inherited: Vec::new(),
            limits,
            failed: None,
        };
        parser.clear_bindings();
        parser
    }

    /// A parser for a sequence of complete top-level elements with no stream header around them: RFC 7395
    /// WebSocket frames (`<open/>`, stanzas, `<close/>`) or a single document ([`Element::parse`]).
    pub fn framed() -> Self {
        let mut parser = Self::new();
        parser.framed = true;
        parser.state = State::InStream;
        parser.scan = Scanner::new(false);
        parser
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Appends received bytes. Cheap; parsing happens in [`next_event`](Self::next_event).
    pub fn feed(&mut self, data: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(data);
    }

    /// Starts a new stream on the same connection (after STARTTLS or SASL success, RFC 6120 §5.3.4, §6.4.6):
    /// everything buffered is discarded (bytes received in the clear before a TLS upgrade must never be read as
    /// part of the secure stream) and the next thing expected is a new header.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.pos = 0;
        self.scan = Scanner::new(!self.framed);
        self.scan_error = None;
        self.seen_token = false;
        self.stanza_start = None;
        self.state = if self.framed { State::InStream } else { State::ExpectHeader };
        self.open.clear();
        self.nodes.clear();
        self.doc_ns.clear();
        self.doc_inherited.clear();
        self.clear_bindings();
        self.failed = None;
    }

    /// Checks that nothing but whitespace is left unparsed (for single documents).
    pub fn finish(&mut self) -> Result<(), XmlError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        if self.stanza_start.is_some() || !rest.iter().all(u8::is_ascii_whitespace) {
            return Err(XmlError::new(StreamCondition::NotWellFormed, "incomplete or trailing data"));
        }
        Ok(())
    }

    /// Bytes received but not yet turned into events (a partial stanza).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.stanza_start.unwrap_or(self.pos).min(self.buf.len())
    }

    /// Gives the memory of the buffers back while the stream is idle (a session waiting for its peer keeps none):
    /// the byte buffer when everything in it was read, the stanza tables when no stanza is open. They grow again
    /// when bytes come (once per wake-up, not per stanza).
    pub(crate) fn release_idle(&mut self) {
        self.compact();
        if self.buf.is_empty() {
            self.buf = Vec::new();
        }
        if self.stanza_start.is_none() {
            self.open = Vec::new();
            self.nodes = Vec::new();
            self.doc_ns = Vec::new();
            self.doc_inherited = Vec::new();
        }
    }

    /// Drops consumed bytes; gives memory back when idle.
    fn compact(&mut self) {
        let keep_from = self.stanza_start.unwrap_or(self.pos).min(self.buf.len());
        if keep_from > 0 {
            self.buf.drain(..keep_from);
            self.pos -= keep_from;
            self.scan.shift(keep_from);
            if let Some(s) = &mut self.stanza_start {
                *s -= keep_from;
            }
        }
        if self.buf.is_empty() && self.buf.capacity() > 64 * 1024 {
            self.buf = Vec::with_capacity(16 * 1024);
        }
    }

    /// The next event, `Ok(None)` when more bytes are needed (or the stream has ended).
    pub fn next_event(&mut self) -> Result<Option<StreamEvent>, XmlError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let buf = std::mem::take(&mut self.buf);
        let result = self.advance(&buf);
        self.buf = buf;
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    fn advance(&mut self, buf: &[u8]) -> Result<Option<StreamEvent>, XmlError> {
        loop {
            if self.state == State::Closed {
                return Ok(None);
            }
            if self.pos < self.scan.ready() {
                if let Some(event) = self.tokenize(buf)? {
                    return Ok(Some(event));
                }
                continue;
            }
            // Everything complete is tokenized: an error the scanner found after it is next.
            if let Some(e) = self.scan_error.take() {
                return Err(e);
            }
            let bounds =
                Bounds { max_stanza_bytes: self.limits.max_stanza_bytes, max_tag_bytes: Limits::MAX_START_TAG_BYTES };
            match self.scan.scan(buf, bounds) {
                Ok(()) if self.pos < self.scan.ready() => {}
                Ok(()) => return Ok(None),
                // What comes before the error is tokenized first (its errors come first in the input).
                Err(e) => self.scan_error = Some(e),
            }
        }
    }

    /// Tokenizes `pos..ready` (complete tokens only) until an event is produced or it is done.
    ///
    /// The scanner has already found where every token before `ready` ends and checked its characters, its
    /// references' syntax, the quotes of its tags and what follows each `<`: this reads each complete token once,
    /// in place, with no state but the parser's own (no reader per call, nothing allocated).
    fn tokenize(&mut self, buf: &[u8]) -> Result<Option<StreamEvent>, XmlError> {
        let ready = self.scan.ready();
        // A byte order mark at the start of the stream (or of a single document) is the encoding signature.
        while buf.get(self.pos..ready).is_some_and(|rest| rest.starts_with(BOM)) {
            match (self.state, self.stanza_start) {
                // Before the stream header, or at the start of a single document: the encoding signature.
                (State::ExpectHeader, _) => self.pos += BOM.len(),
                _ if !self.seen_token => self.pos += BOM.len(),
                // Inside a stanza: U+FEFF is text like any other character (already in the stanza's source).
                (_, Some(_)) => self.pos += BOM.len(),
                (_, None) => {
                    return Err(XmlError::new(StreamCondition::BadFormat, "character data outside of a stanza"))
                }
            }
        }
        while self.pos < ready {
            let start = self.pos;
            let rest = buf.get(start..ready).unwrap_or_default();
            let len = token_len(rest)?;
            let token = rest.get(..len).unwrap_or_default();
            let end = start + len;
            self.pos = end;
            if let Some(out) = self.on_token(token, buf, start, end)? {
                return Ok(Some(out));
            }
            if self.state == State::Closed {
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// One complete token (`start..end` in `buf`).
    fn on_token(
        &mut self,
        token: &[u8],
        buf: &[u8],
        start: usize,
        end: usize,
    ) -> Result<Option<StreamEvent>, XmlError> {
        // The XML declaration may only open the stream (or a single document), before anything else
        // (XML 1.0 §2.8).
        let first = (self.state == State::ExpectHeader || self.framed) && !self.seen_token;
        self.seen_token = true;
        let inner = |from: usize, cut: usize| token.get(from..token.len().saturating_sub(cut)).unwrap_or_default();
        match token {
            [b'<', b'/', ..] => {
                // `</Name S?>`: the name, without the white space XML 1.0 §3.1 allows before `>`.
                let content = inner(2, 1);
                let name_end = content.iter().rposition(|b| !is_space(*b)).map_or(0, |i| i + 1);
                self.on_end(content.get(..name_end).unwrap_or_default(), buf, start, end)
            }
            [b'<', b'!', ..] => {
                if !token.starts_with(b"<![CDATA[") {
                    // (The scanner refuses comments and document type declarations before they get here.)
                    return Err(XmlError::new(StreamCondition::NotWellFormed, "invalid markup after '<!'"));
                }
                match self.stanza_start {
                    Some(_) => Ok(None),
                    None => Err(XmlError::new(StreamCondition::BadFormat, "CDATA outside of a stanza")),
                }
            }
            [b'<', b'?', ..] if first => {
                // `<?xml …?>`, the only processing-instruction-like token the scanner lets through.
                let content = std::str::from_utf8(inner(2, 2)).map_err(malformed)?;
                check_decl(&BytesDecl::from_start(BytesStart::from_content(content, 3))).map(|()| None)
            }
            [b'<', b'?', ..] => Err(restricted("processing instruction")),
            [b'<', ..] => {
                let (content, empty) = match token.strip_suffix(b"/>") {
                    Some(c) => (c.get(1..).unwrap_or_default(), true),
                    None => (inner(1, 1), false),
                };
                let content = std::str::from_utf8(content).map_err(malformed)?;
                let name_len = content.bytes().position(is_space).unwrap_or(content.len());
                let (qname, attrs) = content.split_at(name_len);
                self.on_start(qname, attrs, buf, start, end, empty)
            }
            text => {
                if self.stanza_start.is_none() {
                    if !text.iter().all(u8::is_ascii_whitespace) {
                        return Err(XmlError::new(StreamCondition::BadFormat, "character data outside of a stanza"));
                    }
                    return Ok(None);
                }
                // Only the five predefined entities and character references (the scanner checked the syntax).
                let mut rest = text;
                while let Some(amp) = memchr::memchr(b'&', rest) {
                    let after = rest.get(amp + 1..).unwrap_or_default();
                    let semi = memchr::memchr(b';', after)
                        .ok_or_else(|| XmlError::new(StreamCondition::NotWellFormed, "unclosed reference"))?;
                    let name = std::str::from_utf8(after.get(..semi).unwrap_or_default()).map_err(malformed)?;
                    check_reference(&BytesRef::new(name))?;
                    rest = after.get(semi + 1..).unwrap_or_default();
                }
                Ok(None)
            }
        }
    }

    fn on_start(
        &mut self,
        qname: &str,
        attrs: &str,
        buf: &[u8],
        start: usize,
        end: usize,
        empty: bool,
    ) -> Result<Option<StreamEvent>, XmlError> {
        if self.state == State::ExpectHeader {
            return self.on_header(qname, attrs, empty).map(Some);
        }
        let stanza_start = match self.stanza_start {
            Some(s) => s,
            None => {
                self.stanza_start = Some(start);
                self.stanza_bindings = self.bindings.len();
                self.serial = self.serial.wrapping_add(1);
                start
            }
        };
        if self.open.len() + 1 > self.limits.max_depth {
            return Err(XmlError::new(
                StreamCondition::PolicyViolation,
                format!("element nested deeper than {} levels", self.limits.max_depth),
            ));
        }
        if end - stanza_start > self.limits.max_stanza_bytes {
            return Err(too_big(self.limits));
        }
        let marks = self.marks();
        self.bind_namespaces(attrs)?;
        if !super::text::is_valid_name(qname) {
            return Err(XmlError::new(StreamCondition::NotWellFormed, format!("invalid element name {qname:?}")));
        }
        let ns = self.resolve(qname.as_bytes())?;
        let name_len = u8::try_from(qname.len())
            .map_err(|_| XmlError::new(StreamCondition::PolicyViolation, "element name longer than 255 bytes"))?;
        let tag_len = u16::try_from(end - start)
            .map_err(|_| XmlError::new(StreamCondition::PolicyViolation, "start tag longer than 64 KiB"))?;
        let rel = |offset: usize| u32::try_from(offset - stanza_start).map_err(|_| too_big(self.limits));
        let node = Node { start: rel(start)?, inner_end: rel(end)?, subtree_end: 0, tag_len, ns, name_len };
        let idx = self.nodes.len() as u32;
        self.nodes.push(node);
        if empty {
            self.unbind(marks);
            self.close_node(idx);
            if self.open.is_empty() {
                return self.finish_stanza(buf, end).map(Some);
            }
        } else {
            self.open.push(Open { node: idx, marks });
        }
        Ok(None)
    }

    fn on_header(&mut self, qname: &str, attrs: &str, empty: bool) -> Result<StreamEvent, XmlError> {
        self.clear_bindings();
        self.bind_namespaces(attrs)?;
        let (prefix, local) = split_qname(qname.as_bytes());
        let uri = self.lookup(prefix).map(|b| Arc::clone(&b.uri));
        if local != b"stream" || uri.as_deref().map(String::as_str) != Some(ns::STREAM) {
            return Err(XmlError::new(StreamCondition::InvalidNamespace, "the stream root must be <stream:stream>"));
        }
        if empty {
            return Err(XmlError::new(StreamCondition::NotWellFormed, "empty stream header"));
        }
        let mut header = StreamHeader { default_ns: self.lookup(b"").map(|b| b.uri.to_string()), ..Default::default() };
        for attr in AttrScanner::new(attrs) {
            let value = Some(super::text::unescape_attr(attr.value).into_owned());
            match attr.name {
                "id" => header.id = value,
                "from" => header.from = value,
                "to" => header.to = value,
                "version" => header.version = value,
                "xml:lang" => header.lang = value,
                _ => {}
            }
        }
        self.root_qname = qname.as_bytes().to_vec();
        self.state = State::InStream;
        Ok(StreamEvent::Header(header))
    }

    fn on_end(&mut self, name: &[u8], buf: &[u8], start: usize, end: usize) -> Result<Option<StreamEvent>, XmlError> {
        let Some(open) = self.open.pop() else {
            if !self.framed && self.stanza_start.is_none() && name == self.root_qname.as_slice() {
                self.state = State::Closed;
                return Ok(Some(StreamEvent::End));
            }
            return Err(XmlError::new(
                StreamCondition::NotWellFormed,
                format!("unexpected end tag </{}>", String::from_utf8_lossy(name)),
            ));
        };
        let stanza_start = self.stanza_start.unwrap_or(0);
        let expected = self.nodes.get(open.node as usize).and_then(|n| {
            let s = stanza_start + n.start as usize + 1;
            buf.get(s..s + usize::from(n.name_len))
        });
        if expected != Some(name) {
            return Err(XmlError::new(
                StreamCondition::NotWellFormed,
                format!(
                    "end tag </{}> does not match <{}>",
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(expected.unwrap_or_default())
                ),
            ));
        }
        let inner_end = u32::try_from(start - stanza_start).map_err(|_| too_big(self.limits))?;
        if let Some(n) = self.nodes.get_mut(open.node as usize) {
            n.inner_end = inner_end;
        }
        self.unbind(open.marks);
        self.close_node(open.node);
        if self.open.is_empty() {
            return self.finish_stanza(buf, end).map(Some);
        }
        Ok(None)
    }

    fn close_node(&mut self, idx: u32) {
        let subtree_end = self.nodes.len() as u32;
        if let Some(n) = self.nodes.get_mut(idx as usize) {
            n.subtree_end = subtree_end;
        }
    }

    /// Turns the completed top-level element into an [`Element`].
    fn finish_stanza(&mut self, buf: &[u8], end: usize) -> Result<StreamEvent, XmlError> {
        let start = self.stanza_start.take().unwrap_or(0);
        if end - start > self.limits.max_stanza_bytes {
            return Err(too_big(self.limits));
        }
        let bytes = buf.get(start..end).unwrap_or_default();
        // The scanner checked every character as it arrived; this only turns the bytes into a `str`.
        let src = std::str::from_utf8(bytes)
            .map_err(|e| XmlError::new(StreamCondition::NotWellFormed, format!("invalid UTF-8: {e}")))?;
        let inherited = (!self.doc_inherited.is_empty()).then(|| Box::new(std::mem::take(&mut self.doc_inherited)));
        let doc = Document {
            src: src.into(),
            nodes: self.nodes.as_slice().into(),
            ns: self.doc_ns.as_slice().into(),
            inherited,
        };
        self.nodes.clear();
        self.doc_ns.clear();
        Ok(StreamEvent::Element(Element::from_document(doc)))
    }

    /// Pushes the namespace declarations of a start tag and checks its attributes: syntax, references,
    /// duplicates, and the constraints of Namespaces in XML 1.0 (third edition) that RFC 6120 §11.2 requires.
    fn bind_namespaces(&mut self, attrs: &str) -> Result<(), XmlError> {
        let mut prefixed: Vec<&str> = Vec::new();
        AttrScanner::validate(attrs, |attr| {
            let key = attr.name;
            let prefix = if key == "xmlns" {
                ""
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                p
            } else {
                if memchr::memchr(b'&', attr.value.as_bytes()).is_some() {
                    check_escaped(attr.value.as_bytes())?;
                }
                if memchr::memchr(b':', key.as_bytes()).is_some() {
                    prefixed.push(key);
                }
                return Ok(());
            };
            let uri = self.intern(attr.value.as_bytes())?;
            check_declaration(prefix, &uri)?;
            if prefix == "xml" {
                // Declaring `xml` to its own namespace is allowed and changes nothing (it is always bound).
                return Ok(());
            }
            if !prefix.is_empty() && self.bindings.len() >= MAX_PREFIXES {
                return Err(XmlError::new(
                    StreamCondition::PolicyViolation,
                    format!("more than {MAX_PREFIXES} namespace prefixes in scope"),
                ));
            }
            // A serial that is not the current stanza's: resolved on first use.
            let serial = self.serial.wrapping_sub(1);
            let stack = if prefix.is_empty() { &mut self.defaults } else { &mut self.bindings };
            stack.push(Binding { prefix: prefix.as_bytes().into(), uri, doc_idx: NO_NS, serial });
            Ok(())
        })?;
        if !prefixed.is_empty() {
            self.check_prefixed_attrs(&prefixed)?;
        }
        Ok(())
    }

    /// Namespaces in XML 1.0 §5.3 and NSC "Prefix Declared": every prefixed attribute's prefix is bound (by this
    /// tag's declarations or an ancestor's), and no two attributes have the same expanded name (`a:x` and `b:x`
    /// with `a` and `b` bound to one namespace).
    fn check_prefixed_attrs(&mut self, names: &[&str]) -> Result<(), XmlError> {
        let mut expanded: Vec<(&str, &String)> = Vec::with_capacity(names.len());
        // Bindings from outside the stanza (the stream header's) that its attributes use.
        let mut outside: Vec<usize> = Vec::new();
        for name in names {
            let (prefix, local) = split_qname(name.as_bytes());
            let uri = if prefix == b"xml" {
                &*self.xml_ns
            } else {
                match self.bindings.iter().rposition(|b| &*b.prefix == prefix) {
                    Some(i) => {
                        if i < self.stanza_bindings && self.stanza_start.is_some() {
                            outside.push(i);
                        }
                        self.bindings.get(i).map_or(&*self.xml_ns, |b| &*b.uri)
                    }
                    None => {
                        return Err(XmlError::new(
                            StreamCondition::NotWellFormed,
                            format!("undeclared namespace prefix in attribute {name} (Namespaces in XML 1.0 §5)"),
                        ))
                    }
                }
            };
            expanded.push((std::str::from_utf8(local).unwrap_or_default(), uri));
        }
        // By local name first: namespaces are compared only between attributes of the same local name, and
        // interned namespaces (equal names share one allocation) compare by address.
        let same_uri = |a: &String, b: &String| std::ptr::eq(a, b) || a == b;
        expanded.sort_unstable_by(|a, b| {
            a.0.cmp(b.0).then_with(|| if std::ptr::eq(a.1, b.1) { std::cmp::Ordering::Equal } else { a.1.cmp(b.1) })
        });
        let dup = expanded.windows(2).find_map(|w| match w {
            [a, b] if a.0 == b.0 && same_uri(a.1, b.1) => Some(*a),
            _ => None,
        });
        if let Some((local, uri)) = dup {
            return Err(XmlError::new(
                StreamCondition::NotWellFormed,
                format!("attribute {{{uri}}}{local} given twice (Namespaces in XML 1.0 §6.3)"),
            ));
        }
        for i in outside {
            let Some(b) = self.bindings.get(i) else { continue };
            let prefix = std::str::from_utf8(&b.prefix).unwrap_or_default();
            if !self.doc_inherited.iter().any(|(p, _)| &**p == prefix) {
                self.doc_inherited.push((prefix.into(), Arc::clone(&b.uri)));
            }
        }
        Ok(())
    }

    /// The shared namespace name for a declaration's raw value. Keyed by the unescaped value, so that equal
    /// names share one allocation however they were written (compared by address).
    fn intern(&mut self, raw: &[u8]) -> Result<NsName, XmlError> {
        let has_refs = memchr::memchr(b'&', raw).is_some();
        if !has_refs {
            if let Some(uri) = shared_names().get(raw) {
                return Ok(Arc::clone(uri));
            }
            if let Some(uri) = self.interned.get(raw) {
                return Ok(Arc::clone(uri));
            }
        } else {
            check_escaped(raw)?;
        }
        let text = std::str::from_utf8(raw)
            .map_err(|e| XmlError::new(StreamCondition::NotWellFormed, format!("invalid UTF-8: {e}")))?;
        let value = super::text::unescape_attr(text);
        if has_refs {
            if let Some(uri) = shared_names().get(value.as_bytes()) {
                return Ok(Arc::clone(uri));
            }
            if let Some(uri) = self.interned.get(value.as_bytes()) {
                return Ok(Arc::clone(uri));
            }
        }
        let uri: NsName = Arc::new(value.into_owned());
        if self.interned.len() < MAX_INTERNED {
            self.interned.insert(uri.as_bytes().into(), Arc::clone(&uri));
        }
        Ok(uri)
    }

    /// Forgets every namespace binding but the built-in `xml` prefix (Namespaces in XML 1.0 §3: bound by
    /// definition, never declared).
    fn clear_bindings(&mut self) {
        self.bindings.clear();
        self.defaults.clear();
        let xml = Arc::clone(&self.xml_ns);
        self.bindings.push(Binding {
            prefix: b"xml"[..].into(),
            uri: xml,
            doc_idx: NO_NS,
            serial: self.serial.wrapping_sub(1),
        });
    }

    fn marks(&self) -> Marks {
        Marks { prefixed: self.bindings.len(), default: self.defaults.len() }
    }

    fn unbind(&mut self, marks: Marks) {
        self.bindings.truncate(marks.prefixed);
        self.defaults.truncate(marks.default);
    }

    fn lookup(&self, prefix: &[u8]) -> Option<&Binding> {
        if prefix.is_empty() {
            return self.defaults.last();
        }
        self.bindings.iter().rev().find(|b| &*b.prefix == prefix)
    }

    /// Resolves an element name to an index in the current stanza's namespace table.
    fn resolve(&mut self, qname: &[u8]) -> Result<u8, XmlError> {
        let (prefix, _) = split_qname(qname);
        let serial = self.serial;
        let found = if prefix.is_empty() {
            self.defaults.last_mut()
        } else {
            self.bindings.iter_mut().rev().find(|b| &*b.prefix == prefix)
        };
        let Some(binding) = found else {
            if prefix.is_empty() {
                return Ok(NO_NS);
            }
            if prefix == b"xmlns" {
                return Err(XmlError::new(
                    StreamCondition::NotWellFormed,
                    "element names must not have the xmlns prefix (Namespaces in XML 1.0 §3)",
                ));
            }
            return Err(XmlError::new(
                StreamCondition::NotWellFormed,
                format!("undeclared namespace prefix {}", String::from_utf8_lossy(prefix)),
            ));
        };
        if binding.uri.is_empty() {
            return Ok(NO_NS);
        }
        if binding.serial != serial {
            // Interned names compare by address; by content only past the interning table's capacity.
            let found = self.doc_ns.iter().position(|u| Arc::ptr_eq(u, &binding.uri)).or_else(|| {
                let by_content = self.interned.len() >= MAX_INTERNED;
                by_content.then(|| self.doc_ns.iter().position(|u| **u == *binding.uri)).flatten()
            });
            let idx = match found {
                Some(i) => i,
                None => {
                    self.doc_ns.push(Arc::clone(&binding.uri));
                    self.doc_ns.len() - 1
                }
            };
            binding.doc_idx = u8::try_from(idx).ok().filter(|i| *i != NO_NS).ok_or_else(|| {
                XmlError::new(StreamCondition::PolicyViolation, "more than 255 namespaces in one stanza")
            })?;
            binding.serial = serial;
        }
        Ok(binding.doc_idx)
    }
}

/// The namespace bound to the `xmlns` prefix, which no declaration may use (Namespaces in XML 1.0 §3).
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// The most namespace prefixes in scope at once (the stream's included): lookups stay cheap whatever the peer
/// declares. XMPP uses a handful.
const MAX_PREFIXES: usize = 256;

/// The constraints on one namespace declaration (`prefix` empty for `xmlns='…'`), Namespaces in XML 1.0 §3
/// ("Reserved Prefixes and Namespace Names", "No Prefix Undeclaring").
fn check_declaration(prefix: &str, uri: &str) -> Result<(), XmlError> {
    let problem = if prefix == "xmlns" {
        "the xmlns prefix must not be declared"
    } else if prefix == "xml" && uri != ns::XML {
        "the xml prefix must not be bound to another namespace"
    } else if prefix != "xml" && uri == ns::XML {
        "the XML namespace must not be bound to another prefix or be the default namespace"
    } else if uri == XMLNS_NS {
        "the xmlns namespace must not be declared"
    } else if !prefix.is_empty() && uri.is_empty() {
        "a prefix must not be undeclared (xmlns:p='' is not XML 1.0)"
    } else {
        return Ok(());
    };
    Err(XmlError::new(StreamCondition::NotWellFormed, format!("{problem} (Namespaces in XML 1.0 §3)")))
}

/// XML white space (XML 1.0 §2.3, `S`).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The length of the complete token at the start of `rest` (markup from its `<` to its `>`, or text up to the
/// next `<`). The scanner found it complete; not finding its end is an error, never a panic.
fn token_len(rest: &[u8]) -> Result<usize, XmlError> {
    let incomplete = || XmlError::new(StreamCondition::NotWellFormed, "incomplete markup");
    let after = |from: usize, found: Option<usize>, tail: usize| found.map(|i| from + i + tail).ok_or_else(incomplete);
    let from = |i: usize| rest.get(i..).unwrap_or_default();
    match rest {
        [b'<', b'!', b'[', ..] => after(0, memchr::memmem::find(rest, b"]]>"), 3),
        [b'<', b'?', ..] => after(5, memchr::memmem::find(from(5), b"?>"), 2),
        [b'<', b'/' | b'!', ..] => after(0, memchr::memchr(b'>', rest), 1),
        [b'<', ..] => {
            // A start tag: the first `>` outside attribute quotes.
            let mut at = 1;
            loop {
                let i = memchr::memchr3(b'>', b'\'', b'"', from(at)).ok_or_else(incomplete)? + at;
                match rest.get(i) {
                    Some(&q @ (b'\'' | b'"')) => {
                        at = i + 1 + memchr::memchr(q, from(i + 1)).ok_or_else(incomplete)? + 1;
                    }
                    _ => return Ok(i + 1),
                }
            }
        }
        _ => Ok(memchr::memchr(b'<', rest).unwrap_or(rest.len())),
    }
}

fn split_qname(qname: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b':', qname) {
        Some(i) => (qname.get(..i).unwrap_or_default(), qname.get(i + 1..).unwrap_or_default()),
        None => (&b""[..], qname),
    }
}

/// The XML declaration: version 1.x (XML 1.0 §2.8), UTF-8 if an encoding is named (RFC 6120 §11.6).
fn check_decl(decl: &BytesDecl<'_>) -> Result<(), XmlError> {
    let version = decl.version().map_err(malformed)?;
    let digits = version.strip_prefix("1.").unwrap_or_default();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(XmlError::new(StreamCondition::NotWellFormed, format!("XML version {version:?} is not 1.x")));
    }
    if let Some(encoding) = decl.encoding() {
        let encoding = encoding.map_err(malformed)?;
        if !encoding.eq_ignore_ascii_case("UTF-8") {
            return Err(XmlError::new(
                StreamCondition::UnsupportedEncoding,
                format!("encoding {encoding:?}: XMPP is UTF-8 (RFC 6120 §11.6)"),
            ));
        }
    }
    Ok(())
}

fn restricted(what: &str) -> XmlError {
    XmlError::new(StreamCondition::RestrictedXml, format!("{what} not allowed in XMPP (RFC 6120 §11.1)"))
}

fn malformed(e: impl std::fmt::Display) -> XmlError {
    XmlError::new(StreamCondition::NotWellFormed, e.to_string())
}

fn too_big(limits: Limits) -> XmlError {
    XmlError::new(StreamCondition::PolicyViolation, format!("stanza larger than {} bytes", limits.max_stanza_bytes))
}

/// Only the five predefined entities and character references are allowed (RFC 6120 §11.1).
fn check_reference(r: &BytesRef<'_>) -> Result<(), XmlError> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) if is_xml_char(c) => Ok(()),
            _ => Err(XmlError::new(StreamCondition::NotWellFormed, "invalid character reference")),
        };
    }
    match r.as_ref() {
        "lt" | "gt" | "amp" | "apos" | "quot" => Ok(()),
        other => Err(restricted(&format!("entity reference &{other};"))),
    }
}

/// Checks the references in an attribute value.
fn check_escaped(raw: &[u8]) -> Result<(), XmlError> {
    let text = std::str::from_utf8(raw).map_err(malformed)?;
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        let after = rest.get(i + 1..).unwrap_or_default();
        let end = after.find(';').ok_or_else(|| XmlError::new(StreamCondition::NotWellFormed, "unclosed reference"))?;
        let name = after.get(..end).unwrap_or_default();
        check_reference(&BytesRef::new(name))?;
        rest = after.get(end + 1..).unwrap_or_default();
    }
    Ok(())
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests;
