//! Querying entities through both real servers (Prosody and ejabberd), and answering such queries: XMPP Ping (XEP-0199), Software Version
//! (XEP-0092) and Last Activity (XEP-0012), each asked of the server and of another client, whose moxl-xep
//! Payloads answer.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{client, fresh_account, jid, packet, servers};
use moxl::prelude::*;
use moxl::xec::Xec;
use moxl::xep::xep_0012_last::{self as last, IdleTime, LastActivity};
use moxl::xep::xep_0092_version::{self as version, SoftwareVersion};
use moxl::xep::xep_0199_ping::{Pong, RoundTrip};
use moxl_test_support::{Server, ServerKind};

#[tokio::test]
async fn ping_the_server_another_client_and_a_resource_that_is_not_there() -> Result<()> {
    for p in servers() {
        ping(p).await?;
    }
    Ok(())
}

async fn ping(p: &Server) -> Result<()> {
    let juliet = client(p, &fresh_account(p, "juliet"), "secret").connect().await?;
    let romeo_user = fresh_account(p, "romeo");
    let romeo = client(p, &romeo_user, "secret").connect().await?;
    let mut pongs = juliet.xec().subscribe("ping_roundtrip_handle");
    // The server's ping module (§4.2), then Romeo's client, answered by moxl-xep's PingAnswer (§4.4)
    for to in [p.domain().to_owned(), romeo.jid().to_string()] {
        // the typed view: the round-trip time
        let rtt = juliet.xec().context().request(RoundTrip::new(to.clone()))?.await?;
        assert!(rtt < Duration::from_secs(5), "{rtt:?}");
        // the second view: the same, as a Packet from the pinged entity
        let reply = packet(&mut pongs).await;
        assert_eq!(reply.from(), Some(to.as_str()));
        assert_eq!(reply.content::<Duration>(), Some(&rtt));
    }
    // §6: no such resource, the server answers service-unavailable from that full JID
    let mut unavailable = juliet.xec().subscribe("ping_roundtrip_errorserviceunavailable");
    let gone = format!("{}/nobody-here", jid(p, &romeo_user));
    juliet.xec().context().request(RoundTrip::new(gone.clone()))?;
    let reply = packet(&mut unavailable).await;
    assert_eq!(reply.from(), Some(gone.as_str()));
    let pong = reply.content::<Pong>().unwrap();
    assert!(!pong.supported(), "{pong:?}");
    assert_eq!(pong.error.as_ref().and_then(StanzaError::condition), Some(Condition::ServiceUnavailable));
    assert!(pong.rtt < Duration::from_secs(5), "{pong:?}");
    assert_eq!(juliet.xec().pending(), 0);
    Ok(())
}

#[tokio::test]
async fn software_version_of_the_server_and_of_another_client() -> Result<()> {
    for p in servers() {
        software_version(p).await?;
    }
    Ok(())
}

async fn software_version(p: &Server) -> Result<()> {
    let juliet = client(p, &fresh_account(p, "juliet"), "secret").connect().await?;
    let configured = SoftwareVersion::new("Balcony", "1.2.3");
    let romeo = client(p, &fresh_account(p, "romeo"), "secret")
        .xec(Xec::builder().extension(configured.clone()))
        .connect()
        .await?;
    let mut versions = juliet.xec().subscribe("version_query_handle");
    // The server's mod_version
    juliet.xec().context().request(version::Query { to: p.domain().to_owned() })?;
    let server = packet(&mut versions).await;
    let server = server.content::<SoftwareVersion>().unwrap();
    let name = match p.kind() {
        ServerKind::Prosody => "Prosody",
        _ => "ejabberd",
    };
    assert_eq!(server.name, name);
    assert!(!server.version.is_empty(), "{server:?}");
    // Romeo's client answers with what its application configured, without an os
    juliet.xec().context().request(version::Query { to: romeo.jid().to_string() })?;
    let reply = packet(&mut versions).await;
    assert_eq!(reply.from(), Some(romeo.jid().to_string().as_str()));
    assert_eq!(reply.content::<SoftwareVersion>(), Some(&configured));
    // and Juliet's, configured with nothing, with moxl's own name and no os
    let mut romeo_versions = romeo.xec().subscribe("version_query_handle");
    romeo.xec().context().request(version::Query { to: juliet.jid().to_string() })?;
    let reply = packet(&mut romeo_versions).await;
    assert_eq!(reply.content::<SoftwareVersion>(), Some(&SoftwareVersion::default()));
    assert_eq!(reply.content::<SoftwareVersion>().unwrap().os, None);
    Ok(())
}

#[tokio::test]
async fn last_activity_of_the_server_an_account_and_another_client() -> Result<()> {
    for p in servers() {
        last_activity(p).await?;
    }
    Ok(())
}

