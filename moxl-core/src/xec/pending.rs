//! The pending Actions of a session: by id, by deadline, and recently expired ones.

use std::collections::BTreeSet;

use jid::{BareJid, Jid};
use rustc_hash::FxHashMap;
use tokio::time::{Duration, Instant};

use super::action::AnyAction;
use crate::xml::Element;

/// How long the id of a timed-out Action is remembered so that its late reply is dropped, not taken for an
/// unsolicited stanza.
pub(crate) const TOMBSTONE_TTL: Duration = Duration::from_secs(600);
/// At most this many expired ids are remembered.
const MAX_TOMBSTONES: usize = 4096;

pub(crate) struct Entry {
    pub(crate) action: Box<dyn AnyAction>,
    /// Where the request went (`None`: to our own account, handled by our server).
    pub(crate) to: Option<Jid>,
    pub(crate) deadline: Instant,
    /// The Packet key prefix, `group_type`.
    pub(crate) prefix: &'static str,
}

/// What an incoming stanza with a pending id turned out to be.
pub(crate) enum Taken {
    /// The reply: the Action is removed from the pending set.
    Reply(String, Entry),
    /// A reply to an Action that already timed out.
    Late,
    /// Not a reply (no such id, or a sender other than the addressee).
    No,
}

/// A change to the pending set, for a store that is written through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// An Action was started: save it.
    Saved(String),
    /// An Action got its reply or timed out: forget it.
    Removed(String),
}

/// FxHash: the keys are ids we generated (random); a peer only looks them up, it never inserts.
#[derive(Default)]
pub(crate) struct Pending {
    by_id: FxHashMap<String, Entry>,
    deadlines: BTreeSet<(Instant, String)>,
    tombstones: FxHashMap<String, (Option<Jid>, Instant)>,
    /// The changes not yet written to the store; `None` when nothing is stored.
    journal: Option<Vec<Change>>,
}

impl Pending {
    /// Records changes from now on (see [`take_changes`](Self::take_changes)).
    pub(crate) fn start_journal(&mut self) {
        self.journal.get_or_insert_with(Vec::new);
    }

