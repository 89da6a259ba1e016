//! XEP-0231: Bits of Binary. Small data (an emoticon, a CAPTCHA image) named by a content id, `cid` (§2):
//! carried inline in a stanza as `<data/>`, or fetched by cid with an `iq` `get` ([`Request`], §3). The client
//! answers such requests from a [`BobCache`] the application fills ([`BobData`]; `item-not-found` for an unknown
//! cid, §3), and reads `<data/>` inline in messages.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use moxl_core::stanza::{Condition, StanzaError, error_reply, iq_get, iq_result};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{action, payload};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

/// `urn:xmpp:bob` (§2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0231_bob::NS, "urn:xmpp:bob");
/// ```
pub const NS: &str = "urn:xmpp:bob";

moxl_core::feature!("urn:xmpp:bob");

/// The content id of `bytes`: `sha1+<hex of the SHA-1>@bob.xmpp.org` (§2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0231_bob::cid(b""), "sha1+da39a3ee5e6b4b0d3255bfef95601890afd80709@bob.xmpp.org");
/// ```
pub fn cid(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(40);
    for b in Sha1::digest(bytes) {
        let _ = write!(hex, "{b:02x}");
    }
    format!("sha1+{hex}@bob.xmpp.org")
}

/// Whether `bytes` are what a `sha1+…` cid names (other hash functions cannot be checked here: `false`).
///
/// ```
/// use moxl_xep::xep_0231_bob::{cid, matches};
/// assert!(matches(&cid(b"abc"), b"abc"));
/// assert!(!matches(&cid(b"abc"), b"abd"));
/// ```
pub fn matches(content_id: &str, bytes: &[u8]) -> bool {
    content_id.eq_ignore_ascii_case(&cid(bytes))
}

/// A `<data/>` element: the cid, the MIME type, how long it may be cached, and the bytes (§2).
///
/// ```
/// use moxl_xep::xep_0231_bob::Data;
/// let d = Data::new("image/png", b"\x89PNG".to_vec()).with_max_age(86400);
/// assert!(d.cid.starts_with("sha1+") && d.cid.ends_with("@bob.xmpp.org"));
/// assert_eq!(Data::from_element(&d.to_element().build()?), Some(d));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Data {
    /// The content id.
    pub cid: String,
    /// The MIME type (`type`).
    pub mime: String,
    /// Seconds it may be cached (`max-age`; 0: not at all).
    pub max_age: Option<u64>,
    /// The data.
    pub bytes: Vec<u8>,
}

impl Data {
    /// Data with its cid computed.
    ///
    /// ```
    /// let d = moxl_xep::xep_0231_bob::Data::new("text/plain", b"hi".to_vec());
    /// assert_eq!(d.cid, moxl_xep::xep_0231_bob::cid(b"hi"));
    /// ```
    pub fn new(mime: impl Into<String>, bytes: Vec<u8>) -> Data {
        Data { cid: cid(&bytes), mime: mime.into(), max_age: None, bytes }
    }

    /// With a `max-age`.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0231_bob::Data::new("a/b", vec![]).with_max_age(0).max_age, Some(0));
    /// ```
    pub fn with_max_age(mut self, seconds: u64) -> Data {
        self.max_age = Some(seconds);
        self
    }

