//! XEP-0047: In-Band Bytestreams (version 2.0.1, namespace `http://jabber.org/protocol/ibb`): a bidirectional
//! bytestream between two entities, carried over XMPP itself in base64 chunks. It is the transport of last resort
//! (§6): slow, but it works wherever the two parties can exchange stanzas.
//!
//! The bytestream is an [`IbbStream`], which implements tokio's [`AsyncRead`] and [`AsyncWrite`]: write into it,
//! read from it, [`shutdown`](tokio::io::AsyncWriteExt::shutdown) it to send `<close/>` (§2.3).
//!
//! - Opening one (§2.1): [`open`] sends `<open/>` with a `block-size` (at most 65535) and, when the peer answers
//!   `<resource-constraint/>` (it prefers smaller chunks), asks again with half the size.
//! - Accepting one: either the application learns of each unexpected `<open/>` as an [`IbbOffer`] (Packet key
//!   `ibbopen`) and [`accept`](IbbOffer::accept)s or [`reject`](IbbOffer::reject)s it (`<not-acceptable/>`), or a
//!   protocol that negotiated the sid beforehand (XEP-0261 Jingle IBB) [`expect`]s it. An `<open/>` that nobody
//!   expects or is subscribed to is refused with `<not-acceptable/>`.
//! - Data (§2.2): each chunk is an `<iq type='set'>` with a `<data seq='…'/>` (or a `<message/>` when the stream was
//!   opened with `stanza='message'`, §4). `seq` counts from 0 per direction and wraps after 65535 to 0.
//!   Flow control: a writer keeps at most [`Options::window`] chunks unacknowledged (the XEP recommends 1, waiting
//!   for each ack; a few in flight go much faster and are allowed), and the receiving side acknowledges a chunk only
//!   when the application has read it, so a reader that does not keep up slows the writer instead of filling memory.
//! - Errors (§2.2): a chunk for an unknown sid gets `<item-not-found/>`; a `seq` out of order gets
//!   `<unexpected-request/>` and closes the stream (its reader gets an error); data that is not base64 (RFC 4648 §4,
//!   whitespace aside) or is larger than the block size gets `<bad-request/>` and closes the stream. An error
//!   answer to one of our chunks closes the stream for the writer (the XEP: the sender MUST close it).
//!
//! | Payload / Action | Packet key | content |
//! |---|---|---|
//! | [`IbbOpenPayload`] (an unexpected `<open/>`) | `ibbopen` | [`IbbOffer`] |
//! | [`Open`] (our `<open/>` answered) | `ibb_open_handle` | `()` |
//! | [`Data`] (a chunk acknowledged) | `ibb_data_handle` | `()` |
//! | [`Close`] (our `<close/>` answered) | `ibb_close_handle` | `()` |
//!
//! ```
//! use moxl_xep::xep_0047_ibb::{self, Options};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! # async fn run(ctx: &moxl_core::xec::Context) -> Result<(), Box<dyn std::error::Error>> {
//! // Romeo's side: open a stream to Juliet and send her a few bytes.
//! let mut stream = xep_0047_ibb::open(ctx, "juliet@capulet.lit/balcony", "i781hf64", Options::default()).await?;
//! stream.write_all(b"Wherefore art thou?").await?;
//! stream.shutdown().await?; // waits for every acknowledgement, then <close/>
//! # Ok(()) }
//! // Juliet's side: accept what she is offered, and read it to the end.
//! # async fn juliet(client: &moxl_core::client::Client) -> Result<(), Box<dyn std::error::Error>> {
//! # let mut offers = client.xec().events::<xep_0047_ibb::IbbOffer>();
//! let offer = offers.recv().await.ok_or("session ended")?;
//! let mut stream = offer.accept()?;
//! let mut text = String::new();
//! stream.read_to_string(&mut text).await?;
//! # Ok(()) }
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll, ready};

use moxl_core::stanza::{Condition, ErrorType, StanzaError, error_reply, iq_result, iq_set};
use moxl_core::xec::{Context, Payload, Request};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Error, Result, action, payload};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{mpsc, oneshot};

use crate::xep_0054_vcard_temp::encode_base64;

/// `http://jabber.org/protocol/ibb` (§8), also the disco feature.
///
/// ```
/// assert_eq!(moxl_xep::xep_0047_ibb::NS, "http://jabber.org/protocol/ibb");
/// ```
pub const NS: &str = "http://jabber.org/protocol/ibb";

moxl_core::feature!("http://jabber.org/protocol/ibb");

/// The largest `block-size` (§2.1: it MUST NOT be greater than 65535).
///
/// ```
/// assert_eq!(moxl_xep::xep_0047_ibb::MAX_BLOCK_SIZE, 65535);
/// ```
pub const MAX_BLOCK_SIZE: u16 = u16::MAX;

/// The recommended `block-size` (§6).
///
/// ```
/// assert_eq!(moxl_xep::xep_0047_ibb::DEFAULT_BLOCK_SIZE, 4096);
/// ```
pub const DEFAULT_BLOCK_SIZE: u16 = 4096;

/// Chunks a reader may hold unread before the peer's next chunk is refused with `<resource-constraint/>` and the
/// stream closed: a peer that respects our acknowledgements never gets there.
const MAX_QUEUED_CHUNKS: usize = 256;

/// The smallest block size [`open`] asks for after `<resource-constraint/>` answers.
const MIN_BLOCK_SIZE: u16 = 256;

