//! XEC, the XMPP event controller: Actions, Payloads, Packets, and the dispatcher that routes each stanza.
//!
//! # The route of one stanza ([`Xec::dispatch`])
//! 1. **Replies.** An `iq` `result`/`error`, or a `message` or `presence` of any type, whose `id` is a pending
//!    Action's id *and whose sender is the entity the request went to* is that Action's reply (a request sent without `to`, or to our own bare JID, may
//!    be answered with no `from` or from the account's bare JID: RFC 6120 §8.1.2.1, §10.3). `type='error'` goes to
//!    the Action's `error_<condition>` method, else its `error` method, else becomes a Packet and a warning; any
//!    other type goes to `handle`. A stanza reusing a pending id from another sender is not a reply: it goes on to
//!    step 3 (and is never given to the Action). A reply to an Action that timed out in the last ten minutes is
//!    dropped. A `presence` that answers no id is the reply of a pending Action whose request went to exactly its
//!    sender (a full JID) if that Action's `answers` method recognises it (XEP-0045 §7.6: a room need not reflect
//!    the id of a nick change).
//! 2. **Unmatched results.** An `iq` of type `result` or `error` that answers nothing pending is never given to
//!    Payloads (it would let anyone forge a roster push as a "result"): it goes to the catch-all.
//! 3. **The descent.** The stanza, each of its children and each of their children (three levels, in document
//!    order: stanza, child 1, its children, child 2, its children…) is looked up by (name, namespace) in the
//!    registry. Position is part of the match ([`Position`]): a Payload fires only where it may stand (the
//!    top-level stanza for `message`/`presence`/`iq` handlers; `at = "child"` for an iq's payload…). A stanza
//!    nested in the one being dispatched (a forwarded message, any wrapper) is not the stanza: stanza-level
//!    handlers do not fire for it and the descent does not enter it; it reaches handlers only when whoever
//!    vouches for it unwraps it ([`Context::dispatch_inner`], with an envelope the handlers can read). Every
//!    match fires, in this order for one element: the Payloads registered for the element's pubsub node, then
//!    those for any node; several for the same key in order of type name. The **node** of an element is its own
//!    `node` attribute, or else the `node` attribute of its first child element (so that a pubsub `<event>` is
//!    matched by the node of its `<items>`, `<retract>`, `<purge>`…).
//! 4. **Answers.** An `iq` `get`/`set` gets exactly one reply (RFC 6120 §8.2.3): if no handler answered it (none
//!    matched, or those that matched declined) and none said the application will
//!    ([`Context::answer_later`]), it is answered `<service-unavailable/>` (RFC 6120 §8.4) and delivered as a
//!    [`Packet::UNHANDLED`] Packet for a catch-all subscriber, as is every stanza that nothing handled.
//! 5. **Delivery.** What the handlers delivered reaches the application's subscriptions, each a bounded queue:
//!    [`Xec::dispatch`] returns once everything fits (a subscriber that does not read slows its own session,
//!    never others, and loses nothing; see [`XecBuilder::event_capacity`]). Each Packet has two views: its key
//!    (Moxl's, [`Xec::subscribe`]) and its content's type ([`Xec::events`]); an Action's `Output` is also what
//!    its awaited [`Request`] resolves to.
//!
//! Handlers that fail are reported with a `tracing` warning and a [`Packet::HANDLER_ERROR`] Packet.

mod action;
mod context;
mod packet;
mod payload;
mod pending;
mod registry;
mod store;

pub(crate) use action::Tracked;
pub use action::{Action, BoxFuture, Outcome, Request};
#[doc(hidden)]
pub use action::{AnyAction, IntoHandlerResult, IntoOutput};
pub use context::{Context, PacketBuilder};
pub(crate) use packet::PacketBus;
pub use packet::{Event, EventStream, HandlerFailure, Packet, PacketStream, DEFAULT_EVENT_CAPACITY};
pub use payload::Payload;
pub use registry::PresenceExtensionFn;
#[doc(hidden)]
pub use registry::{
    ActionRegistration, FeatureRegistration, PayloadFn, PayloadRegistration, PresenceExtensionRegistration, ReviveFn,
};
pub use registry::{Position, Registry};
pub(crate) use store::ActionChange;
pub use store::{ActionStore, MemoryActionStore, StoredAction};

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use jid::{BareJid, FullJid, Jid};
use tokio::time::{Duration, Instant};

