//! Many sessions in one process (issue 18): `MOXL_BENCH_SESSIONS` accounts (default 200) log in to one local
//! Prosody started by the test support with at most `MOXL_BENCH_CONCURRENCY` logins at a time (default 64), stay
//! idle, then each sends one chat message to the next session. Prints:
//!
//! - time to all online, and the login latency (TCP connect → bound) under that concurrency;
//! - CPU per login: the client process's CPU time over the login phase / N (SCRAM-SHA-256 with Prosody's 10,000
//!   iterations, a fresh derivation per account: each account logs in once);
//! - memory per idle session: RSS delta / N of this process, against the same figure for N bare tokio-rustls
//!   TLS connections to the same server (the floor), measured in a child process of the same run (RSS does not
//!   shrink when memory is freed, so the two cannot share a process); and Prosody's own RSS per session;
//! - message latency p50 / p90 / p99 (send → the receiver's typed event), in waves of `MOXL_BENCH_CONCURRENCY`
//!   messages in flight.
//!
//! Accounts are written straight into Prosody's data directory (`internal` storage, `internal_plain`
//! authentication), which takes milliseconds where registering 10,000 would take minutes. The soft
//! `RLIMIT_NOFILE` is raised to N + 1024 (at most the hard limit) before Prosody starts, so that the server, which
//! inherits it, can hold the sessions too.
//!
//! `MOXL_BENCH_SESSIONS=10000 cargo bench --bench sessions`

#[path = "support/cpu.rs"]
mod cpu;
use cpu::cpu_now;

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moxl::client::Client;
use moxl::jid::BareJid;
use moxl::prelude::*;
use moxl::transport::{connect_tcp, TlsConfig};
use moxl::xep::rfc6121_message::IncomingMessage;
use moxl_test_support::Prosody;

/// Set in the child process that measures the floor: the server's direct TLS port, and its CA file.
const FLOOR_PORT: &str = "MOXL_BENCH_FLOOR_PORT";
const FLOOR_CA: &str = "MOXL_BENCH_FLOOR_CA";
/// What the floor child prints, followed by its RSS bytes per connection.
const FLOOR_LINE: &str = "floor-rss-bytes-per-connection ";
/// Time given to the sessions to settle before RSS is read.
const SETTLE: Duration = Duration::from_secs(1);
const PASSWORD: &str = "secret";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn fail(e: impl std::fmt::Display) -> Error {
    Error::handler(e.to_string())
}

/// The resident set size of a process (`VmRSS` of `/proc/PID/status`), in bytes.
fn rss(pid: &str) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(fail)?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| fail(format!("no VmRSS in /proc/{pid}/status")))
}

/// CPU time of a process's main thread (the first field of `/proc/PID/schedstat`, in nanoseconds): all of
/// Prosody's work, which runs its Lua on one thread.
fn thread_cpu(pid: &str) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).map_err(fail)?;
    let ns = stat.split_whitespace().next().and_then(|v| v.parse().ok());
    ns.map(Duration::from_nanos).ok_or_else(|| fail(format!("unreadable /proc/{pid}/schedstat")))
}

/// Raises the soft limit on open files to `wanted` (at most the hard limit); returns the soft limit now in force.
fn raise_nofile(wanted: u64) -> Result<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if current < wanted {
        limit.current = Some(limit.maximum.map_or(wanted, |max| max.min(wanted)));
        setrlimit(Resource::Nofile, limit).map_err(fail)?;
    }
    Ok(getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX))
}

/// `job(0)` … `job(n - 1)` with at most `concurrency` running at once; the results in index order.
async fn bounded<T, F, Fut>(n: usize, concurrency: usize, job: F) -> Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let (job, next) = (Arc::clone(&job), Arc::clone(&next));
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, Error>(done);
                }
                done.push((i, job(i).await?));
            }
        });
    }
    let mut all: Vec<Option<T>> = (0..n).map(|_| None).collect();
    while let Some(worker) = workers.join_next().await {
        for (i, value) in worker.map_err(fail)?? {
            if let Some(slot) = all.get_mut(i) {
                *slot = Some(value);
            }
        }
    }
    Ok(all.into_iter().flatten().collect())
}

