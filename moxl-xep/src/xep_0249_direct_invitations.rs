//! XEP-0249: Direct MUC Invitations. Invites a contact to a room with a message sent straight to them
//! ([`invite`], §2), and delivers the invitations we receive as [`DirectInvitation`] (Packet key
//! `directinvitation`).

use moxl_core::Result;
use moxl_core::payload;
use moxl_core::xec::{Context, Payload};
use moxl_core::xml::{Element, ElementBuilder, ns};
use serde::{Deserialize, Serialize};

/// `jabber:x:conference` (§2, §7).
///
/// ```
/// assert_eq!(moxl_xep::xep_0249_direct_invitations::NS, "jabber:x:conference");
/// ```
pub const NS: &str = "jabber:x:conference";

moxl_core::feature!("jabber:x:conference");

/// A direct invitation: to `room`, with its password, a reason, and the thread it continues (§2, §3).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0249_direct_invitations::DirectInvitation;
/// // §2, Example 1
/// let m = Element::parse("<message xmlns='jabber:client' from='crone1@shakespeare.lit/desktop' to='hecate@shakespeare.lit'>\
///     <x xmlns='jabber:x:conference' jid='darkcave@macbeth.shakespeare.lit' password='cauldronburn' \
///     reason='Hey Hecate, this is the place for all good witches!'/></message>")?;
/// let i = DirectInvitation::from_stanza(&m).unwrap();
/// assert_eq!(i.room, "darkcave@macbeth.shakespeare.lit");
/// assert_eq!(i.password.as_deref(), Some("cauldronburn"));
/// assert_eq!(i.from.as_deref(), Some("crone1@shakespeare.lit/desktop"));
/// assert_eq!(i.to_element().build()?.to_xml(), m.child("x", "jabber:x:conference").unwrap().to_xml());
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DirectInvitation {
    /// The room's JID (required, §2).
    pub room: String,
    /// Who invites (the message's `from`; unset when building).
    pub from: Option<String>,
    /// The room's password.
    pub password: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Whether the room continues a one-to-one chat (§3).
    pub continue_thread: bool,
    /// The thread it continues (§3).
    pub thread: Option<String>,
}

impl DirectInvitation {
    /// An invitation to `room`.
    ///
    /// ```
    /// let i = moxl_xep::xep_0249_direct_invitations::DirectInvitation::new("darkcave@macbeth.shakespeare.lit").reason("Come!");
    /// assert_eq!(i.reason.as_deref(), Some("Come!"));
    /// ```
    pub fn new(room: impl Into<String>) -> DirectInvitation {
        DirectInvitation { room: room.into(), ..DirectInvitation::default() }
    }

    /// With the room's password.
    ///
    /// ```
    /// let i = moxl_xep::xep_0249_direct_invitations::DirectInvitation::new("a@b").password("cauldronburn");
    /// assert_eq!(i.password.as_deref(), Some("cauldronburn"));
    /// ```
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// With a reason.
    ///
    /// ```
    /// let i = moxl_xep::xep_0249_direct_invitations::DirectInvitation::new("a@b").reason("why not");
    /// assert!(i.reason.is_some());
    /// ```
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Continuing the one-to-one chat `thread` in the room (§3).
    ///
    /// ```
    /// let i = moxl_xep::xep_0249_direct_invitations::DirectInvitation::new("a@b").continues("e0ffe42b28561960c6b12b944a092794b9683a38");
    /// assert!(i.continue_thread);
    /// ```
    pub fn continues(mut self, thread: impl Into<String>) -> Self {
        self.continue_thread = true;
        self.thread = Some(thread.into());
        self
    }

    /// Reads the `<x xmlns='jabber:x:conference'/>` of a message; `None` without one, without a `jid`, or in an
    /// error message.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0249_direct_invitations::DirectInvitation;
    /// let m = Element::parse("<message xmlns='jabber:client' from='a@b/c'><x xmlns='jabber:x:conference'/></message>")?;
    /// assert!(DirectInvitation::from_stanza(&m).is_none(), "the jid is required");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<DirectInvitation> {
        if !stanza.is("message", ns::CLIENT) || stanza.attr("type").as_deref() == Some("error") {
            return None;
        }
        let x = stanza.child("x", NS)?;
        let attr = |name: &str| x.attr(name).map(|v| v.into_owned());
        Some(DirectInvitation {
            room: attr("jid").filter(|j| !j.is_empty())?,
            from: stanza.attr("from").map(|f| f.into_owned()),
            password: attr("password"),
            reason: attr("reason"),
            continue_thread: matches!(attr("continue").as_deref(), Some("true" | "1")),
            thread: attr("thread"),
        })
    }

    /// The `<x xmlns='jabber:x:conference'/>` element.
    ///
    /// ```
    /// use moxl_xep::xep_0249_direct_invitations::DirectInvitation;
    /// let x = DirectInvitation::new("darkcave@macbeth.shakespeare.lit").password("cauldronburn").to_element().build()?;
    /// assert_eq!(x.to_xml(), "<x xmlns='jabber:x:conference' jid='darkcave@macbeth.shakespeare.lit' password='cauldronburn'/>");
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("x", NS)
            .attr("jid", self.room.clone())
            .attr_opt("password", self.password.clone())
            .attr_opt("reason", self.reason.clone())
            .attr_opt("continue", self.continue_thread.then_some("true"))
            .attr_opt("thread", self.thread.clone())
    }
}

