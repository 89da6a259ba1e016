//! [`Context`]: what a handler can do (send, request, deliver), and the state it shares with the controller.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use jid::{BareJid, FullJid, Jid};
use rand::distr::{Alphanumeric, SampleString};
use rustc_hash::FxHashMap;
use tokio::sync::{oneshot, Notify};
use tokio::time::{Duration, Instant};

use super::action::{Continuation, Request, Tracked};
use super::pending::{Entry, Pending};
use super::{Action, BoxFuture, Packet, PacketBus, Registry};
use crate::xml::{ns, Element, ElementBuilder, ElementOrBuilder};
use crate::{Error, Result};

/// Values the application makes available to every handler through [`Context::get`].
#[derive(Default)]
pub(crate) struct Extensions {
    map: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl Extensions {
    pub(crate) fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        self.map.insert(TypeId::of::<T>(), Box::new(value));
    }

    fn get<T: Any>(&self) -> Option<&T> {
        self.map.get(&TypeId::of::<T>()).and_then(|b| b.downcast_ref())
    }
}

/// State shared by the controller and every [`Context`].
pub(crate) struct Shared {
    pub(crate) registry: &'static Registry,
    pub(crate) outbox: Mutex<VecDeque<Element>>,
    pub(crate) pending: Mutex<Pending>,
    pub(crate) bus: Arc<PacketBus>,
    pub(crate) account: Mutex<Option<BareJid>>,
    /// The bound full JID, once known ([`Xec::set_jid`](super::Xec::set_jid)).
    pub(crate) jid: Mutex<Option<FullJid>>,
    pub(crate) timeout: Duration,
    pub(crate) extensions: Extensions,
    /// At most this many stanzas wait in the outbox.
    pub(crate) outbox_capacity: usize,
    /// Signalled when the outbox gets a stanza.
    pub(crate) outgoing: Notify,
    /// Signalled when the outbox is emptied (room for senders waiting in [`Context::sendable`]).
    pub(crate) drained: Notify,
    /// Signalled when a new deadline may be earlier than the one the timer waits for.
    pub(crate) timer: Notify,
    /// Handler state of this session, one value per type ([`Context::session_state`]).
    pub(crate) state: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

/// What a handler of an unwrapped stanza learns about the stanza that carried it ([`Context::envelope`]).
pub(crate) type Envelope = Arc<dyn Any + Send + Sync>;

impl Shared {
    pub(crate) fn pending(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn account(&self) -> Option<BareJid> {
        self.account.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// What a handler (or the application) can do: send stanzas, start Actions, deliver Packets, read shared values.
///
/// A `Context` is cheap to clone and `'static`, so a handler can hand it to a spawned task for slow work. Each
/// handler invocation gets a context whose Packet key is the handler's (`vcard_get_handle`, `saslfailure`).
///
/// ```
/// use moxl_core::xec::Xec;
/// let xec = Xec::new()?;
/// let ctx = xec.context();
/// ctx.send(moxl_core::stanza::presence(None, None))?;
/// assert_eq!(xec.take_outgoing()[0].to_xml(), "<presence xmlns='jabber:client'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Context {
    pub(crate) shared: Arc<Shared>,
    key: Cow<'static, str>,
    prefix: &'static str,
    /// The stanza being handled (its `from` is read when needed).
    stanza: Option<Element>,
    /// Set while handling a stanza unwrapped from another one ([`Context::dispatch_inner`]).
    envelope: Option<Envelope>,
    /// Set while handling an `iq` request: whether a handler answered it (RFC 6120 §8.2.3).
    replied: Option<Arc<AtomicBool>>,
    /// Set while an Action method runs: where [`Context::continue_with`] notes the next Action.
    continuation: Option<Continuation>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("key", &self.key)
            .field("stanza", &self.stanza.as_ref().map(|s| s.name()))
            .finish_non_exhaustive()
    }
}

impl Context {
    pub(crate) fn new(
        shared: Arc<Shared>,
        key: Cow<'static, str>,
        prefix: &'static str,
        stanza: Option<Element>,
    ) -> Self {
        Context { shared, key, prefix, stanza, envelope: None, replied: None, continuation: None }
    }

