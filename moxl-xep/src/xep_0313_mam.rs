//! XEP-0313: Message Archive Management. Queries an archive (our own, or a MUC room's) with filters (§4.1) and
//! XEP-0059 paging (§4.2), pages through all of it ([`CatchUp`]), and reads and sets the archiving preferences
//! ([`GetPrefs`], [`SetPrefs`], §7).
//!
//! # How results come back
//! The archive sends each result as a separate `<message/>` holding `<result queryid='…' id='…'>` and the
//! forwarded message (§4.2), then answers the query's iq with `<fin/>`. Results are accepted **only for a
//! `queryid` this session sent, and only from the archive it queried** (our own: no `from` or our bare JID; a
//! room's: the room's JID); anything else is dropped and logged with a warning. Accepted results are collected
//! in the session's memory (never in the saved Action, and bounded by the page size) and delivered in order,
//! as one [`Page`], when the query's answer comes (a `urn:xmpp:mam:0` archive answers the iq first and sends
//! `<fin/>` in a message after the results, XEP-0313 0.3 §4.1: the page then waits for that message, see
//! [`MamFinV0`]). An archived message is history: it is never dispatched as a
//! live message (no receipt, no chat state), only delivered as an [`ArchivedMessage`].
//!
//! Start queries with [`Query::send`] / [`CatchUp::send`], which note the `queryid` before the request goes
//! out; an Action started with `Context::request` directly gets no results.
//!
//! Queries go out in `urn:xmpp:mam:2` unless told otherwise ([`Query::namespace`], [`best_namespace`] picks from
//! the server's disco features); results in `urn:xmpp:mam:1` and `urn:xmpp:mam:0` from older servers are read too.
//!
//! Message archiving is a server feature: a client that queries advertises nothing, so this module declares no
//! disco feature.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use moxl_core::jid::Jid;
use moxl_core::stanza::{StanzaError, iq_get, iq_set};
use moxl_core::xec::{Context, Payload, Request};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Error, Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0059_rsm::{SetQuery, SetResult};
use crate::xep_0297_forwarding::Forwarded;

/// `urn:xmpp:mam:2` (§10).
///
/// ```
/// assert_eq!(moxl_xep::xep_0313_mam::NS, "urn:xmpp:mam:2");
/// ```
pub const NS: &str = "urn:xmpp:mam:2";

/// `urn:xmpp:mam:2#extended`: the archive supports the `before-id`/`after-id`/`ids` fields and paging flips
/// (§5.1.3, §4.1.2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0313_mam::NS_EXTENDED, "urn:xmpp:mam:2#extended");
/// ```
pub const NS_EXTENDED: &str = "urn:xmpp:mam:2#extended";

/// `urn:xmpp:mam:1`, of older servers (results read, queries sent if asked).
///
/// ```
/// assert_eq!(moxl_xep::xep_0313_mam::NS_1, "urn:xmpp:mam:1");
/// ```
pub const NS_1: &str = "urn:xmpp:mam:1";

/// `urn:xmpp:mam:0`, of older servers (results read, queries sent if asked).
///
/// ```
/// assert_eq!(moxl_xep::xep_0313_mam::NS_0, "urn:xmpp:mam:0");
/// ```
pub const NS_0: &str = "urn:xmpp:mam:0";

/// The most results kept for one query while it is answered: a page is bounded by its `max`, this bounds an
/// archive that sends more than asked.
const MAX_RESULTS_PER_QUERY: usize = 10_000;

/// The newest MAM namespace among a server's (or room's) disco features: `urn:xmpp:mam:2`, else `:1`, else `:0`;
/// `urn:xmpp:mam:2` when none is listed.
///
/// ```
/// use moxl_xep::xep_0313_mam::best_namespace;
/// assert_eq!(best_namespace(["urn:xmpp:mam:0", "urn:xmpp:mam:1"]), "urn:xmpp:mam:1");
/// assert_eq!(best_namespace(["jabber:iq:version"]), "urn:xmpp:mam:2");
/// ```
pub fn best_namespace<'a>(features: impl IntoIterator<Item = &'a str>) -> &'static str {
    let features: Vec<&str> = features.into_iter().collect();
    [NS, NS_1, NS_0].into_iter().find(|n| features.contains(n)).unwrap_or(NS)
}

/// Whether `ns` is one of the MAM namespaces this module reads.
fn is_mam_ns(ns: &str) -> bool {
    matches!(ns, NS | NS_1 | NS_0)
}

/// What to fetch (§4.1): messages with a JID, in a time range, around an archive id. Every field is optional;
/// the empty filter fetches everything. Times are XEP-0082 date-times (`2010-06-07T00:00:00Z`).
///
/// ```
/// use moxl_xep::xep_0313_mam::Filter;
/// let f = Filter::default().with("juliet@capulet.lit").start("2010-06-07T00:00:00Z");
/// let form = f.to_form("urn:xmpp:mam:2").unwrap();
/// assert_eq!(form.value("with"), Some("juliet@capulet.lit"));
/// assert_eq!(form.form_type_value(), Some("urn:xmpp:mam:2"));
/// assert!(Filter::default().to_form("urn:xmpp:mam:2").is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Filter {
    /// Only messages to or from this JID (§4.1.1).
    pub with: Option<String>,
    /// Only messages at or after this time (§4.1.2).
    pub start: Option<String>,
    /// Only messages at or before this time (§4.1.2).
    pub end: Option<String>,
    /// Only messages before this archive id (`before-id`, `urn:xmpp:mam:2#extended`, §4.1.3).
    pub before_id: Option<String>,
    /// Only messages after this archive id (`after-id`, `urn:xmpp:mam:2#extended`, §4.1.3).
    pub after_id: Option<String>,
    /// Only these archive ids (`ids`, `urn:xmpp:mam:2#extended`, §4.1.4).
    pub ids: Vec<String>,
}

impl Filter {
    /// Only messages to or from `jid`.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0313_mam::Filter::default().with("a@b").with.as_deref(), Some("a@b"));
    /// ```
    pub fn with(mut self, jid: impl Into<String>) -> Filter {
        self.with = Some(jid.into());
        self
    }

    /// Only messages at or after `time`.
    ///
    /// ```
    /// let f = moxl_xep::xep_0313_mam::Filter::default().start("2010-08-07T00:00:00Z");
    /// assert_eq!(f.start.as_deref(), Some("2010-08-07T00:00:00Z"));
    /// ```
    pub fn start(mut self, time: impl Into<String>) -> Filter {
        self.start = Some(time.into());
        self
    }

    /// Only messages at or before `time`.
    ///
    /// ```
    /// let f = moxl_xep::xep_0313_mam::Filter::default().end("2010-08-07T00:00:00Z");
    /// assert_eq!(f.end.as_deref(), Some("2010-08-07T00:00:00Z"));
    /// ```
    pub fn end(mut self, time: impl Into<String>) -> Filter {
        self.end = Some(time.into());
        self
    }

