//! XEP-0463: MUC Affiliations Versioning (version 0.2.0, namespace `urn:xmpp:muc:affiliations:1`). A room
//! versions its affiliation lists, as a server versions a roster: a client joining with the version it has
//! cached (`<mav since='…'/>` in the join's `<x xmlns='http://jabber.org/protocol/muc'/>`, §5.1) gets only what
//! changed since (or the whole list, if the room does not know that version), in messages before its
//! self-presence (§5.2.1), and every later change names the version it leads from and to (§5.2.2).
//!
//! - [`supported`]: whether a room announces it (§4, on the room's own disco#info).
//! - [`JoinSince`]: the awaitable Action, a join that fetches the affiliations since a known version; its
//!   `Output` is an [`AffiliationSync`] (our self-presence, the changes, the room's current version). Start it
//!   with [`join_since`], which makes ready to gather the lists that come before the reply.
//! - [`RefusedLists`] takes a room's refusal to send the lists (§5.2.3) into the join's outcome.
//! - [`AffiliationChanges`]: the typed view of one versioned list (a message) or change (a message or an
//!   occupant's presence), delivered by [`VersionedAffiliations`] (Packet key `mucaffiliationversion`), and
//!   [`AffiliationCache`], which applies them in order and tells when they do not follow on.
//!
//! The client announces no disco feature for it: `urn:xmpp:muc:affiliations:1` is the room's (§4).
//!
//! Version 0.1.0 (`urn:xmpp:muc:affiliations:0`) put `since`/`until` as namespaced attributes on `<x/>`; it is
//! not spoken here (moxl's element reader does not resolve attribute prefixes), and a room announcing only it
//! counts as not supporting. Neither Prosody 0.12 nor ejabberd 23.01 implements either version: their rooms
//! announce no `urn:xmpp:muc:affiliations:*` feature (`tests/xep_muc.rs` asserts it), so this module is tested
//! with the XEP's own examples as fixtures.
//!
//! ```
//! use moxl_xep::xep_0463_muc_affiliations_versioning::{AffiliationCache, JoinSince, join_since};
//! # async fn run(ctx: &moxl_core::xec::Context, cache: &mut AffiliationCache) -> moxl_core::Result<()> {
//! let sync = join_since(ctx, JoinSince::new("news@chat.commons.example", "louise", cache.version()))?.await?;
//! if !sync.apply_to(cache) {
//!     // the room does not version (or lost track): ask the four lists of XEP-0045 §9 instead
//! }
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use moxl_core::jid::Jid;
use moxl_core::stanza::{StanzaError, presence};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0045_muc::{self as muc, Affiliation, History, MucPresence, occupant_jid};

/// `urn:xmpp:muc:affiliations:1`: the namespace of `<mav/>`, and the room's disco feature (§4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0463_muc_affiliations_versioning::NS, "urn:xmpp:muc:affiliations:1");
/// ```
pub const NS: &str = "urn:xmpp:muc:affiliations:1";

/// `urn:xmpp:muc:affiliations:0`: version 0.1.0's namespace (namespaced attributes; not spoken here).
pub const NS_0: &str = "urn:xmpp:muc:affiliations:0";

/// Whether a room's disco#info features announce this specification (§4).
///
/// ```
/// use moxl_xep::xep_0463_muc_affiliations_versioning::supported;
/// assert!(supported(&["http://jabber.org/protocol/muc", "urn:xmpp:muc:affiliations:1"]));
/// assert!(!supported(&["http://jabber.org/protocol/muc", "urn:xmpp:muc:affiliations:0"]));
/// ```
pub fn supported<S: AsRef<str>>(features: &[S]) -> bool {
    features.iter().any(|f| f.as_ref() == NS)
}

