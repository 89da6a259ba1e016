//! Message extensions between two clients through both real servers (Prosody and ejabberd), on fresh accounts:
//! chat states (XEP-0085), delivery receipts answered by the client itself (XEP-0184), origin and stanza ids
//! (XEP-0359), and chat markers (XEP-0333).

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{client, fresh_account, jid, packet, servers};
use moxl::prelude::*;
use moxl::xec::PacketStream;
use moxl::xep::xep_0085_chat_states::{with_chat_state, ChatState, ChatStateNotification};
use moxl::xep::xep_0184_receipts::{request_receipt, Receipt};
use moxl::xep::xep_0333_markers::{mark, markable, ChatMarker, Marker};
use moxl::xep::xep_0359_stable_ids::{self as sid, origin_id, stanza_id, with_origin_id, StanzaId};
use moxl_test_support::Server;

/// Every message with an origin id, delivered whole (to read its ids in the test).
#[payload(name = "origin-id", ns = "urn:xmpp:sid:0")]
#[derive(Default)]
struct WithOriginId;

impl Payload for WithOriginId {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        ctx.pack(stanza.clone()).deliver();
        Ok(())
    }
}

/// Every markable message, delivered whole (for the application to mark it).
#[payload(name = "markable", ns = "urn:xmpp:chat-markers:0")]
#[derive(Default)]
struct MarkableSeen;

impl Payload for MarkableSeen {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        ctx.pack(stanza.clone()).deliver();
        Ok(())
    }
}

/// Every `<received/>` of XEP-0184 that reaches the client, whatever the type of its message (the library's
/// `receipt` Packet leaves out error-type messages, which would hide an answer to an error message).
#[payload(name = "received", ns = "urn:xmpp:receipts")]
#[derive(Default)]
struct AnyAck;

impl Payload for AnyAck {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        ctx.pack(stanza.clone()).deliver();
        Ok(())
    }
}

/// No Packet on `stream` for 500 ms.
async fn nothing_within_500ms(stream: &mut PacketStream) {
    if let Ok(p) = tokio::time::timeout(Duration::from_millis(500), stream.recv()).await {
        panic!("unexpected packet: {p:?}");
    }
}

#[tokio::test]
async fn chat_state_and_receipt_request_are_delivered_and_answered() -> Result<()> {
    for p in servers() {
        chat_state_and_receipt_request_are_delivered_and_answered_on(p).await?;
    }
    Ok(())
}

async fn chat_state_and_receipt_request_are_delivered_and_answered_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let juliet = client(p, &juliet_user, "secret").connect().await?;
    let romeo = client(p, &romeo_user, "secret").connect().await?;
    let (mut states, mut bodies) = (romeo.xec().subscribe("chatstate"), romeo.xec().subscribe("body"));
    let mut receipts = juliet.xec().subscribe("receipt");

    let m = message(&romeo.jid().to_string(), "chat", Some("Wherefore art thou Romeo?"));
    juliet.xec().context().send(request_receipt(with_chat_state(m, ChatState::Composing), "balcony-1"))?;

    let state = packet(&mut states).await;
    let n = state.content::<ChatStateNotification>().unwrap();
    assert_eq!(n.state, ChatState::Composing);
    assert_eq!(n.from.as_deref(), Some(juliet.jid().to_string().as_str()));
    assert_eq!(n.thread, None);
    assert_eq!(state.from(), Some(juliet.jid().to_string().as_str()));
    assert_eq!(packet(&mut bodies).await.content::<String>().map(String::as_str), Some("Wherefore art thou Romeo?"));

    // Romeo's client answered by itself; Juliet's client delivers the receipt for her message id
    let receipt = packet(&mut receipts).await;
    assert_eq!(receipt.content::<Receipt>().map(|r| r.id.as_str()), Some("balcony-1"));
    assert_eq!(receipt.from(), Some(romeo.jid().to_string().as_str()));
    assert_eq!(receipt.content::<Receipt>().and_then(|r| r.from.clone()), Some(romeo.jid().to_string()));
    // one receipt only
    nothing_within_500ms(&mut receipts).await;
    Ok(())
}

#[tokio::test]
async fn groupchat_and_error_messages_get_no_receipt() -> Result<()> {
    for p in servers() {
        groupchat_and_error_messages_get_no_receipt_on(p).await?;
    }
    Ok(())
}

