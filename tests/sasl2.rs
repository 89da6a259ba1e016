//! SASL2 (XEP-0388) with Bind2 (XEP-0386) against the real Prosody of the test support, with Debian's
//! `prosody-modules` (patched for 0.12 by the test support). There, SASL2 offers `-PLUS` with `tls-exporter`
//! channel binding on TLS 1.3, so these tests also log in with real channel binding.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::jid;
use moxl::auth::{AuthError, Mechanism, SaslConfig};
use moxl::client::{Client, ClientBuilder};
use moxl::prelude::*;
use moxl::transport::TlsConfig;
use moxl_test_support::Prosody;

fn server() -> Prosody {
    common::accounts()
        .sasl2(true)
        .start()
        .expect("Prosody with prosody-modules starts (bash scripts/install-test-deps.sh)")
}

fn builder(p: &Prosody, config: SaslConfig, user: &str) -> ClientBuilder {
    Client::with_sasl(jid(p, user), config)
        .server("127.0.0.1", p.c2s_port())
        .tls(TlsConfig::only_ca_pem(p.ca_pem()).unwrap())
}

fn password(p: &Prosody, user: &str, password: &str) -> SaslConfig {
    SaslConfig::password(user, password, p.domain())
}

#[tokio::test]
async fn sasl2_with_bind2_and_tls_exporter_channel_binding_by_default() -> Result<()> {
    let p = server();
    let client = builder(&p, password(&p, "juliet", "secret"), "juliet").connect().await?;
    assert!(client.sasl2(), "SASL2 used when offered");
    assert!(client.bind2(), "bound inline");
    // The strongest mechanism: SCRAM with channel binding to this TLS 1.3 connection (RFC 9266).
    assert_eq!(client.mechanism(), Some("SCRAM-SHA-256-PLUS"));
    assert_eq!(client.jid().to_bare(), jid(&p, "juliet"));
    // Prosody's Bind2 makes the resource from our tag and the user agent.
    assert!(client.jid().resource().as_str().starts_with("moxl~"), "{}", client.jid());
    Ok(())
}

