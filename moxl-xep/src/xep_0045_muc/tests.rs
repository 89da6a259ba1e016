//! Unit tests with the specification's examples.

use moxl_core::stanza::Condition;
use moxl_core::xec::{Packet, Xec};
use moxl_core::xml::Element;

use super::*;
use crate::test_util::block_on;
use crate::xep_0004_data_forms::{DataForm, FormType};

/// The entity-capabilities `<c/>` that every available presence we send carries (XEP-0115 §4).
/// The capabilities every available presence carries: XEP-0115's `<c/>`, then XEP-0390's hash set.
fn our_caps(xec: &Xec) -> String {
    let legacy = crate::xep_0115_caps::our_caps(&xec.context()).unwrap().to_element().build().unwrap().to_xml();
    let caps2 = crate::xep_0390_caps2::our_caps2(&xec.context()).unwrap().to_element().build().unwrap().to_xml();
    legacy + &caps2
}

const ROOM: &str = "coven@chat.shakespeare.lit";

fn e(xml: &str) -> Element {
    Element::parse(xml).unwrap()
}

/// Dispatches `xml` and returns every Packet it caused.
fn dispatch(xec: &Xec, xml: &str) -> Vec<Packet> {
    let mut all = xec.packets();
    block_on(xec.dispatch(e(xml)));
    std::iter::from_fn(|| all.try_recv()).collect()
}

#[test]
fn status_codes_map_both_ways() {
    let codes = [100, 101, 102, 103, 104, 110, 170, 171, 172, 173, 174, 201, 210, 301, 303, 307, 321, 322, 332, 333];
    for code in codes {
        let status = StatusCode::from_code(code);
        assert!(!matches!(status, StatusCode::Other(_)), "{code}");
        assert_eq!(status.code(), code);
    }
    assert_eq!(StatusCode::from_code(110), StatusCode::SelfPresence);
    assert_eq!(StatusCode::from_code(201), StatusCode::RoomCreated);
    assert_eq!(StatusCode::from_code(303), StatusCode::NickChanged);
    assert_eq!(StatusCode::from_code(307), StatusCode::Kicked);
    assert_eq!(StatusCode::from_code(404), StatusCode::Other(404));
}

#[test]
fn the_join_action_sends_the_marker_and_takes_the_reflected_self_presence() {
    let xec = Xec::new().unwrap();
    let id = xec.context().request(Join::new(ROOM, "thirdwitch").history(History::none())).unwrap().id().to_owned();
    let sent = xec.take_outgoing();
    // §7.2.1: what the client replays after a fresh session
    assert!(is_join(&sent[0]));
    assert_eq!(
        sent[0].to_xml(),
        format!(
            "<presence xmlns='jabber:client' to='coven@chat.shakespeare.lit/thirdwitch' id='{id}'>\
             <x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x>{}</presence>",
            our_caps(&xec)
        )
    );
    // §7.2.3, Example 21: another occupant first (no id): a Payload event
    let others = dispatch(
        &xec,
        "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch' to='hag66@shakespeare.lit/pda'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/></x></presence>",
    );
    assert_eq!(others.len(), 1);
    assert_eq!(others[0].key(), "mucpresence");
    let first = others[0].content::<MucPresence>().unwrap();
    assert_eq!((first.occupant.role, first.occupant.affiliation), (Role::Moderator, Affiliation::Owner));
    assert!(!first.is_self());
    // §7.2.4, Example 24 (non-anonymous): our own presence, with our id reflected
    let own = dispatch(
        &xec,
        &format!(
            "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' id='{id}' to='hag66@shakespeare.lit/pda'>\
             <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' jid='hag66@shakespeare.lit/pda' role='participant'/>\
             <status code='100'/><status code='110'/><status code='210'/></x></presence>"
        ),
    );
    assert_eq!(own.len(), 1, "only the Action sees its reply");
    assert_eq!(own[0].key(), "muc_join_handle");
    let me = own[0].content::<MucPresence>().unwrap();
    assert!(me.is_self() && me.has(StatusCode::RealJidPublic) && me.has(StatusCode::NickAssigned));
    assert_eq!(me.occupant.jid.as_deref(), Some("hag66@shakespeare.lit/pda"));
    let mut roster = RoomRoster::default();
    roster.apply(first);
    roster.apply(me);
    assert!(roster.joined());
    assert_eq!(roster.len(), 2);
    assert_eq!(xec.pending(), 0);
}

