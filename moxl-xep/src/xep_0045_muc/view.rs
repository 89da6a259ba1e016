//! Typed views of what a room sends: occupant presences, status codes, groupchat messages, subjects,
//! invitations, declines, admin items, and the per-room roster an application follows.

use std::collections::BTreeMap;

use moxl_core::xml::{Element, ElementBuilder, ns};
use serde::{Deserialize, Serialize};

use super::{NS, NS_ADMIN, NS_USER};

/// Splits `room@service/nick` into the room's bare JID and the nick (`None` without a resource).
///
/// ```
/// use moxl_xep::xep_0045_muc::split_occupant;
/// assert_eq!(split_occupant("coven@chat.shakespeare.lit/thirdwitch"), ("coven@chat.shakespeare.lit", Some("thirdwitch")));
/// assert_eq!(split_occupant("coven@chat.shakespeare.lit"), ("coven@chat.shakespeare.lit", None));
/// ```
pub fn split_occupant(jid: &str) -> (&str, Option<&str>) {
    match jid.split_once('/') {
        Some((room, nick)) => (room, Some(nick)),
        None => (jid, None),
    }
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// The attribute value (`moderator`, `member`, `none`…).
            ///
            /// ```
            /// assert_eq!(moxl_xep::xep_0045_muc::Role::None.as_str(), "none");
            /// ```
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// Reads an attribute value; `None` for an unknown one.
            ///
            /// ```
            /// assert_eq!(moxl_xep::xep_0045_muc::Affiliation::from_name("none"), Some(moxl_xep::xep_0045_muc::Affiliation::None));
            /// ```
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($text => Some($name::$variant),)* _ => None }
            }
        }
    };
}

named_enum! {
    /// An occupant's role in the room, for this visit (§5.1).
    ///
    /// ```
    /// use moxl_xep::xep_0045_muc::Role;
    /// assert_eq!(Role::from_name("moderator"), Some(Role::Moderator));
    /// assert_eq!(Role::Visitor.as_str(), "visitor");
    /// assert_eq!(Role::from_name("king"), None);
    /// ```
    Role {
        /// May kick, grant and revoke voice, change the subject (§5.1.1).
        Moderator = "moderator",
        /// May speak.
        Participant = "participant",
        /// In a moderated room, may not speak (§5.1.1).
        Visitor = "visitor",
        /// Not in the room (kicked, left); also the role that kicks (§8.2).
        None = "none",
    }
}

named_enum! {
    /// A user's long-lived affiliation with the room (§5.2).
    ///
    /// ```
    /// use moxl_xep::xep_0045_muc::Affiliation;
    /// assert_eq!(Affiliation::from_name("outcast"), Some(Affiliation::Outcast));
    /// assert_eq!(Affiliation::Owner.as_str(), "owner");
    /// ```
    Affiliation {
        /// Owns the room: configures and destroys it (§10).
        Owner = "owner",
        /// Administers the lists (§9).
        Admin = "admin",
        /// Member (may enter a members-only room).
        Member = "member",
        /// Banned (§9.1).
        Outcast = "outcast",
        /// No affiliation.
        None = "none",
    }
}

/// A status code of `<status code='…'/>` (§15.6, the registry of status codes). Unknown codes are kept as
/// numbers.
///
/// ```
/// use moxl_xep::xep_0045_muc::StatusCode;
/// assert_eq!(StatusCode::from_code(307), StatusCode::Kicked);
/// assert_eq!(StatusCode::Kicked.code(), 307);
/// assert_eq!(StatusCode::from_code(999), StatusCode::Other(999));
/// assert_eq!(StatusCode::Other(999).code(), 999);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum StatusCode {
    /// 100: every occupant may see our full JID (on entering).
    RealJidPublic,
    /// 101: our affiliation changed while we were away (in a message).
    AffiliationChanged,
    /// 102: the room now shows unavailable members.
    ShowsUnavailable,
    /// 103: the room no longer shows unavailable members.
    HidesUnavailable,
    /// 104: a non-privacy-related configuration change (§10.2.1).
    ConfigChanged,
    /// 110: this presence is about us (self-presence, §7.2.2).
    SelfPresence,
    /// 170: the room is now logged.
    LoggingEnabled,
    /// 171: the room is no longer logged.
    LoggingDisabled,
    /// 172: the room is now non-anonymous.
    NonAnonymous,
    /// 173: the room is now semi-anonymous.
    SemiAnonymous,
    /// 174: the room is now fully anonymous.
    FullyAnonymous,
    /// 201: a new room was created (§10.1).
    RoomCreated,
    /// 210: the service assigned or changed our nick.
    NickAssigned,
    /// 301: banned (§9.1).
    Banned,
    /// 303: a nick change (§7.6); the new nick is in the item.
    NickChanged,
    /// 307: kicked (§8.2).
    Kicked,
    /// 321: removed because of an affiliation change (members-only room, §9.4).
    RemovedAffiliation,
    /// 322: removed because the room became members-only.
    RemovedMembersOnly,
    /// 332: removed because the service shuts down.
    Shutdown,
    /// 333: removed because of a technical problem (an error bounced, §7.2.26 of the registry).
    RemovedError,
    /// A code this library does not name.
    Other(u16),
}

