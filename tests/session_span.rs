//! One `tracing` span per session: every task of a session (reader, writer, pinger, timers, supervisor, lease
//! renewal) runs in the client's `xmpp` span, so in a process with many accounts each log line names its
//! account. A subscriber written here (no tracing-subscriber dependency) records every event with the `account`
//! field of the spans around it; two clients on a real Prosody do a round trip each.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use common::{builder, packet, server};
use moxl::session::SessionStore;
use moxl::xep::rfc6121_roster::Get;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// One recorded event.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    message: String,
    /// The `account` field of the nearest span around the event that has one.
    account: Option<String>,
    thread: ThreadId,
}

struct SpanInfo {
    account: Option<String>,
    parent: Option<u64>,
}

/// Records events with the `account` of their spans. Spans entered on a thread are tracked per thread, as
/// tokio enters a task's span on whichever worker polls it.
#[derive(Default)]
struct Capture {
    next: AtomicU64,
    spans: Mutex<HashMap<u64, SpanInfo>>,
    events: Mutex<Vec<Seen>>,
}

thread_local! {
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

#[derive(Default)]
struct Fields {
    account: Option<String>,
    message: Option<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "account" => self.account = Some(format!("{value:?}")),
            "message" => self.message = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

impl Capture {
    fn current() -> Option<u64> {
        ENTERED.with(|e| e.borrow().last().copied())
    }

    /// The span a new span or an event belongs to: the one given explicitly, else (if contextual) the current one.
    fn parent(explicit: Option<&Id>, contextual: bool) -> Option<u64> {
        match explicit {
            Some(p) => Some(p.into_u64()),
            None if contextual => Self::current(),
            None => None,
        }
    }

    fn account_of(&self, mut span: Option<u64>) -> Option<String> {
        let spans = self.spans.lock().unwrap();
        while let Some(id) = span {
            let info = spans.get(&id)?;
            if let Some(account) = &info.account {
                return Some(account.clone());
            }
            span = info.parent;
        }
        None
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let parent = Self::parent(attrs.parent(), attrs.is_contextual());
        let info = SpanInfo { account: fields.account, parent };
        self.spans.lock().unwrap().insert(id, info);
        Id::from_u64(id)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let span = Self::parent(event.parent(), event.is_contextual());
        let seen = Seen {
            target: event.metadata().target().to_owned(),
            message: fields.message.unwrap_or_default(),
            account: self.account_of(span),
            thread: std::thread::current().id(),
        };
        self.events.lock().unwrap().push(seen);
    }

    fn enter(&self, span: &Id) {
        ENTERED.with(|e| e.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, span: &Id) {
        ENTERED.with(|e| {
            let mut entered = e.borrow_mut();
            if let Some(at) = entered.iter().rposition(|s| *s == span.into_u64()) {
                entered.remove(at);
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_task_of_a_session_logs_in_its_accounts_span() {
    let capture = Arc::new(Capture::default());
    tracing::subscriber::set_global_default(Arc::clone(&capture)).unwrap();
    let test_thread = std::thread::current().id();

    let p = server();
    let mut clients = Vec::new();
    for (user, password) in [("juliet", "secret"), ("romeo", "montague")] {
        // A session store for the lease renewal task; pings for the pinger.
        let store = SessionStore::open("sqlite::memory:").await.unwrap();
        let client = builder(&p, user, password)
            .ping(Some((Duration::from_millis(100), Duration::from_secs(5))))
            .session_store(store, "span-test")
            .connect()
            .await
            .unwrap();
        // A round trip: the reply is handled by the reader.
        let mut replies = client.xec().subscribe("roster_get_handle");
        client.xec().context().request(Get).unwrap();
        packet(&mut replies).await;
        clients.push(client);
    }
    // A few pings go out.
    tokio::time::sleep(Duration::from_millis(400)).await;
    for client in clients {
        client.close().await;
    }

    let events = capture.events.lock().unwrap().clone();
    let accounts = [p.jid("juliet"), p.jid("romeo")];
    for account in &accounts {
        let started: Vec<&str> = events
            .iter()
            .filter(|e| e.account.as_deref() == Some(account.as_str()) && e.message.ends_with("task started"))
            .map(|e| e.message.as_str())
            .collect();
        for task in ["reader", "writer", "pinger", "timer", "supervisor", "lease renewal"] {
            assert!(
                started.contains(&format!("{task} task started").as_str()),
                "{account}: {task} missing: {started:?}"
            );
        }
        assert!(
            events.iter().any(|e| e.account.as_deref() == Some(account.as_str()) && e.message == "reply handled"),
            "{account}: the reader's reply handling is in the span"
        );
    }
    // Every event moxl logged from a task of a session (not from the test's own thread) names its account.
    let from_tasks: Vec<&Seen> =
        events.iter().filter(|e| e.target.starts_with("moxl") && e.thread != test_thread).collect();
    assert!(from_tasks.len() >= 14, "{from_tasks:#?}");
    let anonymous: Vec<&&Seen> = from_tasks.iter().filter(|e| e.account.is_none()).collect();
    assert!(anonymous.is_empty(), "events without an account: {anonymous:#?}");
    for e in &from_tasks {
        assert!(accounts.iter().any(|a| e.account.as_deref() == Some(a.as_str())), "{e:?}");
    }
}
