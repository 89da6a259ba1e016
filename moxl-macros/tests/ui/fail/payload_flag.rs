use moxl::prelude::*;

#[payload(name = "failure", ns = "urn:ietf:params:xml:ns:xmpp-sasl", key)]
#[derive(Default)]
pub struct SaslFailure;

fn main() {}