async fn groupchat_and_error_messages_get_no_receipt_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let juliet = client(p, &juliet_user, "secret").connect().await?;
    let romeo = client(p, &romeo_user, "secret").connect().await?;
    let mut bodies = romeo.xec().subscribe("body");
    let mut acks = juliet.xec().subscribe("anyack");
    let mut receipts = juliet.xec().subscribe("receipt");
    let to = romeo.jid().to_string();

    for (kind, id) in [("groupchat", "g-1"), ("error", "e-1")] {
        let text = format!("a {kind} message");
        juliet.xec().context().send(request_receipt(message(&to, kind, Some(&text)), id))?;
        // it reached Romeo's client…
        assert_eq!(packet(&mut bodies).await.content::<String>(), Some(&text), "{kind}");
        // …which did not answer
        nothing_within_500ms(&mut acks).await;
    }
    // the same request on a chat message is answered: the first receipt to arrive is for it
    juliet.xec().context().send(request_receipt(message(&to, "chat", Some("and a chat")), "c-1"))?;
    let receipt = packet(&mut receipts).await;
    assert_eq!(receipt.content::<Receipt>().map(|r| r.id.as_str()), Some("c-1"));
    let ack = packet(&mut acks).await;
    assert_eq!(ack.content::<Element>().and_then(|m| m.attr("type").map(|t| t.into_owned())).as_deref(), Some("chat"));
    assert!(receipts.try_recv().is_none());
    Ok(())
}

#[tokio::test]
async fn origin_ids_arrive_and_forged_stanza_ids_are_not_trusted() -> Result<()> {
    for p in servers() {
        origin_ids_arrive_and_forged_stanza_ids_are_not_trusted_on(p).await?;
    }
    Ok(())
}

async fn origin_ids_arrive_and_forged_stanza_ids_are_not_trusted_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let juliet = client(p, &juliet_user, "secret").connect().await?;
    let romeo = client(p, &romeo_user, "secret").connect().await?;
    let mut marked = romeo.xec().subscribe("withoriginid");
    let someone_else = jid(p, "tybalt").to_string();

    let forged = ElementBuilder::new("stanza-id", sid::NS).attr("id", "forged-1").attr("by", someone_else.clone());
    let m = with_origin_id(message(&romeo.jid().to_string(), "chat", Some("marked")), "oid-5f0a1c5e");
    juliet.xec().context().send(m.append(forged))?;

    let delivered = packet(&mut marked).await;
    let stanza = delivered.content::<Element>().unwrap();
    assert_eq!(delivered.from(), Some(juliet.jid().to_string().as_str()));
    assert_eq!(origin_id(stanza).as_deref(), Some("oid-5f0a1c5e"));
    // the forged id came through, claiming `someone_else`…
    let ids = StanzaId::all_in(stanza);
    assert_eq!(ids.len(), 1, "{stanza}");
    assert_eq!(ids[0].id_by(&someone_else), Some("forged-1"));
    // …and is not what Romeo's server stamped
    let own = romeo.jid().to_bare().to_string();
    assert_eq!(ids[0].id_by(&own), None);
    assert_eq!(stanza_id(stanza, &own), None);
    assert_eq!(stanza_id(stanza, p.domain()), None);
    Ok(())
}

#[tokio::test]
async fn a_markable_message_is_marked_displayed_by_the_application() -> Result<()> {
    for p in servers() {
        a_markable_message_is_marked_displayed_by_the_application_on(p).await?;
    }
    Ok(())
}

async fn a_markable_message_is_marked_displayed_by_the_application_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let juliet = client(p, &juliet_user, "secret").connect().await?;
    let romeo = client(p, &romeo_user, "secret").connect().await?;
    let mut markables = romeo.xec().subscribe("markableseen");
    let mut markers = juliet.xec().subscribe("chatmarker");

    let m = message(&romeo.jid().to_string(), "chat", Some("Good night, good night!")).text_child("thread", "act2");
    juliet.xec().context().send(markable(m, "night-1"))?;
    let seen = packet(&mut markables).await;
    let stanza = seen.content::<Element>().unwrap();
    // nothing is marked by itself
    nothing_within_500ms(&mut markers).await;

    romeo.xec().context().send(mark(stanza, Marker::Displayed).unwrap())?;
    let marker = packet(&mut markers).await;
    let m = marker.content::<ChatMarker>().unwrap();
    assert_eq!((m.marker, m.id.as_str(), m.thread.as_deref()), (Marker::Displayed, "night-1", Some("act2")));
    assert_eq!(marker.from(), Some(romeo.jid().to_string().as_str()));
    Ok(())
}
