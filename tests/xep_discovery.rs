//! Identity and discovery against both real servers:
//!
//! - XEP-0156: the WebSocket endpoint found in host-meta over HTTPS, then a login through it. Prosody serves the
//!   documents as static files (`mod_http_files`, written by this test: XRD and JSON pointing at its own
//!   `wss://` endpoint, plus broken variants under other paths for the typed errors); ejabberd serves its own
//!   (`mod_host_meta`). Both formats are read from both servers.
//! - XEP-0157: the contact addresses of Prosody's `mod_server_contact_info` (`contact_info`) and ejabberd's
//!   `mod_disco` `server_info`, read through the `GetContactAddresses` Action.
//!
//! (XEP-0390 between two clients is in `xep_disco.rs`, with XEP-0115.)

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::jid;
use moxl::client::Client;
use moxl::prelude::*;
use moxl::transport::discovery::{fetch_host_meta, DiscoveryError, HostMeta, BOSH_REL, WEBSOCKET_REL};
use moxl::transport::{http, TlsConfig, TransportError};
use moxl::xep::xep_0157_contact_addresses::{ContactAddresses, GetContactAddresses};
use moxl_test_support::{Ejabberd, Prosody, Server};

/// Where Prosody's `mod_http_files` serves from (`https://localhost:PORT/…`): written once the port is known.
fn files_dir() -> PathBuf {
    std::env::temp_dir().join(format!("moxl-xep-discovery-{}", std::process::id()))
}

/// Both servers with juliet and romeo, started once for this file: Prosody serving host-meta files and
/// contact addresses, ejabberd with its `mod_host_meta` and `server_info` (its test configuration's).
fn servers() -> &'static [Server] {
    static SERVERS: OnceLock<Vec<Server>> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let dir = files_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let prosody = common::accounts()
            .module("http_files")
            .module("server_contact_info")
            .extra_config(format!("http_files_dir = {:?}", dir.to_str().unwrap()))
            .extra_config("http_paths = { files = \"/\" }")
            .extra_config(
                "contact_info = { abuse = { \"mailto:abuse@localhost\" }, \
                 admin = { \"xmpp:admin@localhost\", \"mailto:admin@localhost\" } }",
            )
            .start()
            .expect("Prosody starts");
        write_host_meta_files(&prosody);
        let ejabberd = Ejabberd::builder()
            .account("juliet", "secret")
            .account("romeo", "montague")
            .start()
            .expect("ejabberd starts");
        vec![Server::Prosody(prosody), Server::Ejabberd(ejabberd)]
    })
}

/// The documents Prosody serves: the good ones at `/.well-known/`, and broken ones under `/<case>/.well-known/`.
fn write_host_meta_files(p: &Prosody) {
    let https = p.https_port().unwrap();
    let http = p.http_port().unwrap();
    let wss = format!("wss://localhost:{https}/xmpp-websocket");
    let ws = format!("ws://localhost:{http}/xmpp-websocket");
    let bosh = format!("https://localhost:{https}/http-bind");
    let write = |path: &str, content: &[u8]| {
        let path = files_dir().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    };
    let xrd = |links: &[(&str, &str)]| {
        let links: String = links.iter().map(|(rel, href)| format!("  <Link rel='{rel}' href='{href}'/>\n")).collect();
        format!(
            "<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n{links}</XRD>\n"
        )
    };
    // XEP-0156 §2.3's shape, pointing at this server.
    write(".well-known/host-meta", xrd(&[(BOSH_REL, &bosh), (WEBSOCKET_REL, &wss)]).as_bytes());
    write(
        ".well-known/host-meta.json",
        format!("{{\"links\": [{{\"rel\": \"{BOSH_REL}\", \"href\": \"{bosh}\"}}, {{\"rel\": \"{WEBSOCKET_REL}\", \"href\": \"{wss}\"}}]}}")
            .as_bytes(),
    );
    // only a cleartext endpoint
    write("cleartext/.well-known/host-meta", xrd(&[(WEBSOCKET_REL, &ws)]).as_bytes());
    // a broken XRD and no JSON
    write("malformed/.well-known/host-meta", b"<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel=");
    // a broken XRD, and a JSON document that has the endpoint
    write("json-only/.well-known/host-meta", b"<html><body>not host-meta</body></html>");
    write(
        "json-only/.well-known/host-meta.json",
        format!("{{\"links\": [{{\"rel\": \"{WEBSOCKET_REL}\", \"href\": \"{wss}\"}}]}}").as_bytes(),
    );
    // larger than discovery reads
    let mut big = xrd(&[(WEBSOCKET_REL, &wss)]).into_bytes();
    big.extend(std::iter::repeat_n(b' ', 100 * 1024));
    write("big/.well-known/host-meta", &big);
    write("big/.well-known/host-meta.json", &big);
}

