//! XEP-0447: Stateless file sharing (namespace `urn:xmpp:sfs:0`). A message shares a file by describing it
//! (XEP-0446 metadata with XEP-0300 hashes) and listing where to get it (`<sources/>`: HTTP URLs as XEP-0103
//! `<url-data/>`, Jingle publications as XEP-0358 `<jinglepub/>`), so that every receiver, now or from an
//! archive, can fetch and check it without a session with the sender.
//!
//! [`share`] builds the message part (with the fallback body and XEP-0066 link the XEP recommends, §3); the
//! [`SharedFiles`] Payload delivers each shared file as a [`SharedFile`] (Packet key `sharedfile`).
//!
//! § "Attaching a source": another entity that holds the file may announce more sources in a XEP-0367
//! attachment to the sharing message ([`attach_sources`]); the [`AttachedSourcesPayload`] delivers them as
//! [`AttachedSources`] (Packet key `attachedsources`), and [`FileSharing::accepts`] says whether to use them.
//!
//! §6: check the received bytes against the hashes before showing them ([`verify`]);
//! without a usable hash, take the file only from the sender's own secure (`https:`) sources —
//! [`FileSharing::trusted_urls`] gives those.
//!
//! ```
//! use moxl_xep::xep_0446_file_metadata::FileMetadata;
//! use moxl_xep::xep_0447_sfs::{share, Disposition, FileSharing, Source};
//! let mut file = FileMetadata::default();
//! file.name = Some("summit.jpg".into());
//! let sharing = FileSharing::new(file, vec![Source::Url("https://download.montague.lit/summit.jpg".into())])
//!     .disposition(Disposition::Inline);
//! let m = share(moxl_core::stanza::message("juliet@shakespeare.lit", "chat", None), &sharing).build()?;
//! assert_eq!(FileSharing::of(&m), Some(sharing));
//! assert!(m.to_xml().contains("<x xmlns='jabber:x:oob'><url>https://download.montague.lit/summit.jpg</url></x>"));
//! # Ok::<(), moxl_core::Error>(())
//! ```

use std::borrow::Cow;

use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Result, payload};
use serde::{Deserialize, Serialize};

use moxl_core::jid::Jid;

use crate::xep_0300_hashes::{Algo, verify};
use crate::xep_0334_hints::Hint;
use crate::xep_0367_attaching::{attach_to, attached_to};
use crate::xep_0446_file_metadata::FileMetadata;

/// `urn:xmpp:sfs:0` (§7).
pub const NS: &str = "urn:xmpp:sfs:0";
/// `http://jabber.org/protocol/url-data` (XEP-0103).
pub const URL_DATA: &str = "http://jabber.org/protocol/url-data";
/// `urn:xmpp:jinglepub:1` (XEP-0358).
pub const JINGLEPUB: &str = "urn:xmpp:jinglepub:1";
/// `jabber:x:oob` (XEP-0066), the compatibility link.
pub const OOB: &str = "jabber:x:oob";

moxl_core::feature!("urn:xmpp:sfs:0");

/// How the sender wants the file shown (§3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Disposition {
    /// Shown in the conversation, fetched without asking where privacy allows.
    Inline,
    /// Offered for download: never fetched without the user's action.
    Attachment,
}

/// Where a file can be fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Source {
    /// A URL (XEP-0103 `<url-data target='…'/>`).
    Url(String),
    /// A Jingle publication (XEP-0358): the publisher's full JID and the publication id.
    JinglePub {
        /// The publisher.
        from: String,
        /// The publication id.
        id: String,
    },
}

impl Source {
    fn from_element(e: &Element) -> Option<Source> {
        if e.is("url-data", URL_DATA) {
            return Some(Source::Url(e.attr("target").filter(|t| !t.is_empty())?.into_owned()));
        }
        if e.is("jinglepub", JINGLEPUB) {
            let attr = |n: &str| e.attr(n).filter(|v| !v.is_empty()).map(Cow::into_owned);
            return Some(Source::JinglePub { from: attr("from")?, id: attr("id")? });
        }
        None
    }

