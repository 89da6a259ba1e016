//! XEP-0393: Message Styling (version 1.1). A body's plain-text styling parsed into blocks and spans that borrow
//! from the body — never into markup: the application renders them as it likes (a terminal, HTML it escapes
//! itself, a native widget).
//!
//! Blocks (§ "Blocks"): a line of plain text, a preformatted block opened by a line beginning with "```"
//! and closed by a line holding only "```" or the end of its parent, and a quotation of lines beginning with
//! `>` (whose children are parsed again, with the `>` and one leading whitespace removed). Spans (§ "Spans"):
//! `*strong*`, `_emphasis_`, `~strike~` and `` `pre` ``, matched lazily from left to right inside one line; an
//! opening directive starts a line or follows whitespace and is not followed by whitespace, a closing one is
//! not preceded by whitespace, and there is text between them. The directives stay in the output, marked as
//! such, so that they can be shown styled like their text (§ "Implementation Notes") or hidden.
//!
//! A message carrying `<unstyled xmlns='urn:xmpp:styling:0'/>` asks not to be styled (§ "Disabling
//! Styling"): see [`is_unstyled`].
//!
//! ```
//! use moxl_xep::xep_0393_styling::{parse, Block, Style};
//! let blocks = parse("> quoted\nplain *strong*");
//! let Block::Quote(inner) = &blocks[0] else { panic!() };
//! assert_eq!(inner[0].text(), "quoted");
//! let Block::Line(spans) = &blocks[1] else { panic!() };
//! assert_eq!(spans[1].text, "*");
//! assert!(spans[1].directive && spans[1].style.contains(Style::STRONG));
//! assert_eq!(blocks[1].text(), "plain *strong*");
//! ```

use moxl_core::xml::{Element, ElementBuilder};

/// `urn:xmpp:styling:0`: the disco feature of a client that renders styling (§ "Discovering Support"), and
/// the namespace of `<unstyled/>`.
///
/// ```
/// assert_eq!(moxl_xep::xep_0393_styling::NS, "urn:xmpp:styling:0");
/// ```
pub const NS: &str = "urn:xmpp:styling:0";

moxl_core::feature!("urn:xmpp:styling:0");

/// The styles that apply to a span: a set of [`STRONG`](Style::STRONG), [`EMPHASIS`](Style::EMPHASIS),
/// [`STRIKE`](Style::STRIKE) and [`PRE`](Style::PRE) (inline preformatted), combined with `|`.
///
/// ```
/// use moxl_xep::xep_0393_styling::Style;
/// let s = Style::STRONG | Style::EMPHASIS;
/// assert!(s.contains(Style::STRONG) && !s.contains(Style::PRE));
/// assert!(Style::PLAIN.is_plain());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Style(u8);

impl Style {
    /// No style.
    pub const PLAIN: Style = Style(0);
    /// `*strong*`: a heavier weight (§ "Strong Emphasis").
    pub const STRONG: Style = Style(1);
    /// `_emphasis_`: italics (§ "Emphasis").
    pub const EMPHASIS: Style = Style(2);
    /// `~strike~`: a line through the middle (§ "Strike through").
    pub const STRIKE: Style = Style(4);
    /// `` `pre` ``: monospace, with nothing styled inside (§ "Preformatted Span").
    pub const PRE: Style = Style(8);

    /// Whether every style of `other` is in this one.
    ///
    /// ```
    /// use moxl_xep::xep_0393_styling::Style;
    /// assert!((Style::STRIKE | Style::PRE).contains(Style::PRE));
    /// ```
    pub fn contains(self, other: Style) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no style applies.
    ///
    /// ```
    /// assert!(!moxl_xep::xep_0393_styling::Style::STRIKE.is_plain());
    /// ```
    pub fn is_plain(self) -> bool {
        self.0 == 0
    }

    fn of_directive(c: char) -> Option<Style> {
        match c {
            '*' => Some(Style::STRONG),
            '_' => Some(Style::EMPHASIS),
            '~' => Some(Style::STRIKE),
            '`' => Some(Style::PRE),
            _ => None,
        }
    }
}

impl std::ops::BitOr for Style {
    type Output = Style;
    fn bitor(self, rhs: Style) -> Style {
        Style(self.0 | rhs.0)
    }
}

