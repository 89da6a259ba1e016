//! XEP-0390: Entity Capabilities 2.0 (namespace `urn:xmpp:caps`). An entity sends, in its presence, a set of
//! hashes of its disco#info answer (`<c/>` with XEP-0300 `<hash/>` children, §5); whoever receives one asks for
//! that answer once per hash and caches it. Unlike XEP-0115, the hash input keeps the structure of every string
//! (§1), and several hash functions can be sent at once.
//!
//! [`hash_input`] is the algorithm of §4.1 (on a [`DiscoInfo`]; [`hash_input_of_query`] also applies the checks
//! that need the raw `<query/>`), [`hash_set`] §4.2, [`hash_node`]/[`parse_hash_node`] §4.3, [`verify`] §4.4;
//! [`Caps2`] reads and builds `<c/>`, and the [`Caps2Payload`] delivers each one received as an [`EntityCaps2`]
//! (Packet key `caps2`). The tests use the XEP's two examples (§4.5) as test vectors.
//!
//! The client speaks it beside XEP-0115 (§7.2, Upgrading from XEP-0115), the same way:
//! - it announces `urn:xmpp:caps` (§5, Advertising Support) and adds its hash set ([`our_caps2`]: `sha-256` and
//!   `sha3-256` of [`our_info`]) to every available presence it sends, broadcast and directed (§6.1, Rules for
//!   Generating Entities), next to the XEP-0115 `<c/>`;
//! - it answers disco#info on each of its hash nodes with that info (§5, Service Discovery Query for a Specific
//!   Hash Value; [`answer_info`](crate::xep_0030_disco::answer_info));
//! - with [`EntityCaps`](crate::xep_0115_caps::EntityCaps) tracking on, a presence's hash set is preferred to its
//!   XEP-0115 `<c/>`: its hash node is looked up in the same caches (keyed by the hash node) or queried and
//!   [`verify`]-ed before anything is stored (§4.4, §6.2.1: an unverified hash is never stored).
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0030_disco::DiscoInfo;
//! use moxl_xep::xep_0300_hashes::Algo;
//! use moxl_xep::xep_0390_caps2::{hash_set, verify, Caps2};
//! let q = Element::parse("<query xmlns='http://jabber.org/protocol/disco#info'><identity category='client' type='pc' name='moxl'/>\
//!     <feature var='urn:xmpp:ping'/></query>")?;
//! let info = DiscoInfo::from_query(&q).unwrap();
//! let caps = Caps2::new(hash_set(&info, &[Algo::Sha256, Algo::Sha3_256]).unwrap());
//! assert!(caps.hashes.iter().all(|h| verify(&info, h)));
//! # Ok::<(), moxl_core::xml::XmlError>(())
//! ```

use std::borrow::Cow;
use std::fmt;

use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Result, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms as forms;
use crate::xep_0030_disco::{DiscoInfo, NS_INFO, our_info};
use crate::xep_0054_vcard_temp::{decode_base64, encode_base64};
use crate::xep_0300_hashes::{self as hashes, Algo, Hash};

/// `urn:xmpp:caps` (§5).
///
/// ```
/// assert_eq!(moxl_xep::xep_0390_caps2::NS, "urn:xmpp:caps");
/// ```
pub const NS: &str = "urn:xmpp:caps";

moxl_core::feature!("urn:xmpp:caps");

/// The hash functions of [`our_caps2`]: `sha-256` (which XEP-0300 makes mandatory, §4.2) and `sha3-256`, as in
/// the XEP's examples.
///
/// ```
/// use moxl_xep::xep_0300_hashes::Algo;
/// assert_eq!(moxl_xep::xep_0390_caps2::OUR_ALGOS, [Algo::Sha256, Algo::Sha3_256]);
/// ```
pub const OUR_ALGOS: [Algo; 2] = [Algo::Sha256, Algo::Sha3_256];

