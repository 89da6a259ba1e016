//! Stream negotiation, sans I/O, driven by the server side of RFC 6120 §9.1 (STARTTLS, SASL, binding) as
//! byte fixtures. The SASL side here is a scripted authenticator (the mechanisms have their own tests); what is
//! checked is the state machine: what it sends, when it upgrades and restarts, and what it refuses.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use moxl_core::stanza::StreamCondition;
use moxl_core::stream::{
    Authenticator, NegotiationConfig, NegotiationError, Negotiator, Output, Phase, ResumeFrom, Resumption, TlsPolicy,
};
use moxl_core::xml::StreamParser;
use moxl_core::{Error, Result};

/// Answers with fixed bytes and records what it was given.
struct Scripted {
    secure_seen: Option<bool>,
    challenges: Vec<Vec<u8>>,
}

impl Authenticator for Scripted {
    fn start(&mut self, offered: &[String], secure: bool, _cb: &[String]) -> Result<(String, Option<Vec<u8>>)> {
        self.secure_seen = Some(secure);
        assert!(offered.iter().any(|m| m == "SCRAM-SHA-1"));
        Ok(("SCRAM-SHA-1".into(), Some(b"n,,n=juliet,r=oMsTAAwAAAAMAAAANP0TAAAAAABPU0AA".to_vec())))
    }
    fn challenge(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        self.challenges.push(data.to_vec());
        Ok(b"c=biws,r=...,p=...".to_vec())
    }
    fn success(&mut self, data: Option<&[u8]>) -> Result<()> {
        assert_eq!(data, Some(&b"v=signature"[..]));
        Ok(())
    }
}

fn scripted() -> Box<Scripted> {
    Box::new(Scripted { secure_seen: None, challenges: Vec::new() })
}

const HEADER: &str =
    "<stream:stream from='im.example.com' id='++TR84Sm6A3hnt3Q065SnAbbk3Y=' to='juliet@im.example.com' \
    version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/// Feeds server XML and collects the negotiator's outputs.
struct Run {
    parser: StreamParser,
    negotiator: Negotiator,
    out: Vec<Output>,
}

impl Run {
    fn new(config: NegotiationConfig, auth: Box<dyn Authenticator>) -> Run {
        let (negotiator, out) = Negotiator::new(config, auth);
        Run { parser: StreamParser::new(), negotiator, out }
    }

    fn server(&mut self, xml: &str) -> Result<()> {
        self.parser.feed(xml.as_bytes());
        while let Some(event) = self.parser.next_event()? {
            let outputs = self.negotiator.handle(event)?;
            for o in &outputs {
                if *o == Output::Restart {
                    self.parser.reset();
                }
            }
            self.out.extend(outputs);
        }
        Ok(())
    }

    fn take(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }
}

fn sent(outputs: &[Output]) -> Vec<&str> {
    outputs.iter().filter_map(|o| if let Output::Send(s) = o { Some(s.as_str()) } else { None }).collect()
}

