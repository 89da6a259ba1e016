//! XEP-0084: User Avatar. The image goes to our PEP node `urn:xmpp:avatar:data` (base64, item id = the hex
//! SHA-1 of the bytes, §4.1) and its description to `urn:xmpp:avatar:metadata` (§4.2); contacts learn of it
//! from metadata notifications (we declare `urn:xmpp:avatar:metadata+notify`, §4.3) and fetch the data by id
//! (§4.4). An empty metadata element disables the avatar (§4.5).
//!
//! - [`Publish`]: data, then metadata, in one Action; [`Disable`]; [`GetMetadata`]; [`GetData`], which checks
//!   that the bytes hash to the id asked for.
//! - [`AvatarMetadataEvents`]: metadata notifications as [`UserData`]`<`[`Metadata`]`>` (key `avatarmetadata`).
//!
//! Image bytes are bytes (`Vec<u8>`); base64 text is decoded with whitespace skipped
//! ([`decode_base64`]). The id is the same value as the XEP-0153
//! presence hash ([`photo_hash`]).

use moxl_core::stanza::StanzaError;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0054_vcard_temp::{decode_base64, encode_base64};
use crate::xep_0060_pubsub::{self as pubsub, Item};
use crate::xep_0080_geoloc::{PepData, UserData};
pub use crate::xep_0153_vcard_avatar::photo_hash;

/// `urn:xmpp:avatar:data` (§4.1): the data node and the namespace of `<data/>`.
///
/// ```
/// assert_eq!(moxl_xep::xep_0084_avatar::NS_DATA, "urn:xmpp:avatar:data");
/// ```
pub const NS_DATA: &str = "urn:xmpp:avatar:data";

/// `urn:xmpp:avatar:metadata` (§4.2): the metadata node and the namespace of `<metadata/>`.
///
/// ```
/// assert_eq!(moxl_xep::xep_0084_avatar::NS_METADATA, "urn:xmpp:avatar:metadata");
/// ```
pub const NS_METADATA: &str = "urn:xmpp:avatar:metadata";

moxl_core::feature!("urn:xmpp:avatar:metadata+notify");

/// One image of the metadata (`<info/>`, §4.2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AvatarInfo {
    /// The hex SHA-1 of the image bytes: the item id of the data.
    pub id: String,
    /// The size in bytes.
    pub bytes: u64,
    /// The MIME type (`image/png` SHOULD be offered, §4.2.1).
    pub media_type: String,
    /// Width in pixels.
    pub width: Option<u16>,
    /// Height in pixels.
    pub height: Option<u16>,
    /// Where to get the image over HTTP instead of from the data node.
    pub url: Option<String>,
}

impl AvatarInfo {
    /// The description of `image` (its id and size computed).
    ///
    /// ```
    /// let info = moxl_xep::xep_0084_avatar::AvatarInfo::of(b"\x89PNG", "image/png");
    /// assert_eq!((info.bytes, info.id.len()), (4, 40));
    /// ```
    pub fn of(image: &[u8], media_type: impl Into<String>) -> AvatarInfo {
        AvatarInfo {
            id: photo_hash(image),
            bytes: image.len() as u64,
            media_type: media_type.into(),
            width: None,
            height: None,
            url: None,
        }
    }

    /// With its dimensions.
    ///
    /// ```
    /// let info = moxl_xep::xep_0084_avatar::AvatarInfo::of(b"x", "image/png").with_size(64, 48);
    /// assert_eq!((info.width, info.height), (Some(64), Some(48)));
    /// ```
    pub fn with_size(mut self, width: u16, height: u16) -> AvatarInfo {
        self.width = Some(width);
        self.height = Some(height);
        self
    }

    fn from_element(i: &Element) -> Option<AvatarInfo> {
        let attr = |name: &str| i.attr(name).map(|v| v.into_owned());
        Some(AvatarInfo {
            id: attr("id").filter(|id| !id.is_empty())?,
            bytes: attr("bytes")?.trim().parse().ok()?,
            media_type: attr("type")?,
            width: attr("width").and_then(|w| w.trim().parse().ok()),
            height: attr("height").and_then(|h| h.trim().parse().ok()),
            url: attr("url"),
        })
    }

    fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("info", NS_METADATA)
            .attr("bytes", self.bytes.to_string())
            .attr_opt("height", self.height.map(|h| h.to_string()))
            .attr("id", self.id.clone())
            .attr("type", self.media_type.clone())
            .attr_opt("url", self.url.clone())
            .attr_opt("width", self.width.map(|w| w.to_string()))
    }
}

/// The metadata (`<metadata/>`, §4.2): the images on offer, the first being the one in the data node.
/// Empty: the avatar is disabled (§4.5).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::PepData;
/// use moxl_xep::xep_0084_avatar::Metadata;
/// // §4.2, Example 3 (abridged)
/// let m = Element::parse("<metadata xmlns='urn:xmpp:avatar:metadata'>\
///     <info bytes='12345' width='64' height='64' id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f' type='image/png'/>\
///     </metadata>")?;
/// let m = Metadata::from_element(&m).unwrap();
/// assert_eq!(m.infos[0].width, Some(64));
/// assert_eq!(Metadata::from_element(&m.to_element().build()?), Some(m));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Metadata {
    /// The `<info/>` elements (an incomplete one is left out).
    pub infos: Vec<AvatarInfo>,
}

impl Metadata {
    /// Whether the avatar is disabled (§4.5).
    ///
    /// ```
    /// assert!(moxl_xep::xep_0084_avatar::Metadata::default().is_disabled());
    /// ```
    pub fn is_disabled(&self) -> bool {
        self.infos.is_empty()
    }

    /// The image in the data node (the first without a URL, §4.2.1).
    ///
    /// ```
    /// use moxl_xep::xep_0084_avatar::{AvatarInfo, Metadata};
    /// let mut m = Metadata::default();
    /// m.infos.push(AvatarInfo::of(b"x", "image/png"));
    /// assert_eq!(m.current().map(|i| i.bytes), Some(1));
    /// ```
    pub fn current(&self) -> Option<&AvatarInfo> {
        self.infos.iter().find(|i| i.url.is_none())
    }
}

impl PepData for Metadata {
    const NODE: &'static str = NS_METADATA;

    fn from_element(m: &Element) -> Option<Metadata> {
        if !m.is("metadata", NS_METADATA) {
            return None;
        }
        let infos = m.children().filter(|i| i.is("info", NS_METADATA)).filter_map(|i| AvatarInfo::from_element(&i));
        Some(Metadata { infos: infos.collect() })
    }

    fn to_element(&self) -> ElementBuilder {
        self.infos.iter().fold(ElementBuilder::new("metadata", NS_METADATA), |m, i| m.append(i.to_element()))
    }
}

/// The publish of the image bytes (§4.1, Example 1: item id = [`photo_hash`] of the bytes).
///
/// ```
/// let iq = moxl_xep::xep_0084_avatar::publish_data(b"hello").build()?;
/// assert!(iq.to_xml().contains("<publish node='urn:xmpp:avatar:data'><item id='aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d'>\
///     <data xmlns='urn:xmpp:avatar:data'>aGVsbG8=</data></item></publish>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn publish_data(image: &[u8]) -> ElementBuilder {
    let data = ElementBuilder::new("data", NS_DATA).text(encode_base64(image));
    pubsub::publish(None, NS_DATA, Some(&photo_hash(image)), data)
}

/// The publish of the metadata (§4.2, Example 3: item id = the id of its first image; an empty metadata,
/// which disables the avatar, gets the id `current`, §4.5).
///
/// ```
/// use moxl_xep::xep_0084_avatar::{publish_metadata, AvatarInfo, Metadata};
/// let mut m = Metadata::default();
/// m.infos.push(AvatarInfo::of(b"hello", "image/png"));
/// let iq = publish_metadata(&m).build()?;
/// assert!(iq.to_xml().contains("<item id='aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d'><metadata xmlns='urn:xmpp:avatar:metadata'>\
///     <info bytes='5' id='aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d' type='image/png'/></metadata>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn publish_metadata(metadata: &Metadata) -> ElementBuilder {
    let id = metadata.infos.first().map_or("current", |i| i.id.as_str());
    pubsub::publish(None, NS_METADATA, Some(id), metadata.to_element())
}

