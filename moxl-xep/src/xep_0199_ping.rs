//! XEP-0199: XMPP Ping. Answers pings from others ([`PingAnswer`], §4.1 and §4.4) and pings an entity,
//! measuring the round-trip time ([`RoundTrip`], §4.2–§4.5).
//!
//! The client's own keep-alive ping of its server lives in `moxl_core::client` (group `moxl`); this module is
//! for the application.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use moxl_core::stanza::{Condition, StanzaError, error_reply, iq_get, iq_result};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{action, payload};
use serde::{Deserialize, Serialize};

/// `urn:xmpp:ping` (XEP-0199 §3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0199_ping::NS, "urn:xmpp:ping");
/// ```
pub const NS: &str = "urn:xmpp:ping";

moxl_core::feature!("urn:xmpp:ping");

/// The `<ping xmlns='urn:xmpp:ping'/>` request to `to` (§3; no `to` pings our own server, §4.2).
///
/// ```
/// // XEP-0199 §4.4, Example 10 (the id is set by Context::request)
/// let iq = moxl_xep::xep_0199_ping::ping(Some("juliet@capulet.lit/chamber")).attr("id", "e2e1").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='juliet@capulet.lit/chamber' id='e2e1'><ping xmlns='urn:xmpp:ping'/></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn ping(to: Option<&str>) -> ElementBuilder {
    iq_get(to).append(ElementBuilder::new("ping", NS))
}

/// The answer to a received stanza if it is a ping: the empty `result` (the "pong", §4.1) to an `iq` `get`,
/// `bad-request` to an `iq` `set` (RFC 6120 §8.2.3: ping is a `get`). `None` for anything else.
///
/// ```
/// use moxl_core::xml::Element;
/// // XEP-0199 §4.1, Examples 1 and 2
/// let ping = Element::parse("<iq xmlns='jabber:client' from='capulet.lit' to='juliet@capulet.lit/balcony' id='s2c1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>")?;
/// let pong = moxl_xep::xep_0199_ping::answer(&ping).unwrap().build()?;
/// assert_eq!(pong.to_xml(), "<iq xmlns='jabber:client' type='result' id='s2c1' to='capulet.lit'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn answer(stanza: &Element) -> Option<ElementBuilder> {
    if !stanza.is("iq", "jabber:client") || stanza.child("ping", NS).is_none() {
        return None;
    }
    match stanza.attr("type").as_deref() {
        Some("get") => Some(iq_result(stanza)),
        Some("set") => Some(error_reply(stanza, &StanzaError::new(Condition::BadRequest))),
        _ => None,
    }
}

/// Answers pings from our server (§4.1), other clients (§4.4) and components (§4.5) with an empty result.
/// Delivers no Packet.
///
/// It registers itself: linking `moxl-xep` is all it takes.
///
/// ```
/// use moxl_core::xec::Registry;
/// let registry = Registry::global()?;
/// assert!(registry.handles("ping", moxl_xep::xep_0199_ping::NS));
/// assert!(registry.features().any(|f| f == "urn:xmpp:ping"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[payload(name = "ping", ns = "urn:xmpp:ping", at = "child")]
#[derive(Debug, Default)]
pub struct PingAnswer;

impl Payload for PingAnswer {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        // Only the <ping/> directly inside the stanza (`at = "child"`); `answer` takes only an iq get or set.
        match answer(stanza) {
            Some(reply) => ctx.send(reply),
            None => Ok(()),
        }
    }
}

/// What a [`RoundTrip`] delivers with an error answer (the second view): how long the answer took, and the
/// error.
///
/// ```
/// use std::time::Duration;
/// use moxl_core::stanza::{Condition, StanzaError};
/// use moxl_xep::xep_0199_ping::Pong;
/// let pong = Pong { rtt: Duration::from_millis(12), error: None };
/// assert!(pong.supported() && pong.reachable());
/// let unsupported = Pong { rtt: Duration::from_millis(12), error: Some(StanzaError::new(Condition::ServiceUnavailable)) };
/// assert!(!unsupported.supported() && unsupported.reachable());
/// let refused = Pong { rtt: Duration::from_millis(12), error: Some(StanzaError::new(Condition::RemoteServerNotFound)) };
/// assert!(!refused.reachable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pong {
    /// From sending the request to handling its answer.
    pub rtt: Duration,
    /// The error, if the answer was one.
    pub error: Option<StanzaError>,
}

