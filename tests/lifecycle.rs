//! The life of a client against the real Prosody of the test support: its state observed from the first attempt,
//! closing a shared client, what dropping it does to the session on the server (RFC 6120 §4.4), and the
//! reconnection backoff against a server that drops every login at once.
//!
//! Every test here is about the client, not the server: they should run against each server of the test
//! support (they take the server as a parameter for that).

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{jid, server, Log};
use moxl::client::{Client, ClientBuilder, ConnectionState, Reconnect};
use moxl::prelude::*;
use moxl::transport::TlsConfig;
use moxl_test_support::{CutProxy, Prosody};

fn builder(p: &Prosody, user: &str, password: &str, port: u16) -> ClientBuilder {
    Client::builder(jid(p, user), password).server("127.0.0.1", port).tls(TlsConfig::only_ca_pem(p.ca_pem()).unwrap())
}

/// Waits for a state the receiver has or will have.
async fn wait_for(
    state: &mut tokio::sync::watch::Receiver<ConnectionState>,
    what: &str,
    f: impl Fn(&ConnectionState) -> bool,
) -> ConnectionState {
    let found = match tokio::time::timeout(Duration::from_secs(10), state.wait_for(|s| f(s))).await {
        Ok(Ok(s)) => Some(s.clone()),
        _ => None,
    };
    found.unwrap_or_else(|| panic!("no {what} within 10 s; state {:?}", *state.borrow()))
}

/// XEP-0199 ping to an entity, reporting into the [`Log`] how it was answered.
#[derive(Serialize, Deserialize)]
struct Probe {
    to: String,
}

#[action(group = "lifetest")]
impl Probe {
    fn request(&self) -> ElementBuilder {
        iq_get(Some(&self.to)).append(ElementBuilder::new("ping", "urn:xmpp:ping"))
    }

    async fn handle(&mut self, ctx: &Context, _stanza: &Element) -> Result<()> {
        if let Some(log) = ctx.get::<Log>() {
            log.push("answered".into());
        }
        Ok(())
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        if let Some(log) = ctx.get::<Log>() {
            log.push(format!("error: {}", error.condition_name()));
        }
    }

    async fn timeout(&mut self, ctx: &Context) {
        if let Some(log) = ctx.get::<Log>() {
            log.push("timeout".into());
        }
    }
}

