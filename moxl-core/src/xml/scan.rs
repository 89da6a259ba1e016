//! The token boundary scanner: finds where each token of the stream ends, resuming where the last call stopped,
//! so that feeding N bytes costs O(N) whatever the chunking; checks every byte against the XML `Char`
//! production and UTF-8 as it goes, and enforces the size limits while a token grows.
//!
//! The [`StreamParser`](super::StreamParser) reads only what the scanner has found complete (`..ready`): whole
//! tags, CDATA sections, declarations, and text cut on character and reference boundaries. It therefore never
//! meets a token cut by the end of the input, never reads one twice, and never sees bytes that are not XML
//! characters.
//!
//! What the scanner rejects by itself, as soon as the bytes show it (each rule cites XML 1.0, fifth edition):
//! - bytes that are not UTF-8 (RFC 6120 §11.6) or characters outside the `Char` production (§2.2): C0 controls
//!   other than tab, line feed and carriage return, U+FFFE and U+FFFF (surrogates are not UTF-8);
//! - `]]>` in character data (§2.4);
//! - a reference that is not `&name;` or `&#…;` (§4.1), an `<` not followed by a name, `/`, `!` or `?`;
//! - `<` inside an attribute value (§3.1, `AttValue`);
//! - comments, document type declarations and processing instructions other than the XML declaration, as
//!   soon as they are recognised (RFC 6120 §11.1: `restricted-xml`);
//! - a start tag longer than [`Limits::MAX_START_TAG_BYTES`], a stanza longer than
//!   [`Limits::max_stanza_bytes`]: `policy-violation`, at the first byte over the limit.
//!
//! Errors are reported in byte order: the first offending byte decides, so that byte-at-a-time and whole
//! feeds give the same error.
//!
//! [`Limits::MAX_START_TAG_BYTES`]: super::Limits::MAX_START_TAG_BYTES
//! [`Limits::max_stanza_bytes`]: super::Limits::max_stanza_bytes

use super::XmlError;
use crate::stanza::StreamCondition;

/// Where the scanner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Character data (or whitespace between top-level elements).
    Text,
    /// Inside a reference in text, after its `&` (at `ref_start`).
    Ref,
    /// Just after a `<`.
    Lt,
    /// A start or empty-element tag; `quote` is the open attribute quote, or 0.
    StartTag { quote: u8 },
    /// An end tag.
    EndTag,
    /// After `<!`: a comment, CDATA section or document type declaration, until it is recognised.
    Bang,
    /// A CDATA section's content.
    Cdata,
    /// After `<?`, until the target shows whether it is the XML declaration.
    Pi,
    /// The XML declaration, until its `?>`.
    Decl,
}

/// What a scan of one token found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scanned {
    /// A token ended (markup, or text at the `<` that ends it): `ready` is its end.
    Token,
    /// The input ran out; `ready` moved as far as complete characters and references allow.
    More,
}

/// The size limits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bounds {
    pub(super) max_stanza_bytes: usize,
    pub(super) max_tag_bytes: usize,
}

/// The incremental scanner; offsets index the parser's buffer.
#[derive(Debug, Clone)]
pub(super) struct Scanner {
    /// Next byte to look at.
    at: usize,
    /// Everything before this offset may be tokenized.
    ready: usize,
    /// Start of the markup token being scanned (its `<`).
    token_start: usize,
    /// Start of the reference being scanned (its `&`).
    ref_start: usize,
    /// Everything before this offset is checked as characters (may trail `at` inside markup).
    checked: usize,
    mode: Mode,
    /// How many `]` end what was scanned of the text or CDATA section (0 to 2).
    brackets: u8,
    /// Open elements of the stanza being scanned (the stream root not counted).
    depth: usize,
    /// Where the stanza being scanned starts (its first `<`), for its size limit.
    stanza_start: Option<usize>,
    /// The next start tag at depth 0 is the stream header (which stays open around the stanzas).
    expect_header: bool,
}

/// Longest prefix the scanner matches after `<!` (`[CDATA[`).
const CDATA_OPEN: &[u8] = b"<![CDATA[";

impl Scanner {
    /// A scanner for a stream (`expect_header`: a `<stream:stream>` header comes first) or for framed elements.
    pub(super) fn new(expect_header: bool) -> Self {
        Scanner {
            at: 0,
            ready: 0,
            token_start: 0,
            ref_start: 0,
            checked: 0,
            mode: Mode::Text,
            brackets: 0,
            depth: 0,
            stanza_start: None,
            expect_header,
        }
    }

