// An Action with `handle`, several `error_<condition>` methods, `error` and `timeout`, in a group: every
// outcome reaches its method, under its Packet key. Handlers return `Result<()>` or `()`.
#![deny(warnings, rust_2018_idioms)]
use moxl::prelude::*;
use moxl::xec::{Dispatched, Registry, Xec};

#[derive(Serialize, Deserialize)]
pub struct Get {
    pub to: String,
    pub calls: u32,
}

// Not `vcard`: moxl-xep's XEP-0054 module owns the `vcard_get_*` keys.
#[action(group = "card")]
impl Get {
    fn request(&self) -> ElementBuilder {
        iq_get(Some(&self.to)).append(ElementBuilder::new("vCard", "vcard-temp"))
    }

    async fn handle(&mut self, ctx: &Context, stanza: &Element) -> Result<()> {
        self.calls += 1;
        ctx.pack(stanza.attr("type").map(|t| t.into_owned())).deliver();
        Ok(())
    }

    async fn error_item_not_found(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) {
        ctx.pack(error.condition()).deliver();
    }

    async fn error_service_unavailable(&mut self, ctx: &Context, _error: &StanzaError, _stanza: &Element) -> Result<()> {
        ctx.deliver();
        Ok(())
    }

    async fn error_remote_server_not_found(&mut self, ctx: &Context, _: &StanzaError, _: &Element) {
        ctx.deliver();
    }

    async fn error(&mut self, ctx: &Context, error: &StanzaError, _stanza: &Element) -> Result<()> {
        ctx.pack(error.condition_name().to_owned()).deliver();
        Ok(())
    }

    async fn timeout(&mut self, ctx: &Context) {
        ctx.deliver();
    }

    // Other methods are left alone.
    fn helper(self) -> String {
        self.to
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

fn reply(id: &str, body: &str) -> std::result::Result<Element, Box<dyn std::error::Error>> {
    Ok(Element::parse(&format!("<iq xmlns='jabber:client' from='example.com' id='{id}' {body}"))?)
}

fn error(id: &str, condition: &str) -> std::result::Result<Element, Box<dyn std::error::Error>> {
    reply(
        id,
        &format!(
            "type='error'><error type='cancel'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        ),
    )
}

fn get(xec: &Xec) -> std::result::Result<String, Box<dyn std::error::Error>> {
    Ok(xec.context().request(Get { to: "example.com".into(), calls: 0 })?.id().to_owned())
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    assert_eq!(<Get as Action>::TYPE_NAME, format!("{}::Get", module_path!()));
    assert_eq!(Registry::global()?.action_prefix(<Get as Action>::TYPE_NAME), Some("card_get"));
    let state = Get { to: "x".into(), calls: 0 };
    assert!(Action::request(&state).build()?.to_xml().contains("vcard-temp"));
    assert_eq!(state.helper(), "x");

    let xec = Xec::new()?;
    let mut packets = xec.packets();

    let id = get(&xec)?;
    assert_eq!(block_on(xec.dispatch(reply(&id, "type='result'/>")?)), Dispatched::Reply);
    let packet = packets.try_recv().ok_or("no packet")?;
    assert_eq!(packet.key(), "card_get_handle");
    assert_eq!(packet.content::<Option<String>>(), Some(&Some("result".to_owned())));

    let id = get(&xec)?;
    block_on(xec.dispatch(error(&id, "item-not-found")?));
    let packet = packets.try_recv().ok_or("no packet")?;
    assert_eq!(packet.key(), "card_get_erroritemnotfound");
    assert_eq!(packet.content::<Option<Condition>>(), Some(&Some(Condition::ItemNotFound)));

    for (condition, key) in [
        ("service-unavailable", "card_get_errorserviceunavailable"),
        ("remote-server-not-found", "card_get_errorremoteservernotfound"),
        ("forbidden", "card_get_error"),
        ("not-a-condition", "card_get_error"),
    ] {
        let id = get(&xec)?;
        block_on(xec.dispatch(error(&id, condition)?));
        let packet = packets.try_recv().ok_or("no packet")?;
        assert_eq!(packet.key(), key, "{condition}");
    }

    get(&xec)?;
    let deadline = xec.next_deadline().ok_or("nothing pending")?;
    assert_eq!(block_on(xec.expire(deadline + std::time::Duration::from_secs(1))), 1);
    let packet = packets.try_recv().ok_or("no packet")?;
    assert_eq!(packet.key(), "card_get_timeout");
    assert!(packets.try_recv().is_none());
    Ok(())
}
