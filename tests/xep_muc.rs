//! Multi-user chat (XEP-0045) against both test servers' MUC services (Prosody's and ejabberd's
//! `conference.localhost`, shared by the tests of this file): instant and reserved rooms, joins and their errors,
//! occupants, messages, subject, nick changes, invitations (mediated and XEP-0249 direct), moderation and
//! affiliations, destruction, and the XEP-0410 self-ping; what the rooms do not do: affiliations versioning
//! (XEP-0463) and belonging to a space (XEP-0503). Where the two servers differ within what the spec
//! allows (or where one deviates from it), the test says which does what.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, fresh_account, packet, servers};
use moxl::client::Client;
use moxl::prelude::*;
use moxl::xec::{Packet, PacketStream};
use moxl::xep::xep_0030_disco::InfoQuery;
use moxl::xep::xep_0045_muc::{
    self as muc, Admin, AdminList, Affiliation, ChangeNick, Configure, Destroy, GetConfig, GetList, GroupchatMessage,
    History, Join, JoinError, JoinFailure, MucDecline, MucInvitation, MucPresence, MucSubject, Role, RoomConfig,
    RoomRoster, StatusCode,
};
use moxl::xep::xep_0249_direct_invitations::{self as direct, DirectInvitation};
use moxl::xep::xep_0410_muc_self_ping::{SelfPing, Verdict};
use moxl::xep::xep_0463_muc_affiliations_versioning::{self as mav, join_since, AffiliationCache, JoinSince};
use moxl::xep::xep_0503_spaces::{self as spaces, SpaceParent};
use moxl_test_support::{Server, ServerKind};

/// The next Packet on `stream` for which `keep` returns something (each within 5 s).
async fn until<T>(stream: &mut PacketStream, mut keep: impl FnMut(&Packet) -> Option<T>) -> T {
    loop {
        if let Some(t) = keep(&packet(stream).await) {
            return t;
        }
    }
}

/// The next occupant presence about `nick` in `room`.
async fn presence_of(stream: &mut PacketStream, room: &str, nick: &str) -> MucPresence {
    until(stream, |p| p.content::<MucPresence>().filter(|m| m.room == room && m.nick() == nick).cloned()).await
}

/// Joins `room` as `nick`: the outcome Packet (`muc_join_handle` or an error).
async fn join(client: &Client, join: Join) -> Packet {
    let mut outcomes = client.xec().packets();
    client.xec().context().request(join).unwrap();
    until(&mut outcomes, |p| p.key().starts_with("muc_join_").then(|| p.clone())).await
}

/// Joins and expects success: our self-presence.
async fn joined(client: &Client, request: Join) -> MucPresence {
    let p = join(client, request).await;
    assert_eq!(p.key(), "muc_join_handle", "{p:?}");
    p.content::<MucPresence>().unwrap().clone()
}

/// Joins and expects an error: the typed failure.
async fn join_fails(client: &Client, request: Join, key: &str) -> JoinFailure {
    let p = join(client, request).await;
    assert_eq!(p.key(), key);
    p.content::<JoinFailure>().unwrap().clone()
}

/// Requests an Action and returns the first Packet of its group and type (`muc_admin_…`).
async fn request<A: Action>(client: &Client, action: A, prefix: &str) -> Packet {
    let mut outcomes = client.xec().packets();
    client.xec().context().request(action).unwrap();
    until(&mut outcomes, |p| p.key().starts_with(prefix).then(|| p.clone())).await
}

async fn self_ping(client: &Client, occupant: &str) -> Verdict {
    let p = request(client, SelfPing::new(occupant), "muc_selfping_").await;
    *p.content::<Verdict>().unwrap()
}

fn muc_domain(p: &Server) -> &str {
    p.muc_domain().expect("the test server has a MUC service")
}

/// A room name on `p`'s MUC service not used by another test (the services are shared).
fn fresh_room(p: &Server, name: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{name}-{n}@{}", muc_domain(p))
}

/// Fresh accounts `juliet-…` and `romeo-…` on `p`, connected.
async fn two_clients(p: &Server) -> Result<(Client, Client)> {
    let (juliet, romeo) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    Ok((client(p, &juliet, "secret").connect().await?, client(p, &romeo, "secret").connect().await?))
}

#[tokio::test]
async fn an_instant_room_is_shared_by_two_occupants() -> Result<()> {
    for p in servers() {
        an_instant_room_is_shared_by_two_occupants_on(p).await?;
    }
    Ok(())
}

