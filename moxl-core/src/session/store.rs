//! The sqlx session store: SQLite and PostgreSQL behind one type, and the lease that writes through it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jid::{BareJid, FullJid};
use sqlx::Row;

use super::record::{
    FastToken, ServerEndpoint, SessionRecord, SmState, StoredCredentials, TransportKind, UnackedStanza,
};
use super::LeaseError;
use crate::session::StoreError;
use crate::xec::{ActionStore, StoredAction};
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
enum Pool {
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
    pool: Pool,
}

fn store_err(what: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
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
                on_pool!(&self.pool, |p, sql| {
                    sqlx::query(sql::ENSURE_SESSION).bind(&key).execute(p).await.map_err(store_err(&what))?;
                });
                return Ok(Lease {
                    store: self.clone(),
                    account: account.clone(),
                    key,
                    owner: owner.to_owned(),
                    token,
                    ttl_ms,
                });
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

/// The right to write one account's session, held by one process at a time (see [`SessionStore::acquire`]).
///
/// Every write is one statement (or one transaction) that checks the lease in the database as it writes: it is
/// durable when the call returns `Ok`, and it fails with [`LeaseError::Lost`] — writing nothing — once the lease
/// expired or was taken over. Writes issued concurrently are not ordered among themselves: await one before
/// issuing the next when order matters (SM counters). Dropping a `Lease` does not release it (that needs the
/// database): call [`release`](Self::release), or let it expire.
///
/// A `Lease` is also the [`ActionStore`] of its session, so an [`Xec`](crate::xec::Xec) saves its pending Actions
/// there and a later run revives them with [`Xec::restore_from`](crate::xec::Xec::restore_from).
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use moxl_core::session::{SessionStore, SmState, UnackedStanza};
/// use moxl_core::xec::{ActionStore, StoredAction};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = SessionStore::open("sqlite::memory:").await?;
/// let account = "juliet@capulet.lit".parse()?;
/// let lease = store.acquire(&account, "worker-1", Duration::from_secs(30)).await?;
/// lease.set_sm(Some(&SmState::new("sm-1", None))).await?;
/// lease.push_unacked(1, "<message xmlns='jabber:client' id='m1'/>").await?;
/// lease.push_unacked(2, "<message xmlns='jabber:client' id='m2'/>").await?;
/// lease.update_sm(5, 2).await?;
/// assert_eq!(lease.ack(1).await?, 1); // the server acknowledged stanza 1
/// lease.save(&StoredAction { id: "a1".into(), type_name: "app::Get".into(), state: "{}".into(), to: None,
///     deadline: SystemTime::now() + Duration::from_secs(60) }).await?;
/// let record = lease.load().await?;
/// assert_eq!(record.sm.map(|sm| (sm.inbound, sm.outbound)), Some((5, 2)));
/// assert_eq!(record.unacked, vec![UnackedStanza::new(2, "<message xmlns='jabber:client' id='m2'/>")]);
/// assert_eq!(record.actions.len(), 1);
/// # Ok::<(), moxl_core::Error>(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct Lease {
    store: SessionStore,
    account: BareJid,
    key: String,
    owner: String,
    token: i64,
    ttl_ms: i64,
}

impl Lease {
    /// The account whose session this lease covers.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// assert_eq!(lease.account().to_string(), "juliet@capulet.lit");
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub fn account(&self) -> &BareJid {
        &self.account
    }

    /// The owner id it was acquired with.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// assert_eq!(lease.owner(), "me");
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The store it writes to.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// assert_eq!(lease.store().backend(), "sqlite");
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub fn store(&self) -> &SessionStore {
        &self.store
    }

