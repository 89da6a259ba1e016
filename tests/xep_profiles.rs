//! Profiles and user data through a real Prosody: vcard-temp (XEP-0054) on Prosody's plain storage and on its
//! default vCard4-backed one, vCard4 (XEP-0292), avatars (XEP-0084 with the XEP-0153 hash in presence),
//! bookmarks (XEP-0402, migration from XEP-0048), and a user tune (XEP-0118).

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{accounts, builder, packet, server};
use moxl::client::Client;
use moxl::prelude::*;
use moxl::xec::{Event, EventStream, PacketStream};
use moxl::xep::xep_0048_bookmarks::{self as legacy, Conference, NodeSubscription, Storage, UrlBookmark};
use moxl::xep::xep_0054_vcard_temp::{
    self as vcard, Address, Email, Geo, Key, Label, Media, Name, Org, Sound, Tel, VCard,
};
use moxl::xep::xep_0060_pubsub::Subscribe;
use moxl::xep::xep_0080_geoloc::UserData;
use moxl::xep::xep_0084_avatar::{self as avatar, AvatarImage, AvatarInfo, Metadata};
use moxl::xep::xep_0118_tune::{self as tune, Tune};
use moxl::xep::xep_0153_vcard_avatar::{AvatarUpdate, PhotoUpdate};
use moxl::xep::xep_0199_ping::RoundTrip;
use moxl::xep::xep_0292_vcard4::{self as vcard4, Typed, VCard4};
use moxl::xep::xep_0402_bookmarks2::{self as bookmarks2, Bookmark, BookmarkChange, Migrate};
use moxl_test_support::ServerKind;

/// A disco#info question to this client (key `discoinfoasked`), beside moxl-xep's answer to it.
#[payload(name = "query", ns = "http://jabber.org/protocol/disco#info")]
#[derive(Default)]
struct DiscoInfoAsked;

impl Payload for DiscoInfoAsked {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        if stanza.attr("type").as_deref() == Some("get") {
            ctx.deliver();
        }
        Ok(())
    }
}

/// A ping of the client's server, answered: everything the client sent before has been handled.
async fn round_trip(client: &Client) {
    let mut pongs = client.xec().subscribe("ping_roundtrip_handle");
    client.xec().context().request(RoundTrip::new(client.jid().domain().to_string())).unwrap();
    packet(&mut pongs).await;
}

/// A PNG of 40×40 pixels, 4908 bytes.
const AVATAR_PNG: &[u8] = include_bytes!("fixtures/avatar.png");

/// Every presence, delivered as (type, sender) (key `presenceseen`), to wait for subscriptions.
#[payload(name = "presence", ns = "jabber:client")]
#[derive(Default)]
struct PresenceSeen;

impl Payload for PresenceSeen {
    async fn handle(&mut self, ctx: &Context, _element: &Element, stanza: &Element) -> Result<()> {
        let kind = stanza.attr("type").map(|t| t.into_owned()).unwrap_or_default();
        let from = stanza.attr("from").map(|f| f.into_owned()).unwrap_or_default();
        ctx.pack((kind, from)).deliver();
        Ok(())
    }
}

/// The first Packet on `stream` (within 5 s each) for which `pick` gives something.
async fn until<T>(stream: &mut PacketStream, mut pick: impl FnMut(&moxl::xec::Packet) -> Option<T>) -> T {
    loop {
        if let Some(t) = pick(&packet(stream).await) {
            return t;
        }
    }
}

