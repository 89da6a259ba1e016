//! XEP-0317: Hats (namespace `urn:xmpp:hats:0`). A room gives occupants roles beyond XEP-0045's ("teacher's
//! assistant", "host"), each a hat with a URI and a title, signalled in the occupant's presence (§3.1).
//!
//! [`Hat::all_in`] reads the hats of a presence; the [`HatsPayload`] delivers the hats of each occupant presence
//! as [`OccupantHats`] (Packet key `muchats`). Only the room's own occupant presences count: a room that
//! supports hats strips any an occupant claims (Prosody's `muc_hats` does), and a presence from anything other
//! than `room@service/nick` with a `muc#user` `<x/>` is ignored. A later presence without `<hats/>` means the
//! occupant wears none: read [`Hat::all_in`] on it. Adding and removing hats (§3.2, §3.3) are XEP-0050 commands
//! (`urn:xmpp:hats:commands:don` / `:doff`, see [`xep_0050_adhoc`](crate::xep_0050_adhoc)). The tests use the
//! XEP's Examples 1 and 2 as fixtures.
//!
//! Besides `uri`, `title` and `xml:lang` (§3.1), a hat may carry `hue`, its colour as an angle in degrees
//! (added after version 0.2); without it, [`Hat::hue_or_generated`] derives one from the URI with XEP-0392.
//! Prosody's pre-XEP namespace `xmpp:prosody.im/protocol/hats:1` is read when the XEP's is absent.
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0317_hats::Hat;
//! // §3.1, Example 1
//! let p = Element::parse("<presence xmlns='jabber:client' from='physicsforpoets@courses.example.edu/Terry' to='steve@example.edu/tablet'>\
//!     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/></x>\
//!     <hats xmlns='urn:xmpp:hats:0'><hat uri='http://tech.example.edu/hats#TeacherAssistant' title='Teacher&apos;s Assistant' xml:lang='en-us'/></hats></presence>")?;
//! let hats = Hat::all_in(&p);
//! assert_eq!((hats[0].title.as_str(), hats[0].lang.as_deref()), ("Teacher's Assistant", Some("en-us")));
//! # Ok::<(), moxl_core::xml::XmlError>(())
//! ```

use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0045_muc::MucPresence;
use crate::xep_0392_colors::{Cvd, hue};

/// `urn:xmpp:hats:0` (§2: a MUC service that supports hats announces it; clients do not).
///
/// ```
/// assert_eq!(moxl_xep::xep_0317_hats::NS, "urn:xmpp:hats:0");
/// ```
pub const NS: &str = "urn:xmpp:hats:0";

/// `xmpp:prosody.im/protocol/hats:1`, Prosody's namespace before the XEP's (read only).
///
/// ```
/// assert_eq!(moxl_xep::xep_0317_hats::NS_PROSODY_LEGACY, "xmpp:prosody.im/protocol/hats:1");
/// ```
pub const NS_PROSODY_LEGACY: &str = "xmpp:prosody.im/protocol/hats:1";

/// A hat (§3.1).
///
/// ```
/// use moxl_xep::xep_0317_hats::Hat;
/// let hat = Hat::new("http://schemas.example.com/hats#host", "Host");
/// assert_eq!(Hat::from_element(&hat.to_element().build()?), Some(hat));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hat {
    /// `uri`: what identifies the hat (required).
    pub uri: String,
    /// `title`: its name for display (required by §3.1; empty when a room leaves it out).
    pub title: String,
    /// `xml:lang` of the title.
    pub lang: Option<String>,
    /// `hue`: its colour, an angle in degrees in `[0, 360)`; out-of-range or unreadable values are left out.
    pub hue: Option<f64>,
}

impl Hat {
    /// A hat `uri` titled `title`.
    ///
    /// ```
    /// let h = moxl_xep::xep_0317_hats::Hat::new("urn:example:hats#scribe", "Scribe");
    /// assert_eq!((h.uri.as_str(), h.title.as_str(), h.hue), ("urn:example:hats#scribe", "Scribe", None));
    /// ```
    pub fn new(uri: impl Into<String>, title: impl Into<String>) -> Hat {
        Hat { uri: uri.into(), title: title.into(), lang: None, hue: None }
    }

    /// Reads a `<hat/>` of either namespace; `None` without a `uri`. Custom payloads inside it (§3.1) are
    /// left to the application.
    pub fn from_element(e: &Element) -> Option<Hat> {
        if !(e.is("hat", NS) || e.is("hat", NS_PROSODY_LEGACY)) {
            return None;
        }
        let hue = e
            .attr("hue")
            .and_then(|h| h.trim().parse::<f64>().ok())
            .filter(|h| h.is_finite() && (0.0..360.0).contains(h));
        Some(Hat {
            uri: e.attr("uri").filter(|u| !u.is_empty())?.into_owned(),
            title: e.attr("title").map(|t| t.into_owned()).unwrap_or_default(),
            lang: e.attr("xml:lang").map(|l| l.into_owned()),
            hue,
        })
    }

    /// The hats of a presence: those of its `<hats xmlns='urn:xmpp:hats:0'/>`, else of Prosody's legacy one;
    /// empty without either.
    pub fn all_in(presence: &Element) -> Vec<Hat> {
        let hats = presence.child("hats", NS).or_else(|| presence.child("hats", NS_PROSODY_LEGACY));
        hats.map(|h| h.children().filter_map(|c| Hat::from_element(&c)).collect()).unwrap_or_default()
    }

