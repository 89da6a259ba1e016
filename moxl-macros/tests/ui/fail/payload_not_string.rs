use moxl::prelude::*;

const NS: &str = "urn:ietf:params:xml:ns:xmpp-sasl";

#[payload(name = failure, ns = NS, node = 1)]
#[derive(Default)]
pub struct SaslFailure;

fn main() {}
