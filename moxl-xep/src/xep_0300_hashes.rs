//! XEP-0300: Use of Cryptographic Hash Functions in XMPP (namespace `urn:xmpp:hashes:2`). `<hash algo='…'>`
//! carries a base64 digest; [`Hash::compute`] and the streaming [`Hasher`] make one, [`verify`] checks received
//! bytes against what a sender announced (XEP-0447 files, XEP-0234 transfers).
//!
//! Algorithms (§4, with the IANA "Hash Function Textual Names"): `sha-256` (MUST), `sha-512`, `sha3-256`,
//! `sha3-512`, `blake2b-256` and `blake2b-512` (SHOULD). `sha-1` MUST NOT be used for integrity (§4): it is read
//! but never counts as a verification.
//!
//! ```
//! use moxl_xep::xep_0300_hashes::{verify, Algo, Hash, Verdict};
//! let announced = [Hash::compute(Algo::Sha256, b"summit.jpg bytes").unwrap()];
//! assert_eq!(verify(&announced, b"summit.jpg bytes"), Verdict::Verified);
//! assert!(matches!(verify(&announced, b"tampered"), Verdict::Mismatch(Algo::Sha256)));
//! ```

use std::borrow::Cow;

use blake2::{Blake2b, Blake2b512};
use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};
use sha2::digest::consts::U32;
use sha2::{Digest, Sha256, Sha512};
use sha3::{Sha3_256, Sha3_512};

use crate::xep_0054_vcard_temp::{decode_base64, encode_base64};

/// `urn:xmpp:hashes:2` (§3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0300_hashes::NS, "urn:xmpp:hashes:2");
/// ```
pub const NS: &str = "urn:xmpp:hashes:2";

// §5: the namespace, and one feature per supported function.
moxl_core::feature!(
    "urn:xmpp:hashes:2",
    "urn:xmpp:hash-function-text-names:sha-256",
    "urn:xmpp:hash-function-text-names:sha-512",
    "urn:xmpp:hash-function-text-names:sha3-256",
    "urn:xmpp:hash-function-text-names:sha3-512",
    "urn:xmpp:hash-function-text-names:id-blake2b256",
    "urn:xmpp:hash-function-text-names:id-blake2b512",
);

/// A hash function.
///
/// ```
/// use moxl_xep::xep_0300_hashes::Algo;
/// assert_eq!(Algo::from_name("sha3-256"), Algo::Sha3_256);
/// assert_eq!(Algo::from_name("id-blake2b256"), Algo::Blake2b256, "the older name XEP-0447's example uses");
/// assert_eq!(Algo::from_name("md5"), Algo::Other("md5".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Algo {
    /// `sha-1`: read, never trusted (§4).
    Sha1,
    /// `sha-256`.
    Sha256,
    /// `sha-512`.
    Sha512,
    /// `sha3-256`.
    Sha3_256,
    /// `sha3-512`.
    Sha3_512,
    /// `blake2b-256` (also `id-blake2b256`).
    Blake2b256,
    /// `blake2b-512` (also `id-blake2b512`).
    Blake2b512,
    /// Any other name.
    Other(String),
}

impl Algo {
    /// The algorithm of an `algo` attribute.
    pub fn from_name(name: &str) -> Algo {
        match name {
            "sha-1" => Algo::Sha1,
            "sha-256" => Algo::Sha256,
            "sha-512" => Algo::Sha512,
            "sha3-256" => Algo::Sha3_256,
            "sha3-512" => Algo::Sha3_512,
            "blake2b-256" | "id-blake2b256" => Algo::Blake2b256,
            "blake2b-512" | "id-blake2b512" => Algo::Blake2b512,
            other => Algo::Other(other.to_owned()),
        }
    }

    /// The name to send.
    pub fn name(&self) -> &str {
        match self {
            Algo::Sha1 => "sha-1",
            Algo::Sha256 => "sha-256",
            Algo::Sha512 => "sha-512",
            Algo::Sha3_256 => "sha3-256",
            Algo::Sha3_512 => "sha3-512",
            Algo::Blake2b256 => "blake2b-256",
            Algo::Blake2b512 => "blake2b-512",
            Algo::Other(name) => name,
        }
    }

    /// Whether a match with this function proves integrity (every known function but SHA-1).
    pub fn is_trusted(&self) -> bool {
        !matches!(self, Algo::Sha1 | Algo::Other(_))
    }
}

/// A digest with its function.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0300_hashes::{Algo, Hash};
/// // §3, Example 1
/// let e = Element::parse("<hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>2XarmwTlNxDAMkvymloX3S5+VbylNrJt/l5QyPa+YoU=</hash>")?;
/// let h = Hash::from_element(&e).unwrap();
/// assert_eq!((h.algo.clone(), h.value.len()), (Algo::Sha256, 32));
/// assert_eq!(h.to_element().build()?.to_xml(), "<hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>2XarmwTlNxDAMkvymloX3S5+VbylNrJt/l5QyPa+YoU=</hash>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hash {
    /// The function.
    pub algo: Algo,
    /// The digest.
    pub value: Vec<u8>,
}