impl StatusCode {
    const KNOWN: [(u16, StatusCode); 20] = [
        (100, StatusCode::RealJidPublic),
        (101, StatusCode::AffiliationChanged),
        (102, StatusCode::ShowsUnavailable),
        (103, StatusCode::HidesUnavailable),
        (104, StatusCode::ConfigChanged),
        (110, StatusCode::SelfPresence),
        (170, StatusCode::LoggingEnabled),
        (171, StatusCode::LoggingDisabled),
        (172, StatusCode::NonAnonymous),
        (173, StatusCode::SemiAnonymous),
        (174, StatusCode::FullyAnonymous),
        (201, StatusCode::RoomCreated),
        (210, StatusCode::NickAssigned),
        (301, StatusCode::Banned),
        (303, StatusCode::NickChanged),
        (307, StatusCode::Kicked),
        (321, StatusCode::RemovedAffiliation),
        (322, StatusCode::RemovedMembersOnly),
        (332, StatusCode::Shutdown),
        (333, StatusCode::RemovedError),
    ];

    /// The status for a number.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0045_muc::StatusCode::from_code(110), moxl_xep::xep_0045_muc::StatusCode::SelfPresence);
    /// ```
    pub fn from_code(code: u16) -> StatusCode {
        Self::KNOWN.iter().find(|(c, _)| *c == code).map_or(StatusCode::Other(code), |(_, s)| *s)
    }

    /// The number.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0045_muc::StatusCode::RoomCreated.code(), 201);
    /// ```
    pub fn code(self) -> u16 {
        match self {
            StatusCode::Other(code) => code,
            known => Self::KNOWN.iter().find(|(_, s)| *s == known).map_or(0, |(c, _)| *c),
        }
    }

    /// The codes of an `<x xmlns='http://jabber.org/protocol/muc#user'/>` (ignoring malformed ones).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::StatusCode;
    /// let x = Element::parse("<x xmlns='http://jabber.org/protocol/muc#user'><status code='110'/><status code='x'/><status code='201'/></x>")?;
    /// assert_eq!(StatusCode::all_in(&x), [StatusCode::SelfPresence, StatusCode::RoomCreated]);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(x: &Element) -> Vec<StatusCode> {
        x.children()
            .filter(|s| s.is("status", NS_USER))
            .filter_map(|s| s.attr("code").and_then(|c| c.trim().parse::<u16>().ok()))
            .map(StatusCode::from_code)
            .collect()
    }
}

/// One occupant as the room shows it (§7.2.3, §7.2.4): nick, full JID when we may see it, role and affiliation.
///
/// ```
/// use moxl_xep::xep_0045_muc::{Affiliation, Occupant, Role};
/// let o = Occupant { nick: "thirdwitch".into(), jid: None, role: Role::Participant, affiliation: Affiliation::Member };
/// assert!(o.jid.is_none()); // a semi-anonymous room
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occupant {
    /// The nick (the resource of the occupant JID).
    pub nick: String,
    /// The occupant's full JID, when the room shows it to us (non-anonymous rooms, or to moderators).
    pub jid: Option<String>,
    /// The role.
    pub role: Role,
    /// The affiliation.
    pub affiliation: Affiliation,
}