    /// Reads a `<data/>` with its content; `None` without a `cid`, with no content (a request, §3) or with bad
    /// base64.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0231_bob::Data;
    /// let request = Element::parse("<data xmlns='urn:xmpp:bob' cid='sha1+8f35fef110ffc5df08d579a50083ff9308fb6242@bob.xmpp.org'/>")?;
    /// assert!(Data::from_element(&request).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(data: &Element) -> Option<Data> {
        if !data.is("data", NS) {
            return None;
        }
        let text: String = data.text().chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if text.is_empty() {
            return None;
        }
        Some(Data {
            cid: data.attr("cid")?.into_owned(),
            mime: data.attr("type").map(|t| t.into_owned()).unwrap_or_default(),
            max_age: data.attr("max-age").and_then(|a| a.parse().ok()),
            bytes: base64::engine::general_purpose::STANDARD.decode(text).ok()?,
        })
    }

    /// The `<data/>` element, its bytes in base64.
    ///
    /// ```
    /// let e = moxl_xep::xep_0231_bob::Data::new("text/plain", b"hi".to_vec()).to_element().build()?;
    /// assert_eq!(e.text(), "aGk=");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("data", NS)
            .attr("cid", self.cid.clone())
            .attr("type", self.mime.clone())
            .attr_opt("max-age", self.max_age.map(|a| a.to_string()))
            .text(base64::engine::general_purpose::STANDARD.encode(&self.bytes))
    }

    /// Whether the bytes are what the cid names (see [`matches()`]).
    ///
    /// ```
    /// let mut d = moxl_xep::xep_0231_bob::Data::new("a/b", b"x".to_vec());
    /// assert!(d.is_genuine());
    /// d.bytes = b"y".to_vec();
    /// assert!(!d.is_genuine());
    /// ```
    pub fn is_genuine(&self) -> bool {
        matches(&self.cid, &self.bytes)
    }
}

/// The request for the data named `cid` (§3, Example 2).
///
/// ```
/// let iq = moxl_xep::xep_0231_bob::request("ladymacbeth@shakespeare.lit/castle", "sha1+8f35fef110ffc5df08d579a50083ff9308fb6242@bob.xmpp.org")
///     .attr("id", "get-data-1").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='ladymacbeth@shakespeare.lit/castle' id='get-data-1'>\
///      <data xmlns='urn:xmpp:bob' cid='sha1+8f35fef110ffc5df08d579a50083ff9308fb6242@bob.xmpp.org'/></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn request(to: &str, cid: &str) -> ElementBuilder {
    iq_get(Some(to)).append(ElementBuilder::new("data", NS).attr("cid", cid.to_owned()))
}

/// The data this client gives out by cid: fill it with what you put in messages (`<data/>` inline or `cid:` URLs
/// in XHTML-IM), and give it with `Xec::builder().extension(cache.clone())`. Cheap to clone (shared).
///
/// ```
/// use moxl_xep::xep_0231_bob::{BobCache, Data};
/// let cache = BobCache::default();
/// let cid = cache.insert(Data::new("image/png", vec![1, 2, 3]));
/// assert_eq!(cache.get(&cid).map(|d| d.bytes), Some(vec![1, 2, 3]));
/// ```
#[derive(Debug, Clone, Default)]
pub struct BobCache(Arc<Mutex<HashMap<String, Data>>>);

impl BobCache {
    /// Adds data; returns its cid.
    ///
    /// ```
    /// let cache = moxl_xep::xep_0231_bob::BobCache::default();
    /// assert!(cache.insert(moxl_xep::xep_0231_bob::Data::new("a/b", vec![])).ends_with("@bob.xmpp.org"));
    /// ```
    pub fn insert(&self, data: Data) -> String {
        let cid = data.cid.clone();
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(cid.clone(), data);
        cid
    }

    /// The data named `cid` (compared without regard to case, as hex digits may be written either way).
    ///
    /// ```
    /// assert!(moxl_xep::xep_0231_bob::BobCache::default().get("sha1+00@bob.xmpp.org").is_none());
    /// ```
    pub fn get(&self, cid: &str) -> Option<Data> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(cid).or_else(|| map.get(&cid.to_ascii_lowercase())).cloned()
    }
}

