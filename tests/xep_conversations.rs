//! Conversation features of the Movim era through both real servers (Prosody and ejabberd): message displayed
//! synchronization (XEP-0490) between two devices of one account on the server's PEP, and message moderation
//! (XEP-0425) in the server's MUC service where a room announces it, and OMEMO's XMPP side (XEP-0384: device
//! lists, bundles and encrypted messages in both deployed flavours), and push registration (XEP-0357).

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{client, fresh_account, packet, servers};
use moxl::client::Client;
use moxl::prelude::*;
use moxl::xep::xep_0030_disco::InfoQuery;
use moxl::xep::xep_0045_muc::{self as muc, Configure, History, Join};
use moxl::xep::xep_0060_pubsub::NS_PUBLISH_OPTIONS;
use moxl::xep::xep_0199_ping::RoundTrip;
use moxl::xep::xep_0357_push::{self as push, Disable, Enable};
use moxl::xep::xep_0384_omemo::{
    Bundle, Device, DeviceList, Encrypted, EncryptedMessage, Flavour, GetBundle, GetDevices, MessageKey, PublishBundle,
    PublishDevices,
};
use moxl::xep::xep_0425_moderation::{is_not_allowed, Moderate, Moderation, Version};
use moxl::xep::xep_0490_mds::{Displayed, GetDisplayed, SetDisplayed};
use moxl_test_support::Server;

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

/// The stanza id a room stamped on a groupchat message, as (room, body, id) (key `roomstanzaid`).
#[payload(name = "stanza-id", ns = "urn:xmpp:sid:0", key = "roomstanzaid", at = "child")]
#[derive(Default)]
struct RoomStanzaId;

impl Payload for RoomStanzaId {
    async fn handle(&mut self, ctx: &Context, element: &Element, stanza: &Element) -> Result<()> {
        if stanza.attr("type").as_deref() == Some("groupchat") {
            let from = stanza.attr("from").map(|f| f.split('/').next().unwrap_or_default().to_owned());
            let (by, id) = (element.attr("by").map(|b| b.into_owned()), element.attr("id").map(|i| i.into_owned()));
            if let (Some(room), Some(by), Some(id)) = (from, by, id) {
                if room == by {
                    let body = stanza.child_text("body", "jabber:client").unwrap_or_default();
                    ctx.pack((room, body, id)).deliver();
                }
            }
        }
        Ok(())
    }
}

/// Becomes available and waits until the server has read our caps (it asks our disco#info, XEP-0115 §6.3, and
/// a ping answered after the question means our answer was read): from then on, our `+notify` features count
/// (XEP-0163 §4). A server that already learnt this caps hash from another moxl client of the same binary (a
/// room join in a test running beside this one) does not ask again: then the round trip alone suffices.
async fn available_with_caps(client: &Client) -> Result<()> {
    let mut asked = client.xec().subscribe("discoinfoasked");
    client.xec().context().send(presence(None, None))?;
    let _ = tokio::time::timeout(Duration::from_secs(3), asked.recv()).await;
    let mut pongs = client.xec().subscribe("ping_roundtrip_handle");
    client.xec().context().request(RoundTrip::new(client.jid().domain().to_string()))?;
    packet(&mut pongs).await;
    Ok(())
}

#[tokio::test]
async fn a_chat_displayed_on_one_device_is_displayed_on_the_other() -> Result<()> {
    for p in servers() {
        a_chat_displayed_on_one_device_is_displayed_on_the_other_on(p).await?;
    }
    Ok(())
}