/// Who did it (`<actor/>` of a kick, ban or role change, §8.2, §9.1).
///
/// ```
/// let a = moxl_xep::xep_0045_muc::Actor { nick: Some("Fluellen".into()), jid: None };
/// assert_eq!(a.nick.as_deref(), Some("Fluellen"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The actor's nick in the room.
    pub nick: Option<String>,
    /// The actor's JID, if shown.
    pub jid: Option<String>,
}

/// A room destruction as its occupants see it (`<destroy/>` in the unavailable presence, §10.9).
///
/// ```
/// let d = moxl_xep::xep_0045_muc::Destroyed { alternate: Some("coven@chat.shakespeare.lit".into()), reason: None, password: None };
/// assert!(d.alternate.is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destroyed {
    /// The room to go to instead.
    pub alternate: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// The alternate room's password.
    pub password: Option<String>,
}

impl Destroyed {
    fn from_element(destroy: &Element) -> Destroyed {
        Destroyed {
            alternate: destroy.attr("jid").map(|j| j.into_owned()),
            reason: destroy.child_text("reason", destroy.ns()),
            password: destroy.child_text("password", destroy.ns()),
        }
    }
}

/// An occupant presence from a room (§7.2.3–§7.2.5, §7.6, §7.14, §8.2, §9.1, §10.9): who, what changed and why.
/// Delivered as the `mucpresence` Packet; the self-presence answering our join comes as `muc_join_handle`.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0045_muc::{Affiliation, MucPresence, Role, StatusCode};
/// // §8.2, Example 91: the kicked occupant is told
/// let p = Element::parse("<presence xmlns='jabber:client' from='harfleur@chat.shakespeare.lit/pistol' \
///     to='pistol@shakespeare.lit/harfleur' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>\
///     <item affiliation='none' role='none'><actor nick='Fluellen'/><reason>Avaunt, you cullion!</reason></item>\
///     <status code='307'/><status code='110'/></x></presence>")?;
/// let p = MucPresence::from_stanza(&p).unwrap();
/// assert_eq!((p.room.as_str(), p.occupant.nick.as_str()), ("harfleur@chat.shakespeare.lit", "pistol"));
/// assert!(!p.available && p.is_self() && p.has(StatusCode::Kicked));
/// assert_eq!(p.occupant.role, Role::None);
/// assert_eq!(p.actor.and_then(|a| a.nick).as_deref(), Some("Fluellen"));
/// assert_eq!(p.reason.as_deref(), Some("Avaunt, you cullion!"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MucPresence {
    /// The room's bare JID.
    pub room: String,
    /// The occupant (its nick is the presence's resource).
    pub occupant: Occupant,
    /// `false` for `type='unavailable'`: the occupant left, was kicked, banned, changed nick or the room is gone.
    pub available: bool,
    /// The status codes.
    pub statuses: Vec<StatusCode>,
    /// With 303 (nick change): the new nick.
    pub new_nick: Option<String>,
    /// Who kicked, banned or changed the role.
    pub actor: Option<Actor>,
    /// The reason given with the change.
    pub reason: Option<String>,
    /// The room was destroyed (§10.9).
    pub destroyed: Option<Destroyed>,
}

