//! The Payloads that turn what rooms send into Packets.

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::Element;

use super::view::{GroupchatMessage, MucDecline, MucInvitation, MucPresence, MucSubject, RoomStatus};

/// Delivers every occupant presence (joins, leaves, nick changes, role and affiliation changes, kicks, bans,
/// destruction) as a [`MucPresence`] under the Packet key `mucpresence` (sender: the occupant JID). The
/// self-presence that answers a [`Join`](super::Join) or a [`ChangeNick`](super::ChangeNick) goes to that
/// Action instead.
///
/// | Packet key | content |
/// |---|---|
/// | `mucpresence` | [`MucPresence`] |
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0045_muc::MucPresence;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// let mut presences = xec.subscribe("mucpresence");
/// xec.dispatch(Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch'>\
///     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/></x></presence>")?).await;
/// assert_eq!(presences.try_recv().unwrap().content::<MucPresence>().unwrap().nick(), "firstwitch");
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "x", ns = "http://jabber.org/protocol/muc#user", key = "mucpresence", at = "child")]
#[derive(Debug, Default)]
pub struct MucPresences;

impl Payload for MucPresences {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(p) = MucPresence::from_stanza(stanza) {
            ctx.pack(p).deliver();
        }
        Ok(())
    }
}

/// Delivers each groupchat message with a body as a [`GroupchatMessage`] (§7.4; the history sent on joining,
/// §7.2.15, too).
///
/// | Packet key | content |
/// |---|---|
/// | `mucmessage` | [`GroupchatMessage`] |
///
/// ```
/// # use moxl_core::xec::Xec;
/// # async fn run(xec: &Xec) -> Option<()> {
/// let mut messages = xec.subscribe("mucmessage");
/// let m = messages.recv().await?;
/// let m = m.content::<moxl_xep::xep_0045_muc::GroupchatMessage>()?;
/// println!("<{}> {}", m.nick.as_deref().unwrap_or("*"), m.body);
/// # Some(()) }
/// ```
#[payload(name = "body", ns = "jabber:client", key = "mucmessage", at = "child")]
#[derive(Debug, Default)]
pub struct GroupchatMessages;

impl Payload for GroupchatMessages {
    fn wanted(ctx: &Context) -> bool {
        ctx.wants::<GroupchatMessage>()
    }

    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(m) = GroupchatMessage::from_stanza(stanza) {
            ctx.pack(m).deliver();
        }
        Ok(())
    }
}

/// Delivers the room's subject, on joining (§7.2.15) and when it changes (§8.1).
///
/// | Packet key | content |
/// |---|---|
/// | `mucsubject` | [`MucSubject`] |
///
/// ```
/// # use moxl_core::xec::Xec;
/// # async fn run(xec: &Xec) -> Option<()> {
/// let mut subjects = xec.subscribe("mucsubject");
/// let s = subjects.recv().await?;
/// println!("subject: {}", s.content::<moxl_xep::xep_0045_muc::MucSubject>()?.subject);
/// # Some(()) }
/// ```
#[payload(name = "subject", ns = "jabber:client", key = "mucsubject", at = "child")]
#[derive(Debug, Default)]
pub struct MucSubjects;

impl Payload for MucSubjects {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(s) = MucSubject::from_stanza(stanza) {
            ctx.pack(s).deliver();
        }
        Ok(())
    }
}

/// Whether `element` is a child of the stanza's direct `<x/>` child (depth 2, which `at` cannot say: `at = "any"`
/// also takes an `<invite/>` standing directly in the message).
fn in_direct_x(element: &Element, stanza: &Element) -> bool {
    stanza.children().any(|x| x.children().any(|c| c.ptr_eq(element)))
}

/// Delivers mediated invitations sent to us by a room (§7.8.2).
///
/// | Packet key | content |
/// |---|---|
/// | `mucinvitation` | [`MucInvitation`] |
///
/// ```
/// # use moxl_core::xec::Xec;
/// # async fn run(xec: &Xec) -> Option<()> {
/// let mut invitations = xec.subscribe("mucinvitation");
/// let i = invitations.recv().await?;
/// println!("invited to {}", i.content::<moxl_xep::xep_0045_muc::MucInvitation>()?.room);
/// # Some(()) }
/// ```
#[payload(name = "invite", ns = "http://jabber.org/protocol/muc#user", key = "mucinvitation")]
#[derive(Debug, Default)]
pub struct MucInvitations;

impl Payload for MucInvitations {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if in_direct_x(element, stanza)
            && let Some(i) = MucInvitation::from_stanza(stanza)
        {
            ctx.pack(i).deliver();
        }
        Ok(())
    }
}

/// Delivers declined invitations relayed by a room (§7.8.2).
///
/// | Packet key | content |
/// |---|---|
/// | `mucdecline` | [`MucDecline`] |
///
/// ```
/// # use moxl_core::xec::Xec;
/// # async fn run(xec: &Xec) -> Option<()> {
/// let mut declines = xec.subscribe("mucdecline");
/// let d = declines.recv().await?;
/// println!("{:?} declined", d.content::<moxl_xep::xep_0045_muc::MucDecline>()?.from);
/// # Some(()) }
/// ```
#[payload(name = "decline", ns = "http://jabber.org/protocol/muc#user", key = "mucdecline")]
#[derive(Debug, Default)]
pub struct MucDeclines;

impl Payload for MucDeclines {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if in_direct_x(element, stanza)
            && let Some(d) = MucDecline::from_stanza(stanza)
        {
            ctx.pack(d).deliver();
        }
        Ok(())
    }
}

/// Delivers the status codes a room sends in messages from its bare JID (configuration changes 104 and
/// 170–174, §10.2.1; 101).
///
/// | Packet key | content |
/// |---|---|
/// | `mucstatus` | [`RoomStatus`] |
///
/// ```
/// # use moxl_core::xec::Xec;
/// # async fn run(xec: &Xec) -> Option<()> {
/// let mut statuses = xec.subscribe("mucstatus");
/// let s = statuses.recv().await?;
/// println!("{:?}", s.content::<moxl_xep::xep_0045_muc::RoomStatus>()?.statuses);
/// # Some(()) }
/// ```
#[payload(name = "x", ns = "http://jabber.org/protocol/muc#user", key = "mucstatus", at = "child")]
#[derive(Debug, Default)]
pub struct MucRoomStatuses;

impl Payload for MucRoomStatuses {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(s) = RoomStatus::from_stanza(stanza) {
            ctx.pack(s).deliver();
        }
        Ok(())
    }
}
