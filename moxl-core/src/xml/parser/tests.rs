//! The stream parser's tests: the well-formedness and namespace rules (one case each), limits enforced while a
//! token grows, and byte-at-a-time feeds giving exactly what whole feeds give.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn namespace_bindings_do_not_accumulate() {
    let mut p = StreamParser::new();
    p.feed(b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    let one = b"<message><active xmlns='http://jabber.org/protocol/chatstates'/><x xmlns='urn:x'><y/></x></message>";
    let all: Vec<u8> = one.iter().copied().cycle().take(one.len() * 100).collect();
    let mut n = 0;
    for chunk in all.chunks(7) {
        p.feed(chunk);
        while let Ok(Some(_)) = p.next_event() {
            n += 1;
        }
    }
    assert_eq!(n, 101);
    assert_eq!((p.bindings.len(), p.defaults.len()), (2, 1), "only the stream's bindings (and `xml`) remain");
    assert!(p.open.is_empty());
}

const HEADER: &str = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/// What a parser made of a stream: each element's XML, then `Ok(ended)` or the error.
#[derive(Debug, PartialEq)]
struct Outcome {
    elements: Vec<String>,
    end: Result<bool, XmlError>,
}

/// Feeds `HEADER` + `body` in `chunk`-byte pieces (0: whole), with the given limits.
fn run_with(body: &[u8], chunk: usize, limits: Limits) -> Outcome {
    let mut p = StreamParser::with_limits(limits);
    let input = [HEADER.as_bytes(), body].concat();
    let size = if chunk == 0 { input.len() } else { chunk };
    let mut elements = Vec::new();
    let mut ended = false;
    for piece in input.chunks(size) {
        p.feed(piece);
        loop {
            match p.next_event() {
                Ok(Some(StreamEvent::Element(e))) => elements.push(e.to_xml()),
                Ok(Some(StreamEvent::End)) => ended = true,
                Ok(Some(StreamEvent::Header(_))) => {}
                Ok(None) => break,
                Err(e) => return Outcome { elements, end: Err(e) },
            }
        }
    }
    Outcome { elements, end: Ok(ended) }
}

/// Whole, and byte at a time (and in a few other chunkings): the outcomes must be identical.
fn run(body: &str) -> Outcome {
    run_bytes(body.as_bytes())
}

fn run_bytes(body: &[u8]) -> Outcome {
    let whole = run_with(body, 0, Limits::DEFAULT);
    for chunk in [1, 2, 3, 7, 64] {
        let chunked = run_with(body, chunk, Limits::DEFAULT);
        assert_eq!(
            chunked,
            whole,
            "chunks of {chunk} differ from a whole feed for {:?}",
            String::from_utf8_lossy(body)
        );
    }
    whole
}

fn condition(body: &str) -> Option<StreamCondition> {
    run(body).end.err().map(|e| e.condition())
}

#[track_caller]
fn rejects(body: &str, expected: StreamCondition) {
    assert_eq!(condition(body), Some(expected), "{body}");
}

#[track_caller]
fn accepts(body: &str) {
    let out = run(body);
    assert!(out.end.is_ok() && !out.elements.is_empty(), "{body}: {out:?}");
}

use StreamCondition::{NotWellFormed, PolicyViolation, RestrictedXml};

#[test]
fn namespace_constraints() {
    // NSC Prefix Declared (Namespaces in XML 1.0 §5), for attributes as for elements.
    rejects("<message p:a='1'/>", NotWellFormed);
    rejects("<p:message/>", NotWellFormed);
    rejects("<message><x xmlns:p='urn:p'/><y p:a='1'/></message>", NotWellFormed);
    // No Prefix Undeclaring (§3, XML 1.0 namespaces).
    rejects("<message xmlns:p=''/>", NotWellFormed);
    // Reserved prefixes and names (§3).
    rejects("<message xmlns:xml='urn:other'/>", NotWellFormed);
    rejects("<message xmlns:xmlns='urn:x'/>", NotWellFormed);
    rejects("<message xmlns:xmlns='http://www.w3.org/2000/xmlns/'/>", NotWellFormed);
    rejects("<message xmlns:p='http://www.w3.org/XML/1998/namespace'/>", NotWellFormed);
    rejects("<message xmlns:p='http://www.w3.org/2000/xmlns/'/>", NotWellFormed);
    rejects("<message xmlns='http://www.w3.org/XML/1998/namespace'/>", NotWellFormed);
    rejects("<message xmlns='http://www.w3.org/2000/xmlns/'/>", NotWellFormed);
    rejects("<message xmlns:p='http://www.w3.org/2000/xmlns&#47;'/>", NotWellFormed);
    rejects("<xmlns:message/>", NotWellFormed);
    // Attributes Unique (§6.3): one expanded name through two prefixes, however the namespace is written.
    rejects("<message xmlns:a='urn:n' xmlns:b='urn:n' a:y='1' b:y='2'/>", NotWellFormed);
    rejects("<message xmlns:a='urn:n' xmlns:b='urn:&#110;' a:y='1' b:y='2'/>", NotWellFormed);
    rejects("<message xmlns:a='urn:n'><x xmlns:b='urn:n' b:y='2' a:y='1'/></message>", NotWellFormed);
    rejects("<message xml:lang='en' xmlns:x='urn:x' xml:lang='fr'/>", NotWellFormed);
    // QNames (§4): one colon at most, both parts NCNames.
    rejects("<a:b:c xmlns:a='urn:a'/>", NotWellFormed);
    rejects("<message a:b:c='1' xmlns:a='urn:a'/>", NotWellFormed);
    rejects("<message :a='1'/>", NotWellFormed);
    rejects("<message xmlns:='urn:a'/>", NotWellFormed);
}