async fn a_chat_displayed_on_one_device_is_displayed_on_the_other_on(p: &Server) -> Result<()> {
    let user = fresh_account(p, "juliet");
    let phone = client(p, &user, "secret").resource("phone").connect().await?;
    let laptop = client(p, &user, "secret").resource("laptop").connect().await?;
    let account = phone.jid().to_bare().to_string();

    // XEP-0490 §8: publish-options must be offered, or the state would not be private; the account's disco
    // says so.
    let features = phone.xec().context().request(InfoQuery::new(account.clone()))?.await?.features;
    if !features.iter().any(|f| f == NS_PUBLISH_OPTIONS) {
        let refused = phone.xec().context().request(SetDisplayed::new("romeo@montague.lit", account.as_str(), "s1"))?;
        assert!(refused.await.is_err(), "{}: no publish-options, so no private node", p.kind());
        return Ok(());
    }

    // Nothing displayed yet: no node.
    let nothing = laptop.xec().context().request(GetDisplayed)?.await;
    assert!(
        matches!(&nothing, Err(Error::Stanza(e)) if e.condition_name() == "item-not-found")
            || matches!(&nothing, Ok(v) if v.is_empty()),
        "{}: {nothing:?}",
        p.kind()
    );

    available_with_caps(&laptop).await?;
    let mut changes = laptop.xec().events::<Displayed>();
    let set = SetDisplayed::new("romeo@montague.lit", account.as_str(), "0f710f2b-52ed-4d52-b928-784dad74a52b");
    let published = phone.xec().context().request(set)?.await?;
    assert_eq!(published.chat, "romeo@montague.lit");

    // The laptop hears of it through its +notify…
    let change = tokio::time::timeout(Duration::from_secs(5), changes.recv()).await.expect("a notification").unwrap();
    assert_eq!(*change, published, "{}", p.kind());
    assert_eq!(change.from(), Some(account.as_str()));

    // …and the next one moves the state forward; a catch-up reads both chats.
    let room = SetDisplayed::new("verona@conference.localhost", "verona@conference.localhost", "room-7");
    phone.xec().context().request(room)?.await?;
    let forward = SetDisplayed::new("romeo@montague.lit", account.as_str(), "later-id");
    phone.xec().context().request(forward)?.await?;
    for expected in ["room-7", "later-id"] {
        let change =
            tokio::time::timeout(Duration::from_secs(5), changes.recv()).await.expect("a notification").unwrap();
        assert_eq!(change.stanza_id, expected, "{}", p.kind());
    }
    let mut all = laptop.xec().context().request(GetDisplayed)?.await?;
    all.sort_by(|a, b| a.chat.cmp(&b.chat));
    let states: Vec<_> = all.iter().map(|d| (d.chat.as_str(), d.stanza_id.as_str(), d.by.as_str())).collect();
    assert_eq!(
        states,
        [
            ("romeo@montague.lit", "later-id", account.as_str()),
            ("verona@conference.localhost", "room-7", "verona@conference.localhost")
        ],
        "{}",
        p.kind()
    );

    // The node is private (whitelist, §8): another account cannot read it.
    let stranger = client(p, &fresh_account(p, "romeo"), "secret").connect().await?;
    let peek = moxl::xep::xep_0060_pubsub::Items::new(Some(&account), moxl::xep::xep_0490_mds::NS);
    assert!(stranger.xec().context().request(peek)?.await.is_err(), "{}: the node is readable by others", p.kind());
    Ok(())
}

#[tokio::test]
async fn a_moderator_retracts_an_occupants_message_where_the_room_moderates() -> Result<()> {
    // Prosody moderates with the community module mod_muc_moderation (prosody-modules), which needs the room
    // archive: a server of its own. ejabberd 23.01 does not moderate: its rooms say so.
    let prosody = Server::Prosody(
        moxl_test_support::Prosody::builder()
            .muc_moderation(true)
            .start()
            .expect("Prosody with mod_muc_moderation starts"),
    );
    for p in [&prosody].into_iter().chain(servers().iter().filter(|s| s.kind() != prosody.kind())) {
        a_moderator_retracts_an_occupants_message_on(p).await?;
    }
    Ok(())
}