    /// Everything before this offset is complete and may be tokenized.
    pub(super) fn ready(&self) -> usize {
        self.ready
    }

    /// The buffer lost its first `n` bytes (all before `ready` and before the current token).
    pub(super) fn shift(&mut self, n: usize) {
        self.at -= n;
        self.ready -= n;
        self.token_start = self.token_start.saturating_sub(n);
        self.ref_start = self.ref_start.saturating_sub(n);
        self.checked = self.checked.saturating_sub(n);
        self.stanza_start = self.stanza_start.map(|s| s.saturating_sub(n));
    }

    /// Scans from where the last call stopped, token after token, until the input runs out or an error. On an
    /// error, `ready` is where the token with the error starts (or, in text, the end of what was fine): what is
    /// before it is to be tokenized first, its errors coming first in the input.
    pub(super) fn scan(&mut self, buf: &[u8], bounds: Bounds) -> Result<(), XmlError> {
        loop {
            match self.mode {
                Mode::Text | Mode::Ref => {
                    if self.scan_text(buf, bounds)? == Scanned::More {
                        return Ok(());
                    }
                }
                Mode::Lt => {
                    let Some(&b) = buf.get(self.at) else { return Ok(()) };
                    self.mode = match b {
                        b'/' => Mode::EndTag,
                        b'!' => Mode::Bang,
                        b'?' => Mode::Pi,
                        // The name is checked when the tag is complete; non-ASCII bytes are checked as characters
                        // by the tag scan, so only ASCII is consumed here.
                        b if super::text::may_start_name(b) => Mode::StartTag { quote: 0 },
                        _ => return Err(malformed("'<' not followed by a name")),
                    };
                    if b < 0x80 {
                        self.at += 1;
                    }
                }
                Mode::StartTag { .. } | Mode::EndTag | Mode::Cdata | Mode::Decl => {
                    if self.scan_markup(buf, bounds)? == Scanned::More {
                        return Ok(());
                    }
                }
                Mode::Bang => {
                    let seen = buf.get(self.token_start..).unwrap_or_default();
                    match seen.get(2) {
                        None => return Ok(()),
                        Some(b'-') => match seen.get(3) {
                            None => return Ok(()),
                            Some(b'-') => return Err(restricted("comment")),
                            Some(_) => return Err(malformed("invalid markup after '<!'")),
                        },
                        Some(b'D') => return Err(restricted("document type declaration")),
                        Some(b'[') => {
                            let n = seen.len().min(CDATA_OPEN.len());
                            if seen.get(..n) != CDATA_OPEN.get(..n) {
                                return Err(malformed("invalid markup after '<!'"));
                            }
                            if n < CDATA_OPEN.len() {
                                self.at = self.token_start + n;
                                return Ok(());
                            }
                            self.at = self.token_start + CDATA_OPEN.len();
                            self.brackets = 0;
                            self.mode = Mode::Cdata;
                        }
                        Some(_) => return Err(malformed("invalid markup after '<!'")),
                    }
                }
                Mode::Pi => {
                    // `<?xml` followed by white space or `?` is the XML declaration; any other target is a
                    // processing instruction (RFC 6120 §11.1).
                    let seen = buf.get(self.token_start + 2..).unwrap_or_default();
                    let n = seen.len().min(3);
                    if seen.get(..n) != b"xml".get(..n) {
                        return Err(restricted("processing instruction"));
                    }
                    match seen.get(3) {
                        None => {
                            self.at = self.token_start + 2 + n;
                            return Ok(());
                        }
                        Some(b' ' | b'\t' | b'\n' | b'\r' | b'?') => {
                            self.at = self.token_start + 5;
                            self.mode = Mode::Decl;
                        }
                        Some(_) => return Err(restricted("processing instruction")),
                    }
                }
            }
        }
    }

    /// Where the current token must stop, and the error for going past it.
    fn limit(&self, bounds: Bounds, tag: bool) -> (usize, fn(Bounds) -> XmlError) {
        let base = self.stanza_start.unwrap_or(self.token_start);
        let stanza = base.saturating_add(bounds.max_stanza_bytes);
        if tag {
            let tag_end = self.token_start.saturating_add(bounds.max_tag_bytes);
            if tag_end < stanza {
                return (tag_end, tag_too_big);
            }
        }
        (stanza, stanza_too_big)
    }

