//! XEP-0065: SOCKS5 Bytestreams (version 1.8.2, namespace `http://jabber.org/protocol/bytestreams`), mediated by
//! a proxy: a TCP connection through a SOCKS5 relay that the server offers (Prosody's `proxy65`, ejabberd's
//! `mod_proxy65`), much faster than in-band bytestreams (XEP-0047) because the data leaves the XMPP stream.
//!
//! - Finding a proxy (§4): [`discover_proxies`] walks the server's disco#items for an identity `proxy/bytestreams`
//!   and asks each for its network address ([`QueryStreamHost`]).
//! - The requester (§6): [`request`] offers the proxies to the target ([`Initiate`]), waits for the
//!   `<streamhost-used/>`, connects to that proxy itself and activates the bytestream ([`Activate`]).
//! - The target (§6.3): an offer is delivered as an [`S5bOffer`] (Packet key `s5boffer`);
//!   [`accept`](S5bOffer::accept) connects to the first streamhost that answers and replies `<streamhost-used/>`
//!   (`<item-not-found/>` when none does), [`reject`](S5bOffer::reject) answers `<not-acceptable/>`. An offer
//!   nobody is subscribed to is refused with `<not-acceptable/>`.
//! - The SOCKS5 part ([`connect`], RFC 1928 as §5.3.2 profiles it): no authentication, `CONNECT` to the domain name
//!   [`dst_addr`] = hex SHA-1 of sid + requester JID + target JID, port 0.
//!
//! Direct connections (the requester or target as its own streamhost) and UDP (§8) are not offered; a direct
//! streamhost in an offer is tried like any other.
//!
//! | Payload / Action | Packet key | content |
//! |---|---|---|
//! | [`S5bOfferPayload`] | `s5boffer` | [`S5bOffer`] |
//! | [`QueryStreamHost`] | `socks5_querystreamhost_handle` | `Vec<StreamHost>` |
//! | [`Initiate`] | `socks5_initiate_handle` | the JID of the streamhost used (`String`) |
//! | [`Activate`] | `socks5_activate_handle` | `()` |
//!
//! ```
//! use moxl_xep::xep_0065_socks5;
//! use tokio::io::AsyncWriteExt;
//! # async fn run(ctx: &moxl_core::xec::Context) -> Result<(), Box<dyn std::error::Error>> {
//! let proxies = xep_0065_socks5::discover_proxies(ctx, "montague.lit").await?;
//! let mut stream = xep_0065_socks5::request(
//!     ctx, "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony", "vxf9n471bn46", &proxies,
//! ).await?;
//! stream.write_all(b"a file's bytes").await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::io;
use std::time::Duration;

use moxl_core::stanza::{Condition, StanzaError, error_reply, iq_get, iq_result, iq_set};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Error, Result, action, payload};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::xep_0030_disco::{InfoQuery, ItemsQuery};

/// `http://jabber.org/protocol/bytestreams` (§12.1), also the disco feature.
///
/// ```
/// assert_eq!(moxl_xep::xep_0065_socks5::NS, "http://jabber.org/protocol/bytestreams");
/// ```
pub const NS: &str = "http://jabber.org/protocol/bytestreams";

moxl_core::feature!("http://jabber.org/protocol/bytestreams");

/// How long the SOCKS5 negotiation with one streamhost may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A streamhost: its JID and network address (§17.2; the port defaults to 1080).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0065_socks5::StreamHost;
/// // §4, Example 6
/// let e = Element::parse("<streamhost xmlns='http://jabber.org/protocol/bytestreams' host='24.24.24.1' jid='streamer.example.com' port='7625'/>")?;
/// let h = StreamHost::from_element(&e).unwrap();
/// assert_eq!(h, StreamHost::new("streamer.example.com", "24.24.24.1", 7625));
/// assert_eq!(h.to_element().build().unwrap().to_xml(),
///     "<streamhost xmlns='http://jabber.org/protocol/bytestreams' jid='streamer.example.com' host='24.24.24.1' port='7625'/>");
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StreamHost {
    /// Its JID (for `<streamhost-used/>` and activation).
    pub jid: String,
    /// An IP address or a DNS name.
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

impl StreamHost {
    /// A streamhost.
    pub fn new(jid: impl Into<String>, host: impl Into<String>, port: u16) -> StreamHost {
        StreamHost { jid: jid.into(), host: host.into(), port }
    }

    /// Reads a `<streamhost/>` (`None` without a JID or host, or with a port that is not a number).
    pub fn from_element(e: &Element) -> Option<StreamHost> {
        if e.name() != "streamhost" {
            return None;
        }
        let jid = e.attr("jid").filter(|j| !j.is_empty())?.into_owned();
        let host = e.attr("host").filter(|h| !h.is_empty())?.into_owned();
        let port = match e.attr("port") {
            Some(p) => p.trim().parse().ok()?,
            None => 1080,
        };
        Some(StreamHost { jid, host, port })
    }

    /// The `<streamhost/>` element.
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("streamhost", NS)
            .attr("jid", self.jid.clone())
            .attr("host", self.host.clone())
            .attr("port", self.port.to_string())
    }
}