async fn last_activity(p: &Server) -> Result<()> {
    let juliet_user = fresh_account(p, "juliet");
    let romeo_user = fresh_account(p, "romeo");
    let juliet = client(p, &juliet_user, "secret").connect().await?;
    let romeo = client(p, &romeo_user, "secret")
        .xec(Xec::builder().extension(IdleTime::new(|_requester| Some(123))))
        .connect()
        .await?;
    let ctx = juliet.xec().context();
    let mut answers = juliet.xec().subscribe("last_query_handle");
    // §5: the server's uptime (Prosody's mod_uptime, ejabberd's mod_last), a few minutes at most, no text
    ctx.request(last::Query { to: p.domain().to_owned() })?;
    let uptime = packet(&mut answers).await;
    assert_eq!(uptime.from(), Some(p.domain()));
    let uptime = uptime.content::<LastActivity>().unwrap();
    assert!(uptime.seconds.is_some_and(|s| s < 600), "{uptime:?}");
    assert_eq!(uptime.status, None);
    if p.kind() == ServerKind::Ejabberd {
        // ejabberd's mod_last answers a query to a full JID itself, with service-unavailable: the client is never
        // asked (Prosody delivers it).
        let mut refused = juliet.xec().subscribe("last_query_errorserviceunavailable");
        ctx.request(last::Query { to: romeo.jid().to_string() })?;
        let refusal = packet(&mut refused).await;
        assert_eq!(refusal.from(), Some(romeo.jid().to_string().as_str()));
    } else {
        // §4: Romeo's client answers for its full JID with the idle time its application reports
        ctx.request(last::Query { to: romeo.jid().to_string() })?;
        let idle = packet(&mut answers).await;
        assert_eq!(idle.from(), Some(romeo.jid().to_string().as_str()));
        assert_eq!(idle.content::<LastActivity>(), Some(&LastActivity::new(123)));
        // Juliet's client reports none: service-unavailable (§4, the privacy default)
        let mut refused = romeo.xec().subscribe("last_query_errorserviceunavailable");
        romeo.xec().context().request(last::Query { to: juliet.jid().to_string() })?;
        let refusal = packet(&mut refused).await;
        assert_eq!(refusal.from(), Some(juliet.jid().to_string().as_str()));
        let condition = refusal.content::<StanzaError>().and_then(StanzaError::condition);
        assert_eq!(condition, Some(Condition::ServiceUnavailable));
    }
    // §3: a bare JID is answered by the server (mod_lastactivity, mod_last), never by a client, and only to
    // someone with a subscription to the account's presence: Juliet has none yet.
    // Prosody says forbidden, ejabberd subscription-required.
    let romeo_bare = jid(p, &romeo_user).to_string();
    let (key, condition) = match p.kind() {
        ServerKind::Ejabberd => ("last_query_errorsubscriptionrequired", Condition::SubscriptionRequired),
        _ => ("last_query_errorforbidden", Condition::Forbidden),
    };
    let mut forbidden = juliet.xec().subscribe(key);
    ctx.request(last::Query { to: romeo_bare.clone() })?;
    let refusal = packet(&mut forbidden).await;
    assert_eq!(refusal.from(), Some(romeo_bare.as_str()));
    assert_eq!(refusal.content::<StanzaError>().and_then(StanzaError::condition), Some(condition));
    // Juliet subscribes to Romeo's presence; each round trip to the server makes sure it has handled what came
    // before (a client's stanzas are handled in order).
    ctx.send(presence(Some(&romeo_bare), Some("subscribe")))?;
    round_trip(&juliet).await;
    let rctx = romeo.xec().context();
    rctx.send(presence(Some(&jid(p, &juliet_user).to_string()), Some("subscribed")))?;
    rctx.send(presence(None, Some("unavailable")).text_child("status", "Gone to Mantua"))?;
    round_trip(&romeo).await;
    ctx.request(last::Query { to: romeo_bare.clone() })?;
    let gone = packet(&mut answers).await;
    assert_eq!(gone.from(), Some(romeo_bare.as_str()));
    let gone = gone.content::<LastActivity>().unwrap();
    // ejabberd answers for an account still connected without the status of its unavailable presence.
    let status = match p.kind() {
        ServerKind::Ejabberd => None,
        _ => Some("Gone to Mantua"),
    };
    assert_eq!(gone.status.as_deref(), status);
    assert!(gone.seconds.is_some_and(|s| s < 60), "{gone:?}");
    assert_eq!(juliet.xec().pending(), 0);
    Ok(())
}

/// A ping of the client's server, answered: everything the client sent before has been handled.
async fn round_trip(client: &moxl::client::Client) {
    let mut pongs = client.xec().subscribe("ping_roundtrip_handle");
    client.xec().context().request(RoundTrip::new(client.jid().domain().to_string())).unwrap();
    packet(&mut pongs).await;
}
