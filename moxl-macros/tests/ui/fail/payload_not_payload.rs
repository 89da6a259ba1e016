// A struct that does not implement `Payload`: the error points at the struct.
use moxl::prelude::*;

#[payload(name = "failure", ns = "urn:ietf:params:xml:ns:xmpp-sasl")]
#[derive(Default)]
pub struct SaslFailure;

fn main() {}
