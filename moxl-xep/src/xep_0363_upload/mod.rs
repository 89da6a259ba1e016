//! XEP-0363: HTTP File Upload. Finds the upload service of a server ([`Discover`], §3: disco#items, then
//! disco#info of each item until one has the feature, with its `max-file-size` from the XEP-0128 form), asks it
//! for a slot ([`RequestSlot`] → [`Slot`], §4; errors such as "file too large" with the maximum size →
//! [`SlotError`]), then (with the cargo feature `http-upload`) performs the HTTP PUT with the headers the service
//! allows (`Upload`, streaming bytes or an `AsyncRead`, with a progress callback) and returns the GET URL to
//! share.
//!
//! The client offers no upload service, so this module declares no disco feature.
//!
//! ```
//! use moxl_xep::xep_0363_upload::RequestSlot;
//! # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
//! let slot = xec.context().request(RequestSlot::new("upload.montague.tld", "très cool.jpg", 23456, Some("image/jpeg")))?.await?;
//! // with the `http-upload` feature: Upload::new(tls).on_progress(…).put(slot, UploadBody::bytes(…)).await?
//! println!("PUT {} then share {}", slot.put_url, slot.get_url);
//! # Ok(()) }
//! ```

use moxl_core::action;
use moxl_core::stanza::{Condition, StanzaError, iq_get};
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

use crate::xep_0030_disco::{DiscoInfo, DiscoItems, info_query, items_query};

#[cfg(feature = "http-upload")]
mod http;
#[cfg(feature = "http-upload")]
#[cfg_attr(docsrs, doc(cfg(feature = "http-upload")))]
pub use http::{Upload, UploadBody, download};

/// `urn:xmpp:http:upload:0` (§3): the feature, the `FORM_TYPE` of the service's limits, and the namespace of
/// `<request/>` and `<slot/>`.
///
/// ```
/// assert_eq!(moxl_xep::xep_0363_upload::NS, "urn:xmpp:http:upload:0");
/// ```
pub const NS: &str = "urn:xmpp:http:upload:0";

/// The only headers a client may send from a slot's `<put/>` (§4.1); any other is dropped.
///
/// ```
/// assert!(moxl_xep::xep_0363_upload::ALLOWED_HEADERS.contains(&"Authorization"));
/// ```
pub const ALLOWED_HEADERS: [&str; 3] = ["Authorization", "Cookie", "Expires"];

/// An upload service (§3): its JID, and its maximum file size in bytes if it announces one.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0363_upload::UploadService;
/// // §3: the service's disco#info, with the XEP-0128 form of its limits
/// let iq = Element::parse("<iq xmlns='jabber:client' type='result' from='upload.montague.tld' id='step_02'>\
///     <query xmlns='http://jabber.org/protocol/disco#info'>\
///     <identity category='store' type='file' name='HTTP File Upload'/><feature var='urn:xmpp:http:upload:0'/>\
///     <x type='result' xmlns='jabber:x:data'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field>\
///     <field var='max-file-size'><value>5242880</value></field></x></query></iq>")?;
/// let service = UploadService::from_info(&iq, "upload.montague.tld").unwrap();
/// assert_eq!(service, UploadService { jid: "upload.montague.tld".into(), max_file_size: Some(5242880) });
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadService {
    /// Where to request slots.
    pub jid: String,
    /// The largest file it accepts, in bytes.
    pub max_file_size: Option<u64>,
}

impl UploadService {
    /// Reads a disco#info result: `Some` if it has the feature [`NS`]. `jid` is the entity asked (the result's
    /// `from` is preferred).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let iq = Element::parse("<iq xmlns='jabber:client' type='result' from='conference.montague.tld' id='x'>\
    ///     <query xmlns='http://jabber.org/protocol/disco#info'><feature var='http://jabber.org/protocol/muc'/></query></iq>")?;
    /// assert!(moxl_xep::xep_0363_upload::UploadService::from_info(&iq, "conference.montague.tld").is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_info(stanza: &Element, jid: &str) -> Option<UploadService> {
        let info = DiscoInfo::from_stanza(stanza).filter(|i| i.has_feature(NS))?;
        let max_file_size =
            info.extension(NS).and_then(|f| f.value("max-file-size")).and_then(|v| v.trim().parse().ok());
        Some(UploadService {
            jid: stanza.attr("from").map_or_else(|| jid.to_owned(), |f| f.into_owned()),
            max_file_size,
        })
    }
}