fn https_port(server: &Server) -> u16 {
    match server {
        Server::Prosody(p) => p.https_port().unwrap(),
        Server::Ejabberd(e) => e.https_port(),
        _ => unreachable!("two kinds"),
    }
}

/// Where a server's host-meta is: its HTTPS port on `localhost` (the test certificate's name).
fn origin(server: &Server) -> String {
    format!("https://localhost:{}", https_port(server))
}

fn tls(server: &Server) -> TlsConfig {
    TlsConfig::only_ca_pem(server.ca_pem()).unwrap()
}

#[tokio::test]
async fn a_client_finds_the_websocket_endpoint_in_host_meta_and_logs_in() -> Result<()> {
    for p in servers() {
        let wss = format!("wss://localhost:{}/xmpp-websocket", https_port(p));
        // both formats, as each server serves them (RFC 6415: XRD; Appendix A: JRD)
        let xrd = http::get(&format!("{}/.well-known/host-meta", origin(p)), &tls(p), None, 1 << 16).await?;
        assert_eq!(xrd.status, 200, "{}", p.kind());
        let xrd = HostMeta::from_xrd(&xrd.body).unwrap();
        let jrd = http::get(&format!("{}/.well-known/host-meta.json", origin(p)), &tls(p), None, 1 << 16).await?;
        assert_eq!(jrd.status, 200, "{}", p.kind());
        let jrd = HostMeta::from_jrd(&jrd.body).unwrap();
        assert_eq!(xrd.websocket(false).unwrap().url, wss, "{}", p.kind());
        assert_eq!(jrd.websocket(false).unwrap().url, wss, "{}", p.kind());
        assert_eq!(xrd.websocket_links().collect::<Vec<_>>(), jrd.websocket_links().collect::<Vec<_>>());
        let meta = fetch_host_meta(p.domain(), Some(&origin(p)), &tls(p)).await?;
        assert_eq!(meta, xrd);
        if matches!(p, Server::Prosody(_)) {
            // listed, never used (moxl does not speak BOSH)
            assert_eq!(meta.bosh().count(), 1);
        }

        let client =
            Client::builder(jid(p, "juliet"), "secret").tls(tls(p)).discover_websocket_at(origin(p)).connect().await?;
        assert_eq!(client.transport(), "wss", "{}", p.kind());
        let endpoint = client.info().endpoint.clone().unwrap();
        assert_eq!((endpoint.host.as_str(), endpoint.port), ("localhost", https_port(p)), "{}", p.kind());
        assert!(client.jid().to_string().starts_with(&format!("juliet@{}/", p.domain())));
        client.close().await;
    }
    Ok(())
}

/// The error of a connection that discovers at `base`.
async fn discovery_error(p: &Server, base: &str, allow_cleartext: bool) -> moxl::Error {
    Client::builder(jid(p, "juliet"), "secret")
        .tls(tls(p))
        .allow_cleartext(allow_cleartext)
        .discover_websocket_at(base)
        .reconnect(None)
        .connect()
        .await
        .expect_err("no usable endpoint")
}

