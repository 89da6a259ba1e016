use moxl::prelude::*;

#[payload(name = "failure", namespace = "urn:ietf:params:xml:ns:xmpp-sasl")]
#[derive(Default)]
pub struct SaslFailure;

impl Payload for SaslFailure {
    async fn handle(&mut self, _: &Context, _: &Element, _: &Element) -> Result<()> {
        Ok(())
    }
}

fn main() {}
