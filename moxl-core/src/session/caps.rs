//! The session's entity-caps cache ([`CapsCache`]): verified disco#info by verification string, loaded from the
//! session store and written back to it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The entity-caps cache of a session (XEP-0115): disco#info XML by verification string (`ver`).
///
/// When the client keeps its session in a store ([`ClientBuilder::session_store`]), it gives its event controller
/// one of these as an extension (handlers find it with `ctx.get::<CapsCache>()`), filled with the entries of
/// [`SessionRecord::caps`](super::SessionRecord::caps); each [`put`](Self::put) is written to the store by the
/// connection's writer, with the session's other changes. Without a session store the client adds none (an
/// entity-caps handler then uses its own cache alone).
///
/// The handle is cheap to clone; clones share the entries. It stores what it is given: the caller verifies
/// before [`put`](Self::put), and a reader treats what [`get`](Self::get) returns as untrusted (it came from a
/// database) and checks it again.
///
/// ```
/// use moxl_core::session::CapsCache;
/// let cache = CapsCache::default();
/// cache.load([("v1".to_owned(), "<query xmlns='http://jabber.org/protocol/disco#info'/>".to_owned())]);
/// let handle = cache.clone();
/// handle.put("v2", "<query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:xmpp:ping'/></query>");
/// assert!(cache.get("v1").is_some() && cache.get("v2").is_some() && cache.get("v3").is_none());
/// // only v2 is new: the writer stores it
/// let pending = cache.take_pending();
/// assert_eq!(pending.iter().map(|(ver, _)| ver.as_str()).collect::<Vec<_>>(), ["v2"]);
/// assert!(cache.take_pending().is_empty());
/// ```
///
/// [`ClientBuilder::session_store`]: crate::client::ClientBuilder::session_store
#[derive(Debug, Clone, Default)]
pub struct CapsCache(Arc<Mutex<Inner>>);

#[derive(Debug, Default)]
struct Inner {
    /// `ver` → disco#info XML.
    entries: BTreeMap<String, String>,
    /// Entries put since the last [`CapsCache::take_pending`], in order.
    pending: Vec<(String, String)>,
}

impl CapsCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The disco#info XML stored for `ver`.
    ///
    /// ```
    /// let cache = moxl_core::session::CapsCache::default();
    /// assert_eq!(cache.get("QgayPKawpkPSDYmwT/WM94uAlu0="), None);
    /// ```
    pub fn get(&self, ver: &str) -> Option<String> {
        self.lock().entries.get(ver).cloned()
    }

    /// Whether there is an entry for `ver`.
    ///
    /// ```
    /// let cache = moxl_core::session::CapsCache::default();
    /// cache.put("v", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    /// assert!(cache.contains("v") && !cache.contains("w"));
    /// ```
    pub fn contains(&self, ver: &str) -> bool {
        self.lock().entries.contains_key(ver)
    }

    /// Adds (or replaces) the entry for `ver` and queues it to be written to the session store.
    ///
    /// ```
    /// let cache = moxl_core::session::CapsCache::default();
    /// cache.put("v", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    /// assert_eq!(cache.get("v").as_deref(), Some("<query xmlns='http://jabber.org/protocol/disco#info'/>"));
    /// assert_eq!(cache.take_pending().len(), 1);
    /// ```
    pub fn put(&self, ver: impl Into<String>, info_xml: impl Into<String>) {
        let (ver, info_xml) = (ver.into(), info_xml.into());
        let mut inner = self.lock();
        inner.entries.insert(ver.clone(), info_xml.clone());
        inner.pending.push((ver, info_xml));
    }

    /// Adds entries that are stored already (e.g. [`SessionRecord::caps`](super::SessionRecord::caps)): they are
    /// not queued for writing.
    ///
    /// ```
    /// let cache = moxl_core::session::CapsCache::default();
    /// cache.load([("v".to_owned(), "<query xmlns='http://jabber.org/protocol/disco#info'/>".to_owned())]);
    /// assert!(cache.get("v").is_some() && cache.take_pending().is_empty());
    /// ```
    pub fn load(&self, entries: impl IntoIterator<Item = (String, String)>) {
        self.lock().entries.extend(entries);
    }

    /// Takes the entries [`put`](Self::put) since the last call, oldest first: what the session store has yet to
    /// write. The client's writer calls it; an application that keeps the cache itself may too.
    ///
    /// ```
    /// let cache = moxl_core::session::CapsCache::default();
    /// cache.put("a", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    /// cache.put("b", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    /// let vers: Vec<String> = cache.take_pending().into_iter().map(|(ver, _)| ver).collect();
    /// assert_eq!(vers, ["a", "b"]);
    /// ```
    pub fn take_pending(&self) -> Vec<(String, String)> {
        std::mem::take(&mut self.lock().pending)
    }

    /// The number of entries.
    ///
    /// ```
    /// let cache = moxl_core::session::CapsCache::default();
    /// assert!(cache.is_empty());
    /// cache.put("v", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    /// assert_eq!(cache.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether there is no entry.
    ///
    /// ```
    /// assert!(moxl_core::session::CapsCache::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.lock().entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "<query xmlns='http://jabber.org/protocol/disco#info'/>";

    #[test]
    fn clones_share_entries_and_the_queue() {
        let cache = CapsCache::default();
        let other = cache.clone();
        other.put("v", INFO);
        assert_eq!(cache.get("v").as_deref(), Some(INFO));
        assert_eq!(cache.take_pending(), [("v".to_owned(), INFO.to_owned())]);
        assert!(other.take_pending().is_empty());
    }

    #[test]
    fn loaded_entries_are_not_written_again_but_replacements_are() {
        let cache = CapsCache::default();
        cache.load([("v".to_owned(), INFO.to_owned()), ("w".to_owned(), INFO.to_owned())]);
        assert_eq!(cache.len(), 2);
        assert!(cache.take_pending().is_empty());
        cache.put("v", "<query xmlns='http://jabber.org/protocol/disco#info'><feature var='x'/></query>");
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.take_pending().len(), 1);
        assert!(cache.get("v").is_some_and(|xml| xml.contains("var='x'")));
    }
}
