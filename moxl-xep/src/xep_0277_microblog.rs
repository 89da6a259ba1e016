//! XEP-0277: Microblogging over XMPP. A microblog is the PEP node `urn:xmpp:microblog:0` of an account
//! (XEP-0163); each post is an Atom entry (RFC 4287) in an item. Comments on a post live in a node of their own,
//! linked from the post by `<link rel='replies'/>` (§3.4).
//!
//! - [`Entry`]: a typed Atom entry (title, content as text or XHTML markup, published/updated, authors,
//!   links, categories, and the `thr:in-reply-to` of replies, RFC 4685), read with [`Entry::from_element`] and
//!   written with [`Entry::to_element`]; [`Post`]: an entry with its item id and publisher.
//! - [`publish`], [`retract`], [`feed`]: the requests; [`publish_action`], [`retract_action`], [`Feed`]: the
//!   Actions (a feed read by pages, XEP-0059).
//! - [`follow`] (and [`FollowApproved`]): following a contact's microblog so that its PEP service notifies us.
//! - [`MicroblogEvents`]: delivers the notifications of the microblog node as typed [`MicroblogEvent`]s. The
//!   module declares `urn:xmpp:microblog:0+notify`, so that contacts' servers send them (XEP-0163 §4.3).

use std::time::{SystemTime, UNIX_EPOCH};

use moxl_core::stanza::StanzaError;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0059_rsm::{SetQuery, SetResult};
use crate::xep_0060_pubsub::{self as pubsub, Event, EventKind, Item, NodeUri, Page};
use crate::xep_0163_pep::is_pep_event;

/// `urn:xmpp:microblog:0`: the PEP node of an account's microblog (§2).
///
/// ```
/// assert_eq!(moxl_xep::xep_0277_microblog::NODE, "urn:xmpp:microblog:0");
/// ```
pub const NODE: &str = "urn:xmpp:microblog:0";

/// The prefix of the node of a post's comments, followed by the post's item id (§3.4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0277_microblog::comments_node("1cb57d9c"), "urn:xmpp:microblog:0:comments/1cb57d9c");
/// ```
pub const COMMENTS_PREFIX: &str = "urn:xmpp:microblog:0:comments/";

/// `http://www.w3.org/2005/Atom` (RFC 4287).
///
/// ```
/// assert_eq!(moxl_xep::xep_0277_microblog::NS_ATOM, "http://www.w3.org/2005/Atom");
/// ```
pub const NS_ATOM: &str = "http://www.w3.org/2005/Atom";

/// `http://purl.org/syndication/thread/1.0` (RFC 4685): `thr:in-reply-to` of replies.
///
/// ```
/// assert_eq!(moxl_xep::xep_0277_microblog::NS_THREAD, "http://purl.org/syndication/thread/1.0");
/// ```
pub const NS_THREAD: &str = "http://purl.org/syndication/thread/1.0";

/// `http://www.w3.org/1999/xhtml`: the `<div/>` of XHTML text constructs (RFC 4287 §3.1.1.3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0277_microblog::NS_XHTML, "http://www.w3.org/1999/xhtml");
/// ```
pub const NS_XHTML: &str = "http://www.w3.org/1999/xhtml";

moxl_core::feature!("urn:xmpp:microblog:0+notify");

/// The node of the comments on the post with item id `item_id` (§3.4).
pub fn comments_node(item_id: &str) -> String {
    format!("{COMMENTS_PREFIX}{item_id}")
}

fn attr(e: &Element, name: &str) -> Option<String> {
    e.attr(name).map(|v| v.into_owned())
}

/// The kind of an Atom text construct (RFC 4287 §3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextKind {
    /// Plain text (the default).
    Text,
    /// Escaped HTML.
    Html,
    /// An XHTML `<div/>`.
    Xhtml,
}

impl TextKind {
    fn parse(v: Option<&str>) -> TextKind {
        match v {
            Some("html") => TextKind::Html,
            Some("xhtml") => TextKind::Xhtml,
            _ => TextKind::Text,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            TextKind::Text => "text",
            TextKind::Html => "html",
            TextKind::Xhtml => "xhtml",
        }
    }
}

/// An Atom text construct (`title`, `summary`) or content: its kind and value. For XHTML the value is the
/// markup of the `<div xmlns='http://www.w3.org/1999/xhtml'>` (kept as markup, to be sanitized by whoever
/// renders it); otherwise it is the text (HTML still escaped for `html`).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0277_microblog::{Text, TextKind};
/// let t = Text::from_element(&Element::parse("<content xmlns='http://www.w3.org/2005/Atom' type='xhtml'>\
///     <div xmlns='http://www.w3.org/1999/xhtml'><p>Hello <strong>world</strong></p></div></content>")?);
/// assert_eq!(t.kind, TextKind::Xhtml);
/// assert_eq!(t.value, "<div xmlns='http://www.w3.org/1999/xhtml'><p>Hello <strong>world</strong></p></div>");
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Text {
    /// The kind.
    pub kind: TextKind,
    /// The text, or the XHTML markup.
    pub value: String,
}

impl Text {
    /// Plain text.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0277_microblog::Text::plain("hi").value, "hi");
    /// ```
    pub fn plain(value: impl Into<String>) -> Text {
        Text { kind: TextKind::Text, value: value.into() }
    }

    /// XHTML: `markup` is a `<div xmlns='http://www.w3.org/1999/xhtml'>…</div>`.
    ///
    /// ```
    /// use moxl_xep::xep_0277_microblog::{Text, TextKind};
    /// assert_eq!(Text::xhtml("<div xmlns='http://www.w3.org/1999/xhtml'>hi</div>").kind, TextKind::Xhtml);
    /// ```
    pub fn xhtml(markup: impl Into<String>) -> Text {
        Text { kind: TextKind::Xhtml, value: markup.into() }
    }

    /// Reads a text construct.
    pub fn from_element(e: &Element) -> Text {
        let kind = TextKind::parse(e.attr("type").as_deref());
        let value = match kind {
            TextKind::Xhtml => e.child("div", NS_XHTML).map(|d| d.to_xml()).unwrap_or_else(|| e.text().into_owned()),
            _ => e.text().into_owned(),
        };
        Text { kind, value }
    }

    /// Writes it as the element `name` of the Atom namespace. XHTML markup that does not parse is written as
    /// `html` text, escaped.
    pub fn to_element(&self, name: &'static str) -> ElementBuilder {
        let e = ElementBuilder::new(name, NS_ATOM);
        match self.kind {
            TextKind::Xhtml => match Element::parse(&self.value) {
                Ok(div) => e.attr("type", "xhtml").append(div),
                Err(_) => e.attr("type", "html").text(self.value.clone()),
            },
            kind => e.attr("type", kind.as_str()).text(self.value.clone()),
        }
    }
}

