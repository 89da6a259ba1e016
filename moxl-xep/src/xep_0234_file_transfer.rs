//! XEP-0234: Jingle File Transfer (version 0.19.1, namespace `urn:xmpp:jingle:apps:file-transfer:5`): a file
//! offered to a peer ([`send_file`], §4.1) or requested from it ([`request_file`], §4.2), in a Jingle session
//! (XEP-0166, driven through `xep_0166_jingle`'s client wiring) over a SOCKS5 bytestream through the server's proxy
//! (XEP-0260 + XEP-0065) or an in-band bytestream (XEP-0261 + XEP-0047), with the SOCKS5 one replaced by IBB when
//! neither side can connect (XEP-0260 §3, transport-replace).
//!
//! The file is described by a XEP-0446 [`FileMetadata`] in the `<description/>` (§3). Its integrity is checked on
//! arrival with XEP-0300 hashes: the ones the offer carries, or, when the sender announces only the function
//! (`<hash-used/>`), the `<checksum/>` it sends in a session-info once it has sent the bytes (§8.2), which a sender
//! of this module always does (it hashes what it sends, in one pass). **A bad hash is an error, not a file**: the
//! receiving side's [`Transfer`] ends with [`TransferError::HashMismatch`] and the session is terminated with
//! `<media-error/>`. The bytes were already written to the writer the application gave: write into a temporary
//! file and keep it only on `Ok`.
//!
//! Each transfer runs in its own task and is a [`Transfer`]: its [`progress`](Transfer::progress) (a
//! `tokio::sync::watch` of [`Progress`]), a [`Canceller`] (a session-terminate with `<cancel/>`, §6.3), and
//! [`finished`](Transfer::finished) to await its end. The receiving side terminates the session (`<success/>`)
//! once it has checked the file, as §6.4 prefers.
//!
//! Sessions that peers start are delivered as [`IncomingFile`] (typed events; their Packet key is `jingle`, the
//! key of the Jingle Payload that delivers them): [`receive`](IncomingFile::receive) an offered file into a
//! writer, [`send`](IncomingFile::send) a requested one from a reader, or [`decline`](IncomingFile::decline).
//!
//! ```
//! use moxl_xep::xep_0234_file_transfer::{send_file, SendOptions, TransportChoice};
//! use moxl_xep::xep_0446_file_metadata::FileMetadata;
//! # async fn run(ctx: &moxl_core::xec::Context) -> Result<(), Box<dyn std::error::Error>> {
//! let mut file = FileMetadata::default();
//! file.name = Some("summit.jpg".into());
//! file.size = Some(3_032_449);
//! let reader = tokio::io::empty(); // or a tokio::fs::File
//! let transfer = send_file(ctx, "juliet@capulet.lit/balcony", file, reader, SendOptions::default()).await?;
//! let mut progress = transfer.progress();
//! tokio::spawn(async move {
//!     while progress.changed().await.is_ok() {
//!         println!("{} bytes sent", progress.borrow().transferred);
//!     }
//! });
//! transfer.finished().await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Error, Result};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc, oneshot, watch};

use crate::xep_0047_ibb::{self, IbbStream};
use crate::xep_0065_socks5::{self, StreamHost};
use crate::xep_0166_jingle::{
    self as jingle, Action, ApplicationFormat, Content, JingleEvent, Reason, ReasonCondition, Role, Senders,
};
use crate::xep_0260_jingle_s5b::{self as s5b, Candidate, S5bInfo, S5bTransport};
use crate::xep_0261_jingle_ibb::IbbTransport;
use crate::xep_0300_hashes::{Algo, Hash, Hasher, hash_used, hash_used_of};
use crate::xep_0446_file_metadata::FileMetadata;

/// `urn:xmpp:jingle:apps:file-transfer:5` (§3), also the disco feature.
///
/// ```
/// assert_eq!(moxl_xep::xep_0234_file_transfer::NS, "urn:xmpp:jingle:apps:file-transfer:5");
/// ```
pub const NS: &str = "urn:xmpp:jingle:apps:file-transfer:5";

/// `urn:xmpp:jingle:apps:file-transfer:errors:0`, the application reasons of §9.
///
/// ```
/// assert_eq!(moxl_xep::xep_0234_file_transfer::NS_ERRORS, "urn:xmpp:jingle:apps:file-transfer:errors:0");
/// ```
pub const NS_ERRORS: &str = "urn:xmpp:jingle:apps:file-transfer:errors:0";

moxl_core::feature!("urn:xmpp:jingle:apps:file-transfer:5");

crate::jingle_application_format!(ApplicationFormat { ns: NS, info_ns: &[NS], on_event: Some(on_event) });

/// How long a step of the negotiation (an accept, a transport-info, the checksum) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// The chunk the data phase reads and writes at a time.
const COPY_BUFFER: usize = 64 * 1024;

/// The `<description/>` of a file (§3): the file's metadata, and `<hash-used/>` when the hash will come later.
///
/// ```
/// use moxl_xep::xep_0234_file_transfer::description;
/// use moxl_xep::xep_0300_hashes::Algo;
/// use moxl_xep::xep_0446_file_metadata::FileMetadata;
/// let mut f = FileMetadata::default();
/// f.name = Some("test.txt".into());
/// f.size = Some(6144);
/// assert_eq!(description(&f, Some(&Algo::Sha256)).build()?.to_xml(),
///     "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file><name>test.txt</name><size>6144</size>\
///      <hash-used xmlns='urn:xmpp:hashes:2' algo='sha-256'/></file></description>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn description(file: &FileMetadata, hash_used_algo: Option<&Algo>) -> ElementBuilder {
    let mut file = file.to_element_in(NS);
    if let Some(algo) = hash_used_algo {
        file = file.append(hash_used(algo));
    }
    ElementBuilder::new("description", NS).append(file)
}

