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

// ---- XEP-0234 Jingle file transfer ----

use moxl::client::Client;
use moxl::xec::EventStream;
use moxl::xep::xep_0065_socks5::StreamHost;
use moxl::xep::xep_0234_file_transfer::{
    self as ft, Completed, Direction, IncomingFile, SendOptions, TransferError, TransportChoice, UsedTransport,
};
use moxl::xep::xep_0300_hashes::{Algo, Hash};
use moxl::xep::xep_0446_file_metadata::FileMetadata;

/// Romeo (the sender) and Juliet (who takes every file offered to her), both online.
async fn pair(p: &Server) -> Result<(Client, Client, EventStream<IncomingFile>)> {
    let juliet_builder = client(p, "juliet", "secret");
    let incoming = juliet_builder.events::<IncomingFile>();
    let juliet = juliet_builder.connect().await?;
    let romeo = client(p, "romeo", "montague").connect().await?;
    Ok((romeo, juliet, incoming))
}

fn metadata(name: &str, size: usize) -> FileMetadata {
    let mut f = FileMetadata::default();
    f.name = Some(name.into());
    f.media_type = Some("application/octet-stream".into());
    f.size = Some(size as u64);
    f
}

/// Romeo offers `len` bytes with `options`; Juliet receives them. Returns both ends' outcomes and what arrived.
async fn offer(
    p: &Server,
    len: usize,
    file: Option<FileMetadata>,
    options: SendOptions,
) -> (std::result::Result<Completed, TransferError>, std::result::Result<Completed, TransferError>, Vec<u8>) {
    let (romeo, juliet, mut incoming) = pair(p).await.unwrap();
    let sent = bytes(len, len as u64);
    let file = file.unwrap_or_else(|| metadata("data.bin", len));
    let to = juliet.jid().to_string();
    let sending =
        ft::send_file(&romeo.xec().context(), &to, file, std::io::Cursor::new(sent.clone()), options).await.unwrap();
    let offered = tokio::time::timeout(Duration::from_secs(20), incoming.recv()).await.unwrap().unwrap();
    assert_eq!((offered.direction, offered.peer.as_str()), (Direction::Offer, romeo.jid().to_string().as_str()));
    assert_eq!(offered.file.size, Some(len as u64));
    let (tx, mut rx) = tokio::io::duplex(1 << 20);
    let receiving = offered.receive(tx).unwrap();
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        rx.read_to_end(&mut got).await.unwrap();
        got
    });
    let (received, sent_outcome) = tokio::join!(receiving.finished(), sending.finished());
    let got = reader.await.unwrap();
    drop((romeo, juliet));
    (sent_outcome, received, got)
}

