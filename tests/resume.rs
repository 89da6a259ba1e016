//! Sessions that survive a lost connection (XEP-0198), against both real servers of the test support (Prosody
//! with its built-in smacks, ejabberd with `mod_stream_mgmt` and its default resume timeout of 300 s): the
//! connection is cut under an active session by a loopback proxy the test controls, or the server restarts (a
//! server of the test's own: the shared ones must not); a fresh session joins its rooms again.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{fresh_account, packet, servers};
use moxl::client::{Client, ClientBuilder, ConnectionState, Reconnect};
use moxl::prelude::*;
use moxl::xec::{Packet, PacketStream};
use moxl::xep::xep_0045_muc::{ChangeNick, Configure, Join, MucPresence};
use moxl_test_support::{CutProxy, Server, ServerKind};

fn builder(p: &Server, user: &str, password: &str, port: u16) -> ClientBuilder {
    common::client(p, user, password)
        .server("127.0.0.1", port)
        .reconnect(Some(Reconnect::new(Duration::from_millis(50), Duration::from_millis(300))))
}

/// Every presence: its type (`available` when it has none).
#[payload(name = "presence", ns = "jabber:client")]
#[derive(Default)]
struct SeenPresence;

impl Payload for SeenPresence {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        let kind = element.attr("type").map_or_else(|| "available".to_owned(), |t| t.into_owned());
        ctx.pack(kind).deliver();
        Ok(())
    }
}

async fn wait_state(client: &Client, what: &str, f: impl Fn(&ConnectionState) -> bool) -> ConnectionState {
    let mut state = client.state();
    let result = tokio::time::timeout(Duration::from_secs(10), state.wait_for(|s| f(s))).await;
    match result {
        Ok(Ok(s)) => s.clone(),
        _ => panic!("no {what} within 10 s; state {:?}", *client.state().borrow()),
    }
}

/// Counts the bodies that arrive within `quiet` of each other.
async fn bodies(stream: &mut PacketStream, expected: usize, quiet: Duration) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    let mut total = 0;
    loop {
        let wait = if total < expected { Duration::from_secs(10) } else { quiet };
        match tokio::time::timeout(wait, stream.recv()).await {
            Ok(Some(p)) => {
                *seen.entry(p.content::<String>().cloned().unwrap_or_default()).or_default() += 1;
                total += 1;
            }
            _ => return seen,
        }
    }
}

#[tokio::test]
async fn a_cut_connection_is_resumed_and_every_message_arrives_exactly_once() -> Result<()> {
    for p in servers() {
        a_cut_connection_is_resumed_and_every_message_arrives_exactly_once_on(p).await?;
    }
    Ok(())
}

async fn a_cut_connection_is_resumed_and_every_message_arrives_exactly_once_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let proxy = CutProxy::start(p.c2s_port()).unwrap();
    let juliet = builder(p, &juliet_user, "secret", proxy.port()).connect().await?;
    let romeo = builder(p, &romeo_user, "secret", p.c2s_port()).connect().await?;
    assert!(juliet.stream_management().flatten().is_some(), "resumable stream management is on");
    let mut at_juliet = juliet.xec().subscribe("body");
    let mut at_romeo = romeo.xec().subscribe("body");
    let mut resumed = juliet.xec().subscribe(Packet::RESUMED);
    let (juliet_jid, romeo_jid) = (juliet.jid().to_string(), romeo.jid().to_string());

    // In flight when the network goes: sent, perhaps not acknowledged.
    juliet.xec().context().send(message(&romeo_jid, "chat", Some("before the cut")))?;
    proxy.set_refusing(true);
    assert_eq!(proxy.cut(), 1);
    wait_state(&juliet, "reconnecting", |s| matches!(s, ConnectionState::Reconnecting { .. })).await;

    // During the outage, both ways.
    for n in 0..5 {
        romeo.xec().context().send(message(&juliet_jid, "chat", Some(&format!("to juliet {n}"))))?;
        juliet.xec().context().send(message(&romeo_jid, "chat", Some(&format!("to romeo {n}"))))?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await; // a few refused attempts
    proxy.set_refusing(false);

    let state = wait_state(&juliet, "resumption", |s| matches!(s, ConnectionState::Resumed(_))).await;
    assert_eq!(state, ConnectionState::Resumed(juliet.jid()), "{}", p.kind());
    assert_eq!(juliet.jid().to_string(), juliet_jid, "same session, same resource");
    let event = tokio::time::timeout(Duration::from_secs(2), resumed.recv()).await.expect("resumed Packet");
    assert_eq!(event.and_then(|p| p.content::<String>().cloned()), Some(juliet_jid.clone()));

    let got = bodies(&mut at_juliet, 5, Duration::from_millis(700)).await;
    let want: BTreeMap<String, usize> = (0..5).map(|n| (format!("to juliet {n}"), 1)).collect();
    assert_eq!(got, want, "{}: what romeo sent during the outage, once each", p.kind());

    let got = bodies(&mut at_romeo, 6, Duration::from_millis(700)).await;
    let mut want: BTreeMap<String, usize> = (0..5).map(|n| (format!("to romeo {n}"), 1)).collect();
    want.insert("before the cut".into(), 1);
    assert_eq!(got, want, "{}: what juliet sent before and during the outage, once each", p.kind());
    assert!(proxy.connections() >= 2);
    Ok(())
}

