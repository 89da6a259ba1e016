//! Logging in to a real Prosody started by the test support: STARTTLS and direct TLS with every mechanism it
//! offers, anonymous login, a wrong password (a final error), the bound resource, in-band registration, two
//! accounts exchanging messages, and an Action round trip (roster get) through the server.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{builder, jid, packet, server};
use moxl::auth::{AuthError, Mechanism, SaslConfig};
use moxl::client::Client;
use moxl::prelude::*;
use moxl::stream::NegotiationError;
use moxl::transport::TlsConfig;
use moxl::xep::rfc6121_roster::{Get, RosterItem};

#[tokio::test]
async fn starttls_login_with_every_mechanism_prosody_offers() -> Result<()> {
    let p = server();
    for mechanism in [Mechanism::ScramSha256, Mechanism::ScramSha1, Mechanism::Plain] {
        let mut config = SaslConfig::password("juliet", "secret", p.domain());
        config.preference = vec![mechanism];
        let client = Client::with_sasl(jid(&p, "juliet"), config)
            .server("127.0.0.1", p.c2s_port())
            .tls(TlsConfig::only_ca_pem(p.ca_pem())?)
            .connect()
            .await?;
        assert_eq!(client.mechanism(), Some(mechanism.name()));
        assert_eq!(client.jid().to_bare(), jid(&p, "juliet"));
        assert_eq!(client.tls_version(), Some("TLSv1_3"));
    }
    Ok(())
}

#[tokio::test]
async fn the_default_prefers_scram_and_binds_a_moxl_resource() -> Result<()> {
    let p = server();
    let client = builder(&p, "juliet", "secret").connect().await?;
    assert_eq!(client.mechanism(), Some("SCRAM-SHA-256"));
    assert!(client.jid().resource().as_str().starts_with("moxl-"), "{}", client.jid());
    assert!(client.features().sm.contains(&3), "stream management offered after bind");
    let named = builder(&p, "juliet", "secret").resource("balcony").connect().await?;
    assert_eq!(named.jid().resource().as_str(), "balcony");
    Ok(())
}

#[tokio::test]
async fn direct_tls_login() -> Result<()> {
    let p = server();
    let client = Client::builder(jid(&p, "romeo"), "montague")
        .server("127.0.0.1", p.direct_tls_port())
        .direct_tls(true)
        .tls(TlsConfig::only_ca_pem(p.ca_pem())?)
        .connect()
        .await?;
    assert_eq!(client.jid().to_bare(), jid(&p, "romeo"));
    Ok(())
}

