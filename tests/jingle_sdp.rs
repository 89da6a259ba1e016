//! The SDP ⇄ Jingle mapping (`moxl::xep::jingle_sdp`, XEP-0167 §6, XEP-0176 §5.3, XEP-0320 §1, XEP-0293 §5,
//! XEP-0294 §5, XEP-0338 §2, XEP-0339 §2) on real browser SDP (tests/fixtures/sdp, see its README) and on the
//! XEPs' own examples. No server: the mapping is sans I/O.
//!
//! "Every line that carries meaning survives" is checked as follows. Both SDPs, the browser's and the one written
//! back from Jingle (after a trip through XML text), are parsed with webrtc-sdp and compared media section by
//! media section:
//! - the `m=` media type, protocol and payload-type list (in order: it is the preference order) are equal;
//! - the `b=` lines are equal;
//! - the attributes are equal as a multiset of lines as webrtc-sdp writes them (so the order of lines and of
//!   `a=fmtp` parameters, which SDP leaves free, does not matter), after:
//!   - taking the session-level attributes that apply to every media section (ICE credentials and options,
//!     fingerprint, setup, extmap, extmap-allow-mixed) into each section, where the mapping puts them;
//!   - reading the media section's msid from both `a=msid` and `a=ssrc:… msid:` lines (XEP-0339 carries it on
//!     sources only), compared as a set;
//!   - removing an `a=candidate`'s `ufrag` extension that repeats the section's `a=ice-ufrag` (XEP-0176 carries
//!     it on the transport);
//!   - removing what the mapping reports in `JingleSdp::dropped`, which must be exactly the lines listed in the
//!     test (so nothing is lost without being reported), and the `a=rtcp` line (meaningless with `a=rtcp-mux`).
//! - the `a=group` lines are equal.
//!
//! Ignored, as carrying no meaning the peer acts on: the `o=` line's session id and version, `s=`, `t=`, and the
//! `m=` port and `c=` address (with ICE, media goes where the candidates say, RFC 8839 §4.2.1.2).

use std::collections::BTreeSet;

use moxl::xep::jingle_sdp::{candidate_from_sdp, candidates_of, JingleSdp, SdpError};
use moxl::xep::xep_0166_jingle::{Action, Jingle, Role, Senders};
use moxl::xep::xep_0167_rtp::RtpDescription;
use moxl::xep::xep_0176_ice_udp::IceUdpTransport;
use moxl::xep::xep_0320_dtls::Setup;
use moxl::xml::Element;
use webrtc_sdp::attribute_type::SdpAttribute;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/sdp/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[derive(Debug, PartialEq)]
struct Section {
    media: String,
    proto: String,
    formats: String,
    bandwidth: Vec<String>,
    attributes: Vec<String>,
    msid: BTreeSet<String>,
}

#[derive(Debug, PartialEq)]
struct Meaning {
    groups: Vec<String>,
    sections: Vec<Section>,
}

fn applies_to_media(a: &SdpAttribute) -> bool {
    matches!(
        a,
        SdpAttribute::IceUfrag(_)
            | SdpAttribute::IcePwd(_)
            | SdpAttribute::IceOptions(_)
            | SdpAttribute::Fingerprint(_)
            | SdpAttribute::Setup(_)
            | SdpAttribute::Extmap(_)
            | SdpAttribute::ExtmapAllowMixed
    )
}

/// The parameters of the media section `mid`'s `a=fmtp:<pt>` line as written, sorted.
fn raw_fmtp(sdp: &str, mid: &Option<String>, pt: u8) -> String {
    let sections: Vec<&str> = sdp.split("\nm=").skip(1).collect();
    let section = sections
        .iter()
        .find(|s| s.lines().any(|l| Some(l.trim()) == mid.as_ref().map(|m| format!("a=mid:{m}")).as_deref()))
        .expect("the section");
    let prefix = format!("a=fmtp:{pt} ");
    let line = section.lines().map(str::trim).find_map(|l| l.strip_prefix(&prefix)).expect("the fmtp line");
    let mut params: Vec<&str> = line.split(';').map(str::trim).filter(|p| !p.is_empty()).collect();
    params.sort();
    params.join(";")
}

