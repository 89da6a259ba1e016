//! Errors a program can match: a refused connection, a DNS failure, an untrusted certificate and a login that
//! takes too long each come back as their own [`TransportError`] variant, with the error behind it as the
//! source, from a real connection attempt (a closed loopback port, dnsmasq, Prosody, a silent listener).

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::error::Error as _;
use std::net::Ipv4Addr;
use std::time::Duration;

use moxl::client::Client;
use moxl::error::TransportError;
use moxl::transport::{connect_tcp, Resolver, TlsConfig};
use moxl::Error;
use moxl_test_support::Dnsmasq;

/// The messages of an error and its sources, outermost first.
fn chain(e: &Error) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut next = e.source();
    while let Some(s) = next {
        out.push(s.to_string());
        next = s.source();
    }
    out
}

/// A loopback port nobody listens on: bind one, then close it.
fn closed_port() -> u16 {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn a_closed_port_is_a_refused_connection() {
    let port = closed_port();
    let result = Client::builder("juliet@capulet.lit".parse().unwrap(), "secret")
        .server("127.0.0.1", port)
        .reconnect(None)
        .connect()
        .await;
    let Err(err) = result else { panic!("connected to a closed port") };
    let Error::Transport(TransportError::Refused { host, port: p, source }) = &err else {
        panic!("not a refused connection: {err:?}")
    };
    assert_eq!((host.as_str(), *p), ("127.0.0.1", port));
    assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
    let chain = chain(&err);
    assert_eq!(chain.len(), 3, "moxl's error, the transport error, the system's: {chain:?}");
    assert!(err.is_transport() && !err.is_timeout() && !err.is_certificate());
    // The same through the plain TCP helper.
    let direct = connect_tcp("127.0.0.1", port).await.unwrap_err();
    assert!(matches!(direct, Error::Transport(TransportError::Refused { .. })), "{direct:?}");
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_a_dns_error() {
    let dns =
        Dnsmasq::builder().local_domain("test").start().expect("dnsmasq starts (bash scripts/install-test-deps.sh)");
    // No SRV record and no address for the domain: the fallback (the domain on 5222) does not resolve either.
    let result = Client::builder("juliet@nowhere.test".parse().unwrap(), "secret")
        .resolver(Resolver::with_nameserver(dns.addr()))
        .reconnect(None)
        .connect()
        .await;
    let Err(err) = result else { panic!("connected to a domain that does not exist") };
    let Error::Transport(TransportError::Dns { host, source }) = &err else { panic!("not a DNS error: {err:?}") };
    assert_eq!(host, "nowhere.test");
    assert!(source.to_string().contains("nowhere.test"), "the resolver's error is the source: {source}");
    assert!(chain(&err).len() >= 3, "{:?}", chain(&err));
}

#[tokio::test]
async fn an_untrusted_certificate_names_the_option_that_adds_a_ca() {
    let prosody = common::server();
    // The default roots (the web PKI) do not vouch for the test server's CA.
    let result = Client::builder(common::jid(&prosody, "juliet"), "secret")
        .server("127.0.0.1", prosody.c2s_port())
        .reconnect(None)
        .connect()
        .await;
    let Err(err) = result else { panic!("trusted the test CA without being told") };
    let Error::Transport(TransportError::CertificateUntrusted { domain, source }) = &err else {
        panic!("not an untrusted certificate: {err:?}")
    };
    assert_eq!(domain, prosody.domain());
    assert_eq!(*source, rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer));
    assert!(err.to_string().contains("TlsConfig::with_extra_ca_pem"), "says what to do: {err}");
    assert!(err.is_certificate());
    let rustls_error = err.source().and_then(|t| t.source()).unwrap();
    assert!(rustls_error.downcast_ref::<rustls::Error>().is_some(), "{rustls_error:?}");

    // Trusting the CA (what the message says) makes the same login work.
    let client = Client::builder(common::jid(&prosody, "juliet"), "secret")
        .server("127.0.0.1", prosody.c2s_port())
        .tls(TlsConfig::with_extra_ca_pem(prosody.ca_pem()).unwrap())
        .connect()
        .await
        .unwrap();
    client.close().await;
}

#[tokio::test]
async fn a_silent_server_is_a_login_timeout() {
    // The kernel accepts the connection; nobody ever answers the stream header.
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let result = Client::builder("juliet@capulet.lit".parse().unwrap(), "secret")
        .server("127.0.0.1", port)
        .connect_timeout(Duration::from_millis(300))
        .reconnect(None)
        .connect()
        .await;
    let Err(err) = result else { panic!("a silent server let us log in") };
    assert!(
        matches!(&err, Error::Transport(TransportError::Timeout { after, .. }) if *after == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(err.is_timeout());
    assert!(err.to_string().contains("connect_timeout"), "says what to do: {err}");
    drop(listener);
}
