//! Sessions that survive the process: the client keeps its session in a real store (an SQLite file; the
//! PostgreSQL server on 127.0.0.1:5432), and a new client on the same store resumes it against both real servers
//! of the test support (Prosody and ejabberd), or binds a fresh session when the server forgot it; the stored
//! roster version is written back and sent on the next start (RFC 6121 §2.6).

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{fresh_account, jid, packet, servers, Log};
use moxl::client::{ClientBuilder, ConnectionState};
use moxl::prelude::*;
use moxl::session::{LeaseError, SessionStore, StoreOptions};
use moxl::xep::rfc6121_roster::{Fetched, RosterItem, RosterPush, Set};
use moxl_test_support::{CutProxy, PostgresDb, Server, ServerKind, TempDir};

fn builder(p: &Server, user: &str, password: &str, log: &Log) -> ClientBuilder {
    common::client(p, user, password).xec(moxl::xec::Xec::builder().extension(log.clone()))
}

/// A question to another client, answered whenever that client decides. Its fields are its state: they must
/// come back in a later run.
#[derive(Serialize, Deserialize)]
struct Ask {
    to: String,
    note: String,
}

#[action(group = "persisttest")]
impl Ask {
    fn request(&self) -> ElementBuilder {
        iq_get(Some(&self.to)).append(ElementBuilder::new("query", "urn:moxl:test:ask"))
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) -> Result<()> {
        if let Some(log) = ctx.get::<Log>() {
            log.push(format!("answer for: {}", self.note));
        }
        Ok(())
    }

    async fn timeout(&mut self, ctx: &Context) {
        if let Some(log) = ctx.get::<Log>() {
            log.push(format!("no answer for: {}", self.note));
        }
    }
}

/// The question arriving at the other client: kept for the test to answer later.
#[payload(name = "query", ns = "urn:moxl:test:ask")]
#[derive(Default)]
struct Question;

impl Payload for Question {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        ctx.answer_later(); // the test answers (RFC 6120 §8.2.3: else the dispatcher would)
        ctx.pack(stanza.clone()).deliver(); // "question"
        Ok(())
    }
}

async fn eventually(what: &str, f: impl Fn() -> bool) {
    for _ in 0..100 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 5 s");
}

#[tokio::test]
async fn a_reply_after_a_process_restart_reaches_the_revived_action() -> Result<()> {
    for p in servers() {
        a_reply_after_a_process_restart_reaches_the_revived_action_on(p).await?;
    }
    Ok(())
}

async fn a_reply_after_a_process_restart_reaches_the_revived_action_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let dir = TempDir::new("moxl-persist").unwrap();
    let path = dir.path().join("sessions.db");
    let romeo = builder(p, &romeo_user, "secret", &Log::default()).connect().await?;
    let mut questions = romeo.xec().subscribe("question");

    // The first run asks, then dies (no goodbye: the server keeps the session for resumption).
    let first_log = Log::default();
    let store = SessionStore::open_sqlite_file(&path, &StoreOptions::default()).await?;
    let first = builder(p, &juliet_user, "secret", &first_log).session_store(store, "host-1").connect().await?;
    let juliet = first.jid();
    first.xec().context().request(Ask { to: romeo.jid().to_string(), note: "the balcony, at nine".into() })?;
    let question = tokio::time::timeout(Duration::from_secs(5), questions.recv()).await.expect("asked").expect("open");
    let question = question.content::<Element>().unwrap().clone();
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Meanwhile, the answer and a message arrive at the server.
    romeo.xec().context().send(iq_result(&question))?;
    romeo.xec().context().send(message(&juliet.to_string(), "chat", Some("while you were away")))?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The second run: a new store handle on the same file, the same owner.
    let second_log = Log::default();
    let store = SessionStore::open_sqlite_file(&path, &StoreOptions::default()).await?;
    let second = builder(p, &juliet_user, "secret", &second_log).session_store(store, "host-1").connect().await?;
    assert_eq!(*second.state().borrow(), ConnectionState::Resumed(juliet.clone()), "{}", p.kind());
    assert_eq!(second.jid(), juliet, "the same session");
    eventually("the answer and the message", || second_log.lines().len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // nothing more comes
    let mut lines = second_log.lines();
    lines.sort();
    assert_eq!(lines, ["answer for: the balcony, at nine", "body: while you were away"]);
    assert!(first_log.lines().is_empty());
    assert_eq!(second.xec().pending(), 0, "the revived Action got its reply");

    // Closing ends the stored session: a third run starts afresh (nothing to resume, nothing pending).
    second.close().await;
    let store = SessionStore::open_sqlite_file(&path, &StoreOptions::default()).await?;
    let record = store.load(&jid(p, &juliet_user)).await?.expect("the record stays");
    assert!(record.sm.is_none() && record.unacked.is_empty() && record.actions.is_empty(), "{record:?}");
    let third = builder(p, &juliet_user, "secret", &Log::default()).session_store(store, "host-1").connect().await?;
    assert!(matches!(*third.state().borrow(), ConnectionState::Online(_)));
    Ok(())
}

