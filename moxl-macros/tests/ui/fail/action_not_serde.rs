// The state must be `Serialize + Deserialize`: the error points at the type.
use moxl::prelude::*;

pub struct Get;

#[action]
impl Get {
    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(&mut self, _: &Context, _: &Element) {}
}

fn main() {}
