//! Message copies, history and blocking through both test servers (Prosody and ejabberd, with their message
//! archives on, shared by the tests of this file): carbons between two clients of one account (XEP-0280), the
//! message archive with paging, filters and preferences, a room's archive (XEP-0313, XEP-0059), and the
//! blocking command (XEP-0191).

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{archiving_servers, client, features_of, fresh_account, packet};
use moxl::client::Client;
use moxl::prelude::*;
use moxl::xec::PacketStream;
use moxl::xep::rfc6121_message::IncomingMessage;
use moxl::xep::xep_0045_muc::{self as muc, Configure, GroupchatMessage, History, Join};
use moxl::xep::xep_0059_rsm::SetQuery;
use moxl::xep::xep_0184_receipts::{request_receipt, Receipt};
use moxl::xep::xep_0191_blocking::{Block, BlocklistPush, GetBlocklist, Unblock};
use moxl::xep::xep_0280_carbons::{Carbon, Direction, Enable};
use moxl::xep::xep_0297_forwarding::forward;
use moxl::xep::xep_0313_mam::{
    self as mam, best_namespace, CatchUp, DefaultPolicy, Filter, GetPrefs, Page, Prefs, Query, SetPrefs,
};
use moxl_test_support::{Server, ServerKind};

/// Every carbon-shaped `<received/>` that reaches a client, genuine or not (to prove a forged one arrived).
#[payload(name = "received", ns = "urn:xmpp:carbons:2", key = "archivetest_carbonshape")]
#[derive(Default)]
struct CarbonShape;

impl Payload for CarbonShape {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        ctx.pack(stanza.clone()).deliver();
        Ok(())
    }
}

/// A MAM query that reaches a client (here Romeo's, playing an archive): delivered whole, answered later by the
/// test (so not answered `service-unavailable` by the dispatcher).
#[payload(name = "query", ns = "urn:xmpp:mam:2", key = "archivetest_mamquery")]
#[derive(Default)]
struct MamQuerySeen;

impl Payload for MamQuerySeen {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        ctx.answer_later();
        ctx.pack(stanza.clone()).deliver();
        Ok(())
    }
}

/// Juliet (the account `user`) on resource `resource`.
async fn juliet(p: &Server, user: &str, resource: &str) -> Result<Client> {
    client(p, user, "secret").resource(resource).connect().await
}

/// Fresh accounts for juliet and romeo on `p` (the servers are shared), and romeo connected.
async fn cast(p: &Server) -> Result<(String, String, Client)> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let romeo = client(p, &romeo_user, "secret").connect().await?;
    Ok((juliet_user, romeo_user, romeo))
}

/// No Packet on `stream` for 500 ms.
async fn nothing_within_500ms(stream: &mut PacketStream) {
    if let Ok(p) = tokio::time::timeout(Duration::from_millis(500), stream.recv()).await {
        panic!("unexpected packet: {p:?}");
    }
}

/// Each client sends available presence, and has it back (RFC 6121 §4.2.2): ejabberd copies messages (XEP-0280)
/// and pushes blocklist changes (XEP-0191 §3.3) only to available resources, as a client online is.
async fn available(clients: &[&Client]) -> Result<()> {
    for client in clients {
        let mut presences = client.xec().subscribe("archivetest_ownpresence");
        client.xec().context().send(presence(None, None))?;
        let own = client.jid().to_string();
        while packet(&mut presences).await.from() != Some(own.as_str()) {}
    }
    Ok(())
}

/// Every presence without a MUC payload, by sender (key `archivetest_ownpresence`).
#[payload(name = "presence", ns = "jabber:client", key = "archivetest_ownpresence")]
#[derive(Default)]
struct OwnPresence;

impl Payload for OwnPresence {
    async fn handle(&mut self, ctx: &Context, _element: &Element, _stanza: &Element) -> Result<()> {
        ctx.deliver();
        Ok(())
    }
}

/// Every message of type `error`, as its XML (key `archivetest_errormessage`), to read what a server bounces.
#[payload(name = "message", ns = "jabber:client", key = "archivetest_errormessage")]
#[derive(Default)]
struct ErrorMessage;

