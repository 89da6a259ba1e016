//! The supervisor: runs the connection, and after a loss reconnects with backoff and resumes (or replaces) the
//! session.

use std::sync::{Arc, Mutex, PoisonError};

use jid::FullJid;
use rand::Rng;
use tokio::sync::watch;
use tokio::time::{Duration, Instant};

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
/// The attempt count goes back to 1 only once a session stayed up for `stable` (default
/// [`Reconnect::DEFAULT_STABLE`]): a server that accepts the login and drops the connection at once is not
/// hammered with logins at the first delay, the count (and the delay) grows across such short sessions, and
/// they count towards `attempts`.
///
/// ```
/// use std::time::Duration;
/// use moxl_core::client::Reconnect;
/// let policy = Reconnect::default().stable_after(Duration::from_secs(10));
/// assert_eq!((policy.initial, policy.max), (Duration::from_millis(500), Duration::from_secs(60)));
/// assert_eq!(policy.stable, Duration::from_secs(10));
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
    /// How long a session must stay up before a loss starts the backoff over at attempt 1.
    pub stable: Duration,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect::new(Duration::from_millis(500), Duration::from_secs(60))
    }
}

impl Reconnect {
    /// The default of [`stable`](Self::stable): a session that stayed up this long resets the backoff.
    pub const DEFAULT_STABLE: Duration = Duration::from_secs(30);

    /// A policy with these delays, trying forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moxl_core::client::Reconnect;
    /// let policy = Reconnect::new(Duration::from_millis(100), Duration::from_secs(5));
    /// assert_eq!((policy.attempts, policy.stable), (None, Reconnect::DEFAULT_STABLE));
    /// ```
    pub fn new(initial: Duration, max: Duration) -> Self {
        Reconnect { initial, max, attempts: None, stable: Self::DEFAULT_STABLE }
    }

    /// The same policy, resetting the backoff only after a session stayed up for `stable`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moxl_core::client::Reconnect;
    /// assert_eq!(Reconnect::default().stable_after(Duration::ZERO).stable, Duration::ZERO);
    /// ```
    pub fn stable_after(mut self, stable: Duration) -> Self {
        self.stable = stable;
        self
    }

    /// The attempt count to go on from after losing a session that was up for `uptime`, when `failed` attempts
    /// (and short sessions) came before it: 0 (start over) once it was [`stable`](Self::stable), else `failed`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moxl_core::client::Reconnect;
    /// let policy = Reconnect::default();
    /// assert_eq!(policy.carried_over(4, Duration::from_secs(2)), 4);
    /// assert_eq!(policy.carried_over(4, Duration::from_secs(300)), 0);
    /// ```
    pub fn carried_over(&self, failed: u32, uptime: Duration) -> u32 {
        if uptime >= self.stable {
            0
        } else {
            failed
        }
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
    tracing::trace!("supervisor task started");
    let Supervisor { shared, settings, state, jid, timing, reconnect, first, first_resend, lease_ttl } = s;
    let domain = settings.jid.domain().to_string();
    let mut renewal = shared.persist.renewal(lease_ttl, &shared.span).map(Task);
    let mut connected = first;
    let mut resend = first_resend;
    // Attempts (and short sessions) since the last stable session: the backoff goes on from there.
    let mut failed = 0u32;
    let mut up_since = Instant::now();
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
                shared.xec.abandon_pending("the client was closed", |_| false);
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
        failed = policy.carried_over(failed, up_since.elapsed());
        let reconnected = tokio::select! {
            // Boxed: connecting is a large future, and thousands of idle sessions should not each carry its space.
            c = Box::pin(reconnect_loop(&shared, &settings, &state, &jid, policy, reason, &mut failed)) => c,
            lost = lease_lost(&mut renewal) => {
                state.send_replace(ConnectionState::Disconnected(lost));
                None
            }
        };
        connected = match reconnected {
            Some(c) => c,
            None => return,
        };
        up_since = Instant::now();
        resend = start_session(&shared, &connected, &state, &jid, true);
        forget_lost_replies(&shared, &connected, &mut resend).await;
        run_start_hooks(&shared, &settings, &connected);
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
            credentials: settings.scram.as_ref().and_then(super::stored::ScramMemo::unsaved),
        })
        .await
}

