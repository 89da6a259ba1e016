//! The SQL of the session store, one module per backend with the same names and the same parameters.
//!
//! Every statement is a constant; values are always bound (`$1`, `$2`, … in both dialects: SQLite reads `$N` as
//! the N-th bound value). Statements written through a lease take the account as `$1` and the lease token as `$2`
//! and change nothing unless that lease is live, in the same statement.
//!
//! Times come from the database's clock, never from the callers' clocks, so that processes on machines with
//! different clocks agree on when a lease expires.

/// One statement in each dialect compiled in; [`statement!`] names it, the store picks the one of its backend.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Statement {
    /// The SQLite text.
    #[cfg(feature = "sqlite")]
    pub(crate) sqlite: &'static str,
    /// The PostgreSQL text.
    #[cfg(feature = "postgres")]
    pub(crate) postgres: &'static str,
}

/// The [`Statement`] of a constant that both dialect modules define, e.g. `statement!(UPDATE_SM)`.
macro_rules! statement {
    ($name:ident) => {
        $crate::session::sql::Statement {
            #[cfg(feature = "sqlite")]
            sqlite: $crate::session::sql::sqlite::$name,
            #[cfg(feature = "postgres")]
            postgres: $crate::session::sql::postgres::$name,
        }
    };
}
pub(crate) use statement;

