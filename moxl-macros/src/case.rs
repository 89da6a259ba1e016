//! Case conversions between the names users write and the names on the wire or in Packet keys.
//!
//! - stanza error conditions are kebab-case on the wire (`item-not-found`) and snake_case in method names
//!   (`error_item_not_found`);
//! - Packet keys are lowercase without separators inside one part (`erroritemnotfound`, `saslfailure`).

/// `item-not-found` → `item_not_found`.
pub(crate) fn kebab_to_snake(kebab: &str) -> String {
    kebab.replace('-', "_")
}

/// `item_not_found` → `item-not-found`.
pub(crate) fn snake_to_kebab(snake: &str) -> String {
    snake.replace('_', "-")
}

/// The Packet key suffix of a handler method: its name without underscores, in lowercase
/// (`error_item_not_found` → `erroritemnotfound`).
pub(crate) fn method_key_suffix(method: &str) -> String {
    method.chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect()
}

/// The default Packet key of a Payload type: its name in lowercase (`SaslFailure` → `saslfailure`).
pub(crate) fn type_key(type_name: &str) -> String {
    type_name.to_lowercase()
}

/// Whether `s` is a valid Packet key part (`[a-z0-9_]+`): non-empty, lowercase ASCII letters, digits and `_`.
pub(crate) fn is_key(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_and_snake_round_trip() {
        assert_eq!(kebab_to_snake("item-not-found"), "item_not_found");
        assert_eq!(kebab_to_snake("gone"), "gone");
        assert_eq!(snake_to_kebab("remote_server_not_found"), "remote-server-not-found");
        for s in ["bad-request", "jid-malformed", "redirect", ""] {
            assert_eq!(snake_to_kebab(&kebab_to_snake(s)), s);
        }
    }

    #[test]
    fn method_suffixes() {
        assert_eq!(method_key_suffix("handle"), "handle");
        assert_eq!(method_key_suffix("error"), "error");
        assert_eq!(method_key_suffix("error_item_not_found"), "erroritemnotfound");
        assert_eq!(method_key_suffix("timeout"), "timeout");
    }

    #[test]
    fn type_keys() {
        assert_eq!(type_key("SaslFailure"), "saslfailure");
        assert_eq!(type_key("Get"), "get");
        assert_eq!(type_key("already_lower"), "already_lower");
    }

    #[test]
    fn keys() {
        assert!(is_key("vcard"));
        assert!(is_key("xep_0054"));
        assert!(is_key("_"));
        assert!(!is_key(""));
        assert!(!is_key("vCard"));
        assert!(!is_key("a.b"));
        assert!(!is_key("a-b"));
        assert!(!is_key("a b"));
        assert!(!is_key("é"));
    }
}
