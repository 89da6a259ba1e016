//! The hot path, timed: a realistic generated server stream (chat messages with chat states, receipts and
//! stable ids; receipts; presences with caps; roster pushes and results; disco#info results; pubsub microblog
//! events) pushed through `StreamParser` + `Xec::dispatch` into handlers registered here, against quick-xml's
//! `NsReader` tokenizing (and resolving namespaces of) the same bytes in the same run.
//!
//! This binary runs on the system allocator, untaxed: rounds alternate between the baseline and moxl so that
//! the load of a shared machine falls on both alike, and medians are reported. Allocations are counted by its
//! sibling, `cargo bench --bench pipeline_allocs` (same stream, same handlers, a counting allocator).
//!
//! `cargo bench --bench pipeline --bench pipeline_allocs` (`MOXL_BENCH_STANZAS`, default 20000, sets the size
//! of the stream; `MOXL_BENCH_ROUNDS`, default 9, the number of timed rounds).

// Test and bench code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/pipeline_stream.rs"]
#[allow(dead_code)] // each of the two binaries uses part of it
mod stream;

use std::hint::black_box;
use std::time::{Duration, Instant};

use moxl::prelude::*;
use stream::{baseline, controller, dispatch_only, generate, moxl_pipeline, parse_all, parse_only};

fn timed(f: impl FnOnce() -> usize) -> Duration {
    let start = Instant::now();
    black_box(f());
    start.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn mbps(bytes: usize, t: Duration) -> f64 {
    bytes as f64 / t.as_secs_f64() / 1e6
}

fn main() -> Result<()> {
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let n = env("MOXL_BENCH_STANZAS", 20_000);
    let rounds = env("MOXL_BENCH_ROUNDS", 9).max(1);
    let rt = tokio::runtime::Builder::new_current_thread().build().map_err(|e| Error::handler(e.to_string()))?;

    // Each moxl round needs its own pending Actions (replies consume them): the streams are generated up front,
    // one per round, on one controller; likewise the stanzas of the dispatch-only rounds.
    let xec = controller()?;
    let streams: Vec<String> = (0..rounds).map(|_| generate(n, &xec)).collect();
    let size = streams[0].len();
    let xec_d = controller()?;
    let parsed: Vec<Vec<Element>> = (0..rounds).map(|_| parse_all(&generate(n, &xec_d))).collect();

    let (mut base_t, mut ours_t, mut parse_t, mut dispatch_t) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut events, mut stanzas) = (0, 0);
    for round in 0..rounds {
        base_t.push(timed(|| {
            events = baseline(streams[round].as_bytes());
            events
        }));
        ours_t.push(timed(|| {
            stanzas = moxl_pipeline(streams[round].as_bytes(), &xec, &rt);
            stanzas
        }));
        parse_t.push(timed(|| parse_only(streams[round].as_bytes())));
        dispatch_t.push(timed(|| dispatch_only(&parsed[round], &xec_d, &rt)));
    }
    let (base_t, ours_t, parse_t, dispatch_t) = (median(base_t), median(ours_t), median(parse_t), median(dispatch_t));
    println!("stream: {n} stanzas, {:.2} MB, {events} quick-xml events; medians of {rounds} rounds", size as f64 / 1e6);
    println!("baseline quick-xml NsReader tokenize+resolve: {:8.1} MB/s", mbps(size, base_t));
    println!(
        "moxl parse + dispatch to handlers:            {:8.1} MB/s  ({stanzas} stanzas, {:.0} ns/stanza)",
        mbps(size, ours_t),
        ours_t.as_nanos() as f64 / stanzas.max(1) as f64
    );
    println!(
        "moxl parse only (StreamParser -> Elements):  {:8.1} MB/s  ratio {:.2}x",
        mbps(size, parse_t),
        base_t.as_secs_f64() / parse_t.as_secs_f64()
    );
    println!("moxl dispatch only (to handlers):            {:8.0} ns/stanza", dispatch_t.as_nanos() as f64 / n as f64);
    println!(
        "ratio moxl parse+dispatch / baseline: {:.2}x (target >= 0.9x)",
        base_t.as_secs_f64() / ours_t.as_secs_f64()
    );
    println!("(allocations per stanza: cargo bench --bench pipeline_allocs)");
    Ok(())
}