    /// Extends the lease by its ttl from now. Fails with [`LeaseError::Lost`] if another process took it over; a
    /// lease that expired but that nobody took is renewed.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// lease.renew().await?; // call it every ttl/3 or so
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn renew(&self) -> Result<()> {
        let what = self.what("renew");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::RENEW)
            .bind(&self.key)
            .bind(self.token)
            .bind(self.ttl_ms)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        if n == 0 {
            return Err(self.lost());
        }
        Ok(())
    }

    /// Gives the session up, so that another process may take it at once. Fails with [`LeaseError::Lost`] if it
    /// had already been taken over.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// let account = "juliet@capulet.lit".parse()?;
    /// let lease = store.acquire(&account, "me", Duration::from_secs(30)).await?;
    /// lease.release().await?;
    /// store.acquire(&account, "someone-else", Duration::from_secs(30)).await?;
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn release(self) -> Result<()> {
        let what = self.what("release");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::RELEASE)
            .bind(&self.key)
            .bind(self.token)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        if n == 0 {
            return Err(self.lost());
        }
        Ok(())
    }

    /// The session as stored (see [`SessionStore::load`]); an empty record if it was deleted meanwhile.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// assert!(lease.load().await?.sm.is_none());
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn load(&self) -> Result<SessionRecord> {
        Ok(self.store.load(&self.account).await?.unwrap_or_else(|| SessionRecord::new(self.account.clone())))
    }

    /// Writes a whole record in one transaction, replacing every field, the unacknowledged queue, the caps cache
    /// and the Actions. The record's account must be the lease's.
    ///
    /// ```
    /// # use std::time::Duration;
    /// use moxl_core::session::{SessionRecord, SmState};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// let account: moxl_core::jid::BareJid = "juliet@capulet.lit".parse()?;
    /// let lease = store.acquire(&account, "me", Duration::from_secs(30)).await?;
    /// let mut record = SessionRecord::new(account.clone());
    /// record.sm = Some(SmState::new("sm-1", None));
    /// record.caps.insert("QgayPKawpkPSDYmwT/WM94uAlu0=".into(), "<query xmlns='http://jabber.org/protocol/disco#info'/>".into());
    /// lease.save_record(&record).await?;
    /// assert_eq!(lease.load().await?, record);
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn save_record(&self, record: &SessionRecord) -> Result<()> {
        if record.account != self.account {
            return Err(StoreError::Unstorable {
                session: self.key.clone(),
                detail: format!("cannot save the record of {} through this lease", record.account),
            }
            .into());
        }
        let what = self.what("save");
        let key = &self.key;
        let row = SessionRow::from_record(record, key)?;
        let unacked = record
            .unacked
            .iter()
            .map(|u| Ok((to_i64(u.seq, key, "an unacked sequence number")?, u.stanza.as_str())))
            .collect::<Result<Vec<_>>>()?;
        let actions = record.actions.iter().map(|a| ActionRow::from_action(a, key)).collect::<Result<Vec<_>>>()?;
        on_pool!(&self.store.pool, |p, sql| {
            let mut tx = sql::begin(p).await.map_err(store_err(&what))?;
            let live = sqlx::query(sql::LOCK_LEASE)
                .bind(key)
                .bind(self.token)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_err(&what))?;
            if live.is_none() {
                return Err(self.lost());
            }
            sqlx::query(sql::UPSERT_SESSION)
                .bind(key)
                .bind(&row.bound_jid)
                .bind(row.server_host)
                .bind(row.server_port)
                .bind(row.server_transport)
                .bind(row.server_url)
                .bind(row.fast_mechanism)
                .bind(row.fast_token)
                .bind(row.fast_expires_ms)
                .bind(&row.credentials)
                .bind(row.sm_id)
                .bind(row.sm_location)
                .bind(row.sm_inbound)
                .bind(row.sm_outbound)
                .bind(&record.roster_version)
                .execute(&mut *tx)
                .await
                .map_err(store_err(&what))?;
            for statement in [sql::DELETE_ALL_UNACKED, sql::DELETE_ALL_CAPS, sql::DELETE_ALL_ACTIONS] {
                sqlx::query(statement).bind(key).execute(&mut *tx).await.map_err(store_err(&what))?;
            }
            for (seq, stanza) in &unacked {
                sqlx::query(sql::INSERT_UNACKED)
                    .bind(key)
                    .bind(seq)
                    .bind(stanza)
                    .execute(&mut *tx)
                    .await
                    .map_err(store_err(&what))?;
            }
            for (ver, info) in &record.caps {
                sqlx::query(sql::INSERT_CAPS)
                    .bind(key)
                    .bind(ver)
                    .bind(info)
                    .execute(&mut *tx)
                    .await
                    .map_err(store_err(&what))?;
            }
            for a in &actions {
                sqlx::query(sql::INSERT_ACTION)
                    .bind(key)
                    .bind(a.id)
                    .bind(a.type_name)
                    .bind(a.state)
                    .bind(a.addressee)
                    .bind(a.deadline_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(store_err(&what))?;
            }
            tx.commit().await.map_err(store_err(&what))?;
        });
        Ok(())
    }

    /// Deletes the session (record, queue, caps, Actions) and releases the lease, in one transaction: for an
    /// account the user removed or logged out of.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// let account = "juliet@capulet.lit".parse()?;
    /// let lease = store.acquire(&account, "me", Duration::from_secs(30)).await?;
    /// lease.forget().await?;
    /// assert!(store.load(&account).await?.is_none());
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn forget(self) -> Result<()> {
        let what = self.what("forget");
        let key = &self.key;
        on_pool!(&self.store.pool, |p, sql| {
            let mut tx = sql::begin(p).await.map_err(store_err(&what))?;
            let live = sqlx::query(sql::LOCK_LEASE)
                .bind(key)
                .bind(self.token)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_err(&what))?;
            if live.is_none() {
                return Err(self.lost());
            }
            sqlx::query(sql::DELETE_SESSION).bind(key).execute(&mut *tx).await.map_err(store_err(&what))?;
            sqlx::query(sql::RELEASE).bind(key).bind(self.token).execute(&mut *tx).await.map_err(store_err(&what))?;
            tx.commit().await.map_err(store_err(&what))?;
        });
        Ok(())
    }

    /// Writes the SM counters: `inbound` (the `h` we report) and `outbound` (stanzas sent). One small `UPDATE`:
    /// cheap enough to call for every stanza.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// # let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// lease.set_sm(Some(&moxl_core::session::SmState::new("sm-1", None))).await?;
    /// lease.update_sm(3, 1).await?;
    /// let sm = lease.load().await?.sm.unwrap();
    /// assert_eq!((sm.inbound, sm.outbound), (3, 1));
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn update_sm(&self, inbound: u64, outbound: u64) -> Result<()> {
        let inbound = to_i64(inbound, &self.key, "the inbound count")?;
        let outbound = to_i64(outbound, &self.key, "the outbound count")?;
        let what = self.what("update_sm");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::UPDATE_SM)
            .bind(&self.key)
            .bind(self.token)
            .bind(inbound)
            .bind(outbound)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.written(n)
    }

    /// Starts (or, with `None`, ends) an SM session: its id, location and both counters. The unacknowledged queue
    /// is left as it is (after a failed resumption its stanzas may be sent again).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// # let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// lease.set_sm(Some(&moxl_core::session::SmState::new("sm-1", Some("10.0.0.1:5222".into())))).await?;
    /// lease.set_sm(None).await?;
    /// assert!(lease.load().await?.sm.is_none());
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn set_sm(&self, sm: Option<&SmState>) -> Result<()> {
        let (inbound, outbound) = match sm {
            Some(sm) => (
                to_i64(sm.inbound, &self.key, "the inbound count")?,
                to_i64(sm.outbound, &self.key, "the outbound count")?,
            ),
            None => (0, 0),
        };
        let what = self.what("set_sm");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::SET_SM)
            .bind(&self.key)
            .bind(self.token)
            .bind(sm.map(|s| s.id.as_str()))
            .bind(sm.and_then(|s| s.location.as_deref()))
            .bind(inbound)
            .bind(outbound)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.written(n)
    }

    /// Appends a sent stanza to the unacknowledged queue under its sequence number (writing the same number again
    /// replaces the stanza).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// # let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// lease.push_unacked(1, "<presence xmlns='jabber:client'/>").await?;
    /// assert_eq!(lease.load().await?.unacked.len(), 1);
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn push_unacked(&self, seq: u64, stanza: &str) -> Result<()> {
        let seq = to_i64(seq, &self.key, "an unacked sequence number")?;
        let what = self.what("push_unacked");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::PUSH_UNACKED)
            .bind(&self.key)
            .bind(self.token)
            .bind(seq)
            .bind(stanza)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.written(n)
    }

    /// The server acknowledged every stanza up to and including `h` (a count, unwrapped): drops them from the
    /// queue and returns how many were dropped.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// # let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// for seq in 1..=3 { lease.push_unacked(seq, "<message xmlns='jabber:client'/>").await?; }
    /// assert_eq!(lease.ack(2).await?, 2);
    /// assert_eq!(lease.ack(2).await?, 0);
    /// assert_eq!(lease.load().await?.unacked[0].seq, 3);
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn ack(&self, h: u64) -> Result<u64> {
        // Counts beyond i64::MAX cannot be stored, so "up to h" is "everything" for them.
        let h = i64::try_from(h).unwrap_or(i64::MAX);
        let what = self.what("ack");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::ACK_UNACKED)
            .bind(&self.key)
            .bind(self.token)
            .bind(h)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.removed(n).await
    }

    /// Empties the unacknowledged queue (after its stanzas were sent again in a new session, or given up);
    /// returns how many were dropped.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// # let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// lease.push_unacked(1, "<message xmlns='jabber:client'/>").await?;
    /// assert_eq!(lease.clear_unacked().await?, 1);
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn clear_unacked(&self) -> Result<u64> {
        let what = self.what("clear_unacked");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::CLEAR_UNACKED)
            .bind(&self.key)
            .bind(self.token)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.removed(n).await
    }

    /// Writes (or clears) the full JID the server bound.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// # let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// lease.set_bound(Some(&"juliet@capulet.lit/balcony".parse()?)).await?;
    /// assert_eq!(lease.load().await?.resource(), Some("balcony"));
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn set_bound(&self, bound: Option<&FullJid>) -> Result<()> {
        let what = self.what("set_bound");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::SET_BOUND)
            .bind(&self.key)
            .bind(self.token)
            .bind(bound.map(|j| j.to_string()))
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.written(n)
    }

    /// Writes (or clears) the server endpoint and transport.
    ///
    /// ```
    /// # use std::time::Duration;
    /// use moxl_core::session::{ServerEndpoint, TransportKind};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// # let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// let server = ServerEndpoint::new("xmpp.capulet.lit", 5223, TransportKind::DirectTls);
    /// lease.set_server(Some(&server)).await?;
    /// assert_eq!(lease.load().await?.server, Some(server));
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn set_server(&self, server: Option<&ServerEndpoint>) -> Result<()> {
        let what = self.what("set_server");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::SET_SERVER)
            .bind(&self.key)
            .bind(self.token)
            .bind(server.map(|s| s.host.as_str()))
            .bind(server.map(|s| i64::from(s.port)))
            .bind(server.map(|s| s.transport.name()))
            .bind(server.and_then(|s| s.transport.url()))
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.written(n)
    }

    /// Writes (or clears) the FAST token.
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime};
    /// use moxl_core::session::FastToken;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// # let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// let expires = SystemTime::UNIX_EPOCH + Duration::from_millis(1_900_000_000_000); // millisecond precision
    /// let token = FastToken::new("HT-SHA-256-NONE", "WXZzciBwYmFmIHZmIHlicnFhY3JhYT8=", expires);
    /// lease.set_fast_token(Some(&token)).await?;
    /// assert_eq!(lease.load().await?.fast_token, Some(token));
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn set_fast_token(&self, token: Option<&FastToken>) -> Result<()> {
        let expires = token.map(|t| time_to_ms(t.expires, &self.key)).transpose()?;
        let what = self.what("set_fast_token");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::SET_FAST_TOKEN)
            .bind(&self.key)
            .bind(self.token)
            .bind(token.map(|t| t.mechanism.as_str()))
            .bind(token.map(|t| t.token.as_str()))
            .bind(expires)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.written(n)
    }

    /// Writes (or clears) the stored credentials. Only when the user opted in: see [`StoredCredentials`] for what
    /// is kept and how it is protected.
    ///
    /// ```
    /// # use std::time::Duration;
    /// use moxl_core::session::StoredCredentials;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// # let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// let keys = StoredCredentials::scram("SCRAM-SHA-256", vec![7; 16], 4096, vec![1; 32], vec![2; 32]);
    /// lease.set_credentials(Some(&keys)).await?;
    /// assert_eq!(lease.load().await?.credentials, Some(keys));
    /// lease.set_credentials(None).await?; // the user opted out again
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn set_credentials(&self, credentials: Option<&StoredCredentials>) -> Result<()> {
        let json = credentials.map(|c| to_json(c, &self.key, "credentials")).transpose()?;
        let what = self.what("set_credentials");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::SET_CREDENTIALS)
            .bind(&self.key)
            .bind(self.token)
            .bind(&json)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.written(n)
    }

    /// The pinned SASL mechanism of the account (see [`SaslConfig::pinned`](crate::auth::SaslConfig::pinned)): the
    /// strongest one it authenticated with; `None` for an account never seen.
    ///
    /// ```
    /// # use std::time::Duration;
    /// use moxl_core::auth::{ChannelBindingType, Mechanism, MechanismPin};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// # let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// assert_eq!(lease.auth_pin().await?, None);
    /// let pin = MechanismPin::new(Mechanism::ScramSha256Plus, Some(ChannelBindingType::TlsExporter));
    /// lease.set_auth_pin(Some(&pin)).await?;
    /// assert_eq!(lease.auth_pin().await?, Some(pin));
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn auth_pin(&self) -> Result<Option<crate::auth::MechanismPin>> {
        let what = self.what("auth_pin");
        let text: Option<Option<String>> = on_pool!(&self.store.pool, |p, sql| sqlx::query_scalar(sql::LOAD_AUTH_PIN)
            .bind(&self.key)
            .fetch_optional(p)
            .await
            .map_err(store_err(&what))?);
        match text.flatten() {
            None => Ok(None),
            Some(t) => crate::auth::MechanismPin::parse(&t).map(Some).ok_or_else(|| {
                StoreError::Corrupt {
                    session: self.key.clone(),
                    column: "auth_pin".into(),
                    detail: format!("the stored pin {t:?} does not parse"),
                    source: None,
                }
                .into()
            }),
        }
    }

    /// Writes (or clears) the pinned SASL mechanism (see [`auth_pin`](Self::auth_pin)).
    pub async fn set_auth_pin(&self, pin: Option<&crate::auth::MechanismPin>) -> Result<()> {
        let what = self.what("set_auth_pin");
        let text = pin.map(ToString::to_string);
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::SET_AUTH_PIN)
            .bind(&self.key)
            .bind(self.token)
            .bind(&text)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.written(n)
    }

    /// Writes (or clears) the roster version.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// # let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// lease.set_roster_version(Some("ver14")).await?;
    /// assert_eq!(lease.load().await?.roster_version.as_deref(), Some("ver14"));
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn set_roster_version(&self, version: Option<&str>) -> Result<()> {
        let what = self.what("set_roster_version");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::SET_ROSTER_VERSION)
            .bind(&self.key)
            .bind(self.token)
            .bind(version)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.written(n)
    }

    /// Adds (or replaces) an entry of the entity-caps cache: a verification string and the disco#info it stands
    /// for, serialized.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let store = moxl_core::session::SessionStore::open("sqlite::memory:").await?;
    /// # let lease = store.acquire(&"juliet@capulet.lit".parse()?, "me", Duration::from_secs(30)).await?;
    /// lease.put_caps("QgayPKawpkPSDYmwT/WM94uAlu0=", "<query xmlns='http://jabber.org/protocol/disco#info'/>").await?;
    /// assert_eq!(lease.load().await?.caps.len(), 1);
    /// # Ok::<(), moxl_core::Error>(()) }).unwrap();
    /// ```
    pub async fn put_caps(&self, ver: &str, info: &str) -> Result<()> {
        let what = self.what("put_caps");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::PUT_CAPS)
            .bind(&self.key)
            .bind(self.token)
            .bind(ver)
            .bind(info)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.written(n)
    }

    fn what(&self, op: &str) -> String {
        format!("session {}: {op}", self.key)
    }

    fn lost(&self) -> Error {
        LeaseError::Lost { account: self.key.clone(), owner: self.owner.clone() }.into()
    }

    /// An `UPDATE`/`INSERT` through the lease changed nothing: the lease is gone (the session row exists from
    /// `acquire` on, and only `forget` deletes it, releasing the lease in the same transaction).
    fn written(&self, rows: u64) -> Result<()> {
        if rows == 0 {
            return Err(self.lost());
        }
        Ok(())
    }

    /// A `DELETE` through the lease removed nothing: either there was nothing to remove, or the lease is gone.
    async fn removed(&self, rows: u64) -> Result<u64> {
        if rows > 0 {
            return Ok(rows);
        }
        let what = self.what("check the lease");
        let live = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::LEASE_LIVE)
            .bind(&self.key)
            .bind(self.token)
            .fetch_optional(p)
            .await
            .map_err(store_err(&what))?
            .is_some());
        if live {
            Ok(0)
        } else {
            Err(self.lost())
        }
    }
}

