//! [`Wire`]: one connection to a server as the client uses it, whatever carries it: an XML stream over TCP/TLS
//! (RFC 6120) or WebSocket frames (RFC 7395). Negotiation uses it whole; the session splits it into a reader and
//! a writer.

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::WebSocketStream;

use super::{ChannelBinding, Connection, TlsConfig, TransportError};
use crate::stanza::StreamCondition;
use crate::stream::NegotiationError;
use crate::xml::{ns, Element, StreamParser, XmlError};
use crate::{Error, Result};

/// A connection to a server.
pub(crate) enum Wire {
    /// An XML stream over TCP, cleartext until STARTTLS, or TLS from the start.
    Stream(Connection),
    /// WebSocket frames, one element each.
    WebSocket(Box<WebSocketStream<Connection>>),
}

fn write_error(e: impl Into<WireError>) -> Error {
    match e.into() {
        WireError::Io(e) => TransportError::Write(e).into(),
        WireError::WebSocket(e) => web_socket_error(e, TransportError::Write),
    }
}

fn read_error(e: impl Into<WireError>) -> Error {
    match e.into() {
        WireError::Io(e) => TransportError::Read(e).into(),
        WireError::WebSocket(e) => web_socket_error(e, TransportError::Read),
    }
}

/// The errors of both kinds of wire.
enum WireError {
    Io(std::io::Error),
    WebSocket(tokio_tungstenite::tungstenite::Error),
}

impl From<std::io::Error> for WireError {
    fn from(e: std::io::Error) -> Self {
        WireError::Io(e)
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for WireError {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        WireError::WebSocket(e)
    }
}

/// A WebSocket error: the socket's own I/O error as `io`, a closed connection as such, the rest as a WebSocket
/// error.
fn web_socket_error(e: tokio_tungstenite::tungstenite::Error, io: fn(std::io::Error) -> TransportError) -> Error {
    use tokio_tungstenite::tungstenite::Error as WsError;
    match e {
        WsError::Io(e) => io(e).into(),
        WsError::ConnectionClosed | WsError::AlreadyClosed => TransportError::Closed { during: None }.into(),
        other => TransportError::WebSocket { url: "connection".into(), source: other.into() }.into(),
    }
}

impl Wire {
    /// Whether elements travel in frames (WebSocket) rather than in one stream.
    pub(crate) fn is_framed(&self) -> bool {
        matches!(self, Wire::WebSocket(_))
    }

    fn connection(&self) -> &Connection {
        match self {
            Wire::Stream(c) => c,
            Wire::WebSocket(ws) => ws.get_ref(),
        }
    }

    /// Whether the connection is encrypted.
    pub(crate) fn is_tls(&self) -> bool {
        self.connection().is_tls()
    }

    /// The TLS protocol version, once encrypted.
    pub(crate) fn tls_version(&self) -> Option<String> {
        self.connection().tls_version()
    }

    /// The channel-binding data of the TLS connection, if any.
    pub(crate) fn channel_binding(&self) -> Option<ChannelBinding> {
        self.connection().channel_binding()
    }

    /// Sends one piece of negotiation (a stream header, `<open/>`, `<auth/>`…): one frame on a WebSocket.
    pub(crate) async fn send(&mut self, text: String) -> Result<()> {
        match self {
            Wire::Stream(c) => {
                c.write_all(text.as_bytes()).await.map_err(write_error)?;
                c.flush().await.map_err(write_error)
            }
            Wire::WebSocket(ws) => ws.send(Message::text(text)).await.map_err(write_error),
        }
    }

    /// Reads what is there into the parser; `false` when the server closed the connection.
    pub(crate) async fn recv(&mut self, buf: &mut [u8], parser: &mut StreamParser) -> Result<bool> {
        match self {
            Wire::Stream(c) => {
                let n = c.read(buf).await.map_err(read_error)?;
                parser.feed(buf.get(..n).unwrap_or_default());
                Ok(n > 0)
            }
            Wire::WebSocket(ws) => recv_frame(ws.next().await, parser),
        }
    }

    /// Upgrades a cleartext stream to TLS (STARTTLS, RFC 6120 §5), verifying the certificate against `domain`.
    pub(crate) async fn starttls(self, tls: &TlsConfig, domain: &str) -> Result<Wire> {
        match self {
            Wire::Stream(Connection::Plain(tcp)) => {
                Ok(Wire::Stream(Connection::Tls(Box::new(tls.connect(domain, tcp).await?))))
            }
            _ => Err(NegotiationError::protocol("STARTTLS on a connection that cannot be upgraded").into()),
        }
    }