    /// Text and references, until a `<` or the end of the input.
    fn scan_text(&mut self, buf: &[u8], bounds: Bounds) -> Result<Scanned, XmlError> {
        // Text outside a stanza is consumed as it comes (white space between stanzas): nothing accumulates.
        let (end, over) = match self.stanza_start {
            Some(_) => self.limit(bounds, false),
            None => (usize::MAX, stanza_too_big as fn(Bounds) -> XmlError),
        };
        let avail = buf.len().min(end);
        let clipped = buf.len() > end;
        loop {
            if self.mode == Mode::Ref {
                // `&name;` or `&#…;`: the name is checked when the reference is tokenized (RFC 6120 §11.1 allows
                // only the predefined entities and character references).
                let rest = buf.get(self.at..avail).unwrap_or_default();
                let stop = rest.iter().position(|b| !is_ref_byte(*b));
                match stop.and_then(|i| rest.get(i).map(|b| (i, *b))) {
                    Some((i, b';')) if self.at + i > self.ref_start + 1 => {
                        self.at += i + 1;
                        self.mode = Mode::Text;
                    }
                    Some(_) => {
                        // The text before the reference goes to the tokenizer first (see the `]]>` case).
                        self.ready = self.ref_start;
                        return Err(malformed("invalid or unclosed reference"));
                    }
                    None => {
                        self.at = avail;
                        self.ready = self.ref_start;
                        return if clipped { Err(over(bounds)) } else { Ok(Scanned::More) };
                    }
                }
            }
            // Complete characters and references so far may be tokenized, even if an error follows.
            self.ready = self.at;
            self.checked = self.at;
            let rest = buf.get(self.at..avail).unwrap_or_default();
            let found = memchr::memchr3(b'<', b'&', b'>', rest);
            let span = rest.get(..found.unwrap_or(rest.len())).unwrap_or_default();
            let valid = match check_chars(span, found.is_some()) {
                Ok(valid) => valid,
                Err(e) => {
                    // The text before the offending character is handed on first: its errors (character data
                    // outside a stanza) come first in the input, as they do when it arrives in another read.
                    self.at += valid_prefix(span);
                    self.ready = self.at;
                    return Err(e);
                }
            };
            self.brackets = trailing_brackets(self.brackets, span.get(..valid).unwrap_or_default());
            self.at += valid;
            self.checked = self.at;
            let (Some(i), true) = (found, valid == span.len()) else {
                // The input ends (perhaps inside a character).
                self.ready = self.at;
                return if clipped { Err(over(bounds)) } else { Ok(Scanned::More) };
            };
            match rest.get(i) {
                Some(b'<') => {
                    self.ready = self.at;
                    self.token_start = self.at;
                    self.at += 1;
                    self.brackets = 0;
                    self.mode = Mode::Lt;
                    return Ok(Scanned::Token);
                }
                Some(b'&') => {
                    self.ref_start = self.at;
                    self.at += 1;
                    self.brackets = 0;
                    self.mode = Mode::Ref;
                }
                _ => {
                    // `>`: character data must not contain `]]>` (XML 1.0 §2.4).
                    if self.brackets >= 2 {
                        // The text before the `>` goes to the tokenizer first (outside a stanza it is an error
                        // of its own, reported first), as it does when the `>` comes in a later read.
                        self.ready = self.at;
                        return Err(malformed("']]>' in character data"));
                    }
                    self.brackets = 0;
                    self.at += 1;
                }
            }
        }
    }

