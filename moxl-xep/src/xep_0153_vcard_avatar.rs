//! XEP-0153: vCard-Based Avatars. The avatar hash carried in presence
//! (`<x xmlns='vcard-temp:x:update'><photo>SHA-1</photo></x>`, §3.1): [`with_photo_hash`] adds ours to a
//! presence, [`PhotoUpdate`] reads a contact's, and the [`AvatarUpdates`] Payload delivers each contact's as
//! a Packet (key `avatarupdate`), for the application to fetch the vCard (XEP-0054) when the hash changed.
//!
//! The hash is the hex SHA-1 of the image bytes ([`photo_hash`], §3.1), the same value as a XEP-0084 avatar
//! id; Prosody's `mod_vcard_legacy` fills it in from the XEP-0084 metadata of the account.

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use sha1::{Digest as _, Sha1};

/// `vcard-temp:x:update` (§3.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0153_vcard_avatar::NS, "vcard-temp:x:update");
/// ```
pub const NS: &str = "vcard-temp:x:update";

/// The hex SHA-1 of image bytes, lowercase (§3.1; also the item id of XEP-0084 §4.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0153_vcard_avatar::photo_hash(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
/// ```
pub fn photo_hash(bytes: &[u8]) -> String {
    Sha1::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// What a presence says of the sender's vCard avatar (§3.2, §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PhotoUpdate {
    /// `<photo>hash</photo>`: the current avatar's hash.
    Hash(String),
    /// `<photo/>`: no avatar.
    NoAvatar,
    /// `<x/>` without `<photo/>`: the client does not know yet (it has not fetched its vCard, §4.1); keep
    /// the hash you had.
    NotReady,
}

impl PhotoUpdate {
    /// Reads the `<x xmlns='vcard-temp:x:update'/>` of a presence (`None` if it has none, or is not an
    /// available presence: `unavailable` and `error` carry no avatar).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0153_vcard_avatar::PhotoUpdate;
    /// // §3.2, Example 3
    /// let p = Element::parse("<presence xmlns='jabber:client' from='juliet@capulet.com/balcony'>\
    ///     <x xmlns='vcard-temp:x:update'><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo></x></presence>")?;
    /// assert_eq!(PhotoUpdate::from_presence(&p), Some(PhotoUpdate::Hash("01b87fcd030b72895ff8e88db57ec525450f000d".into())));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_presence(presence: &Element) -> Option<PhotoUpdate> {
        if !presence.is("presence", ns::CLIENT) || presence.attr("type").is_some() {
            return None;
        }
        let x = presence.child("x", NS)?;
        Some(match x.child("photo", NS) {
            None => PhotoUpdate::NotReady,
            Some(p) => match p.text().trim() {
                "" => PhotoUpdate::NoAvatar,
                hash => PhotoUpdate::Hash(hash.to_ascii_lowercase()),
            },
        })
    }
}

/// Adds our avatar's `<x xmlns='vcard-temp:x:update'/>` to a presence (§3.1): `Some(hash)` for an avatar
/// (see [`photo_hash`]), `Some("")` for none (`<photo/>`), `None` while we do not know (`<x/>` alone, §4.1).
///
/// ```
/// use moxl_core::stanza::presence;
/// use moxl_xep::xep_0153_vcard_avatar::with_photo_hash;
/// let p = with_photo_hash(presence(None, None), Some("sha1-hash")).build()?;
/// assert_eq!(p.to_xml(), "<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'><photo>sha1-hash</photo></x></presence>");
/// let none = with_photo_hash(presence(None, None), Some("")).build()?;
/// assert_eq!(none.to_xml(), "<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'><photo/></x></presence>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn with_photo_hash(presence: ElementBuilder, hash: Option<&str>) -> ElementBuilder {
    let x = ElementBuilder::new("x", NS);
    let x = match hash {
        Some("") => x.append(ElementBuilder::new("photo", NS)),
        Some(h) => x.text_child("photo", h.to_owned()),
        None => x,
    };
    presence.append(x)
}