/// An Atom person construct (RFC 4287 §3.2): the author of a post; `uri` is `xmpp:` + JID in XEP-0277 (§2).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Person {
    /// Name.
    pub name: Option<String>,
    /// URI (`xmpp:romeo@montague.lit`).
    pub uri: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
}

impl Person {
    /// A person with a name and a URI.
    ///
    /// ```
    /// let p = moxl_xep::xep_0277_microblog::Person::new("Romeo Montague", Some("xmpp:romeo@montague.lit"));
    /// assert_eq!(p.jid(), Some("romeo@montague.lit"));
    /// ```
    pub fn new(name: &str, uri: Option<&str>) -> Person {
        Person { name: Some(name.to_owned()), uri: uri.map(str::to_owned), email: None }
    }

    /// The JID of an `xmpp:` URI.
    pub fn jid(&self) -> Option<&str> {
        self.uri.as_deref()?.strip_prefix("xmpp:")
    }
}

/// An Atom link (RFC 4287 §4.2.7): `alternate`, `replies` (comments, §3.4), `via` (a repeat, XEP-0472 §4.5),
/// `enclosure` (an attachment), `related`…
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Link {
    /// `rel` (absent means `alternate`).
    pub rel: Option<String>,
    /// `href`.
    pub href: String,
    /// `type`, a media type.
    pub media_type: Option<String>,
    /// `title`.
    pub title: Option<String>,
}

impl Link {
    /// A link `rel` to `href`.
    ///
    /// ```
    /// let l = moxl_xep::xep_0277_microblog::Link::new("enclosure", "https://capulet.lit/upload/romeo.jpg").with_type("image/jpeg");
    /// assert_eq!(l.media_type.as_deref(), Some("image/jpeg"));
    /// ```
    pub fn new(rel: &str, href: &str) -> Link {
        Link { rel: Some(rel.to_owned()), href: href.to_owned(), media_type: None, title: None }
    }

    /// With a media type.
    pub fn with_type(mut self, media_type: &str) -> Link {
        self.media_type = Some(media_type.to_owned());
        self
    }

    /// The link to the comments of the post `item_id`, in `service` (§3.4).
    ///
    /// ```
    /// let l = moxl_xep::xep_0277_microblog::Link::comments("pubsub.montague.lit", "1cb57d9c");
    /// assert_eq!((l.rel.as_deref(), l.title.as_deref()), (Some("replies"), Some("comments")));
    /// assert_eq!(l.href, "xmpp:pubsub.montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0%3Acomments%2F1cb57d9c");
    /// ```
    pub fn comments(service: &str, item_id: &str) -> Link {
        Link {
            rel: Some("replies".to_owned()),
            href: NodeUri::new(service, &comments_node(item_id)).to_uri(),
            media_type: None,
            title: Some("comments".to_owned()),
        }
    }

    fn from_element(e: &Element) -> Option<Link> {
        Some(Link { rel: attr(e, "rel"), href: attr(e, "href")?, media_type: attr(e, "type"), title: attr(e, "title") })
    }
}

/// An Atom category (RFC 4287 §4.2.2): a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Category {
    /// `term`.
    pub term: String,
    /// `scheme`.
    pub scheme: Option<String>,
    /// `label`.
    pub label: Option<String>,
}

impl Category {
    /// A category with just a term.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0277_microblog::Category::new("balcony").term, "balcony");
    /// ```
    pub fn new(term: &str) -> Category {
        Category { term: term.to_owned(), scheme: None, label: None }
    }
}

/// `thr:in-reply-to` (RFC 4685 §3): the post a reply answers (XEP-0472 §4.4: at least one points to the post's
/// `xmpp:` URI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InReplyTo {
    /// `ref`: the Atom id of the post.
    pub reference: String,
    /// `href`: where the post is.
    pub href: Option<String>,
    /// `type` of `href`.
    pub media_type: Option<String>,
}

impl InReplyTo {
    /// A reply to the post with Atom id `reference`, at `href`.
    ///
    /// ```
    /// let r = moxl_xep::xep_0277_microblog::InReplyTo::new("tag:montague.lit,2008-05-08:posts-1", Some("xmpp:news.montague.lit?;node=f;item=1"));
    /// assert_eq!(r.href.as_deref(), Some("xmpp:news.montague.lit?;node=f;item=1"));
    /// ```
    pub fn new(reference: &str, href: Option<&str>) -> InReplyTo {
        InReplyTo { reference: reference.to_owned(), href: href.map(str::to_owned), media_type: None }
    }
}

/// An Atom entry (RFC 4287 §4.1.2), as XEP-0277 (§2) and XEP-0472 (§4) publish it.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0277_microblog::{Entry, TextKind};
/// // XEP-0277 §2, Example 2 (abridged)
/// let e = Entry::from_element(&Element::parse("<entry xmlns='http://www.w3.org/2005/Atom'>\
///     <author><name>Romeo Montague</name><uri>xmpp:romeo@montague.lit</uri></author>\
///     <title type='text'>hanging out at the Café Napolitano</title>\
///     <link rel='alternate' type='text/html' href='http://montague.lit/romeo/posts/1cb57d9c'/>\
///     <link rel='replies' title='comments' href='xmpp:pubsub.montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0%3Acomments%2F1cb57d9c'/>\
///     <id>tag:montague.lit,2008-05-08:posts-1cb57d9c-1c46-11dd-838c-001143d5d5db</id>\
///     <published>2008-05-08T18:30:02Z</published><updated>2008-05-08T18:30:02Z</updated></entry>")?).unwrap();
/// assert_eq!(e.title.as_ref().map(|t| (t.kind, t.value.as_str())), Some((TextKind::Text, "hanging out at the Café Napolitano")));
/// assert_eq!(e.authors[0].jid(), Some("romeo@montague.lit"));
/// assert_eq!(e.published.as_deref(), Some("2008-05-08T18:30:02Z"));
/// let comments = e.comments().unwrap();
/// assert_eq!((comments.jid.as_str(), comments.node.as_deref()), ("pubsub.montague.lit", Some("urn:xmpp:microblog:0:comments/1cb57d9c")));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Entry {
    /// `atom:id`.
    pub id: Option<String>,
    /// `atom:title`.
    pub title: Option<Text>,
    /// `atom:summary`.
    pub summary: Option<Text>,
    /// `atom:content`, in document order (XEP-0472 §4.2: a text one next to an XHTML one).
    pub contents: Vec<Text>,
    /// `atom:published` (RFC 3339).
    pub published: Option<String>,
    /// `atom:updated` (RFC 3339).
    pub updated: Option<String>,
    /// `atom:author`s.
    pub authors: Vec<Person>,
    /// `atom:link`s.
    pub links: Vec<Link>,
    /// `atom:category`s.
    pub categories: Vec<Category>,
    /// `thr:in-reply-to`s.
    pub in_reply_to: Vec<InReplyTo>,
}

