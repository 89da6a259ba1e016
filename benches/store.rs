//! The session store, measured: what writing through costs per operation on SQLite (a file in WAL mode) and on
//! PostgreSQL, against the in-memory `MemoryActionStore` measured in the same run.
//!
//! - **Action save + remove**: one pending Action saved (`ActionStore::save`) and forgotten (`remove`), as for
//!   every request and its reply.
//! - **update_sm**: one write of the two SM counters (`Lease::update_sm`), as for every stanza.
//! - **push + ack**: one stanza appended to the unacked queue and acknowledged (`push_unacked`, `ack`).
//! - **floor**: the same `UPDATE` of the counters run by sqlx directly on the same database and settings, without
//!   the lease check: what the database itself costs per commit.
//! - **16 sessions at once**: `update_sm` from 16 sessions concurrently (one lease each, one store), in updates per
//!   second for the whole store: what a process driving many sessions gets.
//!
//! SQLite runs twice: with the default `synchronous=NORMAL` (durable against a crash of the process) and with
//! `synchronous=FULL` (an fsync per commit: durable against power loss). PostgreSQL too: with the server's
//! `synchronous_commit` (on here) and with `StoreOptions::postgres_async_commit`. The file is in `MOXL_BENCH_DIR` (default:
//! the system temp dir; mind that a tmpfs makes fsync free). PostgreSQL is the server at
//! `MOXL_BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`), in a fresh database dropped at
//! the end; an unreachable server fails the benchmark.
//!
//! `cargo bench --bench store` (`MOXL_BENCH_OPS` operations per round, default 2000; best of 3 rounds).

// Test and bench code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use moxl::jid::BareJid;
use moxl::session::{Lease, SessionStore, SmState, StoreOptions};
use moxl::xec::{ActionStore, MemoryActionStore, StoredAction};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Connection;
use std::str::FromStr;

const ROUNDS: usize = 3;
const SESSIONS: usize = 16;
const TTL: Duration = Duration::from_secs(600);

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn action(i: usize) -> StoredAction {
    StoredAction {
        id: format!("bench{i:08}"),
        type_name: "moxl_xep::xep_0054_vcard_temp::Get".into(),
        state: "{\"to\":\"romeo@montague.lit\",\"note\":\"a little state\"}".into(),
        to: Some("romeo@montague.lit".into()),
        deadline: SystemTime::now() + Duration::from_secs(60),
    }
}

/// The best time per operation over the rounds; `f(round)` runs `ops` operations.
async fn per_op<F, Fut>(ops: usize, mut f: F) -> Duration
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut best = Duration::MAX;
    for round in 0..ROUNDS {
        let start = Instant::now();
        f(round).await;
        best = best.min(start.elapsed());
    }
    best / u32::try_from(ops).unwrap()
}

async fn actions(store: &impl ActionStore, ops: usize) -> Duration {
    per_op(ops, |round| async move {
        for i in 0..ops {
            let a = action(round * ops + i);
            store.save(&a).await.unwrap();
            store.remove(&a.id).await.unwrap();
        }
    })
    .await
}

struct Figures {
    actions: Duration,
    update_sm: Duration,
    floor: Duration,
    push_ack: Duration,
    concurrent_per_s: f64,
}

/// The same database through sqlx directly, for the floor.
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

const RAW_UPDATE_SQLITE: &str = "UPDATE moxl_sessions SET sm_inbound = ?, sm_outbound = ? WHERE account = ?";
const RAW_UPDATE_PG: &str = "UPDATE moxl_sessions SET sm_inbound = $1, sm_outbound = $2 WHERE account = $3";

impl Raw {
    async fn update(&self, n: i64) {
        let rows = match self {
            Raw::Sqlite(p) => sqlx::query(RAW_UPDATE_SQLITE)
                .bind(n)
                .bind(n / 2)
                .bind(ACCOUNT)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
            Raw::Postgres(p) => {
                sqlx::query(RAW_UPDATE_PG).bind(n).bind(n / 2).bind(ACCOUNT).execute(p).await.map(|r| r.rows_affected())
            }
        };
        assert_eq!(rows.unwrap(), 1);
    }

    async fn close(&self) {
        match self {
            Raw::Sqlite(p) => p.close().await,
            Raw::Postgres(p) => p.close().await,
        }
    }
}

const ACCOUNT: &str = "bench@example.com";

async fn measure(store: &SessionStore, raw: &Raw, ops: usize) -> Figures {
    let lease = store.acquire(&ACCOUNT.parse().unwrap(), "bench", TTL).await.unwrap();
    lease.set_sm(Some(&SmState::new("sm-bench", None))).await.unwrap();
    // Warm up (connections, statement caches).
    for i in 0..50 {
        lease.update_sm(i, i).await.unwrap();
        raw.update(i as i64).await;
    }
    let actions = actions(&lease, ops).await;
    let lease_ref = &lease;
    let update_sm = per_op(ops, |round| async move {
        for i in 0..ops {
            let n = (round * ops + i) as u64;
            lease_ref.update_sm(n, n / 2).await.unwrap();
        }
    })
    .await;
    let floor = per_op(ops, |round| async move {
        for i in 0..ops {
            raw.update((round * ops + i) as i64).await;
        }
    })
    .await;
    let push_ack = per_op(ops, |round| async move {
        for i in 0..ops {
            let seq = (round * ops + i + 1) as u64;
            lease_ref.push_unacked(seq, "<message xmlns='jabber:client' to='romeo@montague.lit' id='m1' type='chat'><body>Wherefore art thou?</body></message>").await.unwrap();
            black_box(lease_ref.ack(seq).await.unwrap());
        }
    })
    .await;
    let concurrent_per_s = concurrent(store, ops).await;
    lease.release().await.unwrap();
    Figures { actions, update_sm, floor, push_ack, concurrent_per_s }
}