    /// Only messages before the archive id `id` (`urn:xmpp:mam:2#extended`).
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0313_mam::Filter::default().before_id("x").before_id.as_deref(), Some("x"));
    /// ```
    pub fn before_id(mut self, id: impl Into<String>) -> Filter {
        self.before_id = Some(id.into());
        self
    }

    /// Only messages after the archive id `id` (`urn:xmpp:mam:2#extended`).
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0313_mam::Filter::default().after_id("x").after_id.as_deref(), Some("x"));
    /// ```
    pub fn after_id(mut self, id: impl Into<String>) -> Filter {
        self.after_id = Some(id.into());
        self
    }

    /// Only the messages with these archive ids (`urn:xmpp:mam:2#extended`).
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0313_mam::Filter::default().ids(["a", "b"]).ids, ["a", "b"]);
    /// ```
    pub fn ids(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Filter {
        self.ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// The filter as the submitted data form of the query (§4.1, FORM_TYPE `ns`); `None` for the empty filter,
    /// which needs no form.
    ///
    /// ```
    /// let form = moxl_xep::xep_0313_mam::Filter::default().after_id("09af3-cc343-b409f").to_form("urn:xmpp:mam:2").unwrap();
    /// assert_eq!(form.value("after-id"), Some("09af3-cc343-b409f"));
    /// ```
    pub fn to_form(&self, ns: &str) -> Option<DataForm> {
        if *self == Filter::default() {
            return None;
        }
        let mut form = DataForm::submit(Some(ns));
        for (var, value) in [
            ("with", &self.with),
            ("start", &self.start),
            ("end", &self.end),
            ("before-id", &self.before_id),
            ("after-id", &self.after_id),
        ] {
            if let Some(value) = value {
                form = form.with_value(var, value.clone());
            }
        }
        if !self.ids.is_empty() {
            form = form.with_values("ids", self.ids.iter().cloned());
        }
        Some(form)
    }
}

/// The query iq (§4, Example 2 and following): `<query queryid='…'/>` in namespace `ns`, sent to `archive`
/// (`None`: our own archive), with the filter's form and the paging request.
///
/// ```
/// use moxl_xep::xep_0059_rsm::SetQuery;
/// use moxl_xep::xep_0313_mam::{query, Filter, NS};
/// // §4.2, Example 8 (the id is set by Context::request)
/// let iq = query(None, NS, "f27", &Filter::default(), &SetQuery::max(10)).attr("id", "q29302").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='set' id='q29302'><query xmlns='urn:xmpp:mam:2' queryid='f27'>\
///      <set xmlns='http://jabber.org/protocol/rsm'><max>10</max></set></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn query(archive: Option<&str>, ns: &str, queryid: &str, filter: &Filter, set: &SetQuery) -> ElementBuilder {
    let mut q = ElementBuilder::new("query", ns.to_owned()).attr("queryid", queryid.to_owned());
    if let Some(form) = filter.to_form(ns) {
        q.push(form.to_element());
    }
    if *set != SetQuery::default() {
        q.push(set.to_element());
    }
    iq_set(archive).append(q)
}

/// A message read from an archive (§4.2, Example 9): its archive id, the time it was archived (its `<delay/>`)
/// and the message itself.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0313_mam::ArchivedMessage;
/// // §4.2, Example 9
/// let m = Element::parse("<message xmlns='jabber:client' id='aeb213' to='juliet@capulet.lit/chamber'>\
///     <result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482-98726-73623'>\
///     <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>\
///     <message xmlns='jabber:client' from='witch@shakespeare.lit' to='macbeth@shakespeare.lit'>\
///     <body>Hail to thee</body></message></forwarded></result></message>")?;
/// let a = ArchivedMessage::from_message(&m).unwrap();
/// assert_eq!((a.queryid.as_str(), a.id.as_str()), ("f27", "28482-98726-73623"));
/// assert_eq!(a.stamp.as_deref(), Some("2010-07-10T23:08:25Z"));
/// assert_eq!(a.message.child_text("body", "jabber:client").as_deref(), Some("Hail to thee"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ArchivedMessage {
    /// The `queryid` of the query it answers.
    pub queryid: String,
    /// Its id in the archive (use it with [`Filter::after_id`] or paging).
    pub id: String,
    /// When it was archived (the `stamp` of its `<delay/>`).
    pub stamp: Option<String>,
    /// The archived message.
    pub message: Element,
    /// The archive that sent it (the carrying message's `from`; `None` for our own archive without one).
    pub archive: Option<String>,
}

impl ArchivedMessage {
    /// Reads the `<result/>` (in `urn:xmpp:mam:2`, `:1` or `:0`) of a message. `None` if there is none, or it lacks
    /// its ids or its forwarded message. It does not check who sent it.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let m = Element::parse("<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2' queryid='q'/></message>")?;
    /// assert!(moxl_xep::xep_0313_mam::ArchivedMessage::from_message(&m).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_message(stanza: &Element) -> Option<ArchivedMessage> {
        if !stanza.is("message", ns::CLIENT) {
            return None;
        }
        let result = stanza.children().find(|c| c.name() == "result" && is_mam_ns(c.ns()))?;
        ArchivedMessage::from_result(stanza, &result)
    }

    fn from_result(stanza: &Element, result: &Element) -> Option<ArchivedMessage> {
        let Forwarded { message, stamp, .. } = Forwarded::find_in(result)?;
        Some(ArchivedMessage {
            queryid: result.attr("queryid")?.into_owned(),
            id: result.attr("id")?.into_owned(),
            stamp,
            message,
            archive: stanza.attr("from").map(|f| f.into_owned()),
        })
    }
}

/// The end of a query's answer (§4.3): whether the page reaches the end of the results, and the page's
/// XEP-0059 result set (first and last archive ids, total count).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0313_mam::Fin;
/// // §4.3, Example 13
/// let iq = Element::parse("<iq xmlns='jabber:client' type='result' id='u29303'>\
///     <fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'>\
///     <first index='0'>23452-4534-1</first><last>390-2342-22</last><count>16</count></set></fin></iq>")?;
/// let fin = Fin::from_iq(&iq);
/// assert!(fin.complete);
/// assert_eq!(fin.set.last.as_deref(), Some("390-2342-22"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fin {
    /// The last page: nothing more to fetch in this direction (`complete='true'`).
    pub complete: bool,
    /// The archive may still change these results (`stable='false'`, §4.3); `true` unless said otherwise.
    pub stable: bool,
    /// The page's result set.
    pub set: SetResult,
}

impl Fin {
    /// Reads the `<fin/>` of a query's iq result. An answer without one (the `urn:xmpp:mam:0` servers sent it in
    /// a message) is read as complete, so that paging stops.
    ///
    /// ```
    /// let empty = moxl_core::xml::Element::parse("<iq xmlns='jabber:client' type='result' id='x'/>")?;
    /// assert!(moxl_xep::xep_0313_mam::Fin::from_iq(&empty).complete);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_iq(iq: &Element) -> Fin {
        let Some(fin) = iq.children().find(|c| c.name() == "fin" && is_mam_ns(c.ns())) else {
            return Fin { complete: true, stable: true, set: SetResult::default() };
        };
        Fin::from_element(&fin)
    }

    /// Reads a `<fin/>` element itself (in an iq result, or in a message from a `urn:xmpp:mam:0` archive).
    ///
    /// ```
    /// let fin = moxl_core::xml::Element::parse("<fin xmlns='urn:xmpp:mam:0' queryid='f27' complete='true'/>")?;
    /// assert!(moxl_xep::xep_0313_mam::Fin::from_element(&fin).complete);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(fin: &Element) -> Fin {
        let flag = |name: &str| fin.attr(name).map(|v| matches!(v.as_ref(), "true" | "1"));
        Fin {
            complete: flag("complete").unwrap_or(false),
            stable: flag("stable").unwrap_or(true),
            set: SetResult::find_in(fin).unwrap_or_default(),
        }
    }
}

/// One answered query: the archived messages, in the order the archive sent them (oldest first when paging
/// forwards), and its [`Fin`].
///
/// ```
/// use moxl_xep::xep_0313_mam::{Fin, Page};
/// let p = Page { queryid: "f27".into(), messages: vec![], fin: Fin::default(), number: 1, done: true };
/// assert!(p.messages.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Page {
    /// The query's `queryid`.
    pub queryid: String,
    /// The results.
    pub messages: Vec<ArchivedMessage>,
    /// The end of the answer.
    pub fin: Fin,
    /// The page's number, from 1 (always 1 for a single [`Query`]).
    pub number: u32,
    /// No page follows: the query was a single one, or [`CatchUp`] stopped here.
    pub done: bool,
}