async fn a_moderator_retracts_an_occupants_message_on(p: &Server) -> Result<()> {
    let muc_domain = p.muc_domain().expect("both test servers have a MUC service");
    let room = format!("{}@{muc_domain}", fresh_account(p, "heath").to_lowercase());
    let juliet = client(p, &fresh_account(p, "juliet"), "secret").connect().await?;
    let romeo = client(p, &fresh_account(p, "romeo"), "secret").connect().await?;
    juliet.xec().context().request(Join::new(&room, "juliet").history(History::none()))?.await?;
    juliet.xec().context().request(Configure::instant(&room))?.await?;
    romeo.xec().context().request(Join::new(&room, "oldhag").history(History::none()))?.await?;

    // § "Discovering support": the room says whether it moderates.
    let features = juliet.xec().context().request(InfoQuery::new(room.clone()))?.await?.features;
    let Some(version) = Version::of_features(&features) else {
        // Not offered: the room refuses the request rather than pretending.
        let refused = juliet.xec().context().request(Moderate::new(&room, "any", Version::V1))?.await;
        assert!(refused.is_err(), "{}: a room without moderation accepted it", p.kind());
        eprintln!("{}: the room does not announce urn:xmpp:message-moderate:0 or :1", p.kind());
        return Ok(());
    };

    let mut stamped = juliet.xec().subscribe("roomstanzaid");
    let (mut at_juliet, mut at_romeo) = (juliet.xec().events::<Moderation>(), romeo.xec().events::<Moderation>());
    romeo.xec().context().send(muc::groupchat(&room, "DM me for free magic potions!"))?;
    let stanza_id = loop {
        let p = packet(&mut stamped).await;
        let (_, body, id) = p.content::<(String, String, String)>().unwrap().clone();
        if body == "DM me for free magic potions!" {
            break id;
        }
    };

    // A participant may not moderate.
    let refused = romeo.xec().context().request(Moderate::new(&room, stanza_id.as_str(), version))?.await;
    assert!(matches!(&refused, Err(Error::Stanza(e)) if is_not_allowed(e)), "{}: {refused:?}", p.kind());

    let moderate = Moderate::new(&room, stanza_id.as_str(), version).reason("Spam");
    assert_eq!(juliet.xec().context().request(moderate)?.await?, stanza_id);
    for (who, stream) in [("juliet", &mut at_juliet), ("romeo", &mut at_romeo)] {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.recv()).await.expect("a notice").unwrap();
        assert_eq!(
            (n.room.as_str(), n.stanza_id.as_str()),
            (room.as_str(), stanza_id.as_str()),
            "{who} on {}",
            p.kind()
        );
        assert_eq!(n.reason.as_deref(), Some("Spam"), "{who} on {}", p.kind());
    }
    Ok(())
}

/// A bundle of `flavour` for `device` with made-up keys (the server stores bytes; nothing here is crypto).
fn bundle(flavour: Flavour, device: u32) -> Bundle {
    let key = |tag: u8| (0..33).map(|i| tag.wrapping_add(i)).collect::<Vec<u8>>();
    let ns = match flavour {
        Flavour::Legacy => "eu.siacs.conversations.axolotl",
        _ => "urn:xmpp:omemo:2",
    };
    let b64 = moxl::xep::xep_0054_vcard_temp::encode_base64;
    let xml = match flavour {
        Flavour::Legacy => format!(
            "<bundle xmlns='{ns}'><signedPreKeyPublic signedPreKeyId='7'>{}</signedPreKeyPublic>\
             <signedPreKeySignature>{}</signedPreKeySignature><identityKey>{}</identityKey><prekeys>\
             <preKeyPublic preKeyId='1'>{}</preKeyPublic><preKeyPublic preKeyId='2'>{}</preKeyPublic></prekeys></bundle>",
            b64(&key(1)),
            b64(&key(2)),
            b64(&key(3)),
            b64(&key(4)),
            b64(&key(5))
        ),
        _ => format!(
            "<bundle xmlns='{ns}'><spk id='7'>{}</spk><spks>{}</spks><ik>{}</ik><prekeys><pk id='1'>{}</pk>\
             <pk id='2'>{}</pk></prekeys></bundle>",
            b64(&key(1)),
            b64(&key(2)),
            b64(&key(3)),
            b64(&key(4)),
            b64(&key(5))
        ),
    };
    Bundle::from_element(device, &Element::parse(&xml).unwrap()).unwrap()
}

