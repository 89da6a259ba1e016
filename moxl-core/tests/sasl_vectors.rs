//! SASL mechanisms against the published test vectors, plus mechanism choice and robustness.
//!
//! Vectors: RFC 2195 §2 (CRAM-MD5), RFC 2831 §4 (DIGEST-MD5, both examples), RFC 5802 §5 (SCRAM-SHA-1),
//! RFC 7677 §3 (SCRAM-SHA-256), XEP-0474 0.5.0 §6.3 (the `h` hash of its full example). Values marked
//! "computed" are not printed in any specification: they were computed from the inputs with Python's hashlib,
//! an independent implementation.

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use moxl_core::auth::{
    choose, choose_offer, AuthError, ChannelBindingType, Credentials, Mechanism, MechanismPin, SaslConfig, SaslSession,
    ServerOffer, TestHooks, TlsState,
};

fn hooks(nonce: &str) -> TestHooks {
    TestHooks { nonce: Some(nonce.to_owned()), ..TestHooks::default() }
}

fn start(m: Mechanism, config: &SaslConfig, offer: Option<&ServerOffer>, nonce: &str) -> SaslSession {
    SaslSession::start_with_test_hooks(m, config, offer, hooks(nonce)).unwrap()
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

// ---------------------------------------------------------------------------------------------------------
// CRAM-MD5: RFC 2195 §2

#[test]
fn cram_md5_rfc2195() {
    let config = SaslConfig::password("tim", "tanstaaftanstaaf", "postoffice.reston.mci.net");
    let mut s = SaslSession::start(Mechanism::CramMd5, &config).unwrap();
    assert_eq!(s.initial_response(), None, "CRAM-MD5 is server-first");
    // The RFC gives the challenge in base64, as IMAP sends it.
    let challenge = base64::engine::general_purpose::STANDARD
        .decode("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+")
        .unwrap();
    assert_eq!(challenge, b"<1896.697170952@postoffice.reston.mci.net>");
    let response = s.step(&challenge).unwrap();
    assert_eq!(text(&response), "tim b913a602c7eda7a495b4e6e7334d3890");
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(&response),
        "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"
    );
    assert!(s.is_finished());
    s.finish(None).unwrap();
}

#[test]
fn cram_md5_rejects_empty_challenge_and_extra_data() {
    let config = SaslConfig::password("tim", "tanstaaftanstaaf", "example.com");
    let mut s = SaslSession::start(Mechanism::CramMd5, &config).unwrap();
    assert!(matches!(s.step(b""), Err(AuthError::ServerMisbehaved(_))));

    let mut s = SaslSession::start(Mechanism::CramMd5, &config).unwrap();
    s.step(b"<1.2@example.com>").unwrap();
    assert!(matches!(s.finish(Some(b"unexpected")), Err(AuthError::ServerMisbehaved(_))));
}

// ---------------------------------------------------------------------------------------------------------
// DIGEST-MD5: RFC 2831 §4

fn digest_session(cnonce: &str, service: &str) -> SaslSession {
    let config = SaslConfig::password("chris", "secret", "elwood.innosoft.com");
    let hooks = TestHooks { nonce: Some(cnonce.to_owned()), service: Some(service.to_owned()) };
    SaslSession::start_with_test_hooks(Mechanism::DigestMd5, &config, None, hooks).unwrap()
}

const RFC2831_IMAP_CHALLENGE: &str =
    r#"realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8"#;
const RFC2831_IMAP_RESPONSE: &str = concat!(
    r#"charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,"#,
    r#"cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,"#,
    r#"qop=auth"#
);

#[test]
fn digest_md5_rfc2831_imap_rspauth_as_challenge() {
    let mut s = digest_session("OA6MHXh6VqTrRk", "imap");
    assert_eq!(s.initial_response(), None, "DIGEST-MD5 is server-first");
    let response = s.step(RFC2831_IMAP_CHALLENGE.as_bytes()).unwrap();
    assert_eq!(text(&response), RFC2831_IMAP_RESPONSE);
    // The server's second challenge, answered with an empty response (ejabberd, Cyrus).
    let ack = s.step(b"rspauth=ea40f60335c427b5527b84dbabcdfffd").unwrap();
    assert!(ack.is_empty());
    s.finish(None).unwrap();
}

#[test]
fn digest_md5_rfc2831_imap_rspauth_in_success() {
    let mut s = digest_session("OA6MHXh6VqTrRk", "imap");
    s.step(RFC2831_IMAP_CHALLENGE.as_bytes()).unwrap();
    // RFC 6120 §6.4.6: additional data with <success/>.
    s.finish(Some(b"rspauth=ea40f60335c427b5527b84dbabcdfffd")).unwrap();
}

