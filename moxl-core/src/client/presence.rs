//! What to send again when a lost session cannot be resumed: our last broadcast presence, the presence that
//! joined each room we are still in, under the nick we have now, and the available presence we last sent directly
//! to other entities (RFC 6121 §4.6: e.g. to a contact whose PEP service must learn our `+notify`, XEP-0163
//! §4.3) (XEP-0198 §5: a fresh session starts with nothing).
//!
//! Rooms are learned from what we send (the join presence) and kept up to date from what the rooms send about us
//! (XEP-0045 §7.6: a nick change, §7.2.9: a nick the room assigned, §8.2/§9.1: a kick or ban ends our stay).

use std::collections::BTreeMap;

use crate::xml::{ns, Element};

/// The MUC join marker (XEP-0045 §7.2.1).
const MUC: &str = "http://jabber.org/protocol/muc";
/// What a room says about an occupant (XEP-0045 §7.2.3).
const MUC_USER: &str = "http://jabber.org/protocol/muc#user";

/// The presences that define our session's state, learned from what we send.
#[derive(Debug, Default)]
pub(super) struct PresenceMemory {
    broadcast: Option<Element>,
    rooms: BTreeMap<String, Element>,
    /// Available directed presence (RFC 6121 §4.6) to entities other than rooms, by address.
    directed: BTreeMap<String, Element>,
}

fn bare(jid: &str) -> &str {
    jid.split_once('/').map_or(jid, |(bare, _)| bare)
}

impl PresenceMemory {
    /// Looks at an outgoing stanza.
    pub(super) fn observe(&mut self, stanza: &Element) {
        if !stanza.is("presence", ns::CLIENT) {
            return;
        }
        let kind = stanza.attr("type");
        let unavailable = kind.as_deref() == Some("unavailable");
        match stanza.attr("to") {
            // RFC 6121 §4.2: broadcast presence; §4.5: unavailable ends it, and directed presence too (§4.6.3).
            None if unavailable => {
                self.broadcast = None;
                self.directed.clear();
            }
            None if kind.is_none() => self.broadcast = Some(stanza.clone()),
            None => {}
            Some(to) if unavailable => {
                self.rooms.remove(bare(&to));
                self.directed.remove(to.as_ref());
            }
            Some(to) if kind.is_none() && stanza.child("x", MUC).is_some() => {
                self.rooms.insert(bare(&to).to_owned(), stanza.clone());
            }
            // A presence update in a room we are in is not directed presence.
            Some(to) if kind.is_none() && !self.rooms.contains_key(bare(&to)) => {
                self.directed.insert(to.into_owned(), stanza.clone());
            }
            Some(_) => {}
        }
    }

    /// Looks at an incoming stanza: a room's presence about us (status 110, XEP-0045 §7.2.3) for a room we
    /// joined. An available one from `room/nick` makes `nick` ours (a nick the room assigned, §7.2.9, or our new
    /// one after a change, §7.6.3); an unavailable one ends our stay, unless it announces a nick change (303, with
    /// the new nick in `<item nick/>`, §7.6.3).
    pub(super) fn observe_incoming(&mut self, stanza: &Element) {
        if !stanza.is("presence", ns::CLIENT) {
            return;
        }
        let Some(x) = stanza.child("x", MUC_USER) else { return };
        let Some(from) = stanza.attr("from") else { return };
        let Some((room, nick)) = from.split_once('/').filter(|(_, nick)| !nick.is_empty()) else { return };
        let Some(join) = self.rooms.get(room) else { return };
        let codes: Vec<String> = x
            .children()
            .filter(|c| c.is("status", MUC_USER))
            .filter_map(|c| c.attr("code").map(|v| v.into_owned()))
            .collect();
        // About us: marked 110, or from the nick we joined with (a room that omits 110 on our leaving).
        let ours = join.attr("to").and_then(|to| to.split_once('/').map(|(_, n)| n == nick)).unwrap_or(false);
        if !ours && !codes.iter().any(|c| c == "110") {
            return;
        }
        let (room, nick) = (room.to_owned(), nick.to_owned());
        let new_nick = match stanza.attr("type").as_deref() {
            None => Some(nick),
            Some("unavailable") if codes.iter().any(|c| c == "303") => {
                x.child("item", MUC_USER).and_then(|i| i.attr("nick").map(|n| n.into_owned()))
            }
            Some("unavailable") => {
                self.rooms.remove(&room);
                return;
            }
            Some(_) => return,
        };
        let Some(new_nick) = new_nick.filter(|n| !n.is_empty()) else { return };
        if let Some(join) = self.rooms.get_mut(&room) {
            match rejoin_as(join, &room, &new_nick) {
                Ok(updated) => *join = updated,
                Err(e) => tracing::warn!(%room, error = %e, "cannot remember the new nick"),
            }
        }
    }

    /// The presences to send on a fresh session: the broadcast one first, then one per room, then the directed
    /// ones.
    pub(super) fn replay(&self) -> Vec<Element> {
        self.broadcast.iter().chain(self.rooms.values()).chain(self.directed.values()).cloned().collect()
    }
}

