//! The session store against real databases: a SQLite file in a temp dir, and the PostgreSQL server on
//! 127.0.0.1:5432 (a fresh database per test, dropped at the end; `MOXL_TEST_POSTGRES_URL` overrides the server).
//! PostgreSQL being unreachable fails these tests: it is never skipped.
//!
//! Covers: every field round-trips; SM counters; the unacked queue (push, ack up to h, clear); Actions through
//! `ActionStore` and revived by `Xec::restore_from` in a "later process"; lease exclusivity between two stores
//! (two pools: two processes), takeover after expiry, writes through a lost lease failing, a race of many
//! acquirers; corrupt rows giving errors that name the session and column; migrations run twice.

// Test and bench code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use moxl::jid::BareJid;
use moxl::prelude::*;
use moxl::session::{
    FastToken, LeaseError, ServerEndpoint, SessionRecord, SessionStore, SmState, StoreError, StoredCredentials,
    TransportKind, UnackedStanza,
};
use moxl::xec::{ActionStore, Dispatched, StoredAction};
use moxl_test_support::{PostgresDb, TempDir};

// ---- an Action, to be revived by a later run ------------------------------------------------------------------

/// XEP-0054 vCard retrieval; `note` is state that must survive the restart.
#[derive(Serialize, Deserialize)]
struct Fetch {
    to: String,
    note: String,
}

