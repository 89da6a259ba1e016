//! The supervisor: runs the connection, and after a loss reconnects with backoff and resumes (or replaces) the
//! session.

use std::sync::{Arc, Mutex, PoisonError};

use jid::FullJid;
use rand::Rng;
use tokio::sync::watch;
use tokio::time::Duration;

use super::connect::{connect_once, Connected, Settings};
use super::persist::Started;
use super::run::{self, Ended, Shared, SmSession, Task, Timing};
use super::ConnectionState;
use crate::stream::{is_counted, ResumeFrom, Resumption, StreamManagement};
use crate::xec::Packet;
use crate::xml::{ns, Element};
use crate::Error;

/// How to reconnect after losing the connection: exponential backoff with full jitter (each delay is random
/// between zero and `initial · 2^(attempt-1)`, capped at `max`), for at most `attempts` tries (`None`: until
/// the client is closed).
///
/// ```
/// use std::time::Duration;
/// use moxl_core::client::Reconnect;
/// let policy = Reconnect::default();
/// assert_eq!((policy.initial, policy.max), (Duration::from_millis(500), Duration::from_secs(60)));
/// assert!(policy.delay(3) <= Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reconnect {
    /// The ceiling of the first delay.
    pub initial: Duration,
    /// The ceiling of every delay.
    pub max: Duration,
    /// How many attempts before giving up (`None`: never give up).
    pub attempts: Option<u32>,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect { initial: Duration::from_millis(500), max: Duration::from_secs(60), attempts: None }
    }
}

impl Reconnect {
    /// A policy with these delays, trying forever.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Reconnect { initial, max, attempts: None }
    }

    /// The delay before attempt `attempt` (1-based): full jitter over the exponential ceiling.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.initial.saturating_mul(1u32 << attempt.saturating_sub(1).min(20)).min(self.max);
        ceiling.mul_f64(rand::rng().random_range(0.0..=1.0))
    }
}

/// What the supervisor needs.
pub(super) struct Supervisor {
    pub(super) shared: Arc<Shared>,
    pub(super) settings: Settings,
    pub(super) state: Arc<watch::Sender<ConnectionState>>,
    pub(super) jid: Arc<Mutex<FullJid>>,
    pub(super) timing: Timing,
    pub(super) reconnect: Option<Reconnect>,
    pub(super) first: Connected,
    /// What to send first on it ([`start_session`] was run by `connect`).
    pub(super) first_resend: Vec<Element>,
    /// How long the session's lease lives unless renewed (when it is stored).
    pub(super) lease_ttl: Duration,
}

/// Runs connections until the session ends for good.
pub(super) async fn supervise(s: Supervisor) {
    let Supervisor { shared, settings, state, jid, timing, reconnect, first, first_resend, lease_ttl } = s;
    let domain = settings.jid.domain().to_string();
    let mut renewal = shared.persist.renewal(lease_ttl).map(Task);
    let mut connected = first;
    let mut resend = first_resend;
    loop {
        let ended = tokio::select! {
            ended = run::run(&shared, connected.wire, connected.parser, std::mem::take(&mut resend), timing, domain.clone()) => ended,
            lost = lease_lost(&mut renewal) => Ended::Fatal(lost),
        };
        let reason = match ended {
            Ended::Closed => {
                // Stop renewing first, so that the lease can be given back.
                drop(renewal.take());
                shared.persist.closed(&shared.xec).await;
                state.send_replace(ConnectionState::Disconnected("closed by the client".into()));
                return;
            }
            Ended::Fatal(reason) => {
                tracing::warn!(parent: &shared.span, %reason, "session ended");
                state.send_replace(ConnectionState::Disconnected(reason));
                return;
            }
            Ended::Lost(reason) => reason,
        };
        tracing::info!(parent: &shared.span, %reason, "connection lost");
        let Some(policy) = reconnect else {
            state.send_replace(ConnectionState::Disconnected(reason));
            return;
        };
        shared.xec.deliver(Packet::new(Packet::DISCONNECTED, None, Some(reason.clone())));
        let reconnected = tokio::select! {
            // Boxed: connecting is a large future, and thousands of idle sessions should not each carry its space.
            c = Box::pin(reconnect_loop(&shared, &settings, &state, &jid, policy, reason)) => c,
            lost = lease_lost(&mut renewal) => {
                state.send_replace(ConnectionState::Disconnected(lost));
                None
            }
        };
        connected = match reconnected {
            Some(c) => c,
            None => return,
        };
        resend = start_session(&shared, &connected, &state, &jid, false);
        if let Err(e) = Box::pin(record_start(&shared, &settings, &connected)).await {
            state.send_replace(ConnectionState::Disconnected(e.to_string()));
            return;
        }
    }
}

/// Waits until the renewal task says the lease is lost (forever without a store).
async fn lease_lost(renewal: &mut Option<Task<String>>) -> String {
    match renewal.as_mut() {
        Some(task) => match (&mut task.0).await {
            Ok(reason) => format!("the session lease was lost: {reason}"),
            Err(e) => format!("the session lease task failed: {e}"),
        },
        None => std::future::pending().await,
    }
}