impl MucPresence {
    /// Reads an occupant presence: a `<presence/>` (available or unavailable) from `room@service/nick` with a
    /// `<x xmlns='http://jabber.org/protocol/muc#user'/>`. `None` for anything else.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::{MucPresence, StatusCode};
    /// let p = Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>")?;
    /// let p = MucPresence::from_stanza(&p).unwrap();
    /// assert_eq!(p.room, "coven@chat.shakespeare.lit");
    /// // an error presence is no occupant presence
    /// let error = Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' type='error'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'/></presence>")?;
    /// assert!(MucPresence::from_stanza(&error).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<MucPresence> {
        if !stanza.is("presence", ns::CLIENT) {
            return None;
        }
        let available = match stanza.attr("type").as_deref() {
            None => true,
            Some("unavailable") => false,
            Some(_) => return None,
        };
        let from = stanza.attr("from")?;
        let (room, nick) = split_occupant(&from);
        let nick = nick?;
        let x = stanza.child("x", NS_USER)?;
        let item = x.child("item", NS_USER);
        let item_attr = |name: &str| item.as_ref().and_then(|i| i.attr(name)).map(|v| v.into_owned());
        let actor = item.as_ref().and_then(|i| i.child("actor", NS_USER)).map(|a| Actor {
            nick: a.attr("nick").map(|n| n.into_owned()),
            jid: a.attr("jid").map(|j| j.into_owned()),
        });
        let statuses = StatusCode::all_in(&x);
        let new_nick = if statuses.contains(&StatusCode::NickChanged) { item_attr("nick") } else { None };
        Some(MucPresence {
            room: room.to_owned(),
            occupant: Occupant {
                nick: nick.to_owned(),
                jid: item_attr("jid"),
                role: item_attr("role").as_deref().and_then(Role::from_name).unwrap_or(Role::None),
                affiliation: item_attr("affiliation")
                    .as_deref()
                    .and_then(Affiliation::from_name)
                    .unwrap_or(Affiliation::None),
            },
            available,
            statuses,
            new_nick,
            actor,
            reason: item.as_ref().and_then(|i| i.child_text("reason", NS_USER)),
            destroyed: x.child("destroy", NS_USER).map(|d| Destroyed::from_element(&d)),
        })
    }

    /// Whether this presence is about us (status 110, §7.2.2).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::{MucPresence, StatusCode};
    /// let p = Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>")?;
    /// let p = MucPresence::from_stanza(&p).unwrap();
    /// assert!(p.is_self());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn is_self(&self) -> bool {
        self.has(StatusCode::SelfPresence)
    }

    /// Whether it carries this status code.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::{MucPresence, StatusCode};
    /// let p = Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>")?;
    /// let p = MucPresence::from_stanza(&p).unwrap();
    /// assert!(p.has(StatusCode::SelfPresence) && !p.has(StatusCode::Kicked));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn has(&self, status: StatusCode) -> bool {
        self.statuses.contains(&status)
    }

    /// The occupant's nick.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::{MucPresence, StatusCode};
    /// let p = Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>")?;
    /// let p = MucPresence::from_stanza(&p).unwrap();
    /// assert_eq!(p.nick(), "thirdwitch");
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn nick(&self) -> &str {
        &self.occupant.nick
    }
}

/// The occupants of one room, kept up to date by the application from the presences it receives
/// ([`apply`](Self::apply) each `mucpresence`, `muc_join_handle` and `muc_changenick_handle` of the room).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0045_muc::{MucPresence, RoomRoster};
/// let mut roster = RoomRoster::default();
/// for xml in [
///     // §7.2.3, Examples 21 and 24 (abridged): another occupant, then our own presence
///     "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/></x></presence>",
///     "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>",
/// ] {
///     roster.apply(&MucPresence::from_stanza(&Element::parse(xml)?).unwrap());
/// }
/// assert!(roster.joined());
/// assert_eq!(roster.self_nick(), Some("thirdwitch"));
/// assert_eq!(roster.occupants().map(|o| o.nick.as_str()).collect::<Vec<_>>(), ["firstwitch", "thirdwitch"]);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRoster {
    occupants: BTreeMap<String, Occupant>,
    self_nick: Option<String>,
    joined: bool,
}