/// The SOCKS5 `DST.ADDR` of a bytestream (§5.3.2): the hex SHA-1 of sid + requester JID + target JID, with the
/// JIDs as used in the IQ exchange.
///
/// ```
/// // XEP-0260 §2.2: the initiator's dstaddr
/// assert_eq!(
///     moxl_xep::xep_0065_socks5::dst_addr("vj3hs98y", "romeo@montague.lit/orchard", "juliet@capulet.lit/balcony"),
///     "972b7bf47291ca609517f67f86b5081086052dad"
/// );
/// ```
pub fn dst_addr(sid: &str, requester: &str, target: &str) -> String {
    let mut h = Sha1::new();
    h.update(sid.as_bytes());
    h.update(normalize(requester).as_bytes());
    h.update(normalize(target).as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn normalize(jid: &str) -> String {
    moxl_core::jid::Jid::new(jid).map(|j| j.to_string()).unwrap_or_else(|_| jid.to_owned())
}

fn socks_error(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionRefused, what.into())
}

/// Connects to a streamhost and negotiates the SOCKS5 connection of §5.3.2 (RFC 1928: version 5, no
/// authentication, `CONNECT` with `ATYP` 3, the domain name `dst_addr`, port 0). The socket is then the
/// bytestream (through a proxy: once the requester activated it). Fails after 10 s, or with the streamhost's
/// refusal.
///
/// ```
/// # async fn run() -> std::io::Result<()> {
/// let dst = moxl_xep::xep_0065_socks5::dst_addr("vxf9n471bn46", "requester@example.com/foo", "target@example.org/bar");
/// let socket = moxl_xep::xep_0065_socks5::connect("24.24.24.1", 7625, &dst).await?;
/// # drop(socket); Ok(()) }
/// ```
pub async fn connect(host: &str, port: u16, dst_addr: &str) -> io::Result<TcpStream> {
    tokio::time::timeout(CONNECT_TIMEOUT, negotiate(host, port, dst_addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("SOCKS5 with {host}:{port} took too long")))?
}

async fn negotiate(host: &str, port: u16, dst_addr: &str) -> io::Result<TcpStream> {
    let name = dst_addr.as_bytes();
    let len = u8::try_from(name.len()).map_err(|_| socks_error("DST.ADDR is longer than 255 bytes"))?;
    let mut socket = TcpStream::connect((host, port)).await?;
    socket.set_nodelay(true)?;
    // greeting: version 5, one method, "no authentication required"
    socket.write_all(&[5, 1, 0]).await?;
    let mut choice = [0u8; 2];
    socket.read_exact(&mut choice).await?;
    if choice != [5, 0] {
        return Err(socks_error(format!("{host}:{port} refused SOCKS5 without authentication ({choice:?})")));
    }
    // CONNECT, ATYP 3 (domain name), DST.ADDR, DST.PORT 0
    let mut request = Vec::with_capacity(7 + name.len());
    request.extend_from_slice(&[5, 1, 0, 3, len]);
    request.extend_from_slice(name);
    request.extend_from_slice(&[0, 0]);
    socket.write_all(&request).await?;
    let mut head = [0u8; 4];
    socket.read_exact(&mut head).await?;
    let [version, reply, _, atyp] = head;
    if version != 5 || reply != 0 {
        return Err(socks_error(format!("{host}:{port} refused the bytestream (SOCKS5 reply {reply})")));
    }
    // BND.ADDR and BND.PORT: read and dropped (§5.3.2: the streamhost echoes DST.ADDR)
    let addr_len = match atyp {
        1 => 4,
        4 => 16,
        3 => usize::from(socket.read_u8().await?),
        other => return Err(socks_error(format!("{host}:{port} answered an unknown address type {other}"))),
    };
    let mut bound = vec![0u8; addr_len + 2];
    socket.read_exact(&mut bound).await?;
    Ok(socket)
}

/// Asks a proxy for its network address (§4, Example 5). Its `Output` is the streamhosts of the answer (a
/// `<forbidden/>` or `<not-allowed/>` refusal is the request's error).
///
/// ```
/// use moxl_xep::xep_0065_socks5::QueryStreamHost;
/// let iq = QueryStreamHost::new("streamer.example.com").request_stanza().build()?;
/// assert_eq!(iq.to_xml(), "<iq xmlns='jabber:client' type='get' to='streamer.example.com'><query xmlns='http://jabber.org/protocol/bytestreams'/></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryStreamHost {
    proxy: String,
}

