//! Packets: events handlers deliver to the application under stable keys (Moxl's `Packet`).

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll};

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

/// An event delivered to the application: a key, an optional sender and an optional typed content.
///
/// Keys are public API: an Action's are `group_type_method` (`vcard_get_handle`,
/// `vcard_get_erroritemnotfound`), a Payload's its type name in lowercase (`saslfailure`). Keys moxl itself
/// uses contain a dot (`moxl.unhandled`), which generated keys never do.
///
/// ```
/// use moxl_core::xec::Packet;
/// let p = Packet::new("roster_get_handle", None, Some(42u32));
/// assert_eq!(p.key(), "roster_get_handle");
/// assert_eq!(p.content::<u32>(), Some(&42));
/// assert_eq!(p.content::<String>(), None);
/// ```
#[derive(Clone)]
pub struct Packet {
    key: Cow<'static, str>,
    from: Option<Arc<str>>,
    content: Option<Arc<dyn Any + Send + Sync>>,
    content_type: &'static str,
    content_type_id: Option<TypeId>,
}

impl Packet {
    /// Key of the Packet carrying every stanza that no Action or Payload handled (content: the
    /// [`Element`](crate::xml::Element)).
    pub const UNHANDLED: &'static str = "moxl.unhandled";
    /// Key of the Packet reporting a handler that returned an error (content: [`HandlerFailure`]).
    pub const HANDLER_ERROR: &'static str = "moxl.handler_error";
    /// Key of the Packets telling each change of a client's connection state, from its first attempt on
    /// (content: the [`ConnectionState`](crate::client::ConnectionState); subscribe by type with
    /// [`Xec::events`](super::Xec::events)).
    pub const STATE: &'static str = "moxl.state";
    /// Key of the Packet telling that the connection was lost and the client reconnects (content: the reason,
    /// a `String`).
    pub const DISCONNECTED: &'static str = "moxl.disconnected";
    /// Key of the Packet telling that the session was resumed after a reconnection (XEP-0198 §5): nothing was
    /// lost (content: the full JID, a `String`).
    pub const RESUMED: &'static str = "moxl.resumed";
    /// Key of the Packet telling that a new session replaced the lost one (resumption failed or was not
    /// possible): presence and rooms were sent again, but stanzas sent to us meanwhile may be lost (content: the
    /// new full JID, a `String`).
    pub const REESTABLISHED: &'static str = "moxl.reestablished";
    /// Key of the Packet telling that a SASL authentication failed, Moxl's `saslfailure` (content: the
    /// [`AuthError`](crate::auth::AuthError), which the connection attempt also returns; subscribe by type with
    /// [`Xec::events`](super::Xec::events)). A client that reconnects delivers one for the attempt that ends it.
    pub const SASL_FAILURE: &'static str = "saslfailure";

    /// A Packet with this key, sender and content.
    pub fn new<T: Any + Send + Sync>(
        key: impl Into<Cow<'static, str>>,
        from: Option<&str>,
        content: Option<T>,
    ) -> Packet {
        Packet {
            key: key.into(),
            from: from.map(Arc::from),
            content_type: std::any::type_name::<T>(),
            content_type_id: content.is_some().then(TypeId::of::<T>),
            content: content.map(|c| Arc::new(c) as Arc<dyn Any + Send + Sync>),
        }
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The sender of the stanza that caused the Packet, if known.
    pub fn from(&self) -> Option<&str> {
        self.from.as_deref()
    }

    /// The content, if it is a `T`.
    pub fn content<T: Any>(&self) -> Option<&T> {
        self.content.as_deref().and_then(|c| c.downcast_ref())
    }

    /// Whether the Packet carries content.
    pub fn has_content(&self) -> bool {
        self.content.is_some()
    }
}

impl fmt::Debug for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Packet")
            .field("key", &self.key)
            .field("from", &self.from)
            .field("content", &self.content.as_ref().map(|_| self.content_type))
            .finish()
    }
}

/// Content of a [`Packet::HANDLER_ERROR`] Packet.
#[derive(Debug, Clone)]
pub struct HandlerFailure {
    /// The key of the handler that failed (`vcard_get_handle`, `saslfailure`).
    pub key: String,
    /// What it returned.
    pub error: String,
}

/// What a subscriber wants: every Packet, one key, or one content type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Filter {
    All,
    Key(String),
    Type(TypeId),
}

