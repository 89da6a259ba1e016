//! [`StreamManagement`]: the counters and the unacknowledged queue of XEP-0198, sans I/O.
//!
//! Once enabled (§3), both sides count the stanzas (`<message/>`, `<presence/>`, `<iq/>`) they handle; `h` wraps
//! at 2³² (§4). We answer every `<r/>` with `<a h='inbound'/>`, ask with `<r/>` after sending (one request
//! outstanding at a time), and keep every sent stanza until an `<a/>` covers it. After a resumption (§5) the
//! server's `h` acknowledges what it got, and what remains is sent again.

use std::collections::VecDeque;

use crate::xml::{ns, Element};

/// The stream management namespace, version 3 (XEP-0198 §2).
pub const SM3: &str = "urn:xmpp:sm:3";

/// What the server said when stream management was enabled (XEP-0198 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmEnabled {
    /// The id to resume with; `None` if the server does not allow resumption.
    pub id: Option<String>,
    /// Where to reconnect to resume, if the server said.
    pub location: Option<String>,
    /// The longest time (seconds) the server keeps the session for resumption, if it said.
    pub max: Option<u32>,
}

impl SmEnabled {
    /// Reads `<enabled/>`.
    ///
    /// ```
    /// use moxl_core::stream::SmEnabled;
    /// let e = moxl_core::xml::Element::parse("<enabled xmlns='urn:xmpp:sm:3' id='some-long-sm-id' resume='true' max='600'/>")?;
    /// let enabled = SmEnabled::from_element(&e).unwrap();
    /// assert_eq!((enabled.id.as_deref(), enabled.max), (Some("some-long-sm-id"), Some(600)));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(e: &Element) -> Option<SmEnabled> {
        if !e.is("enabled", SM3) {
            return None;
        }
        let resume = matches!(e.attr("resume").as_deref(), Some("true" | "1"));
        Some(SmEnabled {
            id: e.attr("id").filter(|_| resume).map(|s| s.into_owned()),
            location: e.attr("location").map(|s| s.into_owned()),
            max: e.attr("max").and_then(|m| m.parse().ok()),
        })
    }
}

/// The `h` attribute of `<a/>`, `<resumed/>` or `<failed/>`, if present and valid.
pub fn h_of(e: &Element) -> Option<u32> {
    e.attr("h").and_then(|h| h.trim().parse().ok())
}

/// Is this a stanza in the sense of XEP-0198 (counted), rather than a nonza?
pub fn is_counted(e: &Element) -> bool {
    e.ns() == ns::CLIENT && matches!(e.name(), "message" | "presence" | "iq")
}

/// The state of stream management on one session (possibly across connections).
///
/// ```
/// use moxl_core::stream::StreamManagement;
/// use moxl_core::xml::Element;
/// let mut sm = StreamManagement::new();
/// let m = Element::parse("<message xmlns='jabber:client' to='romeo@montague.lit'><body>hi</body></message>")?;
/// sm.sent(m.clone());
/// sm.sent(m);
/// assert_eq!(sm.unacked().count(), 2);
/// sm.acked(1).unwrap();
/// assert_eq!(sm.unacked().count(), 1);
/// sm.received();
/// assert_eq!(sm.answer(), "<a xmlns='urn:xmpp:sm:3' h='1'/>");
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct StreamManagement {
    inbound: u32,
    sent: u32,
    acked: u32,
    unacked: VecDeque<(u32, Element)>,
    requested: bool,
}

/// The server acknowledged more stanzas than we sent (XEP-0198 §4: the stream must be closed with
/// `undefined-condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server acknowledged {h} stanzas but only {sent} were sent")]
pub struct AckError {
    /// The `h` the server sent.
    pub h: u32,
    /// How many we sent.
    pub sent: u32,
}

impl StreamManagement {
    /// Counters at zero (stream management just enabled).
    pub fn new() -> Self {
        Self::default()
    }

    /// Restores the state of an earlier run: `inbound` stanzas handled, `sent` stanzas sent, and those not known
    /// to be acknowledged with their sequence numbers (the `h` that acknowledges each), oldest first.
    pub fn restore(inbound: u32, sent: u32, unacked: impl IntoIterator<Item = (u32, Element)>) -> Self {
        let unacked: VecDeque<_> = unacked.into_iter().collect();
        let sent = unacked.back().map_or(sent, |(seq, _)| *seq);
        let acked = unacked.front().map_or(sent, |(seq, _)| seq.wrapping_sub(1));
        StreamManagement { inbound, sent, acked, unacked, requested: false }
    }

    /// Stanzas received and handled: the `h` we report.
    pub fn inbound(&self) -> u32 {
        self.inbound
    }

    /// Stanzas sent.
    pub fn sent_count(&self) -> u32 {
        self.sent
    }

