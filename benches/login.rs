//! Login latency (TCP connect → bound) and idle memory per session, against a local Prosody started by the
//! test support (loopback, TLS 1.3, Nagle off on both sides).
//!
//! - latency: `MOXL_BENCH_LOGINS` logins (default 30) for each of STARTTLS + SCRAM-SHA-256, direct TLS +
//!   SCRAM-SHA-256, STARTTLS + PLAIN; min / median / p90.
//! - memory: `MOXL_BENCH_SESSIONS` (default 1000) idle authenticated sessions kept open (anonymous logins), heap
//!   bytes per session from a counting allocator, against the same number of bare TLS connections to the same
//!   server measured in the same run (the floor: what rustls alone keeps per connection).
//!
//! - CPU per SCRAM-SHA-256 login (process CPU time, client side only: the server is another process), on a Prosody
//!   storing SCRAM hashes (`internal_hashed`, so that it announces the same salt at every login):
//!   `MOXL_BENCH_LOGINS` logins each with a fresh key cache (PBKDF2 every time), then as re-logins with the keys
//!   cached (RFC 5802 §5.1, no PBKDF2), medians of per-login CPU time; and Hi() alone at the server's iteration
//!   count, moxl's former loop (its HMAC re-hashed the outer pad every iteration) against the `pbkdf2` crate now
//!   used.
//!
//! `cargo bench --bench login`

#[path = "support/cpu.rs"]
mod cpu;
use cpu::cpu_now;

use std::time::{Duration, Instant};

use hmac::digest::KeyInit;
use hmac::Mac;
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

/// The median of `f`'s CPU time over `n` runs, in milliseconds.
async fn cpu_median<F, Fut>(n: usize, mut f: F) -> Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let start = cpu_now();
        f().await?;
        ms.push((cpu_now() - start).as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN))
}

/// moxl's Hi() before it used the `pbkdf2` crate (the baseline): `SimpleHmac`, whose finalization hashes the
/// outer key block again on every iteration (three compressions per iteration instead of two).
fn former_hi(password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    type Prf = hmac::SimpleHmac<sha2::Sha256>;
    let prf = <Prf as KeyInit>::new_from_slice(password).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    let mut mac = prf.clone();
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let mut u = mac.finalize().into_bytes();
    let mut out = u;
    for _ in 1..iterations {
        let mut mac = prf.clone();
        mac.update(&u);
        u = mac.finalize().into_bytes();
        out.iter_mut().zip(u.iter()).for_each(|(o, x)| *o ^= x);
    }
    out.to_vec()
}

/// CPU per login with and without cached SCRAM keys, and Hi() alone before and after.
async fn login_cpu(logins: usize) -> Result<()> {
    let server = Prosody::builder()
        .account("juliet", "secret")
        .extra_config("authentication = \"internal_hashed\"\npassword_hash = \"SHA-256\"")
        .start()
        .map_err(|e| Error::handler(e.to_string()))?;
    let tls = TlsConfig::only_ca_pem(server.ca_pem())?;
    let jid = BareJid::new(&server.jid("juliet"))?;
    let config = || {
        let mut config = SaslConfig::password("juliet", "secret", server.domain());
        config.preference = vec![Mechanism::ScramSha256];
        config
    };
    let login = |config: SaslConfig| {
        let builder =
            Client::with_sasl(jid.clone(), config).server("127.0.0.1", server.c2s_port()).tls(tls.clone()).fast(false);
        async move {
            builder.connect().await?.close().await;
            Ok(())
        }
    };
    // Warm-up (TLS session tickets, first allocations).
    login(config()).await?;
    let fresh = cpu_median(logins, || login(config())).await?;
    let cached = config();
    let cache = cached.scram_cache.clone().unwrap_or_default();
    login(cached.clone()).await?;
    let relogin = cpu_median(logins, || login(cached.clone())).await?;
    if cache.derivations() != 1 || cache.reuses() != logins as u64 {
        return Err(Error::handler(format!("the cached keys were not used as expected: {cache:?}")));
    }
    let iterations =
        cache.get("juliet", Mechanism::ScramSha256).map(|k| k.iterations()).ok_or_else(|| Error::handler("no keys"))?;
    println!(
        "CPU per SCRAM-SHA-256 login (STARTTLS, client process CPU time, median of {logins}, {iterations} iterations):"
    );
    println!("  fresh derivation (PBKDF2)         {fresh:6.2} ms");
    println!("  re-login with cached keys         {relogin:6.2} ms = {:.2}x the fresh login", relogin / fresh);
    let salt = b"moxl-bench-salt!";
    let time_hi = |f: &dyn Fn() -> Vec<u8>| {
        let mut ms: Vec<f64> = (0..logins.max(9))
            .map(|_| {
                let start = cpu_now();
                std::hint::black_box(f());
                (cpu_now() - start).as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        ms.get(ms.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let mut expected = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"secret", salt, iterations, &mut expected);
    if former_hi(b"secret", salt, iterations) != expected {
        return Err(Error::handler("the former Hi() and the pbkdf2 crate disagree"));
    }
    let former = time_hi(&|| former_hi(b"secret", salt, iterations));
    let now = time_hi(&|| {
        let mut out = vec![0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"secret", salt, iterations, &mut out);
        out
    });
    println!("Hi() alone, SHA-256, {iterations} iterations (median CPU time):");
    println!("  moxl's former loop (SimpleHmac)   {former:6.3} ms");
    println!("  pbkdf2 crate (now used)           {now:6.3} ms = {:.2}x the former loop", now / former);
    Ok(())
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
    login_cpu(logins).await?;
    if std::env::var_os("MOXL_BENCH_CPU_ONLY").is_some() {
        return Ok(());
    }
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
