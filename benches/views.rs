//! Typed views of moxl-xep, measured: the pages a client reads in bulk (a microblog feed page, an archive
//! catch-up page, a room's occupant presences, a room configuration form) parsed into `Element`s and read into
//! their typed views, against quick-xml's `NsReader` tokenizing (and resolving namespaces of) the same bytes in
//! the same run.
//!
//! Prints MB/s for both and their ratio per workload (target: >= 0.5, the views copy the strings they keep).
//!
//! `cargo bench --bench views` (`MOXL_BENCH_ROUNDS` to change the number of rounds, default 200).

// Bench code may index, unwrap and panic; the restriction lints are for library code.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use moxl::xep::xep_0004_data_forms::DataForm;
use moxl::xep::xep_0045_muc::MucPresence;
use moxl::xep::xep_0060_pubsub::Item;
use moxl::xep::xep_0277_microblog::Post;
use moxl::xep::xep_0313_mam::ArchivedMessage;
use moxl::xml::Element;
use quick_xml::events::Event;
use quick_xml::NsReader;

/// A page of 20 microblog posts (XEP-0277 §3.1 entries in a XEP-0060 items result).
fn feed_page() -> Vec<String> {
    let mut s = String::from(
        "<iq xmlns='jabber:client' from='romeo@montague.lit' to='juliet@capulet.lit/balcony' type='result' id='f1'>\
         <pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:microblog:0'>",
    );
    for i in 0..20 {
        s.push_str(&format!(
            "<item id='1cb57d9c-1c46-11dd-838c-{i:012}'><entry xmlns='http://www.w3.org/2005/Atom'>\
             <title type='text'>hanging out at the Caf&#233; Napolitano, post {i}</title>\
             <link rel='alternate' type='text/html' href='http://montague.lit/romeo/posts/{i}'/>\
             <link rel='replies' title='comments' href='xmpp:pubsub.montague.lit?;node=urn:xmpp:microblog:0:comments/{i}'/>\
             <id>tag:montague.lit,2008-05-08:posts-{i}</id><published>2008-05-08T18:30:02Z</published>\
             <updated>2008-05-08T18:30:02Z</updated><author><name>Romeo Montague</name><uri>xmpp:romeo@montague.lit</uri></author>\
             <category term='verona'/><category term='coffee'/>\
             <content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>A <em>long</em> evening, number {i}, \
             with friends &amp; a balcony.</p></div></content></entry></item>"
        ));
    }
    s.push_str("</items></pubsub></iq>");
    vec![s]
}

/// One archive page: 50 XEP-0313 results, each a forwarded chat message with a delay stamp.
fn archive_page() -> Vec<String> {
    (0..50)
        .map(|i| {
            format!(
                "<message xmlns='jabber:client' to='juliet@capulet.lit/balcony' id='aeb213{i}'>\
                 <result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482-98726-{i:05}'>\
                 <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>\
                 <message xmlns='jabber:client' to='juliet@capulet.lit/balcony' from='romeo@montague.lit/orchard' type='chat'>\
                 <body>Call me but love, and I'll be new baptized; henceforth I never will be Romeo. ({i})</body>\
                 <origin-id xmlns='urn:xmpp:sid:0' id='5f0a1c5e-{i:08x}'/></message></forwarded></result></message>"
            )
        })
        .collect()
}

/// A room's occupants joining: 50 XEP-0045 occupant presences.
fn room_presences() -> Vec<String> {
    (0..50)
        .map(|i| {
            format!(
                "<presence xmlns='jabber:client' from='coven@chat.shakespeare.lit/witch{i}' to='hag66@shakespeare.lit/pda' id='p{i}'>\
                 <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://movim.eu/' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>\
                 <x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='member' role='participant' \
                 jid='witch{i}@shakespeare.lit/desktop'/></x></presence>"
            )
        })
        .collect()
}