impl Entry {
    /// A new post: a text title, a fresh `tag:` id from `domain` and `item_id`, published and updated now.
    ///
    /// ```
    /// let e = moxl_xep::xep_0277_microblog::Entry::new("Soliloquy", "denmark.lit", "ae890");
    /// assert!(e.id.as_deref().unwrap().starts_with("tag:denmark.lit,"));
    /// assert_eq!(e.published, e.updated);
    /// assert!(e.updated.as_deref().unwrap().ends_with('Z'));
    /// ```
    pub fn new(title: &str, domain: &str, item_id: &str) -> Entry {
        let now = rfc3339_now();
        let day = now.get(..10).unwrap_or_default();
        Entry {
            id: Some(format!("tag:{domain},{day}:posts-{item_id}")),
            title: Some(Text::plain(title)),
            published: Some(now.clone()),
            updated: Some(now),
            ..Entry::default()
        }
    }

    /// With a content (call twice for a text content and an XHTML one, XEP-0472 §4.2).
    ///
    /// ```
    /// use moxl_xep::xep_0277_microblog::{Entry, Text};
    /// let e = Entry::new("t", "d", "i").with_content(Text::plain("body"));
    /// assert_eq!(e.contents[0].value, "body");
    /// ```
    pub fn with_content(mut self, content: Text) -> Entry {
        self.contents.push(content);
        self
    }

    /// With an author.
    pub fn with_author(mut self, author: Person) -> Entry {
        self.authors.push(author);
        self
    }

    /// With a link.
    pub fn with_link(mut self, link: Link) -> Entry {
        self.links.push(link);
        self
    }

    /// With a category.
    pub fn with_category(mut self, category: Category) -> Entry {
        self.categories.push(category);
        self
    }

    /// As a reply (RFC 4685; XEP-0472 §4.4).
    pub fn with_in_reply_to(mut self, reply: InReplyTo) -> Entry {
        self.in_reply_to.push(reply);
        self
    }

    /// Reads an `<entry xmlns='http://www.w3.org/2005/Atom'/>`.
    pub fn from_element(entry: &Element) -> Option<Entry> {
        if !entry.is("entry", NS_ATOM) {
            return None;
        }
        let mut out = Entry::default();
        for c in entry.children() {
            match (c.ns(), c.name()) {
                (NS_ATOM, "id") => out.id = Some(c.text().trim().to_owned()),
                (NS_ATOM, "title") => out.title = Some(Text::from_element(&c)),
                (NS_ATOM, "summary") => out.summary = Some(Text::from_element(&c)),
                (NS_ATOM, "content") => out.contents.push(Text::from_element(&c)),
                (NS_ATOM, "published") => out.published = Some(c.text().trim().to_owned()),
                (NS_ATOM, "updated") => out.updated = Some(c.text().trim().to_owned()),
                (NS_ATOM, "author") => out.authors.push(Person {
                    name: c.child_text("name", NS_ATOM),
                    uri: c.child_text("uri", NS_ATOM).map(|u| u.trim().to_owned()),
                    email: c.child_text("email", NS_ATOM),
                }),
                (NS_ATOM, "link") => out.links.extend(Link::from_element(&c)),
                (NS_ATOM, "category") => out.categories.extend(attr(&c, "term").map(|term| Category {
                    term,
                    scheme: attr(&c, "scheme"),
                    label: attr(&c, "label"),
                })),
                (NS_THREAD, "in-reply-to") => out.in_reply_to.extend(attr(&c, "ref").map(|reference| InReplyTo {
                    reference,
                    href: attr(&c, "href"),
                    media_type: attr(&c, "type"),
                })),
                _ => {}
            }
        }
        Some(out)
    }

    /// Writes the entry.
    ///
    /// ```
    /// use moxl_xep::xep_0277_microblog::{Category, Entry, Link, Person, Text};
    /// let e = Entry::new("Soliloquy", "denmark.lit", "ae890")
    ///     .with_author(Person::new("Hamlet", Some("xmpp:hamlet@denmark.lit")))
    ///     .with_content(Text::plain("To be, or not to be"))
    ///     .with_content(Text::xhtml("<div xmlns='http://www.w3.org/1999/xhtml'><p>To be, or <em>not</em> to be</p></div>"))
    ///     .with_link(Link::comments("pubsub.denmark.lit", "ae890"))
    ///     .with_category(Category::new("theatre"));
    /// let again = Entry::from_element(&e.to_element().build()?).unwrap();
    /// assert_eq!(again, e);
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        let mut e = ElementBuilder::new("entry", NS_ATOM);
        for a in &self.authors {
            let mut author = ElementBuilder::new("author", NS_ATOM);
            for (name, value) in [("name", &a.name), ("uri", &a.uri), ("email", &a.email)] {
                if let Some(v) = value {
                    author = author.text_child(name, v.clone());
                }
            }
            e = e.append(author);
        }
        if let Some(t) = &self.title {
            e = e.append(t.to_element("title"));
        }
        if let Some(t) = &self.summary {
            e = e.append(t.to_element("summary"));
        }
        for c in &self.contents {
            e = e.append(c.to_element("content"));
        }
        for l in &self.links {
            e = e.append(
                ElementBuilder::new("link", NS_ATOM)
                    .attr_opt("rel", l.rel.clone())
                    .attr("href", l.href.clone())
                    .attr_opt("type", l.media_type.clone())
                    .attr_opt("title", l.title.clone()),
            );
        }
        for c in &self.categories {
            e = e.append(
                ElementBuilder::new("category", NS_ATOM)
                    .attr("term", c.term.clone())
                    .attr_opt("scheme", c.scheme.clone())
                    .attr_opt("label", c.label.clone()),
            );
        }
        for (name, value) in [("id", &self.id), ("published", &self.published), ("updated", &self.updated)] {
            if let Some(v) = value {
                e = e.text_child(name, v.clone());
            }
        }
        for r in &self.in_reply_to {
            e = e.append(
                ElementBuilder::new("in-reply-to", NS_THREAD)
                    .attr("ref", r.reference.clone())
                    .attr_opt("href", r.href.clone())
                    .attr_opt("type", r.media_type.clone()),
            );
        }
        e
    }

    /// The links with this `rel` (`alternate` also matches links without `rel`).
    ///
    /// ```
    /// use moxl_xep::xep_0277_microblog::{Entry, Link};
    /// let e = Entry::default().with_link(Link::new("enclosure", "https://a/1.jpg")).with_link(Link::new("via", "xmpp:a?;node=n;item=1"));
    /// assert_eq!(e.links_by_rel("enclosure").count(), 1);
    /// ```
    pub fn links_by_rel<'a>(&'a self, rel: &'a str) -> impl Iterator<Item = &'a Link> + 'a {
        self.links.iter().filter(move |l| l.rel.as_deref().unwrap_or("alternate") == rel)
    }

    /// The node of the comments (§3.4): the `replies` link titled `comments`, else the first `replies` link
    /// with an `xmpp:` URI.
    pub fn comments(&self) -> Option<NodeUri> {
        let replies = || self.links_by_rel("replies");
        replies()
            .filter(|l| l.title.as_deref() == Some("comments"))
            .chain(replies())
            .find_map(|l| NodeUri::parse(&l.href))
    }

    /// The text content, else the first content (a post with XHTML content also carries a text one, XEP-0472
    /// §4.2).
    pub fn text_content(&self) -> Option<&Text> {
        self.contents.iter().find(|c| c.kind == TextKind::Text).or_else(|| self.contents.first())
    }
}