/// Which stanza carries the data (the `stanza` attribute of `<open/>`, §2.1; default `iq`).
///
/// ```
/// use moxl_xep::xep_0047_ibb::StanzaKind;
/// assert_eq!(StanzaKind::from_attr(None), Some(StanzaKind::Iq));
/// assert_eq!(StanzaKind::from_attr(Some("message")), Some(StanzaKind::Message));
/// assert_eq!(StanzaKind::from_attr(Some("presence")), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum StanzaKind {
    /// `<iq type='set'/>`, acknowledged by the receiver (RECOMMENDED, §2.1).
    #[default]
    Iq,
    /// `<message/>`, not acknowledged (§4).
    Message,
}

impl StanzaKind {
    /// The kind named by a `stanza` attribute (absent: `iq`); `None` for another value.
    pub fn from_attr(value: Option<&str>) -> Option<StanzaKind> {
        match value {
            None | Some("iq") => Some(StanzaKind::Iq),
            Some("message") => Some(StanzaKind::Message),
            Some(_) => None,
        }
    }

    /// The attribute value.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0047_ibb::StanzaKind::Message.as_str(), "message");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            StanzaKind::Iq => "iq",
            StanzaKind::Message => "message",
        }
    }
}

/// How a stream is opened and written.
///
/// ```
/// use moxl_xep::xep_0047_ibb::{Options, StanzaKind};
/// let o = Options::default().block_size(8192).window(4).stanza(StanzaKind::Message);
/// assert_eq!((o.block_size, o.window, o.stanza), (8192, 4, StanzaKind::Message));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The `block-size` asked for (default 4096, at most 65535; 0 is read as 1).
    pub block_size: u16,
    /// Chunks sent and not yet acknowledged, at most (default 8; at least 1). With 1 the writer waits for each
    /// acknowledgement, as §2.2 recommends against servers that rate-limit.
    pub window: usize,
    /// The carrying stanza (default `iq`).
    pub stanza: StanzaKind,
}

impl Default for Options {
    fn default() -> Options {
        Options { block_size: DEFAULT_BLOCK_SIZE, window: 8, stanza: StanzaKind::Iq }
    }
}

impl Options {
    /// With this block size.
    pub fn block_size(mut self, block_size: u16) -> Options {
        self.block_size = block_size.max(1);
        self
    }

    /// With this window.
    pub fn window(mut self, window: usize) -> Options {
        self.window = window.max(1);
        self
    }

    /// With this carrying stanza.
    pub fn stanza(mut self, stanza: StanzaKind) -> Options {
        self.stanza = stanza;
        self
    }
}

/// The `<open/>` element (§2.1).
///
/// ```
/// use moxl_xep::xep_0047_ibb::{open_element, StanzaKind};
/// // §2.1, Example 1
/// assert_eq!(
///     open_element("i781hf64", 4096, StanzaKind::Iq).build()?.to_xml(),
///     "<open xmlns='http://jabber.org/protocol/ibb' sid='i781hf64' block-size='4096' stanza='iq'/>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn open_element(sid: &str, block_size: u16, stanza: StanzaKind) -> ElementBuilder {
    ElementBuilder::new("open", NS)
        .attr("sid", sid.to_owned())
        .attr("block-size", block_size.to_string())
        .attr("stanza", stanza.as_str())
}

/// The `<data/>` element with `bytes` in base64 (§2.2).
///
/// ```
/// let e = moxl_xep::xep_0047_ibb::data_element("i781hf64", 65535, b"hi").build()?;
/// assert_eq!(e.to_xml(), "<data xmlns='http://jabber.org/protocol/ibb' sid='i781hf64' seq='65535'>aGk=</data>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn data_element(sid: &str, seq: u16, bytes: &[u8]) -> ElementBuilder {
    ElementBuilder::new("data", NS).attr("sid", sid.to_owned()).attr("seq", seq.to_string()).text(encode_base64(bytes))
}

/// The `<close/>` element (§2.3).
///
/// ```
/// assert_eq!(
///     moxl_xep::xep_0047_ibb::close_element("i781hf64").build()?.to_xml(),
///     "<close xmlns='http://jabber.org/protocol/ibb' sid='i781hf64'/>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn close_element(sid: &str) -> ElementBuilder {
    ElementBuilder::new("close", NS).attr("sid", sid.to_owned())
}

/// A received `<open/>`: its sid, block size and carrying stanza.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0047_ibb::{OpenRequest, StanzaKind};
/// let e = Element::parse("<open xmlns='http://jabber.org/protocol/ibb' block-size='4096' sid='i781hf64' stanza='iq'/>")?;
/// let o = OpenRequest::from_element(&e).unwrap();
/// assert_eq!((o.sid.as_str(), o.block_size, o.stanza), ("i781hf64", 4096, StanzaKind::Iq));
/// let too_big = Element::parse("<open xmlns='http://jabber.org/protocol/ibb' block-size='65536' sid='a'/>")?;
/// assert!(OpenRequest::from_element(&too_big).is_none());
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenRequest {
    /// The session id (an NMTOKEN).
    pub sid: String,
    /// The largest chunk, in bytes before base64 (1 to 65535).
    pub block_size: u16,
    /// The carrying stanza.
    pub stanza: StanzaKind,
}

impl OpenRequest {
    /// Reads an `<open/>`; `None` when a required attribute is missing or out of range.
    pub fn from_element(e: &Element) -> Option<OpenRequest> {
        if !e.is("open", NS) {
            return None;
        }
        let sid = e.attr("sid").filter(|s| !s.is_empty())?.into_owned();
        let block_size = e.attr("block-size")?.trim().parse::<u16>().ok().filter(|b| *b > 0)?;
        let stanza = StanzaKind::from_attr(e.attr("stanza").as_deref())?;
        Some(OpenRequest { sid, block_size, stanza })
    }
}

