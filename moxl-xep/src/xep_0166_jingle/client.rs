//! The client side of Jingle: the [`Sessions`] of each client session, fed by a Payload that answers every
//! `<jingle/>` IQ-set (§6.3.1 acks, the errors of §10 otherwise), typed events for what the peers send, and
//! awaitable Actions for what we send.
//!
//! | what | typed view | Packet key |
//! |---|---|---|
//! | a request a peer sent, let through by its session and acked | [`JingleEvent`] | `jingle` |
//! | a request refused with an error of §10 (a stranger, out of order, a lost tie) | [`JingleRefused`] | `jingle` |
//! | our request, acked by the peer | [`Acked`], the `Output` of [`initiate`], [`accept`], [`terminate`], [`send`]… | `jingle_set_handle` |
//! | our request, refused by the peer | `Err(Error::Stanza(..))` (its [`JingleError::from_stanza_error`]) | `jingle_set_error` (the [`StanzaError`]) |
//! | our request, unanswered | `Err(Error::Timeout(..))` | `jingle_set_timeout` |
//!
//! Application formats (XEP-0167 RTP, XEP-0234 file transfer…) plug in by the namespace of their
//! `<description/>`: an [`ApplicationFormat`] registered with [`application_format!`](crate::jingle_application_format)
//! is called for each request of a session of its format (after the ack, with the [`JingleEvent`]), and names the
//! `session-info` payload namespaces it understands: in a session of a registered format, a `session-info`
//! carrying only payloads the format does not understand is answered `<unsupported-info/>` (§6.8). A session of
//! a format nobody registered is the application's alone: every request reaches it as a [`JingleEvent`].

use std::sync::{Arc, Mutex, PoisonError};

use moxl_core::stanza::{StanzaError, iq_result, iq_set};
use moxl_core::xec::{Context, Payload, Request};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Error, Result, action, payload};
use serde::{Deserialize, Serialize};

use super::{Action, Content, Jingle, JingleError, NS, Reason, Role, Session, Sessions, State};

moxl_core::feature!("urn:xmpp:jingle:1");

/// An application format (§7.3's `<description/>` namespace) that takes part in the sessions of its format:
/// register one with [`jingle_application_format!`](crate::jingle_application_format).
///
/// ```
/// use moxl_core::xec::Context;
/// use moxl_xep::xep_0166_jingle::{ApplicationFormat, JingleEvent};
/// fn on_event(_ctx: &Context, event: &JingleEvent) {
///     println!("{} {}", event.action, event.sid);
/// }
/// moxl_xep::jingle_application_format!(ApplicationFormat {
///     ns: "urn:xmpp:jingle:apps:stub:0",
///     info_ns: &["urn:xmpp:jingle:apps:stub:info:0"],
///     on_event: Some(on_event),
/// });
/// ```
#[derive(Debug)]
pub struct ApplicationFormat {
    /// The namespace of its `<description/>`.
    pub ns: &'static str,
    /// The namespaces of the `session-info` payloads it understands (§7.2.9).
    pub info_ns: &'static [&'static str],
    /// Called for each request a peer sent in a session of this format (the format of its first content with a
    /// description), after the ack and after the [`JingleEvent`] is delivered: the format delivers its own typed
    /// events, answers (an accept, a transport-info) with [`send`], or spawns its work.
    pub on_event: Option<fn(&Context, &JingleEvent)>,
}

moxl_core::__private::inventory::collect!(ApplicationFormat);

/// Registers an [`ApplicationFormat`] (from any crate linked into the program).
///
/// ```
/// moxl_xep::jingle_application_format!(moxl_xep::xep_0166_jingle::ApplicationFormat {
///     ns: "urn:example:jingle:apps:doc:0",
///     info_ns: &[],
///     on_event: None,
/// });
/// assert!(moxl_xep::xep_0166_jingle::application_format("urn:example:jingle:apps:doc:0").is_some());
/// ```
#[macro_export]
macro_rules! jingle_application_format {
    ($format:expr) => {
        $crate::moxl_core::__private::inventory::submit! { $format }
    };
}

