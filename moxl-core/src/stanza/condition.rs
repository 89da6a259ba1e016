//! The defined conditions of RFC 6120: stream errors (§4.9.3) and stanza errors (§8.3.3), and error types (§8.3.2).

use std::fmt;

/// Defines a condition enum with its wire names, in one place.
macro_rules! conditions {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* #[doc = concat!("`<", $wire, "/>`")] $variant,)*
        }

        impl $name {
            /// Every defined condition, in the RFC's order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The element name on the wire (`item-not-found`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }

            /// The condition with this element name, if it is a defined one.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($wire => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

conditions! {
    /// A stream error condition (RFC 6120 §4.9.3): why a stream is being closed.
    ///
    /// ```
    /// use moxl_core::stanza::StreamCondition;
    /// assert_eq!(StreamCondition::RestrictedXml.as_str(), "restricted-xml");
    /// assert_eq!(StreamCondition::from_name("not-well-formed"), Some(StreamCondition::NotWellFormed));
    /// ```
    StreamCondition {
        BadFormat = "bad-format",
        BadNamespacePrefix = "bad-namespace-prefix",
        Conflict = "conflict",
        ConnectionTimeout = "connection-timeout",
        HostGone = "host-gone",
        HostUnknown = "host-unknown",
        ImproperAddressing = "improper-addressing",
        InternalServerError = "internal-server-error",
        InvalidFrom = "invalid-from",
        InvalidNamespace = "invalid-namespace",
        InvalidXml = "invalid-xml",
        NotAuthorized = "not-authorized",
        NotWellFormed = "not-well-formed",
        PolicyViolation = "policy-violation",
        RemoteConnectionFailed = "remote-connection-failed",
        Reset = "reset",
        ResourceConstraint = "resource-constraint",
        RestrictedXml = "restricted-xml",
        SeeOtherHost = "see-other-host",
        SystemShutdown = "system-shutdown",
        UndefinedCondition = "undefined-condition",
        UnsupportedEncoding = "unsupported-encoding",
        UnsupportedFeature = "unsupported-feature",
        UnsupportedStanzaType = "unsupported-stanza-type",
        UnsupportedVersion = "unsupported-version",
    }
}

conditions! {
    /// A stanza error condition (RFC 6120 §8.3.3). An Action's `error_<condition>` methods are named after these,
    /// with `-` written `_` (`item-not-found` → `error_item_not_found`).
    ///
    /// ```
    /// use moxl_core::stanza::Condition;
    /// assert_eq!(Condition::ItemNotFound.as_str(), "item-not-found");
    /// assert_eq!(Condition::ALL.len(), 22);
    /// ```
    Condition {
        BadRequest = "bad-request",
        Conflict = "conflict",
        FeatureNotImplemented = "feature-not-implemented",
        Forbidden = "forbidden",
        Gone = "gone",
        InternalServerError = "internal-server-error",
        ItemNotFound = "item-not-found",
        JidMalformed = "jid-malformed",
        NotAcceptable = "not-acceptable",
        NotAllowed = "not-allowed",
        NotAuthorized = "not-authorized",
        PolicyViolation = "policy-violation",
        RecipientUnavailable = "recipient-unavailable",
        Redirect = "redirect",
        RegistrationRequired = "registration-required",
        RemoteServerNotFound = "remote-server-not-found",
        RemoteServerTimeout = "remote-server-timeout",
        ResourceConstraint = "resource-constraint",
        ServiceUnavailable = "service-unavailable",
        SubscriptionRequired = "subscription-required",
        UndefinedCondition = "undefined-condition",
        UnexpectedRequest = "unexpected-request",
    }
}

conditions! {
    /// The `type` of a stanza error (RFC 6120 §8.3.2): what the sender may do about it.
    ErrorType {
        /// Retry after providing credentials.
        Auth = "auth",
        /// Do not retry (the error cannot be remedied).
        Cancel = "cancel",
        /// Proceed (the condition was only a warning).
        Continue = "continue",
        /// Retry after changing the data sent.
        Modify = "modify",
        /// Retry after waiting (the error is temporary).
        Wait = "wait",
    }
}

impl Condition {
    /// The error type RFC 6120 §8.3.3 recommends for this condition.
    pub const fn default_type(self) -> ErrorType {
        use Condition::*;
        match self {
            BadRequest | Gone | JidMalformed | NotAcceptable | PolicyViolation | Redirect => ErrorType::Modify,
            NotAuthorized | Forbidden | RegistrationRequired | SubscriptionRequired => ErrorType::Auth,
            RecipientUnavailable | RemoteServerTimeout | ResourceConstraint | UnexpectedRequest => ErrorType::Wait,
            _ => ErrorType::Cancel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(StreamCondition::ALL.len(), 25);
        for c in Condition::ALL {
            assert_eq!(Condition::from_name(c.as_str()), Some(*c));
        }
        for c in StreamCondition::ALL {
            assert_eq!(StreamCondition::from_name(c.as_str()), Some(*c));
        }
        assert_eq!(Condition::from_name("no-such-thing"), None);
    }
}
