//! XEP-0156: Discovering Alternative XMPP Connection Methods, its HTTP lookup method: a domain lists the URLs of
//! its WebSocket (RFC 7395) and BOSH (XEP-0206) endpoints as links of its host-meta document (RFC 6415), at
//! `https://<domain>/.well-known/host-meta` (XRD, XML; REQUIRED of servers) and `…/host-meta.json` (JRD, JSON;
//! optional): XEP-0156 §2.1 (Link Format: the relations [`WEBSOCKET_REL`] and [`BOSH_REL`]), §2.3 (Examples;
//! §3.1 and §3.3 in versions before 1.4.0, which also described DNS TXT records).
//!
//! [`HostMeta`] reads either document ([`HostMeta::from_xrd`], [`HostMeta::from_jrd`]) and picks the WebSocket
//! endpoint ([`HostMeta::websocket`]). With the cargo feature `http`, `discover_websocket` and `fetch_host_meta`
//! fetch the documents over HTTPS, and `ClientBuilder::discover_websocket` connects through what they find. BOSH links are read, never used: moxl does not speak BOSH.
//!
//! Security (XEP-0156 §3, Security Considerations: "preferring to use 'https' or 'wss' URLs"): the documents are
//! fetched over HTTPS only, with the certificate verified like the XMPP connection's; redirections (RFC 6415 §2)
//! are followed to `https` URLs only; only `wss://` endpoints are used unless cleartext was allowed. The order of
//! the links carries no meaning (§2.2, business rule 3): the first usable one is taken.
//!
//! ```
//! use moxl_core::transport::discovery::HostMeta;
//! // XEP-0156 §2.3, the host-meta example
//! let xrd = HostMeta::from_xrd(br#"<?xml version='1.0' encoding='utf-8'?>
//! <XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
//!   <Link rel="urn:xmpp:alt-connections:xbosh" href="https://web.example.com:5280/bosh" />
//!   <Link rel="urn:xmpp:alt-connections:websocket" href="wss://web.example.com:443/ws" />
//! </XRD>"#)?;
//! assert_eq!(xrd.websocket(false)?.url, "wss://web.example.com:443/ws");
//! assert_eq!(xrd.bosh().collect::<Vec<_>>(), ["https://web.example.com:5280/bosh"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::Deserialize;

use super::WebSocketUrl;

/// The link relation of a WebSocket endpoint (XEP-0156 §2.1).
///
/// ```
/// assert_eq!(moxl_core::transport::discovery::WEBSOCKET_REL, "urn:xmpp:alt-connections:websocket");
/// ```
pub const WEBSOCKET_REL: &str = "urn:xmpp:alt-connections:websocket";

/// The link relation of a BOSH endpoint (XEP-0156 §2.1).
///
/// ```
/// assert_eq!(moxl_core::transport::discovery::BOSH_REL, "urn:xmpp:alt-connections:xbosh");
/// ```
pub const BOSH_REL: &str = "urn:xmpp:alt-connections:xbosh";

/// The namespace of an XRD document (RFC 6415 §3, XRD 1.0).
///
/// ```
/// assert_eq!(moxl_core::transport::discovery::XRD_NS, "http://docs.oasis-open.org/ns/xri/xrd-1.0");
/// ```
pub const XRD_NS: &str = "http://docs.oasis-open.org/ns/xri/xrd-1.0";

/// The largest host-meta document read (64 KiB; real ones are a few hundred bytes).
///
/// ```
/// assert_eq!(moxl_core::transport::discovery::MAX_DOCUMENT, 65536);
/// ```
pub const MAX_DOCUMENT: u64 = 64 * 1024;

/// One link of a host-meta document: its relation and target. Links without a `href` (templates) are left out.
///
/// ```
/// let link = moxl_core::transport::discovery::Link::new("urn:xmpp:alt-connections:websocket", "wss://a.example/ws");
/// assert_eq!(link.rel, moxl_core::transport::discovery::WEBSOCKET_REL);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Link {
    /// The relation (`rel`).
    pub rel: String,
    /// The target (`href`).
    pub href: String,
}