/// The current time as RFC 3339 in UTC, to the second (`2008-05-08T18:30:02Z`).
fn rfc3339_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// A post: an entry with its item id and its publisher (XEP-0060 `publisher`, when the service tells it).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0060_pubsub::Item;
/// use moxl_xep::xep_0277_microblog::Post;
/// let item = Element::parse("<item xmlns='http://jabber.org/protocol/pubsub#event' id='1cb57d9c' publisher='romeo@montague.lit'>\
///     <entry xmlns='http://www.w3.org/2005/Atom'><title>hi</title></entry></item>")?;
/// let post = Post::from_item(&Item::from_element(&item).unwrap()).unwrap();
/// assert_eq!(post.item_id.as_deref(), Some("1cb57d9c"));
/// assert_eq!(post.entry.title.unwrap().value, "hi");
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Post {
    /// The pubsub item id.
    pub item_id: Option<String>,
    /// The publisher.
    pub publisher: Option<String>,
    /// The entry.
    pub entry: Entry,
}

impl Post {
    /// The post of an item; `None` if its payload is not an Atom entry.
    pub fn from_item(item: &Item) -> Option<Post> {
        Some(Post {
            item_id: item.id.clone(),
            publisher: item.publisher.clone(),
            entry: Entry::from_element(item.payload.as_ref()?)?,
        })
    }
}

/// Publishes `entry` as our post `id` (§2; `None`: the service picks the id) to our microblog node.
///
/// ```
/// use moxl_xep::xep_0277_microblog::{publish, Entry};
/// let iq = publish(&Entry::new("hi", "montague.lit", "p1"), Some("p1")).build()?;
/// assert!(iq.to_xml().contains("<publish node='urn:xmpp:microblog:0'><item id='p1'><entry xmlns='http://www.w3.org/2005/Atom'>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn publish(entry: &Entry, id: Option<&str>) -> ElementBuilder {
    pubsub::publish(None, NODE, id, entry.to_element())
}

/// The Action that publishes `entry` as our post `id` ([`Publish`], with XEP-0472's publish-options for a
/// microblog of access model `presence`).
///
/// ```
/// use moxl_xep::xep_0277_microblog::{publish_action, Entry};
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let mut published = xec.subscribe("microblog_publish_handle");
/// xec.context().request(publish_action(&Entry::new("hi", "montague.lit", "p1"), Some("p1"))?)?;
/// # Ok(()) }
/// ```
pub fn publish_action(entry: &Entry, id: Option<&str>) -> moxl_core::Result<Publish> {
    Publish::new(entry, id)
}

/// Publishes a post to our microblog with XEP-0472's publish-options (§6.2: the microblog type, every post kept,
/// an access model; see [`microblog_options`](crate::xep_0472_social_profile::microblog_options)), so that a
/// first post creates a node that keeps the posts (a PEP node's default keeps only the last one, XEP-0163).
///
/// A node that exists with another configuration refuses the options (`precondition-not-met`, XEP-0060
/// §7.1.5): the post is then published again without options, once, into the node as it is configured (its
/// owner's choices, such as the access model, are never changed behind their back). Some services refuse options
/// they do not support (`not-acceptable`, `bad-request`, `feature-not-implemented`; ejabberd 23.01:
/// `resource-constraint`): the node is then first created with the same settings as its configuration (§8.1.3;
/// an existing node answers `conflict` and stays as it is), and the post published without options. A creation
/// that fails otherwise (`internal-server-error`, a temporary `wait` error) ends the publish with that error: the
/// post is not published without options then, which would have the service create the node with its defaults
/// (keeping only the last post on ejabberd).
///
/// | Packet key | content | when |
/// |---|---|---|
/// | `microblog_publish_handle` | [`Published`](pubsub::Published) | published |
/// | `microblog_publish_error` | [`StanzaError`] | refused (also without options) |
///
/// ```
/// use moxl_xep::xep_0277_microblog::{Entry, Publish};
/// let p = Publish::new(&Entry::new("hi", "montague.lit", "p1"), Some("p1"))?.access_model("open");
/// assert!(p.request_stanza().build()?.to_xml().contains("<value>open</value>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Publish {
    publish: pubsub::Publish,
    /// The publish-options were sent and refused: this is the publish without them.
    plain: bool,
    /// The access model of the options.
    #[serde(default = "presence")]
    access_model: String,
    /// This step creates the node with the options as its configuration (XEP-0060 §8.1.3), then publishes
    /// without them: the service refused the options as such (not as a mismatch, which is precondition-not-met).
    #[serde(default)]
    create: bool,
}

fn presence() -> String {
    "presence".to_owned()
}

impl Publish {
    /// A post `entry` with item id `id` (`None`: the service's choice), access model `presence`.
    pub fn new(entry: &Entry, id: Option<&str>) -> moxl_core::Result<Publish> {
        let publish = pubsub::Publish::new(None, NODE, id, entry.to_element())?
            .with_options(crate::xep_0472_social_profile::microblog_options("presence"));
        Ok(Publish { publish, plain: false, access_model: presence(), create: false })
    }

