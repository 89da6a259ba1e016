use moxl::prelude::*;

#[payload(name = "failure", ns = "urn:ietf:params:xml:ns:xmpp-sasl")]
#[derive(Default)]
pub enum SaslFailure {
    #[default]
    Unknown,
}

#[payload(name = "failure", ns = "urn:ietf:params:xml:ns:xmpp-sasl")]
pub fn sasl_failure() {}

fn main() {}
