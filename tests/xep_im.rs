//! Instant messaging through both real servers, Prosody and ejabberd, on fresh accounts (RFC 6121 and the small message XEPs): roster sets and removals
//! pushed to another resource, roster versioning, the subscription handshake, directed presence with idle time
//! (XEP-0256), message threads, corrections (XEP-0308), reactions (XEP-0444), retractions (XEP-0424), replies
//! (XEP-0461), attention (XEP-0224), XHTML-IM (XEP-0071), and client state indication (XEP-0352).

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{client, fresh_account, jid, packet, servers};
use moxl::client::Client;
use moxl::prelude::*;
use moxl::xec::{Packet, PacketStream};
use moxl::xep::rfc6121_message::{with_thread, MessageInfo, MessageType, Thread};
use moxl::xep::rfc6121_presence::{available, directed, subscribe, subscribed, PresenceInfo, PresenceType, Show};
use moxl::xep::rfc6121_roster::{Fetch, Fetched, Get, Remove, RosterItem, RosterPush, Set};
use moxl::xep::xep_0071_xhtml_im::{with_xhtml, xhtml_body, XhtmlIm, XHTML};
use moxl::xep::xep_0224_attention::{attention, Attention};
use moxl::xep::xep_0256_last_activity_presence::{with_idle, Idle};
use moxl::xep::xep_0308_correction::{correct, Correction};
use moxl::xep::xep_0352_csi::{set_state, ClientState};
use moxl::xep::xep_0424_retraction::{retract, Retraction};
use moxl::xep::xep_0444_reactions::{react, Reactions};
use moxl::xep::xep_0461_replies::{reply, Reply};
use moxl_test_support::Server;

/// Every message with a thread, typed (the library delivers no generic message Packet).
#[payload(name = "thread", ns = "jabber:client")]
#[derive(Default)]
struct Threaded;

impl Payload for Threaded {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if let Some(info) = MessageInfo::from_element(stanza) {
            ctx.pack(info).deliver();
        }
        Ok(())
    }
}

/// No Packet on `stream` for `ms` milliseconds.
async fn nothing_within(stream: &mut PacketStream, ms: u64) {
    if let Ok(p) = tokio::time::timeout(Duration::from_millis(ms), stream.recv()).await {
        panic!("unexpected packet: {p:?}");
    }
}

/// The next Packet whose content is a `T` satisfying `pred` (others are skipped), within 5 s.
async fn next_matching<T: 'static + Clone>(stream: &mut PacketStream, pred: impl Fn(&T) -> bool) -> (Packet, T) {
    loop {
        let p = packet(stream).await;
        if let Some(t) = p.content::<T>().filter(|t| pred(t)).cloned() {
            return (p, t);
        }
    }
}

async fn push(stream: &mut PacketStream) -> RosterPush {
    packet(stream).await.content::<RosterPush>().cloned().expect("a RosterPush")
}

async fn roster(client: &Client) -> Vec<RosterItem> {
    let mut items = client.xec().subscribe("roster_get_handle");
    client.xec().context().request(Get).unwrap();
    packet(&mut items).await.content::<Vec<RosterItem>>().cloned().unwrap()
}

#[tokio::test]
async fn roster_changes_are_pushed_to_another_resource_and_versioning_answers_unchanged() -> Result<()> {
    for p in servers() {
        roster_changes_are_pushed_to_another_resource_and_versioning_answers_unchanged_on(p).await?;
    }
    Ok(())
}