    /// The same post with another access model (XEP-0060 §4.5: `open`, `presence`, `roster`, `whitelist`).
    pub fn access_model(mut self, access_model: &str) -> Publish {
        self.publish = self.publish.with_options(crate::xep_0472_social_profile::microblog_options(access_model));
        access_model.clone_into(&mut self.access_model);
        self
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        if self.create {
            let config = crate::xep_0472_social_profile::microblog_config(&self.access_model);
            return pubsub::create_with_config(None, Some(NODE), &config);
        }
        self.publish.request_stanza()
    }

    /// After a refusal of the options: the publish without them, unless it was that already.
    fn without_options(&self) -> Option<Publish> {
        (!self.plain).then(|| Publish {
            publish: self.publish.clone().without_options(),
            plain: true,
            access_model: self.access_model.clone(),
            create: false,
        })
    }

    /// After the service refused the options as such: the node created with them as its configuration, then
    /// the publish without them.
    fn creating(&self) -> Option<Publish> {
        (!self.plain && !self.create).then(|| Publish { create: true, ..self.clone() })
    }
}

/// Whether the refusal to create our microblog with its configuration (XEP-0060 §8.1.1, §8.1.3) leaves the node
/// as it is, to be published to without options: it exists (`conflict`), or the service will not create it this
/// way (`forbidden`, `not-allowed`, `feature-not-implemented`, `not-acceptable`, `bad-request`). Any other answer
/// (an `internal-server-error`, an error of type `wait`, which RFC 6120 §8.3.2 calls temporary) says nothing
/// about the node: ejabberd 23.01 answers two node creations that meet in its database (a Mnesia deadlock)
/// `internal-server-error` "Database failure", with no node created.
fn leaves_the_node_as_it_is(error: &StanzaError) -> bool {
    matches!(
        error.condition_name(),
        "conflict" | "forbidden" | "not-allowed" | "feature-not-implemented" | "not-acceptable" | "bad-request"
    )
}

/// Whether a publish error is about the publish-options (XEP-0060 §7.1.5): precondition-not-met, or options the
/// service does not accept ([`pubsub::is_options_refused`]).
fn refuses_options(error: &StanzaError) -> bool {
    pubsub::is_precondition_not_met(error) || pubsub::is_options_refused(error)
}

#[action(group = "microblog")]
impl Publish {
    /// The published item (its id).
    type Output = pubsub::Published;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> moxl_core::Result<pubsub::Published> {
        if self.create {
            // the node exists, configured: the post goes in without options (the requester gets that result)
            if let Some(plain) = self.without_options() {
                ctx.continue_with(plain)?;
            }
            return Ok(pubsub::Published { node: NODE.to_owned(), id: None });
        }
        Ok(self.publish.published(stanza))
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) -> moxl_core::Result<()> {
        if self.create {
            if leaves_the_node_as_it_is(error) {
                // it exists (`conflict`), or the service will not create it so: the post goes in as the node is
                if let Some(plain) = self.without_options() {
                    ctx.continue_with(plain)?;
                    return Ok(());
                }
            } else {
                // nothing was created, and a publish without options now would have the service create the node
                // with its defaults (ejabberd's PEP keeps one item: every earlier post lost from then on)
                ctx.pack(error.clone()).deliver();
                return Ok(());
            }
        }
        // options the service does not take (not a mismatch with an existing node's configuration): create the
        // node with them as its configuration first (a first post would otherwise create one with the PEP
        // defaults, which keep only the last item on ejabberd)
        if refuses_options(error)
            && !pubsub::is_precondition_not_met(error)
            && let Some(create) = self.creating()
        {
            tracing::info!(
                condition = error.condition_name(),
                "microblog publish-options refused: creating the node with them as its configuration"
            );
            ctx.continue_with(create)?;
            return Ok(());
        }
        if refuses_options(error)
            && let Some(retry) = self.without_options()
        {
            tracing::info!(condition = error.condition_name(), "microblog publish-options refused: publishing without");
            // The requester gets the retry's result.
            ctx.continue_with(retry)?;
            return Ok(());
        }
        ctx.pack(error.clone()).deliver();
        Ok(())
    }
}

/// Deletes our post `id`, notifying subscribers (§2 and XEP-0060 §7.2).
///
/// ```
/// let iq = moxl_xep::xep_0277_microblog::retract("p1").build()?;
/// assert!(iq.to_xml().contains("<retract node='urn:xmpp:microblog:0' notify='true'><item id='p1'/></retract>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn retract(id: &str) -> ElementBuilder {
    pubsub::retract(None, NODE, id, true)
}

/// The Action that deletes our post `id`: a [`pubsub::Retract`] (`pubsub_retract_handle`).
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(moxl_xep::xep_0277_microblog::retract_action("p1"))?;
/// # Ok(()) }
/// ```
pub fn retract_action(id: &str) -> pubsub::Retract {
    pubsub::Retract::new(None, NODE, id, true)
}

/// A page of `jid`'s microblog (`None`: ours), XEP-0060 §6.5.4 with XEP-0059.
///
/// ```
/// use moxl_xep::xep_0059_rsm::SetQuery;
/// let iq = moxl_xep::xep_0277_microblog::feed(Some("romeo@montague.lit"), &SetQuery::max(10)).build()?;
/// assert!(iq.to_xml().contains("<items node='urn:xmpp:microblog:0'/><set xmlns='http://jabber.org/protocol/rsm'><max>10</max></set>"));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn feed(jid: Option<&str>, set: &SetQuery) -> ElementBuilder {
    pubsub::items_page(jid, NODE, set)
}

/// One page of a feed: whose, the node, its posts (items that are not Atom entries are left out) and the
/// result set to ask for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FeedPage {
    /// The service or account (`None`: ours).
    pub jid: Option<String>,
    /// The node.
    pub node: String,
    /// The posts, in the service's order.
    pub posts: Vec<Post>,
    /// The result set (XEP-0059).
    pub set: Option<SetResult>,
}

/// Reads a page of a microblog or comments node (§2, §3.4). Its `Output` is the [`FeedPage`] (also the Packet
/// `microblog_feed_handle`); an error reply resolves to `Err(Error::Stanza(..))` and is delivered as
/// `microblog_feed_error<condition>` (`item-not-found`: no microblog).
///
/// ```
/// use moxl_xep::xep_0059_rsm::SetQuery;
/// use moxl_xep::xep_0277_microblog::Feed;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let page = xec.context().request(Feed::new(Some("romeo@montague.lit"), SetQuery::max(20)))?.await?;
/// for post in &page.posts {
///     println!("{:?}", post.entry.title);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Feed {
    jid: Option<String>,
    node: String,
    set: SetQuery,
    /// Asks for the most recent items with `max_items` (XEP-0060 §6.5.7) instead of XEP-0059 paging.
    #[serde(default)]
    max_items: Option<u32>,
}

