//! XEP-0490: Message Displayed Synchronization (version 0.2). Which message each chat has been displayed up to,
//! shared between our own devices: one item per chat on our private PEP node `urn:xmpp:mds:displayed:0`, the
//! item id being the chat's JID (a contact's bare JID, a room's bare JID, an occupant's full JID for a private
//! message), the payload the `<stanza-id/>` of the last displayed message (§4.1).
//!
//! - [`SetDisplayed`] publishes one (§4.2, with the publish-options §4.2 and §8 require: whitelist access, as
//!   many items as the server allows, never sent on presence).
//! - [`GetDisplayed`] catches up after a login (§4.4).
//! - The [`DisplayedEvents`] Payload delivers what our other devices publish, as [`Displayed`] (Packet key
//!   `displayedchange`); we declare `urn:xmpp:mds:displayed:0+notify` (§4.3).
//!
//! The stanza id is the one our server stamped (`by` = our bare JID) in a one-to-one chat, the room's in a
//! group chat (§4.2). §5: the state only moves forward, and an id the application does not know in that chat
//! is ignored; both checks need the history, so they are the application's.
//!
//! ```
//! use moxl_xep::xep_0490_mds::SetDisplayed;
//! # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
//! ctx.request(SetDisplayed::new("romeo@montague.lit", "juliet@capulet.lit", "0f710f2b-52ed-4d52-b928-784dad74a52b"))?.await?;
//! # Ok(()) }
//! ```

use moxl_core::stanza::StanzaError;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder};
use moxl_core::{Result, action, payload};
use serde::{Deserialize, Serialize};

use crate::xep_0004_data_forms::DataForm;
use crate::xep_0060_pubsub::{self as pubsub, Event, EventKind, Item};
use crate::xep_0223_private_pep::private_options;
use crate::xep_0359_stable_ids::{self as sid, StanzaId};

/// `urn:xmpp:mds:displayed:0`: the PEP node and the namespace of `<displayed/>` (§4.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0490_mds::NS, "urn:xmpp:mds:displayed:0");
/// ```
pub const NS: &str = "urn:xmpp:mds:displayed:0";

/// `urn:xmpp:mds:server-assist:0`: the account feature of a server that publishes the item itself from a
/// `<displayed/>` put in the message carrying a XEP-0333 marker (§4.5); see [`assisted`].
///
/// ```
/// assert_eq!(moxl_xep::xep_0490_mds::SERVER_ASSIST, "urn:xmpp:mds:server-assist:0");
/// ```
pub const SERVER_ASSIST: &str = "urn:xmpp:mds:server-assist:0";

moxl_core::feature!("urn:xmpp:mds:displayed:0+notify");

/// How far one chat has been displayed.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0490_mds::Displayed;
/// let d = Displayed::new("romeo@montague.lit", "juliet@capulet.lit", "0f710f2b");
/// let payload = d.to_element().build()?;
/// assert_eq!(Displayed::from_element("romeo@montague.lit", &payload), Some(d));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Displayed {
    /// The chat: the item id.
    pub chat: String,
    /// The stanza id of the last displayed message.
    pub stanza_id: String,
    /// Who stamped it: our bare JID in a one-to-one chat, the room in a group chat.
    pub by: String,
}

impl Displayed {
    /// The state of `chat`: displayed up to the message that `by` stamped `stanza_id`.
    pub fn new(chat: impl Into<String>, by: impl Into<String>, stanza_id: impl Into<String>) -> Displayed {
        Displayed { chat: chat.into(), by: by.into(), stanza_id: stanza_id.into() }
    }

    /// Reads the `<displayed/>` payload of the item `chat`: it must hold a `<stanza-id/>` with `id` and `by`
    /// (§4.1: exactly one; the first is taken).
    pub fn from_element(chat: &str, displayed: &Element) -> Option<Displayed> {
        if !displayed.is("displayed", NS) || chat.is_empty() {
            return None;
        }
        let s = displayed.children().find_map(|c| StanzaId::from_element(&c))?;
        Some(Displayed { chat: chat.to_owned(), stanza_id: s.id, by: s.by })
    }

    /// Reads a PEP item (its id is the chat).
    pub fn from_item(item: &Item) -> Option<Displayed> {
        let id = item.id.as_deref()?;
        Displayed::from_element(id, item.payload.as_ref()?)
    }