impl Hash {
    /// The digest of `bytes` (`None` for a function this module does not compute, [`Algo::Other`]).
    ///
    /// ```
    /// use moxl_xep::xep_0300_hashes::{Algo, Hash};
    /// assert_eq!(Hash::compute(Algo::Sha512, b"").map(|h| h.value.len()), Some(64));
    /// assert_eq!(Hash::compute(Algo::Other("md5".into()), b""), None);
    /// ```
    pub fn compute(algo: Algo, bytes: &[u8]) -> Option<Hash> {
        let mut h = Hasher::new(&algo)?;
        h.update(bytes);
        Some(h.finish())
    }

    /// Reads a `<hash/>` (a missing `algo`, or a value that is not base64, gives `None`).
    pub fn from_element(e: &Element) -> Option<Hash> {
        if !e.is("hash", NS) {
            return None;
        }
        let algo = Algo::from_name(&e.attr("algo").filter(|a| !a.is_empty())?);
        Some(Hash { algo, value: decode_base64(&e.text())? })
    }

    /// Every `<hash/>` directly inside `parent`.
    pub fn all_in(parent: &Element) -> Vec<Hash> {
        parent.children().filter_map(|c| Hash::from_element(&c)).collect()
    }

    /// The element.
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("hash", NS).attr("algo", self.algo.name().to_owned()).text(encode_base64(&self.value))
    }
}

/// `<hash-used algo='…'/>` (§3): asks for a hash computed with that function (a XEP-0234 request names the
/// function the other side must use).
///
/// ```
/// use moxl_xep::xep_0300_hashes::{hash_used, Algo};
/// assert_eq!(hash_used(&Algo::Sha256).build()?.to_xml(), "<hash-used xmlns='urn:xmpp:hashes:2' algo='sha-256'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn hash_used(algo: &Algo) -> ElementBuilder {
    ElementBuilder::new("hash-used", NS).attr("algo", algo.name().to_owned())
}

/// The function a `<hash-used/>` names.
pub fn hash_used_of(e: &Element) -> Option<Algo> {
    e.is("hash-used", NS).then(|| e.attr("algo").map(Cow::into_owned)).flatten().map(|a| Algo::from_name(&a))
}

/// A digest computed as the bytes arrive (a file transfer of any size in constant memory).
///
/// ```
/// use moxl_xep::xep_0300_hashes::{Algo, Hash, Hasher};
/// let mut h = Hasher::new(&Algo::Blake2b256).unwrap();
/// h.update(b"summit");
/// h.update(b".jpg");
/// assert_eq!(Some(h.finish()), Hash::compute(Algo::Blake2b256, b"summit.jpg"));
/// ```
#[derive(Debug, Clone)]
pub struct Hasher(Inner);

#[derive(Debug, Clone)]
enum Inner {
    Sha1(sha1::Sha1),
    Sha256(Sha256),
    Sha512(Sha512),
    Sha3_256(Sha3_256),
    Sha3_512(Sha3_512),
    Blake2b256(Blake2b<U32>),
    Blake2b512(Blake2b512),
}

impl Hasher {
    /// A hasher for `algo`; `None` for a function this module does not compute.
    pub fn new(algo: &Algo) -> Option<Hasher> {
        Some(Hasher(match algo {
            Algo::Sha1 => Inner::Sha1(sha1::Sha1::new()),
            Algo::Sha256 => Inner::Sha256(Sha256::new()),
            Algo::Sha512 => Inner::Sha512(Sha512::new()),
            Algo::Sha3_256 => Inner::Sha3_256(Sha3_256::new()),
            Algo::Sha3_512 => Inner::Sha3_512(Sha3_512::new()),
            Algo::Blake2b256 => Inner::Blake2b256(Blake2b::<U32>::new()),
            Algo::Blake2b512 => Inner::Blake2b512(Blake2b512::new()),
            Algo::Other(_) => return None,
        }))
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.0 {
            Inner::Sha1(h) => sha1::Digest::update(h, bytes),
            Inner::Sha256(h) => h.update(bytes),
            Inner::Sha512(h) => h.update(bytes),
            Inner::Sha3_256(h) => h.update(bytes),
            Inner::Sha3_512(h) => h.update(bytes),
            Inner::Blake2b256(h) => h.update(bytes),
            Inner::Blake2b512(h) => h.update(bytes),
        }
    }

    fn algo(&self) -> Algo {
        match self.0 {
            Inner::Sha1(_) => Algo::Sha1,
            Inner::Sha256(_) => Algo::Sha256,
            Inner::Sha512(_) => Algo::Sha512,
            Inner::Sha3_256(_) => Algo::Sha3_256,
            Inner::Sha3_512(_) => Algo::Sha3_512,
            Inner::Blake2b256(_) => Algo::Blake2b256,
            Inner::Blake2b512(_) => Algo::Blake2b512,
        }
    }