/// Our hash set: [`OUR_ALGOS`] of [`our_info`] (the client's disco#info answer, so the two always agree).
///
/// ```
/// use moxl_xep::xep_0030_disco::our_info;
/// use moxl_xep::xep_0390_caps2::{our_caps2, verify};
/// let xec = moxl_core::xec::Xec::new()?;
/// let caps = our_caps2(&xec.context())?;
/// assert_eq!(caps.hashes.len(), 2);
/// assert!(caps.hashes.iter().all(|h| verify(&our_info(&xec.context()).unwrap(), h)));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn our_caps2(ctx: &Context) -> Result<Caps2> {
    let info = our_info(ctx)?;
    let hashes = hash_set(&info, &OUR_ALGOS)
        .map_err(|e| moxl_core::Error::handler(format!("our disco#info has no XEP-0390 hash input: {e}")))?;
    Ok(Caps2::new(hashes))
}

/// The presence extension: our hash set in every available presence that has none yet (§6.1).
fn add_caps2(ctx: &Context, presence: &Element) -> Option<ElementBuilder> {
    if presence.child("c", NS).is_some() {
        return None;
    }
    our_caps2(ctx).ok().map(|caps| caps.to_element())
}

moxl_core::presence_extension!(add_caps2);

/// Whether `node` is the hash node of one of the hashes of `info` (§4.3, §4.4): the nodes a client answers
/// disco#info on with `info`. Only functions this crate computes, never `sha-1`.
///
/// ```
/// use moxl_xep::xep_0300_hashes::Algo;
/// use moxl_xep::xep_0390_caps2::{hash_node, hash_set, is_hash_node_of};
/// let info = Default::default();
/// let node = hash_node(&hash_set(&info, &[Algo::Sha3_256]).unwrap()[0]);
/// assert!(is_hash_node_of(&node, &info));
/// assert!(!is_hash_node_of("urn:xmpp:caps#sha-256.AAAA", &info));
/// ```
pub fn is_hash_node_of(node: &str, info: &DiscoInfo) -> bool {
    parse_hash_node(node).is_some_and(|h| verify(info, &h))
}

/// The prefix of a capability hash node (§4.3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0390_caps2::NODE_PREFIX, "urn:xmpp:caps#");
/// ```
pub const NODE_PREFIX: &str = "urn:xmpp:caps#";

// The separators of §4.1 (ASCII unit, record, group and file separators).
const SEP_1: u8 = 0x1c;
const SEP_2: u8 = 0x1d;
const SEP_3: u8 = 0x1e;
const SEP_4: u8 = 0x1f;

/// Why a disco#info answer has no hash input (§4.1, steps 1–3).
///
/// ```
/// use moxl_xep::xep_0390_caps2::InputError;
/// assert_eq!(InputError::NoFormType.to_string(), "an extension form without FORM_TYPE (XEP-0390 §4.1 step 3)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// Step 1: the `<query/>` holds an element that is neither an identity, a feature nor a data form (its
    /// name).
    UnexpectedElement(String),
    /// Step 2: a form has `<reported/>` or `<item/>`.
    ReportedOrItem,
    /// Step 3: a form has no `FORM_TYPE` field (XEP-0068).
    NoFormType,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::UnexpectedElement(name) => {
                write!(f, "an unexpected <{name}/> in the query (XEP-0390 §4.1 step 1)")
            }
            InputError::ReportedOrItem => {
                f.write_str("an extension form with <reported/> or <item/> (XEP-0390 §4.1 step 2)")
            }
            InputError::NoFormType => f.write_str("an extension form without FORM_TYPE (XEP-0390 §4.1 step 3)"),
        }
    }
}

impl std::error::Error for InputError {}

/// Sorts octet strings (i;octet), joins them and closes the result with `sep`.
fn join_sorted(mut parts: Vec<Vec<u8>>, sep: u8) -> Vec<u8> {
    parts.sort();
    let mut out = parts.concat();
    out.push(sep);
    out
}

/// `s` encoded, followed by the unit separator.
fn unit(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(SEP_4);
    v
}