impl Feed {
    /// The page `set` of `jid`'s microblog (`None`: ours).
    ///
    /// ```
    /// use moxl_xep::xep_0059_rsm::SetQuery;
    /// let f = moxl_xep::xep_0277_microblog::Feed::new(None, SetQuery::max(2));
    /// assert!(f.request_stanza().build()?.to_xml().contains("<items node='urn:xmpp:microblog:0'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn new(jid: Option<&str>, set: SetQuery) -> Feed {
        Feed { jid: jid.map(str::to_owned), node: NODE.to_owned(), set, max_items: None }
    }

    /// The `n` most recent posts of `jid`'s microblog (`None`: ours), asked with `max_items` (XEP-0060 §6.5.7):
    /// the way to get "the last N posts" from PEP services that ignore XEP-0059 paging on PEP nodes (Prosody
    /// answers every item to a `<set><max/></set>`). The page has no result set.
    ///
    /// ```
    /// let f = moxl_xep::xep_0277_microblog::Feed::last(Some("romeo@montague.lit"), 5);
    /// assert!(f.request_stanza().build()?.to_xml().contains("<items node='urn:xmpp:microblog:0' max_items='5'/>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn last(jid: Option<&str>, n: u32) -> Feed {
        Feed { jid: jid.map(str::to_owned), node: NODE.to_owned(), set: SetQuery::default(), max_items: Some(n) }
    }

    /// The page `set` of another node holding posts: a comments node (§3.4) or a feed on a pubsub service.
    ///
    /// ```
    /// use moxl_xep::xep_0059_rsm::SetQuery;
    /// use moxl_xep::xep_0277_microblog::{comments_node, Feed};
    /// let f = Feed::of_node("pubsub.montague.lit", &comments_node("1cb57d9c"), SetQuery::max(2));
    /// assert!(f.request_stanza().build()?.to_xml().contains("to='pubsub.montague.lit'"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn of_node(jid: &str, node: &str, set: SetQuery) -> Feed {
        Feed { jid: Some(jid.to_owned()), node: node.to_owned(), set, max_items: None }
    }

    /// The request this Action sends.
    pub fn request_stanza(&self) -> ElementBuilder {
        match self.max_items {
            Some(n) => pubsub::items_max(self.jid.as_deref(), &self.node, n),
            None => pubsub::items_page(self.jid.as_deref(), &self.node, &self.set),
        }
    }
}

#[action(group = "microblog")]
impl Feed {
    /// The page of posts.
    type Output = FeedPage;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<FeedPage> {
        let page = Page::from_result(stanza);
        Ok(FeedPage {
            jid: self.jid.clone(),
            node: self.node.clone(),
            posts: page.as_ref().map(|p| p.items.iter().filter_map(Post::from_item).collect()).unwrap_or_default(),
            set: page.and_then(|p| p.set),
        })
    }
}

/// The contacts we asked to follow in this session, whose approval we wait for (bare JIDs).
#[derive(Default)]
struct Following(std::sync::Mutex<std::collections::BTreeSet<String>>);

fn bare(jid: &str) -> &str {
    jid.split_once('/').map_or(jid, |(bare, _)| bare)
}

/// Follows `jid`'s microblog the way PEP delivers it (XEP-0163 §4.3): asks to subscribe to the contact's
/// presence (RFC 6121 §3.1.1; a contact's PEP service notifies only those subscribed to its presence), and once
/// the contact approves (`subscribed`, which reaches this session because it fetched the roster at its start,
/// RFC 6121 §3.1.6), sends the contact our presence directly ([`FollowApproved`]). Our broadcast presence does
/// not reach a contact who does not see our presence, so without it the contact's server would never learn
/// our entity capabilities, with their `urn:xmpp:microblog:0+notify`, and would send no notifications
/// (XEP-0163 §4.3.1); with it, the server sends the last post (§4.3.3) and each new one. Already subscribed, the
/// contact's server approves again at once (RFC 6121 §3.1.3) and the same follows.
///
/// The wait for the approval is kept in the session's memory: an approval that comes in a later run is not
/// followed by the directed presence (call `follow` again then).
///
/// ```
/// # fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let mut approved = xec.subscribe("microblog_followapproved");
/// moxl_xep::xep_0277_microblog::follow(&xec.context(), "juliet@capulet.lit")?;
/// # Ok(()) }
/// ```
pub fn follow(ctx: &Context, jid: &str) -> moxl_core::Result<()> {
    let contact = bare(jid).to_owned();
    ctx.session_state::<Following>()
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(contact.clone());
    ctx.send(moxl_core::stanza::presence(Some(&contact), Some("subscribe")))
}

/// The approval of a [`follow`]: sends the contact our available presence directly (with our entity
/// capabilities, so `+notify`), then delivers the contact's bare JID (`microblog_followapproved`). Only for a
/// contact this session asked to follow; other approvals are left to `rfc6121_presence`.
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// let mut approved = xec.subscribe("microblog_followapproved");
/// moxl_xep::xep_0277_microblog::follow(&xec.context(), "juliet@capulet.lit")?;
/// assert_eq!(xec.take_outgoing()[0].attr("type").as_deref(), Some("subscribe"));
/// xec.dispatch(Element::parse("<presence xmlns='jabber:client' from='juliet@capulet.lit' type='subscribed'/>")?).await;
/// let directed = xec.take_outgoing().remove(0);
/// assert_eq!((directed.attr("to").as_deref(), directed.attr("type")), (Some("juliet@capulet.lit"), None));
/// assert_eq!(approved.try_recv().unwrap().content::<String>().unwrap(), "juliet@capulet.lit");
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "presence", ns = "jabber:client", key = "microblog_followapproved")]
#[derive(Debug, Default)]
pub struct FollowApproved;

impl Payload for FollowApproved {
    /// Only while we wait for an approval (most sessions, most of the time, do not).
    fn wanted(ctx: &Context) -> bool {
        !ctx.session_state::<Following>().0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_empty()
    }

    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        if !element.ptr_eq(stanza) || ctx.is_unwrapped() || element.attr("type").as_deref() != Some("subscribed") {
            return Ok(());
        }
        let Some(from) = element.attr("from") else { return Ok(()) };
        let contact = bare(&from).to_owned();
        let asked = ctx
            .session_state::<Following>()
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&contact);
        if asked {
            // RFC 6121 §4.6: directed presence, so that the contact's PEP service learns our +notify.
            ctx.send(moxl_core::stanza::presence(Some(&contact), None))?;
            ctx.pack(contact).deliver();
        }
        Ok(())
    }
}