/// The registered [`ApplicationFormat`] of this description namespace.
///
/// ```
/// assert!(moxl_xep::xep_0166_jingle::application_format("urn:example:nothing").is_none());
/// ```
pub fn application_format(ns: &str) -> Option<&'static ApplicationFormat> {
    moxl_core::__private::inventory::iter::<ApplicationFormat>().find(|f| f.ns == ns)
}

/// A request a peer sent that its session let through (and that was acked): what to act on.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// use moxl_xep::xep_0166_jingle::{Action, JingleEvent, Reason, ReasonCondition};
/// let mut jingle = xec.events::<JingleEvent>();
/// while let Some(e) = jingle.recv().await {
///     match e.action {
///         Action::SessionInitiate if e.application() == Some("urn:xmpp:jingle:apps:rtp:1") => {
///             // ring, then accept(...) or terminate(... Decline)
///         }
///         Action::SessionTerminate => println!("ended: {:?}", e.reason),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JingleEvent {
    /// The peer's full JID (the sender).
    pub peer: String,
    /// Our full JID in the session (the addressee).
    pub local: String,
    /// The session id.
    pub sid: String,
    /// Our role in the session.
    pub role: Role,
    /// The action.
    pub action: Action,
    /// The session's state after it.
    pub state: State,
    /// The contents it carried.
    pub contents: Vec<Content>,
    /// Its reason (session-terminate, content-reject…).
    pub reason: Option<Reason>,
    /// Its other children (the payloads of session-info, description-info…).
    pub payloads: Vec<Element>,
    /// Our own request (sid, action) that this one overruled in a tie (§7.2.16): the peer refuses ours.
    pub overruled: Option<(String, Action)>,
    /// The application format of the session: the namespace of its first content's `<description/>`.
    pub application: Option<String>,
}

impl JingleEvent {
    /// The namespace of the session's application format (`urn:xmpp:jingle:apps:rtp:1` for a call).
    ///
    /// ```
    /// # fn f(e: &moxl_xep::xep_0166_jingle::JingleEvent) {
    /// if e.application() == Some("urn:xmpp:jingle:apps:file-transfer:5") { /* a file offer */ }
    /// # }
    /// ```
    pub fn application(&self) -> Option<&str> {
        self.application.as_deref()
    }

    /// An empty session-info: a ping (§6.8), already answered.
    ///
    /// ```
    /// # fn f(e: &moxl_xep::xep_0166_jingle::JingleEvent) {
    /// if e.is_ping() { return; }
    /// # }
    /// ```
    pub fn is_ping(&self) -> bool {
        self.action == Action::SessionInfo && self.payloads.is_empty()
    }
}

/// A request we refused with an error of §10 (or `<bad-request/>`): who sent it, for which sid, and why.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// use moxl_xep::xep_0166_jingle::{JingleError, JingleRefused};
/// let mut refused = xec.events::<JingleRefused>();
/// while let Some(r) = refused.recv().await {
///     if r.error == JingleError::UnknownSession {
///         println!("{} acted on a session it does not have ({})", r.from, r.sid);
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JingleRefused {
    /// The sender.
    pub from: String,
    /// The sid it named (empty when it named none).
    pub sid: String,
    /// Its action, when it had a defined one.
    pub action: Option<Action>,
    /// The error we answered.
    pub error: JingleError,
}

/// The peer's ack of our request: the `Output` of [`initiate`], [`accept`], [`terminate`] and [`send`].
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// use moxl_xep::xep_0166_jingle::{Reason, ReasonCondition, State};
/// let acked = moxl_xep::xep_0166_jingle::terminate(ctx, "juliet@capulet.lit/balcony", "a73sjjvkla37jfea",
///     Reason::new(ReasonCondition::Success))?.await?;
/// assert_eq!(acked.state, State::Ended);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Acked {
    /// The peer.
    pub peer: String,
    /// The session id.
    pub sid: String,
    /// The action acked.
    pub action: Action,
    /// The session's state once acked (`Ended` when it is gone).
    pub state: State,
}