/// Finds the upload service of a server (§3): asks for the server's items, then the disco#info of each in turn
/// until one has the feature [`NS`] (an item that answers with an error, or not in time, is skipped).
///
/// | answer | Packet key |
/// |---|---|
/// | a service | `upload_discover_handle` ([`UploadService`]) |
/// | no item has the feature | `upload_discover_error` ([`StanzaError`] `item-not-found`) |
/// | the server's items could not be read | `upload_discover_error` ([`StanzaError`]) |
/// | the server did not answer in time | `upload_discover_timeout` (the server, `String`) |
///
/// ```
/// use moxl_xep::xep_0363_upload::Discover;
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let mut services = xec.subscribe("upload_discover_handle");
/// xec.context().request(Discover::new("montague.tld"))?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Discover {
    server: String,
    /// The item whose disco#info is asked (`None`: the server's disco#items).
    probing: Option<String>,
    /// The items still to ask.
    remaining: Vec<String>,
}

impl Discover {
    /// Looks for the upload service of `server`.
    ///
    /// ```
    /// let d = moxl_xep::xep_0363_upload::Discover::new("montague.tld");
    /// assert_eq!(d.server(), "montague.tld");
    /// ```
    pub fn new(server: impl Into<String>) -> Discover {
        Discover { server: server.into(), probing: None, remaining: Vec::new() }
    }

    /// The server searched.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0363_upload::Discover::new("a.tld").server(), "a.tld");
    /// ```
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Asks the next item, or reports that none was an upload service.
    fn next(&mut self, ctx: &Context) -> moxl_core::Result<()> {
        if self.remaining.is_empty() {
            let error =
                StanzaError::new(Condition::ItemNotFound).with_text(format!("no item of {} offers {NS}", self.server));
            ctx.__method("error").pack(error).deliver();
            return Ok(());
        }
        let probing = self.remaining.remove(0);
        let next = Discover {
            server: self.server.clone(),
            probing: Some(probing),
            remaining: std::mem::take(&mut self.remaining),
        };
        ctx.request(next).map(drop)
    }
}

#[action(group = "upload")]
impl Discover {
    fn request(&self) -> ElementBuilder {
        match &self.probing {
            None => items_query(Some(&self.server), None),
            Some(jid) => info_query(Some(jid), None),
        }
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> moxl_core::Result<()> {
        match self.probing.clone() {
            None => {
                self.remaining = DiscoItems::from_stanza(stanza)
                    .into_iter()
                    .flat_map(|q| q.items)
                    .filter(|i| i.node.is_none())
                    .map(|i| i.jid)
                    .collect();
                self.next(ctx)
            }
            Some(jid) => match UploadService::from_info(stanza, &jid) {
                Some(service) => {
                    ctx.pack(service).deliver();
                    Ok(())
                }
                None => self.next(ctx),
            },
        }
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) -> moxl_core::Result<()> {
        match self.probing {
            // an item that does not answer is not the service: go on
            Some(_) => self.next(ctx),
            None => {
                ctx.pack(error.clone()).deliver();
                Ok(())
            }
        }
    }

    async fn timeout(&mut self, ctx: &Context) -> moxl_core::Result<()> {
        match self.probing {
            // an item that does not answer in time is not the service either
            Some(_) => self.next(ctx),
            None => {
                ctx.pack(self.server.clone()).deliver();
                Ok(())
            }
        }
    }
}

/// The slot request (§4): the file's name, size in bytes and, optionally, its content type.
///
/// ```
/// let iq = moxl_xep::xep_0363_upload::slot_request("upload.montague.tld", "très cool.jpg", 23456, Some("image/jpeg"))
///     .attr("id", "step_03")
///     .build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='upload.montague.tld' id='step_03'><request xmlns='urn:xmpp:http:upload:0' \
///      filename='très cool.jpg' size='23456' content-type='image/jpeg'/></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn slot_request(service: &str, filename: &str, size: u64, content_type: Option<&str>) -> ElementBuilder {
    iq_get(Some(service)).append(
        ElementBuilder::new("request", NS)
            .attr("filename", filename.to_owned())
            .attr("size", size.to_string())
            .attr_opt("content-type", content_type.map(str::to_owned)),
    )
}

/// Keeps a `<put/>` header only if its name is allowed (§4.1, compared without case), and removes newlines
/// from its value (they would let a service inject other headers).
///
/// ```
/// use moxl_xep::xep_0363_upload::allowed_header;
/// assert_eq!(allowed_header("cookie", "foo=bar;\r\n user=romeo"), Some(("Cookie", "foo=bar; user=romeo".into())));
/// assert_eq!(allowed_header("Host", "evil.example"), None);
/// ```
pub fn allowed_header(name: &str, value: &str) -> Option<(&'static str, String)> {
    let name = ALLOWED_HEADERS.iter().find(|a| a.eq_ignore_ascii_case(name.trim()))?;
    Some((name, value.chars().filter(|c| !matches!(c, '\r' | '\n')).collect::<String>().trim().to_owned()))
}