    pub(crate) fn with_continuation(&self, continuation: Continuation) -> Context {
        let mut ctx = self.clone();
        ctx.continuation = Some(continuation);
        ctx
    }

    pub(crate) fn with_reply_flag(mut self, replied: Option<Arc<AtomicBool>>) -> Self {
        self.replied = replied;
        self
    }

    /// The context of one Action method (used by `#[action]`): its Packet key is `<group_type>_<suffix>`.
    #[doc(hidden)]
    pub fn __method(&self, suffix: &'static str) -> Context {
        Context {
            shared: Arc::clone(&self.shared),
            key: Cow::Borrowed(method_key(self.prefix, suffix)),
            prefix: self.prefix,
            stanza: self.stanza.clone(),
            envelope: self.envelope.clone(),
            replied: self.replied.clone(),
            continuation: self.continuation.clone(),
        }
    }

    pub(crate) fn with_envelope(mut self, envelope: Option<Envelope>) -> Self {
        self.envelope = envelope;
        self
    }

    /// The Packet key of the running handler (empty for the application's own context).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The sender of the stanza being handled.
    pub fn from(&self) -> Option<Cow<'_, str>> {
        self.stanza.as_ref().and_then(|s| s.attr("from"))
    }

    /// Sends a stanza (an [`Element`] or an [`ElementBuilder`](crate::xml::ElementBuilder)). An `<iq/>` builder
    /// without an id is given a fresh one (RFC 6120 §8.2.3); to handle its reply, use an Action instead. An
    /// available presence (no `type`) gets the children of every registered
    /// [presence extension](crate::presence_extension).
    ///
    /// The outgoing queue is bounded ([`XecBuilder::outbox_capacity`](super::XecBuilder::outbox_capacity)): when
    /// the connection cannot keep up (or is down) and the queue is full, the stanza is refused with
    /// [`Error::Refused`] rather than kept in memory without limit; [`sendable`](Self::sendable) waits for room.
    pub fn send(&self, stanza: impl Into<ElementOrBuilder>) -> Result<()> {
        let element = self.extend_presence(stanza.into().into_stanza(new_id)?)?;
        if let (Some(replied), Some(handled)) = (&self.replied, &self.stanza) {
            if is_reply_to(&element, handled) {
                replied.store(true, Ordering::Relaxed);
            }
        }
        {
            let mut outbox = self.shared.outbox.lock().unwrap_or_else(PoisonError::into_inner);
            if outbox.len() >= self.shared.outbox_capacity {
                return Err(refused_full(self.shared.outbox_capacity));
            }
            outbox.push_back(element);
        }
        self.shared.outgoing.notify_one();
        Ok(())
    }

    fn check_room(&self) -> Result<()> {
        let len = self.shared.outbox.lock().unwrap_or_else(PoisonError::into_inner).len();
        if len >= self.shared.outbox_capacity {
            return Err(refused_full(self.shared.outbox_capacity));
        }
        Ok(())
    }

    /// Waits until the outgoing queue has room for a stanza (see [`send`](Self::send)).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let xec = moxl_core::xec::Xec::new()?;
    /// xec.context().sendable().await;
    /// xec.context().send(moxl_core::stanza::presence(None, None))?;
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn sendable(&self) {
        loop {
            let notified = self.shared.drained.notified();
            let len = self.shared.outbox.lock().unwrap_or_else(PoisonError::into_inner).len();
            if len < self.shared.outbox_capacity {
                return;
            }
            notified.await;
        }
    }

