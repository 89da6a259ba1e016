//! Chunking equivalence: one input fed whole and in random chunkings must give exactly the same events and the
//! same error (condition and text), and leave the same number of bytes held.
//!
//! Input layout: four bytes seed the chunkings, the fifth picks the parser (even: a stream with the client
//! header prepended; odd: framed, as for WebSocket or `Element::parse`), the rest is the data, with `$*k`
//! repetitions expanded (see `common::expand`) so that the parser's default limits are reached. Each input is
//! also fed byte by byte, and in chunks of 1-4, 1-64 and 1-4096 bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use moxl::xml::{StreamEvent, StreamParser, XmlError};

mod common;

const HEADER: &[u8] = b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<String>,
    error: Option<XmlError>,
    held: usize,
}

fn feed(data: &[u8], framed: bool, mut next_len: impl FnMut() -> usize) -> Outcome {
    let mut parser = if framed { StreamParser::framed() } else { StreamParser::new() };
    let mut out = Outcome { events: Vec::new(), error: None, held: 0 };
    let mut rest = data;
    while !rest.is_empty() {
        let (piece, tail) = rest.split_at(next_len().clamp(1, rest.len()));
        rest = tail;
        parser.feed(piece);
        loop {
            match parser.next_event() {
                Ok(Some(StreamEvent::Header(h))) => out.events.push(format!("header {h:?}")),
                Ok(Some(StreamEvent::Element(e))) => out.events.push(e.to_xml()),
                Ok(Some(StreamEvent::End)) => out.events.push("end".into()),
                Ok(None) => break,
                Err(e) => {
                    out.error = Some(e);
                    return out;
                }
            }
        }
    }
    out.held = parser.buffered();
    out
}

fuzz_target!(|input: &[u8]| {
    let Some((seed, rest)) = input.split_first_chunk::<4>() else { return };
    let Some((&kind, body)) = rest.split_first() else { return };
    let framed = kind & 1 == 1;
    let body = common::expand(body);
    let data = if framed { body } else { [HEADER, &body].concat() };
    let whole = feed(&data, framed, || usize::MAX);
    let seed = u32::from_le_bytes(*seed);
    let byte = feed(&data, framed, || 1);
    assert_eq!(byte, whole, "byte at a time differs from a whole feed");
    let mut state = seed | 1;
    for max in [4, 64, 4096] {
        let chunked = feed(&data, framed, || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state % max) as usize + 1
        });
        assert_eq!(chunked, whole, "chunks of 1-{max} bytes differ from a whole feed");
    }
});
