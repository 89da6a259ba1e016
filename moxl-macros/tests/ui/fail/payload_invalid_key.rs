use moxl::prelude::*;

#[payload(name = "x", ns = "urn:example", key = "Upper_Case")]
#[derive(Default)]
pub struct UpperCase;

#[payload(name = "x", ns = "urn:example", key = "sasl.failure")]
#[derive(Default)]
pub struct Dotted;

fn main() {}