/// The queries of this session awaiting their results, by `queryid` (session state, never saved).
#[derive(Default)]
struct Queries(Mutex<HashMap<String, Collected>>);

/// One pending query: whose archive, and the results so far.
struct Collected {
    archive: Option<String>,
    messages: Vec<ArchivedMessage>,
    /// A `urn:xmpp:mam:0` query whose iq was answered before its results: what finishes it when its `<fin/>`
    /// message comes.
    waiting: Option<Waiting>,
}

/// A `urn:xmpp:mam:0` query answered by an iq without `<fin/>`: the archive sends the results and then the
/// `<fin/>` in a message (XEP-0313 0.2–0.3, §4.1; ejabberd still does for `mam:0`). The Action has ended with
/// the iq, so its context (the Packet keys of its outcomes) is kept here until then.
struct Waiting {
    query: Finish,
    ctx: Context,
    since: std::time::Instant,
}

/// Which Action a `<fin/>` message finishes.
enum Finish {
    Query,
    CatchUp(Box<CatchUp>),
}

/// What the requester of a `urn:xmpp:mam:0` query or catch-up gets: such an archive sends its `<fin/>` in a
/// message after the iq result, and its pages come only as Packets (`mam_query_handle`, `mam_catchup_handle`).
const MAM0_DEFERRED: &str = "a urn:xmpp:mam:0 archive ends its pages with a message: read them as Packets \
                             (mam_query_handle, mam_catchup_handle), or query the archive in urn:xmpp:mam:2";

/// How long a `urn:xmpp:mam:0` query waits for its `<fin/>` message after its iq was answered; past it, its
/// `timeout` Packet is delivered (when the next query starts or a `<fin/>` comes; no timer runs).
const FIN_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

impl Queries {
    fn open(ctx: &Context, queryid: &str, archive: Option<&str>) {
        Queries::time_out_waiting(ctx);
        let state = ctx.session_state::<Queries>();
        let mut map = state.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert(
            queryid.to_owned(),
            Collected { archive: archive.map(str::to_owned), messages: Vec::new(), waiting: None },
        );
    }

    /// Keeps the query open after its iq answer, until its `<fin/>` message.
    fn await_fin(ctx: &Context, queryid: &str, query: Finish) {
        let state = ctx.session_state::<Queries>();
        let mut map = state.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(collected) = map.get_mut(queryid) {
            collected.waiting = Some(Waiting { query, ctx: ctx.clone(), since: std::time::Instant::now() });
        }
    }

    /// Ends the queries that waited too long for their `<fin/>` message, delivering their `timeout` Packet.
    fn time_out_waiting(ctx: &Context) {
        let state = ctx.session_state::<Queries>();
        let expired: Vec<(String, Context)> = {
            let mut map = state.0.lock().unwrap_or_else(PoisonError::into_inner);
            let ids: Vec<String> = map
                .iter()
                .filter(|(_, c)| c.waiting.as_ref().is_some_and(|w| w.since.elapsed() >= FIN_WAIT))
                .map(|(id, _)| id.clone())
                .collect();
            ids.into_iter().filter_map(|id| map.remove(&id).and_then(|c| c.waiting).map(|w| (id, w.ctx))).collect()
        };
        for (queryid, ctx) in expired {
            tracing::warn!(queryid, "no <fin/> message from the mam:0 archive in time");
            ctx.__method("timeout").pack(queryid).deliver();
        }
    }

    fn close(ctx: &Context, queryid: &str) -> Vec<ArchivedMessage> {
        let state = ctx.session_state::<Queries>();
        let mut map = state.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(queryid).map(|c| c.messages).unwrap_or_default()
    }
}

/// Whether `from` is the archive that was queried: for our own archive (`None`), no `from` or our bare JID; for
/// another archive, that JID.
fn is_from_archive(from: Option<&str>, archive: Option<&str>, account: Option<&moxl_core::jid::BareJid>) -> bool {
    let from = match from.map(Jid::new) {
        None => return archive.is_none(),
        Some(Ok(from)) => from,
        Some(Err(_)) => return false,
    };
    match archive {
        None => from.is_bare() && account.is_some_and(|a| from.to_bare() == *a),
        Some(archive) => Jid::new(archive).is_ok_and(|a| a == from),
    }
}

/// Checks and collects one result. Shared by the three Payloads.
fn collect(ctx: &Context, element: &Element, stanza: &Element) {
    if !stanza.is("message", ns::CLIENT) || ctx.is_unwrapped() {
        return;
    }
    let Some(result) = ArchivedMessage::from_result(stanza, element) else {
        tracing::warn!(from = ?ctx.from(), "MAM result without ids or forwarded message: dropped");
        return;
    };
    let state = ctx.session_state::<Queries>();
    let mut map = state.0.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(collected) = map.get_mut(&result.queryid) else {
        tracing::warn!(from = ?ctx.from(), queryid = result.queryid, "MAM result for a query we did not send: dropped");
        return;
    };
    if !is_from_archive(result.archive.as_deref(), collected.archive.as_deref(), ctx.account().as_ref()) {
        tracing::warn!(from = ?result.archive, archive = ?collected.archive, queryid = result.queryid,
            "MAM result not from the queried archive: dropped");
        return;
    }
    if collected.messages.len() >= MAX_RESULTS_PER_QUERY {
        tracing::warn!(queryid = result.queryid, "more MAM results than a query may hold: dropped");
        return;
    }
    collected.messages.push(result);
}

/// Collects `urn:xmpp:mam:2` results (§4.2) for the query that asked for them; they are delivered by that
/// query's Action ([`Query`], [`CatchUp`]), so this Payload delivers no Packet (its key, `mamresult`, stays
/// unused). Results for a `queryid` we did not send, or not from the queried archive, are dropped and logged.
///
/// ```
/// use moxl_core::xec::Registry;
/// use moxl_xep as _; // linking moxl-xep registers its Payloads
/// assert!(Registry::global()?.handles("result", moxl_xep::xep_0313_mam::NS));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[payload(name = "result", ns = "urn:xmpp:mam:2", at = "child")]
#[derive(Debug, Default)]
pub struct MamResult;

impl Payload for MamResult {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        collect(ctx, element, stanza);
        Ok(())
    }
}

/// [`MamResult`] for `urn:xmpp:mam:1` (key `mamresultv1`, unused).
///
/// ```
/// use moxl_core::xec::Registry;
/// use moxl_xep as _; // linking moxl-xep registers its Payloads
/// assert!(Registry::global()?.handles("result", moxl_xep::xep_0313_mam::NS_1));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[payload(name = "result", ns = "urn:xmpp:mam:1", at = "child")]
#[derive(Debug, Default)]
pub struct MamResultV1;

impl Payload for MamResultV1 {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        collect(ctx, element, stanza);
        Ok(())
    }
}

/// [`MamResult`] for `urn:xmpp:mam:0` (key `mamresultv0`, unused).
///
/// ```
/// use moxl_core::xec::Registry;
/// use moxl_xep as _; // linking moxl-xep registers its Payloads
/// assert!(Registry::global()?.handles("result", moxl_xep::xep_0313_mam::NS_0));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[payload(name = "result", ns = "urn:xmpp:mam:0", at = "child")]
#[derive(Debug, Default)]
pub struct MamResultV0;

impl Payload for MamResultV0 {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        collect(ctx, element, stanza);
        Ok(())
    }
}