impl Link {
    /// A link.
    ///
    /// ```
    /// let link = moxl_core::transport::discovery::Link::new("lrdd", "https://a.example/x");
    /// assert_eq!(link.href, "https://a.example/x");
    /// ```
    pub fn new(rel: impl Into<String>, href: impl Into<String>) -> Link {
        Link { rel: rel.into(), href: href.into() }
    }
}

/// A host-meta document (RFC 6415): its links, in the document's order.
///
/// ```
/// use moxl_core::transport::discovery::HostMeta;
/// // XEP-0156 §2.3, the host-meta.json example
/// let jrd = HostMeta::from_jrd(br#"{"links": [
///     {"rel": "urn:xmpp:alt-connections:xbosh", "href": "https://web.example.com:5280/bosh"},
///     {"rel": "urn:xmpp:alt-connections:websocket", "href": "wss://web.example.com:443/ws"}]}"#)?;
/// assert_eq!(jrd.websocket_links().collect::<Vec<_>>(), ["wss://web.example.com:443/ws"]);
/// # Ok::<(), moxl_core::transport::discovery::DiscoveryError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostMeta {
    /// The links with a `rel` and a `href`.
    pub links: Vec<Link>,
}

/// What a host-meta document did not give (one per document tried; see
/// [`TransportError::Discovery`](super::TransportError::Discovery)).
///
/// ```
/// use moxl_core::transport::discovery::{DiscoveryError, HostMeta};
/// assert!(matches!(HostMeta::from_xrd(b"<html/>"), Err(DiscoveryError::Malformed { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The document does not exist (404 or 410: RFC 6415 §2, "metadata is not available via this mechanism").
    #[error("no such document (status {status})")]
    NotFound {
        /// The HTTP status.
        status: u16,
    },
    /// Another status than 200, a redirection or not found.
    #[error("status {status}")]
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// A redirection that is not followed: to a non-`https` URL, without a `Location`, or one too many.
    #[error("redirection not followed: {detail}")]
    Redirect {
        /// Why.
        detail: String,
    },
    /// The document is larger than [`MAX_DOCUMENT`].
    #[error("larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The document is not an XRD (or JRD) document.
    #[error("malformed host-meta: {detail}")]
    Malformed {
        /// What is wrong.
        detail: String,
    },
    /// The document lists no WebSocket endpoint that may be used: none at all, or only cleartext `ws://` ones
    /// (refused unless cleartext is allowed), or none that parses.
    #[error("no usable WebSocket link{}", if cleartext.is_empty() { String::new() } else { format!(" (cleartext, refused: {})", cleartext.join(", ")) })]
    NoWebSocket {
        /// The `ws://` links that were refused.
        cleartext: Vec<String>,
    },
}

/// The JRD (JSON) form of a host-meta document (RFC 6415 Appendix A): only the links are read.
#[derive(Deserialize)]
struct Jrd {
    #[serde(default)]
    links: Vec<JrdLink>,
}

#[derive(Deserialize)]
struct JrdLink {
    rel: Option<String>,
    href: Option<String>,
}

fn malformed(detail: impl std::fmt::Display) -> DiscoveryError {
    DiscoveryError::Malformed { detail: detail.to_string() }
}

impl HostMeta {
    /// A document with these links.
    ///
    /// ```
    /// use moxl_core::transport::discovery::{HostMeta, Link, WEBSOCKET_REL};
    /// assert_eq!(HostMeta::new(vec![Link::new(WEBSOCKET_REL, "wss://a.example/ws")]).links.len(), 1);
    /// ```
    pub fn new(links: Vec<Link>) -> HostMeta {
        HostMeta { links }
    }