impl Filter {
    fn wants(&self, key: &str, content: Option<TypeId>) -> bool {
        match self {
            Filter::All => true,
            Filter::Key(k) => k == key,
            Filter::Type(t) => content == Some(*t),
        }
    }
}

struct Subscriber {
    id: u64,
    filter: Filter,
    tx: mpsc::Sender<Packet>,
    /// Packets that did not fit in the channel: delivered by [`PacketBus::flush`] before anything else is
    /// dispatched (at most what one stanza's handlers deliver).
    overflow: VecDeque<Packet>,
}

/// Fans Packets out to subscribers, each with a bounded queue.
///
/// The policy when a subscriber does not keep up: nothing is dropped. A Packet that does not fit waits in the
/// subscriber's overflow, and [`flush`](Self::flush), awaited by the dispatcher after each stanza, waits until
/// it fits: the session stops reading from the server (which holds what it has not sent, and TCP slows it)
/// until the application catches up. Other sessions are not affected. Drop a stream to unsubscribe.
pub(crate) struct PacketBus {
    subscribers: Mutex<Vec<Subscriber>>,
    capacity: AtomicUsize,
    next_id: AtomicU64,
}

/// How many Packets a subscriber's queue holds before the session waits for the application.
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;

impl Default for PacketBus {
    fn default() -> Self {
        PacketBus::with_capacity(DEFAULT_EVENT_CAPACITY)
    }
}

impl PacketBus {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        PacketBus {
            subscribers: Mutex::default(),
            capacity: AtomicUsize::new(capacity.max(1)),
            next_id: AtomicU64::new(0),
        }
    }

    /// The queue size of subscriptions made from now on.
    pub(crate) fn set_capacity(&self, capacity: usize) {
        self.capacity.store(capacity.max(1), Ordering::Relaxed);
    }

    fn subscribers(&self) -> std::sync::MutexGuard<'_, Vec<Subscriber>> {
        self.subscribers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn subscribe_filter(&self, filter: Filter) -> PacketStream {
        let (tx, rx) = mpsc::channel(self.capacity.load(Ordering::Relaxed));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.subscribers().push(Subscriber { id, filter, tx, overflow: VecDeque::new() });
        PacketStream { rx }
    }

    pub(crate) fn subscribe(&self, key: Option<String>) -> PacketStream {
        self.subscribe_filter(key.map_or(Filter::All, Filter::Key))
    }

    pub(crate) fn subscribe_type(&self, ty: TypeId) -> PacketStream {
        self.subscribe_filter(Filter::Type(ty))
    }

    /// Whether a Packet with this key and content type would reach anyone.
    pub(crate) fn wants(&self, key: &str, content: Option<TypeId>) -> bool {
        self.subscribers().iter().any(|s| !s.tx.is_closed() && s.filter.wants(key, content))
    }

    pub(crate) fn deliver(&self, packet: Packet) {
        let mut subs = self.subscribers();
        subs.retain(|s| !s.tx.is_closed());
        let mut delivered = false;
        for s in subs.iter_mut().filter(|s| s.filter.wants(packet.key(), packet.content_type_id)) {
            delivered = true;
            if !s.overflow.is_empty() {
                s.overflow.push_back(packet.clone());
                continue;
            }
            match s.tx.try_send(packet.clone()) {
                Ok(()) | Err(TrySendError::Closed(_)) => {}
                Err(TrySendError::Full(p)) => s.overflow.push_back(p),
            }
        }
        if !delivered {
            tracing::trace!(key = %packet.key(), "packet delivered to no subscriber");
        }
    }

    /// Waits until every Packet delivered so far is in its subscriber's queue (see the type's policy).
    pub(crate) async fn flush(&self) {
        loop {
            let waiting = {
                let subs = self.subscribers();
                subs.iter().find(|s| !s.overflow.is_empty()).map(|s| (s.id, s.tx.clone()))
            };
            let Some((id, tx)) = waiting else { return };
            tracing::debug!(subscriber = id, "the application does not keep up with its events: waiting");
            let permit = tx.reserve_owned().await;
            let mut subs = self.subscribers();
            let Some(s) = subs.iter_mut().find(|s| s.id == id) else { continue };
            match permit {
                Ok(permit) => {
                    if let Some(p) = s.overflow.pop_front() {
                        permit.send(p);
                    }
                }
                // The stream was dropped: nobody waits for these.
                Err(_) => s.overflow.clear(),
            }
        }
    }
}

