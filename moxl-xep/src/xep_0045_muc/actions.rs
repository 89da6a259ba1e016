//! The Actions: join, nick change, admin changes and lists, configuration, destruction.

use moxl_core::action;
use moxl_core::stanza::StanzaError;
use moxl_core::xec::Context;
use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

use super::stanza::{History, admin_list, admin_set, change_nick, destroy, join, occupant_jid};
use super::view::{AdminItem, Affiliation, MucPresence, Role};

/// Why a join failed (§7.2.6–§7.2.12), with the error itself.
///
/// ```
/// use moxl_core::stanza::{Condition, StanzaError};
/// use moxl_xep::xep_0045_muc::{JoinError, JoinFailure};
/// let f = JoinFailure { occupant: "coven@chat.shakespeare.lit/thirdwitch".into(), reason: JoinError::PasswordRequired,
///     error: StanzaError::new(Condition::NotAuthorized) };
/// assert_eq!(f.reason, JoinError::PasswordRequired);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinFailure {
    /// The occupant JID we tried.
    pub occupant: String,
    /// What the error means for a join.
    pub reason: JoinError,
    /// The error.
    pub error: StanzaError,
}

/// What a join error means (§7.2.6–§7.2.12, §7.2.5 reserved nicks, §10.1.1 room creation).
///
/// ```
/// assert_ne!(moxl_xep::xep_0045_muc::JoinError::Banned, moxl_xep::xep_0045_muc::JoinError::MembersOnly);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JoinError {
    /// `not-authorized`: no or a wrong password (§7.2.6).
    PasswordRequired,
    /// `forbidden`: we are banned (§7.2.7).
    Banned,
    /// `item-not-found`: the room does not exist or is locked (§7.2.8).
    RoomNotFound,
    /// `not-allowed`: we may not create rooms (§7.2.9).
    CreationRestricted,
    /// `not-acceptable`: the nick is reserved, we must use ours (§7.2.10).
    ReservedNick,
    /// `registration-required`: the room is members-only (§7.2.11).
    MembersOnly,
    /// `conflict`: the nick is taken (§7.2.12).
    NickConflict,
    /// `service-unavailable`: the room is full (§7.2.13 of the max-users rule).
    MaxUsers,
    /// Any other error.
    Other,
}

/// Joins a room (§7.2), or creates it (§10.1.1: the reply then has status 201 and the room stays locked until
/// configured, see [`Configure`](super::Configure)). The request is [`join`]'s presence, with the Action's id; the
/// service reflects the id in our self-presence or error (§7.2.2), which is the reply.
///
/// Output: our self-presence, a [`MucPresence`]; an error is `Err(Error::Stanza(..))` (its condition tells why,
/// as [`JoinError`] spells out), no answer `Err(Error::Timeout(..))`. The Packets are the second view:
///
/// | outcome | Packet key | content |
/// |---|---|---|
/// | our self-presence (110; 201 for a new room) | `muc_join_handle` | [`MucPresence`] |
/// | wrong or missing password (§7.2.6) | `muc_join_errornotauthorized` | [`JoinFailure`] |
/// | banned (§7.2.7) | `muc_join_errorforbidden` | [`JoinFailure`] |
/// | no such room, or locked (§7.2.8) | `muc_join_erroritemnotfound` | [`JoinFailure`] |
/// | room creation restricted (§7.2.9) | `muc_join_errornotallowed` | [`JoinFailure`] |
/// | reserved nick (§7.2.10) | `muc_join_errornotacceptable` | [`JoinFailure`] |
/// | members-only (§7.2.11) | `muc_join_errorregistrationrequired` | [`JoinFailure`] |
/// | nick in use (§7.2.12) | `muc_join_errorconflict` | [`JoinFailure`] |
/// | room full (§7.2.13) | `muc_join_errorserviceunavailable` | [`JoinFailure`] |
/// | any other error | `muc_join_error` | [`JoinFailure`] |
/// | no answer | `muc_join_timeout` | the occupant JID, a `String` |
///
/// The presences of the other occupants, the history and the subject come before and after as `mucpresence`,
/// `mucmessage` and `mucsubject`. A service that does not reflect the id, or that changes our nick (210),
/// sends a self-presence this Action does not recognise: it comes as `mucpresence` (with 110) and the Action
/// times out.
///
/// ```
/// use moxl_xep::xep_0045_muc::{History, Join};
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let join = Join::new("coven@chat.shakespeare.lit", "thirdwitch").password("cauldronburn").history(History::none());
/// let ours = xec.context().request(join)?.await?;
/// let created = ours.has(moxl_xep::xep_0045_muc::StatusCode::RoomCreated);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Join {
    occupant: String,
    password: Option<String>,
    history: Option<History>,
}