/// Both become available, then Romeo subscribes to Juliet's presence and she approves (RFC 6121 §3.1: the
/// request reaches only available resources).
async fn romeo_follows_juliet(juliet: &Client, romeo: &Client) -> Result<()> {
    let (juliet_jid, romeo_jid) = (juliet.jid().to_bare().to_string(), romeo.jid().to_bare().to_string());
    let mut at_juliet = juliet.xec().subscribe("presenceseen");
    let mut at_romeo = romeo.xec().subscribe("presenceseen");
    juliet.xec().context().send(presence(None, None))?;
    romeo.xec().context().send(presence(None, None))?;
    romeo.xec().context().send(presence(Some(&juliet_jid), Some("subscribe")))?;
    until(&mut at_juliet, |p| {
        (p.content::<(String, String)>()? == &("subscribe".into(), romeo_jid.clone())).then_some(())
    })
    .await;
    juliet.xec().context().send(presence(Some(&romeo_jid), Some("subscribed")))?;
    // approved: her server sends him her current presence (Prosody sends no `subscribed` to his resources)
    let from_juliet = format!("{juliet_jid}/");
    until(&mut at_romeo, |p| {
        let (kind, from) = p.content::<(String, String)>()?;
        (kind.is_empty() && from.starts_with(&from_juliet)).then_some(())
    })
    .await;
    Ok(())
}

/// Prosody with `mod_vcard` (vcard-temp stored as sent) instead of the default `mod_vcard_legacy`
/// (vcard-temp converted to and from vCard4 in PEP). The extra lines open the section of the main host, whose
/// module lists Prosody adds to (and removes from) the global ones; the generated `VirtualHost` line that follows
/// them continues the same section.
fn plain_vcard_server() -> moxl_test_support::Prosody {
    accounts()
        .extra_config(
            "VirtualHost \"localhost\"\n    modules_enabled = { \"vcard\" }\n    modules_disabled = { \"vcard_legacy\", \"vcard4\" }",
        )
        .start()
        .expect("Prosody starts")
}

/// A vCard with every field of the DTD that moxl reads, and Movim's two extensions.
fn full_vcard(jid: &str) -> VCard {
    let mut v = VCard::default();
    v.full_name = Some("Juliet Capulet".into());
    let mut n = Name::default();
    n.family = Some("Capulet".into());
    n.given = Some("Juliet".into());
    n.middle = Some("M".into());
    n.prefix = Some("Lady".into());
    n.suffix = Some("II".into());
    v.name = Some(n);
    v.nicknames = vec!["jc".into()];
    v.photo = Some(Media::binary("image/png", b"\x89PNG\r\n\x1a\nnot really".to_vec()));
    v.bday = Some("1582-07-31".into());
    let mut adr = Address::default();
    adr.types = vec!["HOME".into()];
    adr.street = Some("Via Cappello 23".into());
    adr.locality = Some("Verona".into());
    adr.pcode = Some("37121".into());
    adr.ctry = Some("Italy".into());
    v.addresses = vec![adr];
    let mut label = Label::default();
    label.types = vec!["HOME".into()];
    label.lines = vec!["Via Cappello 23".into(), "Verona".into()];
    v.labels = vec![label];
    let mut tel = Tel::default();
    tel.types = vec!["CELL".into(), "VOICE".into()];
    tel.number = "+39 045 8034303".into();
    v.tels = vec![tel];
    let mut email = Email::default();
    email.types = vec!["INTERNET".into(), "PREF".into()];
    email.userid = "juliet@capulet.lit".into();
    v.emails = vec![email];
    v.jabberid = Some(jid.into());
    v.mailer = Some("quill".into());
    v.tz = Some("+01:00".into());
    let mut geo = Geo::default();
    geo.lat = "45.4419".into();
    geo.lon = "10.9986".into();
    v.geo = Some(geo);
    v.title = Some("Heiress".into());
    v.role = Some("Lover".into());
    v.logo = Some(Media::external("https://capulet.lit/crest.png"));
    let mut org = Org::default();
    org.name = "House Capulet".into();
    org.units = vec!["Family".into()];
    v.org = Some(org);
    v.categories = vec!["family".into(), "verona".into()];
    v.note = Some("Note & <escaped>".into());
    v.prodid = Some("-//moxl//EN".into());
    v.rev = Some("2026-11-24T12:00:00Z".into());
    v.sort_string = Some("Capulet".into());
    v.sound = Some(Sound::Phonetic("ju-li-et".into()));
    v.uid = Some("urn:uuid:5f0a1c5e".into());
    v.urls = vec!["https://capulet.lit/".into()];
    v.class = Some("PRIVATE".into());
    let mut key = Key::default();
    key.key_type = Some("x509".into());
    key.cred = "MIIB".into();
    v.key = Some(key);
    v.desc = Some("Wherefore art thou".into());
    v.gender = Some("female".into());
    v.marital = Some("engaged".into());
    v
}