/// Decodes the base64 text of a `<data/>` (RFC 4648 §4 with padding; XML whitespace, as in the XEP's own
/// examples, is skipped). Anything else, `=` in the middle included, is refused (§7: MUST reject).
///
/// ```
/// use moxl_xep::xep_0047_ibb::decode_chunk;
/// assert_eq!(decode_chunk("aGk=").as_deref(), Some(&b"hi"[..]));
/// assert_eq!(decode_chunk("aG\n  k=").as_deref(), Some(&b"hi"[..]));
/// assert_eq!(decode_chunk("").as_deref(), Some(&b""[..]));
/// assert!(decode_chunk("=AAA").is_none());
/// assert!(decode_chunk("BBBB=CCC").is_none());
/// assert!(decode_chunk("aGk").is_none(), "padding is required");
/// assert!(decode_chunk("a*k=").is_none());
/// ```
pub fn decode_chunk(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let compact: Vec<u8> = text.bytes().filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).ok()
}

fn normalize(jid: &str) -> String {
    moxl_core::jid::Jid::new(jid).map(|j| j.to_string()).unwrap_or_else(|_| jid.to_owned())
}

type Key = (String, String);

/// What a reader gets from the handlers.
enum Incoming {
    /// A chunk, and the iq to acknowledge once it is read (`None` for a message).
    Data(Vec<u8>, Option<Element>),
    /// The peer closed the stream (§2.3).
    Closed,
    /// The stream broke.
    Failed(String),
}

struct Entry {
    tx: mpsc::Sender<Incoming>,
    next_seq: u16,
    block_size: u16,
}

struct Expected {
    max_block_size: u16,
    window: usize,
    tx: oneshot::Sender<IbbStream>,
}

/// The open streams and expected opens of one session (its `session_state`).
#[derive(Default)]
struct Streams {
    open: Mutex<HashMap<Key, Entry>>,
    expected: Mutex<HashMap<Key, Expected>>,
}

impl Streams {
    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn expected(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Expected>> {
        self.expected.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a stream with `peer` and gives its reading end, or `None` if the sid is taken.
    fn register(&self, key: Key, block_size: u16) -> Option<mpsc::Receiver<Incoming>> {
        let mut open = self.open();
        if open.contains_key(&key) {
            return None;
        }
        let (tx, rx) = mpsc::channel(MAX_QUEUED_CHUNKS);
        open.insert(key, Entry { tx, next_seq: 0, block_size });
        Some(rx)
    }
}

fn streams(ctx: &Context) -> Arc<Streams> {
    ctx.session_state::<Streams>()
}

/// Opens a bytestream with `peer` (a full JID) under `sid` (§2.1), and gives it once the peer accepted. A peer
/// that prefers smaller chunks (`<resource-constraint/>`) is asked again with half the block size, down to 256
/// bytes. Fails with the peer's error (`<service-unavailable/>`: no IBB; `<not-acceptable/>`: refused), or if
/// this session already has a stream with `peer` under `sid`.
///
/// ```
/// use moxl_xep::xep_0047_ibb::{self, Options};
/// # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// let stream = xep_0047_ibb::open(ctx, "juliet@capulet.lit/balcony", "i781hf64", Options::default().block_size(8192)).await?;
/// assert!(stream.block_size() <= 8192);
/// # Ok(()) }
/// ```
pub async fn open(ctx: &Context, peer: &str, sid: &str, options: Options) -> Result<IbbStream> {
    let peer = normalize(peer);
    let key = (peer.clone(), sid.to_owned());
    let registry = streams(ctx);
    let mut block_size = options.block_size.max(1);
    let rx = registry
        .register(key.clone(), block_size)
        .ok_or_else(|| Error::handler(format!("an in-band bytestream with {peer} under sid {sid} is already open")))?;
    loop {
        let asked = Open { to: peer.clone(), sid: sid.to_owned(), block_size, stanza: options.stanza };
        let outcome = match ctx.request(asked) {
            Ok(request) => request.await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => break,
            Err(Error::Stanza(e))
                if e.condition() == Some(Condition::ResourceConstraint) && block_size > MIN_BLOCK_SIZE =>
            {
                block_size = (block_size / 2).max(MIN_BLOCK_SIZE);
                if let Some(entry) = registry.open().get_mut(&key) {
                    entry.block_size = block_size;
                }
            }
            Err(e) => {
                registry.open().remove(&key);
                return Err(e);
            }
        }
    }
    Ok(IbbStream::new(ctx.clone(), registry, key, rx, block_size, options.stanza, options.window))
}

/// Waits for the `<open/>` of a stream whose sid was negotiated beforehand (XEP-0261: the Jingle initiator opens
/// the IBB session it offered), and accepts it when it comes from `peer` with a block size of at most
/// `max_block_size` (a larger one is answered `<resource-constraint/>`, §2.1). Register before the peer can send
/// it; dropping the returned future withdraws the expectation.
///
/// ```
/// use moxl_xep::xep_0047_ibb;
/// # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// let incoming = xep_0047_ibb::expect(ctx, "romeo@montague.lit/orchard", "ch3d9s71", 4096, 8);
/// // ... session-accept sent here ...
/// let stream = incoming.await?;
/// # Ok(()) }
/// ```
pub fn expect(ctx: &Context, peer: &str, sid: &str, max_block_size: u16, window: usize) -> ExpectedOpen {
    let key = (normalize(peer), sid.to_owned());
    let registry = streams(ctx);
    let (tx, rx) = oneshot::channel();
    registry.expected().insert(key.clone(), Expected { max_block_size: max_block_size.max(1), window, tx });
    ExpectedOpen { rx, registry, key }
}

/// The future of [`expect`]: the stream, once the peer opened it. Fails with [`Error::Disconnected`] when the
/// session ended first.
#[must_use = "the expectation is withdrawn when this is dropped"]
pub struct ExpectedOpen {
    rx: oneshot::Receiver<IbbStream>,
    registry: Arc<Streams>,
    key: Key,
}

impl fmt::Debug for ExpectedOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExpectedOpen").field("peer", &self.key.0).field("sid", &self.key.1).finish()
    }
}