    fn finish_bytes(self) -> Vec<u8> {
        match self.0 {
            Inner::Sha1(h) => sha1::Digest::finalize(h).to_vec(),
            Inner::Sha256(h) => h.finalize().to_vec(),
            Inner::Sha512(h) => h.finalize().to_vec(),
            Inner::Sha3_256(h) => h.finalize().to_vec(),
            Inner::Sha3_512(h) => h.finalize().to_vec(),
            Inner::Blake2b256(h) => h.finalize().to_vec(),
            Inner::Blake2b512(h) => h.finalize().to_vec(),
        }
    }

    /// The digest.
    pub fn finish(self) -> Hash {
        let algo = self.algo();
        Hash { algo, value: self.finish_bytes() }
    }
}

/// The outcome of checking bytes against announced hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Every announced hash with a trusted function matched, and there was at least one.
    Verified,
    /// The hash with this function did not match: the bytes are not the announced file.
    Mismatch(Algo),
    /// No announced hash uses a function that proves integrity (none, only SHA-1, or unknown ones): the bytes
    /// cannot be checked (XEP-0447 §6: then trust only the original sender's secure sources).
    Unverifiable,
}

/// Checks `bytes` against every announced hash (XEP-0447 § "Attaching a source": *all* hashes must match).
pub fn verify(announced: &[Hash], bytes: &[u8]) -> Verdict {
    let mut hashers: Vec<(Hasher, &Hash)> =
        announced.iter().filter(|h| h.algo.is_trusted()).filter_map(|h| Some((Hasher::new(&h.algo)?, h))).collect();
    for (hasher, _) in &mut hashers {
        hasher.update(bytes);
    }
    verdict(hashers)
}

/// The same over bytes hashed as they arrived: `hashers` from [`hashers_for`], fed with every chunk.
pub fn verify_streamed(hashers: Vec<(Hasher, &Hash)>) -> Verdict {
    verdict(hashers)
}

/// One [`Hasher`] per announced hash that proves integrity, to feed as the bytes arrive and give to
/// [`verify_streamed`].
///
/// ```
/// use moxl_xep::xep_0300_hashes::{hashers_for, verify_streamed, Algo, Hash, Verdict};
/// let announced = [Hash::compute(Algo::Sha3_256, b"0123456789").unwrap()];
/// let mut hashers = hashers_for(&announced);
/// for chunk in [&b"01234"[..], b"56789"] {
///     hashers.iter_mut().for_each(|(h, _)| h.update(chunk));
/// }
/// assert_eq!(verify_streamed(hashers), Verdict::Verified);
/// ```
pub fn hashers_for(announced: &[Hash]) -> Vec<(Hasher, &Hash)> {
    announced.iter().filter(|h| h.algo.is_trusted()).filter_map(|h| Some((Hasher::new(&h.algo)?, h))).collect()
}

fn verdict(hashers: Vec<(Hasher, &Hash)>) -> Verdict {
    if hashers.is_empty() {
        return Verdict::Unverifiable;
    }
    for (hasher, expected) in hashers {
        if hasher.finish_bytes() != expected.value {
            return Verdict::Mismatch(expected.algo.clone());
        }
    }
    Verdict::Verified
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_and_verdicts() {
        // FIPS 180-2 / FIPS 202 / RFC 7693 digests of "abc"
        let hex = |algo: Algo| {
            Hash::compute(algo, b"abc").unwrap().value.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        assert!(hex(Algo::Sha256).starts_with("ba7816bf8f01cfea"));
        assert!(hex(Algo::Sha3_256).starts_with("3a985da74fe225b2"));
        assert!(hex(Algo::Blake2b512).starts_with("ba80a53f981c4d0d"));
        let sha1_only = [Hash::compute(Algo::Sha1, b"x").unwrap()];
        assert_eq!(verify(&sha1_only, b"x"), Verdict::Unverifiable, "SHA-1 proves nothing");
        assert_eq!(verify(&[], b"x"), Verdict::Unverifiable);
        let both = [Hash::compute(Algo::Sha256, b"x").unwrap(), Hash { algo: Algo::Sha512, value: vec![0; 64] }];
        assert_eq!(verify(&both, b"x"), Verdict::Mismatch(Algo::Sha512), "all must match");
        let unknown = Element::parse("<hash xmlns='urn:xmpp:hashes:2' algo='md5'>AAAA</hash>").unwrap();
        assert_eq!(Hash::from_element(&unknown).unwrap().algo, Algo::Other("md5".into()));
        assert!(Hash::from_element(&Element::parse("<hash xmlns='urn:xmpp:hashes:2'>AAAA</hash>").unwrap()).is_none());
    }
}