use crate::stanza::{error_reply, Condition, StanzaError};
use crate::xml::{ns, Element};
use crate::{Error, Result};
use context::{Envelope, Extensions, Shared};
use pending::{Entry, Pending, Taken};

/// The default time an Action waits for its reply.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The default bound of the outgoing queue ([`XecBuilder::outbox_capacity`]).
pub const DEFAULT_OUTBOX_CAPACITY: usize = 4096;

/// What [`Xec::dispatch`] did with a stanza.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dispatched {
    /// It was a pending Action's reply.
    Reply,
    /// It was the late reply of an Action that had timed out; dropped.
    LateReply,
    /// This many Payloads fired.
    Payloads(usize),
    /// Nothing handled it: delivered as [`Packet::UNHANDLED`] (and answered `service-unavailable` if it was an
    /// `iq` request).
    Unhandled,
}

/// Configures an [`Xec`].
///
/// ```
/// use moxl_core::xec::Xec;
/// struct Db(&'static str);
/// let xec = Xec::builder().timeout(std::time::Duration::from_secs(5)).extension(Db("sqlite://x")).build()?;
/// assert_eq!(xec.context().get::<Db>().map(|d| d.0), Some("sqlite://x"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Default)]
pub struct XecBuilder {
    timeout: Option<Duration>,
    extensions: Extensions,
    account: Option<BareJid>,
    outbox_capacity: Option<usize>,
    event_capacity: Option<usize>,
    bus: Option<Arc<PacketBus>>,
}

impl fmt::Debug for XecBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XecBuilder")
            .field("timeout", &self.timeout)
            .field("account", &self.account)
            .field("outbox_capacity", &self.outbox_capacity)
            .field("event_capacity", &self.event_capacity)
            .finish_non_exhaustive()
    }
}

impl XecBuilder {
    /// How long Actions wait for their reply (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Makes a value available to every handler through [`Context::get`] (one per type).
    pub fn extension<T: Any + Send + Sync>(mut self, value: T) -> Self {
        self.extensions.insert(value);
        self
    }

    /// The account's bare JID (also settable later, once bound, with [`Xec::set_account`]).
    pub fn account(mut self, account: BareJid) -> Self {
        self.account = Some(account);
        self
    }

    /// At most this many stanzas wait to be written (default [`DEFAULT_OUTBOX_CAPACITY`]); beyond,
    /// [`Context::send`] refuses them with [`Error::Refused`] instead of growing without limit.
    pub fn outbox_capacity(mut self, capacity: usize) -> Self {
        self.outbox_capacity = Some(capacity.max(1));
        self
    }

    /// How many Packets each subscription ([`Xec::packets`], [`Xec::subscribe`], [`Xec::events`]) queues before
    /// the session waits for the application to read (default [`DEFAULT_EVENT_CAPACITY`]). Nothing is dropped:
    /// a subscriber that does not keep up slows its own session (which stops reading from the server), never
    /// others. Drop a stream to unsubscribe.
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = Some(capacity.max(1));
        self
    }

    /// Uses a bus that subscribers joined before the controller existed (a client's, before `connect`).
    pub(crate) fn bus(mut self, bus: Arc<PacketBus>) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Builds the controller; fails if the registry is inconsistent (see [`Registry`]).
    pub fn build(self) -> Result<Xec> {
        let bus = self.bus.unwrap_or_default();
        if let Some(capacity) = self.event_capacity {
            bus.set_capacity(capacity);
        }
        let shared = Shared {
            registry: Registry::global()?,
            outbox: Mutex::default(),
            outbox_capacity: self.outbox_capacity.unwrap_or(DEFAULT_OUTBOX_CAPACITY),
            pending: Mutex::new(Pending::default()),
            bus,
            account: Mutex::new(self.account),
            jid: Mutex::default(),
            timeout: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
            extensions: self.extensions,
            outgoing: tokio::sync::Notify::new(),
            drained: tokio::sync::Notify::new(),
            timer: tokio::sync::Notify::new(),
            state: Mutex::default(),
        };
        Ok(Xec { shared: Arc::new(shared) })
    }
}