#[tokio::test]
async fn omemo_devices_and_bundles_are_readable_by_a_stranger_and_encrypted_messages_arrive() -> Result<()> {
    for p in servers() {
        omemo_devices_and_bundles_on(p).await?;
    }
    Ok(())
}

async fn omemo_devices_and_bundles_on(p: &Server) -> Result<()> {
    let juliet = client(p, &fresh_account(p, "juliet"), "secret").connect().await?;
    let romeo = client(p, &fresh_account(p, "romeo"), "secret").connect().await?;
    let juliet_jid = juliet.jid().to_bare().to_string();
    let (j, r) = (juliet.xec().context(), romeo.xec().context());
    for flavour in [Flavour::Legacy, Flavour::V2] {
        let mut phone = Device::new(31415);
        phone.label = Some("Phone".into());
        j.request(PublishDevices::new(DeviceList::new(flavour, [phone, Device::new(27183)])))?.await?;
        for device in [31415, 27183] {
            j.request(PublishBundle::new(bundle(flavour, device)))?.await?;
        }
        // Romeo shares no presence subscription with Juliet: the open access model lets him read both
        // (§ "Announcing support").
        let devices = r.request(GetDevices::new(juliet_jid.as_str(), flavour))?.await?;
        assert_eq!(devices.ids(), [31415, 27183], "{} {flavour:?}", p.kind());
        for device in [31415, 27183] {
            let got = r.request(GetBundle::new(juliet_jid.as_str(), flavour, device))?.await?;
            assert_eq!(got, bundle(flavour, device), "{} {flavour:?}: both bundles are kept", p.kind());
        }
    }

    // An encrypted message crosses the server untouched and arrives typed.
    let mut arrived = romeo.xec().events::<EncryptedMessage>();
    let keys = vec![MessageKey::new(Some(romeo.jid().to_bare().to_string()), 1337, true, vec![1, 2, 3])];
    let encrypted = Encrypted::new(Flavour::V2, 31415, keys, None, Some(vec![4, 5, 6]));
    // (to his full JID: he sent no presence, so a message to his bare JID would wait offline)
    let m = message(&romeo.jid().to_string(), "chat", Some("I sent you an OMEMO encrypted message"))
        .append(encrypted.to_element());
    j.send(m)?;
    let got = tokio::time::timeout(Duration::from_secs(5), arrived.recv()).await.expect("the message").unwrap();
    assert_eq!(got.encrypted, encrypted, "{}", p.kind());
    Ok(())
}

#[tokio::test]
async fn push_notifications_are_enabled_and_disabled_where_the_server_pushes() -> Result<()> {
    // Prosody pushes with the community module mod_cloud_notify (prosody-modules): a server of its own. The
    // shared servers do not push: their disco says so, and the request is refused.
    let pushing = Server::Prosody(
        moxl_test_support::Prosody::builder()
            .extra_config("VirtualHost \"localhost\"\n    modules_enabled = { \"cloud_notify\" }")
            .start()
            .expect("Prosody with mod_cloud_notify starts"),
    );
    for p in [&pushing].into_iter().chain(servers().iter()) {
        let phone = client(p, &fresh_account(p, "juliet"), "secret").connect().await?;
        let account = phone.jid().to_bare().to_string();
        let offered =
            phone.xec().context().request(InfoQuery::new(account))?.await?.features.iter().any(|f| f == push::NS);
        let enable = Enable::new("push.example.net", "yxs32uqsflafdk3iuqo").secret("eruio234vzxc2kla-91");
        let enabled = phone.xec().context().request(enable)?.await;
        if !offered {
            assert!(enabled.is_err(), "{}: push enabled on a server that does not announce it", p.kind());
            eprintln!("{}: the account does not announce urn:xmpp:push:0", p.kind());
            continue;
        }
        assert_eq!(enabled?, "push.example.net", "{}", p.kind());
        let disabled = phone.xec().context().request(Disable::new("push.example.net", Some("yxs32uqsflafdk3iuqo")))?;
        assert_eq!(disabled.await?, "push.example.net", "{}", p.kind());
    }
    Ok(())
}