/// The file of a `<description/>` of this namespace, and the function of its `<hash-used/>`.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0234_file_transfer::file_of;
/// use moxl_xep::xep_0300_hashes::Algo;
/// // §4.1, Example 1 (shortened)
/// let d = Element::parse("<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file><media-type>text/plain</media-type>\
///     <name>test.txt</name><size>6144</size><hash-used xmlns='urn:xmpp:hashes:2' algo='sha-1'/></file></description>")?;
/// let (file, algo) = file_of(&d).unwrap();
/// assert_eq!((file.name.as_deref(), file.size, algo), (Some("test.txt"), Some(6144), Some(Algo::Sha1)));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn file_of(description: &Element) -> Option<(FileMetadata, Option<Algo>)> {
    if !description.is("description", NS) {
        return None;
    }
    let file = description.child("file", NS)?;
    let algo = file.children().find_map(|c| hash_used_of(&c));
    Some((FileMetadata::from_element_in(&file, NS)?, algo))
}

/// The `<checksum/>` session-info payload (§8.2) for the content `name` created by `creator`.
///
/// ```
/// use moxl_xep::xep_0166_jingle::Role;
/// use moxl_xep::xep_0234_file_transfer::{checksum, checksum_of};
/// use moxl_xep::xep_0300_hashes::{Algo, Hash};
/// let h = Hash::compute(Algo::Sha256, b"file").unwrap();
/// let e = checksum(Role::Initiator, "a-file-offer", &[h.clone()]).build()?;
/// assert!(e.to_xml().starts_with("<checksum xmlns='urn:xmpp:jingle:apps:file-transfer:5' creator='initiator' name='a-file-offer'><file>"));
/// assert_eq!(checksum_of(&e), Some(vec![h]));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn checksum(creator: Role, name: &str, hashes: &[Hash]) -> ElementBuilder {
    let file = hashes.iter().fold(ElementBuilder::new("file", NS), |f, h| f.append(h.to_element()));
    ElementBuilder::new("checksum", NS).attr("creator", creator.as_str()).attr("name", name.to_owned()).append(file)
}

/// The hashes of a `<checksum/>`.
pub fn checksum_of(e: &Element) -> Option<Vec<Hash>> {
    if !e.is("checksum", NS) {
        return None;
    }
    Some(Hash::all_in(&e.child("file", NS)?))
}

/// Which bytestream a transfer we start offers.
///
/// ```
/// use moxl_xep::xep_0234_file_transfer::TransportChoice;
/// assert!(matches!(TransportChoice::default(), TransportChoice::Socks5 { proxies: None }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportChoice {
    /// XEP-0260 through these proxies (`None`: the proxies of our server, found with
    /// [`discover_proxies`](xep_0065_socks5::discover_proxies)), replaced by IBB if neither side can connect.
    Socks5 {
        /// The streamhosts to offer.
        proxies: Option<Vec<StreamHost>>,
    },
    /// XEP-0261 in-band bytestreams only.
    Ibb,
}

impl Default for TransportChoice {
    fn default() -> TransportChoice {
        TransportChoice::Socks5 { proxies: None }
    }
}

/// How a transfer we start runs.
///
/// ```
/// use moxl_xep::xep_0234_file_transfer::{SendOptions, TransportChoice};
/// use moxl_xep::xep_0300_hashes::Algo;
/// let o = SendOptions::default().transport(TransportChoice::Ibb).hash(Algo::Sha3_256);
/// assert_eq!((o.transport, o.hash), (TransportChoice::Ibb, Algo::Sha3_256));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SendOptions {
    /// The bytestream offered (default SOCKS5 through our server's proxy).
    pub transport: TransportChoice,
    /// The hash function of the checksum (default SHA-256).
    pub hash: Algo,
    /// The in-band bytestream's settings, for IBB and the fallback to it (block size, window).
    pub ibb: xep_0047_ibb::Options,
}

impl Default for SendOptions {
    fn default() -> SendOptions {
        SendOptions { transport: TransportChoice::default(), hash: Algo::Sha256, ibb: xep_0047_ibb::Options::default() }
    }
}

impl SendOptions {
    /// With this transport.
    pub fn transport(mut self, transport: TransportChoice) -> SendOptions {
        self.transport = transport;
        self
    }

    /// With this hash function.
    pub fn hash(mut self, algo: Algo) -> SendOptions {
        self.hash = algo;
        self
    }

    /// With these in-band bytestream settings.
    pub fn ibb(mut self, options: xep_0047_ibb::Options) -> SendOptions {
        self.ibb = options;
        self
    }
}

/// How far a transfer is.
///
/// ```
/// let p = moxl_xep::xep_0234_file_transfer::Progress::default();
/// assert_eq!((p.transferred, p.total), (0, None));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes sent or received so far.
    pub transferred: u64,
    /// The file's size, if known.
    pub total: Option<u64>,
}

/// The bytestream a transfer used.
///
/// ```
/// assert_ne!(moxl_xep::xep_0234_file_transfer::UsedTransport::Ibb, moxl_xep::xep_0234_file_transfer::UsedTransport::Socks5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsedTransport {
    /// A SOCKS5 bytestream (XEP-0260).
    Socks5,
    /// An in-band bytestream (XEP-0261), offered or as the fallback.
    Ibb,
}

/// A transfer that went through.
///
/// ```
/// # fn f(done: moxl_xep::xep_0234_file_transfer::Completed) {
/// println!("{} bytes over {:?}, checked with {:?}", done.bytes, done.transport, done.verified.map(|h| h.algo));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Completed {
    /// The bytes transferred.
    pub bytes: u64,
    /// The bytestream used.
    pub transport: UsedTransport,
    /// Receiving side: the hash the file was checked with (`None` when the sender announced no hash with a
    /// function that proves integrity: the file is unchecked). Sending side: the hash sent in the checksum.
    pub verified: Option<Hash>,
}