async fn an_instant_room_is_shared_by_two_occupants_on(p: &Server) -> Result<()> {
    let room = fresh_room(p, "garden");
    let (juliet, romeo) = two_clients(p).await?;
    let mut juliet_presences = juliet.xec().subscribe("mucpresence");
    let mut romeo_presences = romeo.xec().subscribe("mucpresence");

    // §10.1.2: the room is created by the first join (201) and unlocked by accepting the defaults
    let me = joined(&juliet, Join::new(&room, "juliet").history(History::none())).await;
    assert!(me.is_self() && me.has(StatusCode::RoomCreated), "{me:?}");
    assert_eq!((me.occupant.affiliation, me.occupant.role), (Affiliation::Owner, Role::Moderator));
    let done = request(&juliet, Configure::instant(&room), "muc_configure_").await;
    assert_eq!(done.key(), "muc_configure_handle");

    // romeo joins: he sees juliet first, then himself; juliet sees him, with his full JID (she moderates)
    let mut romeo_roster = RoomRoster::default();
    let romeo_self = joined(&romeo, Join::new(&room, "romeo")).await;
    assert!(romeo_self.is_self() && !romeo_self.has(StatusCode::RoomCreated));
    let juliet_seen = presence_of(&mut romeo_presences, &room, "juliet").await;
    assert_eq!(juliet_seen.occupant.affiliation, Affiliation::Owner);
    assert_eq!(juliet_seen.occupant.jid, None, "semi-anonymous: romeo may not see juliet's JID");
    romeo_roster.apply(&juliet_seen);
    romeo_roster.apply(&romeo_self);
    assert!(romeo_roster.joined());
    assert_eq!(romeo_roster.occupants().map(|o| o.nick.as_str()).collect::<Vec<_>>(), ["juliet", "romeo"]);
    let romeo_seen = presence_of(&mut juliet_presences, &room, "romeo").await;
    assert!(!romeo_seen.is_self());
    assert_eq!(romeo_seen.occupant.jid.as_deref(), Some(romeo.jid().to_string().as_str()));
    assert_eq!(romeo_seen.occupant.role, Role::Participant);

    // a message and a subject, seen by both (the sender gets its own message back, §7.4)
    let (mut juliet_messages, mut romeo_messages) =
        (juliet.xec().subscribe("mucmessage"), romeo.xec().subscribe("mucmessage"));
    juliet.xec().context().send(muc::groupchat(&room, "Wherefore art thou?"))?;
    for stream in [&mut juliet_messages, &mut romeo_messages] {
        let m = until(stream, |p| p.content::<GroupchatMessage>().cloned()).await;
        assert_eq!(
            (m.room.as_str(), m.nick.as_deref(), m.body.as_str()),
            (room.as_str(), Some("juliet"), "Wherefore art thou?")
        );
    }
    let (mut juliet_subjects, mut romeo_subjects) =
        (juliet.xec().subscribe("mucsubject"), romeo.xec().subscribe("mucsubject"));
    // (a moderator: Prosody lets only moderators change it by default)
    juliet.xec().context().send(muc::set_subject(&room, "In fair Verona"))?;
    for stream in [&mut juliet_subjects, &mut romeo_subjects] {
        let s = until(stream, |p| p.content::<MucSubject>().filter(|s| !s.subject.is_empty()).cloned()).await;
        assert_eq!((s.subject.as_str(), s.nick.as_deref()), ("In fair Verona", Some("juliet")));
    }

    // a private message (§7.5): to romeo's occupant JID, it reaches him from juliet's
    let mut romeo_bodies = romeo.xec().subscribe("body");
    let to_romeo =
        message(&muc::occupant_jid(&room, "romeo"), "chat", Some("By whose direction found'st thou out this place?"));
    juliet.xec().context().send(to_romeo)?;
    let pm = packet(&mut romeo_bodies).await;
    assert_eq!(pm.from(), Some(muc::occupant_jid(&room, "juliet").as_str()));
    assert_eq!(pm.content::<String>().map(String::as_str), Some("By whose direction found'st thou out this place?"));

    // romeo changes his nick: his new presence answers the Action; juliet sees 303 and the new nick
    let renamed = request(&romeo, ChangeNick::new(&room, "montague"), "muc_changenick_").await;
    assert_eq!(renamed.key(), "muc_changenick_handle");
    assert_eq!(renamed.content::<MucPresence>().map(MucPresence::nick), Some("montague"));
    let mut juliet_roster = RoomRoster::default();
    juliet_roster.apply(&romeo_seen);
    let gone = presence_of(&mut juliet_presences, &room, "romeo").await;
    assert!(!gone.available && gone.has(StatusCode::NickChanged));
    assert_eq!(gone.new_nick.as_deref(), Some("montague"));
    juliet_roster.apply(&gone);
    assert_eq!(juliet_roster.get("montague").map(|o| o.role), Some(Role::Participant));
    let back = presence_of(&mut juliet_presences, &room, "montague").await;
    assert!(back.available);
    // the old nick is taken by juliet: a conflict (§7.6.3)
    let conflict = request(&romeo, ChangeNick::new(&room, "juliet"), "muc_changenick_").await;
    assert_eq!(conflict.key(), "muc_changenick_errorconflict");

    // XEP-0410: joined; after leaving (the room lives on with juliet), not joined
    let romeo_occupant = muc::occupant_jid(&room, "montague");
    assert_eq!(self_ping(&romeo, &romeo_occupant).await, Verdict::Joined);
    romeo.xec().context().send(muc::leave(&romeo_occupant, Some("Parting is such sweet sorrow")))?;
    let left = presence_of(&mut romeo_presences, &room, "montague").await;
    assert!(left.is_self() && !left.available);
    romeo_roster.apply(&left);
    assert!(!romeo_roster.joined() && romeo_roster.is_empty());
    assert!(!presence_of(&mut juliet_presences, &room, "montague").await.available);
    assert_eq!(self_ping(&romeo, &romeo_occupant).await, Verdict::NotJoined);
    assert_eq!(self_ping(&juliet, &muc::occupant_jid(&room, "juliet")).await, Verdict::Joined);

    // romeo comes back; made moderator (§9.6) then visitor (§8.4, voice revoked), he sees his role change
    joined(&romeo, Join::new(&room, "romeo").history(History::none())).await;
    for role in [Role::Moderator, Role::Visitor] {
        let changed = request(&juliet, Admin::role(&room, "romeo", role, None), "muc_admin_").await;
        assert_eq!(changed.key(), "muc_admin_handle", "{changed:?}");
        let mine = presence_of(&mut romeo_presences, &room, "romeo").await;
        assert!(mine.is_self() && mine.available);
        assert_eq!(mine.occupant.role, role);
        if role == Role::Moderator {
            let list = request(&juliet, GetList::role(&room, Role::Moderator), "muc_getlist_").await;
            let mut nicks: Vec<_> =
                list.content::<AdminList>().unwrap().items.iter().filter_map(|i| i.nick.clone()).collect();
            nicks.sort();
            assert_eq!(nicks, ["juliet", "romeo"]);
        }
    }
    // …and is kicked (§8.2): he gets 307 with 110, juliet 307
    let kicked = request(&juliet, Admin::kick(&room, "romeo", Some("Banished")), "muc_admin_").await;
    assert_eq!(kicked.key(), "muc_admin_handle");
    let out = presence_of(&mut romeo_presences, &room, "romeo").await;
    assert!(out.is_self() && out.has(StatusCode::Kicked) && !out.available, "{out:?}");
    assert_eq!(out.reason.as_deref(), Some("Banished"));
    assert_eq!(out.actor.and_then(|a| a.nick).as_deref(), Some("juliet"));
    let seen = until(&mut juliet_presences, |p| {
        p.content::<MucPresence>().filter(|m| m.nick() == "romeo" && !m.available).cloned()
    })
    .await;
    assert!(seen.has(StatusCode::Kicked) && !seen.is_self());

    // banned while away (§9.1), he may not come back (§7.2.7)
    let romeo_bare = romeo.jid().to_bare().to_string();
    let banned = request(&juliet, Admin::ban(&room, &romeo_bare, Some("Thou art banished")), "muc_admin_").await;
    assert_eq!(banned.key(), "muc_admin_handle");
    let outcasts = request(&juliet, GetList::affiliation(&room, Affiliation::Outcast), "muc_getlist_").await;
    let outcasts = outcasts.content::<AdminList>().unwrap();
    assert_eq!(outcasts.items.iter().map(|i| i.jid.as_deref()).collect::<Vec<_>>(), [Some(romeo_bare.as_str())]);
    if p.kind() == ServerKind::Ejabberd {
        // ejabberd 23.01 lists him as an outcast yet lets him in, with the visitor role it remembered from before
        // the kick: a deviation from §7.2.7 (a banned user MUST be refused with forbidden). A ban of a present
        // occupant works there (the reserved-room test).
        let back = joined(&romeo, Join::new(&room, "romeo")).await;
        assert_eq!((back.occupant.affiliation, back.occupant.role), (Affiliation::Outcast, Role::Visitor));
        return Ok(());
    }
    let forbidden = join_fails(&romeo, Join::new(&room, "romeo"), "muc_join_errorforbidden").await;
    assert_eq!(forbidden.reason, JoinError::Banned);
    Ok(())
}

