//! File transfer throughput between two moxl clients through a local Prosody (test support: loopback, TLS 1.3,
//! Nagle off, `mod_proxy65` on), against the same bytes sent over the raw paths in the same run:
//!
//! - XEP-0234 over XEP-0261 in-band bytestreams (block size 4096, the XEP's recommendation, and 32768; a window of
//!   8 chunks), against the same bytes as plain chat messages between the same two clients (base64 bodies of
//!   4096 bytes each: the XMPP stream itself, with no acknowledgements);
//! - XEP-0234 over XEP-0260 SOCKS5 through Prosody's proxy, against the same bytes copied over a bare loopback TCP
//!   connection (the floor of any socket path on this machine).
//!
//! Each transfer includes the Jingle negotiation and the SHA-256 of the file on both sides (the checksum is
//! checked on arrival). `MOXL_BENCH_MB` megabytes per transfer (default 8), `MOXL_BENCH_RUNS` runs (default 5);
//! medians in MB/s, and the ratios.
//!
//! `cargo bench --bench file_transfer`

use std::time::{Duration, Instant};

use moxl::client::Client;
use moxl::prelude::*;
use moxl::transport::TlsConfig;
use moxl::xep::rfc6121_message::IncomingMessage;
use moxl::xep::xep_0047_ibb::Options;
use moxl::xep::xep_0054_vcard_temp::encode_base64;
use moxl::xep::xep_0234_file_transfer::{self as ft, IncomingFile, SendOptions, TransportChoice, UsedTransport};
use moxl::xep::xep_0446_file_metadata::FileMetadata;
use moxl_test_support::Prosody;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn mbps(bytes: usize, took: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / took.as_secs_f64()
}