    /// Adds what the presence extensions give to an available presence; anything else is returned as it is.
    fn extend_presence(&self, stanza: Element) -> Result<Element> {
        let extensions = self.shared.registry.presence_extensions();
        if extensions.is_empty() || !stanza.is("presence", ns::CLIENT) || stanza.has_attr("type") {
            return Ok(stanza);
        }
        let added: Vec<ElementBuilder> = extensions.iter().filter_map(|extend| extend(self, &stanza)).collect();
        if added.is_empty() {
            return Ok(stanza);
        }
        let mut presence = ElementBuilder::new("presence", ns::CLIENT);
        for (name, value) in stanza.attrs() {
            presence.set_attr(name.to_owned(), value.into_owned());
        }
        for child in stanza.children() {
            presence.push(child);
        }
        for child in added {
            presence.push(child);
        }
        presence.build()
    }

    /// Sends an Action's request with a fresh id and remembers the Action until its reply, or until the default
    /// timeout (60 s unless configured). `.await` the returned [`Request`] for the Action's `Output`, or drop it:
    /// the Action runs either way and its Packets are delivered.
    ///
    /// Fails at once, sending nothing, if `A` is not a registered Action, its request is not a valid stanza, or
    /// the outgoing queue is full ([`Error::Refused`]).
    ///
    /// ```
    /// use moxl::prelude::*;
    /// # #[derive(Serialize, Deserialize)] struct Version { to: String }
    /// # #[action(group = "doc_ctx")] impl Version {
    /// #     type Output = Option<String>;
    /// #     fn request(&self) -> ElementBuilder { iq_get(Some(&self.to)).append(ElementBuilder::new("query", "jabber:iq:version")) }
    /// #     async fn handle(&mut self, _: &Context, s: &Element) -> Result<Option<String>> {
    /// #         Ok(s.child("query", "jabber:iq:version").and_then(|q| q.child_text("name", "jabber:iq:version"))) } }
    /// async fn software(ctx: &Context, to: &str) -> Result<Option<String>> {
    ///     ctx.request(Version { to: to.into() })?.await
    /// }
    /// ```
    pub fn request<A: Action>(&self, action: A) -> Result<Request<A::Output>> {
        self.request_with_timeout(action, self.shared.timeout)
    }

    /// [`request`](Self::request) with its own timeout.
    pub fn request_with_timeout<A: Action>(&self, action: A, timeout: Duration) -> Result<Request<A::Output>> {
        let ty = self.shared.registry.action_type(A::TYPE_NAME).ok_or_else(|| {
            Error::Registry(format!("{} is not a registered Action (is #[action] on its impl?)", A::TYPE_NAME))
        })?;
        let id = new_id();
        let mut request = action.request();
        request.set_attr("id", id.clone());
        let stanza = request.build()?;
        self.check_room()?;
        let to = stanza.attr("to").map(|t| Jid::new(&t)).transpose()?;
        let (tx, rx) = oneshot::channel();
        let tracked = Tracked { action, waiter: Some(tx) };
        let entry = Entry { action: Box::new(tracked), to, deadline: Instant::now() + timeout, prefix: &ty.prefix };
        self.shared.pending().insert(id.clone(), entry);
        self.shared.timer.notify_one();
        self.send(stanza)?;
        Ok(Request::new(id, rx))
    }

    /// Starts `action` as the continuation of the Action whose method is running (the next page of a query, a
    /// retry after reconfiguring a node): whoever awaits the running Action's [`Request`] gets `action`'s result
    /// instead of this one's. The two must have the same `Output` (otherwise the requester gets this Action's
    /// own result, and a warning is logged). The continued Action's own `Output` is then neither awaited nor
    /// delivered as a Packet: only the last step of a chain delivers. Outside an Action method it is
    /// [`request`](Self::request).
    ///
    /// ```
    /// use moxl::prelude::*;
    /// /// Reads a paged list to its end: the requester gets every item, from the last page's Action.
    /// #[derive(Serialize, Deserialize)]
    /// struct Page { after: Option<String>, items: Vec<String> }
    ///
    /// #[action(group = "doc_pages")]
    /// impl Page {
    ///     type Output = Vec<String>;
    ///     fn request(&self) -> ElementBuilder { iq_get(None) }
    ///     async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<Vec<String>> {
    ///         self.items.extend(stanza.children().filter_map(|c| c.attr("name").map(|n| n.into_owned())));
    ///         if let Some(last) = stanza.attr("next") {
    ///             let next = Page { after: Some(last.into_owned()), items: std::mem::take(&mut self.items) };
    ///             ctx.continue_with(next)?;
    ///         }
    ///         Ok(std::mem::take(&mut self.items))
    ///     }
    /// }
    /// ```
    pub fn continue_with<A: Action>(&self, action: A) -> Result<()> {
        let request = self.request(action)?;
        if let Some(continuation) = &self.continuation {
            continuation.set(request.id().to_owned());
        }
        Ok(())
    }

