//! Builders for what we send to a room: join, leave, nick change, messages, subject, invitations, and the
//! admin and owner queries.

use moxl_core::stanza::{iq_get, iq_set, message, presence};
use moxl_core::xml::{ElementBuilder, ns};
use serde::{Deserialize, Serialize};

use super::view::{AdminItem, Affiliation, Role};
use super::{NS, NS_ADMIN, NS_OWNER, NS_USER};

/// `room@service/nick`.
///
/// ```
/// assert_eq!(moxl_xep::xep_0045_muc::occupant_jid("coven@chat.shakespeare.lit", "thirdwitch"), "coven@chat.shakespeare.lit/thirdwitch");
/// ```
pub fn occupant_jid(room: &str, nick: &str) -> String {
    format!("{room}/{nick}")
}

/// How much discussion history to receive on joining (§7.2.13). Unset limits are the service's default;
/// `History { maxstanzas: Some(0), ..Default::default() }` asks for none.
///
/// ```
/// use moxl_xep::xep_0045_muc::History;
/// // §7.2.13, Example 42
/// let h = History { maxchars: Some(65000), ..Default::default() };
/// assert_eq!(h.to_element().build()?.to_xml(), "<history xmlns='http://jabber.org/protocol/muc' maxchars='65000'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// At most this many characters of XML.
    pub maxchars: Option<u32>,
    /// At most this many messages.
    pub maxstanzas: Option<u32>,
    /// Only those of the last this many seconds.
    pub seconds: Option<u32>,
    /// Only those since this UTC timestamp (XEP-0082 `DateTime`).
    pub since: Option<String>,
}

impl History {
    /// No history at all.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0045_muc::History::none().maxstanzas, Some(0));
    /// ```
    pub fn none() -> History {
        History { maxstanzas: Some(0), ..History::default() }
    }

    /// The `<history/>` element.
    ///
    /// ```
    /// let h = moxl_xep::xep_0045_muc::History { since: Some("1970-01-01T00:00:00Z".into()), ..Default::default() };
    /// assert_eq!(h.to_element().build()?.attr("since").as_deref(), Some("1970-01-01T00:00:00Z"));
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        ElementBuilder::new("history", NS)
            .attr_opt("maxchars", self.maxchars.map(|v| v.to_string()))
            .attr_opt("maxstanzas", self.maxstanzas.map(|v| v.to_string()))
            .attr_opt("seconds", self.seconds.map(|v| v.to_string()))
            .attr_opt("since", self.since.clone())
    }
}

/// The presence that joins (or creates, §10.1.1) a room as `room@service/nick` (§7.2.1), with the room's
/// password (§7.2.6) and a history limit (§7.2.13). It carries `<x xmlns='http://jabber.org/protocol/muc'/>`,
/// by which the client remembers the room and joins it again on a fresh session. To follow the outcome,
/// request [`Join`](super::Join) instead of sending it.
///
/// ```
/// use moxl_xep::xep_0045_muc::{join, History};
/// // §7.2.1, Example 18; §7.2.6, Example 27
/// assert_eq!(
///     join("coven@chat.shakespeare.lit/thirdwitch", None, None).build()?.to_xml(),
///     "<presence xmlns='jabber:client' to='coven@chat.shakespeare.lit/thirdwitch'><x xmlns='http://jabber.org/protocol/muc'/></presence>"
/// );
/// assert_eq!(
///     join("coven@chat.shakespeare.lit/thirdwitch", Some("cauldronburn"), Some(&History::none())).build()?.to_xml(),
///     "<presence xmlns='jabber:client' to='coven@chat.shakespeare.lit/thirdwitch'><x xmlns='http://jabber.org/protocol/muc'>\
///      <history maxstanzas='0'/><password>cauldronburn</password></x></presence>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn join(occupant: &str, password: Option<&str>, history: Option<&History>) -> ElementBuilder {
    let mut x = ElementBuilder::new("x", NS);
    if let Some(history) = history {
        x.push(history.to_element());
    }
    if let Some(password) = password {
        x.push(ElementBuilder::new("password", NS).text(password.to_owned()));
    }
    presence(Some(occupant), None).append(x)
}