/// The Jingle state of one client session: its [`Sessions`], made for our bound full JID.
#[derive(Default)]
struct JingleState(Mutex<Option<Sessions>>);

/// Runs `f` on this client session's [`Sessions`] for our full JID `local` (a new set when the JID changed: a
/// session bound afresh has none of the old one's sessions).
fn with_sessions<R>(ctx: &Context, local: &str, f: impl FnOnce(&mut Sessions) -> R) -> R {
    let state = ctx.session_state::<JingleState>();
    let mut guard = state.0.lock().unwrap_or_else(PoisonError::into_inner);
    let sessions = match &mut *guard {
        Some(s) if s.local() == local => s,
        slot => slot.insert(Sessions::new(local)),
    };
    f(sessions)
}

fn local_jid(ctx: &Context) -> Result<String> {
    ctx.jid()
        .map(|j| j.to_string())
        .ok_or_else(|| Error::handler("Jingle needs the bound full JID: the session is not bound yet"))
}

/// A copy of the session with `peer` of this sid, as this client session knows it.
///
/// ```
/// # fn f(ctx: &moxl_core::xec::Context) {
/// if let Some(s) = moxl_xep::xep_0166_jingle::session(ctx, "juliet@capulet.lit/balcony", "a73sjjvkla37jfea") {
///     println!("{:?} with {} contents", s.state(), s.contents().len());
/// }
/// # }
/// ```
pub fn session(ctx: &Context, peer: &str, sid: &str) -> Option<Session> {
    let local = ctx.jid()?.to_string();
    with_sessions(ctx, &local, |s| s.get(peer, sid).cloned())
}

/// Copies of the live sessions of this client session.
///
/// ```
/// # fn f(ctx: &moxl_core::xec::Context) {
/// for s in moxl_xep::xep_0166_jingle::sessions(ctx) {
///     println!("{} with {}", s.sid(), s.peer());
/// }
/// # }
/// ```
pub fn sessions(ctx: &Context) -> Vec<Session> {
    let Some(local) = ctx.jid().map(|j| j.to_string()) else { return Vec::new() };
    with_sessions(ctx, &local, |s| s.iter().cloned().collect())
}

/// A new random session id (a UUIDv4: unique, and usable as the id of a XEP-0353 proposal).
///
/// ```
/// let sid = moxl_xep::xep_0166_jingle::new_sid();
/// assert_eq!(sid.len(), 36);
/// assert_ne!(sid, moxl_xep::xep_0166_jingle::new_sid());
/// ```
pub fn new_sid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Starts a session with `peer` (a full JID, §6.1) with these contents (§6.2): the session-initiate is checked,
/// recorded and sent; the returned [`Request`] resolves to the peer's ack (then the session is PENDING until the
/// peer's session-accept, a [`JingleEvent`]), or to its refusal (then the session is gone).
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0166_jingle::{Content, Role, new_sid};
/// let voice = Content::new(Role::Initiator, "voice")
///     .with_description(Element::parse("<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/>")?)
///     .with_transport(Element::parse("<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/>")?);
/// let sid = new_sid();
/// moxl_xep::xep_0166_jingle::initiate(ctx, "juliet@capulet.lit/balcony", &sid, vec![voice])?.await?;
/// # Ok(()) }
/// ```
pub fn initiate(ctx: &Context, peer: &str, sid: &str, contents: Vec<Content>) -> Result<Request<Acked>> {
    let local = local_jid(ctx)?;
    if with_sessions(ctx, &local, |s| s.get(peer, sid).is_some()) {
        return Err(refused_locally(JingleError::OutOfOrder));
    }
    let jingle = with_sessions(ctx, &local, |s| s.initiate(sid, peer, contents));
    start(ctx, &local, peer, jingle)
}