/// The session's pending Actions, written through the lease.
impl ActionStore for Lease {
    async fn save(&self, action: &StoredAction) -> Result<()> {
        let a = ActionRow::from_action(action, &self.key)?;
        let what = self.what("save an Action");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::SAVE_ACTION)
            .bind(&self.key)
            .bind(self.token)
            .bind(a.id)
            .bind(a.type_name)
            .bind(a.state)
            .bind(a.addressee)
            .bind(a.deadline_ms)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.written(n)
    }

    async fn remove(&self, id: &str) -> Result<()> {
        let what = self.what("remove an Action");
        let n = on_pool!(&self.store.pool, |p, sql| sqlx::query(sql::REMOVE_ACTION)
            .bind(&self.key)
            .bind(self.token)
            .bind(id)
            .execute(p)
            .await
            .map_err(store_err(&what))?
            .rows_affected());
        self.removed(n).await.map(drop)
    }

    async fn load(&self) -> Result<Vec<StoredAction>> {
        let key = &self.key;
        let what = self.what("load the Actions");
        let rows = on_pool!(&self.store.pool, |p, sql| {
            let rows = sqlx::query(sql::LOAD_ACTIONS).bind(key).fetch_all(p).await.map_err(store_err(&what))?;
            rows.iter().map(|r| RawAction::read(r, key)).collect::<Result<Vec<_>>>()?
        });
        rows.into_iter().map(|a| a.into_action(key)).collect()
    }
}

