//! XEP-0385: Stateless Inline Media Sharing (SIMS). A message shares a file with a XEP-0372 `<reference/>`
//! holding a `<media-sharing/>`: the file's description (a XEP-0234 `<file/>`: name, media type, size, XEP-0300
//! hashes, XEP-0264 thumbnail — read with [`FileMetadata`], whose shape it has) and `<sources/>`, each a
//! reference by URI (HTTP, or a XEP-0358 `xmpp:…?jingle` publication) (§4.1).
//!
//! Namespaces: deployed clients (Conversations, Movim, Dino) send `urn:xmpp:sims:1` with a
//! `urn:xmpp:jingle:apps:file-transfer:5` file; version 0.2.0 of the XEP renamed it `urn:xmpp:sims:2` (its
//! example uses a `file-transfer:4` file). [`MediaSharing`] reads all of these and writes the deployed one.
//! Nor does the deployed outer reference carry the `uri` XEP-0372 requires, so it is read here, not as a
//! [`Reference`].
//!
//! §4.2: whatever the source, check the bytes against the hashes before using them ([`MediaSharing::check`]).
//! The [`SharedMediaFiles`] Payload delivers each sharing as a [`SharedMedia`] (Packet key `sharedmedia`). The
//! tests use the XEP's Example 1 as fixture (its two XML typos, `</media>` and a missing space before `uri`,
//! fixed).
//!
//! ```
//! use moxl_xep::xep_0385_sims::MediaSharing;
//! use moxl_xep::xep_0446_file_metadata::FileMetadata;
//! let mut file = FileMetadata::default();
//! file.name = Some("summit.jpg".into());
//! let url = "https://download.montague.lit/summit.jpg";
//! let sharing = MediaSharing::new(file, [url]).span(0, url.chars().count());
//! let m = moxl_core::stanza::message("juliet@shakespeare.lit", "chat", Some(url)).append(sharing.to_element()).build()?;
//! assert_eq!(MediaSharing::all_in(&m), [sharing]);
//! # Ok::<(), moxl_core::Error>(())
//! ```

use std::borrow::Cow;

use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Result, payload};
use serde::{Deserialize, Serialize};

use crate::rfc6121_message::is_extension_of;
use crate::xep_0300_hashes::{Verdict, verify};
use crate::xep_0372_references::{self as references, RefType, Reference};
use crate::xep_0446_file_metadata::FileMetadata;

/// `urn:xmpp:sims:1`, the deployed namespace.
///
/// ```
/// assert_eq!(moxl_xep::xep_0385_sims::NS, "urn:xmpp:sims:1");
/// ```
pub const NS: &str = "urn:xmpp:sims:1";
/// `urn:xmpp:sims:2`, version 0.2.0's namespace (read only).
///
/// ```
/// assert_eq!(moxl_xep::xep_0385_sims::NS_2, "urn:xmpp:sims:2");
/// ```
pub const NS_2: &str = "urn:xmpp:sims:2";
/// `urn:xmpp:jingle:apps:file-transfer:5` (XEP-0234), the file description deployed with [`NS`].
///
/// ```
/// assert_eq!(moxl_xep::xep_0385_sims::JINGLE_FT_5, "urn:xmpp:jingle:apps:file-transfer:5");
/// ```
pub const JINGLE_FT_5: &str = "urn:xmpp:jingle:apps:file-transfer:5";
/// `urn:xmpp:jingle:apps:file-transfer:4`, the one of the XEP's example (read only).
///
/// ```
/// assert_eq!(moxl_xep::xep_0385_sims::JINGLE_FT_4, "urn:xmpp:jingle:apps:file-transfer:4");
/// ```
pub const JINGLE_FT_4: &str = "urn:xmpp:jingle:apps:file-transfer:4";

moxl_core::feature!("urn:xmpp:sims:1");

