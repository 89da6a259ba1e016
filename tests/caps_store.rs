//! The entity-caps cache kept in the session store (XEP-0115/XEP-0390 with a stored session): a first run fetches
//! and verifies a contact's capabilities and writes them to an SQLite file (under her XEP-0390 hash node, which a
//! moxl client announces beside its XEP-0115 ver); a later run on the same file knows them without asking, against
//! the real Prosody of the test support.

// Test code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{builder, jid, packet, server};
use moxl::prelude::*;
use moxl::session::{CapsCache, SessionStore, StoreOptions};
use moxl::xec::Xec;
use moxl::xep::xep_0030_disco::DiscoInfo;
use moxl::xep::xep_0115_caps::{EntityCaps, EntityFeatures, MemoryCapsStore};
use moxl::xep::xep_0390_caps2::{hash_node, our_caps2, parse_hash_node, verify};
use moxl_test_support::TempDir;

#[tokio::test]
async fn caps_verified_in_one_run_are_known_to_the_next_without_a_query() -> Result<()> {
    let p = server();
    let dir = TempDir::new("moxl-caps-store").unwrap();
    let path = dir.path().join("sessions.db");
    let juliet = builder(&p, "juliet", "secret").connect().await?;
    let juliet_jid = juliet.jid().to_string();
    let ver = hash_node(our_caps2(&juliet.xec().context())?.usable().unwrap());

    // Run 1: romeo has never seen juliet's ver: he asks her, verifies, and the session store keeps it.
    // (Each run's EntityCaps has an empty store of its own: the process-wide one would remember across runs.)
    let store = SessionStore::open_sqlite_file(&path, &StoreOptions::default()).await?;
    let first = builder(&p, "romeo", "montague")
        .xec(Xec::builder().extension(EntityCaps::with_store(Arc::new(MemoryCapsStore::default()))))
        .session_store(store, "host-1")
        .connect()
        .await?;
    assert!(first.xec().context().get::<CapsCache>().is_some_and(CapsCache::is_empty));
    let mut fetched = first.xec().subscribe("caps_fetch_handle");
    juliet.xec().context().send(presence(Some(&first.jid().to_string()), None))?;
    let learned = packet(&mut fetched).await;
    assert_eq!(learned.content::<EntityFeatures>().unwrap().ver, ver);
    first.close().await;

    // What the file holds: juliet's disco#info under her hash node, which verifies.
    let store = SessionStore::open_sqlite_file(&path, &StoreOptions::default()).await?;
    let record = store.load(&jid(&p, "romeo")).await?.expect("the record stays");
    let xml = record.caps.get(&ver).expect("the verified info was written to the store");
    let info = DiscoInfo::from_query(&Element::parse(xml)?).expect("a disco#info query");
    assert!(verify(&info, &parse_hash_node(&ver).unwrap()));

    // Run 2: a new client on the same file, with an empty CapsStore: only the session store can answer.
    let caps = EntityCaps::with_store(Arc::new(MemoryCapsStore::default()));
    let second = builder(&p, "romeo", "montague")
        .xec(Xec::builder().extension(caps.clone()))
        .session_store(store, "host-1")
        .connect()
        .await?;
    assert!(second.xec().context().get::<CapsCache>().is_some_and(|c| c.contains(&ver)), "loaded from the store");
    let (mut fetched, mut known) = (second.xec().subscribe("caps_fetch_handle"), second.xec().subscribe("entitycaps"));
    juliet.xec().context().send(presence(Some(&second.jid().to_string()), None))?;
    let answered = packet(&mut known).await;
    let answered = answered.content::<EntityFeatures>().unwrap();
    assert_eq!((answered.jid.as_str(), answered.ver.as_str()), (juliet_jid.as_str(), ver.as_str()));
    assert_eq!(caps.supports(&juliet_jid, "urn:xmpp:ping"), Some(true));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(fetched.try_recv().is_none(), "no disco#info query was made");
    assert_eq!(second.xec().pending(), 0, "no Action is waiting for an answer: {:?}", second.xec().saved_actions());
    second.close().await;
    Ok(())
}