impl Join {
    /// Joins `room` as `nick`.
    ///
    /// ```
    /// let j = moxl_xep::xep_0045_muc::Join::new("coven@chat.shakespeare.lit", "thirdwitch");
    /// assert_eq!(j.occupant(), "coven@chat.shakespeare.lit/thirdwitch");
    /// ```
    pub fn new(room: &str, nick: &str) -> Join {
        Join { occupant: occupant_jid(room, nick), password: None, history: None }
    }

    /// With the room's password (§7.2.6).
    ///
    /// ```
    /// let j = moxl_xep::xep_0045_muc::Join::new("coven@chat.shakespeare.lit", "thirdwitch").password("cauldronburn");
    /// # let _ = j;
    /// ```
    pub fn password(mut self, password: impl Into<String>) -> Join {
        self.password = Some(password.into());
        self
    }

    /// With a history limit (§7.2.13).
    ///
    /// ```
    /// let j = moxl_xep::xep_0045_muc::Join::new("a@b", "c").history(moxl_xep::xep_0045_muc::History::none());
    /// # let _ = j;
    /// ```
    pub fn history(mut self, history: History) -> Join {
        self.history = Some(history);
        self
    }

    /// The occupant JID joined.
    ///
    /// ```
    /// assert_eq!(moxl_xep::xep_0045_muc::Join::new("a@b", "c").occupant(), "a@b/c");
    /// ```
    pub fn occupant(&self) -> &str {
        &self.occupant
    }

    fn fail(&self, ctx: &Context, reason: JoinError, error: &StanzaError) {
        ctx.pack(JoinFailure { occupant: self.occupant.clone(), reason, error: error.clone() }).deliver();
    }
}

#[action(group = "muc")]
impl Join {
    /// Our self-presence in the room.
    type Output = MucPresence;

    fn request(&self) -> ElementBuilder {
        join(&self.occupant, self.password.as_deref(), self.history.as_ref())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<MucPresence> {
        MucPresence::from_stanza(stanza)
            .ok_or_else(|| moxl_core::Error::handler("the answer to the join is no MUC presence (XEP-0045 §7.2.2)"))
    }

    async fn error_not_authorized(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        self.fail(ctx, JoinError::PasswordRequired, error);
    }

    async fn error_forbidden(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        self.fail(ctx, JoinError::Banned, error);
    }

    async fn error_item_not_found(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        self.fail(ctx, JoinError::RoomNotFound, error);
    }

    async fn error_not_allowed(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        self.fail(ctx, JoinError::CreationRestricted, error);
    }

    async fn error_not_acceptable(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        self.fail(ctx, JoinError::ReservedNick, error);
    }

    async fn error_registration_required(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        self.fail(ctx, JoinError::MembersOnly, error);
    }

    async fn error_conflict(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        self.fail(ctx, JoinError::NickConflict, error);
    }

    async fn error_service_unavailable(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        self.fail(ctx, JoinError::MaxUsers, error);
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        self.fail(ctx, JoinError::Other, error);
    }

    async fn timeout(&mut self, ctx: &Context) {
        ctx.pack(self.occupant.clone()).deliver();
    }
}

/// Changes our nick (§7.6). The room first sends our unavailable presence under the old nick with 303 and the
/// new nick (as `mucpresence`), then our presence under the new one, which is the reply. §7.6 does not make the
/// room reflect the request's id in that presence (its example gives it another id; ejabberd sends the id of our
/// join, Prosody ours): our self-presence (110) from the new occupant JID, or an error from it, answers the
/// request whatever its id.
///
/// Output: our presence under the new nick, a [`MucPresence`]; an error is `Err(Error::Stanza(..))`. The Packets
/// are the second view:
///
/// | outcome | Packet key | content |
/// |---|---|---|
/// | our presence under the new nick | `muc_changenick_handle` | [`MucPresence`] |
/// | the nick is taken (§7.6.3) | `muc_changenick_errorconflict` | [`StanzaError`] |
/// | the nick is reserved by another (§7.6.3) | `muc_changenick_errornotacceptable` | [`StanzaError`] |
/// | other errors | `muc_changenick_error<condition>` | [`StanzaError`] |
/// | no answer | `muc_changenick_timeout` | |
///
/// ```
/// use moxl_xep::xep_0045_muc::ChangeNick;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let ours = xec.context().request(ChangeNick::new("coven@chat.shakespeare.lit", "oldhag"))?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeNick {
    room: String,
    nick: String,
}