impl Payload for ErrorMessage {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if stanza.attr("type").as_deref() == Some("error") {
            ctx.pack(stanza.to_xml()).deliver();
        }
        Ok(())
    }
}

/// Turns carbons on for a client and waits for the server's answer.
async fn enable_carbons(client: &Client) -> Result<()> {
    let mut enabled = client.xec().subscribe("carbons_enable_handle");
    client.xec().context().request(Enable)?;
    packet(&mut enabled).await;
    Ok(())
}

#[tokio::test]
async fn carbons_of_received_and_sent_messages_are_dispatched_as_the_message() -> Result<()> {
    for p in archiving_servers() {
        carbons_of_received_and_sent_messages_are_dispatched_as_the_message_on(p)
            .await
            .inspect_err(|e| eprintln!("on {}: {e}", p.kind()))?;
    }
    Ok(())
}

async fn carbons_of_received_and_sent_messages_are_dispatched_as_the_message_on(p: &Server) -> Result<()> {
    let (juliet_user, _, romeo) = cast(p).await?;
    let (balcony, chamber) = (juliet(p, &juliet_user, "balcony").await?, juliet(p, &juliet_user, "chamber").await?);
    available(&[&balcony, &chamber, &romeo]).await?;
    enable_carbons(&balcony).await?;
    enable_carbons(&chamber).await?;
    let (mut received, mut sent) = (chamber.xec().subscribe("carbonreceived"), chamber.xec().subscribe("carbonsent"));
    let mut chamber_bodies = chamber.xec().subscribe("body");
    let mut balcony_bodies = balcony.xec().subscribe("body");

    // Romeo writes to the balcony: the chamber gets the received carbon, its body dispatched as Romeo's message
    let to_balcony = message(&balcony.jid().to_string(), "chat", Some("Lady, by yonder blessed moon I swear"));
    romeo.xec().context().send(to_balcony)?;
    assert_eq!(packet(&mut balcony_bodies).await.from(), Some(romeo.jid().to_string().as_str()));
    let carbon = packet(&mut received).await;
    assert_eq!(carbon.from(), Some(p.jid(&juliet_user).as_str()), "the carbon comes from our bare JID");
    let c = carbon.content::<Carbon>().unwrap();
    assert_eq!(c.direction, Direction::Received);
    assert_eq!(c.message.attr("to").as_deref(), Some(balcony.jid().to_string().as_str()));
    let body = packet(&mut chamber_bodies).await;
    assert_eq!(body.content::<String>().map(String::as_str), Some("Lady, by yonder blessed moon I swear"));
    assert_eq!(body.from(), Some(romeo.jid().to_string().as_str()), "seen as Romeo's message");

    // Juliet writes from the balcony, asking for a receipt: the chamber gets the sent carbon and does not answer
    let mut receipts = balcony.xec().subscribe("receipt");
    let m = message(&romeo.jid().to_string(), "chat", Some("O, swear not by the moon"));
    balcony.xec().context().send(request_receipt(m, "moon-1"))?;
    let carbon = packet(&mut sent).await;
    let c = carbon.content::<Carbon>().unwrap();
    assert_eq!(c.direction, Direction::Sent);
    assert_eq!(c.message.attr("to").as_deref(), Some(romeo.jid().to_string().as_str()));
    let body = packet(&mut chamber_bodies).await;
    assert_eq!(body.content::<String>().map(String::as_str), Some("O, swear not by the moon"));
    assert_eq!(body.from(), Some(balcony.jid().to_string().as_str()), "seen as the balcony's message");
    // one receipt, Romeo's: none from the chamber for the copy of its own account's message
    let receipt = packet(&mut receipts).await;
    assert_eq!(receipt.from(), Some(romeo.jid().to_string().as_str()));
    assert_eq!(receipt.content::<Receipt>().map(|r| r.id.as_str()), Some("moon-1"));
    nothing_within_500ms(&mut receipts).await;
    Ok(())
}

#[tokio::test]
async fn a_forged_carbon_is_dropped_where_a_genuine_one_is_dispatched() -> Result<()> {
    for p in archiving_servers() {
        a_forged_carbon_is_dropped_where_a_genuine_one_is_dispatched_on(p)
            .await
            .inspect_err(|e| eprintln!("on {}: {e}", p.kind()))?;
    }
    Ok(())
}