// ---- conversions between records and rows ---------------------------------------------------------------------

fn corrupt(account: &str, column: &str, detail: impl std::fmt::Display) -> Error {
    StoreError::Corrupt {
        session: account.to_owned(),
        column: column.to_owned(),
        detail: detail.to_string(),
        source: None,
    }
    .into()
}

/// [`corrupt`] with the decoding error as the source.
fn corrupt_by(account: &str, column: &str, detail: &str, source: impl Into<crate::transport::BoxError>) -> Error {
    let (session, column, detail) = (account.to_owned(), column.to_owned(), detail.to_owned());
    StoreError::Corrupt { session, column, detail, source: Some(source.into()) }.into()
}

/// Reads a column, naming the session and column when it cannot be read as `T`.
fn get<'r, T, R>(row: &'r R, account: &str, column: &str) -> Result<T>
where
    R: Row,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    let name = column.rsplit('.').next().unwrap_or(column);
    row.try_get::<T, _>(name).map_err(|e| corrupt_by(account, column, &e.to_string(), e))
}

fn to_i64(value: u64, account: &str, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| unstorable(account, format!("{what} {value} is too large to store")))
}

fn to_u64(value: i64, account: &str, column: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| corrupt(account, column, format!("negative count {value}")))
}

fn ttl_ms(ttl: Duration, account: &str) -> Result<i64> {
    i64::try_from(ttl.as_millis()).map_err(|_| unstorable(account, format!("lease ttl {ttl:?} is too long")))
}