/// The `<mav/>` element: `since` and `until` versions (§5, §8).
///
/// ```
/// use moxl_xep::xep_0463_muc_affiliations_versioning::Mav;
/// // §5.1, Example 2 (with the XEP's `xmllns` typo fixed)
/// let bootstrap = Mav::since(None).to_element().build()?;
/// assert_eq!(bootstrap.to_xml(), "<mav xmlns='urn:xmpp:muc:affiliations:1'/>");
/// let known = Mav::since(Some("9pacabr2q1")).to_element().build()?;
/// assert_eq!(known.to_xml(), "<mav xmlns='urn:xmpp:muc:affiliations:1' since='9pacabr2q1'/>");
/// assert_eq!(Mav::from_element(&known), Some(Mav::since(Some("9pacabr2q1"))));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Mav {
    /// The version the list or change starts from (absent: a full list).
    pub since: Option<String>,
    /// The version it leads to (the room's current one).
    pub until: Option<String>,
}

impl Mav {
    /// A client's request element: `since` the version it has cached, or a bootstrap request (`None`, §5.1).
    pub fn since(since: Option<&str>) -> Mav {
        Mav { since: since.map(str::to_owned), until: None }
    }

    /// Reads a `<mav/>` of [`NS`]; an empty version string counts as absent.
    pub fn from_element(e: &Element) -> Option<Mav> {
        if !e.is("mav", NS) {
            return None;
        }
        let attr = |n: &str| e.attr(n).filter(|v| !v.is_empty()).map(Cow::into_owned);
        Some(Mav { since: attr("since"), until: attr("until") })
    }

    /// The `<mav/>` inside a `<x xmlns='http://jabber.org/protocol/muc#user'/>` of `stanza`.
    pub fn in_stanza(stanza: &Element) -> Option<Mav> {
        Mav::from_element(&stanza.child("x", muc::NS_USER)?.child("mav", NS)?)
    }

    /// Writes the element.
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("mav", NS).attr_opt("since", self.since.clone()).attr_opt("until", self.until.clone())
    }
}

/// One affiliation in a versioned list or change: a bare JID and its affiliation (`none` removes it, §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VersionedItem {
    /// The user's JID, as the room gives it (a full JID is reduced to its bare JID).
    pub jid: String,
    /// The affiliation from this version on.
    pub affiliation: Affiliation,
}

/// A versioned affiliation list or change from a room (§5.2.1, §5.2.2): a message holding a full list
/// (`since` absent) or a diff, or an occupant presence that changes one affiliation.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0045_muc::Affiliation;
/// use moxl_xep::xep_0463_muc_affiliations_versioning::AffiliationChanges;
/// // §5.2.1, Example 4: a diff
/// let m = Element::parse("<message xmlns='jabber:client' from='news@chat.commons.example' to='louise@commons.example/desktop'>\
///     <x xmlns='http://jabber.org/protocol/muc#user'><mav xmlns='urn:xmpp:muc:affiliations:1' since='9pacabr2q1' until='ruz41312vw'/>\
///     <item jid='vladimir@commons.example' affiliation='none'/><item jid='rosa@commons.example' affiliation='owner'/></x></message>")?;
/// let c = AffiliationChanges::from_stanza(&m).unwrap();
/// assert_eq!((c.room.as_str(), c.since.as_deref(), c.until.as_str()), ("news@chat.commons.example", Some("9pacabr2q1"), "ruz41312vw"));
/// assert!(!c.is_full());
/// assert_eq!((c.items[1].jid.as_str(), c.items[1].affiliation), ("rosa@commons.example", Affiliation::Owner));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AffiliationChanges {
    /// The room (bare JID).
    pub room: String,
    /// The version this starts from; `None` for a full list.
    pub since: Option<String>,
    /// The version this leads to.
    pub until: String,
    /// The affiliations, in the room's order.
    pub items: Vec<VersionedItem>,
}

