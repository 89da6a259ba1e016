//! XEP-0066: Out of Band Data. A URL (with a description) attached to a message (`jabber:x:oob`, §4), read
//! into an [`Oob`] and delivered by [`OobUrl`]; and the `jabber:iq:oob` request to fetch a URL (§3), delivered by
//! [`OobRequest`] for the application to answer with [`accept`] or [`reject`].

use moxl_core::payload;
use moxl_core::stanza::{Condition, StanzaError, error_reply, iq_result, iq_set};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use serde::{Deserialize, Serialize};

/// `jabber:x:oob`, the URL in a message (§4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0066_oob::NS_X, "jabber:x:oob");
/// ```
pub const NS_X: &str = "jabber:x:oob";

/// `jabber:iq:oob`, the request to fetch a URL (§3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0066_oob::NS_IQ, "jabber:iq:oob");
/// ```
pub const NS_IQ: &str = "jabber:iq:oob";

moxl_core::feature!("jabber:x:oob");

/// A URL and its description (`<url/>`, `<desc/>`, §3 and §4).
///
/// ```
/// use moxl_xep::xep_0066_oob::Oob;
/// let oob = Oob::new("http://www.jabber.org/images/psa-license.jpg").with_desc("A license to Jabber!");
/// assert_eq!(Oob::from_element(&oob.to_x().build()?), Some(oob));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Oob {
    /// The URL (required).
    pub url: String,
    /// A description.
    pub desc: Option<String>,
}

impl Oob {
    /// A URL without description.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0066_oob::Oob::new("https://a.example/f").desc, None);
    /// ```
    pub fn new(url: impl Into<String>) -> Oob {
        Oob { url: url.into(), desc: None }
    }

    /// With a description.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0066_oob::Oob::new("u").with_desc("d").desc.as_deref(), Some("d"));
    /// ```
    pub fn with_desc(mut self, desc: impl Into<String>) -> Oob {
        self.desc = Some(desc.into());
        self
    }

    /// Reads an `<x xmlns='jabber:x:oob'/>` or a `<query xmlns='jabber:iq:oob'/>`; `None` without a `<url/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0066_oob::Oob;
    /// let x = Element::parse("<x xmlns='jabber:x:oob'><url>http://www.jabber.org/images/psa-license.jpg</url></x>")?;
    /// assert_eq!(Oob::from_element(&x).map(|o| o.url), Some("http://www.jabber.org/images/psa-license.jpg".into()));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(e: &Element) -> Option<Oob> {
        let ns = if e.is("x", NS_X) {
            NS_X
        } else if e.is("query", NS_IQ) {
            NS_IQ
        } else {
            return None;
        };
        let url = e.child_text("url", ns)?.trim().to_owned();
        (!url.is_empty()).then(|| Oob { url, desc: e.child_text("desc", ns) })
    }

    /// The `<x xmlns='jabber:x:oob'/>` of a message (§4).
    ///
    /// ```
    /// let x = moxl_xep::xep_0066_oob::Oob::new("https://a.example/f").to_x().build()?;
    /// assert_eq!(x.to_xml(), "<x xmlns='jabber:x:oob'><url>https://a.example/f</url></x>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_x(&self) -> ElementBuilder {
        self.fill(ElementBuilder::new("x", NS_X), NS_X)
    }

    fn fill(&self, mut e: ElementBuilder, ns: &'static str) -> ElementBuilder {
        e.push(ElementBuilder::new("url", ns).text(self.url.clone()));
        if let Some(desc) = &self.desc {
            e.push(ElementBuilder::new("desc", ns).text(desc.clone()));
        }
        e
    }
}

/// Attaches a URL to a message (§4). Clients show the URL in the body too (XEP-0066 is often used for files
/// shared with HTTP upload, whose body is the same URL).
///
/// ```
/// use moxl_core::stanza::message;
/// use moxl_xep::xep_0066_oob::{with_oob, Oob};
/// let url = "https://upload.example/f/cat.jpg";
/// let m = with_oob(message("juliet@capulet.lit", "chat", Some(url)), &Oob::new(url)).build()?;
/// assert_eq!(
///     m.to_xml(),
///     "<message xmlns='jabber:client' to='juliet@capulet.lit' type='chat'><body>https://upload.example/f/cat.jpg</body>\
///      <x xmlns='jabber:x:oob'><url>https://upload.example/f/cat.jpg</url></x></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_oob(message: ElementBuilder, oob: &Oob) -> ElementBuilder {
    message.append(oob.to_x())
}

