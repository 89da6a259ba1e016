use moxl::prelude::*;

#[payload(name = "failure")]
#[derive(Default)]
pub struct SaslFailure;

fn main() {}