#[tokio::test]
async fn anonymous_login() -> Result<()> {
    let p = server();
    let client = Client::anonymous(p.anon_domain())?
        .server("127.0.0.1", p.c2s_port())
        .tls(TlsConfig::only_ca_pem(p.ca_pem())?)
        .connect()
        .await?;
    assert_eq!(client.mechanism(), Some("ANONYMOUS"));
    assert_eq!(client.jid().domain().as_str(), p.anon_domain());
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_is_a_final_error() {
    let p = server();
    let builder = builder(&p, "juliet", "wrong");
    // Moxl's `saslfailure` Packet, and its typed view, beside the error `connect` returns.
    let (mut failures, mut keyed) = (builder.events::<AuthError>(), builder.subscribe("saslfailure"));
    let result = builder.connect().await;
    let Err(err) = result else { panic!("logged in with a wrong password") };
    assert!(matches!(err, Error::Auth(AuthError::BadCredentials(_))), "{err}");
    let failure = failures.try_recv().expect("a saslfailure event");
    assert!(matches!(*failure, AuthError::BadCredentials(_)), "{:?}", *failure);
    assert_eq!(keyed.try_recv().map(|p| p.key().to_owned()).as_deref(), Some("saslfailure"));
}

#[tokio::test]
async fn in_band_registration_creates_the_account_then_logs_in() -> Result<()> {
    let p = server();
    let client = builder(&p, "mercutio", "queen-mab").register(true).connect().await?;
    assert_eq!(client.jid().to_bare(), jid(&p, "mercutio"));
    client.close().await;
    // The account exists: an ordinary login works, and registering the name again is refused.
    let again = builder(&p, "mercutio", "queen-mab").connect().await?;
    assert_eq!(again.jid().to_bare(), jid(&p, "mercutio"));
    let taken = builder(&p, "juliet", "another").register(true).connect().await;
    let Err(Error::Negotiation(NegotiationError::RegistrationFailed { source: Some(refusal) })) = taken else {
        panic!("registered a taken name: {:?}", taken.is_ok())
    };
    assert_eq!(refusal.condition(), Some(moxl::stanza::Condition::Conflict), "{refusal}");
    // Anonymous logins have nothing to register.
    let anonymous = Client::anonymous(p.anon_domain())?.register(true).connect().await;
    assert!(
        matches!(anonymous, Err(Error::Negotiation(NegotiationError::RegistrationNeedsCredentials))),
        "{:?}",
        anonymous.err()
    );
    Ok(())
}

#[tokio::test]
async fn two_accounts_exchange_messages() -> Result<()> {
    let p = server();
    let juliet = builder(&p, "juliet", "secret").connect().await?;
    let romeo = builder(&p, "romeo", "montague").connect().await?;
    let mut bodies = romeo.xec().subscribe("body");
    let to = romeo.jid().to_string();
    for text in ["Wherefore art thou Romeo?", "Deny thy father & refuse thy name <3"] {
        juliet.xec().context().send(message(&to, "chat", Some(text)))?;
        let p = packet(&mut bodies).await;
        assert_eq!(p.content::<String>().map(String::as_str), Some(text));
        assert_eq!(p.from(), Some(juliet.jid().to_string().as_str()));
    }
    Ok(())
}

#[tokio::test]
async fn an_action_round_trip_through_the_server() -> Result<()> {
    let p = server();
    let client = builder(&p, "juliet", "secret").connect().await?;
    let mut replies = client.xec().subscribe("roster_get_handle");
    client.xec().context().request(Get)?;
    let reply = packet(&mut replies).await;
    assert_eq!(reply.content::<Vec<RosterItem>>().map(Vec::len), Some(0));
    assert_eq!(client.xec().pending(), 0);
    Ok(())
}

#[tokio::test]
async fn close_is_graceful() -> Result<()> {
    let p = server();
    let client = builder(&p, "juliet", "secret").connect().await?;
    let mut state = client.state();
    let started = std::time::Instant::now();
    client.close().await;
    assert!(started.elapsed() < Duration::from_secs(2), "closing took {:?}", started.elapsed());
    let reason = tokio::time::timeout(
        Duration::from_secs(2),
        state.wait_for(|s| matches!(s, moxl::client::ConnectionState::Disconnected(_))),
    )
    .await
    .expect("disconnected")
    .map(|s| s.clone())
    .expect("state");
    assert_eq!(reason, moxl::client::ConnectionState::Disconnected("closed by the client".into()));
    Ok(())
}

#[tokio::test]
async fn whitespace_keepalives_keep_an_idle_session_usable() -> Result<()> {
    let p = server();
    let client = builder(&p, "juliet", "secret").keepalive(Some(Duration::from_millis(50))).connect().await?;
    tokio::time::sleep(Duration::from_millis(400)).await; // several keepalives
    let mut bodies = client.xec().subscribe("body");
    client.xec().context().send(message(&client.jid().to_string(), "chat", Some("still here")))?;
    assert_eq!(packet(&mut bodies).await.content::<String>().map(String::as_str), Some("still here"));
    assert!(matches!(*client.state().borrow(), moxl::client::ConnectionState::Online(_)));
    Ok(())
}

/// A loopback proxy that forwards both ways until `silence` is set; then it drops what the server sends while
/// keeping the connection open (a connection that died without a FIN).
async fn silencing_proxy(upstream_port: u16, silence: std::sync::Arc<std::sync::atomic::AtomicBool>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let server = tokio::net::TcpStream::connect(("127.0.0.1", upstream_port)).await.unwrap();
        let (mut cr, mut cw) = client.into_split();
        let (mut sr, mut sw) = server.into_split();
        tokio::spawn(async move { tokio::io::copy(&mut cr, &mut sw).await });
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = sr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            if !silence.load(std::sync::atomic::Ordering::SeqCst) && cw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        // keep the client side open: the connection looks alive
        std::future::pending::<()>().await;
    });
    port
}

#[tokio::test]
async fn a_silently_dead_connection_is_detected_by_ping() -> Result<()> {
    let p = server();
    let silence = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let proxy = silencing_proxy(p.c2s_port(), std::sync::Arc::clone(&silence)).await;
    let client = Client::builder(jid(&p, "juliet"), "secret")
        .server("127.0.0.1", proxy)
        .tls(TlsConfig::only_ca_pem(p.ca_pem())?)
        .keepalive(None)
        .ping(Some((Duration::from_millis(200), Duration::from_millis(500))))
        // This test is about detection: no reconnection (tests/resume.rs covers that).
        .reconnect(None)
        .connect()
        .await?;
    let mut state = client.state();
    // answered pings keep it online
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(matches!(*state.borrow(), moxl::client::ConnectionState::Online(_)), "{:?}", *state.borrow());
    silence.store(true, std::sync::atomic::Ordering::SeqCst);
    let reason = tokio::time::timeout(
        Duration::from_secs(5),
        state.wait_for(|s| matches!(s, moxl::client::ConnectionState::Disconnected(_))),
    )
    .await
    .expect("detected within 5 s")
    .map(|s| s.clone())
    .expect("state");
    assert!(matches!(&reason, moxl::client::ConnectionState::Disconnected(r) if r.contains("ping")), "{reason:?}");
    Ok(())
}
