//! XEP-0191: Blocking Command. Gets the block list ([`GetBlocklist`], §3.2), blocks ([`Block`], §3.3) and
//! unblocks contacts, some or all ([`Unblock`], §3.5, §3.6), follows the pushes by which the server tells every
//! interested client of the account about a change ([`BlockPush`], [`UnblockPush`]), and recognises the error
//! that says a message went to a contact we blocked ([`is_blocked_error`], [`BlockedError`], §3.4).
//!
//! The server pushes changes only to the clients that have fetched the list (§3.3, "interested resources"):
//! request [`GetBlocklist`] once after login to get pushes.
//!
//! Blocking is a server feature (`urn:xmpp:blocking` in the server's disco#info, §4): a client that only uses it
//! advertises nothing, so this module declares no feature.

use moxl_core::jid::Jid;
use moxl_core::stanza::{Condition, StanzaError, error_reply, iq_get, iq_result, iq_set};
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

/// `urn:xmpp:blocking` (§3, §9).
///
/// ```
/// assert_eq!(moxl_xep::xep_0191_blocking::NS, "urn:xmpp:blocking");
/// ```
pub const NS: &str = "urn:xmpp:blocking";

/// `urn:xmpp:blocking:errors`, the namespace of the `<blocked/>` application error (§3.4).
///
/// ```
/// assert_eq!(moxl_xep::xep_0191_blocking::ERRORS_NS, "urn:xmpp:blocking:errors");
/// ```
pub const ERRORS_NS: &str = "urn:xmpp:blocking:errors";

/// An element `name` (`blocklist`, `block`, `unblock`) listing `jids` as `<item jid='…'/>`.
fn list(name: &'static str, jids: &[String]) -> ElementBuilder {
    jids.iter()
        .fold(ElementBuilder::new(name, NS), |l, j| l.append(ElementBuilder::new("item", NS).attr("jid", j.clone())))
}

/// The request for the block list (§3.2, Example 3).
///
/// ```
/// let iq = moxl_xep::xep_0191_blocking::blocklist().attr("id", "blocklist1").build()?;
/// assert_eq!(iq.to_xml(), "<iq xmlns='jabber:client' type='get' id='blocklist1'><blocklist xmlns='urn:xmpp:blocking'/></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn blocklist() -> ElementBuilder {
    iq_get(None).append(ElementBuilder::new("blocklist", NS))
}

/// The request that blocks `jids` (§3.3, Example 5). Each may be a bare or full JID or a domain (XEP-0191 §3.3
/// and XEP-0016's JID matching rules).
///
/// ```
/// let iq = moxl_xep::xep_0191_blocking::block(&["romeo@montague.net".into()]).attr("id", "block1").build()?;
/// assert_eq!(
///     iq.to_xml(),
///     "<iq xmlns='jabber:client' type='set' id='block1'><block xmlns='urn:xmpp:blocking'><item jid='romeo@montague.net'/></block></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn block(jids: &[String]) -> ElementBuilder {
    iq_set(None).append(list("block", jids))
}

/// The request that unblocks `jids` (§3.5, Example 11), or every blocked JID when `jids` is empty (§3.6,
/// Example 14).
///
/// ```
/// let all = moxl_xep::xep_0191_blocking::unblock(&[]).attr("id", "unblock2").build()?;
/// assert_eq!(all.to_xml(), "<iq xmlns='jabber:client' type='set' id='unblock2'><unblock xmlns='urn:xmpp:blocking'/></iq>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn unblock(jids: &[String]) -> ElementBuilder {
    iq_set(None).append(list("unblock", jids))
}

/// The `jid` of each `<item/>` of a `<blocklist/>`, `<block/>` or `<unblock/>` element, in order.
///
/// ```
/// use moxl_core::xml::Element;
/// // §3.2, Example 4
/// let list = Element::parse("<blocklist xmlns='urn:xmpp:blocking'><item jid='romeo@montague.net'/><item jid='iago@shakespeare.lit'/></blocklist>")?;
/// assert_eq!(moxl_xep::xep_0191_blocking::items(&list), ["romeo@montague.net", "iago@shakespeare.lit"]);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn items(list: &Element) -> Vec<String> {
    list.children().filter(|i| i.is("item", NS)).filter_map(|i| i.attr("jid").map(|j| j.into_owned())).collect()
}