/// Writes what the new connection changed to the store: the bound JID, the endpoint, a new stream-management
/// session (the old one's queue is gone) or, after a resumption, what the server acknowledged.
pub(super) async fn record_start(shared: &Shared, settings: &Settings, connected: &Connected) -> crate::Result<()> {
    if let Resumption::Resumed { h } = connected.resumption {
        shared.persist.acked(h).await?;
    }
    let new_sm = match connected.resumption {
        Resumption::Resumed { .. } => None,
        _ => Some(connected.sm.as_ref().and_then(|e| Some((e.id.clone()?, e.location.clone())))),
    };
    shared
        .persist
        .started(Started {
            jid: &connected.jid,
            endpoint: connected.info.endpoint.as_ref(),
            transport: connected.info.transport,
            websocket: settings.websocket.as_deref(),
            new_sm,
            fast_token: connected.fast_changed.as_ref().map(Option::as_ref),
            auth_pin: connected.auth_pin_raised.as_ref(),
        })
        .await
}

/// Tries until connected, closed, or refused for good.
async fn reconnect_loop(
    shared: &Shared,
    settings: &Settings,
    state: &watch::Sender<ConnectionState>,
    jid: &Mutex<FullJid>,
    policy: Reconnect,
    mut reason: String,
) -> Option<Connected> {
    let mut closing = shared.closing.subscribe();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        if policy.attempts.is_some_and(|max| attempt > max) {
            state.send_replace(ConnectionState::Disconnected(format!("gave up reconnecting: {reason}")));
            return None;
        }
        state.send_replace(ConnectionState::Reconnecting { attempt, reason: reason.clone() });
        tokio::select! {
            () = tokio::time::sleep(policy.delay(attempt)) => {}
            _ = closing.wait_for(|c| *c) => {
                state.send_replace(ConnectionState::Disconnected("closed by the client".into()));
                return None;
            }
        }
        let resume = {
            let sm = shared.sm();
            let previous = jid.lock().unwrap_or_else(PoisonError::into_inner).clone();
            sm.as_ref().and_then(|sm| Some(ResumeFrom::new(sm.id.clone()?, sm.state.inbound(), previous)))
        };
        match connect_once(settings, resume, false, state).await {
            Ok(c) => return Some(c),
            Err(Error::Auth(e)) => {
                let why = format!("authentication failed, not reconnecting: {e}");
                tracing::warn!(parent: &shared.span, reason = %why, "session ended");
                state.send_replace(ConnectionState::Disconnected(why));
                return None;
            }
            Err(e) => {
                tracing::info!(parent: &shared.span, attempt, error = %e, "reconnection failed");
                reason = e.to_string();
            }
        }
    }
}

/// Takes a negotiated connection into use: updates stream management, the state and the JID, and returns what
/// to send first.
pub(super) fn start_session(
    shared: &Shared,
    connected: &Connected,
    state: &watch::Sender<ConnectionState>,
    jid: &Mutex<FullJid>,
    initial: bool,
) -> Vec<Element> {
    let new_jid = connected.jid.clone();
    *jid.lock().unwrap_or_else(PoisonError::into_inner) = new_jid.clone();
    let mut sm = shared.sm();
    let fresh = connected.sm.as_ref().map(|e| SmSession { state: StreamManagement::new(), id: e.id.clone() });
    let (resend, event) = match connected.resumption {
        Resumption::Resumed { h } => {
            // XEP-0198 §5: what the server handled is acknowledged; the rest goes again, in order.
            let resend = match sm.as_mut() {
                Some(old) => {
                    if let Err(e) = old.state.acked(h) {
                        tracing::warn!(parent: &shared.span, %e, "resumed with an h we cannot match");
                    }
                    old.state.take_unacked()
                }
                None => Vec::new(),
            };
            tracing::info!(parent: &shared.span, jid = %new_jid, resent = resend.len(), "session resumed");
            (resend, Some((ConnectionState::Resumed(new_jid.clone()), Packet::RESUMED)))
        }
        Resumption::Failed { .. } | Resumption::NotTried => {
            // A fresh session: what the old one did not acknowledge goes again (presences excepted: the
            // remembered ones replace them), then our presence and room joins.
            let mut old = sm.take();
            if let (Some(old), Resumption::Failed { h: Some(h) }) = (old.as_mut(), connected.resumption) {
                let _ = old.state.acked(h);
            }
            let mut resend: Vec<Element> = shared.presence.lock().unwrap_or_else(PoisonError::into_inner).replay();
            if let Some(mut old) = old {
                // Also what an earlier run of the process had not seen acknowledged (from the store).
                resend.extend(
                    old.state.take_unacked().into_iter().filter(|s| is_counted(s) && !s.is("presence", ns::CLIENT)),
                );
            }
            if !initial {
                tracing::info!(parent: &shared.span, jid = %new_jid, "a new session replaces the lost one");
            }
            let event = (!initial).then(|| (ConnectionState::Reestablished(new_jid.clone()), Packet::REESTABLISHED));
            (resend, event)
        }
    };
    if !matches!(connected.resumption, Resumption::Resumed { .. }) {
        *sm = fresh;
    }
    drop(sm);
    match event {
        Some((new_state, key)) => {
            state.send_replace(new_state);
            shared.xec.deliver(Packet::new(key, None, Some(new_jid.to_string())));
        }
        None => {
            state.send_replace(ConnectionState::Online(new_jid));
        }
    }
    resend
}
