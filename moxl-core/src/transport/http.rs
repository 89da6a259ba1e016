//! HTTPS over moxl's own TCP and TLS (cargo feature `http`): one HTTP/1.1 request per connection with hyper's
//! client, the certificate verified with a [`TlsConfig`] (the one of the XMPP connection, so that a private CA
//! trusted for XMPP is trusted here too). Only `https` URLs are used. The one HTTP client of moxl: XEP-0156
//! discovery ([`super::discovery`]) and moxl-xep's XEP-0363 uploads and downloads use it.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame, Incoming};
use hyper::header::{HeaderValue, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HOST, LOCATION};
use hyper::{Method, Request, Response, Uri};
use hyper_util::rt::TokioIo;
use tracing::Instrument as _;

use super::{connect_tcp, BoxError, TlsConfig, TransportError};
use crate::{Error, Result};

/// How [`get`] starts the detail of the [`TransportError::Http`] of a body larger than allowed.
pub(crate) const TOO_LARGE: &str = "GET: larger than";

/// An answer to [`get`]: the status, the headers a caller acts on, and the body of a `200`.
///
/// ```
/// # async fn run() -> moxl_core::Result<()> {
/// let tls = moxl_core::transport::TlsConfig::shared()?;
/// let answer = moxl_core::transport::http::get("https://example.com/.well-known/host-meta", &tls, None, 64 << 10).await?;
/// if answer.status == 200 {
///     println!("{} bytes of {:?}", answer.body.len(), answer.content_type);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// The `Location` header (of a redirection), if any.
    pub location: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body of a `200` answer (empty for any other status: it is not read).
    pub body: Vec<u8>,
}

/// GETs an `https` URL verified with `tls`, with `Accept: accept` if given. The body of a `200` is read up to
/// `max_size` bytes (a larger one fails, announced or not); other answers come back with their status and an
/// empty body. Redirections are not followed: the caller decides (see [`HttpAnswer::location`]). There is no time
/// limit of its own: wrap it in `tokio::time::timeout`.
///
/// ```no_run
/// # async fn run() -> moxl_core::Result<()> {
/// let tls = moxl_core::transport::TlsConfig::shared()?;
/// let answer = moxl_core::transport::http::get("https://example.com/", &tls, Some("text/html"), 1 << 20).await?;
/// assert!(answer.body.len() <= 1 << 20);
/// # Ok(()) }
/// ```
pub async fn get(url: &str, tls: &TlsConfig, accept: Option<&str>, max_size: u64) -> Result<HttpAnswer> {
    let mut request = Request::builder().method(Method::GET).uri(url);
    if let Some(accept) = accept {
        request = request.header(ACCEPT, header_value(url, accept)?);
    }
    let request = request.body(Empty).map_err(|e| http_error(url, "invalid request", e))?;
    let response = send(tls, request).await?;
    let header = |name| response.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned);
    let (location, content_type) = (header(LOCATION), header(CONTENT_TYPE));
    let status = response.status().as_u16();
    if status != 200 {
        return Ok(HttpAnswer { status, location, content_type, body: Vec::new() });
    }
    let announced = header(CONTENT_LENGTH).and_then(|l| l.parse::<u64>().ok());
    if announced.is_some_and(|l| l > max_size) {
        return Err(TransportError::http(url, format!("{TOO_LARGE} {max_size} bytes")).into());
    }
    let mut body: Incoming = response.into_body();
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| http_error(url, "GET", e))?;
        if let Ok(data) = frame.into_data() {
            if u64::try_from(out.len() + data.len()).unwrap_or(u64::MAX) > max_size {
                return Err(TransportError::http(url, format!("{TOO_LARGE} {max_size} bytes")).into());
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(HttpAnswer { status, location, content_type, body: out })
}

/// Sends one request to its absolute `https` URI over a new TLS connection verified with `tls` (the URI's host is
/// checked against the certificate), and returns the response; its body is read while the connection's task
/// runs, which ends with the connection. The request goes out in origin form with a `Host` header. Fails
/// (`Error::Transport`) on a non-`https` URI, a connection or TLS failure, or an HTTP error.
///
/// ```no_run
/// use moxl_core::transport::{http, TlsConfig};
/// # async fn run() -> moxl_core::Result<()> {
/// let request = hyper::Request::put("https://upload.example.com/slot/notes.txt")
///     .header(hyper::header::CONTENT_LENGTH, 5)
///     .body(String::from("hello"))
///     .expect("a valid request");
/// let response = http::send(&TlsConfig::shared()?, request).await?;
/// println!("{}", response.status());
/// # Ok(()) }
/// ```
pub async fn send<B>(tls: &TlsConfig, request: Request<B>) -> Result<Response<Incoming>>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = request.into_parts();
    let url = parts.uri.to_string();
    let uri = https_uri(&url)?;
    parts.headers.insert(HOST, authority_of(&uri, &url)?);
    parts.uri = path_of(&uri).parse().map_err(|e| http_error(&url, "invalid path", e))?;
    let request = Request::from_parts(parts, body);
    let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(443);
    let tcp = connect_tcp(host, port).await?;
    let stream = tls.connect(host, tcp).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| http_error(&url, "handshake", e))?;
    // Drives the connection; a failure there also reaches the request or its body.
    tokio::spawn(
        async move {
            let _ = connection.await;
        }
        .in_current_span(),
    );
    sender.send_request(request).await.map_err(|e| http_error(&url, "request", e))
}

/// The empty body of a GET.
struct Empty;

impl Body for Empty {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        true
    }
}

/// `url` parsed, if it is `https` with a host.
fn https_uri(url: &str) -> Result<Uri> {
    let uri: Uri = url.parse().map_err(|e| http_error(url, "invalid URL", e))?;
    if uri.scheme_str() != Some("https") || uri.host().is_none_or(str::is_empty) {
        return Err(TransportError::http(url, "not an https URL").into());
    }
    Ok(uri)
}

fn path_of(uri: &Uri) -> String {
    uri.path_and_query().map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
}

/// The `Host` header: the authority without user information.
fn authority_of(uri: &Uri, url: &str) -> Result<HeaderValue> {
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    header_value(url, authority.rsplit('@').next().unwrap_or(authority))
}

fn header_value(url: &str, value: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(value).map_err(|e| http_error(url, &format!("invalid header value {value:?}"), e))
}

/// An HTTP failure with the library's error as its source.
fn http_error(url: &str, detail: &str, source: impl Into<BoxError>) -> Error {
    let (url, detail) = (url.to_owned(), detail.to_owned());
    TransportError::Http { url, detail, source: Some(source.into()) }.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_urls_are_used() {
        assert!(https_uri("http://upload.montague.tld/a").is_err());
        assert!(https_uri("ftp://upload.montague.tld/a").is_err());
        assert!(https_uri("/relative").is_err());
        let url = "https://user@127.0.0.1:5281/file_share/x/a%20b.txt?q=1";
        let uri = https_uri(url).unwrap();
        assert_eq!(path_of(&uri), "/file_share/x/a%20b.txt?q=1");
        assert_eq!(authority_of(&uri, url).unwrap(), "127.0.0.1:5281");
    }
}
