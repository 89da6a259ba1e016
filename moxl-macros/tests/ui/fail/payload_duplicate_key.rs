use moxl::prelude::*;

#[payload(name = "failure", ns = "urn:ietf:params:xml:ns:xmpp-sasl", name = "success")]
#[derive(Default)]
pub struct SaslFailure;

impl Payload for SaslFailure {
    async fn handle(&mut self, _: &Context, _: &Element, _: &Element) -> Result<()> {
        Ok(())
    }
}

fn main() {}
