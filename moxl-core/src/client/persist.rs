//! Writing the session through to its store, when the client has one ([`ClientBuilder::session_store`]).
//!
//! Every write happens on the connection's writer task, in the order that keeps promises: an Action is saved and
//! a stanza is queued as unacknowledged *before* it is written to the socket; an acknowledgement from the server
//! removes what it covers; the inbound count is written after the stanzas it counts were handled (so a crash in
//! between redelivers them: at least once, never lost), and before an `<a/>` tells the server about them (a later
//! run must never resume with a lower `h` than we acknowledged: the server would refuse the resumption,
//! XEP-0198 §5).
//!
//! [`ClientBuilder::session_store`]: super::ClientBuilder::session_store

use jid::FullJid;

use crate::transport::Endpoint;
use crate::xec::Xec;
use crate::Result;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod imp {
    use std::sync::Arc;

    use super::*;
    use crate::session::{CapsCache, Lease, ServerEndpoint, SmState, TransportKind};
    use crate::xec::{ActionChange, ActionStore};
    use crate::Error;
    use tracing::Instrument as _;

    /// The lease of the session, if it is stored (taken out when the session is closed), the session's
    /// entity-caps cache, whose new entries are written through it, and its roster version, written when it
    /// changes.
    #[derive(Default)]
    pub(in crate::client) struct Persist(
        std::sync::Mutex<Option<Arc<Lease>>>,
        Option<CapsCache>,
        Option<crate::client::RosterVersion>,
    );

    /// Lease lost: fatal. Anything else: a warning (the session goes on in memory).
    fn check(result: Result<()>) -> Result<()> {
        match result {
            Err(e @ Error::Lease(_)) => Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "the session store failed; going on in memory");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    impl Persist {
        pub(in crate::client) fn new(
            lease: Option<Lease>,
            caps: Option<CapsCache>,
            roster_version: Option<crate::client::RosterVersion>,
        ) -> Self {
            Persist(std::sync::Mutex::new(lease.map(Arc::new)), caps, roster_version)
        }

        fn lease(&self) -> Option<Arc<Lease>> {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
        }

        pub(in crate::client) fn is_on(&self) -> bool {
            self.lease().is_some()
        }

        /// Saves and forgets Actions as they started and finished, and writes the entity-caps entries put since
        /// the last call and the roster version, if it changed (RFC 6121 §2.6).
        pub(in crate::client) async fn actions(&self, xec: &Xec) -> Result<()> {
            let Some(lease) = self.lease() else { return Ok(()) };
            for change in xec.take_action_changes()? {
                check(match change {
                    ActionChange::Save(action) => lease.save(&action).await,
                    ActionChange::Remove(id) => lease.remove(&id).await,
                })?;
            }
            Self::caps(&lease, self.1.as_ref()).await?;
            match self.2.as_ref().and_then(crate::client::RosterVersion::take_pending) {
                Some(ver) => check(lease.set_roster_version(Some(&ver)).await),
                None => Ok(()),
            }
        }

        async fn caps(lease: &Lease, caps: Option<&CapsCache>) -> Result<()> {
            for (ver, info) in caps.map(CapsCache::take_pending).unwrap_or_default() {
                check(lease.put_caps(&ver, &info).await)?;
            }
            Ok(())
        }

        pub(in crate::client) async fn unacked(&self, stanzas: &[(u32, String)]) -> Result<()> {
            let Some(lease) = self.lease() else { return Ok(()) };
            for (seq, xml) in stanzas {
                check(lease.push_unacked(u64::from(*seq), xml).await)?;
            }
            Ok(())
        }

        pub(in crate::client) async fn acked(&self, h: u32) -> Result<()> {
            let Some(lease) = self.lease() else { return Ok(()) };
            check(lease.ack(u64::from(h)).await.map(|_| ()))
        }

        pub(in crate::client) async fn counters(&self, inbound: u32, sent: u32) -> Result<()> {
            let Some(lease) = self.lease() else { return Ok(()) };
            check(lease.update_sm(u64::from(inbound), u64::from(sent)).await)
        }

        /// A connection is in use: its JID and endpoint, and for a new stream-management session its id (the
        /// old session's queue and counters are gone).
        pub(in crate::client) async fn started(&self, start: Started<'_>) -> Result<()> {
            let Some(lease) = self.lease() else { return Ok(()) };
            check(lease.set_bound(Some(start.jid)).await)?;
            if let Some(e) = start.endpoint {
                let kind = match (start.websocket, start.transport) {
                    (Some(url), _) => TransportKind::WebSocket { url: url.to_owned() },
                    (None, "direct-tls") => TransportKind::DirectTls,
                    (None, _) => TransportKind::StartTls,
                };
                check(lease.set_server(Some(&ServerEndpoint::new(e.host.clone(), e.port, kind))).await)?;
            }
            if let Some(token) = start.fast_token {
                check(lease.set_fast_token(token).await)?;
            }
            if let Some(pin) = start.auth_pin {
                check(lease.set_auth_pin(Some(pin)).await)?;
            }
            if let Some(credentials) = &start.credentials {
                check(lease.set_credentials(credentials.as_ref()).await)?;
            }
            if let Some(sm) = start.new_sm {
                let state = sm.map(|(id, location)| SmState::new(id, location));
                check(lease.set_sm(state.as_ref()).await)?;
                check(lease.clear_unacked().await.map(|_| ()))?;
            }
            Ok(())
        }

        /// Renews the lease every third of its time to live, in the session's `span`; ends (with the reason) when
        /// it is lost.
        pub(in crate::client) fn renewal(
            &self,
            ttl: std::time::Duration,
            span: &tracing::Span,
        ) -> Option<tokio::task::JoinHandle<String>> {
            let lease = self.lease()?;
            let renew = async move {
                tracing::trace!("lease renewal task started");
                loop {
                    tokio::time::sleep(ttl / 3).await;
                    match lease.renew().await {
                        Ok(()) => {}
                        Err(Error::Lease(e)) => return format!("{e}"),
                        Err(e) => tracing::warn!(error = %e, "cannot renew the session lease"),
                    }
                }
            };
            Some(tokio::spawn(renew.instrument(span.clone())))
        }

        /// The session was closed on purpose: nothing is left to resume; the lease is given back (if nothing
        /// else holds it; else it expires). What the last stanzas handled changed (an Action finished, an
        /// entity-caps entry learned) is written first: the writer may have stopped before it did.
        pub(in crate::client) async fn closed(&self, xec: &Xec) {
            if let Err(e) = self.actions(xec).await {
                tracing::warn!(error = %e, "cannot write the last changes of the closed session");
            }
            let taken = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            let Some(lease) = taken else { return };
            let _ = check(lease.set_sm(None).await);
            let _ = check(lease.clear_unacked().await.map(|_| ()));
            if let Ok(lease) = Arc::try_unwrap(lease) {
                if let Err(e) = lease.release().await {
                    tracing::debug!(error = %e, "cannot release the session lease");
                }
            }
        }
    }
}

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
mod imp {
    use super::*;

    /// Without a store backend compiled in, nothing is written.
    #[derive(Default)]
    pub(in crate::client) struct Persist;

    impl Persist {
        pub(in crate::client) fn is_on(&self) -> bool {
            false
        }
        pub(in crate::client) async fn actions(&self, _xec: &Xec) -> Result<()> {
            Ok(())
        }
        pub(in crate::client) async fn unacked(&self, _stanzas: &[(u32, String)]) -> Result<()> {
            Ok(())
        }
        pub(in crate::client) async fn acked(&self, _h: u32) -> Result<()> {
            Ok(())
        }
        pub(in crate::client) async fn counters(&self, _inbound: u32, _sent: u32) -> Result<()> {
            Ok(())
        }
        pub(in crate::client) async fn started(&self, _start: Started<'_>) -> Result<()> {
            Ok(())
        }
        pub(in crate::client) fn renewal(
            &self,
            _ttl: std::time::Duration,
            _span: &tracing::Span,
        ) -> Option<tokio::task::JoinHandle<String>> {
            None
        }
        pub(in crate::client) async fn closed(&self, _xec: &Xec) {}
    }
}

pub(super) use imp::Persist;

/// What [`Persist::started`] records.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(super) struct Started<'a> {
    pub(super) jid: &'a FullJid,
    pub(super) endpoint: Option<&'a Endpoint>,
    pub(super) transport: &'a str,
    pub(super) websocket: Option<&'a str>,
    /// `Some` for a new stream-management session (`Some(None)`: none at all), with its id and location.
    pub(super) new_sm: Option<Option<(String, Option<String>)>>,
    /// `Some` when the FAST token changed (issued, rotated, or refused).
    pub(super) fast_token: Option<Option<&'a crate::session::FastToken>>,
    /// `Some` when the pinned SASL mechanism rose (mechanism pinning).
    pub(super) auth_pin: Option<&'a crate::auth::MechanismPin>,
    /// `Some` when the SCRAM keys to keep changed (derived anew, or dropped after the server refused them).
    pub(super) credentials: Option<Option<crate::session::StoredCredentials>>,
}
