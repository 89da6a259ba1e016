// A handler returning something other than `()` or `Result<()>`: the error points at the return type.
use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(&mut self, _: &Context, _: &Element) -> u32 {
        0
    }
}

fn main() {}
