use moxl::prelude::*;

#[action]
#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
async fn handle(_: &Context, _: &Element) {}

fn main() {}