impl RoomRoster {
    /// Applies one occupant presence: an available one adds or updates the occupant, an unavailable one
    /// removes it (a nick change, 303, moves it to the new nick). Our own unavailable presence (110 without
    /// 303: we left, were kicked or banned, or the room was destroyed) empties the roster.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::{MucPresence, RoomRoster};
    /// let p = Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>")?;
    /// let p = MucPresence::from_stanza(&p).unwrap();
    /// let mut roster = RoomRoster::default();
    /// roster.apply(&p);
    /// // §7.14, Example 82: we leave
    /// let left = Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' type='unavailable'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='none'/><status code='110'/></x></presence>")?;
    /// roster.apply(&MucPresence::from_stanza(&left).unwrap());
    /// assert!(!roster.joined() && roster.is_empty());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn apply(&mut self, presence: &MucPresence) {
        let nick = presence.nick();
        if presence.available {
            self.occupants.insert(nick.to_owned(), presence.occupant.clone());
            if presence.is_self() {
                self.self_nick = Some(nick.to_owned());
                self.joined = true;
            }
            return;
        }
        let removed = self.occupants.remove(nick);
        if let (Some(new_nick), true) = (&presence.new_nick, presence.has(StatusCode::NickChanged)) {
            let moved = Occupant { nick: new_nick.clone(), ..removed.unwrap_or_else(|| presence.occupant.clone()) };
            self.occupants.insert(new_nick.clone(), moved);
            if presence.is_self() {
                self.self_nick = Some(new_nick.clone());
            }
        } else if presence.is_self() {
            self.occupants.clear();
            self.joined = false;
        }
    }

    /// Whether we are in the room (our self-presence came, and no unavailable one since).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::{MucPresence, RoomRoster};
    /// let p = Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>")?;
    /// let p = MucPresence::from_stanza(&p).unwrap();
    /// let mut roster = RoomRoster::default();
    /// roster.apply(&p);
    /// assert!(roster.joined());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn joined(&self) -> bool {
        self.joined
    }

    /// Our nick, once known.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::{MucPresence, RoomRoster};
    /// let p = Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>")?;
    /// let p = MucPresence::from_stanza(&p).unwrap();
    /// let mut roster = RoomRoster::default();
    /// roster.apply(&p);
    /// assert_eq!(roster.self_nick(), Some("thirdwitch"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn self_nick(&self) -> Option<&str> {
        self.self_nick.as_deref()
    }

    /// The occupants, by nick.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::{MucPresence, RoomRoster};
    /// let p = Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>")?;
    /// let p = MucPresence::from_stanza(&p).unwrap();
    /// let mut roster = RoomRoster::default();
    /// roster.apply(&p);
    /// assert_eq!(roster.occupants().count(), 1);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn occupants(&self) -> impl Iterator<Item = &Occupant> {
        self.occupants.values()
    }

    /// One occupant.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::{MucPresence, RoomRoster};
    /// let p = Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>")?;
    /// let p = MucPresence::from_stanza(&p).unwrap();
    /// let mut roster = RoomRoster::default();
    /// roster.apply(&p);
    /// assert_eq!(roster.get("thirdwitch").map(|o| o.role), Some(moxl_xep::xep_0045_muc::Role::Participant));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn get(&self, nick: &str) -> Option<&Occupant> {
        self.occupants.get(nick)
    }

    /// How many occupants.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::{MucPresence, RoomRoster};
    /// let p = Element::parse("<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant'/><status code='110'/></x></presence>")?;
    /// let p = MucPresence::from_stanza(&p).unwrap();
    /// let mut roster = RoomRoster::default();
    /// roster.apply(&p);
    /// assert_eq!(roster.len(), 1);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.occupants.len()
    }

    /// No occupants.
    ///
    /// ```
    /// assert!(moxl_xep::xep_0045_muc::RoomRoster::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.occupants.is_empty()
    }
}

/// Whether the message is a groupchat message from a room (`type='groupchat'`, with a sender).
fn groupchat_sender(stanza: &Element) -> Option<(String, Option<String>)> {
    if !stanza.is("message", ns::CLIENT) || stanza.attr("type").as_deref() != Some("groupchat") {
        return None;
    }
    let from = stanza.attr("from")?;
    let (room, nick) = split_occupant(&from);
    Some((room.to_owned(), nick.map(str::to_owned)))
}

/// A message to all occupants (§7.4), with the sender's nick. Delivered as the `mucmessage` Packet.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0045_muc::GroupchatMessage;
/// // §7.4, Example 49
/// let m = Element::parse("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' \
///     id='162BEBB1-F6DB-4D9A-9BD8-CFDCC801A0B2' to='crone1@shakespeare.lit/desktop' type='groupchat'>\
///     <body>Harpier cries: 'tis time, 'tis time.</body></message>")?;
/// let m = GroupchatMessage::from_stanza(&m).unwrap();
/// assert_eq!((m.room.as_str(), m.nick.as_deref()), ("coven@chat.shakespeare.lit", Some("thirdwitch")));
/// assert_eq!(m.body, "Harpier cries: 'tis time, 'tis time.");
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupchatMessage {
    /// The room's bare JID.
    pub room: String,
    /// The sender's nick; `None` for a message from the room itself.
    pub nick: Option<String>,
    /// The body.
    pub body: String,
    /// The message's `id`.
    pub id: Option<String>,
    /// For discussion history (§7.2.15): the `stamp` of its `<delay xmlns='urn:xmpp:delay'/>`.
    pub delay: Option<String>,
}

