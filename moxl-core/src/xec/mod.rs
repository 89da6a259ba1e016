//! XEC, the XMPP event controller: Actions, Payloads, Packets, and the dispatcher that routes each stanza.
//!
//! # The route of one stanza ([`Xec::dispatch`])
//! 1. **Replies.** An `iq` `result`/`error`, or a `message` or `presence` of any type, whose `id` is a pending
//!    Action's id *and whose sender is the entity the request went to* is that Action's reply (a request sent without `to`, or to our own bare JID, may
//!    be answered with no `from` or from the account's bare JID: RFC 6120 §8.1.2.1, §10.3). `type='error'` goes to
//!    the Action's `error_<condition>` method, else its `error` method, else becomes a Packet and a warning; any
//!    other type goes to `handle`. A stanza reusing a pending id from another sender is not a reply: it goes on to
//!    step 3 (and is never given to the Action). A reply to an Action that timed out in the last ten minutes is
//!    dropped.
//! 2. **Unmatched results.** An `iq` of type `result` or `error` that answers nothing pending is never given to
//!    Payloads (it would let anyone forge a roster push as a "result"): it goes to the catch-all.
//! 3. **The descent.** The stanza, each of its children and each of their children (three levels, in document
//!    order: stanza, child 1, its children, child 2, its children…) is looked up by (name, namespace) in the
//!    registry. Every match fires, in this order for one element: the Payloads registered for the element's
//!    pubsub node, then those for any node; several for the same key in order of type name. The **node** of an
//!    element is its own `node` attribute, or else the `node` attribute of its first child element (so that a
//!    pubsub `<event>` is matched by the node of its `<items>`, `<retract>`, `<purge>`…).
//! 4. **Nothing matched.** An `iq` `get`/`set` is answered `<service-unavailable/>` (RFC 6120 §8.4); every
//!    unmatched stanza is delivered as a [`Packet::UNHANDLED`] Packet for a catch-all subscriber.
//!
//! Handlers that fail are reported with a `tracing` warning and a [`Packet::HANDLER_ERROR`] Packet.

mod action;
mod context;
mod packet;
mod payload;
mod pending;
mod registry;
mod store;

pub use action::{Action, BoxFuture, Outcome};
#[doc(hidden)]
pub use action::{AnyAction, IntoHandlerResult};
pub use context::{Context, PacketBuilder};
pub use packet::{HandlerFailure, Packet, PacketStream};
pub use payload::Payload;
pub use registry::PresenceExtensionFn;
pub use registry::Registry;
#[doc(hidden)]
pub use registry::{
    ActionRegistration, FeatureRegistration, PayloadFn, PayloadRegistration, PresenceExtensionRegistration, ReviveFn,
};
pub(crate) use store::ActionChange;
pub use store::{ActionStore, MemoryActionStore, StoredAction};

use std::any::Any;
use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use jid::{BareJid, Jid};
use tokio::time::{Duration, Instant};

use crate::stanza::{error_reply, Condition, StanzaError};
use crate::xml::{ns, Element};
use crate::{Error, Result};
use context::{Envelope, Extensions, Shared};
use packet::PacketBus;
use pending::{Entry, Pending, Taken};