/// The hash function input of a disco#info answer (§4.1, steps 2–7: features, identities, then extension
/// forms, each sorted and separated). `xml:lang` values are those of the view: see [`hash_input_of_query`]
/// for the inherited ones.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0030_disco::DiscoInfo;
/// let q = Element::parse("<query xmlns='http://jabber.org/protocol/disco#info'><identity category='client' type='pc'/>\
///     <feature var='b'/><feature var='a'/></query>")?;
/// let input = moxl_xep::xep_0390_caps2::hash_input(&DiscoInfo::from_query(&q).unwrap()).unwrap();
/// assert_eq!(input, b"a\x1fb\x1f\x1cclient\x1fpc\x1f\x1f\x1f\x1e\x1c\x1c");
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn hash_input(info: &DiscoInfo) -> std::result::Result<Vec<u8>, InputError> {
    for form in &info.extensions {
        if !form.reported.is_empty() || !form.items.is_empty() {
            return Err(InputError::ReportedOrItem);
        }
        if form.form_type_value().is_none() {
            return Err(InputError::NoFormType);
        }
    }
    let features = join_sorted(info.features.iter().map(|f| unit(f)).collect(), SEP_1);
    let identities = join_sorted(
        info.identities
            .iter()
            .map(|i| {
                let mut v = [&i.category, &i.kind, i.lang.as_deref().unwrap_or(""), i.name.as_deref().unwrap_or("")]
                    .iter()
                    .flat_map(|s| unit(s))
                    .collect::<Vec<u8>>();
                v.push(SEP_3);
                v
            })
            .collect(),
        SEP_1,
    );
    let extensions = join_sorted(
        info.extensions
            .iter()
            .map(|form| {
                let fields = form
                    .fields
                    .iter()
                    .map(|field| {
                        let values = field.values.iter().map(|v| unit(v)).collect::<Vec<_>>();
                        let mut v = unit(field.var.as_deref().unwrap_or(""));
                        v.extend(join_sorted(values, SEP_3));
                        v
                    })
                    .collect();
                join_sorted(fields, SEP_2)
            })
            .collect(),
        SEP_1,
    );
    Ok([features, identities, extensions].concat())
}

/// [`hash_input`] of a raw disco#info `<query/>`, with the checks of step 1 (nothing but identities,
/// features and data forms) and the implicit `xml:lang` of identities (inherited from the query).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0390_caps2::{hash_input_of_query, InputError};
/// let q = Element::parse("<query xmlns='http://jabber.org/protocol/disco#info'><feature var='a'/><x xmlns='urn:example'/></query>")?;
/// assert_eq!(hash_input_of_query(&q), Err(InputError::UnexpectedElement("x".into())));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn hash_input_of_query(query: &Element) -> std::result::Result<Vec<u8>, InputError> {
    let allowed = |c: &Element| c.is("identity", NS_INFO) || c.is("feature", NS_INFO) || c.is("x", forms::NS);
    if let Some(other) = query.children().find(|c| !allowed(c)) {
        return Err(InputError::UnexpectedElement(other.name().to_owned()));
    }
    let mut info =
        DiscoInfo::from_query(query).ok_or_else(|| InputError::UnexpectedElement(query.name().to_owned()))?;
    if let Some(lang) = query.attr("xml:lang") {
        for i in info.identities.iter_mut().filter(|i| i.lang.is_none()) {
            i.lang = Some(lang.clone().into_owned());
        }
    }
    hash_input(&info)
}

/// The capability hash set of a disco#info answer for the functions `algos` (§4.2: include `sha-256`, which
/// XEP-0300 makes mandatory); functions this crate does not compute are skipped.
///
/// ```
/// use moxl_xep::xep_0300_hashes::Algo;
/// let set = moxl_xep::xep_0390_caps2::hash_set(&Default::default(), &[Algo::Sha256, Algo::Other("md5".into())]).unwrap();
/// assert_eq!(set.len(), 1);
/// ```
pub fn hash_set(info: &DiscoInfo, algos: &[Algo]) -> std::result::Result<Vec<Hash>, InputError> {
    let input = hash_input(info)?;
    Ok(algos.iter().filter_map(|a| Hash::compute(a.clone(), &input)).collect())
}

