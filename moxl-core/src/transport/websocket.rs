//! XMPP over WebSocket (RFC 7395): the `xmpp` subprotocol, one XML element per text frame, over `ws://` or
//! `wss://` (TLS through the same [`TlsConfig`] as every other connection, verified against the URL's host).

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

use super::{connect_tcp, Connection, TlsConfig, TransportError};
use crate::Result;

/// The WebSocket subprotocol of XMPP (RFC 7395 §3.1).
pub const SUBPROTOCOL: &str = "xmpp";

/// Where a WebSocket URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebSocketUrl {
    /// The whole URL.
    pub url: String,
    /// The host (name or address) to connect to and, with TLS, to verify the certificate against.
    pub host: String,
    /// The port (default 80 for `ws://`, 443 for `wss://`).
    pub port: u16,
    /// Whether the URL is `wss://`.
    pub tls: bool,
}

impl WebSocketUrl {
    /// Parses a `ws://` or `wss://` URL.
    ///
    /// ```
    /// use moxl_core::transport::WebSocketUrl;
    /// let url = WebSocketUrl::parse("wss://example.com/xmpp-websocket")?;
    /// assert_eq!((url.host.as_str(), url.port, url.tls), ("example.com", 443, true));
    /// assert!(WebSocketUrl::parse("https://example.com/").is_err());
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn parse(url: &str) -> Result<WebSocketUrl> {
        let request = url
            .into_client_request()
            .map_err(|e| TransportError::WebSocket { url: url.to_owned(), source: e.into() })?;
        let uri = request.uri();
        let tls = match uri.scheme_str() {
            Some("wss") => true,
            Some("ws") => false,
            other => {
                let source = format!("scheme {other:?} is not ws or wss").into();
                return Err(TransportError::WebSocket { url: url.to_owned(), source }.into());
            }
        };
        let host = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
            .ok_or_else(|| TransportError::WebSocket { url: url.to_owned(), source: "no host".into() })?;
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Ok(WebSocketUrl { url: url.to_owned(), host, port, tls })
    }
}

/// Opens a WebSocket to `url` with the `xmpp` subprotocol (refusing a server that does not agree to it), with
/// messages limited to `max_message` bytes.
pub(crate) async fn connect(
    url: &WebSocketUrl,
    tls: &TlsConfig,
    max_message: usize,
) -> Result<WebSocketStream<Connection>> {
    let tcp = connect_tcp(&url.host, url.port).await?;
    let conn =
        if url.tls { Connection::Tls(Box::new(tls.connect(&url.host, tcp).await?)) } else { Connection::Plain(tcp) };
    let mut request = url
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| TransportError::WebSocket { url: url.url.clone(), source: e.into() })?;
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static(SUBPROTOCOL));
    let config = WebSocketConfig::default().max_message_size(Some(max_message)).max_frame_size(Some(max_message));
    // tungstenite refuses a handshake whose answer lacks the subprotocol we asked for (RFC 7395 §3.1: the server
    // must confirm `xmpp`).
    let (ws, _response) = tokio_tungstenite::client_async_with_config(request, conn, Some(config))
        .await
        .map_err(|e| TransportError::WebSocket { url: url.url.clone(), source: e.into() })?;
    Ok(ws)
}