/// The meaning of an SDP as the module docs define it, less the `dropped` lines.
fn meaning(sdp: &str, dropped: &[(Option<String>, String)]) -> Meaning {
    let session = webrtc_sdp::parse_sdp(sdp, false).expect("parses");
    let groups =
        session.attribute.iter().filter(|a| matches!(a, SdpAttribute::Group(_))).map(|a| a.to_string()).collect();
    let mut sections = Vec::new();
    for m in &session.media {
        let mid = m.get_attributes().iter().find_map(|a| match a {
            SdpAttribute::Mid(m) => Some(m.clone()),
            _ => None,
        });
        let ufrag = m
            .get_attributes()
            .iter()
            .chain(&session.attribute)
            .find_map(|a| match a {
                SdpAttribute::IceUfrag(u) => Some(u.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let mut msid = BTreeSet::new();
        let mut attributes = Vec::new();
        let mut direction = false;
        for a in session.attribute.iter().filter(|a| applies_to_media(a)).chain(m.get_attributes()) {
            match a {
                SdpAttribute::Msid(x) => {
                    msid.insert(x.to_string());
                    continue;
                }
                SdpAttribute::Ssrc(s) if s.attribute.as_deref() == Some("msid") => {
                    msid.insert(s.value.clone().unwrap_or_default());
                    continue;
                }
                SdpAttribute::Rtcp(_) => continue,
                SdpAttribute::Sendrecv | SdpAttribute::Sendonly | SdpAttribute::Recvonly | SdpAttribute::Inactive => {
                    direction = true
                }
                _ => {}
            }
            let line = match a {
                // a=fmtp as written, its parameters in any order (webrtc-sdp's own form of it is normalized)
                SdpAttribute::Fmtp(f) => format!("a=fmtp:{} {}", f.payload_type, raw_fmtp(sdp, &mid, f.payload_type)),
                _ => format!("a={a}").replace(&format!(" ufrag {ufrag}"), ""),
            };
            if dropped.iter().any(|(dmid, dline)| dmid == &mid && dline == &line) {
                continue;
            }
            attributes.push(line);
        }
        if !direction {
            attributes.push("a=sendrecv".into());
        }
        attributes.sort();
        sections.push(Section {
            media: m.get_type().to_string(),
            proto: m.get_proto().to_string(),
            formats: m.get_formats().to_string(),
            bandwidth: m.get_bandwidth().iter().map(ToString::to_string).collect(),
            attributes,
            msid,
        });
    }
    Meaning { groups, sections }
}

/// SDP → Jingle (as XML text, parsed again) → SDP, asserting the meaning is kept and that exactly `expected`
/// was reported dropped. Returns the Jingle.
fn round_trip(sdp: &str, author: Role, action: Action, expected: &[(Option<&str>, &str)]) -> Jingle {
    let mapped = JingleSdp::from_sdp(sdp, author).expect("maps");
    let got: Vec<(Option<String>, String)> = mapped.dropped.iter().map(|d| (d.mid.clone(), d.line.clone())).collect();
    let mut want: Vec<(Option<String>, String)> =
        expected.iter().map(|(m, l)| (m.map(str::to_owned), (*l).to_owned())).collect();
    let mut sorted = got.clone();
    sorted.sort();
    want.sort();
    assert_eq!(sorted, want, "the dropped lines");
    let iq =
        mapped.to_jingle(action, "a73sjjvkla37jfea").iq("juliet@capulet.lit/balcony").attr("id", "i1").build().unwrap();
    let wire = iq.to_xml();
    let received = Jingle::from_iq(&Element::parse(&wire).unwrap()).unwrap().unwrap();
    let back = JingleSdp::from_jingle(&received).unwrap().to_sdp(author).unwrap();
    let before = meaning(sdp, &got);
    let after = meaning(&back, &[]);
    assert_eq!(before.groups, after.groups);
    assert_eq!(before.sections.len(), after.sections.len());
    for (b, a) in before.sections.iter().zip(&after.sections) {
        assert_eq!(b, a, "media section {} differs; written back:\n{back}", b.media);
    }
    received
}

const CHROMIUM_DROPPED: &[(Option<&str>, &str)] = &[
    (None, "a=rtcp-xr:rcvr-rtt=all"),
    (None, "a=rtcp-xr:rcvr-rtt=all"),
    (None, "a=msid-semantic:WMS"),
    (Some("0"), "a=rtcp-rsize"),
    (Some("1"), "a=rtcp-rsize"),
];

fn dropped_with_semantic(semantic_line: &str) -> Vec<(Option<&str>, &str)> {
    CHROMIUM_DROPPED
        .iter()
        .map(|(m, l)| if l.starts_with("a=msid-semantic") { (*m, semantic_line) } else { (*m, *l) })
        .collect()
}

fn msid_semantic(sdp: &str) -> String {
    let session = webrtc_sdp::parse_sdp(sdp, false).unwrap();
    session
        .attribute
        .iter()
        .find(|a| matches!(a, SdpAttribute::MsidSemantic(_)))
        .map(|a| format!("a={a}"))
        .unwrap_or_default()
}

#[test]
fn chromium_offer_round_trips() {
    let sdp = fixture("chromium-offer.sdp");
    let semantic = msid_semantic(&sdp);
    let j = round_trip(&sdp, Role::Initiator, Action::SessionInitiate, &dropped_with_semantic(&semantic));
    // What the session-initiate carries
    assert_eq!(j.contents.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["0", "1"]);
    let audio = RtpDescription::from_content(&j.contents[0]).unwrap().unwrap();
    let video = RtpDescription::from_content(&j.contents[1]).unwrap().unwrap();
    assert_eq!((audio.media.as_str(), video.media.as_str()), ("audio", "video"));
    assert!(audio.rtcp_mux && video.rtcp_mux && audio.extmap_allow_mixed);
    let opus = &audio.payload_types[0];
    assert_eq!((opus.name.as_deref(), opus.clockrate, opus.channels), (Some("opus"), Some(48000), Some(2)));
    assert!(opus.parameters.iter().any(|p| p.name == "useinbandfec" && p.value.as_deref() == Some("1")));
    let names: BTreeSet<_> = video.payload_types.iter().filter_map(|p| p.name.as_deref()).collect();
    for codec in ["VP8", "VP9", "H264", "AV1", "rtx", "red", "ulpfec"] {
        assert!(names.contains(codec), "{codec} in {names:?}");
    }
    assert_eq!(video.ssrc_groups[0].semantics, "FID");
    assert!(video.hdrexts.iter().any(|h| h.uri == "urn:ietf:params:rtp-hdrext:sdes:mid"));
    let t = IceUdpTransport::from_content(&j.contents[0]).unwrap().unwrap();
    assert_eq!((t.fingerprints[0].hash.as_str(), t.fingerprints[0].setup), ("sha-256", Some(Setup::Actpass)));
    assert!(t.ufrag.is_some() && t.pwd.is_some());
    let groups = moxl::xep::xep_0338_grouping::Group::from_jingle(&j).unwrap();
    assert_eq!(groups, [moxl::xep::xep_0338_grouping::Group::bundle(["0", "1"])]);
}

#[test]
fn chromium_answer_round_trips() {
    let sdp = fixture("chromium-answer.sdp");
    let semantic = msid_semantic(&sdp);
    let j = round_trip(&sdp, Role::Responder, Action::SessionAccept, &dropped_with_semantic(&semantic));
    let t = IceUdpTransport::from_content(&j.contents[0]).unwrap().unwrap();
    assert_eq!(t.fingerprints[0].setup, Some(Setup::Active));
}

#[test]
fn gathered_offer_with_candidates_round_trips_and_tcp_candidates_are_reported() {
    let sdp = fixture("chromium-offer-gathered.sdp");
    let semantic = msid_semantic(&sdp);
    let tcp: Vec<String> = webrtc_sdp::parse_sdp(&sdp, false)
        .unwrap()
        .media
        .iter()
        .flat_map(|m| {
            let mid = m.get_attributes().iter().find_map(|a| match a {
                SdpAttribute::Mid(m) => Some(m.clone()),
                _ => None,
            });
            m.get_attributes()
                .iter()
                .filter(|a| matches!(a, SdpAttribute::Candidate(c) if c.transport.to_string() == "TCP"))
                .map(move |a| format!("{}|a={a}", mid.clone().unwrap_or_default()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!tcp.is_empty(), "Chromium gathered ICE-TCP candidates too");
    let mut expected = dropped_with_semantic(&semantic);
    expected.extend(tcp.iter().filter_map(|s| s.split_once('|')).map(|(m, l)| (Some(m), l)));
    let j = round_trip(&sdp, Role::Initiator, Action::SessionInitiate, &expected);
    let t = IceUdpTransport::from_content(&j.contents[0]).unwrap().unwrap();
    assert!(t.candidates.iter().all(|c| c.protocol == "udp") && !t.candidates.is_empty());
}

#[test]
fn trickled_candidates_become_transport_info_and_back() {
    let local = JingleSdp::from_sdp(&fixture("chromium-offer.sdp"), Role::Initiator).unwrap();
    let lines = fixture("chromium-offer-candidates.txt");
    let mut sent = 0;
    for line in lines.lines() {
        let (mid, candidate) = line.split_once(' ').unwrap();
        let Some(info) = local.transport_info("a73sjjvkla37jfea", mid, &[candidate]).unwrap() else {
            assert!(candidate.contains(" tcp "), "only ICE-TCP candidates are left out: {candidate}");
            continue;
        };
        sent += 1;
        // on the wire and back
        let wire = info.iq("juliet@capulet.lit/balcony").build().unwrap().to_xml();
        let received = Jingle::from_iq(&Element::parse(&wire).unwrap()).unwrap().unwrap();
        assert_eq!(received.action, Action::TransportInfo);
        let t = IceUdpTransport::from_content(&received.contents[0]).unwrap().unwrap();
        assert!(t.ufrag.is_some() && t.pwd.is_some(), "XEP-0176 §5.3: credentials with every candidate");
        let back = candidates_of(&received).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].0, mid);
        // the same candidate, as webrtc-sdp reads both
        let original = candidate_from_sdp(candidate).unwrap();
        assert_eq!(candidate_from_sdp(&back[0].1).unwrap(), original);
    }
    assert_eq!(sent, 4, "two UDP candidates for each of the two media sections");
}

#[test]
fn firefox_offer_round_trips() {
    let sdp = fixture("firefox-offer.sdp");
    let mapped = JingleSdp::from_sdp(&sdp, Role::Initiator).unwrap();
    let expected: Vec<(Option<String>, String)> =
        mapped.dropped.iter().map(|d| (d.mid.clone(), d.line.clone())).collect();
    // Firefox writes nothing the XEPs leave out but what is listed here.
    for (_, line) in &expected {
        assert!(
            line.starts_with("a=msid-semantic") || line == "a=rtcp-rsize" || line.starts_with("a=end-of-candidates"),
            "unexpected drop {line}"
        );
    }
    let expected: Vec<(Option<&str>, &str)> = expected.iter().map(|(m, l)| (m.as_deref(), l.as_str())).collect();
    let j = round_trip(&sdp, Role::Initiator, Action::SessionInitiate, &expected);
    assert!(j.contents.len() >= 2);
    let audio = RtpDescription::from_content(&j.contents[0]).unwrap().unwrap();
    assert!(audio.payload_types.iter().any(|p| p.name.as_deref() == Some("opus")));
}

#[test]
fn senders_follow_the_author() {
    let sdp =
        fixture("chromium-offer.sdp").replacen("a=sendrecv", "a=sendonly", 1).replacen("a=sendrecv", "a=recvonly", 1);
    let offer = JingleSdp::from_sdp(&sdp, Role::Initiator).unwrap();
    assert_eq!((offer.contents[0].senders, offer.contents[1].senders), (Senders::Initiator, Senders::Responder));
    let answer = JingleSdp::from_sdp(&sdp, Role::Responder).unwrap();
    assert_eq!((answer.contents[0].senders, answer.contents[1].senders), (Senders::Responder, Senders::Initiator));
    let back = answer.to_sdp(Role::Responder).unwrap();
    assert!(back.contains("a=sendonly") && back.contains("a=recvonly"));
}

// XEP-0167 §11.4 (Jingle Audio and Video via RTP, Negotiated with ICE-UDP), the session-initiate, with the
// fingerprint of XEP-0320 §1 and the extensions of XEP-0293 §4, XEP-0294 §4, XEP-0338 §2 and XEP-0339 §3 put
// into it as their own examples show them.
const XEP_INITIATE: &str = "<iq xmlns='jabber:client' from='romeo@montague.lit/orchard' id='jingle1' to='juliet@capulet.lit/balcony' type='set'>\
  <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='romeo@montague.lit/orchard' sid='a73sjjvkla37jfea'>\
    <group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'><content name='voice'/><content name='webcam'/></group>\
    <content creator='initiator' name='voice'>\
      <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>\
        <payload-type id='96' name='speex' clockrate='16000' ptime='40'><parameter name='vbr' value='on'/><parameter name='cng' value='on'/></payload-type>\
        <payload-type id='97' name='speex' clockrate='8000'/>\
        <payload-type id='18' name='G729'/>\
        <payload-type id='103' name='L16' clockrate='16000' channels='2'/>\
        <bandwidth type='AS'>128</bandwidth>\
        <rtcp-mux/>\
      </description>\
      <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'>\
        <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>\
          02:1A:CC:54:27:AB:EB:9C:53:3F:3E:4B:65:2E:7D:46:3F:54:42:CD:54:F1:7A:03:A2:7D:F9:B0:7F:46:19:B2\
        </fingerprint>\
        <candidate component='1' foundation='1' generation='0' id='el0747fg11' ip='10.0.1.1' network='1' port='8998' priority='2130706431' protocol='udp' type='host'/>\
        <candidate component='1' foundation='2' generation='0' id='y3s2b30v3r' ip='192.0.2.3' network='1' port='45664' priority='1694498815' protocol='udp' rel-addr='10.0.1.1' rel-port='8998' type='srflx'/>\
      </transport>\
    </content>\
    <content creator='initiator' name='webcam'>\
      <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>\
        <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='pli'/>\
        <payload-type id='98' name='theora' clockrate='90000'>\
          <parameter name='height' value='600'/><parameter name='width' value='800'/>\
          <parameter name='delivery-method' value='inline'/><parameter name='configuration' value='somebase16string'/>\
          <parameter name='sampling' value='YCbCr-4:2:2'/>\
          <rtcp-fb-trr-int xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' value='100'/>\
          <rtcp-fb xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0' type='nack' subtype='sli'/>\
        </payload-type>\
        <payload-type id='100' name='VP8' clockrate='90000'/>\
        <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' uri='urn:ietf:params:rtp-hdrext:toffset' id='1'/>\
        <rtp-hdrext xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0' uri='urn:ietf:params:rtp-hdrext:ntp-64' id='2' senders='responder'/>\
        <extmap-allow-mixed xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'/>\
        <ssrc-group xmlns='urn:xmpp:jingle:apps:rtp:ssma:0' semantics='FID'><source ssrc='2301230316'/><source ssrc='386328120'/></ssrc-group>\
        <source ssrc='2301230316' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><parameter name='cname' value='T5qvrIZj42v//eYQ'/></source>\
        <source ssrc='386328120' xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'><parameter name='cname' value='uEYgNtStZyTF74sM'/></source>\
      </description>\
      <transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'>\
        <fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='actpass'>02:1A:CC:54:27:AB:EB:9C:53:3F:3E:4B:65:2E:7D:46:3F:54:42:CD:54:F1:7A:03:A2:7D:F9:B0:7F:46:19:B2</fingerprint>\
      </transport>\
    </content>\
  </jingle></iq>";

#[test]
fn xep_examples_map_to_sdp() {
    let j = Jingle::from_iq(&Element::parse(XEP_INITIATE).unwrap()).unwrap().unwrap();
    let sdp = JingleSdp::from_jingle(&j).unwrap().to_sdp(Role::Initiator).unwrap();
    // webrtc-sdp reads what moxl wrote, strictly (warnings are errors)
    webrtc_sdp::parse_sdp(&sdp, true).unwrap_or_else(|e| panic!("{e}\n{sdp}"));
    for line in [
        "a=group:BUNDLE voice webcam",
        "m=audio 8998 UDP/TLS/RTP/SAVPF 96 97 18 103",
        "c=IN IP4 10.0.1.1",
        "b=AS:128",
        "a=mid:voice",
        "a=ice-ufrag:8hhy",
        "a=ice-pwd:asd88fgpdd777uzjYhagZg",
        "a=fingerprint:sha-256 02:1A:CC:54:27:AB:EB:9C:53:3F:3E:4B:65:2E:7D:46:3F:54:42:CD:54:F1:7A:03:A2:7D:F9:B0:7F:46:19:B2",
        "a=setup:actpass",
        // XEP-0167 §6
        "a=rtpmap:96 speex/16000",
        "a=ptime:40",
        "a=rtpmap:103 L16/16000/2",
        "a=rtcp-mux",
        // XEP-0176 §5.3
        "a=candidate:1 1 UDP 2130706431 10.0.1.1 8998 typ host generation 0 network-id 1",
        "a=candidate:2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998 generation 0 network-id 1",
        // XEP-0293 §5
        "m=video 9 UDP/TLS/RTP/SAVPF 98 100",
        "a=rtcp-fb:* nack pli",
        "a=rtcp-fb:98 nack sli",
        "a=rtcp-fb:98 trr-int 100",
        // XEP-0294 §5
        "a=extmap:1 urn:ietf:params:rtp-hdrext:toffset",
        "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:ntp-64",
        "a=extmap-allow-mixed",
        // XEP-0339 §3
        "a=ssrc-group:FID 2301230316 386328120",
        "a=ssrc:2301230316 cname:T5qvrIZj42v//eYQ",
        "a=ssrc:386328120 cname:uEYgNtStZyTF74sM",
    ] {
        assert!(sdp.lines().any(|l| l == line), "{line:?} missing from\n{sdp}");
    }
    // the theora parameters of XEP-0167 §6, in any order
    let fmtp = sdp.lines().find(|l| l.starts_with("a=fmtp:98 ")).unwrap();
    for p in
        ["height=600", "width=800", "delivery-method=inline", "configuration=somebase16string", "sampling=YCbCr-4:2:2"]
    {
        assert!(fmtp.contains(p), "{p} in {fmtp}");
    }
    // static payload types without rtpmap (XEP-0167 §6: "m=audio 9999 RTP/AVP 13")
    assert!(!sdp.contains("a=rtpmap:18 "));
    // and back to Jingle: the same descriptions
    let again = JingleSdp::from_sdp(&sdp, Role::Initiator).unwrap();
    assert!(again.dropped.is_empty(), "{:?}", again.dropped);
    for (a, b) in j.contents.iter().zip(&again.contents) {
        let mut before = RtpDescription::from_content(a).unwrap().unwrap();
        // G729 (static, no clock rate given) is the m= line's payload type alone, its name not in SDP
        before.payload_types.iter_mut().filter(|p| p.clockrate.is_none()).for_each(|p| p.name = None);
        // SDP has one a=ptime per media section (XEP-0167 §6 maps a payload type's ptime to it): it comes back on
        // every payload type of the section
        if let Some(ptime) = before.payload_types.iter().find_map(|p| p.ptime) {
            before.payload_types.iter_mut().for_each(|p| p.ptime = Some(ptime));
        }
        assert_eq!(before, RtpDescription::from_content(b).unwrap().unwrap());
        let (ta, tb) =
            (IceUdpTransport::from_content(a).unwrap().unwrap(), IceUdpTransport::from_content(b).unwrap().unwrap());
        let ids = |t: &IceUdpTransport| t.candidates.iter().map(|c| (c.ip.clone(), c.port, c.kind)).collect::<Vec<_>>();
        assert_eq!(ids(&ta), ids(&tb));
        assert_eq!((ta.ufrag, ta.pwd, ta.fingerprints), (tb.ufrag, tb.pwd, tb.fingerprints));
    }
}

#[test]
fn malformed_sdp_is_a_clear_error() {
    let offer = fixture("chromium-offer.sdp");
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("not SDP", "Hello, Juliet! This is not a session description at all.".into()),
        ("bad m= port", offer.replacen("m=audio 9 ", "m=audio nine ", 1)),
        ("truncated", offer.get(..offer.len() / 3).unwrap().to_owned() + "\r\nm=video"),
        ("short fingerprint", offer.replacen("a=fingerprint:sha-256 88:6D:", "a=fingerprint:sha-256 88:", 1)),
        ("payload type out of range", offer.replacen("UDP/TLS/RTP/SAVPF 111 ", "UDP/TLS/RTP/SAVPF 300 ", 1)),
        ("duplicate mid", offer.replacen("a=mid:1", "a=mid:0", 1)),
        (
            "bad candidate port",
            offer.replacen("a=mid:0", "a=mid:0\r\na=candidate:1 1 udp 2122194687 192.0.2.2 99999 typ host", 1),
        ),
    ];
    for (what, sdp) in cases {
        let err = match JingleSdp::from_sdp(&sdp, Role::Initiator) {
            Err(e) => e,
            Ok(m) => panic!("{what}: mapped to {} contents, dropped {:?}", m.contents.len(), m.dropped),
        };
        assert!(!err.to_string().is_empty(), "{what}");
        assert!(matches!(err, SdpError::Parse { .. } | SdpError::Unmappable(_)), "{what}: {err:?}");
    }
    // bad Jingle: a description without media
    let j = Jingle::from_element(
        &Element::parse(
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'><content creator='initiator' name='a'>\
             <description xmlns='urn:xmpp:jingle:apps:rtp:1'/></content></jingle>",
        )
        .unwrap(),
    )
    .unwrap();
    assert!(matches!(JingleSdp::from_jingle(&j).unwrap().to_sdp(Role::Initiator), Err(SdpError::Jingle(_))));
    // a bad candidate line
    assert!(candidate_from_sdp("candidate:x").is_err());
    assert!(candidate_from_sdp("a=mid:0").is_err());
}