/// A run of text in one style: a part of the body, or one styling directive character (`directive`), which
/// carries the style of the span it opens or closes.
///
/// ```
/// use moxl_xep::xep_0393_styling::{parse_line, Style};
/// let spans = parse_line("a _b_");
/// let parts: Vec<_> = spans.iter().map(|s| (s.text, s.style, s.directive)).collect();
/// assert_eq!(parts, [
///     ("a ", Style::PLAIN, false),
///     ("_", Style::EMPHASIS, true),
///     ("b", Style::EMPHASIS, false),
///     ("_", Style::EMPHASIS, true),
/// ]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span<'a> {
    /// The text, borrowed from the body.
    pub text: &'a str,
    /// Every style that applies (nested spans combine).
    pub style: Style,
    /// Whether this is an opening or closing directive character rather than content.
    pub directive: bool,
}

/// A block of a styled body.
///
/// ```
/// use moxl_xep::xep_0393_styling::{parse, Block};
/// let blocks = parse("```rust\nlet x = *y;\n```\ndone");
/// assert_eq!(blocks[0], Block::Pre { info: "rust", lines: vec!["let x = *y;"] });
/// assert!(matches!(&blocks[1], Block::Line(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Block<'a> {
    /// One line of text outside any preformatted block (§ "Plain"), as spans; an empty line has none.
    Line(Vec<Span<'a>>),
    /// A preformatted block (§ "Preformatted Text"): the text after the opening "```" (often a language
    /// name, which the XEP leaves unspecified) and the lines inside, verbatim.
    Pre {
        /// What follows "```" on the opening line.
        info: &'a str,
        /// The lines between the opening line and the closing "```" (or the end of the parent block).
        lines: Vec<&'a str>,
    },
    /// A quotation (§ "Quotations") and its child blocks.
    Quote(Vec<Block<'a>>),
}

impl Block<'_> {
    /// The block's text without the quotation markers it is nested in: a line's text, a preformatted block's
    /// lines joined by newlines, a quotation's children joined by newlines.
    ///
    /// ```
    /// use moxl_xep::xep_0393_styling::parse;
    /// assert_eq!(parse(">> a\n> b")[0].text(), "a\nb");
    /// ```
    pub fn text(&self) -> String {
        match self {
            Block::Line(spans) => spans.iter().map(|s| s.text).collect(),
            Block::Pre { lines, .. } => lines.join("\n"),
            Block::Quote(children) => children.iter().map(Block::text).collect::<Vec<_>>().join("\n"),
        }
    }
}

/// The blocks of `body` (lines end at `\n`; a `\r` before it is not part of the line).
///
/// ```
/// use moxl_xep::xep_0393_styling::{parse, Block};
/// // § "Preformatted Text": an unclosed block inside a quotation ends with the quotation.
/// let blocks = parse("> ```\n> (println \"Hello, world!\")\n\nThis line is plain");
/// assert_eq!(blocks[0], Block::Quote(vec![Block::Pre { info: "", lines: vec!["(println \"Hello, world!\")"] }]));
/// assert_eq!(blocks[1], Block::Line(vec![]));
/// assert_eq!(blocks[2].text(), "This line is plain");
/// ```
pub fn parse(body: &str) -> Vec<Block<'_>> {
    let lines: Vec<&str> = body.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    blocks(&lines)
}

fn blocks<'a>(lines: &[&'a str]) -> Vec<Block<'a>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&line) = lines.get(i) {
        if let Some(info) = line.strip_prefix("```") {
            let inner: Vec<&str> =
                lines.get(i + 1..).unwrap_or_default().iter().copied().take_while(|l| *l != "```").collect();
            // The inner lines, plus the closing line when there is one.
            i += 1 + inner.len() + usize::from(i + 1 + inner.len() < lines.len());
            out.push(Block::Pre { info, lines: inner });
        } else if line.starts_with('>') {
            let quoted: Vec<&str> = lines
                .get(i..)
                .unwrap_or_default()
                .iter()
                .map_while(|l| l.strip_prefix('>'))
                .map(|l| {
                    // The first leading whitespace character is trimmed.
                    let mut chars = l.chars();
                    match chars.next() {
                        Some(c) if c.is_whitespace() => chars.as_str(),
                        _ => l,
                    }
                })
                .collect();
            i += quoted.len();
            out.push(Block::Quote(blocks(&quoted)));
        } else {
            out.push(Block::Line(parse_line(line)));
            i += 1;
        }
    }
    out
}