async fn a_forged_carbon_is_dropped_where_a_genuine_one_is_dispatched_on(p: &Server) -> Result<()> {
    let (juliet_user, _, romeo) = cast(p).await?;
    let (balcony, chamber) = (juliet(p, &juliet_user, "balcony").await?, juliet(p, &juliet_user, "chamber").await?);
    available(&[&balcony, &chamber, &romeo]).await?;
    enable_carbons(&chamber).await?;
    let mut carbons = chamber.xec().subscribe("carbonreceived");
    let mut bodies = chamber.xec().subscribe("body");
    let mut shapes = chamber.xec().subscribe("archivetest_carbonshape");

    // Romeo sends the chamber a message shaped as a carbon of a message from Tybalt to the balcony
    let tybalt = format!("{}/street", p.jid("tybalt"));
    let inner = ElementBuilder::new("message", "jabber:client")
        .attr("from", tybalt.clone())
        .attr("to", balcony.jid().to_string())
        .attr("type", "chat")
        .text_child("body", "forged: meet me at the tomb");
    let wrapper = ElementBuilder::new("received", moxl::xep::xep_0280_carbons::NS).append(forward(inner, None));
    let forged = ElementBuilder::new("message", "jabber:client")
        .attr("to", chamber.jid().to_string())
        .attr("type", "chat")
        .append(wrapper);
    romeo.xec().context().send(forged)?;
    // it reached the chamber, from Romeo
    assert_eq!(packet(&mut shapes).await.from(), Some(romeo.jid().to_string().as_str()));

    // the same shape, genuine: Tybalt (here Romeo) writes to the balcony, the server sends the carbon
    romeo.xec().context().send(message(&balcony.jid().to_string(), "chat", Some("genuine: by the moon")))?;
    let carbon = packet(&mut carbons).await;
    assert_eq!(
        carbon.content::<Carbon>().unwrap().message.child_text("body", "jabber:client").as_deref(),
        Some("genuine: by the moon")
    );
    // the forged one was never dispatched: the first body seen is the genuine one's, and no other follows
    assert_eq!(packet(&mut bodies).await.content::<String>().map(String::as_str), Some("genuine: by the moon"));
    nothing_within_500ms(&mut bodies).await;
    assert!(carbons.try_recv().is_none());
    assert_eq!(packet(&mut shapes).await.from(), Some(p.jid(&juliet_user).as_str()), "the genuine one");
    Ok(())
}

#[tokio::test]
async fn a_blocked_contact_cannot_write_the_push_reaches_the_other_client_and_unblocking_restores() -> Result<()> {
    for p in archiving_servers() {
        a_blocked_contact_cannot_write_the_push_reaches_the_other_client_and_unblocking_restores_on(p)
            .await
            .inspect_err(|e| eprintln!("on {}: {e}", p.kind()))?;
    }
    Ok(())
}