/// A change in a contact's (or our own) microblog, from its PEP notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MicroblogEvent {
    /// Posts published or updated.
    Posts {
        /// Whose microblog (a bare JID).
        from: String,
        /// The posts.
        posts: Vec<Post>,
    },
    /// Posts published or updated, announced without their entries (a node with `pubsub#deliver_payloads`
    /// false, as XEP-0472 §6.1.1 recommends): fetch them by id with [`pubsub::Items`] (`ids`).
    Announced {
        /// Whose microblog.
        from: String,
        /// The item ids.
        ids: Vec<String>,
    },
    /// Posts deleted.
    Retracted {
        /// Whose microblog.
        from: String,
        /// The item ids.
        ids: Vec<String>,
    },
    /// Every post deleted (XEP-0060 §8.5.2).
    Purged {
        /// Whose microblog.
        from: String,
    },
    /// The microblog deleted (XEP-0060 §8.4.2).
    Deleted {
        /// Whose microblog.
        from: String,
    },
}

impl MicroblogEvent {
    /// The microblog events of a pubsub event: none unless it is a PEP event of the microblog node (sent by an
    /// account's bare JID, XEP-0163). Items without payload are announced by id; items whose payload is not an
    /// Atom entry are left out.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0060_pubsub::Event;
    /// use moxl_xep::xep_0277_microblog::MicroblogEvent;
    /// let m = Element::parse("<message xmlns='jabber:client' from='romeo@montague.lit' to='juliet@capulet.lit'>\
    ///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:microblog:0'>\
    ///     <retract id='1cb57d9c'/></items></event></message>")?;
    /// let events = MicroblogEvent::from_event(&Event::from_message(&m).unwrap());
    /// assert_eq!(events, [MicroblogEvent::Retracted { from: "romeo@montague.lit".into(), ids: vec!["1cb57d9c".into()] }]);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_event(event: &Event) -> Vec<MicroblogEvent> {
        let from = match &event.from {
            Some(from) if event.node == NODE && is_pep_event(event) => from.clone(),
            _ => return Vec::new(),
        };
        match &event.kind {
            EventKind::Items { items, retracted } => {
                let posts: Vec<Post> = items.iter().filter_map(Post::from_item).collect();
                let ids: Vec<String> =
                    items.iter().filter(|i| i.payload.is_none()).filter_map(|i| i.id.clone()).collect();
                let mut out = Vec::new();
                if !posts.is_empty() {
                    out.push(MicroblogEvent::Posts { from: from.clone(), posts });
                }
                if !ids.is_empty() {
                    out.push(MicroblogEvent::Announced { from: from.clone(), ids });
                }
                if !retracted.is_empty() {
                    out.push(MicroblogEvent::Retracted { from, ids: retracted.clone() });
                }
                out
            }
            EventKind::Purge => vec![MicroblogEvent::Purged { from }],
            EventKind::Delete { .. } => vec![MicroblogEvent::Deleted { from }],
            _ => Vec::new(),
        }
    }
}

/// Delivers the notifications of microblog nodes (`urn:xmpp:microblog:0`) as [`MicroblogEvent`]s: one
/// Packet per change (a notification with posts and retractions gives two). Events that do not come from an
/// account's bare JID (PEP, XEP-0163) are ignored.
///
/// | Packet key | content |
/// |---|---|
/// | `microblog_event` | [`MicroblogEvent`] (the Packet's sender is the microblog's owner) |
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0277_microblog::MicroblogEvent;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// // the typed view of the Packets keyed `microblog_event`
/// let mut posts = xec.events::<MicroblogEvent>();
/// // XEP-0277 §2, Example 3 (abridged)
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='romeo@montague.lit' to='juliet@capulet.lit' type='headline'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:microblog:0'>\
///     <item id='1cb57d9c-1c46-11dd-838c-001143d5d5db' publisher='romeo@montague.lit'><entry xmlns='http://www.w3.org/2005/Atom'>\
///     <title type='text'>hanging out at the Caf&#233; Napolitano</title><id>tag:montague.lit,2008-05-08:posts-1cb57d9c</id>\
///     <published>2008-05-08T18:30:02Z</published><updated>2008-05-08T18:30:02Z</updated></entry></item></items></event></message>")?).await;
/// let packet = posts.try_recv().unwrap();
/// let MicroblogEvent::Posts { from, posts } = &*packet else { panic!() };
/// assert_eq!(from, "romeo@montague.lit");
/// assert_eq!(posts[0].entry.title.as_ref().unwrap().value, "hanging out at the Café Napolitano");
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(
    name = "event",
    ns = "http://jabber.org/protocol/pubsub#event",
    node = "urn:xmpp:microblog:0",
    key = "microblog_event",
    at = "child"
)]
#[derive(Debug, Default)]
pub struct MicroblogEvents;