impl ChangeNick {
    /// Takes `nick` in `room`.
    ///
    /// ```
    /// let c = moxl_xep::xep_0045_muc::ChangeNick::new("coven@chat.shakespeare.lit", "oldhag");
    /// # let _ = c;
    /// ```
    pub fn new(room: impl Into<String>, nick: impl Into<String>) -> ChangeNick {
        ChangeNick { room: room.into(), nick: nick.into() }
    }
}

#[action(group = "muc")]
impl ChangeNick {
    /// Our presence under the new nick.
    type Output = MucPresence;

    fn request(&self) -> ElementBuilder {
        change_nick(&self.room, &self.nick)
    }

    /// From the new occupant JID (the dispatcher checks the sender): our self-presence (status 110), or an error.
    fn answers(&self, stanza: &Element) -> bool {
        stanza.attr("type").as_deref() == Some("error") || MucPresence::from_stanza(stanza).is_some_and(|p| p.is_self())
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<MucPresence> {
        MucPresence::from_stanza(stanza).ok_or_else(|| {
            moxl_core::Error::handler("the answer to the nick change is no MUC presence (XEP-0045 §7.6)")
        })
    }

    async fn error_conflict(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }

    async fn error_not_acceptable(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.clone()).deliver();
    }
}

/// Changes roles and affiliations (§8, §9): kick (§8.2), voice (§8.3, §8.4), moderator (§9.6, §9.7), ban (§9.1),
/// member (§9.3, §9.4), admin (§9.8), owner (§10.3).
///
/// Output: the room (a `String`) once the service accepted the changes; an error is `Err(Error::Stanza(..))`.
/// The Packets are the second view:
///
/// | outcome | Packet key | content |
/// |---|---|---|
/// | done | `muc_admin_handle` | the room, a `String` |
/// | not allowed to (§8.2, §9.1: e.g. kicking an admin) | `muc_admin_errornotallowed` | [`StanzaError`] |
/// | not a moderator or admin | `muc_admin_errorforbidden` | [`StanzaError`] |
/// | other errors | `muc_admin_error<condition>` | [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0045_muc::{Admin, Affiliation};
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// xec.context().request(Admin::kick("harfleur@chat.shakespeare.lit", "pistol", Some("Avaunt, you cullion!")))?.await?;
/// xec.context().request(Admin::affiliation("coven@chat.shakespeare.lit", "hecate@shakespeare.lit", Affiliation::Member, None))?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Admin {
    room: String,
    items: Vec<AdminItem>,
}

impl Admin {
    /// Any set of changes.
    ///
    /// ```
    /// use moxl_xep::xep_0045_muc::{Admin, AdminItem, Role};
    /// let a = Admin::new("coven@chat.shakespeare.lit", vec![AdminItem { nick: Some("thirdwitch".into()), role: Some(Role::Visitor), ..Default::default() }]);
    /// assert_eq!(a.items().len(), 1);
    /// ```
    pub fn new(room: impl Into<String>, items: Vec<AdminItem>) -> Admin {
        Admin { room: room.into(), items }
    }