/// Leaves the room (§7.14), with an optional status message.
///
/// ```
/// assert_eq!(
///     moxl_xep::xep_0045_muc::leave("coven@chat.shakespeare.lit/thirdwitch", Some("gone where?")).build()?.to_xml(),
///     "<presence xmlns='jabber:client' to='coven@chat.shakespeare.lit/thirdwitch' type='unavailable'><status>gone where?</status></presence>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn leave(occupant: &str, status: Option<&str>) -> ElementBuilder {
    let p = presence(Some(occupant), Some("unavailable"));
    match status {
        Some(status) => p.text_child("status", status.to_owned()),
        None => p,
    }
}

/// Changes our nick in `room` (§7.6): an available presence to the new occupant JID, without the join marker.
/// Request [`ChangeNick`](super::ChangeNick) to follow the outcome.
///
/// ```
/// assert_eq!(
///     moxl_xep::xep_0045_muc::change_nick("coven@chat.shakespeare.lit", "oldhag").build()?.to_xml(),
///     "<presence xmlns='jabber:client' to='coven@chat.shakespeare.lit/oldhag'/>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn change_nick(room: &str, nick: &str) -> ElementBuilder {
    presence(Some(&occupant_jid(room, nick)), None)
}

/// A message to all occupants (§7.4).
///
/// ```
/// assert_eq!(
///     moxl_xep::xep_0045_muc::groupchat("coven@chat.shakespeare.lit", "Harpier cries").build()?.to_xml(),
///     "<message xmlns='jabber:client' to='coven@chat.shakespeare.lit' type='groupchat'><body>Harpier cries</body></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn groupchat(room: &str, body: &str) -> ElementBuilder {
    message(room, "groupchat", Some(body))
}

/// Changes the subject (§8.1); an empty one clears it.
///
/// ```
/// // §8.1, Example 85
/// assert_eq!(
///     moxl_xep::xep_0045_muc::set_subject("coven@chat.shakespeare.lit", "Fire Burn and Cauldron Bubble!").build()?.to_xml(),
///     "<message xmlns='jabber:client' to='coven@chat.shakespeare.lit' type='groupchat'><subject>Fire Burn and Cauldron Bubble!</subject></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn set_subject(room: &str, subject: &str) -> ElementBuilder {
    message(room, "groupchat", None).append(ElementBuilder::new("subject", ns::CLIENT).text(subject.to_owned()))
}

fn user_message(room: &str, verb: &'static str, to: &str, reason: Option<&str>) -> ElementBuilder {
    let mut inner = ElementBuilder::new(verb, NS_USER).attr("to", to.to_owned());
    if let Some(reason) = reason {
        inner = inner.text_child("reason", reason.to_owned());
    }
    ElementBuilder::new("message", ns::CLIENT)
        .attr("to", room.to_owned())
        .append(ElementBuilder::new("x", NS_USER).append(inner))
}

/// A mediated invitation (§7.8.2): asks the room to invite `to`, who gets a [`MucInvitation`](super::MucInvitation).
///
/// ```
/// // §7.8.2, Example 56
/// assert_eq!(
///     moxl_xep::xep_0045_muc::invite("coven@chat.shakespeare.lit", "hecate@shakespeare.lit", Some("Hey Hecate")).build()?.to_xml(),
///     "<message xmlns='jabber:client' to='coven@chat.shakespeare.lit'><x xmlns='http://jabber.org/protocol/muc#user'>\
///      <invite to='hecate@shakespeare.lit'><reason>Hey Hecate</reason></invite></x></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn invite(room: &str, to: &str, reason: Option<&str>) -> ElementBuilder {
    user_message(room, "invite", to, reason)
}

