//! The registry: every `#[payload]`, `#[action]` and declared feature of every linked crate, collected at
//! compile time by `inventory` and built once into the dispatch table.
//!
//! A crate of handlers that the program never names is not linked: see [`Registry`].

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::action::{AnyAction, BoxFuture};
use super::Context;
use crate::xml::{Element, ElementBuilder};
use crate::{Error, Result};

/// The signature of a registered Payload handler.
#[doc(hidden)]
pub type PayloadFn = for<'a> fn(&'a Context, &'a Element, &'a Element) -> Option<BoxFuture<'a, Result<()>>>;

/// The signature that revives a stored Action from its saved state.
#[doc(hidden)]
pub type ReviveFn = fn(&str) -> Result<Box<dyn AnyAction>>;

/// One `#[payload]` (emitted by the macro).
#[doc(hidden)]
#[derive(Debug)]
pub struct PayloadRegistration {
    pub name: &'static str,
    pub ns: &'static str,
    pub node: Option<&'static str>,
    /// `module::path::Type`.
    pub type_name: &'static str,
    /// The Packet key (the type name in lowercase unless overridden).
    pub key: &'static str,
    /// `#[payload(at = "...")]`, if given (else the default for the element: see [`Position`]).
    pub at: Option<Position>,
    pub handler: PayloadFn,
}

/// Where in a stanza a Payload's element may stand: `#[payload(at = "stanza" | "child" | "any")]`.
///
/// The stanza is depth 0, its children depth 1, their children depth 2 (the descent goes no deeper). The default
/// is [`Stanza`](Position::Stanza) for the stanza-level elements (`message`, `presence`, `iq` in `jabber:client`)
/// and [`Any`](Position::Any) for everything else. A stanza nested in another one is never part of the stanza
/// that carries it: only a handler registered `at = "any"` for a stanza-level element sees such a nested stanza
/// (not what is inside it), with the outer stanza as its `stanza`.
///
/// ```
/// use moxl_core::xec::Position;
/// assert_eq!(Position::default_for("message", "jabber:client"), Position::Stanza);
/// assert_eq!(Position::default_for("ping", "urn:xmpp:ping"), Position::Any);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Position {
    /// The top-level stanza only.
    Stanza,
    /// A direct child of the stanza only (an `iq`'s payload, RFC 6120 §8.2.3).
    Child,
    /// The stanza, a child or a grandchild (Moxl's three-level descent).
    Any,
}

impl Position {
    /// The position of a handler registered without `at`: the stanza itself for `message`, `presence` and
    /// `iq` in `jabber:client`, anywhere for any other element.
    pub fn default_for(name: &str, ns: &str) -> Position {
        if matches!(name, "message" | "presence" | "iq") && ns == crate::xml::ns::CLIENT {
            Position::Stanza
        } else {
            Position::Any
        }
    }
}

/// A registered Payload with its resolved position.
#[derive(Debug)]
pub(crate) struct Registered {
    pub(crate) registration: &'static PayloadRegistration,
    position: Position,
    /// Registered `at = "any"` for a stanza-level element: fires for nested stanzas too.
    nested: bool,
}

impl Registered {
    fn new(registration: &'static PayloadRegistration) -> Self {
        let default = Position::default_for(registration.name, registration.ns);
        let position = registration.at.unwrap_or(default);
        let nested = default == Position::Stanza && position == Position::Any;
        Registered { registration, position, nested }
    }

    /// Whether it fires for its element at this depth (`nested_stanza`: the element is a stanza below the top).
    pub(crate) fn fires_at(&self, depth: u8, nested_stanza: bool) -> bool {
        if nested_stanza {
            return self.nested;
        }
        match self.position {
            Position::Stanza => depth == 0,
            Position::Child => depth == 1,
            Position::Any => depth <= 2,
        }
    }
}

/// One `#[action]` (emitted by the macro).
#[doc(hidden)]
#[derive(Debug)]
pub struct ActionRegistration {
    /// `module::path::Type`.
    pub type_name: &'static str,
    /// `module_path!()` where the type is declared.
    pub module_path: &'static str,
    /// The type's name.
    pub ident: &'static str,
    /// `#[action(group = "...")]`, if given.
    pub group: Option<&'static str>,
    pub revive: ReviveFn,
}

/// A service discovery feature a module provides (XEP-0030 §3.1); see [`feature!`](crate::feature).
#[doc(hidden)]
#[derive(Debug)]
pub struct FeatureRegistration {
    pub var: &'static str,
}

