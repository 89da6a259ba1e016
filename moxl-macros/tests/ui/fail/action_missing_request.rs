use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    async fn handle(&mut self, _: &Context, _: &Element) {}
}

fn main() {}