async fn a_blocked_contact_cannot_write_the_push_reaches_the_other_client_and_unblocking_restores_on(
    p: &Server,
) -> Result<()> {
    let (juliet_user, romeo_user, romeo) = cast(p).await?;
    let (balcony, chamber) = (juliet(p, &juliet_user, "balcony").await?, juliet(p, &juliet_user, "chamber").await?);
    available(&[&balcony, &chamber, &romeo]).await?;
    let romeo_bare = p.jid(&romeo_user);
    // the chamber fetches the list, so that the server pushes changes to it (§3.3)
    let mut list = chamber.xec().subscribe("blocking_getblocklist_handle");
    chamber.xec().context().request(GetBlocklist)?;
    assert_eq!(packet(&mut list).await.content::<Vec<String>>(), Some(&Vec::new()));
    let (mut blocks, mut unblocks) = (chamber.xec().subscribe("blockpush"), chamber.xec().subscribe("unblockpush"));

    let mut blocked = balcony.xec().subscribe("blocking_block_handle");
    balcony.xec().context().request(Block::new([romeo_bare.clone()]))?;
    assert_eq!(packet(&mut blocked).await.content::<Vec<String>>(), Some(&vec![romeo_bare.clone()]));
    let push = packet(&mut blocks).await;
    assert_eq!(push.content::<BlocklistPush>().unwrap().jids, vec![romeo_bare.clone()]);
    chamber.xec().context().request(GetBlocklist)?;
    assert_eq!(packet(&mut list).await.content::<Vec<String>>(), Some(&vec![romeo_bare.clone()]));

    // Romeo cannot reach her; she cannot write to him either (§3.4: the blocked error)
    let mut bodies = balcony.xec().subscribe("body");
    romeo.xec().context().send(message(&balcony.jid().to_string(), "chat", Some("blocked words")))?;
    nothing_within_500ms(&mut bodies).await;
    let mut errors = balcony.xec().subscribe("blockederror");
    let mut bounces = balcony.xec().subscribe("archivetest_errormessage");
    balcony.xec().context().send(message(&romeo.jid().to_string(), "chat", Some("to a blocked contact")))?;
    let bounce = packet(&mut bounces).await.content::<String>().unwrap().clone();
    assert!(bounce.contains("<not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"), "{bounce}");
    match p.kind() {
        // §3.3: not-acceptable with <blocked xmlns='urn:xmpp:blocking:errors'/> (a MUST), the typed Packet
        ServerKind::Prosody => {
            let error = packet(&mut errors).await;
            assert_eq!(error.content::<StanzaError>().unwrap().condition(), Some(Condition::NotAcceptable));
        }
        // ejabberd 23.01 blocks through its privacy lists and leaves the <blocked/> condition out (a deviation
        // from the MUST): a plain not-acceptable, which is no `blockederror`
        _ => {
            assert!(!bounce.contains("urn:xmpp:blocking:errors"), "{bounce}");
            assert!(errors.try_recv().is_none());
        }
    }

    // unblock all: the push reaches the chamber, and Romeo's messages arrive again (ejabberd's bounce carried
    // the body back: a fresh subscription leaves it behind)
    let mut bodies = balcony.xec().subscribe("body");
    let mut unblocked = balcony.xec().subscribe("blocking_unblock_handle");
    balcony.xec().context().request(Unblock::all())?;
    packet(&mut unblocked).await;
    assert!(packet(&mut unblocks).await.content::<BlocklistPush>().unwrap().unblocks_all());
    romeo.xec().context().send(message(&balcony.jid().to_string(), "chat", Some("words again")))?;
    assert_eq!(packet(&mut bodies).await.content::<String>().map(String::as_str), Some("words again"));
    Ok(())
}

/// Romeo sends `bodies` to `to`, and waits until `to`'s client has them all (then they are archived).
async fn romeo_writes(romeo: &Client, to: &Client, bodies: &[String]) -> Result<()> {
    let mut seen = to.xec().subscribe("body");
    for body in bodies {
        romeo.xec().context().send(message(&to.jid().to_string(), "chat", Some(body)))?;
    }
    for body in bodies {
        assert_eq!(packet(&mut seen).await.content::<String>(), Some(body));
    }
    Ok(())
}

/// The body of each archived message of a page.
fn bodies(page: &Page) -> Vec<String> {
    page.messages.iter().map(|m| m.message.child_text("body", "jabber:client").unwrap_or_default()).collect()
}

#[tokio::test]
async fn the_catch_up_fetches_500_archived_messages_in_order_50_a_page() -> Result<()> {
    for p in archiving_servers() {
        the_catch_up_fetches_500_archived_messages_in_order_50_a_page_on(p)
            .await
            .inspect_err(|e| eprintln!("on {}: {e}", p.kind()))?;
    }
    Ok(())
}