#[test]
fn starttls_sasl_bind_as_in_rfc6120_section_9_1() -> Result<()> {
    let mut config = NegotiationConfig::new("im.example.com");
    config.account = Some("juliet@im.example.com".into());
    let mut run = Run::new(config, scripted());
    let open = run.take();
    assert!(sent(&open)[0].contains("to='im.example.com'"));
    assert!(!sent(&open)[0].contains("from="), "no JID in cleartext (RFC 6120 §4.7.1)");

    // §9.1.1 Steps 2–4: STARTTLS required, proceed
    run.server(HEADER)?;
    run.server(
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>",
    )?;
    assert_eq!(sent(&run.take()), ["<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"]);
    assert_eq!(run.negotiator.phase(), Phase::Securing);
    run.server("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")?;
    assert_eq!(run.take(), [Output::StartTls]);
    let restart = run.negotiator.tls_established()?;
    assert_eq!(restart[0], Output::Restart);
    assert!(sent(&restart)[0].contains("from='juliet@im.example.com'"));
    run.parser.reset();

    // §9.1.2 Steps 6–9: SASL over the new stream
    run.server(HEADER)?;
    run.server(
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
         <mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>",
    )?;
    let auth = run.take();
    assert_eq!(
        sent(&auth),
        ["<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>biwsbj1qdWxpZXQscj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQQ==</auth>"]
    );
    assert_eq!(run.negotiator.phase(), Phase::Authenticating);
    assert_eq!(run.negotiator.mechanism(), Some("SCRAM-SHA-1"));
    run.server("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1vTXNUQUF3</challenge>")?;
    assert_eq!(
        sent(&run.take()),
        ["<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>Yz1iaXdzLHI9Li4uLHA9Li4u</response>"]
    );
    run.server("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1zaWduYXR1cmU=</success>")?;
    let after = run.take();
    assert_eq!(after[0], Output::Restart);

    // §9.1.3 Steps 10–13: bind; the server imposes its own resource
    run.server(HEADER)?;
    run.server("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>")?;
    let bind = run.take();
    let bind_xml = sent(&bind)[0].to_owned();
    assert!(bind_xml.contains("<resource>moxl-"), "{bind_xml}");
    let id = bind_xml.split("id='").nth(1).and_then(|s| s.split('\'').next()).unwrap_or_default().to_owned();
    run.server(&format!(
        "<iq id='{id}' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@im.example.com/4db06f06-1ea4</jid></bind></iq>"
    ))?;
    // XEP-0198 §3, Examples 3–4: stream management is enabled once bound
    assert_eq!(sent(&run.take()), ["<enable xmlns='urn:xmpp:sm:3' resume='true'/>"]);
    assert_eq!(run.negotiator.phase(), Phase::Binding);
    run.server("<enabled xmlns='urn:xmpp:sm:3' id='some-long-sm-id' resume='true'/>")?;
    match run.take().as_slice() {
        [Output::Online { jid, features, sm, resumption }] => {
            assert_eq!(jid.to_string(), "juliet@im.example.com/4db06f06-1ea4");
            assert_eq!(features.sm, [3]);
            assert_eq!(sm.as_ref().and_then(|s| s.id.as_deref()), Some("some-long-sm-id"));
            assert_eq!(*resumption, Resumption::NotTried);
        }
        other => panic!("not online: {other:?}"),
    }
    assert_eq!(run.negotiator.phase(), Phase::Online);
    Ok(())
}

/// Runs a SASL PLAIN login with `config` up to the post-authentication features.
fn authenticated(config: NegotiationConfig) -> Result<Run> {
    let mut run = Run::new(config, scripted());
    run.server(HEADER)?;
    run.server("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>")?;
    run.server("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")?;
    run.negotiator.tls_established()?;
    run.parser.reset();
    run.take();
    run.server(HEADER)?;
    run.server(
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>\
         </mechanisms></stream:features>",
    )?;
    run.server("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1vTXNUQUF3</challenge>")?;
    run.server("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1zaWduYXR1cmU=</success>")?;
    run.take();
    run.parser.reset();
    run.server(HEADER)?;
    Ok(run)
}

const BIND_AND_SM: &str =
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>";

#[test]
fn a_session_is_resumed_instead_of_bound() -> Result<()> {
    let mut config = NegotiationConfig::new("im.example.com");
    config.resume = Some(ResumeFrom::new("some-long-sm-id", 7, "juliet@im.example.com/balcony".parse()?));
    let mut run = authenticated(config)?;
    run.server(BIND_AND_SM)?;
    // XEP-0198 §5, Examples 9–10
    assert_eq!(sent(&run.take()), ["<resume xmlns='urn:xmpp:sm:3' previd='some-long-sm-id' h='7'/>"]);
    run.server("<resumed xmlns='urn:xmpp:sm:3' h='3' previd='some-long-sm-id'/>")?;
    match run.take().as_slice() {
        [Output::Online { jid, resumption, sm, .. }] => {
            assert_eq!(jid.to_string(), "juliet@im.example.com/balcony");
            assert_eq!(*resumption, Resumption::Resumed { h: 3 });
            assert!(sm.is_some());
        }
        other => panic!("not resumed: {other:?}"),
    }
    Ok(())
}