impl Payload for MicroblogEvents {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<MicroblogEvent>()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> moxl_core::Result<()> {
        for event in Event::from_message(stanza).iter().flat_map(MicroblogEvent::from_event) {
            ctx.pack(event).deliver();
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
    fn notifications_are_asked_for_in_the_declared_features() {
        let features: Vec<_> = moxl_core::xec::Registry::global().unwrap().features().collect();
        assert!(features.contains(&"urn:xmpp:microblog:0+notify"), "{features:?}");
        assert!(features.contains(&crate::xep_0472_social_profile::NS), "{features:?}");
        assert_eq!(crate::xep_0163_pep::notify_feature(NODE), "urn:xmpp:microblog:0+notify");
    }

    /// Answers the last stanza sent with `reply` (its `ID` replaced by the request's id); returns the request.
    fn answer(xec: &Xec, reply: &str) -> Element {
        let sent = xec.take_outgoing().pop().unwrap();
        let id = sent.attr("id").unwrap().into_owned();
        block_on(xec.dispatch(Element::parse(&reply.replace("ID", &id)).unwrap()));
        sent
    }

    /// ejabberd 23.01's answer to a publish-options field it does not know.
    const UNKNOWN_OPTION: &str = "<iq xmlns='jabber:client' type='error' id='ID'><error type='wait'>\
        <resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>\
        Unknown field 'pubsub#type' of type 'http://jabber.org/protocol/pubsub#publish-options'</text></error></iq>";

    #[test]
    fn options_the_service_does_not_take_become_the_configuration_of_the_node_created_first() {
        let xec = Xec::new().unwrap();
        let entry = Entry::new("hi", "montague.lit", "p1");
        let request = xec.context().request(publish_action(&entry, Some("p1")).unwrap()).unwrap();
        let first = answer(&xec, UNKNOWN_OPTION);
        assert!(first.to_xml().contains("<publish-options>"));
        // created with the options as its configuration (XEP-0060 §8.1.3)
        let create = answer(&xec, "<iq xmlns='jabber:client' type='result' id='ID'/>");
        let xml = create.to_xml();
        assert!(xml.contains("<create node='urn:xmpp:microblog:0'/><configure>"), "{xml}");
        assert!(xml.contains("pubsub#node_config") && xml.contains("<value>presence</value>"), "{xml}");
        // then published without options; the requester gets that result
        let plain = answer(
            &xec,
            "<iq xmlns='jabber:client' type='result' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
             <publish node='urn:xmpp:microblog:0'><item id='p1'/></publish></pubsub></iq>",
        );
        assert!(plain.to_xml().contains("<publish node='urn:xmpp:microblog:0'><item id='p1'>"));
        assert!(!plain.to_xml().contains("publish-options"));
        assert_eq!(block_on(request).unwrap().id.as_deref(), Some("p1"));

        // a node that exists answers the create with a conflict: the post goes in as the node is
        let request = xec.context().request(publish_action(&entry, Some("p2")).unwrap()).unwrap();
        answer(&xec, UNKNOWN_OPTION);
        answer(
            &xec,
            "<iq xmlns='jabber:client' type='error' id='ID'><error type='cancel'>\
             <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        );
        answer(
            &xec,
            "<iq xmlns='jabber:client' type='result' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'>\
             <publish node='urn:xmpp:microblog:0'><item id='p2'/></publish></pubsub></iq>",
        );
        assert_eq!(block_on(request).unwrap().id.as_deref(), Some("p2"));
        assert!(xec.take_outgoing().is_empty());

        // a creation that failed for a passing reason (ejabberd 23.01's answer to two creations meeting in its
        // database) ends the publish with that error: no publish without options, which would have the service
        // create the node with its defaults
        let request = xec.context().request(publish_action(&entry, Some("p3")).unwrap()).unwrap();
        answer(&xec, UNKNOWN_OPTION);
        answer(
            &xec,
            "<iq xmlns='jabber:client' type='error' id='ID'><error type='wait'>\
             <internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Database failure</text></error></iq>",
        );
        assert!(xec.take_outgoing().is_empty(), "nothing published");
        match block_on(request) {
            Err(moxl_core::Error::Stanza(e)) => assert_eq!(e.condition_name(), "internal-server-error"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rfc3339_now_is_a_date() {
        let now = rfc3339_now();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
    }

    #[test]
    fn only_pep_events_of_the_microblog_node_are_posts() {
        let xec = Xec::new().unwrap();
        let mut posts = xec.subscribe("microblog_event");
        let item = "<item id='p1'><entry xmlns='http://www.w3.org/2005/Atom'><title>t</title></entry></item>";
        for (from, node, delivered) in [
            ("romeo@montague.lit", NODE, true),
            ("romeo@montague.lit/orchard", NODE, false),
            ("pubsub.montague.lit", NODE, false),
            ("romeo@montague.lit", "urn:xmpp:microblog:0:comments/p0", false),
        ] {
            let m = format!(
                "<message xmlns='jabber:client' from='{from}'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
                 <items node='{node}'>{item}</items></event></message>"
            );
            block_on(xec.dispatch(Element::parse(&m).unwrap()));
            assert_eq!(posts.try_recv().is_some(), delivered, "{from} {node}");
        }
        // purge and delete of the microblog, and a notification without payload
        for (inner, expected) in [
            (
                "<items node='urn:xmpp:microblog:0'><item id='p2'/></items>",
                MicroblogEvent::Announced { from: "romeo@montague.lit".into(), ids: vec!["p2".into()] },
            ),
            ("<purge node='urn:xmpp:microblog:0'/>", MicroblogEvent::Purged { from: "romeo@montague.lit".into() }),
            ("<delete node='urn:xmpp:microblog:0'/>", MicroblogEvent::Deleted { from: "romeo@montague.lit".into() }),
        ] {
            let m = format!(
                "<message xmlns='jabber:client' from='romeo@montague.lit'><event xmlns='http://jabber.org/protocol/pubsub#event'>{inner}</event></message>"
            );
            block_on(xec.dispatch(Element::parse(&m).unwrap()));
            assert_eq!(posts.try_recv().unwrap().content::<MicroblogEvent>(), Some(&expected));
        }
    }

    #[test]
    fn a_reply_with_xhtml_round_trips() {
        // XEP-0472 §4.4 Example 4 (abridged), with an XHTML content
        let xml = "<entry xmlns='http://www.w3.org/2005/Atom' xmlns:thr='http://purl.org/syndication/thread/1.0'>\
            <author><name>Benvolio Montague</name><uri>xmpp:romeo@montague.lit</uri></author>\
            <title type='text'>@romeo cappuccino this late in the day?</title>\
            <content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>cappuccino <b>this late</b>?</p></div></content>\
            <id>tag:montague.lit,2008-05-08:posts-c4145006-1c53-11dd-b2d5-000bcd82471e</id>\
            <published>2008-05-08T18:31:21Z</published><updated>2008-05-08T18:31:21Z</updated>\
            <thr:in-reply-to ref='tag:montague.lit,2008-05-08:posts-1cb57d9c-1c46-11dd-838c-001143d5d5db' \
              href='xmpp:news.montague.lit?;node=montague-family;item=1cb57d9c-1c46-11dd-838c-001143d5d5db'/></entry>";
        let e = Entry::from_element(&Element::parse(xml).unwrap()).unwrap();
        assert_eq!(e.in_reply_to.len(), 1);
        assert_eq!(
            e.contents[0].value,
            "<div xmlns='http://www.w3.org/1999/xhtml'><p>cappuccino <b>this late</b>?</p></div>"
        );
        let again = Entry::from_element(&e.to_element().build().unwrap()).unwrap();
        assert_eq!(again, e);
        // markup that does not parse is kept as escaped html
        let bad = Entry::default().with_content(Text::xhtml("<div>unclosed"));
        let built = bad.to_element().build().unwrap();
        let back = Entry::from_element(&built).unwrap();
        assert_eq!(back.contents[0], Text { kind: TextKind::Html, value: "<div>unclosed".into() });
    }
}