/// The join presence `join`, addressed to `room/nick` (its other attributes and its children kept).
fn rejoin_as(join: &Element, room: &str, nick: &str) -> crate::Result<Element> {
    let current = join.attr("to");
    if current.as_deref().and_then(|to| to.split_once('/')).is_some_and(|(_, n)| n == nick) {
        return Ok(join.clone());
    }
    let mut out = crate::xml::ElementBuilder::new("presence", ns::CLIENT).attr("to", format!("{room}/{nick}"));
    for (name, value) in join.attrs() {
        if name != "to" && name != "id" && !name.starts_with("xmlns") {
            out.set_attr(name.to_owned(), value.into_owned());
        }
    }
    for child in join.children() {
        out.push(child);
    }
    out.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(xml: &str) -> Element {
        Element::parse(xml).unwrap()
    }

    #[test]
    fn remembers_broadcast_presence_and_joined_rooms() {
        let mut m = PresenceMemory::default();
        m.observe(&e("<presence xmlns='jabber:client'><show>away</show></presence>"));
        m.observe(&e("<presence xmlns='jabber:client' to='room@muc.lit/nick'><x xmlns='http://jabber.org/protocol/muc'/></presence>"));
        m.observe(&e("<presence xmlns='jabber:client' to='other@muc.lit/nick'><x xmlns='http://jabber.org/protocol/muc'/></presence>"));
        m.observe(&e("<presence xmlns='jabber:client' to='other@muc.lit/nick' type='unavailable'/>"));
        m.observe(&e("<presence xmlns='jabber:client' to='romeo@montague.lit' type='subscribe'/>"));
        let replay: Vec<String> = m.replay().iter().map(Element::to_xml).collect();
        assert_eq!(replay.len(), 2);
        assert!(replay[0].contains("away"));
        assert!(replay[1].contains("room@muc.lit/nick"));
        m.observe(&e("<presence xmlns='jabber:client' type='unavailable'/>"));
        assert_eq!(m.replay().len(), 1);
    }

    #[test]
    fn directed_presence_is_replayed_until_ended() {
        let mut m = PresenceMemory::default();
        m.observe(&e("<presence xmlns='jabber:client'/>"));
        m.observe(&e("<presence xmlns='jabber:client' to='room@muc.lit/nick'><x xmlns='http://jabber.org/protocol/muc'/></presence>"));
        // RFC 6121 §4.6.2: to a contact; an update in the room is no directed presence
        m.observe(&e("<presence xmlns='jabber:client' to='juliet@capulet.lit'/>"));
        m.observe(&e("<presence xmlns='jabber:client' to='room@muc.lit/nick'><show>away</show></presence>"));
        m.observe(&e("<presence xmlns='jabber:client' to='nurse@capulet.lit'/>"));
        let to: Vec<Option<String>> = m.replay().iter().map(|p| p.attr("to").map(|t| t.into_owned())).collect();
        assert_eq!(
            to,
            [
                None,
                Some("room@muc.lit/nick".into()),
                Some("juliet@capulet.lit".into()),
                Some("nurse@capulet.lit".into())
            ]
        );
        // §4.6.3: ended by a directed unavailable presence, or by our broadcast one
        m.observe(&e("<presence xmlns='jabber:client' to='nurse@capulet.lit' type='unavailable'/>"));
        assert_eq!(m.replay().len(), 3);
        m.observe(&e("<presence xmlns='jabber:client' type='unavailable'/>"));
        assert_eq!(m.replay().len(), 1, "the room stays");
    }

    fn joined() -> PresenceMemory {
        let mut m = PresenceMemory::default();
        m.observe(&e("<presence xmlns='jabber:client' to='coven@chat.shakespeare.lit/thirdwitch' xml:lang='en'>\
            <x xmlns='http://jabber.org/protocol/muc'><password>cauldronburn</password></x></presence>"));
        m
    }

    #[test]
    fn a_nick_change_is_followed_and_replayed_under_the_new_nick() {
        let mut m = joined();
        // XEP-0045 §7.6.3, Examples 82 and 83: our unavailable presence with 303, then the new one
        m.observe_incoming(&e("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' type='unavailable'>\
            <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' nick='oldhag' role='participant'/>\
            <status code='303'/><status code='110'/></x></presence>"));
        m.observe_incoming(&e("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/oldhag'>\
            <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/>\
            <status code='110'/></x></presence>"));
        let replay = m.replay();
        assert_eq!(replay.len(), 1);
        assert_eq!(replay[0].attr("to").as_deref(), Some("coven@chat.shakespeare.lit/oldhag"));
        assert_eq!(replay[0].attr("xml:lang").as_deref(), Some("en"));
        assert_eq!(
            replay[0].child("x", MUC).and_then(|x| x.child_text("password", MUC)).as_deref(),
            Some("cauldronburn")
        );
    }

    #[test]
    fn a_nick_the_room_assigned_is_kept() {
        let mut m = joined();
        // §7.2.9, Example 32: status 210 with our self-presence from the assigned nick
        m.observe_incoming(&e("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch2'>\
            <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/>\
            <status code='110'/><status code='210'/></x></presence>"));
        assert_eq!(m.replay()[0].attr("to").as_deref(), Some("coven@chat.shakespeare.lit/thirdwitch2"));
    }

    #[test]
    fn a_kick_or_a_ban_ends_the_stay_and_others_change_nothing() {
        let mut m = joined();
        // another occupant leaving, and an unrelated room
        m.observe_incoming(&e("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/secondwitch' type='unavailable'>\
            <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'/><status code='307'/></x></presence>"));
        m.observe_incoming(&e("<presence xmlns='jabber:client' from='other@chat.shakespeare.lit/thirdwitch' type='unavailable'>\
            <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'/><status code='110'/></x></presence>"));
        assert_eq!(m.replay().len(), 1);
        // §8.2, Example 91: we are kicked
        m.observe_incoming(&e(
            "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' type='unavailable'>\
            <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'/>\
            <status code='307'/><status code='110'/></x></presence>",
        ));
        assert!(m.replay().is_empty());
    }
}
