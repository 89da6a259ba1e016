//! XEP-0045: Multi-User Chat. Joining (§7.2, with password and history), leaving (§7.14), nick changes (§7.6),
//! the occupant list (§7.2.3) as typed [`MucPresence`] events and a [`RoomRoster`] to follow them, messages
//! (§7.4) and the subject (§8.1), mediated invitations (§7.8.2), moderation (§8: kick, voice, moderator),
//! administration (§9: ban, member, admin, owner, lists), room creation and configuration through data forms
//! (§10.1, §10.2) and destruction (§10.9), with the status codes of §15.6 as [`StatusCode`].
//!
//! | what | how |
//! |---|---|
//! | join / create a room | request [`Join`]: `muc_join_handle` (our self-presence, 201 if new) or `muc_join_error…` |
//! | configure a room | request [`GetConfig`] then [`Configure`] (or [`Configure::instant`]) |
//! | leave | send [`leave`] |
//! | change nick | request [`ChangeNick`] |
//! | speak, set the subject | send [`groupchat`], [`set_subject`] |
//! | invite, decline | send [`invite`], [`decline`] |
//! | kick, ban, roles, affiliations | request [`Admin`] |
//! | lists | request [`GetList`] |
//! | destroy | request [`Destroy`] |
//!
//! Events (Payloads): `mucpresence` ([`MucPresence`]), `mucmessage` ([`GroupchatMessage`]), `mucsubject`
//! ([`MucSubject`]), `mucinvitation` ([`MucInvitation`]), `mucdecline` ([`MucDecline`]), `mucstatus`
//! ([`RoomStatus`]).
//!
//! The reply to a join is a presence, not an iq: the service reflects the join's id in our self-presence or its
//! error presence (§7.2.2), which the controller matches to the pending [`Join`] like any reply (same id, from
//! the occupant JID we addressed).

mod actions;
mod config;
mod payloads;
mod stanza;
mod view;

pub use actions::{Admin, AdminList, ChangeNick, Destroy, GetList, Join, JoinError, JoinFailure};
pub use config::{Configure, GetConfig, RoomConfig, config_submit};
pub use payloads::{GroupchatMessages, MucDeclines, MucInvitations, MucPresences, MucRoomStatuses, MucSubjects};
pub use stanza::{
    History, admin_list, admin_set, change_nick, config_get, decline, destroy, groupchat, invite, join, leave,
    occupant_jid, set_subject,
};
pub use view::{
    Actor, AdminItem, Affiliation, Destroyed, GroupchatMessage, MucDecline, MucInvitation, MucPresence, MucSubject,
    Occupant, Role, RoomRoster, RoomStatus, StatusCode, is_join, split_occupant,
};

/// `http://jabber.org/protocol/muc`: the join marker (§7.2.1) and the client's disco feature (§6.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0045_muc::NS, "http://jabber.org/protocol/muc");
/// ```
pub const NS: &str = "http://jabber.org/protocol/muc";

/// `http://jabber.org/protocol/muc#user`: occupant presences, invitations, status codes (§19.1).
///
/// ```
/// assert_eq!(moxl_xep::xep_0045_muc::NS_USER, "http://jabber.org/protocol/muc#user");
/// ```
pub const NS_USER: &str = "http://jabber.org/protocol/muc#user";

/// `http://jabber.org/protocol/muc#admin`: roles and affiliations (§8, §9).
///
/// ```
/// assert_eq!(moxl_xep::xep_0045_muc::NS_ADMIN, "http://jabber.org/protocol/muc#admin");
/// ```
pub const NS_ADMIN: &str = "http://jabber.org/protocol/muc#admin";

/// `http://jabber.org/protocol/muc#owner`: configuration and destruction (§10).
///
/// ```
/// assert_eq!(moxl_xep::xep_0045_muc::NS_OWNER, "http://jabber.org/protocol/muc#owner");
/// ```
pub const NS_OWNER: &str = "http://jabber.org/protocol/muc#owner";

/// The `FORM_TYPE` of the room configuration form (§10.2, §15.5.3).
///
/// ```
/// assert_eq!(moxl_xep::xep_0045_muc::FORM_ROOMCONFIG, "http://jabber.org/protocol/muc#roomconfig");
/// ```
pub const FORM_ROOMCONFIG: &str = "http://jabber.org/protocol/muc#roomconfig";

moxl_core::feature!("http://jabber.org/protocol/muc");

#[cfg(test)]
mod tests;