/// The signature of a presence extension: given the context sending it and an available presence we send, the
/// child to add to it, if any (see [`presence_extension!`](crate::presence_extension)).
pub type PresenceExtensionFn = fn(&Context, &Element) -> Option<ElementBuilder>;

/// One [`presence_extension!`](crate::presence_extension) (emitted by the macro).
#[doc(hidden)]
#[derive(Debug)]
pub struct PresenceExtensionRegistration {
    /// `module_path!()` of the declaring module: the extensions are applied in this order.
    pub module_path: &'static str,
    pub extend: PresenceExtensionFn,
}

inventory::collect!(PayloadRegistration);
inventory::collect!(ActionRegistration);
inventory::collect!(FeatureRegistration);
inventory::collect!(PresenceExtensionRegistration);

/// Declares disco features (XEP-0030) this crate's module provides; the client's disco#info answer and caps
/// hash are computed from every declared feature of every linked crate.
///
/// ```
/// moxl_core::feature!("urn:xmpp:ping", "urn:xmpp:time");
/// assert!(moxl_core::xec::Registry::global().unwrap().features().any(|f| f == "urn:xmpp:ping"));
/// ```
#[macro_export]
macro_rules! feature {
    ($($var:literal),+ $(,)?) => {
        $( $crate::__private::inventory::submit! { $crate::__private::FeatureRegistration { var: $var } } )+
    };
}

/// Registers a function that adds a child to every available presence the client sends: broadcast and
/// directed, those without a `type` (RFC 6121 §4.2, §4.6). It is called by [`Context::send`] with the sending
/// context (to read the application's extensions) and the presence; it returns the child to append, or `None`
/// (for instance when the presence already carries one). Entity capabilities (XEP-0115) use it to put `<c/>` in
/// our presence; core knows nothing of what the children are.
///
/// ```
/// use moxl_core::xec::{Context, Xec};
/// use moxl_core::xml::{Element, ElementBuilder};
/// fn mood(_ctx: &Context, presence: &Element) -> Option<ElementBuilder> {
///     presence.child("mood", "urn:example:mood").is_none().then(|| ElementBuilder::new("mood", "urn:example:mood"))
/// }
/// moxl_core::presence_extension!(mood);
///
/// let xec = Xec::new()?;
/// let away = Element::parse("<presence xmlns='jabber:client' to='room@muc.lit/nick' xml:lang='en'><show>away</show></presence>")?;
/// xec.context().send(away)?;
/// xec.context().send(moxl_core::stanza::presence(Some("romeo@montague.lit"), Some("subscribe")))?;
/// let sent = xec.take_outgoing();
/// assert_eq!(
///     sent[0].to_xml(),
///     "<presence xmlns='jabber:client' to='room@muc.lit/nick' xml:lang='en'><show>away</show><mood xmlns='urn:example:mood'/></presence>"
/// );
/// assert!(sent[1].child("mood", "urn:example:mood").is_none(), "not in a subscription request");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[macro_export]
macro_rules! presence_extension {
    ($extend:path) => {
        $crate::__private::inventory::submit! {
            $crate::__private::PresenceExtensionRegistration { module_path: module_path!(), extend: $extend }
        }
    };
}

/// Handlers for one (name, namespace): node-specific ones first (by node), then the generic ones.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    generic: Vec<Registered>,
    by_node: Vec<(&'static str, Vec<Registered>)>,
}

impl Slot {
    /// Whether some handlers here are for a specific pubsub node (only then is the node read).
    pub(crate) fn has_nodes(&self) -> bool {
        !self.by_node.is_empty()
    }

    /// The handlers for an element with this node, in firing order: those for the node, then those for any.
    pub(crate) fn matching(&self, node: Option<&str>) -> impl Iterator<Item = &Registered> + '_ {
        let specific = node
            .and_then(|node| self.by_node.iter().find(|(n, _)| *n == node))
            .map(|(_, list)| list.as_slice())
            .unwrap_or_default();
        specific.iter().chain(&self.generic)
    }

    /// Whether any handler here fires at this depth (checked before anything of the element is read).
    pub(crate) fn any_at(&self, depth: u8, nested_stanza: bool) -> bool {
        self.generic.iter().chain(self.by_node.iter().flat_map(|(_, l)| l)).any(|r| r.fires_at(depth, nested_stanza))
    }
}

