//! [`Context`]: what a handler can do (send, request, deliver), and the state it shares with the controller.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use jid::{BareJid, Jid};
use rand::distr::{Alphanumeric, SampleString};
use tokio::sync::Notify;
use tokio::time::{Duration, Instant};

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
    pub(crate) bus: PacketBus,
    pub(crate) account: Mutex<Option<BareJid>>,
    pub(crate) timeout: Duration,
    pub(crate) extensions: Extensions,
    /// Signalled when the outbox gets a stanza.
    pub(crate) outgoing: Notify,
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
        Context { shared, key, prefix, stanza, envelope: None }
    }

    /// The context of one Action method (used by `#[action]`): its Packet key is `<group_type>_<suffix>`.
    #[doc(hidden)]
    pub fn __method(&self, suffix: &'static str) -> Context {
        Context {
            shared: Arc::clone(&self.shared),
            key: Cow::Owned(format!("{}_{}", self.prefix, suffix)),
            prefix: self.prefix,
            stanza: self.stanza.clone(),
            envelope: self.envelope.clone(),
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
    pub fn send(&self, stanza: impl Into<ElementOrBuilder>) -> Result<()> {
        let element = self.extend_presence(stanza.into().into_stanza(new_id)?)?;
        self.shared.outbox.lock().unwrap_or_else(PoisonError::into_inner).push_back(element);
        self.shared.outgoing.notify_one();
        Ok(())
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
    /// timeout (60 s unless configured). Returns the id.
    pub fn request<A: Action>(&self, action: A) -> Result<String> {
        self.request_with_timeout(action, self.shared.timeout)
    }

    /// [`request`](Self::request) with its own timeout.
    pub fn request_with_timeout<A: Action>(&self, action: A, timeout: Duration) -> Result<String> {
        let ty = self.shared.registry.action_type(A::TYPE_NAME).ok_or_else(|| {
            Error::Registry(format!("{} is not a registered Action (is #[action] on its impl?)", A::TYPE_NAME))
        })?;
        let id = new_id();
        let mut request = action.request();
        request.set_attr("id", id.clone());
        let stanza = request.build()?;
        let to = stanza.attr("to").map(|t| Jid::new(&t)).transpose()?;
        let entry = Entry { action: Box::new(action), to, deadline: Instant::now() + timeout, prefix: &ty.prefix };
        self.shared.pending().insert(id.clone(), entry);
        self.shared.timer.notify_one();
        self.send(stanza)?;
        Ok(id)
    }

    /// Prepares a Packet with this content under the handler's key; [`PacketBuilder::deliver`] sends it.
    pub fn pack<T: Any + Send + Sync>(&self, content: T) -> PacketBuilder<'_> {
        PacketBuilder { ctx: self, packet: Packet::new(self.key.clone(), self.from().as_deref(), Some(content)) }
    }

    /// Delivers a Packet with no content under the handler's key.
    pub fn deliver(&self) {
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
        Box::pin(async move { super::descend(&self.shared, &stanza, Some(&envelope)).await })
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
    packet: Packet,
}

impl std::fmt::Debug for PacketBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketBuilder").field("packet", &self.packet).finish_non_exhaustive()
    }
}

impl PacketBuilder<'_> {
    /// Delivers the Packet to the application.
    pub fn deliver(self) {
        self.ctx.shared.bus.deliver(self.packet);
    }
}

/// A random stanza id: 16 alphanumeric characters.
pub(crate) fn new_id() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 16)
}
