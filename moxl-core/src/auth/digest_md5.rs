//! DIGEST-MD5 client (RFC 2831; moved to historic by RFC 6331, still offered by ejabberd and Cyrus), `qop=auth`
//! only (no security layer).
//!
//! - The realm is the first one the challenge names (the domain if it names it), else the domain: ejabberd
//!   sends no realm (RFC 2831 §2.1.2 lets the client choose).
//! - `digest-uri` is `xmpp/<domain>` (RFC 6120 §6.3.9 service name `xmpp`).
//! - The first part of A1 is the raw 16-byte MD5 of `user:realm:password`, not its hex (RFC 2831 §2.1.2.1).
//! - `rspauth` (RFC 2831 §2.1.3) is always verified, whether it comes as a second challenge (answered with an
//!   empty response) or as additional data of `<success/>` (RFC 6120 §6.4.6).

use md5::{Digest, Md5};

use super::session::{MechParams, Step};
use super::util::{ct_eq, hex, random_nonce};
use super::{AuthError, Credentials};

/// The longest challenge accepted (RFC 2831 §2.1.1 limits it to 2048 bytes).
const MAX_CHALLENGE: usize = 4096;
/// Our only request: `nc` is 1 (RFC 2831 §2.1.2).
const NC: &str = "00000001";

#[derive(Debug)]
enum State {
    AwaitChallenge,
    AwaitRspauth { expected: String },
    Done,
    Failed,
}

/// A DIGEST-MD5 client exchange, sans I/O.
pub(crate) struct DigestMd5Client {
    state: State,
    authcid: String,
    password: String,
    authzid: Option<String>,
    domain: String,
    /// `xmpp`, or another service for the RFC's IMAP and ACAP examples.
    service: String,
    cnonce: String,
}

impl std::fmt::Debug for DigestMd5Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestMd5Client").field("state", &self.state).finish_non_exhaustive()
    }
}

impl DigestMd5Client {
    pub(crate) fn new(params: &MechParams) -> Result<DigestMd5Client, AuthError> {
        let Credentials::Password { authcid, password } = &params.credentials else {
            return Err(AuthError::Config("DIGEST-MD5 needs a password".into()));
        };
        if authcid.is_empty() || password.is_empty() {
            return Err(AuthError::Config("empty username or password".into()));
        }
        if params.domain.is_empty() {
            return Err(AuthError::Config("DIGEST-MD5 needs the domain (digest-uri xmpp/<domain>)".into()));
        }
        let cnonce = match &params.hooks.nonce {
            Some(n) if !n.is_empty() && !n.contains(['"', '\\', ',']) => n.clone(),
            Some(_) => {
                return Err(AuthError::Config("test cnonce must not be empty or contain '\"', '\\', ','".into()))
            }
            None => random_nonce(),
        };
        Ok(DigestMd5Client {
            state: State::AwaitChallenge,
            authcid: authcid.clone(),
            password: password.clone(),
            authzid: params.authzid.clone().filter(|a| !a.is_empty()),
            domain: params.domain.clone(),
            service: params.hooks.service.clone().unwrap_or_else(|| "xmpp".to_owned()),
            cnonce,
        })
    }

    pub(crate) fn step(&mut self, input: Option<&[u8]>) -> Result<Step, AuthError> {
        let state = std::mem::replace(&mut self.state, State::Failed);
        let (next, step) = match (state, input) {
            (State::AwaitChallenge, Some(challenge)) if !challenge.is_empty() => self.respond(challenge)?,
            (State::AwaitChallenge, _) => {
                return Err(AuthError::ServerMisbehaved("DIGEST-MD5 needs a challenge from the server".into()))
            }
            (State::AwaitRspauth { expected }, Some(data)) if !data.is_empty() => {
                check_rspauth(&expected, data)?;
                (State::Done, Step::Finished(None))
            }
            (State::AwaitRspauth { .. }, _) => {
                return Err(AuthError::ServerMisbehaved(
                    "success without DIGEST-MD5 rspauth: the server did not prove it knows the password".into(),
                ))
            }
            (State::Done, _) => return Err(AuthError::ServerMisbehaved("data after DIGEST-MD5 ended".into())),
            (State::Failed, _) => return Err(AuthError::Internal("the DIGEST-MD5 exchange already failed".into())),
        };
        self.state = next;
        Ok(step)
    }

