//! Re-login without PBKDF2 (RFC 5802 §5.1), against Prosody and ejabberd: SCRAM's ClientKey and ServerKey are
//! cached per account, mechanism, salt and iteration count, in memory ([`SaslConfig::scram_cache`], shared by the
//! connections of a config) and, when the user opted in ([`SaslConfig::remember_scram_keys`]), in the session
//! store for a later process. The cache's counters tell whether a login derived keys or reused them.
//!
//! Covers: a second login reuses the keys and logs in; a later process reads them from the store; keys that the
//! server refuses (a password changed while the salt stayed) are dropped and the login derives again on the same
//! stream and succeeds, or fails with a clear bad-credentials error when the password is wrong too; a password
//! changed on the server (XEP-0077 §3.3) makes the stored keys useless: the new password derives and logs in.
//!
//! The servers of this file store SCRAM hashes (Prosody `internal_hashed`, ejabberd `auth_password_format: scram`,
//! both SHA-256): a server that stores passwords in plain makes a new salt for every SCRAM exchange, so no key can
//! be reused with it (`plain_storage_makes_a_new_salt_every_time` shows it, with the shared servers).

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::OnceLock;

use common::{fresh_account, jid, servers, Transport};
use moxl::auth::{AuthError, Mechanism, SaslConfig, ScramKeyCache, ScramKeys};
use moxl::client::{Client, ClientBuilder};
use moxl::prelude::*;
use moxl::session::SessionStore;
use moxl::xep::xep_0077_register::ChangePassword;
use moxl_test_support::{Ejabberd, Prosody, Server, TempDir};

/// Prosody and ejabberd storing SCRAM-SHA-256 hashes, started once for this file.
fn hashed_servers() -> &'static [Server] {
    static SERVERS: OnceLock<Vec<Server>> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let prosody = Prosody::builder()
            .extra_config("authentication = \"internal_hashed\"\npassword_hash = \"SHA-256\"")
            .start()
            .unwrap_or_else(|e| panic!("Prosody starts (bash scripts/install-test-deps.sh): {e}"));
        let ejabberd = Ejabberd::builder()
            .hashed_passwords(true)
            .start()
            .unwrap_or_else(|e| panic!("ejabberd starts (bash scripts/install-test-deps.sh): {e}"));
        vec![Server::Prosody(prosody), Server::Ejabberd(ejabberd)]
    })
}

/// A password login over STARTTLS with SCRAM only and no FAST token (which would skip SCRAM altogether).
fn scram_client(server: &Server, user: &str, config: SaslConfig) -> ClientBuilder {
    Transport::StartTls.connect(server, Client::with_sasl(jid(server, user), config)).fast(false)
}

fn scram_config(server: &Server, user: &str, password: &str) -> SaslConfig {
    let mut config = SaslConfig::password(user, password, server.domain());
    config.preference.retain(|m| m.is_scram());
    config
}

fn counters(cache: &ScramKeyCache) -> (u64, u64) {
    (cache.derivations(), cache.reuses())
}