    /// Prepares a Packet with this content under the handler's key; [`PacketBuilder::deliver`] sends it. The
    /// Packet is made only if a subscriber would receive it (see [`wants`](Self::wants)).
    pub fn pack<T: Any + Send + Sync>(&self, content: T) -> PacketBuilder<'_> {
        let packet = self.wants::<T>().then(|| Packet::new(self.key.clone(), self.from().as_deref(), Some(content)));
        PacketBuilder { ctx: self, packet }
    }

    /// Tells the dispatcher that the `iq` request being handled will be answered later, by the application
    /// (to which the handler delivered it), so that it does not answer it `service-unavailable` itself. Every
    /// `iq` `get`/`set` gets exactly one reply (RFC 6120 §8.2.3): after this call that reply is the
    /// application's duty. No effect outside the handling of an `iq` request.
    ///
    /// ```
    /// use moxl_core::xec::Xec;
    /// moxl_core::xec::Xec::new()?.context().answer_later();
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn answer_later(&self) {
        if let Some(replied) = &self.replied {
            replied.store(true, Ordering::Relaxed);
        }
    }

    /// Whether a Packet with a `T` under this context's key would reach a subscriber (one to every Packet, to
    /// this key, or to the events of type `T`). A handler whose only work is to deliver a `T` can return early
    /// when nobody listens, without reading the stanza into a `T`.
    ///
    /// ```
    /// use moxl_core::xec::Xec;
    /// let xec = Xec::new()?;
    /// let ctx = xec.context();
    /// assert!(!ctx.wants::<u32>());
    /// let _numbers = xec.events::<u32>();
    /// assert!(ctx.wants::<u32>());
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn wants<T: Any>(&self) -> bool {
        self.shared.bus.wants(&self.key, Some(TypeId::of::<T>()))
    }

    /// Delivers a Packet with no content under the handler's key.
    pub fn deliver(&self) {
        if !self.shared.bus.wants(&self.key, None) {
            return;
        }
        self.shared.bus.deliver(Packet::new::<()>(self.key.clone(), self.from().as_deref(), None));
    }

