// `handle` must return the declared Output: the error points at its return type.
use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    type Output = String;

    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(&mut self, _: &Context, _: &Element) -> Result<u32> {
        Ok(0)
    }
}

fn main() {}