impl GroupchatMessage {
    /// Reads a `type='groupchat'` message with a `<body/>`; `None` otherwise.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::GroupchatMessage;
    /// // §7.2.15, Example 37: discussion history, delayed
    /// let m = Element::parse("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch' type='groupchat'>\
    ///     <body>Thrice the brinded cat hath mew'd.</body><delay xmlns='urn:xmpp:delay' from='coven@chat.shakespeare.lit' stamp='2002-10-13T23:58:37Z'/></message>")?;
    /// assert_eq!(GroupchatMessage::from_stanza(&m).unwrap().delay.as_deref(), Some("2002-10-13T23:58:37Z"));
    /// let chat = Element::parse("<message xmlns='jabber:client' from='romeo@montague.lit/orchard' type='chat'><body>hi</body></message>")?;
    /// assert!(GroupchatMessage::from_stanza(&chat).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<GroupchatMessage> {
        let (room, nick) = groupchat_sender(stanza)?;
        let body = stanza.child_text("body", ns::CLIENT)?;
        Some(GroupchatMessage {
            room,
            nick,
            body,
            id: stanza.attr("id").map(|i| i.into_owned()),
            delay: stanza.child("delay", "urn:xmpp:delay").and_then(|d| d.attr("stamp").map(|s| s.into_owned())),
        })
    }
}

/// The room's subject (§7.2.15 on joining, §8.1 when changed). An empty subject clears it. Delivered as the
/// `mucsubject` Packet.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0045_muc::MucSubject;
/// // §8.1, Example 86
/// let m = Element::parse("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/secondwitch' \
///     id='5BCE07C5-0729-4353-A6A3-ED9818C9B498' to='crone1@shakespeare.lit/desktop' type='groupchat'>\
///     <subject>Fire Burn and Cauldron Bubble!</subject></message>")?;
/// let s = MucSubject::from_stanza(&m).unwrap();
/// assert_eq!((s.subject.as_str(), s.nick.as_deref()), ("Fire Burn and Cauldron Bubble!", Some("secondwitch")));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MucSubject {
    /// The room's bare JID.
    pub room: String,
    /// Who set it; `None` when the room itself sends it.
    pub nick: Option<String>,
    /// The subject (empty: none).
    pub subject: String,
}

impl MucSubject {
    /// Reads a subject change: a `type='groupchat'` message with a `<subject/>` and no `<body/>` (§8.1).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::MucSubject;
    /// // §7.2.15: the room sends the (empty) subject last on joining
    /// let m = Element::parse("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' type='groupchat'><subject/></message>")?;
    /// assert_eq!(MucSubject::from_stanza(&m).map(|s| s.subject), Some(String::new()));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<MucSubject> {
        let (room, nick) = groupchat_sender(stanza)?;
        if stanza.child("body", ns::CLIENT).is_some() {
            return None;
        }
        let subject = stanza.child_text("subject", ns::CLIENT)?;
        Some(MucSubject { room, nick, subject })
    }
}

/// The `<x xmlns='…#user'/>` of a message sent by a room itself (from its bare JID).
fn from_room(stanza: &Element) -> Option<(String, Element)> {
    if !stanza.is("message", ns::CLIENT) || stanza.attr("type").as_deref() == Some("error") {
        return None;
    }
    let from = stanza.attr("from")?;
    let (room, None) = split_occupant(&from) else { return None };
    Some((room.to_owned(), stanza.child("x", NS_USER)?))
}

/// A mediated invitation received from a room (§7.8.2). Delivered as the `mucinvitation` Packet.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0045_muc::MucInvitation;
/// // §7.8.2, Example 58
/// let m = Element::parse("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' id='nzd143v8' \
///     to='hecate@shakespeare.lit'><x xmlns='http://jabber.org/protocol/muc#user'>\
///     <invite from='crone1@shakespeare.lit/desktop'><reason>Hey Hecate, this is the place for all good witches!</reason></invite>\
///     <password>cauldronburn</password></x></message>")?;
/// let i = MucInvitation::from_stanza(&m).unwrap();
/// assert_eq!((i.room.as_str(), i.from.as_deref()), ("coven@chat.shakespeare.lit", Some("crone1@shakespeare.lit/desktop")));
/// assert_eq!(i.password.as_deref(), Some("cauldronburn"));
/// assert!(i.reason.unwrap().starts_with("Hey Hecate"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MucInvitation {
    /// The room we are invited to.
    pub room: String,
    /// Who invites us.
    pub from: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// The room's password, if it has one.
    pub password: Option<String>,
}

