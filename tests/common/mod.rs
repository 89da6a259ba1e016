//! Scaffolding shared by the integration tests: the test server with two accounts, JIDs, waiting for a Packet,
//! and a Payload that reports chat bodies (as the `body` Packet, and into a [`Log`] given to the controller).

// Each test binary uses a part of it.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use moxl::client::{Client, ClientBuilder};
use moxl::jid::BareJid;
use moxl::prelude::*;
use moxl::transport::TlsConfig;
use moxl::xec::{Packet, PacketStream};
use moxl_test_support::{Prosody, ProsodyBuilder};

/// The accounts of [`server`]: juliet/secret and romeo/montague.
pub(crate) fn accounts() -> ProsodyBuilder {
    Prosody::builder().account("juliet", "secret").account("romeo", "montague")
}

/// A Prosody with [`accounts`].
pub(crate) fn server() -> Prosody {
    accounts().start().expect("Prosody starts (bash scripts/install-test-deps.sh)")
}

/// `user@` the server's domain.
pub(crate) fn jid(p: &Prosody, user: &str) -> BareJid {
    BareJid::new(&p.jid(user)).unwrap()
}

/// A client for `user` on the test server: STARTTLS on the c2s port, trusting the test CA.
pub(crate) fn builder(p: &Prosody, user: &str, password: &str) -> ClientBuilder {
    Client::builder(jid(p, user), password)
        .server("127.0.0.1", p.c2s_port())
        .tls(TlsConfig::only_ca_pem(p.ca_pem()).unwrap())
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
