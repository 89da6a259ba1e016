//! The parser under trickled input: bytes per second for one large token fed whole and in 8192-, 1400- (a TCP
//! segment), 16- and 1-byte chunks, each chunking's throughput printed against the whole-buffer figure of the
//! same run. The cost of feeding N bytes must be O(N) whatever the chunking, so every ratio must stay near 1
//! (it is below 1 only by the per-call overhead of `feed` + `next_event`, which is what the 1-byte column
//! shows). quick-xml tokenizing the same whole buffer is printed for reference.
//!
//! The cases (default [`Limits`]: 1 MiB stanzas, 64 KiB start tags):
//! - `attrs`: a stanza whose start tag is ~64 KiB of short attributes (the largest start tag allowed);
//! - `value`: a stanza whose start tag is one ~64 KiB attribute value;
//! - `cdata`: a stanza holding a ~900 KB CDATA section;
//! - `text`: a stanza holding ~900 KB of text with a reference every 64 bytes;
//! - `nested`: ~900 KB of small nested elements in one stanza (many tokens);
//! - `huge-tag` (rejected): a start tag of 2 × `MOXL_BENCH_KB` KB (1.8 MB), which must fail at the 64 KiB tag limit after reading only that
//!   much, whatever the chunking.
//!
//! `cargo bench --bench parser_chunking`. `MOXL_BENCH_KB` scales the text/CDATA/nested cases (default 900),
//! `MOXL_BENCH_ROUNDS` sets the rounds (median of them; default 5), `MOXL_BENCH_CHUNKS` the chunk sizes
//! (comma-separated, default `8192,1400,16,1`), `MOXL_BENCH_CASES` the cases (comma-separated names, default all).

// Bench code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use moxl::xml::{Limits, StreamEvent, StreamParser};
use quick_xml::events::Event;
use quick_xml::Reader;

const HEADER: &str = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/// One case: the bytes after the stream header, and whether the parser must accept them.
struct Case {
    name: &'static str,
    body: Vec<u8>,
    accept: bool,
}

fn cases(kb: usize) -> Vec<Case> {
    let tag_max = Limits::MAX_START_TAG_BYTES;
    let mut attrs = String::from("<message to='juliet@example.com'");
    let mut i = 0;
    while attrs.len() + 24 < tag_max {
        attrs.push_str(&format!(" a{i}='v{i}'"));
        i += 1;
    }
    attrs.push_str("/>");
    let value = format!("<message to='juliet@example.com' x='{}'/>", "v".repeat(tag_max - 64));
    let n = kb * 1000;
    let cdata = format!("<message><body><![CDATA[{}]]></body></message>", "c<&]".repeat(n / 4));
    let unit = "Neither, fair saint, if either thee dislike &amp; so on and on.. ";
    let text = format!("<message><body>{}</body></message>", unit.repeat(n / unit.len()));
    let leaf = "<x xmlns='urn:x' a='1'><y>t</y></x>";
    let nested = format!("<message>{}</message>", leaf.repeat(n / leaf.len()));
    let huge: String = (0..kb * 2000 / 12).map(|i| format!(" a{i:06}='1'")).collect();
    let huge = format!("<message{huge}/>");
    vec![
        Case { name: "attrs", body: attrs.into_bytes(), accept: true },
        Case { name: "value", body: value.into_bytes(), accept: true },
        Case { name: "cdata", body: cdata.into_bytes(), accept: true },
        Case { name: "text", body: text.into_bytes(), accept: true },
        Case { name: "nested", body: nested.into_bytes(), accept: true },
        Case { name: "huge-tag", body: huge.into_bytes(), accept: false },
    ]
}

/// Feeds the header, then the body in `chunk`-byte pieces (`0`: whole); returns (elements, failed).
fn feed(body: &[u8], chunk: usize) -> (usize, bool) {
    let mut parser = StreamParser::new();
    parser.feed(HEADER.as_bytes());
    let mut elements = 0;
    let size = if chunk == 0 { body.len().max(1) } else { chunk };
    let mut pieces = body.chunks(size);
    loop {
        loop {
            match parser.next_event() {
                Ok(Some(StreamEvent::Element(e))) => {
                    black_box(e);
                    elements += 1;
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return (elements, true),
            }
        }
        match pieces.next() {
            Some(piece) => parser.feed(piece),
            None => return (elements, false),
        }
    }
}

/// quick-xml tokenizing the whole buffer (reference figure).
fn quick_xml(body: &[u8]) -> usize {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(false);
    let mut events = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) | Err(_) => return events,
            Ok(e) => {
                black_box(e);
                events += 1;
            }
        }
    }
}

fn median(rounds: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn mbps(bytes: usize, t: Duration) -> f64 {
    bytes as f64 / t.as_secs_f64() / 1e6
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn main() {
    let kb: usize = env("MOXL_BENCH_KB").unwrap_or(900);
    let rounds: usize = env("MOXL_BENCH_ROUNDS").unwrap_or(5);
    let chunks: Vec<usize> = std::env::var("MOXL_BENCH_CHUNKS")
        .ok()
        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![8192, 1400, 16, 1]);
    println!("median of {rounds} rounds; MB/s of the token's bytes; ratio = chunked / whole (target ~1)");
    let mut worst: f64 = f64::INFINITY;
    let only: Option<Vec<String>> =
        std::env::var("MOXL_BENCH_CASES").ok().map(|v| v.split(',').map(|c| c.trim().to_owned()).collect());
    for case in cases(kb) {
        if only.as_ref().is_some_and(|o| !o.iter().any(|c| c == case.name)) {
            continue;
        }
        let (elements, failed) = feed(&case.body, 0);
        assert_eq!(
            !failed && elements == 1,
            case.accept,
            "{}: accepted {elements} elements, failed {failed}",
            case.name
        );
        let whole = median(rounds, || {
            black_box(feed(&case.body, 0));
        });
        let qx = median(rounds, || {
            black_box(quick_xml(&case.body));
        });
        print!(
            "{:9} {:8} B  whole {:8.1} MB/s  (quick-xml {:7.1} MB/s)",
            case.name,
            case.body.len(),
            mbps(case.body.len(), whole),
            mbps(case.body.len(), qx)
        );
        for &chunk in &chunks {
            assert_eq!(
                feed(&case.body, chunk),
                (elements, failed),
                "{}: chunks of {chunk} change the result",
                case.name
            );
            let t = median(rounds, || {
                black_box(feed(&case.body, chunk));
            });
            let ratio = whole.as_secs_f64() / t.as_secs_f64();
            if chunk > 1 {
                worst = worst.min(ratio);
            }
            print!("  | {chunk:>4}: {:7.1} MB/s {ratio:4.2}x", mbps(case.body.len(), t));
        }
        println!();
    }
    println!("worst ratio for chunks > 1 byte: {worst:.2}x");
}