#[test]
fn namespace_constraints_allow() {
    // `xml` is bound by definition; declaring it to its own namespace is allowed.
    accepts("<message xml:lang='en'/>");
    accepts("<message xmlns:xml='http://www.w3.org/XML/1998/namespace' xml:lang='en'/>");
    accepts("<xml:message/>");
    // Different namespaces, or an unprefixed attribute (no namespace) next to a prefixed one.
    accepts("<message xmlns:a='urn:n' xmlns:b='urn:m' a:y='1' b:y='2'/>");
    accepts("<message xmlns:a='jabber:client' a:y='1' y='2'/>");
    // A declaration applies to the whole tag it is on, whatever the order.
    accepts("<message a:y='1' xmlns:a='urn:n'/>");
    // Undeclaring the default namespace is allowed.
    accepts("<message><x xmlns=''/></message>");
    // Rebinding a prefix in a child, then using both.
    accepts("<message xmlns:a='urn:1' a:x='1'><y xmlns:a='urn:2' a:x='2'/></message>");
    let out = run("<message xmlns:a='urn:n' xmlns:b='urn:n' a:y='1' b:z='2'><a:c/><b:c/></message>");
    assert!(out.end.is_ok(), "{out:?}");
}

#[test]
fn xml_char_production() {
    // XML 1.0 §2.2: C0 controls but tab, LF and CR; U+FFFE, U+FFFF; surrogates (not UTF-8 at all).
    for bad in ["\u{0}", "\u{1}", "\u{8}", "\u{B}", "\u{C}", "\u{1B}", "\u{1F}", "\u{FFFE}", "\u{FFFF}"] {
        rejects(&format!("<message><body>a{bad}b</body></message>"), NotWellFormed);
        rejects(&format!("<message id='a{bad}b'/>"), NotWellFormed);
        rejects(&format!("<message><![CDATA[{bad}]]></message>"), NotWellFormed);
    }
    for bad in ["&#0;", "&#x1;", "&#xFFFE;", "&#xFFFF;", "&#xD800;", "&#x110000;", "&#65535;"] {
        rejects(&format!("<message><body>{bad}</body></message>"), NotWellFormed);
        rejects(&format!("<message id='{bad}'/>"), NotWellFormed);
    }
    assert_eq!(
        run_bytes(b"<message><body>\xED\xA0\x80</body></message>").end.err().map(|e| e.condition()),
        Some(NotWellFormed)
    );
    assert_eq!(
        run_bytes(b"<message><body>\xFF</body></message>").end.err().map(|e| e.condition()),
        Some(NotWellFormed)
    );
    assert_eq!(
        run_bytes(b"<message><body>\xC0\xAF</body></message>").end.err().map(|e| e.condition()),
        Some(NotWellFormed)
    );
    // In the stream header, between stanzas, in names.
    assert_eq!(run_bytes(b"\x01").end.err().map(|e| e.condition()), Some(NotWellFormed));
    accepts("<message><body>\t\r\n \u{7F}\u{85}\u{D7FF}\u{E000}\u{FFFD}\u{10000}\u{10FFFF}&#x9;&#xFFFD;&#x10FFFF;</body></message>");
    rejects("<message><b\u{D7}dy/></message>", NotWellFormed);
    accepts("<message><\u{E9}t\u{E9}/></message>");
}