/// Declines an invitation (§7.8.2): the room relays it to `to`, the inviter.
///
/// ```
/// // §7.8.2, Example 61
/// assert_eq!(
///     moxl_xep::xep_0045_muc::decline("coven@chat.shakespeare.lit", "crone1@shakespeare.lit", None).build()?.to_xml(),
///     "<message xmlns='jabber:client' to='coven@chat.shakespeare.lit'><x xmlns='http://jabber.org/protocol/muc#user'>\
///      <decline to='crone1@shakespeare.lit'/></x></message>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn decline(room: &str, to: &str, reason: Option<&str>) -> ElementBuilder {
    user_message(room, "decline", to, reason)
}

/// An admin `set` (§8, §9): changes roles and affiliations. See [`Admin`](super::Admin) to send it as an
/// Action.
///
/// ```
/// use moxl_xep::xep_0045_muc::{admin_set, AdminItem, Role};
/// // §8.2, Example 89
/// let kick = AdminItem { nick: Some("pistol".into()), role: Some(Role::None), reason: Some("Avaunt, you cullion!".into()), ..Default::default() };
/// assert_eq!(
///     admin_set("harfleur@chat.shakespeare.lit", &[kick]).build()?.to_xml(),
///     "<iq xmlns='jabber:client' type='set' to='harfleur@chat.shakespeare.lit'><query xmlns='http://jabber.org/protocol/muc#admin'>\
///      <item nick='pistol' role='none'><reason>Avaunt, you cullion!</reason></item></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn admin_set(room: &str, items: &[AdminItem]) -> ElementBuilder {
    let query = items.iter().fold(ElementBuilder::new("query", NS_ADMIN), |q, i| q.append(i.to_element()));
    iq_set(Some(room)).append(query)
}

/// An admin `get` of a list (§8.5 voice list and moderators by role, §9.5 members, §9.8 admins, §10.5 owners,
/// §9.2 outcasts by affiliation).
///
/// ```
/// use moxl_xep::xep_0045_muc::{admin_list, Affiliation};
/// // §9.5, Example 127
/// assert_eq!(
///     admin_list("coven@chat.shakespeare.lit", None, Some(Affiliation::Member)).build()?.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='coven@chat.shakespeare.lit'><query xmlns='http://jabber.org/protocol/muc#admin'>\
///      <item affiliation='member'/></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn admin_list(room: &str, role: Option<Role>, affiliation: Option<Affiliation>) -> ElementBuilder {
    let item = AdminItem { role, affiliation, ..AdminItem::default() };
    iq_get(Some(room)).append(ElementBuilder::new("query", NS_ADMIN).append(item.to_element()))
}

/// Asks for the room's configuration form (§10.2).
///
/// ```
/// // §10.2, Example 163
/// assert_eq!(
///     moxl_xep::xep_0045_muc::config_get("coven@chat.shakespeare.lit").build()?.to_xml(),
///     "<iq xmlns='jabber:client' type='get' to='coven@chat.shakespeare.lit'><query xmlns='http://jabber.org/protocol/muc#owner'/></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn config_get(room: &str) -> ElementBuilder {
    iq_get(Some(room)).append(ElementBuilder::new("query", NS_OWNER))
}

/// Destroys the room (§10.9), pointing occupants to an alternate room.
///
/// ```
/// // §10.9, Example 201
/// assert_eq!(
///     moxl_xep::xep_0045_muc::destroy("heath@chat.shakespeare.lit", Some("coven@chat.shakespeare.lit"), Some("Macbeth doth come."), None).build()?.to_xml(),
///     "<iq xmlns='jabber:client' type='set' to='heath@chat.shakespeare.lit'><query xmlns='http://jabber.org/protocol/muc#owner'>\
///      <destroy jid='coven@chat.shakespeare.lit'><reason>Macbeth doth come.</reason></destroy></query></iq>"
/// );
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn destroy(room: &str, alternate: Option<&str>, reason: Option<&str>, password: Option<&str>) -> ElementBuilder {
    let mut d = ElementBuilder::new("destroy", NS_OWNER).attr_opt("jid", alternate.map(str::to_owned));
    if let Some(password) = password {
        d = d.text_child("password", password.to_owned());
    }
    if let Some(reason) = reason {
        d = d.text_child("reason", reason.to_owned());
    }
    iq_set(Some(room)).append(ElementBuilder::new("query", NS_OWNER).append(d))
}