    /// Reads an XRD document (`/.well-known/host-meta`): the root must be `<XRD/>` in [`XRD_NS`]; its `<Link/>`
    /// children with `rel` and `href` are kept. A document that is not well-formed XML is
    /// [`Malformed`](DiscoveryError::Malformed).
    ///
    /// ```
    /// use moxl_core::transport::discovery::{DiscoveryError, HostMeta};
    /// let doc = HostMeta::from_xrd(b"<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='a' href='b'/></XRD>")?;
    /// assert_eq!(doc.links.len(), 1);
    /// assert!(matches!(HostMeta::from_xrd(b"<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link>"), Err(DiscoveryError::Malformed { .. })));
    /// # Ok::<(), DiscoveryError>(())
    /// ```
    pub fn from_xrd(document: &[u8]) -> Result<HostMeta, DiscoveryError> {
        use quick_xml::events::{BytesStart, Event};
        use quick_xml::name::ResolveResult;
        let mut reader = quick_xml::NsReader::from_reader(document);
        let mut depth = 0usize;
        let mut root = false;
        let mut links = Vec::new();
        let link_of = |e: &BytesStart<'_>| -> Result<Option<Link>, DiscoveryError> {
            let (mut rel, mut href) = (None, None);
            for attr in e.attributes() {
                let attr = attr.map_err(malformed)?;
                let value = || {
                    attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map(|v| v.trim().to_owned())
                        .map_err(malformed)
                };
                match attr.key.as_ref() {
                    "rel" => rel = Some(value()?),
                    "href" => href = Some(value()?),
                    _ => {}
                }
            }
            Ok(rel.zip(href).map(|(rel, href)| Link { rel, href }))
        };
        loop {
            let (ns, event) = reader.read_resolved_event().map_err(malformed)?;
            let in_xrd = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == XRD_NS);
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    if depth == 0 {
                        if root {
                            return Err(malformed("more than one root element"));
                        }
                        if !(in_xrd && e.local_name().as_ref() == "XRD") {
                            return Err(malformed(
                                "the root element is not <XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'/>",
                            ));
                        }
                        root = true;
                    } else if depth == 1 && in_xrd && e.local_name().as_ref() == "Link" {
                        links.extend(link_of(e)?);
                    }
                    if !empty {
                        depth += 1;
                    }
                }
                Event::End(_) => depth = depth.saturating_sub(1),
                Event::Eof => break,
                _ => {}
            }
        }
        if !root || depth != 0 {
            return Err(malformed("no complete <XRD/> element"));
        }
        Ok(HostMeta { links })
    }

    /// Reads a JRD document (`/.well-known/host-meta.json`, RFC 6415 Appendix A): a JSON object whose `links`
    /// array holds objects with `rel` and `href`; other members are ignored.
    ///
    /// ```
    /// use moxl_core::transport::discovery::{DiscoveryError, HostMeta};
    /// assert_eq!(HostMeta::from_jrd(br#"{"subject": "x"}"#)?.links.len(), 0);
    /// assert!(matches!(HostMeta::from_jrd(br#"{"links": {}}"#), Err(DiscoveryError::Malformed { .. })));
    /// # Ok::<(), DiscoveryError>(())
    /// ```
    pub fn from_jrd(document: &[u8]) -> Result<HostMeta, DiscoveryError> {
        let value: serde_json::Value = serde_json::from_slice(document).map_err(malformed)?;
        if !value.is_object() {
            return Err(malformed("not a JSON object"));
        }
        let jrd: Jrd = serde_json::from_value(value).map_err(malformed)?;
        let links = jrd
            .links
            .into_iter()
            .filter_map(|l| Some(Link { rel: l.rel?.trim().to_owned(), href: l.href?.trim().to_owned() }))
            .collect();
        Ok(HostMeta { links })
    }

    /// The targets of the links with relation `rel`.
    ///
    /// ```
    /// use moxl_core::transport::discovery::{HostMeta, Link};
    /// let doc = HostMeta::new(vec![Link::new("a", "1"), Link::new("b", "2"), Link::new("a", "3")]);
    /// assert_eq!(doc.links_of("a").collect::<Vec<_>>(), ["1", "3"]);
    /// ```
    pub fn links_of<'a>(&'a self, rel: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.links.iter().filter(move |l| l.rel == rel).map(|l| l.href.as_str())
    }

    /// The WebSocket endpoints listed ([`WEBSOCKET_REL`]), as written.
    ///
    /// ```
    /// use moxl_core::transport::discovery::{HostMeta, Link, WEBSOCKET_REL};
    /// let doc = HostMeta::new(vec![Link::new(WEBSOCKET_REL, "wss://a.example/ws")]);
    /// assert_eq!(doc.websocket_links().count(), 1);
    /// ```
    pub fn websocket_links(&self) -> impl Iterator<Item = &str> + '_ {
        self.links_of(WEBSOCKET_REL)
    }

    /// The BOSH endpoints listed ([`BOSH_REL`]): for the application's information, moxl does not use them.
    ///
    /// ```
    /// use moxl_core::transport::discovery::{HostMeta, Link, BOSH_REL};
    /// let doc = HostMeta::new(vec![Link::new(BOSH_REL, "https://a.example/bosh")]);
    /// assert_eq!(doc.bosh().collect::<Vec<_>>(), ["https://a.example/bosh"]);
    /// ```
    pub fn bosh(&self) -> impl Iterator<Item = &str> + '_ {
        self.links_of(BOSH_REL)
    }

    /// The WebSocket endpoint to connect to: the first `wss://` link that parses, else, only if
    /// `allow_cleartext`, the first `ws://` one. Else [`DiscoveryError::NoWebSocket`], naming the cleartext links
    /// it refused.
    ///
    /// ```
    /// use moxl_core::transport::discovery::{DiscoveryError, HostMeta, Link, WEBSOCKET_REL};
    /// let doc = HostMeta::new(vec![Link::new(WEBSOCKET_REL, "ws://a.example/ws")]);
    /// assert_eq!(doc.websocket(false), Err(DiscoveryError::NoWebSocket { cleartext: vec!["ws://a.example/ws".into()] }));
    /// assert!(!doc.websocket(true)?.tls);
    /// # Ok::<(), DiscoveryError>(())
    /// ```
    pub fn websocket(&self, allow_cleartext: bool) -> Result<WebSocketUrl, DiscoveryError> {
        let parsed: Vec<WebSocketUrl> = self.websocket_links().filter_map(|l| WebSocketUrl::parse(l).ok()).collect();
        if let Some(secure) = parsed.iter().find(|u| u.tls) {
            return Ok(secure.clone());
        }
        match parsed.into_iter().next() {
            Some(cleartext) if allow_cleartext => Ok(cleartext),
            Some(cleartext) => Err(DiscoveryError::NoWebSocket { cleartext: vec![cleartext.url] }),
            None => Err(DiscoveryError::NoWebSocket { cleartext: Vec::new() }),
        }
    }
}