async fn roster_changes_are_pushed_to_another_resource_and_versioning_answers_unchanged_on(p: &Server) -> Result<()> {
    let juliet_user = fresh_account(p, "juliet");
    let balcony = client(p, &juliet_user, "secret").resource("balcony").connect().await?;
    let chamber = client(p, &juliet_user, "secret").resource("chamber").connect().await?;
    assert!(balcony.features().roster_ver, "Prosody offers roster versioning");
    // Pushes go to interested resources only: those that got the roster (RFC 6121 §2.1.6).
    assert!(roster(&balcony).await.is_empty());
    // The chamber fetches it with versioning; it has none stored.
    // (awaited: the session's own roster fetch at its start delivers a Packet under the same key)
    let fetch = Fetch::new(chamber.features(), None);
    assert_eq!(fetch.ver(), Some(""));
    let Fetched::Roster(first) = chamber.xec().context().request(fetch)?.await? else {
        panic!("an empty version asks for the roster");
    };
    assert!(first.items.is_empty());
    let v0 = first.ver.clone().expect("a versioned roster");

    // balcony adds the nurse: both resources get the push, chamber with the new version
    let (mut chamber_pushes, mut balcony_pushes) =
        (chamber.xec().subscribe("roster_push"), balcony.xec().subscribe("roster_push"));
    let mut set = balcony.xec().subscribe("roster_set_handle");
    let nurse = jid(p, "nurse").to_string();
    let item = RosterItem::new(nurse.clone()).with_name("Nurse").with_group("Servants");
    balcony.xec().context().request(Set::new(item))?;
    assert_eq!(packet(&mut set).await.content::<String>(), Some(&nurse));
    let added = push(&mut chamber_pushes).await;
    assert_eq!(added.item.jid, nurse);
    assert_eq!(
        (added.item.name.as_deref(), added.item.groups.as_slice()),
        (Some("Nurse"), &["Servants".to_owned()][..])
    );
    assert_eq!(added.item.subscription.as_deref(), Some("none"));
    let v1 = added.ver.clone().expect("a push carries the new version (§2.6.3)");
    assert_eq!(push(&mut balcony_pushes).await.item.jid, nurse, "the resource that made the change gets it too");
    // (Prosody numbers versions from 1 and calls an empty roster "1" too: v0 may equal v1)
    let _ = v0;

    // an update (§2.4): a new group, a new version
    let item = RosterItem::new(nurse.clone()).with_name("Nurse").with_group("Servants").with_group("Capulets");
    balcony.xec().context().request(Set::new(item))?;
    packet(&mut set).await;
    let updated = push(&mut chamber_pushes).await;
    let mut groups = updated.item.groups.clone();
    groups.sort();
    assert_eq!(groups, ["Capulets", "Servants"], "groups are a set (§2.1.2.6)");
    let v2 = updated.ver.clone().unwrap();
    assert_ne!(v2, v1);

    // chamber asks again with the version it stored: unchanged
    let unchanged = chamber.xec().context().request(Fetch::new(chamber.features(), Some(&v2)))?.await?;
    assert_eq!(unchanged, Fetched::Unchanged);
    // with the older version: the server sends the roster, or the pushes since then (§2.6.3)
    match chamber.xec().context().request(Fetch::new(chamber.features(), Some(&v1)))?.await? {
        Fetched::Roster(r) => {
            assert_eq!(r.ver.as_deref(), Some(v2.as_str()));
            assert_eq!(r.items.iter().map(|i| i.groups.len()).collect::<Vec<_>>(), [2]);
        }
        Fetched::Unchanged => assert_eq!(push(&mut chamber_pushes).await.item.groups.len(), 2),
    }

    // removal: pushed as subscription='remove'
    let mut removed = balcony.xec().subscribe("roster_remove_handle");
    balcony.xec().context().request(Remove::new(nurse.clone()))?;
    assert_eq!(packet(&mut removed).await.content::<String>(), Some(&nurse));
    let gone = loop {
        let push = push(&mut chamber_pushes).await;
        if push.item.is_removed() {
            break push;
        }
    };
    assert_eq!(gone.item.jid, nurse);
    assert_ne!(gone.ver, Some(v2));
    assert!(roster(&balcony).await.is_empty());
    // removing it again: item-not-found (§2.5.3) from Prosody; ejabberd 23.01 answers with success
    let key = match p.kind() {
        moxl_test_support::ServerKind::Ejabberd => "roster_remove_handle",
        _ => "roster_remove_erroritemnotfound",
    };
    let mut missing = balcony.xec().subscribe(key);
    balcony.xec().context().request(Remove::new(nurse))?;
    packet(&mut missing).await;
    Ok(())
}

#[tokio::test]
async fn the_subscription_handshake_ends_with_both_rosters_at_both() -> Result<()> {
    for p in servers() {
        the_subscription_handshake_ends_with_both_rosters_at_both_on(p).await?;
    }
    Ok(())
}

