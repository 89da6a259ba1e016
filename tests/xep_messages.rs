//! Message extensions between two clients through both real servers (Prosody and ejabberd), on fresh accounts:
//! chat states (XEP-0085), delivery receipts answered by the client itself (XEP-0184), origin and stanza ids
//! (XEP-0359), chat markers (XEP-0333), and the payloads Movim sends in messages: references (XEP-0372), stateless
//! inline media sharing (XEP-0385) and message attaching (XEP-0367), each read as its typed view on arrival.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{client, fresh_account, jid, packet, servers};
use moxl::prelude::*;
use moxl::xec::PacketStream;
use moxl::xec::{Event, EventStream};
use moxl::xep::xep_0085_chat_states::{with_chat_state, ChatState, ChatStateNotification};
use moxl::xep::xep_0184_receipts::{request_receipt, Receipt};
use moxl::xep::xep_0300_hashes::{Algo, Hash, Verdict};
use moxl::xep::xep_0333_markers::{mark, markable, ChatMarker, Marker};
use moxl::xep::xep_0359_stable_ids::{self as sid, origin_id, stanza_id, with_origin_id, StanzaId};
use moxl::xep::xep_0367_attaching::{attach_to, id_to_attach_to, Attachment};
use moxl::xep::xep_0372_references::{ReceivedReference, RefType, Reference};
use moxl::xep::xep_0385_sims::{MediaSharing, SharedMedia};
use moxl::xep::xep_0446_file_metadata::FileMetadata;
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

/// The next typed event on `stream`, within 5 s.
async fn event<T: Send + Sync + 'static>(stream: &mut EventStream<T>) -> Event<T> {
    tokio::time::timeout(Duration::from_secs(5), stream.recv()).await.expect("an event within 5 s").expect("open")
}

#[tokio::test]
async fn references_shared_media_and_attachments_arrive_as_typed_views() -> Result<()> {
    for p in servers() {
        references_shared_media_and_attachments_arrive_as_typed_views_on(p).await?;
    }
    Ok(())
}

/// Juliet mentions Romeo (XEP-0372 §3.2), shares a picture with him (XEP-0385 §4.1, with a SHA-256 of its bytes)
/// and attaches a caption to that message (XEP-0367 §3, by its id as §4.1 asks outside rooms); each arrives
/// through the server as its typed event, as sent.
async fn references_shared_media_and_attachments_arrive_as_typed_views_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let juliet = client(p, &juliet_user, "secret").connect().await?;
    let romeo = client(p, &romeo_user, "secret").connect().await?;
    let mut references = romeo.xec().events::<ReceivedReference>();
    let mut media = romeo.xec().events::<SharedMedia>();
    let mut attachments = romeo.xec().events::<Attachment>();
    let (to, romeo_bare, from) = (romeo.jid().to_string(), romeo.jid().to_bare().to_string(), juliet.jid().to_string());

    let body = "Hello Romeo, come to the balcony";
    let mention = Reference::mention(&romeo_bare).span(6, 11);
    juliet.xec().context().send(message(&to, "chat", Some(body)).append(mention.to_element()))?;
    let r = event(&mut references).await;
    assert_eq!((r.from.as_deref(), r.body.as_deref()), (Some(from.as_str()), Some(body)), "{}", p.kind());
    assert_eq!(r.reference, mention, "{}", p.kind());
    assert_eq!((&r.reference.kind, r.reference.text_in(body)), (&RefType::Mention, Some("Romeo")));
    assert_eq!(r.reference.mentioned(), Some(romeo_bare.clone()));

    let bytes = b"not really a JPEG, but hashed all the same";
    let mut file = FileMetadata::default();
    file.name = Some("balcony.jpg".into());
    file.media_type = Some("image/jpeg".into());
    file.size = Some(bytes.len() as u64);
    file.hashes.push(Hash::compute(Algo::Sha256, bytes).unwrap());
    let url = format!("https://upload.{}/balcony.jpg", p.domain());
    let sharing = MediaSharing::new(file, [url.as_str()]).span(0, url.chars().count());
    let shared = message(&to, "chat", Some(&url)).attr("id", "sims-1").append(sharing.to_element()).build()?;
    let attach_id = id_to_attach_to(&shared).unwrap();
    juliet.xec().context().send(shared)?;
    let m = event(&mut media).await;
    assert_eq!((m.from.as_deref(), m.id.as_deref()), (Some(from.as_str()), Some("sims-1")), "{}", p.kind());
    assert_eq!(m.sharing, sharing, "{}", p.kind());
    assert_eq!(m.sharing.urls(), [url.as_str()]);
    assert_eq!(m.sharing.check(bytes), Verdict::Verified);
    assert!(matches!(m.sharing.check(b"tampered"), Verdict::Mismatch(Algo::Sha256)));

    juliet.xec().context().send(message(&to, "chat", Some("the view from below")).append(attach_to(attach_id)))?;
    let a = event(&mut attachments).await;
    assert_eq!((a.from.as_deref(), a.attached_to.as_str()), (Some(from.as_str()), "sims-1"), "{}", p.kind());
    assert_eq!(a.body.as_deref(), Some("the view from below"));
    // the sharing's own reference is SIMS's, not a XEP-0372 reference of its own: the mention came alone
    assert!(tokio::time::timeout(Duration::from_millis(300), references.recv()).await.is_err(), "{}", p.kind());
    Ok(())
}