#[tokio::test]
async fn a_reserved_room_is_configured_by_form_and_guarded_by_password_membership_and_bans() -> Result<()> {
    for p in servers() {
        a_reserved_room_is_configured_by_form_and_guarded_on(p).await?;
    }
    Ok(())
}

async fn a_reserved_room_is_configured_by_form_and_guarded_on(p: &Server) -> Result<()> {
    let room = fresh_room(p, "crypt");
    let (juliet, romeo) = two_clients(p).await?;
    let romeo_bare = romeo.jid().to_bare().to_string();

    // §10.1.3: a reserved room, configured through its form before anyone else may enter
    let me = joined(&juliet, Join::new(&room, "juliet")).await;
    assert!(me.has(StatusCode::RoomCreated));
    // §7.2.8 ("Locked Room"): until configured, the service MUST refuse anyone else with item-not-found.
    // Prosody does; ejabberd 23.01 lets romeo in (a deviation from the MUST), so there he leaves again.
    match p.kind() {
        ServerKind::Ejabberd => {
            let early = joined(&romeo, Join::new(&room, "romeo").history(History::none())).await;
            assert!(early.is_self() && !early.has(StatusCode::RoomCreated), "{early:?}");
            let mut romeo_presences = romeo.xec().subscribe("mucpresence");
            romeo.xec().context().send(muc::leave(&muc::occupant_jid(&room, "romeo"), None))?;
            assert!(!presence_of(&mut romeo_presences, &room, "romeo").await.available);
        }
        _ => {
            let locked = join_fails(&romeo, Join::new(&room, "romeo"), "muc_join_erroritemnotfound").await;
            assert_eq!(locked.reason, JoinError::RoomNotFound);
        }
    }
    let form = request(&juliet, GetConfig::new(&room), "muc_getconfig_").await;
    let config = form.content::<RoomConfig>().unwrap();
    assert_eq!(config.form.form_type_value(), Some(muc::FORM_ROOMCONFIG));
    for var in ["muc#roomconfig_roomname", "muc#roomconfig_roomsecret", "muc#roomconfig_membersonly"] {
        assert!(config.form.field(var).is_some(), "{var} in {:?}", config.form);
    }
    let mut submission = config
        .form
        .submission()
        .with_value("muc#roomconfig_roomname", "The Capulet crypt")
        .with_value("muc#roomconfig_roomsecret", "poison")
        .with_bool("muc#roomconfig_membersonly", true);
    // §10.2 lists a separate "password required" switch: ejabberd's form has it (and ignores the secret without
    // it), Prosody's does not (a non-empty secret protects the room).
    let switch = "muc#roomconfig_passwordprotectedroom";
    assert_eq!(config.form.field(switch).is_some(), p.kind() == ServerKind::Ejabberd, "{switch} in {:?}", config.form);
    if p.kind() == ServerKind::Ejabberd {
        submission = submission.with_bool(switch, true);
    }
    let done = request(&juliet, Configure::new(&room, submission), "muc_configure_").await;
    assert_eq!(done.key(), "muc_configure_handle", "{done:?}");
    let again = request(&juliet, GetConfig::new(&room), "muc_getconfig_").await;
    let again = &again.content::<RoomConfig>().unwrap().form;
    assert_eq!(again.value("muc#roomconfig_roomname"), Some("The Capulet crypt"));

    // members-only: romeo is refused (§7.2.11) until he is made a member (§9.3)
    let refused =
        join_fails(&romeo, Join::new(&room, "romeo").password("poison"), "muc_join_errorregistrationrequired").await;
    assert_eq!(refused.reason, JoinError::MembersOnly);
    let made = request(&juliet, Admin::affiliation(&room, &romeo_bare, Affiliation::Member, None), "muc_admin_").await;
    assert_eq!(made.key(), "muc_admin_handle");
    let members = request(&juliet, GetList::affiliation(&room, Affiliation::Member), "muc_getlist_").await;
    let members = members.content::<AdminList>().unwrap();
    assert_eq!(members.items.iter().map(|i| i.jid.as_deref()).collect::<Vec<_>>(), [Some(romeo_bare.as_str())]);

    // the password (§7.2.6): none or a wrong one is refused with its typed error
    for attempt in [Join::new(&room, "romeo"), Join::new(&room, "romeo").password("dagger")] {
        let wrong = join_fails(&romeo, attempt, "muc_join_errornotauthorized").await;
        assert_eq!(wrong.reason, JoinError::PasswordRequired);
        assert_eq!(wrong.occupant, muc::occupant_jid(&room, "romeo"));
    }
    let member = joined(&romeo, Join::new(&room, "romeo").password("poison")).await;
    assert_eq!(member.occupant.affiliation, Affiliation::Member);
    // the nick is taken (§7.2.12)
    let taken = join_fails(&juliet, Join::new(&room, "romeo").password("poison"), "muc_join_errorconflict").await;
    assert_eq!(taken.reason, JoinError::NickConflict);

    // a ban (§9.1): romeo is removed with 301 and listed among the outcasts
    let mut romeo_presences = romeo.xec().subscribe("mucpresence");
    let banned = request(&juliet, Admin::ban(&room, &romeo_bare, Some("Thou art banished")), "muc_admin_").await;
    assert_eq!(banned.key(), "muc_admin_handle");
    let out = presence_of(&mut romeo_presences, &room, "romeo").await;
    assert!(out.is_self() && out.has(StatusCode::Banned) && !out.available, "{out:?}");
    assert_eq!(out.occupant.affiliation, Affiliation::Outcast);
    let outcasts = request(&juliet, GetList::affiliation(&room, Affiliation::Outcast), "muc_getlist_").await;
    let outcasts = outcasts.content::<AdminList>().unwrap();
    assert_eq!(outcasts.items.iter().map(|i| i.jid.as_deref()).collect::<Vec<_>>(), [Some(romeo_bare.as_str())]);

    // pardoned and back, he sees the room destroyed (§10.9)
    request(&juliet, Admin::affiliation(&room, &romeo_bare, Affiliation::Member, None), "muc_admin_").await;
    joined(&romeo, Join::new(&room, "romeo").password("poison")).await;
    let alternate = format!("chapel@{}", muc_domain(p));
    let destroyed =
        request(&juliet, Destroy::new(&room).alternate(&alternate, None).reason("Sleep"), "muc_destroy_").await;
    assert_eq!(destroyed.key(), "muc_destroy_handle");
    let gone = presence_of(&mut romeo_presences, &room, "romeo").await;
    let d = gone.destroyed.expect("a destroy element");
    assert_eq!((d.alternate.as_deref(), d.reason.as_deref()), (Some(alternate.as_str()), Some("Sleep")));
    assert!(!gone.available);
    Ok(())
}

