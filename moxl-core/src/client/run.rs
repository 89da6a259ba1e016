//! One connection at work: a reader task that parses, counts (XEP-0198) and dispatches, a writer task that sends
//! what handlers queue (keeping each stanza until the server acknowledges it), and the pinger.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::FutureExt as _;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Duration, Instant};
use tracing::Instrument as _;

use super::persist::Persist;
use super::presence::PresenceMemory;
use super::{ServerPing, READ_BUFFER};
use crate::stanza::StreamCondition;
use crate::stream::{h_of, is_counted, StreamManagement, SM3};
use crate::transport::wire::{Wire, WireReader, WireWriter};
use crate::xec::Xec;
use crate::xml::{ns, Element, StreamEvent, StreamParser, XmlError};
use crate::Error;

/// Stream management on the session: the counters, the queue, and what resuming needs.
pub(super) struct SmSession {
    pub(super) state: StreamManagement,
    /// The id to resume with (`None`: the server does not allow resumption).
    pub(super) id: Option<String>,
}

/// What every connection of a client shares.
pub(super) struct Shared {
    pub(super) xec: Arc<Xec>,
    pub(super) sm: Mutex<Option<SmSession>>,
    pub(super) presence: Mutex<PresenceMemory>,
    /// Bumped when a ping goes unanswered: the connection is dead.
    pub(super) dead: Arc<watch::Sender<u64>>,
    /// When the reader last got bytes from the server (a ping unanswered while bytes still arrive means a
    /// handler is slow, not that the connection is dead).
    pub(super) last_read: Arc<Mutex<Instant>>,
    /// Set by [`Client::close`](super::Client::close).
    pub(super) closing: watch::Sender<bool>,
    pub(super) span: tracing::Span,
    /// The session store, if any.
    pub(super) persist: Persist,
}