    /// Gives the occupant `nick` a role (§8.3 voice: `participant`; §8.4 revoke: `visitor`; §9.6 `moderator`).
    ///
    /// ```
    /// use moxl_xep::xep_0045_muc::{Admin, Role};
    /// assert_eq!(Admin::role("a@b", "c", Role::Moderator, None).items()[0].role, Some(Role::Moderator));
    /// ```
    pub fn role(room: impl Into<String>, nick: &str, role: Role, reason: Option<&str>) -> Admin {
        let item = AdminItem {
            nick: Some(nick.to_owned()),
            role: Some(role),
            reason: reason.map(str::to_owned),
            ..AdminItem::default()
        };
        Admin::new(room, vec![item])
    }

    /// Kicks the occupant `nick` (§8.2): role `none`.
    ///
    /// ```
    /// use moxl_xep::xep_0045_muc::{Admin, Role};
    /// assert_eq!(Admin::kick("a@b", "c", None).items()[0].role, Some(Role::None));
    /// ```
    pub fn kick(room: impl Into<String>, nick: &str, reason: Option<&str>) -> Admin {
        Admin::role(room, nick, Role::None, reason)
    }

    /// Gives the user `jid` (bare) an affiliation (§9.3 member, §9.8 admin, §10.3 owner, §9.4 `none`).
    ///
    /// ```
    /// use moxl_xep::xep_0045_muc::{Admin, Affiliation};
    /// assert_eq!(Admin::affiliation("a@b", "d@e", Affiliation::Admin, None).items()[0].jid.as_deref(), Some("d@e"));
    /// ```
    pub fn affiliation(room: impl Into<String>, jid: &str, affiliation: Affiliation, reason: Option<&str>) -> Admin {
        let item = AdminItem {
            jid: Some(jid.to_owned()),
            affiliation: Some(affiliation),
            reason: reason.map(str::to_owned),
            ..AdminItem::default()
        };
        Admin::new(room, vec![item])
    }

    /// Bans the user `jid` (§9.1): affiliation `outcast`.
    ///
    /// ```
    /// use moxl_xep::xep_0045_muc::{Admin, Affiliation};
    /// assert_eq!(Admin::ban("a@b", "d@e", Some("Treason")).items()[0].affiliation, Some(Affiliation::Outcast));
    /// ```
    pub fn ban(room: impl Into<String>, jid: &str, reason: Option<&str>) -> Admin {
        Admin::affiliation(room, jid, Affiliation::Outcast, reason)
    }

    /// The changes.
    ///
    /// ```
    /// assert!(moxl_xep::xep_0045_muc::Admin::new("a@b", vec![]).items().is_empty());
    /// ```
    pub fn items(&self) -> &[AdminItem] {
        &self.items
    }
}

#[action(group = "muc")]
impl Admin {
    /// The room changed.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        admin_set(&self.room, &self.items)
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> moxl_core::Result<String> {
        Ok(self.room.clone())
    }
}

/// A list of a room's users by affiliation or occupants by role (§8.5, §8.8, §9.2, §9.5, §9.8, §10.5).
///
/// ```
/// let l = moxl_xep::xep_0045_muc::AdminList { room: "a@b".into(), items: vec![] };
/// assert!(l.items.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminList {
    /// The room.
    pub room: String,
    /// The entries.
    pub items: Vec<AdminItem>,
}

/// Gets a list: members, admins, owners, outcasts (by affiliation) or moderators, participants (by role).
///
/// Output: the [`AdminList`]; an error is `Err(Error::Stanza(..))`. The Packets are the second view:
///
/// | outcome | Packet key | content |
/// |---|---|---|
/// | the list | `muc_getlist_handle` | [`AdminList`] |
/// | not allowed | `muc_getlist_errorforbidden` | [`StanzaError`] |
/// | other errors | `muc_getlist_error<condition>` | [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0045_muc::{Affiliation, GetList};
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let members = xec.context().request(GetList::affiliation("coven@chat.shakespeare.lit", Affiliation::Member))?.await?;
/// let jids: Vec<_> = members.items.iter().filter_map(|i| i.jid.as_deref()).collect();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetList {
    room: String,
    role: Option<Role>,
    affiliation: Option<Affiliation>,
}

