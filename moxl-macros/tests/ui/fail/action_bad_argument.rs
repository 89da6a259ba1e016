// A handler argument of the wrong type: the error points at the method.
use moxl::prelude::*;

#[derive(Serialize, Deserialize)]
pub struct Get;

#[action]
impl Get {
    fn request(&self) -> ElementBuilder {
        iq_get(None)
    }
    async fn handle(&mut self, _: &Context, _: &str) {}
}

fn main() {}