/// Each document's failure of a [`TransportError::Discovery`].
fn failures(e: &moxl::Error) -> Vec<DiscoveryError> {
    match e {
        moxl::Error::Transport(TransportError::Discovery { domain, failures }) => {
            assert_eq!(domain, "localhost");
            failures.iter().map(|(_, f)| f.clone()).collect()
        }
        other => panic!("not a discovery error: {other}"),
    }
}

#[tokio::test]
async fn what_discovery_cannot_use_is_a_typed_error() -> Result<()> {
    let p = &servers()[0];
    let base = origin(p);
    // only ws://: refused by default, naming it, on both documents (the JSON one is missing)
    let e = discovery_error(p, &format!("{base}/cleartext"), false).await;
    let ws = format!("ws://localhost:{}/xmpp-websocket", p.http_port_or_panic());
    assert_eq!(
        failures(&e),
        [DiscoveryError::NoWebSocket { cleartext: vec![ws] }, DiscoveryError::NotFound { status: 404 }]
    );
    assert!(e.to_string().contains("cleartext, refused"), "{e}");
    // … and used when cleartext is allowed (a test server's choice)
    let client = Client::builder(jid(p, "juliet"), "secret")
        .tls(tls(p))
        .allow_cleartext(true)
        .discover_websocket_at(format!("{base}/cleartext"))
        .connect()
        .await?;
    assert_eq!(client.transport(), "ws");
    client.close().await;
    // a malformed XRD, no JSON
    let e = discovery_error(p, &format!("{base}/malformed"), false).await;
    let found = failures(&e);
    assert!(matches!(found[0], DiscoveryError::Malformed { .. }), "{e}");
    assert_eq!(found[1], DiscoveryError::NotFound { status: 404 });
    // nothing there
    let e = discovery_error(p, &format!("{base}/nothing"), false).await;
    assert_eq!(failures(&e), [DiscoveryError::NotFound { status: 404 }, DiscoveryError::NotFound { status: 404 }]);
    // a size limit on the body
    let e = discovery_error(p, &format!("{base}/big"), false).await;
    assert_eq!(failures(&e), [DiscoveryError::TooLarge { limit: 65536 }, DiscoveryError::TooLarge { limit: 65536 }]);
    // the XRD is not one: the JSON document is used
    let client = Client::builder(jid(p, "juliet"), "secret")
        .tls(tls(p))
        .discover_websocket_at(format!("{base}/json-only"))
        .connect()
        .await?;
    assert_eq!(client.transport(), "wss");
    client.close().await;
    // the certificate is verified with the client's TLS configuration: the web PKI does not know the test CA
    let e = Client::builder(jid(p, "juliet"), "secret").discover_websocket_at(&base).connect().await.unwrap_err();
    assert!(matches!(e, moxl::Error::Transport(TransportError::CertificateUntrusted { .. })), "{e}");
    // host-meta over cleartext HTTP is never fetched
    let e = discovery_error(p, &format!("http://localhost:{}", p.http_port_or_panic()), true).await;
    assert!(matches!(e, moxl::Error::Transport(TransportError::Http { .. })), "{e}");
    Ok(())
}

trait HttpPort {
    fn http_port_or_panic(&self) -> u16;
}

impl HttpPort for Server {
    fn http_port_or_panic(&self) -> u16 {
        match self {
            Server::Prosody(p) => p.http_port().unwrap(),
            Server::Ejabberd(e) => e.http_port(),
            _ => unreachable!("two kinds"),
        }
    }
}

#[tokio::test]
async fn the_servers_contact_addresses_are_read() -> Result<()> {
    for p in servers() {
        let client = common::client(p, "romeo", "montague").connect().await?;
        let contacts: ContactAddresses = client.xec().context().request(GetContactAddresses::new(p.domain()))?.await?;
        assert_eq!(contacts.abuse, ["mailto:abuse@localhost"], "{}", p.kind());
        let mut admin = contacts.admin.clone();
        admin.sort();
        assert_eq!(admin, ["mailto:admin@localhost", "xmpp:admin@localhost"], "{}", p.kind());
        assert!(contacts.support.is_empty() && contacts.security.is_empty(), "{}", p.kind());
        client.close().await;
    }
    Ok(())
}