/// The `jabber:iq:oob` request asking `to` to fetch a URL (§3, Example 1); `sid` identifies the transfer.
///
/// ```
/// use moxl_xep::xep_0066_oob::{oob_request, Oob};
/// let iq = oob_request("MaineBoy@jabber.org/Home", &Oob::new("http://www.jabber.org/images/psa-license.jpg"), None).attr("id", "oob1").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='set' to='MaineBoy@jabber.org/Home' id='oob1'><query xmlns='jabber:iq:oob'>\
///      <url>http://www.jabber.org/images/psa-license.jpg</url></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn oob_request(to: &str, oob: &Oob, sid: Option<&str>) -> ElementBuilder {
    let query = ElementBuilder::new("query", NS_IQ).attr_opt("sid", sid.map(str::to_owned));
    iq_set(Some(to)).append(oob.fill(query, NS_IQ))
}

/// Delivers the URL attached to a message (`<x xmlns='jabber:x:oob'/>` directly in a `<message/>` that is not an
/// error) as an [`Oob`] under the Packet key `ooburl` (the Packet's sender is the message's `from`).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> Option<()> {
/// let mut urls = xec.subscribe("ooburl");
/// let url = urls.recv().await?.content::<moxl_xep::xep_0066_oob::Oob>()?.url.clone();
/// # Some(()) }
/// ```
#[payload(name = "x", ns = "jabber:x:oob", at = "child")]
#[derive(Debug, Default)]
pub struct OobUrl;

impl Payload for OobUrl {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        if stanza.is("message", ns::CLIENT)
            && stanza.attr("type").as_deref() != Some("error")
            && let Some(oob) = Oob::from_element(element)
        {
            ctx.pack(oob).deliver();
        }
        Ok(())
    }
}

/// A request to fetch a URL (§3), delivered by [`OobRequest`] under the Packet key `oobrequest`: answer it with
/// [`accept`] once fetched or [`reject`].
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0066_oob::UrlRequest;
/// let iq = Element::parse("<iq xmlns='jabber:client' type='set' from='stpeter@jabber.org/work' id='oob1'>\
///     <query xmlns='jabber:iq:oob'><url>http://www.jabber.org/images/psa-license.jpg</url><desc>A license to Jabber!</desc></query></iq>")?;
/// let request = UrlRequest::from_stanza(&iq).unwrap();
/// assert_eq!(request.oob.desc.as_deref(), Some("A license to Jabber!"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone)]
pub struct UrlRequest {
    /// The URL to fetch.
    pub oob: Oob,
    /// The transfer's id, if given.
    pub sid: Option<String>,
    /// The request, to answer.
    pub stanza: Element,
}

impl UrlRequest {
    /// Reads an `iq` `set` with a `jabber:iq:oob` query.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let get = Element::parse("<iq xmlns='jabber:client' type='get' id='1'><query xmlns='jabber:iq:oob'><url>u</url></query></iq>")?;
    /// assert!(moxl_xep::xep_0066_oob::UrlRequest::from_stanza(&get).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<UrlRequest> {
        if !stanza.is("iq", ns::CLIENT) || stanza.attr("type").as_deref() != Some("set") {
            return None;
        }
        let query = stanza.child("query", NS_IQ)?;
        Some(UrlRequest {
            oob: Oob::from_element(&query)?,
            sid: query.attr("sid").map(|s| s.into_owned()),
            stanza: stanza.clone(),
        })
    }
}

/// The answer to a [`UrlRequest`] once the file was fetched: an empty result (§3).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0066_oob::{accept, UrlRequest};
/// let iq = Element::parse("<iq xmlns='jabber:client' type='set' from='a@b/c' id='oob1'><query xmlns='jabber:iq:oob'><url>u</url></query></iq>")?;
/// assert_eq!(accept(&UrlRequest::from_stanza(&iq).unwrap()).build()?.to_xml(), "<iq xmlns='jabber:client' type='result' id='oob1' to='a@b/c'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn accept(request: &UrlRequest) -> ElementBuilder {
    iq_result(&request.stanza)
}

