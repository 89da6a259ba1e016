// `at` takes "stanza", "child" or "any".
use moxl::prelude::*;

#[payload(name = "ping", ns = "urn:xmpp:ping", at = "grandchild")]
#[derive(Default)]
pub struct Ping;

impl Payload for Ping {
    async fn handle(&mut self, _: &Context, _: &Element, _: &Element) -> Result<()> {
        Ok(())
    }
}

fn main() {}