/// The event controller of one session: routes incoming stanzas to Actions and Payloads, holds the pending
/// Actions, queues outgoing stanzas and delivers Packets.
///
/// It does no I/O: the client feeds it elements from the stream parser and writes what
/// [`take_outgoing`](Self::take_outgoing) returns; tests do the same with byte fixtures.
///
/// ```
/// use moxl_core::xec::{Dispatched, Packet, Xec};
/// use moxl_core::xml::Element;
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let xec = Xec::new()?;
/// let mut unhandled = xec.subscribe(Packet::UNHANDLED);
/// let ping = Element::parse("<iq xmlns='jabber:client' from='example.com' id='p1' type='get'><nothing xmlns='urn:x'/></iq>")?;
/// assert_eq!(xec.dispatch(ping).await, Dispatched::Unhandled);
/// // answered with service-unavailable, and offered to the catch-all
/// assert!(xec.take_outgoing()[0].to_xml().contains("service-unavailable"));
/// assert!(unhandled.try_recv().is_some());
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
pub struct Xec {
    shared: Arc<Shared>,
}

impl fmt::Debug for Xec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Xec")
            .field("account", &self.shared.account())
            .field("pending", &self.pending())
            .finish_non_exhaustive()
    }
}

impl Xec {
    /// A controller with the default settings.
    pub fn new() -> Result<Xec> {
        Self::builder().build()
    }

    /// Configures a controller.
    pub fn builder() -> XecBuilder {
        XecBuilder::default()
    }

    /// A context for the application: send stanzas, start Actions.
    pub fn context(&self) -> Context {
        Context::new(Arc::clone(&self.shared), Cow::Borrowed(""), "", None)
    }

    /// Sets the account's bare JID (after resource binding), used to recognise replies from our own server.
    pub fn set_account(&self, account: BareJid) {
        *self.shared.account.lock().unwrap_or_else(PoisonError::into_inner) = Some(account);
    }