async fn the_catch_up_fetches_500_archived_messages_in_order_50_a_page_on(p: &Server) -> Result<()> {
    let (juliet_user, _, romeo) = cast(p).await?;
    let balcony = juliet(p, &juliet_user, "balcony").await?;
    let sent: Vec<String> = (0..500).map(|i| format!("m{i:03}")).collect();
    romeo_writes(&romeo, &balcony, &sent).await?;

    let mut pages = balcony.xec().subscribe("mam_catchup_handle");
    let mut receipts_or_bodies = balcony.xec().subscribe("body");
    let whole = CatchUp::new(None, Filter::default(), 50).send(&balcony.xec().context())?;
    let (mut got, mut ids, mut numbers) = (Vec::new(), std::collections::HashSet::new(), Vec::new());
    loop {
        let packet = packet(&mut pages).await;
        let page = packet.content::<Page>().unwrap();
        numbers.push(page.number);
        if page.done {
            // the last Packet is the Output: the whole catch-up
            assert!(page.fin.complete);
            assert_eq!(bodies(page), sent, "all of them, in order, once");
            for m in &page.messages {
                assert!(ids.insert(m.id.clone()), "archive id {} twice", m.id);
                assert!(m.stamp.is_some(), "archived with its time");
                assert_eq!(m.message.attr("from").as_deref(), Some(romeo.jid().to_string().as_str()));
            }
            break;
        }
        got.extend(bodies(page));
    }
    // A chain of Actions delivers once, from its last step: no Packet for the pages handed on.
    assert!(got.is_empty(), "the pages before the last are not Packets of their own");
    assert_eq!(numbers, [10], "ten pages of 50, delivered as one");
    // the typed view: awaiting the first page's request gives the whole catch-up
    let whole = whole.await?;
    assert_eq!((bodies(&whole), whole.number, whole.done), (sent.clone(), 10, true));
    // history is not dispatched as live messages
    nothing_within_500ms(&mut receipts_or_bodies).await;

    // a limit stops the catch-up early
    let limited = CatchUp::new(None, Filter::default(), 50).limit(120).send(&balcony.xec().context())?.await?;
    assert_eq!(bodies(&limited), sent[..120]);
    Ok(())
}

#[tokio::test]
async fn a_filtered_query_returns_only_the_matching_messages_and_prefs_are_kept() -> Result<()> {
    for p in archiving_servers() {
        a_filtered_query_returns_only_the_matching_messages_and_prefs_are_kept_on(p)
            .await
            .inspect_err(|e| eprintln!("on {}: {e}", p.kind()))?;
    }
    Ok(())
}

async fn a_filtered_query_returns_only_the_matching_messages_and_prefs_are_kept_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user, romeo) = cast(p).await?;
    let balcony = juliet(p, &juliet_user, "balcony").await?;
    let early: Vec<String> = (0..5).map(|i| format!("early {i}")).collect();
    let late: Vec<String> = (0..5).map(|i| format!("late {i}")).collect();
    romeo_writes(&romeo, &balcony, &early).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    romeo_writes(&romeo, &balcony, &late).await?;
    let mut pages = balcony.xec().subscribe("mam_query_handle");
    let ctx = balcony.xec().context();

    let romeo_bare = p.jid(&romeo_user);
    Query::new(None, Filter::default().with(romeo_bare.clone()), SetQuery::max(50)).send(&ctx)?;
    let all = packet(&mut pages).await;
    let all = all.content::<Page>().unwrap();
    assert_eq!(bodies(all), [early.clone(), late.clone()].concat());
    assert!(all.fin.complete);
    // with someone else: nothing
    Query::new(None, Filter::default().with(p.jid("tybalt")), SetQuery::max(50)).send(&ctx)?;
    assert!(packet(&mut pages).await.content::<Page>().unwrap().messages.is_empty());
    // from the time of the first late message on: the late ones
    let start = all.messages[5].stamp.clone().unwrap();
    Query::new(None, Filter::default().with(romeo_bare.clone()).start(start.clone()), SetQuery::max(50)).send(&ctx)?;
    assert_eq!(bodies(packet(&mut pages).await.content::<Page>().unwrap()), late);
    // up to the last early one: the early ones
    let end = all.messages[4].stamp.clone().unwrap();
    Query::new(None, Filter::default().end(end), SetQuery::max(50)).send(&ctx)?;
    assert_eq!(bodies(packet(&mut pages).await.content::<Page>().unwrap()), early);
    // a page of 3 from the end (RSM last page), then the one before it
    Query::new(None, Filter::default(), SetQuery::max(3).last_page()).send(&ctx)?;
    let last = packet(&mut pages).await;
    let last = last.content::<Page>().unwrap();
    assert_eq!(bodies(last), late[2..]);
    let first = last.fin.set.first.clone().unwrap();
    Query::new(None, Filter::default(), SetQuery::max(3).before(first)).send(&ctx)?;
    assert_eq!(bodies(packet(&mut pages).await.content::<Page>().unwrap()), ["early 4", "late 0", "late 1"]);

    // preferences: set, then read back
    let mut set = balcony.xec().subscribe("mam_setprefs_handle");
    let mut got = balcony.xec().subscribe("mam_getprefs_handle");
    let wanted = Prefs { default: DefaultPolicy::Always, always: vec![], never: vec![p.jid("tybalt")] };
    ctx.request(SetPrefs(wanted.clone()))?;
    assert_eq!(packet(&mut set).await.content::<Prefs>(), Some(&wanted));
    ctx.request(GetPrefs)?;
    assert_eq!(packet(&mut got).await.content::<Prefs>(), Some(&wanted));
    Ok(())
}