impl AffiliationChanges {
    /// Reads a versioned list or change: a message from the room's bare JID, or an occupant presence, whose
    /// `<x xmlns='…muc#user'/>` holds a `<mav/>` with `until` (and, for a presence, `since`: a self-presence
    /// stating the current version only is no change). Items without `jid` or with an unknown affiliation are
    /// left out (an occupant presence of a semi-anonymous room names no JID: nothing to cache). `None` for
    /// anything else, and for an error.
    pub fn from_stanza(stanza: &Element) -> Option<AffiliationChanges> {
        if stanza.attr("type").as_deref() == Some("error") {
            return None;
        }
        let from = Jid::new(&stanza.attr("from")?).ok()?;
        let is_message = stanza.is("message", ns::CLIENT);
        if !(is_message && from.resource().is_none() || stanza.is("presence", ns::CLIENT)) {
            return None;
        }
        let x = stanza.child("x", muc::NS_USER)?;
        let mav = Mav::from_element(&x.child("mav", NS)?)?;
        if !is_message && mav.since.is_none() {
            return None;
        }
        let items = x
            .children()
            .filter(|i| i.is("item", muc::NS_USER))
            .filter_map(|i| {
                let jid = Jid::new(&i.attr("jid")?).ok()?.to_bare().to_string();
                let affiliation = Affiliation::from_name(&i.attr("affiliation")?)?;
                Some(VersionedItem { jid, affiliation })
            })
            .collect();
        Some(AffiliationChanges { room: from.to_bare().to_string(), since: mav.since, until: mav.until?, items })
    }

    /// Whether this is a full list (no `since`): it replaces what was cached.
    pub fn is_full(&self) -> bool {
        self.since.is_none()
    }
}

/// A room's affiliations as cached by a client, with their version (§6: keep one per room, never a global one).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0045_muc::Affiliation;
/// use moxl_xep::xep_0463_muc_affiliations_versioning::{AffiliationCache, AffiliationChanges};
/// let msg = |mav: &str, items: &str| AffiliationChanges::from_stanza(&Element::parse(&format!(
///     "<message xmlns='jabber:client' from='news@chat.commons.example'><x xmlns='http://jabber.org/protocol/muc#user'>\
///      <mav xmlns='urn:xmpp:muc:affiliations:1' {mav}/>{items}</x></message>")).unwrap()).unwrap();
/// let mut cache = AffiliationCache::default();
/// // §5.2.1, Example 3: a full list
/// assert!(cache.apply(&msg("until='9pacabr2q1'", "<item jid='louise@commons.example' affiliation='owner'/>\
///     <item jid='vladimir@commons.example' affiliation='member'/>")));
/// // Example 4: the diff from that version
/// assert!(cache.apply(&msg("since='9pacabr2q1' until='ruz41312vw'", "<item jid='vladimir@commons.example' affiliation='none'/>\
///     <item jid='rosa@commons.example' affiliation='owner'/>")));
/// assert_eq!(cache.version(), Some("ruz41312vw"));
/// assert_eq!(cache.get("rosa@commons.example"), Some(Affiliation::Owner));
/// assert_eq!(cache.get("vladimir@commons.example"), None);
/// // a diff from another version does not follow on: refused, the cache is unchanged
/// assert!(!cache.apply(&msg("since='elsewhere' until='later'", "")));
/// assert_eq!(cache.version(), Some("ruz41312vw"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffiliationCache {
    version: Option<String>,
    affiliations: BTreeMap<String, Affiliation>,
}

impl AffiliationCache {
    /// The cached version, to join with ([`JoinSince`]); `None` when nothing is cached.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The cached affiliation of `jid` (a bare JID); `None` for none.
    pub fn get(&self, jid: &str) -> Option<Affiliation> {
        self.affiliations.get(jid).copied()
    }

    /// Every cached affiliation but `none`, by bare JID.
    pub fn affiliations(&self) -> &BTreeMap<String, Affiliation> {
        &self.affiliations
    }

    /// Forgets everything (§5.2.1: a self-presence without the expected version makes the cache outdated).
    pub fn clear(&mut self) {
        *self = AffiliationCache::default();
    }