/// The capability hash node of a hash (§4.3): `urn:xmpp:caps#` + function + `.` + base64 value, the node to
/// ask disco#info on.
///
/// ```
/// use moxl_xep::xep_0300_hashes::{Algo, Hash};
/// let h = Hash { algo: Algo::Sha256, value: vec![0; 3] };
/// assert_eq!(moxl_xep::xep_0390_caps2::hash_node(&h), "urn:xmpp:caps#sha-256.AAAA");
/// ```
pub fn hash_node(hash: &Hash) -> String {
    format!("{NODE_PREFIX}{}.{}", hash.algo.name(), encode_base64(&hash.value))
}

/// Decomposes a capability hash node (§4.3: the last `.` separates function and value); `None` if it is not
/// one.
///
/// ```
/// use moxl_xep::xep_0300_hashes::{Algo, Hash};
/// use moxl_xep::xep_0390_caps2::parse_hash_node;
/// assert_eq!(parse_hash_node("urn:xmpp:caps#sha-256.AAAA"), Some(Hash { algo: Algo::Sha256, value: vec![0; 3] }));
/// assert_eq!(parse_hash_node("http://jabber.org/protocol/caps"), None);
/// ```
pub fn parse_hash_node(node: &str) -> Option<Hash> {
    let (algo, value) = node.strip_prefix(NODE_PREFIX)?.rsplit_once('.')?;
    (!algo.is_empty()).then_some(())?;
    Some(Hash { algo: Algo::from_name(algo), value: decode_base64(value)? })
}

/// Whether `hash` is the hash of the disco#info answer `info` (§4.4, steps 3–4): `false` when the input has an
/// error or the function is not one this crate computes. A `sha-1` hash is never accepted (XEP-0300 §4).
///
/// ```
/// use moxl_xep::xep_0300_hashes::{Algo, Hash};
/// let info = Default::default();
/// let h = moxl_xep::xep_0390_caps2::hash_set(&info, &[Algo::Sha256]).unwrap().remove(0);
/// assert!(moxl_xep::xep_0390_caps2::verify(&info, &h));
/// assert!(!moxl_xep::xep_0390_caps2::verify(&info, &Hash { algo: Algo::Sha256, value: vec![0; 32] }));
/// ```
pub fn verify(info: &DiscoInfo, hash: &Hash) -> bool {
    match hash_input(info) {
        Ok(input) => hashes::verify(std::slice::from_ref(hash), &input) == hashes::Verdict::Verified,
        Err(_) => false,
    }
}

/// A `<c xmlns='urn:xmpp:caps'/>`: a capability hash set (§5).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0390_caps2::Caps2;
/// let p = Element::parse("<presence xmlns='jabber:client' from='juliet@capulet.lit/balcony'><c xmlns='urn:xmpp:caps'>\
///     <hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>kzBZbkqJ3ADrj7v08reD1qcWUwNGHaidNUgD7nHpiw8=</hash></c></presence>")?;
/// let c = Caps2::from_presence(&p).unwrap();
/// assert_eq!(Caps2::from_element(&c.to_element().build()?), Some(c));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Caps2 {
    /// The hashes (the ones that parse), in order.
    pub hashes: Vec<Hash>,
}

impl Caps2 {
    /// A hash set.
    pub fn new(hashes: Vec<Hash>) -> Caps2 {
        Caps2 { hashes }
    }

    /// Reads a `<c/>` of this namespace.
    pub fn from_element(c: &Element) -> Option<Caps2> {
        c.is("c", NS).then(|| Caps2 { hashes: Hash::all_in(c) })
    }

    /// The `<c/>` of a presence.
    pub fn from_presence(presence: &Element) -> Option<Caps2> {
        Caps2::from_element(&presence.child("c", NS)?)
    }