/// Milliseconds since the Unix epoch (negative before it).
fn time_to_ms(time: SystemTime, account: &str) -> Result<i64> {
    let too_far = || unstorable(account, format!("time {time:?} cannot be stored"));
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).map_err(|_| too_far()),
        Err(before) => i64::try_from(before.duration().as_millis()).map(|ms| -ms).map_err(|_| too_far()),
    }
}

fn ms_to_time(ms: i64, account: &str, column: &str) -> Result<SystemTime> {
    let offset = Duration::from_millis(ms.unsigned_abs());
    let time = if ms >= 0 { UNIX_EPOCH.checked_add(offset) } else { UNIX_EPOCH.checked_sub(offset) };
    time.ok_or_else(|| corrupt(account, column, format!("time {ms} ms out of range")))
}

fn to_json<T: serde::Serialize>(value: &T, account: &str, what: &str) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|source| StoreError::Serialize { what: format!("session {account}: {what}"), source }.into())
}

fn unstorable(account: &str, detail: String) -> Error {
    StoreError::Unstorable { session: account.to_owned(), detail }.into()
}

/// The single-valued columns, as read.
struct RawSession {
    bound_jid: Option<String>,
    server_host: Option<String>,
    server_port: Option<i64>,
    server_transport: Option<String>,
    server_url: Option<String>,
    fast_mechanism: Option<String>,
    fast_token: Option<String>,
    fast_expires_ms: Option<i64>,
    credentials: Option<String>,
    sm_id: Option<String>,
    sm_location: Option<String>,
    sm_inbound: i64,
    sm_outbound: i64,
    roster_version: Option<String>,
}