/// Whether a query's iq answer leaves its `<fin/>` to a later message: a `urn:xmpp:mam:0` query answered
/// without one (XEP-0313 0.2–0.3, §4.1: "the server MUST send a message with a `<fin/>` element"). Other
/// namespaces carry it in the iq (§4.3); an answer without one is read as complete ([`Fin::from_iq`]).
fn awaits_fin_message(ns: &str, iq: &Element) -> bool {
    ns == NS_0 && !iq.children().any(|c| c.name() == "fin" && is_mam_ns(c.ns()))
}

/// The `<fin/>` a `urn:xmpp:mam:0` archive sends in a message after the results (XEP-0313 0.2–0.3, §4.1). It
/// finishes the query (or catch-up) waiting for it: the [`Page`] is delivered under the query's own Packet key
/// (`mam_query_handle`, `mam_catchup_handle`), and a catch-up asks for its next page. Accepted only for a
/// `queryid` this session sent and whose iq was answered, from the queried archive, on a top-level message.
/// (Its own Packet key, `mamfinv0`, is unused.)
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0313_mam::{CatchUp, Page};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::builder().account("juliet@capulet.lit".parse()?).build()?;
/// let mut pages = xec.subscribe("mam_catchup_handle");
/// CatchUp::new(None, Default::default(), 50).namespace("urn:xmpp:mam:0").send(&xec.context())?;
/// let query = xec.take_outgoing().remove(0);
/// let id = query.attr("id").unwrap().into_owned();
/// let queryid = query.child("query", "urn:xmpp:mam:0").unwrap().attr("queryid").unwrap().into_owned();
/// // The iq is answered first, with nothing in it…
/// xec.dispatch(Element::parse(&format!("<iq xmlns='jabber:client' type='result' id='{id}'/>"))?).await;
/// assert!(pages.try_recv().is_none());
/// // …then the <fin/> comes in a message.
/// xec.dispatch(Element::parse(&format!("<message xmlns='jabber:client'><fin xmlns='urn:xmpp:mam:0' \
///     queryid='{queryid}' complete='true'/></message>"))?).await;
/// assert!(pages.try_recv().unwrap().content::<Page>().unwrap().done);
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "fin", ns = "urn:xmpp:mam:0")]
#[derive(Debug, Default)]
pub struct MamFinV0;

impl Payload for MamFinV0 {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if !stanza.is("message", ns::CLIENT) || ctx.is_unwrapped() || !stanza.children().any(|c| c.ptr_eq(element)) {
            return Ok(());
        }
        Queries::time_out_waiting(ctx);
        let Some(queryid) = element.attr("queryid").map(|q| q.into_owned()) else { return Ok(()) };
        let state = ctx.session_state::<Queries>();
        let taken = {
            let mut map = state.0.lock().unwrap_or_else(PoisonError::into_inner);
            match map.get(&queryid) {
                Some(c) if c.waiting.is_some() => {
                    if !is_from_archive(ctx.from().as_deref(), c.archive.as_deref(), ctx.account().as_ref()) {
                        tracing::warn!(from = ?ctx.from(), queryid, "MAM <fin/> not from the queried archive: dropped");
                        return Ok(());
                    }
                    map.remove(&queryid)
                }
                _ => None,
            }
        };
        let Some(Collected { messages, waiting: Some(waiting), .. }) = taken else {
            tracing::warn!(from = ?ctx.from(), queryid, "MAM <fin/> for no query waiting for one: dropped");
            return Ok(());
        };
        let page = Page { queryid, messages, fin: Fin::from_element(element), number: 1, done: true };
        match waiting.query {
            Finish::Query => {
                waiting.ctx.pack(page).deliver();
                Ok(())
            }
            Finish::CatchUp(catch_up) => catch_up.deliver(&waiting.ctx, page),
        }
    }
}

/// A random `queryid`.
fn new_queryid() -> String {
    use std::hash::{BuildHasher, Hasher};
    // 128 bits from two independently keyed hashers of the clock: unguessable enough for a query id, which
    // is also checked against the archive that answers.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut out = String::with_capacity(32);
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(now);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// One query of an archive (§4). Output: the [`Page`] of results once the archive has answered; an error is
/// `Err(Error::Stanza(..))` (`item-not-found`: the paging id is not in the archive), no answer
/// `Err(Error::Timeout(..))`. Start it with [`send`](Self::send) (which notes its `queryid`), not
/// `Context::request`. The Packets are the second view:
///
/// | outcome | Packet key | content |
/// |---|---|---|
/// | answered | `mam_query_handle` | [`Page`] |
/// | `item-not-found` (the paging id is not in the archive, §4.2) | `mam_query_erroritemnotfound` | [`StanzaError`] |
/// | any other error | `mam_query_error` | [`StanzaError`] |
/// | no answer in time | `mam_query_timeout` | the `queryid` |
///
/// ```
/// use moxl_xep::xep_0059_rsm::SetQuery;
/// use moxl_xep::xep_0313_mam::{Filter, Query};
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let query = Query::new(None, Filter::default().with("romeo@montague.lit"), SetQuery::max(20).last_page());
/// let page = query.send(&xec.context())?.await?;
/// let older = page.fin.set.first.clone(); // page backwards from here
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Query {
    archive: Option<String>,
    ns: String,
    queryid: String,
    filter: Filter,
    set: SetQuery,
}

impl Query {
    /// A query of `archive` (`None`: our own; else e.g. a room's JID) in `urn:xmpp:mam:2`, with a fresh `queryid`.
    ///
    /// ```
    /// use moxl_xep::xep_0313_mam::{Filter, Query};
    /// let q = Query::new(Some("coven@chat.shakespeare.lit".into()), Filter::default(), Default::default());
    /// assert_eq!(q.archive(), Some("coven@chat.shakespeare.lit"));
    /// assert_eq!(q.queryid().len(), 32);
    /// ```
    pub fn new(archive: Option<String>, filter: Filter, set: SetQuery) -> Query {
        Query { archive, ns: NS.to_owned(), queryid: new_queryid(), filter, set }
    }

    /// The query in another MAM namespace (`urn:xmpp:mam:1` or `:0`, for older servers; see [`best_namespace`]).
    ///
    /// ```
    /// let q = moxl_xep::xep_0313_mam::Query::new(None, Default::default(), Default::default()).namespace("urn:xmpp:mam:1");
    /// assert_eq!(q.ns(), "urn:xmpp:mam:1");
    /// ```
    pub fn namespace(mut self, ns: &str) -> Query {
        self.ns = ns.to_owned();
        self
    }

    /// The queried archive (`None`: our own).
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0313_mam::Query::new(None, Default::default(), Default::default()).archive(), None);
    /// ```
    pub fn archive(&self) -> Option<&str> {
        self.archive.as_deref()
    }

    /// The `queryid` the results will carry.
    ///
    /// ```
    /// let q = moxl_xep::xep_0313_mam::Query::new(None, Default::default(), Default::default());
    /// assert!(!q.queryid().is_empty());
    /// ```
    pub fn queryid(&self) -> &str {
        &self.queryid
    }

    /// The namespace the query goes out in.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0313_mam::Query::new(None, Default::default(), Default::default()).ns(), "urn:xmpp:mam:2");
    /// ```
    pub fn ns(&self) -> &str {
        &self.ns
    }

    /// Notes the `queryid` (so that its results are accepted) and sends the query. `.await` the returned
    /// [`Request`] for the [`Page`] (its `id()` is the iq's id), or drop it and read the Packet.
    ///
    /// ```
    /// use moxl_core::xec::Xec;
    /// let xec = Xec::new()?;
    /// let request = moxl_xep::xep_0313_mam::Query::new(None, Default::default(), Default::default()).send(&xec.context())?;
    /// let sent = xec.take_outgoing();
    /// assert!(sent[0].child("query", "urn:xmpp:mam:2").is_some());
    /// assert_eq!(sent[0].attr("id").as_deref(), Some(request.id()));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn send(self, ctx: &Context) -> Result<Request<Page>> {
        Queries::open(ctx, &self.queryid, self.archive.as_deref());
        let queryid = self.queryid.clone();
        ctx.request(self).inspect_err(|_| {
            Queries::close(ctx, &queryid);
        })
    }

    fn page(&self, ctx: &Context, stanza: &Element) -> Page {
        Page {
            queryid: self.queryid.clone(),
            messages: Queries::close(ctx, &self.queryid),
            fin: Fin::from_iq(stanza),
            number: 1,
            done: true,
        }
    }
}