    fn to_element(&self) -> ElementBuilder {
        match self {
            Source::Url(url) => ElementBuilder::new("url-data", URL_DATA).attr("target", url.clone()),
            Source::JinglePub { from, id } => ElementBuilder::new("jinglepub", JINGLEPUB)
                .attr("from", from.clone())
                .attr("id", id.clone())
                .append(ElementBuilder::new("description", "urn:xmpp:jingle:apps:file-transfer:5")),
        }
    }
}

/// A `<file-sharing/>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileSharing {
    /// `disposition`, if given.
    pub disposition: Option<Disposition>,
    /// The file.
    pub file: FileMetadata,
    /// The sources this module knows, in order (others are skipped).
    pub sources: Vec<Source>,
}

impl FileSharing {
    /// Sharing `file` from `sources`.
    pub fn new(file: FileMetadata, sources: Vec<Source>) -> FileSharing {
        FileSharing { disposition: None, file, sources }
    }

    /// With a disposition.
    pub fn disposition(mut self, disposition: Disposition) -> FileSharing {
        self.disposition = Some(disposition);
        self
    }

    /// The `<file-sharing/>` of a message (`None` without one or without a `<file/>`).
    pub fn of(message: &Element) -> Option<FileSharing> {
        FileSharing::from_element(&message.child("file-sharing", NS)?)
    }

    /// Reads a `<file-sharing/>`.
    pub fn from_element(e: &Element) -> Option<FileSharing> {
        let file = e.children().find_map(|c| FileMetadata::from_element(&c))?;
        let disposition = match e.attr("disposition").as_deref() {
            Some("inline") => Some(Disposition::Inline),
            Some("attachment") => Some(Disposition::Attachment),
            _ => None,
        };
        let sources = e
            .child("sources", NS)
            .map(|s| s.children().filter_map(|c| Source::from_element(&c)).collect())
            .unwrap_or_default();
        Some(FileSharing { disposition, file, sources })
    }

    /// The element.
    pub fn to_element(&self) -> ElementBuilder {
        let disposition = self.disposition.map(|d| match d {
            Disposition::Inline => "inline".to_owned(),
            Disposition::Attachment => "attachment".to_owned(),
        });
        let sources = self.sources.iter().fold(ElementBuilder::new("sources", NS), |s, src| s.append(src.to_element()));
        ElementBuilder::new("file-sharing", NS)
            .attr_opt("disposition", disposition)
            .append(self.file.to_element())
            .append(sources)
    }

    /// Whether a hash this crate can check is announced (else §6 restricts the sources).
    pub fn is_verifiable(&self) -> bool {
        self.file.hashes.iter().any(|h| h.algo.is_trusted() && h.algo != Algo::Sha1)
    }