/// Starts `action` from `client` and awaits its typed Output (an error reply is `Err(Error::Stanza(..))`).
async fn run<A: Action>(client: &Client, action: A) -> Result<A::Output> {
    client.xec().context().request(action)?.await
}

/// The condition of the stanza error that `action` from `client` ends with (a panic if it succeeds).
async fn refused<A: Action>(client: &Client, action: A) -> Option<Condition> {
    match run(client, action).await {
        Err(Error::Stanza(e)) => e.condition(),
        Err(other) => panic!("another error: {other}"),
        Ok(_) => panic!("the request succeeded"),
    }
}

/// The next typed event on `stream`, within 5 s.
async fn event<T: Send + Sync + 'static>(stream: &mut EventStream<T>) -> Event<T> {
    tokio::time::timeout(std::time::Duration::from_secs(5), stream.recv())
        .await
        .expect("an event within 5 s")
        .expect("open")
}

#[tokio::test]
async fn vcard_temp_round_trips_every_field_and_a_missing_vcard_is_item_not_found() -> Result<()> {
    let p = plain_vcard_server();
    let juliet = builder(&p, "juliet", "secret").connect().await?;
    let romeo = builder(&p, "romeo", "montague").connect().await?;
    let juliet_jid = juliet.jid().to_bare().to_string();
    let card = full_vcard(&juliet_jid);

    // nobody has a vCard yet: Romeo asking for Juliet's gets item-not-found
    let mut missing = romeo.xec().subscribe("vcard_get_erroritemnotfound");
    assert_eq!(refused(&romeo, vcard::Get::of(juliet_jid.clone())).await, Some(Condition::ItemNotFound));
    // the Packet view of the same error
    assert_eq!(packet(&mut missing).await.content::<String>(), Some(&juliet_jid));

    run(&juliet, vcard::Set { vcard: card.clone() }).await?;

    // her own, and Romeo's view of it: every field as set
    let own: VCard = run(&juliet, vcard::Get::own()).await?;
    assert_eq!(own, card);
    // (the Packet view, which also carries the sender)
    let mut cards = romeo.xec().subscribe("vcard_get_handle");
    romeo.xec().context().request(vcard::Get::of(juliet_jid.clone()))?;
    let got = packet(&mut cards).await;
    assert_eq!(got.content::<VCard>(), Some(&card));
    assert_eq!(got.from(), Some(juliet_jid.as_str()));
    Ok(())
}

/// The vCard with the type flags of each field sorted: their order carries no meaning, and ejabberd writes them in
/// the order of the DTD.
fn flags_sorted(card: Option<&VCard>) -> Option<VCard> {
    let mut card = card?.clone();
    card.emails.iter_mut().for_each(|e| e.types.sort());
    card.tels.iter_mut().for_each(|t| t.types.sort());
    card.addresses.iter_mut().for_each(|a| a.types.sort());
    card.labels.iter_mut().for_each(|l| l.types.sort());
    Some(card)
}