    /// Answers the digest-challenge (RFC 2831 §2.1.1) with a digest-response (§2.1.2).
    fn respond(&self, challenge: &[u8]) -> Result<(State, Step), AuthError> {
        if challenge.len() > MAX_CHALLENGE {
            return Err(AuthError::ServerMisbehaved(format!(
                "DIGEST-MD5 challenge of {} bytes (at most {MAX_CHALLENGE})",
                challenge.len()
            )));
        }
        let (text, utf8_input) = decode(challenge);
        let directives = parse_directives(&text)?;
        let single = |key: &'static str| -> Result<Option<&str>, AuthError> {
            let mut values = values(&directives, key);
            let first = values.next();
            if values.next().is_some() {
                return Err(AuthError::ServerMisbehaved(format!("DIGEST-MD5 challenge repeats {key}")));
            }
            Ok(first)
        };
        let nonce =
            single("nonce")?.ok_or_else(|| AuthError::ServerMisbehaved("DIGEST-MD5 challenge without nonce".into()))?;
        match single("algorithm")? {
            Some(a) if a.eq_ignore_ascii_case("md5-sess") => {}
            other => {
                return Err(AuthError::ServerMisbehaved(format!(
                    "DIGEST-MD5 challenge with algorithm {other:?}; RFC 2831 requires md5-sess"
                )))
            }
        }
        // qop-options default to "auth" (RFC 2831 §2.1.1).
        let qop_ok = single("qop")?.is_none_or(|q| q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")));
        if !qop_ok {
            return Err(AuthError::Rejected("DIGEST-MD5: the server does not offer qop=auth".into()));
        }
        let utf8 = match single("charset")? {
            Some(c) if c.eq_ignore_ascii_case("utf-8") => true,
            Some(c) => return Err(AuthError::ServerMisbehaved(format!("DIGEST-MD5 charset {c:?}"))),
            None => false,
        };
        let realm = {
            let mut realms = values(&directives, "realm");
            if realms.clone().any(|r| r == self.domain) {
                self.domain.as_str()
            } else {
                realms.next().unwrap_or(self.domain.as_str())
            }
        };
        let digest_uri = format!("{}/{}", self.service, self.domain);
        // The nonce is hashed as the bytes it arrived as.
        let nonce_bytes = if utf8_input { nonce.as_bytes().to_vec() } else { latin1(nonce).unwrap_or_default() };

        // A1 = H(user ":" realm ":" pass) ":" nonce ":" cnonce [":" authzid]   (RFC 2831 §2.1.2.1)
        let mut inner = Md5::new();
        inner.update(hash_bytes(&self.authcid, utf8)?);
        inner.update(b":");
        inner.update(hash_bytes(realm, utf8)?);
        inner.update(b":");
        inner.update(hash_bytes(&self.password, utf8)?);
        let mut a1 = Md5::new();
        a1.update(inner.finalize());
        a1.update(b":");
        a1.update(&nonce_bytes);
        a1.update(b":");
        a1.update(self.cnonce.as_bytes());
        if let Some(authzid) = &self.authzid {
            a1.update(b":");
            a1.update(authzid.as_bytes());
        }
        let ha1 = hex(&a1.finalize());
        let kd = |a2: &str| {
            let ha2 = hex(&Md5::digest(a2.as_bytes()));
            let mut h = Md5::new();
            h.update(ha1.as_bytes());
            h.update(b":");
            h.update(&nonce_bytes);
            h.update(format!(":{NC}:{}:auth:{ha2}", self.cnonce).as_bytes());
            hex(&h.finalize())
        };
        let response = kd(&format!("AUTHENTICATE:{digest_uri}"));
        let expected = kd(&format!(":{digest_uri}"));

        // Same order as the RFC 2831 §4 example.
        let mut out = Vec::new();
        if utf8 {
            out.extend_from_slice(b"charset=utf-8,");
        }
        out.extend_from_slice(b"username=");
        quoted(&mut out, &wire_bytes(&self.authcid, utf8)?);
        out.extend_from_slice(b",realm=");
        quoted(&mut out, &wire_bytes(realm, utf8)?);
        out.extend_from_slice(b",nonce=");
        quoted(&mut out, &nonce_bytes);
        out.extend_from_slice(format!(",nc={NC},cnonce=").as_bytes());
        quoted(&mut out, self.cnonce.as_bytes());
        out.extend_from_slice(b",digest-uri=");
        quoted(&mut out, &wire_bytes(&digest_uri, utf8)?);
        out.extend_from_slice(format!(",response={response},qop=auth").as_bytes());
        if let Some(authzid) = &self.authzid {
            out.extend_from_slice(b",authzid=");
            quoted(&mut out, authzid.as_bytes());
        }
        Ok((State::AwaitRspauth { expected }, Step::Continue(out)))
    }
}