/// A shared media file: the `<reference/>` with its `<media-sharing/>`.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0385_sims::MediaSharing;
/// let e = Element::parse("<reference xmlns='urn:xmpp:reference:0' type='data'><media-sharing xmlns='urn:xmpp:sims:1'>\
///     <file xmlns='urn:xmpp:jingle:apps:file-transfer:5'><name>a.png</name></file>\
///     <sources><reference xmlns='urn:xmpp:reference:0' type='data' uri='https://ex.org/a.png'/></sources>\
///     </media-sharing></reference>")?;
/// let s = MediaSharing::from_reference(&e).unwrap();
/// assert_eq!((s.file.name.as_deref(), s.urls()), (Some("a.png"), vec!["https://ex.org/a.png"]));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MediaSharing {
    /// The file (§4.1: media type, size, description and hashes are required of the sender).
    pub file: FileMetadata,
    /// Where to fetch it, in the sender's order.
    pub sources: Vec<Reference>,
    /// The outer reference's `begin` in the body (code points, XEP-0372).
    pub begin: Option<usize>,
    /// Its `end`.
    pub end: Option<usize>,
}

impl MediaSharing {
    /// Sharing `file` from `urls` (each a `type='data'` source).
    ///
    /// ```
    /// use moxl_xep::xep_0385_sims::MediaSharing;
    /// let s = MediaSharing::new(Default::default(), ["https://ex.org/a.png"]);
    /// assert_eq!(s.sources[0].uri, "https://ex.org/a.png");
    /// ```
    pub fn new<S: Into<String>>(file: FileMetadata, urls: impl IntoIterator<Item = S>) -> MediaSharing {
        let sources = urls.into_iter().map(|u| Reference::new(RefType::Data, u)).collect();
        MediaSharing { file, sources, begin: None, end: None }
    }

    /// Marks the code points `begin..end` of the body (typically the URL of the fallback body).
    ///
    /// ```
    /// let s = moxl_xep::xep_0385_sims::MediaSharing::new(Default::default(), ["https://a/b"]).span(0, 11);
    /// assert_eq!((s.begin, s.end), (Some(0), Some(11)));
    /// ```
    pub fn span(mut self, begin: usize, end: usize) -> MediaSharing {
        self.begin = Some(begin);
        self.end = Some(end);
        self
    }

    /// Reads a `<reference/>` holding a `<media-sharing/>` of either namespace; `None` without one or without
    /// a `<file/>`.
    pub fn from_reference(e: &Element) -> Option<MediaSharing> {
        if !e.is("reference", references::NS) {
            return None;
        }
        let sharing = e.child("media-sharing", NS).or_else(|| e.child("media-sharing", NS_2))?;
        let file = sharing.children().find_map(|c| {
            FileMetadata::from_element_in(&c, JINGLE_FT_5).or_else(|| FileMetadata::from_element_in(&c, JINGLE_FT_4))
        })?;
        let sources = sharing
            .child("sources", sharing.ns())
            .map(|s| s.children().filter_map(|c| Reference::from_element(&c)).collect())
            .unwrap_or_default();
        let offset = |n: &str| e.attr(n).and_then(|v| v.trim().parse().ok());
        Some(MediaSharing { file, sources, begin: offset("begin"), end: offset("end") })
    }

    /// Every media sharing among a message's children.
    pub fn all_in(message: &Element) -> Vec<MediaSharing> {
        message.children().filter_map(|c| MediaSharing::from_reference(&c)).collect()
    }