/// A room configuration form (XEP-0045 §10.2, Example 165, abridged to its common fields).
fn config_form() -> Vec<String> {
    let mut s = String::from(
        "<iq xmlns='jabber:client' from='coven@chat.shakespeare.lit' to='crone1@shakespeare.lit/desktop' type='result' id='config1'>\
         <query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='form'>\
         <title>Configuration for \"coven\" Room</title><instructions>Complete this form to modify the configuration of your room.</instructions>\
         <field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
         <field label='Natural-Language Room Name' type='text-single' var='muc#roomconfig_roomname'><value>A Dark Cave</value></field>\
         <field label='Short Description of Room' type='text-single' var='muc#roomconfig_roomdesc'><value>The place for all good witches!</value></field>",
    );
    for (var, label) in [
        ("muc#roomconfig_enablelogging", "Enable Public Logging?"),
        ("muc#roomconfig_changesubject", "Allow Occupants to Change Subject?"),
        ("muc#roomconfig_allowinvites", "Allow Occupants to Invite Others?"),
        ("muc#roomconfig_publicroom", "Make Room Publicly Searchable?"),
        ("muc#roomconfig_persistentroom", "Make Room Persistent?"),
        ("muc#roomconfig_moderatedroom", "Make Room Moderated?"),
        ("muc#roomconfig_membersonly", "Make Room Members-Only?"),
        ("muc#roomconfig_passwordprotectedroom", "Password Required for Entry?"),
    ] {
        s.push_str(&format!("<field label='{label}' type='boolean' var='{var}'><value>0</value></field>"));
    }
    s.push_str(
        "<field label='Maximum Number of Occupants' type='list-single' var='muc#roomconfig_maxusers'><value>10</value>\
         <option label='10'><value>10</value></option><option label='20'><value>20</value></option>\
         <option label='30'><value>30</value></option><option label='50'><value>50</value></option>\
         <option label='100'><value>100</value></option><option label='None'><value>none</value></option></field>\
         <field label='Room Admins' type='jid-multi' var='muc#roomconfig_roomadmins'><value>wiccarocks@shakespeare.lit</value>\
         <value>hecate@shakespeare.lit</value></field>\
         <field label='Roles for which Presence is Broadcasted' type='list-multi' var='muc#roomconfig_presencebroadcast'>\
         <value>moderator</value><value>participant</value><value>visitor</value>\
         <option label='Moderator'><value>moderator</value></option><option label='Participant'><value>participant</value></option>\
         <option label='Visitor'><value>visitor</value></option></field></x></query></iq>",
    );
    vec![s]
}

/// quick-xml tokenizing with namespace resolution: the floor for reading these bytes at all.
fn baseline(docs: &[String]) -> usize {
    let mut n = 0;
    for doc in docs {
        let mut reader = NsReader::from_str(doc);
        loop {
            match reader.read_resolved_event() {
                Ok((ns, Event::Start(e) | Event::Empty(e))) => {
                    n += e.attributes().count() + usize::from(matches!(ns, quick_xml::name::ResolveResult::Bound(_)));
                }
                Ok((_, Event::Text(t))) => n += t.len(),
                Ok((_, Event::Eof)) => break,
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
    }
    n
}

/// The best time of `rounds` runs of `f`.
fn best(rounds: usize, mut f: impl FnMut() -> usize) -> Duration {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let rounds = std::env::var("MOXL_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(200);
    type View = fn(&Element) -> usize;
    let workloads: [(&str, Vec<String>, View); 4] = [
        ("microblog feed page (20 posts)", feed_page(), |iq| {
            Item::all_in(iq).iter().filter_map(Post::from_item).map(|p| p.entry.categories.len()).sum()
        }),
        ("archive page (50 results)", archive_page(), |m| usize::from(ArchivedMessage::from_message(m).is_some())),
        ("room presences (50 occupants)", room_presences(), |p| usize::from(MucPresence::from_stanza(p).is_some())),
        ("room configuration form", config_form(), |iq| {
            let query = iq.first_child().unwrap();
            DataForm::find_in(&query).map_or(0, |f| f.fields.len())
        }),
    ];
    println!("typed views: Element::parse + view, against quick-xml NsReader on the same bytes (best of {rounds})");
    for (name, docs, view) in workloads {
        let bytes: usize = docs.iter().map(String::len).sum();
        // Every document gives a view: a bench that reads nothing would measure nothing.
        let parsed: Vec<Element> = docs.iter().map(|d| Element::parse(d).unwrap()).collect();
        assert!(parsed.iter().all(|e| view(e) > 0), "{name}: a document without a view");
        let base = best(rounds, || baseline(&docs));
        let moxl = best(rounds, || docs.iter().map(|d| view(&Element::parse(d).unwrap())).sum());
        let mbs = |d: Duration| bytes as f64 / d.as_secs_f64() / 1e6;
        println!(
            "{name:<32} {bytes:>6} bytes  baseline {:>7.1} MB/s  moxl {:>7.1} MB/s  ratio {:.2}x (target >= 0.5x)",
            mbs(base),
            mbs(moxl),
            base.as_secs_f64() / moxl.as_secs_f64()
        );
    }
}
