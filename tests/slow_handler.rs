//! A handler that takes 5 s holds neither another session of the process nor its own session's answers to the
//! server's stream-management requests (XEP-0198 §4), against a real Prosody. Its own test binary: it installs a
//! global tracing subscriber to see when the client answers `<r/>`.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{builder, packet};
use moxl::prelude::*;
use moxl_test_support::Prosody;
use tokio::time::Instant;
use tracing_subscriber::layer::SubscriberExt;

const NS_TEST: &str = "urn:example:moxl-slow";

/// When the slow handler ran.
#[derive(Default)]
struct Slow(Mutex<Option<(Instant, Instant)>>);

/// Sleeps 5 s on `<slow/>` when the session has a [`Slow`] (the others only note it).
#[payload(name = "slow", ns = "urn:example:moxl-slow")]
#[derive(Default)]
struct SlowHandler;

impl Payload for SlowHandler {
    async fn handle(&mut self, ctx: &Context, _element: &Element, _stanza: &Element) -> Result<()> {
        if let Some(slow) = ctx.get::<Arc<Slow>>() {
            let start = Instant::now();
            tokio::time::sleep(Duration::from_secs(5)).await;
            *slow.0.lock().unwrap() = Some((start, Instant::now()));
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_slow_handler_holds_neither_other_sessions_nor_ack_answers() {
    // Record when the client answers the server's <r/> (the "ack request answered" event; only juliet's session
    // uses stream management here).
    let acks = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let subscriber = tracing_subscriber::registry().with(AckRecorder(Arc::clone(&acks)));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let p = Prosody::builder()
        .account("juliet", "secret")
        .account("romeo", "montague")
        .account("nurse", "angelica")
        .start()
        .expect("Prosody starts (bash scripts/install-test-deps.sh)");
    let slow = Arc::new(Slow::default());
    let juliet =
        builder(&p, "juliet", "secret").xec(Xec::builder().extension(Arc::clone(&slow))).connect().await.unwrap();
    assert!(juliet.stream_management().is_some(), "the test needs XEP-0198 on juliet's session");
    let romeo = builder(&p, "romeo", "montague").stream_management(false).connect().await.unwrap();
    let nurse = builder(&p, "nurse", "angelica").stream_management(false).connect().await.unwrap();
    let mut romeo_bodies = romeo.xec().subscribe("body");

    let sent = Instant::now();
    let slow_message = message(&juliet.jid().to_string(), "chat", None).append(ElementBuilder::new("slow", NS_TEST));
    nurse.xec().context().send(slow_message).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    nurse.xec().context().send(message(&romeo.jid().to_string(), "chat", Some("hello"))).unwrap();
    // More for juliet while her handler sleeps: the server asks her to acknowledge it (XEP-0198 §4).
    nurse.xec().context().send(message(&juliet.jid().to_string(), "chat", Some("are you there?"))).unwrap();
    packet(&mut romeo_bodies).await;
    let romeo_got = sent.elapsed();
    assert!(romeo_got < Duration::from_secs(2), "romeo's message took {romeo_got:?} behind juliet's slow handler");

    tokio::time::sleep(Duration::from_secs(6)).await;
    let (start, end) = slow.0.lock().unwrap().expect("the slow handler ran");
    let answered_meanwhile = acks.lock().unwrap().iter().filter(|t| **t > start && **t < end).count();
    let times: Vec<_> = acks.lock().unwrap().iter().map(|t| t.saturating_duration_since(sent)).collect();
    assert!(
        answered_meanwhile > 0,
        "no <r/> answered while the handler slept ({:?} to {:?}): {times:?}",
        start - sent,
        end - sent
    );
    eprintln!(
        "romeo's message after {romeo_got:?}; {answered_meanwhile} ack request(s) answered during the 5 s handler"
    );
    juliet.close().await;
    romeo.close().await;
    nurse.close().await;
}

/// A tracing layer noting the time of each "ack request answered" event.
struct AckRecorder(Arc<Mutex<Vec<Instant>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for AckRecorder {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(bool);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" && format!("{value:?}") == "ack request answered" {
                    self.0 = true;
                }
            }
        }
        let mut message = Message(false);
        event.record(&mut message);
        if message.0 {
            self.0.lock().unwrap().push(Instant::now());
        }
    }
}