    /// The URLs worth fetching from: every URL when a usable hash will check the bytes, else only `https:`
    /// ones (§6: without a hash, no insecure source).
    ///
    /// ```
    /// use moxl_xep::xep_0446_file_metadata::FileMetadata;
    /// use moxl_xep::xep_0447_sfs::{FileSharing, Source};
    /// let s = FileSharing::new(FileMetadata::default(), vec![Source::Url("http://a/x".into()), Source::Url("https://b/x".into())]);
    /// assert_eq!(s.trusted_urls(), ["https://b/x"]);
    /// ```
    pub fn trusted_urls(&self) -> Vec<&str> {
        let verifiable = self.is_verifiable();
        self.sources
            .iter()
            .filter_map(|s| match s {
                Source::Url(u) if verifiable || u.starts_with("https:") => Some(u.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Whether to use the sources `attached` adds to this sharing, which `sharer` sent (§6: without a usable
    /// hash, only the original sender's own attachments, from any of their resources, count).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0446_file_metadata::FileMetadata;
    /// use moxl_xep::xep_0447_sfs::{AttachedSources, FileSharing};
    /// let unhashed = FileSharing::new(FileMetadata::default(), vec![]);
    /// let m = Element::parse("<message xmlns='jabber:client' from='mallory@evil.lit/x'><attach-to xmlns='urn:xmpp:message-attaching:1' id='f'/>\
    ///     <sources xmlns='urn:xmpp:sfs:0'><url-data xmlns='http://jabber.org/protocol/url-data' target='https://evil.lit/f'/></sources></message>")?;
    /// let attached = AttachedSources::of(&m).unwrap();
    /// assert!(!unhashed.accepts(Some("romeo@montague.lit/resource"), &attached));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn accepts(&self, sharer: Option<&str>, attached: &AttachedSources) -> bool {
        let bare = |j: Option<&str>| j.and_then(|j| Jid::new(j).ok()).map(|j| j.to_bare());
        self.is_verifiable() || bare(sharer).is_some_and(|s| bare(attached.from.as_deref()) == Some(s))
    }

    /// Checks fetched bytes against the announced hashes (XEP-0300).
    pub fn check(&self, bytes: &[u8]) -> crate::xep_0300_hashes::Verdict {
        verify(&self.file.hashes, bytes)
    }
}

/// Adds a file sharing to `message` (§3): the `<file-sharing/>`, and, when one URL is among the sources, the
/// fallback body (the URL, or the description and the URL) and the XEP-0066 link; without a body, the XEP-0334
/// store hint so that archives keep it.
pub fn share(message: ElementBuilder, sharing: &FileSharing) -> ElementBuilder {
    let message = message.append(sharing.to_element());
    let url = sharing.sources.iter().find_map(|s| match s {
        Source::Url(u) => Some(u.clone()),
        Source::JinglePub { .. } => None,
    });
    match url {
        Some(url) => {
            let body = match &sharing.file.desc {
                Some(desc) => format!("{desc}: {url}"),
                None => url.clone(),
            };
            message
                .append(ElementBuilder::new("body", ns::CLIENT).text(body))
                .append(ElementBuilder::new("x", OOB).append(ElementBuilder::new("url", OOB).text(url)))
        }
        None => message.append(Hint::Store.element()),
    }
}

/// Sources attached to an earlier sharing (§ "Attaching a source"): a message with a XEP-0367 `<attach-to/>`
/// naming the sharing message and a `<sources/>` of this namespace.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0447_sfs::{AttachedSources, Source};
/// let m = Element::parse("<message xmlns='jabber:client' from='romeo@montague.lit/resource2'>\
///     <attach-to id='sharing-a-file' xmlns='urn:xmpp:message-attaching:1'/><sources xmlns='urn:xmpp:sfs:0'>\
///     <url-data xmlns='http://jabber.org/protocol/url-data' target='https://a/b'/></sources></message>")?;
/// let a = AttachedSources::of(&m).unwrap();
/// assert_eq!((a.attached_to.as_str(), &a.sources[..]), ("sharing-a-file", &[Source::Url("https://a/b".into())][..]));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AttachedSources {
    /// Who attaches them.
    pub from: Option<String>,
    /// The id of the sharing message (in a room, its stanza id; XEP-0367 §4.1).
    pub attached_to: String,
    /// The sources this module knows, in order.
    pub sources: Vec<Source>,
}

impl AttachedSources {
    /// Reads a message attaching sources; `None` without a single `<attach-to/>` or without `<sources/>`.
    pub fn of(message: &Element) -> Option<AttachedSources> {
        let sources = message.child("sources", NS)?;
        Some(AttachedSources {
            from: message.attr("from").map(Cow::into_owned),
            attached_to: attached_to(message)?,
            sources: sources.children().filter_map(|c| Source::from_element(&c)).collect(),
        })
    }
}

/// Attaches `sources` to the sharing message `id` (§ "Attaching a source", with the XEP-0334 store hint it
/// suggests). §"Attaching a source": announce only a file whose every hash was checked.
///
/// ```
/// use moxl_xep::xep_0447_sfs::{attach_sources, AttachedSources, Source};
/// let m = attach_sources(moxl_core::stanza::message("juliet@shakespeare.lit", "chat", None), "sharing-a-file",
///     &[Source::Url("https://a/b".into())]).build()?;
/// assert_eq!(AttachedSources::of(&m).unwrap().attached_to, "sharing-a-file");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn attach_sources(message: ElementBuilder, id: &str, sources: &[Source]) -> ElementBuilder {
    let list = sources.iter().fold(ElementBuilder::new("sources", NS), |s, src| s.append(src.to_element()));
    message.append(attach_to(id)).append(list).append(Hint::Store.element())
}

/// Delivers each top-level attachment of sources as [`AttachedSources`] (Packet key `attachedsources`).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut more = xec.events::<moxl_xep::xep_0447_sfs::AttachedSources>();
/// while let Some(a) = more.recv().await {
///     println!("{:?} offers {} more sources for {}", a.from, a.sources.len(), a.attached_to);
/// }
/// # }
/// ```
#[payload(name = "sources", ns = "urn:xmpp:sfs:0", key = "attachedsources", at = "child")]
#[derive(Debug, Default)]
pub struct AttachedSourcesPayload;

impl Payload for AttachedSourcesPayload {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<AttachedSources>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if crate::rfc6121_message::is_extension_of(element, stanza)
            && let Some(attached) = AttachedSources::of(stanza)
        {
            ctx.pack(attached).deliver();
        }
        Ok(())
    }
}

/// A file shared with us.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SharedFile {
    /// The sender.
    pub from: Option<String>,
    /// The message's `id` (what XEP-0367 attachments name).
    pub id: Option<String>,
    /// The sharing.
    pub sharing: FileSharing,
}