#[tokio::test]
async fn every_mechanism_offered_through_sasl2() -> Result<()> {
    let p = server();
    for mechanism in [
        Mechanism::ScramSha256Plus,
        Mechanism::ScramSha1Plus,
        Mechanism::ScramSha256,
        Mechanism::ScramSha1,
        Mechanism::Plain,
    ] {
        let mut config = password(&p, "juliet", "secret");
        config.preference = vec![mechanism];
        let client = builder(&p, config, "juliet").connect().await?;
        assert_eq!(client.mechanism(), Some(mechanism.name()));
        assert!(client.sasl2() && client.bind2());
    }
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_through_sasl2_is_a_final_error() {
    let p = server();
    let result = builder(&p, password(&p, "juliet", "wrong"), "juliet").connect().await;
    assert!(matches!(result, Err(Error::Auth(AuthError::BadCredentials(_)))), "{:?}", result.err());
}

#[tokio::test]
async fn a_stable_user_agent_keeps_the_bind2_resource() -> Result<()> {
    let p = server();
    let id = "6f2a2c4e-1b7e-4d0a-9a55-3f1c2b7d9e10";
    let first = builder(&p, password(&p, "juliet", "secret"), "juliet").user_agent_id(id).connect().await?;
    let resource = first.jid().resource().to_string();
    first.close().await;
    let second = builder(&p, password(&p, "juliet", "secret"), "juliet").user_agent_id(id).connect().await?;
    assert_eq!(second.jid().resource().as_str(), resource);
    let other = builder(&p, password(&p, "juliet", "secret"), "juliet").connect().await?;
    assert_ne!(other.jid().resource().as_str(), resource, "another installation gets another resource");
    Ok(())
}

#[tokio::test]
async fn an_explicit_resource_uses_sasl2_then_resource_binding() -> Result<()> {
    let p = server();
    let client = builder(&p, password(&p, "juliet", "secret"), "juliet").resource("balcony").connect().await?;
    assert!(client.sasl2() && !client.bind2());
    assert_eq!(client.jid().resource().as_str(), "balcony");
    Ok(())
}

#[tokio::test]
async fn sasl2_can_be_turned_off() -> Result<()> {
    let p = server();
    let client = builder(&p, password(&p, "juliet", "secret"), "juliet").sasl2(false).connect().await?;
    assert!(!client.sasl2() && !client.bind2());
    // The legacy profile on Prosody 0.12 has no channel binding on TLS 1.3.
    assert_eq!(client.mechanism(), Some("SCRAM-SHA-256"));
    assert!(client.jid().resource().as_str().starts_with("moxl-"));
    Ok(())
}

#[tokio::test]
async fn stanzas_flow_on_the_unrestarted_stream_and_over_websocket() -> Result<()> {
    let p = server();
    let juliet = builder(&p, password(&p, "juliet", "secret"), "juliet").connect().await?;
    let romeo = Client::with_sasl(jid(&p, "romeo"), password(&p, "romeo", "montague"))
        .websocket(p.websocket_tls_url())
        .tls(TlsConfig::only_ca_pem(p.ca_pem())?)
        .connect()
        .await?;
    assert!(romeo.sasl2() && romeo.bind2());
    assert_eq!(romeo.mechanism(), Some("SCRAM-SHA-256-PLUS"));
    let mut bodies = romeo.xec().subscribe("body");
    juliet.xec().context().send(message(&romeo.jid().to_string(), "chat", Some("O Romeo, Romeo!")))?;
    let got = tokio::time::timeout(Duration::from_secs(5), bodies.recv()).await.expect("in time").expect("open");
    assert_eq!(got.content::<String>().map(String::as_str), Some("O Romeo, Romeo!"));
    Ok(())
}

#[tokio::test]
async fn fast_tokens_log_in_without_the_password_and_a_refused_one_falls_back() -> Result<()> {
    let p = server();
    // Tokens belong to one client installation: its user agent id (XEP-0484 §5).
    let id = "0d6f1b8e-5a3c-4e7d-9b21-8c4f2a6e1d37";
    // The first login uses the password and asks for a token (XEP-0484 §3.2), bound to this TLS 1.3 channel.
    let first = builder(&p, password(&p, "juliet", "secret"), "juliet").user_agent_id(id).connect().await?;
    assert!(!first.info().fast);
    let token = first.fast_token().expect("a FAST token was issued");
    assert_eq!(token.mechanism, "HT-SHA-256-EXPR");
    first.close().await;

    // The next one logs in with the token: a wrong password proves it is not used.
    let second = builder(&p, password(&p, "juliet", "not the password"), "juliet")
        .user_agent_id(id)
        .fast_token(token.clone())
        .connect()
        .await?;
    assert!(second.info().fast, "logged in with the token");
    assert_eq!(second.mechanism(), Some("HT-SHA-256-EXPR"));
    assert!(second.bind2());
    second.close().await;

    // A token the server does not know is dropped, and the password used instead on the same stream.
    let mut forged = token.clone();
    forged.token = "secret-token:fast-forged".into();
    let third =
        builder(&p, password(&p, "juliet", "secret"), "juliet").user_agent_id(id).fast_token(forged).connect().await?;
    assert!(!third.info().fast);
    assert_eq!(third.mechanism(), Some("SCRAM-SHA-256-PLUS"));
    assert_ne!(third.fast_token().map(|t| t.token), Some("secret-token:fast-forged".into()));
    Ok(())
}

#[tokio::test]
async fn a_stored_session_keeps_its_fast_token_for_the_next_run() -> Result<()> {
    use moxl::session::{SessionStore, StoreOptions};
    let p = server();
    let dir = moxl_test_support::TempDir::new("moxl-fast").unwrap();
    let path = dir.path().join("sessions.db");
    let store = SessionStore::open_sqlite_file(&path, &StoreOptions::default()).await?;
    let first =
        builder(&p, password(&p, "juliet", "secret"), "juliet").session_store(store, "host-1").connect().await?;
    assert!(first.fast_token().is_some());
    first.close().await;

    // The next run (same store, same owner: the same user agent) logs in with the stored token.
    let store = SessionStore::open_sqlite_file(&path, &StoreOptions::default()).await?;
    assert!(store.load(&jid(&p, "juliet")).await?.and_then(|r| r.fast_token).is_some(), "the token is stored");
    let second = builder(&p, password(&p, "juliet", "not the password"), "juliet")
        .session_store(store, "host-1")
        .connect()
        .await?;
    assert!(second.info().fast);
    Ok(())
}
