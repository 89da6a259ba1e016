//! The ejabberd test server itself: it starts with its accounts, says its version, resets a password through the
//! HTTP API, listens on every port it names, and leaves nothing behind when dropped.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpStream;

use moxl_test_support::Ejabberd;

#[test]
fn ejabberd_starts_registers_and_cleans_up() {
    let server = Ejabberd::builder().account("juliet", "secret").admin("juliet").start().unwrap();
    assert!(server.version().is_some_and(|v| v.starts_with("23.")), "{:?}", server.version());
    for port in [server.c2s_port(), server.direct_tls_port(), server.http_port(), server.https_port()] {
        TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("port {port}: {e}"));
    }
    // An existing account gets the new password; a new one is created.
    server.register("juliet", "other").unwrap();
    server.register("mercutio", "secret").unwrap();
    // A name ejabberd would refuse is refused before asking it.
    assert!(server.register("a b", "secret").is_err());
    assert!(server.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    let config = std::fs::read_to_string(server.config_file()).unwrap();
    assert!(config.contains("\"juliet@localhost\"") && !config.contains("fail2ban"));
    let dir = server.data_dir().to_path_buf();
    drop(server);
    assert!(!dir.exists(), "{} left behind", dir.display());
}