#[tokio::test]
async fn a_server_restart_gives_a_fresh_session_that_is_reported() -> Result<()> {
    for kind in ServerKind::ALL {
        // A server of its own: it restarts.
        let p = kind.start(&[("juliet", "secret"), ("romeo", "montague")]).unwrap();
        a_server_restart_gives_a_fresh_session_that_is_reported_on(p).await?;
    }
    Ok(())
}

async fn a_server_restart_gives_a_fresh_session_that_is_reported_on(mut p: Server) -> Result<()> {
    let juliet = builder(&p, "juliet", "secret", p.c2s_port()).connect().await?;
    let mut reestablished = juliet.xec().subscribe(Packet::REESTABLISHED);
    let mut disconnected = juliet.xec().subscribe(Packet::DISCONNECTED);
    // Our presence is part of the session: it must be sent again on a fresh one.
    juliet.xec().context().send(presence(None, None))?;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let p = tokio::task::spawn_blocking(move || {
        p.restart().unwrap();
        p
    })
    .await
    .unwrap();

    let reason = tokio::time::timeout(Duration::from_secs(5), disconnected.recv()).await.expect("disconnected Packet");
    let reason = reason.and_then(|r| r.content::<String>().cloned()).unwrap_or_default();
    assert!(reason.contains("system-shutdown") || reason.contains("closed"), "{}: {reason}", p.kind());
    let state = wait_state(&juliet, "a new session", |s| matches!(s, ConnectionState::Reestablished(_))).await;
    assert!(matches!(state, ConnectionState::Reestablished(_)));
    assert!(tokio::time::timeout(Duration::from_secs(2), reestablished.recv()).await.is_ok());

    // Our presence was sent again on the new session: another resource of the account that comes online is
    // told of it by the server (RFC 6121 §4.2.2). Without the replay the new session would be unavailable.
    let phone = builder(&p, "juliet", "secret", p.c2s_port()).resource("phone").connect().await?;
    let mut presences = phone.xec().subscribe("seenpresence");
    phone.xec().context().send(presence(None, None))?;
    let main = juliet.jid().to_string();
    let seen = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let p = presences.recv().await.expect("open");
            if p.from() == Some(main.as_str()) {
                return p;
            }
        }
    })
    .await
    .expect("the new session's presence reaches the other resource");
    assert_eq!(seen.content::<String>().map(String::as_str), Some("available"));

    // And it works.
    let romeo = builder(&p, "romeo", "montague", p.c2s_port()).connect().await?;
    let mut at_juliet = juliet.xec().subscribe("body");
    romeo.xec().context().send(message(&juliet.jid().to_string(), "chat", Some("after the restart")))?;
    let got = bodies(&mut at_juliet, 1, Duration::from_millis(300)).await;
    assert_eq!(got.get("after the restart"), Some(&1));
    Ok(())
}

