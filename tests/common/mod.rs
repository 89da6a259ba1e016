//! Scaffolding shared by the integration tests: the test server with two accounts, JIDs, waiting for a Packet,
//! and a Payload that reports chat bodies (as the `body` Packet, and into a [`Log`] given to the controller).

// Each test binary uses a part of it.
#![allow(dead_code)]

mod disco;

// (not every test binary asks)
#[allow(unused_imports)]
pub(crate) use disco::features_of;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use moxl::client::{Client, ClientBuilder};
use moxl::jid::BareJid;
use moxl::prelude::*;
use moxl::transport::TlsConfig;
use moxl::xec::{Packet, PacketStream};
use moxl_test_support::{Prosody, ProsodyBuilder, Server, ServerKind, ServerOptions};

/// The accounts of [`server`]: juliet/secret and romeo/montague.
pub(crate) fn accounts() -> ProsodyBuilder {
    Prosody::builder().account("juliet", "secret").account("romeo", "montague")
}

/// A Prosody with [`accounts`].
pub(crate) fn server() -> Prosody {
    accounts().start().expect("Prosody starts (bash scripts/install-test-deps.sh)")
}

/// Both servers (Prosody and ejabberd) with the accounts of [`accounts`], started once per test binary and shared by
/// its tests (a watchdog stops them when the test process exits). Tests that change an account's state register
/// their own account with [`Server::register`].
pub(crate) fn servers() -> &'static [Server] {
    static SERVERS: OnceLock<Vec<Server>> = OnceLock::new();
    SERVERS.get_or_init(|| {
        ServerKind::ALL
            .into_iter()
            .map(|kind| {
                kind.start(&[("juliet", "secret"), ("romeo", "montague")])
                    .unwrap_or_else(|e| panic!("{kind} starts (bash scripts/install-test-deps.sh): {e}"))
            })
            .collect()
    })
}

/// Both servers as [`servers`] starts them, with the message archive (XEP-0313) on for accounts and MUC rooms:
/// for the test binaries about history (started once per binary, shared by its tests).
pub(crate) fn archiving_servers() -> &'static [Server] {
    static SERVERS: OnceLock<Vec<Server>> = OnceLock::new();
    SERVERS.get_or_init(|| {
        ServerKind::ALL
            .into_iter()
            .map(|kind| {
                kind.start_with(&[("juliet", "secret"), ("romeo", "montague")], &ServerOptions::default().mam(true))
                    .unwrap_or_else(|e| panic!("{kind} starts (bash scripts/install-test-deps.sh): {e}"))
            })
            .collect()
    })
}

/// A server that has JIDs: [`Prosody`] or either [`Server`].
pub(crate) trait Jids {
    /// `user@domain`.
    fn bare(&self, user: &str) -> String;
}

impl Jids for Prosody {
    fn bare(&self, user: &str) -> String {
        self.jid(user)
    }
}

impl Jids for Server {
    fn bare(&self, user: &str) -> String {
        self.jid(user)
    }
}

/// `user@` the server's domain.
pub(crate) fn jid(p: &impl Jids, user: &str) -> BareJid {
    BareJid::new(&p.bare(user)).unwrap()
}

/// How a client reaches a [`Server`]: the three transports both servers offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// The c2s port, then STARTTLS (RFC 6120 §5).
    StartTls,
    /// XEP-0368 direct TLS.
    DirectTls,
    /// XMPP over WebSocket (RFC 7395) with TLS (`wss://`).
    WebSocket,
}

impl Transport {
    pub(crate) const ALL: [Transport; 3] = [Transport::StartTls, Transport::DirectTls, Transport::WebSocket];

    /// What [`Client::transport`] says for it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Transport::StartTls => "starttls",
            Transport::DirectTls => "direct-tls",
            Transport::WebSocket => "wss",
        }
    }

    /// Points the builder at the server over this transport, trusting the server's CA.
    pub(crate) fn connect(self, server: &Server, builder: ClientBuilder) -> ClientBuilder {
        let builder = builder.tls(TlsConfig::only_ca_pem(server.ca_pem()).unwrap());
        match self {
            Transport::StartTls => builder.server("127.0.0.1", server.c2s_port()),
            Transport::DirectTls => builder.server("127.0.0.1", server.direct_tls_port()).direct_tls(true),
            Transport::WebSocket => builder.websocket(server.websocket_tls_url()),
        }
    }
}

/// Registers a fresh account `<name>-<n>` with the password `secret` on a shared server (so that tests sharing a
/// server do not see each other's rosters, presence or data) and returns its local part.
pub(crate) fn fresh_account(server: &Server, name: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let user = format!("{name}-{n}");
    server.register(&user, "secret").unwrap_or_else(|e| panic!("{}: registering {user}: {e}", server.kind()));
    user
}

/// A client for `user` on either server over STARTTLS, trusting its CA.
pub(crate) fn client(server: &Server, user: &str, password: &str) -> ClientBuilder {
    Transport::StartTls.connect(server, Client::builder(jid(server, user), password))
}

/// A client for `user` on the test server: STARTTLS on the c2s port, trusting the test CA.
pub(crate) fn builder(p: &Prosody, user: &str, password: &str) -> ClientBuilder {
    Client::builder(jid(p, user), password)
        .server("127.0.0.1", p.c2s_port())
        .tls(TlsConfig::only_ca_pem(p.ca_pem()).unwrap())
}

/// The binary of the example `name` (`examples/<name>.rs`), built (incrementally) with the same profile and target
/// dir as the running test; `cargo test` has usually built it already, and then this costs a fingerprint check.
///
/// The variables cargo sets for the test process (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, `OUT_DIR`…) are not passed
/// on: build scripts that watch them (ring's does) would otherwise see them change and rebuild rustls and moxl,
/// twice per test run.
pub(crate) fn example_binary(name: &str) -> std::path::PathBuf {
    let mut cargo = std::process::Command::new(env!("CARGO"));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let set_by_cargo =
            ["CARGO_PKG_", "CARGO_BIN_", "CARGO_MANIFEST_", "CARGO_CRATE_"].iter().any(|p| key.starts_with(p))
                || ["OUT_DIR", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"].contains(&&*key);
        if set_by_cargo {
            cargo.env_remove(&*key);
        }
    }
    let status = cargo
        .args(["build", "--quiet", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the example {name} failed");
    // target/debug/deps/<test>-… → target/debug/examples/<name>
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(|deps| deps.parent()).unwrap().join("examples").join(name)
}

/// The next Packet, within 5 s.
pub(crate) async fn packet(stream: &mut PacketStream) -> Packet {
    tokio::time::timeout(Duration::from_secs(5), stream.recv()).await.expect("a packet within 5 s").expect("open")
}

/// What the handlers of one client saw, in order (give it with `Xec::builder().extension(log.clone())`).
#[derive(Clone, Default)]
pub(crate) struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub(crate) fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Every chat body: delivered as the `body` Packet, and logged as `body: …` into the client's [`Log`], if any.
#[payload(name = "body", ns = "jabber:client")]
#[derive(Default)]
pub(crate) struct Body;

impl Payload for Body {
    async fn handle(&mut self, ctx: &Context, element: &Element, _stanza: &Element) -> Result<()> {
        let text = element.text().into_owned();
        if let Some(log) = ctx.get::<Log>() {
            log.push(format!("body: {text}"));
        }
        ctx.pack(text).deliver();
        Ok(())
    }
}