/// The answer to a data request (an `iq` `get` holding `<data cid='…'/>`): the data from `cache`, or
/// `item-not-found` (§3); `bad-request` for a `set`. `None` for any other stanza.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0231_bob::{answer, BobCache, Data};
/// let cache = BobCache::default();
/// let cid = cache.insert(Data::new("text/plain", b"hi".to_vec()));
/// let get = Element::parse(&format!("<iq xmlns='jabber:client' type='get' from='a@b/c' id='g1'><data xmlns='urn:xmpp:bob' cid='{cid}'/></iq>"))?;
/// assert!(answer(&get, Some(&cache)).unwrap().build()?.to_xml().contains("aGk="));
/// assert!(answer(&get, None).unwrap().build()?.to_xml().contains("<item-not-found"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn answer(stanza: &Element, cache: Option<&BobCache>) -> Option<ElementBuilder> {
    if !stanza.is("iq", ns::CLIENT) {
        return None;
    }
    let data = stanza.child("data", NS)?;
    match stanza.attr("type").as_deref() {
        Some("get") => {}
        Some("set") => return Some(error_reply(stanza, &StanzaError::new(Condition::BadRequest))),
        _ => return None,
    }
    let found = data.attr("cid").and_then(|cid| cache?.get(&cid));
    Some(match found {
        Some(found) => iq_result(stanza).append(found.to_element()),
        None => error_reply(stanza, &StanzaError::new(Condition::ItemNotFound)),
    })
}

/// Answers data requests from the controller's [`BobCache`] (`item-not-found` without one or for an unknown
/// cid, §3), and delivers the `<data/>` found inline in messages (§4) when it is genuine (its bytes hash to its
/// cid), as a [`Data`] under the Packet key `bobdata` (the Packet's sender is the message's `from`).
///
/// ```
/// assert!(moxl_core::xec::Registry::global()?.handles("data", moxl_xep::xep_0231_bob::NS));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[payload(name = "data", ns = "urn:xmpp:bob", at = "child")]
#[derive(Debug, Default)]
pub struct BobData;

impl Payload for BobData {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        if stanza.is("iq", ns::CLIENT) {
            return match answer(stanza, ctx.get::<BobCache>()) {
                Some(reply) => ctx.send(reply),
                None => Ok(()),
            };
        }
        if stanza.is("message", ns::CLIENT)
            && stanza.attr("type").as_deref() != Some("error")
            && let Some(data) = Data::from_element(element).filter(Data::is_genuine)
        {
            ctx.pack(data).deliver();
        }
        Ok(())
    }
}

/// Fetches the data named `cid` from `to` (§3). Output: the [`Data`] when its bytes hash to the cid; data that
/// does not match (or none) is a handler error, an error reply `Err(Error::Stanza(..))`, no answer
/// `Err(Error::Timeout(..))`. The Packets are the second view:
///
/// | answer | Packet key |
/// |---|---|
/// | the data | `bob_request_handle` |
/// | data that does not match its cid, or no data | `bob_request_errormismatch` (content: the cid) |
/// | `item-not-found` (unknown cid) | `bob_request_erroritemnotfound` (content: the `StanzaError`) |
/// | another error | `bob_request_error<condition>` |
/// | none before the timeout | `bob_request_timeout` |
///
/// ```
/// use moxl_xep::xep_0231_bob::Request;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let cid = "sha1+8f35fef110ffc5df08d579a50083ff9308fb6242@bob.xmpp.org".to_owned();
/// let data = xec.context().request(Request { to: "ladymacbeth@shakespeare.lit/castle".into(), cid })?.await?;
/// println!("{} bytes of {}", data.bytes.len(), data.mime);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    /// Who has the data.
    pub to: String,
    /// Its content id.
    pub cid: String,
}

#[action(group = "bob")]
impl Request {
    /// The data, checked against its cid.
    type Output = Data;