    /// The element: a `type='data'` reference in the deployed namespaces.
    ///
    /// ```
    /// use moxl_xep::xep_0385_sims::MediaSharing;
    /// let xml = MediaSharing::new(Default::default(), ["https://a/b"]).to_element().build()?.to_xml();
    /// assert_eq!(xml, "<reference xmlns='urn:xmpp:reference:0' type='data'><media-sharing xmlns='urn:xmpp:sims:1'>\
    ///     <file xmlns='urn:xmpp:jingle:apps:file-transfer:5'/><sources>\
    ///     <reference xmlns='urn:xmpp:reference:0' type='data' uri='https://a/b'/></sources></media-sharing></reference>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        let sources = self.sources.iter().fold(ElementBuilder::new("sources", NS), |s, r| s.append(r.to_element()));
        ElementBuilder::new("reference", references::NS)
            .attr("type", RefType::Data.name().to_owned())
            .attr_opt("begin", self.begin.map(|b| b.to_string()))
            .attr_opt("end", self.end.map(|e| e.to_string()))
            .append(
                ElementBuilder::new("media-sharing", NS).append(self.file.to_element_in(JINGLE_FT_5)).append(sources),
            )
    }

    /// The HTTP(S) sources, in order (§4.2: a client that speaks HTTP downloads these).
    pub fn urls(&self) -> Vec<&str> {
        self.sources
            .iter()
            .map(|r| r.uri.as_str())
            .filter(|u| u.starts_with("https:") || u.starts_with("http:"))
            .collect()
    }

    /// Checks fetched bytes against the announced hashes (§4.2: content that does not match MUST be
    /// discarded).
    ///
    /// ```
    /// use moxl_xep::xep_0300_hashes::{Algo, Hash, Verdict};
    /// use moxl_xep::xep_0446_file_metadata::FileMetadata;
    /// let mut file = FileMetadata::default();
    /// file.hashes.push(Hash::compute(Algo::Sha256, b"jpeg").unwrap());
    /// let s = moxl_xep::xep_0385_sims::MediaSharing::new(file, ["https://a/b"]);
    /// assert_eq!(s.check(b"jpeg"), Verdict::Verified);
    /// ```
    pub fn check(&self, bytes: &[u8]) -> Verdict {
        verify(&self.file.hashes, bytes)
    }
}

/// A media file shared with us.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut media = xec.events::<moxl_xep::xep_0385_sims::SharedMedia>();
/// if let Some(m) = media.recv().await {
///     let first_url = m.sharing.urls().first().map(|u| u.to_string());
///     println!("{:?} shared {:?}, fetch it from {first_url:?}", m.from, m.sharing.file.name);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SharedMedia {
    /// The sender.
    pub from: Option<String>,
    /// The message's `id`.
    pub id: Option<String>,
    /// The message's body (the fallback, usually the URL).
    pub body: Option<String>,
    /// The sharing.
    pub sharing: MediaSharing,
}

/// Delivers each media sharing of a top-level message as a [`SharedMedia`] (Packet key `sharedmedia`; the
/// version 0.2.0 namespace is read by [`MediaSharing`], not delivered).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut media = xec.events::<moxl_xep::xep_0385_sims::SharedMedia>();
/// while let Some(m) = media.recv().await {
///     println!("{:?} shared {:?} at {:?}", m.from, m.sharing.file.name, m.sharing.urls());
/// }
/// # }
/// ```
#[payload(name = "media-sharing", ns = "urn:xmpp:sims:1", key = "sharedmedia", at = "any")]
#[derive(Debug, Default)]
pub struct SharedMediaFiles;

