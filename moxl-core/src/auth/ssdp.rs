//! XEP-0474 (SASL SCRAM Downgrade Protection): the hash of what the server offered, which the server puts in
//! its SCRAM server-first-message, where the SCRAM signatures cover it.
//!
//! Two wire forms exist:
//!
//! - XEP-0474 version 0.4.0 and later (current: 0.5.0, 2025-10-25), §6.1 "Server Sends Downgrade Protection
//!   Hash": attribute `h`; the sorted mechanism names joined by U+001E, then, if the server advertised
//!   channel-binding types with XEP-0440, U+001F and the sorted types joined by U+001E.
//! - Version 0.3.0 (2023-12-04), still what deployed servers send (ejabberd's `xmpp` library and Prosody's
//!   `mod_sasl_ssdp` both declare 0.3.0): attribute `d`; the same lists joined by `,`, separated by `|`.
//!
//! In both, sorting is "i;octet" (RFC 4790 §9.3: byte order) and the hash is the SCRAM mechanism's, in base64.

use super::scram::ScramHash;
use super::util::b64;
use super::ServerOffer;

/// Which version's attribute is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SsdpForm {
    /// Attribute `h`, delimiters U+001E and U+001F (XEP-0474 ≥ 0.4.0).
    Current,
    /// Attribute `d`, delimiters `,` and `|` (XEP-0474 0.3.0).
    Legacy,
}

impl SsdpForm {
    /// The SCRAM attribute name carrying this form.
    pub(crate) const fn attribute(self) -> char {
        match self {
            SsdpForm::Current => 'h',
            SsdpForm::Legacy => 'd',
        }
    }
}

/// The string that is hashed (XEP-0474 §6.1 steps 1–4).
pub(crate) fn ssdp_input(offer: &ServerOffer, form: SsdpForm) -> String {
    let (item, list) = match form {
        SsdpForm::Current => ("\u{1e}", "\u{1f}"),
        SsdpForm::Legacy => (",", "|"),
    };
    let mut mechanisms: Vec<&str> = offer.mechanisms.iter().map(|m| m.trim()).collect();
    mechanisms.sort_unstable();
    let mut s = mechanisms.join(item);
    // XEP-0440 requires at least one <channel-binding/>; an empty list counts as not advertised.
    if let Some(types) = offer.channel_bindings.as_ref().filter(|t| !t.is_empty()) {
        let mut types: Vec<&str> = types.iter().map(|t| t.trim()).collect();
        types.sort_unstable();
        s.push_str(list);
        s.push_str(&types.join(item));
    }
    s
}

/// The base64 hash the server must have sent (XEP-0474 §6.1 step 5).
pub(crate) fn ssdp_hash(offer: &ServerOffer, form: SsdpForm, hash: ScramHash) -> String {
    b64(&hash.hash(ssdp_input(offer, form).as_bytes()))
}