    fn request(&self) -> ElementBuilder {
        request(&self.to, &self.cid)
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> moxl_core::Result<Data> {
        let data = stanza.child("data", NS).and_then(|d| Data::from_element(&d));
        match data.filter(|d| d.is_genuine() && d.cid.eq_ignore_ascii_case(&self.cid)) {
            Some(data) => Ok(data),
            None => {
                ctx.__method("errormismatch").pack(self.cid.clone()).deliver();
                Err(moxl_core::Error::handler(format!("no data matching {} (XEP-0231 §3)", self.cid)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    #[test]
    fn the_cid_is_the_sha1_in_hex() {
        // SHA-1 of "abc" (FIPS 180 test vector)
        assert_eq!(cid(b"abc"), "sha1+a9993e364706816aba3e25717850c26c9cd0d89d@bob.xmpp.org");
    }

    #[test]
    fn requests_are_answered_from_the_cache_and_fetched_data_is_checked() {
        let cache = BobCache::default();
        let cid = cache.insert(Data::new("image/png", vec![0x89, b'P', b'N', b'G']).with_max_age(86400));
        let xec = Xec::builder().extension(cache).build().unwrap();
        let get = |cid: &str| {
            Element::parse(&format!("<iq xmlns='jabber:client' type='get' from='doctor@shakespeare.lit/pda' id='get-data-1'><data xmlns='urn:xmpp:bob' cid='{cid}'/></iq>")).unwrap()
        };
        block_on(xec.dispatch(get(&cid)));
        let out = xec.take_outgoing();
        let data = Data::from_element(&out[0].child("data", NS).unwrap()).unwrap();
        assert_eq!((data.mime.as_str(), data.max_age, data.is_genuine()), ("image/png", Some(86400), true));
        block_on(xec.dispatch(get("sha1+0000000000000000000000000000000000000000@bob.xmpp.org")));
        assert!(xec.take_outgoing()[0].to_xml().contains("<item-not-found"));

        let mut fetched = xec.subscribe("bob_request_handle");
        let mut mismatch = xec.subscribe("bob_request_errormismatch");
        let out = xec.context().request(Request { to: "doctor@shakespeare.lit/pda".into(), cid: cid.clone() }).unwrap();
        let id = out.id().to_owned();
        xec.take_outgoing();
        let reply = format!(
            "<iq xmlns='jabber:client' type='result' from='doctor@shakespeare.lit/pda' id='{id}'>{}</iq>",
            data.to_element().build().unwrap().to_xml()
        );
        block_on(xec.dispatch(Element::parse(&reply).unwrap()));
        assert_eq!(block_on(out).unwrap(), data);
        assert_eq!(fetched.try_recv().unwrap().content::<Data>(), Some(&data));
        // forged bytes under the same cid
        let out = xec.context().request(Request { to: "doctor@shakespeare.lit/pda".into(), cid: cid.clone() }).unwrap();
        let id = out.id().to_owned();
        let forged = Data { bytes: b"evil".to_vec(), ..data.clone() };
        let reply = format!(
            "<iq xmlns='jabber:client' type='result' from='doctor@shakespeare.lit/pda' id='{id}'>{}</iq>",
            forged.to_element().build().unwrap().to_xml()
        );
        block_on(xec.dispatch(Element::parse(&reply).unwrap()));
        assert!(fetched.try_recv().is_none());
        assert!(mismatch.try_recv().is_some());
        assert!(matches!(block_on(out), Err(moxl_core::Error::Handler(_))));
    }

    #[test]
    fn inline_data_in_messages_is_delivered() {
        let xec = Xec::new().unwrap();
        let mut inline = xec.subscribe("bobdata");
        let data = Data::new("image/png", b"smile".to_vec());
        let m = format!(
            "<message xmlns='jabber:client' from='ladymacbeth@shakespeare.lit/castle' type='chat'><body>:)</body>{}</message>",
            data.to_element().build().unwrap().to_xml()
        );
        block_on(xec.dispatch(Element::parse(&m).unwrap()));
        let p = inline.try_recv().unwrap();
        assert_eq!(p.from(), Some("ladymacbeth@shakespeare.lit/castle"));
        assert_eq!(p.content::<Data>(), Some(&data));
        let forged = m.replace(&data.cid, &cid(b"other"));
        block_on(xec.dispatch(Element::parse(&forged).unwrap()));
        assert!(inline.try_recv().is_none());
    }
}