    /// Applies a list or change: a full list replaces the cache, a diff applies when its `since` is the cached
    /// version. `false` (and nothing changed) for a diff that does not follow on.
    pub fn apply(&mut self, changes: &AffiliationChanges) -> bool {
        match &changes.since {
            None => self.affiliations.clear(),
            Some(since) if self.version.as_deref() == Some(since.as_str()) => {}
            Some(_) => return false,
        }
        for item in &changes.items {
            if item.affiliation == Affiliation::None {
                self.affiliations.remove(&item.jid);
            } else {
                self.affiliations.insert(item.jid.clone(), item.affiliation);
            }
        }
        self.version = Some(changes.until.clone());
        true
    }
}

/// What a [`JoinSince`] brought: our self-presence, the lists the room sent before it, and the version it
/// states in the self-presence.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AffiliationSync {
    /// Our self-presence in the room.
    pub presence: MucPresence,
    /// The version we joined with.
    pub since: Option<String>,
    /// The room's current version, from the self-presence's `<mav until='…'/>`; `None` when it has none
    /// (the room does not version, §5.2.1).
    pub until: Option<String>,
    /// The lists and diffs the room sent during the join, in order (none when we were up to date).
    pub changes: Vec<AffiliationChanges>,
    /// The room's refusal to send us the lists (§5.2.3: an `auth`/`forbidden` error message), if it refused.
    pub refused: Option<StanzaError>,
}

impl AffiliationSync {
    /// Whether the room versioned this join: its self-presence states a version.
    pub fn versioned(&self) -> bool {
        self.until.is_some()
    }

    /// Brings `cache` up to date: applies the changes, and checks that the cache ends at the version the
    /// self-presence states. `false` when it does not (the room does not version, refused us the lists, or the
    /// changes do not follow on): then the cache is cleared, as §5.2.1 asks, and the lists must be fetched another way.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::MucPresence;
    /// use moxl_xep::xep_0463_muc_affiliations_versioning::{AffiliationCache, AffiliationSync};
    /// // §5.2.1, Example 6: up to date, the room only states its version
    /// let p = Element::parse("<presence xmlns='jabber:client' from='news@chat.commons.example/louise' to='louise@commons.example/desktop'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><mav xmlns='urn:xmpp:muc:affiliations:1' until='ruz41312vw'/>\
    ///     <item affiliation='member' role='participant'/><status code='110'/></x></presence>")?;
    /// let sync = AffiliationSync::from_self_presence(&p, Some("ruz41312vw"), Vec::new()).unwrap();
    /// let mut cache = AffiliationCache::default();
    /// assert!(!sync.apply_to(&mut cache), "an empty cache is not at ruz41312vw");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn apply_to(&self, cache: &mut AffiliationCache) -> bool {
        let Some(until) = self.until.as_ref().filter(|_| self.refused.is_none()) else {
            cache.clear();
            return false;
        };
        let applied = self.changes.iter().all(|c| cache.apply(c));
        if applied && cache.version() == Some(until.as_str()) {
            true
        } else {
            cache.clear();
            false
        }
    }

    /// Reads our self-presence (`None` if `stanza` is not a MUC presence) with the changes gathered before it.
    pub fn from_self_presence(
        stanza: &Element,
        since: Option<&str>,
        changes: Vec<AffiliationChanges>,
    ) -> Option<AffiliationSync> {
        let presence = MucPresence::from_stanza(stanza)?;
        let until = Mav::in_stanza(stanza).and_then(|m| m.until);
        Some(AffiliationSync { presence, since: since.map(str::to_owned), until, changes, refused: None })
    }
}

/// What a join under way gathered: the lists, and the room's refusal to send them (§5.2.3).
#[derive(Default)]
struct Gathered {
    changes: Vec<AffiliationChanges>,
    refused: Option<StanzaError>,
}