/// The values of every `key` directive.
fn values<'a>(directives: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a str> + Clone + 'a {
    directives.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Checks `rspauth=<hex>` (RFC 2831 §2.1.3).
fn check_rspauth(expected: &str, data: &[u8]) -> Result<(), AuthError> {
    if data.len() > MAX_CHALLENGE {
        return Err(AuthError::ServerMisbehaved("oversized DIGEST-MD5 response-auth".into()));
    }
    let (text, _) = decode(data);
    let directives = parse_directives(&text)?;
    let got = directives
        .iter()
        .find(|(k, _)| k == "rspauth")
        .map(|(_, v)| v.to_ascii_lowercase())
        .ok_or_else(|| AuthError::ServerMisbehaved(format!("expected DIGEST-MD5 rspauth, got {text:?}")))?;
    if ct_eq(got.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::ServerMisbehaved(
            "wrong DIGEST-MD5 rspauth: the server does not know the password (or someone is in the middle)".into(),
        ))
    }
}

/// The challenge as text: UTF-8 if it is, else ISO 8859-1 (RFC 2831's default charset). Also tells which.
fn decode(bytes: &[u8]) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), true),
        Err(_) => (bytes.iter().map(|&b| char::from(b)).collect(), false),
    }
}

/// ISO 8859-1 bytes of `s`, if every character has one.
fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// How a name or password is hashed: ISO 8859-1 whenever possible, even with `charset=utf-8` (RFC 2831
/// §2.1.2.1, "response-value"); UTF-8 otherwise, which needs `charset=utf-8`.
fn hash_bytes(s: &str, utf8: bool) -> Result<Vec<u8>, AuthError> {
    match latin1(s) {
        Some(b) => Ok(b),
        None if utf8 => Ok(s.as_bytes().to_vec()),
        None => Err(AuthError::Config(
            "DIGEST-MD5: the server did not announce charset=utf-8 and a name or the password is not ISO 8859-1".into(),
        )),
    }
}

/// How a value is written on the wire: UTF-8 with `charset=utf-8`, else ISO 8859-1.
fn wire_bytes(s: &str, utf8: bool) -> Result<Vec<u8>, AuthError> {
    if utf8 {
        Ok(s.as_bytes().to_vec())
    } else {
        hash_bytes(s, false)
    }
}

/// Appends `"value"`, escaping `"` and `\` (RFC 2831 §7.2 quoted-string).
fn quoted(out: &mut Vec<u8>, value: &[u8]) {
    out.push(b'"');
    for &b in value {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Parses `key=value, key="quoted value", …` (RFC 2831 §7.1 `#rule` lists: empty elements and linear white
/// space allowed). Keys are lower-cased.
fn parse_directives(text: &str) -> Result<Vec<(String, String)>, AuthError> {
    let bad = |why: &str| AuthError::ServerMisbehaved(format!("malformed DIGEST-MD5 challenge ({why}): {text:?}"));
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
    };
    loop {
        while chars.next_if(|c| *c == ',' || c.is_ascii_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && *c != ',' && !c.is_ascii_whitespace()) {
            key.push(c);
        }
        skip_ws(&mut chars);
        if key.is_empty() || chars.next() != Some('=') {
            return Err(bad("expected key=value"));
        }
        skip_ws(&mut chars);
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.push(chars.next().ok_or_else(|| bad("dangling backslash"))?),
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => return Err(bad("unterminated quoted string")),
                }
            }
            skip_ws(&mut chars);
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                value.push(c);
            }
            value.truncate(value.trim_end().len());
        }
        if !matches!(chars.peek(), None | Some(',')) {
            return Err(bad("expected ',' after a value"));
        }
        out.push((key.to_ascii_lowercase(), value));
        if out.len() > 64 {
            return Err(bad("too many directives"));
        }
    }
    Ok(out)
}