/// A result message for `queryid` from the sender's client to `to`, carrying a chat message with `body`.
fn mam_result(to: &str, queryid: &str, id: &str, body: &str) -> ElementBuilder {
    let archived = message("juliet@localhost", "chat", Some(body)).attr("from", "nurse@localhost/kitchen");
    let result = ElementBuilder::new("result", moxl::xep::xep_0313_mam::NS)
        .attr("queryid", queryid.to_owned())
        .attr("id", id.to_owned())
        .append(forward(archived, Some("2010-07-10T23:08:25Z")));
    ElementBuilder::new("message", "jabber:client").attr("to", to.to_owned()).append(result)
}

#[tokio::test]
async fn results_are_taken_only_from_the_queried_archive() -> Result<()> {
    for p in archiving_servers() {
        results_are_taken_only_from_the_queried_archive_on(p)
            .await
            .inspect_err(|e| eprintln!("on {}: {e}", p.kind()))?;
    }
    Ok(())
}

async fn results_are_taken_only_from_the_queried_archive_on(p: &Server) -> Result<()> {
    let (juliet_user, _, romeo) = cast(p).await?;
    let balcony = juliet(p, &juliet_user, "balcony").await?;
    // Romeo's client plays the archive Juliet queries; Tybalt knows the queryid and answers too
    let tybalt = client(p, &fresh_account(p, "tybalt"), "secret").connect().await?;
    let mut queries = romeo.xec().subscribe("archivetest_mamquery");
    let mut pages = balcony.xec().subscribe("mam_query_handle");

    let q = Query::new(Some(romeo.jid().to_string()), Filter::default(), SetQuery::max(10));
    let queryid = q.queryid().to_owned();
    q.send(&balcony.xec().context())?;
    let iq = packet(&mut queries).await;
    let iq = iq.content::<Element>().unwrap();
    assert_eq!(
        iq.child("query", moxl::xep::xep_0313_mam::NS).unwrap().attr("queryid").as_deref(),
        Some(queryid.as_str())
    );

    let to = balcony.jid().to_string();
    tybalt.xec().context().send(mam_result(&to, &queryid, "t1", "forged by Tybalt"))?;
    romeo.xec().context().send(mam_result(&to, &queryid, "r1", "from the archive"))?;
    romeo.xec().context().send(mam_result(&to, "another-query", "r2", "not asked for"))?;
    // Tybalt's message reaches Juliet before the archive's answer
    let mut incoming = balcony.xec().events::<IncomingMessage>();
    tybalt.xec().context().send(message(&to, "chat", Some("marker")))?;
    let marker =
        tokio::time::timeout(Duration::from_secs(5), incoming.recv()).await.expect("the marker").expect("open");
    assert_eq!(marker.from(), Some(tybalt.jid().to_string().as_str()));
    assert_eq!(marker.body(), Some("marker"));
    let fin = ElementBuilder::new("fin", moxl::xep::xep_0313_mam::NS).attr("complete", "true");
    romeo.xec().context().send(iq_result(iq).append(fin))?;

    let page = packet(&mut pages).await;
    let page = page.content::<Page>().unwrap();
    assert_eq!(bodies(page), ["from the archive"]);
    assert_eq!(page.messages[0].archive.as_deref(), Some(romeo.jid().to_string().as_str()));
    assert!(page.fin.complete);
    Ok(())
}