impl RawSession {
    fn read<R>(row: &R, key: &str) -> Result<RawSession>
    where
        R: Row,
        for<'a> &'a str: sqlx::ColumnIndex<R>,
        for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        Ok(RawSession {
            bound_jid: get(row, key, "bound_jid")?,
            server_host: get(row, key, "server_host")?,
            server_port: get(row, key, "server_port")?,
            server_transport: get(row, key, "server_transport")?,
            server_url: get(row, key, "server_url")?,
            fast_mechanism: get(row, key, "fast_mechanism")?,
            fast_token: get(row, key, "fast_token")?,
            fast_expires_ms: get(row, key, "fast_expires_ms")?,
            credentials: get(row, key, "credentials")?,
            sm_id: get(row, key, "sm_id")?,
            sm_location: get(row, key, "sm_location")?,
            sm_inbound: get(row, key, "sm_inbound")?,
            sm_outbound: get(row, key, "sm_outbound")?,
            roster_version: get(row, key, "roster_version")?,
        })
    }

    fn into_record(self, account: BareJid, key: &str) -> Result<SessionRecord> {
        let mut record = SessionRecord::new(account);
        record.bound = self
            .bound_jid
            .map(|j| j.parse::<FullJid>().map_err(|e| corrupt(key, "bound_jid", format!("not a full JID: {e}"))))
            .transpose()?;
        record.server = match (self.server_host, self.server_port, self.server_transport) {
            (Some(host), Some(port), Some(transport)) => {
                let port = u16::try_from(port).map_err(|_| corrupt(key, "server_port", format!("port {port}")))?;
                let transport = TransportKind::from_parts(&transport, self.server_url)
                    .map_err(|e| corrupt(key, "server_transport", e))?;
                Some(ServerEndpoint { host, port, transport })
            }
            (None, None, None) => None,
            _ => {
                return Err(corrupt(
                    key,
                    "server_host",
                    "server_host, server_port and server_transport must be set together",
                ))
            }
        };
        record.fast_token = match (self.fast_mechanism, self.fast_token, self.fast_expires_ms) {
            (Some(mechanism), Some(token), Some(expires)) => {
                Some(FastToken { mechanism, token, expires: ms_to_time(expires, key, "fast_expires_ms")? })
            }
            (None, None, None) => None,
            _ => {
                return Err(corrupt(
                    key,
                    "fast_token",
                    "fast_mechanism, fast_token and fast_expires_ms must be set together",
                ))
            }
        };
        record.credentials = self
            .credentials
            .map(|c| {
                serde_json::from_str(&c).map_err(|e| corrupt_by(key, "credentials", &format!("invalid JSON: {e}"), e))
            })
            .transpose()?;
        let inbound = to_u64(self.sm_inbound, key, "sm_inbound")?;
        let outbound = to_u64(self.sm_outbound, key, "sm_outbound")?;
        record.sm = self.sm_id.map(|id| SmState { id, location: self.sm_location, inbound, outbound });
        record.roster_version = self.roster_version;
        Ok(record)
    }
}

