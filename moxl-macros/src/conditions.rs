//! The defined stanza error conditions, the one list the `error_<condition>` methods of `#[action]` are
//! checked against.
//!
//! RFC 6120 (XMPP Core), §8.3.3 "Defined Conditions", <https://www.rfc-editor.org/rfc/rfc6120#section-8.3.3>:
//! 22 conditions, in the RFC's (alphabetical) order. The runtime's `moxl_core::stanza::Condition` holds the
//! same list; the tests pin this copy to the RFC's count and order and to the runtime's list.

use crate::case::{kebab_to_snake, snake_to_kebab};

/// The stanza error conditions of RFC 6120 §8.3.3, as element names on the wire.
pub(crate) const STANZA_CONDITIONS: [&str; 22] = [
    "bad-request",
    "conflict",
    "feature-not-implemented",
    "forbidden",
    "gone",
    "internal-server-error",
    "item-not-found",
    "jid-malformed",
    "not-acceptable",
    "not-allowed",
    "not-authorized",
    "policy-violation",
    "recipient-unavailable",
    "redirect",
    "registration-required",
    "remote-server-not-found",
    "remote-server-timeout",
    "resource-constraint",
    "service-unavailable",
    "subscription-required",
    "undefined-condition",
    "unexpected-request",
];

/// The wire name of the condition a method suffix names (`item_not_found` → `item-not-found`), if it is a
/// defined one.
pub(crate) fn from_snake(snake: &str) -> Option<&'static str> {
    if snake.contains('-') {
        return None;
    }
    let kebab = snake_to_kebab(snake);
    STANZA_CONDITIONS.iter().copied().find(|c| *c == kebab)
}

/// The defined condition (in snake_case) closest to a misspelled one, if one is close enough to be a likely
/// typo.
pub(crate) fn closest_snake(snake: &str) -> Option<String> {
    let (distance, best) = STANZA_CONDITIONS
        .iter()
        .map(|c| kebab_to_snake(c))
        .map(|c| (edit_distance(snake, &c), c))
        .min_by_key(|(d, _)| *d)?;
    let limit = (snake.chars().count() / 3).max(2);
    (distance <= limit).then_some(best)
}

/// The Levenshtein distance between two strings (in chars).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous.get(j).copied().unwrap_or(usize::MAX / 2) + usize::from(ca != *cb);
            let delete = previous.get(j + 1).copied().unwrap_or(usize::MAX / 2) + 1;
            let insert = current.last().copied().unwrap_or(usize::MAX / 2) + 1;
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_22_conditions_in_rfc_order() {
        assert_eq!(STANZA_CONDITIONS.len(), 22);
        let mut sorted = STANZA_CONDITIONS;
        sorted.sort_unstable();
        assert_eq!(sorted, STANZA_CONDITIONS, "RFC 6120 §8.3.3 lists them alphabetically");
        assert!(STANZA_CONDITIONS.windows(2).all(|w| w.first() != w.get(1)), "no duplicates");
        for c in STANZA_CONDITIONS {
            assert!(c.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{c}");
        }
    }

    #[test]
    fn same_list_as_the_runtime() {
        let runtime: Vec<&str> = moxl::stanza::Condition::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(runtime, STANZA_CONDITIONS);
    }

    #[test]
    fn snake_lookup() {
        assert_eq!(from_snake("item_not_found"), Some("item-not-found"));
        assert_eq!(from_snake("gone"), Some("gone"));
        assert_eq!(from_snake("item-not-found"), None);
        assert_eq!(from_snake("not_found"), None);
        assert_eq!(from_snake(""), None);
        for c in STANZA_CONDITIONS {
            assert_eq!(from_snake(&kebab_to_snake(c)), Some(c));
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(closest_snake("item_not_fond").as_deref(), Some("item_not_found"));
        assert_eq!(closest_snake("forbiden").as_deref(), Some("forbidden"));
        assert_eq!(closest_snake("service_unavailible").as_deref(), Some("service_unavailable"));
        assert_eq!(closest_snake("not_authorised").as_deref(), Some("not_authorized"));
        assert_eq!(closest_snake("something_else_entirely"), None);
        assert_eq!(closest_snake("xyz"), None);
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("gone", "gone"), 0);
    }
}