impl Future for ExpectedOpen {
    type Output = Result<IbbStream>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<IbbStream>> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.map_err(|_| Error::Disconnected("the in-band bytestream was never opened".into())))
    }
}

impl Drop for ExpectedOpen {
    fn drop(&mut self) {
        self.registry.expected().remove(&self.key);
    }
}

/// Asks `to` to open the stream `sid` (§2.1). Its `Output` is `()` once accepted; the peer's refusal is the
/// request's error. [`open`] sends it and builds the stream.
///
/// ```
/// use moxl_xep::xep_0047_ibb::{Open, StanzaKind};
/// let iq = Open::new("juliet@capulet.lit/balcony", "i781hf64", 4096, StanzaKind::Iq).request_stanza().build()?;
/// assert_eq!(iq.to_xml(), "<iq xmlns='jabber:client' type='set' to='juliet@capulet.lit/balcony'>\
///     <open xmlns='http://jabber.org/protocol/ibb' sid='i781hf64' block-size='4096' stanza='iq'/></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Open {
    to: String,
    sid: String,
    block_size: u16,
    stanza: StanzaKind,
}

impl Open {
    /// `<open/>` for `to`.
    pub fn new(to: impl Into<String>, sid: impl Into<String>, block_size: u16, stanza: StanzaKind) -> Open {
        Open { to: to.into(), sid: sid.into(), block_size, stanza }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        iq_set(Some(&self.to)).append(open_element(&self.sid, self.block_size, self.stanza))
    }
}

#[action(group = "ibb")]
impl Open {
    /// Nothing: the peer accepted.
    type Output = ();

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<()> {
        Ok(())
    }
}

/// One chunk in an `<iq/>` (§2.2). Its `Output` is `()` once acknowledged. The bytes are not kept with a stored
/// session (they are sent once; a chunk whose stream did not survive a restart has nowhere to go).
///
/// ```
/// use moxl_xep::xep_0047_ibb::Data;
/// // §2.2, Example 6, with other bytes
/// let iq = Data::new("juliet@capulet.lit/balcony", "i781hf64", 0, b"abc".to_vec()).request_stanza().build()?;
/// assert_eq!(iq.to_xml(), "<iq xmlns='jabber:client' type='set' to='juliet@capulet.lit/balcony'>\
///     <data xmlns='http://jabber.org/protocol/ibb' sid='i781hf64' seq='0'>YWJj</data></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    to: String,
    sid: String,
    seq: u16,
    #[serde(skip)]
    bytes: Vec<u8>,
}

impl Data {
    /// The chunk `seq` of `sid`, for `to`.
    pub fn new(to: impl Into<String>, sid: impl Into<String>, seq: u16, bytes: Vec<u8>) -> Data {
        Data { to: to.into(), sid: sid.into(), seq, bytes }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        iq_set(Some(&self.to)).append(data_element(&self.sid, self.seq, &self.bytes))
    }
}

#[action(group = "ibb")]
impl Data {
    /// Nothing: the chunk was acknowledged.
    type Output = ();

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<()> {
        Ok(())
    }
}

/// Closes the stream `sid` (§2.3). Its `Output` is `()` once the peer answered; an `<item-not-found/>` answer
/// (the peer had forgotten it) is the request's error, and the stream is closed either way.
///
/// ```
/// use moxl_xep::xep_0047_ibb::Close;
/// let iq = Close::new("juliet@capulet.lit/balcony", "i781hf64").request_stanza().build()?;
/// assert!(iq.to_xml().ends_with("<close xmlns='http://jabber.org/protocol/ibb' sid='i781hf64'/></iq>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Close {
    to: String,
    sid: String,
}

impl Close {
    /// `<close/>` of `sid`, for `to`.
    pub fn new(to: impl Into<String>, sid: impl Into<String>) -> Close {
        Close { to: to.into(), sid: sid.into() }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        iq_set(Some(&self.to)).append(close_element(&self.sid))
    }
}

#[action(group = "ibb")]
impl Close {
    /// Nothing: the peer closed it too.
    type Output = ();

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<()> {
        Ok(())
    }
}

/// An `<open/>` nobody [`expect`]ed, delivered to the application (Packet key `ibbopen`): accept it to get the
/// stream, or reject it. Dropping it unanswered leaves the peer's request unanswered until it times out: answer.
///
/// ```
/// # async fn run(client: &moxl_core::client::Client) -> moxl_core::Result<()> {
/// let mut offers = client.xec().events::<moxl_xep::xep_0047_ibb::IbbOffer>();
/// while let Some(offer) = offers.recv().await {
///     if offer.from == "romeo@montague.lit/orchard" {
///         let _stream = offer.accept()?;
///     } else {
///         offer.reject()?;
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct IbbOffer {
    /// The peer's full JID.
    pub from: String,
    /// What it asked for.
    pub request: OpenRequest,
    iq: Element,
    ctx: Context,
}

impl fmt::Debug for IbbOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IbbOffer").field("from", &self.from).field("request", &self.request).finish()
    }
}

impl IbbOffer {
    /// Accepts the stream (an iq result) with the default window (see [`Options::window`]).
    pub fn accept(&self) -> Result<IbbStream> {
        self.accept_with_window(Options::default().window)
    }