#[cfg(feature = "http")]
pub use fetch::{discover_websocket, fetch_host_meta};

#[cfg(feature = "http")]
mod fetch {
    use super::{DiscoveryError, HostMeta, MAX_DOCUMENT};
    use crate::transport::{http, TlsConfig, TransportError, WebSocketUrl};
    use crate::Result;

    /// How many redirections (RFC 6415 §2: 301, 302, 307; and 308) are followed for one document.
    const MAX_REDIRECTS: usize = 3;

    /// The two documents, in the order they are tried: XML is REQUIRED of servers (XEP-0156 §2.3), JSON optional.
    const DOCUMENTS: [(&str, Format); 2] =
        [("/.well-known/host-meta", Format::Xrd), ("/.well-known/host-meta.json", Format::Jrd)];

    #[derive(Clone, Copy)]
    enum Format {
        Xrd,
        Jrd,
    }

    /// The origin documents are fetched from: `base` without its trailing `/`, else `https://<domain>`.
    pub(super) fn origin(domain: &str, base: Option<&str>) -> Result<String> {
        match base {
            Some(base) if base.starts_with("https://") => Ok(base.trim_end_matches('/').to_owned()),
            Some(base) => Err(TransportError::http(base, "host-meta is fetched over https only").into()),
            None => Ok(format!("https://{domain}")),
        }
    }