#[test]
fn join_errors_map_to_typed_errors_and_keys() {
    let xec = Xec::new().unwrap();
    for (condition, error_type, key, reason) in [
        ("not-authorized", "auth", "muc_join_errornotauthorized", JoinError::PasswordRequired),
        ("forbidden", "auth", "muc_join_errorforbidden", JoinError::Banned),
        ("item-not-found", "cancel", "muc_join_erroritemnotfound", JoinError::RoomNotFound),
        ("not-allowed", "cancel", "muc_join_errornotallowed", JoinError::CreationRestricted),
        ("not-acceptable", "cancel", "muc_join_errornotacceptable", JoinError::ReservedNick),
        ("registration-required", "auth", "muc_join_errorregistrationrequired", JoinError::MembersOnly),
        ("conflict", "cancel", "muc_join_errorconflict", JoinError::NickConflict),
        ("service-unavailable", "wait", "muc_join_errorserviceunavailable", JoinError::MaxUsers),
        ("jid-malformed", "modify", "muc_join_error", JoinError::Other),
    ] {
        let id = xec.context().request(Join::new(ROOM, "thirdwitch").password("wrong")).unwrap().id().to_owned();
        xec.take_outgoing();
        // §7.2.6, Example 28 and its siblings
        let packets = dispatch(
            &xec,
            &format!(
                "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' id='{id}' to='hag66@shakespeare.lit/pda' type='error'>\
                 <x xmlns='http://jabber.org/protocol/muc'/><error by='coven@chat.shakespeare.lit' type='{error_type}'>\
                 <{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
            ),
        );
        assert_eq!(packets.len(), 1, "{condition}");
        assert_eq!(packets[0].key(), key);
        let failure = packets[0].content::<JoinFailure>().unwrap();
        assert_eq!(failure.reason, reason);
        assert_eq!(failure.occupant, "coven@chat.shakespeare.lit/thirdwitch");
        assert_eq!(failure.error.condition_name(), condition);
    }
}

#[test]
fn an_error_from_another_occupant_is_not_the_join_reply() {
    let xec = Xec::new().unwrap();
    let id = xec.context().request(Join::new(ROOM, "thirdwitch")).unwrap().id().to_owned();
    let packets = dispatch(
        &xec,
        &format!(
            "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/firstwitch' id='{id}' type='error'>\
             <error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
        ),
    );
    assert!(packets.iter().all(|p| !p.key().starts_with("muc_join")), "{packets:?}");
    assert_eq!(xec.pending(), 1);
}

