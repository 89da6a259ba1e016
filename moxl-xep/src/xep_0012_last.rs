//! XEP-0012: Last Activity. Asks an entity ([`Query`]): a bare JID answers how long ago the user logged out
//! (§3, by the server on the user's behalf), a full JID how long its user has been idle (§4), a server or
//! component its uptime (§5). Answers queries to our own full JID with the idle time the application reports
//! through an [`IdleTime`] extension, or `service-unavailable` when it reports none (§4, §8).

use std::fmt;
use std::sync::Arc;

use moxl_core::stanza::{Condition, StanzaError, error_reply, iq_get, iq_result};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{action, payload};
use serde::{Deserialize, Serialize};

/// `jabber:iq:last` (XEP-0012 §2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0012_last::NS, "jabber:iq:last");
/// ```
pub const NS: &str = "jabber:iq:last";

moxl_core::feature!("jabber:iq:last");

/// The `<query xmlns='jabber:iq:last'/>` of a result: seconds since logout (bare JID, §3), of idle time (full
/// JID, §4) or of uptime (server or component, §5), and the status text of the last unavailable presence (§3).
/// What the seconds mean depends on the address asked (§7, Implementation Notes).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0012_last::LastActivity;
/// // XEP-0012 §3, Example 3
/// let reply = Element::parse(
///     "<iq xmlns='jabber:client' from='juliet@capulet.com' to='romeo@montague.net/orchard' type='result' id='last1'>\
///      <query xmlns='jabber:iq:last' seconds='903'>Heading Home</query></iq>",
/// )?;
/// let last = LastActivity::from_stanza(&reply).unwrap();
/// assert_eq!((last.seconds, last.status.as_deref()), (Some(903), Some("Heading Home")));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LastActivity {
    /// The `seconds` attribute (REQUIRED by §2 but optional in the schema, §11; `None` also when it is not a number).
    pub seconds: Option<u64>,
    /// The status text, if the query has non-empty character data.
    pub status: Option<String>,
}

impl LastActivity {
    /// Seconds, and no status.
    ///
    /// ```
    /// let last = moxl_xep::xep_0012_last::LastActivity::new(123);
    /// assert_eq!((last.seconds, last.status), (Some(123), None));
    /// ```
    pub fn new(seconds: u64) -> Self {
        LastActivity { seconds: Some(seconds), status: None }
    }

    /// Reads the `<query/>` of a result stanza; `None` if it has none.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0012_last::LastActivity;
    /// // XEP-0012 §5, Example 6
    /// let reply = Element::parse("<iq xmlns='jabber:client' from='capulet.com' to='romeo@montague.net/orchard' type='result' id='last3'><query xmlns='jabber:iq:last' seconds='123456'/></iq>")?;
    /// assert_eq!(LastActivity::from_stanza(&reply), Some(LastActivity::new(123456)));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<LastActivity> {
        let query = stanza.child("query", NS)?;
        let status = query.text();
        Some(LastActivity {
            seconds: query.attr("seconds").and_then(|s| s.trim().parse().ok()),
            status: (!status.trim().is_empty()).then(|| status.into_owned()),
        })
    }

    /// The `<query/>` with `seconds` and the status text, if any.
    ///
    /// ```
    /// let q = moxl_xep::xep_0012_last::LastActivity::new(123).to_query().build()?;
    /// assert_eq!(q.to_xml(), "<query xmlns='jabber:iq:last' seconds='123'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_query(&self) -> ElementBuilder {
        let query = ElementBuilder::new("query", NS).attr_opt("seconds", self.seconds.map(|s| s.to_string()));
        match &self.status {
            Some(status) => query.text(status.clone()),
            None => query,
        }
    }
}

/// The last-activity query to `to` (§3–§5).
///
/// ```
/// // XEP-0012 §4, Example 4
/// let iq = moxl_xep::xep_0012_last::query(Some("juliet@capulet.com/balcony")).attr("id", "last2").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='juliet@capulet.com/balcony' id='last2'><query xmlns='jabber:iq:last'/></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn query(to: Option<&str>) -> ElementBuilder {
    iq_get(to).append(ElementBuilder::new("query", NS))
}

/// How long the user has been idle, in seconds, as the application reports it for each requester (the sender's
/// JID is given, so that the application can answer only those allowed to see the user's presence, §8). Give it
/// with `Xec::builder().extension(IdleTime::new(…))`. Without it, or when it returns `None`, queries to our full
/// JID are answered `service-unavailable`, as a client that does not wish to divulge the information does
/// (§4); §8 requires a way for the user to turn the answers off: return `None`.
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_xep::xep_0012_last::IdleTime;
/// let since = std::time::Instant::now();
/// let idle = IdleTime::new(move |_requester| Some(since.elapsed().as_secs()));
/// assert_eq!(idle.seconds("romeo@montague.net/orchard"), Some(0));
/// let xec = Xec::builder().extension(idle).build()?;
/// # let _ = xec;
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Clone)]
pub struct IdleTime(Arc<Report>);