#[tokio::test]
async fn two_processes_on_one_postgresql_store_never_drive_the_same_session() -> Result<()> {
    // The lease is the store's business, not the server's: one server is enough.
    let p = &servers()[0];
    let user = fresh_account(p, "juliet");
    let db = PostgresDb::create().expect("PostgreSQL on 127.0.0.1:5432 (bash scripts/install-test-deps.sh)");
    // Two processes: two stores, two connection pools.
    let store_a = SessionStore::open(&db.url()).await?;
    let store_b = SessionStore::open(&db.url()).await?;
    let a = builder(p, &user, "secret", &Log::default()).session_store(store_a, "process-a").connect().await?;
    let refused =
        builder(p, &user, "secret", &Log::default()).session_store(store_b.clone(), "process-b").connect().await;
    match refused {
        Err(Error::Lease(LeaseError::Held { owner, .. })) => assert_eq!(owner, "process-a"),
        other => panic!("a second process got the session: {:?}", other.map(|c| c.jid())),
    }
    // Once the first one closes, the second may take over.
    a.close().await;
    let b = builder(p, &user, "secret", &Log::default()).session_store(store_b, "process-b").connect().await?;
    assert!(matches!(*b.state().borrow(), ConnectionState::Online(_)));
    Ok(())
}

/// The server forgot the stored session (it restarted): the next run's resumption gets `<failed/>` and binds a
/// fresh session, reported as `Reestablished` (not `Online`: the application must know that what the old
/// session had not delivered is gone). The request the first run had made, acknowledged by the server, can
/// get no reply in the new session (XEP-0198 §5): its Action times out at once instead of waiting a minute.
/// Against both servers, each a server of its own (it restarts: the shared ones must not).
#[tokio::test]
async fn a_stored_session_the_server_forgot_is_replaced_and_its_lost_requests_time_out() -> Result<()> {
    for kind in ServerKind::ALL {
        let mut p = kind.start(&[("juliet", "secret"), ("romeo", "montague")]).unwrap();
        a_stored_session_the_server_forgot_is_replaced_and_its_lost_requests_time_out_on(&mut p).await?;
    }
    Ok(())
}

async fn a_stored_session_the_server_forgot_is_replaced_and_its_lost_requests_time_out_on(
    p: &mut Server,
) -> Result<()> {
    let dir = TempDir::new("moxl-persist").unwrap();
    let path = dir.path().join("sessions.db");
    let romeo = builder(p, "romeo", "montague", &Log::default()).connect().await?;
    let mut questions = romeo.xec().subscribe("question");

    let store = SessionStore::open_sqlite_file(&path, &StoreOptions::default()).await?;
    let first = builder(p, "juliet", "secret", &Log::default()).session_store(store, "host-1").connect().await?;
    first.xec().context().request(Ask { to: romeo.jid().to_string(), note: "never answered".into() })?;
    tokio::time::timeout(Duration::from_secs(5), questions.recv()).await.expect("asked").expect("open");
    tokio::time::sleep(Duration::from_millis(300)).await; // the server acknowledges it
    drop(first);
    drop(romeo);
    p.restart().unwrap();

    let log = Log::default();
    let store = SessionStore::open_sqlite_file(&path, &StoreOptions::default()).await?;
    let second = builder(p, "juliet", "secret", &log).session_store(store, "host-1").connect().await?;
    assert_eq!(*second.state().borrow(), ConnectionState::Reestablished(second.jid()), "{}", p.kind());
    eventually("the lost request's timeout", || !log.lines().is_empty()).await;
    assert_eq!(log.lines(), ["no answer for: never answered"]);
    // (the roster fetch of the new session's start may still be pending: it is answered soon)
    eventually("no pending Action", || second.xec().pending() == 0).await;
    Ok(())
}

/// The server closes the connection while the next run negotiates its resumption (seen with 50 sessions
/// restarted at once): the client does not stay offline, it binds a fresh session at once (`Reestablished`).
#[tokio::test]
async fn a_stored_session_whose_resumption_is_cut_falls_back_to_a_fresh_one() -> Result<()> {
    for p in servers() {
        a_stored_session_whose_resumption_is_cut_falls_back_to_a_fresh_one_on(p).await?;
    }
    Ok(())
}

async fn a_stored_session_whose_resumption_is_cut_falls_back_to_a_fresh_one_on(p: &Server) -> Result<()> {
    let user = fresh_account(p, "juliet");
    let proxy = CutProxy::start(p.c2s_port()).unwrap();
    let dir = TempDir::new("moxl-persist").unwrap();
    let path = dir.path().join("sessions.db");
    let via_proxy = |log: &Log| builder(p, &user, "secret", log).server("127.0.0.1", proxy.port());

    let store = SessionStore::open_sqlite_file(&path, &StoreOptions::default()).await?;
    let first = via_proxy(&Log::default()).session_store(store, "host-1").connect().await?;
    assert!(first.stream_management().flatten().is_some(), "resumable");
    drop(first);

    proxy.refuse_next(1);
    let store = SessionStore::open_sqlite_file(&path, &StoreOptions::default()).await?;
    let second = via_proxy(&Log::default()).session_store(store, "host-1").connect().await?;
    assert_eq!(*second.state().borrow(), ConnectionState::Reestablished(second.jid()), "{}", p.kind());
    assert_eq!(proxy.connections(), 2, "the refused attempt, then the fresh session");
    Ok(())
}

