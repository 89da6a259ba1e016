//! The typed layer against a real Prosody: awaited requests (each concurrent request gets its own answer; an
//! error reply, a timeout and a disconnection are each their own error), subscriptions made before `connect`,
//! and dispatch that a nested stanza cannot fool. (A slow handler: `tests/slow_handler.rs`.)

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{builder, jid, packet, Log};
use moxl::client::{Client, ConnectionState};
use moxl::prelude::*;
use moxl::xec::XecBuilder;
use moxl_test_support::Prosody;

fn server() -> Prosody {
    Prosody::builder()
        .account("juliet", "secret")
        .account("romeo", "montague")
        .account("nurse", "angelica")
        .start()
        .expect("Prosody starts (bash scripts/install-test-deps.sh)")
}

/// Disco#info of an entity: the category/type of its first identity (XEP-0030 §3.1).
#[derive(Serialize, Deserialize)]
struct Identity {
    to: String,
}

#[action(group = "typedtest")]
impl Identity {
    type Output = String;

    fn request(&self) -> ElementBuilder {
        iq_get(Some(&self.to)).append(ElementBuilder::new("query", "http://jabber.org/protocol/disco#info"))
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<String> {
        let identity = stanza
            .child("query", "http://jabber.org/protocol/disco#info")
            .and_then(|q| q.child("identity", "http://jabber.org/protocol/disco#info"))
            .ok_or_else(|| Error::handler("no identity"))?;
        Ok(format!("{}/{}", identity.attr("category").unwrap_or_default(), identity.attr("type").unwrap_or_default()))
    }
}

/// A chat message sent as an Action: nobody answers it with its id, so only a timeout or the end of the session
/// can end it.
#[derive(Serialize, Deserialize)]
struct Unanswered {
    to: String,
}

#[action(group = "typedtest")]
impl Unanswered {
    fn request(&self) -> ElementBuilder {
        message(&self.to, "chat", Some("no reply"))
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) {}
}

/// A stanza-level handler, as an application writes one: logs `from: body` of each top-level message.
#[payload(name = "message", ns = "jabber:client", key = "typedtest_message")]
#[derive(Default)]
struct TopLevelMessage;

impl Payload for TopLevelMessage {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        if let (Some(log), Some(body)) = (ctx.get::<Log>(), element.child_text("body", "jabber:client")) {
            log.push(format!("{}: {body}", element.attr("from").unwrap_or_default()));
        }
        Ok(())
    }
}

async fn connect(p: &Prosody, user: &str, password: &str, xec: XecBuilder) -> Client {
    builder(p, user, password).xec(xec).connect().await.unwrap()
}

#[tokio::test]
async fn requests_are_awaited_with_their_own_answer_or_their_own_error() {
    let p = server();
    let juliet = connect(&p, "juliet", "secret", Xec::builder()).await;
    let romeo = connect(&p, "romeo", "montague", Xec::builder()).await;
    let ctx = juliet.xec().context();

    // Two concurrent requests of one kind: each gets its own answer.
    let server = ctx.request(Identity { to: p.domain().to_owned() }).unwrap();
    let client = ctx.request(Identity { to: romeo.jid().to_string() }).unwrap();
    let (server, client) = tokio::join!(server, client);
    assert_eq!(server.unwrap(), "server/im");
    assert_eq!(client.unwrap(), "client/pc");

    // An error reply: the typed stanza error (a full JID that is not online).
    let absent = format!("{}/nobody", jid(&p, "romeo"));
    match ctx.request(Identity { to: absent }).unwrap().await {
        Err(Error::Stanza(e)) => assert!(e.condition().is_some(), "{e:?}"),
        other => panic!("expected a stanza error, got {other:?}"),
    }

    // No reply in time: a timeout.
    let to = romeo.jid().to_string();
    let late = ctx.request_with_timeout(Unanswered { to: to.clone() }, Duration::from_millis(300)).unwrap();
    assert!(matches!(late.await, Err(Error::Timeout(_))));

    // The session ends before the reply: a disconnection.
    let pending = ctx.request(Unanswered { to }).unwrap();
    juliet.close().await;
    assert!(matches!(pending.await, Err(Error::Disconnected(_))));
    romeo.close().await;
}

#[tokio::test]
async fn a_subscription_made_before_connect_sees_the_first_message() {
    let p = server();
    // Sent while juliet is offline: the server delivers it as soon as her session starts.
    let romeo = connect(&p, "romeo", "montague", Xec::builder()).await;
    let chat = message(&jid(&p, "juliet").to_string(), "chat", Some("before you came"));
    romeo.xec().context().send(chat).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let juliet = builder(&p, "juliet", "secret");
    let mut bodies = juliet.subscribe("body");
    let mut states = juliet.events::<ConnectionState>();
    let juliet = juliet.connect().await.unwrap();
    juliet.xec().context().send(presence(None, None)).unwrap(); // offline messages come after it
    assert_eq!(packet(&mut bodies).await.content::<String>().map(String::as_str), Some("before you came"));
    // The typed view of the connection state, from the first attempt on.
    let first = tokio::time::timeout(Duration::from_secs(5), states.recv()).await.unwrap().unwrap();
    assert_eq!(*first, ConnectionState::Connecting);
    let mut seen = vec![];
    while let Some(state) = states.try_recv() {
        seen.push((*state).clone());
    }
    assert!(seen.iter().any(|s| matches!(s, ConnectionState::Online(_))), "{seen:?}");
    juliet.close().await;
    romeo.close().await;
}

#[tokio::test]
async fn a_nested_message_with_a_forged_sender_reaches_no_stanza_level_handler() {
    let p = server();
    let log = Log::default();
    let juliet = connect(&p, "juliet", "secret", Xec::builder().extension(log.clone())).await;
    let romeo = connect(&p, "romeo", "montague", Xec::builder()).await;
    let mut bodies = juliet.xec().subscribe("body");

    // A stranger wraps a message "from juliet's bank" in a forwarding element and a wrapper of its own.
    let forged = "<message xmlns='jabber:client' from='bank@capulet.lit' to='juliet@capulet.lit'>\
                  <body>send me your password</body></message>";
    let to = juliet.jid().to_string();
    for wrapper in [("forwarded", "urn:xmpp:forward:0"), ("wrapper", "urn:example:anything")] {
        let outer = message(&to, "chat", None)
            .append(ElementBuilder::new(wrapper.0, wrapper.1).append(Element::parse(forged).unwrap()))
            .text_child("body", format!("outer {}", wrapper.0));
        romeo.xec().context().send(outer).unwrap();
        // the child-level Body handler sees the outer body only
        let body = packet(&mut bodies).await;
        assert_eq!(body.content::<String>().unwrap(), &format!("outer {}", wrapper.0));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let romeo_jid = romeo.jid().to_string();
    let top_level: Vec<String> = log.lines().into_iter().filter(|l| !l.starts_with("body: ")).collect();
    assert_eq!(top_level, [format!("{romeo_jid}: outer forwarded"), format!("{romeo_jid}: outer wrapper")]);
    assert!(bodies.try_recv().is_none(), "the nested body is not the message's");
    juliet.close().await;
    romeo.close().await;
}