/// The spans of one line of text (§ "Spans"), with no block parsing.
///
/// ```
/// use moxl_xep::xep_0393_styling::{parse_line, Style};
/// let styled = |s: &str| -> Vec<(String, bool)> {
///     parse_line(s).iter().filter(|p| !p.directive).map(|p| (p.text.to_owned(), !p.style.is_plain())).collect()
/// };
/// // The XEP's examples.
/// assert_eq!(styled("*strong*plain*"), [("strong".to_owned(), true), ("plain*".to_owned(), false)]);
/// assert_eq!(styled("* plain *strong*"), [("* plain ".to_owned(), false), ("strong".to_owned(), true)]);
/// for plain in ["not strong*", "*not strong", "*not *strong", "**", "****"] {
///     assert_eq!(styled(plain), [(plain.to_owned(), false)], "{plain}");
/// }
/// ```
pub fn parse_line(line: &str) -> Vec<Span<'_>> {
    let mut out = Vec::new();
    spans(line, Style::PLAIN, &mut out);
    out
}

/// Appends the spans of `text` in `outer` style to `out`.
fn spans<'a>(text: &'a str, outer: Style, out: &mut Vec<Span<'a>>) {
    let mut plain_from = 0;
    let mut pos = 0;
    let mut prev: Option<char> = None;
    while let Some(c) = text[pos..].chars().next() {
        let after = pos + c.len_utf8();
        let opens = Style::of_directive(c).is_some_and(|_| prev.is_none_or(char::is_whitespace))
            && text[after..].chars().next().is_some_and(|n| !n.is_whitespace());
        if let Some(close) = opens.then(|| closing(text, pos, c)).flatten() {
            let style = outer | Style::of_directive(c).unwrap_or_default();
            if plain_from < pos {
                out.push(Span { text: &text[plain_from..pos], style: outer, directive: false });
            }
            out.push(Span { text: &text[pos..after], style, directive: true });
            let inner = &text[after..close];
            if c == '`' {
                // A preformatted span holds one plain span: nothing inside is a directive.
                out.push(Span { text: inner, style, directive: false });
            } else {
                spans(inner, style, out);
            }
            out.push(Span { text: &text[close..close + 1], style, directive: true });
            pos = close + 1;
            plain_from = pos;
            prev = Some(c);
            continue;
        }
        prev = Some(c);
        pos = after;
    }
    if plain_from < text.len() {
        out.push(Span { text: &text[plain_from..], style: outer, directive: false });
    }
}

/// The byte index of the directive closing the one `directive` at `open`, lazily: the first `directive` after
/// it that is not preceded by whitespace, with text between that is not only the directive character.
fn closing(text: &str, open: usize, directive: char) -> Option<usize> {
    let start = open + directive.len_utf8();
    let mut prev: Option<char> = None;
    let mut content = false;
    for (i, c) in text[start..].char_indices() {
        if c == directive && content && prev.is_some_and(|p| !p.is_whitespace()) {
            return Some(start + i);
        }
        content |= c != directive;
        prev = Some(c);
    }
    None
}

/// Whether `message` asks not to be styled (`<unstyled xmlns='urn:xmpp:styling:0'/>`, § "Disabling Styling"):
/// its body is then shown as plain text.
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0393_styling::is_unstyled;
/// let m = Element::parse("<message xmlns='jabber:client'><body>*x*</body><unstyled xmlns='urn:xmpp:styling:0'/></message>")?;
/// assert!(is_unstyled(&m));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
pub fn is_unstyled(message: &Element) -> bool {
    message.child("unstyled", NS).is_some()
}