/// The roster version (RFC 6121 §2.6) is written back to the store from the start-of-session fetch and from each
/// roster push (§2.6.3), and sent by the next run's start, so that the server answers "unchanged" (an empty
/// result) instead of the whole roster. After a change made while the run was away, the next start learns the
/// new version whichever way the server answers (the whole roster, or "unchanged" and the pushes). Both servers
/// version rosters (ejabberd with `mod_roster: versioning: true`).
#[tokio::test]
async fn the_roster_version_is_kept_with_the_session_and_sent_on_the_next_start() -> Result<()> {
    for p in servers() {
        the_roster_version_is_kept_with_the_session_and_sent_on_the_next_start_on(p).await?;
    }
    Ok(())
}

/// A run on the store: connects, returns the client and what the start-of-session fetch got.
async fn run_with_store(p: &Server, user: &str, path: &std::path::Path) -> Result<(moxl::client::Client, Fetched)> {
    let store = SessionStore::open_sqlite_file(path, &StoreOptions::default()).await?;
    let builder = builder(p, user, "secret", &Log::default()).session_store(store, "host-1");
    let mut fetched = builder.subscribe("roster_fetch_handle");
    let client = builder.connect().await?;
    assert!(client.features().roster_ver, "{} versions rosters", p.kind());
    let got = packet(&mut fetched).await.content::<Fetched>().cloned().expect("the start's roster fetch");
    Ok((client, got))
}

async fn stored_version(p: &Server, user: &str, path: &std::path::Path) -> Result<Option<String>> {
    let store = SessionStore::open_sqlite_file(path, &StoreOptions::default()).await?;
    Ok(store.load(&jid(p, user)).await?.expect("a record").roster_version)
}

async fn the_roster_version_is_kept_with_the_session_and_sent_on_the_next_start_on(p: &Server) -> Result<()> {
    let user = fresh_account(p, "juliet");
    let dir = TempDir::new("moxl-persist").unwrap();
    let path = dir.path().join("sessions.db");

    // First run: nothing stored, the whole (empty) roster and its version.
    let (first, got) = run_with_store(p, &user, &path).await?;
    let Fetched::Roster(roster) = got else { panic!("{}: no version stored, yet {got:?}", p.kind()) };
    assert!(roster.items.is_empty());
    let v0 = roster.ver.clone().expect("a versioned roster");
    // a contact added: the push brings the new version, which is stored
    let mut pushes = first.xec().subscribe("roster_push");
    let nurse = jid(p, "nurse").to_string();
    first.xec().context().request(Set::new(RosterItem::new(nurse.clone()).with_name("Nurse")))?.await?;
    let push = packet(&mut pushes).await.content::<RosterPush>().cloned().unwrap();
    let v1 = push.ver.clone().expect("a push carries the new version");
    // (Prosody numbers versions from 1 and calls an empty roster "1" too: v0 may equal v1)
    let _ = v0;
    first.close().await;
    assert_eq!(stored_version(p, &user, &path).await?.as_deref(), Some(v1.as_str()), "{}", p.kind());

    // Second run: the stored version is current.
    let (second, got) = run_with_store(p, &user, &path).await?;
    assert_eq!(got, Fetched::Unchanged, "{}: the stored version {v1} was sent", p.kind());
    second.close().await;
    assert_eq!(stored_version(p, &user, &path).await?.as_deref(), Some(v1.as_str()));

    // Meanwhile another device (without a store) adds a contact; the third run learns the new version.
    let phone = builder(p, &user, "secret", &Log::default()).resource("phone").connect().await?;
    let romeo = jid(p, "romeo").to_string();
    phone.xec().context().request(Set::new(RosterItem::new(romeo.clone())))?.await?;
    let store = SessionStore::open_sqlite_file(&path, &StoreOptions::default()).await?;
    let builder3 = builder(p, &user, "secret", &Log::default()).session_store(store, "host-1");
    let (mut fetched, mut pushes) = (builder3.subscribe("roster_fetch_handle"), builder3.subscribe("roster_push"));
    let third = builder3.connect().await?;
    let latest = match packet(&mut fetched).await.content::<Fetched>().cloned().unwrap() {
        // the whole roster with its version (both servers do this for an out-of-date version)
        Fetched::Roster(roster) => {
            assert!(roster.items.iter().any(|i| i.jid == romeo) && roster.items.iter().any(|i| i.jid == nurse));
            roster.ver.expect("a version")
        }
        // or "unchanged", and the change as a push (§2.6.3)
        Fetched::Unchanged => packet(&mut pushes).await.content::<RosterPush>().cloned().unwrap().ver.unwrap(),
    };
    assert_ne!(latest, v1);
    third.close().await;
    assert_eq!(stored_version(p, &user, &path).await?.as_deref(), Some(latest.as_str()), "{}", p.kind());
    Ok(())
}