/// An upload slot (§4): where to PUT the file and with which headers (only the allowed ones, cleaned by
/// [`allowed_header`]), where it will be served, and the size and content type it was requested with (the PUT
/// must match them).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0363_upload::Slot;
/// // §4: the slot
/// let iq = Element::parse("<iq xmlns='jabber:client' type='result' from='upload.montague.tld' id='step_03'>\
///     <slot xmlns='urn:xmpp:http:upload:0'>\
///     <put url='https://upload.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg'>\
///     <header name='Authorization'>Basic Base64String==</header><header name='Cookie'>foo=bar; user=romeo</header>\
///     <header name='Host'>evil.example</header></put>\
///     <get url='https://download.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg'/></slot></iq>")?;
/// let slot = Slot::from_stanza(&iq, 23456, Some("image/jpeg")).unwrap();
/// assert!(slot.get_url.starts_with("https://download.montague.tld/"));
/// assert_eq!(slot.put_headers, vec![("Authorization".into(), "Basic Base64String==".into()), ("Cookie".into(), "foo=bar; user=romeo".into())]);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The URL to PUT the file to.
    pub put_url: String,
    /// The headers to send with the PUT (allowed names only, in the service's order).
    pub put_headers: Vec<(String, String)>,
    /// The URL the file is served at: the one to share.
    pub get_url: String,
    /// The size the slot was requested for.
    pub size: u64,
    /// The content type the slot was requested with.
    pub content_type: Option<String>,
}

impl Slot {
    /// Reads the `<slot/>` of a result; `None` without one, or without both URLs. `size` and `content_type` are
    /// those of the request.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let iq = Element::parse("<iq xmlns='jabber:client' type='result' id='x'><slot xmlns='urn:xmpp:http:upload:0'><put url='https://a/b'/></slot></iq>")?;
    /// assert!(moxl_xep::xep_0363_upload::Slot::from_stanza(&iq, 1, None).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element, size: u64, content_type: Option<&str>) -> Option<Slot> {
        let slot = stanza.child("slot", NS)?;
        let put = slot.child("put", NS)?;
        let get = slot.child("get", NS)?;
        let put_headers = put
            .children()
            .filter(|h| h.is("header", NS))
            .filter_map(|h| allowed_header(&h.attr("name")?, &h.text()))
            .map(|(n, v)| (n.to_owned(), v))
            .collect();
        Some(Slot {
            put_url: put.attr("url")?.trim().to_owned(),
            put_headers,
            get_url: get.attr("url")?.trim().to_owned(),
            size,
            content_type: content_type.map(str::to_owned),
        })
    }
}

/// A refused slot request (§4.2): the stanza error, the service's maximum size when the file is too large, and
/// when to retry when a quota is reached.
///
/// ```
/// use moxl_core::stanza::StanzaError;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0363_upload::SlotError;
/// // §4.2: file too large
/// let iq = Element::parse("<iq xmlns='jabber:client' type='error' from='upload.montague.tld' id='step_03'>\
///     <request xmlns='urn:xmpp:http:upload:0' filename='très cool.jpg' size='23456' content-type='image/jpeg'/>\
///     <error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
///     <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>File too large. The maximum file size is 20000 bytes</text>\
///     <file-too-large xmlns='urn:xmpp:http:upload:0'><max-file-size>20000</max-file-size></file-too-large></error></iq>")?;
/// let error = SlotError::from_stanza(StanzaError::from_stanza(&iq).unwrap(), &iq);
/// assert!(error.file_too_large);
/// assert_eq!(error.max_file_size, Some(20000));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotError {
    /// The error (`not-acceptable` for a file too large, `resource-constraint` for a quota, `forbidden`…).
    pub error: StanzaError,
    /// The error holds `<file-too-large/>`.
    pub file_too_large: bool,
    /// Its `<max-file-size/>`, in bytes.
    pub max_file_size: Option<u64>,
    /// The `stamp` of a `<retry/>`: when a quota allows uploading again (XEP-0082 date and time).
    pub retry: Option<String>,
}