/// The default time an Action waits for its reply.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

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

    /// Builds the controller; fails if the registry is inconsistent (see [`Registry`]).
    pub fn build(self) -> Result<Xec> {
        let shared = Shared {
            registry: Registry::global()?,
            outbox: Mutex::default(),
            pending: Mutex::new(Pending::default()),
            bus: PacketBus::default(),
            account: Mutex::new(self.account),
            timeout: self.timeout.unwrap_or(DEFAULT_TIMEOUT),
            extensions: self.extensions,
            outgoing: tokio::sync::Notify::new(),
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

    /// Every Packet from now on.
    pub fn packets(&self) -> PacketStream {
        self.shared.bus.subscribe(None)
    }

    /// The Packets with this key from now on.
    pub fn subscribe(&self, key: &str) -> PacketStream {
        self.shared.bus.subscribe(Some(key.to_owned()))
    }

    /// Delivers a Packet of the client's own (connection events) to the application.
    pub(crate) fn deliver(&self, packet: Packet) {
        self.shared.bus.deliver(packet);
    }

    /// Takes the stanzas queued for sending, oldest first.
    pub fn take_outgoing(&self) -> Vec<Element> {
        self.shared.outbox.lock().unwrap_or_else(PoisonError::into_inner).drain(..).collect()
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
        let expired = self.shared.pending().remove_lost(Instant::now(), lost);
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

    /// Routes one incoming top-level element (see the [module documentation](self) for the route).
    pub async fn dispatch(&self, stanza: Element) -> Dispatched {
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
        let fired = descend(&self.shared, &stanza, None).await;
        if fired > 0 {
            return Dispatched::Payloads(fired);
        }
        if is_stanza && name == "iq" && matches!(kind, Some("get" | "set")) {
            let reply = error_reply(&stanza, &StanzaError::new(Condition::ServiceUnavailable));
            if let Err(e) = self.context().send(reply) {
                tracing::warn!(error = %e, "cannot answer an unhandled iq");
            }
        }
        self.unhandled(stanza)
    }

    fn unhandled(&self, stanza: Element) -> Dispatched {
        tracing::debug!(name = stanza.name(), ns = stanza.ns(), "stanza not handled");
        let from = stanza.attr("from").map(|f| f.into_owned());
        self.shared.bus.deliver(Packet::new(Packet::UNHANDLED, from.as_deref(), Some(stanza)));
        Dispatched::Unhandled
    }

    async fn dispatch_reply(&self, stanza: &Element, kind: Option<&str>) -> Option<Dispatched> {
        let id = stanza.attr("id")?;
        let from = stanza.attr("from");
        let taken = self.shared.pending().take_reply(&id, from.as_deref(), || self.shared.account());
        match taken {
            Taken::No => None,
            Taken::Late => {
                tracing::debug!(id = %id, "late reply to a timed-out action dropped");
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
            .ok_or_else(|| Error::Store(format!("no registered Action type {}", stored.type_name)))?;
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
/// Payloads fired. `envelope` is what [`Context::envelope`] gives the handlers (set for an unwrapped stanza).
pub(crate) async fn descend(shared: &Arc<Shared>, stanza: &Element, envelope: Option<&Envelope>) -> usize {
    let root = stanza.index();
    let mut fired = fire(shared, stanza, root, envelope).await;
    let end = stanza.subtree_end_of(root);
    let mut child = root + 1;
    while child < end {
        fired += fire(shared, stanza, child, envelope).await;
        let child_end = stanza.subtree_end_of(child);
        let mut grandchild = child + 1;
        while grandchild < child_end {
            fired += fire(shared, stanza, grandchild, envelope).await;
            grandchild = stanza.subtree_end_of(grandchild);
        }
        child = child_end;
    }
    fired
}

async fn fire(shared: &Arc<Shared>, stanza: &Element, idx: u32, envelope: Option<&Envelope>) -> usize {
    let (name, ns) = stanza.name_ns_at(idx);
    let Some(slot) = shared.registry.slot(name, ns) else { return 0 };
    let element = stanza.at(idx);
    // The node: the element's own `node`, else its first child's (read only if a handler needs one).
    let first_child = if slot.has_nodes() && !element.has_attr("node") { element.first_child() } else { None };
    let node = if slot.has_nodes() {
        element.attr("node").or_else(|| first_child.as_ref().and_then(|c| c.attr("node")))
    } else {
        None
    };
    let mut fired = 0;
    for payload in slot.matching(node.as_deref()) {
        let ctx = Context::new(Arc::clone(shared), Cow::Borrowed(payload.key), "", Some(stanza.clone()))
            .with_envelope(envelope.cloned());
        report(shared, (payload.handler)(&ctx, &element, stanza).await, payload.key);
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