/// The application's report: idle seconds for a requester's JID.
type Report = dyn Fn(&str) -> Option<u64> + Send + Sync;

impl IdleTime {
    /// Reports the idle time with this function of the requester's JID.
    ///
    /// ```
    /// let idle = moxl_xep::xep_0012_last::IdleTime::new(|requester| requester.starts_with("romeo@").then_some(120));
    /// assert_eq!(idle.seconds("tybalt@capulet.com/sword"), None);
    /// ```
    pub fn new(report: impl Fn(&str) -> Option<u64> + Send + Sync + 'static) -> Self {
        IdleTime(Arc::new(report))
    }

    /// The idle seconds to tell `requester`, if any.
    ///
    /// ```
    /// let idle = moxl_xep::xep_0012_last::IdleTime::new(|_| Some(123));
    /// assert_eq!(idle.seconds("romeo@montague.net/orchard"), Some(123));
    /// ```
    pub fn seconds(&self, requester: &str) -> Option<u64> {
        (self.0)(requester)
    }
}

impl fmt::Debug for IdleTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdleTime(..)")
    }
}

/// The answer to a received stanza if it is a last-activity query: to an `iq` `get` addressed to a full JID,
/// a result with `idle` seconds (§4), or `service-unavailable` when `idle` is `None` or the query is not for a
/// full JID (a client answers only for its own resource; its server answers for the bare JID, §3);
/// `bad-request` to an `iq` `set`; `None` for anything else.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0012_last::answer;
/// // XEP-0012 §4, Example 4
/// let get = Element::parse("<iq xmlns='jabber:client' from='romeo@montague.net/orchard' to='juliet@capulet.com/balcony' type='get' id='last2'><query xmlns='jabber:iq:last'/></iq>")?;
/// let reply = answer(&get, Some(123)).unwrap().build()?;
/// assert_eq!(
///     reply.to_xml(),
///     "<iq xmlns='jabber:client' type='result' id='last2' to='romeo@montague.net/orchard'><query xmlns='jabber:iq:last' seconds='123'/></iq>"
/// );
/// assert!(answer(&get, None).unwrap().build()?.to_xml().contains("<service-unavailable"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn answer(stanza: &Element, idle: Option<u64>) -> Option<ElementBuilder> {
    if !stanza.is("iq", "jabber:client") || stanza.child("query", NS).is_none() {
        return None;
    }
    let to_full_jid = stanza.attr("to").is_some_and(|to| to.contains('/'));
    match (stanza.attr("type").as_deref(), idle) {
        (Some("get"), Some(seconds)) if to_full_jid => {
            Some(iq_result(stanza).append(LastActivity::new(seconds).to_query()))
        }
        (Some("get"), _) => Some(error_reply(stanza, &StanzaError::new(Condition::ServiceUnavailable))),
        (Some("set"), _) => Some(error_reply(stanza, &StanzaError::new(Condition::BadRequest))),
        _ => None,
    }
}

/// Answers last-activity queries to our full JID (§4) with the [`IdleTime`] extension's report for the sender,
/// or `service-unavailable`. Delivers no Packet.
///
/// ```
/// let registry = moxl_core::xec::Registry::global()?;
/// assert!(registry.handles("query", moxl_xep::xep_0012_last::NS));
/// assert!(registry.features().any(|f| f == "jabber:iq:last"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[payload(name = "query", ns = "jabber:iq:last", at = "child")]
#[derive(Debug, Default)]
pub struct LastAnswer;

impl Payload for LastAnswer {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        let from = stanza.attr("from").map(|f| f.into_owned()).unwrap_or_default();
        let idle = ctx.get::<IdleTime>().and_then(|idle| idle.seconds(&from));
        match answer(stanza, idle) {
            Some(reply) => ctx.send(reply),
            None => Ok(()),
        }
    }
}