    /// Sets the session's bound full JID (the client does it each time a session is bound), which handlers read
    /// with [`Context::jid`]: the address peers see, for protocols that name it (XEP-0166's `initiator`).
    ///
    /// ```
    /// let xec = moxl_core::xec::Xec::new()?;
    /// xec.set_jid("juliet@capulet.lit/balcony".parse()?);
    /// assert_eq!(xec.context().jid().map(|j| j.to_string()).as_deref(), Some("juliet@capulet.lit/balcony"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_jid(&self, jid: FullJid) {
        *self.shared.jid.lock().unwrap_or_else(PoisonError::into_inner) = Some(jid);
    }

    /// Every Packet from now on.
    pub fn packets(&self) -> PacketStream {
        self.shared.bus.subscribe(None)
    }

    /// The Packets with this key from now on.
    pub fn subscribe(&self, key: &str) -> PacketStream {
        self.shared.bus.subscribe(Some(key.to_owned()))
    }

    /// The events whose content is a `T` from now on, whatever their key: the typed view of the Packets (an
    /// incoming message, a roster push, a connection state change…). No key to spell, no downcast.
    ///
    /// ```
    /// use moxl_core::xec::Xec;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// #[derive(Debug, PartialEq)]
    /// struct Greeting(&'static str);
    /// let xec = Xec::new()?;
    /// let mut greetings = xec.events::<Greeting>();
    /// xec.context().pack(7u8).deliver(); // another type: not for this stream
    /// xec.context().pack(Greeting("hello")).deliver();
    /// assert_eq!(*greetings.recv().await.unwrap(), Greeting("hello"));
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub fn events<T: Any + Send + Sync>(&self) -> EventStream<T> {
        EventStream::new(self.shared.bus.subscribe_type(TypeId::of::<T>()))
    }

    /// Ends every pending Action whose reply can no longer come (the session was replaced by a new one, or is
    /// closed), except those whose request id `keep` says will still be answered (sent again): whoever awaits
    /// one gets [`Error::Disconnected`], and a Packet `group_type_disconnected` is delivered. Returns how many.
    pub(crate) fn abandon_pending(&self, reason: &str, keep: impl Fn(&str) -> bool) -> usize {
        let abandoned = self.shared.pending().remove_lost(Instant::now(), |id| !keep(id));
        let count = abandoned.len();
        for (id, mut entry) in abandoned {
            tracing::debug!(id, prefix = entry.prefix, "action abandoned: {reason}");
            entry.action.abandon(Error::Disconnected(reason.to_owned()));
            let key = format!("{}_disconnected", entry.prefix);
            self.shared.bus.deliver(Packet::new(key, None, Some(reason.to_owned())));
        }
        count
    }

    /// Delivers a Packet of the client's own (connection events) to the application.
    pub(crate) fn deliver(&self, packet: Packet) {
        self.shared.bus.deliver(packet);
    }

    /// Takes the stanzas queued for sending, oldest first.
    pub fn take_outgoing(&self) -> Vec<Element> {
        let taken: Vec<Element> = self.shared.outbox.lock().unwrap_or_else(PoisonError::into_inner).drain(..).collect();
        if !taken.is_empty() {
            self.shared.drained.notify_waiters();
        }
        taken
    }

    /// Waits until a stanza is queued for sending.
    pub async fn outgoing_ready(&self) {
        self.shared.outgoing.notified().await;
    }

    /// How many Actions await their reply.
    pub fn pending(&self) -> usize {
        self.shared.pending().len()
    }

    /// When the next pending Action times out.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.shared.pending().next_deadline()
    }

    /// Runs the timeout of every Action whose deadline is `now` or earlier; returns how many timed out.
    pub async fn expire(&self, now: Instant) -> usize {
        let expired = self.shared.pending().expire(now);
        self.run_timeouts(expired).await
    }

    /// Times out now the pending Actions that `lost` picks by id: their requests went out on a stream whose
    /// replies are gone (a fresh session replaced a lost one that could not be resumed, XEP-0198 §5). Each runs
    /// its `timeout` as if its deadline had passed; a late reply is dropped. Returns how many.
    pub(crate) async fn time_out_lost(&self, lost: impl Fn(&str) -> bool) -> usize {
        let mut expired = self.shared.pending().remove_lost(Instant::now(), lost);
        // Whoever awaits one learns the truth (the session that would have carried the reply is gone); the
        // Action's own `timeout` method still runs, for the Packet view.
        for (_, entry) in &mut expired {
            entry.action.abandon(Error::Disconnected("the session was replaced by a new one".into()));
        }
        self.run_timeouts(expired).await
    }

    async fn run_timeouts(&self, expired: Vec<(String, pending::Entry)>) -> usize {
        let count = expired.len();
        for (id, mut entry) in expired {
            tracing::debug!(id, prefix = entry.prefix, "action timed out");
            let ctx = Context::new(Arc::clone(&self.shared), Cow::Borrowed(""), entry.prefix, None);
            self.report(entry.action.dispatch(&ctx, Outcome::Timeout).await, &format!("{}_timeout", entry.prefix));
        }
        count
    }

    /// Runs timeouts as their deadlines pass, forever (spawn it next to the reader). A new request with an
    /// earlier deadline wakes it.
    pub async fn run_timers(&self) {
        loop {
            match self.next_deadline() {
                Some(deadline) => {
                    if tokio::time::timeout_at(deadline, self.shared.timer.notified()).await.is_err() {
                        self.expire(Instant::now()).await;
                    }
                }
                None => self.shared.timer.notified().await,
            }
        }
    }

    /// Routes one incoming top-level element (see the [module documentation](self) for the route). Returns
    /// once its handlers ran and every Packet they delivered is queued for its subscribers (waiting for a
    /// subscriber that does not keep up: see [`XecBuilder::event_capacity`]).
    pub async fn dispatch(&self, stanza: Element) -> Dispatched {
        let dispatched = self.route(stanza).await;
        self.shared.bus.flush().await;
        dispatched
    }

    async fn route(&self, stanza: Element) -> Dispatched {
        let name = stanza.name();
        let is_stanza = matches!(name, "iq" | "message" | "presence") && stanza.ns() == ns::CLIENT;
        let kind = stanza.attr("type");
        let kind = kind.as_deref();
        // An iq `get`/`set` is a request even when it reuses a pending id: only `result`/`error` answer one.
        let may_answer = name != "iq" || matches!(kind, Some("result" | "error"));
        if is_stanza && may_answer {
            if let Some(result) = self.dispatch_reply(&stanza, kind).await {
                return result;
            }
            if name == "iq" {
                tracing::warn!(id = ?stanza.attr("id"), from = ?stanza.attr("from"), "iq {} answers no pending request", kind.unwrap_or_default());
                return self.unhandled(stanza);
            }
        }
        // RFC 6120 §8.2.3: an iq request gets exactly one reply. A handler that matched but did not answer (it
        // declined: a push from a stranger, a request it does not serve) leaves it to us.
        let request = is_stanza && name == "iq" && matches!(kind, Some("get" | "set"));
        let replied = request.then(|| Arc::new(AtomicBool::new(false)));
        let fired = descend(&self.shared, &stanza, None, replied.as_ref()).await;
        let answered = replied.is_some_and(|r| r.load(Ordering::Relaxed));
        if request && !answered {
            let reply = error_reply(&stanza, &StanzaError::new(Condition::ServiceUnavailable));
            if let Err(e) = self.context().send(reply) {
                tracing::warn!(error = %e, "cannot answer an unhandled iq");
            }
            if fired > 0 {
                tracing::debug!(id = ?stanza.attr("id"), "iq request matched {fired} handler(s), none answered: service-unavailable sent");
            }
            return self.unhandled(stanza);
        }
        if fired > 0 {
            return Dispatched::Payloads(fired);
        }
        self.unhandled(stanza)
    }

    fn unhandled(&self, stanza: Element) -> Dispatched {
        tracing::debug!(name = stanza.name(), ns = stanza.ns(), "stanza not handled");
        if !self.shared.bus.wants(Packet::UNHANDLED, Some(TypeId::of::<Element>())) {
            return Dispatched::Unhandled;
        }
        let from = stanza.attr("from").map(|f| f.into_owned());
        self.shared.bus.deliver(Packet::new(Packet::UNHANDLED, from.as_deref(), Some(stanza)));
        Dispatched::Unhandled
    }

    async fn dispatch_reply(&self, stanza: &Element, kind: Option<&str>) -> Option<Dispatched> {
        let from = stanza.attr("from");
        let taken = match stanza.attr("id") {
            Some(id) => self.shared.pending().take_reply(&id, from.as_deref(), || self.shared.account()),
            None => Taken::No,
        };
        // A presence that answers nothing by id may still answer an Action that recognises it (`answers`).
        let taken = match taken {
            Taken::No if stanza.name() == "presence" => {
                match self.shared.pending().take_answer(from.as_deref(), stanza) {
                    Some((id, entry)) => Taken::Reply(id, entry),
                    None => Taken::No,
                }
            }
            taken => taken,
        };
        match taken {
            Taken::No => None,
            Taken::Late => {
                tracing::debug!(id = ?stanza.attr("id"), "late reply to a timed-out action dropped");
                Some(Dispatched::LateReply)
            }
            Taken::Reply(id, mut entry) => {
                let ctx = Context::new(Arc::clone(&self.shared), Cow::Borrowed(""), entry.prefix, Some(stanza.clone()));
                let result = if kind == Some("error") {
                    let error = StanzaError::from_stanza(stanza).unwrap_or_else(StanzaError::missing);
                    entry.action.dispatch(&ctx, Outcome::Error(&error, stanza)).await
                } else {
                    entry.action.dispatch(&ctx, Outcome::Reply(stanza)).await
                };
                tracing::trace!(id, "reply handled");
                self.report(result, entry.prefix);
                Some(Dispatched::Reply)
            }
        }
    }

    fn report(&self, result: Result<()>, key: &str) {
        report(&self.shared, result, key);
    }

    /// The pending Actions, serialized for an [`ActionStore`].
    pub fn saved_actions(&self) -> Result<Vec<StoredAction>> {
        let now = Instant::now();
        let wall = SystemTime::now();
        let pending = self.shared.pending();
        let mut out = Vec::with_capacity(pending.len());
        for (id, entry) in pending.iter() {
            out.push(StoredAction {
                id: id.clone(),
                type_name: entry.action.type_name().to_owned(),
                state: entry.action.state()?,
                to: entry.to.as_ref().map(|j| j.to_string()),
                deadline: wall + entry.deadline.saturating_duration_since(now),
            });
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Revives a stored Action (by its registered type name) into the pending set, so that its reply reaches it.
    pub fn restore(&self, stored: &StoredAction) -> Result<()> {
        let ty = self
            .shared
            .registry
            .action_type(&stored.type_name)
            .ok_or_else(|| crate::session::StoreError::UnknownAction { type_name: stored.type_name.clone() })?;
        let action = (ty.registration.revive)(&stored.state)?;
        let to = stored.to.as_deref().map(Jid::new).transpose()?;
        let left = stored.deadline.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
        let entry = Entry { action, to, deadline: Instant::now() + left, prefix: &ty.prefix };
        self.shared.pending().insert_restored(stored.id.clone(), entry);
        self.shared.timer.notify_one();
        Ok(())
    }

    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    /// Journals Action changes from now on, for [`take_action_changes`](Self::take_action_changes).
    pub(crate) fn journal_actions(&self) {
        self.shared.pending().start_journal();
    }

    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    /// The Actions started, answered or timed out since the last call, as store operations, oldest first. An
    /// Action started and finished in between gives only its removal.
    pub(crate) fn take_action_changes(&self) -> Result<Vec<ActionChange>> {
        let now = Instant::now();
        let wall = SystemTime::now();
        let mut pending = self.shared.pending();
        let changes = pending.take_changes();
        let mut out = Vec::with_capacity(changes.len());
        for change in changes {
            match change {
                pending::Change::Saved(id) => {
                    if let Some(entry) = pending.get(&id) {
                        out.push(ActionChange::Save(StoredAction {
                            type_name: entry.action.type_name().to_owned(),
                            state: entry.action.state()?,
                            to: entry.to.as_ref().map(|j| j.to_string()),
                            deadline: wall + entry.deadline.saturating_duration_since(now),
                            id,
                        }));
                    }
                }
                pending::Change::Removed(id) => out.push(ActionChange::Remove(id)),
            }
        }
        Ok(out)
    }

    /// Saves every pending Action to a store.
    pub async fn save_to(&self, store: &impl ActionStore) -> Result<()> {
        for action in self.saved_actions()? {
            store.save(&action).await?;
        }
        Ok(())
    }

    /// Revives every Action of a store; returns how many.
    pub async fn restore_from(&self, store: &impl ActionStore) -> Result<usize> {
        let actions = store.load().await?;
        for action in &actions {
            self.restore(action)?;
        }
        Ok(actions.len())
    }
}

/// The three-level descent, walking node indices (an [`Element`] is made only for a match); returns how many
/// Payloads fired. `envelope` is what [`Context::envelope`] gives the handlers (set for an unwrapped stanza);
/// `replied` is the flag an `iq` request's handlers set by answering it.
///
/// Position is part of a match ([`Position`]): the stanza is depth 0, its children 1, their children 2. A
/// `message`, `presence` or `iq` found below the top (a forwarded or otherwise wrapped stanza) is not the
/// stanza: handlers for stanza-level elements do not fire for it (unless registered `at = "any"`), and the
/// descent does not enter it, so nothing inside it passes for part of the stanza that carried it. Such a
/// stanza reaches handlers only when whoever vouches for it unwraps it ([`Context::dispatch_inner`]).
pub(crate) async fn descend(
    shared: &Arc<Shared>,
    stanza: &Element,
    envelope: Option<&Envelope>,
    replied: Option<&Arc<AtomicBool>>,
) -> usize {
    let root = stanza.index();
    let mut fired = fire(shared, stanza, root, 0, envelope, replied).await;
    let end = stanza.subtree_end_of(root);
    let mut child = root + 1;
    while child < end {
        let child_end = stanza.subtree_end_of(child);
        fired += fire(shared, stanza, child, 1, envelope, replied).await;
        if !is_nested_stanza(stanza, child) {
            let mut grandchild = child + 1;
            while grandchild < child_end {
                fired += fire(shared, stanza, grandchild, 2, envelope, replied).await;
                grandchild = stanza.subtree_end_of(grandchild);
            }
        }
        child = child_end;
    }
    fired
}

/// Whether the element at `idx` is a stanza (`message`, `presence`, `iq` of the client or server namespace).
fn is_nested_stanza(stanza: &Element, idx: u32) -> bool {
    let (name, ns) = stanza.name_ns_at(idx);
    matches!(name, "message" | "presence" | "iq") && (ns == ns::CLIENT || ns == ns::SERVER)
}

async fn fire(
    shared: &Arc<Shared>,
    stanza: &Element,
    idx: u32,
    depth: u8,
    envelope: Option<&Envelope>,
    replied: Option<&Arc<AtomicBool>>,
) -> usize {
    let (name, ns) = stanza.name_ns_at(idx);
    let Some(slot) = shared.registry.slot(name, ns) else { return 0 };
    let nested_stanza = depth > 0 && is_nested_stanza(stanza, idx);
    if !slot.any_at(depth, nested_stanza) {
        return 0;
    }
    let element = stanza.at(idx);
    // The node: the element's own `node`, else its first child's (read only if a handler needs one).
    let first_child = if slot.has_nodes() && !element.has_attr("node") { element.first_child() } else { None };
    let node = if slot.has_nodes() {
        element.attr("node").or_else(|| first_child.as_ref().and_then(|c| c.attr("node")))
    } else {
        None
    };
    let mut fired = 0;
    for payload in slot.matching(node.as_deref()).filter(|p| p.fires_at(depth, nested_stanza)) {
        let ctx = Context::new(Arc::clone(shared), Cow::Borrowed(payload.registration.key), "", Some(stanza.clone()))
            .with_envelope(envelope.cloned())
            .with_reply_flag(replied.cloned());
        // A handler with nothing to do ([`Payload::wanted`]) is not started, but it matched: it counts as fired.
        if let Some(handling) = (payload.registration.handler)(&ctx, &element, stanza) {
            report(shared, handling.await, payload.registration.key);
        }
        fired += 1;
    }
    fired
}

fn report(shared: &Shared, result: Result<()>, key: &str) {
    if let Err(error) = result {
        tracing::warn!(key, %error, "handler failed");
        let failure = HandlerFailure { key: key.to_owned(), error: error.to_string() };
        shared.bus.deliver(Packet::new(Packet::HANDLER_ERROR, None, Some(failure)));
    }
}
