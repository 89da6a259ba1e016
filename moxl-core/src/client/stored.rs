//! Opening a stored session at connect: the lease, the Actions, and what resuming needs.

use std::sync::Arc;

use jid::BareJid;
use tokio::time::Duration;

use super::persist::Persist;
use super::run::SmSession;
use crate::stream::ResumeFrom;
use crate::xec::Xec;
use crate::Result;

/// The default time to live of a session lease.
const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

/// The SCRAM key cache of a password client ([`SaslConfig::scram_cache`](crate::auth::SaslConfig::scram_cache)),
/// the authcid it is kept under, and whether the keys are also kept in the session store
/// ([`SaslConfig::remember_scram_keys`](crate::auth::SaslConfig::remember_scram_keys)).
#[derive(Clone, Debug)]
pub(super) struct ScramMemo {
    pub(super) cache: crate::auth::ScramKeyCache,
    pub(super) authcid: String,
    pub(super) remember: bool,
}

impl ScramMemo {
    /// Fills the cache with the keys of a stored session (if the user opted in to keep them there).
    pub(super) fn load(&self, stored: Option<&crate::session::StoredCredentials>) {
        if let Some(keys) = stored.filter(|_| self.remember).and_then(crate::auth::ScramKeys::from_stored) {
            self.cache.load(&self.authcid, keys);
        }
    }

    /// The keys to write to the store, when they changed since the last write (`Some(None)`: dropped).
    pub(super) fn unsaved(&self) -> Option<Option<crate::session::StoredCredentials>> {
        if !self.remember {
            return None;
        }
        self.cache.take_unsaved(&self.authcid).map(|keys| keys.map(|k| k.to_stored()))
    }
}

/// Where the session is stored, if anywhere.
pub(super) struct StoreConfig {
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(super) store: Option<(crate::session::SessionStore, String)>,
    pub(super) ttl: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            store: None,
            ttl: DEFAULT_LEASE_TTL,
        }
    }
}

/// The user agent id when none was given (XEP-0388 §2.3): stable for a stored session (derived from the account
/// and the lease owner, so that a restarted process keeps its Bind2 resource and FAST token), else random.
pub(super) fn user_agent_id(config: &StoreConfig, account: &BareJid) -> String {
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    if let Some((_, owner)) = &config.store {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("moxl user agent\0{account}\0{owner}"));
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
        return uuid::Builder::from_random_bytes(bytes).into_uuid().to_string();
    }
    let _ = (config, account);
    uuid::Uuid::new_v4().to_string()
}

/// Whether the session is kept in a store.
pub(super) fn is_stored(config: &StoreConfig) -> bool {
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    if config.store.is_some() {
        return true;
    }
    let _ = config;
    false
}

/// The entity-caps cache the client gives its controller as an extension: one for a stored session (filled by
/// [`open`], written through its lease), none without a store (entity-caps handlers then use their own cache).
pub(super) fn caps_cache(config: &StoreConfig) -> Option<crate::session::CapsCache> {
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    if config.store.is_some() {
        return Some(crate::session::CapsCache::default());
    }
    let _ = config;
    None
}

/// What a stored session gives the new run.
pub(super) struct Opened {
    pub(super) persist: Persist,
    /// The stored FAST token, if any.
    pub(super) fast_token: Option<crate::session::FastToken>,
    /// The pinned SASL mechanism (the strongest the account used), if any.
    pub(super) auth_pin: Option<crate::auth::MechanismPin>,
    pub(super) resume: Option<ResumeFrom>,
    pub(super) sm: Option<SmSession>,
    pub(super) lease_ttl: Duration,
    /// The stored roster version (RFC 6121 §2.6), for the session-start hooks.
    pub(super) roster_version: Option<String>,
    /// The stored SCRAM keys, if any.
    pub(super) credentials: Option<crate::session::StoredCredentials>,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(super) async fn open(config: StoreConfig, account: &BareJid, xec: &Arc<Xec>) -> Result<Opened> {
    use crate::stream::StreamManagement;
    use crate::xml::Element;

    let Some((store, owner)) = config.store else {
        return Ok(Opened {
            persist: Persist::default(),
            fast_token: None,
            auth_pin: None,
            resume: None,
            sm: None,
            lease_ttl: config.ttl,
            roster_version: None,
            credentials: None,
        });
    };
    let lease = store.acquire(account, &owner, config.ttl).await?;
    let record = lease.load().await?;
    let auth_pin = lease.auth_pin().await?;
    // The entity-caps cache the client gave the controller (see `caps_cache`), filled with the stored entries.
    let caps = xec.context().get::<crate::session::CapsCache>().cloned();
    if let Some(caps) = &caps {
        caps.load(record.caps);
    }
    // The roster version the client gave the controller (see `ClientBuilder::connect`), loaded from the record;
    // the roster handlers update it and the writer stores it (RFC 6121 §2.6).
    let roster_version = xec.context().get::<super::RosterVersion>().cloned();
    if let Some(v) = &roster_version {
        v.load(record.roster_version.clone());
    }
    let revived = xec.restore_from(&lease).await?;
    xec.journal_actions();
    let mut resume = None;
    let mut sm = None;
    if let (Some(state), Some(bound)) = (record.sm, record.bound) {
        let counter = |n: u64| u32::try_from(n % (1 << 32)).unwrap_or_default();
        let mut unacked = Vec::with_capacity(record.unacked.len());
        for u in &record.unacked {
            // A stored stanza that does not parse is reported, not silently dropped.
            let stanza = Element::parse(&u.stanza).map_err(|e| crate::session::StoreError::Corrupt {
                session: account.to_string(),
                column: "unacked".into(),
                detail: format!("unacknowledged stanza {} does not parse: {e}", u.seq),
                source: Some(e.into()),
            })?;
            unacked.push((counter(u.seq), stanza));
        }
        let restored = StreamManagement::restore(counter(state.inbound), counter(state.outbound), unacked);
        resume = Some(ResumeFrom::new(state.id.clone(), restored.inbound(), bound));
        sm = Some(SmSession { state: restored, id: Some(state.id) });
    }
    tracing::info!(%account, revived, resumable = resume.is_some(), "session loaded from the store");
    Ok(Opened {
        persist: Persist::new(Some(lease), caps, roster_version),
        fast_token: record.fast_token,
        auth_pin,
        resume,
        sm,
        lease_ttl: config.ttl,
        roster_version: record.roster_version,
        credentials: record.credentials,
    })
}

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
pub(super) async fn open(config: StoreConfig, _account: &BareJid, _xec: &Arc<Xec>) -> Result<Opened> {
    Ok(Opened {
        persist: Persist,
        fast_token: None,
        auth_pin: None,
        resume: None,
        sm: None,
        lease_ttl: config.ttl,
        roster_version: None,
        credentials: None,
    })
}