/// The request of the image `id` of `from` (`None`: ours; §4.4).
///
/// ```
/// let iq = moxl_xep::xep_0084_avatar::fetch_data(Some("juliet@capulet.lit"), "111f4b3c50d7b0df729d299bc6f8e9ef9066971f").build()?;
/// assert!(iq.to_xml().contains("<items node='urn:xmpp:avatar:data'><item id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f'/></items>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn fetch_data(from: Option<&str>, id: &str) -> ElementBuilder {
    pubsub::items_by_id(from, NS_DATA, [id])
}

/// An image fetched and checked: its bytes hash to its id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AvatarImage {
    /// The hex SHA-1 of the bytes.
    pub id: String,
    /// The image.
    pub bytes: Vec<u8>,
}

/// Why a fetched image was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AvatarError {
    /// No `<data/>` item with that id in the result.
    Missing {
        /// The id asked for.
        id: String,
    },
    /// The text is not base64.
    NotBase64 {
        /// The id asked for.
        id: String,
    },
    /// The bytes hash to another id (§4.1: the id MUST be the SHA-1 of the bytes).
    HashMismatch {
        /// The id asked for.
        id: String,
        /// The hash of what came.
        actual: String,
    },
}

impl std::fmt::Display for AvatarError {
    /// ```
    /// use moxl_xep::xep_0084_avatar::AvatarError;
    /// assert_eq!(AvatarError::Missing { id: "ab".into() }.to_string(), "avatar ab: no such data item");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AvatarError::Missing { id } => write!(f, "avatar {id}: no such data item"),
            AvatarError::NotBase64 { id } => write!(f, "avatar {id}: the data is not base64"),
            AvatarError::HashMismatch { id, actual } => write!(f, "avatar {id}: the bytes hash to {actual}"),
        }
    }
}

impl std::error::Error for AvatarError {}

/// Reads and checks the image `id` in an items result.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0084_avatar::{image_in, AvatarError};
/// let r = Element::parse("<iq xmlns='jabber:client' type='result' id='1'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
///     <items node='urn:xmpp:avatar:data'><item id='aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d'>\
///     <data xmlns='urn:xmpp:avatar:data'>aGVs\n bG8=</data></item></items></pubsub></iq>")?;
/// assert_eq!(image_in(&r, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d").unwrap().bytes, b"hello");
/// assert!(matches!(image_in(&r, "0000"), Err(AvatarError::Missing { .. })));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn image_in(stanza: &Element, id: &str) -> std::result::Result<AvatarImage, AvatarError> {
    let missing = || AvatarError::Missing { id: id.to_owned() };
    let item = Item::all_in(stanza).into_iter().find(|i| i.id.as_deref() == Some(id)).ok_or_else(missing)?;
    let data = item.payload.filter(|p| p.is("data", NS_DATA)).ok_or_else(missing)?;
    let bytes = decode_base64(&data.text()).ok_or_else(|| AvatarError::NotBase64 { id: id.to_owned() })?;
    let actual = photo_hash(&bytes);
    if !actual.eq_ignore_ascii_case(id) {
        return Err(AvatarError::HashMismatch { id: id.to_owned(), actual });
    }
    Ok(AvatarImage { id: actual, bytes })
}

/// Which request a [`Publish`] is at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PublishStep {
    /// Publishing the data (§4.1).
    #[default]
    Data,
    /// Publishing the metadata (§4.2), after the data was stored.
    Metadata,
}

