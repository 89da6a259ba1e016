use moxl::prelude::*;

#[payload(name = "", ns = "urn:example")]
#[derive(Default)]
pub struct EmptyName;

#[payload(name = "x", ns = "")]
#[derive(Default)]
pub struct EmptyNs;

#[payload(name = "x", ns = "urn:example", node = "")]
#[derive(Default)]
pub struct EmptyNode;

#[payload(name = "x", ns = "urn:example", key = "")]
#[derive(Default)]
pub struct EmptyKey;

fn main() {}
