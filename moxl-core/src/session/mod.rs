//! Sessions that survive a restart: the [`SessionRecord`] of an account and the [`SessionStore`] that keeps it in
//! SQLite (embedded, the default) or PostgreSQL (several processes sharing one database).
//!
//! # What is stored
//! Per account ([`SessionRecord`]): the bound full JID, the server endpoint and transport, the XEP-0484 FAST token,
//! login credentials only if the user opted in (SCRAM keys, never the password: see [`StoredCredentials`]), the
//! XEP-0198 state (id, location, counters) and its unacknowledged outbound queue, the roster version, the
//! entity-caps cache, and the pending Actions ([`StoredAction`](crate::xec::StoredAction)s).
//!
//! # One process per session: the lease
//! Any process may [`load`](SessionStore::load) a session; writing needs the session's [`Lease`], which
//! [`SessionStore::acquire`] grants to one owner at a time for a time-to-live, and which the owner
//! [`renew`](Lease::renew)s. An expired lease can be taken over by another process. The takeover is one atomic
//! statement (`INSERT … ON CONFLICT … DO UPDATE … WHERE expired RETURNING`), and every write through a lease checks,
//! in the same statement, that the lease is still the one the database holds — so a process whose lease was taken
//! over gets [`LeaseError::Lost`] and writes nothing. On PostgreSQL the write also locks the lease row
//! (`FOR SHARE`), so a takeover and a write in flight are serialized; on SQLite every write holds the database's
//! write lock. Lease times come from the database's clock, not the processes'.
//!
//! # Written through: what a crash can lose
//! Every write is a single statement (or, for [`Lease::save_record`] and [`Lease::forget`], a single
//! transaction), committed before the call returns. There is no write-behind buffer. So:
//! - **A crash of the process loses nothing whose call returned `Ok`.** A write whose call had not returned is
//!   either wholly there or wholly absent (never half of a record).
//! - What the caller had not handed to the store yet is lost: for example a stanza counted in memory but whose
//!   [`update_sm`](Lease::update_sm) was not awaited. Write before you act on it (store an Action before sending
//!   its request; push a stanza to the unacked queue before writing it to the socket).
//! - **SQLite, OS crash or power loss:** by default the file is in WAL mode with `synchronous=NORMAL`, which
//!   survives a crash of the process but may undo the last transactions committed before the machine went down
//!   (never corrupting the file). With [`StoreOptions::sqlite_sync_full`] every commit is flushed to disk first:
//!   then nothing acknowledged is lost, at the price of one `fsync` per write.
//! - **PostgreSQL:** as durable as the server is configured (`synchronous_commit`, replication). With
//!   [`StoreOptions::postgres_async_commit`] a crash of the moxl process still loses nothing acknowledged, but a
//!   crash of the database server may undo its last moments of writes (at most 3 × `wal_writer_delay`).
//!
//! Costs per write (fsync-bound, so they depend on the disk) are printed by `cargo bench --bench store`.
//!
//! # Databases
//! [`SessionStore::open`] takes `sqlite::memory:` (tests), `sqlite:PATH` (a file, created if missing, mode 0600 on
//! Unix) or `postgres://…`; the cargo features `sqlite` (default) and `postgres` choose the backends compiled in.
//! The tables are created and upgraded by migrations shipped in the crate (`migrations/sqlite`,
//! `migrations/postgres`), run by sqlx when the store opens, and are all prefixed `moxl_`. sqlx records applied
//! migrations in its table `_sqlx_migrations`: an application that runs its own sqlx migrations should give moxl a
//! database (or PostgreSQL schema) of its own.
//!
//! ```
//! use std::time::Duration;
//! use moxl_core::session::{SessionStore, SmState};
//! use moxl_core::xec::Xec;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = SessionStore::open("sqlite::memory:").await?; // or a file path, or postgres://…
//! let account: moxl_core::jid::BareJid = "juliet@capulet.lit".parse()?;
//!
//! // The process that drives the session holds its lease and writes through it.
//! let lease = store.acquire(&account, "host-a:4711", Duration::from_secs(30)).await?;
//! lease.set_bound(Some(&"juliet@capulet.lit/balcony".parse()?)).await?;
//! lease.set_sm(Some(&SmState::new("sm-1", None))).await?;
//! lease.update_sm(1, 0).await?;
//!
//! // A later run revives the pending Actions from the same lease.
//! let xec = Xec::new()?;
//! assert_eq!(xec.restore_from(&lease).await?, 0);
//! lease.release().await?;
//! # Ok::<(), moxl_core::Error>(()) }).unwrap();
//! ```

mod caps;
mod error;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod lease;
mod record;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod rows;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod store;

use std::time::Duration;

pub use caps::CapsCache;
pub use error::StoreError;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub use lease::Lease;
pub use record::{FastToken, ServerEndpoint, SessionRecord, SmState, StoredCredentials, TransportKind, UnackedStanza};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub use store::{SessionStore, StoreOptions};

/// Why a session could not be written: another process drives it, or this process lost its lease.
///
/// ```
/// use moxl_core::session::LeaseError;
/// let e = LeaseError::Lost { account: "juliet@capulet.lit".into(), owner: "worker-1".into() };
/// assert!(e.to_string().contains("juliet@capulet.lit"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LeaseError {
    /// [`SessionStore::acquire`] found a live lease held by another owner.
    #[error("session {account} is driven by {owner} (lease valid for another {remaining:?})")]
    Held {
        /// The account.
        account: String,
        /// The holder's owner id.
        owner: String,
        /// How long the holder's lease still runs unless renewed.
        remaining: Duration,
    },
    /// A write or renewal through a lease that expired or was taken over: nothing was written.
    #[error("session {account}: the lease of {owner} expired or was taken over; nothing was written")]
    Lost {
        /// The account.
        account: String,
        /// The owner id of the lost lease.
        owner: String,
    },
}
