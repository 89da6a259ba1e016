//! Login latency (TCP connect → bound) and idle memory per session, against a local Prosody started by the
//! test support (loopback, TLS 1.3, Nagle off on both sides).
//!
//! - latency: `MOXL_BENCH_LOGINS` logins (default 30) for each of STARTTLS + SCRAM-SHA-256, direct TLS +
//!   SCRAM-SHA-256, STARTTLS + PLAIN; min / median / p90.
//! - memory: `MOXL_BENCH_SESSIONS` (default 1000) idle authenticated sessions kept open (anonymous logins), heap
//!   bytes per session from a counting allocator, against the same number of bare TLS connections to the same
//!   server measured in the same run (the floor: what rustls alone keeps per connection).
//!
//! `cargo bench --bench login`

use std::time::{Duration, Instant};

use moxl::auth::{Mechanism, SaslConfig};
use moxl::client::Client;
use moxl::jid::BareJid;
use moxl::transport::{connect_tcp, TlsConfig};
use moxl::{Error, Result};
use moxl_test_support::Prosody;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn summary(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms.get(((ms.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
    format!("min {:6.2} ms   median {:6.2} ms   p90 {:6.2} ms", at(0.0), at(0.5), at(0.9))
}

fn retained(region: &Region<'_, std::alloc::System>) -> isize {
    let c = region.change();
    // `bytes_allocated` and `bytes_deallocated` already include what reallocations grew or shrank (adding
    // `bytes_reallocated` would count it twice).
    c.bytes_allocated as isize - c.bytes_deallocated as isize
}

async fn run() -> Result<()> {
    let logins = env("MOXL_BENCH_LOGINS", 30);
    let sessions = env("MOXL_BENCH_SESSIONS", 1000);
    let server = Prosody::builder().account("juliet", "secret").start().map_err(|e| Error::handler(e.to_string()))?;
    let tls = TlsConfig::only_ca_pem(server.ca_pem())?;
    let jid = BareJid::new(&server.jid("juliet"))?;

    println!("login latency, {logins} logins each (TCP connect to bound, release build):");
    for (label, mechanism, direct) in [
        ("STARTTLS   + SCRAM-SHA-256", Mechanism::ScramSha256, false),
        ("direct TLS + SCRAM-SHA-256", Mechanism::ScramSha256, true),
        ("STARTTLS   + PLAIN        ", Mechanism::Plain, false),
    ] {
        let mut ms = Vec::with_capacity(logins);
        for _ in 0..logins {
            let mut config = SaslConfig::password("juliet", "secret", server.domain());
            config.preference = vec![mechanism];
            let port = if direct { server.direct_tls_port() } else { server.c2s_port() };
            let client = Client::with_sasl(jid.clone(), config)
                .server("127.0.0.1", port)
                .direct_tls(direct)
                .tls(tls.clone())
                .connect()
                .await?;
            ms.push(client.login_time().as_secs_f64() * 1000.0);
        }
        println!("  {label}  {}", summary(ms));
    }
    let mut ms = Vec::with_capacity(logins);
    for _ in 0..logins {
        let client = Client::builder(jid.clone(), "secret").websocket(server.websocket_tls_url()).tls(tls.clone());
        ms.push(client.connect().await?.login_time().as_secs_f64() * 1000.0);
    }
    println!("  WebSocket (wss) + SCRAM-SHA-256  {}", summary(ms));

    // SASL2 (XEP-0388) with Bind2, channel binding, and FAST tokens (XEP-0484), on a server with those modules.
    let sasl2 = Prosody::builder()
        .account("juliet", "secret")
        .sasl2(true)
        .start()
        .map_err(|e| Error::handler(e.to_string()))?;
    let sasl2_tls = TlsConfig::only_ca_pem(sasl2.ca_pem())?;
    let builder = || {
        Client::builder(jid.clone(), "secret")
            .server("127.0.0.1", sasl2.c2s_port())
            .tls(sasl2_tls.clone())
            .user_agent_id("5b0f4c7e-2d1a-4e8b-9c3f-7a6d5e4b3c2a")
    };
    let mut ms = Vec::with_capacity(logins);
    let mut token = None;
    for _ in 0..logins {
        let client = builder().connect().await?;
        ms.push(client.login_time().as_secs_f64() * 1000.0);
        token = client.fast_token();
    }
    println!("  SASL2+Bind2 + SCRAM-SHA-256-PLUS  {}", summary(ms));
    let token = token.ok_or_else(|| Error::handler("no FAST token issued"))?;
    let mut ms = Vec::with_capacity(logins);
    for _ in 0..logins {
        let client = builder().fast_token(token.clone()).connect().await?;
        if !client.info().fast {
            return Err(Error::handler("the FAST token was not used"));
        }
        ms.push(client.login_time().as_secs_f64() * 1000.0);
    }
    println!("  SASL2+Bind2 + FAST token (HT-SHA-256-EXPR)  {}", summary(ms));
    drop(sasl2);

    // Baseline: bare TLS connections to the same server, kept open.
    let region = Region::new(GLOBAL);
    let mut bare = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        let tcp = connect_tcp("127.0.0.1", server.direct_tls_port()).await?;
        bare.push(tls.connect(server.domain(), tcp).await?);
    }
    let bare_bytes = retained(&region) as f64 / sessions as f64;
    drop(bare);

    // Idle authenticated sessions (anonymous, so that no account has to be created for each).
    let region = Region::new(GLOBAL);
    let started = Instant::now();
    let mut clients = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        let client = Client::anonymous(server.anon_domain())?
            .server("127.0.0.1", server.c2s_port())
            .tls(tls.clone())
            .connect()
            .await?;
        clients.push(client);
    }
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let session_bytes = retained(&region) as f64 / sessions as f64;
    println!("idle memory, {sessions} sessions (heap bytes kept per connection, counting allocator):");
    println!("  bare TLS connection (baseline, same run): {:8.0} bytes", bare_bytes);
    println!(
        "  moxl authenticated idle session:          {:8.0} bytes = {:.2}x the bare TLS connection",
        session_bytes,
        session_bytes / bare_bytes
    );
    println!("  {sessions} sessions logged in one after another in {:.1} s", took.as_secs_f64());
    drop(clients);
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