#[test]
fn nick_change_kick_ban_and_destroy_update_the_roster() {
    let xec = Xec::new().unwrap();
    let mut roster = RoomRoster::default();
    let apply = |roster: &mut RoomRoster, xml: &str| -> MucPresence {
        let packets = dispatch(&xec, xml);
        let p = packets.iter().find(|p| p.key() == "mucpresence").unwrap().content::<MucPresence>().unwrap().clone();
        roster.apply(&p);
        p
    };
    apply(
        &mut roster,
        "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'><x xmlns='http://jabber.org/protocol/muc#user'>\
           <item affiliation='member' role='participant'/></x></presence>",
    );
    apply(
        &mut roster,
        "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/crone'><x xmlns='http://jabber.org/protocol/muc#user'>\
           <item affiliation='owner' role='moderator'/><status code='110'/></x></presence>",
    );
    // §7.6.3, Example 54: another occupant changes nick
    let p = apply(
        &mut roster,
        "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' type='unavailable'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' jid='hag66@shakespeare.lit/pda' nick='oldhag' role='participant'/>\
         <status code='303'/></x></presence>",
    );
    assert_eq!(p.new_nick.as_deref(), Some("oldhag"));
    assert!(roster.get("thirdwitch").is_none());
    assert_eq!(roster.get("oldhag").map(|o| o.affiliation), Some(Affiliation::Member));
    // §8.2, Example 92: the others are told of a kick
    let p = apply(
        &mut roster,
        "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/oldhag' type='unavailable'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'/><status code='307'/></x></presence>",
    );
    assert!(p.has(StatusCode::Kicked) && !p.is_self());
    assert!(roster.get("oldhag").is_none() && roster.joined());
    // §9.1, Example 117: a ban with actor and reason
    let p = apply(
        &mut roster,
        "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/crone' type='unavailable'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='outcast' role='none'><actor nick='Fluellen'/>\
         <reason>Treason</reason></item><status code='301'/><status code='110'/></x></presence>",
    );
    assert!(p.has(StatusCode::Banned) && p.is_self());
    assert_eq!(p.reason.as_deref(), Some("Treason"));
    assert!(!roster.joined() && roster.is_empty());
    // §10.9, Example 202: the room is destroyed
    let p = apply(
        &mut roster,
        "<presence xmlns='jabber:client' from='heath@chat.shakespeare.lit/firstwitch' to='crone1@shakespeare.lit/desktop' type='unavailable'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'/>\
         <destroy jid='coven@chat.shakespeare.lit'><reason>Macbeth doth come.</reason></destroy></x></presence>",
    );
    let d = p.destroyed.unwrap();
    assert_eq!((d.alternate.as_deref(), d.reason.as_deref()), (Some(ROOM), Some("Macbeth doth come.")));
}

#[test]
fn messages_subjects_invitations_declines_and_statuses_are_delivered() {
    let xec = Xec::new().unwrap();
    let key_of = |xml: &str| -> Vec<String> { dispatch(&xec, xml).iter().map(|p| p.key().to_owned()).collect() };
    assert_eq!(
        key_of(
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' type='groupchat'><body>Harpier cries</body></message>"
        ),
        // the room's view, and the incoming-message event of every message with a body (rfc6121_message)
        ["incomingmessage", "mucmessage"]
    );
    assert_eq!(
        key_of(
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/secondwitch' type='groupchat'><subject>Fire Burn</subject></message>"
        ),
        ["mucsubject"]
    );
    // §7.2.15: the empty subject sent on joining
    let packets = dispatch(
        &xec,
        "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' type='groupchat'><subject/></message>",
    );
    let s = packets[0].content::<MucSubject>().unwrap();
    assert_eq!((s.subject.as_str(), s.nick.as_deref()), ("", None));
    assert_eq!(
        key_of(
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit'><x xmlns='http://jabber.org/protocol/muc#user'>\
                <invite from='crone1@shakespeare.lit/desktop'/></x></message>"
        ),
        ["mucinvitation"]
    );
    assert_eq!(
        key_of(
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit'><x xmlns='http://jabber.org/protocol/muc#user'>\
                <decline from='hecate@shakespeare.lit'/></x></message>"
        ),
        ["mucdecline"]
    );
    assert_eq!(
        key_of(
            "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit' type='groupchat'><x xmlns='http://jabber.org/protocol/muc#user'>\
                <status code='104'/></x></message>"
        ),
        ["mucstatus"]
    );
    // not ours: a chat message, a subject with a body, an invitation from an occupant's full JID
    for xml in [
        "<message xmlns='jabber:client' from='romeo@montague.lit/orchard' type='chat'><body>hi</body><subject>s</subject></message>",
        "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' type='groupchat'><subject>s</subject><body>b</body></message>",
        "<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='a@b'/></x></message>",
    ] {
        let keys = key_of(xml);
        assert!(
            keys.iter().all(|k| ["moxl.unhandled", "mucmessage", "incomingmessage"].contains(&k.as_str())),
            "{xml}: {keys:?}"
        );
        assert!(!keys.iter().any(|k| k == "mucsubject" || k == "mucinvitation"), "{xml}: {keys:?}");
    }
}