/// Whether an error says the message went to a contact we blocked (§3.4, Example 10: `<not-acceptable/>` with
/// `<blocked xmlns='urn:xmpp:blocking:errors'/>`).
///
/// ```
/// use moxl_core::stanza::StanzaError;
/// use moxl_core::xml::Element;
/// let bounce = Element::parse("<message xmlns='jabber:client' type='error' from='romeo@montague.net' to='juliet@capulet.com/chamber'>\
///     <error type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
///     <blocked xmlns='urn:xmpp:blocking:errors'/></error></message>")?;
/// assert!(moxl_xep::xep_0191_blocking::is_blocked_error(&StanzaError::from_stanza(&bounce).unwrap()));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn is_blocked_error(error: &StanzaError) -> bool {
    error.app_condition().and_then(|xml| Element::parse(xml).ok()).is_some_and(|app| app.is("blocked", ERRORS_NS))
}

/// Gets the block list (§3.2). Output: the blocked JIDs (`Vec<String>`); an error is `Err(Error::Stanza(..))`.
/// The second view: `blocking_getblocklist_handle` with the JIDs, or `blocking_getblocklist_error` with the
/// [`StanzaError`]. Fetching the list also subscribes this client to pushes (§3.3).
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let blocked: Vec<String> = xec.context().request(moxl_xep::xep_0191_blocking::GetBlocklist)?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GetBlocklist;

#[action(group = "blocking")]
impl GetBlocklist {
    /// The blocked JIDs.
    type Output = Vec<String>;