/// The lists gathered for the joins under way, by room (bare JID).
#[derive(Default)]
struct Pending(Mutex<HashMap<String, Gathered>>);

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Gathered>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Joins a room asking for the affiliations since a known version (§5.1): `since` the version cached for this
/// room, or `None` for the whole list (a bootstrap request). The reply is our self-presence, as for
/// [`muc::Join`]; the lists the room sends before it (§5.2.1) are gathered into the `Output`, an
/// [`AffiliationSync`]. A room that does not version ignores `<mav/>`: the join succeeds with no changes and
/// no `until` ([`AffiliationSync::versioned`] is `false`). Join errors are the request's error (see
/// [`muc::Join`] for their conditions). Start it with [`join_since`]: requested otherwise (or revived after a
/// restart, when the lists already went by), its reply is an error that says so, never an empty list that would
/// pass for "up to date". A room that refuses the lists to us sends a `forbidden` error message (§5.2.3): the
/// join then succeeds, with that error in [`AffiliationSync::refused`] and no lists.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | our self-presence | `mav_joinsince_handle` | [`AffiliationSync`] |
/// | any error | `mav_joinsince_error` | the `StanzaError` |
///
/// ```
/// use moxl_xep::xep_0463_muc_affiliations_versioning::JoinSince;
/// // §5.1, Example 2: a request since a known version
/// let p = JoinSince::new("news@chat.commons.example", "rosa", Some("9pacabr2q1")).request_stanza().build()?;
/// assert_eq!(p.to_xml(), "<presence xmlns='jabber:client' to='news@chat.commons.example/rosa'>\
///     <x xmlns='http://jabber.org/protocol/muc'><mav xmlns='urn:xmpp:muc:affiliations:1' since='9pacabr2q1'/></x></presence>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinSince {
    room: String,
    occupant: String,
    since: Option<String>,
    password: Option<String>,
    history: Option<History>,
}

impl JoinSince {
    /// Joins `room` as `nick`, with the affiliations since `since` (`None`: all of them).
    pub fn new(room: &str, nick: &str, since: Option<&str>) -> JoinSince {
        JoinSince {
            room: room.to_owned(),
            occupant: occupant_jid(room, nick),
            since: since.map(str::to_owned),
            password: None,
            history: None,
        }
    }

    /// With the room's password (XEP-0045 §7.2.6).
    pub fn password(mut self, password: impl Into<String>) -> JoinSince {
        self.password = Some(password.into());
        self
    }

    /// With a history limit (XEP-0045 §7.2.13).
    pub fn history(mut self, history: History) -> JoinSince {
        self.history = Some(history);
        self
    }

    /// The join presence this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        let mut x = ElementBuilder::new("x", muc::NS);
        if let Some(history) = &self.history {
            x.push(history.to_element());
        }
        if let Some(password) = &self.password {
            x.push(ElementBuilder::new("password", muc::NS).text(password.clone()));
        }
        x.push(Mav::since(self.since.as_deref()).to_element());
        presence(Some(&self.occupant), None).append(x)
    }
}

#[action(group = "mav")]
impl JoinSince {
    /// Our self-presence, the changes and the room's version.
    type Output = AffiliationSync;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<AffiliationSync> {
        // No entry: nobody gathered the lists sent before this presence (the Action was requested without
        // join_since, or revived after a restart): an empty list would pass for "up to date", so say so.
        let gathered = ctx.session_state::<Pending>().lock().remove(&self.room).ok_or_else(|| {
            moxl_core::Error::handler(
                "the room's affiliation lists were not gathered: start JoinSince with join_since() (XEP-0463 §5.2.1)",
            )
        })?;
        let mut sync = AffiliationSync::from_self_presence(stanza, self.since.as_deref(), gathered.changes)
            .ok_or_else(|| moxl_core::Error::handler("the answer to the join is no MUC presence (XEP-0045 §7.2.2)"))?;
        sync.refused = gathered.refused;
        Ok(sync)
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.session_state::<Pending>().lock().remove(&self.room);
        ctx.pack(error.clone()).deliver();
    }

    async fn timeout(&mut self, ctx: &Context) {
        ctx.session_state::<Pending>().lock().remove(&self.room);
    }
}