    /// Every state in an items result or an event notification.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0490_mds::Displayed;
    /// // §4.4, Example 4
    /// let iq = Element::parse("<iq xmlns='jabber:client' type='result' to='juliet@capulet.lit/balcony' id='catchup-1'>\
    ///     <pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:mds:displayed:0'>\
    ///     <item id='romeo@montegue.lit'><displayed xmlns='urn:xmpp:mds:displayed:0'>\
    ///     <stanza-id xmlns='urn:xmpp:sid:0' id='0f710f2b-52ed-4d52-b928-784dad74a52b' by='juliet@capulet.lit'/></displayed></item>\
    ///     <item id='example@conference.shakespeare.lit'><displayed xmlns='urn:xmpp:mds:displayed:0'>\
    ///     <stanza-id xmlns='urn:xmpp:sid:0' id='ca21deaf-812c-48f1-8f16-339a674f2864' by='example@conference.shakespeare.lit'/>\
    ///     </displayed></item></items></pubsub></iq>")?;
    /// let all = Displayed::all_in(&iq);
    /// assert_eq!(all.len(), 2);
    /// assert_eq!(all[1].by, "example@conference.shakespeare.lit");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(stanza: &Element) -> Vec<Displayed> {
        pubsub::Item::all_in(stanza).iter().filter_map(Displayed::from_item).collect()
    }

    /// The `<displayed/>` payload.
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("displayed", NS).append(
            ElementBuilder::new("stanza-id", sid::NS).attr("id", self.stanza_id.clone()).attr("by", self.by.clone()),
        )
    }
}

/// The publish-options of §4.2 and §8: persistent items, as many as the server allows, none sent on presence,
/// only for us (whitelist). §8: the server must announce `pubsub#publish-options`; a server that does not
/// answers the publish with an error rather than publishing in the open.
///
/// ```
/// let o = moxl_xep::xep_0490_mds::publish_options();
/// assert_eq!(o.value("pubsub#access_model"), Some("whitelist"));
/// assert_eq!(o.value("pubsub#max_items"), Some("max"));
/// ```
pub fn publish_options() -> DataForm {
    pubsub::publish_options()
        .with_value("pubsub#persist_items", "true")
        .with_value("pubsub#max_items", "max")
        .with_value("pubsub#send_last_published_item", "never")
        .with_value("pubsub#access_model", "whitelist")
}

/// The `<displayed/>` to add to a message that also carries a XEP-0333 displayed marker, addressed to the
/// chat's bare JID, when our server announces [`SERVER_ASSIST`] (§4.5, §5: never otherwise, and never in a
/// message that would be empty without it). The server publishes the item and strips the element.
///
/// ```
/// use moxl_xep::xep_0490_mds::{assisted, Displayed};
/// let e = assisted(&Displayed::new("romeo@montegue.lit", "juliet@capulet.lit", "0423e3a9")).build()?;
/// assert_eq!(e.to_xml(), "<displayed xmlns='urn:xmpp:mds:displayed:0'>\
///     <stanza-id xmlns='urn:xmpp:sid:0' id='0423e3a9' by='juliet@capulet.lit'/></displayed>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn assisted(displayed: &Displayed) -> ElementBuilder {
    displayed.to_element()
}

/// Marks a chat displayed up to a message (§4.2). Its `Output` is the [`Displayed`] published.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `mds_setdisplayed_handle` | the [`Displayed`] |
/// | any error (`conflict`: the node exists with another configuration), after one retry with the private options alone when the service refused the form | `mds_setdisplayed_error` | the [`StanzaError`] |
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// use moxl_xep::xep_0490_mds::SetDisplayed;
/// let d = ctx.request(SetDisplayed::new("room@conference.capulet.lit", "room@conference.capulet.lit", "s-42"))?.await?;
/// assert_eq!(d.chat, "room@conference.capulet.lit");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetDisplayed {
    /// The state to publish.
    pub displayed: Displayed,
    /// Which request of the publish this is (see the error handling below).
    #[serde(default)]
    step: Step,
}

/// The requests of a [`SetDisplayed`]: the publish with every option of §4.2; if the service refuses the form,
/// the publish with the private options alone, then the node's item limit raised to `max` by configuring it
/// (XEP-0060 §8.2.4), so the other chats' items are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
enum Step {
    #[default]
    Publish,
    PublishPrivate,
    RaiseLimit,
}

impl SetDisplayed {
    /// Marks `chat` displayed up to the message `by` stamped `stanza_id`.
    pub fn new(chat: impl Into<String>, by: impl Into<String>, stanza_id: impl Into<String>) -> SetDisplayed {
        SetDisplayed { displayed: Displayed::new(chat, by, stanza_id), step: Step::Publish }
    }

