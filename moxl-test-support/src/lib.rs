//! Test support for moxl: real, throw-away [Prosody](https://prosody.im) and [ejabberd](https://www.ejabberd.im) XMPP
//! servers for integration tests ([`ServerKind::ALL`] runs a test body against both; see [`Server`]).
//!
//! [`Prosody::builder`] writes a configuration, a throw-away CA and a server certificate signed by it into a
//! new temp dir, picks free loopback ports, starts `prosody -F` as a child process and waits until it
//! listens (about 0.2–0.5 s). Dropping the [`Prosody`] value stops the server and removes the dir.
//!
//! Prosody must be installed (Debian/Ubuntu: `bash scripts/install-test-deps.sh` as root); without it
//! [`ProsodyBuilder::start`] returns [`TestSupportError::ProsodyNotInstalled`] saying so. Nothing is installed
//! from here.
//!
//! ```
//! # fn main() -> Result<(), moxl_test_support::TestSupportError> {
//! let server = moxl_test_support::Prosody::builder()
//!     .account("juliet", "secret")
//!     .account("romeo", "secret")
//!     .start()?;
//! assert_eq!(server.domain(), "localhost");
//! assert_eq!(server.anon_domain(), "anon.localhost");
//! assert!(server.websocket_url().starts_with("ws://127.0.0.1:"));
//! // Clients trust only this CA and connect to 127.0.0.1 with the name `localhost`.
//! let _ca: &str = server.ca_pem();
//! let _starttls_port: u16 = server.c2s_port();
//! let _direct_tls_port: u16 = server.direct_tls_port();
//! server.register("mercutio", "secret")?;
//! # Ok(()) }
//! ```
//!
//! [`Ejabberd::builder`] starts ejabberd 23.01 (Debian's package, installed by the same script) the same way, in
//! about 1–2 s: free loopback ports, temp config, throw-away CA, accounts, an anonymous host, MUC, PubSub and
//! HTTP upload, STARTTLS, direct TLS and WebSocket.
//!
//! Keep a server in a local variable or a test fixture, not in a `static` (statics are never dropped; a
//! watchdog then stops the server when the test process exits).
//!
//! [`Dnsmasq::builder`] likewise starts a throw-away DNS server (dnsmasq, also installed by that script) with
//! given SRV and address records on a free loopback port, for DNS resolution tests.

mod certs;
mod config;
mod dnsmasq;
mod ejabberd;
mod error;
mod ports;
mod postgres;
mod process;
mod prosody;
mod proxy;
mod sasl2;
mod server;
mod tempdir;

pub use dnsmasq::{Dnsmasq, DnsmasqBuilder};
pub use ejabberd::{Ejabberd, EjabberdBuilder};
pub use error::TestSupportError;
pub use postgres::PostgresDb;
pub use prosody::{Prosody, ProsodyBuilder, TurnExternal};
pub use proxy::CutProxy;
pub use server::{Server, ServerKind, ServerOptions};
pub use tempdir::TempDir;
