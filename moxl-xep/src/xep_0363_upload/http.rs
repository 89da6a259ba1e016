//! The HTTP side of XEP-0363 (cargo feature `http-upload`): the PUT of a slot and the GET of a shared file, with
//! moxl's HTTP client (`moxl_core::transport::http`: HTTP/1.1 with hyper on moxl's own TCP connection and TLS
//! configuration), so that the certificate authorities trusted for XMPP are trusted here too.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Method, Request};
use moxl_core::transport::{TlsConfig, TransportError, http};
use moxl_core::{Error, Result};
use tokio::io::{AsyncRead, ReadBuf};

use super::Slot;

/// The size of the pieces handed to the connection (and so the granularity of progress reports).
const CHUNK: usize = 64 * 1024;

type Progress = Box<dyn FnMut(u64, u64) + Send>;

/// What to upload: bytes in memory, or a reader (a file…) that yields exactly the slot's size.
///
/// ```
/// use moxl_xep::xep_0363_upload::UploadBody;
/// let in_memory = UploadBody::bytes(b"hello".to_vec());
/// assert_eq!(in_memory.len(), Some(5));
/// // any tokio AsyncRead: a tokio::fs::File, a socket, or here a cursor
/// let streamed = UploadBody::reader(std::io::Cursor::new(vec![0u8; 1 << 20]));
/// assert_eq!(streamed.len(), None);
/// ```
pub struct UploadBody(Source);

enum Source {
    Bytes(Bytes),
    Reader(Box<dyn AsyncRead + Send + Unpin>),
}

impl UploadBody {
    /// Bytes in memory.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0363_upload::UploadBody::bytes(vec![1, 2, 3]).len(), Some(3));
    /// ```
    pub fn bytes(bytes: impl Into<Bytes>) -> UploadBody {
        UploadBody(Source::Bytes(bytes.into()))
    }

    /// A reader, streamed in pieces of 64 KiB: it must yield the slot's size (fewer bytes fail the upload, more
    /// are not read).
    ///
    /// ```
    /// let body = moxl_xep::xep_0363_upload::UploadBody::reader(std::io::Cursor::new(vec![0u8; 10]));
    /// assert!(body.len().is_none());
    /// ```
    pub fn reader(reader: impl AsyncRead + Send + Unpin + 'static) -> UploadBody {
        UploadBody(Source::Reader(Box::new(reader)))
    }

    /// The length of bytes in memory; `None` for a reader.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0363_upload::UploadBody::bytes(Vec::new()).len(), Some(0));
    /// ```
    pub fn len(&self) -> Option<u64> {
        match &self.0 {
            Source::Bytes(b) => u64::try_from(b.len()).ok(),
            Source::Reader(_) => None,
        }
    }

    /// Whether these are bytes in memory and there are none.
    ///
    /// ```
    /// assert!(moxl_xep::xep_0363_upload::UploadBody::bytes(Vec::new()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

impl std::fmt::Debug for UploadBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Source::Bytes(b) => write!(f, "UploadBody::bytes({} bytes)", b.len()),
            Source::Reader(_) => f.write_str("UploadBody::reader(..)"),
        }
    }
}

/// The request body: the source, cut in pieces, reporting progress as each piece is handed to the connection.
struct ProgressBody {
    source: Source,
    sent: u64,
    total: u64,
    progress: Option<Progress>,
    buf: Vec<u8>,
}

impl Body for ProgressBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        let this = self.get_mut();
        let left = this.total.saturating_sub(this.sent);
        if left == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
        let chunk = match &mut this.source {
            Source::Bytes(bytes) => bytes.split_to(want.min(bytes.len())),
            Source::Reader(reader) => {
                this.buf.resize(want, 0);
                let mut read = ReadBuf::new(&mut this.buf);
                match Pin::new(reader).poll_read(cx, &mut read) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                    Poll::Ready(Ok(())) => Bytes::copy_from_slice(read.filled()),
                }
            }
        };
        if chunk.is_empty() {
            let e = io::Error::new(io::ErrorKind::UnexpectedEof, format!("the body ended {left} bytes short"));
            return Poll::Ready(Some(Err(e)));
        }
        this.sent += u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        if let Some(progress) = this.progress.as_mut() {
            progress(this.sent, this.total);
        }
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.total
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.total.saturating_sub(self.sent))
    }
}

/// The HTTP PUT of a slot (§4.1): sends the body with the slot's allowed headers, its content type and size,
/// and returns the GET URL to share. Only `https` URLs are used, verified with the given [`TlsConfig`] (the one
/// of the XMPP connection: `TlsConfig::shared()`, or one trusting a private CA).
///
/// ```no_run
/// use moxl_core::transport::TlsConfig;
/// use moxl_xep::xep_0363_upload::{Slot, Upload, UploadBody};
/// # async fn run(slot: &Slot) -> moxl_core::Result<()> {
/// let file = std::io::Cursor::new(vec![0u8; 23456]); // or a tokio::fs::File
/// let url = Upload::new(TlsConfig::shared()?)
///     .on_progress(|sent, total| eprintln!("{}%", sent * 100 / total.max(1)))
///     .put(slot, UploadBody::reader(file))
///     .await?;
/// # let _ = url; Ok(()) }
/// ```
pub struct Upload {
    tls: TlsConfig,
    progress: Option<Progress>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload").field("progress", &self.progress.is_some()).finish_non_exhaustive()
    }
}