    /// Accepts the stream, keeping at most `window` of our chunks unacknowledged when writing.
    pub fn accept_with_window(&self, window: usize) -> Result<IbbStream> {
        let registry = streams(&self.ctx);
        let key = (self.from.clone(), self.request.sid.clone());
        let Some(rx) = registry.register(key.clone(), self.request.block_size) else {
            self.ctx.send(error_reply(&self.iq, &StanzaError::new(Condition::NotAcceptable)))?;
            return Err(Error::handler(format!("sid {} is already in use with {}", key.1, key.0)));
        };
        if let Err(e) = self.ctx.send(iq_result(&self.iq)) {
            registry.open().remove(&key);
            return Err(e);
        }
        Ok(IbbStream::new(self.ctx.clone(), registry, key, rx, self.request.block_size, self.request.stanza, window))
    }

    /// Refuses it with `<not-acceptable/>` (§2.1).
    pub fn reject(&self) -> Result<()> {
        self.ctx.send(error_reply(&self.iq, &StanzaError::new(Condition::NotAcceptable)))
    }
}

fn iq_of_type(stanza: &Element, kind: &str) -> bool {
    stanza.is("iq", ns::CLIENT) && stanza.attr("type").as_deref() == Some(kind)
}

/// Handles `<open/>` (§2.1): accepts an [`expect`]ed one, delivers an unexpected one as an [`IbbOffer`] when the
/// application subscribed to them, and refuses it with `<not-acceptable/>` otherwise. A malformed one gets
/// `<bad-request/>`.
///
/// ```
/// # use moxl_core::xec::Xec;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let xec = Xec::new()?;
/// let open = moxl_core::xml::Element::parse("<iq xmlns='jabber:client' type='set' id='jn3h8g65' from='romeo@montague.lit/orchard'>\
///     <open xmlns='http://jabber.org/protocol/ibb' block-size='4096' sid='i781hf64' stanza='iq'/></iq>")?;
/// xec.dispatch(open).await;
/// assert!(xec.take_outgoing()[0].to_xml().contains("<not-acceptable"), "nobody wants offers");
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "open", ns = "http://jabber.org/protocol/ibb", at = "child", key = "ibbopen")]
#[derive(Debug, Default)]
pub struct IbbOpenPayload;

impl Payload for IbbOpenPayload {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if !iq_of_type(stanza, "set") {
            return Ok(());
        }
        let from = normalize(&stanza.attr("from").unwrap_or_default());
        let Some(request) = OpenRequest::from_element(element) else {
            let error =
                StanzaError::new(Condition::BadRequest).with_text("open needs a sid and a block-size of 1 to 65535");
            return ctx.send(error_reply(stanza, &error));
        };
        let registry = streams(ctx);
        let key = (from.clone(), request.sid.clone());
        let expected = registry.expected().remove(&key);
        if let Some(expected) = expected {
            if request.block_size > expected.max_block_size {
                let error = StanzaError::new(Condition::ResourceConstraint).with_type(ErrorType::Modify);
                registry.expected().insert(key, expected);
                return ctx.send(error_reply(stanza, &error));
            }
            let Some(rx) = registry.register(key.clone(), request.block_size) else {
                return ctx.send(error_reply(stanza, &StanzaError::new(Condition::NotAcceptable)));
            };
            ctx.send(iq_result(stanza))?;
            let stream =
                IbbStream::new(ctx.clone(), registry, key, rx, request.block_size, request.stanza, expected.window);
            // The expecting side may have gone away meanwhile: the stream is then dropped (and closed).
            let _ = expected.tx.send(stream);
            return Ok(());
        }
        if registry.open().contains_key(&key) || !ctx.wants::<IbbOffer>() {
            return ctx.send(error_reply(stanza, &StanzaError::new(Condition::NotAcceptable)));
        }
        ctx.answer_later();
        ctx.pack(IbbOffer { from, request, iq: stanza.clone(), ctx: ctx.clone() }).deliver();
        Ok(())
    }
}

/// Handles `<data/>` (§2.2) in an `<iq type='set'/>` or a `<message/>` (§4): the chunk goes to the stream's reader,
/// which acknowledges it once read; the errors of §2.2 otherwise (see the module's doc).
///
/// ```
/// # use moxl_core::xec::Xec;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let xec = Xec::new()?;
/// let data = moxl_core::xml::Element::parse("<iq xmlns='jabber:client' type='set' id='kr91n475' from='romeo@montague.lit/orchard'>\
///     <data xmlns='http://jabber.org/protocol/ibb' seq='0' sid='unknown'>YWJj</data></iq>")?;
/// xec.dispatch(data).await;
/// assert!(xec.take_outgoing()[0].to_xml().contains("<item-not-found"));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "data", ns = "http://jabber.org/protocol/ibb", at = "child", key = "ibbdata")]
#[derive(Debug, Default)]
pub struct IbbDataPayload;