/// The message inviting `to` (a bare or full JID, §2) with `invitation`.
///
/// ```
/// use moxl_xep::xep_0249_direct_invitations::{invite, DirectInvitation};
/// assert_eq!(
///     invite("hecate@shakespeare.lit", &DirectInvitation::new("darkcave@macbeth.shakespeare.lit")).build()?.to_xml(),
///     "<message xmlns='jabber:client' to='hecate@shakespeare.lit'><x xmlns='jabber:x:conference' jid='darkcave@macbeth.shakespeare.lit'/></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn invite(to: &str, invitation: &DirectInvitation) -> ElementBuilder {
    ElementBuilder::new("message", ns::CLIENT).attr("to", to.to_owned()).append(invitation.to_element())
}

/// Delivers each direct invitation received (§2) as a [`DirectInvitation`].
///
/// | Packet key | content |
/// |---|---|
/// | `directinvitation` | [`DirectInvitation`] |
///
/// ```
/// use moxl_core::xec::Xec;
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0249_direct_invitations::DirectInvitation;
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) { return out; } }
/// # }
/// # block_on(async {
/// let xec = Xec::new()?;
/// let mut invitations = xec.subscribe("directinvitation");
/// xec.dispatch(Element::parse("<message xmlns='jabber:client' from='crone1@shakespeare.lit/desktop'>\
///     <x xmlns='jabber:x:conference' jid='darkcave@macbeth.shakespeare.lit'/></message>")?).await;
/// assert_eq!(invitations.try_recv().unwrap().content::<DirectInvitation>().unwrap().room, "darkcave@macbeth.shakespeare.lit");
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[payload(name = "x", ns = "jabber:x:conference", key = "directinvitation", at = "child")]
#[derive(Debug, Default)]
pub struct DirectInvitations;

impl Payload for DirectInvitations {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(invitation) = DirectInvitation::from_stanza(stanza) {
            ctx.pack(invitation).deliver();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use moxl_core::xec::Xec;

    /// §3, Example 2.
    const CONTINUE: &str = "<message xmlns='jabber:client' from='crone1@shakespeare.lit/desktop' to='hecate@shakespeare.lit'>\
        <x xmlns='jabber:x:conference' continue='true' jid='darkcave@macbeth.shakespeare.lit' \
        password='cauldronburn' reason='Hey Hecate, this is the place for all good witches!' \
        thread='e0ffe42b28561960c6b12b944a092794b9683a38'/></message>";

    #[test]
    fn the_spec_examples_parse_and_round_trip() {
        let m = Element::parse(CONTINUE).unwrap();
        let i = DirectInvitation::from_stanza(&m).unwrap();
        assert!(i.continue_thread);
        assert_eq!(i.thread.as_deref(), Some("e0ffe42b28561960c6b12b944a092794b9683a38"));
        let built =
            invite("hecate@shakespeare.lit", &i).attr("from", "crone1@shakespeare.lit/desktop").build().unwrap();
        assert_eq!(DirectInvitation::from_stanza(&built), Some(i));
        // no jid, an error message, another element: no invitation
        for xml in [
            "<message xmlns='jabber:client' from='a@b/c'><x xmlns='jabber:x:conference'/></message>",
            "<message xmlns='jabber:client' from='a@b/c' type='error'><x xmlns='jabber:x:conference' jid='r@m'/></message>",
            "<presence xmlns='jabber:client' from='a@b/c'><x xmlns='jabber:x:conference' jid='r@m'/></presence>",
        ] {
            assert_eq!(DirectInvitation::from_stanza(&Element::parse(xml).unwrap()), None, "{xml}");
        }
    }

    #[test]
    fn the_payload_delivers_only_direct_children() {
        let xec = Xec::new().unwrap();
        let mut invitations = xec.subscribe("directinvitation");
        block_on(xec.dispatch(Element::parse(CONTINUE).unwrap()));
        let p = invitations.try_recv().unwrap();
        assert_eq!(p.from(), Some("crone1@shakespeare.lit/desktop"));
        assert_eq!(p.content::<DirectInvitation>().map(|i| i.room.as_str()), Some("darkcave@macbeth.shakespeare.lit"));
        // forwarded inside another element (e.g. an archive result): not ours to deliver
        let nested = "<message xmlns='jabber:client' from='a@b/c'><result xmlns='urn:xmpp:mam:2'>\
            <x xmlns='jabber:x:conference' jid='r@m'/></result></message>";
        block_on(xec.dispatch(Element::parse(nested).unwrap()));
        assert!(invitations.try_recv().is_none());
    }
}