    /// The changes since the last call, oldest first.
    pub(crate) fn take_changes(&mut self) -> Vec<Change> {
        self.journal.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn note(&mut self, change: Change) {
        if let Some(journal) = self.journal.as_mut() {
            journal.push(change);
        }
    }

    pub(crate) fn insert(&mut self, id: String, entry: Entry) {
        self.note(Change::Saved(id.clone()));
        self.insert_restored(id, entry);
    }

    /// Inserts an Action revived from the store (nothing to journal).
    pub(crate) fn insert_restored(&mut self, id: String, entry: Entry) {
        self.deadlines.insert((entry.deadline, id.clone()));
        if let Some(old) = self.by_id.insert(id.clone(), entry) {
            self.deadlines.remove(&(old.deadline, id));
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Entry> {
        self.by_id.get(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(d, _)| *d)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.by_id.iter()
    }

    /// Takes the Action this stanza answers, if `from` is the entity the request went to (RFC 6120 §8.1.2.1,
    /// §10.3: a request sent without `to`, or to our own bare JID, is answered with no `from` or from our bare
    /// JID).
    pub(crate) fn take_reply(
        &mut self,
        id: &str,
        from: Option<&str>,
        account: impl FnOnce() -> Option<BareJid>,
    ) -> Taken {
        // Most stanzas with an id answer nothing: look the id up before parsing (and normalizing) the sender.
        if !self.by_id.contains_key(id) && !self.tombstones.contains_key(id) {
            return Taken::No;
        }
        let from = match from.map(Jid::new) {
            None => None,
            Some(Ok(j)) => Some(j),
            Some(Err(_)) => return Taken::No,
        };
        let account = account();
        let account = account.as_ref();
        if let Some(entry) = self.by_id.get(id) {
            if !is_reply_sender(entry.to.as_ref(), from.as_ref(), account) {
                tracing::warn!(id, from = ?from.as_ref().map(Jid::as_str), to = ?entry.to.as_ref().map(Jid::as_str),
                    "stanza reuses a pending id but does not come from the addressee: not taken as the reply");
                return Taken::No;
            }
            return match self.by_id.remove_entry(id) {
                Some((id, entry)) => {
                    self.deadlines.remove(&(entry.deadline, id.clone()));
                    self.note(Change::Removed(id.clone()));
                    Taken::Reply(id, entry)
                }
                None => Taken::No,
            };
        }
        match self.tombstones.get(id) {
            Some((to, _)) if is_reply_sender(to.as_ref(), from.as_ref(), account) => {
                self.tombstones.remove(id);
                Taken::Late
            }
            _ => Taken::No,
        }
    }

    /// Takes the Action that a `presence` without a pending id answers all the same: one whose request went to
    /// exactly `from` (a full JID: an occupant JID, never a bare JID or a server) and whose `answers` method
    /// recognises the stanza (an Action opts in: XEP-0045 §7.6 does not make a room reflect the id of a nick
    /// change). The one with the earliest deadline wins.
    pub(crate) fn take_answer(&mut self, from: Option<&str>, stanza: &Element) -> Option<(String, Entry)> {
        let from = Jid::new(from?).ok()?;
        if from.is_bare() {
            return None;
        }
        let id = self
            .by_id
            .iter()
            .filter(|(_, e)| e.to.as_ref() == Some(&from) && e.action.answers(stanza))
            .min_by_key(|(_, e)| e.deadline)
            .map(|(id, _)| id.clone())?;
        let (id, entry) = self.by_id.remove_entry(&id)?;
        self.deadlines.remove(&(entry.deadline, id.clone()));
        self.note(Change::Removed(id.clone()));
        Some((id, entry))
    }

    /// Gives the requester of a finished Action to the pending Action `id` that continues it.
    pub(crate) fn adopt(
        &mut self,
        id: &str,
        waiter: Box<dyn std::any::Any + Send>,
    ) -> std::result::Result<(), Box<dyn std::any::Any + Send>> {
        match self.by_id.get_mut(id) {
            Some(entry) => entry.action.adopt(waiter),
            None => Err(waiter),
        }
    }

    /// Removes the Actions that `lost` picks (by id), whatever their deadline, remembering their ids for late
    /// replies: their replies cannot come any more (see [`Xec::time_out_lost`](super::Xec::time_out_lost)).
    pub(crate) fn remove_lost(&mut self, now: Instant, lost: impl Fn(&str) -> bool) -> Vec<(String, Entry)> {
        let ids: Vec<String> = self.by_id.keys().filter(|id| lost(id)).cloned().collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(entry) = self.by_id.remove(&id) {
                self.deadlines.remove(&(entry.deadline, id.clone()));
                self.note(Change::Removed(id.clone()));
                if self.tombstones.len() < MAX_TOMBSTONES {
                    self.tombstones.insert(id.clone(), (entry.to.clone(), now + TOMBSTONE_TTL));
                }
                out.push((id, entry));
            }
        }
        out
    }

    /// Removes the Actions whose deadline has passed, remembering their ids for late replies.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<(String, Entry)> {
        self.tombstones.retain(|_, (_, until)| *until > now);
        let mut out = Vec::new();
        while let Some((deadline, _)) = self.deadlines.first() {
            if *deadline > now {
                break;
            }
            let Some((_, id)) = self.deadlines.pop_first() else { break };
            if let Some(entry) = self.by_id.remove(&id) {
                self.note(Change::Removed(id.clone()));
                if self.tombstones.len() < MAX_TOMBSTONES {
                    self.tombstones.insert(id.clone(), (entry.to.clone(), now + TOMBSTONE_TTL));
                }
                out.push((id, entry));
            }
        }
        out
    }
}

/// Is `from` the entity a request sent to `to` may be answered by?
pub(crate) fn is_reply_sender(to: Option<&Jid>, from: Option<&Jid>, account: Option<&BareJid>) -> bool {
    let own = |j: &Jid| account.is_some_and(|a| j.is_bare() && j.to_bare() == *a);
    match (to, from) {
        // Sent to our server on behalf of the account (no `to`), or to our own bare JID: answered with no
        // `from` or from the account's bare JID.
        (None, None) => true,
        (None, Some(f)) => own(f),
        (Some(t), None) => own(t),
        (Some(t), Some(f)) => t == f || (own(t) && own(f)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jid(s: &str) -> Jid {
        Jid::new(s).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn reply_senders() {
        let account = BareJid::new("juliet@example.com").ok();
        let a = account.as_ref();
        // no `to`: no from, or our bare JID (RFC 6120 §8.1.2.1)
        assert!(is_reply_sender(None, None, a));
        assert!(is_reply_sender(None, Some(&jid("juliet@example.com")), a));
        assert!(!is_reply_sender(None, Some(&jid("juliet@example.com/balcony")), a));
        assert!(!is_reply_sender(None, Some(&jid("example.com")), a));
        assert!(!is_reply_sender(None, Some(&jid("romeo@example.net")), a));
        // to an entity: from exactly that entity (normalized)
        let to = jid("romeo@example.net/orchard");
        assert!(is_reply_sender(Some(&to), Some(&jid("Romeo@EXAMPLE.net/orchard")), a));
        assert!(!is_reply_sender(Some(&to), Some(&jid("romeo@example.net/other")), a));
        assert!(!is_reply_sender(Some(&to), None, a));
        // to our own bare JID: from it or no from
        let me = jid("juliet@example.com");
        assert!(is_reply_sender(Some(&me), None, a));
        assert!(is_reply_sender(Some(&me), Some(&jid("juliet@example.com")), a));
        // before bind, an unaddressed request is only answered without `from`
        assert!(!is_reply_sender(None, Some(&jid("juliet@example.com")), None));
    }
}
