use moxl::prelude::*;

#[payload(name = "failure", ns = "urn:ietf:params:xml:ns:xmpp-sasl", crate = "not a path")]
#[derive(Default)]
pub struct SaslFailure;

fn main() {}
