//! TLS against a real Prosody started by the test support: certificates are verified (against the test CA
//! only when it is added explicitly), a certificate for another name is refused, and a STARTTLS offer stripped
//! by a man in the middle makes the client refuse to go on in cleartext.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use moxl::client::ClientBuilder;
use moxl::stream::Authenticator;
use moxl::stream::NegotiationError;
use moxl::transport::{connect_tcp, TlsConfig, TransportError};
use moxl::{Error, Result};
use moxl_test_support::Prosody;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn server() -> Prosody {
    Prosody::builder().account("juliet", "secret").start().expect("Prosody starts (bash scripts/install-test-deps.sh)")
}

#[tokio::test]
async fn direct_tls_is_verified_against_the_added_ca() -> Result<()> {
    let prosody = server();
    let tls = TlsConfig::only_ca_pem(prosody.ca_pem())?;
    let tcp = connect_tcp("127.0.0.1", prosody.direct_tls_port()).await?;
    let mut stream = tls.connect(prosody.domain(), tcp).await?;
    let header = moxl::stanza::stream_header(prosody.domain(), None);
    stream.write_all(header.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("</stream:features>") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before features");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&got).contains("SCRAM-SHA-1"));
    Ok(())
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() -> Result<()> {
    let prosody = server();
    let tls = TlsConfig::only_ca_pem(prosody.ca_pem())?;
    let tcp = connect_tcp("127.0.0.1", prosody.direct_tls_port()).await?;
    // An IP name sends no SNI, so Prosody presents its certificate (localhost, 127.0.0.1) and rustls must refuse
    // it for 127.0.0.2. (A domain name it does not host is refused by Prosody itself, before any certificate.)
    let Err(err) = tls.connect("127.0.0.2", tcp).await else { panic!("accepted a certificate for another name") };
    assert!(
        matches!(
            &err,
            Error::Transport(TransportError::CertificateInvalid {
                source: rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName | rustls::CertificateError::NotValidForNameContext { .. }
                ),
                ..
            })
        ),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn the_test_ca_is_not_trusted_unless_added() -> Result<()> {
    let prosody = server();
    let tcp = connect_tcp("127.0.0.1", prosody.direct_tls_port()).await?;
    let Err(err) = TlsConfig::shared()?.connect(prosody.domain(), tcp).await else { panic!("trusted the test CA") };
    assert!(
        matches!(
            &err,
            Error::Transport(TransportError::CertificateUntrusted {
                source: rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
                ..
            })
        ),
        "{err}"
    );
    Ok(())
}

/// Never asked: negotiation must stop before SASL.
struct MustNotAuthenticate;

impl Authenticator for MustNotAuthenticate {
    fn start(&mut self, _: &[String], secure: bool, _: &[String]) -> Result<(String, Option<Vec<u8>>)> {
        panic!("SASL started (secure: {secure}) although STARTTLS was stripped")
    }
    fn challenge(&mut self, _: &[u8]) -> Result<Vec<u8>> {
        panic!("SASL challenge")
    }
    fn success(&mut self, _: Option<&[u8]>) -> Result<()> {
        panic!("SASL success")
    }
}

/// A loopback proxy that removes `<starttls>` from what the server sends.
async fn stripping_proxy(upstream_port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let server = TcpStream::connect(("127.0.0.1", upstream_port)).await.unwrap();
        let (mut cr, mut cw) = client.into_split();
        let (mut sr, mut sw) = server.into_split();
        tokio::spawn(async move { tokio::io::copy(&mut cr, &mut sw).await });
        let mut buf = vec![0u8; 16 * 1024];
        let mut pending = String::new();
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            pending.push_str(&String::from_utf8_lossy(&buf[..n]));
            // Hold back an unfinished features element so the offer can be cut out whole.
            if pending.contains("<stream:features") && !pending.contains("</stream:features>") {
                continue;
            }
            if let (Some(a), Some(b)) = (pending.find("<starttls"), pending.find("</starttls>")) {
                pending.replace_range(a..b + "</starttls>".len(), "");
            }
            if cw.write_all(pending.as_bytes()).await.is_err() {
                break;
            }
            pending.clear();
        }
    });
    port
}

#[tokio::test]
async fn stripped_starttls_is_refused() -> Result<()> {
    let prosody = server();
    let proxy = stripping_proxy(prosody.c2s_port()).await;
    let jid = moxl::jid::BareJid::new(&prosody.jid("juliet"))?;
    let factory: moxl::client::AuthenticatorFactory = Arc::new(|| Box::new(MustNotAuthenticate));
    let connecting = ClientBuilder::new(jid, factory)
        .server("127.0.0.1", proxy)
        .tls(TlsConfig::only_ca_pem(prosody.ca_pem())?)
        .connect()
        .await;
    let Err(err) = connecting else { panic!("connected in cleartext") };
    assert!(matches!(&err, Error::Negotiation(NegotiationError::StartTlsUnavailable)), "{err}");
    Ok(())
}
