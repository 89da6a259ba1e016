//! XEP-0115: Entity Capabilities. Our presence carries `<c xmlns='http://jabber.org/protocol/caps'
//! hash='sha-1' node='…' ver='…'/>`, the hash of our disco#info (§4, §5), added to every available presence we
//! send (broadcast and directed) through a core presence extension; and the capabilities others announce are
//! learned, verified and cached ([`EntityCaps`], §6.2, §8.4).
//!
//! A presence that also carries a XEP-0390 hash set is tracked by that instead (XEP-0390 §7.2: XEP-0115 data
//! is not used without verification when a caps 2.0 `<c/>` is there): the same [`EntityCaps`], [`Fetch`] and
//! caches, keyed by the capability hash node (`urn:xmpp:caps#sha-256.…`) instead of the `ver`, verified with
//! [`xep_0390_caps2::verify`](crate::xep_0390_caps2::verify). Our presence carries both (see
//! [`crate::xep_0390_caps2`]).
//!
//! The verification string is computed from the same data as our disco#info answer
//! ([`our_info`]: identity, the registry's features, the extended forms of
//! XEP-0128), so the two always agree.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use base64::Engine as _;
use moxl_core::session::CapsCache;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{action, payload};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::xep_0004_data_forms::{FORM_TYPE, FieldType};
use crate::xep_0030_disco::{DiscoInfo, info_query, our_info};
use crate::xep_0390_caps2 as caps2;

/// `http://jabber.org/protocol/caps` (§4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0115_caps::NS, "http://jabber.org/protocol/caps");
/// ```
pub const NS: &str = "http://jabber.org/protocol/caps";

moxl_core::feature!("http://jabber.org/protocol/caps");

/// The node announced without a [`CapsNode`] extension: a URI naming the software (§4, `node`).
///
/// ```
/// assert_eq!(moxl_xep::xep_0115_caps::DEFAULT_NODE, "https://crates.io/crates/moxl");
/// ```
pub const DEFAULT_NODE: &str = "https://crates.io/crates/moxl";

/// The verification string of §5.1, before hashing: identities sorted (category, type, `xml:lang`, name) as
/// `category/type/lang/name<`, then the features sorted, each followed by `<`, then each extended form sorted by
/// `FORM_TYPE`: its `FORM_TYPE<`, then its fields sorted by `var`, each `var<` and its values sorted, each
/// followed by `<`. Forms without a hidden `FORM_TYPE` are left out (§5.4 step 3.6).
///
/// ```
/// use moxl_xep::xep_0030_disco::{DiscoInfo, Identity};
/// use moxl_xep::xep_0115_caps::verification_string;
/// // §5.2, the simple example
/// let info = DiscoInfo {
///     identities: vec![Identity::new("client", "pc").with_name("Exodus 0.9.1")],
///     features: ["http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
///                "http://jabber.org/protocol/muc", "http://jabber.org/protocol/caps"].map(String::from).to_vec(),
///     ..Default::default()
/// };
/// assert_eq!(
///     verification_string(&info),
///     "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<\
///      http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<"
/// );
/// ```
pub fn verification_string(info: &DiscoInfo) -> String {
    let mut s = String::new();
    let mut identities: Vec<_> = info
        .identities
        .iter()
        .map(|i| {
            let (lang, name) = (i.lang.as_deref().unwrap_or(""), i.name.as_deref().unwrap_or(""));
            (i.category.as_str(), i.kind.as_str(), lang, name)
        })
        .collect();
    identities.sort_unstable();
    for (category, kind, lang, name) in identities {
        s.push_str(&format!("{category}/{kind}/{lang}/{name}<"));
    }
    let mut features: Vec<&str> = info.features.iter().map(String::as_str).collect();
    features.sort_unstable();
    for f in features {
        s.push_str(f);
        s.push('<');
    }
    let mut forms: Vec<_> = info.extensions.iter().filter_map(|f| Some((hidden_form_type(f)?, f))).collect();
    forms.sort_by_key(|(form_type, _)| *form_type);
    for (form_type, form) in forms {
        s.push_str(form_type);
        s.push('<');
        let mut fields: Vec<_> =
            form.fields.iter().filter_map(|f| Some((f.var.as_deref()?, f))).filter(|(v, _)| *v != FORM_TYPE).collect();
        fields.sort_by_key(|(var, _)| *var);
        for (var, field) in fields {
            s.push_str(var);
            s.push('<');
            let mut values: Vec<&str> = field.values.iter().map(String::as_str).collect();
            values.sort_unstable();
            for v in values {
                s.push_str(v);
                s.push('<');
            }
        }
    }
    s
}

/// The `FORM_TYPE` of a form, if it is a hidden field with one value.
fn hidden_form_type(form: &crate::xep_0004_data_forms::DataForm) -> Option<&str> {
    let field = form.field(FORM_TYPE)?;
    match (field.field_type, field.values.as_slice()) {
        (Some(FieldType::Hidden), [value]) => Some(value.as_str()),
        _ => None,
    }
}

/// The `ver` of `info`: the base64 of the SHA-1 of its [`verification_string`] (§5.1 steps 8–9).
///
/// ```
/// use moxl_xep::xep_0030_disco::{DiscoInfo, Identity};
/// // §5.2
/// let info = DiscoInfo {
///     identities: vec![Identity::new("client", "pc").with_name("Exodus 0.9.1")],
///     features: ["http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
///                "http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc"].map(String::from).to_vec(),
///     ..Default::default()
/// };
/// assert_eq!(moxl_xep::xep_0115_caps::ver(&info), "QgayPKawpkPSDYmwT/WM94uAlu0=");
/// ```
pub fn ver(info: &DiscoInfo) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha1::digest(verification_string(info).as_bytes()))
}