/// A contact's avatar hash, read from its presence.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AvatarUpdate {
    /// The presence's sender (a full JID).
    pub from: String,
    /// What it says.
    pub photo: PhotoUpdate,
}

/// Delivers the avatar hash of every available presence that carries one, as an [`AvatarUpdate`] (Packet key
/// `avatarupdate`; the Packet's sender is the presence's). Our own presences reflected by the server come too
/// (compare with the account).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0153_vcard_avatar::{AvatarUpdate, PhotoUpdate};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// // the typed view of the Packets keyed `avatarupdate`
/// let mut updates = xec.events::<AvatarUpdate>();
/// xec.dispatch(Element::parse("<presence xmlns='jabber:client' from='juliet@capulet.com/balcony'>\
///     <x xmlns='vcard-temp:x:update'><photo/></x></presence>")?).await;
/// let u = updates.try_recv().unwrap();
/// assert_eq!(u.photo, PhotoUpdate::NoAvatar);
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "x", ns = "vcard-temp:x:update", key = "avatarupdate", at = "child")]
#[derive(Debug, Default)]
pub struct AvatarUpdates;

impl Payload for AvatarUpdates {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let (Some(photo), Some(from)) = (PhotoUpdate::from_presence(stanza), stanza.attr("from")) {
            ctx.pack(AvatarUpdate { from: from.into_owned(), photo }).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    #[test]
    fn reads_the_three_states_and_ignores_the_rest() {
        let read = |xml: &str| PhotoUpdate::from_presence(&Element::parse(xml).unwrap());
        let p = "<presence xmlns='jabber:client' from='a@b/c'";
        assert_eq!(
            read(&format!("{p}><x xmlns='vcard-temp:x:update'><photo>ABCDEF</photo></x></presence>")),
            Some(PhotoUpdate::Hash("abcdef".into()))
        );
        assert_eq!(read(&format!("{p}><x xmlns='vcard-temp:x:update'/></presence>")), Some(PhotoUpdate::NotReady));
        assert_eq!(
            read(&format!("{p} type='unavailable'><x xmlns='vcard-temp:x:update'><photo/></x></presence>")),
            None
        );
        assert_eq!(read(&format!("{p}/>")), None);
        assert_eq!(read("<message xmlns='jabber:client'><x xmlns='vcard-temp:x:update'/></message>"), None);
    }

    #[test]
    fn our_presence_reads_back() {
        let hash = photo_hash(b"\x89PNG");
        let p = with_photo_hash(moxl_core::stanza::presence(None, None), Some(&hash)).build().unwrap();
        assert_eq!(PhotoUpdate::from_presence(&p), Some(PhotoUpdate::Hash(hash)));
        let p = with_photo_hash(moxl_core::stanza::presence(None, None), None).build().unwrap();
        assert_eq!(PhotoUpdate::from_presence(&p), Some(PhotoUpdate::NotReady));
    }

    #[test]
    fn the_payload_delivers_only_presence_children() {
        let xec = Xec::new().unwrap();
        let mut updates = xec.subscribe("avatarupdate");
        let hash = "01b87fcd030b72895ff8e88db57ec525450f000d";
        block_on(
            xec.dispatch(
                Element::parse(&format!(
                    "<presence xmlns='jabber:client' from='juliet@capulet.com/balcony'>\
                 <x xmlns='vcard-temp:x:update'><photo>{hash}</photo></x></presence>"
                ))
                .unwrap(),
            ),
        );
        let p = updates.try_recv().unwrap();
        assert_eq!(p.from(), Some("juliet@capulet.com/balcony"));
        assert_eq!(p.content::<AvatarUpdate>().unwrap().photo, PhotoUpdate::Hash(hash.into()));
        block_on(
            xec.dispatch(
                Element::parse(
                    "<message xmlns='jabber:client' from='a@b/c'><x xmlns='vcard-temp:x:update'><photo/></x></message>",
                )
                .unwrap(),
            ),
        );
        assert!(updates.try_recv().is_none());
    }
}