/// ejabberd's `mod_vcard` stores vcard-temp as sent (but the order of type flags), like Prosody's `mod_vcard`:
/// the same round trip, on the shared ejabberd of the test support.
#[tokio::test]
async fn vcard_temp_round_trips_every_field_on_ejabberd() -> Result<()> {
    let p = common::servers().iter().find(|s| s.kind() == moxl_test_support::ServerKind::Ejabberd).unwrap();
    let (juliet_user, romeo_user) = (common::fresh_account(p, "juliet"), common::fresh_account(p, "romeo"));
    let juliet = common::client(p, &juliet_user, "secret").connect().await?;
    let romeo = common::client(p, &romeo_user, "secret").connect().await?;
    let juliet_jid = juliet.jid().to_bare().to_string();
    let card = full_vcard(&juliet_jid);

    // nobody has a vCard yet: Romeo asking for Juliet's gets an empty vCard (ejabberd), not an error
    let mut cards = romeo.xec().subscribe("vcard_get_handle");
    romeo.xec().context().request(vcard::Get::of(juliet_jid.clone()))?;
    assert_eq!(packet(&mut cards).await.content::<VCard>(), Some(&VCard::default()));

    let mut stored = juliet.xec().subscribe("vcard_set_handle");
    juliet.xec().context().request(vcard::Set { vcard: card.clone() })?;
    packet(&mut stored).await;

    let mut own = juliet.xec().subscribe("vcard_get_handle");
    juliet.xec().context().request(vcard::Get::own())?;
    assert_eq!(flags_sorted(packet(&mut own).await.content::<VCard>()), flags_sorted(Some(&card)));
    romeo.xec().context().request(vcard::Get::of(juliet_jid.clone()))?;
    let got = packet(&mut cards).await;
    assert_eq!(flags_sorted(got.content::<VCard>()), flags_sorted(Some(&card)));
    assert_eq!(got.from(), Some(juliet_jid.as_str()));
    Ok(())
}

#[tokio::test]
async fn vcard_temp_on_default_prosody_is_an_empty_vcard_when_missing_and_keeps_the_vcard4_fields() -> Result<()> {
    let p = server();
    let juliet = builder(&p, "juliet", "secret").connect().await?;
    let romeo = builder(&p, "romeo", "montague").connect().await?;
    let juliet_jid = juliet.jid().to_bare().to_string();

    // mod_vcard_legacy answers an empty vCard, not item-not-found
    assert!(run(&romeo, vcard::Get::of(juliet_jid.clone())).await?.is_empty());

    run(&juliet, vcard::Set { vcard: full_vcard(&juliet_jid) }).await?;
    let got = run(&romeo, vcard::Get::of(juliet_jid.clone())).await?;
    // What survives the trip through vCard4 (XEP-0292 §11 as mod_vcard_legacy maps it): names, nickname,
    // birthday, addresses (without REGION), numbers and addresses without their flags (but INTERNET), the JID,
    // title, role, organisation name, URL, DESC as the note, and the photo (as a XEP-0084 avatar).
    let mut kept = full_vcard(&juliet_jid);
    kept.labels.clear();
    kept.addresses[0].region = None;
    kept.tels[0].types.clear();
    kept.emails[0].types = vec!["INTERNET".into()];
    kept.org.as_mut().unwrap().units.clear();
    kept.categories.clear();
    kept.note = kept.desc.take();
    (kept.mailer, kept.tz, kept.geo, kept.logo, kept.prodid, kept.rev, kept.sort_string) =
        (None, None, None, None, None, None, None);
    (kept.sound, kept.uid, kept.class, kept.key, kept.gender, kept.marital) = (None, None, None, None, None, None);
    assert_eq!(got, kept);
    // the photo became her XEP-0084 avatar
    let photo = full_vcard(&juliet_jid).photo.unwrap();
    let m: UserData<Metadata> = run(&juliet, avatar::GetMetadata { from: None }).await?;
    assert_eq!(m.id, Some(avatar::photo_hash(photo.bytes().unwrap())));
    Ok(())
}

#[tokio::test]
async fn an_avatar_round_trips_and_a_contact_learns_of_it() -> Result<()> {
    assert_eq!(&AVATAR_PNG[..8], b"\x89PNG\r\n\x1a\n");
    for p in common::servers() {
        let (juliet_user, romeo_user) = (common::fresh_account(p, "juliet"), common::fresh_account(p, "romeo"));
        let juliet = common::client(p, &juliet_user, "secret").connect().await?;
        let romeo = common::client(p, &romeo_user, "secret").connect().await?;
        avatar_round_trip(&juliet, &romeo).await?;
    }
    Ok(())
}