#[tokio::test]
async fn invitations_mediated_declined_and_direct_arrive() -> Result<()> {
    for p in servers() {
        invitations_mediated_declined_and_direct_arrive_on(p).await?;
    }
    Ok(())
}

async fn invitations_mediated_declined_and_direct_arrive_on(p: &Server) -> Result<()> {
    let room = fresh_room(p, "ball");
    let (juliet, romeo) = two_clients(p).await?;
    let romeo_bare = romeo.jid().to_bare().to_string();
    let juliet_bare = juliet.jid().to_bare().to_string();
    // available presence, so that messages to our bare JIDs reach us (RFC 6121 §8.5.2.1)
    juliet.xec().context().send(presence(None, None))?;
    romeo.xec().context().send(presence(None, None))?;
    joined(&juliet, Join::new(&room, "juliet")).await;
    request(&juliet, Configure::instant(&room), "muc_configure_").await;

    // §7.8.2: through the room
    let mut invitations = romeo.xec().subscribe("mucinvitation");
    juliet.xec().context().send(muc::invite(&room, &romeo_bare, Some("Come to the feast")))?;
    let invitation = packet(&mut invitations).await;
    let i = invitation.content::<MucInvitation>().unwrap();
    assert_eq!(i.room, room);
    // the inviter: §7.8.2 lets the room name her by bare, full or occupant JID. Prosody gives her occupant JID
    // (the room is semi-anonymous), ejabberd her full JID.
    let inviter = match p.kind() {
        ServerKind::Ejabberd => juliet.jid().to_string(),
        _ => muc::occupant_jid(&room, "juliet"),
    };
    assert_eq!(i.from, Some(inviter));
    assert_eq!(i.reason.as_deref(), Some("Come to the feast"));
    assert_eq!(invitation.from(), Some(room.as_str()));

    // declined, relayed to juliet
    let mut declines = juliet.xec().subscribe("mucdecline");
    romeo.xec().context().send(muc::decline(&room, &juliet_bare, Some("I dreamt a dream tonight")))?;
    let d = packet(&mut declines).await;
    let d = d.content::<MucDecline>().unwrap();
    assert_eq!((d.room.as_str(), d.reason.as_deref()), (room.as_str(), Some("I dreamt a dream tonight")));
    assert_eq!(d.from.as_deref().map(|f| f.split('/').next().unwrap()), Some(romeo_bare.as_str()));

    // XEP-0249: straight to romeo
    let mut direct_invitations = romeo.xec().subscribe("directinvitation");
    let invitation = DirectInvitation::new(&room).reason("Not a Montague tonight").continues("masked-ball");
    juliet.xec().context().send(direct::invite(&romeo.jid().to_string(), &invitation))?;
    let got = packet(&mut direct_invitations).await;
    let got = got.content::<DirectInvitation>().unwrap();
    assert_eq!(got.room, room);
    assert_eq!(got.reason.as_deref(), Some("Not a Montague tonight"));
    assert_eq!((got.continue_thread, got.thread.as_deref()), (true, Some("masked-ball")));
    assert_eq!(got.from.as_deref(), Some(juliet.jid().to_string().as_str()));
    // and he accepts: joined with the same history rules
    let me =
        joined(&romeo, Join::new(&got.room, "romeo").history(History { maxstanzas: Some(5), ..Default::default() }))
            .await;
    assert!(me.is_self());
    Ok(())
}