/// Publishes our avatar: the data, then (once the data is stored, as §4.2 asks) the metadata. Its `Output` is
/// the [`AvatarInfo`] published: `ctx.request(publish)?.await` resolves once both are stored (or with the error
/// of either step).
///
/// | outcome | Packet key | content |
/// |---|---|---|
/// | both published | `avatar_publish_handle` | the [`AvatarInfo`] |
/// | either refused | `avatar_publish_error` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0084_avatar::Publish;
/// # async fn run(xec: &moxl_core::xec::Xec, png: Vec<u8>) -> moxl_core::Result<()> {
/// let info = xec.context().request(Publish::new(png, "image/png").with_size(64, 64))?.await?;
/// println!("our avatar is {}", info.id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Publish {
    /// The step.
    pub step: PublishStep,
    /// The image.
    pub image: Vec<u8>,
    /// Its description.
    pub info: AvatarInfo,
}

impl Publish {
    /// Publishes `image` of type `media_type`.
    ///
    /// ```
    /// let p = moxl_xep::xep_0084_avatar::Publish::new(b"hello".to_vec(), "image/png");
    /// assert_eq!(p.info.id, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
    /// ```
    pub fn new(image: Vec<u8>, media_type: impl Into<String>) -> Publish {
        let info = AvatarInfo::of(&image, media_type);
        Publish { step: PublishStep::Data, image, info }
    }

    /// With the image's dimensions in the metadata.
    ///
    /// ```
    /// let p = moxl_xep::xep_0084_avatar::Publish::new(vec![1], "image/png").with_size(32, 32);
    /// assert_eq!(p.info.width, Some(32));
    /// ```
    pub fn with_size(mut self, width: u16, height: u16) -> Publish {
        self.info = self.info.with_size(width, height);
        self
    }
}

#[action(group = "avatar")]
impl Publish {
    /// The published metadata of the image.
    type Output = AvatarInfo;