/// Accepts the session `sid` that `peer` initiated, with these contents (each with its description and
/// transport, §6.5): the Request resolves to the peer's ack. The session is ACTIVE at once.
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context, e: moxl_xep::xep_0166_jingle::JingleEvent) -> moxl_core::Result<()> {
/// // answer an offer with the contents the application chose (here: as offered)
/// moxl_xep::xep_0166_jingle::accept(ctx, &e.peer, &e.sid, e.contents.clone())?.await?;
/// # Ok(()) }
/// ```
pub fn accept(ctx: &Context, peer: &str, sid: &str, contents: Vec<Content>) -> Result<Request<Acked>> {
    send(ctx, peer, Jingle::new(Action::SessionAccept, sid).with_contents(contents))
}

/// Ends (or declines, §6.7) the session `sid` with `peer`: the session is ENDED at once, and the Request
/// resolves to the peer's ack.
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// use moxl_xep::xep_0166_jingle::{Reason, ReasonCondition};
/// let busy = Reason::new(ReasonCondition::Busy);
/// moxl_xep::xep_0166_jingle::terminate(ctx, "romeo@montague.lit/orchard", "a73sjjvkla37jfea", busy)?.await?;
/// # Ok(()) }
/// ```
pub fn terminate(ctx: &Context, peer: &str, sid: &str, reason: Reason) -> Result<Request<Acked>> {
    send(ctx, peer, Jingle::new(Action::SessionTerminate, sid).with_reason(reason))
}

/// Sends transport information (ICE candidates trickled, §7.2.13) for these contents of the session.
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context, candidate: moxl_xep::xep_0166_jingle::Content) -> moxl_core::Result<()> {
/// moxl_xep::xep_0166_jingle::transport_info(ctx, "juliet@capulet.lit/balcony", "a73sjjvkla37jfea", vec![candidate])?.await?;
/// # Ok(()) }
/// ```
pub fn transport_info(ctx: &Context, peer: &str, sid: &str, contents: Vec<Content>) -> Result<Request<Acked>> {
    send(ctx, peer, Jingle::new(Action::TransportInfo, sid).with_contents(contents))
}

/// Sends session information (§7.2.9): one payload (XEP-0167's `<ringing/>`, `<mute/>`…), or none for a ping.
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// use moxl_core::xml::Element;
/// let ringing = Element::parse("<ringing xmlns='urn:xmpp:jingle:apps:rtp:info:1'/>")?;
/// moxl_xep::xep_0166_jingle::session_info(ctx, "romeo@montague.lit/orchard", "a73sjjvkla37jfea", Some(ringing))?.await?;
/// # Ok(()) }
/// ```
pub fn session_info(ctx: &Context, peer: &str, sid: &str, payload: Option<Element>) -> Result<Request<Acked>> {
    let j = Jingle::new(Action::SessionInfo, sid);
    send(ctx, peer, payload.into_iter().fold(j, Jingle::with_payload))
}

/// Sends any request of the session `jingle.sid` with `peer` (content-add/accept/reject/remove/modify,
/// transport-replace/accept/reject, description-info, security-info, and the ones above): the session checks it
/// first (§7.2: a request not valid now is refused here, `Err(Error::Stanza(..))` with the Jingle condition, and
/// nothing is sent), records it, and sends it. The Request resolves to the peer's ack; a refusal rolls the
/// request back (a refused content-add is forgotten, a refused transport-replace keeps the old transport, a
/// `<tie-break/>` leaves the peer's crossing request in force, §7.2.16).
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context, video: moxl_xep::xep_0166_jingle::Content) -> moxl_core::Result<()> {
/// use moxl_xep::xep_0166_jingle::{Action, Jingle};
/// let add = Jingle::new(Action::ContentAdd, "a73sjjvkla37jfea").with_contents(vec![video]);
/// moxl_xep::xep_0166_jingle::send(ctx, "juliet@capulet.lit/balcony", add)?.await?;
/// # Ok(()) }
/// ```
pub fn send(ctx: &Context, peer: &str, jingle: Jingle) -> Result<Request<Acked>> {
    if jingle.action == Action::SessionInitiate {
        let Jingle { sid, contents, .. } = jingle;
        return initiate(ctx, peer, &sid, contents);
    }
    let local = local_jid(ctx)?;
    let sent = with_sessions(ctx, &local, |s| {
        let session = s.get_mut(peer, &jingle.sid).ok_or(JingleError::UnknownSession)?;
        let sent = if jingle.action == Action::SessionTerminate {
            let mut bye = session
                .terminate(jingle.reason.clone().unwrap_or_else(|| Reason::new(super::ReasonCondition::Success)));
            bye.payloads = jingle.payloads.clone();
            bye.contents = jingle.contents.clone();
            bye
        } else {
            session.send(jingle)?
        };
        s.prune();
        Ok::<_, JingleError>(sent)
    });
    start(ctx, &local, peer, sent.map_err(refused_locally)?)
}

fn refused_locally(error: JingleError) -> Error {
    Error::Stanza(Box::new(error.to_stanza_error()))
}

/// Sends `jingle` (already recorded by its session) as a [`Set`] Action; when it cannot be sent, rolls it back.
fn start(ctx: &Context, local: &str, peer: &str, jingle: Jingle) -> Result<Request<Acked>> {
    let set = Set {
        local: local.to_owned(),
        peer: peer.to_owned(),
        sid: jingle.sid.clone(),
        action: jingle.action.as_str().to_owned(),
        jingle: jingle.to_builder().build()?.to_xml(),
    };
    ctx.request(set).inspect_err(|_| {
        let unsent = Element::parse("<iq xmlns='jabber:client' type='error'/>").ok();
        if let Some(unsent) = unsent {
            with_sessions(ctx, local, |s| s.acked(peer, &jingle, &unsent));
        }
    })
}

/// One Jingle IQ-set we sent, remembered until the peer's ack (made by [`initiate`], [`accept`],
/// [`terminate`], [`transport_info`], [`session_info`] and [`send`], which check it against the session first).
/// Its answer is read by the session ([`Session::acked`]): a refusal rolls the request back.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `jingle_set_handle` | [`Acked`] |
/// | error | `jingle_set_error` | the [`StanzaError`] (see [`JingleError::from_stanza_error`]) |
/// | none in time | `jingle_set_timeout` | (none; rolled back as a refusal) |
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut acks = xec.subscribe("jingle_set_handle");
/// while let Some(p) = acks.recv().await {
///     println!("{:?}", p.content::<moxl_xep::xep_0166_jingle::Acked>());
/// }
/// # }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Set {
    local: String,
    peer: String,
    sid: String,
    action: String,
    /// The `<jingle/>` element sent, as XML.
    jingle: String,
}