/// `update_sm` from SESSIONS sessions at once, `ops` in all; updates per second.
async fn concurrent(store: &SessionStore, ops: usize) -> f64 {
    let mut leases: Vec<Lease> = Vec::new();
    for s in 0..SESSIONS {
        let account: BareJid = format!("bench{s}@example.com").parse().unwrap();
        leases.push(store.acquire(&account, "bench", TTL).await.unwrap());
    }
    let leases = std::sync::Arc::new(leases);
    let per_session = ops / SESSIONS;
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let tasks: Vec<_> = (0..SESSIONS)
            .map(|s| {
                let leases = std::sync::Arc::clone(&leases);
                tokio::spawn(async move {
                    for i in 0..per_session {
                        leases[s].update_sm(i as u64, i as u64).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        best = best.min(start.elapsed());
    }
    (per_session * SESSIONS) as f64 / best.as_secs_f64()
}

fn us(d: Duration) -> String {
    format!("{:8.1} µs", d.as_secs_f64() * 1e6)
}

async fn postgres_db() -> (String, String) {
    let admin =
        std::env::var("MOXL_BENCH_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {admin} is unreachable ({e}): run scripts/install-test-deps.sh or set MOXL_BENCH_POSTGRES_URL")
    });
    let name = format!("moxl_bench_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    (admin.clone(), format!("{base}/{name}"))
}

async fn drop_postgres_db(admin: &str, url: &str) {
    let (_, name) = url.rsplit_once('/').unwrap();
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

fn main() {
    let ops = env("MOXL_BENCH_OPS", 2000).max(SESSIONS);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let memory = actions(&MemoryActionStore::default(), ops * 10).await;

        let dir = std::env::var_os("MOXL_BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
        let mut rows: Vec<(String, Figures)> = Vec::new();
        for full in [false, true] {
            let path = dir.join(format!("moxl-bench-store-{}-{full}.db", std::process::id()));
            let mut options = StoreOptions::default();
            options.sqlite_sync_full = full;
            let store = SessionStore::open_sqlite_file(&path, &options).await.unwrap();
            let sync = if full { SqliteSynchronous::Full } else { SqliteSynchronous::Normal };
            let raw = SqliteConnectOptions::new().filename(&path).journal_mode(SqliteJournalMode::Wal).synchronous(sync);
            // Like the store's pool: no ping before each use.
            let raw = SqlitePoolOptions::new().test_before_acquire(false).connect_with(raw).await.unwrap();
            let raw = Raw::Sqlite(raw);
            let label = format!("SQLite file, WAL, synchronous={}", if full { "FULL" } else { "NORMAL" });
            rows.push((label, measure(&store, &raw, ops).await));
            raw.close().await;
            store.close().await;
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        let (admin, url) = postgres_db().await;
        for async_commit in [false, true] {
            let mut options = StoreOptions::default();
            options.postgres_async_commit = async_commit;
            let store = SessionStore::open_with(&url, &options).await.unwrap();
            let mut raw = PgConnectOptions::from_str(&url).unwrap();
            if async_commit {
                raw = raw.options([("synchronous_commit", "off")]);
            }
            let raw = Raw::Postgres(PgPoolOptions::new().test_before_acquire(false).connect_with(raw).await.unwrap());
            let label = format!("PostgreSQL TCP, synchronous_commit={}", if async_commit { "off" } else { "on" });
            rows.push((label, measure(&store, &raw, ops).await));
            raw.close().await;
            store.close().await;
        }
        drop_postgres_db(&admin, &url).await;

        println!(
            "session store: cost per operation, best of {ROUNDS} rounds of {ops}; SQLite file in {}",
            dir.display()
        );
        println!(
            "{:<38} {:>19} {:>11} {:>19} {:>11} {:>16}",
            "backend", "Action save+remove", "update_sm", "floor: raw UPDATE", "push+ack", "16 sessions"
        );
        println!("{:<38} {} {:>7} {:>11} {:>19} {:>11} {:>16}", "MemoryActionStore (baseline)", us(memory), "1x", "-", "-", "-", "-");
        for (label, f) in &rows {
            println!(
                "{:<38} {} {:>7} {} {} {:>7} {} {:>11.0} upd/s",
                label,
                us(f.actions),
                format!("{:.0}x", f.actions.as_secs_f64() / memory.as_secs_f64()),
                us(f.update_sm),
                us(f.floor),
                format!("{:.2}x", f.update_sm.as_secs_f64() / f.floor.as_secs_f64()),
                us(f.push_ack),
                f.concurrent_per_s
            );
        }
        println!("ratios: Action save+remove against MemoryActionStore; update_sm against the raw UPDATE (the lease check's cost)");
    });
}