/// XEP-0463 and XEP-0503 §6.5 in both servers' rooms: a room announces neither `urn:xmpp:muc:affiliations:*`
/// (it does not version affiliations) nor `urn:xmpp:spaces:0` (it names no parent space). A join asking for the
/// affiliations since a version still succeeds (the room ignores `<mav/>`), and its outcome says that the room
/// did not version: no version in the self-presence, no lists, and a cache given to it is emptied (§5.2.1).
#[tokio::test]
async fn rooms_version_no_affiliations_and_name_no_parent_space() -> Result<()> {
    for p in servers() {
        let muc_domain = p.muc_domain().expect("both test servers have a MUC service");
        let room = format!("{}@{muc_domain}", fresh_account(p, "versions").to_lowercase());
        let juliet = client(p, &fresh_account(p, "juliet"), "secret").connect().await?;
        let romeo = client(p, &fresh_account(p, "romeo"), "secret").connect().await?;
        juliet.xec().context().request(Join::new(&room, "juliet").history(History::none()))?.await?;
        juliet.xec().context().request(Configure::instant(&room))?.await?;

        let info = romeo.xec().context().request(InfoQuery::new(room.clone()))?.await?;
        assert!(info.has_feature(muc::NS), "{}: {:?}", p.kind(), info.features);
        assert!(
            !info.features.iter().any(|f| f.starts_with("urn:xmpp:muc:affiliations:")),
            "{}: {:?}",
            p.kind(),
            info.features
        );
        assert!(!mav::supported(&info.features));
        assert!(!info.has_feature(spaces::NS), "{}: {:?}", p.kind(), info.features);
        assert_eq!(SpaceParent::of(&info), None, "{}", p.kind());

        let join = JoinSince::new(&room, "romeo", Some("9pacabr2q1")).history(History::none());
        let sync = join_since(&romeo.xec().context(), join)?.await?;
        assert!(sync.presence.is_self(), "{}", p.kind());
        assert_eq!((sync.since.as_deref(), sync.until.as_deref()), (Some("9pacabr2q1"), None), "{}", p.kind());
        assert!(!sync.versioned() && sync.changes.is_empty(), "{}: {sync:?}", p.kind());
        let mut cache = AffiliationCache::default();
        assert!(!sync.apply_to(&mut cache));
        assert_eq!(cache.version(), None);
    }
    Ok(())
}
