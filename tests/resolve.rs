//! SRV resolution (RFC 6120 §3.2, XEP-0368, RFC 2782) against a real DNS server (dnsmasq, started by the test
//! support): priorities and weights, direct TLS for `_xmpps-client`, the fallback to the domain on 5222, the
//! "." target, failed lookups, and an end-to-end check that the endpoints reach a real Prosody.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use moxl::transport::{Endpoint, Resolver, TlsConfig, TransportError};
use moxl::{Error, Result};
use moxl_test_support::{Dnsmasq, DnsmasqBuilder, Prosody};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn start(builder: DnsmasqBuilder) -> (Dnsmasq, Resolver) {
    let dns = builder.start().expect("dnsmasq starts (bash scripts/install-test-deps.sh)");
    let resolver = Resolver::with_nameserver(dns.addr());
    (dns, resolver)
}

/// `example.test`: direct TLS preferred by priority, three STARTTLS hosts weighted 60/20/20, then backups of both
/// kinds.
fn example_test() -> DnsmasqBuilder {
    Dnsmasq::builder()
        .local_domain("test")
        .srv("_xmpps-client._tcp.example.test", "tls.example.test", 5223, 5, 0)
        .srv("_xmpp-client._tcp.example.test", "a.example.test", 5222, 10, 60)
        .srv("_xmpp-client._tcp.example.test", "b.example.test", 5222, 10, 20)
        .srv("_xmpp-client._tcp.example.test", "c.example.test", 5222, 10, 20)
        .srv("_xmpp-client._tcp.example.test", "backup.example.test", 5269, 20, 0)
        .srv("_xmpps-client._tcp.example.test", "tls-backup.example.test", 443, 20, 0)
        .host("tls.example.test", "127.0.0.7".parse().unwrap())
        .host("tls.example.test", "::7".parse().unwrap())
}

#[tokio::test]
async fn records_come_back_by_priority_then_weight_with_direct_tls_marked() -> Result<()> {
    let (dns, resolver) = start(example_test());
    let runs = 400;
    let mut second = HashMap::<String, u32>::new();
    for _ in 0..runs {
        let endpoints = resolver.endpoints("example.test").await?;
        assert_eq!(endpoints.len(), 6, "{endpoints:?}\n{}", dns.log_tail(20));
        assert_eq!(endpoints[0], Endpoint::new("tls.example.test", 5223, true));
        let mut middle: Vec<&str> = endpoints[1..4].iter().map(|e| e.host.as_str()).collect();
        assert!(endpoints[1..4].iter().all(|e| e.port == 5222 && !e.direct_tls));
        *second.entry(middle[0].to_owned()).or_default() += 1;
        middle.sort_unstable();
        assert_eq!(middle, ["a.example.test", "b.example.test", "c.example.test"]);
        let mut last = endpoints[4..].to_vec();
        last.sort_by(|x, y| x.host.cmp(&y.host));
        assert_eq!(
            last,
            [Endpoint::new("backup.example.test", 5269, false), Endpoint::new("tls-backup.example.test", 443, true)]
        );
    }
    // RFC 2782 weights 60/20/20 (sum 100, a number in 0..=100): about 60 % / 20 % / 20 % of first places.
    let share = |host: &str| f64::from(second.get(host).copied().unwrap_or(0)) / f64::from(runs);
    assert!((share("a.example.test") - 0.6).abs() < 0.1, "{second:?}");
    assert!((share("b.example.test") - 0.2).abs() < 0.08, "{second:?}");
    assert!((share("c.example.test") - 0.2).abs() < 0.08, "{second:?}");
    Ok(())
}

#[tokio::test]
async fn the_addresses_of_a_target_come_from_the_same_server() -> Result<()> {
    let (_dns, resolver) = start(example_test());
    let addrs = resolver.socket_addrs(&Endpoint::new("tls.example.test", 5223, true)).await?;
    assert_eq!(addrs, ["127.0.0.7:5223".parse().unwrap()], "IPv4 first (hickory's default strategy)");
    let err = resolver.socket_addrs(&Endpoint::new("missing.example.test", 5222, false)).await.unwrap_err();
    let Error::Transport(TransportError::Dns { host, source }) = &err else { panic!("not a DNS error: {err:?}") };
    assert_eq!(host, "missing.example.test");
    assert!(source.to_string().contains("missing.example.test"), "the resolver's own error is kept: {source}");
    Ok(())
}

