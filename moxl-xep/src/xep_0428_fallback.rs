//! XEP-0428: Fallback Indication. Marks a message body, or ranges of it, as a fallback for clients that do not
//! understand an extension (a reply's quote, XEP-0461; a retraction's notice, XEP-0424), so that clients that do
//! can leave it out. Ranges count Unicode code points (§3), not bytes.

use std::borrow::Cow;

use moxl_core::xml::{Element, ElementBuilder};
use serde::{Deserialize, Serialize};

/// `urn:xmpp:fallback:0` (§5).
///
/// ```
/// assert_eq!(moxl_xep::xep_0428_fallback::NS, "urn:xmpp:fallback:0");
/// ```
pub const NS: &str = "urn:xmpp:fallback:0";

moxl_core::feature!("urn:xmpp:fallback:0");

/// A `<fallback/>` of a message: which extension it stands for, and which parts of the body are fallback
/// (none listed: the whole body, §3).
///
/// ```
/// use moxl_core::xml::Element;
/// use moxl_xep::xep_0428_fallback::Fallback;
/// let m = Element::parse("<message xmlns='jabber:client'><body>&gt; Anna wrote:\n&gt; cake\nYes</body>\
///     <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='22'/></fallback></message>")?;
/// let all = Fallback::all_in(&m);
/// assert_eq!((all[0].for_ns.as_str(), all[0].body.as_slice()), ("urn:xmpp:reply:0", &[(0, 22)][..]));
/// # Ok::<(), moxl_core::xml::XmlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fallback {
    /// The namespace of the extension the fallback stands for (`for`).
    pub for_ns: String,
    /// The fallback ranges of the body, `[start, end)` in code points; empty when the whole body is fallback.
    pub body: Vec<(usize, usize)>,
}

impl Fallback {
    /// A fallback for `for_ns` over `body` (empty: the whole body).
    ///
    /// ```
    /// let f = moxl_xep::xep_0428_fallback::Fallback::new("urn:xmpp:reply:0", vec![(0, 4)]);
    /// assert_eq!(f.body, [(0, 4)]);
    /// ```
    pub fn new(for_ns: impl Into<String>, body: Vec<(usize, usize)>) -> Self {
        Fallback { for_ns: for_ns.into(), body }
    }

    /// The fallback indications of a message (a `<fallback/>` without `for` is skipped).
    pub fn all_in(stanza: &Element) -> Vec<Fallback> {
        stanza
            .children()
            .filter(|c| c.is("fallback", NS))
            .filter_map(|f| {
                let for_ns = f.attr("for").map(Cow::into_owned)?;
                let body = f
                    .children()
                    .filter(|b| b.name() == "body" && b.ns() == NS)
                    .filter_map(|b| {
                        let pos = |n: &str| b.attr(n).and_then(|v| v.trim().parse::<usize>().ok());
                        let (start, end) = (pos("start")?, pos("end")?);
                        (start <= end).then_some((start, end))
                    })
                    .collect();
                Some(Fallback { for_ns, body })
            })
            .collect()
    }
}

/// The whole body is a fallback for `for_ns` (§3).
///
/// ```
/// let f = moxl_xep::xep_0428_fallback::whole_body("urn:xmpp:message-retract:1").build()?;
/// assert_eq!(f.to_xml(), "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn whole_body(for_ns: &str) -> ElementBuilder {
    ElementBuilder::new("fallback", NS).attr("for", for_ns.to_owned())
}

/// The code points `start..end` of the body are a fallback for `for_ns` (§3).
///
/// ```
/// let f = moxl_xep::xep_0428_fallback::body_range("urn:xmpp:reply:0", 0, 36).build()?;
/// assert_eq!(f.to_xml(), "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='36'/></fallback>");
/// # Ok::<(), moxl_core::Error>(())
/// ```
pub fn body_range(for_ns: &str, start: usize, end: usize) -> ElementBuilder {
    whole_body(for_ns)
        .append(ElementBuilder::new("body", NS).attr("start", start.to_string()).attr("end", end.to_string()))
}

/// The body without what is marked as a fallback for one of `understood` (the extensions the reader
/// understands). Ranges beyond the body are cut to it.
///
/// ```
/// use moxl_xep::xep_0428_fallback::{strip, Fallback};
/// let reply = Fallback::new("urn:xmpp:reply:0", vec![(0, 4)]);
/// assert_eq!(strip("> é\nok", &[reply.clone()], &["urn:xmpp:reply:0"]), "ok");
/// assert_eq!(strip("> é\nok", &[reply], &["urn:other"]), "> é\nok");
/// ```
pub fn strip(body: &str, fallbacks: &[Fallback], understood: &[&str]) -> String {
    let relevant: Vec<&Fallback> = fallbacks.iter().filter(|f| understood.contains(&f.for_ns.as_str())).collect();
    if relevant.iter().any(|f| f.body.is_empty()) {
        return String::new();
    }
    body.chars()
        .enumerate()
        .filter(|(i, _)| !relevant.iter().any(|f| f.body.iter().any(|&(start, end)| (start..end).contains(i))))
        .map(|(_, c)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_count_code_points_and_round_trip() {
        let m = moxl_core::stanza::message("a@b", "chat", Some("« é »\nyes"))
            .append(body_range("urn:xmpp:reply:0", 0, 6))
            .append(whole_body("urn:other"))
            .build()
            .unwrap();
        let all = Fallback::all_in(&m);
        assert_eq!(all.len(), 2);
        assert_eq!(strip("« é »\nyes", &all, &["urn:xmpp:reply:0"]), "yes");
        assert_eq!(strip("« é »\nyes", &all, &["urn:other"]), "");
        assert_eq!(strip("« é »\nyes", &all, &[]), "« é »\nyes");
        // bad ranges are skipped, ranges past the end are harmless
        let bad = Element::parse(
            "<message xmlns='jabber:client'><fallback xmlns='urn:xmpp:fallback:0' for='x'>\
             <body start='5' end='2'/><body start='a' end='3'/><body start='2' end='99'/></fallback></message>",
        )
        .unwrap();
        let all = Fallback::all_in(&bad);
        assert_eq!(all[0].body, [(2, 99)]);
        assert_eq!(strip("hello", &all, &["x"]), "he");
    }
}