/// A registered Action type, with its Packet key prefix (`group_type`).
#[derive(Debug)]
pub(crate) struct ActionType {
    pub(crate) registration: &'static ActionRegistration,
    pub(crate) prefix: String,
}

/// The dispatch table and the Action types, built once from the inventory registry.
///
/// Building checks that Packet keys are unambiguous: two Payload types with the same key, or two Action types
/// with the same `group_type` prefix, are an error naming both (set `key`/`group` to tell them apart). Several
/// Payloads for the same (name, namespace, node) are allowed: all of them fire, ordered by type name.
///
/// # A crate of handlers the program never names
/// Only crates the program is linked with register anything, and Rust links a dependency only when the code
/// names it: a crate that holds nothing but handlers, which the application never calls, is left out silently,
/// and its handlers never fire. Name it once, in the application (`main.rs` or `lib.rs`):
///
/// ```text
/// use my_handlers as _; // links every #[payload] and #[action] of my_handlers
/// ```
///
/// This links the whole crate, whatever its number of codegen units (rustc keeps every registration of a crate
/// it links; `tests/linking_named.rs` checks handlers spread over several modules). To check it at startup, ask
/// the registry, which also logs at `debug` the crates it found:
///
/// ```
/// let registry = moxl_core::xec::Registry::global()?;
/// registry.require_crate("moxl_core")?; // Err(Error::Registry) names the missing `use` line
/// assert!(registry.require_crate("my_handlers").is_err());
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Registry {
    /// FxHash: the keys are our own static strings, so a peer cannot choose colliding lookups to any effect.
    table: FxHashMap<(&'static str, &'static str), Slot>,
    actions: HashMap<&'static str, ActionType>,
    features: BTreeSet<&'static str>,
    presence_extensions: Vec<PresenceExtensionFn>,
    /// The crates that registered a Payload, an Action or a presence extension.
    crates: BTreeSet<&'static str>,
}