/// Why a transfer did not go through.
///
/// ```
/// use moxl_xep::xep_0234_file_transfer::TransferError;
/// let e = TransferError::Cancelled { by_peer: true };
/// assert_eq!(e.to_string(), "the peer cancelled the transfer");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferError {
    /// The peer declined the session (it terminated it before accepting), with its reason.
    Declined(Option<Reason>),
    /// Cancelled (§6.3: session-terminate with `<cancel/>`), by the peer or by us.
    Cancelled {
        /// Whether the peer cancelled it.
        by_peer: bool,
    },
    /// The received bytes do not have the announced hash: they are not the file (the session was terminated with
    /// `<media-error/>`).
    HashMismatch(Algo),
    /// The peer ended the session with another reason (a sender learns of a bad hash this way: `<media-error/>`).
    Terminated(Option<Reason>),
    /// No bytestream could be set up, or it broke.
    Transport(String),
    /// The Jingle signalling failed (a refused request, a timeout, the session ended).
    Signalling(String),
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::Declined(r) => {
                write!(f, "the peer declined the transfer ({:?})", r.as_ref().map(|r| r.condition))
            }
            TransferError::Cancelled { by_peer: true } => f.write_str("the peer cancelled the transfer"),
            TransferError::Cancelled { by_peer: false } => f.write_str("the transfer was cancelled"),
            TransferError::HashMismatch(algo) => write!(f, "the file does not have the announced {} hash", algo.name()),
            TransferError::Terminated(r) => {
                write!(f, "the peer ended the transfer ({:?})", r.as_ref().map(|r| r.condition))
            }
            TransferError::Transport(why) => write!(f, "bytestream: {why}"),
            TransferError::Signalling(why) => write!(f, "signalling: {why}"),
        }
    }
}

impl std::error::Error for TransferError {}

impl From<Error> for TransferError {
    fn from(e: Error) -> TransferError {
        TransferError::Signalling(e.to_string())
    }
}

impl From<TransferError> for Error {
    fn from(e: TransferError) -> Error {
        Error::handler(e.to_string())
    }
}

/// Cancels a [`Transfer`] from anywhere (cheap to clone).
///
/// ```
/// # fn f(transfer: &moxl_xep::xep_0234_file_transfer::Transfer) {
/// let cancel = transfer.canceller();
/// cancel.cancel(); // session-terminate with <cancel/>; the transfer ends with TransferError::Cancelled
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Canceller(Arc<Notify>);

impl Canceller {
    /// Cancels the transfer (once it runs: a transfer not yet started is cancelled when it starts).
    pub fn cancel(&self) {
        self.0.notify_one();
    }
}

/// A running transfer: its progress, a way to cancel it, and its end.
///
/// ```
/// # async fn f(transfer: moxl_xep::xep_0234_file_transfer::Transfer) -> Result<(), Box<dyn std::error::Error>> {
/// println!("with {} (sid {})", transfer.peer(), transfer.sid());
/// let done = transfer.finished().await?;
/// println!("{} bytes", done.bytes);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Transfer {
    peer: String,
    sid: String,
    progress: watch::Receiver<Progress>,
    cancel: Arc<Notify>,
    done: oneshot::Receiver<std::result::Result<Completed, TransferError>>,
}

impl Transfer {
    /// The peer's full JID.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The Jingle session id.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The progress, updated as bytes go (a `watch`: read the latest, or wait for a change).
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.clone()
    }

    /// A handle that cancels the transfer.
    pub fn canceller(&self) -> Canceller {
        Canceller(self.cancel.clone())
    }

    /// Waits for the end of the transfer.
    pub async fn finished(self) -> std::result::Result<Completed, TransferError> {
        self.done.await.unwrap_or_else(|_| Err(TransferError::Signalling("the transfer's task ended".into())))
    }
}

/// Whether a session-initiate offers a file or asks for one (§2.1).
///
/// ```
/// assert_ne!(moxl_xep::xep_0234_file_transfer::Direction::Offer, moxl_xep::xep_0234_file_transfer::Direction::Request);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Direction {
    /// The peer sends us the file.
    Offer,
    /// The peer asks us for the file.
    Request,
}

/// A file transfer a peer started: an offer (accept it with [`receive`](Self::receive)) or a request (answer it
/// with [`send`](Self::send)), or [`decline`](Self::decline) it.
///
/// ```
/// # async fn run(client: &moxl_core::client::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use moxl_xep::xep_0234_file_transfer::{Direction, IncomingFile};
/// let mut incoming = client.xec().events::<IncomingFile>();
/// while let Some(file) = incoming.recv().await {
///     if file.direction == Direction::Offer && file.file.size.unwrap_or(0) < 100 * 1024 * 1024 {
///         let transfer = file.receive(Vec::<u8>::new())?; // or a tokio::fs::File
///         transfer.finished().await?;
///     } else {
///         file.decline()?;
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct IncomingFile {
    /// The peer's full JID.
    pub peer: String,
    /// The Jingle session id.
    pub sid: String,
    /// Offer or request.
    pub direction: Direction,
    /// The file (for a request: what identifies it).
    pub file: FileMetadata,
    /// The function of the `<hash-used/>`, if the description has one.
    pub hash_used: Option<Algo>,
    content: Content,
    ctx: Context,
}

impl fmt::Debug for IncomingFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncomingFile")
            .field("peer", &self.peer)
            .field("sid", &self.sid)
            .field("direction", &self.direction)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl IncomingFile {
    /// Accepts an offered file and writes its bytes into `writer` (flushed and shut down at the end). Fails for a
    /// request.
    pub fn receive(&self, writer: impl AsyncWrite + Unpin + Send + 'static) -> Result<Transfer> {
        if self.direction != Direction::Offer {
            return Err(Error::handler("this is a request for a file: answer it with send()"));
        }
        Ok(self.respond(Io::Write(Box::new(writer))))
    }

    /// Answers a request by sending the bytes of `reader` (the file the request names). Fails for an offer.
    pub fn send(&self, reader: impl AsyncRead + Unpin + Send + 'static) -> Result<Transfer> {
        if self.direction != Direction::Request {
            return Err(Error::handler("this is an offered file: accept it with receive()"));
        }
        Ok(self.respond(Io::Read(Box::new(reader))))
    }

    /// Declines the session (§6.7: session-terminate with `<decline/>`).
    pub fn decline(&self) -> Result<()> {
        jingle::terminate(&self.ctx, &self.peer, &self.sid, Reason::new(ReasonCondition::Decline)).map(drop)
    }

    fn respond(&self, io: Io) -> Transfer {
        let events = register(&self.ctx, &self.peer, &self.sid);
        let plan = Plan {
            ctx: self.ctx.clone(),
            peer: self.peer.clone(),
            sid: self.sid.clone(),
            role: Role::Responder,
            content: self.content.clone(),
            file: self.file.clone(),
            hash_used: self.hash_used.clone(),
            io,
            options: SendOptions::default(),
        };
        spawn_transfer(plan, events)
    }
}

