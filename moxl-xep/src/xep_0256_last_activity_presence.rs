//! XEP-0256: Last Activity in Presence. A presence that says for how long its sender has been idle (in an
//! `away`/`xa` presence) or since when it has been gone (in `unavailable` presence): a `<query
//! xmlns='jabber:iq:last' seconds='…'/>` inside it (§2, §3). [`with_idle`] adds it to our presence; the
//! [`IdlePresences`] Payload delivers each one received as an [`Idle`] (Packet key `presenceidle`).
//!
//! The element is XEP-0012's ([`crate::xep_0012_last`]), which declares the namespace and its disco feature;
//! XEP-0256 adds none.

use std::borrow::Cow;

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};

use crate::rfc6121_presence::PresenceType;
use crate::xep_0012_last::LastActivity;

/// Adds the idle time (seconds since the user was last active, §2) to a presence.
///
/// ```
/// use moxl_xep::rfc6121_presence::{available, Show};
/// // XEP-0256 §2, Example 1 (the from is added by the server)
/// let p = moxl_xep::xep_0256_last_activity_presence::with_idle(available(Some(Show::Away), None, None), 600).build()?;
/// assert_eq!(p.to_xml(), "<presence xmlns='jabber:client'><show>away</show><query xmlns='jabber:iq:last' seconds='600'/></presence>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_idle(presence: ElementBuilder, seconds: u64) -> ElementBuilder {
    presence.append(LastActivity::new(seconds).to_query())
}

/// The idle time in a received presence.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0256_last_activity_presence::Idle;
/// // XEP-0256 §2, Example 1
/// let p = Element::parse("<presence xmlns='jabber:client' from='romeo@montague.net/orchard'><show>away</show>\
///     <query xmlns='jabber:iq:last' seconds='600'/></presence>")?;
/// let idle = Idle::from_presence(&p).unwrap();
/// assert_eq!((idle.seconds, idle.unavailable), (600, false));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Idle {
    /// The sender.
    pub from: Option<String>,
    /// Seconds since the sender was last active (available presence) or went offline (unavailable, §3),
    /// counted from when the presence was sent.
    pub seconds: u64,
    /// The presence is `unavailable`: the time since the sender logged out.
    pub unavailable: bool,
}

impl Idle {
    /// Reads the last activity of an available or unavailable presence; `None` without one or without a
    /// valid `seconds`.
    pub fn from_presence(stanza: &Element) -> Option<Idle> {
        if !stanza.is("presence", ns::CLIENT) {
            return None;
        }
        let kind = PresenceType::from_attr(stanza.attr("type").as_deref())?;
        if !matches!(kind, PresenceType::Available | PresenceType::Unavailable) {
            return None;
        }
        Some(Idle {
            from: stanza.attr("from").map(Cow::into_owned),
            seconds: LastActivity::from_stanza(stanza)?.seconds?,
            unavailable: kind == PresenceType::Unavailable,
        })
    }
}

/// Delivers the idle time of each presence that has one as an [`Idle`] under the Packet key `presenceidle`
/// (the same presence also reaches `presenceupdate`).
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) {
/// let mut idle = xec.subscribe("presenceidle");
/// # }
/// ```
#[payload(name = "query", ns = "jabber:iq:last", key = "presenceidle", at = "child")]
#[derive(Debug, Default)]
pub struct IdlePresences;

impl Payload for IdlePresences {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        // a direct child (`at = "child"`) of a presence (`from_presence` reads only presences)
        if let Some(idle) = Idle::from_presence(stanza) {
            ctx.pack(idle).deliver();
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
    fn idle_presence_is_delivered_and_queries_are_left_to_xep_0012() {
        let xec = Xec::new().unwrap();
        let mut idle = xec.subscribe("presenceidle");
        // XEP-0256 §3, Example 2: an unavailable presence with the time since logout
        let gone = "<presence xmlns='jabber:client' from='juliet@capulet.com/balcony' type='unavailable'>\
            <query xmlns='jabber:iq:last' seconds='903'/></presence>";
        block_on(xec.dispatch(Element::parse(gone).unwrap()));
        let i = idle.try_recv().unwrap();
        assert_eq!(i.content::<Idle>().map(|i| (i.seconds, i.unavailable)), Some((903, true)));
        for xml in [
            "<iq xmlns='jabber:client' from='a@b/c' type='get' id='l1'><query xmlns='jabber:iq:last'/></iq>",
            "<presence xmlns='jabber:client' from='a@b/c'><query xmlns='jabber:iq:last' seconds='x'/></presence>",
            "<presence xmlns='jabber:client' from='a@b' type='subscribe'><query xmlns='jabber:iq:last' seconds='1'/></presence>",
        ] {
            block_on(xec.dispatch(Element::parse(xml).unwrap()));
            assert!(idle.try_recv().is_none(), "{xml}");
        }
        xec.take_outgoing();
    }
}
