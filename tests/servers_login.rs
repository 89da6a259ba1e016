//! Logging in to both real servers of the test support (Prosody 0.12 and ejabberd 23.01), started once for this
//! file: STARTTLS, direct TLS (XEP-0368) and WebSocket over TLS, with every mechanism each server offers and with
//! the default choice; a wrong password; anonymous login; a refused channel binding (its own error, then one
//! retry without binding); mechanism pinning through the session store.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{servers, Transport};
use moxl::auth::{AuthError, ChannelBindingType, Mechanism, SaslConfig};
use moxl::client::Client;
use moxl::prelude::*;
use moxl::session::SessionStore;
use moxl_test_support::{ServerKind, TempDir};

/// What each server offers for a password account (over TLS), as configured by the test support.
fn offered(kind: ServerKind) -> &'static [Mechanism] {
    match kind {
        // internal_plain: PLAIN, SCRAM-SHA-1, SCRAM-SHA-256 (-PLUS only with tls-unique on TLS 1.2: not here).
        ServerKind::Prosody => &[Mechanism::ScramSha256, Mechanism::ScramSha1, Mechanism::Plain],
        // Plain password storage: DIGEST-MD5, PLAIN, SCRAM-SHA-1/256/512 and -PLUS (tls-unique only).
        ServerKind::Ejabberd => &[
            Mechanism::ScramSha512,
            Mechanism::ScramSha256,
            Mechanism::ScramSha1,
            Mechanism::DigestMd5,
            Mechanism::Plain,
        ],
        _ => unreachable!(),
    }
}

/// The default choice: the strongest offered; no -PLUS, since neither lists its binding types (XEP-0440).
fn default_choice(kind: ServerKind) -> Mechanism {
    offered(kind)[0]
}