#[test]
fn digest_md5_rfc2831_acap() {
    let mut s = digest_session("OA9BSuZWMSpW8m", "acap");
    let challenge = r#"realm="elwood.innosoft.com",nonce="OA9BSXrbuRhWay",qop="auth",algorithm=md5-sess,charset=utf-8"#;
    let response = s.step(challenge.as_bytes()).unwrap();
    assert_eq!(
        text(&response),
        concat!(
            r#"charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA9BSXrbuRhWay",nc=00000001,"#,
            r#"cnonce="OA9BSuZWMSpW8m",digest-uri="acap/elwood.innosoft.com",response=6084c6db3fede7352c551284490fd0fc,"#,
            r#"qop=auth"#
        )
    );
    assert!(s.step(b"rspauth=2f0b3d7c3c2e486600ef710726aa2eae").unwrap().is_empty());
    s.finish(None).unwrap();
}

#[test]
fn digest_md5_wrong_or_missing_rspauth_is_rejected() {
    // Wrong, as a challenge.
    let mut s = digest_session("OA6MHXh6VqTrRk", "imap");
    s.step(RFC2831_IMAP_CHALLENGE.as_bytes()).unwrap();
    assert!(matches!(s.step(b"rspauth=ea40f60335c427b5527b84dbabcdfffe"), Err(AuthError::ServerMisbehaved(_))));
    // Wrong, in <success/>.
    let mut s = digest_session("OA6MHXh6VqTrRk", "imap");
    s.step(RFC2831_IMAP_CHALLENGE.as_bytes()).unwrap();
    assert!(matches!(s.finish(Some(b"rspauth=2f0b3d7c3c2e486600ef710726aa2eae")), Err(AuthError::ServerMisbehaved(_))));
    // Missing: <success/> right after our response.
    let mut s = digest_session("OA6MHXh6VqTrRk", "imap");
    s.step(RFC2831_IMAP_CHALLENGE.as_bytes()).unwrap();
    assert!(matches!(s.finish(None), Err(AuthError::ServerMisbehaved(_))));
}

/// ejabberd 23.01 sends no realm: the domain is used, and the digest-uri is `xmpp/<domain>`. The response
/// value is computed (see the module comment).
#[test]
fn digest_md5_without_realm_uses_the_domain() {
    let config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
    let mut s = start(Mechanism::DigestMd5, &config, None, "abcdefghijklmnop");
    let challenge = r#"nonce="3780289553",qop="auth",charset=utf-8,algorithm=md5-sess"#;
    let response = s.step(challenge.as_bytes()).unwrap();
    assert_eq!(
        text(&response),
        concat!(
            r#"charset=utf-8,username="juliet",realm="capulet.lit",nonce="3780289553",nc=00000001,"#,
            r#"cnonce="abcdefghijklmnop",digest-uri="xmpp/capulet.lit",response=98feb6371a7d4684ded0034a66ddad10,"#,
            r#"qop=auth"#
        )
    );
    assert!(s.step(b"rspauth=6217c7208cc3c84ab16c0cb45b02e24d").unwrap().is_empty());
    s.finish(None).unwrap();
}