/// The answer to a [`UrlRequest`] that failed (§3): `item-not-found` when the file could not be fetched,
/// `not-acceptable` when the user refused it.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0066_oob::{reject, UrlRequest};
/// let iq = Element::parse("<iq xmlns='jabber:client' type='set' from='a@b/c' id='oob1'><query xmlns='jabber:iq:oob'><url>u</url></query></iq>")?;
/// assert!(reject(&UrlRequest::from_stanza(&iq).unwrap(), false).build()?.to_xml().contains("<not-acceptable"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn reject(request: &UrlRequest, not_found: bool) -> ElementBuilder {
    let condition = if not_found { Condition::ItemNotFound } else { Condition::NotAcceptable };
    error_reply(&request.stanza, &StanzaError::new(condition))
}

/// Delivers `jabber:iq:oob` requests (§3) as [`UrlRequest`]s under the Packet key `oobrequest`; the application
/// answers them ([`accept`], [`reject`]). The feature is not announced by moxl: an application that fetches
/// URLs declares it with `moxl_core::feature!("jabber:iq:oob")`.
///
/// ```
/// assert!(moxl_core::xec::Registry::global()?.handles("query", moxl_xep::xep_0066_oob::NS_IQ));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[payload(name = "query", ns = "jabber:iq:oob", at = "child")]
#[derive(Debug, Default)]
pub struct OobRequest;

impl Payload for OobRequest {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        match UrlRequest::from_stanza(stanza) {
            Some(request) => {
                ctx.answer_later(); // accept() or reject() by the application
                ctx.pack(request).deliver()
            }
            // a get, or a set without <url/>: RFC 6120 §8.3.3.1
            None if stanza.is("iq", ns::CLIENT) && matches!(stanza.attr("type").as_deref(), Some("get" | "set")) => {
                ctx.send(error_reply(stanza, &StanzaError::new(Condition::BadRequest)))?
            }
            None => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    #[test]
    fn the_spec_examples_parse_and_are_delivered() {
        let xec = Xec::new().unwrap();
        let (mut urls, mut requests) = (xec.subscribe("ooburl"), xec.subscribe("oobrequest"));
        // §4, Example 3
        let m = "<message xmlns='jabber:client' from='stpeter@jabber.org/work' to='MaineBoy@jabber.org/home'>\
            <body>Yeah, but do you have a license to Jabber?</body>\
            <x xmlns='jabber:x:oob'><url>http://www.jabber.org/images/psa-license.jpg</url></x></message>";
        block_on(xec.dispatch(Element::parse(m).unwrap()));
        let p = urls.try_recv().unwrap();
        assert_eq!(p.content::<Oob>(), Some(&Oob::new("http://www.jabber.org/images/psa-license.jpg")));
        // §3, Example 1
        let iq = "<iq xmlns='jabber:client' type='set' from='stpeter@jabber.org/work' to='MaineBoy@jabber.org/home' id='oob1'>\
            <query xmlns='jabber:iq:oob'><url>http://www.jabber.org/images/psa-license.jpg</url>\
            <desc>A license to Jabber!</desc></query></iq>";
        block_on(xec.dispatch(Element::parse(iq).unwrap()));
        let p = requests.try_recv().unwrap();
        let request = p.content::<UrlRequest>().unwrap();
        assert_eq!(
            request.oob,
            Oob::new("http://www.jabber.org/images/psa-license.jpg").with_desc("A license to Jabber!")
        );
        assert!(xec.take_outgoing().is_empty(), "the application answers");
        assert_eq!(accept(request).build().unwrap().attr("type").as_deref(), Some("result"));
        assert!(reject(request, true).build().unwrap().to_xml().contains("<item-not-found"));
        // a request without a URL is refused at once
        block_on(
            xec.dispatch(
                Element::parse(
                    "<iq xmlns='jabber:client' type='set' from='a@b/c' id='o2'><query xmlns='jabber:iq:oob'/></iq>",
                )
                .unwrap(),
            ),
        );
        assert!(xec.take_outgoing()[0].to_xml().contains("<bad-request"));
    }
}