/// Juliet publishes an avatar and a tune; Romeo, her contact, reads them and learns of the avatar.
async fn avatar_round_trip(juliet: &Client, romeo: &Client) -> Result<()> {
    let juliet_jid = juliet.jid().to_bare().to_string();
    romeo_follows_juliet(juliet, romeo).await?;

    // one await for both steps (data, then metadata)
    let info: AvatarInfo =
        run(juliet, avatar::Publish::new(AVATAR_PNG.to_vec(), "image/png").with_size(40, 40)).await?;
    let sha1 = avatar::photo_hash(AVATAR_PNG);
    assert_eq!((info.id.as_str(), info.bytes), (sha1.as_str(), 4908));

    // the metadata and the bytes, fetched by the contact
    let m = run(romeo, avatar::GetMetadata { from: Some(juliet_jid.clone()) }).await?;
    assert_eq!(m.id.as_deref(), Some(sha1.as_str()));
    let current = m.data.unwrap().current().unwrap().clone();
    assert_eq!((current.width, current.height, current.media_type.as_str()), (Some(40), Some(40), "image/png"));
    let image: AvatarImage =
        run(romeo, avatar::GetData { from: Some(juliet_jid.clone()), id: current.id.clone() }).await?;
    assert_eq!(image.bytes, AVATAR_PNG);
    assert_eq!(image.id, sha1);

    // Romeo subscribes to her metadata node (explicitly: moxl's presence carries no entity capabilities yet, so
    // the server's filtered notifications leave him out), and gets her next publication, typed
    run(romeo, Subscribe::new(Some(&juliet_jid), avatar::NS_METADATA, &romeo.jid().to_bare().to_string())).await?;
    let mut events = romeo.xec().events::<UserData<Metadata>>();
    let mut published = juliet.xec().subscribe("avatar_publish_handle");
    run(juliet, avatar::Publish::new(AVATAR_PNG.to_vec(), "image/png").with_size(40, 40)).await?;
    // the Packet view of the publish: once, for the whole chain
    assert_eq!(packet(&mut published).await.content::<AvatarInfo>(), Some(&info));
    assert!(published.try_recv().is_none());
    let notified = event(&mut events).await;
    assert_eq!(notified.from(), Some(juliet_jid.as_str()));
    assert_eq!(notified.data.as_ref().and_then(|m| m.current()), Some(&info));

    // XEP-0153: the server (Prosody's mod_vcard_legacy, ejabberd's mod_avatar and mod_vcard_xupdate) puts the hash
    // in her next presence
    let mut updates = romeo.xec().subscribe("avatarupdate");
    juliet.xec().context().send(presence(None, None))?;
    let update = until(&mut updates, |p| {
        let u = p.content::<AvatarUpdate>()?;
        (u.from.starts_with(&juliet_jid) && u.photo != PhotoUpdate::NoAvatar).then(|| u.photo.clone())
    })
    .await;
    assert_eq!(update, PhotoUpdate::Hash(sha1));

    // a tune, read by the contact
    let mut listening = Tune::default();
    listening.artist = Some("Yes".into());
    listening.title = Some("Heart of the Sunrise".into());
    listening.length = Some(686);
    listening.rating = Some(8);
    run(juliet, tune::Publish { tune: listening.clone() }).await?;
    let read: UserData<Tune> = run(romeo, tune::Get { from: Some(juliet_jid.clone()) }).await?;
    assert_eq!(read.data, Some(listening));
    Ok(())
}

#[tokio::test]
async fn vcard4_set_and_get_through_pep_and_prosodys_iq_interface() -> Result<()> {
    let p = server();
    let juliet = builder(&p, "juliet", "secret").connect().await?;
    let juliet_jid = juliet.jid().to_bare().to_string();
    let mut card = VCard4::default();
    card.full_name = Some("Juliet Capulet".into());
    card.nicknames = vec!["jc".into()];
    card.bday = Some("1582-07-31".into());
    card.emails = vec![Typed::new("juliet@capulet.lit")];
    card.impps = vec![format!("xmpp:{juliet_jid}")];
    card.note = Some("Wherefore art thou".into());
    card.urls = vec!["https://capulet.lit/".into()];

    // nothing yet
    assert_eq!(refused(&juliet, vcard4::IqGet { to: Some(juliet_jid.clone()) }).await, Some(Condition::ItemNotFound));

    run(&juliet, vcard4::Publish { vcard: card.clone() }).await?;
    let got: UserData<VCard4> = run(&juliet, vcard4::Get { from: None }).await?;
    assert_eq!(got.data, Some(card.clone()));
    // mod_vcard4 answers the IQ from the same node
    let by_iq: VCard4 = run(&juliet, vcard4::IqGet { to: Some(juliet_jid.clone()) }).await?;
    assert_eq!(by_iq, card);

    // and the IQ-set lands in the node
    card.title = Some("Heiress".into());
    run(&juliet, vcard4::IqSet { vcard: card.clone() }).await?;
    assert_eq!(run(&juliet, vcard4::Get { from: None }).await?.data, Some(card));
    Ok(())
}

