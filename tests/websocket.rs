//! XMPP over WebSocket (RFC 7395) against the real Prosody of the test support: `wss://` with every mechanism it
//! offers, `ws://` only when cleartext is allowed (and then never PLAIN), stanzas and Actions through the same
//! client API as TCP, keepalive ping frames, and a graceful `<close/>`.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{jid, packet, server};
use moxl::auth::{AuthError, Mechanism, SaslConfig};
use moxl::client::{Client, ClientBuilder, ConnectionState};
use moxl::prelude::*;
use moxl::transport::{TlsConfig, TransportError};
use moxl::xep::rfc6121_roster::{Get, RosterItem};
use moxl_test_support::Prosody;

fn wss(p: &Prosody, config: SaslConfig, user: &str) -> ClientBuilder {
    Client::with_sasl(jid(p, user), config)
        .websocket(p.websocket_tls_url())
        .tls(TlsConfig::only_ca_pem(p.ca_pem()).unwrap())
}

#[tokio::test]
async fn wss_login_with_every_mechanism_prosody_offers() -> Result<()> {
    let p = server();
    assert!(p.websocket_tls_url().starts_with("wss://"));
    for mechanism in [Mechanism::ScramSha256, Mechanism::ScramSha1, Mechanism::Plain] {
        let mut config = SaslConfig::password("juliet", "secret", p.domain());
        config.preference = vec![mechanism];
        let client = wss(&p, config, "juliet").connect().await?;
        assert_eq!(client.mechanism(), Some(mechanism.name()));
        assert_eq!(client.transport(), "wss");
        assert_eq!(client.tls_version(), Some("TLSv1_3"));
        assert_eq!(client.jid().to_bare(), jid(&p, "juliet"));
        assert!(client.jid().resource().as_str().starts_with("moxl-"));
    }
    Ok(())
}

#[tokio::test]
async fn ws_in_cleartext_needs_permission_and_never_sends_plain() -> Result<()> {
    let p = server();
    let refused = Client::builder(jid(&p, "juliet"), "secret").websocket(p.websocket_url()).connect().await;
    let Err(Error::Transport(TransportError::Cleartext { url })) = refused else {
        panic!("ws:// without permission: {:?}", refused.is_ok())
    };
    assert_eq!(url, p.websocket_url());

    let client = Client::builder(jid(&p, "juliet"), "secret")
        .websocket(p.websocket_url())
        .allow_cleartext(true)
        .connect()
        .await?;
    assert_eq!(client.transport(), "ws");
    assert_eq!(client.mechanism(), Some("SCRAM-SHA-256"));

    let mut plain_only = SaslConfig::password("juliet", "secret", p.domain());
    plain_only.preference = vec![Mechanism::Plain];
    let refused = Client::with_sasl(jid(&p, "juliet"), plain_only)
        .websocket(p.websocket_url())
        .allow_cleartext(true)
        .connect()
        .await;
    assert!(matches!(refused, Err(Error::Auth(AuthError::NoAcceptableMechanism(_)))), "{:?}", refused.err());
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_over_websocket_is_a_final_error() {
    let p = server();
    let result = wss(&p, SaslConfig::password("juliet", "wrong", p.domain()), "juliet").connect().await;
    assert!(matches!(result, Err(Error::Auth(AuthError::BadCredentials(_)))), "{:?}", result.err());
}

#[tokio::test]
async fn messages_flow_between_websocket_and_tcp_clients() -> Result<()> {
    let p = server();
    let juliet = wss(&p, SaslConfig::password("juliet", "secret", p.domain()), "juliet").connect().await?;
    let romeo = Client::builder(jid(&p, "romeo"), "montague")
        .server("127.0.0.1", p.c2s_port())
        .tls(TlsConfig::only_ca_pem(p.ca_pem())?)
        .connect()
        .await?;
    let mut at_romeo = romeo.xec().subscribe("body");
    let mut at_juliet = juliet.xec().subscribe("body");
    // Several stanzas queued at once: over WebSocket each goes in its own frame (RFC 7395 §3.3.3).
    let texts = ["Wherefore art thou Romeo?", "Deny thy father & refuse thy name <3", "🌹"];
    for text in texts {
        juliet.xec().context().send(message(&romeo.jid().to_string(), "chat", Some(text)))?;
    }
    for text in texts {
        assert_eq!(packet(&mut at_romeo).await.content::<String>().map(String::as_str), Some(text));
    }
    romeo.xec().context().send(message(&juliet.jid().to_string(), "chat", Some("Call me but love")))?;
    assert_eq!(packet(&mut at_juliet).await.content::<String>().map(String::as_str), Some("Call me but love"));
    Ok(())
}

#[tokio::test]
async fn an_action_round_trip_over_websocket() -> Result<()> {
    let p = server();
    let client = wss(&p, SaslConfig::password("juliet", "secret", p.domain()), "juliet").connect().await?;
    let mut replies = client.xec().subscribe("roster_get_handle");
    client.xec().context().request(Get)?;
    assert_eq!(packet(&mut replies).await.content::<Vec<RosterItem>>().map(Vec::len), Some(0));
    Ok(())
}

#[tokio::test]
async fn keepalive_ping_frames_and_a_graceful_close() -> Result<()> {
    let p = server();
    let client = wss(&p, SaslConfig::password("juliet", "secret", p.domain()), "juliet")
        .keepalive(Some(Duration::from_millis(50)))
        .connect()
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await; // several ping frames
    let mut bodies = client.xec().subscribe("body");
    client.xec().context().send(message(&client.jid().to_string(), "chat", Some("still here")))?;
    assert_eq!(packet(&mut bodies).await.content::<String>().map(String::as_str), Some("still here"));
    let mut state = client.state();
    client.close().await;
    let reason =
        tokio::time::timeout(Duration::from_secs(2), state.wait_for(|s| matches!(s, ConnectionState::Disconnected(_))))
            .await
            .expect("disconnected")
            .map(|s| s.clone())
            .expect("state");
    assert_eq!(reason, ConnectionState::Disconnected("closed by the client".into()));
    Ok(())
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_over_wss() {
    let p = server();
    // Without the test CA, the default roots (the web PKI) do not vouch for the server.
    let result = Client::builder(jid(&p, "juliet"), "secret").websocket(p.websocket_tls_url()).connect().await;
    let Err(Error::Transport(e @ TransportError::CertificateUntrusted { .. })) = result else {
        panic!("connected to an untrusted server: {:?}", result.err())
    };
    assert!(e.to_string().contains("certificate"), "{e}");
}
