//! XEP-0264: Jingle Content Thumbnails (namespace `urn:xmpp:thumbs:1`): a small preview of a file, by URI (a
//! XEP-0231 `cid:` for bits of binary, or an `https:` URL), with its media type and size in pixels. XEP-0446
//! file metadata and XEP-0234 file offers carry it.
//!
//! ```
//! use moxl_core::xml::Element;
//! use moxl_xep::xep_0264_thumbnails::Thumbnail;
//! let e = Element::parse("<thumbnail xmlns='urn:xmpp:thumbs:1' uri='cid:sha1+ffd7c8d28e9c5e82afea41f97108c6b4@bob.xmpp.org' \
//!     media-type='image/png' width='128' height='96'/>")?;
//! let t = Thumbnail::from_element(&e).unwrap();
//! assert_eq!((t.width, t.height, t.media_type.as_deref()), (Some(128), Some(96), Some("image/png")));
//! assert_eq!(Thumbnail::from_element(&t.to_element().build()?), Some(t));
//! # Ok::<(), moxl_core::Error>(())
//! ```

use std::borrow::Cow;

use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

/// `urn:xmpp:thumbs:1` (§3).
pub const NS: &str = "urn:xmpp:thumbs:1";

moxl_core::feature!("urn:xmpp:thumbs:1");

/// A `<thumbnail/>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Thumbnail {
    /// Where the image is (`uri`, required).
    pub uri: String,
    /// Its media type (`image/png`…).
    pub media_type: Option<String>,
    /// Its width in pixels.
    pub width: Option<u32>,
    /// Its height in pixels.
    pub height: Option<u32>,
}

impl Thumbnail {
    /// A thumbnail at `uri`.
    pub fn new(uri: impl Into<String>) -> Thumbnail {
        Thumbnail { uri: uri.into(), media_type: None, width: None, height: None }
    }

    /// Reads a `<thumbnail/>`: `None` without a `uri`; a size that is not a number is left out.
    pub fn from_element(e: &Element) -> Option<Thumbnail> {
        if !e.is("thumbnail", NS) {
            return None;
        }
        let number = |n: &str| e.attr(n).and_then(|v| v.trim().parse().ok());
        Some(Thumbnail {
            uri: e.attr("uri").filter(|u| !u.is_empty())?.into_owned(),
            media_type: e.attr("media-type").map(Cow::into_owned),
            width: number("width"),
            height: number("height"),
        })
    }

    /// The element.
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("thumbnail", NS)
            .attr("uri", self.uri.clone())
            .attr_opt("media-type", self.media_type.clone())
            .attr_opt("width", self.width.map(|w| w.to_string()))
            .attr_opt("height", self.height.map(|h| h.to_string()))
    }
}