fn expect_complete(
    p: &Server,
    outcome: (std::result::Result<Completed, TransferError>, std::result::Result<Completed, TransferError>, Vec<u8>),
    len: usize,
    transport: UsedTransport,
) {
    let (sent, received, got) = outcome;
    let sent = sent.unwrap_or_else(|e| panic!("{}: the sender: {e}", p.kind()));
    let received = received.unwrap_or_else(|e| panic!("{}: the receiver: {e}", p.kind()));
    assert_eq!((sent.bytes, received.bytes), (len as u64, len as u64), "{}", p.kind());
    assert_eq!((sent.transport, received.transport), (transport, transport), "{}", p.kind());
    assert!(got == bytes(len, len as u64), "{}: the bytes arrive as sent", p.kind());
    // the checksum (§8.2) was computed while sending and checked on arrival
    let expected = Hash::compute(Algo::Sha256, &got).unwrap();
    assert_eq!(received.verified.as_ref(), Some(&expected), "{}", p.kind());
    assert_eq!(sent.verified.as_ref(), Some(&expected), "{}", p.kind());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jingle_ibb_transfers_1_mb_and_20_mb_with_the_hash_checked() {
    for p in servers() {
        for len in [MB, 20 * MB] {
            let options = SendOptions::default().transport(TransportChoice::Ibb);
            expect_complete(p, offer(p, len, None, options).await, len, UsedTransport::Ibb);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jingle_socks5_through_the_proxy_transfers_1_mb_and_20_mb_with_the_hash_checked() {
    for p in servers() {
        for len in [MB, 20 * MB] {
            // the proxies are those of the server (XEP-0065 §4)
            expect_complete(p, offer(p, len, None, SendOptions::default()).await, len, UsedTransport::Socks5);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_proxy_falls_back_to_ibb_by_transport_replace() {
    for p in servers() {
        // a streamhost where nothing listens: both sides send candidate-error, the initiator replaces the transport
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = dead.local_addr().unwrap().port();
        drop(dead);
        let proxies = vec![StreamHost::new(p.proxy65_domain().unwrap(), "127.0.0.1", port)];
        let options = SendOptions::default().transport(TransportChoice::Socks5 { proxies: Some(proxies) });
        expect_complete(p, offer(p, MB, None, options).await, MB, UsedTransport::Ibb);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_does_not_match_its_hash_is_an_error_not_a_file() {
    for p in servers() {
        for transport in [TransportChoice::Ibb, TransportChoice::default()] {
            // the offer announces the hash of other bytes
            let mut file = metadata("lie.bin", MB);
            file.hashes.push(Hash::compute(Algo::Sha256, b"not these bytes").unwrap());
            let (sent, received, got) = offer(p, MB, Some(file), SendOptions::default().transport(transport)).await;
            assert_eq!(received, Err(TransferError::HashMismatch(Algo::Sha256)), "{}", p.kind());
            match sent {
                Err(TransferError::Terminated(Some(r))) => {
                    assert_eq!(r.condition, moxl::xep::xep_0166_jingle::ReasonCondition::MediaError, "{}", p.kind());
                }
                other => panic!("{}: the sender learns it from the receiver's reason: {other:?}", p.kind()),
            }
            assert_eq!(got.len(), MB, "the bytes came, and were refused");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_cancelled_midway_ends_on_both_sides() {
    for p in servers() {
        let (romeo, juliet, mut incoming) = pair(p).await.unwrap();
        let len = 20 * MB;
        let options = SendOptions::default().transport(TransportChoice::Ibb);
        let to = juliet.jid().to_string();
        let reader = std::io::Cursor::new(bytes(len, 3));
        let sending =
            ft::send_file(&romeo.xec().context(), &to, metadata("big.bin", len), reader, options).await.unwrap();
        let offered = tokio::time::timeout(Duration::from_secs(20), incoming.recv()).await.unwrap().unwrap();
        let receiving = offered.receive(tokio::io::sink()).unwrap();
        // the sender cancels once a quarter megabyte has gone
        let mut progress = sending.progress();
        while progress.borrow().transferred < 256 * 1024 {
            progress.changed().await.unwrap();
        }
        sending.canceller().cancel();
        let (sent, received) = tokio::join!(sending.finished(), receiving.finished());
        assert_eq!(sent, Err(TransferError::Cancelled { by_peer: false }), "{}", p.kind());
        assert_eq!(received, Err(TransferError::Cancelled { by_peer: true }), "{}", p.kind());
        let p_at = progress.borrow().transferred;
        assert!(p_at < len as u64, "{}: stopped midway at {p_at}", p.kind());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requested_file_is_sent_by_its_owner() {
    for p in servers() {
        // Romeo asks Juliet for her file (§4.2); her client answers with the bytes
        let (romeo, juliet, mut incoming) = pair(p).await.unwrap();
        let len = MB;
        let (tx, mut rx) = tokio::io::duplex(1 << 20);
        let mut wanted = FileMetadata::default();
        wanted.name = Some("summit.jpg".into());
        let requesting =
            ft::request_file(&romeo.xec().context(), &juliet.jid().to_string(), wanted, tx, SendOptions::default())
                .await
                .unwrap();
        let request = tokio::time::timeout(Duration::from_secs(20), incoming.recv()).await.unwrap().unwrap();
        assert_eq!((request.direction, request.file.name.as_deref()), (Direction::Request, Some("summit.jpg")));
        let answering = request.send(std::io::Cursor::new(bytes(len, 5))).unwrap();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            rx.read_to_end(&mut got).await.unwrap();
            got
        });
        let (got_outcome, sent_outcome) = tokio::join!(requesting.finished(), answering.finished());
        let got_outcome = got_outcome.unwrap_or_else(|e| panic!("{}: {e}", p.kind()));
        sent_outcome.unwrap_or_else(|e| panic!("{}: {e}", p.kind()));
        assert_eq!(got_outcome.transport, UsedTransport::Socks5);
        assert!(reader.await.unwrap() == bytes(len, 5), "{}", p.kind());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_offer_ends_the_senders_transfer() {
    for p in servers() {
        let (romeo, juliet, mut incoming) = pair(p).await.unwrap();
        let to = juliet.jid().to_string();
        let options = SendOptions::default().transport(TransportChoice::Ibb);
        let sending = ft::send_file(&romeo.xec().context(), &to, metadata("no.bin", 10), &b"0123456789"[..], options)
            .await
            .unwrap();
        let offered = tokio::time::timeout(Duration::from_secs(20), incoming.recv()).await.unwrap().unwrap();
        offered.decline().unwrap();
        match sending.finished().await {
            Err(TransferError::Declined(Some(r))) => {
                assert_eq!(r.condition, moxl::xep::xep_0166_jingle::ReasonCondition::Decline)
            }
            other => panic!("{}: {other:?}", p.kind()),
        }
    }
}
