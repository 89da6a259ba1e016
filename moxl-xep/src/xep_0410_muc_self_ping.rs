//! XEP-0410: MUC Self-Ping (Schrödinger's Chat). Pings our own occupant JID to learn whether we are still in a
//! room ([`SelfPing`], §3.2), and reads the answer as a [`Verdict`]: joined, not joined (rejoin), or can't tell
//! (try again later).

use moxl_core::action;
use moxl_core::stanza::{Condition, StanzaError};
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

use crate::xep_0199_ping::ping;

/// The service answers self-pings itself, without asking our client (§3.3); advertised on a room's disco#info.
///
/// ```
/// assert_eq!(moxl_xep::xep_0410_muc_self_ping::FEATURE_OPTIMIZATION, "http://jabber.org/protocol/muc#self-ping-optimization");
/// ```
pub const FEATURE_OPTIMIZATION: &str = "http://jabber.org/protocol/muc#self-ping-optimization";

/// What a self-ping says (§3.2).
///
/// ```
/// use moxl_core::stanza::{Condition, StanzaError};
/// use moxl_xep::xep_0410_muc_self_ping::Verdict;
/// assert_eq!(Verdict::of(None), Verdict::Joined);
/// assert_eq!(Verdict::of(Some(&StanzaError::new(Condition::NotAcceptable))), Verdict::NotJoined);
/// assert_eq!(Verdict::of(Some(&StanzaError::new(Condition::RemoteServerTimeout))), Verdict::CantTell);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Verdict {
    /// Still joined: a result, or an error from our own client relayed by the room (`service-unavailable`,
    /// `feature-not-implemented`), or `item-not-found` (joined, but our nick just changed, e.g. by another
    /// client of ours).
    Joined,
    /// Not joined (`not-acceptable`, or any other error): join again.
    NotJoined,
    /// No answer (the table's "timeout" row), or the room's service could not be reached
    /// (`remote-server-not-found`, `remote-server-timeout`: our server answered, not the room, so the error says
    /// nothing about our presence there; version 1.0.1 of the table would count them as "any other error"):
    /// try again later.
    CantTell,
}

impl Verdict {
    /// The verdict for a reply: `None` for a result, else the error (§3.2).
    ///
    /// ```
    /// use moxl_core::stanza::{Condition, StanzaError};
    /// use moxl_xep::xep_0410_muc_self_ping::Verdict;
    /// assert_eq!(Verdict::of(Some(&StanzaError::new(Condition::ItemNotFound))), Verdict::Joined);
    /// ```
    pub fn of(error: Option<&StanzaError>) -> Verdict {
        let Some(error) = error else { return Verdict::Joined };
        match error.condition() {
            Some(Condition::ServiceUnavailable | Condition::FeatureNotImplemented | Condition::ItemNotFound) => {
                Verdict::Joined
            }
            Some(Condition::RemoteServerNotFound | Condition::RemoteServerTimeout) => Verdict::CantTell,
            _ => Verdict::NotJoined,
        }
    }

    /// The verdict for an awaited [`SelfPing`]: its `Output` as it is; a stanza error read by
    /// [`of`](Self::of); no answer (timeout) or no session: [`CantTell`](Self::CantTell).
    ///
    /// ```
    /// use moxl_core::stanza::{Condition, StanzaError};
    /// use moxl_core::Error;
    /// use moxl_xep::xep_0410_muc_self_ping::Verdict;
    /// assert_eq!(Verdict::of_outcome(&Ok(Verdict::Joined)), Verdict::Joined);
    /// assert_eq!(Verdict::of_outcome(&Err(StanzaError::new(Condition::NotAcceptable).into())), Verdict::NotJoined);
    /// assert_eq!(Verdict::of_outcome(&Err(Error::Timeout("no answer".into()))), Verdict::CantTell);
    /// ```
    pub fn of_outcome(outcome: &moxl_core::Result<Verdict>) -> Verdict {
        match outcome {
            Ok(verdict) => *verdict,
            Err(moxl_core::Error::Stanza(error)) => Verdict::of(Some(error)),
            Err(_) => Verdict::CantTell,
        }
    }
}

/// Pings our own occupant JID `room@service/nick` (§3.2). Output: [`Verdict::Joined`] for a result; an error
/// reply is `Err(Error::Stanza(..))` and no answer `Err(Error::Timeout(..))`: [`Verdict::of_outcome`] reads any
/// outcome as the verdict. The Packets (the second view) carry the verdict itself:
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `muc_selfping_handle` | [`Verdict::Joined`] |
/// | an error | `muc_selfping_error` | [`Verdict`] (by condition, §3.2) |
/// | none before the timeout | `muc_selfping_timeout` | [`Verdict::CantTell`] |
///
/// Do not send one while a nick change is pending (§4).
///
/// ```
/// use moxl_xep::xep_0410_muc_self_ping::SelfPing;
/// use moxl_xep::xep_0410_muc_self_ping::Verdict;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let outcome = xec.context().request(SelfPing::new("coven@chat.shakespeare.lit/thirdwitch"))?.await;
/// if Verdict::of_outcome(&outcome) == Verdict::NotJoined {
///     // join again
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelfPing {
    occupant: String,
}