/// The crate of a path (`moxl_xep::xep_0199_ping::Ping` → `moxl_xep`).
fn crate_of(path: &'static str) -> &'static str {
    path.split("::").next().unwrap_or(path)
}

static GLOBAL: OnceLock<std::result::Result<Registry, String>> = OnceLock::new();

impl Registry {
    /// The registry of everything linked into this program, built on first use.
    ///
    /// ```
    /// let registry = moxl_core::xec::Registry::global()?;
    /// # let _ = registry;
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn global() -> Result<&'static Registry> {
        match GLOBAL.get_or_init(|| {
            let mut registry = Registry::build(
                inventory::iter::<PayloadRegistration>(),
                inventory::iter::<ActionRegistration>(),
                inventory::iter::<FeatureRegistration>().map(|f| f.var),
            )?;
            let mut extensions: Vec<_> = inventory::iter::<PresenceExtensionRegistration>().collect();
            extensions.sort_by_key(|e| e.module_path);
            registry.crates.extend(extensions.iter().map(|e| crate_of(e.module_path)));
            registry.presence_extensions = extensions.into_iter().map(|e| e.extend).collect();
            tracing::debug!(
                crates = ?registry.crates,
                payloads = registry.table.values().map(|s| s.generic.len() + s.by_node.iter().map(|(_, l)| l.len()).sum::<usize>()).sum::<usize>(),
                actions = registry.actions.len(),
                "handler registry built; a crate of handlers missing here is not linked (add `use that_crate as _;`)"
            );
            Ok(registry)
        }) {
            Ok(r) => Ok(r),
            Err(e) => Err(Error::Registry(e.clone())),
        }
    }

    /// Builds a registry from explicit registrations (the global one uses everything `inventory` collected).
    fn build(
        payloads: impl IntoIterator<Item = &'static PayloadRegistration>,
        actions: impl IntoIterator<Item = &'static ActionRegistration>,
        features: impl IntoIterator<Item = &'static str>,
    ) -> std::result::Result<Registry, String> {
        let mut payloads: Vec<_> = payloads.into_iter().collect();
        payloads.sort_by_key(|p| (p.type_name, p.name, p.ns, p.node));
        let mut keys: HashMap<&str, &str> = HashMap::new();
        let mut table: FxHashMap<(&'static str, &'static str), Slot> = FxHashMap::default();
        for p in payloads {
            if let Some(other) = keys.insert(p.key, p.type_name) {
                if other != p.type_name {
                    return Err(format!(
                        "Packet key `{}` is used by both {other} and {}; give one of them #[payload(key = \"...\")]",
                        p.key, p.type_name
                    ));
                }
            }
            let slot = table.entry((p.name, p.ns)).or_default();
            match p.node {
                None => slot.generic.push(Registered::new(p)),
                Some(node) => match slot.by_node.iter_mut().find(|(n, _)| *n == node) {
                    Some((_, list)) => list.push(Registered::new(p)),
                    None => slot.by_node.push((node, vec![Registered::new(p)])),
                },
            }
        }
        let mut by_prefix: HashMap<String, &str> = HashMap::new();
        let mut action_types = HashMap::new();
        for a in actions {
            let prefix = action_prefix(a);
            if let Some(other) = by_prefix.insert(prefix.clone(), a.type_name) {
                return Err(format!(
                    "Packet key prefix `{prefix}` is used by both {other} and {}; give one of them #[action(group = \"...\")]",
                    a.type_name
                ));
            }
            action_types.insert(a.type_name, ActionType { registration: a, prefix });
        }
        let crates = keys.values().chain(action_types.keys()).map(|t| crate_of(t)).collect();
        Ok(Registry {
            table,
            actions: action_types,
            features: features.into_iter().collect(),
            presence_extensions: Vec::new(),
            crates,
        })
    }

    /// The Payloads registered for an element with this name and namespace (see [`Slot::matching`]). One hash
    /// lookup, no allocation.
    /// The namespaces of the registered Payloads (each once per name; for the parsers' shared namespace table).
    pub(crate) fn payload_namespaces(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.table.keys().map(|(_, ns)| *ns)
    }

    pub(crate) fn slot<'r>(&'r self, name: &'r str, ns: &'r str) -> Option<&'r Slot> {
        let table: &FxHashMap<(&str, &str), Slot> = &self.table;
        table.get(&(name, ns))
    }

    /// Whether any Payload is registered for this name and namespace.
    pub fn handles(&self, name: &str, ns: &str) -> bool {
        let table: &FxHashMap<(&str, &str), Slot> = &self.table;
        table.contains_key(&(name, ns))
    }

    pub(crate) fn action_type(&self, type_name: &str) -> Option<&ActionType> {
        self.actions.get(type_name)
    }

    /// The Packet key prefix (`group_type`) of a registered Action type.
    ///
    /// ```
    /// # use moxl::prelude::*;
    /// # #[derive(Serialize, Deserialize)] pub struct Get;
    /// # #[action(group = "card")] impl Get { fn request(&self) -> ElementBuilder { iq_get(None) }
    /// #   async fn handle(&mut self, _: &Context, _: &Element) {} }
    /// let registry = moxl::xec::Registry::global()?;
    /// assert_eq!(registry.action_prefix(<Get as moxl::xec::Action>::TYPE_NAME), Some("card_get"));
    /// # Ok::<(), moxl::Error>(())
    /// ```
    pub fn action_prefix(&self, type_name: &str) -> Option<&str> {
        self.actions.get(type_name).map(|a| a.prefix.as_str())
    }

    /// The crates that registered a Payload, an Action or a presence extension, sorted (crate names as in
    /// paths: `moxl_xep`, not `moxl-xep`).
    ///
    /// ```
    /// let registry = moxl_core::xec::Registry::global()?;
    /// assert!(registry.crates().any(|c| c == "moxl_core"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn crates(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.crates.iter().copied()
    }

    /// Checks that the crate `name` (as in paths: underscores) registered something, i.e. that it is linked.
    /// A crate of handlers that the application never names is not linked and registers nothing, silently; this
    /// turns that into an error at startup, which says how to link it (see [`Registry`]).
    ///
    /// ```
    /// use moxl_core::{xec::Registry, Error};
    /// let registry = Registry::global()?;
    /// let Err(Error::Registry(message)) = registry.require_crate("my_handlers") else { panic!() };
    /// assert!(message.contains("use my_handlers as _;"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn require_crate(&self, name: &str) -> Result<()> {
        let name = name.replace('-', "_");
        if self.crates.contains(name.as_str()) {
            return Ok(());
        }
        Err(Error::Registry(format!(
            "crate {name} registered no handler: it is not linked into this program, or has no #[payload]/#[action]; \
             if the program never names it, add `use {name} as _;` to the application (linked: {})",
            self.crates.iter().copied().collect::<Vec<_>>().join(", ")
        )))
    }

    /// The disco features declared by every linked module, sorted and deduplicated.
    pub fn features(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.features.iter().copied()
    }

    /// The registered [presence extensions](crate::presence_extension), in the order of their modules' paths.
    pub(crate) fn presence_extensions(&self) -> &[PresenceExtensionFn] {
        &self.presence_extensions
    }

    /// Every (name, namespace, node, Packet key, type name) registered, in a stable order: for documentation,
    /// debugging and tests.
    pub fn payload_entries(
        &self,
    ) -> Vec<(&'static str, &'static str, Option<&'static str>, &'static str, &'static str)> {
        let mut out: Vec<_> = self
            .table
            .values()
            .flat_map(|s| s.generic.iter().chain(s.by_node.iter().flat_map(|(_, l)| l.iter())))
            .map(|r| r.registration)
            .map(|p| (p.name, p.ns, p.node, p.key, p.type_name))
            .collect();
        out.sort();
        out
    }
}

