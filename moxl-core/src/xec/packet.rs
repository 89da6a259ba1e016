//! Packets: events handlers deliver to the application under stable keys (Moxl's `Packet`).

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll};

use tokio::sync::mpsc;

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
}

impl Packet {
    /// Key of the Packet carrying every stanza that no Action or Payload handled (content: the
    /// [`Element`](crate::xml::Element)).
    pub const UNHANDLED: &'static str = "moxl.unhandled";
    /// Key of the Packet reporting a handler that returned an error (content: [`HandlerFailure`]).
    pub const HANDLER_ERROR: &'static str = "moxl.handler_error";
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

struct Subscriber {
    key: Option<String>,
    tx: mpsc::UnboundedSender<Packet>,
}

/// Fans Packets out to subscribers.
#[derive(Default)]
pub(crate) struct PacketBus {
    subscribers: Mutex<Vec<Subscriber>>,
}

impl PacketBus {
    pub(crate) fn subscribe(&self, key: Option<String>) -> PacketStream {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.lock().unwrap_or_else(PoisonError::into_inner).push(Subscriber { key, tx });
        PacketStream { rx }
    }

    pub(crate) fn deliver(&self, packet: Packet) {
        let mut subs = self.subscribers.lock().unwrap_or_else(PoisonError::into_inner);
        subs.retain(|s| !s.tx.is_closed());
        let mut delivered = false;
        for s in subs.iter().filter(|s| s.key.as_deref().is_none_or(|k| k == packet.key())) {
            delivered |= s.tx.send(packet.clone()).is_ok();
        }
        if !delivered {
            tracing::debug!(key = %packet.key(), "packet delivered to no subscriber");
        }
    }
}

/// The Packets for one subscriber: all of them ([`Xec::packets`](super::Xec::packets)) or those of one key
/// ([`Xec::subscribe`](super::Xec::subscribe)). An async [`Stream`](futures_core::Stream); also
/// [`recv`](Self::recv) and [`try_recv`](Self::try_recv).
#[derive(Debug)]
pub struct PacketStream {
    rx: mpsc::UnboundedReceiver<Packet>,
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