impl Payload for IbbDataPayload {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        let is_iq = iq_of_type(stanza, "set");
        let is_message = stanza.is("message", ns::CLIENT) && stanza.attr("type").as_deref() != Some("error");
        if !is_iq && !is_message {
            return Ok(());
        }
        let refuse = |condition: Condition, text: &str| -> Result<()> {
            if is_iq { ctx.send(error_reply(stanza, &StanzaError::new(condition).with_text(text))) } else { Ok(()) }
        };
        let from = normalize(&stanza.attr("from").unwrap_or_default());
        let sid = element.attr("sid").map(|s| s.into_owned()).unwrap_or_default();
        let key = (from, sid);
        let registry = streams(ctx);
        let mut open = registry.open();
        let Some(entry) = open.get_mut(&key) else {
            drop(open);
            return refuse(Condition::ItemNotFound, "no such in-band bytestream");
        };
        let seq = element.attr("seq").and_then(|s| s.trim().parse::<u16>().ok());
        let failure = match (seq, decode_chunk(&element.text())) {
            (Some(seq), _) if seq != entry.next_seq => {
                Some((Condition::UnexpectedRequest, format!("seq {seq} where {} was expected", entry.next_seq)))
            }
            (None, _) => Some((Condition::BadRequest, "data needs a seq of 0 to 65535".to_owned())),
            (_, None) => Some((Condition::BadRequest, "data is not base64 (RFC 4648 §4)".to_owned())),
            (_, Some(bytes)) if bytes.len() > usize::from(entry.block_size) => Some((
                Condition::BadRequest,
                format!("{} bytes in a chunk of at most {}", bytes.len(), entry.block_size),
            )),
            (Some(_), Some(bytes)) => {
                entry.next_seq = entry.next_seq.wrapping_add(1);
                let ack = is_iq.then(|| stanza.clone());
                match entry.tx.try_send(Incoming::Data(bytes, ack)) {
                    // Answered by the reader, once it has read the chunk.
                    Ok(()) => {
                        ctx.answer_later();
                        None
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        Some((Condition::ItemNotFound, "the in-band bytestream was dropped".to_owned()))
                    }
                    Err(mpsc::error::TrySendError::Full(_)) => Some((
                        Condition::ResourceConstraint,
                        format!("more than {MAX_QUEUED_CHUNKS} chunks unacknowledged"),
                    )),
                }
            }
        };
        let Some((condition, text)) = failure else {
            return Ok(());
        };
        // Every error on a chunk ends the stream (§2.2): the reader learns why.
        if let Some(entry) = open.remove(&key) {
            let _ = entry.tx.try_send(Incoming::Failed(text.clone()));
        }
        drop(open);
        refuse(condition, &text)
    }
}

/// Handles `<close/>` (§2.3): the reader gets the end of the stream after the chunks already received, and the
/// peer an iq result (`<item-not-found/>` for a stream we do not know).
///
/// ```
/// # use moxl_core::xec::Xec;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let xec = Xec::new()?;
/// let close = moxl_core::xml::Element::parse("<iq xmlns='jabber:client' type='set' id='us71g45j' from='romeo@montague.lit/orchard'>\
///     <close xmlns='http://jabber.org/protocol/ibb' sid='i781hf64'/></iq>")?;
/// xec.dispatch(close).await;
/// assert!(xec.take_outgoing()[0].to_xml().contains("<item-not-found"));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "close", ns = "http://jabber.org/protocol/ibb", at = "child", key = "ibbclose")]
#[derive(Debug, Default)]
pub struct IbbClosePayload;

impl Payload for IbbClosePayload {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if !iq_of_type(stanza, "set") {
            return Ok(());
        }
        let from = normalize(&stanza.attr("from").unwrap_or_default());
        let key = (from, element.attr("sid").map(|s| s.into_owned()).unwrap_or_default());
        let entry = streams(ctx).open().remove(&key);
        match entry {
            Some(entry) => {
                // The reader sees the end once it has read what came before (the channel keeps the order); a
                // full channel means the reader is gone or stuck: dropping the sender ends it too.
                let _ = entry.tx.try_send(Incoming::Closed);
                ctx.send(iq_result(stanza))
            }
            None => ctx.send(error_reply(stanza, &StanzaError::new(Condition::ItemNotFound))),
        }
    }
}

type Waiting = Pin<Box<dyn Future<Output = ()> + Send>>;

/// An open in-band bytestream: tokio [`AsyncRead`] for what the peer sends, [`AsyncWrite`] for what we send.
///
/// Reading gives the peer's chunks in order, then the end of the stream when the peer closed it; a stream broken
/// by an error of §2.2 gives that error. Writing sends chunks of at most [`block_size`](Self::block_size) bytes,
/// keeping at most the window unacknowledged; `flush` waits for every acknowledgement and `shutdown` then sends
/// `<close/>`, which closes both directions (§2.3). Dropping the stream without `shutdown` sends `<close/>`
/// without waiting for anything.
///
/// ```
/// use tokio::io::AsyncWriteExt;
/// # async fn run(mut stream: moxl_xep::xep_0047_ibb::IbbStream) -> std::io::Result<()> {
/// println!("to {} (sid {}), {} bytes a chunk", stream.peer(), stream.sid(), stream.block_size());
/// stream.write_all(&[0u8; 10_000]).await?; // three chunks of 4096 bytes or less
/// stream.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct IbbStream {
    ctx: Context,
    registry: Arc<Streams>,
    key: Key,
    block_size: u16,
    stanza: StanzaKind,
    window: usize,
    // reading
    rx: mpsc::Receiver<Incoming>,
    buffer: Vec<u8>,
    offset: usize,
    read_done: Option<Option<String>>,
    // writing
    seq: u16,
    in_flight: VecDeque<Request<()>>,
    waiting: Option<Waiting>,
    write_error: Option<String>,
    closing: Option<Request<()>>,
    closed: bool,
}

impl fmt::Debug for IbbStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IbbStream")
            .field("peer", &self.key.0)
            .field("sid", &self.key.1)
            .field("block_size", &self.block_size)
            .field("stanza", &self.stanza)
            .field("seq", &self.seq)
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

impl IbbStream {
    fn new(
        ctx: Context,
        registry: Arc<Streams>,
        key: Key,
        rx: mpsc::Receiver<Incoming>,
        block_size: u16,
        stanza: StanzaKind,
        window: usize,
    ) -> IbbStream {
        IbbStream {
            ctx,
            registry,
            key,
            block_size: block_size.max(1),
            stanza,
            window: window.max(1),
            rx,
            buffer: Vec::new(),
            offset: 0,
            read_done: None,
            seq: 0,
            in_flight: VecDeque::new(),
            waiting: None,
            write_error: None,
            closing: None,
            closed: false,
        }
    }

    /// The peer's full JID.
    pub fn peer(&self) -> &str {
        &self.key.0
    }

    /// The session id.
    pub fn sid(&self) -> &str {
        &self.key.1
    }

