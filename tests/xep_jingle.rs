//! Calls between moxl clients through both real servers, Prosody and ejabberd, on fresh accounts: a call proposed
//! with Jingle Message Initiation (XEP-0353) to a user with two devices, taken on one while the other stops
//! ringing (it sees the carbon, XEP-0280), then the Jingle session (XEP-0166) initiated with the proposal's id from
//! a real Chromium offer (tests/fixtures/sdp, mapped by `jingle_sdp`), answered with Chromium's answer and mapped
//! back to SDP on the other side, the browser's candidates trickled (transport-info) and read back for
//! `addIceCandidate`, terminated with a reason; a stranger's session-terminate for
//! that sid refused with `<unknown-session/>`, an out-of-order request, crossing requests tie-broken (§7.2.16)
//! and crossing proposals tie-broken (XEP-0353 §4.1). External services (XEP-0215): STUN/TURN with
//! TURN REST credentials from Prosody's `mod_turn_external` and ejabberd's `mod_stun_disco`, checked against the
//! shared secret; the shared servers, which announce none, say so in their disco#info.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::{client, features_of, fresh_account, servers};
use hmac::{Hmac, Mac};
use moxl::client::Client;
use moxl::prelude::*;
use moxl::xec::EventStream;
use moxl::xep::jingle_sdp::{candidate_from_sdp, candidates_of, JingleSdp};
use moxl::xep::xep_0166_jingle::{
    self as jingle, Action, Content, Jingle, JingleError, JingleEvent, JingleRefused, Reason, ReasonCondition, Role,
    State,
};
use moxl::xep::xep_0215_external_services::{Credentials, Service, Services};
use moxl::xep::xep_0280_carbons::{Direction, Enable};
use moxl::xep::xep_0353_jmi::{self as jmi, JingleMessage, Kind, TieBreak};
use moxl_test_support::{Ejabberd, Server, TurnExternal};

/// A request sent as it is, bypassing our own session checks: what a stranger or a confused peer would send.
#[derive(Serialize, Deserialize)]
struct Raw {
    to: String,
    jingle: String,
}

#[action(group = "jingletest")]
impl Raw {
    fn request(&self) -> ElementBuilder {
        iq_set(Some(&self.to)).append(Element::parse(&self.jingle).unwrap())
    }

    async fn handle(&mut self, _ctx: &Context, _stanza: &Element) {}
}

/// Every presence, by sender (key `jingletest_presence`).
#[payload(name = "presence", ns = "jabber:client", key = "jingletest_presence")]
#[derive(Default)]
struct Presences;

impl Payload for Presences {
    async fn handle(&mut self, ctx: &Context, _element: &Element, _stanza: &Element) -> Result<()> {
        ctx.deliver();
        Ok(())
    }
}

/// Each client sends available presence and has it back (RFC 6121 §4.2.2): a message to the bare JID reaches
/// available resources only, and ejabberd copies messages (XEP-0280) only to them.
async fn available(clients: &[&Client]) -> Result<()> {
    for client in clients {
        let mut presences = client.xec().subscribe("jingletest_presence");
        client.xec().context().send(presence(None, None))?;
        let own = client.jid().to_string();
        while common::packet(&mut presences).await.from() != Some(own.as_str()) {}
    }
    Ok(())
}

async fn enable_carbons(client: &Client) -> Result<()> {
    client.xec().context().request(Enable)?.await
}

/// The next event matching `pred` (others are skipped), within 5 s.
async fn next<T: Clone + Send + Sync + 'static>(events: &mut EventStream<T>, pred: impl Fn(&T) -> bool) -> T {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("an event within 5 s")
            .expect("open");
        if pred(&e) {
            return T::clone(&e);
        }
    }
}

/// No event matching `pred` for `ms` milliseconds.
async fn none_within<T: Send + Sync + std::fmt::Debug + 'static>(
    events: &mut EventStream<T>,
    ms: u64,
    pred: impl Fn(&T) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(Some(e)) = tokio::time::timeout_at(deadline, events.recv()).await {
        assert!(!pred(&e), "unexpected event: {:?}", &*e);
    }
}

fn el(xml: &str) -> Element {
    Element::parse(xml).unwrap()
}

