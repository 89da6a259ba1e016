//! The one scanner of start-tag attributes: the parser runs it validating (syntax, duplicates), [`Element`]
//! runs it again on text that was validated when it arrived.
//!
//! [`Element`]: super::Element

/// One attribute as written: its qualified name, its quote character and its raw (still escaped) value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawAttr<'a> {
    pub(crate) name: &'a str,
    pub(crate) quote: char,
    pub(crate) value: &'a str,
}

/// Scans the text of a start tag after the element name (`·a='1'·b="2"`).
pub(crate) struct AttrScanner<'a> {
    rest: &'a str,
}

/// How many attributes are checked for duplicates pairwise; a tag with more is checked with a sort.
const SMALL: usize = 16;

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> AttrScanner<'a> {
    pub(crate) fn new(after_name: &'a str) -> Self {
        AttrScanner { rest: after_name }
    }

    /// The next attribute, `Ok(None)` at the end, or what is wrong with the tag.
    pub(crate) fn next_attr(&mut self) -> Result<Option<RawAttr<'a>>, &'static str> {
        let bytes = self.rest.as_bytes();
        let ws = bytes.iter().take_while(|b| is_space(**b)).count();
        let s = &self.rest[ws..];
        if s.is_empty() {
            self.rest = s;
            return Ok(None);
        }
        if ws == 0 {
            return Err("attributes must be separated by white space");
        }
        let eq = memchr::memchr(b'=', s.as_bytes()).ok_or("attribute without a value")?;
        let name = s[..eq].trim_end_matches(|c: char| c.is_ascii_whitespace());
        if !super::text::is_valid_name(name) {
            return Err("invalid attribute name");
        }
        let after = s[eq + 1..].trim_start_matches(|c: char| c.is_ascii_whitespace());
        let quote = match after.as_bytes().first() {
            Some(b'\'') => b'\'',
            Some(b'"') => b'"',
            _ => return Err("attribute value without quotes"),
        };
        let body = &after[1..];
        let close = memchr::memchr2(quote, b'<', body.as_bytes()).ok_or("unterminated attribute value")?;
        if body.as_bytes().get(close) == Some(&b'<') {
            return Err("'<' in an attribute value");
        }
        let value = &body[..close];
        self.rest = &body[close + 1..];
        Ok(Some(RawAttr { name, quote: char::from(quote), value }))
    }

    /// Checks every attribute of a start tag, calling `each` on each; rejects duplicates.
    pub(crate) fn validate(
        after_name: &'a str,
        mut each: impl FnMut(RawAttr<'a>) -> Result<(), super::XmlError>,
    ) -> Result<(), super::XmlError> {
        use crate::stanza::StreamCondition::NotWellFormed;
        let mut scanner = AttrScanner::new(after_name);
        let mut small: [&str; SMALL] = [""; SMALL];
        let mut many: Vec<&str> = Vec::new();
        let mut count = 0;
        loop {
            let attr = match scanner.next_attr() {
                Ok(Some(a)) => a,
                Ok(None) => break,
                Err(e) => return Err(super::XmlError::new(NotWellFormed, e)),
            };
            if count < SMALL {
                if small.iter().take(count).any(|n| *n == attr.name) {
                    return Err(super::XmlError::new(NotWellFormed, format!("duplicate attribute {}", attr.name)));
                }
                if let Some(slot) = small.get_mut(count) {
                    *slot = attr.name;
                }
            } else {
                if many.is_empty() {
                    many.extend_from_slice(&small);
                }
                many.push(attr.name);
            }
            count += 1;
            each(attr)?;
        }
        if !many.is_empty() {
            many.sort_unstable();
            if let Some(dup) = many.windows(2).find_map(|w| w.first().filter(|a| w.get(1) == Some(*a))) {
                return Err(super::XmlError::new(NotWellFormed, format!("duplicate attribute {dup}")));
            }
        }
        Ok(())
    }
}

impl<'a> Iterator for AttrScanner<'a> {
    type Item = RawAttr<'a>;

    /// For text already validated (by [`validate`](AttrScanner::validate) when it arrived, or written by the
    /// builder): reads without checking again, and stops at the end (or at anything unexpected).
    fn next(&mut self) -> Option<RawAttr<'a>> {
        let s = self.rest.trim_start_matches([' ', '\t', '\n', '\r']);
        let eq = memchr::memchr(b'=', s.as_bytes())?;
        let name = s.get(..eq)?.trim_end_matches(|c: char| c.is_ascii_whitespace());
        let after = s.get(eq + 1..)?.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let quote = *after.as_bytes().first().filter(|q| matches!(q, b'\'' | b'"'))?;
        let body = after.get(1..)?;
        let close = memchr::memchr(quote, body.as_bytes())?;
        self.rest = body.get(close + 1..)?;
        Some(RawAttr { name, quote: char::from(quote), value: body.get(..close)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(s: &str) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        AttrScanner::validate(s, |a| {
            out.push((a.name.to_owned(), a.value.to_owned()));
            Ok(())
        })
        .map_err(|e| e.text().to_owned())?;
        Ok(out)
    }

    #[test]
    fn scans_and_validates() {
        assert_eq!(all(""), Ok(vec![]));
        assert_eq!(all("  "), Ok(vec![]));
        assert_eq!(
            all(" a='1' b = \"x'y\"\n\txml:lang='en' "),
            Ok(vec![("a".into(), "1".into()), ("b".into(), "x'y".into()), ("xml:lang".into(), "en".into())])
        );
        assert!(all(" a='1'b='2'").is_err());
        assert!(all(" a").is_err());
        assert!(all(" a=1").is_err());
        assert!(all(" a='1").is_err());
        assert!(all(" a='<'").is_err());
        assert!(all(" a='1' a='2'").is_err());
        assert!(all(" 'a'='1'").is_err());
        let many: String = (0..40).map(|i| format!(" a{i}='{i}'")).collect();
        assert_eq!(all(&many).map(|v| v.len()), Ok(40));
        assert!(all(&format!("{many} a7='x'")).is_err());
    }

    /// Reading validated text gives what validating it gives.
    #[test]
    fn reading_matches_validating() {
        for tag in ["", "  ", " a='1' b = \"x'y\"\n\txml:lang='en' ", " id='a&amp;b' to=\"r@e/é\"", " x = '' y=\"\""] {
            let read: Vec<(String, String)> =
                AttrScanner::new(tag).map(|a| (a.name.to_owned(), a.value.to_owned())).collect();
            assert_eq!(Ok(read), all(tag), "{tag:?}");
        }
    }
}