    /// A tag, CDATA section or XML declaration, until its end.
    fn scan_markup(&mut self, buf: &[u8], bounds: Bounds) -> Result<Scanned, XmlError> {
        let is_start = matches!(self.mode, Mode::StartTag { .. });
        let (end, over) = self.limit(bounds, is_start);
        let avail = buf.len().min(end);
        let clipped = buf.len() > end;
        loop {
            let rest = buf.get(self.at..avail).unwrap_or_default();
            let found = match self.mode {
                Mode::StartTag { quote: 0 } => memchr::memchr3(b'>', b'\'', b'"', rest),
                // `<` is not allowed in attribute values (XML 1.0 §3.1).
                Mode::StartTag { quote } => memchr::memchr2(quote, b'<', rest),
                // An end tag is `</Name S?>`: a quote is an error at once.
                Mode::EndTag => memchr::memchr3(b'>', b'\'', b'"', rest),
                _ => memchr::memchr(b'>', rest),
            };
            let span = rest.get(..found.unwrap_or(rest.len())).unwrap_or_default();
            if self.mode == Mode::Cdata {
                self.brackets = trailing_brackets(self.brackets, span);
            }
            // The delimiters are ASCII, never inside a multi-byte character: characters are checked once per
            // token (or per read), not per span.
            let Some(i) = found else {
                self.at = avail;
                self.check_upto(buf, avail, false)?;
                return if clipped { Err(over(bounds)) } else { Ok(Scanned::More) };
            };
            let b = rest.get(i).copied().unwrap_or_default();
            self.at += i + 1;
            let done = match self.mode {
                Mode::StartTag { quote: 0 } if b == b'>' => true,
                Mode::StartTag { quote: 0 } => {
                    self.mode = Mode::StartTag { quote: b };
                    false
                }
                Mode::StartTag { .. } if b == b'<' => {
                    self.check_upto(buf, self.at - 1, true)?;
                    return Err(malformed("'<' in an attribute value"));
                }
                Mode::StartTag { .. } => {
                    self.mode = Mode::StartTag { quote: 0 };
                    false
                }
                Mode::EndTag if b != b'>' => {
                    self.check_upto(buf, self.at - 1, true)?;
                    return Err(malformed("quote in an end tag"));
                }
                Mode::Cdata => {
                    let closed = self.brackets >= 2;
                    self.brackets = 0;
                    closed
                }
                // `?>`, after `<?xml`.
                Mode::Decl => self.at >= self.token_start + 7 && buf.get(self.at - 2) == Some(&b'?'),
                _ => true,
            };
            if done {
                self.check_upto(buf, self.at - 1, true)?;
                self.end_token(buf);
                self.ready = self.at;
                self.token_start = self.at;
                self.mode = Mode::Text;
                return Ok(Scanned::Token);
            }
        }
    }
}

impl Scanner {
    /// Checks the characters from where the last check stopped to `end` ([`check_chars`]; `complete`: `end` is
    /// not inside a character).
    fn check_upto(&mut self, buf: &[u8], end: usize, complete: bool) -> Result<(), XmlError> {
        let span = buf.get(self.checked..end).unwrap_or_default();
        self.checked += check_chars(span, complete)?;
        Ok(())
    }

    /// Follows the nesting when a tag ends (at `self.at`), to know where stanzas start and end.
    fn end_token(&mut self, buf: &[u8]) {
        match self.mode {
            Mode::StartTag { .. } if self.expect_header && self.depth == 0 => self.expect_header = false,
            Mode::StartTag { .. } => {
                if self.depth == 0 {
                    self.stanza_start = Some(self.token_start);
                }
                // `/>`: an empty-element tag.
                if buf.get(self.at.wrapping_sub(2)) != Some(&b'/') {
                    self.depth += 1;
                } else if self.depth == 0 {
                    self.stanza_start = None;
                }
            }
            Mode::EndTag if self.depth > 0 => {
                self.depth -= 1;
                if self.depth == 0 {
                    self.stanza_start = None;
                }
            }
            _ => {}
        }
    }
}

/// The length of the longest prefix of `span` made of complete, allowed characters (on an error only).
fn valid_prefix(span: &[u8]) -> usize {
    let (mut lo, mut hi) = (0, span.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if check_chars(span.get(..mid).unwrap_or_default(), false).is_ok() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    check_chars(span.get(..lo).unwrap_or_default(), false).unwrap_or(0)
}

/// Bytes of a reference's name (`lt`, `#x263A`): ASCII name characters and `#`.
fn is_ref_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'#' | b'_' | b'-' | b'.' | b':')
}

/// How many `]` end the text scanned so far, given how many ended it before `span`, capped at 2.
fn trailing_brackets(before: u8, span: &[u8]) -> u8 {
    let run = span.iter().rev().take(2).take_while(|b| **b == b']').count() as u8;
    if usize::from(run) == span.len() {
        (before + run).min(2)
    } else {
        run
    }
}

