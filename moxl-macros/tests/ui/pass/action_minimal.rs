// An Action with only `request` and `handle` (returning `()`), grouped by its module: errors and timeouts
// that no method handles become Packets.
#![deny(warnings, rust_2018_idioms)]
use moxl::prelude::*;
use moxl::xec::{Dispatched, Registry, Xec};

mod contacts {
    use moxl::prelude::*;

    #[derive(Serialize, Deserialize)]
    pub struct Get;

    #[action]
    impl Get {
        fn request(&self) -> ElementBuilder {
            iq_get(None).append(ElementBuilder::new("query", "jabber:iq:roster"))
        }

        async fn handle(&mut self, ctx: &Context, _stanza: &Element) {
            ctx.deliver();
        }
    }
}

// `&self` is enough for a handler that does not change the state; `crate` names the runtime explicitly.
#[derive(Serialize, Deserialize)]
pub struct Ping;

#[action(crate = "moxl", group = "ping")]
impl Ping {
    fn request(&self) -> ElementBuilder {
        iq_get(None).append(ElementBuilder::new("ping", "urn:xmpp:ping"))
    }

    async fn handle(&self, _: &Context, _: &Element) -> Result<()> {
        Ok(())
    }
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

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let registry = Registry::global()?;
    assert_eq!(registry.action_prefix(<contacts::Get as Action>::TYPE_NAME), Some("contacts_get"));
    assert_eq!(registry.action_prefix(<Ping as Action>::TYPE_NAME), Some("ping_ping"));

    let xec = Xec::new()?;
    let mut packets = xec.packets();

    let id = xec.context().request(contacts::Get)?.id().to_owned();
    let reply = Element::parse(&format!("<iq xmlns='jabber:client' id='{id}' type='result'/>"))?;
    assert_eq!(block_on(xec.dispatch(reply)), Dispatched::Reply);
    assert_eq!(packets.try_recv().ok_or("no packet")?.key(), "contacts_get_handle");

    let id = xec.context().request(contacts::Get)?.id().to_owned();
    let error = Element::parse(&format!(
        "<iq xmlns='jabber:client' id='{id}' type='error'><error type='auth'>\
           <forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    ))?;
    assert_eq!(block_on(xec.dispatch(error)), Dispatched::Reply);
    let packet = packets.try_recv().ok_or("no packet")?;
    assert_eq!(packet.key(), "contacts_get_errorforbidden");
    assert_eq!(packet.content::<StanzaError>().and_then(StanzaError::condition), Some(Condition::Forbidden));

    xec.context().request(contacts::Get)?;
    let deadline = xec.next_deadline().ok_or("nothing pending")?;
    assert_eq!(block_on(xec.expire(deadline + std::time::Duration::from_secs(1))), 1);
    assert_eq!(packets.try_recv().ok_or("no packet")?.key(), "contacts_get_timeout");
    Ok(())
}