impl QueryStreamHost {
    /// The question for `proxy`.
    pub fn new(proxy: impl Into<String>) -> QueryStreamHost {
        QueryStreamHost { proxy: proxy.into() }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        iq_get(Some(&self.proxy)).append(ElementBuilder::new("query", NS))
    }
}

#[action(group = "socks5")]
impl QueryStreamHost {
    /// The proxy's streamhosts.
    type Output = Vec<StreamHost>;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Vec<StreamHost>> {
        let query = stanza.child("query", NS).ok_or_else(|| Error::handler("no <query/> in the proxy's answer"))?;
        Ok(query.children().filter_map(|c| StreamHost::from_element(&c)).collect())
    }
}

/// Finds the bytestream proxies of `server` (§4): its disco#items with the identity `proxy/bytestreams`, and the
/// network address of each. Items that do not answer are skipped; none found is an empty list.
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// for proxy in moxl_xep::xep_0065_socks5::discover_proxies(ctx, "example.com").await? {
///     println!("{} at {}:{}", proxy.jid, proxy.host, proxy.port);
/// }
/// # Ok(()) }
/// ```
pub async fn discover_proxies(ctx: &Context, server: &str) -> Result<Vec<StreamHost>> {
    let items = ctx.request(ItemsQuery::new(server))?.await?;
    let mut proxies = Vec::new();
    for item in items.items.into_iter().filter(|i| i.node.is_none()) {
        let Ok(info) = ctx.request(InfoQuery::new(item.jid.clone()))?.await else { continue };
        if !info.has_identity("proxy", "bytestreams") {
            continue;
        }
        if let Ok(hosts) = ctx.request(QueryStreamHost::new(item.jid))?.await {
            proxies.extend(hosts);
        }
    }
    Ok(proxies)
}

/// Offers the target a bytestream through these streamhosts (§5.3.1, §6.3.1). Its `Output` is the JID of the
/// streamhost the target connected to; a target that could connect to none answers `<item-not-found/>`, one that
/// does not want the stream `<not-acceptable/>` (the request's error).
///
/// ```
/// use moxl_xep::xep_0065_socks5::{Initiate, StreamHost};
/// // §6.3.1, Example 16
/// let hosts = vec![StreamHost::new("streamer.example.com", "24.24.24.1", 7625)];
/// let iq = Initiate::new("target@example.org/bar", "vxf9n471bn46", hosts).request_stanza().build()?;
/// assert_eq!(iq.to_xml(), "<iq xmlns='jabber:client' type='set' to='target@example.org/bar'>\
///     <query xmlns='http://jabber.org/protocol/bytestreams' sid='vxf9n471bn46'>\
///     <streamhost jid='streamer.example.com' host='24.24.24.1' port='7625'/></query></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Initiate {
    target: String,
    sid: String,
    hosts: Vec<StreamHost>,
}

impl Initiate {
    /// The offer of `hosts` to `target` for the stream `sid`.
    pub fn new(target: impl Into<String>, sid: impl Into<String>, hosts: Vec<StreamHost>) -> Initiate {
        Initiate { target: target.into(), sid: sid.into(), hosts }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        let query = ElementBuilder::new("query", NS).attr("sid", self.sid.clone());
        let query = self.hosts.iter().fold(query, |q, h| q.append(h.to_element()));
        iq_set(Some(&self.target)).append(query)
    }
}

#[action(group = "socks5")]
impl Initiate {
    /// The JID of the streamhost used.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<String> {
        stanza
            .child("query", NS)
            .and_then(|q| q.child("streamhost-used", NS))
            .and_then(|u| u.attr("jid").map(|j| j.into_owned()))
            .ok_or_else(|| Error::handler("the target's answer names no <streamhost-used/>"))
    }
}

/// Asks a proxy to activate the bytestream `sid` towards `target` (§6.3.5), once both parties are connected to
/// it. Its `Output` is `()`; the proxy's refusal is the request's error.
///
/// ```
/// use moxl_xep::xep_0065_socks5::Activate;
/// // §6.3.5, Example 24
/// let iq = Activate::new("streamer.example.com", "vxf9n471bn46", "target@example.org/bar").request_stanza().build()?;
/// assert_eq!(iq.to_xml(), "<iq xmlns='jabber:client' type='set' to='streamer.example.com'>\
///     <query xmlns='http://jabber.org/protocol/bytestreams' sid='vxf9n471bn46'><activate>target@example.org/bar</activate></query></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Activate {
    proxy: String,
    sid: String,
    target: String,
}