const RTP: &str = "urn:xmpp:jingle:apps:rtp:1";
const ICE: &str = "urn:xmpp:jingle:transports:ice-udp:1";

/// A hand-built audio content (XEP-0167 §4 with XEP-0176 credentials and no candidate yet).
fn voice(creator: Role, name: &str) -> Content {
    Content::new(creator, name)
        .with_description(el(&format!(
            "<description xmlns='{RTP}' media='audio'><payload-type id='111' name='opus' clockrate='48000' channels='2'/>\
             <payload-type id='0' name='PCMU' clockrate='8000'/></description>"
        )))
        .with_transport(el(&format!("<transport xmlns='{ICE}' ufrag='8hhy' pwd='asd88fgpdd777uzjYhagZg'/>")))
}

/// A trickled candidate for the content `name` (XEP-0176 §5.2).
fn candidate(creator: Role, name: &str, port: u16) -> Content {
    Content::new(creator, name).with_transport(el(&format!(
        "<transport xmlns='{ICE}' ufrag='8hhy' pwd='asd88fgpdd777uzjYhagZg'><candidate component='1' foundation='1' \
         generation='0' id='c{port}' ip='127.0.0.1' network='0' port='{port}' priority='2130706431' protocol='udp' type='host'/></transport>"
    )))
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/sdp/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An SDP without its `o=` line (session id and version: no meaning the peer acts on).
fn without_origin(sdp: &str) -> Vec<&str> {
    sdp.lines().filter(|l| !l.starts_with("o=")).collect()
}

fn jingle_error(e: &moxl::Error) -> Option<JingleError> {
    match e {
        moxl::Error::Stanza(e) => JingleError::from_stanza_error(e),
        _ => None,
    }
}

#[tokio::test]
async fn a_call_proposed_to_two_devices_is_taken_on_one_the_other_stops_ringing_and_the_session_runs() -> Result<()> {
    for p in servers() {
        call_on(p).await.inspect_err(|e| eprintln!("on {}: {e}", p.kind()))?;
    }
    Ok(())
}

async fn call_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user, iago_user) =
        (fresh_account(p, "juliet"), fresh_account(p, "romeo"), fresh_account(p, "iago"));
    let romeo = client(p, &romeo_user, "secret").resource("orchard").connect().await?;
    let phone = client(p, &juliet_user, "secret").resource("phone").connect().await?;
    let tablet = client(p, &juliet_user, "secret").resource("tablet").connect().await?;
    let iago = client(p, &iago_user, "secret").resource("dagger").connect().await?;
    available(&[&romeo, &phone, &tablet]).await?;
    enable_carbons(&phone).await?;
    enable_carbons(&tablet).await?;
    let (mut romeo_jmi, mut phone_jmi, mut tablet_jmi) = (
        romeo.xec().events::<JingleMessage>(),
        phone.xec().events::<JingleMessage>(),
        tablet.xec().events::<JingleMessage>(),
    );
    let (mut romeo_jingle, mut phone_jingle, mut tablet_jingle) = (
        romeo.xec().events::<JingleEvent>(),
        phone.xec().events::<JingleEvent>(),
        tablet.xec().events::<JingleEvent>(),
    );
    let (romeo_jid, phone_jid) = (romeo.jid().to_string(), phone.jid().to_string());
    let juliet_bare = phone.jid().to_bare().to_string();

    // Romeo proposes an audio call to Juliet's bare JID: both her devices ring (§3.1, §3.2).
    let audio = el(&format!("<description xmlns='{RTP}' media='audio'/>"));
    let id = jmi::send_propose(&romeo.xec().context(), &juliet_bare, &[audio])?;
    let mut proposals = Vec::new();
    for (device, events) in [(&phone, &mut phone_jmi), (&tablet, &mut tablet_jmi)] {
        let proposal = next(events, |m| m.kind == Kind::Propose).await;
        assert_eq!(
            (proposal.id.as_str(), proposal.copy, proposal.media()),
            (id.as_str(), None, vec!["audio".to_owned()])
        );
        assert_eq!(proposal.from.as_deref(), Some(romeo_jid.as_str()));
        assert!(!proposal.stops_ringing());
        jmi::send_ringing(&device.xec().context(), &proposal)?;
        proposals.push(proposal);
    }
    let mut ringing = Vec::new();
    for _ in 0..2 {
        let r = next(&mut romeo_jmi, |m| m.kind == Kind::Ringing).await;
        assert_eq!(r.id, id);
        ringing.push(r.from.clone().unwrap());
    }
    ringing.sort();
    assert_eq!(ringing, [phone_jid.clone(), tablet.jid().to_string()]);
    // Each device sees the other's ringing as a sent carbon: a device rings, the call is not taken.
    let copy = next(&mut tablet_jmi, |m| m.kind == Kind::Ringing).await;
    assert_eq!((copy.copy, copy.from.as_deref()), (Some(Direction::Sent), Some(phone_jid.as_str())));
    assert!(!copy.stops_ringing());

    // Juliet takes the call on her phone (§3.4): the tablet sees the phone's proceed as a sent carbon and stops.
    let proposal = &proposals[0];
    jmi::send_proceed(&phone.xec().context(), proposal)?;
    let stop = next(&mut tablet_jmi, |m| m.kind == Kind::Proceed).await;
    assert_eq!(
        (stop.copy, stop.id.as_str(), stop.from.as_deref()),
        (Some(Direction::Sent), id.as_str(), Some(phone_jid.as_str()))
    );
    assert!(stop.stops_ringing(), "another device took the call");
    let proceed = next(&mut romeo_jmi, |m| m.kind == Kind::Proceed).await;
    assert_eq!((proceed.copy, proceed.from.as_deref()), (None, Some(phone_jid.as_str())));

    // Romeo initiates the Jingle session with the proposal's id, to the device that proceeded (XEP-0353 §3.6):
    // the offer is Chromium's (audio and video, BUNDLE, rtcp-mux, several codecs), mapped to Jingle contents.
    let local = JingleSdp::from_sdp(&fixture("chromium-offer.sdp"), Role::Initiator).unwrap();
    let initiate = local.to_jingle(Action::SessionInitiate, &id);
    let acked = jingle::send(&romeo.xec().context(), &phone_jid, initiate.clone())?.await?;
    assert_eq!((acked.action, acked.state), (Action::SessionInitiate, State::Pending));
    let offer = next(&mut phone_jingle, |e| e.action == Action::SessionInitiate).await;
    assert_eq!(
        (offer.sid.as_str(), offer.peer.as_str(), offer.role),
        (id.as_str(), romeo_jid.as_str(), Role::Responder)
    );
    assert_eq!((offer.application(), offer.contents.len()), (Some(RTP), 2));
    // Juliet's side maps it back to the SDP for setRemoteDescription: what the mapping gives without a server.
    let remote_offer = JingleSdp::from_jingle(&offer.jingle()).unwrap().to_sdp(Role::Initiator).unwrap();
    let expected = JingleSdp::from_jingle(&initiate).unwrap().to_sdp(Role::Initiator).unwrap();
    assert_eq!(without_origin(&remote_offer), without_origin(&expected));
    for line in ["a=group:BUNDLE 0 1", "a=rtpmap:111 opus/48000/2", "a=rtpmap:96 VP8/90000", "a=rtcp-mux", "a=mid:1"] {
        assert!(remote_offer.lines().any(|l| l == line), "{line} in\n{remote_offer}");
    }
    let fingerprint =
        fixture("chromium-offer.sdp").lines().find(|l| l.starts_with("a=fingerprint:")).unwrap().to_owned();
    assert!(remote_offer.lines().any(|l| l == fingerprint), "{fingerprint}");

    // A stranger's session-terminate for that sid is refused with unknown-session (§6.7), and changes nothing.
    let mut refused = phone.xec().events::<JingleRefused>();
    let forged = Jingle::new(Action::SessionTerminate, &id).with_reason(Reason::new(ReasonCondition::Success));
    let forged = Raw { to: phone_jid.clone(), jingle: forged.to_builder().build()?.to_xml() };
    let error = iago.xec().context().request(forged)?.await.unwrap_err();
    assert_eq!(jingle_error(&error), Some(JingleError::UnknownSession), "{error}");
    let r = next(&mut refused, |_| true).await;
    assert_eq!(
        (r.from.as_str(), r.sid.as_str(), r.error),
        (iago.jid().to_string().as_str(), id.as_str(), JingleError::UnknownSession)
    );
    assert_eq!(jingle::session(&phone.xec().context(), &romeo_jid, &id).unwrap().state(), State::Pending);
    // The initiator cannot accept its own session: out of order (§10).
    let wrong = Jingle::new(Action::SessionAccept, &id).with_contents(vec![voice(Role::Initiator, "voice")]);
    let wrong = Raw { to: phone_jid.clone(), jingle: wrong.to_builder().build()?.to_xml() };
    let error = romeo.xec().context().request(wrong)?.await.unwrap_err();
    assert_eq!(jingle_error(&error), Some(JingleError::OutOfOrder), "{error}");

    // Juliet answers with Chromium's answer; Romeo maps the session-accept back to SDP (setRemoteDescription).
    let answer = JingleSdp::from_sdp(&fixture("chromium-answer.sdp"), Role::Responder).unwrap();
    let accept = answer.to_jingle(Action::SessionAccept, &id);
    let acked = jingle::send(&phone.xec().context(), &romeo_jid, accept.clone())?.await?;
    assert_eq!(acked.state, State::Active);
    let accepted = next(&mut romeo_jingle, |e| e.action == Action::SessionAccept).await;
    assert_eq!(
        (accepted.state, accepted.role, accepted.peer.as_str()),
        (State::Active, Role::Initiator, phone_jid.as_str())
    );
    let remote_answer = JingleSdp::from_jingle(&accepted.jingle()).unwrap().to_sdp(Role::Responder).unwrap();
    let expected = JingleSdp::from_jingle(&accept).unwrap().to_sdp(Role::Responder).unwrap();
    assert_eq!(without_origin(&remote_answer), without_origin(&expected));
    assert!(remote_answer.lines().any(|l| l == "a=group:BUNDLE 0 1"));
    let setup = fixture("chromium-answer.sdp").lines().find(|l| l.starts_with("a=setup:")).unwrap().to_owned();
    assert!(remote_answer.lines().any(|l| l == setup), "{setup}");

    // Romeo's browser trickles its candidates (transport-info, XEP-0176 §5.2); Juliet's side reads them back for
    // addIceCandidate.
    let mut trickled = 0;
    for line in fixture("chromium-offer-candidates.txt").lines() {
        let (mid, candidate) = line.split_once(' ').unwrap();
        let Some(info) = local.transport_info(&id, mid, &[candidate]).unwrap() else { continue }; // ICE-TCP
        jingle::send(&romeo.xec().context(), &phone_jid, info)?.await?;
        let got = next(&mut phone_jingle, |e| e.action == Action::TransportInfo).await;
        let back = candidates_of(&got.jingle()).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].0, mid);
        assert_eq!(candidate_from_sdp(&back[0].1).unwrap(), candidate_from_sdp(candidate).unwrap());
        trickled += 1;
    }
    assert_eq!(trickled, 4, "the UDP candidates of both media sections");
    let theirs = fixture("chromium-answer-candidates.txt");
    let (mid, line) = theirs.lines().next().unwrap().split_once(' ').unwrap();
    let info = answer.transport_info(&id, mid, &[line]).unwrap().unwrap();
    jingle::send(&phone.xec().context(), &romeo_jid, info)?.await?;
    let got = next(&mut romeo_jingle, |e| e.action == Action::TransportInfo).await;
    assert_eq!(candidates_of(&got.jingle()).unwrap()[0].0, mid);
    // A content Juliet's session does not have is a bad request, refused before it is sent.
    let stray =
        jingle::transport_info(&phone.xec().context(), &romeo_jid, &id, vec![candidate(Role::Initiator, "video", 1)]);
    assert!(matches!(stray, Err(moxl::Error::Stanza(_))));

    // Romeo hangs up with a reason; both finish (§3.7). The session is gone on both sides.
    let bye = Reason::new(ReasonCondition::Success).with_text("Good night");
    let acked = jingle::terminate(&romeo.xec().context(), &phone_jid, &id, bye.clone())?.await?;
    assert_eq!(acked.state, State::Ended);
    let ended = next(&mut phone_jingle, |e| e.action == Action::SessionTerminate).await;
    assert_eq!((ended.state, ended.reason.clone(), ended.role), (State::Ended, Some(bye), Role::Responder));
    assert!(jingle::sessions(&phone.xec().context()).is_empty() && jingle::sessions(&romeo.xec().context()).is_empty());
    jmi::send_finish(&romeo.xec().context(), &juliet_bare, &id, None)?;
    let finish = next(&mut tablet_jmi, |m| m.kind == Kind::Finish).await;
    assert!(finish.stops_ringing() && finish.reason.as_ref().unwrap().condition == ReasonCondition::Success);
    // A late request on the ended sid is unknown.
    let late =
        Raw { to: phone_jid.clone(), jingle: Jingle::new(Action::SessionInfo, &id).to_builder().build()?.to_xml() };
    assert_eq!(
        jingle_error(&romeo.xec().context().request(late)?.await.unwrap_err()),
        Some(JingleError::UnknownSession)
    );
    // The tablet never saw a Jingle request.
    none_within(&mut tablet_jingle, 200, |_| true).await;
    for c in [romeo, phone, tablet, iago] {
        c.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn crossing_requests_and_proposals_are_tie_broken() -> Result<()> {
    for p in servers() {
        crossing_on(p).await.inspect_err(|e| eprintln!("on {}: {e}", p.kind()))?;
    }
    Ok(())
}

async fn crossing_on(p: &Server) -> Result<()> {
    let (juliet_user, romeo_user) = (fresh_account(p, "juliet"), fresh_account(p, "romeo"));
    let romeo = client(p, &romeo_user, "secret").resource("orchard").connect().await?;
    let juliet = client(p, &juliet_user, "secret").resource("balcony").connect().await?;
    available(&[&romeo, &juliet]).await?;
    let (romeo_jid, juliet_jid) = (romeo.jid().to_string(), juliet.jid().to_string());
    let (rctx, jctx) = (romeo.xec().context(), juliet.xec().context());
    let (mut romeo_jingle, mut juliet_jingle) =
        (romeo.xec().events::<JingleEvent>(), juliet.xec().events::<JingleEvent>());

    // Crossing session-initiates (§7.2.16, no session yet): the lower sid wins.
    let (low, high) = ("a73sjjvkla37jfea", "b84tkkwlmb48kgfb");
    let ours = jingle::initiate(&rctx, &juliet_jid, low, vec![voice(Role::Initiator, "voice")])?;
    let theirs = jingle::initiate(&jctx, &romeo_jid, high, vec![voice(Role::Initiator, "voice")])?;
    let (ours, theirs) = tokio::join!(ours, theirs);
    ours?;
    assert_eq!(jingle_error(&theirs.unwrap_err()), Some(JingleError::TieBreak));
    let took = next(&mut juliet_jingle, |e| e.action == Action::SessionInitiate).await;
    assert_eq!((took.sid.as_str(), took.overruled.clone()), (low, Some((high.to_owned(), Action::SessionInitiate))));
    assert_eq!(jingle::sessions(&jctx).iter().map(|s| s.sid().to_owned()).collect::<Vec<_>>(), [low]);
    jingle::accept(&jctx, &romeo_jid, low, vec![voice(Role::Initiator, "voice")])?.await?;
    next(&mut romeo_jingle, |e| e.action == Action::SessionAccept).await;

    // Crossing content-adds in the active session: the initiator's wins, the responder's gets <tie-break/>.
    let add = |creator| Jingle::new(Action::ContentAdd, low).with_contents(vec![voice(creator, "video")]);
    let ours = jingle::send(&rctx, &juliet_jid, add(Role::Initiator))?;
    let theirs = jingle::send(&jctx, &romeo_jid, add(Role::Responder))?;
    let (ours, theirs) = tokio::join!(ours, theirs);
    ours?;
    assert_eq!(jingle_error(&theirs.unwrap_err()), Some(JingleError::TieBreak));
    let e = next(&mut juliet_jingle, |e| e.action == Action::ContentAdd).await;
    assert_eq!(e.overruled, Some((low.to_owned(), Action::ContentAdd)));
    // the initiator's content is the one pending on both sides: Juliet accepts it
    jingle::send(
        &jctx,
        &romeo_jid,
        Jingle::new(Action::ContentAccept, low).with_contents(vec![voice(Role::Initiator, "video")]),
    )?
    .await?;
    next(&mut romeo_jingle, |e| e.action == Action::ContentAccept).await;
    for (ctx, peer) in [(&rctx, &juliet_jid), (&jctx, &romeo_jid)] {
        assert_eq!(jingle::session(ctx, peer, low).unwrap().contents().len(), 2);
    }
    jingle::terminate(&jctx, &romeo_jid, low, Reason::new(ReasonCondition::Success))?.await?;

    // Crossing proposals (XEP-0353 §4.1): both send a propose; the lower id wins on both sides.
    let (mut romeo_jmi, mut juliet_jmi) =
        (romeo.xec().events::<JingleMessage>(), juliet.xec().events::<JingleMessage>());
    let audio = el(&format!("<description xmlns='{RTP}' media='audio'/>"));
    let romeo_id = jmi::send_propose(&rctx, &juliet.jid().to_bare().to_string(), std::slice::from_ref(&audio))?;
    let juliet_id = jmi::send_propose(&jctx, &romeo.jid().to_bare().to_string(), &[audio])?;
    let (winner, loser) = if romeo_id < juliet_id { (&romeo_id, &juliet_id) } else { (&juliet_id, &romeo_id) };
    let at_romeo = next(&mut romeo_jmi, |m| m.kind == Kind::Propose).await;
    let at_juliet = next(&mut juliet_jmi, |m| m.kind == Kind::Propose).await;
    let (won_at, lost_at) = if romeo_id < juliet_id { (&at_juliet, &at_romeo) } else { (&at_romeo, &at_juliet) };
    // whoever received the lower id retracted its own and rings; the other rejected the higher id
    assert_eq!(won_at.crossed, Some(TieBreak::TheirsWins { retracted: loser.clone() }));
    assert_eq!(lost_at.crossed, Some(TieBreak::OursWins { ours: winner.clone() }));
    assert!(won_at.crossed.as_ref().unwrap().ring() && !lost_at.crossed.as_ref().unwrap().ring());
    // and the tie-break messages arrive: a reject and a retract of the higher id, both with <tie-break/>
    let (winner_events, loser_events) =
        if romeo_id < juliet_id { (&mut romeo_jmi, &mut juliet_jmi) } else { (&mut juliet_jmi, &mut romeo_jmi) };
    let rejected = next(loser_events, |m| m.kind == Kind::Reject).await;
    assert_eq!((rejected.id.as_str(), rejected.tie_break), (loser.as_str(), true));
    assert_eq!(rejected.reason.as_ref().unwrap().condition, ReasonCondition::Expired);
    let retracted = next(winner_events, |m| m.kind == Kind::Retract).await;
    assert_eq!((retracted.id.as_str(), retracted.tie_break), (loser.as_str(), true));
    romeo.close().await;
    juliet.close().await;
    Ok(())
}

type HmacSha1 = Hmac<sha1::Sha1>;

/// The dateTime (XEP-0082) of a Unix time, UTC (days to civil date: H. Hinnant's algorithm).
fn datetime(unix: u64) -> String {
    let (days, secs) = ((unix / 86400) as i64, unix % 86400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// TURN REST credentials (draft-uberti-behave-turn-rest-00 §2.2): the username is the expiry in Unix seconds
/// (ejabberd adds `:` and a hash of the user and host), the password base64(HMAC-SHA1(secret, username)); the expiry
/// is `ttl` from now and matches `expires`.
fn assert_turn_rest(s: &Service, secret: &str, ttl: u64) {
    let username = s.username.as_deref().expect("a username");
    let expiry = s.turn_rest_expiry().expect("the username starts with the expiry");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(expiry > now + ttl - 60 && expiry <= now + ttl + 1, "expiry {expiry} is {ttl} s from {now}");
    // XEP-0082 dateTime, with or without fractions of a second
    let expires = s.expires.as_deref().expect("an expiry");
    assert_eq!(expires.get(..19), datetime(expiry).get(..19), "expires ({expires}) is the username's time");
    let mut mac = HmacSha1::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(s.password.as_deref(), Some(expected.as_str()), "the password is HMAC-SHA1(secret, username)");
    let mut wrong = HmacSha1::new_from_slice(b"another secret").unwrap();
    wrong.update(username.as_bytes());
    assert_ne!(
        s.password.as_deref(),
        Some(base64::engine::general_purpose::STANDARD.encode(wrong.finalize().into_bytes()).as_str())
    );
    assert!(s.restricted);
}

#[tokio::test]
async fn both_servers_announce_stun_and_turn_with_time_limited_credentials() -> Result<()> {
    let turn = TurnExternal {
        host: "turn.localhost".into(),
        port: 3478,
        secret: "correct horse battery staple".into(),
        ttl: 3600,
        tcp: true,
    };
    // Prosody 0.12's mod_turn_external, and ejabberd 23.01's mod_stun_disco, with the same TURN server.
    let prosody = common::accounts().turn_external(turn.clone()).start().expect("Prosody starts");
    let ejabberd =
        Ejabberd::builder().account("juliet", "secret").stun_disco(turn.clone()).start().expect("ejabberd starts");
    for server in [Server::Prosody(prosody), Server::Ejabberd(ejabberd)] {
        turn_on(&server, &turn).await.inspect_err(|e| eprintln!("on {}: {e}", server.kind()))?;
    }
    Ok(())
}

async fn turn_on(server: &Server, turn: &TurnExternal) -> Result<()> {
    let juliet = client(server, "juliet", "secret").connect().await?;
    let domain = server.domain().to_owned();
    assert!(features_of(&juliet, &domain).await.iter().any(|f| f == "urn:xmpp:extdisco:2"));

    let ctx = juliet.xec().context();
    let mut all = ctx.request(Services::all(&domain))?.await?;
    all.sort_by(|a, b| (&a.kind, &a.transport).cmp(&(&b.kind, &b.transport)));
    let kinds: Vec<(&str, Option<&str>)> = all.iter().map(|s| (s.kind.as_str(), s.transport.as_deref())).collect();
    assert_eq!(kinds, [("stun", Some("tcp")), ("stun", Some("udp")), ("turn", Some("tcp")), ("turn", Some("udp"))]);
    for s in &all {
        assert_eq!((s.host.as_str(), s.port), (turn.host.as_str(), Some(turn.port)));
        if s.kind == "turn" {
            assert_turn_rest(s, &turn.secret, u64::from(turn.ttl));
        } else {
            assert!(!s.restricted && s.username.is_none() && s.password.is_none(), "STUN needs no credentials");
        }
    }
    let only_turn = ctx.request(Services::of_type(&domain, "turn"))?.await?;
    assert!(only_turn.len() == 2 && only_turn.iter().all(|s| s.kind == "turn"), "{only_turn:?}");
    // Credentials for a known service (§3.3).
    let creds = ctx.request(Credentials::new(&domain, &only_turn[0]))?.await?;
    assert!(!creds.is_empty() && creds.iter().all(|s| s.kind == "turn" && s.host == turn.host), "{creds:?}");
    for s in &creds {
        assert_turn_rest(s, &turn.secret, u64::from(turn.ttl));
    }
    // A service the server does not know has no credentials (an empty list, or an error).
    match ctx.request(Credentials::of(&domain, "turn", "elsewhere.example", None))?.await {
        Ok(none) => assert!(none.is_empty(), "{none:?}"),
        Err(e) => assert!(matches!(e, moxl::Error::Stanza(_)), "{e}"),
    }
    juliet.close().await;
    Ok(())
}

#[tokio::test]
async fn the_shared_servers_announce_no_external_services_and_say_so() -> Result<()> {
    for p in servers() {
        let user = fresh_account(p, "juliet");
        let juliet = client(p, &user, "secret").connect().await?;
        let features = features_of(&juliet, p.domain()).await;
        assert!(!features.iter().any(|f| f.starts_with("urn:xmpp:extdisco:")), "{}: {features:?}", p.kind());
        let error = juliet.xec().context().request(Services::all(p.domain()))?.await.unwrap_err();
        assert!(matches!(error, moxl::Error::Stanza(_)), "{}: {error}", p.kind());
        juliet.close().await;
    }
    Ok(())
}