/// Checks a span against UTF-8 and the XML `Char` production (XML 1.0 §2.2:
/// `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`). Returns the length of the checked
/// prefix, shorter than the span only when the span ends inside a character and more may follow (`!complete`:
/// the rest is checked when it arrives); the first offending byte decides the error.
pub(super) fn check_chars(span: &[u8], complete: bool) -> Result<usize, XmlError> {
    // The common case, ASCII without control characters, in one branch-free pass (it vectorizes); anything else
    // (non-ASCII, a control character) takes the full check below.
    let unusual =
        span.iter().fold(false, |acc, &b| acc | (b >= 0x80) | (b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r'));
    if !unusual {
        return Ok(span.len());
    }
    let (valid, bad_utf8) = match std::str::from_utf8(span) {
        Ok(_) => (span.len(), false),
        Err(e) => (e.valid_up_to(), complete || e.error_len().is_some()),
    };
    let text = span.get(..valid).unwrap_or_default();
    // C0 controls other than tab, LF, CR: a branch-free pass over blocks, then the exact place.
    let mut control = None;
    for (n, block) in text.chunks(64).enumerate() {
        let bad = block.iter().fold(false, |acc, &b| acc | (b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r'));
        if bad {
            let i = block.iter().position(|&b| b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r');
            control = i.map(|i| (n * 64 + i, block.get(i).map_or(0, |b| u32::from(*b))));
            break;
        }
    }
    // U+FFFE and U+FFFF are EF BF BE and EF BF BF (EF leads a 3-byte sequence, complete in valid UTF-8).
    let nonchar = memchr::memchr_iter(0xEF, text).find_map(|i| match (text.get(i + 1), text.get(i + 2)) {
        (Some(0xBF), Some(b @ (0xBE | 0xBF))) => Some((i, 0xFF00 | u32::from(*b))),
        _ => None,
    });
    let first = match (control, nonchar) {
        (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    if let Some((_, c)) = first {
        return Err(malformed(&format!("character U+{c:04X} is not allowed in XML (XML 1.0 §2.2)")));
    }
    if bad_utf8 {
        return Err(malformed("invalid UTF-8 (RFC 6120 §11.6)"));
    }
    Ok(valid)
}

fn malformed(text: &str) -> XmlError {
    XmlError::new(StreamCondition::NotWellFormed, text)
}

fn restricted(what: &str) -> XmlError {
    XmlError::new(StreamCondition::RestrictedXml, format!("{what} not allowed in XMPP (RFC 6120 §11.1)"))
}

fn stanza_too_big(bounds: Bounds) -> XmlError {
    XmlError::new(StreamCondition::PolicyViolation, format!("stanza larger than {} bytes", bounds.max_stanza_bytes))
}

fn tag_too_big(bounds: Bounds) -> XmlError {
    XmlError::new(StreamCondition::PolicyViolation, format!("start tag longer than {} bytes", bounds.max_tag_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chars() {
        assert_eq!(check_chars(b"plain \t\r\n text", false), Ok(14));
        assert_eq!(check_chars("h\u{E9}\u{263A}\u{1F600}\u{FFFD}".as_bytes(), true).map(|n| n > 0), Ok(true));
        // Cut inside a character: the checked prefix stops before it.
        assert_eq!(check_chars(b"ab\xE2\x98", false), Ok(2));
        // ... unless the span is followed by markup: then the character is cut for good.
        assert!(check_chars(b"ab\xE2\x98", true).is_err());
        for bad in
            [&b"a\x00"[..], b"\x1B", b"x\x0Cy", b"\xEF\xBF\xBE", b"\xEF\xBF\xBF", b"\xFF", b"\xED\xA0\x80", b"\xC0\xAF"]
        {
            assert!(check_chars(bad, false).is_err(), "{bad:?}");
        }
        assert!(check_chars("\u{FEFF}\u{D7FF}\u{E000}\u{10FFFF}".as_bytes(), true).is_ok());
    }

    #[test]
    fn brackets() {
        assert_eq!(trailing_brackets(0, b"ab]"), 1);
        assert_eq!(trailing_brackets(1, b"]"), 2);
        assert_eq!(trailing_brackets(2, b"x"), 0);
        assert_eq!(trailing_brackets(1, b""), 1);
        assert_eq!(trailing_brackets(0, b"]]]"), 2);
    }
}