/// Pings `to` from `from` and waits for the outcome.
async fn probe(from: &Client, log: &Log, to: &str) -> String {
    let before = log.lines().len();
    from.xec().context().request_with_timeout(Probe { to: to.into() }, Duration::from_secs(3)).unwrap();
    for _ in 0..100 {
        if let Some(line) = log.lines().get(before) {
            return line.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the probe of {to} had no outcome within 5 s");
}

#[tokio::test]
async fn the_state_is_observable_from_the_first_attempt() -> Result<()> {
    let p = server();
    let builder = builder(&p, "juliet", "secret", p.c2s_port());
    let mut state = builder.state();
    let seen = tokio::spawn(async move {
        let mut seen = vec![state.borrow_and_update().clone()];
        while state.changed().await.is_ok() {
            let now = state.borrow_and_update().clone();
            let online = matches!(now, ConnectionState::Online(_));
            seen.push(now);
            if online {
                break;
            }
        }
        seen
    });
    let client = builder.connect().await?;
    let seen = tokio::time::timeout(Duration::from_secs(5), seen).await.expect("online seen").unwrap();
    assert!(seen.contains(&ConnectionState::Authenticating), "{seen:?}");
    assert_eq!(seen.last(), Some(&ConnectionState::Online(client.jid())), "{seen:?}");

    // A failed first connection ends in `Disconnected`, seen by whoever subscribed before.
    let wrong = self::builder(&p, "juliet", "not the password", p.c2s_port());
    let mut state = wrong.state();
    assert!(wrong.connect().await.is_err());
    let end = wait_for(&mut state, "the end", |s| matches!(s, ConnectionState::Disconnected(_))).await;
    assert!(matches!(&end, ConnectionState::Disconnected(r) if r.contains("auth")), "{end:?}");
    Ok(())
}

#[tokio::test]
async fn a_shared_client_can_be_closed() -> Result<()> {
    let p = server();
    let client = Arc::new(builder(&p, "juliet", "secret", p.c2s_port()).connect().await?);
    let mut state = client.state();
    let other = Arc::clone(&client);
    let debug = format!("{other:?}");
    assert!(debug.contains("Client") && debug.contains(&client.jid().to_string()), "{debug}");
    assert!(!format!("{:?}", self::builder(&p, "juliet", "secret", 1)).contains("secret"), "no password in Debug");
    tokio::spawn(async move { other.close().await }).await.unwrap();
    let end = wait_for(&mut state, "the end", |s| matches!(s, ConnectionState::Disconnected(_))).await;
    assert_eq!(end, ConnectionState::Disconnected("closed by the client".into()));
    client.close().await; // a second close returns at once
    Ok(())
}

/// Without a session store, nobody will resume the session: dropping the client closes the stream (RFC 6120
/// §4.4), and the server ends the session at once. Without it, the server would keep a detached session for
/// resumption (XEP-0198 §5), still routing what is sent to it (the probe would go unanswered).
#[tokio::test]
async fn a_dropped_client_ends_its_session_on_the_server() -> Result<()> {
    let p = server();
    let log = Log::default();
    let romeo = builder(&p, "romeo", "montague", p.c2s_port())
        .xec(moxl::xec::Xec::builder().extension(log.clone()))
        .connect()
        .await?;
    let juliet = builder(&p, "juliet", "secret", p.c2s_port()).connect().await?;
    assert!(juliet.stream_management().flatten().is_some(), "resumable: the server would keep the session");
    let full = juliet.jid().to_string();
    assert_eq!(probe(&romeo, &log, &full).await, "answered");

    let mut state = juliet.state();
    drop(juliet);
    let end = wait_for(&mut state, "the end", |s| matches!(s, ConnectionState::Disconnected(_))).await;
    assert_eq!(end, ConnectionState::Disconnected("closed by the client".into()));
    // The server no longer has the session: RFC 6121 §8.5.3.2.1, an iq to a full JID with no session.
    assert_eq!(probe(&romeo, &log, &full).await, "error: service-unavailable");
    Ok(())
}

/// A server that accepts every login and drops the connection at once: the backoff goes on growing across
/// those logins (attempt 1, 2, 3…) instead of starting over at each, and starts over once a session stayed up
/// for [`Reconnect::stable`].
#[tokio::test]
async fn the_backoff_grows_across_logins_that_die_at_once() -> Result<()> {
    let p = server();
    let proxy = CutProxy::start(p.c2s_port()).unwrap();
    let policy =
        Reconnect::new(Duration::from_millis(20), Duration::from_millis(200)).stable_after(Duration::from_secs(3));
    let juliet = builder(&p, "juliet", "secret", proxy.port()).reconnect(Some(policy)).connect().await?;
    let mut state = juliet.state();
    let mut attempts = Vec::new();
    for _ in 0..4 {
        // Each login is cut as soon as it is up.
        proxy.cut();
        let s = wait_for(&mut state, "reconnecting", |s| matches!(s, ConnectionState::Reconnecting { .. })).await;
        if let ConnectionState::Reconnecting { attempt, .. } = s {
            attempts.push(attempt);
        }
        wait_for(&mut state, "back", |s| matches!(s, ConnectionState::Resumed(_) | ConnectionState::Reestablished(_)))
            .await;
    }
    assert_eq!(attempts, [1, 2, 3, 4], "the backoff starts over only after a stable session");

    // A session that stays up past `stable` resets it.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    proxy.cut();
    let s = wait_for(&mut state, "reconnecting", |s| matches!(s, ConnectionState::Reconnecting { .. })).await;
    assert!(matches!(s, ConnectionState::Reconnecting { attempt: 1, .. }), "{s:?}");
    Ok(())
}

/// Every presence with a type, logged as `TYPE from BARE` into the client's [`Log`].
#[payload(name = "presence", ns = "jabber:client")]
#[derive(Default)]
struct TypedPresence;

impl Payload for TypedPresence {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        if let (Some(log), Some(kind)) = (ctx.get::<Log>(), element.attr("type")) {
            let from = element.attr("from").map(|f| f.split('/').next().unwrap_or_default().to_owned());
            log.push(format!("{kind} from {}", from.unwrap_or_default()));
        }
        Ok(())
    }
}

async fn logged(log: &Log, line: &str) -> bool {
    for _ in 0..40 {
        if log.lines().iter().any(|l| l == line) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A session is an interested resource by default (RFC 6121 §3.1.6): it fetched the roster at its start (the
/// `"roster"` start hook of moxl-xep), so the approval of its subscription request reaches it. One that opted
/// out of the hook is not, and the server does not deliver the approval to it.
#[tokio::test]
async fn the_approval_of_a_subscription_reaches_the_session_that_asked() -> Result<()> {
    let p = server();
    let romeo_log = Log::default();
    let romeo = builder(&p, "romeo", "montague", p.c2s_port())
        .xec(moxl::xec::Xec::builder().extension(romeo_log.clone()))
        .connect()
        .await?;
    romeo.xec().context().send(presence(None, None))?;
    let romeo_bare = jid(&p, "romeo").to_string();
    let juliet_bare = jid(&p, "juliet").to_string();
    for (interested, user, password) in [(true, "juliet", "secret"), (false, "nurse", "angelica")] {
        p.register(user, password).unwrap();
        let log = Log::default();
        let mut asker = builder(&p, user, password, p.c2s_port()).xec(moxl::xec::Xec::builder().extension(log.clone()));
        if !interested {
            asker = asker.without_start_hook("roster");
        }
        let asker = asker.connect().await?;
        let bare = if interested { juliet_bare.clone() } else { jid(&p, user).to_string() };
        asker.xec().context().send(presence(Some(&romeo_bare), Some("subscribe")))?;
        assert!(logged(&romeo_log, &format!("subscribe from {bare}")).await, "{:?}", romeo_log.lines());
        romeo.xec().context().send(presence(Some(&bare), Some("subscribed")))?;
        let approved = logged(&log, &format!("subscribed from {romeo_bare}")).await;
        assert_eq!(approved, interested, "{user}: {:?}", log.lines());
    }
    Ok(())
}