async fn the_subscription_handshake_ends_with_both_rosters_at_both_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let juliet = client(p, &juliet_user, "secret").connect().await?;
    let romeo = client(p, &romeo_user, "secret").connect().await?;
    let (juliet_bare, romeo_bare) = (jid(p, &juliet_user).to_string(), jid(p, &romeo_user).to_string());
    // interested and available resources (§2.1.6, §3.1.3)
    roster(&juliet).await;
    roster(&romeo).await;
    let (mut juliet_requests, mut romeo_requests) =
        (juliet.xec().subscribe("subscriptionrequest"), romeo.xec().subscribe("subscriptionrequest"));
    let (mut juliet_changes, mut romeo_changes) =
        (juliet.xec().subscribe("subscriptionchange"), romeo.xec().subscribe("subscriptionchange"));
    let mut romeo_updates = romeo.xec().subscribe("presenceupdate");
    juliet.xec().context().send(available(Some(Show::Chat), Some("On the balcony"), Some(5)))?;
    romeo.xec().context().send(available(None, None, None))?;

    // romeo asks, juliet approves (§3.1)
    romeo.xec().context().send(subscribe(&juliet_bare))?;
    let request = packet(&mut juliet_requests).await;
    let info = request.content::<PresenceInfo>().unwrap();
    assert_eq!((info.kind, info.from.as_deref()), (PresenceType::Subscribe, Some(romeo_bare.as_str())));
    juliet.xec().context().send(subscribed(&romeo_bare))?;
    let approved = packet(&mut romeo_changes).await;
    assert_eq!(approved.content::<PresenceInfo>().map(|i| i.kind), Some(PresenceType::Subscribed));
    // …and romeo now gets juliet's current presence, typed (§3.1.6)
    let (_, juliet_presence) =
        next_matching::<PresenceInfo>(&mut romeo_updates, |i| i.from.as_deref() == Some(&juliet.jid().to_string()))
            .await;
    assert_eq!(
        (juliet_presence.kind, juliet_presence.show, juliet_presence.priority, juliet_presence.status(None)),
        (PresenceType::Available, Some(Show::Chat), 5, Some("On the balcony"))
    );

    // and the other way round
    juliet.xec().context().send(subscribe(&romeo_bare))?;
    let request = packet(&mut romeo_requests).await;
    assert_eq!(request.from(), Some(juliet_bare.as_str()));
    romeo.xec().context().send(subscribed(&juliet_bare))?;
    assert_eq!(
        packet(&mut juliet_changes).await.content::<PresenceInfo>().map(|i| i.kind),
        Some(PresenceType::Subscribed)
    );

    let both = |items: Vec<RosterItem>, contact: &str| {
        let item = items.into_iter().find(|i| i.jid == contact).expect("the contact is in the roster");
        (item.subscription, item.ask)
    };
    let mut tries = 0;
    loop {
        let (j, r) = (both(roster(&juliet).await, &romeo_bare), both(roster(&romeo).await, &juliet_bare));
        if j == (Some("both".into()), None) && r == (Some("both".into()), None) {
            break;
        }
        tries += 1;
        assert!(tries < 20, "rosters never reached both: juliet {j:?}, romeo {r:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::test]
async fn directed_presence_reaches_a_non_subscriber_with_its_idle_time() -> Result<()> {
    for p in servers() {
        directed_presence_reaches_a_non_subscriber_with_its_idle_time_on(p).await?;
    }
    Ok(())
}

async fn directed_presence_reaches_a_non_subscriber_with_its_idle_time_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let juliet = client(p, &juliet_user, "secret").resource("balcony").connect().await?;
    let romeo = client(p, &romeo_user, "secret").connect().await?;
    let (mut updates, mut idle) = (juliet.xec().subscribe("presenceupdate"), juliet.xec().subscribe("presenceidle"));
    let away = with_idle(available(Some(Show::Away), Some("In the orchard"), None), 600);
    romeo.xec().context().send(directed(away, &juliet.jid().to_string()))?;
    let update = packet(&mut updates).await;
    let info = update.content::<PresenceInfo>().unwrap();
    assert_eq!(update.from(), Some(romeo.jid().to_string().as_str()));
    assert_eq!(
        (info.kind, info.show, info.status(None)),
        (PresenceType::Available, Some(Show::Away), Some("In the orchard"))
    );
    let i = packet(&mut idle).await;
    assert_eq!(i.content::<Idle>().map(|i| (i.seconds, i.unavailable)), Some((600, false)));
    Ok(())
}

#[tokio::test]
async fn message_extensions_arrive_typed_on_the_other_side() -> Result<()> {
    for p in servers() {
        message_extensions_arrive_typed_on_the_other_side_on(p).await?;
    }
    Ok(())
}

async fn message_extensions_arrive_typed_on_the_other_side_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let juliet = client(p, &juliet_user, "secret").connect().await?;
    let romeo = client(p, &romeo_user, "secret").connect().await?;
    let (juliet_jid, romeo_jid) = (juliet.jid().to_string(), romeo.jid().to_string());
    let x = romeo.xec();

    // a message in a thread (RFC 6121 §5.2.5)
    let mut threads = x.subscribe("threaded");
    let m = with_thread(message(&romeo_jid, "chat", Some("Art thou not Romeo?")), "e0ffe42b", Some("7edac73ab41e"));
    juliet.xec().context().send(m.attr("id", "m1"))?;
    let info = packet(&mut threads).await.content::<MessageInfo>().cloned().unwrap();
    assert_eq!((info.kind, info.body(None)), (MessageType::Chat, Some("Art thou not Romeo?")));
    assert_eq!(info.thread, Some(Thread { id: "e0ffe42b".into(), parent: Some("7edac73ab41e".into()) }));
    assert_eq!(info.id.as_deref(), Some("m1"));

    // its correction (XEP-0308)
    let mut corrections = x.subscribe("messagecorrection");
    let fixed = correct(message(&romeo_jid, "chat", Some("Art thou not Romeo, and a Montague?")), "m1");
    juliet.xec().context().send(fixed.attr("id", "m2"))?;
    let c = packet(&mut corrections).await.content::<Correction>().cloned().unwrap();
    assert_eq!((c.replaces.as_str(), c.body.as_deref()), ("m1", Some("Art thou not Romeo, and a Montague?")));
    assert_eq!(c.from.as_deref(), Some(juliet_jid.as_str()));

    // romeo reacts (XEP-0444) and replies with a quote (XEP-0461)
    let mut reactions = juliet.xec().subscribe("messagereactions");
    x.context().send(react(&juliet_jid, "chat", "m1", ["❤️", "🌹"]))?;
    let r = packet(&mut reactions).await.content::<Reactions>().cloned().unwrap();
    assert_eq!((r.to.as_str(), r.reactions.as_slice()), ("m1", &["❤️".to_owned(), "🌹".to_owned()][..]));
    assert_eq!(r.from.as_deref(), Some(romeo_jid.as_str()));
    let mut replies = juliet.xec().subscribe("messagereply");
    let answer =
        reply(&juliet_jid, "chat", Some(&juliet_jid), "m1", Some("Art thou not Romeo?"), "Neither, fair saint");
    x.context().send(answer.attr("id", "r1"))?;
    let r = packet(&mut replies).await.content::<Reply>().cloned().unwrap();
    assert_eq!((r.id.as_str(), r.author.as_deref()), ("m1", Some(juliet_jid.as_str())));
    assert_eq!(r.text.as_deref(), Some("Neither, fair saint"), "the quote is left out");

    // juliet retracts her message (XEP-0424)
    let mut retractions = x.subscribe("messageretraction");
    juliet.xec().context().send(retract(&romeo_jid, "chat", "m1"))?;
    let r = packet(&mut retractions).await.content::<Retraction>().cloned().unwrap();
    assert_eq!((r.retracts.as_str(), r.from.as_deref()), ("m1", Some(juliet_jid.as_str())));

    // attention (XEP-0224) and XHTML-IM (XEP-0071)
    let (mut buzz, mut formatted) = (x.subscribe("attention"), x.subscribe("xhtmlim"));
    juliet.xec().context().send(attention(&romeo_jid, Some("Romeo!")))?;
    assert_eq!(packet(&mut buzz).await.content::<Attention>().and_then(|a| a.body.clone()).as_deref(), Some("Romeo!"));
    let body = xhtml_body()
        .append(ElementBuilder::new("p", XHTML).text("Good ").append(ElementBuilder::new("em", XHTML).text("night")));
    juliet.xec().context().send(with_xhtml(message(&romeo_jid, "chat", Some("Good night")), body))?;
    let xhtml = packet(&mut formatted).await.content::<XhtmlIm>().cloned().unwrap();
    assert_eq!(xhtml.text(), "Good night");
    assert_eq!(xhtml.bodies[0].markup, "<body xmlns='http://www.w3.org/1999/xhtml'><p>Good <em>night</em></p></body>");
    Ok(())
}