/// Whether a disco#info received for `ver` proves it (§5.4): well-formed (no identity or feature twice, no two
/// extended forms with the same `FORM_TYPE`, no `FORM_TYPE` with several values) and hashing to `ver`. Info
/// that fails must not be cached: another entity could poison the cache (§8.4).
///
/// ```
/// use moxl_xep::xep_0030_disco::{DiscoInfo, Identity};
/// use moxl_xep::xep_0115_caps::{ver, verify};
/// let mut info = DiscoInfo { identities: vec![Identity::new("client", "pc")], features: vec!["urn:xmpp:ping".into()], ..Default::default() };
/// let v = ver(&info);
/// assert!(verify(&info, &v));
/// info.features.push("urn:xmpp:ping".into());
/// assert!(!verify(&info, &v), "a duplicate feature is ill-formed");
/// ```
pub fn verify(info: &DiscoInfo, ver_attr: &str) -> bool {
    let distinct = |n: usize, set: usize| n == set;
    let identities: HashSet<_> = info.identities.iter().collect();
    let features: HashSet<_> = info.features.iter().collect();
    let mut form_types = HashSet::new();
    for form in &info.extensions {
        if let Some(field) = form.field(FORM_TYPE) {
            if field.values.len() > 1 {
                return false;
            }
            if let Some(t) = hidden_form_type(form)
                && !form_types.insert(t)
            {
                return false;
            }
        }
    }
    distinct(info.identities.len(), identities.len())
        && distinct(info.features.len(), features.len())
        && ver(info) == ver_attr
}

/// The `<c/>` of a presence (§4): the hash function, the node naming the software and the verification
/// string.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0115_caps::Caps;
/// // §4, Example 1
/// let p = Element::parse("<presence xmlns='jabber:client' from='romeo@montague.lit/orchard'>\
///     <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://code.google.com/p/exodus' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>")?;
/// let caps = Caps::from_presence(&p).unwrap();
/// assert_eq!(caps.node_ver(), "http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0=");
/// assert_eq!(Caps::from_element(&caps.to_element().build()?), Some(caps));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caps {
    /// The hash function (`sha-1`; a legacy `<c/>` without one reads as empty, §8.3).
    pub hash: String,
    /// The software's URI.
    pub node: String,
    /// The verification string.
    pub ver: String,
}

impl Caps {
    /// Our caps for `info`, with SHA-1.
    ///
    /// ```
    /// let caps = moxl_xep::xep_0115_caps::Caps::of(&Default::default(), "https://example.org");
    /// assert_eq!((caps.hash.as_str(), caps.ver.as_str()), ("sha-1", "2jmj7l5rSw0yVb/vlWAYkK/YBwk="));
    /// ```
    pub fn of(info: &DiscoInfo, node: &str) -> Caps {
        Caps { hash: "sha-1".into(), node: node.to_owned(), ver: ver(info) }
    }

    /// Reads a `<c/>`; `None` without `node` or `ver`.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let c = Element::parse("<c xmlns='http://jabber.org/protocol/caps' node='n'/>")?;
    /// assert!(moxl_xep::xep_0115_caps::Caps::from_element(&c).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(c: &Element) -> Option<Caps> {
        if !c.is("c", NS) {
            return None;
        }
        Some(Caps {
            hash: c.attr("hash").map(|h| h.into_owned()).unwrap_or_default(),
            node: c.attr("node")?.into_owned(),
            ver: c.attr("ver")?.into_owned(),
        })
    }

    /// The `<c/>` child of a presence.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// let p = Element::parse("<presence xmlns='jabber:client'/>")?;
    /// assert!(moxl_xep::xep_0115_caps::Caps::from_presence(&p).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_presence(presence: &Element) -> Option<Caps> {
        Caps::from_element(&presence.child("c", NS)?)
    }

    /// The `<c/>` element.
    ///
    /// ```
    /// let c = moxl_xep::xep_0115_caps::Caps { hash: "sha-1".into(), node: "n".into(), ver: "v".into() };
    /// assert_eq!(c.to_element().build()?.to_xml(), "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("c", NS)
            .attr("hash", self.hash.clone())
            .attr("node", self.node.clone())
            .attr("ver", self.ver.clone())
    }

    /// `node#ver`, the node to query for the disco#info this stands for (§6.2).
    ///
    /// ```
    /// let c = moxl_xep::xep_0115_caps::Caps { hash: "sha-1".into(), node: "n".into(), ver: "v".into() };
    /// assert_eq!(c.node_ver(), "n#v");
    /// ```
    pub fn node_ver(&self) -> String {
        format!("{}#{}", self.node, self.ver)
    }
}

/// The node URI the client announces (§4): give it with `Xec::builder().extension(CapsNode(…))`, the URL of
/// your application; without it, [`DEFAULT_NODE`].
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_xep::xep_0115_caps::{caps_node, CapsNode};
/// let xec = Xec::builder().extension(CapsNode("https://movim.eu".into())).build()?;
/// assert_eq!(caps_node(&xec.context()), "https://movim.eu");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapsNode(pub String);