impl Upload {
    /// An upload verifying the server with `tls`.
    ///
    /// ```
    /// let upload = moxl_xep::xep_0363_upload::Upload::new(moxl_core::transport::TlsConfig::shared()?);
    /// # let _ = upload;
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(tls: TlsConfig) -> Upload {
        Upload { tls, progress: None }
    }

    /// Calls `progress(sent, total)` each time a piece (64 KiB at most) is handed to the connection.
    ///
    /// ```
    /// let upload = moxl_xep::xep_0363_upload::Upload::new(moxl_core::transport::TlsConfig::shared()?)
    ///     .on_progress(|sent, total| assert!(sent <= total));
    /// # let _ = upload;
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn on_progress(mut self, progress: impl FnMut(u64, u64) + Send + 'static) -> Upload {
        self.progress = Some(Box::new(progress));
        self
    }

    /// PUTs `body` to the slot and returns its GET URL. Fails (`Error::Transport`) on a non-`https` URL, bytes
    /// whose length is not the slot's size, a connection or TLS failure, or a status other than 200 or 201.
    /// Redirections are not followed. There is no time limit of its own: wrap it in `tokio::time::timeout`.
    ///
    /// ```no_run
    /// # use moxl_xep::xep_0363_upload::{Slot, Upload, UploadBody};
    /// # async fn run(slot: &Slot) -> moxl_core::Result<()> {
    /// let url = Upload::new(moxl_core::transport::TlsConfig::shared()?).put(slot, UploadBody::bytes(&b"hello"[..])).await?;
    /// # let _ = url; Ok(()) }
    /// ```
    pub async fn put(self, slot: &Slot, body: UploadBody) -> Result<String> {
        if let Some(len) = body.len().filter(|l| *l != slot.size) {
            let detail = format!("the body has {len} bytes, the slot was requested for {}", slot.size);
            return Err(TransportError::http(&slot.put_url, detail).into());
        }
        let body = ProgressBody { source: body.0, sent: 0, total: slot.size, progress: self.progress, buf: Vec::new() };
        let mut request = Request::builder().method(Method::PUT).uri(&slot.put_url).header(CONTENT_LENGTH, slot.size);
        if let Some(content_type) = &slot.content_type {
            request = request.header(CONTENT_TYPE, header_value(content_type)?);
        }
        for (name, value) in &slot.put_headers {
            // allowed_header() made these; checked again, since a Slot can be built by hand
            if let Some((name, value)) = super::allowed_header(name, value) {
                request = request.header(HeaderName::from_static(lowercase(name)), header_value(&value)?);
            }
        }
        let request = request.body(body).map_err(|e| http_error(&slot.put_url, "request", e))?;
        let response = http::send(&self.tls, request).await?;
        match response.status().as_u16() {
            200 | 201 => Ok(slot.get_url.clone()),
            status => Err(TransportError::http(&slot.put_url, format!("upload refused: status {status}")).into()),
        }
    }
}

/// GETs a shared file (an `https` URL, verified with `tls`), refusing one larger than `max_size` bytes.
///
/// ```no_run
/// # async fn run() -> moxl_core::Result<()> {
/// let tls = moxl_core::transport::TlsConfig::shared()?;
/// let bytes = moxl_xep::xep_0363_upload::download("https://download.montague.tld/4a77/cool.jpg", &tls, 10 << 20).await?;
/// # let _ = bytes; Ok(()) }
/// ```
pub async fn download(url: &str, tls: &TlsConfig, max_size: u64) -> Result<Vec<u8>> {
    let answer = http::get(url, tls, None, max_size).await?;
    if answer.status != 200 {
        return Err(TransportError::http(url, format!("GET: status {}", answer.status)).into());
    }
    Ok(answer.body)
}

fn header_value(value: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(value).map_err(|e| http_error("", &format!("invalid header value {value:?}"), e))
}

/// An HTTP failure with the library's error as its source.
fn http_error(url: &str, detail: &str, source: impl Into<moxl_core::transport::BoxError>) -> Error {
    let (url, detail) = (url.to_owned(), detail.to_owned());
    TransportError::Http { url, detail, source: Some(source.into()) }.into()
}

fn lowercase(name: &'static str) -> &'static str {
    match name {
        "Authorization" => "authorization",
        "Cookie" => "cookie",
        _ => "expires",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut body: ProgressBody) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        loop {
            match Pin::new(&mut body).poll_frame(&mut cx) {
                Poll::Ready(None) => return Ok(out),
                Poll::Ready(Some(frame)) => out.extend_from_slice(&frame?.into_data().unwrap_or_default()),
                Poll::Pending => unreachable!("in-memory sources are always ready"),
            }
        }
    }

    #[test]
    fn the_body_is_cut_in_pieces_with_progress_and_a_short_reader_fails() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let body = ProgressBody {
            source: Source::Reader(Box::new(std::io::Cursor::new(data.clone()))),
            sent: 0,
            total: 200_000,
            progress: Some(Box::new(move |sent, total| log.lock().unwrap().push((sent, total)))),
            buf: Vec::new(),
        };
        assert_eq!(body.size_hint().exact(), Some(200_000));
        assert_eq!(drain(body).unwrap(), data);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, vec![(65536, 200_000), (131072, 200_000), (196608, 200_000), (200_000, 200_000)]);
        let short = ProgressBody {
            source: Source::Reader(Box::new(std::io::Cursor::new(vec![0u8; 10]))),
            sent: 0,
            total: 11,
            progress: None,
            buf: Vec::new(),
        };
        assert_eq!(drain(short).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }
}