    /// The negotiated block size: the largest chunk, in bytes.
    pub fn block_size(&self) -> u16 {
        self.block_size
    }

    /// The carrying stanza.
    pub fn stanza(&self) -> StanzaKind {
        self.stanza
    }

    fn broken(&mut self, why: String) -> io::Error {
        self.write_error = Some(why.clone());
        self.registry.open().remove(&self.key);
        io::Error::new(io::ErrorKind::BrokenPipe, why)
    }

    /// Polls the oldest unacknowledged chunks, forgetting those acknowledged.
    fn poll_acks(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        while let Some(front) = self.in_flight.front_mut() {
            match Pin::new(front).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(())) => {
                    self.in_flight.pop_front();
                }
                Poll::Ready(Err(e)) => {
                    self.in_flight.clear();
                    return Poll::Ready(Err(self.broken(format!("a chunk was refused: {e}"))));
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Sends one chunk, or gives `Pending` while the outgoing queue is full.
    fn poll_send(&mut self, cx: &mut TaskContext<'_>, chunk: &[u8]) -> Poll<io::Result<()>> {
        loop {
            if let Some(waiting) = self.waiting.as_mut() {
                ready!(waiting.as_mut().poll(cx));
                self.waiting = None;
            }
            let (peer, sid) = (&self.key.0, &self.key.1);
            let sent = match self.stanza {
                StanzaKind::Iq => {
                    self.ctx.request(Data::new(peer.clone(), sid.clone(), self.seq, chunk.to_vec())).map(Some)
                }
                StanzaKind::Message => {
                    let message = ElementBuilder::new("message", ns::CLIENT)
                        .attr("to", peer.clone())
                        .attr("id", format!("ibb-{sid}-{}", self.seq))
                        .append(data_element(sid, self.seq, chunk));
                    self.ctx.send(message).map(|()| None)
                }
            };
            match sent {
                Ok(request) => {
                    self.in_flight.extend(request);
                    self.seq = self.seq.wrapping_add(1);
                    return Poll::Ready(Ok(()));
                }
                // The outgoing queue is full (back-pressure): wait for room, then send again.
                Err(Error::Refused(_)) => {
                    let ctx = self.ctx.clone();
                    self.waiting = Some(Box::pin(async move { ctx.sendable().await }));
                }
                Err(e) => return Poll::Ready(Err(self.broken(format!("a chunk could not be sent: {e}")))),
            }
        }
    }
}

impl AsyncRead for IbbStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.offset < this.buffer.len() {
                let n = buf.remaining().min(this.buffer.len() - this.offset);
                buf.put_slice(this.buffer.get(this.offset..this.offset + n).unwrap_or_default());
                this.offset += n;
                return Poll::Ready(Ok(()));
            }
            match &this.read_done {
                Some(None) => return Poll::Ready(Ok(())),
                Some(Some(why)) => return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, why.clone()))),
                None => {}
            }
            match ready!(this.rx.poll_recv(cx)) {
                Some(Incoming::Data(bytes, ack)) => {
                    if let Some(iq) = ack {
                        // Acknowledged once read (§2.2): the peer's window is our reader's pace.
                        if let Err(e) = this.ctx.send(iq_result(&iq)) {
                            tracing::debug!(sid = %this.key.1, "in-band bytestream: ack not sent: {e}");
                        }
                    }
                    this.buffer = bytes;
                    this.offset = 0;
                }
                Some(Incoming::Closed) | None => this.read_done = Some(None),
                Some(Incoming::Failed(why)) => this.read_done = Some(Some(why)),
            }
        }
    }
}

impl AsyncWrite for IbbStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if let Some(why) = &this.write_error {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, why.clone())));
        }
        if this.closed || this.closing.is_some() {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, "the in-band bytestream is closed")));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // Forget what was acknowledged; wait while the window is full.
        if let Poll::Ready(Err(e)) = this.poll_acks(cx) {
            return Poll::Ready(Err(e));
        }
        if this.in_flight.len() >= this.window {
            return Poll::Pending;
        }
        let n = buf.len().min(usize::from(this.block_size));
        ready!(this.poll_send(cx, buf.get(..n).unwrap_or_default()))?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(why) = &this.write_error {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, why.clone())));
        }
        this.poll_acks(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.closed {
            return Poll::Ready(Ok(()));
        }
        if this.closing.is_none() {
            ready!(this.poll_acks(cx))?;
            // Removed first: what the peer sends from now on is for a closed stream (§2.3).
            this.registry.open().remove(&this.key);
            let close = Close::new(this.key.0.clone(), this.key.1.clone());
            match this.ctx.request(close) {
                Ok(request) => this.closing = Some(request),
                Err(e) => {
                    this.closed = true;
                    return Poll::Ready(Err(io::Error::other(e)));
                }
            }
        }
        let Some(closing) = this.closing.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let outcome = ready!(Pin::new(closing).poll(cx));
        this.closing = None;
        this.closed = true;
        match outcome {
            // An item-not-found answer: the peer had closed it already; both consider it closed (§2.3).
            Ok(()) | Err(Error::Stanza(_)) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(io::Error::other(e))),
        }
    }
}