/// The parts both dialects write the same way. `$lease_ok` is the dialect's "this lease is live" condition.
macro_rules! common {
    ($lease_ok:expr) => {
        /// Creates the session row if there is none (after a lease was acquired).
        pub(crate) const ENSURE_SESSION: &str =
            "INSERT INTO moxl_sessions (account) VALUES ($1) ON CONFLICT (account) DO NOTHING";

        /// Every stored account.
        pub(crate) const ACCOUNTS: &str = "SELECT account FROM moxl_sessions ORDER BY account";

        /// The single-valued fields of a session.
        pub(crate) const LOAD_SESSION: &str = "SELECT bound_jid, server_host, server_port, server_transport, \
             server_url, fast_mechanism, fast_token, fast_expires_ms, credentials, sm_id, sm_location, sm_inbound, \
             sm_outbound, roster_version FROM moxl_sessions WHERE account = $1";
        /// The unacknowledged queue, oldest first.
        pub(crate) const LOAD_UNACKED: &str = "SELECT seq, stanza FROM moxl_unacked WHERE account = $1 ORDER BY seq";
        /// The caps cache.
        pub(crate) const LOAD_CAPS: &str = "SELECT ver, info FROM moxl_caps WHERE account = $1 ORDER BY ver";
        /// The pending Actions, by id.
        pub(crate) const LOAD_ACTIONS: &str =
            "SELECT id, type_name, state, addressee, deadline_ms FROM moxl_actions WHERE account = $1 ORDER BY id";

        // ---- single statements through a lease: $1 account, $2 token -------------------------------------------

        /// The SM counters (the hot path).
        pub(crate) const UPDATE_SM: &str = concat!(
            "UPDATE moxl_sessions SET sm_inbound = $3, sm_outbound = $4 WHERE account = $1 AND ",
            $lease_ok
        );
        /// A new (or no) SM session.
        pub(crate) const SET_SM: &str = concat!(
            "UPDATE moxl_sessions SET sm_id = $3, sm_location = $4, sm_inbound = $5, sm_outbound = $6 \
             WHERE account = $1 AND ",
            $lease_ok
        );
        /// The bound full JID.
        pub(crate) const SET_BOUND: &str =
            concat!("UPDATE moxl_sessions SET bound_jid = $3 WHERE account = $1 AND ", $lease_ok);
        /// The server endpoint.
        pub(crate) const SET_SERVER: &str = concat!(
            "UPDATE moxl_sessions SET server_host = $3, server_port = $4, server_transport = $5, server_url = $6 \
             WHERE account = $1 AND ",
            $lease_ok
        );
        /// The FAST token.
        pub(crate) const SET_FAST_TOKEN: &str = concat!(
            "UPDATE moxl_sessions SET fast_mechanism = $3, fast_token = $4, fast_expires_ms = $5 \
             WHERE account = $1 AND ",
            $lease_ok
        );
        /// The pinned SASL mechanism ($3, `MECHANISM [BINDING]`).
        pub(crate) const SET_AUTH_PIN: &str =
            concat!("UPDATE moxl_sessions SET auth_pin = $3 WHERE account = $1 AND ", $lease_ok);
        /// The pinned SASL mechanism of an account.
        pub(crate) const LOAD_AUTH_PIN: &str = "SELECT auth_pin FROM moxl_sessions WHERE account = $1";
        /// The stored credentials (JSON).
        pub(crate) const SET_CREDENTIALS: &str =
            concat!("UPDATE moxl_sessions SET credentials = $3 WHERE account = $1 AND ", $lease_ok);
        /// The roster version.
        pub(crate) const SET_ROSTER_VERSION: &str =
            concat!("UPDATE moxl_sessions SET roster_version = $3 WHERE account = $1 AND ", $lease_ok);
        /// Appends to the unacknowledged queue ($3 seq, $4 stanza).
        pub(crate) const PUSH_UNACKED: &str = concat!(
            "INSERT INTO moxl_unacked (account, seq, stanza) SELECT $1, $3, $4 WHERE ",
            $lease_ok,
            " ON CONFLICT (account, seq) DO UPDATE SET stanza = excluded.stanza"
        );
        /// Drops the queue up to and including $3.
        pub(crate) const ACK_UNACKED: &str =
            concat!("DELETE FROM moxl_unacked WHERE account = $1 AND seq <= $3 AND ", $lease_ok);
        /// Empties the queue.
        pub(crate) const CLEAR_UNACKED: &str = concat!("DELETE FROM moxl_unacked WHERE account = $1 AND ", $lease_ok);
        /// Adds or replaces a caps entry ($3 ver, $4 info).
        pub(crate) const PUT_CAPS: &str = concat!(
            "INSERT INTO moxl_caps (account, ver, info) SELECT $1, $3, $4 WHERE ",
            $lease_ok,
            " ON CONFLICT (account, ver) DO UPDATE SET info = excluded.info"
        );
        /// Saves or replaces an Action ($3 id, $4 type, $5 state, $6 addressee, $7 deadline).
        pub(crate) const SAVE_ACTION: &str = concat!(
            "INSERT INTO moxl_actions (account, id, type_name, state, addressee, deadline_ms) \
             SELECT $1, $3, $4, $5, $6, $7 WHERE ",
            $lease_ok,
            " ON CONFLICT (account, id) DO UPDATE SET type_name = excluded.type_name, state = excluded.state, \
             addressee = excluded.addressee, deadline_ms = excluded.deadline_ms"
        );
        /// Forgets an Action ($3 id).
        pub(crate) const REMOVE_ACTION: &str =
            concat!("DELETE FROM moxl_actions WHERE account = $1 AND id = $3 AND ", $lease_ok);

        // ---- inside a transaction that checked the lease first: $1 account --------------------------------------

        /// Writes every single-valued field.
        pub(crate) const UPSERT_SESSION: &str = "INSERT INTO moxl_sessions (account, bound_jid, server_host, \
             server_port, server_transport, server_url, fast_mechanism, fast_token, fast_expires_ms, credentials, \
             sm_id, sm_location, sm_inbound, sm_outbound, roster_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (account) DO UPDATE SET bound_jid = excluded.bound_jid, server_host = excluded.server_host, \
             server_port = excluded.server_port, server_transport = excluded.server_transport, \
             server_url = excluded.server_url, fast_mechanism = excluded.fast_mechanism, \
             fast_token = excluded.fast_token, fast_expires_ms = excluded.fast_expires_ms, \
             credentials = excluded.credentials, sm_id = excluded.sm_id, sm_location = excluded.sm_location, \
             sm_inbound = excluded.sm_inbound, sm_outbound = excluded.sm_outbound, \
             roster_version = excluded.roster_version";
        /// Empties the queue (before writing a whole record).
        pub(crate) const DELETE_ALL_UNACKED: &str = "DELETE FROM moxl_unacked WHERE account = $1";
        /// Empties the caps cache.
        pub(crate) const DELETE_ALL_CAPS: &str = "DELETE FROM moxl_caps WHERE account = $1";
        /// Forgets every Action.
        pub(crate) const DELETE_ALL_ACTIONS: &str = "DELETE FROM moxl_actions WHERE account = $1";
        /// One queue entry ($2 seq, $3 stanza).
        pub(crate) const INSERT_UNACKED: &str = "INSERT INTO moxl_unacked (account, seq, stanza) VALUES ($1, $2, $3)";
        /// One caps entry ($2 ver, $3 info).
        pub(crate) const INSERT_CAPS: &str = "INSERT INTO moxl_caps (account, ver, info) VALUES ($1, $2, $3)";
        /// One Action ($2 id, $3 type, $4 state, $5 addressee, $6 deadline).
        pub(crate) const INSERT_ACTION: &str = "INSERT INTO moxl_actions (account, id, type_name, state, \
             addressee, deadline_ms) VALUES ($1, $2, $3, $4, $5, $6)";
        /// Deletes the session and, by cascade, its queue, caps and Actions.
        pub(crate) const DELETE_SESSION: &str = "DELETE FROM moxl_sessions WHERE account = $1";

        // ---- leases ---------------------------------------------------------------------------------------------

        /// Extends a lease ($3 ttl in ms) if its token is still the account's: an expired lease that nobody took
        /// over can be renewed.
        pub(crate) const RENEW: &str =
            concat!("UPDATE moxl_leases SET expires_ms = ", now_ms!(), " + $3 WHERE account = $1 AND token = $2");
        /// Gives a lease up.
        pub(crate) const RELEASE: &str = "DELETE FROM moxl_leases WHERE account = $1 AND token = $2";
        /// Whether a lease is live (to tell "nothing to delete" from "lease lost").
        pub(crate) const LEASE_LIVE: &str =
            concat!("SELECT 1 FROM moxl_leases WHERE account = $1 AND token = $2 AND expires_ms > ", now_ms!());
        /// Who holds the account's lease, and for how many more milliseconds.
        pub(crate) const HOLDER: &str =
            concat!("SELECT owner, expires_ms - ", now_ms!(), " AS remaining_ms FROM moxl_leases WHERE account = $1");
        /// Takes the lease ($2 owner, $3 token, $4 ttl in ms) if there is none, if it expired, or if the same owner
        /// holds it (a restarted process); one atomic statement, returning the token only when taken.
        pub(crate) const ACQUIRE: &str = concat!(
            "INSERT INTO moxl_leases (account, owner, token, expires_ms) VALUES ($1, $2, $3, ",
            now_ms!(),
            " + $4) ON CONFLICT (account) DO UPDATE SET owner = excluded.owner, token = excluded.token, \
             expires_ms = excluded.expires_ms WHERE moxl_leases.expires_ms <= ",
            now_ms!(),
            " OR moxl_leases.owner = excluded.owner RETURNING token"
        );
    };
}