    fn request(&self) -> ElementBuilder {
        match self.step {
            PublishStep::Data => publish_data(&self.image),
            PublishStep::Metadata => publish_metadata(&Metadata { infos: vec![self.info.clone()] }),
        }
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) -> Result<AvatarInfo> {
        if self.step == PublishStep::Data {
            // The metadata step needs no bytes: leave them out of its saved state. The requester awaits it.
            let next = Publish { step: PublishStep::Metadata, image: Vec::new(), info: self.info.clone() };
            ctx.continue_with(next)?;
        }
        Ok(self.info.clone())
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Disables our avatar: publishes an empty metadata (§4.5).
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `avatar_disable_handle` | none |
/// | error | `avatar_disable_error` | the [`StanzaError`] |
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(moxl_xep::xep_0084_avatar::Disable)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Disable;

#[action(group = "avatar")]
impl Disable {
    fn request(&self) -> ElementBuilder {
        publish_metadata(&Metadata::default())
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Reads the avatar metadata of `from` (`None`: ours; the last item, §4.3). Its `Output` is the
/// [`UserData`]`<`[`Metadata`]`>` read; the Packets are the second view.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `avatar_getmetadata_handle` | [`UserData`]`<`[`Metadata`]`>` |
/// | error (`item-not-found`: no avatar ever) | `avatar_getmetadata_error<condition>` | the [`StanzaError`] |
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let read = xec.context().request(moxl_xep::xep_0084_avatar::GetMetadata { from: Some("juliet@capulet.lit".into()) })?.await?;
/// if let Some(current) = read.data.as_ref().and_then(|m| m.current()) {
///     println!("fetch {} unless cached", current.id);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GetMetadata {
    /// Whose (a bare JID); `None` for ours.
    pub from: Option<String>,
}

#[action(group = "avatar")]
impl GetMetadata {
    /// What was read: the publisher, the item id and the data (`None`: nothing published).
    type Output = UserData<Metadata>;

    fn request(&self) -> ElementBuilder {
        crate::xep_0080_geoloc::fetch_data::<Metadata>(self.from.as_deref())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<UserData<Metadata>> {
        Ok(UserData::<Metadata>::from_result(stanza))
    }
}

/// Fetches the image `id` of `from` (`None`: ours; §4.4) and checks it. Its `Output` is the [`AvatarImage`];
/// an image that is missing, not base64 or hashes to another id makes the request resolve to
/// `Err(Error::Handler(..))` (its [`AvatarError`] is the Packet), an error reply to `Err(Error::Stanza(..))`.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result, the bytes hash to `id` | `avatar_getdata_handle` | [`AvatarImage`] |
/// | result without it, not base64, or another hash | `avatar_getdata_handle` | [`AvatarError`] |
/// | error (`item-not-found`) | `avatar_getdata_error<condition>` | the [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0084_avatar::{AvatarImage, GetData};
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let id = "111f4b3c50d7b0df729d299bc6f8e9ef9066971f";
/// let image: AvatarImage = xec.context().request(GetData { from: Some("juliet@capulet.lit".into()), id: id.into() })?.await?;
/// assert_eq!(image.id, id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GetData {
    /// Whose (a bare JID); `None` for ours.
    pub from: Option<String>,
    /// The image id (from the metadata).
    pub id: String,
}

#[action(group = "avatar")]
impl GetData {
    /// The image, its bytes checked against the id (SHA-1, §4.1).
    type Output = AvatarImage;

    fn request(&self) -> ElementBuilder {
        fetch_data(self.from.as_deref(), &self.id)
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<AvatarImage> {
        image_in(stanza, &self.id).map_err(|e| {
            // The requester gets Err(Error::Handler); the Packet view keeps the typed reason.
            let message = e.to_string();
            ctx.pack(e).deliver();
            moxl_core::Error::handler(message)
        })
    }
}

/// Delivers avatar metadata notifications (§4.3) as [`UserData`]`<`[`Metadata`]`>` (Packet key
/// `avatarmetadata`, sender the publisher); fetch the data with [`GetData`] when the id is new.
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0080_geoloc::UserData;
/// use moxl_xep::xep_0084_avatar::Metadata;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// // the typed view of the Packets keyed `avatarmetadata`
/// let mut avatars = xec.events::<UserData<Metadata>>();
/// // §4.3, Example 4 (abridged)
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' to='romeo@montague.lit/home' from='juliet@capulet.lit'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:metadata'>\
///     <item id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f'><metadata xmlns='urn:xmpp:avatar:metadata'>\
///     <info bytes='12345' width='64' height='64' id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f' type='image/png'/>\
///     </metadata></item></items></event></message>")?).await;
/// let p = avatars.try_recv().unwrap();
/// let m = &*p;
/// assert_eq!(m.data.as_ref().unwrap().current().unwrap().bytes, 12345);
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(
    name = "event",
    ns = "http://jabber.org/protocol/pubsub#event",
    node = "urn:xmpp:avatar:metadata",
    key = "avatarmetadata",
    at = "child"
)]
#[derive(Debug, Default)]
pub struct AvatarMetadataEvents;

impl Payload for AvatarMetadataEvents {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(u) = UserData::<Metadata>::from_event(stanza) {
            ctx.pack(u).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    fn result_for(xec: &Xec, body: &str) {
        let out = xec.take_outgoing();
        let id = out.last().unwrap().attr("id").unwrap().into_owned();
        block_on(xec.dispatch(
            Element::parse(&format!("<iq xmlns='jabber:client' type='result' id='{id}'>{body}</iq>")).unwrap(),
        ));
    }

    #[test]
    fn publish_sends_data_then_metadata() {
        let xec = Xec::new().unwrap();
        let mut done = xec.subscribe("avatar_publish_handle");
        let image = b"\x89PNG\r\n\x1a\n....".to_vec();
        let request = xec.context().request(Publish::new(image.clone(), "image/png").with_size(1, 1)).unwrap();
        let out = xec.take_outgoing();
        let item = out[0].first_child().unwrap().child("publish", pubsub::NS).unwrap().first_child().unwrap();
        assert_eq!(item.attr("id").as_deref(), Some(photo_hash(&image).as_str()));
        assert_eq!(decode_base64(&item.child("data", NS_DATA).unwrap().text()), Some(image.clone()));
        block_on(
            xec.dispatch(
                Element::parse(&format!(
                    "<iq xmlns='jabber:client' type='result' id='{}'/>",
                    out[0].attr("id").unwrap()
                ))
                .unwrap(),
            ),
        );
        let out = xec.take_outgoing();
        let xml = out[0].to_xml();
        assert!(xml.contains("<publish node='urn:xmpp:avatar:metadata'>"), "{xml}");
        assert!(xml.contains(&format!("bytes='{}'", image.len())) && xml.contains("width='1'"), "{xml}");
        assert!(done.try_recv().is_none(), "not before the metadata is stored");
        block_on(
            xec.dispatch(
                Element::parse(&format!(
                    "<iq xmlns='jabber:client' type='result' id='{}'/>",
                    out[0].attr("id").unwrap()
                ))
                .unwrap(),
            ),
        );
        // one result for the chain: awaited, and one Packet
        assert_eq!(block_on(request).unwrap().id, photo_hash(&image));
        assert_eq!(done.try_recv().unwrap().content::<AvatarInfo>().unwrap().id, photo_hash(&image));
        assert!(done.try_recv().is_none());
    }

    #[test]
    fn fetched_data_is_checked_against_its_id() {
        let xec = Xec::new().unwrap();
        let mut images = xec.subscribe("avatar_getdata_handle");
        let id = photo_hash(b"hello");
        let items = |id: &str, text: &str| {
            format!(
                "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'><item id='{id}'>\
                 <data xmlns='urn:xmpp:avatar:data'>{text}</data></item></items></pubsub>"
            )
        };
        xec.context().request(GetData { from: None, id: id.clone() }).unwrap();
        result_for(&xec, &items(&id, "aGVs\r\n  bG8="));
        assert_eq!(images.try_recv().unwrap().content::<AvatarImage>().unwrap().bytes, b"hello");
        // another image under that id
        let request = xec.context().request(GetData { from: None, id: id.clone() }).unwrap();
        result_for(&xec, &items(&id, "d29ybGQ="));
        // awaited: the refusal is the requester's error; the Packet keeps the typed reason
        assert!(matches!(block_on(request), Err(moxl_core::Error::Handler(m)) if m.contains("hash to")));
        let p = images.try_recv().unwrap();
        assert!(p.content::<AvatarImage>().is_none());
        assert!(
            matches!(p.content::<AvatarError>(), Some(AvatarError::HashMismatch { actual, .. }) if *actual == photo_hash(b"world"))
        );
        xec.context().request(GetData { from: None, id: id.clone() }).unwrap();
        result_for(&xec, &items(&id, "***"));
        assert!(matches!(images.try_recv().unwrap().content::<AvatarError>(), Some(AvatarError::NotBase64 { .. })));
    }

    #[test]
    fn disabling_publishes_an_empty_metadata_and_reads_back_disabled() {
        let iq = publish_metadata(&Metadata::default()).build().unwrap();
        assert!(iq.to_xml().contains("<item id='current'><metadata xmlns='urn:xmpp:avatar:metadata'/></item>"));
        // §4.5, Example 9
        let m = Element::parse("<message xmlns='jabber:client' from='juliet@capulet.lit'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
            <items node='urn:xmpp:avatar:metadata'><item id='current'><metadata xmlns='urn:xmpp:avatar:metadata'/></item></items></event></message>").unwrap();
        assert!(UserData::<Metadata>::from_event(&m).unwrap().data.unwrap().is_disabled());
        // an <info/> without its required attributes is left out
        let bad = Element::parse("<metadata xmlns='urn:xmpp:avatar:metadata'><info id='x' type='image/png'/><info bytes='-1' id='y' type='a'/></metadata>").unwrap();
        assert!(Metadata::from_element(&bad).unwrap().is_disabled());
    }
}
