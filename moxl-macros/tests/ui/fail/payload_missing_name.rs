use moxl::prelude::*;

#[payload(ns = "urn:ietf:params:xml:ns:xmpp-sasl")]
#[derive(Default)]
pub struct SaslFailure;

fn main() {}