#[tokio::test]
async fn without_records_the_domain_itself_on_5222_is_the_endpoint() -> Result<()> {
    let (_dns, resolver) =
        start(example_test().host("plain.test", LOOPBACK).srv("_xmpp-client._tcp.localhost", "x.test", 1, 0, 0));
    // NXDOMAIN for both services.
    assert_eq!(resolver.endpoints("nothing.test").await?, [Endpoint::new("nothing.test", 5222, false)]);
    // The name exists (an A record), the SRV answers are empty.
    assert_eq!(resolver.endpoints("plain.test.").await?, [Endpoint::new("plain.test", 5222, false)]);
    // RFC 6761 §6.3: `localhost` names are answered locally, negatively for SRV, even though this server has a
    // record for `_xmpp-client._tcp.localhost`.
    assert_eq!(resolver.endpoints("localhost").await?, [Endpoint::new("localhost", 5222, false)]);
    Ok(())
}

#[tokio::test]
async fn a_dot_target_means_that_service_is_not_offered() -> Result<()> {
    let (_dns, resolver) = start(
        Dnsmasq::builder()
            .local_domain("test")
            // No direct TLS here, STARTTLS only.
            .srv_not_available("_xmpps-client._tcp.starttls-only.test")
            .srv("_xmpp-client._tcp.starttls-only.test", "xmpp.starttls-only.test", 5222, 0, 0)
            // No STARTTLS here, direct TLS only.
            .srv_not_available("_xmpp-client._tcp.tls-only.test")
            .srv("_xmpps-client._tcp.tls-only.test", "xmpp.tls-only.test", 443, 0, 0)
            // No XMPP at all.
            .srv_not_available("_xmpps-client._tcp.no-xmpp.test")
            .srv_not_available("_xmpp-client._tcp.no-xmpp.test")
            // "." for direct TLS and nothing for STARTTLS: XEP-0368 §5 forbids the A/AAAA fallback.
            .srv_not_available("_xmpps-client._tcp.dot-and-nothing.test"),
    );
    assert_eq!(
        resolver.endpoints("starttls-only.test").await?,
        [Endpoint::new("xmpp.starttls-only.test", 5222, false)]
    );
    assert_eq!(resolver.endpoints("tls-only.test").await?, [Endpoint::new("xmpp.tls-only.test", 443, true)]);
    for domain in ["no-xmpp.test", "dot-and-nothing.test"] {
        let err = resolver.endpoints(domain).await.unwrap_err();
        assert!(matches!(&err, Error::Transport(TransportError::NoService { .. })), "{domain}: {err}");
        assert!(err.to_string().contains("offers no XMPP client service"), "{domain}: {err}");
    }
    Ok(())
}

#[tokio::test]
async fn a_failed_lookup_falls_back_to_the_domain() -> Result<()> {
    // dnsmasq has no upstream server: a name outside its local domains is REFUSED, a failure (not "no records").
    let (_dns, resolver) = start(example_test());
    assert_eq!(resolver.endpoints("elsewhere.example").await?, [Endpoint::new("elsewhere.example", 5222, false)]);

    // Nothing listens on this port: connection refused for UDP and TCP.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let started = Instant::now();
    let resolver = Resolver::with_nameserver(closed).with_timeout(Duration::from_millis(300));
    let endpoints = resolver.endpoints("example.test").await?;
    assert_eq!(endpoints, [Endpoint::new("example.test", 5222, false)]);
    // 300 ms per try, three tries (1 + `attempts`, 2 by default), both services at once: about 0.9 s.
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    Ok(())
}

#[test]
fn a_resolver_can_be_used_from_one_runtime_after_another() {
    // A shared resolver (like `Resolver::system()`) outlives the runtime of a first caller (each #[tokio::test]
    // has its own): its connections to the name server must not be stuck in the dead runtime.
    let (dns, resolver) = start(example_test());
    for _ in 0..3 {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let endpoints = runtime.block_on(resolver.endpoints("example.test")).unwrap();
        assert_eq!(endpoints.len(), 6, "{endpoints:?}\n{}", dns.log_tail(20));
    }
}

#[test]
fn the_system_resolver_is_built_once() {
    let Ok(shared) = Resolver::system() else {
        panic!("no usable /etc/resolv.conf: {:?}", Resolver::system().unwrap_err());
    };
    assert!(shared.ptr_eq(&Resolver::system().unwrap()));
}

