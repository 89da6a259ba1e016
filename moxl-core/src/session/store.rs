//! The sqlx session store: SQLite and PostgreSQL behind one type ([`SessionStore`]), and the one place where a
//! statement is bound, run and its errors mapped ([`SessionStore::execute`], [`Tx`]).

use std::time::Duration;

use jid::BareJid;

use super::lease::Lease;
use super::record::{SessionRecord, UnackedStanza};
use super::rows::{corrupt, get, to_u64, ttl_ms, RawAction, RawSession};
use super::sql::Statement;
use super::LeaseError;
use crate::session::StoreError;
use crate::{Error, Result};

#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
#[cfg(feature = "sqlite")]
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// How a [`SessionStore`] is opened.
///
/// ```
/// use moxl_core::session::{SessionStore, StoreOptions};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let mut options = StoreOptions::default();
/// options.max_connections = 2;
/// options.sqlite_sync_full = true; // SQLite: fsync every commit
/// options.postgres_async_commit = false; // PostgreSQL only
/// let store = SessionStore::open_with("sqlite::memory:", &options).await?;
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreOptions {
    /// The most database connections the store opens (default 4; an in-memory SQLite database always uses one).
    pub max_connections: u32,
    /// How long a call waits for a free connection, and SQLite for a lock held by another process (default 5 s).
    pub busy_timeout: Duration,
    /// SQLite only: `synchronous=FULL` (every commit is flushed to disk) instead of the default `NORMAL` (in WAL
    /// mode: safe against a crash of the process, but an OS crash or power loss may undo the last commits). See
    /// the [module documentation](super) for what a crash can lose.
    pub sqlite_sync_full: bool,
    /// PostgreSQL only: `synchronous_commit = off` on the store's connections, so that a commit returns before its
    /// WAL record is flushed (several times cheaper per write). A crash of the moxl process still loses nothing
    /// acknowledged; a crash of the PostgreSQL server or its machine may undo the writes of its last moments (at
    /// most three times its `wal_writer_delay`, 600 ms by default), never leaving them half done. Default `false`:
    /// the server's own setting applies.
    pub postgres_async_commit: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 4,
            busy_timeout: Duration::from_secs(5),
            sqlite_sync_full: false,
            postgres_async_commit: false,
        }
    }
}

#[derive(Clone, Debug)]
pub(super) enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// Runs `$body` with `$p` bound to the pool and `$sql` to the backend's SQL module; each arm is checked on its own
/// backend's types.
macro_rules! on_pool {
    ($pool:expr, |$p:ident, $sql:ident| $body:expr) => {
        match $pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite($p) => {
                use super::sql::sqlite as $sql;
                $body
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres($p) => {
                use super::sql::postgres as $sql;
                $body
            }
        }
    };
}
pub(super) use on_pool;

/// One value bound to a statement: the store writes text, integers and NULLs only.
#[derive(Clone, Copy, Debug)]
pub(super) enum Arg<'a> {
    /// Text, or NULL.
    Text(Option<&'a str>),
    /// A 64-bit integer, or NULL.
    Int(Option<i64>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(v: &'a Option<String>) -> Self {
        Arg::Text(v.as_deref())
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

/// Binds `args` in order (`$1`, `$2`, …) to a statement of either backend.
fn bind_all<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    args: impl IntoIterator<Item = Arg<'q>>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for arg in args {
        query = match arg {
            Arg::Text(v) => query.bind(v),
            Arg::Int(v) => query.bind(v),
        };
    }
    query
}

/// A write transaction on either backend (see [`SessionStore::begin`]); dropped without
/// [`commit`](Self::commit), it rolls back.
pub(super) enum Tx {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// Runs one statement in the transaction; returns the rows it changed.
    pub(super) async fn execute<'q>(
        &mut self,
        what: &str,
        statement: Statement,
        args: impl IntoIterator<Item = Arg<'q>>,
    ) -> Result<u64> {
        let done = match self {
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx) => {
                bind_all(sqlx::query(statement.sqlite), args).execute(&mut **tx).await.map(|r| r.rows_affected())
            }
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => {
                bind_all(sqlx::query(statement.postgres), args).execute(&mut **tx).await.map(|r| r.rows_affected())
            }
        };
        done.map_err(store_err(what))
    }

    /// Whether a query returns a row (e.g. a live lease, locked for the rest of the transaction).
    pub(super) async fn exists<'q>(
        &mut self,
        what: &str,
        statement: Statement,
        args: impl IntoIterator<Item = Arg<'q>>,
    ) -> Result<bool> {
        let row = match self {
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx) => {
                bind_all(sqlx::query(statement.sqlite), args).fetch_optional(&mut **tx).await.map(|r| r.is_some())
            }
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => {
                bind_all(sqlx::query(statement.postgres), args).fetch_optional(&mut **tx).await.map(|r| r.is_some())
            }
        };
        row.map_err(store_err(what))
    }

    /// Commits.
    pub(super) async fn commit(self, what: &str) -> Result<()> {
        let done = match self {
            #[cfg(feature = "sqlite")]
            Tx::Sqlite(tx) => tx.commit().await,
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => tx.commit().await,
        };
        done.map_err(store_err(what))
    }
}

