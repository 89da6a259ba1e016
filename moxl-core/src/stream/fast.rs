//! FAST (XEP-0484): re-authentication with a token in one round trip, through SASL2, with the HT mechanisms of
//! draft-schmaus-kitten-sasl-ht (`HT-SHA-256-NONE`, `-EXPR` with `tls-exporter`, `-ENDP` with
//! `tls-server-end-point`).

use std::time::SystemTime;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::features::feature_ns as fns;
use crate::auth::ChannelBindingType;
use crate::session::FastToken;
use crate::transport::ChannelBinding;
use crate::xml::Element;

/// The channel binding an HT mechanism needs: `None` for `-NONE`, `Some(type)` otherwise; `Err` for one we
/// cannot produce (`-UNIQ`: rustls has no `tls-unique`) or do not know.
fn binding_of(mechanism: &str) -> Result<Option<ChannelBindingType>, ()> {
    match mechanism.strip_prefix("HT-SHA-256-") {
        Some("NONE") => Ok(None),
        Some("EXPR") => Ok(Some(ChannelBindingType::TlsExporter)),
        Some("ENDP") => Ok(Some(ChannelBindingType::TlsServerEndPoint)),
        _ => Err(()),
    }
}

fn cb_data<'a>(mechanism: &str, cb: Option<&'a ChannelBinding>) -> Option<&'a [u8]> {
    match binding_of(mechanism) {
        Ok(None) => Some(&[]),
        Ok(Some(kind)) => cb.filter(|(k, _)| *k == kind).map(|(_, data)| data.as_slice()),
        Err(()) => None,
    }
}

fn hmac(key: &[u8], label: &[u8], cb: &[u8]) -> Option<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(label);
    mac.update(cb);
    Some(mac.finalize().into_bytes().to_vec())
}

/// A token login prepared: the initial response, and what checks the server's final message.
pub(super) struct Attempt {
    pub(super) mechanism: String,
    pub(super) initial: Vec<u8>,
    token: Vec<u8>,
    cb: Vec<u8>,
}

impl Attempt {
    /// HT §3: `authcid NUL HMAC(token, "Initiator" || cb-data)`; `None` if the token cannot be used here
    /// (expired, a mechanism the server does not offer now, or a binding this connection lacks).
    pub(super) fn new(
        token: &FastToken,
        authcid: &str,
        offered: &[String],
        cb: Option<&ChannelBinding>,
    ) -> Option<Self> {
        if token.is_expired(SystemTime::now()) || !offered.iter().any(|m| m.trim() == token.mechanism) {
            return None;
        }
        let cb = cb_data(&token.mechanism, cb)?.to_vec();
        let key = token.token.as_bytes();
        let mut initial = authcid.as_bytes().to_vec();
        initial.push(0);
        initial.extend(hmac(key, b"Initiator", &cb)?);
        Some(Attempt { mechanism: token.mechanism.clone(), initial, token: key.to_vec(), cb })
    }

    /// HT §3: the server proves it knows the token too (compared in constant time).
    pub(super) fn verify(&self, data: Option<&[u8]>) -> bool {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.token) else { return false };
        mac.update(b"Responder");
        mac.update(&self.cb);
        data.is_some_and(|d| mac.verify_slice(d).is_ok())
    }
}

/// The mechanism to ask a token for (XEP-0484 §3.2; §7: channel binding is preferred): `-EXPR` on TLS 1.3,
/// `-ENDP` with a server certificate binding, else `-NONE`, among those offered.
pub(super) fn mechanism_to_request(offered: &[String], cb: Option<&ChannelBinding>) -> Option<String> {
    let usable = |m: &str| offered.iter().any(|o| o.trim() == m) && cb_data(m, cb).is_some();
    ["HT-SHA-256-EXPR", "HT-SHA-256-ENDP", "HT-SHA-256-NONE"].into_iter().find(|m| usable(m)).map(str::to_owned)
}

/// XEP-0484 §3.3: a `<token/>` in `<success/>`, for `mechanism`.
pub(super) fn issued(success: &Element, mechanism: &str) -> Option<FastToken> {
    let token = success.child("token", fns::FAST)?;
    let secret = token.attr("token")?;
    // XEP-0082 DateTime; a token without a readable expiry is not kept.
    let expires = humantime::parse_rfc3339_weak(token.attr("expiry")?.trim()).ok()?;
    Some(FastToken::new(mechanism, secret.into_owned(), expires))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(mechanism: &str) -> FastToken {
        FastToken::new(mechanism, "secret-token:fast-x", SystemTime::now() + std::time::Duration::from_secs(60))
    }

    #[test]
    fn the_initial_response_and_the_server_proof() {
        let offered = vec!["HT-SHA-256-NONE".to_owned()];
        let a = Attempt::new(&token("HT-SHA-256-NONE"), "juliet", &offered, None).unwrap();
        assert!(a.initial.starts_with(b"juliet\0"));
        assert_eq!(a.initial.len(), "juliet".len() + 1 + 32);
        let proof = hmac(b"secret-token:fast-x", b"Responder", b"").unwrap();
        assert!(a.verify(Some(&proof)));
        assert!(!a.verify(Some(b"forged")) && !a.verify(None));
    }

    #[test]
    fn channel_bound_tokens_need_their_binding() {
        let offered = vec!["HT-SHA-256-EXPR".to_owned(), "HT-SHA-256-NONE".to_owned()];
        assert!(Attempt::new(&token("HT-SHA-256-EXPR"), "juliet", &offered, None).is_none());
        let cb = (ChannelBindingType::TlsExporter, vec![7; 32]);
        assert!(Attempt::new(&token("HT-SHA-256-EXPR"), "juliet", &offered, Some(&cb)).is_some());
        assert_eq!(mechanism_to_request(&offered, Some(&cb)).as_deref(), Some("HT-SHA-256-EXPR"));
        assert_eq!(mechanism_to_request(&offered, None).as_deref(), Some("HT-SHA-256-NONE"));
        // not offered now, or expired: not used
        assert!(Attempt::new(&token("HT-SHA-256-ENDP"), "juliet", &offered, None).is_none());
        let old = FastToken::new("HT-SHA-256-NONE", "t", SystemTime::UNIX_EPOCH);
        assert!(Attempt::new(&old, "juliet", &offered, None).is_none());
    }

    #[test]
    fn a_token_in_success() {
        // XEP-0484 §3.3, Example 3 (trimmed)
        let e = Element::parse(
            "<success xmlns='urn:xmpp:sasl:2'><token xmlns='urn:xmpp:fast:0' expiry='2020-03-12T14:36:15Z' \
             token='WXZzciBwYmFmdmZnZiBqdmd1IGp2eXFhcmZm'/></success>",
        )
        .unwrap();
        let t = issued(&e, "HT-SHA-256-NONE").unwrap();
        assert_eq!(t.token, "WXZzciBwYmFmdmZnZiBqdmd1IGp2eXFhcmZm");
        assert_eq!(t.expires, SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_584_023_775));
    }
}