/// Offers `file` to `peer` (a full JID) and sends the bytes of `reader` once accepted (§4.1). The offer carries
/// the hashes in `file.hashes` if there are any (the receiver checks the bytes against them); otherwise it
/// announces `<hash-used/>` and the checksum follows the bytes (§8.2). Fails at once if the session cannot be
/// started (no bound JID, no proxy when asked to discover one and none is offered is not a failure: IBB is
/// offered instead).
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context) -> Result<(), Box<dyn std::error::Error>> {
/// use moxl_xep::xep_0234_file_transfer::{send_file, SendOptions, TransportChoice};
/// let mut file = moxl_xep::xep_0446_file_metadata::FileMetadata::default();
/// file.name = Some("notes.txt".into());
/// file.size = Some(5);
/// let t = send_file(ctx, "juliet@capulet.lit/balcony", file, &b"notes"[..], SendOptions::default().transport(TransportChoice::Ibb)).await?;
/// t.finished().await?;
/// # Ok(()) }
/// ```
pub async fn send_file(
    ctx: &Context,
    peer: &str,
    file: FileMetadata,
    reader: impl AsyncRead + Unpin + Send + 'static,
    options: SendOptions,
) -> Result<Transfer> {
    let hash_used = file.hashes.is_empty().then(|| options.hash.clone());
    start(ctx, peer, file, hash_used, Senders::Initiator, "a-file-offer", Io::Read(Box::new(reader)), options).await
}

/// Asks `peer` for the file that `file` identifies (§4.2: a name, a hash…) and writes its bytes into `writer`.
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context) -> Result<(), Box<dyn std::error::Error>> {
/// use moxl_xep::xep_0234_file_transfer::{request_file, SendOptions};
/// let mut file = moxl_xep::xep_0446_file_metadata::FileMetadata::default();
/// file.name = Some("summit.jpg".into());
/// let t = request_file(ctx, "juliet@capulet.lit/balcony", file, Vec::<u8>::new(), SendOptions::default()).await?;
/// t.finished().await?;
/// # Ok(()) }
/// ```
pub async fn request_file(
    ctx: &Context,
    peer: &str,
    file: FileMetadata,
    writer: impl AsyncWrite + Unpin + Send + 'static,
    options: SendOptions,
) -> Result<Transfer> {
    let hash_used = Some(options.hash.clone());
    start(ctx, peer, file, hash_used, Senders::Responder, "a-file-request", Io::Write(Box::new(writer)), options).await
}

#[allow(clippy::too_many_arguments)]
async fn start(
    ctx: &Context,
    peer: &str,
    file: FileMetadata,
    hash_used: Option<Algo>,
    senders: Senders,
    name: &str,
    io: Io,
    options: SendOptions,
) -> Result<Transfer> {
    let bound = ctx.jid().ok_or_else(|| Error::handler("file transfer needs the bound full JID"))?;
    let local = bound.to_string();
    let sid = jingle::new_sid();
    let transport = match &options.transport {
        TransportChoice::Ibb => None,
        TransportChoice::Socks5 { proxies: Some(p) } => Some(p.clone()),
        TransportChoice::Socks5 { proxies: None } => {
            let found = xep_0065_socks5::discover_proxies(ctx, bound.domain().as_str()).await.unwrap_or_default();
            (!found.is_empty()).then_some(found)
        }
    };
    let transport = match transport {
        Some(proxies) => {
            let bytestream_sid = jingle::new_sid();
            let dst = xep_0065_socks5::dst_addr(&bytestream_sid, &local, peer);
            let t =
                proxies.iter().enumerate().fold(S5bTransport::new(bytestream_sid).with_dstaddr(dst), |t, (i, p)| {
                    let mut c = Candidate::proxy(format!("proxy{i}"), p.jid.clone(), p.host.clone(), p.port);
                    c.priority = s5b::PROXY_PRIORITY.saturating_sub(u32::try_from(i).unwrap_or(0));
                    t.with_candidate(c)
                });
            t.to_element().build()?
        }
        None => IbbTransport::new(jingle::new_sid(), options.ibb.block_size).to_element().build()?,
    };
    let content = Content::new(Role::Initiator, name)
        .with_senders(senders)
        .with_description(description(&file, hash_used.as_ref()).build()?)
        .with_transport(transport);
    let events = register(ctx, peer, &sid);
    let plan = Plan {
        ctx: ctx.clone(),
        peer: peer.to_owned(),
        sid,
        role: Role::Initiator,
        content,
        file,
        hash_used,
        io,
        options,
    };
    Ok(spawn_transfer(plan, events))
}

/// Where the bytes come from or go.
enum Io {
    Read(Box<dyn AsyncRead + Unpin + Send>),
    Write(Box<dyn AsyncWrite + Unpin + Send>),
}

/// Everything one transfer's task needs.
struct Plan {
    ctx: Context,
    peer: String,
    sid: String,
    role: Role,
    content: Content,
    file: FileMetadata,
    hash_used: Option<Algo>,
    io: Io,
    options: SendOptions,
}

/// The Jingle events of the transfers of one client session, by (peer, sid).
#[derive(Default)]
struct Routes(Mutex<HashMap<(String, String), mpsc::UnboundedSender<JingleEvent>>>);

fn routes(ctx: &Context) -> Arc<Routes> {
    ctx.session_state::<Routes>()
}

fn register(ctx: &Context, peer: &str, sid: &str) -> mpsc::UnboundedReceiver<JingleEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    routes(ctx).0.lock().unwrap_or_else(PoisonError::into_inner).insert((peer.to_owned(), sid.to_owned()), tx);
    rx
}

fn unregister(ctx: &Context, peer: &str, sid: &str) {
    routes(ctx).0.lock().unwrap_or_else(PoisonError::into_inner).remove(&(peer.to_owned(), sid.to_owned()));
}