    /// Counts one stanza handled.
    pub fn received(&mut self) {
        self.inbound = self.inbound.wrapping_add(1);
    }

    /// Records a stanza as sent; returns its sequence number (the `h` that will acknowledge it).
    pub fn sent(&mut self, stanza: Element) -> u32 {
        self.sent = self.sent.wrapping_add(1);
        self.unacked.push_back((self.sent, stanza));
        self.sent
    }

    /// Handles the server's `h` (from `<a/>`, `<resumed/>` or `<failed/>`): forgets what it acknowledges.
    /// Returns how many stanzas this newly acknowledged.
    pub fn acked(&mut self, h: u32) -> Result<usize, AckError> {
        self.requested = false;
        // Modular arithmetic: h may not run ahead of what we sent.
        let ahead = h.wrapping_sub(self.acked);
        let outstanding = self.sent.wrapping_sub(self.acked);
        if ahead > outstanding {
            return Err(AckError { h, sent: self.sent });
        }
        let mut n = 0;
        while self.unacked.front().is_some_and(|(seq, _)| seq.wrapping_sub(self.acked) <= ahead) {
            self.unacked.pop_front();
            n += 1;
        }
        self.acked = h;
        Ok(n)
    }

    /// The stanzas sent and not yet acknowledged, oldest first, with their sequence numbers.
    pub fn unacked(&self) -> impl Iterator<Item = &(u32, Element)> {
        self.unacked.iter()
    }

    /// Takes the unacknowledged stanzas to send them again (after a resumption); their sequence numbers are
    /// given again as they are re-sent.
    pub fn take_unacked(&mut self) -> Vec<Element> {
        self.sent = self.acked;
        self.unacked.drain(..).map(|(_, e)| e).collect()
    }

    /// `<a h='…'/>`, the answer to `<r/>`.
    pub fn answer(&self) -> String {
        format!("<a xmlns='{SM3}' h='{}'/>", self.inbound)
    }

    /// `<r/>` if stanzas await an acknowledgement and none was asked for since the last `<a/>`.
    pub fn request(&mut self) -> Option<&'static str> {
        if self.requested || self.unacked.is_empty() {
            return None;
        }
        self.requested = true;
        Some("<r xmlns='urn:xmpp:sm:3'/>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(n: u32) -> Element {
        Element::parse(&format!("<message xmlns='jabber:client' id='m{n}'/>")).unwrap()
    }

    #[test]
    fn acks_drop_what_they_cover_and_refuse_to_run_ahead() {
        let mut sm = StreamManagement::new();
        for n in 1..=3 {
            assert_eq!(sm.sent(msg(n)), n);
        }
        assert_eq!(sm.request(), Some("<r xmlns='urn:xmpp:sm:3'/>"));
        assert_eq!(sm.request(), None, "one request outstanding");
        assert_eq!(sm.acked(2), Ok(2));
        assert_eq!(sm.unacked().map(|(s, _)| *s).collect::<Vec<_>>(), [3]);
        assert_eq!(sm.acked(2), Ok(0), "a repeated h changes nothing");
        assert_eq!(sm.acked(9), Err(AckError { h: 9, sent: 3 }));
        assert_eq!(sm.acked(3), Ok(1));
        assert_eq!(sm.request(), None, "nothing to ask about");
    }

    #[test]
    fn counters_wrap_at_two_to_the_32() {
        // XEP-0198 §4: h wraps around.
        let mut sm = StreamManagement::restore(u32::MAX, u32::MAX, [(u32::MAX - 1, msg(1)), (u32::MAX, msg(2))]);
        sm.received();
        assert_eq!(sm.inbound(), 0);
        assert_eq!(sm.sent(msg(3)), 0);
        assert_eq!(sm.acked(0), Ok(3));
        assert_eq!(sm.unacked().count(), 0);
    }

    #[test]
    fn resending_after_resumption() {
        let mut sm = StreamManagement::new();
        for n in 1..=4 {
            sm.sent(msg(n));
        }
        assert_eq!(sm.acked(1), Ok(1));
        let again = sm.take_unacked();
        assert_eq!(again.len(), 3);
        // sent again: numbered from the acknowledged count on
        for m in again {
            sm.sent(m);
        }
        assert_eq!(sm.unacked().map(|(s, _)| *s).collect::<Vec<_>>(), [2, 3, 4]);
    }

    #[test]
    fn a_restored_session_with_nothing_unacked_keeps_its_count() {
        let mut sm = StreamManagement::restore(3, 57, []);
        assert_eq!(sm.acked(57), Ok(0));
        assert_eq!(sm.sent(msg(1)), 58);
    }

    #[test]
    fn enabled_without_resume_has_no_id() {
        let e = Element::parse("<enabled xmlns='urn:xmpp:sm:3' id='x'/>").unwrap();
        assert_eq!(SmEnabled::from_element(&e).and_then(|e| e.id), None);
    }
}