/// Sessions kept in a database: SQLite (embedded; a file, or `sqlite::memory:`) or PostgreSQL (several
/// processes sharing one database).
///
/// Cheap to clone (a handle on a connection pool). Reading needs nothing more; writing goes through the
/// [`Lease`] that [`acquire`](Self::acquire) gives, so that one process at a time drives a session.
///
/// ```
/// use std::time::Duration;
/// use moxl_core::session::SessionStore;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = SessionStore::open("sqlite::memory:").await?;
/// let account: moxl_core::jid::BareJid = "juliet@capulet.lit".parse()?;
/// let lease = store.acquire(&account, "worker-1", Duration::from_secs(30)).await?;
/// lease.set_roster_version(Some("ver7")).await?;
/// assert_eq!(store.load(&account).await?.and_then(|r| r.roster_version).as_deref(), Some("ver7"));
/// lease.release().await?;
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct SessionStore {
    pub(super) pool: Pool,
}

/// The one mapping of a database error: a [`StoreError::Database`] saying what the store was doing.
pub(super) fn store_err(what: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    move |e| StoreError::Database { what: what.to_owned(), source: e }.into()
}

impl SessionStore {
    /// Opens (creating if needed) a store and brings its tables up to date.
    ///
    /// `url` is `sqlite::memory:`, `sqlite:PATH` / `sqlite://PATH` (created if missing, in WAL mode, readable by
    /// its owner only), or `postgres://user@host/database` (the database must exist; give moxl a database or
    /// schema of its own, see the [module documentation](super)). Backends not compiled in (cargo features
    /// `sqlite`, `postgres`) are refused with a clear error.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// assert!(store.accounts().await?.is_empty());
    /// assert!(moxl_core::session::SessionStore::open("mysql://nope").await.is_err());
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn open(url: &str) -> Result<SessionStore> {
        Self::open_with(url, &StoreOptions::default()).await
    }

    /// Opens a SQLite file (created if missing), in WAL mode.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("moxl-doc-{}.db", std::process::id()));
    /// let store = moxl_core::session::SessionStore::open_sqlite_file(&path, &Default::default()).await?;
    /// assert!(path.exists());
    /// store.close().await;
    /// # for suffix in ["", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{suffix}", path.display())); }
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub async fn open_sqlite_file(path: impl AsRef<std::path::Path>, options: &StoreOptions) -> Result<SessionStore> {
        let connect = SqliteConnectOptions::new().filename(path.as_ref());
        Self::open_sqlite(connect, false, options).await
    }