#[test]
fn other_well_formedness_rules() {
    rejects("<message><body>a]]>b</body></message>", NotWellFormed);
    rejects("<message><body>]]]]></body></message>", NotWellFormed);
    accepts("<message><body>]] ]>]&gt; ]]&gt;</body></message>");
    accepts("<message><body><![CDATA[x]]]]><![CDATA[>]]></body></message>");
    rejects("<message><body>a & b</body></message>", NotWellFormed);
    rejects("<message><body>&;</body></message>", NotWellFormed);
    rejects("<message><body>&lt</body></message>", NotWellFormed);
    rejects("<message><body>&unknown;</body></message>", RestrictedXml);
    rejects("<message id='a<b'/>", NotWellFormed);
    rejects("<message>< body/></message>", NotWellFormed);
    rejects("<message><!-- c --></message>", RestrictedXml);
    rejects("<message><!DOCTYPE x></message>", RestrictedXml);
    rejects("<message><?pi x?></message>", RestrictedXml);
    rejects("<message><?xml version='1.0'?></message>", RestrictedXml);
    rejects("<message><![CDAT[x]]></message>", NotWellFormed);
    rejects("<message><!x></message>", NotWellFormed);
    rejects("<message a='1' a='2'/>", NotWellFormed);
    rejects("<message a='1'b='2'/>", NotWellFormed);
    rejects("<message></messag>", NotWellFormed);
    // Found by fuzzing: quick-xml reads quotes in end tags; the end tag ends at its first `>` whatever the reads.
    rejects("<message><status>x</st'atus></pre='x'></message>", NotWellFormed);
    rejects("<message><status>x</status'></message>", NotWellFormed);
    accepts("<message><body>&lt;&gt;&amp;&apos;&quot;&#65;&#x263a;&#x0000041;</body></message>");
}

#[test]
fn xml_declaration() {
    let parse = |s: &str| {
        let mut p = StreamParser::new();
        p.feed(s.as_bytes());
        p.next_event().map(|e| matches!(e, Some(StreamEvent::Header(_))))
    };
    assert_eq!(parse(&format!("<?xml version='1.0' encoding='UTF-8'?>{HEADER}")), Ok(true));
    assert_eq!(parse(&format!("\u{FEFF}<?xml version=\"1.0\" encoding='utf-8' standalone='yes'?>{HEADER}")), Ok(true));
    assert_eq!(parse(&format!("<?xml version='1.0'?>\n{HEADER}")), Ok(true));
    assert_eq!(parse(HEADER), Ok(true));
    let err = |s: String| parse(&s).err().map(|e| e.condition());
    assert_eq!(
        err(format!("<?xml version='1.0' encoding='ISO-8859-1'?>{HEADER}")),
        Some(StreamCondition::UnsupportedEncoding)
    );
    assert_eq!(err(format!("<?xml version='2.0'?>{HEADER}")), Some(NotWellFormed));
    assert_eq!(err(format!("<?xml encoding='UTF-8'?>{HEADER}")), Some(NotWellFormed));
    // Only first: not after white space, not twice.
    assert_eq!(err(format!(" <?xml version='1.0'?>{HEADER}")), Some(RestrictedXml));
    assert_eq!(err(format!("<?xml version='1.0'?><?xml version='1.0'?>{HEADER}")), Some(RestrictedXml));
    assert_eq!(err(format!("<?xml-stylesheet href='x'?>{HEADER}")), Some(RestrictedXml));
}

#[test]
fn limits_hold_while_a_token_grows() {
    // A start tag stops at the 64 KiB tag limit, however it is fed, without buffering more than that.
    let tag: String = (0..200_000).map(|i| format!(" a{i}='{i}'")).collect();
    let body = format!("<message{tag}/>");
    for chunk in [1, 1400, 0] {
        let mut p = StreamParser::new();
        p.feed(HEADER.as_bytes());
        let mut err = None;
        let mut max_buffered = 0;
        let size = if chunk == 0 { body.len() } else { chunk };
        for piece in body.as_bytes().chunks(size) {
            p.feed(piece);
            max_buffered = max_buffered.max(p.buffered());
            if let Some(e) = std::iter::from_fn(|| p.next_event().transpose()).find_map(Result::err) {
                err = Some(e);
                break;
            }
        }
        let err = err.expect("the tag is refused");
        assert_eq!(err.condition(), PolicyViolation, "{err}");
        assert!(err.text().contains("start tag"), "{err}");
        if chunk != 0 {
            assert!(max_buffered <= Limits::MAX_START_TAG_BYTES + chunk, "buffered {max_buffered}");
        }
    }
    // The largest tag allowed passes; one byte more does not.
    let fill = |n: usize| format!("<message a='{}'/>", "v".repeat(n - "<message a=''/>".len()));
    accepts(&fill(Limits::MAX_START_TAG_BYTES));
    rejects(&fill(Limits::MAX_START_TAG_BYTES + 1), PolicyViolation);
    // A stanza is refused at its first byte over the limit, in text, CDATA, a reference or a tag.
    let limits = Limits::new(1000, 8);
    for inner in ["x".repeat(2000), format!("<![CDATA[{}]]>", "x".repeat(2000)), format!("&#{};", "0".repeat(2000))] {
        let body = format!("<message>{inner}</message>");
        for chunk in [0, 1, 100] {
            let out = run_with(body.as_bytes(), chunk, limits);
            assert_eq!(out.end.map_err(|e| e.condition()), Err(PolicyViolation));
        }
    }
    let exact = format!("<message>{}</message>", "x".repeat(1000 - "<message></message>".len()));
    assert!(run_with(exact.as_bytes(), 1, limits).end.is_ok());
    let over = format!("<message>{}</message>", "x".repeat(1001 - "<message></message>".len()));
    assert!(run_with(over.as_bytes(), 1, limits).end.is_err());
    // Depth.
    assert_eq!(condition(&format!("<message>{}</message>", "<a>".repeat(40))), Some(PolicyViolation));
}