#[test]
fn a_failed_resumption_binds_a_fresh_session() -> Result<()> {
    let mut config = NegotiationConfig::new("im.example.com");
    config.resume = Some(ResumeFrom::new("gone", 7, "juliet@im.example.com/balcony".parse()?));
    let mut run = authenticated(config)?;
    run.server(BIND_AND_SM)?;
    run.take();
    // XEP-0198 §5, Example 11
    run.server(
        "<failed xmlns='urn:xmpp:sm:3' h='2'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
    )?;
    let bind = sent(&run.take())[0].to_owned();
    assert!(bind.contains("urn:ietf:params:xml:ns:xmpp-bind"), "{bind}");
    let id = bind.split("id='").nth(1).and_then(|s| s.split('\'').next()).unwrap_or_default().to_owned();
    run.server(&format!(
        "<iq id='{id}' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@im.example.com/new</jid></bind></iq>"
    ))?;
    assert_eq!(sent(&run.take()), ["<enable xmlns='urn:xmpp:sm:3' resume='true'/>"]);
    run.server(
        "<failed xmlns='urn:xmpp:sm:3'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
    )?;
    match run.take().as_slice() {
        [Output::Online { jid, resumption, sm, .. }] => {
            assert_eq!(jid.to_string(), "juliet@im.example.com/new");
            assert_eq!(*resumption, Resumption::Failed { h: Some(2) });
            assert!(sm.is_none(), "enable refused: no stream management");
        }
        other => panic!("not online: {other:?}"),
    }
    Ok(())
}

#[test]
fn stripped_starttls_is_refused() {
    let mut run = Run::new(NegotiationConfig::new("im.example.com"), scripted());
    run.server(HEADER).unwrap();
    let err = run
        .server("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>")
        .unwrap_err();
    assert!(matches!(err, Error::Negotiation(NegotiationError::StartTlsUnavailable)), "{err}");
}

#[test]
fn cleartext_only_when_allowed_and_the_authenticator_is_told() -> Result<()> {
    let mut config = NegotiationConfig::new("im.example.com");
    config.tls = TlsPolicy::AllowCleartext;
    let (negotiator, _) = Negotiator::new(config, scripted());
    let mut run = Run { parser: StreamParser::new(), negotiator, out: Vec::new() };
    run.server(HEADER)?;
    run.server("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>")?;
    assert!(sent(&run.take())[0].starts_with("<auth "));
    assert!(!run.negotiator.is_secure());
    Ok(())
}

#[test]
fn direct_tls_skips_starttls() -> Result<()> {
    let mut config = NegotiationConfig::new("im.example.com");
    config.tls = TlsPolicy::Direct;
    config.account = Some("juliet@im.example.com".into());
    let mut run = Run::new(config, scripted());
    assert!(sent(&run.take())[0].contains("from='juliet@im.example.com'"));
    run.server(HEADER)?;
    run.server("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>")?;
    assert!(sent(&run.take())[0].starts_with("<auth "));
    Ok(())
}

fn authenticated_run() -> Run {
    let mut config = NegotiationConfig::new("im.example.com");
    config.tls = TlsPolicy::Direct;
    config.resource = Some("balcony".into());
    let mut run = Run::new(config, scripted());
    run.server(HEADER).unwrap();
    run.server("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>").unwrap();
    run.take();
    run
}

#[test]
fn wrong_password_is_a_final_auth_failure() {
    let mut run = authenticated_run();
    // RFC 6120 §6.5.10
    let err = run
        .server("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text xml:lang='en'>Wrong password</text></failure>")
        .unwrap_err();
    match err {
        Error::Auth(moxl_core::auth::AuthError::BadCredentials(m)) => assert_eq!(m, "not-authorized: Wrong password"),
        other => panic!("{other}"),
    }
}