impl Shared {
    /// Something arrived from the server: the connection is alive.
    fn alive(&self) {
        *self.last_read.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    pub(super) fn sm(&self) -> std::sync::MutexGuard<'_, Option<SmSession>> {
        self.sm.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn presence(&self) -> std::sync::MutexGuard<'_, PresenceMemory> {
        self.presence.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How a connection ended.
#[derive(Debug)]
pub(super) enum Ended {
    /// The application closed the client.
    Closed,
    /// The connection was lost: reconnect.
    Lost(String),
    /// The server ended the session for a reason that reconnecting would not cure (another client took over the
    /// resource, the account is no longer authorized).
    Fatal(String),
}

/// What the reader asks the writer to send.
enum Control {
    /// A nonza (`<a/>`).
    Raw(String),
    /// Stanzas were handled: write the counters and the Action changes to the store.
    Flush,
    /// The server acknowledged up to `h`: forget those in the store.
    Acked(u32),
    /// A stream error; the writer sends it and closes.
    Fatal(String),
}

/// Aborts the task when dropped, so that ending the client (or the supervisor) ends everything it started.
pub(super) struct Task<T>(pub(super) JoinHandle<T>);

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Keepalive and ping settings.
#[derive(Clone, Copy)]
pub(super) struct Timing {
    pub(super) keepalive: Option<Duration>,
    pub(super) ping: Option<(Duration, Duration)>,
}

/// Runs a negotiated connection until it ends; `resend` goes out first (stanzas the server did not acknowledge
/// before a resumption, or presences for a fresh session).
pub(super) async fn run(
    shared: &Arc<Shared>,
    wire: Wire,
    parser: StreamParser,
    resend: Vec<Element>,
    timing: Timing,
    domain: String,
) -> Ended {
    let framed = wire.is_framed();
    let (read, write) = wire.split();
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    // The session's tasks run in its span: their log lines name the account.
    let span = &shared.span;
    let reader = read_loop(read, parser, framed, Arc::clone(shared), control_tx).instrument(span.clone());
    let writer = write_loop(write, Arc::clone(shared), control_rx, resend, timing.keepalive).instrument(span.clone());
    let (reader, writer) = (Task(tokio::spawn(reader)), Task(tokio::spawn(writer)));
    let _pinger = timing.ping.map(|(interval, timeout)| {
        let xec = Arc::clone(&shared.xec);
        let ping = async move {
            tracing::trace!("pinger task started");
            loop {
                tokio::time::sleep(interval).await;
                if let Err(e) = xec.context().request_with_timeout(ServerPing { to: domain.clone() }, timeout) {
                    tracing::warn!(%e, "cannot send a ping");
                }
            }
        };
        Task(tokio::spawn(ping.instrument(span.clone())))
    });
    let (mut reader, mut writer) = (reader, writer);
    let joined = |r: Result<Ended, tokio::task::JoinError>| r.unwrap_or_else(|e| Ended::Lost(format!("task: {e}")));
    let ended = tokio::select! {
        biased;
        r = &mut reader.0 => {
            let ended = joined(r);
            // Let the writer send a stream error or close, briefly; then it goes.
            let _ = tokio::time::timeout(Duration::from_millis(500), &mut writer.0).await;
            ended
        }
        r = &mut writer.0 => {
            let ended = joined(r);
            // After our closing tag, wait briefly for the server's (RFC 6120 §4.4); after a failed write, the
            // reader usually knows better why the connection went (it ended first, or ends now).
            let wait = if matches!(ended, Ended::Closed) { Duration::from_secs(1) } else { Duration::from_millis(200) };
            match tokio::time::timeout(wait, &mut reader.0).await {
                Ok(r) if !matches!(ended, Ended::Closed) => joined(r),
                _ => ended,
            }
        }
    };
    ended
}

/// Why the server ended the stream, and whether reconnecting can help (RFC 6120 §4.9.3).
fn stream_error(e: &Element) -> Ended {
    let condition = e.children().find(|c| c.ns() == ns::STREAMS && c.name() != "text");
    let name = condition.as_ref().map_or("undefined-condition", |c| c.name()).to_owned();
    let text = e.child_text("text", ns::STREAMS).map(|t| format!(": {t}")).unwrap_or_default();
    let reason = format!("the server sent a stream error, {name}{text}");
    match StreamCondition::from_name(&name) {
        // Another session took our resource, or we lost our rights: reconnecting would fight or fail.
        Some(StreamCondition::Conflict | StreamCondition::NotAuthorized) => Ended::Fatal(reason),
        _ => Ended::Lost(reason),
    }
}

/// The buffer an idle session's pending read has (in its task's future, no allocation): the first bytes that wake it
/// up; the rest is read at once with a [`READ_BUFFER`] allocated for the wake-up.
const IDLE_READ: usize = 64;

/// The writer's text buffer is kept between writes up to this capacity, and released when larger.
const IDLE_WRITE: usize = 1024;

/// How many parsed stanzas wait for the dispatcher before the reader stops reading: a handler that is slow
/// holds its session's stanzas here (and then in the socket), while the reader goes on answering the
/// server's stream-management requests and noticing a dead connection.
const DISPATCH_QUEUE: usize = 64;

/// What the reader and the dispatcher of one connection share.
#[derive(Default)]
struct Flow {
    /// Stanzas handed to the dispatcher and not yet handled.
    in_flight: AtomicUsize,
    /// The reader answered an `<r/>` while stanzas were still in flight: the dispatcher acknowledges again
    /// once it has caught up (XEP-0198 §4: an `<a/>` may be sent at any time).
    ack_owed: AtomicBool,
}

async fn read_loop(
    read: WireReader,
    parser: StreamParser,
    framed: bool,
    shared: Arc<Shared>,
    control: mpsc::UnboundedSender<Control>,
) -> Ended {
    tracing::trace!("reader task started");
    let flow = Arc::new(Flow::default());
    let (stanzas, queue) = mpsc::channel(DISPATCH_QUEUE);
    let mut dispatcher = Task(tokio::spawn(
        dispatch_loop(queue, Arc::clone(&shared), control.clone(), Arc::clone(&flow)).instrument(shared.span.clone()),
    ));
    let mut dispatcher_ended = false;
    let ended =
        read_stanzas(read, parser, framed, &shared, &control, stanzas, &flow, &mut dispatcher, &mut dispatcher_ended)
            .await;
    // What was read before the end is still handled (a reply that came just before the server closed the
    // stream, as after cancelling a registration), within a bound.
    if !dispatcher_ended {
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut dispatcher.0).await;
    }
    ended
}

/// Reads and parses until the connection ends, answering stream-management requests at once and handing
/// stanzas to the dispatcher (dropping `stanzas` when it returns lets the dispatcher finish what it has).
#[allow(clippy::too_many_arguments)]
async fn read_stanzas(
    mut read: WireReader,
    mut parser: StreamParser,
    framed: bool,
    shared: &Arc<Shared>,
    control: &mpsc::UnboundedSender<Control>,
    stanzas: mpsc::Sender<Element>,
    flow: &Flow,
    dispatcher: &mut Task<Ended>,
    dispatcher_ended: &mut bool,
) -> Ended {
    let mut dead = shared.dead.subscribe();
    let fatal = |e: &XmlError| {
        // RFC 6120 §4.9: tell the server why, then close.
        let error = crate::stanza::stream_error(e.condition(), Some(e.text()));
        if let Ok(error) = error.build() {
            let _ = control.send(Control::Fatal(error.to_xml()));
        }
        Ended::Lost(format!("stream error sent: {e}"))
    };
    // The read buffer exists only while bytes flow: a read that has nothing to return at once means the session
    // is idle, and then it waits with `small` (inside this future) and no buffer of its own, the parser's
    // released too. Thousands of idle sessions keep no read buffers; a session woken up allocates its buffer
    // again, once per wake-up (never per stanza of a burst).
    let mut buf: Vec<u8> = Vec::new();
    let mut small = [0u8; IDLE_READ];
    loop {
        // What is buffered first: negotiation may have left stanzas behind (a resumed session's backlog).
        loop {
            match parser.next_event() {
                Ok(Some(StreamEvent::Element(e))) => {
                    if framed && e.is("close", ns::FRAMING) {
                        return Ended::Lost("the server closed the stream".into());
                    }
                    if e.is("error", ns::STREAM) {
                        return stream_error(&e);
                    }
                    if e.ns() == SM3 {
                        if let Some(ended) = on_sm(shared, control, &e, flow) {
                            return ended;
                        }
                        continue;
                    }
                    flow.in_flight.fetch_add(1, Ordering::SeqCst);
                    // Waits while the dispatcher's queue is full: the application's back-pressure reaches the
                    // socket here, and only for this session.
                    let sent = tokio::select! {
                        sent = stanzas.send(e) => sent.is_ok(),
                        r = &mut dispatcher.0 => {
                            *dispatcher_ended = true;
                            return r.unwrap_or_else(|e| Ended::Lost(format!("dispatcher: {e}")));
                        }
                    };
                    if !sent {
                        return Ended::Lost("the dispatcher ended".into());
                    }
                }
                Ok(Some(StreamEvent::End)) => return Ended::Lost("the server closed the stream".into()),
                Ok(Some(StreamEvent::Header(_))) => {}
                Ok(None) => break,
                Err(e) => return fatal(&e),
            }
        }
        if buf.is_empty() {
            buf = vec![0u8; READ_BUFFER];
        }
        // Reads are cancel-safe: polling one once and dropping it loses nothing.
        let at_once = read.recv(&mut buf, &mut parser).now_or_never();
        let received = if let Some(received) = at_once {
            received
        } else {
            buf = Vec::new();
            parser.release_idle();
            tokio::select! {
            received = read.recv(&mut small, &mut parser) => received,
            _ = dead.changed() => {
                return Ended::Lost("dead connection: the server did not answer a ping in time".into())
            }
            r = &mut dispatcher.0 => {
                *dispatcher_ended = true;
                return r.unwrap_or_else(|e| Ended::Lost(format!("dispatcher: {e}")));
            }
            }
        };
        match received {
            Ok(true) => shared.alive(),
            Ok(false) => return Ended::Lost("the server closed the connection".into()),
            Err(Error::Xml(e)) => return fatal(&e),
            Err(e) => return Ended::Lost(e.to_string()),
        }
    }
}

/// Runs the handlers of each stanza the reader parsed, in order; counts it handled (XEP-0198) once they ran.
async fn dispatch_loop(
    mut queue: mpsc::Receiver<Element>,
    shared: Arc<Shared>,
    control: mpsc::UnboundedSender<Control>,
    flow: Arc<Flow>,
) -> Ended {
    let stored = shared.persist.is_on();
    while let Some(e) = queue.recv().await {
        if e.is("presence", ns::CLIENT) {
            shared.presence().observe_incoming(&e);
        }
        let counted = is_counted(&e);
        shared.xec.dispatch(e).await;
        if counted {
            if let Some(sm) = shared.sm().as_mut() {
                sm.state.received();
            }
        }
        let left = flow.in_flight.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
        if left == 0 {
            if flow.ack_owed.swap(false, Ordering::SeqCst) {
                if let Some(sm) = shared.sm().as_ref() {
                    tracing::debug!(h = sm.state.inbound(), "unrequested ack after catching up");
                    let _ = control.send(Control::Raw(sm.state.answer()));
                }
            }
            if stored {
                let _ = control.send(Control::Flush);
            }
        }
    }
    Ended::Lost("the reader ended".into())
}

/// XEP-0198 §4: answer `<r/>` at once (with the count of the stanzas handled so far), apply `<a/>`.
fn on_sm(shared: &Shared, control: &mpsc::UnboundedSender<Control>, e: &Element, flow: &Flow) -> Option<Ended> {
    let mut guard = shared.sm();
    let sm = guard.as_mut()?;
    match e.name() {
        "r" => {
            let _ = control.send(Control::Raw(sm.state.answer()));
            let in_flight = flow.in_flight.load(Ordering::SeqCst);
            if in_flight > 0 {
                flow.ack_owed.store(true, Ordering::SeqCst);
            }
            tracing::debug!(h = sm.state.inbound(), in_flight, "ack request answered");
        }
        "a" => {
            let h = h_of(e)?;
            let acked = sm.state.acked(h);
            if acked.is_ok() && shared.persist.is_on() {
                let _ = control.send(Control::Acked(h));
            }
            if let Err(error) = acked {
                // The counts disagree: the session cannot be trusted for resumption.
                guard.take();
                let text = error.to_string();
                let xml = crate::stanza::stream_error(StreamCondition::UndefinedCondition, Some(&text))
                    .build()
                    .map(|b| b.to_xml())
                    .unwrap_or_default();
                let _ = control.send(Control::Fatal(xml));
                return Some(Ended::Lost(format!("stream management: {text}")));
            }
        }
        _ => {}
    }
    None
}

async fn write_loop(
    mut write: WireWriter,
    shared: Arc<Shared>,
    mut control: mpsc::UnboundedReceiver<Control>,
    resend: Vec<Element>,
    keepalive: Option<Duration>,
) -> Ended {
    tracing::trace!("writer task started");
    let mut closing = shared.closing.subscribe();
    let mut first = resend;
    // One buffer for the life of the connection: everything queued goes out in one write.
    let mut text = String::new();
    loop {
        let mut stanzas = std::mem::take(&mut first);
        stanzas.extend(shared.xec.take_outgoing());
        if !stanzas.is_empty() {
            let stored = shared.persist.is_on();
            let mut queued = Vec::new();
            let request = {
                let mut presence = shared.presence();
                let mut sm = shared.sm();
                for stanza in &stanzas {
                    presence.observe(stanza);
                    if let Some(sm) = sm.as_mut().filter(|_| is_counted(stanza)) {
                        let seq = sm.state.sent(stanza.clone());
                        if stored {
                            queued.push((seq, stanza.to_xml()));
                        }
                    }
                }
                sm.as_mut().and_then(|sm| sm.state.request())
            };
            // Stored before written: an Action before its request, a stanza before it can be lost.
            if let Err(e) = store_before_send(&shared, &queued).await {
                return Ended::Fatal(e.to_string());
            }
            if let Err(e) = write.send_stanzas(stanzas, &mut text).await {
                return Ended::Lost(e.to_string());
            }
            if let Some(r) = request {
                if let Err(e) = write.send_raw(r).await {
                    return Ended::Lost(e.to_string());
                }
            }
            if text.capacity() > IDLE_WRITE {
                // More than a small stanza went out (a burst, the login's requests): give the memory back rather
                // than keep it for every idle session. Small writes (a chat message) reuse it.
                text = String::new();
            }
        }
        if *closing.borrow_and_update() {
            write.close().await;
            return Ended::Closed;
        }
        let idle = keepalive.unwrap_or(Duration::MAX);
        tokio::select! {
            () = shared.xec.outgoing_ready() => {}
            message = control.recv() => match message {
                Some(Control::Raw(xml)) => {
                    // An `<a/>` tells the server these stanzas were handled (XEP-0198 §4): with a store, the count
                    // is written first, so that a later run never resumes with a lower `h` than we acknowledged
                    // (the server fails such a resumption and closes the stream, XEP-0198 §5).
                    if shared.persist.is_on() {
                        if let Err(e) = store_counters(&shared).await {
                            return Ended::Fatal(e.to_string());
                        }
                    }
                    if let Err(e) = write.send_raw(&xml).await {
                        return Ended::Lost(e.to_string());
                    }
                }
                Some(Control::Flush) => {
                    if let Err(e) = store_counters(&shared).await {
                        return Ended::Fatal(e.to_string());
                    }
                }
                Some(Control::Acked(h)) => {
                    if let Err(e) = shared.persist.acked(h).await {
                        return Ended::Fatal(e.to_string());
                    }
                }
                Some(Control::Fatal(xml)) => {
                    let _ = write.send_raw(&xml).await;
                    write.close().await;
                    return Ended::Lost("stream error sent".into());
                }
                // The reader ended: so does this connection.
                None => return Ended::Lost("the reader ended".into()),
            },
            _ = closing.changed() => {}
            () = tokio::time::sleep(idle), if keepalive.is_some() => {
                // A dead connection fails the write.
                if let Err(e) = write.keepalive().await {
                    return Ended::Lost(format!("keepalive: {e}"));
                }
            }
        }
    }
}

async fn store_before_send(shared: &Shared, queued: &[(u32, String)]) -> crate::Result<()> {
    shared.persist.actions(&shared.xec).await?;
    shared.persist.unacked(queued).await
}

async fn store_counters(shared: &Shared) -> crate::Result<()> {
    shared.persist.actions(&shared.xec).await?;
    let counters = shared.sm().as_ref().map(|sm| (sm.state.inbound(), sm.state.sent_count()));
    match counters {
        Some((inbound, sent)) => shared.persist.counters(inbound, sent).await,
        None => Ok(()),
    }
}