impl Activate {
    /// Activation of `sid` towards `target` at `proxy`.
    pub fn new(proxy: impl Into<String>, sid: impl Into<String>, target: impl Into<String>) -> Activate {
        Activate { proxy: proxy.into(), sid: sid.into(), target: target.into() }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        iq_set(Some(&self.proxy)).append(
            ElementBuilder::new("query", NS)
                .attr("sid", self.sid.clone())
                .append(ElementBuilder::new("activate", NS).text(self.target.clone())),
        )
    }
}

#[action(group = "socks5")]
impl Activate {
    /// Nothing: the bytestream is active.
    type Output = ();

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<()> {
        Ok(())
    }
}

/// The requester's side of a mediated bytestream (§6): offers `proxies` to `target`, connects to the proxy the
/// target used and activates the stream there. `local` is our own full JID (it goes into `DST.ADDR`). Fails with
/// the target's refusal, or when the target names a streamhost that was not offered.
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context, proxies: Vec<moxl_xep::xep_0065_socks5::StreamHost>) -> moxl_core::Result<()> {
/// let socket = moxl_xep::xep_0065_socks5::request(ctx, "requester@example.com/foo", "target@example.org/bar", "vxf9n471bn46", &proxies).await?;
/// # drop(socket); Ok(()) }
/// ```
pub async fn request(ctx: &Context, local: &str, target: &str, sid: &str, proxies: &[StreamHost]) -> Result<TcpStream> {
    if proxies.is_empty() {
        return Err(Error::handler("no streamhost to offer"));
    }
    let used = ctx.request(Initiate::new(target, sid, proxies.to_vec()))?.await?;
    let proxy = proxies
        .iter()
        .find(|p| normalize(&p.jid) == normalize(&used))
        .ok_or_else(|| Error::handler(format!("the target used {used}, which was not offered")))?;
    let socket = connect(&proxy.host, proxy.port, &dst_addr(sid, local, target))
        .await
        .map_err(|e| Error::handler(format!("SOCKS5 with the proxy {}: {e}", proxy.jid)))?;
    ctx.request(Activate::new(proxy.jid.clone(), sid, target))?.await?;
    Ok(socket)
}

/// A bytestream offered to us (§5.3.1, §6.3.1), delivered to the application (Packet key `s5boffer`). Answer it:
/// [`accept`](Self::accept) or [`reject`](Self::reject).
///
/// ```
/// # async fn run(client: &moxl_core::client::Client) -> moxl_core::Result<()> {
/// let mut offers = client.xec().events::<moxl_xep::xep_0065_socks5::S5bOffer>();
/// while let Some(offer) = offers.recv().await {
///     let socket = offer.accept().await?; // the requester activates it, then the bytes flow
/// # drop(socket);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct S5bOffer {
    /// The requester's JID.
    pub from: String,
    /// The stream id.
    pub sid: String,
    /// The streamhosts offered, in the order to try them.
    pub hosts: Vec<StreamHost>,
    /// The `DST.ADDR` the requester computed, if it said (§7).
    pub dstaddr: Option<String>,
    iq: Element,
    ctx: Context,
}

impl fmt::Debug for S5bOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S5bOffer")
            .field("from", &self.from)
            .field("sid", &self.sid)
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

impl S5bOffer {
    /// Connects to the first streamhost that accepts the SOCKS5 connection, and answers `<streamhost-used/>`
    /// with it (§6.3.3); when none does, answers `<item-not-found/>` and fails.
    pub async fn accept(&self) -> Result<TcpStream> {
        let local = self.iq.attr("to").map(|t| t.into_owned()).unwrap_or_default();
        let dst = self.dstaddr.clone().unwrap_or_else(|| dst_addr(&self.sid, &self.from, &local));
        let mut failures = Vec::new();
        for host in &self.hosts {
            match connect(&host.host, host.port, &dst).await {
                Ok(socket) => {
                    let used = ElementBuilder::new("query", NS)
                        .attr("sid", self.sid.clone())
                        .append(ElementBuilder::new("streamhost-used", NS).attr("jid", host.jid.clone()));
                    self.ctx.send(iq_result(&self.iq).append(used))?;
                    return Ok(socket);
                }
                Err(e) => failures.push(format!("{} ({}:{}): {e}", host.jid, host.host, host.port)),
            }
        }
        self.ctx.send(error_reply(&self.iq, &StanzaError::new(Condition::ItemNotFound)))?;
        Err(Error::handler(format!("no streamhost could be reached: {}", failures.join("; "))))
    }