fn conference(jid: &str, name: Option<&str>, autojoin: bool, nick: Option<&str>, password: Option<&str>) -> Conference {
    let mut c = Conference::new(jid);
    c.name = name.map(Into::into);
    c.autojoin = autojoin;
    c.nick = nick.map(Into::into);
    c.password = password.map(Into::into);
    c
}

async fn bookmarks2_of(client: &Client) -> Vec<Bookmark> {
    let mut all = run(client, bookmarks2::Get).await.unwrap();
    all.sort_by(|a, b| a.jid.cmp(&b.jid));
    all
}

/// XEP-0402 on both servers. Prosody announces the XEP-0048 unification (`urn:xmpp:bookmarks:1#compat`, §6) and
/// the `max` item count (XEP-0060 `pubsub#config-node-max`) and stores bookmarks on the node; ejabberd 23.01
/// announces neither and refuses the publish-options §5 asks for, so it keeps XEP-0048 bookmarks in private
/// storage, mirrored to the legacy PEP node (XEP-0411, `urn:xmpp:bookmarks-conversion:0`, which both announce).
#[tokio::test]
async fn bookmarks2_add_get_remove_with_notifications() -> Result<()> {
    for p in common::servers() {
        let user = common::fresh_account(p, "juliet");
        let juliet = common::client(p, &user, "secret").connect().await?;
        let features = common::features_of(&juliet, &p.jid(&user)).await;
        let has = |f: &str| features.iter().any(|g| g == f);
        assert!(has("urn:xmpp:bookmarks-conversion:0") && has("http://jabber.org/protocol/pubsub#publish-options"));
        match p.kind() {
            ServerKind::Prosody => {
                assert!(has("urn:xmpp:bookmarks:1#compat") && has("http://jabber.org/protocol/pubsub#config-node-max"));
                bookmarks2_round_trip(&juliet).await?;
            }
            _ => {
                assert!(!has("urn:xmpp:bookmarks:1#compat"), "{features:?}");
                assert!(!has("http://jabber.org/protocol/pubsub#config-node-max"), "{features:?}");
                legacy_bookmarks_in_private_storage_mirrored_to_pep(&juliet).await?;
            }
        }
    }
    Ok(())
}

/// What ejabberd offers: XEP-0048 bookmarks in private storage (XEP-0049), which it mirrors to the legacy PEP node
/// (XEP-0411); a XEP-0402 publish with §5's publish-options is refused, so there are no XEP-0402 bookmarks.
async fn legacy_bookmarks_in_private_storage_mirrored_to_pep(juliet: &Client) -> Result<()> {
    let add = bookmarks2::Add { bookmark: Bookmark::new("theplay@conference.localhost") };
    let error = match run(juliet, add).await {
        Err(Error::Stanza(e)) => e,
        other => panic!("ejabberd 23.01 refuses §5's publish-options: {other:?}"),
    };
    assert_eq!(error.condition(), Some(Condition::ResourceConstraint));
    assert!(error.text().is_some_and(|t| t.contains("pubsub#max_items")), "{error:?}");
    assert_eq!(refused(juliet, bookmarks2::Get).await, Some(Condition::ItemNotFound));
    // nothing stored yet: an empty storage element, no legacy node
    assert_eq!(run(juliet, legacy::Get).await?, Storage::default());
    assert_eq!(refused(juliet, legacy::PepGet).await, Some(Condition::ItemNotFound));

    let mut storage = Storage::default();
    storage.conferences.push(conference(
        "council@conference.localhost",
        Some("Council of Oberon"),
        true,
        Some("Puck"),
        Some("titania"),
    ));
    storage.conferences.push(conference("theplay@conference.localhost", Some("The Play"), false, None, None));
    run(juliet, legacy::Set { storage: storage.clone() }).await?;
    assert_eq!(run(juliet, legacy::Get).await?, storage);
    // XEP-0411: the same bookmarks on the legacy PEP node
    assert_eq!(run(juliet, legacy::PepGet).await?, storage);
    // and the migration to XEP-0402 stops at its first publish, with the server's error
    assert_eq!(refused(juliet, Migrate::default()).await, Some(Condition::ResourceConstraint));
    Ok(())
}

