//! What the fuzz targets share: the input's size amplifier, the chunker, and the strict re-parse of what the
//! parser writes back.

// Each target uses part of this module.
#![allow(dead_code)]

use moxl::xml::Element;

/// `$*` followed by a byte `k`: the (at most 16) bytes before the marker, back to the previous marker, are
/// repeated `2^(k % 17)` times in all (up to 65536 × 16 bytes = 1 MiB). Small inputs can so reach the parser's
/// real limits (64 KiB start tags, 1 MiB stanzas) that a fuzzer would not grow inputs to by itself.
pub const REPEAT: &[u8] = b"$*";
/// The most the amplifier adds to one input.
const MAX_EXPANSION: usize = 3 << 20;

/// Expands the `$*k` repetitions of an input.
pub fn expand(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut unit_start = 0;
    let mut rest = input;
    while !rest.is_empty() {
        if let (true, Some(&k)) = (rest.starts_with(REPEAT), rest.get(REPEAT.len())) {
            let from = unit_start.max(out.len().saturating_sub(16));
            let unit = out[from..].to_vec();
            let times = (1usize << (k % 17)).saturating_sub(1);
            if out.len() + unit.len() * times <= input.len() + MAX_EXPANSION {
                for _ in 0..times {
                    out.extend_from_slice(&unit);
                }
            }
            unit_start = out.len();
            rest = &rest[REPEAT.len() + 1..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// Chunk sizes from a mode byte: `00xxxxxx` the whole input at once, `01xxxxxx` fixed chunks of `xxxxxx + 1`
/// bytes, `1xxxxxxx` pseudo-random chunks of 1 to 64 bytes (`10…`) or 1 to 4 bytes (`11…`), seeded by the byte
/// (and by `seed`).
pub struct Chunker {
    mode: u8,
    state: u32,
}

impl Chunker {
    pub fn new(mode: u8) -> Self {
        Self::seeded(mode, 0)
    }

    pub fn seeded(mode: u8, seed: u32) -> Self {
        Chunker { mode, state: (0x9E37_79B9 ^ u32::from(mode) ^ seed.rotate_left(8)) | 1 }
    }

    pub fn whole(&self) -> bool {
        self.mode >> 6 == 0
    }

    pub fn next_len(&mut self) -> usize {
        match self.mode >> 6 {
            0 => usize::MAX,
            1 => usize::from(self.mode & 0x3F) + 1,
            top => {
                // xorshift32
                self.state ^= self.state << 13;
                self.state ^= self.state >> 17;
                self.state ^= self.state << 5;
                let max = if top == 2 { 64 } else { 4 };
                (self.state % max) as usize + 1
            }
        }
    }
}

/// The round trip, judged by strict parsers: what `to_xml` writes must be accepted by xml-rs and roxmltree (both
/// check namespaces), and describe the same tree: names, namespaces, attributes, text, children.
pub fn strict_round_trip(e: &Element, what: &str) {
    let xml = e.to_xml();
    if let Err(err) = xml_rs_check(&xml) {
        panic!("{what}: to_xml output rejected by xml-rs: {err}\n  xml: {xml:?}");
    }
    let doc = match roxmltree::Document::parse(&xml) {
        Ok(doc) => doc,
        Err(err) => panic!("{what}: to_xml output rejected by roxmltree: {err}\n  xml: {xml:?}"),
    };
    same_tree(e, doc.root_element(), what, &xml);
}

fn xml_rs_check(xml: &str) -> Result<(), String> {
    let mut reader = xml_rs::reader::EventReader::new(xml.as_bytes());
    loop {
        match reader.next() {
            Ok(xml_rs::reader::XmlEvent::EndDocument) => return Ok(()),
            Ok(_) => {}
            // xml-rs refuses any `xml:` element; Namespaces in XML 1.0 §3 bars only the `xmlns` prefix from
            // element names (roxmltree, which judges the same output, accepts them).
            Err(e) if e.to_string().contains("'xml' cannot be an element name prefix") => return Ok(()),
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn same_tree(e: &Element, n: roxmltree::Node<'_, '_>, what: &str, xml: &str) {
    assert_eq!(
        (e.name(), e.ns()),
        (n.tag_name().name(), n.tag_name().namespace().unwrap_or("")),
        "{what}: name/ns differ; xml: {xml:?}"
    );
    let mut ours: Vec<(String, String)> =
        e.attrs().filter(|(k, _)| !k.starts_with("xmlns:")).map(|(k, v)| (local(k), v.into_owned())).collect();
    // Normalized on both sides: moxl returns values unescaped as written (no XML 1.0 §3.3.3 normalization).
    let mut theirs: Vec<(String, String)> =
        n.attributes().map(|a| (a.name().to_owned(), normalize(a.value()))).collect();
    ours.iter_mut().for_each(|(_, v)| *v = normalize(v));
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs, "{what}: attributes differ; xml: {xml:?}");
    // Line ends compared normalized on both sides: moxl returns text as written (no XML 1.0 §2.11 handling).
    let text: String = n.children().filter(|c| c.is_text()).filter_map(|c| c.text()).collect();
    assert_eq!(eol(&e.text()), eol(&text), "{what}: text differs; xml: {xml:?}");
    let children: Vec<_> = n.children().filter(|c| c.is_element()).collect();
    assert_eq!(e.children().count(), children.len(), "{what}: children differ; xml: {xml:?}");
    for (c, d) in e.children().zip(children) {
        same_tree(&c, d, what, xml);
    }
}

fn eol(t: &str) -> String {
    t.replace("\r\n", "\n").replace('\r', "\n")
}

fn local(qname: &str) -> String {
    qname.split_once(':').map_or(qname, |(_, l)| l).to_owned()
}

/// White space characters as spaces (what attribute-value normalization, XML 1.0 §3.3.3, does to literal ones).
fn normalize(v: &str) -> String {
    v.replace("\r\n", " ").replace(['\t', '\n', '\r'], " ")
}