    /// The request this Action sends: the publish with [`publish_options`] (or, in the fallback, the private
    /// options of XEP-0223 alone, then the node configuration).
    ///
    /// ```
    /// let iq = moxl_xep::xep_0490_mds::SetDisplayed::new("a@b", "me@c", "s1").request_stanza().build()?;
    /// assert!(iq.to_xml().contains("<item id='a@b'>"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn request_stanza(&self) -> ElementBuilder {
        let publish = |options: &DataForm| {
            pubsub::publish_with_options(None, NS, Some(&self.displayed.chat), self.displayed.to_element(), options)
        };
        match self.step {
            Step::Publish => publish(&publish_options()),
            Step::PublishPrivate => publish(&private_options()),
            Step::RaiseLimit => pubsub::configure_node(None, NS, &pubsub::max_items_config()),
        }
    }

    fn next(&self, step: Step) -> SetDisplayed {
        SetDisplayed { displayed: self.displayed.clone(), step }
    }
}

#[action(group = "mds")]
impl SetDisplayed {
    /// The state published.
    type Output = Displayed;

    fn request(&self) -> ElementBuilder {
        self.request_stanza()
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) -> Result<Displayed> {
        if self.step == Step::PublishPrivate {
            ctx.continue_with(self.next(Step::RaiseLimit))?;
        }
        Ok(self.displayed.clone())
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) -> Result<()> {
        // A service may refuse a field of the form rather than the publish (ejabberd 23.01 knows no
        // `pubsub#max_items` in publish-options and answers `resource-constraint`): publish again, once, with
        // the private options alone (persistent, whitelist), so the state stays private (§8), then raise the
        // node's item limit. A node that exists with another configuration (`conflict`), a refusal of the
        // publish itself, or a refused configuration is an error.
        if pubsub::is_options_refused(error) && self.step == Step::Publish {
            return ctx.continue_with(self.next(Step::PublishPrivate));
        }
        ctx.pack(error.clone()).deliver();
        Ok(())
    }
}

/// Gets every chat's displayed state (§4.4, after bind and initial presence). Its `Output` is the list;
/// `item-not-found` (no node yet: nothing displayed anywhere) resolves the request to `Err(Error::Stanza(..))`
/// with that condition, as for bookmarks.
///
/// | answer | Packet key | content |
/// |---|---|---|
/// | result | `mds_getdisplayed_handle` | `Vec<`[`Displayed`]`>` |
/// | `item-not-found` (no node yet) | `mds_getdisplayed_erroritemnotfound` | none |
/// | any other error | `mds_getdisplayed_error` | the [`StanzaError`] |
///
/// ```
/// # async fn run(ctx: &moxl_core::xec::Context) -> moxl_core::Result<()> {
/// for d in ctx.request(moxl_xep::xep_0490_mds::GetDisplayed)?.await? {
///     println!("{} displayed up to {}", d.chat, d.stanza_id);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GetDisplayed;

#[action(group = "mds")]
impl GetDisplayed {
    /// Every chat's state.
    type Output = Vec<Displayed>;