    /// Fetches one document, following redirections to `https` URLs; the outer error is a connection or TLS
    /// failure (final: the other document lives on the same host), the inner one what the document lacks.
    async fn document(
        url: &str,
        format: Format,
        tls: &TlsConfig,
    ) -> Result<(String, Result<HostMeta, DiscoveryError>)> {
        let accept = match format {
            Format::Xrd => "application/xrd+xml",
            Format::Jrd => "application/json",
        };
        let mut url = url.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let answer = match http::get(&url, tls, Some(accept), MAX_DOCUMENT).await {
                Ok(answer) => answer,
                Err(crate::Error::Transport(TransportError::Http { detail, .. }))
                    if detail.starts_with(http::TOO_LARGE) =>
                {
                    return Ok((url, Err(DiscoveryError::TooLarge { limit: MAX_DOCUMENT })));
                }
                Err(e) => return Err(e),
            };
            let parsed = match answer.status {
                200 => match format {
                    Format::Xrd => HostMeta::from_xrd(&answer.body),
                    Format::Jrd => HostMeta::from_jrd(&answer.body),
                },
                301 | 302 | 307 | 308 => match redirect_target(&url, answer.location.as_deref()) {
                    Ok(next) => {
                        url = next;
                        continue;
                    }
                    Err(e) => Err(e),
                },
                404 | 410 => Err(DiscoveryError::NotFound { status: answer.status }),
                status => Err(DiscoveryError::Status { status }),
            };
            return Ok((url, parsed));
        }
        let detail = format!("more than {MAX_REDIRECTS}");
        Ok((url, Err(DiscoveryError::Redirect { detail })))
    }

    /// Where a redirection from `url` leads (RFC 6415 §2): an absolute `https` URL, or an absolute path on the same
    /// origin; anything else (another scheme, a relative or scheme-relative reference, no `Location`) is not
    /// followed.
    pub(super) fn redirect_target(url: &str, location: Option<&str>) -> Result<String, DiscoveryError> {
        match location {
            Some(l) if l.starts_with("https://") => Ok(l.to_owned()),
            Some(l) if l.starts_with('/') && !l.starts_with("//") => {
                let rest = url.strip_prefix("https://").unwrap_or(url);
                let authority = rest.split('/').next().unwrap_or(rest);
                Ok(format!("https://{authority}{l}"))
            }
            Some(l) => Err(DiscoveryError::Redirect { detail: format!("to {l}, not an https URL") }),
            None => Err(DiscoveryError::Redirect { detail: "no Location".to_owned() }),
        }
    }

    /// Fetches the host-meta of `domain` (XEP-0156 §2) from `https://<domain>/.well-known/host-meta`, or
    /// `host-meta.json` when that one is missing or unusable; `base` replaces `https://<domain>` (e.g.
    /// `https://127.0.0.1:5281`, a server on another port or host). The certificate is verified with `tls`
    /// against the host of the URL. Fails with
    /// [`TransportError::Discovery`] (each document's [`DiscoveryError`]) when neither is usable, and with the
    /// connection's own error (a refused connection, an untrusted certificate…) when the host cannot be reached.
    ///
    /// ```no_run
    /// # async fn run() -> moxl_core::Result<()> {
    /// let tls = moxl_core::transport::TlsConfig::shared()?;
    /// let meta = moxl_core::transport::discovery::fetch_host_meta("example.com", None, &tls).await?;
    /// for bosh in meta.bosh() {
    ///     println!("BOSH at {bosh}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn fetch_host_meta(domain: &str, base: Option<&str>, tls: &TlsConfig) -> Result<HostMeta> {
        let origin = origin(domain, base)?;
        let mut failures = Vec::new();
        for (path, format) in DOCUMENTS {
            match document(&format!("{origin}{path}"), format, tls).await? {
                (_, Ok(meta)) => return Ok(meta),
                (url, Err(e)) => failures.push((url, e)),
            }
        }
        Err(TransportError::Discovery { domain: domain.to_owned(), failures }.into())
    }

    /// The WebSocket endpoint of `domain` (XEP-0156 §2): the first document of [`fetch_host_meta`] that lists a
    /// usable one ([`HostMeta::websocket`]: `wss://`, or `ws://` only if `allow_cleartext`). Fails with
    /// [`TransportError::Discovery`] when neither document gives one (each document's reason), and with the
    /// connection's own error when the host cannot be reached.
    ///
    /// ```no_run
    /// # async fn run() -> moxl_core::Result<()> {
    /// let tls = moxl_core::transport::TlsConfig::shared()?;
    /// let url = moxl_core::transport::discovery::discover_websocket("example.com", None, &tls, false).await?;
    /// assert!(url.tls);
    /// # Ok(()) }
    /// ```
    pub async fn discover_websocket(
        domain: &str,
        base: Option<&str>,
        tls: &TlsConfig,
        allow_cleartext: bool,
    ) -> Result<WebSocketUrl> {
        let origin = origin(domain, base)?;
        let mut failures = Vec::new();
        for (path, format) in DOCUMENTS {
            let (url, found) = document(&format!("{origin}{path}"), format, tls).await?;
            match found.and_then(|meta| meta.websocket(allow_cleartext)) {
                Ok(ws) => {
                    tracing::debug!(domain, host_meta = %url, websocket = %ws.url, "XEP-0156: WebSocket endpoint found");
                    return Ok(ws);
                }
                Err(e) => failures.push((url, e)),
            }
        }
        Err(TransportError::Discovery { domain: domain.to_owned(), failures }.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// XEP-0156 §2.3, Example 1 (with its `...` elisions left out).
    const XRD: &str = "<?xml version='1.0' encoding='utf-8'?>
<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
  <Link rel=\"urn:xmpp:alt-connections:xbosh\"
        href=\"https://web.example.com:5280/bosh\" />
  <Link rel=\"urn:xmpp:alt-connections:websocket\"
        href=\"wss://web.example.com:443/ws\" />
</XRD>";

    /// XEP-0156 §2.3, Example 2.
    const JRD: &str = r#"{
  "links": [
    {
      "rel": "urn:xmpp:alt-connections:xbosh",
      "href": "https://web.example.com:5280/bosh"
    },
    {
      "rel": "urn:xmpp:alt-connections:websocket",
      "href": "wss://web.example.com:443/ws"
    }
  ]
}"#;

    #[test]
    fn the_xeps_examples_read_the_same() {
        let xrd = HostMeta::from_xrd(XRD.as_bytes()).unwrap();
        let jrd = HostMeta::from_jrd(JRD.as_bytes()).unwrap();
        assert_eq!(xrd, jrd);
        assert_eq!(
            xrd.links,
            [
                Link::new(BOSH_REL, "https://web.example.com:5280/bosh"),
                Link::new(WEBSOCKET_REL, "wss://web.example.com:443/ws")
            ]
        );
        let ws = xrd.websocket(false).unwrap();
        assert_eq!((ws.host.as_str(), ws.port, ws.tls), ("web.example.com", 443, true));
    }

    #[test]
    fn other_links_prefixes_and_templates_are_read_as_such() {
        // RFC 6415 §1.1-like document: a template link, a prefixed root, an XRD element of another namespace.
        let doc = "<x:XRD xmlns:x='http://docs.oasis-open.org/ns/xri/xrd-1.0' xmlns:h='http://host-meta.net/xrd/1.0'>\
            <h:Host>example.com</h:Host><x:Link rel='lrdd' template='http://example.com/describe?uri={uri}'/>\
            <x:Link rel='urn:xmpp:alt-connections:websocket' href=' wss://a.example/ws '><x:Title>WS</x:Title></x:Link>\
            <Link xmlns='urn:other' rel='urn:xmpp:alt-connections:websocket' href='wss://evil.example/'/>\
            <!-- a comment --></x:XRD>";
        let meta = HostMeta::from_xrd(doc.as_bytes()).unwrap();
        assert_eq!(meta.links, [Link::new(WEBSOCKET_REL, "wss://a.example/ws")]);
    }

    #[test]
    fn wss_is_preferred_and_ws_needs_cleartext() {
        let doc = HostMeta {
            links: vec![
                Link::new(WEBSOCKET_REL, "ws://a.example/ws"),
                Link::new(WEBSOCKET_REL, "not a url"),
                Link::new(WEBSOCKET_REL, "wss://a.example/ws"),
            ],
        };
        assert_eq!(doc.websocket(false).unwrap().url, "wss://a.example/ws");
        assert_eq!(doc.websocket(true).unwrap().url, "wss://a.example/ws");
        let cleartext = HostMeta { links: vec![Link::new(WEBSOCKET_REL, "ws://a.example/ws")] };
        let refused = cleartext.websocket(false).unwrap_err();
        assert!(refused.to_string().contains("ws://a.example/ws"), "{refused}");
        let none = HostMeta { links: vec![Link::new(BOSH_REL, "https://a.example/bosh")] };
        assert_eq!(none.websocket(true), Err(DiscoveryError::NoWebSocket { cleartext: vec![] }));
    }

    #[test]
    fn malformed_documents_are_refused() {
        for bad in [
            "",
            "not xml",
            "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>",
            "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='a' href='b'></XRD>",
            "<XRD><Link rel='urn:xmpp:alt-connections:websocket' href='wss://a/'/></XRD>",
            "<html><body>host-meta</body></html>",
            "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'/><XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'/>",
            "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='a' href='&unknown;'/></XRD>",
        ] {
            assert!(matches!(HostMeta::from_xrd(bad.as_bytes()), Err(DiscoveryError::Malformed { .. })), "{bad:?}");
        }
        for bad in ["", "[]", "{\"links\": 3}", "{\"links\": [1]}", "{\"links\": [{\"rel\": 1, \"href\": \"x\"}]}", "{"]
        {
            assert!(matches!(HostMeta::from_jrd(bad.as_bytes()), Err(DiscoveryError::Malformed { .. })), "{bad:?}");
        }
    }

    #[cfg(feature = "http")]
    #[test]
    fn redirections_are_followed_to_https_only() {
        use super::fetch::{origin, redirect_target};
        let from = "https://example.com:8443/.well-known/host-meta";
        assert_eq!(redirect_target(from, Some("https://web.example.com/hm")).unwrap(), "https://web.example.com/hm");
        assert_eq!(redirect_target(from, Some("/xrd/host-meta")).unwrap(), "https://example.com:8443/xrd/host-meta");
        for refused in [Some("http://example.com/hm"), Some("//evil.example/hm"), Some("hm"), None] {
            assert!(matches!(redirect_target(from, refused), Err(DiscoveryError::Redirect { .. })), "{refused:?}");
        }
        assert_eq!(origin("example.com", None).unwrap(), "https://example.com");
        assert_eq!(origin("example.com", Some("https://127.0.0.1:5281/")).unwrap(), "https://127.0.0.1:5281");
        assert!(origin("example.com", Some("http://127.0.0.1:5280")).is_err());
    }
}