#[action(group = "mam")]
impl Query {
    /// The page of results.
    type Output = Page;

    fn request(&self) -> ElementBuilder {
        query(self.archive.as_deref(), &self.ns, &self.queryid, &self.filter, &self.set)
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<Page> {
        if awaits_fin_message(&self.ns, stanza) {
            // mam:0: the <fin/> comes later in a message, which delivers the page (the Packet view). The typed
            // view cannot wait for it: the requester learns so (a mam:2 archive answers in the iq).
            Queries::await_fin(ctx, &self.queryid, Finish::Query);
            return Err(Error::handler(MAM0_DEFERRED));
        }
        Ok(self.page(ctx, stanza))
    }

    async fn error_item_not_found(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        Queries::close(ctx, &self.queryid);
        ctx.pack(error.clone()).deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        Queries::close(ctx, &self.queryid);
        ctx.pack(error.clone()).deliver();
    }

    async fn timeout(&mut self, ctx: &Context) {
        Queries::close(ctx, &self.queryid);
        ctx.pack(self.queryid.clone()).deliver();
    }
}

/// Fetches everything of an archive that matches a filter, oldest first, page after page (§4.2: forwards, each
/// page `after` the last id of the one before), until the archive says `complete` or `limit` results came.
/// Each page is delivered as it comes, in order, with its number.
///
/// Output: the whole catch-up as one [`Page`] (`done`): every message of every page, in order, with the last
/// page's `fin` and `number`. Each page is an Action of its own, continued with `Context::continue_with`, so
/// awaiting the first gives this final result; an error on any page is `Err(Error::Stanza(..))`, no answer
/// `Err(Error::Timeout(..))` (the pages before it came as Packets). Start it with [`send`](Self::send).
///
/// The Packets are the second view: one per page as it comes, except the last, the `done` one, which is the
/// Output (every message of the catch-up: a Packet reader takes either the pages without `done`, or only the
/// one with `done`). After a restart the revived Action resumes, but its `done` Page holds only the pages
/// fetched since (the earlier ones were delivered before).
///
/// | outcome | Packet key | content |
/// |---|---|---|
/// | a page | `mam_catchup_handle` | [`Page`] (on the last, `done`: the whole catch-up) |
/// | an error (the pages before it were delivered) | `mam_catchup_error` | [`StanzaError`] |
/// | no answer in time | `mam_catchup_timeout` | the `queryid` |
///
/// ```
/// use moxl_xep::xep_0313_mam::{CatchUp, Filter};
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// // everything since the last archive id we have, 50 a page
/// let all = CatchUp::new(None, Filter::default(), 50).after("28482-98726-73623").send(&xec.context())?.await?;
/// for archived in &all.messages { /* store it */ }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatchUp {
    query: Query,
    page_size: u32,
    limit: Option<u32>,
    /// Pages delivered so far.
    pages: u32,
    /// Results delivered so far.
    received: u32,
    /// The first page's `queryid`, under which the messages of the pages so far wait for the last one.
    #[serde(default)]
    first: String,
}

/// The messages of the catch-ups under way, by their first page's `queryid` (session state, never saved).
#[derive(Default)]
struct CaughtUp(Mutex<HashMap<String, Vec<ArchivedMessage>>>);

impl CaughtUp {
    fn add(ctx: &Context, first: &str, messages: &[ArchivedMessage]) {
        let state = ctx.session_state::<CaughtUp>();
        let mut map = state.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(first.to_owned()).or_default().extend_from_slice(messages);
    }

    fn take(ctx: &Context, first: &str) -> Vec<ArchivedMessage> {
        let state = ctx.session_state::<CaughtUp>();
        let mut map = state.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(first).unwrap_or_default()
    }
}

impl CatchUp {
    /// A catch-up of `archive` (`None`: our own) from its start, `page_size` results a page.
    ///
    /// ```
    /// let c = moxl_xep::xep_0313_mam::CatchUp::new(None, Default::default(), 50);
    /// assert_eq!(c.page_size(), 50);
    /// ```
    pub fn new(archive: Option<String>, filter: Filter, page_size: u32) -> CatchUp {
        let page_size = page_size.max(1);
        let query = Query::new(archive, filter, SetQuery::max(page_size));
        let first = query.queryid.clone();
        CatchUp { query, page_size, limit: None, pages: 0, received: 0, first }
    }

    /// Starts after this archive id (the newest one the application already has).
    ///
    /// ```
    /// let c = moxl_xep::xep_0313_mam::CatchUp::new(None, Default::default(), 50).after("x");
    /// assert_eq!(c.page_size(), 50);
    /// ```
    pub fn after(mut self, id: impl Into<String>) -> CatchUp {
        self.query.set = self.query.set.after(id);
        self
    }

    /// Stops after about `limit` results (whole pages; the last page asks only for what is left).
    ///
    /// ```
    /// let c = moxl_xep::xep_0313_mam::CatchUp::new(None, Default::default(), 50).limit(120);
    /// assert_eq!(c.page_size(), 50);
    /// ```
    pub fn limit(mut self, limit: u32) -> CatchUp {
        self.limit = Some(limit);
        self.query.set.max = Some(self.page_size.min(limit));
        self
    }

    /// The query namespace (see [`Query::namespace`]).
    ///
    /// ```
    /// let c = moxl_xep::xep_0313_mam::CatchUp::new(None, Default::default(), 50).namespace("urn:xmpp:mam:1");
    /// assert_eq!(c.page_size(), 50);
    /// ```
    pub fn namespace(mut self, ns: &str) -> CatchUp {
        self.query = self.query.namespace(ns);
        self
    }

    /// Results asked for per page.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0313_mam::CatchUp::new(None, Default::default(), 0).page_size(), 1);
    /// ```
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// Notes the first page's `queryid` and sends its query. `.await` the returned [`Request`] for the whole
    /// catch-up, or drop it and read the Packets.
    ///
    /// ```
    /// let xec = moxl_core::xec::Xec::new()?;
    /// let request = moxl_xep::xep_0313_mam::CatchUp::new(None, Default::default(), 50).send(&xec.context())?;
    /// assert_eq!(xec.take_outgoing()[0].attr("id").as_deref(), Some(request.id()));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn send(self, ctx: &Context) -> Result<Request<Page>> {
        Queries::open(ctx, &self.query.queryid, self.query.archive.as_deref());
        let queryid = self.query.queryid.clone();
        ctx.request(self).inspect_err(|_| {
            Queries::close(ctx, &queryid);
        })
    }

    /// Sends the next page's query as the continuation of the running page (`Context::continue_with`).
    fn continue_in(self, ctx: &Context) -> Result<()> {
        Queries::open(ctx, &self.query.queryid, self.query.archive.as_deref());
        let queryid = self.query.queryid.clone();
        ctx.continue_with(self).inspect_err(|_| {
            Queries::close(ctx, &queryid);
        })
    }

    /// Delivers a page (as page number `pages + 1`) and asks for the next one if needed.
    fn deliver(&self, ctx: &Context, mut page: Page) -> Result<()> {
        page.number = self.pages + 1;
        let next = self.next(&page);
        page.done = next.is_none();
        ctx.pack(page).deliver();
        match next {
            Some(next) => next.send(ctx).map(|_| ()),
            None => Ok(()),
        }
    }

    /// The next page's catch-up, if one is needed after `page`.
    fn next(&self, page: &Page) -> Option<CatchUp> {
        let received = self.received.saturating_add(u32::try_from(page.messages.len()).unwrap_or(u32::MAX));
        let left = self.limit.map(|l| l.saturating_sub(received));
        let last = page.fin.set.last.clone().or_else(|| page.messages.last().map(|m| m.id.clone()))?;
        if page.fin.complete || left == Some(0) || page.messages.is_empty() {
            return None;
        }
        let mut query = Query::new(
            self.query.archive.clone(),
            self.query.filter.clone(),
            SetQuery::max(self.page_size).after(last),
        );
        query.ns.clone_from(&self.query.ns);
        query.set.max = Some(left.map_or(self.page_size, |l| l.min(self.page_size)));
        Some(CatchUp {
            query,
            page_size: self.page_size,
            limit: self.limit,
            pages: self.pages + 1,
            received,
            first: self.first.clone(),
        })
    }
}