#[tokio::test]
async fn client_state_indication_holds_presence_back_while_inactive() -> Result<()> {
    for p in servers() {
        client_state_indication_holds_presence_back_while_inactive_on(p).await?;
    }
    Ok(())
}

async fn client_state_indication_holds_presence_back_while_inactive_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let juliet = client(p, &juliet_user, "secret").resource("balcony").connect().await?;
    let romeo = client(p, &romeo_user, "secret").connect().await?;
    assert!(juliet.features().csi, "Prosody (mod_csi_simple) offers CSI");
    let (mut updates, mut bodies) = (juliet.xec().subscribe("presenceupdate"), juliet.xec().subscribe("body"));
    let ctx = juliet.xec().context();
    assert!(set_state(&ctx, juliet.features(), ClientState::Inactive)?);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // while inactive, a presence update waits on the server…
    let to = juliet.jid().to_string();
    romeo.xec().context().send(directed(available(Some(Show::Away), None, None), &to))?;
    nothing_within(&mut updates, 1000).await;
    // …until the client is active again
    assert!(set_state(&ctx, juliet.features(), ClientState::Active)?);
    let update = packet(&mut updates).await;
    assert_eq!(update.content::<PresenceInfo>().and_then(|i| i.show), Some(Show::Away));
    // a message with a body is urgent: it is not held back
    assert!(set_state(&ctx, juliet.features(), ClientState::Inactive)?);
    tokio::time::sleep(Duration::from_millis(200)).await;
    romeo.xec().context().send(message(&to, "chat", Some("Are you there?")))?;
    assert_eq!(packet(&mut bodies).await.content::<String>().map(String::as_str), Some("Are you there?"));
    // the stream is fine: an iq round trip still works
    assert_eq!(roster(&juliet).await, []);
    Ok(())
}