    /// Opens a store with [`StoreOptions`] (see [`open`](Self::open) for the URLs).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let options = moxl_core::session::StoreOptions::default();
    /// let store = moxl_core::session::SessionStore::open_with("sqlite::memory:", &options).await?;
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn open_with(url: &str, options: &StoreOptions) -> Result<SessionStore> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
        match scheme {
            #[cfg(feature = "sqlite")]
            "sqlite" => {
                use std::str::FromStr;
                let connect = SqliteConnectOptions::from_str(url).map_err(store_err("session store URL"))?;
                let in_memory = url.contains(":memory:") || url.contains("mode=memory");
                Self::open_sqlite(connect, in_memory, options).await
            }
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => {
                use std::str::FromStr;
                let connect = PgConnectOptions::from_str(url).map_err(store_err("session store URL"))?;
                Self::open_postgres(connect, options).await
            }
            other => Err(StoreError::UnsupportedScheme {
                scheme: other.to_owned(),
                compiled: [
                    cfg!(feature = "sqlite").then_some("sqlite"),
                    cfg!(feature = "postgres").then_some("postgres"),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
            }
            .into()),
        }
    }

    #[cfg(feature = "sqlite")]
    async fn open_sqlite(connect: SqliteConnectOptions, in_memory: bool, options: &StoreOptions) -> Result<Self> {
        let sync = if options.sqlite_sync_full { SqliteSynchronous::Full } else { SqliteSynchronous::Normal };
        let mut connect = connect.busy_timeout(options.busy_timeout).foreign_keys(true);
        let mut pool = SqlitePoolOptions::new().acquire_timeout(options.busy_timeout).test_before_acquire(false);
        if in_memory {
            // One connection, never closed: the database lives as long as it does.
            pool = pool.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None);
        } else {
            create_private_file(connect.get_filename())?;
            connect = connect.create_if_missing(true).journal_mode(SqliteJournalMode::Wal).synchronous(sync);
            pool = pool.max_connections(options.max_connections.max(1));
        }
        let pool = pool.connect_with(connect).await.map_err(store_err("opening the SQLite session store"))?;
        // Two processes opening a new file at once may race on the first migration: the loser retries once and
        // then finds it applied.
        let mut result = sqlx::migrate!("./migrations/sqlite").set_ignore_missing(true).run(&pool).await;
        if result.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            result = sqlx::migrate!("./migrations/sqlite").set_ignore_missing(true).run(&pool).await;
        }
        result.map_err(|source| StoreError::Migrate { backend: "SQLite", source })?;
        Ok(SessionStore { pool: Pool::Sqlite(pool) })
    }

    #[cfg(feature = "postgres")]
    async fn open_postgres(mut connect: PgConnectOptions, options: &StoreOptions) -> Result<Self> {
        if options.postgres_async_commit {
            connect = connect.options([("synchronous_commit", "off")]);
        }
        // One direct connection first: a pool retries a refused connection until its timeout and then reports only
        // the timeout; this reports why (refused, authentication, no such database).
        let probe = tokio::time::timeout(
            options.busy_timeout,
            <sqlx::PgConnection as sqlx::Connection>::connect_with(&connect),
        )
        .await
        .map_err(|_| StoreError::NoAnswer {
            what: "opening the PostgreSQL session store".into(),
            after: options.busy_timeout,
        })?
        .map_err(store_err("opening the PostgreSQL session store"))?;
        sqlx::Connection::close(probe).await.map_err(store_err("opening the PostgreSQL session store"))?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.busy_timeout)
            .test_before_acquire(false)
            .connect_with(connect)
            .await
            .map_err(store_err("opening the PostgreSQL session store"))?;
        // sqlx takes an advisory lock around migrations on PostgreSQL: concurrent openers wait for each other.
        sqlx::migrate!("./migrations/postgres")
            .set_ignore_missing(true)
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate { backend: "PostgreSQL", source })?;
        Ok(SessionStore { pool: Pool::Postgres(pool) })
    }

    /// Which backend this store uses: `"sqlite"` or `"postgres"`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// assert_eq!(store.backend(), "sqlite");
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub fn backend(&self) -> &'static str {
        on_pool!(&self.pool, |_p, sql| sql::NAME)
    }

    /// Runs one statement outside a transaction; returns the rows it changed. Every single-statement write of
    /// the store goes through here (and through [`Tx::execute`] inside a transaction).
    pub(super) async fn execute<'q>(
        &self,
        what: &str,
        statement: Statement,
        args: impl IntoIterator<Item = Arg<'q>>,
    ) -> Result<u64> {
        let done = on_pool!(&self.pool, |p, sql| bind_all(sqlx::query(sql::pick(statement)), args)
            .execute(p)
            .await
            .map(|r| r.rows_affected()));
        done.map_err(store_err(what))
    }

    /// Whether a query returns a row.
    pub(super) async fn exists<'q>(
        &self,
        what: &str,
        statement: Statement,
        args: impl IntoIterator<Item = Arg<'q>>,
    ) -> Result<bool> {
        let row = on_pool!(&self.pool, |p, sql| bind_all(sqlx::query(sql::pick(statement)), args)
            .fetch_optional(p)
            .await
            .map(|r| r.is_some()));
        row.map_err(store_err(what))
    }

    /// Begins a write transaction (on SQLite holding the write lock from the start).
    pub(super) async fn begin(&self, what: &str) -> Result<Tx> {
        let tx = match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => super::sql::sqlite::begin(p).await.map(Tx::Sqlite),
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => super::sql::postgres::begin(p).await.map(Tx::Postgres),
        };
        tx.map_err(store_err(what))
    }

    /// Closes the connections (waiting for calls in progress). Leases are not released: release them first.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// store.close().await;
    /// assert!(store.accounts().await.is_err());
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn close(&self) {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => p.close().await,
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => p.close().await,
        }
    }

    /// Every account with a stored session.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// let account = "juliet@capulet.lit".parse()?;
    /// store.acquire(&account, "me", Duration::from_secs(30)).await?;
    /// assert_eq!(store.accounts().await?, vec![account]);
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn accounts(&self) -> Result<Vec<BareJid>> {
        let rows: Vec<String> = on_pool!(&self.pool, |p, sql| sqlx::query_scalar(sql::ACCOUNTS)
            .fetch_all(p)
            .await
            .map_err(store_err("listing sessions"))?);
        rows.iter().map(|a| a.parse().map_err(|e| corrupt(a, "account", format!("not a bare JID: {e}")))).collect()
    }

    /// The stored session of an account (`None` if there is none), read in one consistent snapshot. Needs no
    /// lease: any process may read.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// let account = "juliet@capulet.lit".parse()?;
    /// assert!(store.load(&account).await?.is_none());
    /// let lease = store.acquire(&account, "me", Duration::from_secs(30)).await?;
    /// lease.set_bound(Some(&"juliet@capulet.lit/balcony".parse()?)).await?;
    /// assert_eq!(store.load(&account).await?.unwrap().resource(), Some("balcony"));
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn load(&self, account: &BareJid) -> Result<Option<SessionRecord>> {
        let key = account.to_string();
        let what = format!("session {key}: load");
        let raw = on_pool!(&self.pool, |p, sql| {
            let mut tx = sql::begin_read(p).await.map_err(store_err(&what))?;
            let Some(row) =
                sqlx::query(sql::LOAD_SESSION).bind(&key).fetch_optional(&mut *tx).await.map_err(store_err(&what))?
            else {
                return Ok(None);
            };
            let session = RawSession::read(&row, &key)?;
            let unacked =
                sqlx::query(sql::LOAD_UNACKED).bind(&key).fetch_all(&mut *tx).await.map_err(store_err(&what))?;
            let unacked = unacked
                .iter()
                .map(|r| {
                    Ok((get::<i64, _>(r, &key, "moxl_unacked.seq")?, get::<String, _>(r, &key, "moxl_unacked.stanza")?))
                })
                .collect::<Result<Vec<_>>>()?;
            let caps = sqlx::query(sql::LOAD_CAPS).bind(&key).fetch_all(&mut *tx).await.map_err(store_err(&what))?;
            let caps = caps
                .iter()
                .map(|r| {
                    Ok((get::<String, _>(r, &key, "moxl_caps.ver")?, get::<String, _>(r, &key, "moxl_caps.info")?))
                })
                .collect::<Result<Vec<_>>>()?;
            let actions =
                sqlx::query(sql::LOAD_ACTIONS).bind(&key).fetch_all(&mut *tx).await.map_err(store_err(&what))?;
            let actions = actions.iter().map(|r| RawAction::read(r, &key)).collect::<Result<Vec<_>>>()?;
            tx.commit().await.map_err(store_err(&what))?;
            (session, unacked, caps, actions)
        });
        let (session, unacked, caps, actions) = raw;
        let mut record = session.into_record(account.clone(), &key)?;
        for (seq, stanza) in unacked {
            record.unacked.push(UnackedStanza { seq: to_u64(seq, &key, "moxl_unacked.seq")?, stanza });
        }
        record.caps = caps.into_iter().collect();
        record.actions = actions.into_iter().map(|a| a.into_action(&key)).collect::<Result<_>>()?;
        Ok(Some(record))
    }

    /// Takes the lease on an account's session for `ttl`: succeeds when no live lease exists (none, an expired
    /// one, or one held by the same `owner`, e.g. the same process after a restart), else fails with
    /// [`LeaseError::Held`] naming the holder. One atomic statement, race-free between processes. Creates the
    /// (empty) session row if there is none.
    ///
    /// `owner` names the process (host, pid, start time…): two processes must not share one. Renew the lease
    /// well before `ttl` passes ([`Lease::renew`]); when it expires another process may take the session over,
    /// and every write through the old lease then fails with [`LeaseError::Lost`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use moxl_core::{Error, session::{LeaseError, SessionStore}};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = SessionStore::open("sqlite::memory:").await?;
    /// let account = "juliet@capulet.lit".parse()?;
    /// let lease = store.acquire(&account, "worker-1", Duration::from_secs(30)).await?;
    /// let other = store.acquire(&account, "worker-2", Duration::from_secs(30)).await;
    /// assert!(matches!(other, Err(Error::Lease(LeaseError::Held { ref owner, .. })) if owner == "worker-1"));
    /// lease.release().await?;
    /// store.acquire(&account, "worker-2", Duration::from_secs(30)).await?;
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn acquire(&self, account: &BareJid, owner: &str, ttl: Duration) -> Result<Lease> {
        let key = account.to_string();
        let what = format!("session {key}: acquire");
        let ttl_ms = ttl_ms(ttl, &key)?;
        for _ in 0..3 {
            let token: i64 = rand::random();
            let taken: Option<i64> = on_pool!(&self.pool, |p, sql| sqlx::query_scalar(sql::ACQUIRE)
                .bind(&key)
                .bind(owner)
                .bind(token)
                .bind(ttl_ms)
                .fetch_optional(p)
                .await
                .map_err(store_err(&what))?);
            if taken == Some(token) {
                self.execute(&what, super::sql::statement!(ENSURE_SESSION), [Arg::from(key.as_str())]).await?;
                return Ok(Lease::new(self.clone(), account.clone(), key, owner.to_owned(), token, ttl_ms));
            }
            // Held by someone else: say by whom.
            let holder: Option<(String, i64)> = on_pool!(&self.pool, |p, sql| sqlx::query_as(sql::HOLDER)
                .bind(&key)
                .fetch_optional(p)
                .await
                .map_err(store_err(&what))?);
            // (If it expired in the meantime, or was released, try again.)
            if let Some((holder, remaining_ms)) = holder {
                if let Ok(remaining_ms @ 1..) = u64::try_from(remaining_ms) {
                    let remaining = Duration::from_millis(remaining_ms);
                    return Err(LeaseError::Held { account: key, owner: holder, remaining }.into());
                }
            }
        }
        Err(StoreError::Contended { what }.into())
    }
}

/// Creates a new SQLite file readable and writable by its owner only (it may hold login secrets); an existing
/// file is left as it is. SQLite gives its `-wal` and `-shm` files the same permissions.
#[cfg(feature = "sqlite")]
fn create_private_file(path: &std::path::Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StoreError::Create { path: path.to_owned(), source }.into()),
    }
}