impl SlotError {
    /// Reads the upload-specific parts of an error reply.
    ///
    /// ```
    /// use moxl_core::stanza::StanzaError;
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0363_upload::SlotError;
    /// // §4.2: quota reached
    /// let iq = Element::parse("<iq xmlns='jabber:client' type='error' from='upload.montague.tld' id='step_03'>\
    ///     <error type='wait'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
    ///     <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Quota reached. You can only upload 5 files in 5 minutes</text>\
    ///     <retry xmlns='urn:xmpp:http:upload:0' stamp='2017-12-03T23:42:05Z'/></error></iq>")?;
    /// let error = SlotError::from_stanza(StanzaError::from_stanza(&iq).unwrap(), &iq);
    /// assert_eq!((error.file_too_large, error.retry.as_deref()), (false, Some("2017-12-03T23:42:05Z")));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(error: StanzaError, stanza: &Element) -> SlotError {
        let el = stanza.child("error", moxl_core::xml::ns::CLIENT);
        let too_large = el.as_ref().and_then(|e| e.child("file-too-large", NS));
        SlotError {
            error,
            file_too_large: too_large.is_some(),
            max_file_size: too_large
                .and_then(|t| t.child_text("max-file-size", NS))
                .and_then(|m| m.trim().parse().ok()),
            retry: el.and_then(|e| e.child("retry", NS)).and_then(|r| r.attr("stamp").map(|s| s.into_owned())),
        }
    }
}

/// Requests an upload slot (§4). Output: the [`Slot`]; an error is `Err(Error::Stanza(..))` (what the service
/// said about the file size or when to retry, §4.2, is in the error Packet's [`SlotError`]), a result without a
/// valid slot a handler error. The Packets are the second view:
///
/// | answer | Packet key |
/// |---|---|
/// | a slot | `upload_requestslot_handle` ([`Slot`]) |
/// | an error (file too large, quota, not allowed…), or a result without a slot | `upload_requestslot_error` ([`SlotError`]) |
///
/// ```
/// use moxl_xep::xep_0363_upload::RequestSlot;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let slot = xec.context().request(RequestSlot::new("upload.montague.tld", "très cool.jpg", 23456, Some("image/jpeg")))?.await?;
/// let (put, share) = (&slot.put_url, &slot.get_url);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestSlot {
    /// The upload service.
    pub service: String,
    /// The file's name.
    pub filename: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its MIME type.
    pub content_type: Option<String>,
}

impl RequestSlot {
    /// A slot request for a file.
    ///
    /// ```
    /// let r = moxl_xep::xep_0363_upload::RequestSlot::new("upload.montague.tld", "a.txt", 3, None);
    /// assert_eq!(r.size, 3);
    /// ```
    pub fn new(
        service: impl Into<String>,
        filename: impl Into<String>,
        size: u64,
        content_type: Option<&str>,
    ) -> RequestSlot {
        RequestSlot {
            service: service.into(),
            filename: filename.into(),
            size,
            content_type: content_type.map(str::to_owned),
        }
    }
}

#[action(group = "upload")]
impl RequestSlot {
    /// The slot: where to PUT the file, with which headers, and where it will be.
    type Output = Slot;