#[test]
fn admin_lists_config_and_destroy_actions() {
    let xec = Xec::new().unwrap();
    let reply = |id: &str, inner: &str| {
        dispatch(
            &xec,
            &format!(
                "<iq xmlns='jabber:client' from='coven@chat.shakespeare.lit' id='{id}' type='result'>{inner}</iq>"
            ),
        )
    };
    // kick (§8.2)
    let id = xec.context().request(Admin::kick(ROOM, "pistol", Some("Avaunt"))).unwrap().id().to_owned();
    assert!(xec.take_outgoing()[0].to_xml().contains("<item nick='pistol' role='none'><reason>Avaunt</reason></item>"));
    let p = reply(&id, "");
    assert_eq!((p[0].key(), p[0].content::<String>().map(String::as_str)), ("muc_admin_handle", Some(ROOM)));
    // an error goes to the key of its condition (§9.1: an admin may not be banned)
    let id = xec.context().request(Admin::ban(ROOM, "crone1@shakespeare.lit", None)).unwrap().id().to_owned();
    xec.take_outgoing();
    let p = dispatch(
        &xec,
        &format!(
            "<iq xmlns='jabber:client' from='coven@chat.shakespeare.lit' id='{id}' type='error'><error type='cancel'>\
             <not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        ),
    );
    assert_eq!(p[0].key(), "muc_admin_errornotallowed");
    // the member list (§9.5, Example 128): the typed view, and the Packet
    let out = xec.context().request(GetList::affiliation(ROOM, Affiliation::Member)).unwrap();
    let id = out.id().to_owned();
    xec.take_outgoing();
    let p = reply(
        &id,
        "<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member' jid='hag66@shakespeare.lit' nick='thirdwitch' role='participant'/></query>",
    );
    let typed = block_on(out).unwrap();
    assert_eq!(typed.room, ROOM);
    assert_eq!(typed.items.len(), 1);
    assert_eq!(typed.items[0].jid.as_deref(), Some("hag66@shakespeare.lit"));
    assert_eq!(p[0].key(), "muc_getlist_handle");
    let list = p[0].content::<AdminList>().unwrap();
    assert_eq!(list, &typed);
    // the configuration form (§10.2, Example 164, abridged), then its submission
    let id = xec.context().request(GetConfig::new(ROOM)).unwrap().id().to_owned();
    assert_eq!(xec.take_outgoing()[0].child("query", NS_OWNER).map(|q| q.has_children()), Some(false));
    let p = reply(
        &id,
        "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='form'>\
         <field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
         <field label='Natural-Language Room Name' type='text-single' var='muc#roomconfig_roomname'/>\
         <field label='Make Room Members-Only?' type='boolean' var='muc#roomconfig_membersonly'><value>0</value></field></x></query>",
    );
    let config = p[0].content::<RoomConfig>().unwrap();
    assert_eq!(config.form.form_type_value(), Some(FORM_ROOMCONFIG));
    let submission = config.form.submission().with_value("muc#roomconfig_roomname", "A Dark Cave");
    let id = xec
        .context()
        .request(Configure::new(ROOM, submission.with_bool("muc#roomconfig_membersonly", true)))
        .unwrap()
        .id()
        .to_owned();
    let sent = xec.take_outgoing();
    let form = sent[0].child("query", NS_OWNER).and_then(|q| DataForm::find_in(&q)).unwrap();
    assert_eq!(form.form_type, FormType::Submit);
    assert_eq!(form.value("muc#roomconfig_roomname"), Some("A Dark Cave"));
    assert_eq!(form.value("muc#roomconfig_membersonly"), Some("1"));
    assert_eq!(reply(&id, "")[0].key(), "muc_configure_handle");
    // an instant room (§10.1.2, Example 155)
    xec.context().request(Configure::instant(ROOM)).unwrap();
    assert!(xec.take_outgoing()[0].to_xml().contains(
        "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query>"
    ));
    // destroy (§10.9)
    let id = xec.context().request(Destroy::new(ROOM).reason("Macbeth doth come.")).unwrap().id().to_owned();
    xec.take_outgoing();
    assert_eq!(reply(&id, "")[0].key(), "muc_destroy_handle");
}

#[test]
fn nick_change_action_takes_the_new_presence_or_the_conflict() {
    let xec = Xec::new().unwrap();
    let id = xec.context().request(ChangeNick::new(ROOM, "oldhag")).unwrap().id().to_owned();
    assert_eq!(
        xec.take_outgoing()[0].to_xml(),
        format!(
            "<presence xmlns='jabber:client' to='coven@chat.shakespeare.lit/oldhag' id='{id}'>{}</presence>",
            our_caps(&xec)
        )
    );
    // §7.6.3, Example 56: the nick is taken
    let p = dispatch(
        &xec,
        &format!(
            "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/oldhag' id='{id}' type='error'>\
             <error by='coven@chat.shakespeare.lit' type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
        ),
    );
    assert_eq!(p[0].key(), "muc_changenick_errorconflict");
    assert_eq!(p[0].content::<moxl_core::stanza::StanzaError>().and_then(|e| e.condition()), Some(Condition::Conflict));
}

#[test]
fn the_nick_change_is_answered_by_our_new_presence_whatever_its_id() {
    // §7.6, Example 53: the room's presences carry ids of its own (ejabberd sends the id of our join)
    let xec = Xec::new().unwrap();
    let request = xec.context().request(ChangeNick::new(ROOM, "oldhag")).unwrap();
    let ours = |from: &str, id: &str, kind: &str, status: &str| {
        format!(
            "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/{from}' id='{id}' {kind}>\
             <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' jid='hag66@shakespeare.lit/pda' \
             role='participant' nick='oldhag'/>{status}</x></presence>"
        )
    };
    // our unavailable presence under the old nick (303, 110) is an event, not the reply
    let p = dispatch(
        &xec,
        &ours("thirdwitch", "DC352437", "type='unavailable'", "<status code='303'/><status code='110'/>"),
    );
    assert_eq!(p.iter().map(|p| p.key()).collect::<Vec<_>>(), ["mucpresence"]);
    // another occupant's presence from the new nick's JID without 110 is not the reply either
    let p = dispatch(&xec, &ours("oldhag", "19E41EB3", "", ""));
    assert_eq!(p.iter().map(|p| p.key()).collect::<Vec<_>>(), ["mucpresence"]);
    assert_eq!(xec.pending(), 1);
    // our presence under the new nick (110) with another id is
    let p = dispatch(&xec, &ours("oldhag", "5B4F27A4", "", "<status code='110'/>"));
    assert_eq!(p.iter().map(|p| p.key()).collect::<Vec<_>>(), ["muc_changenick_handle"]);
    assert_eq!(block_on(request).unwrap().nick(), "oldhag");
    assert_eq!(xec.pending(), 0);
    // nor is a self-presence from the JID of another pending change: the sender must be the new occupant JID
    let _other = xec.context().request(ChangeNick::new(ROOM, "crone")).unwrap();
    let p = dispatch(&xec, &ours("oldhag", "5B4F27A5", "", "<status code='110'/>"));
    assert_eq!(p.iter().map(|p| p.key()).collect::<Vec<_>>(), ["mucpresence"]);
    assert_eq!(xec.pending(), 1);
}

#[test]
fn an_awaited_join_is_our_self_presence_or_the_stanza_error() {
    let xec = Xec::new().unwrap();
    // §7.2.4 (abridged): the reflected self-presence of a new room (201)
    let out = xec.context().request(Join::new(ROOM, "thirdwitch")).unwrap();
    let reply = crate::test_util::answer_last(
        &xec,
        "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' id='ID'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/>\
         <status code='110'/><status code='201'/></x></presence>",
    );
    block_on(xec.dispatch(reply));
    let me = block_on(out).unwrap();
    assert!(me.is_self() && me.has(StatusCode::RoomCreated));
    assert_eq!(me.occupant.affiliation, Affiliation::Owner);
    // §7.2.7: banned
    let out = xec.context().request(Join::new(ROOM, "thirdwitch")).unwrap();
    let reply = crate::test_util::answer_last(
        &xec,
        "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/thirdwitch' id='ID' type='error'>\
         <error by='coven@chat.shakespeare.lit' type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>",
    );
    block_on(xec.dispatch(reply));
    match block_on(out) {
        Err(moxl_core::Error::Stanza(e)) => assert_eq!(e.condition(), Some(Condition::Forbidden)),
        other => panic!("{other:?}"),
    }
}
