//! What to send again when a lost session cannot be resumed: our last broadcast presence and the presence that
//! joined each room we are still in (XEP-0198 §5: a fresh session starts with nothing).

use std::collections::BTreeMap;

use crate::xml::{ns, Element};

/// The MUC join marker (XEP-0045 §7.2.1).
const MUC: &str = "http://jabber.org/protocol/muc";

/// The presences that define our session's state, learned from what we send.
#[derive(Debug, Default)]
pub(super) struct PresenceMemory {
    broadcast: Option<Element>,
    rooms: BTreeMap<String, Element>,
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
            // RFC 6121 §4.2: broadcast presence; §4.5: unavailable ends it.
            None if unavailable => self.broadcast = None,
            None if kind.is_none() => self.broadcast = Some(stanza.clone()),
            None => {}
            Some(to) if unavailable => {
                self.rooms.remove(bare(&to));
            }
            Some(to) if kind.is_none() && stanza.child("x", MUC).is_some() => {
                self.rooms.insert(bare(&to).to_owned(), stanza.clone());
            }
            Some(_) => {}
        }
    }

    /// The presences to send on a fresh session: the broadcast one first, then one per room.
    pub(super) fn replay(&self) -> Vec<Element> {
        self.broadcast.iter().chain(self.rooms.values()).cloned().collect()
    }
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
}