/// Tries until connected, closed, or refused for good. `failed` counts the attempts since the last stable
/// session (see [`Reconnect::stable`]); each attempt adds one, a success leaves it for the next loss to judge.
async fn reconnect_loop(
    shared: &Shared,
    settings: &Settings,
    state: &watch::Sender<ConnectionState>,
    jid: &Mutex<FullJid>,
    policy: Reconnect,
    mut reason: String,
    failed: &mut u32,
) -> Option<Connected> {
    let mut closing = shared.closing.subscribe();
    loop {
        *failed = failed.saturating_add(1);
        let attempt = *failed;
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
/// to send first. `replaces` says that an earlier session existed (a lost connection, or a stored session from an
/// earlier run): a fresh session then reports [`ConnectionState::Reestablished`], else
/// [`ConnectionState::Online`].
pub(super) fn start_session(
    shared: &Shared,
    connected: &Connected,
    state: &watch::Sender<ConnectionState>,
    jid: &Mutex<FullJid>,
    replaces: bool,
) -> Vec<Element> {
    let new_jid = connected.jid.clone();
    *jid.lock().unwrap_or_else(PoisonError::into_inner) = new_jid.clone();
    shared.xec.set_jid(new_jid.clone());
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
            if replaces {
                tracing::info!(parent: &shared.span, jid = %new_jid, "a new session replaces the lost one");
            }
            let event = replaces.then(|| (ConnectionState::Reestablished(new_jid.clone()), Packet::REESTABLISHED));
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

/// On a fresh session that replaced a lost one, the pending Actions whose requests are not sent again time out
/// now: their requests were handled in the old stream (acknowledged by the server, or sent without stream
/// management), and whatever was queued for the old stream, their replies included, is not delivered to a new
/// one (XEP-0198 §5: only a resumed stream gets it; the server bounces or stores what the old session had not
/// delivered). Waiting for their deadlines would only delay the same answer. The requests the old stream had
/// not seen acknowledged are sent again (in `resend`, see [`start_session`]), as are those queued while
/// disconnected (moved into `resend`, behind them, here): those Actions stay pending and get their replies.
pub(super) async fn forget_lost_replies(shared: &Shared, connected: &Connected, resend: &mut Vec<Element>) {
    if matches!(connected.resumption, Resumption::Resumed { .. }) {
        return;
    }
    resend.extend(shared.xec.take_outgoing());
    let sent_again: std::collections::HashSet<String> = resend
        .iter()
        .filter(|s| s.is("iq", ns::CLIENT))
        .filter_map(|s| s.attr("id").map(|id| id.into_owned()))
        .collect();
    let lost = shared.xec.time_out_lost(|id| !sent_again.contains(id)).await;
    if lost > 0 {
        tracing::info!(parent: &shared.span, lost, "requests of the lost session time out: their replies are gone");
    }
}

/// On a fresh session (not after a resumption: the server kept what they asked for, XEP-0198 §5), runs the
/// session-start hooks (see [`StartHook`](super::StartHook)); their requests go out after `resend`.
pub(super) fn run_start_hooks(shared: &Shared, settings: &Settings, connected: &Connected) {
    if matches!(connected.resumption, Resumption::Resumed { .. }) {
        return;
    }
    // The latest roster version (a stored session's, updated by the roster handlers), else the one read at open.
    let ctx = shared.xec.context();
    let latest = ctx.get::<super::RosterVersion>().and_then(super::RosterVersion::get);
    let version = latest.as_deref().or(settings.roster_version.as_deref());
    let start = super::SessionStart::new(&connected.jid, &connected.info.features, version);
    super::start::run_hooks(&ctx, &start, &settings.skip_hooks);
}