#[action(group = "storetest")]
impl Fetch {
    fn request(&self) -> ElementBuilder {
        iq_get(Some(&self.to)).append(ElementBuilder::new("vCard", "vcard-temp"))
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<()> {
        let name =
            stanza.child("vCard", "vcard-temp").and_then(|v| v.child_text("FN", "vcard-temp")).unwrap_or_default();
        ctx.pack(format!("{}:{name}", self.note)).deliver();
        Ok(())
    }
}

// ---- databases --------------------------------------------------------------------------------------------

/// A database that two "processes" (two stores, two pools) can open.
trait TestDb {
    /// The URL to open it with.
    fn url(&self) -> String;
    /// Runs one raw statement with one bound text value (to corrupt rows on purpose).
    fn exec(&self, sql: &'static str, value: &str) -> impl Future<Output = ()>;
}

/// A SQLite file in a temp dir.
struct SqliteDb {
    _dir: TempDir,
    path: PathBuf,
}

fn sqlite_db() -> SqliteDb {
    let dir = TempDir::new("moxl-session-store").unwrap();
    let path = dir.path().join("sessions.db");
    SqliteDb { _dir: dir, path }
}

impl TestDb for SqliteDb {
    fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    async fn exec(&self, sql: &'static str, value: &str) {
        let pool = sqlx::SqlitePool::connect(&self.url()).await.unwrap();
        sqlx::query(sql).bind(value).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// A fresh PostgreSQL database of the test support (dropped with its connections, even after a failure).
fn pg_db() -> PostgresDb {
    PostgresDb::create().expect(
        "PostgreSQL on 127.0.0.1:5432: the session-store tests need it (bash scripts/install-test-deps.sh, or \
         MOXL_TEST_POSTGRES_URL)",
    )
}

impl TestDb for PostgresDb {
    fn url(&self) -> String {
        PostgresDb::url(self)
    }

    async fn exec(&self, sql: &'static str, value: &str) {
        let pool = sqlx::PgPool::connect(&self.url()).await.unwrap();
        sqlx::query(sql).bind(value).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

async fn open(db: &impl TestDb) -> SessionStore {
    SessionStore::open(&db.url()).await.unwrap()
}

fn account(s: &str) -> BareJid {
    s.parse().unwrap()
}

fn at_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

const TTL: Duration = Duration::from_secs(30);

// ---- the scenarios, run on both backends ------------------------------------------------------------------

/// A record with every field set.
fn full_record(account: BareJid) -> SessionRecord {
    let mut r = SessionRecord::new(account);
    r.bound = Some("juliet@capulet.lit/balcony-4f2a".parse().unwrap());
    r.server = Some(ServerEndpoint::new(
        "xmpp.capulet.lit",
        443,
        TransportKind::WebSocket { url: "wss://xmpp.capulet.lit/xmpp-websocket".into() },
    ));
    r.fast_token =
        Some(FastToken::new("HT-SHA-256-NONE", "WXZzciBwYmFmIHZmIHlicnFhY3JhYT8=", at_ms(1_900_000_000_123)));
    r.credentials = Some(StoredCredentials::scram("SCRAM-SHA-256", vec![0x41; 16], 4096, vec![1; 32], vec![2; 32]));
    let mut sm = SmState::new("sm-id-1", Some("[::1]:5222".into()));
    (sm.inbound, sm.outbound) = (42, 7);
    r.sm = Some(sm);
    r.unacked = vec![
        UnackedStanza::new(6, "<message xmlns='jabber:client' id='m6'><body>six</body></message>"),
        UnackedStanza::new(7, "<message xmlns='jabber:client' id='m7'><body>sept — ünïcode</body></message>"),
    ];
    r.roster_version = Some("ver14".into());
    r.caps.insert(
        "QgayPKawpkPSDYmwT/WM94uAlu0=".into(),
        "<query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:xmpp:ping'/></query>".into(),
    );
    r.caps
        .insert("q07IKJEyjvHSyhy//CH0CxmKi8w=".into(), "<query xmlns='http://jabber.org/protocol/disco#info'/>".into());
    r.actions = vec![
        StoredAction {
            id: "a1".into(),
            type_name: "app::roster::Get".into(),
            state: "{\"x\":1}".into(),
            to: None,
            deadline: at_ms(1_800_000_000_001),
        },
        StoredAction {
            id: "a2".into(),
            type_name: "app::vcard::Get".into(),
            state: "{}".into(),
            to: Some("romeo@montague.lit".into()),
            deadline: at_ms(1_800_000_000_002),
        },
    ];
    r
}

async fn every_field_round_trips(db: &impl TestDb) {
    let store = open(db).await;
    let juliet = account("juliet@capulet.lit");
    let record = full_record(juliet.clone());

    // A whole record at once, read back by another store (another process).
    let lease = store.acquire(&juliet, "process-a", TTL).await.unwrap();
    lease.save_record(&record).await.unwrap();
    let other = open(db).await;
    assert_eq!(other.load(&juliet).await.unwrap().as_ref(), Some(&record));
    assert_eq!(other.accounts().await.unwrap(), vec![juliet.clone()]);

    // Field by field, through the granular writes, for a second account.
    let romeo = account("romeo@montague.lit");
    let lease2 = store.acquire(&romeo, "process-a", TTL).await.unwrap();
    assert_eq!(lease2.load().await.unwrap(), SessionRecord::new(romeo.clone()));
    let mut expected = full_record(romeo.clone());
    expected.bound = Some("romeo@montague.lit/orchard".parse().unwrap());
    lease2.set_bound(expected.bound.as_ref()).await.unwrap();
    lease2.set_server(expected.server.as_ref()).await.unwrap();
    lease2.set_fast_token(expected.fast_token.as_ref()).await.unwrap();
    lease2.set_credentials(expected.credentials.as_ref()).await.unwrap();
    lease2.set_sm(expected.sm.as_ref()).await.unwrap();
    for u in &expected.unacked {
        lease2.push_unacked(u.seq, &u.stanza).await.unwrap();
    }
    lease2.set_roster_version(expected.roster_version.as_deref()).await.unwrap();
    for (ver, info) in &expected.caps {
        lease2.put_caps(ver, info).await.unwrap();
    }
    for a in &expected.actions {
        lease2.save(a).await.unwrap();
    }
    assert_eq!(other.load(&romeo).await.unwrap(), Some(expected.clone()));
    assert_eq!(other.accounts().await.unwrap(), vec![juliet.clone(), romeo.clone()]);

    // Every transport, and clearing fields.
    for transport in [TransportKind::StartTls, TransportKind::DirectTls] {
        let server = ServerEndpoint::new("capulet.lit", 5222, transport);
        lease2.set_server(Some(&server)).await.unwrap();
        assert_eq!(other.load(&romeo).await.unwrap().unwrap().server, Some(server));
    }
    lease2.set_bound(None).await.unwrap();
    lease2.set_server(None).await.unwrap();
    lease2.set_fast_token(None).await.unwrap();
    lease2.set_credentials(None).await.unwrap();
    lease2.set_sm(None).await.unwrap();
    lease2.set_roster_version(None).await.unwrap();
    let cleared = other.load(&romeo).await.unwrap().unwrap();
    assert_eq!((cleared.bound, cleared.server, cleared.fast_token, cleared.credentials), (None, None, None, None));
    assert_eq!((cleared.sm, cleared.roster_version), (None, None));
    assert_eq!(cleared.unacked, expected.unacked, "ending the SM session keeps the queue");

    // A whole-record save replaces the queue, caps and Actions.
    let mut smaller = SessionRecord::new(romeo.clone());
    smaller.unacked = vec![UnackedStanza::new(1, "<presence xmlns='jabber:client'/>")];
    lease2.save_record(&smaller).await.unwrap();
    assert_eq!(other.load(&romeo).await.unwrap(), Some(smaller));
    // ... and refuses another account's record.
    assert!(matches!(
        lease2.save_record(&record).await,
        Err(Error::Store(StoreError::Unstorable { session, .. })) if session == "romeo@montague.lit"
    ));

    // Times before the epoch survive too.
    let old = FastToken::new("HT-SHA-256-NONE", "t", UNIX_EPOCH - Duration::from_millis(1_500));
    lease2.set_fast_token(Some(&old)).await.unwrap();
    assert_eq!(other.load(&romeo).await.unwrap().unwrap().fast_token, Some(old));

    // Forgetting a session deletes it and frees the lease.
    lease2.forget().await.unwrap();
    assert_eq!(other.load(&romeo).await.unwrap(), None);
    assert_eq!(other.accounts().await.unwrap(), vec![juliet.clone()]);
    other.acquire(&romeo, "process-b", TTL).await.unwrap();
    store.close().await;
    other.close().await;
}

async fn sm_counters_and_unacked_queue(db: &impl TestDb) {
    let store = open(db).await;
    let juliet = account("juliet@capulet.lit");
    let lease = store.acquire(&juliet, "process-a", TTL).await.unwrap();
    lease.set_sm(Some(&SmState::new("sm-1", None))).await.unwrap();
    for n in 1..=50u64 {
        lease.update_sm(n, n / 2).await.unwrap();
    }
    let sm = store.load(&juliet).await.unwrap().unwrap().sm.unwrap();
    assert_eq!((sm.id.as_str(), sm.inbound, sm.outbound), ("sm-1", 50, 25));
    // Counts are unwrapped: past 2^32 they keep counting.
    let big = (1u64 << 32) + 5;
    lease.update_sm(big, big + 1).await.unwrap();
    let sm = store.load(&juliet).await.unwrap().unwrap().sm.unwrap();
    assert_eq!((sm.inbound, sm.outbound), (big, big + 1));
    assert!(matches!(
        lease.update_sm(u64::MAX, 0).await,
        Err(Error::Store(StoreError::Unstorable { detail, .. })) if detail.contains("too large")
    ));

    // The queue: push 1..=5, the server acks up to 3.
    for seq in 1..=5u64 {
        lease.push_unacked(seq, &format!("<message xmlns='jabber:client' id='m{seq}'/>")).await.unwrap();
    }
    assert_eq!(lease.ack(3).await.unwrap(), 3);
    assert_eq!(lease.ack(3).await.unwrap(), 0, "acking again removes nothing");
    assert_eq!(lease.ack(2).await.unwrap(), 0, "an older h removes nothing");
    let seqs: Vec<u64> = lease.load().await.unwrap().unacked.iter().map(|u| u.seq).collect();
    assert_eq!(seqs, vec![4, 5]);
    // Pushing a number again replaces its stanza (a retried write).
    lease.push_unacked(5, "<message xmlns='jabber:client' id='m5-again'/>").await.unwrap();
    let queue = lease.load().await.unwrap().unacked;
    assert_eq!(queue[1], UnackedStanza::new(5, "<message xmlns='jabber:client' id='m5-again'/>"));
    // Sequence numbers past 2^32, and an ack of everything.
    lease.push_unacked(big, "<message xmlns='jabber:client' id='big'/>").await.unwrap();
    assert_eq!(lease.ack(big).await.unwrap(), 3);
    assert!(lease.load().await.unwrap().unacked.is_empty());
    lease.push_unacked(9, "<iq/>").await.unwrap();
    lease.push_unacked(10, "<iq/>").await.unwrap();
    assert_eq!(lease.ack(u64::MAX).await.unwrap(), 2, "h beyond the storable range acks everything");
    lease.push_unacked(11, "<iq/>").await.unwrap();
    assert_eq!(lease.clear_unacked().await.unwrap(), 1);
    assert_eq!(lease.clear_unacked().await.unwrap(), 0);
    store.close().await;
}

async fn actions_are_saved_and_revived(db: &impl TestDb) {
    let juliet = account("juliet@capulet.lit");

    // The first process sends a request and saves its pending Action, then dies without releasing its lease.
    let id = {
        let store = open(db).await;
        let lease = store.acquire(&juliet, "process-a", Duration::from_millis(300)).await.unwrap();
        let xec = Xec::builder().account(juliet.clone()).build().unwrap();
        let id = xec
            .context()
            .request(Fetch { to: "romeo@montague.lit".into(), note: "kept".into() })
            .unwrap()
            .id()
            .to_owned();
        xec.save_to(&lease).await.unwrap();
        let saved = ActionStore::load(&lease).await.unwrap();
        assert_eq!(saved.len(), 1);
        assert_eq!((saved[0].id.as_str(), saved[0].to.as_deref()), (id.as_str(), Some("romeo@montague.lit")));
        assert_eq!(saved[0].type_name, <Fetch as Action>::TYPE_NAME);
        store.close().await;
        id
    };

    // A later process takes the session over once that lease expired, and revives the Action.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let store = open(db).await;
    let lease = store.acquire(&juliet, "process-b", TTL).await.unwrap();
    let xec = Xec::builder().account(juliet.clone()).build().unwrap();
    assert_eq!(xec.restore_from(&lease).await.unwrap(), 1);
    let mut packets = xec.subscribe("storetest_fetch_handle");
    let reply = Element::parse(&format!(
        "<iq xmlns='jabber:client' from='romeo@montague.lit' to='juliet@capulet.lit/balcony' type='result' \
         id='{id}'><vCard xmlns='vcard-temp'><FN>Romeo</FN></vCard></iq>"
    ))
    .unwrap();
    assert_eq!(xec.dispatch(reply).await, Dispatched::Reply);
    let packet = packets.try_recv().expect("the revived Action handled its reply");
    assert_eq!(packet.content::<String>().map(String::as_str), Some("kept:Romeo"), "fields restored");
    // Its reply handled, the Action is forgotten; removing twice is fine.
    lease.remove(&id).await.unwrap();
    lease.remove(&id).await.unwrap();
    assert!(ActionStore::load(&lease).await.unwrap().is_empty());

    // Saving the same id again replaces it; Actions are per session.
    let mut a = StoredAction {
        id: "x1".into(),
        type_name: <Fetch as Action>::TYPE_NAME.into(),
        state: "{\"to\":\"a@b\",\"note\":\"1\"}".into(),
        to: Some("a@b".into()),
        deadline: at_ms(2_000_000_000_000),
    };
    lease.save(&a).await.unwrap();
    a.state = "{\"to\":\"a@b\",\"note\":\"2\"}".into();
    lease.save(&a).await.unwrap();
    assert_eq!(ActionStore::load(&lease).await.unwrap(), vec![a.clone()]);
    let romeo = store.acquire(&account("romeo@montague.lit"), "process-b", TTL).await.unwrap();
    assert!(ActionStore::load(&romeo).await.unwrap().is_empty());
    // State that does not fit the type is a clear error when reviving, not a panic.
    a.state = "{\"to\": 3}".into();
    lease.save(&a).await.unwrap();
    assert!(matches!(
        Xec::new().unwrap().restore_from(&lease).await,
        Err(Error::Store(StoreError::Revive { type_name, .. })) if type_name.contains("Fetch")
    ));
    store.close().await;
}

async fn leases_are_exclusive(db: &impl TestDb) {
    let juliet = account("juliet@capulet.lit");
    // Two stores: two processes.
    let a = open(db).await;
    let b = open(db).await;
    let lease_a = a.acquire(&juliet, "process-a", TTL).await.unwrap();
    match b.acquire(&juliet, "process-b", TTL).await {
        Err(Error::Lease(LeaseError::Held { account, owner, remaining })) => {
            assert_eq!((account.as_str(), owner.as_str()), ("juliet@capulet.lit", "process-a"));
            assert!(remaining > Duration::from_secs(25) && remaining <= TTL, "{remaining:?}");
        }
        other => panic!("a second process got the session: {other:?}"),
    }
    // Another account is free.
    b.acquire(&account("romeo@montague.lit"), "process-b", TTL).await.unwrap();
    lease_a.renew().await.unwrap();
    lease_a.update_sm(1, 1).await.unwrap();
    lease_a.release().await.unwrap();

    // Released: B takes it with a short ttl, and lets it expire.
    let lease_b = b.acquire(&juliet, "process-b", Duration::from_millis(300)).await.unwrap();
    lease_b.set_sm(Some(&SmState::new("sm-b", None))).await.unwrap();
    assert!(matches!(a.acquire(&juliet, "process-a", TTL).await, Err(Error::Lease(LeaseError::Held { .. }))));
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Expired but not taken: writes fail, a renewal brings it back.
    assert!(matches!(lease_b.update_sm(2, 2).await, Err(Error::Lease(LeaseError::Lost { .. }))));
    lease_b.renew().await.unwrap();
    lease_b.update_sm(2, 2).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;

    // Expired: A takes it over. Every write through B's lease now fails and writes nothing.
    let lease_a = a.acquire(&juliet, "process-a", TTL).await.unwrap();
    let lost = |r: moxl::Result<()>| matches!(r, Err(Error::Lease(LeaseError::Lost { ref owner, .. })) if owner == "process-b");
    assert!(lost(lease_b.update_sm(99, 99).await));
    assert!(lost(lease_b.set_sm(None).await));
    assert!(lost(lease_b.set_roster_version(Some("stale")).await));
    assert!(lost(lease_b.set_bound(None).await));
    assert!(lost(lease_b.set_server(None).await));
    assert!(lost(lease_b.set_fast_token(None).await));
    assert!(lost(lease_b.set_credentials(None).await));
    assert!(lost(lease_b.push_unacked(1, "<iq/>").await));
    assert!(lost(lease_b.ack(1).await.map(drop)));
    assert!(lost(lease_b.clear_unacked().await.map(drop)));
    assert!(lost(lease_b.put_caps("v", "i").await));
    assert!(lost(
        lease_b
            .save(&StoredAction {
                id: "late".into(),
                type_name: "t".into(),
                state: "{}".into(),
                to: None,
                deadline: SystemTime::now()
            })
            .await
    ));
    assert!(lost(lease_b.remove("late").await));
    assert!(lost(lease_b.save_record(&SessionRecord::new(juliet.clone())).await));
    assert!(lost(lease_b.renew().await));
    let error = lease_b.update_sm(1, 1).await.unwrap_err().to_string();
    assert!(error.contains("juliet@capulet.lit") && error.contains("process-b"), "{error}");
    let record = a.load(&juliet).await.unwrap().unwrap();
    let sm = record.sm.unwrap();
    assert_eq!((sm.id.as_str(), sm.inbound, sm.outbound), ("sm-b", 2, 2), "nothing written through the lost lease");
    assert!(record.unacked.is_empty() && record.actions.is_empty() && record.caps.is_empty());
    assert!(lost(lease_b.forget().await));
    assert!(a.load(&juliet).await.unwrap().is_some());

    // The same owner may take its own lease again (a restarted process); the older handle is fenced off.
    let again = a.acquire(&juliet, "process-a", TTL).await.unwrap();
    assert!(matches!(lease_a.update_sm(5, 5).await, Err(Error::Lease(LeaseError::Lost { .. }))));
    again.update_sm(5, 5).await.unwrap();
    assert!(matches!(lease_a.release().await, Err(Error::Lease(LeaseError::Lost { .. }))));
    again.release().await.unwrap();
    a.close().await;
    b.close().await;
}

/// Many acquirers on two pools at once: exactly one wins.
async fn one_winner_in_a_race(db: &impl TestDb) {
    let stores = [open(db).await, open(db).await];
    let juliet = account("juliet@capulet.lit");
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = stores[i % 2].clone();
        let juliet = juliet.clone();
        tasks.push(tokio::spawn(async move { store.acquire(&juliet, &format!("process-{i}"), TTL).await }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(lease) => winners.push(lease),
            Err(Error::Lease(LeaseError::Held { .. })) => {}
            Err(e) => panic!("unexpected error in the race: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one process drives the session");
    winners[0].update_sm(1, 1).await.unwrap();
    for s in stores {
        s.close().await;
    }
}

/// The messages of an error's sources, outermost first.
fn sources(e: &Error) -> Vec<String> {
    std::iter::successors(std::error::Error::source(e), |s| s.source()).map(ToString::to_string).collect()
}

async fn corrupt_rows_are_clear_errors(db: &impl TestDb) {
    let store = open(db).await;
    let juliet = account("juliet@capulet.lit");
    let lease = store.acquire(&juliet, "process-a", TTL).await.unwrap();
    lease.save_record(&full_record(juliet.clone())).await.unwrap();

    let expect = |e: Option<Error>, column: &str| {
        let message = e.as_ref().map(ToString::to_string).unwrap_or_default();
        match e {
            Some(Error::Store(StoreError::Corrupt { session, column: c, .. })) => {
                assert!(session == "juliet@capulet.lit" && c.contains(column), "{message}")
            }
            other => panic!("expected a corrupt-data error naming {column}, got {other:?}"),
        }
        eprintln!("as expected: {message}");
    };
    let cases: [(&'static str, &str, &str); 5] = [
        // corrupt JSON
        ("UPDATE moxl_sessions SET credentials = $1", "{\"kind\":\"scram\",", "credentials"),
        // valid JSON of the wrong shape
        ("UPDATE moxl_sessions SET credentials = $1", "{\"kind\":\"password\",\"password\":\"x\"}", "credentials"),
        // a bare JID where the bound full JID belongs
        ("UPDATE moxl_sessions SET bound_jid = $1", "juliet@capulet.lit", "bound_jid"),
        ("UPDATE moxl_sessions SET server_transport = $1", "carrier-pigeon", "server_transport"),
        // half a FAST token
        ("UPDATE moxl_sessions SET fast_token = NULL WHERE account = $1", "juliet@capulet.lit", "fast_token"),
    ];
    for (sql, value, column) in cases {
        db.exec(sql, value).await;
        let err = store.load(&juliet).await.err();
        if column == "credentials" {
            // The JSON error is kept as the source, below the store error.
            let chain = err.as_ref().map(sources).unwrap_or_default();
            assert!(chain.len() >= 2 && chain.iter().any(|s| s.contains("line 1")), "{chain:?}");
        }
        expect(err, column);
        lease.save_record(&full_record(juliet.clone())).await.unwrap(); // repaired
    }
    // A negative counter.
    db.exec("UPDATE moxl_sessions SET sm_inbound = -5 WHERE account = $1", "juliet@capulet.lit").await;
    expect(store.load(&juliet).await.err(), "sm_inbound");
    lease.save_record(&full_record(juliet.clone())).await.unwrap();
    assert_eq!(store.load(&juliet).await.unwrap(), Some(full_record(juliet.clone())));
    store.close().await;
}

async fn migrations_are_idempotent(db: &impl TestDb) {
    let juliet = account("juliet@capulet.lit");
    {
        let store = open(db).await;
        store.acquire(&juliet, "process-a", TTL).await.unwrap().set_roster_version(Some("v1")).await.unwrap();
        store.close().await;
    }
    for _ in 0..2 {
        let store = open(db).await;
        assert_eq!(store.load(&juliet).await.unwrap().unwrap().roster_version.as_deref(), Some("v1"));
        store.close().await;
    }
}

// ---- SQLite file ------------------------------------------------------------------------------------------

#[tokio::test]
async fn sqlite_every_field_round_trips() {
    every_field_round_trips(&sqlite_db()).await;
}

#[tokio::test]
async fn sqlite_sm_counters_and_unacked_queue() {
    sm_counters_and_unacked_queue(&sqlite_db()).await;
}

#[tokio::test]
async fn sqlite_actions_are_saved_and_revived() {
    actions_are_saved_and_revived(&sqlite_db()).await;
}

#[tokio::test]
async fn sqlite_leases_are_exclusive() {
    leases_are_exclusive(&sqlite_db()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_one_winner_in_a_race() {
    one_winner_in_a_race(&sqlite_db()).await;
}

#[tokio::test]
async fn sqlite_corrupt_rows_are_clear_errors() {
    let db = sqlite_db();
    corrupt_rows_are_clear_errors(&db).await;
    // SQLite is dynamically typed: text where a number belongs is named too.
    let store = open(&db).await;
    let juliet = account("juliet@capulet.lit");
    db.exec("UPDATE moxl_sessions SET sm_outbound = $1", "many").await;
    match store.load(&juliet).await {
        Err(e @ Error::Store(StoreError::Corrupt { .. })) => {
            let Error::Store(StoreError::Corrupt { session, column, .. }) = &e else { unreachable!() };
            assert!(session == "juliet@capulet.lit" && column.contains("sm_outbound"), "{e}");
            // The source chain: moxl's store error, then sqlx's decoding error.
            let store_error = std::error::Error::source(&e).unwrap();
            let sqlx_error = store_error.source().unwrap();
            assert!(sqlx_error.downcast_ref::<sqlx::Error>().is_some(), "{sqlx_error:?}");
        }
        other => panic!("{other:?}"),
    }
    db.exec("UPDATE moxl_sessions SET sm_outbound = 0 WHERE account = $1", "juliet@capulet.lit").await;
    db.exec("UPDATE moxl_actions SET deadline_ms = $1", "soon").await;
    let lease = store.acquire(&juliet, "process-a", TTL).await.unwrap();
    for result in [store.load(&juliet).await.map(drop), ActionStore::load(&lease).await.map(drop)] {
        match result {
            Err(Error::Store(StoreError::Corrupt { session, column, .. })) => {
                assert!(session == "juliet@capulet.lit" && column.contains("deadline_ms"), "{column}")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn sqlite_migrations_are_idempotent() {
    migrations_are_idempotent(&sqlite_db()).await;
}

#[tokio::test]
async fn sqlite_file_is_private_and_in_wal_mode() {
    let db = sqlite_db();
    let store = SessionStore::open_sqlite_file(&db.path, &Default::default()).await.unwrap();
    store.acquire(&account("juliet@capulet.lit"), "p", TTL).await.unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&db.path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(Path::new(&format!("{}-wal", db.path.display())).exists(), "WAL mode");
    store.close().await;
    // In memory works too, for tests.
    let memory = SessionStore::open("sqlite::memory:").await.unwrap();
    memory.acquire(&account("juliet@capulet.lit"), "p", TTL).await.unwrap();
    assert_eq!(memory.accounts().await.unwrap().len(), 1);
}

// ---- PostgreSQL -------------------------------------------------------------------------------------------

#[tokio::test]
async fn postgres_every_field_round_trips() {
    every_field_round_trips(&pg_db()).await;
}

#[tokio::test]
async fn postgres_sm_counters_and_unacked_queue() {
    sm_counters_and_unacked_queue(&pg_db()).await;
}

#[tokio::test]
async fn postgres_actions_are_saved_and_revived() {
    actions_are_saved_and_revived(&pg_db()).await;
}

#[tokio::test]
async fn postgres_leases_are_exclusive() {
    leases_are_exclusive(&pg_db()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_one_winner_in_a_race() {
    one_winner_in_a_race(&pg_db()).await;
}

#[tokio::test]
async fn postgres_corrupt_rows_are_clear_errors() {
    corrupt_rows_are_clear_errors(&pg_db()).await;
}

#[tokio::test]
async fn postgres_migrations_are_idempotent() {
    let db = pg_db();
    migrations_are_idempotent(&db).await;
    // Two processes opening a fresh database at once both succeed (sqlx's advisory lock).
    let fresh = pg_db();
    let url = fresh.url();
    let (x, y) = tokio::join!(SessionStore::open(&url), SessionStore::open(&url));
    x.unwrap();
    y.unwrap();
}
