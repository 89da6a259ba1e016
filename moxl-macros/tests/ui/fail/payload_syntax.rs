use moxl::prelude::*;

#[payload("failure", "urn:ietf:params:xml:ns:xmpp-sasl")]
#[derive(Default)]
pub struct SaslFailure;

fn main() {}