fn data(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// One Jingle file transfer from romeo to juliet; returns its duration.
async fn transfer(
    romeo: &Client,
    juliet: &Client,
    offers: &mut moxl::xec::EventStream<IncomingFile>,
    bytes: &[u8],
    options: SendOptions,
    expect: UsedTransport,
) -> Result<Duration> {
    let mut file = FileMetadata::default();
    file.name = Some("bench.bin".into());
    file.size = Some(bytes.len() as u64);
    let started = Instant::now();
    let reader = std::io::Cursor::new(bytes.to_vec());
    let sending = ft::send_file(&romeo.xec().context(), &juliet.jid().to_string(), file, reader, options).await?;
    let offer = offers.recv().await.ok_or_else(|| Error::handler("no offer"))?;
    let receiving = offer.receive(tokio::io::sink())?;
    let (received, sent) = tokio::join!(receiving.finished(), sending.finished());
    let took = started.elapsed();
    let received = received?;
    sent?;
    if received.transport != expect || received.bytes != bytes.len() as u64 || received.verified.is_none() {
        return Err(Error::handler(format!("unexpected transfer: {received:?}")));
    }
    Ok(took)
}

/// The same bytes as chat messages (base64 bodies of 4096 bytes each) from romeo to juliet.
async fn as_messages(
    romeo: &Client,
    juliet: &Client,
    messages: &mut moxl::xec::EventStream<IncomingMessage>,
    bytes: &[u8],
) -> Result<Duration> {
    let ctx = romeo.xec().context();
    let to = juliet.jid().to_string();
    let chunks: Vec<String> = bytes.chunks(4096).map(encode_base64).collect();
    let expected: usize = chunks.iter().map(String::len).sum();
    let started = Instant::now();
    let sender = tokio::spawn(async move {
        for body in chunks {
            loop {
                match ctx.send(message(&to, "chat", Some(&body))) {
                    Ok(()) => break,
                    Err(Error::Refused(_)) => ctx.sendable().await,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    });
    let mut got = 0;
    while got < expected {
        let m = messages.recv().await.ok_or_else(|| Error::handler("messages ended"))?;
        got += m.body().map_or(0, str::len);
    }
    let took = started.elapsed();
    sender.await.map_err(|e| Error::handler(e.to_string()))??;
    Ok(took)
}

/// The same bytes over a bare loopback TCP connection.
async fn over_tcp(bytes: &[u8]) -> Result<Duration> {
    let io = |e: std::io::Error| Error::handler(e.to_string());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(io)?;
    let addr = listener.local_addr().map_err(io)?;
    let len = bytes.len();
    let started = Instant::now();
    let reader = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = 0;
        while got < len {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            got += n;
        }
        Ok::<usize, std::io::Error>(got)
    });
    let mut s = tokio::net::TcpStream::connect(addr).await.map_err(io)?;
    s.set_nodelay(true).map_err(io)?;
    s.write_all(bytes).await.map_err(io)?;
    s.shutdown().await.map_err(io)?;
    let got = reader.await.map_err(|e| Error::handler(e.to_string()))?.map_err(io)?;
    if got != len {
        return Err(Error::handler("short read"));
    }
    Ok(started.elapsed())
}

async fn run() -> Result<()> {
    let size = env("MOXL_BENCH_MB", 8) * 1024 * 1024;
    let runs = env("MOXL_BENCH_RUNS", 5);
    let server = Prosody::builder()
        .account("juliet", "secret")
        .account("romeo", "montague")
        .proxy65(true)
        .start()
        .map_err(|e| Error::handler(e.to_string()))?;
    let tls = TlsConfig::only_ca_pem(server.ca_pem())?;
    let connect = |user: &str, password: &str| {
        Client::builder(moxl::jid::BareJid::new(&server.jid(user)).unwrap_or_else(|_| unreachable!()), password)
            .server("127.0.0.1", server.c2s_port())
            .tls(tls.clone())
    };
    let juliet_builder = connect("juliet", "secret");
    let mut offers = juliet_builder.events::<IncomingFile>();
    let mut messages = juliet_builder.events::<IncomingMessage>();
    let juliet = juliet_builder.connect().await?;
    juliet.xec().context().send(presence(None, None))?;
    let romeo = connect("romeo", "montague").connect().await?;
    let bytes = data(size);

    let ibb =
        |block: u16| SendOptions::default().transport(TransportChoice::Ibb).ibb(Options::default().block_size(block));
    let mut results: Vec<(&str, f64)> = Vec::new();
    for (label, options, expect) in [
        ("Jingle IBB, 4096-byte blocks", Some(ibb(4096)), UsedTransport::Ibb),
        ("Jingle IBB, 32768-byte blocks", Some(ibb(32768)), UsedTransport::Ibb),
        ("the same bytes as chat messages", None, UsedTransport::Ibb),
        ("Jingle SOCKS5 via proxy65", Some(SendOptions::default()), UsedTransport::Socks5),
        ("the same bytes over loopback TCP", None, UsedTransport::Socks5),
    ] {
        let mut speeds = Vec::with_capacity(runs);
        for _ in 0..runs {
            let took = match (&options, expect) {
                (Some(o), _) => transfer(&romeo, &juliet, &mut offers, &bytes, o.clone(), expect).await?,
                (None, UsedTransport::Ibb) => as_messages(&romeo, &juliet, &mut messages, &bytes).await?,
                (None, _) => over_tcp(&bytes).await?,
            };
            speeds.push(mbps(size, took));
        }
        results.push((label, median(speeds)));
    }
    println!(
        "file transfer throughput, {} MB per transfer, median of {runs} (release build, loopback Prosody):",
        size >> 20
    );
    for (label, speed) in &results {
        println!("  {label:<34} {speed:8.2} MB/s");
    }
    let of = |label: &str| results.iter().find(|(l, _)| *l == label).map_or(f64::NAN, |(_, s)| *s);
    println!(
        "  ratio IBB (4096) / chat messages:   {:.2}\n  ratio IBB (32768) / chat messages:  {:.2}\n  ratio SOCKS5 / loopback TCP:        {:.3}",
        of("Jingle IBB, 4096-byte blocks") / of("the same bytes as chat messages"),
        of("Jingle IBB, 32768-byte blocks") / of("the same bytes as chat messages"),
        of("Jingle SOCKS5 via proxy65") / of("the same bytes over loopback TCP"),
    );
    drop((romeo, juliet));
    Ok(())
}

fn main() -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::handler(e.to_string()))?;
    rt.block_on(run())
}