impl Drop for IbbStream {
    fn drop(&mut self) {
        let was_open = self.registry.open().remove(&self.key).is_some();
        if was_open && !self.closed && self.closing.is_none() {
            let _ = self.ctx.send(Close::new(self.key.0.clone(), self.key.1.clone()).request_stanza());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moxl_core::xec::Xec;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn el(xml: &str) -> Element {
        Element::parse(xml).unwrap()
    }

    fn data_iq(id: &str, sid: &str, seq: u32, b64: &str) -> Element {
        el(&format!(
            "<iq xmlns='jabber:client' type='set' id='{id}' from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony'>\
             <data xmlns='{NS}' seq='{seq}' sid='{sid}'>{b64}</data></iq>"
        ))
    }

    async fn expected_stream(xec: &Xec, sid: &str) -> IbbStream {
        let incoming = expect(&xec.context(), "romeo@montague.lit/orchard", sid, 4096, 8);
        let open = el(&format!(
            "<iq xmlns='jabber:client' type='set' id='o1' from='romeo@montague.lit/orchard'>\
             <open xmlns='{NS}' block-size='4' sid='{sid}'/></iq>"
        ));
        xec.dispatch(open).await;
        let out = xec.take_outgoing();
        assert_eq!(out[0].attr("type").as_deref(), Some("result"));
        incoming.await.unwrap()
    }

    #[tokio::test]
    async fn chunks_are_read_in_order_acked_when_read_and_seq_wraps() {
        let xec = Xec::new().unwrap();
        let mut stream = expected_stream(&xec, "s1").await;
        assert_eq!(stream.block_size(), 4);
        xec.dispatch(data_iq("d0", "s1", 0, "YWJj")).await;
        xec.dispatch(data_iq("d1", "s1", 1, "ZGVm")).await;
        assert!(xec.take_outgoing().is_empty(), "nothing acknowledged before it is read");
        let mut buf = [0u8; 6];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abcdef");
        let acks: Vec<String> = xec.take_outgoing().iter().map(|e| e.attr("id").unwrap().into_owned()).collect();
        assert_eq!(acks, ["d0", "d1"]);
        // the counter wraps after 65535 (§2.2)
        streams(&xec.context()).open().get_mut(&("romeo@montague.lit/orchard".into(), "s1".into())).unwrap().next_seq =
            65535;
        xec.dispatch(data_iq("d2", "s1", 65535, "eA==")).await;
        xec.dispatch(data_iq("d3", "s1", 0, "eQ==")).await;
        let mut two = [0u8; 2];
        stream.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"xy");
        // the peer closes: the reader sees the end
        let close = el("<iq xmlns='jabber:client' type='set' id='c1' from='romeo@montague.lit/orchard'>\
             <close xmlns='http://jabber.org/protocol/ibb' sid='s1'/></iq>");
        xec.dispatch(close).await;
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }

    #[tokio::test]
    async fn the_errors_of_section_2_2_close_the_stream() {
        let xec = Xec::new().unwrap();
        // out of sequence
        let mut stream = expected_stream(&xec, "s2").await;
        xec.dispatch(data_iq("d0", "s2", 1, "YWJj")).await;
        let reply = &xec.take_outgoing()[0];
        assert!(reply.to_xml().contains("<unexpected-request"), "{}", reply.to_xml());
        let mut buf = Vec::new();
        assert!(stream.read_to_end(&mut buf).await.is_err());
        xec.dispatch(data_iq("d1", "s2", 0, "YWJj")).await;
        assert!(xec.take_outgoing()[0].to_xml().contains("<item-not-found"), "the stream is gone");
        // not base64, and too big
        for (sid, b64) in [("s3", "=AAA"), ("s4", "YWJjZGVm")] {
            let mut stream = expected_stream(&xec, sid).await;
            xec.dispatch(data_iq("d", sid, 0, b64)).await;
            assert!(xec.take_outgoing()[0].to_xml().contains("<bad-request"));
            assert!(stream.read_to_end(&mut buf).await.is_err());
        }
        // an open with a block size above what is expected
        let _incoming = expect(&xec.context(), "romeo@montague.lit/orchard", "s5", 1024, 8);
        let open = el("<iq xmlns='jabber:client' type='set' id='o5' from='romeo@montague.lit/orchard'>\
             <open xmlns='http://jabber.org/protocol/ibb' block-size='4096' sid='s5'/></iq>");
        xec.dispatch(open).await;
        let reply = xec.take_outgoing()[0].to_xml();
        assert!(reply.contains("<error type='modify'><resource-constraint"), "{reply}");
    }

    #[tokio::test]
    async fn a_writer_chunks_keeps_its_window_and_closes() {
        let xec = Xec::new().unwrap();
        let mut stream = expected_stream(&xec, "w1").await;
        // 10 bytes in blocks of 4: three chunks, all within the window
        tokio::time::timeout(std::time::Duration::from_secs(1), stream.write_all(b"0123456789"))
            .await
            .unwrap()
            .unwrap();
        let sent = xec.take_outgoing();
        let seqs: Vec<String> =
            sent.iter().map(|iq| iq.child("data", NS).unwrap().attr("seq").unwrap().into_owned()).collect();
        assert_eq!(seqs, ["0", "1", "2"]);
        assert_eq!(sent[2].child("data", NS).unwrap().text(), "ODk=");
        // flush waits for the acks
        let flush = tokio::time::timeout(std::time::Duration::from_millis(50), stream.flush()).await;
        assert!(flush.is_err(), "not acknowledged yet");
        for iq in &sent {
            let ack = el(&format!(
                "<iq xmlns='jabber:client' type='result' id='{}' from='romeo@montague.lit/orchard'/>",
                iq.attr("id").unwrap()
            ));
            xec.dispatch(ack).await;
        }
        stream.flush().await.unwrap();
        // an error answer breaks the writer
        stream.write_all(b"x").await.unwrap();
        let iq = xec.take_outgoing().remove(0);
        let refused = el(&format!(
            "<iq xmlns='jabber:client' type='error' id='{}' from='romeo@montague.lit/orchard'><error type='cancel'>\
             <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            iq.attr("id").unwrap()
        ));
        xec.dispatch(refused).await;
        assert!(stream.flush().await.is_err());
        assert!(stream.write_all(b"y").await.is_err());
    }
}