/// `group_type` in lowercase: the group is `#[action(group)]` or the last module of the path without any
/// `xep_NNNN_` prefix.
fn action_prefix(a: &ActionRegistration) -> String {
    let group = a.group.unwrap_or_else(|| module_group(a.module_path));
    format!("{}_{}", group, a.ident).to_lowercase()
}

/// The last segment of a module path, with a leading `xep_NNNN_` removed (`moxl_xep::xep_0054_vcard` → `vcard`).
pub(crate) fn module_group(module_path: &str) -> &str {
    let last = module_path.rsplit("::").next().unwrap_or(module_path);
    match last.strip_prefix("xep_") {
        Some(rest) => {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            match rest.get(digits..).and_then(|r| r.strip_prefix('_')) {
                Some(short) if digits > 0 && !short.is_empty() => short,
                _ => last,
            }
        }
        None => last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_from_module_paths() {
        assert_eq!(module_group("moxl_xep::xep_0054_vcard"), "vcard");
        assert_eq!(module_group("moxl_xep::xep_0045_muc::actions"), "actions");
        assert_eq!(module_group("my_app::roster"), "roster");
        assert_eq!(module_group("app"), "app");
        assert_eq!(module_group("x::xep_12"), "xep_12");
        assert_eq!(module_group("x::xep_0001_"), "xep_0001_");
    }

    fn noop<'a>(_: &'a Context, _: &'a Element, _: &'a Element) -> Option<BoxFuture<'a, Result<()>>> {
        None
    }

    #[test]
    fn duplicate_keys_are_rejected_naming_both() {
        static A: PayloadRegistration = PayloadRegistration {
            name: "x",
            ns: "u",
            node: None,
            type_name: "a::Failure",
            key: "failure",
            at: None,
            handler: noop,
        };
        static B: PayloadRegistration = PayloadRegistration {
            name: "y",
            ns: "u",
            node: None,
            type_name: "b::Failure",
            key: "failure",
            at: None,
            handler: noop,
        };
        let err = Registry::build([&A, &B], [], []).err().unwrap_or_default();
        assert!(err.contains("a::Failure") && err.contains("b::Failure"), "{err}");
    }

    #[test]
    fn same_element_handlers_fire_in_type_name_order_node_first() {
        static Z: PayloadRegistration = PayloadRegistration {
            name: "event",
            ns: "e",
            node: None,
            type_name: "z::Any",
            key: "any",
            at: None,
            handler: noop,
        };
        static A: PayloadRegistration = PayloadRegistration {
            name: "event",
            ns: "e",
            node: None,
            type_name: "a::Other",
            key: "other",
            at: None,
            handler: noop,
        };
        static N: PayloadRegistration = PayloadRegistration {
            name: "event",
            ns: "e",
            node: Some("n"),
            type_name: "m::Node",
            key: "node",
            at: None,
            handler: noop,
        };
        let r = Registry::build([&Z, &N, &A], [], []).unwrap_or_else(|e| unreachable!("{e}"));
        let slot = r.slot("event", "e").unwrap_or_else(|| unreachable!());
        let order: Vec<_> = slot.matching(Some("n")).map(|p| p.registration.type_name).collect();
        assert_eq!(order, ["m::Node", "a::Other", "z::Any"]);
        let order: Vec<_> = slot.matching(Some("other")).map(|p| p.registration.type_name).collect();
        assert_eq!(order, ["a::Other", "z::Any"]);
        assert!(r.slot("event", "x").is_none());
    }
}