/// Prosody: add, read, be notified of changes, remove (XEP-0402 §4).
async fn bookmarks2_round_trip(juliet: &Client) -> Result<()> {
    let mut b = Bookmark::new("theplay@conference.localhost");
    b.name = Some("The Play's the Thing".into());
    b.autojoin = true;
    b.nick = Some("JC".into());
    b.password = Some("titania".into());
    assert_eq!(run(juliet, bookmarks2::Add { bookmark: b.clone() }).await?, b);
    assert_eq!(bookmarks2_of(juliet).await, [b.clone()]);

    // Available: her presence carries caps whose features include urn:xmpp:bookmarks:1+notify (XEP-0402 §3,
    // XEP-0163 §4), so her own server sends her the changes with no subscription. Prosody learns the features
    // by asking her client (answered by moxl-xep's disco#info handler); a round trip after the question makes
    // sure it has read the answer.
    let mut asked = juliet.xec().subscribe("discoinfoasked");
    juliet.xec().context().send(presence(None, None))?;
    packet(&mut asked).await;
    round_trip(juliet).await;
    let mut changes = juliet.xec().events::<BookmarkChange>();
    let orchard = Bookmark::new("orchard@conference.localhost");
    run(juliet, bookmarks2::Add { bookmark: orchard.clone() }).await?;
    assert_eq!(*event(&mut changes).await, BookmarkChange::Added(orchard.clone()));

    assert_eq!(run(juliet, bookmarks2::Remove { jid: b.jid.clone() }).await?, b.jid);
    assert_eq!(*event(&mut changes).await, BookmarkChange::Removed(b.jid.clone()));
    assert_eq!(bookmarks2_of(juliet).await, [orchard]);
    // each change came once
    assert!(tokio::time::timeout(std::time::Duration::from_millis(500), changes.recv()).await.is_err());
    Ok(())
}

/// What Movim keeps in XEP-0048 storage beside its rooms: URLs (§3.1) and the pubsub nodes it follows.
fn movim_storage(domain: &str) -> Storage {
    let mut node = NodeSubscription::new(format!("pubsub.{domain}"), "berlin-xmpp-meetup");
    node.subid = Some("5f2e6b".into());
    node.title = Some("Berlin XMPP Meetup".into());
    Storage::default()
        .with_conference(conference(&format!("council@conference.{domain}"), Some("Council"), true, Some("Puck"), None))
        .with_url(UrlBookmark::new("https://movim.eu/", Some("Movim")))
        .with_subscription(node)
}

