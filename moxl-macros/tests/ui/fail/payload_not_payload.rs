// A struct that does not implement `Payload`: the error points at the struct.
//
// This test names `moxl_core` rather than the `moxl` facade: rustc lists the implementors of `Payload` in every
// crate it loads, and the facade loads moxl-xep, whose list grows with each XEP.
use moxl_core::payload;

#[payload(name = "failure", ns = "urn:ietf:params:xml:ns:xmpp-sasl", crate = "moxl_core")]
#[derive(Default)]
pub struct SaslFailure;

fn main() {}
