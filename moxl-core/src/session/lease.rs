//! The [`Lease`]: the right to write one account's session, and every write through it.

use jid::{BareJid, FullJid};

use super::record::{FastToken, ServerEndpoint, SessionRecord, SmState, StoredCredentials};
use super::rows::{time_to_ms, to_i64, to_json, ActionRow, RawAction, SessionRow};
use super::sql::{statement, Statement};
use super::store::{on_pool, store_err, Arg, Pool, SessionStore, Tx};
use super::LeaseError;
use crate::session::StoreError;
use crate::xec::{ActionStore, StoredAction};
use crate::{Error, Result};

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
    pub(super) fn new(
        store: SessionStore,
        account: BareJid,
        key: String,
        owner: String,
        token: i64,
        ttl_ms: i64,
    ) -> Self {
        Lease { store, account, key, owner, token, ttl_ms }
    }

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
        self.write("renew", statement!(RENEW), [Arg::from(self.ttl_ms)]).await
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
        self.write("release", statement!(RELEASE), []).await
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
        let mut tx = self.begin_locked(&what).await?;
        let session = [
            Arg::from(key.as_str()),
            Arg::from(&row.bound_jid),
            Arg::from(row.server_host),
            Arg::from(row.server_port),
            Arg::from(row.server_transport),
            Arg::from(row.server_url),
            Arg::from(row.fast_mechanism),
            Arg::from(row.fast_token),
            Arg::from(row.fast_expires_ms),
            Arg::from(&row.credentials),
            Arg::from(row.sm_id),
            Arg::from(row.sm_location),
            Arg::from(row.sm_inbound),
            Arg::from(row.sm_outbound),
            Arg::from(&record.roster_version),
        ];
        tx.execute(&what, statement!(UPSERT_SESSION), session).await?;
        for all in [statement!(DELETE_ALL_UNACKED), statement!(DELETE_ALL_CAPS), statement!(DELETE_ALL_ACTIONS)] {
            tx.execute(&what, all, [Arg::from(key.as_str())]).await?;
        }
        for (seq, stanza) in &unacked {
            tx.execute(
                &what,
                statement!(INSERT_UNACKED),
                [Arg::from(key.as_str()), Arg::from(*seq), Arg::from(*stanza)],
            )
            .await?;
        }
        for (ver, info) in &record.caps {
            let caps = [Arg::from(key.as_str()), Arg::from(ver.as_str()), Arg::from(info.as_str())];
            tx.execute(&what, statement!(INSERT_CAPS), caps).await?;
        }
        for a in &actions {
            let action = [
                Arg::from(key.as_str()),
                Arg::from(a.id),
                Arg::from(a.type_name),
                Arg::from(a.state),
                Arg::from(a.addressee),
                Arg::from(a.deadline_ms),
            ];
            tx.execute(&what, statement!(INSERT_ACTION), action).await?;
        }
        tx.commit(&what).await
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
        let mut tx = self.begin_locked(&what).await?;
        tx.execute(&what, statement!(DELETE_SESSION), [Arg::from(key.as_str())]).await?;
        tx.execute(&what, statement!(RELEASE), [Arg::from(key.as_str()), Arg::from(self.token)]).await?;
        tx.commit(&what).await
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
        self.write("update_sm", statement!(UPDATE_SM), [Arg::from(inbound), Arg::from(outbound)]).await
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
        self.write(
            "set_sm",
            statement!(SET_SM),
            [
                Arg::from(sm.map(|s| s.id.as_str())),
                Arg::from(sm.and_then(|s| s.location.as_deref())),
                Arg::from(inbound),
                Arg::from(outbound),
            ],
        )
        .await
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
        self.write("push_unacked", statement!(PUSH_UNACKED), [Arg::from(seq), Arg::from(stanza)]).await
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
        self.delete("ack", statement!(ACK_UNACKED), [Arg::from(h)]).await
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
        self.delete("clear_unacked", statement!(CLEAR_UNACKED), []).await
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
        let bound = bound.map(|j| j.to_string());
        self.write("set_bound", statement!(SET_BOUND), [Arg::from(&bound)]).await
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
        self.write(
            "set_server",
            statement!(SET_SERVER),
            [
                Arg::from(server.map(|s| s.host.as_str())),
                Arg::from(server.map(|s| i64::from(s.port))),
                Arg::from(server.map(|s| s.transport.name())),
                Arg::from(server.and_then(|s| s.transport.url())),
            ],
        )
        .await
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
        self.write(
            "set_fast_token",
            statement!(SET_FAST_TOKEN),
            [
                Arg::from(token.map(|t| t.mechanism.as_str())),
                Arg::from(token.map(|t| t.token.as_str())),
                Arg::from(expires),
            ],
        )
        .await
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
        self.write("set_credentials", statement!(SET_CREDENTIALS), [Arg::from(&json)]).await
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
        let text = pin.map(ToString::to_string);
        self.write("set_auth_pin", statement!(SET_AUTH_PIN), [Arg::from(&text)]).await
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
        self.write("set_roster_version", statement!(SET_ROSTER_VERSION), [Arg::from(version)]).await
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
        self.write("put_caps", statement!(PUT_CAPS), [Arg::from(ver), Arg::from(info)]).await
    }

    fn what(&self, op: &str) -> String {
        format!("session {}: {op}", self.key)
    }

    fn lost(&self) -> Error {
        LeaseError::Lost { account: self.key.clone(), owner: self.owner.clone() }.into()
    }

    /// The account and the lease token (`$1`, `$2` of every statement through a lease), then `args`.
    fn args<'a>(&'a self, args: impl IntoIterator<Item = Arg<'a>>) -> impl Iterator<Item = Arg<'a>> {
        [Arg::from(self.key.as_str()), Arg::from(self.token)].into_iter().chain(args)
    }

    /// Runs a write through the lease (`$1` account, `$2` token, then `args`). A statement that changed nothing
    /// means the lease is gone (the session row exists from `acquire` on, and only `forget` deletes it, releasing
    /// the lease in the same transaction): [`LeaseError::Lost`].
    async fn write<'a>(
        &'a self,
        op: &str,
        statement: Statement,
        args: impl IntoIterator<Item = Arg<'a>>,
    ) -> Result<()> {
        if self.store.execute(&self.what(op), statement, self.args(args)).await? == 0 {
            return Err(self.lost());
        }
        Ok(())
    }

    /// Runs a `DELETE` through the lease and returns how many rows it removed. When it removed nothing, either
    /// there was nothing to remove or the lease is gone: a second query tells which.
    async fn delete<'a>(
        &'a self,
        op: &str,
        statement: Statement,
        args: impl IntoIterator<Item = Arg<'a>>,
    ) -> Result<u64> {
        let rows = self.store.execute(&self.what(op), statement, self.args(args)).await?;
        if rows > 0 {
            return Ok(rows);
        }
        if self.store.exists(&self.what("check the lease"), statement!(LEASE_LIVE), self.args([])).await? {
            Ok(0)
        } else {
            Err(self.lost())
        }
    }

    /// Begins a write transaction and checks (on PostgreSQL: locks until commit) the lease first.
    async fn begin_locked(&self, what: &str) -> Result<Tx> {
        let mut tx = self.store.begin(what).await?;
        if !tx.exists(what, statement!(LOCK_LEASE), self.args([])).await? {
            return Err(self.lost());
        }
        Ok(tx)
    }
}

/// The session's pending Actions, written through the lease.
impl ActionStore for Lease {
    async fn save(&self, action: &StoredAction) -> Result<()> {
        let a = ActionRow::from_action(action, &self.key)?;
        self.write(
            "save an Action",
            statement!(SAVE_ACTION),
            [
                Arg::from(a.id),
                Arg::from(a.type_name),
                Arg::from(a.state),
                Arg::from(a.addressee),
                Arg::from(a.deadline_ms),
            ],
        )
        .await
    }

    async fn remove(&self, id: &str) -> Result<()> {
        self.delete("remove an Action", statement!(REMOVE_ACTION), [Arg::from(id)]).await.map(drop)
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