/// `<unstyled xmlns='urn:xmpp:styling:0'/>`, to append to a message whose body must not be styled (a quoted
/// log, ASCII art, code that is not in a preformatted block).
///
/// ```
/// let m = moxl_core::stanza::message("juliet@capulet.lit", "chat", Some("2*3*4"))
///     .append(moxl_xep::xep_0393_styling::unstyled())
///     .build()?;
/// assert!(moxl_xep::xep_0393_styling::is_unstyled(&m));
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn unstyled() -> ElementBuilder {
    ElementBuilder::new("unstyled", NS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line as text with each styled span in brackets: `[S:...]` strong, `[E:...]` emphasis, `[T:...]`
    /// strike, `[P:...]` pre (directives included), nesting shown by the combined letters.
    fn show(line: &str) -> String {
        parse_line(line)
            .iter()
            .map(|s| {
                if s.style.is_plain() {
                    return s.text.to_owned();
                }
                let mut tag = String::new();
                for (flag, letter) in
                    [(Style::STRONG, 'S'), (Style::EMPHASIS, 'E'), (Style::STRIKE, 'T'), (Style::PRE, 'P')]
                {
                    if s.style.contains(flag) {
                        tag.push(letter);
                    }
                }
                format!("[{tag}:{}]", s.text)
            })
            .collect()
    }

    #[test]
    fn the_xeps_span_examples() {
        assert_eq!(show("*strong*"), "[S:*][S:strong][S:*]");
        assert_eq!(show("plain *strong* plain"), "plain [S:*][S:strong][S:*] plain");
        assert_eq!(show("*strong* plain *strong*"), "[S:*][S:strong][S:*] plain [S:*][S:strong][S:*]");
        assert_eq!(show("Everyone ~dis~likes cake."), "Everyone [T:~][T:dis][T:~]likes cake.");
        assert_eq!(show("This is `*monospace*`"), "This is [P:`][P:*monospace*][P:`]");
        assert_eq!(show("*`monospace and bold`*"), "[S:*][SP:`][SP:monospace and bold][SP:`][S:*]");
        assert_eq!(
            show("_emphasized span containing *strong span*_"),
            "[E:_][E:emphasized span containing ][SE:*][SE:strong span][SE:*][E:_]"
        );
        for plain in ["not strong*", "*not strong", "*not *strong", "**", "****", "* *", "a*b*", "__"] {
            assert_eq!(show(plain), plain);
        }
    }

    #[test]
    fn spans_do_not_escape_lines_and_blocks_nest() {
        let blocks = parse("There are three blocks,\nbut there is no *formatting\nas spans* may not escape blocks.");
        assert_eq!(blocks.len(), 3);
        assert!(blocks.iter().all(|b| matches!(b, Block::Line(s) if s.iter().all(|s| s.style.is_plain()))));

        let blocks = parse(">> That that is, is.\n> Said the old hermit of Prague.\n\nWho?");
        let Block::Quote(outer) = &blocks[0] else { panic!("{blocks:?}") };
        assert!(matches!(&outer[0], Block::Quote(inner) if inner[0].text() == "That that is, is."));
        assert_eq!(outer[1].text(), "Said the old hermit of Prague.");
        assert_eq!(blocks[1], Block::Line(vec![]));
        assert_eq!(blocks[2].text(), "Who?");

        // Only the first whitespace after '>' goes; a quote's lines are styled again.
        let blocks = parse(">  two spaces\n>*x*");
        let Block::Quote(q) = &blocks[0] else { panic!() };
        assert_eq!(q[0].text(), " two spaces");
        assert!(matches!(&q[1], Block::Line(s) if s[1].style == Style::STRONG));

        // A closed block, then text; the info string is kept; an empty closing line ends nothing else.
        let blocks = parse("```ignored\n(println \"Hello, world!\")\n```\n\n*after*");
        assert_eq!(blocks[0], Block::Pre { info: "ignored", lines: vec!["(println \"Hello, world!\")"] });
        assert_eq!(blocks[1], Block::Line(vec![]));
        assert!(matches!(&blocks[2], Block::Line(s) if s.len() == 3));
        assert_eq!(parse("```"), [Block::Pre { info: "", lines: vec![] }]);
        assert_eq!(parse("a\r\nb").len(), 2);
    }

    #[test]
    fn every_input_parses_and_keeps_every_character() {
        // A small exhaustive sweep over the directive alphabet: spans cover the line exactly, in order.
        let alphabet = ['*', '_', '~', '`', ' ', 'a', '>', '\n', 'é'];
        let mut stack = vec![String::new()];
        while let Some(s) = stack.pop() {
            for line in s.split('\n') {
                let joined: String = parse_line(line).iter().map(|p| p.text).collect();
                assert_eq!(joined, line);
            }
            let _ = parse(&s);
            if s.chars().count() < 5 {
                for c in alphabet {
                    stack.push(format!("{s}{c}"));
                }
            }
        }
    }
}