async fn read_until(stream: &mut (impl AsyncRead + Unpin), end: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(5), async {
        while !String::from_utf8_lossy(&got).contains(end) {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before {end}: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {end} within 5 s: {}", String::from_utf8_lossy(&got)));
    String::from_utf8_lossy(&got).into_owned()
}

/// Opens an XML stream to `localhost` (the virtual host) and returns the server's header and features.
async fn open_stream(stream: &mut (impl AsyncRead + AsyncWrite + Unpin)) -> String {
    let header = moxl::stanza::stream_header("localhost", None);
    stream.write_all(header.as_bytes()).await.unwrap();
    read_until(stream, "</stream:features>").await
}

#[tokio::test]
async fn the_endpoints_reach_a_real_prosody() -> Result<()> {
    let prosody = Prosody::start().expect("Prosody starts (bash scripts/install-test-deps.sh)");
    // The XMPP domain of the records is `chat.test`, not Prosody's `localhost`: resolvers answer `localhost`
    // names themselves (RFC 6761), without asking DNS. The streams are opened to the `localhost` virtual host.
    let (_dns, resolver) = start(
        Dnsmasq::builder()
            .local_domain("test")
            .srv("_xmpps-client._tcp.chat.test", "xmpp.chat.test", prosody.direct_tls_port(), 5, 0)
            .srv("_xmpp-client._tcp.chat.test", "xmpp.chat.test", prosody.c2s_port(), 10, 0)
            .host("xmpp.chat.test", LOOPBACK),
    );
    let endpoints = resolver.endpoints("chat.test").await?;
    assert_eq!(
        endpoints,
        [
            Endpoint::new("xmpp.chat.test", prosody.direct_tls_port(), true),
            Endpoint::new("xmpp.chat.test", prosody.c2s_port(), false),
        ]
    );
    let tls = TlsConfig::only_ca_pem(prosody.ca_pem())?;
    for endpoint in &endpoints {
        let addrs = resolver.socket_addrs(endpoint).await?;
        assert_eq!(addrs, [(LOOPBACK, endpoint.port).into()]);
        let tcp = TcpStream::connect(addrs[0]).await.unwrap();
        if endpoint.direct_tls {
            // XEP-0368 §3: TLS at once, certificate and SNI for the XMPP domain, no STARTTLS inside.
            let mut stream = tls.connect("localhost", tcp).await?;
            let reply = open_stream(&mut stream).await;
            assert!(reply.contains("<stream:stream") && !reply.contains("starttls"), "{reply}");
            assert!(reply.contains("<mechanisms"), "{reply}");
        } else {
            let mut stream = tcp;
            let reply = open_stream(&mut stream).await;
            assert!(reply.contains("<stream:stream") && reply.contains("<starttls"), "{reply}");
        }
    }
    Ok(())
}

/// The client itself: no server given, it resolves the domain's records, tries the best endpoint (a dead one
/// here), moves on to the next (direct TLS), verifies the certificate for the XMPP domain, and logs in.
#[tokio::test]
async fn a_client_finds_its_server_by_srv_and_skips_a_dead_endpoint() -> Result<()> {
    let prosody =
        Prosody::builder().vhost("chat.test").start().expect("Prosody starts (bash scripts/install-test-deps.sh)");
    // A loopback port nobody listens on: bind one, then close it.
    let dead = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
    let (_dns, resolver) = start(
        Dnsmasq::builder()
            .local_domain("test")
            .srv("_xmpp-client._tcp.chat.test", "down.chat.test", dead, 1, 0)
            .srv("_xmpps-client._tcp.chat.test", "xmpp.chat.test", prosody.direct_tls_port(), 5, 0)
            .srv("_xmpp-client._tcp.chat.test", "xmpp.chat.test", prosody.c2s_port(), 10, 0)
            .host("down.chat.test", LOOPBACK)
            .host("xmpp.chat.test", LOOPBACK),
    );
    let client = moxl::client::Client::builder("mercutio@chat.test".parse()?, "queen-mab")
        .resolver(resolver)
        .tls(TlsConfig::only_ca_pem(prosody.ca_pem())?)
        .register(true)
        .connect()
        .await?;
    assert_eq!(client.jid().to_bare().to_string(), "mercutio@chat.test");
    assert_eq!(client.transport(), "direct-tls");
    assert_eq!(client.info().endpoint, Some(Endpoint::new("127.0.0.1", prosody.direct_tls_port(), true)));
    Ok(())
}