/// The Packets for one subscriber: all of them ([`Xec::packets`](super::Xec::packets)) or those of one key
/// ([`Xec::subscribe`](super::Xec::subscribe)). An async [`Stream`](futures_core::Stream); also
/// [`recv`](Self::recv) and [`try_recv`](Self::try_recv). Its queue is bounded: a subscriber that stops reading
/// makes its session wait (see [`XecBuilder::event_capacity`](super::XecBuilder::event_capacity)); drop it to
/// unsubscribe.
pub struct PacketStream {
    rx: mpsc::Receiver<Packet>,
}

impl fmt::Debug for PacketStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketStream").field("queued", &self.rx.len()).finish()
    }
}

impl PacketStream {
    /// The next Packet; `None` once the event controller is gone.
    pub async fn recv(&mut self) -> Option<Packet> {
        self.rx.recv().await
    }

    /// The next Packet if one is waiting.
    pub fn try_recv(&mut self) -> Option<Packet> {
        self.rx.try_recv().ok()
    }
}

impl futures_core::Stream for PacketStream {
    type Item = Packet;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Packet>> {
        self.rx.poll_recv(cx)
    }
}

/// One typed event: the content of a Packet of type `T`, with the Packet's key and sender. Derefs to `T`.
///
/// ```
/// use moxl_core::xec::{Event, Packet};
/// let event: Event<u32> = Event::from_packet(&Packet::new("answer", Some("deep@thought.lit"), Some(42u32))).unwrap();
/// assert_eq!(*event, 42);
/// assert_eq!(event.key(), "answer");
/// assert_eq!(event.from(), Some("deep@thought.lit"));
/// ```
pub struct Event<T> {
    content: Arc<T>,
    packet: Packet,
}

impl<T: Any + Send + Sync> Event<T> {
    /// The event in a Packet, if its content is a `T`.
    pub fn from_packet(packet: &Packet) -> Option<Event<T>> {
        let content = Arc::clone(packet.content.as_ref()?).downcast::<T>().ok()?;
        Some(Event { content, packet: packet.clone() })
    }

    /// The Packet key it was delivered under (the Moxl view of the same delivery).
    pub fn key(&self) -> &str {
        self.packet.key()
    }

    /// The sender of the stanza that caused it, if known.
    pub fn from(&self) -> Option<&str> {
        self.packet.from()
    }

    /// The content, shared.
    pub fn into_inner(self) -> Arc<T> {
        self.content
    }
}

impl<T> std::ops::Deref for Event<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.content
    }
}

impl<T: fmt::Debug> fmt::Debug for Event<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("key", &self.packet.key()).field("content", &self.content).finish()
    }
}

impl<T> Clone for Event<T> {
    fn clone(&self) -> Self {
        Event { content: Arc::clone(&self.content), packet: self.packet.clone() }
    }
}

/// The events of one type, as an async [`Stream`](futures_core::Stream) (see [`Xec::events`](super::Xec::events)):
/// every Packet whose content is a `T`, whatever its key. Bounded like a [`PacketStream`].
pub struct EventStream<T> {
    packets: PacketStream,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("type", &std::any::type_name::<T>())
            .field("packets", &self.packets)
            .finish()
    }
}

impl<T: Any + Send + Sync> EventStream<T> {
    pub(crate) fn new(packets: PacketStream) -> Self {
        EventStream { packets, _type: PhantomData }
    }

    /// The next event; `None` once the event controller is gone.
    pub async fn recv(&mut self) -> Option<Event<T>> {
        loop {
            let packet = self.packets.recv().await?;
            if let Some(event) = Event::from_packet(&packet) {
                return Some(event);
            }
        }
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<Event<T>> {
        loop {
            let packet = self.packets.try_recv()?;
            if let Some(event) = Event::from_packet(&packet) {
                return Some(event);
            }
        }
    }
}

impl<T: Any + Send + Sync> futures_core::Stream for EventStream<T> {
    type Item = Event<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Event<T>>> {
        loop {
            match Pin::new(&mut self.packets).poll_next(cx) {
                Poll::Ready(Some(packet)) => {
                    if let Some(event) = Event::from_packet(&packet) {
                        return Poll::Ready(Some(event));
                    }
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