    fn request(&self) -> ElementBuilder {
        pubsub::items(None, NS)
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<Vec<Displayed>> {
        Ok(Displayed::all_in(stanza))
    }

    async fn error_item_not_found(&mut self, ctx: &Context, _error: &StanzaError, _stanza: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Delivers each displayed state our other devices publish, as a [`Displayed`] under the Packet key
/// `displayedchange`. Only notifications from our own account count (the node is ours, XEP-0163 §4.3.1).
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0490_mds::Displayed;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::builder().account("juliet@capulet.lit".parse()?).build()?;
/// let mut changes = xec.events::<Displayed>();
/// // §4.5, Example 9
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='juliet@capulet.lit' to='juliet@capulet.lit/balcony' type='headline' id='new-displayed-pep-event'>\
///     <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:mds:displayed:0'>\
///     <item id='romeo@montegue.lit'><displayed xmlns='urn:xmpp:mds:displayed:0'>\
///     <stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='0423e3a9-d516-493d-bb06-bee0e51ab9fb'/>\
///     </displayed></item></items></event></message>")?).await;
/// assert_eq!(changes.try_recv().unwrap().chat, "romeo@montegue.lit");
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(
    name = "event",
    ns = "http://jabber.org/protocol/pubsub#event",
    node = "urn:xmpp:mds:displayed:0",
    key = "displayedchange",
    at = "child"
)]
#[derive(Debug, Default)]
pub struct DisplayedEvents;

impl Payload for DisplayedEvents {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<Displayed>()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        let Some(event) = Event::from_message(stanza).filter(|e| e.node == NS) else { return Ok(()) };
        let account = ctx.account().map(|a| a.to_string());
        let ours = event.is_from_own_account(account.as_deref());
        if let (true, EventKind::Items { items, .. }) = (ours, &event.kind) {
            for d in items.iter().filter_map(Displayed::from_item) {
                ctx.pack(d).deliver();
            }
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
    fn a_stranger_cannot_move_our_state_and_bad_items_are_skipped() {
        let xec = Xec::builder().account("juliet@capulet.lit".parse().unwrap()).build().unwrap();
        let mut changes = xec.events::<Displayed>();
        let event = |from: &str, items: &str| {
            Element::parse(&format!(
                "<message xmlns='jabber:client' from='{from}' to='juliet@capulet.lit/balcony' type='headline'>\
                 <event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:mds:displayed:0'>{items}\
                 </items></event></message>"
            ))
            .unwrap()
        };
        let good = "<item id='romeo@montague.lit'><displayed xmlns='urn:xmpp:mds:displayed:0'>\
                    <stanza-id xmlns='urn:xmpp:sid:0' id='s1' by='juliet@capulet.lit'/></displayed></item>";
        block_on(xec.dispatch(event("mallory@evil.example", good)));
        assert!(changes.try_recv().is_none(), "a stranger's notification is not ours");
        let bad = "<item id='a@b'><displayed xmlns='urn:xmpp:mds:displayed:0'/></item>\
                   <item><displayed xmlns='urn:xmpp:mds:displayed:0'><stanza-id xmlns='urn:xmpp:sid:0' id='x' by='y'/></displayed></item>\
                   <item id='c@d'><other xmlns='urn:x'/></item>";
        block_on(xec.dispatch(event("juliet@capulet.lit", &format!("{bad}{good}"))));
        let d = changes.try_recv().unwrap();
        assert_eq!(
            (d.chat.as_str(), d.stanza_id.as_str(), d.by.as_str()),
            ("romeo@montague.lit", "s1", "juliet@capulet.lit")
        );
        assert!(changes.try_recv().is_none());
    }

    #[test]
    fn a_refused_form_falls_back_to_a_private_publish_and_raises_the_limit() {
        let xec = Xec::new().unwrap();
        let set = SetDisplayed::new("romeo@montague.lit", "juliet@capulet.lit", "s1");
        let mut request = xec.context().request(set).unwrap();
        let steps = [
            // ejabberd 23.01's answer to the full form
            "<iq xmlns='jabber:client' type='error' id='ID'><error type='wait'>\
             <resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            "<iq xmlns='jabber:client' type='result' id='ID'/>",
            "<iq xmlns='jabber:client' type='result' id='ID'/>",
        ];
        let mut sent = Vec::new();
        for step in steps {
            let out = xec.take_outgoing();
            let last = out.last().unwrap().clone();
            sent.push(last.to_xml());
            let id = last.attr("id").unwrap().into_owned();
            block_on(xec.dispatch(Element::parse(&step.replace("id='ID'", &format!("id='{id}'"))).unwrap()));
        }
        assert!(sent[0].contains("pubsub#max_items") && sent[0].contains("whitelist"));
        assert!(!sent[1].contains("pubsub#max_items") && sent[1].contains("whitelist"), "{}", sent[1]);
        assert!(
            sent[2].contains("<configure node='urn:xmpp:mds:displayed:0'>") && sent[2].contains("pubsub#max_items")
        );
        let done = block_on(&mut request).unwrap();
        assert_eq!(done.stanza_id, "s1");
    }

    #[test]
    fn the_publish_matches_the_xeps_example() {
        // §4.2, Example 1
        let iq = SetDisplayed::new("romeo@montegue.lit", "juliet@capulet.lit", "0f710f2b-52ed-4d52-b928-784dad74a52b")
            .request_stanza()
            .build()
            .unwrap()
            .to_xml();
        assert!(iq.contains(
            "<publish node='urn:xmpp:mds:displayed:0'><item id='romeo@montegue.lit'><displayed xmlns='urn:xmpp:mds:displayed:0'>\
             <stanza-id xmlns='urn:xmpp:sid:0' id='0f710f2b-52ed-4d52-b928-784dad74a52b' by='juliet@capulet.lit'/></displayed></item></publish>"
        ), "{iq}");
        assert!(iq.contains("<field var='pubsub#access_model'><value>whitelist</value></field>"), "{iq}");
    }
}