impl GetList {
    /// The users with this affiliation (§9.2 outcasts, §9.5 members, §9.8 admins, §10.5 owners).
    ///
    /// ```
    /// let l = moxl_xep::xep_0045_muc::GetList::affiliation("a@b", moxl_xep::xep_0045_muc::Affiliation::Owner);
    /// # let _ = l;
    /// ```
    pub fn affiliation(room: impl Into<String>, affiliation: Affiliation) -> GetList {
        GetList { room: room.into(), role: None, affiliation: Some(affiliation) }
    }

    /// The occupants with this role (§8.5 participants, §9.9 moderators).
    ///
    /// ```
    /// let l = moxl_xep::xep_0045_muc::GetList::role("a@b", moxl_xep::xep_0045_muc::Role::Moderator);
    /// # let _ = l;
    /// ```
    pub fn role(room: impl Into<String>, role: Role) -> GetList {
        GetList { room: room.into(), role: Some(role), affiliation: None }
    }
}

#[action(group = "muc")]
impl GetList {
    /// The list.
    type Output = AdminList;

    fn request(&self) -> ElementBuilder {
        admin_list(&self.room, self.role, self.affiliation)
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> moxl_core::Result<AdminList> {
        Ok(AdminList { room: self.room.clone(), items: AdminItem::all_in(stanza) })
    }
}

/// Destroys a room (§10.9); its occupants get an unavailable presence with [`Destroyed`](super::Destroyed).
///
/// Output: the room destroyed (a `String`); an error is `Err(Error::Stanza(..))`. The Packets are the second
/// view:
///
/// | outcome | Packet key | content |
/// |---|---|---|
/// | done | `muc_destroy_handle` | the room, a `String` |
/// | not the owner | `muc_destroy_errorforbidden` | [`StanzaError`] |
/// | other errors | `muc_destroy_error<condition>` | [`StanzaError`] |
///
/// ```
/// use moxl_xep::xep_0045_muc::Destroy;
/// # async fn run(xec: &moxl_core::xec::Xec) -> moxl_core::Result<()> {
/// let destroyed = xec.context().request(Destroy::new("heath@chat.shakespeare.lit").reason("Macbeth doth come."))?.await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Destroy {
    room: String,
    alternate: Option<String>,
    reason: Option<String>,
    password: Option<String>,
}

impl Destroy {
    /// Destroys `room`.
    ///
    /// ```
    /// let d = moxl_xep::xep_0045_muc::Destroy::new("heath@chat.shakespeare.lit");
    /// # let _ = d;
    /// ```
    pub fn new(room: impl Into<String>) -> Destroy {
        Destroy { room: room.into(), alternate: None, reason: None, password: None }
    }

    /// Why (shown to the occupants).
    ///
    /// ```
    /// let d = moxl_xep::xep_0045_muc::Destroy::new("a@b").reason("closing");
    /// # let _ = d;
    /// ```
    pub fn reason(mut self, reason: impl Into<String>) -> Destroy {
        self.reason = Some(reason.into());
        self
    }

    /// The room to go to instead, and its password.
    ///
    /// ```
    /// let d = moxl_xep::xep_0045_muc::Destroy::new("heath@chat.shakespeare.lit").alternate("coven@chat.shakespeare.lit", None);
    /// # let _ = d;
    /// ```
    pub fn alternate(mut self, room: impl Into<String>, password: Option<&str>) -> Destroy {
        self.alternate = Some(room.into());
        self.password = password.map(str::to_owned);
        self
    }
}

#[action(group = "muc")]
impl Destroy {
    /// The room destroyed.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        destroy(&self.room, self.alternate.as_deref(), self.reason.as_deref(), self.password.as_deref())
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) -> moxl_core::Result<String> {
        Ok(self.room.clone())
    }
}