    /// The element (in the XEP's namespace).
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("hat", NS)
            .attr("uri", self.uri.clone())
            .attr("title", self.title.clone())
            .attr_opt("xml:lang", self.lang.clone())
            .attr_opt("hue", self.hue.map(|h| h.to_string()))
    }

    /// The hat's hue, or one derived from its URI (XEP-0392 §5.1) for a room that gives none.
    ///
    /// ```
    /// use moxl_xep::xep_0392_colors::{hue, Cvd};
    /// let h = moxl_xep::xep_0317_hats::Hat::new("urn:example:hats#scribe", "Scribe");
    /// assert_eq!(h.hue_or_generated(Cvd::None), hue("urn:example:hats#scribe", Cvd::None));
    /// ```
    pub fn hue_or_generated(&self, cvd: Cvd) -> f64 {
        self.hue.unwrap_or_else(|| hue(&self.uri, cvd))
    }
}

/// The hats an occupant wears, from the room's presence.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut hats = xec.events::<moxl_xep::xep_0317_hats::OccupantHats>();
/// if let Some(h) = hats.recv().await {
///     let badges: Vec<String> = h.hats.iter().map(|hat| format!("{} ({})", hat.title, hat.uri)).collect();
///     println!("{}: {badges:?}", h.nick);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OccupantHats {
    /// The room's bare JID.
    pub room: String,
    /// The occupant's nick.
    pub nick: String,
    /// The hats, in the room's order (empty for an empty `<hats/>`).
    pub hats: Vec<Hat>,
}

impl OccupantHats {
    /// Reads the hats of an occupant presence (see [`MucPresence::from_stanza`]); `None` for any other stanza
    /// or without a `<hats/>`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0317_hats::OccupantHats;
    /// let direct = Element::parse("<presence xmlns='jabber:client' from='mallory@evil.lit/x'>\
    ///     <hats xmlns='urn:xmpp:hats:0'><hat uri='urn:x#admin' title='Admin'/></hats></presence>")?;
    /// assert_eq!(OccupantHats::from_presence(&direct), None, "not an occupant presence");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_presence(stanza: &Element) -> Option<OccupantHats> {
        stanza.child("hats", NS).or_else(|| stanza.child("hats", NS_PROSODY_LEGACY))?;
        let p = MucPresence::from_stanza(stanza)?;
        Some(OccupantHats { room: p.room, nick: p.occupant.nick, hats: Hat::all_in(stanza) })
    }
}

/// Delivers the hats of each occupant presence as [`OccupantHats`] (Packet key `muchats`).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut hats = xec.events::<moxl_xep::xep_0317_hats::OccupantHats>();
/// while let Some(h) = hats.recv().await {
///     let titles: Vec<&str> = h.hats.iter().map(|h| h.title.as_str()).collect();
///     println!("{} in {} wears {titles:?}", h.nick, h.room);
/// }
/// # }
/// ```
#[payload(name = "hats", ns = "urn:xmpp:hats:0", key = "muchats", at = "child")]
#[derive(Debug, Default)]
pub struct HatsPayload;

impl Payload for HatsPayload {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<OccupantHats>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if stanza.children().any(|c| c.ptr_eq(element))
            && let Some(hats) = OccupantHats::from_presence(stanza)
        {
            ctx.pack(hats).deliver();
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
    fn the_xeps_presences_are_delivered_and_others_ignored() {
        let xec = Xec::new().unwrap();
        let mut events = xec.events::<OccupantHats>();
        // §3.1, Example 2
        let two = "<presence xmlns='jabber:client' from='meeting123@meetings.example.com/Harry' id='D568A74F-E062-407C-83E9-531E91526516' to='someone@example.com/foo'>\
            <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/></x>\
            <hats xmlns='urn:xmpp:hats:0'>\
            <hat title='Host' uri='http://schemas.example.com/hats#host' xml:lang='en-us'><badge xmlns='urn:example:badges' fgcolor='#000000' bgcolor='#58C5BA'/></hat>\
            <hat title='Presenter' uri='http://schemas.example.com/hats#presenter' xml:lang='en-us'><badge xmlns='urn:example:badges' fgcolor='#000000' bgcolor='#EC0524'/></hat>\
            </hats></presence>";
        block_on(xec.dispatch(Element::parse(two).unwrap()));
        let h = events.try_recv().unwrap();
        assert_eq!((h.room.as_str(), h.nick.as_str()), ("meeting123@meetings.example.com", "Harry"));
        let titles: Vec<&str> = h.hats.iter().map(|h| h.title.as_str()).collect();
        assert_eq!(titles, ["Host", "Presenter"]);
        assert_eq!(h.hats[1].uri, "http://schemas.example.com/hats#presenter");

        // a hue is read when given and in range
        let hued = two
            .replace("title='Host'", "title='Host' hue='200.5'")
            .replace("title='Presenter'", "title='Presenter' hue='400'");
        let hats = Hat::all_in(&Element::parse(&hued).unwrap());
        assert_eq!((hats[0].hue, hats[1].hue), (Some(200.5), None));
        assert_eq!(hats[0].hue_or_generated(Cvd::None), 200.5);
        assert_eq!(Hat::from_element(&hats[0].to_element().build().unwrap()).as_ref(), Some(&hats[0]));

        // Prosody's legacy namespace is read too
        let legacy = two.replace("urn:xmpp:hats:0", NS_PROSODY_LEGACY);
        assert_eq!(Hat::all_in(&Element::parse(&legacy).unwrap()), h.hats);
        // hats claimed in a presence that is not the room's occupant presence are not delivered
        let claimed = "<presence xmlns='jabber:client' from='mallory@evil.lit/x'><hats xmlns='urn:xmpp:hats:0'>\
            <hat uri='urn:x#admin' title='Admin'/></hats></presence>";
        block_on(xec.dispatch(Element::parse(claimed).unwrap()));
        assert!(events.try_recv().is_none());
    }
}