/// The MAM namespaces among `features`, sorted.
fn mam_namespaces(mut features: Vec<String>) -> Vec<String> {
    features.retain(|f| f.starts_with("urn:xmpp:mam:"));
    features.sort();
    features
}

/// Which archive namespaces each server lists (XEP-0313 §6.1: on the account's bare JID, and on the MUC service):
/// both `urn:xmpp:mam:2`, which moxl picks; Prosody also `#extended` on the account, ejabberd the older `:0`, `:1`
/// and the experimental `:tmp`.
#[tokio::test]
async fn each_server_lists_its_archive_namespaces() -> Result<()> {
    for p in archiving_servers() {
        let (juliet_user, _, _) = cast(p).await?;
        let balcony = juliet(p, &juliet_user, "balcony").await?;
        let account = mam_namespaces(features_of(&balcony, &p.jid(&juliet_user)).await);
        let service = mam_namespaces(features_of(&balcony, p.muc_domain().unwrap()).await);
        let (want_account, want_service): (&[&str], &[&str]) = match p.kind() {
            ServerKind::Prosody => (&["urn:xmpp:mam:2", "urn:xmpp:mam:2#extended"], &["urn:xmpp:mam:2"]),
            _ => (
                &["urn:xmpp:mam:0", "urn:xmpp:mam:1", "urn:xmpp:mam:2", "urn:xmpp:mam:tmp"],
                &["urn:xmpp:mam:0", "urn:xmpp:mam:1", "urn:xmpp:mam:2", "urn:xmpp:mam:tmp"],
            ),
        };
        assert_eq!(account, want_account, "{} account", p.kind());
        assert_eq!(service, want_service, "{} MUC service", p.kind());
        assert_eq!(best_namespace(account.iter().map(String::as_str)), mam::NS);
    }
    Ok(())
}

/// A room name on `p`'s MUC service not used by another test.
fn fresh_room(p: &Server, name: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{name}-{n}@{}", p.muc_domain().expect("the test server has a MUC service"))
}

#[tokio::test]
async fn a_rooms_archive_is_queried_at_the_room() -> Result<()> {
    for p in archiving_servers() {
        a_rooms_archive_is_queried_at_the_room_on(p).await.inspect_err(|e| eprintln!("on {}: {e}", p.kind()))?;
    }
    Ok(())
}

async fn a_rooms_archive_is_queried_at_the_room_on(p: &Server) -> Result<()> {
    let (juliet_user, _, _) = cast(p).await?;
    let balcony = juliet(p, &juliet_user, "balcony").await?;
    let ctx = balcony.xec().context();
    let room = fresh_room(p, "vault");
    ctx.request(Join::new(&room, "juliet").history(History::none()))?.await?;
    ctx.request(Configure::instant(&room))?.await?;
    // the room says it keeps an archive (XEP-0313 §6.1.1: its disco#info lists the namespace)
    let features = features_of(&balcony, &room).await;
    assert!(features.iter().any(|f| f == mam::NS), "{} room: {features:?}", p.kind());

    let said: Vec<String> = (0..3).map(|i| format!("vault {i}")).collect();
    let mut echoes = balcony.xec().subscribe("mucmessage");
    for body in &said {
        ctx.send(muc::groupchat(&room, body))?;
    }
    for body in &said {
        let echo = packet(&mut echoes).await;
        assert_eq!(echo.content::<GroupchatMessage>().map(|m| m.body.as_str()), Some(body.as_str()));
    }
    let ns = best_namespace(features.iter().map(String::as_str));
    let page = Query::new(Some(room.clone()), Filter::default(), SetQuery::max(10)).namespace(ns).send(&ctx)?.await?;
    assert_eq!(bodies(&page), said);
    assert!(page.fin.complete);
    for m in &page.messages {
        assert_eq!(m.archive.as_deref(), Some(room.as_str()));
        assert_eq!(m.message.attr("from").as_deref(), Some(muc::occupant_jid(&room, "juliet").as_str()));
    }
    Ok(())
}