impl MucInvitation {
    /// Reads an invitation sent by a room (from its bare JID); `None` otherwise.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::MucInvitation;
    /// // not from the room's bare JID: no invitation
    /// let m = Element::parse("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><invite from='a@b'/></x></message>")?;
    /// assert!(MucInvitation::from_stanza(&m).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<MucInvitation> {
        let (room, x) = from_room(stanza)?;
        let invite = x.child("invite", NS_USER)?;
        Some(MucInvitation {
            room,
            from: invite.attr("from").map(|f| f.into_owned()),
            reason: invite.child_text("reason", NS_USER),
            password: x.child_text("password", NS_USER),
        })
    }
}

/// A declined invitation, relayed by the room (§7.8.2). Delivered as the `mucdecline` Packet.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0045_muc::MucDecline;
/// // §7.8.2, Example 62
/// let m = Element::parse("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' id='jk2vs61v' \
///     to='crone1@shakespeare.lit/desktop'><x xmlns='http://jabber.org/protocol/muc#user'>\
///     <decline from='hecate@shakespeare.lit'><reason>Sorry, I'm too busy right now.</reason></decline></x></message>")?;
/// let d = MucDecline::from_stanza(&m).unwrap();
/// assert_eq!(d.from.as_deref(), Some("hecate@shakespeare.lit"));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MucDecline {
    /// The room.
    pub room: String,
    /// Who declines.
    pub from: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

impl MucDecline {
    /// Reads a decline relayed by a room (from its bare JID); `None` otherwise.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::MucDecline;
    /// let m = Element::parse("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'><decline from='hecate@shakespeare.lit'><reason>Busy</reason></decline></x></message>")?;
    /// assert_eq!(MucDecline::from_stanza(&m).and_then(|d| d.reason).as_deref(), Some("Busy"));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<MucDecline> {
        let (room, x) = from_room(stanza)?;
        let decline = x.child("decline", NS_USER)?;
        Some(MucDecline {
            room,
            from: decline.attr("from").map(|f| f.into_owned()),
            reason: decline.child_text("reason", NS_USER),
        })
    }
}

/// Status codes a room sends in a message from its bare JID: configuration changes (104, 170–174, §10.2.1),
/// an affiliation change while away (101). Delivered as the `mucstatus` Packet.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0045_muc::{RoomStatus, StatusCode};
/// // §10.2.1, Example 176
/// let m = Element::parse("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' id='80349046-F26A-44F3-A7A6-54825064DD9E' \
///     to='crone1@shakespeare.lit/desktop' type='groupchat'><x xmlns='http://jabber.org/protocol/muc#user'>\
///     <status code='170'/></x></message>")?;
/// assert_eq!(RoomStatus::from_stanza(&m).unwrap().statuses, [StatusCode::LoggingEnabled]);
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RoomStatus {
    /// The room.
    pub room: String,
    /// The codes.
    pub statuses: Vec<StatusCode>,
}

impl RoomStatus {
    /// Reads the status codes of a message from a room's bare JID; `None` if it has none.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::RoomStatus;
    /// let m = Element::parse("<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' type='groupchat'>\
    ///     <x xmlns='http://jabber.org/protocol/muc#user'/></message>")?;
    /// assert!(RoomStatus::from_stanza(&m).is_none());
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_stanza(stanza: &Element) -> Option<RoomStatus> {
        let (room, x) = from_room(stanza)?;
        let statuses = StatusCode::all_in(&x);
        (!statuses.is_empty()).then_some(RoomStatus { room, statuses })
    }
}

/// An `<item/>` of the admin protocol: what to change (§8, §9) or one entry of a list (§8.5, §9.5…).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0045_muc::{AdminItem, Affiliation};
/// // §9.5, Example 128 (one item)
/// let item = Element::parse("<item xmlns='http://jabber.org/protocol/muc#admin' affiliation='member' \
///     jid='hag66@shakespeare.lit' nick='thirdwitch' role='participant'/>")?;
/// let item = AdminItem::from_element(&item).unwrap();
/// assert_eq!((item.affiliation, item.jid.as_deref()), (Some(Affiliation::Member), Some("hag66@shakespeare.lit")));
/// assert_eq!(AdminItem::from_element(&item.to_element().build()?), Some(item));
/// # Ok::<(), moxl_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminItem {
    /// The user's bare JID (affiliations).
    pub jid: Option<String>,
    /// The occupant's nick (roles).
    pub nick: Option<String>,
    /// The role to give, or the occupant's.
    pub role: Option<Role>,
    /// The affiliation to give, or the user's.
    pub affiliation: Option<Affiliation>,
    /// Why (shown to the occupants).
    pub reason: Option<String>,
}