#[tokio::test]
async fn every_transport_logs_in_with_the_default_choice() -> Result<()> {
    for server in servers() {
        for transport in Transport::ALL {
            let context = format!("{} over {transport:?}", server.kind());
            let client = transport
                .connect(server, Client::builder(common::jid(server, "juliet"), "secret"))
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            assert_eq!(client.mechanism(), Some(default_choice(server.kind()).name()), "{context}");
            assert_eq!(client.transport(), transport.name(), "{context}");
            assert_eq!(client.tls_version(), Some("TLSv1_3"), "{context}");
            assert_eq!(client.jid().to_bare(), common::jid(server, "juliet"), "{context}");
            client.close().await;
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_offered_mechanism_over_every_transport() -> Result<()> {
    for server in servers() {
        for transport in Transport::ALL {
            for &mechanism in offered(server.kind()) {
                let context = format!("{} over {transport:?} with {mechanism}", server.kind());
                let mut config = SaslConfig::password("romeo", "montague", server.domain());
                config.preference = vec![mechanism];
                let client = transport
                    .connect(server, Client::with_sasl(common::jid(server, "romeo"), config))
                    .connect()
                    .await
                    .unwrap_or_else(|e| panic!("{context}: {e}"));
                assert_eq!(client.mechanism(), Some(mechanism.name()), "{context}");
                client.close().await;
            }
        }
    }
    Ok(())
}

/// `ws://` on loopback, allowed for tests: SCRAM (never PLAIN, nor DIGEST-MD5) in cleartext on both servers.
#[tokio::test]
async fn cleartext_websocket_on_both_servers_uses_scram() -> Result<()> {
    for server in servers() {
        let client = Client::builder(common::jid(server, "juliet"), "secret")
            .websocket(server.websocket_url())
            .allow_cleartext(true)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", server.kind()));
        assert_eq!(client.transport(), "ws");
        assert_eq!(client.mechanism(), Some(default_choice(server.kind()).name()));
        client.close().await;
        for weak in [Mechanism::Plain, Mechanism::DigestMd5] {
            let mut config = SaslConfig::password("juliet", "secret", server.domain());
            config.preference = vec![weak];
            let refused = Client::with_sasl(common::jid(server, "juliet"), config)
                .websocket(server.websocket_url())
                .allow_cleartext(true)
                .connect()
                .await;
            assert!(matches!(refused, Err(Error::Auth(AuthError::NoAcceptableMechanism(_)))), "{}", server.kind());
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_is_bad_credentials_everywhere() {
    for server in servers() {
        for transport in Transport::ALL {
            let context = format!("{} over {transport:?}", server.kind());
            let result =
                transport.connect(server, Client::builder(common::jid(server, "juliet"), "wrong")).connect().await;
            let Err(err) = result else { panic!("{context}: logged in with a wrong password") };
            assert!(matches!(err, Error::Auth(AuthError::BadCredentials(_))), "{context}: {err}");
        }
    }
}

#[tokio::test]
async fn anonymous_login_on_both_servers() -> Result<()> {
    for server in servers() {
        for transport in Transport::ALL {
            let context = format!("{} over {transport:?}", server.kind());
            let client = transport
                .connect(server, Client::anonymous(server.anon_domain())?)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{context}: {e}"));
            assert_eq!(client.mechanism(), Some("ANONYMOUS"), "{context}");
            assert_eq!(client.jid().domain().as_str(), server.anon_domain(), "{context}");
            client.close().await;
        }
    }
    Ok(())
}

/// ejabberd 23.01 offers every `-PLUS` but checks only `tls-unique` (rustls cannot produce it), and lists no
/// binding types: an application that wrongly tells moxl the server takes `tls-exporter` gets its binding refused.
/// That is reported as a refused binding, never as bad credentials; the client then retries once on the same
/// stream with the best mechanism without binding, unless the application allows only `-PLUS`.
#[tokio::test]
async fn a_refused_channel_binding_is_its_own_error_and_is_retried_without_binding() -> Result<()> {
    let server = servers().iter().find(|s| s.kind() == ServerKind::Ejabberd).unwrap();
    for transport in Transport::ALL {
        let context = format!("ejabberd over {transport:?}");
        // Told (wrongly) that the server accepts tls-exporter: -PLUS, refused, then SCRAM-SHA-512.
        let mut config = SaslConfig::password("juliet", "secret", server.domain());
        config.known_channel_bindings = vec![ChannelBindingType::TlsExporter];
        let client = transport
            .connect(server, Client::with_sasl(common::jid(server, "juliet"), config.clone()))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        assert_eq!(client.mechanism(), Some("SCRAM-SHA-512"), "{context}");
        client.close().await;

        // Only -PLUS allowed: each one offered is refused for its binding, and not retried. Over WebSocket ejabberd
        // offers no -PLUS at all (then nothing is acceptable).
        for plus in [Mechanism::ScramSha512Plus, Mechanism::ScramSha256Plus, Mechanism::ScramSha1Plus] {
            let mut pinned = config.clone();
            pinned.preference = vec![plus];
            let result =
                transport.connect(server, Client::with_sasl(common::jid(server, "juliet"), pinned)).connect().await;
            let Err(err) = result else { panic!("{context}: {plus} with tls-exporter was accepted") };
            match transport {
                Transport::WebSocket => assert!(
                    matches!(err, Error::Auth(AuthError::NoAcceptableMechanism(ref m)) if !m.contains("-PLUS")),
                    "{context} {plus}: {err}"
                ),
                _ => {
                    assert!(matches!(err, Error::Auth(AuthError::ChannelBindingRejected(_))), "{context} {plus}: {err}")
                }
            }
        }

        // A wrong password through the same path is still bad credentials (judged by the retry).
        let mut wrong = SaslConfig::password("juliet", "wrong", server.domain());
        wrong.known_channel_bindings = vec![ChannelBindingType::TlsExporter];
        let result = transport.connect(server, Client::with_sasl(common::jid(server, "juliet"), wrong)).connect().await;
        let Err(err) = result else { panic!("{context}: logged in with a wrong password") };
        assert!(matches!(err, Error::Auth(AuthError::BadCredentials(_))), "{context}: {err}");
    }
    Ok(())
}

/// With a session store, the strongest mechanism an account used is remembered; a later login offered only weaker
/// ones is refused (possible downgrade) unless the application allows it. PLAIN over TLS stays allowed for an
/// account never seen with more.
#[tokio::test]
async fn the_session_store_pins_the_strongest_mechanism() -> Result<()> {
    for server in servers() {
        let dir = TempDir::new("moxl-pin").unwrap();
        let store = SessionStore::open_sqlite_file(dir.path().join("store.db"), &Default::default()).await?;
        let user = format!("pin-{}", server.kind());
        server.register(&user, "secret").unwrap();
        let jid = common::jid(server, &user);
        let login = |preference: Vec<Mechanism>, allow_downgrade: bool| {
            let mut config = SaslConfig::password(user.clone(), "secret", server.domain());
            config.preference = preference;
            config.allow_downgrade = allow_downgrade;
            Transport::StartTls
                .connect(server, Client::with_sasl(jid.clone(), config))
                .session_store(store.clone(), "t")
        };
        // Never seen: PLAIN over TLS is fine.
        let client = login(vec![Mechanism::Plain], false).connect().await?;
        assert_eq!(client.mechanism(), Some("PLAIN"));
        client.close().await;
        // The default (strongest) mechanism is used and pinned.
        let strongest = default_choice(server.kind());
        let client = login(Mechanism::DEFAULT_PREFERENCE.to_vec(), false).connect().await?;
        assert_eq!(client.mechanism(), Some(strongest.name()));
        client.close().await;
        // Now PLAIN (or SCRAM-SHA-1) alone is refused, with a clear error...
        for weaker in [Mechanism::Plain, Mechanism::ScramSha1] {
            let result = login(vec![weaker], false).connect().await;
            let Err(err) = result else { panic!("{}: {weaker} accepted below the pin", server.kind()) };
            assert!(matches!(err, Error::Auth(AuthError::BelowPinned(ref m)) if m.contains(strongest.name())), "{err}");
        }
        // ...unless the application allows it; which does not lower the pin.
        let client = login(vec![Mechanism::Plain], true).connect().await?;
        assert_eq!(client.mechanism(), Some("PLAIN"));
        client.close().await;
        assert!(login(vec![Mechanism::Plain], false).connect().await.is_err());
        store.close().await;
    }
    Ok(())
}