#[tokio::test]
async fn without_reconnection_a_lost_connection_ends_the_session() -> Result<()> {
    for p in servers() {
        let proxy = CutProxy::start(p.c2s_port()).unwrap();
        let user = fresh_account(p, "juliet");
        let juliet = builder(p, &user, "secret", proxy.port()).reconnect(None).connect().await?;
        proxy.cut();
        let state = wait_state(&juliet, "disconnection", |s| matches!(s, ConnectionState::Disconnected(_))).await;
        assert!(matches!(&state, ConnectionState::Disconnected(r) if r.contains("closed")), "{}: {state:?}", p.kind());
    }
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_on_reconnection_stops_reconnecting() -> Result<()> {
    for p in servers() {
        a_wrong_password_on_reconnection_stops_reconnecting_on(p).await?;
    }
    Ok(())
}

async fn a_wrong_password_on_reconnection_stops_reconnecting_on(p: &Server) -> Result<()> {
    let user = fresh_account(p, "juliet");
    let proxy = CutProxy::start(p.c2s_port()).unwrap();
    let juliet = builder(p, &user, "secret", proxy.port()).connect().await?;
    // The password is changed from another device (XEP-0077 §3.3) while this connection is lost.
    let other = builder(p, &user, "secret", p.c2s_port()).resource("phone").connect().await?;
    let change = iq_set(None).append(
        ElementBuilder::new("query", "jabber:iq:register")
            .append(ElementBuilder::new("username", "jabber:iq:register").text(&user))
            .append(ElementBuilder::new("password", "jabber:iq:register").text("changed")),
    );
    let mut replies = other.xec().subscribe(Packet::UNHANDLED);
    other.xec().context().send(change)?;
    let reply = tokio::time::timeout(Duration::from_secs(5), replies.recv()).await.expect("an answer").expect("open");
    assert_eq!(
        reply.content::<Element>().and_then(|e| e.attr("type").map(|t| t.into_owned())).as_deref(),
        Some("result")
    );
    proxy.cut();
    let state = wait_state(&juliet, "the end", |s| matches!(s, ConnectionState::Disconnected(_))).await;
    // Either the server ends the session at once (not-authorized) or our next login is refused: no retry loop.
    assert!(
        matches!(&state, ConnectionState::Disconnected(r) if r.contains("authentication failed") || r.contains("not-authorized")),
        "{}: {state:?}",
        p.kind()
    );
    Ok(())
}

/// XEP-0045 rooms are joined again by a fresh session (XEP-0198 §5: it starts with nothing) under the nick we had
/// last, learned from the room's own word (§7.6.3), not the one we joined with.
#[tokio::test]
async fn a_fresh_session_rejoins_its_room_under_the_nick_it_had_last() -> Result<()> {
    for p in servers() {
        a_fresh_session_rejoins_its_room_under_the_nick_it_had_last_on(p).await?;
    }
    Ok(())
}

async fn a_fresh_session_rejoins_its_room_under_the_nick_it_had_last_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let room = format!("{juliet_user}-balcony@{}", p.muc_domain().expect("both servers have a MUC service"));
    let proxy = CutProxy::start(p.c2s_port()).unwrap();
    // Without stream management a lost connection can only give a fresh session.
    let juliet = builder(p, &juliet_user, "secret", proxy.port()).stream_management(false).connect().await?;
    let romeo = builder(p, &romeo_user, "secret", p.c2s_port()).connect().await?;
    let mut joined = juliet.xec().subscribe("muc_join_handle");
    juliet.xec().context().request(Join::new(&room, "juliet"))?;
    packet(&mut joined).await;
    // An instant room (XEP-0045 §10.1.2): unlocked at once.
    let mut configured = juliet.xec().subscribe("muc_configure_handle");
    juliet.xec().context().request(Configure::instant(&room))?;
    packet(&mut configured).await;
    // Romeo first: Prosody 0.12 destroys a temporary room whose only occupant changes nick.
    let mut romeo_joined = romeo.xec().subscribe("muc_join_handle");
    romeo.xec().context().request(Join::new(&room, "romeo"))?;
    packet(&mut romeo_joined).await;
    let mut seen = romeo.xec().subscribe("mucpresence");
    // Our presence under the new nick: the ChangeNick Action's answer on Prosody; ejabberd 23.01 does not echo
    // the request's id in it, so there it comes as a plain room presence (the Action then times out).
    let mut all = juliet.xec().packets();
    juliet.xec().context().request(ChangeNick::new(&room, "jules"))?;
    loop {
        let p = packet(&mut all).await;
        let new_self = |m: &MucPresence| m.is_self() && m.available && m.occupant.nick == "jules";
        if p.key() == "muc_changenick_handle" || p.content::<MucPresence>().is_some_and(new_self) {
            break;
        }
    }
    // Romeo sees the change (303 from juliet, then jules available).
    loop {
        let p = packet(&mut seen).await;
        let p = p.content::<MucPresence>().unwrap();
        if p.occupant.nick == "jules" && p.available {
            break;
        }
    }
    let mut own = juliet.xec().subscribe("mucpresence");
    let mut reestablished = juliet.xec().subscribe(Packet::REESTABLISHED);

    assert_eq!(proxy.cut(), 1);
    tokio::time::timeout(Duration::from_secs(10), reestablished.recv()).await.expect("a fresh session");
    // The room tells the new session it is in, as Jules (its self-presence, status 110).
    let back = loop {
        let p = packet(&mut own).await;
        let p = p.content::<MucPresence>().unwrap().clone();
        if p.is_self() {
            break p;
        }
    };
    assert!(back.available, "{back:?}");
    assert_eq!((back.room.as_str(), back.occupant.nick.as_str()), (room.as_str(), "jules"));
    // Nobody saw a "juliet" come back; the server keeps Jules as one occupant across her two sessions.
    while let Ok(Some(p)) = tokio::time::timeout(Duration::from_millis(500), seen.recv()).await {
        let p = p.content::<MucPresence>().unwrap();
        assert_eq!(p.occupant.nick, "jules", "{p:?}");
    }
    Ok(())
}