    fn request(&self) -> ElementBuilder {
        blocklist()
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Vec<String>> {
        Ok(stanza.child("blocklist", NS).map(|l| items(&l)).unwrap_or_default())
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Blocks JIDs (§3.3). Output: the JIDs blocked (`Vec<String>`) once the server applied it; an error
/// (`bad-request` for an empty list, §3.3) is `Err(Error::Stanza(..))`. The second view:
/// `blocking_block_handle` with the JIDs, or `blocking_block_error` with the [`StanzaError`].
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(moxl_xep::xep_0191_blocking::Block::new(["romeo@montague.net"]))?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Block {
    jids: Vec<String>,
}

impl Block {
    /// Blocks these JIDs.
    ///
    /// ```
    /// let b = moxl_xep::xep_0191_blocking::Block::new(["romeo@montague.net"]);
    /// assert_eq!(b.jids(), ["romeo@montague.net"]);
    /// ```
    pub fn new(jids: impl IntoIterator<Item = impl Into<String>>) -> Block {
        Block { jids: jids.into_iter().map(Into::into).collect() }
    }

    /// The JIDs to block.
    ///
    /// ```
    /// assert!(moxl_xep::xep_0191_blocking::Block::new(Vec::<String>::new()).jids().is_empty());
    /// ```
    pub fn jids(&self) -> &[String] {
        &self.jids
    }
}

#[action(group = "blocking")]
impl Block {
    /// The JIDs blocked.
    type Output = Vec<String>;

    fn request(&self) -> ElementBuilder {
        block(&self.jids)
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<Vec<String>> {
        Ok(self.jids.clone())
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Unblocks JIDs (§3.5), or everyone ([`Unblock::all`], §3.6). Output: the JIDs unblocked (`Vec<String>`, empty
/// for all); an error is `Err(Error::Stanza(..))`. The second view: `blocking_unblock_handle` with the JIDs, or
/// `blocking_unblock_error` with the [`StanzaError`].
///
/// ```
/// use moxl_xep::xep_0191_blocking::Unblock;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(Unblock::new(["romeo@montague.net"]))?.await?;
/// xec.context().request(Unblock::all())?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unblock {
    jids: Vec<String>,
}

impl Unblock {
    /// Unblocks these JIDs (an empty list unblocks all: prefer [`Unblock::all`] to say so).
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0191_blocking::Unblock::new(["a@b"]).jids(), ["a@b"]);
    /// ```
    pub fn new(jids: impl IntoIterator<Item = impl Into<String>>) -> Unblock {
        Unblock { jids: jids.into_iter().map(Into::into).collect() }
    }

    /// Unblocks every blocked JID (§3.6).
    ///
    /// ```
    /// assert!(moxl_xep::xep_0191_blocking::Unblock::all().jids().is_empty());
    /// ```
    pub fn all() -> Unblock {
        Unblock { jids: Vec::new() }
    }

    /// The JIDs to unblock (empty: all).
    ///
    /// ```
    /// assert!(moxl_xep::xep_0191_blocking::Unblock::all().jids().is_empty());
    /// ```
    pub fn jids(&self) -> &[String] {
        &self.jids
    }
}

#[action(group = "blocking")]
impl Unblock {
    /// The JIDs unblocked (empty: all).
    type Output = Vec<String>;

    fn request(&self) -> ElementBuilder {
        unblock(&self.jids)
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> Result<Vec<String>> {
        Ok(self.jids.clone())
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// A change of the block list pushed by the server (§3.3, §3.5, §3.6).
///
/// | Payload | Packet key |
/// |---|---|
/// | [`BlockPush`] | `blockpush` |
/// | [`UnblockPush`] | `unblockpush` |
///
/// ```
/// use moxl_xep::xep_0191_blocking::BlocklistPush;
/// let all = BlocklistPush { blocked: false, jids: vec![] };
/// assert!(all.unblocks_all());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlocklistPush {
    /// `true` for `<block/>`, `false` for `<unblock/>`.
    pub blocked: bool,
    /// The JIDs blocked or unblocked (for an unblock: empty means all, §3.6).
    pub jids: Vec<String>,
}

impl BlocklistPush {
    /// Whether this push unblocks every JID (§3.6).
    ///
    /// ```
    /// use moxl_xep::xep_0191_blocking::BlocklistPush;
    /// assert!(!BlocklistPush { blocked: true, jids: vec![] }.unblocks_all());
    /// ```
    pub fn unblocks_all(&self) -> bool {
        !self.blocked && self.jids.is_empty()
    }
}

/// Whether a push comes from our own account: no `from`, or our bare JID (RFC 6121 §2.1.6, as XEP-0191 §3.3
/// pushes come from the server on behalf of the account).
fn from_own_account(ctx: &Context) -> bool {
    match ctx.from().map(|f| Jid::new(&f)) {
        None => true,
        Some(Ok(from)) => from.is_bare() && ctx.account().is_some_and(|a| from.to_bare() == a),
        Some(Err(_)) => false,
    }
}

/// Handles one push: checks, answers, delivers. Shared by both Payloads.
fn push(ctx: &Context, element: &Element, stanza: &Element, blocked: bool) -> Result<()> {
    if !stanza.is("iq", ns::CLIENT) || stanza.attr("type").as_deref() != Some("set") {
        return Ok(());
    }
    if !from_own_account(ctx) {
        tracing::warn!(from = ?ctx.from(), "block list push not from our own account (XEP-0191 §3.3): refused");
        return ctx.send(error_reply(stanza, &StanzaError::new(Condition::ServiceUnavailable)));
    }
    ctx.send(iq_result(stanza))?;
    ctx.pack(BlocklistPush { blocked, jids: items(element) }).deliver();
    Ok(())
}

/// Handles `<block/>` pushes (§3.3, Example 8): answers with the empty result the server expects and delivers a
/// [`BlocklistPush`] under `blockpush`. Only from our own account (no `from` or our bare JID); anyone else gets
/// `service-unavailable`.
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0191_blocking::BlocklistPush; // and linking moxl-xep registers its Payloads
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// let xec = Xec::builder().account(moxl_core::jid::BareJid::new("juliet@capulet.com")?).build()?;
/// let mut pushes = xec.subscribe("blockpush");
/// block_on(xec.dispatch(Element::parse("<iq xmlns='jabber:client' to='juliet@capulet.com/chamber' type='set' id='push1'>\
///     <block xmlns='urn:xmpp:blocking'><item jid='romeo@montague.net'/></block></iq>")?));
/// assert_eq!(xec.take_outgoing()[0].to_xml(), "<iq xmlns='jabber:client' type='result' id='push1'/>");
/// let push = pushes.try_recv().unwrap();
/// assert_eq!(push.content::<BlocklistPush>().unwrap().jids, ["romeo@montague.net"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[payload(name = "block", ns = "urn:xmpp:blocking", at = "child")]
#[derive(Debug, Default)]
pub struct BlockPush;

impl Payload for BlockPush {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        push(ctx, element, stanza, true)
    }
}

/// Handles `<unblock/>` pushes (§3.5 Example 13, §3.6 Example 16): answers, and delivers a [`BlocklistPush`]
/// under `unblockpush` (no JIDs: everyone was unblocked). Only from our own account.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> Option<()> {
/// let mut unblocked = xec.subscribe("unblockpush");
/// let push = unblocked.recv().await?;
/// let everyone = push.content::<moxl_xep::xep_0191_blocking::BlocklistPush>()?.unblocks_all();
/// # Some(()) }
/// ```
#[payload(name = "unblock", ns = "urn:xmpp:blocking", at = "child")]
#[derive(Debug, Default)]
pub struct UnblockPush;

impl Payload for UnblockPush {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        push(ctx, element, stanza, false)
    }
}

/// Delivers the error that comes back when we write to a contact we blocked (§3.4) under the key `blockederror`:
/// the content is the [`StanzaError`], the Packet's sender the contact. Matches
/// `<blocked xmlns='urn:xmpp:blocking:errors'/>` inside the `<error/>` of an error stanza.
///
/// ```
/// # async fn run(xec: &moxl_core::xec::Xec) -> Option<()> {
/// let mut blocked = xec.subscribe("blockederror");
/// let bounce = blocked.recv().await?;
/// println!("{} is blocked: unblock to write", bounce.from()?);
/// # Some(()) }
/// ```
#[payload(name = "blocked", ns = "urn:xmpp:blocking:errors")]
#[derive(Debug, Default)]
pub struct BlockedError;

impl Payload for BlockedError {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if stanza.attr("type").as_deref() != Some("error") {
            return Ok(());
        }
        if let Some(error) = StanzaError::from_stanza(stanza).filter(is_blocked_error) {
            ctx.pack(error).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::jid::BareJid;
    use moxl_core::xec::Xec;

    fn juliet() -> Xec {
        Xec::builder().account(BareJid::new("juliet@capulet.com").unwrap()).build().unwrap()
    }

    #[test]
    fn builders_and_views_are_the_spec_examples() {
        // §3.3 Example 5, §3.5 Example 11, §3.6 Example 14
        let b = block(&["romeo@montague.net".into()]).build().unwrap();
        assert_eq!(items(&b.child("block", NS).unwrap()), ["romeo@montague.net"]);
        let u = unblock(&["romeo@montague.net".into()]).build().unwrap();
        assert_eq!(items(&u.child("unblock", NS).unwrap()), ["romeo@montague.net"]);
        assert!(unblock(&[]).build().unwrap().child("unblock", NS).is_some_and(|u| !u.has_children()));
    }

    #[test]
    fn the_list_and_actions_deliver_their_jids() {
        let xec = juliet();
        let mut list = xec.subscribe("blocking_getblocklist_handle");
        let out = xec.context().request(GetBlocklist).unwrap();
        let id = out.id().to_owned();
        assert!(xec.take_outgoing()[0].child("blocklist", NS).is_some());
        // §3.2 Example 4
        let reply = format!(
            "<iq xmlns='jabber:client' type='result' id='{id}'><blocklist xmlns='urn:xmpp:blocking'>\
             <item jid='romeo@montague.net'/><item jid='iago@shakespeare.lit'/></blocklist></iq>"
        );
        block_on(xec.dispatch(Element::parse(&reply).unwrap()));
        assert_eq!(block_on(out).unwrap(), ["romeo@montague.net", "iago@shakespeare.lit"]);
        let jids = list.try_recv().unwrap();
        assert_eq!(jids.content::<Vec<String>>().unwrap(), &["romeo@montague.net", "iago@shakespeare.lit"]);

        let mut blocked = xec.subscribe("blocking_block_error");
        let id = xec.context().request(Block::new(Vec::<String>::new())).unwrap().id().to_owned();
        xec.take_outgoing();
        // §3.3 Example 7: an empty block is a bad request
        let err = format!(
            "<iq xmlns='jabber:client' type='error' id='{id}'><error type='modify'>\
             <bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        );
        block_on(xec.dispatch(Element::parse(&err).unwrap()));
        assert_eq!(
            blocked.try_recv().unwrap().content::<StanzaError>().unwrap().condition(),
            Some(Condition::BadRequest)
        );
    }

    #[test]
    fn pushes_are_answered_only_from_our_account() {
        let xec = juliet();
        let (mut blocks, mut unblocks) = (xec.subscribe("blockpush"), xec.subscribe("unblockpush"));
        // §3.6 Example 16, from our bare JID
        let all = "<iq xmlns='jabber:client' from='juliet@capulet.com' to='juliet@capulet.com/chamber' type='set' id='push5'>\
                   <unblock xmlns='urn:xmpp:blocking'/></iq>";
        block_on(xec.dispatch(Element::parse(all).unwrap()));
        assert_eq!(xec.take_outgoing()[0].attr("type").as_deref(), Some("result"));
        assert!(unblocks.try_recv().unwrap().content::<BlocklistPush>().unwrap().unblocks_all());

        for forged in [
            "<iq xmlns='jabber:client' from='romeo@montague.net' type='set' id='f1'><block xmlns='urn:xmpp:blocking'><item jid='x@y'/></block></iq>",
            "<iq xmlns='jabber:client' from='juliet@capulet.com/other' type='set' id='f2'><block xmlns='urn:xmpp:blocking'><item jid='x@y'/></block></iq>",
        ] {
            block_on(xec.dispatch(Element::parse(forged).unwrap()));
            let out = xec.take_outgoing();
            assert!(out[0].to_xml().contains("service-unavailable"), "{forged}");
            assert!(blocks.try_recv().is_none(), "{forged}");
        }
        // a get, or a block nested in a message, is no push
        block_on(
            xec.dispatch(
                Element::parse(
                    "<message xmlns='jabber:client'><x xmlns='urn:x'><block xmlns='urn:xmpp:blocking'/></x></message>",
                )
                .unwrap(),
            ),
        );
        assert!(blocks.try_recv().is_none());
    }

    #[test]
    fn the_blocked_error_is_recognised() {
        let xec = juliet();
        let mut errors = xec.subscribe("blockederror");
        // §3.4 Example 10
        let bounce = "<message xmlns='jabber:client' type='error' from='romeo@montague.net' to='juliet@capulet.com/chamber'>\
            <error type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
            <blocked xmlns='urn:xmpp:blocking:errors'/></error></message>";
        block_on(xec.dispatch(Element::parse(bounce).unwrap()));
        let p = errors.try_recv().unwrap();
        assert_eq!(p.from(), Some("romeo@montague.net"));
        assert_eq!(p.content::<StanzaError>().unwrap().condition(), Some(Condition::NotAcceptable));
        let other = Element::parse(&bounce.replace("<blocked xmlns='urn:xmpp:blocking:errors'/>", "")).unwrap();
        assert!(!is_blocked_error(&StanzaError::from_stanza(&other).unwrap()));
    }
}