    /// Splits the connection for the session's reader and writer tasks.
    pub(crate) fn split(self) -> (WireReader, WireWriter) {
        match self {
            Wire::Stream(c) => {
                let (r, w) = tokio::io::split(c);
                (WireReader::Stream(r), WireWriter::Stream(w))
            }
            Wire::WebSocket(ws) => {
                let (w, r) = (*ws).split();
                (WireReader::WebSocket(r), WireWriter::WebSocket(w))
            }
        }
    }
}

/// RFC 7395 §3.2: every message is a text frame holding one element; ping/pong are answered by the WebSocket
/// layer; a close frame ends the connection.
fn recv_frame(
    frame: Option<std::result::Result<Message, tokio_tungstenite::tungstenite::Error>>,
    parser: &mut StreamParser,
) -> Result<bool> {
    match frame {
        None | Some(Ok(Message::Close(_))) => Ok(false),
        Some(Ok(Message::Text(text))) => {
            parser.feed(text.as_bytes());
            Ok(true)
        }
        Some(Ok(Message::Binary(_))) => {
            Err(Error::Xml(XmlError::new(StreamCondition::BadFormat, "a binary WebSocket frame (RFC 7395 §3.2)")))
        }
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Ok(true),
        Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(e))) => {
            Err(Error::Xml(XmlError::new(StreamCondition::PolicyViolation, format!("WebSocket message: {e}"))))
        }
        Some(Err(e)) => Err(read_error(e)),
    }
}

/// The reading half of a [`Wire`].
pub(crate) enum WireReader {
    Stream(ReadHalf<Connection>),
    WebSocket(SplitStream<WebSocketStream<Connection>>),
}

impl WireReader {
    /// Reads what is there into the parser; `false` when the server closed the connection.
    pub(crate) async fn recv(&mut self, buf: &mut [u8], parser: &mut StreamParser) -> Result<bool> {
        match self {
            WireReader::Stream(r) => {
                let n = r.read(buf).await.map_err(read_error)?;
                parser.feed(buf.get(..n).unwrap_or_default());
                Ok(n > 0)
            }
            WireReader::WebSocket(r) => recv_frame(r.next().await, parser),
        }
    }
}

/// The writing half of a [`Wire`].
pub(crate) enum WireWriter {
    Stream(WriteHalf<Connection>),
    WebSocket(SplitSink<WebSocketStream<Connection>, Message>),
}

/// RFC 7395 §3.6: the end of an XMPP-over-WebSocket session.
const FRAMING_CLOSE: &str = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";

impl WireWriter {
    /// Sends stanzas: on a stream in one write (`scratch` is the reused buffer), on a WebSocket one frame each
    /// (with the `jabber:client` namespace declared, RFC 7395 §3.3.3).
    pub(crate) async fn send_stanzas(&mut self, stanzas: Vec<Element>, scratch: &mut String) -> Result<()> {
        match self {
            WireWriter::Stream(w) => {
                scratch.clear();
                for stanza in &stanzas {
                    stanza.write_xml(scratch, Some(ns::CLIENT));
                }
                if !scratch.is_empty() {
                    w.write_all(scratch.as_bytes()).await.map_err(write_error)?;
                }
                w.flush().await.map_err(write_error)
            }
            WireWriter::WebSocket(w) => {
                for stanza in &stanzas {
                    w.feed(Message::text(stanza.to_xml())).await.map_err(write_error)?;
                }
                w.flush().await.map_err(write_error)
            }
        }
    }

    /// Sends a top-level element that is not a stanza (stream management's `<r/>` and `<a/>`, a stream error).
    pub(crate) async fn send_raw(&mut self, xml: &str) -> Result<()> {
        match self {
            WireWriter::Stream(w) => {
                w.write_all(xml.as_bytes()).await.map_err(write_error)?;
                w.flush().await.map_err(write_error)
            }
            WireWriter::WebSocket(w) => w.send(Message::text(xml)).await.map_err(write_error),
        }
    }

    /// An idle-connection keepalive: whitespace on a stream (RFC 6120 §4.6.1), a ping frame on a WebSocket
    /// (RFC 7395 §3.8, where whitespace is not allowed between frames).
    pub(crate) async fn keepalive(&mut self) -> Result<()> {
        match self {
            WireWriter::Stream(w) => {
                w.write_all(b" ").await.map_err(write_error)?;
                w.flush().await.map_err(write_error)
            }
            WireWriter::WebSocket(w) => w.send(Message::Ping(Bytes::new())).await.map_err(write_error),
        }
    }

    /// Closes our side: `</stream:stream>` (RFC 6120 §4.4) or `<close/>` and a close frame (RFC 7395 §3.6).
    pub(crate) async fn close(&mut self) {
        match self {
            WireWriter::Stream(w) => {
                let _ = w.write_all(b"</stream:stream>").await;
                let _ = w.shutdown().await;
            }
            WireWriter::WebSocket(w) => {
                let _ = w.send(Message::text(FRAMING_CLOSE)).await;
                let _ = w.close().await;
            }
        }
    }
}
