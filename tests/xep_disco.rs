//! Service discovery (XEP-0030, XEP-0128), entity capabilities (XEP-0115 and 2.0, XEP-0390) and bits of binary
//! (XEP-0231) through both real servers (Prosody and ejabberd): the server's info and items, another moxl client's
//! info computed from the registry, the caps hashes in a presence seen, queried and verified by the receiver
//! (XEP-0390's hash set preferred, XEP-0115's `ver` when there is none), and a BoB round trip between two clients.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{client, features_of, packet, servers};
use moxl::prelude::*;
use moxl::stanza::StanzaError;
use moxl::xec::{Registry, Xec};
use moxl::xep::xep_0030_disco::{DiscoIdentity, DiscoInfo, DiscoItems, InfoQuery, ItemsQuery};
use moxl::xep::xep_0115_caps::{our_caps, verify, EntityCaps, EntityFeatures, MemoryCapsStore};
use moxl::xep::xep_0300_hashes::Algo;
use moxl::xep::xep_0390_caps2::{self as caps2, hash_node, our_caps2, EntityCaps2};
use moxl_test_support::Server;

#[tokio::test]
async fn the_servers_info_and_items_are_typed() -> Result<()> {
    for p in servers() {
        the_servers_info_and_items_are_typed_on(p).await?;
    }
    Ok(())
}

async fn the_servers_info_and_items_are_typed_on(p: &Server) -> Result<()> {
    let romeo = client(p, "romeo", "montague").connect().await?;
    let (mut infos, mut items) =
        (romeo.xec().subscribe("disco_infoquery_handle"), romeo.xec().subscribe("disco_itemsquery_handle"));

    romeo.xec().context().request(InfoQuery::new(p.domain()))?;
    let info = packet(&mut infos).await;
    assert_eq!(info.from(), Some(p.domain()));
    let info = info.content::<DiscoInfo>().unwrap();
    assert!(info.has_identity("server", "im"), "{:?}", info.identities);
    for feature in ["urn:xmpp:ping", "http://jabber.org/protocol/disco#info", "jabber:iq:version"] {
        assert!(info.has_feature(feature), "{feature} in {:?}", info.features);
    }

    romeo.xec().context().request(ItemsQuery::new(p.domain()))?;
    let listed = packet(&mut items).await.content::<DiscoItems>().unwrap().clone();
    let muc = p.muc_domain().expect("the test server has a MUC service");
    let pubsub = p.pubsub_domain().expect("the test server has a pubsub service");
    assert!(listed.has_jid(muc) && listed.has_jid(pubsub), "{listed:?}");

    // and the components themselves say what they are
    romeo.xec().context().request(InfoQuery::new(muc))?;
    let muc_info = packet(&mut infos).await.content::<DiscoInfo>().unwrap().clone();
    assert!(muc_info.has_identity("conference", "text") && muc_info.has_feature("http://jabber.org/protocol/muc"));
    Ok(())
}

#[tokio::test]
async fn another_moxl_client_answers_with_the_registry_features() -> Result<()> {
    for p in servers() {
        another_moxl_client_answers_with_the_registry_features_on(p).await?;
    }
    Ok(())
}

async fn another_moxl_client_answers_with_the_registry_features_on(p: &Server) -> Result<()> {
    let identity = DiscoIdentity::new("client", "web", "Juliet's balcony");
    let juliet = client(p, "juliet", "secret").xec(Xec::builder().extension(identity)).connect().await?;
    let romeo = client(p, "romeo", "montague").connect().await?;
    let mut infos = romeo.xec().subscribe("disco_infoquery_handle");
    let mut not_found = romeo.xec().subscribe("disco_infoquery_erroritemnotfound");
    let to = juliet.jid().to_string();

    romeo.xec().context().request(InfoQuery::new(&to))?;
    let answer = packet(&mut infos).await;
    assert_eq!(answer.from(), Some(to.as_str()));
    let info = answer.content::<DiscoInfo>().unwrap().clone();
    let expected: Vec<String> = Registry::global()?.features().map(String::from).collect();
    assert_eq!(info.features, expected, "the sorted union of every declared feature");
    assert!(info.has_feature("http://jabber.org/protocol/disco#info") && info.has_feature("urn:xmpp:ping"));
    assert_eq!(info.identities.len(), 1);
    assert_eq!((info.identities[0].category.as_str(), info.identities[0].kind.as_str()), ("client", "web"));
    assert_eq!(info.identities[0].name.as_deref(), Some("Juliet's balcony"));

    // the caps node answers the same; an unknown node is item-not-found
    let caps = our_caps(&juliet.xec().context())?;
    romeo.xec().context().request(InfoQuery::node(&to, caps.node_ver()))?;
    let at_node = packet(&mut infos).await.content::<DiscoInfo>().unwrap().clone();
    assert_eq!(at_node.node.as_deref(), Some(caps.node_ver().as_str()));
    assert!(verify(&at_node, &caps.ver), "the answer hashes to the ver juliet announces");
    romeo.xec().context().request(InfoQuery::node(&to, "urn:example:nothing-here"))?;
    assert!(packet(&mut not_found).await.content::<StanzaError>().is_some());
    Ok(())
}