    fn request(&self) -> ElementBuilder {
        slot_request(&self.service, &self.filename, self.size, self.content_type.as_deref())
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> moxl_core::Result<Slot> {
        match Slot::from_stanza(stanza, self.size, self.content_type.as_deref()) {
            Some(slot) => Ok(slot),
            None => {
                let error = StanzaError::new(Condition::UndefinedCondition).with_text("the result holds no valid slot");
                let failure = SlotError { error, file_too_large: false, max_file_size: None, retry: None };
                ctx.__method("error").pack(failure).deliver();
                Err(moxl_core::Error::handler("the result holds no valid slot (XEP-0363 §4)"))
            }
        }
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element) {
        ctx.pack(SlotError::from_stanza(error.clone(), stanza)).deliver();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{answer_last, block_on};
    use moxl_core::xec::Xec;

    #[test]
    fn discovery_walks_the_items_until_one_is_the_upload_service() {
        let xec = Xec::new().unwrap();
        let mut found = xec.subscribe("upload_discover_handle");
        let mut errors = xec.subscribe("upload_discover_error");
        xec.context().request(Discover::new("montague.tld")).unwrap();
        // §3: the server's items
        let items = "<iq xmlns='jabber:client' type='result' from='montague.tld' id='ID'>\
            <query xmlns='http://jabber.org/protocol/disco#items'>\
            <item jid='conference.montague.tld'/><item jid='gone.montague.tld'/><item jid='upload.montague.tld' name='HTTP File Upload'/></query></iq>";
        block_on(xec.dispatch(answer_last(&xec, items)));
        let muc = "<iq xmlns='jabber:client' type='result' from='conference.montague.tld' id='ID'>\
            <query xmlns='http://jabber.org/protocol/disco#info'><feature var='http://jabber.org/protocol/muc'/></query></iq>";
        block_on(xec.dispatch(answer_last(&xec, muc)));
        let gone = "<iq xmlns='jabber:client' type='error' from='gone.montague.tld' id='ID'>\
            <error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
        block_on(xec.dispatch(answer_last(&xec, gone)));
        let out = xec.take_outgoing();
        assert_eq!(out[0].attr("to").as_deref(), Some("upload.montague.tld"));
        let id = out[0].attr("id").unwrap().into_owned();
        let info = format!(
            "<iq xmlns='jabber:client' type='result' from='upload.montague.tld' id='{id}'>\
            <query xmlns='http://jabber.org/protocol/disco#info'><identity category='store' type='file' name='HTTP File Upload'/>\
            <feature var='urn:xmpp:http:upload:0'/><x type='result' xmlns='jabber:x:data'>\
            <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field>\
            <field var='max-file-size'><value>5242880</value></field></x></query></iq>"
        );
        block_on(xec.dispatch(Element::parse(&info).unwrap()));
        let service = found.try_recv().unwrap().content::<UploadService>().unwrap().clone();
        assert_eq!(service, UploadService { jid: "upload.montague.tld".into(), max_file_size: Some(5242880) });
        assert!(errors.try_recv().is_none());
        assert_eq!(xec.pending(), 0);
        // an item that does not answer in time is skipped too
        xec.context().request(Discover::new("montague.tld")).unwrap();
        let two = "<iq xmlns='jabber:client' type='result' from='montague.tld' id='ID'>\
            <query xmlns='http://jabber.org/protocol/disco#items'><item jid='slow.montague.tld'/><item jid='upload.montague.tld'/></query></iq>";
        block_on(xec.dispatch(answer_last(&xec, two)));
        assert_eq!(xec.take_outgoing()[0].attr("to").as_deref(), Some("slow.montague.tld"));
        let later = std::time::Instant::now() + std::time::Duration::from_secs(3600);
        assert_eq!(block_on(xec.expire(later.into())), 1);
        let out = xec.take_outgoing();
        assert_eq!(out[0].attr("to").as_deref(), Some("upload.montague.tld"));
        // a server without one
        xec.context().request(Discover::new("capulet.tld")).unwrap();
        let none = "<iq xmlns='jabber:client' type='result' from='capulet.tld' id='ID'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>";
        block_on(xec.dispatch(answer_last(&xec, none)));
        let error = errors.try_recv().unwrap().content::<StanzaError>().unwrap().clone();
        assert_eq!(error.condition(), Some(Condition::ItemNotFound));
    }

    #[test]
    fn slot_and_errors_from_the_spec_examples() {
        let xec = Xec::new().unwrap();
        let mut slots = xec.subscribe("upload_requestslot_handle");
        let mut errors = xec.subscribe("upload_requestslot_error");
        let typed = xec
            .context()
            .request(RequestSlot::new("upload.montague.tld", "très cool.jpg", 23456, Some("image/jpeg")))
            .unwrap();
        let slot = "<iq xmlns='jabber:client' type='result' from='upload.montague.tld' id='ID'><slot xmlns='urn:xmpp:http:upload:0'>\
            <put url='https://upload.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg'>\
            <header name='Authorization'>Basic Base64String==</header><header name='Cookie'>foo=bar; user=romeo</header>\
            <header name='X-Evil'>a\r\nHost: b</header></put>\
            <get url='https://download.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg'/></slot></iq>";
        block_on(xec.dispatch(answer_last(&xec, slot)));
        let slot = slots.try_recv().unwrap().content::<Slot>().unwrap().clone();
        assert_eq!(block_on(typed).unwrap(), slot);
        assert_eq!((slot.size, slot.content_type.as_deref()), (23456, Some("image/jpeg")));
        assert_eq!(slot.put_headers.len(), 2);
        xec.context()
            .request(RequestSlot::new("upload.montague.tld", "très cool.jpg", 23456, Some("image/jpeg")))
            .unwrap();
        let too_large = "<iq xmlns='jabber:client' type='error' from='upload.montague.tld' id='ID'>\
            <error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
            <file-too-large xmlns='urn:xmpp:http:upload:0'><max-file-size>20000</max-file-size></file-too-large></error></iq>";
        block_on(xec.dispatch(answer_last(&xec, too_large)));
        let error = errors.try_recv().unwrap().content::<SlotError>().unwrap().clone();
        assert_eq!((error.file_too_large, error.max_file_size), (true, Some(20000)));
        assert_eq!(error.error.condition(), Some(Condition::NotAcceptable));
    }
}