#[action(group = "mam")]
impl CatchUp {
    /// This page; on the last page, the whole catch-up.
    type Output = Page;

    fn request(&self) -> ElementBuilder {
        self.query.request()
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<Page> {
        if awaits_fin_message(&self.query.ns, stanza) {
            // mam:0: the <fin/> comes in a message, which pages on (the Packet view); see `Query::handle`.
            Queries::await_fin(ctx, &self.query.queryid, Finish::CatchUp(Box::new(self.clone())));
            return Err(Error::handler(MAM0_DEFERRED));
        }
        let mut page = self.query.page(ctx, stanza);
        page.number = self.pages + 1;
        let next = self.next(&page);
        page.done = next.is_none();
        match next {
            Some(next) => {
                CaughtUp::add(ctx, &self.first, &page.messages);
                next.continue_in(ctx)?;
            }
            None => {
                let mut all = CaughtUp::take(ctx, &self.first);
                all.append(&mut page.messages);
                page.messages = all;
            }
        }
        Ok(page)
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        Queries::close(ctx, &self.query.queryid);
        CaughtUp::take(ctx, &self.first);
        ctx.pack(error.clone()).deliver();
    }

    async fn timeout(&mut self, ctx: &Context) {
        Queries::close(ctx, &self.query.queryid);
        CaughtUp::take(ctx, &self.first);
        ctx.pack(self.query.queryid.clone()).deliver();
    }
}

/// Which messages the archive keeps by default (§7): `always`, `never`, or those with contacts in the roster.
///
/// ```
/// use moxl_xep::xep_0313_mam::DefaultPolicy;
/// assert_eq!(DefaultPolicy::parse("roster"), Some(DefaultPolicy::Roster));
/// assert_eq!(DefaultPolicy::Always.as_str(), "always");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DefaultPolicy {
    /// Archive every message.
    Always,
    /// Archive none, except with the `always` JIDs.
    Never,
    /// Archive messages with contacts in the roster.
    Roster,
}

impl DefaultPolicy {
    /// Reads the `default` attribute.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0313_mam::DefaultPolicy::parse("sometimes"), None);
    /// ```
    pub fn parse(value: &str) -> Option<DefaultPolicy> {
        match value {
            "always" => Some(DefaultPolicy::Always),
            "never" => Some(DefaultPolicy::Never),
            "roster" => Some(DefaultPolicy::Roster),
            _ => None,
        }
    }

    /// The `default` attribute's value.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0313_mam::DefaultPolicy::Never.as_str(), "never");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            DefaultPolicy::Always => "always",
            DefaultPolicy::Never => "never",
            DefaultPolicy::Roster => "roster",
        }
    }
}

/// The archiving preferences (§7): the default, and the JIDs always or never archived.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0313_mam::{DefaultPolicy, Prefs};
/// // §7, Example 37
/// let iq = Element::parse("<iq xmlns='jabber:client' type='result' id='juliet2'><prefs xmlns='urn:xmpp:mam:2' default='roster'>\
///     <always><jid>romeo@montague.lit</jid></always><never><jid>montague@montague.lit</jid></never></prefs></iq>")?;
/// let p = Prefs::find_in(&iq).unwrap();
/// assert_eq!(p.default, DefaultPolicy::Roster);
/// assert_eq!((p.always.as_slice(), p.never.as_slice()), (&["romeo@montague.lit".to_owned()][..], &["montague@montague.lit".to_owned()][..]));
/// assert_eq!(Prefs::from_element(&p.to_element().build()?).as_ref(), Some(&p));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefs {
    /// The default policy.
    pub default: DefaultPolicy,
    /// JIDs whose messages are always archived.
    pub always: Vec<String>,
    /// JIDs whose messages are never archived.
    pub never: Vec<String>,
}

impl Prefs {
    /// Reads a `<prefs/>` element (any MAM namespace). `None` without a known `default`.
    ///
    /// ```
    /// let p = moxl_core::xml::Element::parse("<prefs xmlns='urn:xmpp:mam:2'/>")?;
    /// assert!(moxl_xep::xep_0313_mam::Prefs::from_element(&p).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(prefs: &Element) -> Option<Prefs> {
        if prefs.name() != "prefs" || !is_mam_ns(prefs.ns()) {
            return None;
        }
        let ns = prefs.ns();
        let jids = |name: &str| -> Vec<String> {
            prefs
                .child(name, ns)
                .map(|l| l.children().filter(|j| j.is("jid", ns)).map(|j| j.text().trim().to_owned()).collect())
                .unwrap_or_default()
        };
        Some(Prefs {
            default: DefaultPolicy::parse(&prefs.attr("default")?)?,
            always: jids("always"),
            never: jids("never"),
        })
    }

    /// The `<prefs/>` child of an iq, read with [`from_element`](Self::from_element).
    ///
    /// ```
    /// let iq = moxl_core::xml::Element::parse("<iq xmlns='jabber:client' type='result'/>")?;
    /// assert!(moxl_xep::xep_0313_mam::Prefs::find_in(&iq).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn find_in(iq: &Element) -> Option<Prefs> {
        iq.children().find_map(|c| Prefs::from_element(&c))
    }

    /// The `<prefs xmlns='urn:xmpp:mam:2'/>` element (§7, Example 38).
    ///
    /// ```
    /// use moxl_xep::xep_0313_mam::{DefaultPolicy, Prefs};
    /// let p = Prefs { default: DefaultPolicy::Always, always: vec![], never: vec!["tybalt@capulet.lit".into()] };
    /// assert_eq!(
    ///     p.to_element().build()?.to_xml(),
    ///     "<prefs xmlns='urn:xmpp:mam:2' default='always'><always/><never><jid>tybalt@capulet.lit</jid></never></prefs>"
    /// );
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        let list = |name: &'static str, jids: &[String]| {
            jids.iter().fold(ElementBuilder::new(name, NS), |l, j| l.text_child("jid", j.clone()))
        };
        ElementBuilder::new("prefs", NS)
            .attr("default", self.default.as_str())
            .append(list("always", &self.always))
            .append(list("never", &self.never))
    }
}

/// Gets the archiving preferences (§7). Output: the [`Prefs`] (an answer without them is a handler error); an
/// error reply is `Err(Error::Stanza(..))`. The second view: `mam_getprefs_handle` with the [`Prefs`], or
/// `mam_getprefs_error` with the [`StanzaError`].
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let prefs = xec.context().request(moxl_xep::xep_0313_mam::GetPrefs)?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GetPrefs;