impl Pong {
    /// The pinged entity answered with a result: it supports ping (§3).
    pub fn supported(&self) -> bool {
        self.error.is_none()
    }

    /// The answer came from the pinged address: a result, or `service-unavailable`/`feature-not-implemented`,
    /// which an entity that does not support ping returns (§4.1–§4.5). For a full JID, `service-unavailable`
    /// may also come from the user's server, on behalf of a resource that is not connected or does not want to
    /// reveal itself (§6): it then proves that the server is reachable, not the client.
    pub fn reachable(&self) -> bool {
        match &self.error {
            None => true,
            Some(e) => matches!(e.condition(), Some(Condition::ServiceUnavailable | Condition::FeatureNotImplemented)),
        }
    }
}

/// Pings `to` (a server, a full JID, a component; XEP-0199 §4.2–§4.5). Output: the round-trip time (a
/// [`Duration`]); an error answer is `Err(Error::Stanza(..))` (`service-unavailable` or
/// `feature-not-implemented`: reachable, but no ping support, or no such resource, §4, §6), no answer
/// `Err(Error::Timeout(..))`. The Packets are the second view:
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `ping_roundtrip_handle` | the round-trip time, a [`Duration`] |
/// | `service-unavailable` (no ping support, or no such resource: §4, §6) | `ping_roundtrip_errorserviceunavailable` | [`Pong`] |
/// | `feature-not-implemented` | `ping_roundtrip_errorfeaturenotimplemented` | [`Pong`] |
/// | any other error | `ping_roundtrip_error` | [`Pong`] |
/// | none before the timeout | `ping_roundtrip_timeout` | the pinged address |
///
/// The send time is part of the Action's saved state, so a reply handled after a restart still gets its
/// round-trip time. Make it right before requesting it.
///
/// ```
/// use moxl_xep::xep_0199_ping::RoundTrip;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let rtt: std::time::Duration = xec.context().request(RoundTrip::new("capulet.lit"))?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundTrip {
    to: String,
    /// Milliseconds since the UNIX epoch when the Action was made.
    sent_ms: u64,
}

impl RoundTrip {
    /// A ping of `to`, timed from now.
    ///
    /// ```
    /// let ping = moxl_xep::xep_0199_ping::RoundTrip::new("capulet.lit");
    /// assert_eq!(ping.to(), "capulet.lit");
    /// ```
    pub fn new(to: impl Into<String>) -> Self {
        RoundTrip { to: to.into(), sent_ms: now_ms() }
    }

    /// The pinged address.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0199_ping::RoundTrip::new("a@b/c").to(), "a@b/c");
    /// ```
    pub fn to(&self) -> &str {
        &self.to
    }

    fn pong(&self, error: Option<&StanzaError>) -> Pong {
        Pong { rtt: Duration::from_millis(now_ms().saturating_sub(self.sent_ms)), error: error.cloned() }
    }
}

#[action(group = "ping")]
impl RoundTrip {
    /// The round-trip time.
    type Output = Duration;