impl Set {
    fn jingle(&self) -> Option<Jingle> {
        Element::parse(&self.jingle).ok().and_then(|e| Jingle::from_element(&e).ok())
    }

    fn answered(&self, ctx: &Context, reply: &Element) -> State {
        let Some(jingle) = self.jingle() else { return State::Ended };
        with_sessions(ctx, &self.local, |s| {
            s.acked(&self.peer, &jingle, reply);
            s.get(&self.peer, &self.sid).map_or(State::Ended, Session::state)
        })
    }
}

#[action(group = "jingle")]
impl Set {
    /// The peer's ack.
    type Output = Acked;

    fn request(&self) -> ElementBuilder {
        let iq = iq_set(Some(&self.peer));
        match Element::parse(&self.jingle) {
            Ok(jingle) => iq.append(jingle),
            Err(e) => {
                // Unreachable: the XML is our own serialization.
                tracing::warn!(error = %e, "a stored Jingle request no longer parses");
                iq.append(ElementBuilder::new("jingle", NS))
            }
        }
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<Acked> {
        let state = self.answered(ctx, stanza);
        let action =
            Action::from_str(&self.action).ok_or_else(|| Error::handler("a stored Jingle action is undefined"))?;
        Ok(Acked { peer: self.peer.clone(), sid: self.sid.clone(), action, state })
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, stanza: &Element) {
        self.answered(ctx, stanza);
        ctx.pack(error.clone()).deliver();
    }

    async fn timeout(&mut self, ctx: &Context) {
        if let Ok(unanswered) = Element::parse("<iq xmlns='jabber:client' type='error'/>") {
            self.answered(ctx, &unanswered);
        }
        ctx.deliver();
    }
}

/// Answers every `<jingle/>` IQ-set (§6.3.1): checks it against this client session's [`Sessions`], acks it
/// and delivers a [`JingleEvent`] (then calls the session's [`ApplicationFormat`]), or answers the error of §10
/// and delivers a [`JingleRefused`]: `<unknown-session/>` for a sid the sender has no session with (a stranger
/// acting on someone else's session, or a session that ended), `<out-of-order/>`, `<tie-break/>`,
/// `<bad-request/>` for a malformed request, `<unsupported-info/>` for a session-info its format does not understand.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut jingle = xec.subscribe("jingle");
/// while let Some(p) = jingle.recv().await {
///     if let Some(e) = p.content::<moxl_xep::xep_0166_jingle::JingleEvent>() {
///         println!("{} from {}", e.action, e.peer);
///     }
/// }
/// # }
/// ```
#[payload(name = "jingle", ns = "urn:xmpp:jingle:1", key = "jingle", at = "child")]
#[derive(Debug, Default)]
pub struct JingleRequests;

impl Payload for JingleRequests {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if !stanza.is("iq", ns::CLIENT) || stanza.attr("type").as_deref() != Some("set") {
            return Ok(());
        }
        let from = stanza.attr("from").map(|f| f.into_owned()).unwrap_or_default();
        // Our full JID: the bound one, else the address the request came to.
        let local = match ctx.jid() {
            Some(j) => j.to_string(),
            None => stanza.attr("to").map(|t| t.into_owned()).unwrap_or_default(),
        };
        let parsed = Jingle::from_element(element);
        let received = parsed.clone().and_then(|jingle| {
            if from.is_empty() || local.is_empty() {
                return Err(JingleError::BadRequest("no sender or addressee".into()));
            }
            with_sessions(ctx, &local, |s| {
                // Read before: a session-terminate ends the session and it is forgotten.
                let before = s.get(&from, &jingle.sid).map(|k| {
                    (k.role(), k.contents().iter().find_map(|c| c.description.as_ref().map(|d| d.ns().to_owned())))
                });
                // §6.8: a session-info whose payloads the session's (registered) format does not understand.
                let format = before.as_ref().and_then(|(_, ns)| ns.as_deref()).and_then(application_format);
                if let Some(format) = format {
                    if jingle.action == Action::SessionInfo
                        && !jingle.payloads.is_empty()
                        && !jingle.payloads.iter().any(|p| format.info_ns.iter().any(|n| *n == p.ns()))
                    {
                        return Err(JingleError::UnsupportedInfo);
                    }
                }
                let accepted = s.receive(&jingle, &from)?;
                let (role, application) = before.unwrap_or((Role::Responder, None));
                let application = application
                    .or_else(|| jingle.contents.iter().find_map(|c| c.description.as_ref().map(|d| d.ns().to_owned())));
                Ok(JingleEvent {
                    peer: from.clone(),
                    local: local.clone(),
                    sid: jingle.sid.clone(),
                    role,
                    action: accepted.action,
                    state: accepted.state,
                    contents: accepted.contents,
                    reason: accepted.reason,
                    payloads: accepted.payloads,
                    overruled: accepted.overruled,
                    application,
                })
            })
        });
        match received {
            Ok(event) => {
                ctx.send(iq_result(stanza))?;
                let format = event.application().and_then(application_format);
                let event = Arc::new(event);
                ctx.pack(JingleEvent::clone(&event)).deliver();
                if let Some(on_event) = format.and_then(|f| f.on_event) {
                    on_event(ctx, &event);
                }
            }
            Err(error) => {
                ctx.send(error.reply(stanza))?;
                let (sid, action) = match &parsed {
                    Ok(j) => (j.sid.clone(), Some(j.action)),
                    Err(_) => (element.attr("sid").map(|s| s.into_owned()).unwrap_or_default(), None),
                };
                tracing::debug!(%from, %sid, %error, "Jingle request refused");
                ctx.pack(JingleRefused { from, sid, action, error }).deliver();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use crate::xep_0166_jingle::ReasonCondition;
    use moxl_core::xec::Xec;

    const ROMEO: &str = "romeo@montague.lit/orchard";
    const JULIET: &str = "juliet@capulet.lit/balcony";
    const IAGO: &str = "iago@venice.lit/dagger";

    fn client(jid: &str) -> Xec {
        let xec = Xec::new().unwrap();
        xec.set_jid(jid.parse().unwrap());
        xec
    }

    /// Carries what `from` sent to `to`, as the server would (stamped with the sender's JID).
    fn pump(from: &Xec, from_jid: &str, to: &Xec) -> usize {
        let out = from.take_outgoing();
        let n = out.len();
        for stanza in out {
            let xml = stanza.to_xml();
            let (name, rest) = xml.split_once(' ').unwrap();
            let stamped = format!("{name} from='{from_jid}' {rest}");
            block_on(to.dispatch(Element::parse(&stamped).unwrap()));
        }
        n
    }

    fn el(xml: &str) -> Element {
        Element::parse(xml).unwrap()
    }

    fn stub(name: &str) -> Content {
        Content::new(Role::Initiator, name)
            .with_description(el("<description xmlns='urn:xmpp:jingle:apps:stub:0'/>"))
            .with_transport(el("<transport xmlns='urn:xmpp:jingle:transports:stub:0'/>"))
    }

    #[test]
    fn a_session_is_initiated_accepted_trickled_and_terminated_between_two_clients() {
        let (romeo, juliet) = (client(ROMEO), client(JULIET));
        let mut events = juliet.events::<JingleEvent>();
        let mut romeo_events = romeo.events::<JingleEvent>();
        let request = initiate(&romeo.context(), JULIET, "s1", vec![stub("voice")]).unwrap();
        assert_eq!(pump(&romeo, ROMEO, &juliet), 1);
        let e = events.try_recv().unwrap();
        assert_eq!(
            (e.action, e.role, e.state, e.peer.as_str()),
            (Action::SessionInitiate, Role::Responder, State::Pending, ROMEO)
        );
        assert_eq!(e.application(), Some("urn:xmpp:jingle:apps:stub:0"));
        // the ack resolves Romeo's request
        assert_eq!(pump(&juliet, JULIET, &romeo), 1);
        let acked = block_on(request).unwrap();
        assert_eq!((acked.action, acked.state), (Action::SessionInitiate, State::Pending));

        let accepted = accept(&juliet.context(), ROMEO, "s1", vec![stub("voice")]).unwrap();
        pump(&juliet, JULIET, &romeo);
        let e = romeo_events.try_recv().unwrap();
        assert_eq!((e.action, e.role, e.state), (Action::SessionAccept, Role::Initiator, State::Active));
        pump(&romeo, ROMEO, &juliet);
        assert_eq!(block_on(accepted).unwrap().state, State::Active);

        let info = transport_info(&romeo.context(), JULIET, "s1", vec![stub("voice")]).unwrap();
        pump(&romeo, ROMEO, &juliet);
        assert_eq!(events.try_recv().unwrap().action, Action::TransportInfo);
        pump(&juliet, JULIET, &romeo);
        block_on(info).unwrap();

        // a stranger cannot end it
        let mut refused = romeo.events::<JingleRefused>();
        let forged = Jingle::new(Action::SessionTerminate, "s1").with_reason(Reason::new(ReasonCondition::Success));
        block_on(romeo.dispatch(forged.iq(ROMEO).attr("from", IAGO).attr("id", "f1").build().unwrap()));
        let answer = romeo.take_outgoing();
        assert_eq!(JingleError::from_reply(&answer[0]), Some(JingleError::UnknownSession));
        let r = refused.try_recv().unwrap();
        assert_eq!((r.from.as_str(), r.sid.as_str(), r.error.clone()), (IAGO, "s1", JingleError::UnknownSession));
        assert_eq!(session(&romeo.context(), JULIET, "s1").unwrap().state(), State::Active);

        let bye = terminate(&juliet.context(), ROMEO, "s1", Reason::new(ReasonCondition::Success)).unwrap();
        pump(&juliet, JULIET, &romeo);
        let e = romeo_events.try_recv().unwrap();
        assert_eq!(
            (e.action, e.state, e.reason.as_ref().unwrap().condition),
            (Action::SessionTerminate, State::Ended, ReasonCondition::Success)
        );
        assert_eq!(e.role, Role::Initiator);
        pump(&romeo, ROMEO, &juliet);
        assert_eq!(block_on(bye).unwrap().state, State::Ended);
        assert!(sessions(&romeo.context()).is_empty() && sessions(&juliet.context()).is_empty());
        // after the end, anything on the sid is unknown; a request of ours is refused before it is sent
        let late = terminate(&juliet.context(), ROMEO, "s1", Reason::new(ReasonCondition::Success)).unwrap_err();
        assert!(
            matches!(late, Error::Stanza(ref e) if JingleError::from_stanza_error(e) == Some(JingleError::UnknownSession))
        );
        assert!(juliet.take_outgoing().is_empty());
    }

    #[test]
    fn refusals_roll_back_and_resolve_the_request_with_the_jingle_error() {
        let (romeo, juliet) = (client(ROMEO), client(JULIET));
        let r = initiate(&romeo.context(), JULIET, "s1", vec![stub("voice")]).unwrap();
        pump(&romeo, ROMEO, &juliet);
        pump(&juliet, JULIET, &romeo);
        block_on(r).unwrap();
        pump(&juliet, JULIET, &romeo);
        // out of order: Romeo (the initiator) cannot accept
        let err = accept(&romeo.context(), JULIET, "s1", vec![stub("voice")]).unwrap_err();
        assert!(
            matches!(err, Error::Stanza(ref e) if JingleError::from_stanza_error(e) == Some(JingleError::OutOfOrder))
        );
        // crossing content-adds: the initiator's wins (§7.2.16)
        let mut video = stub("video");
        let theirs = send(
            &juliet.context(),
            ROMEO,
            Jingle::new(Action::ContentAdd, "s1").with_contents(vec![{
                video.creator = Role::Responder;
                video.clone()
            }]),
        )
        .unwrap();
        let ours =
            send(&romeo.context(), JULIET, Jingle::new(Action::ContentAdd, "s1").with_contents(vec![stub("video")]))
                .unwrap();
        let mut refused = romeo.events::<JingleRefused>();
        let mut juliet_events = juliet.events::<JingleEvent>();
        pump(&juliet, JULIET, &romeo); // Romeo refuses hers with tie-break
        assert_eq!(refused.try_recv().unwrap().error, JingleError::TieBreak);
        pump(&romeo, ROMEO, &juliet); // his content-add and his tie-break answer reach Juliet
        let e = juliet_events.try_recv().unwrap();
        assert_eq!((e.action, e.overruled.clone()), (Action::ContentAdd, Some(("s1".to_owned(), Action::ContentAdd))));
        let err = block_on(theirs).unwrap_err();
        assert!(
            matches!(err, Error::Stanza(ref e) if JingleError::from_stanza_error(e) == Some(JingleError::TieBreak))
        );
        pump(&juliet, JULIET, &romeo);
        block_on(ours).unwrap();
    }
}