/// SQLite: integer milliseconds since the epoch from `julianday` (available in every SQLite version; about 50 µs
/// of resolution). Transactions that write begin with `BEGIN IMMEDIATE`, so they hold the write lock from their
/// first statement.
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite {
    /// The backend's name.
    pub(crate) const NAME: &str = "sqlite";

    /// This dialect's text of a statement.
    pub(crate) fn pick(statement: super::Statement) -> &'static str {
        statement.sqlite
    }

    macro_rules! now_ms {
        () => {
            "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
        };
    }

    common!(concat!(
        "EXISTS (SELECT 1 FROM moxl_leases WHERE account = $1 AND token = $2 AND expires_ms > ",
        now_ms!(),
        ")"
    ));

    /// Checks the lease at the start of a write transaction.
    pub(crate) const LOCK_LEASE: &str = LEASE_LIVE;

    /// Begins a write transaction holding SQLite's write lock at once.
    pub(crate) async fn begin(
        pool: &sqlx::SqlitePool,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// Begins a read transaction (one consistent snapshot).
    pub(crate) async fn begin_read(
        pool: &sqlx::SqlitePool,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        pool.begin().await
    }
}

/// PostgreSQL: integer milliseconds since the epoch from `clock_timestamp()`. A write through a lease locks the
/// lease row `FOR SHARE` in the same statement: a concurrent takeover (an `UPDATE` of that row) waits for the write
/// to commit, and a write that waited for a takeover re-reads the row and finds the token changed. So no write
/// through a lease lands after that lease was taken over.
#[cfg(feature = "postgres")]
pub(crate) mod postgres {
    /// The backend's name.
    pub(crate) const NAME: &str = "postgres";

    /// This dialect's text of a statement.
    pub(crate) fn pick(statement: super::Statement) -> &'static str {
        statement.postgres
    }

    macro_rules! now_ms {
        () => {
            "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
        };
    }

    common!(concat!(
        "EXISTS (SELECT 1 FROM moxl_leases WHERE account = $1 AND token = $2 AND expires_ms > ",
        now_ms!(),
        " FOR SHARE)"
    ));

    /// Checks and locks the lease at the start of a write transaction (held until commit).
    pub(crate) const LOCK_LEASE: &str = concat!(
        "SELECT 1 FROM moxl_leases WHERE account = $1 AND token = $2 AND expires_ms > ",
        now_ms!(),
        " FOR SHARE"
    );

    /// Begins a write transaction.
    pub(crate) async fn begin(pool: &sqlx::PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        pool.begin().await
    }

    /// Begins a read transaction (one consistent snapshot).
    pub(crate) async fn begin_read(
        pool: &sqlx::PgPool,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await
    }
}