    /// The element.
    pub fn to_element(&self) -> ElementBuilder {
        self.hashes.iter().fold(ElementBuilder::new("c", NS), |c, h| c.append(h.to_element()))
    }

    /// The hash to look up or verify: the first of a function this crate computes and trusts (so never
    /// `sha-1`), or `None`.
    ///
    /// ```
    /// use moxl_xep::xep_0300_hashes::{Algo, Hash};
    /// let c = moxl_xep::xep_0390_caps2::Caps2::new(vec![Hash { algo: Algo::Sha1, value: vec![1] }, Hash { algo: Algo::Sha256, value: vec![2] }]);
    /// assert_eq!(c.usable().map(|h| &h.algo), Some(&Algo::Sha256));
    /// ```
    pub fn usable(&self) -> Option<&Hash> {
        self.hashes.iter().find(|h| h.algo.is_trusted() && h.algo != Algo::Sha1)
    }
}

/// A capability hash set received in a presence.
///
/// ```
/// use moxl_xep::xep_0390_caps2::{hash_node, EntityCaps2};
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut caps = xec.events::<EntityCaps2>();
/// if let Some(c) = caps.recv().await {
///     // ask `c.from` for disco#info on this node once, then cache the answer under the hash
///     let node = c.caps.usable().map(hash_node);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EntityCaps2 {
    /// The entity (the presence's sender).
    pub from: String,
    /// Its hash set.
    pub caps: Caps2,
}

/// Delivers each `<c xmlns='urn:xmpp:caps'/>` of a presence as an [`EntityCaps2`] (Packet key `caps2`).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut caps = xec.events::<moxl_xep::xep_0390_caps2::EntityCaps2>();
/// while let Some(c) = caps.recv().await {
///     if let Some(h) = c.caps.usable() {
///         println!("{} has caps {}", c.from, moxl_xep::xep_0390_caps2::hash_node(h));
///     }
/// }
/// # }
/// ```
#[payload(name = "c", ns = "urn:xmpp:caps", key = "caps2", at = "child")]
#[derive(Debug, Default)]
pub struct Caps2Payload;

