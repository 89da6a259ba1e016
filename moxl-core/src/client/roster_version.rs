//! The roster version of a stored session ([`RosterVersion`]): read at start, updated by the roster handlers,
//! written back to the session store.

use std::sync::{Arc, Mutex, PoisonError};

/// The version of the roster the application holds (RFC 6121 §2.6), kept with the session.
///
/// When the client keeps its session in a store ([`ClientBuilder::session_store`]), it gives its event controller
/// one of these as an extension (handlers find it with `ctx.get::<RosterVersion>()`), loaded with
/// [`SessionRecord::roster_version`](crate::session::SessionRecord::roster_version). The roster handlers (moxl-xep's
/// `rfc6121_roster`) [`set`](Self::set) it from every versioned roster result and roster push (§2.6.3); the
/// connection's writer stores each change, with the session's other changes; and every fresh session's start
/// (the next process, or a new session after a lost one) fetches the roster with the latest version (§2.6.2), so
/// that the server sends only what changed since. An application that uses a session store therefore keeps the
/// roster it was given (the roster result, then the pushes) alongside it. Without a session store the client adds
/// none, and every fresh session fetches the whole roster.
///
/// The handle is cheap to clone; clones share the version.
///
/// ```
/// use moxl_core::client::RosterVersion;
/// let version = RosterVersion::default();
/// version.load(Some("ver11".into()));
/// assert_eq!(version.get().as_deref(), Some("ver11"));
/// assert_eq!(version.take_pending(), None, "what was loaded need not be written back");
/// version.clone().set("ver12");
/// assert_eq!(version.get().as_deref(), Some("ver12"));
/// assert_eq!(version.take_pending().as_deref(), Some("ver12"));
/// assert_eq!(version.take_pending(), None);
/// ```
///
/// [`ClientBuilder::session_store`]: crate::client::ClientBuilder::session_store
#[derive(Debug, Clone, Default)]
pub struct RosterVersion(Arc<Mutex<Inner>>);

#[derive(Debug, Default)]
struct Inner {
    current: Option<String>,
    /// Set since the last [`RosterVersion::take_pending`].
    pending: bool,
}

impl RosterVersion {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The latest version, if any.
    ///
    /// ```
    /// assert_eq!(moxl_core::client::RosterVersion::default().get(), None);
    /// ```
    pub fn get(&self) -> Option<String> {
        self.lock().current.clone()
    }

    /// Sets the version the store already holds (nothing to write back).
    ///
    /// ```
    /// let version = moxl_core::client::RosterVersion::default();
    /// version.load(Some("ver7".into()));
    /// assert_eq!(version.get().as_deref(), Some("ver7"));
    /// ```
    pub fn load(&self, version: Option<String>) {
        let mut inner = self.lock();
        inner.current = version;
        inner.pending = false;
    }

    /// Records a new version (from a roster result or push, RFC 6121 §2.6.3), to be written to the session store.
    ///
    /// ```
    /// let version = moxl_core::client::RosterVersion::default();
    /// version.set("ver8");
    /// assert_eq!(version.get().as_deref(), Some("ver8"));
    /// ```
    pub fn set(&self, version: impl Into<String>) {
        let version = version.into();
        let mut inner = self.lock();
        if inner.current.as_deref() != Some(version.as_str()) {
            inner.current = Some(version);
            inner.pending = true;
        }
    }

    /// The version set since the last call, if it changed: what the writer stores.
    ///
    /// ```
    /// let version = moxl_core::client::RosterVersion::default();
    /// version.set("ver9");
    /// assert_eq!(version.take_pending().as_deref(), Some("ver9"));
    /// assert_eq!(version.take_pending(), None);
    /// ```
    pub fn take_pending(&self) -> Option<String> {
        let mut inner = self.lock();
        if std::mem::take(&mut inner.pending) {
            inner.current.clone()
        } else {
            None
        }
    }
}