#[tokio::test]
async fn caps_in_presence_are_fetched_verified_and_answer_feature_questions() -> Result<()> {
    for p in servers() {
        caps_in_presence_are_fetched_verified_and_answer_feature_questions_on(p).await?;
    }
    Ok(())
}

async fn caps_in_presence_are_fetched_verified_and_answer_feature_questions_on(p: &Server) -> Result<()> {
    let juliet = client(p, "juliet", "secret").connect().await?;
    // a store of its own, so that no other test in this process has filled it
    let caps = EntityCaps::with_store(Arc::new(MemoryCapsStore::default()));
    let romeo = client(p, "romeo", "montague").xec(Xec::builder().extension(caps.clone())).connect().await?;
    let (mut fetched, mut known) = (romeo.xec().subscribe("caps_fetch_handle"), romeo.xec().subscribe("entitycaps"));
    let juliet_jid = juliet.jid().to_string();
    assert_eq!(caps.supports(&juliet_jid, "urn:xmpp:ping"), None);

    // a directed available presence: juliet's client adds both <c/> by itself; the XEP-0390 hash set is used
    juliet.xec().context().send(presence(Some(&romeo.jid().to_string()), None))?;
    let learned = packet(&mut fetched).await;
    let learned = learned.content::<EntityFeatures>().unwrap();
    assert_eq!(learned.jid, juliet_jid);
    let node = hash_node(our_caps2(&juliet.xec().context())?.usable().unwrap());
    assert_eq!(learned.ver, node);
    assert_eq!(caps.ver_of(&juliet_jid).as_deref(), Some(learned.ver.as_str()));
    assert_eq!(caps.supports(&juliet_jid, "urn:xmpp:ping"), Some(true));
    assert_eq!(caps.supports(&juliet_jid, "urn:example:unsupported"), Some(false));

    // a presence without a usable hash set (an empty XEP-0390 <c/>, so that none is added): the XEP-0115 ver
    let legacy = Element::parse(&format!(
        "<presence xmlns='jabber:client' to='{}'><c xmlns='urn:xmpp:caps'/></presence>",
        romeo.jid()
    ))?;
    juliet.xec().context().send(legacy)?;
    let learned = packet(&mut fetched).await;
    assert_eq!(learned.content::<EntityFeatures>().unwrap().ver, our_caps(&juliet.xec().context())?.ver);

    // the next presence with the same ver is answered from the cache, without a query
    juliet.xec().context().send(presence(Some(&romeo.jid().to_string()), None))?;
    assert_eq!(packet(&mut known).await.content::<EntityFeatures>().unwrap().jid, juliet_jid);

    // going offline forgets her capabilities
    juliet.xec().context().send(presence(Some(&romeo.jid().to_string()), Some("unavailable")))?;
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while caps.ver_of(&juliet_jid).is_some() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the unavailable presence reaches romeo");
    assert_eq!(caps.supports(&juliet_jid, "urn:xmpp:ping"), None);
    Ok(())
}

#[tokio::test]
async fn a_caps2_hash_set_is_seen_queried_and_verified() -> Result<()> {
    for p in servers() {
        a_caps2_hash_set_is_seen_queried_and_verified_on(p).await?;
    }
    Ok(())
}