impl Payload for SharedMediaFiles {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<SharedMedia>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        // only a <media-sharing/> in a <reference/> child of a message (§4.1)
        let holder =
            stanza.children().find(|r| r.is("reference", references::NS) && r.children().any(|c| c.ptr_eq(element)));
        if let Some(reference) = holder.filter(|r| is_extension_of(r, stanza))
            && let Some(sharing) = MediaSharing::from_reference(&reference)
        {
            let attr = |n: &str| stanza.attr(n).map(Cow::into_owned);
            let body = stanza.child_text("body", ns::CLIENT);
            ctx.pack(SharedMedia { from: attr("from"), id: attr("id"), body, sharing }).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use crate::xep_0300_hashes::Algo;
    use moxl_core::xec::Xec;

    // §4.1, Example 1 (typos fixed), with NAMESPACES to fill in
    const EXAMPLE_1: &str = "<message xmlns='jabber:client' to='julient@shakespeare.lit' from='romeo@montague.lit' id='m1'>\
        <body>Look at the nice view from the summit.</body>\
        <reference xmlns='urn:xmpp:reference:0' begin='17' end='20' type='data'><media-sharing xmlns='SIMS'>\
        <file xmlns='FT'><media-type>image/jpeg</media-type><name>summit.jpg</name><size>3032449</size>\
        <hash xmlns='urn:xmpp:hashes:2' algo='sha3-256'>2XarmwTlNxDAMkvymloX3S5+VbylNrJt/l5QyPa+YoU=</hash>\
        <hash xmlns='urn:xmpp:hashes:2' algo='id-blake2b256'>2AfMGH8O7UNPTvUVAM9aK13mpCY=</hash>\
        <desc>Photo from the summit.</desc>\
        <thumbnail xmlns='urn:xmpp:thumbs:1' uri='cid:sha1+ffd7c8d28e9c5e82afea41f97108c6b4@bob.xmpp.org' media-type='image/png' width='128' height='96'/>\
        </file><sources>\
        <reference xmlns='urn:xmpp:reference:0' type='data' uri='https://download.montague.lit/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/summit.jpg' />\
        <reference xmlns='urn:xmpp:reference:0' type='data' uri='xmpp:romeo@montague.lit/resource?jingle;id=9559976B-3FBF-4E7E-B457-2DAA225972BB' />\
        </sources></media-sharing></reference></message>";

    #[test]
    fn the_xeps_example_is_read_in_both_versions_and_delivered_in_the_deployed_one() {
        let xec = Xec::new().unwrap();
        let mut media = xec.events::<SharedMedia>();
        let v2 = Element::parse(
            &EXAMPLE_1.replace("'SIMS'", "'urn:xmpp:sims:2'").replace("'FT'", "'urn:xmpp:jingle:apps:file-transfer:4'"),
        )
        .unwrap();
        let v1 = Element::parse(
            &EXAMPLE_1.replace("'SIMS'", "'urn:xmpp:sims:1'").replace("'FT'", "'urn:xmpp:jingle:apps:file-transfer:5'"),
        )
        .unwrap();
        let (read2, read1) = (MediaSharing::all_in(&v2), MediaSharing::all_in(&v1));
        assert_eq!(read1, read2);
        let s = &read1[0];
        assert_eq!((s.begin, s.end, s.file.size), (Some(17), Some(20), Some(3032449)));
        assert_eq!(
            (s.file.media_type.as_deref(), s.file.desc.as_deref()),
            (Some("image/jpeg"), Some("Photo from the summit."))
        );
        assert_eq!(
            s.file.hashes.iter().map(|h| h.algo.clone()).collect::<Vec<_>>(),
            [Algo::Sha3_256, Algo::Blake2b256]
        );
        assert_eq!((s.file.thumbnails[0].width, s.sources.len()), (Some(128), 2));
        assert_eq!(s.urls(), ["https://download.montague.lit/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/summit.jpg"]);
        assert!(matches!(s.check(b"not the summit"), Verdict::Mismatch(_)));
        // what we write reads back the same
        assert_eq!(MediaSharing::from_reference(&s.to_element().build().unwrap()).as_ref(), Some(s));

        block_on(xec.dispatch(v2));
        assert!(media.try_recv().is_none(), "0.2.0's namespace is read, not delivered");
        block_on(xec.dispatch(v1.clone()));
        let m = media.try_recv().unwrap();
        assert_eq!((m.id.as_deref(), m.from.as_deref()), (Some("m1"), Some("romeo@montague.lit")));
        assert_eq!(&m.sharing, s);
        // a media-sharing directly in the message (not in a reference) is not one
        let loose = "<message xmlns='jabber:client'><media-sharing xmlns='urn:xmpp:sims:1'>\
            <file xmlns='urn:xmpp:jingle:apps:file-transfer:5'/></media-sharing></message>";
        block_on(xec.dispatch(Element::parse(loose).unwrap()));
        assert!(media.try_recv().is_none());
    }
}