/// Gathers the lists a room sends while a [`JoinSince`] is under way, and delivers every versioned list or
/// change as an [`AffiliationChanges`] (Packet key `mucaffiliationversion`), when someone listens.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// use moxl_xep::xep_0463_muc_affiliations_versioning::{AffiliationCache, AffiliationChanges};
/// let mut cache = AffiliationCache::default(); // one per room
/// let mut changes = xec.events::<AffiliationChanges>();
/// while let Some(c) = changes.recv().await {
///     if !cache.apply(&c) {
///         println!("{} skipped a version: fetch its lists again", c.room);
///     }
/// }
/// # }
/// ```
#[payload(name = "mav", ns = "urn:xmpp:muc:affiliations:1", key = "mucaffiliationversion", at = "any")]
#[derive(Debug, Default)]
pub struct VersionedAffiliations;

impl Payload for VersionedAffiliations {
    fn wanted(ctx: &Context) -> bool {
        // a JoinSince under way needs the lists even when nobody listens to the events
        ctx.wants::<AffiliationChanges>() || !ctx.session_state::<Pending>().lock().is_empty()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        // only the <mav/> of the stanza's own <x xmlns='…muc#user'/>
        let own = stanza.child("x", muc::NS_USER).is_some_and(|x| x.children().any(|c| c.ptr_eq(element)));
        let Some(changes) = AffiliationChanges::from_stanza(stanza).filter(|_| own) else {
            return Ok(());
        };
        if stanza.is("message", ns::CLIENT)
            && let Some(gathered) = ctx.session_state::<Pending>().lock().get_mut(&changes.room)
        {
            gathered.changes.push(changes.clone());
        }
        if ctx.wants::<AffiliationChanges>() {
            ctx.pack(changes).deliver();
        }
        Ok(())
    }
}

/// Takes a room's refusal to send us its lists (§5.2.3: an error message from the room's bare JID, during a
/// [`JoinSince`]) into that join's [`AffiliationSync::refused`]. It delivers nothing itself: its Packet key
/// (`mucaffiliationrefusal`) carries no Packet.
///
/// ```
/// // §5.2.3, Example 8 reaches the join under way: see [`JoinSince`]
/// let _ = moxl_xep::xep_0463_muc_affiliations_versioning::RefusedLists;
/// ```
#[payload(name = "error", ns = "jabber:client", key = "mucaffiliationrefusal", at = "child")]
#[derive(Debug, Default)]
pub struct RefusedLists;

impl Payload for RefusedLists {
    fn wanted(ctx: &Context) -> bool {
        !ctx.session_state::<Pending>().lock().is_empty()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if !stanza.is("message", ns::CLIENT) || stanza.attr("type").as_deref() != Some("error") {
            return Ok(());
        }
        let Some(room) = stanza.attr("from").and_then(|f| Jid::new(&f).ok()).filter(|j| j.resource().is_none()) else {
            return Ok(());
        };
        let Some(error) = StanzaError::from_stanza(stanza).filter(|e| e.condition_name() == "forbidden") else {
            return Ok(());
        };
        if let Some(gathered) = ctx.session_state::<Pending>().lock().get_mut(&room.to_string()) {
            gathered.refused = Some(error);
        }
        Ok(())
    }
}

/// Marks `room` as joining with [`JoinSince`], so that the lists it sends are gathered.
fn gather_for(ctx: &Context, room: &str) {
    ctx.session_state::<Pending>().lock().insert(room.to_owned(), Gathered::default());
}