#[test]
fn errors_come_in_input_order() {
    // A restricted reference in text, then a forbidden character later in the same text: the reference first.
    rejects("<message><body>&foo; \u{1}</body></message>", RestrictedXml);
    // Found by fuzzing: text outside a stanza, then invalid UTF-8 in the same run: bad-format first.
    assert_eq!(run_bytes(b"text\xFF<message/>").end.err().map(|e| e.condition()), Some(StreamCondition::BadFormat));
    // Found by the chunking fuzz target: text outside a stanza that contains `]]>`: bad-format first, fed whole
    // or byte by byte.
    assert_eq!(run_bytes(b"[a]]]]><message/>").end.err().map(|e| e.condition()), Some(StreamCondition::BadFormat));
    rejects("<message><body>a]]]]>b</body></message>", NotWellFormed);
    // Likewise text outside a stanza followed by a broken reference.
    assert_eq!(run_bytes(b"b='&#2' c='3'/>").end.err().map(|e| e.condition()), Some(StreamCondition::BadFormat));
    rejects("<message><body>b='&#2' c</body></message>", NotWellFormed);
    // An undeclared prefix, then a bad byte in the next tag.
    rejects("<message p:a='1'><x\u{1}/></message>", NotWellFormed);
    let out = run("<message p:a='1'><x\u{1}/></message>");
    assert!(out.end.unwrap_err().text().contains("undeclared"));
    // An over-long stanza with a bad character past the limit: the limit first.
    let body = format!("<message>{}\u{1}</message>", "x".repeat(2000));
    for chunk in [0, 1, 7] {
        let out = run_with(body.as_bytes(), chunk, Limits::new(1000, 8));
        assert_eq!(out.end.map_err(|e| e.condition()), Err(PolicyViolation));
    }
}

#[test]
fn chunking_never_changes_the_result() {
    // Cut everywhere: inside multi-byte characters, references, CDATA delimiters, quotes, declarations.
    let stream = "<message from='a@b/c' id='x&amp;y' xml:lang='fr'><body>caf\u{E9} \u{1F600} &lt;&#x263A;&#65;</body>\
        <x xmlns='urn:x' xmlns:p='urn:p' p:a='\"&apos;>'><![CDATA[<]]]]><p:y/></x></message>\
        \n \t<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>\u{FEFF}";
    let out = run(stream);
    assert_eq!(out.elements.len(), 2, "{out:?}");
    run(&format!("{stream}</stream:stream>"));
    run("<message>\u{FEFF}x</message>  </stream:stream>");
    for bad in
        ["<message>a\u{FFFF}", "<message><!-", "<message><![CDATA[", "<message>&am", "<message a='1", "</x>", "x"]
    {
        run(bad);
    }
}

#[test]
fn to_xml_stands_alone() {
    // A prefix declared on the stream header, used by a stanza's attribute: declared on the serialized stanza.
    let out = run("<message stream:x='1'><body xml:lang='en'>hi</body><xml:a/></message>");
    let xml = out.elements.first().expect("one stanza");
    assert!(xml.contains("xmlns:stream='http://etherx.jabber.org/streams'"), "{xml}");
    let again = Element::parse(xml).expect("re-parses");
    assert_eq!(again.to_xml(), *xml);
    // A child whose attribute's prefix is declared on an ancestor.
    let e = Element::parse("<a xmlns:p='urn:p'><b xmlns:q='urn:q' p:k='v' q:k='w'><c p:z='1'/></b></a>").unwrap();
    let b = e.first_child().unwrap().to_xml();
    assert_eq!(b, "<b xmlns='' xmlns:q='urn:q' p:k='v' q:k='w' xmlns:p='urn:p'><c p:z='1'/></b>");
    Element::parse(&b).expect("re-parses");
}