/// The single-valued columns, to write.
struct SessionRow<'a> {
    bound_jid: Option<String>,
    server_host: Option<&'a str>,
    server_port: Option<i64>,
    server_transport: Option<&'static str>,
    server_url: Option<&'a str>,
    fast_mechanism: Option<&'a str>,
    fast_token: Option<&'a str>,
    fast_expires_ms: Option<i64>,
    credentials: Option<String>,
    sm_id: Option<&'a str>,
    sm_location: Option<&'a str>,
    sm_inbound: i64,
    sm_outbound: i64,
}

impl<'a> SessionRow<'a> {
    fn from_record(r: &'a SessionRecord, key: &str) -> Result<SessionRow<'a>> {
        Ok(SessionRow {
            bound_jid: r.bound.as_ref().map(|j| j.to_string()),
            server_host: r.server.as_ref().map(|s| s.host.as_str()),
            server_port: r.server.as_ref().map(|s| i64::from(s.port)),
            server_transport: r.server.as_ref().map(|s| s.transport.name()),
            server_url: r.server.as_ref().and_then(|s| s.transport.url()),
            fast_mechanism: r.fast_token.as_ref().map(|t| t.mechanism.as_str()),
            fast_token: r.fast_token.as_ref().map(|t| t.token.as_str()),
            fast_expires_ms: r.fast_token.as_ref().map(|t| time_to_ms(t.expires, key)).transpose()?,
            credentials: r.credentials.as_ref().map(|c| to_json(c, key, "credentials")).transpose()?,
            sm_id: r.sm.as_ref().map(|s| s.id.as_str()),
            sm_location: r.sm.as_ref().and_then(|s| s.location.as_deref()),
            sm_inbound: r.sm.as_ref().map(|s| to_i64(s.inbound, key, "the inbound count")).transpose()?.unwrap_or(0),
            sm_outbound: r.sm.as_ref().map(|s| to_i64(s.outbound, key, "the outbound count")).transpose()?.unwrap_or(0),
        })
    }
}

/// An Action's columns, to write.
struct ActionRow<'a> {
    id: &'a str,
    type_name: &'a str,
    state: &'a str,
    addressee: Option<&'a str>,
    deadline_ms: i64,
}