/// The node of the controller of `ctx` ([`CapsNode`] or [`DEFAULT_NODE`]).
///
/// ```
/// let xec = moxl_core::xec::Xec::new()?;
/// assert_eq!(moxl_xep::xep_0115_caps::caps_node(&xec.context()), moxl_xep::xep_0115_caps::DEFAULT_NODE);
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn caps_node(ctx: &Context) -> &str {
    ctx.get::<CapsNode>().map_or(DEFAULT_NODE, |n| n.0.as_str())
}

/// Our caps: the hash of [`our_info`] under [`caps_node`].
///
/// ```
/// use moxl_xep::xep_0030_disco::our_info;
/// let xec = moxl_core::xec::Xec::new()?;
/// let caps = moxl_xep::xep_0115_caps::our_caps(&xec.context())?;
/// assert_eq!(caps.ver, moxl_xep::xep_0115_caps::ver(&our_info(&xec.context())?));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn our_caps(ctx: &Context) -> moxl_core::Result<Caps> {
    Ok(Caps::of(&our_info(ctx)?, caps_node(ctx)))
}

/// The presence extension: our `<c/>` in every available presence that has none yet (§4, §6.1).
fn add_caps(ctx: &Context, presence: &Element) -> Option<ElementBuilder> {
    if presence.child("c", NS).is_some() {
        return None;
    }
    // Fails only when the registry does, which fails every dispatch too (and is reported there).
    our_caps(ctx).ok().map(|caps| caps.to_element())
}

moxl_core::presence_extension!(add_caps);

/// Where verified disco#info is kept, by verification string: the process-wide [`MemoryCapsStore`] by default,
/// or the application's own (a database shared by several processes). Only info that [`verify`] accepted is put
/// here, so one store may serve every session: a `ver` names the same info for everyone.
///
/// A client with a session store also has the session's [`CapsCache`] (see [`EntityCaps`]): [`EntityCaps`]
/// reads both and writes verified info to both.
pub trait CapsStore: Send + Sync {
    /// The info for `ver`, if known.
    fn get(&self, ver: &str) -> Option<Arc<DiscoInfo>>;
    /// Remembers verified info for `ver`.
    fn put(&self, ver: &str, info: Arc<DiscoInfo>);
}

/// An in-memory [`CapsStore`].
///
/// ```
/// use std::sync::Arc;
/// use moxl_xep::xep_0115_caps::{CapsStore, MemoryCapsStore};
/// let store = MemoryCapsStore::default();
/// store.put("v", Arc::new(Default::default()));
/// assert!(store.get("v").is_some() && store.get("w").is_none());
/// ```
#[derive(Debug, Default)]
pub struct MemoryCapsStore(Mutex<HashMap<String, Arc<DiscoInfo>>>);

impl MemoryCapsStore {
    /// The store shared by every session of this process.
    ///
    /// ```
    /// use moxl_xep::xep_0115_caps::MemoryCapsStore;
    /// assert!(std::sync::Arc::ptr_eq(&MemoryCapsStore::global(), &MemoryCapsStore::global()));
    /// ```
    pub fn global() -> Arc<MemoryCapsStore> {
        static GLOBAL: OnceLock<Arc<MemoryCapsStore>> = OnceLock::new();
        Arc::clone(GLOBAL.get_or_init(Arc::default))
    }
}

impl CapsStore for MemoryCapsStore {
    fn get(&self, ver: &str) -> Option<Arc<DiscoInfo>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(ver).cloned()
    }

    fn put(&self, ver: &str, info: Arc<DiscoInfo>) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(ver.to_owned(), info);
    }
}

/// The capabilities of the entities whose presence this session receives: give it with
/// `Xec::builder().extension(EntityCaps::new())` to turn caps tracking on. On an available presence with a
/// SHA-1 `<c/>`, it remembers the sender's `ver`; when the `ver` is unknown it asks the sender for the
/// disco#info of `node#ver` ([`Fetch`]), verifies it (§5.4) and stores it; unavailable presence forgets
/// the sender. A presence with a XEP-0390 hash set is tracked by its first trusted hash instead (keyed by its
/// hash node `urn:xmpp:caps#sha-256.…`, queried on that node and verified with XEP-0390 §4.4).
///
/// Verified info is kept in its [`CapsStore`] and, when the controller has one (a client with a
/// [session store](moxl_core::client::ClientBuilder::session_store)), in the session's [`CapsCache`], so that a
/// later run knows it without asking. A `ver` missing from the [`CapsStore`] is looked up in the [`CapsCache`];
/// what is found there came from a database: it is used only if it parses and [`verify`] accepts it for that
/// `ver` (else it is ignored, with a warning, and fetched again).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_xep::xep_0115_caps::EntityCaps;
/// let xec = Xec::builder().extension(EntityCaps::new()).build()?;
/// let caps = xec.context().get::<EntityCaps>().unwrap().clone();
/// assert_eq!(caps.supports("juliet@capulet.lit/balcony", "urn:xmpp:ping"), None, "nothing known yet");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Clone)]
pub struct EntityCaps(Arc<Tracked>);

struct Tracked {
    store: Arc<dyn CapsStore>,
    /// Full JID → the `ver` of its last available presence.
    entities: Mutex<HashMap<String, String>>,
    /// The `ver`s being fetched.
    fetching: Mutex<HashSet<String>>,
}

impl Default for EntityCaps {
    fn default() -> Self {
        EntityCaps::new()
    }
}

impl fmt::Debug for EntityCaps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntityCaps").field("entities", &self.lock_entities().len()).finish()
    }
}