#[test]
fn bind_conflict_retries_once_with_a_fresh_resource() -> Result<()> {
    let mut run = authenticated_run();
    run.server("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1zaWduYXR1cmU=</success>")?;
    run.take();
    run.server(HEADER)?;
    run.server("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>")?;
    let first = sent(&run.take())[0].to_owned();
    assert!(first.contains("<resource>balcony</resource>"));
    let id = first.split("id='").nth(1).and_then(|s| s.split('\'').next()).unwrap_or_default().to_owned();
    // RFC 6120 §7.7.2.2
    run.server(&format!(
        "<iq id='{id}' type='error'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ))?;
    let second = sent(&run.take())[0].to_owned();
    assert!(second.contains("<resource>moxl-"), "{second}");
    let id2 = second.split("id='").nth(1).and_then(|s| s.split('\'').next()).unwrap_or_default().to_owned();
    let err = run
        .server(&format!(
            "<iq id='{id2}' type='error'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        ))
        .unwrap_err();
    assert!(matches!(err, Error::Stanza(_)), "{err}");
    Ok(())
}

#[test]
fn stream_errors_end_negotiation_with_their_condition() {
    let mut run = Run::new(NegotiationConfig::new("im.example.com"), scripted());
    run.server(HEADER).unwrap();
    // RFC 6120 §4.9.3.6
    let err = run
        .server("<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>")
        .unwrap_err();
    assert!(matches!(err, Error::StreamError { condition: Some(StreamCondition::HostUnknown), .. }), "{err}");
}

#[test]
fn legacy_session_when_required() -> Result<()> {
    let mut run = authenticated_run();
    run.server("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1zaWduYXR1cmU=</success>")?;
    run.take();
    run.server(HEADER)?;
    run.server("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>")?;
    let bind = sent(&run.take())[0].to_owned();
    let id = bind.split("id='").nth(1).and_then(|s| s.split('\'').next()).unwrap_or_default().to_owned();
    run.server(&format!("<iq id='{id}' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@im.example.com/balcony</jid></bind></iq>"))?;
    let session = sent(&run.take())[0].to_owned();
    assert!(session.contains("<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>"), "{session}");
    let sid = session.split("id='").nth(1).and_then(|s| s.split('\'').next()).unwrap_or_default().to_owned();
    run.server(&format!("<iq id='{sid}' type='result'/>"))?;
    assert!(matches!(run.take().as_slice(), [Output::Online { .. }]));
    Ok(())
}

/// A server that refuses our channel binding right after `<auth/>` (as ejabberd 23.01 does with `tls-exporter`):
/// the real authenticator retries once on the same stream (RFC 6120 §6.4.5) with the best mechanism without
/// binding; a second refusal is judged on the credentials. With only `-PLUS` allowed, the refusal is final and
/// reported as what it is.
#[test]
fn a_refused_channel_binding_is_retried_once_without_binding() -> Result<()> {
    use moxl_core::auth::{AuthError, ChannelBindingType, Mechanism, SaslAuthenticator, SaslConfig};
    let features = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
        <mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-256-PLUS</mechanism></mechanisms></stream:features>";
    let refusal = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/>\
        <text xml:lang='en'>Invalid channel binding</text></failure>";
    let start = |preference: Vec<Mechanism>| -> Result<Run> {
        let mut sasl = SaslConfig::password("juliet", "secret", "im.example.com");
        sasl.known_channel_bindings = vec![ChannelBindingType::TlsExporter];
        sasl.preference = preference;
        let mut config = NegotiationConfig::new("im.example.com");
        config.tls = TlsPolicy::Direct;
        let mut run = Run::new(config, Box::new(SaslAuthenticator::new(sasl)));
        run.negotiator.set_channel_binding(Some((ChannelBindingType::TlsExporter, vec![7; 32])));
        run.take(); // the stream header
        run.server(HEADER)?;
        run.server(features)?;
        Ok(run)
    };

    let mut run = start(Mechanism::DEFAULT_PREFERENCE.to_vec())?;
    assert!(sent(&run.take())[0].contains("mechanism='SCRAM-SHA-256-PLUS'"));
    run.server(refusal)?;
    let retry = run.take();
    let retry = sent(&retry);
    assert_eq!(retry.len(), 1);
    assert!(retry[0].contains("mechanism='SCRAM-SHA-256'"), "{}", retry[0]);
    assert_eq!(run.negotiator.mechanism(), Some("SCRAM-SHA-256"));
    // Only one retry: the next refusal is about the credentials.
    let err = run.server("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>").unwrap_err();
    assert!(matches!(err, Error::Auth(AuthError::BadCredentials(_))), "{err}");

    // The application allows only -PLUS: no retry, and the error names the binding.
    let mut run = start(vec![Mechanism::ScramSha256Plus])?;
    run.take();
    let err = run.server(refusal).unwrap_err();
    assert!(matches!(err, Error::Auth(AuthError::ChannelBindingRejected(_))), "{err}");
    Ok(())
}
