//! XEP-0446: File metadata element (namespace `urn:xmpp:file:metadata:0`): what a receiver needs to decide
//! whether to fetch a file (name, media type, size, dimensions, length, description, date), its XEP-0300 hashes
//! (to check it, and to find it in a cache) and XEP-0264 thumbnails. XEP-0447 shares files with it.
//!
//! ```
//! use moxl_xep::xep_0446_file_metadata::FileMetadata;
//! let mut f = FileMetadata::default();
//! f.name = Some("summit.jpg".into());
//! f.media_type = Some("image/jpeg".into());
//! f.size = Some(3032449);
//! let e = f.to_element().build()?;
//! assert_eq!(FileMetadata::from_element(&e), Some(f));
//! # Ok::<(), moxl_core::Error>(())
//! ```

use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

use crate::xep_0264_thumbnails::Thumbnail;
use crate::xep_0300_hashes::Hash;

/// `urn:xmpp:file:metadata:0` (§2).
pub const NS: &str = "urn:xmpp:file:metadata:0";

/// A `<file/>` metadata element. Every field is optional (§2); unknown children are ignored.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0446_file_metadata::FileMetadata;
/// // XEP-0447 §3, Example 1: an older draft wrote the dimensions as `<dimensions>WxH</dimensions>`
/// let e = Element::parse("<file xmlns='urn:xmpp:file:metadata:0'><media-type>image/jpeg</media-type><name>summit.jpg</name>\
///     <size>3032449</size><dimensions>4096x2160</dimensions>\
///     <hash xmlns='urn:xmpp:hashes:2' algo='sha3-256'>2XarmwTlNxDAMkvymloX3S5+VbylNrJt/l5QyPa+YoU=</hash>\
///     <desc>Photo from the summit.</desc>\
///     <thumbnail xmlns='urn:xmpp:thumbs:1' uri='cid:sha1+ffd7c8d28e9c5e82afea41f97108c6b4@bob.xmpp.org' media-type='image/png' width='128' height='96'/></file>")?;
/// let f = FileMetadata::from_element(&e).unwrap();
/// assert_eq!((f.width, f.height, f.size), (Some(4096), Some(2160), Some(3032449)));
/// assert_eq!((f.hashes.len(), f.thumbnails.len()), (1, 1));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileMetadata {
    /// The file name (`name`).
    pub name: Option<String>,
    /// The media type (`media-type`).
    pub media_type: Option<String>,
    /// The size in bytes (`size`).
    pub size: Option<u64>,
    /// Width in pixels (`width`).
    pub width: Option<u32>,
    /// Height in pixels (`height`).
    pub height: Option<u32>,
    /// Play time in milliseconds (`length`).
    pub length: Option<u64>,
    /// A description (`desc`).
    pub desc: Option<String>,
    /// The last modification, as sent (`date`, XEP-0082).
    pub date: Option<String>,
    /// The hashes (XEP-0300).
    pub hashes: Vec<Hash>,
    /// The thumbnails (XEP-0264).
    pub thumbnails: Vec<Thumbnail>,
}

impl FileMetadata {
    /// Reads a `<file/>` of this namespace.
    pub fn from_element(e: &Element) -> Option<FileMetadata> {
        FileMetadata::from_element_in(e, NS)
    }

    /// Reads a `<file/>` of `ns`, another namespace with the same children: XEP-0234's Jingle file
    /// description, from which this element was taken (XEP-0446 §1), as XEP-0385 carries it.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0446_file_metadata::FileMetadata;
    /// let e = Element::parse("<file xmlns='urn:xmpp:jingle:apps:file-transfer:5'><name>a.png</name><size>12</size></file>")?;
    /// let f = FileMetadata::from_element_in(&e, "urn:xmpp:jingle:apps:file-transfer:5").unwrap();
    /// assert_eq!((f.name.as_deref(), f.size), (Some("a.png"), Some(12)));
    /// assert_eq!(FileMetadata::from_element(&e), None);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element_in(e: &Element, ns: &str) -> Option<FileMetadata> {
        if !e.is("file", ns) {
            return None;
        }
        let text = |n: &str| e.child_text(n, ns).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        let dimensions = text("dimensions").and_then(|d| {
            let (w, h) = d.split_once('x')?;
            Some((w.parse().ok()?, h.parse().ok()?))
        });
        Some(FileMetadata {
            name: text("name"),
            media_type: text("media-type"),
            size: text("size").and_then(|s| s.parse().ok()),
            width: text("width").and_then(|s| s.parse().ok()).or(dimensions.map(|(w, _)| w)),
            height: text("height").and_then(|s| s.parse().ok()).or(dimensions.map(|(_, h)| h)),
            length: text("length").and_then(|s| s.parse().ok()),
            desc: text("desc"),
            date: text("date"),
            hashes: Hash::all_in(e),
            thumbnails: e.children().filter_map(|c| Thumbnail::from_element(&c)).collect(),
        })
    }

    /// The element.
    pub fn to_element(&self) -> ElementBuilder {
        self.to_element_in(NS)
    }

    /// The element in `ns` (see [`from_element_in`](Self::from_element_in)).
    ///
    /// ```
    /// use moxl_xep::xep_0446_file_metadata::FileMetadata;
    /// let mut f = FileMetadata::default();
    /// f.size = Some(12);
    /// assert_eq!(f.to_element_in("urn:xmpp:jingle:apps:file-transfer:5").build()?.to_xml(),
    ///     "<file xmlns='urn:xmpp:jingle:apps:file-transfer:5'><size>12</size></file>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element_in(&self, ns: &'static str) -> ElementBuilder {
        let mut e = ElementBuilder::new("file", ns);
        let mut field = |name: &'static str, value: Option<String>| {
            if let Some(v) = value {
                e = std::mem::replace(&mut e, ElementBuilder::new("file", ns))
                    .append(ElementBuilder::new(name, ns).text(v));
            }
        };
        field("media-type", self.media_type.clone());
        field("name", self.name.clone());
        field("size", self.size.map(|s| s.to_string()));
        field("width", self.width.map(|w| w.to_string()));
        field("height", self.height.map(|h| h.to_string()));
        field("length", self.length.map(|l| l.to_string()));
        field("desc", self.desc.clone());
        field("date", self.date.clone());
        let e = self.hashes.iter().fold(e, |e, h| e.append(h.to_element()));
        self.thumbnails.iter().fold(e, |e, t| e.append(t.to_element()))
    }
}