/// Delivers each file shared in a top-level message as a [`SharedFile`] (Packet key `sharedfile`).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) {
/// let mut files = xec.events::<moxl_xep::xep_0447_sfs::SharedFile>();
/// while let Some(f) = files.recv().await {
///     println!("{:?} shared {:?}", f.from, f.sharing.file.name);
/// }
/// # }
/// ```
#[payload(name = "file-sharing", ns = "urn:xmpp:sfs:0", key = "sharedfile", at = "child")]
#[derive(Debug, Default)]
pub struct SharedFiles;

impl Payload for SharedFiles {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<SharedFile>()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if crate::rfc6121_message::is_extension_of(element, stanza)
            && let Some(sharing) = FileSharing::from_element(element)
        {
            let attr = |n: &str| stanza.attr(n).map(Cow::into_owned);
            ctx.pack(SharedFile { from: attr("from"), id: attr("id"), sharing }).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use crate::xep_0300_hashes::{Hash, Verdict};
    use moxl_core::xec::Xec;

    #[test]
    fn the_xeps_example_is_read_and_a_shared_file_checked() {
        // §3, Example 1
        let m = Element::parse(
            "<message xmlns='jabber:client' to='juliet@shakespeare.lit' from='romeo@montague.lit/resource' id='sharing-a-file'>\
             <file-sharing xmlns='urn:xmpp:sfs:0' disposition='inline'><file xmlns='urn:xmpp:file:metadata:0'>\
             <media-type>image/jpeg</media-type><name>summit.jpg</name><size>3032449</size><dimensions>4096x2160</dimensions>\
             <hash xmlns='urn:xmpp:hashes:2' algo='sha3-256'>2XarmwTlNxDAMkvymloX3S5+VbylNrJt/l5QyPa+YoU=</hash>\
             <hash xmlns='urn:xmpp:hashes:2' algo='id-blake2b256'>2AfMGH8O7UNPTvUVAM9aK13mpCY=</hash>\
             <desc>Photo from the summit.</desc>\
             <thumbnail xmlns='urn:xmpp:thumbs:1' uri='cid:sha1+ffd7c8d28e9c5e82afea41f97108c6b4@bob.xmpp.org' media-type='image/png' width='128' height='96'/>\
             </file><sources>\
             <url-data xmlns='http://jabber.org/protocol/url-data' target='https://download.montague.lit/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/summit.jpg'/>\
             <jinglepub xmlns='urn:xmpp:jinglepub:1' from='romeo@montague.lit/resource' id='9559976B-3FBF-4E7E-B457-2DAA225972BB'>\
             <description xmlns='urn:xmpp:jingle:apps:file-transfer:5'/></jinglepub></sources></file-sharing></message>",
        )
        .unwrap();
        let xec = Xec::new().unwrap();
        let mut files = xec.events::<SharedFile>();
        block_on(xec.dispatch(m));
        let f = files.try_recv().unwrap();
        assert_eq!(f.id.as_deref(), Some("sharing-a-file"));
        assert_eq!((f.sharing.disposition, f.sharing.sources.len()), (Some(Disposition::Inline), 2));
        assert_eq!(f.sharing.file.thumbnails[0].width, Some(128));
        assert!(matches!(f.sharing.check(b"not the summit"), Verdict::Mismatch(_)));

        let bytes = b"the summit, really";
        let file = FileMetadata { hashes: vec![Hash::compute(Algo::Sha256, bytes).unwrap()], ..Default::default() };
        let sharing = FileSharing::new(file, vec![Source::Url("http://plain.example/x".into())]);
        assert_eq!(sharing.check(bytes), Verdict::Verified);
        assert_eq!(sharing.trusted_urls(), ["http://plain.example/x"], "the hash will check an http download");
        let no_body =
            share(moxl_core::stanza::message("a@b", "chat", None), &FileSharing::new(FileMetadata::default(), vec![]));
        assert!(no_body.build().unwrap().child("store", crate::xep_0334_hints::NS).is_some());
    }

    #[test]
    fn the_xeps_attached_source_is_delivered_and_trusted_only_as_section_6_says() {
        // § "Attaching a source", Example 4
        let m = Element::parse(
            "<message xmlns='jabber:client' to='juliet@shakespeare.lit' from='romeo@montague.lit/resource2'>\
             <attach-to id='sharing-a-file' xmlns='urn:xmpp:message-attaching:1'/><sources xmlns='urn:xmpp:sfs:0'>\
             <jinglepub xmlns='urn:xmpp:jinglepub:1' from='romeo@montague.lit/resource2' id='9559976B-3FBF-4E7E-B457-2DAA225972BB'>\
             <description xmlns='urn:xmpp:jingle:apps:file-transfer:5'/></jinglepub></sources><store xmlns='urn:xmpp:hints'/></message>",
        )
        .unwrap();
        let xec = Xec::new().unwrap();
        let mut attached = xec.events::<AttachedSources>();
        let mut shared = xec.events::<SharedFile>();
        block_on(xec.dispatch(m.clone()));
        let a = attached.try_recv().unwrap();
        assert!(shared.try_recv().is_none());
        assert_eq!(a.attached_to, "sharing-a-file");
        let pubsrc = Source::JinglePub {
            from: "romeo@montague.lit/resource2".into(),
            id: "9559976B-3FBF-4E7E-B457-2DAA225972BB".into(),
        };
        assert_eq!(a.sources, std::slice::from_ref(&pubsrc));
        // rebuilt, it reads the same
        let rebuilt = attach_sources(
            moxl_core::stanza::message("juliet@shakespeare.lit", "chat", None),
            "sharing-a-file",
            &[pubsrc],
        )
        .attr("from", "romeo@montague.lit/resource2")
        .build()
        .unwrap();
        assert_eq!(AttachedSources::of(&rebuilt).as_ref(), Some(&*a));
        // §6: without a hash, only the original sender's (any resource) attachments count
        let unhashed = FileSharing::new(FileMetadata::default(), vec![]);
        assert!(unhashed.accepts(Some("romeo@montague.lit/resource"), &a));
        assert!(!unhashed.accepts(Some("juliet@capulet.lit/balcony"), &a));
        let hashed = FileSharing::new(
            FileMetadata { hashes: vec![Hash::compute(Algo::Sha256, b"x").unwrap()], ..Default::default() },
            vec![],
        );
        assert!(hashed.accepts(Some("juliet@capulet.lit/balcony"), &a));
        // <sources/> without <attach-to/>: nothing
        block_on(xec.dispatch(
            Element::parse("<message xmlns='jabber:client'><sources xmlns='urn:xmpp:sfs:0'/></message>").unwrap(),
        ));
        assert!(attached.try_recv().is_none());
    }
}