#[tokio::test]
async fn a_second_login_reuses_the_cached_keys_on_both_servers() -> Result<()> {
    for server in hashed_servers() {
        let user = fresh_account(server, "scramcache");
        let config = scram_config(server, &user, "secret");
        let cache = config.scram_cache.clone().expect("a password config has a cache");

        let first = scram_client(server, &user, config.clone()).connect().await?;
        let mechanism = first.mechanism().unwrap().to_owned();
        assert!(mechanism.starts_with("SCRAM-"), "{}: {mechanism}", server.kind());
        assert_eq!(counters(&cache), (1, 0), "{}: the first login derives", server.kind());
        first.close().await;

        let second = scram_client(server, &user, config.clone()).connect().await?;
        assert_eq!(second.mechanism(), Some(mechanism.as_str()));
        assert_eq!(counters(&cache), (1, 1), "{}: the second login reuses the keys", server.kind());
        second.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn keys_the_server_refuses_are_derived_again_on_the_same_stream() -> Result<()> {
    for server in hashed_servers() {
        let user = fresh_account(server, "scramstale");
        let config = scram_config(server, &user, "secret");
        let cache = config.scram_cache.clone().unwrap();
        scram_client(server, &user, config.clone()).connect().await?.close().await;
        // The keys of another password with the same salt and count: what a password changed without a new
        // salt leaves in the cache.
        let good = [Mechanism::ScramSha512, Mechanism::ScramSha256, Mechanism::ScramSha1]
            .into_iter()
            .find_map(|m| cache.get(&user, m))
            .expect("the first login cached its keys");
        let len = match good.mechanism() {
            Mechanism::ScramSha1 => 20,
            Mechanism::ScramSha256 => 32,
            _ => 64,
        };
        let stale =
            ScramKeys::new(good.mechanism(), good.salt().to_vec(), good.iterations(), vec![0x5a; len], vec![0xa5; len]);
        cache.insert(&user, stale.clone());
        let before = counters(&cache);
        let client = scram_client(server, &user, config.clone()).connect().await?;
        assert_eq!(
            counters(&cache),
            (before.0 + 1, before.1 + 1),
            "{}: the stale keys were tried, refused, and derived again",
            server.kind()
        );
        assert_eq!(
            cache.get(&user, good.mechanism()),
            Some(good.clone()),
            "{}: the right keys are back",
            server.kind()
        );
        client.close().await;

        // Stale keys and a wrong password: a clear bad-credentials error, after one derivation.
        let mut wrong = scram_config(server, &user, "not-the-password");
        wrong.scram_cache = Some(ScramKeyCache::new());
        let wrong_cache = wrong.scram_cache.clone().unwrap();
        wrong_cache.insert(&user, stale);
        let error = scram_client(server, &user, wrong).reconnect(None).connect().await.unwrap_err();
        assert!(matches!(error, Error::Auth(AuthError::BadCredentials(_))), "{}: {error:?}", server.kind());
        assert_eq!(counters(&wrong_cache), (1, 1), "{}", server.kind());
        assert!(wrong_cache.get(&user, good.mechanism()).is_none(), "{}: wrong keys are not cached", server.kind());
    }
    Ok(())
}

#[tokio::test]
async fn a_later_process_reads_the_keys_from_the_store_and_a_password_change_derives_again() -> Result<()> {
    let dir = TempDir::new("moxl-scram-cache").unwrap();
    for server in hashed_servers() {
        let user = fresh_account(server, "scramstore");
        let path = dir.path().join(format!("{}-{user}.db", server.kind()));
        // Each "process" opens the store anew; the same owner (one host restarting) takes the lease over at once.
        let store = || {
            let path = path.clone();
            async move { Ok::<_, Error>((SessionStore::open_sqlite_file(&path, &Default::default()).await?, "host-a")) }
        };
        let remembering = |password: &str| {
            let mut config = scram_config(server, &user, password);
            config.remember_scram_keys = true;
            config
        };

        // First process: derives, and keeps the keys in the store.
        let config = remembering("secret");
        let (s, owner) = store().await?;
        let first = scram_client(server, &user, config.clone()).session_store(s.clone(), owner).connect().await?;
        assert_eq!(counters(config.scram_cache.as_ref().unwrap()), (1, 0));
        first.close().await;
        let stored = s.load(&jid(server, &user)).await?.unwrap().credentials;
        assert!(stored.as_ref().and_then(ScramKeys::from_stored).is_some(), "{}: keys stored", server.kind());
        s.close().await;

        // A later process (a new config, so a new cache): no derivation.
        let config = remembering("secret");
        let (s, owner) = store().await?;
        let second = scram_client(server, &user, config.clone()).session_store(s.clone(), owner).connect().await?;
        assert_eq!(counters(config.scram_cache.as_ref().unwrap()), (0, 1), "{}: keys from the store", server.kind());

        // The password changes on the server (XEP-0077 §3.3).
        second
            .xec()
            .context()
            .request(ChangePassword {
                to: Some(server.domain().to_owned()),
                username: user.clone(),
                password: "newsecret".into(),
            })?
            .await?;
        second.close().await;
        s.close().await;

        // The next process has the new password and the old keys in its store: it derives and logs in.
        let config = remembering("newsecret");
        let (s, owner) = store().await?;
        let third = scram_client(server, &user, config.clone()).session_store(s.clone(), owner).connect().await?;
        let cache = config.scram_cache.as_ref().unwrap();
        assert_eq!(cache.derivations(), 1, "{}: the new password was derived: {cache:?}", server.kind());
        third.close().await;
        let restored = s.load(&jid(server, &user)).await?.unwrap().credentials;
        assert_ne!(restored, stored, "{}: the store holds the new keys", server.kind());
        s.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn plain_storage_makes_a_new_salt_every_time() -> Result<()> {
    for server in servers() {
        let user = fresh_account(server, "scramplain");
        let config = scram_config(server, &user, "secret");
        let cache = config.scram_cache.clone().unwrap();
        for _ in 0..2 {
            scram_client(server, &user, config.clone()).connect().await?.close().await;
        }
        assert_eq!(counters(&cache), (2, 0), "{}: a new salt each time, nothing to reuse", server.kind());
    }
    Ok(())
}
