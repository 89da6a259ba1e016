//! Small helpers shared by the mechanisms.

use base64::Engine;

use super::AuthError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Standard base64 with padding (RFC 4648 §4), as SCRAM uses.
pub(crate) fn b64(data: &[u8]) -> String {
    B64.encode(data)
}

/// Decodes standard base64; `what` names the field for the error.
pub(crate) fn unb64(data: &str, what: &str) -> Result<Vec<u8>, AuthError> {
    B64.decode(data).map_err(|e| AuthError::ServerMisbehaved(format!("{what} is not base64: {e}")))
}

/// Lower-case hex, as CRAM-MD5 and DIGEST-MD5 write digests.
pub(crate) fn hex(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        for nibble in [b >> 4, b & 0x0f] {
            s.push(DIGITS.get(usize::from(nibble)).map_or('0', |d| char::from(*d)));
        }
    }
    s
}

/// Compares two secrets in time that does not depend on where they differ.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random nonce: 24 base64 characters (144 bits), which never contain `,` or `"`.
pub(crate) fn random_nonce() -> String {
    let bytes: [u8; 18] = rand::random();
    B64.encode(bytes)
}

/// SASLprep (RFC 4013) of a name or password, as SCRAM requires (RFC 5802 §2.2, §5.1).
pub(crate) fn saslprep(value: &str, what: &str) -> Result<String, AuthError> {
    stringprep::saslprep(value)
        .map(|v| v.into_owned())
        .map_err(|e| AuthError::Config(format!("the {what} is not allowed by SASLprep (RFC 4013): {e}")))
}