impl Payload for Caps2Payload {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<EntityCaps2>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        let presence = stanza.is("presence", ns::CLIENT) && stanza.attr("type").as_deref() != Some("error");
        if presence
            && stanza.children().any(|c| c.ptr_eq(element))
            && let (Some(from), Some(caps)) = (stanza.attr("from").map(Cow::into_owned), Caps2::from_element(element))
        {
            ctx.pack(EntityCaps2 { from, caps }).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    // §4.5.1: the simple example
    const SIMPLE: &str = "<query xmlns='http://jabber.org/protocol/disco#info'>\
        <identity category='client' name='BombusMod' type='mobile'/>\
        <feature var='http://jabber.org/protocol/si'/><feature var='http://jabber.org/protocol/bytestreams'/>\
        <feature var='http://jabber.org/protocol/chatstates'/><feature var='http://jabber.org/protocol/disco#info'/>\
        <feature var='http://jabber.org/protocol/disco#items'/><feature var='urn:xmpp:ping'/>\
        <feature var='jabber:iq:time'/><feature var='jabber:iq:privacy'/><feature var='jabber:iq:version'/>\
        <feature var='http://jabber.org/protocol/rosterx'/><feature var='urn:xmpp:time'/><feature var='jabber:x:oob'/>\
        <feature var='http://jabber.org/protocol/ibb'/><feature var='http://jabber.org/protocol/si/profile/file-transfer'/>\
        <feature var='urn:xmpp:receipts'/><feature var='jabber:iq:roster'/><feature var='jabber:iq:last'/></query>";

    // §4.5.2: the complex example
    const COMPLEX_FEATURES: [&str; 42] = [
        "games:board",
        "http://jabber.org/protocol/activity",
        "http://jabber.org/protocol/activity+notify",
        "http://jabber.org/protocol/bytestreams",
        "http://jabber.org/protocol/chatstates",
        "http://jabber.org/protocol/commands",
        "http://jabber.org/protocol/disco#info",
        "http://jabber.org/protocol/disco#items",
        "http://jabber.org/protocol/evil",
        "http://jabber.org/protocol/feature-neg",
        "http://jabber.org/protocol/geoloc",
        "http://jabber.org/protocol/geoloc+notify",
        "http://jabber.org/protocol/ibb",
        "http://jabber.org/protocol/iqibb",
        "http://jabber.org/protocol/mood",
        "http://jabber.org/protocol/mood+notify",
        "http://jabber.org/protocol/rosterx",
        "http://jabber.org/protocol/si",
        "http://jabber.org/protocol/si/profile/file-transfer",
        "http://jabber.org/protocol/tune",
        "http://www.facebook.com/xmpp/messages",
        "http://www.xmpp.org/extensions/xep-0084.html#ns-metadata+notify",
        "jabber:iq:avatar",
        "jabber:iq:browse",
        "jabber:iq:dtcp",
        "jabber:iq:filexfer",
        "jabber:iq:ibb",
        "jabber:iq:inband",
        "jabber:iq:jidlink",
        "jabber:iq:last",
        "jabber:iq:oob",
        "jabber:iq:privacy",
        "jabber:iq:roster",
        "jabber:iq:time",
        "jabber:iq:version",
        "jabber:x:data",
        "jabber:x:event",
        "jabber:x:oob",
        "urn:xmpp:avatar:metadata+notify",
        "urn:xmpp:ping",
        "urn:xmpp:receipts",
        "urn:xmpp:time",
    ];

    fn complex() -> String {
        let features: String = COMPLEX_FEATURES
            .iter()
            .rev() // shuffled, as the XEP does, to exercise the sorting
            .map(|f| format!("<feature var='{f}'/>"))
            .collect();
        format!(
            "<query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='client' name='Tkabber' type='pc' xml:lang='en'/>\
             <identity category='client' name='Ткаббер' type='pc' xml:lang='ru'/>{features}\
             <x xmlns='jabber:x:data' type='result'><field type='hidden' var='FORM_TYPE'><value>urn:xmpp:dataforms:softwareinfo</value></field>\
             <field var='software'><value>Tkabber</value></field>\
             <field var='software_version'><value>0.11.1-svn-20111216-mod (Tcl/Tk 8.6b2)</value></field>\
             <field var='os'><value>Windows</value></field><field var='os_version'><value>XP</value></field></x></query>"
        )
    }

    fn b64(h: &Hash) -> String {
        encode_base64(&h.value)
    }

    #[test]
    fn the_xeps_test_vectors() {
        let simple = Element::parse(SIMPLE).unwrap();
        let input = hash_input_of_query(&simple).unwrap();
        assert_eq!(input.len(), 0x1d9);
        assert!(input.ends_with(b"client\x1fmobile\x1f\x1fBombusMod\x1f\x1e\x1c\x1c"));
        let info = DiscoInfo::from_query(&simple).unwrap();
        let set = hash_set(&info, &[Algo::Sha256, Algo::Sha3_256]).unwrap();
        assert_eq!(b64(&set[0]), "kzBZbkqJ3ADrj7v08reD1qcWUwNGHaidNUgD7nHpiw8=");
        assert_eq!(b64(&set[1]), "79mdYAfU9rEdTOcWDO7UEAt6E56SUzk/g6TnqUeuD9Q=");

        let query = Element::parse(&complex()).unwrap();
        let input = hash_input_of_query(&query).unwrap();
        assert_eq!(input.len(), 0x543);
        // the Extensions String of the example, ending the input
        assert!(input.ends_with(
            b"FORM_TYPE\x1furn:xmpp:dataforms:softwareinfo\x1f\x1eos\x1fWindows\x1f\x1eos_version\x1fXP\x1f\x1e\
              software\x1fTkabber\x1f\x1esoftware_version\x1f0.11.1-svn-20111216-mod (Tcl/Tk 8.6b2)\x1f\x1e\x1d\x1c"
        ));
        let info = DiscoInfo::from_query(&query).unwrap();
        let set = hash_set(&info, &[Algo::Sha256, Algo::Sha3_256]).unwrap();
        assert_eq!(b64(&set[0]), "u79ZroNJbdSWhdSp311mddz44oHHPsEBntQ5b1jqBSY=");
        assert_eq!(b64(&set[1]), "XpUJzLAc93258sMECZ3FJpebkzuyNXDzRNwQog8eycg=");
        assert!(set.iter().all(|h| verify(&info, h)));
        assert_eq!(parse_hash_node(&hash_node(&set[0])).as_ref(), Some(&set[0]));

        // §4.1 steps 2 and 3
        let bad =
            complex().replace("<field type='hidden' var='FORM_TYPE'>", "<field type='hidden' var='NOT_FORM_TYPE'>");
        assert_eq!(hash_input_of_query(&Element::parse(&bad).unwrap()), Err(InputError::NoFormType));
        let bad = complex().replace("</x>", "<reported><field var='a'/></reported></x>");
        assert_eq!(hash_input_of_query(&Element::parse(&bad).unwrap()), Err(InputError::ReportedOrItem));
        // an inherited xml:lang counts
        let inherited = SIMPLE.replace("disco#info'>", "disco#info' xml:lang='en'>");
        assert_ne!(
            hash_input_of_query(&Element::parse(&inherited).unwrap()).unwrap(),
            hash_input_of_query(&simple).unwrap()
        );
    }

    #[test]
    fn a_presence_hash_set_is_delivered() {
        let xec = Xec::new().unwrap();
        let mut caps = xec.events::<EntityCaps2>();
        // §5, with the simple example's hash set
        let p = "<presence xmlns='jabber:client' from='juliet@capulet.lit/balcony'><c xmlns='urn:xmpp:caps'>\
            <hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>kzBZbkqJ3ADrj7v08reD1qcWUwNGHaidNUgD7nHpiw8=</hash>\
            <hash xmlns='urn:xmpp:hashes:2' algo='sha3-256'>79mdYAfU9rEdTOcWDO7UEAt6E56SUzk/g6TnqUeuD9Q=</hash></c></presence>";
        block_on(xec.dispatch(Element::parse(p).unwrap()));
        let c = caps.try_recv().unwrap();
        assert_eq!((c.from.as_str(), c.caps.hashes.len()), ("juliet@capulet.lit/balcony", 2));
        let info = DiscoInfo::from_query(&Element::parse(SIMPLE).unwrap()).unwrap();
        assert!(verify(&info, c.caps.usable().unwrap()));
    }

    const SIMPLE_PRESENCE: &str = "<presence xmlns='jabber:client' from='juliet@capulet.lit/balcony'><c xmlns='urn:xmpp:caps'>\
        <hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>kzBZbkqJ3ADrj7v08reD1qcWUwNGHaidNUgD7nHpiw8=</hash>\
        <hash xmlns='urn:xmpp:hashes:2' algo='sha3-256'>79mdYAfU9rEdTOcWDO7UEAt6E56SUzk/g6TnqUeuD9Q=</hash></c>\
        <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://bombus' ver='bogus'/></presence>";

    #[test]
    fn our_presence_carries_both_hash_sets_and_we_answer_on_our_hash_nodes() {
        let xec = Xec::new().unwrap();
        let ctx = xec.context();
        ctx.send(moxl_core::stanza::presence(None, None)).unwrap();
        ctx.send(moxl_core::stanza::presence(Some("romeo@montague.lit/orchard"), None)).unwrap();
        ctx.send(moxl_core::stanza::presence(None, Some("unavailable"))).unwrap();
        let sent = xec.take_outgoing();
        let ours = our_caps2(&ctx).unwrap();
        assert!(our_info(&ctx).unwrap().has_feature(NS), "§5: urn:xmpp:caps is announced");
        for p in &sent[..2] {
            assert_eq!(Caps2::from_presence(p).as_ref(), Some(&ours));
            assert!(p.child("c", crate::xep_0115_caps::NS).is_some(), "beside the XEP-0115 <c/>");
        }
        assert!(Caps2::from_presence(&sent[2]).is_none());
        // §5: disco#info on each hash node is our info with that node; an unknown hash node is item-not-found
        for hash in &ours.hashes {
            let node = hash_node(hash);
            let get = format!(
                "<iq xmlns='jabber:client' type='get' from='romeo@montague.lit/orchard' id='q'>\
                 <query xmlns='http://jabber.org/protocol/disco#info' node='{node}'/></iq>"
            );
            block_on(xec.dispatch(Element::parse(&get).unwrap()));
            let reply = xec.take_outgoing().remove(0);
            assert_eq!(reply.attr("type").as_deref(), Some("result"));
            let info = DiscoInfo::from_stanza(&reply).unwrap();
            assert_eq!(info.node.as_deref(), Some(node.as_str()));
            assert!(verify(&info, hash));
        }
        let get = "<iq xmlns='jabber:client' type='get' from='romeo@montague.lit/orchard' id='q'>\
            <query xmlns='http://jabber.org/protocol/disco#info' node='urn:xmpp:caps#sha-256.kzBZbkqJ3ADrj7v08reD1qcWUwNGHaidNUgD7nHpiw8='/></iq>";
        block_on(xec.dispatch(Element::parse(get).unwrap()));
        assert!(xec.take_outgoing()[0].to_xml().contains("item-not-found"));
    }

    #[test]
    fn a_tracked_hash_set_is_queried_on_its_node_and_verified_before_it_is_cached() {
        use crate::xep_0115_caps::{EntityCaps, EntityFeatures, MemoryCapsStore};
        let caps = EntityCaps::with_store(std::sync::Arc::new(MemoryCapsStore::default()));
        let xec = Xec::builder().extension(caps.clone()).build().unwrap();
        let mut fetched = xec.subscribe("caps_fetch_handle");
        block_on(xec.dispatch(Element::parse(SIMPLE_PRESENCE).unwrap()));
        let out = xec.take_outgoing();
        assert_eq!(out.len(), 1, "the hash set is preferred to the XEP-0115 <c/>");
        let node = "urn:xmpp:caps#sha-256.kzBZbkqJ3ADrj7v08reD1qcWUwNGHaidNUgD7nHpiw8=";
        assert_eq!(out[0].child("query", NS_INFO).unwrap().attr("node").as_deref(), Some(node));
        // a poisoned answer (another info) is refused and not cached
        let id = out[0].attr("id").unwrap().into_owned();
        let wrong = format!(
            "<iq xmlns='jabber:client' type='result' from='juliet@capulet.lit/balcony' id='{id}'>\
             <query xmlns='http://jabber.org/protocol/disco#info' node='{node}'><feature var='urn:xmpp:ping'/></query></iq>"
        );
        block_on(xec.dispatch(Element::parse(&wrong).unwrap()));
        assert!(fetched.try_recv().is_none());
        assert!(caps.cached(node).is_none());
        // asked again: the right answer (§4.5.1's query) is verified and cached under the hash node
        block_on(xec.dispatch(Element::parse(SIMPLE_PRESENCE).unwrap()));
        let answer = SIMPLE.replace(
            "<query xmlns='http://jabber.org/protocol/disco#info'>",
            &format!("<query xmlns='http://jabber.org/protocol/disco#info' node='{node}'>"),
        );
        let reply = crate::test_util::answer_last(
            &xec,
            &format!("<iq xmlns='jabber:client' type='result' from='juliet@capulet.lit/balcony' id='ID'>{answer}</iq>"),
        );
        block_on(xec.dispatch(reply));
        let features = fetched.try_recv().unwrap();
        let features = features.content::<EntityFeatures>().unwrap();
        assert_eq!(features.ver, node);
        assert!(caps.cached(node).is_some());
        assert_eq!(caps.supports("juliet@capulet.lit/balcony", "urn:xmpp:receipts"), Some(true));
    }
}