    /// Refuses the bytestream with `<not-acceptable/>` (§5.3.1).
    pub fn reject(&self) -> Result<()> {
        self.ctx.send(error_reply(&self.iq, &StanzaError::new(Condition::NotAcceptable)))
    }
}

/// Handles an offer (an `<iq type='set'/>` whose `<query/>` has a sid and streamhosts): delivered as an
/// [`S5bOffer`] when the application subscribed to them, else refused with `<not-acceptable/>`. An offer without
/// a sid or streamhost is a `<bad-request/>` (§5.3.1).
///
/// ```
/// # use moxl_core::xec::Xec;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let xec = Xec::new()?;
/// let offer = moxl_core::xml::Element::parse("<iq xmlns='jabber:client' type='set' id='hu3vax16' from='requester@example.com/foo'>\
///     <query xmlns='http://jabber.org/protocol/bytestreams'/></iq>")?;
/// xec.dispatch(offer).await;
/// assert!(xec.take_outgoing()[0].to_xml().contains("<bad-request"));
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "query", ns = "http://jabber.org/protocol/bytestreams", at = "child", key = "s5boffer")]
#[derive(Debug, Default)]
pub struct S5bOfferPayload;

impl Payload for S5bOfferPayload {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if !stanza.is("iq", ns::CLIENT) || stanza.attr("type").as_deref() != Some("set") {
            return Ok(());
        }
        let hosts: Vec<StreamHost> =
            element.children().filter(|c| c.ns() == NS).filter_map(|c| StreamHost::from_element(&c)).collect();
        let sid = element.attr("sid").filter(|s| !s.is_empty()).map(|s| s.into_owned());
        let (Some(sid), false) = (sid, hosts.is_empty()) else {
            let error = StanzaError::new(Condition::BadRequest).with_text("an offer needs a sid and a streamhost");
            return ctx.send(error_reply(stanza, &error));
        };
        if !ctx.wants::<S5bOffer>() {
            return ctx.send(error_reply(stanza, &StanzaError::new(Condition::NotAcceptable)));
        }
        ctx.answer_later();
        let offer = S5bOffer {
            from: stanza.attr("from").map(|f| f.into_owned()).unwrap_or_default(),
            sid,
            hosts,
            dstaddr: element.attr("dstaddr").map(|d| d.into_owned()),
            iq: stanza.clone(),
            ctx: ctx.clone(),
        };
        ctx.pack(offer).deliver();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn dst_addr_of_the_xep_0260_responder() {
        // XEP-0260 §2.2: the responder's proxy candidates hash responder + initiator
        assert_eq!(
            dst_addr("vj3hs98y", "juliet@capulet.lit/balcony", "romeo@montague.lit/orchard"),
            "1a12fb7bc625e55f3ed5b29a53dbe0e4aa7d80ba"
        );
    }

    /// A SOCKS5 server of one connection on loopback: checks the greeting and the CONNECT, answers `reply`.
    async fn one_shot_server(expected_dst: &'static str, reply: u8) -> u16 {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut greeting = [0u8; 3];
            s.read_exact(&mut greeting).await.unwrap();
            assert_eq!(greeting, [5, 1, 0]);
            s.write_all(&[5, 0]).await.unwrap();
            let mut head = [0u8; 5];
            s.read_exact(&mut head).await.unwrap();
            assert_eq!(head[..4], [5, 1, 0, 3]);
            let mut name = vec![0u8; usize::from(head[4]) + 2];
            s.read_exact(&mut name).await.unwrap();
            assert_eq!(&name[..name.len() - 2], expected_dst.as_bytes());
            assert_eq!(name[name.len() - 2..], [0, 0], "DST.PORT is 0");
            let mut answer = vec![5, reply, 0, 3, head[4]];
            answer.extend_from_slice(&name);
            s.write_all(&answer).await.unwrap();
            s.write_all(b"payload").await.unwrap();
        });
        port
    }

    #[tokio::test]
    async fn the_socks5_connect_of_section_5_3_2() {
        let dst = "972b7bf47291ca609517f67f86b5081086052dad";
        let port = one_shot_server(dst, 0).await;
        let mut s = connect("127.0.0.1", port, dst).await.unwrap();
        let mut got = [0u8; 7];
        s.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"payload", "BND.ADDR was read whole");
        let port = one_shot_server(dst, 2).await;
        let e = connect("127.0.0.1", port, dst).await.unwrap_err();
        assert!(e.to_string().contains("SOCKS5 reply 2"), "{e}");
    }
}