fn percentiles(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms.get(((ms.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
    format!("p50 {:7.2} ms   p90 {:7.2} ms   p99 {:7.2} ms   max {:7.2} ms", at(0.5), at(0.9), at(0.99), at(1.0))
}

fn kib(bytes: f64) -> String {
    format!("{:6.1} KiB", bytes / 1024.0)
}

/// The floor (in the child process): `n` bare tokio-rustls connections to the server's direct TLS port, the
/// handshake done, kept open; prints the RSS delta per connection.
async fn floor(port: u16, ca_file: &Path, n: usize, concurrency: usize) -> Result<()> {
    let tls = TlsConfig::only_ca_pem(&std::fs::read_to_string(ca_file).map_err(fail)?)?;
    let before = rss("self")?;
    let connections = bounded(n, concurrency, move |_| {
        let tls = tls.clone();
        async move { tls.connect("localhost", connect_tcp("127.0.0.1", port).await?).await }
    })
    .await?;
    tokio::time::sleep(SETTLE).await;
    let after = rss("self")?;
    println!("{FLOOR_LINE}{}", after.saturating_sub(before) as f64 / n as f64);
    drop(connections);
    Ok(())
}

/// Runs the floor in a child process (this bench again) against `server`; its RSS bytes per connection.
fn floor_in_child(server: &Prosody, n: usize, concurrency: usize) -> Result<f64> {
    let output = std::process::Command::new(std::env::current_exe().map_err(fail)?)
        .env(FLOOR_PORT, server.direct_tls_port().to_string())
        .env(FLOOR_CA, server.ca_file())
        .env("MOXL_BENCH_SESSIONS", n.to_string())
        .env("MOXL_BENCH_CONCURRENCY", concurrency.to_string())
        .output()
        .map_err(fail)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout.lines().find_map(|l| l.strip_prefix(FLOOR_LINE)).and_then(|v| v.trim().parse().ok()).ok_or_else(|| {
        fail(format!(
            "the floor process failed ({}): {stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    })
}

/// Writes the accounts `u0` … `u{n-1}` into Prosody's data directory (`internal` storage, plain passwords as
/// `internal_plain` keeps them): `data/localhost/accounts/USER.dat` in the server's directory (its `data_path`).
fn write_accounts(server: &Prosody, n: usize) -> Result<()> {
    let dir = server.data_dir().join("data").join(server.domain()).join("accounts");
    std::fs::create_dir_all(&dir).map_err(fail)?;
    for i in 0..n {
        let lua = format!("return {{\n\t[\"password\"] = \"{PASSWORD}\";\n}};\n");
        std::fs::write(dir.join(format!("u{i}.dat")), lua).map_err(fail)?;
    }
    Ok(())
}

async fn run(n: usize, concurrency: usize) -> Result<()> {
    // Before Prosody starts: it inherits the limit. Per session one descriptor here and one in Prosody.
    let nofile = raise_nofile(n as u64 + 1024)?;
    if nofile < n as u64 + 64 {
        return Err(fail(format!("RLIMIT_NOFILE is {nofile}: too low for {n} sessions (raise the hard limit)")));
    }
    let server = Prosody::builder().start().map_err(fail)?;
    let started = Instant::now();
    write_accounts(&server, n)?;
    println!(
        "{n} sessions, at most {concurrency} logins at a time, against Prosody {} (RLIMIT_NOFILE {nofile}; \
         accounts written in {:.0} ms)",
        server.version().unwrap_or("?"),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let floor = tokio::task::block_in_place(|| floor_in_child(&server, n, concurrency))?;
    let tls = TlsConfig::only_ca_pem(server.ca_pem())?;
    let (domain, port) = (server.domain().to_owned(), server.c2s_port());
    let prosody_pid = server.pid().to_string();

    let (rss_before, prosody_before) = (rss("self")?, rss(&prosody_pid)?);
    let (cpu_before, prosody_cpu_before, started) = (cpu_now(), thread_cpu(&prosody_pid)?, Instant::now());
    let clients = bounded(n, concurrency, move |i| {
        let (tls, jid) = (tls.clone(), BareJid::new(&format!("u{i}@{domain}")));
        async move {
            let client = Client::builder(jid?, PASSWORD).server("127.0.0.1", port).tls(tls).connect().await?;
            // Online (RFC 6121 §4.2), as a daemon's sessions are.
            client.xec().context().send(presence(None, None))?;
            Ok(client)
        }
    })
    .await?;
    let (online, cpu) = (started.elapsed(), cpu_now() - cpu_before);
    let prosody_cpu = thread_cpu(&prosody_pid)?.saturating_sub(prosody_cpu_before);
    tokio::time::sleep(SETTLE).await;
    let (rss_after, prosody_after) = (rss("self")?, rss(&prosody_pid)?);
    let per_session = rss_after.saturating_sub(rss_before) as f64 / n as f64;
    let login_ms = clients.iter().map(|c| c.login_time().as_secs_f64() * 1000.0).collect();
    println!("  time to all online                 {:8.2} s", online.as_secs_f64());
    println!("  login latency (connect → bound)    {}", percentiles(login_ms));
    println!("  CPU per login (client process)     {:8.2} ms", cpu.as_secs_f64() * 1000.0 / n as f64);
    println!("  CPU per login (Prosody, its thread){:8.2} ms", prosody_cpu.as_secs_f64() * 1000.0 / n as f64);
    println!("memory per idle session (RSS delta / {n}):");
    println!("  bare tokio-rustls TLS connection (floor, same run)  {}", kib(floor));
    println!(
        "  moxl authenticated idle session                     {} = {:.2}x the floor",
        kib(per_session),
        per_session / floor
    );
    println!(
        "  Prosody, per session (server side)                  {}",
        kib(prosody_after.saturating_sub(prosody_before) as f64 / n as f64)
    );

    // Each session sends one chat message to the next one's full JID; the receiver timestamps its typed event.
    let epoch = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Duration>();
    for client in &clients {
        let mut events = client.xec().events::<IncomingMessage>();
        let tx = tx.clone();
        tokio::spawn(async move {
            if let Some(sent) = events.recv().await.and_then(|m| m.body().and_then(|b| b.parse::<u64>().ok())) {
                let _ = tx.send(epoch.elapsed().saturating_sub(Duration::from_nanos(sent)));
            }
        });
    }
    drop(tx);
    let jids: Vec<String> = clients.iter().map(|c| c.jid().to_string()).collect();
    let mut latencies = Vec::with_capacity(n);
    let receivers = jids.iter().cycle().skip(1);
    let pairs: Vec<(&Client, &String)> = clients.iter().zip(receivers).collect();
    let (mut slowest, mut waves) = ((0, 0.0), 0);
    for (w, wave) in pairs.chunks(concurrency.max(1)).enumerate() {
        waves += 1;
        for (client, to) in wave {
            let sent = epoch.elapsed().as_nanos().to_string();
            client.xec().context().send(message(to, "chat", Some(&sent)))?;
        }
        for _ in wave {
            match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
                Ok(Some(latency)) => {
                    let ms = latency.as_secs_f64() * 1000.0;
                    if ms > slowest.1 {
                        slowest = (w, ms);
                    }
                    latencies.push(ms);
                }
                _ => return Err(fail(format!("only {} of {n} messages arrived", latencies.len()))),
            }
        }
    }
    println!("message latency ({n} messages, {concurrency} in flight):  {}", percentiles(latencies));
    println!("  the slowest message in wave {} of {waves}: {:.2} ms", slowest.0 + 1, slowest.1);
    let closing = Instant::now();
    for client in &clients {
        client.close().await;
    }
    println!("  ({n} sessions closed in {:.2} s)", closing.elapsed().as_secs_f64());
    Ok(())
}

fn main() -> Result<()> {
    let n = env("MOXL_BENCH_SESSIONS", 200).max(1);
    let concurrency = env("MOXL_BENCH_CONCURRENCY", 64).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(fail)?;
    match (std::env::var(FLOOR_PORT), std::env::var_os(FLOOR_CA)) {
        (Ok(port), Some(ca)) => {
            raise_nofile(n as u64 + 1024)?;
            rt.block_on(floor(port.parse().map_err(fail)?, Path::new(&ca), n, concurrency))
        }
        _ => rt.block_on(run(n, concurrency)),
    }
}
