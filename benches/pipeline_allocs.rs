//! The hot path of `benches/pipeline.rs`, counted instead of timed (a counting allocator taxes what it counts, so
//! the timing runs in its own binary): allocations per stanza on the whole path (bytes → elements → handlers →
//! what they send), for the parser alone, for dispatch alone, and for dispatch by kind of stanza, with no
//! subscriber (Packets are made only for subscribers); then the bytes retained per stanza when every stanza is
//! kept, against its XML size (target: <= 1.5).
//!
//! `cargo bench --bench pipeline_allocs` (`MOXL_BENCH_STANZAS`, default 20000).

// Test and bench code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/pipeline_stream.rs"]
#[allow(dead_code)] // each of the two binaries uses part of it
mod stream;

use std::hint::black_box;

use moxl::prelude::*;
use moxl::xml::{StreamEvent, StreamParser};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use stream::{baseline, controller, generate, kind, moxl_pipeline, parse_all, parse_only, HEADER};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Allocations (reallocations included, each counted once) made while `f` runs.
fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let region = Region::new(GLOBAL);
    let out = f();
    let c = region.change();
    (out, c.allocations + c.reallocations)
}

fn main() -> Result<()> {
    let n = std::env::var("MOXL_BENCH_STANZAS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_current_thread().build().map_err(|e| Error::handler(e.to_string()))?;

    let xec = controller()?;
    let stream = generate(n, &xec);
    let (_, base) = allocations(|| baseline(stream.as_bytes()));
    let (stanzas, pipeline) = allocations(|| moxl_pipeline(stream.as_bytes(), &xec, &rt));
    let (_, parse) = allocations(|| parse_only(stream.as_bytes()));
    let per = |allocs: usize| allocs as f64 / stanzas.max(1) as f64;
    println!("stream: {n} stanzas, {:.2} MB", stream.len() as f64 / 1e6);
    println!(
        "allocations per stanza: parse + dispatch {:.2}, parse only {:.2}, dispatch {:.2} (quick-xml baseline {:.2})",
        per(pipeline),
        per(parse),
        per(pipeline.saturating_sub(parse)),
        per(base)
    );

    // Dispatch alone, by kind of stanza (each already parsed; what the handlers send is taken after each).
    let xec_d = controller()?;
    let parsed = parse_all(&generate(n, &xec_d));
    let mut by_kind: Vec<(String, usize, usize)> = Vec::new();
    rt.block_on(async {
        for stanza in &parsed {
            let region = Region::new(GLOBAL);
            black_box(xec_d.dispatch(stanza.clone()).await);
            let c = region.change();
            black_box(xec_d.take_outgoing());
            let (k, allocs) = (kind(stanza), c.allocations + c.reallocations);
            match by_kind.iter_mut().find(|(name, _, _)| *name == k) {
                Some(entry) => {
                    entry.1 += 1;
                    entry.2 += allocs;
                }
                None => by_kind.push((k, 1, allocs)),
            }
        }
    });
    println!("dispatch allocations per stanza, by kind (no subscriber; replies the handlers send included):");
    for (k, count, allocs) in &by_kind {
        println!("  {k:52} {:6.2}  ({count} stanzas)", *allocs as f64 / *count as f64);
    }

    // Memory: keep every stanza; count what stays allocated.
    let xec2 = Xec::new()?;
    let stream = generate(n, &xec2);
    let xml_bytes = stream.len() - HEADER.len();
    let mut kept = Vec::with_capacity(n);
    let region = Region::new(GLOBAL);
    let mut parser = StreamParser::new();
    for chunk in stream.as_bytes().chunks(16 * 1024) {
        parser.feed(chunk);
        while let Ok(Some(event)) = parser.next_event() {
            if let StreamEvent::Element(stanza) = event {
                kept.push(stanza);
            }
        }
    }
    drop(parser);
    let c = region.change();
    // `bytes_allocated` and `bytes_deallocated` already include what reallocations grew or shrank.
    let retained = c.bytes_allocated as isize - c.bytes_deallocated as isize;
    let per_stanza = retained as f64 / kept.len() as f64;
    let xml_per_stanza = xml_bytes as f64 / kept.len() as f64;
    println!(
        "retained per stanza (all {} kept): {:.0} bytes for {:.0} bytes of XML = {:.2}x (target <= 1.5x)",
        kept.len(),
        per_stanza,
        xml_per_stanza,
        per_stanza / xml_per_stanza
    );
    Ok(())
}
