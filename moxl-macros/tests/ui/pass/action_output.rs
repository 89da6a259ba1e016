// An Action with a typed `Output`: `handle` returns it, the requester awaits it, and the same value is the
// Packet under `group_type_handle`. An error reply resolves the request to the stanza error.
#![deny(warnings, rust_2018_idioms)]
use moxl::prelude::*;
use moxl::xec::Xec;

#[derive(Serialize, Deserialize)]
pub struct Version {
    to: String,
}

#[action(group = "software")]
impl Version {
    /// The software's name.
    type Output = String;

    fn request(&self) -> ElementBuilder {
        iq_get(Some(&self.to)).append(ElementBuilder::new("query", "jabber:iq:version"))
    }

    async fn handle(&mut self, _ctx: &Context, stanza: &Element) -> Result<String> {
        stanza
            .child("query", "jabber:iq:version")
            .and_then(|q| q.child_text("name", "jabber:iq:version"))
            .ok_or_else(|| Error::handler("no name"))
    }
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    block_on(async {
        let xec = Xec::new()?;
        let mut packets = xec.subscribe("software_version_handle");
        let first = xec.context().request(Version { to: "a.example".into() })?;
        let second = xec.context().request(Version { to: "b.example".into() })?;
        // answered in the other order: each request gets its own answer
        let answer = |to: &str, id: &str, name: &str| {
            Element::parse(&format!(
                "<iq xmlns='jabber:client' type='result' from='{to}' id='{id}'><query xmlns='jabber:iq:version'><name>{name}</name></query></iq>"
            ))
        };
        xec.dispatch(answer("b.example", second.id(), "B")?).await;
        xec.dispatch(answer("a.example", first.id(), "A")?).await;
        assert_eq!(first.await?, "A");
        assert_eq!(second.await?, "B");
        assert_eq!(packets.try_recv().and_then(|p| p.content::<String>().cloned()).as_deref(), Some("B"));
        // an error reply: the typed stanza error
        let failing = xec.context().request(Version { to: "c.example".into() })?;
        let error = format!(
            "<iq xmlns='jabber:client' type='error' from='c.example' id='{}'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            failing.id()
        );
        xec.dispatch(Element::parse(&error)?).await;
        match failing.await {
            Err(Error::Stanza(e)) => assert_eq!(e.condition(), Some(Condition::ServiceUnavailable)),
            other => panic!("{other:?}"),
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..1000 {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("the future did not complete");
}