/// With an authzid, A1 ends with `":" authzid` (RFC 2831 §2.1.2.1). Computed values.
#[test]
fn digest_md5_with_authzid() {
    let mut config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
    config.authzid = Some("romeo@montague.lit".into());
    let mut s = start(Mechanism::DigestMd5, &config, None, "abcdefghijklmnop");
    // Directives in another order, with white space and a second realm: still parsed.
    let challenge = r#" qop="auth" , algorithm=md5-sess,nonce="3780289553", realm="other.lit",realm="capulet.lit" "#;
    let response = text(&s.step(challenge.as_bytes()).unwrap()).to_owned();
    assert!(response.starts_with(r#"username="juliet",realm="capulet.lit","#), "{response}");
    assert!(response.contains("response=e975225b4e7a4a25622918a8fa30416e,"), "{response}");
    assert!(response.ends_with(r#",authzid="romeo@montague.lit""#), "{response}");
    s.finish(Some(b"rspauth=164c68e8ed24308c3a5080a3a79888ff")).unwrap();
}

#[test]
fn digest_md5_malformed_challenges_are_errors() {
    for challenge in [
        &b"nonce"[..],
        b"nonce=\"unterminated",
        b"=x",
        b"realm=\"a\"",                                      // no nonce
        b"nonce=\"a\",nonce=\"b\",algorithm=md5-sess",       // two nonces
        b"nonce=\"a\"",                                      // no algorithm
        b"nonce=\"a\",algorithm=md5",                        // not md5-sess
        b"nonce=\"a\",algorithm=md5-sess,qop=\"auth-conf\"", // no qop=auth
        b"nonce=\"a\"x,algorithm=md5-sess",
        b"\xff\xfe",
    ] {
        let config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
        let mut s = SaslSession::start(Mechanism::DigestMd5, &config).unwrap();
        let r = s.step(challenge);
        assert!(
            matches!(r, Err(AuthError::ServerMisbehaved(_)) | Err(AuthError::Rejected(_))),
            "{:?} gave {r:?}",
            String::from_utf8_lossy(challenge)
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// SCRAM-SHA-1: RFC 5802 §5

const RFC5802_SERVER_FIRST: &str = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
const RFC5802_CLIENT_FINAL: &str = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
const RFC5802_SERVER_FINAL: &str = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";

fn scram_sha1_session() -> SaslSession {
    let config = SaslConfig::password("user", "pencil", "example.com");
    let s = start(Mechanism::ScramSha1, &config, None, "fyko+d2lbbFgONRv9qkxdawL");
    assert_eq!(text(&s.initial_response().unwrap()), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    s
}

#[test]
fn scram_sha1_rfc5802() {
    let mut s = scram_sha1_session();
    let client_final = s.step(RFC5802_SERVER_FIRST.as_bytes()).unwrap();
    assert_eq!(text(&client_final), RFC5802_CLIENT_FINAL);
    s.finish(Some(RFC5802_SERVER_FINAL.as_bytes())).unwrap();
    assert!(s.is_finished());
}

#[test]
fn scram_sha1_server_final_as_challenge() {
    let mut s = scram_sha1_session();
    s.step(RFC5802_SERVER_FIRST.as_bytes()).unwrap();
    assert!(s.step(RFC5802_SERVER_FINAL.as_bytes()).unwrap().is_empty());
    s.finish(None).unwrap();
}

#[test]
fn scram_sha1_wrong_or_missing_server_signature_is_rejected() {
    let mut s = scram_sha1_session();
    s.step(RFC5802_SERVER_FIRST.as_bytes()).unwrap();
    // One bit off in the last byte of the signature.
    let r = s.finish(Some(b"v=rmF9pqV8S7suAoZWja4dJRkFsKU="));
    assert!(matches!(r, Err(AuthError::ServerMisbehaved(_))), "{r:?}");

    let mut s = scram_sha1_session();
    s.step(RFC5802_SERVER_FIRST.as_bytes()).unwrap();
    let r = s.finish(None);
    assert!(matches!(r, Err(AuthError::ServerMisbehaved(_))), "{r:?}");

    let mut s = scram_sha1_session();
    s.step(RFC5802_SERVER_FIRST.as_bytes()).unwrap();
    let r = s.finish(Some(b"x=nothing"));
    assert!(matches!(r, Err(AuthError::ServerMisbehaved(_))), "{r:?}");
}

#[test]
fn scram_server_errors_are_classified() {
    let mut s = scram_sha1_session();
    s.step(RFC5802_SERVER_FIRST.as_bytes()).unwrap();
    assert!(matches!(s.finish(Some(b"e=invalid-proof")), Err(AuthError::BadCredentials(_))));

    let mut s = scram_sha1_session();
    s.step(RFC5802_SERVER_FIRST.as_bytes()).unwrap();
    assert!(matches!(s.step(b"e=server-does-support-channel-binding"), Err(AuthError::Downgrade(_))));

    // RFC 5802 §7: the channel-binding errors are not about the credentials.
    for e in ["channel-bindings-dont-match", "unsupported-channel-binding-type", "channel-binding-not-supported"] {
        let mut s = scram_sha1_session();
        s.step(RFC5802_SERVER_FIRST.as_bytes()).unwrap();
        let r = s.finish(Some(format!("e={e}").as_bytes()));
        assert!(matches!(r, Err(AuthError::ChannelBindingRejected(_))), "{e}: {r:?}");
    }
}

#[test]
fn scram_malformed_server_first_is_an_error_not_a_panic() {
    let nonce = "fyko+d2lbbFgONRv9qkxdawL";
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"r".to_vec(),
        b"r=".to_vec(),
        b",".to_vec(),
        b"=,=".to_vec(),
        format!("r={nonce}").into_bytes(),
        format!("r={nonce}x,s").into_bytes(),
        format!("r={nonce}x,s=,i=4096").into_bytes(),
        format!("r={nonce}x,s=!!!!,i=4096").into_bytes(),
        format!("r={nonce}x,s=QSXCR+Q6sek8bf92,i=0").into_bytes(),
        format!("r={nonce}x,s=QSXCR+Q6sek8bf92,i=1024").into_bytes(), // below RFC 7677 §4's 4096
        format!("r={nonce}x,s=QSXCR+Q6sek8bf92,i=4294967295").into_bytes(),
        format!("r={nonce}x,s=QSXCR+Q6sek8bf92,i=-1").into_bytes(),
        format!("r={nonce},s=QSXCR+Q6sek8bf92,i=4096").into_bytes(), // no server part
        b"r=someoneelse,s=QSXCR+Q6sek8bf92,i=4096".to_vec(),
        format!("m=ext,r={nonce}x,s=QSXCR+Q6sek8bf92,i=4096").into_bytes(),
        format!("s=QSXCR+Q6sek8bf92,r={nonce}x,i=4096").into_bytes(),
        b"r=\xff\xfe,s=QSXCR+Q6sek8bf92,i=4096".to_vec(),
    ];
    for case in cases {
        let mut s = scram_sha1_session();
        let r = s.step(&case);
        assert!(matches!(r, Err(AuthError::ServerMisbehaved(_))), "{:?} gave {r:?}", String::from_utf8_lossy(&case));
    }
    for server_final in [&b""[..], b"v", b"v=", b"v=!!!", b"=", b"\xff"] {
        let mut s = scram_sha1_session();
        s.step(RFC5802_SERVER_FIRST.as_bytes()).unwrap();
        let r = s.finish(Some(server_final));
        // An empty final message is "no data": the signature is missing.
        assert!(matches!(r, Err(AuthError::ServerMisbehaved(_))), "{server_final:?} gave {r:?}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// SCRAM-SHA-256: RFC 7677 §3

#[test]
fn scram_sha256_rfc7677() {
    let config = SaslConfig::password("user", "pencil", "example.com");
    let mut s = start(Mechanism::ScramSha256, &config, None, "rOprNGfwEbeRWgbNEkqO");
    assert_eq!(text(&s.initial_response().unwrap()), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    // The server nonce has '%', ')' and '$': nothing may be unescaped.
    let client_final =
        s.step(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").unwrap();
    assert_eq!(
        text(&client_final),
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    );
    s.finish(Some(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")).unwrap();
}

#[test]
fn scram_sha256_wrong_signature_is_rejected() {
    let config = SaslConfig::password("user", "pencil", "example.com");
    let mut s = start(Mechanism::ScramSha256, &config, None, "rOprNGfwEbeRWgbNEkqO");
    s.step(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").unwrap();
    // The SHA-1 vector's signature: right form, wrong value.
    assert!(matches!(s.finish(Some(RFC5802_SERVER_FINAL.as_bytes())), Err(AuthError::ServerMisbehaved(_))));
}

// ---------------------------------------------------------------------------------------------------------
// Channel binding and XEP-0474

/// XEP-0474 0.5.0 §6.3 (full example): SCRAM-SHA-1-PLUS with tls-exporter and the `h` attribute, the hash of
/// `SCRAM-SHA-1 \x1e SCRAM-SHA-1-PLUS \x1f tls-exporter \x1e tls-server-end-point`. The example's client adds
/// an attribute of its own (`x=`) that moxl does not send, so the proof and signature here are computed.
#[test]
fn scram_sha1_plus_with_xep0474_hash() {
    let mut config = SaslConfig::password("user", "pencil", "example.org");
    config.channel_binding = Some((ChannelBindingType::TlsExporter, b"THIS IS FAKE CB DATA".to_vec()));
    // In the order the example's server lists them; the order must not matter.
    let offer = ServerOffer::new(["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"])
        .with_channel_bindings(["tls-server-end-point", "tls-exporter"]);
    assert_eq!(choose_offer(&offer, &config, TlsState::Tls).unwrap(), Mechanism::ScramSha1Plus);

    let nonce = "12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6";
    let server_first = "r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6a09117a6-ac50-4f2f-93f1-93799c2bddf6,\
                        s=QSXCR+Q6sek8bf92,i=4096,h=G6k/rBLDqgOhRRaCuuatSDFkJ08=";
    let mut s = start(Mechanism::ScramSha1Plus, &config, Some(&offer), nonce);
    assert_eq!(text(&s.initial_response().unwrap()), "p=tls-exporter,,n=user,r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6");
    let client_final = s.step(server_first.as_bytes()).unwrap();
    // c= is the example's: base64("p=tls-exporter,," + channel-binding data).
    assert_eq!(
        text(&client_final),
        "c=cD10bHMtZXhwb3J0ZXIsLFRISVMgSVMgRkFLRSBDQiBEQVRB,\
         r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6a09117a6-ac50-4f2f-93f1-93799c2bddf6,p=NWgTsQJvWgbXKxbqd3P4BNurjkU="
    );
    s.finish(Some(b"v=EMsYR2n9LecK8qm5xR19xuvM1jw=")).unwrap();

    // A man in the middle removed SCRAM-SHA-1-PLUS and tls-exporter from what we saw: the hash the server
    // signed no longer matches.
    let tampered = ServerOffer::new(["SCRAM-SHA-1"]).with_channel_bindings(["tls-server-end-point"]);
    let mut s = start(Mechanism::ScramSha1, &config, Some(&tampered), nonce);
    assert!(matches!(s.step(server_first.as_bytes()), Err(AuthError::Downgrade(_))));
    // Same with the XEP-0440 list stripped.
    let tampered = ServerOffer::new(["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"]);
    let mut s = start(Mechanism::ScramSha1Plus, &config, Some(&tampered), nonce);
    assert!(matches!(s.step(server_first.as_bytes()), Err(AuthError::Downgrade(_))));
}

/// XEP-0474 0.3.0, as ejabberd's `xmpp` library and Prosody's `mod_sasl_ssdp` implement it: attribute `d`,
/// `,` and `|` as delimiters. On the RFC 7677 exchange, with `d` appended to the server-first-message, which
/// the signatures then cover (computed values).
#[test]
fn scram_sha256_with_legacy_xep0474_attribute() {
    let config = SaslConfig::password("user", "pencil", "example.com");
    let offer =
        ServerOffer::new(["SCRAM-SHA-256", "PLAIN", "SCRAM-SHA-1"]).with_channel_bindings(["tls-server-end-point"]);
    let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
                        d=Qt8Yo+kjDiiAnMn7OLuEXuw2F0buHvH3W4ceAu/VvQw=";
    let mut s = start(Mechanism::ScramSha256, &config, Some(&offer), "rOprNGfwEbeRWgbNEkqO");
    let client_final = s.step(server_first.as_bytes()).unwrap();
    assert_eq!(
        text(&client_final),
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=Ra5V0vAdylUcf60afygxrSa13aM9XYDFdotFxlRin/Q="
    );
    s.finish(Some(b"v=yn85ANTkgneWk/WLWFa8kOtjcJdGLMRVoB/ZYBAyzJM=")).unwrap();

    // Without the offer there is nothing to check against, but the attribute is still signed.
    let mut s = start(Mechanism::ScramSha256, &config, None, "rOprNGfwEbeRWgbNEkqO");
    s.step(server_first.as_bytes()).unwrap();
    s.finish(Some(b"v=yn85ANTkgneWk/WLWFa8kOtjcJdGLMRVoB/ZYBAyzJM=")).unwrap();

    // PLAIN hidden from us: downgrade.
    let tampered = ServerOffer::new(["SCRAM-SHA-256", "SCRAM-SHA-1"]).with_channel_bindings(["tls-server-end-point"]);
    let mut s = start(Mechanism::ScramSha256, &config, Some(&tampered), "rOprNGfwEbeRWgbNEkqO");
    assert!(matches!(s.step(server_first.as_bytes()), Err(AuthError::Downgrade(_))));
}

/// RFC 5802 §6 GS2 flags: `y` when we could bind but the server offers no -PLUS; `n` when it does and we do not
/// use it (XEP-0474 §7), or when we cannot bind.
#[test]
fn scram_gs2_channel_binding_flag() {
    let mut config = SaslConfig::password("user", "pencil", "example.com");
    let first = |config: &SaslConfig, offer: Option<&ServerOffer>| {
        text(&start(Mechanism::ScramSha1, config, offer, "abc").initial_response().unwrap()).to_owned()
    };
    assert!(first(&config, None).starts_with("n,,"));
    config.channel_binding = Some((ChannelBindingType::TlsServerEndPoint, vec![1, 2, 3]));
    assert!(first(&config, None).starts_with("y,,"));
    assert!(first(&config, Some(&ServerOffer::new(["SCRAM-SHA-1"]))).starts_with("y,,"));
    assert!(first(&config, Some(&ServerOffer::new(["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"]))).starts_with("n,,"));
    config.authzid = Some("admin,x=y@example.com".into());
    assert!(first(&config, None).starts_with("y,a=admin=2Cx=3Dy@example.com,n=user,r=abc"));
}

#[test]
fn plus_without_channel_binding_data_is_a_config_error() {
    let config = SaslConfig::password("user", "pencil", "example.com");
    assert!(matches!(SaslSession::start(Mechanism::ScramSha256Plus, &config), Err(AuthError::Config(_))));
}

// ---------------------------------------------------------------------------------------------------------
// PLAIN and ANONYMOUS (rsasl's)

#[test]
fn plain_and_anonymous() {
    let mut config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
    let mut s = SaslSession::start(Mechanism::Plain, &config).unwrap();
    assert_eq!(s.initial_response().unwrap(), b"\0juliet\0r0m30");
    s.finish(None).unwrap();

    config.authzid = Some("romeo@montague.lit".into());
    let mut s = SaslSession::start(Mechanism::Plain, &config).unwrap();
    assert_eq!(s.initial_response().unwrap(), b"romeo@montague.lit\0juliet\0r0m30");
    assert!(matches!(s.finish(Some(b"junk")), Err(AuthError::ServerMisbehaved(_))));

    let config = SaslConfig::anonymous("capulet.lit");
    let mut s = SaslSession::start(Mechanism::Anonymous, &config).unwrap();
    assert_eq!(s.initial_response().unwrap(), b"");
    s.finish(None).unwrap();

    let mut config = SaslConfig::anonymous("capulet.lit");
    config.credentials = Credentials::Anonymous { trace: Some("nurse".into()) };
    let s = SaslSession::start(Mechanism::Anonymous, &config).unwrap();
    assert_eq!(s.initial_response().unwrap(), b"nurse");

    let password = SaslConfig::password("juliet", "r0m30", "capulet.lit");
    assert!(matches!(SaslSession::start(Mechanism::Anonymous, &password), Err(AuthError::Config(_))));
    assert!(matches!(SaslSession::start(Mechanism::Plain, &config), Err(AuthError::Config(_))));
}

#[test]
fn scram_password_goes_through_saslprep() {
    // RFC 4013: U+00A0 (no-break space) maps to U+0020, U+00AD (soft hyphen) to nothing: both passwords are
    // the same after SASLprep and give the same proof.
    let nonce = "fyko+d2lbbFgONRv9qkxdawL";
    let proof = |password: &str| {
        let config = SaslConfig::password("user", password, "example.com");
        let mut s = start(Mechanism::ScramSha1, &config, None, nonce);
        s.step(RFC5802_SERVER_FIRST.as_bytes()).unwrap()
    };
    assert_eq!(proof("pen\u{ad}cil a"), proof("pencil\u{a0}a"));
    // A prohibited character (U+0007) cannot be used.
    let config = SaslConfig::password("user", "pen\u{7}cil", "example.com");
    assert!(matches!(SaslSession::start(Mechanism::ScramSha1, &config), Err(AuthError::Config(_))));
}

// ---------------------------------------------------------------------------------------------------------
// Choosing: preference, cleartext refusal, shuffled offers

const ALL: [&str; 11] = [
    "SCRAM-SHA-512-PLUS",
    "SCRAM-SHA-256-PLUS",
    "SCRAM-SHA-1-PLUS",
    "SCRAM-SHA-512",
    "SCRAM-SHA-256",
    "SCRAM-SHA-1",
    "DIGEST-MD5",
    "CRAM-MD5",
    "PLAIN",
    "ANONYMOUS",
    "X-OAUTH2",
];

/// Every rotation and the reversal of the offer: the choice never changes.
fn shuffles(offer: &[&'static str]) -> Vec<Vec<&'static str>> {
    let mut out = Vec::new();
    for i in 0..offer.len().max(1) {
        let mut v = offer.to_vec();
        v.rotate_left(i);
        out.push(v.clone());
        v.reverse();
        out.push(v);
    }
    out
}

#[test]
fn preference_order_whatever_the_offer_order() {
    let mut config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
    for offer in shuffles(&ALL) {
        assert_eq!(choose(&offer, &config, TlsState::Tls).unwrap(), Mechanism::ScramSha512, "{offer:?}");
    }
    config.channel_binding = Some((ChannelBindingType::TlsExporter, vec![7; 32]));
    for offer in shuffles(&ALL) {
        // The server lists no channel-binding type (XEP-0440): no -PLUS, whatever the TLS version.
        assert_eq!(choose(&offer, &config, TlsState::Tls).unwrap(), Mechanism::ScramSha512, "{offer:?}");
        let listed = ServerOffer::new(offer.iter().copied()).with_channel_bindings(["tls-exporter"]);
        assert_eq!(choose_offer(&listed, &config, TlsState::Tls).unwrap(), Mechanism::ScramSha512Plus, "{offer:?}");
        // No -PLUS without TLS, whatever the config says.
        assert_eq!(choose_offer(&listed, &config, TlsState::Cleartext).unwrap(), Mechanism::ScramSha512, "{offer:?}");
    }
    // Walk down the default preference by removing the best each time (the server lists our binding type).
    config.known_channel_bindings = vec![ChannelBindingType::TlsExporter];
    let expected = [
        Mechanism::ScramSha512Plus,
        Mechanism::ScramSha256Plus,
        Mechanism::ScramSha1Plus,
        Mechanism::ScramSha512,
        Mechanism::ScramSha256,
        Mechanism::ScramSha1,
        Mechanism::DigestMd5,
        Mechanism::CramMd5,
        Mechanism::Plain,
    ];
    for (i, want) in expected.iter().enumerate() {
        let offer: Vec<&str> = ALL[i..].to_vec();
        for offer in shuffles(&offer) {
            assert_eq!(choose(&offer, &config, TlsState::Tls).unwrap(), *want, "{offer:?}");
        }
    }
    // ANONYMOUS and unknown mechanisms are never chosen for a password.
    assert!(matches!(
        choose(&["ANONYMOUS", "X-OAUTH2", "GSSAPI"], &config, TlsState::Tls),
        Err(AuthError::NoAcceptableMechanism(_))
    ));
    // A configured preference wins over strength.
    config.preference = vec![Mechanism::ScramSha1, Mechanism::ScramSha256];
    assert_eq!(choose(&ALL, &config, TlsState::Tls).unwrap(), Mechanism::ScramSha1);
    config.preference = vec![Mechanism::Plain];
    assert!(choose(&["SCRAM-SHA-1"], &config, TlsState::Tls).is_err());
}

#[test]
fn offer_names_are_trimmed_and_case_forgiven() {
    let config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
    assert_eq!(choose(&["\n  plain ", " scram-sha-1\t"], &config, TlsState::Tls).unwrap(), Mechanism::ScramSha1);
}

#[test]
fn weak_mechanisms_are_refused_in_cleartext() {
    let mut config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
    for weak in ["PLAIN", "CRAM-MD5", "DIGEST-MD5"] {
        let r = choose(&[weak], &config, TlsState::Cleartext);
        assert!(matches!(r, Err(AuthError::NoAcceptableMechanism(ref m)) if m.contains(weak)), "{weak}: {r:?}");
        assert!(choose(&[weak], &config, TlsState::Tls).is_ok(), "{weak} over TLS");
    }
    for offer in shuffles(&["PLAIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1"]) {
        assert_eq!(choose(&offer, &config, TlsState::Cleartext).unwrap(), Mechanism::ScramSha1);
    }
    config.allow_plain_in_cleartext = true;
    assert_eq!(choose(&["PLAIN"], &config, TlsState::Cleartext).unwrap(), Mechanism::Plain);
    assert_eq!(choose(&["CRAM-MD5", "PLAIN"], &config, TlsState::Cleartext).unwrap(), Mechanism::CramMd5);
}

#[test]
fn anonymous_only_when_asked_for() {
    let anonymous = SaslConfig::anonymous("capulet.lit");
    for offer in shuffles(&ALL) {
        assert_eq!(choose(&offer, &anonymous, TlsState::Cleartext).unwrap(), Mechanism::Anonymous);
    }
    assert!(matches!(
        choose(&["PLAIN", "SCRAM-SHA-1"], &anonymous, TlsState::Tls),
        Err(AuthError::NoAcceptableMechanism(_))
    ));
}

/// XEP-0440: -PLUS only with a binding type the server is known to accept: listed, told by the application, or
/// pinned from an earlier login. A server listing nothing gets no -PLUS (ejabberd 23.01 would refuse
/// `tls-exporter` on TLS 1.3).
#[test]
fn plus_only_with_an_advertised_channel_binding_type() {
    let mut config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
    config.channel_binding = Some((ChannelBindingType::TlsExporter, vec![7; 32]));
    let offer = ServerOffer::new(["SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"]);
    assert_eq!(choose_offer(&offer, &config, TlsState::Tls).unwrap(), Mechanism::ScramSha1);
    let unique_only = offer.clone().with_channel_bindings(["tls-unique"]);
    assert_eq!(choose_offer(&unique_only, &config, TlsState::Tls).unwrap(), Mechanism::ScramSha1);
    let with_exporter = offer.clone().with_channel_bindings(["tls-unique", "tls-exporter"]);
    assert_eq!(choose_offer(&with_exporter, &config, TlsState::Tls).unwrap(), Mechanism::ScramSha1Plus);
    let mut told = config.clone();
    told.known_channel_bindings = vec![ChannelBindingType::TlsExporter];
    assert_eq!(choose_offer(&offer, &told, TlsState::Tls).unwrap(), Mechanism::ScramSha1Plus);
    let mut pinned = config.clone();
    pinned.pinned = Some(MechanismPin::new(Mechanism::ScramSha1Plus, Some(ChannelBindingType::TlsExporter)));
    assert_eq!(choose_offer(&offer, &pinned, TlsState::Tls).unwrap(), Mechanism::ScramSha1Plus);
    // A pin with another binding type says nothing about ours.
    pinned.pinned = Some(MechanismPin::new(Mechanism::ScramSha1Plus, Some(ChannelBindingType::TlsServerEndPoint)));
    assert!(matches!(choose_offer(&offer, &pinned, TlsState::Tls), Err(AuthError::BelowPinned(_))));
}

/// Mechanism pinning: nothing weaker than the pin unless allowed; PLAIN over TLS for an account never seen.
#[test]
fn pinned_accounts_refuse_weaker_mechanisms() {
    let mut config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
    assert_eq!(choose(&["PLAIN"], &config, TlsState::Tls).unwrap(), Mechanism::Plain);
    config.pinned = Some(MechanismPin::new(Mechanism::ScramSha256, None));
    for offer in [&["PLAIN"][..], &["SCRAM-SHA-1", "PLAIN"], &["DIGEST-MD5", "CRAM-MD5"]] {
        let r = choose(offer, &config, TlsState::Tls);
        assert!(matches!(r, Err(AuthError::BelowPinned(ref m)) if m.contains("SCRAM-SHA-256")), "{offer:?}: {r:?}");
    }
    assert_eq!(choose(&["SCRAM-SHA-256", "PLAIN"], &config, TlsState::Tls).unwrap(), Mechanism::ScramSha256);
    assert_eq!(choose(&["SCRAM-SHA-512", "PLAIN"], &config, TlsState::Tls).unwrap(), Mechanism::ScramSha512);
    config.allow_downgrade = true;
    assert_eq!(choose(&["SCRAM-SHA-1", "PLAIN"], &config, TlsState::Tls).unwrap(), Mechanism::ScramSha1);
    // Anonymous logins are never pinned.
    let mut anonymous = SaslConfig::anonymous("capulet.lit");
    anonymous.pinned = Some(MechanismPin::new(Mechanism::ScramSha256, None));
    assert_eq!(choose(&["ANONYMOUS"], &anonymous, TlsState::Tls).unwrap(), Mechanism::Anonymous);
}

/// A -PLUS attempt refused before the server saw a proof, or with a text naming the binding, is a channel-binding
/// rejection (ejabberd 23.01: `<not-authorized/>` "Invalid channel binding" right after the client-first-message);
/// after the proof, without such a text, it stays "bad credentials".
#[test]
fn a_refused_binding_is_not_bad_credentials() {
    let mut config = SaslConfig::password("juliet", "r0m30", "capulet.lit");
    config.channel_binding = Some((ChannelBindingType::TlsExporter, vec![7; 32]));
    let session = SaslSession::start(Mechanism::ScramSha512Plus, &config).unwrap();
    assert!(matches!(session.failure("not-authorized", None), AuthError::ChannelBindingRejected(_)));
    let plain = SaslSession::start(Mechanism::ScramSha512, &config).unwrap();
    assert!(matches!(plain.failure("not-authorized", None), AuthError::BadCredentials(_)));
}

#[test]
fn failure_conditions_are_classified() {
    use AuthError::*;
    assert!(matches!(AuthError::from_failure("not-authorized", Some("wrong password")), BadCredentials(_)));
    assert!(matches!(AuthError::from_failure("account-disabled", None), BadCredentials(_)));
    assert!(matches!(AuthError::from_failure("credentials-expired", None), BadCredentials(_)));
    assert!(matches!(AuthError::from_failure("temporary-auth-failure", None), TemporaryFailure(_)));
    assert!(matches!(AuthError::from_failure("mechanism-too-weak", None), Rejected(_)));
    assert!(matches!(AuthError::from_failure("something-new", None), Rejected(_)));
}