/// XEP-0390 between two moxl clients: romeo sees juliet's hash set (§5), his tracker queries one hash node and
/// verifies the answer (§4.4), he queries the other one himself, and an unknown hash node is `item-not-found`.
async fn a_caps2_hash_set_is_seen_queried_and_verified_on(p: &Server) -> Result<()> {
    let juliet = client(p, "juliet", "secret").connect().await?;
    let caps = EntityCaps::with_store(Arc::new(MemoryCapsStore::default()));
    let romeo = client(p, "romeo", "montague").xec(Xec::builder().extension(caps.clone())).connect().await?;
    let (mut sets, mut fetched) = (romeo.xec().events::<EntityCaps2>(), romeo.xec().subscribe("caps_fetch_handle"));
    let juliet_jid = juliet.jid().to_string();
    assert!(features_of(&romeo, &juliet_jid).await.iter().any(|f| f == caps2::NS), "§5: juliet announces caps 2.0");

    juliet.xec().context().send(presence(Some(&romeo.jid().to_string()), None))?;
    let set = tokio::time::timeout(std::time::Duration::from_secs(5), sets.recv()).await.expect("a hash set").unwrap();
    assert_eq!(set.from, juliet_jid);
    let algos: Vec<Algo> = set.caps.hashes.iter().map(|h| h.algo.clone()).collect();
    assert_eq!(algos, [Algo::Sha256, Algo::Sha3_256]);
    assert_eq!(set.caps, our_caps2(&juliet.xec().context())?);

    // the tracker asked for the sha-256 node and verified the answer before caching it
    let learned = packet(&mut fetched).await;
    let learned = learned.content::<EntityFeatures>().unwrap();
    assert_eq!(learned.ver, hash_node(&set.caps.hashes[0]));
    assert!(caps2::verify(&learned.info, &set.caps.hashes[0]));
    assert!(caps.cached(&learned.ver).is_some());

    // the other hash's node, asked by hand, answers the same info
    let sha3 = &set.caps.hashes[1];
    let info = romeo.xec().context().request(InfoQuery::node(&juliet_jid, hash_node(sha3)))?.await?;
    assert_eq!(info.node.as_deref(), Some(hash_node(sha3).as_str()));
    assert!(caps2::verify(&info, sha3));
    let wrong = romeo.xec().context().request(InfoQuery::node(&juliet_jid, "urn:xmpp:caps#sha-256.AAAA"))?.await;
    match wrong {
        Err(moxl::Error::Stanza(e)) => assert_eq!(e.condition_name(), "item-not-found"),
        other => panic!("{}: {other:?}", p.kind()),
    }
    Ok(())
}

#[tokio::test]
async fn bits_of_binary_round_trip_between_two_clients() -> Result<()> {
    for p in servers() {
        bits_of_binary_round_trip_between_two_clients_on(p).await?;
    }
    Ok(())
}

async fn bits_of_binary_round_trip_between_two_clients_on(p: &Server) -> Result<()> {
    use moxl::xep::xep_0231_bob::{cid, BobCache, Data, Request};
    let cache = BobCache::default();
    let smiley = Data::new("image/png", b"\x89PNG\r\n\x1a\n a small smiley".to_vec()).with_max_age(86400);
    let id = cache.insert(smiley.clone());
    let juliet = client(p, "juliet", "secret").xec(Xec::builder().extension(cache)).connect().await?;
    let romeo = client(p, "romeo", "montague").connect().await?;
    let mut data = romeo.xec().subscribe("bob_request_handle");
    let mut unknown = romeo.xec().subscribe("bob_request_erroritemnotfound");
    let to = juliet.jid().to_string();

    romeo.xec().context().request(Request { to: to.clone(), cid: id.clone() })?;
    let got = packet(&mut data).await;
    assert_eq!(got.from(), Some(to.as_str()));
    assert_eq!(got.content::<Data>(), Some(&smiley));

    romeo.xec().context().request(Request { to, cid: cid(b"not in the cache") })?;
    assert!(packet(&mut unknown).await.content::<StanzaError>().is_some());

    // inline in a message (§4): delivered to the recipient, checked against its cid
    let mut inline = juliet.xec().subscribe("bobdata");
    let m = message(&juliet.jid().to_string(), "chat", Some("look")).append(smiley.to_element());
    romeo.xec().context().send(m)?;
    assert_eq!(packet(&mut inline).await.content::<Data>(), Some(&smiley));
    Ok(())
}