    /// A value the application registered with [`XecBuilder::extension`](super::XecBuilder::extension).
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.shared.extensions.get()
    }

    /// The account's bare JID, once known.
    pub fn account(&self) -> Option<BareJid> {
        self.shared.account()
    }

    /// The session's bound full JID, once the client bound it (see [`Xec::set_jid`](super::Xec::set_jid)).
    ///
    /// ```
    /// assert!(moxl_core::xec::Xec::new()?.context().jid().is_none());
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn jid(&self) -> Option<FullJid> {
        self.shared.jid.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Runs the Payload descent (step 3 of [`Xec::dispatch`](super::Xec::dispatch)) on a stanza carried inside
    /// the one being handled, e.g. the message of a XEP-0280 carbon, as if it had come on its own: every
    /// Payload matching it, its children or grandchildren fires, with this stanza as its `stanza` and its
    /// `from` as the Packet sender. It is never taken as an Action's reply, and nothing is answered or
    /// delivered as unhandled when no Payload matches. Handlers reach `envelope` with
    /// [`envelope`](Self::envelope), to tell the unwrapped stanza from a live one. Returns how many Payloads
    /// fired.
    ///
    /// ```
    /// use moxl_core::xec::Xec;
    /// use moxl_core::xml::Element;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// struct Copy;
    /// let xec = Xec::new()?;
    /// let inner = Element::parse("<message xmlns='jabber:client'><nothing xmlns='urn:x'/></message>")?;
    /// assert_eq!(xec.context().dispatch_inner(inner, Copy).await, 0); // no Payload of its own
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub fn dispatch_inner<T: Any + Send + Sync>(&self, stanza: Element, envelope: T) -> BoxFuture<'_, usize> {
        let envelope: Envelope = Arc::new(envelope);
        Box::pin(async move { super::descend(&self.shared, &stanza, Some(&envelope), None).await })
    }

    /// What the stanza being handled was unwrapped from, if it was given to [`dispatch_inner`](Self::dispatch_inner)
    /// with an envelope of type `T`. `None` for a stanza that came on its own.
    ///
    /// ```
    /// assert!(moxl_core::xec::Xec::new()?.context().envelope::<String>().is_none());
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn envelope<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.envelope.as_ref().and_then(|e| e.downcast_ref())
    }

    /// Whether the stanza being handled was unwrapped from another one (any envelope).
    ///
    /// ```
    /// assert!(!moxl_core::xec::Xec::new()?.context().is_unwrapped());
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn is_unwrapped(&self) -> bool {
        self.envelope.is_some()
    }

    /// State that handlers of this session share, one value per type, made with `T::default()` on first use
    /// (for example the ids of the requests whose results come as separate stanzas). It lives as long as the
    /// controller and is not saved with the session.
    ///
    /// ```
    /// use std::sync::Mutex;
    /// let xec = moxl_core::xec::Xec::new()?;
    /// #[derive(Default)]
    /// struct Seen(Mutex<u32>);
    /// *xec.context().session_state::<Seen>().0.lock().unwrap() += 1;
    /// assert_eq!(*xec.context().session_state::<Seen>().0.lock().unwrap(), 1);
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn session_state<T: Any + Default + Send + Sync>(&self) -> Arc<T> {
        let mut map = self.shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map.entry(TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default()));
        match Arc::clone(entry).downcast::<T>() {
            Ok(value) => value,
            Err(_) => {
                // Unreachable: the map is keyed by the value's own type id.
                let value = Arc::new(T::default());
                *entry = value.clone();
                value
            }
        }
    }
}

/// A Packet about to be delivered (see [`Context::pack`]).
#[must_use = "a packed Packet is only sent by .deliver()"]
pub struct PacketBuilder<'a> {
    ctx: &'a Context,
    /// `None` when no subscriber wants it.
    packet: Option<Packet>,
}

impl std::fmt::Debug for PacketBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketBuilder").field("packet", &self.packet).finish_non_exhaustive()
    }
}

impl PacketBuilder<'_> {
    /// Delivers the Packet to the application.
    pub fn deliver(self) {
        if let Some(packet) = self.packet {
            self.ctx.shared.bus.deliver(packet);
        }
    }
}

fn refused_full(capacity: usize) -> Error {
    Error::Refused(format!(
        "the outgoing queue is full ({capacity} stanzas): the connection is down or slower than the sender; \
         wait with Context::sendable()"
    ))
}

/// Whether `sent` is the `result` or `error` answering the `iq` request `request` (same id; RFC 6120 §8.2.3).
fn is_reply_to(sent: &Element, request: &Element) -> bool {
    sent.is("iq", ns::CLIENT)
        && matches!(sent.attr("type").as_deref(), Some("result" | "error"))
        && sent.attr("id").is_some_and(|id| request.attr("id").is_some_and(|r| r == id))
}

/// The Packet key `<prefix>_<suffix>` of an Action method, made once per method: both parts are static (the
/// registered Actions and their methods), so the table is bounded by the program.
fn method_key(prefix: &'static str, suffix: &'static str) -> &'static str {
    static KEYS: OnceLock<Mutex<FxHashMap<(&'static str, &'static str), &'static str>>> = OnceLock::new();
    let mut keys = KEYS.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    keys.entry((prefix, suffix)).or_insert_with(|| Box::leak(format!("{prefix}_{suffix}").into_boxed_str()))
}

/// A random stanza id: 16 alphanumeric characters.
pub(crate) fn new_id() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 16)
}