    fn request(&self) -> ElementBuilder {
        ping(Some(&self.to))
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> moxl_core::Result<Duration> {
        Ok(self.pong(None).rtt)
    }

    async fn error_service_unavailable(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(self.pong(Some(error))).deliver();
    }

    async fn error_feature_not_implemented(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(self.pong(Some(error))).deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(self.pong(Some(error))).deliver();
    }

    async fn timeout(&mut self, ctx: &Context) {
        ctx.pack(self.to.clone()).deliver();
    }
}

/// Milliseconds since the UNIX epoch (0 if the clock is before it).
fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    #[test]
    fn an_awaited_round_trip_is_its_time_or_the_stanza_error() {
        let xec = Xec::new().unwrap();
        let out = xec.context().request(RoundTrip::new("capulet.lit")).unwrap();
        // §4.2 Example 5: the pong
        let pong =
            crate::test_util::answer_last(&xec, "<iq xmlns='jabber:client' from='capulet.lit' id='ID' type='result'/>");
        block_on(xec.dispatch(pong));
        assert!(block_on(out).unwrap() < Duration::from_secs(60));
        // §4.2 Example 6: no ping support
        let out = xec.context().request(RoundTrip::new("capulet.lit")).unwrap();
        let error = crate::test_util::answer_last(
            &xec,
            "<iq xmlns='jabber:client' from='capulet.lit' id='ID' type='error'><ping xmlns='urn:xmpp:ping'/>\
             <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        );
        block_on(xec.dispatch(error));
        match block_on(out) {
            Err(moxl_core::Error::Stanza(e)) => assert_eq!(e.condition(), Some(Condition::ServiceUnavailable)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_nested_ping_is_not_answered() {
        let xec = Xec::new().unwrap();
        let nested = "<iq xmlns='jabber:client' from='romeo@montague.lit/home' type='get' id='n1'>\
            <query xmlns='urn:x'><ping xmlns='urn:xmpp:ping'/></query></iq>";
        block_on(xec.dispatch(Element::parse(nested).unwrap()));
        // not answered as a ping: only the dispatcher's service-unavailable (RFC 6120 §8.2.3)
        let out = xec.take_outgoing();
        assert_eq!(out.len(), 1);
        assert!(out[0].to_xml().contains("<service-unavailable"));
    }

    #[test]
    fn answers_the_spec_pings_with_a_pong() {
        // §4.1 Example 1 → Example 2; §4.4 Example 10 → Example 11
        for (ping, pong) in [
            (
                "<iq xmlns='jabber:client' from='capulet.lit' to='juliet@capulet.lit/balcony' id='s2c1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>",
                "<iq xmlns='jabber:client' type='result' id='s2c1' to='capulet.lit'/>",
            ),
            (
                "<iq xmlns='jabber:client' from='romeo@montague.lit/home' to='juliet@capulet.lit/chamber' type='get' id='e2e1'><ping xmlns='urn:xmpp:ping'/></iq>",
                "<iq xmlns='jabber:client' type='result' id='e2e1' to='romeo@montague.lit/home'/>",
            ),
        ] {
            let ping = Element::parse(ping).unwrap();
            assert_eq!(answer(&ping).unwrap().build().unwrap().to_xml(), pong);
        }
    }

    #[test]
    fn a_set_is_refused_and_other_stanzas_are_not_answered() {
        let set = Element::parse(
            "<iq xmlns='jabber:client' from='a@b/c' id='x' type='set'><ping xmlns='urn:xmpp:ping'/></iq>",
        )
        .unwrap();
        assert!(answer(&set).unwrap().build().unwrap().to_xml().contains("<bad-request"));
        for other in [
            // §4.2 Example 6: an error reply is never answered
            "<iq xmlns='jabber:client' from='capulet.lit' to='juliet@capulet.lit/balcony' id='c2s1' type='error'><ping xmlns='urn:xmpp:ping'/><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            "<message xmlns='jabber:client' from='a@b/c'><ping xmlns='urn:xmpp:ping'/></message>",
            "<iq xmlns='jabber:client' from='a@b/c' id='y' type='get'><query xmlns='urn:x'/></iq>",
        ] {
            assert!(answer(&Element::parse(other).unwrap()).is_none(), "{other}");
        }
    }

    #[test]
    fn the_request_is_the_spec_ping() {
        // §4.2 Example 4 (the from is added by the server)
        let iq = ping(Some("capulet.lit")).attr("id", "c2s1").build().unwrap();
        let parsed = Element::parse(
            "<iq xmlns='jabber:client' to='capulet.lit' id='c2s1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>",
        )
        .unwrap();
        assert_eq!(iq.attr("to"), parsed.attr("to"));
        assert_eq!(iq.attr("type"), parsed.attr("type"));
        assert!(iq.child("ping", NS).is_some());
    }

    #[test]
    fn the_round_trip_time_is_measured_from_the_saved_send_time_and_errors_tell_reachability() {
        let revived = RoundTrip { to: "capulet.lit".into(), sent_ms: now_ms() - 1500 };
        let pong = revived.pong(None);
        assert!(pong.rtt >= Duration::from_millis(1500) && pong.rtt < Duration::from_secs(60), "{:?}", pong.rtt);
        // §4.2 Example 6
        let reply = Element::parse("<iq xmlns='jabber:client' from='capulet.lit' to='juliet@capulet.lit/balcony' id='c2s1' type='error'><ping xmlns='urn:xmpp:ping'/><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>").unwrap();
        let error = StanzaError::from_stanza(&reply).unwrap();
        let pong = revived.pong(Some(&error));
        assert!(pong.reachable() && !pong.supported());
    }
}