impl AdminItem {
    /// Reads an `<item/>` of `…#admin` (or `…#owner`, §10.5 lists).
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::{AdminItem, Role};
    /// let item = Element::parse("<item xmlns='http://jabber.org/protocol/muc#admin' nick='pistol' role='none'><reason>Avaunt</reason></item>")?;
    /// let item = AdminItem::from_element(&item).unwrap();
    /// assert_eq!((item.role, item.reason.as_deref()), (Some(Role::None), Some("Avaunt")));
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn from_element(item: &Element) -> Option<AdminItem> {
        if item.name() != "item" || !(item.ns() == NS_ADMIN || item.ns() == super::NS_OWNER) {
            return None;
        }
        let attr = |name: &str| item.attr(name).map(|v| v.into_owned());
        Some(AdminItem {
            jid: attr("jid"),
            nick: attr("nick"),
            role: attr("role").as_deref().and_then(Role::from_name),
            affiliation: attr("affiliation").as_deref().and_then(Affiliation::from_name),
            reason: item.child_text("reason", item.ns()),
        })
    }

    /// The `<item/>` in `…#admin`.
    ///
    /// ```
    /// use moxl_xep::xep_0045_muc::{AdminItem, Affiliation};
    /// // §9.1, Example 115
    /// let ban = AdminItem { jid: Some("earlofcambridge@shakespeare.lit".into()), affiliation: Some(Affiliation::Outcast), reason: Some("Treason".into()), ..Default::default() };
    /// assert_eq!(
    ///     ban.to_element().build()?.to_xml(),
    ///     "<item xmlns='http://jabber.org/protocol/muc#admin' affiliation='outcast' jid='earlofcambridge@shakespeare.lit'><reason>Treason</reason></item>"
    /// );
    /// # Ok::<(), moxl_core::Error>(())
    /// ```
    pub fn to_element(&self) -> ElementBuilder {
        let item = ElementBuilder::new("item", NS_ADMIN)
            .attr_opt("affiliation", self.affiliation.map(Affiliation::as_str))
            .attr_opt("jid", self.jid.clone())
            .attr_opt("nick", self.nick.clone())
            .attr_opt("role", self.role.map(Role::as_str));
        match &self.reason {
            Some(reason) => item.text_child("reason", reason.clone()),
            None => item,
        }
    }

    /// The items of a `<query xmlns='…#admin'/>` in a stanza.
    ///
    /// ```
    /// use moxl_core::xml::Element;
    /// use moxl_xep::xep_0045_muc::AdminItem;
    /// let iq = Element::parse("<iq xmlns='jabber:client' type='result'><query xmlns='http://jabber.org/protocol/muc#admin'>\
    ///     <item affiliation='outcast' jid='earlofcambridge@shakespeare.lit'/><item affiliation='outcast' jid='lordscroop@shakespeare.lit'/></query></iq>")?;
    /// assert_eq!(AdminItem::all_in(&iq).len(), 2);
    /// # Ok::<(), moxl_core::xml::XmlError>(())
    /// ```
    pub fn all_in(stanza: &Element) -> Vec<AdminItem> {
        stanza
            .child("query", NS_ADMIN)
            .into_iter()
            .flat_map(|q| q.children())
            .filter_map(|i| AdminItem::from_element(&i))
            .collect()
    }
}

/// Whether a stanza carries the MUC join marker `<x xmlns='http://jabber.org/protocol/muc'/>` (§7.2.1).
///
/// ```
/// let p = moxl_xep::xep_0045_muc::join("coven@chat.shakespeare.lit/thirdwitch", None, None).build()?;
/// assert!(moxl_xep::xep_0045_muc::is_join(&p));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn is_join(stanza: &Element) -> bool {
    stanza.is("presence", ns::CLIENT) && stanza.child("x", NS).is_some()
}
