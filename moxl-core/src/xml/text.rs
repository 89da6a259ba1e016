//! Escaping for what we write, unescaping for what we read.
//!
//! Both delegate to quick-xml's escape module; the only thing added here is CDATA handling in element content.

use std::borrow::Cow;

const CDATA_OPEN: &str = "<![CDATA[";
const CDATA_CLOSE: &str = "]]>";

/// Escapes text content (`&`, `<`, `>`).
///
/// ```
/// assert_eq!(moxl_core::xml::escape_text("a < b & c"), "a &lt; b &amp; c");
/// ```
pub fn escape_text(raw: &str) -> Cow<'_, str> {
    quick_xml::escape::partial_escape(raw)
}

/// Escapes an attribute value (`&`, `<`, `>`, `'`, `"`), and tab, newline and carriage return as character
/// references: a reader normalizes them to spaces when written literally (XML 1.0 §3.3.3), so a value (or a
/// namespace name) that holds them reads back the same only this way.
///
/// ```
/// assert_eq!(moxl_core::xml::escape_attr("it's \"x\""), "it&apos;s &quot;x&quot;");
/// assert_eq!(moxl_core::xml::escape_attr("a\nb\tc\r"), "a&#xA;b&#x9;c&#13;");
/// ```
pub fn escape_attr(raw: &str) -> Cow<'_, str> {
    let escaped = quick_xml::escape::escape(raw);
    // (quick-xml already writes `\r` as `&#13;`)
    if memchr::memchr2(b'\t', b'\n', escaped.as_bytes()).is_none() {
        return escaped;
    }
    Cow::Owned(escaped.replace('\t', "&#x9;").replace('\n', "&#xA;"))
}

/// Unescapes an attribute value that the parser already validated. Borrowed when there is nothing to unescape.
pub(crate) fn unescape_attr(raw: &str) -> Cow<'_, str> {
    if memchr::memchr(b'&', raw.as_bytes()).is_none() {
        return Cow::Borrowed(raw);
    }
    // The parser checked every reference when the stanza arrived, so this cannot fail; keep the raw text if it
    // somehow does rather than panic.
    quick_xml::escape::unescape(raw).unwrap_or(Cow::Borrowed(raw))
}

/// Unescapes raw element content (text, references and CDATA sections, no child elements).
pub(crate) fn unescape_content(raw: &str) -> Cow<'_, str> {
    if memchr::memchr2(b'&', b'<', raw.as_bytes()).is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    push_unescaped_content(raw, &mut out);
    Cow::Owned(out)
}

/// Appends the unescaped form of raw element content to `out`.
pub(crate) fn push_unescaped_content(mut raw: &str, out: &mut String) {
    while let Some(start) = raw.find(CDATA_OPEN) {
        let (text, rest) = raw.split_at(start);
        out.push_str(&unescape_attr(text));
        let rest = &rest[CDATA_OPEN.len()..];
        let end = rest.find(CDATA_CLOSE).unwrap_or(rest.len());
        let (cdata, rest) = rest.split_at(end);
        out.push_str(cdata);
        raw = rest.strip_prefix(CDATA_CLOSE).unwrap_or(rest);
    }
    out.push_str(&unescape_attr(raw));
}

/// Is `name` a qualified name (Namespaces in XML 1.0 §4: `NCName` or `NCName:NCName`)? Checked on every name the
/// parser reads and the builder writes, against XML 1.0 §2.3 (`NameStartChar`, `NameChar`) exactly.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    match memchr::memchr(b':', bytes) {
        None => is_ncname(bytes),
        Some(i) => is_ncname(bytes.get(..i).unwrap_or_default()) && is_ncname(bytes.get(i + 1..).unwrap_or_default()),
    }
}

/// Byte classes for names: bit 1, may start a name; bit 2, may continue one.
#[allow(clippy::indexing_slicing)] // `b < 256` indexes a 256-entry table
const NAME_BYTES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            3
        } else if c.is_ascii_digit() || c == b'-' || c == b'.' {
            2
        } else {
            0
        };
        b += 1;
    }
    t
};

/// May this byte start a name (an ASCII `NameStartChar` other than `:`, or the first byte of a non-ASCII
/// character, checked with the whole name)?
pub(crate) fn may_start_name(b: u8) -> bool {
    name_class(b) & 1 != 0
}

fn name_class(b: u8) -> u8 {
    NAME_BYTES.get(usize::from(b)).copied().unwrap_or(0)
}

fn is_ncname(part: &[u8]) -> bool {
    let ascii = match part.split_first() {
        Some((first, rest)) => name_class(*first) & 1 != 0 && rest.iter().all(|b| name_class(*b) & 2 != 0),
        None => return false,
    };
    if !part.iter().any(|b| *b >= 0x80) {
        return ascii;
    }
    // Non-ASCII: by character (the parser hands over valid UTF-8 only; anything else is not a name).
    let Ok(text) = std::str::from_utf8(part) else { return false };
    let mut chars = text.chars();
    chars.next().is_some_and(is_name_start_char) && chars.all(is_name_char)
}

/// XML 1.0 §2.3 `NameStartChar`, without `:` (a namespace separator, Namespaces in XML 1.0 §3).
fn is_name_start_char(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 §2.3 `NameChar`, without `:`.
fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_unescapes_references_and_cdata() {
        assert_eq!(unescape_content("plain"), "plain");
        assert!(matches!(unescape_content("plain"), Cow::Borrowed(_)));
        assert_eq!(unescape_content("a &lt;b&gt; &#x263A; &#65;"), "a <b> \u{263A} A");
        assert_eq!(unescape_content("x<![CDATA[<&>]]>y &amp; z"), "x<&>y & z");
    }

    #[test]
    fn names() {
        assert!(is_valid_name("stream:stream"));
        assert!(is_valid_name("x"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a b"));
        assert!(!is_valid_name("1a"));
        assert!(!is_valid_name("a'"));
        assert!(!is_valid_name(":'"));
        assert!(!is_valid_name(":a"));
        assert!(!is_valid_name("a:"));
        assert!(!is_valid_name("a:b:c"));
        assert!(is_valid_name("xml:lang"));
        assert!(is_valid_name("é-x.1"));
        assert!(is_valid_name("\u{4E2D}\u{6587}:\u{10000}\u{B7}"));
        assert!(!is_valid_name("\u{B7}a"), "U+00B7 may not start a name");
        assert!(!is_valid_name("a\u{D7}"), "U+00D7 is not a name character");
        assert!(!is_valid_name("\u{2000}"));
        assert!(!is_valid_name("a\u{FFFE}"));
        assert!(is_valid_name("_a"));
        assert!(!is_valid_name("a#b"));
        assert!(!is_valid_name("a b"));
    }
}