/// Asks `to` for its last activity (§3–§5). Output: the [`LastActivity`]; an error is `Err(Error::Stanza(..))`:
/// `forbidden` from a server when we may not see the user's presence (§3), `service-unavailable` from a client
/// that does not answer (§4) or for an address nobody answers for. The second view: `last_query_handle` with
/// the [`LastActivity`], errors under `last_query_error<condition>` with the `StanzaError`.
///
/// ```
/// use moxl_xep::xep_0012_last::Query;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let last = xec.context().request(Query { to: "juliet@capulet.com".into() })?.await?;
/// let idle_seconds = last.seconds;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Query {
    /// The entity asked: a bare JID, a full JID, or a server or component.
    pub to: String,
}

#[action(group = "last")]
impl Query {
    /// The last activity (or uptime, of a server).
    type Output = LastActivity;

    fn request(&self) -> ElementBuilder {
        query(Some(&self.to))
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<LastActivity> {
        Ok(LastActivity::from_stanza(stanza).unwrap_or(LastActivity { seconds: None, status: None }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    #[test]
    fn an_awaited_query_is_the_last_activity() {
        // §3 Example 3
        let xec = Xec::new().unwrap();
        let out = xec.context().request(Query { to: "juliet@capulet.com".into() }).unwrap();
        let reply = crate::test_util::answer_last(
            &xec,
            "<iq xmlns='jabber:client' from='juliet@capulet.com' type='result' id='ID'>\
             <query xmlns='jabber:iq:last' seconds='903'>Heading Home</query></iq>",
        );
        block_on(xec.dispatch(reply));
        assert_eq!(block_on(out).unwrap(), LastActivity { seconds: Some(903), status: Some("Heading Home".into()) });
    }

    #[test]
    fn parses_and_builds_the_spec_examples() {
        // §3 Example 3, §4 Example 4, §5 Example 6
        for (xml, expected) in [
            (
                "<iq xmlns='jabber:client' from='juliet@capulet.com' to='romeo@montague.net/orchard' type='result' id='last1'><query xmlns='jabber:iq:last' seconds='903'>Heading Home</query></iq>",
                LastActivity { seconds: Some(903), status: Some("Heading Home".into()) },
            ),
            (
                "<iq xmlns='jabber:client' from='juliet@capulet.com/balcony' to='romeo@montague.net/orchard' type='result' id='last2'><query xmlns='jabber:iq:last' seconds='123'/></iq>",
                LastActivity::new(123),
            ),
            (
                "<iq xmlns='jabber:client' from='capulet.com' to='romeo@montague.net/orchard' type='result' id='last3'><query xmlns='jabber:iq:last' seconds='123456'/></iq>",
                LastActivity::new(123456),
            ),
        ] {
            let stanza = Element::parse(xml).unwrap();
            let parsed = LastActivity::from_stanza(&stanza).unwrap();
            assert_eq!(parsed, expected);
            let query = stanza.child("query", NS).unwrap();
            assert_eq!(parsed.to_query().build().unwrap().to_xml(), query.to_xml());
        }
    }

    #[test]
    fn answers_only_for_a_full_jid_with_a_reported_idle_time() {
        // §4 Example 4: the query and its result
        let get = Element::parse("<iq xmlns='jabber:client' from='romeo@montague.net/orchard' to='juliet@capulet.com/balcony' type='get' id='last2'><query xmlns='jabber:iq:last'/></iq>").unwrap();
        let result = answer(&get, Some(123)).unwrap().build().unwrap();
        assert_eq!(result.attr("type").as_deref(), Some("result"));
        assert_eq!(LastActivity::from_stanza(&result), Some(LastActivity::new(123)));
        // §4 Example 5: a client that does not wish to divulge it
        let refused = answer(&get, None).unwrap().build().unwrap();
        assert_eq!(StanzaError::from_stanza(&refused).unwrap().condition(), Some(Condition::ServiceUnavailable));
        // §3: a bare JID is the server's to answer
        let bare = Element::parse("<iq xmlns='jabber:client' from='romeo@montague.net/orchard' to='juliet@capulet.com' type='get' id='last1'><query xmlns='jabber:iq:last'/></iq>").unwrap();
        let refused = answer(&bare, Some(5)).unwrap().build().unwrap();
        assert_eq!(StanzaError::from_stanza(&refused).unwrap().condition(), Some(Condition::ServiceUnavailable));
        let message =
            Element::parse("<message xmlns='jabber:client'><query xmlns='jabber:iq:last'/></message>").unwrap();
        assert!(answer(&message, Some(5)).is_none());
    }

    #[test]
    fn odd_values_are_read_leniently() {
        let stanza = Element::parse("<iq xmlns='jabber:client' type='result' id='x'><query xmlns='jabber:iq:last' seconds='soon'>  </query></iq>").unwrap();
        assert_eq!(LastActivity::from_stanza(&stanza), Some(LastActivity { seconds: None, status: None }));
    }
}