/// XEP-0048 bookmarks with Movim's URL and subscription entries, through private storage (XEP-0049): stored and
/// read back whole by ejabberd (and mirrored whole to the legacy PEP node, XEP-0411) and by a Prosody without
/// `mod_bookmarks`. Prosody's `mod_bookmarks` (on by default)
/// answers private storage from its XEP-0402 node (it announces `urn:xmpp:bookmarks:1#compat`): the rooms come
/// back, the URLs and subscriptions do not, as this test shows; a Movim-like client keeps those elsewhere there
/// (XEP-0330 for the nodes).
#[tokio::test]
async fn legacy_bookmarks_keep_movims_urls_and_subscriptions_in_private_storage() -> Result<()> {
    let plain = server_without_bookmark_conversion();
    let juliet = builder(&plain, "juliet", "secret").connect().await?;
    let stored = movim_storage("localhost");
    run(&juliet, legacy::Set { storage: stored.clone() }).await?;
    assert_eq!(run(&juliet, legacy::Get).await?, stored, "Prosody without mod_bookmarks");

    for p in common::servers() {
        let user = common::fresh_account(p, "juliet");
        let juliet = common::client(p, &user, "secret").connect().await?;
        let features = common::features_of(&juliet, &p.jid(&user)).await;
        let converts = features.iter().any(|f| f == "urn:xmpp:bookmarks:1#compat");
        let stored = movim_storage(p.domain());
        run(&juliet, legacy::Set { storage: stored.clone() }).await?;
        let back = run(&juliet, legacy::Get).await?;
        match p.kind() {
            ServerKind::Prosody => {
                assert!(converts, "{features:?}");
                assert_eq!(back.conferences, stored.conferences, "{back:?}");
                assert!(back.urls.is_empty() && back.subscriptions.is_empty(), "{back:?}");
            }
            _ => {
                assert!(!converts, "{features:?}");
                assert_eq!(back, stored, "{}", p.kind());
                // and its XEP-0411 mirror on the legacy PEP node holds them whole too
                assert_eq!(run(&juliet, legacy::PepGet).await?, stored, "{}", p.kind());
            }
        }
    }
    Ok(())
}

/// Prosody without `mod_bookmarks`, which would itself convert XEP-0048 bookmarks to XEP-0402.
fn server_without_bookmark_conversion() -> moxl_test_support::Prosody {
    accounts()
        .extra_config("VirtualHost \"localhost\"\n    modules_disabled = { \"bookmarks\" }")
        .start()
        .expect("Prosody starts")
}

#[tokio::test]
async fn legacy_bookmarks_migrate_to_bookmarks2_once() -> Result<()> {
    let p = server_without_bookmark_conversion();
    let juliet = builder(&p, "juliet", "secret").connect().await?;
    // XEP-0048 in private storage (two rooms and a URL) and on the legacy PEP node (one of them, and a third)
    let mut private = Storage::default();
    private.conferences.push(conference(
        "council@conference.localhost",
        Some("Council of Oberon"),
        true,
        Some("Puck"),
        Some("titania"),
    ));
    private.conferences.push(conference("theplay@conference.localhost", Some("The Play"), false, None, None));
    let mut url = legacy::UrlBookmark::default();
    url.url = "https://shakespeare.lit/".into();
    private.urls.push(url);
    let mut pep = Storage::default();
    pep.conferences.push(conference("theplay@conference.localhost", Some("another name"), true, None, None));
    pep.conferences.push(conference("orchard@conference.localhost", None, false, Some("Romeo"), None));
    run(&juliet, legacy::Set { storage: private.clone() }).await?;
    run(&juliet, legacy::PepSet { storage: pep.clone() }).await?;
    // both read back as stored
    assert_eq!(run(&juliet, legacy::Get).await?, private);
    assert_eq!(run(&juliet, legacy::PepGet).await?, pep);

    let expected = {
        let council = Bookmark::from(&private.conferences[0]);
        let orchard = Bookmark::from(&pep.conferences[1]);
        // the legacy PEP node is read first: its name for the play wins
        let theplay = Bookmark::from(&pep.conferences[0]);
        vec![council, orchard, theplay]
    };
    let mut done = juliet.xec().subscribe("bookmarks2_migrate_handle");
    for round in 0..2 {
        // one await for the whole chain (legacy node, private storage, one publish per bookmark)
        let migrated: Vec<Bookmark> = run(&juliet, Migrate::default()).await?;
        assert_eq!(migrated.len(), 3, "round {round}");
        // the Packet view: once per migration, not once per step
        assert_eq!(packet(&mut done).await.content::<Vec<Bookmark>>().map(Vec::len), Some(3), "round {round}");
        assert!(done.try_recv().is_none(), "round {round}");
        // idempotent: the same three items after the second run
        assert_eq!(bookmarks2_of(&juliet).await, expected, "round {round}");
    }
    Ok(())
}