/// The Jingle wiring's hook for sessions of this format: events of a running transfer go to its task; a new
/// session becomes an [`IncomingFile`].
fn on_event(ctx: &Context, event: &JingleEvent) {
    let key = (event.peer.clone(), event.sid.clone());
    let route = routes(ctx).0.lock().unwrap_or_else(PoisonError::into_inner).get(&key).cloned();
    if let Some(route) = route {
        let _ = route.send(event.clone());
        return;
    }
    if event.action != Action::SessionInitiate {
        return;
    }
    let incoming = event.contents.iter().find_map(|c| {
        let (file, hash_used) = file_of(c.description.as_ref()?)?;
        let direction = match c.senders {
            Senders::Initiator => Direction::Offer,
            Senders::Responder => Direction::Request,
            _ => return None,
        };
        Some(IncomingFile {
            peer: event.peer.clone(),
            sid: event.sid.clone(),
            direction,
            file,
            hash_used,
            content: c.clone(),
            ctx: ctx.clone(),
        })
    });
    match incoming {
        Some(incoming) if ctx.wants::<IncomingFile>() => ctx.pack(incoming).deliver(),
        Some(_) | None => {
            // Nobody takes files (or `senders` is `both`/`none`, undefined here, §2.1): decline.
            let reason = Reason::new(ReasonCondition::Decline);
            let _ = jingle::terminate(ctx, &event.peer, &event.sid, reason);
        }
    }
}

fn spawn_transfer(plan: Plan, events: mpsc::UnboundedReceiver<JingleEvent>) -> Transfer {
    let total = plan.file.size;
    let (progress_tx, progress) = watch::channel(Progress { transferred: 0, total });
    let cancel = Arc::new(Notify::new());
    let (done_tx, done) = oneshot::channel();
    let (peer, sid) = (plan.peer.clone(), plan.sid.clone());
    let cancelled = cancel.clone();
    tokio::spawn(async move {
        let (ctx, peer, sid) = (plan.ctx.clone(), plan.peer.clone(), plan.sid.clone());
        let outcome = tokio::select! {
            outcome = run(plan, events, progress_tx) => outcome,
            () = cancelled.notified() => {
                let _ = jingle::terminate(&ctx, &peer, &sid, Reason::new(ReasonCondition::Cancel));
                Err(TransferError::Cancelled { by_peer: false })
            }
        };
        unregister(&ctx, &peer, &sid);
        let _ = done_tx.send(outcome);
    });
    Transfer { peer, sid, progress, cancel, done }
}

/// The bytestream of a transfer.
enum Bytestream {
    Ibb(Box<IbbStream>),
    Tcp(TcpStream),
}