impl EntityCaps {
    /// Tracking with the process-wide [`MemoryCapsStore`].
    ///
    /// ```
    /// let caps = moxl_xep::xep_0115_caps::EntityCaps::new();
    /// # let _ = caps;
    /// ```
    pub fn new() -> EntityCaps {
        EntityCaps::with_store(MemoryCapsStore::global())
    }

    /// Tracking with the application's store.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moxl_xep::xep_0115_caps::{EntityCaps, MemoryCapsStore};
    /// let caps = EntityCaps::with_store(Arc::new(MemoryCapsStore::default()));
    /// # let _ = caps;
    /// ```
    pub fn with_store(store: Arc<dyn CapsStore>) -> EntityCaps {
        EntityCaps(Arc::new(Tracked { store, entities: Mutex::default(), fetching: Mutex::default() }))
    }

    fn lock_entities(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.0.entities.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_fetching(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0.fetching.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The `ver` that `jid` (a full JID, as in the presence's `from`) last announced.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0115_caps::EntityCaps::new().ver_of("a@b/c"), None);
    /// ```
    pub fn ver_of(&self, jid: &str) -> Option<String> {
        self.lock_entities().get(jid).cloned()
    }

    /// The verified disco#info of `jid`, if its `ver` is known and verified.
    ///
    /// ```
    /// assert!(moxl_xep::xep_0115_caps::EntityCaps::new().info_of("a@b/c").is_none());
    /// ```
    pub fn info_of(&self, jid: &str) -> Option<Arc<DiscoInfo>> {
        self.0.store.get(&self.ver_of(jid)?)
    }

    /// Whether `jid` supports `feature`: `None` while its capabilities are unknown (no caps in its presence, not
    /// fetched or verified yet, or it went offline).
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0115_caps::EntityCaps::new().supports("a@b/c", "urn:xmpp:ping"), None);
    /// ```
    pub fn supports(&self, jid: &str, feature: &str) -> Option<bool> {
        self.info_of(jid).map(|info| info.has_feature(feature))
    }

    /// The cached info for `ver`.
    ///
    /// ```
    /// assert!(moxl_xep::xep_0115_caps::EntityCaps::new().cached("nope").is_none());
    /// ```
    pub fn cached(&self, ver: &str) -> Option<Arc<DiscoInfo>> {
        self.0.store.get(ver)
    }

    /// The verified info for `ver`: from the [`CapsStore`], else from the session's [`CapsCache`] (then put in
    /// the [`CapsStore`]). Info known to the [`CapsStore`] only is added to the [`CapsCache`].
    fn known(&self, ctx: &Context, ver: &str) -> Option<Arc<DiscoInfo>> {
        if let Some(info) = self.cached(ver) {
            if ctx.get::<CapsCache>().is_some_and(|session| !session.contains(ver)) {
                to_session(ctx, ver, &info);
            }
            return Some(info);
        }
        let info = from_session(ctx, ver)?;
        self.0.store.put(ver, Arc::clone(&info));
        Some(info)
    }

    fn seen(&self, jid: &str, ver: Option<&str>) {
        let mut entities = self.lock_entities();
        match ver {
            Some(ver) => entities.insert(jid.to_owned(), ver.to_owned()),
            None => entities.remove(jid),
        };
    }

    /// Marks `ver` as being fetched; `false` if it already was.
    fn start_fetch(&self, ver: &str) -> bool {
        self.lock_fetching().insert(ver.to_owned())
    }

    fn end_fetch(&self, ver: &str) {
        self.lock_fetching().remove(ver);
    }
}

/// Whether `info` is what a cache key stands for: a XEP-0390 capability hash node ([`caps2::verify`], XEP-0390
/// §4.4) or a XEP-0115 `ver` ([`verify`], §5.4).
fn verifies(info: &DiscoInfo, key: &str) -> bool {
    match caps2::parse_hash_node(key) {
        Some(hash) => caps2::verify(info, &hash),
        None => verify(info, key),
    }
}

/// The info the session's [`CapsCache`] holds for `ver`, if it parses and verifies: stored data is untrusted.
fn from_session(ctx: &Context, ver: &str) -> Option<Arc<DiscoInfo>> {
    let xml = ctx.get::<CapsCache>()?.get(ver)?;
    match Element::parse(&xml).ok().as_ref().and_then(DiscoInfo::from_query) {
        Some(info) if verifies(&info, ver) => Some(Arc::new(info)),
        Some(_) => {
            tracing::warn!(ver, "a stored entity-caps entry does not verify against its ver: ignored");
            None
        }
        None => {
            tracing::warn!(ver, "a stored entity-caps entry is not a disco#info query: ignored");
            None
        }
    }
}

/// Puts verified `info` in the session's [`CapsCache`], if the controller has one.
fn to_session(ctx: &Context, ver: &str, info: &DiscoInfo) {
    let Some(session) = ctx.get::<CapsCache>() else { return };
    match info.to_query().build() {
        Ok(query) => session.put(ver, query.to_xml()),
        Err(e) => tracing::warn!(ver, error = %e, "cannot serialize disco#info for the session store"),
    }
}

/// What [`EntityCaps`] learned: the verified disco#info of an entity.
///
/// ```
/// use std::sync::Arc;
/// use moxl_xep::xep_0115_caps::EntityFeatures;
/// let f = EntityFeatures { jid: "juliet@capulet.lit/balcony".into(), ver: "v".into(), info: Arc::new(Default::default()) };
/// assert!(!f.info.has_feature("urn:xmpp:ping"));
/// ```
#[derive(Debug, Clone)]
pub struct EntityFeatures {
    /// The entity (the presence's `from`).
    pub jid: String,
    /// Its verification string (XEP-0115), or its capability hash node (XEP-0390: `urn:xmpp:caps#sha-256.…`).
    pub ver: String,
    /// Its verified disco#info.
    pub info: Arc<DiscoInfo>,
}

/// Reads the caps of every available presence (and forgets the sender on unavailable presence) for the
/// controller's [`EntityCaps`]; does nothing without one.
///
/// | event | Packet key |
/// |---|---|
/// | a presence announces a `ver` already verified | `entitycaps` (content: [`EntityFeatures`]) |
/// | an unknown `ver` was fetched and verified | `caps_fetch_handle` (content: [`EntityFeatures`]) |
///
/// ```
/// use moxl_xep::xep_0115_caps::EntityFeatures;
/// # fn run(xec: &moxl_core::xec::Xec) {
/// let (mut known, mut fetched) = (xec.subscribe("entitycaps"), xec.subscribe("caps_fetch_handle"));
/// # }
/// ```
#[payload(name = "presence", ns = "jabber:client", key = "entitycaps")]
#[derive(Debug, Default)]
pub struct CapsTracker;

impl Payload for CapsTracker {
    fn wanted(ctx: &Context) -> bool {
        ctx.get::<EntityCaps>().is_some()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        let Some(tracker) = ctx.get::<EntityCaps>() else { return Ok(()) };
        // the stanza itself (the default position of a presence Payload), never a presence nested in another
        if !stanza.is("presence", ns::CLIENT) {
            return Ok(());
        }
        let Some(from) = stanza.attr("from") else { return Ok(()) };
        match stanza.attr("type").as_deref() {
            None => {}
            Some("unavailable") => {
                tracker.seen(&from, None);
                return Ok(());
            }
            Some(_) => return Ok(()),
        }
        // A XEP-0390 hash set first (its first hash this crate trusts), else a XEP-0115 `<c/>`: only SHA-1 ones can
        // be verified here; a legacy `<c/>` (no hash, §8.3) or another hash is unknown.
        let caps2 = caps2::Caps2::from_presence(stanza);
        let fetch = match (caps2.as_ref().and_then(caps2::Caps2::usable), Caps::from_presence(stanza)) {
            (Some(hash), _) => {
                let node = caps2::hash_node(hash);
                let ver = node.strip_prefix(caps2::NODE_PREFIX).unwrap_or(&node).to_owned();
                Fetch { jid: from.into_owned(), node: caps2::NS.to_owned(), ver }
            }
            (None, Some(caps)) if caps.hash == "sha-1" => {
                Fetch { jid: from.into_owned(), node: caps.node, ver: caps.ver }
            }
            _ => {
                tracker.seen(&from, None);
                return Ok(());
            }
        };
        let key = fetch.key();
        tracker.seen(&fetch.jid, Some(&key));
        if let Some(info) = tracker.known(ctx, &key) {
            ctx.pack(EntityFeatures { jid: fetch.jid, ver: key, info }).deliver();
        } else if tracker.start_fetch(&key)
            && let Err(e) = ctx.request(fetch)
        {
            tracker.end_fetch(&key);
            return Err(e);
        }
        Ok(())
    }
}

/// Asks an entity for the disco#info of `node#ver` (§6.2), verifies it against `ver` (§5.4) and puts it in the
/// [`EntityCaps`] store. For a XEP-0390 hash, `node` is [`caps2::NS`] and `ver` the function and the base64 value
/// (`sha-256.…`): `node#ver` is then the capability hash node (XEP-0390 §4.3), queried and verified as XEP-0390
/// §4.4 says, and the key of the caches. Started by [`CapsTracker`]. Output: the verified [`EntityFeatures`], also delivered
/// under `caps_fetch_handle`; info that does not match the `ver` (poisoning, §8.4), or no [`EntityCaps`], is a
/// handler error (no Packet under `caps_fetch_handle`), an error answer `Err(Error::Stanza(..))`, none
/// `Err(Error::Timeout(..))`.
///
/// ```
/// use moxl_xep::xep_0115_caps::Fetch;
/// let fetch = Fetch { jid: "juliet@capulet.lit/balcony".into(), node: "http://code.google.com/p/exodus".into(), ver: "QgayPKawpkPSDYmwT/WM94uAlu0=".into() };
/// # let _ = fetch;
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fetch {
    /// The entity asked (the presence's sender).
    pub jid: String,
    /// Its `node`.
    pub node: String,
    /// The `ver` to verify.
    pub ver: String,
}

impl Fetch {
    /// What the fetched info is cached under, and [`EntityFeatures::ver`]: the `ver` (XEP-0115), or the capability
    /// hash node `node#ver` when `node` is [`caps2::NS`] (XEP-0390).
    ///
    /// ```
    /// use moxl_xep::xep_0115_caps::Fetch;
    /// let legacy = Fetch { jid: "a@b/c".into(), node: "https://movim.eu".into(), ver: "QgayPKawpkPSDYmwT/WM94uAlu0=".into() };
    /// assert_eq!(legacy.key(), "QgayPKawpkPSDYmwT/WM94uAlu0=");
    /// let caps2 = Fetch { jid: "a@b/c".into(), node: "urn:xmpp:caps".into(), ver: "sha-256.AAAA".into() };
    /// assert_eq!(caps2.key(), "urn:xmpp:caps#sha-256.AAAA");
    /// ```
    pub fn key(&self) -> String {
        if self.node == caps2::NS { format!("{}#{}", self.node, self.ver) } else { self.ver.clone() }
    }
}

#[action(group = "caps")]
impl Fetch {
    /// The verified features of the entity.
    type Output = EntityFeatures;

    fn request(&self) -> ElementBuilder {
        info_query(Some(&self.jid), Some(&format!("{}#{}", self.node, self.ver)))
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> moxl_core::Result<EntityFeatures> {
        let tracker = ctx.get::<EntityCaps>().ok_or_else(|| moxl_core::Error::handler("no EntityCaps extension"))?;
        let key = self.key();
        tracker.end_fetch(&key);
        let mut info = DiscoInfo::from_stanza(stanza)
            .filter(|info| verifies(info, &key))
            // §8.4 (XEP-0390 §8.2): not what the ver stands for; never cached.
            .ok_or_else(|| {
                moxl_core::Error::handler(format!(
                    "the disco#info of {} does not match its caps {key} (XEP-0115 §8.4, XEP-0390 §4.4)",
                    self.jid
                ))
            })?;
        info.node = None;
        let info = Arc::new(info);
        tracker.0.store.put(&key, Arc::clone(&info));
        to_session(ctx, &key, &info);
        Ok(EntityFeatures { jid: self.jid.clone(), ver: key, info })
    }

    async fn error(&mut self, ctx: &Context, _error: &moxl_core::stanza::StanzaError, _stanza: &Element) {
        if let Some(tracker) = ctx.get::<EntityCaps>() {
            tracker.end_fetch(&self.key());
        }
    }

    async fn timeout(&mut self, ctx: &Context) {
        if let Some(tracker) = ctx.get::<EntityCaps>() {
            tracker.end_fetch(&self.key());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use crate::xep_0030_disco::Identity;
    use crate::xep_0128_extended_disco::result_form;
    use moxl_core::xec::Xec;

    fn simple() -> DiscoInfo {
        // §5.2
        DiscoInfo {
            identities: vec![Identity::new("client", "pc").with_name("Exodus 0.9.1")],
            features: [
                "http://jabber.org/protocol/caps",
                "http://jabber.org/protocol/disco#info",
                "http://jabber.org/protocol/disco#items",
                "http://jabber.org/protocol/muc",
            ]
            .map(String::from)
            .to_vec(),
            ..Default::default()
        }
    }

    /// §5.3, the complex example (its disco#info result, Example 3... as XML, read with the view).
    const COMPLEX: &str = "<iq xmlns='jabber:client' from='benvolio@capulet.lit/230193' id='disco1' to='juliet@capulet.lit/chamber' type='result'>\
        <query xmlns='http://jabber.org/protocol/disco#info' node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>\
        <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>\
        <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>\
        <feature var='http://jabber.org/protocol/caps'/>\
        <feature var='http://jabber.org/protocol/disco#info'/>\
        <feature var='http://jabber.org/protocol/disco#items'/>\
        <feature var='http://jabber.org/protocol/muc'/>\
        <x xmlns='jabber:x:data' type='result'>\
        <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>\
        <field var='ip_version' type='text-multi'><value>ipv4</value><value>ipv6</value></field>\
        <field var='os'><value>Mac</value></field>\
        <field var='os_version'><value>10.5.1</value></field>\
        <field var='software'><value>Psi</value></field>\
        <field var='software_version'><value>0.11</value></field>\
        </x></query></iq>";

    #[test]
    fn the_simple_example_hashes_to_its_ver() {
        assert_eq!(ver(&simple()), "QgayPKawpkPSDYmwT/WM94uAlu0=");
        assert!(verify(&simple(), "QgayPKawpkPSDYmwT/WM94uAlu0="));
    }

    #[test]
    fn the_complex_example_hashes_to_its_ver() {
        let info = DiscoInfo::from_stanza(&Element::parse(COMPLEX).unwrap()).unwrap();
        assert_eq!(
            verification_string(&info),
            "client/pc/el/Ψ 0.11<client/pc/en/Psi 0.11<http://jabber.org/protocol/caps<\
             http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<\
             http://jabber.org/protocol/muc<urn:xmpp:dataforms:softwareinfo<\
             ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<software_version<0.11<"
        );
        assert_eq!(ver(&info), "q07IKJEyjvHSyhy//CH0CxmKi8w=");
        assert!(verify(&info, "q07IKJEyjvHSyhy//CH0CxmKi8w="));
    }

    #[test]
    fn ill_formed_info_is_refused() {
        let mut twice = simple();
        twice.identities.push(twice.identities[0].clone());
        assert!(!verify(&twice, &ver(&twice)));
        let form = result_form("urn:x").with_value("a", "1");
        let two_forms = DiscoInfo { extensions: vec![form.clone(), form], ..simple() };
        assert!(!verify(&two_forms, &ver(&two_forms)));
        assert!(!verify(&simple(), "q07IKJEyjvHSyhy//CH0CxmKi8w="));
    }

    #[test]
    fn every_available_presence_carries_our_caps() {
        let xec = Xec::builder().extension(CapsNode("https://movim.eu".into())).build().unwrap();
        let ctx = xec.context();
        ctx.send(moxl_core::stanza::presence(None, None)).unwrap();
        ctx.send(moxl_core::stanza::presence(Some("room@muc.lit/nick"), None)).unwrap();
        ctx.send(moxl_core::stanza::presence(None, Some("unavailable"))).unwrap();
        ctx.send(moxl_core::stanza::presence(Some("romeo@montague.lit"), Some("subscribed"))).unwrap();
        let sent = xec.take_outgoing();
        let ours = our_caps(&ctx).unwrap();
        assert_eq!(ours.node, "https://movim.eu");
        assert_eq!(Caps::from_presence(&sent[0]).as_ref(), Some(&ours));
        assert_eq!(Caps::from_presence(&sent[1]).as_ref(), Some(&ours));
        assert!(sent[2].child("c", NS).is_none() && sent[3].child("c", NS).is_none());
        // the hash is that of our disco#info answer
        assert!(verify(&our_info(&ctx).unwrap(), &ours.ver));
        // a presence that has its <c/> already gets no second one
        let own = Element::parse(&format!(
            "<presence xmlns='jabber:client'>{}</presence>",
            Caps { hash: "sha-1".into(), node: "n".into(), ver: "v".into() }.to_element().build().unwrap().to_xml()
        ))
        .unwrap();
        ctx.send(own).unwrap();
        assert_eq!(xec.take_outgoing()[0].children().filter(|c| c.is("c", NS)).count(), 1);
    }

    fn presence(from: &str, c: &str) -> Element {
        Element::parse(&format!("<presence xmlns='jabber:client' from='{from}'>{c}</presence>")).unwrap()
    }

    #[test]
    fn unknown_caps_are_fetched_verified_and_cached() {
        let caps = EntityCaps::with_store(Arc::new(MemoryCapsStore::default()));
        let xec = Xec::builder().extension(caps.clone()).build().unwrap();
        let mut fetched = xec.subscribe("caps_fetch_handle");
        let mut known = xec.subscribe("entitycaps");
        let c = "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://psi-im.org' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/>";
        block_on(xec.dispatch(presence("benvolio@capulet.lit/230193", c)));
        let out = xec.take_outgoing();
        assert_eq!(out.len(), 1);
        let query = out[0].child("query", crate::xep_0030_disco::NS_INFO).unwrap();
        assert_eq!(query.attr("node").as_deref(), Some("http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w="));
        assert_eq!(out[0].attr("to").as_deref(), Some("benvolio@capulet.lit/230193"));
        // the same ver from someone else while fetching: no second query
        block_on(xec.dispatch(presence("mercutio@capulet.lit/x", c)));
        assert!(xec.take_outgoing().is_empty());
        let id = out[0].attr("id").unwrap();
        let d = block_on(xec.dispatch(Element::parse(&COMPLEX.replace("id='disco1'", &format!("id='{id}'"))).unwrap()));
        assert_eq!(d, moxl_core::xec::Dispatched::Reply);
        let p = fetched.try_recv().unwrap();
        assert_eq!(p.content::<EntityFeatures>().unwrap().jid, "benvolio@capulet.lit/230193");
        assert_eq!(caps.supports("benvolio@capulet.lit/230193", "http://jabber.org/protocol/muc"), Some(true));
        assert_eq!(caps.supports("mercutio@capulet.lit/x", "urn:xmpp:ping"), Some(false));
        // now known: delivered at once, no query
        block_on(xec.dispatch(presence("tybalt@capulet.lit/y", c)));
        assert!(xec.take_outgoing().is_empty());
        assert_eq!(known.try_recv().unwrap().content::<EntityFeatures>().unwrap().jid, "tybalt@capulet.lit/y");
        // unavailable forgets
        block_on(xec.dispatch(
            Element::parse("<presence xmlns='jabber:client' from='tybalt@capulet.lit/y' type='unavailable'/>").unwrap(),
        ));
        assert_eq!(caps.supports("tybalt@capulet.lit/y", "http://jabber.org/protocol/muc"), None);
    }

    #[test]
    fn an_awaited_fetch_is_the_verified_features() {
        let caps = EntityCaps::with_store(Arc::new(MemoryCapsStore::default()));
        let xec = Xec::builder().extension(caps.clone()).build().unwrap();
        let fetch = Fetch {
            jid: "benvolio@capulet.lit/230193".into(),
            node: "http://psi-im.org".into(),
            ver: COMPLEX_VER.into(),
        };
        let out = xec.context().request(fetch).unwrap();
        let reply = crate::test_util::answer_last(&xec, &COMPLEX.replace("id='disco1'", "id='ID'"));
        block_on(xec.dispatch(reply));
        let features = block_on(out).unwrap();
        assert_eq!(features.ver, COMPLEX_VER);
        assert!(features.info.has_feature("http://jabber.org/protocol/muc"));
        assert!(caps.cached(COMPLEX_VER).is_some());
    }

    #[test]
    fn a_mismatching_answer_is_not_cached() {
        let caps = EntityCaps::with_store(Arc::new(MemoryCapsStore::default()));
        let xec = Xec::builder().extension(caps.clone()).build().unwrap();
        let mut fetched = xec.subscribe("caps_fetch_handle");
        // claims the simple example's ver, answers the complex example's info
        let c = "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://psi-im.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>";
        block_on(xec.dispatch(presence("benvolio@capulet.lit/230193", c)));
        let id = xec.take_outgoing()[0].attr("id").unwrap().into_owned();
        let mut failures = xec.subscribe(moxl_core::xec::Packet::HANDLER_ERROR);
        block_on(xec.dispatch(Element::parse(&COMPLEX.replace("id='disco1'", &format!("id='{id}'"))).unwrap()));
        assert!(fetched.try_recv().is_none());
        assert!(failures.try_recv().is_some(), "the poisoning attempt is reported");
        assert!(caps.cached("QgayPKawpkPSDYmwT/WM94uAlu0=").is_none());
        assert_eq!(caps.supports("benvolio@capulet.lit/230193", "http://jabber.org/protocol/muc"), None);
        // it can be fetched again from someone else
        block_on(xec.dispatch(presence("romeo@montague.lit/orchard", c)));
        assert_eq!(xec.take_outgoing().len(), 1);
    }

    const COMPLEX_VER: &str = "q07IKJEyjvHSyhy//CH0CxmKi8w=";

    /// The complex example's query, as a session store keeps it.
    fn complex_query() -> String {
        let mut info = DiscoInfo::from_stanza(&Element::parse(COMPLEX).unwrap()).unwrap();
        info.node = None;
        info.to_query().build().unwrap().to_xml()
    }

    #[test]
    fn the_session_cache_answers_without_a_query() {
        let caps = EntityCaps::with_store(Arc::new(MemoryCapsStore::default()));
        let session = CapsCache::default();
        session.load([(COMPLEX_VER.to_owned(), complex_query())]);
        let xec = Xec::builder().extension(caps.clone()).extension(session.clone()).build().unwrap();
        let mut known = xec.subscribe("entitycaps");
        let c = format!("<c xmlns='{NS}' hash='sha-1' node='http://psi-im.org' ver='{COMPLEX_VER}'/>");
        block_on(xec.dispatch(presence("benvolio@capulet.lit/230193", &c)));
        assert!(xec.take_outgoing().is_empty(), "no disco query");
        let features = known.try_recv().unwrap();
        assert_eq!(features.content::<EntityFeatures>().unwrap().ver, COMPLEX_VER);
        assert_eq!(caps.supports("benvolio@capulet.lit/230193", "http://jabber.org/protocol/muc"), Some(true));
        // now in the CapsStore too; nothing new to write to the session store
        assert!(caps.cached(COMPLEX_VER).is_some());
        assert!(session.take_pending().is_empty());
    }

    #[test]
    fn a_fetch_is_written_to_the_session_cache() {
        let caps = EntityCaps::with_store(Arc::new(MemoryCapsStore::default()));
        let session = CapsCache::default();
        let xec = Xec::builder().extension(caps).extension(session.clone()).build().unwrap();
        let c = format!("<c xmlns='{NS}' hash='sha-1' node='http://psi-im.org' ver='{COMPLEX_VER}'/>");
        block_on(xec.dispatch(presence("benvolio@capulet.lit/230193", &c)));
        let id = xec.take_outgoing()[0].attr("id").unwrap().into_owned();
        block_on(xec.dispatch(Element::parse(&COMPLEX.replace("id='disco1'", &format!("id='{id}'"))).unwrap()));
        let pending = session.take_pending();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].0, COMPLEX_VER);
        let stored = DiscoInfo::from_query(&Element::parse(&pending[0].1).unwrap()).unwrap();
        assert!(verify(&stored, COMPLEX_VER), "what is stored reads back and verifies");
        assert!(stored.node.is_none());
    }

    #[test]
    fn the_caps_store_fills_the_session_cache() {
        let store = Arc::new(MemoryCapsStore::default());
        let info = DiscoInfo::from_query(&Element::parse(&complex_query()).unwrap()).unwrap();
        store.put(COMPLEX_VER, Arc::new(info));
        let session = CapsCache::default();
        let xec = Xec::builder().extension(EntityCaps::with_store(store)).extension(session.clone()).build().unwrap();
        let c = format!("<c xmlns='{NS}' hash='sha-1' node='http://psi-im.org' ver='{COMPLEX_VER}'/>");
        block_on(xec.dispatch(presence("benvolio@capulet.lit/230193", &c)));
        assert!(xec.take_outgoing().is_empty());
        assert_eq!(session.take_pending().len(), 1);
        block_on(xec.dispatch(presence("mercutio@capulet.lit/x", &c)));
        assert!(session.take_pending().is_empty(), "written once");
    }

    #[test]
    fn a_bad_stored_entry_is_ignored_and_fetched_again() {
        let simple_xml = simple().to_query().build().unwrap().to_xml();
        for stored in ["not xml <", "<feature xmlns='http://jabber.org/protocol/disco#info'/>", simple_xml.as_str()] {
            let caps = EntityCaps::with_store(Arc::new(MemoryCapsStore::default()));
            let session = CapsCache::default();
            // the simple example's info stored under the complex example's ver: poisoned
            session.load([(COMPLEX_VER.to_owned(), stored.to_owned())]);
            let xec = Xec::builder().extension(caps.clone()).extension(session).build().unwrap();
            let mut known = xec.subscribe("entitycaps");
            let c = format!("<c xmlns='{NS}' hash='sha-1' node='http://psi-im.org' ver='{COMPLEX_VER}'/>");
            block_on(xec.dispatch(presence("benvolio@capulet.lit/230193", &c)));
            assert!(known.try_recv().is_none(), "{stored}");
            assert_eq!(xec.take_outgoing().len(), 1, "fetched instead: {stored}");
            assert!(caps.cached(COMPLEX_VER).is_none());
        }
    }
}