impl<'a> ActionRow<'a> {
    fn from_action(a: &'a StoredAction, key: &str) -> Result<ActionRow<'a>> {
        Ok(ActionRow {
            id: &a.id,
            type_name: &a.type_name,
            state: &a.state,
            addressee: a.to.as_deref(),
            deadline_ms: time_to_ms(a.deadline, key)?,
        })
    }
}

/// An Action's columns, as read.
struct RawAction {
    id: String,
    type_name: String,
    state: String,
    addressee: Option<String>,
    deadline_ms: i64,
}

impl RawAction {
    fn read<R>(row: &R, key: &str) -> Result<RawAction>
    where
        R: Row,
        for<'a> &'a str: sqlx::ColumnIndex<R>,
        for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        Ok(RawAction {
            id: get(row, key, "moxl_actions.id")?,
            type_name: get(row, key, "moxl_actions.type_name")?,
            state: get(row, key, "moxl_actions.state")?,
            addressee: get(row, key, "moxl_actions.addressee")?,
            deadline_ms: get(row, key, "moxl_actions.deadline_ms")?,
        })
    }

    fn into_action(self, key: &str) -> Result<StoredAction> {
        Ok(StoredAction {
            deadline: ms_to_time(self.deadline_ms, key, "moxl_actions.deadline_ms")?,
            id: self.id,
            type_name: self.type_name,
            state: self.state,
            to: self.addressee,
        })
    }
}