impl AsyncRead for Bytestream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Bytestream::Ibb(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Bytestream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Bytestream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Bytestream::Ibb(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Bytestream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Bytestream::Ibb(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Bytestream::Tcp(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Bytestream::Ibb(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Bytestream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

impl Bytestream {
    fn kind(&self) -> UsedTransport {
        match self {
            Bytestream::Ibb(_) => UsedTransport::Ibb,
            Bytestream::Tcp(_) => UsedTransport::Socks5,
        }
    }
}

type Events = mpsc::UnboundedReceiver<JingleEvent>;

/// The next event of the session, within the step timeout; the end of the session is an error.
async fn next_event(events: &mut Events) -> std::result::Result<JingleEvent, TransferError> {
    match tokio::time::timeout(STEP_TIMEOUT, events.recv()).await {
        Ok(Some(e)) => Ok(e),
        Ok(None) => Err(TransferError::Signalling("the session's events ended".into())),
        Err(_) => Err(TransferError::Signalling("the peer did not answer in time".into())),
    }
}

/// What a session-terminate from the peer means for the transfer.
fn terminated(event: &JingleEvent, accepted: bool) -> TransferError {
    match event.reason.as_ref().map(|r| r.condition) {
        Some(ReasonCondition::Cancel) => TransferError::Cancelled { by_peer: true },
        Some(ReasonCondition::Decline) if !accepted => TransferError::Declined(event.reason.clone()),
        _ if !accepted => TransferError::Declined(event.reason.clone()),
        _ => TransferError::Terminated(event.reason.clone()),
    }
}

fn transport_of(content: &Content) -> Option<Element> {
    content.transport.clone()
}

async fn run(
    plan: Plan,
    mut events: Events,
    progress: watch::Sender<Progress>,
) -> std::result::Result<Completed, TransferError> {
    let Plan { ctx, peer, sid, role, content, file, hash_used, io, options } = plan;
    let stream = match role {
        Role::Initiator => {
            jingle::initiate(&ctx, &peer, &sid, vec![content.clone()])?.await?;
            let accept = loop {
                let e = next_event(&mut events).await?;
                match e.action {
                    Action::SessionAccept => break e,
                    Action::SessionTerminate => return Err(terminated(&e, false)),
                    _ => {}
                }
            };
            let theirs = accept.contents.first().and_then(transport_of);
            initiator_bytestream(&ctx, &peer, &sid, &content, theirs, &options, &mut events).await?
        }
        Role::Responder => {
            let offered = transport_of(&content);
            responder_bytestream(&ctx, &peer, &sid, &content, offered, &mut events).await?
        }
    };
    let transport = stream.kind();
    match io {
        Io::Read(reader) => {
            send_bytes(&ctx, &peer, &sid, &content, stream, reader, hash_used, &file, progress, &mut events, transport)
                .await
        }
        Io::Write(writer) => {
            receive_bytes(&ctx, &peer, &sid, stream, writer, hash_used, &file, progress, &mut events, transport).await
        }
    }
}

/// Sets up the bytestream on the initiator's side, from the transport the responder accepted.
async fn initiator_bytestream(
    ctx: &Context,
    peer: &str,
    sid: &str,
    content: &Content,
    accepted: Option<Element>,
    options: &SendOptions,
    events: &mut Events,
) -> std::result::Result<Bytestream, TransferError> {
    let accepted = accepted.ok_or_else(|| TransferError::Transport("the session-accept has no transport".into()))?;
    if let Some(ibb) = IbbTransport::from_element(&accepted) {
        // XEP-0261 §2.2: the initiator sends <open/> with the negotiated values.
        let o = options.ibb.block_size(ibb.block_size).stanza(ibb.stanza);
        return Ok(Bytestream::Ibb(Box::new(xep_0047_ibb::open(ctx, peer, &ibb.sid, o).await?)));
    }
    let theirs = S5bTransport::from_element(&accepted)
        .ok_or_else(|| TransferError::Transport(format!("an unknown transport was accepted: {}", accepted.ns())))?;
    let ours = content.transport.as_ref().and_then(S5bTransport::from_element).unwrap_or_else(|| S5bTransport::new(""));
    let local = ctx.jid().map(|j| j.to_string()).unwrap_or_default();
    match s5b_negotiate(ctx, peer, sid, content, Role::Initiator, &local, &ours, &theirs, events).await? {
        Some(socket) => Ok(Bytestream::Tcp(socket)),
        None => {
            // Both sides failed (XEP-0260 §3): the initiator replaces the transport with IBB.
            let ibb = IbbTransport::new(jingle::new_sid(), options.ibb.block_size);
            let replace = jingle::Jingle::new(Action::TransportReplace, sid).with_contents(vec![
                Content::new(content.creator, &content.name).with_transport(ibb.to_element().build()?),
            ]);
            jingle::send(ctx, peer, replace)?.await?;
            let accepted = loop {
                let e = next_event(events).await?;
                match e.action {
                    Action::TransportAccept => break e,
                    Action::TransportReject => {
                        return Err(TransferError::Transport("the peer refused the fallback to IBB".into()));
                    }
                    Action::SessionTerminate => return Err(terminated(&e, true)),
                    _ => {}
                }
            };
            let block_size = accepted
                .contents
                .first()
                .and_then(|c| c.transport.as_ref())
                .and_then(IbbTransport::from_element)
                .map_or(ibb.block_size, |t| t.block_size.min(ibb.block_size));
            let o = options.ibb.block_size(block_size);
            Ok(Bytestream::Ibb(Box::new(xep_0047_ibb::open(ctx, peer, &ibb.sid, o).await?)))
        }
    }
}

/// Accepts the session and sets up the bytestream on the responder's side.
async fn responder_bytestream(
    ctx: &Context,
    peer: &str,
    sid: &str,
    content: &Content,
    offered: Option<Element>,
    events: &mut Events,
) -> std::result::Result<Bytestream, TransferError> {
    let offered = offered.ok_or_else(|| TransferError::Transport("the offer has no transport".into()))?;
    let window = xep_0047_ibb::Options::default().window;
    if let Some(ibb) = IbbTransport::from_element(&offered) {
        let opened = xep_0047_ibb::expect(ctx, peer, &ibb.sid, ibb.block_size, window);
        jingle::accept(ctx, peer, sid, vec![content.clone()])?.await?;
        let stream = tokio::time::timeout(STEP_TIMEOUT, opened)
            .await
            .map_err(|_| TransferError::Transport("the initiator did not open the in-band bytestream".into()))??;
        return Ok(Bytestream::Ibb(Box::new(stream)));
    }
    let theirs = S5bTransport::from_element(&offered)
        .ok_or_else(|| TransferError::Transport(format!("an unknown transport was offered: {}", offered.ns())))?;
    // We offer no candidates of our own (no direct connections; the initiator's proxies serve both).
    let ours = S5bTransport::new(theirs.sid.clone());
    let mut accepted = content.clone();
    accepted.transport = Some(ours.to_element().build()?);
    jingle::accept(ctx, peer, sid, vec![accepted])?.await?;
    let local = ctx.jid().map(|j| j.to_string()).unwrap_or_default();
    match s5b_negotiate(ctx, peer, sid, content, Role::Responder, &local, &ours, &theirs, events).await? {
        Some(socket) => Ok(Bytestream::Tcp(socket)),
        None => {
            // The initiator replaces the transport (XEP-0260 §3): we accept IBB.
            let replaced = loop {
                let e = next_event(events).await?;
                match e.action {
                    Action::TransportReplace => break e,
                    Action::SessionTerminate => return Err(terminated(&e, true)),
                    _ => {}
                }
            };
            let ibb = replaced
                .contents
                .first()
                .and_then(|c| c.transport.as_ref())
                .and_then(IbbTransport::from_element)
                .ok_or_else(|| TransferError::Transport("the replacing transport is not IBB".into()))?;
            let opened = xep_0047_ibb::expect(ctx, peer, &ibb.sid, ibb.block_size, window);
            let accept = jingle::Jingle::new(Action::TransportAccept, sid).with_contents(vec![
                Content::new(content.creator, &content.name).with_transport(ibb.to_element().build()?),
            ]);
            jingle::send(ctx, peer, accept)?.await?;
            let stream = tokio::time::timeout(STEP_TIMEOUT, opened)
                .await
                .map_err(|_| TransferError::Transport("the initiator did not open the in-band bytestream".into()))??;
            Ok(Bytestream::Ibb(Box::new(stream)))
        }
    }
}

/// XEP-0260 §2.3–§2.4 for one content: tries the peer's candidates, tells the result, learns the peer's, and
/// gives the socket of the nominated candidate (activated if it is a proxy), or `None` when both sides failed.
#[allow(clippy::too_many_arguments)]
async fn s5b_negotiate(
    ctx: &Context,
    peer: &str,
    sid: &str,
    content: &Content,
    role: Role,
    local: &str,
    ours: &S5bTransport,
    theirs: &S5bTransport,
    events: &mut Events,
) -> std::result::Result<Option<TcpStream>, TransferError> {
    let info = |i: S5bInfo| {
        let t = S5bTransport::new(ours.sid.clone()).with_info(i);
        let c = Content::new(content.creator, &content.name);
        Ok::<_, Error>(vec![Content { transport: Some(t.to_element().build()?), ..c }])
    };
    // Their proxy candidates are addressed with their DST.ADDR: SHA1(sid + their JID + our JID).
    let their_dst = theirs.dstaddr.clone().unwrap_or_else(|| xep_0065_socks5::dst_addr(&theirs.sid, peer, local));
    let mut used: Option<(Candidate, TcpStream)> = None;
    for c in &theirs.candidates {
        if let Ok(socket) = xep_0065_socks5::connect(&c.host.host, c.host.port, &their_dst).await {
            used = Some((c.clone(), socket));
            break;
        }
    }
    let ours_info = match &used {
        Some((c, _)) => S5bInfo::CandidateUsed(c.cid.clone()),
        None => S5bInfo::CandidateError,
    };
    jingle::transport_info(ctx, peer, sid, info(ours_info)?)?.await?;
    // Their verdict on our candidates.
    let their_info = loop {
        let e = next_event(events).await?;
        match e.action {
            Action::TransportInfo => {
                let i = e.contents.first().and_then(|c| c.transport.as_ref()).and_then(S5bTransport::from_element);
                if let Some(S5bInfo::CandidateUsed(_) | S5bInfo::CandidateError) =
                    i.as_ref().and_then(|t| t.info.clone())
                {
                    break i.and_then(|t| t.info);
                }
            }
            Action::SessionTerminate => return Err(terminated(&e, true)),
            _ => {}
        }
    };
    let theirs_used = match their_info {
        Some(S5bInfo::CandidateUsed(cid)) => ours.candidates.iter().find(|c| c.cid == cid).cloned(),
        _ => None,
    };
    // §2.4: the higher priority wins; on a tie, the initiator's choice (the candidate it used).
    let nominated_ours = match (&used, &theirs_used) {
        (None, None) => return Ok(None),
        (Some(_), None) => false,
        (None, Some(_)) => true,
        (Some((mine, _)), Some(theirs_c)) => match theirs_c.priority.cmp(&mine.priority) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => role == Role::Responder,
        },
    };
    if nominated_ours {
        let Some(candidate) = theirs_used else { return Ok(None) };
        // Our own candidate: connect to it ourselves and, being a proxy, activate it (§2.4).
        let dst = ours.dstaddr.clone().unwrap_or_else(|| xep_0065_socks5::dst_addr(&ours.sid, local, peer));
        let socket = xep_0065_socks5::connect(&candidate.host.host, candidate.host.port, &dst)
            .await
            .map_err(|e| TransferError::Transport(format!("our proxy {}: {e}", candidate.host.jid)))?;
        if candidate.is_proxy() {
            ctx.request(xep_0065_socks5::Activate::new(candidate.host.jid.clone(), ours.sid.clone(), peer))?.await?;
            jingle::transport_info(ctx, peer, sid, info(S5bInfo::Activated(candidate.cid.clone()))?)?.await?;
        }
        Ok(Some(socket))
    } else {
        let Some((candidate, socket)) = used else { return Ok(None) };
        if candidate.is_proxy() {
            // The peer activates its proxy, then says so.
            loop {
                let e = next_event(events).await?;
                match e.action {
                    Action::TransportInfo => {
                        let t =
                            e.contents.first().and_then(|c| c.transport.as_ref()).and_then(S5bTransport::from_element);
                        match t.and_then(|t| t.info) {
                            Some(S5bInfo::Activated(_)) => break,
                            Some(S5bInfo::ProxyError) => return Ok(None),
                            _ => {}
                        }
                    }
                    Action::SessionTerminate => return Err(terminated(&e, true)),
                    _ => {}
                }
            }
        }
        Ok(Some(socket))
    }
}

/// The data phase of the sending side: the bytes, hashed as they go, then the checksum (if the offer had no
/// hash), then the receiver's verdict (its session-terminate).
#[allow(clippy::too_many_arguments)]
async fn send_bytes(
    ctx: &Context,
    peer: &str,
    sid: &str,
    content: &Content,
    mut stream: Bytestream,
    mut reader: Box<dyn AsyncRead + Unpin + Send>,
    hash_used: Option<Algo>,
    file: &FileMetadata,
    progress: watch::Sender<Progress>,
    events: &mut Events,
    transport: UsedTransport,
) -> std::result::Result<Completed, TransferError> {
    let algo = hash_used.clone().unwrap_or(Algo::Sha256);
    let mut hasher = Hasher::new(&algo).or_else(|| Hasher::new(&Algo::Sha256));
    let copy = async {
        let mut buf = vec![0u8; COPY_BUFFER];
        let mut sent = 0u64;
        loop {
            let n =
                reader.read(&mut buf).await.map_err(|e| TransferError::Transport(format!("reading the file: {e}")))?;
            if n == 0 {
                break;
            }
            let chunk = buf.get(..n).unwrap_or_default();
            if let Some(h) = hasher.as_mut() {
                h.update(chunk);
            }
            stream.write_all(chunk).await.map_err(|e| TransferError::Transport(e.to_string()))?;
            sent += n as u64;
            progress.send_modify(|p| p.transferred = sent);
        }
        stream.shutdown().await.map_err(|e| TransferError::Transport(e.to_string()))?;
        Ok::<u64, TransferError>(sent)
    };
    // The peer may end the session while we send (a cancel): that ends the copy.
    let sent = tokio::select! {
        sent = copy => sent?,
        e = next_terminate(events) => return Err(e),
    };
    let hash = hasher.map(Hasher::finish);
    if hash_used.is_some()
        && let Some(h) = &hash
    {
        let payload = checksum(content.creator, &content.name, std::slice::from_ref(h)).build()?;
        jingle::session_info(ctx, peer, sid, Some(payload))?.await?;
    }
    // The receiver terminates once it has checked the file (§6.4).
    let e = tokio::time::timeout(STEP_TIMEOUT, next_terminate(events))
        .await
        .map_err(|_| TransferError::Signalling("the receiver did not end the session".into()))?;
    match e {
        TransferError::Terminated(Some(r)) if r.condition == ReasonCondition::Success => {
            let verified = if file.hashes.is_empty() { hash } else { file.hashes.first().cloned() };
            Ok(Completed { bytes: sent, transport, verified })
        }
        other => Err(other),
    }
}

/// Waits for the peer's session-terminate, as the transfer error it means (`Terminated(success)` included).
async fn next_terminate(events: &mut Events) -> TransferError {
    loop {
        match events.recv().await {
            Some(e) if e.action == Action::SessionTerminate => return terminated(&e, true),
            Some(_) => {}
            None => return TransferError::Signalling("the session's events ended".into()),
        }
    }
}

/// The data phase of the receiving side: the bytes into the writer, hashed as they come, then the check against
/// the announced hashes (or the checksum that follows), then our session-terminate.
#[allow(clippy::too_many_arguments)]
async fn receive_bytes(
    ctx: &Context,
    peer: &str,
    sid: &str,
    mut stream: Bytestream,
    mut writer: Box<dyn AsyncWrite + Unpin + Send>,
    hash_used: Option<Algo>,
    file: &FileMetadata,
    progress: watch::Sender<Progress>,
    events: &mut Events,
    transport: UsedTransport,
) -> std::result::Result<Completed, TransferError> {
    let mut announced: Vec<Hash> = file.hashes.iter().filter(|h| !h.value.is_empty()).cloned().collect();
    // One hasher per function we may have to check: the announced ones, else the announced function.
    let mut algos: Vec<Algo> = announced.iter().map(|h| h.algo.clone()).collect();
    if algos.is_empty() {
        algos.push(hash_used.clone().unwrap_or(Algo::Sha256));
    }
    let mut hashers: Vec<Hasher> = algos.iter().filter(|a| a.is_trusted()).filter_map(Hasher::new).collect();
    let mut buf = vec![0u8; COPY_BUFFER];
    let mut received = 0u64;
    let limit = file.size;
    loop {
        tokio::select! {
            n = stream.read(&mut buf) => {
                let n = n.map_err(|e| TransferError::Transport(e.to_string()))?;
                if n == 0 {
                    break;
                }
                let chunk = buf.get(..n).unwrap_or_default();
                received += n as u64;
                if limit.is_some_and(|l| received > l) {
                    // §9.2: more than the announced size.
                    let reason = Reason::new(ReasonCondition::MediaError).with_text("more data than the announced size");
                    let _ = jingle::terminate(ctx, peer, sid, reason.clone());
                    return Err(TransferError::Terminated(Some(reason)));
                }
                hashers.iter_mut().for_each(|h| h.update(chunk));
                writer.write_all(chunk).await.map_err(|e| TransferError::Transport(format!("writing the file: {e}")))?;
                progress.send_modify(|p| p.transferred = received);
                if limit == Some(received) && matches!(transport, UsedTransport::Socks5) {
                    break;
                }
            }
            e = events.recv() => match e {
                Some(e) if e.action == Action::SessionTerminate => return Err(terminated(&e, true)),
                Some(e) => announced.extend(checksums_in(&e)),
                None => return Err(TransferError::Signalling("the session's events ended".into())),
            },
        }
    }
    writer.shutdown().await.map_err(|e| TransferError::Transport(format!("writing the file: {e}")))?;
    drop(stream);
    if limit.is_some_and(|l| received < l) {
        // The bytestream ended early: a cancel (its session-terminate follows the close), or a broken transfer.
        let e = tokio::time::timeout(STEP_TIMEOUT, next_terminate(events))
            .await
            .unwrap_or_else(|_| TransferError::Transport(format!("the bytestream ended after {received} bytes")));
        return Err(match e {
            TransferError::Terminated(Some(r)) if r.condition == ReasonCondition::Success => {
                TransferError::Transport(format!("the bytestream ended after {received} bytes"))
            }
            other => other,
        });
    }
    // The checksum follows the bytes when the offer only named the function (§8.2).
    if announced.is_empty() && file.hashes.is_empty() {
        loop {
            let e = next_event(events).await?;
            if e.action == Action::SessionTerminate {
                return Err(terminated(&e, true));
            }
            announced.extend(checksums_in(&e));
            if !announced.is_empty() {
                break;
            }
        }
    }
    let computed: Vec<Hash> = hashers.into_iter().map(Hasher::finish).collect();
    let mut verified = None;
    for expected in announced.iter().filter(|h| h.algo.is_trusted()) {
        match computed.iter().find(|c| c.algo == expected.algo) {
            Some(c) if c.value == expected.value => verified = Some(c.clone()),
            Some(_) => {
                let reason = Reason::new(ReasonCondition::MediaError)
                    .with_text(format!("the file does not have the announced {} hash", expected.algo.name()));
                let _ = jingle::terminate(ctx, peer, sid, reason);
                return Err(TransferError::HashMismatch(expected.algo.clone()));
            }
            None => {}
        }
    }
    jingle::terminate(ctx, peer, sid, Reason::new(ReasonCondition::Success))?.await?;
    Ok(Completed { bytes: received, transport, verified })
}

fn checksums_in(e: &JingleEvent) -> Vec<Hash> {
    if e.action != Action::SessionInfo {
        return Vec::new();
    }
    e.payloads.iter().filter_map(checksum_of).flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_of_section_4_1_reads() {
        // §4.1, Example 1 (the description of the offer)
        let d = Element::parse(
            "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file><date>1969-07-21T02:56:15Z</date>\
             <desc>This is a test. If this were a real file...</desc><media-type>text/plain</media-type>\
             <name>test.txt</name><range/><size>6144</size>\
             <hash xmlns='urn:xmpp:hashes:2' algo='sha-1'>w0mcJylzCn+AfvuGdqkty2+KP48=</hash></file></description>",
        )
        .unwrap();
        let (file, algo) = file_of(&d).unwrap();
        assert_eq!((file.size, file.hashes.len(), algo), (Some(6144), 1, None));
        assert!(!file.hashes[0].algo.is_trusted(), "a SHA-1 hash is read but proves nothing");
        let checksum = Element::parse(
            "<checksum xmlns='urn:xmpp:jingle:apps:file-transfer:5' creator='initiator' name='a-file-offer'><file>\
             <hash xmlns='urn:xmpp:hashes:2' algo='sha-1'>w0mcJylzCn+AfvuGdqkty2+KP48=</hash></file></checksum>",
        )
        .unwrap();
        assert_eq!(checksum_of(&checksum).unwrap()[0].value.len(), 20);
    }
}