#[action(group = "mam")]
impl GetPrefs {
    /// The archiving preferences.
    type Output = Prefs;

    fn request(&self) -> ElementBuilder {
        iq_get(None).append(ElementBuilder::new("prefs", NS))
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Prefs> {
        Prefs::find_in(stanza).ok_or_else(|| moxl_core::Error::handler("the answer holds no MAM prefs (XEP-0313 §7)"))
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Sets the archiving preferences (§7). Output: the [`Prefs`] the server now applies (it may differ from those
/// asked); an error reply is `Err(Error::Stanza(..))`. The second view: `mam_setprefs_handle` with the
/// [`Prefs`], or `mam_setprefs_error` with the [`StanzaError`].
///
/// ```
/// use moxl_xep::xep_0313_mam::{DefaultPolicy, Prefs, SetPrefs};
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let applied = xec.context().request(SetPrefs(Prefs { default: DefaultPolicy::Roster, always: vec![], never: vec![] }))?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetPrefs(pub Prefs);

#[action(group = "mam")]
impl SetPrefs {
    /// The preferences the server applies.
    type Output = Prefs;

    fn request(&self) -> ElementBuilder {
        iq_set(None).append(self.0.to_element())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Prefs> {
        Ok(Prefs::find_in(stanza).unwrap_or_else(|| self.0.clone()))
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::jid::BareJid;
    use moxl_core::xec::Xec;

    fn juliet() -> Xec {
        Xec::builder().account(BareJid::new("juliet@capulet.lit").unwrap()).build().unwrap()
    }

    /// §4.2, Example 9, with the queryid and sender given.
    fn result(from: Option<&str>, ns: &str, queryid: &str, id: &str, body: &str) -> Element {
        let from = from.map(|f| format!(" from='{f}'")).unwrap_or_default();
        Element::parse(&format!(
            "<message xmlns='jabber:client' id='aeb213' to='juliet@capulet.lit/chamber'{from}>\
             <result xmlns='{ns}' queryid='{queryid}' id='{id}'><forwarded xmlns='urn:xmpp:forward:0'>\
             <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>\
             <message xmlns='jabber:client' to='juliet@capulet.lit/balcony' from='romeo@montague.lit/orchard' type='chat'>\
             <body>{body}</body><request xmlns='urn:xmpp:receipts'/></message></forwarded></result></message>"
        ))
        .unwrap()
    }

    fn fin(id: &str, complete: bool, last: &str) -> Element {
        Element::parse(&format!(
            "<iq xmlns='jabber:client' type='result' id='{id}'><fin xmlns='urn:xmpp:mam:2' complete='{complete}'>\
             <set xmlns='http://jabber.org/protocol/rsm'><first index='0'>a</first><last>{last}</last><count>3</count></set></fin></iq>"
        ))
        .unwrap()
    }

    #[test]
    fn the_query_is_the_spec_example_with_its_form() {
        // §4.1.1 Example 3 (with), §4.1.2 Example 5 (start)
        let f = Filter::default().with("juliet@capulet.lit").start("2010-08-07T00:00:00Z");
        let iq = query(None, NS, "f27", &f, &SetQuery::default()).build().unwrap();
        let q = iq.child("query", NS).unwrap();
        assert_eq!(q.attr("queryid").as_deref(), Some("f27"));
        let form = DataForm::find_in(&q).unwrap();
        assert_eq!(form.form_type_value(), Some(NS));
        assert_eq!(form.value("with"), Some("juliet@capulet.lit"));
        assert_eq!(form.value("start"), Some("2010-08-07T00:00:00Z"));
        assert!(q.child("set", crate::xep_0059_rsm::NS).is_none());
        let old = query(Some("room@muc.lit"), NS_1, "q", &f, &SetQuery::max(5)).build().unwrap();
        assert_eq!(old.attr("to").as_deref(), Some("room@muc.lit"));
        assert_eq!(DataForm::find_in(&old.child("query", NS_1).unwrap()).unwrap().form_type_value(), Some(NS_1));
    }

    #[test]
    fn results_of_our_query_are_delivered_in_order_with_the_fin_and_never_dispatched_live() {
        let xec = juliet();
        let mut pages = xec.subscribe("mam_query_handle");
        let mut receipts = xec.subscribe("receipt");
        let q = Query::new(None, Filter::default(), SetQuery::max(10));
        let queryid = q.queryid().to_owned();
        let out = q.send(&xec.context()).unwrap();
        let id = out.id().to_owned();
        xec.take_outgoing();
        // our own archive: no from, or our bare JID; an old server's mam:0 result is read as well
        block_on(xec.dispatch(result(None, NS, &queryid, "a1", "one")));
        block_on(xec.dispatch(result(Some("juliet@capulet.lit"), NS, &queryid, "a2", "two")));
        block_on(xec.dispatch(result(None, NS_0, &queryid, "a3", "three")));
        assert!(xec.take_outgoing().is_empty(), "an archived message is not answered");
        block_on(xec.dispatch(fin(&id, true, "a3")));
        // the typed view, then the Packet
        let typed = block_on(out).unwrap();
        assert_eq!(typed.messages.len(), 3);
        let page = pages.try_recv().unwrap();
        let page = page.content::<Page>().unwrap();
        let ids: Vec<&str> = page.messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["a1", "a2", "a3"]);
        assert_eq!(page.messages[1].message.child_text("body", "jabber:client").as_deref(), Some("two"));
        assert_eq!(page.messages[0].stamp.as_deref(), Some("2010-07-10T23:08:25Z"));
        assert!(page.fin.complete && page.done);
        assert!(receipts.try_recv().is_none());
        // the query is closed: a late result is dropped
        block_on(xec.dispatch(result(None, NS, &queryid, "a4", "late")));
        assert!(xec.context().session_state::<Queries>().0.lock().unwrap().is_empty());
    }

    #[test]
    fn forged_results_are_dropped() {
        let xec = juliet();
        let mut pages = xec.subscribe("mam_query_handle");
        let own = Query::new(None, Filter::default(), SetQuery::default());
        let own_id = own.queryid().to_owned();
        let iq_own = own.send(&xec.context()).unwrap().id().to_owned();
        let room = Query::new(Some("coven@chat.shakespeare.lit".into()), Filter::default(), SetQuery::default());
        let room_id = room.queryid().to_owned();
        let iq_room = room.send(&xec.context()).unwrap().id().to_owned();
        for forged in [
            // someone else claims to be our archive
            result(Some("romeo@montague.lit/orchard"), NS, &own_id, "f1", "forged"),
            // one of our own resources is not our archive
            result(Some("juliet@capulet.lit/balcony"), NS, &own_id, "f2", "forged"),
            // a queryid we never sent
            result(None, NS, "guessed", "f3", "forged"),
            // our own archive answering the room's query
            result(None, NS, &room_id, "f4", "forged"),
            // an occupant of the room is not the room
            result(Some("coven@chat.shakespeare.lit/firstwitch"), NS, &room_id, "f5", "forged"),
        ] {
            block_on(xec.dispatch(forged));
        }
        block_on(xec.dispatch(result(Some("coven@chat.shakespeare.lit"), NS, &room_id, "r1", "genuine")));
        block_on(xec.dispatch(fin(&iq_own, true, "x")));
        block_on(
            xec.dispatch(
                Element::parse(&format!(
                    "<iq xmlns='jabber:client' type='result' id='{iq_room}' from='coven@chat.shakespeare.lit'>\
             <fin xmlns='urn:xmpp:mam:2' complete='true'/></iq>"
                ))
                .unwrap(),
            ),
        );
        let own_page = pages.try_recv().unwrap();
        assert!(own_page.content::<Page>().unwrap().messages.is_empty());
        let room_page = pages.try_recv().unwrap();
        let ids: Vec<String> = room_page.content::<Page>().unwrap().messages.iter().map(|m| m.id.clone()).collect();
        assert_eq!(ids, ["r1"]);
    }

    /// An ejabberd `urn:xmpp:mam:0` answer (XEP-0313 0.3, §4.1): the empty iq result first, then the results,
    /// then `<fin/>` in a message. Paging goes on from that `<fin/>` (it stopped after the empty iq before).
    #[test]
    fn a_mam_0_catch_up_reads_its_fin_from_the_message_and_pages_on() {
        let xec = juliet();
        let mut pages = xec.subscribe("mam_catchup_handle");
        CatchUp::new(None, Filter::default(), 2).namespace(NS_0).send(&xec.context()).unwrap();
        let ask = |xec: &Xec| {
            let q = xec.take_outgoing().remove(0);
            let queryid = q.child("query", NS_0).unwrap().attr("queryid").unwrap().into_owned();
            (q.attr("id").unwrap().into_owned(), queryid, q)
        };
        let fin_message = |from: Option<&str>, queryid: &str, complete: bool, last: &str| {
            let from = from.map(|f| format!(" from='{f}'")).unwrap_or_default();
            Element::parse(&format!(
                "<message xmlns='jabber:client' to='juliet@capulet.lit/chamber'{from}><fin xmlns='{NS_0}' \
                 queryid='{queryid}' complete='{complete}'><set xmlns='http://jabber.org/protocol/rsm'>\
                 <first index='0'>a</first><last>{last}</last></set></fin></message>"
            ))
            .unwrap()
        };
        let (id, queryid, _) = ask(&xec);
        block_on(
            xec.dispatch(Element::parse(&format!("<iq xmlns='jabber:client' type='result' id='{id}'/>")).unwrap()),
        );
        assert!(pages.try_recv().is_none(), "the empty iq answer is not the end");
        block_on(xec.dispatch(result(None, NS_0, &queryid, "a1", "one")));
        block_on(xec.dispatch(result(None, NS_0, &queryid, "a2", "two")));
        // someone else's <fin/> for our query is dropped
        block_on(xec.dispatch(fin_message(Some("romeo@montague.lit"), &queryid, true, "a2")));
        assert!(pages.try_recv().is_none());
        block_on(xec.dispatch(fin_message(Some("juliet@capulet.lit"), &queryid, false, "a2")));
        let page = pages.try_recv().unwrap();
        let page = page.content::<Page>().unwrap();
        assert_eq!(page.messages.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["a1", "a2"]);
        assert!(!page.done && page.number == 1);
        // the next page goes after a2, and ends with the archive's complete <fin/>
        let (id, queryid, q) = ask(&xec);
        let set = q.child("query", NS_0).unwrap().child("set", crate::xep_0059_rsm::NS).unwrap();
        assert_eq!(set.child_text("after", crate::xep_0059_rsm::NS).as_deref(), Some("a2"));
        block_on(
            xec.dispatch(Element::parse(&format!("<iq xmlns='jabber:client' type='result' id='{id}'/>")).unwrap()),
        );
        block_on(xec.dispatch(result(None, NS_0, &queryid, "a3", "three")));
        block_on(xec.dispatch(fin_message(None, &queryid, true, "a3")));
        let page = pages.try_recv().unwrap();
        let page = page.content::<Page>().unwrap();
        assert_eq!(page.messages.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["a3"]);
        assert!(page.done && page.number == 2);
        assert!(xec.take_outgoing().is_empty());
        assert!(xec.context().session_state::<Queries>().0.lock().unwrap().is_empty());
    }

    #[test]
    fn the_catch_up_pages_forward_until_complete() {
        let xec = juliet();
        let mut pages = xec.subscribe("mam_catchup_handle");
        let all = CatchUp::new(None, Filter::default().with("romeo@montague.lit"), 2).send(&xec.context()).unwrap();
        let mut delivered = Vec::new();
        for (page, complete) in [(["1", "2"], false), (["3", "4"], false), (["5", "6"], true)] {
            let out = xec.take_outgoing();
            assert_eq!(out.len(), 1);
            let q = out[0].child("query", NS).unwrap();
            let set = q.child("set", crate::xep_0059_rsm::NS).unwrap();
            assert_eq!(set.child_text("max", crate::xep_0059_rsm::NS).as_deref(), Some("2"));
            let after = set.child_text("after", crate::xep_0059_rsm::NS);
            assert_eq!(after.as_deref(), delivered.last().map(String::as_str), "each page after the last id");
            let queryid = q.attr("queryid").unwrap().into_owned();
            for id in page {
                block_on(xec.dispatch(result(None, NS, &queryid, id, id)));
            }
            block_on(xec.dispatch(fin(&out[0].attr("id").unwrap(), complete, page[1])));
            if !complete {
                // a page handed on to the next is no Packet of its own (a chain delivers once)
                assert!(pages.try_recv().is_none());
                delivered.extend(page.iter().map(|id| id.to_string()));
            } else {
                let p = pages.try_recv().unwrap();
                let p = p.content::<Page>().unwrap();
                assert!(p.done);
                // the done Page (the Output) is the whole catch-up
                let ids: Vec<&str> = p.messages.iter().map(|m| m.id.as_str()).collect();
                assert_eq!(ids, ["1", "2", "3", "4", "5", "6"]);
                assert_eq!(p.number, 3);
            }
        }
        assert_eq!(delivered, ["1", "2", "3", "4"]);
        assert!(xec.take_outgoing().is_empty(), "no query after the complete page");
        // awaiting the first page's request gives the whole catch-up (continue_with)
        let all = block_on(all).unwrap();
        let ids: Vec<&str> = all.messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "4", "5", "6"]);
        assert!(all.done && all.fin.complete);
        assert!(xec.context().session_state::<CaughtUp>().0.lock().unwrap().is_empty());

        // a limit stops it early, the last page asking only for what is left
        let mut pages = xec.subscribe("mam_catchup_handle");
        CatchUp::new(None, Filter::default(), 2).limit(3).send(&xec.context()).unwrap();
        let out = xec.take_outgoing();
        let queryid = out[0].child("query", NS).unwrap().attr("queryid").unwrap().into_owned();
        for id in ["1", "2"] {
            block_on(xec.dispatch(result(None, NS, &queryid, id, id)));
        }
        block_on(xec.dispatch(fin(&out[0].attr("id").unwrap(), false, "2")));
        assert!(pages.try_recv().is_none(), "handed on to the next page");
        let out = xec.take_outgoing();
        let set = out[0].child("query", NS).unwrap().child("set", crate::xep_0059_rsm::NS).unwrap();
        assert_eq!(set.child_text("max", crate::xep_0059_rsm::NS).as_deref(), Some("1"));
        let queryid = out[0].child("query", NS).unwrap().attr("queryid").unwrap().into_owned();
        block_on(xec.dispatch(result(None, NS, &queryid, "3", "3")));
        block_on(xec.dispatch(fin(&out[0].attr("id").unwrap(), false, "3")));
        assert!(pages.try_recv().unwrap().content::<Page>().unwrap().done);
        assert!(xec.take_outgoing().is_empty());
    }

    #[test]
    fn prefs_round_trip() {
        let p = Prefs { default: DefaultPolicy::Roster, always: vec!["romeo@montague.lit".into()], never: vec![] };
        let iq = iq_set(None).append(p.to_element()).build().unwrap();
        assert_eq!(Prefs::find_in(&iq), Some(p));
        assert_eq!(best_namespace([NS_0]), NS_0);
    }
}