impl SelfPing {
    /// A self-ping of our occupant JID.
    ///
    /// ```
    /// let p = moxl_xep::xep_0410_muc_self_ping::SelfPing::new("coven@chat.shakespeare.lit/thirdwitch");
    /// assert_eq!(p.occupant(), "coven@chat.shakespeare.lit/thirdwitch");
    /// ```
    pub fn new(occupant: impl Into<String>) -> SelfPing {
        SelfPing { occupant: occupant.into() }
    }

    /// The pinged occupant JID.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0410_muc_self_ping::SelfPing::new("a@b/c").occupant(), "a@b/c");
    /// ```
    pub fn occupant(&self) -> &str {
        &self.occupant
    }
}

#[action(group = "muc")]
impl SelfPing {
    /// [`Verdict::Joined`]: the room answered (errors and timeouts: see [`Verdict::of_outcome`]).
    type Output = Verdict;

    fn request(&self) -> ElementBuilder {
        ping(Some(&self.occupant))
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> moxl_core::Result<Verdict> {
        Ok(Verdict::Joined)
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(Verdict::of(Some(error))).deliver();
    }

    async fn timeout(&mut self, ctx: &Context) {
        ctx.pack(Verdict::CantTell).deliver();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    fn reply(xec: &Xec, id: &str, error: Option<&str>) -> Option<(String, Verdict)> {
        let xml = match error {
            None => format!(
                "<iq xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' id='{id}' type='result'/>"
            ),
            Some(condition) => format!(
                "<iq xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' id='{id}' type='error'>\
                 <error type='cancel'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
            ),
        };
        let mut all = xec.packets();
        block_on(xec.dispatch(Element::parse(&xml).unwrap()));
        let p = all.try_recv()?;
        Some((p.key().to_owned(), *p.content::<Verdict>()?))
    }

    #[test]
    fn the_answers_give_the_verdicts_of_the_table() {
        let xec = Xec::new().unwrap();
        for (error, key, verdict) in [
            (None, "muc_selfping_handle", Verdict::Joined),
            (Some("service-unavailable"), "muc_selfping_error", Verdict::Joined),
            (Some("feature-not-implemented"), "muc_selfping_error", Verdict::Joined),
            (Some("item-not-found"), "muc_selfping_error", Verdict::Joined),
            (Some("remote-server-not-found"), "muc_selfping_error", Verdict::CantTell),
            (Some("remote-server-timeout"), "muc_selfping_error", Verdict::CantTell),
            (Some("not-acceptable"), "muc_selfping_error", Verdict::NotJoined),
            (Some("forbidden"), "muc_selfping_error", Verdict::NotJoined),
        ] {
            let id =
                xec.context().request(SelfPing::new("coven@chat.shakespeare.lit/thirdwitch")).unwrap().id().to_owned();
            let sent = xec.take_outgoing();
            assert_eq!(
                sent[0].to_xml(),
                format!(
                    "<iq xmlns='jabber:client' type='get' to='coven@chat.shakespeare.lit/thirdwitch' id='{id}'><ping xmlns='urn:xmpp:ping'/></iq>"
                )
            );
            assert_eq!(reply(&xec, &id, error), Some((key.to_owned(), verdict)), "{error:?}");
        }
    }

    #[test]
    fn awaited_self_pings_read_as_verdicts() {
        let xec = Xec::new().unwrap();
        for (error, verdict) in [
            (None, Verdict::Joined),
            (Some("not-acceptable"), Verdict::NotJoined),
            (Some("item-not-found"), Verdict::Joined),
        ] {
            let out = xec.context().request(SelfPing::new("coven@chat.shakespeare.lit/thirdwitch")).unwrap();
            let id = out.id().to_owned();
            xec.take_outgoing();
            reply(&xec, &id, error);
            let outcome = block_on(out);
            assert_eq!(outcome.is_ok(), error.is_none(), "{error:?}");
            assert_eq!(Verdict::of_outcome(&outcome), verdict, "{error:?}");
        }
    }

    #[test]
    fn no_answer_cannot_tell() {
        let xec = Xec::builder().timeout(std::time::Duration::ZERO).build().unwrap();
        let mut timeouts = xec.subscribe("muc_selfping_timeout");
        xec.context().request(SelfPing::new("coven@chat.shakespeare.lit/thirdwitch")).unwrap();
        let deadline = xec.next_deadline().unwrap();
        block_on(xec.expire(deadline));
        assert_eq!(timeouts.try_recv().unwrap().content::<Verdict>(), Some(&Verdict::CantTell));
    }
}