/// Requests a [`JoinSince`]: the same as `ctx.request(join)`, after making ready to gather the room's lists.
/// Use this rather than `ctx.request` directly, which would miss the lists sent before the self-presence.
///
/// ```
/// use moxl_xep::xep_0463_muc_affiliations_versioning::{JoinSince, join_since};
/// # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// let sync = join_since(ctx, JoinSince::new("news@chat.commons.example", "louise", None))?.await?;
/// println!("{} lists, version {:?}", sync.changes.len(), sync.until);
/// # Ok(()) }
/// ```
pub fn join_since(ctx: &Context, join: JoinSince) -> Result<moxl_core::xec::Request<AffiliationSync>> {
    gather_for(ctx, &join.room);
    ctx.request(join)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    const ROOM: &str = "news@chat.commons.example";

    /// §5.2.1, Example 3 (with the XEP's missing `=` fixed): a full list for a version the room did not know.
    const FULL: &str = "<message xmlns='jabber:client' from='news@chat.commons.example' to='louise@commons.example/desktop'>\
        <x xmlns='http://jabber.org/protocol/muc#user'><mav xmlns='urn:xmpp:muc:affiliations:1' until='ruz41312vw'/>\
        <item jid='louise@commons.example' affiliation='owner'/><item jid='peter@commons.example' affiliation='owner'/>\
        <item jid='rosa@commons.example' affiliation='owner'/></x></message>";

    /// §5.2.1, Example 6: the self-presence with the version.
    const SELF: &str = "<presence xmlns='jabber:client' from='news@chat.commons.example/louise' to='louise@commons.example/desktop' id='ID'>\
        <x xmlns='http://jabber.org/protocol/muc#user'><mav xmlns='urn:xmpp:muc:affiliations:1' until='ruz41312vw'/>\
        <item affiliation='member' role='participant'/><status code='110'/></x></presence>";

    #[test]
    fn a_join_since_an_unknown_version_gathers_the_full_list_before_the_self_presence() {
        let xec = Xec::new().unwrap();
        let ctx = xec.context();
        let mut packets = xec.subscribe("mav_joinsince_handle");
        let request = join_since(&ctx, JoinSince::new(ROOM, "louise", Some("9pacabr2q1"))).unwrap();
        let id = request.id().to_owned();
        let sent = xec.take_outgoing();
        assert!(sent[0].to_xml().contains("<mav xmlns='urn:xmpp:muc:affiliations:1' since='9pacabr2q1'/>"));
        block_on(xec.dispatch(Element::parse(FULL).unwrap()));
        block_on(xec.dispatch(Element::parse(&SELF.replace("'ID'", &format!("'{id}'"))).unwrap()));
        let packet = packets.try_recv().unwrap();
        let sync = packet.content::<AffiliationSync>().unwrap();
        assert_eq!((sync.since.as_deref(), sync.until.as_deref()), (Some("9pacabr2q1"), Some("ruz41312vw")));
        assert_eq!(sync.changes.len(), 1);
        assert!(sync.changes[0].is_full());
        assert!(sync.presence.is_self());
        let mut cache = AffiliationCache::default();
        assert!(sync.apply_to(&mut cache));
        assert_eq!(cache.affiliations().len(), 3);
        // the next join gathers nothing left over
        assert!(ctx.session_state::<Pending>().lock().is_empty());
    }

    #[test]
    fn a_room_that_refuses_the_lists_is_told_in_the_outcome() {
        let xec = Xec::new().unwrap();
        let ctx = xec.context();
        let request = join_since(&ctx, JoinSince::new(ROOM, "vladimir", Some("9pacabr2q1"))).unwrap();
        let id = request.id().to_owned();
        xec.take_outgoing();
        // §5.2.3, Example 8
        let forbidden = "<message xmlns='jabber:client' from='news@chat.commons.example' to='vladimir@commons.example/web' id='foo' type='error'>\
            <error by='news@chat.commons.example' type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>";
        block_on(xec.dispatch(Element::parse(forbidden).unwrap()));
        let own = SELF.replace("'ID'", &format!("'{id}'")).replace("/louise", "/vladimir");
        block_on(xec.dispatch(Element::parse(&own).unwrap()));
        let sync = block_on(request).unwrap();
        assert_eq!(sync.refused.as_ref().map(StanzaError::condition_name), Some("forbidden"));
        let mut cache = AffiliationCache::default();
        assert!(!sync.apply_to(&mut cache));
    }

    #[test]
    fn a_join_since_not_started_with_join_since_fails_rather_than_pass_for_up_to_date() {
        let xec = Xec::new().unwrap();
        let ctx = xec.context();
        let mut errors = xec.subscribe("mav_joinsince_handle");
        let request = ctx.request(JoinSince::new(ROOM, "louise", Some("9pacabr2q1"))).unwrap();
        let id = request.id().to_owned();
        xec.take_outgoing();
        block_on(xec.dispatch(Element::parse(FULL).unwrap()));
        block_on(xec.dispatch(Element::parse(&SELF.replace("'ID'", &format!("'{id}'"))).unwrap()));
        assert!(errors.try_recv().is_none());
        let outcome = block_on(request);
        assert!(outcome.as_ref().is_err_and(|e| e.to_string().contains("join_since")), "{outcome:?}");
    }

    #[test]
    fn changes_are_delivered_from_rooms_only_and_a_room_that_does_not_version_empties_the_cache() {
        let xec = Xec::new().unwrap();
        let mut changes = xec.events::<AffiliationChanges>();
        // §5.2.2, Example 7: a change for a user not in the room (a full JID, cached by its bare JID)
        let change = "<message xmlns='jabber:client' from='FROM' to='louise@commons.example/desktop'>\
            <x xmlns='http://jabber.org/protocol/muc#user'><mav xmlns='urn:xmpp:muc:affiliations:1' since='9pacabr2q1' until='ruz41312vw'/>\
            <item jid='peter@commons.example/mobile' affiliation='none' role='none'/></x></message>";
        block_on(xec.dispatch(Element::parse(&change.replace("FROM", ROOM)).unwrap()));
        let c = changes.try_recv().unwrap();
        assert_eq!((c.items[0].jid.as_str(), c.items[0].affiliation), ("peter@commons.example", Affiliation::None));
        // an occupant cannot write the room's versions
        block_on(xec.dispatch(Element::parse(&change.replace("FROM", "news@chat.commons.example/rosa")).unwrap()));
        assert!(changes.try_recv().is_none());
        // a self-presence stating the version is no change
        block_on(xec.dispatch(Element::parse(SELF).unwrap()));
        assert!(changes.try_recv().is_none());
        // §5.2.3, Example 8: the forbidden error is no change either
        let forbidden = "<message xmlns='jabber:client' from='news@chat.commons.example' to='vladimir@commons.example/web' id='foo' type='error'>\
            <error by='news@chat.commons.example' type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>";
        assert!(AffiliationChanges::from_stanza(&Element::parse(forbidden).unwrap()).is_none());

        let plain = Element::parse(
            "<presence xmlns='jabber:client' from='news@chat.commons.example/louise'><x xmlns='http://jabber.org/protocol/muc#user'>\
             <item affiliation='member' role='participant'/><status code='110'/></x></presence>",
        )
        .unwrap();
        let sync = AffiliationSync::from_self_presence(&plain, Some("9pacabr2q1"), Vec::new()).unwrap();
        let mut cache = AffiliationCache::default();
        assert!(cache.apply(&AffiliationChanges::from_stanza(&Element::parse(FULL).unwrap()).unwrap()));
        assert!(!sync.versioned());
        assert!(!sync.apply_to(&mut cache));
        assert_eq!(cache, AffiliationCache::default());
    }

    #[test]
    fn a_full_list_with_no_affiliation_empties_the_cache() {
        // §5.2.1, Example 5
        let empty = "<message xmlns='jabber:client' from='news@chat.commons.example' to='louise@commons.example/desktop'>\
            <x xmlns='http://jabber.org/protocol/muc#user'><mav xmlns='urn:xmpp:muc:affiliations:1' until='ruz41312vw'/></x></message>";
        let mut cache = AffiliationCache::default();
        assert!(cache.apply(&AffiliationChanges::from_stanza(&Element::parse(FULL).unwrap()).unwrap()));
        assert!(cache.apply(&AffiliationChanges::from_stanza(&Element::parse(empty).unwrap()).unwrap()));
        assert!(cache.affiliations().is_empty());
        assert_eq!(cache.version(), Some("ruz41312vw"));
    }
}
