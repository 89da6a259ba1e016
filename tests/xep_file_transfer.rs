//! File transfer between two moxl clients through the real servers (Prosody with `mod_proxy65`, ejabberd with
//! `mod_proxy65`): XEP-0047 in-band bytestreams and XEP-0065 SOCKS5 bytestreams mediated by the server's proxy,
//! on their own, then under XEP-0234 Jingle file transfer (XEP-0261 IBB and XEP-0260 SOCKS5 transports) with the
//! XEP-0300 hash checked on arrival, a corrupted transfer detected, and a transfer cancelled midway.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use common::{client, features_of};
use moxl::prelude::*;
use moxl::xep::xep_0047_ibb::{self, IbbOffer, Options};
use moxl::xep::xep_0065_socks5::{self, S5bOffer};
use moxl_test_support::{Server, ServerKind, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Both servers with juliet and romeo and a SOCKS5 proxy, started once for this file.
fn servers() -> &'static [Server] {
    static SERVERS: OnceLock<Vec<Server>> = OnceLock::new();
    SERVERS.get_or_init(|| {
        ServerKind::ALL
            .into_iter()
            .map(|kind| {
                kind.start_with(&[("juliet", "secret"), ("romeo", "montague")], &ServerOptions::default().proxy65(true))
                    .unwrap_or_else(|e| panic!("{kind} starts: {e}"))
            })
            .collect()
    })
}

/// `len` bytes that do not repeat in any short period (xorshift), the same for the same seed.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

const MB: usize = 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ibb_carries_a_megabyte_in_order_between_two_clients() -> Result<()> {
    for p in servers() {
        let juliet_builder = client(p, "juliet", "secret");
        let mut offers = juliet_builder.events::<IbbOffer>();
        let juliet = juliet_builder.connect().await?;
        let romeo = client(p, "romeo", "montague").connect().await?;
        let sent = bytes(MB, 7);

        let to = juliet.jid().to_string();
        let ctx = romeo.xec().context();
        let writer = {
            let sent = sent.clone();
            tokio::spawn(async move {
                let mut stream = xep_0047_ibb::open(&ctx, &to, "ibb-1mb", Options::default()).await?;
                assert_eq!(stream.block_size(), 4096);
                stream.write_all(&sent).await.map_err(|e| Error::handler(e.to_string()))?;
                stream.shutdown().await.map_err(|e| Error::handler(e.to_string()))?;
                Ok::<(), Error>(())
            })
        };
        let offer = tokio::time::timeout(Duration::from_secs(10), offers.recv()).await.unwrap().unwrap();
        assert_eq!((offer.from.as_str(), offer.request.sid.as_str()), (romeo.jid().to_string().as_str(), "ibb-1mb"));
        let mut stream = offer.accept()?;
        let mut received = Vec::new();
        stream.read_to_end(&mut received).await.unwrap();
        writer.await.unwrap()?;
        assert_eq!(received.len(), sent.len(), "{}", p.kind());
        assert!(received == sent, "{}: the bytes arrive as sent", p.kind());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ibb_refusals_and_errors_come_from_the_peer() -> Result<()> {
    for p in servers() {
        // juliet does not listen for offers: her client refuses the stream (§2.1, not-acceptable)
        let juliet = client(p, "juliet", "secret").connect().await?;
        let romeo = client(p, "romeo", "montague").connect().await?;
        let ctx = romeo.xec().context();
        let refused = xep_0047_ibb::open(&ctx, &juliet.jid().to_string(), "nobody", Options::default()).await;
        match refused {
            Err(Error::Stanza(e)) => assert_eq!(e.condition_name(), "not-acceptable", "{}", p.kind()),
            other => panic!("{}: {other:?}", p.kind()),
        }
        // data for a stream the peer does not know: item-not-found (§2.2)
        let stray = xep_0047_ibb::Data::new(juliet.jid().to_string(), "unknown-sid", 0, b"x".to_vec());
        match ctx.request(stray)?.await {
            Err(Error::Stanza(e)) => assert_eq!(e.condition_name(), "item-not-found", "{}", p.kind()),
            other => panic!("{}: {other:?}", p.kind()),
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socks5_through_the_servers_proxy_carries_a_megabyte() -> Result<()> {
    for p in servers() {
        let juliet_builder = client(p, "juliet", "secret");
        let mut offers = juliet_builder.events::<S5bOffer>();
        let juliet = juliet_builder.connect().await?;
        let romeo = client(p, "romeo", "montague").connect().await?;
        let ctx = romeo.xec().context();
        // §4: the proxy is found through the server's items, and says where it listens
        let proxies = xep_0065_socks5::discover_proxies(&ctx, p.domain()).await?;
        assert_eq!(proxies.len(), 1, "{}: {proxies:?}", p.kind());
        // (ejabberd names itself with a resource: `proxy.localhost/<number>`)
        assert_eq!(proxies[0].jid.split('/').next(), p.proxy65_domain(), "{}", p.kind());
        assert_eq!((proxies[0].host.as_str(), proxies[0].port), ("127.0.0.1", p.proxy65_port().unwrap()));
        assert!(features_of(&romeo, p.proxy65_domain().unwrap()).await.iter().any(|f| f == xep_0065_socks5::NS));

        let sent = bytes(MB, 11);
        let (local, target) = (romeo.jid().to_string(), juliet.jid().to_string());
        let requester = {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let mut socket = xep_0065_socks5::request(&ctx, &local, &target, "s5b-1mb", &proxies).await?;
                Ok::<_, Error>(socket.write_all(&sent).await.map(|()| socket))
            })
        };
        let offer = tokio::time::timeout(Duration::from_secs(10), offers.recv()).await.unwrap().unwrap();
        assert_eq!(offer.sid, "s5b-1mb");
        let mut socket = offer.accept().await?;
        let mut socket_out = requester.await.unwrap()?.unwrap();
        socket_out.shutdown().await.unwrap();
        let mut received = Vec::new();
        socket.read_to_end(&mut received).await.unwrap();
        assert!(received == bytes(MB, 11), "{}: the bytes arrive as sent ({} bytes)", p.kind(), received.len());
    }
    Ok(())
}
